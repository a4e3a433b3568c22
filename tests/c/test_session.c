/* Sessions and sampling: independence of sessions, determinism across thread counts, context
 * limits, truncation, seeded sampling. The reference is llama.cpp's greedy output in models/REFERENCE.json
 * (the stories260K case, copied below) and the engine's own single-thread, one-token-at-a-time run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"
#include "pocketlm.h"
#include "simd.h"

static int failures, checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

/* models/REFERENCE.json, stories260K.gguf: prompt "Once upon a time" and llama.cpp's first 20 greedy tokens. */
static const int32_t PROMPT[] = {1, 403, 407, 261, 378};
static const int32_t REF[] = {432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426, 338, 401, 396, 267, 337, 410, 408, 419, 292};
#define NP 5
#define NREF 20

static plm_session *open_session(const plm_model *m, int threads, int batch, int ctx, int kv_f32) {
    plm_session_params p;
    plm_session_default_params(&p);
    p.n_threads = threads;
    p.n_batch = batch;
    p.n_ctx = ctx;
    p.kv_f32 = kv_f32;
    plm_session *s;
    plm_status st = plm_session_new(m, &p, &s);
    CHECK(st == PLM_OK, "session_new: %s", plm_session_errmsg(s));
    return s;
}

static int argmax(const float *l, int n) {
    int b = 0;
    for (int i = 1; i < n; i++) if (l[i] > l[b]) b = i;
    return b;
}

/* Greedy continuation of PROMPT; writes n tokens. Returns 0 on failure. */
static int greedy(plm_session *s, int n_vocab, int32_t *out, int n) {
    if (plm_session_eval(s, PROMPT, NP)) return 0;
    for (int i = 0; i < n; i++) {
        int32_t id = argmax(plm_session_logits(s), n_vocab);
        out[i] = id;
        if (i + 1 < n && plm_session_eval(s, &id, 1)) return 0;
    }
    return 1;
}

static void test_threads(const plm_model *m, int nv) {
    /* Row splits change who computes what, never the arithmetic: for a given batch size, logits are bit-identical
     * for any thread count. (Across batch sizes they may differ in the last bits, as in llama.cpp, whose x86
     * kernels sum a batch of rows in another order than a single row: see simd/scalar.c.) */
    float *want = malloc((size_t)nv * sizeof *want);
    const int batches[] = {1, 2, 3, 64};
    for (size_t b = 0; b < sizeof batches / sizeof batches[0]; b++) {
        plm_session *ref = open_session(m, 1, batches[b], 64, 0);
        CHECK(plm_session_eval(ref, PROMPT, NP) == PLM_OK, "eval");
        memcpy(want, plm_session_logits(ref), (size_t)nv * sizeof *want);
        plm_session_free(ref);
        for (int threads = 2; threads <= 4; threads++) {
            plm_session *s = open_session(m, threads, batches[b], 64, 0);
            CHECK(plm_session_eval(s, PROMPT, NP) == PLM_OK, "eval");
            CHECK(memcmp(want, plm_session_logits(s), (size_t)nv * sizeof *want) == 0,
                  "logits differ with %d threads, batch %d", threads, batches[b]);
            plm_session_free(s);
        }
    }
    free(want);
}

