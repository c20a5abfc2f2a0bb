/* bench_split_conv.c: the thin stride-1 convolutions of the style networks
 * (the RGB input layer 3 -> 8 9x9 from NCHW, a 16 -> 8 3x3 after a 2x
 * upsampling, the RGB output layer 8 -> 3 9x9), each reflect padded, as
 * pad + oneDNN's direct convolution and as the streamed split_conv, side by
 * side at several map sizes: the measurement behind rewrite.c's
 * split_thin_conv.
 * usage: bench_split_conv [REPS]   (threads: OMP_NUM_THREADS) */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "layers/layers.h"

typedef struct {
    const char *name;
    int cin, block, cout, k, up, relu;
} shape;

static double ms_per_call(int reps, void (*f)(void *), void *arg) {
    for (int r = 0; r < 3; r++) f(arg);
    double t0 = now_seconds();
    for (int r = 0; r < reps; r++) f(arg);
    return (now_seconds() - t0) / reps * 1e3;
}

typedef struct {
    pad_layer *pad;
    conv_layer *conv;
    split_conv_layer *split;
    float *x, *xp, *y;
} bench_args;

static void run_direct(void *v) {
    bench_args *a = v;
    pad_forward(a->pad, a->x, a->xp);
    conv_forward(a->conv, a->xp, a->y);
}

static void run_split(void *v) {
    bench_args *a = v;
    split_conv_forward(a->split, a->x, a->y);
}

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    const shape shapes[] = {{"3 -> 8, 9x9, ReLU, NCHW in", 3, 1, 8, 9, 1, 1},
                            {"16 -> 8, 3x3, ReLU, after 2x up", 16, 8, 8, 3, 2, 1},
                            {"8 -> 3, 9x9", 8, 8, 3, 9, 1, 0}};
    const int sides[] = {64, 128, 256, 512};
    printf("| layer | output map | pad + direct | streamed split | direct / split |\n|---|---|---|---|---|\n");
    for (size_t q = 0; q < sizeof shapes / sizeof *shapes; q++)
        for (size_t si = 0; si < sizeof sides / sizeof *sides; si++) {
            const shape *S = &shapes[q];
            int side = sides[si], p = S->k / 2;
            nst_error err;
            pad_layer pad;
            conv_layer c;
            split_conv_layer s;
            size_t nw = (size_t)S->cout * S->cin * S->k * S->k;
            float *wt = calloc(nw, 4), *b = calloc(S->cout, 4);
            if (!wt || !b || pad_setup(&pad, 1, S->cin, side, side, p, p, p, p, S->block, 0, &err)) {
                fprintf(stderr, "bench_split_conv: %s\n", wt && b ? err.msg : "out of memory");
                return 1;
            }
            pad.up = S->up; /* the padding reads through a nearest upsampling */
            for (size_t i = 0; i < nw; i++) wt[i] = (float)((i * 37) % 17 - 8) / 64;
            if (conv_setup_blocked(&c, S->block == 1 ? 0 : S->block, 0, S->relu ? POST_RELU : POST_NONE, 0, 1, S->cin,
                                   pad.oh, pad.ow, S->cout, 1, S->k, S->k, 1, 0, 0, 0, 0, wt, b, &err) ||
                split_conv_setup(&s, &pad, S->cout, S->k, S->relu, 0, wt, b, &err)) {
                fprintf(stderr, "bench_split_conv: %s: %s\n", S->name, err.msg);
                return 1;
            }
            bench_args a = {&pad, &c, &s, calloc(blocked_numel(1, S->cin, side / S->up, side / S->up, S->block), 4),
                            calloc(blocked_numel(1, S->cin, pad.oh, pad.ow, S->block), 4),
                            calloc(blocked_numel(1, 8, side, side, 8), 4)};
            if (!a.x || !a.xp || !a.y) {
                fprintf(stderr, "bench_split_conv: out of memory\n");
                return 1;
            }
            double direct = ms_per_call(reps, run_direct, &a), split = ms_per_call(reps, run_split, &a);
            printf("| %s | %dx%d | %.2f ms | %.2f ms | %.2f |\n", S->name, side, side, direct, split, direct / split);
            conv_destroy(&c);
            split_conv_destroy(&s);
            free(wt), free(b), free(a.x), free(a.xp), free(a.y);
        }
    return 0;
}
