/* quantize: converts the weight matrices of a GGUF model to another type, copying everything else.
 *
 *   quantize [--pure] [--threads N] IN.gguf OUT.gguf TYPE
 *   TYPE: F32 F16 BF16 Q8_0 Q6_K Q5_K_M Q5_K_S Q5_1 Q5_0 Q4_K_M Q4_K_S Q4_1 Q4_0 IQ4_XS IQ4_NL Q3_K_L Q3_K_M
 *         Q3_K_S Q2_K Q2_K_S
 *
 * Which tensor gets which type follows llama.cpp's llama-quantize (src/llama-quant.cpp, MIT, llama_tensor_get_type,
 * without an importance matrix):
 *  - only tensors of 2+ dimensions whose name ends in "weight" and that are not norms are converted; the rest
 *    (norms, biases, ...) are copied as they are;
 *  - F16/F32 targets convert every such tensor; quantized targets use the "mixture" rules unless --pure:
 *    output.weight (or token_embd.weight when the model has no output.weight: tied embeddings) gets Q6_K, or Q8_0
 *    when the target is Q8_0 or its row length does not fit the target's block;
 *    the _M/_S/_L presets (Q4_K, Q5_K, Q3_K alone mean _M) raise attn_v, ffn_down, attn_output and attn_qkv in
 *    the layers llama.cpp's rules pick (use_more_bits(), the first 1/8 or 1/16 of the layers, the first value
 *    matrices, n_head/n_head_kv for Q2_K and IQ4_*); token_embd.weight otherwise gets the preset's type;
 *  - a row length that is not a multiple of QK_K falls back as llama.cpp's: Q2_K/Q3_K/IQ4_XS -> IQ4_NL,
 *    Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0; a row that fits no block of the type -> F16 (llama.cpp refuses
 *    the tensor). Every fallback is reported on stderr.
 * Tensors are written in llama.cpp's order (by layer, then by name). Metadata is copied unchanged (tokenizer, chat
 * template, ...) with general.file_type and general.quantization_version set as llama-quantize sets them.
 *
 * Any input type pocketlm runs may be converted; requantizing an already
 * quantized tensor loses quality, which is reported. The file is processed tensor by tensor and chunk by chunk:
 * memory holds the header and a few MiB, never the model.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_write.h"
#include "simd.h"

/* llama_ftype values stored in general.file_type (llama.h). */
enum {
    FT_ALL_F32 = 0, FT_F16 = 1, FT_Q4_0 = 2, FT_Q4_1 = 3, FT_Q8_0 = 7, FT_Q5_0 = 8, FT_Q5_1 = 9, FT_Q2_K = 10,
    FT_Q3_K_S = 11, FT_Q3_K_M = 12, FT_Q3_K_L = 13, FT_Q4_K_S = 14, FT_Q4_K_M = 15, FT_Q5_K_S = 16, FT_Q5_K_M = 17,
    FT_Q6_K = 18, FT_Q2_K_S = 21, FT_IQ4_NL = 25, FT_IQ4_XS = 30, FT_BF16 = 32
};

