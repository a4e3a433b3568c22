/* The WebAssembly face of pocketlm: a thin layer over src/pocketlm.h for the JavaScript engine (js-bindings/engine.js).
 *
 * Most public functions are exported to JavaScript as they are (plm_tokenize, plm_chat_apply, plm_status_name, ...).
 * This file only adds what plain wasm calls cannot express well: out-pointers folded into small handle structs,
 * 64-bit values as doubles, and the per-token "generator" (session + sampler + UTF-8 carry) so that one call per
 * token does everything: evaluate the last token, sample the next, and hand back its text bytes only once they form
 * complete UTF-8 characters.
 *
 * Ownership: every plmw_* handle is freed by its matching plmw_*_free. Pointers returned into a handle stay valid
 * until the next call on that handle. No global mutable state: two generators never share anything writable.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm.h"

#ifdef __EMSCRIPTEN__
#include <emscripten/emscripten.h>
#define PLMW_EXPORT EMSCRIPTEN_KEEPALIVE
#else
#define PLMW_EXPORT
#endif

/* ---- loading ---- */

typedef struct plmw_loader {
    plm_loader *ld;
    plm_model *model; /* set by a successful finish, until taken */
    char err[256];
} plmw_loader;

PLMW_EXPORT plmw_loader *plmw_loader_new(void) {
    plmw_loader *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    if (plm_loader_new(&w->ld)) { free(w); return NULL; }
    return w;
}

/* The model and its first session (parameters as plm_session_new takes them) must fit in limit bytes (0: what
 * wasm32's 4 GiB leaves): a model that cannot is refused once its header is in, before the weights are copied. */
PLMW_EXPORT void plmw_loader_set_memory_limit(plmw_loader *w, double limit, int n_ctx, int n_batch, int kv_f32) {
    plm_session_params p;
    plm_session_default_params(&p);
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.kv_f32 = kv_f32;
    plm_loader_set_memory_limit(w->ld, limit > 0 ? (uint64_t)limit : 0, &p);
}

/* plm_inspect_json with 64-bit numbers as doubles. NULL when more bytes are needed (*need: how many in all, 0 when
 * out of memory). The caller frees the string. */
PLMW_EXPORT char *plmw_inspect(const void *bytes, size_t n, int n_ctx, int n_batch, int kv_f32, double limit,
                               double *need) {
    plm_session_params p;
    plm_session_default_params(&p);
    p.n_ctx = n_ctx;
    p.n_batch = n_batch;
    p.kv_f32 = kv_f32;
    uint64_t nd = 0;
    char *js = plm_inspect_json(bytes, n, &p, limit > 0 ? (uint64_t)limit : 0, &nd);
    *need = (double)nd;
    return js;
}

/* exact != 0: the kernels with the reference's arithmetic (PocketLM.load({ exact: true })); before the last feed */
PLMW_EXPORT void plmw_loader_set_exact(plmw_loader *w, int exact) { plm_loader_set_exact(w->ld, exact); }

PLMW_EXPORT int plmw_loader_feed(plmw_loader *w, const void *bytes, size_t n) {
    return (int)plm_loader_feed(w->ld, bytes, n);
}

/* Bytes expected in total once the header has parsed (0 before): for progress bars. */
PLMW_EXPORT double plmw_loader_expected_size(const plmw_loader *w) {
    return (double)plm_loader_expected_size(w->ld);
}

PLMW_EXPORT int plmw_loader_finish(plmw_loader *w) {
    plm_model *m = NULL;
    plm_status st = plm_loader_finish(w->ld, &m);
    if (st == PLM_OK) w->model = m;
    else plm_model_free(m); /* it only carries the loader's message, read with plmw_loader_errmsg */
    return (int)st;
}

/* Hands the model over to the caller (freed with plm_model_free); NULL unless finish succeeded. */
PLMW_EXPORT plm_model *plmw_loader_take_model(plmw_loader *w) {
    plm_model *m = w->model;
    w->model = NULL;
    return m;
}

