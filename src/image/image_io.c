/* image_io.c: decoding and encoding images with stb_image / stb_image_write.
 *
 * Loading reads the file into memory, reads the header (stbi_info) and
 * rejects absurd sizes before any pixel is decoded.
 *
 * Truncation: stb_image decodes a truncated JPEG without complaint (the
 * missing blocks come out grey), so the JPEG marker structure is walked and
 * must reach the EOI marker; bytes after EOI are accepted, since cameras and
 * editors append data there. A PNG's chunk list must likewise reach IEND.
 *
 * Channels: grey is replicated to RGB; alpha is composited over white, so a
 * transparent area looks as it does in a viewer on a white page rather than
 * showing whatever colour happens to be stored under alpha 0. 16-bit PNG/PNM
 * samples keep their precision (scaled to 0..255).
 *
 * Binary PNM (P5, P6) is read here, not by stb_image: this stb_image (2.27)
 * reads 16-bit PNM samples in host byte order, ignores maxval and, like its
 * uncompressed-TGA reader, leaves the pixels of a truncated file
 * uninitialised. Uncompressed TGA is therefore checked for length first. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <stb_image.h>
#include <stb_image_write.h>

#include "nst.h"

enum { FMT_OTHER, FMT_JPEG, FMT_PNG, FMT_PNM };

static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int sniff(const unsigned char *p, size_t n) {
    if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) return FMT_JPEG;
    if (n >= 8 && !memcmp(p, png_sig, 8)) return FMT_PNG;
    if (n >= 2 && p[0] == 'P' && (p[1] == '5' || p[1] == '6')) return FMT_PNM;
    return FMT_OTHER;
}

static int is_rst(unsigned m) { return m >= 0xD0 && m <= 0xD7; }

/* Walk the JPEG's marker segments and entropy-coded scans to EOI. */
static int jpeg_complete(const unsigned char *p, size_t n) {
    size_t i = 2; /* after SOI */
    while (i + 1 < n) {
        if (p[i] != 0xFF || p[i + 1] == 0xFF) { /* junk or fill bytes before a marker */
            i++;
            continue;
        }
        unsigned m = p[i + 1];
        if (m == 0xD9) return 1;
        if (m == 0x01 || is_rst(m) || m == 0x00) { /* markers without a length */
            i += 2;
            continue;
        }
        if (i + 4 > n) return 0;
        i += 2 + ((size_t)p[i + 2] << 8 | p[i + 3]);
        if (m == 0xDA) /* scan data runs to the next marker that is not a stuffed 00 or RSTn */
            while (i + 1 < n && !(p[i] == 0xFF && p[i + 1] != 0 && !is_rst(p[i + 1]))) i++;
    }
    return 0;
}

/* Walk the PNG's chunks to IEND. */
static int png_complete(const unsigned char *p, size_t n) {
    size_t i = 8;
    while (n - i >= 8) {
        if (!memcmp(p + i + 4, "IEND", 4)) return 1;
        uint32_t len = be32(p + i);
        if (n - i - 8 < 4 || len > n - i - 12) return 0;
        i += 12 + (size_t)len;
    }
    return 0;
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

/* An uncompressed true-colour or grey TGA (as stbi_info sized it) must hold
 * all its pixels; other files pass. */
static int tga_short(const unsigned char *p, size_t n, int w, int h) {
    if (n < 18 || p[1] != 0 || (p[2] != 2 && p[2] != 3) || (p[12] | p[13] << 8) != w ||
        (p[14] | p[15] << 8) != h)
        return 0;
    return n < 18u + p[0] || n - 18 - p[0] < (size_t)w * h * ((p[16] + 7) / 8);
}

static int size_ok(long w, long h) {
    return w > 0 && h > 0 && w <= NST_MAX_SIDE && h <= NST_MAX_SIDE && w * h <= NST_MAX_PIXELS;
}

static int too_large(const char *path, long w, long h, nst_error *err) {
    return nst_fail(err, NST_ERR_RUNTIME, "%s: image too large: %ldx%ld (max %d per side, %ld pixels)",
                    path, w, h, NST_MAX_SIDE, (long)NST_MAX_PIXELS);
}

static int read_all(const char *path, unsigned char **buf, size_t *len, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT) return nst_fail(err, NST_ERR_RUNTIME, "%s: no such file", path);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot open (%s)", path, strerror(errno));
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: not a regular file", path);
    }
    if (st.st_size == 0) {
        fclose(f);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: not an image (empty file)", path);
    }
    if (st.st_size > 0x7fffffff) { /* stb_image takes an int length */
        fclose(f);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: image too large: file of %lld bytes", path,
                        (long long)st.st_size);
    }
    *len = (size_t)st.st_size;
    *buf = malloc(*len);
    if (!*buf) {
        fclose(f);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: out of memory reading %zu bytes", path, *len);
    }
    size_t got = fread(*buf, 1, *len, f);
    int rerr = ferror(f) ? errno : 0;
    fclose(f);
    if (got != *len) {
        free(*buf);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: read error (%s)", path,
                        rerr ? strerror(rerr) : "file shrank while reading");
    }
    return NST_OK;
}

