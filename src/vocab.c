/* Vocabulary loading: token strings, scores, types, merges and special tokens from GGUF metadata, following
 * llama.cpp's llama_vocab::impl::load (defaults per tokenizer model, per pre-tokenizer flags, special-token
 * auto-detection by text, end-of-generation set). Lookups use open-addressing hash tables. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab_impl.h"

/* ---- hashing ---- */

uint64_t plm_hash_bytes(const char *s, size_t n, uint64_t seed) {
    uint64_t h = seed ^ (0x9e3779b97f4a7c15ull * (n + 1));
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        h = (h ^ w) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 29;
    }
    uint64_t w = 0;
    for (size_t k = 0; i + k < n; k++) w |= (uint64_t)(unsigned char)s[i + k] << (8 * k);
    h = (h ^ w) * 0x94d049bb133111ebull;
    h ^= h >> 31;
    h *= 0xbf58476d1ce4e5b9ull;
    h ^= h >> 32;
    return h;
}

static size_t table_size(size_t n) {
    size_t cap = 16;
    while (cap < 2 * n) cap <<= 1;
    return cap;
}

int32_t plm_vocab_find(const plm_vocab *v, const char *s, size_t n) {
    if (!v->tok_slots) return -1;
    size_t i = (size_t)plm_hash_bytes(s, n, 0) & v->tok_mask;
    for (;; i = (i + 1) & v->tok_mask) {
        int32_t e = v->tok_slots[i];
        if (e == 0) return -1;
        int32_t id = e - 1;
        if (v->text_len[id] == n && memcmp(v->text + v->text_off[id], s, n) == 0) return id;
    }
}

static uint64_t merge_hash(const char *a, size_t na, const char *b, size_t nb) {
    return plm_hash_bytes(b, nb, plm_hash_bytes(a, na, 1));
}

int32_t plm_vocab_merge_rank(const plm_vocab *v, const char *a, size_t na, const char *b, size_t nb) {
    if (!v->m_slots) return -1;
    size_t i = (size_t)merge_hash(a, na, b, nb) & v->m_mask;
    for (;; i = (i + 1) & v->m_mask) {
        int32_t e = v->m_slots[i];
        if (e == 0) return -1;
        int32_t m = e - 1;
        const char *t = v->mtext + v->m_off[m];
        if (v->m_len1[m] == na && v->m_len2[m] == nb && memcmp(t, a, na) == 0 && memcmp(t + na, b, nb) == 0)
            return m;
    }
}

void plm_ids_push(plm_ids *o, int32_t id) {
    if (o->oom) return;
    if (o->n == o->cap) {
        size_t cap = o->cap ? o->cap * 2 : 256;
        int32_t *p = realloc(o->p, cap * sizeof *p);
        if (!p) { o->oom = 1; return; }
        o->p = p;
        o->cap = cap;
    }
    o->p[o->n++] = id;
}

/* ---- accessors ---- */

int plm_vocab_n(const plm_vocab *v) { return v ? v->n : 0; }
int plm_vocab_bos(const plm_vocab *v) { return v ? v->bos : -1; }
int plm_vocab_eos(const plm_vocab *v) { return v ? v->eos : -1; }
int plm_vocab_eot(const plm_vocab *v) { return v ? v->eot : -1; }
int plm_vocab_add_bos(const plm_vocab *v) { return v ? v->add_bos : 0; }
int plm_vocab_add_eos(const plm_vocab *v) { return v ? v->add_eos : 0; }
int plm_vocab_add_space_prefix(const plm_vocab *v) { return v ? v->add_space_prefix : 0; }
const char *plm_vocab_model_name(const plm_vocab *v) { return v && v->type == PLM_VOCAB_BPE ? "gpt2" : "llama"; }
const char *plm_vocab_pre_name(const plm_vocab *v) { return v ? v->pre_name : ""; }

