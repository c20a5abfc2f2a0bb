/* apply.h: the parts of nst_apply (apply.c) that the tests and video use. */
#ifndef NST_APPLY_H
#define NST_APPLY_H

#include "models/generator.h"

/* A style network: a graph with an image output and, for an arbitrary-style
 * transfer network, its style vector (graph input 1; NULL: none). */
typedef struct {
    const graph *net;
    const float *style;
} painter;

/* Paint x (W x H, larger than T) into y (allocated, W x H) in overlapping
 * tiles of at most T px (a multiple of 4), every instance norm using the
 * statistics that the plan `stats` (of the same network, n = 1) holds. */
int apply_tiles(const painter *pt, const nst_image *x, int T, const plan *stats, nst_image *y,
                nst_error *err);
/* Paint x into y (allocated, the same size): one pass up to T px (0: the
 * automatic tile size), tiles beyond. */
int apply_graph(const painter *pt, const nst_image *x, int T, nst_image *y, nst_error *err);

/* p's fields in range, else a usage error. */
int apply_check(const nst_apply_params *p, nst_error *err);
/* After the network: keep x's colours and blend with x by p's strength
 * (y and x the same size), as nst_apply does. */
void apply_finish(nst_image *y, const nst_image *x, const nst_apply_params *p);

#endif
