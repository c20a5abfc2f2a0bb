/* threads.c: one thread count for oneDNN (OpenMP), OpenBLAS, OpenCV's
 * optical flow and our loops. */
#include <omp.h>

#include "nst.h"
#include "video/flow.h"

void openblas_set_num_threads(int n);

void nst_set_threads(int n) {
    if (n <= 0) return;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    flow_set_threads(n);
}
