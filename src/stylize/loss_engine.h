/* loss_engine.h: the style transfer loss of docs/losses.md over a loss
 * network plan, shared by nst stylize (one image) and nst train (a batch):
 * the layers it taps, its content and style targets, and L(x), dL/dx.
 *
 * For a batch of n images each image has its own content targets, the style
 * target is shared, and the loss is the mean of the images' losses:
 *   L = (1/n) sum_b [content_weight * mean_l content_l(x_b)
 *                    + style_weight * sum_l w_l style_l(x_b) + tv_weight * tv(x_b)]. */
#ifndef NST_LOSS_ENGINE_H
#define NST_LOSS_ENGINE_H

#include "models/net.h"

typedef struct {
    int layer;      /* index in the net (a node of its graph) */
    float weight;   /* normalised loss weight of this layer */
    float *target;  /* content: features P of each image; style: blended Gram A */
    double *norm2;  /* content: ||P_b||^2 per image; style: ||A||^2 */
} tap;

typedef struct {
    const nst_net *net;
    const nst_stylize_params *p;
    int nc, ns;
    tap content[NST_MAX_LAYERS], style[NST_MAX_LAYERS];
    unsigned char *tapped;       /* per net layer: the plan's taps */
    float *gram;                 /* C*C scratch for the largest style layer */
    /* the temporal term (nst_stylize_params) at the plan's size, one image;
     * NULL: none */
    const float *temporal_target, *temporal_mask;
} loss_engine;

typedef struct {
    double content, style, tv, temporal; /* weighted terms */
} loss_terms;

/* Resolve p's content and style layers in net. p must outlive e. */
int engine_init(loss_engine *e, const nst_net *net, const nst_stylize_params *p, nst_error *err);
/* Blended Gram targets A_l = sum_k b_k gram_l(style_k), each style image
 * resized so its long side is p->style_scale * side. */
int engine_style_targets(loss_engine *e, const nst_image *styles, int n_styles, int side,
                         nst_error *err);
/* The loss network's plan for n images of w x h with the engine's taps and
 * p's padding, pooling and precision, computing the image's gradient. */
int engine_plan(const loss_engine *e, plan *pl, int n, int h, int w, nst_error *err);
/* Without allocating them: the bytes of engine_plan's arena at w x h, and
 * the peak of engine_style_targets at `side` (its largest style image's
 * plan and resized copy; only the styles' sizes are read). */
int engine_memory(const loss_engine *e, const nst_image *styles, int n_styles, int h, int w, int side,
                  double *net_bytes, double *style_bytes, nst_error *err);
/* Content targets: the features of plan->n images (plan's shape). */
int engine_content_targets(loss_engine *e, plan *plan, const float *images, nst_error *err);
/* L(x) and dL/dx (overwritten) for the batch x in plan's shape; returns the
 * total, the weighted terms in t. */
double engine_evaluate(loss_engine *e, plan *plan, const float *x, float *g, loss_terms *t);
void engine_free(loss_engine *e);

#endif
