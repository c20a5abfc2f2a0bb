/* safetensors_save.c: writing a tensor dictionary as safetensors: u64
 * header length (little-endian), JSON header {name: {"dtype": "F32",
 * "shape", "data_offsets": [begin, end]}, "__metadata__": {key: value}},
 * padded with spaces to a multiple of 8, then the raw float32 data. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "io/io.h"

static char *header_json(const tensor_dict *d, const char *const *meta, int n_meta) {
    cJSON *root = cJSON_CreateObject();
    cJSON *m = n_meta > 0 ? cJSON_AddObjectToObject(root, "__metadata__") : NULL;
    for (int i = 0; i < n_meta && m; i++) cJSON_AddStringToObject(m, meta[2 * i], meta[2 * i + 1]);
    size_t at = 0;
    for (int i = 0; i < d->count && root; i++) {
        const tensor *t = &d->t[i];
        cJSON *e = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = e ? cJSON_AddArrayToObject(e, "shape") : NULL;
        cJSON *off = shape ? cJSON_AddArrayToObject(e, "data_offsets") : NULL;
        if (!off) break;
        cJSON_AddStringToObject(e, "dtype", "F32");
        for (int k = 0; k < t->ndim; k++) cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[k]));
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
        at += t->numel * sizeof(float);
        cJSON_AddItemToArray(off, cJSON_CreateNumber((double)at));
    }
    char *s = root ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    return s;
}

int safetensors_save(const char *path, const tensor_dict *d, const char *const *meta,
                         int n_meta, nst_error *err) {
    char *json = header_json(d, meta, n_meta);
    if (!json) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    size_t len = strlen(json), padded = (len + 7) / 8 * 8;
    char *tmp;
    FILE *f = temp_open(path, &tmp);
    if (!f) {
        int e = errno;
        free(json);
        return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    }
    unsigned char len8[8];
    for (int i = 0; i < 8; i++) len8[i] = (unsigned char)((uint64_t)padded >> (8 * i));
    int ok = fwrite(len8, 1, 8, f) == 8 && fwrite(json, 1, len, f) == len;
    for (size_t i = len; i < padded && ok; i++) ok = fputc(' ', f) != EOF;
    /* the data is written as it is in memory: little-endian hosts only (x86, arm) */
    for (int i = 0; i < d->count && ok; i++)
        ok = fwrite(d->t[i].data, sizeof(float), d->t[i].numel, f) == d->t[i].numel;
    free(json);
    int e = temp_finish(f, tmp, path, ok ? 0 : errno ? errno : EIO);
    if (e) return nst_fail(err, NST_ERR_IO, "%s: cannot write (%s)", path, strerror(e));
    return NST_OK;
}
