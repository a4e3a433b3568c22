/* Malformed-GGUF suite: every kind of broken, truncated or hostile file must be refused with a stable status and a
 * message that names the problem; nothing may crash, hang or allocate wildly. Valid files built here must load and
 * run. Run from the repository root (the real-model mutations read the GGUF files in models/; they are skipped if absent).
 *
 *   build/asan/test_gguf                      run every check (nonzero exit on failure; failing cases printed)
 *   build/asan/test_gguf --write-cases DIR    write each bad case as DIR/NAME.gguf + DIR/NAME.expect (for
 *                                             tests/sh/cli_errors.sh), plus DIR/valid.gguf
 *   build/asan/test_gguf --write-corpus DIR   write a few tiny valid GGUFs (fuzzer seed corpus)
 *   PLM_TEST_SEED=n                           change the random seed (default fixed, so runs are reproducible)
 *   PLM_TEST_VERBOSE=1                        print every case and its message
 *
 * GGUF images are built in memory by a small writer local to this file (deliberately independent of
 * tools/lib/gguf_write.c, so a bug in one is not mirrored by the other). */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "pocketlm.h"

/* Allocations the product cannot get must come back as NULL (and become PLM_OUT_OF_MEMORY), not abort the test:
 * that is what a browser or a phone does. Environment ASAN_OPTIONS still override this. */
const char *__asan_default_options(void) __attribute__((used, visibility("default")));
/* Allocations over 2 GiB fail as they would in a browser tab (and quickly, instead of ASan poisoning gigabytes). */
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=2048"; }

/* Under ASan the largest successful allocation is tracked, so "hostile counts allocate nothing big" is checked. */
extern int __sanitizer_install_malloc_and_free_hooks(void (*)(const volatile void *, size_t),
                                                     void (*)(const volatile void *)) __attribute__((weak));
static size_t g_max_alloc;
static void on_malloc(const volatile void *p, size_t n) { (void)p; if (n > g_max_alloc) g_max_alloc = n; }
static void on_free(const volatile void *p) { (void)p; }
static int g_track_alloc;

static int g_fail, g_checks, g_verbose;

/* What is being tested right now, and its input. They live in memory shared with the parent process, so when a
 * child dies (sanitizer report, signal, hang) the parent names the item and saves the input as
 * build/test-gguf-crash.gguf, whatever killed the child. */
#define CUR_MAX_INPUT (2u << 20)
typedef struct current { char what[512]; size_t len; int has_input; uint8_t input[CUR_MAX_INPUT]; } current;
static current g_cur_local, *g_cur = &g_cur_local;
static void set_current(const uint8_t *p, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_current(const uint8_t *p, size_t n, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g_cur->what, sizeof g_cur->what, fmt, ap);
    va_end(ap);
    g_cur->has_input = p && n <= CUR_MAX_INPUT;
    g_cur->len = g_cur->has_input ? n : 0;
    if (g_cur->has_input && n) memcpy(g_cur->input, p, n);
}
static void report_current(void) {
    if (!g_cur->what[0]) return;
    printf("      while testing: %s\n", g_cur->what);
    if (g_cur->has_input) {
        FILE *f = fopen("build/test-gguf-crash.gguf", "wb");
        if (f && fwrite(g_cur->input, 1, g_cur->len, f) == g_cur->len)
            printf("      input (%zu bytes) saved to build/test-gguf-crash.gguf\n", g_cur->len);
        if (f) fclose(f);
    }
}
/* Without fork (PLM_TEST_NOFORK=1) the dying process says it itself. */
static void on_death(void) {
    static const char a[] = "\n*** test_gguf: crashed while testing: ", b[] = "\n";
    if (write(2, a, sizeof a - 1) < 0 || write(2, g_cur->what, strlen(g_cur->what)) < 0 || write(2, b, 1) < 0) return;
}
static void on_signal(int sig) {
    on_death();
    signal(sig, SIG_DFL);
    raise(sig);
}
const char *__ubsan_default_options(void) __attribute__((used, visibility("default")));
const char *__ubsan_default_options(void) { return "print_stacktrace=1"; }
extern void __sanitizer_set_death_callback(void (*)(void)) __attribute__((weak));
static void run_isolated(const char *what, void (*fn)(const void *), const void *arg, unsigned timeout_s);

