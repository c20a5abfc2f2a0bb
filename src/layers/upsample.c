/* upsample.c: nearest-neighbour upsampling by an integer factor f,
 *   y[n][c][i][j] = x[n][c][i / f][j / f],
 * and its adjoint, dx[n][c][i][j] = sum of dy over the f x f block at
 * (f i, f j). */
#include "layers/layers.h"

void upsample_forward(int n, int c, int h, int w, int f, const float *x, float *y) {
    int ow = w * f;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < n * c * h; p++) { /* one input row -> f output rows */
        const float *xr = x + (size_t)p * w;
        float *yr = y + (size_t)p * f * ow;
        for (int j = 0; j < ow; j++) yr[j] = xr[j / f];
        for (int r = 1; r < f; r++)
            for (int j = 0; j < ow; j++) yr[(size_t)r * ow + j] = yr[j];
    }
}

void upsample_backward(int n, int c, int h, int w, int f, const float *dy, float *dx) {
    int ow = w * f;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < n * c * h; p++) {
        const float *dyr = dy + (size_t)p * f * ow;
        float *dxr = dx + (size_t)p * w;
        for (int j = 0; j < w; j++) {
            float s = 0;
            for (int r = 0; r < f; r++)
                for (int v = 0; v < f; v++) s += dyr[(size_t)r * ow + (size_t)j * f + v];
            dxr[j] = s;
        }
    }
}
