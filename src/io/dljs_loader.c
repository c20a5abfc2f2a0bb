/* dljs_loader.c: deeplearn.js checkpoints (the format of ml5.js' style
 * networks): DIR/manifest.json maps each variable name to {filename, shape},
 * and each file holds that variable as raw little-endian float32, row-major. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "io/io.h"
#include "io/pickle.h"

#define MANIFEST_MAX (1L << 20)

/* Read a whole file of `want` bytes (want < 0: any size up to MANIFEST_MAX,
 * NUL-terminated). `shape` describes the expected size in the message. */
static int read_all(const char *path, long want, const char *shape, unsigned char **out,
                    long *len, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    int rc = NST_OK;
    if (fstat(fileno(f), &st) != 0)
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot stat: %s", path, strerror(errno));
    else if (want >= 0 && st.st_size != want)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: expected %ld bytes for shape %s, found %lld", path,
                      want, shape, (long long)st.st_size);
    else if (want < 0 && st.st_size > MANIFEST_MAX)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: larger than %ld bytes, not a manifest", path,
                      MANIFEST_MAX);
    long n = (long)st.st_size;
    unsigned char *buf = rc ? NULL : malloc((size_t)n + 1);
    if (!rc && (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n))
        rc = nst_fail(err, NST_ERR_IO, "%s: cannot read", path);
    fclose(f);
    if (rc) {
        free(buf);
        return rc;
    }
    buf[n] = 0;
    *out = buf;
    *len = n;
    return NST_OK;
}

/* One manifest entry: "name": {"filename": "...", "shape": [...]}. */
static int read_variable(const cJSON *v, const char *dir, const char *manifest,
                         tensor_dict *d, nst_error *err) {
    const char *name = v->string;
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(v, "filename");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(v, "shape");
    if (!cJSON_IsString(file) || !cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > NST_MAX_DIMS)
        return nst_fail(err, NST_ERR_FORMAT, "%s: variable %s lacks a filename or a shape",
                        manifest, name);
    const char *fn = file->valuestring;
    /* the checkpoint is one flat directory: never follow a name out of it */
    if (!*fn || strchr(fn, '/') || strstr(fn, ".."))
        return nst_fail(err, NST_ERR_FORMAT, "%s: variable %s: file name '%.200s' is not a plain "
                        "file name in the checkpoint directory", manifest, name, fn);
    int64_t dims[NST_MAX_DIMS];
    int ndim = 0;
    uint64_t numel = 1;
    char desc[160] = "[";
    for (const cJSON *s = shape->child; s; s = s->next) {
        if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > (1 << 30) ||
            s->valuedouble != s->valueint || (s->valueint && numel > (UINT64_C(1) << 32) / (uint64_t)s->valueint))
            return nst_fail(err, NST_ERR_INTERNAL, "%s: variable %s has an invalid shape", manifest, name);
        dims[ndim] = s->valueint;
        numel *= (uint64_t)s->valueint;
        size_t at = strlen(desc);
        snprintf(desc + at, sizeof desc - at, "%s%d", ndim ? "," : "", s->valueint);
        ndim++;
    }
    strcat(desc, "]");
    char path[NST_PATH_MAX];
    if (path_printf(path, sizeof path, "%s/%s", dir, fn))
        return nst_fail(err, NST_ERR_IO, "%s/%s: path too long", dir, fn);
    if (dict_get(d, name))
        return nst_fail(err, NST_ERR_FORMAT, "%s: variable %s is listed twice", manifest, name);
    unsigned char *raw;
    long len;
    int rc = read_all(path, (long)(4 * numel), desc, &raw, &len, err);
    if (rc) return rc;
    float *data = malloc(numel ? numel * sizeof(float) : 1);
    if (!data) {
        free(raw);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    }
    for (size_t i = 0; i < numel; i++) data[i] = raw_get(raw, RAW_F32, i);
    free(raw);
    return dict_add(d, name, ndim, dims, data, err);
}

int dljs_load(const char *dir, tensor_dict *out, nst_error *err) {
    tensor_dict d = {0};
    if (path_printf(d.path, sizeof d.path, "%s/manifest.json", dir))
        return nst_fail(err, NST_ERR_IO, "%s: path too long", dir);
    unsigned char *text;
    long len;
    int rc = read_all(d.path, -1, "", &text, &len, err);
    if (rc) return rc;
    cJSON *root = cJSON_ParseWithLength((const char *)text, (size_t)len);
    free(text);
    if (!cJSON_IsObject(root) || !root->child)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not valid JSON (an object of variables)", d.path);
    for (const cJSON *v = rc ? NULL : root->child; v && !rc; v = v->next)
        rc = read_variable(v, dir, d.path, &d, err);
    cJSON_Delete(root);
    if (rc) {
        dict_free(&d);
        return rc;
    }
    *out = d;
    return NST_OK;
}
