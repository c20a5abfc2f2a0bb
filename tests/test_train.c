/* test_train.c: training feed-forward style networks: the generator's
 * backward (parameter and input gradients, both architectures: deconv and
 * nearest upsampling) against PyTorch (tests/pytorch/gen_train.py) and
 * directional finite differences; a tiny training run that lowers the loss; a resumed
 * run that ends with the same bytes as an uninterrupted one; the
 * checkpoint through nst_generator_load and nst_apply; two shards of a
 * data-parallel run (threads summing through a barrier) where one cannot
 * start: both stop with a message, neither waits for ever. */
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "models/generator.h"
#include "testutil.h"

/* ---- generator backward ------------------------------------------------- */

typedef struct {
    plan *p;
    const float *x, *R;
} objective;

/* sum(output(x) * R), double accumulation */
static double output_dot(objective *o, const float *x) {
    plan_forward(o->p, x, 0);
    size_t n = (size_t)o->p->n * 3 * o->p->h * o->p->w;
    double f = 0;
    for (size_t i = 0; i < n; i++) f += (double)o->p->output[i] * o->R[i];
    return f;
}

/* f(params) = sum(output * R) */
static double gen_objective(const float *params, void *vctx) {
    objective *o = vctx;
    (void)params; /* the plan reads g->params, which the caller perturbed */
    plan_weights_changed(o->p);
    return output_dot(o, o->x);
}

/* f(x) = sum(output(x) * R) */
static double input_objective(const float *x, void *vctx) { return output_dot(vctx, x); }

