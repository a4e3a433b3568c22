/* gen-bench-model: writes a random-weight llama (or qwen2) GGUF of a real model's shape, for benchmarks and conformance tests.
 *
 *   gen-bench-model --shape SHAPE --type TYPE -o OUT.gguf   (SHAPE: a name in shapes[] below; --help lists them)
 *                   [--tied] [--rope-orig-ctx N] [--seed N] [--threads N] [--vocab VOCAB.gguf] [--n-vocab N]
 *                   [--header-only]
 *   TYPE: F32 F16 BF16 Q8_0 Q6_K Q5_K Q5_1 Q5_0 Q4_K Q4_1 Q4_0 IQ4_XS IQ4_NL Q3_K Q2_K
 *
 * Random weights cost exactly what real ones do, so these files measure speed without shipping a model.
 * Shapes: 110M = llama2.c stories110M (dim 768, 12 layers, 12 heads, ffn 2048); 1.1B = TinyLlama 1.1B (dim 2048,
 * 22 layers, 32 heads, 4 KV heads, ffn 5632); qwen2-0.5b = Qwen2/2.5-0.5B's layers (dim 896, 24 layers, 14 heads,
 * 2 KV heads, ffn 4864, q/k/v biases, RoPE base 1e6) but this vocabulary, not Qwen's 151936 tokens, and an
 * untied output: 0.42 B parameters, 234 MB in Q4_0, beyond any cache; tiny = dim 256, 2 layers, 4 heads, 2 KV heads, ffn 768 (for tests).
 * All use the 32000-token SentencePiece vocabulary, whose metadata is copied from ggml-vocab-llama-spm.gguf
 * (default models/vocab/ggml-vocab-llama-spm.gguf, looked up from the working directory, then next to the binary's
 * ../../), so tokenization and the output layer have their real cost.
 *
 * Every weight matrix (including token_embd and output) gets --type ("pure": no llama.cpp mixture rules, so a
 * benchmark measures one kernel); norms are F32 ones. Weights are approximately N(0, 0.02) (an Irwin-Hall sum of
 * four uniforms), which keeps activations finite through RMSNorm-ed layers. Each row's numbers come from its own
 * generator seeded by (seed, tensor, row), so the file depends only on the seed, not on the thread count.
 * Tensors are generated, quantized (plm_quantize_weights) and written a chunk of rows at a time: memory stays at a
 * few MiB whatever the model size. The output matrix is its own tensor unless --tied.
 *
 * llama3-tiny is a conformance-test model in Llama 3.2's layout, small enough for git (under 1 MB in Q8_0):
 * dim 128, 2 layers, 2 heads of 64, 1 KV head, ffn 256, RoPE base 500000 and the RoPE frequency factors Llama 3's
 * converter writes (rope_freqs.weight; rope_scaling "llama3": factor 32, low/high frequency factors 1 and 4, original
 * context --rope-orig-ctx, default 8192 as in Llama 3.2), with the first 2048 tokens of the vocabulary. Its weights
 * are larger than N(0, 0.02) so that llama.cpp's greedy choices are not near-ties (the same tokens whatever its
 * thread count and batch size), every 32-weight block gets its own scale (x 2^u, u uniform in [-1, 1)) so that a
 * kernel reading the wrong block's scale fails, and norms are 1 + N(0, 0.2) rather than ones. qwen2-tiny is the
 * same in the qwen2 architecture (Qwen2/2.5's layout): q/k/v biases ~ N(0, 0.5), NEOX RoPE with base 1000000, no
 * frequency factors (the vocabulary stays the SentencePiece one: these files test the forward pass, not Qwen's BPE).
 * llama3-tiny-k is llama3-tiny with rows of 256 (dim 256, 4 heads of 64, 2 KV heads, ffn 256) and the first 1024
 * tokens, for the 256-value block types (K-quants, IQ4_XS) and the mixes tools/quantize makes from it.
 * --n-vocab N keeps the first N tokens instead (a BF16 file under 1 MB).
 * qwen3-tiny: Qwen3's layout (no biases, per-head q/k RMSNorm weights attn_q_norm/attn_k_norm, heads of 96 wider
 * than dim/heads as in Qwen3-0.6B, written as attention.key_length). gemma3-tiny: Gemma 3's layout, dim 64, 6 layers
 * (layers 0-4 slide over an 8-position window, layer 5 is global: llama.cpp's pattern), 2 heads of 64, q/k norms,
 * post-attention and post-FFN norms, GELU FFN of 192; the same random scales and vocabulary.
 * phi3-tiny: Phi-3/3.5-mini's layout (llama.cpp's phi3): q, k and v fused in blk.N.attn_qkv, gate and up fused in
 * blk.N.ffn_up (gate rows first), NEOX RoPE with LongRoPE factors (rope_factors_short/long.weight, head/2 each) and
 * the attention factor its converter writes, sqrt(1 + ln(ctx/orig)/ln(orig)); dim 128, 2 layers, 2 heads of 64 (no
 * GQA), ffn 256, context 131072 over an original 4096 (--rope-orig-ctx), so llama.cpp runs the short factors at
 * any context up to 4096. phi3-tiny-long: Phi-4-mini's (GQA, 1 KV head, partial rotary: 48 of each head's 64
 * dimensions), context 2048 over an original 64, so every context takes the long factors. The long factors differ
 * from the short ones in every pair (a file run with the wrong ones gives other tokens).
 * gemma3-tiny-cap is gemma3-tiny with final_logit_softcapping 5 (small enough to bend the largest logits).
 * gemma2-tiny: Gemma 2's layout, dim 64, 4 layers (0 and 2 slide over 8 positions, 1 and 3 are global), 2 heads of
 * 64, no q/k norms, post norms, attention scores capped at 8 and logits at 5 (Gemma 2 ships 50 and 30, which random
 * weights never reach), RoPE base 10000.
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "gguf.h"
#include "gguf_write.h"
#include "simd.h"

static int die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "gen-bench-model: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

typedef struct shape {
    const char *name, *arch;
    int dim, n_layer, n_head, n_head_kv, n_ff, n_ctx;
    int n_vocab;          /* 0: the whole vocabulary, else its first n_vocab tokens */
    float rope_base;
    int llama3_rope;      /* write rope_freqs.weight */
    float s_embd, s_qk, s_vo, s_ffn, s_out, s_norm; /* weight sigmas; norms are 1 + N(0, s_norm) */
    int vary_blocks;      /* a random scale per 32-weight block */
    float s_bias;         /* > 0: q/k/v biases ~ N(0, s_bias) (qwen2) */
    int head_dim;         /* > 0: attention.key_length/value_length (heads wider than dim/n_head), else dim/n_head */
    int qk_norm;          /* per-head q and k norms (qwen3, gemma3) */
    int post_norms;       /* norms after attention and after the FFN (gemma3) */
    int n_swa;            /* > 0: attention.sliding_window (gemma2, gemma3) */
} shape;