/* Convert interleaved 8- or 16-bit samples (0..amax) with `nc` channels to
 * planar RGB. */
static void to_planar(const void *px, int is16, int nc, float amax, nst_image *img) {
    size_t n = (size_t)img->w * img->h;
    const unsigned char *p8 = px;
    const uint16_t *p16 = px;
    for (size_t i = 0; i < n; i++) {
        float s[4];
        for (int c = 0; c < nc; c++) s[c] = is16 ? p16[i * nc + c] : p8[i * nc + c];
        int grey = nc <= 2, has_alpha = nc == 2 || nc == 4;
        float a = has_alpha ? s[nc - 1] / amax : 1.0f;
        if (a < 1) img->flattened = 1;
        for (int c = 0; c < 3; c++) {
            float v = s[grey ? 0 : c] * 255.0f / amax; /* exact for 8 bits and multiples of 257 */
            img->data[c * n + i] = has_alpha ? v * a + 255.0f * (1.0f - a) : v;
        }
    }
}

static int load_pnm(const char *path, const unsigned char *buf, size_t len, nst_image *img,
                    nst_error *err) {
    long v[3];
    size_t off;
    if (!pnm_header(buf, len, v, &off))
        return nst_fail(err, NST_ERR_RUNTIME, "%s: corrupt or truncated image (bad PNM header)", path);
    if (!size_ok(v[0], v[1])) return too_large(path, v[0], v[1], err);
    int nc = buf[1] == '5' ? 1 : 3, bps = v[2] > 255 ? 2 : 1;
    size_t ns = (size_t)v[0] * v[1] * nc;
    if (len - off < ns * bps)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: corrupt or truncated image (pixel data ends early)",
                        path);
    uint16_t *px = malloc(ns * sizeof *px);
    if (!px) return nst_fail(err, NST_ERR_RUNTIME, "%s: out of memory", path);
    const unsigned char *p = buf + off;
    for (size_t i = 0; i < ns; i++) {
        unsigned x = bps == 2 ? (unsigned)p[2 * i] << 8 | p[2 * i + 1] : p[i];
        px[i] = x < (unsigned)v[2] ? x : (unsigned)v[2];
    }
    int rc = nst_image_alloc(img, (int)v[0], (int)v[1], err);
    if (rc == NST_OK) to_planar(px, 1, nc, (float)v[2], img);
    free(px);
    return rc;
}