int plm_vocab_is_eog(const plm_vocab *v, int32_t id) { return v && id >= 0 && id < v->n && v->eog[id]; }
int plm_vocab_is_control(const plm_vocab *v, int32_t id) {
    return v && id >= 0 && id < v->n && (v->attr[id] & PLM_ATTR_CONTROL);
}

int plm_vocab_text(const plm_vocab *v, int32_t id, char *buf, int cap) {
    if (!v || id < 0 || id >= v->n) return -1;
    uint32_t n = v->text_len[id];
    if (buf && cap > 0 && (uint64_t)n < (uint64_t)cap) {
        memcpy(buf, plm_tok_text(v, id), n);
        buf[n] = 0;
    }
    return n > (uint32_t)INT32_MAX ? INT32_MAX : (int)n;
}

void plm_vocab_free(plm_vocab *v) {
    if (!v) return;
    free(v->text); free(v->text_off); free(v->text_len); free(v->score); free(v->attr); free(v->eog);
    free(v->tok_slots); free(v->mtext); free(v->m_off); free(v->m_len1); free(v->m_len2); free(v->m_slots);
    free(v->special);
    free(v);
}

/* ---- pre-tokenizer names (llama.cpp's llama_vocab::impl::load) ---- */

enum { F_IGNORE_MERGES = 1, F_ADD_BOS = 2, F_NO_CLEAN = 4, F_NO_BOS_ID = 8 };
static const struct { const char *name; int pre, flags; } pre_names[] = {
    {"default", PLM_PRE_DEFAULT, 0},
    {"llama3", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"llama-v3", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"llama-bpe", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"falcon3", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"falcon-h1", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"pixtral", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"midm-2.0", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"lfm2", PLM_PRE_LLAMA3, F_IGNORE_MERGES | F_ADD_BOS},
    {"dbrx", PLM_PRE_LLAMA3, 0},
    {"smaug-bpe", PLM_PRE_LLAMA3, 0},
    {"glm4", PLM_PRE_LLAMA3, F_NO_BOS_ID},
    {"chatglm-bpe", PLM_PRE_LLAMA3, F_NO_BOS_ID},
    {"falcon", PLM_PRE_FALCON, 0},
    {"mpt", PLM_PRE_GPT2, 0},
    {"gpt-2", PLM_PRE_GPT2, 0},
    {"phi-2", PLM_PRE_GPT2, 0},
    {"jina-es", PLM_PRE_GPT2, 0},
    {"jina-de", PLM_PRE_GPT2, 0},
    {"gigachat", PLM_PRE_GPT2, 0},
    {"jina-v2-es", PLM_PRE_GPT2, 0},
    {"jina-v2-de", PLM_PRE_GPT2, 0},
    {"a.x-4.0", PLM_PRE_GPT2, 0},
    {"mellum", PLM_PRE_GPT2, 0},
    {"olmo", PLM_PRE_GPT2, 0},
    {"jais", PLM_PRE_GPT2, 0},
    {"exaone4", PLM_PRE_GPT2, 0},
    {"trillion", PLM_PRE_GPT2, F_NO_CLEAN},
    {"granite-docling", PLM_PRE_GPT2, F_NO_CLEAN},
    {"starcoder", PLM_PRE_STARCODER, 0},
    {"refact", PLM_PRE_STARCODER, 0},
    {"command-r", PLM_PRE_STARCODER, F_NO_CLEAN},
    {"smollm", PLM_PRE_STARCODER, F_NO_CLEAN},
    {"codeshell", PLM_PRE_STARCODER, 0},
    {"exaone", PLM_PRE_STARCODER, 0},
    {"minerva-7b", PLM_PRE_STARCODER, 0},
    {"mellum2", PLM_PRE_STARCODER, 0},
    {"qwen2", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"deepseek-r1-qwen", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"kormo", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"f2llmv2", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"stablelm2", PLM_PRE_QWEN2, 0},
    {"megrez", PLM_PRE_QWEN2, 0},
    {"hunyuan", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"solar-open", PLM_PRE_QWEN2, F_NO_CLEAN},
    {"grok-2", PLM_PRE_QWEN2, F_NO_CLEAN},
};

