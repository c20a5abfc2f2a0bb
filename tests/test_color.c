/* test_color.c: colour control.
 *   - nst_image_match_colors gives an image the mean and covariance of the
 *     target's RGB colours: exactly (1e-3 relative) when nothing clips, on
 *     synthetic images with correlated channels; within a few per cent for
 *     The Starry Night recoloured to tubingen's colours (a little clips at
 *     0 and 255);
 *     matching an image to itself changes nothing;
 *   - nst_stylize with NST_COLOR_HISTOGRAM paints in the photo's colours:
 *     its result's colour mean is nearer the photo's than without;
 *     NST_COLOR_LUMINANCE keeps the photo's chrominance exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void moments(const nst_image *img, double mu[3], double cov[9]) {
    size_t n = (size_t)img->w * img->h;
    for (int a = 0; a < 3; a++) {
        mu[a] = 0;
        for (size_t i = 0; i < n; i++) mu[a] += img->data[a * n + i];
        mu[a] /= n;
    }
    for (int a = 0; a < 3; a++)
        for (int b = 0; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (img->data[a * n + i] - mu[a]) * (img->data[b * n + i] - mu[b]);
            cov[a * 3 + b] = s / n;
        }
}

/* worst |cov - want| relative to the largest variance of want, and the worst mean difference */
static void compare(const nst_image *img, const nst_image *target, double *dmean, double *dcov) {
    double m1[3], c1[9], m2[3], c2[9], scale = 0;
    moments(img, m1, c1);
    moments(target, m2, c2);
    *dmean = *dcov = 0;
    for (int k = 0; k < 3; k++) *dmean = fmax(*dmean, fabs(m1[k] - m2[k])), scale = fmax(scale, c2[k * 4]);
    for (int k = 0; k < 9; k++) *dcov = fmax(*dcov, fabs(c1[k] - c2[k]) / scale);
}

/* w x h pixels, channels mixed by m from three uniform sources on [-r, r] around mu */
static void synthetic(nst_image *img, int w, int h, const double mu[3], const double m[9], double r,
                      unsigned seed) {
    nst_error err;
    CHECK(nst_image_alloc(img, w, h, &err) == 0, "%s", err.msg);
    size_t n = (size_t)w * h;
    srand(seed);
    for (size_t i = 0; i < n; i++) {
        double u[3];
        for (int k = 0; k < 3; k++) u[k] = r * (2.0 * rand() / RAND_MAX - 1);
        for (int k = 0; k < 3; k++)
            img->data[k * n + i] = (float)(mu[k] + m[k * 3] * u[0] + m[k * 3 + 1] * u[1] + m[k * 3 + 2] * u[2]);
    }
}

static void match_synthetic(void) {
    nst_image a, b;
    synthetic(&a, 97, 61, (double[]){120, 100, 90}, (double[]){1, 0.5, 0, 0.2, 1, 0.3, 0, 0.4, 0.8}, 20, 1);
    synthetic(&b, 64, 80, (double[]){140, 130, 110}, (double[]){0.7, 0, 0.6, 0.5, 0.9, 0, 0.1, 0.3, 1.2}, 25, 2);
    double dm, dc;
    compare(&a, &b, &dm, &dc);
    CHECK(dm > 10 && dc > 0.1, "the two images start apart: mean %.2f, cov %.3f", dm, dc);
    nst_image_match_colors(&a, &b);
    compare(&a, &b, &dm, &dc);
    printf("  synthetic: mean off by %.2g, covariance by %.2g (relative)\n", dm, dc);
    CHECK(dm < 1e-3 && dc < 1e-3, "matched: mean off by %g, covariance by %g", dm, dc);
    /* matching an image to itself is the identity */
    nst_image c;
    nst_error err;
    CHECK(nst_image_alloc(&c, b.w, b.h, &err) == 0, "%s", err.msg);
    memcpy(c.data, b.data, (size_t)3 * b.w * b.h * sizeof(float));
    nst_image_match_colors(&c, &b);
    float worst = 0;
    for (size_t i = 0; i < (size_t)3 * b.w * b.h; i++) worst = fmaxf(worst, fabsf(c.data[i] - b.data[i]));
    CHECK(worst < 1e-3f, "matched to itself: a pixel moved by %g", worst);
    nst_image_free(&a);
    nst_image_free(&b);
    nst_image_free(&c);
}

