/* Public API glue: status names, tokens and chat through the vocabulary, the model's JSON description. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "chat.h"
#include "model.h"
#include "vocab.h"

const char *plm_status_name(plm_status s) {
    static const char *const names[] = {"OK", "BAD_MODEL", "UNSUPPORTED", "OUT_OF_MEMORY", "IO", "BAD_ARG",
                                        "CONTEXT_FULL", "ABORTED"};
    return (unsigned)s < sizeof names / sizeof names[0] ? names[s] : "UNKNOWN";
}

const char *plm_backend_name(void) { return plm_kern()->name; }
const char *plm_model_backend_name(const plm_model *m) { return m && m->kern ? m->kern->name : plm_backend_name(); }

const char *plm_version(void) { return PLM_VERSION; }

int plm_tokenize(const plm_model *m, const char *text, size_t len, int32_t *ids, int cap, int add_bos,
                 int parse_special) {
    return plm_vocab_tokenize(m->vocab, text, len, ids, cap, add_bos, parse_special);
}

int plm_token_to_piece(const plm_model *m, int32_t id, char *buf, int cap) {
    return plm_vocab_piece(m->vocab, id, buf, cap);
}

int plm_token_is_eog(const plm_model *m, int32_t id) { return plm_vocab_is_eog(m->vocab, id); }

/* A token's text as a malloc'd string ("" for no token); NULL when out of memory. */
static char *token_text(const plm_model *m, int32_t id) {
    int n = id >= 0 ? plm_vocab_text(m->vocab, id, NULL, 0) : 0;
    char *t = malloc((size_t)(n > 0 ? n : 0) + 1);
    if (t && (n <= 0 || plm_vocab_text(m->vocab, id, t, n + 1) != n)) t[0] = 0;
    return t;
}

int plm_chat_apply(const plm_model *m, const plm_chat_message *msgs, int n, int add_assistant, char *buf, int cap,
                   const char **family) {
    if (m->err[0]) return -1;
    gguf_str t;
    char *tmpl = NULL;
    if (gguf_get_str(&m->gguf, "tokenizer.chat_template", &t)) {
        if (!(tmpl = malloc((size_t)t.n + 1))) return -1;
        memcpy(tmpl, t.s, (size_t)t.n);
        tmpl[t.n] = 0;
    }
    char *bos = token_text(m, plm_vocab_bos(m->vocab)), *eos = token_text(m, plm_vocab_eos(m->vocab));
    int r = bos && eos ? plm_chat_render(tmpl, msgs, n, add_assistant, bos, eos, buf, cap, family) : -1;
    free(tmpl);
    free(bos);
    free(eos);
    return r;
}

/* ---- JSON description (CLI `info`) ---- */

typedef struct sbuf { char *p; size_t n, cap; int oom; } sbuf;

static void put(sbuf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
}

static void putf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#include <stdarg.h>
static void putf(sbuf *b, const char *fmt, ...) {
    char tmp[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0) put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* JSON string; bytes that are not valid UTF-8 are replaced so the output always parses. Long values are cut. */
static void put_str(sbuf *b, const char *s, uint64_t n, uint64_t max) {
    put(b, "\"", 1);
    uint64_t lim = n < max ? n : max;
    for (uint64_t i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') { put(b, "\\", 1); put(b, (const char *)&c, 1); }
        else if (c < 0x20) putf(b, "\\u%04x", c);
        else if (c < 0x80) put(b, (const char *)&c, 1);
        else {
            int len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 0;
            int ok = len && i + (uint64_t)len <= lim;
            for (int j = 1; ok && j < len; j++) ok = ((unsigned char)s[i + j] & 0xC0) == 0x80;
            if (ok) { put(b, s + i, (size_t)len); i += (uint64_t)len - 1; }
            else put(b, "\xEF\xBF\xBD", 3);
        }
    }
    if (n > max) put(b, "...", 3);
    put(b, "\"", 1);
}

static void put_kv_value(sbuf *b, const gguf_kv *kv) {
    switch (kv->type) {
    case GGUF_U8: case GGUF_U16: case GGUF_U32: case GGUF_U64: putf(b, "%llu", (unsigned long long)kv->v.u); break;
    case GGUF_I8: case GGUF_I16: case GGUF_I32: case GGUF_I64: putf(b, "%lld", (long long)kv->v.i); break;
    case GGUF_F32: case GGUF_F64: putf(b, "%.9g", kv->v.f); break;
    case GGUF_BOOL: put(b, kv->v.u ? "true" : "false", kv->v.u ? 4 : 5); break;
    case GGUF_STRING: put_str(b, kv->str.s, kv->str.n, 4096); break;
    case GGUF_ARRAY: {
        static const char *const tn[] = {"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string",
                                         "array", "u64", "i64", "f64"};
        putf(b, "{\"array\":\"%s\",\"length\":%llu}", tn[kv->arr_type], (unsigned long long)kv->arr_n);
        break;
    }
    }
}

char *plm_model_info_json(const plm_model *m) {
    if (m->err[0]) return NULL;
    sbuf b = {0};
    const gguf_file *g = &m->gguf;
    putf(&b, "{\"version\":%u,\"pocketlm_version\":\"%s\",\"backend\":\"%s\",\"metadata\":{", g->version,
         plm_version(), plm_backend_name());
    for (uint64_t i = 0; i < g->n_kv; i++) {
        if (i) put(&b, ",", 1);
        put_str(&b, g->kv[i].key.s, g->kv[i].key.n, 256);
        put(&b, ":", 1);
        put_kv_value(&b, &g->kv[i]);
    }
    put(&b, "},\"tensors\":[", 13);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        put(&b, i ? ",{\"name\":" : "{\"name\":", i ? 9 : 8);
        put_str(&b, t->name.s, t->name.n, 256);
        putf(&b, ",\"type\":\"%s\",\"shape\":[", gguf_type_name(t->type));
        for (uint32_t d = 0; d < t->n_dims; d++) putf(&b, d ? ",%llu" : "%llu", (unsigned long long)t->ne[d]);
        putf(&b, "],\"offset\":%llu,\"bytes\":%llu}", (unsigned long long)t->offset, (unsigned long long)t->size);
    }
    putf(&b, "],\"weight_bytes\":%llu}", (unsigned long long)m->weights_size);
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}

