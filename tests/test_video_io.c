/* test_video_io.c: the FFmpeg reader and writer (src/video/video_io.h).
 *
 * Clips are made here with the writer (a window panned over a photo), read
 * back and compared frame by frame with what was written, in the four
 * output kinds and remuxed into MKV and MOV; a variable frame rate must keep
 * its timestamps, odd sizes come back even. The cut is checked on Big Buck
 * Bunny from ../shared (also remuxed into MPEG-TS, whose seeks land
 * anywhere), with its audio carried over into MP4 (copied AAC) and WebM
 * (re-encoded to Opus), as ffprobe sees the results. Bad inputs and outputs
 * must fail naming the file and leave no file behind. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "video/video_io.h"

#define CLIP_W 320
#define CLIP_H 240
#define CLIP_N 24

static nst_image photo; /* tubingen at 480x360, whole grey levels */

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
}

/* Frame i of the clip: a window moving 4 px right and 2 px down per frame. */
static void clip_frame(int i, nst_image *f) {
    size_t n = (size_t)f->w * f->h, pn = (size_t)photo.w * photo.h;
    for (int c = 0; c < 3; c++)
        for (int y = 0; y < f->h; y++)
            for (int x = 0; x < f->w; x++)
                f->data[c * n + (size_t)y * f->w + x] =
                    photo.data[c * pn + (size_t)(y + 2 * i) * photo.w + x + 4 * i];
}

static video_info clip_info(int tb_den) {
    video_info vi = {0};
    vi.w = CLIP_W, vi.h = CLIP_H;
    vi.fps_num = 24, vi.fps_den = 1;
    vi.tb_num = 1, vi.tb_den = tb_den;
    vi.sar_den = 1;
    return vi;
}

static double mean_abs_diff(const nst_image *a, const nst_image *b) {
    size_t n = (size_t)a->w * a->h * 3;
    double s = 0;
    for (size_t i = 0; i < n; i++) s += fabs(a->data[i] - b->data[i]);
    return s / n;
}

/* Write n clip frames at `pts` (in vi's time base). */
static int write_clip(const char *path, const video_info *vi, const video_write_opts *o, int n,
                      const int64_t *pts, nst_error *err) {
    nst_image f;
    video_writer *w = NULL;
    int rc = nst_image_alloc(&f, vi->w, vi->h, err);
    if (rc) return rc;
    rc = video_writer_open(path, vi, o, &w, err);
    for (int i = 0; i < n && !rc; i++) {
        clip_frame(i, &f);
        rc = video_writer_frame(w, &f, pts[i], err);
    }
    if (!rc) rc = video_writer_finish(w, err);
    video_writer_free(w);
    nst_image_free(&f);
    return rc;
}

typedef struct {
    video_info info;
    int n;             /* frames read */
    double t[64];      /* their timestamps in seconds */
    double mad, worst; /* mean and largest per-frame mean |diff| against the clip */
} readback;

/* Read `path` back whole, comparing frame i with clip frame i. */
static int read_clip(const char *path, readback *rb, nst_error *err) {
    video_read_opts ro = {0, 0, 0};
    video_reader *r;
    memset(rb, 0, sizeof *rb);
    int rc = video_reader_open(path, &ro, &r, &rb->info, err);
    if (rc) return rc;
    nst_image f, want;
    nst_image_alloc(&f, rb->info.w, rb->info.h, err);
    nst_image_alloc(&want, CLIP_W, CLIP_H, err);
    for (;;) {
        int64_t pts;
        int got;
        if ((rc = video_reader_next(r, &f, &pts, &got, err)) || !got) break;
        if (rb->n < 64) rb->t[rb->n] = pts * (double)rb->info.tb_num / rb->info.tb_den;
        if (f.w == CLIP_W && f.h == CLIP_H && rb->n < CLIP_N) {
            clip_frame(rb->n, &want);
            double d = mean_abs_diff(&f, &want);
            rb->mad += d / CLIP_N;
            rb->worst = fmax(rb->worst, d);
        }
        rb->n++;
    }
    nst_image_free(&f);
    nst_image_free(&want);
    video_reader_close(r);
    return rc;
}

