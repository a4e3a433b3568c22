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
 *                                      sums of the activations, Q6_K's -32 through bsums as the contract has it;
 *                                      on x86 engines i16 pair sums over a block, widened once: wasm128_x8.h);
 *                                      Q8_0 x Q8_0 has no 7-bit operand (the fast table's Q8_0_X8 tile makes
 *                                      |activation| one and xors its sign into the weight); SIMD128: i32x4.dot_i16x8 on shift-only
 *                                      splits (pl_act, nib16: even and odd elements, no shuffles), with the
 *                                      activations split once per tile of up to 4 weight rows (MM_WIDE, MM_LEAN)
 *   Q4_0_R8 / Q4_K_R8 / IQ4_NL_R8 / Q2_K_R8  one float per output, one fma per block (Q4_0_R8, IQ4_NL_R8: 4 outputs in the lanes of
 *                                      a vector; Q4_K_R8: per 64 values for full groups of 4 activation rows);
 *                                      relaxed repacks a model's such matrices (r_repack: simd.h's X8 layouts) so
 *                                      that the relaxed dot leaves each of 8 rows' sums in its own lane; the fast
 *                                      table also Q8_0 (rf_repack: 4 rows' contract lane v in one vector, 8 fused
 *                                      accumulators per 4 rows, the activation prepared once per matmul); the
 *                                      SIMD128 fast table repacks Q4_0_R8 / Q4_K_R8 to the same X8 layouts
 *                                      (f_repack), where i32x4.dot_i16x8 leaves each of 8 rows' sums in its lane
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
 * One translation unit in seven files: this one (helpers, drivers, tables, float kernels) includes the matmul tiles
 * by family: wasm128_q0.h (Q8_0, Q4_0), wasm128_kquant.h (K-quants, IQ4_XS), wasm128_q32.h (Q5_0, Q4_1, Q5_1,
 * IQ4_NL), wasm128_fast.h (the SIMD128 fast table's Q8_0, Q4_0_R8 and Q4_K_R8 drivers), wasm128_fast_x8.h (its
 * Q4_0_X8 and Q4_K_X8 tiles) and, in the relaxed build, wasm128_x8.h (the relaxed X8 tiles).
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
#include <stdatomic.h>
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

