/* test_tflite.c: the TensorFlow Lite reader on Magenta's arbitrary-style
 * networks in ../shared: node counts and attributes, inputs and outputs,
 * weights against values numpy read independently
 * (tests/pytorch/gen_tflite.py -> tests/fixtures/tflite.bin), and damaged
 * files (truncated, bytes flipped, wrong identifier, operators patched to
 * unsupported ones), which must fail with a message or give a graph that
 * passes graph_check, never crash. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/tflite.h"
#include "testutil.h"

#define DIR "models/magenta-arbitrary/"

static int count(const graph *g, op_kind op) {
    int n = 0;
    for (int i = 0; i < g->n_nodes; i++) n += g->nodes[i].op == op;
    return n;
}

/* Node weights (n floats) against fixture tensor `name`. */
static void same_values(const tensor_dict *fx, const char *name, const float *got, size_t n) {
    const tensor *t = tu_get(fx, name);
    CHECK(got && t->numel >= n, "%s: %zu values, want %zu", name, t->numel, n);
    if (got && t->numel >= n) tu_close(name, got, t->data, n, 1e-7f, 1e-6f);
}

static size_t conv_weights(const node *n) {
    return (size_t)n->cout * (size_t)(n->cin / n->groups) * (size_t)n->k * (size_t)n->k;
}

static void test_predictor(const tensor_dict *fx) {
    const char *path = tu_shared(DIR "style_predict_quantized_256.tflite");
    if (!path) return;
    graph g;
    nst_error err = {0};
    int rc = tflite_load(path, &g, &err);
    CHECK(rc == 0, "predictor: %s", err.msg);
    if (rc) return;
    CHECK(strcmp(g.name, "magenta-predict") == 0 && strcmp(g.path, path) == 0, "name %s path %s",
          g.name, g.path);
    CHECK(g.n_inputs == 1 && g.input_c[0] == 3 && !g.image_out, "inputs %d, image_out %d", g.n_inputs,
          g.image_out);
    for (int c = 0; c < 3; c++)
        CHECK(fabsf(g.in_scale[c] - 1.0f / 255) < 1e-9f && g.in_shift[c] == 0, "in_scale[%d] %g", c,
              g.in_scale[c]);
    /* README: 66 operators, CONV_2D 36, DEPTHWISE_CONV_2D 17, ADD 10, MEAN 1,
     * QUANTIZE 1, DEQUANTIZE 1 (identities: no nodes) */
    int dw = 0, plain = 0, relu6 = 0;
    for (int i = 0; i < g.n_nodes; i++) {
        const node *n = &g.nodes[i];
        if (n->op != OP_CONV) continue;
        if (n->groups > 1) dw += n->groups == n->cin && n->cin == n->cout;
        else plain++;
        relu6 += n->act == ACT_RELU6;
        CHECK(n->pad == PAD_SAME && n->bias, "%s: padding %d, bias %p", n->name, n->pad,
              (void *)n->bias);
    }
    CHECK(g.n_nodes == 64 && plain == 36 && dw == 17 && count(&g, OP_ADD) == 10 &&
          count(&g, OP_MEAN) == 1, "%d nodes: %d convs, %d depthwise, %d adds, %d means", g.n_nodes,
          plain, dw, count(&g, OP_ADD), count(&g, OP_MEAN));
    CHECK(relu6 == 35, "%d convolutions with ReLU6", relu6);
    const node *first = &g.nodes[0], *d0 = &g.nodes[1], *last = &g.nodes[g.n_nodes - 1];
    CHECK(first->op == OP_CONV && first->in[0] == GRAPH_INPUT(0) && first->cin == 3 &&
          first->cout == 32 && first->k == 3 && first->stride == 2 && first->act == ACT_RELU6,
          "first conv %s", first->name);
    CHECK(d0->op == OP_CONV && d0->groups == 32 && d0->k == 3 && d0->stride == 1, "depthwise %s",
          d0->name);
    /* the style vector: a 1x1 conv to 100 channels on the mean over H, W */
    CHECK(last->op == OP_CONV && last->cout == 100 && last->cin == 1280 && last->k == 1 &&
          last->act == ACT_NONE && g.nodes[last->in[0]].op == OP_MEAN, "last node %s", last->name);
    same_values(fx, "predict/conv0/weight", first->weight, conv_weights(first));
    same_values(fx, "predict/conv0/bias", first->bias, 32);
    same_values(fx, "predict/dw0/weight", d0->weight, conv_weights(d0));
    same_values(fx, "predict/dw0/bias", d0->bias, 32);
    same_values(fx, "predict/last/weight2", last->weight, 2 * 1280);
    same_values(fx, "predict/last/bias", last->bias, 100);
    CHECK(graph_check(&g, &err) == 0, "graph_check: %s", err.msg);
    graph_free(&g);
}