static void failf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void failf(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("FAIL: ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
    g_fail++;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- deterministic PRNG ---- */
static uint64_t g_rng = 0x9E3779B97F4A7C15ull;
static uint64_t rnd(void) {
    uint64_t x = g_rng;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return g_rng = x;
}
static uint64_t rnd_below(uint64_t n) { return n ? rnd() % n : 0; }
static float rnd_unit(void) { return (float)((rnd() >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f; } /* [-1, 1) */

/* ---- byte buffer ---- */
typedef struct bytes { uint8_t *p; size_t n, cap; } bytes;

static void b_reserve(bytes *b, size_t extra) {
    if (b->n + extra <= b->cap) return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->n + extra) cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p) { fprintf(stderr, "test_gguf: out of memory\n"); exit(2); }
    b->p = p;
    b->cap = cap;
}
static void b_put(bytes *b, const void *s, size_t n) {
    b_reserve(b, n);
    if (n) memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void b_u8(bytes *b, uint8_t v) { b_put(b, &v, 1); }
static void b_u32(bytes *b, uint32_t v) {
    uint8_t t[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    b_put(b, t, 4);
}
static void b_u64(bytes *b, uint64_t v) {
    b_u32(b, (uint32_t)v);
    b_u32(b, (uint32_t)(v >> 32));
}
static void b_f32(bytes *b, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    b_u32(b, u);
}
static void b_strn(bytes *b, const char *s, size_t n) {
    b_u64(b, n);
    b_put(b, s, n);
}
static void b_str(bytes *b, const char *s) { b_strn(b, s, strlen(s)); }
static void b_free(bytes *b) { free(b->p); memset(b, 0, sizeof *b); }
static void put_le(uint8_t *p, uint64_t v, int n) { for (int i = 0; i < n; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint64_t get_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* ---- GGUF value and ggml type constants ---- */
enum { V_U8, V_I8, V_U16, V_I16, V_U32, V_I32, V_F32, V_BOOL, V_STRING, V_ARRAY, V_U64, V_I64, V_F64 };
enum { T_F32 = 0, T_F16 = 1, T_Q4_0 = 2, T_Q4_1 = 3, T_Q5_0 = 6, T_Q5_1 = 7, T_Q8_0 = 8, T_Q2_K = 10, T_Q3_K = 11,
       T_Q4_K = 12, T_Q5_K = 13, T_Q6_K = 14, T_IQ2_XXS = 16, T_IQ4_NL = 20, T_IQ4_XS = 23, T_I8 = 24, T_BF16 = 30 };
static const struct { uint32_t id, blck, bytes; } ttab[] = {
    {T_F32, 1, 4}, {T_F16, 1, 2}, {T_Q4_0, 32, 18}, {T_Q4_1, 32, 20}, {T_Q8_0, 32, 34}, {T_Q4_K, 256, 144},
    {T_Q5_K, 256, 176}, {T_Q6_K, 256, 210}, {T_IQ2_XXS, 256, 66}, {T_I8, 1, 1}, {T_BF16, 1, 2},
    {T_Q5_0, 32, 22}, {T_Q5_1, 32, 24}, {T_Q2_K, 256, 84}, {T_Q3_K, 256, 110}, {T_IQ4_NL, 32, 18},
    {T_IQ4_XS, 256, 136}, {15 /* Q8_K */, 256, 292},
};

/* Bytes of a tensor, 0 when the type is unknown here or the size does not fit. */
static uint64_t tensor_bytes(uint32_t type, uint32_t n_dims, const uint64_t *ne) {
    for (size_t i = 0; i < sizeof ttab / sizeof ttab[0]; i++) {
        if (ttab[i].id != type) continue;
        if (n_dims == 0 || n_dims > 4 || ne[0] == 0 || ne[0] % ttab[i].blck) return 0;
        unsigned __int128 n = ne[0] / ttab[i].blck * ttab[i].bytes;
        for (uint32_t d = 1; d < n_dims; d++) n *= ne[d];
        return n > (1ull << 40) ? 0 : (uint64_t)n;
    }
    return 0;
}

static uint16_t f2h(float f) { /* normal range only: enough for scales and small weights */
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000;
    int32_t e = (int32_t)((x >> 23) & 0xff) - 127 + 15;
    if (e <= 0) return (uint16_t)sign;
    if (e >= 31) return (uint16_t)(sign | 0x7c00);
    return (uint16_t)(sign | (uint32_t)e << 10 | ((x & 0x7fffff) >> 13));
}

/* ---- in-memory GGUF description ---- */
#define MAX_KV 64
#define MAX_T 64
typedef struct kvent { char key[160]; bytes val; /* encoded: u32 type + payload */ } kvent;
typedef struct tent {
    char name[320];
    uint32_t n_dims, type;
    uint64_t ne[6];
    int has_offset;
    uint64_t offset;
    int has_fill;        /* F32 data: every element = fill */
    float fill;
} tent;
typedef struct gg {
    char magic[4];
    uint32_t version;
    int count_override;
    uint64_t n_kv_value, n_tensors_value;
    kvent kv[MAX_KV];
    int nkv;
    tent t[MAX_T];
    int nt;
    uint64_t align;      /* the writer's alignment (the metadata key is set separately) */
    int header_only;     /* write no data section */
    int extra_keys;      /* append this many distinct filler keys ("pad.00000001": u8) */
    uint64_t data_cap;   /* cut the data section to this many bytes */
} gg;

static gg *gg_new(void) {
    gg *g = calloc(1, sizeof *g);
    if (!g) exit(2);
    memcpy(g->magic, "GGUF", 4);
    g->version = 3;
    g->align = 32;
    g->data_cap = UINT64_MAX;
    return g;
}
static void gg_free(gg *g) {
    for (int i = 0; i < g->nkv; i++) b_free(&g->kv[i].val);
    free(g);
}

static kvent *kv_find(gg *g, const char *key) {
    for (int i = 0; i < g->nkv; i++)
        if (!strcmp(g->kv[i].key, key)) return &g->kv[i];
    return NULL;
}
/* Returns the (cleared) value buffer of key: replaced in place if present, appended otherwise. */
static bytes *kv_set(gg *g, const char *key) {
    kvent *e = kv_find(g, key);
    if (!e) {
        if (g->nkv == MAX_KV) { fprintf(stderr, "test_gguf: too many keys\n"); exit(2); }
        e = &g->kv[g->nkv++];
        snprintf(e->key, sizeof e->key, "%s", key);
    }
    e->val.n = 0;
    return &e->val;
}
static bytes *kv_add_dup(gg *g, const char *key) { /* appends even if present */
    if (g->nkv == MAX_KV) { fprintf(stderr, "test_gguf: too many keys\n"); exit(2); }
    kvent *e = &g->kv[g->nkv++];
    memset(e, 0, sizeof *e);
    snprintf(e->key, sizeof e->key, "%s", key);
    return &e->val;
}
static void kv_del(gg *g, const char *key) {
    kvent *e = kv_find(g, key);
    if (!e) return;
    b_free(&e->val);
    int i = (int)(e - g->kv);
    memmove(&g->kv[i], &g->kv[i + 1], (size_t)(g->nkv - i - 1) * sizeof *e);
    g->nkv--;
}
static void kv_u32(gg *g, const char *k, uint32_t v) { bytes *b = kv_set(g, k); b_u32(b, V_U32); b_u32(b, v); }
static void kv_i32(gg *g, const char *k, int32_t v) { bytes *b = kv_set(g, k); b_u32(b, V_I32); b_u32(b, (uint32_t)v); }
static void kv_u64(gg *g, const char *k, uint64_t v) { bytes *b = kv_set(g, k); b_u32(b, V_U64); b_u64(b, v); }
static void kv_f32(gg *g, const char *k, float v) { bytes *b = kv_set(g, k); b_u32(b, V_F32); b_f32(b, v); }
static void kv_bool(gg *g, const char *k, int v) { bytes *b = kv_set(g, k); b_u32(b, V_BOOL); b_u8(b, (uint8_t)v); }
static void kv_str(gg *g, const char *k, const char *s) { bytes *b = kv_set(g, k); b_u32(b, V_STRING); b_str(b, s); }
static void kv_arr_str(gg *g, const char *k, const char *const *s, size_t n) {
    bytes *b = kv_set(g, k);
    b_u32(b, V_ARRAY);
    b_u32(b, V_STRING);
    b_u64(b, n);
    for (size_t i = 0; i < n; i++) b_str(b, s[i]);
}
static void kv_arr_f32(gg *g, const char *k, const float *v, size_t n) {
    bytes *b = kv_set(g, k);
    b_u32(b, V_ARRAY);
    b_u32(b, V_F32);
    b_u64(b, n);
    for (size_t i = 0; i < n; i++) b_f32(b, v[i]);
}
static void kv_arr_i32(gg *g, const char *k, const int32_t *v, size_t n) {
    bytes *b = kv_set(g, k);
    b_u32(b, V_ARRAY);
    b_u32(b, V_I32);
    b_u64(b, n);
    for (size_t i = 0; i < n; i++) b_u32(b, (uint32_t)v[i]);
}

static tent *t_find(gg *g, const char *name) {
    for (int i = 0; i < g->nt; i++)
        if (!strcmp(g->t[i].name, name)) return &g->t[i];
    return NULL;
}
static tent *t_add(gg *g, const char *name, uint32_t type, uint64_t ne0, uint64_t ne1) {
    if (g->nt == MAX_T) { fprintf(stderr, "test_gguf: too many tensors\n"); exit(2); }
    tent *t = &g->t[g->nt++];
    memset(t, 0, sizeof *t);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->type = type;
    t->n_dims = ne1 ? 2 : 1;
    t->ne[0] = ne0;
    t->ne[1] = ne1;
    return t;
}
static void t_del(gg *g, const char *name) {
    tent *t = t_find(g, name);
    if (!t) return;
    int i = (int)(t - g->t);
    memmove(&g->t[i], &g->t[i + 1], (size_t)(g->nt - i - 1) * sizeof *t);
    g->nt--;
}
static tent *T(gg *g, const char *name) { /* must exist */
    tent *t = t_find(g, name);
    if (!t) { fprintf(stderr, "test_gguf: builder has no tensor %s\n", name); exit(2); }
    return t;
}

static uint64_t align_up(uint64_t x, uint64_t a) { return a ? (x + a - 1) / a * a : x; }

/* Plausible contents for each type: small weights, norms near 1, sane f16 block scales. */
static void fill_tensor(uint8_t *p, uint64_t n, uint32_t type, int is_norm) {
    switch (type) {
    case T_F32:
        for (uint64_t i = 0; i + 4 <= n; i += 4) {
            float f = is_norm ? 1.0f + 0.1f * rnd_unit() : 0.2f * rnd_unit();
            memcpy(p + i, &f, 4);
        }
        break;
    case T_F16:
        for (uint64_t i = 0; i + 2 <= n; i += 2) put_le(p + i, f2h(0.2f * rnd_unit()), 2);
        break;
    case T_Q8_0:
        for (uint64_t i = 0; i + 34 <= n; i += 34) {
            put_le(p + i, f2h(0.004f), 2);
            for (int j = 0; j < 32; j++) p[i + 2 + j] = (uint8_t)rnd();
        }
        break;
    case T_Q4_0:
        for (uint64_t i = 0; i + 18 <= n; i += 18) {
            put_le(p + i, f2h(0.02f), 2);
            for (int j = 0; j < 16; j++) p[i + 2 + j] = (uint8_t)rnd();
        }
        break;
    case T_Q4_K:
        for (uint64_t i = 0; i + 144 <= n; i += 144) {
            for (int j = 0; j < 144; j++) p[i + j] = (uint8_t)rnd();
            put_le(p + i, f2h(0.002f), 2);
            put_le(p + i + 2, f2h(0.001f), 2);
        }
        break;
    case T_Q6_K:
        for (uint64_t i = 0; i + 210 <= n; i += 210) {
            for (int j = 0; j < 210; j++) p[i + j] = (uint8_t)rnd();
            put_le(p + i + 208, f2h(0.0005f), 2);
        }
        break;
    default:
        for (uint64_t i = 0; i < n; i++) p[i] = (uint8_t)rnd();
    }
}

/* Serializes g into out. Tensors without an explicit offset are laid out in order at the writer's alignment. */
static void gg_write(const gg *g, bytes *out) {
    out->n = 0;
    b_put(out, g->magic, 4);
    b_u32(out, g->version);
    b_u64(out, g->count_override ? g->n_tensors_value : (uint64_t)g->nt);
    b_u64(out, g->count_override ? g->n_kv_value : (uint64_t)g->nkv + (uint64_t)g->extra_keys);
    for (int i = 0; i < g->nkv; i++) {
        b_str(out, g->kv[i].key);
        b_put(out, g->kv[i].val.p, g->kv[i].val.n);
    }
    for (int i = 0; i < g->extra_keys; i++) {
        char k[32];
        snprintf(k, sizeof k, "pad.%08d", i);
        b_str(out, k);
        b_u32(out, V_U8);
        b_u8(out, (uint8_t)i);
    }
    uint64_t off[MAX_T], size[MAX_T], cur = 0, end = 0;
    for (int i = 0; i < g->nt; i++) {
        const tent *t = &g->t[i];
        size[i] = tensor_bytes(t->type, t->n_dims, t->ne);
        off[i] = t->has_offset ? t->offset : align_up(cur, g->align);
        if (!t->has_offset) cur = off[i] + size[i];
        if (size[i] && off[i] + size[i] > end) end = off[i] + size[i];
        b_str(out, t->name);
        b_u32(out, t->n_dims);
        for (uint32_t d = 0; d < t->n_dims && d < 6; d++) b_u64(out, t->ne[d]);
        b_u32(out, t->type);
        b_u64(out, off[i]);
    }
    if (g->header_only || g->nt == 0) return;
    if (end > g->data_cap) end = g->data_cap;
    if (end > (64u << 20)) { fprintf(stderr, "test_gguf: data section too large\n"); exit(2); }
    size_t start = (size_t)align_up(out->n, g->align);
    b_reserve(out, start - out->n + (size_t)end);
    memset(out->p + out->n, 0, start - out->n + (size_t)end);
    uint8_t *data = out->p + start;
    out->n = start + (size_t)end;
    for (int i = 0; i < g->nt; i++) {
        if (!size[i] || off[i] >= end) continue;
        uint64_t n = off[i] + size[i] <= end ? size[i] : end - off[i];
        if (g->t[i].has_fill && g->t[i].type == T_F32)
            for (uint64_t j = 0; j + 4 <= n; j += 4) memcpy(data + off[i] + j, &g->t[i].fill, 4);
        else /* norms and RoPE frequency factors near 1 */
            fill_tensor(data + off[i], n, g->t[i].type,
                        strstr(g->t[i].name, "norm") != NULL || strstr(g->t[i].name, "rope_f") != NULL);
    }
}

/* ---- the standard tiny model ---- */
typedef struct mspec {
    const char *arch;
    int E, L, H, HKV, F, ctx;
    int byte_tokens;            /* include the 256 <0xNN> tokens */
    const char *gpt2_pre;       /* non-NULL: a byte-level BPE ("gpt2") vocabulary with this tokenizer.ggml.pre */
    uint32_t emb_type, w_type, ffn_type, out_type;
    int tied, biases;
} mspec;

static const char *const k_pieces[] = {"\xe2\x96\x81", "a", "b", "c", "e", "n", "o", "t", "u", "p",
                                       "\xe2\x96\x81o", "on", "ce", "\xe2\x96\x81on", "\xe2\x96\x81once",
                                       "\xe2\x96\x81u", "up", "\xe2\x96\x81up", "on", /* duplicate on purpose */
                                       ("\xe2\x96\x81" "a"), "\xe2\x96\x81t"};
#define N_PIECES (int)(sizeof k_pieces / sizeof k_pieces[0])

static mspec std_spec(void) {
    mspec s = {"llama", 32, 1, 4, 2, 64, 64, 0, NULL, T_Q8_0, T_Q8_0, T_Q4_0, T_F16, 1, 0};
    return s;
}

/* A byte-level BPE vocabulary: specials, the GPT-2 alphabet for the letters used and 'Ġ' (U+0120, a space), and the
 * merges that build " once" and " up". */
static const char *const k_bpe_tokens[] = {"<|endoftext|>", "<|im_start|>", "<|im_end|>", "\xc4\xa0", "a", "c", "e",
                                           "n", "o", "p", "t", "u", "on", "ce", "once", "\xc4\xa0o", "\xc4\xa0on",
                                           "\xc4\xa0once", "up", "\xc4\xa0u", "\xc4\xa0up", "!", "?", "1"};
static const char *const k_bpe_merges[] = {"o n", "c e", "on ce", "\xc4\xa0 o", "\xc4\xa0o n", "\xc4\xa0on ce",
                                           "u p", "\xc4\xa0 u", "\xc4\xa0u p"};
#define N_BPE_TOKENS (int)(sizeof k_bpe_tokens / sizeof k_bpe_tokens[0])

static int spec_vocab(const mspec *s) {
    return s->gpt2_pre ? N_BPE_TOKENS : 3 + (s->byte_tokens ? 256 : 0) + N_PIECES;
}

static void add_vocab_gpt2(gg *g, const char *pre) {
    int32_t ty[N_BPE_TOKENS];
    for (int i = 0; i < N_BPE_TOKENS; i++) ty[i] = i < 3 ? 3 : 1;
    kv_str(g, "tokenizer.ggml.model", "gpt2");
    kv_str(g, "tokenizer.ggml.pre", pre);
    kv_arr_str(g, "tokenizer.ggml.tokens", k_bpe_tokens, N_BPE_TOKENS);
    kv_arr_i32(g, "tokenizer.ggml.token_type", ty, N_BPE_TOKENS);
    kv_arr_str(g, "tokenizer.ggml.merges", k_bpe_merges, sizeof k_bpe_merges / sizeof k_bpe_merges[0]);
    kv_u32(g, "tokenizer.ggml.bos_token_id", 0);
    kv_u32(g, "tokenizer.ggml.eos_token_id", 2);
}

static void add_vocab(gg *g, int byte_tokens) {
    int n = 3 + (byte_tokens ? 256 : 0) + N_PIECES;
    const char **tok = calloc((size_t)n, sizeof *tok);
    char(*bt)[8] = calloc(256, 8);
    float *sc = calloc((size_t)n, sizeof *sc);
    int32_t *ty = calloc((size_t)n, sizeof *ty);
    int k = 0;
    tok[k] = "<unk>", ty[k++] = 2;
    tok[k] = "<s>", ty[k++] = 3;
    tok[k] = "</s>", ty[k++] = 3;
    for (int i = 0; byte_tokens && i < 256; i++) {
        snprintf(bt[i], 8, "<0x%02X>", i);
        tok[k] = bt[i], ty[k++] = 6;
    }
    for (int i = 0; i < N_PIECES; i++) {
        sc[k] = -(float)i;
        tok[k] = k_pieces[i], ty[k++] = 1;
    }
    kv_str(g, "tokenizer.ggml.model", "llama");
    kv_arr_str(g, "tokenizer.ggml.tokens", tok, (size_t)n);
    kv_arr_f32(g, "tokenizer.ggml.scores", sc, (size_t)n);
    kv_arr_i32(g, "tokenizer.ggml.token_type", ty, (size_t)n);
    kv_u32(g, "tokenizer.ggml.unknown_token_id", 0);
    kv_u32(g, "tokenizer.ggml.bos_token_id", 1);
    kv_u32(g, "tokenizer.ggml.eos_token_id", 2);
    free(tok);
    free(bt);
    free(sc);
    free(ty);
}

static gg *build(const mspec *s) {
    gg *g = gg_new();
    char k[128];
    kv_str(g, "general.architecture", s->arch);
    kv_str(g, "general.name", "pocketlm malformed-GGUF test model");
#define HP(suffix, v) (snprintf(k, sizeof k, "%s." suffix, s->arch), kv_u32(g, k, (uint32_t)(v)))
    HP("context_length", s->ctx);
    HP("embedding_length", s->E);
    HP("block_count", s->L);
    HP("feed_forward_length", s->F);
    HP("attention.head_count", s->H);
    HP("attention.head_count_kv", s->HKV);
    HP("rope.dimension_count", s->E / s->H);
#undef HP
    snprintf(k, sizeof k, "%s.attention.layer_norm_rms_epsilon", s->arch);
    kv_f32(g, k, 1e-5f);
    if (s->gpt2_pre) add_vocab_gpt2(g, s->gpt2_pre);
    else add_vocab(g, s->byte_tokens);
    int V = spec_vocab(s), E = s->E, hd = E / s->H, KV = hd * s->HKV, F = s->F;
    t_add(g, "token_embd.weight", s->emb_type, (uint64_t)E, (uint64_t)V);
    t_add(g, "output_norm.weight", T_F32, (uint64_t)E, 0);
    if (!s->tied) t_add(g, "output.weight", s->out_type, (uint64_t)E, (uint64_t)V);
    for (int l = 0; l < s->L; l++) {
        char n[96];
#define TN(suffix) (snprintf(n, sizeof n, "blk.%d." suffix, l), n)
        t_add(g, TN("attn_norm.weight"), T_F32, (uint64_t)E, 0);
        if (!strcmp(s->arch, "phi3")) { /* fused q/k/v rows, gate and up rows in one ffn_up */
            t_add(g, TN("attn_qkv.weight"), s->w_type, (uint64_t)E, (uint64_t)(E + 2 * KV));
            t_add(g, TN("attn_output.weight"), s->w_type, (uint64_t)E, (uint64_t)E);
            t_add(g, TN("ffn_norm.weight"), T_F32, (uint64_t)E, 0);
            t_add(g, TN("ffn_up.weight"), s->ffn_type, (uint64_t)E, (uint64_t)(2 * F));
            t_add(g, TN("ffn_down.weight"), s->ffn_type, (uint64_t)F, (uint64_t)E);
            continue;
        }
        t_add(g, TN("attn_q.weight"), s->w_type, (uint64_t)E, (uint64_t)E);
        t_add(g, TN("attn_k.weight"), s->w_type, (uint64_t)E, (uint64_t)KV);
        t_add(g, TN("attn_v.weight"), s->w_type, (uint64_t)E, (uint64_t)KV);
        t_add(g, TN("attn_output.weight"), s->w_type, (uint64_t)E, (uint64_t)E);
        if (!strcmp(s->arch, "qwen3") || !strcmp(s->arch, "gemma3")) {
            t_add(g, TN("attn_q_norm.weight"), T_F32, (uint64_t)hd, 0);
            t_add(g, TN("attn_k_norm.weight"), T_F32, (uint64_t)hd, 0);
        }
        if (!strcmp(s->arch, "gemma3") || !strcmp(s->arch, "gemma2")) {
            t_add(g, TN("post_attention_norm.weight"), T_F32, (uint64_t)E, 0);
            t_add(g, TN("post_ffw_norm.weight"), T_F32, (uint64_t)E, 0);
        }
        if (s->biases) {
            t_add(g, TN("attn_q.bias"), T_F32, (uint64_t)E, 0);
            t_add(g, TN("attn_k.bias"), T_F32, (uint64_t)KV, 0);
            t_add(g, TN("attn_v.bias"), T_F32, (uint64_t)KV, 0);
        }
        t_add(g, TN("ffn_norm.weight"), T_F32, (uint64_t)E, 0);
        t_add(g, TN("ffn_gate.weight"), s->ffn_type, (uint64_t)E, (uint64_t)F);
        t_add(g, TN("ffn_up.weight"), s->ffn_type, (uint64_t)E, (uint64_t)F);
        t_add(g, TN("ffn_down.weight"), s->ffn_type, (uint64_t)F, (uint64_t)E);
#undef TN
    }
    return g;
}

static gg *std_gg(void) {
    mspec s = std_spec();
    return build(&s);
}
static void finish(gg *g, bytes *out) {
    gg_write(g, out);
    gg_free(g);
}

/* ---- loading with different chunkings ---- */
typedef struct loadres {
    plm_status st;
    char msg[512];
    plm_model *m;
    double secs;
    int sticky_ok; /* a failed feed stays failed with the same status through finish */
} loadres;

/* mode 0: one chunk; 1: one byte at a time; 2: random chunks up to n/3; 3: random chunks up to 100 bytes;
 * 4 and 5: as 0 and 2, with the file size announced first (plm_loader_set_file_size). */
static void load_chunked(const uint8_t *p, size_t n, int mode, loadres *r) {
    memset(r, 0, sizeof *r);
    r->sticky_ok = 1;
    double t0 = now_s();
    plm_loader *ld;
    if (plm_loader_new(&ld)) { r->st = PLM_OUT_OF_MEMORY; snprintf(r->msg, sizeof r->msg, "plm_loader_new failed"); return; }
    if (mode >= 4) {
        plm_loader_set_file_size(ld, n);
        mode -= 4;
    }
    size_t pos = 0;
    plm_status st = PLM_OK;
    while (pos < n && st == PLM_OK) {
        size_t c = n - pos;
        if (mode == 1) c = 1;
        else if (mode == 2) c = 1 + (size_t)rnd_below(n / 3 + 1);
        else if (mode == 3) c = 1 + (size_t)rnd_below(100);
        if (c > n - pos) c = n - pos;
        st = plm_loader_feed(ld, p + pos, c);
        pos += c;
    }
    if (st == PLM_OK) {
        /* an empty feed is legal and changes nothing */
        st = plm_loader_feed(ld, p, 0);
    }
    plm_status feed_st = st;
    plm_model *m = NULL;
    plm_status fst = plm_loader_finish(ld, &m);
    if (feed_st != PLM_OK && fst != feed_st) r->sticky_ok = 0;
    /* a failed finish hands back a model that carries only the loader's message (pocketlm.h) */
    if (fst != PLM_OK && (!m || strcmp(plm_model_errmsg(m), plm_loader_errmsg(ld)))) r->sticky_ok = 0;
    if (fst == PLM_OK && plm_model_errmsg(m)[0]) r->sticky_ok = 0;
    st = fst;
    r->st = st;
    snprintf(r->msg, sizeof r->msg, "%s", st == PLM_OK ? "" : plm_loader_errmsg(ld));
    if (st != PLM_OK) {
        plm_model_free(m);
        m = NULL;
    }
    if (st == PLM_OK && m) {
        /* a finished loader refuses more work instead of handing the model out twice */
        plm_model *m2 = NULL;
        if (plm_loader_finish(ld, &m2) == PLM_OK || !m2 || !plm_model_errmsg(m2)[0]) r->sticky_ok = 0;
        plm_model_free(m2);
    }
    plm_loader_free(ld);
    r->m = st == PLM_OK ? m : NULL;
    r->secs = now_s() - t0;
}

/* want: alternatives separated by '|', each a list of substrings separated by '&' that must all appear ("!x": x must
 * not appear, e.g. a key that is present must not be called missing). */
static int msg_matches(const char *msg, const char *want) {
    if (!want || !*want) return 1;
    char buf[512];
    snprintf(buf, sizeof buf, "%s", want);
    char *save1 = NULL;
    for (char *alt = strtok_r(buf, "|", &save1); alt; alt = strtok_r(NULL, "|", &save1)) {
        char part[512];
        snprintf(part, sizeof part, "%s", alt);
        char *save2 = NULL;
        int ok = 1;
        for (char *s = strtok_r(part, "&", &save2); s && ok; s = strtok_r(NULL, "&", &save2))
            ok = s[0] == '!' ? strstr(msg, s + 1) == NULL : strstr(msg, s) != NULL;
        if (ok) return 1;
    }
    return 0;
}

static int msg_printable(const char *msg) {
    for (const unsigned char *c = (const unsigned char *)msg; *c; c++)
        if (*c < 32 || *c == 127) return 0;
    return 1;
}

/* Uses a model that loaded: tokenizer, pieces, info JSON, and (if it has weights) a short evaluation. Nothing here
 * may crash; NaN logits are acceptable for garbage weights. Returns 0 when an API call reported an unexpected error
 * (the caller decides whether that is a failure). */
static int exercise(plm_model *m, int eval_tokens, int require_finite, const char *ctx) {
    int ok = 1;
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    static const char *const texts[] = {"once upon", "", " ", "a\nb\tc", "\xff\xfe\x80 \xc3", "<s>up</s>",
                                        "\xe2\x96\x81\xe2\x96\x81", "\xf0\x9f\x98\x80 ok"};
    int32_t ids[64];
    int n_first = 0;
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        for (int special = 0; special < 2; special++) {
            int n = plm_tokenize(m, texts[i], strlen(texts[i]), ids, 64, -1, special);
            if (n < 0) { failf("%s: plm_tokenize(\"%s\") returned %d", ctx, texts[i], n); ok = 0; continue; }
            for (int j = 0; j < n && j < 64; j++)
                if (ids[j] < 0 || ids[j] >= mi.n_vocab) {
                    failf("%s: plm_tokenize gave id %d outside 0..%d", ctx, ids[j], mi.n_vocab - 1);
                    ok = 0;
                    break;
                }
            if (i == 0 && special == 0) n_first = n < 64 ? n : 64;
        }
    }
    int n_small = plm_tokenize(m, "once upon a time", 16, ids, 1, 1, 0); /* cap smaller than needed */
    if (n_small < 0) { failf("%s: plm_tokenize with a small cap failed", ctx); ok = 0; }
    char piece[64];
    for (int32_t id = -2; id < mi.n_vocab + 2 && id < 5000; id++) {
        int n = plm_token_to_piece(m, id, piece, sizeof piece);
        if ((id < 0 || id >= mi.n_vocab) && n >= 0) { failf("%s: piece of invalid id %d gave %d", ctx, id, n); ok = 0; }
        (void)plm_token_is_eog(m, id);
    }
    char *js = plm_model_info_json(m);
    if (!js) { failf("%s: plm_model_info_json returned NULL", ctx); ok = 0; }
    free(js);
    plm_chat_message msg[2] = {{"system", "be brief"}, {"user", "hi"}};
    char chat[512];
    (void)plm_chat_apply(m, msg, 2, 1, chat, sizeof chat, NULL);

    if (!mi.has_weights || eval_tokens <= 0) return ok;
    plm_session_params sp;
    plm_session_default_params(&sp);
    sp.n_ctx = 8;
    plm_session *s = NULL;
    plm_status st = plm_session_new(m, &sp, &s);
    if (st != PLM_OK) {
        failf("%s: plm_session_new failed: %s %s", ctx, plm_status_name(st), plm_session_errmsg(s));
        plm_session_free(s);
        return 0;
    }
    if (n_first <= 0) { ids[0] = mi.bos >= 0 ? mi.bos : 0; n_first = 1; }
    int n = n_first < eval_tokens ? n_first : eval_tokens;
    st = plm_session_eval(s, ids, n);
    if (st != PLM_OK) { failf("%s: plm_session_eval failed: %s %s", ctx, plm_status_name(st), plm_session_errmsg(s)); ok = 0; }
    else {
        int32_t one = mi.n_vocab - 1;
        st = plm_session_eval(s, &one, 1);
        if (st != PLM_OK) { failf("%s: second eval failed: %s", ctx, plm_session_errmsg(s)); ok = 0; }
        const float *lg = plm_session_logits(s);
        if (require_finite && lg)
            for (int i = 0; i < mi.n_vocab; i++)
                if (!isfinite(lg[i])) { failf("%s: logit %d is not finite", ctx, i); ok = 0; break; }
    }
    plm_session_free(s);
    return ok;
}

/* ---- the table of malformed cases ---- */
#define S_OK (1u << PLM_OK)
#define S_BAD (1u << PLM_BAD_MODEL)
#define S_UNS (1u << PLM_UNSUPPORTED)
#define S_OOM (1u << PLM_OUT_OF_MEMORY)
#define BIGALLOC 1 /* the header legitimately declares more data than the file holds: big allocation allowed */

typedef struct tcase {
    const char *name;
    void (*make)(bytes *out);
    unsigned accept; /* bit mask of acceptable statuses */
    const char *want; /* message must match (see msg_matches) */
    int flags;
} tcase;

#define CASE(nm) static void mk_##nm(bytes *out)

/* -- file header -- */
CASE(bad_magic) { gg *g = std_gg(); memcpy(g->magic, "GGUX", 4); finish(g, out); }
CASE(magic_lowercase) { gg *g = std_gg(); memcpy(g->magic, "gguf", 4); finish(g, out); }
CASE(ggml_file) { gg *g = std_gg(); memcpy(g->magic, "lmgg", 4); finish(g, out); }
CASE(empty_file) { (void)out; }
CASE(only_magic) { b_put(out, "GGUF", 4); }
CASE(version_0) { gg *g = std_gg(); g->version = 0; finish(g, out); }
CASE(version_1) { gg *g = std_gg(); g->version = 1; finish(g, out); }
CASE(version_4) { gg *g = std_gg(); g->version = 4; finish(g, out); }
CASE(version_huge) { gg *g = std_gg(); g->version = 0xFFFFFFFFu; finish(g, out); }
CASE(big_endian) { gg *g = std_gg(); g->version = 0x03000000u; finish(g, out); }
/* -- hostile counts -- */
#define COUNTS(nm, want_kv, want_t)                                                                                           \
    CASE(nm) {                                                                                                        \
        gg *g = std_gg();                                                                                             \
        g->count_override = 1;                                                                                        \
        uint64_t want_kv_ = (want_kv), want_t_ = (want_t);                                                            \
        g->n_kv_value = want_kv_ ? want_kv_ : (uint64_t)g->nkv;                                                       \
        g->n_tensors_value = want_t_ ? want_t_ : (uint64_t)g->nt;                                                     \
        finish(g, out);                                                                                               \
    }
COUNTS(n_kv_2p63, 1ull << 63, 0)
COUNTS(n_kv_2p32, 1ull << 32, 0)
COUNTS(n_kv_max, UINT64_MAX, 0)
COUNTS(n_kv_1m, 1000000, 0)
COUNTS(n_tensors_2p63, 0, 1ull << 63)
COUNTS(n_tensors_2p32, 0, 1ull << 32)
COUNTS(n_tensors_max, 0, UINT64_MAX)
COUNTS(n_tensors_1m, 0, 1000000)
CASE(n_kv_one_too_many) {
    gg *g = std_gg();
    g->count_override = 1;
    g->n_kv_value = (uint64_t)g->nkv + 1; /* the first tensor info is read as a key/value */
    g->n_tensors_value = (uint64_t)g->nt;
    finish(g, out);
}
CASE(n_tensors_one_too_many) {
    gg *g = std_gg();
    g->count_override = 1;
    g->n_kv_value = (uint64_t)g->nkv;
    g->n_tensors_value = (uint64_t)g->nt + 1; /* the data section is read as a tensor info */
    finish(g, out);
}
/* -- strings -- */
static void set_raw_str_len(gg *g, const char *key, uint64_t len, const char *tail) {
    bytes *b = kv_set(g, key);
    b_u32(b, V_STRING);
    b_u64(b, len);
    b_put(b, tail, strlen(tail));
}
CASE(str_len_past_eof) { gg *g = std_gg(); set_raw_str_len(g, "general.name", 1u << 20, "x"); finish(g, out); }
CASE(str_len_max) { gg *g = std_gg(); set_raw_str_len(g, "general.name", UINT64_MAX, "x"); finish(g, out); }
CASE(str_len_2p63) { gg *g = std_gg(); set_raw_str_len(g, "general.name", 1ull << 63, "x"); finish(g, out); }
CASE(key_len_past_eof) {
    bytes b = {0};
    b_put(&b, "GGUF", 4);
    b_u32(&b, 3);
    b_u64(&b, 0);
    b_u64(&b, 1);
    b_u64(&b, 5000); /* key length */
    b_put(&b, "general.architecture", 20);
    *out = b;
}
CASE(key_len_max) {
    bytes b = {0};
    b_put(&b, "GGUF", 4);
    b_u32(&b, 3);
    b_u64(&b, 0);
    b_u64(&b, 1);
    b_u64(&b, UINT64_MAX);
    b_put(&b, "general.architecture", 20);
    *out = b;
}
CASE(key_empty) { gg *g = std_gg(); kv_u32(g, "", 1); finish(g, out); }
CASE(tensor_name_len_max) {
    gg *g = std_gg();
    g->header_only = 1;
    bytes tmp = {0};
    gg_write(g, &tmp);
    /* patch the first tensor name's length: it follows the last key/value */
    bytes hdr = {0};
    gg *h = std_gg();
    h->nt = 0;
    gg_write(h, &hdr);
    put_le(tmp.p + hdr.n, UINT64_MAX, 8);
    *out = tmp;
    b_free(&hdr);
    gg_free(h);
    gg_free(g);
}
CASE(tensor_name_300) {
    gg *g = std_gg();
    char n[301];
    memset(n, 'w', 300);
    n[300] = 0;
    snprintf(T(g, "blk.0.attn_q.weight")->name, sizeof g->t[0].name, "%s", n);
    finish(g, out);
}
CASE(tensor_name_empty) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->name[0] = 0; finish(g, out); }
CASE(tensor_name_binary) { /* unprintable bytes in a name must not reach the message raw */
    gg *g = std_gg();
    snprintf(T(g, "blk.0.attn_q.weight")->name, 300, "blk.0.\x1b[31m\x07q\xff");
    finish(g, out);
}
/* -- arrays and value types -- */
static void set_raw_array(gg *g, const char *key, uint32_t at, uint64_t n, const void *payload, size_t np) {
    bytes *b = kv_set(g, key);
    b_u32(b, V_ARRAY);
    b_u32(b, at);
    b_u64(b, n);
    b_put(b, payload, np);
}
CASE(tokens_count_2p62) { gg *g = std_gg(); set_raw_array(g, "tokenizer.ggml.tokens", V_STRING, 1ull << 62, "", 0); finish(g, out); }
CASE(tokens_count_2p32) { gg *g = std_gg(); set_raw_array(g, "tokenizer.ggml.tokens", V_STRING, 1ull << 32, "", 0); finish(g, out); }
CASE(tokens_count_max) { gg *g = std_gg(); set_raw_array(g, "tokenizer.ggml.tokens", V_STRING, UINT64_MAX, "", 0); finish(g, out); }
CASE(scores_count_2p61) { gg *g = std_gg(); set_raw_array(g, "tokenizer.ggml.scores", V_F32, 1ull << 61, "", 0); finish(g, out); }
CASE(scores_count_2p40) { gg *g = std_gg(); set_raw_array(g, "tokenizer.ggml.scores", V_F32, 1ull << 40, "", 0); finish(g, out); }
CASE(u64_array_2p61) { gg *g = std_gg(); set_raw_array(g, "general.tags", V_U64, 1ull << 61, "", 0); finish(g, out); }
CASE(string_in_array_past_eof) {
    gg *g = std_gg();
    uint8_t p[16];
    put_le(p, 3, 8);
    put_le(p + 8, 1ull << 40, 8); /* second string's length */
    set_raw_array(g, "general.tags", V_STRING, 2, p, sizeof p);
    kv_str(g, "general.x", "abc"); /* pushes the tag array away from the end; ordering: tags were added last */
    finish(g, out);
}
CASE(nested_array) {
    gg *g = std_gg();
    uint8_t p[12];
    put_le(p, V_U32, 4);
    put_le(p + 4, 0, 8);
    set_raw_array(g, "general.nested", V_ARRAY, 1, p, sizeof p);
    finish(g, out);
}
CASE(array_unknown_type) { gg *g = std_gg(); set_raw_array(g, "general.weird", 13, 1, "abcd", 4); finish(g, out); }
CASE(array_type_max) { gg *g = std_gg(); set_raw_array(g, "general.weird", 0xFFFFFFFFu, 1, "abcd", 4); finish(g, out); }
CASE(value_type_13) { gg *g = std_gg(); bytes *b = kv_set(g, "general.weird"); b_u32(b, 13); b_u32(b, 0); finish(g, out); }
CASE(value_type_max) { gg *g = std_gg(); bytes *b = kv_set(g, "general.weird"); b_u32(b, 0x80000000u); b_u32(b, 0); finish(g, out); }
CASE(duplicate_key) { gg *g = std_gg(); bytes *b = kv_add_dup(g, "general.name"); b_u32(b, V_STRING); b_str(b, "again"); finish(g, out); }
CASE(duplicate_arch_key) { gg *g = std_gg(); bytes *b = kv_add_dup(g, "llama.block_count"); b_u32(b, V_U32); b_u32(b, 1); finish(g, out); }
/* -- tensor types and shapes -- */
CASE(tensor_type_5) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->type = 5; finish(g, out); }
CASE(tensor_type_99) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->type = 99; finish(g, out); }
CASE(tensor_type_max) { gg *g = std_gg(); T(g, "blk.0.attn_k.weight")->type = 0xFFFFFFFFu; finish(g, out); }
static gg *big_gg(void) { /* rows of 256 so K-quant types are well-formed */
    mspec s = std_spec();
    s.E = 256;
    s.F = 256;
    s.H = 4;
    s.HKV = 4;
    s.w_type = s.ffn_type = T_Q8_0;
    return build(&s);
}
CASE(tensor_q5_k) { gg *g = big_gg(); T(g, "blk.0.ffn_down.weight")->type = T_Q5_K; finish(g, out); }
CASE(tensor_iq2_xxs) { gg *g = big_gg(); T(g, "blk.0.attn_q.weight")->type = T_IQ2_XXS; finish(g, out); }
CASE(tensor_bf16) { gg *g = std_gg(); T(g, "blk.0.attn_v.weight")->type = T_BF16; finish(g, out); }
CASE(tensor_q4_1) { gg *g = std_gg(); T(g, "blk.0.ffn_up.weight")->type = T_Q4_1; finish(g, out); }
/* every weight type a quantizer writes loads and runs, also as the token embedding and output (mixed files);
 * the random bytes give random scales, quants and high bits */
CASE(tensor_q5_0) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->type = T_Q5_0; finish(g, out); }
CASE(tensor_q5_1) { gg *g = std_gg(); T(g, "blk.0.ffn_gate.weight")->type = T_Q5_1; finish(g, out); }
CASE(tensor_q8_k) { gg *g = big_gg(); T(g, "blk.0.attn_q.weight")->type = 15; finish(g, out); } /* activation-only */
CASE(tensor_iq4_nl) { gg *g = std_gg(); T(g, "blk.0.attn_k.weight")->type = T_IQ4_NL; finish(g, out); }
CASE(tensor_q2_k) { gg *g = big_gg(); T(g, "blk.0.attn_q.weight")->type = T_Q2_K; finish(g, out); }
CASE(tensor_q3_k) { gg *g = big_gg(); T(g, "blk.0.ffn_up.weight")->type = T_Q3_K; finish(g, out); }
CASE(tensor_iq4_xs) { gg *g = big_gg(); T(g, "blk.0.attn_output.weight")->type = T_IQ4_XS; finish(g, out); }
CASE(embd_q3_k) { gg *g = big_gg(); T(g, "token_embd.weight")->type = T_Q3_K; finish(g, out); } /* tied output */
CASE(embd_bf16) { gg *g = big_gg(); T(g, "token_embd.weight")->type = T_BF16; finish(g, out); }
CASE(embd_iq4_nl) { gg *g = std_gg(); T(g, "token_embd.weight")->type = T_IQ4_NL; finish(g, out); }
/* hostile block counts: rows that are not whole blocks of the new types, and a row of blocks past the data */
CASE(row_not_block_multiple_q5k) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->type = T_Q5_K; finish(g, out); }
CASE(row_not_block_multiple_iq4xs) { gg *g = std_gg(); T(g, "blk.0.ffn_down.weight")->type = T_IQ4_XS; finish(g, out); }
CASE(row_not_block_multiple_q5_0) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->ne[0] = 48; T(g, "blk.0.attn_q.weight")->type = T_Q5_0; finish(g, out); }
CASE(q2_k_rows_past_data) {
    gg *g = big_gg();
    tent *t = T(g, "blk.0.ffn_down.weight");
    t->type = T_Q2_K;
    t->ne[1] = 1ull << 40; /* 2^40 rows of 84-byte blocks: far more than the file holds */
    g->header_only = 1;
    finish(g, out);
}
CASE(n_dims_0) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->n_dims = 0; g->header_only = 1; finish(g, out); }
CASE(n_dims_5) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_q.weight");
    t->n_dims = 5;
    t->ne[2] = t->ne[3] = t->ne[4] = 1;
    finish(g, out);
}
CASE(n_dims_max) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->n_dims = 0xFFFFFFFFu; g->header_only = 1; finish(g, out); }
CASE(dim_zero) { gg *g = std_gg(); T(g, "blk.0.attn_k.weight")->ne[1] = 0; finish(g, out); }
CASE(dim_zero_row) { gg *g = std_gg(); T(g, "output_norm.weight")->ne[0] = 0; finish(g, out); }
CASE(dims_overflow_product) { /* 2^32 * 2^32 * 2^32 elements */
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_q.weight");
    t->type = T_F32;
    t->n_dims = 3;
    t->ne[0] = t->ne[1] = t->ne[2] = 1ull << 32;
    g->header_only = 1;
    finish(g, out);
}
CASE(dim_2p63) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_q.weight");
    t->type = T_F32;
    t->ne[0] = 1ull << 63;
    g->header_only = 1;
    finish(g, out);
}
CASE(dims_bytes_overflow) { /* 2^62 elements fit in int64, 2^64 bytes do not */
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_q.weight");
    t->type = T_F32;
    t->ne[0] = t->ne[1] = 1ull << 31;
    g->header_only = 1;
    finish(g, out);
}
CASE(dims_huge_declared) { /* an extra 2^40-element F32 tensor: representable, absurd for a small file */
    gg *g = std_gg();
    t_add(g, "extra.weight", T_F32, 1ull << 20, 1ull << 20);
    g->header_only = 1;
    finish(g, out);
}
CASE(row_not_block_multiple) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->ne[0] = 48; finish(g, out); }
CASE(row_not_block_multiple_q4k) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->type = T_Q4_K; finish(g, out); }
/* -- alignment and offsets -- */
CASE(alignment_0) { gg *g = std_gg(); kv_u32(g, "general.alignment", 0); finish(g, out); }
CASE(alignment_3) { gg *g = std_gg(); kv_u32(g, "general.alignment", 3); finish(g, out); }
CASE(alignment_2p31_plus) { gg *g = std_gg(); kv_u32(g, "general.alignment", 0x80000001u); finish(g, out); }
CASE(alignment_u64) { gg *g = std_gg(); kv_u64(g, "general.alignment", 32); finish(g, out); }
CASE(alignment_string) { gg *g = std_gg(); kv_str(g, "general.alignment", "32"); finish(g, out); }
CASE(alignment_2p31) { /* a valid power of two, but the data section would start 2 GiB into a tiny file */
    gg *g = std_gg();
    kv_u32(g, "general.alignment", 0x80000000u);
    for (int i = 0; i < g->nt; i++) { g->t[i].has_offset = 1; g->t[i].offset = 0x80000000ull * (uint64_t)i; }
    g->header_only = 1;
    finish(g, out);
}
CASE(misaligned_offset) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_v.weight");
    t->has_offset = 1;
    t->offset = 4;
    finish(g, out);
}
CASE(offset_overflow) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.ffn_up.weight");
    t->has_offset = 1;
    t->offset = UINT64_MAX - 31;
    g->data_cap = 1 << 16;
    finish(g, out);
}
CASE(offset_2p62) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.ffn_up.weight");
    t->has_offset = 1;
    t->offset = 1ull << 62;
    g->data_cap = 1 << 16;
    finish(g, out);
}
CASE(overlap_same_offset) {
    gg *g = std_gg();
    /* every tensor keeps its natural place except attn_k, which is put on top of attn_q */
    bytes tmp = {0};
    gg_write(g, &tmp);
    b_free(&tmp);
    tent *q = T(g, "blk.0.attn_q.weight"), *k = T(g, "blk.0.attn_k.weight");
    uint64_t off = 0;
    for (int i = 0; i < g->nt; i++) {
        tent *t = &g->t[i];
        off = align_up(off, 32);
        t->has_offset = 1;
        t->offset = off;
        if (t == k) t->offset = q->offset;
        else off += tensor_bytes(t->type, t->n_dims, t->ne);
    }
    finish(g, out);
}
CASE(overlap_partial) {
    gg *g = std_gg();
    uint64_t off = 0;
    for (int i = 0; i < g->nt; i++) {
        tent *t = &g->t[i];
        off = align_up(off, 32);
        t->has_offset = 1;
        t->offset = off;
        off += tensor_bytes(t->type, t->n_dims, t->ne);
        if (!strcmp(t->name, "blk.0.attn_norm.weight")) off -= 32; /* next tensor starts inside this one */
    }
    finish(g, out);
}
CASE(duplicate_tensor) {
    gg *g = std_gg();
    tent *t = t_add(g, "blk.0.ffn_norm.weight", T_F32, 32, 0);
    (void)t;
    finish(g, out);
}
CASE(data_past_eof) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.ffn_down.weight");
    t->has_offset = 1;
    t->offset = 1u << 20;
    g->data_cap = 8192;
    finish(g, out);
}
CASE(data_cut_short) { gg *g = std_gg(); g->data_cap = 1000; finish(g, out); }
CASE(header_only_file) { gg *g = std_gg(); g->header_only = 1; finish(g, out); }
/* -- tensors vs hyper-parameters -- */
#define MISSING(nm, tensor)                                                                                           \
    CASE(nm) { gg *g = std_gg(); t_del(g, tensor); finish(g, out); }
