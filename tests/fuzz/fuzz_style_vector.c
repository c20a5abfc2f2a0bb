/* fuzz_style_vector.c: a saved style vector (JSON), read from a file at
 * the size of Magenta's pair (100 numbers). */
#include "fuzz_util.h"
#include "nst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    if (!fuzz_dir_write(dir, "style.json", data, size, path)) {
        float v[100];
        nst_error err;
        int rc = nst_style_vector_load(path, v, 100, &err);
        fuzz_check_message(rc, err.msg, path);
    }
    fuzz_dir_remove(dir);
    return 0;
}
