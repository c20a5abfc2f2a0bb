/* layers.h: the layers of the engine, each a setup / forward / backward
 * triple over flat float buffers in NCHW layout (or, for the loss-network
 * plan, oneDNN's blocked layouts: see `block` below) with explicit shapes.
 *
 * A layer is bound to its input shape at setup time: oneDNN primitives and
 * memory objects are created once there; forward/backward only rebind the
 * data handles, so nothing is allocated per iteration. `backward` computes the
 * gradient with respect to the layer input (what image optimisation needs);
 * it overwrites `din`. */
#ifndef NST_LAYERS_H
#define NST_LAYERS_H

#include <dnnl.h>
#include <stddef.h>
#include <stdint.h>

#include "nst.h"

/* The oneDNN CPU engine shared by every layer. */
dnnl_engine_t dn_engine(void);
/* Execute a primitive on the shared stream and wait; a failure (primitives
 * are validated at setup, so a bug or oneDNN out of memory) is kept, never
 * aborted on: */
void dn_run(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args);
/* A failed run (dn_run keeps the first, per thread): the public calls
 * that run networks reset it on entry and return dn_run_status(rc, err),
 * rc or, when rc is NST_OK and a run failed, an error saying so. */
void dn_run_reset(void);
int dn_run_status(int rc, nst_error *err);
/* A memory in the layout that `pd` uses for `what` (dnnl_query_src_md, ...);
 * handle is DNNL_MEMORY_ALLOCATE, or DNNL_MEMORY_NONE to bind per call. */
dnnl_status_t dn_memory(dnnl_memory_t *m, const_dnnl_primitive_desc_t pd,
                              dnnl_query_t what, void *handle);

/* Activation layouts. oneDNN's fast CPU kernels (jit direct convolution,
 * pooling) want channels in blocks: nChw16c (AVX-512) or nChw8c keep
 * [N][C/b][H][W][b] with C padded with zeros to a multiple of b. A `block` of
 * 1 is plain NCHW; NST_NHWC is channels-last, [N][H][W][C], which is
 * nChw<C>c: one block of all C channels (the layout of oneDNN's AMX
 * kernels). The loss-network and generator plans keep their activations
 * blocked; the layer tests mostly use NCHW. With bf16 the elements are
 * bfloat16 (the upper half of a float32) instead of float32: the plan's
 * --precision bf16, where convolutions run on AVX512-BF16 / AMX. */
#define NST_NHWC (-1)
void dn_md(dnnl_memory_desc_t *md, int n, int c, int h, int w, int block, int bf16);
/* The block of md (1, 8, 16 or NST_NHWC), or 0 for any other layout. */
int dn_block(const dnnl_memory_desc_t *md);
/* Channels per block of layout `block` for c channels (c for NST_NHWC). */
int block_elems(int block, int c);
/* Elements that an n x c x h x w tensor takes in layout `block`. */
size_t blocked_numel(int n, int c, int h, int w, int block);
/* Whether this CPU runs bfloat16 convolutions natively (AVX512-BF16 or AMX);
 * without, oneDNN would fall back to reference code hundreds of times slower. */
int dn_has_bf16(void);
/* bfloat16 <-> float32; the rounding is to nearest even, as oneDNN's. */
float bf16_to_f32(uint16_t x);
uint16_t f32_to_bf16(float f);

/* TensorFlow 'SAME' padding along one axis: out = ceil(in / stride),
 * total = max((out - 1) * stride + k - in, 0), before = total / 2. */
void same_padding(int in, int k, int stride, int *out, int *before, int *after);

/* oneDNN state of a convolution or transposed convolution (wconv.c).
 * m_src, m_dst and the gradient memories are bound per call; m_wei and m_bias
 * wrap the caller's buffers (so a bias update is seen at once); m_wei_fwd and
 * m_wei_bwd are the weights in the layout each primitive wants, filled by the
 * reorders reo_fwd / reo_bwd, or aliasing the caller's weights (reorder NULL)
 * when that layout is the caller's. bwd_weights, m_dwei (the caller's
 * layout), m_dbias exist after *_enable_training, and m_dwei_own with
 * reo_dwei when the primitive writes another layout. */
