/* tensor_dict.c: named float32 tensors, the common output of weight readers. */
#include <stdlib.h>
#include <string.h>

#include "io/io.h"

const tensor *dict_get(const tensor_dict *d, const char *name) {
    for (int i = 0; i < d->count; i++)
        if (strcmp(d->t[i].name, name) == 0) return &d->t[i];
    return NULL;
}

int dict_add(tensor_dict *d, const char *name, int ndim,
                 const int64_t *shape, float *data, nst_error *err) {
    if (ndim < 0 || ndim > NST_MAX_DIMS) {
        free(data);
        return nst_fail(err, NST_ERR_FORMAT, "tensor %s has %d dimensions (at most %d supported)",
                        name, ndim, NST_MAX_DIMS);
    }
    if (d->count == d->cap) {
        int cap = d->cap ? 2 * d->cap : 16;
        tensor *t = realloc(d->t, (size_t)cap * sizeof *t);
        if (!t) {
            free(data);
            return nst_fail(err, NST_ERR_NOMEM, "out of memory reading tensor %s", name);
        }
        d->t = t;
        d->cap = cap;
    }
    tensor *t = &d->t[d->count];
    memset(t, 0, sizeof *t);
    t->name = strdup(name);
    if (!t->name) {
        free(data);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory reading tensor %s", name);
    }
    t->ndim = ndim;
    t->numel = 1;
    for (int k = 0; k < ndim; k++) {
        t->shape[k] = shape[k];
        t->numel *= (size_t)shape[k];
    }
    t->data = data;
    d->count++;
    return NST_OK;
}

void dict_free(tensor_dict *d) {
    for (int i = 0; i < d->count; i++) {
        free(d->t[i].name);
        free(d->t[i].data);
    }
    free(d->t);
    free(d->metadata);
    memset(d, 0, sizeof *d);
}
