/* Facts from a GGUF header alone: whether the file would run, and the memory it and a session would take. The
 * figures are the allocators' own (plm_session_size, the weights arena, the loader's header buffer), so a refusal
 * made from the header is the one a full load would end in, minutes earlier. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

#define ERR(st, ...) (snprintf(err, errlen, __VA_ARGS__), (st))

plm_status plm_model_check(plm_model *m, char *err, size_t errlen) {
    if (m->gguf.n_tensors == 0) return PLM_OK;
    plm_piece *w = m->pieces;
    m->pieces = NULL; /* bind checks names, shapes and types and binds no data */
    plm_status st = plm_model_bind(m, 0, err, errlen);
    m->pieces = w;
    free(m->layers);
    m->layers = NULL;
    memset(&m->tok_embd, 0, sizeof m->tok_embd);
    memset(&m->out_norm, 0, sizeof m->out_norm);
    memset(&m->output, 0, sizeof m->output);
    memset(&m->rope_freqs, 0, sizeof m->rope_freqs);
    return st;
}

/* Bytes of a string array as stored, plus a per-entry allowance for the tables the vocabulary builds over it
 * (offsets, lengths, scores, attributes, a hash slot: vocab.c). */
static uint64_t str_array_cost(const gguf_kv *kv) {
    if (!kv || kv->type != GGUF_ARRAY || kv->arr_type != GGUF_STRING) return 0;
    const uint8_t *p = kv->arr_data;
    gguf_str s;
    for (uint64_t i = 0; i < kv->arr_n; i++) p = gguf_str_array_next(p, &s);
    return (uint64_t)(p - kv->arr_data) + 32 * kv->arr_n;
}

uint64_t plm_header_buffer_size(uint64_t header_size) {
    /* loader.c's header buffer: 64 KiB doubled until the header fits, with up to one doubling of slack since the
     * loader takes at least as many bytes as it holds before parsing again */
    uint64_t cap = 1 << 16;
    while (cap < header_size) cap *= 2;
    return 2 * cap;
}

plm_status plm_model_memory(const plm_model *m, const plm_session_params *p, plm_memory *out) {
    memset(out, 0, sizeof *out);
    if (!m || m->err[0] || m->hp.n_layer <= 0) return PLM_BAD_ARG;
    plm_session_params dp;
    if (!p) plm_session_default_params(&dp), p = &dp;
    if (p->n_ctx < 0 || p->n_ctx > (1 << 24) || p->n_batch < 0) return PLM_BAD_ARG;
    plm_session_sizes z;
    plm_session_size(&m->hp, p, &z);
    out->n_ctx = z.n_ctx;
    out->weights = m->gguf.data_size;
    out->model = plm_header_buffer_size(m->gguf.header_size) + str_array_cost(gguf_find(&m->gguf, "tokenizer.ggml.tokens")) +
                 str_array_cost(gguf_find(&m->gguf, "tokenizer.ggml.merges")) +
                 (uint64_t)m->hp.n_layer * sizeof(plm_layer) + sizeof(plm_model);
    out->kv_cache = 2 * z.kv_bytes;
    out->scratch = z.scratch_bytes + z.actq_bytes;
    out->total = out->weights + out->model + out->kv_cache + out->scratch;
    return PLM_OK;
}

uint64_t plm_memory_available(void) {
#if UINTPTR_MAX == 0xFFFFFFFFu
    /* a 32-bit address space (wasm32): 4 GiB less the memory already grown into */
    uint64_t used = 0;
#if defined(__wasm__)
    used = (uint64_t)__builtin_wasm_memory_size(0) * 65536;
#endif
    return ((uint64_t)1 << 32) - used;
#else
    return 0; /* no limit known: allocations say */
#endif
}

plm_status plm_model_fits(const plm_model *m, const plm_session_params *p, uint64_t limit, char *err, size_t errlen) {
    plm_memory mem;
    if (!limit || plm_model_memory(m, p, &mem)) return PLM_OK;
    if (mem.total <= limit) return PLM_OK;
    return ERR(PLM_OUT_OF_MEMORY, "out of memory: the model needs %.1f MiB (weights %.1f, KV cache %.1f for %d tokens, "
               "scratch %.1f, vocabulary and tables %.1f) but only %.1f MiB can be allocated", mem.total / 1048576.0,
               mem.weights / 1048576.0, mem.kv_cache / 1048576.0, mem.n_ctx, mem.scratch / 1048576.0,
               mem.model / 1048576.0, limit / 1048576.0);
}