int plm_vocab_pre_supported(const char *name) {
    for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0]; i++)
        if (!strcmp(pre_names[i].name, name)) return 1;
    return 0;
}

/* ---- loading ---- */

typedef struct loadctx { char *err; size_t errlen; } loadctx;

static plm_status fail(loadctx *c, plm_status st, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    if (c->err && c->errlen) vsnprintf(c->err, c->errlen, fmt, ap);
    va_end(ap);
    return st;
}

static int str_is(gguf_str s, const char *z) { return s.n == strlen(z) && memcmp(s.s, z, s.n) == 0; }

static uint32_t rd_u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static void set_slot(int32_t *slots, size_t mask, uint64_t h, int32_t value) {
    size_t i = (size_t)h & mask;
    while (slots[i] != 0) i = (i + 1) & mask;
    slots[i] = value + 1;
}

static int32_t find_z(const plm_vocab *v, const char *z) { return plm_vocab_find(v, z, strlen(z)); }

/* Reads the merges "first second" (split at the first space after the first byte, as llama.cpp). */
static plm_status load_merges(plm_vocab *v, const gguf_kv *kv, loadctx *c) {
    if (kv->type != GGUF_ARRAY || kv->arr_type != GGUF_STRING)
        return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.merges must be an array of strings");
    if (kv->arr_n > (uint64_t)INT32_MAX - 1) return fail(c, PLM_BAD_MODEL, "too many merges");
    size_t n = (size_t)kv->arr_n, total = 0;
    const uint8_t *p = kv->arr_data;
    for (size_t i = 0; i < n; i++) {
        gguf_str s;
        p = gguf_str_array_next(p, &s);
        total += (size_t)s.n;
    }
    v->mtext = malloc(total ? total : 1);
    v->m_off = malloc((n ? n : 1) * sizeof *v->m_off);
    v->m_len1 = malloc((n ? n : 1) * sizeof *v->m_len1);
    v->m_len2 = malloc((n ? n : 1) * sizeof *v->m_len2);
    v->m_mask = table_size(n) - 1;
    v->m_slots = calloc(v->m_mask + 1, sizeof *v->m_slots);
    if (!v->mtext || !v->m_off || !v->m_len1 || !v->m_len2 || !v->m_slots)
        return fail(c, PLM_OUT_OF_MEMORY, "out of memory reading %zu merges", n);
    p = kv->arr_data;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        gguf_str s;
        p = gguf_str_array_next(p, &s);
        size_t len = (size_t)s.n, sp = 0;
        for (size_t k = 1; k < len; k++) if (s.s[k] == ' ') { sp = k; break; }
        size_t l1 = sp ? sp : 0, l2 = sp ? len - sp - 1 : 0; /* no space: llama.cpp stores an empty pair */
        memcpy(v->mtext + at, s.s, l1);
        memcpy(v->mtext + at + l1, s.s + sp + 1, l2);
        v->m_off[i] = at;
        v->m_len1[i] = (uint32_t)l1;
        v->m_len2[i] = (uint32_t)l2;
        at += l1 + l2;
        /* the first occurrence of a pair keeps its rank (std::unordered_map::emplace) */
        if (plm_vocab_merge_rank(v, v->mtext + v->m_off[i], l1, v->mtext + v->m_off[i] + l1, l2) >= 0) continue;
        set_slot(v->m_slots, v->m_mask, merge_hash(v->mtext + v->m_off[i], l1, v->mtext + v->m_off[i] + l1, l2),
                 (int32_t)i);
    }
    v->n_merges = (int32_t)n;
    return PLM_OK;
}

