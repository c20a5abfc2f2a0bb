/* video_file.c: nst_video_file, a clip in, a stylised clip out (nst.h):
 * decode -> nst_video -> encode, with progress, a report of where the time
 * went, and resumable optimisation runs.
 *
 * An optimisation run takes minutes per frame, so it keeps a work directory
 * OUT.nst-work beside the output: every finished frame as NNNNNN.png and
 * state.safetensors (the last output in float, the number of frames done
 * and a fingerprint of the run). A resumed run re-encodes the saved frames,
 * restores nst_video from the state and the input's previous frame, and
 * goes on; the encoder then sees the same 8-bit frames as in an
 * uninterrupted run (which also rounds to 8 bits), so the outputs match. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "io/io.h"
#include "video/video.h"
#include "video/video_io.h"

void nst_video_file_defaults(nst_video_file_params *p) {
    memset(p, 0, sizeof *p);
    p->crf = -1;
    p->audio = 1;
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* What must match for a resumed optimisation to continue the same run: the
 * input, the cut, the frame size, the styles' pixels and every option that
 * changes a frame. */
static void fingerprint(const char *in, const video_info *info, const nst_video_params *vp,
                        const nst_video_file_params *fp, char *out, size_t n) {
    const nst_stylize_params *s = &vp->stylize;
    uint64_t h = fnv(0xcbf29ce484222325ULL, in, strlen(in));
    double cut[2] = {fp->start, fp->duration};
    int ints[] = {info->w, info->h, vp->iterations_first, s->iterations, s->optimizer, s->lbfgs_history,
                  s->pooling, s->padding, s->precision, s->scales, s->original_colors,
                  s->n_content_layers, s->n_style_layers, vp->n_styles};
    float floats[] = {vp->temporal, vp->scene_cut, s->content_weight, s->style_weight, s->tv_weight,
                      s->learning_rate, s->style_scale};
    h = fnv(h, cut, sizeof cut);
    h = fnv(h, ints, sizeof ints);
    h = fnv(h, floats, sizeof floats);
    h = fnv(h, s->content_layers, sizeof s->content_layers);
    h = fnv(h, s->style_layers, sizeof s->style_layers);
    h = fnv(h, s->style_layer_weights, sizeof s->style_layer_weights);
    h = fnv(h, s->style_blend, sizeof s->style_blend);
    h = fnv(h, nst_net_name(vp->loss_net), strlen(nst_net_name(vp->loss_net)));
    for (int k = 0; k < vp->n_styles; k++)
        h = fnv(h, vp->styles[k].data, (size_t)3 * vp->styles[k].w * vp->styles[k].h * sizeof(float));
    snprintf(out, n, "%016llx", (unsigned long long)h);
}

typedef struct {
    char dir[NST_PATH_MAX], state[NST_PATH_MAX];
    char run[32];
} work_dir;

static int frame_path(const work_dir *wd, int i, char *out, size_t n, nst_error *err) {
    if (nst_pathf(out, n, "%s/%06d.png", wd->dir, i))
        return nst_fail(err, NST_ERR_USAGE, "%s: path too long", wd->dir);
    return NST_OK;
}

/* Save frame i and the state after it (frames = i + 1); the frame first,
 * so the state never counts a frame that is not on disk. */
static int work_save(const work_dir *wd, int i, const nst_image *out, nst_error *err) {
    char path[NST_PATH_MAX], frames[16];
    int rc = frame_path(wd, i, path, sizeof path, err);
    if (!rc) rc = nst_image_save(path, out, err);
    if (rc) return rc;
    nst_tensor_dict d = {0};
    size_t n = (size_t)3 * out->w * out->h;
    float *copy = malloc(n * sizeof(float));
    if (!copy) return nst_fail(err, NST_ERR_RUNTIME, "out of memory");
    memcpy(copy, out->data, n * sizeof(float));
    int64_t shape[3] = {3, out->h, out->w};
    snprintf(frames, sizeof frames, "%d", i + 1);
    const char *meta[] = {"format", "nst-video-work", "frames", frames, "run", wd->run};
    rc = nst_dict_add(&d, "output", 3, shape, copy, err);
    if (!rc) rc = nst_safetensors_save(wd->state, &d, meta, 3, err);
    nst_dict_free(&d);
    return rc;
}

