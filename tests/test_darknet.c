/* test_darknet.c: the whole darknet-tiny loss network (loaded from the real
 * TF.js files in ../shared) forward and backward through a plan, against the
 * independent PyTorch implementation (tests/pytorch/darknet.py), for each
 * padding and pooling mode, and against finite differences; and in bfloat16
 * (--precision bf16) against the same float32 reference, within bfloat16's
 * rounding (8 significant bits, compounded over 13 convolutions). */
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
    const struct {
        const char *name, *ref; /* the mode, its reference in the fixture */
        int padding, pooling, precision;
        double tol;
    } modes[] = {
        {"zero_max", "zero_max", NST_PAD_ZERO, NST_POOL_MAX, NST_PRECISION_FP32, 2e-5},
        {"reflect_max", "reflect_max", NST_PAD_REFLECT, NST_POOL_MAX, NST_PRECISION_FP32, 2e-5},
        {"zero_avg", "zero_avg", NST_PAD_ZERO, NST_POOL_AVG, NST_PRECISION_FP32, 2e-5},
        {"bf16 reflect_max", "reflect_max", NST_PAD_REFLECT, NST_POOL_MAX, NST_PRECISION_BF16, 6e-2},
        {"bf16 zero_avg", "zero_avg", NST_PAD_ZERO, NST_POOL_AVG, NST_PRECISION_BF16, 6e-2},
    };
    float *dimage = malloc(image->numel * sizeof(float));
    for (int m = 0; m < (int)(sizeof modes / sizeof modes[0]); m++) {
        net_plan plan;
        if (modes[m].precision == NST_PRECISION_BF16 && !nst_dnnl_has_bf16()) {
            printf("  %s: skipped, this CPU has no bfloat16 instructions\n", modes[m].name);
            continue;
        }
        if (plan_create(&plan, net, 1, h, w, tapped, modes[m].padding, modes[m].pooling,
                        modes[m].precision, &err)) {
            CHECK(0, "plan %s: %s", modes[m].name, err.msg);
            continue;
        }
        plan_forward(&plan, image->data);
        plan_zero_loss_grads(&plan);
        char name[128];
        for (int t = 0; t < NT; t++) {
            int idx = nst_net_find_layer(net, taps[t]);
            plan_layer *L = &plan.L[idx];
            snprintf(name, sizeof name, "%s/%s", modes[m].ref, taps[t]);
            const nst_tensor *ref = nst_dict_get(&fx, name);
            if (ref) {
                CHECK(ref->numel == (size_t)L->c * L->h * L->w, "%s: shape %dx%dx%d", name, L->c, L->h, L->w);
                if (ref->numel == (size_t)L->c * L->h * L->w)
                    tu_rel_close(name, L->out, ref->data, ref->numel, modes[m].tol);
            }
            snprintf(name, sizeof name, "R/%s", taps[t]);
            const nst_tensor *r = tu_get(&fx, name);
            memcpy(L->loss_grad, r->data, r->numel * sizeof(float));
        }
        plan_backward(&plan, dimage);
        snprintf(name, sizeof name, "%s/dimage", modes[m].ref);
        tu_rel_close(name, dimage, tu_get(&fx, name)->data, image->numel, modes[m].tol);
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
