/* plan.c: compiling a graph for a size (steps, shapes, rewrites, primitives,
 * buffers) and running it forward and backward. See plan.h.
 *
 * Buffers: without gradients, a step's output lives from the step to its
 * last reader and buffers are shared by steps whose lives do not overlap;
 * with gradients every output is kept (backward reads them) and the
 * gradients share buffers the same way in reverse order. In backward each
 * step writes the gradients of its inputs: the first writer of an input's
 * gradient (in reverse order) overwrites it, later ones compute into
 * `scratch` and add. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "graph/plan.h"

#define NEVER 0x7fffffff

static size_t esize(int bf16) { return bf16 ? 2 : sizeof(float); }
static size_t up64(size_t x) { return (x + 63) / 64 * 64; }
static size_t max_sz(size_t a, size_t b) { return a > b ? a : b; }
static size_t numel(int n, int c, int h, int w) { return (size_t)n * c * h * w; }

/* Shape and layout of what step input k refers to. */
typedef struct {
    int c, h, w, block, bf16;
} tinfo;

static tinfo info(const plan *p, int k) {
    if (k >= 0) return (tinfo){p->S[k].c, p->S[k].h, p->S[k].w, p->S[k].block, p->S[k].bf16};
    int j = GRAPH_INPUT(0) - k;
    return j == 0 ? (tinfo){3, p->h, p->w, 1, 0} : (tinfo){p->g->input_c[j], 1, 1, 1, 0};
}

static size_t out_elems(const plan *p, const step *s) {
    return blocked_numel(p->n, s->c, s->h, s->w, s->block);
}
static size_t out_bytes(const plan *p, const step *s) { return out_elems(p, s) * esize(s->bf16); }
/* one image of step s's output */
static size_t image_bytes(const step *s) {
    return blocked_numel(1, s->c, s->h, s->w, s->block) * esize(s->bf16);
}

/* Gram matrices per image at each TAP_GRAM step */
static int guides(const plan *p) { return p->o.guides > 0 ? p->o.guides : 1; }

/* An OP_CONV whose padded input the plan writes (pad.c) before it runs. */
static int pads_itself(const node *nd) { return nd->pad == PAD_REFLECT || nd->pad == PAD_ZERO; }

static const void *in_act(const plan *p, int k) {
    return k >= 0 ? p->S[k].act : p->input[GRAPH_INPUT(0) - k];
}

/* ---- steps and shapes --------------------------------------------------- */

static int shapes(plan *p, nst_error *err) {
    const char *path = p->g->path;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        const node *nd = &s->nd;
        tinfo x = info(p, s->in[0]);
        int h = x.h, w = x.w, t, b;
        s->c = nd->cout;
        switch (nd->op) {
        case OP_CONV:
            if (nd->pad == PAD_SAME) {
                same_padding(x.h, nd->k, nd->stride, &h, &t, &b);
                same_padding(x.w, nd->k, nd->stride, &w, &t, &b);
            } else {
                h = x.h + (pads_itself(nd) ? nd->pads[0] + nd->pads[2] : 0) - nd->k;
                w = x.w + (pads_itself(nd) ? nd->pads[1] + nd->pads[3] : 0) - nd->k;
                if (h < 0 || w < 0)
                    return nst_fail(err, NST_ERR_ARG, "%s: %dx%d is too small for %s (%dx%d kernel)",
                                    path, p->w, p->h, nd->name, nd->k, nd->k);
                h = h / nd->stride + 1, w = w / nd->stride + 1;
            }
            break;
        case OP_DECONV: h *= nd->stride, w *= nd->stride; break;
        case OP_POOL: h = (h + nd->stride - 1) / nd->stride, w = (w + nd->stride - 1) / nd->stride; break;
        case OP_PAD:
            if (nd->pads[0] >= h || nd->pads[2] >= h || nd->pads[1] >= w || nd->pads[3] >= w)
                return nst_fail(err, NST_ERR_ARG, "%s: %dx%d is too small for %s (reflect padding "
                                "needs the map to be larger than the padding)", path, p->w, p->h, nd->name);
            h += nd->pads[0] + nd->pads[2], w += nd->pads[1] + nd->pads[3];
            break;
        case OP_UPSAMPLE: h *= nd->factor, w *= nd->factor; break;
        case OP_MEAN: h = w = 1; break;
        case OP_ADD: case OP_INSTNORM: case OP_ACT: break;
        }
        for (int j = 1; j < nd->n_in; j++) {
            tinfo y = info(p, s->in[j]);
            int ok = nd->op == OP_ADD ? y.h == h && y.w == w : y.h == 1 && y.w == 1;
            if (!ok)
                return nst_fail(err, NST_ERR_ARG, "%s: at %dx%d the inputs of %s do not fit "
                                "(%dx%d and %dx%d)", path, p->w, p->h, nd->name, w, h, y.w, y.h);
        }
        s->h = h, s->w = w;
    }
    return NST_OK;
}

/* Drop the steps the rewrites removed and renumber the inputs. */
static void compact(plan *p) {
    int *to = malloc((size_t)p->n_steps * sizeof *to), m = 0;
    for (int i = 0; i < p->n_steps; i++) to[i] = p->S[i].dead ? -1 : m++;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->dead) continue;
        for (int k = 0; k < s->nd.n_in; k++)
            if (s->in[k] >= 0) s->in[k] = to[s->in[k]];
        if (s->skip >= 0) s->skip = to[s->skip];
        p->S[to[i]] = *s;
    }
    p->n_steps = m;
    free(to);
    for (int i = 0; i < p->g->n_nodes; i++) p->of_node[i] = -1;
    for (int i = 0; i < m; i++) p->of_node[p->S[i].src] = i;
}

/* ---- primitives ------------------------------------------------------- */

/* Whether step input k gets a gradient in backward. */
static int wants_grad(const plan *p, int k) {
    return p->o.grads && (k >= 0 || (k == GRAPH_INPUT(0) && (p->o.grads & PLAN_GRAD_INPUT)));
}

/* Bytes that the scratch buffers need, grown by the steps' setups. */
typedef struct {
    size_t padded, stage;
} extra_sizes;

