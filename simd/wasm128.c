/* WebAssembly SIMD backends: plm_kernels_wasm128 (baseline SIMD128, -msimd128) and, when this file is compiled with
 * -mrelaxed-simd -DPLM_BACKEND_WASM_RELAXED, also plm_kernels_wasm_relaxed (relaxed-simd: i8 dot products and
 * relaxed multiply-add).
 *
 * The kernels follow the scalar reference's orders (simd/scalar.c, "Arithmetic contract": llama.cpp's x86
 * arithmetic). tests/c/test_kernels.c holds the quantized matmuls, the activation quantizers, silu_mul,
 * mad_f16/scale_f16 and the f16 conversions to the reference bit for bit, and the F16/F32 matmuls, dot_f32/dot_f16,
 * rmsnorm and axpy only to a tolerance (float_exact 0 there). The question per kernel is how to get a fused
 * multiply-add (fma) where the contract has one, since SIMD128 has none:
 *   fma, emulated (wasm128, and relaxed where the engine does not fuse): x*y is exact in f64x2 (24+24 bits), the
 *     sum is rounded once to double and then to float; those two roundings differ from one only when the double
 *     lands exactly on a float midpoint the exact sum is not on: checked on the low fraction bits, and such a lane
 *     moved off the midpoint toward the exact sum (TwoSum's error says which way; see off_mid). Scalar fmas are
 *     plm_fmaf (simd.h), the same idea one lane at a time.
 *   fma, relaxed: f32x4.relaxed_madd when the engine fuses it (probed on every call: V8 on x86 with FMA3 and on
 *     ARM64 does), which is then the fma itself.
 *   fma of two halves: the product is exact in float, so mul + add is the fma (F16 matmul and dots).
 *   quantize_row Q8_0 / Q8_K / F16     f32x4.nearest (ties to even, as nearbyintf / nearest_int); exact converts
 *   f16_to_f32 / f32_to_f16            integer bit manipulation (NaN payloads kept like scalar); checked on all 2^32
 *   matmul Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K / Q5_0 / Q3_K / IQ4_XS / Q4_1 / Q5_1 / IQ4_NL / Q2_K  the contract's eight lanes (lane L: integer sum of products 4L..4L+3 of
 *                                      each 32 values) with one fma per block (per 256 for K-quants), red8;
 *                                      relaxed: integer sums by i32x4.relaxed_dot_i8x16_i7x16_add with the unsigned
 *                                      4-/6-bit quants as its 7-bit operand (exact, deterministic; Q4_0's -8 through
 *                                      sums of the activations, Q6_K's -32 through bsums as the contract has it);
 *                                      Q8_0 x Q8_0 has no 7-bit operand; SIMD128: i32x4.dot_i16x8 on shift-only
 *                                      splits (pl_act, nib16: even and odd elements, no shuffles), with the
 *                                      activations split once per tile of up to 4 weight rows (MM_WIDE, MM_LEAN)
 *   Q4_0_R8 / Q4_K_R8 / IQ4_NL_R8 / Q2_K_R8  one float per output, one fma per block (Q4_0_R8, IQ4_NL_R8: 4 outputs in the lanes of
 *                                      a vector; Q4_K_R8: per 64 values for full groups of 4 activation rows);
 *                                      relaxed repacks a model's such matrices (r_repack: simd.h's X8 layouts) so
 *                                      that the relaxed dot leaves each of 8 rows' sums in its own lane
 *   F32 / F16 (and the *_TB variants with nb == 1 or n % 16 != 0), dot_f32 / dot_f16: 4 x 16 fma lanes over
 *                                      n & ~63, red16, the contract's tail; *_TB with nb >= 2: 16 fma lanes, red16
 *   mad_f16 / scale_f16                y + a*x in double (x*a is exact there), then float, then half: for f16
 *                                      results this equals fmaf + plm_f32_to_f16 (see mad4)
 *   axpy_f32, rmsnorm                  mul then add like scalar; rmsnorm keeps scalar's sequential double sum
 *   silu_mul                           relaxed with a fused relaxed_madd: plm_expf_ggml lane for lane (glibc's expf
 *                                      for the last n % 16); otherwise the scalar kernel (a chain of 8 fmas)
 *   rope                               scalar
 *
 * Each build has two tables: the exact ones above (plm_kernels_wasm128_exact, plm_kernels_wasm_relaxed_exact) and the
 * fast ones the engine runs by default (plm_kernels_wasm128, plm_kernels_wasm_relaxed; "The fast tables" below), whose
 * .exact points at their sibling (a model loaded with `exact`).
 *
 * Weight and activation rows may start at any byte address: v128.load has no alignment requirement, and scalar
 * fields are read with memcpy.
 */
#include "simd.h"
#include "tiling.h"

#if !defined(__wasm_simd128__)
#error "simd/wasm128.c needs -msimd128"
#endif
#if defined(PLM_BACKEND_WASM_RELAXED) && !defined(__wasm_relaxed_simd__)
#error "PLM_BACKEND_WASM_RELAXED needs -mrelaxed-simd"
#endif

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <wasm_simd128.h>

#pragma clang fp contract(off) /* mul-then-add where scalar does that */

#define INLINE static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- small helpers */
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline float ldf(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }
INLINE v128_t ld(const void *p) { return wasm_v128_load(p); }
INLINE v128_t splat_i32(uint32_t v) { return wasm_i32x4_splat((int32_t)v); }

/* one half -> float, exact (as plm_f16_to_f32, inlined for scale fields) */
static inline float h2f(uint16_t h) {
    if ((h & 0x7c00) == 0x7c00) return plm_f16_to_f32(h);
    uint32_t u = (uint32_t)(h & 0x7fff) << 13;
    float f;
    memcpy(&f, &u, 4);
    f *= 0x1p112f; /* rebias the exponent; half subnormals become exact normals */
    return (h & 0x8000) ? -f : f;
}

/* four halves (u32 lanes) -> f32x4, exact for every input including inf and NaN (payload kept, made quiet) */
INLINE v128_t h2f4_full(v128_t h) {
    const v128_t em = wasm_v128_and(h, splat_i32(0x7fff));
    const v128_t sign = wasm_i32x4_shl(wasm_v128_xor(h, em), 16);
    const v128_t mag = wasm_f32x4_mul(wasm_i32x4_shl(em, 13), wasm_f32x4_splat(0x1p112f));
    const v128_t special = wasm_i32x4_gt(em, splat_i32(0x7bff));
    const v128_t mant = wasm_v128_and(h, splat_i32(0x3ff));
    const v128_t quiet = wasm_v128_andnot(splat_i32(0x400000), wasm_i32x4_eq(mant, wasm_i32x4_splat(0)));
    const v128_t spec = wasm_v128_or(wasm_v128_or(splat_i32(0x7f800000), wasm_i32x4_shl(mant, 13)), quiet);
    return wasm_v128_or(sign, wasm_v128_bitselect(spec, mag, special));
}

/* four halves (u32 lanes) -> f32x4: the multiply rebias for finite halves, the full path if any is inf/NaN */
INLINE v128_t h2f4(v128_t h) {
    const v128_t em = wasm_v128_and(h, splat_i32(0x7fff));
    if (__builtin_expect(wasm_v128_any_true(wasm_i32x4_gt(em, splat_i32(0x7bff))), 0)) return h2f4_full(h);
    return wasm_v128_or(wasm_f32x4_mul(wasm_i32x4_shl(em, 13), wasm_f32x4_splat(0x1p112f)),
                        wasm_i32x4_shl(wasm_v128_xor(h, em), 16));
}

/* eight halves -> two f32x4. Finite halves: interleaved with zeros, each half is the top of a 32-bit lane; an
 * arithmetic shift by 3 puts exponent and mantissa where a float's go (repeating the sign in the three bits the
 * mask then clears), and a multiply by 2^112 rebiases the exponent (exact, half subnormals included; the sign rides
 * along). A vector holding inf or NaN takes the full path. */
INLINE void h2f8(v128_t h, v128_t *lo, v128_t *hi) {
    const v128_t em = wasm_v128_and(h, wasm_i16x8_splat(0x7fff));
    if (__builtin_expect(wasm_v128_any_true(wasm_u16x8_gt(em, wasm_i16x8_splat(0x7bff))), 0)) {
        *lo = h2f4_full(wasm_u32x4_extend_low_u16x8(h));
        *hi = h2f4_full(wasm_u32x4_extend_high_u16x8(h));
        return;
    }
    const v128_t z = wasm_i16x8_splat(0), keep = splat_i32(0x8fffffff), k = wasm_f32x4_splat(0x1p112f);
    const v128_t tl = wasm_i16x8_shuffle(z, h, 0, 8, 1, 9, 2, 10, 3, 11), th = wasm_i16x8_shuffle(z, h, 4, 12, 5, 13, 6, 14, 7, 15);
    *lo = wasm_f32x4_mul(wasm_v128_and(wasm_i32x4_shr(tl, 3), keep), k);
    *hi = wasm_f32x4_mul(wasm_v128_and(wasm_i32x4_shr(th, 3), keep), k);
}

/* four halves at any address -> f32x4 */
INLINE v128_t ld_h4(const uint8_t *p) {
    v128_t lo, hi;
    h2f8(wasm_v128_load64_zero(p), &lo, &hi);
    return lo;
}

/* f32x4 -> four halves in u32 lanes, round to nearest even, exact for every input (Maratyszcza's FP16 method:
 * the float adder does the rounding, at the half's precision, by adding a power of two picked from the input's
 * exponent; overflow to inf through the 2^112 * 2^-110 scaling). NaN: quiet, top payload bits kept, like scalar. */
INLINE v128_t f2h4(v128_t f) {
    const v128_t shl1 = wasm_i32x4_add(f, f);
    const v128_t sign = wasm_u32x4_shr(wasm_v128_and(f, splat_i32(0x80000000u)), 16);
    v128_t base = wasm_f32x4_mul(wasm_f32x4_mul(wasm_f32x4_abs(f), wasm_f32x4_splat(0x1p+112f)),
                                 wasm_f32x4_splat(0x1p-110f));
    const v128_t bias = wasm_u32x4_max(wasm_v128_and(shl1, splat_i32(0xff000000u)), splat_i32(0x71000000u));
    base = wasm_f32x4_add(base, wasm_i32x4_add(wasm_u32x4_shr(bias, 1), splat_i32(0x07800000u)));
    const v128_t nonsign = wasm_i32x4_add(wasm_v128_and(wasm_u32x4_shr(base, 13), splat_i32(0x7c00)),
                                          wasm_v128_and(base, splat_i32(0x0fff)));
    const v128_t nan = wasm_u32x4_gt(shl1, splat_i32(0xff000000u));
    const v128_t nanv = wasm_v128_or(splat_i32(0x7e00), wasm_v128_and(wasm_u32x4_shr(f, 13), splat_i32(0x3ff)));
    return wasm_v128_or(sign, wasm_v128_bitselect(nanv, nonsign, nan));
}

INLINE v128_t f2h8(v128_t lo, v128_t hi) { return wasm_u16x8_narrow_i32x4(f2h4(lo), f2h4(hi)); }

static inline float hmax4(v128_t m) {
    m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 2, 3, 0, 1));
    m = wasm_f32x4_max(m, wasm_i32x4_shuffle(m, m, 1, 0, 3, 2));
    return wasm_f32x4_extract_lane(m, 0);
}

static inline int32_t hsum_i32(v128_t v) {
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 2, 3, 0, 1));
    v = wasm_i32x4_add(v, wasm_i32x4_shuffle(v, v, 1, 0, 3, 2));
    return wasm_i32x4_extract_lane(v, 0);
}

/* scalar's hsum8 of lanes lo = acc[0..3], hi = acc[4..7]: r_k = acc[k] + acc[k+4], (r0 + r2) + (r1 + r3) */
static inline float hsum8(v128_t lo, v128_t hi) {
    const v128_t r = wasm_f32x4_add(lo, hi);
    const v128_t t = wasm_f32x4_add(r, wasm_i32x4_shuffle(r, r, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}

/* ---------------------------------------------------------------- f16 <-> f32 */
static void cvt_h2f(const uint8_t *x, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t lo, hi;
        h2f8(ld(x + 2 * i), &lo, &hi);
        wasm_v128_store(y + i, lo), wasm_v128_store(y + i + 4, hi);
    }
    for (; i < n; i++) y[i] = plm_f16_to_f32(ld16(x + 2 * i));
}

static void cvt_f2h(const float *x, uint8_t *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) wasm_v128_store(y + 2 * i, f2h8(ld(x + i), ld(x + i + 4)));
    for (; i < n; i++) {
        const plm_f16 h = plm_f32_to_f16(x[i]);
        memcpy(y + 2 * i, &h, 2);
    }
}

static void w_f16_to_f32(const plm_f16 *x, float *y, int n) { cvt_h2f((const uint8_t *)x, y, n); }
static void w_f32_to_f16(const float *x, plm_f16 *y, int n) { cvt_f2h(x, (uint8_t *)y, n); }

/* ---------------------------------------------------------------- activation quantizers */
/* 16 int32 -> 16 int8 (values already in range) */
INLINE v128_t pack16(v128_t a, v128_t b, v128_t c, v128_t d) {
    return wasm_i8x16_narrow_i16x8(wasm_i16x8_narrow_i32x4(a, b), wasm_i16x8_narrow_i32x4(c, d));
}

/* ggml's x86 Q8_0 quantizer, as scalar: d = amax/127 (f16), q = nearbyintf(x * (127/amax)) */
static void quant_q8_0(const float *x, uint8_t *y, int n) {
    for (int ib = 0; ib < n / QK8_0; ib++, x += QK8_0, y += sizeof(block_q8_0)) {
        v128_t v[8], m = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < 8; j++) {
            v[j] = ld(x + 4 * j);
            m = wasm_f32x4_max(m, wasm_f32x4_abs(v[j]));
        }
        const float amax = hmax4(m);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const plm_f16 dh = plm_f32_to_f16(d);
        memcpy(y, &dh, 2);
        const v128_t vid = wasm_f32x4_splat(id);
        v128_t q[8];
        for (int j = 0; j < 8; j++) q[j] = wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(v[j], vid)));
        wasm_v128_store(y + 2, pack16(q[0], q[1], q[2], q[3]));
        wasm_v128_store(y + 18, pack16(q[4], q[5], q[6], q[7]));
    }
}

/* quantize_row_q8_K_ref, as scalar: max = first element of largest magnitude, iscale = -127/max,
 * q = min(127, nearest_int(iscale*x)), d = 1/iscale, bsums of 16 */
static void quant_q8_K(const float *x, uint8_t *y, int n) {
    for (int ib = 0; ib < n / QK_K; ib++, x += QK_K, y += sizeof(block_q8_K)) {
        v128_t m = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < QK_K; j += 4) m = wasm_f32x4_max(m, wasm_f32x4_abs(ld(x + j)));
        const float amax = hmax4(m);
        if (amax == 0.0f) {
            memset(y, 0, sizeof(block_q8_K));
            continue;
        }
        float max = 0.0f;
        const v128_t am = wasm_f32x4_splat(amax);
        for (int j = 0; j < QK_K; j += 4)
            if (wasm_v128_any_true(wasm_f32x4_eq(wasm_f32x4_abs(ld(x + j)), am))) {
                int l = 0;
                while (l < 3 && fabsf(x[j + l]) != amax) l++;
                max = x[j + l];
                break;
            }
        const float iscale = -127.0f / max;
        const v128_t vis = wasm_f32x4_splat(iscale), lim = wasm_i32x4_splat(127);
        int8_t *qs = (int8_t *)(void *)(y + offsetof(block_q8_K, qs));
        for (int j = 0; j < QK_K; j += 16) {
            v128_t q[4];
            for (int k = 0; k < 4; k++)
                q[k] = wasm_i32x4_min(wasm_i32x4_trunc_sat_f32x4(wasm_f32x4_nearest(wasm_f32x4_mul(ld(x + j + 4 * k), vis))), lim);
            const v128_t b = pack16(q[0], q[1], q[2], q[3]);
            wasm_v128_store(qs + j, b);
            const int16_t bs = (int16_t)hsum_i32(wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extadd_pairwise_i8x16(b)));
            memcpy(y + offsetof(block_q8_K, bsums) + 2 * (j / 16), &bs, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(y, &d, 4);
    }
}

static void w_quantize_row(int act_type, const float *x, void *out, int n) {
    switch (act_type) {
    case PLM_T_Q8_0: quant_q8_0(x, (uint8_t *)out, n); break;
    case PLM_T_Q8_K: quant_q8_K(x, (uint8_t *)out, n); break;
    case PLM_T_F16: cvt_f2h(x, (uint8_t *)out, n); break;
    default: plm_kernels_scalar.quantize_row(act_type, x, out, n); break;
    }
}

/* ---------------------------------------------------------------- relaxed-simd primitives
 * IM (integer mode) and FM (float mode) are compile-time constants at every call site. IM = 1: the relaxed i8 dot;
 * FM = 1: f32x4.relaxed_madd as the fused multiply-add. Both exist only when this file is compiled with
 * -mrelaxed-simd; without it the primitives below are their exact SIMD128 equivalents (never called), so both
 * sets of kernels come from one source. */
