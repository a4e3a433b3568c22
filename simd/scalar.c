/* Scalar reference backend: the kernels every SIMD backend is tested against.
 *
 * Block formats (block_q4_0, block_q8_0, block_q4_K, block_q6_K, block_q8_K and the others in simd.h) are ggml's, as defined in
 * ggml/src/ggml-common.h of ggml-org/llama.cpp (MIT), so GGUF tensors are used straight from the file. This file is
 * our own code; what it computes is what llama.cpp computes on x86 (the CPU backend the conformance data was
 * recorded with: AVX-512, tests/data/conformance/README.md), operation for operation, because greedy decoding of
 * small models flips on last-bit differences.
 *
 * Portable C11: no intrinsics; every multi-byte field is read with memcpy, so weight/activation rows may sit at any
 * byte address and any stride (GGUF data is only guaranteed to be 32-byte aligned at the tensor start).
 *
 * ================================================================ Arithmetic contract
 * Every backend computes exactly this (integer-based types: bit-exact, tested; F16/F32: bit-exact on x86, which the
 * tests enforce there, and the order every backend should follow). "fma" is a fused multiply-add (one rounding);
 * every other float operation rounds once, in the order written. red8(v) = ((v0+v4)+(v2+v6)) + ((v1+v5)+(v3+v7))
 * (ggml's hsum_float_8, tinyBLAS's hsum(__m256)); red16(v) = red8(t) with t[i] = v[i]+v[i+8] (i < 8)
 * (GCC's _mm512_reduce_add_ps). d_w, d_a: a block's weight and activation scales as floats.
 *
 * Activation conversion (quantize_row):
 *   Q8_0  ggml's x86 quantize_row_q8_0: amax over the block, d = amax/127 stored as f16, q = round-half-even(x *
 *         (127/amax)) (0 when amax = 0).
 *   Q8_K  quantize_row_q8_K_ref: iscale = -127/max (max = first value of largest magnitude, signed),
 *         q = min(127, round-half-even(iscale*x)), d = 1/iscale, bsums = sums of 16 quants.
 *   Q8_1  as Q8_0, plus s = f16(d * sum of the 32 quants) with the unrounded d.
 *   F16, BF16  round to nearest even.
 * matmul, per output (weight row w, activation row a, n elements):
 *   Q4_0, Q8_0  (ggml_vec_dot_*_q8_0 AVX2 and llamafile's tinyBLAS_Q0_AVX): 8 lanes; lane k of block b gets
 *         s = integer sum of products 4k..4k+3 of the block, lane = fma(d_w*d_a, (float)s, lane); result red8.
 *         Q4_0 element j of a block: low nibble of byte j (j < 16), high nibble of byte j-16, minus 8.
 *   Q4_0_R8  (ggml_gemv/gemm_q4_0_8x8_q8_0, the repacked form): acc = 0; per block, in order,
 *         acc = fma((float)<integer dot of all 32 products>, d_w*d_a, acc).
 *   Q4_K  (ggml_vec_dot_q4_K_q8_K AVX2): 8 lanes; per 256-block, lane L gets the integer sum over the 8
 *         sub-blocks j of sc_j * (products 4L..4L+3 of sub-block j), lane = fma(d_w*d_a, (float)sum, lane); the
 *         mins go through 4 lanes p: m = fma(-d_a*dmin_w, (float)(mn_2p*(bs_4p+bs_4p+1) + mn_2p+1*(bs_4p+2+bs_4p+3)),
 *         m); result red8(lanes) + ((m0+m2)+(m1+m3)).
 *   Q4_K_R8  (ggml_gemv/gemm_q4_K_8x8_q8_K): with P_p = sc_2p*dot_2p + sc_2p+1*dot_2p+1 and
 *         M_p = mn_2p*S_2p + mn_2p+1*S_2p+1 (S_j = bs_2j + bs_2j+1) for the 4 pairs p of 32-value sub-blocks j:
 *         activation rows b < (nb & ~3) (llama.cpp's gemm, rows in groups of 4): acc = fma((float)P_p, d_w*d_a, acc),
 *         accm = fma((float)M_p, dmin_w*d_a, accm) for every pair in order; the other rows (gemv, so every decode
 *         row): the same once per 256-block with (float)(P_0+P_1+P_2+P_3) and (float)(M_0+...+M_3). Result acc - accm.
 *   Q6_K  (ggml_vec_dot_q6_K_q8_K AVX2, bsums form): 8 lanes; lane L of a 256-block gets the integer
 *         sum over its 32-value groups of sc * (products 4L..4L+3, with the unsigned quants 0..63), minus
 *         32*(sc_2L*bs_2L + sc_2L+1*bs_2L+1); lane = fma(d_a*d_w, (float)sum, lane); result red8.
 *   Q5_0  (ggml_vec_dot_q5_0_q8_0; tinyBLAS_Q0 has the same order): Q4_0's lanes on (nibble | bit j of qh << 4) - 16.
 *   Q4_1, Q5_1  (Q8_1 activations: the Q8_0 rounding plus s = f16(d * sum of the quants)): lanes of the unsigned
 *         quants (Q5_1: nibble | bit j of qh << 4), fma(d_w*d_a); per block summs = fma(m_w, s_a, summs) (GCC
 *         contracts ggml's `summs += m*s`); result red8(lanes) + summs.
 *   IQ4_NL  (ggml_vec_dot_iq4_nl_q8_0): Q4_0's lanes on the 16 levels plm_iq4nl_values, even blocks and odd blocks
 *         in two 8-lane accumulators, added lane by lane, red8; an odd last block then s = fma(d_a*d_w, (float)<its
 *         integer dot>, s).  IQ4_NL_R8 (a multiple of 8 rows: iq4_nl_8x8): as Q4_0_R8.
 *   IQ4_XS  (Q8_K): per 256-block lane L = sum over the 8 sub-blocks of (scale - 32) * (products 4L..4L+3 of the
 *         sub-block), fma(d_w*d_a); red8.
 *   Q2_K  (ggml_vec_dot_q2_K_q8_K AVX2): per 256-block, lane L first gets fma(-d_a*dmin_w, (float)(mn_2L*bs_2L +
 *         mn_2L+1*bs_2L+1), lane), then fma(d_a*d_w, (float)<sum over its 16-value groups of sc * products 4L..4L+3
 *         of each 32 values>, lane); red8.  Q2_K_R8 (a multiple of 8 rows: q2_K_8x8 on AVX-512): acc =
 *         fma((float)<sum of sc * products>, d_w*d_a, acc), accm = fma((float)<sum of mn * bsums>, dmin_w*d_a, accm)
 *         once per 256-block (gemv: decode rows) or per 128 values (rows below nb & ~3, gemm); result acc - accm.
 *   Q3_K  (ggml_vec_dot_q3_K_q8_K AVX2): Q2_K's lanes with quants (2 bits) - (hmask bit clear ? 4 : 0) and the 16
 *         six-bit scales - 32, no mins: fma(d_a*d_w); red8.
 *   Q5_K  (ggml_vec_dot_q5_K_q8_K AVX2): Q4_K's lanes with the fifth bit from qh; the mins are one integer per
 *         block, summs = fma(-d_a*dmin_w, (float)<sum of mn_j*(bs_2j+bs_2j+1)>, summs); result red8(lanes) + summs.
 *   BF16  (BF16 activations, round to nearest even; ggml_vec_dot_bf16 AVX-512F): two 16-lane accumulators over
 *         32-value steps, c[l] += w*a (exact products), then d = (double)red16(c0); d += (double)red16(c1); the tail
 *         d += (double)(w*a); result (float)d.  BF16_TB with nb >= 2: tinyBLAS<16> as F16_TB.
 *   F32, and F32_TB with nb == 1  (ggml_vec_dot_f32, AVX-512): m = n rounded down to a multiple of 64; 4
 *         accumulators of 16 lanes, acc_j[l] = fma(w[i+16j+l], a[i+16j+l], acc_j[l]) for i = 0, 64, ... < m;
 *         s = red16((acc_0+acc_2) + (acc_1+acc_3)); then s = s + w[i]*a[i] for i = m..n-1 (float product and
 *         sum, in order).
 *   F16, and F16_TB with nb == 1  (ggml_vec_dot_f16): the same on the f16 values, but the tail is summed in
 *         double: d = (double)s; d = d + (double)(w[i]*a[i]); result (float)d.
 *   F32_TB, F16_TB with nb >= 2  (llamafile tinyBLAS<16>, n a multiple of 16): one accumulator of 16 lanes,
 *         acc[l] = fma(w[i+l], a[i+l], acc[l]) for i = 0, 16, ...; result red16(acc).
 * dot_f32 / dot_f16 (attention scores): as F32 / F16 above (ggml_vec_dot_f32/_f16, which flash attention calls).
 * silu_mul (ggml_vec_swiglu_f32): g[i] = (g[i] / (1 + e)) * u[i], e = plm_expf_ggml(-g[i]) for the first
 *   n - n%16 elements (16-lane vectors), e = plm_expf_glibc(-g[i]) for the last n%16 (the scalar tail calls libm).
 * mad_f16 / scale_f16: y = f16(fma(x, a, y)) / y = f16(y * a), per element.
 * rmsnorm: sum of (float)(x*x) in double, in order; mean = (float)(sum/n); scale = 1/sqrtf(mean+eps);
 *   out = (x*scale)*w.
 * rope: theta_0 = pos, theta_i+1 = theta_i * powf(base, -2/hd) in float, angle = freq_scale*(theta_i/ff[i]) (ff: the
 *   frequency factors, 1 when absent), c = cosf, s = sinf
 *   (libm: glibc's on the recording machine); x0' = fma(x0, c, -(x1*s)), x1' = fma(x0, s, x1*c) (GCC's contraction
 *   of ggml's rotation), pairs (2i, 2i+1), or (i, i+hd/2) for neox.
 * Attention's exponentials (src/session.c) are plm_expf_glibc. axpy_f32: y += x*a, compared within a tolerance (the
 * session uses it only with an f32 KV cache).
 * Not reproduced: llama.cpp's tiled flash attention, which it runs instead of the per-row one for a batch of 64+
 * tokens when head_dim % 16 == 0 (different summation), so long prompts can differ in the last bits there.
 * ================================================================
 */