typedef struct {
    dnnl_primitive_t fwd, bwd_data, bwd_weights, reo_fwd, reo_bwd, reo_dwei;
    dnnl_memory_t m_src, m_wei, m_bias, m_dst, m_wei_fwd, m_wei_bwd;
    dnnl_memory_t m_dsrc, m_ddst, m_dwei, m_dwei_own, m_dbias;
} wconv_state;

/* ---- conv.c: 2-D convolution, zero padding, optional bias -------------- */
/* An activation oneDNN applies as a convolution writes its output. */
enum { POST_NONE = 0, POST_RELU = 1 /* x > 0 ? x : alpha x */, POST_RELU6 = 2 /* min(max(x, 0), 6) */,
       POST_SIGMOID = 3 /* 1 / (1 + exp(-x)) */ };
typedef struct {
    int n, cin, h, w;         /* input */
    int cout, kh, kw, stride;
    int groups;               /* cin and cout split in groups (groups = cin = cout: depthwise);
                               * weight [cout][cin / groups][kh][kw] */
    int pad_t, pad_l, pad_b, pad_r; /* zero padding */
    int oh, ow;               /* output */
    const float *weight;      /* [cout][cin][kh][kw] (OIHW) */
    const float *bias;        /* [cout] or NULL */
    int blocked;              /* conv_setup_blocked */
    int block, dst_block;     /* layouts of in and out (1: NCHW; 0: see below) */
    int fuse;                 /* POST_*: out = act(conv), ReLU slope alpha */
    float alpha;
    int bf16;                 /* activations and weights as bfloat16 */
    wconv_state p;
} conv_layer;

int conv_setup(conv_layer *L, int n, int cin, int h, int w, int cout, int kh,
               int kw, int stride, int pad_t, int pad_l, int pad_b, int pad_r,
               const float *weight, const float *bias, nst_error *err);
/* The loss-network plan's convolution: input and its gradient din in layout
 * `block`, output in the one oneDNN picks (L->dst_block, 16 on AVX-512).
 * block 0 is the image: input NCHW, din in the layout oneDNN picks (its
 * descriptor: L->p.m_dsrc). fuse (POST_*) runs the activation that follows
 * as a post-op. groups > 1: a grouped (depthwise) convolution. With bf16, activations, their gradients and the
 * weights' copies are bfloat16. 3x3 stride-1 layers large enough to gain
 * use Winograd F(4x4, 3x3) in float32. conv_enable_training works on it
 * too (float32; the weight gradient is reordered into OIHW). */
int conv_setup_blocked(conv_layer *L, int block, int bf16, int fuse, float alpha, int n, int cin, int h,
                       int w, int cout, int groups, int kh, int kw, int stride, int pad_t, int pad_l,
                       int pad_b, int pad_r, const float *weight, const float *bias,
                       nst_error *err);
void conv_forward(conv_layer *L, const void *in, void *out);
void conv_backward(conv_layer *L, const void *dout, void *din);
void conv_destroy(conv_layer *L);

/* ---- reflect_grad.c: input gradient of a reflect-padded convolution ---
 * For a stride-1 k x k convolution (k odd, p = (k-1)/2) of x reflect-padded
 * by p on every side, with weights [cout][cin][k][k]: dx from dy, where dy
 * (n x cout x h x w) is in layout out_block and dx (n x cin x h x w) in
 * in_block, without a padded gradient (see reflect_grad.c). Fails when
 * oneDNN would not write in_block. float32 only. */