/* as stylize's histogram mode does it: the painting recoloured to the photo */
static void match_paintings(const nst_image *photo, const nst_image *painting) {
    nst_image x;
    nst_error err;
    CHECK(nst_image_resize(painting, painting->w, painting->h, &x, &err) == 0, "%s", err.msg);
    nst_image_match_colors(&x, photo);
    double dm, dc;
    compare(&x, photo, &dm, &dc);
    printf("  starry_night to tubingen's colours: mean off by %.2f grey levels, covariance by %.3f\n", dm, dc);
    CHECK(dm < 2 && dc < 0.05, "mean off by %.2f, covariance by %.3f", dm, dc);
    nst_image_free(&x);
}

static void stylize_modes(const nst_image *photo, const nst_image *painting) {
    const char *model = tu_shared("models/darknet-tiny/model.json");
    if (!model) return;
    nst_net *net = NULL;
    nst_error err;
    if (nst_net_load(model, &net, &err)) {
        CHECK(0, "%s", err.msg);
        return;
    }
    nst_image out[3] = {{0}}, small;
    for (int mode = 0; mode < 3; mode++) {
        nst_stylize_params p;
        nst_stylize_params_init(&p);
        nst_stylize_default_layers(&p, net);
        p.size = 128, p.iterations = 40, p.color_transfer = mode;
        CHECK(nst_stylize(net, photo, painting, 1, &p, &out[mode], &err) == 0, "mode %d: %s", mode, err.msg);
    }
    CHECK(nst_image_resize(photo, out[0].w, out[0].h, &small, &err) == 0, "%s", err.msg);
    double dm[3], dc[3];
    for (int mode = 0; mode < 3; mode++) compare(&out[mode], &small, &dm[mode], &dc[mode]);
    printf("  stylize 128 px: colour mean off the photo's by %.1f (none), %.1f (luminance), %.1f (histogram)\n",
           dm[0], dm[1], dm[2]);
    CHECK(dm[2] < dm[0] / 2, "histogram: mean %.1f off the photo's, none %.1f", dm[2], dm[0]);
    /* luminance: the chrominance (here B - Y and R - Y) is the photo's */
    size_t n = (size_t)small.w * small.h;
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        const float *o = out[1].data, *c = small.data;
        double yo = 0.299 * o[i] + 0.587 * o[n + i] + 0.114 * o[2 * n + i];
        double yc = 0.299 * c[i] + 0.587 * c[n + i] + 0.114 * c[2 * n + i];
        worst = fmax(worst, fabs((o[2 * n + i] - yo) - (c[2 * n + i] - yc)));
        worst = fmax(worst, fabs((o[i] - yo) - (c[i] - yc)));
    }
    CHECK(worst < 1e-3, "luminance: the chrominance moved by %g", worst);
    for (int mode = 0; mode < 3; mode++) nst_image_free(&out[mode]);
    nst_image_free(&small);
    nst_net_free(net);
}

int main(void) {
    match_synthetic();
    const char *cpath = tu_shared("images/content/tubingen.jpg");
    const char *spath = tu_shared("images/style/starry_night.jpg");
    nst_image photo = {0}, painting = {0};
    nst_error err;
    if (cpath && spath && !nst_image_load(cpath, &photo, &err) && !nst_image_load(spath, &painting, &err)) {
        match_paintings(&photo, &painting);
        stylize_modes(&photo, &painting);
    } else if (cpath && spath) {
        CHECK(0, "%s", err.msg);
    }
    nst_image_free(&photo);
    nst_image_free(&painting);
    return tu_finish();
}
