/* GGUF header reader. Every read is bounds-checked against the bytes present; counts are checked against the
 * smallest possible encoding of what they count before anything is allocated. */
#include "gguf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GGUF_DEFAULT_ALIGNMENT 32
#define GGUF_MAX_NAME 256
#define GGUF_MAX_ALIGNMENT (1u << 20) /* real files use 32; anything near 2^32 only serves to overflow offsets */

/* ggml's block sizes for every type id it has defined, so data layout is computable even for types we do not
 * run (the model loader refuses those by name). Source: ggml/src/ggml.c type_traits. Gaps are removed ids. */
static const struct { const char *name; uint32_t blck, bytes; } ggml_types[] = {
    [0] = {"F32", 1, 4},        [1] = {"F16", 1, 2},        [2] = {"Q4_0", 32, 18},    [3] = {"Q4_1", 32, 20},
    [6] = {"Q5_0", 32, 22},     [7] = {"Q5_1", 32, 24},     [8] = {"Q8_0", 32, 34},    [9] = {"Q8_1", 32, 36},
    [10] = {"Q2_K", 256, 84},   [11] = {"Q3_K", 256, 110},  [12] = {"Q4_K", 256, 144}, [13] = {"Q5_K", 256, 176},
    [14] = {"Q6_K", 256, 210},  [15] = {"Q8_K", 256, 292},  [16] = {"IQ2_XXS", 256, 66}, [17] = {"IQ2_XS", 256, 74},
    [18] = {"IQ3_XXS", 256, 98}, [19] = {"IQ1_S", 256, 50}, [20] = {"IQ4_NL", 32, 18}, [21] = {"IQ3_S", 256, 110},
    [22] = {"IQ2_S", 256, 82},  [23] = {"IQ4_XS", 256, 136}, [24] = {"I8", 1, 1},      [25] = {"I16", 1, 2},
    [26] = {"I32", 1, 4},       [27] = {"I64", 1, 8},       [28] = {"F64", 1, 8},      [29] = {"IQ1_M", 256, 56},
    [30] = {"BF16", 1, 2},      [34] = {"TQ1_0", 256, 54},  [35] = {"TQ2_0", 256, 66}, [39] = {"MXFP4", 32, 17},
};
#define N_GGML_TYPES (sizeof ggml_types / sizeof ggml_types[0])

const char *gguf_type_name(uint32_t t) {
    return t < N_GGML_TYPES && ggml_types[t].name ? ggml_types[t].name : "unknown";
}

/* Smallest encoded size of a value of each metadata type (for strings: the 8-byte length). */
static const uint32_t vtype_min_size[GGUF_VTYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 8, 12, 8, 8, 8};
static const char *const vtype_names[GGUF_VTYPE_COUNT] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                                          "bool", "string", "array", "u64", "i64", "f64"};

typedef struct cursor {
    const uint8_t *buf;
    uint64_t len, pos;
    uint64_t need; /* set when the buffer ran out: bytes that must be present to go on */
    char *err;
    size_t errlen;
} cursor;

static plm_status fail(cursor *c, plm_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (c->err && c->errlen) vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return st;
}

/* 1 when n bytes are available at pos; otherwise records what is needed. */
static int have(cursor *c, uint64_t n) {
    if (n <= c->len - c->pos) return 1;
    uint64_t end = c->pos + n;
    c->need = end < c->pos ? UINT64_MAX : end; /* overflow: never satisfiable */
    return 0;
}

static uint64_t rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

static int rd(cursor *c, int n, uint64_t *v) {
    if (!have(c, (uint64_t)n)) return 0;
    *v = rd_le(c->buf + c->pos, n);
    c->pos += (uint64_t)n;
    return 1;
}

static int rd_str(cursor *c, gguf_str *s) {
    uint64_t n;
    if (!rd(c, 8, &n)) return 0;
    if (!have(c, n)) return 0;
    s->s = (const char *)c->buf + c->pos;
    s->n = n;
    c->pos += n;
    return 1;
}

static int str_eq(gguf_str s, const char *z) {
    size_t n = strlen(z);
    return s.n == n && memcmp(s.s, z, n) == 0;
}

