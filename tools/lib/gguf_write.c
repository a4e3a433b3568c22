/* GGUF v3 writer. Layout as in ggml's gguf writer (ggml/src/gguf.cpp, MIT) and the GGUF spec
 * (ggml/docs/gguf.md): "GGUF", u32 version 3, u64 n_tensors, u64 n_kv, the key/values, the tensor infos
 * (name, u32 n_dims, u64 ne[n_dims], u32 type, u64 offset), zeros up to the alignment, then the tensors' data,
 * each padded with zeros to the alignment. Offsets are relative to the start of the data section.
 *
 * Every value is kept in its encoded (file) form, so writing is a concatenation and values copied from a parsed
 * file go out byte for byte. */
#include "gguf_write.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

typedef struct wkv {
    char *key;
    size_t key_len;
    uint32_t type;   /* enum gguf_vtype */
    uint8_t *val;    /* encoded value, exactly as in the file after the type field */
    size_t val_len;
} wkv;

typedef struct wtensor {
    char *name;
    size_t name_len;
    uint32_t type, n_dims;
    uint64_t ne[GGUF_MAX_DIMS];
    uint64_t size;   /* bytes */
    uint8_t *data;   /* NULL when streamed */
} wtensor;

enum { W_BUILDING = 0, W_STREAMING, W_DONE, W_FAILED };

struct gguf_writer {
    wkv *kv;
    size_t n_kv, cap_kv;
    wtensor *t;
    size_t n_t, cap_t;
    int state;
    size_t cur;              /* streaming: tensor being written */
    uint64_t cur_done;       /* streaming: bytes of it written so far */
    char err[256];
};

/* Sizes of the encoded scalar types (0 for STRING and ARRAY). */
static const uint8_t scalar_size[GGUF_VTYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

static plm_status fail(gguf_writer *w, plm_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->err, sizeof w->err, fmt, ap);
    va_end(ap);
    return st;
}

gguf_writer *gguf_writer_new(void) { return calloc(1, sizeof(gguf_writer)); }

void gguf_writer_free(gguf_writer *w) {
    if (!w) return;
    for (size_t i = 0; i < w->n_kv; i++) {
        free(w->kv[i].key);
        free(w->kv[i].val);
    }
    for (size_t i = 0; i < w->n_t; i++) {
        free(w->t[i].name);
        free(w->t[i].data);
    }
    free(w->kv);
    free(w->t);
    free(w);
}

const char *gguf_writer_errmsg(const gguf_writer *w) { return w ? w->err : "out of memory"; }

/* ---------------------------------------------------------------- little-endian encoding */
static void put_le(uint8_t *p, uint64_t v, int n) {
    for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i));
}

/* Host element of an array or scalar -> its little-endian encoding. */
static void encode_elem(uint8_t *out, uint32_t type, const void *src) {
    uint64_t v = 0;
    switch (type) {
    case GGUF_U8: case GGUF_I8: case GGUF_BOOL: { uint8_t x; memcpy(&x, src, 1); v = x; break; }
    case GGUF_U16: case GGUF_I16: { uint16_t x; memcpy(&x, src, 2); v = x; break; }
    case GGUF_U32: case GGUF_I32: case GGUF_F32: { uint32_t x; memcpy(&x, src, 4); v = x; break; }
    default: memcpy(&v, src, 8); break; /* U64, I64, F64 */
    }
    if (type == GGUF_BOOL) v = v != 0;
    put_le(out, v, scalar_size[type]);
}

/* ---------------------------------------------------------------- key/values */
static wkv *find_kv(const gguf_writer *w, const char *key, size_t n) {
    for (size_t i = 0; i < w->n_kv; i++)
        if (w->kv[i].key_len == n && memcmp(w->kv[i].key, key, n) == 0) return &w->kv[i];
    return NULL;
}

static int is_pow2(uint64_t v) { return v && !(v & (v - 1)); }

