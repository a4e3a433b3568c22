/* libFuzzer harness for the GGUF reader, the streaming loader, model binding and the tokenizer.
 *
 * Each input is fed to two loaders with different chunkings derived from the input itself (so a crash reproduces
 * from the file alone): small chunks of 1..64 bytes, and large chunks of up to a third of the input with the file
 * size announced. Both must reach the same status: a result that depends on how bytes arrive is a bug (trapped).
 * When a model results, it is used as a caller would: tokenize a fixed text and a few bytes from the input, turn
 * every resulting id back into text, render a chat, describe the model as JSON and, when it has weights, evaluate
 * two tokens in a session with an 8-token context. Everything is freed (LeakSanitizer checks).
 *
 * Build and run: make fuzz / make fuzz-smoke (tests/fuzz/build.mk). Reproduce a crash: build/fuzz/fuzz_gguf FILE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm.h"

/* A header may declare gigabytes of tensor data before any arrives; the streaming pass then asks for it. Allocations
 * over 2 GiB fail (as in a browser tab) and must come back as PLM_OUT_OF_MEMORY, not abort the run. */
const char *__asan_default_options(void) __attribute__((used, visibility("default")));
const char *__asan_default_options(void) { return "allocator_may_return_null=1:max_allocation_size_mb=2048"; }

/* A broken contract (not a sanitizer finding): say which, then crash so libFuzzer saves the input. */
#define BROKEN(...) (fprintf(stderr, "fuzz_gguf: contract broken: " __VA_ARGS__), fputc('\n', stderr), __builtin_trap())

static uint64_t mix(uint64_t x) {
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    x ^= x >> 33;
    return x;
}

/* Feeds data in chunks; mode 0: 1..64 bytes, mode 1: up to size/3 + 1 bytes with the file size announced. */
static plm_status load(const uint8_t *data, size_t size, int mode, uint64_t seed, plm_model **out, char *why,
                       size_t why_cap) {
    *out = NULL;
    why[0] = 0;
    plm_loader *ld;
    if (plm_loader_new(&ld)) return PLM_OUT_OF_MEMORY;
    if (mode == 1) plm_loader_set_file_size(ld, size);
    plm_status st = PLM_OK;
    uint64_t x = seed;
    for (size_t pos = 0; pos < size && st == PLM_OK;) {
        x = mix(x + 0x9E3779B97F4A7C15ull);
        size_t c = mode == 0 ? 1 + (size_t)(x % 64) : 1 + (size_t)(x % (size / 3 + 1));
        if (c > size - pos) c = size - pos;
        st = plm_loader_feed(ld, data + pos, c);
        pos += c;
    }
    plm_status fst = plm_loader_finish(ld, out);
    if (st != PLM_OK && fst != st)
        BROKEN("feed failed with %s but finish returned %s", plm_status_name(st), plm_status_name(fst));
    if (fst != PLM_OK && *out && !plm_model_errmsg(*out)[0])
        BROKEN("finish failed (%s) but handed out a working model", plm_status_name(fst));
    if (fst != PLM_OK) {
        plm_model_free(*out); /* the model that only carries the message */
        *out = NULL;
    }
    const char *msg = plm_loader_errmsg(ld);
    if (fst != PLM_OK && (!msg || !msg[0])) BROKEN("refused with %s and no message", plm_status_name(fst));
    snprintf(why, why_cap, "%s", fst != PLM_OK && msg ? msg : "");
    plm_loader_free(ld);
    return fst;
}

