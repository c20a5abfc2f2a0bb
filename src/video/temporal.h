/* temporal.h: the pieces of temporally consistent video (Ruder et al. 2016,
 * "Artistic style transfer for videos"; Lai et al. 2018, "Learning blind
 * video temporal consistency") on planar float frames.
 *
 * Flow convention (flow.h): uv_ba is the flow from frame b to frame a, so
 * b(p) ~ a(p + uv_ba(p)); warping a into b's geometry samples a there. */
#ifndef NST_TEMPORAL_H
#define NST_TEMPORAL_H

#include <stdint.h>

#include "nst.h"

/* BT.601 luma, rounded to 8 bits: what the flow is computed on. */
void temporal_gray(const nst_image *im, uint8_t *gray);

/* dst(p) = src(p + uv(p)) for each of c planes of w x h, bilinear, with
 * the sample point clamped to the frame. */
void temporal_warp(const float *src, int c, int w, int h, const float *uv, float *dst);

/* Reliability of the backward flow uv_ba, given the forward flow uv_ab
 * (Ruder et al. 2016, section 3.1): with w = uv_ba(p) and
 * w~ = uv_ab(p + w) (bilinear), the pixel is disoccluded where
 *   |w + w~|^2 > 0.01 (|w|^2 + |w~|^2) + 0.5,
 * on a motion boundary where |grad u|^2 + |grad v|^2 > 0.01 |w|^2 + 0.002,
 * and unreliable where p + w leaves the frame. mask[p] = 0 there, else 1.
 * Returns the fraction of reliable pixels. */
double temporal_mask(const float *uv_ba, const float *uv_ab, int w, int h, float *mask);

/* Over the reliable pixels (mask weights) of x and y (0..255), y the
 * previous frame warped into x:
 *  - warp_error: the mean of sum_c ((x - y) / 255)^2 / 3, the warping error
 *    of Lai et al. 2018 for one frame;
 *  - change: the mean |x - y| in grey levels, the photometric change that
 *    marks a scene cut.
 * Both 0 when no pixel is reliable; either pointer may be NULL. */
void temporal_diff(const float *x, const float *y, const float *mask, int w, int h, double *warp_error,
                   double *change);

/* out = mask * (a * warped + (1 - a) * styled) + (1 - mask) * styled,
 * per pixel over 3 planes (in place on styled allowed: out == styled). */
void temporal_blend(const float *styled, const float *warped, const float *mask, float a, int w,
                    int h, float *out);

#endif