MISSING(missing_attn_q, "blk.0.attn_q.weight")
MISSING(missing_token_embd, "token_embd.weight")
MISSING(missing_output_norm, "output_norm.weight")
MISSING(missing_ffn_down, "blk.0.ffn_down.weight")
MISSING(missing_attn_norm, "blk.0.attn_norm.weight")
CASE(missing_second_layer) { gg *g = std_gg(); kv_u32(g, "llama.block_count", 2); finish(g, out); }
CASE(missing_qwen2_bias) {
    mspec s = std_spec();
    s.arch = "qwen2";
    s.biases = 1;
    gg *g = build(&s);
    t_del(g, "blk.0.attn_q.bias");
    finish(g, out);
}
static gg *arch_gg(const char *arch) {
    mspec s = std_spec();
    s.arch = arch;
    return build(&s);
}
CASE(missing_qwen3_q_norm) { gg *g = arch_gg("qwen3"); t_del(g, "blk.0.attn_q_norm.weight"); finish(g, out); }
CASE(missing_gemma3_post_ffw_norm) { gg *g = arch_gg("gemma3"); t_del(g, "blk.0.post_ffw_norm.weight"); finish(g, out); }
CASE(shape_gemma3_k_norm) { gg *g = arch_gg("gemma3"); T(g, "blk.0.attn_k_norm.weight")->ne[0] = 32; finish(g, out); }
CASE(shape_qwen3_q_norm) { gg *g = arch_gg("qwen3"); T(g, "blk.0.attn_q_norm.weight")->ne[0] = 16; finish(g, out); }
CASE(gemma3_softcap_negative) { gg *g = arch_gg("gemma3"); kv_f32(g, "gemma3.final_logit_softcapping", -30.0f); finish(g, out); }
CASE(missing_gemma2_post_attn_norm) { gg *g = arch_gg("gemma2"); t_del(g, "blk.0.post_attention_norm.weight"); finish(g, out); }
CASE(shape_gemma2_post_ffw_norm) { gg *g = arch_gg("gemma2"); T(g, "blk.0.post_ffw_norm.weight")->ne[0] = 8; finish(g, out); }
CASE(gemma2_attn_softcap_zero) { gg *g = arch_gg("gemma2"); kv_f32(g, "gemma2.attn_logit_softcapping", 0.0f); finish(g, out); }
CASE(gemma2_final_softcap_inf) { gg *g = arch_gg("gemma2"); kv_f32(g, "gemma2.final_logit_softcapping", INFINITY); finish(g, out); }
CASE(gemma2_window_zero) { gg *g = arch_gg("gemma2"); kv_u32(g, "gemma2.attention.sliding_window", 0); finish(g, out); }
CASE(arch_phi2) { gg *g = std_gg(); kv_str(g, "general.architecture", "phi2"); finish(g, out); }
/* phi3 (std_spec: head_dim 8): fused attn_qkv [E, E + 2*KV] and ffn_up [E, 2*F], LongRoPE factors n_rot/2 each */
static gg *phi3_gg(int n_rot) {
    gg *g = arch_gg("phi3");
    kv_u32(g, "phi3.rope.dimension_count", (uint32_t)n_rot);
    kv_u32(g, "phi3.rope.scaling.original_context_length", 16);
    kv_f32(g, "phi3.rope.scaling.attn_factor", 1.2f);
    t_add(g, "rope_factors_long.weight", T_F32, (uint64_t)n_rot / 2, 0);
    t_add(g, "rope_factors_short.weight", T_F32, (uint64_t)n_rot / 2, 0);
    return g;
}
CASE(shape_phi3_qkv) { gg *g = arch_gg("phi3"); T(g, "blk.0.attn_qkv.weight")->ne[1] = 32 + 8; finish(g, out); }
CASE(missing_phi3_qkv) { gg *g = arch_gg("phi3"); t_del(g, "blk.0.attn_qkv.weight"); finish(g, out); }
CASE(missing_phi3_ffn_norm) { gg *g = arch_gg("phi3"); t_del(g, "blk.0.ffn_norm.weight"); finish(g, out); }
CASE(shape_phi3_ffn_up_unfused) { gg *g = arch_gg("phi3"); T(g, "blk.0.ffn_up.weight")->ne[1] = 64; finish(g, out); }
CASE(shape_phi3_rope_factors) { gg *g = phi3_gg(4); T(g, "rope_factors_short.weight")->ne[0] = 4; finish(g, out); }
CASE(phi3_rope_factors_zero) {
    gg *g = phi3_gg(8);
    T(g, "rope_factors_long.weight")->has_fill = 1;
    T(g, "rope_factors_long.weight")->fill = 0.0f;
    finish(g, out);
}
CASE(phi3_rope_dims_odd) { gg *g = phi3_gg(4); kv_u32(g, "phi3.rope.dimension_count", 5); finish(g, out); }
CASE(phi3_rope_dims_wide) { gg *g = phi3_gg(4); kv_u32(g, "phi3.rope.dimension_count", 16); finish(g, out); }
CASE(phi3_attn_factor_negative) { gg *g = phi3_gg(4); kv_f32(g, "phi3.rope.scaling.attn_factor", -1.0f); finish(g, out); }
CASE(phi3_attn_factor_nan) { gg *g = phi3_gg(4); kv_f32(g, "phi3.rope.scaling.attn_factor", NAN); finish(g, out); }
CASE(shape_attn_q) { gg *g = std_gg(); T(g, "blk.0.attn_q.weight")->ne[1] = 16; finish(g, out); }
CASE(shape_token_embd_rows) { gg *g = std_gg(); T(g, "token_embd.weight")->ne[1] += 1; finish(g, out); }
CASE(shape_ffn_down_transposed) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.ffn_down.weight");
    uint64_t x = t->ne[0];
    t->ne[0] = t->ne[1];
    t->ne[1] = x;
    finish(g, out);
}
CASE(shape_3d) {
    gg *g = std_gg();
    tent *t = T(g, "blk.0.attn_output.weight");
    t->n_dims = 3;
    t->ne[2] = 2;
    finish(g, out);
}
CASE(shape_norm_short) { gg *g = std_gg(); T(g, "blk.0.attn_norm.weight")->ne[0] = 16; finish(g, out); }
CASE(shape_output) {
    mspec s = std_spec();
    s.tied = 0;
    gg *g = build(&s);
    T(g, "output.weight")->ne[1] = 7;
    finish(g, out);
}
/* Llama 3's RoPE frequency factors: head_dim/2 positive F32s (std_spec: head_dim 8) */
static gg *rope_freqs_gg(uint64_t ne0, uint64_t ne1, uint32_t type) {
    gg *g = std_gg();
    t_add(g, "rope_freqs.weight", type, ne0, ne1);
    return g;
}
static void rope_freqs_fill(bytes *out, float v) {
    gg *g = rope_freqs_gg(4, 0, T_F32);
    T(g, "rope_freqs.weight")->has_fill = 1;
    T(g, "rope_freqs.weight")->fill = v;
    finish(g, out);
}
CASE(rope_freqs_ok) { finish(rope_freqs_gg(4, 0, T_F32), out); }
CASE(rope_freqs_short) { finish(rope_freqs_gg(3, 0, T_F32), out); }
CASE(rope_freqs_long) { finish(rope_freqs_gg(8, 0, T_F32), out); }
CASE(rope_freqs_2d) { finish(rope_freqs_gg(4, 2, T_F32), out); }
CASE(rope_freqs_f16) { finish(rope_freqs_gg(4, 0, T_F16), out); }
CASE(rope_freqs_q8_0) { finish(rope_freqs_gg(32, 0, T_Q8_0), out); }
CASE(rope_freqs_zero) { rope_freqs_fill(out, 0.0f); }
CASE(rope_freqs_negative) { rope_freqs_fill(out, -2.0f); }
CASE(rope_freqs_nan) { rope_freqs_fill(out, NAN); }
CASE(rope_freqs_inf) { rope_freqs_fill(out, INFINITY); }
CASE(norm_f16) { gg *g = std_gg(); T(g, "blk.0.attn_norm.weight")->type = T_F16; finish(g, out); }
CASE(norm_q8_0) { gg *g = std_gg(); T(g, "output_norm.weight")->type = T_Q8_0; finish(g, out); }
/* -- hyper-parameters -- */
CASE(head_count_0) { gg *g = std_gg(); kv_u32(g, "llama.attention.head_count", 0); finish(g, out); }
CASE(head_count_kv_0) { gg *g = std_gg(); kv_u32(g, "llama.attention.head_count_kv", 0); finish(g, out); }
CASE(head_count_kv_3) { gg *g = std_gg(); kv_u32(g, "llama.attention.head_count_kv", 3); finish(g, out); }
CASE(head_count_kv_8) { gg *g = std_gg(); kv_u32(g, "llama.attention.head_count_kv", 8); finish(g, out); }
CASE(embd_not_multiple_of_heads) {
    gg *g = std_gg();
    kv_u32(g, "llama.attention.head_count", 3);
    kv_u32(g, "llama.attention.head_count_kv", 3);
    finish(g, out);
}
CASE(block_count_huge) { gg *g = std_gg(); kv_u32(g, "llama.block_count", 0x7FFFFFFFu); finish(g, out); }
CASE(block_count_u64) { gg *g = std_gg(); kv_u64(g, "llama.block_count", 1ull << 40); finish(g, out); }
CASE(block_count_0) { gg *g = std_gg(); kv_u32(g, "llama.block_count", 0); finish(g, out); }
CASE(block_count_negative) { gg *g = std_gg(); kv_i32(g, "llama.block_count", -1); finish(g, out); }
CASE(block_count_1024) { gg *g = std_gg(); kv_u32(g, "llama.block_count", 1024); finish(g, out); }
CASE(block_count_string) { gg *g = std_gg(); kv_str(g, "llama.block_count", "1"); finish(g, out); }
CASE(embd_0) { gg *g = std_gg(); kv_u32(g, "llama.embedding_length", 0); finish(g, out); }
CASE(embd_missing) { gg *g = std_gg(); kv_del(g, "llama.embedding_length"); finish(g, out); }
CASE(embd_huge) { gg *g = std_gg(); kv_u32(g, "llama.embedding_length", 0xFFFFFFFFu); finish(g, out); }
CASE(ffn_missing) { gg *g = std_gg(); kv_del(g, "llama.feed_forward_length"); finish(g, out); }
CASE(ctx_0) { gg *g = std_gg(); kv_u32(g, "llama.context_length", 0); finish(g, out); }
CASE(ctx_huge) { gg *g = std_gg(); kv_u32(g, "llama.context_length", 0xFFFFFFFFu); finish(g, out); }
CASE(head_dim_odd) {
    gg *g = std_gg();
    kv_u32(g, "llama.attention.head_count", 32);
    kv_u32(g, "llama.attention.head_count_kv", 32);
    kv_del(g, "llama.rope.dimension_count");
    finish(g, out);
}
CASE(head_dim_1024) {
    gg *g = std_gg();
    kv_u32(g, "llama.embedding_length", 1024);
    kv_u32(g, "llama.attention.head_count", 1);
    kv_u32(g, "llama.attention.head_count_kv", 1);
    kv_del(g, "llama.rope.dimension_count");
    finish(g, out);
}
CASE(rope_partial) { gg *g = std_gg(); kv_u32(g, "llama.rope.dimension_count", 4); finish(g, out); }
CASE(key_length_mismatch) { gg *g = std_gg(); kv_u32(g, "llama.attention.key_length", 16); finish(g, out); }
CASE(rope_scaling_yarn) { gg *g = std_gg(); kv_str(g, "llama.rope.scaling.type", "yarn"); finish(g, out); }
CASE(eps_negative) { gg *g = std_gg(); kv_f32(g, "llama.attention.layer_norm_rms_epsilon", -1.0f); finish(g, out); }
CASE(eps_nan) { gg *g = std_gg(); kv_f32(g, "llama.attention.layer_norm_rms_epsilon", NAN); finish(g, out); }
CASE(freq_base_0) { gg *g = std_gg(); kv_f32(g, "llama.rope.freq_base", 0.0f); finish(g, out); }
CASE(freq_base_inf) { gg *g = std_gg(); kv_f32(g, "llama.rope.freq_base", INFINITY); finish(g, out); }
CASE(freq_base_nan) { gg *g = std_gg(); kv_f32(g, "llama.rope.freq_base", NAN); finish(g, out); }
CASE(rope_scale_nan) { gg *g = std_gg(); kv_f32(g, "llama.rope.scaling.factor", NAN); finish(g, out); }
CASE(rope_scale_tiny) { gg *g = std_gg(); kv_f32(g, "llama.rope.scaling.factor", 1e-30f); finish(g, out); }
CASE(arch_missing) { gg *g = std_gg(); kv_del(g, "general.architecture"); finish(g, out); }
CASE(arch_u32) { gg *g = std_gg(); kv_u32(g, "general.architecture", 1); finish(g, out); }
CASE(arch_empty) { gg *g = std_gg(); kv_str(g, "general.architecture", ""); finish(g, out); }
CASE(arch_long) {
    gg *g = std_gg();
    kv_str(g, "general.architecture", "llamallamallamallamallamallamallamallamallama");
    finish(g, out);
}
CASE(arch_gpt2) { gg *g = std_gg(); kv_str(g, "general.architecture", "gpt2"); finish(g, out); }
CASE(arch_mamba) { gg *g = std_gg(); kv_str(g, "general.architecture", "mamba"); finish(g, out); }
CASE(arch_nul_inside) {
    gg *g = std_gg();
    bytes *b = kv_set(g, "general.architecture");
    b_u32(b, V_STRING);
    b_strn(b, "llama\0xyz", 9);
    finish(g, out);
}
/* -- tokenizer metadata -- */
CASE(tok_model_missing) { gg *g = std_gg(); kv_del(g, "tokenizer.ggml.model"); finish(g, out); }
CASE(tok_model_bert) { gg *g = std_gg(); kv_str(g, "tokenizer.ggml.model", "bert"); finish(g, out); }
CASE(tok_model_u32) { gg *g = std_gg(); kv_u32(g, "tokenizer.ggml.model", 1); finish(g, out); }
CASE(tok_tokens_missing) { gg *g = std_gg(); kv_del(g, "tokenizer.ggml.tokens"); finish(g, out); }
CASE(tok_tokens_i32) { gg *g = std_gg(); int32_t v[3] = {1, 2, 3}; kv_arr_i32(g, "tokenizer.ggml.tokens", v, 3); finish(g, out); }
CASE(tok_tokens_string) { gg *g = std_gg(); kv_str(g, "tokenizer.ggml.tokens", "<unk>"); finish(g, out); }
CASE(tok_tokens_empty) { gg *g = std_gg(); kv_arr_str(g, "tokenizer.ggml.tokens", NULL, 0); finish(g, out); }
CASE(tok_scores_short) {
    gg *g = std_gg();
    float sc[4] = {0};
    kv_arr_f32(g, "tokenizer.ggml.scores", sc, 4);
    finish(g, out);
}
CASE(tok_scores_strings) {
    gg *g = std_gg();
    static const char *const s[] = {"a"};
    kv_arr_str(g, "tokenizer.ggml.scores", s, 1);
    finish(g, out);
}
CASE(tok_type_short) { gg *g = std_gg(); int32_t v[2] = {1, 1}; kv_arr_i32(g, "tokenizer.ggml.token_type", v, 2); finish(g, out); }
CASE(tok_type_f32) {
    gg *g = std_gg();
    mspec s = std_spec();
    int n = spec_vocab(&s);
    float *v = calloc((size_t)n, sizeof *v);
    kv_arr_f32(g, "tokenizer.ggml.token_type", v, (size_t)n);
    free(v);
    finish(g, out);
}
CASE(tok_gpt2_no_merges) { gg *g = std_gg(); kv_str(g, "tokenizer.ggml.model", "gpt2"); finish(g, out); }
CASE(tok_gpt2_bad_pre) {
    gg *g = std_gg();
    kv_str(g, "tokenizer.ggml.model", "gpt2");
    kv_str(g, "tokenizer.ggml.pre", "no-such-pre-tokenizer");
    finish(g, out);
}
CASE(tok_vocab_vs_embd) { /* one token fewer than token_embd has rows */
    gg *g = std_gg();
    mspec s = std_spec();
    int n = spec_vocab(&s) - 1;
    const char **tok = calloc((size_t)n, sizeof *tok);
    for (int i = 0; i < n; i++) tok[i] = i < 3 ? (const char *[]){"<unk>", "<s>", "</s>"}[i] : k_pieces[(i - 3) % N_PIECES];
    kv_arr_str(g, "tokenizer.ggml.tokens", tok, (size_t)n);
    free(tok);
    finish(g, out);
}
/* Cases that may load (llama.cpp tolerates them); when they do, every API call must still behave. */
CASE(tok_bos_out_of_range) { gg *g = std_gg(); kv_u32(g, "tokenizer.ggml.bos_token_id", 99999); finish(g, out); }
CASE(tok_eos_max) { gg *g = std_gg(); kv_u32(g, "tokenizer.ggml.eos_token_id", 0xFFFFFFFFu); finish(g, out); }
CASE(tok_bos_string) { gg *g = std_gg(); kv_str(g, "tokenizer.ggml.bos_token_id", "<s>"); finish(g, out); }
CASE(tok_unk_out_of_range) { gg *g = std_gg(); kv_u32(g, "tokenizer.ggml.unknown_token_id", 4096); finish(g, out); }
CASE(tok_no_scores) { gg *g = std_gg(); kv_del(g, "tokenizer.ggml.scores"); finish(g, out); }
CASE(tok_no_types) { gg *g = std_gg(); kv_del(g, "tokenizer.ggml.token_type"); finish(g, out); }
CASE(tok_types_garbage) {
    gg *g = std_gg();
    mspec s = std_spec();
    int n = spec_vocab(&s);
    int32_t *v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = (int32_t)rnd();
    kv_arr_i32(g, "tokenizer.ggml.token_type", v, (size_t)n);
    free(v);
    finish(g, out);
}
CASE(tok_scores_nan) {
    gg *g = std_gg();
    mspec s = std_spec();
    int n = spec_vocab(&s);
    float *v = malloc((size_t)n * sizeof *v);
    for (int i = 0; i < n; i++) v[i] = i % 3 ? NAN : -INFINITY;
    kv_arr_f32(g, "tokenizer.ggml.scores", v, (size_t)n);
    free(v);
    finish(g, out);
}
CASE(tok_strings_weird) { /* empty, invalid UTF-8, NUL inside, every token a control token */
    gg *g = std_gg();
    mspec s = std_spec();
    int n = spec_vocab(&s);
    bytes *b = kv_set(g, "tokenizer.ggml.tokens");
    b_u32(b, V_ARRAY);
    b_u32(b, V_STRING);
    b_u64(b, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        switch (i % 5) {
        case 0: b_strn(b, "", 0); break;
        case 1: b_strn(b, "\xff\xfe\xc3", 3); break;
        case 2: b_strn(b, "a\0b", 3); break;
        case 3: b_str(b, "<s>"); break;
        default: b_str(b, "\xe2\x96\x81"); break;
        }
    }
    int32_t *ty = malloc((size_t)n * sizeof *ty);
    for (int i = 0; i < n; i++) ty[i] = 3 + (i % 4);
    kv_arr_i32(g, "tokenizer.ggml.token_type", ty, (size_t)n);
    free(ty);
    finish(g, out);
}
CASE(tok_gpt2_bad_merges) {
    gg *g = std_gg();
    kv_str(g, "tokenizer.ggml.model", "gpt2");
    static const char *const m[] = {"", " ", "a", "a b c", "  ", "\xff \xfe", "o n", "on ce"};
    kv_arr_str(g, "tokenizer.ggml.merges", m, sizeof m / sizeof m[0]);
    finish(g, out);
}
CASE(tok_gpt2_merges_i32) {
    gg *g = std_gg();
    kv_str(g, "tokenizer.ggml.model", "gpt2");
    int32_t v[2] = {1, 2};
    kv_arr_i32(g, "tokenizer.ggml.merges", v, 2);
    finish(g, out);
}
/* Many keys or tensors are legal; checking them for duplicates must not be quadratic (a 1 MB header would take
 * seconds, a hostile 100 MB one hours). */