typedef struct {
    int n, cin, cout, h, w, k, p, in_block, out_block, cinp;
    conv_layer tconv;     /* dy -> dx's interior: zero padding p, kernel wt */
    float *wt;            /* W'[c][o][u][v] = W[o][c][k-1-u][k-1-v] */
    float *wb;            /* W[o][c][u][v] as [u][v][o][c], c padded to cinp */
} reflect_grad_layer;
int reflect_grad_setup(reflect_grad_layer *L, int in_block, int out_block, int n, int cin, int h,
                       int w, int cout, int k, const float *weight, nst_error *err);
void reflect_grad_backward(reflect_grad_layer *L, const float *dy, float *dx);
void reflect_grad_destroy(reflect_grad_layer *L);

/* ---- pad.c: reflect or zero padding ------------------------------------- */
/* out[n][c][i][j] = in[n][c][reflect(i - t)][reflect(j - l)], numpy/PyTorch
 * 'reflect' (edge not repeated); requires pad < size. Input and output in
 * layout `block` (1: NCHW), float32 or (bf16) bfloat16. With up > 1 (set
 * after pad_setup; forward only) the h x w input is the nearest upsampling
 * of the h/up x w/up tensor `in`, read through without being written:
 * out[n][c][i][j] = in[n][c][reflect(i - t) / up][reflect(j - l) / up].
 * pad_setup_zero: zeros outside instead (zero padding is otherwise folded
 * into the convolution; see rewrite.c for where the plan pads itself). */
typedef struct {
    int n, c, h, w, t, l, b, r, oh, ow, block, bf16, up, zero;
} pad_layer;
int pad_setup(pad_layer *L, int n, int c, int h, int w, int t, int l, int b,
              int r, int block, int bf16, nst_error *err);
int pad_setup_zero(pad_layer *L, int n, int c, int h, int w, int t, int l, int b, int r, int block, int bf16,
                   nst_error *err);
void pad_forward(const pad_layer *L, const void *in, void *out);
/* Rows row0 .. row0 + m - 1 (< oh) of image b's padded planes into the
 * first m rows of out, a 1 x c x cap x ow tensor (m <= cap) in the same
 * layout; runs on the calling thread. */
void pad_forward_rows(const pad_layer *L, const void *in, int b, int row0, int m, int cap, void *out);
void pad_backward(const pad_layer *L, const void *dout, void *din);

/* ---- split_conv.c: a k x k convolution with few outputs, streamed ------
 * y = conv(pad(x)) + bias, then ReLU / LeakyReLU (relu: y > 0 ? y : alpha
 * y), for a stride-1 k x k convolution to cout <= 8 channels, where `pad`
 * describes x (its layout, batch, reflect padding, upsampling; zero pads:
 * none), as a 1 x k convolution to k cout channels of a few padded rows at
 * a time and a sum of k shifted rows, in cache. Output [n][cout][oh][ow] in
 * layout out_block: NCHW (1) for cout <= 4, else blocks of 8. Float32,
 * forward only; over the OpenMP threads, each streaming its share of rows. */
typedef struct {
    int n, cin, cout, k, oh, ow, out_block, t_block, rows, threads, relu;
    float alpha;
    pad_layer pad;
    const float *weight, *bias; /* the caller's: [cout][cin][k][k], [cout] or NULL */
    float *wr;            /* wr[j cout + o][c][0][v] = weight[o][c][j][v] */
    conv_layer *conv;     /* per thread: the 1 x k convolution of `rows` padded rows */
    float *buf;           /* per thread: those rows (in_elems), then their output (t_elems) */
    size_t in_elems, t_elems;
} split_conv_layer;
int split_conv_setup(split_conv_layer *L, const pad_layer *pad, int cout, int k, int relu, float alpha,
                     const float *weight, const float *bias, nst_error *err);
void split_conv_forward(const split_conv_layer *L, const void *in, float *out);
/* After the caller changed weight or bias in place. */
void split_conv_weights_changed(split_conv_layer *L);
void split_conv_destroy(split_conv_layer *L);