/* Each output kind: frame count, size, content and timestamps survive. */
static void test_kinds(void) {
    static const struct {
        const char *name;
        int crf;
        double mad, dt; /* largest mean |diff|, timestamp tolerance in s */
    } kinds[] = {
        {"clip.mp4", 12, 3.0, 1e-9},
        {"clip.webm", 20, 6.0, 1e-3},
        {"clip.gif", -1, 20.0, 5.01e-3},
        {"seq_%04d.png", -1, 0.0, -1},
    };
    int64_t pts[CLIP_N];
    for (int i = 0; i < CLIP_N; i++) pts[i] = i;
    for (int k = 0; k < 4; k++) {
        nst_error err;
        const char *path = tu_tmp_path(kinds[k].name);
        video_info vi = clip_info(24);
        if (k == 0) vi.sar_num = 4, vi.sar_den = 3, vi.rotation = 90;
        video_write_opts wo = {kinds[k].crf, NULL, 0, 0};
        double t0 = now();
        int rc = write_clip(path, &vi, &wo, CLIP_N, pts, &err);
        CHECK(rc == NST_OK, "write %s: %s", path, err.msg);
        double t1 = now();
        readback rb;
        rc = rc ? rc : read_clip(path, &rb, &err);
        CHECK(rc == NST_OK, "read %s: %s", path, err.msg);
        if (rc) continue;
        printf(
            "  %-13s written %.2f s, read %.2f s: %d frames %dx%d, mean |diff| %.3f (worst frame "
            "%.3f), %s\n",
            kinds[k].name, t1 - t0, now() - t1, rb.n, rb.info.w, rb.info.h, rb.mad, rb.worst,
            rb.info.video_codec);
        CHECK(rb.n == CLIP_N, "%s: %d frames read, %d written", kinds[k].name, rb.n, CLIP_N);
        CHECK(rb.info.w == CLIP_W && rb.info.h == CLIP_H, "%s: %dx%d", kinds[k].name, rb.info.w,
              rb.info.h);
        CHECK(rb.worst <= kinds[k].mad, "%s: a frame differs by %.3f on average (max %.1f)",
              kinds[k].name, rb.worst, kinds[k].mad);
        int bad = -1;
        for (int i = 1; i < rb.n && i < CLIP_N && bad < 0; i++)
            if (kinds[k].dt >= 0 ? fabs(rb.t[i] - i / 24.0) > kinds[k].dt : rb.t[i] <= rb.t[i - 1])
                bad = i;
        CHECK(rb.t[0] == 0 && bad < 0, "%s: frame %d at %.6f s", kinds[k].name, bad,
              bad < 0 ? rb.t[0] : rb.t[bad]);
        if (k == 0) {
            CHECK(!strcmp(rb.info.video_codec, "h264"), "mp4 codec %s", rb.info.video_codec);
            CHECK(rb.info.fps_num == 24 && rb.info.fps_den == 1, "mp4 frame rate %d/%d",
                  rb.info.fps_num, rb.info.fps_den);
            CHECK(rb.info.sar_num == 4 && rb.info.sar_den == 3, "mp4 SAR %d:%d, want 4:3",
                  rb.info.sar_num, rb.info.sar_den);
            CHECK(fabs(rb.info.rotation - 90) < 1e-6, "mp4 rotation %g, want 90", rb.info.rotation);
            CHECK(rb.info.n_frames == CLIP_N && fabs(rb.info.duration - 1.0) < 1e-6,
                  "mp4 info: %lld frames, %.6f s", (long long)rb.info.n_frames, rb.info.duration);
            CHECK(!rb.info.has_audio, "mp4 without audio has none");
        }
        if (k == 1)
            CHECK(!strcmp(rb.info.video_codec, "vp9"), "webm codec %s", rb.info.video_codec);
        if (k == 2) CHECK(!strcmp(rb.info.video_codec, "gif"), "gif codec %s", rb.info.video_codec);
        if (k == 3) {
            CHECK(tu_file_size(tu_tmp_path("seq_0001.png")) > 0 &&
                      tu_file_size(tu_tmp_path("seq_0024.png")) > 0 &&
                      tu_file_size(tu_tmp_path("seq_0025.png")) < 0,
                  "PNG sequence numbered 0001..0024");
            CHECK(rb.mad == 0, "PNG round trip is not exact: %g", rb.mad);
        }
    }
}

