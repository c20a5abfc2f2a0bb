/* tfjs_loader.c: TensorFlow.js layers models. model.json holds
 * modelTopology.model_config (a Keras Sequential or functional Model) and
 * weightsManifest: groups of weights, each packed back to back (float32,
 * little-endian, row-major) across the group's shard files in order. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/io.h"
#include "io/pickle.h"

#define JSON_MAX (64L << 20)

static int read_file(const char *path, char **out, long *len, nst_error *err) {
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size > JSON_MAX) {
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT, "%s: not a readable model.json (larger than %ld bytes?)",
                        path, JSON_MAX);
    }
    char *buf = malloc((size_t)st.st_size + 1);
    if (!buf || fread(buf, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
        free(buf);
        fclose(f);
        return nst_fail(err, NST_ERR_IO, "%s: cannot read", path);
    }
    fclose(f);
    buf[st.st_size] = 0;
    *out = buf;
    *len = (long)st.st_size;
    return NST_OK;
}

static const cJSON *get(const cJSON *o, const char *key) {
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int copy_str(char *dst, size_t n, const char *src) {
    if (strlen(src) >= n) return -1;
    memcpy(dst, src, strlen(src) + 1);
    return 0;
}

/* A Keras int-or-pair field (kernel_size, strides, pool_size). */
static void pair(const cJSON *j, int *h, int *w) {
    if (cJSON_IsNumber(j)) {
        *h = *w = j->valueint;
    } else if (cJSON_IsArray(j) && cJSON_GetArraySize(j) == 2 &&
               cJSON_IsNumber(cJSON_GetArrayItem(j, 0)) && cJSON_IsNumber(cJSON_GetArrayItem(j, 1))) {
        *h = cJSON_GetArrayItem(j, 0)->valueint;
        *w = cJSON_GetArrayItem(j, 1)->valueint;
    }
}

/* The single layer feeding a functional-model layer: inbound_nodes is
 * [[["name", node_index, tensor_index, kwargs], ...]] (one list per call). */
static int inbound_of(const cJSON *layer, const char *path, const char *name, char *out,
                      size_t n, nst_error *err) {
    const cJSON *nodes = get(layer, "inbound_nodes");
    int count = cJSON_IsArray(nodes) ? cJSON_GetArraySize(nodes) : 0;
    out[0] = 0;
    if (count == 0) return NST_OK;
    const cJSON *node = cJSON_GetArrayItem(nodes, 0);
    const cJSON *src = cJSON_IsArray(node) && cJSON_GetArraySize(node) == 1
                           ? cJSON_GetArrayItem(node, 0) : NULL;
    const cJSON *sname = cJSON_IsArray(src) ? cJSON_GetArrayItem(src, 0) : NULL;
    if (count != 1 || !cJSON_IsString(sname))
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: layer %s has several inputs or is called several times: only linear "
                        "chains of layers are supported", path, name);
    if (copy_str(out, n, sname->valuestring))
        return nst_fail(err, NST_ERR_FORMAT, "%s: layer %s: input name too long", path, name);
    return NST_OK;
}

static int parse_layer(const cJSON *j, const char *path, const char *prev, int functional,
                       keras_layer *L, nst_error *err) {
    const cJSON *cls = get(j, "class_name"), *cfg = get(j, "config");
    const cJSON *name = get(j, "name");
    if (!cJSON_IsString(name)) name = get(cfg, "name");
    if (!cJSON_IsString(cls) || !cJSON_IsObject(cfg) || !cJSON_IsString(name))
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: a layer lacks class_name, name or config", path);
    if (copy_str(L->class_name, sizeof L->class_name, cls->valuestring) ||
        copy_str(L->name, sizeof L->name, name->valuestring))
        return nst_fail(err, NST_ERR_FORMAT, "%s: layer name or class too long: %.80s", path,
                        name->valuestring);
    if (functional) {
        if (inbound_of(j, path, L->name, L->inbound, sizeof L->inbound, err)) return err->code;
        if (strcmp(L->inbound, prev) != 0)
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: layer %s takes its input from '%s', not from the layer before it "
                            "('%s'): only linear chains of layers are supported",
                            path, L->name, L->inbound, prev);
    } else {
        snprintf(L->inbound, sizeof L->inbound, "%s", prev);
    }
    const cJSON *v;
    if (cJSON_IsNumber(v = get(cfg, "filters"))) L->filters = v->valueint;
    pair(get(cfg, "kernel_size"), &L->kernel_h, &L->kernel_w);
    int is_pool = strstr(L->class_name, "Pooling") != NULL;
    if (is_pool) {
        L->pool_h = L->pool_w = 2;
        pair(get(cfg, "pool_size"), &L->pool_h, &L->pool_w);
        L->stride_h = L->pool_h, L->stride_w = L->pool_w; /* strides None: the pool size */
    } else {
        L->stride_h = L->stride_w = 1;
    }
    pair(get(cfg, "strides"), &L->stride_h, &L->stride_w);
    v = get(cfg, "padding");
    L->same_padding = cJSON_IsString(v) && strcmp(v->valuestring, "same") == 0;
    v = get(cfg, "use_bias");
    L->use_bias = !cJSON_IsBool(v) || cJSON_IsTrue(v);
    v = get(cfg, "activation");
    snprintf(L->activation, sizeof L->activation, "%s", cJSON_IsString(v) ? v->valuestring : "linear");
    v = get(cfg, "alpha");
    L->alpha = cJSON_IsNumber(v) ? (float)v->valuedouble
               : strcmp(L->class_name, "LeakyReLU") == 0 ? 0.3f : 0.0f;
    v = get(cfg, "epsilon");
    L->epsilon = cJSON_IsNumber(v) ? (float)v->valuedouble : 1e-3f;
    v = get(cfg, "data_format");
    L->channels_last = !cJSON_IsString(v) || strcmp(v->valuestring, "channels_last") == 0;
    v = get(cfg, "axis"); /* BatchNormalization: -1 or 3 is the channel axis of NHWC */
    if (cJSON_IsNumber(v)) L->channels_last = v->valueint == -1 || v->valueint == 3;
    if (cJSON_IsArray(v) && cJSON_GetArraySize(v) == 1 && cJSON_IsNumber(cJSON_GetArrayItem(v, 0)))
        L->channels_last = cJSON_GetArrayItem(v, 0)->valueint == -1 ||
                           cJSON_GetArrayItem(v, 0)->valueint == 3;
    return NST_OK;
}