/* The transfer network (fp16 or int8 weights); returns it loaded or n_nodes 0. */
static void check_transfer(const char *path, graph *g, float eps_tol) {
    nst_error err = {0};
    int rc = tflite_load(path, g, &err);
    CHECK(rc == 0, "transfer: %s", err.msg);
    if (rc) return;
    CHECK(strcmp(g->name, "magenta-transfer") == 0, "name %s", g->name);
    CHECK(g->n_inputs == 2 && g->input_c[0] == 3 && g->input_c[1] == 100, "inputs %d (%d, %d)",
          g->n_inputs, g->input_c[0], g->input_c[1]);
    CHECK(g->image_out && g->out_scale == 255 && g->out_shift == 0, "image_out %d, out %g + %g",
          g->image_out, g->out_scale, g->out_shift);
    CHECK(fabsf(g->in_scale[1] - 1.0f / 255) < 1e-9f, "in_scale %g", g->in_scale[1]);
    /* README: CONV_2D 42 (16 on the image, 26 1x1 on the style vector),
     * MIRROR_PAD 16, 13 instance norms, RESIZE_NEAREST_NEIGHBOR 3 (one 1x),
     * LOGISTIC 1; ADD 31 = 13 epsilons + 13 norm outputs + 5 residuals */
    int image_convs = 0, style_convs = 0, k9 = 0, s2 = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        const node *n = &g->nodes[i];
        if (n->op == OP_CONV && n->in[0] == GRAPH_INPUT(1)) {
            style_convs++;
            CHECK(n->k == 1 && n->cin == 100 && n->bias && n->act == ACT_NONE, "style conv %s", n->name);
        } else if (n->op == OP_CONV) {
            image_convs++;
            k9 += n->k == 9, s2 += n->stride == 2;
            /* VALID after a reflect pad of (k - 1) / 2 */
            const node *p = &g->nodes[n->in[0]];
            CHECK(n->pad == PAD_VALID && n->groups == 1 && p->op == OP_PAD &&
                  p->pads[0] == (n->k - 1) / 2 && p->pads[3] == (n->k - 1) / 2, "image conv %s",
                  n->name);
        }
        if (n->op == OP_INSTNORM) {
            CHECK(n->n_in == 3 && fabsf(n->eps - 1.00136e-5f) <= eps_tol, "norm %s: %d inputs, eps %g",
                  n->name, n->n_in, n->eps);
            for (int j = 1; j < 3 && n->n_in == 3; j++)
                CHECK(g->nodes[n->in[j]].in[0] == GRAPH_INPUT(1) && g->nodes[n->in[j]].cout == n->cout,
                      "norm %s: input %d is no style conv", n->name, j);
            CHECK(g->nodes[n->in[0]].op == OP_CONV && n->in[1] != n->in[2], "norm %s", n->name);
        }
        if (n->op == OP_UPSAMPLE) CHECK(n->factor == 2, "%s: factor %d", n->name, n->factor);
    }
    CHECK(g->n_nodes == 79 && image_convs == 16 && style_convs == 26 && count(g, OP_PAD) == 16 &&
          count(g, OP_INSTNORM) == 13 && count(g, OP_ADD) == 5 && count(g, OP_UPSAMPLE) == 2 &&
          count(g, OP_ACT) == 1 && count(g, OP_MEAN) == 0,
          "%d nodes: %d image convs, %d style convs, %d pads, %d norms, %d adds, %d upsamples",
          g->n_nodes, image_convs, style_convs, count(g, OP_PAD), count(g, OP_INSTNORM),
          count(g, OP_ADD), count(g, OP_UPSAMPLE));
    CHECK(k9 == 2 && s2 == 2, "%d 9x9 and %d stride-2 convolutions", k9, s2);
    /* the encoder: three convolutions with bias and ReLU, no norm */
    for (int i = 1; i <= 5; i += 2)
        CHECK(g->nodes[i].op == OP_CONV && g->nodes[i].act == ACT_RELU && g->nodes[i].bias &&
              g->nodes[i + 1].op == OP_PAD, "encoder node %d %s", i, g->nodes[i].name);
    /* relu on the first norm of each residual block and of the upsampling convs */
    int relu = 0;
    for (int i = 0; i < g->n_nodes; i++)
        relu += g->nodes[i].op == OP_INSTNORM && g->nodes[i].act == ACT_RELU;
    CHECK(relu == 7, "%d norms with ReLU", relu);
    const node *last = &g->nodes[g->n_nodes - 1];
    CHECK(last->op == OP_ACT && last->act == ACT_SIGMOID && last->a == 1 && last->b == 0 &&
          last->cout == 3 && g->nodes[last->in[0]].op == OP_INSTNORM, "last node %s", last->name);
    CHECK(g->nodes[0].op == OP_PAD && g->nodes[0].in[0] == GRAPH_INPUT(0) && g->nodes[0].pads[1] == 4,
          "first node %s", g->nodes[0].name);
    CHECK(graph_check(g, &err) == 0, "graph_check: %s", err.msg);
}

