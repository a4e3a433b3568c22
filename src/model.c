/* Model description: hyper-parameters from metadata, tensors bound and shape-checked against them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "vocab.h"

#define ERR(st, ...) (snprintf(err, errlen, __VA_ARGS__), (st))

static int arch_key_u32(const plm_model *m, const char *suffix, uint32_t *out) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return gguf_get_u32(&m->gguf, key, out);
}

static int arch_key_f32(const plm_model *m, const char *suffix, float *out) {
    char key[96];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    return gguf_get_f32(&m->gguf, key, out);
}

/* Reads a required positive integer hyper-parameter bounded by max. */
static plm_status hp_int(const plm_model *m, const char *suffix, int *out, uint32_t max, char *err, size_t errlen) {
    uint32_t v;
    char key[96];
    snprintf(key, sizeof key, "%s.%s", m->arch, suffix);
    if (!gguf_find(&m->gguf, key)) return ERR(PLM_BAD_MODEL, "metadata key '%s' is missing", key);
    if (!arch_key_u32(m, suffix, &v))
        return ERR(PLM_BAD_MODEL, "metadata key '%s' must be a non-negative integer below 2^32", key);
    if (v == 0 || v > max) return ERR(PLM_BAD_MODEL, "metadata '%s.%s' = %u is out of range (1..%u)", m->arch, suffix, v, max);
    *out = (int)v;
    return PLM_OK;
}

/* A soft-capping value from key suffix (cap * tanh(x / cap)): dflt when absent; 0 turns it off where allowed. */
static plm_status read_softcap(const plm_model *m, const char *suffix, float dflt, int may_be_off, float *out,
                               char *err, size_t errlen) {
    float cap = dflt;
    arch_key_f32(m, suffix, &cap);
    if (!(cap == 0 && may_be_off) && (!(cap > 0) || !isfinite(cap)))
        return ERR(PLM_BAD_MODEL, "metadata '%s.%s' = %g: a soft-capping value must be positive and finite", m->arch,
                   suffix, (double)cap);
    *out = cap;
    return PLM_OK;
}

/* gemma2 and gemma3, as llama.cpp reads them (src/models/gemma2.cpp, gemma3.cpp). Both: GELU-tanh gated FFN,
 * embeddings scaled by sqrt(n_embd), q scaled by 1/sqrt(head_dim) after RoPE instead of the scores (by
 * 1/sqrt(n_embd/n_head) in the 27B models, 46 layers in gemma2, 62 in gemma3: llama.cpp's rule, which stands for
 * query_pre_attn_scalar), norms after attention and FFN, sliding-window layers (layer i slides when i % pattern <
 * pattern - 1) with their own RoPE base. gemma2: every other layer slides (window 4096 unless given), with the
 * global layers' RoPE unless rope.freq_base_swa is given; attention scores and logits are soft-capped (50 and 30
 * unless given). gemma3: 5 of every 6 layers slide when the file gives a window, with RoPE base 10000 unscaled
 * unless rope.freq_base_swa is given; q/k norms; logits capped only when final_logit_softcapping is non-zero. */
static plm_status read_gemma(plm_model *m, char *err, size_t errlen) {
    plm_hparams *hp = &m->hp;
    const int g2 = hp->arch == PLM_ARCH_GEMMA2;
    plm_status st;
    uint32_t v;
    hp->gelu = 1;
    hp->embd_scale = sqrtf((float)hp->n_embd);
    hp->q_scale = 1.0f / sqrtf((float)(hp->n_layer == (g2 ? 46 : 62) ? hp->n_embd / hp->n_head : hp->head_dim));
    hp->n_swa = g2 ? 4096 : 0;
    if (arch_key_u32(m, "attention.sliding_window", &v)) {
        if (v > (1u << 24) || (g2 && v == 0))
            return ERR(PLM_BAD_MODEL, "attention.sliding_window %u is out of range (1..%u)", v, 1u << 24);
        hp->n_swa = (int)v;
    }
    hp->swa_pattern = g2 ? 2 : 6;
    char key[96];
    snprintf(key, sizeof key, "%s.attention.sliding_window_pattern", m->arch);
    if (gguf_find(&m->gguf, key)) {
        if (!arch_key_u32(m, "attention.sliding_window_pattern", &v))
            return ERR(PLM_UNSUPPORTED, "'%s' as a per-layer array is not supported", key);
        if (v > 1024) return ERR(PLM_BAD_MODEL, "'%s' = %u is out of range", key, v);
        hp->swa_pattern = (int)v; /* 0 or 1: llama.cpp's rule makes every layer (0) or none (1) slide */
    }
    hp->rope_base_swa = g2 ? hp->rope_base : 10000.0f;
    hp->rope_freq_scale_swa = g2 ? hp->rope_freq_scale : 1.0f;
    arch_key_f32(m, "rope.freq_base_swa", &hp->rope_base_swa);
    if (!(hp->rope_base_swa > 0) || !isfinite(hp->rope_base_swa))
        return ERR(PLM_BAD_MODEL, "rope freq_base_swa %g is invalid", (double)hp->rope_base_swa);
    if ((st = read_softcap(m, "final_logit_softcapping", g2 ? 30.0f : 0.0f, !g2, &hp->final_softcap, err, errlen)))
        return st;
    if (g2 && (st = read_softcap(m, "attn_logit_softcapping", 50.0f, 0, &hp->attn_softcap, err, errlen))) return st;
    return PLM_OK;
}

