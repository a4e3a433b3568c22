/* pocketlm — a private LLM runtime. Public C API.
 *
 * Ownership rules (SQLite style): every object returned through an out-pointer is owned by the caller and freed
 * with its matching *_free(), which accepts NULL. Strings returned as `const char *` belong to the object they came
 * from and stay valid until that object is freed or the next call on it. No function keeps a pointer to caller
 * memory after it returns. There is no global mutable state: two models or sessions never share anything writable.
 *
 * Making objects, one shape for all (as sqlite3_open): a constructor returns a plm_status and sets *out.
 *   - PLM_OK: *out is a working object.
 *   - any other status: *out is an object that only carries the error, so that the message can be read with
 *     *_errmsg(*out); it is still freed with *_free(). Other calls on it fail cleanly (-1, 0 or its status).
 *     Only when memory runs out before even that object exists is *out NULL; *_errmsg(NULL) then says so.
 * So, always:   plm_model *m;  if (plm_model_load_file(path, &m)) { puts(plm_model_errmsg(m)); }  plm_model_free(m);
 *
 * Errors of later calls: functions return a plm_status (or -1), and the object involved keeps a readable message,
 * fetched with *_errmsg(). plm_status_name() gives the stable code string used by the CLI and JavaScript.
 */
#ifndef POCKETLM_H
#define POCKETLM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum plm_status {
    PLM_OK = 0,
    PLM_BAD_MODEL,        /* malformed or inconsistent GGUF */
    PLM_UNSUPPORTED,      /* valid GGUF, but a type/architecture/tokenizer we do not run */
    PLM_OUT_OF_MEMORY,    /* an allocation failed */
    PLM_IO,               /* a file could not be read */
    PLM_BAD_ARG,          /* caller error: bad parameter, bad token id, ... */
    PLM_CONTEXT_FULL,     /* the session's KV cache has no room for more tokens */
    PLM_ABORTED,          /* the session's abort callback asked to stop (plm_session_set_abort) */
} plm_status;

const char *plm_status_name(plm_status s); /* "OK", "BAD_MODEL", "UNSUPPORTED", ... */

/* The library's version, the same string as package.json's "version" (a test holds them equal). */
#define PLM_VERSION "0.1.0"
const char *plm_version(void); /* PLM_VERSION of the library actually linked */

typedef struct plm_model plm_model;
typedef struct plm_loader plm_loader;
typedef struct plm_session plm_session;
struct plm_session_params; /* below, with sessions */

/* ---- loading: bytes of a GGUF file pushed in order, in chunks of any size ---- */
plm_status plm_loader_new(plm_loader **out); /* fails only when out of memory */
/* Optional: the file's total size, when known (file size, Content-Length, Blob.size). A header whose tensors
 * reach past it is then refused before the weights arena is allocated, instead of after the last byte. */
void plm_loader_set_file_size(plm_loader *ld, uint64_t size);
/* Optional: exact != 0 asks for kernels with llama.cpp's x86 arithmetic bit for bit (reproducible logits on every
 * machine). By default a build whose fast kernels round differently (WebAssembly SIMD: no fused multiply-add) uses
 * those; docs/architecture.md, "The arithmetic contract". Call before the last feed. */
void plm_loader_set_exact(plm_loader *ld, int exact);
plm_status plm_loader_feed(plm_loader *ld, const void *bytes, size_t n);
/* After the last byte: checks that every tensor arrived and hands over the model (caller frees it). On failure the
 * loader keeps its message too, and every later call on it returns the same status. */
plm_status plm_loader_finish(plm_loader *ld, plm_model **out);
/* Optional: refuse, as soon as the header is parsed and before the weights arena is allocated, a model that with
 * one session of parameters p (NULL: defaults) would need more than limit bytes (plm_model_memory's total):
 * PLM_OUT_OF_MEMORY with both numbers in the message. limit 0 (the default) means what the address space leaves,
 * which only bounds 32-bit builds such as wasm32 (4 GiB). */
void plm_loader_set_memory_limit(plm_loader *ld, uint64_t limit, const struct plm_session_params *p);
/* Bytes the loader expects in total, once the header is parsed (0 before). Lets callers show progress. */
uint64_t plm_loader_expected_size(const plm_loader *ld);
const char *plm_loader_errmsg(const plm_loader *ld);
void plm_loader_free(plm_loader *ld);