static int setup_conv(plan *p, step *s, extra_sizes *x, nst_error *err) {
    const node *nd = &s->nd;
    tinfo in = info(p, s->in[0]);
    if (s->up > 1) in.h *= s->up, in.w *= s->up; /* the upsampling its padding reads through */
    int image = s->in[0] < 0, n = p->n, rc;
    int bf16 = p->o.precision == NST_PRECISION_BF16 && !s->to_bf16;
    int blk = image ? 0 : in.block; /* conv_setup_blocked's 0: an NCHW input */
    int fuse = nd->act == ACT_RELU ? POST_RELU : nd->act == ACT_RELU6 ? POST_RELU6 : POST_NONE;
    int h = in.h, w = in.w, t = 0, l = 0, b = 0, r = 0, oh, ow;
    if (nd->act != ACT_NONE && !fuse)
        return nst_fail(err, NST_ERR_FORMAT, "%s: %s: only ReLU and ReLU6 run fused in a convolution",
                        p->g->path, nd->name);
    if (nd->act == ACT_RELU6 && p->o.grads)
        return nst_fail(err, NST_ERR_ARG, "%s: %s: ReLU6 in a convolution has no backward",
                        p->g->path, nd->name);
    if (nd->pad == PAD_SAME) {
        same_padding(in.h, nd->k, nd->stride, &oh, &t, &b);
        same_padding(in.w, nd->k, nd->stride, &ow, &l, &r);
    } else if (pads_itself(nd)) {
        const int *q = nd->pads;
        if ((rc = (nd->pad == PAD_ZERO ? pad_setup_zero : pad_setup)(&s->pad, n, in.c, in.h, in.w, q[0], q[1], q[2],
                                                                     q[3], in.block, in.bf16, err)))
            return rc;
        if (s->up > 1) s->pad.up = s->up;
        h = s->pad.oh, w = s->pad.ow;
        if (!s->split) x->padded = max_sz(x->padded, blocked_numel(n, in.c, h, w, in.block) * esize(in.bf16));
    }
    if (s->split) { /* it pads its rows itself (none: zero pads) */
        if (!pads_itself(nd) && (rc = pad_setup(&s->pad, n, in.c, in.h, in.w, 0, 0, 0, 0, in.block, 0, err)))
            return rc;
        rc = split_conv_setup(&s->sconv, &s->pad, nd->cout, nd->k, nd->act == ACT_RELU, nd->alpha, nd->weight,
                              nd->bias, err);
        s->block = s->sconv.out_block, s->bf16 = 0;
        return rc;
    }
    rc = conv_setup_blocked(&s->conv, blk, bf16, fuse, nd->alpha, n, in.c, h, w, nd->cout, nd->groups, nd->k, nd->k,
                            nd->stride, t, l, b, r, nd->weight, nd->bias, err);
    if (!rc && (p->o.grads & PLAN_GRAD_PARAMS)) rc = conv_enable_training(&s->conv, err);
    if (rc) return rc;
    s->block = s->to_bf16 ? NST_NHWC : s->conv.dst_block;
    s->bf16 = p->o.precision == NST_PRECISION_BF16;
    if (s->to_bf16) {
        const dnnl_memory_desc_t *f32;
        dnnl_memory_desc_t lowp;
        dnnl_memory_get_memory_desc(s->conv.p.m_dst, &f32);
        dn_md(&lowp, n, s->c, s->h, s->w, NST_NHWC, 1);
        if ((rc = reorder_setup(&s->convert, f32, &lowp, NULL, 0, err)) ||
            (rc = reorder_setup(&s->convert_back, &lowp, f32, NULL, 0, err)))
            return rc;
    }
    if (!p->o.grads) return NST_OK;
    if (fuse == POST_RELU && !s->act_in_pool &&
        (rc = eltwise_setup(&s->eltwise, ELTWISE_RELU, nd->alpha, n, s->c, s->h, s->w, s->block, s->bf16, err)))
        return rc;
    /* large maps: the input gradient without the padded one (see
     * reflect_grad.c); on smaller ones its border loop costs more than it
     * saves (measured on VGG19: gains from 192x256 on, loses at 96x128) */
    const int *q = nd->pads;
    if (nd->pad == PAD_REFLECT && !image && !bf16 && nd->stride == 1 && q[0] == (nd->k - 1) / 2 &&
        q[0] == q[1] && q[0] == q[2] && q[0] == q[3] && in.h * in.w >= 40000) {
        nst_error quiet; /* not for this layout: the padded gradient it is */
        s->rgrad_on = !reflect_grad_setup(&s->rgrad, in.block, s->conv.dst_block, n, in.c, in.h, in.w,
                                          nd->cout, nd->k, nd->weight, &quiet);
    }
    if (image && wants_grad(p, s->in[0])) {
        /* the image's gradient leaves oneDNN's layout for NCHW (padded, for
         * a reflect conv: pad_backward folds it in NCHW) */
        const dnnl_memory_desc_t *from;
        dnnl_memory_desc_t to;
        dnnl_memory_get_memory_desc(s->conv.p.m_dsrc, &from);
        dn_md(&to, n, in.c, h, w, 1, 0);
        x->stage = max_sz(x->stage, dnnl_memory_desc_get_size(from));
        x->padded = max_sz(x->padded, numel(n, in.c, h, w) * sizeof(float));
        if ((rc = reorder_setup(&s->to_nchw, from, &to, NULL, 0, err))) return rc;
    }
    return NST_OK;
}

/* Activations that run as oneDNN eltwise primitives (vectorised, any
 * layout, bf16): ReLU / LeakyReLU and the plain logistic; the others are
 * act_plain's loops. */
static int on_dnnl(const node *nd) {
    return nd->act == ACT_RELU || (nd->act == ACT_SIGMOID && nd->a == 1 && nd->b == 0);
}

