/* train.h: one iteration of nst train, shared by nst_train (train.c) and the
 * benchmark (bench/bench_feedforward.c), so that both run the same step. */
#ifndef NST_TRAIN_H
#define NST_TRAIN_H

#include "models/generator.h"
#include "optim/optim.h"
#include "stylize/loss_engine.h"

/* On the batch x (gp's shape, n x 3 x crop x crop): content targets from x
 * on np, y = generator(x), the loss of y and dL/dy into dy, dL/dparams into
 * grads, an Adam step on the generator's parameters. *loss gets the total
 * (weighted terms in lt); when it is not finite nothing is updated and the
 * caller reports it. dp (or NULL) with dp->shards > 1: the gradients and
 * loss terms are averaged over the shards first (grads then holds
 * n_params + 5 floats: the terms and a failure count). Fails when out of memory or the sum fails. */
int train_step(loss_engine *e, plan *np, plan *gp, adam_state *adam, const float *x,
               float *dy, float *grads, const nst_train_params *dp, double *loss, loss_terms *lt,
               nst_error *err);

#endif
