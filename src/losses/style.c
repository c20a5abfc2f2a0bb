/* style.c: style loss L = w ||G - A||^2 / ||A||^2 with G = F F^T / (C n)
 * the Gram matrix of the features and A the target's (possibly blended). */
#include "losses/losses.h"

double style_loss_gram(float weight, int C, double n, const float *G, const float *A,
                       double anorm2, float *dG) {
    /* dL/dG = 2 w (G - A) / ||A||^2 and dG/dF contributes 2 F / (C n)
     * (G symmetric), so dL/dF = dG' F with dG' = 4 w (G - A) / (||A||^2 C n). */
    const size_t cc = (size_t)C * C;
    const float k = (float)(4.0 * weight / (anorm2 * C * n));
    double sum = 0; /* double: C^2 terms of very different sizes */
    for (size_t i = 0; i < cc; i++) {
        float d = G[i] - A[i];
        sum += (double)d * d;
        dG[i] += k * d;
    }
    return weight * sum / anorm2;
}