#ifdef PLM_BACKEND_WASM_RELAXED
/* lane i = c + sum of a[4i+j] * b[4i+j]; b must be in [0, 127] (then every engine gives the same result) */
#define RDOT(a, b, c) wasm_i32x4_relaxed_dot_i8x16_i7x16_add(a, b, c)
#define RMADD(a, b, c) wasm_f32x4_relaxed_madd(a, b, c)

/* relaxed_madd may round once (fused) or twice; an engine makes one choice for the hardware it runs on. Fused is
 * fmaf exactly: then it replaces the emulation below. (volatile: the probe must run, not be constant-folded.) */
static int madd_fused(void) {
    volatile float pa = 1.0f + 0x1p-23f, pb = 1.0f - 0x1p-23f, pc = -1.0f;
    const v128_t r = wasm_f32x4_relaxed_madd(wasm_f32x4_splat(pa), wasm_f32x4_splat(pb), wasm_f32x4_splat(pc));
    return wasm_f32x4_extract_lane(r, 0) != 0.0f; /* fused: -2^-46; two roundings: 0 */
}
#else
INLINE v128_t rdot_emul(v128_t a, v128_t b, v128_t c) {
    const v128_t lo = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_low_i8x16(a, b));
    const v128_t hi = wasm_i32x4_extadd_pairwise_i16x8(wasm_i16x8_extmul_high_i8x16(a, b));
    return wasm_i32x4_add(c, wasm_i32x4_add(wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6), wasm_i32x4_shuffle(lo, hi, 1, 3, 5, 7)));
}
#define RDOT(a, b, c) rdot_emul(a, b, c)
#define RMADD(a, b, c) wasm_f32x4_add(wasm_f32x4_mul(a, b), c)
#endif

/* The emulated fma in two lanes: s = p + a rounded to double, where p (a product of two floats, or a float times
 * an integer below 2^24) and a (a float) are exact. Demoting s to float rounds p + a correctly unless s sits exactly
 * on a float midpoint that p + a does not (the double rounding): then s moves one double ulp toward p + a (TwoSum
 * gives the sign of the error), off the midpoint, and the demotion rounds the right way. The caller checks for a
 * midpoint first (cheap, on the low words); this runs only when some lane sits on one. */
INLINE v128_t off_mid(v128_t s, v128_t p, v128_t a) {
    const v128_t bp = wasm_f64x2_sub(s, a);
    const v128_t e = wasm_f64x2_add(wasm_f64x2_sub(p, bp), wasm_f64x2_sub(a, wasm_f64x2_sub(s, bp)));
    const v128_t mid = wasm_i64x2_eq(wasm_v128_and(s, wasm_i64x2_splat(0x1fffffff)), wasm_i64x2_splat(0x10000000));
    const v128_t fix = wasm_v128_and(mid, wasm_f64x2_ne(e, wasm_f64x2_splat(0.0)));
    const v128_t step = wasm_v128_or(wasm_i64x2_shr(wasm_v128_xor(e, s), 63), wasm_i64x2_splat(1)); /* +-1 on |s| */
    return wasm_i64x2_add(s, wasm_v128_and(fix, step));
}

/* The eight lanes of a Q4_0/Q8_0 accumulator for the emulated update, kept as f64x2 pairs holding float values (so
 * no conversion on the way in); the midpoint check on the low words of all eight doubles at once. Results never
 * reach float's subnormal range: every term is a multiple of 2^-48 (a product of two halves) or of its rounding. */
INLINE void fma8_any(const int FIX, float d, v128_t slo, v128_t shi, v128_t acc[4]) {
    const v128_t dd = wasm_f64x2_splat((double)d);
    v128_t P[4], S[4];
    P[0] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(slo), dd);
    P[1] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(slo, slo, 2, 3, 0, 1)), dd);
    P[2] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(shi), dd);
    P[3] = wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(shi, shi, 2, 3, 0, 1)), dd);
    for (int k = 0; k < 4; k++) S[k] = wasm_f64x2_add(P[k], acc[k]);
    if (!FIX) { /* the fast tables: fmaf except where the double lands exactly on a float midpoint (~2^-29 of sums) */
        for (int k = 0; k < 4; k++) acc[k] = wasm_f64x2_promote_low_f32x4(wasm_f32x4_demote_f64x2_zero(S[k]));
        return;
    }
    const v128_t mask = wasm_i32x4_splat(0x1fffffff), mid = wasm_i32x4_splat(0x10000000);
    const v128_t w01 = wasm_i32x4_shuffle(S[0], S[1], 0, 2, 4, 6), w23 = wasm_i32x4_shuffle(S[2], S[3], 0, 2, 4, 6);
    const v128_t tie = wasm_v128_or(wasm_i32x4_eq(wasm_v128_and(w01, mask), mid), wasm_i32x4_eq(wasm_v128_and(w23, mask), mid));
    if (__builtin_expect(wasm_v128_any_true(tie), 0))
        for (int k = 0; k < 4; k++) S[k] = off_mid(S[k], P[k], acc[k]);
    for (int k = 0; k < 4; k++) acc[k] = wasm_f64x2_promote_low_f32x4(wasm_f32x4_demote_f64x2_zero(S[k]));
}
#define fma8_exact(...) fma8_any(1, __VA_ARGS__)

/* fmaf(x, y, acc) per lane by one rounding to double and one to float, with no midpoint fix-up and no care for
 * subnormals (the fast tables: the exact answer but for ~2^-29 of sums and tiny results; fma_ff is exact) */
INLINE v128_t fma_d(v128_t x, v128_t y, v128_t acc) {
    const v128_t x23 = wasm_i32x4_shuffle(x, x, 2, 3, 0, 1), y23 = wasm_i32x4_shuffle(y, y, 2, 3, 0, 1);
    const v128_t a23 = wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1);
    const v128_t lo = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(x), wasm_f64x2_promote_low_f32x4(y)),
                                     wasm_f64x2_promote_low_f32x4(acc));
    const v128_t hi = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(x23), wasm_f64x2_promote_low_f32x4(y23)),
                                     wasm_f64x2_promote_low_f32x4(a23));
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/* fmaf(x[l], y[l], acc[l]) for 4 lanes of arbitrary floats, exactly (x*y is exact in double: 24 + 24 bits). A
 * lane on a midpoint is moved off it; one whose result is tiny (float subnormals round at a coarser place), inf or
 * NaN takes plm_fmaf. */
static __attribute__((noinline)) v128_t fma_ff_slow(v128_t x, v128_t y, v128_t acc) {
    float xs[4], ys[4], as[4];
    wasm_v128_store(xs, x), wasm_v128_store(ys, y), wasm_v128_store(as, acc);
    for (int l = 0; l < 4; l++) as[l] = plm_fmaf(xs[l], ys[l], as[l]);
    return ld(as);
}

INLINE v128_t fma_ff(v128_t x, v128_t y, v128_t acc) {
    const v128_t x23 = wasm_i32x4_shuffle(x, x, 2, 3, 0, 1), y23 = wasm_i32x4_shuffle(y, y, 2, 3, 0, 1);
    const v128_t a23 = wasm_i32x4_shuffle(acc, acc, 2, 3, 0, 1);
    const v128_t plo = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(x), wasm_f64x2_promote_low_f32x4(y));
    const v128_t phi = wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(x23), wasm_f64x2_promote_low_f32x4(y23));
    const v128_t alo = wasm_f64x2_promote_low_f32x4(acc), ahi = wasm_f64x2_promote_low_f32x4(a23);
    v128_t lo = wasm_f64x2_add(plo, alo), hi = wasm_f64x2_add(phi, ahi);
    /* any lane outside [2^-126, inf) in magnitude (zero excepted), inf or NaN: the scalar path */
    const v128_t tiny = wasm_f64x2_splat(0x1p-126), big = wasm_f64x2_splat(0x1p+1023);
    const v128_t alo_ = wasm_f64x2_abs(lo), ahi_ = wasm_f64x2_abs(hi);
    const v128_t odd = wasm_v128_or(
        wasm_v128_or(wasm_v128_and(wasm_f64x2_lt(alo_, tiny), wasm_f64x2_ne(lo, wasm_f64x2_splat(0.0))),
                     wasm_v128_and(wasm_f64x2_lt(ahi_, tiny), wasm_f64x2_ne(hi, wasm_f64x2_splat(0.0)))),
        wasm_v128_not(wasm_v128_and(wasm_f64x2_le(alo_, big), wasm_f64x2_le(ahi_, big))));
    if (__builtin_expect(wasm_v128_any_true(odd), 0)) return fma_ff_slow(x, y, acc);
    const v128_t mask = wasm_i32x4_splat(0x1fffffff), mid = wasm_i32x4_splat(0x10000000);
    const v128_t low = wasm_i32x4_shuffle(lo, hi, 0, 2, 4, 6);
    if (__builtin_expect(wasm_v128_any_true(wasm_i32x4_eq(wasm_v128_and(low, mask), mid)), 0))
        lo = off_mid(lo, plo, alo), hi = off_mid(hi, phi, ahi);
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(lo), wasm_f32x4_demote_f64x2_zero(hi), 0, 1, 4, 5);
}

/* fma(x, y, acc) per lane: relaxed_madd when fused (FM), else exact emulation */
INLINE v128_t fmav(const int FM, v128_t x, v128_t y, v128_t acc) { return FM ? RMADD(x, y, acc) : fma_ff(x, y, acc); }

/* acc = fma(d, (float)s, acc) per lane, as scalar's fmaf ((float)s is exact: |s| < 2^24) */
INLINE v128_t upd(const int FM, float d, v128_t s, v128_t acc) {
    return fmav(FM, wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(s), acc);
}

/* ---------------------------------------------------------------- matmul tiles
 * A tile computes RW weight rows x NB activation rows (RW*NB <= 4) in one pass; output (r, b) is k = r*NB + b.
 * RW, NB, and the type/mode flags are compile-time constants at every call site (forced inline). Every quantized
 * kernel reproduces scalar's (ggml AVX2's) eight lanes: lane L = the integer sum of products 4L..4L+3 of 32 values
 * (the relaxed dot's layout), updated with a fused multiply-add by the block's scale, then hsum8. */

/* int8 x16 -> the two i16x8 halves laid out for i32x4.dot_i16x8 to sum 4 consecutive elements per lane:
 * u = elements 0,1,4,5,8,9,12,13 and v = 2,3,6,7,10,11,14,15 */
INLINE void split4(v128_t x, v128_t *u, v128_t *v) {
    const v128_t t = wasm_i8x16_shuffle(x, x, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    *u = wasm_i16x8_extend_low_i8x16(t);
    *v = wasm_i16x8_extend_high_i8x16(t);
}

INLINE v128_t dot4(v128_t xu, v128_t xv, v128_t yu, v128_t yv) {
    return wasm_i32x4_add(wasm_i32x4_dot_i16x8(xu, yu), wasm_i32x4_dot_i16x8(xv, yv));
}

/* Q4_0_R8 without the relaxed dot needs only each block's whole sum, in any grouping: read as eight u16 lanes, the
 * block's 16 bytes give elements 2k (low nibble of the low byte), 2k+1, 2k+16 and 2k+17 (the high nibbles) of lane
 * k with one mask or shift each, no shuffles; the activations' even and odd bytes, sign-extended to i16, pair with
 * them in i32x4.dot_i16x8, and the -8 comes off through 8 * the activations' sum. */
INLINE void pl_act(v128_t x, v128_t *even, v128_t *odd) {
    *even = wasm_i16x8_shr(wasm_i16x8_shl(x, 8), 8);
    *odd = wasm_i16x8_shr(x, 8);
}

/* lane k of a tile = output (k / NB, k % NB): the activation row's value from v, which holds 4 rows' */
INLINE v128_t by_b(const int NB, v128_t v) {
    switch (NB) { /* (shuffle lanes must be literal constants) */
    case 1: return wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    case 2: return wasm_i32x4_shuffle(v, v, 0, 1, 0, 1);
    case 3: return wasm_i32x4_shuffle(v, v, 0, 1, 2, 0);
    default: return v;
    }
}

/* the half at p + idx*stride + off, or 0 for a lane the tile does not use */
INLINE uint32_t h_at(const int used, const uint8_t *p, size_t stride, int idx, size_t off) {
    return used ? ld16(p + (size_t)idx * stride + off) : 0u;
}

/* Q8_0 / Q4_0 x Q8_0, one tile function per weight type and variant. Q4_0: element j < 16 is the low nibble of
 * byte j, 16+j the high nibble, minus 8. All take (..., ad4, ay4): the activation rows' scales and 8 * their sums
 * (q0_meta), 4 lanes per block.
 *   tile_q8_0, tile_q4_0      eight lanes per output: lane L (lo 0..3, hi 4..7) = fma(dw*da, products 4L..4L+3,
 *                             lane L), then hsum8 (lanes8_*)
 *   tile_q4_0_r8              Q4_0_R8 (llama.cpp's repacked order): one float per output, acc = fma((float)(the
 *                             block's whole integer dot), dw*da, acc), the tile's 4 outputs in the 4 lanes of acc
 *   tile_q4_0_rdot, tile_q4_0_r8_rdot   the same two orders for the relaxed build: the unsigned nibbles are the
 *                             relaxed dot's 7-bit operand, and 8 * (sum of the activations) comes off
 * FM (the ones the relaxed table also uses): the float update by relaxed_madd (fused), else the exact emulation. */

/* the tile's scale products dw*da at block offset woff, lane k = r*NB + b (lanes past RW*NB: 0) */
INLINE v128_t q0_scales(const int RW, const int NB, const uint8_t *w, size_t ws, size_t woff, const float *ad4) {
    const int kn = RW * NB;
    const v128_t hw = wasm_u32x4_make(h_at(0 < kn, w, ws, 0 / NB, woff), h_at(1 < kn, w, ws, 1 / NB, woff),
                                      h_at(2 < kn, w, ws, 2 / NB, woff), h_at(3 < kn, w, ws, 3 / NB, woff));
    return wasm_f32x4_mul(h2f4(hw), by_b(NB, ld(ad4)));
}

/* Eight-lane accumulators of up to 4 outputs: lo/hi float lanes when fused (FM), else f64x2 pairs 01, 23, 45, 67
 * (fma8_exact). */
INLINE void lanes8_zero(v128_t lo[4], v128_t hi[4], v128_t ad[4][4]) {
    for (int k = 0; k < 4; k++) {
        lo[k] = hi[k] = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < 4; j++) ad[k][j] = wasm_f64x2_splat(0.0);
    }
}

/* lanes += d * (s0 | s1), fused like scalar's fmaf */
INLINE void lanes8_add(const int FM, float d, v128_t s0, v128_t s1, v128_t *lo, v128_t *hi, v128_t ad[4]) {
    if (FM) {
        *lo = RMADD(wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(s0), *lo);
        *hi = RMADD(wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(s1), *hi);
    } else {
        fma8_exact(d, s0, s1, ad);
    }
}

INLINE void lanes8_store(const int FM, const int RW, const int NB, v128_t lo[4], v128_t hi[4], v128_t ad[4][4],
                         float *out, size_t ldo) {
    if (!FM)
        for (int k = 0; k < RW * NB; k++) {
            lo[k] = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(ad[k][0]), wasm_f32x4_demote_f64x2_zero(ad[k][1]), 0, 1, 4, 5);
            hi[k] = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(ad[k][2]), wasm_f32x4_demote_f64x2_zero(ad[k][3]), 0, 1, 4, 5);
        }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = hsum8(lo[r * NB + b], hi[r * NB + b]);
}

/* One block of the eight-lane form for signed int8 weights (w0: elements 0..15, w1: 16..31 of each weight row) */
INLINE void lanes8_block(const int RW, const int NB, const int FM, const v128_t w0[4], const v128_t w1[4],
                         const uint8_t *a, size_t as, size_t aoff, v128_t dv, v128_t lo[4], v128_t hi[4],
                         v128_t ad[4][4]) {
    v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
    for (int r = 0; r < RW; r++) split4(w0[r], &wu0[r], &wv0[r]), split4(w1[r], &wu1[r], &wv1[r]);
    for (int b = 0; b < NB; b++) {
        const uint8_t *p = a + (size_t)b * as + aoff + 2;
        split4(ld(p), &au0[b], &av0[b]), split4(ld(p + 16), &au1[b], &av1[b]);
    }
    const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                          wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) {
            const int k = r * NB + b;
            lanes8_add(FM, dk[k], dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]), &lo[k],
                       &hi[k], ad[k]);
        }
}

INLINE void tile_q8_0(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws, const uint8_t *a,
                      size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK8_0; ib++) {
        const size_t off = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + off + 2;
            w0[r] = ld(p), w1[r] = ld(p + 16);
        }
        lanes8_block(RW, NB, FM, w0, w1, a, as, off, q0_scales(RW, NB, w, ws, off, ad4 + 4 * (size_t)ib), lo, hi, ad);
    }
    lanes8_store(FM, RW, NB, lo, hi, ad, out, ldo);
}

INLINE void tile_q4_0(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                      float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), s8 = wasm_i8x16_splat(8);
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4];
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_i8x16_sub(wasm_v128_and(q, m4), s8), w1[r] = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), s8);
        }
        lanes8_block(RW, NB, 0, w0, w1, a, as, aoff, q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib), lo, hi, ad);
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
}

