/* A session: KV cache, scratch buffers and the forward pass of a llama-family decoder (llama, qwen2, qwen3, gemma2,
 * gemma3, phi3) over a batch of tokens.
 * Numerics follow llama.cpp's CPU graph so greedy output matches it: activations are converted to the weight
 * type's vec_dot type before every matrix product, queries are rounded to f16 against an f16 KV cache, and
 * attention weights are rounded to f16 before they scale f16 values. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "threads.h"

struct plm_session {
    const plm_model *m;
    const plm_kernels *k;
    plm_pool *pool;
    int n_ctx, n_batch, n_past, kv_f32;
    size_t kv_elt;        /* bytes per cached element */
    uint8_t *kcache, *vcache; /* [layer][n_ctx][kv_dim] */
    const float *rope_ff; /* RoPE frequency factors for this context (rope_factors), NULL for none */
    /* scratch, n_batch rows each */
    float *x, *xb, *q, *kk, *vv, *att, *hb, *hb2, *logits;
    uint8_t *actq;        /* quantized activation rows */
    size_t actq_row;      /* bytes reserved per activation row */
    plm_abort_fn abort_fn;
    void *abort_user;
    plm_status status;    /* non-zero only in a session that failed to be made (it carries err) */
    char err[256];
};

void plm_session_default_params(plm_session_params *p) {
    memset(p, 0, sizeof *p);
    p->n_batch = 64;
    p->n_threads = 1;
}

const char *plm_session_errmsg(const plm_session *s) { return s ? s->err : "out of memory"; }
int plm_session_n_past(const plm_session *s) { return s->n_past; }
int plm_session_n_ctx(const plm_session *s) { return s->n_ctx; }
const float *plm_session_logits(const plm_session *s) { return s->logits; }

void plm_session_set_abort(plm_session *s, plm_abort_fn fn, void *user) {
    s->abort_fn = fn;
    s->abort_user = user;
}

void plm_session_truncate(plm_session *s, int n_keep) {
    if (n_keep < 0) n_keep = 0;
    if (n_keep < s->n_past) s->n_past = n_keep; /* later positions are simply overwritten */
}

void plm_session_free(plm_session *s) {
    if (!s) return;
    plm_pool_free(s->pool);
    free(s->kcache);
    free(s->vcache);
    free(s->x);
    free(s->actq);
    free(s);
}

/* Makes *out a session that only carries the error (pocketlm.h: one shape for constructors). */
static plm_status fail_new(plm_session **out, plm_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static plm_status fail_new(plm_session **out, plm_status st, const char *fmt, ...) {
    plm_session *s = calloc(1, sizeof *s);
    if (s) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(s->err, sizeof s->err, fmt, ap);
        va_end(ap);
        s->status = st;
    }
    *out = s;
    return st;
}

/* Every buffer plm_session_new allocates, by size: plm_model_memory reports these same figures, so an estimate
 * cannot drift from the allocation. A buffer added to the session belongs here. */
void plm_session_size(const plm_hparams *hp, const plm_session_params *p, plm_session_sizes *z) {
    memset(z, 0, sizeof *z);
    z->n_ctx = p->n_ctx > 0 ? p->n_ctx : (hp->n_ctx_train < 4096 ? hp->n_ctx_train : 4096);
    z->n_batch = p->n_batch > 0 ? p->n_batch : 64;
    if (z->n_batch > z->n_ctx) z->n_batch = z->n_ctx;
    z->kv_elt = p->kv_f32 ? 4 : 2;
    uint64_t E = (uint64_t)hp->n_embd, F = (uint64_t)hp->n_ff, B = (uint64_t)z->n_batch;
    uint64_t Q = (uint64_t)hp->head_dim * hp->n_head, KV = (uint64_t)hp->head_dim * hp->n_head_kv;
    z->kv_bytes = (uint64_t)hp->n_layer * (uint64_t)z->n_ctx * KV * z->kv_elt;
    /* x, xb, q, att, kk, vv, hb, hb2: n_batch rows each; logits: one row */
    z->scratch_bytes = (B * (2 * E + 2 * Q + 2 * KV + 2 * F) + (uint64_t)hp->n_vocab) * sizeof(float);
    /* Activation rows are converted to at most f32-sized elements (F32 weights) for the widest input. */
    z->actq_row = (E > F ? (E > Q ? E : Q) : (F > Q ? F : Q)) * sizeof(float);
    z->actq_bytes = B * z->actq_row;
}

