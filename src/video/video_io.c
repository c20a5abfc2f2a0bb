/* video_io.c: the reader and writer of video_io.h on FFmpeg 5.1's libraries.
 *
 * Reading: the best video stream is decoded with AV_EF_EXPLODE, so damaged
 * data is an error naming the frame instead of a silently concealed picture;
 * frames go through swscale to RGB24 (with the stream's YUV matrix and
 * range; untagged streams get BT.709 from 720 lines up, BT.601 below, as
 * players guess) and then to planar floats. `size` scales the long side;
 * both sides are rounded to even numbers, and with size 0 an odd input side
 * loses its last column or row, so every frame can be written back as
 * yuv420p. A stream that changes size midway is scaled to the first size.
 * Frames are returned as coded: the display rotation is reported (and
 * carried over by the writer), not applied.
 *
 * The cut: a seek to a keyframe a second before `start`, then frames before
 * `start` are decoded and dropped; the cut ends before the first frame at
 * start + duration. Some demuxers (MPEG-TS) land late: when the first frame
 * after a seek is already past the start, the seek goes twice as far back,
 * down to the stream's start and then its first byte. Decoding errors
 * before the first keyframe, and (after a seek) before the start, are not
 * errors: a stream cut mid-GOP and the leading frames of an open GOP miss
 * their references. The decoder runs without frame threads, so an error
 * belongs to the packet just sent. Timestamps count from the first frame
 * returned, and are made strictly increasing (a repeated stamp becomes the
 * previous one + 1 tick) so that they can be muxed again.
 *
 * Writing: a temporary file beside the output (PATH.partXXXXXX, the muxer
 * chosen from the real name) renamed on finish. A PNG sequence has no single
 * file: the image2 muxer writes each frame under a temporary name and renames
 * it (atomic_writing), and freeing an unfinished writer deletes the frames
 * written so far. Encoder timestamps use the caller's time base, so every
 * frame keeps its stamp (the muxer's own time base permitting: WebM counts
 * milliseconds, GIF hundredths of a second). YUV output is BT.709, limited
 * range, and tagged so.
 *
 * Audio is read from a second opening of the input, cut to the same span
 * (from the video's start time + start, so it stays in sync with the
 * frames) and interleaved as the frames arrive. Copied packets are whole
 * codec frames: those overlapping the start are kept with a negative
 * timestamp, which MP4 records in its edit list. Re-encoding trims to the
 * sample. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libavcodec/avcodec.h>
#include <libavdevice/avdevice.h>
#include <libavformat/avformat.h>
#include <libavutil/audio_fifo.h>
#include <libavutil/display.h>
#include <libavutil/imgutils.h>
#include <libavutil/opt.h>
#include <libswresample/swresample.h>
#include <libswscale/swscale.h>

#include "core/util.h"
#include "video/video_io.h"

/* The first seek lands this far before the cut (see the top of the file). */
#define SEEK_PREROLL 1.0

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

/* FFmpeg logs warnings and encoder banners to stderr at its default level;
 * our errors already name the file and the problem. A level the program set
 * itself is left alone. */
static void ff_init(void) {
    if (av_log_get_level() == AV_LOG_INFO) av_log_set_level(AV_LOG_ERROR);
    avdevice_register_all();
}

static const char *ff_str(int ret, char *buf, size_t n) {
    av_strerror(ret, buf, n);
    return buf;
}

/* ---- reading ------------------------------------------------------------ */

struct video_reader {
    char *path;
    AVFormatContext *fmt;
    AVCodecContext *dec;
    AVStream *st;
    AVPacket *pkt;
    AVFrame *frame;
    struct SwsContext *sws;
    int sws_key[5];  /* width, height, format, colourspace, range of sws */
    uint8_t *rgb[4]; /* packed RGB24 at w x h */
    int rgb_ls[4];
    int w, h, scale;           /* scale: o->size was given (else odd sides are cropped) */
    int64_t start_ts, end_ts;  /* the cut in stream ticks (end INT64_MAX: to the end) */
    int64_t tick;              /* one frame in ticks, for frames without a timestamp */
    int64_t guess_ts;          /* where a frame without a timestamp goes */
    int64_t first_ts, last_ts; /* of the frames returned */
    int64_t origin, back;      /* the stream's start; how far before the cut the seek went */
    int64_t sent_ts;           /* of the latest packet sent to the decoder */
    int64_t returned;
    double start;
    int seeking, byte_seek; /* the first frame after a seek is to come; sought byte 0 */
    int seen_key, done;
};

static const AVInputFormat *input_format(const char *path) {
    struct stat st;
    if (!strncmp(path, "/dev/video", 10)) return av_find_input_format("v4l2");
    /* a name with %d that is not itself a file is an image sequence */
    if (stat(path, &st) != 0 && av_filename_number_test(path))
        return av_find_input_format("image2");
    return NULL;
}

