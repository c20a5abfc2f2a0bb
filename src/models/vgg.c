/* vgg.c: torchvision VGG16/VGG19 state_dict -> graph (a chain).
 *
 * torchvision's `features` is a Sequential where conv i is followed by its
 * ReLU at i+1, and each block ends in a MaxPool: within a block conv indices
 * step by 2, across a pool by 3 (VGG19: 0,2 | 5,7 | 10..16 | 19..25 | 28..34).
 * The state_dict holds only the convs, so those gaps give the layout. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/net.h"

#define MAX_CONVS 64

/* N from "<prefix>N.weight", or -1. */
static int conv_index(const char *key, const char *prefix) {
    size_t n = strlen(prefix);
    if (strncmp(key, prefix, n) != 0) return -1;
    const char *p = key + n;
    int v = 0, digits = 0;
    for (; *p >= '0' && *p <= '9' && digits < 6; p++, digits++) v = v * 10 + (*p - '0');
    return digits && strcmp(p, ".weight") == 0 ? v : -1;
}

static int cmp_int(const void *a, const void *b) {
    return *(const int *)a - *(const int *)b;
}

static void shape_str(const tensor *t, char *buf, size_t n) {
    size_t len = (size_t)snprintf(buf, n, "[");
    for (int k = 0; k < t->ndim && len < n; k++)
        len += (size_t)snprintf(buf + len, n - len, "%s%lld", k ? ", " : "", (long long)t->shape[k]);
    if (len < n) snprintf(buf + len, n - len, "]");
}

int net_from_vgg(const tensor_dict *d, graph *net, nst_error *err) {
    const char *src = d->path[0] ? d->path : "state_dict";
    /* torchvision's keys; a bare `features` Sequential saved alone has none */
    static const char *const prefixes[2] = {"features.", ""};
    const char *prefix = prefixes[0];
    int idx[MAX_CONVS], n = 0;
    for (int pass = 0; pass < 2 && n == 0; pass++)
        for (int i = 0; i < d->count; i++) {
            prefix = prefixes[pass];
            int v = conv_index(d->t[i].name, prefix);
            if (v < 0) continue;
            if (n == MAX_CONVS)
                return nst_fail(err, NST_ERR_FORMAT, "%s: more than %d conv layers: not a VGG",
                                src, MAX_CONVS);
            idx[n++] = v;
        }
    if (n == 0)
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: no features.N.weight tensors: not a torchvision VGG state_dict", src);
    qsort(idx, (size_t)n, sizeof *idx, cmp_int);

    /* validate the chain and count what to allocate */
    const tensor *W[MAX_CONVS], *B[MAX_CONVS];
    int cin = 3, blocks = 1;
    size_t n_params = 0;
    char key[128], shape[128];
    for (int i = 0; i < n; i++) {
        int gap = i ? idx[i] - idx[i - 1] : 0;
        if ((i == 0 && idx[0] != 0) || (i && gap != 2 && gap != 3))
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: conv at %s%d does not fit the torchvision VGG layout (conv, ReLU "
                            "[, MaxPool] repeated from index 0)", src, prefix, idx[i]);
        blocks += gap == 3;
        snprintf(key, sizeof key, "%s%d.weight", prefix, idx[i]);
        W[i] = dict_get(d, key);
        shape_str(W[i], shape, sizeof shape);
        if (W[i]->ndim != 4 || W[i]->shape[1] != cin || W[i]->shape[2] != 3 ||
            W[i]->shape[3] != 3 || W[i]->shape[0] < 1)
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: %s has shape %s, expected [out, %d, 3, 3]", src, key, shape, cin);
        int cout = (int)W[i]->shape[0];
        snprintf(key, sizeof key, "%s%d.bias", prefix, idx[i]);
        B[i] = dict_get(d, key);
        if (!B[i])
            return nst_fail(err, NST_ERR_FORMAT, "%s: missing %s", src, key);
        shape_str(B[i], shape, sizeof shape);
        if (B[i]->ndim != 1 || B[i]->shape[0] != cout)
            return nst_fail(err, NST_ERR_FORMAT, "%s: %s has shape %s, expected [%d]", src, key,
                            shape, cout);
        n_params += W[i]->numel + B[i]->numel;
        cin = cout;
    }

    if (graph_alloc(net, 2 * n + blocks, n_params, err)) return err->code;
    snprintf(net->name, sizeof net->name, "%s", n == 16 ? "vgg19" : n == 13 ? "vgg16" : "vgg");
    /* in = (x/255 - mean) / std, the normalisation torchvision models expect */
    static const float mean[3] = {0.485f, 0.456f, 0.406f}, std[3] = {0.229f, 0.224f, 0.225f};
    for (int c = 0; c < 3; c++) {
        net->in_scale[c] = 1.0f / (255.0f * std[c]);
        net->in_shift[c] = -mean[c] / std[c];
    }
    float *p = net->params;
    int L = 0, block = 1, conv = 1;
    for (int i = 0; i < n; i++) {
        int co = (int)W[i]->shape[0];
        char name[64];
        snprintf(name, sizeof name, "conv%d_%d", block, conv);
        node *c = &net->nodes[L];
        *c = graph_chain_node(L++, OP_CONV, name, (int)W[i]->shape[1], co);
        snprintf(name, sizeof name, "relu%d_%d", block, conv);
        node *r = &net->nodes[L];
        *r = graph_chain_node(L++, OP_ACT, name, co, co);
        r->act = ACT_RELU;
        c->k = 3;
        c->weight = p; /* OIHW, as torch stores it */
        memcpy(p, W[i]->data, W[i]->numel * sizeof(float));
        p += W[i]->numel;
        c->bias = p;
        memcpy(p, B[i]->data, B[i]->numel * sizeof(float));
        p += B[i]->numel;
        conv++;
        if (i == n - 1 || idx[i + 1] - idx[i] == 3) {
            snprintf(name, sizeof name, "pool%d", block);
            node *m = &net->nodes[L];
            *m = graph_chain_node(L++, OP_POOL, name, co, co);
            m->k = m->stride = 2;
            block++;
            conv = 1;
        }
    }
    return NST_OK;
}