plm_status plm_model_read_header(plm_model *m, char *err, size_t errlen) {
    gguf_str a;
    plm_status st;
    if (!gguf_get_str(&m->gguf, "general.architecture", &a) || a.n == 0 || a.n >= sizeof m->arch ||
        memchr(a.s, 0, (size_t)a.n))
        return ERR(PLM_BAD_MODEL, "metadata key 'general.architecture' is missing or invalid");
    memcpy(m->arch, a.s, a.n);
    m->arch[a.n] = 0;
    if ((st = plm_vocab_load(&m->gguf, &m->vocab, err, errlen)) != PLM_OK) return st;
    m->hp.n_vocab = plm_vocab_n(m->vocab);
    if (m->gguf.n_tensors == 0) return PLM_OK; /* vocab-only file: tokenize works, sessions refuse */

    static const struct { const char *name; plm_arch arch; } archs[] = {
        {"llama", PLM_ARCH_LLAMA}, {"qwen2", PLM_ARCH_QWEN2}, {"qwen3", PLM_ARCH_QWEN3}, {"gemma2", PLM_ARCH_GEMMA2},
        {"gemma3", PLM_ARCH_GEMMA3}, {"phi3", PLM_ARCH_PHI3}};
    plm_hparams *hp = &m->hp;
    size_t ai = 0;
    while (ai < sizeof archs / sizeof archs[0] && strcmp(m->arch, archs[ai].name)) ai++;
    if (ai == sizeof archs / sizeof archs[0])
        return ERR(PLM_UNSUPPORTED, "architecture '%s' is not supported (llama, qwen2, qwen3, gemma2, gemma3 and phi3 are)", m->arch);
    hp->arch = archs[ai].arch;
    if ((st = hp_int(m, "embedding_length", &hp->n_embd, 1 << 16, err, errlen)) ||
        (st = hp_int(m, "block_count", &hp->n_layer, 1024, err, errlen)) ||
        (st = hp_int(m, "feed_forward_length", &hp->n_ff, 1 << 18, err, errlen)) ||
        (st = hp_int(m, "attention.head_count", &hp->n_head, 1024, err, errlen)) ||
        (st = hp_int(m, "context_length", &hp->n_ctx_train, 1 << 24, err, errlen)))
        return st;
    uint32_t v;
    hp->n_head_kv = arch_key_u32(m, "attention.head_count_kv", &v) ? (int)v : hp->n_head;
    if (hp->n_head_kv <= 0 || hp->n_head % hp->n_head_kv)
        return ERR(PLM_BAD_MODEL, "head_count_kv %d does not divide head_count %d", hp->n_head_kv, hp->n_head);
    /* The head size is attention.key_length where given (Qwen3 and Gemma 3 heads are wider than n_embd/n_head). */
    if (arch_key_u32(m, "attention.key_length", &v)) {
        if (v == 0 || v > 512) return ERR(PLM_UNSUPPORTED, "attention.key_length %u is outside 2..512", v);
        hp->head_dim = (int)v;
    } else {
        if (hp->n_embd % hp->n_head)
            return ERR(PLM_BAD_MODEL, "embedding_length %d is not a multiple of head_count %d", hp->n_embd, hp->n_head);
        hp->head_dim = hp->n_embd / hp->n_head;
    }
    if (arch_key_u32(m, "attention.value_length", &v) && (int)v != hp->head_dim)
        return ERR(PLM_UNSUPPORTED, "attention.value_length %u differs from key_length %d", v, hp->head_dim);
    if (hp->head_dim > 512) return ERR(PLM_UNSUPPORTED, "head dimension %d is larger than 512", hp->head_dim);
    if (hp->head_dim % 2) return ERR(PLM_BAD_MODEL, "head dimension %d is odd: RoPE needs pairs", hp->head_dim);
    hp->n_rot = hp->head_dim;
    if (arch_key_u32(m, "rope.dimension_count", &v) && (int)v != hp->head_dim) {
        /* phi3 (Phi-4-mini) rotates the first n_rot dimensions of each head, as llama.cpp runs any NEOX model */
        if (hp->arch != PLM_ARCH_PHI3)
            return ERR(PLM_UNSUPPORTED, "partial RoPE (rope.dimension_count %u of %d) is not supported for %s", v,
                       hp->head_dim, m->arch);
        if (v == 0 || (int)v > hp->head_dim || v % 2)
            return ERR(PLM_BAD_MODEL, "rope.dimension_count %u must be even and in 2..head dimension %d", v, hp->head_dim);
        hp->n_rot = (int)v;
    }
    hp->norm_eps = 1e-5f;
    arch_key_f32(m, "attention.layer_norm_rms_epsilon", &hp->norm_eps);
    hp->rope_base = 10000.0f;
    arch_key_f32(m, "rope.freq_base", &hp->rope_base);
    hp->rope_freq_scale = 1.0f;
    float f;
    if (arch_key_f32(m, "rope.scaling.factor", &f) && f > 0) hp->rope_freq_scale = 1.0f / f;
    else if (arch_key_f32(m, "rope.scale_linear", &f) && f > 0) hp->rope_freq_scale = 1.0f / f;
    gguf_str rs;
    char key[96];
    snprintf(key, sizeof key, "%s.rope.scaling.type", m->arch);
    if (gguf_get_str(&m->gguf, key, &rs) && !(rs.n == 4 && !memcmp(rs.s, "none", 4)) &&
        !(rs.n == 6 && !memcmp(rs.s, "linear", 6)))
        return ERR(PLM_UNSUPPORTED, "RoPE scaling type '%.*s' is not supported", (int)(rs.n > 20 ? 20 : rs.n), rs.s);
    if (!(hp->norm_eps > 0 && hp->norm_eps < 1) || !(hp->rope_base > 0) || !isfinite(hp->rope_base))
        return ERR(PLM_BAD_MODEL, "rms epsilon %g or rope freq_base %g is invalid", hp->norm_eps, hp->rope_base);
    /* llama.cpp multiplies RoPE's cos and sin by rope.scaling.attn_factor for every architecture (phi3's converter
     * writes sqrt(1 + ln(ctx/orig)/ln(orig)) for LongRoPE), and picks phi3's long factors when the context exceeds
     * rope.scaling.original_context_length (default: the training context). */
    hp->rope_attn_factor = 1.0f;
    if (arch_key_f32(m, "rope.scaling.attn_factor", &f)) {
        if (!(f > 0) || !isfinite(f))
            return ERR(PLM_BAD_MODEL, "rope.scaling.attn_factor %g is invalid: it must be positive and finite", (double)f);
        hp->rope_attn_factor = f;
    }
    hp->n_ctx_orig = hp->n_ctx_train;
    if (arch_key_u32(m, "rope.scaling.original_context_length", &v) && v > 0) hp->n_ctx_orig = v > (1u << 30) ? 1 << 30 : (int)v;
    hp->rope_neox = hp->arch != PLM_ARCH_LLAMA;
    /* phi3: q is scaled by 1/sqrt(head_dim) after RoPE and the attention scores are not (llama.cpp's graph) */
    if (hp->arch == PLM_ARCH_PHI3) hp->q_scale = 1.0f / sqrtf((float)hp->head_dim);
    if (hp->arch == PLM_ARCH_GEMMA2 || hp->arch == PLM_ARCH_GEMMA3) return read_gemma(m, err, errlen);
    return PLM_OK;
}

