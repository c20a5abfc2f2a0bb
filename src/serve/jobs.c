/* jobs.c: the worker threads of nst serve. `workers` threads run
 * optimisations (nst_stylize), one thread runs feed-forward jobs (nst_apply,
 * and nst_arbitrary_apply for fast jobs with paintings) and one video jobs
 * (nst_video_file) alongside, so a one-second job does not wait behind a
 * ten-minute one. Each worker claims the oldest queued job of its kind from
 * the store, runs it, and records progress, a preview image at most every
 * preview_every seconds, and a checkpoint every checkpoint_every iterations;
 * a job that finds a checkpoint (its server was killed) resumes from it. */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/util.h"
#include "serve/serve.h"

typedef struct {
    jobs *j;
    const char *kind;  /* "stylize", "apply" or "video" */
    pthread_t thread;
    long id;           /* the job being run, 0 when idle (under j->mu) */
    nst_cancel_flag cancel;
} worker;

struct jobs {
    store *s;
    const serve_config *cfg;
    const nst_net *net;
    /* the arbitrary-style pair, loaded by the apply worker on its first fast
     * job and kept: only that thread touches it (it is read-only; plans are
     * made per call), and jobs_stop frees it after the join */
    nst_arbitrary *arbitrary;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    int stopping, n;
    worker *w;
};

int job_path(const serve_config *cfg, long id, const char *name, char *out, size_t n) {
    return path_printf(out, n, "%s/jobs/%ld%s%s", cfg->data_dir, id, *name ? "/" : "", name);
}

static double mono_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct {
    worker *w;
    double last_preview;
    char preview[NST_PATH_MAX];
} run_ctx;

static void on_progress(const nst_progress *p, void *user) {
    run_ctx *c = user;
    worker *w = c->w;
    /* fraction of the work: elapsed / (elapsed + remaining) is the library's
     * estimate (remaining < 0 for the first iterations: not known yet) */
    double fraction = p->remaining >= 0 && p->elapsed + p->remaining > 0 ? p->elapsed / (p->elapsed + p->remaining) : 0;
    store_progress(w->j->s, w->id, p, fraction);
    double t = mono_now();
    if (c->last_preview == 0 || t - c->last_preview >= w->j->cfg->preview_every) {
        nst_error err;
        if (nst_image_save(c->preview, p->image, &err))
            fprintf(stderr, "nst serve: job %ld: %s\n", w->id, err.msg);
        c->last_preview = t;
    }
}

static int too_long(const worker *w, nst_error *err) {
    return nst_fail(err, NST_ERR_IO, "job %ld: path too long", w->id);
}

static int load_inputs(worker *w, int n_styles, nst_image *content, nst_image *styles,
                       nst_error *err) {
    char path[NST_PATH_MAX], name[32];
    int rc = job_path(w->j->cfg, w->id, "content.png", path, sizeof path) ? too_long(w, err)
                                                                          : nst_image_load(path, content, err);
    for (int k = 0; k < n_styles && !rc; k++) {
        snprintf(name, sizeof name, "style_%d.png", k + 1);
        rc = job_path(w->j->cfg, w->id, name, path, sizeof path) ? too_long(w, err)
                                                                 : nst_image_load(path, &styles[k], err);
    }
    return rc;
}

/* A region's edge is feathered over this many pixels of the result (as
 * nst stylize's and nst apply's --mask-feather default). */
#define REGION_FEATHER 4

/* A job with regions: its mask.png to each region's weights, feathered
 * over REGION_FEATHER px of the result, and each region's style image
 * (0-based; -1: the photo). A job without regions leaves r->n at 0. */
