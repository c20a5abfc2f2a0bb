/* test_plan.c: the executor (src/graph/plan.c, rewrite.c) on a small graph
 * that uses the operations and rewrites the shipped networks do not all
 * combine: a 'SAME' conv + ReLU (fused), an explicit reflect pad before a
 * 'VALID' depthwise conv (merged into one reflect-padded conv), instance
 * norm + residual add + ReLU (one pass), nearest upsampling, a stride-2
 * conv with bias, a sigmoid and an unfused add, a global mean; taps on
 * three nodes, a batch of 2.
 *  - the rewrites fired (fewer steps than nodes) and did not change the
 *    result: a forward-only plan (buffers shared by liveness) gives the
 *    same taps as a plan that keeps every buffer;
 *  - backward to the image and to every parameter against directional
 *    finite differences of f = sum_t <F_t, R_t>;
 *  - a graph that reads a node after itself, or whose channels disagree,
 *    is rejected by graph_check. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/plan.h"
#include "testutil.h"

enum { N = 2, H = 13, W = 11 };
static const int taps[3] = {6, 9, 11}; /* after IN+add+ReLU, the mean, the last add */

/* The graph; parameters uniform in [-0.5, 0.5), IN scale around 1. */
static void build(graph *g, float sig_a, float sig_b) {
    nst_error err;
    size_t np = 3 * 8 * 9 + 8 + 8 * 9 + 2 * 8 + 8 * 4 * 9 + 4;
    if (graph_alloc(g, 12, np, &err)) exit(1);
    snprintf(g->path, sizeof g->path, "test graph");
    for (int c = 0; c < 3; c++) g->in_scale[c] = 1.0f / 255; /* activations of order 1 */
    tu_fill_uniform(g->params, np, -0.5f, 0.5f, 7);
    float *q = g->params;
    node *n = g->nodes;
    n[0] = graph_chain_node(0, OP_CONV, "conv0", 3, 8);
    n[0].k = 3, n[0].weight = q, q += 3 * 8 * 9, n[0].bias = q, q += 8;
    n[1] = graph_chain_node(1, OP_ACT, "relu0", 8, 8), n[1].act = ACT_RELU, n[1].alpha = 0.1f;
    n[2] = graph_chain_node(2, OP_PAD, "pad", 8, 8);
    for (int s = 0; s < 4; s++) n[2].pads[s] = 1;
    n[3] = graph_chain_node(3, OP_CONV, "dw", 8, 8);
    n[3].k = 3, n[3].groups = 8, n[3].pad = PAD_VALID, n[3].weight = q, q += 8 * 9;
    n[4] = graph_chain_node(4, OP_INSTNORM, "norm", 8, 8);
    n[4].eps = 1e-3f, n[4].scale = q, q += 8, n[4].shift = q, q += 8;
    for (int c = 0; c < 8; c++) n[4].scale[c] += 1;
    n[5] = graph_chain_node(5, OP_ADD, "residual", 8, 8), n[5].n_in = 2, n[5].in[1] = 1;
    n[6] = graph_chain_node(6, OP_ACT, "relu1", 8, 8), n[6].act = ACT_RELU;
    n[7] = graph_chain_node(7, OP_UPSAMPLE, "up", 8, 8), n[7].factor = 2;
    n[8] = graph_chain_node(8, OP_CONV, "conv2", 8, 4);
    n[8].k = 3, n[8].stride = 2, n[8].weight = q, q += 8 * 4 * 9, n[8].bias = q, q += 4;
    n[9] = graph_chain_node(9, OP_MEAN, "mean", 4, 4);
    n[10] = graph_chain_node(10, OP_ACT, "sigmoid", 4, 4), n[10].in[0] = 8;
    n[10].act = ACT_SIGMOID, n[10].a = sig_a, n[10].b = sig_b;
    n[11] = graph_chain_node(11, OP_ADD, "sum", 4, 4), n[11].n_in = 2, n[11].in[1] = 8;
}

typedef struct {
    plan *p;
    const float *x;
    float *R[3];
} objective;

static double f_of(objective *o, const float *x) {
    plan_forward(o->p, x, 0);
    double f = 0;
    for (int t = 0; t < 3; t++) {
        plan_tap v = plan_tap_of(o->p, taps[t]);
        size_t m = (size_t)N * v.c * v.h * v.w;
        for (size_t i = 0; i < m; i++) f += (double)v.out[i] * o->R[t][i];
    }
    return f;
}
static double f_image(const float *x, void *ctx) { return f_of(ctx, x); }
static double f_params(const float *params, void *ctx) {
    objective *o = ctx;
    (void)params; /* the plan reads the graph's parameters, perturbed in place */
    plan_weights_changed(o->p);
    return f_of(o, o->x);
}

/* The plan of build()'s graph against finite differences; the sigmoid as
 * a y = a s(x) + b loop (a = 2, b = -1) or oneDNN's logistic (a = 1, b = 0). */
