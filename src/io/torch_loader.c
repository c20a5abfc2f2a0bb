/* torch_loader.c: state_dicts written by torch.save (PyTorch >= 1.6 zip
 * format). The archive holds <prefix>/data.pkl, the pickled dict whose
 * tensors refer to storages by key, and <prefix>/data/<key>, each storage's
 * raw little-endian elements. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io.h"
#include "io/optional_libs.h"
#include "io/pickle.h"

#define PKL_MAX ((zip_uint64_t)1 << 30) /* data.pkl of a huge state_dict is a few MB */

typedef struct {
    const char *path;
    const zip_api *z; /* libzip, loaded on first use */
    zip_t *zip;
    char prefix[512]; /* "<folder>/" */
    nst_error *err;
} torch_file;

/* Read a whole member; `name` is relative to the prefix. */
static int read_member(torch_file *tf, const char *name, zip_uint64_t max, unsigned char **out,
                       size_t *len) {
    char full[1024];
    snprintf(full, sizeof full, "%s%s", tf->prefix, name);
    zip_stat_t st;
    if (tf->z->zip_stat_fn(tf->zip, full, 0, &st) != 0 || !(st.valid & ZIP_STAT_SIZE))
        return nst_fail(tf->err, NST_ERR_FORMAT, "%s: archive has no %s", tf->path, full);
    if (st.size > max)
        return nst_fail(tf->err, NST_ERR_FORMAT, "%s: %s holds %llu bytes, more than the %llu expected",
                        tf->path, full, (unsigned long long)st.size, (unsigned long long)max);
    /* the size is the archive's word: a forged one must not make us allocate,
     * so a deflated member has to fit its compressed bytes (at most 1032
     * times; ZIP_CHECKCONS already holds a stored member to its data) */
    if ((st.valid & ZIP_STAT_COMP_SIZE) && (st.valid & ZIP_STAT_COMP_METHOD) &&
        st.comp_method == ZIP_CM_DEFLATE && st.size / 1032 > st.comp_size)
        return nst_fail(tf->err, NST_ERR_FORMAT, "%s: %s claims %llu bytes from %llu in the archive: "
                        "a damaged zip file", tf->path, full, (unsigned long long)st.size,
                        (unsigned long long)st.comp_size);
    unsigned char *buf = malloc(st.size ? st.size : 1);
    if (!buf)
        return nst_fail(tf->err, NST_ERR_NOMEM, "%s: out of memory reading %s", tf->path, full);
    zip_file_t *f = tf->z->zip_fopen_fn(tf->zip, full, 0);
    if (!f) {
        free(buf);
        return nst_fail(tf->err, NST_ERR_IO, "%s: cannot read %s: %s", tf->path, full,
                        tf->z->zip_strerror_fn(tf->zip));
    }
    zip_int64_t got = tf->z->zip_fread_fn(f, buf, st.size);
    /* libzip compares the CRC when a read reaches the end of the member, so
     * read once more: that returns 0 at a good end, -1 on a mismatch */
    unsigned char extra;
    int ok = got >= 0 && (zip_uint64_t)got == st.size && tf->z->zip_fread_fn(f, &extra, 1) == 0;
    if (!ok)
        nst_fail(tf->err, NST_ERR_IO, "%s: cannot read %s: %s", tf->path, full,
                 got >= 0 && (zip_uint64_t)got != st.size ? "truncated" : tf->z->zip_file_strerror_fn(f));
    tf->z->zip_fclose_fn(f);
    if (!ok) {
        free(buf);
        return tf->err->code;
    }
    *out = buf;
    *len = st.size;
    return NST_OK;
}

/* The prefix is the top-level folder holding data.pkl (named after the file
 * by torch.save, but any name is valid). */
static int find_prefix(torch_file *tf) {
    zip_int64_t n = tf->z->zip_get_num_entries_fn(tf->zip, 0);
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = tf->z->zip_get_name_fn(tf->zip, (zip_uint64_t)i, 0);
        const char *slash = name ? strchr(name, '/') : NULL;
        if (slash && strcmp(slash + 1, "data.pkl") == 0 &&
            (size_t)(slash - name) + 1 < sizeof tf->prefix) {
            snprintf(tf->prefix, sizeof tf->prefix, "%.*s", (int)(slash - name + 1), name);
            return NST_OK;
        }
    }
    return nst_fail(tf->err, NST_ERR_FORMAT,
                    "%s: zip archive without <folder>/data.pkl: not a torch.save file", tf->path);
}