/* Binds one tensor by name, checking type and shape [ne0, ne1]. Absent optional tensors stay zero. */
static plm_status bind(plm_model *m, plm_tensor *t, const char *name, int64_t ne0, int64_t ne1, int optional,
                       char *err, size_t errlen) {
    const gguf_tensor *g = gguf_find_tensor(&m->gguf, name);
    memset(t, 0, sizeof *t);
    if (!g) return optional ? PLM_OK : ERR(PLM_BAD_MODEL, "tensor '%s' is missing", name);
    if (g->ne[0] != (uint64_t)ne0 || g->ne[1] != (uint64_t)ne1 || g->ne[2] != 1 || g->ne[3] != 1)
        return ERR(PLM_BAD_MODEL, "tensor '%s' has shape [%llu, %llu, %llu, %llu], expected [%lld, %lld]", name,
                   (unsigned long long)g->ne[0], (unsigned long long)g->ne[1], (unsigned long long)g->ne[2],
                   (unsigned long long)g->ne[3], (long long)ne0, (long long)ne1);
    /* a weight type needs kernels: a block size and an activation type (Q8_K / Q8_1 are activation-only) */
    if (!plm_type((int)g->type)->blck || plm_type((int)g->type)->act_type < 0)
        return ERR(PLM_UNSUPPORTED, "tensor '%s' has type %s, which pocketlm does not run (F32, F16, BF16, Q8_0, "
                   "Q6_K, Q5_K, Q5_1, Q5_0, Q4_K, Q4_1, Q4_0, IQ4_XS, IQ4_NL, Q3_K, Q2_K are supported)", name,
                   gguf_type_name(g->type));
    int is_vec = ne1 == 1;
    if (is_vec && g->type != PLM_T_F32)
        return ERR(PLM_UNSUPPORTED, "tensor '%s' (a vector: norm, bias or RoPE factors) must be F32, not %s", name,
                   gguf_type_name(g->type));
    t->type = (int)g->type;
    t->mm_type = t->type;
    t->ne0 = ne0;
    t->ne1 = ne1;
    t->row_bytes = plm_row_size(t->type, ne0);
    t->data = m->pieces ? plm_arena_at(m, g->offset) : NULL; /* no arena: a check of the header alone (loader.c) */
    return PLM_OK;
}

