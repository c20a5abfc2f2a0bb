/* reorder.c: oneDNN reorder between two layouts of one tensor, created once:
 * the loss-network plan's way between its blocked activations and the NCHW
 * matrices of the losses and the image. The per-channel scale and the sum
 * post-op fold the preprocessing's gradient and the gradient accumulation
 * into the copy. */
#include <string.h>

#include <dnnl_debug.h>

#include "layers/layers.h"

int reorder_setup(reorder_layer *R, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to,
                  const float *scale, int accumulate, nst_error *err) {
    memset(R, 0, sizeof *R);
    dnnl_engine_t eng = dn_engine();
    if (!eng) return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create the CPU engine");
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t po = NULL;
    dnnl_primitive_desc_t pd = NULL;
    dnnl_status_t st = dnnl_primitive_attr_create(&attr);
    if (st == dnnl_success && scale) /* mask 1 << 1: one scale per channel */
        st = dnnl_primitive_attr_set_output_scales(attr, from->dims[1], 1 << 1, scale);
    if (st == dnnl_success && accumulate) {
        if ((st = dnnl_post_ops_create(&po)) == dnnl_success &&
            (st = dnnl_post_ops_append_sum(po, 1.0f)) == dnnl_success)
            st = dnnl_primitive_attr_set_post_ops(attr, po);
    }
    if (st == dnnl_success &&
        (st = dnnl_reorder_primitive_desc_create(&pd, from, eng, to, eng, attr)) == dnnl_success &&
        (st = dnnl_primitive_create(&R->prim, pd)) == dnnl_success &&
        (st = dnnl_memory_create(&R->m_in, from, eng, DNNL_MEMORY_NONE)) == dnnl_success)
        st = dnnl_memory_create(&R->m_out, to, eng, DNNL_MEMORY_NONE);
    dnnl_primitive_desc_destroy(pd);
    dnnl_post_ops_destroy(po);
    dnnl_primitive_attr_destroy(attr);
    if (st == dnnl_success) return 0;
    reorder_destroy(R);
    return nst_fail(err, NST_ERR_INTERNAL, "oneDNN: cannot create a reorder of a %dx%dx%dx%d tensor (%s)",
                    (int)from->dims[0], (int)from->dims[1], (int)from->dims[2], (int)from->dims[3],
                    dnnl_status2str(st));
}

void reorder_run(reorder_layer *R, const void *in, void *out) {
    dnnl_memory_set_data_handle(R->m_in, (void *)in);
    dnnl_memory_set_data_handle(R->m_out, out);
    dnnl_exec_arg_t args[] = {{DNNL_ARG_FROM, R->m_in}, {DNNL_ARG_TO, R->m_out}};
    dn_run(R->prim, 2, args);
}

void reorder_destroy(reorder_layer *R) {
    dnnl_primitive_destroy(R->prim);
    dnnl_memory_destroy(R->m_in);
    dnnl_memory_destroy(R->m_out);
    memset(R, 0, sizeof *R);
}
