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
 * pixels.
 *
 * The two-loop recursion runs vector-free (Chen, Wang & Zhou, "Large-scale
 * L-BFGS using MapReduce", NIPS 2014): d is a combination of the basis
 * b = (s_0..s_{c-1}, y_0..y_{c-1}, g), so every dot the recursion takes is
 * a combination of the dots b_i.b_j, kept in the matrices ss, sy, yy (per
 * pair of ring slots) and gs, gy. An iteration reads the history twice, in
 * two streaming passes: the dots of the new s, y and g with every stored
 * vector, then d = sum of coefficients times b. The textbook recursion
 * streams each pair twice as well, but as 4c dependent dot / axpy calls
 * over the whole image; in exact arithmetic both give the same d. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/clones.h"
#include "optim/optim.h"

#define TOL_GRAD 1e-7
#define TOL_CHANGE 1e-9
#define PAR_MIN 65536 /* below this, threads cost more than they save */
#define CHUNK 65536   /* elements per partial sum of multi_dot: fixed, so the
                       * sums do not depend on the thread count */
#define BLOCK 2048    /* elements the passes keep in L1 across vectors */

static double dot(const float *a, const float *b, size_t n) {
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) sum += (double)a[i] * b[i];
    return sum;
}

static float absmax(const float *a, size_t n) {
    float m = 0;
#pragma omp parallel for reduction(max : m) schedule(static) if (n > PAR_MIN)
    for (size_t i = 0; i < n; i++) m = fmaxf(m, fabsf(a[i]));
    return m;
}

