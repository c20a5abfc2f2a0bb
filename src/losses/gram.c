/* gram.c: Gram matrix G = F F^T / (C H W) of C feature maps of HW pixels. */
#include <cblas.h>

#include "losses/losses.h"

void gram_matrix(int C, int HW, const float *F, float *G) {
    /* syrk computes only the upper triangle (half the flops of sgemm)... */
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasNoTrans, C, HW,
                1.0f / ((float)C * (float)HW), F, HW, 0.0f, G, C);
    /* ...so mirror it: callers (style_loss's sgemm) read the full matrix. */
    for (int i = 1; i < C; i++)
        for (int j = 0; j < i; j++) G[(size_t)i * C + j] = G[(size_t)j * C + i];
}
