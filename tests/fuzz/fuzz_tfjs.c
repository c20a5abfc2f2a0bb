/* fuzz_tfjs.c: a TensorFlow.js layers model. The input is model.json, then
 * (after each FUZZ_SEPARATOR) the weight shards s1.bin, s2.bin, ... that
 * its weightsManifest may name. */
#include <stdio.h>

#include "fuzz_util.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[FUZZ_MAX_PARTS];
    size_t len[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, part, len);
    char dir[256];
    if (fuzz_dir_make(dir)) return 0;
    int ok = !fuzz_dir_write(dir, "model.json", part[0], len[0], NULL);
    for (int k = 1; ok && k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "s%d.bin", k);
        ok = !fuzz_dir_write(dir, name, part[k], len[k], NULL);
    }
    if (ok) {
        nst_tfjs_model m;
        nst_error err;
        int rc = nst_tfjs_load(dir, &m, &err);
        fuzz_check_message(rc, err.msg, dir);
        if (!rc) nst_tfjs_free(&m);
    }
    fuzz_dir_remove(dir);
    return 0;
}