static int open_error(const char *path, int ret, nst_error *err) {
    char e[128];
    struct stat st;
    if (stat(path, &st) == 0 && S_ISREG(st.st_mode) && st.st_size == 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: not a video (empty file)", path);
    if (ret == AVERROR(ENOENT)) return nst_fail(err, NST_ERR_IO, "%s: no such file", path);
    if (ret == AVERROR_INVALIDDATA)
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: not a video (unrecognised format or a damaged header)", path);
    return nst_fail(err, NST_ERR_IO, "%s: cannot open (%s)", path, ff_str(ret, e, sizeof e));
}

/* The nearest even number, at least 2. */
static int even(double v) {
    int e = 2 * (int)lround(v / 2);
    return e < 2 ? 2 : e;
}

/* Seek `st` to a keyframe `back` ticks before `ts`, but not before `first`. */
static int seek_before(AVFormatContext *fmt, AVStream *st, int64_t ts, int64_t back,
                       int64_t first) {
    return av_seek_frame(fmt, st->index, ts - back > first ? ts - back : first,
                         AVSEEK_FLAG_BACKWARD);
}

static int reader_setup(video_reader *r, const char *path, const video_read_opts *o,
                        video_info *info, nst_error *err) {
    char e[128];
    if (o->start < 0 || o->duration < 0 || o->size < 0)
        return nst_fail(err, NST_ERR_ARG, "%s: the cut and size must not be negative", path);
    int ret = avformat_open_input(&r->fmt, path, input_format(path), NULL);
    if (ret < 0) return open_error(path, ret, err);
    if ((ret = avformat_find_stream_info(r->fmt, NULL)) < 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot read the streams (%s)", path,
                        ff_str(ret, e, sizeof e));
    const AVCodec *codec = NULL;
    int si = av_find_best_stream(r->fmt, AVMEDIA_TYPE_VIDEO, -1, -1, &codec, 0);
    if (si == AVERROR_DECODER_NOT_FOUND) {
        const char *name = "unknown";
        for (unsigned i = 0; i < r->fmt->nb_streams; i++)
            if (r->fmt->streams[i]->codecpar->codec_type == AVMEDIA_TYPE_VIDEO) {
                name = avcodec_get_name(r->fmt->streams[i]->codecpar->codec_id);
                break;
            }
        return nst_fail(err, NST_ERR_FORMAT, "%s: unsupported video codec %s (no decoder)", path,
                        name);
    }
    if (si < 0 || r->fmt->streams[si]->disposition & AV_DISPOSITION_ATTACHED_PIC)
        return nst_fail(err, NST_ERR_FORMAT, "%s: no video stream", path);
    r->st = r->fmt->streams[si];
    for (unsigned i = 0; i < r->fmt->nb_streams; i++)
        if ((int)i != si) r->fmt->streams[i]->discard = AVDISCARD_ALL;

    const AVCodecParameters *par = r->st->codecpar;
    if (par->width <= 0 || par->height <= 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: the video stream has no frame size", path);
    if (!(r->dec = avcodec_alloc_context3(codec)) || avcodec_parameters_to_context(r->dec, par) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    r->dec->pkt_timebase = r->st->time_base;
    r->dec->thread_count = 0;
    r->dec->thread_type = FF_THREAD_SLICE;
    r->dec->err_recognition |= AV_EF_EXPLODE;
    if ((ret = avcodec_open2(r->dec, codec, NULL)) < 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot open the %s decoder (%s)", path,
                        codec->name, ff_str(ret, e, sizeof e));

    r->scale = o->size > 0;
    if (r->scale) {
        nst_image_fit(par->width, par->height, o->size, &r->w, &r->h);
        r->w = even(r->w), r->h = even(r->h);
    } else {
        r->w = par->width < 2 ? 2 : par->width & ~1;
        r->h = par->height < 2 ? 2 : par->height & ~1;
    }
    if (r->w > NST_MAX_SIDE || r->h > NST_MAX_SIDE || (long)r->w * r->h > NST_MAX_PIXELS)
        return nst_fail(err, NST_ERR_FORMAT, "%s: frames too large: %dx%d", path, r->w, r->h);
    if (av_image_alloc(r->rgb, r->rgb_ls, r->w, r->h, AV_PIX_FMT_RGB24, 32) < 0 ||
        !(r->pkt = av_packet_alloc()) || !(r->frame = av_frame_alloc()))
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);

    AVRational tb = r->st->time_base, fps = r->st->avg_frame_rate;
    if (fps.num <= 0 || fps.den <= 0) fps = r->st->r_frame_rate;
    if (fps.num <= 0 || fps.den <= 0) fps = (AVRational){0, 1};
    double total = 0;
    if (r->st->duration > 0)
        total = r->st->duration * av_q2d(tb);
    else if (r->fmt->duration > 0)
        total = r->fmt->duration / (double)AV_TIME_BASE;
    if (total > 0 && o->start >= total)
        return nst_fail(err, NST_ERR_ARG,
                        "%s: no frames in the cut (the start, %.3f s, is past the end, %.3f s)",
                        path, o->start, total);
    double cut = total > 0 ? total - o->start : 0;
    if (o->duration > 0 && (cut == 0 || o->duration < cut)) cut = o->duration;

    int64_t origin = r->st->start_time != AV_NOPTS_VALUE ? r->st->start_time : 0;
    r->start = o->start;
    r->start_ts = origin + llrint(o->start / av_q2d(tb));
    r->end_ts = o->duration > 0 ? r->start_ts + llrint(o->duration / av_q2d(tb)) : INT64_MAX;
    r->tick = fps.num ? av_rescale_q(1, av_inv_q(fps), tb) : 1;
    if (r->tick < 1) r->tick = 1;
    r->guess_ts = r->origin = origin;
    r->first_ts = r->last_ts = r->sent_ts = AV_NOPTS_VALUE;
    r->back = llrint(SEEK_PREROLL / av_q2d(tb));
    /* a failed seek (a camera, a pipe) leaves us at the beginning, which is
     * still right: frames before the start are dropped either way */
    if (o->start > 0) r->seeking = seek_before(r->fmt, r->st, r->start_ts, r->back, origin) >= 0;

    info->src_w = par->width, info->src_h = par->height;
    info->w = r->w, info->h = r->h;
    info->fps_num = fps.num, info->fps_den = fps.den;
    info->tb_num = tb.num, info->tb_den = tb.den;
    if (r->st->nb_frames > 0 && total > 0)
        info->n_frames = llround(r->st->nb_frames * cut / total);
    else if (fps.num)
        info->n_frames = llround(cut * av_q2d(fps));
    info->duration = cut;
    AVRational sar = r->st->sample_aspect_ratio;
    if (sar.num <= 0 || sar.den <= 0) sar = par->sample_aspect_ratio;
    if (sar.num > 0 && sar.den > 0) info->sar_num = sar.num, info->sar_den = sar.den;
    size_t sd_size = 0;
    const uint8_t *sd = av_stream_get_side_data(r->st, AV_PKT_DATA_DISPLAYMATRIX, &sd_size);
    if (sd && sd_size >= 9 * sizeof(int32_t)) {
        double rot = av_display_rotation_get((const int32_t *)sd);
        if (isfinite(rot) && rot != 0) info->rotation = rot;
    }
    snprintf(info->video_codec, sizeof info->video_codec, "%s", avcodec_get_name(par->codec_id));
    int ai = av_find_best_stream(r->fmt, AVMEDIA_TYPE_AUDIO, -1, si, NULL, 0);
    if (ai >= 0 && r->fmt->streams[ai]->codecpar->codec_id != AV_CODEC_ID_NONE) {
        info->has_audio = 1;
        snprintf(info->audio_codec, sizeof info->audio_codec, "%s",
                 avcodec_get_name(r->fmt->streams[ai]->codecpar->codec_id));
    }
    return NST_OK;
}

int video_reader_open(const char *path, const video_read_opts *o, video_reader **out,
                      video_info *info, nst_error *err) {
    static const video_read_opts whole = {0, 0, 0};
    pthread_once(&init_once, ff_init);
    if (!o) o = &whole;
    *out = NULL;
    memset(info, 0, sizeof *info);
    info->fps_den = info->tb_den = info->sar_den = 1;
    video_reader *r = calloc(1, sizeof *r);
    if (!r || !(r->path = strdup(path))) {
        free(r);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    int rc = reader_setup(r, path, o, info, err);
    if (rc) {
        video_reader_close(r);
        memset(info, 0, sizeof *info);
        return rc;
    }
    *out = r;
    return NST_OK;
}

/* The deprecated full-range "yuvj" formats as their plain twins. */
static enum AVPixelFormat plain_format(enum AVPixelFormat f, int *full) {
    switch (f) {
    case AV_PIX_FMT_YUVJ420P: *full = 1; return AV_PIX_FMT_YUV420P;
    case AV_PIX_FMT_YUVJ422P: *full = 1; return AV_PIX_FMT_YUV422P;
    case AV_PIX_FMT_YUVJ444P: *full = 1; return AV_PIX_FMT_YUV444P;
    case AV_PIX_FMT_YUVJ440P: *full = 1; return AV_PIX_FMT_YUV440P;
    case AV_PIX_FMT_YUVJ411P: *full = 1; return AV_PIX_FMT_YUV411P;
    default: return f;
    }
}

static int convert(video_reader *r, const AVFrame *f, nst_image *out, nst_error *err) {
    int full = f->color_range == AVCOL_RANGE_JPEG;
    enum AVPixelFormat fmt = plain_format(f->format, &full);
    int cs = f->colorspace;
    if (cs == AVCOL_SPC_UNSPECIFIED) cs = f->height >= 720 ? AVCOL_SPC_BT709 : AVCOL_SPC_SMPTE170M;
    /* an odd last column or row is cropped (the same data, a smaller source),
     * not scaled away, which would blur the whole frame */
    int sw = f->width, sh = f->height;
    if (!r->scale && sw - r->w == 1) sw = r->w;
    if (!r->scale && sh - r->h == 1) sh = r->h;
    int key[5] = {sw, sh, fmt, cs, full};
    if (!r->sws || memcmp(key, r->sws_key, sizeof key)) {
        sws_freeContext(r->sws);
        r->sws =
            sws_getContext(sw, sh, fmt, r->w, r->h, AV_PIX_FMT_RGB24,
                           SWS_BICUBIC | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT, NULL, NULL, NULL);
        if (!r->sws)
            return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot convert %s frames of %dx%d", r->path,
                            av_get_pix_fmt_name(fmt), f->width, f->height);
        /* the coefficient tables are indexed by AVColorSpace's values */
        sws_setColorspaceDetails(r->sws, sws_getCoefficients(cs), full,
                                 sws_getCoefficients(SWS_CS_DEFAULT), 1, 0, 1 << 16, 1 << 16);
        memcpy(r->sws_key, key, sizeof key);
    }
    sws_scale(r->sws, (const uint8_t *const *)f->data, f->linesize, 0, sh, r->rgb, r->rgb_ls);
    size_t n = (size_t)r->w * r->h;
    for (int y = 0; y < r->h; y++) {
        const uint8_t *p = r->rgb[0] + (size_t)y * r->rgb_ls[0];
        float *d = out->data + (size_t)y * r->w;
        for (int x = 0; x < r->w; x++, p += 3) {
            d[x] = p[0];
            d[n + x] = p[1];
            d[2 * n + x] = p[2];
        }
    }
    return NST_OK;
}

/* The first frame after a seek is past the start: seek twice as far back,
 * then to the stream's start, then to the first byte (MPEG-TS seeks to
 * any frame, keyframe or not, even at the start). 0 when out of options. */
static int seek_back(video_reader *r) {
    int ret = -1;
    if (r->start_ts - r->back > r->origin) {
        r->back *= 2;
        ret = seek_before(r->fmt, r->st, r->start_ts, r->back, r->origin);
    } else if (!r->byte_seek && !(r->fmt->iformat->flags & AVFMT_NO_BYTE_SEEK)) {
        r->byte_seek = 1;
        ret = av_seek_frame(r->fmt, -1, 0, AVSEEK_FLAG_BYTE);
    }
    if (ret < 0) return 0;
    avcodec_flush_buffers(r->dec);
    return r->seeking = 1;
}

/* A decoded frame: dropped before the cut, ends it after, else returned. */
static int take_frame(video_reader *r, nst_image *out, int64_t *pts, int *got, nst_error *err) {
    const AVFrame *f = r->frame;
    int64_t ts = f->best_effort_timestamp;
    if (ts == AV_NOPTS_VALUE) ts = r->guess_ts;
    r->guess_ts = ts + (f->pkt_duration > 0 ? f->pkt_duration : r->tick);
    if (r->seeking) {
        r->seeking = 0;
        if (ts > r->start_ts && seek_back(r)) return NST_OK;
    }
    if (ts < r->start_ts) return NST_OK;
    if (ts >= r->end_ts) {
        r->done = 1;
        return NST_OK;
    }
    if (f->flags & AV_FRAME_FLAG_CORRUPT || f->decode_error_flags)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt data in frame %lld", r->path,
                        (long long)r->returned);
    if (r->last_ts != AV_NOPTS_VALUE && ts <= r->last_ts) ts = r->last_ts + 1;
    int rc = convert(r, f, out, err);
    if (rc) return rc;
    if (r->first_ts == AV_NOPTS_VALUE) r->first_ts = ts;
    *pts = ts - r->first_ts;
    r->last_ts = ts;
    r->returned++;
    *got = 1;
    return NST_OK;
}

/* Does the index (an MP4's sample table) place a packet past the end of the
 * file? The mov demuxer just reports the end of the file then. */
static int truncated(video_reader *r) {
    int64_t size = r->fmt->pb ? avio_size(r->fmt->pb) : -1;
    int n = avformat_index_get_entries_count(r->st);
    for (int i = 0; size > 0 && i < n; i++) {
        const AVIndexEntry *e = avformat_index_get_entry(r->st, i);
        if (e->pos + e->size > size) return 1;
    }
    return 0;
}

/* May the packet just sent fail to decode (see the top of the file)? */
static int tolerated(const video_reader *r) {
    return !r->seen_key ||
           (!r->returned && r->sent_ts != AV_NOPTS_VALUE && r->sent_ts < r->start_ts);
}

static int decode_error(video_reader *r, int ret, nst_error *err) {
    char e[128];
    if (ret == AVERROR_INVALIDDATA)
        return nst_fail(err, NST_ERR_FORMAT, "%s: corrupt or truncated data at frame %lld",
                        r->path, (long long)r->returned);
    return nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode frame %lld (%s)", r->path,
                    (long long)r->returned, ff_str(ret, e, sizeof e));
}