/* Takes ownership of val (freed on failure). */
static plm_status put_kv(gguf_writer *w, const char *key, size_t key_len, uint32_t type, uint8_t *val, size_t len) {
    if (w->state != W_BUILDING) {
        free(val);
        return fail(w, PLM_BAD_ARG, "gguf writer: metadata cannot change after the header was written");
    }
    if (!key || key_len == 0) {
        free(val);
        return fail(w, PLM_BAD_ARG, "gguf writer: empty key");
    }
    if (key_len == 17 && memcmp(key, "general.alignment", 17) == 0) {
        uint64_t a = 0;
        if (type == GGUF_U32) a = (uint64_t)val[0] | (uint64_t)val[1] << 8 | (uint64_t)val[2] << 16 | (uint64_t)val[3] << 24;
        if (type != GGUF_U32 || !is_pow2(a)) {
            free(val);
            return fail(w, PLM_BAD_ARG, "gguf writer: general.alignment must be a u32 power of two");
        }
    }
    wkv *kv = find_kv(w, key, key_len);
    if (kv) {
        free(kv->val);
        kv->type = type;
        kv->val = val;
        kv->val_len = len;
        return PLM_OK;
    }
    if (w->n_kv == w->cap_kv) {
        size_t cap = w->cap_kv ? w->cap_kv * 2 : 16;
        wkv *p = realloc(w->kv, cap * sizeof *p);
        if (!p) { free(val); return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory"); }
        w->kv = p;
        w->cap_kv = cap;
    }
    char *k = malloc(key_len + 1);
    if (!k) { free(val); return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory"); }
    memcpy(k, key, key_len);
    k[key_len] = 0;
    w->kv[w->n_kv++] = (wkv){k, key_len, type, val, len};
    return PLM_OK;
}

static plm_status set_scalar(gguf_writer *w, const char *key, uint32_t type, const void *v) {
    if (!key) return fail(w, PLM_BAD_ARG, "gguf writer: NULL key");
    uint8_t *val = malloc(8);
    if (!val) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
    encode_elem(val, type, v);
    return put_kv(w, key, strlen(key), type, val, scalar_size[type]);
}

plm_status gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v) { return set_scalar(w, key, GGUF_U8, &v); }
plm_status gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v) { return set_scalar(w, key, GGUF_I8, &v); }
plm_status gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v) { return set_scalar(w, key, GGUF_U16, &v); }
plm_status gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v) { return set_scalar(w, key, GGUF_I16, &v); }
plm_status gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v) { return set_scalar(w, key, GGUF_U32, &v); }
plm_status gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v) { return set_scalar(w, key, GGUF_I32, &v); }
plm_status gguf_writer_set_f32(gguf_writer *w, const char *key, float v) { return set_scalar(w, key, GGUF_F32, &v); }
plm_status gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v) { return set_scalar(w, key, GGUF_U64, &v); }
plm_status gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v) { return set_scalar(w, key, GGUF_I64, &v); }
plm_status gguf_writer_set_f64(gguf_writer *w, const char *key, double v) { return set_scalar(w, key, GGUF_F64, &v); }
plm_status gguf_writer_set_bool(gguf_writer *w, const char *key, int v) {
    uint8_t b = v != 0;
    return set_scalar(w, key, GGUF_BOOL, &b);
}

plm_status gguf_writer_set_strn(gguf_writer *w, const char *key, const char *s, size_t n) {
    if (!key || (!s && n)) return fail(w, PLM_BAD_ARG, "gguf writer: NULL key or string");
    uint8_t *val = malloc(8 + n);
    if (!val) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
    put_le(val, n, 8);
    if (n) memcpy(val + 8, s, n);
    return put_kv(w, key, strlen(key), GGUF_STRING, val, 8 + n);
}

plm_status gguf_writer_set_str(gguf_writer *w, const char *key, const char *s) {
    return gguf_writer_set_strn(w, key, s, s ? strlen(s) : 0);
}