static void test_greedy_and_independence(const plm_model *m, int nv) {
    int32_t a[NREF], b[NREF];
    plm_session *s1 = open_session(m, 2, 64, 128, 0), *s2 = open_session(m, 1, 3, 128, 0);
    CHECK(greedy(s1, nv, a, NREF), "greedy");
    CHECK(memcmp(a, REF, sizeof REF) == 0, "greedy continuation differs from llama.cpp's");
    /* Interleave two sessions over one model: each must produce the same tokens as alone. */
    plm_session_truncate(s1, 0);
    CHECK(plm_session_n_past(s1) == 0, "truncate to 0");
    CHECK(plm_session_eval(s1, PROMPT, NP) == PLM_OK && plm_session_eval(s2, PROMPT, 3) == PLM_OK, "eval");
    CHECK(plm_session_eval(s2, PROMPT + 3, NP - 3) == PLM_OK, "eval rest");
    for (int i = 0; i < NREF; i++) {
        a[i] = argmax(plm_session_logits(s1), nv);
        b[i] = argmax(plm_session_logits(s2), nv);
        plm_session_eval(s1, &a[i], 1);
        plm_session_eval(s2, &b[i], 1);
    }
    CHECK(memcmp(a, REF, sizeof REF) == 0 && memcmp(b, REF, sizeof REF) == 0, "interleaved sessions interfere");
    /* Truncating back to the prompt and regenerating gives the same continuation. */
    plm_session_truncate(s2, NP - 1);
    CHECK(plm_session_eval(s2, PROMPT + NP - 1, 1) == PLM_OK, "re-eval");
    CHECK(argmax(plm_session_logits(s2), nv) == REF[0], "after truncate: first token %d, want %d",
          argmax(plm_session_logits(s2), nv), REF[0]);
    plm_session_free(s1);
    plm_session_free(s2);

    /* An f32 KV cache is a different arithmetic (no f16 rounding) but on this model the start is the same. */
    plm_session *f = open_session(m, 1, 64, 64, 1);
    CHECK(greedy(f, nv, a, 5) && memcmp(a, REF, 5 * sizeof *a) == 0, "f32 KV cache: first tokens differ");
    plm_session_free(f);
}

static void test_limits(const plm_model *m, int nv) {
    plm_session *s = open_session(m, 1, 4, 8, 0);
    int32_t ids[9] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    CHECK(plm_session_eval(s, ids, 9) == PLM_CONTEXT_FULL, "9 tokens into a context of 8");
    CHECK(plm_session_n_past(s) == 0, "a refused eval changes nothing (n_past %d)", plm_session_n_past(s));
    CHECK(plm_session_eval(s, ids, 8) == PLM_OK, "8 tokens fit");
    CHECK(plm_session_eval(s, ids, 1) == PLM_CONTEXT_FULL, "context full");
    CHECK(strstr(plm_session_errmsg(s), "context") != NULL, "message names the context: %s", plm_session_errmsg(s));
    plm_session_truncate(s, 0);
    int32_t bad = nv;
    CHECK(plm_session_eval(s, &bad, 1) == PLM_BAD_ARG, "token id = n_vocab is refused");
    bad = -1;
    CHECK(plm_session_eval(s, &bad, 1) == PLM_BAD_ARG, "negative token id is refused");
    CHECK(plm_session_eval(s, ids, 0) == PLM_BAD_ARG, "empty eval is refused");
    plm_session_free(s);

    plm_session_params p;
    plm_session_default_params(&p);
    p.n_ctx = -5;
    plm_session *x;
    CHECK(plm_session_new(m, &p, &x) == PLM_BAD_ARG && x && strstr(plm_session_errmsg(x), "context size -5"),
          "negative context refused, with a message: %s", plm_session_errmsg(x));
    CHECK(plm_session_eval(x, ids, 1) == PLM_BAD_ARG && plm_session_n_past(x) == 0, "a failed session evaluates nothing");
    plm_session_free(x);
}

/* The abort hook: asked before every layer of every batch; PLM_ABORTED leaves whole batches in the cache. */
typedef struct abort_ctx { int calls, stop_at; } abort_ctx;
static int abort_after(void *user) {
    abort_ctx *a = user;
    return ++a->calls >= a->stop_at;
}