#include "simd.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef __clang__
#pragma clang fp contract(off) /* same results with or without FMA hardware: the reference must be stable */
#endif

/* ---------------------------------------------------------------- layout checks */
_Static_assert(sizeof(block_q8_0) == 34, "block_q8_0 must be 34 bytes");
_Static_assert(sizeof(block_q4_0) == 18, "block_q4_0 must be 18 bytes");
_Static_assert(sizeof(block_q4_K) == 144, "block_q4_K must be 144 bytes");
_Static_assert(sizeof(block_q6_K) == 210, "block_q6_K must be 210 bytes");
_Static_assert(sizeof(block_q8_K) == 292, "block_q8_K must be 292 bytes");
_Static_assert(offsetof(block_q4_K, qs) == 16, "q4_K layout");
_Static_assert(offsetof(block_q6_K, d) == 208, "q6_K layout");
_Static_assert(offsetof(block_q8_K, bsums) == 260, "q8_K layout");
_Static_assert(sizeof(block_q4_1) == 20 && sizeof(block_q5_0) == 22 && sizeof(block_q5_1) == 24, "q4_1/q5 layouts");
_Static_assert(sizeof(block_q8_1) == 36 && sizeof(block_iq4_nl) == 18, "q8_1/iq4_nl layouts");
_Static_assert(sizeof(block_q2_K) == 84 && sizeof(block_q3_K) == 110 && sizeof(block_q5_K) == 176, "k layouts");
_Static_assert(sizeof(block_iq4_xs) == 136 && offsetof(block_iq4_xs, qs) == 8, "iq4_xs layout");
_Static_assert(offsetof(block_q5_0, qs) == 6 && offsetof(block_q5_1, qs) == 8, "q5 layouts");

const int8_t plm_iq4nl_values[16] = { -127, -104, -83, -65, -49, -35, -22, -10, 1, 13, 25, 38, 53, 69, 89, 113 };

/* ---------------------------------------------------------------- f16 <-> f32 (IEEE binary16) */
static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

float plm_f16_to_f32(plm_f16 h) {
    const uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    const uint32_t exp = (h >> 10) & 0x1fu;
    const uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        if (mant == 0) return u2f(sign);
        /* subnormal: mant * 2^-24, exact in float */
        return u2f(sign | f2u((float)mant * 5.9604644775390625e-8f));
    }
    if (exp == 31) {
        if (mant == 0) return u2f(sign | 0x7f800000u);
        return u2f(sign | 0x7fc00000u | (mant << 13)); /* NaN: payload kept, made quiet (as F16C does) */
    }
    return u2f(sign | ((exp + 112u) << 23) | (mant << 13));
}

plm_f16 plm_f32_to_f16(float f) {
    const uint32_t u = f2u(f);
    const uint32_t sign = (u >> 16) & 0x8000u;
    const uint32_t a = u & 0x7fffffffu;
    if (a >= 0x7f800000u) { /* inf / NaN */
        if (a == 0x7f800000u) return (plm_f16)(sign | 0x7c00u);
        return (plm_f16)(sign | 0x7e00u | ((a >> 13) & 0x3ffu)); /* quiet NaN, top payload bits */
    }
    if (a >= 0x477ff000u) return (plm_f16)(sign | 0x7c00u); /* >= 65520 rounds to inf */
    if (a < 0x38800000u) {                                  /* below 2^-14: half subnormal or zero */
        const uint32_t e = a >> 23;
        const uint32_t shift = 126u - e; /* value in half-ulps (2^-24) = m >> shift */
        if (e == 0 || shift > 24u) return (plm_f16)sign;
        const uint32_t m = (a & 0x7fffffu) | 0x800000u;
        uint32_t r = m >> shift;
        const uint32_t rem = m & ((1u << shift) - 1u), half = 1u << (shift - 1u);
        if (rem > half || (rem == half && (r & 1u))) r++; /* r == 0x400 is the smallest normal: still right */
        return (plm_f16)(sign | r);
    }
    uint32_t h = (a - 0x38000000u) >> 13; /* rebias exponent 127 -> 15, keep 10 mantissa bits */
    const uint32_t rem = a & 0x1fffu;
    if (rem > 0x1000u || (rem == 0x1000u && (h & 1u))) h++; /* carry into the exponent is correct */
    return (plm_f16)(sign | h);
}

/* ggml_compute_fp32_to_bf16 / ggml_compute_bf16_to_fp32: NaN made quiet, otherwise round to nearest even */
uint16_t plm_f32_to_bf16(float f) {
    const uint32_t u = f2u(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 64u);
    return (uint16_t)((u + (0x7fffu + ((u >> 16) & 1u))) >> 16);
}
float plm_bf16_to_f32(uint16_t h) { return u2f((uint32_t)h << 16); }

/* ---------------------------------------------------------------- type table */
#define NOK(nm) { nm, 0, 0, -1 }
static const plm_type_info type_table[PLM_T_COUNT] = {
    [PLM_T_F32] = { "f32", 1, 4, PLM_T_F32 },
    [PLM_T_F16] = { "f16", 1, 2, PLM_T_F16 },
    [PLM_T_Q4_0] = { "q4_0", QK4_0, (int)sizeof(block_q4_0), PLM_T_Q8_0 },
    [PLM_T_Q4_1] = { "q4_1", 32, (int)sizeof(block_q4_1), PLM_T_Q8_1 },
    [PLM_T_Q5_0] = { "q5_0", 32, (int)sizeof(block_q5_0), PLM_T_Q8_0 },
    [PLM_T_Q5_1] = { "q5_1", 32, (int)sizeof(block_q5_1), PLM_T_Q8_1 },
    [PLM_T_Q8_0] = { "q8_0", QK8_0, (int)sizeof(block_q8_0), PLM_T_Q8_0 },
    /* activation-only (sized so callers can allocate rows; no weight matmul) */
    [PLM_T_Q8_1] = { "q8_1", 32, (int)sizeof(block_q8_1), -1 },
    [PLM_T_Q2_K] = { "q2_K", QK_K, (int)sizeof(block_q2_K), PLM_T_Q8_K },
    [PLM_T_Q3_K] = { "q3_K", QK_K, (int)sizeof(block_q3_K), PLM_T_Q8_K },
    [PLM_T_Q4_K] = { "q4_K", QK_K, (int)sizeof(block_q4_K), PLM_T_Q8_K },
    [PLM_T_Q5_K] = { "q5_K", QK_K, (int)sizeof(block_q5_K), PLM_T_Q8_K },
    [PLM_T_Q6_K] = { "q6_K", QK_K, (int)sizeof(block_q6_K), PLM_T_Q8_K },
    /* activation-only: sized so callers can allocate Q8_K rows, but there is no Q8_K weight matmul */
    [PLM_T_Q8_K] = { "q8_K", QK_K, (int)sizeof(block_q8_K), -1 },
    [16] = NOK("iq2_xxs"), [17] = NOK("iq2_xs"), [18] = NOK("iq3_xxs"), [19] = NOK("iq1_s"),
    [PLM_T_IQ4_NL] = { "iq4_nl", 32, (int)sizeof(block_iq4_nl), PLM_T_Q8_0 },
    [21] = NOK("iq3_s"), [22] = NOK("iq2_s"),
    [PLM_T_IQ4_XS] = { "iq4_xs", QK_K, (int)sizeof(block_iq4_xs), PLM_T_Q8_K },
    [24] = NOK("i8"), [25] = NOK("i16"), [26] = NOK("i32"), [27] = NOK("i64"), [28] = NOK("f64"),
    [29] = NOK("iq1_m"), [PLM_T_BF16] = { "bf16", 1, 2, PLM_T_BF16 },
    [34] = NOK("tq1_0"), [35] = NOK("tq2_0"), [39] = NOK("mxfp4"),
};
static const plm_type_info type_unknown = NOK("unknown");
#undef NOK

/* kernel variants (simd.h): the base type's layout, their own names */
static const plm_type_info variant_q4_0_r8 = { "q4_0_r8", QK4_0, (int)sizeof(block_q4_0), PLM_T_Q8_0 };
static const plm_type_info variant_q4_K_r8 = { "q4_K_r8", QK_K, (int)sizeof(block_q4_K), PLM_T_Q8_K };
static const plm_type_info variant_f32_tb = { "f32_tb", 1, 4, PLM_T_F32 };
static const plm_type_info variant_f16_tb = { "f16_tb", 1, 2, PLM_T_F16 };
static const plm_type_info variant_bf16_tb = { "bf16_tb", 1, 2, PLM_T_BF16 };
static const plm_type_info variant_iq4_nl_r8 = { "iq4_nl_r8", 32, (int)sizeof(block_iq4_nl), PLM_T_Q8_0 };
static const plm_type_info variant_q2_K_r8 = { "q2_K_r8", QK_K, (int)sizeof(block_q2_K), PLM_T_Q8_K };
static const plm_type_info variant_q4_0_x8 = { "q4_0_x8", QK4_0, (int)sizeof(block_q4_0), PLM_T_Q8_0 };
static const plm_type_info variant_q4_K_x8 = { "q4_K_x8", QK_K, (int)sizeof(block_q4_K), PLM_T_Q8_K };
static const plm_type_info variant_q8_0_x8 = { "q8_0_x8", QK8_0, (int)sizeof(block_q8_0), PLM_T_Q8_0 };