static int parse_topology(const cJSON *root, const char *path, tfjs_model *m, nst_error *err) {
    const cJSON *topo = get(root, "modelTopology");
    const cJSON *mc = get(topo, "model_config");
    if (!mc && get(topo, "class_name")) mc = topo; /* some converters omit the wrapper */
    const cJSON *cls = get(mc, "class_name"), *cfg = get(mc, "config");
    if (!cJSON_IsString(cls))
        return nst_fail(err, NST_ERR_FORMAT, "%s: no modelTopology.model_config.class_name", path);
    int functional;
    const cJSON *layers;
    if (strcmp(cls->valuestring, "Sequential") == 0) {
        functional = 0;
        layers = cJSON_IsArray(cfg) ? cfg : get(cfg, "layers");
    } else if (strcmp(cls->valuestring, "Model") == 0 || strcmp(cls->valuestring, "Functional") == 0) {
        functional = 1;
        layers = get(cfg, "layers");
    } else {
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: model class %.64s is not supported (Sequential or Model)", path,
                        cls->valuestring);
    }
    int n = cJSON_IsArray(layers) ? cJSON_GetArraySize(layers) : 0;
    if (n == 0) return nst_fail(err, NST_ERR_FORMAT, "%s: the model has no layers", path);
    m->layers = calloc((size_t)n, sizeof *m->layers);
    if (!m->layers) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory", path);
    int i = 0;
    for (const cJSON *l = layers->child; l; l = l->next, i++) {
        if (parse_layer(l, path, i ? m->layers[i - 1].name : "", functional, &m->layers[i], err))
            return err->code;
        m->n_layers = i + 1;
    }
    return NST_OK;
}