plm_status gguf_writer_set_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *data, uint64_t n) {
    if (!key) return fail(w, PLM_BAD_ARG, "gguf writer: NULL key");
    if (elem_type >= GGUF_VTYPE_COUNT || !scalar_size[elem_type])
        return fail(w, PLM_BAD_ARG, "gguf writer: key '%s': arrays of type %u need gguf_writer_set_str_arr or "
                    "are not allowed", key, elem_type);
    const size_t es = scalar_size[elem_type];
    if (n && !data) return fail(w, PLM_BAD_ARG, "gguf writer: key '%s': NULL array data", key);
    if (n > (SIZE_MAX - 12) / es) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: array '%s' is too large", key);
    uint8_t *val = malloc(12 + (size_t)n * es);
    if (!val) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
    put_le(val, elem_type, 4);
    put_le(val + 4, n, 8);
    const uint8_t *src = data;
    for (uint64_t i = 0; i < n; i++) encode_elem(val + 12 + i * es, elem_type, src + i * es);
    return put_kv(w, key, strlen(key), GGUF_ARRAY, val, 12 + (size_t)n * es);
}

plm_status gguf_writer_set_str_arr(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens,
                                   uint64_t n) {
    if (!key || (n && !strs)) return fail(w, PLM_BAD_ARG, "gguf writer: NULL key or strings");
    size_t total = 12;
    for (uint64_t i = 0; i < n; i++) {
        if (!strs[i] && (!lens || lens[i]))
            return fail(w, PLM_BAD_ARG, "gguf writer: key '%s': string %llu is NULL", key, (unsigned long long)i);
        size_t l = lens ? lens[i] : strlen(strs[i]);
        if (l > SIZE_MAX - 8 - total) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: array '%s' is too large", key);
        total += 8 + l;
    }
    uint8_t *val = malloc(total);
    if (!val) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
    put_le(val, GGUF_STRING, 4);
    put_le(val + 4, n, 8);
    uint8_t *p = val + 12;
    for (uint64_t i = 0; i < n; i++) {
        size_t l = lens ? lens[i] : strlen(strs[i]);
        put_le(p, l, 8);
        if (l) memcpy(p + 8, strs[i], l);
        p += 8 + l;
    }
    return put_kv(w, key, strlen(key), GGUF_ARRAY, val, total);
}

plm_status gguf_writer_set_kv(gguf_writer *w, const gguf_kv *kv) {
    if (!kv || kv->type >= GGUF_VTYPE_COUNT) return fail(w, PLM_BAD_ARG, "gguf writer: bad key/value");
    size_t len;
    uint8_t *val;
    if (kv->type == GGUF_STRING) {
        len = 8 + (size_t)kv->str.n;
        if (!(val = malloc(len))) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
        put_le(val, kv->str.n, 8);
        if (kv->str.n) memcpy(val + 8, kv->str.s, (size_t)kv->str.n);
    } else if (kv->type == GGUF_ARRAY) {
        /* The parser validated the element bytes; measure them and copy them as they are. */
        uint64_t bytes;
        if (kv->arr_type == GGUF_STRING) {
            const uint8_t *p = kv->arr_data;
            for (uint64_t i = 0; i < kv->arr_n; i++) {
                gguf_str s;
                p = gguf_str_array_next(p, &s);
            }
            bytes = (uint64_t)(p - kv->arr_data);
        } else if (kv->arr_type < GGUF_VTYPE_COUNT && scalar_size[kv->arr_type]) {
            bytes = kv->arr_n * scalar_size[kv->arr_type];
        } else {
            return fail(w, PLM_BAD_ARG, "gguf writer: array of type %u cannot be copied", kv->arr_type);
        }
        if (bytes > SIZE_MAX - 12) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: array is too large");
        len = 12 + (size_t)bytes;
        if (!(val = malloc(len))) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
        put_le(val, kv->arr_type, 4);
        put_le(val + 4, kv->arr_n, 8);
        if (bytes) memcpy(val + 12, kv->arr_data, (size_t)bytes);
    } else {
        len = scalar_size[kv->type];
        if (!(val = malloc(8))) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
        uint64_t bits;
        if (kv->type == GGUF_F32) {
            float f = (float)kv->v.f;
            uint32_t b;
            memcpy(&b, &f, 4);
            bits = b;
        } else if (kv->type == GGUF_F64) {
            memcpy(&bits, &kv->v.f, 8);
        } else if (kv->type == GGUF_I8 || kv->type == GGUF_I16 || kv->type == GGUF_I32 || kv->type == GGUF_I64) {
            bits = (uint64_t)kv->v.i;
        } else {
            bits = kv->v.u;
        }
        put_le(val, bits, (int)len);
    }
    return put_kv(w, kv->key.s, (size_t)kv->key.n, kv->type, val, len);
}

