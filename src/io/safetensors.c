/* safetensors.c: u64 little-endian header length N, N bytes of JSON
 * {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}},
 * then the data; offsets are relative to the end of the header. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io.h"
#include "io/pickle.h"

#define HEADER_MAX (100u << 20) /* the reference implementation's limit */

/* A non-negative integer JSON number that a double holds exactly. */
static int json_u64(const cJSON *j, uint64_t *v) {
    if (!cJSON_IsNumber(j) || !(j->valuedouble >= 0) || j->valuedouble > 9007199254740992.0 ||
        j->valuedouble != (double)(uint64_t)j->valuedouble)
        return -1;
    *v = (uint64_t)j->valuedouble;
    return 0;
}

static int read_tensor(FILE *f, const char *path, uint64_t data_start, uint64_t data_len,
                       const cJSON *e, tensor_dict *d, nst_error *err) {
    const char *name = e->string;
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(e, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(e, "shape");
    const cJSON *offs = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offs) ||
        cJSON_GetArraySize(offs) != 2)
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s: header entry needs dtype, shape and data_offsets", path, name);
    raw_dtype dt;
    if (strcmp(dtype->valuestring, "F32") == 0) dt = RAW_F32;
    else if (strcmp(dtype->valuestring, "F16") == 0) dt = RAW_F16;
    else if (strcmp(dtype->valuestring, "BF16") == 0) dt = RAW_BF16;
    else
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s has dtype %.32s; only F32, F16 and BF16 are supported", path,
                        name, dtype->valuestring);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > NST_MAX_DIMS)
        return nst_fail(err, NST_ERR_FORMAT, "%s: tensor %s has %d dimensions (at most %d)", path,
                        name, ndim, NST_MAX_DIMS);
    int64_t dims[NST_MAX_DIMS];
    uint64_t numel = 1, begin, end;
    for (int k = 0; k < ndim; k++) {
        uint64_t v;
        if (json_u64(cJSON_GetArrayItem(shape, k), &v) || (v && numel > data_len / v))
            return nst_fail(err, NST_ERR_INTERNAL, "%s: tensor %s has an invalid shape", path, name);
        dims[k] = (int64_t)v;
        numel *= v;
    }
    if (json_u64(cJSON_GetArrayItem(offs, 0), &begin) || json_u64(cJSON_GetArrayItem(offs, 1), &end) ||
        begin > end || end > data_len)
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s: data_offsets outside the file's %llu data bytes", path, name,
                        (unsigned long long)data_len);
    if (end - begin != numel * raw_size(dt))
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s: data_offsets span %llu bytes, its shape needs %llu", path,
                        name, (unsigned long long)(end - begin),
                        (unsigned long long)(numel * raw_size(dt)));
    if (dict_get(d, name))
        return nst_fail(err, NST_ERR_FORMAT, "%s: duplicate tensor %s", path, name);
    size_t nbytes = (size_t)(end - begin);
    float *data = malloc(numel ? numel * sizeof(float) : 1);
    /* float32 is read in place; 16-bit types go through a scratch buffer */
    unsigned char *raw = dt == RAW_F32 ? (unsigned char *)data : malloc(nbytes ? nbytes : 1);
    if (!data || !raw) {
        free(data);
        if (raw != (unsigned char *)data) free(raw);
        return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory reading tensor %s", path, name);
    }
    if (fseeko(f, (off_t)(data_start + begin), SEEK_SET) != 0 || fread(raw, 1, nbytes, f) != nbytes) {
        free(data);
        if (raw != (unsigned char *)data) free(raw);
        return nst_fail(err, NST_ERR_IO, "%s: cannot read tensor %s", path, name);
    }
    /* decode the little-endian bytes whatever the host order; in place for
     * float32, where element i is read before it is overwritten */
    for (size_t i = 0; i < numel; i++) data[i] = raw_get(raw, dt, i);
    if (raw != (unsigned char *)data) free(raw);
    return dict_add(d, name, ndim, dims, data, err);
}

int safetensors_load(const char *path, tensor_dict *out, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    unsigned char len8[8];
    if (fstat(fileno(f), &st) != 0 || fread(len8, 1, 8, f) != 8) {
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT, "%s: too short for a safetensors file", path);
    }
    uint64_t hlen = 0, size = (uint64_t)st.st_size;
    for (int i = 7; i >= 0; i--) hlen = hlen << 8 | len8[i];
    if (hlen < 2 || hlen > HEADER_MAX || hlen > size - 8) {
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: not a safetensors file (header length %llu, file size %llu)", path,
                        (unsigned long long)hlen, (unsigned long long)size);
    }
    char *json = malloc(hlen);
    if (!json || fread(json, 1, hlen, f) != hlen) {
        free(json);
        fclose(f);
        return nst_fail(err, NST_ERR_IO, "%s: cannot read the safetensors header", path);
    }
    cJSON *root = cJSON_ParseWithLength(json, hlen);
    free(json);
    tensor_dict d = {0};
    int rc = NST_OK;
    if (!cJSON_IsObject(root))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: safetensors header is not a JSON object", path);
    for (const cJSON *e = root ? root->child : NULL; e && !rc; e = e->next) {
        if (strcmp(e->string, "__metadata__") == 0) {
            if (!d.metadata) d.metadata = cJSON_PrintUnformatted(e);
            continue;
        }
        if (!cJSON_IsObject(e))
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: header entry %s is not an object", path, e->string);
        else
            rc = read_tensor(f, path, 8 + hlen, size - 8 - hlen, e, &d, err);
    }
    cJSON_Delete(root);
    fclose(f);
    if (rc) {
        dict_free(&d);
        return rc;
    }
    snprintf(d.path, sizeof d.path, "%s", path);
    *out = d;
    return NST_OK;
}