int video_reader_next(video_reader *r, nst_image *frame, int64_t *pts, int *got, nst_error *err) {
    *got = 0;
    if (frame->w != r->w || frame->h != r->h || !frame->data)
        return nst_fail(err, NST_ERR_ARG, "%s: the frame buffer is %dx%d, the frames %dx%d",
                        r->path, frame->w, frame->h, r->w, r->h);
    while (!r->done) {
        int ret = avcodec_receive_frame(r->dec, r->frame);
        if (ret == 0) {
            int rc = take_frame(r, frame, pts, got, err);
            av_frame_unref(r->frame);
            if (rc || *got) return rc;
            continue;
        }
        if (ret == AVERROR_EOF) {
            r->done = 1;
            break;
        }
        if (ret != AVERROR(EAGAIN)) {
            if (tolerated(r)) continue;
            return decode_error(r, ret, err);
        }
        ret = av_read_frame(r->fmt, r->pkt);
        if (ret == AVERROR_EOF && truncated(r)) ret = AVERROR_INVALIDDATA;
        if (ret == AVERROR_EOF) {
            avcodec_send_packet(r->dec, NULL);
            continue;
        }
        if (ret < 0) return decode_error(r, ret, err);
        if (r->pkt->stream_index != r->st->index) {
            av_packet_unref(r->pkt);
            continue;
        }
        r->sent_ts = r->pkt->pts != AV_NOPTS_VALUE ? r->pkt->pts : r->pkt->dts;
        r->seen_key |= r->pkt->flags & AV_PKT_FLAG_KEY;
        int corrupt = r->pkt->flags & AV_PKT_FLAG_CORRUPT;
        ret = corrupt ? AVERROR_INVALIDDATA : avcodec_send_packet(r->dec, r->pkt);
        av_packet_unref(r->pkt);
        if (ret < 0 && !tolerated(r)) return decode_error(r, ret, err);
    }
    if (r->returned) return NST_OK;
    if (r->start > 0)
        return nst_fail(err, NST_ERR_ARG, "%s: no frames in the cut (from %.3f s)", r->path,
                        r->start);
    return nst_fail(err, NST_ERR_FORMAT, "%s: no frames", r->path);
}