static double norm(const float *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

static void backward_vs_pytorch(nst_generator *g, const char *fixture) {
    tensor_dict fx = {0};
    tu_load_fixture(fixture, &fx);
    printf("%s (%s)\n", fixture, gen_upsample_name(g->upsample));
    const tensor *x = tu_get(&fx, "x"), *R = tu_get(&fx, "R"), *y = tu_get(&fx, "y");
    int n = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
    plan p;
    nst_error err;
    const plan_opts o_train = {.grads = PLAN_GRAD_PARAMS | PLAN_GRAD_INPUT};
    int rc = plan_create(&p, &g->g, n, h, w, &o_train, &err);
    CHECK(rc == 0, "plan: %s", err.msg);
    if (rc) {
        dict_free(&fx);
        return;
    }
    float *grads = malloc(g->n_params * sizeof(float)), *dx = malloc(x->numel * sizeof(float));
    plan_forward(&p, x->data, 0);
    tu_close("output vs PyTorch", p.output, y->data, y->numel, 0.02f, 1e-4f);
    plan_backward(&p, R->data, dx, grads);
    tu_rel_close("dL/dx vs PyTorch", dx, tu_get(&fx, "dx")->data, x->numel, 2e-3);
    char name[32], key[48];
    for (int i = 0; i < GEN_LAYERS; i++) {
        const gen_layer *L = &g->layers[i];
        size_t nk = (size_t)L->k * L->k * L->cin * L->cout;
        float *tf = malloc(nk * sizeof(float));
        gen_kernel_convert(L, grads + (L->weight - g->params), tf, 1);
        gen_var_name(3 * i, name, sizeof name);
        snprintf(key, sizeof key, "d/%s", name);
        if (dict_get(&fx, key)) tu_rel_close(key, tf, tu_get(&fx, key)->data, nk, 2e-3);
        double proj = 0;
        for (size_t j = 0; j < nk; j++) proj += tf[j] * ((double)(j * 7919 % 1000) / 500 - 1);
        snprintf(key, sizeof key, "norm/%s", name);
        double want = tu_get(&fx, key)->data[0], got = norm(tf, nk);
        CHECK(fabs(got - want) <= 2e-3 * want, "layer %d: |dkernel| %g, PyTorch %g", i, got, want);
        snprintf(key, sizeof key, "proj/%s", name);
        double pw = tu_get(&fx, key)->data[0];
        CHECK(fabs(proj - pw) <= 2e-3 * want * sqrt((double)nk) / 2, "layer %d: projection %g, PyTorch %g", i, proj, pw);
        free(tf);
        for (int v = 1; v < 3; v++) {
            gen_var_name(3 * i + v, name, sizeof name);
            snprintf(key, sizeof key, "d/%s", name);
            const float *mine = grads + ((v == 1 ? L->shift : L->scale) - g->params);
            tu_rel_close(key, mine, tu_get(&fx, key)->data, (size_t)L->cout, 2e-3);
        }
    }

    /* finite differences along random directions of every parameter; R is
     * zeroed where the output is clipped, where the straight-through
     * gradient and the true one differ */
    float *R2 = malloc(R->numel * sizeof(float));
    for (size_t i = 0; i < R->numel; i++)
        R2[i] = p.output[i] > 0 && p.output[i] < 255 ? R->data[i] : 0;
    plan_forward(&p, x->data, 0);
    plan_backward(&p, R2, dx, grads);
    objective o = {&p, x->data, R2};
    /* measured 9.2e-3 (deconv), 5.6e-3 (nearest): float32 noise against
     * the ReLU kinks that a step along all 1.7M parameters crosses */
    tu_check_dir_grad("generator parameters", gen_objective, &o, g->params, grads, g->n_params, 3,
                      1e-4f, 3e-2);
    plan_weights_changed(&p);
    float *x2 = malloc(x->numel * sizeof(float));
    memcpy(x2, x->data, x->numel * sizeof(float));
    /* measured 1.7e-3 (deconv), 3.6e-3 (nearest) at a step of 0.02 grey
     * levels; 4e-2 at 0.1, where ReLU kinks are crossed */
    tu_check_dir_grad("generator input", input_objective, &o, x2, dx, x->numel, 3, 0.02f, 1e-2);
    free(x2);
    free(R2);
    free(dx);
    free(grads);
    plan_destroy(&p);
    dict_free(&fx);
}

/* ---- training ------------------------------------------------------------ */

typedef struct {
    double first, last;
} losses;

static void record(const nst_train_progress *pr, void *user) {
    losses *l = user;
    if (pr->iteration == 1) l->first = pr->loss;
    l->last = pr->loss;
}

static void quiet(const char *msg, void *user) {
    (void)msg, (void)user;
}

/* 64 px crops, batch 1, of `dir`'s photos for `iterations` in total. */
static int tiny_run(const nst_net *net, const nst_image *style, const char *dir, const char *out,
                    int iterations, int resume, losses *l, nst_error *err) {
    nst_train_params p;
    nst_train_params_init(&p);
    p.content_dir = dir, p.output = out, p.resume = resume;
    p.iterations = iterations, p.batch_size = 1, p.crop = 64, p.checkpoint_every = 3;
    p.seed = 11, p.learning_rate = 1e-2f, p.report_every = 1;
    p.progress = record, p.warn = quiet, p.user = l;
    return nst_train(net, style, &p, err);
}

/* The Variable* tensors of two checkpoints are byte-identical. */
static int same_weights(const char *a, const char *b) {
    tensor_dict da = {0}, db = {0};
    nst_error err;
    int same = gen_checkpoint_read(a, &da, NULL, &err) == 0 && gen_checkpoint_read(b, &db, NULL, &err) == 0;
    for (int i = 0; same && i < da.count; i++) {
        const tensor *t = dict_get(&db, da.t[i].name);
        same = t && t->numel == da.t[i].numel &&
               !memcmp(t->data, da.t[i].data, t->numel * sizeof(float));
    }
    dict_free(&da);
    dict_free(&db);
    return same;
}

/* Two shards in threads of this process; their sums meet at a barrier. */
typedef struct {
    pthread_barrier_t meet;
    float *buf[2];
    size_t n[2];
    int sums[2];
} pair;

typedef struct {
    pair *pair;
    int shard, rc;
    const nst_net *net;
    const nst_image *style;
    const char *dir, *out;
    nst_error err;
} shard_run;

/* buf[i] = the sum of both shards' buf[i]; -1 if they sum different sizes. */
static int pair_sum(float *buf, size_t n, void *user) {
    shard_run *r = user;
    pair *p = r->pair;
    p->buf[r->shard] = buf, p->n[r->shard] = n, p->sums[r->shard]++;
    pthread_barrier_wait(&p->meet);
    int same = p->n[0] == p->n[1];
    if (r->shard == 0 && same)
        for (size_t i = 0; i < n; i++) p->buf[0][i] = p->buf[1][i] = p->buf[0][i] + p->buf[1][i];
    pthread_barrier_wait(&p->meet);
    return same ? 0 : -1;
}

static void *shard_main(void *user) {
    shard_run *r = user;
    nst_train_params p;
    nst_train_params_init(&p);
    p.content_dir = r->dir, p.output = r->out;
    p.iterations = 2, p.batch_size = 1, p.crop = 64, p.checkpoint_every = 0, p.seed = 11;
    p.shard = r->shard, p.shards = 2, p.sum = pair_sum, p.warn = quiet, p.user = r;
    r->rc = nst_train(r->net, r->style, &p, &r->err);
    return NULL;
}

/* Shard 1 cannot list its photos; shard 0 has set everything up when it
 * hears so, in one sum of one float: both fail, neither hangs. */
static void shard_cannot_start(const nst_net *net, const nst_image *style, const char *dir) {
    pair p = {0};
    pthread_barrier_init(&p.meet, NULL, 2);
    shard_run r[2] = {{&p, 0, 0, net, style, dir, tu_tmp_path("s.nst"), {0}},
                      {&p, 1, 0, net, style, tu_tmp_path("no-such-photos"), tu_tmp_path("s.nst"), {0}}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++) pthread_create(&t[i], NULL, shard_main, &r[i]);
    for (int i = 0; i < 2; i++) pthread_join(t[i], NULL);
    pthread_barrier_destroy(&p.meet);
    CHECK(r[1].rc != 0 && strstr(r[1].err.msg, "no-such-photos"), "shard 1: %d %s", r[1].rc, r[1].err.msg);
    CHECK(r[0].rc == NST_ERR_RUNTIME && strstr(r[0].err.msg, "1 of them could not start"), "shard 0: %d %s",
          r[0].rc, r[0].err.msg);
    CHECK(p.sums[0] == 1 && p.sums[1] == 1, "sums: %d and %d, want one each", p.sums[0], p.sums[1]);
    CHECK(tu_file_size(tu_tmp_path("s.nst")) < 0, "a run that did not start wrote a network");
}

static void training(void) {
    const char *model = tu_shared("models/darknet-tiny"), *photos = tu_shared("images/photos");
    const char *style_path = tu_shared("images/style/starry_night.jpg");
    if (!model || !photos || !style_path) return;
    nst_net *net = NULL;
    nst_image style = {0};
    nst_error err;
    CHECK(nst_net_load(model, &net, &err) == 0, "%s", err.msg);
    CHECK(nst_image_load(style_path, &style, &err) == 0, "%s", err.msg);
    if (!net || !style.data) return;
    tu_tmpdir_create("train");
    /* three photos (and a file that is not an image, skipped) */
    const char *dir = tu_tmp_path("photos");
    mkdir(dir, 0755);
    static const char *const names[] = {"100075.jpg", "100080.jpg", "100098.jpg"};
    char src[2048], dst[2048];
    for (int i = 0; i < 3; i++) {
        snprintf(src, sizeof src, "%s/%s", photos, names[i]);
        snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
        CHECK(symlink(src, dst) == 0, "symlink %s", src);
    }
    snprintf(dst, sizeof dst, "%s/notes.txt", dir);
    tu_write_file(dst, "hello", 5);

    losses straight = {0}, part = {0}, rest = {0};
    const char *a = tu_tmp_path("a.nst"), *b = tu_tmp_path("b.nst");
    CHECK(tiny_run(net, &style, dir, a, 6, 0, &straight, &err) == 0, "6 iterations: %s", err.msg);
    printf("  tiny run: loss %.3f at iteration 1, %.3f at 6\n", straight.first, straight.last);
    CHECK(straight.last < 0.8 * straight.first, "loss %g -> %g: not reduced", straight.first,
          straight.last);
    CHECK(tiny_run(net, &style, dir, b, 3, 0, &part, &err) == 0, "3 iterations: %s", err.msg);
    CHECK(tiny_run(net, &style, dir, b, 6, 1, &rest, &err) == 0, "resume to 6: %s", err.msg);
    CHECK(same_weights(a, b), "3 + resumed 3 iterations differ from 6 in one run");
    CHECK(rest.last == straight.last, "resumed loss %.17g, uninterrupted %.17g", rest.last, straight.last);
    CHECK(tiny_run(net, &style, dir, b, 6, 1, &rest, &err) == NST_ERR_ARG, "resume past the end");

    /* the checkpoint is a style network for nst_generator_load and nst_apply */
    nst_generator *g = NULL;
    CHECK(nst_generator_load(a, &g, &err) == 0, "load %s: %s", a, err.msg);
    if (g) {
        nst_image in = {0}, out = {0};
        nst_apply_params ap;
        nst_apply_params_init(&ap);
        CHECK(nst_image_alloc(&in, 40, 30, &err) == 0, "%s", err.msg);
        if (in.data) tu_fill_uniform(in.data, (size_t)3 * 40 * 30, 0, 255, 5);
        CHECK(nst_apply(g, &in, &ap, &out, &err) == 0, "apply: %s", err.msg);
        CHECK(out.w == 40 && out.h == 30, "apply gave %dx%d", out.w, out.h);
        nst_image_free(&in);
        nst_image_free(&out);
        nst_generator_free(g);
    }
    shard_cannot_start(net, &style, dir);
    /* a directory without images: a usage error naming it */
    const char *empty = tu_tmp_path("empty");
    mkdir(empty, 0755);
    int rc = tiny_run(net, &style, empty, tu_tmp_path("c.nst"), 1, 0, &part, &err);
    CHECK(rc == NST_ERR_ARG && strstr(err.msg, empty), "empty directory: %d %s", rc, err.msg);
    CHECK(tu_file_size(tu_tmp_path("c.nst")) < 0, "a failed run wrote a network");
    tu_tmpdir_remove();
    nst_image_free(&style);
    nst_net_free(net);
}

/* scream as the 'nearest' architecture, as tests/pytorch/gen_train.py
 * builds it: the kernels of layers 13 and 14 ([k][k][cout][cin]) with their
 * last two axes swapped become HWIO [k][k][cin][cout] convolution kernels. */
static void nearest_from_scream(const char *dir) {
    tensor_dict d = {0};
    struct nst_generator g;
    nst_error err;
    CHECK(dljs_load(dir, &d, &err) == 0, "%s", err.msg);
    /* the deconv shapes are refused as the nearest architecture */
    CHECK(gen_from_dict(&d, dir, GEN_UP_NEAREST, &g, &err) == NST_ERR_FORMAT &&
              strstr(err.msg, "Variable_39") && strstr(err.msg, "[3,3,128,64]"),
          "deconv kernels as nearest: %s", err.msg);
    for (int k = 39; k <= 42; k += 3) {
        char name[32];
        gen_var_name(k, name, sizeof name);
        tensor *t = (tensor *)dict_get(&d, name);
        if (!t) return;
        int64_t kk = t->shape[0] * t->shape[1], a = t->shape[2], b = t->shape[3];
        float *sw = malloc(t->numel * sizeof(float));
        for (int64_t s = 0; s < kk; s++)
            for (int64_t i = 0; i < a; i++)
                for (int64_t j = 0; j < b; j++) sw[(s * b + j) * a + i] = t->data[(s * a + i) * b + j];
        memcpy(t->data, sw, t->numel * sizeof(float));
        free(sw);
        t->shape[2] = b, t->shape[3] = a;
    }
    int rc = gen_from_dict(&d, dir, GEN_UP_NEAREST, &g, &err);
    CHECK(rc == 0, "nearest from scream: %s", err.msg);
    dict_free(&d);
    if (rc) return;
    backward_vs_pytorch(&g, "gen_train_nearest.bin");
    gen_free(&g);
}

int main(void) {
    const char *scream = tu_shared("models/fast/scream");
    nst_generator *g = NULL;
    nst_error err;
    if (scream) {
        CHECK(nst_generator_load(scream, &g, &err) == 0, "%s", err.msg);
        if (g) backward_vs_pytorch(g, "gen_train.bin");
        nearest_from_scream(scream);
    }
    nst_generator_free(g);
    training();
    return tu_finish();
}
