/* fuzz_safetensors.c: a safetensors file (u64 header length, JSON header, raw data). */
#include "fuzz_util.h"
#include "io/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    if (!fuzz_dir_write(dir, "model.safetensors", data, size, path)) {
        tensor_dict d;
        nst_error err;
        int rc = safetensors_load(path, &d, &err);
        fuzz_check_message(rc, err.msg, path);
        if (!rc) dict_free(&d);
    }
    fuzz_dir_remove(dir);
    return 0;
}