static int load_stb(const char *path, const unsigned char *buf, size_t len, int fmt,
                    nst_image *img, nst_error *err) {
    int w, h, nc;
    if (!stbi_info_from_memory(buf, (int)len, &w, &h, &nc)) {
        /* stb refuses big PNG headers itself; report them as too large */
        if (fmt == FMT_PNG && len >= 24 && !memcmp(buf + 12, "IHDR", 4) &&
            !size_ok(be32(buf + 16), be32(buf + 20)))
            return too_large(path, be32(buf + 16), be32(buf + 20), err);
        if (fmt == FMT_OTHER)
            return nst_fail(err, NST_ERR_RUNTIME, "%s: not an image (unrecognised format)", path);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: corrupt or truncated image (bad %s header)", path,
                        fmt == FMT_PNG ? "PNG" : "JPEG");
    }
    if (!size_ok(w, h)) return too_large(path, w, h, err);
    const char *cut = fmt == FMT_JPEG && !jpeg_complete(buf, len) ? "no end-of-image marker"
                      : fmt == FMT_PNG && !png_complete(buf, len) ? "no IEND chunk"
                      : fmt == FMT_OTHER && tga_short(buf, len, w, h) ? "pixel data ends early"
                                                                       : NULL;
    if (cut) return nst_fail(err, NST_ERR_RUNTIME, "%s: corrupt or truncated image (%s)", path, cut);
    int is16 = stbi_is_16_bit_from_memory(buf, (int)len);
    void *px = is16 ? (void *)stbi_load_16_from_memory(buf, (int)len, &w, &h, &nc, 0)
                    : (void *)stbi_load_from_memory(buf, (int)len, &w, &h, &nc, 0);
    if (!px)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: corrupt or truncated image (%s)", path,
                        stbi_failure_reason());
    int rc = nst_image_alloc(img, w, h, err);
    if (rc == NST_OK) to_planar(px, is16, nc, is16 ? 65535.0f : 255.0f, img);
    stbi_image_free(px);
    return rc;
}

int nst_image_load(const char *path, nst_image *img, nst_error *err) {
    img->w = img->h = 0;
    img->data = NULL;
    unsigned char *buf = NULL;
    size_t len = 0;
    int rc = read_all(path, &buf, &len, err);
    if (rc) return rc;
    rc = nst_image_decode(buf, len, path, img, err);
    free(buf);
    return rc;
}

int nst_image_decode(const void *data, size_t len, const char *name, nst_image *img,
                     nst_error *err) {
    img->w = img->h = img->flattened = 0;
    img->data = NULL;
    const unsigned char *buf = data;
    if (len == 0) return nst_fail(err, NST_ERR_RUNTIME, "%s: not an image (empty file)", name);
    if (len > 0x7fffffff) /* stb_image takes an int length */
        return nst_fail(err, NST_ERR_RUNTIME, "%s: image too large: file of %zu bytes", name, len);
    int fmt = sniff(buf, len);
    return fmt == FMT_PNM ? load_pnm(name, buf, len, img, err) : load_stb(name, buf, len, fmt, img, err);
}

/* stb_image_write reports no write errors, so the sink keeps the first one. */
struct sink {
    FILE *f;
    int err;
};

static void write_cb(void *ctx, void *data, int size) {
    struct sink *s = ctx;
    if (!s->err && fwrite(data, 1, (size_t)size, s->f) != (size_t)size) s->err = errno ? errno : EIO;
}

static int encode(int kind, struct sink *s, const nst_image *img, const unsigned char *px) {
    switch (kind) {
    case 1: return stbi_write_png_to_func(write_cb, s, img->w, img->h, 3, px, img->w * 3);
    case 2: return stbi_write_jpg_to_func(write_cb, s, img->w, img->h, 3, px, 95);
    case 3: return stbi_write_bmp_to_func(write_cb, s, img->w, img->h, 3, px);
    default: return stbi_write_tga_to_func(write_cb, s, img->w, img->h, 3, px);
    }
}

/* 1..4: PNG, JPEG, BMP, TGA by a format name or extension; 0: none of them. */
static int kind_of(const char *ext) {
    return !strcasecmp(ext, "png")                               ? 1
           : !strcasecmp(ext, "jpg") || !strcasecmp(ext, "jpeg") ? 2
           : !strcasecmp(ext, "bmp")                             ? 3
           : !strcasecmp(ext, "tga")                             ? 4
                                                                 : 0;
}