/* "key 'name' truncated" style messages need a printable, bounded copy of a file string. */
static const char *show(gguf_str s, char *tmp, size_t cap) {
    size_t n = s.n < cap - 1 ? (size_t)s.n : cap - 1;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s.s[i];
        tmp[i] = ch >= 32 && ch < 127 ? (char)ch : '?';
    }
    tmp[n] = 0;
    return tmp;
}

#define TRUNC(c, what, ...) fail(c, PLM_BAD_MODEL, "GGUF truncated in " what " (need %llu bytes, have %llu)", \
                                 __VA_ARGS__, (unsigned long long)(c)->need, (unsigned long long)(c)->len)

static plm_status read_value(cursor *c, gguf_kv *kv, const char *key) {
    uint64_t v;
    switch (kv->type) {
    case GGUF_U8: case GGUF_BOOL: if (!rd(c, 1, &v)) goto trunc; kv->v.u = v; kv->v.i = (int64_t)v; break;
    case GGUF_I8: if (!rd(c, 1, &v)) goto trunc; kv->v.i = (int8_t)v; break;
    case GGUF_U16: if (!rd(c, 2, &v)) goto trunc; kv->v.u = v; break;
    case GGUF_I16: if (!rd(c, 2, &v)) goto trunc; kv->v.i = (int16_t)v; break;
    case GGUF_U32: if (!rd(c, 4, &v)) goto trunc; kv->v.u = v; break;
    case GGUF_I32: if (!rd(c, 4, &v)) goto trunc; kv->v.i = (int32_t)(uint32_t)v; break;
    case GGUF_U64: if (!rd(c, 8, &v)) goto trunc; kv->v.u = v; break;
    case GGUF_I64: if (!rd(c, 8, &v)) goto trunc; kv->v.i = (int64_t)v; break;
    case GGUF_F32: {
        if (!rd(c, 4, &v)) goto trunc;
        uint32_t b = (uint32_t)v;
        float f;
        memcpy(&f, &b, 4);
        kv->v.f = f;
        break;
    }
    case GGUF_F64: {
        if (!rd(c, 8, &v)) goto trunc;
        memcpy(&kv->v.f, &v, 8);
        break;
    }
    case GGUF_STRING: if (!rd_str(c, &kv->str)) goto trunc; break;
    case GGUF_ARRAY: {
        uint64_t t, n;
        if (!rd(c, 4, &t) || !rd(c, 8, &n)) goto trunc;
        if (t >= GGUF_VTYPE_COUNT || t == GGUF_ARRAY)
            return fail(c, PLM_BAD_MODEL, "GGUF key '%s': array of %s is not allowed", key,
                        t == GGUF_ARRAY ? "arrays" : "an unknown type");
        kv->arr_type = (uint32_t)t;
        kv->arr_n = n;
        /* Bound the count by the smallest encoding before walking it. */
        if (n > (UINT64_MAX / 8) || !have(c, n * vtype_min_size[t])) {
            if (n > UINT64_MAX / 8) c->need = UINT64_MAX;
            return TRUNC(c, "array '%s' of %llu elements", key, (unsigned long long)n);
        }
        kv->arr_data = c->buf + c->pos;
        if (t == GGUF_STRING) {
            for (uint64_t i = 0; i < n; i++) {
                gguf_str s;
                if (!rd_str(c, &s)) return TRUNC(c, "string %llu of array '%s'", (unsigned long long)i, key);
            }
        } else {
            c->pos += n * vtype_min_size[t];
        }
        break;
    }
    default:
        return fail(c, PLM_BAD_MODEL, "GGUF key '%s' has unknown value type %u", key, kv->type);
    }
    return PLM_OK;
trunc:
    return TRUNC(c, "the value of key '%s'", key);
}

