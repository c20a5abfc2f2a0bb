/* bench_split_conv.c: the RGB output layer (9x9, 8 -> 3, input in blocks of
 * 8) as oneDNN's direct convolution and as split_conv, side by side at
 * several map sizes: the measurement behind rewrite.c's split_thin_conv.
 * usage: bench_split_conv [REPS]   (threads: OMP_NUM_THREADS) */
#include <stdio.h>
#include <stdlib.h>

#include "core/util.h"
#include "layers/layers.h"

int main(int argc, char **argv) {
    int reps = argc > 1 ? atoi(argv[1]) : 30;
    const int sides[] = {64, 128, 256, 384, 512}, cin = 8, k = 9;
    printf("| map | direct | split | direct / split |\n|---|---|---|---|\n");
    for (size_t si = 0; si < sizeof sides / sizeof *sides; si++) {
        int h = sides[si] + k - 1, w = h; /* the reflect-padded input */
        nst_error err;
        float *wt = calloc((size_t)3 * cin * k * k, 4), *b = calloc(3, 4);
        float *x = calloc(nst_blocked_numel(1, cin, h, w, 8), 4), *y = calloc(nst_blocked_numel(1, 3, h, w, 8), 4);
        for (int i = 0; i < 3 * cin * k * k; i++) wt[i] = (float)((i * 37) % 17 - 8) / 64;
        conv_layer c;
        split_conv_layer s;
        if (!wt || !b || !x || !y || conv_setup_blocked(&c, 8, 0, POST_NONE, 0, 1, cin, h, w, 3, 1, k, k, 1, 0, 0, 0, 0,
                                                        wt, b, &err) ||
            split_conv_setup(&s, 8, 1, cin, h, w, 3, k, wt, b, &err)) {
            fprintf(stderr, "bench_split_conv: %s\n", err.msg);
            return 1;
        }
        float *tmp = malloc(s.tmp_bytes);
        for (int r = 0; r < 3; r++) conv_forward(&c, x, y), split_conv_forward(&s, x, tmp, y);
        double t0 = now_seconds();
        for (int r = 0; r < reps; r++) conv_forward(&c, x, y);
        double t1 = now_seconds();
        for (int r = 0; r < reps; r++) split_conv_forward(&s, x, tmp, y);
        double t2 = now_seconds(), direct = (t1 - t0) / reps, split = (t2 - t1) / reps;
        printf("| %dx%d | %.2f ms | %.2f ms | %.2f |\n", sides[si], sides[si], direct * 1e3, split * 1e3, direct / split);
        conv_destroy(&c);
        split_conv_destroy(&s);
        free(wt), free(b), free(x), free(y), free(tmp);
    }
    return 0;
}
