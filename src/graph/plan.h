/* plan.h: one executor for every network. A plan compiles a graph
 * (graph.h) for an n x 3 x h x w input: it copies the node list into steps,
 * infers every shape, rewrites the list (rewrite.c: the fusions), creates
 * every oneDNN primitive and places every buffer in one arena, so that
 * forward and backward allocate nothing.
 *
 * Layouts: graph inputs are NCHW float32; each convolution writes the
 * blocked layout oneDNN picks (nChw16c on AVX-512) and every other step
 * works on the layout of its input, so nothing is reordered between steps.
 * With bf16, activations and their gradients are bfloat16 in channels-last
 * (rewrite.c says where float32 is kept).
 *
 * Loss networks are read through taps: a step's output as an NCHW copy
 * with a gradient buffer (TAP_COPY: the content loss, tests), or as Gram
 * matrices computed on the blocked activation with a C x C gradient per
 * image (TAP_GRAM: the style loss, applied in backward as dF += dG' F).
 * Style networks map their last node to an image (plan.output). */
#ifndef NST_PLAN_H
#define NST_PLAN_H

#include "graph/graph.h"
#include "layers/layers.h"

enum { TAP_COPY = 1, TAP_GRAM = 2 };
/* plan_opts.grads: what backward computes */
enum { PLAN_GRAD_INPUT = 1, PLAN_GRAD_PARAMS = 2 };
/* plan_forward flags: instance norms use the statistics already in the plan
 * (plan_copy_stats), so that the tiles of one image are normalised alike */
enum { PLAN_FIXED_STATS = 1 };

typedef struct {
    const unsigned char *tapped; /* per graph node, TAP_* flags; NULL: none */
    int padding;          /* NST_PAD_*: REFLECT turns 'SAME' convolutions reflect-padded */
    int pooling;          /* NST_POOL_*: AVG turns max pooling into average pooling */
    int precision;        /* NST_PRECISION_* */
    int grads;            /* PLAN_GRAD_* bits; 0: forward only, buffers shared */
    int guides;           /* TAP_GRAM: guidance channels (regions) per Gram tap, each with
                           * its own Gram matrix and gradient; 0: one plain Gram matrix */
} plan_opts;

/* One operation of the compiled plan. */
typedef struct {
    node nd;              /* the operation, after the rewrites */
    int src;              /* the graph node whose output this is (taps, messages) */
    int in[3];            /* inputs: step indices or GRAPH_INPUT(k) (nd.in renumbered) */
    int skip;             /* OP_INSTNORM: y = act(IN(x) + skip), a step; -1: none */
    int dead;             /* removed by a rewrite */
    int constant;         /* reads no image: runs in plan_set_input, not in plan_forward */
    int c, h, w, block, bf16; /* output shape, layout, element type */
    void *act;            /* output */
    void *grad;           /* backward: dL/d(output) */
    /* rewrites (rewrite.c) */
    int act_in_pool;      /* conv: its activation's backward runs in the max pool after it */
    act_kind pool_act;    /* pool: the backward of its input's activation (monotone, so it
                           * commutes with max: run on the pooled gradient, 4x smaller) */
    float pool_alpha;
    int to_bf16;          /* conv: float32 output, converted (act32 -> act) */
    int split;            /* conv: runs as split_conv (pads its own rows) */
    int up;               /* conv: its reflect pad reads in[0] upsampled by this factor (> 1) */
    /* backward bookkeeping: the first writer of an input's gradient
     * overwrites it, later ones add (plan.c) */
    int first[4];         /* in[0..2], skip */
    int grad_written;     /* some consumer writes grad before this step's backward */
    /* layers */
    conv_layer conv;
    split_conv_layer sconv;
    deconv_layer deconv;
    pad_layer pad;        /* conv with PAD_REFLECT */
    reflect_grad_layer rgrad; /* its input gradient without the padded one */
    int rgrad_on;
    pool_layer pool;
    eltwise_layer eltwise; /* ACT_RELU on oneDNN: OP_ACT, a fused activation's backward, pool_act */
    reorder_layer convert, convert_back, to_nchw; /* to_bf16; to_nchw: a graph input's gradient */
    void *act32, *grad32; /* to_bf16: float32 output and its gradient */
    float *mean, *rstd;   /* OP_INSTNORM: [n * c] */
    /* taps */
    float *out, *loss_grad; /* TAP_COPY: NCHW */
    reorder_layer to_out, add_grad;
    gram_layer gram;      /* TAP_GRAM */
    float *style_grad;    /* TAP_GRAM: n x max(1, guides) x C x C */
    float *guide;         /* TAP_GRAM with guides: guides x h x w, filled by the losses */
} step;

