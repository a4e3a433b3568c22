/* The kernel interface. Every instruction set implements this table in its own file (scalar.c is the reference,
 * always built; x86.c, neon.c, wasm128.c override what they accelerate and fall back to scalar for the rest).
 * src/ calls kernels only through the table a model was bound with (plm_kern(), kept in the model); it never
 * contains intrinsics.
 *
 * Block layouts are GGUF's / ggml's own (ggml/src/ggml-common.h), so tensors are used straight from the file.
 */
#ifndef PLM_SIMD_H
#define PLM_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ggml type ids as stored in GGUF tensor infos. Only the ones we run have kernels. */
enum {
    PLM_T_F32 = 0, PLM_T_F16 = 1, PLM_T_Q4_0 = 2, PLM_T_Q4_1 = 3, PLM_T_Q5_0 = 6, PLM_T_Q5_1 = 7, PLM_T_Q8_0 = 8,
    PLM_T_Q8_1 = 9, PLM_T_Q2_K = 10, PLM_T_Q3_K = 11, PLM_T_Q4_K = 12, PLM_T_Q5_K = 13, PLM_T_Q6_K = 14,
    PLM_T_Q8_K = 15, PLM_T_IQ4_NL = 20, PLM_T_IQ4_XS = 23, PLM_T_BF16 = 30, PLM_T_COUNT = 40
};

/* Kernel variants: ids that never occur in a file (GGUF type ids stay below PLM_T_COUNT). plm_weight_layout gives a
 * weight one of these at bind time when llama.cpp (x86, the build the conformance data was recorded with) sums
 * its products in a different order than the plain type; block layout, row size and activation type are those of
 * the base type (plm_type() answers for both), only the summation order of matmul differs:
 *   PLM_T_Q4_0_R8  Q4_0 matrix whose row count is a multiple of 8: llama.cpp repacks it (q4_0_8x8) and sums each
 *                  output block by block: acc = fma((float)<integer dot of the 32-block>, d_w*d_a, acc).
 *   PLM_T_Q4_K_R8  Q4_K matrix whose row count is a multiple of 8 (repacked to q4_K_8x8): integer sums per
 *                  256-block (decode: gemv) or per 64 values (activation rows below nb & ~3: llama.cpp's gemm takes
 *                  rows in groups of 4), each fused into a scale and a min accumulator; result acc - accm.
 *   PLM_T_F32_TB, PLM_T_F16_TB  F32/F16 matrix with rows a multiple of 16 long and a row count that is a multiple
 *                  of 4: with 2 or more activation rows (nb >= 2) llama.cpp runs it through llamafile's tinyBLAS
 *                  (one 16-lane accumulator per output); with nb == 1 it is the plain type (ggml_vec_dot).
 * The exact arithmetic of every type and variant is spelled out in scalar.c ("Arithmetic contract"). */
#define PLM_T_VARIANT 0x100
#define PLM_T_BASE(t) ((t) & 0xff) /* the GGUF type a kernel type id stands for */
enum {
    PLM_T_Q4_0_R8 = PLM_T_VARIANT | PLM_T_Q4_0, PLM_T_Q4_K_R8 = PLM_T_VARIANT | PLM_T_Q4_K,
    PLM_T_F32_TB = PLM_T_VARIANT | PLM_T_F32, PLM_T_F16_TB = PLM_T_VARIANT | PLM_T_F16,
    PLM_T_BF16_TB = PLM_T_VARIANT | PLM_T_BF16, /* as F16_TB, for BF16 (tinyBLAS<16> over bf16 pairs) */
    /* IQ4_NL with a multiple of 8 rows (iq4_nl_8x8): Q4_0_R8's order on the IQ4_NL levels. Q2_K likewise (q2_K_8x8,
     * which llama.cpp picks on AVX-512 CPUs): acc and accm fused once per 256-block (gemv) or per 128 values
     * (activation rows below nb & ~3, gemm), result acc - accm. */
    PLM_T_IQ4_NL_R8 = PLM_T_VARIANT | PLM_T_IQ4_NL, PLM_T_Q2_K_R8 = PLM_T_VARIANT | PLM_T_Q2_K,
    /* PLM_T_Q4_0_X8: a Q4_0_R8 matrix whose bytes a backend's `repack` has interleaved (plm_repack_q4_0_x8): the
     * same arithmetic, but only that backend's matmul reads it, and only in whole groups of 8 rows. */
    PLM_T_Q4_0_X8 = 0x200 | PLM_T_Q4_0,
    PLM_T_Q4_K_X8 = 0x200 | PLM_T_Q4_K, /* likewise for Q4_K_R8 (plm_repack_q4_K_x8) */
    /* PLM_T_Q8_0_X8: a Q8_0 matrix in the X8 layout (plm_repack_q8_0_x8). llama.cpp's x86 order for Q8_0 is the
     * plain one, so only a backend that gives up exactness for speed takes it (the fast wasm-relaxed table). */
    PLM_T_Q8_0_X8 = 0x200 | PLM_T_Q8_0
};

