/* peak.c: the machine's fp32 FMA peak, for the "% of peak" column of
 * bench/run.py. Every thread runs ACC independent chains of vector FMAs
 * (enough to hide the FMA latency on both FMA ports); the best of several
 * runs is printed as JSON: {"gflops": ..., "isa": ..., "threads": ...}. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

#if defined(__AVX512F__)
#include <immintrin.h>
typedef __m512 vec;
#define LANES 16
#define ISA "avx512"
#define SET1(x) _mm512_set1_ps(x)
#define FMA(a, b, c) _mm512_fmadd_ps(a, b, c)
static float hsum(vec v) { return _mm512_reduce_add_ps(v); }
#elif defined(__FMA__)
#include <immintrin.h>
typedef __m256 vec;
#define LANES 8
#define ISA "avx2-fma"
#define SET1(x) _mm256_set1_ps(x)
#define FMA(a, b, c) _mm256_fmadd_ps(a, b, c)
static float hsum(vec v) {
    float t[8];
    _mm256_storeu_ps(t, v);
    return t[0] + t[1] + t[2] + t[3] + t[4] + t[5] + t[6] + t[7];
}
#else
typedef float vec;
#define LANES 1
#define ISA "scalar"
#define SET1(x) (x)
#define FMA(a, b, c) fmaf(a, b, c)
static float hsum(vec v) { return v; }
#endif

/* ACC named accumulators (an array would live on the stack) */
#define ACC 12
#define ALL(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define DECL(k) vec a##k = SET1((float)k);
#define STEP(k) a##k = FMA(a##k, b, c);
#define SUM(k) s += hsum(a##k);

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* GFLOP/s of `threads` threads each doing iters * ACC vector FMAs. */
static double run(long iters, int threads) {
    volatile float sink = 0;
    double t0 = now();
#pragma omp parallel num_threads(threads)
    {
        vec b = SET1(0.999999f), c = SET1(1e-6f);
        ALL(DECL)
        for (long i = 0; i < iters; i++) {
            ALL(STEP)
        }
        float s = 0;
        ALL(SUM)
#pragma omp atomic
        sink += s;
    }
    double t = now() - t0;
    (void)sink;
    return 2.0 * LANES * ACC * (double)iters * threads / t * 1e-9;
}

int main(void) {
    int threads = omp_get_max_threads();
    long iters = 1000000;
    while (iters < (1L << 40)) { /* size one run to about 0.2 s */
        double t0 = now();
        run(iters, threads);
        if (now() - t0 > 0.2) break;
        iters *= 2;
    }
    double best = 0;
    for (int r = 0; r < 5; r++) {
        double g = run(iters, threads);
        if (g > best) best = g;
    }
    printf("{\"gflops\": %.1f, \"isa\": \"%s\", \"threads\": %d}\n", best, ISA, threads);
    return 0;
}
