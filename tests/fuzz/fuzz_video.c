/* fuzz_video.c: video demuxing and decoding through nst's reader: open a
 * file, decode up to 4 frames at 16 px (the size keeps one input fast). */
#include <libavutil/log.h>

#include "fuzz_util.h"
#include "video/video_io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    /* FFmpeg's warnings about damaged packets would flood the log and slow
     * the run; failures still come back as nst errors */
    av_log_set_level(AV_LOG_QUIET);
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    if (!fuzz_dir_write(dir, "clip.mp4", data, size, path)) {
        video_read_opts o = {0, 0, 16};
        video_reader *r;
        video_info info;
        nst_error err;
        int rc = video_reader_open(path, &o, &r, &info, &err);
        fuzz_check_message(rc, err.msg, path);
        nst_image frame = {0};
        if (!rc && !nst_image_alloc(&frame, info.w, info.h, &err)) {
            int got = 1;
            for (int i = 0; i < 4 && got && !rc; i++) {
                int64_t pts;
                rc = video_reader_next(r, &frame, &pts, &got, &err);
                fuzz_check_message(rc, err.msg, path);
            }
        }
        nst_image_free(&frame);
        if (r) video_reader_close(r);
    }
    fuzz_dir_remove(dir);
    return 0;
}