static int storage_dtype(const char *type, raw_dtype *dt) {
    if (strcmp(type, "torch.FloatStorage") == 0) *dt = RAW_F32;
    else if (strcmp(type, "torch.HalfStorage") == 0) *dt = RAW_F16;
    else if (strcmp(type, "torch.BFloat16Storage") == 0) *dt = RAW_BF16;
    else return -1;
    return 0;
}

/* Copy the elements of tensor `t` (any strides) into a new float array. */
static int materialize(torch_file *tf, const char *key, pk_obj *t, float **out) {
    pk_obj *s = t->storage;
    raw_dtype dt;
    if (storage_dtype(s->s, &dt))
        return nst_fail(tf->err, NST_ERR_FORMAT,
                        "%s: tensor %s is stored as %s; only float32, float16 and bfloat16 are supported",
                        tf->path, key, s->s);
    if (!s->data) { /* several tensors may share a storage: read it once */
        char name[600];
        snprintf(name, sizeof name, "data/%s", s->key);
        /* never more than the elements the pickle declares */
        zip_uint64_t want = s->i >= 0 && (uint64_t)s->i <= ((uint64_t)1 << 40) / raw_size(dt)
                                ? (zip_uint64_t)s->i * raw_size(dt) : (zip_uint64_t)1 << 40;
        if (read_member(tf, name, want, (unsigned char **)&s->data, &s->nbytes))
            return tf->err->code;
        if (s->nbytes % raw_size(dt) || s->nbytes / raw_size(dt) != (uint64_t)s->i) {
            free(s->data);
            s->data = NULL;
            return nst_fail(tf->err, NST_ERR_FORMAT,
                            "%s: storage %s of tensor %s has %zu bytes, expected %lld elements of %zu bytes",
                            tf->path, s->key, key, s->nbytes, (long long)s->i, raw_size(dt));
        }
    }
    /* the last element, offset + sum (size_d - 1) * stride_d, must lie in the
     * storage; the sum is checked term by term so nothing overflows */
    uint64_t numel = (uint64_t)s->i, count = 1;
    if (t->offset < 0)
        return nst_fail(tf->err, NST_ERR_FORMAT, "%s: tensor %s has a negative storage offset",
                        tf->path, key);
    for (int d = 0; d < t->ndim; d++) {
        if (t->size[d] < 0 || t->stride[d] < 0)
            return nst_fail(tf->err, NST_ERR_FORMAT, "%s: tensor %s has a negative size or stride",
                            tf->path, key);
        uint64_t sz = (uint64_t)t->size[d];
        if (sz && count > (SIZE_MAX / sizeof(float)) / sz)
            return nst_fail(tf->err, NST_ERR_FORMAT, "%s: tensor %s is impossibly large",
                            tf->path, key);
        count *= sz;
    }
    if (count) {
        uint64_t last = (uint64_t)t->offset;
        int past = last >= numel;
        for (int d = 0; d < t->ndim && !past; d++) {
            uint64_t span = (uint64_t)t->size[d] - 1, st = (uint64_t)t->stride[d];
            past = span && st && span > (numel - 1 - last) / st;
            if (!past) last += span * st;
        }
        if (past)
            return nst_fail(tf->err, NST_ERR_FORMAT,
                            "%s: tensor %s reaches past the end of its storage (%llu elements)",
                            tf->path, key, (unsigned long long)numel);
    }
    float *data = malloc(count ? count * sizeof(float) : 1);
    if (!data)
        return nst_fail(tf->err, NST_ERR_NOMEM, "%s: out of memory reading tensor %s", tf->path, key);
    int64_t expect = 1; /* no overflow: with count > 0 the sizes multiply to count */
    int contiguous = 1;
    for (int d = t->ndim - 1; d >= 0 && count; d--) {
        contiguous &= t->size[d] == 1 || t->stride[d] == expect;
        expect *= t->size[d];
    }
    if (contiguous) {
        for (uint64_t i = 0; i < count; i++) data[i] = raw_get(s->data, dt, (uint64_t)t->offset + i);
    } else {
        int64_t idx[NST_MAX_DIMS] = {0};
        for (uint64_t i = 0; i < count; i++) {
            uint64_t off = (uint64_t)t->offset;
            for (int d = 0; d < t->ndim; d++) off += (uint64_t)(idx[d] * t->stride[d]);
            data[i] = raw_get(s->data, dt, off);
            for (int d = t->ndim - 1; d >= 0 && ++idx[d] == t->size[d]; d--) idx[d] = 0;
        }
    }
    if (--s->uses == 0) { /* keep at most the storages still needed in memory */
        free(s->data);
        s->data = NULL;
    }
    *out = data;
    return NST_OK;
}