/* ---- activation.c: ReLU and LeakyReLU ---------------------------------- */
/* y = x > 0 ? x : alpha * x (alpha = 0 for ReLU). backward uses the output y,
 * which has the sign of x for alpha >= 0, so the input need not be kept:
 * dx = dy * (y > 0 ? 1 : alpha). Both may run in place. */
void act_forward(float alpha, size_t n, const float *in, float *out);
void act_backward(float alpha, size_t n, const float *out, const float *dout,
                  float *din);

/* The same as oneDNN primitives on a tensor in layout `block`, for the
 * plan: two threads, blocked layouts, backward from y (may run in place).
 * ELTWISE_RELU: the ReLU / LeakyReLU above; ELTWISE_LOGISTIC: y = 1 / (1 + e^-x),
 * dx = dy y (1 - y) (alpha unused). */
enum { ELTWISE_RELU, ELTWISE_LOGISTIC };
typedef struct {
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t m_src, m_dst, m_ddst, m_dsrc;
} eltwise_layer;
int eltwise_setup(eltwise_layer *L, int kind, float alpha, int n, int c, int h, int w, int block,
                  int bf16, nst_error *err);
void eltwise_forward(eltwise_layer *L, const void *in, void *out);
void eltwise_backward(eltwise_layer *L, const void *out, const void *dout, void *din);
void eltwise_destroy(eltwise_layer *L);

/* ---- reorder.c: a tensor from one layout into another ----------------- */
/* out = scale[c] * in (scale NULL: 1), or out += that when accumulate. */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_memory_t m_in, m_out;
} reorder_layer;
int reorder_setup(reorder_layer *R, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                  const float *scale, int accumulate, nst_error *err);
void reorder_run(reorder_layer *R, const void *in, void *out);
void reorder_destroy(reorder_layer *R);

/* ---- pool.c: max / average pooling ------------------------------------- */
/* Window k, stride s, TensorFlow 'SAME' (out = ceil(in / s), padding after).
 * Padding is ignored by max and excluded from the average's count. Input and
 * output in layout `block` (1: NCHW). */
enum { POOL_MAX = 0, POOL_AVG = 1 };
typedef struct {
    int kind, n, c, h, w, k, stride, oh, ow;
    dnnl_primitive_t fwd, bwd;
    dnnl_memory_t m_src, m_dst, m_dsrc, m_ddst, m_ws; /* m_ws: max indices */
} pool_layer;
int pool_setup(pool_layer *L, int kind, int n, int c, int h, int w, int k,
               int stride, int block, int bf16, nst_error *err);
void pool_forward(pool_layer *L, const void *in, void *out);
void pool_backward(pool_layer *L, const void *dout, void *din);
void pool_destroy(pool_layer *L);

/* ---- gram_conv.c: Gram matrix of a blocked activation ---------------- */
/* For one image's C x H x W activation F in layout `block` (bf16: bfloat16):
 * forward G = F diag(m) F^T / (C n), C x C float32 row-major, from F and its
 * pixel-weighted copy Fm = F diag(m) (gram_weigh; Fm = F, n = H W: the plain
 * Gram matrix; a guided one of Gatys et al. 2017 with n = sum m); backward
 * dF += S X for a C x C float32 S (style_loss_gram's dG) and X = F or Fm,
 * into dF in F's layout. oneDNN 1x1 convolutions (backward-weights and
 * forward with a sum post-op): the activations are read where they are. */
typedef struct {
    int c, h, w, block, bf16;
    dnnl_primitive_t gram, grad, reo_g, reo_s; /* reo_*: C x C to / from oneDNN's layout */
    dnnl_memory_t m_act, m_wact, m_dact, m_user, m_g, m_s;
    float *lo;            /* bf16: S's part below bfloat16's precision */
} gram_layer;
int gram_setup(gram_layer *L, int c, int h, int w, int block, int bf16, nst_error *err);
void gram_forward(gram_layer *L, const void *act, const void *weighted, double n, float *G);
void gram_backward(gram_layer *L, const void *act, const float *S, void *dact);
/* out = F diag(m): each pixel's channels times m[pixel] (m: H x W). */
void gram_weigh(const gram_layer *L, const void *act, const float *m, void *out);
void gram_destroy(gram_layer *L);