/* The state of a stopped run: frames done and the last output (allocated). */
static int work_load(const work_dir *wd, int w, int h, int *frames, nst_image *last, nst_error *err) {
    nst_tensor_dict d = {0};
    int rc = nst_safetensors_load(wd->state, &d, err);
    if (rc) return rc;
    cJSON *m = d.metadata ? cJSON_Parse(d.metadata) : NULL;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "frames");
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(m, "run");
    const nst_tensor *t = nst_dict_get(&d, "output");
    if (!cJSON_IsString(f) || !cJSON_IsString(run) || !t || t->numel != (size_t)3 * w * h)
        rc = nst_fail(err, NST_ERR_RUNTIME, "%s: not the state of a %dx%d nst video run", wd->state, w, h);
    else if (strcmp(run->valuestring, wd->run))
        rc = nst_fail(err, NST_ERR_USAGE,
                      "%s holds frames of a run with other settings or input: remove it to start afresh",
                      wd->dir);
    else if ((*frames = atoi(f->valuestring)) < 1)
        rc = nst_fail(err, NST_ERR_RUNTIME, "%s: bad frame count '%s'", wd->state, f->valuestring);
    if (!rc) rc = nst_image_alloc(last, w, h, err);
    if (!rc) memcpy(last->data, t->data, t->numel * sizeof(float));
    cJSON_Delete(m);
    nst_dict_free(&d);
    return rc;
}

/* Remove the work directory and the files nst put in it. */
static void work_remove(const work_dir *wd) {
    DIR *d = opendir(wd->dir);
    struct dirent *e;
    char path[NST_PATH_MAX];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && !nst_pathf(path, sizeof path, "%s/%s", wd->dir, e->d_name)) unlink(path);
    if (d) closedir(d);
    rmdir(wd->dir);
}

typedef struct {
    const nst_video_file_params *fp;
    video_reader *reader;
    video_writer *writer;
    nst_video *video;
    video_info info;
    nst_video_report rep;
    double t0, first_frame; /* start of the run; seconds the first painted frame took */
    int painted;            /* frames painted in this run (not restored) */
} run;

static void progress(run *r, int done, const nst_video_frame_info *fi) {
    const nst_video_file_params *fp = r->fp;
    double elapsed = now_seconds() - r->t0;
    if (r->painted == 1) r->first_frame = elapsed;
    r->rep.seconds = elapsed;
    if (!fp->progress) return;
    int total = (int)r->info.n_frames;
    /* the first frame is slower (plans, iterations_first): estimate the rest
     * from the frames after it */
    double per = r->painted > 1 ? (elapsed - r->first_frame) / (r->painted - 1) : elapsed;
    nst_video_progress pr = {done, total, r->painted / (elapsed > 0 ? elapsed : 1), elapsed,
                             total > done ? per * (total - done) : 0, fi};
    fp->progress(&pr, fp->user);
}

/* Re-encode the `done` frames of a stopped run and restore the stylizer. */
static int resume_frames(run *r, const work_dir *wd, nst_image *frame, nst_error *err) {
    nst_image last = {0}, saved = {0};
    int done = 0, got = 1, rc = work_load(wd, r->info.w, r->info.h, &done, &last, err);
    for (int i = 0; i < done && !rc; i++) {
        int64_t pts;
        char path[NST_PATH_MAX];
        rc = video_reader_next(r->reader, frame, &pts, &got, err);
        if (!rc && !got)
            rc = nst_fail(err, NST_ERR_RUNTIME, "%s: %d frames done, but the input ended at %d", wd->dir,
                          done, i);
        if (!rc) rc = frame_path(wd, i, path, sizeof path, err);
        if (!rc) rc = nst_image_load(path, &saved, err);
        if (!rc && (saved.w != r->info.w || saved.h != r->info.h))
            rc = nst_fail(err, NST_ERR_RUNTIME, "%s is %dx%d, the run's frames are %dx%d", path, saved.w,
                          saved.h, r->info.w, r->info.h);
        if (!rc) rc = video_writer_frame(r->writer, &saved, pts, err);
        nst_image_free(&saved);
    }
    if (!rc) video_restore(r->video, frame, &last, done);
    r->rep.frames = done;
    nst_image_free(&last);
    return rc;
}

