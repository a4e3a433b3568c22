/* GGUF v3 writer (tools/lib: linked into the tools, converter, quantizer, benchmark-model generator, and the tests;
 * not part of the runtime).
 * Format: github.com/ggml-org/ggml/blob/master/docs/gguf.md — the byte layout follows ggml's own gguf writer
 * (header, key/values, tensor infos, zero padding to the alignment, then each tensor's data padded to the
 * alignment), so a file rebuilt from the same parts is byte-identical to one written by llama.cpp.
 *
 * Usage: build a list of key/values and tensor infos, then either
 *   - gguf_writer_write(): everything at once, when every tensor was added with its bytes, or
 *   - streaming: gguf_writer_write_header(), then the bytes of each tensor in the order the tensors were added
 *     (gguf_writer_write_data(), any number of calls per tensor, chunks of any size), then gguf_writer_finish().
 *     Nothing but the header is held in memory, so files larger than RAM can be written.
 *
 * Ownership: the writer copies every key, string, array and tensor byte it is given; no function keeps a pointer
 * to caller memory after it returns. Errors: a plm_status, with a message in gguf_writer_errmsg().
 * Numbers are written little-endian whatever the host is (arrays given as host arrays are converted).
 */
#ifndef PLM_GGUF_WRITE_H
#define PLM_GGUF_WRITE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "gguf.h"
#include "pocketlm.h"

#define GGUF_WRITER_DEFAULT_ALIGNMENT 32
#define GGUF_WRITER_MAX_NAME 63 /* ggml's GGML_MAX_NAME (64) minus the NUL: longer names break llama.cpp */

typedef struct gguf_writer gguf_writer;

gguf_writer *gguf_writer_new(void); /* NULL only when out of memory */
void gguf_writer_free(gguf_writer *w);
const char *gguf_writer_errmsg(const gguf_writer *w);

/* ---- metadata. Setting a key that exists replaces its value in place (the key keeps its position);
 * otherwise the key is appended. Keys are NUL-terminated, non-empty. ---- */
plm_status gguf_writer_set_u8(gguf_writer *w, const char *key, uint8_t v);
plm_status gguf_writer_set_i8(gguf_writer *w, const char *key, int8_t v);
plm_status gguf_writer_set_u16(gguf_writer *w, const char *key, uint16_t v);
plm_status gguf_writer_set_i16(gguf_writer *w, const char *key, int16_t v);
plm_status gguf_writer_set_u32(gguf_writer *w, const char *key, uint32_t v);
plm_status gguf_writer_set_i32(gguf_writer *w, const char *key, int32_t v);
plm_status gguf_writer_set_f32(gguf_writer *w, const char *key, float v);
plm_status gguf_writer_set_u64(gguf_writer *w, const char *key, uint64_t v);
plm_status gguf_writer_set_i64(gguf_writer *w, const char *key, int64_t v);
plm_status gguf_writer_set_f64(gguf_writer *w, const char *key, double v);
plm_status gguf_writer_set_bool(gguf_writer *w, const char *key, int v);
plm_status gguf_writer_set_str(gguf_writer *w, const char *key, const char *s);               /* NUL-terminated */
plm_status gguf_writer_set_strn(gguf_writer *w, const char *key, const char *s, size_t n);     /* n bytes */
/* Array of a numeric or bool element type (enum gguf_vtype, not STRING/ARRAY): n host-order elements of the
 * type's natural C type (uint8_t, int8_t, ..., float, double; bool as uint8_t 0/1). */
plm_status gguf_writer_set_arr(gguf_writer *w, const char *key, uint32_t elem_type, const void *data, uint64_t n);
/* Array of strings: n NUL-terminated strings, or, when lens is not NULL, strs[i] holds lens[i] bytes. */
plm_status gguf_writer_set_str_arr(gguf_writer *w, const char *key, const char *const *strs, const size_t *lens,
                                   uint64_t n);
/* One key/value taken from a parsed file (gguf_parse), any type, copied byte for byte. */
plm_status gguf_writer_set_kv(gguf_writer *w, const gguf_kv *kv);
/* Every key/value of a parsed file, in its order (the tokenizer, chat template, ... come over unchanged). */
plm_status gguf_writer_copy_kvs(gguf_writer *w, const gguf_file *g);
/* 1 if the key existed and was removed, 0 if it was absent. */
int gguf_writer_remove(gguf_writer *w, const char *key);
int gguf_writer_has(const gguf_writer *w, const char *key);
uint64_t gguf_writer_n_kv(const gguf_writer *w);
/* Sets general.alignment (a power of two); the data layout uses it. Without it the default 32 is used and no key is
 * written (like ggml). A general.alignment copied from a parsed file is honoured the same way. */
plm_status gguf_writer_set_alignment(gguf_writer *w, uint32_t alignment);

/* ---- tensors, in file order. ne[0] is the row length; n_dims in 1..4; name 1..63 bytes, unique.
 * Bytes of a tensor (0 if the type's block layout is unknown or ne[0] is not a multiple of its block). */
uint64_t gguf_tensor_nbytes(uint32_t type, uint32_t n_dims, const uint64_t *ne);
/* data: the tensor's bytes (copied; size must equal gguf_tensor_nbytes), or NULL to stream them later. For a type
 * whose layout the writer does not know (gguf_tensor_nbytes = 0), size gives the byte count (e.g. gguf_tensor.size
 * of a parsed file); otherwise size may be 0 or must match. */
plm_status gguf_writer_add_tensor(gguf_writer *w, const char *name, uint32_t type, uint32_t n_dims,
                                  const uint64_t *ne, const void *data, uint64_t size);
uint64_t gguf_writer_n_tensors(const gguf_writer *w);
/* Offset of tensor i from the start of the data section, and the data section's start in the file (both valid
 * after the last tensor was added; the header size depends on every key and tensor). */
uint64_t gguf_writer_tensor_offset(const gguf_writer *w, uint64_t i);
uint64_t gguf_writer_data_offset(const gguf_writer *w);
uint64_t gguf_writer_file_size(const gguf_writer *w);

/* ---- output ---- */
/* Everything in one go: every tensor must have been added with its data. */
plm_status gguf_writer_write(gguf_writer *w, FILE *f);
/* Streaming: header (+ padding), then the data of each tensor in order, then finish (checks every byte came). */
plm_status gguf_writer_write_header(gguf_writer *w, FILE *f);
plm_status gguf_writer_write_data(gguf_writer *w, FILE *f, const void *data, size_t n);
plm_status gguf_writer_finish(gguf_writer *w, FILE *f);

#endif
