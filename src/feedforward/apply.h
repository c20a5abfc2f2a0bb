/* apply.h: the tiled pass of nst_apply (apply.c), for the tests. */
#ifndef NST_APPLY_H
#define NST_APPLY_H

#include "models/generator.h"

/* Paint x (W x H, larger than T) into y (allocated, W x H) in overlapping
 * tiles of at most T px (a multiple of 4), every instance norm using the
 * statistics that the plan `stats` (of the same network, n = 1) holds. */
int apply_tiles(const nst_generator *g, const nst_image *x, int T, const gen_plan *stats,
                nst_image *y, nst_error *err);

#endif
