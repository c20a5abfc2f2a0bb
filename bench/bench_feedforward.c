/* bench_feedforward.c: time nst's feed-forward style network work and print
 * JSON (bench/run.py runs it; see bench/README.md).
 *
 * usage: bench_feedforward apply --net DIR --image PNG [--out PNG]
 *          [--warmup N] [--steps N] [--threads N]
 *        bench_feedforward train --net DIR --model PATH --style PNG --batch PNG,PNG,...
 *          [--content-layers L,L] [--style-layers L,L] [--warmup N] [--steps N] [--threads N]
 *        bench_feedforward arbitrary --pair DIR --image PNG --style PNG [--out PNG]
 *          [--save-style JSON] [--warmup N] [--steps N] [--threads N]
 *
 * apply: one forward pass of the generator (a deeplearn.js checkpoint) over
 *   the image, through the generator plan nst_apply uses for an image that
 *   needs no tiles (batch 1, inference buffers). The output of the first
 *   (warm-up) pass is written to --out, for run.py to compare with PyTorch's.
 * train: one iteration of nst train (train_step of src/feedforward/train.c:
 *   content targets, generator forward, loss network forward and backward,
 *   generator backward, Adam) on the batch of equal-sized square crops, the
 *   generator starting from the given network; the loss is nst_train's
 *   default (style weight 50, the net's default layers) with the style
 *   targets of the style image at the crop size, computed before timing. The
 *   loss of the first (warm-up) step is printed for run.py's check.
 * arbitrary: one forward pass of Magenta's transfer network (the pair of
 *   nst_arbitrary_load, float16 transfer file) over the image (sides
 *   multiples of 4, batch 1, no tiles) through the plan, as
 *   nst_arbitrary_apply runs a picture that needs no tiles at strength 1.
 *   The style vector of the painting (nst_style_vector) is computed once
 *   before timing and not timed; --save-style writes it
 *   (nst_style_vector_save) for the PyTorch side to use the same vector.
 *   The first (warm-up) pass's output goes to --out. */
#include <string.h>

#include "bench_common.h"
#include "feedforward/arbitrary.h"
#include "feedforward/train.h"

typedef struct {
    const char *net, *image, *out, *model, *style, *batch, *cl, *sl, *pair, *save_style;
    int warmup, steps, threads;
} options;

/* ---- apply --------------------------------------------------------------- */

typedef struct {
    plan plan;
    const float *x;
} apply_bench;

static void apply_step(void *ctx) {
    apply_bench *a = ctx;
    plan_forward(&a->plan, a->x, 0);
}

/* One forward pass of `net` (with graph input 1 = style, if not NULL) over
 * x through a plan, timed; the first pass's output goes to o->out. Prints
 * the JSON of the row; `extra` adds fields ("" or "\"k\": v, "). */
static void time_forward(const options *o, const char *bench, const graph *net, const float *style,
                         const nst_image *x, const char *extra) {
    nst_error err;
    apply_bench a = {.x = x->data};
    static const plan_opts infer;
    if (plan_create(&a.plan, net, 1, x->h, x->w, &infer, &err)) die("the network's plan", &err);
    if (style) plan_set_input(&a.plan, 1, style);
    apply_step(&a);
    nst_image y = {.w = x->w, .h = x->h, .data = a.plan.output};
    if (o->out && nst_image_save(o->out, &y, &err)) die("saving the output", &err);
    for (int i = 1; i < o->warmup; i++) apply_step(&a);
    double *times = xmalloc((size_t)o->steps * sizeof(double));
    time_steps(apply_step, &a, o->steps, times);
    printf("{\"side\": \"nst\", \"bench\": \"%s\", \"w\": %d, \"h\": %d, \"threads\": %d, %s"
           "\"flops_conv\": %.0f, \"flops_gram\": 0, ",
           bench, x->w, x->h, o->threads, extra, plan_conv_flops(&a.plan, NULL));
    print_tail(times, o->steps);
    free(times);
    plan_destroy(&a.plan);
}

static void bench_apply(const options *o) {
    nst_error err;
    nst_generator *g;
    nst_image x;
    if (nst_generator_load(o->net, &g, &err)) die("loading the style network", &err);
    if (nst_image_load(o->image, &x, &err)) die("loading the image", &err);
    time_forward(o, "apply", &g->g, NULL, &x, "");
    nst_image_free(&x);
    nst_generator_free(g);
}