/* Irregular timestamps come back as written. */
static void test_vfr(void) {
    static const int64_t pts[CLIP_N] = {0,    40,   100,  110,  200,  333,  334,  500,
                                        750,  1000, 1010, 1100, 1250, 1300, 1333, 1400,
                                        1600, 1601, 1700, 1900, 2000, 2040, 2500, 3000};
    static const char *names[] = {"vfr.mp4", "vfr.webm"};
    for (int k = 0; k < 2; k++) {
        nst_error err;
        const char *path = tu_tmp_path(names[k]);
        video_info vi = clip_info(1000);
        video_write_opts wo = {-1, NULL, 0, 0};
        readback rb;
        int rc = write_clip(path, &vi, &wo, CLIP_N, pts, &err);
        CHECK(rc == NST_OK, "write %s: %s", path, err.msg);
        if (rc || (rc = read_clip(path, &rb, &err))) {
            CHECK(0, "read %s: %s", path, err.msg);
            continue;
        }
        double worst = 0;
        for (int i = 0; i < rb.n && i < CLIP_N; i++)
            worst = fmax(worst, fabs(rb.t[i] - pts[i] / 1000.0));
        printf("  %s: %d frames, time base %d/%d, largest timestamp error %.2g s\n", names[k], rb.n,
               rb.info.tb_num, rb.info.tb_den, worst);
        CHECK(rb.n == CLIP_N && worst < 1e-9, "%s: %d frames, a timestamp off by %g s", names[k],
              rb.n, worst);
        CHECK(rb.mad < 8, "%s: mean |diff| %g", names[k], rb.mad);
    }
}

typedef struct {
    char vcodec[32], acodec[32];
    int vpackets, apackets;
    double vdur, adur, astart; /* stream durations, else the packets' span */
} probe_info;

/* Streams and packets of `path` as ffprobe reports them. */
static int probe(const char *path, probe_info *p) {
    char cmd[1200], line[256];
    memset(p, 0, sizeof *p);
    snprintf(
        cmd, sizeof cmd,
        "ffprobe -v error -show_entries stream=codec_name,codec_type,duration -of csv=p=0 '%s'",
        path);
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    double sdur[2] = {0, 0};
    while (fgets(line, sizeof line, f)) {
        char name[32], type[32], dur[32] = "";
        if (sscanf(line, "%31[^,],%31[^,],%31s", name, type, dur) < 2) continue;
        int a = !strcmp(type, "audio");
        snprintf(a ? p->acodec : p->vcodec, sizeof p->vcodec, "%s", name);
        sdur[a] = atof(dur); /* 0 for N/A (WebM) */
    }
    pclose(f);
    snprintf(
        cmd, sizeof cmd,
        "ffprobe -v error -show_entries packet=codec_type,pts_time,duration_time -of csv=p=0 '%s'",
        path);
    if (!(f = popen(cmd, "r"))) return -1;
    double lo[2] = {INFINITY, INFINITY}, hi[2] = {-INFINITY, -INFINITY};
    while (fgets(line, sizeof line, f)) {
        char type[32], dur[32] = "";
        double t;
        if (sscanf(line, "%31[^,],%lf,%31s", type, &t, dur) < 2) continue;
        int a = !strcmp(type, "audio");
        *(a ? &p->apackets : &p->vpackets) += 1;
        lo[a] = fmin(lo[a], t);
        hi[a] = fmax(hi[a], t + atof(dur));
    }
    pclose(f);
    p->vdur = sdur[0] > 0 ? sdur[0] : hi[0] - lo[0];
    p->adur = sdur[1] > 0 ? sdur[1] : hi[1] - lo[1];
    p->astart = lo[1];
    return 0;
}

/* Other containers FFmpeg reads (the MP4 clip remuxed into MKV and MOV by
 * the ffmpeg tool); an audio source without audio gives a silent video. */
