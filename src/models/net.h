/* net.h: a loss network as a chain of layers (size independent), and a plan
 * that binds it to an input size and runs it forward and backward.
 *
 * Builders (one per source format) fill an nst_net:
 *   keras_net.c  TensorFlow.js layers model -> net (BatchNorm folded into conv)
 *   vgg.c        torchvision VGG16/VGG19 state_dict (.pth or safetensors) -> net
 */
#ifndef NST_NET_H
#define NST_NET_H

#include "io/io.h"
#include "layers/layers.h"
#include "nst.h"

typedef enum {
    NET_CONV,     /* stride-1 or strided conv, TF 'SAME' padding, optional bias */
    NET_ACT,      /* ReLU (alpha 0) or LeakyReLU (alpha > 0) */
    NET_MAXPOOL,  /* 'SAME' pooling; --pooling avg turns these into average */
} net_kind;

typedef struct {
    net_kind kind;
    char name[64];   /* addressable name: "conv4_2", "relu4_2", "leaky_re_lu_10" */
    int cin, cout;   /* channels in / out (equal for NET_ACT and NET_MAXPOOL) */
    int k, stride;   /* conv kernel or pool window (square), stride */
    float alpha;     /* NET_ACT */
    float *weight;   /* NET_CONV: [cout][cin][k][k], points into net->params */
    float *bias;     /* NET_CONV: [cout] or NULL */
} net_layer;

struct nst_net {
    char name[64];        /* "darknet-tiny", "vgg19", ... */
    char path[1024];      /* where it was loaded from */
    int n_layers;
    net_layer *layers;
    float *params;        /* one allocation for every weight and bias */
    size_t n_params;
    /* preprocessing of a 0..255 RGB pixel: in_c = x * in_scale[c] + in_shift[c] */
    float in_scale[3], in_shift[3];
};

/* Allocate a net with room for n_layers layers and n_params floats. */
int net_alloc(struct nst_net *net, int n_layers, size_t n_params, nst_error *err);

/* keras_net.c: build from a loaded TensorFlow.js model: a linear chain of
 * InputLayer, Conv2D, BatchNormalization (folded into the conv before it),
 * LeakyReLU / ReLU / Activation('relu'), MaxPooling2D; anything after the
 * last of those (GlobalAveragePooling2D, Dense, Softmax...) is dropped since a
 * loss network needs only feature maps. Input scale: RGB / 255. */
int net_from_keras(const nst_tfjs_model *m, struct nst_net *net, nst_error *err);
/* vgg.c: build from a torchvision VGG16/19 state_dict (keys features.N.weight
 * / features.N.bias). Layers are named conv1_1, relu1_1, ..., pool1, ...;
 * the input is normalised with ImageNet mean/std as torchvision expects. */
int net_from_vgg(const nst_tensor_dict *d, struct nst_net *net, nst_error *err);

/* ---- plan.c: the net bound to an n x 3 x h x w input ------------------
 * Activations stay in oneDNN's blocked layout (layers.h) from the first
 * convolution to the last and back. A tapped layer is read by the losses in
 * one or both of two ways: TAP_COPY gives it an NCHW float32 copy and a
 * gradient buffer of the same shape (content loss, tests); TAP_GRAM gives
 * it Gram matrices computed on the blocked activation (plan_gram) and a C x C
 * buffer per image for the style loss's dG', applied in backward as
 * dF += dG' F, also on the blocked layout. With bf16 the activations and
 * their gradients are bfloat16 (the losses' copies, the Gram matrices and
 * the image's gradient stay float32). */
enum { TAP_COPY = 1, TAP_GRAM = 2 };

typedef struct {
    int c, h, w;          /* output shape */
    int block;            /* layout of act (layers.h; 1: NCHW) */
    void *act;            /* output activations (float32 or bfloat16); a conv
                           * fused with the activation after it shares that
                           * layer's */
    float *out;           /* TAP_COPY only: the output as NCHW (C x HW
                           * matrices for the losses); NULL otherwise */
    float *loss_grad;     /* TAP_COPY only, NCHW: the losses add dL/dout here */
    reorder_layer to_out, add_grad; /* act -> out; gradient += loss_grad */
    gram_layer gram;      /* TAP_GRAM only */
    float *style_grad;    /* TAP_GRAM only: n x C x C, the losses add dG' here */
    int reflect;          /* conv preceded by an explicit reflect pad */
    int fused;            /* NET_ACT applied by the conv before it (post-op) */
    int act_pooled;       /* NET_ACT whose backward the max pool after it runs */
    int pool_act;         /* NET_MAXPOOL running that backward (eltwise) */
    pad_layer pad;
    conv_layer conv;
    reflect_grad_layer rgrad; /* with rgrad_on: the conv's input gradient */
    int rgrad_on;
    eltwise_layer eltwise;
    pool_layer pool;
} plan_layer;

typedef struct {
    const struct nst_net *net;
    int n, h, w;
    int bf16;             /* activations as bfloat16 (nst_stylize_params.precision) */
    int n_layers;         /* layers run: 0 .. deepest tapped layer */
    plan_layer *L;
    float *input;         /* preprocessed input, n*3*h*w NCHW */
    void *padded;         /* the reflect-padded input of the conv being run; in
                           * backward, the first conv's input gradient as NCHW */
    void *first;          /* bf16: the first conv's output (float32) and, in
                           * backward, its gradient converted to float32 */
    void *grad_a, *grad_b; /* ping-pong gradient buffers for backward */
    reorder_layer first_out, first_grad; /* bf16: float32 <-> bfloat16 there */
    reorder_layer to_image; /* input gradient -> NCHW float32, times in_scale */
    void *arena;          /* one allocation behind every buffer above */
} net_plan;

/* Bind `net` to an input size. Only layers up to the deepest one with
 * tapped[i] != 0 are run; tapped[i] is a set of TAP_* flags. padding is
 * NST_PAD_*, pooling NST_POOL_*, precision NST_PRECISION_*. */
int plan_create(net_plan *p, const struct nst_net *net, int n, int h, int w,
                const unsigned char *tapped, int padding, int pooling, int precision,
                nst_error *err);
/* Forward from a 0..255 planar RGB batch (n x 3 x h x w). */
void plan_forward(net_plan *p, const float *image);
/* G = F F^T / (C H W) of image b at TAP_GRAM layer i (C x C, row-major). */
void plan_gram(net_plan *p, int i, int b, float *G);
/* Zero every loss_grad and style_grad buffer. */
void plan_zero_loss_grads(net_plan *p);
/* Backward from the loss_grad and style_grad buffers to the image: dimage =
 * dL/dimage in 0..255 pixel units (overwritten). */
void plan_backward(net_plan *p, float *dimage);
void plan_destroy(net_plan *p);

#endif