static int cmp_offset(const void *a, const void *b) {
    const gguf_tensor *x = *(const gguf_tensor *const *)a, *y = *(const gguf_tensor *const *)b;
    return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int cmp_name(const void *a, const void *b) {
    const gguf_tensor *x = a, *y = b;
    uint64_t n = x->name.n < y->name.n ? x->name.n : y->name.n;
    int r = memcmp(x->name.s, y->name.s, (size_t)n);
    return r ? r : (x->name.n > y->name.n) - (x->name.n < y->name.n);
}

static int cmp_key(const void *a, const void *b) {
    const gguf_str *x = *(const gguf_str *const *)a, *y = *(const gguf_str *const *)b;
    uint64_t n = x->n < y->n ? x->n : y->n;
    int r = memcmp(x->s, y->s, (size_t)n);
    return r ? r : (x->n > y->n) - (x->n < y->n);
}

/* Sorting keeps this n log n: a hostile header with a million keys must not take hours. */
static plm_status check_duplicate_keys(cursor *c, const gguf_file *g) {
    if (g->n_kv < 2) return PLM_OK;
    const gguf_str **keys = malloc(g->n_kv * sizeof *keys);
    if (!keys) return fail(c, PLM_OUT_OF_MEMORY, "out of memory reading the GGUF header");
    for (uint64_t i = 0; i < g->n_kv; i++) keys[i] = &g->kv[i].key;
    qsort(keys, g->n_kv, sizeof *keys, cmp_key);
    plm_status st = PLM_OK;
    char nm[80];
    for (uint64_t i = 1; i < g->n_kv && st == PLM_OK; i++)
        if (cmp_key(&keys[i - 1], &keys[i]) == 0)
            st = fail(c, PLM_BAD_MODEL, "GGUF key '%s' appears twice", show(*keys[i], nm, sizeof nm));
    free(keys);
    return st;
}

static plm_status read_tensor_info(cursor *c, gguf_file *g, uint64_t i) {
    gguf_tensor *t = &g->tensors[i];
    char nm[80];
    uint64_t v;
    if (!rd_str(c, &t->name)) return TRUNC(c, "the name of tensor %llu", (unsigned long long)i);
    if (t->name.n == 0 || t->name.n > GGUF_MAX_NAME)
        return fail(c, PLM_BAD_MODEL, "tensor %llu has a name of length %llu (must be 1..%d)", (unsigned long long)i,
                    (unsigned long long)t->name.n, GGUF_MAX_NAME);
    show(t->name, nm, sizeof nm);
    if (!rd(c, 4, &v)) return TRUNC(c, "tensor '%s'", nm);
    if (v == 0 || v > GGUF_MAX_DIMS)
        return fail(c, PLM_BAD_MODEL, "tensor '%s' has %llu dimensions (must be 1..%d)", nm, (unsigned long long)v,
                    GGUF_MAX_DIMS);
    t->n_dims = (uint32_t)v;
    uint64_t nel = 1;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if ((uint32_t)d >= t->n_dims) continue;
        if (!rd(c, 8, &t->ne[d])) return TRUNC(c, "the shape of tensor '%s'", nm);
        if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(nel, t->ne[d], &nel) ||
            nel > (uint64_t)INT64_MAX)
            return fail(c, PLM_BAD_MODEL, "tensor '%s' has an invalid dimension %d of %llu", nm, d,
                        (unsigned long long)t->ne[d]);
    }
    if (!rd(c, 4, &v) || !rd(c, 8, &t->offset)) return TRUNC(c, "tensor '%s'", nm);
    if (v >= N_GGML_TYPES || !ggml_types[v].name)
        return fail(c, PLM_UNSUPPORTED, "tensor '%s' has unknown type id %llu", nm, (unsigned long long)v);
    t->type = (uint32_t)v;
    uint32_t blck = ggml_types[v].blck;
    if (t->ne[0] % blck)
        return fail(c, PLM_BAD_MODEL, "tensor '%s': row length %llu is not a multiple of %s's block of %u", nm,
                    (unsigned long long)t->ne[0], ggml_types[v].name, blck);
    uint64_t rows = nel / t->ne[0];
    uint64_t row_bytes = t->ne[0] / blck * ggml_types[v].bytes;
    if (__builtin_mul_overflow(row_bytes, rows, &t->size))
        return fail(c, PLM_BAD_MODEL, "tensor '%s' is too large", nm);
    return PLM_OK;
}

