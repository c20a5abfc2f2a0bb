/* graph.c: allocating, looking up and checking a network's node list. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph.h"

int graph_alloc(graph *g, int n_nodes, size_t n_params, nst_error *err) {
    memset(g, 0, sizeof *g);
    g->nodes = calloc(n_nodes > 0 ? (size_t)n_nodes : 1, sizeof *g->nodes);
    g->params = calloc(n_params ? n_params : 1, sizeof(float));
    if (!g->nodes || !g->params) {
        graph_free(g);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory allocating a network of %zu parameters",
                        n_params);
    }
    g->n_nodes = n_nodes;
    g->n_params = n_params;
    g->n_inputs = 1;
    g->input_c[0] = 3;
    for (int c = 0; c < 3; c++) g->in_scale[c] = 1.0f;
    g->out_scale = 1.0f;
    return NST_OK;
}

void graph_free(graph *g) {
    free(g->nodes);
    free(g->params);
    g->nodes = NULL, g->params = NULL;
    g->n_nodes = 0;
}

int graph_find(const graph *g, const char *name) {
    for (int i = 0; i < g->n_nodes; i++)
        if (strcmp(g->nodes[i].name, name) == 0) return i;
    return -1;
}

node graph_chain_node(int i, op_kind op, const char *name, int cin, int cout) {
    node n = {.op = op, .n_in = 1, .in = {i ? i - 1 : GRAPH_INPUT(0)}, .cin = cin, .cout = cout,
              .k = 1, .stride = 1, .groups = 1, .factor = 1};
    snprintf(n.name, sizeof n.name, "%s", name);
    return n;
}

/* Channels of input j of node i. */
static int in_channels(const graph *g, int i, int j) {
    int k = g->nodes[i].in[j];
    return k >= 0 ? g->nodes[k].cout : g->input_c[GRAPH_INPUT(0) - k];
}

int graph_check(const graph *g, nst_error *err) {
    if (g->n_inputs < 1 || g->n_inputs > GRAPH_MAX_INPUTS || g->input_c[0] != 3)
        return nst_fail(err, NST_ERR_FORMAT, "%s: a network takes an RGB image as its first input",
                        g->path);
    if (g->n_nodes < 1) return nst_fail(err, NST_ERR_FORMAT, "%s: the network is empty", g->path);
    for (int i = 0; i < g->n_nodes; i++) {
        const node *n = &g->nodes[i];
        static const int want_in[] = {[OP_CONV] = 1, [OP_DECONV] = 1, [OP_ACT] = 1, [OP_POOL] = 1,
                                      [OP_PAD] = 1, [OP_UPSAMPLE] = 1, [OP_INSTNORM] = 1,
                                      [OP_ADD] = 2, [OP_MEAN] = 1};
        if ((unsigned)n->op > OP_MEAN || (unsigned)n->act > ACT_SIGMOID)
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s has an unknown operation", g->path, n->name);
        int cond = n->op == OP_INSTNORM && n->n_in == 3;
        if (n->n_in != want_in[n->op] && !cond)
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s has %d inputs", g->path, n->name, n->n_in);
        for (int j = 0; j < n->n_in; j++) {
            int k = n->in[j];
            if (k >= i || k < GRAPH_INPUT(g->n_inputs - 1))
                return nst_fail(err, NST_ERR_FORMAT, "%s: node %s reads a node that does not come "
                                "before it", g->path, n->name);
        }
        int cin = in_channels(g, i, 0);
        if (cin != n->cin)
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s expects %d channels, gets %d", g->path,
                            n->name, n->cin, cin);
        int same = n->op != OP_CONV && n->op != OP_DECONV;
        if ((same && n->cout != n->cin) || n->cout < 1)
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s has %d output channels", g->path,
                            n->name, n->cout);
        for (int j = 1; j < n->n_in; j++)
            if (in_channels(g, i, j) != n->cout)
                return nst_fail(err, NST_ERR_FORMAT, "%s: node %s: input %d has %d channels, not %d",
                                g->path, n->name, j + 1, in_channels(g, i, j), n->cout);
        int conv = n->op == OP_CONV || n->op == OP_DECONV || n->op == OP_POOL;
        if (conv && (n->k < 1 || n->k > 64 || n->stride < 1 || n->stride > 16))
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s has window %d, stride %d", g->path,
                            n->name, n->k, n->stride);
        if ((n->op == OP_CONV || n->op == OP_DECONV) &&
            (!n->weight || n->groups < 1 || n->cin % n->groups || n->cout % n->groups ||
             (n->op == OP_DECONV && n->groups != 1)))
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s: bad weights or groups", g->path, n->name);
        if (n->op == OP_UPSAMPLE && (n->factor < 1 || n->factor > 16))
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s upsamples by %d", g->path, n->name,
                            n->factor);
        for (int s = 0; s < 4; s++)
            if (n->pads[s] < 0 || n->pads[s] > 64)
                return nst_fail(err, NST_ERR_FORMAT, "%s: node %s pads by %d", g->path, n->name,
                                n->pads[s]);
        if (n->op == OP_INSTNORM && !cond && (!n->scale || !n->shift))
            return nst_fail(err, NST_ERR_FORMAT, "%s: node %s has no scale or shift", g->path, n->name);
    }
    return NST_OK;
}
