/* fuzz_tflite.c: a TensorFlow Lite flatbuffer, from memory. A graph that
 * loads must pass graph_check (what the plan builder relies on). */
#include <stdlib.h>

#include "fuzz_util.h"
#include "io/tflite.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    graph g;
    nst_error err;
    int rc = tflite_load_memory(data, size, "input.tflite", &g, &err);
    fuzz_check_message(rc, err.msg, "input.tflite");
    if (rc) return 0;
    if (graph_check(&g, &err)) {
        fprintf(stderr, "a loaded graph fails graph_check: %s\n", err.msg);
        abort();
    }
    graph_free(&g);
    return 0;
}