typedef struct plan {
    const graph *g;
    int n, h, w;
    plan_opts o;
    int n_steps;
    step *S;
    int *of_node;         /* graph node -> step (-1: fused into another) */
    float *input[GRAPH_MAX_INPUTS];  /* preprocessed inputs, NCHW */
    float *dinput;        /* PLAN_GRAD_INPUT: dL/d(input 0), NCHW */
    float *output;        /* graph->image_out: n x 3 x h x w, 0..255 */
    void *padded;         /* reflect convs: the padded input, its gradient */
    void *stage;          /* a graph input's gradient in oneDNN's layout */
    void *scratch;        /* a gradient computed then added to another writer's */
    void *weighted;       /* guides: one image's Gram tap weighted by a guidance channel */
    void *arena;          /* one allocation behind every buffer above */
} plan;

int plan_create(plan *p, const graph *g, int n, int h, int w, const plan_opts *o, nst_error *err);
void plan_destroy(plan *p);
/* The bytes of the arena that plan_create would allocate (every activation,
 * gradient and tap), without allocating it: for memory estimates. */
int plan_bytes(const graph *g, int n, int h, int w, const plan_opts *o, double *bytes, nst_error *err);
/* Graph input k > 0 (n x c, a vector per image), before plan_forward; runs
 * the steps that depend on it alone (the style vector's 1x1 convolutions). */
void plan_set_input(plan *p, int k, const float *x);
/* Forward from a 0..255 planar RGB batch (n x 3 x h x w); flags PLAN_FIXED_STATS. */
void plan_forward(plan *p, const float *image, int flags);
/* Backward (after plan_forward without PLAN_FIXED_STATS). dout: for an
 * image output, dL/d(plan.output) (n x 3 x h x w; the clip is passed
 * through), else NULL (the taps' gradients). dimage (PLAN_GRAD_INPUT): dL/d
 * image in pixel units, overwritten. dparams (PLAN_GRAD_PARAMS): dL/dparams
 * laid out as graph.params, overwritten, summed over the batch. */
void plan_backward(plan *p, const float *dout, float *dimage, float *dparams);
/* After the caller changed the graph's parameters in place. */
void plan_weights_changed(plan *p);

/* ---- what the losses read, by graph node ----------------------------- */
typedef struct {
    int c, h, w;
    float *out;           /* TAP_COPY: n x c x h x w */
    float *loss_grad;     /* TAP_COPY: the losses add dL/dout here */
    float *style_grad;    /* TAP_GRAM: n x max(1, guides) x c x c, the losses add dL/dG here */
    float *guide;         /* TAP_GRAM with guides: guides x h x w weights, for the losses
                           * to fill before plan_gram and plan_backward */
} plan_tap;
plan_tap plan_tap_of(const plan *p, int node);
/* G = F F^T / (C H W) of image b at TAP_GRAM node `node` (C x C, row-major),
 * or with guides the guided Gram matrix of guidance channel r (m = guide r):
 * G = F diag(m) F^T / (C sum m). Returns the pixel count it divided by
 * (H W, or sum m). */
double plan_gram(plan *p, int node, int b, int r, float *G);
/* Zero every loss_grad and style_grad buffer. */
void plan_zero_loss_grads(plan *p);
/* The last step's output for image b as c floats (a 1 x 1 map: a vector). */
void plan_vector(const plan *p, int b, float *v, int c);
/* Instance-norm statistics of src into dst (plans of the same graph). */
void plan_copy_stats(plan *dst, const plan *src);

/* Forward FLOPs of the plan's convolutions: 2 Cin/groups k k Cout per output
 * position (transposed: per input position), for the batch; *image (may
 * be NULL) gets the share of those that read the image. */
double plan_conv_flops(const plan *p, double *image);

/* rewrite.c: the fusions, on p->S after shapes are known (plan.c calls it). */
void rewrite_plan(plan *p);

#endif
