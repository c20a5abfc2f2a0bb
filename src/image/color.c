/* color.c: luminance-only style transfer, as neural-style's original_colors:
 * convert both images to YUV (BT.601), keep the styled image's Y and the
 * content's U and V, convert back. With the exact inverse transform that is
 * adding the luminance difference to every channel of the content, because
 * the Y weights sum to 1 and U, V are multiples of B - Y and R - Y. Values
 * are not clamped; saving clamps. */
#include "nst.h"

void nst_image_keep_colors(nst_image *styled, const nst_image *content) {
    size_t n = (size_t)styled->w * styled->h;
    float *s = styled->data;
    const float *c = content->data;
    for (size_t i = 0; i < n; i++) {
        float ys = 0.299f * s[i] + 0.587f * s[n + i] + 0.114f * s[2 * n + i];
        float yc = 0.299f * c[i] + 0.587f * c[n + i] + 0.114f * c[2 * n + i];
        for (int k = 0; k < 3; k++) s[k * n + i] = c[k * n + i] + (ys - yc);
    }
}
