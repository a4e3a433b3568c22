/* Internal model structures shared by the loader, the forward pass and the API glue. */
#ifndef PLM_MODEL_H
#define PLM_MODEL_H

#include "gguf.h"
#include "pocketlm.h"
#include "simd.h"

struct plm_vocab;

/* A 2-D weight matrix (or vector when ne1 == 1) pointing into the weights arena. */
typedef struct plm_tensor {
    int type;           /* GGUF type of the data */
    int mm_type;        /* type id handed to the matmul kernel: `type` or a kernel variant (simd.h) for the model's kern */
    int64_t ne0, ne1;   /* row length, rows */
    size_t row_bytes;
    const uint8_t *data; /* NULL when absent (optional tensors) */
} plm_tensor;

typedef struct plm_layer {
    plm_tensor attn_norm, wq, wk, wv, wo, bq, bk, bv;
    plm_tensor q_norm, k_norm;               /* qwen3, gemma3: per-head RMSNorm of q and k before RoPE */
    plm_tensor post_attn_norm, post_ffn_norm; /* gemma2, gemma3: RMSNorm of the attention and FFN outputs */
    plm_tensor ffn_norm, w_gate, w_up, w_down;
    int swa;                                 /* gemma2, gemma3: attends to the last n_swa positions only */
} plm_layer;

/* The architectures pocketlm runs (general.architecture); each is a variation of the llama decoder. */
typedef enum { PLM_ARCH_LLAMA, PLM_ARCH_QWEN2, PLM_ARCH_QWEN3, PLM_ARCH_GEMMA2, PLM_ARCH_GEMMA3, PLM_ARCH_PHI3 } plm_arch;

typedef struct plm_hparams {
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
    float norm_eps, rope_base, rope_freq_scale;
    int rope_neox;
    plm_arch arch;
    int gelu;              /* FFN gate activation: GELU-tanh (gemma), else SiLU */
    float embd_scale;      /* token embeddings are multiplied by it (gemma: sqrt(n_embd)); 0: not scaled */
    float q_scale;         /* gemma: q is multiplied by it after RoPE and attention scores are not scaled; 0: the
                              scores are scaled by 1/sqrt(head_dim) */
    int n_swa;             /* gemma2, gemma3: sliding-window size of the swa layers (0: none) */
    int swa_pattern;       /* gemma2, gemma3: layer i slides when i % swa_pattern < swa_pattern - 1 */
    float rope_base_swa, rope_freq_scale_swa; /* gemma2, gemma3: RoPE of the sliding-window layers */
    float attn_softcap;    /* gemma2: attention scores s become cap * tanh(s / cap); 0: not capped */
    float final_softcap;   /* gemma2, gemma3: the logits likewise; 0: not capped */
    int n_rot;             /* rotated dimensions of each head (phi3 may rotate fewer than head_dim), else head_dim */
    float rope_attn_factor; /* rope.scaling.attn_factor: RoPE's cos and sin are multiplied by it (1: none) */
    int n_ctx_orig;        /* rope.scaling.original_context_length, else n_ctx_train (phi3: long vs short factors) */
} plm_hparams;

/* A piece of the weights arena: data-section bytes [start, start + size), one allocation. */
typedef struct plm_piece {
    uint64_t start, size;
    uint8_t *p;
} plm_piece;

/* Pieces of at most this many bytes (a single larger tensor gets a piece of its own): wasm32's malloc cannot hand
 * out 2 GiB at once, and a model past that size is what phones' and desktops' 4 GiB wasm memories are for. */
#define PLM_PIECE_MAX ((uint64_t)1 << 30)

struct plm_model {
    uint8_t *header;      /* the GGUF header bytes; gguf points into it */
    gguf_file gguf;
    /* The weights arena: the file's data section, in pieces cut between tensors, so that every tensor lies in
     * one piece. NULL: no arena (a check of the header alone, inspect.c). */
    plm_piece *pieces;
    int n_pieces;
    uint64_t weights_size;
    char arch[32];
    plm_hparams hp;
    const plm_kernels *kern; /* chosen once by plm_model_bind: every mm_type is a layout this table reads */
    plm_tensor tok_embd, out_norm, output;
    plm_tensor rope_freqs; /* Llama 3's RoPE frequency factors, head_dim/2 floats; data NULL when absent */
    plm_tensor rope_long, rope_short; /* phi3's LongRoPE factors, n_rot/2 floats each; data NULL when absent */
    plm_layer *layers;
    struct plm_vocab *vocab;
    char err[256];        /* set only in a model that failed to load (pocketlm.h: objects that carry an error) */
};

/* The buffers plm_session_new allocates for parameters p (session.c keeps this next to the allocation). */
typedef struct plm_session_sizes {
    int n_ctx, n_batch;    /* after defaults and clamps */
    uint64_t kv_elt;       /* bytes per cached element */
    uint64_t kv_bytes;     /* each of the K and V caches */
    uint64_t scratch_bytes, actq_row, actq_bytes;
} plm_session_sizes;
void plm_session_size(const plm_hparams *hp, const plm_session_params *p, plm_session_sizes *z);

/* loader.c: the weights arena. plm_arena_new plans pieces of at most piece_max bytes (PLM_PIECE_MAX but in tests)
 * and allocates them; plm_arena_at is the address of data-section offset off. */
plm_status plm_arena_new(plm_model *m, uint64_t piece_max, char *err, size_t errlen);
uint8_t *plm_arena_at(const plm_model *m, uint64_t off);
void plm_arena_free(plm_model *m);
/* Tests: pieces of at most this many bytes instead of PLM_PIECE_MAX, so that small models are cut too. */
void plm_loader_set_piece_max(plm_loader *ld, uint64_t bytes);

/* Binds hyper-parameters and tensors once header and weights are in place (loader.c calls it). With no weights
 * arena (m->pieces NULL) it checks every tensor's presence, shape and type from the header alone and binds no
 * data: the loader does that before allocating the arena, inspect to say whether a file would run. Code in bind
 * that reads tensor values must skip tensors whose data is NULL. exact: the kernel table with the reference's
 * arithmetic (plm_kern_for). */
plm_status plm_model_bind(plm_model *m, int exact, char *err, size_t errlen);
/* Parses the vocabulary and validates the hyper-parameters from the header alone (vocab-only files too). */
plm_status plm_model_read_header(plm_model *m, char *err, size_t errlen);

/* inspect.c: the header-only verdicts the loader gives before allocating the weights arena. */
plm_status plm_model_check(plm_model *m, char *err, size_t errlen); /* plm_model_bind without an arena */
/* PLM_OUT_OF_MEMORY, with the numbers, when the model and one session of params p need more than limit bytes
 * (0: no limit). */
plm_status plm_model_fits(const plm_model *m, const plm_session_params *p, uint64_t limit, char *err, size_t errlen);
uint64_t plm_memory_available(void); /* what the address space leaves (wasm32: 4 GiB less what is grown); 0 = unknown */
uint64_t plm_header_buffer_size(uint64_t header_size);

#endif