static const shape shapes[] = {
    {"110M", "llama", 768, 12, 12, 12, 2048, 2048, 0, 10000.0f, 0, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0, 0, 0, 0, 0, 0, 0},
    {"1.1B", "llama", 2048, 22, 32, 4, 5632, 2048, 0, 10000.0f, 0, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0, 0, 0, 0, 0, 0, 0},
    {"tiny", "llama", 256, 2, 4, 2, 768, 512, 0, 10000.0f, 0, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0, 0, 0, 0, 0, 0, 0},
    {"llama3-tiny", "llama", 128, 2, 2, 1, 256, 2048, 2048, 500000.0f, 1, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0, 0, 0, 0, 0},
    {"qwen2-tiny", "qwen2", 128, 2, 2, 1, 256, 2048, 2048, 1000000.0f, 0, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1,
     0.5f, 0, 0, 0, 0},
    {"llama3-tiny-k", "llama", 256, 2, 4, 2, 256, 2048, 1024, 500000.0f, 1, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0,
     0, 0, 0, 0},
    {"qwen3-tiny", "qwen3", 128, 2, 2, 1, 256, 2048, 2048, 1000000.0f, 0, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0,
     96, 1, 0, 0},
    {"gemma3-tiny", "gemma3", 64, 6, 2, 1, 192, 2048, 2048, 1000000.0f, 0, 0.05f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0,
     64, 1, 1, 8},
    {"phi3-tiny", "phi3", 128, 2, 2, 2, 256, 131072, 2048, 10000.0f, 0, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0, 0,
     0, 0, 0},
    {"phi3-tiny-long", "phi3", 128, 2, 2, 1, 256, 2048, 2048, 10000.0f, 0, 0.15f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0, 0,
     0, 0, 0},
    {"gemma2-tiny", "gemma2", 64, 4, 2, 1, 192, 2048, 2048, 10000.0f, 0, 0.05f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1, 0,
     64, 0, 1, 8},
    {"gemma3-tiny-cap", "gemma3", 64, 6, 2, 1, 192, 2048, 2048, 1000000.0f, 0, 0.05f, 0.15f, 0.08f, 0.08f, 0.3f, 0.2f, 1,
     0, 64, 1, 1, 8},
    {"qwen2-0.5b", "qwen2", 896, 24, 14, 2, 4864, 4096, 0, 1000000.0f, 0, 0.02f, 0.02f, 0.02f, 0.02f, 0.02f, 0, 0,
     0.02f, 0, 0, 0, 0},
};

/* What the phi3 shapes add (their arch gives the fused tensors, LongRoPE factors and attention factor): the
 * rotated dimensions of each head (rope.dimension_count; 0: all) and rope.scaling.original_context_length. */