/* A special-token id from metadata: out-of-range values are ignored (the default stays), as llama.cpp. */
static void special_id(const gguf_file *g, const plm_vocab *v, const char *key, int32_t *id) {
    if (*id >= v->n) *id = -1;
    uint32_t x;
    if (gguf_get_u32(g, key, &x) && x < (uint32_t)v->n) *id = (int32_t)x;
}

static void mark_control(plm_vocab *v, int32_t id) { v->attr[id] |= PLM_ATTR_CONTROL; }

/* The first candidate the vocabulary has (its id), or -1. llama.cpp takes the first its hash map of token texts
 * yields, an order no format fixes; on the real vocabularies with two candidates it is the list's order (Llama 3:
 * <|eot_id|> before <|end_of_text|>; Qwen: <|im_end|> before <|endoftext|>), checked in
 * tests/data/conformance/tokenize-*.json. */
static int32_t detect(const plm_vocab *v, const char *const *cands) {
    for (const char *const *c = cands; *c; c++) {
        int32_t id = find_z(v, *c);
        if (id >= 0) return id;
    }
    return -1;
}

/* longer text first; equal lengths by id (llama.cpp leaves their order to std::sort) */
static int special_before(int32_t x, int32_t y, const plm_vocab *v) {
    if (v->text_len[x] != v->text_len[y]) return v->text_len[x] > v->text_len[y];
    return x < y;
}

/* merge sort (qsort has no context argument in C11) */
static void sort_special(int32_t *a, int32_t *tmp, size_t n, const plm_vocab *v) {
    if (n < 2) return;
    size_t h = n / 2;
    sort_special(a, tmp, h, v);
    sort_special(a + h, tmp, n - h, v);
    size_t i = 0, j = h, k = 0;
    while (i < h && j < n) tmp[k++] = special_before(a[j], a[i], v) ? a[j++] : a[i++];
    while (i < h) tmp[k++] = a[i++];
    while (j < n) tmp[k++] = a[j++];
    memcpy(a, tmp, n * sizeof *a);
}

/* Models whose vocabulary holds a token that llama.cpp's text rules make end-of-generation, but that is not one
 * for them: `token` stops ending generation and gets attribute `attr` when, for each of the two `when` lists (an
 * empty list always holds), one of its tokens ends generation too. */
static const struct eog_exception { const char *token, *when[2][3]; uint16_t attr; } eog_exceptions[] = {
    /* o200k_harmony (gpt-oss), solar-open: "<|end|>" closes a message, not the reply */
    {"<|end|>", {{"<|call|>", "<|calls|>", NULL}, {"<|return|>", "<|flush|>", NULL}}, PLM_ATTR_USER_DEFINED},
    /* gemma4, paddleocr: "</s>" is ordinary text */
    {"</s>", {{"<|tool_response>", NULL}, {NULL}}, PLM_ATTR_NORMAL},
};

/* whether one of the tokens of a NULL-terminated list (empty: yes) ends generation */
static int any_eog(const plm_vocab *v, const char *const *list) {
    if (!list[0]) return 1;
    for (; *list; list++) {
        const int32_t id = find_z(v, *list);
        if (id >= 0 && v->eog[id]) return 1;
    }
    return 0;
}