void video_reader_close(video_reader *r) {
    if (!r) return;
    sws_freeContext(r->sws);
    avcodec_free_context(&r->dec);
    avformat_close_input(&r->fmt);
    av_packet_free(&r->pkt);
    av_frame_free(&r->frame);
    av_freep(&r->rgb[0]);
    free(r->path);
    free(r);
}

int nst_video_probe(const char *path, nst_video_info *info, nst_error *err) {
    static const video_read_opts whole = {0, 0, 0};
    video_reader *r = NULL;
    video_info vi;
    *info = (nst_video_info){0};
    int rc = video_reader_open(path, &whole, &r, &vi, err);
    if (rc) return rc;
    *info = (nst_video_info){vi.w, vi.h, vi.fps_num > 0 && vi.fps_den > 0 ? (double)vi.fps_num / vi.fps_den : 0,
                             vi.duration, (long)vi.n_frames, vi.has_audio};
    video_reader_close(r);
    return NST_OK;
}

/* ---- writing ------------------------------------------------------------ */

enum { OUT_NONE, OUT_MP4, OUT_WEBM, OUT_GIF, OUT_PNG };

static const struct {
    const char *muxer, *encoder;
} outputs[] = {
    [OUT_MP4] = {"mp4", "libx264"},
    [OUT_WEBM] = {"webm", "libvpx-vp9"},
    [OUT_GIF] = {"gif", "gif"},
    [OUT_PNG] = {"image2", "png"},
};

static int output_kind(const char *path) {
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    if (!dot || (slash && dot < slash)) return OUT_NONE;
    if (!strcasecmp(dot, ".mp4")) return OUT_MP4;
    if (!strcasecmp(dot, ".webm")) return OUT_WEBM;
    if (!strcasecmp(dot, ".gif")) return OUT_GIF;
    if (!strcasecmp(dot, ".png") && av_filename_number_test(path)) return OUT_PNG;
    return OUT_NONE;
}

int video_output_supported(const char *path) { return output_kind(path) != OUT_NONE; }

typedef struct { /* the input's audio, carried over */
    char *path;
    AVFormatContext *in;
    AVStream *ist, *ost;
    AVCodecContext *dec, *enc; /* both NULL when the packets are copied */
    SwrContext *swr;
    AVAudioFifo *fifo;
    AVPacket *pkt;
    AVFrame *frame, *eframe; /* decoded; to the encoder */
    double from, to;         /* the cut in the input's seconds (to: INFINITY) */
    double last;             /* the latest packet time seen, for packets without one */
    int64_t next_pts;        /* re-encoding: the next output sample */
    int pending, eof;        /* pkt holds a packet not yet due; no more to read */
    int seeking;             /* the first packet after the seek is to come */
} audio_pass;

struct video_writer {
    char *path, *tmp; /* tmp: the file being written (NULL for a PNG sequence) */
    int kind, finished;
    AVFormatContext *oc;
    AVCodecContext *enc;
    AVStream *st;
    struct SwsContext *sws;
    AVFrame *rgb, *frame; /* the caller's frame as RGB24; as the encoder takes it */
    AVPacket *pkt;
    AVRational tb; /* of the caller's timestamps */
    int64_t last_pts, frames, packets;
    audio_pass *a;
};

static int write_packet(video_writer *w, AVPacket *pkt, AVRational from, AVStream *st,
                        nst_error *err) {
    char e[128];
    av_packet_rescale_ts(pkt, from, st->time_base);
    pkt->stream_index = st->index;
    pkt->pos = -1;
    int ret = av_interleaved_write_frame(w->oc, pkt);
    if (ret < 0)
        return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", w->path,
                        ff_str(ret, e, sizeof e));
    if (st == w->st) w->packets++;
    return NST_OK;
}

/* Write every packet the encoder `enc` has ready onto `st`. */
static int drain(video_writer *w, AVCodecContext *enc, AVStream *st, nst_error *err) {
    char e[128];
    for (;;) {
        int ret = avcodec_receive_packet(enc, w->pkt);
        if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF) return NST_OK;
        if (ret < 0)
            return nst_fail(err, NST_ERR_RUNTIME, "%s: %s encoder failed (%s)", w->path,
                            enc->codec->name, ff_str(ret, e, sizeof e));
        int rc = write_packet(w, w->pkt, enc->time_base, st, err);
        av_packet_unref(w->pkt);
        if (rc) return rc;
    }
}

/* An encoder opened on `codec` with the options `opts` (consumed). */
static int open_encoder(video_writer *w, AVCodecContext *enc, const AVCodec *codec,
                        AVDictionary **opts, nst_error *err) {
    char e[128];
    if (w->oc->oformat->flags & AVFMT_GLOBALHEADER) enc->flags |= AV_CODEC_FLAG_GLOBAL_HEADER;
    int ret = avcodec_open2(enc, codec, opts);
    av_dict_free(opts);
    if (ret < 0)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot open the %s encoder (%s)", w->path,
                        codec->name, ff_str(ret, e, sizeof e));
    return NST_OK;
}