/* ---- inspection: the facts a page wants before downloading a model (pocketlm.h: plm_inspect_json) ---- */

static void put_facts(sbuf *b, const plm_model *m, const plm_session_params *p) {
    const gguf_file *g = &m->gguf;
    gguf_str s;
    put(b, ",\"architecture\":", 16);
    if (gguf_get_str(g, "general.architecture", &s)) put_str(b, s.s, s.n, 64);
    else put(b, "null", 4);
    put(b, ",\"name\":", 8);
    if (gguf_get_str(g, "general.name", &s)) put_str(b, s.s, s.n, 256);
    else put(b, "null", 4);
    uint64_t params = 0, count[64] = {0}, bytes[64] = {0};
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const gguf_tensor *t = &g->tensors[i];
        params += t->ne[0] * t->ne[1] * t->ne[2] * t->ne[3]; /* each product was checked below 2^63 */
        if (t->type < 64) count[t->type]++, bytes[t->type] += t->size;
    }
    putf(b, ",\"parameters\":%llu,\"tensors\":%llu,\"types\":{", (unsigned long long)params,
         (unsigned long long)g->n_tensors);
    for (int t = 0, first = 1; t < 64; t++)
        if (count[t]) {
            putf(b, "%s\"%s\":{\"tensors\":%llu,\"bytes\":%llu}", first ? "" : ",", gguf_type_name((uint32_t)t),
                 (unsigned long long)count[t], (unsigned long long)bytes[t]);
            first = 0;
        }
    put(b, "}", 1);
    uint32_t v;
    char key[96] = "";
    if (gguf_get_str(g, "general.architecture", &s) && s.n < 64)
        snprintf(key, sizeof key, "%.*s.context_length", (int)s.n, s.s);
    if (gguf_get_u32(g, key, &v)) putf(b, ",\"context_length\":%u", v);
    else put(b, ",\"context_length\":null", 22);
    put(b, ",\"chat_template\":", 17);
    if (gguf_get_str(g, "tokenizer.chat_template", &s)) put_str(b, s.s, s.n, 1 << 20);
    else put(b, "null", 4);
    putf(b, ",\"header_bytes\":%llu,\"file_bytes\":%llu", (unsigned long long)g->data_offset,
         (unsigned long long)(g->data_offset + g->data_size));
    plm_memory mem;
    if (plm_model_memory(m, p, &mem) == PLM_OK)
        putf(b, ",\"memory\":{\"n_ctx\":%d,\"weights\":%llu,\"model\":%llu,\"kv_cache\":%llu,\"scratch\":%llu,"
             "\"total\":%llu}", mem.n_ctx, (unsigned long long)mem.weights, (unsigned long long)mem.model,
             (unsigned long long)mem.kv_cache, (unsigned long long)mem.scratch, (unsigned long long)mem.total);
    else
        put(b, ",\"memory\":null", 14);
}

char *plm_inspect_json(const void *bytes, size_t n, const plm_session_params *p, uint64_t limit, uint64_t *need) {
    char err[320];
    gguf_file g;
    uint64_t nd = 0;
    if (need) *need = 0;
    plm_status st = gguf_parse(&g, bytes, n, &nd, err, sizeof err);
    if (st && nd > n) {
        if (need) *need = nd > 2 * (uint64_t)n ? nd : 2 * (uint64_t)n; /* doubling: O(log H) parses of a header of H */
        return NULL;
    }
    plm_model *m = NULL;
    if (st == PLM_OK) {
        /* A model without weights, made as the loader makes one, and judged as the loader judges it. */
        if (!(m = calloc(1, sizeof *m))) { gguf_free(&g); return NULL; }
        m->gguf = g;
        st = plm_model_read_header(m, err, sizeof err);
        if (!st) st = plm_model_check(m, err, sizeof err);
        if (!st) st = plm_model_fits(m, p, limit ? limit : plm_memory_available(), err, sizeof err);
    }
    sbuf b = {0};
    putf(&b, "{\"status\":\"%s\",\"supported\":%s,\"message\":", plm_status_name(st), st ? "false" : "true");
    put_str(&b, st ? err : "", st ? strlen(err) : 0, sizeof err);
    if (m && st != PLM_BAD_MODEL) put_facts(&b, m, p);
    put(&b, "}", 1);
    plm_model_free(m);
    if (b.oom) { free(b.p); return NULL; }
    return b.p;
}