/* The presets llama-quantize offers that pocketlm can run: name, llama_ftype, the type most tensors get. */
static const struct { const char *name; int ftype; uint32_t type; } presets[] = {
    {"F32", FT_ALL_F32, PLM_T_F32},   {"F16", FT_F16, PLM_T_F16},       {"BF16", FT_BF16, PLM_T_BF16},
    {"Q8_0", FT_Q8_0, PLM_T_Q8_0},    {"Q6_K", FT_Q6_K, PLM_T_Q6_K},    {"Q5_K_M", FT_Q5_K_M, PLM_T_Q5_K},
    {"Q5_K", FT_Q5_K_M, PLM_T_Q5_K},  {"Q5_K_S", FT_Q5_K_S, PLM_T_Q5_K}, {"Q5_1", FT_Q5_1, PLM_T_Q5_1},
    {"Q5_0", FT_Q5_0, PLM_T_Q5_0},    {"Q4_K_M", FT_Q4_K_M, PLM_T_Q4_K}, {"Q4_K", FT_Q4_K_M, PLM_T_Q4_K},
    {"Q4_K_S", FT_Q4_K_S, PLM_T_Q4_K}, {"Q4_1", FT_Q4_1, PLM_T_Q4_1},   {"Q4_0", FT_Q4_0, PLM_T_Q4_0},
    {"IQ4_XS", FT_IQ4_XS, PLM_T_IQ4_XS}, {"IQ4_NL", FT_IQ4_NL, PLM_T_IQ4_NL}, {"Q3_K_L", FT_Q3_K_L, PLM_T_Q3_K},
    {"Q3_K_M", FT_Q3_K_M, PLM_T_Q3_K}, {"Q3_K", FT_Q3_K_M, PLM_T_Q3_K}, {"Q3_K_S", FT_Q3_K_S, PLM_T_Q3_K},
    {"Q2_K", FT_Q2_K, PLM_T_Q2_K},    {"Q2_K_S", FT_Q2_K_S, PLM_T_Q2_K},
};
#define GGML_QNT_VERSION 2

static int die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "quantize: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int can_dequantize(uint32_t t) { return t != PLM_T_Q8_1 && t != PLM_T_Q8_K && plm_type((int)t)->blck > 0; }
static int is_quantized(uint32_t t) { return t != PLM_T_F32 && t != PLM_T_F16 && t != PLM_T_BF16; }
static int blck(uint32_t t) { return plm_type((int)t)->blck; }

/* ---------------------------------------------------------------- header */
/* Reads and parses the header, growing the buffer until it holds all of it. buf must outlive g. */
static int read_header(FILE *f, const char *path, uint8_t **buf, gguf_file *g) {
    size_t cap = 1 << 20, have = 0;
    char err[256];
    *buf = NULL;
    for (;;) {
        uint8_t *p = realloc(*buf, cap);
        if (!p) return die("out of memory reading the header of %s", path);
        *buf = p;
        have += fread(p + have, 1, cap - have, f);
        uint64_t need = 0;
        plm_status st = gguf_parse(g, p, have, &need, err, sizeof err);
        if (st == PLM_OK) return 0;
        if (need > have && have == cap && need < ((uint64_t)1 << 34)) {
            cap = need > (uint64_t)cap * 2 ? (size_t)need : cap * 2;
            continue;
        }
        return die("%s: %s", path, err);
    }
}

/* ---------------------------------------------------------------- type selection (llama-quant.cpp) */
typedef struct plan {
    int ftype;
    uint32_t default_type;
    int pure;
    int n_gqa;                /* query heads per KV head */
    int has_output;           /* else tied embeddings: token_embd is treated as the output */
    int n_attn_v, i_attn_v;   /* counters, in processing order (as llama.cpp's) */
    int n_layer, i_ffn_down;
} plan;

/* The type a tensor of nx-value rows falls back to when nx is not a multiple of QK_K (llama.cpp's
 * tensor_type_fallback), or 0 when the type has no fallback. */
