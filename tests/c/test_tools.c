/* Tests of the GGUF writer (tools/lib/gguf_write.c) through the GGUF reader (src/gguf.c): every value type, string arrays,
 * key replacement and removal, alignment and tensor offsets, streamed vs one-shot output, copying a parsed file's
 * metadata and tensors byte for byte, and the errors a caller can make. Run from the repository root (uses
 * models/stories260K.gguf when present). Exit status 0 when everything passed. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf.h"
#include "gguf_write.h"
#include "simd.h"

static int n_checks, n_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        n_checks++;                                                                   \
        if (!(cond)) {                                                                \
            n_failed++;                                                               \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                             \
    } while (0)

#define CHECK_OK(expr)                                                                                  \
    do {                                                                                                \
        plm_status st_ = (expr);                                                                        \
        n_checks++;                                                                                     \
        if (st_ != PLM_OK) {                                                                            \
            n_failed++;                                                                                 \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #expr, plm_status_name(st_));      \
        }                                                                                               \
    } while (0)

/* ---------------------------------------------------------------- helpers */
typedef struct bytes { uint8_t *p; size_t n; } bytes;

static bytes slurp_file(FILE *f) {
    bytes b = {0};
    if (fseek(f, 0, SEEK_END) != 0) return b;
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) return b;
    b.p = malloc((size_t)n + 1);
    if (b.p && fread(b.p, 1, (size_t)n, f) == (size_t)n) b.n = (size_t)n;
    return b;
}

/* Writes with gguf_writer_write into a temporary file and returns its bytes. */
static bytes write_all(gguf_writer *w) {
    bytes b = {0};
    FILE *f = tmpfile();
    if (!f) return b;
    plm_status st = gguf_writer_write(w, f);
    if (st == PLM_OK) b = slurp_file(f);
    else fprintf(stderr, "gguf_writer_write: %s\n", gguf_writer_errmsg(w));
    fclose(f);
    return b;
}

static int str_is(gguf_str s, const char *z) { return s.n == strlen(z) && memcmp(s.s, z, s.n) == 0; }

static float rd_f32(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }

static uint64_t rd_u64(const uint8_t *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
    return v;
}

/* ---------------------------------------------------------------- a file with everything */
static const char *const strs[] = {"<unk>", "", "\xe2\x96\x81hello", "with\nnewline", "\xf0\x9f\x98\x80"};
static const uint8_t u8s[] = {0, 1, 255};
static const int8_t i8s[] = {-128, 0, 127};
static const uint16_t u16s[] = {0, 65535, 258};
static const int16_t i16s[] = {-32768, 32767, -1};
static const uint32_t u32s[] = {0, 0xDEADBEEF, 1};
static const int32_t i32s[] = {INT32_MIN, -1, INT32_MAX, 6};
static const float f32s[] = {0.0f, -1.5f, 3.25e-7f, 1e30f};
static const uint8_t bools[] = {1, 0, 7}; /* 7 is written as 1 */
static const uint64_t u64s[] = {0, UINT64_MAX, 0x0102030405060708ull};
static const int64_t i64s[] = {INT64_MIN, -2, INT64_MAX};
static const double f64s[] = {3.141592653589793, -0.0, 1e-300};

static void fill(uint8_t *p, size_t n, uint32_t seed) {
    for (size_t i = 0; i < n; i++) p[i] = (uint8_t)((seed * 2654435761u + i * 40503u) >> 7);
}

