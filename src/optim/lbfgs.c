/* lbfgs.c: L-BFGS with a fixed step, mirroring torch.optim.LBFGS(lr,
 * history_size, line_search_fn=None, tolerance_grad=1e-7,
 * tolerance_change=1e-9) run as one optimizer.step(closure) of max_iter
 * iterations (torch/optim/lbfgs.py, 1.13). Torch evaluates the closure after
 * each update of x; here the caller evaluates (loss, g) at x and step k
 * performs the update of torch's loop iteration k:
 *
 *   k = 1:  d = -g,                                  t = lr min(1, 1/|g|_1)
 *   k > 1:  y = g - g_prev, s = t_prev d_prev; if y.s > 1e-10 push (s, y)
 *           (dropping the oldest beyond `history`) and H_diag = y.s / y.y;
 *           d = -H g by the two-loop recursion,      t = lr
 *   x += t d
 *
 * It stops (returns 1) where torch breaks: |g|_inf <= 1e-7 or
 * |loss - prev_loss| < 1e-9 (x left as is), g.d > -1e-9 (x left as is), or
 * |t d|_inf <= 1e-9 (after the update).
 *
 * Vectors are float like torch's float32 tensors; dot products accumulate in
 * double (torch's are float), which differs only at rounding level and keeps
 * y.s and the two-loop coefficients accurate for images of millions of
 * pixels. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim.h"

#define TOL_GRAD 1e-7
#define TOL_CHANGE 1e-9
#define PAR_MIN 65536 /* below this, threads cost more than they save */

static double dot(const float *a, const float *b, size_t n) {
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

/* a += k b */
static void axpy(float *a, float k, const float *b, size_t n) {
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) a[i] += k * b[i];
}

static float absmax(const float *a, size_t n) {
    float m = 0;
#pragma omp parallel for reduction(max : m) schedule(static) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i]));
    return m;
}

int lbfgs_init(lbfgs_state *s, size_t n, int history, float lr, nst_error *err) {
    *s = (lbfgs_state){.n = n, .history = history, .lr = lr};
    if (history < 1)
        return nst_fail(err, NST_ERR_USAGE, "L-BFGS history size must be at least 1, got %d",
                        history);
    const size_t nn = n ? n : 1, hn = (size_t)history * nn;
    s->rho = malloc((size_t)history * sizeof *s->rho);
    s->alpha = malloc((size_t)history * sizeof *s->alpha);
    s->s = malloc(hn * sizeof *s->s);
    s->y = malloc(hn * sizeof *s->y);
    s->d = malloc(nn * sizeof *s->d);
    s->g_prev = malloc(nn * sizeof *s->g_prev);
    s->q = malloc(nn * sizeof *s->q);
    if (!s->rho || !s->alpha || !s->s || !s->y || !s->d || !s->g_prev || !s->q) {
        lbfgs_free(s);
        return nst_fail(err, NST_ERR_RUNTIME,
                        "L-BFGS: out of memory for %zu parameters with history %d", n, history);
    }
    return 0;
}

/* Ring-buffer slot of the history's pair k, 0 = oldest. */
static int slot_of(const lbfgs_state *s, int k) { return (s->head + k) % s->history; }

/* Update the history with y = g - g_prev and the previous step s (held in
 * d), then overwrite d with the direction -H g. */
static void direction(lbfgs_state *st, const float *g) {
    const size_t n = st->n;
    float *d = st->d, *y = st->q;
    for (size_t i = 0; i < n; i++) y[i] = g[i] - st->g_prev[i];
    const double ys = dot(y, d, n);
    if (ys > 1e-10) { /* keep only pairs of positive curvature */
        int slot;
        if (st->count < st->history) {
            slot = slot_of(st, st->count++);
        } else { /* full: the oldest slot becomes the newest */
            slot = st->head;
            st->head = (st->head + 1) % st->history;
        }
        memcpy(st->s + (size_t)slot * n, d, n * sizeof *d);
        memcpy(st->y + (size_t)slot * n, y, n * sizeof *y);
        st->rho[slot] = 1.0 / ys;
    }
    /* H_diag = y.s / y.y of the newest pair (1 while there is none); the
     * state has no field for it, so it is recomputed from that pair. */
    double h_diag = 1;
    if (st->count) {
        const int nw = slot_of(st, st->count - 1);
        const float *yn = st->y + (size_t)nw * n;
        h_diag = 1.0 / (st->rho[nw] * dot(yn, yn, n));
    }
    /* Two-loop recursion: d = -H g, newest pair first, then oldest first. */
    for (size_t i = 0; i < n; i++) d[i] = -g[i];
    for (int k = st->count - 1; k >= 0; k--) {
        const int slot = slot_of(st, k);
        const size_t o = (size_t)slot * n;
        st->alpha[slot] = dot(st->s + o, d, n) * st->rho[slot];
        axpy(d, (float)-st->alpha[slot], st->y + o, n);
    }
    for (size_t i = 0; i < n; i++) d[i] *= (float)h_diag;
    for (int k = 0; k < st->count; k++) {
        const int slot = slot_of(st, k);
        const size_t o = (size_t)slot * n;
        const double beta = dot(st->y + o, d, n) * st->rho[slot];
        axpy(d, (float)(st->alpha[slot] - beta), st->s + o, n);
    }
}

int lbfgs_step(lbfgs_state *st, float *x, const float *g, double loss) {
    const size_t n = st->n;
    /* torch's tests on each closure evaluation */
    if (absmax(g, n) <= TOL_GRAD) return 1;
    if (st->t > 0 && fabs(loss - st->prev_loss) < TOL_CHANGE) return 1;

    float t = st->lr;
    if (++st->t == 1) {
        /* First step: steepest descent, at most lr in l1 norm. */
        for (size_t i = 0; i < n; i++) st->d[i] = -g[i];
        double l1 = 0;
        for (size_t i = 0; i < n; i++) l1 += fabsf(g[i]);
        t = (float)(fmin(1.0, 1.0 / l1) * st->lr);
    } else {
        direction(st, g);
    }
    memcpy(st->g_prev, g, n * sizeof *g);
    st->prev_loss = loss;

    if (dot(g, st->d, n) > -TOL_CHANGE) return 1; /* not a descent direction */
    /* x += t d; d keeps the step s = t d for the next history pair. */
    for (size_t i = 0; i < n; i++) {
        st->d[i] *= t;
        x[i] += st->d[i];
    }
    return absmax(st->d, n) <= TOL_CHANGE; /* no progress */
}

void lbfgs_free(lbfgs_state *s) {
    free(s->rho);
    free(s->alpha);
    free(s->s);
    free(s->y);
    free(s->d);
    free(s->g_prev);
    free(s->q);
    s->rho = s->alpha = NULL;
    s->s = s->y = s->d = s->g_prev = s->q = NULL;
}
