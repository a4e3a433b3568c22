/* Knowing before loading: plm_model_memory against what the allocator actually hands out (glibc's mallinfo2, or
 * AddressSanitizer's own count), plm_inspect_json from the header alone against the loaded model, the loader's
 * memory limit refusing a model before its weights arrive, and a header that claims more than wasm32 can hold. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm.h"

#if defined(__SANITIZE_ADDRESS__)
size_t __sanitizer_get_current_allocated_bytes(void); /* sanitizer/allocator_interface.h, which gcc may lack */
static size_t heap_used(void) { return __sanitizer_get_current_allocated_bytes(); }
#else
#include <malloc.h>
static size_t heap_used(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}
#endif

static int failures, checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint8_t *read_all(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    rewind(f);
    uint8_t *b = malloc(size > 0 ? (size_t)size : 1);
    *n = b ? fread(b, 1, (size_t)size, f) : 0;
    fclose(f);
    return b;
}

/* A number from a flat search of the JSON: "key":N (first occurrence). */
static double json_num(const char *js, const char *key) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = js ? strstr(js, pat) : NULL;
    return p ? atof(p + strlen(pat)) : -1;
}

static int json_has(const char *js, const char *text) { return js && strstr(js, text) != NULL; }

/* The session's figures are the allocator's: the bytes plm_session_new takes exceed them only by the session
 * struct and the thread pool's bookkeeping. */
static void test_session_memory(const plm_model *m, const char *name) {
    const int ctxs[] = {16, 256, 0}, batches[] = {1, 64}, kvf32[] = {0, 1};
    for (int c = 0; c < 3; c++)
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 2; k++) {
                plm_session_params p;
                plm_session_default_params(&p);
                p.n_ctx = ctxs[c];
                p.n_batch = batches[b];
                p.kv_f32 = kvf32[k];
                plm_memory mem;
                CHECK(plm_model_memory(m, &p, &mem) == PLM_OK, "%s: plm_model_memory", name);
                size_t before = heap_used();
                plm_session *s;
                plm_status st = plm_session_new(m, &p, &s);
                size_t used = heap_used() - before;
                CHECK(st == PLM_OK, "%s: session: %s", name, plm_session_errmsg(s));
                CHECK(plm_session_n_ctx(s) == mem.n_ctx, "%s: n_ctx %d, estimate for %d", name, plm_session_n_ctx(s),
                      mem.n_ctx);
                uint64_t est = mem.kv_cache + mem.scratch;
                CHECK(used + 4096 >= est && used <= est + 4096, "%s ctx %d batch %d kv_f32 %d: session took %zu bytes, "
                      "estimate %llu", name, ctxs[c], batches[b], kvf32[k], used, (unsigned long long)est);
                plm_session_free(s);
            }
}

/* The model's figures: the weights arena exactly, the rest (header buffer, vocabulary, tables) an upper bound that
 * stays within a quarter of the truth plus 64 KiB. */