/* ---- audio ---- */

/* Samples of a re-encoded input go through swr into the FIFO; whole
 * encoder frames come out (a short last one padded with silence when the
 * encoder cannot take it). */
static int audio_encode(video_writer *w, int flush, nst_error *err) {
    audio_pass *a = w->a;
    int fs = a->enc->frame_size > 0 ? a->enc->frame_size : 1024;
    int small_last = a->enc->codec->capabilities & AV_CODEC_CAP_SMALL_LAST_FRAME;
    while (av_audio_fifo_size(a->fifo) >= fs || (flush && av_audio_fifo_size(a->fifo) > 0)) {
        int n = av_audio_fifo_size(a->fifo) < fs ? av_audio_fifo_size(a->fifo) : fs;
        AVFrame *f = a->eframe;
        f->nb_samples = n < fs && !small_last ? fs : n;
        f->format = a->enc->sample_fmt;
        f->sample_rate = a->enc->sample_rate;
        if (av_channel_layout_copy(&f->ch_layout, &a->enc->ch_layout) < 0 ||
            av_frame_get_buffer(f, 0) < 0)
            return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
        av_audio_fifo_read(a->fifo, (void **)f->extended_data, n);
        if (f->nb_samples > n)
            av_samples_set_silence(f->extended_data, n, f->nb_samples - n, f->ch_layout.nb_channels,
                                   f->format);
        f->pts = a->next_pts;
        a->next_pts += f->nb_samples;
        int ret = avcodec_send_frame(a->enc, f);
        av_frame_unref(f);
        if (ret < 0) {
            char e[128];
            return nst_fail(err, NST_ERR_RUNTIME, "%s: %s encoder failed (%s)", w->path,
                            a->enc->codec->name, ff_str(ret, e, sizeof e));
        }
        int rc = drain(w, a->enc, a->ost, err);
        if (rc) return rc;
    }
    if (flush) {
        avcodec_send_frame(a->enc, NULL);
        return drain(w, a->enc, a->ost, err);
    }
    return NST_OK;
}

/* Samples of a decoded frame inside the cut (NULL: what swr still holds)
 * into the FIFO, then encode. `f` is not const because 5.1's
 * swr_alloc_set_opts2 takes mutable channel layouts. */
static int audio_samples(video_writer *w, AVFrame *f, nst_error *err) {
    audio_pass *a = w->a;
    const uint8_t *in[64];
    int skip = 0, n = 0;
    if (f) {
        double sr = f->sample_rate, t0 = a->last;
        if (f->best_effort_timestamp != AV_NOPTS_VALUE)
            t0 = f->best_effort_timestamp * av_q2d(a->ist->time_base);
        a->last = t0 + f->nb_samples / sr;
        n = f->nb_samples;
        if (t0 < a->from) skip = (int)fmin(n, lround((a->from - t0) * sr));
        if (t0 + n / sr > a->to) n = (int)fmax(skip, lround((a->to - t0) * sr));
        if (n <= skip) return NST_OK;
        int planar = av_sample_fmt_is_planar(f->format), ch = f->ch_layout.nb_channels;
        int planes = planar ? ch : 1, step = av_get_bytes_per_sample(f->format) * (planar ? 1 : ch);
        if (planes > 64)
            return nst_fail(err, NST_ERR_FORMAT, "%s: %d audio channels are too many", a->path,
                            ch);
        for (int i = 0; i < planes; i++) in[i] = f->extended_data[i] + (size_t)skip * step;
        if (!a->swr) {
            if (swr_alloc_set_opts2(&a->swr, &a->enc->ch_layout, a->enc->sample_fmt,
                                    a->enc->sample_rate, &f->ch_layout, f->format, f->sample_rate,
                                    0, NULL) < 0 ||
                swr_init(a->swr) < 0)
                return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot resample its audio", a->path);
            /* the first sample's place in the cut, should the audio start late */
            double first = t0 + skip / sr - a->from;
            a->next_pts = first > 0 ? llround(first * a->enc->sample_rate) : 0;
        }
    } else if (!a->swr) {
        return NST_OK;
    }
    int room = swr_get_out_samples(a->swr, n - skip);
    uint8_t **out = NULL;
    if (room > 0 && av_samples_alloc_array_and_samples(&out, NULL, a->enc->ch_layout.nb_channels,
                                                       room, a->enc->sample_fmt, 0) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
    int got = room > 0 ? swr_convert(a->swr, out, room, f ? in : NULL, n - skip) : 0;
    if (got > 0 && av_audio_fifo_write(a->fifo, (void **)out, got) < got) got = -1;
    if (out) av_freep(&out[0]);
    av_freep(&out);
    if (got < 0) return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot resample its audio", a->path);
    return audio_encode(w, 0, err);
}

/* Decode one packet (NULL: flush) and pass its samples on. A damaged audio
 * packet is skipped (the decoder conceals it): the video is what counts. */
static int audio_decode(video_writer *w, const AVPacket *pkt, nst_error *err) {
    audio_pass *a = w->a;
    char e[128];
    int ret = avcodec_send_packet(a->dec, pkt);
    if (ret == AVERROR_INVALIDDATA) return NST_OK;
    while (ret >= 0) {
        ret = avcodec_receive_frame(a->dec, a->frame);
        if (ret < 0) break;
        int rc = audio_samples(w, a->frame, err);
        av_frame_unref(a->frame);
        if (rc) return rc;
    }
    if (ret < 0 && ret != AVERROR(EAGAIN) && ret != AVERROR_EOF && ret != AVERROR_INVALIDDATA)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode its audio (%s)", a->path,
                        ff_str(ret, e, sizeof e));
    return NST_OK;
}

/* A copied packet: dropped when it ends before the cut, else shifted. */
static int audio_copy(video_writer *w, AVPacket *pkt, nst_error *err) {
    audio_pass *a = w->a;
    AVRational tb = a->ist->time_base;
    int64_t from = llrint(a->from / av_q2d(tb));
    if (pkt->pts == AV_NOPTS_VALUE || pkt->pts + pkt->duration <= from) return NST_OK;
    pkt->pts -= from;
    if (pkt->dts != AV_NOPTS_VALUE) pkt->dts -= from;
    return write_packet(w, pkt, tb, a->ost, err);
}

/* Back to the first byte where the format allows it, else the first packet. */
static int rewind_input(AVFormatContext *fmt, AVStream *st) {
    if (!(fmt->iformat->flags & AVFMT_NO_BYTE_SEEK))
        return av_seek_frame(fmt, -1, 0, AVSEEK_FLAG_BYTE);
    return av_seek_frame(fmt, st->index, st->start_time != AV_NOPTS_VALUE ? st->start_time : 0,
                         AVSEEK_FLAG_BACKWARD);
}

