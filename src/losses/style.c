/* style.c: style loss L = w ||G - A||^2 / ||A||^2 with G = F F^T / (C HW)
 * the Gram matrix of the features and A the target's (possibly blended). */
#include <cblas.h>
#include <string.h>

#include "losses/losses.h"

double style_loss_gram(float weight, int C, double n, const float *G, const float *A,
                       double anorm2, float *dG) {
    /* dL/dG = 2 w (G - A) / ||A||^2 and dG/dF contributes 2 F / (C HW)
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

double style_loss(float weight, int C, int HW, const float *F, const float *A,
                  double anorm2, float *G, float *dG, float *dF) {
    gram_matrix(C, HW, F, G);
    memset(dG, 0, (size_t)C * C * sizeof *dG);
    double loss = style_loss_gram(weight, C, HW, G, A, anorm2, dG);
    /* dF += dG' F: beta = 1 accumulates into the caller's gradient. */
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, C, HW, C, 1.0f, dG, C, F,
                HW, 1.0f, dF, HW);
    return loss;
}