static uint32_t k_fallback(uint32_t t) {
    switch (t) {
    case PLM_T_Q2_K: case PLM_T_Q3_K: case PLM_T_IQ4_XS: return PLM_T_IQ4_NL;
    case PLM_T_Q4_K: return PLM_T_Q5_0;
    case PLM_T_Q5_K: return PLM_T_Q5_1;
    case PLM_T_Q6_K: return PLM_T_Q8_0;
    default: return 0;
    }
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

static int allows_quantization(const char *name, uint32_t n_dims) {
    if (n_dims < 2 || !ends_with(name, "weight")) return 0;
    static const char *const never[] = {"_norm.weight", "ffn_gate_inp.weight", "ssm_conv1d", "attn_rel_b.weight",
                                        "position_embd", "token_types.weight", "pos_embd"};
    for (size_t i = 0; i < sizeof never / sizeof never[0]; i++)
        if (strstr(name, never[i])) return 0;
    return 1;
}

/* llama.cpp's use_more_bits: the first and last eighth of the layers, and every third in between. */
static int use_more_bits(int i, int n) { return i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2; }

/* Picks the type of one tensor (processing order matters for the counters); writes a note when it falls back.
 * llama.cpp's llama_tensor_get_type for the presets above (no importance matrix, not Falcon, no experts). */
static uint32_t choose_type(plan *p, const gguf_tensor *t, const char *name, char *note, size_t notelen) {
    note[0] = 0;
    if (!allows_quantization(name, t->n_dims)) return t->type;
    uint32_t nt = p->default_type;
    if (!is_quantized(nt)) return nt;
    const int ft = p->ftype;
    const int is_output = !strcmp(name, "output.weight");
    const int is_embd = !strcmp(name, "token_embd.weight");
    const int is_attn_v = strstr(name, "attn_v.weight") || strstr(name, "attn_qkv.weight") ||
                          strstr(name, "attn_kv_b.weight");
    if (!p->pure) {
        if (is_output || (!p->has_output && is_embd)) {
            if (t->ne[0] % QK_K) nt = PLM_T_Q8_0;
            else if (nt != PLM_T_Q8_0) nt = PLM_T_Q6_K;
        } else if (is_embd) {
            /* the preset's type */
        } else if (is_attn_v) {
            const int i = p->i_attn_v;
            if (ft == FT_Q2_K) nt = p->n_gqa >= 4 ? PLM_T_Q4_K : PLM_T_Q3_K;
            else if (ft == FT_Q2_K_S && p->n_gqa >= 4) nt = PLM_T_Q4_K;
            else if (ft == FT_Q3_K_M) nt = i < 2 ? PLM_T_Q5_K : PLM_T_Q4_K;
            else if (ft == FT_Q3_K_L) nt = PLM_T_Q5_K;
            else if ((ft == FT_IQ4_NL || ft == FT_IQ4_XS) && p->n_gqa >= 4) nt = PLM_T_Q5_K;
            else if ((ft == FT_Q4_K_M || ft == FT_Q5_K_M) && use_more_bits(i, p->n_attn_v)) nt = PLM_T_Q6_K;
            else if (ft == FT_Q4_K_S && i < 4) nt = PLM_T_Q5_K;
            p->i_attn_v++;
        } else if (strstr(name, "ffn_down")) {
            const int i = p->i_ffn_down, n = p->n_layer;
            if (ft == FT_Q2_K) nt = PLM_T_Q3_K;
            else if (ft == FT_Q2_K_S) { if (i < n / 8) nt = PLM_T_Q4_K; }
            else if (ft == FT_Q3_K_M) nt = i < n / 16 ? PLM_T_Q5_K : PLM_T_Q4_K;
            else if (ft == FT_Q3_K_L) nt = PLM_T_Q5_K;
            else if (ft == FT_Q4_K_M) { if (use_more_bits(i, n)) nt = PLM_T_Q6_K; }
            else if (i < n / 8 && (ft == FT_IQ4_NL || ft == FT_IQ4_XS)) nt = PLM_T_Q5_K;
            else if (ft == FT_Q5_K_M && use_more_bits(i, n)) nt = PLM_T_Q6_K;
            else if (ft == FT_Q4_K_S && i < n / 8) nt = PLM_T_Q5_K;
            p->i_ffn_down++;
        } else if (strstr(name, "attn_output.weight")) {
            if (ft == FT_Q2_K) nt = PLM_T_Q3_K;
            else if (ft == FT_Q3_K_M) nt = PLM_T_Q4_K;
            else if (ft == FT_Q3_K_L) nt = PLM_T_Q5_K;
        }
        if (strstr(name, "attn_qkv.weight")) {
            if (ft == FT_Q3_K_M || ft == FT_Q3_K_L) nt = PLM_T_Q4_K;
            else if (ft == FT_Q4_K_M) nt = PLM_T_Q5_K;
            else if (ft == FT_Q5_K_M) nt = PLM_T_Q6_K;
        }
    } else if (is_attn_v) {
        p->i_attn_v++;
    }
    /* Shapes that do not fit the type's block: llama.cpp's fallbacks for K-quants; F16 where it has none. */
    const uint64_t nx = t->ne[0];
    if (nx % (uint64_t)blck(nt)) {
        const uint32_t want = nt;
        nt = k_fallback(want);
        if (!nt || nx % (uint64_t)blck(nt)) nt = PLM_T_F16;
        snprintf(note, notelen, "fallback: row length %llu is not a multiple of %d (%s) -> falling back to %s%s",
                 (unsigned long long)nx, blck(want), gguf_type_name(want), gguf_type_name(nt),
                 nt == PLM_T_F16 ? " (llama.cpp refuses this shape)" : "");
    }
    return nt;
}

/* llama.cpp's weight_name_comparer: by layer number (non-layer tensors first), then by name. */
static int layer_of(const gguf_str *s) {
    char tmp[80];
    size_t n = s->n < sizeof tmp - 1 ? (size_t)s->n : sizeof tmp - 1;
    memcpy(tmp, s->s, n);
    tmp[n] = 0;
    int layer = -1;
    if (sscanf(tmp, "blk.%d.", &layer) != 1) layer = -1;
    return layer;
}

typedef struct sortent { int layer; uint64_t idx; const gguf_tensor *t; } sortent;

static int cmp_tensor(const void *a, const void *b) {
    const sortent *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    uint64_t n = x->t->name.n < y->t->name.n ? x->t->name.n : y->t->name.n;
    int r = memcmp(x->t->name.s, y->t->name.s, (size_t)n);
    return r ? r : (x->t->name.n > y->t->name.n) - (x->t->name.n < y->t->name.n);
}

/* ---------------------------------------------------------------- conversion of a chunk of rows, in parallel */
typedef struct job {
    uint32_t src_type, dst_type;
    int64_t ne0, nrows;
    size_t src_row, dst_row;
    const uint8_t *src;
    uint8_t *dst;
    int nth;
} job;

typedef struct worker { const job *j; int ith; float *row; } worker;

static void *convert_rows(void *arg) {
    const worker *wk = arg;
    const job *j = wk->j;
    const int64_t per = (j->nrows + j->nth - 1) / j->nth;
    const int64_t r0 = per * wk->ith, r1 = r0 + per < j->nrows ? r0 + per : j->nrows;
    for (int64_t r = r0; r < r1; r++) {
        plm_dequantize_row((int)j->src_type, j->src + (size_t)r * j->src_row, wk->row, j->ne0);
        plm_quantize_weights((int)j->dst_type, wk->row, j->dst + (size_t)r * j->dst_row, j->ne0);
    }
    return NULL;
}

static void run_job(const job *j, worker *wk) {
    pthread_t th[64];
    int started = 0;
    for (int i = 1; i < j->nth; i++) {
        wk[i].j = j;
        wk[i].ith = i;
        if (pthread_create(&th[i], NULL, convert_rows, &wk[i]) != 0) break;
        started = i;
    }
    wk[0].j = j;
    wk[0].ith = 0;
    convert_rows(&wk[0]);
    /* Threads that could not start: do their share here. */
    for (int i = started + 1; i < j->nth; i++) {
        wk[i].j = j;
        wk[i].ith = i;
        convert_rows(&wk[i]);
    }
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
}

/* ---------------------------------------------------------------- main */
static void usage(void) {
    fprintf(stderr,
            "usage: quantize [--pure] [--threads N] IN.gguf OUT.gguf TYPE\n"
            "  TYPE: F32 F16 BF16 Q8_0 Q6_K Q5_K_M Q5_K_S Q5_1 Q5_0 Q4_K_M Q4_K_S Q4_1 Q4_0 IQ4_XS IQ4_NL\n"
            "        Q3_K_L Q3_K_M Q3_K_S Q2_K Q2_K_S (Q5_K, Q4_K, Q3_K: the _M mixes, as llama-quantize)\n"
            "  --pure       every weight matrix gets TYPE (no llama.cpp mixture rules; shape fallbacks still apply)\n"
            "  --threads N  worker threads (default: the number of CPUs)\n");
}

static int same_file(const char *a, const char *b) {
    struct stat sa, sb;
    return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int main(int argc, char **argv) {
    const char *pos[3] = {0};
    int npos = 0, pure = 0;
    long nth = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--pure")) pure = 1;
        else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
            char *end;
            nth = strtol(argv[++i], &end, 10);
            if (*end || nth < 1) { usage(); return 1; }
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) { usage(); return 0; }
        else if (argv[i][0] == '-' || npos == 3) { usage(); return 1; }
        else pos[npos++] = argv[i];
    }
    if (npos != 3) { usage(); return 1; }
    if (nth < 1) nth = 1;
    if (nth > 64) nth = 64;

    plan p = {0};
    p.pure = pure;
    const char *ty = pos[2];
    for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
        if (!strcmp(ty, presets[i].name)) p.ftype = presets[i].ftype, p.default_type = presets[i].type;
    if (!p.default_type && strcmp(ty, "F32")) {
        fprintf(stderr, "quantize: unknown type '%s'\n", ty);
        usage();
        return 1;
    }
    if (same_file(pos[0], pos[1])) return die("the output would overwrite the input");

    FILE *in = fopen(pos[0], "rb");
    if (!in) return die("cannot open %s: %s", pos[0], strerror(errno));
    uint8_t *hdr = NULL;
    gguf_file g;
    if (read_header(in, pos[0], &hdr, &g)) { free(hdr); fclose(in); return 1; }
    int rc = 1;
    FILE *out = NULL;
    gguf_writer *w = NULL;
    sortent *order = NULL;
    uint32_t *types = NULL;
    char (*notes)[200] = NULL; /* per tensor: why it fell back, or "" */
    uint8_t *src = NULL, *dst = NULL;
    worker *wk = NULL;

    if (fseeko(in, 0, SEEK_END) != 0) { die("cannot seek in %s", pos[0]); goto out; }
    const uint64_t fsz = (uint64_t)ftello(in);
    if (g.data_offset + g.data_size > fsz) {
        die("%s is truncated: its tensors need %llu bytes, the file has %llu", pos[0],
            (unsigned long long)(g.data_offset + g.data_size), (unsigned long long)fsz);
        goto out;
    }

    /* Facts the mixture rules need. */
    gguf_str arch = {"llama", 5};
    gguf_get_str(&g, "general.architecture", &arch);
    char key[128];
    snprintf(key, sizeof key, "%.*s.block_count", (int)(arch.n < 64 ? arch.n : 64), arch.s);
    uint32_t n_layer = 0;
    gguf_get_u32(&g, key, &n_layer);
    for (uint64_t i = 0; i < g.n_tensors; i++) {
        const gguf_str *s = &g.tensors[i].name;
        char nm[80];
        size_t n = s->n < sizeof nm - 1 ? (size_t)s->n : sizeof nm - 1;
        memcpy(nm, s->s, n), nm[n] = 0;
        if (!strcmp(nm, "output.weight")) p.has_output = 1;
        if (strstr(nm, "attn_v.weight") || strstr(nm, "attn_qkv.weight") || strstr(nm, "attn_kv_b.weight")) p.n_attn_v++;
        int layer = layer_of(s);
        if (layer >= 0 && (uint32_t)layer + 1 > n_layer && !gguf_find(&g, key)) n_layer = (uint32_t)layer + 1;
    }
    p.n_layer = (int)n_layer;
    uint32_t n_head = 1, n_head_kv = 0;
    snprintf(key, sizeof key, "%.*s.attention.head_count", (int)(arch.n < 64 ? arch.n : 64), arch.s);
    gguf_get_u32(&g, key, &n_head);
    snprintf(key, sizeof key, "%.*s.attention.head_count_kv", (int)(arch.n < 64 ? arch.n : 64), arch.s);
    if (!gguf_get_u32(&g, key, &n_head_kv) || !n_head_kv) n_head_kv = n_head;
    p.n_gqa = n_head_kv ? (int)(n_head / n_head_kv) : 1;

    order = malloc((g.n_tensors ? g.n_tensors : 1) * sizeof *order);
    types = malloc((g.n_tensors ? g.n_tensors : 1) * sizeof *types);
    notes = calloc(g.n_tensors ? g.n_tensors : 1, sizeof *notes);
    w = gguf_writer_new();
    if (!order || !types || !notes || !w) { die("out of memory"); goto out; }
    for (uint64_t i = 0; i < g.n_tensors; i++) order[i] = (sortent){layer_of(&g.tensors[i].name), i, &g.tensors[i]};
    qsort(order, g.n_tensors, sizeof *order, cmp_tensor);

    plm_status st = gguf_writer_copy_kvs(w, &g);
    /* As llama-quantize: the two keys are (re)set at the end of the list. */
    gguf_writer_remove(w, "general.quantization_version");
    gguf_writer_remove(w, "general.file_type");
    if (!st) st = gguf_writer_set_u32(w, "general.quantization_version", GGML_QNT_VERSION);
    if (!st) st = gguf_writer_set_u32(w, "general.file_type", (uint32_t)p.ftype);
    if (st) { die("%s", gguf_writer_errmsg(w)); goto out; }

    int n_fallback = 0, n_requant = 0;
    uint64_t max_src_row = 0, max_dst_row = 0, max_ne0 = 0;
    for (uint64_t k = 0; k < g.n_tensors; k++) {
        const gguf_tensor *t = &g.tensors[order[k].idx];
        char nm[80];
        snprintf(nm, sizeof nm, "%.*s", (int)t->name.n, t->name.s);
        uint32_t nt = choose_type(&p, t, nm, notes[order[k].idx], sizeof notes[0]);
        types[order[k].idx] = nt;
        n_fallback += notes[order[k].idx][0] != 0;
        if (nt != t->type) {
            if (!can_dequantize(t->type)) {
                die("%s: cannot convert tensor '%s' from %s (pocketlm cannot dequantize it)", pos[0], nm,
                    gguf_type_name(t->type));
                goto out;
            }
            if (is_quantized(t->type)) n_requant++;
            uint64_t sr = plm_row_size((int)t->type, (int64_t)t->ne[0]), dr = plm_row_size((int)nt, (int64_t)t->ne[0]);
            if (sr > max_src_row) max_src_row = sr;
            if (dr > max_dst_row) max_dst_row = dr;
            if (t->ne[0] > max_ne0) max_ne0 = t->ne[0];
        }
        if ((st = gguf_writer_add_tensor(w, nm, nt, t->n_dims, t->ne, NULL, nt == t->type ? t->size : 0))) {
            die("%s", gguf_writer_errmsg(w));
            goto out;
        }
    }
    if (n_requant)
        fprintf(stderr, "quantize: note: requantizing %d already-quantized tensor(s): quality is lower than "
                "quantizing from the F32/F16 original\n", n_requant);

    /* Buffers: a chunk of up to ~8 MiB of source rows (at least one row), the matching output, a float row per
     * thread. Copies go through the same source buffer. */
    const size_t chunk = 8u << 20;
    const uint64_t src_cap = max_src_row > chunk ? max_src_row : chunk;
    const uint64_t rows_cap = max_src_row ? src_cap / max_src_row : 0;
    src = malloc((size_t)src_cap);
    dst = malloc(max_dst_row ? (size_t)(max_dst_row * (rows_cap ? rows_cap : 1)) : 1);
    wk = calloc((size_t)nth, sizeof *wk);
    if (!src || !dst || !wk) { die("out of memory"); goto out; }
    for (long i = 0; i < nth; i++)
        if (!(wk[i].row = malloc((size_t)(max_ne0 ? max_ne0 : 1) * sizeof(float)))) { die("out of memory"); goto out; }

    out = fopen(pos[1], "wb");
    if (!out) { die("cannot create %s: %s", pos[1], strerror(errno)); goto out; }
    if ((st = gguf_writer_write_header(w, out))) { die("%s", gguf_writer_errmsg(w)); goto out; }

    uint64_t bytes_in = 0, bytes_out = 0;
    for (uint64_t k = 0; k < g.n_tensors; k++) {
        const gguf_tensor *t = &g.tensors[order[k].idx];
        const uint32_t nt = types[order[k].idx];
        if (fseeko(in, (off_t)(g.data_offset + t->offset), SEEK_SET) != 0) { die("seek failed in %s", pos[0]); goto out; }
        uint64_t out_size = t->size;
        if (nt == t->type) {
            for (uint64_t done = 0; done < t->size;) {
                size_t n = t->size - done < src_cap ? (size_t)(t->size - done) : (size_t)src_cap;
                if (fread(src, 1, n, in) != n) { die("%s ended early", pos[0]); goto out; }
                if ((st = gguf_writer_write_data(w, out, src, n))) { die("%s", gguf_writer_errmsg(w)); goto out; }
                done += n;
            }
        } else {
            job j = {t->type, nt, (int64_t)t->ne[0], 0, plm_row_size((int)t->type, (int64_t)t->ne[0]),
                     plm_row_size((int)nt, (int64_t)t->ne[0]), src, dst, 1};
            const uint64_t nrows = t->size / j.src_row;
            out_size = nrows * j.dst_row;
            for (uint64_t r = 0; r < nrows;) {
                j.nrows = (int64_t)(nrows - r < rows_cap ? nrows - r : rows_cap);
                /* Threads only pay off on big chunks. */
                j.nth = j.nrows * j.ne0 >= 65536 ? (int)nth : 1;
                if (fread(src, j.src_row, (size_t)j.nrows, in) != (size_t)j.nrows) { die("%s ended early", pos[0]); goto out; }
                run_job(&j, wk);
                if ((st = gguf_writer_write_data(w, out, dst, (size_t)j.nrows * j.dst_row))) {
                    die("%s", gguf_writer_errmsg(w));
                    goto out;
                }
                r += (uint64_t)j.nrows;
            }
        }
        bytes_in += t->size;
        bytes_out += out_size;
        char shape[96];
        int o = 0;
        for (uint32_t d = 0; d < t->n_dims; d++)
            o += snprintf(shape + o, sizeof shape - (size_t)o, "%s%llu", d ? " x " : "", (unsigned long long)t->ne[d]);
        const char *note = notes[order[k].idx];
        fprintf(stderr, "[%4llu/%4llu] %-32.*s [%s] %s -> %s%s%s%s\n", (unsigned long long)k + 1,
                (unsigned long long)g.n_tensors, (int)t->name.n, t->name.s, shape, gguf_type_name(t->type),
                gguf_type_name(nt), note[0] ? " (" : "", note, note[0] ? ")" : "");
    }
    if ((st = gguf_writer_finish(w, out))) { die("%s", gguf_writer_errmsg(w)); goto out; }
    {
        int closed = fclose(out);
        out = NULL;
        if (closed != 0) {
            die("writing %s failed: %s", pos[1], strerror(errno));
            remove(pos[1]);
            goto out;
        }
    }
    fprintf(stderr, "quantize: %s -> %s (%s): tensor data %.2f MiB -> %.2f MiB, file %llu bytes\n", pos[0], pos[1], ty,
            bytes_in / 1048576.0, bytes_out / 1048576.0, (unsigned long long)gguf_writer_file_size(w));
    if (n_fallback)
        fprintf(stderr, "quantize: %d of %llu tensor(s) needed a fallback type (marked above)\n", n_fallback,
                (unsigned long long)g.n_tensors);
    rc = 0;
out:
    if (out) { /* failed while writing: leave no half file behind */
        fclose(out);
        remove(pos[1]);
    }
    if (wk)
        for (long i = 0; i < nth; i++) free(wk[i].row);
    free(wk);
    free(src);
    free(dst);
    free(order);
    free(types);
    free(notes);
    gguf_writer_free(w);
    gguf_free(&g);
    free(hdr);
    fclose(in);
    return rc;
}
