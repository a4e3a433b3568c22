/* Vocabulary internals shared by vocab.c (loading), tokenize.c, detokenize.c, tokenizer_spm.c, tokenizer_bpe.c
 * and pretokenize.c. Not part of any public interface. */
#ifndef PLM_VOCAB_IMPL_H
#define PLM_VOCAB_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "vocab.h"

/* Token attributes: llama.cpp's llama_token_attr bits. */
enum {
    PLM_ATTR_UNDEFINED = 0,
    PLM_ATTR_UNKNOWN = 1 << 0,
    PLM_ATTR_UNUSED = 1 << 1,
    PLM_ATTR_NORMAL = 1 << 2,
    PLM_ATTR_CONTROL = 1 << 3,
    PLM_ATTR_USER_DEFINED = 1 << 4,
    PLM_ATTR_BYTE = 1 << 5,
    PLM_ATTR_LSTRIP = 1 << 7,
    PLM_ATTR_RSTRIP = 1 << 8,
};

enum plm_vocab_type { PLM_VOCAB_SPM = 1, PLM_VOCAB_BPE = 2 };

/* Pre-tokenizer pipelines (each one is a fixed sequence of llama.cpp's regex splits, hand-coded). */
enum plm_pre_type {
    PLM_PRE_DEFAULT,   /* [\p{P}$+<=>^~|]+ , gpt2 , \p{N}+ , [0-9][0-9][0-9] */
    PLM_PRE_GPT2,      /* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
    PLM_PRE_LLAMA3,    /* (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|... */
    PLM_PRE_QWEN2,     /* the llama3 expression with \p{N} (one digit per word) */
    PLM_PRE_STARCODER, /* \p{N} , gpt2 */
    PLM_PRE_FALCON,    /* [\p{P}$+<=>^~|`]+ , gpt2 , [0-9][0-9][0-9] */
};

struct plm_vocab {
    int type;                 /* enum plm_vocab_type */
    int pre;                  /* enum plm_pre_type (BPE only) */
    char pre_name[64];
    int32_t n;                /* number of tokens */
    char *text;               /* every token string back to back (not NUL-terminated) */
    size_t *text_off;
    uint32_t *text_len;
    float *score;
    uint16_t *attr;           /* PLM_ATTR_* */
    uint8_t *eog;             /* 1 for end-of-generation tokens */
    int32_t *tok_slots;       /* open-addressing hash of token strings: id + 1, 0 = empty */
    size_t tok_mask;
    /* BPE merges "first second": both halves stored back to back in mtext */
    int32_t n_merges;
    char *mtext;
    size_t *m_off;
    uint32_t *m_len1, *m_len2;
    int32_t *m_slots;         /* hash of (first, second): merge index + 1 */
    size_t m_mask;
    /* tokens matched in raw text before tokenizing (control, user-defined, unknown), longest first */
    int32_t *special;
    int32_t n_special;
    int32_t bos, eos, eot, eom, unk;
    int add_bos, add_eos, add_space_prefix, ignore_merges, clean_spaces;
    int spm_split;            /* SPM: no token has U+2581 after another character, so text may be cut there */
    int32_t max_token_len;
};

/* ---- lookups (vocab.c) ---- */
uint64_t plm_hash_bytes(const char *s, size_t n, uint64_t seed);
int32_t plm_vocab_find(const plm_vocab *v, const char *s, size_t n); /* -1 when absent */
int32_t plm_vocab_merge_rank(const plm_vocab *v, const char *a, size_t na, const char *b, size_t nb); /* -1 */
static inline const char *plm_tok_text(const plm_vocab *v, int32_t id) { return v->text + v->text_off[id]; }

/* ---- growable arrays ---- */
typedef struct plm_ids { int32_t *p; size_t n, cap; int oom; } plm_ids;
void plm_ids_push(plm_ids *o, int32_t id);

/* ---- tokenizers: tokenize one raw-text fragment (no special tokens inside), appending ids ---- */
/* SPM: text is already prefixed and escaped (spaces are U+2581). */
void plm_spm_tokenize(const plm_vocab *v, const char *text, size_t n, plm_ids *out);
void plm_bpe_tokenize(const plm_vocab *v, const char *text, size_t n, plm_ids *out);

/* ---- pre-tokenizer (pretokenize.c) ----
 * Splits n code points (flags[i] = plm_unicode_flags(cpts[i])) into words as the pipeline `pre` does; the words
 * are written as lengths (in code points) to *lens, *n_lens. Returns 0, or -1 when out of memory. */
int plm_pretokenize(int pre, const uint32_t *cpts, const uint16_t *flags, size_t n, size_t **lens, size_t *n_lens);

#endif
