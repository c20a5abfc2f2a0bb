/* pickle.h: the subset of Python pickle that torch.save writes for a
 * state_dict (protocol 2, plus the protocol 4 framing opcodes), and the raw
 * element types shared by the .pth and safetensors readers.
 *
 * The interpreter builds a small object graph: dicts, tuples, lists, scalars,
 * strings, storage references (BINPERSID) and tensors (REDUCE of
 * torch._utils._rebuild_tensor_v2). Only whitelisted globals are accepted, so
 * a pickle that would run arbitrary code is an error, never executed. */
#ifndef NST_PICKLE_H
#define NST_PICKLE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "io/io.h"

typedef enum {
    PK_NONE, PK_BOOL, PK_INT, PK_FLOAT, PK_STR, PK_TUPLE, PK_LIST, PK_DICT,
    PK_GLOBAL,  /* s = "module.name" */
    PK_STORAGE, /* s = storage type ("torch.FloatStorage"), key, numel */
    PK_TENSOR,  /* storage, offset, ndim, size, stride */
} pk_kind;

typedef struct pk_obj pk_obj;
struct pk_obj {
    pk_kind kind;
    int64_t i;           /* PK_INT, PK_BOOL; PK_STORAGE: numel */
    double f;            /* PK_FLOAT */
    char *s;             /* PK_STR, PK_GLOBAL, PK_STORAGE type */
    char *key;           /* PK_STORAGE: name of its data/<key> record */
    int n, cap;          /* PK_TUPLE, PK_LIST: n items; PK_DICT: n key/value pairs; cap: slots */
    pk_obj **items;      /* PK_DICT: keys and values interleaved */
    pk_obj *storage;     /* PK_TENSOR */
    int64_t offset;
    int ndim;
    int64_t size[NST_MAX_DIMS], stride[NST_MAX_DIMS];
    void *data;          /* PK_STORAGE: bytes attached by the reader (freed with the arena) */
    size_t nbytes;
    int uses;            /* PK_STORAGE: tensors the reader has yet to copy out of it */
    pk_obj *next;        /* arena chain */
};

typedef struct {
    pk_obj *head; /* every object allocated by pk_load */
} pk_arena;

/* Run the pickle in buf[0..len). `file` names the source in messages. On
 * success *root is the unpickled object, owned by the arena. */
int pk_load(const unsigned char *buf, size_t len, const char *file, pk_arena *arena,
            pk_obj **root, nst_error *err);
void pk_free(pk_arena *arena);

/* ---- raw little-endian element types ---------------------------------- */

typedef enum { RAW_F32, RAW_F16, RAW_BF16 } raw_dtype;

static inline size_t raw_size(raw_dtype t) { return t == RAW_F32 ? 4 : 2; }

/* Element i of a little-endian array of type t, as float. */
static inline float raw_get(const unsigned char *p, raw_dtype t, size_t i) {
    uint32_t bits;
    float f;
    if (t == RAW_F32) {
        p += 4 * i;
        bits = p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
    } else {
        p += 2 * i;
        uint32_t h = p[0] | (uint32_t)p[1] << 8;
        if (t == RAW_BF16) {
            bits = h << 16;
        } else { /* IEEE half: 1 sign, 5 exponent, 10 mantissa bits */
            uint32_t sign = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff;
            if (e == 0x1f) {
                bits = sign | 0x7f800000 | m << 13;
            } else if (e) {
                bits = sign | (e + 112) << 23 | m << 13;
            } else { /* zero or subnormal: m * 2^-24 */
                f = (float)m * 0x1p-24f;
                memcpy(&bits, &f, 4);
                bits |= sign;
            }
        }
    }
    memcpy(&f, &bits, 4);
    return f;
}

#endif