/* Q4_0_R8 forms: t[k] holds 4 partial integer sums of output k; their totals, output k in lane k, minus the -8
 * offsets (8 * the activation block's sum, from ay4) */
INLINE v128_t r8_block_sums(const int NB, const v128_t t[4], const int32_t *ay4) {
    const v128_t t01 = wasm_i32x4_add(wasm_i32x4_shuffle(t[0], t[1], 0, 4, 1, 5), wasm_i32x4_shuffle(t[0], t[1], 2, 6, 3, 7));
    const v128_t t23 = wasm_i32x4_add(wasm_i32x4_shuffle(t[2], t[3], 0, 4, 1, 5), wasm_i32x4_shuffle(t[2], t[3], 2, 6, 3, 7));
    const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7));
    return ay4 ? wasm_i32x4_sub(sum, by_b(NB, ld(ay4))) : sum;
}

INLINE void r8_store(const int RW, const int NB, v128_t acc, float *out, size_t ldo) {
    float res[4];
    wasm_v128_store(res, acc);
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = res[r * NB + b];
}

/* Without the relaxed dot only each block's whole sum is needed, in any grouping: the u16-lane form of pl_act.
 * Q8 1 (Q8_0 weights, fast tables only): the weights' even and odd bytes sign-extended like the activations'; 2
 * (IQ4_NL_R8, the same order as Q4_0_R8 on the IQ4_NL levels): the levels looked up, then split likewise.
 * FAST: the block update by fma_d (1, the fast SIMD128 table) or RMADD (2, relaxed: fused where the engine
 * fuses), else the exact fma. */
INLINE void tile_q0_pairs(const int RW, const int NB, const int Q8, const int FAST, int n, const uint8_t *w, size_t ws,
                          const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t n4 = wasm_i16x8_splat(0x0f), zero = wasm_i32x4_splat(0);
    const size_t wb = Q8 == 1 ? sizeof(block_q8_0) : sizeof(block_q4_0);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * wb, aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
        for (int r = 0; r < RW; r++) { /* elements 2k, 2k+1, 2k+16, 2k+17 in lane k (see pl_act) */
            const uint8_t *p = w + (size_t)r * ws + woff + 2;
            if (Q8 == 1) {
                pl_act(ld(p), &wu0[r], &wv0[r]), pl_act(ld(p + 16), &wu1[r], &wv1[r]);
            } else if (Q8 == 2) { /* IQ4_NL: the levels of the low nibbles (elements 0..15), then of the high */
                const v128_t q = ld(p), values = ld(plm_iq4nl_values), m4 = wasm_i8x16_splat(0x0f);
                pl_act(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &wu0[r], &wv0[r]);
                pl_act(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &wu1[r], &wv1[r]);
            } else {
                const v128_t q = ld(p);
                wu0[r] = wasm_v128_and(q, n4), wv0[r] = wasm_v128_and(wasm_u16x8_shr(q, 8), n4);
                wu1[r] = wasm_v128_and(wasm_u16x8_shr(q, 4), n4), wv1[r] = wasm_u16x8_shr(q, 12);
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            pl_act(ld(p), &au0[b], &av0[b]), pl_act(ld(p + 16), &au1[b], &av1[b]);
        }
        v128_t t[4] = { zero, zero, zero, zero };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++)
                t[r * NB + b] = wasm_i32x4_add(dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]));
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        const v128_t sum = wasm_f32x4_convert_i32x4(r8_block_sums(NB, t, Q8 ? NULL : ay4 + 4 * (size_t)ib));
        acc = FAST == 2 ? RMADD(sum, dv, acc) : FAST ? fma_d(sum, dv, acc) : fma_ff(sum, dv, acc);
    }
    r8_store(RW, NB, acc, out, ldo);
}

/* Q8_0 for the fast tables: the contract's eight lanes with shift-only integer sums (pl_act's even and odd
 * elements: dot_i16x8 of the even ones gives products 4k and 4k+2 in lane k, of the odd ones 4k+1 and 4k+3, so their
 * sum is lane k of the contract for elements 0..15, likewise 16..31 for lanes 4..7), updated by fma8_any without
 * the midpoint fix-up. */
INLINE void tile_q8_0_fast(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                           float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK8_0; ib++) {
        const size_t off = (size_t)ib * sizeof(block_q8_0);
        v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + off + 2;
            pl_act(ld(p), &wu0[r], &wv0[r]), pl_act(ld(p + 16), &wu1[r], &wv1[r]);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + off + 2;
            pl_act(ld(p), &au0[b], &av0[b]), pl_act(ld(p + 16), &au1[b], &av1[b]);
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, off, ad4 + 4 * (size_t)ib);
        const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                              wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                fma8_any(0, dk[k], dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]), ad[k]);
            }
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
}

#ifdef PLM_BACKEND_WASM_RELAXED
INLINE void tile_q4_0_rdot(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                           const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), ones = wasm_i8x16_splat(1), zero = wasm_i32x4_splat(0);
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4], a0[4], a1[4], m0[4], m1[4];
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_v128_and(q, m4), w1[r] = wasm_u8x16_shr(q, 4);
        }
        for (int b = 0; b < NB; b++) { /* m: 8 * the sums of 4 activations, the -8 per lane */
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            a0[b] = ld(p), a1[b] = ld(p + 16);
            m0[b] = wasm_i32x4_shl(RDOT(a0[b], ones, zero), 3), m1[b] = wasm_i32x4_shl(RDOT(a1[b], ones, zero), 3);
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                              wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                lanes8_add(FM, dk[k], wasm_i32x4_sub(RDOT(a0[b], w0[r], zero), m0[b]),
                           wasm_i32x4_sub(RDOT(a1[b], w1[r], zero), m1[b]), &lo[k], &hi[k], ad[k]);
            }
    }
    lanes8_store(FM, RW, NB, lo, hi, ad, out, ldo);
}

INLINE void tile_q4_0_r8_rdot(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                              const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4,
                              const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4], t[4] = { zero, zero, zero, zero };
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_v128_and(q, m4), w1[r] = wasm_u8x16_shr(q, 4);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            const v128_t a0 = ld(p), a1 = ld(p + 16);
            for (int r = 0; r < RW; r++) t[r * NB + b] = RDOT(a0, w0[r], RDOT(a1, w1[r], zero));
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        acc = fmav(FM, wasm_f32x4_convert_i32x4(r8_block_sums(NB, t, ay4 + 4 * (size_t)ib)), dv, acc);
    }
    r8_store(RW, NB, acc, out, ldo);
}
#endif

/* Q4_K: the 12 scale bytes -> 8 six-bit scales and 8 mins (ggml's utmp shuffle) */
static inline void q4k_unpack(const uint8_t *p, uint8_t sc[8], uint8_t mn[8]) {
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

/* the integer 4-product lanes of 16 weights x 16 activations: relaxed dot (weights unsigned, < 128) or SIMD128 */
INLINE v128_t qdot(const int IM, v128_t wq, v128_t wu, v128_t wv, v128_t y) {
    if (IM) return RDOT(y, wq, wasm_i32x4_splat(0));
    v128_t yu, yv;
    split4(y, &yu, &yv);
    return dot4(wu, wv, yu, yv);
}

/* Q4_K x Q8_K, one weight row, NB activation rows (scalar vdot_q4_K): lanes 0..3 take the first 16 values of each
 * 32-value sub-block, lanes 4..7 the second 16, times the sub-block's scale; per super-block acc = fma(dy*d, lanes,
 * acc); the mins: accm[p] = fma(-dy*dmin, mn[2p]*(pair of bsums) + mn[2p+1]*(next pair), accm[p]); result
 * hsum8(acc) + ((accm0 + accm2) + (accm1 + accm3)). R8 (Q4_K_R8, llama.cpp's repacked kernels): one float per
 * output for the scales and one for the mins, result acc - accm; activation rows in full groups of 4 (NB == 4:
 * llama.cpp's gemm) fuse every 64-value pair of sub-blocks, acc = fma((float)(sc_2p*dot_2p + sc_2p+1*dot_2p+1),
 * dw*dy, acc) and likewise the mins, the others (gemv) once per super-block (scalar fmaf: a few per 256 values). */
INLINE void tile_q4_K(const int NB, const int R8, const int IM, const int FM, int n, const uint8_t *w, const uint8_t *a,
                      size_t as, float *out, size_t ldo) {
    const int per_pair = R8 && NB == 4; /* then the 4 activation rows' accumulators are the lanes of accv, accmv */
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    v128_t accv = wasm_f32x4_splat(0.0f), accmv = accv;
    v128_t lo[4], hi[4], am[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = am[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q4_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        q4k_unpack(wb + offsetof(block_q4_K, scales), sc, mn);
        const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn));
        const v128_t mlo = wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3); /* one min per bsums entry */
        const v128_t mhi = wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q4_K, dmin)));
        const uint8_t *q4 = wb + offsetof(block_q4_K, qs);
        v128_t slo[4], shi[4], prod[4];
        float dy[4];
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            slo[b] = shi[b] = wasm_i32x4_splat(0);
            dy[b] = ldf(ab);
            /* lane p: mn_2p*S_2p + mn_2p+1*S_2p+1, S_j = bsums 2j + 2j+1 */
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mlo);
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mhi);
            prod[b] = wasm_i32x4_add(wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6), wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7));
        }
        /* per_pair: lane b of pmv[j] = row b's mins product of pair j; of dwy, dmy: dw * dy[b], dminw * dy[b] */
        v128_t pmv[4], dwy = wasm_f32x4_splat(0.0f), dmy = dwy;
        if (per_pair) {
            const v128_t t01 = wasm_i32x4_shuffle(prod[0], prod[1], 0, 4, 1, 5), t23 = wasm_i32x4_shuffle(prod[2], prod[3], 0, 4, 1, 5);
            const v128_t u01 = wasm_i32x4_shuffle(prod[0], prod[1], 2, 6, 3, 7), u23 = wasm_i32x4_shuffle(prod[2], prod[3], 2, 6, 3, 7);
            pmv[0] = wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), pmv[1] = wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7);
            pmv[2] = wasm_i32x4_shuffle(u01, u23, 0, 1, 4, 5), pmv[3] = wasm_i32x4_shuffle(u01, u23, 2, 3, 6, 7);
            const v128_t dyv = ld(dy);
            dwy = wasm_f32x4_mul(wasm_f32x4_splat(dw), dyv), dmy = wasm_f32x4_mul(wasm_f32x4_splat(dminw), dyv);
        }
        for (int j = 0; j < QK_K / 64; j++) {
            const v128_t qa = ld(q4 + 32 * j), qb = ld(q4 + 32 * j + 16);
            v128_t q[4] = { wasm_v128_and(qa, m4), wasm_v128_and(qb, m4), wasm_u8x16_shr(qa, 4), wasm_u8x16_shr(qb, 4) };
            v128_t qu[4], qv[4];
            if (!IM)
                for (int m = 0; m < 4; m++) split4(q[m], &qu[m], &qv[m]);
            const v128_t s0 = wasm_i32x4_splat(sc[2 * j]), s1 = wasm_i32x4_splat(sc[2 * j + 1]);
            v128_t tp[4]; /* per_pair: row b's lanes of pair j */
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                const v128_t tlo = wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[0], qu[0], qv[0], ld(q8)), s0),
                                                  wasm_i32x4_mul(qdot(IM, q[2], qu[2], qv[2], ld(q8 + 32)), s1));
                const v128_t thi = wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[1], qu[1], qv[1], ld(q8 + 16)), s0),
                                                  wasm_i32x4_mul(qdot(IM, q[3], qu[3], qv[3], ld(q8 + 48)), s1));
                if (per_pair) tp[b] = wasm_i32x4_add(tlo, thi);
                else slo[b] = wasm_i32x4_add(slo[b], tlo), shi[b] = wasm_i32x4_add(shi[b], thi);
            }
            if (per_pair) { /* the 4 rows' sums in the lanes of one vector, then one fma each for scales and mins */
                const v128_t t01 = wasm_i32x4_add(wasm_i32x4_shuffle(tp[0], tp[1], 0, 4, 1, 5), wasm_i32x4_shuffle(tp[0], tp[1], 2, 6, 3, 7));
                const v128_t t23 = wasm_i32x4_add(wasm_i32x4_shuffle(tp[2], tp[3], 0, 4, 1, 5), wasm_i32x4_shuffle(tp[2], tp[3], 2, 6, 3, 7));
                const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7));
                accv = fmav(FM, wasm_f32x4_convert_i32x4(sum), dwy, accv);
                accmv = fmav(FM, wasm_f32x4_convert_i32x4(pmv[j]), dmy, accmv);
            }
        }
        for (int b = 0; b < NB; b++) {
            if (per_pair) continue;
            if (R8) { /* gemv: whole-block sums, one fma each */
                acc[b] = plm_fmaf((float)hsum_i32(wasm_i32x4_add(slo[b], shi[b])), dw * dy[b], acc[b]);
                accm[b] = plm_fmaf((float)hsum_i32(prod[b]), dminw * dy[b], accm[b]);
                continue;
            }
            const float d = dy[b] * dw, dmin = -dy[b] * dminw;
            am[b] = upd(FM, dmin, prod[b], am[b]);
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    if (per_pair) wasm_v128_store(acc, accv), wasm_v128_store(accm, accmv);
    for (int b = 0; b < NB; b++) {
        const v128_t t = wasm_f32x4_add(am[b], wasm_i32x4_shuffle(am[b], am[b], 2, 3, 0, 1));
        out[(size_t)b * ldo] = R8 ? acc[b] - accm[b]
                                  : hsum8(lo[b], hi[b]) + (wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1));
    }
}

/* Shift-only SIMD128 integer forms (no shuffles, activations split once per tile): 16 bytes read as eight u16
 * lanes give, per lane k, the 4-bit quants of elements 2k and 2k+1 (low nibbles of bytes 2k, 2k+1) and of the
 * high nibbles likewise; pl_act splits 16 activation bytes into their even and odd elements. dot_i16x8 of the even
 * pair and of the odd pair, added, is lane k = products 4k..4k+3: the contract's lane for those 16 values, so
 * these forms serve the lane-exact kernels as well as the whole-sum ones. */
INLINE void nib16(v128_t q, v128_t *le, v128_t *lo, v128_t *he, v128_t *ho) {
    const v128_t n4 = wasm_i16x8_splat(0x0f);
    *le = wasm_v128_and(q, n4), *lo = wasm_v128_and(wasm_u16x8_shr(q, 8), n4);
    *he = wasm_v128_and(wasm_u16x8_shr(q, 4), n4), *ho = wasm_u16x8_shr(q, 12);
}

/* 32 activation bytes at p as the even/odd i16 halves of elements 0..15 (y[0], y[1]) and 16..31 (y[2], y[3]) */
INLINE void act32(const uint8_t *p, v128_t y[4]) { pl_act(ld(p), &y[0], &y[1]), pl_act(ld(p + 16), &y[2], &y[3]); }

/* lanes of 32 values: weights w[0..3] (as act32's layout) against activations y[0..3] */
INLINE v128_t dot32(const v128_t w[4], const v128_t y[4]) {
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])));
}

/* Q4_K_R8 on SIMD128 (scalar's Q4_K_R8 order, bit for bit): RW weight rows x NB activation rows per pass (MM_WIDE),
 * the shift-only forms for the integer sums, which the R8 order needs only as whole sums per 64 (gemm: NB == 4)
 * or 256 values (gemv). Weight nibbles unpacked once per activation row group (RW >= NB) or activations split
 * once per weight row (RW < NB), whichever is fewer. */