static void run(float sig_a, float sig_b, int bad_graphs) {
    graph g;
    build(&g, sig_a, sig_b);
    printf("  sigmoid %g s(x) + %g\n", sig_a, sig_b);
    nst_error err;
    CHECK(graph_check(&g, &err) == 0, "graph_check: %s", err.msg);
    unsigned char tapped[12] = {0};
    for (int t = 0; t < 3; t++) tapped[taps[t]] = TAP_COPY;
    size_t nx = (size_t)N * 3 * H * W;
    float *x = malloc(nx * sizeof *x), *dx = malloc(nx * sizeof *dx), *dp = malloc(g.n_params * sizeof *dp);
    tu_fill_uniform(x, nx, 0, 255, 3);

    plan infer, train;
    const plan_opts oi = {tapped, NST_PAD_ZERO, NST_POOL_MAX, NST_PRECISION_FP32, 0, 0};
    const plan_opts ot = {tapped, NST_PAD_ZERO, NST_POOL_MAX, NST_PRECISION_FP32,
                          PLAN_GRAD_INPUT | PLAN_GRAD_PARAMS, 0};
    if (plan_create(&infer, &g, N, H, W, &oi, &err) || plan_create(&train, &g, N, H, W, &ot, &err)) {
        CHECK(0, "plan: %s", err.msg);
        return;
    }
    printf("  %d nodes -> %d steps\n", g.n_nodes, train.n_steps);
    /* conv0+relu0, pad+dw, norm+residual+relu1: 4 steps fewer */
    CHECK(train.n_steps == g.n_nodes - 4, "rewrites: %d steps for %d nodes", train.n_steps, g.n_nodes);
    CHECK(train.of_node[1] >= 0 && train.of_node[0] < 0 && train.of_node[2] < 0,
          "the fused conv answers for its ReLU");
    plan_forward(&infer, x, 0);
    plan_forward(&train, x, 0);
    for (int t = 0; t < 3; t++) {
        plan_tap a = plan_tap_of(&infer, taps[t]), b = plan_tap_of(&train, taps[t]);
        char what[64];
        snprintf(what, sizeof what, "node %d: shared vs kept buffers", taps[t]);
        tu_close(what, a.out, b.out, (size_t)N * a.c * a.h * a.w, 1e-5f, 1e-5f);
    }
    plan_tap mean = plan_tap_of(&train, 9);
    CHECK(mean.h == 1 && mean.w == 1 && mean.c == 4, "mean: %dx%dx%d", mean.c, mean.h, mean.w);
    plan_tap up = plan_tap_of(&train, 11);
    CHECK(up.h == H && up.w == W, "upsampled then halved: %dx%d for %dx%d", up.w, up.h, W, H);

    objective o = {&train, x, {NULL, NULL, NULL}};
    plan_zero_loss_grads(&train);
    for (int t = 0; t < 3; t++) {
        plan_tap v = plan_tap_of(&train, taps[t]);
        size_t m = (size_t)N * v.c * v.h * v.w;
        o.R[t] = malloc(m * sizeof(float));
        tu_fill_uniform(o.R[t], m, -1, 1, 11u + (unsigned)t);
        memcpy(v.loss_grad, o.R[t], m * sizeof(float));
    }
    plan_forward(&train, x, 0);
    plan_backward(&train, NULL, dx, dp);
    tu_check_dir_grad("plan d<F,R>/dimage", f_image, &o, x, dx, nx, 6, 0.05f, 1e-2);
    /* each node's parameters on their own: a wrong block stands out */
    for (int i = 0; i < g.n_nodes; i++) {
        const node *nd = &g.nodes[i];
        float *blocks[4] = {nd->weight, nd->bias, nd->scale, nd->shift};
        size_t len[4] = {nd->weight ? (size_t)nd->cout * nd->cin / nd->groups * nd->k * nd->k : 0,
                         nd->bias ? (size_t)nd->cout : 0, nd->scale ? (size_t)nd->cout : 0,
                         nd->shift ? (size_t)nd->cout : 0};
        static const char *const kind[4] = {"weights", "bias", "scale", "shift"};
        for (int k = 0; k < 4; k++) {
            if (!len[k]) continue;
            char what[128];
            snprintf(what, sizeof what, "plan d<F,R>/d %s %s", nd->name, kind[k]);
            /* small steps: larger ones cross the leaky ReLU's kinks (measured
             * worst 1e-3 at 1e-4, 4e-2 at 1e-3 for conv0's weights) */
            tu_check_dir_grad(what, f_params, &o, blocks[k], dp + (blocks[k] - g.params), len[k], 4,
                              1e-4f, 1e-2);
        }
    }
    plan_weights_changed(&train);

    /* bad graphs */
    if (bad_graphs) {
        g.nodes[3].in[0] = 5;
        CHECK(graph_check(&g, &err) != 0 && strstr(err.msg, "does not come before"), "a forward reference: %s",
              err.msg);
        g.nodes[3].in[0] = 2, g.nodes[8].cin = 5;
        CHECK(graph_check(&g, &err) != 0 && strstr(err.msg, "expects 5 channels"), "channels: %s", err.msg);
    }

    for (int t = 0; t < 3; t++) free(o.R[t]);
    plan_destroy(&infer);
    plan_destroy(&train);
    graph_free(&g);
    free(x), free(dx), free(dp);
}

int main(void) {
    nst_set_threads(2);
    run(2, -1, 1);
    run(1, 0, 0);
    return tu_finish();
}
