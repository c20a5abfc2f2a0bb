/* color.c: colour control of a transfer.
 *
 * nst_image_keep_colors, luminance-only transfer as neural-style's
 * original_colors: convert both images to YUV (BT.601), keep the styled
 * image's Y and the content's U and V, convert back. With the exact inverse
 * transform that is adding the luminance difference to every channel of the
 * content, because the Y weights sum to 1 and U, V are multiples of B - Y
 * and R - Y. Values are not clamped; saving clamps.
 *
 * nst_image_match_colors, colour histogram matching (nst.h): the moments in
 * double, the symmetric square roots through a Jacobi eigendecomposition. */
#include <math.h>

#include "nst.h"

void nst_image_keep_colors(nst_image *styled, const nst_image *content) {
    size_t n = (size_t)styled->w * styled->h;
    float *s = styled->data;
    const float *c = content->data;
    for (size_t i = 0; i < n; i++) {
        float ys = 0.299f * s[i] + 0.587f * s[n + i] + 0.114f * s[2 * n + i];
        float yc = 0.299f * c[i] + 0.587f * c[n + i] + 0.114f * c[2 * n + i];
        for (int k = 0; k < 3; k++) s[k * n + i] = c[k * n + i] + (ys - yc);
    }
}

/* The mean and covariance of an image's RGB colours. */
static void moments(const nst_image *img, double mu[3], double cov[3][3]) {
    size_t n = (size_t)img->w * img->h;
    const float *d = img->data;
    for (int a = 0; a < 3; a++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) s += d[a * n + i];
        mu[a] = s / n;
    }
    for (int a = 0; a < 3; a++)
        for (int b = a; b < 3; b++) {
            double s = 0;
            for (size_t i = 0; i < n; i++) s += (d[a * n + i] - mu[a]) * (d[b * n + i] - mu[b]);
            cov[a][b] = cov[b][a] = s / n;
        }
}

/* S = V diag(lambda) V^T for a symmetric 3x3 S, by cyclic Jacobi rotations. */
static void eigen_sym3(const double s[3][3], double lambda[3], double v[3][3]) {
    double a[3][3];
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) a[i][j] = s[i][j], v[i][j] = i == j;
    for (int sweep = 0; sweep < 50; sweep++) {
        double off = fabs(a[0][1]) + fabs(a[0][2]) + fabs(a[1][2]);
        if (off < 1e-15 * (fabs(a[0][0]) + fabs(a[1][1]) + fabs(a[2][2]) + 1e-300)) break;
        for (int p = 0; p < 2; p++)
            for (int q = p + 1; q < 3; q++) {
                if (a[p][q] == 0) continue;
                /* the rotation that zeroes a[p][q] */
                double th = (a[q][q] - a[p][p]) / (2 * a[p][q]);
                double t = (th >= 0 ? 1 : -1) / (fabs(th) + sqrt(th * th + 1));
                double c = 1 / sqrt(t * t + 1), sn = t * c;
                for (int k = 0; k < 3; k++) { /* a = a R */
                    double x = a[k][p], y = a[k][q];
                    a[k][p] = c * x - sn * y, a[k][q] = sn * x + c * y;
                }
                for (int k = 0; k < 3; k++) { /* a = R^T a */
                    double x = a[p][k], y = a[q][k];
                    a[p][k] = c * x - sn * y, a[q][k] = sn * x + c * y;
                }
                for (int k = 0; k < 3; k++) { /* v = v R */
                    double x = v[k][p], y = v[k][q];
                    v[k][p] = c * x - sn * y, v[k][q] = sn * x + c * y;
                }
            }
    }
    for (int i = 0; i < 3; i++) lambda[i] = a[i][i];
}

/* out = V diag(f(lambda)) V^T with f(l) = l^power (l floored at eps, so a
 * flat image's zero variance does not divide by zero) */
static void sym_power(const double s[3][3], double power, double out[3][3]) {
    double l[3], v[3][3];
    eigen_sym3(s, l, v);
    for (int k = 0; k < 3; k++) l[k] = pow(l[k] > 1e-6 ? l[k] : 1e-6, power);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double x = 0;
            for (int k = 0; k < 3; k++) x += v[i][k] * l[k] * v[j][k];
            out[i][j] = x;
        }
}

void nst_image_color_control(nst_image *styled, const nst_image *photo, int mode) {
    if (mode == NST_COLOR_LUMINANCE) nst_image_keep_colors(styled, photo);
    else if (mode == NST_COLOR_HISTOGRAM) nst_image_match_colors(styled, photo);
}

void nst_image_match_colors(nst_image *img, const nst_image *target) {
    double mu_i[3], mu_t[3], cov_i[3][3], cov_t[3][3], root_t[3][3], inv_root_i[3][3], a[3][3];
    moments(img, mu_i, cov_i);
    moments(target, mu_t, cov_t);
    sym_power(cov_t, 0.5, root_t);
    sym_power(cov_i, -0.5, inv_root_i);
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++) {
            double x = 0;
            for (int k = 0; k < 3; k++) x += root_t[i][k] * inv_root_i[k][j];
            a[i][j] = x;
        }
    size_t n = (size_t)img->w * img->h;
    float *d = img->data;
    for (size_t i = 0; i < n; i++) {
        double x[3] = {d[i] - mu_i[0], d[n + i] - mu_i[1], d[2 * n + i] - mu_i[2]};
        for (int k = 0; k < 3; k++) {
            double y = mu_t[k] + a[k][0] * x[0] + a[k][1] * x[1] + a[k][2] * x[2];
            d[k * n + i] = (float)(y < 0 ? 0 : y > 255 ? 255 : y);
        }
    }
}