static void test_containers(void) {
    const char *mp4 = tu_tmp_path("clip.mp4");
    static const char *names[] = {"clip.mkv", "clip.mov"};
    for (int k = 0; k < 2; k++) {
        char cmd[1200];
        const char *path = tu_tmp_path(names[k]);
        snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -c copy '%s'", mp4, path);
        CHECK(system(cmd) == 0, "%s", cmd);
        nst_error err;
        readback rb;
        if (read_clip(path, &rb, &err)) {
            CHECK(0, "read %s: %s", path, err.msg);
            continue;
        }
        double worst = 0;
        for (int i = 0; i < rb.n && i < CLIP_N; i++) worst = fmax(worst, fabs(rb.t[i] - i / 24.0));
        CHECK(rb.n == CLIP_N && rb.worst < 3 && worst < 1e-3 &&
                  !strcmp(rb.info.video_codec, "h264"),
              "%s: %d frames, mean |diff| up to %g, a timestamp off by %g s, codec %s", names[k],
              rb.n, rb.worst, worst, rb.info.video_codec);
    }
    nst_error err;
    int64_t pts[3] = {0, 1, 2};
    video_info vi = clip_info(24);
    video_write_opts wo = {-1, mp4, 0, 0};
    const char *silent = tu_tmp_path("silent.mp4");
    probe_info p;
    CHECK(write_clip(silent, &vi, &wo, 3, pts, &err) == NST_OK, "%s: %s", silent, err.msg);
    CHECK(probe(silent, &p) == 0 && p.vpackets == 3 && !p.acodec[0] && !p.apackets,
          "%s: %d frames, audio '%s'", silent, p.vpackets, p.acodec);
}

/* Sizes: odd sides are cropped with size 0 and rounded to even when scaling. */
static void test_sizes(void) {
    nst_error err;
    int64_t pts[3] = {0, 1, 2};
    video_info vi = clip_info(24);
    vi.w = 321, vi.h = 241;
    const char *seq = tu_tmp_path("odd_%02d.png");
    if (write_clip(seq, &vi, NULL, 3, pts, &err)) {
        CHECK(0, "%s: %s", seq, err.msg);
        return;
    }
    nst_image f, want;
    nst_image_alloc(&want, 321, 241, &err);
    clip_frame(0, &want);
    for (int size = 0; size <= 161; size += 161) {
        video_read_opts ro = {0, 0, size};
        video_reader *r;
        video_info info;
        if (video_reader_open(seq, &ro, &r, &info, &err)) {
            CHECK(0, "%s: %s", seq, err.msg);
            continue;
        }
        printf("  321x241 read with size %d: %dx%d\n", size, info.w, info.h);
        CHECK(info.src_w == 321 && info.src_h == 241, "source %dx%d", info.src_w, info.src_h);
        if (size == 0)
            CHECK(info.w == 320 && info.h == 240, "size 0: %dx%d", info.w, info.h);
        else
            CHECK(info.w % 2 == 0 && info.h % 2 == 0 && abs(info.w - 161) <= 1 &&
                      fabs(info.h - 161 * 241 / 321.0) <= 1.5,
                  "size 161: %dx%d", info.w, info.h);
        nst_image_alloc(&f, info.w, info.h, &err);
        int64_t t;
        int got;
        CHECK(video_reader_next(r, &f, &t, &got, &err) == NST_OK && got, "%s: %s", seq, err.msg);
        int same = 1;
        for (int c = 0; c < 3 && size == 0; c++)
            for (int y = 0; y < 240; y++)
                for (int x = 0; x < 320; x++)
                    same &= f.data[(c * 240 + y) * 320 + x] == want.data[(c * 241 + y) * 321 + x];
        CHECK(same, "size 0 is not the frame without its last column and row");
        nst_image_free(&f);
        video_reader_close(r);
    }
    nst_image_free(&want);
}

/* --start 11 --duration 3 on Big Buck Bunny (keyframes at 0 and 10.42 s):
 * 72 frames from frame 264, into MP4 and WebM with the audio. */