static int load_regions(worker *w, const cJSON *params, int n_styles, nst_regions *r, int style[NST_MAX_REGIONS],
                        nst_error *err) {
    params_region_list spec;
    char msg[256], path[NST_PATH_MAX];
    int n = params_regions(params, &spec, msg, sizeof msg), painted = 0;
    if (n < 0) return nst_fail(err, NST_ERR_FORMAT, "job %ld: %s", w->id, msg);
    for (int i = 0; i < n; i++) {
        if (spec.style[i] >= n_styles)
            return nst_fail(err, NST_ERR_FORMAT, "job %ld: region %d has style %d of %d", w->id, i + 1,
                            spec.style[i] + 1, n_styles);
        style[i] = spec.style[i];
        painted += style[i] >= 0;
    }
    if (n && !painted) return nst_fail(err, NST_ERR_FORMAT, "job %ld: every region keeps the photo", w->id);
    if (!n) return NST_OK;
    nst_image mask = {0};
    int rc = job_path(w->j->cfg, w->id, "mask.png", path, sizeof path) ? too_long(w, err)
                                                                       : nst_image_load(path, &mask, err);
    int side = mask.w > mask.h ? mask.w : mask.h;
    if (!rc)
        rc = nst_regions_from_mask(&mask, (const float(*)[3])spec.rgb, n,
                                   (int)lround(REGION_FEATHER * (double)side / params_size(params)), r, err);
    nst_image_free(&mask);
    return rc;
}

static int run_stylize(worker *w, const cJSON *params, int n_styles, nst_image *out, nst_error *err) {
    nst_image content = {0}, styles[NST_MAX_STYLES] = {{0}};
    char ckpt[NST_PATH_MAX];
    run_ctx ctx = {w, 0, ""};
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_FORMAT, "job %ld has %d style images", w->id, n_styles);
    nst_regions regions = {0};
    nst_stylize_params p;
    params_stylize(params, w->j->net, &p);
    int rc = load_inputs(w, n_styles, &content, styles, err);
    if (!rc) rc = load_regions(w, params, n_styles, &regions, p.region_style, err);
    job_path(w->j->cfg, w->id, "checkpoint.safetensors", ckpt, sizeof ckpt);
    job_path(w->j->cfg, w->id, "preview.png", ctx.preview, sizeof ctx.preview);
    if (!rc) {
        if (regions.n) p.regions = &regions;
        p.progress = on_progress;
        p.progress_user = &ctx;
        p.checkpoint = ckpt;
        p.checkpoint_every = w->j->cfg->checkpoint_every;
        p.resume = access(ckpt, F_OK) == 0;
        p.cancel = &w->cancel;
        if (p.resume) {
            printf("nst serve: job %ld resumes from its checkpoint\n", w->id);
            fflush(stdout);
        }
        rc = nst_stylize(w->j->net, &content, styles, n_styles, &p, out, err);
    }
    nst_regions_free(&regions);
    nst_image_free(&content);
    for (int k = 0; k < n_styles; k++) nst_image_free(&styles[k]);
    return rc;
}

/* One pass of the arbitrary-style pair in the style of paintings
 * styles[which[0..n-1]] (their style vectors averaged), strength
 * interpolating the vectors. */
static int arbitrary_paint(const nst_arbitrary *a, const nst_image *content, const nst_image *styles,
                           const int *which, int n, const cJSON *params, nst_image *out, nst_error *err) {
    float v[NST_MAX_STYLES][NST_STYLE_VECTOR_MAX], blend[NST_STYLE_VECTOR_MAX];
    const float *vs[NST_MAX_STYLES];
    int rc = NST_OK;
    for (int k = 0; k < n && !rc; k++) {
        rc = nst_style_vector(a, &styles[which[k]], v[k], err);
        vs[k] = v[k];
    }
    if (rc) return rc;
    nst_style_vector_blend(nst_style_vector_size(a), n, vs, NULL, blend);
    nst_apply_params p;
    nst_apply_params_init(&p);
    params_apply(params, &p);
    return nst_arbitrary_apply(a, content, blend, &p, out, err);
}

/* Each region painted in its own painting (one pass per painting used),
 * blended by the regions' weights; the photo at the result's size where a
 * region has none. */
static int arbitrary_regions(const nst_arbitrary *a, const nst_image *content, const nst_image *styles,
                             const nst_regions *r, const int *style, const cJSON *params, nst_image *out,
                             nst_error *err) {
    nst_image pics[NST_MAX_STYLES] = {{0}}, photo = {0};
    const nst_image *use[NST_MAX_REGIONS];
    int rc = NST_OK;
    for (int i = 0; i < r->n && !rc; i++) {
        int k = style[i];
        use[i] = k < 0 ? NULL : &pics[k];
        if (k >= 0 && !pics[k].data) rc = arbitrary_paint(a, content, styles, &k, 1, params, &pics[k], err);
        if (!rc && k >= 0 && !photo.data) rc = nst_image_resize(content, pics[k].w, pics[k].h, &photo, err);
    }
    if (!rc) rc = nst_regions_blend(r, use, &photo, out, err);
    for (int k = 0; k < NST_MAX_STYLES; k++) nst_image_free(&pics[k]);
    nst_image_free(&photo);
    return rc;
}