static int setup_step(plan *p, step *s, extra_sizes *x, nst_error *err) {
    const node *nd = &s->nd;
    tinfo in = info(p, s->in[0]);
    int n = p->n, rc = NST_OK, bf16 = p->o.precision == NST_PRECISION_BF16;
    s->block = in.block, s->bf16 = in.bf16;
    if (bf16 && s->in[0] < 0 && nd->op != OP_CONV)
        return nst_fail(err, NST_ERR_ARG, "%s: bf16 precision needs a network that starts with "
                        "a convolution", p->g->path);
    int plain = nd->op == OP_UPSAMPLE || nd->op == OP_INSTNORM || nd->op == OP_ADD ||
                nd->op == OP_MEAN || (nd->op == OP_ACT && !on_dnnl(nd));
    if (plain && bf16)
        return nst_fail(err, NST_ERR_ARG, "%s: %s has no bfloat16 implementation; use float32 precision",
                        p->g->path, nd->name);
    switch (nd->op) {
    case OP_CONV: return setup_conv(p, s, x, err);
    case OP_DECONV:
        rc = deconv_setup(&s->deconv, s->in[0] < 0 ? 1 : in.block, n, in.c, in.h, in.w, nd->cout, nd->k,
                          nd->stride, nd->weight, nd->bias, err);
        if (!rc && (p->o.grads & PLAN_GRAD_PARAMS)) rc = deconv_enable_training(&s->deconv, err);
        s->block = s->deconv.dst_block;
        break;
    case OP_ACT:
        if (on_dnnl(nd))
            rc = eltwise_setup(&s->eltwise, nd->act == ACT_RELU ? ELTWISE_RELU : ELTWISE_LOGISTIC, nd->alpha, n,
                               s->c, s->h, s->w, s->block, s->bf16, err);
        break;
    case OP_POOL:
        rc = pool_setup(&s->pool, nd->pool_avg ? POOL_AVG : POOL_MAX, n, in.c, in.h, in.w, nd->k,
                        nd->stride, in.block, in.bf16, err);
        if (!rc && s->pool_act)
            rc = eltwise_setup(&s->eltwise, ELTWISE_RELU, s->pool_alpha, n, s->c, s->h, s->w, s->block, s->bf16, err);
        break;
    case OP_PAD:
        rc = pad_setup(&s->pad, n, in.c, in.h, in.w, nd->pads[0], nd->pads[1], nd->pads[2],
                       nd->pads[3], in.block, in.bf16, err);
        break;
    case OP_ADD:
        if (info(p, s->in[1]).block != in.block)
            return nst_fail(err, NST_ERR_INTERNAL, "%s: the inputs of %s are in different layouts",
                            p->g->path, nd->name);
        break;
    case OP_INSTNORM:
        if (s->skip >= 0 && info(p, s->skip).block != in.block)
            return nst_fail(err, NST_ERR_INTERNAL, "%s: the residual of %s is in another layout",
                            p->g->path, nd->name);
        if (nd->n_in == 3 && p->o.grads)
            return nst_fail(err, NST_ERR_ARG, "%s: %s: conditional instance norm has no backward",
                            p->g->path, nd->name);
        break;
    case OP_UPSAMPLE: case OP_MEAN: break;
    }
    return rc;
}

/* Backward bookkeeping: in reverse order, the first step to write an
 * input's gradient overwrites it (plan.h: first[], grad_written). */
static void writers(plan *p) {
    char *done = calloc((size_t)p->n_steps + 1, 1); /* [n_steps]: the image */
    for (int i = p->n_steps - 1; i >= 0; i--) {
        step *s = &p->S[i];
        s->grad_written = done[i] || (p->g->image_out && i == p->n_steps - 1);
        int ins[4] = {s->in[0], s->in[1], s->in[2], s->skip};
        for (int j = 0; j < 4; j++) {
            int k = ins[j];
            if ((j < 3 && j >= s->nd.n_in) || (j == 3 && k < 0) || (s->nd.op == OP_INSTNORM && j == 1) ||
                (s->nd.op == OP_INSTNORM && j == 2) || !wants_grad(p, k))
                continue;
            char *d = &done[k >= 0 ? k : p->n_steps];
            s->first[j] = !*d;
            *d = 1;
        }
    }
    free(done);
}

static int setup_taps(plan *p, nst_error *err) {
    for (int i = 0; i < p->g->n_nodes && p->o.tapped; i++) {
        if (!p->o.tapped[i]) continue;
        if (p->of_node[i] < 0)
            return nst_fail(err, NST_ERR_INTERNAL, "%s: %s is not computed by the plan", p->g->path,
                            p->g->nodes[i].name);
        step *s = &p->S[p->of_node[i]];
        int rc = NST_OK;
        if (p->o.tapped[i] & TAP_GRAM) rc = gram_setup(&s->gram, s->c, s->h, s->w, s->block, s->bf16, err);
        if (!rc && (p->o.tapped[i] & TAP_COPY)) {
            dnnl_memory_desc_t act, nchw;
            dn_md(&act, p->n, s->c, s->h, s->w, s->block, s->bf16);
            dn_md(&nchw, p->n, s->c, s->h, s->w, 1, 0);
            rc = reorder_setup(&s->to_out, &act, &nchw, NULL, 0, err);
            if (!rc) rc = reorder_setup(&s->add_grad, &nchw, &act, NULL, s->grad_written, err);
        }
        if (rc) return rc;
    }
    return NST_OK;
}

/* ---- buffers ------------------------------------------------------------ */

/* Greedy sharing: value v lives from birth[v] to death[v] (inclusive);
 * taken in order of birth, each gets the largest slot no live value uses
 * (grown to fit) or a new one. Sets off[v]; returns the bytes of all slots. */
