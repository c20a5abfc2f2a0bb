/* test_vgg.c: the tiny VGG19 (tests/fixtures/vgg19_tiny.pth and the same
 * weights in .safetensors) loaded through nst_net_load and run forward and
 * backward through a plan, against PyTorch in float64
 * (tests/pytorch/gen_vgg.py), and against finite differences. The 24 x 20
 * input makes pool3 and pool4 see odd sizes, where nst's 'SAME' pooling must
 * match PyTorch's ceil_mode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/net.h"
#include "testnet.h"
#include "testutil.h"

static const char *taps[] = {"conv1_1", "relu1_1", "pool1",   "relu2_1",
                             "relu3_1", "conv4_2", "relu4_2", "relu5_1"};
#define NT (int)(sizeof taps / sizeof taps[0])
/* torchvision features indices of the taps: nst's layer list is the same chain */
static const int torch_index[NT] = {0, 1, 4, 6, 11, 21, 22, 29};

/* Forward and backward of one loaded net against the fixture; finite
 * differences (slow) only when fd is set. */
static void check_net(const char *file, const tensor_dict *fx, int fd) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", NST_FIXTURES, file);
    nst_error err;
    nst_net *net;
    if (nst_net_load(path, &net, &err)) {
        CHECK(0, "load %s: %s", path, err.msg);
        return;
    }
    CHECK(strcmp(nst_net_name(net), "vgg19") == 0 && nst_net_layer_count(net) == 37,
          "%s: %s with %d layers", file, nst_net_name(net), nst_net_layer_count(net));
    const tensor *image = tu_get(fx, "image");
    int h = (int)image->shape[1], w = (int)image->shape[2];
    unsigned char *tapped = calloc((size_t)net->n_nodes, 1);
    for (int t = 0; t < NT; t++) {
        int idx = nst_net_find_layer(net, taps[t]);
        CHECK(idx == torch_index[t], "%s: %s is layer %d, torchvision has it at %d", file, taps[t],
              idx, torch_index[t]);
        if (idx < 0) goto out;
        tapped[idx] = 1;
    }
    CHECK(nst_net_find_layer(net, "relu6_1") == -1 && nst_net_find_layer(net, "conv4_5") == -1,
          "%s: names VGG19 lacks are not found", file);

    plan plan;
    const plan_opts o = {tapped, NST_PAD_ZERO, NST_POOL_MAX, NST_PRECISION_FP32, PLAN_GRAD_INPUT, 0};
    if (plan_create(&plan, net, 1, h, w, &o, &err)) {
        CHECK(0, "%s: plan: %s", file, err.msg);
        goto out;
    }
    CHECK(plan.S[plan.n_steps - 1].src == torch_index[NT - 1], "%s: the plan ends at node %d, "
          "want %d", file, plan.S[plan.n_steps - 1].src, torch_index[NT - 1]);
    plan_forward(&plan, image->data, 0);
    plan_zero_loss_grads(&plan);
    char name[128], what[160];
    for (int t = 0; t < NT; t++) {
        plan_tap L = plan_tap_of(&plan, torch_index[t]);
        snprintf(name, sizeof name, "F/%s", taps[t]);
        const tensor *ref = tu_get(fx, name);
        int same = ref->ndim == 3 && ref->shape[0] == L.c && ref->shape[1] == L.h &&
                   ref->shape[2] == L.w;
        CHECK(same, "%s %s: shape %dx%dx%d, PyTorch %lldx%lldx%lld", file, taps[t], L.c, L.h,
              L.w, (long long)ref->shape[0], (long long)ref->shape[1], (long long)ref->shape[2]);
        snprintf(what, sizeof what, "%s %s", file, taps[t]);
        if (same) tu_rel_close(what, L.out, ref->data, ref->numel, 1e-5);
        snprintf(name, sizeof name, "R/%s", taps[t]);
        const tensor *r = tu_get(fx, name);
        if (r->numel == (size_t)L.c * L.h * L.w)
            memcpy(L.loss_grad, r->data, r->numel * sizeof(float));
    }
    /* the objective itself, before the backward pass reuses the buffers */
    tu_net_objective_ctx ctx = {&plan, fx, taps, NT};
    double f = tu_net_objective(image->data, &ctx), want = tu_get(fx, "loss")->data[0];
    CHECK(fabs(f - want) <= 1e-5 * fabs(want), "%s: <F, R> = %.9g, PyTorch %.9g", file, f, want);
    printf("  %-40s %.9g vs PyTorch %.9g\n", "sum <F, R>", f, want);

    float *dimage = malloc(image->numel * sizeof(float));
    plan_backward(&plan, NULL, dimage, NULL);
    snprintf(what, sizeof what, "%s dimage", file);
    tu_rel_close(what, dimage, tu_get(fx, "dimage")->data, image->numel, 1e-5);
    if (fd) {
        float *x = malloc(image->numel * sizeof(float));
        memcpy(x, image->data, image->numel * sizeof(float));
        /* f is piecewise linear, so the error is kinks crossed (grows with
         * eps: 4e-2 at 0.2) plus float32 noise in f / eps (3e-2 at 0.002);
         * 0.015 pixel levels sits near the minimum, ~3e-3 */
        tu_check_dir_grad("vgg19 d<F,R>/dimage", tu_net_objective, &ctx, x, dimage, image->numel, 8,
                          0.015f, 1e-2);
        free(x);
    }
    free(dimage);
    plan_destroy(&plan);
out:
    free(tapped);
    nst_net_free(net);
}

int main(void) {
    tensor_dict fx;
    tu_load_fixture("vgg_forward.bin", &fx);
    const tensor *image = tu_get(&fx, "image");
    CHECK(image->ndim == 3 && image->shape[0] == 3 && image->shape[1] == 24 && image->shape[2] == 20,
          "fixture image is 3x24x20");
    check_net("vgg19_tiny.pth", &fx, 1);
    check_net("vgg19_tiny.safetensors", &fx, 0);
    dict_free(&fx);
    return tu_finish();
}
