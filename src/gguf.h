/* GGUF v2/v3 header reader (internal). Format: github.com/ggml-org/ggml/blob/master/docs/gguf.md
 *
 * gguf_parse() reads the header (magic, version, metadata key/values, tensor infos) from a buffer that holds the
 * first `len` bytes of a file. It trusts nothing: every count and length is checked against the bytes present
 * before anything is allocated, and every tensor's type, dims, size and offset is validated. Strings and arrays
 * point into the buffer, which must outlive the gguf_file.
 */
#ifndef PLM_GGUF_H
#define PLM_GGUF_H

#include <stddef.h>
#include <stdint.h>
#include "pocketlm.h"

enum gguf_vtype {
    GGUF_U8 = 0, GGUF_I8, GGUF_U16, GGUF_I16, GGUF_U32, GGUF_I32, GGUF_F32, GGUF_BOOL, GGUF_STRING, GGUF_ARRAY,
    GGUF_U64, GGUF_I64, GGUF_F64, GGUF_VTYPE_COUNT
};

typedef struct gguf_str { const char *s; uint64_t n; } gguf_str; /* not NUL-terminated */

typedef struct gguf_kv {
    gguf_str key;
    uint32_t type;              /* enum gguf_vtype */
    /* scalars */
    union { uint64_t u; int64_t i; double f; } v;
    gguf_str str;               /* GGUF_STRING */
    /* arrays: element type, count and the raw bytes of the elements (for strings: the encoded strings) */
    uint32_t arr_type;
    uint64_t arr_n;
    const uint8_t *arr_data;
} gguf_kv;

#define GGUF_MAX_DIMS 4
typedef struct gguf_tensor {
    gguf_str name;
    uint32_t type;              /* ggml type id, see simd/simd.h PLM_T_* */
    uint32_t n_dims;
    uint64_t ne[GGUF_MAX_DIMS]; /* ne[0] is the row length (contiguous); unused dims are 1 */
    uint64_t offset;            /* from the start of the data section */
    uint64_t size;              /* bytes */
} gguf_tensor;

typedef struct gguf_file {
    uint32_t version;
    uint64_t n_kv, n_tensors;
    gguf_kv *kv;
    gguf_tensor *tensors;
    uint64_t alignment;
    uint64_t header_size;       /* bytes of the header proper */
    uint64_t data_offset;       /* start of tensor data in the file (header_size rounded up to alignment) */
    uint64_t data_size;         /* end of the last tensor, relative to data_offset */
} gguf_file;

/* PLM_OK: parsed. PLM_BAD_MODEL / PLM_UNSUPPORTED / PLM_OUT_OF_MEMORY: message in err.
 * When the buffer ends before the header does, returns PLM_BAD_MODEL with *need set to a byte count larger
 * than len that must be present before trying again (so a streaming caller can wait); otherwise *need is 0. */
plm_status gguf_parse(gguf_file *g, const uint8_t *buf, uint64_t len, uint64_t *need, char *err, size_t errlen);
void gguf_free(gguf_file *g);

const gguf_kv *gguf_find(const gguf_file *g, const char *key);
const gguf_tensor *gguf_find_tensor(const gguf_file *g, const char *name);
/* Typed getters: return 1 and set *out when the key exists with a compatible scalar type, else 0. */
int gguf_get_u32(const gguf_file *g, const char *key, uint32_t *out);
int gguf_get_f32(const gguf_file *g, const char *key, float *out);
int gguf_get_bool(const gguf_file *g, const char *key, int *out);
int gguf_get_str(const gguf_file *g, const char *key, gguf_str *out);
/* Walks a string array: reads the string that starts at p (first: the kv's arr_data) into *out and returns where
 * the next one starts. No checks: gguf_parse validated every array. */
const uint8_t *gguf_str_array_next(const uint8_t *p, gguf_str *out);
const char *gguf_type_name(uint32_t ggml_type);

#endif
