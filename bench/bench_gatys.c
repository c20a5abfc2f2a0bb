/* bench_gatys.c: time one Gatys step of nst (forward through the loss
 * network, content and style losses with their gradients, backward to the
 * image, total variation) at the size of the given image, and print JSON.
 *
 * usage: bench_gatys --model PATH --content PNG --style PNG --x PNG
 *          [--content-layers L,L] [--style-layers L,L] [--padding reflect|zero]
 *          [--precision fp32|bf16] [--warmup N] [--steps N] [--threads N]
 *
 * The step is the one of nst_stylize (engine_evaluate of
 * src/stylize/loss_engine.c) with its default weights (content 1, style 200,
 * tv 1e-4, equal layer weights), evaluated at image x with content target
 * from `content` and Gram targets from `style`.
 * The loss of the first (warm-up) evaluation is printed so that run.py can
 * check that PyTorch computes the same value for the same x. */
#include <string.h>

#include "bench_common.h"
#include "stylize/loss_engine.h"

typedef struct {
    loss_engine e;
    plan plan;      /* bound to x's size */
    const float *x; /* the image of the timed steps */
    float *g;       /* its gradient */
} bench;

static void timed_step(void *ctx) {
    bench *b = ctx;
    loss_terms t;
    engine_evaluate(&b->e, &b->plan, b->x, b->g, &t);
}

/* FLOPs of one step: every conv forward and backward-data
 * (2*Cin*k*k*Cout*OH*OW each, the direct convolution's count also where
 * Winograd runs), and per style layer the Gram matrix and its gradient
 * counted as GEMMs (2*C*C*HW each). */
static void count_flops(const bench *b, double *conv, double *gram) {
    *conv = 2 * plan_conv_flops(&b->plan, NULL);
    *gram = 0;
    for (int i = 0; i < b->e.ns; i++) {
        plan_tap L = plan_tap_of(&b->plan, b->e.style[i].layer);
        *gram += 2 * 2.0 * L.c * L.c * L.h * L.w;
    }
}

int main(int argc, char **argv) {
    const char *model = NULL, *paths[3] = {NULL, NULL, NULL}, *cl = NULL, *sl = NULL;
    int warmup = 1, steps = 3, threads = 2, padding = NST_PAD_REFLECT, precision = NST_PRECISION_FP32;
    bench_prog = "bench_gatys";
    for (int i = 1; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--model")) model = v;
        else if (!strcmp(k, "--content")) paths[0] = v;
        else if (!strcmp(k, "--style")) paths[1] = v;
        else if (!strcmp(k, "--x")) paths[2] = v;
        else if (!strcmp(k, "--content-layers")) cl = v;
        else if (!strcmp(k, "--style-layers")) sl = v;
        else if (!strcmp(k, "--padding")) padding = strcmp(v, "zero") ? NST_PAD_REFLECT : NST_PAD_ZERO;
        else if (!strcmp(k, "--precision")) precision = strcmp(v, "bf16") ? NST_PRECISION_FP32 : NST_PRECISION_BF16;
        else if (!strcmp(k, "--warmup")) warmup = atoi(v);
        else if (!strcmp(k, "--steps")) steps = atoi(v);
        else if (!strcmp(k, "--threads")) threads = atoi(v);
        else die(k, NULL);
    }
    if (!model || !paths[0] || !paths[1] || !paths[2] || warmup < 1 || steps < 1 || steps > 1000) {
        fprintf(stderr, "usage: bench_gatys --model PATH --content PNG --style PNG --x PNG "
                        "[--content-layers L,L] [--style-layers L,L] [--padding reflect|zero] "
                        "[--precision fp32|bf16] [--warmup N>=1] [--steps N] [--threads N]\n");
        return 2;
    }
    nst_set_threads(threads);
    nst_error err;
    nst_net *net;
    nst_image img[3]; /* content, style, x */
    if (nst_net_load(model, &net, &err)) die("loading the model", &err);
    for (int i = 0; i < 3; i++)
        if (nst_image_load(paths[i], &img[i], &err)) die("loading an image", &err);
    const nst_image *x = &img[2];

    bench b = {0};
    nst_stylize_params p;
    nst_stylize_params_init(&p);
    nst_stylize_default_layers(&p, net);
    p.padding = padding, p.precision = precision;
    if (cl) p.n_content_layers = split_names(cl, p.content_layers);
    if (sl) p.n_style_layers = split_names(sl, p.style_layers);
    /* the style image comes at x's size: style_scale 1 keeps it as it is */
    int side = x->w > x->h ? x->w : x->h;
    float *g = xmalloc((size_t)3 * x->w * x->h * sizeof(float));
    if (engine_init(&b.e, net, &p, &err) || engine_style_targets(&b.e, &img[1], 1, side, &err) ||
        engine_plan(&b.e, &b.plan, 1, x->h, x->w, &err) ||
        engine_content_targets(&b.e, &b.plan, img[0].data, &err))
        die("setting up the step", &err);

    loss_terms t;
    double loss = engine_evaluate(&b.e, &b.plan, x->data, g, &t);
    for (int i = 1; i < warmup; i++) engine_evaluate(&b.e, &b.plan, x->data, g, &t);
    double *times = xmalloc((size_t)steps * sizeof(double));
    b.x = x->data, b.g = g;
    /* run.py's profile reads ONEDNN_VERBOSE's lines after this marker */
    printf("bench_gatys: timed steps\n");
    fflush(stdout);
    time_steps(timed_step, &b, steps, times);

    double conv, gram;
    count_flops(&b, &conv, &gram);
    printf("{\"side\": \"nst\", \"net\": \"%s\", \"w\": %d, \"h\": %d, \"threads\": %d, "
           "\"loss\": %.9g, \"flops_conv\": %.0f, \"flops_gram\": %.0f, ",
           net->name, x->w, x->h, threads, loss, conv, gram);
    print_tail(times, steps);

    free(times);
    free(g);
    engine_free(&b.e);
    plan_destroy(&b.plan);
    for (int i = 0; i < 3; i++) nst_image_free(&img[i]);
    nst_net_free(net);
    return 0;
}
