/* pickle.c: a pickle interpreter for torch.save'd state_dicts (see pickle.h).
 * The input is untrusted: every read is bounds-checked and anything outside
 * the subset is an error naming the file, the opcode and its offset. */
#include "io/pickle.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MEMO_MAX (1u << 22) /* memo slots; torch.save uses a few per tensor */

typedef struct {
    const unsigned char *buf;
    size_t len, pos;
    const char *file;
    pk_arena *arena;
    nst_error *err;
    pk_obj **stack;
    size_t sp, scap;
    size_t *marks;
    size_t nmarks, mcap;
    pk_obj **memo;
    size_t memo_cap, memo_len; /* memo_len: slots set, MEMOIZE's next index */
    int op;        /* opcode being run, for messages */
    size_t op_pos; /* its offset */
} pk_vm;

static int bad(pk_vm *vm, const char *what) {
    if (vm->op >= 0x20 && vm->op < 0x7f)
        return nst_fail(vm->err, NST_ERR_FORMAT, "%s: data.pkl: opcode 0x%02x ('%c') at offset %zu: %s",
                        vm->file, vm->op, vm->op, vm->op_pos, what);
    return nst_fail(vm->err, NST_ERR_FORMAT, "%s: data.pkl: opcode 0x%02x at offset %zu: %s",
                    vm->file, vm->op, vm->op_pos, what);
}

static int oom(pk_vm *vm) {
    return nst_fail(vm->err, NST_ERR_NOMEM, "%s: data.pkl: out of memory at offset %zu", vm->file, vm->op_pos);
}

static pk_obj *new_obj(pk_vm *vm, pk_kind kind) {
    pk_obj *o = calloc(1, sizeof *o);
    if (!o) {
        oom(vm);
        return NULL;
    }
    o->kind = kind;
    o->next = vm->arena->head;
    vm->arena->head = o;
    return o;
}

static int push(pk_vm *vm, pk_obj *o) {
    if (!o) return vm->err->code;
    if (vm->sp == vm->scap) {
        size_t cap = vm->scap ? 2 * vm->scap : 64;
        pk_obj **s = realloc(vm->stack, cap * sizeof *s);
        if (!s) return oom(vm);
        vm->stack = s;
        vm->scap = cap;
    }
    vm->stack[vm->sp++] = o;
    return NST_OK;
}

/* The first object above the innermost mark (the stack floor without one). */
static size_t floor_of_stack(pk_vm *vm) {
    return vm->nmarks ? vm->marks[vm->nmarks - 1] : 0;
}

static pk_obj *pop(pk_vm *vm) {
    if (vm->sp <= floor_of_stack(vm)) {
        bad(vm, "stack underflow");
        return NULL;
    }
    return vm->stack[--vm->sp];
}

static pk_obj *top(pk_vm *vm) {
    if (vm->sp <= floor_of_stack(vm)) {
        bad(vm, "stack underflow");
        return NULL;
    }
    return vm->stack[vm->sp - 1];
}

static int append_item(pk_vm *vm, pk_obj *seq, pk_obj *item) {
    if (seq->n == seq->cap) {
        int cap = seq->cap ? 2 * seq->cap : 8;
        pk_obj **it = realloc(seq->items, (size_t)cap * sizeof *it);
        if (!it) return oom(vm);
        seq->items = it;
        seq->cap = cap;
    }
    seq->items[seq->n++] = item;
    return NST_OK;
}

static int dict_set(pk_vm *vm, pk_obj *d, pk_obj *k, pk_obj *v) {
    if (d->kind != PK_DICT) return bad(vm, "setting an item on something that is not a dict");
    if (k->kind == PK_STR) /* a repeated string key replaces the value, as in Python */
        for (int i = 0; i < d->n; i++)
            if (d->items[2 * i]->kind == PK_STR && strcmp(d->items[2 * i]->s, k->s) == 0) {
                d->items[2 * i + 1] = v;
                return NST_OK;
            }
    if (2 * d->n + 2 > d->cap) {
        int cap = d->cap ? 2 * d->cap : 16;
        pk_obj **it = realloc(d->items, (size_t)cap * sizeof *it);
        if (!it) return oom(vm);
        d->items = it;
        d->cap = cap;
    }
    d->items[2 * d->n] = k;
    d->items[2 * d->n + 1] = v;
    d->n++;
    return NST_OK;
}