/* llama.cpp's choice (llama_model::get_rope_factors): Llama 3's rope_freqs, else phi3's LongRoPE long factors when
 * the context, rounded up to a multiple of 256 as llama.cpp rounds it, exceeds the original training context, else
 * the short ones (either may be absent). */
static const float *rope_factors(const plm_model *m, int n_ctx) {
    if (m->rope_freqs.data) return (const float *)(const void *)m->rope_freqs.data;
    const int64_t padded = ((int64_t)n_ctx + 255) / 256 * 256;
    const plm_tensor *t = padded > m->hp.n_ctx_orig ? &m->rope_long : &m->rope_short;
    return (const float *)(const void *)t->data;
}

plm_status plm_session_new(const plm_model *m, const plm_session_params *pp, plm_session **out) {
    *out = NULL;
    plm_session_params p;
    if (pp) p = *pp; else plm_session_default_params(&p);
    if (!m) return fail_new(out, PLM_BAD_ARG, "no model");
    if (m->err[0]) return fail_new(out, PLM_BAD_ARG, "the model failed to load: %s", m->err);
    if (!m->layers)
        return fail_new(out, PLM_BAD_ARG, "this GGUF holds only a vocabulary: it can tokenize but not generate");
    if (p.n_ctx < 0 || p.n_ctx > (1 << 24)) return fail_new(out, PLM_BAD_ARG, "context size %d is out of range", p.n_ctx);
    if (p.n_batch < 0) return fail_new(out, PLM_BAD_ARG, "batch size %d is out of range", p.n_batch);
    if (p.n_threads < 0 || p.n_threads > 256) return fail_new(out, PLM_BAD_ARG, "thread count %d is out of range", p.n_threads);
    const plm_hparams *hp = &m->hp;
    plm_session_sizes z;
    plm_session_size(hp, &p, &z);
    plm_session *s = calloc(1, sizeof *s);
    if (!s) return PLM_OUT_OF_MEMORY;
    s->m = m;
    s->k = m->kern;
    s->n_ctx = z.n_ctx;
    s->n_batch = z.n_batch;
    s->kv_f32 = p.kv_f32;
    s->kv_elt = (size_t)z.kv_elt;
    s->rope_ff = rope_factors(m, s->n_ctx);
    int E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim, B = s->n_batch;
    int Q = hd * hp->n_head, KV = hd * hp->n_head_kv;
    s->pool = plm_pool_new(p.n_threads > 0 ? p.n_threads : 1);
    if (z.kv_bytes < SIZE_MAX / 4) {
        s->kcache = malloc((size_t)z.kv_bytes);
        s->vcache = malloc((size_t)z.kv_bytes);
    }
    if (z.scratch_bytes < SIZE_MAX / 4) s->x = malloc((size_t)z.scratch_bytes);
    s->actq_row = (size_t)z.actq_row;
    if (z.actq_bytes < SIZE_MAX / 4) s->actq = malloc((size_t)z.actq_bytes);
    if (!s->pool || !s->kcache || !s->vcache || !s->x || !s->actq) {
        int n_ctx = s->n_ctx;
        plm_session_free(s);
        return fail_new(out, PLM_OUT_OF_MEMORY, "out of memory: a %d-token context needs %.1f MiB of KV cache and "
                        "%.1f MiB of scratch", n_ctx, 2 * (double)z.kv_bytes / 1048576.0,
                        (double)(z.scratch_bytes + z.actq_bytes) / 1048576.0);
    }
    float *f = s->x;
    s->xb = f += (size_t)B * E;
    s->q = f += (size_t)B * E;
    s->att = f += (size_t)B * Q;
    s->kk = f += (size_t)B * Q;
    s->vv = f += (size_t)B * KV;
    s->hb = f += (size_t)B * KV;
    s->hb2 = f += (size_t)B * F;
    s->logits = f += (size_t)B * F;
    *out = s;
    return PLM_OK;
}

/* ---- matrix products, rows split across the pool ----
 * Decode runs one pool round per product, and each round costs a hand-off both ways plus the time one thread waits
 * for the other. Products of the same input (q, k, v; gate, up) therefore run as one round: the input is converted
 * once and the rows of all of them are dealt out together. */

