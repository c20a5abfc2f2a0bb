/* bench_gatys.c: time one Gatys step of nst (forward through the loss
 * network, content and style losses with their gradients, backward to the
 * image, total variation) at the size of the given image, and print JSON.
 *
 * usage: bench_gatys --model PATH --content PNG --style PNG --x PNG
 *          [--content-layers L,L] [--style-layers L,L] [--padding reflect|zero]
 *          [--warmup N] [--steps N] [--threads N]
 *
 * The step is the one of nst_stylize (src/stylize/stylize.c) with its default
 * weights (content 1, style 200, tv 1e-4, equal layer weights), evaluated at
 * image x with content target from `content` and Gram targets from `style`.
 * The loss of the first (warm-up) evaluation is printed so that run.py can
 * check that PyTorch computes the same value for the same x. */
#include <string.h>

#include "bench_common.h"
#include "losses/losses.h"
#include "models/net.h"

typedef struct {
    int n;
    int layer[NST_MAX_LAYERS];
    float *target[NST_MAX_LAYERS]; /* content: features P; style: Gram A */
    double norm2[NST_MAX_LAYERS];
} taps;

typedef struct {
    nst_stylize_params p; /* weights and layer names */
    net_plan plan;        /* bound to x's size */
    taps content, style;
    float *gram, *dgram;  /* C*C scratch */
    const float *x;       /* the image of the timed steps */
    float *g;             /* its gradient */
} bench;

static void resolve(const nst_net *net, char names[][64], int n, taps *t, unsigned char *tapped) {
    t->n = n;
    for (int i = 0; i < n; i++) {
        t->layer[i] = nst_net_find_layer(net, names[i]);
        if (t->layer[i] < 0) die(names[i], NULL);
        tapped[t->layer[i]] = 1;
    }
}

static double sumsq(const float *x, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
    return s;
}

static size_t layer_numel(const plan_layer *L) { return (size_t)L->c * L->h * L->w; }

/* Targets: content features from `content` (at x's size, on b->plan) and
 * Gram matrices from `style` (at its own size, on a plan of its own). */
static void targets(bench *b, const nst_net *net, const unsigned char *tapped,
                    const nst_image *content, const nst_image *style) {
    nst_error err;
    plan_forward(&b->plan, content->data);
    for (int i = 0; i < b->content.n; i++) {
        const plan_layer *L = &b->plan.L[b->content.layer[i]];
        size_t m = layer_numel(L);
        b->content.target[i] = malloc(m * sizeof(float));
        if (!b->content.target[i]) die("out of memory", NULL);
        memcpy(b->content.target[i], L->out, m * sizeof(float));
        b->content.norm2[i] = sumsq(L->out, m);
    }
    net_plan sp;
    if (plan_create(&sp, net, 1, style->h, style->w, tapped, b->p.padding, b->p.pooling, b->p.precision, &err))
        die("style plan", &err);
    plan_forward(&sp, style->data);
    for (int i = 0; i < b->style.n; i++) {
        const plan_layer *L = &sp.L[b->style.layer[i]];
        b->style.target[i] = malloc((size_t)L->c * L->c * sizeof(float));
        if (!b->style.target[i]) die("out of memory", NULL);
        gram_matrix(L->c, L->h * L->w, L->out, b->style.target[i]);
        b->style.norm2[i] = sumsq(b->style.target[i], (size_t)L->c * L->c);
    }
    plan_destroy(&sp);
}

/* One Gatys step at x: the loss, its gradient in g. */
static double step(bench *b, const float *x, float *g) {
    net_plan *pl = &b->plan;
    double loss = 0;
    plan_forward(pl, x);
    plan_zero_loss_grads(pl);
    for (int i = 0; i < b->content.n; i++) {
        plan_layer *L = &pl->L[b->content.layer[i]];
        loss += content_loss(b->p.content_weight / b->content.n, layer_numel(L), L->out,
                             b->content.target[i], b->content.norm2[i], L->loss_grad);
    }
    for (int i = 0; i < b->style.n; i++) {
        plan_layer *L = &pl->L[b->style.layer[i]];
        loss += style_loss(b->p.style_weight / b->style.n, L->c, L->h * L->w, L->out,
                           b->style.target[i], b->style.norm2[i], b->gram, b->dgram, L->loss_grad);
    }
    plan_backward(pl, g);
    return loss + tv_loss(b->p.tv_weight, 3, pl->h, pl->w, x, g);
}

