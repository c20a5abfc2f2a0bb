/* resize.h: the resampling behind nst_image_resize (resize.c) for any
 * number of planes: masks and guidance channels as well as images. */
#ifndef NST_RESIZE_H
#define NST_RESIZE_H

#include "nst.h"

/* planes planes of sw x sh floats in src to w x h in dst (not aliased). */
int resize_planes(const float *src, int planes, int sw, int sh, float *dst, int w, int h, nst_error *err);

#endif
