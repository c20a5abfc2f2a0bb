/* adam.c: Adam with torch.optim.Adam's defaults and update order:
 *   m = b1 m + (1-b1) g,  v = b2 v + (1-b2) g^2,
 *   x -= (lr / (1-b1^t)) * m / (sqrt(v) / sqrt(1-b2^t) + eps). */
#include <math.h>
#include <stdlib.h>

#include "optim/optim.h"

int adam_init(adam_state *s, size_t n, float lr, nst_error *err) {
    *s = (adam_state){.n = n, .lr = lr, .beta1 = 0.9f, .beta2 = 0.999f, .eps = 1e-8f};
    s->m = calloc(n ? n : 1, sizeof *s->m);
    s->v = calloc(n ? n : 1, sizeof *s->v);
    if (!s->m || !s->v) {
        adam_free(s);
        return nst_fail(err, NST_ERR_NOMEM, "Adam: out of memory for %zu parameters", n);
    }
    return 0;
}

void adam_step(adam_state *s, float *x, const float *g) {
    s->t++;
    /* Bias corrections in double, as torch computes them in Python floats. */
    const float step = (float)(s->lr / (1.0 - pow(s->beta1, (double)s->t)));
    const float bc2_sqrt = (float)sqrt(1.0 - pow(s->beta2, (double)s->t));
    const float b1 = s->beta1, b2 = s->beta2, a1 = 1.0f - b1, a2 = 1.0f - b2, eps = s->eps;
    float *m = s->m, *v = s->v;
    const size_t n = s->n;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (size_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + a1 * g[i];
        v[i] = b2 * v[i] + a2 * g[i] * g[i];
        x[i] -= step * (m[i] / (sqrtf(v[i]) / bc2_sqrt + eps));
    }
}

void adam_free(adam_state *s) {
    free(s->m);
    free(s->v);
    s->m = s->v = NULL;
}