typedef struct mm_part {
    const plm_tensor *w;
    float *out;
    int ldo;
} mm_part;

typedef struct mm_job {
    const plm_kernels *k;
    const uint8_t *a;     /* the input rows, converted to the parts' activation type */
    size_t a_stride;
    int nb, np, align;    /* input rows, parts, rows per unit of work */
    mm_part p[3];
    /* glu: p[0] and p[1] are gate and up with as many rows: each thread makes the same rows of both, then
     * g = glu(g) * u over them (g is p[0].out); align is then a multiple of 64, so every piece starts where a
     * kernel's vector loop would and the result is that of one call over the whole row */
    void (*glu)(float *g, const float *u, int n);
} mm_job;

static int64_t ceil_units(int64_t w, int64_t cost) { return w <= 0 ? 0 : (w + cost - 1) / cost; }

/* The parts' rows, in units of `align` rows, laid end to end and cut into nth runs of equal weight (a unit weighs
 * the bytes of its rows: parts of different types cost what they read); thread ith takes run ith. */
static void mm_task(void *ctx, int ith, int nth) {
    const mm_job *j = ctx;
    const int np = j->glu ? 1 : j->np;
    int64_t total = 0, start = 0;
    for (int i = 0; i < np; i++)
        total += (j->p[i].w->ne1 + j->align - 1) / j->align * (int64_t)(j->glu ? j->p[0].w->row_bytes + j->p[1].w->row_bytes
                                                                               : j->p[i].w->row_bytes);
    const int64_t lo = total * ith / nth, hi = total * (ith + 1) / nth;
    for (int i = 0; i < np; i++) {
        const plm_tensor *w = j->p[i].w;
        const int64_t units = (w->ne1 + j->align - 1) / j->align,
                      cost = (int64_t)(j->glu ? w->row_bytes + j->p[1].w->row_bytes : w->row_bytes);
        int64_t u0 = ceil_units(lo - start, cost), u1 = ceil_units(hi - start, cost);
        start += units * cost;
        u0 = u0 < units ? u0 : units;
        u1 = u1 < units ? u1 : units;
        const int r0 = (int)(u0 * j->align), r1 = (int)(u1 * j->align < w->ne1 ? u1 * j->align : w->ne1);
        if (r0 >= r1) continue;
        for (int q = 0; q < (j->glu ? 2 : 1); q++) {
            const mm_part *o = &j->p[i + q];
            j->k->matmul(o->w->mm_type, (int)o->w->ne0, o->w->data + (size_t)r0 * o->w->row_bytes, o->w->row_bytes,
                         r1 - r0, j->a, j->a_stride, j->nb, o->out + r0, (size_t)o->ldo);
        }
        for (int t = 0; j->glu && t < j->nb; t++)
            j->glu(j->p[0].out + (size_t)t * j->p[0].ldo + r0, j->p[1].out + (size_t)t * j->p[1].ldo + r0, r1 - r0);
    }
}

typedef struct quant_job {
    const plm_kernels *k;
    int act, n, ldx, nb;
    const float *x;
    uint8_t *q;
    size_t stride;
} quant_job;

static void quant_task(void *ctx, int ith, int nth) {
    const quant_job *j = ctx;
    int b0, b1;
    plm_split(j->nb, 1, ith, nth, &b0, &b1);
    for (int b = b0; b < b1; b++) j->k->quantize_row(j->act, j->x + (size_t)b * j->ldx, j->q + b * j->stride, j->n);
}

/* Runs the np parts (same row length and activation type) of one input: p[i].out[b][r] = W_i[r] . x[b] for nb rows
 * of x (stride ldx); glu: see mm_job. */
static void run_parts(plm_session *s, const float *x, int ldx, int nb, const mm_part *p, int np,
                      void (*glu)(float *, const float *, int)) {
    const plm_tensor *w = p[0].w;
    int act = plm_type(w->mm_type)->act_type;
    size_t stride = plm_row_size(act, w->ne0);
    quant_job qj = {s->k, act, (int)w->ne0, ldx, nb, x, s->actq, stride};
    if (nb > 1) plm_pool_run(s->pool, quant_task, &qj); /* a single row is not worth a hand-off */
    else quant_task(&qj, 0, 1);
    mm_job j = {s->k, s->actq, stride, nb, np, glu ? 64 : 16, {{0}}, glu};
    for (int i = 0; i < np; i++) j.p[i] = p[i];
    plm_pool_run(s->pool, mm_task, &j);
}