const plm_type_info *plm_type(int type) {
    switch (type) {
    case PLM_T_Q4_0_R8: return &variant_q4_0_r8;
    case PLM_T_Q4_K_R8: return &variant_q4_K_r8;
    case PLM_T_F32_TB: return &variant_f32_tb;
    case PLM_T_F16_TB: return &variant_f16_tb;
    case PLM_T_BF16_TB: return &variant_bf16_tb;
    case PLM_T_IQ4_NL_R8: return &variant_iq4_nl_r8;
    case PLM_T_Q2_K_R8: return &variant_q2_K_r8;
    case PLM_T_Q4_0_X8: return &variant_q4_0_x8;
    case PLM_T_Q4_K_X8: return &variant_q4_K_x8;
    case PLM_T_Q8_0_X8: return &variant_q8_0_x8;
    default: break;
    }
    if (type < 0 || type >= PLM_T_COUNT || !type_table[type].name) return &type_unknown;
    return &type_table[type];
}

/* The X8 layouts (simd.h): rows in groups of 8, each group rewritten block by block from a copy; put() places row
 * r's block src into the group's block dst. */
static int repack_x8(void *w, int nr, int nblk, size_t bs, void (*put)(uint8_t *dst, int r, const uint8_t *src)) {
    const size_t row = (size_t)nblk * bs, grp = 8 * row;
    uint8_t *tmp = malloc(grp);
    if (!tmp) return 0;
    for (int g = 0; g < nr / 8; g++) {
        uint8_t *base = (uint8_t *)w + (size_t)g * grp;
        memcpy(tmp, base, grp);
        for (int i = 0; i < nblk; i++)
            for (int r = 0; r < 8; r++) put(base + (size_t)i * 8 * bs, r, tmp + (size_t)r * row + (size_t)i * bs);
    }
    free(tmp);
    return 1;
}

static void put_q4_0_x8(uint8_t *dst, int r, const uint8_t *src) {
    memcpy(dst + 2 * r, src, 2);
    for (int v = 0; v < 4; v++) memcpy(dst + 16 + 32 * v + 4 * r, src + 2 + 4 * v, 4);
}

static void put_q4_K_x8(uint8_t *dst, int r, const uint8_t *src) {
    memcpy(dst + 2 * r, src + offsetof(block_q4_K, d), 2);
    memcpy(dst + 16 + 2 * r, src + offsetof(block_q4_K, dmin), 2);
    for (int k = 0; k < 3; k++) memcpy(dst + 32 + 32 * k + 4 * r, src + offsetof(block_q4_K, scales) + 4 * k, 4);
    for (int c = 0; c < 4; c++)
        for (int v = 0; v < 8; v++)
            memcpy(dst + 128 + 256 * c + 32 * v + 4 * r, src + offsetof(block_q4_K, qs) + 32 * c + 4 * v, 4);
}

/* Q8_0_X8 (simd.h): each 4-row half of a group of 8 rewritten from a copy, scales then quants */
int plm_repack_q8_0_x8(void *w, int n, int nr) {
    if (nr % 8 || n % QK8_0) return 0;
    const size_t nblk = (size_t)(n / QK8_0), row = nblk * sizeof(block_q8_0), half = 4 * row;
    uint8_t *tmp = malloc(half);
    if (!tmp) return 0;
    for (int h = 0; h < nr / 4; h++) {
        uint8_t *base = (uint8_t *)w + (size_t)h * half;
        memcpy(tmp, base, half);
        for (size_t r = 0; r < 4; r++)
            for (size_t i = 0; i < nblk; i++) {
                const uint8_t *src = tmp + r * row + i * sizeof(block_q8_0);
                memcpy(base + 8 * i + 2 * r, src, 2);
                for (size_t v = 0; v < 8; v++) memcpy(base + 8 * nblk + 128 * i + 16 * v + 4 * r, src + 2 + 4 * v, 4);
            }
    }
    free(tmp);
    return 1;
}

int plm_repack_q4_0_x8(void *w, int n, int nr) {
    return nr % 8 || n % QK4_0 ? 0 : repack_x8(w, nr, n / QK4_0, sizeof(block_q4_0), put_q4_0_x8);
}

int plm_repack_q4_K_x8(void *w, int n, int nr) {
    return nr % 8 || n % QK_K ? 0 : repack_x8(w, nr, n / QK_K, sizeof(block_q4_K), put_q4_K_x8);
}

size_t plm_row_size(int type, int64_t n) {
    const plm_type_info *ti = plm_type(type);
    if (ti->blck <= 0 || n < 0 || n % ti->blck) return 0;
    return (size_t)(n / ti->blck) * (size_t)ti->bytes;
}

