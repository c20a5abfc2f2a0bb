/* fuzz_image.c: image decoding, from memory (nst_image_decode, what the
 * server and the camera use) and from a file (nst_image_load). */
#include <stdlib.h>

#include "fuzz_util.h"
#include "nst.h"

static void check_image(int rc, const nst_image *img) {
    /* a decoded image is within the limits nst_image_decode promises */
    if (!rc && (img->w <= 0 || img->h <= 0 || img->w > NST_MAX_SIDE || img->h > NST_MAX_SIDE ||
                (long)img->w * img->h > NST_MAX_PIXELS || !img->data))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    nst_image img = {0};
    nst_error err;
    int rc = nst_image_decode(data, size, "input", &img, &err);
    fuzz_check_message(rc, err.msg, "input");
    check_image(rc, &img);
    nst_image_free(&img);
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    if (!fuzz_dir_write(dir, "input.img", data, size, path)) {
        nst_image file = {0};
        rc = nst_image_load(path, &file, &err);
        fuzz_check_message(rc, err.msg, path);
        check_image(rc, &file);
        nst_image_free(&file);
    }
    fuzz_dir_remove(dir);
    return 0;
}
