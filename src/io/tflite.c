/* tflite.c: TensorFlow Lite flatbuffers (tensorflow/lite/schema/schema.fbs)
 * read by hand into a graph.
 *
 * A flatbuffer is a u32 offset to the root table (here a Model) and the
 * identifier "TFL3". A table starts with an i32 back to its vtable
 * (vtable = table - i32): u16 vtable size, u16 table size, then one u16 per
 * field slot, the field's offset in the table (0: absent, take the default).
 * Strings, vectors and sub-tables are u32 offsets relative to where the
 * offset is stored; a vector is a u32 length and its elements. Every read
 * below is checked against the buffer, so a damaged file is an error.
 *
 * Tensors are NHWC; the graph is NCHW with OIHW weights. Operators come in
 * execution order, so a tensor must be written before it is read: that keeps
 * the node list topological and rules out cycles. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "io/pickle.h"
#include "io/tflite.h"

#define FILE_MAX ((size_t)INT32_MAX) /* flatbuffer offsets are 32-bit */
#define TDIMS 8                      /* tensor rank limit */
#define DIM_MAX (1 << 24)
#define NUMEL_MAX ((size_t)1 << 28)
#define PARAMS_MAX ((size_t)1 << 27)
#define NO_NODE INT32_MIN            /* a tensor no node computes */

/* BuiltinOperator codes of the operators read here */
enum {
    B_ADD = 0, B_CONV_2D = 3, B_DEPTHWISE_CONV_2D = 4, B_DEQUANTIZE = 6, B_LOGISTIC = 14, B_MUL = 18,
    B_CUSTOM = 32, B_MEAN = 40, B_SUB = 41, B_RSQRT = 76, B_RESIZE_NEAREST = 97,
    B_SQUARED_DIFFERENCE = 99, B_MIRROR_PAD = 100, B_QUANTIZE = 114
};
/* TensorType */
enum { T_FLOAT32 = 0, T_FLOAT16 = 1, T_INT32 = 2, T_UINT8 = 3, T_INT64 = 4, T_INT8 = 9 };

static const char *const OP_NAMES[] = {
    "ADD", "AVERAGE_POOL_2D", "CONCATENATION", "CONV_2D", "DEPTHWISE_CONV_2D", "DEPTH_TO_SPACE",
    "DEQUANTIZE", "EMBEDDING_LOOKUP", "FLOOR", "FULLY_CONNECTED", "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION", "L2_POOL_2D", "LOCAL_RESPONSE_NORMALIZATION", "LOGISTIC", "LSH_PROJECTION",
    "LSTM", "MAX_POOL_2D", "MUL", "RELU", "RELU_N1_TO_1", "RELU6", "RESHAPE", "RESIZE_BILINEAR", "RNN",
    "SOFTMAX", "SPACE_TO_DEPTH", "SVDF", "TANH", "CONCAT_EMBEDDINGS", "SKIP_GRAM", "CALL", "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE", "PAD", "UNIDIRECTIONAL_SEQUENCE_RNN", "GATHER", "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND", "TRANSPOSE", "MEAN", "SUB", "DIV", "SQUEEZE", "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE", "BIDIRECTIONAL_SEQUENCE_RNN", "EXP", "TOPK_V2", "SPLIT", "LOG_SOFTMAX",
    "DELEGATE", "BIDIRECTIONAL_SEQUENCE_LSTM", "CAST", "PRELU", "MAXIMUM", "ARG_MAX", "MINIMUM",
    "LESS", "NEG", "PADV2", "GREATER", "GREATER_EQUAL", "LESS_EQUAL", "SELECT", "SLICE", "SIN",
    "TRANSPOSE_CONV", "SPARSE_TO_DENSE", "TILE", "EXPAND_DIMS", "EQUAL", "NOT_EQUAL", "LOG", "SUM",
    "SQRT", "RSQRT", "SHAPE", "POW", "ARG_MIN", "FAKE_QUANT", "REDUCE_PROD", "REDUCE_MAX", "PACK",
    "LOGICAL_OR", "ONE_HOT", "LOGICAL_AND", "LOGICAL_NOT", "UNPACK", "REDUCE_MIN", "FLOOR_DIV",
    "REDUCE_ANY", "SQUARE", "ZEROS_LIKE", "FILL", "FLOOR_MOD", "RANGE", "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU", "SQUARED_DIFFERENCE", "MIRROR_PAD", "ABS", "SPLIT_V", "UNIQUE", "CEIL",
    "REVERSE_V2", "ADD_N", "GATHER_ND", "COS", "WHERE", "RANK", "ELU", "REVERSE_SEQUENCE",
    "MATRIX_DIAG", "QUANTIZE", "MATRIX_SET_DIAG", "ROUND", "HARD_SWISH", "IF", "WHILE",
};

/* BuiltinOptions union type of each operator's options table */
static int options_type(int code) {
    switch (code) {
    case B_CONV_2D: return 1;
    case B_DEPTHWISE_CONV_2D: return 2;
    case B_ADD: return 11;
    case B_MUL: return 21;
    case B_MEAN: return 27;
    case B_SUB: return 28;
    case B_RESIZE_NEAREST: return 74;
    case B_SQUARED_DIFFERENCE: return 76;
    case B_MIRROR_PAD: return 77;
    default: return 0;
    }
}

typedef struct { size_t pos, vt, vlen, tsize; } fb_tab; /* vlen 0: no table */
typedef struct { size_t pos; uint32_t n; } fb_vec;      /* pos of element 0 */

typedef struct {
    int ndim, dims[TDIMS];
    size_t numel;
    int type;
    const unsigned char *data; /* constant data, NULL for activations */
    size_t nbytes;
    char name[64];
    fb_vec scale, zero_point;  /* float[], long[] */
    int qdim;
} tfl_tensor;

typedef struct {
    int code;
    int n_in, in[3], out;
    fb_tab opt;                /* builtin options, vlen 0 when absent */
} tfl_op;

/* an instance norm matched around its RSQRT */
typedef struct {
    int x, gamma, beta;        /* tensors; gamma / beta -1 when absent */
    float eps;
    int act;                   /* fused activation of the final ADD */
} tfl_norm;

typedef struct {
    const unsigned char *b;
    size_t len;
    const char *name;
    nst_error *err;
    const char *bad;           /* first malformation found, sticky */
    int n_t, n_ops;
    tfl_tensor *t;
    tfl_op *ops;
    /* per tensor: rep = the tensor it is an identity of (activation
     * QUANTIZE / DEQUANTIZE), csrc = the tensor holding its constant data
     * (-1: not constant), prod = the operator writing it, nuse / use1 / use2
     * = live readers of a representative, tnode = the node computing it */
    int *rep, *csrc, *prod, *nuse, *use1, *use2, *need, *tnode;
    /* per operator: norm index of the instance norm it belongs to (-1: none),
     * live = its output reaches the network's output */
    int *norm_of, *live, *norm_end;
    tfl_norm *norms;
    int n_norms;
    int image, style, out;     /* tensors; out: the representative of the output */
    int out_name;              /* the subgraph's output tensor */
} tfl;