static void test_model_memory(const char *path) {
    size_t before = heap_used();
    plm_model *m;
    plm_status st = plm_model_load_file(path, &m);
    size_t used = heap_used() - before;
    CHECK(st == PLM_OK, "%s: %s", path, plm_model_errmsg(m));
    if (st) { plm_model_free(m); return; }
    plm_memory mem;
    CHECK(plm_model_memory(m, NULL, &mem) == PLM_OK, "%s: plm_model_memory", path);
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    CHECK(mem.weights == mi.weight_bytes, "%s: weights %llu vs the arena's %llu", path,
          (unsigned long long)mem.weights, (unsigned long long)mi.weight_bytes);
    uint64_t est = mem.weights + mem.model;
    CHECK(est >= used && est <= used + used / 4 + 65536, "%s: the model took %zu bytes, estimate %llu (weights %llu, "
          "the rest %llu)", path, used, (unsigned long long)est, (unsigned long long)mem.weights,
          (unsigned long long)mem.model);
    CHECK(mem.total == mem.weights + mem.model + mem.kv_cache + mem.scratch, "%s: total is the sum", path);
    printf("%s: the model took %zu bytes; estimated %llu (weights %llu exact, the rest %llu)\n", path, used,
           (unsigned long long)est, (unsigned long long)mem.weights, (unsigned long long)mem.model);
    test_session_memory(m, path);

    /* The header alone gives the same figures, and the same verdict. */
    size_t n;
    uint8_t *file = read_all(path, &n);
    uint64_t need = 0;
    char *js = plm_inspect_json(file, 100, NULL, 0, &need);
    CHECK(!js && need > 100, "%s: 100 bytes are not a header (need %llu)", path, (unsigned long long)need);
    size_t have = 100;
    int rounds = 0;
    while (!js && need > have && rounds++ < 64) {
        have = need < n ? (size_t)need : n;
        js = plm_inspect_json(file, have, NULL, 0, &need);
    }
    CHECK(js != NULL, "%s: no verdict from the header", path);
    CHECK(json_has(js, "\"status\":\"OK\"") && json_has(js, "\"supported\":true"), "%s: %s", path, js);
    CHECK(json_num(js, "total") == (double)mem.total && json_num(js, "kv_cache") == (double)mem.kv_cache,
          "%s: inspect's memory differs from the loaded model's: %s", path, js);
    CHECK(json_num(js, "context_length") == mi.n_ctx_train, "%s: context_length", path);
    CHECK(json_num(js, "file_bytes") == (double)n, "%s: file_bytes vs %zu", path, n);
    CHECK(have < n, "%s: inspect read the whole file (%zu bytes)", path, have);
    free(js);

    /* A limit one byte short refuses the model as soon as its header is in, with both numbers. */
    plm_loader *ld;
    plm_loader_new(&ld);
    plm_loader_set_memory_limit(ld, mem.total - 1, NULL);
    size_t hdr = have < n ? have : n;
    st = plm_loader_feed(ld, file, hdr);
    const char *msg = plm_loader_errmsg(ld);
    CHECK(st == PLM_OUT_OF_MEMORY && strstr(msg, "needs") && strstr(msg, "can be allocated"),
          "%s: limit below the need: %s %s", path, plm_status_name(st), msg);
    plm_loader_free(ld);
    plm_loader_new(&ld);
    plm_loader_set_memory_limit(ld, mem.total, NULL);
    st = plm_loader_feed(ld, file, n);
    plm_model *m2 = NULL;
    if (!st) st = plm_loader_finish(ld, &m2);
    CHECK(st == PLM_OK, "%s: a limit of exactly the need: %s", path, plm_loader_errmsg(ld));
    plm_model_free(m2);
    plm_loader_free(ld);
    js = plm_inspect_json(file, n, NULL, mem.total - 1, &need);
    CHECK(json_has(js, "\"status\":\"OUT_OF_MEMORY\"") && json_has(js, "\"supported\":false"), "%s: %s", path, js);
    free(js);
    free(file);
    plm_model_free(m);
}

/* gen-bench-model --shape 1.1B --type F32 --header-only: 4.1 GiB of weights claimed, none present. */
static void test_huge(const char *path) {
    size_t n;
    uint8_t *file = read_all(path, &n);
    CHECK(file != NULL, "cannot read %s", path);
    if (!file) return;
    uint64_t need;
    char *js = plm_inspect_json(file, n, NULL, (uint64_t)1 << 32, &need);
    CHECK(json_has(js, "\"status\":\"OUT_OF_MEMORY\"") && json_has(js, "\"architecture\":\"llama\"") &&
          json_has(js, "\"F32\":{\"tensors\":201"), "huge: %s", js ? js : "(null)");
    CHECK(json_num(js, "parameters") > 1.0e9, "huge: parameters");
    free(js);
    /* Natively there is no limit but the machine's; given wasm32's, the loader refuses from the header. */
    plm_loader *ld;
    plm_loader_new(&ld);
    plm_loader_set_memory_limit(ld, (uint64_t)1 << 32, NULL);
    plm_status st = plm_loader_feed(ld, file, n);
    plm_model *m = NULL;
    if (st == PLM_OK) st = plm_loader_finish(ld, &m); /* the loader parses again only once its buffer doubled */
    plm_model_free(m);
    CHECK(st == PLM_OUT_OF_MEMORY && strstr(plm_loader_errmsg(ld), "4096.0 MiB can be allocated"), "huge: %s",
          plm_loader_errmsg(ld));
    plm_loader_free(ld);
    free(file);
}

int main(void) {
    test_model_memory("models/stories260K.gguf");
    test_model_memory("tests/data/models/llama3-tiny-Q4_0.gguf");
    test_model_memory("tests/data/models/qwen2-tiny-Q8_0-tied.gguf");
    const char *huge = "build/test-inspect-huge.gguf";
    if (system("build/native/gen-bench-model --shape 1.1B --type F32 --header-only -o build/test-inspect-huge.gguf "
               "2>/dev/null") == 0)
        test_huge(huge);
    else
        CHECK(0, "build/native/gen-bench-model could not write %s (make native builds it)", huge);
    remove(huge);
    printf("test_inspect: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