plm_status gguf_writer_copy_kvs(gguf_writer *w, const gguf_file *g) {
    for (uint64_t i = 0; i < g->n_kv; i++) {
        plm_status st = gguf_writer_set_kv(w, &g->kv[i]);
        if (st) return st;
    }
    return PLM_OK;
}

int gguf_writer_remove(gguf_writer *w, const char *key) {
    if (w->state != W_BUILDING || !key) return 0;
    wkv *kv = find_kv(w, key, strlen(key));
    if (!kv) return 0;
    size_t i = (size_t)(kv - w->kv);
    free(kv->key);
    free(kv->val);
    memmove(&w->kv[i], &w->kv[i + 1], (w->n_kv - i - 1) * sizeof *w->kv);
    w->n_kv--;
    return 1;
}

int gguf_writer_has(const gguf_writer *w, const char *key) { return key && find_kv(w, key, strlen(key)) != NULL; }
uint64_t gguf_writer_n_kv(const gguf_writer *w) { return w->n_kv; }

plm_status gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment) {
    return gguf_writer_set_u32(w, "general.alignment", alignment);
}

static uint64_t alignment_of(const gguf_writer *w) {
    const wkv *kv = find_kv(w, "general.alignment", 17);
    if (!kv) return GGUF_WRITER_DEFAULT_ALIGNMENT;
    return (uint64_t)kv->val[0] | (uint64_t)kv->val[1] << 8 | (uint64_t)kv->val[2] << 16 | (uint64_t)kv->val[3] << 24;
}

/* ---------------------------------------------------------------- tensors */
uint64_t gguf_tensor_nbytes(uint32_t type, uint32_t n_dims, const uint64_t *ne) {
    if (n_dims == 0 || n_dims > GGUF_MAX_DIMS || !ne || ne[0] == 0 || ne[0] > (uint64_t)INT64_MAX) return 0;
    const uint64_t row = plm_row_size((int)type, (int64_t)ne[0]);
    if (!row) return 0;
    uint64_t total = row;
    for (uint32_t d = 1; d < n_dims; d++)
        if (ne[d] == 0 || __builtin_mul_overflow(total, ne[d], &total)) return 0;
    return total;
}

static uint64_t pad_to(uint64_t x, uint64_t a) { return (x + a - 1) / a * a; }