static void test_cut(void) {
    const char *bunny = tu_shared("videos/big_buck_bunny_360p.mp4");
    if (!bunny) return;
    nst_error err;
    video_read_opts ro = {11.0, 3.0, 320};
    video_info info;
    video_reader *r;
    double t0 = now();
    if (video_reader_open(bunny, &ro, &r, &info, &err)) {
        CHECK(0, "open %s: %s", bunny, err.msg);
        return;
    }
    CHECK(info.src_w == 640 && info.src_h == 360 && info.w == 320 && info.h == 180,
          "bunny %dx%d read as %dx%d", info.src_w, info.src_h, info.w, info.h);
    CHECK(info.fps_num == 24 && info.fps_den == 1 && info.n_frames == 72 &&
              fabs(info.duration - 3.0) < 1e-9,
          "bunny cut info: %d/%d fps, %lld frames, %g s", info.fps_num, info.fps_den,
          (long long)info.n_frames, info.duration);
    CHECK(info.has_audio && !strcmp(info.audio_codec, "aac") && !strcmp(info.video_codec, "h264"),
          "bunny codecs %s / %s, audio %d", info.video_codec, info.audio_codec, info.has_audio);

    const char *mp4 = tu_tmp_path("cut.mp4"), *webm = tu_tmp_path("cut.webm");
    video_write_opts wo = {-1, bunny, ro.start, ro.duration};
    video_writer *wm = NULL, *ww = NULL;
    int rc = video_writer_open(mp4, &info, &wo, &wm, &err);
    CHECK(rc == NST_OK, "open %s: %s", mp4, err.msg);
    if (!rc)
        CHECK((rc = video_writer_open(webm, &info, &wo, &ww, &err)) == NST_OK, "open %s: %s", webm,
              err.msg);
    nst_image f, first;
    nst_image_alloc(&f, info.w, info.h, &err);
    nst_image_alloc(&first, info.w, info.h, &err);
    int n = 0, steady = 1;
    for (int64_t pts; !rc;) {
        int got;
        if ((rc = video_reader_next(r, &f, &pts, &got, &err)) || !got) break;
        if (n == 0) memcpy(first.data, f.data, sizeof(float) * 3 * f.w * f.h);
        steady &= pts == (int64_t)n * info.tb_den / (24 * info.tb_num);
        if ((rc = video_writer_frame(wm, &f, pts, &err)) ||
            (rc = video_writer_frame(ww, &f, pts, &err)))
            break;
        n++;
    }
    CHECK(rc == NST_OK, "cut: %s", err.msg);
    CHECK(n == 72 && steady, "cut: %d frames (want 72), timestamps %s", n,
          steady ? "steady" : "off");
    if (!rc) CHECK(video_writer_finish(wm, &err) == NST_OK, "finish %s: %s", mp4, err.msg);
    if (!rc) CHECK(video_writer_finish(ww, &err) == NST_OK, "finish %s: %s", webm, err.msg);
    video_writer_free(wm);
    video_writer_free(ww);
    video_reader_close(r);
    printf("  cut: 72 frames read and written twice in %.2f s\n", now() - t0);

    /* the cut starts exactly at frame 264 of the whole video */
    video_read_opts whole = {0, 0, 320};
    if (!video_reader_open(bunny, &whole, &r, &info, &err)) {
        int64_t pts = 0;
        int got = 1;
        for (int i = 0; i <= 264 && got && !rc; i++)
            rc = video_reader_next(r, &f, &pts, &got, &err);
        CHECK(!rc && got && pts == 264 * 512, "frame 264 of the whole: %s", rc ? err.msg : "");
        CHECK(!memcmp(f.data, first.data, sizeof(float) * 3 * f.w * f.h),
              "the cut's first frame is not frame 264 (mean |diff| %g)", mean_abs_diff(&f, &first));
        video_reader_close(r);
    } else {
        CHECK(0, "%s", err.msg);
    }
    nst_image_free(&f);
    nst_image_free(&first);

    const char *outs[2] = {mp4, webm}, *vc[2] = {"h264", "vp9"}, *ac[2] = {"aac", "opus"};
    for (int k = 0; k < 2; k++) {
        probe_info p;
        if (probe(outs[k], &p)) {
            CHECK(0, "ffprobe %s", outs[k]);
            continue;
        }
        printf("  %s: %s, %d frames, %.3f s; %s, %.3f s, first packet at %.3f s\n", outs[k],
               p.vcodec, p.vpackets, p.vdur, p.acodec, p.adur, p.astart);
        CHECK(!strcmp(p.vcodec, vc[k]) && p.vpackets == 72 && fabs(p.vdur - 3.0) < 0.01,
              "%s: video %s, %d frames, %.3f s", outs[k], p.vcodec, p.vpackets, p.vdur);
        /* copied AAC starts with the frame that overlaps the cut's start */
        CHECK(!strcmp(p.acodec, ac[k]) && fabs(p.adur - 3.0) < 0.1 && fabs(p.astart) < 0.03,
              "%s: audio %s, %.3f s from %.3f, want %s, 3 s from 0", outs[k], p.acodec, p.adur,
              p.astart, ac[k]);
    }
}