/* Convenience: the same loader fed from a file: PLM_IO when it cannot be opened or read, else the loader's status. */
plm_status plm_model_load_file(const char *path, plm_model **out);
plm_status plm_model_load_file_ex(const char *path, int exact, plm_model **out); /* plm_loader_set_exact */
/* Why the model could not be made ("" for a working model). */
const char *plm_model_errmsg(const plm_model *m);
void plm_model_free(plm_model *m);

/* ---- model facts ---- */
typedef struct plm_model_info {
    const char *arch;        /* "llama", "qwen2" */
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff;
    int has_weights;         /* 0 for vocab-only files: tokenize works, sessions do not */
    uint64_t weight_bytes;   /* size of the weights arena */
    int bos, eos;            /* -1 when absent */
} plm_model_info;
void plm_model_get_info(const plm_model *m, plm_model_info *info);
/* JSON object with the library's and the file's versions, metadata (arrays summarized) and the tensor table.
 * Caller frees with free(). NULL when out of memory or for a model that failed to load. */
char *plm_model_info_json(const plm_model *m);

/* ---- memory and inspection: what a model needs, known from its header before any weight is read ---- */
typedef struct plm_memory {
    int n_ctx;          /* the context the session figures are for */
    uint64_t weights;   /* the weights arena (the file's data section) */
    uint64_t model;     /* the rest of what a loaded model keeps: header buffer, vocabulary, tables (an estimate) */
    uint64_t kv_cache;  /* K and V caches of one session at n_ctx */
    uint64_t scratch;   /* that session's activations and logits */
    uint64_t total;
} plm_memory;
/* Memory of the model and one session of parameters p (NULL: defaults), as plm_loader and plm_session_new
 * allocate it: the session and arena figures are the allocators' own computation. PLM_BAD_ARG (and zeros) for a
 * failed or vocabulary-only model or parameters out of range. */
plm_status plm_model_memory(const plm_model *m, const struct plm_session_params *p, plm_memory *out);

/* Everything worth knowing before downloading a GGUF, from the first n bytes of it, as a JSON object (free()):
 *   status ("OK", or why it would not run: "BAD_MODEL", "UNSUPPORTED", "OUT_OF_MEMORY"), message, supported,
 *   architecture, parameters, tensors, types ({"Q4_K": {"tensors": 7, "bytes": N}, ...}), context_length,
 *   chat_template (the template text, or null), header_bytes, file_bytes (where the tensor data ends), and memory
 *   ({n_ctx, weights, model, kv_cache, scratch, total}, for one session of parameters p; NULL: defaults)
 *   as far as the header gets before the verdict. limit: bytes the model may take (0: plm_loader's default).
 * Returns NULL when the header runs past n (*need is then the byte count to read before calling again: at least
 * what the header needs so far and at least twice n, so a header of H bytes is parsed O(log H) times) or when out
 * of memory (*need 0). */
char *plm_inspect_json(const void *bytes, size_t n, const struct plm_session_params *p, uint64_t limit,
                       uint64_t *need);

/* ---- tokens ---- */
/* Writes up to cap ids; returns the number of tokens the text needs (may exceed cap: call again), or -1 on error.
 * add_bos: -1 = model default, 0 = no, 1 = yes. parse_special: 1 = "<|im_start|>"-style text becomes control tokens. */
int plm_tokenize(const plm_model *m, const char *text, size_t len, int32_t *ids, int cap, int add_bos,
                 int parse_special);
/* Text of one token as it should be printed (byte-fallback tokens give their byte, ▁ becomes a space), not
 * NUL-terminated. As snprintf: returns the piece's length in bytes, whatever cap is, and writes it to buf only when
 * it fits (length <= cap); otherwise buf is untouched and the caller retries with a buffer of that size.
 * -1 for an invalid id. Pieces are usually a few bytes, but nothing bounds them: a vocabulary may hold long ones. */
int plm_token_to_piece(const plm_model *m, int32_t id, char *buf, int cap);
int plm_token_is_eog(const plm_model *m, int32_t id); /* end of generation: EOS, EOT, <|im_end|>, ... */