static const struct { const char *name; int n_rot, orig_ctx; } phi3_shapes[] = {
    {"phi3-tiny", 0, 4096},
    {"phi3-tiny-long", 48, 64},
};

/* The soft-capping values written (attn_logit_softcapping, final_logit_softcapping; 0: the key is not written) */
static const struct { const char *shape; float attn, final; } softcaps[] = {
    {"gemma2-tiny", 8.0f, 5.0f},
    {"gemma3-tiny-cap", 0.0f, 5.0f},
};

static const struct { const char *name; uint32_t type, ftype; } types[] = {
    /* general.file_type: llama_ftype (Q4_K: "mostly Q4_K" is reported as Q4_K_M, Q6_K as Q6_K) */
    {"F32", PLM_T_F32, 0}, {"F16", PLM_T_F16, 1}, {"Q4_0", PLM_T_Q4_0, 2}, {"Q8_0", PLM_T_Q8_0, 7},
    {"Q4_K", PLM_T_Q4_K, 15}, {"Q6_K", PLM_T_Q6_K, 18}, {"Q4_1", PLM_T_Q4_1, 3}, {"Q5_0", PLM_T_Q5_0, 8},
    {"Q5_1", PLM_T_Q5_1, 9}, {"Q2_K", PLM_T_Q2_K, 10}, {"Q3_K", PLM_T_Q3_K, 12}, {"Q5_K", PLM_T_Q5_K, 17},
    {"IQ4_NL", PLM_T_IQ4_NL, 25}, {"IQ4_XS", PLM_T_IQ4_XS, 30}, {"BF16", PLM_T_BF16, 32},
};