INLINE void tile_q4k_r8w(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                         const uint8_t *a, size_t as, float *out, size_t ldo) {
    const int per_pair = NB == 4, KN = RW * NB;
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    v128_t accv = wasm_f32x4_splat(0.0f), accmv = accv;
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * sizeof(block_q4_K), aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[4][8], mn[4][8];
        float dw[4], dm[4], dy[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            q4k_unpack(wb + offsetof(block_q4_K, scales), sc[r], mn[r]);
            dw[r] = h2f(ld16(wb)), dm[r] = h2f(ld16(wb + offsetof(block_q4_K, dmin)));
        }
        v128_t prod[4]; /* output k: lane p = the mins product of 64-value pair p */
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            dy[b] = ldf(ab);
            const v128_t b0 = ld(ab + offsetof(block_q8_K, bsums)), b1 = ld(ab + offsetof(block_q8_K, bsums) + 16);
            for (int r = 0; r < RW; r++) {
                const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn[r]));
                const v128_t e0 = wasm_i32x4_dot_i16x8(b0, wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3));
                const v128_t e1 = wasm_i32x4_dot_i16x8(b1, wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7));
                prod[r * NB + b] = wasm_i32x4_add(wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6), wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7));
            }
        }
        v128_t s[4], pmv[4], dwy = wasm_f32x4_splat(0.0f), dmy = dwy;
        for (int k = 0; k < 4; k++) s[k] = wasm_i32x4_splat(0);
        if (per_pair) { /* RW == 1: lane b of pmv[p] = row b's mins product of pair p */
            const v128_t t01 = wasm_i32x4_shuffle(prod[0], prod[1], 0, 4, 1, 5), t23 = wasm_i32x4_shuffle(prod[2], prod[3], 0, 4, 1, 5);
            const v128_t u01 = wasm_i32x4_shuffle(prod[0], prod[1], 2, 6, 3, 7), u23 = wasm_i32x4_shuffle(prod[2], prod[3], 2, 6, 3, 7);
            pmv[0] = wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), pmv[1] = wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7);
            pmv[2] = wasm_i32x4_shuffle(u01, u23, 0, 1, 4, 5), pmv[3] = wasm_i32x4_shuffle(u01, u23, 2, 3, 6, 7);
            const v128_t dyv = ld(dy);
            dwy = wasm_f32x4_mul(wasm_f32x4_splat(dw[0]), dyv), dmy = wasm_f32x4_mul(wasm_f32x4_splat(dm[0]), dyv);
        }
        for (int j = 0; j < QK_K / 64; j++) {
            v128_t P[4];
            /* the weight row's two sub-blocks 2j (low nibbles) and 2j + 1 (high) in act32's layout */
#define Q4K_W(r, lo, hi)                                                                                             \
    do {                                                                                                             \
        const uint8_t *q4 = w + (size_t)(r) * ws + woff + offsetof(block_q4_K, qs) + 32 * j;                         \
        nib16(ld(q4), &lo[0], &lo[1], &hi[0], &hi[1]);                                                               \
        nib16(ld(q4 + 16), &lo[2], &lo[3], &hi[2], &hi[3]);                                                          \
    } while (0)
#define Q4K_DOT(r, b)                                                                                                \
    P[(r) * NB + (b)] = wasm_i32x4_add(wasm_i32x4_mul(dot32(wl, yl), wasm_i32x4_splat(sc[r][2 * j])),                \
                                       wasm_i32x4_mul(dot32(wh, yh), wasm_i32x4_splat(sc[r][2 * j + 1])))
            if (RW >= NB) {
                for (int b = 0; b < NB; b++) {
                    v128_t yl[4], yh[4];
                    const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                    act32(q8, yl), act32(q8 + 32, yh);
                    for (int r = 0; r < RW; r++) {
                        v128_t wl[4], wh[4];
                        Q4K_W(r, wl, wh);
                        Q4K_DOT(r, b);
                    }
                }
            } else {
                for (int r = 0; r < RW; r++) {
                    v128_t wl[4], wh[4];
                    Q4K_W(r, wl, wh);
                    for (int b = 0; b < NB; b++) {
                        v128_t yl[4], yh[4];
                        const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                        act32(q8, yl), act32(q8 + 32, yh);
                        Q4K_DOT(r, b);
                    }
                }
            }
#undef Q4K_W
#undef Q4K_DOT
            if (per_pair) { /* the 4 rows' pair sums in the lanes of one vector, one fma each for scales and mins */
                accv = fmav(FM, wasm_f32x4_convert_i32x4(r8_block_sums(4, P, NULL)), dwy, accv);
                accmv = fmav(FM, wasm_f32x4_convert_i32x4(pmv[j]), dmy, accmv);
            } else {
                for (int k = 0; k < KN; k++) s[k] = wasm_i32x4_add(s[k], P[k]);
            }
        }
        if (!per_pair) /* gemv: whole-block sums, one fma each */
            for (int r = 0; r < RW; r++)
                for (int b = 0; b < NB; b++) {
                    const int k = r * NB + b;
                    acc[k] = plm_fmaf((float)hsum_i32(s[k]), dw[r] * dy[b], acc[k]);
                    accm[k] = plm_fmaf((float)hsum_i32(prod[k]), dm[r] * dy[b], accm[k]);
                }
    }
    if (per_pair) wasm_v128_store(acc, accv), wasm_v128_store(accm, accmv);
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = acc[r * NB + b] - accm[r * NB + b];
}

#ifdef PLM_BACKEND_WASM_RELAXED /* the relaxed dot's form; SIMD128 takes tile_klanes */
/* Q5_K x Q8_K, one weight row, NB activation rows (scalar vdot_q5_K): tile_q4_K's lanes (non-R8) on the 5-bit
 * quants (nibble | bit 2j or 2j+1 of qh << 4: below 128, so the relaxed dot takes them as its 7-bit operand); the
 * mins are one integer per super-block, summs = fma(-dy*dmin, m, summs); result hsum8(lanes) + summs. */
INLINE void tile_q5_K(const int NB, const int IM, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), one = wasm_i8x16_splat(1);
    float summs[4] = { 0, 0, 0, 0 };
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q5_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        q4k_unpack(wb + offsetof(block_q5_K, scales), sc, mn);
        const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn));
        const v128_t mlo = wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3);
        const v128_t mhi = wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q5_K, dmin)));
        const uint8_t *q5 = wb + offsetof(block_q5_K, qs);
        const v128_t h0 = ld(wb + offsetof(block_q5_K, qh)), h1 = ld(wb + offsetof(block_q5_K, qh) + 16);
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = wasm_i32x4_splat(0);
        for (int j = 0; j < QK_K / 64; j++) {
            const v128_t qa = ld(q5 + 32 * j), qb = ld(q5 + 32 * j + 16);
            const v128_t b0a = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h0, 2 * j), one), 4);
            const v128_t b0b = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h1, 2 * j), one), 4);
            const v128_t b1a = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h0, 2 * j + 1), one), 4);
            const v128_t b1b = wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h1, 2 * j + 1), one), 4);
            v128_t q[4] = { wasm_v128_or(wasm_v128_and(qa, m4), b0a), wasm_v128_or(wasm_v128_and(qb, m4), b0b),
                            wasm_v128_or(wasm_u8x16_shr(qa, 4), b1a), wasm_v128_or(wasm_u8x16_shr(qb, 4), b1b) };
            v128_t qu[4], qv[4];
            if (!IM)
                for (int m = 0; m < 4; m++) split4(q[m], &qu[m], &qv[m]);
            const v128_t s0 = wasm_i32x4_splat(sc[2 * j]), s1 = wasm_i32x4_splat(sc[2 * j + 1]);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                slo[b] = wasm_i32x4_add(slo[b], wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[0], qu[0], qv[0], ld(q8)), s0),
                                                               wasm_i32x4_mul(qdot(IM, q[2], qu[2], qv[2], ld(q8 + 32)), s1)));
                shi[b] = wasm_i32x4_add(shi[b], wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[1], qu[1], qv[1], ld(q8 + 16)), s0),
                                                               wasm_i32x4_mul(qdot(IM, q[3], qu[3], qv[3], ld(q8 + 48)), s1)));
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const float dy = ldf(ab);
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mlo);
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mhi);
            summs[b] = plm_fmaf(-dy * dminw, (float)hsum_i32(wasm_i32x4_add(e0, e1)), summs[b]);
            const float d = dy * dw;
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]) + summs[b];
}
#endif

/* Q5_0, Q4_1, Q5_1 (scalar vdot_q5_0, q_1): RW weight rows x NB activation rows per pass (MM_WIDE), the shift-only
 * forms for the contract's eight lanes (lanes 0..3: elements 0..15, 4..7: 16..31), each block's update fused as
 * in lanes8_add: FAST 1 (the fast SIMD128 table) the double rounding without the midpoint fix-up, as Q8_0's, 2 by
 * RMADD (relaxed, fused where the engine fuses), 0 the exact emulation. The fifth
 * bit of element 2k (lane k of the even vector) is bit 2k of qh: picked by a per-lane mask, no shuffles. Q4_1 /
 * Q5_1 also fuse summs = fma(m_w, s_a, summs) per block; result hsum8(lanes) + summs. */
enum { T32_Q5_0, T32_Q4_1, T32_Q5_1 };
INLINE void tile_q32(const int RW, const int NB, const int T, const int FAST, int n, const uint8_t *w, size_t ws,
                     const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t wbs = T == T32_Q5_0 ? sizeof(block_q5_0) : T == T32_Q4_1 ? sizeof(block_q4_1) : sizeof(block_q5_1);
    const size_t abs_ = T == T32_Q5_0 ? sizeof(block_q8_0) : sizeof(block_q8_1);
    const size_t qso = T == T32_Q5_0 ? offsetof(block_q5_0, qs) : T == T32_Q4_1 ? offsetof(block_q4_1, qs) : offsetof(block_q5_1, qs);
    const size_t qho = T == T32_Q5_0 ? offsetof(block_q5_0, qh) : offsetof(block_q5_1, qh);
    const size_t aqs = T == T32_Q5_0 ? 2 : 4;
    const v128_t me = wasm_u16x8_make(1, 4, 16, 64, 256, 1024, 4096, 16384);
    const v128_t mo = wasm_u16x8_make(2, 8, 32, 128, 512, 2048, 8192, 32768);
    const v128_t s16 = wasm_i16x8_splat(16), z = wasm_i16x8_splat(0);
    v128_t lo[4], hi[4], ad[4][4];
    float summs[4] = { 0, 0, 0, 0 };
    lanes8_zero(lo, hi, ad);
    for (int i = 0; i < n / 32; i++) {
        v128_t wv[4][4], y[4][4];
        float dw[4], mw[4], da[4], sa[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + (size_t)i * wbs;
            v128_t *q = wv[r];
            nib16(ld(wb + qso), &q[0], &q[1], &q[2], &q[3]);
            if (T != T32_Q4_1) {
                uint32_t qh;
                memcpy(&qh, wb + qho, 4);
                const v128_t L = wasm_i16x8_splat((int16_t)(qh & 0xffff)), H = wasm_i16x8_splat((int16_t)(qh >> 16));
                const v128_t c0 = wasm_i16x8_eq(wasm_v128_and(L, me), z), c1 = wasm_i16x8_eq(wasm_v128_and(L, mo), z);
                const v128_t c2 = wasm_i16x8_eq(wasm_v128_and(H, me), z), c3 = wasm_i16x8_eq(wasm_v128_and(H, mo), z);
                if (T == T32_Q5_0) { /* q - 16: minus 16 where the bit is clear */
                    q[0] = wasm_i16x8_sub(q[0], wasm_v128_and(c0, s16)), q[1] = wasm_i16x8_sub(q[1], wasm_v128_and(c1, s16));
                    q[2] = wasm_i16x8_sub(q[2], wasm_v128_and(c2, s16)), q[3] = wasm_i16x8_sub(q[3], wasm_v128_and(c3, s16));
                } else {
                    q[0] = wasm_v128_or(q[0], wasm_v128_andnot(s16, c0)), q[1] = wasm_v128_or(q[1], wasm_v128_andnot(s16, c1));
                    q[2] = wasm_v128_or(q[2], wasm_v128_andnot(s16, c2)), q[3] = wasm_v128_or(q[3], wasm_v128_andnot(s16, c3));
                }
            }
            dw[r] = h2f(ld16(wb));
            mw[r] = T == T32_Q5_0 ? 0.0f : h2f(ld16(wb + 2));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * abs_;
            act32(ab + aqs, y[b]);
            da[b] = h2f(ld16(ab));
            sa[b] = T == T32_Q5_0 ? 0.0f : h2f(ld16(ab + 2));
        }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const v128_t s0 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[r][0], y[b][0]), wasm_i32x4_dot_i16x8(wv[r][1], y[b][1]));
                const v128_t s1 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[r][2], y[b][2]), wasm_i32x4_dot_i16x8(wv[r][3], y[b][3]));
                if (T != T32_Q5_0) summs[k] = plm_fmaf(mw[r], sa[b], summs[k]);
                if (FAST == 2) lanes8_add(1, dw[r] * da[b], s0, s1, &lo[k], &hi[k], ad[k]);
                else fma8_any(!FAST, dw[r] * da[b], s0, s1, ad[k]);
            }
    }
    lanes8_store(FAST == 2, RW, NB, lo, hi, ad, out, ldo);
    if (T != T32_Q5_0)
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] += summs[r * NB + b];
}

/* IQ4_NL x Q8_0 (scalar vdot_iq4_nl): even and odd blocks in two sets of lanes, added lane by lane before hsum8, an
 * odd last block one fma of its whole dot after. R8 (IQ4_NL_R8): one fma of the whole block dot per block. */
INLINE void tile_iq4_nl(const int NB, const int R8, const int FM, int n, const uint8_t *w, const uint8_t *a,
                        size_t as, float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), values = ld(plm_iq4nl_values);
    v128_t lo[2][4], hi[2][4];
    float acc[4] = { 0, 0, 0, 0 };
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++) lo[h][b] = hi[h][b] = wasm_f32x4_splat(0.0f);
    const int nblk = n / 32, npair = R8 ? 0 : nblk & ~1;
    for (int i = 0; i < nblk; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_iq4_nl);
        const v128_t q = ld(wb + 2);
        v128_t w0u, w0v, w1u, w1v;
        split4(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &w0u, &w0v);
        split4(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &w1u, &w1v);
        const float dw = h2f(ld16(wb));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            const float da = h2f(ld16(ab));
            v128_t yu, yv;
            split4(ld(ab + 2), &yu, &yv);
            const v128_t s0 = dot4(w0u, w0v, yu, yv);
            split4(ld(ab + 18), &yu, &yv);
            const v128_t s1 = dot4(w1u, w1v, yu, yv);
            if (i < npair) {
                lo[i & 1][b] = upd(FM, da * dw, s0, lo[i & 1][b]);
                hi[i & 1][b] = upd(FM, da * dw, s1, hi[i & 1][b]);
            } else if (R8) {
                acc[b] = plm_fmaf((float)hsum_i32(wasm_i32x4_add(s0, s1)), dw * da, acc[b]);
            } /* else: an odd last block, added after the reduction below */
        }
    }
    for (int b = 0; b < NB; b++) {
        if (R8) { out[(size_t)b * ldo] = acc[b]; continue; }
        float s = hsum8(wasm_f32x4_add(lo[0][b], lo[1][b]), wasm_f32x4_add(hi[0][b], hi[1][b]));
        if (npair < nblk) { /* the odd last block: one fma of its whole dot on the reduced sum */
            const uint8_t *wb = w + (size_t)npair * sizeof(block_iq4_nl), *ab = a + (size_t)b * as + (size_t)npair * sizeof(block_q8_0);
            const v128_t q = ld(wb + 2);
            v128_t w0u, w0v, w1u, w1v, yu, yv;
            split4(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &w0u, &w0v);
            split4(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &w1u, &w1v);
            split4(ld(ab + 2), &yu, &yv);
            const v128_t s0 = dot4(w0u, w0v, yu, yv);
            split4(ld(ab + 18), &yu, &yv);
            s = plm_fmaf(h2f(ld16(ab)) * h2f(ld16(wb)), (float)hsum_i32(wasm_i32x4_add(s0, dot4(w1u, w1v, yu, yv))), s);
        }
        out[(size_t)b * ldo] = s;
    }
}

/* Q2_K x Q8_K (scalar vdot_q2_K): per super-block, lanes first take the mins (lane L: mn_2L*bs_2L + mn_2L+1*bs_2L+1,
 * fma with -dy*dmin), then the scaled quants (per 32 values, lanes 0..3 the first 16 times scale 8j+2k, lanes 4..7
 * the second 16 times 8j+2k+1; fma with dy*d); hsum8. R8 (Q2_K_R8): whole sums, acc and accm fused per super-block,
 * or per 128 values for full groups of 4 activation rows (NB == 4: llama.cpp's gemm); result acc - accm. */
INLINE void tile_q2_K(const int NB, const int R8, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m3 = wasm_i8x16_splat(3);
    v128_t lo[4], hi[4];
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q2_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const uint8_t *sc = wb + offsetof(block_q2_K, scales);
        const v128_t mn8 = wasm_u8x16_shr(ld(sc), 4);
        const v128_t mn0 = wasm_u16x8_extend_low_u8x16(mn8), mn1 = wasm_u16x8_extend_high_u8x16(mn8);
        v128_t slo[2][4], shi[2][4];
        for (int j = 0; j < 2; j++)
            for (int b = 0; b < NB; b++) slo[j][b] = shi[j][b] = wasm_i32x4_splat(0);
        for (int j = 0; j < 2; j++) {
            const v128_t qa = ld(wb + offsetof(block_q2_K, qs) + 32 * j), qb = ld(wb + offsetof(block_q2_K, qs) + 32 * j + 16);
            for (int k = 0; k < 4; k++) {
                v128_t w0u, w0v, w1u, w1v;
                split4(wasm_v128_and(wasm_u8x16_shr(qa, 2 * k), m3), &w0u, &w0v);
                split4(wasm_v128_and(wasm_u8x16_shr(qb, 2 * k), m3), &w1u, &w1v);
                const v128_t s0 = wasm_i32x4_splat(sc[8 * j + 2 * k] & 0xF), s1 = wasm_i32x4_splat(sc[8 * j + 2 * k + 1] & 0xF);
                for (int b = 0; b < NB; b++) {
                    const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 128 * j + 32 * k;
                    v128_t yu, yv;
                    split4(ld(q8), &yu, &yv);
                    slo[j][b] = wasm_i32x4_add(slo[j][b], wasm_i32x4_mul(dot4(w0u, w0v, yu, yv), s0));
                    split4(ld(q8 + 16), &yu, &yv);
                    shi[j][b] = wasm_i32x4_add(shi[j][b], wasm_i32x4_mul(dot4(w1u, w1v, yu, yv), s1));
                }
            }
        }
        const float dw = h2f(ld16(wb + offsetof(block_q2_K, d))), dminw = h2f(ld16(wb + offsetof(block_q2_K, dmin)));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const float dy = ldf(ab);
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mn0);      /* lanes 0..3 */
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mn1); /* lanes 4..7 */
            if (R8) {
                const int s0 = hsum_i32(wasm_i32x4_add(slo[0][b], shi[0][b])), s1 = hsum_i32(wasm_i32x4_add(slo[1][b], shi[1][b]));
                const int mm0 = hsum_i32(e0), mm1 = hsum_i32(e1);
                const float d = dw * dy, dm = dminw * dy;
                if (NB == 4) {
                    acc[b] = plm_fmaf((float)s0, d, acc[b]), accm[b] = plm_fmaf((float)mm0, dm, accm[b]);
                    acc[b] = plm_fmaf((float)s1, d, acc[b]), accm[b] = plm_fmaf((float)mm1, dm, accm[b]);
                } else {
                    acc[b] = plm_fmaf((float)(s0 + s1), d, acc[b]), accm[b] = plm_fmaf((float)(mm0 + mm1), dm, accm[b]);
                }
            } else {
                lo[b] = upd(FM, -dy * dminw, e0, lo[b]);
                hi[b] = upd(FM, -dy * dminw, e1, hi[b]);
                lo[b] = upd(FM, dy * dw, wasm_i32x4_add(slo[0][b], slo[1][b]), lo[b]);
                hi[b] = upd(FM, dy * dw, wasm_i32x4_add(shi[0][b], shi[1][b]), hi[b]);
            }
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = R8 ? acc[b] - accm[b] : hsum8(lo[b], hi[b]);
}

