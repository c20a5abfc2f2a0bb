/* image_decode.c: which decoder reads which bytes, the limits, the pixel
 * conversion they share, binary PNM, and stb_image for the rest
 * (image_decode.h).
 *
 * Binary PNM (P5, P6) is read here, not by stb_image: this stb_image (2.27)
 * reads 16-bit PNM samples in host byte order, ignores maxval and, like its
 * uncompressed-TGA reader, leaves the pixels of a truncated file
 * uninitialised. Uncompressed TGA is therefore checked for length first. */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <stb_image.h>

#include "image/image_decode.h"

enum { FMT_OTHER, FMT_JPEG, FMT_PNG, FMT_PNM, FMT_WEBP, FMT_HEIF };

static int sniff(const unsigned char *p, size_t n) {
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    /* ISO BMFF "ftyp" brands of HEIF stills and AVIF */
    static const char *const heif_brands[] = {"heic", "heix", "heim", "heis", "hevc", "hevx",
                                              "mif1", "msf1", "avif", "avis"};
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FMT_JPEG;
    if (n >= 8 && !memcmp(p, png_sig, 8)) return FMT_PNG;
    if (n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6')) return FMT_PNM;
    if (n >= 12 && !memcmp(p, "RIFF", 4) && !memcmp(p + 8, "WEBP", 4)) return FMT_WEBP;
    if (n >= 12 && !memcmp(p + 4, "ftyp", 4))
        for (size_t i = 0; i < sizeof heif_brands / sizeof *heif_brands; i++)
            if (!memcmp(p + 8, heif_brands[i], 4)) return FMT_HEIF;
    return FMT_OTHER;
}

int image_check_size(const char *name, long w, long h, const nst_image_limits *lim, long *oversize,
                     nst_error *err) {
    long most = lim->max_pixels < NST_MAX_PIXELS ? lim->max_pixels : NST_MAX_PIXELS;
    long side = lim->max_side > 0 && lim->max_side < NST_MAX_SIDE ? lim->max_side : NST_MAX_SIDE;
    if (w > 0 && h > 0 && w <= side && h <= side && w * h <= most) return NST_OK;
    if (w <= 0 || h <= 0) return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt image (a size of %ldx%ld)", name, w, h);
    if (oversize) oversize[0] = w, oversize[1] = h;
    return nst_fail(err, NST_ERR_FORMAT, "%s: image too large: %ldx%ld (max %ld per side, %ld pixels)", name, w,
                    h, side, most);
}

void image_to_planar(const void *px, int is16, int nc, size_t stride, float amax, nst_image *img) {
    size_t n = (size_t)img->w * img->h;
    const unsigned char *p8 = px;
    const uint16_t *p16 = px;
    int grey = nc <= 2, has_alpha = nc == 2 || nc == 4;
    for (int y = 0; y < img->h; y++)
        for (int x = 0; x < img->w; x++) {
            size_t at = (size_t)y * stride + (size_t)x * nc, i = (size_t)y * img->w + x;
            float s[4];
            for (int c = 0; c < nc; c++) s[c] = is16 ? p16[at + c] : p8[at + c];
            float a = has_alpha ? s[nc - 1] / amax : 1.0f;
            if (a < 1) img->flattened = 1;
            for (int c = 0; c < 3; c++) {
                float v = s[grey ? 0 : c] * 255.0f / amax; /* exact for 8 bits and multiples of 257 */
                img->data[c * n + i] = has_alpha ? v * a + 255.0f * (1.0f - a) : v;
            }
        }
}

/* Width, height and maxval of a binary PNM, and where its samples start. */
static int pnm_header(const unsigned char *p, size_t n, long v[3], size_t *off) {
    size_t i = 2;
    for (int k = 0; k < 3; k++) {
        while (i < n && (isspace(p[i]) || p[i] == '#'))
            if (p[i++] == '#')
                while (i < n && p[i] != '\n' && p[i] != '\r') i++;
        if (i >= n || !isdigit(p[i])) return 0;
        for (v[k] = 0; i < n && isdigit(p[i]); i++)
            if ((v[k] = v[k] * 10 + (p[i] - '0')) > 1000000000L) return 0;
    }
    if (i >= n || !isspace(p[i]) || v[2] < 1 || v[2] > 65535) return 0;
    *off = i + 1;
    return 1;
}

int decode_pnm(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err) {
    long v[3];
    size_t off;
    if (!pnm_header(buf, len, v, &off))
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (bad PNM header)", name);
    int rc = image_check_size(name, v[0], v[1], lim, oversize, err);
    if (rc) return rc;
    int nc = buf[1] == '5' ? 1 : 3, bps = v[2] > 255 ? 2 : 1;
    size_t ns = (size_t)v[0] * v[1] * nc;
    if (len - off < ns * bps)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (pixel data ends early)", name);
    uint16_t *px = malloc(ns * sizeof *px);
    if (!px) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", name);
    const unsigned char *p = buf + off;
    for (size_t i = 0; i < ns; i++) {
        unsigned x = bps == 2 ? (unsigned)p[2 * i] << 8 | p[2 * i + 1] : p[i];
        px[i] = x < (unsigned)v[2] ? x : (unsigned)v[2];
    }
    rc = nst_image_alloc(img, (int)v[0], (int)v[1], err);
    if (rc == NST_OK) image_to_planar(px, 1, nc, (size_t)v[0] * nc, (float)v[2], img);
    free(px);
    return rc;
}

/* An uncompressed true-colour or grey TGA (as stbi_info sized it) must hold
 * all its pixels; other files pass. */
static int tga_short(const unsigned char *p, size_t n, int w, int h) {
    if (n < 18 || p[1] != 0 || (p[2] != 2 && p[2] != 3) || (p[12] | p[13] << 8) != w ||
        (p[14] | p[15] << 8) != h)
        return 0;
    return n < 18u + p[0] || n - 18 - p[0] < (size_t)w * h * ((p[16] + 7) / 8);
}

int decode_stb(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err) {
    int w, h, nc;
    if (len > 0x7fffffff || !stbi_info_from_memory(buf, (int)len, &w, &h, &nc))
        return nst_fail(err, NST_ERR_FORMAT, "%s: not an image (unrecognised format)", name);
    int rc = image_check_size(name, w, h, lim, oversize, err);
    if (rc) return rc;
    /* none of these formats makes more than 4096 pixels of a byte (RLE
     * runs of TGA, BMP, PSD, HDR: at most 128 per 2 bytes; a GIF's 12-bit
     * LZW code at most 4096): a 27-byte TGA claiming 4008x4008 is refused
     * here, not decoded for seconds */
    if ((double)w * h > 4096.0 * (double)len)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%dx%d pixels from %zu bytes)", name,
                        w, h, len);
    if (tga_short(buf, len, w, h))
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (pixel data ends early)", name);
    int is16 = stbi_is_16_bit_from_memory(buf, (int)len);
    void *px = is16 ? (void *)stbi_load_16_from_memory(buf, (int)len, &w, &h, &nc, 0)
                    : (void *)stbi_load_from_memory(buf, (int)len, &w, &h, &nc, 0);
    if (!px)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%s)", name, stbi_failure_reason());
    rc = nst_image_alloc(img, w, h, err);
    if (rc == NST_OK) image_to_planar(px, is16, nc, (size_t)w * nc, is16 ? 65535.0f : 255.0f, img);
    stbi_image_free(px);
    return rc;
}

