/* generator.h: the feed-forward style network of Johnson et al. 2016 as
 * trained by fast-style-transfer and published by ml5.js (deeplearn.js
 * checkpoints, see dljs_load), and a plan that binds it to a size.
 *
 * 16 convolutions, each followed by instance norm (IN):
 *   0  conv 9x9 s1 3->32, IN, ReLU       1  conv 3x3 s2 32->64, IN, ReLU
 *   2  conv 3x3 s2 64->128, IN, ReLU
 *   3..12  five residual blocks: x + IN(conv(ReLU(IN(conv(x)))))
 *   13 deconv 3x3 s2 128->64, IN, ReLU   14 deconv 3x3 s2 64->32, IN, ReLU
 *   15 conv 9x9 s1 32->3, IN;  y = clip(150 tanh + 127.5, 0, 255)
 * Layer i uses Variable_{3i} (kernel), Variable_{3i+1} (IN shift) and
 * Variable_{3i+2} (IN scale); the convolutions have no bias.
 *
 * The 'nearest' variant (Odena et al. 2016, "Deconvolution and checkerboard
 * artifacts") replaces the transposed convolutions 13 and 14 by nearest x2
 * upsampling then a 3x3 stride-1 'SAME' convolution with the same channels:
 * every output pixel then sees the same number of kernel taps, so the
 * uneven overlap of a stride-2 deconvolution (a checkerboard) cannot arise.
 * The ml5 networks are 'deconv'; nst train makes 'nearest' by default. */
#ifndef NST_GENERATOR_H
#define NST_GENERATOR_H

#include "graph/plan.h"
#include "io/io.h"
#include "nst.h"

#define GEN_LAYERS 16
#define GEN_IN_EPS 1e-3f
/* output map y = GEN_OUT_A * tanh(x) + GEN_OUT_B */
#define GEN_OUT_A 150.0f
#define GEN_OUT_B 127.5f

/* Layers 13 and 14: transposed convolutions or upsample + convolution. */
typedef enum { GEN_UP_DECONV, GEN_UP_NEAREST } gen_upsample;
/* "deconv" / "nearest"; gen_upsample_parse returns -1 for anything else. */
const char *gen_upsample_name(gen_upsample u);
int gen_upsample_parse(const char *s);

typedef struct {
    int deconv;           /* transposed convolution (x2 upsampling) */
    int up;               /* nearest upsampling by this factor before the conv (0: none) */
    int cin, cout, k, stride;
    int relu;             /* ReLU after the instance norm */
    int skip;             /* >= 0: residual, adds the input of layer `skip` after IN */
    float *weight;        /* conv [cout][cin][k][k]; deconv [cin][cout][k][k] */
    float *shift, *scale; /* IN, [cout] */
} gen_layer;

struct nst_generator {
    char path[1024];      /* the checkpoint directory */
    gen_upsample upsample;
    gen_layer layers[GEN_LAYERS];
    graph g;              /* the network the plan runs (graph/plan.h); its
                           * nodes point into params */
    float *params;        /* = g.params: every weight, shift and scale */
    size_t n_params;
};

/* The architecture with zeroed parameters (one allocation, the layouts below)
 * and its graph: per layer [upsample] conv or deconv, instance norm,
 * [residual add], [ReLU], then the output map; path is recorded for
 * messages. gen_free releases it. */
int gen_alloc(struct nst_generator *g, const char *path, gen_upsample up, nst_error *err);
/* "Variable" (k = 0) or "Variable_k". */
void gen_var_name(int k, char *out, size_t n);
/* Shape of layer L's kernel in TF's layout (see gen_from_dict). */
void gen_kernel_shape(const gen_layer *L, int64_t shape[4]);
/* Convert a kernel (or its gradient) between TF's layout and ours: to_tf = 1
 * reads ours from src and writes TF's into dst; to_tf = 0 the reverse. */
void gen_kernel_convert(const gen_layer *L, const float *src, float *dst, int to_tf);

/* Build the architecture `up` from a checkpoint's variables (Variable,
 * Variable_1.._47; other tensors, such as a training state, are ignored);
 * every shape is checked. The kernels are converted from TF's HWIO
 * ([k][k][cin][cout]; deconv [k][k][cout][cin]) to the layouts above. */
int gen_from_dict(const tensor_dict *d, const char *dir, gen_upsample up,
                  struct nst_generator *g, nst_error *err);

/* The backward of the graph's output (plan_backward) passes the clip of
 * the output straight through: the gradient is that of the unclipped map
 * 150 tanh + 127.5, so a saturated pixel still learns which way to go (the
 * true gradient of the clip would be 0 there and such pixels could stay
 * stuck). tests/pytorch/gen_train.py does the same. */
void gen_free(struct nst_generator *g);

/* ---- gen_checkpoint.c: nst's own format ----------------------------------
 * A safetensors file: the 48 variables as in a deeplearn.js checkpoint
 * (F32, TF layouts), __metadata__ {"format": "nst-generator", "architecture":
 * JSON text {"upsample": "deconv"|"nearest", "layers": the layer table, ...}}
 * plus the caller's entries (nst train adds its training state: Adam
 * moments as extra tensors, iteration, PRNG). A file without "upsample"
 * (written before the option existed) is "deconv". */
#define GEN_FORMAT "nst-generator"
/* Read a checkpoint file into d (d->metadata holds its __metadata__) and its
 * architecture's upsampling into *up (may be NULL). */
int gen_checkpoint_read(const char *path, tensor_dict *d, gen_upsample *up, nst_error *err);
/* Write g and `extra` tensors (may be NULL) with metadata pairs
 * meta[0..2*n_meta-1] (key, value, ...), atomically. */
int gen_checkpoint_write(const char *path, const struct nst_generator *g,
                         const tensor_dict *extra, const char *const *meta, int n_meta,
                         nst_error *err);

#endif