/* Pass the audio on up to `t` seconds of the output. */
static int audio_until(video_writer *w, double t, nst_error *err) {
    audio_pass *a = w->a;
    char e[128];
    while (!a->eof) {
        if (!a->pending) {
            int ret = av_read_frame(a->in, a->pkt);
            if (ret == AVERROR_EOF) {
                a->eof = 1;
                break;
            }
            if (ret < 0)
                return nst_fail(err, NST_ERR_IO, "%s: cannot read its audio (%s)", a->path,
                                ff_str(ret, e, sizeof e));
            if (a->pkt->stream_index != a->ist->index) {
                av_packet_unref(a->pkt);
                continue;
            }
            a->pending = 1;
        }
        int64_t ts = a->pkt->pts != AV_NOPTS_VALUE ? a->pkt->pts : a->pkt->dts;
        double s = ts != AV_NOPTS_VALUE ? ts * av_q2d(a->ist->time_base) : a->last;
        if (a->seeking) { /* landed past the start (see seek_back): read from the beginning */
            a->seeking = 0;
            if (s > a->from && rewind_input(a->in, a->ist) >= 0) {
                av_packet_unref(a->pkt);
                a->pending = 0;
                continue;
            }
        }
        if (s - a->from >= t) return NST_OK;
        a->pending = 0;
        if (s >= a->to) {
            a->eof = 1;
        } else {
            if (!a->enc) a->last = s;
            int rc = a->enc ? audio_decode(w, a->pkt, err) : audio_copy(w, a->pkt, err);
            if (rc) {
                av_packet_unref(a->pkt);
                return rc;
            }
        }
        av_packet_unref(a->pkt);
    }
    return NST_OK;
}

static int audio_finish(video_writer *w, nst_error *err) {
    int rc = audio_until(w, INFINITY, err);
    if (rc || !w->a->enc) return rc;
    if ((rc = audio_decode(w, NULL, err)) || (rc = audio_samples(w, NULL, err))) return rc;
    return audio_encode(w, 1, err);
}

/* The encoder for input audio the container does not take: Opus in WebM,
 * AAC in MP4. */
