/* generator.c: the feed-forward style network (see generator.h): building it
 * from a checkpoint, binding it to a size, running it forward. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/generator.h"

/* The architecture; layer i reads Variable_{3i}, _{3i+1}, _{3i+2}. */
static const struct {
    int deconv, cin, cout, k, stride, relu, skip;
} arch[GEN_LAYERS] = {
    {0, 3, 32, 9, 1, 1, -1},    {0, 32, 64, 3, 2, 1, -1},   {0, 64, 128, 3, 2, 1, -1},
    {0, 128, 128, 3, 1, 1, -1}, {0, 128, 128, 3, 1, 0, 3},  {0, 128, 128, 3, 1, 1, -1},
    {0, 128, 128, 3, 1, 0, 5},  {0, 128, 128, 3, 1, 1, -1}, {0, 128, 128, 3, 1, 0, 7},
    {0, 128, 128, 3, 1, 1, -1}, {0, 128, 128, 3, 1, 0, 9},  {0, 128, 128, 3, 1, 1, -1},
    {0, 128, 128, 3, 1, 0, 11}, {1, 128, 64, 3, 2, 1, -1},  {1, 64, 32, 3, 2, 1, -1},
    {0, 32, 3, 9, 1, 0, -1},
};

const char *gen_upsample_name(gen_upsample u) { return u == GEN_UP_NEAREST ? "nearest" : "deconv"; }

int gen_upsample_parse(const char *s) {
    return !s ? -1 : !strcmp(s, "deconv") ? GEN_UP_DECONV : !strcmp(s, "nearest") ? GEN_UP_NEAREST : -1;
}

void gen_var_name(int k, char *out, size_t n) {
    if (k == 0) snprintf(out, n, "Variable");
    else snprintf(out, n, "Variable_%d", k);
}

static void shape_str(const int64_t *s, int ndim, char *out, size_t n) {
    size_t at = 0;
    out[at++] = '[';
    for (int i = 0; i < ndim && at < n; i++)
        at += (size_t)snprintf(out + at, n - at, "%s%lld", i ? "," : "", (long long)s[i]);
    snprintf(out + (at < n ? at : n - 1), n - (at < n ? at : n - 1), "]");
}