#include "wasm128_q0.h"
#include "wasm128_kquant.h"
#include "wasm128_q32.h"

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
#define TILE_Q4_K_R8(RW, NB, ...) tile_q4k_r8w(RW, NB, 0, __VA_ARGS__, NULL, 0)
#define TILE_Q6_K(NB, ...) tile_q6_K(NB, 2, 0, __VA_ARGS__)
#define TILE_Q5_K(NB, ...) tile_q5_K(NB, 2, 0, __VA_ARGS__)
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
MM_ROW(mm_q6_K, TILE_Q6_K)
MM_ROW(mm_q5_K, TILE_Q5_K)
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
 * tests/node/logits.test.mjs holds the model-level outcome to llama.cpp's backend-comparison measures.
 * SIMD128's Q8_0, Q4_0_R8 and Q4_K_R8 (wasm128_fast.h): the activation rows split into i16 halves once per call,
 * not once per tile; Q8_0's and Q4_0_R8's lanes stay in f64 between blocks, rounded to float by Veltkamp's split
 * (round_f32: flops, where demote + promote would queue on x86's shuffle port). Q8_0 keeps the contract's eight
 * lanes and fmaf per lane: a multiply and an add in f32 instead (~3x faster) moved llama3-tiny-Q8_0's mean KL
 * from 0 to 6e-5 and qwen3-tiny-Q8_0's top-1 to 98.2% (these random-weight models amplify any last-bit change
 * through the next layer's int8 rounding), far outside the agreement limits. */
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

#include "wasm128_fast.h"
#include "wasm128_fast_x8.h"

static void f_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                     size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int tb = nb >= 2 && n % 16 == 0;
    switch (type) {
    case PLM_T_Q8_0: mm_q0_split(1, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: mm_q0_split(0, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4k_split(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_X8: mm_q4_0_x8s(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_X8: mm_q4k_x8s(n, W, ws, nr, A, as, nb, out, ldo); break;
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
/* relaxed: integer sums by the relaxed dot where a 7-bit operand exists (Q4_0, Q4_K, Q5_K, Q6_K, Q5_0, Q4_1, Q5_1;
 * IQ4_XS and Q3_K by the sign trick); the float updates by relaxed_madd when the engine fuses it (_f), else by the
 * exact emulation (_e) */
#define TILE_Q8_0_F(RW, NB, ...) tile_q8_0(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_F(RW, NB, ...) tile_q4_0_rdot(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_E(RW, NB, ...) tile_q4_0_rdot(RW, NB, 0, __VA_ARGS__)
#define TILE_Q4_0_R8_F(RW, NB, ...) tile_q4_0_r8_rdot(RW, NB, 1, __VA_ARGS__)
#define TILE_Q4_0_R8_E(RW, NB, ...) tile_q4_0_r8_rdot(RW, NB, 0, __VA_ARGS__)
#define TILE_TB32_F(RW, NB, ...) tile_tb(RW, NB, 0, 1, __VA_ARGS__)
#define TILE_Q4_K_F(NB, ...) tile_q4_K(NB, 0, 1, 1, __VA_ARGS__)
#define TILE_Q4_K_E(NB, ...) tile_q4_K(NB, 0, 1, 0, __VA_ARGS__)
#define TILE_Q4_K_R8_X(NB, ...) tile_q4_K(NB, 1, 1, 0, __VA_ARGS__)
#define TILE_Q6_K_F(NB, ...) tile_q6_K(NB, 0, 1, __VA_ARGS__)
#define TILE_Q6_K_E(NB, ...) tile_q6_K(NB, 0, 0, __VA_ARGS__)
#define TILE_Q6_K_F16(NB, ...) tile_q6_K(NB, 1, 1, __VA_ARGS__)
#define TILE_Q6_K_E16(NB, ...) tile_q6_K(NB, 1, 0, __VA_ARGS__)
#define TILE_Q5_K_F(NB, ...) tile_q5_K(NB, 0, 1, __VA_ARGS__)
#define TILE_Q5_K_E(NB, ...) tile_q5_K(NB, 0, 0, __VA_ARGS__)
#define TILE_Q5_K_F16(NB, ...) tile_q5_K(NB, 1, 1, __VA_ARGS__)
#define TILE_Q5_K_E16(NB, ...) tile_q5_K(NB, 1, 0, __VA_ARGS__)
#define TILE_Q5_0_F(RW, NB, ...) tile_q32r(RW, NB, T32_Q5_0, __VA_ARGS__)
#define TILE_IQ4_XS_F(NB, ...) tile_iq4_xs(NB, 0, 1, __VA_ARGS__)
#define TILE_IQ4_XS_E(NB, ...) tile_iq4_xs(NB, 0, 0, __VA_ARGS__)
#define TILE_IQ4_XS_F16(NB, ...) tile_iq4_xs(NB, 1, 1, __VA_ARGS__)
#define TILE_IQ4_XS_E16(NB, ...) tile_iq4_xs(NB, 1, 0, __VA_ARGS__)
#define TILE_Q3_K_F(NB, ...) tile_q3_K(NB, 0, 1, __VA_ARGS__)
#define TILE_Q3_K_E(NB, ...) tile_q3_K(NB, 0, 0, __VA_ARGS__)
#define TILE_Q3_K_F16(NB, ...) tile_q3_K(NB, 1, 1, __VA_ARGS__)
#define TILE_Q3_K_E16(NB, ...) tile_q3_K(NB, 1, 0, __VA_ARGS__)
#define TILE_Q4_1_F(RW, NB, ...) tile_q32r(RW, NB, T32_Q4_1, __VA_ARGS__)
#define TILE_Q5_1_F(RW, NB, ...) tile_q32r(RW, NB, T32_Q5_1, __VA_ARGS__)
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
MM_ROW(mm_q6_K_f16, TILE_Q6_K_F16)
MM_ROW(mm_q6_K_e16, TILE_Q6_K_E16)
MM_ROW(mm_q5_K_f, TILE_Q5_K_F)
MM_ROW(mm_q5_K_e, TILE_Q5_K_E)
MM_ROW(mm_q5_K_f16, TILE_Q5_K_F16)
MM_ROW(mm_q5_K_e16, TILE_Q5_K_E16)
MM_LEAN(mm_q5_0_f, TILE_Q5_0_F)
MM_ROW(mm_iq4_xs_f, TILE_IQ4_XS_F)
MM_ROW(mm_iq4_xs_e, TILE_IQ4_XS_E)
MM_ROW(mm_iq4_xs_f16, TILE_IQ4_XS_F16)
MM_ROW(mm_iq4_xs_e16, TILE_IQ4_XS_E16)
MM_ROW(mm_q3_K_f, TILE_Q3_K_F)
MM_ROW(mm_q3_K_e, TILE_Q3_K_E)
MM_ROW(mm_q3_K_f16, TILE_Q3_K_F16)
MM_ROW(mm_q3_K_e16, TILE_Q3_K_E16)
MM_LEAN(mm_q4_1_f, TILE_Q4_1_F)
MM_LEAN(mm_q5_1_f, TILE_Q5_1_F)
MM_ROW(mm_iq4_nl_f, TILE_IQ4_NL_F)
MM_ROW(mm_q2_K_f, TILE_Q2_K_F)
MM_Q0(mm_iq4_nl_r8_f, TILE_IQ4_NL_R8_F, PLM_T_IQ4_NL_R8)

#include "wasm128_x8.h"

/* Q4_0_R8 and Q4_K_R8 matrices go to the X8 layouts (simd.h), read by tile_x8 and tile_q4k_x8 */
static int r_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q4_0_R8 && plm_repack_q4_0_x8(w, n, nr)) return PLM_T_Q4_0_X8;
    if (type == PLM_T_Q4_K_R8 && plm_repack_q4_K_x8(w, n, nr)) return PLM_T_Q4_K_X8;
    return type;
}

/* the fast table's: Q8_0 too (tile_q8x4) */
static int rf_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q8_0 && plm_repack_q8_0_x8(w, n, nr)) return PLM_T_Q8_0_X8;
    return r_repack(type, w, n, nr);
}

/* F: relaxed_madd is the float update (the engine fuses it, or the fast table, which takes it either way); else
 * the exact emulation. Q8F: Q8_0 by whole-block integer sums (fast table: its eight-lane form costs speed). */
INLINE void r_mm(const int F, const int Q8F, int type, int n, const void *w, size_t ws, int nr, const void *a,
                 size_t as, int nb, float *out, size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int f = F, tb = nb >= 2 && n % 16 == 0, x86 = dot_x86();
    switch (type) {
    case PLM_T_Q8_0: (Q8F ? mm_q8_0_fast : f ? mm_q8_0_f : mm_q8_0)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0: (f ? mm_q4_0_f : mm_q4_0_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: (f ? mm_q4_0_r8_f : mm_q4_0_r8_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_X8:
        if (f) x86 ? mm_x8(1, 1, n, W, ws, nr, A, as, nb, out, ldo) : mm_x8(1, 0, n, W, ws, nr, A, as, nb, out, ldo);
        else x86 ? mm_x8(0, 1, n, W, ws, nr, A, as, nb, out, ldo) : mm_x8(0, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q8_0_X8:
        x86 ? mm_q8x(1, n, W, ws, nr, A, as, nb, out, ldo) : mm_q8x(0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q4_K_X8:
        if (f) x86 ? mm_q4k_x8(1, 1, n, W, ws, nr, A, as, nb, out, ldo) : mm_q4k_x8(1, 0, n, W, ws, nr, A, as, nb, out, ldo);
        else x86 ? mm_q4k_x8(0, 1, n, W, ws, nr, A, as, nb, out, ldo) : mm_q4k_x8(0, 0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q4_K: (f ? mm_q4_K_f : mm_q4_K_e)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4_K_r8_x(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q6_K:
        (x86 ? (f ? mm_q6_K_f16 : mm_q6_K_e16) : (f ? mm_q6_K_f : mm_q6_K_e))(n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q5_K:
        (x86 ? (f ? mm_q5_K_f16 : mm_q5_K_e16) : (f ? mm_q5_K_f : mm_q5_K_e))(n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q5_0: (f ? mm_q5_0_f : mm_q5_0)(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_IQ4_XS:
        (x86 ? (f ? mm_iq4_xs_f16 : mm_iq4_xs_e16) : (f ? mm_iq4_xs_f : mm_iq4_xs_e))(n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_Q3_K:
        (x86 ? (f ? mm_q3_K_f16 : mm_q3_K_e16) : (f ? mm_q3_K_f : mm_q3_K_e))(n, W, ws, nr, A, as, nb, out, ldo);
        break;
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
    WASM_KERNELS("wasm128", f_matmul, f_silu_mul, f_dot_f32, f_mad_f16, f_repack, &plm_kernels_wasm128_exact);
#ifdef PLM_BACKEND_WASM_RELAXED
const plm_kernels plm_kernels_wasm_relaxed_exact =
    WASM_KERNELS("wasm-relaxed-exact", r_matmul, r_silu_mul, r_dot_f32, r_mad_f16, r_repack, NULL);
const plm_kernels plm_kernels_wasm_relaxed =
    WASM_KERNELS("wasm-relaxed", rf_matmul, f_silu_mul, f_dot_f32, f_mad_f16, rf_repack, &plm_kernels_wasm_relaxed_exact);
#endif