#define QK8_0 32
#define QK4_0 32
#define QK_K 256

typedef uint16_t plm_f16; /* IEEE half, bits */

typedef struct { plm_f16 d; int8_t qs[QK8_0]; } block_q8_0;                   /* 34 bytes */
typedef struct { plm_f16 d; uint8_t qs[QK4_0 / 2]; } block_q4_0;              /* 18 bytes */
typedef struct { plm_f16 d, dmin; uint8_t scales[12]; uint8_t qs[QK_K / 2]; } block_q4_K; /* 144 bytes */
typedef struct { uint8_t ql[QK_K / 2]; uint8_t qh[QK_K / 4]; int8_t scales[QK_K / 16]; plm_f16 d; } block_q6_K; /* 210 */
typedef struct { float d; int8_t qs[QK_K]; int16_t bsums[QK_K / 16]; } block_q8_K; /* activations only */
/* The other types ggml's quantizer writes (ggml-common.h), read through memcpy at these offsets. */
typedef struct { plm_f16 d, m; uint8_t qs[16]; } block_q4_1;                               /* 20 bytes */
typedef struct { plm_f16 d; uint8_t qh[4]; uint8_t qs[16]; } block_q5_0;                   /* 22 bytes */
typedef struct { plm_f16 d, m; uint8_t qh[4]; uint8_t qs[16]; } block_q5_1;                /* 24 bytes */
typedef struct { plm_f16 d, s; int8_t qs[32]; } block_q8_1;        /* activations only; s = d * sum(qs) */
typedef struct { uint8_t scales[16]; uint8_t qs[64]; plm_f16 d, dmin; } block_q2_K;        /* 84 bytes */
typedef struct { uint8_t hmask[32]; uint8_t qs[64]; uint8_t scales[12]; plm_f16 d; } block_q3_K; /* 110 */
typedef struct { plm_f16 d, dmin; uint8_t scales[12]; uint8_t qh[32]; uint8_t qs[128]; } block_q5_K; /* 176 */
typedef struct { plm_f16 d; uint8_t qs[16]; } block_iq4_nl;                                /* 18 bytes */
typedef struct { plm_f16 d; uint16_t scales_h; uint8_t scales_l[4]; uint8_t qs[128]; } block_iq4_xs; /* 136 */

/* Sub-block scales of the K-quants and IQ4_XS, unpacked from their packed bytes as ggml lays them out: every
 * kernel and quantizer reads them through these. */
/* Q4_K / Q5_K: 12 bytes q hold 8 six-bit scales and 8 six-bit mins; those of sub-block j (ggml's get_scale_min_k4) */
static inline void plm_q4k_scale_min(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
}
/* Q4_K / Q5_K: all 8 scales (sc) and mins (mn) at once, by ggml's utmp shuffle of the 12 bytes as four words
 * (the SIMD kernels' form of plm_q4k_scale_min) */