/* ---- arbitrary ----------------------------------------------------------- */

static void bench_arbitrary(const options *o) {
    nst_error err;
    nst_arbitrary *arb;
    nst_image x, painting;
    if (nst_arbitrary_load(o->pair, &arb, &err)) die("loading the arbitrary-style pair", &err);
    if (nst_image_load(o->image, &x, &err)) die("loading the image", &err);
    if (nst_image_load(o->style, &painting, &err)) die("loading the style image", &err);
    if (x.w % 4 || x.h % 4) die("the image's sides must be multiples of 4", NULL);
    int size = nst_style_vector_size(arb);
    float v[NST_STYLE_VECTOR_MAX];
    if (nst_style_vector(arb, &painting, v, &err)) die("style vector", &err); /* not timed */
    if (o->save_style && nst_style_vector_save(o->save_style, v, size, &err)) die("saving the style vector", &err);
    char extra[64];
    snprintf(extra, sizeof extra, "\"style_size\": %d, ", size);
    time_forward(o, "arbitrary", &arb->transfer, v, &x, extra);
    nst_image_free(&painting);
    nst_image_free(&x);
    nst_arbitrary_free(arb);
}

/* ---- train --------------------------------------------------------------- */

typedef struct {
    loss_engine e;
    plan np, gp;
    adam_state adam;
    float *x, *dy, *grads;
    double loss;
} train_bench;

static void train_bench_step(void *ctx) {
    train_bench *t = ctx;
    nst_error err;
    loss_terms lt;
    if (train_step(&t->e, &t->np, &t->gp, &t->adam, t->x, t->dy, t->grads, NULL, &t->loss, &lt, &err))
        die("train step", &err);
}

/* The comma-separated square crops, all of one size, into one n x 3 x c x c
 * batch; returns n, *crop gets c. */
static float *load_batch(const char *list, int *n, int *crop) {
    char path[4096];
    float *x = NULL;
    *n = 0;
    for (const char *s = list; *s;) {
        size_t len = strcspn(s, ",");
        snprintf(path, sizeof path, "%.*s", (int)len, s);
        s += len + (s[len] == ',');
        nst_image im;
        nst_error err;
        if (nst_image_load(path, &im, &err)) die("loading a crop", &err);
        if (*n == 0) *crop = im.w;
        if (im.w != *crop || im.h != *crop) die(path, NULL);
        size_t m = (size_t)3 * im.w * im.h;
        float *grown = realloc(x, (*n + 1) * m * sizeof(float));
        if (!grown) die("out of memory", NULL);
        x = grown;
        memcpy(x + (size_t)(*n)++ * m, im.data, m * sizeof(float));
        nst_image_free(&im);
    }
    if (*n == 0) die("no crops in --batch", NULL);
    return x;
}