/* The variable k, which must have exactly the shape want[0..ndim-1]. */
static const nst_tensor *need(const nst_tensor_dict *d, const char *dir, int k, int ndim,
                              const int64_t *want, nst_error *err) {
    char name[32], got[96], exp[96];
    gen_var_name(k, name, sizeof name);
    const nst_tensor *t = nst_dict_get(d, name);
    shape_str(want, ndim, exp, sizeof exp);
    if (!t) {
        nst_fail(err, NST_ERR_RUNTIME, "%s: variable %s is missing (expected shape %s)", dir, name, exp);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == want[i];
    if (!same) {
        shape_str(t->shape, t->ndim, got, sizeof got);
        nst_fail(err, NST_ERR_RUNTIME, "%s: %s has shape %s, expected %s", dir, name, got, exp);
        return NULL;
    }
    return t;
}

int gen_alloc(struct nst_generator *g, const char *path, gen_upsample up, nst_error *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    g->upsample = up;
    for (int i = 0; i < GEN_LAYERS; i++)
        g->n_params += (size_t)arch[i].k * arch[i].k * arch[i].cin * arch[i].cout + 2 * arch[i].cout;
    g->params = calloc(g->n_params, sizeof(float));
    if (!g->params) return nst_fail(err, NST_ERR_RUNTIME, "%s: out of memory", path);
    float *q = g->params;
    for (int i = 0; i < GEN_LAYERS; i++) {
        gen_layer *L = &g->layers[i];
        int k = arch[i].k, ci = arch[i].cin, co = arch[i].cout;
        *L = (gen_layer){arch[i].deconv, 0, ci, co, k, arch[i].stride, arch[i].relu, arch[i].skip,
                         NULL, NULL, NULL};
        if (L->deconv && up == GEN_UP_NEAREST) L->deconv = 0, L->up = L->stride, L->stride = 1;
        L->weight = q, q += (size_t)k * k * ci * co;
        L->shift = q, q += co;
        L->scale = q, q += co;
    }
    return NST_OK;
}

void gen_kernel_shape(const gen_layer *L, int64_t shape[4]) {
    shape[0] = shape[1] = L->k;
    shape[2] = L->deconv ? L->cout : L->cin;
    shape[3] = L->deconv ? L->cin : L->cout;
}

/* Index in our layout of TF index src: conv w[o][i][y][x] = K[y][x][i][o];
 * deconv w[i][o][y][x] = K[y][x][o][i]. */
static size_t from_tf(const gen_layer *L, size_t src) {
    size_t kk = (size_t)L->k * L->k, a = L->deconv ? L->cin : L->cout, b = L->deconv ? L->cout : L->cin;
    size_t outer = src % a, inner = src / a % b, yx = src / a / b; /* K[yx][inner][outer] */
    return (outer * b + inner) * kk + yx;
}

void gen_kernel_convert(const gen_layer *L, const float *src, float *dst, int to_tf) {
    size_t n = (size_t)L->k * L->k * L->cin * L->cout;
    for (size_t s = 0; s < n; s++) {
        if (to_tf) dst[s] = src[from_tf(L, s)];
        else dst[from_tf(L, s)] = src[s];
    }
}

/* Variables named Variable* make up the network; a checkpoint of nst train
 * also carries its training state under other names. */
static int count_variables(const nst_tensor_dict *d) {
    int n = 0;
    for (int i = 0; i < d->count; i++) n += strncmp(d->t[i].name, "Variable", 8) == 0;
    return n;
}

int gen_from_dict(const nst_tensor_dict *d, const char *dir, gen_upsample up,
                  struct nst_generator *g, nst_error *err) {
    int nv = count_variables(d);
    if (nv != 3 * GEN_LAYERS)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: %d variables, expected %d (not a style network "
                        "of fast-style-transfer?)", dir, nv, 3 * GEN_LAYERS);
    int rc = gen_alloc(g, dir, up, err);
    for (int i = 0; i < GEN_LAYERS && !rc; i++) {
        gen_layer *L = &g->layers[i];
        int64_t ks[4], vs[1] = {L->cout};
        gen_kernel_shape(L, ks);
        const nst_tensor *kt = need(d, dir, 3 * i, 4, ks, err);
        const nst_tensor *sh = kt ? need(d, dir, 3 * i + 1, 1, vs, err) : NULL;
        const nst_tensor *sc = sh ? need(d, dir, 3 * i + 2, 1, vs, err) : NULL;
        if (!sc) {
            rc = NST_ERR_RUNTIME;
            break;
        }
        gen_kernel_convert(L, kt->data, L->weight, 0);
        memcpy(L->shift, sh->data, L->cout * sizeof(float));
        memcpy(L->scale, sc->data, L->cout * sizeof(float));
    }
    if (rc) {
        free(g->params);
        g->params = NULL;
    }
    return rc;
}

int nst_generator_load(const char *path, nst_generator **out, nst_error *err) {
    *out = NULL;
    nst_tensor_dict d = {0};
    struct stat st;
    gen_upsample up = GEN_UP_DECONV; /* deeplearn.js checkpoints: the ml5 networks */
    int rc = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? gen_checkpoint_read(path, &d, &up, err)
                                                          : nst_dljs_load(path, &d, err);
    nst_generator *g = rc ? NULL : calloc(1, sizeof *g);
    if (!rc && !g) rc = nst_fail(err, NST_ERR_RUNTIME, "%s: out of memory", path);
    if (!rc) rc = gen_from_dict(&d, path, up, g, err);
    nst_dict_free(&d);
    if (rc) {
        free(g);
        return rc;
    }
    *out = g;
    return NST_OK;
}

void nst_generator_free(nst_generator *g) {
    if (!g) return;
    free(g->params);
    free(g);
}

/* ---- plan ----------------------------------------------------------------
 * Activations stay in oneDNN's blocked layouts (nChw16c on AVX-512, where
 * its jit direct and Winograd convolutions run) from the first convolution's
 * output to the last one's; instance norm, upsampling, the residual adds and
 * ReLU work on that layout directly. Only the image in and the output out
 * are NCHW. */

static size_t numel(int n, int c, int h, int w) { return (size_t)n * c * h * w; }

/* Shapes of every layer's output: conv 'SAME' ceil(in / stride) (after the
 * upsampling x up), deconv x stride. */
static void gen_shapes(gen_plan *p) {
    int h = p->h, w = p->w, t, b;
    for (int i = 0; i < GEN_LAYERS; i++) {
        const gen_layer *gl = &p->g->layers[i];
        gen_plan_layer *L = &p->L[i];
        if (gl->up) h *= gl->up, w *= gl->up;
        if (gl->deconv) {
            h *= gl->stride, w *= gl->stride;
        } else {
            same_padding(h, gl->k, gl->stride, &h, &t, &b);
            same_padding(w, gl->k, gl->stride, &w, &t, &b);
        }
        L->c = gl->cout, L->h = h, L->w = w;
    }
}

/* Layout of layer i's input: the image's NCHW for layer 0. */
static int in_block(const gen_plan *p, int i) { return i ? p->L[i - 1].block : 1; }

/* Elements of layer i's output, and of its upsampled input (0 without
 * upsampling: the conv after it has stride 1, so it is as large as the
 * output), in their layouts. */
static size_t out_numel(const gen_plan *p, int i) {
    const gen_plan_layer *L = &p->L[i];
    return nst_blocked_numel(p->n, L->c, L->h, L->w, L->block);
}
static size_t up_numel(const gen_plan *p, int i) {
    const gen_plan_layer *L = &p->L[i];
    return p->g->layers[i].up ? nst_blocked_numel(p->n, p->g->layers[i].cin, L->h, L->w, in_block(p, i))
                              : 0;
}

/* Point every activation into the arena (q == NULL: only count). keep = 0:
 * the conv outputs share one scratch buffer, the upsampled inputs another,
 * and the layer outputs alternate between two; a residual layer writes into
 * its own input (consumed by its conv already), so the block input, in the
 * other buffer, survives until the residual add. keep = 1: the gradient
 * buffers also hold dL/d(upsampled input) and layer 0's input gradient in
 * oneDNN's layout. */
static size_t gen_layout(gen_plan *p, float *q) {
    size_t at = 0, mx = 0, mxup = 0;
#define TAKE(ptr, count) ((ptr) = q ? q + at : NULL, at += (count))
    TAKE(p->input, numel(p->n, 3, p->h, p->w));
    TAKE(p->output, numel(p->n, 3, p->h, p->w));
    for (int i = 0; i < GEN_LAYERS; i++) {
        gen_plan_layer *L = &p->L[i];
        TAKE(L->mean, (size_t)p->n * L->c);
        TAKE(L->rstd, (size_t)p->n * L->c);
        if (out_numel(p, i) > mx) mx = out_numel(p, i);
        if (up_numel(p, i) > mxup) mxup = up_numel(p, i);
    }
    float *scratch = NULL, *upbuf = NULL, *buf[2] = {NULL, NULL};
    if (!p->keep) TAKE(scratch, mx), TAKE(upbuf, mxup), TAKE(buf[0], mx), TAKE(buf[1], mx);
    else {
        size_t dx0 = nst_blocked_numel(p->n, 3, p->h, p->w, 16); /* at most 16 lanes */
        if (mxup > mx) mx = mxup;
        if (dx0 > mx) mx = dx0;
        TAKE(p->grad[0], mx), TAKE(p->grad[1], mx), TAKE(p->grad[2], mx), TAKE(p->grad[3], mx);
    }
    const float *in = p->input;
    for (int i = 0; i < GEN_LAYERS; i++) {
        gen_plan_layer *L = &p->L[i];
        L->in = in;
        if (p->keep) {
            if (up_numel(p, i)) TAKE(L->up, up_numel(p, i));
            TAKE(L->pre, out_numel(p, i));
            TAKE(L->out, out_numel(p, i));
        } else if (q) {
            if (up_numel(p, i)) L->up = upbuf;
            L->pre = scratch;
            L->out = p->g->layers[i].skip >= 0 ? (float *)in : in == buf[0] ? buf[1] : buf[0];
        }
        in = L->out;
    }
#undef TAKE
    return at;
}

/* The convolutions, bound to the shapes; each layer's output layout is the
 * one its convolution picked. */
static int gen_convs(gen_plan *p, nst_error *err) {
    const struct nst_generator *g = p->g;
    int rc = NST_OK, c = 3, ih = p->h, iw = p->w;
    for (int i = 0; i < GEN_LAYERS && !rc; i++) {
        const gen_layer *gl = &g->layers[i];
        gen_plan_layer *L = &p->L[i];
        int blk = i ? in_block(p, i) : 0; /* conv_setup_blocked's 0: the image */
        if (gl->deconv) {
            rc = deconv_setup(&L->deconv, blk, p->n, c, ih, iw, gl->cout, gl->k, gl->stride,
                              gl->weight, NULL, err);
            if (!rc && p->keep) rc = deconv_enable_training(&L->deconv, err);
            L->block = L->deconv.dst_block;
        } else {
            int oh, ow, t, b, l, r;
            if (gl->up) ih *= gl->up, iw *= gl->up;
            same_padding(ih, gl->k, gl->stride, &oh, &t, &b);
            same_padding(iw, gl->k, gl->stride, &ow, &l, &r);
            rc = conv_setup_blocked(&L->conv, blk, 0, 0, 0, p->n, c, ih, iw, gl->cout, gl->k, gl->k,
                                    gl->stride, t, l, b, r, gl->weight, NULL, err);
            if (!rc && p->keep) rc = conv_enable_training(&L->conv, err);
            L->block = L->conv.dst_block;
        }
        c = L->c, ih = L->h, iw = L->w;
    }
    if (!rc && p->keep) { /* layer 0's input gradient, oneDNN's layout -> NCHW */
        const dnnl_memory_desc_t *from;
        dnnl_memory_desc_t to;
        dnnl_memory_get_memory_desc(p->L[0].conv.p.m_dsrc, &from);
        nst_dnnl_md(&to, p->n, 3, p->h, p->w, 1, 0);
        rc = reorder_setup(&p->dx_reorder, from, &to, NULL, 0, err);
    }
    return rc;
}

int gen_plan_create(gen_plan *p, const struct nst_generator *g, int n, int h, int w, int keep,
                    nst_error *err) {
    memset(p, 0, sizeof *p);
    p->g = g, p->n = n, p->h = h, p->w = w, p->keep = keep;
    gen_shapes(p);
    int rc = gen_convs(p, err);
    size_t total = rc ? 0 : gen_layout(p, NULL);
    if (!rc && !(p->arena = calloc(total, sizeof(float))))
        rc = nst_fail(err, NST_ERR_RUNTIME,
                      "out of memory: a %dx%d image needs %.1f GiB of activations (try --tile)", w, h,
                      total * 4.0 / (1 << 30));
    if (rc) gen_plan_destroy(p);
    else gen_layout(p, p->arena);
    return rc;
}

/* Index of element (b, c, y, x) of an n x c x h x w tensor in layout block. */
static size_t blocked_at(int c_all, int h, int w, int block, int b, int c, int y, int x) {
    int lanes = nst_block_elems(block, c_all), cb = (c_all + lanes - 1) / lanes;
    return ((((size_t)b * cb + c / lanes) * h + y) * w + x) * lanes + c % lanes;
}

void gen_plan_forward(gen_plan *p, const float *image, int fixed_stats) {
    memcpy(p->input, image, numel(p->n, 3, p->h, p->w) * sizeof(float));
    for (int i = 0; i < GEN_LAYERS; i++) {
        const gen_layer *gl = &p->g->layers[i];
        gen_plan_layer *L = &p->L[i];
        int hw = L->h * L->w;
        if (gl->up) {
            int ih = p->L[i - 1].h, iw = p->L[i - 1].w; /* layer 0 does not upsample */
            upsample_forward(p->n, gl->cin, ih, iw, in_block(p, i), gl->up, L->in, L->up);
        }
        if (gl->deconv) deconv_forward(&L->deconv, L->in, L->pre);
        else conv_forward(&L->conv, gl->up ? L->up : L->in, L->pre);
        if (!fixed_stats) instnorm_stats(p->n, L->c, hw, L->block, GEN_IN_EPS, L->pre, L->mean, L->rstd);
        instnorm_apply(p->n, L->c, hw, L->block, L->pre, gl->scale, gl->shift, L->mean, L->rstd,
                       gl->skip >= 0 ? p->L[gl->skip].in : NULL, gl->relu, L->out);
    }
    /* y = 150 tanh(x) + 127.5, clipped to 0..255, top-left h x w kept */
    gen_plan_layer *last = &p->L[GEN_LAYERS - 1];
    tanh_forward(out_numel(p, GEN_LAYERS - 1), GEN_OUT_A, GEN_OUT_B, last->out, last->out);
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < p->h; y++) {
                float *dst = p->output + (((size_t)b * 3 + c) * p->h + y) * p->w;
                for (int x = 0; x < p->w; x++) {
                    float v = last->out[blocked_at(3, last->h, last->w, last->block, b, c, y, x)];
                    dst[x] = v < 0 ? 0 : v > 255 ? 255 : v;
                }
            }
}