static int same_input(const plm_tensor *a, const plm_tensor *b) {
    return a->ne0 == b->ne0 && plm_type(a->mm_type)->act_type == plm_type(b->mm_type)->act_type;
}

/* out[b][r] = W[r] . x[b] for nb rows of x (row length w->ne0, stride ldx), out rows of stride ldo. */
static void matmul(plm_session *s, const plm_tensor *w, const float *x, int ldx, int nb, float *out, int ldo) {
    mm_part p = {w, out, ldo};
    run_parts(s, x, ldx, nb, &p, 1, NULL);
}

/* The products of one input, as few rounds as their activation types allow (mixtures may differ within a layer). */
static void matmuls(plm_session *s, const float *x, int ldx, int nb, const mm_part *p, int np) {
    for (int i = 0, n; i < np; i += n) {
        for (n = 1; i + n < np && same_input(p[i].w, p[i + n].w); n++) {}
        run_parts(s, x, ldx, nb, p + i, n, NULL);
    }
}

static void add_bias(const plm_tensor *b, float *x, int ld, int nb) {
    if (!b->data) return;
    const float *bias = (const float *)(const void *)b->data;
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < b->ne0; j++) x[(size_t)i * ld + j] += bias[j];
}

/* ---- attention: one (token, head) pair at a time, pairs split across the pool ----
 * The arithmetic of llama.cpp's CPU flash attention (ggml_compute_forward_flash_attn_ext_f16), which is what it
 * runs by default: online softmax over the cached positions; with an f16 cache the query is rounded to f16 and the
 * weighted sum of values is accumulated in f16. Greedy output only matches llama.cpp token for token when these
 * roundings are the same (measured: a 0.015 logit margin flips on TinyStories-656K otherwise). Its exponentials are
 * libm's expf on x86-64 glibc, which plm_expf_glibc reproduces on every platform. (llama.cpp switches to a tiled
 * f32 kernel when a batch has 64+ tokens and head_dim % 16 == 0; that path is not reproduced here.) */

#define PLM_MAX_HEAD_DIM 512

static void attend_f16(const plm_kernels *k, const float *q, const uint8_t *kb, const uint8_t *vb, size_t row, int n,
                       int hd, float scale, float cap, float *out) {
    plm_f16 q16[PLM_MAX_HEAD_DIM], acc[PLM_MAX_HEAD_DIM];
    k->f32_to_f16(q, q16, hd);
    memset(acc, 0, (size_t)hd * sizeof *acc);
    float S = 0, M = -INFINITY;
    for (int i = 0; i < n; i++) {
        float s = k->dot_f16(q16, (const plm_f16 *)(const void *)(kb + i * row), hd) * scale;
        if (cap != 0.0f) s = cap * plm_tanhf_glibc(s);
        float ms = 1, vs = 1;
        if (s > M) {
            ms = plm_expf_glibc(M - s);
            M = s;
            k->scale_f16(acc, ms, hd);
        } else {
            vs = plm_expf_glibc(s - M);
        }
        k->mad_f16(acc, (const plm_f16 *)(const void *)(vb + i * row), vs, hd);
        S = S * ms + vs;
    }
    k->f16_to_f32(acc, out, hd);
    const float inv = S == 0.0f ? 0.0f : 1.0f / S; /* ggml scales by the reciprocal: same rounding */
    for (int d = 0; d < hd; d++) out[d] *= inv;
}