static uint32_t rd32(const unsigned char *p) {
    return p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t rd64(const unsigned char *p) { return rd32(p) | (uint64_t)rd32(p + 4) << 32; }

static int fail(tfl *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(tfl *m, const char *fmt, ...) {
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return nst_fail(m->err, NST_ERR_FORMAT, "%s: %s", m->name, msg);
}

static const char *op_name(int code) {
    static _Thread_local char buf[32];
    if (code >= 0 && code < (int)(sizeof OP_NAMES / sizeof *OP_NAMES)) return OP_NAMES[code];
    snprintf(buf, sizeof buf, "builtin %d", code);
    return buf;
}

static int op_fail(tfl *m, int i, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int op_fail(tfl *m, int i, const char *fmt, ...) {
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fail(m, "operator %s (subgraph 0, operator %d, output %s): %s", op_name(m->ops[i].code), i,
                m->t[m->ops[i].out].name, msg);
}

/* ---- flatbuffer access; a failure sets m->bad and yields absent fields -- */

static void mark_bad(tfl *m, const char *what) {
    if (!m->bad) m->bad = what;
}

static fb_tab tab_at(tfl *m, size_t pos) {
    fb_tab t = {0};
    if (pos > m->len - 4) return mark_bad(m, "a table offset points outside the file"), t;
    int64_t vt = (int64_t)pos - (int32_t)rd32(m->b + pos);
    if (vt < 0 || (uint64_t)vt > m->len - 4) return mark_bad(m, "a vtable lies outside the file"), t;
    size_t vlen = m->b[vt] | m->b[vt + 1] << 8, tsize = m->b[vt + 2] | m->b[vt + 3] << 8;
    if (vlen < 4 || vlen % 2 || (size_t)vt + vlen > m->len || tsize < 4 || pos + tsize > m->len)
        return mark_bad(m, "a vtable or table overruns the file"), t;
    t.pos = pos, t.vt = (size_t)vt, t.vlen = vlen, t.tsize = tsize;
    return t;
}

/* Position of field `slot` (size bytes), 0 when absent. */
static size_t field(tfl *m, const fb_tab *t, int slot, size_t size) {
    size_t o = 4 + 2 * (size_t)slot;
    if (o + 2 > t->vlen) return 0;
    size_t off = m->b[t->vt + o] | m->b[t->vt + o + 1] << 8;
    if (!off) return 0;
    if (off + size > t->tsize) return mark_bad(m, "a field overruns its table"), 0;
    return t->pos + off;
}

static int64_t get_int(tfl *m, const fb_tab *t, int slot, int size, int64_t def) {
    size_t p = field(m, t, slot, (size_t)size);
    if (!p) return def;
    if (size == 1) return (int8_t)m->b[p];
    if (size == 4) return (int32_t)rd32(m->b + p);
    return (int64_t)rd64(m->b + p);
}

/* Target of the u32 offset at position p (0 when malformed). */
static size_t follow(tfl *m, size_t p) {
    uint64_t to = (uint64_t)p + rd32(m->b + p);
    if (to > m->len - 4) return mark_bad(m, "an offset points outside the file"), 0;
    return (size_t)to;
}

static fb_tab get_tab(tfl *m, const fb_tab *t, int slot) {
    size_t p = field(m, t, slot, 4);
    fb_tab none = {0};
    return p && (p = follow(m, p)) ? tab_at(m, p) : none;
}

static fb_vec get_vec(tfl *m, const fb_tab *t, int slot, size_t elem) {
    size_t p = field(m, t, slot, 4);
    fb_vec v = {0};
    if (!p || !(p = follow(m, p))) return v;
    uint32_t n = rd32(m->b + p);
    if (n > (m->len - p - 4) / elem) return mark_bad(m, "a vector overruns the file"), v;
    v.pos = p + 4, v.n = n;
    return v;
}

static fb_tab vec_tab(tfl *m, fb_vec v, uint32_t i) {
    size_t p = follow(m, v.pos + 4 * (size_t)i);
    fb_tab none = {0};
    return p ? tab_at(m, p) : none;
}

static float vec_float(tfl *m, fb_vec v, uint32_t i) {
    uint32_t bits = rd32(m->b + v.pos + 4 * (size_t)i);
    float f;
    memcpy(&f, &bits, 4);
    return f;
}

/* ---- the model's tables ------------------------------------------------ */

static int read_tensor(tfl *m, fb_tab tt, fb_vec buffers, tfl_tensor *t) {
    fb_vec shape = get_vec(m, &tt, 0, 4);
    t->type = (int)get_int(m, &tt, 1, 1, 0);
    uint32_t buf = (uint32_t)get_int(m, &tt, 2, 4, 0);
    fb_vec name = get_vec(m, &tt, 3, 1);
    fb_tab q = get_tab(m, &tt, 4);
    if (m->bad) return fail(m, "malformed flatbuffer: %s", m->bad);
    size_t nl = name.n < sizeof t->name ? name.n : sizeof t->name - 1;
    if (nl) memcpy(t->name, m->b + name.pos, nl);
    t->name[nl] = 0;
    if (shape.n > TDIMS)
        return fail(m, "tensor %s has %u dimensions (at most %d)", t->name, shape.n, TDIMS);
    t->ndim = (int)shape.n;
    t->numel = 1;
    for (int k = 0; k < t->ndim; k++) {
        int32_t d = (int32_t)rd32(m->b + shape.pos + 4 * (size_t)k);
        if (d < 0 || d > DIM_MAX || (d && t->numel > NUMEL_MAX / (size_t)d))
            return fail(m, "tensor %s has an invalid shape (dimension %d is %d)", t->name, k, d);
        t->dims[k] = d;
        t->numel *= (size_t)d;
    }
    if (q.vlen) {
        t->scale = get_vec(m, &q, 2, 4);
        t->zero_point = get_vec(m, &q, 3, 8);
        t->qdim = (int)get_int(m, &q, 6, 4, 0);
    }
    if (buf) {
        if (buf >= buffers.n)
            return fail(m, "tensor %s refers to buffer %u of %u", t->name, buf, buffers.n);
        fb_tab bt = vec_tab(m, buffers, buf);
        fb_vec data = get_vec(m, &bt, 0, 1);
        uint64_t off = (uint64_t)get_int(m, &bt, 1, 8, 0), size = (uint64_t)get_int(m, &bt, 2, 8, 0);
        if (m->bad) return fail(m, "malformed flatbuffer: %s (buffer %u)", m->bad, buf);
        if (off > 1) { /* data outside the flatbuffer, offset from the file's start */
            if (off > m->len || size > m->len - off)
                return fail(m, "tensor %s: buffer %u lies outside the file", t->name, buf);
            data.pos = (size_t)off, data.n = (uint32_t)size;
        }
        if (data.n) t->data = m->b + data.pos, t->nbytes = data.n;
    }
    return NST_OK;
}

static int read_op(tfl *m, int i, fb_tab ot, fb_vec codes) {
    tfl_op *op = &m->ops[i];
    uint32_t ci = (uint32_t)get_int(m, &ot, 0, 4, 0);
    fb_vec in = get_vec(m, &ot, 1, 4), out = get_vec(m, &ot, 2, 4);
    int otype = (int)(uint8_t)get_int(m, &ot, 3, 1, 0);
    op->opt = get_tab(m, &ot, 4);
    if (m->bad) return fail(m, "malformed flatbuffer: %s (operator %d)", m->bad, i);
    if (ci >= codes.n) return fail(m, "operator %d uses operator code %u of %u", i, ci, codes.n);
    fb_tab ct = vec_tab(m, codes, ci);
    /* builtin_code (slot 3) supersedes the byte deprecated_builtin_code
     * (slot 0) from code 127 on; TF Lite takes the larger of the two */
    int64_t dep = get_int(m, &ct, 0, 1, 0), code = get_int(m, &ct, 3, 4, 0);
    op->code = (int)(dep > code ? dep : code);
    if (m->bad) return fail(m, "malformed flatbuffer: %s (operator code %u)", m->bad, ci);
    int supported = 0;
    static const int ok[] = {B_ADD, B_CONV_2D, B_DEPTHWISE_CONV_2D, B_DEQUANTIZE, B_LOGISTIC, B_MUL,
                             B_MEAN, B_SUB, B_RSQRT, B_RESIZE_NEAREST, B_SQUARED_DIFFERENCE,
                             B_MIRROR_PAD, B_QUANTIZE};
    for (size_t k = 0; k < sizeof ok / sizeof *ok; k++) supported |= op->code == ok[k];
    if (!supported) {
        if (op->code == B_CUSTOM) {
            fb_vec cc = get_vec(m, &ct, 1, 1);
            return fail(m, "operator CUSTOM '%.*s' (subgraph 0, operator %d) is not supported",
                        (int)(cc.n > 64 ? 64 : cc.n), (const char *)m->b + cc.pos, i);
        }
        return fail(m, "operator %s (subgraph 0, operator %d) is not supported", op_name(op->code), i);
    }
    int want = options_type(op->code);
    if (op->opt.vlen && otype != want)
        return fail(m, "operator %s (subgraph 0, operator %d) has options of type %d, not %d",
                    op_name(op->code), i, otype, want);
    if (in.n < 1 || in.n > 3 || out.n != 1)
        return fail(m, "operator %s (subgraph 0, operator %d) has %u inputs and %u outputs",
                    op_name(op->code), i, in.n, out.n);
    op->n_in = (int)in.n;
    for (int k = 0; k <= op->n_in; k++) {
        int32_t ti = (int32_t)rd32(m->b + (k < op->n_in ? in.pos + 4 * (size_t)k : out.pos));
        if (ti < -1 || ti >= m->n_t || (ti == -1 && (k == op->n_in || k < 2)))
            return fail(m, "operator %s (subgraph 0, operator %d) refers to tensor %d of %d",
                        op_name(op->code), i, ti, m->n_t);
        if (k < op->n_in) op->in[k] = ti;
        else op->out = ti;
    }
    return NST_OK;
}

/* ---- constants ----------------------------------------------------------- */

static size_t type_size(int type) {
    switch (type) {
    case T_FLOAT32: case T_INT32: return 4;
    case T_FLOAT16: return 2;
    case T_UINT8: case T_INT8: return 1;
    case T_INT64: return 8;
    default: return 0;
    }
}

/* The constant tensor behind t, with its data size checked against its
 * shape; NULL (and an error) when t is not a usable constant. */
static const tfl_tensor *constant(tfl *m, int t, int *rc) {
    if (t < 0 || m->csrc[t] < 0) {
        *rc = fail(m, "tensor %s is not a constant", t < 0 ? "(none)" : m->t[t].name);
        return NULL;
    }
    const tfl_tensor *c = &m->t[m->csrc[t]];
    size_t es = type_size(c->type);
    if (!es) {
        *rc = fail(m, "constant %s has unsupported type %d", c->name, c->type);
        return NULL;
    }
    if (c->nbytes != c->numel * es) {
        *rc = fail(m, "constant %s holds %zu bytes, its shape needs %zu", c->name, c->nbytes,
                   c->numel * es);
        return NULL;
    }
    return c;
}

/* Float values of constant t (c->numel of them) into out: float32 and fp16
 * as they are; int8 / uint8 / int32 dequantised, f = scale[ch] (q - zp[ch])
 * with ch the index along quantized_dimension (one scale: per tensor). */
static int const_floats(tfl *m, int t, float *out) {
    int rc = NST_OK;
    const tfl_tensor *c = constant(m, t, &rc);
    if (!c) return rc;
    if (c->type == T_FLOAT32 || c->type == T_FLOAT16) {
        for (size_t i = 0; i < c->numel; i++)
            out[i] = raw_get(c->data, c->type == T_FLOAT32 ? RAW_F32 : RAW_F16, i);
        return NST_OK;
    }
    if (c->type == T_INT64) return fail(m, "constant %s: int64 weights are not supported", c->name);
    size_t nch = c->scale.n, stride = 1;
    if (nch == 0) return fail(m, "constant %s: integer weights without a quantization scale", c->name);
    if (nch > 1) {
        if (c->qdim < 0 || c->qdim >= c->ndim || (size_t)c->dims[c->qdim] != nch)
            return fail(m, "constant %s: %zu scales along dimension %d of its shape", c->name, nch,
                        c->qdim);
        for (int k = c->qdim + 1; k < c->ndim; k++) stride *= (size_t)c->dims[k];
    }
    if (c->zero_point.n && c->zero_point.n != nch)
        return fail(m, "constant %s: %u zero points for %zu scales", c->name, c->zero_point.n, nch);
    for (size_t i = 0; i < c->numel; i++) {
        size_t ch = nch > 1 ? i / stride % nch : 0;
        int64_t q = c->type == T_INT8 ? (int8_t)c->data[i]
                  : c->type == T_UINT8 ? c->data[i] : (int32_t)rd32(c->data + 4 * i);
        int64_t zp = c->zero_point.n ? (int64_t)rd64(m->b + c->zero_point.pos + 8 * ch) : 0;
        out[i] = vec_float(m, c->scale, (uint32_t)ch) * (float)((double)q - (double)zp);
    }
    return NST_OK;
}

/* Integer values of constant t (paddings, axes, sizes: int32 or int64), at
 * most n of them: their count, or -1 when t is no such constant. */
static long ints_of(const tfl *m, int t, int64_t *out, size_t n) {
    const tfl_tensor *c = t >= 0 && m->csrc[t] >= 0 ? &m->t[m->csrc[t]] : NULL;
    if (!c || (c->type != T_INT32 && c->type != T_INT64) || c->numel > n ||
        c->nbytes != c->numel * type_size(c->type))
        return -1;
    for (size_t i = 0; i < c->numel; i++)
        out[i] = c->type == T_INT32 ? (int32_t)rd32(c->data + 4 * i) : (int64_t)rd64(c->data + 8 * i);
    return (long)c->numel;
}

/* The same, exactly n of them, or an error naming the operator. */
static int const_ints(tfl *m, int i, int t, int64_t *out, size_t n) {
    if (ints_of(m, t, out, n) != (long)n)
        return op_fail(m, i, "%s is not a constant of %zu integers", t < 0 ? "(none)" : m->t[t].name, n);
    return NST_OK;
}

/* ---- the operator graph ---------------------------------------------------- */

static int is4d(const tfl_tensor *t) { return t->ndim == 4 && t->dims[0] == 1; }
static int is_vec4(const tfl_tensor *t, int c) { /* [1, 1, 1, c] */
    return is4d(t) && t->dims[1] == 1 && t->dims[2] == 1 && t->dims[3] == c;
}
static int same_shape(const tfl_tensor *a, const tfl_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int k = 0; k < a->ndim; k++)
        if (a->dims[k] != b->dims[k]) return 0;
    return 1;
}

/* The operator producing (non-constant) tensor t when it has code `code`,
 * else -1. */
static int producer(const tfl *m, int t, int code) {
    int p = t >= 0 && m->csrc[t] < 0 ? m->prod[t] : -1;
    return p >= 0 && m->ops[p].code == code ? p : -1;
}

static int act_of(tfl *m, int i, const fb_tab *opt, int slot, int *act) {
    int64_t a = get_int(m, opt, slot, 1, 0);
    if (a == 0) *act = ACT_NONE;
    else if (a == 1) *act = ACT_RELU;
    else if (a == 3) *act = ACT_RELU6;
    else return op_fail(m, i, "fused activation %d is not supported", (int)a);
    return NST_OK;
}

/* MEAN over the axes {1, 2} (H and W) with kept dimensions. */
static int is_hw_mean(tfl *m, int i) {
    const tfl_op *op = &m->ops[i];
    int64_t ax[2];
    if (op->code != B_MEAN || op->n_in != 2 || ints_of(m, op->in[1], ax, 2) != 2) return 0;
    int has1 = 0, has2 = 0;
    for (int k = 0; k < 2; k++) {
        int64_t a = ax[k] < 0 ? ax[k] + 4 : ax[k];
        has1 |= a == 1, has2 |= a == 2;
    }
    return has1 && has2 && get_int(m, &op->opt, 0, 1, 0);
}

/* Match the instance norm around RSQRT operator i, as tf.nn.batch_normalization
 * writes it over moments of x:
 *   mean = MEAN(x, [1,2]); d = SQUARED_DIFFERENCE(x, mean); var = MEAN(d, [1,2])
 *   r = RSQRT(ADD(var, eps)); s = MUL(r, gamma)          (s = r without gamma)
 *   y = ADD(MUL(x, s), SUB(beta, MUL(mean, s)))         = (x - mean) r gamma + beta
 * Every intermediate tensor must be read by the pattern alone. */
static int match_norm(tfl *m, int i) {
    const tfl_op *ops = m->ops;
    int *R = m->rep;
#define IN(o, k) R[ops[o].in[k]]
#define OUT(o) R[ops[o].out]
#define NEED(cond, what) \
    do { if (!(cond)) return op_fail(m, i, "not the instance norm pattern: %s", what); } while (0)
    tfl_norm nm = {.gamma = -1, .beta = -1};
    int r = OUT(i);
    int a_eps = producer(m, IN(i, 0), B_ADD);
    NEED(a_eps >= 0 && m->nuse[IN(i, 0)] == 1 && ops[a_eps].n_in == 2, "RSQRT of no ADD");
    int ke = m->csrc[IN(a_eps, 0)] >= 0 ? 0 : 1;
    int var = IN(a_eps, 1 - ke);
    int m_var = producer(m, var, B_MEAN);
    NEED(m_var >= 0 && m->nuse[var] == 1 && is_hw_mean(m, m_var), "variance is no MEAN over H, W");
    int d = IN(m_var, 0);
    int sqd = producer(m, d, B_SQUARED_DIFFERENCE);
    NEED(sqd >= 0 && m->nuse[d] == 1 && ops[sqd].n_in == 2, "no SQUARED_DIFFERENCE under the variance");
    int m_mean = -1, mean = -1;
    for (int k = 0; k < 2 && m_mean < 0; k++) {
        int p = producer(m, IN(sqd, k), B_MEAN);
        if (p >= 0 && is_hw_mean(m, p) && IN(p, 0) == IN(sqd, 1 - k)) m_mean = p, mean = IN(sqd, k);
    }
    NEED(m_mean >= 0, "SQUARED_DIFFERENCE is not of x and its mean over H, W");
    nm.x = IN(m_mean, 0);
    const tfl_tensor *X = &m->t[nm.x];
    NEED(is4d(X) && m->csrc[nm.x] < 0, "x is not a [1, H, W, C] activation");
    int C = X->dims[3];
    NEED(same_shape(&m->t[d], X) && is_vec4(&m->t[mean], C) && is_vec4(&m->t[var], C) &&
         is_vec4(&m->t[IN(i, 0)], C) && is_vec4(&m->t[r], C), "moments of the wrong shape");
    /* eps: a one-element constant */
    float eps;
    int rc = NST_OK;
    const tfl_tensor *E = constant(m, IN(a_eps, ke), &rc);
    if (!E) return rc;
    NEED(E->numel == 1, "epsilon is not one number");
    if ((rc = const_floats(m, IN(a_eps, ke), &eps))) return rc;
    NEED(isfinite(eps) && eps >= 0, "epsilon is negative or not finite");
    nm.eps = eps;
    /* s = MUL(r, gamma), or r itself when no MUL scales it */
    int s = r, m_g = -1;
    if (m->nuse[r] == 1) {
        m_g = m->use1[r];
        NEED(ops[m_g].code == B_MUL && ops[m_g].n_in == 2, "RSQRT is read by no MUL");
        nm.gamma = IN(m_g, 0) == r ? IN(m_g, 1) : IN(m_g, 0);
        s = OUT(m_g);
        NEED(is_vec4(&m->t[s], C), "scale of the wrong shape");
    }
    NEED(m->nuse[s] == 2, "the scale is not read by two MULs");
    int mx = m->use1[s], mm = m->use2[s];
    NEED(ops[mx].code == B_MUL && ops[mm].code == B_MUL && ops[mx].n_in == 2 && ops[mm].n_in == 2,
         "the scale is not read by two MULs");
    if (IN(mx, 0) != nm.x && IN(mx, 1) != nm.x) {
        int t = mx;
        mx = mm, mm = t;
    }
    NEED((IN(mx, 0) == nm.x || IN(mx, 1) == nm.x) && (IN(mm, 0) == mean || IN(mm, 1) == mean),
         "the scale does not multiply x and the mean");
    NEED(m->nuse[mean] == 2, "the mean is read outside the norm");
    int y1 = OUT(mx), m2 = OUT(mm);
    NEED(m->nuse[m2] == 1 && ops[m->use1[m2]].code == B_SUB && IN(m->use1[m2], 1) == m2 &&
         ops[m->use1[m2]].n_in == 2, "mean x scale is not subtracted from a shift");
    int sub = m->use1[m2], b2 = OUT(sub);
    nm.beta = IN(sub, 0);
    NEED(m->nuse[y1] == 1 && m->nuse[b2] == 1 && m->use1[y1] == m->use1[b2], "no final ADD");
    int fin = m->use1[y1];
    NEED(ops[fin].code == B_ADD && ops[fin].n_in == 2, "no final ADD");
    NEED(same_shape(&m->t[y1], X) && same_shape(&m->t[OUT(fin)], X) && is_vec4(&m->t[m2], C) &&
         is_vec4(&m->t[b2], C), "products of the wrong shape");
    if ((rc = act_of(m, fin, &ops[fin].opt, 0, &nm.act))) return rc;
    /* the inner MUL / SUB / ADD carry no activation */
    int inner[] = {a_eps, m_g, mx, mm, sub};
    for (int k = 0; k < 5; k++)
        NEED(inner[k] < 0 || get_int(m, &ops[inner[k]].opt, 0, 1, 0) == 0,
             "an inner operator has a fused activation");
    /* gamma, beta: both outputs of nodes ([1,1,1,C]) or both constants */
    int cg = nm.gamma >= 0 && m->csrc[nm.gamma] >= 0, cb = m->csrc[nm.beta] >= 0;
    NEED(nm.gamma < 0 || cg == cb, "scale and shift are not both constants or both computed");
    for (int k = 0; k < 2; k++) {
        int t = k ? nm.beta : nm.gamma;
        if (t < 0) continue;
        const tfl_tensor *T = &m->t[t];
        NEED(m->csrc[t] >= 0 ? (T->numel == (size_t)C || T->numel == 1) : is_vec4(T, C),
             "scale or shift of the wrong shape");
    }
    int members[] = {m_mean, sqd, m_var, a_eps, i, m_g, mx, mm, sub, fin};
    for (int k = 0; k < 10; k++) {
        if (members[k] < 0) continue;
        NEED(m->norm_of[members[k]] < 0, "operators shared by two norms");
        m->norm_of[members[k]] = m->n_norms;
    }
    m->norm_end[fin] = m->n_norms;
    m->norms[m->n_norms++] = nm;
    return NST_OK;
#undef IN
#undef OUT
#undef NEED
}

/* Producers, identities, liveness, readers and instance norms. */
static int analyse(tfl *m, int n_inputs, const int *inputs) {
    for (int t = 0; t < m->n_t; t++) {
        m->rep[t] = t, m->prod[t] = -1, m->tnode[t] = NO_NODE;
        m->csrc[t] = m->t[t].data ? t : -1;
    }
    for (int k = 0; k < n_inputs; k++) m->prod[inputs[k]] = -2; /* written before operator 0 */
    for (int i = 0; i < m->n_ops; i++) {
        tfl_op *op = &m->ops[i];
        m->norm_of[i] = m->norm_end[i] = -1;
        for (int k = 0; k < op->n_in; k++) {
            int t = op->in[k];
            if (t >= 0 && m->csrc[t] < 0 && m->prod[t] == -1)
                return op_fail(m, i, "reads tensor %s before any operator writes it", m->t[t].name);
        }
        if (m->prod[op->out] != -1 || m->t[op->out].data)
            return op_fail(m, i, "writes a tensor that is a constant, an input or written before");
        m->prod[op->out] = i;
        if (op->code == B_QUANTIZE || op->code == B_DEQUANTIZE) {
            if (op->n_in != 1) return op_fail(m, i, "has %d inputs", op->n_in);
            int src = op->in[0];
            if (m->csrc[src] >= 0) m->csrc[op->out] = m->csrc[src]; /* a constant, decoded at load */
            else m->rep[op->out] = m->rep[src];                     /* an identity on floats */
        }
    }
    m->out = m->rep[m->out];
    if (m->csrc[m->out] >= 0 || m->prod[m->out] < 0)
        return fail(m, "the output %s is not computed by an operator", m->t[m->out].name);
    /* outputs reach the network's output: a backward sweep in execution order */
    memset(m->need, 0, (size_t)m->n_t * sizeof *m->need);
    m->need[m->out] = 1;
    for (int i = m->n_ops - 1; i >= 0; i--) {
        const tfl_op *op = &m->ops[i];
        int ident = m->rep[op->out] != op->out || m->csrc[op->out] >= 0;
        m->live[i] = !ident && m->need[op->out];
        for (int k = 0; k < op->n_in && m->live[i]; k++)
            if (op->in[k] >= 0 && m->csrc[op->in[k]] < 0) m->need[m->rep[op->in[k]]] = 1;
    }
    for (int t = 0; t < m->n_t; t++) m->nuse[t] = 0, m->use1[t] = m->use2[t] = -1;
    for (int i = 0; i < m->n_ops; i++) {
        const tfl_op *op = &m->ops[i];
        for (int k = 0; k < op->n_in && m->live[i]; k++) {
            int t = op->in[k] >= 0 ? m->rep[op->in[k]] : -1;
            if (t < 0 || m->csrc[t] >= 0 || (k && op->in[k - 1] >= 0 && m->rep[op->in[k - 1]] == t))
                continue; /* a tensor read twice by one operator counts once */
            if (m->nuse[t]++ == 0) m->use1[t] = i;
            else if (m->nuse[t] == 2) m->use2[t] = i;
        }
    }
    for (int i = 0; i < m->n_ops; i++) {
        int rc;
        if (m->live[i] && m->ops[i].code == B_RSQRT && (rc = match_norm(m, i))) return rc;
    }
    for (int i = 0; i < m->n_ops; i++) {
        int c = m->ops[i].code;
        if (m->live[i] && m->norm_of[i] < 0 &&
            (c == B_SUB || c == B_MUL || c == B_SQUARED_DIFFERENCE || c == B_RSQRT))
            return fail(m, "operator %s (subgraph 0, operator %d) is not supported outside an "
                        "instance norm", op_name(c), i);
    }
    return NST_OK;
}

/* ---- building nodes: run twice, first counting (params NULL) ------------- */

typedef struct {
    node *nodes;
    int n;
    float *params;   /* NULL while counting */
    size_t p;
} build;

static node *new_node(build *bd, tfl *m, int i, op_kind kind, const char *suffix) {
    node *n = &bd->nodes[bd->n++];
    memset(n, 0, sizeof *n);
    n->op = kind;
    n->n_in = 1, n->k = n->stride = n->groups = n->factor = 1;
    snprintf(n->name, sizeof n->name, "%.*s%s", (int)(sizeof n->name - 1 - strlen(suffix)),
             m->t[m->ops[i].out].name, suffix);
    return n;
}

static float *take(build *bd, size_t n) {
    float *p = bd->params ? bd->params + bd->p : NULL;
    bd->p += n;
    return p;
}

/* The node input computing (representative of) tensor t. */
static int input_of(tfl *m, int i, int t, int *ref) {
    int r = t >= 0 ? m->rep[t] : -1;
    if (r < 0 || m->csrc[r] >= 0 || m->tnode[r] == NO_NODE)
        return op_fail(m, i, "input %s is a constant or not computed by a supported operator",
                       r < 0 ? "(none)" : m->t[r].name);
    *ref = m->tnode[r];
    return NST_OK;
}

static int node_channels(const build *bd, const graph *g, int ref) {
    return ref >= 0 ? bd->nodes[ref].cout : g->input_c[GRAPH_INPUT(0) - ref];
}

/* Weights [O][KH][KW][I] (conv) or [1][KH][KW][C] (depthwise) as OIHW. */
static int conv_node(tfl *m, build *bd, const graph *g, int i) {
    const tfl_op *op = &m->ops[i];
    int dw = op->code == B_DEPTHWISE_CONV_2D, rc, x;
    if (op->n_in < 2) return op_fail(m, i, "has no filter");
    if ((rc = input_of(m, i, op->in[0], &x))) return rc;
    const tfl_tensor *W = constant(m, op->in[1], &rc);
    if (!W) return rc;
    if (W->ndim != 4 || (dw && W->dims[0] != 1) || W->dims[1] != W->dims[2] || !W->numel)
        return op_fail(m, i, "filter %s is not [%s, K, K, %s]", W->name, dw ? "1" : "O",
                       dw ? "C" : "I");
    int K = W->dims[1], O = dw ? W->dims[3] : W->dims[0], I = dw ? 1 : W->dims[3];
    const fb_tab *o = &op->opt;
    int64_t pad = get_int(m, o, 0, 1, 0), sw = get_int(m, o, 1, 4, 0), sh = get_int(m, o, 2, 4, 0);
    int64_t mult = dw ? get_int(m, o, 3, 4, 0) : 1;
    int s_act = dw ? 4 : 3, act;
    int64_t dil_w = get_int(m, o, s_act + 1, 4, 1), dil_h = get_int(m, o, s_act + 2, 4, 1);
    if (m->bad) return fail(m, "malformed flatbuffer: %s (operator %d)", m->bad, i);
    if (sw != sh || sw < 1 || sw > 16 || (pad != 0 && pad != 1) || dil_w != 1 || dil_h != 1 || mult != 1)
        return op_fail(m, i, "strides %lld x %lld, padding %lld, dilation %lld x %lld, depth multiplier "
                       "%lld: only equal strides, SAME or VALID, dilation 1 and multiplier 1",
                       (long long)sh, (long long)sw, (long long)pad, (long long)dil_h,
                       (long long)dil_w, (long long)mult);
    if ((rc = act_of(m, i, o, s_act, &act))) return rc;
    const tfl_tensor *B = NULL;
    int has_bias = op->n_in == 3 && op->in[2] >= 0;
    if (has_bias) {
        if (!(B = constant(m, op->in[2], &rc))) return rc;
        if (B->numel != (size_t)O)
            return op_fail(m, i, "bias %s has %zu values for %d outputs", B->name, B->numel, O);
    }
    node *n = new_node(bd, m, i, OP_CONV, "");
    n->in[0] = x;
    n->cin = dw ? O : I, n->cout = O, n->groups = dw ? O : 1;
    n->k = K, n->stride = (int)sw, n->pad = pad ? PAD_VALID : PAD_SAME, n->act = act;
    if (dw && node_channels(bd, g, x) != O)
        return op_fail(m, i, "depthwise filter of %d channels on %d", O, node_channels(bd, g, x));
    n->weight = take(bd, W->numel);
    n->bias = has_bias ? take(bd, (size_t)O) : NULL;
    if (!bd->params) return NST_OK;
    float *src = malloc(W->numel * sizeof *src);
    if (!src) return fail(m, "out of memory reading %s", W->name);
    if ((rc = const_floats(m, op->in[1], src))) {
        free(src);
        return rc;
    }
    for (int oc = 0; oc < O; oc++)
        for (int ic = 0; ic < I; ic++)
            for (int y = 0; y < K; y++)
                for (int xx = 0; xx < K; xx++)
                    n->weight[(((size_t)oc * I + ic) * K + y) * K + xx] =
                        dw ? src[((size_t)y * K + xx) * O + oc]
                           : src[(((size_t)oc * K + y) * K + xx) * I + ic];
    free(src);
    return has_bias ? const_floats(m, op->in[2], n->bias) : NST_OK;
}

static int norm_node(tfl *m, build *bd, int i) {
    const tfl_norm *nm = &m->norms[m->norm_end[i]];
    int rc, x;
    if ((rc = input_of(m, i, nm->x, &x))) return rc;
    node *n = new_node(bd, m, i, OP_INSTNORM, "");
    n->in[0] = x;
    n->cin = n->cout = m->t[nm->x].dims[3];
    n->eps = nm->eps, n->act = nm->act;
    if (nm->gamma >= 0 && m->csrc[nm->gamma] < 0) { /* conditional: scale, shift from nodes */
        n->n_in = 3;
        if ((rc = input_of(m, i, nm->gamma, &n->in[1])) || (rc = input_of(m, i, nm->beta, &n->in[2])))
            return rc;
        return NST_OK;
    }
    int C = n->cout;
    n->scale = take(bd, (size_t)C), n->shift = take(bd, (size_t)C);
    if (!bd->params) return NST_OK;
    for (int k = 0; k < 2; k++) {
        int t = k ? nm->beta : nm->gamma;
        float *dst = k ? n->shift : n->scale;
        if (t < 0) { /* no gamma: scale 1 */
            for (int c = 0; c < C; c++) dst[c] = 1;
            continue;
        }
        if ((rc = const_floats(m, t, dst))) return rc;
        if (m->t[m->csrc[t]].numel == 1) /* a scalar, broadcast */
            for (int c = 1; c < C; c++) dst[c] = dst[0];
    }
    return NST_OK;
}

static int op_nodes(tfl *m, build *bd, const graph *g, int i) {
    const tfl_op *op = &m->ops[i];
    const tfl_tensor *in0 = &m->t[op->in[0]], *out = &m->t[op->out];
    int rc, x;
    switch (op->code) {
    case B_CONV_2D:
    case B_DEPTHWISE_CONV_2D:
        return conv_node(m, bd, g, i);
    case B_ADD: {
        int y, act;
        if (op->n_in != 2) return op_fail(m, i, "has %d inputs", op->n_in);
        if ((rc = input_of(m, i, op->in[0], &x)) || (rc = input_of(m, i, op->in[1], &y))) return rc;
        if (!is4d(in0) || !same_shape(in0, &m->t[op->in[1]]))
            return op_fail(m, i, "adds tensors of different shapes (broadcasting is not supported)");
        if ((rc = act_of(m, i, &op->opt, 0, &act))) return rc;
        node *n = new_node(bd, m, i, OP_ADD, "");
        n->n_in = 2, n->in[0] = x, n->in[1] = y;
        n->cin = n->cout = in0->dims[3];
        if (act == ACT_NONE) return NST_OK;
        node *a = new_node(bd, m, i, OP_ACT, "/act");
        a->in[0] = bd->n - 2, a->cin = a->cout = in0->dims[3], a->act = act;
        return NST_OK;
    }
    case B_MEAN: {
        if (!is_hw_mean(m, i) || !is4d(in0) || !is_vec4(out, in0->dims[3]))
            return op_fail(m, i, "only a MEAN over H and W with kept dimensions is supported");
        if ((rc = input_of(m, i, op->in[0], &x))) return rc;
        node *n = new_node(bd, m, i, OP_MEAN, "");
        n->in[0] = x, n->cin = n->cout = in0->dims[3];
        return NST_OK;
    }
    case B_MIRROR_PAD: {
        int64_t p[8];
        if (get_int(m, &op->opt, 0, 1, 0) != 0) return op_fail(m, i, "SYMMETRIC mode is not supported");
        if (op->n_in != 2) return op_fail(m, i, "has no paddings");
        if ((rc = const_ints(m, i, op->in[1], p, 8))) return rc;
        if (p[0] || p[1] || p[6] || p[7] || !is4d(in0))
            return op_fail(m, i, "paddings must be [4, 2] with none on the batch and channels");
        for (int k = 2; k < 6; k++)
            if (p[k] < 0 || p[k] > 64) return op_fail(m, i, "pads by %lld", (long long)p[k]);
        if ((rc = input_of(m, i, op->in[0], &x))) return rc;
        node *n = new_node(bd, m, i, OP_PAD, "");
        n->in[0] = x, n->cin = n->cout = in0->dims[3];
        /* NHWC rows [before, after]: top = H before, left = W before, ... */
        n->pads[0] = (int)p[2], n->pads[1] = (int)p[4], n->pads[2] = (int)p[3], n->pads[3] = (int)p[5];
        return NST_OK;
    }
    case B_RESIZE_NEAREST: {
        int64_t sz[2];
        if (op->n_in != 2) return op_fail(m, i, "has no size");
        if ((rc = const_ints(m, i, op->in[1], sz, 2))) return rc;
        if (!is4d(in0) || !is4d(out) || sz[0] != out->dims[1] || sz[1] != out->dims[2] ||
            !in0->dims[1] || !in0->dims[2] || out->dims[3] != in0->dims[3])
            return op_fail(m, i, "size and shapes disagree");
        int f = out->dims[1] / in0->dims[1];
        if (f < 1 || out->dims[1] != f * in0->dims[1] || out->dims[2] != f * in0->dims[2])
            return op_fail(m, i, "%dx%d to %dx%d is no integer factor", in0->dims[1], in0->dims[2],
                           out->dims[1], out->dims[2]);
        /* an integer factor without align_corners is plain nearest x f
         * whether or not pixel centres are half-offset */
        if (f > 1 && get_int(m, &op->opt, 0, 1, 0))
            return op_fail(m, i, "align_corners is not supported");
        if ((rc = input_of(m, i, op->in[0], &x))) return rc;
        if (f == 1) { /* the size recorded for a 384 input is the identity */
            m->tnode[op->out] = x;
            return NST_OK;
        }
        node *n = new_node(bd, m, i, OP_UPSAMPLE, "");
        n->in[0] = x, n->cin = n->cout = in0->dims[3], n->factor = f;
        return NST_OK;
    }
    case B_LOGISTIC: {
        if ((rc = input_of(m, i, op->in[0], &x))) return rc;
        node *n = new_node(bd, m, i, OP_ACT, "");
        n->in[0] = x, n->cin = n->cout = node_channels(bd, g, x);
        n->act = ACT_SIGMOID, n->a = 1, n->b = 0;
        return NST_OK;
    }
    default:
        return op_fail(m, i, "is not supported here");
    }
}

static int build_nodes(tfl *m, build *bd, graph *g) {
    bd->n = 0, bd->p = 0;
    for (int t = 0; t < m->n_t; t++) m->tnode[t] = NO_NODE;
    m->tnode[m->image] = GRAPH_INPUT(0);
    if (m->style >= 0) m->tnode[m->style] = GRAPH_INPUT(1);
    for (int i = 0; i < m->n_ops; i++) {
        if (!m->live[i] || (m->norm_of[i] >= 0 && m->norm_end[i] < 0)) continue;
        int rc = m->norm_end[i] >= 0 ? norm_node(m, bd, i) : op_nodes(m, bd, g, i);
        if (rc) return rc;
        if (bd->p > PARAMS_MAX) return fail(m, "more than %zu parameters", PARAMS_MAX);
        if (m->tnode[m->ops[i].out] == NO_NODE) m->tnode[m->ops[i].out] = bd->n - 1;
    }
    if (m->tnode[m->out] != bd->n - 1 || bd->n < 1)
        return fail(m, "the output %s is not computed by the last node", m->t[m->out].name);
    /* named for the network's output, not a quantised tensor behind it */
    snprintf(bd->nodes[bd->n - 1].name, sizeof bd->nodes->name, "%s", m->t[m->out_name].name);
    return NST_OK;
}

/* ---- the model ------------------------------------------------------------- */

static int find_inputs(tfl *m, graph *g, fb_vec in, int *inputs) {
    m->image = m->style = -1;
    if (in.n < 1 || in.n > 2)
        return fail(m, "the network has %u inputs (an image and a style vector at most)", in.n);
    for (uint32_t k = 0; k < in.n; k++) {
        int32_t t = (int32_t)rd32(m->b + in.pos + 4 * (size_t)k);
        if (t < 0 || t >= m->n_t) return fail(m, "input %u refers to tensor %d of %d", k, t, m->n_t);
        const tfl_tensor *T = &m->t[t];
        inputs[k] = t;
        if (T->data) return fail(m, "input %s is a constant", T->name);
        if (is4d(T) && T->dims[3] == 3 && T->dims[1] * (size_t)T->dims[2] > 1 && m->image < 0)
            m->image = t;
        else if (is4d(T) && T->dims[1] == 1 && T->dims[2] == 1 && T->dims[3] > 0 && m->style < 0)
            m->style = t;
        else
            return fail(m, "input %s is neither a [1, H, W, 3] image nor a [1, 1, 1, C] style vector",
                        T->name);
    }
    if (m->image < 0) return fail(m, "no [1, H, W, 3] image input");
    g->n_inputs = m->style >= 0 ? 2 : 1;
    if (m->style >= 0) g->input_c[1] = m->t[m->style].dims[3];
    return NST_OK;
}

static void tfl_free(tfl *m) {
    free(m->t), free(m->ops), free(m->rep), free(m->csrc), free(m->prod), free(m->nuse);
    free(m->use1), free(m->use2), free(m->need), free(m->tnode), free(m->norm_of), free(m->live);
    free(m->norm_end), free(m->norms);
}

static int load(tfl *m, graph *g) {
    if (m->len < 8 || m->len > FILE_MAX)
        return fail(m, "not a TensorFlow Lite file (%zu bytes)", m->len);
    if (memcmp(m->b + 4, "TFL3", 4))
        return fail(m, "not a TensorFlow Lite file (no TFL3 identifier at byte 4)");
    fb_tab root = tab_at(m, rd32(m->b));
    int64_t version = get_int(m, &root, 0, 4, 0);
    fb_vec codes = get_vec(m, &root, 1, 4), subgraphs = get_vec(m, &root, 2, 4);
    fb_vec buffers = get_vec(m, &root, 4, 4);
    if (m->bad) return fail(m, "malformed flatbuffer: %s", m->bad);
    if (version != 3) return fail(m, "schema version %lld, not 3", (long long)version);
    if (subgraphs.n < 1) return fail(m, "the model has no subgraph");
    fb_tab sg = vec_tab(m, subgraphs, 0);
    fb_vec tensors = get_vec(m, &sg, 0, 4), inputs = get_vec(m, &sg, 1, 4);
    fb_vec outputs = get_vec(m, &sg, 2, 4), ops = get_vec(m, &sg, 3, 4);
    if (m->bad) return fail(m, "malformed flatbuffer: %s", m->bad);
    if (!ops.n) return fail(m, "subgraph 0 has no operators");
    m->n_t = (int)tensors.n, m->n_ops = (int)ops.n; /* < 2^29: vectors fit the file */
    size_t nt = tensors.n ? tensors.n : 1, no = ops.n;
    m->t = calloc(nt, sizeof *m->t), m->ops = calloc(no, sizeof *m->ops);
    int **per_t[] = {&m->rep, &m->csrc, &m->prod, &m->nuse, &m->use1, &m->use2, &m->need, &m->tnode};
    int **per_op[] = {&m->norm_of, &m->live, &m->norm_end};
    int oom = !m->t || !m->ops;
    for (size_t k = 0; k < 8; k++) oom |= !(*per_t[k] = malloc(nt * sizeof(int)));
    for (size_t k = 0; k < 3; k++) oom |= !(*per_op[k] = malloc(no * sizeof(int)));
    oom |= !(m->norms = malloc(no * sizeof *m->norms));
    if (oom) return fail(m, "out of memory for %u tensors and %u operators", tensors.n, ops.n);
    int rc;
    for (int k = 0; k < m->n_t; k++)
        if ((rc = read_tensor(m, vec_tab(m, tensors, (uint32_t)k), buffers, &m->t[k]))) return rc;
    for (int i = 0; i < m->n_ops; i++)
        if ((rc = read_op(m, i, vec_tab(m, ops, (uint32_t)i), codes))) return rc;
    graph shape = {0};
    int in_t[2];
    if ((rc = find_inputs(m, &shape, inputs, in_t))) return rc;
    if (outputs.n != 1) return fail(m, "the network has %u outputs, not 1", outputs.n);
    int32_t out = (int32_t)rd32(m->b + outputs.pos);
    if (out < 0 || out >= m->n_t) return fail(m, "the output refers to tensor %d of %d", out, m->n_t);
    m->out = m->out_name = out;
    if ((rc = analyse(m, shape.n_inputs, in_t))) return rc;
    build bd = {.nodes = malloc((2 * no + 1) * sizeof(node))};
    if (!bd.nodes) return fail(m, "out of memory for %u operators", ops.n);
    shape.input_c[0] = 3;
    rc = build_nodes(m, &bd, &shape);
    if (!rc && (rc = graph_alloc(g, bd.n, bd.p, m->err)) == NST_OK) {
        size_t n_params = bd.p;
        free(bd.nodes);
        bd = (build){.nodes = g->nodes, .params = g->params};
        g->n_inputs = shape.n_inputs, g->input_c[1] = shape.input_c[1];
        if ((rc = build_nodes(m, &bd, g)) == NST_OK && (bd.n != g->n_nodes || bd.p != n_params))
            rc = fail(m, "internal error: the two passes disagree");
        if (rc) graph_free(g);
        return rc;
    }
    free(bd.nodes);
    return rc;
}

int tflite_load_memory(const unsigned char *buf, size_t len, const char *name, graph *g,
                       nst_error *err) {
    tfl m = {.b = buf, .len = len, .name = name, .err = err};
    memset(g, 0, sizeof *g);
    int rc = load(&m, g);
    if (!rc) {
        const tfl_tensor *out = &m.t[m.out];
        const node *last = &g->nodes[g->n_nodes - 1];
        snprintf(g->name, sizeof g->name, "%s", m.style >= 0 ? "magenta-transfer" : "magenta-predict");
        snprintf(g->path, sizeof g->path, "%s", name);
        for (int c = 0; c < 3; c++) g->in_scale[c] = 1.0f / 255, g->in_shift[c] = 0;
        /* an image out: 0..1 (the sigmoid) back to pixels */
        g->image_out = is4d(out) && out->dims[1] * (size_t)out->dims[2] > 1 && last->cout == 3;
        if (g->image_out) g->out_scale = 255, g->out_shift = 0;
        if ((rc = graph_check(g, err))) graph_free(g);
    }
    tfl_free(&m);
    return rc;
}

int tflite_load(const char *path, graph *g, nst_error *err) {
    memset(g, 0, sizeof *g);
    FILE *f = fopen(path, "rb");
    if (!f) return nst_fail(err, NST_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || st.st_size < 0 || (uint64_t)st.st_size > FILE_MAX) {
        fclose(f);
        return nst_fail(err, NST_ERR_FORMAT, "%s: not a readable TensorFlow Lite file", path);
    }
    size_t len = (size_t)st.st_size;
    unsigned char *buf = malloc(len ? len : 1);
    if (!buf || fread(buf, 1, len, f) != len) {
        free(buf);
        fclose(f);
        return nst_fail(err, NST_ERR_IO, "%s: cannot read", path);
    }
    fclose(f);
    int rc = tflite_load_memory(buf, len, path, g, err);
    free(buf);
    return rc;
}
