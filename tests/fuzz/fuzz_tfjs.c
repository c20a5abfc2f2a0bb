/* fuzz_tfjs.c: a TensorFlow.js layers model. The input is model.json, then
 * (after each FUZZ_SEPARATOR) the weight shards s1.bin, s2.bin, ... that
 * its weightsManifest may name. */
#include "fuzz_util.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256];
    if (fuzz_dir_of_parts(data, size, "model.json", "s%d.bin", dir)) return 0;
    tfjs_model m;
    nst_error err;
    int rc = tfjs_load(dir, &m, &err);
    fuzz_check_message(rc, err.msg, dir);
    if (!rc) tfjs_free(&m);
    fuzz_dir_remove(dir);
    return 0;
}