/* ---- generator layers (feed-forward networks, issue: nst apply / train) --
 * Parameter gradients overwrite their outputs; callers accumulate if needed. */

/* conv.c, training: gradients of weight [cout][cin][kh][kw] and bias [cout]
 * (bias gradient skipped when dbias is NULL). conv_weights_changed re-runs
 * the once-per-setup weight reorders after the caller updated `weight`. */
int conv_enable_training(conv_layer *L, nst_error *err);
void conv_backward_weights(conv_layer *L, const float *in, const float *dout,
                           float *dweight, float *dbias);
void conv_weights_changed(conv_layer *L);

/* deconv.c: transposed convolution with TensorFlow conv2d_transpose 'SAME'
 * semantics: out = in * stride, the adjoint of a stride-s 'SAME' conv (for
 * k 3, s 2: PyTorch ConvTranspose2d(stride 2, padding 0) cropped to the first
 * 2h x 2w). weight is [cin][cout][k][k], PyTorch's ConvTranspose2d layout. */
typedef struct {
    int n, cin, h, w, cout, k, stride, oh, ow;
    int pad_t, pad_l, pad_b, pad_r;
    const float *weight, *bias;
    int block, dst_block; /* layouts of in and out, as for conv_setup_blocked */
    wconv_state p;
} deconv_layer;
/* block 1: NCHW in and out; otherwise the input (and its gradient) in layout
 * `block` and the output in the one oneDNN picks (dst_block). */
int deconv_setup(deconv_layer *L, int block, int n, int cin, int h, int w, int cout, int k,
                 int stride, const float *weight, const float *bias, nst_error *err);
void deconv_forward(deconv_layer *L, const float *in, float *out);
void deconv_backward(deconv_layer *L, const float *dout, float *din);
int deconv_enable_training(deconv_layer *L, nst_error *err);
void deconv_backward_weights(deconv_layer *L, const float *in, const float *dout,
                             float *dweight, float *dbias);
void deconv_weights_changed(deconv_layer *L);
void deconv_destroy(deconv_layer *L);

/* instnorm.c: instance normalisation, per image n and channel c over hw, on
 * a tensor in layout `block` (1: NCHW):
 * y = (x - mean) * rstd * scale[c] + shift[c], rstd = 1 / sqrt(var + eps),
 * var biased. mean and rstd are [n*c]. instnorm_stats computes them;
 * instnorm_apply writes y = relu?(IN(x) + skip?) (skip NULL: none; relu 0 /
 * 1) with given statistics. */
void instnorm_stats(int n, int c, int hw, int block, float eps, const float *x, float *mean,
                    float *rstd);
void instnorm_apply(int n, int c, int hw, int block, const float *x, const float *scale,
                    const float *shift, const float *mean, const float *rstd, const float *skip,
                    int relu, float *y);
/* dx overwritten; dscale, dshift ([c], summed over n) overwritten, or NULL. */
void instnorm_backward(int n, int c, int hw, int block, const float *x, const float *scale,
                       const float *mean, const float *rstd, const float *dy, float *dx,
                       float *dscale, float *dshift);

/* upsample.c: nearest-neighbour upsampling by an integer factor f, layout
 * `block`: y[n][c][i][j] = x[n][c][i / f][j / f]; backward sums each f x f
 * block. */
void upsample_forward(int n, int c, int h, int w, int block, int f, const float *x, float *y);
void upsample_backward(int n, int c, int h, int w, int block, int f, const float *dy, float *dx);

/* activation.c: the generators' output map y = a * tanh(x) + b; backward
 * from y: dx = dy * a * (1 - t^2), t = (y - b) / a. */
void tanh_forward(size_t n, float a, float b, const float *x, float *y);
void tanh_backward(size_t n, float a, float b, const float *y, const float *dy,
                   float *dx);

#endif
