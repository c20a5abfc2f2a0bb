/* keras_net.c: a Keras model read from TensorFlow.js -> graph (a chain).
 *
 * Conv2D kernels are HWIO [kh][kw][in][out]; the net wants OIHW. A
 * BatchNormalization after a conv is folded into it (inference statistics):
 *   s = gamma / sqrt(var + eps),  W' = W * s,  b' = beta + (bias - mean) * s
 * per output channel, so the net's conv2d_N outputs the post-BN value. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/net.h"

typedef struct {
    const tfjs_model *m;
    nst_error *err;
} ctx;

/* Weight `layer/suffix`, which must have `ndim` dimensions `shape`. */
static const tensor *weight(ctx *c, const char *layer, const char *suffix, int ndim,
                                const int64_t *shape) {
    char key[160];
    snprintf(key, sizeof key, "%s/%s", layer, suffix);
    const tensor *t = dict_get(&c->m->weights, key);
    if (!t) {
        nst_fail(c->err, NST_ERR_FORMAT, "%s: missing weight %s", c->m->path, key);
        return NULL;
    }
    int ok = t->ndim == ndim;
    for (int k = 0; ok && k < ndim; k++) ok = t->shape[k] == shape[k];
    if (!ok) {
        char want[96] = "", got[96] = "";
        size_t a = 0, b = 0;
        for (int k = 0; k < ndim && a < sizeof want; k++)
            a += (size_t)snprintf(want + a, sizeof want - a, "%s%lld", k ? "," : "", (long long)shape[k]);
        for (int k = 0; k < t->ndim && b < sizeof got; k++)
            b += (size_t)snprintf(got + b, sizeof got - b, "%s%lld", k ? "," : "", (long long)t->shape[k]);
        nst_fail(c->err, NST_ERR_FORMAT, "%s: weight %s has shape [%s], expected [%s]", c->m->path,
                 key, got, want);
        return NULL;
    }
    return t;
}

/* Walk the supported prefix of the model. With net->nodes NULL only count
 * nodes and parameters; otherwise fill them in. */