static const node *first_style_conv(const graph *g) {
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == OP_CONV && g->nodes[i].in[0] == GRAPH_INPUT(1)) return &g->nodes[i];
    return NULL;
}

static void test_transfer(const tensor_dict *fx) {
    const char *f16 = tu_shared(DIR "style_transfer_f16_384.tflite");
    const char *q8 = tu_shared(DIR "style_transfer_quantized_384.tflite");
    graph g = {0}, q = {0};
    if (f16) check_transfer(f16, &g, 1e-10f);
    if (g.n_nodes) {
        const node *c0 = &g.nodes[1], *s0 = first_style_conv(&g), *last = &g.nodes[g.n_nodes - 3];
        CHECK(c0->k == 9 && c0->cin == 3 && c0->cout == 8 && last->k == 9 && last->cout == 3, "convs");
        same_values(fx, "f16/conv0/weight", c0->weight, conv_weights(c0));
        same_values(fx, "f16/conv0/bias", c0->bias, 8);
        same_values(fx, "f16/style0/weight", s0->weight, conv_weights(s0));
        same_values(fx, "f16/style0/bias", s0->bias, 32);
        same_values(fx, "f16/last/weight", last->weight, conv_weights(last));
        for (int i = 0; i < g.n_nodes; i++)
            if (g.nodes[i].op == OP_INSTNORM) same_values(fx, "f16/eps", &g.nodes[i].eps, 1);
    }
    if (q8) check_transfer(q8, &q, 2e-7f); /* int8 epsilon: scale x q */
    if (q.n_nodes) {
        const node *c0 = &q.nodes[1];
        same_values(fx, "q8/conv0/weight", c0->weight, conv_weights(c0));
        same_values(fx, "q8/conv0/bias", c0->bias, 8);
    }
    if (g.n_nodes && q.n_nodes) {
        /* the same network: int8 weights within a quantisation step of fp16 */
        for (int i = 0; i < g.n_nodes; i++) {
            const node *a = &g.nodes[i], *b = &q.nodes[i];
            CHECK(a->op == b->op && a->cout == b->cout && strcmp(a->name, b->name) == 0,
                  "node %d: %s vs %s", i, a->name, b->name);
            if (a->op != OP_CONV || a->op != b->op || a->cout != b->cout || a->cin != b->cin) continue;
            size_t n = conv_weights(a);
            float amax = 0, dmax = 0;
            for (size_t j = 0; j < n; j++) {
                amax = fmaxf(amax, fabsf(a->weight[j]));
                dmax = fmaxf(dmax, fabsf(a->weight[j] - b->weight[j]));
            }
            CHECK(dmax <= amax / 127 * 0.75f + 1e-3f, "%s: int8 and fp16 weights differ by %g (max %g)",
                  a->name, dmax, amax);
        }
    }
    graph_free(&g);
    graph_free(&q);
}

/* ---- damaged files ------------------------------------------------------ */

/* A load from exactly len bytes (its own allocation, so ASan sees overreads):
 * an error naming the file, or a graph that passes graph_check. */
static int load_copy(const unsigned char *b, size_t len, const char *ctx, nst_error *err) {
    unsigned char *c = malloc(len ? len : 1);
    memcpy(c, b, len);
    graph g;
    int rc = tflite_load_memory(c, len, "damaged.tflite", &g, err);
    free(c);
    if (rc) {
        CHECK(strstr(err->msg, "damaged.tflite: ") == err->msg, "%s: message %s", ctx, err->msg);
        CHECK(g.n_nodes == 0 && !g.nodes && !g.params, "%s: graph not left empty", ctx);
        return rc;
    }
    CHECK(graph_check(&g, err) == 0, "%s: loaded a graph failing graph_check: %s", ctx, err->msg);
    graph_free(&g);
    return 0;
}

static void truncations(const unsigned char *b, size_t len, const char *what) {
    nst_error err;
    char ctx[128];
    for (size_t n = 0; n < len; n = n < 200 ? n + 1 : n + len / 64) {
        snprintf(ctx, sizeof ctx, "%s cut to %zu bytes", what, n);
        CHECK(load_copy(b, n, ctx, &err) != 0, "%s: loaded", ctx);
    }
}

/* n flipped bytes, every other one in the last sixth of the file, where
 * the converter puts the tables (tensors, operators) after the weights. */