/* A fast job: one pass of the arbitrary-style pair in the paintings' style
 * (averaged when several), or with regions one per region's painting. */
static int run_arbitrary(worker *w, const cJSON *params, int n_styles, nst_image *out, nst_error *err) {
    nst_image content = {0}, styles[NST_MAX_STYLES] = {{0}};
    nst_regions regions = {0};
    int style[NST_MAX_REGIONS], all[NST_MAX_STYLES];
    char path[NST_PATH_MAX];
    if (n_styles < 1 || n_styles > NST_MAX_STYLES)
        return nst_fail(err, NST_ERR_FORMAT, "job %ld has %d style images", w->id, n_styles);
    int rc = load_inputs(w, n_styles, &content, styles, err);
    if (!rc) rc = load_regions(w, params, n_styles, &regions, style, err);
    if (!rc && !w->j->arbitrary) { /* a failure is not kept: the pair may be installed later */
        rc = nst_models_resolve(ARBITRARY_MODEL, path, sizeof path, err);
        if (!rc) rc = nst_arbitrary_load(path, &w->j->arbitrary, err);
    }
    const nst_arbitrary *a = w->j->arbitrary;
    if (!rc && nst_style_vector_size(a) > NST_STYLE_VECTOR_MAX)
        rc = nst_fail(err, NST_ERR_FORMAT, "style vectors of %d floats, more than %d",
                      nst_style_vector_size(a), NST_STYLE_VECTOR_MAX);
    for (int k = 0; k < n_styles; k++) all[k] = k;
    if (!rc) rc = regions.n ? arbitrary_regions(a, &content, styles, &regions, style, params, out, err)
                            : arbitrary_paint(a, &content, styles, all, n_styles, params, out, err);
    nst_regions_free(&regions);
    nst_image_free(&content);
    for (int k = 0; k < n_styles; k++) nst_image_free(&styles[k]);
    return rc;
}

static int run_apply(worker *w, const cJSON *params, const char *net, nst_image *out, nst_error *err) {
    nst_image content = {0};
    nst_generator *gen = NULL;
    char path[NST_PATH_MAX];
    int rc = load_inputs(w, 0, &content, NULL, err);
    if (!rc) rc = nst_models_resolve(net, path, sizeof path, err);
    if (!rc) rc = nst_generator_load(path, &gen, err);
    if (!rc) {
        nst_apply_params p;
        nst_apply_params_init(&p);
        params_apply(params, &p);
        rc = nst_apply(gen, &content, &p, out, err);
    }
    nst_generator_free(gen);
    nst_image_free(&content);
    return rc;
}

static void on_video_progress(const nst_video_progress *p, void *user) {
    worker *w = user;
    store_progress_video(w->j->s, w->id, p);
}

/* A clip through a pretrained style into result.mp4 (written under a
 * temporary name by the library and renamed when complete). */
static int run_video(worker *w, const cJSON *params, const char *net, nst_error *err) {
    nst_generator *gen = NULL;
    char path[NST_PATH_MAX], in[NST_PATH_MAX], out[NST_PATH_MAX];
    int rc = nst_models_resolve(net, path, sizeof path, err);
    if (!rc) rc = nst_generator_load(path, &gen, err);
    if (!rc && (job_path(w->j->cfg, w->id, "clip", in, sizeof in) ||
                job_path(w->j->cfg, w->id, "result.mp4", out, sizeof out)))
        rc = too_long(w, err);
    if (!rc) {
        nst_video_params vp;
        nst_video_file_params fp;
        nst_video_params_init(&vp);
        nst_video_file_params_init(&fp);
        vp.method = NST_VIDEO_NET;
        vp.net = gen;
        params_video(params, &vp, &fp);
        /* the upload was refused when longer; a clip whose length the
         * container does not tell is cut at the limit */
        fp.duration = w->j->cfg->max_video_seconds;
        fp.cancel = &w->cancel;
        fp.progress = on_video_progress;
        fp.user = w;
        rc = nst_video_file(in, out, &vp, &fp, NULL, err);
        /* the library names the file by the server's path: the client's name is "video" */
        size_t n = strlen(in);
        char *at = strstr(err->msg, in);
        if (rc && at) memmove(at + 5, at + n, strlen(at + n) + 1), memcpy(at, "video", 5);
    }
    nst_generator_free(gen);
    return rc;
}

