/* dnnl_engine.c: the one oneDNN CPU engine and stream that every layer uses,
 * the activation layouts, and TensorFlow 'SAME' padding arithmetic. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

dnnl_engine_t dn_engine(void) {
    pthread_once(&once, create_engine);
    return engine;
}

/* Primitives are validated at setup, so a failure here is a bug or memory
 * exhaustion inside oneDNN, which the void forward and backward functions
 * cannot report: the first one is kept for this thread, and the public call
 * that ran it returns it as an error (dn_run_status). Never abort: the
 * caller's process is not ours to end. */
static _Thread_local dnnl_status_t run_failure = dnnl_success;

void dn_run(dnnl_primitive_t p, int nargs, const dnnl_exec_arg_t *args) {
    dnnl_status_t st = dnnl_primitive_execute(p, stream, nargs, args);
    if (st == dnnl_success) st = dnnl_stream_wait(stream);
    if (st != dnnl_success && run_failure == dnnl_success) run_failure = st;
}

void dn_run_reset(void) { run_failure = dnnl_success; }

int dn_run_status(int rc, nst_error *err) {
    dnnl_status_t st = run_failure;
    run_failure = dnnl_success;
    if (rc || st == dnnl_success) return rc;
    return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: a primitive failed to run (%s); the result is void",
                    dnnl_status2str(st));
}

dnnl_status_t dn_memory(dnnl_memory_t *m, const_dnnl_primitive_desc_t pd,
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

static dnnl_format_tag_t block_tag(int block) {
    return block == NST_NHWC ? dnnl_nhwc
           : block == 16     ? dnnl_nChw16c
           : block == 8      ? dnnl_nChw8c
                             : dnnl_nchw;
}

void dn_md(dnnl_memory_desc_t *md, int n, int c, int h, int w, int block, int bf16) {
    const dnnl_dims_t dims = {n, c, h, w};
    dnnl_memory_desc_init_by_tag(md, 4, dims, bf16 ? dnnl_bf16 : dnnl_f32, block_tag(block));
}

int dn_block(const dnnl_memory_desc_t *md) {
    static const int blocks[] = {1, 8, 16, NST_NHWC};
    if (md->ndims != 4) return 0;
    for (int i = 0; i < 4; i++) {
        dnnl_memory_desc_t b;
        dn_md(&b, (int)md->dims[0], (int)md->dims[1], (int)md->dims[2], (int)md->dims[3],
                    blocks[i], md->data_type == dnnl_bf16);
        if (dnnl_memory_desc_equal(md, &b)) return blocks[i];
    }
    return 0;
}

int block_elems(int block, int c) { return block == NST_NHWC ? c : block; }

size_t blocked_numel(int n, int c, int h, int w, int block) {
    int b = block_elems(block, c);
    return (size_t)n * ((c + b - 1) / b * b) * h * w;
}

float bf16_to_f32(uint16_t x) {
    uint32_t u = (uint32_t)x << 16;
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

uint16_t f32_to_bf16(float f) {
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

int dn_has_bf16(void) {
    /* the ISA values are bit sets: bf16 and AMX include avx512_core_bf16's */
    unsigned isa = (unsigned)dnnl_get_effective_cpu_isa(), bf16 = dnnl_cpu_isa_avx512_core_bf16;
    return (isa & bf16) == bf16;
}