static void attend_f32(const plm_kernels *k, const float *q, const uint8_t *kb, const uint8_t *vb, size_t row, int n,
                       int hd, float scale, float cap, float *out) {
    memset(out, 0, (size_t)hd * sizeof *out);
    float S = 0, M = -INFINITY;
    for (int i = 0; i < n; i++) {
        float s = k->dot_f32(q, (const float *)(const void *)(kb + i * row), hd) * scale;
        if (cap != 0.0f) s = cap * plm_tanhf_glibc(s);
        float ms = 1, vs = 1;
        if (s > M) {
            ms = plm_expf_glibc(M - s);
            M = s;
            for (int d = 0; d < hd; d++) out[d] *= ms;
        } else {
            vs = plm_expf_glibc(s - M);
        }
        k->axpy_f32(out, vs, (const float *)(const void *)(vb + i * row), hd);
        S = S * ms + vs;
    }
    const float inv = S == 0.0f ? 0.0f : 1.0f / S;
    for (int d = 0; d < hd; d++) out[d] *= inv;
}

typedef struct att_job {
    plm_session *s;
    int layer, nb, pos0;
} att_job;

static void att_task(void *ctx, int ith, int nth) {
    const att_job *j = ctx;
    const plm_session *s = j->s;
    const plm_hparams *hp = &s->m->hp;
    int hd = hp->head_dim, Q = hd * hp->n_head, KV = hd * hp->n_head_kv, grp = hp->n_head / hp->n_head_kv;
    /* q_scale: q was scaled instead. gemma2's soft-capping: llama.cpp divides the scale by the cap, then the
     * scores are cap * tanhf(score) */
    const float scale = (hp->q_scale ? 1.0f : 1.0f / sqrtf((float)hd)) / (hp->attn_softcap ? hp->attn_softcap : 1.0f);
    const int swa = s->m->layers[j->layer].swa ? hp->n_swa : 0;
    size_t layer_off = (size_t)j->layer * s->n_ctx * KV * s->kv_elt, row = (size_t)KV * s->kv_elt;
    /* pairs dealt out in turn: token t attends over pos0 + t + 1 positions, so contiguous ranges would give the
     * last thread the longest rows */
    for (int p = ith; p < j->nb * hp->n_head; p += nth) {
        int t = p / hp->n_head, h = p % hp->n_head, n = j->pos0 + t + 1;
        /* a sliding-window layer sees positions p0 with pos - p0 < n_swa (llama.cpp masks the rest, and its flash
         * attention skips masked positions) */
        const int first = swa && n > swa ? n - swa : 0;
        size_t head_off = layer_off + (size_t)first * row + (size_t)(h / grp) * hd * s->kv_elt;
        (s->kv_f32 ? attend_f32 : attend_f16)(s->k, s->q + (size_t)t * Q + (size_t)h * hd, s->kcache + head_off,
                                              s->vcache + head_off, row, n - first, hd, scale, hp->attn_softcap,
                                              s->att + (size_t)t * Q + (size_t)h * hd);
    }
}

/* RoPE on the batch's queries and keys, and the keys and values into the cache, tokens split across the pool */
static void rope_task(void *ctx, int ith, int nth) {
    const att_job *j = ctx;
    const plm_session *s = j->s;
    const plm_hparams *hp = &s->m->hp;
    const plm_kernels *k = s->k;
    int hd = hp->head_dim, Q = hd * hp->n_head, KV = hd * hp->n_head_kv, t0, t1;
    size_t layer_off = (size_t)j->layer * s->n_ctx * KV * s->kv_elt;
    const float *ff = s->rope_ff;
    const plm_layer *L = &s->m->layers[j->layer];
    const float base = L->swa ? hp->rope_base_swa : hp->rope_base,
                fs = L->swa ? hp->rope_freq_scale_swa : hp->rope_freq_scale;
    plm_split(j->nb, 1, ith, nth, &t0, &t1);
    for (int t = t0; t < t1; t++) {
        int pos = j->pos0 + t;
        float *q = s->q + (size_t)t * Q, *kk = s->kk + (size_t)t * KV;
        /* qwen3, gemma3: each head of q and k RMS-normed before RoPE */
        for (int h = 0; L->q_norm.data && h < hp->n_head; h++)
            k->rmsnorm(q + (size_t)h * hd, q + (size_t)h * hd, (const float *)(const void *)L->q_norm.data, hd, hp->norm_eps);
        for (int h = 0; L->k_norm.data && h < hp->n_head_kv; h++)
            k->rmsnorm(kk + (size_t)h * hd, kk + (size_t)h * hd, (const float *)(const void *)L->k_norm.data, hd, hp->norm_eps);
        /* the first n_rot dimensions of each head rotate (phi3 may rotate fewer), with RoPE's attention factor;
         * the angles are the same for every head, so they are computed once (they were 1-2% of a decoded token,
         * all of it on the caller between two pool rounds) */
        float cs[PLM_MAX_HEAD_DIM];
        plm_rope_cs(cs, hp->n_rot, pos, base, fs, ff, hp->rope_attn_factor);
        for (int h = 0; h < hp->n_head; h++) plm_rope_apply(q + (size_t)h * hd, cs, hp->n_rot, hp->rope_neox);
        for (int h = 0; h < hp->n_head_kv; h++) plm_rope_apply(kk + (size_t)h * hd, cs, hp->n_rot, hp->rope_neox);
        for (int i = 0; hp->q_scale && i < Q; i++) q[i] *= hp->q_scale;
        uint8_t *kdst = s->kcache + layer_off + (size_t)pos * KV * s->kv_elt;
        uint8_t *vdst = s->vcache + layer_off + (size_t)pos * KV * s->kv_elt;
        if (s->kv_f32) {
            memcpy(kdst, s->kk + (size_t)t * KV, (size_t)KV * 4);
            memcpy(vdst, s->vv + (size_t)t * KV, (size_t)KV * 4);
        } else {
            k->f32_to_f16(s->kk + (size_t)t * KV, (plm_f16 *)(void *)kdst, KV);
            k->f32_to_f16(s->vv + (size_t)t * KV, (plm_f16 *)(void *)vdst, KV);
        }
    }
}

