/* video_io.h: reading and writing video with FFmpeg's libraries.
 *
 * The reader decodes any input FFmpeg opens (a file, an image-sequence
 * pattern such as frames/%04d.png, a V4L2 camera /dev/videoN) into planar
 * RGB float frames (nst_image, 0..255), scaled to the requested size. The
 * writer encodes such frames by the output's extension (.mp4 H.264 yuv420p
 * +faststart, .webm VP9, .gif, a %d PNG pattern), keeps each frame's
 * timestamp (variable frame rates survive), the display rotation and the
 * sample aspect ratio, and carries the input's audio over (copied when the
 * container takes the codec, re-encoded otherwise). It writes into a
 * temporary name and renames on video_writer_finish: a failed or
 * interrupted run leaves nothing under the output name.
 * No FFmpeg type appears here, so callers need no FFmpeg headers. */
#ifndef NST_VIDEO_IO_H
#define NST_VIDEO_IO_H

#include <stdint.h>

#include "nst.h"

typedef struct {
    int src_w, src_h;      /* coded frame size of the input */
    int w, h;              /* size of the frames video_reader_next returns */
    int fps_num, fps_den;  /* average frame rate (0/1 when unknown) */
    int tb_num, tb_den;    /* time base of the timestamps */
    int64_t n_frames;      /* frames expected in the cut, for progress (0: unknown) */
    double duration;       /* seconds in the cut (0: unknown, e.g. a camera) */
    int sar_num, sar_den;  /* sample aspect ratio (0/1: unknown = square) */
    double rotation;       /* display rotation in degrees, counterclockwise as
                            * ffprobe shows it (0: none) */
    int has_audio;         /* an audio stream that the writer can carry over */
    char video_codec[32], audio_codec[32];
} video_info;

typedef struct {
    double start, duration; /* the cut in seconds (duration 0: to the end) */
    int size;               /* long side of the frames, 0 keeps the input's; both
                             * sides are rounded to even numbers (yuv420p; with
                             * 0, an odd last column or row is cropped) */
} video_read_opts;

typedef struct video_reader video_reader;

/* Open `path`; fills *info. Errors name the file: not a video, no video
 * stream, an unsupported codec, a truncated header. */
int video_reader_open(const char *path, const video_read_opts *o, video_reader **r,
                      video_info *info, nst_error *err);
/* Decode the next frame of the cut into `frame` (info.w x info.h, allocated
 * by the caller) and its timestamp in info's time base, counted from the
 * start of the cut (the first frame's is 0). *got = 0 at the end. A
 * corrupt packet in the middle is an error naming the file and the frame. */
int video_reader_next(video_reader *r, nst_image *frame, int64_t *pts, int *got, nst_error *err);
void video_reader_close(video_reader *r);

typedef struct {
    int crf;           /* H.264 / VP9 constant rate factor, -1: the default (20 / 32) */
    const char *audio; /* carry the audio of this input over (the reader's path), or NULL */
    double start, duration; /* the audio cut, the same as the reader's */
} video_write_opts;

typedef struct video_writer video_writer;

/* The container and codec follow the extension of `path`; frames are
 * info->w x info->h (even for yuv420p), timestamps in info's time base. */
int video_writer_open(const char *path, const video_info *info, const video_write_opts *o,
                      video_writer **w, nst_error *err);
int video_writer_frame(video_writer *w, const nst_image *frame, int64_t pts, nst_error *err);
/* Flush the encoders, write the trailer and rename into place. */
int video_writer_finish(video_writer *w, nst_error *err);
/* Free; without a successful finish the temporary output is removed. */
void video_writer_free(video_writer *w);

/* Is this a name the writer takes (.mp4, .webm, .gif, a %d .png pattern)? */
int video_output_supported(const char *path);

#endif
