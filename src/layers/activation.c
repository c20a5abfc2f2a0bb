/* activation.c: ReLU (alpha = 0) and LeakyReLU.
 *   y = x > 0 ? x : alpha x;   dx = dy * (y > 0 ? 1 : alpha)
 * The backward pass reads y (same sign as x for alpha >= 0), so the input
 * need not be kept; both loops are elementwise and may run in place. */
#include "layers/layers.h"

void act_forward(float alpha, size_t n, const float *in, float *out) {
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0 ? in[i] : alpha * in[i];
}

void act_backward(float alpha, size_t n, const float *out, const float *dout,
                  float *din) {
    for (size_t i = 0; i < n; i++) din[i] = out[i] > 0 ? dout[i] : alpha * dout[i];
}
