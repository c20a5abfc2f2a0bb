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
 * uninterrupted run (which also rounds to 8 bits), so the outputs match.
 *
 * A chunked run (the ranks of an MPI job) paints contiguous parts of the
 * cut into the same directory, each with its own state part-KKK and its
 * frames under their index in the cut. A part starts `warmup` frames early
 * (at most the part before it): a feed-forward part then hands its first
 * frame nearly the temporal history of an unsplit run (the blend's weight
 * decays as temporal^k). An optimisation's history does not decay (each
 * frame starts from the last one, warped), so a part paints a picture of
 * its own; the warm-up frames (kept as warm-NNNNNN.png) are cross-faded
 * into the end of the part before, O = (1 - t) A + t B with t = (j + 1) /
 * (w + 1) for warm-up frame j of w, so the seam is a dissolve, not a jump.
 * nst_video_assemble encodes the parts' frames as a resumed run does. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "feedforward/arbitrary.h"
#include "io/io.h"
#include "models/generator.h"
#include "video/video.h"
#include "video/video_io.h"

void nst_video_file_params_init(nst_video_file_params *p) {
    memset(p, 0, sizeof *p);
    p->crf = -1;
    p->audio = 1;
    p->warmup = -1;
}

/* FNV-1a over n bytes, continuing from h. */
static uint64_t fnv(uint64_t h, const void *data, size_t n) {
    const unsigned char *b = data;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}

/* The regions' weights and (style NULL: none) each region's painting. */
static uint64_t hash_regions(uint64_t h, const nst_regions *r, const int *style) {
    if (!r) return h;
    h = fnv(h, r->weight, (size_t)r->n * r->w * r->h * sizeof(float));
    return style ? fnv(h, style, (size_t)r->n * sizeof *style) : h;
}

/* What must match for a resumed run to continue the same run, and for the
 * parts of a chunked run to make one clip: the input, the cut, the frame
 * size, the styles' pixels, every option that changes a frame and the
 * parts with their warm-up. */
static void fingerprint(const char *in, const video_info *info, const nst_video_params *vp,
                        const nst_video_file_params *fp, char *out, size_t n) {
    const nst_stylize_params *s = &vp->stylize;
    const nst_apply_params *ap = &vp->apply;
    uint64_t h = fnv(0xcbf29ce484222325ULL, in, strlen(in));
    double cut[2] = {fp->start, fp->duration};
    int ints[] = {info->w, info->h, fp->chunks > 1 ? fp->chunks : 1, fp->warmup, vp->method};
    float floats[] = {vp->temporal, vp->scene_cut};
    h = fnv(h, cut, sizeof cut);
    h = fnv(h, ints, sizeof ints);
    h = fnv(h, floats, sizeof floats);
    if (vp->method == NST_VIDEO_OPTIMIZE) {
        int opt_ints[] = {vp->iterations_first, s->iterations, s->optimizer, s->lbfgs_history, s->pooling,
                          s->padding, s->precision, s->scales, s->color_transfer, s->n_content_layers,
                          s->n_style_layers, vp->n_styles};
        float opt_floats[] = {s->content_weight, s->style_weight, s->tv_weight, s->learning_rate, s->style_scale};
        h = fnv(h, opt_ints, sizeof opt_ints);
        h = fnv(h, opt_floats, sizeof opt_floats);
        h = fnv(h, s->content_layers, sizeof s->content_layers);
        h = fnv(h, s->style_layers, sizeof s->style_layers);
        h = fnv(h, s->style_layer_weights, sizeof s->style_layer_weights);
        h = fnv(h, s->style_blend, sizeof s->style_blend);
        h = fnv(h, nst_net_name(vp->loss_net), strlen(nst_net_name(vp->loss_net)));
        for (int k = 0; k < vp->n_styles; k++)
            h = fnv(h, vp->styles[k].data, (size_t)3 * vp->styles[k].w * vp->styles[k].h * sizeof(float));
        h = hash_regions(h, s->regions, s->region_style);
    } else if (vp->regions) {
        h = fnv(h, ap, sizeof *ap);
        for (int r = 0; r < vp->regions->n; r++) {
            const nst_generator *g = vp->region_net[r];
            if (g) h = fnv(h, g->params, g->n_params * sizeof(float));
            else if (vp->region_style[r]) h = fnv(h, vp->region_style[r], (size_t)vp->arbitrary->size * sizeof(float));
            else h = fnv(h, &r, sizeof r); /* kept as the frame */
        }
        h = hash_regions(h, vp->regions, NULL);
    } else {
        h = fnv(h, ap, sizeof *ap); /* plain numbers, no padding */
        if (vp->method == NST_VIDEO_NET) h = fnv(h, vp->net->params, vp->net->n_params * sizeof(float));
        else h = fnv(h, vp->style_vector, (size_t)vp->arbitrary->size * sizeof(float));
    }
    snprintf(out, n, "%016llx", (unsigned long long)h);
}