/* Run the claimed job w->id and record how it ended. */
static void run_job(worker *w, const char *params_json, int n_styles, const char *net) {
    nst_error err = {0};
    nst_image out = {0};
    cJSON *params = cJSON_Parse(params_json);
    double t0 = mono_now();
    int video = !strcmp(w->kind, "video");
    int rc = video ? run_video(w, params, net, &err)
             : !strcmp(w->kind, "apply") ? (n_styles ? run_arbitrary(w, params, n_styles, &out, &err)
                                                     : run_apply(w, params, net, &out, &err))
                                         : run_stylize(w, params, n_styles, &out, &err);
    char path[NST_PATH_MAX];
    if (!rc && !video) {
        job_path(w->j->cfg, w->id, "result.png", path, sizeof path);
        rc = nst_image_save(path, &out, &err);
    }
    pthread_mutex_lock(&w->j->mu);
    int cancelled = w->cancel, stopping = w->j->stopping;
    pthread_mutex_unlock(&w->j->mu);
    if (!rc) { /* the checkpoint goes only once the job is recorded done */
        store_transition(w->j->s, w->id, "running", "done", NULL);
        job_path(w->j->cfg, w->id, "checkpoint.safetensors", path, sizeof path);
        unlink(path);
        printf("nst serve: job %ld done in %.1fs\n", w->id, mono_now() - t0);
    } else if (stopping) { /* the server stops: the job continues from its checkpoint next time
                            * (a video job starts again) */
        store_transition(w->j->s, w->id, "running", "queued", NULL);
    } else if (cancelled) {
        store_transition(w->j->s, w->id, "running", "cancelled", NULL);
    } else {
        store_transition(w->j->s, w->id, "running", "failed", err.msg);
        printf("nst serve: job %ld failed: %s\n", w->id, err.msg);
    }
    fflush(stdout);
    nst_image_free(&out);
    cJSON_Delete(params);
}

static void *worker_main(void *arg) {
    worker *w = arg;
    jobs *j = w->j;
    nst_set_threads(j->cfg->threads);
    for (;;) {
        char *params = NULL, net[64];
        int n_styles = 0;
        pthread_mutex_lock(&j->mu);
        long id = 0;
        while (!j->stopping && !(id = store_claim(j->s, w->kind, &params, &n_styles, net)))
            pthread_cond_wait(&j->wake, &j->mu);
        if (j->stopping) { /* a job claimed just now goes back to the queue */
            if (id) store_transition(j->s, id, "running", "queued", NULL);
            pthread_mutex_unlock(&j->mu);
            free(params);
            return NULL;
        }
        w->id = id;
        w->cancel = 0;
        pthread_mutex_unlock(&j->mu);
        run_job(w, params, n_styles, net);
        free(params);
        pthread_mutex_lock(&j->mu);
        w->id = 0;
        pthread_mutex_unlock(&j->mu);
    }
}

/* NAME.partXXXXXX: a file being written (temp_open, the video
 * writer), renamed to NAME when complete. */
static int partial(const char *name) {
    const char *p = strstr(name, ".part");
    return p && strlen(p) == strlen(".part") + 6;
}

/* A killed server's half-written files, before any worker runs: the
 * results under their own names are whole (written then renamed), the
 * temporary ones are garbage. */