int nst_image_decode_limited(const void *data, size_t len, const char *name, const nst_image_limits *lim,
                             nst_image *img, long *oversize, nst_error *err) {
    const unsigned char *buf = data;
    *img = (nst_image){0};
    if (oversize) oversize[0] = oversize[1] = 0;
    if (len == 0) return nst_fail(err, NST_ERR_FORMAT, "%s: not an image (empty file)", name);
    int rc;
    switch (sniff(buf, len)) {
    case FMT_JPEG: rc = decode_jpeg(buf, len, name, lim, img, oversize, err); break;
    case FMT_PNG: rc = decode_png(buf, len, name, lim, img, oversize, err); break;
    case FMT_PNM: rc = decode_pnm(buf, len, name, lim, img, oversize, err); break;
    case FMT_WEBP: rc = decode_webp(buf, len, name, lim, img, oversize, err); break;
    case FMT_HEIF: rc = decode_heif(buf, len, name, lim, img, oversize, err); break;
    default:
        rc = lim->allow_stb ? decode_stb(buf, len, name, lim, img, oversize, err)
                            : nst_fail(err, NST_ERR_FORMAT, "%s: not an image (unrecognised format; PNG, JPEG, "
                                       "WebP, HEIC, AVIF or PNM)", name);
    }
    if (rc) nst_image_free(img); /* a decoder that failed after allocating */
    return rc;
}

int nst_image_decode(const void *data, size_t len, const char *name, nst_image *img, nst_error *err) {
    static const nst_image_limits everything = {NST_MAX_PIXELS, 0, 1};
    return nst_image_decode_limited(data, len, name, &everything, img, NULL, err);
}
