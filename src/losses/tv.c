/* tv.c: total variation TV = sum over c, i, j of (x[i,j+1] - x[i,j])^2 +
 * (x[i+1,j] - x[i,j])^2 / (c h w), a smoothness prior that suppresses the
 * high-frequency noise the loss network does not see. */
#include "losses/losses.h"

double tv_loss(float weight, int c, int h, int w, const float *x, float *dx) {
    /* Each difference d = x[b] - x[a] contributes 2 k d to dx[b] and -2 k d to
     * dx[a]; gathering per pixel (differences to all four neighbours) lets
     * rows be processed in parallel without write conflicts. */
    const float k = (float)(2.0 * weight / ((double)c * h * w));
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static) if ((long)c * h * w > 65536)
    for (int r = 0; r < c * h; r++) {
        const int i = r % h;
        const float *row = x + (size_t)r * w;
        float *drow = dx + (size_t)r * w;
        for (int j = 0; j < w; j++) {
            const float v = row[j];
            float g = 0;
            if (j + 1 < w) {
                const float d = row[j + 1] - v;
                sum += (double)d * d;
                g -= d;
            }
            if (i + 1 < h) {
                const float d = row[j + w] - v;
                sum += (double)d * d;
                g -= d;
            }
            if (j > 0) g += v - row[j - 1];
            if (i > 0) g += v - row[j - w];
            drow[j] += k * g;
        }
    }
    return weight * sum / ((double)c * h * w);
}