typedef struct {
    char dir[NST_PATH_MAX], state[NST_PATH_MAX];
    char run[32];
    int per_frame; /* save the state after every frame (optimisation: minutes per frame) */
} work_dir;

/* OUT.nst-work and its state file: state.safetensors for a whole run,
 * part-KKK.safetensors for part k of a chunked one. */
static int work_paths(const char *out, int part, int parts, work_dir *wd, nst_error *err) {
    int bad = path_printf(wd->dir, sizeof wd->dir, "%s.nst-work", out);
    if (!bad && parts > 1) bad = path_printf(wd->state, sizeof wd->state, "%s/part-%03d.safetensors", wd->dir, part);
    else if (!bad) bad = path_printf(wd->state, sizeof wd->state, "%s/state.safetensors", wd->dir);
    return bad ? nst_fail(err, NST_ERR_ARG, "%s: path too long", out) : NST_OK;
}

/* Kept frame i of the cut, or (warm) the warm-up frame i of a part. */
static int frame_path(const work_dir *wd, int i, int warm, char *out, size_t n, nst_error *err) {
    if (path_printf(out, n, "%s/%s%06d.png", wd->dir, warm ? "warm-" : "", i))
        return nst_fail(err, NST_ERR_ARG, "%s: path too long", wd->dir);
    return NST_OK;
}

/* What a stopped or finished part (or whole run) left: frames kept from
 * `first` on, whether it finished, and the last output. */
typedef struct {
    int first, frames, complete;
} work_state;

static int work_save_state(const work_dir *wd, const work_state *st, const nst_image *last, nst_error *err) {
    char first[16], frames[16];
    tensor_dict d = {0};
    size_t n = (size_t)3 * last->w * last->h;
    float *copy = malloc(n * sizeof(float));
    if (!copy) return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    memcpy(copy, last->data, n * sizeof(float));
    int64_t shape[3] = {3, last->h, last->w};
    snprintf(first, sizeof first, "%d", st->first);
    snprintf(frames, sizeof frames, "%d", st->frames);
    const char *meta[] = {"format", "nst-video-work", "run", wd->run, "first", first, "frames", frames,
                          "complete", st->complete ? "1" : "0"};
    int rc = dict_add(&d, "output", 3, shape, copy, err);
    if (!rc) rc = safetensors_save(wd->state, &d, meta, 5, err);
    dict_free(&d);
    return rc;
}

static int meta_int(const cJSON *m, const char *key, int *out) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    if (!cJSON_IsString(v)) return -1;
    char *end;
    long x = strtol(v->valuestring, &end, 10);
    if (*end || end == v->valuestring || x < 0 || x > 1 << 30) return -1;
    *out = (int)x;
    return 0;
}