/* ---------------------------------------------------------------- small helpers */
static inline float ldf(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
static inline plm_f16 ldh(const uint8_t *p) { plm_f16 h; memcpy(&h, p, 2); return h; }
static inline float ldhf(const uint8_t *p) { return plm_f16_to_f32(ldh(p)); }
static inline void sth(uint8_t *p, plm_f16 h) { memcpy(p, &h, 2); }

/* ggml's nearest_int: round to nearest (ties to even) via the 1.5*2^23 trick. Valid for |f| <= 2^22. */
static inline int nearest_int(float fval) {
    const float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

/* ---------------------------------------------------------------- activation quantizers */
/* ggml's x86 quantize_row_q8_0 (not the portable _ref): d = amax/127 stored as f16, q = round-half-even(x * 127/amax).
 * llama.cpp on x86 rounds this way; the _ref version (roundf, 1/d) flips greedy tokens on small models. */
static void quant_q8_0(const float *x, uint8_t *y, int n) {
    for (int i = 0; i < n / QK8_0; i++, x += QK8_0, y += sizeof(block_q8_0)) {
        float amax = 0.0f;
        for (int j = 0; j < QK8_0; j++) {
            const float v = fabsf(x[j]);
            amax = amax > v ? amax : v;
        }
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        sth(y, plm_f32_to_f16(d));
        for (int j = 0; j < QK8_0; j++) {
            const float q = nearbyintf(x[j] * id); /* within [-127, 127] unless the row holds NaN or inf */
            y[2 + j] = (uint8_t)(int8_t)(q >= -128.0f && q <= 127.0f ? q : 0.0f);
        }
    }
}

/* quantize_row_q8_K_ref: iscale = -127/max (max = signed value of largest magnitude), q = min(127, nearest_int),
 * d = 1/iscale as float, bsums = sums of 16 quants. (ggml leaves bsums unset for an all-zero block; we zero them.) */
static void quant_q8_K(const float *x, uint8_t *y, int n) {
    for (int i = 0; i < n / QK_K; i++, x += QK_K, y += sizeof(block_q8_K)) {
        float max = 0.0f, amax = 0.0f;
        for (int j = 0; j < QK_K; j++) {
            const float ax = fabsf(x[j]);
            if (ax > amax) { amax = ax; max = x[j]; }
        }
        int8_t *qs = (int8_t *)(y + offsetof(block_q8_K, qs));
        if (amax == 0.0f) {
            memset(y, 0, sizeof(block_q8_K));
            continue;
        }
        const float iscale = -127.0f / max;
        for (int j = 0; j < QK_K; j++) {
            const int v = nearest_int(iscale * x[j]);
            qs[j] = (int8_t)(v < 127 ? v : 127);
        }
        for (int j = 0; j < QK_K / 16; j++) {
            int sum = 0;
            for (int l = 0; l < 16; l++) sum += qs[j * 16 + l];
            const int16_t s16 = (int16_t)sum;
            memcpy(y + offsetof(block_q8_K, bsums) + 2 * j, &s16, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(y, &d, 4);
    }
}

/* ggml's x86 quantize_row_q8_1: the Q8_0 rounding, plus s = f16(d * sum of the quants) with d before its f16
 * rounding. */
static void quant_q8_1(const float *x, uint8_t *y, int n) {
    for (int i = 0; i < n / 32; i++, x += 32, y += sizeof(block_q8_1)) {
        float amax = 0.0f;
        for (int j = 0; j < 32; j++) {
            const float v = fabsf(x[j]);
            amax = amax > v ? amax : v;
        }
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        sth(y, plm_f32_to_f16(d));
        int sum = 0;
        for (int j = 0; j < 32; j++) {
            const float q = nearbyintf(x[j] * id);
            const int v = q >= -128.0f && q <= 127.0f ? (int)q : 0;
            y[4 + j] = (uint8_t)(int8_t)v;
            sum += v;
        }
        sth(y + 2, plm_f32_to_f16(d * (float)sum));
    }
}

static void s_quantize_row(int act_type, const float *x, void *out, int n) {
    uint8_t *y = (uint8_t *)out;
    switch (act_type) {
    case PLM_T_F32: memmove(out, x, (size_t)n * sizeof(float)); break;
    case PLM_T_F16:
        for (int i = 0; i < n; i++) sth(y + 2 * i, plm_f32_to_f16(x[i]));
        break;
    case PLM_T_Q8_0: quant_q8_0(x, y, n); break;
    case PLM_T_Q8_1: quant_q8_1(x, y, n); break;
    case PLM_T_Q8_K: quant_q8_K(x, y, n); break;
    case PLM_T_BF16:
        for (int i = 0; i < n; i++) {
            const uint16_t h = plm_f32_to_bf16(x[i]);
            memcpy(y + 2 * i, &h, 2);
        }
        break;
    default: break;
    }
}

/* ---------------------------------------------------------------- dot products (one weight row, one act row) */
/* red16 of 16 float lanes: GCC's _mm512_reduce_add_ps (halves added, then quarters, then pairs) */
static float red16(const float v[16]) {
    float t[8];
    for (int i = 0; i < 8; i++) t[i] = v[i] + v[i + 8];
    const float u0 = t[0] + t[4], u1 = t[1] + t[5], u2 = t[2] + t[6], u3 = t[3] + t[7];
    return (u0 + u2) + (u1 + u3);
}

/* ggml_vec_dot_f32 / _f16 (AVX-512 form) over the first m = n & ~63 elements: 4 x 16 fma lanes, then
 * red16((acc0+acc2) + (acc1+acc3)). ld reads element i of a row. */
static inline float ld32(const uint8_t *p, int i) { return ldf(p + 4 * (size_t)i); }
static inline float ld16(const uint8_t *p, int i) { return ldhf(p + 2 * (size_t)i); }
static inline float ld(int f16, const uint8_t *p, int i) { return f16 ? ld16(p, i) : ld32(p, i); }

static inline float vec_dot_body(const int f16, int m, const uint8_t *w, const uint8_t *a) {
    float acc[4][16] = { { 0 } };
    for (int i = 0; i < m; i += 64)
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++) acc[j][l] = plm_fmaf(ld(f16, w, i + 16 * j + l), ld(f16, a, i + 16 * j + l), acc[j][l]);
    float v[16];
    for (int l = 0; l < 16; l++) v[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
    return red16(v);
}

static float vdot_f32(int n, const uint8_t *w, const uint8_t *a) {
    const int m = n & ~63;
    float s = vec_dot_body(0, m, w, a);
    /* The tail loop as GCC compiled it into llama.cpp: its 16- and 8-wide vector pieces multiply, then add each
     * product in order; the last (n - m) % 8 elements are single fused multiply-adds. */
    const int c = n - m, v = m + (c & ~15) + (c % 16 >= 8 ? 8 : 0);
    for (int i = m; i < v; i++) s += ld32(w, i) * ld32(a, i);
    for (int i = v; i < n; i++) s = plm_fmaf(ld32(w, i), ld32(a, i), s);
    return s;
}

static float vdot_f16(int n, const uint8_t *w, const uint8_t *a) {
    const int m = n & ~63;
    double s = vec_dot_body(1, m, w, a);
    for (int i = m; i < n; i++) s += (double)(ld16(w, i) * ld16(a, i));
    return (float)s;
}

/* llamafile tinyBLAS<16> (F32_TB / F16_TB with nb >= 2): one 16-lane fma accumulator, red16. n % 16 == 0. */
static inline float tb_dot(const int f16, int n, const uint8_t *w, const uint8_t *a) {
    float acc[16] = { 0 };
    for (int i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] = plm_fmaf(ld(f16, w, i + l), ld(f16, a, i + l), acc[l]);
    return red16(acc);
}
static float tb_f32(int n, const uint8_t *w, const uint8_t *a) { return tb_dot(0, n, w, a); }
static float tb_f16(int n, const uint8_t *w, const uint8_t *a) { return tb_dot(1, n, w, a); }

/* Q4_0 and Q8_0 dot products keep ggml's x86 arithmetic (ggml_vec_dot_q8_0_q8_0 / _q4_0_q8_0 for AVX2, and
 * llamafile's tinyBLAS, which llama.cpp runs on x86): eight float lanes, lane k holding the integer sum of
 * products 4k..4k+3 of each block, accumulated with a fused multiply-add by the block's scale product, then
 * reduced pairwise (hsum_float_8). Every backend reproduces this order, so all builds agree with each other and
 * with llama.cpp on x86 — greedy decoding of small models flips on differences this small. */
static float hsum8(const float acc[8]) {
    const float r0 = acc[0] + acc[4], r1 = acc[1] + acc[5], r2 = acc[2] + acc[6], r3 = acc[3] + acc[7];
    return (r0 + r2) + (r1 + r3);
}

static float vdot_q4_0(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = {0};
    for (int ib = 0; ib < n / QK4_0; ib++, w += sizeof(block_q4_0), a += sizeof(block_q8_0)) {
        const uint8_t *qs = w + 2;
        const int8_t *q8 = (const int8_t *)(a + 2);
        const float d = ldhf(w) * ldhf(a);
        for (int k = 0; k < 8; k++) {
            int sumi = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) {
                const int q = j < 16 ? (qs[j] & 0x0F) : (qs[j - 16] >> 4);
                sumi += (q - 8) * q8[j];
            }
            acc[k] = plm_fmaf(d, (float)sumi, acc[k]);
        }
    }
    return hsum8(acc);
}

static float vdot_q8_0(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = {0};
    for (int ib = 0; ib < n / QK8_0; ib++, w += sizeof(block_q8_0), a += sizeof(block_q8_0)) {
        const int8_t *x = (const int8_t *)(w + 2), *y = (const int8_t *)(a + 2);
        const float d = ldhf(w) * ldhf(a);
        for (int k = 0; k < 8; k++) {
            int sumi = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) sumi += x[j] * y[j];
            acc[k] = plm_fmaf(d, (float)sumi, acc[k]);
        }
    }
    return hsum8(acc);
}

/* Q4_0 in llama.cpp's repacked order (PLM_T_Q4_0_R8): the whole block's integer dot, then one fma per block. */
static float vdot_q4_0_r8(int n, const uint8_t *w, const uint8_t *a) {
    float acc = 0.0f;
    for (int ib = 0; ib < n / QK4_0; ib++, w += sizeof(block_q4_0), a += sizeof(block_q8_0)) {
        const uint8_t *qs = w + 2;
        const int8_t *q8 = (const int8_t *)(a + 2);
        int sumi = 0;
        for (int j = 0; j < 16; j++) sumi += ((qs[j] & 0x0F) - 8) * q8[j] + ((qs[j] >> 4) - 8) * q8[j + 16];
        acc = plm_fmaf((float)sumi, ldhf(w) * ldhf(a), acc);
    }
    return acc;
}

/* Q4_K and Q6_K follow ggml's AVX2 kernels (ggml_vec_dot_q4_K_q8_K / _q6_K_q8_K; llama.cpp has no tinyBLAS path
 * for K-quants, so this is what it computes on x86 for decode and prefill alike): eight int32 lanes, lane L holding
 * the scaled sums of products 4L..4L+3 of every 32 values, fused into float lane L with the block's d; Q4_K's mins
 * go through four more lanes (pairs of bsums) with -dmin; lanes reduced pairwise at the end. */
static float vdot_q4_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 }, accm[4] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q4_K), a += sizeof(block_q8_K)) {
        const uint8_t *q4 = w + offsetof(block_q4_K, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) plm_q4k_scale_min(j, w + offsetof(block_q4_K, scales), &sc[j], &mn[j]);
        const float dy = ldf(a);
        const float d = dy * ldhf(w + offsetof(block_q4_K, d));
        const float dmin = -dy * ldhf(w + offsetof(block_q4_K, dmin));
        int16_t bs[QK_K / 16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        for (int p = 0; p < 4; p++) {
            const int prod = mn[2 * p] * (bs[4 * p] + bs[4 * p + 1]) + mn[2 * p + 1] * (bs[4 * p + 2] + bs[4 * p + 3]);
            accm[p] = plm_fmaf(dmin, (float)prod, accm[p]);
        }
        int sumi[8] = { 0 };
        for (int j = 0; j < QK_K / 64; j++)
            for (int L = 0; L < 8; L++) {
                int sl = 0, sh = 0;
                for (int e = 4 * L; e < 4 * L + 4; e++) {
                    sl += (q4[32 * j + e] & 0xF) * q8[64 * j + e];
                    sh += (q4[32 * j + e] >> 4) * q8[64 * j + 32 + e];
                }
                sumi[L] += sc[2 * j] * sl + sc[2 * j + 1] * sh;
            }
        for (int L = 0; L < 8; L++) acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

/* Q4_K in llama.cpp's repacked order (PLM_T_Q4_K_R8). The integer sums are per 64-value pair of sub-blocks
 * (sc_2p*dot_2p + sc_2p+1*dot_2p+1, and mn_2p*S_2p + mn_2p+1*S_2p+1 with S_j = bsums 2j + 2j+1); the gemv kernel
 * (per_pair = 0: decode rows) adds the four pairs as integers and fuses once per 256-block, the gemm kernel
 * (per_pair = 1: prompt rows in groups of 4) fuses every pair. Scales and mins go to separate accumulators,
 * subtracted at the end. */
static float q4_K_r8(int n, const uint8_t *w, const uint8_t *a, int per_pair) {
    float acc = 0.0f, accm = 0.0f;
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q4_K), a += sizeof(block_q8_K)) {
        const uint8_t *q4 = w + offsetof(block_q4_K, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int16_t bs[QK_K / 16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        const float dy = ldf(a);
        const float d = ldhf(w + offsetof(block_q4_K, d)) * dy, dm = ldhf(w + offsetof(block_q4_K, dmin)) * dy;
        int sumi = 0, summ = 0;
        for (int p = 0; p < QK_K / 64; p++) {
            int si = 0, sm = 0;
            for (int j = 2 * p; j < 2 * p + 2; j++) {
                int sc, mn, dot = 0;
                plm_q4k_scale_min(j, w + offsetof(block_q4_K, scales), &sc, &mn);
                for (int e = 0; e < 32; e++) dot += (j % 2 ? q4[32 * p + e] >> 4 : q4[32 * p + e] & 0xF) * q8[32 * j + e];
                si += sc * dot;
                sm += mn * (bs[2 * j] + bs[2 * j + 1]);
            }
            if (per_pair) {
                acc = plm_fmaf((float)si, d, acc);
                accm = plm_fmaf((float)sm, dm, accm);
            } else {
                sumi += si;
                summ += sm;
            }
        }
        if (!per_pair) {
            acc = plm_fmaf((float)sumi, d, acc);
            accm = plm_fmaf((float)summ, dm, accm);
        }
    }
    return acc - accm;
}
static float vdot_q4_K_r8v(int n, const uint8_t *w, const uint8_t *a) { return q4_K_r8(n, w, a, 0); }
static float vdot_q4_K_r8m(int n, const uint8_t *w, const uint8_t *a) { return q4_K_r8(n, w, a, 1); }

/* Q6_K (ggml_vec_dot_q6_K_q8_K AVX2, bsums form): lane L gets, over the 256-block, sc * (sum of products 4L..4L+3
 * of each 32 values, with the unsigned 6-bit quants 0..63), then minus 32*(sc_2L*bsum_2L + sc_2L+1*bsum_2L+1). */
static float vdot_q6_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q6_K), a += sizeof(block_q8_K)) {
        const uint8_t *ql = w + offsetof(block_q6_K, ql);
        const uint8_t *qh = w + offsetof(block_q6_K, qh);
        const int8_t *sc = (const int8_t *)(w + offsetof(block_q6_K, scales));
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int16_t bs[QK_K / 16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        const float d = ldf(a) * ldhf(w + offsetof(block_q6_K, d));
        int sumi[8] = { 0 };
        for (int j = 0; j < QK_K / 128; j++)
            for (int k = 0; k < 4; k++) {
                const uint8_t *l4 = ql + 64 * j + (k & 1) * 32, *h = qh + 32 * j;
                for (int L = 0; L < 8; L++) {
                    int s = 0;
                    for (int e = 4 * L; e < 4 * L + 4; e++) {
                        const int q = (k < 2 ? l4[e] & 0xF : l4[e] >> 4) | (((h[e] >> (2 * k)) & 3) << 4);
                        s += q * q8[128 * j + 32 * k + e];
                    }
                    sumi[L] += sc[8 * j + 2 * k + (L >= 4)] * s;
                }
            }
        for (int L = 0; L < 8; L++) {
            sumi[L] -= 32 * (sc[2 * L] * bs[2 * L] + sc[2 * L + 1] * bs[2 * L + 1]);
            acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
        }
    }
    return hsum8(acc);
}