static size_t share(int n, const size_t *size, const int *birth, const int *death, size_t *off) {
    size_t *slot = calloc((size_t)n + 1, sizeof *slot), total = 0;
    int *busy = calloc((size_t)n + 1, sizeof *busy), *of = calloc((size_t)n + 1, sizeof *of);
    int *order = calloc((size_t)n + 1, sizeof *order), m = 0;
    if (!slot || !busy || !of || !order) {
        free(slot), free(busy), free(of), free(order);
        return SIZE_MAX;
    }
    for (int v = 0; v < n; v++) order[v] = v;
    for (int a = 1; a < n; a++) /* insertion sort by birth: n is small */
        for (int b = a; b > 0 && birth[order[b - 1]] > birth[order[b]]; b--) {
            int t = order[b];
            order[b] = order[b - 1], order[b - 1] = t;
        }
    for (int q = 0; q < n; q++) {
        int v = order[q], best = -1;
        of[v] = -1;
        if (!size[v]) continue;
        for (int k = 0; k < m; k++)
            if (busy[k] < birth[v] && (best < 0 || slot[k] > slot[best])) best = k;
        if (best < 0) best = m++;
        slot[best] = max_sz(slot[best], up64(size[v]));
        busy[best] = death[v];
        of[v] = best;
    }
    for (int k = 0; k < m; k++) {
        size_t s = slot[k];
        slot[k] = total;
        total += s;
    }
    for (int v = 0; v < n; v++) off[v] = of[v] < 0 ? 0 : slot[of[v]];
    free(slot), free(busy), free(of), free(order);
    return total;
}

/* Whether step s reads step i's output. */
static int reads(const step *s, int i) {
    for (int k = 0; k < s->nd.n_in; k++)
        if (s->in[k] == i) return 1;
    return s->skip == i;
}

/* Last step that reads step i's output (NEVER: kept to the end). */
static int last_reader(const plan *p, int i) {
    const step *s = &p->S[i];
    if ((p->o.tapped && p->o.tapped[s->src]) || i == p->n_steps - 1 || p->o.grads || s->constant)
        return NEVER;
    int last = i;
    for (int j = i + 1; j < p->n_steps; j++)
        if (reads(&p->S[j], i)) last = j;
    return last;
}

/* Point every buffer into the arena (NULL: count the bytes only); returns
 * the arena's size, SIZE_MAX when out of memory. */
static size_t place(plan *p, char *arena, const extra_sizes *x) {
    size_t off = 0, f = sizeof(float);
    const graph *g = p->g;
#define TAKE(ptr, bytes) ((ptr) = arena ? (void *)(arena + off) : NULL, off += up64(bytes))
    for (int k = 0; k < g->n_inputs; k++)
        TAKE(p->input[k], numel(p->n, g->input_c[k], k ? 1 : p->h, k ? 1 : p->w) * f);
    if (p->o.grads & PLAN_GRAD_INPUT) TAKE(p->dinput, numel(p->n, 3, p->h, p->w) * f);
    if (g->image_out) TAKE(p->output, numel(p->n, 3, p->h, p->w) * f);
    if (x->padded) TAKE(p->padded, x->padded);
    if (x->stage) TAKE(p->stage, x->stage);
    size_t biggest = 0, gram_biggest = 0;
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        biggest = max_sz(biggest, out_bytes(p, s));
        if (s->to_bf16) {
            size_t b32 = blocked_numel(p->n, s->c, s->h, s->w, s->conv.dst_block) * f;
            TAKE(s->act32, b32);
            if (p->o.grads) TAKE(s->grad32, b32);
        }
        if (s->nd.op == OP_INSTNORM) TAKE(s->mean, (size_t)p->n * s->c * f), TAKE(s->rstd, (size_t)p->n * s->c * f);
        unsigned char t = p->o.tapped ? p->o.tapped[s->src] : 0;
        if (t & TAP_COPY) {
            TAKE(s->out, numel(p->n, s->c, s->h, s->w) * f);
            TAKE(s->loss_grad, numel(p->n, s->c, s->h, s->w) * f);
        }
        if (t & TAP_GRAM) {
            TAKE(s->style_grad, numel(p->n, guides(p), s->c, s->c) * f);
            if (p->o.guides) TAKE(s->guide, numel(p->o.guides, 1, s->h, s->w) * f);
            gram_biggest = max_sz(gram_biggest, image_bytes(s));
        }
    }
    if (p->o.grads) TAKE(p->scratch, biggest);
    if (p->o.guides) TAKE(p->weighted, gram_biggest);
    /* activations in step order; gradients in backward order, born when
     * their first writer runs (their own step when nothing reads them) */
    int n = p->n_steps;
    size_t *size = calloc((size_t)n + 1, sizeof *size), *at = calloc((size_t)n + 1, sizeof *at);
    int *birth = calloc((size_t)n + 1, sizeof *birth), *death = calloc((size_t)n + 1, sizeof *death);
    size_t acts = SIZE_MAX, grads = 0;
    if (!size || !at || !birth || !death) goto out;
    for (int i = 0; i < n; i++) size[i] = out_bytes(p, &p->S[i]), birth[i] = i, death[i] = last_reader(p, i);
    if ((acts = share(n, size, birth, death, at)) == SIZE_MAX) goto out;
    for (int i = 0; i < n; i++) p->S[i].act = arena ? arena + off + at[i] : NULL;
    off += acts;
    if (p->o.grads) {
        /* in backward time t = n - 1 - (the step running): step i's
         * gradient is born when its first writer (its last reader) runs, or
         * at its own step when nothing reads it, and dies after its step */
        for (int i = 0; i < n; i++) {
            int first = i;
            for (int j = i + 1; j < n; j++)
                if (reads(&p->S[j], i)) first = j;
            birth[i] = n - 1 - first, death[i] = n - 1 - i;
        }
        if ((grads = share(n, size, birth, death, at)) == SIZE_MAX) goto out;
        for (int i = 0; i < n; i++) p->S[i].grad = arena ? arena + off + at[i] : NULL;
        off += grads;
    }
out:
    free(size), free(at), free(birth), free(death);
    if (acts == SIZE_MAX || grads == SIZE_MAX) return SIZE_MAX;
#undef TAKE
    return off;
}

/* ---- create / destroy ------------------------------------------------- */

/* Everything but the arena: steps, shapes, rewrites, primitives, taps;
 * *bytes gets the arena's size. */
