/* fuzz_dljs.c: a deeplearn.js checkpoint directory. The input is
 * manifest.json, then (after each FUZZ_SEPARATOR) the variable files
 * f1, f2, ... that it may name. */
#include "fuzz_util.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256];
    if (fuzz_dir_of_parts(data, size, "manifest.json", "f%d", dir)) return 0;
    tensor_dict d;
    nst_error err;
    int rc = dljs_load(dir, &d, &err);
    fuzz_check_message(rc, err.msg, dir);
    if (!rc) dict_free(&d);
    fuzz_dir_remove(dir);
    return 0;
}
