/* test_train.c: training feed-forward style networks: the generator's
 * backward against PyTorch (tests/pytorch/gen_train.py) and directional
 * finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/generator.h"
#include "testutil.h"

/* ---- generator backward ------------------------------------------------- */

typedef struct {
    gen_plan *p;
    const float *x, *R;
} objective;

/* f(params) = sum(output * R), double accumulation */
static double gen_objective(const float *params, void *vctx) {
    objective *o = vctx;
    (void)params; /* the plan reads g->params, which the caller perturbed */
    gen_plan_weights_changed(o->p);
    gen_plan_forward(o->p, o->x, 0);
    size_t n = (size_t)o->p->n * 3 * o->p->h * o->p->w;
    double f = 0;
    for (size_t i = 0; i < n; i++) f += (double)o->p->output[i] * o->R[i];
    return f;
}

static double norm(const float *a, size_t n) {
    double s = 0;
    for (size_t i = 0; i < n; i++) s += (double)a[i] * a[i];
    return sqrt(s);
}

static void backward_vs_pytorch(nst_generator *g) {
    nst_tensor_dict fx = {0};
    tu_load_fixture("gen_train.bin", &fx);
    const nst_tensor *x = tu_get(&fx, "x"), *R = tu_get(&fx, "R"), *y = tu_get(&fx, "y");
    int n = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
    gen_plan p;
    nst_error err;
    int rc = gen_plan_create(&p, g, n, h, w, 1, &err);
    CHECK(rc == 0, "plan: %s", err.msg);
    if (rc) {
        nst_dict_free(&fx);
        return;
    }
    float *grads = malloc(g->n_params * sizeof(float));
    gen_plan_forward(&p, x->data, 0);
    tu_close("output vs PyTorch", p.output, y->data, y->numel, 0.02f, 1e-4f);
    gen_plan_backward(&p, R->data, grads);
    char name[32], key[48];
    for (int i = 0; i < GEN_LAYERS; i++) {
        const gen_layer *L = &g->layers[i];
        size_t nk = (size_t)L->k * L->k * L->cin * L->cout;
        float *tf = malloc(nk * sizeof(float));
        gen_kernel_convert(L, grads + (L->weight - g->params), tf, 1);
        gen_var_name(3 * i, name, sizeof name);
        snprintf(key, sizeof key, "d/%s", name);
        if (nst_dict_get(&fx, key)) tu_rel_close(key, tf, tu_get(&fx, key)->data, nk, 2e-3);
        double proj = 0;
        for (size_t j = 0; j < nk; j++) proj += tf[j] * ((double)(j * 7919 % 1000) / 500 - 1);
        snprintf(key, sizeof key, "norm/%s", name);
        double want = tu_get(&fx, key)->data[0], got = norm(tf, nk);
        CHECK(fabs(got - want) <= 2e-3 * want, "layer %d: |dkernel| %g, PyTorch %g", i, got, want);
        snprintf(key, sizeof key, "proj/%s", name);
        double pw = tu_get(&fx, key)->data[0];
        CHECK(fabs(proj - pw) <= 2e-3 * want * sqrt((double)nk) / 2, "layer %d: projection %g, PyTorch %g", i, proj, pw);
        free(tf);
        for (int v = 1; v < 3; v++) {
            gen_var_name(3 * i + v, name, sizeof name);
            snprintf(key, sizeof key, "d/%s", name);
            const float *mine = grads + ((v == 1 ? L->shift : L->scale) - g->params);
            tu_rel_close(key, mine, tu_get(&fx, key)->data, (size_t)L->cout, 2e-3);
        }
    }

    /* finite differences along random directions of every parameter; R is
     * zeroed where the output is clipped, where the straight-through
     * gradient and the true one differ */
    float *R2 = malloc(R->numel * sizeof(float));
    for (size_t i = 0; i < R->numel; i++)
        R2[i] = p.output[i] > 0 && p.output[i] < 255 ? R->data[i] : 0;
    gen_plan_forward(&p, x->data, 0);
    gen_plan_backward(&p, R2, grads);
    objective o = {&p, x->data, R2};
    /* measured 1.1e-2: float32 noise against the ReLU kinks that a step
     * along all 1.7M parameters crosses */
    tu_check_dir_grad("generator parameters", gen_objective, &o, g->params, grads, g->n_params, 3,
                      1e-4f, 3e-2);
    gen_plan_weights_changed(&p);
    free(R2);
    free(grads);
    gen_plan_destroy(&p);
    nst_dict_free(&fx);
}

int main(void) {
    const char *scream = tu_shared("models/fast/scream");
    nst_generator *g = NULL;
    nst_error err;
    if (scream) {
        CHECK(nst_generator_load(scream, &g, &err) == 0, "%s", err.msg);
        if (g) backward_vs_pytorch(g);
    }
    nst_generator_free(g);
    return tu_finish();
}