/* ---- chat templates ---- */
typedef struct plm_chat_message { const char *role; const char *content; } plm_chat_message;
/* Renders messages with the model's template (+ assistant generation prompt when add_assistant).
 * Returns bytes needed (excluding NUL), writing up to cap; -1 on error. *family (if given) gets the template name. */
int plm_chat_apply(const plm_model *m, const plm_chat_message *msgs, int n, int add_assistant, char *buf, int cap,
                   const char **family);

/* ---- sessions: a KV cache + scratch space over a shared, read-only model ---- */
typedef struct plm_session_params {
    int n_ctx;        /* 0 = min(model's training context, 4096) */
    int n_batch;      /* prompt tokens per forward pass; 0 = 64 */
    int n_threads;    /* 0 or 1 = single thread */
    int kv_f32;       /* 1 = f32 KV cache instead of f16 */
} plm_session_params;
void plm_session_default_params(plm_session_params *p);
/* p may be NULL (defaults). PLM_BAD_ARG for a vocabulary-only model or parameters out of range. */
plm_status plm_session_new(const plm_model *m, const plm_session_params *p, plm_session **out);
void plm_session_free(plm_session *s);
const char *plm_session_errmsg(const plm_session *s);
int plm_session_n_past(const plm_session *s);
int plm_session_n_ctx(const plm_session *s);
/* Drops every cached token at positions >= n_keep (0 clears the session). */
void plm_session_truncate(plm_session *s, int n_keep);
/* Runs the model over tokens appended at the current position, n_batch tokens per forward pass. Afterwards
 * plm_session_logits() holds the logits of the last token. PLM_CONTEXT_FULL (and nothing is changed) if they do not
 * fit. PLM_ABORTED when the abort callback asked to stop: the batches that completed stay in the cache (n_past
 * counts them, and the logits are those of the last token they held), the interrupted batch is dropped; the session
 * stays usable, so evaluating the remaining ids (from plm_session_n_past() on) gives what one call would have. */
plm_status plm_session_eval(plm_session *s, const int32_t *ids, int n);
const float *plm_session_logits(const plm_session *s); /* n_vocab floats */

/* Cancellation, as ggml's abort callback or a polled sqlite3_interrupt: plm_session_eval calls fn(user) before
 * every layer of every batch and stops with PLM_ABORTED as soon as it returns non-zero, so a long prefill stops
 * within one layer's work. fn may be called from the thread that called plm_session_eval only; to stop from
 * another thread, have fn read a flag that thread sets. NULL removes the callback. */
typedef int (*plm_abort_fn)(void *user);
void plm_session_set_abort(plm_session *s, plm_abort_fn fn, void *user);

/* ---- sampling ---- */
typedef struct plm_sampler_params {
    float temperature;     /* <= 0: greedy */
    int top_k;             /* <= 0: off */
    float top_p;           /* >= 1: off */
    float min_p;           /* <= 0: off */
    float repeat_penalty;  /* 1: off */
    float frequency_penalty, presence_penalty; /* 0: off */
    int penalty_last_n;    /* tokens considered by the penalties (64) */
    uint64_t seed;
} plm_sampler_params;
typedef struct plm_sampler plm_sampler;
void plm_sampler_default_params(plm_sampler_params *p);
/* p may be NULL (defaults). PLM_BAD_ARG for n_vocab <= 0, a NaN parameter or repeat_penalty <= 0. */
plm_status plm_sampler_new(const plm_sampler_params *p, int n_vocab, plm_sampler **out);
const char *plm_sampler_errmsg(const plm_sampler *s);
void plm_sampler_free(plm_sampler *s);
/* Picks the next token from logits (not modified) and remembers it for the penalties; -1 on a failed sampler. */
int32_t plm_sampler_sample(plm_sampler *s, const float *logits);
void plm_sampler_accept(plm_sampler *s, int32_t id); /* prompt tokens, for penalties */

/* Which kernel backend this build runs ("scalar", "x86-avx2", "neon", "wasm128", ...). */
const char *plm_backend_name(void);
/* The kernel table a model runs: plm_backend_name(), or its exact sibling ("wasm128-exact") when loaded exact. */
const char *plm_model_backend_name(const plm_model *m);

#ifdef __cplusplus
}
#endif
#endif