/* MPEG-TS seeks to any frame, keyframe or not: a cut just before Big Buck
 * Bunny's keyframe at 10.42 s (a leading B-frame of its open GOP) must
 * still start on the right frame, as in the MP4, and keep its audio. */
static void test_ts(void) {
    const char *bunny = tu_shared("videos/big_buck_bunny_360p.mp4");
    if (!bunny) return;
    const char *ts = tu_tmp_path("bunny.ts"), *out = tu_tmp_path("from_ts.mp4");
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -t 12 -c copy '%s'", bunny, ts);
    CHECK(system(cmd) == 0, "%s", cmd);
    nst_error err;
    video_read_opts ro = {10.375, 0.5, 160};
    nst_image f[2] = {{0}};
    int n[2] = {0, 0};
    const char *in[2] = {bunny, ts};
    for (int k = 0; k < 2; k++) {
        video_reader *r;
        video_writer *w = NULL;
        video_info info;
        if (video_reader_open(in[k], &ro, &r, &info, &err)) {
            CHECK(0, "%s", err.msg);
            continue;
        }
        video_write_opts wo = {-1, in[k], ro.start, ro.duration};
        int rc = k ? video_writer_open(out, &info, &wo, &w, &err) : 0;
        nst_image cur;
        nst_image_alloc(&f[k], info.w, info.h, &err);
        nst_image_alloc(&cur, info.w, info.h, &err);
        for (int64_t pts; !rc;) {
            int got;
            if ((rc = video_reader_next(r, n[k] ? &cur : &f[k], &pts, &got, &err)) || !got) break;
            if (w) rc = video_writer_frame(w, n[k] ? &cur : &f[k], pts, &err);
            n[k]++;
        }
        if (w && !rc) rc = video_writer_finish(w, &err);
        CHECK(rc == NST_OK, "%s: %s", in[k], err.msg);
        video_writer_free(w);
        video_reader_close(r);
        nst_image_free(&cur);
    }
    CHECK(n[0] == 12 && n[1] == 12, "cut of 0.5 s at 10.375 s: %d frames from the MP4, %d from TS",
          n[0], n[1]);
    CHECK(f[0].data && f[1].data &&
              !memcmp(f[0].data, f[1].data, sizeof(float) * 3 * f[0].w * f[0].h),
          "the TS cut starts on another frame than the MP4 cut");
    probe_info p;
    CHECK(probe(out, &p) == 0 && p.vpackets == 12 && !strcmp(p.acodec, "aac") &&
              fabs(p.adur - 0.5) < 0.05,
          "%s: %d frames, audio %s of %.3f s", out, p.vpackets, p.acodec, p.adur);
    printf("  TS cut: %d frames, audio %s %.3f s\n", n[1], p.acodec, p.adur);
    nst_image_free(&f[0]);
    nst_image_free(&f[1]);
}

