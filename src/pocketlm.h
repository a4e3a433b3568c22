/* pocketlm — a private LLM runtime. Public C API.
 *
 * Ownership rules (SQLite style): every object returned through an out-pointer is owned by the caller and freed
 * with its matching *_free(). Strings returned as `const char *` belong to the object they came from and stay
 * valid until that object is freed or the next call on it. No function keeps a pointer to caller memory after it
 * returns. There is no global mutable state: two models or sessions never share anything writable.
 *
 * Errors: functions return a plm_status; the object involved (loader, model, session) keeps a readable message,
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
    PLM_ABORTED,          /* a callback asked to stop */
} plm_status;

const char *plm_status_name(plm_status s); /* "OK", "BAD_MODEL", "UNSUPPORTED", ... */

typedef struct plm_model plm_model;
typedef struct plm_loader plm_loader;
typedef struct plm_session plm_session;

/* ---- loading: bytes of a GGUF file pushed in order, in chunks of any size ---- */
plm_loader *plm_loader_new(void); /* NULL only when out of memory */
/* Optional: the file's total size, when known (file size, Content-Length, Blob.size). A header whose tensors
 * reach past it is then refused before the weights arena is allocated, instead of after the last byte. */
void plm_loader_set_file_size(plm_loader *ld, uint64_t size);
plm_status plm_loader_feed(plm_loader *ld, const void *bytes, size_t n);
/* After the last byte: checks that every tensor arrived and hands over the model (caller frees it). */
plm_status plm_loader_finish(plm_loader *ld, plm_model **out);
/* Bytes the loader expects in total, once the header is parsed (0 before). Lets callers show progress. */
uint64_t plm_loader_expected_size(const plm_loader *ld);
const char *plm_loader_errmsg(const plm_loader *ld);
void plm_loader_free(plm_loader *ld);

/* Convenience: the same loader fed from a file. On failure *out is NULL and err (if given) holds the message. */
plm_status plm_model_load_file(const char *path, plm_model **out, char *err, size_t errlen);
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
/* JSON object with metadata (arrays summarized) and the tensor table. Caller frees with free(). */
char *plm_model_info_json(const plm_model *m);

/* ---- tokens ---- */
/* Writes up to cap ids; returns the number of tokens the text needs (may exceed cap: call again), or -1 on error.
 * add_bos: -1 = model default, 0 = no, 1 = yes. parse_special: 1 = "<|im_start|>"-style text becomes control tokens. */
int plm_tokenize(const plm_model *m, const char *text, size_t len, int32_t *ids, int cap, int add_bos,
                 int parse_special);
/* Text of one token as it should be printed (byte-fallback tokens give their byte, ▁ becomes a space).
 * Returns the byte length written (up to cap) or the length needed; -1 for an invalid id. */
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
/* On failure *out is NULL and err (if given) holds the message. */
plm_status plm_session_new(const plm_model *m, const plm_session_params *p, plm_session **out, char *err,
                           size_t errlen);
void plm_session_free(plm_session *s);
const char *plm_session_errmsg(const plm_session *s);
int plm_session_n_past(const plm_session *s);
int plm_session_n_ctx(const plm_session *s);
/* Drops every cached token at positions >= n_keep (0 clears the session). */
void plm_session_truncate(plm_session *s, int n_keep);
/* Runs the model over tokens appended at the current position. Afterwards plm_session_logits() holds the
 * logits of the last token. PLM_CONTEXT_FULL (and nothing is changed) if they do not fit. */
plm_status plm_session_eval(plm_session *s, const int32_t *ids, int n);
const float *plm_session_logits(const plm_session *s); /* n_vocab floats */

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
plm_sampler *plm_sampler_new(const plm_sampler_params *p, int n_vocab);
void plm_sampler_free(plm_sampler *s);
/* Picks the next token from logits (not modified) and remembers it for the penalties. */
int32_t plm_sampler_sample(plm_sampler *s, const float *logits);
void plm_sampler_accept(plm_sampler *s, int32_t id); /* prompt tokens, for penalties */

/* Which kernel backend this build runs ("scalar", "x86-avx2", "neon", "wasm128", ...). */
const char *plm_backend_name(void);

#ifdef __cplusplus
}
#endif
#endif