/* Interleaved 8-bit RGB, rounded and clamped (NaN to 0); NULL: no memory. */
static unsigned char *to_bytes(const nst_image *img) {
    size_t n = (size_t)img->w * img->h;
    unsigned char *px = malloc(n * 3);
    for (size_t i = 0; px && i < n; i++)
        for (int c = 0; c < 3; c++) {
            float v = img->data[c * n + i];
            if (!(v > 0.0f)) v = 0.0f;
            if (v > 255.0f) v = 255.0f;
            px[i * 3 + c] = (unsigned char)(v + 0.5f);
        }
    return px;
}

/* Encode into s->f; 0 or an errno value. */
static int encode_to(int kind, struct sink *s, const nst_image *img) {
    unsigned char *px = to_bytes(img);
    if (!px) return s->err = ENOMEM;
    if (!encode(kind, s, img, px) && !s->err) s->err = ENOMEM; /* stb fails only on allocation */
    free(px);
    return s->err;
}

int nst_image_write(FILE *f, const char *name, const char *format, const nst_image *img, nst_error *err) {
    int kind = kind_of(format);
    if (!kind) return nst_fail(err, NST_ERR_USAGE, "%s: unsupported format '%s' (png, jpg, bmp or tga)", name, format);
    if (!img->data || img->w <= 0 || img->h <= 0) return nst_fail(err, NST_ERR_RUNTIME, "%s: no image to write", name);
    struct sink s = {f, 0};
    int e = encode_to(kind, &s, img);
    if (!e && fflush(f) != 0) e = errno;
    return e ? nst_fail(err, NST_ERR_RUNTIME, "%s: cannot write (%s)", name, strerror(e)) : NST_OK;
}

int nst_image_save(const char *path, const nst_image *img, nst_error *err) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    const char *ext = dot && (!slash || dot > slash) ? dot + 1 : "";
    int kind = kind_of(ext);
    if (!kind)
        return nst_fail(err, NST_ERR_USAGE,
                        "%s: unsupported output format '%s%s' (use .png, .jpg, .jpeg, .bmp or .tga)",
                        path, *ext ? "." : "", *ext ? ext : "no extension");
    if (!img->data || img->w <= 0 || img->h <= 0)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: no image to save", path);
    size_t tlen = strlen(path) + 16;
    char *tmp = malloc(tlen);
    if (!tmp) return nst_fail(err, NST_ERR_RUNTIME, "%s: out of memory", path);
    snprintf(tmp, tlen, "%s.tmpXXXXXX", path);
    struct sink s = {NULL, 0};
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot write (%s)", path, strerror(e));
    }
    /* mkstemp makes the file 0600; give it the mode a plain fopen would */
    mode_t mask = umask(0);
    umask(mask);
    if (fchmod(fd, 0666 & ~mask) != 0 || !(s.f = fdopen(fd, "wb"))) {
        s.err = errno;
        close(fd);
    } else {
        encode_to(kind, &s, img);
        if (fclose(s.f) != 0 && !s.err) s.err = errno;
    }
    if (!s.err && rename(tmp, path) != 0) s.err = errno;
    if (s.err) unlink(tmp);
    free(tmp);
    if (s.err) return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot write (%s)", path, strerror(s.err));
    return NST_OK;
}

int nst_image_alloc(nst_image *img, int w, int h, nst_error *err) {
    img->w = img->h = img->flattened = 0;
    img->data = NULL;
    if (w <= 0 || h <= 0 || (size_t)w * h > SIZE_MAX / 3 / sizeof(float))
        return nst_fail(err, NST_ERR_RUNTIME, "invalid image size %dx%d", w, h);
    img->data = calloc((size_t)w * h * 3, sizeof(float));
    if (!img->data) return nst_fail(err, NST_ERR_RUNTIME, "out of memory for a %dx%d image", w, h);
    img->w = w;
    img->h = h;
    return NST_OK;
}

void nst_image_free(nst_image *img) {
    if (!img) return;
    free(img->data);
    img->data = NULL;
    img->w = img->h = 0;
}