/* Backward, layer by layer from the output (see generator.h for the clip).
 * grad[0] holds dL/d(output of layer i), grad[1] receives dL/d(its input),
 * grad[2] dL/d(conv output), grad[3] the residual branch's dL/d(block input)
 * until the block's first layer adds it to its input gradient. With
 * upsampling, grad[0] (free once grad[2] is computed) receives dL/d(the
 * upsampled input), which upsample_backward sums into grad[1]. */
void gen_plan_backward(gen_plan *p, const float *dout, float *grads, float *dx) {
    const struct nst_generator *g = p->g;
    float *d = p->grad[0], *din = p->grad[1], *dpre = p->grad[2], *dskip = p->grad[3];
    gen_plan_layer *last = &p->L[GEN_LAYERS - 1];
    /* un-crop: rows and columns beyond h x w (and padding lanes) did not
     * reach the output */
    memset(d, 0, out_numel(p, GEN_LAYERS - 1) * sizeof(float));
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < p->h; y++) {
                const float *src = dout + (((size_t)b * 3 + c) * p->h + y) * p->w;
                for (int x = 0; x < p->w; x++)
                    d[blocked_at(3, last->h, last->w, last->block, b, c, y, x)] = src[x];
            }
    tanh_backward(out_numel(p, GEN_LAYERS - 1), GEN_OUT_A, GEN_OUT_B, last->out, d, d);
    for (int i = GEN_LAYERS - 1; i >= 0; i--) {
        const gen_layer *gl = &g->layers[i];
        gen_plan_layer *L = &p->L[i];
        size_t m = out_numel(p, i);
        if (gl->relu) act_backward(0.0f, m, L->out, d, d);
        if (gl->skip >= 0) memcpy(dskip, d, m * sizeof(float)); /* y = IN(..) + x: dx = dy */
        instnorm_backward(p->n, L->c, L->h * L->w, L->block, L->pre, gl->scale, L->mean, L->rstd, d,
                          dpre, grads + (gl->scale - g->params), grads + (gl->shift - g->params));
        float *dw = grads + (gl->weight - g->params);
        if (gl->deconv) deconv_backward_weights(&L->deconv, L->in, dpre, dw, NULL);
        else conv_backward_weights(&L->conv, gl->up ? L->up : L->in, dpre, dw, NULL);
        if (i == 0) {
            if (dx) { /* layer 0 is a plain conv */
                conv_backward(&L->conv, dpre, din);
                reorder_run(&p->dx_reorder, din, dx);
            }
            break;
        }
        if (gl->deconv) deconv_backward(&L->deconv, dpre, din);
        else if (!gl->up) conv_backward(&L->conv, dpre, din);
        else {
            conv_backward(&L->conv, dpre, d);
            upsample_backward(p->n, gl->cin, p->L[i - 1].h, p->L[i - 1].w, in_block(p, i), gl->up, d,
                              din);
        }
        if (i + 1 < GEN_LAYERS && g->layers[i + 1].skip == i) {
            size_t mi = out_numel(p, i - 1);
            for (size_t k = 0; k < mi; k++) din[k] += dskip[k];
        }
        float *t = d;
        d = din, din = t;
    }
}

void gen_plan_weights_changed(gen_plan *p) {
    for (int i = 0; i < GEN_LAYERS; i++) {
        if (p->g->layers[i].deconv) deconv_weights_changed(&p->L[i].deconv);
        else conv_weights_changed(&p->L[i].conv);
    }
}

void gen_plan_destroy(gen_plan *p) {
    for (int i = 0; i < GEN_LAYERS; i++) {
        conv_destroy(&p->L[i].conv);
        deconv_destroy(&p->L[i].deconv);
    }
    reorder_destroy(&p->dx_reorder);
    free(p->arena);
    memset(p, 0, sizeof *p);
}