/* Builds the writer used by several tests. Tensor bytes: tensor i filled with fill(.., i). */
static gguf_writer *build_everything(int alignment, int with_data) {
    gguf_writer *w = gguf_writer_new();
    if (!w) return NULL;
    CHECK_OK(gguf_writer_set_str(w, "general.architecture", "llama"));
    CHECK_OK(gguf_writer_set_u8(w, "t.u8", 200));
    CHECK_OK(gguf_writer_set_i8(w, "t.i8", -100));
    CHECK_OK(gguf_writer_set_u16(w, "t.u16", 60000));
    CHECK_OK(gguf_writer_set_i16(w, "t.i16", -30000));
    CHECK_OK(gguf_writer_set_u32(w, "t.u32", 4000000000u));
    CHECK_OK(gguf_writer_set_i32(w, "t.i32", -2000000000));
    CHECK_OK(gguf_writer_set_f32(w, "t.f32", 1e-5f));
    CHECK_OK(gguf_writer_set_bool(w, "t.bool", 1));
    CHECK_OK(gguf_writer_set_str(w, "t.str", "h\xc3\xa9llo"));
    CHECK_OK(gguf_writer_set_strn(w, "t.strn", "a\0b", 3));
    CHECK_OK(gguf_writer_set_str(w, "t.empty", ""));
    CHECK_OK(gguf_writer_set_u64(w, "t.u64", 0xFEDCBA9876543210ull));
    CHECK_OK(gguf_writer_set_i64(w, "t.i64", -5000000000ll));
    CHECK_OK(gguf_writer_set_f64(w, "t.f64", -2.5e100));
    CHECK_OK(gguf_writer_set_arr(w, "a.u8", GGUF_U8, u8s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.i8", GGUF_I8, i8s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.u16", GGUF_U16, u16s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.i16", GGUF_I16, i16s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.u32", GGUF_U32, u32s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.i32", GGUF_I32, i32s, 4));
    CHECK_OK(gguf_writer_set_arr(w, "a.f32", GGUF_F32, f32s, 4));
    CHECK_OK(gguf_writer_set_arr(w, "a.bool", GGUF_BOOL, bools, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.u64", GGUF_U64, u64s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.i64", GGUF_I64, i64s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.f64", GGUF_F64, f64s, 3));
    CHECK_OK(gguf_writer_set_arr(w, "a.empty", GGUF_F32, NULL, 0));
    CHECK_OK(gguf_writer_set_str_arr(w, "a.str", strs, NULL, 5));
    const size_t lens[] = {2, 0, 3};
    const char *const raw[] = {"x\0", "", "abc"};
    CHECK_OK(gguf_writer_set_str_arr(w, "a.strlen", raw, lens, 3));
    if (alignment) CHECK_OK(gguf_writer_set_alignment(w, (uint32_t)alignment));

    /* Tensors whose sizes are not multiples of any alignment, so padding shows. */
    const struct { const char *name; uint32_t type, n_dims; uint64_t ne[4]; uint64_t size; } ts[] = {
        {"norm.weight", PLM_T_F32, 1, {3, 1, 1, 1}, 0},            /* 12 bytes */
        {"a.weight", PLM_T_F16, 2, {5, 3, 1, 1}, 0},               /* 30 bytes */
        {"q8.weight", PLM_T_Q8_0, 2, {64, 3, 1, 1}, 0},            /* 204 bytes */
        {"q4k.weight", PLM_T_Q4_K, 3, {256, 2, 2, 1}, 0},          /* 576 bytes */
        {"q5_0.weight", PLM_T_Q5_0, 2, {32, 1, 1, 1}, 22},         /* layout unknown to us: size given */
        {"four.dims", PLM_T_F32, 4, {1, 2, 1, 3}, 0},              /* 24 bytes */
    };
    for (size_t i = 0; i < sizeof ts / sizeof ts[0]; i++) {
        uint64_t n = ts[i].size ? ts[i].size : gguf_tensor_nbytes(ts[i].type, ts[i].n_dims, ts[i].ne);
        uint8_t *d = malloc((size_t)n);
        fill(d, (size_t)n, (uint32_t)i + 1);
        CHECK_OK(gguf_writer_add_tensor(w, ts[i].name, ts[i].type, ts[i].n_dims, ts[i].ne, with_data ? d : NULL,
                                        ts[i].size));
        free(d);
    }
    return w;
}

static void check_everything(const bytes *b, int alignment) {
    gguf_file g;
    char err[256];
    uint64_t need = 0;
    plm_status st = gguf_parse(&g, b->p, b->n, &need, err, sizeof err);
    CHECK(st == PLM_OK);
    if (st != PLM_OK) {
        fprintf(stderr, "gguf_parse: %s\n", err);
        return;
    }
    const uint64_t align = alignment ? (uint64_t)alignment : 32;
    CHECK(g.version == 3);
    CHECK(g.alignment == align);
    CHECK(g.n_kv == 29 + (alignment ? 1 : 0));
    CHECK(g.n_tensors == 6);
    CHECK(str_is(g.kv[0].key, "general.architecture") && g.kv[0].type == GGUF_STRING && str_is(g.kv[0].str, "llama"));
    CHECK(str_is(g.kv[1].key, "t.u8")); /* order kept */
    uint32_t u32;
    float f;
    int bo;
    gguf_str s;
    const gguf_kv *kv;
    CHECK((kv = gguf_find(&g, "t.u8")) && kv->type == GGUF_U8 && kv->v.u == 200);
    CHECK((kv = gguf_find(&g, "t.i8")) && kv->type == GGUF_I8 && kv->v.i == -100);
    CHECK((kv = gguf_find(&g, "t.u16")) && kv->type == GGUF_U16 && kv->v.u == 60000);
    CHECK((kv = gguf_find(&g, "t.i16")) && kv->type == GGUF_I16 && kv->v.i == -30000);
    CHECK(gguf_get_u32(&g, "t.u32", &u32) && u32 == 4000000000u);
    CHECK((kv = gguf_find(&g, "t.i32")) && kv->type == GGUF_I32 && kv->v.i == -2000000000);
    CHECK(gguf_get_f32(&g, "t.f32", &f) && f == 1e-5f);
    CHECK(gguf_get_bool(&g, "t.bool", &bo) && bo == 1);
    CHECK(gguf_get_str(&g, "t.str", &s) && str_is(s, "h\xc3\xa9llo"));
    CHECK(gguf_get_str(&g, "t.strn", &s) && s.n == 3 && memcmp(s.s, "a\0b", 3) == 0);
    CHECK(gguf_get_str(&g, "t.empty", &s) && s.n == 0);
    CHECK((kv = gguf_find(&g, "t.u64")) && kv->type == GGUF_U64 && kv->v.u == 0xFEDCBA9876543210ull);
    CHECK((kv = gguf_find(&g, "t.i64")) && kv->type == GGUF_I64 && kv->v.i == -5000000000ll);
    CHECK((kv = gguf_find(&g, "t.f64")) && kv->type == GGUF_F64 && kv->v.f == -2.5e100);

    /* Numeric arrays: the raw bytes are the little-endian elements. */
#define ARR(key, T, vals, n)                                                                      \
    do {                                                                                          \
        kv = gguf_find(&g, key);                                                                  \
        CHECK(kv && kv->type == GGUF_ARRAY && kv->arr_type == T && kv->arr_n == n);               \
        if (kv && kv->arr_n == n) CHECK(memcmp(kv->arr_data, vals, sizeof vals) == 0);            \
    } while (0)
    ARR("a.u8", GGUF_U8, u8s, 3);
    ARR("a.i8", GGUF_I8, i8s, 3);
    ARR("a.u16", GGUF_U16, u16s, 3);
    ARR("a.i16", GGUF_I16, i16s, 3);
    ARR("a.u32", GGUF_U32, u32s, 3);
    ARR("a.i32", GGUF_I32, i32s, 4);
    ARR("a.f32", GGUF_F32, f32s, 4);
    ARR("a.u64", GGUF_U64, u64s, 3);
    ARR("a.i64", GGUF_I64, i64s, 3);
    ARR("a.f64", GGUF_F64, f64s, 3);
#undef ARR
    kv = gguf_find(&g, "a.bool");
    CHECK(kv && kv->arr_type == GGUF_BOOL && kv->arr_n == 3 && kv->arr_data[0] == 1 && kv->arr_data[1] == 0 &&
          kv->arr_data[2] == 1);
    kv = gguf_find(&g, "a.empty");
    CHECK(kv && kv->arr_type == GGUF_F32 && kv->arr_n == 0);
    kv = gguf_find(&g, "a.str");
    CHECK(kv && kv->type == GGUF_ARRAY && kv->arr_type == GGUF_STRING && kv->arr_n == 5);
    if (kv && kv->arr_n == 5) {
        const uint8_t *p = kv->arr_data;
        for (int i = 0; i < 5; i++) {
            p = gguf_str_array_next(p, &s);
            CHECK(str_is(s, strs[i]));
        }
    }
    kv = gguf_find(&g, "a.strlen");
    CHECK(kv && kv->arr_type == GGUF_STRING && kv->arr_n == 3);
    if (kv && kv->arr_n == 3) {
        const uint8_t *p = kv->arr_data;
        p = gguf_str_array_next(p, &s);
        CHECK(s.n == 2 && s.s[0] == 'x' && s.s[1] == 0);
        p = gguf_str_array_next(p, &s);
        CHECK(s.n == 0);
        gguf_str_array_next(p, &s);
        CHECK(str_is(s, "abc"));
    }

    /* Tensors: shapes, types, aligned offsets in order, data bytes, zero padding, and the file ends exactly after
     * the last tensor's padding. */
    const char *names[] = {"norm.weight", "a.weight", "q8.weight", "q4k.weight", "q5_0.weight", "four.dims"};
    const uint64_t sizes[] = {12, 30, 204, 576, 22, 24};
    CHECK(g.data_offset % align == 0 && g.data_offset >= g.header_size);
    for (uint64_t i = g.header_size; i < g.data_offset && i < b->n; i++) CHECK(b->p[i] == 0);
    uint64_t expect_off = 0;
    for (int i = 0; i < 6; i++) {
        const gguf_tensor *t = &g.tensors[i];
        CHECK(str_is(t->name, names[i]));
        CHECK(t->size == sizes[i]);
        CHECK(t->offset == expect_off && t->offset % align == 0);
        uint8_t *d = malloc((size_t)t->size);
        fill(d, (size_t)t->size, (uint32_t)i + 1);
        CHECK(g.data_offset + t->offset + t->size <= b->n &&
              memcmp(b->p + g.data_offset + t->offset, d, (size_t)t->size) == 0);
        free(d);
        const uint64_t padded = (t->size + align - 1) / align * align;
        for (uint64_t k = t->size; k < padded && g.data_offset + t->offset + k < b->n; k++)
            CHECK(b->p[g.data_offset + t->offset + k] == 0);
        expect_off += padded;
    }
    CHECK(g.tensors[3].n_dims == 3 && g.tensors[3].ne[0] == 256 && g.tensors[3].ne[1] == 2 &&
          g.tensors[3].ne[2] == 2 && g.tensors[3].type == PLM_T_Q4_K);
    CHECK(g.tensors[5].n_dims == 4 && g.tensors[5].ne[3] == 3);
    CHECK(g.tensors[4].type == PLM_T_Q5_0);
    CHECK(g.data_offset + expect_off == b->n);
    gguf_free(&g);
}

static void test_round_trip(int alignment) {
    gguf_writer *w = build_everything(alignment, 1);
    CHECK(w != NULL);
    if (!w) return;
    const uint64_t predicted = gguf_writer_file_size(w);
    bytes b = write_all(w);
    CHECK(b.n == predicted);
    check_everything(&b, alignment);

    /* Streaming in odd chunk sizes gives the same bytes. */
    gguf_writer *ws = build_everything(alignment, 0);
    FILE *f = tmpfile();
    CHECK(ws && f);
    if (ws && f) {
        CHECK_OK(gguf_writer_write_header(ws, f));
        /* Concatenate all tensor data (unpadded) and feed it in chunks of 1, 7 and 1000 bytes. */
        gguf_file g;
        char err[128];
        uint64_t need;
        size_t total = 0;
        CHECK(gguf_parse(&g, b.p, b.n, &need, err, sizeof err) == PLM_OK);
        for (uint64_t i = 0; i < g.n_tensors; i++) total += (size_t)g.tensors[i].size;
        uint8_t *all = malloc(total ? total : 1), *p = all;
        for (uint64_t i = 0; i < g.n_tensors; i++) {
            memcpy(p, b.p + g.data_offset + g.tensors[i].offset, (size_t)g.tensors[i].size);
            p += g.tensors[i].size;
        }
        gguf_free(&g);
        const size_t steps[] = {1, 7, 1000};
        size_t off = 0;
        for (int k = 0; off < total; k = (k + 1) % 3) {
            size_t n = total - off < steps[k] ? total - off : steps[k];
            CHECK_OK(gguf_writer_write_data(ws, f, all + off, n));
            off += n;
        }
        CHECK_OK(gguf_writer_finish(ws, f));
        bytes b2 = slurp_file(f);
        CHECK(b2.n == b.n && memcmp(b2.p, b.p, b.n) == 0);
        free(b2.p);
        free(all);
    }
    if (f) fclose(f);
    gguf_writer_free(ws);
    free(b.p);
    gguf_writer_free(w);
}

/* Copying every key and tensor of a parsed file reproduces it byte for byte. */
static void test_copy(const uint8_t *file, size_t n, const char *what) {
    gguf_file g;
    char err[256];
    uint64_t need;
    plm_status st = gguf_parse(&g, file, n, &need, err, sizeof err);
    CHECK(st == PLM_OK);
    if (st) {
        fprintf(stderr, "%s: %s\n", what, err);
        return;
    }
    gguf_writer *w = gguf_writer_new();
    CHECK_OK(gguf_writer_copy_kvs(w, &g));
    CHECK(gguf_writer_n_kv(w) == g.n_kv);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const gguf_tensor *t = &g.tensors[i];
        char name[80];
        snprintf(name, sizeof name, "%.*s", (int)t->name.n, t->name.s);
        CHECK_OK(gguf_writer_add_tensor(w, name, t->type, t->n_dims, t->ne, file + g.data_offset + t->offset,
                                        t->size));
    }
    for (uint64_t i = 0; i < g.n_tensors; i++) CHECK(gguf_writer_tensor_offset(w, i) == g.tensors[i].offset);
    CHECK(gguf_writer_data_offset(w) == g.data_offset);
    bytes b = write_all(w);
    /* The source may end without the last tensor's padding (ggml pads it; other writers may not). */
    const size_t cmp_n = b.n < n ? b.n : n;
    CHECK(b.n >= n && memcmp(b.p, file, cmp_n) == 0);
    if (cmp_n && memcmp(b.p, file, cmp_n) != 0) {
        size_t k = 0;
        while (k < cmp_n && b.p[k] == file[k]) k++;
        fprintf(stderr, "%s: copy differs from the original at byte %zu\n", what, k);
    }
    free(b.p);
    gguf_writer_free(w);
    gguf_free(&g);
}

static void test_replace_remove(void) {
    gguf_writer *w = gguf_writer_new();
    CHECK_OK(gguf_writer_set_u32(w, "a", 1));
    CHECK_OK(gguf_writer_set_u32(w, "b", 2));
    CHECK_OK(gguf_writer_set_u32(w, "c", 3));
    CHECK_OK(gguf_writer_set_str(w, "a", "now a string")); /* replaced in place, type may change */
    CHECK(gguf_writer_remove(w, "b") == 1);
    CHECK(gguf_writer_remove(w, "b") == 0);
    CHECK(gguf_writer_has(w, "c") && !gguf_writer_has(w, "b"));
    CHECK(gguf_writer_n_kv(w) == 2);
    bytes b = write_all(w);
    gguf_file g;
    char err[128];
    uint64_t need;
    CHECK(gguf_parse(&g, b.p, b.n, &need, err, sizeof err) == PLM_OK);
    CHECK(g.n_kv == 2 && g.n_tensors == 0);
    if (g.n_kv == 2) {
        CHECK(str_is(g.kv[0].key, "a") && g.kv[0].type == GGUF_STRING && str_is(g.kv[0].str, "now a string"));
        CHECK(str_is(g.kv[1].key, "c") && g.kv[1].v.u == 3);
    }
    /* A file without tensors is just the header padded to the alignment. */
    CHECK(b.n % 32 == 0 && b.n == g.data_offset);
    gguf_free(&g);
    free(b.p);
    gguf_writer_free(w);
}

static void test_errors(void) {
    gguf_writer *w = gguf_writer_new();
    const uint64_t ne[2] = {64, 2}, bad[2] = {48, 2}, zero[2] = {0, 2};
    char longname[80];
    memset(longname, 'x', 64);
    longname[64] = 0;
    CHECK(gguf_writer_set_u32(w, "", 1) == PLM_BAD_ARG);
    CHECK(gguf_writer_set_alignment(w, 48) == PLM_BAD_ARG);
    CHECK(gguf_writer_set_u16(w, "general.alignment", 64) == PLM_BAD_ARG); /* must be u32 */
    CHECK(gguf_writer_set_arr(w, "x", GGUF_STRING, NULL, 0) == PLM_BAD_ARG);
    CHECK(gguf_writer_set_arr(w, "x", GGUF_ARRAY, NULL, 0) == PLM_BAD_ARG);
    CHECK(gguf_writer_n_kv(w) == 0);
    CHECK_OK(gguf_writer_add_tensor(w, "t", PLM_T_Q8_0, 2, ne, NULL, 0));
    CHECK(gguf_writer_add_tensor(w, "t", PLM_T_Q8_0, 2, ne, NULL, 0) == PLM_BAD_ARG);          /* twice */
    CHECK(gguf_writer_add_tensor(w, "u", PLM_T_Q8_0, 2, bad, NULL, 0) == PLM_BAD_ARG);         /* 48 % 32 */
    CHECK(gguf_writer_add_tensor(w, "u", PLM_T_F32, 2, zero, NULL, 0) == PLM_BAD_ARG);         /* zero dim */
    CHECK(gguf_writer_add_tensor(w, "u", PLM_T_F32, 5, ne, NULL, 0) == PLM_BAD_ARG);           /* 5 dims */
    CHECK(gguf_writer_add_tensor(w, "u", PLM_T_F32, 2, ne, NULL, 100) == PLM_BAD_ARG);         /* wrong size */
    CHECK(gguf_writer_add_tensor(w, "u", 16 /* IQ2_XXS */, 2, ne, NULL, 0) == PLM_UNSUPPORTED); /* size unknown */
    CHECK(gguf_writer_add_tensor(w, longname, PLM_T_F32, 2, ne, NULL, 0) == PLM_BAD_ARG);      /* name > 63 */
    CHECK(gguf_writer_add_tensor(w, "", PLM_T_F32, 2, ne, NULL, 0) == PLM_BAD_ARG);
    CHECK(gguf_writer_n_tensors(w) == 1);
    CHECK(gguf_writer_write(w, stderr) == PLM_BAD_ARG); /* tensor has no data: nothing written */

    FILE *f = tmpfile();
    CHECK(f != NULL);
    if (f) {
        uint8_t data[68 * 2 + 1] = {0};
        CHECK(gguf_writer_write_data(w, f, data, 1) == PLM_BAD_ARG); /* before the header */
        CHECK_OK(gguf_writer_write_header(w, f));
        CHECK(gguf_writer_set_u32(w, "late", 1) == PLM_BAD_ARG);
        CHECK(gguf_writer_add_tensor(w, "late", PLM_T_F32, 2, ne, NULL, 0) == PLM_BAD_ARG);
        CHECK(gguf_writer_write_header(w, f) == PLM_BAD_ARG);
        CHECK_OK(gguf_writer_write_data(w, f, data, 10));
        CHECK(gguf_writer_finish(w, f) == PLM_BAD_ARG); /* 10 of 136 bytes */
        fclose(f);
    }
    gguf_writer_free(w);

    /* Too many bytes. */
    w = gguf_writer_new();
    f = tmpfile();
    if (w && f) {
        uint8_t data[200] = {0};
        CHECK_OK(gguf_writer_add_tensor(w, "t", PLM_T_Q8_0, 2, ne, NULL, 0));
        CHECK_OK(gguf_writer_write_header(w, f));
        CHECK(gguf_writer_write_data(w, f, data, 137) == PLM_BAD_ARG);
    }
    if (f) fclose(f);
    gguf_writer_free(w);
}

/* A float tensor survives the trip and the reader sees the right numbers (not just bytes). */
static void test_values(void) {
    gguf_writer *w = gguf_writer_new();
    float x[64];
    for (int i = 0; i < 64; i++) x[i] = sinf((float)i);
    uint8_t q[2 * 34];
    CHECK(plm_quantize_weights(PLM_T_Q8_0, x, q, 64) == 68);
    const uint64_t ne1[1] = {64}, ne2[2] = {32, 2};
    CHECK_OK(gguf_writer_add_tensor(w, "f", PLM_T_F32, 1, ne1, x, 0));
    CHECK_OK(gguf_writer_add_tensor(w, "q", PLM_T_Q8_0, 2, ne2, q, sizeof q));
    bytes b = write_all(w);
    gguf_file g;
    char err[128];
    uint64_t need;
    CHECK(gguf_parse(&g, b.p, b.n, &need, err, sizeof err) == PLM_OK);
    const gguf_tensor *t = gguf_find_tensor(&g, "f");
    CHECK(t && t->type == PLM_T_F32 && t->size == 256);
    if (t) CHECK(rd_f32(b.p + g.data_offset + t->offset + 4 * 5) == sinf(5.0f));
    t = gguf_find_tensor(&g, "q");
    CHECK(t && t->type == PLM_T_Q8_0 && t->offset == 256);
    if (t) {
        float y[64];
        plm_dequantize_row(PLM_T_Q8_0, b.p + g.data_offset + t->offset, y, 64);
        float maxerr = 0;
        for (int i = 0; i < 64; i++) maxerr = fmaxf(maxerr, fabsf(y[i] - x[i]));
        CHECK(maxerr < 0.01f);
    }
    /* Header integers are little-endian: n_tensors at byte 8. */
    CHECK(b.n > 24 && rd_u64(b.p + 8) == 2 && rd_u64(b.p + 16) == 0);
    gguf_free(&g);
    free(b.p);
    gguf_writer_free(w);
}

int main(void) {
    test_round_trip(0);
    test_round_trip(64);
    test_round_trip(8);
    test_replace_remove();
    test_errors();
    test_values();

    /* A file of our own, parsed and copied. */
    gguf_writer *w = build_everything(0, 1);
    bytes b = write_all(w);
    test_copy(b.p, b.n, "writer output");
    free(b.p);
    gguf_writer_free(w);

    /* A file written by llama.cpp's converter: metadata and tensors copied reproduce it exactly. */
    const char *path = "models/stories260K.gguf";
    FILE *f = fopen(path, "rb");
    if (f) {
        bytes m = slurp_file(f);
        fclose(f);
        CHECK(m.n > 0);
        if (m.n) test_copy(m.p, m.n, path);
        free(m.p);
    } else {
        fprintf(stderr, "note: %s not found (run from the repository root); skipped the copy test\n", path);
    }

    printf("test_tools: %d checks, %d failed\n", n_checks, n_failed);
    return n_failed ? 1 : 0;
}