/* The matmul layout of a weight matrix for the model's kernel table (simd/backend.c decides), repacked in place
 * (the arena is ours) unless the matrix is also the token embedding (tied), which is read row by row in the
 * file's layout. */
static void mm_prepare(const plm_model *m, plm_tensor *t) {
    if (!t->data) return;
    t->mm_type = plm_weight_layout(m->kern, t->type, (void *)t->data, t->ne0, t->ne1, t->data != m->tok_embd.data);
}

/* RoPE frequency factors: n F32 divisors of each rotation pair's angle, shared by every layer. A factor that is not
 * a positive finite number would turn every angle into NaN or infinity: the file is refused. */
static plm_status bind_factors(plm_model *m, plm_tensor *t, const char *name, int n, char *err, size_t errlen) {
    plm_status st = bind(m, t, name, n, 1, 1, err, errlen);
    if (st || !t->data) return st;
    for (int i = 0; i < n; i++) {
        float f;
        memcpy(&f, t->data + (size_t)i * sizeof f, sizeof f);
        if (!(f > 0) || !isfinite(f))
            return ERR(PLM_BAD_MODEL, "tensor '%s' holds %g at %d: RoPE frequency factors must be positive and finite",
                       name, (double)f, i);
    }
    return PLM_OK;
}

/* Llama 3's factors (rope_freqs, which the converter writes for rope_scaling "llama3" with no scaling key), and
 * phi3's LongRoPE pair (rope_factors_long/short, n_rot/2 each; the session picks one from its context size), as
 * llama.cpp reads them for these architectures. */
static plm_status bind_rope_factors(plm_model *m, char *err, size_t errlen) {
    plm_status st = PLM_OK;
    if (m->hp.arch == PLM_ARCH_LLAMA) st = bind_factors(m, &m->rope_freqs, "rope_freqs.weight", m->hp.head_dim / 2, err, errlen);
    if (m->hp.arch == PLM_ARCH_PHI3 &&
        !(st = bind_factors(m, &m->rope_long, "rope_factors_long.weight", m->hp.n_rot / 2, err, errlen)))
        st = bind_factors(m, &m->rope_short, "rope_factors_short.weight", m->hp.n_rot / 2, err, errlen);
    return st;
}

