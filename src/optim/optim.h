/* optim.h: optimisers over a flat parameter vector x of n floats. The caller
 * evaluates loss f and gradient g at x, then calls *_step, which updates x
 * in place. State is allocated once in *_init; steps allocate nothing. */
#ifndef NST_OPTIM_H
#define NST_OPTIM_H

#include <stddef.h>

#include "nst.h"

/* adam.c: Adam (Kingma & Ba), as torch.optim.Adam:
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * x -= lr * (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps). */
typedef struct {
    size_t n;
    float lr, beta1, beta2, eps;
    long t;
    float *m, *v;
} adam_state;
int adam_init(adam_state *s, size_t n, float lr, nst_error *err);
void adam_step(adam_state *s, float *x, const float *g);
void adam_free(adam_state *s);

/* lbfgs.c: L-BFGS with a fixed step (no line search), the algorithm of
 * torch.optim.LBFGS(line_search_fn=None) one inner iteration per step, so its
 * trajectory can be compared with PyTorch's. The direction is -H g from the
 * two-loop recursion over the last `history` (s, y) pairs; pairs with
 * y.s <= 1e-10 are skipped; the first step is lr * min(1, 1/|g|_1) * -g,
 * later ones lr * d. Returns 1 when converged (|g|_inf <= 1e-7, or the step or
 * the change in loss below 1e-9), else 0. */
typedef struct {
    size_t n;
    int history, count, head; /* ring buffer of (s, y) pairs */
    float lr;
    long t;
    double prev_loss;
    double *rho, *alpha;
    float *s, *y;        /* history x n each */
    float *d, *g_prev, *q;
    /* the vector-free recursion (lbfgs.c): dots between the stored vectors,
     * history x history by ring slot (ss[i][j] = s_i.s_j, sy[i][j] = s_i.y_j,
     * yy), with g (gs, gy), the coefficients of d (cs, cy), scratch */
    double *ss, *sy, *yy, *gs, *gy, *cs, *cy, *dots, *part;
    float **rows;
} lbfgs_state;
int lbfgs_init(lbfgs_state *s, size_t n, int history, float lr, nst_error *err);
int lbfgs_step(lbfgs_state *s, float *x, const float *g, double loss);
/* After the pairs, rho, count and head were restored from a checkpoint:
 * recompute the dots between the stored vectors (bit for bit those the
 * uninterrupted run has). */
void lbfgs_rebuild_dots(lbfgs_state *s);
void lbfgs_free(lbfgs_state *s);

#endif