static int plan_build(plan *p, const graph *g, int n, int h, int w, const plan_opts *o, extra_sizes *x,
                      size_t *bytes, nst_error *err) {
    memset(p, 0, sizeof *p);
    p->g = g, p->n = n, p->h = h, p->w = w, p->o = *o;
    int last = g->n_nodes - 1;
    if (o->tapped) {
        last = -1;
        for (int i = 0; i < g->n_nodes; i++)
            if (o->tapped[i]) last = i;
        if (last < 0) return nst_fail(err, NST_ERR_ARG, "no layer of %s is used by any loss", g->path);
    }
    if (o->precision == NST_PRECISION_BF16 && !dn_has_bf16())
        return nst_fail(err, NST_ERR_CPU,
                        "bf16 precision: this CPU has no bfloat16 instructions (AVX512-BF16 or "
                        "AMX), so it would run far slower than fp32");
    if (n < 1 || h < 1 || w < 1)
        return nst_fail(err, NST_ERR_ARG, "%s: cannot run on a %dx%d image", g->path, w, h);
    p->n_steps = last + 1;
    p->S = calloc((size_t)p->n_steps, sizeof *p->S);
    p->of_node = malloc((size_t)g->n_nodes * sizeof *p->of_node);
    if (!p->S || !p->of_node) {
        plan_destroy(p);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory planning %dx%d", w, h);
    }
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        s->nd = g->nodes[i], s->src = i, s->skip = -1;
        memcpy(s->in, g->nodes[i].in, sizeof s->in);
    }
    int rc = shapes(p, err);
    if (!rc) {
        rewrite_plan(p);
        compact(p);
    }
    /* steps that read only graph inputs beyond the image (and such steps) */
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        s->constant = s->nd.op != OP_INSTNORM;
        for (int k = 0; k < s->nd.n_in; k++)
            s->constant &= s->in[k] < GRAPH_INPUT(0) || (s->in[k] >= 0 && p->S[s->in[k]].constant);
    }
    for (int i = 0; i < p->n_steps && !rc; i++) rc = setup_step(p, &p->S[i], x, err);
    if (!rc) {
        writers(p);
        rc = setup_taps(p, err);
    }
    if (!rc && (*bytes = place(p, NULL, x)) == SIZE_MAX) rc = nst_fail(err, NST_ERR_NOMEM, "out of memory");
    if (rc) plan_destroy(p);
    return rc;
}

int plan_create(plan *p, const graph *g, int n, int h, int w, const plan_opts *o, nst_error *err) {
    extra_sizes x = {0, 0};
    size_t total = 0;
    int rc = plan_build(p, g, n, h, w, o, &x, &total, err);
    if (rc) return rc;
    p->arena = aligned_alloc(64, total ? total : 64);
    if (!p->arena) {
        plan_destroy(p);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory: a %dx%d image needs %.1f GiB of activations",
                        w, h, total / (double)(1 << 30));
    }
    memset(p->arena, 0, total);
    if (place(p, p->arena, &x) == SIZE_MAX) {
        plan_destroy(p);
        return nst_fail(err, NST_ERR_NOMEM, "out of memory");
    }
    return NST_OK;
}

int plan_bytes(const graph *g, int n, int h, int w, const plan_opts *o, double *bytes, nst_error *err) {
    plan p;
    extra_sizes x = {0, 0};
    size_t total = 0;
    int rc = plan_build(&p, g, n, h, w, o, &x, &total, err);
    if (rc) return rc;
    *bytes = (double)total;
    plan_destroy(&p);
    return NST_OK;
}

void plan_destroy(plan *p) {
    for (int i = 0; i < p->n_steps && p->S; i++) {
        step *s = &p->S[i];
        conv_destroy(&s->conv);
        split_conv_destroy(&s->sconv);
        deconv_destroy(&s->deconv);
        reflect_grad_destroy(&s->rgrad);
        eltwise_destroy(&s->eltwise);
        pool_destroy(&s->pool);
        reorder_destroy(&s->convert);
        reorder_destroy(&s->convert_back);
        reorder_destroy(&s->to_nchw);
        reorder_destroy(&s->to_out);
        reorder_destroy(&s->add_grad);
        gram_destroy(&s->gram);
    }
    free(p->S);
    free(p->of_node);
    free(p->arena);
    memset(p, 0, sizeof *p);
}

/* ---- forward ------------------------------------------------------------ */

/* Elementwise activations other than ReLU (float32, any layout: the
 * padding lanes of a blocked layout get values nobody reads). */
static void act_plain(const node *nd, size_t m, const float *x, float *y) {
    switch (nd->act) {
    case ACT_RELU6:
        for (size_t i = 0; i < m; i++) y[i] = x[i] < 0 ? 0 : x[i] > 6 ? 6 : x[i];
        break;
    case ACT_TANH: tanh_forward(m, nd->a, nd->b, x, y); break;
    case ACT_SIGMOID:
#pragma omp parallel for schedule(static) if (m > 65536)
        for (size_t i = 0; i < m; i++) y[i] = nd->a / (1.0f + expf(-x[i])) + nd->b;
        break;
    case ACT_RELU: act_forward(nd->alpha, m, x, y); break;
    case ACT_NONE: if (y != x) memcpy(y, x, m * sizeof *y); break;
    }
}

/* dx from y and dy: relu6' = (0 < y < 6); tanh' from y (activation.c);
 * sigmoid' = s (1 - s) a with s = (y - b) / a. */
static void act_plain_backward(const node *nd, size_t m, const float *y, const float *dy, float *dx) {
    switch (nd->act) {
    case ACT_RELU6:
        for (size_t i = 0; i < m; i++) dx[i] = y[i] > 0 && y[i] < 6 ? dy[i] : 0;
        break;
    case ACT_TANH: tanh_backward(m, nd->a, nd->b, y, dy, dx); break;
    case ACT_SIGMOID:
        for (size_t i = 0; i < m; i++) {
            float s = (y[i] - nd->b) / nd->a;
            dx[i] = dy[i] * nd->a * s * (1 - s);
        }
        break;
    case ACT_RELU: act_backward(nd->alpha, m, y, dy, dx); break;
    case ACT_NONE: if (dx != dy) memcpy(dx, dy, m * sizeof *dx); break;
    }
}

