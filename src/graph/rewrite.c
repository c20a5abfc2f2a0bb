/* rewrite.c: the plan's optimisations, each a rewrite of its step list
 * (plan.h) once the shapes are known. A rewrite merges a step into another
 * (the merged one is marked dead and its readers read the survivor, which
 * takes its name for the taps) or sets an attribute the executor honours;
 * plan.c then drops the dead steps. None changes what the network computes. */
#include <string.h>

#include "graph/plan.h"

static int tapped(const plan *p, const step *s) {
    return p->o.tapped && s->src >= 0 && p->o.tapped[s->src];
}

/* Readers of step i among the live steps (an image output counts as one). */
static int readers(const plan *p, int i, int *only) {
    int n = 0;
    for (int j = i + 1; j < p->n_steps; j++) {
        const step *s = &p->S[j];
        if (s->dead) continue;
        for (int k = 0; k < s->nd.n_in; k++)
            if (s->in[k] == i) n++, *only = j;
        if (s->skip == i) n++, *only = j;
    }
    if (p->g->image_out && i == p->n_steps - 1) n++, *only = -1;
    return n;
}

/* The single reader of step i when i is not tapped, else -1. */
static int sole_reader(const plan *p, int i) {
    int only = -1;
    return !tapped(p, &p->S[i]) && readers(p, i, &only) == 1 ? only : -1;
}

/* Step `gone` is replaced by `by`: its readers read `by`, which takes its name. */
static void merge(plan *p, int gone, int by) {
    for (int j = gone + 1; j < p->n_steps; j++) {
        step *s = &p->S[j];
        for (int k = 0; k < s->nd.n_in; k++)
            if (s->in[k] == gone) s->in[k] = by;
        if (s->skip == gone) s->skip = by;
    }
    p->S[by].src = p->S[gone].src;
    p->S[by].c = p->S[gone].c, p->S[by].h = p->S[gone].h, p->S[by].w = p->S[gone].w;
    memcpy(p->S[by].nd.name, p->S[gone].nd.name, sizeof p->S[by].nd.name);
    p->S[gone].dead = 1;
}

/* Height and width of a step's input k. */
static void in_hw(const plan *p, int k, int *h, int *w) {
    if (k >= 0) *h = p->S[k].h, *w = p->S[k].w;
    else if (k == GRAPH_INPUT(0)) *h = p->h, *w = p->w;
    else *h = *w = 1;
}

/* --padding reflect: a 'SAME' convolution reads its input reflected at the
 * border instead of zero-padded, by the same amounts, where they are smaller
 * than the map (deep layers of a tiny image keep zeros). */
static void reflect_same(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->nd.op != OP_CONV || s->nd.pad != PAD_SAME || s->nd.k == 1) continue;
        int h, w, oh, ow, t, b, l, r;
        in_hw(p, s->in[0], &h, &w);
        same_padding(h, s->nd.k, s->nd.stride, &oh, &t, &b);
        same_padding(w, s->nd.k, s->nd.stride, &ow, &l, &r);
        if (t < h && b < h && l < w && r < w) {
            s->nd.pad = PAD_REFLECT;
            s->nd.pads[0] = t, s->nd.pads[1] = l, s->nd.pads[2] = b, s->nd.pads[3] = r;
        }
    }
}

/* 'SAME' convolutions that read the image, or have kernels wider than 3,
 * pad their input themselves, with zeros (pad.c): oneDNN 2.6's direct
 * kernels on AVX2 take neither an NCHW input with padding of its own (it
 * falls back to im2col + GEMM, which writes NCHW and so keeps every later
 * layer on GEMM) nor a 9 x 9 kernel's padding of 4 on a blocked input (its
 * reference code, a thousand times slower). Padding an image's 3 channels
 * is cheap, and a thin 9 x 9 layer then runs split, padding its rows in
 * cache (split_thin_conv). Measured on an AMD EPYC (AVX2, 2 threads,
 * bench_feedforward apply, median of 3, before and after interleaved): the
 * scream network at 512 px 0.80 s before, 0.34 s after; at 1024 px 3.6 s,
 * 1.42 s. */
static void pad_same_explicitly(plan *p) {
    /* Forward only: training would then run a thin 9 x 9 layer's backward
     * on blocked layouts, where oneDNN 2.6 on AVX2 has only its reference
     * code for 3 outputs (9.6 s a step at batch 4, 64 px, against
     * milliseconds on GEMM) */
    if (p->o.grads) return;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_CONV || s->nd.pad != PAD_SAME || s->nd.k == 1 ||
            (s->in[0] != GRAPH_INPUT(0) && s->nd.k <= 3))
            continue;
        int h, w, oh, ow, t, b, l, r;
        in_hw(p, s->in[0], &h, &w);
        same_padding(h, s->nd.k, s->nd.stride, &oh, &t, &b);
        same_padding(w, s->nd.k, s->nd.stride, &ow, &l, &r);
        s->nd.pad = PAD_ZERO;
        s->nd.pads[0] = t, s->nd.pads[1] = l, s->nd.pads[2] = b, s->nd.pads[3] = r;
    }
}

/* A reflect pad read only by a 'VALID' convolution: one reflect-padded
 * convolution (TensorFlow Lite's MIRROR_PAD + CONV_2D). */
