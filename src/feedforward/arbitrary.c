/* arbitrary.c: any painting in one pass (see nst.h, "arbitrary style"):
 * loading the pair, the style vector of a painting, painting a photo.
 *
 * The transfer network halves the image twice with stride-2 'VALID'
 * convolutions after reflect padding, so a side that is not a multiple of
 * 4 would come back at another size: the photo is extended to multiples of
 * 4 by repeating its last row and column and the result cropped back. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/util.h"
#include "feedforward/apply.h"
#include "feedforward/arbitrary.h"
#include "graph/plan.h"
#include "io/tflite.h"

static int is_dir(const char *p) {
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* In dir, the file whose name starts with `prefix` and ends in .tflite;
 * among several, the one containing `prefer` (NULL: the first by name). */
static int find_model(const char *dir, const char *prefix, const char *prefer, char *out, size_t n) {
    DIR *d = opendir(dir);
    if (!d) return 0;
    char best[256] = "";
    int best_pref = -1;
    for (struct dirent *e; (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, strlen(prefix)) || len < 7 || strcmp(e->d_name + len - 7, ".tflite") ||
            len >= sizeof best)
            continue;
        int pref = prefer && strstr(e->d_name, prefer) != NULL;
        if (pref > best_pref || (pref == best_pref && strcmp(e->d_name, best) < 0))
            snprintf(best, sizeof best, "%s", e->d_name), best_pref = pref;
    }
    closedir(d);
    return best[0] && !path_printf(out, n, "%s/%s", dir, best);
}

/* The output of the predictor: a vector, one 1 x 1 map of `size` channels. */
static int check_pair(nst_arbitrary *a, const char *dir, nst_error *err) {
    const node *last = &a->predict.nodes[a->predict.n_nodes - 1];
    a->size = last->cout;
    if (a->predict.image_out || a->predict.n_inputs != 1 || a->size > NST_STYLE_VECTOR_MAX)
        return nst_fail(err, NST_ERR_FORMAT, "%s: not a style predictor (it should turn an image "
                        "into a style vector)", a->predict.path);
    if (!a->transfer.image_out || a->transfer.n_inputs != 2 || a->transfer.input_c[1] != a->size)
        return nst_fail(err, NST_ERR_FORMAT, "%s: not a transfer network for the %d-long style "
                        "vectors of %s (in %s)", a->transfer.path, a->size, a->predict.path, dir);
    return NST_OK;
}

int nst_arbitrary_load(const char *path, nst_arbitrary **out, nst_error *err) {
    *out = NULL;
    char dir[NST_PATH_MAX], pred[NST_PATH_MAX], xfer[NST_PATH_MAX];
    if (path_printf(dir, sizeof dir, "%s", path))
        return nst_fail(err, NST_ERR_ARG, "%s: path too long", path);
    if (!is_dir(dir)) {
        char *slash = strrchr(dir, '/');
        if (slash) *slash = 0;
        else snprintf(dir, sizeof dir, ".");
    }
    if (!find_model(dir, "style_predict", NULL, pred, sizeof pred) ||
        !find_model(dir, "style_transfer", "f16", xfer, sizeof xfer))
        return nst_fail(err, NST_ERR_IO, "%s: no style_predict*.tflite and style_transfer*.tflite "
                        "pair there (install it with: nst models install magenta-arbitrary)", dir);
    nst_arbitrary *a = calloc(1, sizeof *a);
    if (!a) return nst_fail(err, NST_ERR_NOMEM, "out of memory loading %s", dir);
    int rc = tflite_load(pred, &a->predict, err);
    if (!rc) rc = tflite_load(xfer, &a->transfer, err);
    if (!rc) rc = check_pair(a, dir, err);
    if (rc) {
        nst_arbitrary_free(a);
        return rc;
    }
    *out = a;
    return NST_OK;
}

void nst_arbitrary_free(nst_arbitrary *a) {
    if (!a) return;
    graph_free(&a->predict);
    graph_free(&a->transfer);
    free(a);
}

int nst_style_vector_size(const nst_arbitrary *a) { return a->size; }

