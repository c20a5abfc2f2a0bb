/* losses.h: the losses of style transfer, each returning its value and
 * ADDING its gradient (times `weight`) into a gradient buffer, so several
 * losses can share one buffer. Normalisations (see docs/losses.md):
 *
 *   content  L = w * ||F - P||^2 / ||P||^2           (F, P: C x HW features)
 *   gram     G = F F^T / (C H W)
 *   style    L = w * ||G - A||^2 / ||A||^2           (A: target Gram)
 *   tv       L = w * sum((x[i,j+1]-x[i,j])^2 + (x[i+1,j]-x[i,j])^2) / (C H W)
 *   temporal L = w * sum(m (x - t)^2) / (255^2 C H W)   (video: t the warped
 *            previous frame, m its reliability)
 */
#ifndef NST_LOSSES_H
#define NST_LOSSES_H

#include <stddef.h>

/* content.c: returns w * ||F - P||^2 / ||P||^2; dF += w * 2 (F - P) / ||P||^2.
 * `pnorm2` = ||P||^2 (precomputed once for the target), n = C*H*W. */
double content_loss(float weight, size_t n, const float *F, const float *P,
                    double pnorm2, float *dF);

/* style.c: the style loss from the Gram matrix G = F F^T / (C n) of C x n
 * features (plan_gram computes it on the loss network's layout): returns
 * w * ||G - A||^2 / ||A||^2 and adds dG' = w * 4 (G - A) / (||A||^2 C n)
 * into dG, the matrix for which
 * dF = dG' F (applied by the caller, e.g. on the loss network's layout).
 * A guided Gram matrix G = F diag(m) F^T / (C n) with n = sum m has
 * dF = dG' F diag(m) with the same dG'. */
double style_loss_gram(float weight, int C, double n, const float *G, const float *A,
                       double anorm2, float *dG);

/* tv.c: total variation of a c x h x w image (squared differences of
 * neighbours, normalised by c*h*w); returns w * TV, dx += its gradient. */
double tv_loss(float weight, int c, int h, int w, const float *x, float *dx);

/* temporal.c: returns w * sum_i m_i (x_i - t_i)^2 / (255^2 n) over n values
 * (x, t in 0..255); dx += its gradient 2 w m (x - t) / (255^2 n). */
double temporal_loss(float weight, size_t n, const float *x, const float *t, const float *m,
                     float *dx);

#endif
