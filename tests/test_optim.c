/* test_optim.c: Adam and L-BFGS trajectories against torch.optim on a 20-dim
 * ill-conditioned quadratic plus a quartic term (tests/fixtures/optim.bin,
 * from tests/pytorch/gen_optim.py), and L-BFGS's stopping rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim/optim.h"
#include "testutil.h"

static tensor_dict fx;
static int N;
static const float *Q, *B;
static double quartic;

/* f(x) = 0.5 (x-b)^T Q (x-b) + 0.25 c sum(x^4) in double, as gen_optim.py;
 * g = Q (x-b) + c x^3 rounded to float. */
static double objective(const float *x, float *g) {
    double f = 0;
    for (int i = 0; i < N; i++) {
        double qr = 0;
        for (int j = 0; j < N; j++) qr += (double)Q[i * N + j] * ((double)x[j] - B[j]);
        double xi = x[i];
        f += 0.5 * ((double)x[i] - B[i]) * qr + 0.25 * quartic * xi * xi * xi * xi;
        g[i] = (float)(qr + quartic * xi * xi * xi);
    }
    return f;
}

typedef int (*step_fn)(void *state, float *x, const float *g, double f);
static int adam_fn(void *s, float *x, const float *g, double f) {
    (void)f;
    adam_step(s, x, g);
    return 0;
}
static int lbfgs_fn(void *s, float *x, const float *g, double f) {
    return lbfgs_step(s, x, g, f);
}

/* Run `iters` steps from x0 and compare x and the loss at every evaluation,
 * and the final x, with torch's (tag.x: iters+1 rows, tag.loss: iters). */
static void trajectory(const char *tag, step_fn step, void *state, float xtol, double ltol) {
    char name[64];
    snprintf(name, sizeof name, "%s.x", tag);
    const tensor *tx = tu_get(&fx, name);
    snprintf(name, sizeof name, "%s.loss", tag);
    const float *tl = tu_get(&fx, name)->data;
    const int iters = (int)tx->shape[0] - 1;

    float *x = malloc(N * sizeof *x), *g = malloc(N * sizeof *g);
    memcpy(x, tu_get(&fx, "x0")->data, N * sizeof *x);
    double worst_x = 0, worst_l = 0, f0 = 0, f = 0;
    int stopped = 0;
    for (int k = 0; k <= iters; k++) {
        const float *want = tx->data + (size_t)k * N;
        for (int i = 0; i < N; i++) worst_x = fmax(worst_x, fabs((double)x[i] - want[i]));
        if (k == iters) break;
        f = objective(x, g);
        if (k == 0) f0 = f;
        worst_l = fmax(worst_l, fabs(f - tl[k]) / fabs((double)tl[k]));
        stopped |= step(state, x, g, f);
    }
    f = objective(x, g);
    printf("  %-6s loss %.6g -> %.6g; vs torch: max |dx| %.2e, max loss rel err %.2e\n", tag,
           f0, f, worst_x, worst_l);
    CHECK(!stopped, "%s: stopped early", tag);
    CHECK(worst_x <= xtol, "%s: x deviates from torch by %.3g > %.3g", tag, worst_x, xtol);
    CHECK(worst_l <= ltol, "%s: loss deviates from torch by %.3g > %.3g", tag, worst_l, ltol);
    CHECK(f < 0.05 * f0, "%s: loss %.6g -> %.6g did not drop 20x", tag, f0, f);
    free(x), free(g);
}

static void test_trajectories(void) {
    const float *params = tu_get(&fx, "params")->data; /* quartic, adam lr, lbfgs lr, history */
    quartic = params[0];
    nst_error err;

    adam_state adam;
    CHECK(adam_init(&adam, N, params[1], &err) == 0, "adam_init: %s", err.msg);
    trajectory("adam", adam_fn, &adam, 1e-5f, 1e-6);
    adam_free(&adam);

    lbfgs_state lb;
    CHECK(lbfgs_init(&lb, N, (int)params[3], params[2], &err) == 0, "lbfgs_init: %s", err.msg);
    trajectory("lbfgs", lbfgs_fn, &lb, 1e-4f, 1e-5);
    CHECK(lb.count == lb.history && lb.head != 0, "L-BFGS history did not wrap (count %d head %d)",
          lb.count, lb.head);
    lbfgs_free(&lb);
}

static void test_lbfgs_stops(void) {
    nst_error err;
    lbfgs_state lb;
    float x[3] = {1, 2, 3}, g0[3] = {0, 0, 0}, g[3] = {0.5f, -1, 2};

    /* A zero gradient (torch's |g|_inf <= 1e-7): stop, x untouched. */
    CHECK(lbfgs_init(&lb, 3, 4, 1, &err) == 0, "lbfgs_init: %s", err.msg);
    CHECK(lbfgs_step(&lb, x, g0, 5.0) == 1, "zero gradient does not stop L-BFGS");
    CHECK(x[0] == 1 && x[1] == 2 && x[2] == 3, "L-BFGS moved x at a zero gradient");

    /* First step -lr min(1, 1/|g|_1) g; then an unchanged loss stops it. */
    CHECK(lbfgs_step(&lb, x, g, 5.0) == 0, "L-BFGS stopped on its first step");
    CHECK(fabsf(x[0] - (1 - 0.5f / 3.5f)) < 1e-6f && fabsf(x[2] - (3 - 2 / 3.5f)) < 1e-6f,
          "L-BFGS first step: x = %g %g %g", x[0], x[1], x[2]);
    float x1[3];
    memcpy(x1, x, sizeof x);
    CHECK(lbfgs_step(&lb, x, g, 5.0) == 1, "unchanged loss does not stop L-BFGS");
    CHECK(!memcmp(x, x1, sizeof x), "L-BFGS moved x when the loss did not change");
    lbfgs_free(&lb);

    CHECK(lbfgs_init(&lb, 3, 0, 1, &err) == NST_ERR_ARG, "history 0 accepted");
    lbfgs_free(&lb);
}

int main(void) {
    tu_load_fixture("optim.bin", &fx);
    const tensor *q = tu_get(&fx, "Q");
    N = (int)q->shape[0];
    Q = q->data;
    B = tu_get(&fx, "b")->data;
    test_trajectories();
    test_lbfgs_stops();
    dict_free(&fx);
    return tu_finish();
}
