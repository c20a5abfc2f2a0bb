/* threads.c: one thread count for oneDNN (OpenMP), OpenBLAS and our loops. */
#include <omp.h>

#include "nst.h"

void openblas_set_num_threads(int n);

void nst_set_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
}
