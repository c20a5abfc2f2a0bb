/* train.c: nst_train, training a feed-forward style network (Johnson et al.
 * 2016) with the loss of nst stylize (src/stylize/loss_engine.h).
 *
 * Each iteration takes batch_size random crop x crop crops of random photos
 * (a photo whose short side is under crop is first scaled up to it), runs
 * the generator on them, and with y = gen(x) minimises the batch mean of
 *   content_weight * content(y, x) + style_weight * style(y, A) + tv_weight * tv(y)
 * over the generator's parameters by Adam: dL/dy from the loss network,
 * then dL/dparams from the generator plan's backward.
 *
 * Determinism: photo order, crops and the initial weights come from one
 * splitmix64 stream seeded by p->seed; the checkpoint stores its state with
 * the Adam moments and the iteration, so a resumed run continues exactly
 * where the uninterrupted one would be (same threads: same arithmetic). */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "feedforward/loss_log.h"
#include "feedforward/train.h"

void nst_train_params_init(nst_train_params *p) {
    memset(p, 0, sizeof *p);
    nst_stylize_params_init(&p->loss);
    p->loss.style_weight = 50;
    p->iterations = 2000;
    p->batch_size = 4;
    p->crop = 256;
    p->learning_rate = 1e-3f;
    p->checkpoint_every = 100;
    p->report_every = 10;
}

typedef struct {
    const nst_train_params *p;
    char **photos;          /* readable photos, sorted by name */
    int n_photos;
    nst_generator g;
    adam_state adam;
    int start;              /* iterations done before this run */
    uint64_t rng;
    double seconds0;        /* training time before this run */
    loss_log log;
} trainer;

static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Every file of the directory that decodes as an image; the others are
 * reported through p->warn and skipped. */
static int list_photos(trainer *t, nst_error *err) {
    const char *dir = t->p->content_dir;
    DIR *d = opendir(dir);
    if (!d) return nst_fail(err, NST_ERR_ARG, "%s: cannot open the content directory", dir);
    int rc = NST_OK, cap = 0;
    for (struct dirent *e; !rc && (e = readdir(d));) {
        char path[NST_PATH_MAX];
        struct stat st;
        if (e->d_name[0] == '.' || path_printf(path, sizeof path, "%s/%s", dir, e->d_name) ||
            stat(path, &st) || !S_ISREG(st.st_mode))
            continue;
        if (t->n_photos == cap) {
            cap = cap ? 2 * cap : 64;
            char **q = realloc(t->photos, (size_t)cap * sizeof *q);
            if (!q) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
            else t->photos = q;
        }
        if (!rc && !(t->photos[t->n_photos++] = strdup(path)))
            rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    }
    closedir(d);
    if (rc) return rc;
    if (t->n_photos) qsort(t->photos, (size_t)t->n_photos, sizeof *t->photos, by_name);
    int kept = 0;
    for (int i = 0; i < t->n_photos; i++) {
        nst_image im = {0};
        nst_error e2;
        if (nst_image_load(t->photos[i], &im, &e2) == 0) t->photos[kept++] = t->photos[i];
        else {
            if (t->p->warn) t->p->warn(e2.msg, t->p->user);
            free(t->photos[i]);
        }
        nst_image_free(&im);
    }
    t->n_photos = kept;
    if (!kept) return nst_fail(err, NST_ERR_ARG, "%s: no readable images", dir);
    return NST_OK;
}

/* N(0, 0.1) truncated at 2 sigma (as fast-style-transfer), by Box-Muller;
 * instance norm scale 1, shift 0. */
static void random_init(trainer *t) {
    for (int i = 0; i < GEN_LAYERS; i++) {
        gen_layer *L = &t->g.layers[i];
        size_t n = (size_t)L->k * L->k * L->cin * L->cout;
        for (size_t j = 0; j < n;) {
            double u = ((splitmix64(&t->rng) >> 11) + 0.5) * 0x1p-53;
            double v = (splitmix64(&t->rng) >> 11) * 0x1p-53;
            double z = sqrt(-2 * log(u)) * cos(2 * M_PI * v);
            if (fabs(z) <= 2) L->weight[j++] = (float)(0.1 * z);
        }
        for (int c = 0; c < L->cout; c++) L->scale[c] = 1, L->shift[c] = 0;
    }
}