static void test_abort(const plm_model *m, int nv, int n_layer) {
    plm_session *ref = open_session(m, 1, 2, 64, 0);
    CHECK(plm_session_eval(ref, PROMPT, 2) == PLM_OK, "eval");
    float *want = malloc((size_t)nv * sizeof *want);
    memcpy(want, plm_session_logits(ref), (size_t)nv * sizeof *want);
    plm_session_free(ref);

    for (int threads = 1; threads <= 2; threads++) {
        plm_session *s = open_session(m, threads, 2, 64, 0);
        /* stop at the second layer of the second batch: the first batch (2 tokens) stays */
        abort_ctx a = {0, n_layer + 2};
        plm_session_set_abort(s, abort_after, &a);
        CHECK(plm_session_eval(s, PROMPT, NP) == PLM_ABORTED, "eval returns PLM_ABORTED");
        CHECK(a.calls == n_layer + 2, "the callback is asked before every layer: %d calls, want %d", a.calls, n_layer + 2);
        CHECK(plm_session_n_past(s) == 2, "after an abort n_past counts the whole batches done: %d", plm_session_n_past(s));
        CHECK(strstr(plm_session_errmsg(s), "abort") != NULL, "message: %s", plm_session_errmsg(s));
        CHECK(memcmp(plm_session_logits(s), want, (size_t)nv * sizeof *want) == 0,
              "after an abort the logits are those of the last token cached");
        /* an abort at the very first layer changes nothing */
        a = (abort_ctx){0, 1};
        CHECK(plm_session_eval(s, PROMPT + 2, NP - 2) == PLM_ABORTED && plm_session_n_past(s) == 2, "abort at once");
        /* usable afterwards: the rest of the prompt, then llama.cpp's greedy continuation */
        plm_session_set_abort(s, NULL, NULL);
        CHECK(plm_session_eval(s, PROMPT + 2, NP - 2) == PLM_OK, "eval after abort: %s", plm_session_errmsg(s));
        int32_t out[NREF];
        int ok = 1;
        for (int i = 0; i < NREF && ok; i++) {
            out[i] = argmax(plm_session_logits(s), nv);
            ok = i + 1 == NREF || plm_session_eval(s, &out[i], 1) == PLM_OK;
        }
        CHECK(ok && memcmp(out, REF, sizeof REF) == 0, "greedy continuation after an abort (threads %d)", threads);
        /* a callback that never fires costs nothing and changes nothing */
        plm_session_truncate(s, 0);
        a = (abort_ctx){0, 1 << 30};
        plm_session_set_abort(s, abort_after, &a);
        CHECK(plm_session_eval(s, PROMPT, NP) == PLM_OK && a.calls == 3 * n_layer, "3 batches x %d layers asked: %d",
              n_layer, a.calls);
        CHECK(argmax(plm_session_logits(s), nv) == REF[0], "with a quiet callback");
        plm_session_free(s);
    }
    free(want);
}

