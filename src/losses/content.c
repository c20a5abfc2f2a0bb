/* content.c: content loss L = w ||F - P||^2 / ||P||^2 (relative squared
 * error, so its scale does not depend on the layer's activation range). */
#include "losses/losses.h"

double content_loss(float weight, size_t n, const float *F, const float *P,
                    double pnorm2, float *dF) {
    /* dL/dF = 2 w (F - P) / ||P||^2 */
    const float k = (float)(2.0 * weight / pnorm2);
    double sum = 0; /* double: n can be millions of terms */
#pragma omp parallel for reduction(+ : sum) schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        float d = F[i] - P[i];
        sum += (double)d * d;
        dF[i] += k * d;
    }
    return weight * sum / pnorm2;
}
