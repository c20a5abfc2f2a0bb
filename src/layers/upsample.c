/* upsample.c: nearest-neighbour upsampling by an integer factor f,
 *   y[n][c][i][j] = x[n][c][i / f][j / f],
 * and its adjoint, dx[n][c][i][j] = sum of dy over the f x f block at
 * (f i, f j). In layout `block` a pixel is a vector of `lanes` channels
 * (layers.h), copied or summed whole. */
#include "layers/layers.h"

void upsample_forward(int n, int c, int h, int w, int block, int f, const float *x, float *y) {
    int lanes = block_elems(block, c), rows = n * ((c + lanes - 1) / lanes) * h;
    size_t orow = (size_t)w * f * lanes; /* floats per output row */
#pragma omp parallel for schedule(static)
    for (int p = 0; p < rows; p++) { /* one input row -> f output rows */
        const float *xr = x + (size_t)p * w * lanes;
        float *yr = y + (size_t)p * f * orow;
        for (int j = 0; j < w * f; j++)
            for (int l = 0; l < lanes; l++) yr[(size_t)j * lanes + l] = xr[(size_t)(j / f) * lanes + l];
        for (int r = 1; r < f; r++)
            for (size_t j = 0; j < orow; j++) yr[r * orow + j] = yr[j];
    }
}

void upsample_backward(int n, int c, int h, int w, int block, int f, const float *dy, float *dx) {
    int lanes = block_elems(block, c), rows = n * ((c + lanes - 1) / lanes) * h;
    size_t orow = (size_t)w * f * lanes;
#pragma omp parallel for schedule(static)
    for (int p = 0; p < rows; p++) {
        const float *dyr = dy + (size_t)p * f * orow;
        float *dxr = dx + (size_t)p * w * lanes;
        for (int j = 0; j < w; j++)
            for (int l = 0; l < lanes; l++) {
                float s = 0;
                for (int r = 0; r < f; r++)
                    for (int v = 0; v < f; v++) s += dyr[r * orow + ((size_t)j * f + v) * lanes + l];
                dxr[(size_t)j * lanes + l] = s;
            }
    }
}
