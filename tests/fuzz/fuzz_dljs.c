/* fuzz_dljs.c: a deeplearn.js checkpoint directory. The input is
 * manifest.json, then (after each FUZZ_SEPARATOR) the variable files
 * f1, f2, ... that it may name. */
#include <stdio.h>

#include "fuzz_util.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const uint8_t *part[FUZZ_MAX_PARTS];
    size_t len[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, part, len);
    char dir[256];
    if (fuzz_dir_make(dir)) return 0;
    int ok = !fuzz_dir_write(dir, "manifest.json", part[0], len[0], NULL);
    for (int k = 1; ok && k < n; k++) {
        char name[32];
        snprintf(name, sizeof name, "f%d", k);
        ok = !fuzz_dir_write(dir, name, part[k], len[k], NULL);
    }
    if (ok) {
        nst_tensor_dict d;
        nst_error err;
        int rc = nst_dljs_load(dir, &d, &err);
        fuzz_check_message(rc, err.msg, dir);
        if (!rc) nst_dict_free(&d);
    }
    fuzz_dir_remove(dir);
    return 0;
}