/* The reader fails naming the file and `what`, at open or on a later frame. */
static void expect_read_error(int code, const char *path, const video_read_opts *ro, const char *what) {
    nst_error err = {0};
    video_info info;
    video_reader *r = NULL;
    int rc = video_reader_open(path, ro, &r, &info, &err), frames = 0;
    if (!rc) {
        nst_image f;
        nst_image_alloc(&f, info.w, info.h, &err);
        for (int got = 1; !rc && got; frames++) {
            int64_t pts;
            rc = video_reader_next(r, &f, &pts, &got, &err);
        }
        nst_image_free(&f);
        video_reader_close(r);
    }
    CHECK(rc == code, "%s: rc %d after %d frames, want %d (%s)", path, rc, frames, code, nst_error_name(code));
    CHECK(strstr(err.msg, path) && strstr(err.msg, what), "%s: message '%s' lacks '%s'", path,
          err.msg, what);
    printf("  expected error: %s\n", err.msg);
}

/* The writer fails with `code`, naming `path` and `what`, and leaves no file. */
static void expect_write_error(const char *path, const video_info *vi, const video_write_opts *o,
                               int code, const char *what) {
    int before = tu_tmpdir_entries();
    int64_t pts[3] = {0, 1, 2};
    nst_error err = {0};
    int rc = write_clip(path, vi, o, 3, pts, &err);
    CHECK(rc == code, "%s: rc %d, want %d", path, rc, code);
    CHECK(strstr(err.msg, what) != NULL, "%s: message '%s' lacks '%s'", path, err.msg, what);
    CHECK(tu_tmpdir_entries() == before, "%s: %d files left behind", path,
          tu_tmpdir_entries() - before);
    printf("  expected error: %s\n", err.msg);
}