plm_status gguf_parse(gguf_file *g, const uint8_t *buf, uint64_t len, uint64_t *need, char *err, size_t errlen) {
    cursor c = {buf, len, 0, 0, err, errlen};
    plm_status st = PLM_OK;
    uint64_t v;
    char nm[80];
    memset(g, 0, sizeof *g);
    if (err && errlen) err[0] = 0;

    if (!have(&c, 4)) { st = TRUNC(&c, "the magic number%s", ""); goto out; }
    if (memcmp(buf, "GGUF", 4) != 0) {
        st = fail(&c, PLM_BAD_MODEL, "not a GGUF file (the first bytes are not 'GGUF')");
        goto out;
    }
    c.pos = 4;
    if (!rd(&c, 4, &v)) { st = TRUNC(&c, "the version%s", ""); goto out; }
    if (v == 1 || (v > 0xFFFF && (v & 0xFFFF) == 0)) {
        st = fail(&c, PLM_UNSUPPORTED, v == 1 ? "GGUF version 1 is not supported (re-convert the model)"
                                              : "big-endian GGUF files are not supported");
        goto out;
    }
    if (v != 2 && v != 3) {
        st = fail(&c, PLM_UNSUPPORTED, "GGUF version %llu is not supported (2 and 3 are)", (unsigned long long)v);
        goto out;
    }
    g->version = (uint32_t)v;
    if (!rd(&c, 8, &g->n_tensors) || !rd(&c, 8, &g->n_kv)) { st = TRUNC(&c, "the header counts%s", ""); goto out; }
    /* Each key/value takes at least 8 (key length) + 4 (type) + 1 bytes; each tensor info at least 8+1+4+8+4+8.
     * Checked together, before any allocation, so the verdict does not depend on how much has been buffered. */
    {
        uint64_t min_kv, min_t, min_all;
        if (__builtin_mul_overflow(g->n_kv, 13, &min_kv) || __builtin_mul_overflow(g->n_tensors, 33, &min_t) ||
            __builtin_add_overflow(min_kv, min_t, &min_all) || __builtin_add_overflow(min_all, c.pos, &min_all))
            min_all = UINT64_MAX;
        if (min_all > len) {
            c.need = min_all;
            st = fail(&c, PLM_BAD_MODEL, "GGUF header claims %llu keys and %llu tensors, more than the %llu bytes "
                      "of the file can hold", (unsigned long long)g->n_kv, (unsigned long long)g->n_tensors,
                      (unsigned long long)len);
            goto out;
        }
    }
    g->kv = calloc(g->n_kv ? g->n_kv : 1, sizeof *g->kv);
    g->tensors = calloc(g->n_tensors ? g->n_tensors : 1, sizeof *g->tensors);
    if (!g->kv || !g->tensors) { st = fail(&c, PLM_OUT_OF_MEMORY, "out of memory reading the GGUF header"); goto out; }

    g->alignment = GGUF_DEFAULT_ALIGNMENT;
    for (uint64_t i = 0; i < g->n_kv; i++) {
        gguf_kv *kv = &g->kv[i];
        if (!rd_str(&c, &kv->key)) { st = TRUNC(&c, "key %llu", (unsigned long long)i); goto out; }
        show(kv->key, nm, sizeof nm);
        if (kv->key.n == 0) { st = fail(&c, PLM_BAD_MODEL, "GGUF key %llu is empty", (unsigned long long)i); goto out; }
        if (!rd(&c, 4, &v)) { st = TRUNC(&c, "the type of key '%s'", nm); goto out; }
        if (v >= GGUF_VTYPE_COUNT) {
            st = fail(&c, PLM_BAD_MODEL, "GGUF key '%s' has unknown value type %llu", nm, (unsigned long long)v);
            goto out;
        }
        kv->type = (uint32_t)v;
        if ((st = read_value(&c, kv, nm)) != PLM_OK) goto out;
        if (str_eq(kv->key, "general.alignment")) {
            if (kv->type != GGUF_U32 || kv->v.u == 0 || (kv->v.u & (kv->v.u - 1)) || kv->v.u > GGUF_MAX_ALIGNMENT) {
                st = fail(&c, PLM_BAD_MODEL, "general.alignment must be a u32 power of two up to 1 MiB (got %s %llu)",
                          vtype_names[kv->type], (unsigned long long)kv->v.u);
                goto out;
            }
            g->alignment = kv->v.u;
        }
    }

    if ((st = check_duplicate_keys(&c, g)) != PLM_OK) goto out;

    for (uint64_t i = 0; i < g->n_tensors; i++) {
        if ((st = read_tensor_info(&c, g, i)) != PLM_OK) goto out;
        const gguf_tensor *t = &g->tensors[i];
        show(t->name, nm, sizeof nm);
        if (t->offset % g->alignment) {
            st = fail(&c, PLM_BAD_MODEL, "tensor '%s' offset %llu is not a multiple of the alignment %llu", nm,
                      (unsigned long long)t->offset, (unsigned long long)g->alignment);
            goto out;
        }
        uint64_t end;
        if (__builtin_add_overflow(t->offset, t->size, &end)) {
            st = fail(&c, PLM_BAD_MODEL, "tensor '%s' offset %llu is out of range", nm, (unsigned long long)t->offset);
            goto out;
        }
        if (end > g->data_size) g->data_size = end;
    }
    g->header_size = c.pos;
    g->data_offset = (c.pos + g->alignment - 1) / g->alignment * g->alignment;

    /* Duplicate names and overlapping data would make the file mean two things: refuse both. */
    if (g->n_tensors > 1) {
        gguf_tensor **byoff = malloc(g->n_tensors * sizeof *byoff);
        if (!byoff) { st = fail(&c, PLM_OUT_OF_MEMORY, "out of memory reading the GGUF header"); goto out; }
        for (uint64_t i = 0; i < g->n_tensors; i++) byoff[i] = &g->tensors[i];
        qsort(byoff, g->n_tensors, sizeof *byoff, cmp_offset);
        for (uint64_t i = 1; i < g->n_tensors && st == PLM_OK; i++)
            if (byoff[i - 1]->offset + byoff[i - 1]->size > byoff[i]->offset)
                st = fail(&c, PLM_BAD_MODEL, "tensors '%s' and '%s' overlap in the data section",
                          show(byoff[i - 1]->name, nm, 40), show(byoff[i]->name, nm + 40, 40));
        free(byoff);
        if (st) goto out;
        /* Names: sorting keeps the check n log n even for a hostile file with a million tensors. */
        gguf_tensor *tmp = malloc(g->n_tensors * sizeof *tmp);
        if (!tmp) { st = fail(&c, PLM_OUT_OF_MEMORY, "out of memory reading the GGUF header"); goto out; }
        memcpy(tmp, g->tensors, g->n_tensors * sizeof *tmp);
        qsort(tmp, g->n_tensors, sizeof *tmp, cmp_name);
        for (uint64_t i = 1; i < g->n_tensors && st == PLM_OK; i++)
            if (cmp_name(&tmp[i - 1], &tmp[i]) == 0)
                st = fail(&c, PLM_BAD_MODEL, "tensor '%s' appears twice", show(tmp[i].name, nm, sizeof nm));
        free(tmp);
        if (st) goto out;
    }
out:
    if (need) *need = (st != PLM_OK && c.need > len) ? c.need : 0;
    if (st != PLM_OK) gguf_free(g);
    return st;
}