/* ---- The other weight types (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL, IQ4_XS, BF16), each as ggml's x86 kernel
 * sums it (ggml_vec_dot_*, AVX2 form, as built for llama.cpp's AVX-512 CPU variants): the same eight integer lanes
 * of four products as Q4_0 / Q4_K above, one fma per lane per block, hsum8. Scalar statements in those kernels
 * (Q4_1/Q5_1's min term, Q5_K's mins, IQ4_NL's odd last block) are compiled with contraction, so they are fmas. */

/* element j of a 32-value block of nibbles: low nibbles are elements 0..15, high nibbles 16..31 */
static inline int nib(const uint8_t *qs, int j) { return j < 16 ? qs[j] & 0xF : qs[j - 16] >> 4; }
static inline uint32_t ld32u(const uint8_t *p) { uint32_t u; memcpy(&u, p, 4); return u; }

/* Q4_1 / Q5_1 with Q8_1 activations: lanes of unsigned quants times q8, fma(d_w*d_a); the mins add m_w * s_a. */
static float q_1(int n, const uint8_t *w, const uint8_t *a, int five) {
    float acc[8] = { 0 }, summs = 0.0f;
    const size_t bs = five ? sizeof(block_q5_1) : sizeof(block_q4_1);
    for (int ib = 0; ib < n / 32; ib++, w += bs, a += sizeof(block_q8_1)) {
        const uint8_t *qs = w + (five ? offsetof(block_q5_1, qs) : offsetof(block_q4_1, qs));
        const uint32_t qh = five ? ld32u(w + offsetof(block_q5_1, qh)) : 0;
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_1, qs));
        summs = plm_fmaf(ldhf(w + 2), ldhf(a + 2), summs);
        const float d = ldhf(w) * ldhf(a);
        for (int k = 0; k < 8; k++) {
            int s = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) s += (nib(qs, j) | (int)((qh >> j) & 1) << 4) * q8[j];
            acc[k] = plm_fmaf(d, (float)s, acc[k]);
        }
    }
    return hsum8(acc) + summs;
}
static float vdot_q4_1(int n, const uint8_t *w, const uint8_t *a) { return q_1(n, w, a, 0); }
static float vdot_q5_1(int n, const uint8_t *w, const uint8_t *a) { return q_1(n, w, a, 1); }

/* Q5_0: Q4_0's arithmetic on (nibble | high bit << 4) - 16 */
static float vdot_q5_0(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int ib = 0; ib < n / 32; ib++, w += sizeof(block_q5_0), a += sizeof(block_q8_0)) {
        const uint8_t *qs = w + offsetof(block_q5_0, qs);
        const uint32_t qh = ld32u(w + offsetof(block_q5_0, qh));
        const int8_t *q8 = (const int8_t *)(a + 2);
        const float d = ldhf(w) * ldhf(a);
        for (int k = 0; k < 8; k++) {
            int s = 0;
            for (int j = 4 * k; j < 4 * k + 4; j++) s += ((nib(qs, j) | (int)((qh >> j) & 1) << 4) - 16) * q8[j];
            acc[k] = plm_fmaf(d, (float)s, acc[k]);
        }
    }
    return hsum8(acc);
}

/* IQ4_NL: lanes as Q4_0 on the non-uniform levels, but even blocks and odd blocks in two accumulators that are
 * added lane by lane before hsum8; an odd last block is added after, as one fma of its whole integer dot. */
static float vdot_iq4_nl(int n, const uint8_t *w, const uint8_t *a) {
    float acc[2][8] = { { 0 } };
    const int nb = n / 32;
    int ib = 0;
    for (; ib + 1 < nb; ib += 2)
        for (int h = 0; h < 2; h++) {
            const uint8_t *x = w + (size_t)(ib + h) * sizeof(block_iq4_nl), *y = a + (size_t)(ib + h) * sizeof(block_q8_0);
            const int8_t *q8 = (const int8_t *)(y + 2);
            const float d = ldhf(y) * ldhf(x);
            for (int k = 0; k < 8; k++) {
                int s = 0;
                for (int j = 4 * k; j < 4 * k + 4; j++) s += plm_iq4nl_values[nib(x + 2, j)] * q8[j];
                acc[h][k] = plm_fmaf(d, (float)s, acc[h][k]);
            }
        }
    float v[8];
    for (int k = 0; k < 8; k++) v[k] = acc[0][k] + acc[1][k];
    float sumf = hsum8(v);
    for (; ib < nb; ib++) {
        const uint8_t *x = w + (size_t)ib * sizeof(block_iq4_nl), *y = a + (size_t)ib * sizeof(block_q8_0);
        const int8_t *q8 = (const int8_t *)(y + 2);
        int s = 0;
        for (int j = 0; j < 32; j++) s += plm_iq4nl_values[nib(x + 2, j)] * q8[j];
        sumf = plm_fmaf(ldhf(y) * ldhf(x), (float)s, sumf);
    }
    return sumf;
}

/* Q2_K: per 256-block, lane L first takes the mins (fma(-d_a*dmin_w, mn_2L*bs_2L + mn_2L+1*bs_2L+1)), then the
 * scaled quants (fma(d_a*d_w, sum over the 16-value groups of sc * products 4L..4L+3 of each 32 values)). */
static float vdot_q2_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q2_K), a += sizeof(block_q8_K)) {
        const uint8_t *q2 = w + offsetof(block_q2_K, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sc[16], mn[16];
        plm_q2k_scales(w + offsetof(block_q2_K, scales), sc, mn);
        int16_t bs[16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        const float dy = ldf(a);
        const float d = dy * ldhf(w + offsetof(block_q2_K, d)), dmin = -dy * ldhf(w + offsetof(block_q2_K, dmin));
        for (int L = 0; L < 8; L++)
            acc[L] = plm_fmaf(dmin, (float)(mn[2 * L] * bs[2 * L] + mn[2 * L + 1] * bs[2 * L + 1]), acc[L]);
        int sumi[8] = { 0 };
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 4; k++)
                for (int L = 0; L < 8; L++) {
                    int s = 0;
                    for (int e = 4 * L; e < 4 * L + 4; e++) s += ((q2[32 * j + e] >> (2 * k)) & 3) * q8[128 * j + 32 * k + e];
                    sumi[L] += sc[8 * j + 2 * k + (L >= 4)] * s;
                }
        for (int L = 0; L < 8; L++) acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc);
}

/* Q3_K: quants (2 low bits, minus 4 where the hmask bit is clear) in Q2_K's lanes, one fma(d_a*d_w) per block */
static float vdot_q3_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q3_K), a += sizeof(block_q8_K)) {
        const uint8_t *hm = w + offsetof(block_q3_K, hmask), *q3 = w + offsetof(block_q3_K, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sc[16];
        plm_q3k_scales(w + offsetof(block_q3_K, scales), sc);
        const float d = ldf(a) * ldhf(w + offsetof(block_q3_K, d));
        int sumi[8] = { 0 };
        for (int j = 0; j < 2; j++)
            for (int k = 0; k < 4; k++)
                for (int L = 0; L < 8; L++) {
                    int s = 0;
                    for (int e = 4 * L; e < 4 * L + 4; e++) {
                        const int q = ((q3[32 * j + e] >> (2 * k)) & 3) - ((hm[e] >> (4 * j + k)) & 1 ? 0 : 4);
                        s += q * q8[128 * j + 32 * k + e];
                    }
                    sumi[L] += sc[8 * j + 2 * k + (L >= 4)] * s;
                }
        for (int L = 0; L < 8; L++) acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc);
}

/* Q5_K: Q4_K's lanes with the fifth bit; the mins are one integer per block, fused into a single float sum. */
static float vdot_q5_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 }, summs = 0.0f;
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q5_K), a += sizeof(block_q8_K)) {
        const uint8_t *q5 = w + offsetof(block_q5_K, qs), *qh = w + offsetof(block_q5_K, qh);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sc[8], mn[8];
        for (int j = 0; j < 8; j++) plm_q4k_scale_min(j, w + offsetof(block_q5_K, scales), &sc[j], &mn[j]);
        int16_t bs[16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        const float dy = ldf(a);
        const float d = dy * ldhf(w + offsetof(block_q5_K, d)), dmin = -dy * ldhf(w + offsetof(block_q5_K, dmin));
        int m = 0;
        for (int j = 0; j < 8; j++) m += mn[j] * (bs[2 * j] + bs[2 * j + 1]);
        summs = plm_fmaf(dmin, (float)m, summs);
        int sumi[8] = { 0 };
        for (int j = 0; j < 4; j++)
            for (int L = 0; L < 8; L++) {
                int sl = 0, sh = 0;
                for (int e = 4 * L; e < 4 * L + 4; e++) {
                    sl += ((q5[32 * j + e] & 0xF) | ((qh[e] >> (2 * j)) & 1) << 4) * q8[64 * j + e];
                    sh += ((q5[32 * j + e] >> 4) | ((qh[e] >> (2 * j + 1)) & 1) << 4) * q8[64 * j + 32 + e];
                }
                sumi[L] += sc[2 * j] * sl + sc[2 * j + 1] * sh;
            }
        for (int L = 0; L < 8; L++) acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc) + summs;
}

