/* decode_webp.c: WebP through libwebp (image_decode.h): the features
 * (size, alpha, animation) from the header first, then the pixels. */
#include <webp/decode.h>

#include "image/image_decode.h"

int decode_webp(const unsigned char *buf, size_t len, const char *name, const nst_image_limits *lim,
                nst_image *img, long *oversize, nst_error *err) {
    WebPBitstreamFeatures f;
    if (WebPGetFeatures(buf, len, &f) != VP8_STATUS_OK)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (bad WebP header)", name);
    int rc = image_check_size(name, f.width, f.height, lim, oversize, err);
    if (rc) return rc;
    if (f.has_animation)
        return nst_fail(err, NST_ERR_FORMAT, "%s: an animated WebP (give nst video the clip, or one frame "
                        "as a picture)", name);
    int w, h;
    uint8_t *px = WebPDecodeRGBA(buf, len, &w, &h);
    if (!px) return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated image (WebP data)", name);
    rc = nst_image_alloc(img, w, h, err);
    if (!rc) image_to_planar(px, 0, 4, (size_t)w * 4, 255.0f, img);
    WebPFree(px);
    return rc;
}
