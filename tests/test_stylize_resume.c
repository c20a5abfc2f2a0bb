/* test_stylize_resume.c: nst_stylize's checkpoints and cancellation. A run
 * cancelled mid-way and resumed from its last checkpoint must end with the
 * same image as the uninterrupted run (L-BFGS and Adam, one and two scales);
 * cancellation stops at the next iteration; a checkpoint that does not fit
 * the parameters is refused with a message naming it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

typedef struct {
    nst_cancel_flag cancel;
    int stop_after; /* set cancel once this many iterations were reported */
    int calls;
    int last_iteration, last_scale;
} watch;

static void on_progress(const nst_progress *p, void *user) {
    watch *w = user;
    w->calls++;
    w->last_iteration = p->iteration;
    w->last_scale = p->scale;
    if (w->stop_after && w->calls >= w->stop_after) w->cancel = 1;
}

static void params(nst_stylize_params *p, const nst_net *net, int optimizer, int scales,
                   const char *ckpt, watch *w) {
    nst_stylize_params_init(p);
    nst_stylize_default_layers(p, net);
    p->size = 48;
    p->iterations = 12;
    p->optimizer = optimizer;
    p->lbfgs_history = 5; /* fills up and wraps within the run */
    p->scales = scales;
    p->checkpoint = ckpt;
    p->checkpoint_every = ckpt ? 4 : 0;
    p->progress = on_progress;
    p->progress_user = w;
    p->cancel = &w->cancel;
}

static void resume_case(const nst_net *net, const nst_image *content, const nst_image *style,
                        int optimizer, int scales) {
    char what[64];
    snprintf(what, sizeof what, "%s, %d scale(s)", optimizer == NST_OPT_ADAM ? "adam" : "lbfgs", scales);
    const char *ckpt = tu_tmp_path("run.safetensors");
    remove(ckpt);
    nst_stylize_params p;
    nst_error err = {0};
    watch w = {0};
    nst_image whole = {0}, cut = {0}, resumed = {0};
    params(&p, net, optimizer, scales, NULL, &w);
    CHECK(nst_stylize(net, content, style, 1, &p, &whole, &err) == 0, "%s: whole run: %s", what, err.msg);
    CHECK(w.calls == 12 * scales, "%s: %d progress calls, want %d", what, w.calls, 12 * scales);

    /* stop after 10 iterations of the last scale: the checkpoint holds 8 */
    watch w2 = {.stop_after = 12 * (scales - 1) + 10};
    params(&p, net, optimizer, scales, ckpt, &w2);
    int rc = nst_stylize(net, content, style, 1, &p, &cut, &err);
    CHECK(rc == NST_ERR_CANCELLED && strstr(err.msg, "cancelled at iteration 11"),
          "%s: cancelled run: rc %d, '%s'", what, rc, err.msg);
    CHECK(w2.calls == w2.stop_after, "%s: %d iterations ran after cancel at %d", what, w2.calls,
          w2.stop_after);
    CHECK(cut.data == NULL, "%s: a cancelled run returns no image", what);
    CHECK(tu_file_size(ckpt) > 0, "%s: no checkpoint %s", what, ckpt);

    watch w3 = {0};
    params(&p, net, optimizer, scales, ckpt, &w3);
    p.resume = 1;
    rc = nst_stylize(net, content, style, 1, &p, &resumed, &err);
    CHECK(rc == 0, "%s: resumed run: %s", what, err.msg);
    CHECK(w3.calls == 4 && w3.last_iteration == 12 && w3.last_scale == scales,
          "%s: resumed run reported %d iterations, last %d of scale %d; want 9..12 of scale %d",
          what, w3.calls, w3.last_iteration, w3.last_scale, scales);
    if (!rc && whole.data) {
        CHECK(resumed.w == whole.w && resumed.h == whole.h, "%s: size %dx%d vs %dx%d", what,
              resumed.w, resumed.h, whole.w, whole.h);
        size_t n = (size_t)3 * whole.w * whole.h;
        double diff = 0;
        for (size_t i = 0; i < n; i++) diff = fmax(diff, fabs(resumed.data[i] - whole.data[i]));
        CHECK(diff <= 1e-3, "%s: resumed image differs from the whole run by %g", what, diff);
        printf("%s: resumed vs uninterrupted max |diff| %g\n", what, diff);
    }
    nst_image_free(&whole);
    nst_image_free(&resumed);
}

int main(void) {
    const char *model = tu_shared("models/darknet-tiny");
    const char *cpath = tu_shared("images/content/tubingen.jpg");
    const char *spath = tu_shared("images/style/starry_night.jpg");
    if (!model || !cpath || !spath) return tu_finish();
    tu_tmpdir_create("resume");
    nst_error err = {0};
    nst_net *net = NULL;
    nst_image big = {0}, content = {0}, style = {0};
    if (nst_net_load(model, &net, &err) || nst_image_load(cpath, &big, &err) ||
        nst_image_resize(&big, 64, 48, &content, &err) || nst_image_load(spath, &style, &err)) {
        CHECK(0, "setup: %s", err.msg);
        return tu_finish();
    }
    nst_set_threads(2);
    resume_case(net, &content, &style, NST_OPT_LBFGS, 1);
    resume_case(net, &content, &style, NST_OPT_ADAM, 1);
    resume_case(net, &content, &style, NST_OPT_LBFGS, 2);

    /* a checkpoint of one optimiser is refused by the other */
    watch w = {0};
    nst_stylize_params p;
    nst_image out = {0};
    params(&p, net, NST_OPT_ADAM, 2, tu_tmp_path("run.safetensors"), &w);
    p.resume = 1;
    int rc = nst_stylize(net, &content, &style, 1, &p, &out, &err);
    CHECK(rc == NST_ERR_ARG && strstr(err.msg, "run.safetensors: the checkpoint was written for "
                                                 "the L-BFGS optimiser"),
          "optimiser mismatch: rc %d '%s'", rc, err.msg);
    /* one of another size does not fit */
    params(&p, net, NST_OPT_LBFGS, 2, tu_tmp_path("run.safetensors"), &w);
    p.resume = 1;
    p.size = 64;
    rc = nst_stylize(net, &content, &style, 1, &p, &out, &err);
    CHECK(rc == NST_ERR_FORMAT && strstr(err.msg, "tensor image is missing or not 1 x"),
          "size mismatch: rc %d '%s'", rc, err.msg);
    /* a missing checkpoint names the file */
    params(&p, net, NST_OPT_LBFGS, 1, tu_tmp_path("none.safetensors"), &w);
    p.resume = 1;
    rc = nst_stylize(net, &content, &style, 1, &p, &out, &err);
    CHECK(rc == NST_ERR_IO && strstr(err.msg, "none.safetensors"), "missing: rc %d '%s'", rc,
          err.msg);
    /* cancelled before the first iteration */
    watch wc = {.cancel = 1};
    params(&p, net, NST_OPT_LBFGS, 1, NULL, &wc);
    rc = nst_stylize(net, &content, &style, 1, &p, &out, &err);
    CHECK(rc == NST_ERR_CANCELLED && wc.calls == 0 && strstr(err.msg, "cancelled at iteration 1"),
          "cancel before start: rc %d, %d calls, '%s'", rc, wc.calls, err.msg);

    nst_image_free(&big);
    nst_image_free(&content);
    nst_image_free(&style);
    nst_net_free(net);
    tu_tmpdir_remove();
    return tu_finish();
}