static plm_status finish_specials(plm_vocab *v, const gguf_file *g, loadctx *c) {
    int32_t fim_pad = -1, fim_rep = -1, fim_sep = -1, fim_pre = -1, fim_suf = -1, fim_mid = -1;
    special_id(g, v, "tokenizer.ggml.bos_token_id", &v->bos);
    special_id(g, v, "tokenizer.ggml.eos_token_id", &v->eos);
    special_id(g, v, "tokenizer.ggml.eot_token_id", &v->eot);
    special_id(g, v, "tokenizer.ggml.eom_token_id", &v->eom);
    special_id(g, v, "tokenizer.ggml.unknown_token_id", &v->unk);
    special_id(g, v, "tokenizer.ggml.fim_pre_token_id", &fim_pre);
    special_id(g, v, "tokenizer.ggml.fim_suf_token_id", &fim_suf);
    special_id(g, v, "tokenizer.ggml.fim_mid_token_id", &fim_mid);
    special_id(g, v, "tokenizer.ggml.fim_pad_token_id", &fim_pad);
    special_id(g, v, "tokenizer.ggml.fim_rep_token_id", &fim_rep);
    special_id(g, v, "tokenizer.ggml.fim_sep_token_id", &fim_sep);
    special_id(g, v, "tokenizer.ggml.prefix_token_id", &fim_pre);
    special_id(g, v, "tokenizer.ggml.suffix_token_id", &fim_suf);
    special_id(g, v, "tokenizer.ggml.middle_token_id", &fim_mid);
    int b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_bos_token", &b)) v->add_bos = b;
    if (gguf_get_bool(g, "tokenizer.ggml.add_eos_token", &b)) v->add_eos = b;

    /* auto-detection by text (llama.cpp: "convert scripts should provide these tokens through the KV metadata") */
    static const char *const eot_c[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
                                        "<|end_of_text|>", "<EOT>", "_<EOT>", "[EOT]",
                                        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                        "<end_of_utterance>", NULL};
    static const char *const eom_c[] = {"<|eom_id|>", NULL};
    static const char *const pre_c[] = {"<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>",
                                        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "begin\xef\xbd\x9c>", "<PRE>",
                                        "\xe2\x96\x81<PRE>", "<|code_prefix|>", "<|prefix|>", NULL};
    static const char *const suf_c[] = {"<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>",
                                        "<\xef\xbd\x9c" "fim\xe2\x96\x81hole\xef\xbd\x9c>", "<SUF>",
                                        "\xe2\x96\x81<SUF>", "<|code_suffix|>", "<|suffix|>", NULL};
    static const char *const mid_c[] = {"<|fim_middle|>", "<fim-middle>", "<fim_middle>",
                                        "<\xef\xbd\x9c" "fim\xe2\x96\x81" "end\xef\xbd\x9c>", "<MID>",
                                        "\xe2\x96\x81<MID>", "<|code_middle|>", "<|middle|>", NULL};
    static const char *const pad_c[] = {"<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]", NULL};
    static const char *const rep_c[] = {"<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", NULL};
    static const char *const sep_c[] = {"<|file_sep|>", NULL};
    struct { int32_t *id; const char *const *c; } auto_ids[] = {
        {&v->eot, eot_c}, {&v->eom, eom_c}, {&fim_pre, pre_c}, {&fim_suf, suf_c},
        {&fim_mid, mid_c}, {&fim_pad, pad_c}, {&fim_rep, rep_c}, {&fim_sep, sep_c},
    };
    for (size_t i = 0; i < sizeof auto_ids / sizeof auto_ids[0]; i++) {
        if (*auto_ids[i].id >= 0) continue;
        int32_t id = detect(v, auto_ids[i].c);
        if (id >= 0) { *auto_ids[i].id = id; mark_control(v, id); }
    }

    /* end-of-generation set */
    static const char *const eog_c[] = {"<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>",
                                        "<|calls|>", "<end_of_turn>", "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>",
                                        "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>", "<end_of_utterance>", "<eos>",
                                        "<turn|>", "<|tool_response>",
                                        "<\xef\xbd\x9c" "end\xe2\x96\x81of\xe2\x96\x81sentence\xef\xbd\x9c>",
                                        "[e~[", NULL};
    if (fim_pad >= 0) v->eog[fim_pad] = 1;
    if (fim_rep >= 0) v->eog[fim_rep] = 1;
    if (fim_sep >= 0) v->eog[fim_sep] = 1;
    for (const char *const *e = eog_c; *e; e++) {
        int32_t id = find_z(v, *e);
        if (id >= 0) { v->eog[id] = 1; mark_control(v, id); }
    }
    /* gpt-oss: these are always rendered */
    static const char *const shown[] = {"<|channel|>", "<|message|>", "<|start|>", "<|constrain|>", NULL};
    for (const char *const *e = shown; *e; e++) {
        int32_t id = find_z(v, *e);
        if (id >= 0) v->attr[id] = PLM_ATTR_USER_DEFINED;
    }
    if (v->eos >= 0) v->eog[v->eos] = 1;
    if (v->eot >= 0) v->eog[v->eot] = 1;
    if (v->eom >= 0) v->eog[v->eom] = 1;
    /* per-model exceptions to the end-of-generation set (eog_exceptions) */
    for (size_t i = 0; i < sizeof eog_exceptions / sizeof eog_exceptions[0]; i++) {
        const struct eog_exception *x = &eog_exceptions[i];
        const int32_t id = find_z(v, x->token);
        if (id >= 0 && v->eog[id] && any_eog(v, x->when[0]) && any_eog(v, x->when[1])) {
            v->eog[id] = 0;
            v->attr[id] = x->attr;
        }
    }

    /* tokens matched in raw text: control, user-defined and unknown, longest first */
    size_t ns = 0;
    for (int32_t id = 0; id < v->n; id++)
        if (v->attr[id] & (PLM_ATTR_CONTROL | PLM_ATTR_USER_DEFINED | PLM_ATTR_UNKNOWN)) ns++;
    v->special = malloc((ns ? ns : 1) * sizeof *v->special);
    int32_t *tmp = malloc((ns ? ns : 1) * sizeof *tmp);
    if (!v->special || !tmp) { free(tmp); return fail(c, PLM_OUT_OF_MEMORY, "out of memory"); }
    ns = 0;
    for (int32_t id = 0; id < v->n; id++)
        if (v->attr[id] & (PLM_ATTR_CONTROL | PLM_ATTR_USER_DEFINED | PLM_ATTR_UNKNOWN)) v->special[ns++] = id;
    sort_special(v->special, tmp, ns, v);
    free(tmp);
    v->n_special = (int32_t)ns;

    /* Phi-3 (by general.name): special tokens swallow the whitespace that follows them */
    gguf_str name;
    if (gguf_get_str(g, "general.name", &name)) {
        char low[256];
        size_t ln = name.n < sizeof low - 1 ? (size_t)name.n : sizeof low - 1;
        for (size_t i = 0; i < ln; i++) {
            char ch = name.s[i];
            low[i] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : (ch ? ch : ' '));
        }
        low[ln] = 0;
        int phi3 = strstr(low, "phi-3") || strstr(low, "phi3");
        if (phi3) {
            for (int32_t i = 0; i < v->n_special; i++) v->attr[v->special[i]] |= PLM_ATTR_RSTRIP;
            int32_t id;
            if ((id = find_z(v, "</s>")) >= 0) v->attr[id] |= PLM_ATTR_RSTRIP;
            static const char *const keep[] = {"<unk>", "<s>", "<|endoftext|>"};
            for (size_t i = 0; i < 3; i++)
                if ((id = find_z(v, keep[i])) >= 0) v->attr[id] &= (uint16_t)~PLM_ATTR_RSTRIP;
        }
    }
    return PLM_OK;
}

