/* regions.c: a mask image turned into per-region weights (nst.h, "regions"),
 * and the blend of per-region pictures by those weights. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "image/resize.h"

int nst_mask_label(const char *label, float rgb[3], nst_error *err) {
    static const struct {
        const char *name;
        unsigned char rgb[3];
    } names[] = {{"black", {0, 0, 0}},       {"white", {255, 255, 255}}, {"grey", {128, 128, 128}},
                 {"gray", {128, 128, 128}},  {"red", {255, 0, 0}},       {"green", {0, 255, 0}},
                 {"blue", {0, 0, 255}},      {"yellow", {255, 255, 0}},  {"cyan", {0, 255, 255}},
                 {"magenta", {255, 0, 255}}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (!strcasecmp(label, names[i].name)) {
            for (int c = 0; c < 3; c++) rgb[c] = names[i].rgb[c];
            return NST_OK;
        }
    size_t n = strlen(label);
    if (label[0] == '#' && (n == 4 || n == 7) && strspn(label + 1, "0123456789abcdefABCDEF") == n - 1) {
        int d = n == 4 ? 1 : 2;
        for (int c = 0; c < 3; c++) {
            char hex[3] = {label[1 + c * d], label[d == 2 ? 2 + c * d : 1 + c * d], 0};
            rgb[c] = (float)strtol(hex, NULL, 16);
        }
        return NST_OK;
    }
    if (n >= 1 && n <= 3 && strspn(label, "0123456789") == n && atoi(label) <= 255) {
        rgb[0] = rgb[1] = rgb[2] = (float)atoi(label);
        return NST_OK;
    }
    return nst_fail(err, NST_ERR_ARG,
                    "mask label '%s': expected #rrggbb, #rgb, a grey level 0..255 or one of black, white, "
                    "grey, red, green, blue, yellow, cyan, magenta", label);
}

static int is_grey(const float rgb[3]) { return fabsf(rgb[0] - rgb[1]) < 1 && fabsf(rgb[1] - rgb[2]) < 1; }

/* Soft weights of a grey mask: v between the levels lo < hi of two labels
 * adjacent in level goes (hi - v) / (hi - lo) to lo's region, the rest to
 * hi's; below the lowest or above the highest level, all to that label. */
static void grey_weights(const float *v, size_t np, const float (*labels)[3], int n, float *wt) {
    int order[NST_MAX_REGIONS];
    for (int i = 0; i < n; i++) order[i] = i;
    for (int i = 1; i < n; i++) /* insertion sort by level */
        for (int j = i; j > 0 && labels[order[j]][0] < labels[order[j - 1]][0]; j--) {
            int t = order[j];
            order[j] = order[j - 1], order[j - 1] = t;
        }
    for (size_t p = 0; p < np; p++) {
        float x = v[p];
        int k = 0;
        while (k < n - 1 && x > labels[order[k + 1]][0]) k++;
        int a = order[k], b = order[k < n - 1 ? k + 1 : k];
        float lo = labels[a][0], hi = labels[b][0];
        float t = hi > lo ? fminf(fmaxf((x - lo) / (hi - lo), 0), 1) : 0;
        wt[(size_t)a * np + p] += 1 - t;
        wt[(size_t)b * np + p] += t;
    }
}

/* Hard weights: each pixel to the label nearest its colour (RGB distance). */
static void nearest_weights(const float *rgb, size_t np, const float (*labels)[3], int n, float *wt) {
    for (size_t p = 0; p < np; p++) {
        int best = 0;
        float bd = INFINITY;
        for (int r = 0; r < n; r++) {
            float d = 0;
            for (int c = 0; c < 3; c++) {
                float e = rgb[(size_t)c * np + p] - labels[r][c];
                d += e * e;
            }
            if (d < bd) bd = d, best = r;
        }
        wt[(size_t)best * np + p] = 1;
    }
}

/* In-place box blur of radius r along one axis of a plane (n values, stride
 * s), by a running sum; the window is cut at the edges and renormalised. */
static void box_axis(float *x, int n, size_t s, int r, float *tmp) {
    double acc = 0;
    int lo = 0, hi = -1;
    for (int i = 0; i < n; i++) {
        while (hi < i + r && hi < n - 1) acc += x[(size_t)++hi * s];
        while (lo < i - r) acc -= x[(size_t)lo++ * s];
        tmp[i] = (float)(acc / (hi - lo + 1));
    }
    for (int i = 0; i < n; i++) x[(size_t)i * s] = tmp[i];
}