/* IQ4_XS: per 256-block, lane L = sum over the 8 sub-blocks of (6-bit scale - 32) * products 4L..4L+3 */
static float vdot_iq4_xs(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_iq4_xs), a += sizeof(block_q8_K)) {
        const uint8_t *qs = w + offsetof(block_iq4_xs, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sumi[8] = { 0 };
        for (int ib = 0; ib < 8; ib++) {
            const int ls = plm_iq4xs_scale(w, ib);
            for (int L = 0; L < 8; L++) {
                int s = 0;
                for (int j = 4 * L; j < 4 * L + 4; j++) s += plm_iq4nl_values[nib(qs + 16 * ib, j)] * q8[32 * ib + j];
                sumi[L] += ls * s;
            }
        }
        const float d = ldhf(w) * ldf(a);
        for (int L = 0; L < 8; L++) acc[L] = plm_fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc);
}

/* BF16 (ggml_vec_dot_bf16, AVX-512F without BF16 instructions): two 16-lane accumulators over 32-value steps
 * (products of bf16 values are exact in float), each reduced with red16 and added in double, then the tail in
 * double. BF16_TB with nb >= 2: tinyBLAS<16>, as F16_TB. */
static inline float ldb(const uint8_t *p, int i) { uint16_t h; memcpy(&h, p + 2 * (size_t)i, 2); return plm_bf16_to_f32(h); }
static float vdot_bf16(int n, const uint8_t *w, const uint8_t *a) {
    float c[2][16] = { { 0 } };
    int i = 0;
    for (; i + 32 <= n; i += 32)
        for (int h = 0; h < 2; h++)
            for (int l = 0; l < 16; l++) c[h][l] += ldb(w, i + 16 * h + l) * ldb(a, i + 16 * h + l);
    double s = 0.0;
    s += (double)red16(c[0]);
    s += (double)red16(c[1]);
    for (; i < n; i++) s += (double)(ldb(w, i) * ldb(a, i));
    return (float)s;
}
/* IQ4_NL_R8 (ggml_gemv/gemm_iq4_nl_8x8_q8_0): the whole block's integer dot, one fma per block */
static float vdot_iq4_nl_r8(int n, const uint8_t *w, const uint8_t *a) {
    float acc = 0.0f;
    for (int ib = 0; ib < n / 32; ib++, w += sizeof(block_iq4_nl), a += sizeof(block_q8_0)) {
        const int8_t *q8 = (const int8_t *)(a + 2);
        int s = 0;
        for (int j = 0; j < 32; j++) s += plm_iq4nl_values[nib(w + 2, j)] * q8[j];
        acc = plm_fmaf((float)s, ldhf(w) * ldhf(a), acc);
    }
    return acc;
}

/* Q2_K_R8 (ggml_gemv/gemm_q2_K_8x8_q8_K): scaled integer sums and min sums fused every `group` values (256: gemv,
 * 128: gemm) into two accumulators, subtracted at the end. */
static float q2_K_r8(int n, const uint8_t *w, const uint8_t *a, int group) {
    float acc = 0.0f, accm = 0.0f;
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q2_K), a += sizeof(block_q8_K)) {
        const uint8_t *q2 = w + offsetof(block_q2_K, qs);
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        int sc[16], mn[16];
        plm_q2k_scales(w + offsetof(block_q2_K, scales), sc, mn);
        int16_t bs[16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        const float dy = ldf(a);
        const float d = ldhf(w + offsetof(block_q2_K, d)) * dy, dm = ldhf(w + offsetof(block_q2_K, dmin)) * dy;
        for (int g = 0; g < QK_K; g += group) {
            int s = 0, m = 0;
            for (int e = g; e < g + group; e++) s += sc[e / 16] * ((q2[32 * (e / 128) + e % 32] >> (2 * (e % 128 / 32))) & 3) * q8[e];
            for (int t = g / 16; t < (g + group) / 16; t++) m += mn[t] * bs[t];
            acc = plm_fmaf((float)s, d, acc);
            accm = plm_fmaf((float)m, dm, accm);
        }
    }
    return acc - accm;
}
static float vdot_q2_K_r8v(int n, const uint8_t *w, const uint8_t *a) { return q2_K_r8(n, w, a, 256); }
static float vdot_q2_K_r8m(int n, const uint8_t *w, const uint8_t *a) { return q2_K_r8(n, w, a, 128); }

static float tb_bf16(int n, const uint8_t *w, const uint8_t *a) {
    float acc[16] = { 0 };
    for (int i = 0; i < n; i += 16)
        for (int l = 0; l < 16; l++) acc[l] += ldb(w, i + l) * ldb(a, i + l);
    return red16(acc);
}

typedef float (*vdot_fn)(int n, const uint8_t *w, const uint8_t *a);

/* The dot product matmul uses for `type` with nb activation rows (the *_TB variants change with nb). */
static vdot_fn vdot_for(int type, int n, int nb) {
    switch (type) {
    case PLM_T_F32: return vdot_f32;
    case PLM_T_F16: return vdot_f16;
    case PLM_T_F32_TB: return nb >= 2 && n % 16 == 0 ? tb_f32 : vdot_f32;
    case PLM_T_F16_TB: return nb >= 2 && n % 16 == 0 ? tb_f16 : vdot_f16;
    case PLM_T_Q4_0: return vdot_q4_0;
    case PLM_T_Q4_0_R8: return vdot_q4_0_r8;
    case PLM_T_Q8_0: return vdot_q8_0;
    case PLM_T_Q4_K: return vdot_q4_K;
    case PLM_T_Q4_K_R8: return vdot_q4_K_r8v; /* rows below nb & ~3 use vdot_q4_K_r8m (s_matmul) */
    case PLM_T_Q6_K: return vdot_q6_K;
    case PLM_T_Q4_1: return vdot_q4_1;
    case PLM_T_Q5_0: return vdot_q5_0;
    case PLM_T_Q5_1: return vdot_q5_1;
    case PLM_T_Q2_K: return vdot_q2_K;
    case PLM_T_Q3_K: return vdot_q3_K;
    case PLM_T_Q5_K: return vdot_q5_K;
    case PLM_T_IQ4_NL: return vdot_iq4_nl;
    case PLM_T_IQ4_XS: return vdot_iq4_xs;
    case PLM_T_BF16: return vdot_bf16;
    case PLM_T_BF16_TB: return nb >= 2 && n % 16 == 0 ? tb_bf16 : vdot_bf16;
    case PLM_T_IQ4_NL_R8: return vdot_iq4_nl_r8;
    case PLM_T_Q2_K_R8: return vdot_q2_K_r8v; /* rows below nb & ~3: vdot_q2_K_r8m (s_matmul) */
    default: return NULL;
    }
}

static void s_matmul(int type, int n, const void *w, size_t w_stride, int nr, const void *a, size_t a_stride, int nb,
                     float *out, size_t ldo) {
    const vdot_fn f = vdot_for(type, n, nb);
    if (!f) return;
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    /* Q4_K_R8, Q2_K_R8: llama.cpp runs activation rows in groups of 4 through its gemm kernel, the rest through gemv */
    const int n_gemm = type == PLM_T_Q4_K_R8 || type == PLM_T_Q2_K_R8 ? nb & ~3 : 0;
    const vdot_fn fm = type == PLM_T_Q2_K_R8 ? vdot_q2_K_r8m : vdot_q4_K_r8m;
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++)
            out[(size_t)b * ldo + (size_t)r] = (b < n_gemm ? fm : f)(n, W + (size_t)r * w_stride, A + (size_t)b * a_stride);
}

/* ---------------------------------------------------------------- float kernels */
/* ggml_compute_forward_rms_norm_f32 followed by the weight multiply: sum of x*x (float products) in double,
 * mean = sum/n, scale = 1/sqrtf(mean + eps), out = (x*scale)*w. */
static void s_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / n);
    const float scale = 1.0f / sqrtf(mean + eps);
    if (w)
        for (int i = 0; i < n; i++) out[i] = (x[i] * scale) * w[i];
    else
        for (int i = 0; i < n; i++) out[i] = x[i] * scale;
}

/* plm_fmaf's rare cases (simd.h): r = p + z rounded to double, where p + z is exact only if TwoSum's error is 0.
 * Rounding r to float is then right unless r is a float midpoint that p + z is not on; such an r moves one double
 * ulp toward p + z, which leaves no float midpoint between it and p + z. A midpoint has bit 28 of the fraction
 * alone below float precision in float's normal range, and is an odd multiple of 2^-150 below it. */
float plm_fmaf_rare(double p, double z) {
    double r = p + z;
    if (!(fabs(r) <= 0x1.fffffffffffffp+1023)) return (float)r; /* inf, NaN */
    int mid;
    if (fabs(r) >= 0x1p-126) {
        uint64_t u;
        memcpy(&u, &r, sizeof u);
        mid = (u & 0x1fffffff) == 0x10000000;
    } else {
        const double t = r * 0x1p150; /* exact; |t| < 2^24 */
        mid = t == trunc(t) && fmod(t, 2.0) != 0.0;
    }
    if (mid) {
        const double bp = r - z, e = (p - bp) + (z - (r - bp));
        if (e != 0.0) r = nextafter(r, e > 0.0 ? INFINITY : -INFINITY);
    }
    return (float)r;
}