static void bench_train(const options *o) {
    nst_error err;
    nst_net *net;
    nst_generator *g;
    nst_image style;
    if (nst_net_load(o->model, &net, &err)) die("loading the loss network", &err);
    if (nst_generator_load(o->net, &g, &err)) die("loading the style network", &err);
    if (nst_image_load(o->style, &style, &err)) die("loading the style image", &err);
    int n, c = 0;
    train_bench t = {0};
    t.x = load_batch(o->batch, &n, &c);

    /* the loss as nst_train sets it up */
    nst_train_params tp;
    nst_train_params_init(&tp);
    nst_stylize_params lp = tp.loss;
    lp.style_scale = 1;
    nst_stylize_default_layers(&lp, net);
    if (o->cl) lp.n_content_layers = split_names(o->cl, lp.content_layers);
    if (o->sl) lp.n_style_layers = split_names(o->sl, lp.style_layers);
    const plan_opts training = {.grads = PLAN_GRAD_PARAMS};
    if (engine_init(&t.e, net, &lp, &err) || engine_style_targets(&t.e, &style, 1, c, &err) ||
        plan_create(&t.gp, &g->g, n, c, c, &training, &err) || engine_plan(&t.e, &t.np, n, c, c, &err) ||
        adam_init(&t.adam, g->n_params, tp.learning_rate, &err))
        die("setting up", &err);
    t.dy = xmalloc((size_t)n * 3 * c * c * sizeof(float));
    t.grads = xmalloc(g->n_params * sizeof(float));

    train_bench_step(&t);
    double loss = t.loss;
    for (int i = 1; i < o->warmup; i++) train_bench_step(&t);
    double *times = xmalloc((size_t)o->steps * sizeof(double));
    time_steps(train_bench_step, &t, o->steps, times);

    /* generator: forward, weight gradients, input gradients but for layer 0;
     * loss network: forward for the content targets, forward, backward to y;
     * per image and style layer the Gram matrix and its gradient */
    double first, gen = plan_conv_flops(&t.gp, &first), lossnet = 3 * plan_conv_flops(&t.np, NULL);
    double gram = 0;
    for (int i = 0; i < t.e.ns; i++) {
        plan_tap L = plan_tap_of(&t.np, t.e.style[i].layer);
        gram += 2 * 2.0 * L.c * L.c * L.h * L.w * n;
    }
    printf("{\"side\": \"nst\", \"bench\": \"train\", \"w\": %d, \"h\": %d, \"batch\": %d, "
           "\"threads\": %d, \"loss\": %.9g, \"flops_conv\": %.0f, \"flops_gram\": %.0f, "
           "\"flops_generator\": %.0f, \"flops_loss_net\": %.0f, ",
           c, c, n, o->threads, loss, 3 * gen - first + lossnet, gram, 3 * gen - first, lossnet);
    print_tail(times, o->steps);
    free(times);
    free(t.x);
    free(t.dy);
    free(t.grads);
    adam_free(&t.adam);
    plan_destroy(&t.np);
    plan_destroy(&t.gp);
    engine_free(&t.e);
    nst_image_free(&style);
    nst_generator_free(g);
    nst_net_free(net);
}

int main(int argc, char **argv) {
    bench_prog = "bench_feedforward";
    options o = {.warmup = 1, .steps = 3, .threads = 2};
    int train = argc > 1 && !strcmp(argv[1], "train"), apply = argc > 1 && !strcmp(argv[1], "apply");
    int arbitrary = argc > 1 && !strcmp(argv[1], "arbitrary");
    for (int i = 2; i + 1 < argc; i += 2) {
        const char *k = argv[i], *v = argv[i + 1];
        if (!strcmp(k, "--net")) o.net = v;
        else if (!strcmp(k, "--image")) o.image = v;
        else if (!strcmp(k, "--out")) o.out = v;
        else if (!strcmp(k, "--model")) o.model = v;
        else if (!strcmp(k, "--style")) o.style = v;
        else if (!strcmp(k, "--batch")) o.batch = v;
        else if (!strcmp(k, "--pair")) o.pair = v;
        else if (!strcmp(k, "--save-style")) o.save_style = v;
        else if (!strcmp(k, "--content-layers")) o.cl = v;
        else if (!strcmp(k, "--style-layers")) o.sl = v;
        else if (!strcmp(k, "--warmup")) o.warmup = atoi(v);
        else if (!strcmp(k, "--steps")) o.steps = atoi(v);
        else if (!strcmp(k, "--threads")) o.threads = atoi(v);
        else die(k, NULL);
    }
    if (!(apply && o.net && o.image) && !(train && o.net && o.model && o.style && o.batch) &&
        !(arbitrary && o.pair && o.image && o.style)) {
        fprintf(stderr, "usage: bench_feedforward apply --net DIR --image PNG [--out PNG] ...\n"
                        "       bench_feedforward train --net DIR --model PATH --style PNG "
                        "--batch PNG,PNG,... [--content-layers L,L] [--style-layers L,L] ...\n"
                        "       bench_feedforward arbitrary --pair DIR --image PNG --style PNG "
                        "[--out PNG] [--save-style JSON] ...\n"
                        "       options of all: [--warmup N>=1] [--steps N] [--threads N]\n");
        return 2;
    }
    if (o.warmup < 1 || o.steps < 1 || o.steps > 1000) die("--warmup >= 1, --steps 1..1000", NULL);
    nst_set_threads(o.threads);
    if (apply) bench_apply(&o);
    else if (arbitrary) bench_arbitrary(&o);
    else bench_train(&o);
    return 0;
}