static inline void plm_q4k_unpack(const uint8_t *p, uint8_t sc[8], uint8_t mn[8]) {
    uint32_t u[4];
    memcpy(u, p, 12);
    const uint32_t k1 = 0x3f3f3f3f, k2 = 0x0f0f0f0f, k3 = 0x03030303;
    u[3] = ((u[2] >> 4) & k2) | (((u[1] >> 6) & k3) << 4);
    const uint32_t m01 = u[1] & k1;
    u[1] = (u[2] & k2) | (((u[0] >> 6) & k3) << 4);
    u[0] &= k1;
    u[2] = m01;
    memcpy(sc, &u[0], 4), memcpy(sc + 4, &u[1], 4);
    memcpy(mn, &u[2], 4), memcpy(mn + 4, &u[3], 4);
}
/* Q3_K: 16 six-bit scales in 12 bytes s (low 4 bits in 8 bytes of nibbles, high 2 bits in 4 bytes), minus 32 */
static inline void plm_q3k_scales(const uint8_t *q, int out[16]) {
    uint8_t s[12]; /* a copy: out cannot alias it, so the loop vectorizes */
    memcpy(s, q, 12);
    for (int i = 0; i < 16; i++)
        out[i] = ((i < 8 ? s[i] & 0xF : s[i - 8] >> 4) | (((s[8 + i % 4] >> (2 * (i / 4))) & 3) << 4)) - 32;
}
/* Q2_K: 16 bytes s, the scale in each low nibble, the min in the high one */
static inline void plm_q2k_scales(const uint8_t *s, int sc[16], int mn[16]) {
    for (int i = 0; i < 16; i++) {
        sc[i] = s[i] & 0xF;
        mn[i] = s[i] >> 4;
    }
}
/* IQ4_XS: the 6-bit scale of sub-block ib of block x, minus 32 */
static inline int plm_iq4xs_scale(const uint8_t *x, int ib) {
    uint16_t sh;
    memcpy(&sh, x + offsetof(block_iq4_xs, scales_h), 2);
    const uint8_t *sl = x + offsetof(block_iq4_xs, scales_l);
    return (((sl[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4)) - 32;
}

/* IQ4_NL / IQ4_XS: a 4-bit index into these 16 non-uniform levels (ggml's kvalues_iq4nl) */
extern const int8_t plm_iq4nl_values[16];
/* bf16 <-> f32: round to nearest even, NaN kept quiet (ggml's GGML_FP32_TO_BF16) */
uint16_t plm_f32_to_bf16(float f);
float plm_bf16_to_f32(uint16_t h);

/* Facts about a weight type: elements per block, bytes per block, and the type its activations are converted to
 * before the dot product (what llama.cpp calls vec_dot_type: Q8_0 for Q4_0/Q5_0/Q8_0/IQ4_NL, Q8_1 for Q4_1/Q5_1,
 * Q8_K for K-quants and IQ4_XS, F16 for F16, BF16 for BF16, F32 for F32). blck == 0 means we have no kernels for the type. */
typedef struct plm_type_info { const char *name; int blck; int bytes; int act_type; } plm_type_info;
const plm_type_info *plm_type(int type); /* also answers for the kernel variants above */
/* Bytes of a row of n elements of type t (n a multiple of the block size), or 0 if unsupported. */
size_t plm_row_size(int type, int64_t n);

typedef struct plm_kernels {
    const char *name;

    /* Activation conversion: one row of n floats to the act_type of a weight type (n a multiple of its block). */
    void (*quantize_row)(int act_type, const float *x, void *out, int n);

    /* out[b*ldo + r] = dot(weight row r, activation row b), r in [0,nr), b in [0,nb).
     * w: nr rows of n elements of weight type `type` (a GGUF type or a kernel variant), w_stride bytes apart; a: nb
     * activation rows already in act_type, a_stride bytes apart. Each output depends only on its two rows, `type`
     * and, for the variants, nb (the *_TB ones: nb >= 2) and the row's index b (Q4_K_R8: b < nb & ~3), never on how
     * weight rows are grouped or split across threads. Backends
     * process several activation rows per pass over the weights. */
    void (*matmul)(int type, int n, const void *w, size_t w_stride, int nr, const void *a, size_t a_stride, int nb,
                   float *out, size_t ldo);

    /* Float kernels. */
    void (*rmsnorm)(float *out, const float *x, const float *w, int n, float eps); /* w may be NULL */
    void (*silu_mul)(float *g, const float *u, int n);         /* g = silu(g) * u */
    /* g = gelu(g) * u, GELU-tanh as ggml computes it on CPU (GGML_GELU_FP16): g rounded to f16, the GELU of that
     * half rounded to f16 (ggml's lookup table), for -10 < g < 10; 0 below, g above. Exact on every backend. */
    void (*gelu_mul)(float *g, const float *u, int n);
    /* Rotary embedding of one head of size hd at position pos, in place. neox: pairs (i, i+hd/2), else (2i, 2i+1).
     * theta_i = pos * freq_scale * base^(-2i/hd) / ff[i]; ff: hd/2 frequency factors (Llama 3's rope_freqs), or
     * NULL for none. */
    void (*rope)(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox);
    void (*f16_to_f32)(const plm_f16 *x, float *y, int n);
    void (*f32_to_f16)(const float *x, plm_f16 *y, int n);
    /* Attention (ggml's flash-attention primitives): scores = dot(q, K row) for f16 or f32 cached keys; the
     * weighted value sum is accumulated in the cache's precision: f16 (mad_f16/scale_f16 round every update to
     * f16, like ggml_vec_mad_f16/ggml_vec_scale_f16) or f32 (axpy_f32). */
    float (*dot_f32)(const float *a, const float *b, int n);
    float (*dot_f16)(const plm_f16 *a, const plm_f16 *b, int n);
    void (*axpy_f32)(float *y, float a, const float *x, int n);
    void (*mad_f16)(plm_f16 *y, const plm_f16 *x, float a, int n); /* y = f16(y + a*x), fused multiply-add */
    void (*scale_f16)(plm_f16 *y, float a, int n);                  /* y = f16(y * a) */

    /* Optional (NULL: none). Rearranges, in place, the nr rows (of n elements, contiguous) of a matrix of kernel
     * type `type` into a layout this backend's matmul reads faster, and returns the new kernel type, or `type` when
     * it has nothing better. Called once per weight matrix when a model is bound. */
    int (*repack)(int type, void *w, int n, int nr);

    /* The table with the reference's arithmetic (bit for bit where test_kernels says so) when this one trades it
     * for speed; NULL when this one is it. plm_kern_for(1) picks it (a model loaded with `exact`). */
    const struct plm_kernels *exact;
} plm_kernels;

/* The X8 layout (PLM_T_Q4_0_X8), shared by the backends that use it: rows in groups of 8; a group holds, block by
 * block, the 8 rows' scales (8 halves) and then their 16 quant bytes in 4-byte pieces, piece-major: piece v of
 * row r at 16 + 32v + 4r. In a byte at offset j of a row's block the low nibble is element j, the high element
 * j + 16, so piece v carries elements 4v..4v+3 and 16+4v..16+4v+3. Returns 0 if nr % 8 != 0 (left alone). */
int plm_repack_q4_0_x8(void *w, int n, int nr);
/* Q4_K_X8, per 256-value block of a group of 8 rows (8 * 144 bytes): the 8 rows' d (8 halves), their dmin, their
 * 12 scale bytes as three 32-bit words, word k of row r at 32 + 32k + 4r; then the quants: in a row's block, byte
 * l of 32-byte chunk c holds element 64c + l (low nibble) and 64c + 32 + l (high); its 4-byte piece v (bytes 4v..)
 * of row r goes to 128 + 256c + 32v + 4r. Returns 0 if nr % 8 != 0 (left alone). */
int plm_repack_q4_K_x8(void *w, int n, int nr);
/* Q8_0_X8: rows in groups of 8, each group two halves of 4 rows (4 * 34 bytes per block, nblk = n/32 blocks): first
 * the scales, row r of block i at 8i + 2r; then the quants, block by block in 4-byte pieces, piece-major: piece v
 * (elements 4v..4v+3, v < 8) of row r of block i at 8 * nblk + 128i + 16v + 4r (a tile reads the half front to
 * back). Returns 0 if nr % 8 != 0. */
int plm_repack_q8_0_x8(void *w, int n, int nr);

/* The scalar reference (always present) and the backend this build was compiled for (may be the same). */
extern const plm_kernels plm_kernels_scalar;
const plm_kernels *plm_kern(void);
/* plm_kern(), or its exact sibling when exact != 0 and it has one (plm_kernels.exact). */
const plm_kernels *plm_kern_for(int exact);
/* The kernel type id under which k multiplies a weight matrix of GGUF type `type`, nr rows of n elements at w:
 * the variant for llama.cpp's summation order at that shape (above), then k's own layout, into which the matrix is
 * rearranged in place when may_repack (0: the bytes must stay in the file's layout, e.g. a matrix that is also read
 * row by row). Called once per matrix, when a model is bound (backend.c). */
int plm_weight_layout(const plm_kernels *k, int type, void *w, int64_t n, int64_t nr, int may_repack);

/* fmaf(x, y, z), inline. WebAssembly has no fused multiply-add, and wasi-libc's software fmaf is slow and, in
 * some double-rounding cases, wrong (its tie fix-up goes the wrong way: see tests/c/test_kernels.c). The product of
 * two floats is exact in double (24 + 24 bits), so one rounding to double and one to float give fmaf's result
 * unless the double lands exactly on a float rounding midpoint or in float's subnormal range, where
 * plm_fmaf_rare (scalar.c) finishes the job exactly. Elsewhere fmaf is the instruction. */
float plm_fmaf_rare(double p, double z); /* round(p + z) to float exactly; p, z exact doubles */
static inline float plm_fmaf(float x, float y, float z) {
#ifdef __wasm__
    const double p = (double)x * (double)y, r = p + (double)z;
    uint64_t u;
    memcpy(&u, &r, sizeof u);
    const unsigned e = (unsigned)(u >> 52) & 0x7ff;
    if ((u & 0x1fffffff) != 0x10000000 && ((e >= 1023 - 126 && e != 0x7ff) || (u << 1) == 0)) return (float)r;
    return plm_fmaf_rare(p, (double)z);
#else
    return fmaf(x, y, z);
#endif
}

/* Scalar helpers shared by every backend (scalar.c). */
float plm_f16_to_f32(plm_f16 h);
plm_f16 plm_f32_to_f16(float f);
/* ggml's vectorized expf (AVX-512 form), which llama.cpp's SiLU uses for full 16-lane vectors: backends must
 * match it bit for bit. */
float plm_expf_ggml(float x);
/* glibc's expf (x86-64, FMA variant; what llama.cpp's SiLU calls for the last n % 16 elements), bit for bit, in
 * portable C. */
float plm_expf_glibc(float x);
/* x86-64 glibc's sinf and cosf of x (RoPE's angles) and tanhf (soft-capping), bit for bit, in portable C
 * (libm_glibc.c). */
void plm_sincosf_glibc(float x, float *sinp, float *cosp);
float plm_tanhf_glibc(float x);

/* The scalar GELU-tanh gated product (scalar.c), which every backend's table uses: its cost is one table-free
 * tanh per element, small beside the matrix products around it. */
void plm_gelu_mul_ref(float *g, const float *u, int n);

/* The scalar rope (every backend's table points to it) with ggml's attention factor: cos and sin are multiplied by
 * mscale before the rotation (rope_yarn with ext_factor 0), which phi3's LongRoPE files set through
 * rope.scaling.attn_factor. With mscale 1 it is the table's rope bit for bit. hd <= 512 (the loader's limit on head
 * dimensions). */
void plm_rope_ref(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox, float mscale);
/* plm_rope_ref in its two halves, for a caller that rotates many heads at one position (every head of a token
 * shares the angles): plm_rope_cs writes the hd/2 pairs (cos, sin), each times mscale, to cs[0..hd); plm_rope_apply
 * rotates one head with them. plm_rope_ref is the one, then the other. */
void plm_rope_cs(float *cs, int hd, int pos, float base, float freq_scale, const float *ff, float mscale);
void plm_rope_apply(float *x, const float *cs, int hd, int neox);

/* Any supported type -> floats (scalar.c: the token embedding's row lookup, tests, tools). */
void plm_dequantize_row(int type, const void *x, float *y, int64_t n);
/* Weight quantizers, n floats -> row of type t; returns bytes written, 0 if t cannot be produced. Slow reference
 * code in tools/lib/quantize.c, linked into the tools and tests only (libpocketlm-tools.a), never the runtime. */
size_t plm_quantize_weights(int type, const float *x, void *out, int64_t n);

#endif