/* Pop everything above the innermost mark (and the mark) into a new tuple
 * or list. */
static pk_obj *pop_to_mark(pk_vm *vm, pk_kind kind) {
    if (!vm->nmarks) {
        bad(vm, "no MARK on the stack");
        return NULL;
    }
    size_t m = vm->marks[--vm->nmarks];
    pk_obj *t = new_obj(vm, kind);
    if (!t) return NULL;
    for (size_t i = m; i < vm->sp; i++)
        if (append_item(vm, t, vm->stack[i])) return NULL;
    vm->sp = m;
    return t;
}

static const unsigned char *take(pk_vm *vm, size_t n) {
    if (n > vm->len - vm->pos) {
        bad(vm, "truncated pickle");
        return NULL;
    }
    const unsigned char *p = vm->buf + vm->pos;
    vm->pos += n;
    return p;
}

static uint64_t le(const unsigned char *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static pk_obj *new_int(pk_vm *vm, int64_t v) {
    pk_obj *o = new_obj(vm, PK_INT);
    if (o) o->i = v;
    return o;
}

static pk_obj *new_str(pk_vm *vm, const unsigned char *p, size_t n, pk_kind kind) {
    pk_obj *o = new_obj(vm, kind);
    if (!o) return NULL;
    o->s = malloc(n + 1);
    if (!o->s) {
        oom(vm);
        return NULL;
    }
    memcpy(o->s, p, n);
    o->s[n] = 0;
    if (strlen(o->s) != n) {
        bad(vm, "string with an embedded NUL");
        return NULL;
    }
    return o;
}

/* Globals a state_dict may name; anything else could run code on load. */
static int allowed_global(const char *name) {
    static const char *const ok[] = {
        "collections.OrderedDict", "torch._utils._rebuild_tensor_v2",
        "torch._utils._rebuild_tensor", "torch._utils._rebuild_parameter",
    };
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++)
        if (strcmp(name, ok[i]) == 0) return 1;
    /* storage types (torch.FloatStorage, torch.LongStorage, ...): which of
     * them hold convertible data is the reader's business */
    size_t n = strlen(name);
    return strncmp(name, "torch.", 6) == 0 && strchr(name + 6, '.') == NULL && n > 13 &&
           strcmp(name + n - 7, "Storage") == 0;
}

static int make_global(pk_vm *vm, const char *module, size_t mlen, const char *name,
                       size_t nlen) {
    pk_obj *g = new_obj(vm, PK_GLOBAL);
    if (!g) return vm->err->code;
    g->s = malloc(mlen + nlen + 2);
    if (!g->s) return oom(vm);
    memcpy(g->s, module, mlen);
    g->s[mlen] = '.';
    memcpy(g->s + mlen + 1, name, nlen);
    g->s[mlen + nlen + 1] = 0;
    if (strlen(g->s) != mlen + nlen + 1 || !allowed_global(g->s)) {
        char msg[300];
        snprintf(msg, sizeof msg,
                 "refers to %.200s, which a state_dict does not contain (save "
                 "model.state_dict(), not the model)", g->s);
        return bad(vm, msg);
    }
    return push(vm, g);
}

static int int_tuple(pk_obj *t, int64_t *out, int max) {
    if (t->kind != PK_TUPLE || t->n > max) return -1;
    for (int i = 0; i < t->n; i++) {
        if (t->items[i]->kind != PK_INT) return -1;
        out[i] = t->items[i]->i;
    }
    return t->n;
}