static int audio_reencoder(video_writer *w, nst_error *err) {
    audio_pass *a = w->a;
    const AVCodecParameters *par = a->ist->codecpar;
    const AVCodec *dc = avcodec_find_decoder(par->codec_id);
    if (!dc)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot decode its %s audio to re-encode it",
                        a->path, avcodec_get_name(par->codec_id));
    const AVCodec *ec = w->kind == OUT_WEBM ? avcodec_find_encoder_by_name("libopus")
                                            : avcodec_find_encoder(AV_CODEC_ID_AAC);
    if (!ec && w->kind == OUT_WEBM) ec = avcodec_find_encoder(AV_CODEC_ID_OPUS);
    if (!ec)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: no %s audio encoder in this FFmpeg", w->path,
                        w->kind == OUT_WEBM ? "Opus" : "AAC");
    if (!(a->dec = avcodec_alloc_context3(dc)) || avcodec_parameters_to_context(a->dec, par) < 0 ||
        !(a->enc = avcodec_alloc_context3(ec)))
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
    a->dec->pkt_timebase = a->ist->time_base;
    if (avcodec_open2(a->dec, dc, NULL) < 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot open the %s decoder", a->path, dc->name);

    /* the input's rate when the encoder takes it, else 48 kHz, else its first */
    int rate = par->sample_rate > 0 ? par->sample_rate : 48000;
    if (ec->supported_samplerates) {
        int ok = 0, has48 = 0;
        for (const int *r = ec->supported_samplerates; *r; r++)
            ok |= *r == rate, has48 |= *r == 48000;
        if (!ok) rate = has48 ? 48000 : ec->supported_samplerates[0];
    }
    AVCodecContext *enc = a->enc;
    enc->sample_rate = rate;
    enc->time_base = (AVRational){1, rate};
    enc->sample_fmt = ec->sample_fmts ? ec->sample_fmts[0] : AV_SAMPLE_FMT_FLTP;
    int ch = par->ch_layout.nb_channels > 0 ? par->ch_layout.nb_channels : 2;
    if (par->ch_layout.order == AV_CHANNEL_ORDER_NATIVE)
        av_channel_layout_copy(&enc->ch_layout, &par->ch_layout);
    else
        av_channel_layout_default(&enc->ch_layout, ch);
    enc->bit_rate = 64000 * (ch < 2 ? 1 : ch > 6 ? 6 : ch);
    enc->strict_std_compliance = FF_COMPLIANCE_EXPERIMENTAL; /* FFmpeg's own Opus encoder */
    AVDictionary *opts = NULL;
    int rc = open_encoder(w, enc, ec, &opts, err);
    if (rc) return rc;
    if (!(a->fifo = av_audio_fifo_alloc(enc->sample_fmt, enc->ch_layout.nb_channels, 4096)) ||
        !(a->ost = avformat_new_stream(w->oc, NULL)) ||
        avcodec_parameters_from_context(a->ost->codecpar, enc) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
    a->ost->time_base = enc->time_base;
    return NST_OK;
}

/* Open o->audio for its audio and add the output's audio stream; an input
 * without audio gives a silent video. */
static int audio_open(video_writer *w, const video_write_opts *o, nst_error *err) {
    char e[128];
    audio_pass *a = w->a = calloc(1, sizeof *w->a);
    if (!a || !(a->path = strdup(o->audio)) || !(a->pkt = av_packet_alloc()) ||
        !(a->frame = av_frame_alloc()) || !(a->eframe = av_frame_alloc()))
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
    a->eof = 1;
    if (input_format(o->audio)) return NST_OK; /* a camera or an image sequence: no audio */
    int ret = avformat_open_input(&a->in, o->audio, NULL, NULL);
    if (ret < 0) return open_error(o->audio, ret, err);
    if ((ret = avformat_find_stream_info(a->in, NULL)) < 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: cannot read the streams (%s)", o->audio,
                        ff_str(ret, e, sizeof e));
    int vi = av_find_best_stream(a->in, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0);
    int ai = av_find_best_stream(a->in, AVMEDIA_TYPE_AUDIO, -1, vi, NULL, 0);
    if (ai < 0 || a->in->streams[ai]->codecpar->codec_id == AV_CODEC_ID_NONE) {
        avformat_close_input(&a->in);
        return NST_OK;
    }
    a->eof = 0;
    a->ist = a->in->streams[ai];
    for (unsigned i = 0; i < a->in->nb_streams; i++)
        if ((int)i != ai) a->in->streams[i]->discard = AVDISCARD_ALL;
    double origin = 0;
    if (vi >= 0 && a->in->streams[vi]->start_time != AV_NOPTS_VALUE)
        origin = a->in->streams[vi]->start_time * av_q2d(a->in->streams[vi]->time_base);
    a->from = origin + o->start;
    a->to = o->duration > 0 ? a->from + o->duration : INFINITY;
    a->last = -INFINITY;

    enum AVCodecID id = a->ist->codecpar->codec_id;
    if (avformat_query_codec(w->oc->oformat, id, FF_COMPLIANCE_NORMAL) == 1) {
        if (!(a->ost = avformat_new_stream(w->oc, NULL)) ||
            avcodec_parameters_copy(a->ost->codecpar, a->ist->codecpar) < 0)
            return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
        a->ost->codecpar->codec_tag = 0;
        a->ost->time_base = a->ist->time_base;
    } else {
        int rc = audio_reencoder(w, err);
        if (rc) return rc;
    }
    if (o->start > 0) {
        AVRational tb = a->ist->time_base;
        int64_t first = a->ist->start_time != AV_NOPTS_VALUE ? a->ist->start_time : 0;
        a->seeking = seek_before(a->in, a->ist, llrint(a->from / av_q2d(tb)),
                                 llrint(SEEK_PREROLL / av_q2d(tb)), first) >= 0;
    }
    return NST_OK;
}

static void audio_free(audio_pass *a) {
    if (!a) return;
    avformat_close_input(&a->in);
    avcodec_free_context(&a->dec);
    avcodec_free_context(&a->enc);
    swr_free(&a->swr);
    if (a->fifo) av_audio_fifo_free(a->fifo);
    av_packet_free(&a->pkt);
    av_frame_free(&a->frame);
    av_frame_free(&a->eframe);
    free(a->path);
    free(a);
}

/* ---- video ---- */

static int writer_setup(video_writer *w, const char *path, const video_info *info,
                        const video_write_opts *o, nst_error *err) {
    char e[128];
    if (w->kind == OUT_NONE) {
        const char *dot = strrchr(path, '.');
        if (dot && !strcasecmp(dot, ".png"))
            return nst_fail(
                err, NST_ERR_ARG,
                "%s: a PNG sequence needs a frame number in its name, e.g. frame_%%04d.png", path);
        return nst_fail(err, NST_ERR_ARG,
                        "%s: unsupported output format (use .mp4, .webm, .gif or frame_%%04d.png)",
                        path);
    }
    int yuv = w->kind == OUT_MP4 || w->kind == OUT_WEBM;
    if (info->w <= 0 || info->h <= 0 || info->tb_num <= 0 || info->tb_den <= 0)
        return nst_fail(err, NST_ERR_ARG, "%s: bad frame size %dx%d or time base %d/%d", path,
                        info->w, info->h, info->tb_num, info->tb_den);
    if (yuv && (info->w % 2 || info->h % 2))
        return nst_fail(err, NST_ERR_ARG, "%s: frames of %dx%d: yuv420p needs even sides", path,
                        info->w, info->h);
    const AVCodec *codec = avcodec_find_encoder_by_name(outputs[w->kind].encoder);
    if (!codec)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: no %s encoder in this FFmpeg", path,
                        outputs[w->kind].encoder);

    /* where the bytes go: a temporary file beside the output, or (for a
     * sequence) a probe of the directory before the first frame */
    char first[NST_PATH_MAX];
    const char *probe = path;
    if (w->kind == OUT_PNG) {
        if (av_get_frame_filename2(first, sizeof first, path, 1, 0) < 0)
            return nst_fail(err, NST_ERR_ARG, "%s: bad frame number pattern", path);
        probe = first;
    }
    char *tmp = NULL;
    FILE *f = temp_open(probe, &tmp);
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(errno));
    fclose(f);
    if (w->kind == OUT_PNG) {
        unlink(tmp);
        free(tmp);
    } else {
        w->tmp = tmp;
    }
    const char *muxer = outputs[w->kind].muxer;
    int ret = avformat_alloc_output_context2(&w->oc, av_guess_format(muxer, NULL, NULL), NULL,
                                             w->tmp ? w->tmp : path);
    if (ret < 0) return nst_fail(err, NST_ERR_RUNTIME, "%s: no %s muxer", path, muxer);

    AVCodecContext *enc = w->enc = avcodec_alloc_context3(codec);
    if (!enc) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    w->tb = (AVRational){info->tb_num, info->tb_den};
    AVRational fps = {info->fps_num, info->fps_den}, sar = {info->sar_num, info->sar_den};
    enc->width = info->w, enc->height = info->h;
    enc->time_base = w->tb;
    if (fps.num > 0 && fps.den > 0) enc->framerate = fps;
    if (sar.num > 0 && sar.den > 0) enc->sample_aspect_ratio = sar;
    /* GIF: the fixed 3-3-2 RGB palette, dithered by swscale (error
     * diffusion, its default for RGB8). A fixed palette cannot flicker
     * between frames as one palette per frame would (the best single one
     * needs a pass over the whole video first), and error diffusion hides
     * its banding better than an ordered dither. */
    enc->pix_fmt = yuv                  ? AV_PIX_FMT_YUV420P
                   : w->kind == OUT_GIF ? AV_PIX_FMT_RGB8
                                        : AV_PIX_FMT_RGB24;
    if (yuv) {
        enc->colorspace = AVCOL_SPC_BT709;
        enc->color_primaries = AVCOL_PRI_BT709;
        enc->color_trc = AVCOL_TRC_BT709;
        enc->color_range = AVCOL_RANGE_MPEG;
    }
    AVDictionary *opts = NULL;
    int crf = o->crf >= 0 ? o->crf : w->kind == OUT_MP4 ? 20 : 32;
    if (w->kind == OUT_MP4) {
        av_dict_set_int(&opts, "crf", crf, 0);
        av_dict_set(&opts, "preset", "veryfast", 0);
    } else if (w->kind == OUT_WEBM) {
        enc->bit_rate = 0; /* with crf: constant quality */
        av_dict_set_int(&opts, "crf", crf, 0);
        av_dict_set(&opts, "deadline", "realtime", 0);
        av_dict_set_int(&opts, "cpu-used", 8, 0);
        av_dict_set_int(&opts, "row-mt", 1, 0);
    }
    int rc = open_encoder(w, enc, codec, &opts, err);
    if (rc) return rc;
    if (!(w->st = avformat_new_stream(w->oc, NULL)) ||
        avcodec_parameters_from_context(w->st->codecpar, enc) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    w->st->time_base = w->tb;
    if (fps.num > 0 && fps.den > 0) w->st->avg_frame_rate = fps;
    if (sar.num > 0 && sar.den > 0) w->st->sample_aspect_ratio = sar;
    if (info->rotation != 0 && yuv) {
        uint8_t *m = av_stream_new_side_data(w->st, AV_PKT_DATA_DISPLAYMATRIX, 9 * sizeof(int32_t));
        if (!m) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        /* _set takes clockwise degrees, _get (the reader) gives counterclockwise */
        av_display_rotation_set((int32_t *)m, -info->rotation);
    }
    if (o->audio && yuv && (rc = audio_open(w, o, err))) return rc;

    if (!(w->oc->oformat->flags & AVFMT_NOFILE) &&
        (ret = avio_open(&w->oc->pb, w->tmp, AVIO_FLAG_WRITE)) < 0)
        return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path,
                        ff_str(ret, e, sizeof e));
    if (w->kind == OUT_MP4) av_dict_set(&opts, "movflags", "+faststart", 0);
    if (w->kind == OUT_PNG) av_dict_set(&opts, "atomic_writing", "1", 0);
    ret = avformat_write_header(w->oc, &opts);
    av_dict_free(&opts);
    if (ret < 0)
        return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path,
                        ff_str(ret, e, sizeof e));

    if (!(w->pkt = av_packet_alloc()) || !(w->rgb = av_frame_alloc()) ||
        !(w->frame = av_frame_alloc()))
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    w->rgb->format = AV_PIX_FMT_RGB24;
    w->frame->format = enc->pix_fmt;
    w->rgb->width = w->frame->width = info->w;
    w->rgb->height = w->frame->height = info->h;
    if (av_frame_get_buffer(w->rgb, 0) < 0 || av_frame_get_buffer(w->frame, 0) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (w->kind != OUT_PNG) {
        w->sws = sws_getContext(info->w, info->h, AV_PIX_FMT_RGB24, info->w, info->h, enc->pix_fmt,
                                SWS_BICUBIC | SWS_ACCURATE_RND, NULL, NULL, NULL);
        if (!w->sws) return nst_fail(err, NST_ERR_RUNTIME, "%s: cannot convert frames", path);
        if (yuv)
            sws_setColorspaceDetails(w->sws, sws_getCoefficients(SWS_CS_DEFAULT), 1,
                                     sws_getCoefficients(SWS_CS_ITU709), 0, 0, 1 << 16, 1 << 16);
    }
    return NST_OK;
}