static void timed_step(void *b) { step(b, ((bench *)b)->x, ((bench *)b)->g); }

/* FLOPs of one step: every conv forward and backward-data
 * (2*Cin*k*k*Cout*OH*OW each), and per style layer the Gram matrix and its
 * gradient counted as GEMMs (2*C*C*HW each). */
static void count_flops(const bench *b, const nst_net *net, double *conv, double *gram) {
    *conv = *gram = 0;
    for (int i = 0; i < b->plan.n_layers; i++) {
        const net_layer *nl = &net->layers[i];
        const plan_layer *L = &b->plan.L[i];
        if (nl->kind == NET_CONV)
            *conv += 2 * 2.0 * nl->cin * nl->k * nl->k * nl->cout * L->h * L->w;
    }
    for (int i = 0; i < b->style.n; i++) {
        const plan_layer *L = &b->plan.L[b->style.layer[i]];
        *gram += 2 * 2.0 * L->c * L->c * L->h * L->w;
    }
}

int main(int argc, char **argv) {
    const char *model = NULL, *paths[3] = {NULL, NULL, NULL}, *cl = NULL, *sl = NULL;
    int warmup = 1, steps = 3, threads = 2, padding = NST_PAD_REFLECT;
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
        else if (!strcmp(k, "--warmup")) warmup = atoi(v);
        else if (!strcmp(k, "--steps")) steps = atoi(v);
        else if (!strcmp(k, "--threads")) threads = atoi(v);
        else die(k, NULL);
    }
    if (!model || !paths[0] || !paths[1] || !paths[2] || warmup < 1 || steps < 1 || steps > 1000) {
        fprintf(stderr, "usage: bench_gatys --model PATH --content PNG --style PNG --x PNG "
                        "[--content-layers L,L] [--style-layers L,L] [--padding reflect|zero] "
                        "[--warmup N>=1] [--steps N] [--threads N]\n");
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
    nst_stylize_defaults(&b.p);
    nst_stylize_default_layers(&b.p, net);
    b.p.padding = padding;
    if (cl) b.p.n_content_layers = split_names(cl, b.p.content_layers);
    if (sl) b.p.n_style_layers = split_names(sl, b.p.style_layers);
    unsigned char *tapped = calloc((size_t)net->n_layers, 1);
    if (!tapped) die("out of memory", NULL);
    resolve(net, b.p.content_layers, b.p.n_content_layers, &b.content, tapped);
    resolve(net, b.p.style_layers, b.p.n_style_layers, &b.style, tapped);
    if (plan_create(&b.plan, net, 1, x->h, x->w, tapped, b.p.padding, b.p.pooling, b.p.precision, &err))
        die("plan", &err);
    int cmax = 0;
    for (int i = 0; i < b.style.n; i++)
        if (net->layers[b.style.layer[i]].cout > cmax) cmax = net->layers[b.style.layer[i]].cout;
    b.gram = malloc((size_t)cmax * cmax * sizeof(float));
    b.dgram = malloc((size_t)cmax * cmax * sizeof(float));
    float *g = malloc((size_t)3 * x->w * x->h * sizeof(float));
    if (!b.gram || !b.dgram || !g) die("out of memory", NULL);
    targets(&b, net, tapped, &img[0], &img[1]);

    double loss = step(&b, x->data, g);
    for (int i = 1; i < warmup; i++) step(&b, x->data, g);
    double *times = xmalloc((size_t)steps * sizeof(double));
    b.x = x->data, b.g = g;
    time_steps(timed_step, &b, steps, times);

    double conv, gram;
    count_flops(&b, net, &conv, &gram);
    printf("{\"side\": \"nst\", \"net\": \"%s\", \"w\": %d, \"h\": %d, \"threads\": %d, "
           "\"loss\": %.9g, \"flops_conv\": %.0f, \"flops_gram\": %.0f, ",
           net->name, x->w, x->h, threads, loss, conv, gram);
    print_tail(times, steps);

    for (int i = 0; i < NST_MAX_LAYERS; i++) {
        free(b.content.target[i]);
        free(b.style.target[i]);
    }
    free(times);
    free(g);
    free(b.gram);
    free(b.dgram);
    free(tapped);
    plan_destroy(&b.plan);
    for (int i = 0; i < 3; i++) nst_image_free(&img[i]);
    nst_net_free(net);
    return 0;
}