/* Q2_K_R8 on SIMD128 (scalar's Q2_K_R8 order, bit for bit): RW weight rows x NB activation rows (MM_WIDE), the
 * 2-bit quants of a 16-byte run read as u16 lanes (even elements: bits 2k of the low byte, odd: of the high), so
 * the integer sums need no shuffles; whole sums per 128 values, fused as tile_q2_K's R8. */
INLINE void tile_q2k_r8w(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                         float *out, size_t ldo) {
    const v128_t m3 = wasm_i16x8_splat(3);
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * sizeof(block_q2_K), aoff = (size_t)i * sizeof(block_q8_K);
        const uint8_t *sc[4], *qs[4], *q8[4];
        float dw[4], dm[4], dy[4];
        int mm[4][2];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            sc[r] = wb + offsetof(block_q2_K, scales), qs[r] = wb + offsetof(block_q2_K, qs);
            dw[r] = h2f(ld16(wb + offsetof(block_q2_K, d))), dm[r] = h2f(ld16(wb + offsetof(block_q2_K, dmin)));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            dy[b] = ldf(ab), q8[b] = ab + offsetof(block_q8_K, qs);
            const v128_t bs0 = ld(ab + offsetof(block_q8_K, bsums)), bs1 = ld(ab + offsetof(block_q8_K, bsums) + 16);
            for (int r = 0; r < RW; r++) {
                const v128_t mn8 = wasm_u8x16_shr(ld(sc[r]), 4);
                mm[r * NB + b][0] = hsum_i32(wasm_i32x4_dot_i16x8(bs0, wasm_u16x8_extend_low_u8x16(mn8)));
                mm[r * NB + b][1] = hsum_i32(wasm_i32x4_dot_i16x8(bs1, wasm_u16x8_extend_high_u8x16(mn8)));
            }
        }
        v128_t s[4][2];
        for (int k = 0; k < 4; k++) s[k][0] = s[k][1] = wasm_i32x4_splat(0);
        for (int j = 0; j < 2; j++)
#pragma clang loop unroll(disable) /* code size */
            for (int k = 0; k < 4; k++)
                for (int h = 0; h < 2; h++) { /* values 128j + 32k + 16h .. +15: bits 2k of qs[32j + 16h ..], scale 8j + 2k + h */
                    v128_t ye[4], yo[4];
                    for (int b = 0; b < NB; b++) pl_act(ld(q8[b] + 128 * j + 32 * k + 16 * h), &ye[b], &yo[b]);
                    for (int r = 0; r < RW; r++) {
                        const v128_t q = ld(qs[r] + 32 * j + 16 * h);
                        const v128_t we = wasm_v128_and(wasm_u16x8_shr(q, 2 * k), m3), wo = wasm_v128_and(wasm_u16x8_shr(q, 8 + 2 * k), m3);
                        const v128_t scv = wasm_i32x4_splat(sc[r][8 * j + 2 * k + h] & 0xF);
                        for (int b = 0; b < NB; b++)
                            s[r * NB + b][j] = wasm_i32x4_add(s[r * NB + b][j], wasm_i32x4_mul(wasm_i32x4_add(wasm_i32x4_dot_i16x8(we, ye[b]), wasm_i32x4_dot_i16x8(wo, yo[b])), scv));
                    }
                }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const int s0 = hsum_i32(s[k][0]), s1 = hsum_i32(s[k][1]);
                const float d = dw[r] * dy[b], dmn = dm[r] * dy[b];
                if (NB == 4) {
                    acc[k] = plm_fmaf((float)s0, d, acc[k]), accm[k] = plm_fmaf((float)mm[k][0], dmn, accm[k]);
                    acc[k] = plm_fmaf((float)s1, d, acc[k]), accm[k] = plm_fmaf((float)mm[k][1], dmn, accm[k]);
                } else {
                    acc[k] = plm_fmaf((float)(s0 + s1), d, acc[k]), accm[k] = plm_fmaf((float)(mm[k][0] + mm[k][1]), dmn, accm[k]);
                }
            }
    }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = acc[r * NB + b] - accm[r * NB + b];
}

#ifdef PLM_BACKEND_WASM_RELAXED /* the relaxed dot's form; SIMD128 takes tile_klanes */
/* Q6_K x Q8_K, one weight row, NB activation rows (scalar vdot_q6_K, ggml AVX2's bsums form): with the unsigned
 * 6-bit quants (0..63; with IM the relaxed dot's 7-bit operand), of each 32 values lanes 0..3 take the first 16
 * times its scale, lanes 4..7 the second 16 times the next scale; then lane L -= 32*(sc_2L*bsum_2L +
 * sc_2L+1*bsum_2L+1); per super-block acc = fma(dy*d, lanes, acc); result hsum8(acc). */
INLINE void tile_q6_K(const int NB, const int IM, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), m3 = wasm_i8x16_splat(0x03), zero = wasm_i32x4_splat(0);
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q6_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const int8_t *sc = (const int8_t *)(wb + offsetof(block_q6_K, scales));
        const float dw = h2f(ld16(wb + offsetof(block_q6_K, d)));
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = zero;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = wb + offsetof(block_q6_K, ql) + 64 * half;
            const uint8_t *qh = wb + offsetof(block_q6_K, qh) + 32 * half;
            const v128_t h0 = ld(qh), h1 = ld(qh + 16);
            const v128_t l0 = ld(ql), l1 = ld(ql + 16), l2 = ld(ql + 32), l3 = ld(ql + 48);
            v128_t q[8], qu[8], qv[8]; /* q[m]: values 128*half + 16m .. +15, scale sc[8*half + m]; even m -> lo */
            q[0] = wasm_v128_or(wasm_v128_and(l0, m4), wasm_i8x16_shl(wasm_v128_and(h0, m3), 4));
            q[1] = wasm_v128_or(wasm_v128_and(l1, m4), wasm_i8x16_shl(wasm_v128_and(h1, m3), 4));
            q[2] = wasm_v128_or(wasm_v128_and(l2, m4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h0, 2), m3), 4));
            q[3] = wasm_v128_or(wasm_v128_and(l3, m4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h1, 2), m3), 4));
            q[4] = wasm_v128_or(wasm_u8x16_shr(l0, 4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h0, 4), m3), 4));
            q[5] = wasm_v128_or(wasm_u8x16_shr(l1, 4), wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h1, 4), m3), 4));
            q[6] = wasm_v128_or(wasm_u8x16_shr(l2, 4), wasm_i8x16_shl(wasm_u8x16_shr(h0, 6), 4));
            q[7] = wasm_v128_or(wasm_u8x16_shr(l3, 4), wasm_i8x16_shl(wasm_u8x16_shr(h1, 6), 4));
            if (!IM)
                for (int m = 0; m < 8; m++) split4(q[m], &qu[m], &qv[m]);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 128 * half;
                for (int m = 0; m < 8; m++) {
                    const v128_t y = ld(q8 + 16 * m);
                    const v128_t t = wasm_i32x4_mul(qdot(IM, q[m], qu[m], qv[m], y), wasm_i32x4_splat(sc[8 * half + m]));
                    if (m & 1) shi[b] = wasm_i32x4_add(shi[b], t);
                    else slo[b] = wasm_i32x4_add(slo[b], t);
                }
            }
        }
        const v128_t s8v = ld(sc);
        const v128_t sa = wasm_i16x8_extend_low_i8x16(s8v), sb = wasm_i16x8_extend_high_i8x16(s8v);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const v128_t clo = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), sa);
            const v128_t chi = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), sb);
            slo[b] = wasm_i32x4_sub(slo[b], wasm_i32x4_shl(clo, 5));
            shi[b] = wasm_i32x4_sub(shi[b], wasm_i32x4_shl(chi, 5));
            const float d = ldf(ab) * dw;
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}
#endif

/* Q6_K, Q5_K, Q3_K, IQ4_XS on SIMD128 (scalar's eight lanes per super-block, bit for bit): RW weight rows x NB
 * activation rows per pass (MM_WIDE). In all four, the 16 values of group g (values 16g..16g+15 of a super-block)
 * have one scale and feed lanes 0..3 for even g, 4..7 for odd g; kq_vals unpacks a group's 16 quants to bytes,
 * pl_act splits them and the activations (once per tile, not per weight row) into even and odd i16 halves, and
 * dot_i16x8 of each pair gives the contract's 4-product lanes. Per super-block the lanes are fused with dy*d as
 * before (upd), with Q6_K's -32 through the bsums and Q5_K's mins as their kernels above. */
enum { TK_Q6_K, TK_Q5_K, TK_Q3_K, TK_IQ4_XS };

INLINE v128_t kq_vals(const int T, const uint8_t *wb, const int g) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), m3 = wasm_i8x16_splat(3), one = wasm_i8x16_splat(1);
    if (T == TK_Q6_K) { /* half g/8, m = g%8: ql run m%4 (low nibbles m < 4), qh run m%2 shifted by 2*(m/2) */
        const int half = g / 8, m = g % 8;
        const v128_t l = ld(wb + offsetof(block_q6_K, ql) + 64 * half + 16 * (m % 4));
        const v128_t h = ld(wb + offsetof(block_q6_K, qh) + 32 * half + 16 * (m % 2));
        const v128_t lq = m < 4 ? wasm_v128_and(l, m4) : wasm_u8x16_shr(l, 4);
        return wasm_v128_or(lq, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 2 * (m / 2)), m3), 4));
    }
    if (T == TK_Q5_K) { /* chunk j = g/4 of 64: c = g%4 picks the qs run (c%2), nibble (c/2), qh run and bit 2j + c/2 */
        const int j = g / 4, c = g % 4;
        const v128_t q = ld(wb + offsetof(block_q5_K, qs) + 32 * j + 16 * (c % 2));
        const v128_t h = ld(wb + offsetof(block_q5_K, qh) + 16 * (c % 2));
        const v128_t lq = c < 2 ? wasm_v128_and(q, m4) : wasm_u8x16_shr(q, 4);
        return wasm_v128_or(lq, wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(h, 2 * j + c / 2), one), 4));
    }
    if (T == TK_Q3_K) { /* j = g/8, k = (g%8)/2, h = g%2: bits 2k of qs run 2j + h, minus 4 where hmask bit 4j+k is clear */
        const int j = g / 8, k = (g % 8) / 2, h = g % 2;
        const v128_t q = ld(wb + offsetof(block_q3_K, qs) + 32 * j + 16 * h);
        const v128_t hm = ld(wb + offsetof(block_q3_K, hmask) + 16 * h);
        return wasm_i8x16_sub(wasm_i8x16_add(wasm_v128_and(wasm_u8x16_shr(q, 2 * k), m3),
                                             wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hm, 4 * j + k), one), 2)),
                              wasm_i8x16_splat(4));
    }
    /* IQ4_XS: sub-block g/2, low nibbles' levels for even g, high for odd */
    const v128_t q = ld(wb + offsetof(block_iq4_xs, qs) + 16 * (g / 2));
    return wasm_i8x16_swizzle(ld(plm_iq4nl_values), g % 2 ? wasm_u8x16_shr(q, 4) : wasm_v128_and(q, m4));
}

INLINE void tile_klanes(const int RW, const int NB, const int T, const int FM, int n, const uint8_t *w, size_t ws,
                        const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t wbs = T == TK_Q6_K ? sizeof(block_q6_K) : T == TK_Q5_K ? sizeof(block_q5_K)
                     : T == TK_Q3_K ? sizeof(block_q3_K) : sizeof(block_iq4_xs);
    v128_t lo[4], hi[4];
    float summs[4] = { 0, 0, 0, 0 };
    for (int k = 0; k < 4; k++) lo[k] = hi[k] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * wbs, aoff = (size_t)i * sizeof(block_q8_K);
        int sc[4][16];
        uint8_t mn[4][8];
        float dw[4], dmw[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            if (T == TK_Q6_K) {
                for (int g = 0; g < 16; g++) sc[r][g] = ((const int8_t *)(wb + offsetof(block_q6_K, scales)))[g];
                dw[r] = h2f(ld16(wb + offsetof(block_q6_K, d)));
            } else if (T == TK_Q5_K) {
                uint8_t s8[8];
                q4k_unpack(wb + offsetof(block_q5_K, scales), s8, mn[r]);
                for (int g = 0; g < 16; g++) sc[r][g] = s8[g / 4 * 2 + g % 4 / 2];
                dw[r] = h2f(ld16(wb)), dmw[r] = h2f(ld16(wb + offsetof(block_q5_K, dmin)));
            } else if (T == TK_Q3_K) {
                const uint8_t *s12 = wb + offsetof(block_q3_K, scales);
                for (int t = 0; t < 16; t++)
                    sc[r][t] = ((t < 8 ? s12[t] & 0xF : s12[t - 8] >> 4) | (((s12[8 + t % 4] >> (2 * (t / 4))) & 3) << 4)) - 32;
                dw[r] = h2f(ld16(wb + offsetof(block_q3_K, d)));
            } else {
                const uint16_t sh = ld16(wb + offsetof(block_iq4_xs, scales_h));
                const uint8_t *sl = wb + offsetof(block_iq4_xs, scales_l);
                for (int g = 0; g < 16; g++) {
                    const int ib = g / 2;
                    sc[r][g] = (((sl[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4)) - 32;
                }
                dw[r] = h2f(ld16(wb));
            }
        }
        v128_t slo[4], shi[4];
        for (int k = 0; k < 4; k++) slo[k] = shi[k] = wasm_i32x4_splat(0);
#pragma clang loop unroll(disable) /* code size: 16 groups x up to 4 outputs, per tile shape and type */
        for (int g = 0; g < 16; g++) {
            v128_t ye[4], yo[4];
            for (int b = 0; b < NB; b++) pl_act(ld(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 16 * g), &ye[b], &yo[b]);
            for (int r = 0; r < RW; r++) {
                v128_t we, wo;
                pl_act(kq_vals(T, w + (size_t)r * ws + woff, g), &we, &wo);
                const v128_t scv = wasm_i32x4_splat(sc[r][g]);
                for (int b = 0; b < NB; b++) {
                    const int k = r * NB + b;
                    const v128_t t = wasm_i32x4_mul(wasm_i32x4_add(wasm_i32x4_dot_i16x8(we, ye[b]), wasm_i32x4_dot_i16x8(wo, yo[b])), scv);
                    if (g & 1) shi[k] = wasm_i32x4_add(shi[k], t);
                    else slo[k] = wasm_i32x4_add(slo[k], t);
                }
            }
        }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const uint8_t *ab = a + (size_t)b * as + aoff, *wb = w + (size_t)r * ws + woff;
                const float dy = ldf(ab);
                if (T == TK_Q6_K) {
                    const v128_t s8v = ld(wb + offsetof(block_q6_K, scales));
                    const v128_t clo = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), wasm_i16x8_extend_low_i8x16(s8v));
                    const v128_t chi = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), wasm_i16x8_extend_high_i8x16(s8v));
                    slo[k] = wasm_i32x4_sub(slo[k], wasm_i32x4_shl(clo, 5));
                    shi[k] = wasm_i32x4_sub(shi[k], wasm_i32x4_shl(chi, 5));
                }
                if (T == TK_Q5_K) {
                    const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn[r]));
                    const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3));
                    const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7));
                    summs[k] = plm_fmaf(-dy * dmw[r], (float)hsum_i32(wasm_i32x4_add(e0, e1)), summs[k]);
                }
                const float d = dy * dw[r];
                lo[k] = upd(FM, d, slo[k], lo[k]);
                hi[k] = upd(FM, d, shi[k], hi[k]);
            }
    }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) {
            const int k = r * NB + b;
            out[(size_t)b * ldo + r] = T == TK_Q5_K ? hsum8(lo[k], hi[k]) + summs[k] : hsum8(lo[k], hi[k]);
        }
}

