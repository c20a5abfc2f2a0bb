/* decode_jpeg.c: JPEG through libjpeg-turbo (image_decode.h).
 *
 * The header is read and the size checked before decoding. A file that
 * ends before its last scan is an error (libjpeg pads it with grey and
 * warns, JWRN_JPEG_EOF); the other warnings (stray bytes between markers,
 * which cameras write) are not. CMYK and YCCK files (print) are turned into
 * RGB, inverted as Adobe writes them. The EXIF orientation of phone photos
 * is applied, so a portrait shot is painted upright. */
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>

#include "image/image_decode.h"

typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jump;
    int truncated;
} failure;

static void on_error(j_common_ptr c) { longjmp(((failure *)c->err)->jump, 1); }

static void on_message(j_common_ptr c, int level) {
    if (level < 0 && c->err->msg_code == JWRN_JPEG_EOF) ((failure *)c->err)->truncated = 1;
}

/* The orientation in an APP1 "Exif\0\0" marker, 0 if none. */
static int orientation_of(j_decompress_ptr c) {
    for (jpeg_saved_marker_ptr m = c->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 && !memcmp(m->data, "Exif\0\0", 6))
            return exif_orientation(m->data + 6, m->data_length - 6);
    return 0;
}

/* In place, w x h pixels of 4 bytes (C, M, Y, K) to 3 (R, G, B). */
static void cmyk_to_rgb(unsigned char *px, size_t n, int adobe) {
    for (size_t i = 0; i < n; i++) {
        unsigned c = px[4 * i], m = px[4 * i + 1], y = px[4 * i + 2], k = px[4 * i + 3];
        if (!adobe) c = 255 - c, m = 255 - m, y = 255 - y, k = 255 - k;
        px[3 * i] = (unsigned char)((c * k + 127) / 255);
        px[3 * i + 1] = (unsigned char)((m * k + 127) / 255);
        px[3 * i + 2] = (unsigned char)((y * k + 127) / 255);
    }
}

int decode_jpeg(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err) {
    struct jpeg_decompress_struct c;
    failure f = {.truncated = 0};
    c.err = jpeg_std_error(&f.mgr);
    f.mgr.error_exit = on_error;
    f.mgr.emit_message = on_message;
    unsigned char *volatile px = NULL; /* volatile: set after setjmp, freed after a longjmp */
    int rc = NST_OK;
    jpeg_create_decompress(&c);
    if (setjmp(f.jump)) {
        char why[JMSG_LENGTH_MAX];
        f.mgr.format_message((j_common_ptr)&c, why);
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%s)", name, why);
        goto done;
    }
    jpeg_mem_src(&c, buf, (unsigned long)len);
    jpeg_save_markers(&c, JPEG_APP0 + 1, 0xFFFF);
    jpeg_read_header(&c, TRUE);
    int orientation = orientation_of(&c); /* now: finishing frees the saved markers */
    if ((rc = image_check_size(name, c.image_width, c.image_height, lim, oversize, err))) goto done;
    int cmyk = c.jpeg_color_space == JCS_CMYK || c.jpeg_color_space == JCS_YCCK;
    c.out_color_space = cmyk ? JCS_CMYK : JCS_RGB;
    jpeg_start_decompress(&c);
    size_t w = c.output_width, h = c.output_height, stride = w * c.output_components;
    if (!(px = malloc(stride * h))) {
        rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory for %zux%zu pixels", name, w, h);
        goto done;
    }
    while (c.output_scanline < h) {
        JSAMPROW row = px + c.output_scanline * stride;
        jpeg_read_scanlines(&c, &row, 1);
    }
    jpeg_finish_decompress(&c);
    if (f.truncated) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (the data ends early)", name);
        goto done;
    }
    if (cmyk) cmyk_to_rgb(px, w * h, c.saw_Adobe_marker);
    rc = nst_image_alloc(img, (int)w, (int)h, err);
    if (!rc) image_to_planar(px, 0, 3, w * 3, 255.0f, img);
    if (!rc) rc = image_orient(img, orientation, err);
done:
    jpeg_destroy_decompress(&c);
    free(px);
    return rc;
}
