/* decode_heif.c: HEIC and AVIF (the photos phones make) through libheif
 * (image_decode.h): the primary image, its size checked from the container
 * before decoding, with its rotation and mirroring applied (libheif's
 * default), 8 or 16 bits per sample kept. */
#include <libheif/heif.h>
#include <stdint.h>

#include "image/image_decode.h"

int decode_heif(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err) {
    struct heif_context *ctx = heif_context_alloc();
    struct heif_image_handle *handle = NULL;
    struct heif_image *pic = NULL;
    if (!ctx) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", name);
    heif_context_set_maximum_image_size_limit(ctx, NST_MAX_SIDE);
    struct heif_error e = heif_context_read_from_memory_without_copy(ctx, buf, len, NULL);
    int rc = NST_OK;
    if (e.code == heif_error_Ok) e = heif_context_get_primary_image_handle(ctx, &handle);
    if (e.code != heif_error_Ok) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (%s)", name, e.message);
        goto done;
    }
    if ((rc = image_check_size(name, heif_image_handle_get_width(handle), heif_image_handle_get_height(handle),
                               lim, oversize, err)))
        goto done;
    int is16 = heif_image_handle_get_luma_bits_per_pixel(handle) > 8;
    int alpha = heif_image_handle_has_alpha_channel(handle);
    enum heif_chroma chroma = is16 ? (alpha ? heif_chroma_interleaved_RRGGBBAA_LE : heif_chroma_interleaved_RRGGBB_LE)
                                   : (alpha ? heif_chroma_interleaved_RGBA : heif_chroma_interleaved_RGB);
    e = heif_decode_image(handle, &pic, heif_colorspace_RGB, chroma, NULL);
    if (e.code != heif_error_Ok) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode the image (%s)", name, e.message);
        goto done;
    }
    int stride, w = heif_image_get_width(pic, heif_channel_interleaved),
                h = heif_image_get_height(pic, heif_channel_interleaved);
    int bits = heif_image_get_bits_per_pixel_range(pic, heif_channel_interleaved);
    const uint8_t *px = heif_image_get_plane_readonly(pic, heif_channel_interleaved, &stride);
    if (!px || w <= 0 || h <= 0 || (rc = image_check_size(name, w, h, lim, oversize, err))) {
        if (!rc) rc = nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode the image (no pixels)", name);
        goto done;
    }
    /* what the file claims is checked before it scales or indexes pixels */
    if ((is16 && (bits < 9 || bits > 16)) || stride < w * (alpha ? 4 : 3) * (is16 ? 2 : 1)) {
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode the image (%d bits, rows of %d bytes for %d pixels)",
                      name, bits, stride, w);
        goto done;
    }
    rc = nst_image_alloc(img, w, h, err);
    if (!rc)
        image_to_planar(px, is16, alpha ? 4 : 3, (size_t)stride / (is16 ? 2 : 1),
                        is16 ? (float)((1 << bits) - 1) : 255.0f, img);
done:
    heif_image_release(pic);
    heif_image_handle_release(handle);
    heif_context_free(ctx);
    return rc;
}