/* Rows [r0, r0+n) of matrix t, as a matrix of its own (no data without an arena). */
static plm_tensor rows_of(const plm_tensor *t, int64_t r0, int64_t n) {
    plm_tensor v = *t;
    v.ne1 = n;
    if (t->data) v.data = t->data + (size_t)r0 * t->row_bytes;
    return v;
}

/* phi3's layer (llama.cpp's create_tensor_qkv and fused FFN): q, k and v are consecutive row blocks of attn_qkv
 * (separate attn_q/k/v are taken when it is absent, as llama.cpp does), and ffn_up holds 2*n_ff rows, the gate's
 * then the up projection's (ggml_swiglu: silu of the first half times the second). A row's product does not
 * depend on the rows around it, so the views compute what llama.cpp's fused products do. */
static plm_status bind_phi3_layer(plm_model *m, plm_layer *l, int i, char *err, size_t errlen) {
    const plm_hparams *hp = &m->hp;
    const int64_t E = hp->n_embd, F = hp->n_ff, Q = (int64_t)hp->head_dim * hp->n_head,
                  KV = (int64_t)hp->head_dim * hp->n_head_kv;
    char n[9][64];
    const char *suf[9] = {"attn_norm.weight", "attn_qkv.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                          "attn_output.weight", "ffn_norm.weight", "ffn_up.weight", "ffn_down.weight"};
    for (int j = 0; j < 9; j++) snprintf(n[j], sizeof n[j], "blk.%d.%s", i, suf[j]);
    plm_tensor qkv, gate_up;
    plm_status st;
    if (gguf_find_tensor(&m->gguf, n[1]) || !gguf_find_tensor(&m->gguf, n[2])) {
        if ((st = bind(m, &qkv, n[1], E, Q + 2 * KV, 0, err, errlen))) return st;
        l->wq = rows_of(&qkv, 0, Q);
        l->wk = rows_of(&qkv, Q, KV);
        l->wv = rows_of(&qkv, Q + KV, KV);
    } else if ((st = bind(m, &l->wq, n[2], E, Q, 0, err, errlen)) || (st = bind(m, &l->wk, n[3], E, KV, 0, err, errlen)) ||
               (st = bind(m, &l->wv, n[4], E, KV, 0, err, errlen))) {
        return st;
    }
    if ((st = bind(m, &l->attn_norm, n[0], E, 1, 0, err, errlen)) || (st = bind(m, &l->wo, n[5], Q, E, 0, err, errlen)) ||
        (st = bind(m, &l->ffn_norm, n[6], E, 1, 0, err, errlen)) ||
        (st = bind(m, &gate_up, n[7], E, 2 * F, 0, err, errlen)) || (st = bind(m, &l->w_down, n[8], F, E, 0, err, errlen)))
        return st;
    l->w_gate = rows_of(&gate_up, 0, F);
    l->w_up = rows_of(&gate_up, F, F);
    return PLM_OK;
}

plm_status plm_model_bind(plm_model *m, int exact, char *err, size_t errlen) {
    m->kern = plm_kern_for(exact);
    if (m->gguf.n_tensors == 0) return PLM_OK;
    const plm_hparams *hp = &m->hp;
    int64_t E = hp->n_embd, V = hp->n_vocab, F = hp->n_ff, hd = hp->head_dim;
    int64_t Q = hd * hp->n_head, KV = hd * hp->n_head_kv;
    plm_status st;
    if ((st = bind(m, &m->tok_embd, "token_embd.weight", E, V, 0, err, errlen)) ||
        (st = bind(m, &m->out_norm, "output_norm.weight", E, 1, 0, err, errlen)) ||
        (hp->arch != PLM_ARCH_GEMMA2 && (st = bind(m, &m->output, "output.weight", E, V, 1, err, errlen))))
        return st; /* gemma2: llama.cpp reads the token embedding as the output matrix, whatever else the file has */
    if (!m->output.data) m->output = m->tok_embd; /* tied embeddings */
    mm_prepare(m, &m->output);
    if ((st = bind_rope_factors(m, err, errlen))) return st;
    if (!(m->layers = calloc((size_t)hp->n_layer, sizeof *m->layers))) return ERR(PLM_OUT_OF_MEMORY, "out of memory");
    /* What each architecture adds to llama's layer (llama.cpp's tensor lists): a required tensor that is absent
     * is an error, a tensor the architecture does not have is ignored. */
    const int qwen2 = hp->arch == PLM_ARCH_QWEN2, bias = qwen2 || hp->arch == PLM_ARCH_LLAMA /* optional */,
              qk_norm = hp->arch == PLM_ARCH_QWEN3 || hp->arch == PLM_ARCH_GEMMA3,
              post_norm = hp->arch == PLM_ARCH_GEMMA2 || hp->arch == PLM_ARCH_GEMMA3;
    for (int i = 0; i < hp->n_layer; i++) {
        plm_layer *l = &m->layers[i];
        char n[16][64];
        const char *suf[16] = {"attn_norm.weight", "attn_q.weight", "attn_k.weight", "attn_v.weight",
                               "attn_output.weight", "attn_q.bias", "attn_k.bias", "attn_v.bias",
                               "ffn_norm.weight", "ffn_gate.weight", "ffn_up.weight", "ffn_down.weight",
                               "attn_q_norm.weight", "attn_k_norm.weight", "post_attention_norm.weight",
                               "post_ffw_norm.weight"};
        for (int j = 0; j < 16; j++) snprintf(n[j], sizeof n[j], "blk.%d.%s", i, suf[j]);
        l->swa = hp->n_swa > 0 && (hp->swa_pattern == 0 || i % hp->swa_pattern < hp->swa_pattern - 1);
        if (qk_norm && ((st = bind(m, &l->q_norm, n[12], hd, 1, 0, err, errlen)) ||
                        (st = bind(m, &l->k_norm, n[13], hd, 1, 0, err, errlen))))
            return st;
        if (post_norm && ((st = bind(m, &l->post_attn_norm, n[14], E, 1, 0, err, errlen)) ||
                          (st = bind(m, &l->post_ffn_norm, n[15], E, 1, 0, err, errlen))))
            return st;
        if (hp->arch == PLM_ARCH_PHI3) {
            if ((st = bind_phi3_layer(m, l, i, err, errlen))) return st;
        } else if ((st = bind(m, &l->attn_norm, n[0], E, 1, 0, err, errlen)) ||
            (st = bind(m, &l->wq, n[1], E, Q, 0, err, errlen)) || (st = bind(m, &l->wk, n[2], E, KV, 0, err, errlen)) ||
            (st = bind(m, &l->wv, n[3], E, KV, 0, err, errlen)) || (st = bind(m, &l->wo, n[4], Q, E, 0, err, errlen)) ||
            (bias && (st = bind(m, &l->bq, n[5], Q, 1, !qwen2, err, errlen))) ||
            (bias && (st = bind(m, &l->bk, n[6], KV, 1, !qwen2, err, errlen))) ||
            (bias && (st = bind(m, &l->bv, n[7], KV, 1, !qwen2, err, errlen))) ||
            (st = bind(m, &l->ffn_norm, n[8], E, 1, 0, err, errlen)) ||
            (st = bind(m, &l->w_gate, n[9], E, F, 0, err, errlen)) ||
            (st = bind(m, &l->w_up, n[10], E, F, 0, err, errlen)) ||
            (st = bind(m, &l->w_down, n[11], F, E, 0, err, errlen)))
            return st;
        plm_tensor *mm[7] = {&l->wq, &l->wk, &l->wv, &l->wo, &l->w_gate, &l->w_up, &l->w_down};
        for (int j = 0; j < 7; j++) mm_prepare(m, mm[j]);
    }
    return PLM_OK;
}

void plm_model_free(plm_model *m) {
    if (!m) return;
    plm_vocab_free(m->vocab);
    gguf_free(&m->gguf);
    free(m->header);
    plm_arena_free(m);
    free(m->layers);
    free(m);
}

void plm_model_get_info(const plm_model *m, plm_model_info *info) {
    memset(info, 0, sizeof *info);
    info->arch = m->arch;
    info->n_vocab = m->hp.n_vocab;
    info->n_ctx_train = m->hp.n_ctx_train;
    info->n_embd = m->hp.n_embd;
    info->n_layer = m->hp.n_layer;
    info->n_head = m->hp.n_head;
    info->n_head_kv = m->hp.n_head_kv;
    info->n_ff = m->hp.n_ff;
    info->has_weights = m->layers != NULL;
    info->weight_bytes = m->weights_size;
    info->bos = plm_vocab_bos(m->vocab);
    info->eos = plm_vocab_eos(m->vocab);
}
