/* wconv.h: the oneDNN setup and execution shared by conv.c and deconv.c
 * (private to src/layers). */
#ifndef NST_WCONV_H
#define NST_WCONV_H

#include "layers/layers.h"

/* Shapes as oneDNN sees them: weights are {cout, cin, kh, kw} for both kinds;
 * the caller's buffer is OIHW for a convolution and IOHW (PyTorch's
 * ConvTranspose2d) for a transposed one. Padding is that of the convolution
 * (for the transposed one: rows/columns cropped from the full output). */
typedef struct {
    int transposed;
    int n, cin, h, w, cout, oh, ow, kh, kw, stride;
    int pad_t, pad_l, pad_b, pad_r;
    int has_bias;
    int blocked, block; /* activation layouts (wconv.c): oneDNN's, src in `block` */
    int fuse;           /* POST_*: dst = act(conv), ReLU slope alpha */
    float alpha;
    int groups;         /* convolution only; weights {groups, cout/g, cin/g, kh, kw} */
    int bf16;           /* blocked only: bfloat16 activations and weights */
} wconv_geom;

/* "convolution" or "transposed convolution". */
const char *wconv_name(const wconv_geom *g);
/* "NxCxHxW input, ... kernel, stride S, padding t,l,b,r" for messages. */
void wconv_describe(const wconv_geom *g, char *buf, size_t len);

/* Forward and backward-data primitives and the weight copies; on failure
 * everything is released and err names the step. */
int wconv_create(wconv_state *P, const wconv_geom *g, const float *weight, const float *bias,
                 nst_error *err);
/* The backward-weights primitive (with the bias gradient when has_bias);
 * does nothing when it exists already. */
int wconv_enable_training(wconv_state *P, const wconv_geom *g, nst_error *err);

void wconv_forward(wconv_state *P, const void *in, void *out);
void wconv_backward(wconv_state *P, const void *dout, void *din);
void wconv_backward_weights(wconv_state *P, const float *in, const float *dout, float *dweight,
                            float *dbias);
void wconv_weights_changed(wconv_state *P);
void wconv_destroy(wconv_state *P);

#endif
