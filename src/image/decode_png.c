/* decode_png.c: PNG through libpng (image_decode.h).
 *
 * The header is read and the size checked before any row is decoded; a
 * file that claims more pixel bytes than deflate can produce from it
 * (1032:1 at most) is refused there too. libpng reads to IEND, so a
 * truncated file or a bad CRC is an error, and ancillary chunks are held to
 * 8 MB (a zTXt or iCCP bomb). An eXIf chunk's orientation is applied, as
 * browsers do. */
#include <png.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_decode.h"

typedef struct {
    const unsigned char *p;
    size_t n, at;
    char msg[160]; /* libpng's reason, for the error */
} source;

static void on_error(png_structp png, png_const_charp msg) {
    source *s = png_get_error_ptr(png);
    snprintf(s->msg, sizeof s->msg, "%s", msg);
    png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg) { (void)png, (void)msg; }

static void on_read(png_structp png, png_bytep out, size_t n) {
    source *s = png_get_io_ptr(png);
    if (s->n - s->at < n) png_error(png, "the file ends early");
    memcpy(out, s->p + s->at, n);
    s->at += n;
}

static uint32_t be32(const unsigned char *p) {
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int decode_png(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
               nst_image *img, long *oversize, nst_error *err) {
    /* IHDR comes first: its size is checked before libpng reads on to IDAT */
    int rc = len >= 24 && !memcmp(buf + 12, "IHDR", 4)
                 ? image_check_size(name, be32(buf + 16), be32(buf + 20), lim, oversize, err) : NST_OK;
    if (rc) return rc;
    source s = {buf, len, 0, ""};
    png_structp png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &s, on_error, on_warning);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_read_struct(&png, NULL, NULL);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", name);
    }
    unsigned char *volatile px = NULL; /* volatile: set after setjmp, freed after a longjmp */
    png_bytep *volatile rows = NULL;
    if (setjmp(png_jmpbuf(png))) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%s)", name, s.msg);
        goto done;
    }
    png_set_read_fn(png, &s, on_read);
    png_set_chunk_malloc_max(png, 8 << 20);
    png_read_info(png, info);
    png_uint_32 w, h;
    int depth, ctype;
    png_get_IHDR(png, info, &w, &h, &depth, &ctype, NULL, NULL, NULL);
    if ((rc = image_check_size(name, w, h, lim, oversize, err))) goto done;
    if ((double)png_get_rowbytes(png, info) * h > 1032.0 * (double)len) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%ux%u pixels from %zu bytes: "
                      "more than deflate can hold)", name, (unsigned)w, (unsigned)h, len);
        goto done;
    }
    png_set_expand(png); /* palette to RGB, low bit depths to 8, tRNS to alpha */
    if (depth == 16) png_set_swap(png);
    png_set_interlace_handling(png);
    png_read_update_info(png, info);
    int nc = png_get_channels(png, info), is16 = png_get_bit_depth(png, info) == 16;
    size_t rowbytes = png_get_rowbytes(png, info);
    px = malloc(rowbytes * h);
    rows = malloc(h * sizeof *rows);
    if (!px || !rows) {
        rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory for %ux%u pixels", name, (unsigned)w, (unsigned)h);
        goto done;
    }
    for (png_uint_32 y = 0; y < h; y++) rows[y] = px + y * rowbytes;
    png_read_image(png, rows);
    png_read_end(png, info);
    png_uint_32 n_exif = 0;
    png_bytep exif = NULL;
    int orientation = png_get_eXIf_1(png, info, &n_exif, &exif) ? exif_orientation(exif, n_exif) : 0;
    rc = nst_image_alloc(img, (int)w, (int)h, err);
    if (!rc) image_to_planar(px, is16, nc, rowbytes / (is16 ? 2 : 1), is16 ? 65535.0f : 255.0f, img);
    if (!rc) rc = image_orient(img, orientation, err);
done:
    png_destroy_read_struct(&png, &info, NULL);
    free(px);
    free(rows);
    return rc;
}