/* Per image and channel, the mean over h x w of a blocked tensor. */
static void mean_forward(int n, int c, int h, int w, int block, const float *x, float *y) {
    int lanes = block_elems(block, c), cb = (c + lanes - 1) / lanes;
    size_t hw = (size_t)h * w;
    memset(y, 0, (size_t)n * cb * lanes * sizeof *y);
    for (int b = 0; b < n; b++)
        for (int q = 0; q < cb; q++) {
            const float *src = x + ((size_t)b * cb + q) * hw * lanes;
            float *dst = y + ((size_t)b * cb + q) * lanes;
            for (size_t i = 0; i < hw; i++)
                for (int l = 0; l < lanes; l++) dst[l] += src[i * lanes + l];
            for (int l = 0; l < lanes; l++) dst[l] /= (float)hw;
        }
}

static void mean_backward(int n, int c, int h, int w, int block, const float *dy, float *dx) {
    int lanes = block_elems(block, c), cb = (c + lanes - 1) / lanes;
    size_t hw = (size_t)h * w;
    for (int b = 0; b < n; b++)
        for (int q = 0; q < cb; q++) {
            const float *src = dy + ((size_t)b * cb + q) * lanes;
            float *dst = dx + ((size_t)b * cb + q) * hw * lanes;
            for (size_t i = 0; i < hw; i++)
                for (int l = 0; l < lanes; l++) dst[i * lanes + l] = src[l] / (float)hw;
        }
}

static void instnorm_run(plan *p, step *s, int fixed) {
    const node *nd = &s->nd;
    tinfo x = info(p, s->in[0]);
    int hw = s->h * s->w;
    const float *in = in_act(p, s->in[0]), *skip = s->skip >= 0 ? p->S[s->skip].act : NULL;
    if (!fixed) instnorm_stats(p->n, s->c, hw, s->block, nd->eps, in, s->mean, s->rstd);
    if (nd->n_in == 1) {
        instnorm_apply(p->n, s->c, hw, s->block, in, nd->scale, nd->shift, s->mean, s->rstd, skip,
                       nd->act == ACT_RELU, s->act);
        return;
    }
    /* conditional: scale and shift per image, c floats at the start of each
     * image's 1 x 1 map in any layout */
    size_t img = blocked_numel(1, s->c, s->h, s->w, x.block);
    tinfo sc = info(p, s->in[1]), sh = info(p, s->in[2]);
    size_t vs = blocked_numel(1, s->c, 1, 1, sc.block), vh = blocked_numel(1, s->c, 1, 1, sh.block);
    for (int b = 0; b < p->n; b++)
        instnorm_apply(1, s->c, hw, s->block, in + b * img, (const float *)in_act(p, s->in[1]) + b * vs,
                       (const float *)in_act(p, s->in[2]) + b * vh, s->mean + (size_t)b * s->c,
                       s->rstd + (size_t)b * s->c, skip ? skip + b * img : NULL, nd->act == ACT_RELU,
                       (float *)s->act + b * img);
}

/* Index of element (b, c, y, x) of an n x c x h x w tensor in layout block. */
static size_t blocked_at(int c_all, int h, int w, int block, int b, int c, int y, int x) {
    int lanes = block_elems(block, c_all), cb = (c_all + lanes - 1) / lanes;
    return ((((size_t)b * cb + c / lanes) * h + y) * w + x) * lanes + c % lanes;
}

static void step_forward(plan *p, step *s, int flags) {
    const node *nd = &s->nd;
    const void *in = in_act(p, s->in[0]);
    tinfo x = info(p, s->in[0]);
    switch (nd->op) {
    case OP_CONV:
        if (s->split) {
            split_conv_forward(&s->sconv, in, s->act);
            break;
        }
        if (pads_itself(nd)) {
            pad_forward(&s->pad, in, p->padded);
            in = p->padded;
        }
        conv_forward(&s->conv, in, s->to_bf16 ? s->act32 : s->act);
        if (s->to_bf16) reorder_run(&s->convert, s->act32, s->act);
        break;
    case OP_DECONV: deconv_forward(&s->deconv, in, s->act); break;
    case OP_ACT:
        if (on_dnnl(nd)) eltwise_forward(&s->eltwise, in, s->act);
        else act_plain(nd, out_elems(p, s), in, s->act);
        break;
    case OP_POOL: pool_forward(&s->pool, in, s->act); break;
    case OP_PAD: pad_forward(&s->pad, in, s->act); break;
    case OP_UPSAMPLE: upsample_forward(p->n, s->c, x.h, x.w, x.block, nd->factor, in, s->act); break;
    case OP_INSTNORM: instnorm_run(p, s, flags & PLAN_FIXED_STATS); break;
    case OP_ADD: {
        const float *a = in, *b = in_act(p, s->in[1]);
        float *y = s->act;
        size_t m = out_elems(p, s);
        for (size_t k = 0; k < m; k++) y[k] = a[k] + b[k];
        break;
    }
    case OP_MEAN: mean_forward(p->n, s->c, x.h, x.w, x.block, in, s->act); break;
    }
    if (s->out) reorder_run(&s->to_out, s->act, s->out);
}

/* The steps that read no image (the conditional norms' scales and shifts
 * from the style vector) run once here, not in every forward. */
void plan_set_input(plan *p, int k, const float *x) {
    memcpy(p->input[k], x, (size_t)p->n * p->g->input_c[k] * sizeof(float));
    for (int i = 0; i < p->n_steps; i++)
        if (p->S[i].constant) step_forward(p, &p->S[i], 0);
}

void plan_forward(plan *p, const float *image, int flags) {
    const graph *g = p->g;
    size_t hw = (size_t)p->h * p->w;
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++) {
            const float *src = image + ((size_t)b * 3 + c) * hw;
            float *dst = p->input[0] + ((size_t)b * 3 + c) * hw;
            for (size_t i = 0; i < hw; i++) dst[i] = src[i] * g->in_scale[c] + g->in_shift[c];
        }
    for (int i = 0; i < p->n_steps; i++)
        if (!p->S[i].constant) step_forward(p, &p->S[i], flags);
    if (!g->image_out) return;
    /* the image: y * out_scale + out_shift clipped to 0..255, top-left h x w
     * (a network may yield a few more rows and columns) */
    const step *last = &p->S[p->n_steps - 1];
    const float *y = last->act;