/* a.b in double, 8 lanes (vectorised; a fixed order for a given n) */
HOT_LOOP static double dot_lanes(const float *a, const float *b, size_t n) {
    double acc[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) acc[l] += (double)a[i + l] * b[i + l];
    for (; i < n; i++) acc[i % 8] += (double)a[i] * b[i];
    return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

/* out[r * nv + v] = rows[r] . vecs[v] (nv <= 3), one pass over the rows:
 * per chunk of CHUNK elements (in parallel; partial sums in st->part) and
 * within it per BLOCK, so the vectors' block stays in L1 while every row's
 * streams by. Each dot's arithmetic depends only on n, not on the other
 * rows and vectors or the thread count. */
static void multi_dot(lbfgs_state *st, const float *const *rows, int nr, const float *const *vecs,
                      int nv, double *out) {
    const size_t n = st->n;
    const int nc = (int)((n + CHUNK - 1) / CHUNK), m = nr * nv;
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (int c = 0; c < nc; c++) {
        double *part = st->part + (size_t)c * 6 * st->history;
        size_t lo = (size_t)c * CHUNK, hi = lo + CHUNK < n ? lo + CHUNK : n;
        for (int k = 0; k < m; k++) part[k] = 0;
        for (size_t b = lo; b < hi; b += BLOCK) {
            size_t len = hi - b < BLOCK ? hi - b : BLOCK;
            for (int r = 0; r < nr; r++)
                for (int v = 0; v < nv; v++) part[r * nv + v] += dot_lanes(rows[r] + b, vecs[v] + b, len);
        }
    }
    for (int k = 0; k < m; k++) {
        double sum = 0;
        for (int c = 0; c < nc; c++) sum += st->part[(size_t)c * 6 * st->history + k];
        out[k] = sum;
    }
}

/* combine's elements lo .. lo + len (at most BLOCK) */
HOT_LOOP static void combine_block(float *d, double cg, const float *g, const float *const *rows,
                                   const double *coef, int nr, size_t lo, size_t len) {
    double acc[BLOCK];
#pragma omp simd
    for (size_t i = 0; i < len; i++) acc[i] = cg * g[lo + i];
    for (int r = 0; r < nr; r++) {
        const float *x = rows[r] + lo;
        const double k = coef[r];
#pragma omp simd
        for (size_t i = 0; i < len; i++) acc[i] += k * x[i];
    }
#pragma omp simd
    for (size_t i = 0; i < len; i++) d[lo + i] = (float)acc[i];
}

/* d = cg g + sum_r coef[r] rows[r], summed in double per BLOCK */
static void combine(float *d, double cg, const float *g, const float *const *rows,
                    const double *coef, int nr, size_t n) {
    const long nb = (long)((n + BLOCK - 1) / BLOCK);
#pragma omp parallel for schedule(static) if (n > PAR_MIN)
    for (long b = 0; b < nb; b++) {
        size_t lo = (size_t)b * BLOCK;
        combine_block(d, cg, g, rows, coef, nr, lo, n - lo < BLOCK ? n - lo : BLOCK);
    }
}

int lbfgs_init(lbfgs_state *s, size_t n, int history, float lr, nst_error *err) {
    *s = (lbfgs_state){.n = n, .history = history, .lr = lr};
    if (history < 1)
        return nst_fail(err, NST_ERR_ARG, "L-BFGS history size must be at least 1, got %d",
                        history);
    const size_t nn = n ? n : 1, hn = (size_t)history * nn;
    s->rho = malloc((size_t)history * sizeof *s->rho);
    s->alpha = malloc((size_t)history * sizeof *s->alpha);
    s->s = malloc(hn * sizeof *s->s);
    s->y = malloc(hn * sizeof *s->y);
    s->d = malloc(nn * sizeof *s->d);
    s->g_prev = malloc(nn * sizeof *s->g_prev);
    s->q = malloc(nn * sizeof *s->q);
    const size_t hh = (size_t)history * history, nc = (nn + CHUNK - 1) / CHUNK;
    s->ss = malloc(3 * hh * sizeof *s->ss);
    s->gs = malloc(10 * (size_t)history * sizeof *s->gs); /* gs gy cs cy, dots: 6h */
    s->part = malloc(nc * 6 * (size_t)history * sizeof *s->part);
    s->rows = malloc(2 * (size_t)history * sizeof *s->rows);
    if (!s->rho || !s->alpha || !s->s || !s->y || !s->d || !s->g_prev || !s->q || !s->ss || !s->gs ||
        !s->part || !s->rows) {
        lbfgs_free(s);
        return nst_fail(err, NST_ERR_NOMEM,
                        "L-BFGS: out of memory for %zu parameters with history %d", n, history);
    }
    s->sy = s->ss + hh, s->yy = s->sy + hh;
    s->gy = s->gs + history, s->cs = s->gy + history, s->cy = s->cs + history;
    s->dots = s->cy + history;
    return 0;
}

/* Ring-buffer slot of the history's pair k, 0 = oldest. */
static int slot_of(const lbfgs_state *s, int k) { return (s->head + k) % s->history; }

/* st->rows = the stored s then y, oldest first; returns their count 2c */
static int gather_rows(lbfgs_state *st) {
    for (int k = 0; k < st->count; k++) {
        const size_t o = (size_t)slot_of(st, k) * st->n;
        st->rows[k] = st->s + o, st->rows[st->count + k] = st->y + o;
    }
    return 2 * st->count;
}

/* The dots of the stored vectors with vecs (nv <= 3: the pair in slot q, or
 * any two history vectors, and maybe g) into the matrices: vecs[v] is the s
 * (is_y[v] = 0) or y of slot slot[v], or g (slot[v] < 0). */
static void update_dots(lbfgs_state *st, const float *const *vecs, const int *slot,
                        const int *is_y, int nv) {
    const int c = st->count, h = st->history, nr = gather_rows(st);
    double *out = st->dots;
    multi_dot(st, (const float *const *)st->rows, nr, vecs, nv, out);
    for (int k = 0; k < c; k++) {
        const int j = slot_of(st, k);
        for (int v = 0; v < nv; v++) {
            double with_s = out[k * nv + v], with_y = out[(c + k) * nv + v];
            const int q = slot[v];
            if (q < 0) {
                st->gs[j] = with_s, st->gy[j] = with_y;
            } else if (!is_y[v]) { /* s_q */
                st->ss[q * h + j] = st->ss[j * h + q] = with_s;
                st->sy[q * h + j] = with_y; /* s_q . y_j */
            } else {               /* y_q */
                st->sy[j * h + q] = with_s; /* s_j . y_q */
                st->yy[q * h + j] = st->yy[j * h + q] = with_y;
            }
        }
    }
}

void lbfgs_rebuild_dots(lbfgs_state *st) {
    for (int k = 0; k < st->count; k++) {
        const int q = slot_of(st, k);
        const float *vecs[2] = {st->s + (size_t)q * st->n, st->y + (size_t)q * st->n};
        update_dots(st, vecs, (const int[]){q, q}, (const int[]){0, 1}, 2);
    }
}

/* Update the history with y = g - g_prev and the previous step s (held in
 * d), then overwrite d with the direction -H g. */
static void direction(lbfgs_state *st, const float *g) {
    const size_t n = st->n;
    const int h = st->history;
    float *d = st->d, *y = st->q;
    for (size_t i = 0; i < n; i++) y[i] = g[i] - st->g_prev[i];
    const double ys = dot(y, d, n);
    const float *vecs[3];
    int slot[3], is_y[3], nv = 0;
    if (ys > 1e-10) { /* keep only pairs of positive curvature */
        int q;
        if (st->count < st->history) {
            q = slot_of(st, st->count++);
        } else { /* full: the oldest slot becomes the newest */
            q = st->head;
            st->head = (st->head + 1) % st->history;
        }
        memcpy(st->s + (size_t)q * n, d, n * sizeof *d);
        memcpy(st->y + (size_t)q * n, y, n * sizeof *y);
        st->rho[q] = 1.0 / ys;
        vecs[0] = st->s + (size_t)q * n, slot[0] = q, is_y[0] = 0;
        vecs[1] = st->y + (size_t)q * n, slot[1] = q, is_y[1] = 1;
        nv = 2;
    }
    vecs[nv] = g, slot[nv] = -1, is_y[nv] = 0;
    update_dots(st, vecs, slot, is_y, nv + 1);
    /* H_diag = y.s / y.y of the newest pair (1 while there is none) */
    double h_diag = 1;
    if (st->count) {
        const int nw = slot_of(st, st->count - 1);
        h_diag = 1.0 / (st->rho[nw] * st->yy[nw * h + nw]);
    }
    /* The two-loop recursion on the coefficients of d = cg g + sum cs_j s_j
     * + sum cy_j y_j, starting from d = -g: newest pair first, then oldest
     * first; b.d = cg b.g + sum_j cs_j b.s_j + cy_j b.y_j. */
    double cg = -1, *cs = st->cs, *cy = st->cy;
    for (int j = 0; j < h; j++) cs[j] = cy[j] = 0;
    for (int k = st->count - 1; k >= 0; k--) {
        const int q = slot_of(st, k);
        double sd = cg * st->gs[q];
        for (int m = 0; m < st->count; m++) {
            const int j = slot_of(st, m);
            sd += cs[j] * st->ss[q * h + j] + cy[j] * st->sy[q * h + j];
        }
        st->alpha[q] = sd * st->rho[q];
        cy[q] -= st->alpha[q];
    }
    cg *= h_diag;
    for (int j = 0; j < h; j++) cs[j] *= h_diag, cy[j] *= h_diag;
    for (int k = 0; k < st->count; k++) {
        const int q = slot_of(st, k);
        double yd = cg * st->gy[q];
        for (int m = 0; m < st->count; m++) {
            const int j = slot_of(st, m);
            yd += cs[j] * st->sy[j * h + q] + cy[j] * st->yy[q * h + j];
        }
        cs[q] += st->alpha[q] - yd * st->rho[q];
    }
    /* d = cg g + the rows (s oldest first, then y) times their coefficients */
    const int c = st->count, nr = gather_rows(st);
    double *coef = st->dots;
    for (int k = 0; k < c; k++) {
        const int j = slot_of(st, k);
        coef[k] = cs[j], coef[c + k] = cy[j];
    }
    combine(d, cg, g, (const float *const *)st->rows, coef, nr, n);
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
    free(s->ss);
    free(s->gs);
    free(s->part);
    free(s->rows);
    s->rho = s->alpha = s->ss = s->gs = s->part = NULL;
    s->s = s->y = s->d = s->g_prev = s->q = NULL;
    s->rows = NULL;
}