PLMW_EXPORT const char *plmw_loader_errmsg(plmw_loader *w) {
    snprintf(w->err, sizeof w->err, "%s", plm_loader_errmsg(w->ld));
    return w->err;
}

PLMW_EXPORT void plmw_loader_free(plmw_loader *w) {
    if (!w) return;
    plm_loader_free(w->ld);
    plm_model_free(w->model);
    free(w);
}

PLMW_EXPORT const char *plmw_version(void) { return plm_version(); }

/* ---- model facts ---- */

/* Fills out[0..10): n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, has_weights, bos, eos. */
PLMW_EXPORT void plmw_model_info(const plm_model *m, int32_t *out) {
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    int32_t v[10] = {mi.n_vocab, mi.n_ctx_train, mi.n_embd, mi.n_layer, mi.n_head, mi.n_head_kv, mi.n_ff,
                     mi.has_weights, mi.bos, mi.eos};
    memcpy(out, v, sizeof v);
}

PLMW_EXPORT const char *plmw_model_arch(const plm_model *m) {
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    return mi.arch ? mi.arch : "";
}

PLMW_EXPORT const char *plmw_model_backend(const plm_model *m) { return plm_model_backend_name(m); }

PLMW_EXPORT double plmw_model_weight_bytes(const plm_model *m) {
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    return (double)mi.weight_bytes;
}

/* ---- generation: a session, its sampler and the text carry ---- */

typedef struct plmw_gen {
    const plm_model *m;
    plm_session *s;
    plm_sampler *smp;
    int n_vocab;
    int status;            /* of the last failing call */
    char err[256];
    unsigned char pend[8]; /* bytes of an incomplete UTF-8 character, carried to the next piece */
    int npend;
    char *out;             /* text of the last piece(s), complete characters only */
    int nout, out_cap;
    /* Cancellation: the request being served has an id (plmw_gen_begin); writing that id into abort_word stops its
     * evaluation before the next layer (plm_session_set_abort). JavaScript writes it from the engine's thread, or,
     * when the memory is shared (threaded builds), straight from the page while the engine is busy in wasm. Ids of
     * finished requests never match a later one, so a late write cannot stop the wrong request. */
    int32_t abort_word, run_id;
} plmw_gen;

static int gen_should_abort(void *user) {
    const plmw_gen *g = user;
    return g->run_id != 0 && __atomic_load_n(&g->abort_word, __ATOMIC_RELAXED) == g->run_id;
}

static int gen_fail(plmw_gen *g, int st, const char *msg) {
    g->status = st;
    snprintf(g->err, sizeof g->err, "%s", msg);
    return -st;
}

/* Returns NULL only when out of memory; otherwise check plmw_gen_status (non-zero: creation failed, see errmsg). */
PLMW_EXPORT plmw_gen *plmw_gen_new(const plm_model *m, int n_ctx, int n_batch, int n_threads, int kv_f32) {
    plmw_gen *g = calloc(1, sizeof *g);
    if (!g) return NULL;
    g->m = m;
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    g->n_vocab = mi.n_vocab;
    plm_session_params p;
    plm_session_default_params(&p);
    p.n_ctx = n_ctx;
    if (n_batch > 0) p.n_batch = n_batch;
    p.n_threads = n_threads;
    p.kv_f32 = kv_f32;
    plm_status st = plm_session_new(m, &p, &g->s);
    if (st) {
        g->status = (int)st;
        snprintf(g->err, sizeof g->err, "%s", plm_session_errmsg(g->s));
        plm_session_free(g->s);
        g->s = NULL;
    } else {
        plm_session_set_abort(g->s, gen_should_abort, g);
    }
    return g;
}

PLMW_EXPORT int plmw_gen_status(const plmw_gen *g) { return g->status; }
PLMW_EXPORT const char *plmw_gen_errmsg(const plmw_gen *g) { return g->err; }
PLMW_EXPORT int plmw_gen_n_ctx(const plmw_gen *g) { return g->s ? plm_session_n_ctx(g->s) : 0; }
PLMW_EXPORT int plmw_gen_n_past(const plmw_gen *g) { return g->s ? plm_session_n_past(g->s) : 0; }
PLMW_EXPORT void plmw_gen_truncate(plmw_gen *g, int n_keep) {
    if (g->s) plm_session_truncate(g->s, n_keep);
}