/* Constructors: one shape (pocketlm.h). A failure still hands back an object that carries the message. */
static void test_constructors(int nv) {
    plm_model *m = NULL;
    CHECK(plm_model_load_file("models/no-such-model.gguf", &m) == PLM_IO && m, "a missing file: PLM_IO and a handle");
    CHECK(m && strstr(plm_model_errmsg(m), "no-such-model.gguf"), "its message names the file: %s", plm_model_errmsg(m));
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    CHECK(mi.n_vocab == 0 && !mi.has_weights, "a failed model has nothing");
    int32_t ids[4];
    char piece[8];
    CHECK(plm_tokenize(m, "hi", 2, ids, 4, -1, 0) == -1 && plm_token_to_piece(m, 0, piece, 8) == -1 &&
          plm_model_info_json(m) == NULL && plm_chat_apply(m, NULL, 0, 1, NULL, 0, NULL) == -1, "and refuses work");
    plm_session *s = NULL;
    CHECK(plm_session_new(m, NULL, &s) == PLM_BAD_ARG && strstr(plm_session_errmsg(s), "failed to load"),
          "no session over a failed model: %s", plm_session_errmsg(s));
    plm_session_free(s);
    plm_model_free(m);
    CHECK(!strcmp(plm_model_errmsg(NULL), "out of memory") && !strcmp(plm_session_errmsg(NULL), "out of memory") &&
          !strcmp(plm_sampler_errmsg(NULL), "out of memory"), "errmsg(NULL) is the out-of-memory case");

    plm_sampler *smp = NULL;
    CHECK(plm_sampler_new(NULL, 0, &smp) == PLM_BAD_ARG && smp && strstr(plm_sampler_errmsg(smp), "vocabulary"),
          "a sampler over no vocabulary: %s", plm_sampler_errmsg(smp));
    CHECK(plm_sampler_sample(smp, NULL) == -1, "a failed sampler samples nothing");
    plm_sampler_free(smp);
    plm_sampler_params p;
    plm_sampler_default_params(&p);
    p.temperature = 0.0f / 0.0f;
    CHECK(plm_sampler_new(&p, nv, &smp) == PLM_BAD_ARG && strstr(plm_sampler_errmsg(smp), "NaN"), "NaN temperature");
    plm_sampler_free(smp);
    plm_sampler_default_params(&p);
    p.repeat_penalty = 0;
    CHECK(plm_sampler_new(&p, nv, &smp) == PLM_BAD_ARG && strstr(plm_sampler_errmsg(smp), "repeat"), "repeat_penalty 0");
    plm_sampler_free(smp);
    CHECK(plm_sampler_new(NULL, nv, &smp) == PLM_OK && !plm_sampler_errmsg(smp)[0], "defaults");
    plm_sampler_free(smp);

    plm_loader *ld = NULL;
    CHECK(plm_loader_new(&ld) == PLM_OK && ld, "loader");
    CHECK(plm_loader_finish(ld, &m) == PLM_BAD_MODEL && m && !strcmp(plm_model_errmsg(m), plm_loader_errmsg(ld)),
          "finishing an empty loader: a model carrying the loader's message (%s)", plm_model_errmsg(m));
    plm_model_free(m);
    plm_loader_free(ld);
}

/* PLM_VERSION is package.json's "version": one number for the C library, the CLI and the npm package. */
static void test_version(void) {
    FILE *f = fopen("package.json", "rb");
    char buf[4096] = "";
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f) fclose(f);
    buf[n] = 0;
    const char *v = strstr(buf, "\"version\"");
    char want[64] = "";
    if (v && (v = strchr(v + 9, '"'))) sscanf(v + 1, "%63[^\"]", want);
    CHECK(want[0] && !strcmp(plm_version(), want) && !strcmp(PLM_VERSION, want),
          "plm_version() '%s' must equal package.json's version '%s'", plm_version(), want);
}

static void test_sampler(int nv) {
    float *logits = malloc((size_t)nv * sizeof *logits);
    for (int i = 0; i < nv; i++) logits[i] = (float)((i * 7919) % 101) / 25.0f;
    plm_sampler_params p;
    plm_sampler_default_params(&p);
    p.seed = 1234;
    int32_t a[50], b[50], c[50];
    plm_sampler *s1, *s2, *s3;
    CHECK(!plm_sampler_new(&p, nv, &s1) && !plm_sampler_new(&p, nv, &s2), "sampler_new");
    p.seed = 99;
    CHECK(!plm_sampler_new(&p, nv, &s3), "sampler_new");
    for (int i = 0; i < 50; i++) {
        a[i] = plm_sampler_sample(s1, logits);
        b[i] = plm_sampler_sample(s2, logits);
        c[i] = plm_sampler_sample(s3, logits);
    }
    CHECK(memcmp(a, b, sizeof a) == 0, "same seed, same tokens");
    CHECK(memcmp(a, c, sizeof a) != 0, "different seeds give different tokens");
    int valid = 1;
    for (int i = 0; i < 50; i++) valid &= a[i] >= 0 && a[i] < nv && logits[a[i]] >= 3.0f; /* top-k 40 of 101 levels */
    CHECK(valid, "sampled tokens come from the top-k set");
    plm_sampler_free(s1);
    plm_sampler_free(s2);
    plm_sampler_free(s3);

    /* top_k = 1 is greedy; greedy ties go to the lowest id. */
    plm_sampler_default_params(&p);
    p.top_k = 1;
    plm_sampler *g;
    CHECK(!plm_sampler_new(&p, nv, &g), "sampler_new");
    int best = argmax(logits, nv);
    CHECK(plm_sampler_sample(g, logits) == best, "top_k 1 picks the argmax");
    plm_sampler_free(g);

    /* A repeat penalty pushes a just-seen token below its rival. */
    for (int i = 0; i < nv; i++) logits[i] = 0;
    logits[10] = 2.0f;
    logits[11] = 1.9f;
    plm_sampler_default_params(&p);
    p.temperature = 0;
    p.repeat_penalty = 1.5f;
    plm_sampler *r;
    CHECK(!plm_sampler_new(&p, nv, &r), "sampler_new");
    CHECK(plm_sampler_sample(r, logits) == 10, "first pick");
    CHECK(plm_sampler_sample(r, logits) == 11, "penalized token loses");
    plm_sampler_free(r);
    free(logits);
}

