/* Vocabulary and tokenizers (internal): text in, token ids out, exactly as llama.cpp does it for the same GGUF.
 *
 * Supported `tokenizer.ggml.model` values:
 *   "llama"  SentencePiece-style: score-driven merges over the whole text, byte fallback (<0xNN>), ▁ for spaces,
 *            optional space prefix (llama.cpp's llm_tokenizer_spm).
 *   "gpt2"   byte-level BPE: a pre-tokenizer chosen by `tokenizer.ggml.pre` splits the text into words, each word
 *            is mapped through the GPT-2 byte alphabet and merged by rank (llama.cpp's llm_tokenizer_bpe).
 * Pre-tokenizers (`tokenizer.ggml.pre`): see plm_vocab_pre_supported() / vocab.c for the list of names. A
 * missing `tokenizer.ggml.pre` means "default", as in llama.cpp; an unknown name fails the load with
 * PLM_UNSUPPORTED naming it.
 *
 * Everything the vocabulary needs is copied at load time: the gguf buffer may be freed afterwards. A plm_vocab is
 * read-only after loading, so any number of threads may tokenize with it at once.
 */
#ifndef PLM_VOCAB_H
#define PLM_VOCAB_H

#include <stddef.h>
#include <stdint.h>

#include "gguf.h"
#include "pocketlm.h"

typedef struct plm_vocab plm_vocab;

plm_status plm_vocab_load(const gguf_file *g, plm_vocab **out, char *err, size_t errlen);
void plm_vocab_free(plm_vocab *v);

int plm_vocab_n(const plm_vocab *v);
int plm_vocab_bos(const plm_vocab *v); /* -1 when absent */
int plm_vocab_eos(const plm_vocab *v); /* -1 when absent */
int plm_vocab_eot(const plm_vocab *v); /* -1 when absent */
int plm_vocab_add_bos(const plm_vocab *v); /* whether tokenizing adds BOS by default (metadata or model default) */
int plm_vocab_add_eos(const plm_vocab *v);
int plm_vocab_add_space_prefix(const plm_vocab *v);
const char *plm_vocab_model_name(const plm_vocab *v); /* "llama" or "gpt2" */
const char *plm_vocab_pre_name(const plm_vocab *v);   /* pre-tokenizer in use ("default" when missing) */

/* Tokenizes len bytes of text. Writes up to cap ids and returns the number of ids the text needs (call again with
 * a bigger buffer when that exceeds cap); -1 on error (out of memory). add_bos: -1 = model default (adds BOS and,
 * where the model asks for it, EOS), 0 = no special tokens, 1 = always BOS (+ EOS where the model asks).
 * parse_special: 1 = text such as "<|im_start|>" becomes the control token; user-defined tokens are always
 * matched, as in llama.cpp. */
int plm_vocab_tokenize(const plm_vocab *v, const char *text, size_t len, int32_t *ids, int cap, int add_bos,
                       int parse_special);

/* The bytes a token prints as: control and unknown tokens give "" (llama.cpp's token_to_piece with
 * special = false), byte tokens their byte, ▁ becomes a space, GPT-2 alphabet is mapped back to bytes.
 * Returns the piece length; the piece is written only when it fits in cap. -1 for an id out of range. */
int plm_vocab_piece(const plm_vocab *v, int32_t id, char *buf, int cap);
/* The same with llama.cpp's two extra knobs: lstrip = number of leading spaces to drop, special = 1 to render
 * control tokens as their text. */
int plm_vocab_piece_ex(const plm_vocab *v, int32_t id, char *buf, int cap, int lstrip, int special);
/* The raw vocabulary string of a token (e.g. "<s>", "▁Hello", "Ġworld"), NUL-terminated when it fits.
 * Returns its length, or -1 for an id out of range. */
int plm_vocab_text(const plm_vocab *v, int32_t id, char *buf, int cap);

/* llama_detokenize: concatenates pieces. When the vocabulary adds a space prefix, the leading space of the first
 * piece is dropped (a leading BOS cancels that, exactly as llama.cpp). remove_special drops a leading BOS / trailing
 * EOS the model adds by itself; unparse_special renders control tokens as text; clean_spaces = -1 follows the
 * model (llama.cpp's clean_up_tokenization_spaces: " ," -> "," and friends), 0/1 force it.
 * Returns the text length; writes only when it fits in cap. */
int plm_vocab_detokenize(const plm_vocab *v, const int32_t *ids, int n, char *buf, int cap, int remove_special,
                         int unparse_special, int clean_spaces);
/* Helper for streaming: how many bytes at the start of piece to drop when it is the first piece printed after the
 * prompt started (1 when the vocabulary adds a space prefix and the piece begins with a space, else 0). */
int plm_vocab_leading_space(const plm_vocab *v, const char *piece, int len);

int plm_vocab_is_eog(const plm_vocab *v, int32_t id); /* EOS, EOT, EOM, <|im_end|>, <|eot_id|>, ... */
int plm_vocab_is_control(const plm_vocab *v, int32_t id);

/* 1 when name is a `tokenizer.ggml.pre` value this build implements. */
int plm_vocab_pre_supported(const char *name);

#endif