/* F32 / F16 weights x activations of the same type, scalar's arithmetic.
 * Plain (ggml_vec_dot_f32/_f16, AVX-512 form; also dot_f32/dot_f16): m = n & ~63; four 16-lane accumulators,
 * acc_j[l] = fma(w[i+16j+l], a[i+16j+l], acc_j[l]); s = red16((acc0+acc2) + (acc1+acc3)); the tail: F32
 * s = s + w*a in float over its 16- and 8-wide pieces, then fmaf for the last (n - m) % 8; F16 in double.
 * TB (tinyBLAS, F32_TB/F16_TB with nb >= 2, n % 16 == 0): one 16-lane accumulator per output, red16.
 * F16: products of halves are exact in float, so mul + add is the fma. F32: relaxed_madd when fused (FM), else
 * the exact emulation. */
INLINE v128_t ld4(const int F16, const uint8_t *p) { return F16 ? ld_h4(p) : ld(p); }

/* fma(x, y, acc) for the float kernels */
INLINE v128_t ffma(const int F16, const int FM, v128_t x, v128_t y, v128_t acc) {
    return F16 ? wasm_f32x4_add(wasm_f32x4_mul(x, y), acc) : fmav(FM, x, y, acc);
}

/* red16 of 16 lanes in 4 vectors: t = v[0..7] + v[8..15], u = t[0..3] + t[4..7], (u0 + u2) + (u1 + u3) */
static inline float red16(v128_t v0, v128_t v1, v128_t v2, v128_t v3) {
    const v128_t u = wasm_f32x4_add(wasm_f32x4_add(v0, v2), wasm_f32x4_add(v1, v3));
    const v128_t t = wasm_f32x4_add(u, wasm_i32x4_shuffle(u, u, 2, 3, 0, 1));
    return wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1);
}

INLINE float vdot_fl(const int F16, const int FM, int n, const uint8_t *w, const uint8_t *a) {
    const size_t es = F16 ? 2 : 4;
    const int m = n & ~63;
    v128_t acc[16]; /* acc[4j + q]: lanes 4q..4q+3 of accumulator j */
    for (int k = 0; k < 16; k++) acc[k] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < m; i += 64)
        for (int k = 0; k < 16; k += 2) {
            const size_t off = es * (size_t)(i + 4 * k);
            v128_t x0, x1, y0, y1;
            if (F16) {
                h2f8(ld(w + off), &x0, &x1);
                h2f8(ld(a + off), &y0, &y1);
            } else {
                x0 = ld(w + off), x1 = ld(w + off + 16), y0 = ld(a + off), y1 = ld(a + off + 16);
            }
            acc[k] = ffma(F16, FM, x0, y0, acc[k]);
            acc[k + 1] = ffma(F16, FM, x1, y1, acc[k + 1]);
        }
    v128_t v[4];
    for (int q = 0; q < 4; q++)
        v[q] = wasm_f32x4_add(wasm_f32x4_add(acc[q], acc[8 + q]), wasm_f32x4_add(acc[4 + q], acc[12 + q]));
    float s = red16(v[0], v[1], v[2], v[3]);
    if (F16) {
        double d = s;
        for (int i = m; i < n; i++) d += (double)(h2f(ld16(w + 2 * (size_t)i)) * h2f(ld16(a + 2 * (size_t)i)));
        return (float)d;
    }
    const int c = n - m, e = m + (c & ~15) + (c % 16 >= 8 ? 8 : 0);
    int i = m;
    for (; i < e; i++) s += ldf(w + 4 * (size_t)i) * ldf(a + 4 * (size_t)i);
    for (; i < n; i++) s = plm_fmaf(ldf(w + 4 * (size_t)i), ldf(a + 4 * (size_t)i), s);
    return s;
}

INLINE void tile_tb(const int RW, const int NB, const int F16, const int FM, int n, const uint8_t *w, size_t ws,
                    const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t es = F16 ? 2 : 4;
    v128_t acc[4][4];
    for (int k = 0; k < 4; k++)
        for (int q = 0; q < 4; q++) acc[k][q] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n; i += 16)
        for (int q = 0; q < 4; q++) {
            const size_t off = es * (size_t)(i + 4 * q);
            v128_t x[4], y[4];
            for (int r = 0; r < RW; r++) x[r] = ld4(F16, w + (size_t)r * ws + off);
            for (int b = 0; b < NB; b++) y[b] = ld4(F16, a + (size_t)b * as + off);
            for (int r = 0; r < RW; r++)
                for (int b = 0; b < NB; b++) acc[r * NB + b][q] = ffma(F16, FM, x[r], y[b], acc[r * NB + b][q]);
        }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) {
            const v128_t *v = acc[r * NB + b];
            out[(size_t)b * ldo + r] = red16(v[0], v[1], v[2], v[3]);
        }
}

/* plain F32 / F16: one output at a time (64 accumulator lanes) */
INLINE void mm_fl(const int F16, const int FM, int n, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as,
                  int nb, float *out, size_t ldo) {
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++) out[(size_t)b * ldo + r] = vdot_fl(F16, FM, n, w + (size_t)r * ws, a + (size_t)b * as);
}

/* ---------------------------------------------------------------- matmul drivers */
typedef const uint8_t u8c;

/* MM_WIDE, MM_ROW: simd/tiling.h */

/* MM_WIDE with three tile shapes instead of six, for the less common types (code size: every shape is a full copy
 * of the tile): activation rows 4 at a time, a single one against 4 weight rows, any other leftover one by one. */
#define MM_LEAN(fname, tile)                                                                                         \
    static void fname(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {       \
        int b = 0;                                                                                                   \
        for (; b + 4 <= nb; b += 4)                                                                                  \
            for (int r = 0; r < nr; r++)                                                                             \
                tile(1, 4, n, w + (size_t)r * ws, ws, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo);       \
        for (; b < nb; b++) {                                                                                        \
            u8c *ab = a + (size_t)b * as;                                                                            \
            float *ob = out + (size_t)b * ldo;                                                                       \
            int r = 0;                                                                                               \
            if (nb - b == 1)                                                                                         \
                for (; r + 4 <= nr; r += 4) tile(4, 1, n, w + (size_t)r * ws, ws, ab, as, ob + r, ldo);              \
            for (; r < nr; r++) tile(1, 1, n, w + (size_t)r * ws, ws, ab, as, ob + r, ldo);                          \
        }                                                                                                            \
    }

/* Per activation row and block, its scale as float and 8 * the sum of its quants (Q4_0's -8 offset), for rows
 * [0, nb) of a chunk, laid out [4-row group][block][4] so that a tile's 4 lanes are one load (rows past nb: 0). */
static void q0_meta(int nblk, const uint8_t *a, size_t as, int nb, float *ad, int32_t *ay) {
    for (int b = 0; b < (nb + 3) / 4 * 4; b++) {
        float *d = ad + (size_t)(b / 4) * 4 * (size_t)nblk + b % 4;
        int32_t *y = ay + (size_t)(b / 4) * 4 * (size_t)nblk + b % 4;
        for (int i = 0; i < nblk; i++) {
            const uint8_t *blk = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            int32_t sum = 0;
            if (b < nb)
                for (int j = 0; j < QK8_0; j++) sum += (int8_t)blk[2 + j];
            d[4 * (size_t)i] = b < nb ? h2f(ld16(blk)) : 0.0f;
            y[4 * (size_t)i] = 8 * sum;
        }
    }
}

/* Q8_0 / Q4_0 / Q4_0_R8: MM_WIDE's tiling, with q0_meta computed once per chunk of activation rows (on the stack;
 * the heap only for rows longer than Q0_META / 4 blocks) instead of in every tile. tile(RW, NB, ..., ad4, ay4) */
#define Q0_META 2048
#define MM_Q0(fname, tile, TYPE)                                                                                     \
    static void fname(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {       \
        const int nblk = n / QK8_0;                                                                                  \
        float ad_s[Q0_META], *ad = ad_s;                                                                             \
        int32_t ay_s[Q0_META], *ay = ay_s;                                                                           \
        int chunk = nblk > 0 ? Q0_META / (4 * nblk) * 4 : 4;                                                         \
        if (chunk < 4) {                                                                                             \
            chunk = (nb + 3) / 4 * 4;                                                                                \
            ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);                                               \
            ay = malloc(sizeof(int32_t) * (size_t)chunk * (size_t)nblk);                                             \
            if (!ad || !ay) { /* out of memory: the reference needs no buffer */                                     \
                free(ad), free(ay);                                                                                  \
                plm_kernels_scalar.matmul(TYPE, n, w, ws, nr, a, as, nb, out, ldo);                                  \
                return;                                                                                              \
            }                                                                                                        \
        }                                                                                                            \
        for (int c0 = 0; c0 < nb; c0 += chunk) {                                                                     \
            const int cn = nb - c0 < chunk ? nb - c0 : chunk;                                                        \
            u8c *ac = a + (size_t)c0 * as;                                                                           \
            float *oc = out + (size_t)c0 * ldo;                                                                      \
            q0_meta(nblk, ac, as, cn, ad, ay);                                                                       \
            int b = 0;                                                                                               \
            for (; b + 4 <= cn; b += 4)                                                                              \
                for (int r = 0; r < nr; r++)                                                                         \
                    tile(1, 4, n, w + (size_t)r * ws, ws, ac + (size_t)b * as, as, oc + (size_t)b * ldo + r, ldo,    \
                         ad + (size_t)b * nblk, ay + (size_t)b * nblk);                                              \
            const int left = cn - b;                                                                                 \
            u8c *al = ac + (size_t)b * as;                                                                           \
            float *ol = oc + (size_t)b * ldo;                                                                        \
            const float *adl = ad + (size_t)b * nblk;                                                                \
            const int32_t *ayl = ay + (size_t)b * nblk;                                                              \
            int r = 0;                                                                                               \
            if (left == 3) {                                                                                         \
                for (; r < nr; r++) tile(1, 3, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, adl, ayl);            \
            } else if (left == 2) {                                                                                  \
                for (; r + 2 <= nr; r += 2) tile(2, 2, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, adl, ayl);    \
                for (; r < nr; r++) tile(1, 2, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, adl, ayl);            \
            } else if (left == 1) {                                                                                  \
                for (; r + 4 <= nr; r += 4) tile(4, 1, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, adl, ayl);    \
                for (; r < nr; r++) tile(1, 1, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, adl, ayl);            \
            }                                                                                                        \
        }                                                                                                            \
        if (ad != ad_s) free(ad), free(ay);                                                                          \
    }

#define TILE_Q8_0(RW, NB, ...) tile_q8_0(RW, NB, 0, __VA_ARGS__)
#define TILE_Q4_0(RW, NB, ...) tile_q4_0(RW, NB, __VA_ARGS__)
#define TILE_Q4_0_R8(RW, NB, ...) tile_q0_pairs(RW, NB, 0, 0, __VA_ARGS__)
#define TILE_TB32(RW, NB, ...) tile_tb(RW, NB, 0, 0, __VA_ARGS__)
#define TILE_TB16(RW, NB, ...) tile_tb(RW, NB, 1, 0, __VA_ARGS__)
#define TILE_Q4_K(NB, ...) tile_q4_K(NB, 0, 0, 0, __VA_ARGS__)
#define TILE_Q4_K_R8(RW, NB, ...) tile_q4k_r8w(RW, NB, 0, __VA_ARGS__)
#define TILE_Q6_K(RW, NB, ...) tile_klanes(RW, NB, TK_Q6_K, 0, __VA_ARGS__)
#define TILE_Q5_K(RW, NB, ...) tile_klanes(RW, NB, TK_Q5_K, 0, __VA_ARGS__)
#define TILE_Q5_0(RW, NB, ...) tile_q32(RW, NB, T32_Q5_0, 0, __VA_ARGS__)
#define TILE_IQ4_XS(RW, NB, ...) tile_klanes(RW, NB, TK_IQ4_XS, 0, __VA_ARGS__)
#define TILE_Q3_K(RW, NB, ...) tile_klanes(RW, NB, TK_Q3_K, 0, __VA_ARGS__)
#define TILE_Q4_1(RW, NB, ...) tile_q32(RW, NB, T32_Q4_1, 0, __VA_ARGS__)
#define TILE_Q5_1(RW, NB, ...) tile_q32(RW, NB, T32_Q5_1, 0, __VA_ARGS__)
#define TILE_IQ4_NL(NB, ...) tile_iq4_nl(NB, 0, 0, __VA_ARGS__)
#define TILE_IQ4_NL_R8(RW, NB, ...) tile_q0_pairs(RW, NB, 2, 0, __VA_ARGS__)
#define TILE_Q2_K(NB, ...) tile_q2_K(NB, 0, 0, __VA_ARGS__)
#define TILE_Q2_K_R8(RW, NB, ...) tile_q2k_r8w(RW, NB, __VA_ARGS__)
MM_Q0(mm_q8_0, TILE_Q8_0, PLM_T_Q8_0)
MM_Q0(mm_q4_0, TILE_Q4_0, PLM_T_Q4_0)
MM_Q0(mm_q4_0_r8, TILE_Q4_0_R8, PLM_T_Q4_0_R8)
MM_WIDE(mm_tb32, TILE_TB32)
MM_WIDE(mm_tb16, TILE_TB16)
MM_ROW(mm_q4_K, TILE_Q4_K)
MM_WIDE(mm_q4_K_r8, TILE_Q4_K_R8)
MM_LEAN(mm_q6_K, TILE_Q6_K)
MM_LEAN(mm_q5_K, TILE_Q5_K)
MM_LEAN(mm_q5_0, TILE_Q5_0)
MM_LEAN(mm_iq4_xs, TILE_IQ4_XS)
MM_LEAN(mm_q3_K, TILE_Q3_K)
MM_LEAN(mm_q4_1, TILE_Q4_1)
MM_LEAN(mm_q5_1, TILE_Q5_1)
MM_ROW(mm_iq4_nl, TILE_IQ4_NL)
MM_Q0(mm_iq4_nl_r8, TILE_IQ4_NL_R8, PLM_T_IQ4_NL_R8)
MM_ROW(mm_q2_K, TILE_Q2_K)
MM_LEAN(mm_q2_K_r8, TILE_Q2_K_R8)

/* BF16 (scalar vdot_bf16 / tb_bf16): bf16 products are exact in float, so every lane add is the scalar one. vdot:
 * two 16-lane accumulators over 32-value steps, each reduced by red16 and added in double, the tail in double;
 * TB (nb >= 2, n % 16 == 0): one 16-lane accumulator, red16. */
INLINE v128_t bf4(const uint8_t *p) { return wasm_i32x4_shl(wasm_u32x4_load16x4(p), 16); }
static float bf1(const uint8_t *p, int i) { uint16_t h; memcpy(&h, p + 2 * (size_t)i, 2); return plm_bf16_to_f32(h); }
static float vdot_bf16_w(const int tb, int n, const uint8_t *w, const uint8_t *a) {
    v128_t c[8];
    for (int q = 0; q < 8; q++) c[q] = wasm_f32x4_splat(0.0f);
    int i = 0;
    if (tb) {
        for (; i < n; i += 16)
            for (int q = 0; q < 4; q++) c[q] = wasm_f32x4_add(c[q], wasm_f32x4_mul(bf4(w + 2 * (size_t)(i + 4 * q)), bf4(a + 2 * (size_t)(i + 4 * q))));
        return red16(c[0], c[1], c[2], c[3]);
    }
    for (; i + 32 <= n; i += 32)
        for (int q = 0; q < 8; q++) c[q] = wasm_f32x4_add(c[q], wasm_f32x4_mul(bf4(w + 2 * (size_t)(i + 4 * q)), bf4(a + 2 * (size_t)(i + 4 * q))));
    double s = 0.0;
    s += (double)red16(c[0], c[1], c[2], c[3]);
    s += (double)red16(c[4], c[5], c[6], c[7]);
    for (; i < n; i++) s += (double)(bf1(w, i) * bf1(a, i));
    return (float)s;
}
static void mm_bf16(const int tb, int n, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb,
                    float *out, size_t ldo) {
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++)
            out[(size_t)b * ldo + r] = vdot_bf16_w(tb, n, w + (size_t)r * ws, a + (size_t)b * as);
}