PLMW_EXPORT void plmw_gen_free(plmw_gen *g) {
    if (!g) return;
    plm_sampler_free(g->smp);
    plm_session_free(g->s);
    free(g->out);
    free(g);
}

/* The id of the request now served (see abort_word), and where to write it to abort that request. */
PLMW_EXPORT void plmw_gen_begin(plmw_gen *g, int32_t run_id) { g->run_id = run_id; }
PLMW_EXPORT int32_t *plmw_gen_abort_word(plmw_gen *g) { return &g->abort_word; }

/* A fresh sampler (and an empty text carry) for the next request. The seed comes as two 32-bit halves. */
PLMW_EXPORT int plmw_gen_sampler(plmw_gen *g, float temperature, int top_k, float top_p, float min_p,
                                 float repeat_penalty, float frequency_penalty, float presence_penalty,
                                 int penalty_last_n, uint32_t seed_lo, uint32_t seed_hi) {
    plm_sampler_params p;
    plm_sampler_default_params(&p);
    p.temperature = temperature;
    p.top_k = top_k;
    p.top_p = top_p;
    p.min_p = min_p;
    p.repeat_penalty = repeat_penalty;
    p.frequency_penalty = frequency_penalty;
    p.presence_penalty = presence_penalty;
    if (penalty_last_n >= 0) p.penalty_last_n = penalty_last_n;
    p.seed = (uint64_t)seed_hi << 32 | seed_lo;
    plm_sampler_free(g->smp);
    g->smp = NULL;
    g->npend = g->nout = 0;
    plm_sampler *smp;
    plm_status st = plm_sampler_new(&p, g->n_vocab, &smp);
    if (st) {
        gen_fail(g, (int)st, plm_sampler_errmsg(smp));
        plm_sampler_free(smp);
        return -(int)st;
    }
    g->smp = smp;
    return 0;
}

/* Tells the penalties about prompt tokens. */
PLMW_EXPORT void plmw_gen_accept(plmw_gen *g, const int32_t *ids, int n) {
    for (int i = 0; g->smp && i < n; i++) plm_sampler_accept(g->smp, ids[i]);
}

/* Evaluates n tokens at the current position. Returns 0 or the plm_status. */
PLMW_EXPORT int plmw_gen_eval(plmw_gen *g, const int32_t *ids, int n) {
    if (!g->s) return g->status ? g->status : PLM_BAD_ARG;
    plm_status st = plm_session_eval(g->s, ids, n);
    if (st) {
        g->status = (int)st;
        snprintf(g->err, sizeof g->err, "%s", plm_session_errmsg(g->s));
    }
    return (int)st;
}

/* The logits of the last evaluated token (n_vocab floats), or NULL before any: the statistical conformance tool
 * (tools/logits-compare.mjs) reads them. */
PLMW_EXPORT const float *plmw_gen_logits(const plmw_gen *g) {
    return g->s && plm_session_n_past(g->s) > 0 ? plm_session_logits(g->s) : NULL;
}

/* Samples the next token from the logits of the last evaluated one: an id >= 0, or -status. */
PLMW_EXPORT int plmw_gen_sample(plmw_gen *g) {
    if (!g->s || !g->smp) return gen_fail(g, PLM_BAD_ARG, "no session or sampler");
    if (plm_session_n_past(g->s) == 0) return gen_fail(g, PLM_BAD_ARG, "nothing evaluated yet");
    return plm_sampler_sample(g->smp, plm_session_logits(g->s));
}

/* The decode step: evaluates `id` (the token just produced) and samples the one after it. Returns the new id, or
 * -status (CONTEXT_FULL when the cache has no room left). */
PLMW_EXPORT int plmw_gen_step(plmw_gen *g, int32_t id) {
    int st = plmw_gen_eval(g, &id, 1);
    if (st) return -st;
    return plmw_gen_sample(g);
}