/* storage, offset, size, stride[, requires_grad, backward_hooks[, metadata]] */
static pk_obj *rebuild_tensor(pk_vm *vm, pk_obj *args) {
    if (args->n < 4 || args->n > 7 || args->items[0]->kind != PK_STORAGE ||
        args->items[1]->kind != PK_INT) {
        bad(vm, "malformed tensor (expected storage, offset, size, stride)");
        return NULL;
    }
    pk_obj *t = new_obj(vm, PK_TENSOR);
    if (!t) return NULL;
    t->storage = args->items[0];
    t->offset = args->items[1]->i;
    int nd = int_tuple(args->items[2], t->size, NST_MAX_DIMS);
    int ns = int_tuple(args->items[3], t->stride, NST_MAX_DIMS);
    if (nd < 0 || nd != ns) {
        bad(vm, "tensor size and stride must be tuples of equal length (at most 8 integers)");
        return NULL;
    }
    t->ndim = nd;
    return t;
}

static int reduce(pk_vm *vm) {
    pk_obj *args = pop(vm), *fn = args ? pop(vm) : NULL;
    if (!fn) return vm->err->code;
    if (fn->kind != PK_GLOBAL || args->kind != PK_TUPLE)
        return bad(vm, "REDUCE of something that is not a known callable with a tuple");
    pk_obj *r;
    if (strcmp(fn->s, "collections.OrderedDict") == 0) {
        if (args->n) return bad(vm, "OrderedDict built from arguments");
        r = new_obj(vm, PK_DICT);
    } else if (strcmp(fn->s, "torch._utils._rebuild_parameter") == 0) {
        /* data, requires_grad, backward_hooks: the data is the tensor */
        if (args->n < 1 || args->items[0]->kind != PK_TENSOR)
            return bad(vm, "malformed Parameter");
        r = args->items[0];
    } else if (strncmp(fn->s, "torch._utils._rebuild_tensor", 28) == 0) {
        r = rebuild_tensor(vm, args);
    } else {
        return bad(vm, "a storage type is not callable");
    }
    return r ? push(vm, r) : vm->err->code;
}

/* ('storage', storage_type, key, location, numel) */
static int persistent_load(pk_vm *vm) {
    pk_obj *pid = pop(vm);
    if (!pid) return vm->err->code;
    pk_obj **it = pid->items;
    if (pid->kind != PK_TUPLE || pid->n != 5 || it[0]->kind != PK_STR ||
        strcmp(it[0]->s, "storage") || it[1]->kind != PK_GLOBAL || it[2]->kind != PK_STR ||
        it[4]->kind != PK_INT || it[4]->i < 0)
        return bad(vm, "malformed storage reference (expected ('storage', type, key, location, numel))");
    pk_obj *s = new_obj(vm, PK_STORAGE);
    if (!s) return vm->err->code;
    s->s = it[1]->s;     /* owned by the global object */
    s->key = it[2]->s;   /* owned by the string object */
    s->i = it[4]->i;
    return push(vm, s);
}

static int memo_put(pk_vm *vm, uint64_t idx) {
    pk_obj *o = top(vm);
    if (!o) return vm->err->code;
    if (idx >= MEMO_MAX) return bad(vm, "memo index too large");
    if (idx >= vm->memo_cap) {
        size_t cap = vm->memo_cap ? vm->memo_cap : 64;
        while (cap <= idx) cap *= 2;
        pk_obj **m = realloc(vm->memo, cap * sizeof *m);
        if (!m) return oom(vm);
        memset(m + vm->memo_cap, 0, (cap - vm->memo_cap) * sizeof *m);
        vm->memo = m;
        vm->memo_cap = cap;
    }
    if (!vm->memo[idx]) vm->memo_len++;
    vm->memo[idx] = o;
    return NST_OK;
}

static int memo_get(pk_vm *vm, uint64_t idx) {
    if (idx >= vm->memo_cap || !vm->memo[idx]) return bad(vm, "memo index not set");
    return push(vm, vm->memo[idx]);
}

/* Read "module\nname\n" (GLOBAL's argument). */
static int global_op(pk_vm *vm) {
    const char *p = (const char *)vm->buf + vm->pos;
    size_t left = vm->len - vm->pos;
    const char *nl1 = memchr(p, '\n', left);
    const char *nl2 = nl1 ? memchr(nl1 + 1, '\n', left - (size_t)(nl1 + 1 - p)) : NULL;
    if (!nl2) return bad(vm, "truncated pickle");
    vm->pos += (size_t)(nl2 + 1 - p);
    return make_global(vm, p, (size_t)(nl1 - p), nl1 + 1, (size_t)(nl2 - nl1 - 1));
}