static int style_vector(const nst_arbitrary *a, const nst_image *painting, float *v, nst_error *err) {
    /* short side to 256, then the centre 256 x 256 */
    int S = ARB_STYLE_SIDE, w, h;
    if (painting->w <= painting->h) w = S, h = (int)lround((double)painting->h * S / painting->w);
    else h = S, w = (int)lround((double)painting->w * S / painting->h);
    if (w < S) w = S;
    if (h < S) h = S;
    nst_image r = {0}, crop = {0};
    int rc = nst_image_resize(painting, w, h, &r, err);
    if (!rc) rc = nst_image_alloc(&crop, S, S, err);
    if (!rc) {
        int x0 = (w - S) / 2, y0 = (h - S) / 2;
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < S; y++)
                memcpy(crop.data + ((size_t)c * S + y) * S, r.data + ((size_t)c * h + y0 + y) * w + x0,
                       S * sizeof(float));
        static const plan_opts infer;
        plan p;
        rc = plan_create(&p, &a->predict, 1, S, S, &infer, err);
        if (!rc) {
            plan_forward(&p, crop.data, 0);
            plan_vector(&p, 0, v, a->size);
            plan_destroy(&p);
        }
    }
    nst_image_free(&r);
    nst_image_free(&crop);
    return rc;
}

int nst_style_vector(const nst_arbitrary *a, const nst_image *painting, float *v, nst_error *err) {
    dn_run_reset();
    return dn_run_status(style_vector(a, painting, v, err), err);
}

int nst_style_vector_of_file(const nst_arbitrary *a, const char *path, float *v, nst_error *err) {
    size_t n = strlen(path);
    if (n > 5 && !strcmp(path + n - 5, ".json")) return nst_style_vector_load(path, v, a->size, err);
    nst_image im = {0};
    int rc = nst_image_load(path, &im, err);
    if (!rc) rc = nst_style_vector(a, &im, v, err);
    nst_image_free(&im);
    return rc;
}

void nst_style_vector_blend(int size, int n, const float *const *vectors, const float *weights,
                            float *v) {
    double wsum = 0;
    for (int k = 0; k < n; k++) wsum += weights ? weights[k] : 1;
    for (int i = 0; i < size; i++) {
        double s = 0;
        for (int k = 0; k < n; k++) s += (weights ? weights[k] : 1) * vectors[k][i];
        v[i] = (float)(s / wsum);
    }
}

/* x extended to multiples of 4 by repeating its last row and column. */
static int extend4(const nst_image *x, nst_image *y, nst_error *err) {
    int W = (x->w + 3) / 4 * 4, H = (x->h + 3) / 4 * 4;
    int rc = nst_image_alloc(y, W, H, err);
    for (int c = 0; c < 3 && !rc; c++)
        for (int r = 0; r < H; r++) {
            const float *src = x->data + ((size_t)c * x->h + (r < x->h ? r : x->h - 1)) * x->w;
            float *dst = y->data + ((size_t)c * H + r) * W;
            memcpy(dst, src, (size_t)x->w * sizeof(float));
            for (int q = x->w; q < W; q++) dst[q] = src[x->w - 1];
        }
    return rc;
}

static int arbitrary_apply(const nst_arbitrary *a, const nst_image *in, const float *style,
                           const nst_apply_params *p, nst_image *out, nst_error *err) {
    int rc = apply_check(p, err);
    if (rc) return rc;
    int W = in->w, H = in->h;
    if (p->size) nst_image_fit(in->w, in->h, p->size, &W, &H);
    float v[NST_STYLE_VECTOR_MAX];
    memcpy(v, style, (size_t)a->size * sizeof *v);
    nst_image x = {0}, x4 = {0}, y4 = {0};
    rc = nst_image_resize(in, W, H, &x, err);
    if (!rc && p->strength < 1) { /* v = s v_painting + (1 - s) v_photo */
        float own[NST_STYLE_VECTOR_MAX];
        rc = nst_style_vector(a, &x, own, err);
        for (int i = 0; i < a->size && !rc; i++) v[i] = p->strength * v[i] + (1 - p->strength) * own[i];
    }
    if (!rc) rc = extend4(&x, &x4, err);
    if (!rc) rc = nst_image_alloc(&y4, x4.w, x4.h, err);
    const painter pt = {&a->transfer, v};
    if (!rc) rc = apply_graph(&pt, &x4, p->tile ? p->tile : ARB_AUTO_TILE, &y4, err);
    if (!rc) rc = nst_image_alloc(out, W, H, err);
    for (int c = 0; c < 3 && !rc; c++)
        for (int r = 0; r < H; r++)
            memcpy(out->data + ((size_t)c * H + r) * W, y4.data + ((size_t)c * y4.h + r) * y4.w,
                   (size_t)W * sizeof(float));
    if (!rc) nst_image_color_control(out, &x, p->color_transfer);
    nst_image_free(&x);
    nst_image_free(&x4);
    nst_image_free(&y4);
    return rc;
}

int nst_arbitrary_apply(const nst_arbitrary *a, const nst_image *in, const float *style,
                        const nst_apply_params *p, nst_image *out, nst_error *err) {
    dn_run_reset();
    return dn_run_status(arbitrary_apply(a, in, style, p, out, err), err);
}