static int feather_planes(float *wt, int n, int w, int h, int r, nst_error *err) {
    float *tmp = malloc(sizeof(float) * (size_t)(w > h ? w : h));
    if (!tmp) return nst_fail(err, NST_ERR_NOMEM, "out of memory feathering a %dx%d mask", w, h);
    for (int k = 0; k < n; k++) {
        float *pl = wt + (size_t)k * w * h;
        for (int y = 0; y < h; y++) box_axis(pl + (size_t)y * w, w, 1, r, tmp);
        for (int x = 0; x < w; x++) box_axis(pl + x, h, (size_t)w, r, tmp);
    }
    free(tmp);
    return NST_OK;
}

int nst_regions_from_mask(const nst_image *mask, const float (*labels)[3], int n, int feather,
                          nst_regions *out, nst_error *err) {
    memset(out, 0, sizeof *out);
    if (n < 1 || n > NST_MAX_REGIONS)
        return nst_fail(err, NST_ERR_ARG, "between 1 and %d regions are needed, not %d", NST_MAX_REGIONS, n);
    if (feather < 0) return nst_fail(err, NST_ERR_ARG, "feather radius %d is negative", feather);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < i; j++)
            if (!memcmp(labels[i], labels[j], sizeof labels[i]))
                return nst_fail(err, NST_ERR_ARG, "two regions have the same label colour (%g, %g, %g)",
                                labels[i][0], labels[i][1], labels[i][2]);
    size_t np = (size_t)mask->w * mask->h;
    float *wt = calloc((size_t)n * np, sizeof *wt);
    if (!wt) return nst_fail(err, NST_ERR_NOMEM, "out of memory for %d regions of %dx%d", n, mask->w, mask->h);
    int grey = 1;
    for (int r = 0; r < n; r++) grey &= is_grey(labels[r]);
    for (size_t p = 0; p < np && grey; p++) {
        const float px[3] = {mask->data[p], mask->data[np + p], mask->data[2 * np + p]};
        grey = is_grey(px);
    }
    if (grey) grey_weights(mask->data, np, labels, n, wt);
    else nearest_weights(mask->data, np, labels, n, wt);
    /* a label no pixel carries is almost surely a mistyped colour */
    for (int r = 0; r < n; r++) {
        double sum = 0;
        for (size_t p = 0; p < np; p++) sum += wt[(size_t)r * np + p];
        if (sum < 0.5) {
            free(wt);
            return nst_fail(err, NST_ERR_ARG, "no pixel of the mask has the label colour #%02x%02x%02x",
                            (int)labels[r][0], (int)labels[r][1], (int)labels[r][2]);
        }
    }
    int rc = feather > 0 ? feather_planes(wt, n, mask->w, mask->h, feather, err) : NST_OK;
    if (rc) {
        free(wt);
        return rc;
    }
    *out = (nst_regions){n, mask->w, mask->h, wt};
    return NST_OK;
}

void nst_regions_free(nst_regions *r) {
    if (!r) return;
    free(r->weight);
    memset(r, 0, sizeof *r);
}

int nst_regions_blend(const nst_regions *r, const nst_image *const *images, const nst_image *photo,
                      nst_image *out, nst_error *err) {
    int w = photo->w, h = photo->h;
    for (int k = 0; k < r->n; k++)
        if (images[k] && (images[k]->w != w || images[k]->h != h))
            return nst_fail(err, NST_ERR_ARG, "region %d's picture is %dx%d, the photo %dx%d", k + 1,
                            images[k]->w, images[k]->h, w, h);
    size_t np = (size_t)w * h;
    float *m = malloc((size_t)r->n * np * sizeof *m);
    if (!m) return nst_fail(err, NST_ERR_NOMEM, "out of memory blending %d regions", r->n);
    int rc = resize_planes(r->weight, r->n, r->w, r->h, m, w, h, err);
    if (!rc) rc = nst_image_alloc(out, w, h, err);
    if (!rc) {
        memset(out->data, 0, 3 * np * sizeof *out->data);
        for (int k = 0; k < r->n; k++) {
            const float *src = images[k] ? images[k]->data : photo->data;
            const float *mk = m + (size_t)k * np;
            for (int c = 0; c < 3; c++)
                for (size_t p = 0; p < np; p++) out->data[c * np + p] += mk[p] * src[c * np + p];
        }
    }
    free(m);
    return rc;
}