/* The state at wd->state; last (may be NULL) gets the last output. */
static int work_load(const work_dir *wd, int w, int h, work_state *st, nst_image *last, nst_error *err) {
    tensor_dict d = {0};
    int rc = safetensors_load(wd->state, &d, err);
    if (rc) return rc;
    cJSON *m = d.metadata ? cJSON_Parse(d.metadata) : NULL;
    const cJSON *run = cJSON_GetObjectItemCaseSensitive(m, "run");
    const tensor *t = dict_get(&d, "output");
    if (!cJSON_IsString(run) || !t || t->numel != (size_t)3 * w * h || meta_int(m, "first", &st->first) ||
        meta_int(m, "frames", &st->frames) || meta_int(m, "complete", &st->complete))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not the state of a %dx%d nst video run", wd->state, w, h);
    else if (strcmp(run->valuestring, wd->run))
        rc = nst_fail(err, NST_ERR_ARG,
                      "%s holds frames of a run with other settings, input or number of parts: remove it "
                      "to start afresh", wd->dir);
    if (!rc && last) rc = nst_image_alloc(last, w, h, err);
    if (!rc && last) memcpy(last->data, t->data, t->numel * sizeof(float));
    cJSON_Delete(m);
    dict_free(&d);
    return rc;
}

/* Remove the work directory and the files nst put in it. */
static void work_remove(const work_dir *wd) {
    DIR *d = opendir(wd->dir);
    struct dirent *e;
    char path[NST_PATH_MAX];
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && !path_printf(path, sizeof path, "%s/%s", wd->dir, e->d_name)) unlink(path);
    if (d) closedir(d);
    rmdir(wd->dir);
}

typedef struct {
    const nst_video_file_params *fp;
    video_reader *reader;
    video_writer *writer;   /* NULL for a part of a chunked run */
    nst_video *video;
    video_info info;
    nst_video_report rep;
    int first, end, warmup; /* frames [first, end) of the cut are kept, after warmup more painted */
    int fade;               /* the warm-up frames fade into the part before (an optimisation) */
    double t0, first_frame; /* start of the run; seconds the first painted frame took */
    int painted;            /* frames painted in this run (not restored) */
} run;

static void progress(run *r, int done, const nst_video_frame_info *fi) {
    const nst_video_file_params *fp = r->fp;
    double elapsed = now_seconds() - r->t0;
    if (r->painted == 1) r->first_frame = elapsed;
    r->rep.seconds = elapsed;
    if (!fp->progress) return;
    int64_t n = r->info.n_frames;
    int total = n <= r->first ? 0 : (int)((n < r->end ? n : r->end) - r->first);
    /* the first frame is slower (plans, iterations_first, a warm-up):
     * estimate the rest from the frames after it */
    double per = r->painted > 1 ? (elapsed - r->first_frame) / (r->painted - 1) : elapsed;
    nst_video_progress pr = {done, total, r->painted / (elapsed > 0 ? elapsed : 1), elapsed,
                             total > done ? per * (total - done) : 0, fi};
    fp->progress(&pr, fp->user);
}

/* The saved frame i of wd into img (allocated); warm: the warm-up frame. */
static int load_saved(run *r, const work_dir *wd, int i, int warm, nst_image *img, nst_error *err) {
    char path[NST_PATH_MAX];
    int rc = frame_path(wd, i, warm, path, sizeof path, err);
    if (!rc) rc = nst_image_load(path, img, err);
    if (!rc && (img->w != r->info.w || img->h != r->info.h))
        rc = nst_fail(err, NST_ERR_ARG, "%s is %dx%d, the run's frames are %dx%d", path, img->w, img->h,
                      r->info.w, r->info.h);
    return rc;
}

/* Decode the cut's frames before `upto` (the last stays in `frame`); with a
 * writer, encode the saved frames of wd from `from` on in their place,
 * cross-faded into the warm-up frame i by fade[i] where fade (may be NULL)
 * is above 0. */