/* exp as ggml computes it inside SiLU on x86 with AVX-512 (ggml_v_expf, "adapted from arm limited optimized
 * routine", max error 1.45 ulp): a degree-5 polynomial on the reduced argument, scaled by 2^n. llama.cpp's SwiGLU
 * uses it for every full vector, so this is what its greedy decoding sees; libm's expf differs in the last bit
 * often enough to flip near-tied tokens. Every backend must reproduce it (fused multiply-adds included). */
float plm_expf_ggml(float x) {
    const float r = 0x1.8p23f;
    const float z = plm_fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = plm_fmaf(-n, 0x1.7f7d1cp-20f, plm_fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = plm_fmaf(plm_fmaf(plm_fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, plm_fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                         plm_fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (n != n) return n; /* NaN in, NaN out (and no undefined float-to-int conversion) */
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    return ldexpf(j, (int)n);
}

/* glibc's expf (sysdeps/ieee754/flt-32/e_expf.c, as built for x86-64 with FMA, which the dynamic loader picks on
 * every CPU that has it), reproduced bit for bit (checked against it on all 2^32 inputs): in double,
 * x*32/ln2 = k + r, exp(x) = 2^(k/32) * (1 + C2 r + C1 r^2 + C0 r^3), rounded once to float. The table holds
 * 2^(i/32) correctly rounded. llama.cpp's SiLU calls libm expf for the elements after the last full 16-lane vector. */
static const double exp2_32nds[32] = {
    0x1p+0, 0x1.059b0d3158574p+0, 0x1.0b5586cf9890fp+0, 0x1.11301d0125b51p+0, 0x1.172b83c7d517bp+0,
    0x1.1d4873168b9aap+0, 0x1.2387a6e756238p+0, 0x1.29e9df51fdee1p+0, 0x1.306fe0a31b715p+0, 0x1.371a7373aa9cbp+0,
    0x1.3dea64c123422p+0, 0x1.44e086061892dp+0, 0x1.4bfdad5362a27p+0, 0x1.5342b569d4f82p+0, 0x1.5ab07dd485429p+0,
    0x1.6247eb03a5585p+0, 0x1.6a09e667f3bcdp+0, 0x1.71f75e8ec5f74p+0, 0x1.7a11473eb0187p+0, 0x1.82589994cce13p+0,
    0x1.8ace5422aa0dbp+0, 0x1.93737b0cdc5e5p+0, 0x1.9c49182a3f090p+0, 0x1.a5503b23e255dp+0, 0x1.ae89f995ad3adp+0,
    0x1.b7f76f2fb5e47p+0, 0x1.c199bdd85529cp+0, 0x1.cb720dcef9069p+0, 0x1.d5818dcfba487p+0, 0x1.dfc97337b9b5fp+0,
    0x1.ea4afa2a490dap+0, 0x1.f50765b6e4540p+0,
};

/* glibc computes k = round(x * 32/ln2) and r = x * 32/ln2 - k with fmas, then the polynomial with three more.
 * Where there is no fma instruction (WebAssembly; libm's is slow integer arithmetic, which attention's softmax
 * feels) the reduction is made exact another way: 32/ln2 = HI + LO with HI of 25 bits and LO of 26, so HI*x and
 * LO*x are exact doubles for a float x; k rounds their sum (ties to even, as the fma's add of 1.5*2^52 does), and
 * r = (HI*x - k) + LO*x rounds once, the first sum being exact (Sterbenz). The polynomial's fmas then become a
 * multiply and an add: checked on all 2^32 inputs, that changes no result (unfused k and r would change two). */
#ifdef __wasm__
#define EXPF_FMA(a, b, c) ((a) * (b) + (c))
static double expf_reduce(double xd, double *r) {
    const double hi = 0x1.715476p+5, lo = 0x1.4ae0bf8p-21; /* hi + lo = 0x1.71547652b82fep+5 exactly */
    const double p1 = hi * xd, p2 = lo * xd, t = p1 + p2;
    double kd = (t + 0x1.8p52) - 0x1.8p52;
    if (fabs(t - kd) == 0.5) { /* t is a tie: round toward p1 + p2 unless that is the tie itself */
        const double bb = t - p1, e = (p1 - (t - bb)) + (p2 - bb);
        if (e != 0.0) kd = e > 0.0 ? t + 0.5 : t - 0.5;
    }
    *r = (p1 - kd) + p2;
    return kd + 0x1.8p52;
}
#else
#define EXPF_FMA(a, b, c) fma(a, b, c)
static double expf_reduce(double xd, double *r) {
    const double kd0 = fma(0x1.71547652b82fep+5, xd, 0x1.8p52); /* 32/ln2 * x + 1.5*2^52: k in the low bits */
    *r = fma(0x1.71547652b82fep+5, xd, -(kd0 - 0x1.8p52));
    return kd0;
}
#endif

float plm_expf_glibc(float x) {
    const uint32_t ux = f2u(x), abstop = (ux >> 20) & 0x7ffu;
    if (abstop >= 0x42bu) { /* |x| >= 88, inf or NaN */
        if (ux == 0xff800000u) return 0.0f;
        if (abstop >= 0x7f8u) return x + x;
        if (x > 0x1.62e42ep6f) return INFINITY;  /* overflow */
        if (x < -0x1.9fe368p6f) return 0.0f;     /* underflow */
        if (x < -0x1.9d1d9ep6f) return 0x1p-149f; /* glibc's "may underflow" answer */
    }
    const double xd = (double)x;
    double r;
    const double kd0 = expf_reduce(xd, &r); /* 1.5*2^52 + k: k in the low bits */
    uint64_t ki;
    memcpy(&ki, &kd0, 8);
    uint64_t t;
    memcpy(&t, &exp2_32nds[ki & 31], 8);
    t += (ki >> 5) << 52; /* times 2^floor(k/32), in the exponent field (wraps like glibc's) */
    double sc;
    memcpy(&sc, &t, 8);
    const double z = EXPF_FMA(0x1.c6af84b912394p-20, r, 0x1.ebfce50fac4f3p-13);
    const double r2 = r * r;
    double y = EXPF_FMA(0x1.62e42ff0c52d6p-6, r, 1.0);
    y = EXPF_FMA(z, r2, y);
    return (float)(y * sc);
}

/* swiglu (ggml_vec_swiglu_f32): silu(g) * u with silu(x) = x / (1 + exp(-x)); ggml's vector expf for every full
 * 16-element vector, libm's expf for the rest */
static void s_silu_mul(float *g, const float *u, int n) {
    const int m = n & ~15;
    for (int i = 0; i < m; i++) g[i] = (g[i] / (1.0f + plm_expf_ggml(-g[i]))) * u[i];
    for (int i = m; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_glibc(-g[i]))) * u[i];
}

/* geglu (ggml_vec_geglu_f32 with GGML_GELU_FP16, llama.cpp's CPU build): gelu(g) * u, where gelu(g) for
 * -10 < g < 10 is ggml_table_gelu_f16[f16(g)], a table ggml fills at start-up with f16(ggml_gelu_f32(h)) for every
 * half h. That entry is computed here on demand instead: 0.5h(1 + tanhf(sqrt(2/pi) h (1 + 0.044715 h^2))), with the
 * fused multiply-add GCC contracts the inner 1 + 0.044715h*h to (it changes one of the 65536 entries). tanhf is
 * the double tanh rounded to float, which equals glibc's tanhf on all 65536 arguments (checked exhaustively in
 * tests/c/test_kernels.c on glibc) and needs no libm float function whose rounding varies by platform. */
static float gelu_f16(float x) {
    const float h = plm_f16_to_f32(plm_f32_to_f16(x));
    const float a = 0.79788456080286535587989211986876f * h * plm_fmaf(0.044715f * h, h, 1.0f);
    return plm_f16_to_f32(plm_f32_to_f16(0.5f * h * (1.0f + (float)tanh((double)a))));
}

void plm_gelu_mul_ref(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) {
        const float x = g[i];
        g[i] = x <= -10.0f ? 0.0f : x >= 10.0f ? x * u[i] : gelu_f16(x) * u[i];
    }
}

 /* ggml_rope_cache_init + rope_yarn with ext_factor 0: theta_0 = pos, theta_{i+1} = theta_i * powf(base, -2/hd)
 * (iterated in float like ggml), angle = freq_scale * (theta_i / ff[i]), cos/sin as x86-64 glibc's cosf/sinf
 * compute them (plm_sincosf_glibc: wasi-libc's differ in the last bit for about 4% of RoPE's angles, enough to flip
 * gemma3-tiny's greedy tokens on wasm), each times mscale (attn_factor; times 1 changes nothing). Without factors
 * ff[i] is 1, and theta / 1 is theta exactly.
 * The rotation is what GCC made of ggml's x0*cos - x1*sin and x0*sin + x1*cos (contracted, in its vector and
 * scalar loops alike): fma(x0, cos, -(x1*sin)) and fma(x0, sin, x1*cos). A partial rotation (phi3's
 * rope.dimension_count < head_dim) is this over the first hd = n_rot elements of the head: ggml's theta_scale and
 * NEOX pairing use n_rot, and the rest of the head passes through. */
void plm_rope_cs(float *cs, int hd, int pos, float base, float freq_scale, const float *ff, float mscale) {
    const float theta_scale = powf(base, -2.0f / (float)hd);
    float theta = (float)pos;
    for (int i = 0; i < hd / 2; i++) {
        const float t = freq_scale * (ff ? theta / ff[i] : theta);
        float s, c;
        plm_sincosf_glibc(t, &s, &c);
        cs[2 * i] = c * mscale;
        cs[2 * i + 1] = s * mscale;
        theta *= theta_scale;
    }
}

void plm_rope_apply(float *x, const float *cs, int hd, int neox) {
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float c = cs[2 * i], s = cs[2 * i + 1];
        const int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const float x0 = x[i0], x1 = x[i1];
        x[i0] = plm_fmaf(x0, c, -(x1 * s));
        x[i1] = plm_fmaf(x0, s, x1 * c);
    }
}