CASE(many_keys) { gg *g = std_gg(); g->extra_keys = 30000; finish(g, out); }
CASE(many_keys_duplicate_last) { /* the duplicate is found, and quickly */
    gg *g = std_gg();
    g->extra_keys = 30000;
    bytes *b = kv_add_dup(g, "general.name");
    b_u32(b, V_STRING);
    b_str(b, "again");
    finish(g, out);
}
CASE(chat_template_garbage) {
    gg *g = std_gg();
    kv_str(g, "tokenizer.chat_template", "{% for m in messages %}<|im_start|>{{ m['content'] }}{% endfor %}\xff{{");
    finish(g, out);
}
CASE(alignment_1_odd_offsets) { /* valid GGUF (alignment 1): an unused 3-byte tensor first puts the rest on odd
                                     addresses; a clean refusal is fine too, undefined behaviour is not */
    gg *g = std_gg();
    kv_u32(g, "general.alignment", 1);
    g->align = 1;
    memmove(&g->t[1], &g->t[0], (size_t)g->nt * sizeof g->t[0]);
    g->nt++;
    memset(&g->t[0], 0, sizeof g->t[0]);
    snprintf(g->t[0].name, sizeof g->t[0].name, "unused.odd");
    g->t[0].type = T_I8;
    g->t[0].n_dims = 1;
    g->t[0].ne[0] = 3;
    finish(g, out);
}