plm_status gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                  const uint64_t *ne, const void *data, uint64_t size) {
    if (w->state != W_BUILDING) return fail(w, PLM_BAD_ARG, "gguf writer: tensors cannot be added after the header");
    if (!name) return fail(w, PLM_BAD_ARG, "gguf writer: NULL tensor name");
    const size_t nl = strlen(name);
    if (nl == 0 || nl > GGUF_WRITER_MAX_NAME)
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor name '%s' must be 1..%d bytes", name, GGUF_WRITER_MAX_NAME);
    if (n_dims == 0 || n_dims > GGUF_MAX_DIMS || !ne)
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' has %u dimensions (must be 1..%d)", name, n_dims,
                    GGUF_MAX_DIMS);
    uint64_t nel = 1;
    for (uint32_t d = 0; d < n_dims; d++)
        if (ne[d] == 0 || ne[d] > (uint64_t)INT64_MAX || __builtin_mul_overflow(nel, ne[d], &nel) ||
            nel > (uint64_t)INT64_MAX)
            return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' has an invalid dimension %u", name, d);
    if (type >= PLM_T_COUNT) return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' has type id %u", name, type);
    for (size_t i = 0; i < w->n_t; i++)
        if (w->t[i].name_len == nl && memcmp(w->t[i].name, name, nl) == 0)
            return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' added twice", name);
    const uint64_t known = gguf_tensor_nbytes(type, n_dims, ne);
    const plm_type_info *ti = plm_type((int)type);
    if (ti->blck > 0 && !known)
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s': row length %llu is not a multiple of %s's block of %d",
                    name, (unsigned long long)ne[0], ti->name, ti->blck);
    if (known && size && size != known)
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' is %llu bytes, not %llu", name,
                    (unsigned long long)size, (unsigned long long)known);
    if (!known && !size)
        return fail(w, PLM_UNSUPPORTED, "gguf writer: tensor '%s': the size of type %s must be given", name,
                    gguf_type_name(type));
    const uint64_t bytes = known ? known : size;
    if (bytes > SIZE_MAX && data) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: tensor '%s' is too large", name);

    if (w->n_t == w->cap_t) {
        size_t cap = w->cap_t ? w->cap_t * 2 : 64;
        wtensor *p = realloc(w->t, cap * sizeof *p);
        if (!p) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
        w->t = p;
        w->cap_t = cap;
    }
    wtensor t = {0};
    t.name = malloc(nl + 1);
    if (!t.name) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory");
    memcpy(t.name, name, nl + 1);
    t.name_len = nl;
    t.type = type;
    t.n_dims = n_dims;
    for (int d = 0; d < GGUF_MAX_DIMS; d++) t.ne[d] = (uint32_t)d < n_dims ? ne[d] : 1;
    t.size = bytes;
    if (data) {
        t.data = malloc(bytes ? (size_t)bytes : 1);
        if (!t.data) {
            free(t.name);
            return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory for tensor '%s'", name);
        }
        memcpy(t.data, data, (size_t)bytes);
    }
    w->t[w->n_t++] = t;
    return PLM_OK;
}

uint64_t gguf_writer_n_tensors(const gguf_writer *w) { return w->n_t; }

uint64_t gguf_writer_tensor_offset(const gguf_writer *w, uint64_t i) {
    const uint64_t a = alignment_of(w);
    uint64_t off = 0;
    for (uint64_t j = 0; j < i && j < w->n_t; j++) off += pad_to(w->t[j].size, a);
    return off;
}

static uint64_t header_size(const gguf_writer *w) {
    uint64_t n = 4 + 4 + 8 + 8;
    for (size_t i = 0; i < w->n_kv; i++) n += 8 + w->kv[i].key_len + 4 + w->kv[i].val_len;
    for (size_t i = 0; i < w->n_t; i++) n += 8 + w->t[i].name_len + 4 + 8ull * w->t[i].n_dims + 4 + 8;
    return n;
}

uint64_t gguf_writer_data_offset(const gguf_writer *w) { return pad_to(header_size(w), alignment_of(w)); }

uint64_t gguf_writer_file_size(const gguf_writer *w) {
    return gguf_writer_data_offset(w) + gguf_writer_tensor_offset(w, w->n_t);
}

/* ---------------------------------------------------------------- output */
static plm_status put(gguf_writer *w, FILE *f, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, f) != n) {
        w->state = W_FAILED;
        return fail(w, PLM_IO, "gguf writer: write failed (disk full?)");
    }
    return PLM_OK;
}

static plm_status put_zeros(gguf_writer *w, FILE *f, uint64_t n) {
    static const uint8_t zeros[64];
    while (n) {
        size_t k = n < sizeof zeros ? (size_t)n : sizeof zeros;
        plm_status st = put(w, f, zeros, k);
        if (st) return st;
        n -= k;
    }
    return PLM_OK;
}

