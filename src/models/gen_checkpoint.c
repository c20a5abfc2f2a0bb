/* gen_checkpoint.c: feed-forward style networks in nst's own format, a
 * safetensors file (see generator.h), so that nst train can write what
 * nst apply and nst_generator_load read. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/generator.h"

/* The "upsample" of the architecture text `a` (deconv when absent). */
static int read_upsample(const char *path, const char *a, gen_upsample *up, nst_error *err) {
    cJSON *j = a ? cJSON_Parse(a) : NULL;
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(j, "upsample");
    int v = !u ? GEN_UP_DECONV : gen_upsample_parse(cJSON_IsString(u) ? u->valuestring : NULL);
    int rc = NST_OK;
    if (!cJSON_IsObject(j))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: its \"architecture\" metadata is missing or not "
                      "a JSON object", path);
    else if (v < 0)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: unknown \"upsample\" %s in its architecture "
                      "(expected \"deconv\" or \"nearest\")", path,
                      cJSON_IsString(u) ? u->valuestring : "(not a string)");
    else if (up)
        *up = (gen_upsample)v;
    cJSON_Delete(j);
    return rc;
}

int gen_checkpoint_read(const char *path, tensor_dict *d, gen_upsample *up, nst_error *err) {
    int rc = safetensors_load(path, d, err);
    if (rc) return rc;
    cJSON *m = d->metadata ? cJSON_Parse(d->metadata) : NULL;
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(m, "format");
    const cJSON *a = cJSON_GetObjectItemCaseSensitive(m, "architecture");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, GEN_FORMAT) != 0)
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not a style network written by nst train (no "
                      "\"format\": \"" GEN_FORMAT "\" in its metadata)", path);
    else
        rc = read_upsample(path, cJSON_IsString(a) ? a->valuestring : NULL, up, err);
    cJSON_Delete(m);
    if (rc) dict_free(d);
    return rc;
}

/* The layer table as JSON text, for readers other than nst. */
static char *architecture(const struct nst_generator *g) {
    cJSON *a = cJSON_CreateObject(), *layers = cJSON_AddArrayToObject(a, "layers");
    cJSON_AddStringToObject(a, "type", "johnson2016");
    cJSON_AddStringToObject(a, "upsample", gen_upsample_name(g->upsample));
    cJSON_AddNumberToObject(a, "instance_norm_eps", GEN_IN_EPS);
    cJSON_AddStringToObject(a, "output", "clip(150 tanh(x) + 127.5, 0, 255)");
    for (int i = 0; i < GEN_LAYERS && layers; i++) {
        const gen_layer *L = &g->layers[i];
        cJSON *l = cJSON_CreateObject();
        cJSON_AddStringToObject(l, "kind", L->deconv ? "deconv" : "conv");
        cJSON_AddNumberToObject(l, "cin", L->cin);
        cJSON_AddNumberToObject(l, "cout", L->cout);
        cJSON_AddNumberToObject(l, "k", L->k);
        cJSON_AddNumberToObject(l, "stride", L->stride);
        if (L->up) cJSON_AddNumberToObject(l, "nearest_upsample_before", L->up);
        cJSON_AddBoolToObject(l, "relu", L->relu);
        cJSON_AddNumberToObject(l, "residual_from", L->skip);
        cJSON_AddItemToArray(layers, l);
    }
    char *s = cJSON_PrintUnformatted(a);
    cJSON_Delete(a);
    return s;
}

int gen_checkpoint_write(const char *path, const struct nst_generator *g,
                         const tensor_dict *extra, const char *const *meta, int n_meta,
                         nst_error *err) {
    tensor_dict d = {0};
    int rc = NST_OK;
    for (int i = 0; i < GEN_LAYERS && !rc; i++) {
        const gen_layer *L = &g->layers[i];
        const float *src[3] = {L->weight, L->shift, L->scale};
        for (int v = 0; v < 3 && !rc; v++) {
            int64_t shape[4] = {L->cout};
            if (v == 0) gen_kernel_shape(L, shape);
            size_t n = v ? (size_t)L->cout : (size_t)L->k * L->k * L->cin * L->cout;
            float *data = malloc(n * sizeof(float));
            char name[32];
            gen_var_name(3 * i + v, name, sizeof name);
            if (!data) rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
            else if (v == 0) gen_kernel_convert(L, src[v], data, 1);
            else memcpy(data, src[v], n * sizeof(float));
            if (!rc) rc = dict_add(&d, name, v ? 1 : 4, shape, data, err);
        }
    }
    /* the extra tensors are copied: the dictionary owns (and frees) all it holds */
    for (int i = 0; extra && i < extra->count && !rc; i++) {
        const tensor *t = &extra->t[i];
        float *data = malloc(t->numel * sizeof(float) + 1);
        if (!data) rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
        else {
            memcpy(data, t->data, t->numel * sizeof(float));
            rc = dict_add(&d, t->name, t->ndim, t->shape, data, err);
        }
    }
    char *arch = rc ? NULL : architecture(g);
    const char **all = rc ? NULL : malloc((size_t)(2 * n_meta + 4) * sizeof *all);
    if (!rc && (!arch || !all)) rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    if (!rc) {
        all[0] = "format", all[1] = GEN_FORMAT, all[2] = "architecture", all[3] = arch;
        if (n_meta) memcpy(all + 4, meta, (size_t)2 * n_meta * sizeof *all);
        rc = safetensors_save(path, &d, all, n_meta + 2, err);
    }
    free(all);
    free(arch);
    dict_free(&d);
    return rc;
}