#define C(nm, acc, want) {#nm, mk_##nm, acc, want, 0}
#define CB(nm, acc, want) {#nm, mk_##nm, acc, want, BIGALLOC}
static const tcase cases[] = {
    C(bad_magic, S_BAD, "not a GGUF"),
    C(magic_lowercase, S_BAD, "not a GGUF"),
    C(ggml_file, S_BAD, "not a GGUF"),
    C(empty_file, S_BAD, "truncated|empty"),
    C(only_magic, S_BAD, "truncated"),
    C(version_0, S_UNS | S_BAD, "version"),
    C(version_1, S_UNS, "version 1"),
    C(version_4, S_UNS, "version 4"),
    C(version_huge, S_UNS, "version"),
    C(big_endian, S_UNS, "big-endian"),
    C(n_kv_2p63, S_BAD, "keys"),
    C(n_kv_2p32, S_BAD, "keys"),
    C(n_kv_max, S_BAD, "keys"),
    C(n_kv_1m, S_BAD, "keys"),
    C(n_tensors_2p63, S_BAD, "tensors"),
    C(n_tensors_2p32, S_BAD, "tensors"),
    C(n_tensors_max, S_BAD, "tensors"),
    C(n_tensors_1m, S_BAD, "tensors"),
    C(n_kv_one_too_many, S_BAD | S_UNS, ""),
    C(n_tensors_one_too_many, S_BAD | S_UNS, ""),
    C(str_len_past_eof, S_BAD, "general.name"),
    C(str_len_max, S_BAD, "general.name"),
    C(str_len_2p63, S_BAD, "general.name"),
    C(key_len_past_eof, S_BAD, "key 0"),
    C(key_len_max, S_BAD, "key 0"),
    C(key_empty, S_BAD, "empty"),
    C(tensor_name_len_max, S_BAD, "tensor 0"),
    C(tensor_name_300, S_BAD, "length 300"),
    C(tensor_name_empty, S_BAD, "length 0"),
    C(tensor_name_binary, S_BAD, "blk.0."),
    C(tokens_count_2p62, S_BAD, "tokenizer.ggml.tokens"),
    C(tokens_count_2p32, S_BAD, "tokenizer.ggml.tokens"),
    C(tokens_count_max, S_BAD, "tokenizer.ggml.tokens"),
    C(scores_count_2p61, S_BAD, "tokenizer.ggml.scores"),
    C(scores_count_2p40, S_BAD, "tokenizer.ggml.scores"),
    C(u64_array_2p61, S_BAD, "general.tags"),
    C(string_in_array_past_eof, S_BAD, "general.tags"),
    C(nested_array, S_BAD, "general.nested&array"),
    C(array_unknown_type, S_BAD, "general.weird&type"),
    C(array_type_max, S_BAD, "general.weird&type"),
    C(value_type_13, S_BAD, "general.weird&type"),
    C(value_type_max, S_BAD, "general.weird&type"),
    C(duplicate_key, S_BAD, "general.name&twice"),
    C(duplicate_arch_key, S_BAD, "llama.block_count&twice"),
    C(tensor_type_5, S_UNS | S_BAD, "blk.0.attn_q.weight&5"),
    C(tensor_type_99, S_UNS | S_BAD, "blk.0.attn_q.weight&99"),
    C(tensor_type_max, S_UNS | S_BAD, "blk.0.attn_k.weight"),
    C(tensor_q5_k, S_OK, ""),
    C(tensor_iq2_xxs, S_UNS, "blk.0.attn_q.weight&IQ2_XXS"),
    C(tensor_bf16, S_OK, ""),
    C(tensor_q4_1, S_OK, ""),
    C(tensor_q5_0, S_OK, ""),
    C(tensor_q5_1, S_OK, ""),
    C(tensor_iq4_nl, S_OK, ""),
    C(tensor_q8_k, S_UNS, "blk.0.attn_q.weight&Q8_K"),
    C(tensor_q2_k, S_OK, ""),
    C(tensor_q3_k, S_OK, ""),
    C(tensor_iq4_xs, S_OK, ""),
    C(embd_q3_k, S_OK, ""),
    C(embd_bf16, S_OK, ""),
    C(embd_iq4_nl, S_OK, ""),
    C(row_not_block_multiple_q5k, S_BAD, "blk.0.attn_q.weight&multiple&Q5_K"),
    C(row_not_block_multiple_iq4xs, S_BAD, "blk.0.ffn_down.weight&multiple&IQ4_XS"),
    C(row_not_block_multiple_q5_0, S_BAD, "blk.0.attn_q.weight&multiple&Q5_0"),
    CB(q2_k_rows_past_data, S_BAD | S_OOM, ""),
    C(n_dims_0, S_BAD, "blk.0.attn_q.weight&dimensions"),
    C(n_dims_5, S_BAD, "blk.0.attn_q.weight&dimensions"),
    C(n_dims_max, S_BAD, "blk.0.attn_q.weight&dimensions"),
    C(dim_zero, S_BAD, "blk.0.attn_k.weight&dimension"),
    C(dim_zero_row, S_BAD, "output_norm.weight&dimension"),
    C(dims_overflow_product, S_BAD, "blk.0.attn_q.weight"),
    C(dim_2p63, S_BAD, "blk.0.attn_q.weight"),
    C(dims_bytes_overflow, S_BAD, "blk.0.attn_q.weight"),
    CB(dims_huge_declared, S_BAD | S_OOM, ""),
    C(row_not_block_multiple, S_BAD, "blk.0.attn_q.weight&multiple"),
    C(row_not_block_multiple_q4k, S_BAD, "blk.0.attn_q.weight&multiple"),
    C(alignment_0, S_BAD, "general.alignment"),
    C(alignment_3, S_BAD, "general.alignment"),
    C(alignment_2p31_plus, S_BAD, "general.alignment"),
    C(alignment_u64, S_BAD, "general.alignment"),
    C(alignment_string, S_BAD, "general.alignment"),
    CB(alignment_2p31, S_BAD | S_OOM | S_UNS, "alignment|truncated"),
    C(misaligned_offset, S_BAD, "blk.0.attn_v.weight&offset 4"),
    C(offset_overflow, S_BAD, "blk.0.ffn_up.weight"),
    CB(offset_2p62, S_BAD | S_OOM, "blk.0.ffn_up.weight|truncated|memory"),
    C(overlap_same_offset, S_BAD, "blk.0.attn_q.weight&blk.0.attn_k.weight&overlap"),
    C(overlap_partial, S_BAD, "blk.0.attn_norm.weight&overlap"),
    C(duplicate_tensor, S_BAD, "blk.0.ffn_norm.weight&twice"),
    CB(data_past_eof, S_BAD, "truncated"),
    C(data_cut_short, S_BAD, "truncated"),
    C(header_only_file, S_BAD, "truncated"),
    C(missing_attn_q, S_BAD, "blk.0.attn_q.weight&missing"),
    C(missing_token_embd, S_BAD, "token_embd.weight&missing"),
    C(missing_output_norm, S_BAD, "output_norm.weight&missing"),
    C(missing_ffn_down, S_BAD, "blk.0.ffn_down.weight&missing"),
    C(missing_attn_norm, S_BAD, "blk.0.attn_norm.weight&missing"),
    C(missing_second_layer, S_BAD, "blk.1.&missing"),
    C(missing_qwen2_bias, S_BAD, "blk.0.attn_q.bias&missing"),
    C(missing_qwen3_q_norm, S_BAD, "blk.0.attn_q_norm.weight&missing"),
    C(missing_gemma3_post_ffw_norm, S_BAD, "blk.0.post_ffw_norm.weight&missing"),
    C(shape_gemma3_k_norm, S_BAD, "blk.0.attn_k_norm.weight&shape"),
    C(shape_qwen3_q_norm, S_BAD, "blk.0.attn_q_norm.weight&shape"),
    C(gemma3_softcap_negative, S_BAD, "final_logit_softcapping&positive"),
    C(missing_gemma2_post_attn_norm, S_BAD, "blk.0.post_attention_norm.weight&missing"),
    C(shape_gemma2_post_ffw_norm, S_BAD, "blk.0.post_ffw_norm.weight&shape"),
    C(gemma2_attn_softcap_zero, S_BAD, "attn_logit_softcapping&positive"),
    C(gemma2_final_softcap_inf, S_BAD, "final_logit_softcapping&finite"),
    C(gemma2_window_zero, S_BAD, "sliding_window&range"),
    C(arch_phi2, S_UNS, "phi2"),
    C(shape_phi3_qkv, S_BAD, "blk.0.attn_qkv.weight&shape"),
    C(missing_phi3_qkv, S_BAD, "blk.0.attn_qkv.weight&missing"),
    C(missing_phi3_ffn_norm, S_BAD, "blk.0.ffn_norm.weight&missing"),
    C(shape_phi3_ffn_up_unfused, S_BAD, "blk.0.ffn_up.weight&shape"),
    C(shape_phi3_rope_factors, S_BAD, "rope_factors_short.weight&shape"),
    C(phi3_rope_factors_zero, S_BAD, "rope_factors_long.weight&positive"),
    C(phi3_rope_dims_odd, S_BAD, "dimension_count"),
    C(phi3_rope_dims_wide, S_BAD, "dimension_count"),
    C(phi3_attn_factor_negative, S_BAD, "attn_factor"),
    C(phi3_attn_factor_nan, S_BAD, "attn_factor"),
    C(shape_attn_q, S_BAD, "blk.0.attn_q.weight&shape"),
    C(shape_token_embd_rows, S_BAD, "token_embd.weight&shape"),
    C(shape_ffn_down_transposed, S_BAD, "blk.0.ffn_down.weight&shape"),
    C(shape_3d, S_BAD, "blk.0.attn_output.weight&shape"),
    C(shape_norm_short, S_BAD, "blk.0.attn_norm.weight&shape"),
    C(shape_output, S_BAD, "output.weight&shape"),
    C(rope_freqs_ok, S_OK, ""),
    C(rope_freqs_short, S_BAD, "rope_freqs.weight&shape"),
    C(rope_freqs_long, S_BAD, "rope_freqs.weight&shape"),
    C(rope_freqs_2d, S_BAD, "rope_freqs.weight&shape"),
    C(rope_freqs_f16, S_UNS | S_BAD, "rope_freqs.weight&F32"),
    C(rope_freqs_q8_0, S_UNS | S_BAD, "rope_freqs.weight"),
    C(rope_freqs_zero, S_BAD, "rope_freqs.weight&positive"),
    C(rope_freqs_negative, S_BAD, "rope_freqs.weight&positive"),
    C(rope_freqs_nan, S_BAD, "rope_freqs.weight&positive"),
    C(rope_freqs_inf, S_BAD, "rope_freqs.weight&positive"),
    C(norm_f16, S_UNS | S_BAD, "blk.0.attn_norm.weight&F32"),
    C(norm_q8_0, S_UNS | S_BAD, "output_norm.weight&F32"),
    C(head_count_0, S_BAD, "head_count"),
    C(head_count_kv_0, S_BAD, "head_count_kv"),
    C(head_count_kv_3, S_BAD, "head_count_kv"),
    C(head_count_kv_8, S_BAD, "head_count_kv"),
    C(embd_not_multiple_of_heads, S_BAD, "embedding_length"),
    C(block_count_huge, S_BAD, "block_count"),
    C(block_count_u64, S_BAD, "block_count&!missing"),
    C(block_count_0, S_BAD, "block_count"),
    C(block_count_negative, S_BAD, "block_count&!missing"),
    C(block_count_1024, S_BAD, "blk.1.&missing"),
    C(block_count_string, S_BAD, "block_count&!missing"),
    C(embd_0, S_BAD, "embedding_length"),
    C(embd_missing, S_BAD, "embedding_length"),
    C(embd_huge, S_BAD, "embedding_length"),
    C(ffn_missing, S_BAD, "feed_forward_length"),
    C(ctx_0, S_BAD, "context_length"),
    C(ctx_huge, S_BAD, "context_length"),
    C(head_dim_odd, S_BAD | S_UNS, "head dimension"),
    C(head_dim_1024, S_UNS | S_BAD, "head dimension|1024"),
    C(rope_partial, S_UNS, "rope.dimension_count|RoPE"),
    C(key_length_mismatch, S_UNS | S_BAD, "key_length|dimension_count"),
    C(rope_scaling_yarn, S_UNS, "yarn"),
    C(eps_negative, S_BAD, "epsilon"),
    C(eps_nan, S_BAD, "epsilon"),
    C(freq_base_0, S_BAD, "freq_base"),
    C(freq_base_inf, S_BAD, "freq_base"),
    C(freq_base_nan, S_BAD, "freq_base"),
    C(rope_scale_nan, S_OK | S_BAD | S_UNS, ""),
    C(rope_scale_tiny, S_OK | S_BAD | S_UNS, ""),
    C(arch_missing, S_BAD, "general.architecture"),
    C(arch_u32, S_BAD, "general.architecture"),
    C(arch_empty, S_BAD, "general.architecture"),
    C(arch_long, S_BAD | S_UNS, "general.architecture|llamallama"),
    C(arch_gpt2, S_UNS, "gpt2"),
    C(arch_mamba, S_UNS, "mamba"),
    C(arch_nul_inside, S_BAD | S_UNS, "architecture"),
    C(tok_model_missing, S_BAD, "tokenizer.ggml.model"),
    C(tok_model_bert, S_UNS, "bert"),
    C(tok_model_u32, S_BAD, "tokenizer.ggml.model&!missing"),
    C(tok_tokens_missing, S_BAD, "tokenizer.ggml.tokens"),
    C(tok_tokens_i32, S_BAD, "tokenizer.ggml.tokens"),
    C(tok_tokens_string, S_BAD, "tokenizer.ggml.tokens"),
    C(tok_tokens_empty, S_BAD, "tokenizer.ggml.tokens"),
    C(tok_scores_short, S_BAD, "tokenizer.ggml.scores"),
    C(tok_scores_strings, S_BAD, "tokenizer.ggml.scores"),
    C(tok_type_short, S_BAD, "tokenizer.ggml.token_type"),
    C(tok_type_f32, S_BAD, "tokenizer.ggml.token_type"),
    C(tok_gpt2_no_merges, S_BAD, "tokenizer.ggml.merges"),
    C(tok_gpt2_bad_pre, S_UNS, "no-such-pre-tokenizer"),
    C(tok_gpt2_merges_i32, S_BAD, "tokenizer.ggml.merges"),
    C(tok_vocab_vs_embd, S_BAD, "token_embd.weight"),
    C(tok_bos_out_of_range, S_OK | S_BAD, "bos"),
    C(tok_eos_max, S_OK | S_BAD, "eos"),
    C(tok_bos_string, S_OK | S_BAD, "bos"),
    C(tok_unk_out_of_range, S_OK | S_BAD, "unknown"),
    C(tok_no_scores, S_OK | S_BAD, "scores"),
    C(tok_no_types, S_OK | S_BAD, "token_type"),
    C(tok_types_garbage, S_OK | S_BAD, "token_type"),
    C(tok_scores_nan, S_OK | S_BAD, "scores"),
    C(tok_strings_weird, S_OK | S_BAD, "tokenizer"),
    C(tok_gpt2_bad_merges, S_OK | S_BAD, "merges"),
    C(chat_template_garbage, S_OK, ""),
    C(many_keys, S_OK, ""),
    C(many_keys_duplicate_last, S_BAD, "general.name&twice"),
    C(alignment_1_odd_offsets, S_OK | S_BAD | S_UNS, "alignment"),
};
#define N_CASES (sizeof cases / sizeof cases[0])