static int load_dict(torch_file *tf, pk_obj *root, tensor_dict *d) {
    if (root->kind != PK_DICT)
        return nst_fail(tf->err, NST_ERR_FORMAT, "%s: the pickled object is not a dict (a state_dict)",
                        tf->path);
    for (int i = 0; i < root->n; i++)
        if (root->items[2 * i + 1]->kind == PK_TENSOR) root->items[2 * i + 1]->storage->uses++;
    for (int i = 0; i < root->n; i++) {
        pk_obj *k = root->items[2 * i], *v = root->items[2 * i + 1];
        if (k->kind != PK_STR)
            return nst_fail(tf->err, NST_ERR_FORMAT, "%s: state_dict key %d is not a string",
                            tf->path, i);
        if (v->kind != PK_TENSOR)
            return nst_fail(tf->err, NST_ERR_FORMAT, "%s: state_dict entry %s is not a tensor",
                            tf->path, k->s);
        if (dict_get(d, k->s))
            return nst_fail(tf->err, NST_ERR_FORMAT, "%s: duplicate tensor %s", tf->path, k->s);
        float *data = NULL;
        if (materialize(tf, k->s, v, &data)) return tf->err->code;
        if (dict_add(d, k->s, v->ndim, v->size, data, tf->err)) return tf->err->code;
    }
    return NST_OK;
}

int torch_load(const char *path, tensor_dict *out, nst_error *err) {
    torch_file tf = {.path = path, .err = err, .z = zip_lib(err)};
    if (!tf.z) return err->code;
    tensor_dict d = {0};
    int zerr = 0;
    tf.zip = tf.z->zip_open_fn(path, ZIP_RDONLY | ZIP_CHECKCONS, &zerr);
    if (!tf.zip) {
        zip_error_t ze;
        tf.z->zip_error_init_with_code_fn(&ze, zerr);
        FILE *f = fopen(path, "rb");
        int c0 = f ? fgetc(f) : EOF;
        if (f) fclose(f);
        int rc = c0 == 0x80 /* a bare pickle: torch.save before 1.6 */
                     ? nst_fail(err, NST_ERR_FORMAT,
                                "%s: legacy (pre-1.6) torch.save format; re-save it with a newer PyTorch",
                                path)
                 : c0 == 'P' /* "PK": a zip whose end (the central directory) is missing or damaged */
                     ? nst_fail(err, NST_ERR_FORMAT, "%s: truncated or damaged zip archive: %s",
                                path, tf.z->zip_error_strerror_fn(&ze))
                     : nst_fail(err, NST_ERR_FORMAT, "%s: not a torch.save zip archive: %s", path,
                                tf.z->zip_error_strerror_fn(&ze));
        tf.z->zip_error_fini_fn(&ze);
        return rc;
    }
    unsigned char *pkl = NULL, *order = NULL;
    size_t pkl_len = 0, order_len = 0;
    pk_arena arena = {0};
    pk_obj *root;
    int rc = find_prefix(&tf);
    /* byteorder exists since PyTorch 1.13 and is "little" on every common machine */
    char full[600];
    snprintf(full, sizeof full, "%sbyteorder", tf.prefix);
    if (!rc && tf.z->zip_name_locate_fn(tf.zip, full, 0) >= 0) {
        rc = read_member(&tf, "byteorder", 16, &order, &order_len);
        if (!rc && !(order_len == 6 && memcmp(order, "little", 6) == 0))
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: big-endian tensors are not supported", path);
    }
    if (!rc) rc = read_member(&tf, "data.pkl", PKL_MAX, &pkl, &pkl_len);
    if (!rc) rc = pk_load(pkl, pkl_len, path, &arena, &root, err);
    if (!rc) rc = load_dict(&tf, root, &d);
    pk_free(&arena);
    free(pkl);
    free(order);
    tf.z->zip_discard_fn(tf.zip);
    if (rc) {
        dict_free(&d);
        return rc;
    }
    snprintf(d.path, sizeof d.path, "%s", path);
    *out = d;
    return NST_OK;
}