void plm_rope_ref(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox, float mscale) {
    float cs[512]; /* hd <= 512: the loader refuses larger heads */
    plm_rope_cs(cs, hd, pos, base, freq_scale, ff, mscale);
    plm_rope_apply(x, cs, hd, neox);
}

static void s_rope(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox) {
    plm_rope_ref(x, hd, pos, base, freq_scale, ff, neox, 1.0f);
}

static void s_f16_to_f32(const plm_f16 *x, float *y, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f16_to_f32(x[i]);
}

static void s_f32_to_f16(const float *x, plm_f16 *y, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f32_to_f16(x[i]);
}

static float s_dot_f32(const float *a, const float *b, int n) {
    return vdot_f32(n, (const uint8_t *)a, (const uint8_t *)b);
}

static float s_dot_f16(const plm_f16 *a, const plm_f16 *b, int n) {
    return vdot_f16(n, (const uint8_t *)a, (const uint8_t *)b);
}

static void s_axpy_f32(float *y, float a, const float *x, int n) {
    for (int i = 0; i < n; i++) y[i] += x[i] * a;
}

/* ggml_vec_mad_f16 / ggml_vec_scale_f16: the accumulator stays f16, rounded after every update (lead's addition
 * for flash attention). */
static void s_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f32_to_f16(plm_fmaf(plm_f16_to_f32(x[i]), a, plm_f16_to_f32(y[i])));
}

static void s_scale_f16(plm_f16 *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f32_to_f16(plm_f16_to_f32(y[i]) * a);
}

/* ggml's dequantize_row_* (the token embedding's row lookup; tools and tests) */
void plm_dequantize_row(int type, const void *vx, float *y, int64_t n) {
    const uint8_t *x = (const uint8_t *)vx;
    if (!plm_row_size(type, n)) return;
    switch (type) {
    case PLM_T_F32: memmove(y, vx, (size_t)n * sizeof(float)); break;
    case PLM_T_F16:
        for (int64_t i = 0; i < n; i++) y[i] = ldhf(x + 2 * i);
        break;
    case PLM_T_Q4_0:
        for (int64_t i = 0; i < n / QK4_0; i++, x += sizeof(block_q4_0), y += QK4_0) {
            const float d = ldhf(x);
            for (int j = 0; j < QK4_0 / 2; j++) {
                y[j] = (float)((x[2 + j] & 0x0F) - 8) * d;
                y[j + QK4_0 / 2] = (float)((x[2 + j] >> 4) - 8) * d;
            }
        }
        break;
    case PLM_T_Q8_0:
        for (int64_t i = 0; i < n / QK8_0; i++, x += sizeof(block_q8_0), y += QK8_0) {
            const float d = ldhf(x);
            for (int j = 0; j < QK8_0; j++) y[j] = (float)(int8_t)x[2 + j] * d;
        }
        break;
    case PLM_T_Q4_K:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_q4_K)) {
            const float d = ldhf(x + offsetof(block_q4_K, d)), min = ldhf(x + offsetof(block_q4_K, dmin));
            const uint8_t *q = x + offsetof(block_q4_K, qs), *sc = x + offsetof(block_q4_K, scales);
            for (int j = 0, is = 0; j < QK_K; j += 64, q += 32, is += 2) {
                int s, m;
                plm_q4k_scale_min(is + 0, sc, &s, &m);
                const float d1 = d * s, m1 = min * m;
                plm_q4k_scale_min(is + 1, sc, &s, &m);
                const float d2 = d * s, m2 = min * m;
                for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
                for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
            }
        }
        break;
    case PLM_T_Q4_1:
    case PLM_T_Q5_0:
    case PLM_T_Q5_1: {
        const int five = type != PLM_T_Q4_1, off = type == PLM_T_Q4_1 ? 4 : type == PLM_T_Q5_0 ? 6 : 8;
        const int has_m = type != PLM_T_Q5_0;
        for (int64_t i = 0; i < n / 32; i++, x += plm_type(type)->bytes, y += 32) {
            const float d = ldhf(x), m = has_m ? ldhf(x + 2) : 0.0f;
            const uint32_t qh = five ? ld32u(x + off - 4) : 0;
            for (int j = 0; j < 32; j++) {
                const int q = nib(x + off, j) | (int)((qh >> j) & 1) << 4;
                y[j] = has_m ? (float)q * d + m : (float)(q - 16) * d;
            }
        }
        break;
    }
    case PLM_T_Q8_1: /* activation rows (tests) */
        for (int64_t i = 0; i < n / 32; i++, x += sizeof(block_q8_1), y += 32)
            for (int j = 0; j < 32; j++) y[j] = (float)(int8_t)x[4 + j] * ldhf(x);
        break;
    case PLM_T_IQ4_NL:
        for (int64_t i = 0; i < n / 32; i++, x += sizeof(block_iq4_nl), y += 32) {
            const float d = ldhf(x);
            for (int j = 0; j < 32; j++) y[j] = d * (float)plm_iq4nl_values[nib(x + 2, j)];
        }
        break;
    case PLM_T_IQ4_XS:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_iq4_xs)) {
            const float d = ldhf(x);
            for (int ib = 0; ib < 8; ib++, y += 32) {
                const float dl = d * (float)plm_iq4xs_scale(x, ib);
                for (int j = 0; j < 32; j++) y[j] = dl * (float)plm_iq4nl_values[nib(x + offsetof(block_iq4_xs, qs) + 16 * ib, j)];
            }
        }
        break;
    case PLM_T_Q2_K:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_q2_K)) {
            const float d = ldhf(x + offsetof(block_q2_K, d)), min = ldhf(x + offsetof(block_q2_K, dmin));
            const uint8_t *q = x + offsetof(block_q2_K, qs);
            int sc[16], mn[16];
            plm_q2k_scales(x + offsetof(block_q2_K, scales), sc, mn);
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 4; k++)
                    for (int e = 0; e < 32; e++) {
                        const int s = 8 * j + 2 * k + (e >= 16);
                        const float dl = d * (float)sc[s], ml = min * (float)mn[s];
                        *y++ = dl * (float)((q[32 * j + e] >> (2 * k)) & 3) - ml;
                    }
        }
        break;
    case PLM_T_Q3_K:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_q3_K)) {
            const float d = ldhf(x + offsetof(block_q3_K, d));
            const uint8_t *hm = x + offsetof(block_q3_K, hmask), *q = x + offsetof(block_q3_K, qs);
            int sc[16];
            plm_q3k_scales(x + offsetof(block_q3_K, scales), sc);
            for (int j = 0; j < 2; j++)
                for (int k = 0; k < 4; k++)
                    for (int e = 0; e < 32; e++) {
                        const float dl = d * (float)sc[8 * j + 2 * k + (e >= 16)];
                        const int v = ((q[32 * j + e] >> (2 * k)) & 3) - ((hm[e] >> (4 * j + k)) & 1 ? 0 : 4);
                        *y++ = dl * (float)v;
                    }
        }
        break;
    case PLM_T_Q5_K:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_q5_K)) {
            const float d = ldhf(x + offsetof(block_q5_K, d)), min = ldhf(x + offsetof(block_q5_K, dmin));
            const uint8_t *q = x + offsetof(block_q5_K, qs), *qh = x + offsetof(block_q5_K, qh);
            for (int j = 0; j < 4; j++)
                for (int h = 0; h < 2; h++) {
                    int s, m;
                    plm_q4k_scale_min(2 * j + h, x + offsetof(block_q5_K, scales), &s, &m);
                    const float d1 = d * (float)s, m1 = min * (float)m;
                    for (int e = 0; e < 32; e++) {
                        const int v = (h ? q[32 * j + e] >> 4 : q[32 * j + e] & 0xF) + ((qh[e] >> (2 * j + h)) & 1 ? 16 : 0);
                        *y++ = d1 * (float)v - m1;
                    }
                }
        }
        break;
    case PLM_T_BF16:
        for (int64_t i = 0; i < n; i++) y[i] = ldb(x, (int)i);
        break;
    case PLM_T_Q6_K:
        for (int64_t i = 0; i < n / QK_K; i++, x += sizeof(block_q6_K)) {
            const float d = ldhf(x + offsetof(block_q6_K, d));
            const uint8_t *ql = x + offsetof(block_q6_K, ql), *qh = x + offsetof(block_q6_K, qh);
            const int8_t *sc = (const int8_t *)(x + offsetof(block_q6_K, scales));
            for (int nn = 0; nn < QK_K; nn += 128) {
                for (int l = 0; l < 32; ++l) {
                    const int is = l / 16;
                    const int q1 = (int8_t)((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                    const int q2 = (int8_t)((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                    const int q3 = (int8_t)((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                    const int q4 = (int8_t)((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                    y[l + 0] = d * sc[is + 0] * q1;
                    y[l + 32] = d * sc[is + 2] * q2;
                    y[l + 64] = d * sc[is + 4] * q3;
                    y[l + 96] = d * sc[is + 6] * q4;
                }
                y += 128;
                ql += 64;
                qh += 32;
                sc += 8;
            }
        }
        break;
    default: break;
    }
}

const plm_kernels plm_kernels_scalar = {
    .name = "scalar",
    .quantize_row = s_quantize_row,
    .matmul = s_matmul,
    .rmsnorm = s_rmsnorm,
    .silu_mul = s_silu_mul,
    .gelu_mul = plm_gelu_mul_ref,
    .rope = s_rope,
    .f16_to_f32 = s_f16_to_f32,
    .f32_to_f16 = s_f32_to_f16,
    .dot_f32 = s_dot_f32,
    .dot_f16 = s_dot_f16,
    .axpy_f32 = s_axpy_f32,
    .mad_f16 = s_mad_f16,
    .scale_f16 = s_scale_f16,
};
