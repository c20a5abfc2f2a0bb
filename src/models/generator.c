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
static const tensor *need(const tensor_dict *d, const char *dir, int k, int ndim,
                              const int64_t *want, nst_error *err) {
    char name[32], got[96], exp[96];
    gen_var_name(k, name, sizeof name);
    const tensor *t = dict_get(d, name);
    shape_str(want, ndim, exp, sizeof exp);
    if (!t) {
        nst_fail(err, NST_ERR_FORMAT, "%s: variable %s is missing (expected shape %s)", dir, name, exp);
        return NULL;
    }
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++) same = t->shape[i] == want[i];
    if (!same) {
        shape_str(t->shape, t->ndim, got, sizeof got);
        nst_fail(err, NST_ERR_FORMAT, "%s: %s has shape %s, expected %s", dir, name, got, exp);
        return NULL;
    }
    return t;
}

/* The graph of the layers (see gen_alloc), nodes into g->g.nodes (NULL:
 * count them). */
static int gen_nodes(struct nst_generator *g, node *out) {
    int n = 0, end[GEN_LAYERS]; /* end[i]: the node that outputs layer i */
    char name[64];
#define ADD_NODE(op_, what, c_)                                                            \
    (snprintf(name, sizeof name, "layer%d/%s", i, what),                                   \
     out ? (void)(out[n] = graph_chain_node(n, op_, name, c_, c_)) : (void)0, n++)
    for (int i = 0; i < GEN_LAYERS; i++) {
        const gen_layer *L = &g->layers[i];
        if (L->up) {
            ADD_NODE(OP_UPSAMPLE, "upsample", L->cin);
            if (out) out[n - 1].factor = L->up;
        }
        ADD_NODE(L->deconv ? OP_DECONV : OP_CONV, L->deconv ? "deconv" : "conv", L->cin);
        if (out) {
            node *c = &out[n - 1];
            c->cout = L->cout, c->k = L->k, c->stride = L->stride, c->weight = L->weight;
        }
        ADD_NODE(OP_INSTNORM, "norm", L->cout);
        if (out) out[n - 1].scale = L->scale, out[n - 1].shift = L->shift, out[n - 1].eps = GEN_IN_EPS;
        if (L->skip >= 0) {
            ADD_NODE(OP_ADD, "residual", L->cout);
            if (out) out[n - 1].n_in = 2, out[n - 1].in[1] = end[L->skip - 1];
        }
        if (L->relu) {
            ADD_NODE(OP_ACT, "relu", L->cout);
            if (out) out[n - 1].act = ACT_RELU;
        }
        end[i] = n - 1;
    }
    int i = GEN_LAYERS - 1;
    ADD_NODE(OP_ACT, "output", 3); /* y = 150 tanh(x) + 127.5 */
    if (out) out[n - 1].act = ACT_TANH, out[n - 1].a = GEN_OUT_A, out[n - 1].b = GEN_OUT_B;
#undef ADD_NODE
    return n;
}

void gen_free(struct nst_generator *g) {
    graph_free(&g->g);
    g->params = NULL;
}

int gen_alloc(struct nst_generator *g, const char *path, gen_upsample up, nst_error *err) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s", path);
    g->upsample = up;
    for (int i = 0; i < GEN_LAYERS; i++) {
        g->n_params += (size_t)arch[i].k * arch[i].k * arch[i].cin * arch[i].cout + 2 * arch[i].cout;
        g->layers[i].up = arch[i].deconv && up == GEN_UP_NEAREST ? arch[i].stride : 0;
        g->layers[i].skip = arch[i].skip, g->layers[i].relu = arch[i].relu;
    }
    if (graph_alloc(&g->g, gen_nodes(g, NULL), g->n_params, err))
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    g->params = g->g.params;
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
    gen_nodes(g, g->g.nodes);
    snprintf(g->g.name, sizeof g->g.name, "style network");
    snprintf(g->g.path, sizeof g->g.path, "%s", path);
    g->g.image_out = 1;
    return graph_check(&g->g, err);
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
static int count_variables(const tensor_dict *d) {
    int n = 0;
    for (int i = 0; i < d->count; i++) n += strncmp(d->t[i].name, "Variable", 8) == 0;
    return n;
}

int gen_from_dict(const tensor_dict *d, const char *dir, gen_upsample up,
                  struct nst_generator *g, nst_error *err) {
    int nv = count_variables(d);
    if (nv != 3 * GEN_LAYERS)
        return nst_fail(err, NST_ERR_FORMAT, "%s: %d variables, expected %d (not a style network "
                        "of fast-style-transfer?)", dir, nv, 3 * GEN_LAYERS);
    int rc = gen_alloc(g, dir, up, err);
    for (int i = 0; i < GEN_LAYERS && !rc; i++) {
        gen_layer *L = &g->layers[i];
        int64_t ks[4], vs[1] = {L->cout};
        gen_kernel_shape(L, ks);
        const tensor *kt = need(d, dir, 3 * i, 4, ks, err);
        const tensor *sh = kt ? need(d, dir, 3 * i + 1, 1, vs, err) : NULL;
        const tensor *sc = sh ? need(d, dir, 3 * i + 2, 1, vs, err) : NULL;
        if (!sc) {
            rc = err->code;
            break;
        }
        gen_kernel_convert(L, kt->data, L->weight, 0);
        memcpy(L->shift, sh->data, L->cout * sizeof(float));
        memcpy(L->scale, sc->data, L->cout * sizeof(float));
    }
    if (rc) gen_free(g);
    return rc;
}

int nst_generator_load(const char *path, nst_generator **out, nst_error *err) {
    *out = NULL;
    tensor_dict d = {0};
    struct stat st;
    gen_upsample up = GEN_UP_DECONV; /* deeplearn.js checkpoints: the ml5 networks */
    int rc = stat(path, &st) == 0 && S_ISREG(st.st_mode) ? gen_checkpoint_read(path, &d, &up, err)
                                                          : dljs_load(path, &d, err);
    nst_generator *g = rc ? NULL : calloc(1, sizeof *g);
    if (!rc && !g) rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (!rc) rc = gen_from_dict(&d, path, up, g, err);
    dict_free(&d);
    if (rc) {
        free(g);
        return rc;
    }
    *out = g;
    return NST_OK;
}

void nst_generator_free(nst_generator *g) {
    if (!g) return;
    gen_free(g);
    free(g);
}
