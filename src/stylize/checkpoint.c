/* checkpoint.c: saving and restoring an nst_stylize run (see checkpoint.h). */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "stylize/checkpoint.h"

#define FORMAT "nst-stylize-checkpoint-1"
#define RHO_CHARS 26 /* one %.17g double and a comma */

/* A tensor that borrows its data (the dictionary is never freed). */
static tensor view(const char *name, int64_t rows, size_t n, float *data) {
    tensor t = {.name = (char *)name, .ndim = 2, .shape = {rows, (int64_t)n},
                    .numel = (size_t)rows * n, .data = data};
    return t;
}

int ckpt_save(const char *path, const ckpt_position *pos, const nst_image *x, int optimizer,
              const adam_state *adam, const lbfgs_state *lbfgs, nst_error *err) {
    const size_t n = (size_t)3 * x->w * x->h;
    tensor t[5];
    int nt = 0;
    float *s = NULL, *y = NULL;
    char *rho = NULL;
    t[nt++] = view("image", 1, n, x->data);
    if (optimizer == NST_OPT_ADAM) {
        t[nt++] = view("adam.m", 1, n, adam->m);
        t[nt++] = view("adam.v", 1, n, adam->v);
    } else { /* the ring buffer's pairs, oldest first */
        const int c = lbfgs->count;
        s = malloc(((size_t)c ? c : 1) * n * sizeof *s);
        y = malloc(((size_t)c ? c : 1) * n * sizeof *y);
        rho = malloc((size_t)(c + 1) * RHO_CHARS);
        if (!s || !y || !rho) {
            free(s);
            free(y);
            free(rho);
            return nst_fail(err, NST_ERR_NOMEM, "%s: out of memory for the checkpoint", path);
        }
        rho[0] = 0;
        for (int k = 0, at = 0; k < c; k++) {
            int slot = (lbfgs->head + k) % lbfgs->history;
            memcpy(s + (size_t)k * n, lbfgs->s + (size_t)slot * n, n * sizeof *s);
            memcpy(y + (size_t)k * n, lbfgs->y + (size_t)slot * n, n * sizeof *y);
            at += snprintf(rho + at, RHO_CHARS, "%s%.17g", k ? "," : "", lbfgs->rho[slot]);
        }
        t[nt++] = view("lbfgs.s", c, n, s);
        t[nt++] = view("lbfgs.y", c, n, y);
        t[nt++] = view("lbfgs.d", 1, n, lbfgs->d);
        t[nt++] = view("lbfgs.g_prev", 1, n, lbfgs->g_prev);
    }
    char v[7][64];
    snprintf(v[0], 64, "%d", pos->scale);
    snprintf(v[1], 64, "%d", pos->iteration);
    snprintf(v[2], 64, "%.17g", pos->done_work);
    snprintf(v[3], 64, "%.17g", pos->elapsed);
    snprintf(v[4], 64, "%d", optimizer);
    snprintf(v[5], 64, "%ld", optimizer == NST_OPT_ADAM ? adam->t : lbfgs->t);
    snprintf(v[6], 64, "%.17g", optimizer == NST_OPT_ADAM ? 0.0 : lbfgs->prev_loss);
    const char *meta[] = {"format", FORMAT, "scale", v[0], "iteration", v[1], "done_work", v[2],
                          "elapsed", v[3], "optimizer", v[4], "t", v[5], "prev_loss", v[6],
                          "lbfgs.rho", rho ? rho : ""};
    tensor_dict d = {.count = nt, .cap = nt, .t = t};
    int rc = safetensors_save(path, &d, meta, 9, err);
    free(s);
    free(y);
    free(rho);
    return rc;
}