/* ---------------------------------------------------------------- random numbers */
static uint64_t splitmix64(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

typedef struct rng { uint64_t s[4]; } rng; /* xoshiro256+ (Blackman & Vigna, public domain) */

static void rng_seed(rng *r, uint64_t seed, uint64_t tensor, uint64_t row) {
    uint64_t s = seed ^ (tensor * 0xD1B54A32D192ED03ull) ^ (row * 0x8CB92BA72F3D8DD7ull);
    for (int i = 0; i < 4; i++) r->s[i] = splitmix64(&s);
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static inline uint64_t rng_next(rng *r) {
    uint64_t *s = r->s;
    const uint64_t result = s[0] + s[3], t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* n values ~ N(0, sigma): the sum of four 16-bit uniforms has mean 2 and variance 1/3. */
static void fill_normal(rng *r, float *x, int64_t n, float sigma) {
    const float k = sigma * 1.7320508f / 65536.0f;
    for (int64_t i = 0; i < n; i++) {
        uint64_t b = rng_next(r);
        int64_t sum = (int64_t)(b & 0xFFFF) + (int64_t)((b >> 16) & 0xFFFF) + (int64_t)((b >> 32) & 0xFFFF) +
                      (int64_t)(b >> 48);
        x[i] = (float)(sum - 2 * 65536 + 2) * k; /* +2: centre of the 4 x [0, 65535] range */
    }
}

/* ---------------------------------------------------------------- parallel row generation */
typedef struct job {
    uint64_t seed, tensor, row0;
    int64_t ne0, nrows;
    uint32_t type;
    size_t row_bytes;
    float sigma;       /* 0: all ones (norms) */
    float norm_sigma;  /* norms (sigma 0): 1 + N(0, norm_sigma) */
    int vary;          /* scale each 32-weight block by 2^u, u uniform in [-1, 1) */
    uint8_t *dst;
    int nth;
} job;

typedef struct worker { const job *j; int ith; float *row; } worker;

static void *gen_rows(void *arg) {
    const worker *wk = arg;
    const job *j = wk->j;
    const int64_t per = (j->nrows + j->nth - 1) / j->nth;
    const int64_t r0 = per * wk->ith, r1 = r0 + per < j->nrows ? r0 + per : j->nrows;
    for (int64_t r = r0; r < r1; r++) {
        rng g;
        rng_seed(&g, j->seed, j->tensor, j->row0 + (uint64_t)r);
        if (j->sigma > 0) {
            fill_normal(&g, wk->row, j->ne0, j->sigma);
            for (int64_t b = 0; j->vary && b < j->ne0; b += 32) {
                const float s = exp2f((float)(rng_next(&g) >> 40) / (float)(1 << 23) - 1.0f);
                for (int64_t i = b; i < b + 32 && i < j->ne0; i++) wk->row[i] *= s;
            }
        } else if (j->norm_sigma > 0) {
            fill_normal(&g, wk->row, j->ne0, j->norm_sigma);
            for (int64_t i = 0; i < j->ne0; i++) wk->row[i] += 1.0f;
        } else {
            for (int64_t i = 0; i < j->ne0; i++) wk->row[i] = 1.0f;
        }
        plm_quantize_weights((int)j->type, wk->row, j->dst + (size_t)r * j->row_bytes, j->ne0);
    }
    return NULL;
}

static void run_job(const job *j, worker *wk) {
    pthread_t th[64];
    int started = 0;
    for (int i = 1; i < j->nth; i++) {
        wk[i].j = j;
        wk[i].ith = i;
        if (pthread_create(&th[i], NULL, gen_rows, &wk[i]) != 0) break;
        started = i;
    }
    wk[0].j = j;
    wk[0].ith = 0;
    gen_rows(&wk[0]);
    for (int i = started + 1; i < j->nth; i++) { /* threads that could not start */
        wk[i].j = j;
        wk[i].ith = i;
        gen_rows(&wk[i]);
    }
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
}

/* ---------------------------------------------------------------- vocabulary */
/* 0: parsed; 1: cannot open; 2: another error (printed). */
static int load_vocab(const char *path, uint8_t **buf, gguf_file *g) {
    FILE *f = fopen(path, "rb");
    if (!f) return 1;
    size_t cap = 1 << 20, have = 0;
    char err[256];
    *buf = NULL;
    for (;;) {
        uint8_t *p = realloc(*buf, cap);
        if (!p) { fclose(f); die("out of memory"); return 2; }
        *buf = p;
        have += fread(p + have, 1, cap - have, f);
        uint64_t need = 0;
        plm_status st = gguf_parse(g, p, have, &need, err, sizeof err);
        if (st == PLM_OK) break;
        if (need > have && have == cap && need < ((uint64_t)1 << 32)) {
            cap = need > (uint64_t)cap * 2 ? (size_t)need : cap * 2;
            continue;
        }
        fclose(f);
        die("%s: %s", path, err);
        return 2;
    }
    fclose(f);
    return 0;
}

static void usage(void) {
    fprintf(stderr, "usage: gen-bench-model --shape ");
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) fprintf(stderr, "%s%s", i ? "|" : "", shapes[i].name);
    fprintf(stderr, "\n"
            "                       --type TYPE\n"
            "                       -o OUT.gguf\n"
            "                       [--tied] [--rope-orig-ctx N] [--seed N] [--threads N] [--vocab VOCAB.gguf] [--n-vocab N]\n"
            "                       [--header-only]  (the header alone: a file that claims weights it lacks)\n"
            "  TYPE: F32 F16 BF16 Q8_0 Q6_K Q5_K Q5_1 Q5_0 Q4_K Q4_1 Q4_0 IQ4_XS IQ4_NL Q3_K Q2_K\n"
            "  random-weight llama GGUF of a real shape with the 32000-token llama SentencePiece vocabulary\n");
}

typedef struct planned {
    char name[64];
    uint32_t n_dims;
    uint64_t ne[2];
    float sigma;
    uint32_t type;
    const float *values; /* F32 contents given as is (rope_freqs), else generated */
} planned;

/* Llama 3's RoPE frequency factors, as its converter computes them for rope_scaling "llama3" (factor 32, low and
 * high frequency factors 1 and 4 in Llama 3.2): pairs whose wavelength is shorter than orig_ctx/4 keep factor 1,
 * those longer than orig_ctx get `factor`, and those between are interpolated smoothly. */
static void llama3_rope_factors(float *ff, int head_dim, float base, double orig_ctx) {
    const double factor = 32.0, low = 1.0, high = 4.0, pi = 3.14159265358979323846;
    for (int i = 0; i < head_dim / 2; i++) {
        const double freq = 1.0 / pow((double)base, 2.0 * i / head_dim), wavelen = 2 * pi / freq;
        if (wavelen < orig_ctx / high) ff[i] = 1.0f;
        else if (wavelen > orig_ctx / low) ff[i] = (float)factor;
        else {
            const double smooth = (orig_ctx / wavelen - low) / (high - low);
            ff[i] = (float)(1.0 / ((1 - smooth) / factor + smooth));
        }
    }
}

static uint64_t rd_le(const uint8_t *p, int n) {
    uint64_t v = 0;
    for (int i = n - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

/* Keeps the first n tokens of the copied vocabulary (tokens, scores, token types): a small test model's embedding
 * and output matrices shrink with it. Special ids must stay below n. */
static plm_status truncate_vocab(gguf_writer *w, const gguf_file *vg, uint64_t n) {
    const gguf_kv *tok = gguf_find(vg, "tokenizer.ggml.tokens");
    const char **s = calloc(n, sizeof *s);
    size_t *len = calloc(n, sizeof *len);
    void *num = malloc(n * 4);
    plm_status st = s && len && num ? PLM_OK : PLM_OUT_OF_MEMORY;
    const uint8_t *p = tok->arr_data; /* parsed and bounds-checked by gguf_parse */
    for (uint64_t i = 0; i < n && !st; i++) {
        len[i] = (size_t)rd_le(p, 8);
        s[i] = (const char *)p + 8;
        p += 8 + len[i];
    }
    if (!st) st = gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", s, len, n);
    const char *arrs[2] = {"tokenizer.ggml.scores", "tokenizer.ggml.token_type"};
    for (int a = 0; a < 2 && !st; a++) {
        const gguf_kv *kv = gguf_find(vg, arrs[a]);
        if (!kv) continue;
        if ((kv->arr_type != GGUF_F32 && kv->arr_type != GGUF_I32) || kv->arr_n < n) return PLM_BAD_MODEL;
        for (uint64_t i = 0; i < n; i++) {
            uint32_t v = (uint32_t)rd_le(kv->arr_data + 4 * i, 4);
            memcpy((uint8_t *)num + 4 * i, &v, 4);
        }
        st = gguf_writer_set_arr(w, arrs[a], kv->arr_type, num, n);
    }
    free(s);
    free(len);
    free(num);
    return st;
}

int main(int argc, char **argv) {
    const char *shape_name = NULL, *type_name = NULL, *out_path = NULL, *vocab_path = NULL;
    uint64_t seed = 42, orig_ctx = 0; /* 0: the shape's (phi3) or 8192 (llama3) */
    int tied = 0, header_only = 0;
    unsigned long long n_vocab_opt = 0;
    long nth = sysconf(_SC_NPROCESSORS_ONLN);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!strcmp(a, "--tied")) { tied = 1; continue; }
        if (!strcmp(a, "--header-only")) { header_only = 1; continue; } /* a file that claims weights it lacks */
        if (i + 1 >= argc) { usage(); return 1; }
        if (!strcmp(a, "--shape")) shape_name = argv[++i];
        else if (!strcmp(a, "--type")) type_name = argv[++i];
        else if (!strcmp(a, "-o")) out_path = argv[++i];
        else if (!strcmp(a, "--vocab")) vocab_path = argv[++i];
        else if (!strcmp(a, "--seed") || !strcmp(a, "--threads") || !strcmp(a, "--rope-orig-ctx") ||
                 !strcmp(a, "--n-vocab")) {
            char *end;
            errno = 0;
            unsigned long long v = strtoull(argv[++i], &end, 10);
            if (*end || errno || argv[i][0] == '-') { usage(); return 1; }
            if (!strcmp(a, "--seed")) seed = v;
            else if (!strcmp(a, "--rope-orig-ctx")) orig_ctx = v ? v : 1;
            else if (!strcmp(a, "--n-vocab")) n_vocab_opt = v;
            else nth = (long)(v > 64 ? 64 : v);
        } else { usage(); return 1; }
    }
    if (!shape_name || !type_name || !out_path) { usage(); return 1; }
    const shape *sh = NULL;
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        if (!strcmp(shapes[i].name, shape_name)) sh = &shapes[i];
    int ti = -1;
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
        if (!strcmp(types[i].name, type_name)) ti = (int)i;
    if (!sh) { die("unknown shape '%s' (see --help)", shape_name); return 1; }
    if (ti < 0) { die("unknown type '%s' (see --help)", type_name); return 1; }
    shape shv = *sh;
    if (n_vocab_opt) {
        if (n_vocab_opt < 16 || n_vocab_opt > (1u << 24)) { die("--n-vocab %llu: 16 to 2^24", n_vocab_opt); return 1; }
        shv.n_vocab = (int)n_vocab_opt;
    }
    sh = &shv;
    const int phi3 = !strcmp(sh->arch, "phi3");
    int n_rot = 0;
    for (size_t i = 0; phi3 && i < sizeof phi3_shapes / sizeof phi3_shapes[0]; i++)
        if (!strcmp(phi3_shapes[i].name, sh->name)) {
            n_rot = phi3_shapes[i].n_rot;
            if (!orig_ctx) orig_ctx = (uint64_t)phi3_shapes[i].orig_ctx;
        }
    if (!orig_ctx) orig_ctx = 8192;
    if (nth < 1) nth = 1;
    const uint32_t wtype = types[ti].type;

    /* Vocabulary: --vocab, else the repository copy relative to the working directory or to the binary. */
    uint8_t *vbuf = NULL;
    gguf_file vg;
    int vr = 1;
    char tried[2][1024];
    if (vocab_path) {
        vr = load_vocab(vocab_path, &vbuf, &vg);
        snprintf(tried[0], sizeof tried[0], "%s", vocab_path);
        tried[1][0] = 0;
    } else {
        snprintf(tried[0], sizeof tried[0], "models/vocab/ggml-vocab-llama-spm.gguf");
        const char *slash = strrchr(argv[0], '/');
        snprintf(tried[1], sizeof tried[1], "%.*s../../models/vocab/ggml-vocab-llama-spm.gguf",
                 slash ? (int)(slash - argv[0] + 1) : 0, argv[0]);
        for (int k = 0; k < 2 && vr == 1; k++) vr = load_vocab(tried[k], &vbuf, &vg);
    }
    if (vr) {
        if (vr == 1) die("cannot open the vocabulary (tried %s%s%s); pass --vocab", tried[0], tried[1][0] ? ", " : "",
                         tried[1]);
        free(vbuf);
        return 1;
    }
    const gguf_kv *tok = gguf_find(&vg, "tokenizer.ggml.tokens");
    if (!tok || tok->type != GGUF_ARRAY || tok->arr_type != GGUF_STRING || tok->arr_n == 0 || tok->arr_n > (1u << 24)) {
        gguf_free(&vg);
        free(vbuf);
        return die("the vocabulary file has no tokenizer.ggml.tokens");
    }
    const uint64_t n_vocab = sh->n_vocab && (uint64_t)sh->n_vocab < tok->arr_n ? (uint64_t)sh->n_vocab : tok->arr_n;

    /* Metadata: the vocabulary file's keys (tokenizer, special ids, ...), then this model's hyperparameters. */
    gguf_writer *w = gguf_writer_new();
    if (!w) return die("out of memory");
    char name[128];
    /* not "phi3" in the name: llama.cpp's vocabulary loader then looks up Phi-3's special tokens (<|endoftext|>),
     * which the SentencePiece vocabulary lacks, and refuses the file */
    snprintf(name, sizeof name, "pocketlm bench %s %s (random weights)",
             phi3 ? (n_rot ? "fused-longrope-partial-tiny" : "fused-longrope-tiny") : sh->name, types[ti].name);
    const int head = sh->head_dim ? sh->head_dim : sh->dim / sh->n_head;
    plm_status st = gguf_writer_copy_kvs(w, &vg);
    if (!st && n_vocab < tok->arr_n) st = truncate_vocab(w, &vg, n_vocab);
    for (uint64_t i = 0; i < vg.n_kv && strcmp(sh->arch, "llama"); i++) { /* the vocabulary file's llama.* keys */
        char k[256];
        const gguf_kv *kv = &vg.kv[i];
        if (kv->key.n < sizeof k && kv->key.n > 6 && !memcmp(kv->key.s, "llama.", 6)) {
            memcpy(k, kv->key.s, kv->key.n);
            k[kv->key.n] = 0;
            gguf_writer_remove(w, k);
        }
    }
    char key[96];
#define ARCH_KEY(suffix) (snprintf(key, sizeof key, "%s.%s", sh->arch, suffix), key)
    if (!st) st = gguf_writer_set_str(w, "general.architecture", sh->arch);
    if (!st) st = gguf_writer_set_str(w, "general.name", name);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("block_count"), (uint32_t)sh->n_layer);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("context_length"), (uint32_t)sh->n_ctx);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("embedding_length"), (uint32_t)sh->dim);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("feed_forward_length"), (uint32_t)sh->n_ff);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("attention.head_count"), (uint32_t)sh->n_head);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("attention.head_count_kv"), (uint32_t)sh->n_head_kv);
    if (!st) st = gguf_writer_set_f32(w, ARCH_KEY("attention.layer_norm_rms_epsilon"), 1e-5f);
    if (!n_rot) n_rot = head;
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("rope.dimension_count"), (uint32_t)n_rot);
    if (!st) st = gguf_writer_set_f32(w, ARCH_KEY("rope.freq_base"), sh->rope_base);
    if (!st) st = gguf_writer_set_u32(w, ARCH_KEY("vocab_size"), (uint32_t)n_vocab);
    if (!st && sh->head_dim) st = gguf_writer_set_u32(w, ARCH_KEY("attention.key_length"), (uint32_t)head);
    if (!st && sh->head_dim) st = gguf_writer_set_u32(w, ARCH_KEY("attention.value_length"), (uint32_t)head);
    if (!st && sh->n_swa) st = gguf_writer_set_u32(w, ARCH_KEY("attention.sliding_window"), (uint32_t)sh->n_swa);
    if (!st && phi3) st = gguf_writer_set_u32(w, ARCH_KEY("rope.scaling.original_context_length"), (uint32_t)orig_ctx);
    if (!st && phi3) { /* the converter's LongRoPE attention factor (1 when the context is not extended) */
        const double scale = (double)sh->n_ctx / (double)orig_ctx;
        const float af = scale > 1.0 ? (float)sqrt(1.0 + log(scale) / log((double)orig_ctx)) : 1.0f;
        st = gguf_writer_set_f32(w, ARCH_KEY("rope.scaling.attn_factor"), af);
    }
    for (size_t i = 0; !st && i < sizeof softcaps / sizeof softcaps[0]; i++) {
        if (strcmp(softcaps[i].shape, sh->name)) continue;
        if (softcaps[i].attn > 0) st = gguf_writer_set_f32(w, ARCH_KEY("attn_logit_softcapping"), softcaps[i].attn);
        if (!st && softcaps[i].final > 0)
            st = gguf_writer_set_f32(w, ARCH_KEY("final_logit_softcapping"), softcaps[i].final);
    }
