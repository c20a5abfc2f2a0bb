/* dnnl_engine.c: the one oneDNN CPU engine and stream that every layer uses,
 * and TensorFlow 'SAME' padding arithmetic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <dnnl_debug.h>

#include "layers/layers.h"

static dnnl_engine_t engine;
static dnnl_stream_t stream;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Created on first use and kept for the life of the process (reachable, so
 * leak checkers do not report them). On failure both stay NULL and layer
 * setup reports the error. */
static void create_engine(void) {
    if (dnnl_engine_create(&engine, dnnl_cpu, 0) != dnnl_success) {
        engine = NULL;
        return;
    }
    if (dnnl_stream_create(&stream, engine, dnnl_stream_default_flags) != dnnl_success) {
        dnnl_engine_destroy(engine);
        engine = NULL;
        stream = NULL;
    }
}

dnnl_engine_t nst_dnnl_engine(void) {
    pthread_once(&once, create_engine);
    return engine;
}

dnnl_stream_t nst_dnnl_stream(void) {
    pthread_once(&once, create_engine);
    return stream;
}

/* Primitives are validated at setup, so a failure here is a bug (or memory
 * exhaustion inside oneDNN) that the void forward/backward cannot report. */
void nst_dnnl_run(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args) {
    dnnl_status_t st = dnnl_primitive_execute(p, stream, nargs, args);
    if (st == dnnl_success) st = dnnl_stream_wait(stream);
    if (st != dnnl_success) {
        fprintf(stderr, "nst: oneDNN: primitive execution failed (%s)\n", dnnl_status2str(st));
        abort();
    }
}

dnnl_status_t nst_dnnl_memory(dnnl_memory_t *m, const_dnnl_primitive_desc_t pd,
                              dnnl_query_t what, void *handle) {
    const dnnl_memory_desc_t *md = dnnl_primitive_desc_query_md(pd, what, 0);
    return dnnl_memory_create(m, md, engine, handle);
}

void same_padding(int in, int k, int stride, int *out, int *before, int *after) {
    int o = (in + stride - 1) / stride;
    int total = (o - 1) * stride + k - in;
    if (total < 0) total = 0;
    *out = o;
    *before = total / 2;
    *after = total - total / 2;
}