#pragma omp parallel for collapse(3) schedule(static)
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++)
            for (int r = 0; r < p->h; r++) {
                float *dst = p->output + (((size_t)b * 3 + c) * p->h + r) * p->w;
                for (int q = 0; q < p->w; q++) {
                    float v = y[blocked_at(3, last->h, last->w, last->block, b, c, r, q)] * g->out_scale +
                              g->out_shift;
                    dst[q] = v < 0 ? 0 : v > 255 ? 255 : v;
                }
            }
}

/* ---- backward ----------------------------------------------------------- */

static void add_into(void *dst, const void *src, size_t m, int bf16) {
    if (!bf16) {
        float *d = dst;
        const float *s = src;
        for (size_t i = 0; i < m; i++) d[i] += s[i];
        return;
    }
    uint16_t *d = dst;
    const uint16_t *s = src;
    for (size_t i = 0; i < m; i++) d[i] = f32_to_bf16(bf16_to_f32(d[i]) + bf16_to_f32(s[i]));
}

/* Where step s writes the gradient of its input j (3: the skip): the
 * input's own gradient when s writes it first, else scratch (then
 * `deliver` adds it). NULL when that input needs no gradient. */
static void *grad_dst(plan *p, const step *s, int j) {
    int k = j == 3 ? s->skip : s->in[j];
    if (!wants_grad(p, k)) return NULL;
    if (!s->first[j]) return p->scratch;
    return k >= 0 ? p->S[k].grad : p->dinput;
}

static void deliver(plan *p, const step *s, int j) {
    int k = j == 3 ? s->skip : s->in[j];
    if (!wants_grad(p, k) || s->first[j]) return;
    tinfo x = info(p, k);
    size_t m = k >= 0 ? out_elems(p, &p->S[k]) : numel(p->n, 3, p->h, p->w);
    add_into(k >= 0 ? p->S[k].grad : p->dinput, p->scratch, m, x.bf16);
}

/* A gradient written by the input gradient itself (copy or add). */
static void pass_to(plan *p, const step *s, int j, const void *g, size_t bytes) {
    void *d = grad_dst(p, s, j);
    if (!d) return;
    memcpy(d, g, bytes);
    deliver(p, s, j);
}

static void conv_backward_step(plan *p, step *s, float *dparams) {
    const node *nd = &s->nd;
    void *g = s->grad;
    if (nd->act == ACT_RELU && !s->act_in_pool) eltwise_backward(&s->eltwise, s->act, g, g);
    if (s->to_bf16) {
        reorder_run(&s->convert_back, g, s->grad32);
        g = s->grad32;
    }
    const void *in = in_act(p, s->in[0]);
    if (dparams) {
        if (pads_itself(nd)) pad_forward(&s->pad, in, p->padded);
        const float *x = pads_itself(nd) ? p->padded : in;
        conv_backward_weights(&s->conv, x, g, dparams + (nd->weight - p->g->params),
                              nd->bias ? dparams + (nd->bias - p->g->params) : NULL);
    }
    void *d = grad_dst(p, s, 0);
    if (!d) return;
    if (s->in[0] < 0) { /* the image: oneDNN's layout -> NCHW, then the padding folded */
        conv_backward(&s->conv, g, p->stage);
        if (pads_itself(nd)) {
            reorder_run(&s->to_nchw, p->stage, p->padded);
            pad_backward(&s->pad, p->padded, d);
        } else {
            reorder_run(&s->to_nchw, p->stage, d);
        }
    } else if (s->rgrad_on) {
        reflect_grad_backward(&s->rgrad, g, d);
    } else if (pads_itself(nd)) {
        conv_backward(&s->conv, g, p->padded);
        pad_backward(&s->pad, p->padded, d);
    } else {
        conv_backward(&s->conv, g, d);
    }
    deliver(p, s, 0);
}

static void instnorm_backward_step(plan *p, step *s, float *dparams) {
    const node *nd = &s->nd;
    size_t m = out_elems(p, s);
    float *g = s->grad;
    if (nd->act == ACT_RELU) act_backward(0.0f, m, s->act, g, g);
    if (s->skip >= 0) pass_to(p, s, 3, g, m * sizeof(float)); /* y = IN(x) + skip */
    float *d = grad_dst(p, s, 0);
    if (!d) return;
    const graph *G = p->g;
    instnorm_backward(p->n, s->c, s->h * s->w, s->block, in_act(p, s->in[0]), nd->scale, s->mean,
                      s->rstd, g, d, dparams ? dparams + (nd->scale - G->params) : NULL,
                      dparams ? dparams + (nd->shift - G->params) : NULL);
    deliver(p, s, 0);
}

static void step_backward(plan *p, step *s, float *dparams) {
    const node *nd = &s->nd;
    tinfo x = info(p, s->in[0]);
    void *g = s->grad, *d;
    switch (nd->op) {
    case OP_CONV: conv_backward_step(p, s, dparams); return;
    case OP_INSTNORM: instnorm_backward_step(p, s, dparams); return;
    case OP_ADD:
        pass_to(p, s, 0, g, out_bytes(p, s));
        pass_to(p, s, 1, g, out_bytes(p, s));
        return;
    case OP_DECONV:
        if (dparams)
            deconv_backward_weights(&s->deconv, in_act(p, s->in[0]), g,
                                    dparams + (nd->weight - p->g->params),
                                    nd->bias ? dparams + (nd->bias - p->g->params) : NULL);
        break;
    case OP_POOL:
        if (s->pool_act) eltwise_backward(&s->eltwise, s->act, g, g);
        break;
    default: break;
    }
    if (!(d = grad_dst(p, s, 0))) return;
    switch (nd->op) {
    case OP_DECONV: deconv_backward(&s->deconv, g, d); break;
    case OP_ACT:
        if (on_dnnl(nd)) eltwise_backward(&s->eltwise, s->act, g, d);
        else act_plain_backward(nd, out_elems(p, s), s->act, g, d);
        break;
    case OP_POOL: pool_backward(&s->pool, g, d); break;
    case OP_PAD: pad_backward(&s->pad, g, d); break;
    case OP_UPSAMPLE: upsample_backward(p->n, s->c, x.h, x.w, x.block, nd->factor, g, d); break;
    case OP_MEAN: mean_backward(p->n, s->c, x.h, x.w, x.block, g, d); break;
    default: break;
    }
    deliver(p, s, 0);
}