plm_status gguf_writer_write_header(gguf_writer *w, FILE *f) {
    if (w->state != W_BUILDING) return fail(w, PLM_BAD_ARG, "gguf writer: the header was already written");
    const uint64_t a = alignment_of(w);
    const uint64_t hs = header_size(w), padded = pad_to(hs, a);
    if (padded > SIZE_MAX) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: header too large");
    uint8_t *buf = calloc(1, (size_t)padded);
    if (!buf) return fail(w, PLM_OUT_OF_MEMORY, "gguf writer: out of memory for a %llu-byte header",
                          (unsigned long long)padded);
    uint8_t *p = buf;
    memcpy(p, "GGUF", 4), p += 4;
    put_le(p, 3, 4), p += 4;
    put_le(p, w->n_t, 8), p += 8;
    put_le(p, w->n_kv, 8), p += 8;
    for (size_t i = 0; i < w->n_kv; i++) {
        const wkv *kv = &w->kv[i];
        put_le(p, kv->key_len, 8), p += 8;
        memcpy(p, kv->key, kv->key_len), p += kv->key_len;
        put_le(p, kv->type, 4), p += 4;
        memcpy(p, kv->val, kv->val_len), p += kv->val_len;
    }
    uint64_t off = 0;
    for (size_t i = 0; i < w->n_t; i++) {
        const wtensor *t = &w->t[i];
        put_le(p, t->name_len, 8), p += 8;
        memcpy(p, t->name, t->name_len), p += t->name_len;
        put_le(p, t->n_dims, 4), p += 4;
        for (uint32_t d = 0; d < t->n_dims; d++) put_le(p, t->ne[d], 8), p += 8;
        put_le(p, t->type, 4), p += 4;
        put_le(p, off, 8), p += 8;
        off += pad_to(t->size, a);
    }
    plm_status st = put(w, f, buf, (size_t)padded);
    free(buf);
    if (st) return st;
    w->state = W_STREAMING;
    w->cur = 0;
    w->cur_done = 0;
    return PLM_OK;
}

plm_status gguf_writer_write_data(gguf_writer *w, FILE *f, const void *data, size_t n) {
    if (w->state != W_STREAMING)
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor data must come after the header and before finish");
    const uint8_t *p = data;
    while (n) {
        /* Skip over (pad after) tensors that are complete; a zero-byte tensor cannot exist (dims are >= 1). */
        if (w->cur >= w->n_t)
            return fail(w, PLM_BAD_ARG, "gguf writer: %zu bytes more than the tensors hold", n);
        wtensor *t = &w->t[w->cur];
        uint64_t left = t->size - w->cur_done;
        size_t k = n < left ? n : (size_t)left;
        plm_status st = put(w, f, p, k);
        if (st) return st;
        p += k;
        n -= k;
        w->cur_done += k;
        if (w->cur_done == t->size) {
            const uint64_t a = alignment_of(w);
            if ((st = put_zeros(w, f, pad_to(t->size, a) - t->size))) return st;
            w->cur++;
            w->cur_done = 0;
        }
    }
    return PLM_OK;
}

plm_status gguf_writer_finish(gguf_writer *w, FILE *f) {
    if (w->state != W_STREAMING) return fail(w, PLM_BAD_ARG, "gguf writer: finish without a header");
    if (w->cur < w->n_t) {
        w->state = W_FAILED;
        return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' got %llu of its %llu bytes", w->t[w->cur].name,
                    (unsigned long long)w->cur_done, (unsigned long long)w->t[w->cur].size);
    }
    if (fflush(f) != 0) {
        w->state = W_FAILED;
        return fail(w, PLM_IO, "gguf writer: write failed (disk full?)");
    }
    w->state = W_DONE;
    return PLM_OK;
}

plm_status gguf_writer_write(gguf_writer *w, FILE *f) {
    for (size_t i = 0; i < w->n_t; i++)
        if (!w->t[i].data)
            return fail(w, PLM_BAD_ARG, "gguf writer: tensor '%s' has no data (stream it instead)", w->t[i].name);
    plm_status st = gguf_writer_write_header(w, f);
    for (size_t i = 0; i < w->n_t && !st; i++) st = gguf_writer_write_data(w, f, w->t[i].data, (size_t)w->t[i].size);
    return st ? st : gguf_writer_finish(w, f);
}