static const char *status_list(unsigned acc, char *buf, size_t cap) {
    buf[0] = 0;
    for (int s = 0; s <= PLM_ABORTED; s++)
        if (acc & (1u << s)) {
            size_t l = strlen(buf);
            snprintf(buf + l, cap - l, "%s%s", l ? "|" : "", plm_status_name((plm_status)s));
        }
    return buf;
}

/* Loads one image in several chunkings and checks status, message, stickiness, time and allocations. */
static void check_image(const char *name, const uint8_t *p, size_t n, unsigned accept, const char *want, int flags) {
    int modes[6] = {0, 2, 3, 4, 5, 1}, nmodes = n <= 40000 ? 6 : 5;
    plm_status first = PLM_OK;
    char first_msg[512] = "";
    int reported = 0; /* one line per problem, not one per chunking */
    for (int mi = 0; mi < nmodes; mi++) {
        loadres r;
        g_max_alloc = 0;
        set_current(p, n, "case %s, chunking %d", name, modes[mi]);
        load_chunked(p, n, modes[mi], &r);
        g_checks++;
        char acc[128];
        int before = g_fail;
        /* Told the file size, the loader must see that declared tensor data cannot fit before allocating for it. */
        unsigned acc_mode = accept;
        int big_ok = (flags & BIGALLOC) && modes[mi] < 4;
        if (modes[mi] >= 4 && (accept & S_BAD)) acc_mode &= ~S_OOM;
        if (!(acc_mode & (1u << r.st))) {
            if (!(reported & 1))
                failf("%s (chunking %d): status %s, expected %s: %s", name, modes[mi], plm_status_name(r.st),
                      status_list(acc_mode, acc, sizeof acc), r.msg);
            reported |= 1;
        } else if (r.st != PLM_OK && !msg_matches(r.msg, want)) {
            if (!(reported & 2))
                failf("%s: message \"%s\" does not name the problem (want \"%s\")", name, r.msg, want);
            reported |= 2;
        }
        if (r.st != PLM_OK && (!r.msg[0] || !msg_printable(r.msg)))
            failf("%s (chunking %d): empty or unprintable message \"%s\"", name, modes[mi], r.msg);
        if (!r.sticky_ok) failf("%s (chunking %d): loader status not sticky / model handed out on failure", name, modes[mi]);
        int slow = r.secs > 2.0 && !big_ok;
        if (slow) failf("%s (chunking %d): took %.2f s", name, modes[mi], r.secs);
        if (g_track_alloc && !big_ok && g_max_alloc > 64 * n + (1u << 20))
            failf("%s (chunking %d): allocated %zu bytes at once for a %zu-byte file", name, modes[mi], g_max_alloc, n);
        if (mi == 0) { first = r.st; snprintf(first_msg, sizeof first_msg, "%s", r.msg); }
        else if (r.st != first && !(first == PLM_OUT_OF_MEMORY && modes[mi] >= 4))
            failf("%s: chunking %d gives %s (\"%s\") but one chunk gives %s (\"%s\")", name, modes[mi],
                  plm_status_name(r.st), r.msg, plm_status_name(first), first_msg);
        if (g_fail == before && reported) g_fail++; /* repeated problem: counted, not printed */
        if (g_verbose && mi == 0) { printf("  %-28s %-12s %s\n", name, plm_status_name(r.st), r.msg); fflush(stdout); }
        if (r.m) {
            char ctx[160];
            snprintf(ctx, sizeof ctx, "%s (loaded)", name);
            exercise(r.m, 2, 0, ctx);
            plm_model_free(r.m);
        }
        if (slow) break; /* reported once; the other chunkings would only add minutes */
    }
}

/* The header-only verdict (plm_inspect_json) of a file the loader judges: when it refuses, it refuses with a status
 * the case accepts; it may pass a file whose fault only the tensor data shows. */
static void check_inspect(const char *name, const uint8_t *p, size_t n, unsigned accept) {
    uint64_t need = 0;
    char *js = plm_inspect_json(p, n, NULL, 0, &need);
    g_checks++;
    if (!js) {
        if (need <= n || !(accept & S_BAD)) failf("%s: inspect gave no verdict (need %llu of %zu bytes)", name,
                                                  (unsigned long long)need, n);
        return;
    }
    char st[32] = "";
    sscanf(js, "{\"status\":\"%31[A-Z_]", st);
    unsigned bit = 0;
    for (int s = 0; s <= PLM_ABORTED; s++)
        if (!strcmp(st, plm_status_name((plm_status)s))) bit = 1u << s;
    if (!bit || (bit != S_OK && !(accept & bit))) failf("%s: inspect says %s", name, st);
    free(js);
}

static void one_case(const void *arg) {
    const tcase *c = arg;
    bytes b = {0};
    c->make(&b);
    check_image(c->name, b.p, b.n, c->accept, c->want, c->flags);
    check_inspect(c->name, b.p, b.n, c->accept);
    b_free(&b);
}

static void run_cases(void) {
    if (g_track_alloc)
        printf("(AddressSanitizer \"failed to allocate\" warnings are expected: some files declare terabytes of "
               "tensors, and those allocations must fail cleanly)\n");
    for (size_t i = 0; i < N_CASES; i++) {
        char what[96];
        snprintf(what, sizeof what, "case %s", cases[i].name);
        run_isolated(what, one_case, &cases[i], 60);
    }
    printf("malformed cases: %zu\n", N_CASES);
}

/* ---- valid models ---- */
static void check_valid(const char *name, const bytes *b, int expect_weights) {
    int modes[6] = {0, 1, 2, 3, 4, 5};
    for (int mi = 0; mi < 6; mi++) {
        if (modes[mi] == 1 && b->n > 600000) continue;
        loadres r;
        set_current(b->p, b->n, "valid model %s, chunking %d", name, modes[mi]);
        load_chunked(b->p, b->n, modes[mi], &r);
        g_checks++;
        if (r.st != PLM_OK || !r.m) {
            failf("%s (chunking %d): valid model refused: %s %s", name, modes[mi], plm_status_name(r.st), r.msg);
            continue;
        }
        plm_model_info mi_;
        plm_model_get_info(r.m, &mi_);
        if (mi_.has_weights != expect_weights) failf("%s: has_weights %d", name, mi_.has_weights);
        char ctx[160];
        snprintf(ctx, sizeof ctx, "%s (chunking %d)", name, modes[mi]);
        exercise(r.m, 4, 1, ctx);
        plm_model_free(r.m);
    }
    /* expected size as soon as the header is in */
    plm_loader *ld;
    plm_loader_new(&ld);
    if (plm_loader_expected_size(ld) != 0) failf("%s: expected size before any byte", name);
    plm_loader_feed(ld, b->p, b->n);
    if (expect_weights && plm_loader_expected_size(ld) != b->n)
        failf("%s: plm_loader_expected_size %llu != file size %zu", name,
              (unsigned long long)plm_loader_expected_size(ld), b->n);
    plm_loader_free(ld); /* freeing an unfinished loader is fine */
    /* a loader may be freed at any point */
    plm_loader_new(&ld);
    plm_loader_feed(ld, b->p, b->n / 2);
    plm_loader_free(ld);
}