/* Final logit soft-capping. Greedy conformance cannot see it (tanh keeps the order of the logits), so: the
 * gemma3-tiny-cap file is gemma3-tiny (whose logits follow llama.cpp's, tests/data/conformance) with
 * final_logit_softcapping 5, and its logits must be llama.cpp's arithmetic applied to gemma3-tiny's, bit for bit:
 * tanhf(l * (1/5)) * 5, with glibc's tanhf. The cap must also bend them visibly (logits beyond +-5 exist). */
static void test_final_softcap(void) {
    plm_model *a, *b;
    plm_status sa = plm_model_load_file("tests/data/models/gemma3-tiny-Q8_0.gguf", &a);
    plm_status sb = plm_model_load_file("tests/data/models/gemma3-tiny-cap-Q8_0.gguf", &b);
    CHECK(!sa && !sb, "load the gemma3-tiny models: %s / %s", plm_model_errmsg(a), plm_model_errmsg(b));
    if (!sa && !sb) {
        plm_model_info mi;
        plm_model_get_info(a, &mi);
        plm_session *s1 = open_session(a, 1, 8, 64, 0), *s2 = open_session(b, 1, 8, 64, 0);
        const int32_t ids[] = {2, 651, 1432, 1013, 40, 17};
        CHECK(!plm_session_eval(s1, ids, 6) && !plm_session_eval(s2, ids, 6), "eval");
        const float *l = plm_session_logits(s1), *c = plm_session_logits(s2);
        int bad = 0;
        float big = 0;
        const float inv = 1.0f / 5.0f;
        for (int i = 0; i < mi.n_vocab; i++) {
            const float want = plm_tanhf_glibc(l[i] * inv) * 5.0f;
            if (memcmp(&want, &c[i], 4) && bad++ < 3) printf("logit %d: %a, capped %a, want %a\n", i, l[i], c[i], want);
            if (fabsf(l[i]) > big) big = fabsf(l[i]);
            if (fabs(c[i] - 5.0 * tanh(l[i] / 5.0)) > 1e-5) bad++;
        }
        CHECK(!bad, "%d capped logits differ from 5 tanh(l / 5)", bad);
        CHECK(big > 6.0f, "the largest logit %g is not capped visibly", big);
        plm_session_free(s1);
        plm_session_free(s2);
    }
    plm_model_free(a);
    plm_model_free(b);
}

/* The weights arena in pieces (loader.c; a wasm32 malloc stops short of 2 GiB): cut before every tensor
 * (piece_max 1) and every few KiB, fed in odd-sized chunks, a model computes the same logits, bit for bit, as
 * loaded whole. Models with repacked, tied, fused and bias tensors. */