typedef struct silu_job {
    void (*glu)(float *g, const float *u, int n); /* the kernel table's silu_mul or gelu_mul */
    float *g;
    const float *u;
    int n, nb;
} silu_job;

/* silu_mul over nb rows of n, in pieces of 64 (a multiple of every kernel's vector width, so a piece's split
 * changes no result: the contract's n % 16 tail only ever falls at a row's end) */
static void silu_task(void *ctx, int ith, int nth) {
    const silu_job *j = ctx;
    const int per_row = (j->n + 63) / 64;
    int c0, c1;
    plm_split(j->nb * per_row, 1, ith, nth, &c0, &c1);
    for (int c = c0; c < c1; c++) {
        const int t = c / per_row, i = c % per_row * 64, len = j->n - i < 64 ? j->n - i : 64;
        j->glu(j->g + (size_t)t * j->n + i, j->u + (size_t)t * j->n + i, len);
    }
}

/* Runs one batch of nb tokens at positions n_past.. through every layer; logits of the last one. */
static plm_status forward(plm_session *s, const int32_t *ids, int nb) {
    const plm_model *m = s->m;
    const plm_hparams *hp = &m->hp;
    const plm_kernels *k = s->k;
    int E = hp->n_embd, F = hp->n_ff, hd = hp->head_dim;
    int Q = hd * hp->n_head, KV = hd * hp->n_head_kv;
    for (int t = 0; t < nb; t++)
        plm_dequantize_row(m->tok_embd.type, m->tok_embd.data + (size_t)ids[t] * m->tok_embd.row_bytes,
                           s->x + (size_t)t * E, E);
    for (size_t i = 0; hp->embd_scale && i < (size_t)nb * E; i++) s->x[i] *= hp->embd_scale;
    for (int l = 0; l < hp->n_layer; l++) {
        if (s->abort_fn && s->abort_fn(s->abort_user)) {
            snprintf(s->err, sizeof s->err, "evaluation aborted after %d cached tokens", s->n_past);
            return PLM_ABORTED; /* n_past not advanced: the batch's cache rows are simply overwritten later */
        }
        const plm_layer *L = &m->layers[l];
        for (int t = 0; t < nb; t++)
            k->rmsnorm(s->xb + (size_t)t * E, s->x + (size_t)t * E, (const float *)(const void *)L->attn_norm.data, E, hp->norm_eps);
        const mm_part qkv[3] = {{&L->wq, s->q, Q}, {&L->wk, s->kk, KV}, {&L->wv, s->vv, KV}};
        matmuls(s, s->xb, E, nb, qkv, 3);
        add_bias(&L->bq, s->q, Q, nb);
        add_bias(&L->bk, s->kk, KV, nb);
        add_bias(&L->bv, s->vv, KV, nb);
        att_job aj = {s, l, nb, s->n_past};
        if (nb > 1) plm_pool_run(s->pool, rope_task, &aj);
        else rope_task(&aj, 0, 1);
        plm_pool_run(s->pool, att_task, &aj);
        matmul(s, &L->wo, s->att, Q, nb, s->xb, E);
        for (int t = 0; L->post_attn_norm.data && t < nb; t++)
            k->rmsnorm(s->xb + (size_t)t * E, s->xb + (size_t)t * E, (const float *)(const void *)L->post_attn_norm.data,
                       E, hp->norm_eps);
        for (size_t i = 0; i < (size_t)nb * E; i++) s->x[i] += s->xb[i];

        /* After the last attention only the last token's row is needed (its logits): llama.cpp drops the others
         * there (inp_out_ids), so its FFN matmuls see one row, which also picks their summation order (nb == 1). */
        const int t0 = l == hp->n_layer - 1 ? nb - 1 : 0, nf = nb - t0;
        float *x = s->x + (size_t)t0 * E;
        for (int t = 0; t < nf; t++)
            k->rmsnorm(s->xb + (size_t)t * E, x + (size_t)t * E, (const float *)(const void *)L->ffn_norm.data, E, hp->norm_eps);
        const mm_part gu[2] = {{&L->w_gate, s->hb, F}, {&L->w_up, s->hb2, F}};
        void (*glu)(float *, const float *, int) = hp->gelu ? k->gelu_mul : k->silu_mul;
        if (same_input(gu[0].w, gu[1].w) && gu[0].w->ne1 == gu[1].w->ne1) {
            run_parts(s, s->xb, E, nf, gu, 2, glu);
        } else {
            matmuls(s, s->xb, E, nf, gu, 2);
            silu_job sj = {glu, s->hb, s->hb2, F, nf};
            if (nf > 1) plm_pool_run(s->pool, silu_task, &sj);
            else for (int t = 0; t < nf; t++) sj.glu(s->hb + (size_t)t * F, s->hb2 + (size_t)t * F, F);
        }
        matmul(s, &L->w_down, s->hb, F, nf, s->xb, E);
        for (int t = 0; L->post_ffn_norm.data && t < nf; t++)
            k->rmsnorm(s->xb + (size_t)t * E, s->xb + (size_t)t * E, (const float *)(const void *)L->post_ffn_norm.data,
                       E, hp->norm_eps);
        for (size_t i = 0; i < (size_t)nf * E; i++) x[i] += s->xb[i];
    }
    float *last = s->x + (size_t)(nb - 1) * E;
    k->rmsnorm(s->xb, last, (const float *)(const void *)m->out_norm.data, E, hp->norm_eps);
    matmul(s, &m->output, s->xb, E, 1, s->logits, hp->n_vocab);
    if (hp->final_softcap) { /* llama.cpp: ggml_scale by 1/cap, ggml_tanh (libm's tanhf), ggml_scale by cap */
        const float cap = hp->final_softcap, inv = 1.0f / cap;
        for (int i = 0; i < hp->n_vocab; i++) s->logits[i] = plm_tanhf_glibc(s->logits[i] * inv) * cap;
    }
    s->n_past += nb;
    return PLM_OK;
}

plm_status plm_session_eval(plm_session *s, const int32_t *ids, int n) {
    if (s->status) return s->status;
    if (n <= 0) {
        snprintf(s->err, sizeof s->err, "nothing to evaluate");
        return PLM_BAD_ARG;
    }
    if (n > s->n_ctx - s->n_past) {
        snprintf(s->err, sizeof s->err, "context full: %d tokens cached + %d new > context size %d", s->n_past, n,
                 s->n_ctx);
        return PLM_CONTEXT_FULL;
    }
    for (int i = 0; i < n; i++)
        if (ids[i] < 0 || ids[i] >= s->m->hp.n_vocab) {
            snprintf(s->err, sizeof s->err, "token id %d is outside the vocabulary (0..%d)", ids[i],
                     s->m->hp.n_vocab - 1);
            return PLM_BAD_ARG;
        }
    for (int i = 0; i < n; i += s->n_batch) {
        int nb = n - i < s->n_batch ? n - i : s->n_batch;
        plm_status st = forward(s, ids + i, nb);
        if (st) return st;
    }
    return PLM_OK;
}