static void flips(unsigned char *b, size_t len, const char *what, int n, unsigned seed) {
    nst_error err;
    char ctx[128];
    int ok = 0;
    for (int k = 0; k < n; k++) {
        seed = seed * 1103515245u + 12345u;
        size_t pos = k % 2 ? len - 1 - (size_t)((seed >> 4) % (len / 6)) : (size_t)((seed >> 4) % len);
        unsigned char was = b[pos], x = (unsigned char)(1 + (seed >> 20) % 255);
        b[pos] ^= x;
        snprintf(ctx, sizeof ctx, "%s byte %zu ^ 0x%02x", what, pos, x);
        ok += load_copy(b, len, ctx, &err) == 0;
        b[pos] = was;
    }
    printf("%s: %d of %d flipped bytes still load\n", what, ok, n);
}

static uint32_t u32(const unsigned char *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Patch every OperatorCode `from` into `to` (both fields, schema slots 0 and
 * 3) by walking Model.operator_codes (slot 1); the count patched. */
static int patch_code(unsigned char *b, size_t len, int from, int to) {
    size_t root = u32(b);
    size_t vt = root - (int32_t)u32(b + root);
    size_t f = root + (b[vt + 6] | b[vt + 7] << 8); /* slot 1 */
    size_t vec = f + u32(b + f);
    int n = 0;
    for (uint32_t i = 0; i < u32(b + vec) && vec < len; i++) {
        size_t p = vec + 4 + 4 * i, t = p + u32(b + p);
        size_t tv = t - (int32_t)u32(b + t), vlen = b[tv] | b[tv + 1] << 8;
        size_t o0 = vlen >= 6 ? (size_t)(b[tv + 4] | b[tv + 5] << 8) : 0;
        size_t o3 = vlen >= 12 ? (size_t)(b[tv + 10] | b[tv + 11] << 8) : 0;
        int code = o0 ? (signed char)b[t + o0] : 0;
        if (o3 && (int32_t)u32(b + t + o3) > code) code = (int32_t)u32(b + t + o3);
        if (code != from) continue;
        if (o0) b[t + o0] = (unsigned char)to;
        if (o3) b[t + o3] = (unsigned char)to, b[t + o3 + 1] = b[t + o3 + 2] = b[t + o3 + 3] = 0;
        n++;
    }
    return n;
}

static void expect_fail(const unsigned char *b, size_t len, const char *what, const char *want) {
    nst_error err = {0};
    CHECK(load_copy(b, len, what, &err) != 0, "%s: loaded", what);
    CHECK(strstr(err.msg, want) != NULL, "%s: message lacks '%s': %s", what, want, err.msg);
}

static void test_damaged(void) {
    const char *f16 = tu_shared(DIR "style_transfer_f16_384.tflite");
    const char *pred = tu_shared(DIR "style_predict_quantized_256.tflite");
    graph g;
    nst_error err = {0};
    CHECK(tflite_load("/nonexistent/x.tflite", &g, &err) != 0 &&
              strstr(err.msg, "/nonexistent/x.tflite"),
          "missing file: %s", err.msg);
    if (!f16 || !pred) return;
    size_t len, plen;
    unsigned char *b = tu_read_file(f16, &len), *p = tu_read_file(pred, &plen);
    CHECK(b && p, "cannot read the magenta files");
    if (!b || !p) {
        free(b), free(p);
        return;
    }
    CHECK(load_copy(b, len, "intact copy", &err) == 0, "intact copy: %s", err.msg);
    truncations(b, len, "transfer");
    truncations(p, plen, "predictor");
    flips(b, len, "transfer", 2000, 1);
    flips(p, plen, "predictor", 200, 2);

    unsigned char *c = malloc(len);
    memcpy(c, b, len);
    c[4] = 'X';
    expect_fail(c, len, "wrong identifier", "no TFL3 identifier");
    memcpy(c, b, len);
    CHECK(patch_code(c, len, 14, 22) == 1, "no LOGISTIC code to patch");
    expect_fail(c, len, "LOGISTIC patched to RESHAPE",
                "operator RESHAPE (subgraph 0, operator 284) is not supported");
    memcpy(c, b, len);
    CHECK(patch_code(c, len, 76, 14) == 1, "no RSQRT code to patch");
    expect_fail(c, len, "RSQRT patched to LOGISTIC", "not supported outside an instance norm");
    memcpy(c, b, len);
    CHECK(patch_code(c, len, 100, 34) == 1, "no MIRROR_PAD code to patch");
    expect_fail(c, len, "MIRROR_PAD patched to PAD",
                "operator PAD (subgraph 0, operator 0) is not supported");
    free(c);
    free(b);
    free(p);
}

int main(void) {
    tensor_dict fx;
    tu_load_fixture("tflite.bin", &fx);
    test_predictor(&fx);
    test_transfer(&fx);
    test_damaged();
    dict_free(&fx);
    return tu_finish();
}
