/* exif.c: EXIF orientation (image_decode.h): read the one tag that phone
 * photos depend on, and turn the pixels upright.
 *
 * The TIFF structure: "II" (little-endian) or "MM", 42, the offset of IFD0;
 * an IFD is a count and 12-byte entries (tag, type, count, value); tag
 * 0x0112 (SHORT) is the orientation 1..8: 1 upright, 2 mirrored, 3 turned
 * 180 degrees, 4 flipped, 5 transposed, 6 turned 90 clockwise to view,
 * 7 transversed, 8 turned 90 counterclockwise to view. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image_decode.h"

static unsigned rd16(const unsigned char *p, int le) { return le ? p[0] | p[1] << 8 : p[0] << 8 | p[1]; }

static uint32_t rd32(const unsigned char *p, int le) {
    return le ? (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24
              : (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int exif_orientation(const unsigned char *p, size_t n) {
    if (n < 8 || !(memcmp(p, "II", 2) == 0 || memcmp(p, "MM", 2) == 0)) return 0;
    int le = p[0] == 'I';
    if (rd16(p + 2, le) != 42) return 0;
    uint32_t ifd = rd32(p + 4, le);
    if (ifd > n - 2) return 0;
    unsigned count = rd16(p + ifd, le);
    for (unsigned i = 0; i < count; i++) {
        size_t at = (size_t)ifd + 2 + (size_t)i * 12;
        if (at > n - 12) return 0;
        if (rd16(p + at, le) == 0x0112 && rd16(p + at + 2, le) == 3) {
            unsigned o = rd16(p + at + 8, le);
            return o >= 1 && o <= 8 ? (int)o : 0;
        }
    }
    return 0;
}

int image_orient(nst_image *img, int o, nst_error *err) {
    if (o < 2 || o > 8) return NST_OK;
    int w = img->w, h = img->h, swap = o >= 5; /* 5..8 exchange the sides */
    int ow = swap ? h : w, oh = swap ? w : h;
    float *out = malloc((size_t)3 * w * h * sizeof *out);
    if (!out) return nst_fail(err, NST_ERR_NOMEM, "out of memory turning a %dx%d image upright", w, h);
    for (int c = 0; c < 3; c++) {
        const float *src = img->data + (size_t)c * w * h;
        float *dst = out + (size_t)c * w * h;
        for (int y = 0; y < oh; y++)
            for (int x = 0; x < ow; x++) {
                int sx, sy; /* the stored pixel shown at (x, y) */
                switch (o) {
                case 2: sx = w - 1 - x, sy = y; break;
                case 3: sx = w - 1 - x, sy = h - 1 - y; break;
                case 4: sx = x, sy = h - 1 - y; break;
                case 5: sx = y, sy = x; break;
                case 6: sx = y, sy = h - 1 - x; break;
                case 7: sx = w - 1 - y, sy = h - 1 - x; break;
                default: sx = w - 1 - y, sy = x; break; /* 8 */
                }
                dst[(size_t)y * ow + x] = src[(size_t)sy * w + sx];
            }
    }
    free(img->data);
    img->data = out, img->w = ow, img->h = oh;
    return NST_OK;
}