#undef ARCH_KEY
    if (!st) st = gguf_writer_set_u32(w, "general.file_type", types[ti].ftype);
    if (!st) st = gguf_writer_set_u32(w, "general.quantization_version", 2);
    gguf_free(&vg);
    free(vbuf);

    /* Tensors, in the order Hugging Face conversions use (Llama 3's converter yields rope_freqs first). */
    const int n_planned = 6 + 16 * sh->n_layer;
    planned *p = calloc((size_t)n_planned, sizeof *p);
    float rope_ff[256], ff_long[256], ff_short[256];
    int np = 0;
    const uint64_t D = (uint64_t)sh->dim, F = (uint64_t)sh->n_ff, KV = (uint64_t)(head * sh->n_head_kv);
    const uint64_t Q = (uint64_t)(head * sh->n_head);
#define ADD(nm, nd, c, r, sg, ty) \
    (snprintf(p[np].name, 64, "%s", nm), p[np].n_dims = (nd), p[np].ne[0] = (c), p[np].ne[1] = (r), \
     p[np].sigma = (sg), p[np].type = (ty), np++)
    if (!p) st = PLM_OUT_OF_MEMORY;
    if (!st) {
        if (sh->llama3_rope) {
            llama3_rope_factors(rope_ff, head, sh->rope_base, (double)orig_ctx);
            ADD("rope_freqs.weight", 1, (uint64_t)head / 2, 1, 0.0f, PLM_T_F32);
            p[np - 1].values = rope_ff;
        }
        if (phi3) { /* LongRoPE: short factors near 1, long ones 2..32 rising with the wavelength, as in Phi-3.5 */
            const int n = n_rot / 2;
            for (int i = 0; i < n; i++) {
                const double u = n > 1 ? (double)i / (n - 1) : 0.0;
                ff_short[i] = (float)(1.0 + 0.25 * u);
                ff_long[i] = (float)pow(2.0, 1.0 + 4.0 * u);
            }
            ADD("rope_factors_long.weight", 1, (uint64_t)n, 1, 0.0f, PLM_T_F32);
            p[np - 1].values = ff_long;
            ADD("rope_factors_short.weight", 1, (uint64_t)n, 1, 0.0f, PLM_T_F32);
            p[np - 1].values = ff_short;
        }
        ADD("token_embd.weight", 2, D, n_vocab, sh->s_embd, wtype);
        for (int i = 0; i < sh->n_layer; i++) {
            char nm[64];
#define BLK(suffix) (snprintf(nm, sizeof nm, "blk.%d.%s", i, suffix), nm)
            if (phi3) { /* fused: q, k, v rows in one matrix; gate rows then up rows in ffn_up */
                ADD(BLK("attn_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
                ADD(BLK("attn_qkv.weight"), 2, D, Q + 2 * KV, sh->s_qk, wtype);
                ADD(BLK("attn_output.weight"), 2, Q, D, sh->s_vo, wtype);
                ADD(BLK("ffn_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
                ADD(BLK("ffn_up.weight"), 2, D, 2 * F, sh->s_ffn, wtype);
                ADD(BLK("ffn_down.weight"), 2, F, D, sh->s_ffn, wtype);
                continue;
            }
            ADD(BLK("attn_q.weight"), 2, D, Q, sh->s_qk, wtype);
            if (sh->s_bias > 0) ADD(BLK("attn_q.bias"), 1, Q, 1, sh->s_bias, PLM_T_F32);
            ADD(BLK("attn_k.weight"), 2, D, KV, sh->s_qk, wtype);
            if (sh->s_bias > 0) ADD(BLK("attn_k.bias"), 1, KV, 1, sh->s_bias, PLM_T_F32);
            ADD(BLK("attn_v.weight"), 2, D, KV, sh->s_vo, wtype);
            if (sh->s_bias > 0) ADD(BLK("attn_v.bias"), 1, KV, 1, sh->s_bias, PLM_T_F32);
            if (sh->qk_norm) ADD(BLK("attn_q_norm.weight"), 1, (uint64_t)head, 1, 0.0f, PLM_T_F32);
            if (sh->qk_norm) ADD(BLK("attn_k_norm.weight"), 1, (uint64_t)head, 1, 0.0f, PLM_T_F32);
            ADD(BLK("attn_output.weight"), 2, Q, D, sh->s_vo, wtype);
            ADD(BLK("ffn_gate.weight"), 2, D, F, sh->s_ffn, wtype);
            ADD(BLK("ffn_up.weight"), 2, D, F, sh->s_ffn, wtype);
            ADD(BLK("ffn_down.weight"), 2, F, D, sh->s_ffn, wtype);
            ADD(BLK("attn_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
            ADD(BLK("ffn_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
            if (sh->post_norms) ADD(BLK("post_attention_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
            if (sh->post_norms) ADD(BLK("post_ffw_norm.weight"), 1, D, 1, 0.0f, PLM_T_F32);
#undef BLK
        }
        ADD("output_norm.weight", 1, D, 1, 0.0f, PLM_T_F32);
        if (!tied) ADD("output.weight", 2, D, n_vocab, sh->s_out, wtype);
    }
#undef ADD
    size_t max_row = 0;
    for (int i = 0; i < np && !st; i++) {
        st = gguf_writer_add_tensor(w, p[i].name, p[i].type, p[i].n_dims, p[i].ne, NULL, 0);
        size_t rb = plm_row_size((int)p[i].type, (int64_t)p[i].ne[0]);
        if (rb > max_row) max_row = rb;
    }
    if (st) {
        die("%s", st == PLM_OUT_OF_MEMORY ? "out of memory" : gguf_writer_errmsg(w));
        free(p);
        gguf_writer_free(w);
        return 1;
    }

    /* Chunks of about 4 MiB of output rows; one float row per thread. */
    const size_t chunk = (size_t)4 << 20;
    uint8_t *dst = malloc(chunk > max_row ? chunk : max_row);
    worker *wk = calloc((size_t)nth, sizeof *wk);
    int rc = dst && wk ? 0 : die("out of memory");
    for (long i = 0; i < nth && !rc; i++)
        if (!(wk[i].row = malloc(sizeof(float) * (size_t)(D > F ? (D > Q ? D : Q) : (F > Q ? F : Q))))) rc = die("out of memory");

    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    FILE *out = rc ? NULL : fopen(out_path, "wb");
    if (!rc && !out) rc = die("cannot create %s: %s", out_path, strerror(errno));
    if (!rc && (st = gguf_writer_write_header(w, out))) rc = die("%s", gguf_writer_errmsg(w));
    for (int i = 0; i < np && !rc && !header_only; i++) {
        if (p[i].values) { /* small F32 tensors given whole: little-endian floats */
            for (uint64_t k = 0; k < p[i].ne[0] && !rc; k++) {
                uint32_t v;
                uint8_t b[4];
                memcpy(&v, &p[i].values[k], 4);
                for (int q = 0; q < 4; q++) b[q] = (uint8_t)(v >> (8 * q));
                if ((st = gguf_writer_write_data(w, out, b, 4))) rc = die("%s", gguf_writer_errmsg(w));
            }
            continue;
        }
        job j = {seed, (uint64_t)i, 0, (int64_t)p[i].ne[0], 0, p[i].type,
                 plm_row_size((int)p[i].type, (int64_t)p[i].ne[0]), p[i].sigma, sh->s_norm, sh->vary_blocks, dst, 1};
        const uint64_t rows = p[i].ne[1];
        const uint64_t rows_per_chunk = chunk / j.row_bytes ? chunk / j.row_bytes : 1;
        for (uint64_t r = 0; r < rows && !rc; r += (uint64_t)j.nrows) {
            j.row0 = r;
            j.nrows = (int64_t)(rows - r < rows_per_chunk ? rows - r : rows_per_chunk);
            j.nth = j.nrows * j.ne0 >= 65536 ? (int)nth : 1;
            run_job(&j, wk);
            if ((st = gguf_writer_write_data(w, out, dst, (size_t)j.nrows * j.row_bytes)))
                rc = die("%s", gguf_writer_errmsg(w));
        }
    }
    if (!rc && !header_only && (st = gguf_writer_finish(w, out))) rc = die("%s", gguf_writer_errmsg(w));
    if (out && fclose(out) != 0 && !rc) rc = die("writing %s failed: %s", out_path, strerror(errno));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (rc) {
        if (out) remove(out_path);
    } else {
        const double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
        fprintf(stderr, "gen-bench-model: %s: %s %s, dim %d, %d layers, %d heads (%d kv), ffn %d, vocab %llu, "
                "%d tensors, %.1f MiB, written in %.2f s (%ld threads)\n", out_path, sh->name, types[ti].name,
                sh->dim, sh->n_layer, sh->n_head, sh->n_head_kv, sh->n_ff, (unsigned long long)n_vocab, np,
                (double)gguf_writer_file_size(w) / 1048576.0, secs, nth);
    }
    if (wk)
        for (long i = 0; i < nth; i++) free(wk[i].row);
    free(wk);
    free(dst);
    free(p);
    gguf_writer_free(w);
    return rc;
}
