/* graph.h: a network as data. Every reader (TensorFlow.js layers models,
 * torchvision VGG, deeplearn.js and nst's own style networks, TensorFlow
 * Lite) builds a `graph`: a list of nodes in execution order, each an
 * operation with its inputs (earlier nodes or the graph's inputs), its
 * attributes, pointers to its parameters (all in one allocation) and a name
 * the losses and the messages use. One plan (plan.h) compiles any graph for
 * a size and runs it forward and backward.
 *
 * Tensors are n x c x h x w; h and w follow from the input size, so a graph
 * is size independent. Weights are OIHW ([cout][cin / groups][k][k]);
 * transposed convolutions [cin][cout][k][k] (PyTorch's layouts). */
#ifndef NST_GRAPH_H
#define NST_GRAPH_H

#include <stddef.h>

#include "nst.h"

#define GRAPH_MAX_INPUTS 2
/* node input j refers to graph input k when it is GRAPH_INPUT(k) (< 0) */
#define GRAPH_INPUT(k) (-1 - (k))

typedef enum {
    OP_CONV,      /* k x k convolution, stride, groups (groups = cin = cout:
                   * depthwise), `pad` mode, optional bias, optional fused
                   * activation `act` on the output */
    OP_DECONV,    /* transposed convolution, TF 'SAME': out = in * stride */
    OP_ACT,       /* y = act(x) */
    OP_POOL,      /* max (pool_avg 0) or average, k x k window, stride, 'SAME' */
    OP_PAD,       /* reflect padding pads[4] = top, left, bottom, right */
    OP_UPSAMPLE,  /* nearest, by an integer factor */
    OP_INSTNORM,  /* instance norm, epsilon eps: y = (x - mean) rstd scale + shift;
                   * scale, shift are parameters ([c]) or, when in[1] and in[2]
                   * are set, the outputs of those nodes (n x c x 1 x 1:
                   * conditional instance norm) */
    OP_ADD,       /* y = in[0] + in[1] */
    OP_MEAN,      /* y[c] = mean over h, w of x[c]: n x c x 1 x 1 */
} op_kind;

typedef enum {
    ACT_NONE,
    ACT_RELU,     /* x > 0 ? x : alpha x (alpha 0: ReLU, > 0: LeakyReLU) */
    ACT_RELU6,    /* min(max(x, 0), 6) */
    ACT_TANH,     /* a tanh(x) + b */
    ACT_SIGMOID,  /* a / (1 + exp(-x)) + b */
} act_kind;

/* Padding of OP_CONV: TF 'SAME' (zeros, before = total / 2), 'VALID' (none),
 * or reflected by the `pad` amounts (what a rewrite makes of an OP_PAD
 * followed by a 'VALID' conv, and of 'SAME' under --padding reflect), or
 * zeros by the `pad` amounts written by the plan rather than by oneDNN
 * (a rewrite, for the convolution that reads the image). */
enum { PAD_SAME = 0, PAD_VALID = 1, PAD_REFLECT = 2, PAD_ZERO = 3 };

typedef struct {
    op_kind op;
    char name[64];        /* "conv4_2", "leaky_re_lu_10", "transformer/residual_1/conv1" */
    int n_in;             /* inputs used: in[0 .. n_in - 1] */
    int in[3];            /* node indices (below the node's own) or GRAPH_INPUT(k) */
    int cin, cout;        /* channels in / out */
    int k, stride, groups;
    int pad;              /* OP_CONV: PAD_* */
    int pads[4];          /* OP_PAD, and OP_CONV with PAD_REFLECT or PAD_ZERO: top, left, bottom, right */
    act_kind act;         /* OP_ACT's function; OP_CONV / OP_INSTNORM: fused on the output */
    float alpha, a, b;    /* ACT_RELU slope; ACT_TANH / ACT_SIGMOID output map */
    int pool_avg;         /* OP_POOL */
    int factor;           /* OP_UPSAMPLE */
    float eps;            /* OP_INSTNORM */
    float *weight, *bias; /* OP_CONV / OP_DECONV, into params; bias may be NULL */
    float *scale, *shift; /* OP_INSTNORM without conditional inputs, into params */
} node;

/* A loss network, a style network or one half of an arbitrary-style pair.
 * (The public nst_net is a graph.) */
typedef struct nst_net {
    char name[64];        /* "darknet-tiny", "vgg19", ... */
    char path[1024];      /* where it was loaded from */
    int n_nodes;
    node *nodes;
    int n_inputs;         /* graph inputs: 0 is the image (3 channels) */
    int input_c[GRAPH_MAX_INPUTS];
    int image_out;        /* the last node is an image (a style network's output) */
    float *params;        /* one allocation for every weight, bias, scale and shift */
    size_t n_params;
    /* preprocessing of a 0..255 RGB pixel: in_c = x * in_scale[c] + in_shift[c];
     * an image output y maps back to pixels as y * out_scale + out_shift,
     * clipped to 0..255 */
    float in_scale[3], in_shift[3];
    float out_scale, out_shift;
} graph;

/* A graph with room for n_nodes nodes and n_params floats, one image input
 * and the identity pre- and postprocessing. */
int graph_alloc(graph *g, int n_nodes, size_t n_params, nst_error *err);
void graph_free(graph *g);
/* Index of the node named `name`, or -1. */
int graph_find(const graph *g, const char *name);
/* A node reading the node before it (the first: the image): a chain. */
node graph_chain_node(int i, op_kind op, const char *name, int cin, int cout);
/* Check a graph a reader built: inputs refer to earlier nodes or existing
 * graph inputs, channels agree along every edge, attributes in range.
 * Readers call it, so the plan can trust the graph. */
int graph_check(const graph *g, nst_error *err);

#endif