/* The gradient of an image output: dout (n x 3 x h x w) placed into the
 * last step's layout, times out_scale; rows and columns beyond h x w (and
 * padding lanes) did not reach the output. */
static void output_grad(plan *p, const float *dout) {
    step *last = &p->S[p->n_steps - 1];
    float *d = last->grad;
    memset(d, 0, out_bytes(p, last));
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++)
            for (int y = 0; y < p->h; y++) {
                const float *src = dout + (((size_t)b * 3 + c) * p->h + y) * p->w;
                for (int x = 0; x < p->w; x++)
                    d[blocked_at(3, last->h, last->w, last->block, b, c, y, x)] = src[x] * p->g->out_scale;
            }
}

void plan_backward(plan *p, const float *dout, float *dimage, float *dparams) {
    if (dparams) memset(dparams, 0, p->g->n_params * sizeof *dparams);
    for (int i = p->n_steps - 1; i >= 0; i--) {
        step *s = &p->S[i];
        if (p->g->image_out && i == p->n_steps - 1) output_grad(p, dout);
        else if (!s->grad_written && !s->loss_grad) memset(s->grad, 0, out_bytes(p, s));
        /* what the losses put on this step's output */
        if (s->loss_grad) reorder_run(&s->add_grad, s->loss_grad, s->grad);
        if (s->style_grad) {
            size_t bytes = image_bytes(s), cc = (size_t)s->c * s->c, hw = (size_t)s->h * s->w;
            for (int b = 0; b < p->n; b++)
                for (int r = 0; r < guides(p); r++) {
                    /* guided: dF += S_r F diag(m_r); a region without a loss adds nothing */
                    const float *S = s->style_grad + ((size_t)b * guides(p) + r) * cc;
                    const void *x = (char *)s->act + b * bytes;
                    if (p->o.guides) {
                        size_t k = 0;
                        while (k < cc && S[k] == 0) k++;
                        if (k == cc) continue;
                        gram_weigh(&s->gram, x, s->guide + r * hw, p->weighted);
                        x = p->weighted;
                    }
                    gram_backward(&s->gram, x, S, (char *)s->grad + b * bytes);
                }
        }
        step_backward(p, s, dparams);
    }
    if (!dimage) return;
    size_t hw = (size_t)p->h * p->w;
    for (int b = 0; b < p->n; b++)
        for (int c = 0; c < 3; c++) {
            const float *src = p->dinput + ((size_t)b * 3 + c) * hw;
            float *dst = dimage + ((size_t)b * 3 + c) * hw, sc = p->g->in_scale[c];
            for (size_t k = 0; k < hw; k++) dst[k] = src[k] * sc;
        }
}

void plan_weights_changed(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        if (p->S[i].nd.op == OP_CONV && p->S[i].split) split_conv_weights_changed(&p->S[i].sconv);
        else if (p->S[i].nd.op == OP_CONV) conv_weights_changed(&p->S[i].conv);
        if (p->S[i].nd.op == OP_DECONV) deconv_weights_changed(&p->S[i].deconv);
    }
}

/* ---- accessors ---------------------------------------------------------- */

plan_tap plan_tap_of(const plan *p, int node) {
    const step *s = &p->S[p->of_node[node]];
    return (plan_tap){s->c, s->h, s->w, s->out, s->loss_grad, s->style_grad, s->guide};
}

double plan_gram(plan *p, int node, int b, int r, float *G) {
    step *s = &p->S[p->of_node[node]];
    const void *x = (char *)s->act + b * image_bytes(s), *weighted = x;
    size_t hw = (size_t)s->h * s->w;
    double n = (double)hw;
    if (p->o.guides) {
        const float *m = s->guide + r * hw;
        n = 0;
        for (size_t k = 0; k < hw; k++) n += m[k];
        gram_weigh(&s->gram, x, m, p->weighted);
        weighted = p->weighted;
    }
    gram_forward(&s->gram, x, weighted, n, G);
    return n;
}

void plan_zero_loss_grads(plan *p) {
    for (int i = 0; i < p->n_steps; i++) {
        step *s = &p->S[i];
        if (s->loss_grad) memset(s->loss_grad, 0, numel(p->n, s->c, s->h, s->w) * sizeof(float));
        if (s->style_grad) memset(s->style_grad, 0, numel(p->n, guides(p), s->c, s->c) * sizeof(float));
    }
}

void plan_vector(const plan *p, int b, float *v, int c) {
    const step *s = &p->S[p->n_steps - 1];
    const float *y = (const float *)s->act + b * blocked_numel(1, s->c, s->h, s->w, s->block);
    for (int k = 0; k < c && k < s->c; k++) v[k] = y[blocked_at(s->c, s->h, s->w, s->block, 0, k, 0, 0)];
}

void plan_copy_stats(plan *dst, const plan *src) {
    for (int i = 0; i < dst->n_steps && i < src->n_steps; i++)
        if (dst->S[i].mean && src->S[i].mean) {
            memcpy(dst->S[i].mean, src->S[i].mean, (size_t)dst->n * dst->S[i].c * sizeof(float));
            memcpy(dst->S[i].rstd, src->S[i].rstd, (size_t)dst->n * dst->S[i].c * sizeof(float));
        }
}

double plan_conv_flops(const plan *p, double *image) {
    double total = 0, first = 0;
    for (int i = 0; i < p->n_steps; i++) {
        const step *s = &p->S[i];
        const node *nd = &s->nd;
        if (nd->op != OP_CONV && nd->op != OP_DECONV) continue;
        tinfo x = info(p, s->in[0]);
        double positions = nd->op == OP_DECONV ? (double)x.h * x.w : (double)s->h * s->w;
        double f = 2.0 * nd->cin / nd->groups * nd->k * nd->k * nd->cout * positions * p->n;
        total += f;
        if (s->in[0] == GRAPH_INPUT(0)) first += f;
    }
    if (image) *image = first;
    return total;
}