/* Decode, paint and encode every frame of the cut. */
static int frames_loop(run *r, const work_dir *wd, nst_error *err) {
    const nst_video_file_params *fp = r->fp;
    nst_image frame = {0}, out = {0};
    int rc = nst_image_alloc(&frame, r->info.w, r->info.h, err);
    if (!rc && wd && fp->resume && access(wd->state, F_OK) == 0) rc = resume_frames(r, wd, &frame, err);
    for (int got = 1; !rc;) {
        if (fp->cancel && *fp->cancel) {
            rc = nst_fail(err, NST_ERR_RUNTIME, "cancelled after %d frames%s", r->rep.frames,
                          wd ? " (--resume continues)" : "");
            break;
        }
        int64_t pts;
        double t0 = now_seconds();
        rc = video_reader_next(r->reader, &frame, &pts, &got, err);
        if (rc || !got) break;
        double t1 = now_seconds();
        nst_video_frame_info fi;
        rc = nst_video_frame(r->video, &frame, &out, &fi, err);
        double t2 = now_seconds();
        if (!rc) rc = video_writer_frame(r->writer, &out, pts, err);
        if (!rc && wd) rc = work_save(wd, r->rep.frames, &out, err);
        nst_image_free(&out);
        if (rc) break;
        nst_video_report *rep = &r->rep;
        rep->t_decode += t1 - t0;
        rep->t_flow += fi.t_flow, rep->t_paint += fi.t_paint, rep->t_blend += fi.t_blend;
        rep->t_encode += now_seconds() - t2;
        rep->cuts += fi.cut;
        if (fi.warp_error >= 0) {
            rep->warp_error += fi.warp_error, rep->warp_error_input += fi.warp_error_input;
            rep->measured++;
        }
        rep->frames++, r->painted++;
        progress(r, rep->frames, &fi);
    }
    nst_image_free(&frame);
    return rc;
}

int nst_video_file(const char *in, const char *out, const nst_video_params *vp,
                   const nst_video_file_params *fp, nst_video_report *report, nst_error *err) {
    if (!video_output_supported(out))
        return nst_fail(err, NST_ERR_USAGE,
                        "%s: unsupported video output (use .mp4, .webm, .gif or a PNG pattern such as "
                        "frames/%%04d.png)", out);
    if (fp->resume && vp->method != NST_VIDEO_OPTIMIZE)
        return nst_fail(err, NST_ERR_USAGE,
                        "resume: only optimisation runs keep their frames; a network run is fast to redo");
    run r = {.fp = fp, .t0 = now_seconds()};
    video_read_opts ro = {fp->start, fp->duration, fp->size};
    video_write_opts wo = {fp->crf, fp->audio ? in : NULL, fp->start, fp->duration};
    work_dir wd = {0};
    int optimize = vp->method == NST_VIDEO_OPTIMIZE;
    int rc = video_reader_open(in, &ro, &r.reader, &r.info, err);
    if (!rc) rc = nst_video_open(vp, r.info.w, r.info.h, &r.video, err);
    if (!rc && optimize) {
        fingerprint(in, &r.info, vp, fp, wd.run, sizeof wd.run);
        if (nst_pathf(wd.dir, sizeof wd.dir, "%s.nst-work", out) ||
            nst_pathf(wd.state, sizeof wd.state, "%s/state.safetensors", wd.dir))
            rc = nst_fail(err, NST_ERR_USAGE, "%s: path too long", out);
        else if (mkdir(wd.dir, 0755) && errno != EEXIST)
            rc = nst_fail(err, NST_ERR_RUNTIME, "%s: cannot create the work directory: %s", wd.dir,
                          strerror(errno));
        else if (!fp->resume && access(wd.state, F_OK) == 0)
            rc = nst_fail(err, NST_ERR_USAGE,
                          "%s holds a stopped run: continue it with --resume, or remove it", wd.dir);
    }
    if (!rc) rc = video_writer_open(out, &r.info, &wo, &r.writer, err);
    if (!rc) rc = frames_loop(&r, optimize ? &wd : NULL, err);
    if (!rc) rc = video_writer_finish(r.writer, err);
    if (!rc && optimize) work_remove(&wd);
    else if (optimize) rmdir(wd.dir); /* only when empty: saved frames stay for --resume */
    video_writer_free(r.writer);
    nst_video_close(r.video);
    video_reader_close(r.reader);
    nst_video_report *rep = &r.rep;
    rep->w = r.info.w, rep->h = r.info.h;
    rep->seconds = now_seconds() - r.t0;
    rep->fps = rep->seconds > 0 ? r.painted / rep->seconds : 0;
    if (rep->measured) rep->warp_error /= rep->measured, rep->warp_error_input /= rep->measured;
    else rep->warp_error = rep->warp_error_input = -1;
    if (report) *report = *rep;
    return rc;
}