/* Read one manifest group: its weights, packed in its shards in order. */
static int read_group(const cJSON *g, int gi, const char *path, const char *dir,
                      tensor_dict *d, nst_error *err) {
    const cJSON *paths = get(g, "paths"), *weights = get(g, "weights");
    int np = cJSON_IsArray(paths) ? cJSON_GetArraySize(paths) : 0;
    if (np == 0 || !cJSON_IsArray(weights))
        return nst_fail(err, NST_ERR_FORMAT, "%s: weightsManifest group %d lacks paths or weights",
                        path, gi + 1);
    /* expected size: the sum of the weights' sizes */
    uint64_t expected = 0;
    for (const cJSON *w = weights->child; w; w = w->next) {
        const cJSON *name = get(w, "name"), *shape = get(w, "shape"), *dtype = get(w, "dtype");
        if (!cJSON_IsString(name) || !cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > NST_MAX_DIMS)
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: weightsManifest group %d: a weight lacks name or shape", path, gi + 1);
        if (get(w, "quantization"))
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: weight %s is quantized; only float32 weights are supported", path,
                            name->valuestring);
        if (cJSON_IsString(dtype) && strcmp(dtype->valuestring, "float32") != 0)
            return nst_fail(err, NST_ERR_FORMAT,
                            "%s: weight %s has dtype %.32s; only float32 is supported", path,
                            name->valuestring, dtype->valuestring);
        uint64_t numel = 1;
        for (const cJSON *s = shape->child; s; s = s->next) {
            if (!cJSON_IsNumber(s) || s->valuedouble < 0 || s->valuedouble > (1 << 30) ||
                (s->valueint && numel > (UINT64_C(1) << 34) / (uint64_t)s->valueint))
                return nst_fail(err, NST_ERR_INTERNAL, "%s: weight %s has an invalid shape", path,
                                name->valuestring);
            numel *= (uint64_t)s->valueint;
        }
        expected += 4 * numel;
    }
    /* actual size: the shards' sizes */
    char first[2048] = "", last[2048] = "";
    uint64_t found = 0;
    for (int k = 0; k < np; k++) {
        const cJSON *p = cJSON_GetArrayItem(paths, k);
        if (!cJSON_IsString(p))
            return nst_fail(err, NST_ERR_FORMAT, "%s: weightsManifest group %d: bad path", path, gi + 1);
        /* a shard beside model.json, never a file elsewhere that it names */
        if (!*p->valuestring || strchr(p->valuestring, '/') || strstr(p->valuestring, ".."))
            return nst_fail(err, NST_ERR_FORMAT, "%s: weightsManifest group %d: shard path '%.64s' leaves the "
                            "model's directory", path, gi + 1, p->valuestring);
        snprintf(last, sizeof last, "%s/%s", dir, p->valuestring);
        if (k == 0) snprintf(first, sizeof first, "%s", last);
        struct stat st;
        if (stat(last, &st) != 0)
            return nst_fail(err, NST_ERR_FORMAT, "%s: missing weight shard (listed in %s): %s", last,
                            path, strerror(errno));
        found += (uint64_t)st.st_size;
    }
    if (found != expected) {
        char shards[4200];
        if (np == 1) snprintf(shards, sizeof shards, "%s", last);
        else snprintf(shards, sizeof shards, "%s .. %s (%d shards)", first, last, np);
        return nst_fail(err, NST_ERR_FORMAT, "%s: %s: expected %llu bytes, found %llu", shards,
                        found < expected ? "truncated" : "size mismatch", (unsigned long long)expected,
                        (unsigned long long)found);
    }
    unsigned char *buf = malloc(expected ? expected : 1);
    if (!buf) return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory reading weights", path);
    size_t at = 0;
    for (int k = 0; k < np; k++) {
        char shard[2048];
        snprintf(shard, sizeof shard, "%s/%s", dir, cJSON_GetArrayItem(paths, k)->valuestring);
        FILE *f = fopen(shard, "rb");
        size_t got = f ? fread(buf + at, 1, expected - at, f) : 0;
        int extra = f && fgetc(f) != EOF; /* changed since stat */
        if (f) fclose(f);
        if (!f || extra) {
            free(buf);
            return nst_fail(err, NST_ERR_IO, "%s: cannot read weight shard", shard);
        }
        at += got;
    }
    if (at != expected) {
        free(buf);
        return nst_fail(err, NST_ERR_FORMAT, "%s: truncated: expected %llu bytes, found %zu", last,
                        (unsigned long long)expected, at);
    }
    at = 0;
    int rc = NST_OK;
    for (const cJSON *w = weights->child; w && !rc; w = w->next) {
        const char *name = get(w, "name")->valuestring;
        int64_t shape[NST_MAX_DIMS];
        int ndim = 0;
        size_t numel = 1;
        for (const cJSON *s = get(w, "shape")->child; s; s = s->next) {
            shape[ndim++] = s->valueint;
            numel *= (size_t)s->valueint;
        }
        float *data = malloc(numel ? numel * sizeof(float) : 1);
        if (!data) {
            rc = nst_fail(err, NST_ERR_NOMEM, "%s: out of memory reading %s", path, name);
            break;
        }
        for (size_t i = 0; i < numel; i++) data[i] = raw_get(buf + at, RAW_F32, i);
        at += 4 * numel;
        if (dict_get(d, name)) {
            free(data);
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: weight %s is listed twice", path, name);
        } else {
            rc = dict_add(d, name, ndim, shape, data, err);
        }
    }
    free(buf);
    return rc;
}

int tfjs_load(const char *path, tfjs_model *out, nst_error *err) {
    tfjs_model m = {0};
    struct stat st;
    if (stat(path, &st) != 0)
        return nst_fail(err, NST_ERR_FORMAT, "%s: %s", path, strerror(errno));
    if (S_ISDIR(st.st_mode)) snprintf(m.path, sizeof m.path, "%s/model.json", path);
    else snprintf(m.path, sizeof m.path, "%s", path);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", m.path);
    char *slash = strrchr(dir, '/');
    if (slash) *slash = 0;
    else snprintf(dir, sizeof dir, ".");

    char *text = NULL;
    long len = 0;
    if (read_file(m.path, &text, &len, err)) return err->code;
    cJSON *root = cJSON_ParseWithLength(text, (size_t)len);
    free(text);
    int rc = NST_OK;
    if (!cJSON_IsObject(root))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not valid JSON", m.path);
    if (!rc) rc = parse_topology(root, m.path, &m, err);
    const cJSON *manifest = get(root, "weightsManifest");
    if (!rc && !cJSON_IsArray(manifest))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: no weightsManifest", m.path);
    int gi = 0;
    for (const cJSON *g = rc ? NULL : manifest->child; g && !rc; g = g->next, gi++)
        rc = read_group(g, gi, m.path, dir, &m.weights, err);
    cJSON_Delete(root);
    if (rc) {
        tfjs_free(&m);
        return rc;
    }
    snprintf(m.weights.path, sizeof m.weights.path, "%s", m.path);
    *out = m;
    return NST_OK;
}

void tfjs_free(tfjs_model *m) {
    free(m->layers);
    dict_free(&m->weights);
    memset(m, 0, sizeof *m);
}