PLMW_EXPORT int plmw_gen_is_eog(const plmw_gen *g, int32_t id) { return plm_token_is_eog(g->m, id); }

/* Length of the UTF-8 sequence starting at p[0..n) if it is complete (1..4), 0 if more bytes may complete it.
 * An invalid lead or continuation byte counts as a 1-byte unit (the decoder shows it as U+FFFD). */
static int utf8_unit(const unsigned char *p, int n) {
    unsigned c = p[0];
    int l = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 1;
    for (int i = 1; i < l; i++) {
        if (i >= n) return 0;
        if ((p[i] & 0xC0) != 0x80) return 1;
    }
    return l;
}

/* Makes room for n bytes in the output buffer: 0, or -1 when out of memory. */
static int out_reserve(plmw_gen *g, int n) {
    if (n <= g->out_cap) return 0;
    int cap = g->out_cap ? g->out_cap : 512;
    while (cap < n) cap *= 2;
    char *p = realloc(g->out, (size_t)cap);
    if (!p) return -1;
    g->out = p;
    g->out_cap = cap;
    return 0;
}

/* The caller reserved room for n more bytes. */
static void out_put(plmw_gen *g, const void *p, int n) {
    memcpy(g->out + g->nout, p, (size_t)n);
    g->nout += n;
}

/* Appends the text of token `id` to the carry and moves every complete character to the output buffer.
 * Returns the number of output bytes (read them at plmw_gen_text); -1 for an invalid id or out of memory. */
PLMW_EXPORT int plmw_gen_piece(plmw_gen *g, int32_t id) {
    g->nout = 0;
    int n = plm_token_to_piece(g->m, id, NULL, 0); /* the length first: pieces have no upper bound */
    /* room for the piece, the carried bytes and the piece's own text laid out once more before the carry moves */
    if (n < 0 || out_reserve(g, 2 * n + (int)sizeof g->pend)) return -1;
    char *buf = g->out + n + (int)sizeof g->pend; /* the piece sits past where its output can reach */
    if (plm_token_to_piece(g->m, id, buf, n) != n) return -1;
    for (int i = 0; i < n; i++) {
        g->pend[g->npend++] = (unsigned char)buf[i];
        int l; /* an incomplete character is at most 3 bytes, so the carry never overflows */
        while (g->npend && (l = utf8_unit(g->pend, g->npend))) {
            out_put(g, g->pend, l);
            memmove(g->pend, g->pend + l, (size_t)(g->npend - l));
            g->npend -= l;
        }
    }
    return g->nout;
}

/* End of a request: whatever incomplete bytes remain are output as they are. Returns the byte count. */
PLMW_EXPORT int plmw_gen_flush(plmw_gen *g) {
    g->nout = 0;
    if (out_reserve(g, (int)sizeof g->pend)) return -1;
    out_put(g, g->pend, g->npend);
    g->npend = 0;
    return g->nout;
}

PLMW_EXPORT const char *plmw_gen_text(const plmw_gen *g) { return g->out; }

/* ---- chat ---- */

/* Renders n messages given as parallel arrays of NUL-terminated role and content strings. Returns a malloc'd string
 * (free with free()) and writes the template family name pointer to *family (may be NULL); NULL on failure. */
PLMW_EXPORT char *plmw_chat_apply(const plm_model *m, const char *const *roles, const char *const *contents, int n,
                                  int add_assistant, const char **family) {
    if (n < 0 || n > (1 << 20)) return NULL;
    plm_chat_message *msgs = malloc(((size_t)n + 1) * sizeof *msgs);
    if (!msgs) return NULL;
    for (int i = 0; i < n; i++) msgs[i] = (plm_chat_message){roles[i], contents[i]};
    char *buf = NULL;
    int need = plm_chat_apply(m, msgs, n, add_assistant, NULL, 0, family);
    if (need >= 0 && (buf = malloc((size_t)need + 1))) {
        if (plm_chat_apply(m, msgs, n, add_assistant, buf, need + 1, family) != need) {
            free(buf);
            buf = NULL;
        } else
            buf[need] = 0;
    }
    free(msgs);
    return buf;
}