void gguf_free(gguf_file *g) {
    free(g->kv);
    free(g->tensors);
    memset(g, 0, sizeof *g);
}

const gguf_kv *gguf_find(const gguf_file *g, const char *key) {
    for (uint64_t i = 0; i < g->n_kv; i++)
        if (str_eq(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}

const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name) {
    for (uint64_t i = 0; i < g->n_tensors; i++)
        if (str_eq(g->tensors[i].name, name)) return &g->tensors[i];
    return NULL;
}

int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv) return 0;
    switch (kv->type) {
    case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64:
        if (kv->v.u > UINT32_MAX) return 0;
        *out = (uint32_t)kv->v.u;
        return 1;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64:
        if (kv->v.i < 0 || kv->v.i > (int64_t)UINT32_MAX) return 0;
        *out = (uint32_t)kv->v.i;
        return 1;
    default: return 0;
    }
}

int gguf_get_f32(const gguf_file *g, const char *key, float *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || (kv->type != GGUF_F32 && kv->type != GGUF_F64)) return 0;
    *out = (float)kv->v.f;
    return 1;
}

int gguf_get_bool(const gguf_file *g, const char *key, int *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_BOOL) return 0;
    *out = kv->v.u != 0;
    return 1;
}

int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out) {
    const gguf_kv *kv = gguf_find(g, key);
    if (!kv || kv->type != GGUF_STRING) return 0;
    *out = kv->str;
    return 1;
}

const uint8_t *gguf_str_array_next(const uint8_t *p, gguf_str *out) {
    /* Bounds were checked when the array was parsed. */
    out->n = rd_le(p, 8);
    out->s = (const char *)p + 8;
    return p + 8 + out->n;
}