/* Pieces longer than any stack buffer a caller might use: plm_token_to_piece returns the length needed, writes only
 * when it fits (snprintf's contract), and the whole piece arrives on the retry. */
static void check_long_pieces(void) {
    set_current(NULL, 0, "tokens with pieces of 401 and 5001 bytes");
    mspec s = std_spec();
    gg *g = build(&s);
    int n = spec_vocab(&s), id_a = n - 2, id_b = n - 1;
    const char **tok = calloc((size_t)n, sizeof *tok);
    char *long_a = malloc(3 + 400 + 1), *long_b = malloc(3 + 5000 + 1);
    memcpy(long_a, "\xe2\x96\x81", 3); /* U+2581 becomes a space in the piece */
    memset(long_a + 3, 'x', 400);
    long_a[403] = 0;
    memcpy(long_b, "\xe2\x96\x81", 3);
    for (int i = 0; i < 5000; i++) long_b[3 + i] = (char)('a' + i % 26);
    long_b[5003] = 0;
    for (int i = 0; i < n; i++) tok[i] = i < 3 ? (const char *[]){"<unk>", "<s>", "</s>"}[i] : k_pieces[i - 3];
    tok[id_a] = long_a;
    tok[id_b] = long_b;
    kv_arr_str(g, "tokenizer.ggml.tokens", tok, (size_t)n);
    bytes b = {0};
    finish(g, &b);
    loadres r;
    load_chunked(b.p, b.n, 0, &r);
    g_checks++;
    if (!r.m) failf("long pieces: the model did not load: %s %s", plm_status_name(r.st), r.msg);
    else {
        char small[256], *big = malloc(5001);
        memset(small, '#', sizeof small);
        int na = plm_token_to_piece(r.m, id_a, small, sizeof small);
        if (na != 401) failf("long pieces: length %d for a 401-byte piece", na);
        for (size_t i = 0; i < sizeof small; i++)
            if (small[i] != '#') { failf("long pieces: a piece that does not fit was written (byte %zu)", i); break; }
        if (plm_token_to_piece(r.m, id_a, big, 401) != 401 || big[0] != ' ' || memcmp(big + 1, long_a + 3, 400))
            failf("long pieces: the 401-byte piece is wrong on the retry");
        int nb = plm_token_to_piece(r.m, id_b, small, sizeof small);
        if (nb != 5001) failf("long pieces: length %d for a 5001-byte piece", nb);
        if (plm_token_to_piece(r.m, id_b, big, 5000) != 5001) failf("long pieces: one byte short must not fit");
        if (plm_token_to_piece(r.m, id_b, big, 5001) != 5001 || big[0] != ' ' || memcmp(big + 1, long_b + 3, 5000))
            failf("long pieces: the 5001-byte piece is wrong on the retry");
        if (plm_token_to_piece(r.m, id_b, NULL, 0) != 5001) failf("long pieces: length query with no buffer");
        free(big);
        plm_model_free(r.m);
    }
    free(tok);
    free(long_a);
    free(long_b);
    b_free(&b);
}

static void run_valid(void) {
    check_long_pieces();
    bytes b = {0};
    mspec s = std_spec();
    gg *g = build(&s);
    finish(g, &b);
    check_valid("valid_tiny", &b, 1);
    printf("valid tiny model: %zu bytes\n", b.n);

    s = std_spec();
    s.byte_tokens = 1;
    s.tied = 0;
    s.L = 2;
    s.emb_type = T_F16;
    s.w_type = T_F32;
    s.ffn_type = T_Q8_0;
    s.out_type = T_Q4_0;
    finish(build(&s), &b);
    check_valid("valid_bytes_2layers_untied", &b, 1);

    s = std_spec();
    s.E = 256;
    s.F = 512;
    s.H = 4;
    s.HKV = 1;
    s.emb_type = T_Q6_K;
    s.w_type = T_Q4_K;
    s.ffn_type = T_Q6_K;
    finish(build(&s), &b);
    check_valid("valid_kquants", &b, 1);

    s = std_spec();
    s.arch = "qwen2";
    s.biases = 1;
    finish(build(&s), &b);
    check_valid("valid_qwen2_biases", &b, 1);

    finish(arch_gg("qwen3"), &b);
    check_valid("valid_qwen3", &b, 1);
    finish(arch_gg("gemma3"), &b);
    check_valid("valid_gemma3", &b, 1);
    {
        gg *gc = arch_gg("gemma3");
        kv_f32(gc, "gemma3.final_logit_softcapping", 30.0f);
        finish(gc, &b);
        check_valid("valid_gemma3_softcap", &b, 1);
    }
    finish(arch_gg("gemma2"), &b);
    check_valid("valid_gemma2", &b, 1);
    finish(arch_gg("phi3"), &b);
    check_valid("valid_phi3", &b, 1);
    finish(phi3_gg(4), &b); /* partial rotary, LongRoPE factors (the long ones: context above 16) */
    check_valid("valid_phi3_longrope", &b, 1);

    s = std_spec();
    s.arch = "qwen2";
    s.biases = 1;
    s.gpt2_pre = "qwen2";
    finish(build(&s), &b);
    check_valid("valid_qwen2_bpe", &b, 1);

    static const char *const pres[] = {"default", "gpt-2", "llama3", "starcoder", "falcon", "qwen2", ""};
    for (size_t i = 0; i < sizeof pres / sizeof pres[0]; i++) {
        s = std_spec();
        s.gpt2_pre = pres[i];
        g = build(&s);
        g->nt = 0;
        finish(g, &b);
        char nm[64];
        snprintf(nm, sizeof nm, "vocab_only_bpe_%s", pres[i]);
        check_valid(nm, &b, 0);
    }

    g = std_gg();
    g->version = 2;
    finish(g, &b);
    check_valid("valid_v2", &b, 1);

    g = std_gg();
    kv_u32(g, "general.alignment", 64);
    g->align = 64;
    finish(g, &b);
    check_valid("valid_align64", &b, 1);

    g = std_gg();
    kv_u32(g, "general.alignment", 8);
    g->align = 8;
    finish(g, &b);
    check_valid("valid_align8", &b, 1);

    g = std_gg(); /* unknown extra keys of every type and an unused extra tensor are ignored */
    kv_u64(g, "x.u64", 1);
    kv_f32(g, "x.f32", 1.5f);
    kv_bool(g, "x.bool", 1);
    kv_i32(g, "x.i32", -5);
    { bytes *x = kv_set(g, "x.f64"); b_u32(x, V_F64); b_u64(x, 0x3FF0000000000000ull); }
    { bytes *x = kv_set(g, "x.u8"); b_u32(x, V_U8); b_u8(x, 7); }
    { bytes *x = kv_set(g, "x.i16"); b_u32(x, V_I16); b_u32(x, 0xFFFF); x->n -= 2; }
    { bytes *x = kv_set(g, "x.empty_arr"); b_u32(x, V_ARRAY); b_u32(x, V_U8); b_u64(x, 0); }
    { bytes *x = kv_set(g, "x.str_arr"); b_u32(x, V_ARRAY); b_u32(x, V_STRING); b_u64(x, 2); b_str(x, ""); b_str(x, "z"); }
    t_add(g, "extra.unused", T_F32, 5, 3);
    finish(g, &b);
    check_valid("valid_extra_keys", &b, 1);

    g = std_gg(); /* vocabulary only: tokenizes, no session */
    g->nt = 0;
    finish(g, &b);
    check_valid("vocab_only", &b, 0);
    {
        loadres r;
        load_chunked(b.p, b.n, 0, &r);
        if (r.m) {
            plm_session *sess = NULL;
            plm_status st = plm_session_new(r.m, NULL, &sess);
            if (st == PLM_OK) failf("vocab_only: a session was created");
            else if (!sess || !strstr(plm_session_errmsg(sess), "vocabulary"))
                failf("vocab_only: plm_session_new failed without a message");
            else if (plm_session_eval(sess, (int32_t[]){0}, 1) != st) failf("vocab_only: the failed session evaluated");
            plm_session_free(sess);
            plm_model_free(r.m);
        }
    }
    b_free(&b);
}

/* Every prefix of a small valid model fails cleanly with BAD_MODEL. */
static void run_prefixes(void) {
    bytes b = {0};
    finish(std_gg(), &b);
    int bad = 0;
    for (size_t len = 0; len < b.n; len++) {
        /* the prefix sits at the end of its own allocation so a read past it is caught by ASan */
        uint8_t *p = malloc(len ? len : 1);
        memcpy(p, b.p, len);
        int modes[4] = {0, -1, -1, -1};
        if (len % 7 == 0) modes[1] = 3;
        if (len < 1200 || len % 97 == 0) modes[2] = 1;
        if (len % 3 == 0) modes[3] = len % 2 ? 4 : 5;
        for (int mi = 0; mi < 4; mi++) {
            if (modes[mi] < 0) continue;
            loadres r;
            set_current(p, len, "prefix %zu of the tiny model, chunking %d", len, modes[mi]);
            load_chunked(p, len, modes[mi], &r);
            g_checks++;
            if (r.st != PLM_BAD_MODEL || !r.msg[0] || !r.sticky_ok) {
                if (bad++ < 20)
                    failf("prefix %zu of %zu (chunking %d): %s \"%s\"", len, b.n, modes[mi], plm_status_name(r.st), r.msg);
                else g_fail++;
            }
            if (r.m) plm_model_free(r.m);
        }
        free(p);
    }
    printf("prefixes of a %zu-byte model: %zu\n", b.n, b.n);
    b_free(&b);
}

/* ---- real files ---- */
static int read_file(const char *path, bytes *b) {
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    uint8_t buf[65536];
    size_t n;
    b->n = 0;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0) b_put(b, buf, n);
    fclose(f);
    return 1;
}

/* Walks a well-formed GGUF header and records the end of every field (and of every array element). Returns the
 * number of boundaries; *hdr_end gets the end of the tensor infos. */