static void w_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                     size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int tb = nb >= 2 && n % 16 == 0; /* the *_TB variants take tinyBLAS's order only then */
    switch (type) {
    case PLM_T_Q8_0: mm_q8_0(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0: mm_q4_0(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: mm_q4_0_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K: mm_q4_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4_K_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q6_K: mm_q6_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_K: mm_q5_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_0: mm_q5_0(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_XS: mm_iq4_xs(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q3_K: mm_q3_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_1: mm_q4_1(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_1: mm_q5_1(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_NL: mm_iq4_nl(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_NL_R8: mm_iq4_nl_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q2_K: mm_q2_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q2_K_R8: mm_q2_K_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_BF16: mm_bf16(0, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_BF16_TB: mm_bf16(tb, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F32_TB:
        if (tb) mm_tb32(n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(0, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F16_TB:
        if (tb) mm_tb16(n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(1, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F32: mm_fl(0, 0, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F16: mm_fl(1, 0, n, W, ws, nr, A, as, nb, out, ldo); break;
    default: plm_kernels_scalar.matmul(type, n, w, ws, nr, a, as, nb, out, ldo); break;
    }
}

/* The fast tables (simd.h's plm_kernels.exact has the exact ones). SIMD128 has no fused multiply-add; the exact
 * emulation (fma_ff, fma8_exact) spends most of its time on the rare cases, a double landing exactly on a float
 * midpoint and subnormal results. The fast tables skip those (fma_d, fma8_any(0, ...)): the same result as fmaf
 * but for about one sum in 2^29 and for tiny values, at a fraction of the cost, where the contract fuses per
 * 32-value block (Q8_0, Q4_0_R8); F32 weights by a multiply, then an add (RMADD: relaxed_madd in the relaxed build,
 * which rounds once or twice as the engine likes). The K-quants fuse once per 256 values: exact costs nothing there.
 * tests/node/logits.test.mjs holds the model-level outcome to llama.cpp's backend-comparison measures. */
#define TILE_Q8_0_FAST(RW, NB, ...) tile_q8_0_fast(RW, NB, __VA_ARGS__)
#define TILE_Q4_0_FAST(RW, NB, ...) tile_q0_pairs(RW, NB, 0, 1, __VA_ARGS__)
#define TILE_TB32_FAST(RW, NB, ...) tile_tb(RW, NB, 0, 1, __VA_ARGS__)
MM_Q0(mm_q8_0_fast, TILE_Q8_0_FAST, PLM_T_Q8_0)
MM_Q0(mm_q4_0_fast, TILE_Q4_0_FAST, PLM_T_Q4_0)
MM_WIDE(mm_tb32_fast, TILE_TB32_FAST)
#define TILE_Q5_0_FAST(RW, NB, ...) tile_q32(RW, NB, T32_Q5_0, 1, __VA_ARGS__)
#define TILE_Q4_1_FAST(RW, NB, ...) tile_q32(RW, NB, T32_Q4_1, 1, __VA_ARGS__)
#define TILE_Q5_1_FAST(RW, NB, ...) tile_q32(RW, NB, T32_Q5_1, 1, __VA_ARGS__)
MM_LEAN(mm_q5_0_fast, TILE_Q5_0_FAST)
#define TILE_IQ4_NL_R8_FAST(RW, NB, ...) tile_q0_pairs(RW, NB, 2, 1, __VA_ARGS__)
MM_Q0(mm_iq4_nl_r8_fast, TILE_IQ4_NL_R8_FAST, PLM_T_IQ4_NL_R8)
MM_LEAN(mm_q4_1_fast, TILE_Q4_1_FAST)
MM_LEAN(mm_q5_1_fast, TILE_Q5_1_FAST)

static void f_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                     size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int tb = nb >= 2 && n % 16 == 0;
    switch (type) {
    case PLM_T_Q8_0: mm_q8_0_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: mm_q4_0_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_0: mm_q5_0_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_NL_R8: mm_iq4_nl_r8_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_1: mm_q4_1_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_1: mm_q5_1_fast(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F32_TB:
        if (tb) mm_tb32_fast(n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(0, 1, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F32: mm_fl(0, 1, n, W, ws, nr, A, as, nb, out, ldo); break;
    /* K-quants: one fma per 256 values, the exact one costs next to nothing; F16: already mul + add; plain Q4_0 (a
     * row count not a multiple of 8): rare */
    default: w_matmul(type, n, w, ws, nr, a, as, nb, out, ldo); break;
    }
}

#ifdef PLM_BACKEND_WASM_RELAXED
/* relaxed: integer sums by the relaxed dot where a 7-bit operand exists (Q4_0, Q4_K, Q6_K); the float updates
 * by relaxed_madd when the engine fuses it (_f), else by the exact emulation (_e) */
#define TILE_Q8_0_F(RW, NB, ...) tile_q8_0(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_F(RW, NB, ...) tile_q4_0_rdot(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_E(RW, NB, ...) tile_q4_0_rdot(RW, NB, 0, __VA_ARGS__)
#define TILE_Q4_0_R8_F(RW, NB, ...) tile_q4_0_r8_rdot(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_R8_E(RW, NB, ...) tile_q4_0_r8_rdot(RW, NB, 0, __VA_ARGS__)
#define TILE_TB32_F(RW, NB, ...) tile_tb(RW, NB, 0, 1, __VA_ARGS__)
#define TILE_Q4_K_F(NB, ...) tile_q4_K(NB, 0, 1, 1, __VA_ARGS__)
#define TILE_Q4_K_E(NB, ...) tile_q4_K(NB, 0, 1, 0, __VA_ARGS__)
#define TILE_Q4_K_R8_X(NB, ...) tile_q4_K(NB, 1, 1, 0, __VA_ARGS__)
#define TILE_Q6_K_F(NB, ...) tile_q6_K(NB, 1, 1, __VA_ARGS__)
#define TILE_Q6_K_E(NB, ...) tile_q6_K(NB, 1, 0, __VA_ARGS__)
#define TILE_Q5_K_F(NB, ...) tile_q5_K(NB, 1, 1, __VA_ARGS__)
#define TILE_Q5_K_E(NB, ...) tile_q5_K(NB, 1, 0, __VA_ARGS__)
#define TILE_Q5_0_F(RW, NB, ...) tile_q32(RW, NB, T32_Q5_0, 2, __VA_ARGS__)
#define TILE_IQ4_XS_F(RW, NB, ...) tile_klanes(RW, NB, TK_IQ4_XS, 1, __VA_ARGS__)
#define TILE_Q3_K_F(RW, NB, ...) tile_klanes(RW, NB, TK_Q3_K, 1, __VA_ARGS__)
#define TILE_Q4_1_F(RW, NB, ...) tile_q32(RW, NB, T32_Q4_1, 2, __VA_ARGS__)
#define TILE_Q5_1_F(RW, NB, ...) tile_q32(RW, NB, T32_Q5_1, 2, __VA_ARGS__)
#define TILE_IQ4_NL_F(NB, ...) tile_iq4_nl(NB, 0, 1, __VA_ARGS__)
#define TILE_Q2_K_F(NB, ...) tile_q2_K(NB, 0, 1, __VA_ARGS__)
#define TILE_IQ4_NL_R8_F(RW, NB, ...) tile_q0_pairs(RW, NB, 2, 2, __VA_ARGS__)
MM_Q0(mm_q8_0_f, TILE_Q8_0_F, PLM_T_Q8_0)
MM_Q0(mm_q4_0_f, TILE_Q4_0_F, PLM_T_Q4_0)
MM_Q0(mm_q4_0_e, TILE_Q4_0_E, PLM_T_Q4_0)
MM_Q0(mm_q4_0_r8_f, TILE_Q4_0_R8_F, PLM_T_Q4_0_R8)
MM_Q0(mm_q4_0_r8_e, TILE_Q4_0_R8_E, PLM_T_Q4_0_R8)
MM_WIDE(mm_tb32_f, TILE_TB32_F)
MM_ROW(mm_q4_K_f, TILE_Q4_K_F)
MM_ROW(mm_q4_K_e, TILE_Q4_K_E)
MM_ROW(mm_q4_K_r8_x, TILE_Q4_K_R8_X)
MM_ROW(mm_q6_K_f, TILE_Q6_K_F)
MM_ROW(mm_q6_K_e, TILE_Q6_K_E)
MM_ROW(mm_q5_K_f, TILE_Q5_K_F)
MM_ROW(mm_q5_K_e, TILE_Q5_K_E)
MM_LEAN(mm_q5_0_f, TILE_Q5_0_F)
MM_LEAN(mm_iq4_xs_f, TILE_IQ4_XS_F)
MM_LEAN(mm_q3_K_f, TILE_Q3_K_F)
MM_LEAN(mm_q4_1_f, TILE_Q4_1_F)
MM_LEAN(mm_q5_1_f, TILE_Q5_1_F)
MM_ROW(mm_iq4_nl_f, TILE_IQ4_NL_F)
MM_ROW(mm_q2_K_f, TILE_Q2_K_F)
MM_Q0(mm_iq4_nl_r8_f, TILE_IQ4_NL_R8_F, PLM_T_IQ4_NL_R8)

/* Q4_0 in the X8 layout (simd.h), relaxed: piece v of rows 0-3 is one vector and of rows 4-7 another, so the
 * relaxed dot against the activation's 4 bytes splat to every lane leaves row r's 4 products in lane r, summed over
 * the block's 8 pieces in place: two accumulators, no reductions. 8 rows x NB activation rows; ad4/ay4 as tile_q8_0's
 * (NULL: computed here, for the out-of-memory path). */
INLINE void tile_x8(const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a, size_t as,
                    const float *ad4, const int32_t *ay4, float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0), eight = wasm_i8x16_splat(8);
    v128_t acc[4][2];
    for (int b = 0; b < 4; b++) acc[b][0] = acc[b][1] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_0)) {
        v128_t dlo, dhi, q[8][2];
        h2f8(ld(w), &dlo, &dhi);
        for (int v = 0; v < 4; v++)
            for (int h = 0; h < 2; h++) {
                const v128_t t = ld(w + 16 + 32 * v + 16 * h);
                q[v][h] = wasm_v128_and(t, m4), q[v + 4][h] = wasm_u8x16_shr(t, 4);
            }
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            v128_t s0 = zero, s1 = zero;
            for (int v = 0; v < 8; v++) {
                const v128_t ys = wasm_v128_load32_splat(y + 4 * (v % 4) + 16 * (v / 4));
                s0 = RDOT(ys, q[v][0], s0), s1 = RDOT(ys, q[v][1], s1);
            }
            const int32_t y8 = ay4 ? ay4[4 * (size_t)i + b] : hsum_i32(RDOT(ld(y), eight, RDOT(ld(y + 16), eight, zero)));
            const v128_t da = wasm_f32x4_splat(ad4 ? ad4[4 * (size_t)i + b] : h2f(ld16(y - 2)));
            const v128_t c = wasm_i32x4_splat(y8);
            acc[b][0] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s0, c)), wasm_f32x4_mul(dlo, da), acc[b][0]);
            acc[b][1] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s1, c)), wasm_f32x4_mul(dhi, da), acc[b][1]);
        }
    }
    for (int b = 0; b < NB; b++) wasm_v128_store(out + (size_t)b * ldo, acc[b][0]), wasm_v128_store(out + (size_t)b * ldo + 4, acc[b][1]);
}

/* Q8_0 in the X8 layout (simd.h; the fast relaxed table only). A signed weight w is (w & 0x7f) - 128 * (w < 0): two
 * 7-bit operands for the relaxed dot, lo = w & 0x7f and the sign bit (u8 shift by 7), so dot(y, w) =
 * dot(y, lo) - 128 * dot(y, sign), exact, with no correction through the activations. Piece v's dot of row r lands
 * in lane r: the contract's lane v of that row, so with a fused RMADD per piece and block and hsum8's order at the
 * end this is scalar's Q8_0 arithmetic (unfused: two roundings per update). */
INLINE void tile_q8_x8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const float *ad4,
                       float *out, size_t ldo) {
    const v128_t m7 = wasm_i8x16_splat(0x7f), zero = wasm_i32x4_splat(0);
    v128_t acc[4][8][2];
    for (int b = 0; b < NB; b++)
        for (int v = 0; v < 8; v++) acc[b][v][0] = acc[b][v][1] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q8_0)) {
        v128_t dlo, dhi;
        h2f8(ld(w), &dlo, &dhi);
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            const v128_t da = wasm_f32x4_splat(ad4 ? ad4[4 * (size_t)i + b] : h2f(ld16(y - 2)));
            const v128_t d0 = wasm_f32x4_mul(dlo, da), d1 = wasm_f32x4_mul(dhi, da);
            for (int v = 0; v < 8; v++) {
                const v128_t ys = wasm_v128_load32_splat(y + 4 * v);
                const v128_t t0 = ld(w + 16 + 32 * v), t1 = ld(w + 32 + 32 * v);
                const v128_t s0 = wasm_i32x4_sub(RDOT(ys, wasm_v128_and(t0, m7), zero),
                                                 wasm_i32x4_shl(RDOT(ys, wasm_u8x16_shr(t0, 7), zero), 7));
                const v128_t s1 = wasm_i32x4_sub(RDOT(ys, wasm_v128_and(t1, m7), zero),
                                                 wasm_i32x4_shl(RDOT(ys, wasm_u8x16_shr(t1, 7), zero), 7));
                acc[b][v][0] = RMADD(wasm_f32x4_convert_i32x4(s0), d0, acc[b][v][0]);
                acc[b][v][1] = RMADD(wasm_f32x4_convert_i32x4(s1), d1, acc[b][v][1]);
            }
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) { /* hsum8 per lane: r_k = lane k + lane k+4, (r0 + r2) + (r1 + r3) */
            v128_t r[4];
            for (int k = 0; k < 4; k++) r[k] = wasm_f32x4_add(acc[b][k][h], acc[b][k + 4][h]);
            wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_add(wasm_f32x4_add(r[0], r[2]), wasm_f32x4_add(r[1], r[3])));
        }
}

/* one X8 tile: Q4_0 (tile_x8) or Q8_0 (tile_q8_x8) */
INLINE void tile_x8_any(const int Q8, const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a,
                        size_t as, const float *ad4, const int32_t *ay4, float *out, size_t ldo) {
    if (Q8) tile_q8_x8(NB, nblk, w, a, as, ad4, out, ldo);
    else tile_x8(NB, FM, nblk, w, a, as, ad4, ay4, out, ldo);
}

/* X8 driver: groups of 8 rows, activation rows 4 at a time with q0_meta's tables per chunk (as MM_Q0) */
INLINE void mm_x8q(const int Q8, const int FM, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out,
                   size_t ldo) {
    const int nblk = n / QK8_0;
    float ad_s[Q0_META], *ad = ad_s;
    int32_t ay_s[Q0_META], *ay = ay_s;
    int chunk = nblk > 0 ? Q0_META / (4 * nblk) * 4 : 4;
    if (chunk < 4) {
        chunk = (nb + 3) / 4 * 4;
        ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);
        ay = malloc(sizeof(int32_t) * (size_t)chunk * (size_t)nblk);
        if (!ad || !ay) { /* out of memory: the tile without tables */
            free(ad), free(ay);
            for (int r = 0; r < nr; r += 8)
                for (int b = 0; b < nb; b++)
                    tile_x8_any(Q8, 1, FM, nblk, w + (size_t)r * ws, a + (size_t)b * as, as, NULL, NULL, out + (size_t)b * ldo + r, ldo);
            return;
        }
    }
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        q0_meta(nblk, ac, as, cn, ad, ay);
        for (int b = 0; b < cn; b += 4) {
            const float *adb = ad + (size_t)b * nblk;
            const int32_t *ayb = ay + (size_t)b * nblk;
            for (int r = 0; r < nr; r += 8) {
                u8c *wr = w + (size_t)r * ws, *ab = ac + (size_t)b * as;
                float *ob = oc + (size_t)b * ldo + r;
                switch (cn - b < 4 ? cn - b : 4) {
                case 4: tile_x8_any(Q8, 4, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 3: tile_x8_any(Q8, 3, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 2: tile_x8_any(Q8, 2, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                default: tile_x8_any(Q8, 1, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                }
            }
        }
    }
    if (ad != ad_s) free(ad), free(ay);
}
#define mm_x8(FM, ...) mm_x8q(0, FM, __VA_ARGS__)

/* byte k of every 32-bit lane */
INLINE v128_t byte_at(v128_t v, const int k) { return wasm_v128_and(wasm_u32x4_shr(v, 8 * k), splat_i32(0xff)); }

/* Q4_K in the X8 layout (simd.h), relaxed: per 32-value sub-block, the relaxed dots of its 8 pieces against the
 * activation's 4 bytes splat leave each row's dot in its lane (rows 0-3 and 4-7: two vectors), times the rows'
 * scales, which ggml's shuffle unpacks lane by lane from the three scale words. Integer sums and fmas as scalar's
 * Q4_K_R8: NB == 4 is llama.cpp's gemm (one fma per 64-value pair), fewer rows its gemv (one per block). */
INLINE void tile_q4k_x8(const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                        size_t ldo) {
    const int per_pair = NB == 4;
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0);
    const v128_t k1 = splat_i32(0x3f3f3f3f), k2 = splat_i32(0x0f0f0f0f), k3 = splat_i32(0x03030303);
    v128_t acc[4][2], accm[4][2];
    for (int b = 0; b < 4; b++)
        for (int h = 0; h < 2; h++) acc[b][h] = accm[b][h] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_K)) {
        v128_t dw[2], dm[2], sc[2][2], mn[2][2]; /* sc[0]: scales 0..3 (byte j), sc[1]: 4..7; mn likewise */
        h2f8(ld(w), &dw[0], &dw[1]);
        h2f8(ld(w + 16), &dm[0], &dm[1]);
        for (int h = 0; h < 2; h++) {
            const v128_t u0 = ld(w + 32 + 16 * h), u1 = ld(w + 64 + 16 * h), u2 = ld(w + 96 + 16 * h);
            sc[0][h] = wasm_v128_and(u0, k1);
            sc[1][h] = wasm_v128_or(wasm_v128_and(u2, k2), wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u0, 6), k3), 4));
            mn[0][h] = wasm_v128_and(u1, k1);
            mn[1][h] = wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(u2, 4), k2),
                                    wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u1, 6), k3), 4));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const uint8_t *q8 = ab + offsetof(block_q8_K, qs);
            int16_t bs[QK_K / 16];
            memcpy(bs, ab + offsetof(block_q8_K, bsums), sizeof bs);
            const v128_t dy = wasm_f32x4_splat(ldf(ab));
            const v128_t d[2] = { wasm_f32x4_mul(dw[0], dy), wasm_f32x4_mul(dw[1], dy) };
            const v128_t dmin[2] = { wasm_f32x4_mul(dm[0], dy), wasm_f32x4_mul(dm[1], dy) };
            v128_t sum[2] = { zero, zero }, msum[2] = { zero, zero };
            for (int c = 0; c < 4; c++) { /* sub-blocks 2c (low nibbles) and 2c + 1 (high) */
                v128_t dl[2] = { zero, zero }, dh[2] = { zero, zero };
                for (int v = 0; v < 8; v++) {
                    const v128_t yl = wasm_v128_load32_splat(q8 + 64 * c + 4 * v);
                    const v128_t yh = wasm_v128_load32_splat(q8 + 64 * c + 32 + 4 * v);
                    for (int h = 0; h < 2; h++) {
                        const v128_t t = ld(w + 128 + 256 * c + 32 * v + 16 * h);
                        dl[h] = RDOT(yl, wasm_v128_and(t, m4), dl[h]);
                        dh[h] = RDOT(yh, wasm_u8x16_shr(t, 4), dh[h]);
                    }
                }
                const v128_t s0 = wasm_i32x4_splat(bs[4 * c] + bs[4 * c + 1]), s1 = wasm_i32x4_splat(bs[4 * c + 2] + bs[4 * c + 3]);
                for (int h = 0; h < 2; h++) {
                    const v128_t scv = sc[c / 2][h], mnv = mn[c / 2][h];
                    const v128_t P = wasm_i32x4_add(wasm_i32x4_mul(dl[h], byte_at(scv, (2 * c) % 4)),
                                                    wasm_i32x4_mul(dh[h], byte_at(scv, (2 * c + 1) % 4)));
                    const v128_t M = wasm_i32x4_add(wasm_i32x4_mul(byte_at(mnv, (2 * c) % 4), s0),
                                                    wasm_i32x4_mul(byte_at(mnv, (2 * c + 1) % 4), s1));
                    if (per_pair) {
                        acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(P), d[h], acc[b][h]);
                        accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(M), dmin[h], accm[b][h]);
                    } else {
                        sum[h] = wasm_i32x4_add(sum[h], P), msum[h] = wasm_i32x4_add(msum[h], M);
                    }
                }
            }
            if (!per_pair)
                for (int h = 0; h < 2; h++) {
                    acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(sum[h]), d[h], acc[b][h]);
                    accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(msum[h]), dmin[h], accm[b][h]);
                }
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_sub(acc[b][h], accm[b][h]));
}