int video_writer_open(const char *path, const video_info *info, const video_write_opts *o,
                      video_writer **out, nst_error *err) {
    static const video_write_opts plain = {-1, NULL, 0, 0};
    pthread_once(&init_once, ff_init);
    if (!o) o = &plain;
    *out = NULL;
    video_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->path = strdup(path))) {
        free(w);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    w->kind = output_kind(path);
    int rc = writer_setup(w, path, info, o, err);
    if (rc) {
        video_writer_free(w);
        return rc;
    }
    *out = w;
    return NST_OK;
}

int video_writer_frame(video_writer *w, const nst_image *img, int64_t pts, nst_error *err) {
    char e[128];
    if (img->w != w->enc->width || img->h != w->enc->height)
        return nst_fail(err, NST_ERR_ARG, "%s: frame of %dx%d, the video is %dx%d", w->path,
                        img->w, img->h, w->enc->width, w->enc->height);
    if (w->frames && pts <= w->last_pts)
        return nst_fail(err, NST_ERR_ARG, "%s: frame %lld: timestamp %lld after %lld", w->path,
                        (long long)w->frames, (long long)pts, (long long)w->last_pts);
    if (av_frame_make_writable(w->rgb) < 0 || av_frame_make_writable(w->frame) < 0)
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", w->path);
    size_t n = (size_t)img->w * img->h;
    for (int y = 0; y < img->h; y++) {
        uint8_t *p = w->rgb->data[0] + (size_t)y * w->rgb->linesize[0];
        const float *s = img->data + (size_t)y * img->w;
        for (int x = 0; x < img->w; x++)
            for (int c = 0; c < 3; c++) {
                float v = s[c * n + x];
                /* rounded as nst_image_save does (a resumed run re-encodes saved PNGs) */
                *p++ = !(v > 0) ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
            }
    }
    AVFrame *f = w->rgb;
    if (w->sws) {
        sws_scale(w->sws, (const uint8_t *const *)w->rgb->data, w->rgb->linesize, 0, img->h,
                  w->frame->data, w->frame->linesize);
        f = w->frame;
    }
    f->pts = av_rescale_q(pts, w->tb, w->enc->time_base);
    f->sample_aspect_ratio = w->enc->sample_aspect_ratio;
    int ret = avcodec_send_frame(w->enc, f);
    if (ret < 0)
        return nst_fail(err, NST_ERR_RUNTIME, "%s: %s encoder failed (%s)", w->path,
                        w->enc->codec->name, ff_str(ret, e, sizeof e));
    w->frames++;
    w->last_pts = pts;
    int rc = drain(w, w->enc, w->st, err);
    if (!rc && w->a) rc = audio_until(w, pts * av_q2d(w->tb), err);
    return rc;
}

int video_writer_finish(video_writer *w, nst_error *err) {
    char e[128];
    if (w->finished) return NST_OK;
    if (!w->frames) return nst_fail(err, NST_ERR_FORMAT, "%s: no frames to write", w->path);
    avcodec_send_frame(w->enc, NULL);
    int rc = drain(w, w->enc, w->st, err);
    if (!rc && w->a) rc = audio_finish(w, err);
    if (rc) return rc;
    int ret = av_write_trailer(w->oc);
    if (ret >= 0 && w->tmp) ret = avio_closep(&w->oc->pb);
    if (ret < 0)
        return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", w->path,
                        ff_str(ret, e, sizeof e));
    if (w->tmp) {
        if (rename(w->tmp, w->path) != 0)
            return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", w->path,
                            strerror(errno));
        free(w->tmp);
        w->tmp = NULL;
    }
    w->finished = 1;
    return NST_OK;
}

void video_writer_free(video_writer *w) {
    if (!w) return;
    if (w->oc && !(w->oc->oformat->flags & AVFMT_NOFILE)) avio_closep(&w->oc->pb);
    if (w->tmp) unlink(w->tmp);
    if (w->kind == OUT_PNG && !w->finished) {
        char name[NST_PATH_MAX];
        for (int64_t i = 1; i <= w->packets; i++)
            if (av_get_frame_filename2(name, sizeof name, w->path, i, 0) == 0) unlink(name);
    }
    audio_free(w->a);
    avformat_free_context(w->oc);
    avcodec_free_context(&w->enc);
    sws_freeContext(w->sws);
    av_frame_free(&w->rgb);
    av_frame_free(&w->frame);
    av_packet_free(&w->pkt);
    free(w->tmp);
    free(w->path);
    free(w);
}