static int walk(ctx *c, graph *net, int *n_layers, size_t *n_params) {
    const tfjs_model *m = c->m;
    const char *path = m->path;
    int chans = 3, L = 0, convs = 0;
    size_t P = 0;
    for (int i = 0; i < m->n_layers; i++) {
        const keras_layer *k = &m->layers[i];
        const char *cls = k->class_name;
        node *out = net->nodes ? &net->nodes[L] : NULL;
        if (strcmp(cls, "InputLayer") == 0) continue;
        if (strcmp(cls, "Conv2D") == 0) {
            int relu = strcmp(k->activation, "relu") == 0;
            if (!relu && strcmp(k->activation, "linear") != 0)
                return nst_fail(c->err, NST_ERR_FORMAT,
                                "%s: %s has activation %s; only linear and relu are supported",
                                path, k->name, k->activation);
            if (!k->channels_last || k->kernel_h != k->kernel_w || k->kernel_h < 1 ||
                k->stride_h != k->stride_w || k->stride_h < 1 || k->filters < 1 ||
                (!k->same_padding && k->kernel_h != 1))
                return nst_fail(c->err, NST_ERR_FORMAT,
                                "%s: %s: only square channels_last convs with equal strides and "
                                "'same' padding are supported", path, k->name);
            int kk = k->kernel_h, cout = k->filters;
            const tensor *W = weight(c, k->name, "kernel", 4,
                                         (int64_t[]){kk, kk, chans, cout});
            const tensor *B = NULL;
            if (!W || (k->use_bias && !(B = weight(c, k->name, "bias", 1, (int64_t[]){cout}))))
                return c->err->code;
            const keras_layer *bn = NULL;
            if (i + 1 < m->n_layers && strcmp(m->layers[i + 1].class_name, "BatchNormalization") == 0) {
                bn = &m->layers[++i];
                if (relu)
                    return nst_fail(c->err, NST_ERR_FORMAT,
                                    "%s: %s follows a relu-activated conv and cannot be folded into it",
                                    path, bn->name);
                if (!bn->channels_last)
                    return nst_fail(c->err, NST_ERR_FORMAT,
                                    "%s: %s normalises an axis other than the channels", path, bn->name);
            }
            const tensor *g = NULL, *be = NULL, *mu = NULL, *var = NULL;
            if (bn && (!(g = weight(c, bn->name, "gamma", 1, (int64_t[]){cout})) ||
                       !(be = weight(c, bn->name, "beta", 1, (int64_t[]){cout})) ||
                       !(mu = weight(c, bn->name, "moving_mean", 1, (int64_t[]){cout})) ||
                       !(var = weight(c, bn->name, "moving_variance", 1, (int64_t[]){cout}))))
                return c->err->code;
            size_t nw = (size_t)kk * kk * chans * cout, nb = B || bn ? (size_t)cout : 0;
            if (out) {
                *out = graph_chain_node(L, OP_CONV, k->name, chans, cout);
                out->k = kk;
                out->stride = k->stride_h;
                out->pad = k->same_padding ? PAD_SAME : PAD_VALID;
                out->weight = net->params + P;
                out->bias = nb ? net->params + P + nw : NULL;
                for (int o = 0; o < cout; o++) {
                    double s = bn ? g->data[o] / sqrt((double)var->data[o] + bn->epsilon) : 1.0;
                    double bias = B ? B->data[o] : 0.0;
                    if (nb) out->bias[o] = (float)(bn ? be->data[o] + (bias - mu->data[o]) * s : bias);
                    for (int ci = 0; ci < chans; ci++)
                        for (int y = 0; y < kk; y++)
                            for (int x = 0; x < kk; x++)
                                out->weight[((size_t)(o * chans + ci) * kk + y) * kk + x] =
                                    (float)(W->data[((size_t)(y * kk + x) * chans + ci) * cout + o] * s);
                }
            }
            P += nw + nb;
            L++;
            convs++;
            chans = cout;
            if (relu) {
                /* Keras' conv output is post-relu; the net names the linear
                 * part after the conv and the relu "<conv>_relu" */
                if (out) {
                    char name[64];
                    snprintf(name, sizeof name, "%.58s_relu", k->name);
                    out[1] = graph_chain_node(L, OP_ACT, name, chans, chans);
                    out[1].act = ACT_RELU;
                }
                L++;
            }
        } else if (strcmp(cls, "BatchNormalization") == 0) {
            return nst_fail(c->err, NST_ERR_FORMAT,
                            "%s: %s does not follow a Conv2D, so it cannot be folded", path, k->name);
        } else if (strcmp(cls, "LeakyReLU") == 0 || strcmp(cls, "ReLU") == 0 ||
                   (strcmp(cls, "Activation") == 0 && strcmp(k->activation, "relu") == 0)) {
            if (out) {
                *out = graph_chain_node(L, OP_ACT, k->name, chans, chans);
                out->act = ACT_RELU;
                out->alpha = strcmp(cls, "LeakyReLU") == 0 ? k->alpha : 0.0f;
            }
            L++;
        } else if (strcmp(cls, "MaxPooling2D") == 0) {
            if (!k->channels_last || k->pool_h != k->pool_w || k->stride_h != k->pool_h ||
                k->stride_w != k->pool_w || k->pool_h < 1 || !k->same_padding)
                return nst_fail(c->err, NST_ERR_FORMAT,
                                "%s: %s: only square 'same' max pooling with stride equal to the "
                                "pool size is supported", path, k->name);
            if (out) {
                *out = graph_chain_node(L, OP_POOL, k->name, chans, chans);
                out->k = out->stride = k->pool_h;
            }
            L++;
        } else {
            break; /* the classifier head: not needed for features */
        }
    }
    if (convs == 0)
        return nst_fail(c->err, NST_ERR_FORMAT, "%s: the model starts with no Conv2D layers", path);
    *n_layers = L;
    *n_params = P;
    return NST_OK;
}

int net_from_keras(const tfjs_model *m, graph *net, nst_error *err) {
    ctx c = {m, err};
    int n_layers;
    size_t n_params;
    memset(net, 0, sizeof *net);
    if (walk(&c, net, &n_layers, &n_params)) return err->code;
    if (graph_alloc(net, n_layers, n_params, err)) return err->code;
    walk(&c, net, &n_layers, &n_params); /* the counting pass validated everything */
    /* named after the model's directory ("darknet-tiny") */
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", m->path);
    char *end = strrchr(dir, '/');
    if (end) *end = 0;
    for (size_t n = strlen(dir); n > 1 && dir[n - 1] == '/'; n--) dir[n - 1] = 0;
    const char *base = end ? strrchr(dir, '/') : NULL;
    snprintf(net->name, sizeof net->name, "%.63s", !end ? "model" : base ? base + 1 : dir);
    snprintf(net->path, sizeof net->path, "%s", m->path);
    for (int ch = 0; ch < 3; ch++) {
        net->in_scale[ch] = 1.0f / 255.0f; /* the model takes RGB in [0, 1] */
        net->in_shift[ch] = 0.0f;
    }
    return NST_OK;
}