/* Q4_K_X8 driver: groups of 8 rows; activation rows in groups of 4 (gemm), the last 1..3 one group (gemv) */
INLINE void mm_q4k_x8(const int FM, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    for (int b = 0; b < nb; b += 4)
        for (int r = 0; r < nr; r += 8) {
            u8c *wr = w + (size_t)r * ws, *ab = a + (size_t)b * as;
            float *ob = out + (size_t)b * ldo + r;
            switch (nb - b < 4 ? nb - b : 4) {
            case 4: tile_q4k_x8(4, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            case 3: tile_q4k_x8(3, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            case 2: tile_q4k_x8(2, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            default: tile_q4k_x8(1, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            }
        }
}

/* Q4_0_R8 and Q4_K_R8 matrices go to the X8 layouts (simd.h), read by tile_x8 and tile_q4k_x8 */
static int r_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q4_0_R8 && plm_repack_q4_0_x8(w, n, nr)) return PLM_T_Q4_0_X8;
    if (type == PLM_T_Q4_K_R8 && plm_repack_q4_K_x8(w, n, nr)) return PLM_T_Q4_K_X8;
    return type;
}

/* the fast table's: Q8_0 too (tile_q8_x8) */
static int rf_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q8_0 && plm_repack_q8_0_x8(w, n, nr)) return PLM_T_Q8_0_X8;
    return r_repack(type, w, n, nr);
}

/* F: relaxed_madd is the float update (the engine fuses it, or the fast table, which takes it either way); else
 * the exact emulation. Q8F: Q8_0 by whole-block integer sums (fast table: its eight-lane form costs speed). */
INLINE void r_mm(const int F, const int Q8F, int type, int n, const void *w, size_t ws, int nr, const void *a,
                 size_t as, int nb, float *out, size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int f = F, tb = nb >= 2 && n % 16 == 0;
    switch (type) {
    case PLM_T_Q8_0: (Q8F ? mm_q8_0_fast : f ? mm_q8_0_f : mm_q8_0)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0: (f ? mm_q4_0_f : mm_q4_0_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: (f ? mm_q4_0_r8_f : mm_q4_0_r8_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_X8:
        if (f) mm_x8(1, n, W, ws, nr, A, as, nb, out, ldo);
        else mm_x8(0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q8_0_X8: mm_x8q(1, 1, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_X8:
        if (f) mm_q4k_x8(1, n, W, ws, nr, A, as, nb, out, ldo);
        else mm_q4k_x8(0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q4_K: (f ? mm_q4_K_f : mm_q4_K_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4_K_r8_x(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q6_K: (f ? mm_q6_K_f : mm_q6_K_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_K: (f ? mm_q5_K_f : mm_q5_K_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_0: (f ? mm_q5_0_f : mm_q5_0)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_XS: (f ? mm_iq4_xs_f : mm_iq4_xs)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q3_K: (f ? mm_q3_K_f : mm_q3_K)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_1: (f ? mm_q4_1_f : mm_q4_1)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q5_1: (f ? mm_q5_1_f : mm_q5_1)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_NL: (f ? mm_iq4_nl_f : mm_iq4_nl)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q2_K: (f ? mm_q2_K_f : mm_q2_K)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_NL_R8: (f ? mm_iq4_nl_r8_f : mm_iq4_nl_r8)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F32_TB:
        if (tb) (f ? mm_tb32_f : mm_tb32)(n, W, ws, nr, A, as, nb, out, ldo);
        else if (f) mm_fl(0, 1, n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(0, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F32:
        if (f) mm_fl(0, 1, n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(0, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    default: w_matmul(type, n, w, ws, nr, a, as, nb, out, ldo); break;
    }
}

static void r_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                     size_t ldo) {
    if (madd_fused()) r_mm(1, 0, type, n, w, ws, nr, a, as, nb, out, ldo);
    else r_mm(0, 0, type, n, w, ws, nr, a, as, nb, out, ldo);
}

static void rf_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                      size_t ldo) {
    r_mm(1, 1, type, n, w, ws, nr, a, as, nb, out, ldo);
}
#endif

/* ---------------------------------------------------------------- float kernels */
static float w_dot_f32(const float *a, const float *b, int n) { return vdot_fl(0, 0, n, (const uint8_t *)a, (const uint8_t *)b); }
static float w_dot_f16(const plm_f16 *a, const plm_f16 *b, int n) {
    return vdot_fl(1, 0, n, (const uint8_t *)a, (const uint8_t *)b);
}
#ifdef PLM_BACKEND_WASM_RELAXED
static float r_dot_f32(const float *a, const float *b, int n) {
    return madd_fused() ? vdot_fl(0, 1, n, (const uint8_t *)a, (const uint8_t *)b) : w_dot_f32(a, b, n);
}
#endif

/* y += x*a: multiply, then add, like scalar */
static void w_axpy_f32(float *y, float a, const float *x, int n) {
    const v128_t va = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, wasm_f32x4_add(ld(y + i), wasm_f32x4_mul(ld(x + i), va)));
    for (; i < n; i++) y[i] += x[i] * a;
}

/* f32(y + x*a) for 4 lanes, through double: x*a is exact there (24 + 24 bits), the sum is rounded to double, then
 * to float. As a float fma this could double-round; here x and y are halves and the result goes on to a half, and
 * then it cannot matter: either x*a + y is exact in double (|x*a| and |y| within 2^18 of each other, or the result
 * overflows the half range anyway), or |x*a| < 2^-18 |y| and every float near the sum rounds to the half y. */
INLINE v128_t mad4(v128_t y, v128_t x, v128_t ad) {
    const v128_t xs = wasm_i32x4_shuffle(x, x, 2, 3, 0, 1), ys = wasm_i32x4_shuffle(y, y, 2, 3, 0, 1);
    const v128_t lo = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(x), ad), wasm_f64x2_promote_low_f32x4(y));
    const v128_t hi = wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_promote_low_f32x4(xs), ad), wasm_f64x2_promote_low_f32x4(ys));
    const v128_t flo = wasm_f32x4_demote_f64x2_zero(lo), fhi = wasm_f32x4_demote_f64x2_zero(hi);
    return wasm_i32x4_shuffle(flo, fhi, 0, 1, 4, 5);
}

INLINE v128_t mad8(v128_t y, v128_t x, v128_t ad) {
    v128_t ylo, yhi, xlo, xhi;
    h2f8(y, &ylo, &yhi);
    h2f8(x, &xlo, &xhi);
    return f2h8(mad4(ylo, xlo, ad), mad4(yhi, xhi, ad));
}

INLINE v128_t scale8(v128_t y, v128_t va) {
    v128_t lo, hi;
    h2f8(y, &lo, &hi);
    return f2h8(wasm_f32x4_mul(lo, va), wasm_f32x4_mul(hi, va));
}

static void w_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    const v128_t ad = wasm_f64x2_splat((double)a);
    int i = 0;
    for (; i + 8 <= n; i += 8) wasm_v128_store(y + i, mad8(ld(y + i), ld(x + i), ad));
    if (i < n) { /* the tail through the same arithmetic */
        plm_f16 ty[8] = { 0 }, tx[8] = { 0 };
        memcpy(ty, y + i, (size_t)(n - i) * 2), memcpy(tx, x + i, (size_t)(n - i) * 2);
        wasm_v128_store(ty, mad8(ld(ty), ld(tx), ad));
        memcpy(y + i, ty, (size_t)(n - i) * 2);
    }
}

static void w_scale_f16(plm_f16 *y, float a, int n) {
    const v128_t va = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) wasm_v128_store(y + i, scale8(ld(y + i), va));
    if (i < n) {
        plm_f16 ty[8] = { 0 };
        memcpy(ty, y + i, (size_t)(n - i) * 2);
        wasm_v128_store(ty, scale8(ld(ty), va));
        memcpy(y + i, ty, (size_t)(n - i) * 2);
    }
}

/* sum of x*x in double, sequentially like scalar (O(n) per token); then out = (x*scale)*w vectorized */
static void w_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / n);
    const float scale = 1.0f / sqrtf(mean + eps);
    const v128_t vs = wasm_f32x4_splat(scale);
    int i = 0;
    if (w)
        for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(wasm_f32x4_mul(ld(x + i), vs), ld(w + i)));
    else
        for (; i + 4 <= n; i += 4) wasm_v128_store(out + i, wasm_f32x4_mul(ld(x + i), vs));
    for (; i < n; i++) out[i] = w ? (x[i] * scale) * w[i] : x[i] * scale;
}

/* ---------------------------------------------------------------- not accelerated: the scalar kernels */
static void w_silu_mul(float *g, const float *u, int n) { plm_kernels_scalar.silu_mul(g, u, n); }
static void w_rope(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox) {
    plm_kernels_scalar.rope(x, hd, pos, base, freq_scale, ff, neox);
}

/* plm_expf_ggml for 4 lanes with RMADD as its fmaf (exact when that is relaxed_madd and the engine fuses it): the
 * same roundings, then j * 2^n (ldexpf's single rounding while |n| <= 126; other lanes take the scalar function). */
INLINE v128_t expf_ggml4(v128_t x) {
    const v128_t r = wasm_f32x4_splat(0x1.8p23f);
    const v128_t z = RMADD(x, wasm_f32x4_splat(0x1.715476p+0f), r);
    const v128_t nn = wasm_f32x4_sub(z, r), mn = wasm_f32x4_neg(nn);
    const v128_t b = RMADD(mn, wasm_f32x4_splat(0x1.7f7d1cp-20f), RMADD(mn, wasm_f32x4_splat(0x1.62e4p-1f), x));
    const v128_t u = wasm_f32x4_mul(b, b);
    const v128_t p5 = RMADD(wasm_f32x4_splat(0x1.0e4020p-7f), b, wasm_f32x4_splat(0x1.573e2ep-5f));
    const v128_t p3 = RMADD(wasm_f32x4_splat(0x1.555e66p-3f), b, wasm_f32x4_splat(0x1.fffdb6p-2f));
    const v128_t p1 = RMADD(wasm_f32x4_splat(0x1.ffffecp-1f), b, wasm_f32x4_splat(1.0f));
    const v128_t j = RMADD(RMADD(p5, u, p3), u, p1);
    if (wasm_v128_any_true(wasm_f32x4_gt(wasm_f32x4_abs(nn), wasm_f32x4_splat(126.0f)))) {
        float xs[4], ys[4];
        wasm_v128_store(xs, x);
        for (int l = 0; l < 4; l++) ys[l] = plm_expf_ggml(xs[l]);
        return ld(ys);
    }
    const v128_t e = wasm_i32x4_shl(wasm_i32x4_add(wasm_i32x4_trunc_sat_f32x4(nn), wasm_i32x4_splat(127)), 23);
    return wasm_f32x4_mul(j, e);
}

/* g = (g / (1 + exp(-g))) * u with expf_ggml4 (glibc's expf for the last n % 16) */
static void f_silu_mul(float *g, const float *u, int n) {
    const v128_t one = wasm_f32x4_splat(1.0f);
    const int m = n & ~15;
    int i = 0;
    for (; i < m; i += 4) {
        const v128_t x = ld(g + i);
        const v128_t s = wasm_f32x4_div(x, wasm_f32x4_add(one, expf_ggml4(wasm_f32x4_neg(x))));
        wasm_v128_store(g + i, wasm_f32x4_mul(s, ld(u + i)));
    }
    for (; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_glibc(-g[i]))) * u[i];
}

/* y = f16(x*a + y) with RMADD */
static void f_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    const v128_t va = wasm_f32x4_splat(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        v128_t ylo, yhi, xlo, xhi;
        h2f8(ld(y + i), &ylo, &yhi);
        h2f8(ld(x + i), &xlo, &xhi);
        wasm_v128_store(y + i, f2h8(RMADD(xlo, va, ylo), RMADD(xhi, va, yhi)));
    }
    if (i < n) w_mad_f16(y + i, x + i, a, n - i);
}

static float f_dot_f32(const float *a, const float *b, int n) { return vdot_fl(0, 1, n, (const uint8_t *)a, (const uint8_t *)b); }

#ifdef PLM_BACKEND_WASM_RELAXED
/* g = (g / (1 + exp(-g))) * u, bit-exact with scalar when relaxed_madd is fused, else the scalar kernel */
static void r_silu_mul(float *g, const float *u, int n) {
    if (!madd_fused()) plm_kernels_scalar.silu_mul(g, u, n);
    else f_silu_mul(g, u, n);
}

/* y = f16(fmaf(x, a, y)) with relaxed_madd as the fmaf where the engine fuses it */
static void r_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    if (!madd_fused()) w_mad_f16(y, x, a, n);
    else f_mad_f16(y, x, a, n);
}
#else
#define r_mad_f16 w_mad_f16
#endif

#define WASM_KERNELS(NAME, MATMUL, SILU, DOT32, MAD16, REPACK, EXACT)                                                \
    {                                                                                                                \
        .name = NAME, .quantize_row = w_quantize_row, .matmul = MATMUL, .rmsnorm = w_rmsnorm,                        \
        .silu_mul = SILU, .gelu_mul = plm_gelu_mul_ref, .rope = w_rope, .f16_to_f32 = w_f16_to_f32,                          \
        .f32_to_f16 = w_f32_to_f16, .dot_f32 = DOT32, .dot_f16 = w_dot_f16, .axpy_f32 = w_axpy_f32,                  \
        .mad_f16 = MAD16, .scale_f16 = w_scale_f16, .repack = REPACK, .exact = EXACT,                                \
    }

/* Each build's fast table, and its exact sibling for plm_kern_for(1) (a model loaded with `exact`). */
const plm_kernels plm_kernels_wasm128_exact =
    WASM_KERNELS("wasm128-exact", w_matmul, w_silu_mul, w_dot_f32, w_mad_f16, NULL, NULL);
const plm_kernels plm_kernels_wasm128 =
    WASM_KERNELS("wasm128", f_matmul, f_silu_mul, f_dot_f32, f_mad_f16, NULL, &plm_kernels_wasm128_exact);
#ifdef PLM_BACKEND_WASM_RELAXED
const plm_kernels plm_kernels_wasm_relaxed_exact =
    WASM_KERNELS("wasm-relaxed-exact", r_matmul, r_silu_mul, r_dot_f32, r_mad_f16, r_repack, NULL);
const plm_kernels plm_kernels_wasm_relaxed =
    WASM_KERNELS("wasm-relaxed", rf_matmul, f_silu_mul, f_dot_f32, f_mad_f16, rf_repack, &plm_kernels_wasm_relaxed_exact);
#endif
