/* test_darknet.c: the whole darknet-tiny loss network (loaded from the real
 * TF.js files in ../shared) forward and backward through a plan, against the
 * independent PyTorch implementation (tests/pytorch/darknet.py), for each
 * padding and pooling mode, and against finite differences. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/net.h"
#include "testnet.h"
#include "testutil.h"

static const char *taps[] = {"conv2d_1",      "leaky_re_lu_1",  "leaky_re_lu_2",
                             "max_pooling2d_2", "leaky_re_lu_4", "leaky_re_lu_8",
                             "leaky_re_lu_10", "leaky_re_lu_12"};
#define NT (int)(sizeof taps / sizeof taps[0])

int main(void) {
    const char *path = tu_shared("models/darknet-tiny");
    if (!path) return tu_finish();
    nst_error err;
    nst_net *net;
    if (nst_net_load(path, &net, &err)) {
        CHECK(0, "load %s: %s", path, err.msg);
        return tu_finish();
    }
    nst_tensor_dict fx;
    tu_load_fixture("darknet.bin", &fx);
    const nst_tensor *image = tu_get(&fx, "image");
    int h = (int)image->shape[1], w = (int)image->shape[2];
    unsigned char *tapped = calloc((size_t)net->n_layers, 1);
    for (int t = 0; t < NT; t++) {
        int idx = nst_net_find_layer(net, taps[t]);
        CHECK(idx >= 0, "layer %s exists", taps[t]);
        if (idx < 0) return tu_finish();
        tapped[idx] = 1;
    }
    const struct { const char *name; int padding, pooling; } modes[] = {
        {"zero_max", NST_PAD_ZERO, NST_POOL_MAX},
        {"reflect_max", NST_PAD_REFLECT, NST_POOL_MAX},
        {"zero_avg", NST_PAD_ZERO, NST_POOL_AVG},
    };
    float *dimage = malloc(image->numel * sizeof(float));
    for (int m = 0; m < 3; m++) {
        net_plan plan;
        if (plan_create(&plan, net, 1, h, w, tapped, modes[m].padding, modes[m].pooling, &err)) {
            CHECK(0, "plan %s: %s", modes[m].name, err.msg);
            continue;
        }
        plan_forward(&plan, image->data);
        plan_zero_loss_grads(&plan);
        char name[128];
        for (int t = 0; t < NT; t++) {
            int idx = nst_net_find_layer(net, taps[t]);
            plan_layer *L = &plan.L[idx];
            snprintf(name, sizeof name, "%s/%s", modes[m].name, taps[t]);
            const nst_tensor *ref = nst_dict_get(&fx, name);
            if (ref) {
                CHECK(ref->numel == (size_t)L->c * L->h * L->w, "%s: shape %dx%dx%d", name, L->c, L->h, L->w);
                if (ref->numel == (size_t)L->c * L->h * L->w) tu_rel_close(name, L->out, ref->data, ref->numel, 2e-5);
            }
            snprintf(name, sizeof name, "R/%s", taps[t]);
            const nst_tensor *r = tu_get(&fx, name);
            memcpy(L->loss_grad, r->data, r->numel * sizeof(float));
        }
        plan_backward(&plan, dimage);
        snprintf(name, sizeof name, "%s/dimage", modes[m].name);
        tu_rel_close(name, dimage, tu_get(&fx, name)->data, image->numel, 2e-5);
        if (m == 0) {
            tu_net_objective_ctx ctx = {&plan, &fx, taps, NT};
            float *x = malloc(image->numel * sizeof(float));
            memcpy(x, image->data, image->numel * sizeof(float));
            tu_check_dir_grad("darknet d<F,R>/dimage", tu_net_objective, &ctx, x, dimage,
                              image->numel, 8, 0.05f, 1e-2);
            free(x);
        }
        plan_destroy(&plan);
    }
    free(dimage);
    free(tapped);
    nst_dict_free(&fx);
    nst_net_free(net);
    return tu_finish();
}