static int replay(run *r, const work_dir *wd, int from, int upto, const float *fade, nst_image *frame,
                  nst_error *err) {
    nst_image saved = {0}, warm = {0};
    int rc = NST_OK, got = 1;
    for (int i = 0; i < upto && !rc; i++) {
        int64_t pts;
        rc = video_reader_next(r->reader, frame, &pts, &got, err);
        if (!rc && !got)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: %d frames done, but the input ended at %d", wd->dir,
                          upto, i);
        if (rc || i < from || !r->writer) continue;
        rc = load_saved(r, wd, i, 0, &saved, err);
        if (!rc && fade && fade[i] > 0) {
            rc = load_saved(r, wd, i, 1, &warm, err);
            for (size_t k = 0, n = (size_t)3 * saved.w * saved.h; !rc && k < n; k++)
                saved.data[k] += fade[i] * (warm.data[k] - saved.data[k]);
            nst_image_free(&warm);
        }
        if (!rc) rc = video_writer_frame(r->writer, &saved, pts, err);
        nst_image_free(&saved);
    }
    return rc;
}

/* Continue a stopped run: re-encode its saved frames (a whole run), put
 * nst_video where it stood and return the next frame's index in *next. */
static int resume_frames(run *r, const work_dir *wd, nst_image *frame, int *next, nst_error *err) {
    nst_image last = {0};
    work_state st;
    int rc = work_load(wd, r->info.w, r->info.h, &st, &last, err);
    if (!rc && st.first != r->first)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: a part from frame %d, not %d", wd->state, st.first, r->first);
    if (!rc && st.frames < 1) rc = nst_fail(err, NST_ERR_FORMAT, "%s: no frame done", wd->state);
    if (!rc) rc = replay(r, wd, r->first, r->first + st.frames, NULL, frame, err);
    if (!rc) video_restore(r->video, frame, &last, st.frames);
    r->rep.frames = r->rep.resumed = st.frames;
    *next = r->first + st.frames;
    nst_image_free(&last);
    return rc;
}

/* Decode, paint and keep (encode, or save into wd) the frames of the run;
 * the last output stays in *last. */
