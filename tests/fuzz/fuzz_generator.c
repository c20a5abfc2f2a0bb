/* fuzz_generator.c: nst's own network format (a safetensors file with
 * nst-generator metadata) through nst_generator_load on a file:
 * gen_checkpoint_read, then the architecture built from its variables. */
#include "fuzz_util.h"
#include "nst.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    if (!fuzz_dir_write(dir, "net.safetensors", data, size, path)) {
        nst_generator *g;
        nst_error err;
        int rc = nst_generator_load(path, &g, &err);
        fuzz_check_message(rc, err.msg, path);
        if (!rc) nst_generator_free(g);
    }
    fuzz_dir_remove(dir);
    return 0;
}
