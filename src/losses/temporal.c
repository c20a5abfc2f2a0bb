/* temporal.c: the short-term temporal loss of Ruder et al. 2016,
 * L = w * sum_i m_i (x_i - t_i)^2 / (255^2 n): the frame x held to the
 * previous result t warped into it, where the flow is reliable (m). Values
 * are taken in 0..1 (the / 255^2), so w compares with the other weights
 * whatever the image range. */
#include "losses/losses.h"

double temporal_loss(float weight, size_t n, const float *x, const float *t, const float *m,
                     float *dx) {
    const double k = weight / (255.0 * 255.0 * (double)n);
    const float k2 = (float)(2 * k);
    double sum = 0;
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float d = x[i] - t[i];
        sum += (double)m[i] * d * d;
        dx[i] += k2 * m[i] * d;
    }
    return k * sum;
}
