/* fuzz_torch.c: a torch.save state_dict (zip archive + pickle), read from a
 * file (libzip opens a path). An input that is a zip archive ("PK\3\4") is
 * the file itself. Any other input is data.pkl, then (after each
 * FUZZ_SEPARATOR) the storages data/0, data/1, ..., which the harness packs
 * into an archive itself: mutations then reach the pickle interpreter,
 * which the CRCs of a mutated archive would otherwise keep them from. */
#include <stdio.h>
#include <string.h>
#include <zip.h>

#include "fuzz_util.h"
#include "io/io.h"

static int pack(const uint8_t *data, size_t size, const char *path) {
    const uint8_t *part[FUZZ_MAX_PARTS];
    size_t len[FUZZ_MAX_PARTS];
    int n = fuzz_split(data, size, part, len);
    zip_t *z = zip_open(path, ZIP_CREATE | ZIP_TRUNCATE, NULL);
    if (!z) return -1;
    for (int k = 0; k < n; k++) {
        char name[64];
        if (k == 0) snprintf(name, sizeof name, "archive/data.pkl");
        else snprintf(name, sizeof name, "archive/data/%d", k - 1);
        zip_source_t *src = zip_source_buffer(z, part[k], len[k], 0);
        zip_int64_t at = src ? zip_file_add(z, name, src, ZIP_FL_OVERWRITE) : -1;
        if (at < 0 || zip_set_file_compression(z, (zip_uint64_t)at, ZIP_CM_STORE, 0)) {
            if (at < 0) zip_source_free(src);
            zip_discard(z);
            return -1;
        }
    }
    return zip_close(z) ? (zip_discard(z), -1) : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    char dir[256], path[512];
    if (fuzz_dir_make(dir)) return 0;
    int ok;
    if (size >= 4 && !memcmp(data, "PK\3\4", 4)) {
        ok = !fuzz_dir_write(dir, "model.pth", data, size, path);
    } else {
        snprintf(path, sizeof path, "%s/model.pth", dir);
        ok = !pack(data, size, path);
    }
    if (ok) {
        tensor_dict d;
        nst_error err;
        int rc = torch_load(path, &d, &err);
        fuzz_check_message(rc, err.msg, path);
        if (!rc) dict_free(&d);
    }
    fuzz_dir_remove(dir);
    return 0;
}
