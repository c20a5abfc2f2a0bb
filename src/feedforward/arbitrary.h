/* arbitrary.h: Magenta's arbitrary-style pair (nst_arbitrary, nst.h). */
#ifndef NST_ARBITRARY_H
#define NST_ARBITRARY_H

#include "graph/graph.h"

/* The side of the square painting the predictor sees. */
#define ARB_STYLE_SIDE 256
/* Automatic tiles: whole pictures up to this side. The transfer network is
 * slim (about 200 bytes of activations per pixel: 630 MB at 2048x1536) and
 * its instance norms are sensitive to the scale their statistics come
 * from (tiles normalised with the statistics of the picture downscaled to
 * the tile size differ from one pass by 5.7 grey levels at 800x600 in 512
 * px tiles, 7.9 at 2048x1536 in 1024 px tiles), so it tiles late. */
#define ARB_AUTO_TILE 2048

struct nst_arbitrary {
    graph predict;  /* painting (0..255 RGB) -> style vector (its last node, 1 x 1) */
    graph transfer; /* photo + style vector (graph input 1) -> image */
    int size;       /* style vector length */
};

#endif