static const char *meta_get(const cJSON *m, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The generator (and with resume the training state) to start from. */
static int initial_state(trainer *t, nst_error *err) {
    const nst_train_params *p = t->p;
    t->rng = p->seed;
    int rc = NST_OK;
    gen_upsample up = p->upsample == NST_UPSAMPLE_DECONV ? GEN_UP_DECONV : GEN_UP_NEAREST;
    if (!p->resume && !p->init_net) {
        rc = gen_alloc(&t->g, p->output, up, err);
        if (!rc) random_init(t);
        if (!rc) rc = adam_init(&t->adam, t->g.n_params, p->learning_rate, err);
        return rc;
    }
    nst_generator *g = NULL;
    const char *src = p->resume ? p->output : p->init_net;
    rc = nst_generator_load(src, &g, err);
    if (rc) return rc;
    t->g = *g;
    free(g);
    if (p->upsample != NST_UPSAMPLE_AUTO && up != t->g.upsample)
        return nst_fail(err, NST_ERR_ARG, "%s: its upsampling is %s, not %s (leave the upsampling "
                        "unset to keep the network's)", src, gen_upsample_name(t->g.upsample),
                        gen_upsample_name(up));
    rc = adam_init(&t->adam, t->g.n_params, p->learning_rate, err);
    if (rc || !p->resume) return rc;
    tensor_dict d = {0};
    rc = gen_checkpoint_read(src, &d, NULL, err);
    cJSON *m = rc ? NULL : cJSON_Parse(d.metadata);
    const tensor *am = dict_get(&d, "train/adam_m"), *av = dict_get(&d, "train/adam_v");
    const char *it = meta_get(m, "iteration"), *at = meta_get(m, "adam_t"), *rs = meta_get(m, "rng"),
               *sec = meta_get(m, "seconds");
    if (!rc && (!am || !av || am->numel != t->g.n_params || av->numel != t->g.n_params || !it ||
                !at || !rs || !sec))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: no training state to resume from (not written "
                      "by nst train?)", src);
    if (!rc) {
        memcpy(t->adam.m, am->data, t->g.n_params * sizeof(float));
        memcpy(t->adam.v, av->data, t->g.n_params * sizeof(float));
        t->start = atoi(it);
        t->adam.t = atol(at);
        t->rng = strtoull(rs, NULL, 16);
        t->seconds0 = atof(sec);
    }
    cJSON_Delete(m);
    dict_free(&d);
    return rc;
}

/* The network, Adam moments, iteration, PRNG state; then the loss curve. */
static int checkpoint(trainer *t, int iteration, double seconds, nst_error *err) {
    const nst_train_params *p = t->p;
    char it[32], at[32], rs[32], sec[32], seed[32];
    snprintf(it, sizeof it, "%d", iteration);
    snprintf(at, sizeof at, "%ld", t->adam.t);
    snprintf(rs, sizeof rs, "%016" PRIx64, t->rng);
    snprintf(sec, sizeof sec, "%.3f", seconds);
    snprintf(seed, sizeof seed, "%" PRIu64, p->seed);
    const char *meta[] = {"iteration", it, "adam_t", at, "rng", rs, "seconds", sec, "seed", seed};
    int64_t shape[1] = {(int64_t)t->g.n_params};
    tensor state[2] = {{"train/adam_m", 1, {shape[0]}, t->g.n_params, t->adam.m},
                           {"train/adam_v", 1, {shape[0]}, t->g.n_params, t->adam.v}};
    tensor_dict extra = {.count = 2, .cap = 2, .t = state};
    /* the log first: killed between the two, the log is a row ahead of the
     * checkpoint, and a resumed run reads it only up to the checkpoint's
     * iteration; the other way round the row would be lost */
    int rc = p->loss_csv ? loss_log_write_csv(&t->log, p->loss_csv, err) : NST_OK;
    if (!rc) rc = gen_checkpoint_write(p->output, &t->g, &extra, meta, 5, err);
    if (!rc && p->loss_plot) rc = loss_log_plot(&t->log, p->loss_plot, err);
    return rc;
}

static int sharded(const nst_train_params *p) { return p && p->shards > 1; }

/* After the gradients, the sum over the shards carries the four loss terms
 * and the number of shards that failed. */
enum { SHARD_TERMS = 5 };

/* This shard's batch_size crops of the global batch (shards x batch_size
 * random crops of random photos) into x (n x 3 x crop x crop). Each crop
 * takes three draws (photo, x0, y0) whether or not it is this shard's, so
 * every shard's stream stays the same. */
static int fill_batch(trainer *t, float *x, nst_error *err) {
    const nst_train_params *p = t->p;
    int c = p->crop, rc = NST_OK, n = p->batch_size, first = sharded(p) ? p->shard * n : 0;
    int total = sharded(p) ? p->shards * n : n;
    for (int k = 0; k < total && !rc; k++) {
        uint64_t r[3] = {splitmix64(&t->rng), splitmix64(&t->rng), splitmix64(&t->rng)};
        int b = k - first;
        if (b < 0 || b >= n) continue;
        nst_image im = {0}, big = {0};
        rc = nst_image_load(t->photos[r[0] % (uint64_t)t->n_photos], &im, err);
        int s = rc ? 0 : im.w < im.h ? im.w : im.h;
        if (!rc && s < c) { /* scale up so the short side is crop */
            rc = nst_image_resize(&im, (int)ceil((double)im.w * c / s), (int)ceil((double)im.h * c / s),
                                  &big, err);
            nst_image_free(&im);
            im = big;
        }
        if (!rc) {
            int x0 = (int)(r[1] % (uint64_t)(im.w - c + 1)), y0 = (int)(r[2] % (uint64_t)(im.h - c + 1));
            for (int ch = 0; ch < 3; ch++)
                for (int y = 0; y < c; y++)
                    memcpy(x + (((size_t)b * 3 + ch) * c + y) * c,
                           im.data + ((size_t)ch * im.h + y0 + y) * im.w + x0, c * sizeof(float));
        }
        nst_image_free(&im);
    }
    return rc;
}

/* buf, n floats, replaced by shard 0's on every shard: a sum where the
 * others contribute zeros (exact). */
static int from_shard0(const nst_train_params *p, float *buf, size_t n, nst_error *err) {
    if (p->shard != 0) memset(buf, 0, n * sizeof(float));
    return p->sum(buf, n, p->user) ? nst_fail(err, NST_ERR_RUNTIME, "training over %d processes: the "
                                              "initial state could not be shared", p->shards) : NST_OK;
}

/* Every shard comes here once before the first shared step, set up (rc 0)
 * or not: a sum of the failure marks, so a shard that could not start
 * (a checkpoint to resume that only some nodes see, a photo directory
 * missing) does not leave the others waiting in the sums that follow. */
static int shards_started(const nst_train_params *p, int rc, nst_error *err) {
    float failed = rc != 0;
    if (!sharded(p)) return rc;
    if (p->sum(&failed, 1, p->user) && !rc)
        return nst_fail(err, NST_ERR_RUNTIME, "training over %d processes: the start could not be agreed", p->shards);
    if (!rc && failed > 0)
        rc = nst_fail(err, NST_ERR_RUNTIME, "training over %d processes: %.0f of them could not start (their "
                      "messages say why)", p->shards, failed);
    return rc;
}

/* A shard that cannot take this iteration's step still joins its sum (the
 * others wait in it), with zeros and a failure mark, so every shard stops. */
static void shard_failed(const nst_train_params *p, float *grads, size_t n) {
    memset(grads, 0, (n + SHARD_TERMS) * sizeof(float));
    grads[n + 4] = 1;
    p->sum(grads, n + SHARD_TERMS, p->user);
}

int train_step(loss_engine *e, plan *np, plan *gp, adam_state *adam, const float *x,
               float *dy, float *grads, const nst_train_params *dp, double *loss, loss_terms *lt,
               nst_error *err) {
    int rc = engine_content_targets(e, np, x, err);
    if (rc) return rc;
    plan_forward(gp, x, 0);
    *loss = engine_evaluate(e, np, gp->output, dy, lt);
    if (!sharded(dp)) {
        if (!isfinite(*loss)) return NST_OK;
        plan_backward(gp, dy, NULL, grads);
    } else { /* every shard joins the sum, whatever its loss: a non-finite one spreads to all */
        size_t n = gp->g->n_params;
        plan_backward(gp, dy, NULL, grads);
        float *terms = grads + n;
        terms[0] = (float)*loss, terms[1] = (float)lt->content, terms[2] = (float)lt->style, terms[3] = (float)lt->tv;
        terms[4] = 0; /* shards that failed this iteration (shard_failed) */
        if (dp->sum(grads, n + SHARD_TERMS, dp->user))
            return nst_fail(err, NST_ERR_RUNTIME, "training over %d processes: the gradient sum failed", dp->shards);
        if (terms[4] > 0)
            return nst_fail(err, NST_ERR_RUNTIME, "training over %d processes: another process failed "
                            "(its message says why)", dp->shards);
        float inv = 1.0f / (float)dp->shards;
        for (size_t i = 0; i < n + 4; i++) grads[i] *= inv;
        *loss = terms[0], lt->content = terms[1], lt->style = terms[2], lt->tv = terms[3];
        if (!isfinite(*loss)) return NST_OK;
    }
    adam_step(adam, gp->g->params, grads);
    plan_weights_changed(gp);
    return NST_OK;
}

static int run(trainer *t, const nst_net *net, const nst_image *style, nst_error *err) {
    const nst_train_params *p = t->p;
    nst_stylize_params lp = p->loss;
    lp.style_scale = 1;
    if (lp.n_style_layers == 0) nst_stylize_default_layers(&lp, net);
    int n = p->batch_size, c = p->crop;
    loss_engine e;
    plan gp = {0}, np = {0};
    const plan_opts training = {.grads = PLAN_GRAD_PARAMS};
    size_t m = (size_t)n * 3 * c * c;
    float *x = malloc(m * sizeof(float)), *dy = malloc(m * sizeof(float));
    float *grads = malloc((t->g.n_params + SHARD_TERMS) * sizeof(float)); /* + what is summed with them */
    int rc = engine_init(&e, net, &lp, err);
    if (!rc && (!x || !dy || !grads)) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    if (!rc) rc = engine_style_targets(&e, style, 1, p->style_size ? p->style_size : c, err);
    if (!rc) rc = plan_create(&gp, &t->g.g, n, c, c, &training, err);
    if (!rc) rc = engine_plan(&e, &np, n, c, c, err);
    rc = shards_started(p, rc, err);
    if (!rc && sharded(p)) rc = from_shard0(p, t->g.g.params, t->g.n_params, err);
    if (!rc && sharded(p) && p->resume) rc = from_shard0(p, t->adam.m, t->g.n_params, err);
    if (!rc && sharded(p) && p->resume) rc = from_shard0(p, t->adam.v, t->g.n_params, err);
    if (!rc && sharded(p)) plan_weights_changed(&gp);
    int writer = !sharded(p) || p->shard == 0, images = sharded(p) ? n * p->shards : n;
    double t0 = now_seconds(), seconds = t->seconds0;
    for (int it = t->start + 1; it <= p->iterations && !rc; it++) {
        double loss;
        loss_terms lt;
        rc = fill_batch(t, x, err);
        if (rc && sharded(p)) shard_failed(p, grads, t->g.n_params);
        if (!rc) rc = train_step(&e, &np, &gp, &t->adam, x, dy, grads, p, &loss, &lt, err);
        if (rc) break;
        if (!isfinite(loss)) {
            rc = nst_fail(err, NST_ERR_RUNTIME, "the loss diverged (%g) at iteration %d: lower "
                          "the learning rate or the loss weights", loss, it);
            break;
        }
        double elapsed = now_seconds() - t0, rate = (it - t->start) / elapsed;
        seconds = t->seconds0 + elapsed;
        const double row[LOG_COLS] = {it, loss, lt.content, lt.style, lt.tv, seconds};
        rc = loss_log_add(&t->log, row, err);
        if (!rc && p->progress && p->report_every > 0 &&
            (it % p->report_every == 0 || it == p->iterations)) {
            nst_train_progress pr = {it, p->iterations, loss, lt.content, lt.style, lt.tv,
                                     rate * images, elapsed, (p->iterations - it) / rate};
            p->progress(&pr, p->user);
        }
        if (!rc && writer && ((p->checkpoint_every > 0 && it % p->checkpoint_every == 0) || it == p->iterations))
            rc = checkpoint(t, it, seconds, err);
        /* this shard's own failure (the log, a checkpoint): the others are in the next sum */
        if (rc && sharded(p) && it < p->iterations) shard_failed(p, grads, t->g.n_params);
    }
    plan_destroy(&gp);
    plan_destroy(&np);
    engine_free(&e);
    free(x);
    free(dy);
    free(grads);
    return rc;
}

static int train(const nst_net *net, const nst_image *style, const nst_train_params *p, nst_error *err) {
    if (p->batch_size < 1 || p->crop < 16 || p->iterations < 1 || !p->output || !p->content_dir ||
        p->upsample < NST_UPSAMPLE_AUTO || p->upsample > NST_UPSAMPLE_DECONV ||
        (p->shards > 1 && (p->shard < 0 || p->shard >= p->shards || !p->sum)))
        return nst_fail(err, NST_ERR_ARG, "nst_train: batch size, crop (>= 16), iterations, "
                        "output and content directory are needed, a known upsampling, and a shard below shards "
                        "with a sum");
    trainer t = {.p = p};
    int rc = list_photos(&t, err);
    if (!rc) rc = initial_state(&t, err);
    if (!rc && p->loss_csv && p->resume) rc = loss_log_read_csv(&t.log, p->loss_csv, t.start, err);
    if (!rc && t.start >= p->iterations)
        rc = nst_fail(err, NST_ERR_ARG, "%s: already trained for %d iterations (give more iterations "
                      "to continue)", p->output, t.start);
    if (!rc) rc = run(&t, net, style, err); /* which tells the other shards it started */
    else rc = shards_started(p, rc, err);
    for (int i = 0; i < t.n_photos; i++) free(t.photos[i]);
    free(t.photos);
    gen_free(&t.g);
    adam_free(&t.adam);
    loss_log_free(&t.log);
    return rc;
}

int nst_train(const nst_net *net, const nst_image *style, const nst_train_params *p,
              nst_error *err) {
    dn_run_reset();
    return dn_run_status(train(net, style, p, err), err);
}