static int frames_loop(run *r, const work_dir *wd, nst_image *last, nst_error *err) {
    const nst_video_file_params *fp = r->fp;
    nst_image frame = {0}, out = {0};
    int next = 0; /* the index of the next frame in the cut */
    int rc = nst_image_alloc(&frame, r->info.w, r->info.h, err);
    if (!rc && wd && fp->resume && access(wd->state, F_OK) == 0) rc = resume_frames(r, wd, &frame, &next, err);
    for (int got = 1; !rc && next < r->end; next++) {
        if (fp->cancel && *fp->cancel) {
            rc = nst_fail(err, NST_ERR_CANCELLED, "cancelled after %d frames%s", r->rep.frames,
                          wd ? " (resuming continues)" : "");
            break;
        }
        int64_t pts;
        double t0 = now_seconds();
        rc = video_reader_next(r->reader, &frame, &pts, &got, err);
        if (rc || !got) break;
        if (next < r->first - r->warmup) continue; /* before this part's warm-up: decoded only */
        double t1 = now_seconds();
        nst_video_frame_info fi;
        rc = nst_video_frame(r->video, &frame, &out, &fi, err);
        if (rc) break;
        if (next < r->first) { /* a warm-up frame: painted for the history it leaves (and the fade) */
            char path[NST_PATH_MAX];
            int fade = wd && r->fade;
            if (fade) rc = frame_path(wd, next, 1, path, sizeof path, err);
            if (!rc && fade) rc = nst_image_save(path, &out, err);
            nst_image_free(&out);
            continue;
        }
        double t2 = now_seconds();
        char path[NST_PATH_MAX];
        if (r->writer) rc = video_writer_frame(r->writer, &out, pts, err);
        if (!rc && wd) rc = frame_path(wd, next, 0, path, sizeof path, err);
        if (!rc && wd) rc = nst_image_save(path, &out, err);
        /* the frame first, so a state never counts a frame that is not on disk */
        work_state st = {r->first, r->rep.frames + 1, 0};
        if (!rc && wd && wd->per_frame) rc = work_save_state(wd, &st, &out, err);
        nst_image_free(last);
        *last = out, out = (nst_image){0};
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
    if (!rc && !last->data) { /* a part past the end of the input: nothing kept */
        *last = frame, frame = (nst_image){0};
    }
    nst_image_free(&frame);
    return rc;
}

/* Frames [first, end) of part k of `parts` of a cut of about n frames (the
 * last part runs to the input's end: n is the container's estimate), and
 * the warm-up before it: w (-1: NST_VIDEO_WARMUP), at most the part
 * before. */
static void part_range(int64_t n, int k, int parts, int w, int *first, int *end, int *warmup) {
    *first = (int)(n * k / parts);
    *end = k == parts - 1 ? INT_MAX : (int)(n * (k + 1) / parts);
    if (w < 0) w = NST_VIDEO_WARMUP;
    int before = *first - (int)(n * (k - 1) / parts);
    *warmup = k == 0 ? 0 : w < before ? w : before;
}

/* Open the input, the frames' stylizer and (for an optimisation or a
 * part) the work directory: what a run and an assembly share. */
static int run_open(run *r, const char *in, const char *out, const nst_video_params *vp,
                    const nst_video_file_params *fp, work_dir *wd, nst_error *err) {
    video_read_opts ro = {fp->start, fp->duration, fp->size};
    int parts = fp->chunks > 1 ? fp->chunks : 1;
    int rc = video_reader_open(in, &ro, &r->reader, &r->info, err);
    if (!rc && parts > 1 && r->info.n_frames <= 0)
        rc = nst_fail(err, NST_ERR_ARG, "%s: the number of frames is unknown, so the clip cannot be split "
                      "into parts", in);
    if (rc) return rc;
    fingerprint(in, &r->info, vp, fp, wd->run, sizeof wd->run);
    r->end = INT_MAX;
    if (parts > 1)
        part_range(r->info.n_frames, fp->chunk, parts, fp->warmup, &r->first, &r->end, &r->warmup);
    r->fade = vp->method == NST_VIDEO_OPTIMIZE;
    return work_paths(out, fp->chunk, parts, wd, err);
}

static void run_close(run *r) {
    video_writer_free(r->writer);
    nst_video_close(r->video);
    video_reader_close(r->reader);
}

static void finish_report(run *r, nst_video_report *report) {
    nst_video_report *rep = &r->rep;
    rep->w = r->info.w, rep->h = r->info.h;
    rep->seconds = now_seconds() - r->t0;
    rep->fps = rep->seconds > 0 ? r->painted / rep->seconds : 0;
    if (rep->measured) rep->warp_error /= rep->measured, rep->warp_error_input /= rep->measured;
    else rep->warp_error = rep->warp_error_input = -1;
    if (report) *report = *rep;
}

int nst_video_file(const char *in, const char *out, const nst_video_params *vp,
                   const nst_video_file_params *fp, nst_video_report *report, nst_error *err) {
    int parts = fp->chunks > 1 ? fp->chunks : 1;
    if (!video_output_supported(out))
        return nst_fail(err, NST_ERR_ARG,
                        "%s: unsupported video output (use .mp4, .webm, .gif or a PNG pattern such as "
                        "frames/%%04d.png)", out);
    if (parts > 1 && (fp->chunk < 0 || fp->chunk >= parts))
        return nst_fail(err, NST_ERR_ARG, "video: part %d of %d does not exist", fp->chunk, parts);
    if (fp->resume && vp->method != NST_VIDEO_OPTIMIZE && parts == 1)
        return nst_fail(err, NST_ERR_ARG,
                        "resume: only optimisation runs keep their frames; a network run is fast to redo");
    run r = {.fp = fp, .t0 = now_seconds()};
    work_dir wd = {.per_frame = vp->method == NST_VIDEO_OPTIMIZE};
    int keep = wd.per_frame || parts > 1; /* frames go to the work directory */
    nst_image last = {0};
    work_state st = {0};
    int rc = run_open(&r, in, out, vp, fp, &wd, err), done = 0;
    if (!rc && keep && mkdir(wd.dir, 0755) && errno != EEXIST)
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot create the work directory: %s", wd.dir, strerror(errno));
    if (!rc && keep && access(wd.state, F_OK) == 0) {
        if (!fp->resume)
            rc = nst_fail(err, NST_ERR_ARG,
                          "%s holds a stopped run: resume it, or remove it", wd.dir);
        else if (parts > 1 && !(rc = work_load(&wd, r.info.w, r.info.h, &st, NULL, err)))
            done = st.complete && st.first == r.first; /* this part is done: nothing to paint */
    }
    if (!rc && !done) rc = nst_video_open(vp, r.info.w, r.info.h, &r.video, err);
    if (!rc && !done && parts == 1) {
        video_write_opts wo = {fp->crf, fp->audio ? in : NULL, fp->start, fp->duration};
        rc = video_writer_open(out, &r.info, &wo, &r.writer, err);
    }
    if (!rc && !done) rc = frames_loop(&r, keep ? &wd : NULL, &last, err);
    if (done) r.rep.frames = r.rep.resumed = st.frames;
    if (!rc && parts == 1) rc = video_writer_finish(r.writer, err);
    if (!rc && parts > 1 && !done) {
        st = (work_state){r.first, r.rep.frames, 1};
        rc = work_save_state(&wd, &st, &last, err);
    }
    if (!rc && parts == 1 && keep) work_remove(&wd);
    else if (keep && rc) rmdir(wd.dir); /* only when empty: saved frames stay for --resume */
    nst_image_free(&last);
    run_close(&r);
    finish_report(&r, report);
    return rc;
}

int nst_video_assemble(const char *in, const char *out, const nst_video_params *vp,
                       const nst_video_file_params *fp, nst_error *err) {
    if (fp->chunks < 2) return nst_fail(err, NST_ERR_ARG, "video: assembling needs 2 parts or more");
    run r = {.fp = fp, .t0 = now_seconds()};
    work_dir wd = {0};
    nst_image frame = {0};
    float *fade = NULL;
    int *kept = calloc((size_t)fp->chunks, sizeof *kept); /* frames of each part */
    int rc = kept ? run_open(&r, in, out, vp, fp, &wd, err) : nst_fail(err, NST_ERR_NOMEM, "out of memory");
    int total = 0;
    /* the parts, in order: each starts where the kept frames so far end
     * (a part past the input's end kept none) */
    for (int k = 0; k < fp->chunks && !rc; k++) {
        work_state st;
        rc = work_paths(out, k, fp->chunks, &wd, err);
        if (!rc && access(wd.state, F_OK) != 0)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: part %d of %d is missing (resuming paints it)", wd.dir,
                          k + 1, fp->chunks);
        if (!rc) rc = work_load(&wd, r.info.w, r.info.h, &st, NULL, err);
        if (!rc && !st.complete)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: part %d of %d stopped after %d frames (resuming goes on)",
                          wd.dir, k + 1, fp->chunks, st.frames);
        else if (!rc && st.frames > 0 && st.first != total)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: part %d starts at frame %d, the parts before it end at %d",
                          wd.state, k + 1, st.first, total);
        if (!rc) total += st.frames, kept[k] = st.frames;
    }
    if (!rc && total == 0) rc = nst_fail(err, NST_ERR_ARG, "%s: no frames in the cut", in);
    if (!rc && !(fade = calloc((size_t)total, sizeof *fade))) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    for (int k = 1; k < fp->chunks && !rc && r.fade; k++) { /* the dissolve into each part that kept frames */
        int first, end, w;
        part_range(r.info.n_frames, k, fp->chunks, fp->warmup, &first, &end, &w);
        for (int j = 0; j < w && kept[k] > 0; j++) fade[first - w + j] = (float)(j + 1) / (float)(w + 1);
    }
    if (!rc) {
        video_write_opts wo = {fp->crf, fp->audio ? in : NULL, fp->start, fp->duration};
        rc = video_writer_open(out, &r.info, &wo, &r.writer, err);
    }
    if (!rc) rc = nst_image_alloc(&frame, r.info.w, r.info.h, err);
    if (!rc) rc = replay(&r, &wd, 0, total, fade, &frame, err);
    if (!rc) rc = video_writer_finish(r.writer, err);
    if (!rc) work_remove(&wd);
    free(fade);
    free(kept);
    nst_image_free(&frame);
    run_close(&r);
    return rc;
}