static void merge_pad_conv(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_PAD) continue;
        int j = sole_reader(p, i);
        if (j < 0 || p->S[j].nd.op != OP_CONV || p->S[j].nd.pad != PAD_VALID) continue;
        step *c = &p->S[j];
        c->nd.pad = PAD_REFLECT;
        memcpy(c->nd.pads, s->nd.pads, sizeof c->nd.pads);
        c->in[0] = s->in[0];
        s->dead = 1;
    }
}

/* A ReLU / LeakyReLU after a convolution that nothing else reads: a
 * post-op of the convolution (oneDNN applies it as it writes). */
static void fuse_conv_act(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_CONV || s->nd.act != ACT_NONE) continue;
        int j = sole_reader(p, i);
        if (j < 0 || p->S[j].nd.op != OP_ACT || p->S[j].nd.act != ACT_RELU) continue;
        s->nd.act = ACT_RELU, s->nd.alpha = p->S[j].nd.alpha;
        merge(p, j, i);
    }
}

/* Instance norm then a residual add then ReLU, each read only by the
 * next: one pass, y = relu(IN(x) + skip) (the style networks' blocks). */
static void fuse_norm(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_INSTNORM || s->nd.act != ACT_NONE) continue;
        int j = sole_reader(p, i);
        if (j >= 0 && p->S[j].nd.op == OP_ADD && s->skip < 0) {
            int other = p->S[j].in[0] == i ? p->S[j].in[1] : p->S[j].in[0];
            if (other < i && other != i) {
                s->skip = other;
                merge(p, j, i);
                j = sole_reader(p, i);
            }
        }
        if (j >= 0 && p->S[j].nd.op == OP_ACT && p->S[j].nd.act == ACT_RELU && p->S[j].nd.alpha == 0) {
            s->nd.act = ACT_RELU;
            merge(p, j, i);
        }
    }
}

/* Max pooling after a convolution's ReLU / LeakyReLU that nothing else
 * reads: with a monotone activation the window's argmax is the same before
 * and after it, so act'(x) at the argmax is act'(pooled output) and the
 * activation's backward runs on the pooled gradient, 4x smaller. */
static void pool_after_act(plan *p) {
    if (!p->o.grads) return;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_CONV || s->nd.act != ACT_RELU) continue;
        int j = sole_reader(p, i);
        if (j < 0 || p->S[j].nd.op != OP_POOL || p->S[j].nd.pool_avg) continue;
        s->act_in_pool = 1;
        p->S[j].pool_act = ACT_RELU, p->S[j].pool_alpha = s->nd.alpha;
    }
}

/* bf16: the convolution that reads the image runs in float32 and its output
 * is converted: an image in bfloat16 would be rounded to about one grey
 * level, which makes the loss flat for the small steps an optimiser starts
 * with (L-BFGS's first step would change nothing and stop it). It has 3
 * input channels: a small share of the work. */
static void first_conv_f32(plan *p) {
    if (p->o.precision != NST_PRECISION_BF16) return;
    for (int i = 0; i < p->n_steps; i++)
        if (!p->S[i].dead && p->S[i].nd.op == OP_CONV && p->S[i].in[0] == GRAPH_INPUT(0))
            p->S[i].to_bf16 = 1;
}

/* Forward in float32: a k x k convolution to at most 8 channels (a style
 * network's first and last layers) runs split (split_conv.c): its 1 x k
 * convolution to k cout channels keeps oneDNN's kernels busy where a
 * direct one to 8 channels or fewer waits on loads. */
static void split_thin_conv(plan *p) {
    if (p->o.grads || p->o.precision == NST_PRECISION_BF16) return;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        const node *nd = &s->nd;
        int act_ok = nd->act == ACT_NONE || (nd->act == ACT_RELU && nd->alpha >= 0 && nd->alpha <= 1);
        if (s->dead || nd->op != OP_CONV || nd->cout > 8 || nd->k < 3 || nd->stride != 1 || nd->groups > 1 ||
            !act_ok || nd->pad == PAD_SAME)
            continue;
        s->split = 1;
    }
}

/* Forward: a nearest upsampling read only by a reflect-padded convolution
 * is not written; the padding reads through it (pad.c), which saves
 * writing and reading the upsampled map (4x its input) once. */
static void pad_reads_upsample(plan *p) {
    if (p->o.grads) return;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead || s->nd.op != OP_UPSAMPLE || s->in[0] < 0) continue;
        int j = sole_reader(p, i);
        if (j < 0 || p->S[j].nd.op != OP_CONV || p->S[j].nd.pad != PAD_REFLECT || p->S[j].in[0] != i) continue;
        p->S[j].up = s->nd.factor;
        p->S[j].in[0] = s->in[0];
        s->dead = 1;
    }
}

void rewrite_plan(plan *p) {
    if (p->o.pooling == NST_POOL_AVG)
        for (int i = 0; i < p->n_steps; i++)
            if (p->S[i].nd.op == OP_POOL) p->S[i].nd.pool_avg = 1;
    if (p->o.padding == NST_PAD_REFLECT) reflect_same(p);
    merge_pad_conv(p);
    pad_same_explicitly(p);
    fuse_conv_act(p);
    fuse_norm(p);
    pool_after_act(p);
    first_conv_f32(p);
    split_thin_conv(p);
    pad_reads_upsample(p);
}
