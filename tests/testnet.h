/* testnet.h: a helper of the loss-network tests (test_darknet, test_vgg),
 * apart from testutil.h because models/net.h's names clash with
 * test_layers.c's own. Defined in testutil.c. */
#ifndef NST_TESTNET_H
#define NST_TESTNET_H

#include "models/net.h"

/* The finite-difference objective of the loss-network tests: after
 * plan_forward(plan, x), f = sum_t <F_t, R_t> over layers taps[0..n_taps-1],
 * R_t being the fixture tensor "R/<taps[t]>"; accumulated in double. */
typedef struct {
    plan *plan;
    const tensor_dict *fx;
    const char *const *taps;
    int n_taps;
} tu_net_objective_ctx;
double tu_net_objective(const float *x, void *ctx);

#endif