static void use_model(plm_model *m, const uint8_t *data, size_t size) {
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    int32_t ids[64];
    char piece[128];
    /* a fixed text, then up to 24 bytes from the end of the input (arbitrary bytes, invalid UTF-8 included) */
    const char *fixed = "Hello world! <s> once upon\n\xe2\x96\x81x";
    size_t tail = size < 24 ? size : 24;
    const char *texts[2] = {fixed, (const char *)data + size - tail};
    size_t lens[2] = {strlen(fixed), tail};
    int n_eval = 0;
    int32_t eval_ids[2] = {0, 0};
    for (int t = 0; t < 2; t++) {
        for (int special = 0; special < 2; special++) {
            int n = plm_tokenize(m, texts[t], lens[t], ids, 64, t ? 0 : -1, special);
            if (n > 64) n = 64;
            for (int i = 0; i < n; i++) {
                if (ids[i] < 0 || ids[i] >= mi.n_vocab)
                    BROKEN("plm_tokenize gave id %d, vocabulary has %d tokens", (int)ids[i], mi.n_vocab);
                (void)plm_token_to_piece(m, ids[i], piece, sizeof piece);
                (void)plm_token_is_eog(m, ids[i]);
                if (n_eval < 2) eval_ids[n_eval++] = ids[i];
            }
        }
    }
    (void)plm_token_to_piece(m, -1, piece, sizeof piece);
    (void)plm_token_to_piece(m, mi.n_vocab, piece, sizeof piece);
    char *js = plm_model_info_json(m);
    free(js);
    plm_chat_message msgs[2] = {{"system", "Be brief."}, {"user", "Hi"}};
    char chat[256];
    (void)plm_chat_apply(m, msgs, 2, 1, chat, sizeof chat, NULL);

    if (!mi.has_weights) return;
    plm_session_params p;
    plm_session_default_params(&p);
    p.n_ctx = 8;
    plm_session *s = NULL;
    if (plm_session_new(m, &p, &s) != PLM_OK) { plm_session_free(s); return; } /* e.g. out of memory: a clean refusal */
    if (n_eval == 0) { eval_ids[0] = mi.bos >= 0 && mi.bos < mi.n_vocab ? mi.bos : 0; n_eval = 1; }
    if (plm_session_eval(s, eval_ids, n_eval) == PLM_OK) {
        const float *lg = plm_session_logits(s);
        volatile float sink = 0;
        for (int i = 0; i < mi.n_vocab; i++) sink += lg[i]; /* every logit is readable (NaN is fine) */
        (void)sink;
    }
    plm_session_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    uint64_t seed = size;
    for (size_t i = 0; i < size && i < 64; i++) seed = mix(seed ^ data[i]);
    plm_model *a = NULL, *b = NULL;
    char wa[256], wb[256];
    plm_status sa = load(data, size, 0, seed, &a, wa, sizeof wa);
    plm_status sb = load(data, size, 1, seed ^ 0xABCDEF, &b, wb, sizeof wb);
    /* Only the size-aware pass may refuse earlier (BAD_MODEL where the streaming pass could only find OUT_OF_MEMORY) */
    if (sa != sb && !(sa == PLM_OUT_OF_MEMORY && sb == PLM_BAD_MODEL))
        BROKEN("the same bytes give %s in small chunks (\"%s\") and %s in large chunks with the file size known "
               "(\"%s\")", plm_status_name(sa), wa, plm_status_name(sb), wb);
    if (a) use_model(a, data, size);
    /* The header-only verdict: the same reader and checks, so it may pass a file the loader refuses (a fault in the
     * tensor data) but never refuse one the loader takes, and never with another status. */
    uint64_t need = 0;
    char *js = plm_inspect_json(data, size, NULL, 0, &need);
    char st[32] = "";
    if (js) sscanf(js, "{\"status\":\"%31[A-Z_]", st);
    if (js && strcmp(st, "OK") && strcmp(st, plm_status_name(sa)) && strcmp(st, plm_status_name(sb)))
        BROKEN("inspect says %s, the loader %s (\"%s\")", st, plm_status_name(sa), wa);
    if (!js && need && sa == PLM_OK) BROKEN("inspect wants %llu bytes of a %zu-byte file that loads", (unsigned long long)need, size);
    free(js);
    plm_model_free(a);
    plm_model_free(b);
    return 0;
}
