/* activation.c: ReLU (alpha = 0), LeakyReLU and the scaled tanh output.
 *   y = x > 0 ? x : alpha x;   dx = dy * (y > 0 ? 1 : alpha)
 * The backward pass reads y (same sign as x for alpha >= 0), so the input
 * need not be kept; both loops are elementwise and may run in place. */
#include <math.h>

#include "layers/layers.h"

void act_forward(float alpha, size_t n, const float *in, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : alpha * in[i];
}

void act_backward(float alpha, size_t n, const float *out, const float *dout,
                  float *din) {
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}

/* The generators' output map: y = a tanh(x) + b (a 150, b 127.5 puts
 * [-1, 1] onto [-22.5, 277.5], the range Johnson et al.'s networks use).
 * tanh' = 1 - tanh^2, and tanh is recovered from y: t = (y - b) / a. */
void tanh_forward(size_t n, float a, float b, const float *x, float *y) {
    for (size_t i = 0; i < n; i++) y[i] = a * tanhf(x[i]) + b;
}

void tanh_backward(size_t n, float a, float b, const float *y, const float *dy,
                   float *dx) {
    for (size_t i = 0; i < n; i++) {
        float t = (y[i] - b) / a;
        dx[i] = dy[i] * a * (1 - t * t);
    }
}