static size_t header_boundaries(const uint8_t *p, size_t n, size_t *out, size_t cap, size_t *hdr_end) {
    static const int vsz[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    size_t pos = 0, k = 0;
#define MARK() do { if (k < cap) out[k++] = pos; } while (0)
#define NEED(x) do { if ((x) > n - pos) goto done; } while (0)
    NEED(24);
    pos = 4; MARK();
    pos = 8; MARK();
    uint64_t nt = get_le(p + 8, 8), nkv = get_le(p + 16, 8);
    pos = 16; MARK();
    pos = 24; MARK();
    for (uint64_t i = 0; i < nkv; i++) {
        NEED(8); uint64_t l = get_le(p + pos, 8); pos += 8; MARK();
        NEED(l); pos += l; MARK();
        NEED(4); uint32_t t = (uint32_t)get_le(p + pos, 4); pos += 4; MARK();
        if (t == V_STRING) { NEED(8); l = get_le(p + pos, 8); pos += 8; MARK(); NEED(l); pos += l; MARK(); }
        else if (t == V_ARRAY) {
            NEED(12); uint32_t at = (uint32_t)get_le(p + pos, 4); pos += 4; MARK();
            uint64_t an = get_le(p + pos, 8); pos += 8; MARK();
            for (uint64_t j = 0; j < an; j++) {
                if (at == V_STRING) { NEED(8); l = get_le(p + pos, 8); pos += 8; MARK(); NEED(l); pos += l; }
                else if (at < 13 && vsz[at]) { NEED((size_t)vsz[at]); pos += (size_t)vsz[at]; }
                else goto done;
                MARK();
            }
        } else if (t < 13 && vsz[t]) { NEED((size_t)vsz[t]); pos += (size_t)vsz[t]; MARK(); }
        else goto done;
    }
    for (uint64_t i = 0; i < nt; i++) {
        NEED(8); uint64_t l = get_le(p + pos, 8); pos += 8; MARK();
        NEED(l); pos += l; MARK();
        NEED(4); uint32_t nd = (uint32_t)get_le(p + pos, 4); pos += 4; MARK();
        for (uint32_t d = 0; d < nd && d < 8; d++) { NEED(8); pos += 8; MARK(); }
        NEED(4); pos += 4; MARK();
        NEED(8); pos += 8; MARK();
    }
done:
    *hdr_end = pos;
    return k;
#undef MARK
#undef NEED
}

static void run_real_truncations(const char *path) {
    bytes b = {0};
    if (!read_file(path, &b)) { printf("skipped (no %s)\n", path); return; }
    size_t cap = 1 << 16, hdr_end = 0;
    size_t *bd = malloc(cap * sizeof *bd);
    size_t nb = header_boundaries(b.p, b.n, bd, cap, &hdr_end);
    int bad = 0, n = 0;
    for (size_t i = 0; i < nb; i++) {
        for (int d = -1; d <= 1; d++) {
            if (bd[i] == 0 && d < 0) continue;
            size_t len = bd[i] + (size_t)d;
            if (len >= b.n) continue;
            uint8_t *p = malloc(len ? len : 1);
            memcpy(p, b.p, len);
            loadres r;
            set_current(p, len, "%s truncated at %zu", path, len);
            load_chunked(p, len, (i + (size_t)d) % 5 == 0 ? 3 : 0, &r);
            free(p);
            n++;
            g_checks++;
            if (r.st != PLM_BAD_MODEL || !r.msg[0]) {
                if (bad++ < 10) failf("%s truncated at %zu: %s \"%s\"", path, len, plm_status_name(r.st), r.msg);
                else g_fail++;
            }
            if (r.m) plm_model_free(r.m);
        }
    }
    /* data section: random cut points, and the exact ends */
    size_t data_start = (hdr_end + 31) / 32 * 32;
    for (int i = 0; i < 42; i++) {
        size_t len = i == 0 ? data_start : i == 1 ? b.n - 1 : data_start + (size_t)rnd_below(b.n - data_start);
        loadres r;
        set_current(b.p, len, "%s truncated at %zu (data)", path, len);
        load_chunked(b.p, len, i % 3 == 0 ? 2 : 0, &r);
        n++;
        g_checks++;
        if (r.st != PLM_BAD_MODEL || !msg_matches(r.msg, "truncated")) {
            if (bad++ < 20) failf("%s truncated at %zu (data): %s \"%s\"", path, len, plm_status_name(r.st), r.msg);
            else g_fail++;
        }
        if (r.m) plm_model_free(r.m);
    }
    /* and the whole file loads, whatever the chunking */
    for (int mode = 0; mode < 4; mode++) {
        if (mode == 1) continue;
        loadres r;
        load_chunked(b.p, b.n, mode, &r);
        if (r.st != PLM_OK) failf("%s (chunking %d) does not load: %s", path, mode, r.msg);
        if (r.m) { exercise(r.m, 2, 1, path); plm_model_free(r.m); }
    }
    printf("%s: %d truncations (%zu header boundaries, header %zu bytes)\n", path, n, nb, hdr_end);
    free(bd);
    b_free(&b);
}

/* Header corruptions of a real model, in blocks run in child processes. Iteration i is derived from (seed, i) alone,
 * so a failing iteration is reproduced with PLM_TEST_SEED and PLM_TEST_ONLY=i. */
static uint64_t g_seed;
typedef struct corrupt_job {
    const char *path;
    bytes *file;
    const size_t *bd;
    size_t nb, hdr_end;
    int first, count;
    int *stats; /* loaded, BAD, UNS, OOM (summed by the parent only when not isolated) */
} corrupt_job;

static void corrupt_block(const void *arg) {
    const corrupt_job *j = arg;
    bytes *b = j->file;
    static const uint64_t interesting[] = {0, 1, 2, 3, 0xFF, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 1ull << 32,
                                           1ull << 40, 1ull << 62, 1ull << 63, UINT64_MAX, UINT64_MAX - 1, 31, 33,
                                           4096, 65536};
    int loaded = 0, counts[8] = {0};
    double worst = 0;
    for (int it = j->first; it < j->first + j->count; it++) {
        g_rng = (g_seed ^ (0x9E3779B97F4A7C15ull * (uint64_t)(it + 1))) | 1;
        rnd();
        size_t pos;
        int width;
        uint8_t saved[8];
        if (it % 2 == 0) { /* one random byte anywhere in the header */
            width = 1;
            pos = (size_t)rnd_below(j->hdr_end);
        } else { /* 8 bytes at a field boundary (lengths, counts, types, dims, offsets) */
            width = 8;
            pos = j->nb ? j->bd[rnd_below(j->nb)] : (size_t)rnd_below(j->hdr_end);
            if (rnd() % 4 == 0) pos = (size_t)rnd_below(j->hdr_end);
            if (pos + 8 > b->n) pos = b->n - 8;
        }
        memcpy(saved, b->p + pos, (size_t)width);
        uint64_t v = width == 1 ? rnd() : (rnd() % 3 ? interesting[rnd_below(sizeof interesting / sizeof interesting[0])] : rnd());
        int w = width == 8 && rnd() % 3 == 0 ? 4 : width; /* 4-byte fields (types, n_dims): keep the upper half */
        put_le(b->p + pos, v, w);
        char ctx[200];
        snprintf(ctx, sizeof ctx, "%s corruption %d: %d bytes at %zu = 0x%llx", j->path, it, w, pos, (unsigned long long)v);
        set_current(b->p, b->n, "%s (PLM_TEST_SEED=0x%llx)", ctx, (unsigned long long)g_seed);
        loadres r;
        load_chunked(b->p, b->n, it % 10 == 9 ? 2 : 0, &r);
        g_checks++;
        if (r.secs > worst) worst = r.secs;
        if ((unsigned)r.st < 8) counts[r.st]++;
        if (r.st != PLM_OK && r.st != PLM_BAD_MODEL && r.st != PLM_UNSUPPORTED && r.st != PLM_OUT_OF_MEMORY)
            failf("%s: status %s", ctx, plm_status_name(r.st));
        if (r.st != PLM_OK && (!r.msg[0] || !msg_printable(r.msg))) failf("%s: bad message \"%s\"", ctx, r.msg);
        if (r.secs > 2.0) failf("%s: took %.2f s", ctx, r.secs);
        if (g_verbose) printf("  %s: %s %s\n", ctx, plm_status_name(r.st), r.msg);
        if (r.m) {
            loaded++;
            exercise(r.m, 2, 0, ctx);
            plm_model_free(r.m);
        }
        memcpy(b->p + pos, saved, (size_t)width);
    }
    printf("  %s corruptions %d..%d: %d loaded, %d BAD_MODEL, %d UNSUPPORTED, %d OUT_OF_MEMORY; slowest %.0f ms\n",
           j->path, j->first, j->first + j->count - 1, loaded, counts[PLM_BAD_MODEL], counts[PLM_UNSUPPORTED],
           counts[PLM_OUT_OF_MEMORY], worst * 1e3);
}

static void run_real_corruptions(const char *path, int iters) {
    bytes b = {0};
    if (!read_file(path, &b)) { printf("skipped (no %s)\n", path); return; }
    size_t cap = 1 << 16, hdr_end = 0;
    size_t *bd = malloc(cap * sizeof *bd);
    size_t nb = header_boundaries(b.p, b.n, bd, cap, &hdr_end);
    const char *only = getenv("PLM_TEST_ONLY");
    corrupt_job j = {path, &b, bd, nb, hdr_end, 0, 0, NULL};
    if (only && *only) {
        j.first = atoi(only);
        j.count = 1;
        g_verbose = 1;
        corrupt_block(&j);
    } else {
        enum { BLOCK = 250 };
        for (int first = 0; first < iters; first += BLOCK) {
            j.first = first;
            j.count = iters - first < BLOCK ? iters - first : BLOCK;
            char what[160];
            snprintf(what, sizeof what, "%s corruptions %d..%d", path, j.first, j.first + j.count - 1);
            run_isolated(what, corrupt_block, &j, 120);
        }
    }
    free(bd);
    b_free(&b);
}

/* A stream of small chunks (a slow network, a fetch body in 16 KiB pieces, a test feeding bytes one by one) must not
 * make header parsing quadratic: the loader re-parses the buffered header when it has grown, and the stated design
 * is "at least doubling the buffer each attempt", so a header of H bytes costs O(H log H) whatever the chunking.
 * The 720 KB header of the 32000-token LLaMA vocabulary, fed 16 bytes at a time, must load in well under 3 s. */
static void run_small_chunks(const void *arg) {
    const char *path = arg;
    bytes b = {0};
    if (!read_file(path, &b)) { printf("skipped (no %s)\n", path); return; }
    static const size_t chunks[] = {16, 1000};
    for (size_t c = 0; c < sizeof chunks / sizeof chunks[0]; c++) {
        set_current(NULL, 0, "%s fed in %zu-byte chunks", path, chunks[c]);
        double t0 = now_s();
        plm_loader *ld;
        plm_status st = plm_loader_new(&ld);
        for (size_t p = 0; p < b.n && st == PLM_OK; p += chunks[c])
            st = plm_loader_feed(ld, b.p + p, b.n - p < chunks[c] ? b.n - p : chunks[c]);
        plm_model *m = NULL;
        if (st == PLM_OK) st = plm_loader_finish(ld, &m);
        double dt = now_s() - t0;
        g_checks++;
        if (st != PLM_OK) failf("%s in %zu-byte chunks: %s %s", path, chunks[c], plm_status_name(st), plm_loader_errmsg(ld));
        if (dt > 3.0)
            failf("%s (%zu bytes, nearly all header) fed in %zu-byte chunks took %.1f s: header parsing is quadratic in the "
                  "number of chunks", path, b.n, chunks[c], dt);
        printf("%s in %zu-byte chunks: %.2f s\n", path, chunks[c], dt);
        plm_model_free(m);
        plm_loader_free(ld);
    }
    b_free(&b);
}

/* ---- writers for the CLI script and the fuzzer corpus ---- */
static int write_bytes(const char *dir, const char *name, const char *ext, const void *p, size_t n) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s%s", dir, name, ext);
    FILE *f = fopen(path, "wb");
    if (!f) { fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno)); return 0; }
    int ok = fwrite(p, 1, n, f) == n;
    ok &= fclose(f) == 0;
    return ok;
}

static int write_cases(const char *dir) {
    mkdir(dir, 0777);
    for (size_t i = 0; i < N_CASES; i++) {
        if (cases[i].accept & S_OK) continue; /* the CLI script checks refusals only */
        bytes b = {0};
        cases[i].make(&b);
        /* .expect: accepted status names on line 1, the message pattern on line 2 */
        char acc[128], exp[1024];
        int n = snprintf(exp, sizeof exp, "%s\n%s\n", status_list(cases[i].accept, acc, sizeof acc), cases[i].want);
        if (!write_bytes(dir, cases[i].name, ".gguf", b.p, b.n) || !write_bytes(dir, cases[i].name, ".expect", exp, (size_t)n))
            return 1;
        b_free(&b);
    }
    bytes b = {0};
    finish(std_gg(), &b);
    if (!write_bytes(dir, "valid", ".gguf", b.p, b.n)) return 1;
    gg *g = std_gg();
    g->nt = 0;
    finish(g, &b);
    if (!write_bytes(dir, "vocab_only", ".gguf", b.p, b.n)) return 1;
    b_free(&b);
    return 0;
}

static int write_corpus(const char *dir) {
    mkdir(dir, 0777);
    bytes b = {0};
    mspec s = std_spec();
    finish(build(&s), &b);
    if (!write_bytes(dir, "tiny_q8_tied", ".gguf", b.p, b.n)) return 1;
    s.arch = "qwen2";
    s.biases = 1;
    s.F = 32;
    s.w_type = T_Q4_0;
    s.emb_type = T_F16;
    s.gpt2_pre = "qwen2";
    gg *g = build(&s);
    kv_str(g, "tokenizer.chat_template", "{% for message in messages %}<|im_start|>{{ message['role'] }}\n"
                                         "{{ message['content'] }}<|im_end|>\n{% endfor %}");
    finish(g, &b);
    if (!write_bytes(dir, "tiny_qwen2_bpe_bias", ".gguf", b.p, b.n)) return 1;
    finish(arch_gg("qwen3"), &b);
    if (!write_bytes(dir, "tiny_qwen3", ".gguf", b.p, b.n)) return 1;
    finish(arch_gg("gemma3"), &b);
    if (!write_bytes(dir, "tiny_gemma3", ".gguf", b.p, b.n)) return 1;
    {
        gg *g2 = arch_gg("gemma2");
        kv_f32(g2, "gemma2.attn_logit_softcapping", 50.0f);
        kv_f32(g2, "gemma2.final_logit_softcapping", 30.0f);
        kv_u32(g2, "gemma2.attention.sliding_window", 4);
        finish(g2, &b);
        if (!write_bytes(dir, "tiny_gemma2", ".gguf", b.p, b.n)) return 1;
    }
    s = std_spec();
    s.L = 2;
    s.F = 32;
    s.tied = 0;
    s.w_type = s.ffn_type = T_Q4_0;
    s.out_type = T_Q8_0;
    g = build(&s);
    kv_u32(g, "general.alignment", 16);
    g->align = 16;
    kv_str(g, "tokenizer.chat_template", "llama2");
    finish(g, &b);
    if (!write_bytes(dir, "tiny_2layers_align16", ".gguf", b.p, b.n)) return 1;
    g = rope_freqs_gg(4, 0, T_F32); /* Llama 3: RoPE frequency factors, base 500000 */
    kv_f32(g, "llama.rope.freq_base", 500000.0f);
    finish(g, &b);
    if (!write_bytes(dir, "tiny_llama3_rope_freqs", ".gguf", b.p, b.n)) return 1;
    /* a mixed file of the 32-value block types (every K-quant needs rows of 256: over the fuzzer's 64 KiB inputs) */
    s = std_spec();
    s.emb_type = T_BF16;
    g = build(&s);
    T(g, "blk.0.attn_q.weight")->type = T_Q5_0;
    T(g, "blk.0.attn_k.weight")->type = T_IQ4_NL;
    T(g, "blk.0.attn_v.weight")->type = T_Q4_1;
    T(g, "blk.0.attn_output.weight")->type = T_Q5_1;
    T(g, "blk.0.ffn_up.weight")->type = T_IQ4_NL;
    finish(g, &b);
    if (!write_bytes(dir, "tiny_mixed_q5_iq4nl_bf16", ".gguf", b.p, b.n)) return 1;
    /* vocabulary-only files: each tokenizer family and pre-tokenizer, each with a chat template family */
    static const struct { const char *name, *pre, *tmpl; } v[] = {
        {"vocab_spm_zephyr", NULL, "zephyr"},
        {"vocab_spm_gemma", NULL, "<start_of_turn>user\n{{ content }}<end_of_turn>"},
        {"vocab_bpe_llama3", "llama3", "<|start_header_id|>{{ role }}<|end_header_id|>\n\n{{ content }}<|eot_id|>"},
        {"vocab_bpe_gpt2_phi3", "gpt-2", "<|user|>\n{{ content }}<|end|>\n<|assistant|>"},
        {"vocab_bpe_starcoder_mistral", "starcoder", "[INST] {{ content }} [/INST] [SYSTEM_PROMPT]"},
        {"vocab_bpe_falcon_deepseek3", "falcon", "deepseek3"},
        {"vocab_bpe_default_chatglm4", "default", "[gMASK]<sop>"},
    };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        s = std_spec();
        s.gpt2_pre = v[i].pre;
        g = build(&s);
        g->nt = 0;
        kv_str(g, "tokenizer.chat_template", v[i].tmpl);
        finish(g, &b);
        if (!write_bytes(dir, v[i].name, ".gguf", b.p, b.n)) return 1;
    }
    /* one random stream runs through every file: new ones go last, so that the committed seeds keep their bytes */
    finish(phi3_gg(4), &b);
    if (!write_bytes(dir, "tiny_phi3", ".gguf", b.p, b.n)) return 1;
    b_free(&b);
    return 0;
}

static void phase_valid(const void *arg) { (void)arg; run_valid(); }
static void phase_prefixes(const void *arg) { (void)arg; run_prefixes(); }
static void phase_truncations(const void *arg) { run_real_truncations(arg); }

/* Runs fn in a child process so a crash or hang is reported (with what was being tested) and the suite goes on.
 * PLM_TEST_NOFORK=1 runs everything in one process (for a debugger). */
static int g_nofork;
static void run_isolated(const char *what, void (*fn)(const void *), const void *arg, unsigned timeout_s) {
    if (g_nofork) { fn(arg); return; }
    fflush(stdout);
    fflush(stderr);
    if (g_cur == &g_cur_local) {
        void *shm = mmap(NULL, sizeof(current), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        if (shm != MAP_FAILED) g_cur = shm;
    }
    g_cur->what[0] = 0;
    g_cur->has_input = 0;
    int pfd[2];
    if (pipe(pfd) != 0) { perror("pipe"); exit(2); }
    pid_t pid = fork();
    if (pid < 0) { perror("fork"); exit(2); }
    if (pid == 0) {
        close(pfd[0]);
        g_fail = g_checks = 0;
        alarm(timeout_s);
        fn(arg);
        int v[2] = {g_fail, g_checks};
        fflush(stdout);
        if (write(pfd[1], v, sizeof v) != (ssize_t)sizeof v) _exit(3);
        close(pfd[1]);
        exit(0); /* exit, not _exit: LeakSanitizer checks the child too */
    }
    close(pfd[1]);
    int v[2] = {0, 0}, status = 0;
    ssize_t r = read(pfd[0], v, sizeof v);
    close(pfd[0]);
    waitpid(pid, &status, 0);
    if (r == (ssize_t)sizeof v) {
        g_fail += v[0];
        g_checks += v[1];
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failf("%s: finished but exited with status %d (leak?)", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    } else if (WIFSIGNALED(status)) {
        failf("%s: CRASHED with signal %d%s (details above)", what, WTERMSIG(status),
              WTERMSIG(status) == SIGALRM ? " = timed out: a hang" : "");
        report_current();
    } else {
        failf("%s: CRASHED (exit status %d; sanitizer report above)", what, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        report_current();
    }
}

int main(int argc, char **argv) {
    const char *seed = getenv("PLM_TEST_SEED");
    if (seed && *seed) g_rng = strtoull(seed, NULL, 0) | 1;
    g_verbose = getenv("PLM_TEST_VERBOSE") != NULL;
    if (argc == 3 && !strcmp(argv[1], "--write-cases")) return write_cases(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "--write-corpus")) return write_corpus(argv[2]);
    if (argc != 1) {
        fprintf(stderr, "usage: %s [--write-cases DIR | --write-corpus DIR]\n", argv[0]);
        return 2;
    }
    if (__sanitizer_install_malloc_and_free_hooks) {
        __sanitizer_install_malloc_and_free_hooks(on_malloc, on_free);
        g_track_alloc = 1;
    }
    if (!getenv("PLM_TEST_NOFORK")) {
        /* children are watched by run_isolated */
    } else if (__sanitizer_set_death_callback) {
        __sanitizer_set_death_callback(on_death); /* keeps the sanitizers' own SEGV reports and stack traces */
    } else {
        signal(SIGSEGV, on_signal);
        signal(SIGBUS, on_signal);
        signal(SIGFPE, on_signal);
        signal(SIGILL, on_signal);
        signal(SIGABRT, on_signal);
    }
    g_nofork = getenv("PLM_TEST_NOFORK") != NULL;
    g_seed = g_rng;
    double t0 = now_s();
    run_isolated("valid models", phase_valid, NULL, 120);
    run_cases();
    run_isolated("prefixes of the tiny model", phase_prefixes, NULL, 300);
    run_isolated("truncations of models/stories260K.gguf", phase_truncations, "models/stories260K.gguf", 300);
    run_real_corruptions("models/TinyStories-656K-Q8_0.gguf", 2000);
    run_isolated("small chunks", run_small_chunks, "models/vocab/ggml-vocab-llama-spm.gguf", 60);
    printf("test_gguf: %d checks, %d failures (%.1f s)\n", g_checks, g_fail, now_s() - t0);
    return g_fail ? 1 : 0;
}