static void sweep_partial(const serve_config *cfg) {
    char dir[NST_PATH_MAX], path[NST_PATH_MAX];
    if (path_printf(dir, sizeof dir, "%s/jobs", cfg->data_dir)) return;
    DIR *jd = opendir(dir);
    for (struct dirent *e; jd && (e = readdir(jd));) {
        char *end;
        long id = strtol(e->d_name, &end, 10);
        if (*end || id <= 0 || job_path(cfg, id, "", path, sizeof path)) continue;
        DIR *d = opendir(path);
        for (struct dirent *f; d && (f = readdir(d));)
            if (partial(f->d_name) && !job_path(cfg, id, f->d_name, path, sizeof path)) unlink(path);
        if (d) closedir(d);
    }
    if (jd) closedir(jd);
}

int jobs_start(jobs **out, store *s, const serve_config *cfg, const nst_net *net, nst_error *err) {
    sweep_partial(cfg);
    jobs *j = calloc(1, sizeof *j);
    int n = cfg->workers + 2;
    worker *w = calloc((size_t)n, sizeof *w);
    if (!j || !w) {
        free(j);
        free(w);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    }
    *j = (jobs){.s = s, .cfg = cfg, .net = net, .n = n, .w = w};
    pthread_mutex_init(&j->mu, NULL);
    pthread_cond_init(&j->wake, NULL);
    for (int i = 0; i < n; i++) {
        w[i] = (worker){.j = j, .kind = i < cfg->workers ? "stylize" : i == cfg->workers ? "apply" : "video"};
        if (pthread_create(&w[i].thread, NULL, worker_main, &w[i])) {
            j->n = i;
            jobs_stop(j);
            return nst_fail(err, NST_ERR_RUNTIME, "cannot start worker threads");
        }
    }
    *out = j;
    return NST_OK;
}

void jobs_notify(jobs *j) {
    pthread_mutex_lock(&j->mu);
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->mu);
}

/* Why job id cannot be cancelled or deleted: 409 when it exists (in
 * another state), 404 when it does not. */
static int not_now(jobs *j, long id) {
    char state[16];
    store_state(j->s, id, state, sizeof state);
    return *state ? 409 : 404;
}

int jobs_cancel(jobs *j, long id) {
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    if (!store_transition(j->s, id, "queued", "cancelled", NULL)) {
        worker *w = NULL;
        for (int i = 0; i < j->n; i++)
            if (j->w[i].id == id) w = &j->w[i];
        if (w) w->cancel = 1;
        else rc = not_now(j, id);
    }
    pthread_mutex_unlock(&j->mu);
    return rc;
}

/* Every file of jobs/<id>/, then the directory (a job's files are flat). */
static void remove_job_dir(const serve_config *cfg, long id) {
    char dir[NST_PATH_MAX], path[NST_PATH_MAX];
    if (job_path(cfg, id, "", dir, sizeof dir)) return;
    DIR *d = opendir(dir);
    for (struct dirent *e; d && (e = readdir(d));)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && !job_path(cfg, id, e->d_name, path, sizeof path))
            unlink(path);
    if (d) closedir(d);
    rmdir(dir);
}

int jobs_delete(jobs *j, long id) {
    pthread_mutex_lock(&j->mu);
    int rc = 0;
    if (store_delete_ended(j->s, id)) remove_job_dir(j->cfg, id);
    else rc = not_now(j, id);
    pthread_mutex_unlock(&j->mu);
    return rc;
}

int jobs_expire(jobs *j, double days) {
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    cJSON *old = store_ended_before(j->s, (double)now.tv_sec - days * 86400), *row;
    int n = 0;
    cJSON_ArrayForEach(row, old) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(row, "id");
        n += cJSON_IsNumber(id) && !jobs_delete(j, (long)id->valuedouble);
    }
    cJSON_Delete(old);
    return n;
}

void jobs_stop(jobs *j) {
    if (!j) return;
    pthread_mutex_lock(&j->mu);
    j->stopping = 1;
    for (int i = 0; i < j->n; i++) j->w[i].cancel = 1;
    pthread_cond_broadcast(&j->wake);
    pthread_mutex_unlock(&j->mu);
    for (int i = 0; i < j->n; i++) pthread_join(j->w[i].thread, NULL);
    pthread_mutex_destroy(&j->mu);
    pthread_cond_destroy(&j->wake);
    nst_arbitrary_free(j->arbitrary);
    free(j->w);
    free(j);
}
