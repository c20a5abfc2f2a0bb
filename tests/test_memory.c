/* test_memory.c: nst_stylize_memory against what nst_stylize really uses.
 * The peak resident memory of a run (VmHWM, reset through clear_refs before
 * it) less the resident memory before it must be within -30 % .. +30 % of
 * the estimate, for L-BFGS and Adam, one and two scales, and bf16 where the
 * CPU has it; and the estimate grows with the size as the pixels do. Under
 * AddressSanitizer the resident memory is the sanitizer's (shadow memory,
 * quarantine), so the test reports itself skipped there. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layers/layers.h"
#include "testutil.h"

/* A "VmRSS:" / "VmHWM:" line of /proc/self/status, in bytes; -1: none. */
static double status_bytes(const char *key) {
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, strlen(key))) kb = atof(line + strlen(key));
    if (f) fclose(f);
    return kb * 1024;
}

/* Reset VmHWM to the current resident size (Linux >= 4.0). */
static int reset_peak(void) {
    FILE *f = fopen("/proc/self/clear_refs", "w");
    if (!f) return 0;
    int ok = fputs("5", f) >= 0;
    return fclose(f) == 0 && ok;
}

static void measure(const char *what, const nst_net *net, const nst_image *content, const nst_image *style,
                    int size, int optimizer, int scales, int precision, double *estimate) {
    nst_stylize_params p;
    nst_stylize_params_init(&p);
    nst_stylize_default_layers(&p, net);
    p.size = size;
    p.optimizer = optimizer;
    p.scales = scales;
    p.precision = precision;
    p.lbfgs_history = 8;
    p.iterations = 12; /* the history fills: every page of it is touched */
    nst_error err = {0};
    double est = 0;
    CHECK(nst_stylize_memory(net, content->w, content->h, style, 1, &p, &est, &err) == 0, "%s: %s", what,
          err.msg);
    nst_image out = {0};
    double before = status_bytes("VmRSS:");
    CHECK(reset_peak(), "%s: cannot reset the peak through /proc/self/clear_refs", what);
    CHECK(nst_stylize(net, content, style, 1, &p, &out, &err) == 0, "%s: %s", what, err.msg);
    double used = status_bytes("VmHWM:") - before;
    nst_image_free(&out);
    printf("  %-28s estimate %6.1f MB, used %6.1f MB (%+.0f %%)\n", what, est / 1e6, used / 1e6,
           100 * (est - used) / used);
    CHECK(est > 0.7 * used && est < 1.3 * used, "%s: estimate %.1f MB, used %.1f MB", what, est / 1e6,
          used / 1e6);
    if (estimate) *estimate = est;
}

int main(void) {
#ifdef UNDER_ASAN
    printf("skipped: under AddressSanitizer the resident memory is the sanitizer's\n");
    return 77;
#endif
    const char *model = tu_shared("models/darknet-tiny/model.json");
    const char *cpath = tu_shared("images/content/tubingen.jpg");
    const char *spath = tu_shared("images/style/starry_night.jpg");
    if (!model || !cpath || !spath) return tu_finish();
    nst_net *net = NULL;
    nst_image content = {0}, style = {0};
    nst_error err = {0};
    if (nst_net_load(model, &net, &err) || nst_image_load(cpath, &content, &err) ||
        nst_image_load(spath, &style, &err)) {
        CHECK(0, "%s", err.msg);
        return tu_finish();
    }
    /* a first run: oneDNN's and OpenMP's one-time setup is not the job's */
    nst_stylize_params warm;
    nst_image out = {0};
    nst_stylize_params_init(&warm);
    nst_stylize_default_layers(&warm, net);
    warm.size = 128, warm.iterations = 2;
    CHECK(nst_stylize(net, &content, &style, 1, &warm, &out, &err) == 0, "warm-up: %s", err.msg);
    nst_image_free(&out);
    double e384, e768;
    measure("lbfgs 384 px", net, &content, &style, 384, NST_OPT_LBFGS, 1, NST_PRECISION_FP32, &e384);
    measure("lbfgs 768 px", net, &content, &style, 768, NST_OPT_LBFGS, 1, NST_PRECISION_FP32, &e768);
    CHECK(e768 > 3.2 * e384 && e768 < 4.4 * e384, "768 px: %.2fx the estimate at 384 px, want about 4x",
          e768 / e384);
    measure("adam 768 px", net, &content, &style, 768, NST_OPT_ADAM, 1, NST_PRECISION_FP32, NULL);
    measure("lbfgs 768 px, 2 scales", net, &content, &style, 768, NST_OPT_LBFGS, 2, NST_PRECISION_FP32, NULL);
    if (dn_has_bf16())
        measure("lbfgs 768 px, bf16", net, &content, &style, 768, NST_OPT_LBFGS, 1, NST_PRECISION_BF16, NULL);
    else
        printf("  bf16: skipped, this CPU has no bfloat16 instructions\n");
    nst_image_free(&content);
    nst_image_free(&style);
    nst_net_free(net);
    return tu_finish();
}
