/* style_vector.c: a style vector of the arbitrary-style networks as a small
 * JSON file, so a batch or a video computes it once:
 *   {"format": "nst-style-vector", "size": 100, "vector": [0.12, ...]} */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "nst.h"

#define FORMAT "nst-style-vector"
#define MAX_BYTES (1 << 20)

int nst_style_vector_save(const char *path, const float *v, int size, nst_error *err) {
    cJSON *o = cJSON_CreateObject(), *arr = cJSON_CreateArray();
    cJSON_AddStringToObject(o, "format", FORMAT);
    cJSON_AddNumberToObject(o, "size", size);
    for (int i = 0; i < size; i++) cJSON_AddItemToArray(arr, cJSON_CreateNumber(v[i]));
    cJSON_AddItemToObject(o, "vector", arr);
    char *text = cJSON_Print(o);
    cJSON_Delete(o);
    if (!text) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    char *tmp = NULL;
    FILE *f = temp_open(path, &tmp);
    int e = !f ? errno : fputs(text, f) < 0 || fputc('\n', f) < 0 ? errno : 0;
    free(text);
    if (f) e = temp_finish(f, tmp, path, e);
    if (e) return nst_fail(err, NST_ERR_IO, "%s: cannot write: %s", path, strerror(e));
    return NST_OK;
}

int nst_style_vector_load(const char *path, float *v, int size, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_FORMAT, "%s: %s", path, strerror(errno));
    char *buf = malloc(MAX_BYTES + 1);
    size_t n = buf ? fread(buf, 1, MAX_BYTES + 1, f) : 0;
    fclose(f);
    if (!buf) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (n > MAX_BYTES) {
        free(buf);
        return nst_fail(err, NST_ERR_FORMAT, "%s: larger than 1 MB: not a style vector", path);
    }
    buf[n] = 0;
    cJSON *o = cJSON_Parse(buf);
    free(buf);
    const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(o, "format");
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(o, "vector");
    int rc = NST_OK;
    if (!o || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, FORMAT) || !cJSON_IsArray(arr))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not a style vector (nst_style_vector_save writes "
                      "them)", path);
    else if (cJSON_GetArraySize(arr) != size)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: a style vector of %d numbers, the networks take %d",
                      path, cJSON_GetArraySize(arr), size);
    int i = 0;
    for (const cJSON *x = arr ? arr->child : NULL; !rc && x; x = x->next, i++) {
        if (!cJSON_IsNumber(x)) rc = nst_fail(err, NST_ERR_FORMAT, "%s: entry %d is not a number", path, i);
        else v[i] = (float)x->valuedouble;
    }
    cJSON_Delete(o);
    return rc;
}