static const char *meta_str(const cJSON *m, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(m, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* A metadata number; NaN when absent or not a whole number string. */
static double meta_num(const cJSON *m, const char *key) {
    const char *s = meta_str(m, key);
    char *end;
    double v = s ? strtod(s, &end) : 0;
    return s && end != s && !*end ? v : NAN;
}

int ckpt_load(const char *path, int optimizer, ckpt_position *pos, tensor_dict *d,
              nst_error *err) {
    int rc = safetensors_load(path, d, err);
    if (rc) return rc;
    cJSON *m = d->metadata ? cJSON_Parse(d->metadata) : NULL;
    const char *fmt = meta_str(m, "format");
    pos->scale = (int)meta_num(m, "scale");
    pos->iteration = (int)meta_num(m, "iteration");
    pos->done_work = meta_num(m, "done_work");
    pos->elapsed = meta_num(m, "elapsed");
    double opt = meta_num(m, "optimizer");
    if (!fmt || strcmp(fmt, FORMAT) || !(pos->scale >= 1) || !(pos->iteration >= 0) ||
        !(pos->done_work >= 0) || !(pos->elapsed >= 0))
        rc = nst_fail(err, NST_ERR_FORMAT, "%s: not a stylize checkpoint (no \"format\": \"" FORMAT
                      "\" metadata with scale, iteration, done_work and elapsed)", path);
    else if (opt != optimizer)
        rc = nst_fail(err, NST_ERR_ARG, "%s: the checkpoint was written for the %s optimiser",
                      path, opt == NST_OPT_ADAM ? "Adam" : "L-BFGS");
    cJSON_Delete(m);
    if (rc) dict_free(d);
    return rc;
}

/* Copy tensor `name` of rows x n floats into dst; an error when its shape differs. */
static int take(const tensor_dict *d, const char *name, int64_t rows, size_t n, float *dst,
                nst_error *err) {
    const tensor *t = dict_get(d, name);
    if (!t || t->ndim != 2 || t->shape[0] != rows || t->shape[1] != (int64_t)n)
        return nst_fail(err, NST_ERR_FORMAT,
                        "%s: tensor %s is missing or not %lld x %zu: the checkpoint does not "
                        "match these parameters", d->path, name, (long long)rows, n);
    memcpy(dst, t->data, (size_t)rows * n * sizeof *dst);
    return NST_OK;
}

int ckpt_restore(const tensor_dict *d, nst_image *x, int optimizer, adam_state *adam,
                 lbfgs_state *lbfgs, nst_error *err) {
    const size_t n = (size_t)3 * x->w * x->h;
    cJSON *m = cJSON_Parse(d->metadata);
    double t = meta_num(m, "t"), prev_loss = meta_num(m, "prev_loss");
    const char *rho = meta_str(m, "lbfgs.rho");
    int rc = take(d, "image", 1, n, x->data, err);
    if (!rc && !(t >= 0)) rc = nst_fail(err, NST_ERR_FORMAT, "%s: no step count t", d->path);
    if (!rc && optimizer == NST_OPT_ADAM) {
        adam->t = (long)t;
        rc = take(d, "adam.m", 1, n, adam->m, err);
        if (!rc) rc = take(d, "adam.v", 1, n, adam->v, err);
    } else if (!rc) {
        const tensor *s = dict_get(d, "lbfgs.s");
        int c = s && s->ndim == 2 ? (int)s->shape[0] : -1;
        if (c < 0 || c > lbfgs->history)
            rc = nst_fail(err, NST_ERR_FORMAT, "%s: %d L-BFGS pairs, more than the history of %d",
                          d->path, c, lbfgs->history);
        if (!rc) rc = take(d, "lbfgs.s", c, n, lbfgs->s, err);
        if (!rc) rc = take(d, "lbfgs.y", c, n, lbfgs->y, err);
        if (!rc) rc = take(d, "lbfgs.d", 1, n, lbfgs->d, err);
        if (!rc) rc = take(d, "lbfgs.g_prev", 1, n, lbfgs->g_prev, err);
        const char *at = rho ? rho : "";
        for (int k = 0; k < c && !rc; k++) { /* "r0,r1,..." */
            char *end;
            lbfgs->rho[k] = strtod(at, &end);
            if (end == at || (*end != ',' && *end != 0))
                rc = nst_fail(err, NST_ERR_FORMAT, "%s: lbfgs.rho holds fewer than %d numbers",
                              d->path, c);
            at = *end ? end + 1 : end;
        }
        lbfgs->count = rc ? 0 : c;
        lbfgs->head = 0;
        lbfgs_rebuild_dots(lbfgs);
        lbfgs->t = (long)t;
        lbfgs->prev_loss = prev_loss;
    }
    cJSON_Delete(m);
    return rc;
}