static int step(pk_vm *vm, int *done) {
    vm->op_pos = vm->pos;
    const unsigned char *p = take(vm, 1);
    if (!p) return vm->err->code;
    vm->op = *p;
    pk_obj *a, *b, *c;
    switch (vm->op) {
    case 0x80: /* PROTO */
        if (!(p = take(vm, 1))) return vm->err->code;
        if (*p < 2 || *p > 5) return bad(vm, "unsupported pickle protocol");
        return NST_OK;
    case 0x95: /* FRAME: a length prefix, nothing to do */
        return take(vm, 8) ? NST_OK : vm->err->code;
    case '.': /* STOP */
        *done = 1;
        return NST_OK;
    case '(': /* MARK */
        if (vm->nmarks == vm->mcap) {
            size_t cap = vm->mcap ? 2 * vm->mcap : 16;
            size_t *m = realloc(vm->marks, cap * sizeof *m);
            if (!m) return oom(vm);
            vm->marks = m;
            vm->mcap = cap;
        }
        vm->marks[vm->nmarks++] = vm->sp;
        return NST_OK;
    case '}': return push(vm, new_obj(vm, PK_DICT));   /* EMPTY_DICT */
    case ']': return push(vm, new_obj(vm, PK_LIST));   /* EMPTY_LIST */
    case ')': return push(vm, new_obj(vm, PK_TUPLE));  /* EMPTY_TUPLE */
    case 'N': return push(vm, new_obj(vm, PK_NONE));   /* NONE */
    case 0x88: case 0x89:                              /* NEWTRUE, NEWFALSE */
        if (!(a = new_obj(vm, PK_BOOL))) return vm->err->code;
        a->i = vm->op == 0x88;
        return push(vm, a);
    case 'K': /* BININT1 */
        return (p = take(vm, 1)) ? push(vm, new_int(vm, p[0])) : vm->err->code;
    case 'M': /* BININT2 */
        return (p = take(vm, 2)) ? push(vm, new_int(vm, (int64_t)le(p, 2))) : vm->err->code;
    case 'J': /* BININT: signed 32-bit */
        return (p = take(vm, 4)) ? push(vm, new_int(vm, (int32_t)(uint32_t)le(p, 4)))
                                 : vm->err->code;
    case 0x8a: { /* LONG1: n-byte two's complement */
        if (!(p = take(vm, 1))) return vm->err->code;
        int n = p[0];
        if (n > 8) return bad(vm, "integer wider than 64 bits");
        if (!(p = take(vm, (size_t)n))) return vm->err->code;
        uint64_t v = le(p, n);
        if (n && n < 8 && (p[n - 1] & 0x80)) v |= ~0ull << (8 * n); /* sign-extend */
        int64_t s;
        memcpy(&s, &v, 8);
        return push(vm, new_int(vm, s));
    }
    case 'G': { /* BINFLOAT: big-endian double */
        if (!(p = take(vm, 8))) return vm->err->code;
        uint64_t v = 0;
        for (int i = 0; i < 8; i++) v = v << 8 | p[i];
        if (!(a = new_obj(vm, PK_FLOAT))) return vm->err->code;
        memcpy(&a->f, &v, 8);
        return push(vm, a);
    }
    case 'X': case 0x8c: { /* BINUNICODE (u32 length), SHORT_BINUNICODE (u8) */
        int w = vm->op == 'X' ? 4 : 1;
        if (!(p = take(vm, (size_t)w))) return vm->err->code;
        size_t n = (size_t)le(p, w);
        if (!(p = take(vm, n))) return vm->err->code;
        return push(vm, new_str(vm, p, n, PK_STR));
    }
    case 'q': /* BINPUT */
        return (p = take(vm, 1)) ? memo_put(vm, p[0]) : vm->err->code;
    case 'r': /* LONG_BINPUT */
        return (p = take(vm, 4)) ? memo_put(vm, le(p, 4)) : vm->err->code;
    case 0x94: /* MEMOIZE */
        return memo_put(vm, vm->memo_len);
    case 'h': /* BINGET */
        return (p = take(vm, 1)) ? memo_get(vm, p[0]) : vm->err->code;
    case 'j': /* LONG_BINGET */
        return (p = take(vm, 4)) ? memo_get(vm, le(p, 4)) : vm->err->code;
    case 'c': /* GLOBAL */
        return global_op(vm);
    case 0x93: /* STACK_GLOBAL */
        if (!(b = pop(vm)) || !(a = pop(vm))) return vm->err->code;
        if (a->kind != PK_STR || b->kind != PK_STR) return bad(vm, "module or name is not a string");
        return make_global(vm, a->s, strlen(a->s), b->s, strlen(b->s));
    case 'Q': /* BINPERSID */
        return persistent_load(vm);
    case 't': /* TUPLE */
        return push(vm, pop_to_mark(vm, PK_TUPLE));
    case 'l': /* LIST */
        return push(vm, pop_to_mark(vm, PK_LIST));
    case 0x85: case 0x86: case 0x87: { /* TUPLE1..3 */
        int n = vm->op - 0x84;
        pk_obj *t = new_obj(vm, PK_TUPLE), *items[3];
        if (!t) return vm->err->code;
        for (int i = n - 1; i >= 0; i--)
            if (!(items[i] = pop(vm))) return vm->err->code;
        for (int i = 0; i < n; i++)
            if (append_item(vm, t, items[i])) return vm->err->code;
        return push(vm, t);
    }
    case 'R': /* REDUCE */
        return reduce(vm);
    case 'b': /* BUILD: state for the object below it; dict attributes (the
               * state_dict's _metadata) and tensor state are not needed */
        if (!(a = pop(vm)) || !(b = top(vm))) return vm->err->code;
        if (b->kind != PK_DICT && b->kind != PK_TENSOR) return bad(vm, "BUILD of an unsupported object");
        return NST_OK;
    case 's': /* SETITEM */
        if (!(c = pop(vm)) || !(b = pop(vm)) || !(a = top(vm))) return vm->err->code;
        return dict_set(vm, a, b, c);
    case 'u': /* SETITEMS */
    case 'e': /* APPENDS */
        if (!(a = pop_to_mark(vm, PK_LIST))) return vm->err->code;
        if (!(b = top(vm))) return vm->err->code;
        if (vm->op == 'u') {
            if (a->n % 2) return bad(vm, "odd number of items");
            for (int i = 0; i < a->n; i += 2)
                if (dict_set(vm, b, a->items[i], a->items[i + 1])) return vm->err->code;
            return NST_OK;
        }
        if (b->kind != PK_LIST) return bad(vm, "appending to something that is not a list");
        for (int i = 0; i < a->n; i++)
            if (append_item(vm, b, a->items[i])) return vm->err->code;
        return NST_OK;
    case 'a': /* APPEND */
        if (!(a = pop(vm)) || !(b = top(vm))) return vm->err->code;
        if (b->kind != PK_LIST) return bad(vm, "appending to something that is not a list");
        return append_item(vm, b, a);
    default:
        return bad(vm, "opcode not supported in a state_dict");
    }
}

int pk_load(const unsigned char *buf, size_t len, const char *file, pk_arena *arena,
            pk_obj **root, nst_error *err) {
    nst_error own;
    pk_vm vm = {.buf = buf, .len = len, .file = file, .arena = arena, .err = err ? err : &own};
    int done = 0, rc = NST_OK;
    *root = NULL;
    while (!done && !rc) rc = step(&vm, &done);
    if (!rc) {
        if (vm.sp != 1 || vm.nmarks) rc = bad(&vm, "STOP with an unbalanced stack");
        else *root = vm.stack[0];
    }
    free(vm.stack);
    free(vm.marks);
    free(vm.memo);
    return rc;
}

void pk_free(pk_arena *arena) {
    for (pk_obj *o = arena->head, *next; o; o = next) {
        next = o->next;
        if (o->kind != PK_STORAGE) free(o->s); /* a storage borrows its type name */
        free(o->items);
        free(o->data);
        free(o);
    }
    arena->head = NULL;
}
