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
    plm_tensor ffn_norm, w_gate, w_up, w_down;
} plm_layer;

typedef struct plm_hparams {
    int n_vocab, n_ctx_train, n_embd, n_layer, n_head, n_head_kv, n_ff, head_dim;
    float norm_eps, rope_base, rope_freq_scale;
    int rope_neox;
} plm_hparams;

struct plm_model {
    uint8_t *header;      /* the GGUF header bytes; gguf points into it */
    gguf_file gguf;
    uint8_t *weights;     /* the single weights arena: the file's data section */
    uint64_t weights_size;
    char arch[32];
    plm_hparams hp;
    const plm_kernels *kern; /* chosen once by plm_model_bind: every mm_type is a layout this table reads */
    plm_tensor tok_embd, out_norm, output;
    plm_tensor rope_freqs; /* Llama 3's RoPE frequency factors, head_dim/2 floats; data NULL when absent */
    plm_layer *layers;
    struct plm_vocab *vocab;
    char err[256];        /* set only in a model that failed to load (pocketlm.h: objects that carry an error) */
};

/* Binds hyper-parameters and tensors once header and weights are in place (loader.c calls it). */
/* exact: the kernel table with the reference's arithmetic (plm_kern_for) */
plm_status plm_model_bind(plm_model *m, int exact, char *err, size_t errlen);
/* Parses the vocabulary and validates the hyper-parameters from the header alone (vocab-only files too). */
plm_status plm_model_read_header(plm_model *m, char *err, size_t errlen);

#endif