static void test_errors(void) {
    nst_error err;
    video_read_opts ro = {0, 0, 0};
    const char *bunny = tu_shared("videos/big_buck_bunny_360p.mp4");
    const char *notes = tu_tmp_path("notes.txt"), *empty = tu_tmp_path("empty.mp4");
    tu_write_file(notes, "just some text\n", 15);
    tu_write_file(empty, "", 0);
    expect_read_error(NST_ERR_FORMAT, notes, &ro, "not a video");
    expect_read_error(NST_ERR_FORMAT, empty, &ro, "not a video (empty file)");
    expect_read_error(NST_ERR_IO, tu_tmp_path("missing.mp4"), &ro, "no such file");
    expect_read_error(NST_ERR_IO, tu_tmp_path("missing_%04d.png"), &ro, "no such file");
    if (bunny) {
        size_t len;
        unsigned char *data = tu_read_file(bunny, &len);
        const char *cut = tu_tmp_path("truncated.mp4");
        const char *half = tu_tmp_path("cut_in_mdat.mp4"); /* sample table whole, samples not */
        if (data) tu_write_file(cut, data, 20 * 1024);
        if (data) tu_write_file(half, data, 300 * 1024);
        free(data);
        expect_read_error(NST_ERR_FORMAT, cut, &ro, "truncated");
        video_read_opts small = {0, 0, 160};
        expect_read_error(NST_ERR_FORMAT, half, &small, "truncated");
        video_read_opts late = {100, 0, 0};
        expect_read_error(NST_ERR_ARG, bunny, &late, "no frames in the cut");

        const char *m4a = tu_tmp_path("audio.m4a");
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "ffmpeg -v error -y -i '%s' -t 1 -vn -c:a copy '%s'", bunny, m4a);
        CHECK(system(cmd) == 0, "%s", cmd);
        expect_read_error(NST_ERR_FORMAT, m4a, &ro, "no video stream");
    }

    /* a clip damaged in the middle: the error names the frame */
    int64_t pts[CLIP_N];
    for (int i = 0; i < CLIP_N; i++) pts[i] = i;
    const char *bad = tu_tmp_path("damaged.mp4");
    video_info vi = clip_info(24);
    video_write_opts wo = {-1, NULL, 0, 0};
    if (write_clip(bad, &vi, &wo, CLIP_N, pts, &err) == NST_OK) {
        size_t len;
        unsigned char *data = tu_read_file(bad, &len);
        uint64_t s = 88172645463325252ull;
        for (size_t i = len * 3 / 4; data && i < len * 4 / 5; i++) {
            s ^= s << 13, s ^= s >> 7, s ^= s << 17;
            data[i] = (unsigned char)s;
        }
        if (data) tu_write_file(bad, data, len);
        free(data);
        expect_read_error(NST_ERR_FORMAT, bad, &ro, "frame");
    } else {
        CHECK(0, "%s", err.msg);
    }

    expect_write_error(tu_tmp_path("out.avi"), &vi, &wo, NST_ERR_ARG,
                       "unsupported output format");
    expect_write_error(tu_tmp_path("out.png"), &vi, &wo, NST_ERR_ARG, "frame number");
    video_info odd = vi;
    odd.w = 321;
    expect_write_error(tu_tmp_path("odd.mp4"), &odd, &wo, NST_ERR_ARG, "even");
    expect_write_error(tu_tmp_path("nodir/out.mp4"), &vi, &wo, NST_ERR_IO, "nodir/out.mp4");
    expect_write_error(tu_tmp_path("nodir/f_%04d.png"), &vi, &wo, NST_ERR_IO,
                       "nodir/f_%04d.png");
    expect_write_error(tu_tmp_path("notes.txt/out.gif"), &vi, &wo, NST_ERR_IO,
                       "Not a directory");
    video_write_opts noisy = {-1, notes, 0, 0};
    expect_write_error(tu_tmp_path("out.mp4"), &vi, &noisy, NST_ERR_FORMAT, notes);
    const char *ro_dir = tu_tmp_path("readonly");
    mkdir(ro_dir, 0555);
    if (geteuid() != 0) /* root writes anywhere */
        expect_write_error(tu_tmp_path("readonly/out.webm"), &vi, &wo, NST_ERR_IO,
                           "Permission denied");

    /* a writer freed before finishing leaves nothing (with audio, and a sequence) */
    const char *outs[2] = {tu_tmp_path("unfinished.mp4"), tu_tmp_path("unfinished_%03d.png")};
    for (int k = 0; k < 2; k++) {
        int before = tu_tmpdir_entries();
        video_writer *w;
        video_write_opts ao = {-1, bunny, 5, 2};
        nst_image f;
        nst_image_alloc(&f, vi.w, vi.h, &err);
        if (video_writer_open(outs[k], &vi, &ao, &w, &err) == NST_OK) {
            for (int i = 0; i < 5; i++) {
                clip_frame(i, &f);
                CHECK(video_writer_frame(w, &f, i, &err) == NST_OK, "%s: %s", outs[k], err.msg);
            }
            CHECK(tu_tmpdir_entries() > before, "%s: nothing written while open", outs[k]);
            video_writer_free(w);
        } else {
            CHECK(0, "%s", err.msg);
        }
        nst_image_free(&f);
        CHECK(tu_tmpdir_entries() == before, "%s: %d files left by an unfinished writer", outs[k],
              tu_tmpdir_entries() - before);
    }
    CHECK(video_output_supported("a.mp4") && video_output_supported("b.WEBM") &&
              video_output_supported("c.gif") && video_output_supported("d/%05d.png") &&
              !video_output_supported("e.png") && !video_output_supported("f.avi") &&
              !video_output_supported("g.d/mp4"),
          "video_output_supported");
}

int main(void) {
    tu_tmpdir_create("test_video_io");
    nst_error err;
    const char *jpg = tu_shared("images/content/tubingen.jpg");
    nst_image full;
    if (!jpg || nst_image_load(jpg, &full, &err) ||
        nst_image_resize(&full, 480, 360, &photo, &err)) {
        CHECK(0, "tubingen.jpg: %s", err.msg);
        tu_tmpdir_remove();
        return tu_finish();
    }
    nst_image_free(&full);
    for (size_t i = 0; i < (size_t)3 * photo.w * photo.h; i++)
        photo.data[i] = roundf(photo.data[i]);
    double t0 = now();
    test_kinds();
    test_vfr();
    test_containers();
    test_sizes();
    test_cut();
    test_ts();
    test_errors();
    printf("  total %.1f s\n", now() - t0);
    nst_image_free(&photo);
    tu_tmpdir_remove();
    return tu_finish();
}