static plm_model *load_in_pieces(const char *path, uint64_t piece_max, size_t chunk, int *n_pieces) {
    FILE *f = fopen(path, "rb");
    plm_loader *ld = NULL;
    plm_model *m = NULL;
    if (!f || plm_loader_new(&ld)) goto out;
    plm_loader_set_piece_max(ld, piece_max);
    uint8_t *buf = malloc(chunk);
    size_t n;
    plm_status st = buf ? PLM_OK : PLM_OUT_OF_MEMORY;
    while (!st && (n = fread(buf, 1, chunk, f)) > 0) st = plm_loader_feed(ld, buf, n);
    free(buf);
    if (!st && !plm_loader_finish(ld, &m)) *n_pieces = m->n_pieces;
    else plm_model_free(m), m = NULL;
out:
    if (f) fclose(f);
    plm_loader_free(ld);
    return m;
}

static void test_pieces(void) {
    static const char *models[] = {"models/stories260K.gguf", "tests/data/models/llama3-tiny-Q4_K_M.gguf",
                                   "tests/data/models/qwen2-tiny-Q8_0-tied.gguf", "tests/data/models/phi3-tiny-Q4_0-tied.gguf",
                                   "tests/data/models/gemma3-tiny-Q4_0-tied.gguf", "tests/data/models/llama3-tiny-IQ4_NL.gguf"};
    const int32_t ids[] = {1, 5, 17, 42, 99, 7};
    for (size_t i = 0; i < sizeof models / sizeof *models; i++) {
        plm_model *whole;
        if (plm_model_load_file(models[i], &whole)) {
            CHECK(0, "load %s: %s", models[i], plm_model_errmsg(whole));
            plm_model_free(whole);
            continue;
        }
        plm_model_info mi;
        plm_model_get_info(whole, &mi);
        CHECK(whole->n_pieces == 1, "%s: %d pieces, loaded whole", models[i], whole->n_pieces);
        plm_session *s0 = open_session(whole, 1, 8, 32, 0);
        CHECK(!plm_session_eval(s0, ids, 6), "eval");
        const uint64_t sizes[] = {1, 3000};
        for (size_t k = 0; k < 2; k++) {
            int np = 0;
            plm_model *cut = load_in_pieces(models[i], sizes[k], 4093, &np);
            CHECK(cut && np > 4, "%s in pieces of %llu bytes: %s, %d pieces", models[i],
                  (unsigned long long)sizes[k], cut ? "loaded" : "failed", np);
            if (!cut) continue;
            plm_session *s = open_session(cut, 1, 8, 32, 0);
            CHECK(!plm_session_eval(s, ids, 6), "eval");
            CHECK(!memcmp(plm_session_logits(s0), plm_session_logits(s), (size_t)mi.n_vocab * sizeof(float)),
                  "%s in %d pieces: logits differ from the whole arena's", models[i], np);
            plm_session_free(s);
            plm_model_free(cut);
        }
        plm_session_free(s0);
        plm_model_free(whole);
    }
}

int main(void) {
    test_pieces();
    test_final_softcap();
    plm_model *m;
    if (plm_model_load_file("models/stories260K.gguf", &m)) {
        printf("FAIL load: %s\n", plm_model_errmsg(m));
        plm_model_free(m);
        return 1;
    }
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    test_threads(m, mi.n_vocab);
    test_greedy_and_independence(m, mi.n_vocab);
    test_limits(m, mi.n_vocab);
    test_sampler(mi.n_vocab);
    test_abort(m, mi.n_vocab, mi.n_layer);
    test_constructors(mi.n_vocab);
    test_version();
    plm_model_free(m);

    plm_model *v;
    CHECK(plm_model_load_file("models/vocab/ggml-vocab-llama-spm.gguf", &v) == PLM_OK, "vocab-only load");
    plm_session *s;
    CHECK(plm_session_new(v, NULL, &s) == PLM_BAD_ARG && strstr(plm_session_errmsg(s), "vocabulary"),
          "vocab-only file: sessions refused with a clear message (%s)", plm_session_errmsg(s));
    plm_session_free(s);
    plm_model_free(v);
    printf("test_session: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