static plm_status load(plm_vocab *v, const gguf_file *g, loadctx *c) {
    gguf_str model, pre = {"", 0};
    if (!gguf_get_str(g, "tokenizer.ggml.model", &model))
        return fail(c, PLM_BAD_MODEL, gguf_find(g, "tokenizer.ggml.model") ? "tokenizer.ggml.model must be a string"
                                                                           : "metadata key 'tokenizer.ggml.model' is missing");
    int has_pre = gguf_get_str(g, "tokenizer.ggml.pre", &pre);
    v->bos = v->eos = v->eot = v->eom = v->unk = -1;
    if (str_is(model, "llama")) {
        v->type = PLM_VOCAB_SPM;
        v->bos = 1; v->eos = 2; v->unk = 0;
        v->add_space_prefix = 1;
        v->add_bos = 1;
        snprintf(v->pre_name, sizeof v->pre_name, "default");
    } else if (str_is(model, "gpt2")) {
        v->type = PLM_VOCAB_BPE;
        v->bos = 11; v->eos = 11;
        v->clean_spaces = 1;
        int found = -1;
        if (!has_pre || pre.n == 0) {
            found = 0; /* llama.cpp: "missing pre-tokenizer type, using: 'default'" */
        } else {
            for (size_t i = 0; i < sizeof pre_names / sizeof pre_names[0]; i++)
                if (str_is(pre, pre_names[i].name)) { found = (int)i; break; }
        }
        if (found < 0) {
            int n = pre.n > 60 ? 60 : (int)pre.n;
            return fail(c, PLM_UNSUPPORTED, "pre-tokenizer '%.*s' (tokenizer.ggml.pre) is not supported", n, pre.s);
        }
        v->pre = pre_names[found].pre;
        snprintf(v->pre_name, sizeof v->pre_name, "%s", pre_names[found].name);
        int f = pre_names[found].flags;
        v->ignore_merges = (f & F_IGNORE_MERGES) != 0;
        if (f & F_ADD_BOS) v->add_bos = 1;
        if (f & F_NO_CLEAN) v->clean_spaces = 0;
        if (f & F_NO_BOS_ID) v->bos = -1;
    } else {
        int n = model.n > 60 ? 60 : (int)model.n;
        return fail(c, PLM_UNSUPPORTED, "tokenizer model '%.*s' (tokenizer.ggml.model) is not supported "
                    "(llama and gpt2 are)", n, model.s);
    }
    int asp;
    if (gguf_get_bool(g, "tokenizer.ggml.add_space_prefix", &asp)) v->add_space_prefix = asp;

    const gguf_kv *tk = gguf_find(g, "tokenizer.ggml.tokens");
    if (!tk) return fail(c, PLM_BAD_MODEL, "metadata key 'tokenizer.ggml.tokens' is missing");
    if (tk->type != GGUF_ARRAY || tk->arr_type != GGUF_STRING)
        return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.tokens must be an array of strings");
    if (tk->arr_n == 0 || tk->arr_n > (1u << 24))
        return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.tokens has %llu entries (1..16777216 allowed)",
                    (unsigned long long)tk->arr_n);
    size_t n = (size_t)tk->arr_n;
    v->n = (int32_t)n;

    const gguf_kv *sc = gguf_find(g, "tokenizer.ggml.scores");
    if (sc && (sc->type != GGUF_ARRAY || (sc->arr_type != GGUF_F32 && sc->arr_type != GGUF_I32)))
        return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.scores must be an array of f32");
    if (sc && sc->arr_n < n) return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.scores has fewer entries than tokens");
    const gguf_kv *tt = gguf_find(g, "tokenizer.ggml.token_type");
    if (tt && (tt->type != GGUF_ARRAY || tt->arr_type != GGUF_I32))
        return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.token_type must be an array of i32");
    if (tt && tt->arr_n < n) return fail(c, PLM_BAD_MODEL, "tokenizer.ggml.token_type has fewer entries than tokens");

    /* token strings: empty ones become "[EMPTY_<id>]" as in llama.cpp */
    size_t total = 0;
    const uint8_t *p = tk->arr_data;
    for (size_t i = 0; i < n; i++) {
        gguf_str s;
        p = gguf_str_array_next(p, &s);
        if (s.n > UINT32_MAX / 2) return fail(c, PLM_BAD_MODEL, "token %zu is too long", i);
        total += s.n ? (size_t)s.n : 24;
    }
    v->text = malloc(total ? total : 1);
    v->text_off = malloc(n * sizeof *v->text_off);
    v->text_len = malloc(n * sizeof *v->text_len);
    v->score = malloc(n * sizeof *v->score);
    v->attr = malloc(n * sizeof *v->attr);
    v->eog = calloc(n, 1);
    v->tok_mask = table_size(n) - 1;
    v->tok_slots = calloc(v->tok_mask + 1, sizeof *v->tok_slots);
    if (!v->text || !v->text_off || !v->text_len || !v->score || !v->attr || !v->eog || !v->tok_slots)
        return fail(c, PLM_OUT_OF_MEMORY, "out of memory loading %zu tokens", n);
    p = tk->arr_data;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) {
        gguf_str s;
        p = gguf_str_array_next(p, &s);
        size_t len = (size_t)s.n;
        if (len) memcpy(v->text + at, s.s, len);
        else len = (size_t)snprintf(v->text + at, 24, "[EMPTY_%zu]", i);
        v->text_off[i] = at;
        v->text_len[i] = (uint32_t)len;
        at += len;
        if ((int32_t)len > v->max_token_len) v->max_token_len = (int32_t)len;
        float score = 0.0f;
        if (sc && sc->arr_type == GGUF_F32) {
            uint32_t bits = rd_u32(sc->arr_data + 4 * i);
            memcpy(&score, &bits, 4);
        } else if (sc) {
            score = (float)(int32_t)rd_u32(sc->arr_data + 4 * i);
        }
        v->score[i] = score;
        uint16_t attr = PLM_ATTR_NORMAL;
        if (tt) {
            switch ((int32_t)rd_u32(tt->arr_data + 4 * i)) {
            case 1: attr = PLM_ATTR_NORMAL; break;
            case 2: attr = PLM_ATTR_UNKNOWN; break;
            case 3: attr = PLM_ATTR_CONTROL; break;
            case 4: attr = PLM_ATTR_USER_DEFINED; break;
            case 5: attr = PLM_ATTR_UNUSED; break;
            case 6: attr = PLM_ATTR_BYTE; break;
            default: attr = PLM_ATTR_UNDEFINED; break;
            }
        }
        v->attr[i] = attr;
        /* duplicates: the first id keeps the string (llama.cpp refuses such files; we stay usable) */
        if (plm_vocab_find(v, v->text + at - len, len) < 0)
            set_slot(v->tok_slots, v->tok_mask, plm_hash_bytes(v->text + at - len, len, 0), (int32_t)i);
    }

    if (v->type == PLM_VOCAB_SPM) {
        /* tokenizer_spm.c may cut the text before a U+2581 that follows another character when no token could
         * span such a place: no token has U+2581 at an offset > 0 unless the 3 bytes before it are U+2581 too */
        v->spm_split = 1;
        for (int32_t id = 0; id < v->n && v->spm_split; id++) {
            const char *t = plm_tok_text(v, id);
            for (uint32_t k = 1; k + 3 <= v->text_len[id]; k++)
                if (!memcmp(t + k, "\xe2\x96\x81", 3) && !(k >= 3 && !memcmp(t + k - 3, "\xe2\x96\x81", 3))) {
                    v->spm_split = 0;
                    break;
                }
        }
    }
    if (v->type == PLM_VOCAB_BPE) {
        const gguf_kv *mk = gguf_find(g, "tokenizer.ggml.merges");
        if (!mk) return fail(c, PLM_BAD_MODEL, "metadata key 'tokenizer.ggml.merges' is missing");
        plm_status st = load_merges(v, mk, c);
        if (st != PLM_OK) return st;
    }
    return finish_specials(v, g, c);
}

plm_status plm_vocab_load(const gguf_file *g, plm_vocab **out, char *err, size_t errlen) {
    loadctx c = {err, errlen};
    *out = NULL;
    if (!g) return fail(&c, PLM_BAD_ARG, "no GGUF header");
    plm_vocab *v = calloc(1, sizeof *v);
    if (!v) return fail(&c, PLM_OUT_OF_MEMORY, "out of memory");
    plm_status st = load(v, g, &c);
    if (st != PLM_OK) { plm_vocab_free(v); return st; }
    *out = v;
    return PLM_OK;
}
