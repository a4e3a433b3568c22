/* NEON backend (AArch64 Advanced SIMD), with an ARMv8.2 dot-product path (SDOT, vdotq_s32) compiled in when the
 * compiler targets it (-march=armv8.2-a+dotprod or any -mcpu that has it: __ARM_FEATURE_DOTPROD).
 *
 * The kernels follow the scalar reference's orders (simd/scalar.c, "Arithmetic contract": llama.cpp's x86
 * arithmetic) in both builds: FMLA/FMLS are the contract's fused multiply-adds, FCVTL/FCVTN its f16 conversions
 * (round to nearest even, NaN payloads kept the same way), FCVTNS its round-half-even. tests/c/test_kernels.c holds
 * every kernel to the reference bit for bit (float_exact 1 there: the F16/F32 matmuls, dot_f32/dot_f16, rmsnorm
 * and axpy too), and tests/neon-agreement.mjs (make test-neon-agreement) holds F16/F32 models' logits under qemu
 * to the x86 build's, bit for bit.
 *   quantize_row Q8_0 / Q8_K / F16     vectorized, same roundings
 *   matmul Q4_0 / Q8_0 / Q4_K / Q5_K / Q6_K / Q5_0 / Q3_K / IQ4_XS / Q4_1 / Q5_1 / IQ4_NL / Q2_K  the contract's eight float lanes, lane L fed the integer sum of products
 *                                      4L..4L+3 of each 32 values: that is SDOT's layout (without SDOT: SMULL +
 *                                      pairwise adds give the same lanes), one fused update per block, red8
 *   Q4_0_R8 / Q4_K_R8                  one float per output, one fma per block (Q4_K_R8: per 64 values for full
 *                                      groups of 4 activation rows, llama.cpp's gemm)
 *   F32 / F16 (and the *_TB variants with nb == 1 or n % 16 != 0), dot_f32 / dot_f16: 4 x 16 fma lanes over
 *                                      n & ~63, red16, the contract's tail; *_TB with nb >= 2: 16 fma lanes, red16
 *   mad_f16, scale_f16, axpy, f16<->f32, rmsnorm (scalar's sequential double sum of squares, vector scaling)
 *   silu_mul                           plm_expf_ggml lane for lane (glibc's expf for the last n % 16)
 *   rope                               scalar (through plm_kernels_scalar)
 *
 * matmul tiles: each pass over a weight row serves up to 4 activation rows (prefill); a single activation row
 * (decode) is served 4 weight rows at a time for Q4_0/Q8_0 (and *_TB), so there are always 4 independent outputs
 * (and dependency chains) per pass. Q8 activations are in [-127, 127] (both quantizers guarantee it), which keeps
 * the int16 pair sums of the SMULL path from overflowing.
 *
 * Weight and activation rows may start at any byte address (GGUF, and the tests, do not align them): all block
 * loads are byte loads (LD1 of bytes, memcpy for scalars).
 */
#include "simd.h"
#include "tiling.h"

#if !defined(__aarch64__) && !defined(_M_ARM64)
#error "simd/neon.c is the AArch64 backend: build it with an aarch64 compiler (aarch64-linux-gnu-gcc)"
#endif

#include <arm_neon.h>
#include <math.h>
#include <string.h>

#ifdef __clang__
#pragma clang fp contract(off) /* mul-then-add where scalar does that: exactness depends on it */
#endif

#if defined(__GNUC__) || defined(__clang__)
#define INLINE static inline __attribute__((always_inline))
#else
#define INLINE static inline
#endif

/* ---------------------------------------------------------------- small helpers */
static inline uint16_t ld16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return v; }
static inline float ldf(const uint8_t *p) { float f; memcpy(&f, p, 4); return f; }

/* one half -> float with the same instruction family as the vector path (exact, like plm_f16_to_f32) */
static inline float h2f(uint16_t h) { return vgetq_lane_f32(vcvt_f32_f16(vreinterpret_f16_u16(vdup_n_u16(h))), 0); }
static inline uint16_t f2h(float f) { return vget_lane_u16(vreinterpret_u16_f16(vcvt_f16_f32(vdupq_n_f32(f))), 0); }

/* four halves (lanes 0..3) -> floats */
static inline float32x4_t h4(const uint16_t h[4]) { return vcvt_f32_f16(vreinterpret_f16_u16(vld1_u16(h))); }

/* 8 halves at any byte address -> 2 x float32x4 */
static inline void ld_f16x8(const uint8_t *p, float32x4_t *lo, float32x4_t *hi) {
    const float16x8_t h = vreinterpretq_f16_u8(vld1q_u8(p));
    *lo = vcvt_f32_f16(vget_low_f16(h));
    *hi = vcvt_high_f32_f16(h);
}
static inline float32x4_t ld_f32x4(const uint8_t *p) { return vreinterpretq_f32_u8(vld1q_u8(p)); }

/* lane k of the result = sum of the lanes of a[k] */
static inline int32x4_t hsum4_s32(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3) {
    return vpaddq_s32(vpaddq_s32(a0, a1), vpaddq_s32(a2, a3));
}

/* lane k = the sum of the products of elements 4k..4k+3 of 16 int8 pairs (SDOT's layout). Without SDOT the
 * pairs are summed in int16 first: |a*b| <= 128*127 because the second operand is a Q8 activation (never -128). */
static inline int32x4_t dot16(int8x16_t a, int8x16_t b) {
#if defined(__ARM_FEATURE_DOTPROD)
    return vdotq_s32(vdupq_n_s32(0), a, b);
#else
    const int16x8_t p0 = vmull_s8(vget_low_s8(a), vget_low_s8(b));
    const int16x8_t p1 = vmull_high_s8(a, b);
    return vpaddlq_s16(vpaddq_s16(p0, p1));
#endif
}

/* scalar's hsum8 of the eight lanes lo = acc[0..3], hi = acc[4..7]: r_k = acc[k] + acc[k+4], (r0+r2) + (r1+r3) */
static inline float hsum8(float32x4_t lo, float32x4_t hi) {
    const float32x4_t r = vaddq_f32(lo, hi);
    return vaddv_f32(vadd_f32(vget_low_f32(r), vget_high_f32(r)));
}

/* ---------------------------------------------------------------- f16 <-> f32 */
static void cvt_h2f(const uint8_t *x, float *y, int n) {
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        float32x4_t a, b, c, d;
        ld_f16x8(x + 2 * i, &a, &b);
        ld_f16x8(x + 2 * i + 16, &c, &d);
        vst1q_f32(y + i, a), vst1q_f32(y + i + 4, b), vst1q_f32(y + i + 8, c), vst1q_f32(y + i + 12, d);
    }
    for (; i + 8 <= n; i += 8) {
        float32x4_t a, b;
        ld_f16x8(x + 2 * i, &a, &b);
        vst1q_f32(y + i, a), vst1q_f32(y + i + 4, b);
    }
    for (; i < n; i++) y[i] = h2f(ld16(x + 2 * i));
}

static void cvt_f2h(const float *x, uint8_t *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const float16x8_t h = vcvt_high_f16_f32(vcvt_f16_f32(vld1q_f32(x + i)), vld1q_f32(x + i + 4));
        vst1q_u8(y + 2 * i, vreinterpretq_u8_f16(h));
    }
    for (; i < n; i++) {
        const uint16_t h = f2h(x[i]);
        memcpy(y + 2 * i, &h, 2);
    }
}

static void n_f16_to_f32(const plm_f16 *x, float *y, int n) { cvt_h2f((const uint8_t *)x, y, n); }
static void n_f32_to_f16(const float *x, plm_f16 *y, int n) { cvt_f2h(x, (uint8_t *)y, n); }

/* ---------------------------------------------------------------- activation quantizers */
/* ggml's x86 Q8_0 quantizer (as scalar): d = amax/127 (stored as f16), q = round-half-even(x * (127/amax)) (FCVTNS);
 * the products are the same single float multiplications. */
static void quant_q8_0(const float *x, uint8_t *y, int n) {
    for (int ib = 0; ib < n / QK8_0; ib++, x += QK8_0, y += sizeof(block_q8_0)) {
        float32x4_t v[8];
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < 8; j++) {
            v[j] = vld1q_f32(x + 4 * j);
            m = vmaxq_f32(m, vabsq_f32(v[j]));
        }
        const float amax = vmaxvq_f32(m);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const uint16_t dh = f2h(d);
        memcpy(y, &dh, 2);
        for (int j = 0; j < 8; j += 2) {
            const int32x4_t i0 = vcvtnq_s32_f32(vmulq_n_f32(v[j], id));
            const int32x4_t i1 = vcvtnq_s32_f32(vmulq_n_f32(v[j + 1], id));
            const int16x8_t s = vcombine_s16(vmovn_s32(i0), vmovn_s32(i1));
            vst1_s8((int8_t *)(void *)(y + 2 + 4 * j), vmovn_s16(s));
        }
    }
}

/* quantize_row_q8_K_ref: max = the signed value of the first element of largest magnitude, iscale = -127/max,
 * q = min(127, nearest_int(iscale*x)) (FCVTNS: ties to even, like nearest_int), d = 1/iscale, bsums of 16. */
static void quant_q8_K(const float *x, uint8_t *y, int n) {
    for (int ib = 0; ib < n / QK_K; ib++, x += QK_K, y += sizeof(block_q8_K)) {
        float32x4_t m = vdupq_n_f32(0.0f);
        for (int j = 0; j < QK_K; j += 4) m = vmaxq_f32(m, vabsq_f32(vld1q_f32(x + j)));
        const float amax = vmaxvq_f32(m);
        if (amax == 0.0f) { /* all zero: what scalar writes */
            memset(y, 0, sizeof(block_q8_K));
            continue;
        }
        float max = 0.0f;
        const float32x4_t am = vdupq_n_f32(amax);
        for (int j = 0; j < QK_K; j += 4) {
            if (vmaxvq_u32(vceqq_f32(vabsq_f32(vld1q_f32(x + j)), am))) {
                int l = 0;
                while (l < 3 && fabsf(x[j + l]) != amax) l++;
                max = x[j + l];
                break;
            }
        }
        const float iscale = -127.0f / max;
        int8_t *qs = (int8_t *)(void *)(y + offsetof(block_q8_K, qs));
        const int32x4_t lim = vdupq_n_s32(127);
        for (int j = 0; j < QK_K; j += 16) {
            int32x4_t q[4];
            for (int k = 0; k < 4; k++) q[k] = vminq_s32(vcvtnq_s32_f32(vmulq_n_f32(vld1q_f32(x + j + 4 * k), iscale)), lim);
            const int16x8_t s0 = vcombine_s16(vmovn_s32(q[0]), vmovn_s32(q[1]));
            const int16x8_t s1 = vcombine_s16(vmovn_s32(q[2]), vmovn_s32(q[3]));
            const int8x16_t b = vcombine_s8(vmovn_s16(s0), vmovn_s16(s1));
            vst1q_s8(qs + j, b);
            const int16_t bs = vaddlvq_s8(b);
            memcpy(y + offsetof(block_q8_K, bsums) + 2 * (j / 16), &bs, 2);
        }
        const float d = 1.0f / iscale;
        memcpy(y, &d, 4);
    }
}

static void n_quantize_row(int act_type, const float *x, void *out, int n) {
    switch (act_type) {
    case PLM_T_Q8_0: quant_q8_0(x, (uint8_t *)out, n); break;
    case PLM_T_Q8_K: quant_q8_K(x, (uint8_t *)out, n); break;
    case PLM_T_F16: cvt_f2h(x, (uint8_t *)out, n); break;
    default: plm_kernels_scalar.quantize_row(act_type, x, out, n); break;
    }
}

/* ---------------------------------------------------------------- matmul tiles
 * A tile computes RW weight rows x NB activation rows (RW*NB <= 4) in one pass: output (r, b) lives in lane
 * k = r*NB + b of the float accumulator, so per-output float arithmetic is exactly scalar's. RW and NB are
 * compile-time constants at every call site (the tile functions are forced inline). */

#define UNROLL _Pragma("GCC unroll 4")

/* the four f16 scales of a tile's lanes: dw[k] from weight row r, da[k] from activation row b */
INLINE void tile_scales(const int RW, const int NB, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                        size_t woff, size_t aoff, float32x4_t *dw, float32x4_t *da) {
    uint16_t hw[4] = { 0, 0, 0, 0 }, ha[4] = { 0, 0, 0, 0 };
    UNROLL for (int r = 0; r < RW; r++) {
        const uint16_t h = ld16(w + (size_t)r * ws + woff);
        UNROLL for (int b = 0; b < NB; b++) hw[r * NB + b] = h;
    }
    UNROLL for (int b = 0; b < NB; b++) {
        const uint16_t h = ld16(a + (size_t)b * as + aoff);
        UNROLL for (int r = 0; r < RW; r++) ha[r * NB + b] = h;
    }
    *dw = h4(hw);
    *da = h4(ha);
}

/* Q8_0 / Q4_0 weights x Q8_0 activations, scalar's arithmetic: per output eight float lanes (lo = lanes 0..3, hi =
 * 4..7); per block, lane k = fma(dw*da, (float)(integer sum of products 4k..4k+3), lane k); then red8. Q4_0's element
 * j < 16 is the low nibble of byte j, element 16+j the high nibble (minus 8). R8 (Q4_0_R8, llama.cpp's repacked
 * order): one float per output, acc = fma((float)(the block's whole integer dot), dw*da, acc), the tile's outputs
 * in the lanes of one vector. */
INLINE void tile_q0(const int RW, const int NB, const int Q4, const int R8, int n, const uint8_t *w, size_t ws,
                    const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t wbs = Q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t s8 = vdupq_n_s8(8);
    float32x4_t lo[4], hi[4], acc = vdupq_n_f32(0.0f);
    UNROLL for (int k = 0; k < 4; k++) lo[k] = hi[k] = vdupq_n_f32(0.0f);
    for (int ib = 0; ib < n / QK8_0; ib++) {
        const size_t woff = (size_t)ib * wbs, aoff = (size_t)ib * sizeof(block_q8_0);
        int8x16_t w0[4], w1[4], a0[4], a1[4];
        UNROLL for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + woff + 2;
            if (Q4) {
                const uint8x16_t q = vld1q_u8(p);
                w0[r] = vsubq_s8(vreinterpretq_s8_u8(vandq_u8(q, m4)), s8);
                w1[r] = vsubq_s8(vreinterpretq_s8_u8(vshrq_n_u8(q, 4)), s8);
            } else {
                w0[r] = vld1q_s8((const int8_t *)p), w1[r] = vld1q_s8((const int8_t *)(p + 16));
            }
        }
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            a0[b] = vld1q_s8((const int8_t *)p), a1[b] = vld1q_s8((const int8_t *)(p + 16));
        }
        float32x4_t dw, da;
        tile_scales(RW, NB, w, ws, a, as, woff, aoff, &dw, &da);
        const float32x4_t dv = vmulq_f32(dw, da);
        if (R8) {
            int32x4_t s[4];
            UNROLL for (int k = 0; k < 4; k++) s[k] = vdupq_n_s32(0);
            UNROLL for (int r = 0; r < RW; r++) UNROLL for (int b = 0; b < NB; b++)
                s[r * NB + b] = vaddq_s32(dot16(w0[r], a0[b]), dot16(w1[r], a1[b]));
            acc = vfmaq_f32(acc, vcvtq_f32_s32(hsum4_s32(s[0], s[1], s[2], s[3])), dv);
        } else {
            float d[4];
            vst1q_f32(d, dv);
            UNROLL for (int r = 0; r < RW; r++) UNROLL for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                lo[k] = vfmaq_n_f32(lo[k], vcvtq_f32_s32(dot16(w0[r], a0[b])), d[k]);
                hi[k] = vfmaq_n_f32(hi[k], vcvtq_f32_s32(dot16(w1[r], a1[b])), d[k]);
            }
        }
    }
    float res[4];
    vst1q_f32(res, acc);
    UNROLL for (int r = 0; r < RW; r++) UNROLL for (int b = 0; b < NB; b++)
        out[(size_t)b * ldo + r] = R8 ? res[r * NB + b] : hsum8(lo[r * NB + b], hi[r * NB + b]);
}

#define TILE_Q8_0(RW, NB, ...) tile_q0(RW, NB, 0, 0, __VA_ARGS__)
#define TILE_Q4_0(RW, NB, ...) tile_q0(RW, NB, 1, 0, __VA_ARGS__)
#define TILE_Q4_0_R8(RW, NB, ...) tile_q0(RW, NB, 1, 1, __VA_ARGS__)

/* lane L = x_2L*y_2L + x_2L+1*y_2L+1 (eight int16 pairs: bsums times scales or mins) */
static inline int32x4_t pair_dot_s16(int16x8_t x, int16x8_t y) {
    return vpaddq_s32(vmull_s16(vget_low_s16(x), vget_low_s16(y)), vmull_high_s16(x, y));
}
/* an activation block's 16 bsums in 8 pairs (one sum per 32 values) */
static inline int16x8_t bsums_by32(const uint8_t *ab) {
    return vpaddq_s16(vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums))),
                      vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums) + 16)));
}
/* lo/hi = fma(d, (float)slo/shi, lo/hi): one block's integer lanes into the float lanes */
INLINE void fold8(float32x4_t *lo, float32x4_t *hi, int32x4_t slo, int32x4_t shi, float d) {
    *lo = vfmaq_n_f32(*lo, vcvtq_f32_s32(slo), d);
    *hi = vfmaq_n_f32(*hi, vcvtq_f32_s32(shi), d);
}
/* 64-value pair j of a Q4_K / Q5_K block times q8 (its 64 values): s0 * (l . q8[0..31]) + s1 * (h . q8[32..63]),
 * lanes 0..3 of the first 16 of each half in *tlo, the second 16 in *thi */
INLINE void k4_pair(int8x16_t l0, int8x16_t l1, int8x16_t h0, int8x16_t h1, int s0, int s1, const int8_t *q8,
                    int32x4_t *tlo, int32x4_t *thi) {
    *tlo = vmlaq_n_s32(vmulq_n_s32(dot16(l0, vld1q_s8(q8)), s0), dot16(h0, vld1q_s8(q8 + 32)), s1);
    *thi = vmlaq_n_s32(vmulq_n_s32(dot16(l1, vld1q_s8(q8 + 16)), s0), dot16(h1, vld1q_s8(q8 + 48)), s1);
}
/* 16 bytes, 0x10 where bit 16h + e of the 32-bit word at qh is set (the fifth bit of Q5_0 / Q5_1 element 16h + e) */
static inline uint8x16_t fifth_bits(const uint8_t *qh, int h) {
    const uint8x16_t bits = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
    return vandq_u8(vtstq_u8(vcombine_u8(vdup_n_u8(qh[2 * h]), vdup_n_u8(qh[2 * h + 1])), bits), vdupq_n_u8(0x10));
}

/* Q4_K x Q8_K, one weight row, NB activation rows, scalar's arithmetic (ggml's AVX2 kernel): eight int32 lanes,
 * lane L += scale * (sum of products 4L..4L+3 of a 32-value sub-block), i.e. SDOT's layout; per super-block
 * acc[L] = fma(d, lane L, acc[L]); the mins in four lanes (pairs of bsums), accm[p] = fma(-dy*dmin, ., accm[p]);
 * result hsum8(acc) + ((accm0 + accm2) + (accm1 + accm3)).
 * R8 (Q4_K_R8, llama.cpp's repacked kernels): one float per output for the scales and one for the mins, result
 * acc - accm. Activation rows in full groups of 4 (NB == 4: llama.cpp's gemm) fuse every 64-value pair of
 * sub-blocks, acc = fma((float)(sc_2p*dot_2p + sc_2p+1*dot_2p+1), dw*dy, acc) and likewise the mins; the others
 * (gemv) add the four pairs as integers and fuse once per super-block. */
INLINE void tile_q4_K(const int NB, const int R8, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                      size_t ldo) {
    const int per_pair = R8 && NB == 4;
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    float32x4_t lo[4], hi[4], am[4];
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = am[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q4_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        plm_q4k_unpack(wb + offsetof(block_q4_K, scales), sc, mn);
        const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q4_K, dmin)));
        const uint8_t *q4 = wb + offsetof(block_q4_K, qs);
        int32x4_t slo[4], shi[4], prod[4];
        int32_t pm[4][4]; /* prod's lanes, for the per-pair fmas */
        float dy[4];
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            slo[b] = shi[b] = vdupq_n_s32(0);
            dy[b] = ldf(ab);
            prod[b] = pair_dot_s16(bsums_by32(ab), mins); /* lane p: mn_2p*S_2p + mn_2p+1*S_2p+1 */
            vst1q_s32(pm[b], prod[b]);
        }
        for (int j = 0; j < QK_K / 64; j++) {
            const uint8x16_t qa = vld1q_u8(q4 + 32 * j), qb = vld1q_u8(q4 + 32 * j + 16);
            const int8x16_t l0 = vreinterpretq_s8_u8(vandq_u8(qa, m4)), l1 = vreinterpretq_s8_u8(vandq_u8(qb, m4));
            const int8x16_t h0 = vreinterpretq_s8_u8(vshrq_n_u8(qa, 4)), h1 = vreinterpretq_s8_u8(vshrq_n_u8(qb, 4));
            const int s0 = sc[2 * j], s1 = sc[2 * j + 1];
            UNROLL for (int b = 0; b < NB; b++) {
                const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 64 * j;
                int32x4_t tlo, thi;
                k4_pair(l0, l1, h0, h1, s0, s1, q8, &tlo, &thi);
                if (per_pair) {
                    acc[b] = fmaf((float)vaddvq_s32(vaddq_s32(tlo, thi)), dw * dy[b], acc[b]);
                    accm[b] = fmaf((float)pm[b][j], dminw * dy[b], accm[b]);
                } else {
                    slo[b] = vaddq_s32(slo[b], tlo), shi[b] = vaddq_s32(shi[b], thi);
                }
            }
        }
        UNROLL for (int b = 0; b < NB; b++) {
            if (per_pair) continue;
            if (R8) { /* gemv: whole-block sums, one fma each */
                acc[b] = fmaf((float)vaddvq_s32(vaddq_s32(slo[b], shi[b])), dw * dy[b], acc[b]);
                accm[b] = fmaf((float)vaddvq_s32(prod[b]), dminw * dy[b], accm[b]);
            } else {
                const float d = dy[b] * dw, dmin = -dy[b] * dminw;
                am[b] = vfmaq_n_f32(am[b], vcvtq_f32_s32(prod[b]), dmin);
                fold8(&lo[b], &hi[b], slo[b], shi[b], d);
            }
        }
    }
    UNROLL for (int b = 0; b < NB; b++)
        out[(size_t)b * ldo] = R8 ? acc[b] - accm[b]
                                  : hsum8(lo[b], hi[b]) + vaddv_f32(vadd_f32(vget_low_f32(am[b]), vget_high_f32(am[b])));
}

#define TILE_Q4_K(NB, ...) tile_q4_K(NB, 0, __VA_ARGS__)
#define TILE_Q4_K_R8(NB, ...) tile_q4_K(NB, 1, __VA_ARGS__)

/* Q5_K x Q8_K, one weight row, NB activation rows (scalar vdot_q5_K): tile_q4_K's lanes (non-R8) on the 5-bit
 * quants (nibble | bit 2j or 2j+1 of qh << 4); the mins are one integer per super-block, summs = fma(-dy*dmin, m,
 * summs); result hsum8(lanes) + summs. */
INLINE void tile_q5_K(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), one = vdupq_n_u8(1);
    float32x4_t lo[4], hi[4];
    float summs[4] = { 0, 0, 0, 0 };
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q5_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        plm_q4k_unpack(wb + offsetof(block_q5_K, scales), sc, mn);
        const int16x8_t mins = vreinterpretq_s16_u16(vmovl_u8(vld1_u8(mn)));
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q5_K, dmin)));
        const uint8_t *q5 = wb + offsetof(block_q5_K, qs);
        const uint8x16_t qh0 = vld1q_u8(wb + offsetof(block_q5_K, qh)), qh1 = vld1q_u8(wb + offsetof(block_q5_K, qh) + 16);
        int32x4_t slo[4], shi[4];
        int32_t m[4];
        float dy[4];
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            slo[b] = shi[b] = vdupq_n_s32(0);
            dy[b] = ldf(ab);
            m[b] = vaddvq_s32(pair_dot_s16(bsums_by32(ab), mins));
        }
        for (int j = 0; j < QK_K / 64; j++) {
            const int8x16_t r0 = vdupq_n_s8((int8_t)(-2 * j)), r1 = vdupq_n_s8((int8_t)(-2 * j - 1));
            const uint8x16_t qa = vld1q_u8(q5 + 32 * j), qb = vld1q_u8(q5 + 32 * j + 16);
            const int8x16_t l0 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(qa, m4), vshlq_n_u8(vandq_u8(vshlq_u8(qh0, r0), one), 4)));
            const int8x16_t l1 = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(qb, m4), vshlq_n_u8(vandq_u8(vshlq_u8(qh1, r0), one), 4)));
            const int8x16_t h0 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(qa, 4), vshlq_n_u8(vandq_u8(vshlq_u8(qh0, r1), one), 4)));
            const int8x16_t h1 = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(qb, 4), vshlq_n_u8(vandq_u8(vshlq_u8(qh1, r1), one), 4)));
            const int s0 = sc[2 * j], s1 = sc[2 * j + 1];
            UNROLL for (int b = 0; b < NB; b++) {
                const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 64 * j;
                int32x4_t tlo, thi;
                k4_pair(l0, l1, h0, h1, s0, s1, q8, &tlo, &thi);
                slo[b] = vaddq_s32(slo[b], tlo), shi[b] = vaddq_s32(shi[b], thi);
            }
        }
        UNROLL for (int b = 0; b < NB; b++) {
            summs[b] = fmaf(-dy[b] * dminw, (float)m[b], summs[b]);
            fold8(&lo[b], &hi[b], slo[b], shi[b], dy[b] * dw);
        }
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]) + summs[b];
}
#define TILE_Q5_K(NB, ...) tile_q5_K(NB, __VA_ARGS__)

/* Q5_0 x Q8_0 (scalar vdot_q5_0): per block, lanes 0..3 elements 0..15 (low nibbles), lanes 4..7 elements 16..31,
 * with bit j of qh as the fifth bit, minus 16; lane = fma(dw*da, sum, lane); hsum8. */
INLINE void tile_q5_0(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t sixteen = vdupq_n_s8(16);
    float32x4_t lo[4], hi[4];
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / 32; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q5_0);
        const uint8x16_t h0 = fifth_bits(wb + offsetof(block_q5_0, qh), 0), h1 = fifth_bits(wb + offsetof(block_q5_0, qh), 1);
        const uint8x16_t q = vld1q_u8(wb + offsetof(block_q5_0, qs));
        const int8x16_t w0 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vandq_u8(q, m4), h0)), sixteen);
        const int8x16_t w1 = vsubq_s8(vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(q, 4), h1)), sixteen);
        const float dw = h2f(ld16(wb));
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            const float d = dw * h2f(ld16(ab));
            lo[b] = vfmaq_n_f32(lo[b], vcvtq_f32_s32(dot16(w0, vld1q_s8((const int8_t *)(ab + 2)))), d);
            hi[b] = vfmaq_n_f32(hi[b], vcvtq_f32_s32(dot16(w1, vld1q_s8((const int8_t *)(ab + 18)))), d);
        }
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}
#define TILE_Q5_0(NB, ...) tile_q5_0(NB, __VA_ARGS__)

/* IQ4_XS x Q8_K (scalar vdot_iq4_xs): per 32-value sub-block, lanes 0..3 the first 16 values' levels, lanes 4..7
 * the second 16, times (scale - 32); per super-block lane = fma(dw*dy, sum, lane); hsum8. */
INLINE void tile_iq4_xs(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t values = vld1q_s8(plm_iq4nl_values);
    float32x4_t lo[4], hi[4];
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_iq4_xs);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        int32x4_t slo[4], shi[4];
        UNROLL for (int b = 0; b < NB; b++) slo[b] = shi[b] = vdupq_n_s32(0);
        for (int ib = 0; ib < 8; ib++) {
            const int ls = plm_iq4xs_scale(wb, ib);
            const uint8x16_t q = vld1q_u8(wb + offsetof(block_iq4_xs, qs) + 16 * ib);
            const int8x16_t w0 = vqtbl1q_s8(values, vandq_u8(q, m4)), w1 = vqtbl1q_s8(values, vshrq_n_u8(q, 4));
            UNROLL for (int b = 0; b < NB; b++) {
                const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 32 * ib;
                slo[b] = vmlaq_n_s32(slo[b], dot16(w0, vld1q_s8(q8)), ls);
                shi[b] = vmlaq_n_s32(shi[b], dot16(w1, vld1q_s8(q8 + 16)), ls);
            }
        }
        const float dw = h2f(ld16(wb));
        UNROLL for (int b = 0; b < NB; b++) fold8(&lo[b], &hi[b], slo[b], shi[b], dw * ldf(a + (size_t)b * as + aoff));
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}
#define TILE_IQ4_XS(NB, ...) tile_iq4_xs(NB, __VA_ARGS__)

/* Q3_K x Q8_K (scalar vdot_q3_K): per 32 values (half j, k), lanes 0..3 the first 16 times scale 8j+2k, lanes 4..7
 * the second 16 times scale 8j+2k+1; quants = 2 bits - (hmask bit 4j+k clear ? 4 : 0); lane = fma(dy*dw, sum,
 * lane) per super-block; hsum8. */
INLINE void tile_q3_K(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const uint8x16_t m3 = vdupq_n_u8(3), one = vdupq_n_u8(1);
    const int8x16_t four = vdupq_n_s8(4);
    float32x4_t lo[4], hi[4];
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q3_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        int sc[16];
        plm_q3k_scales(wb + offsetof(block_q3_K, scales), sc);
        const uint8x16_t hm0 = vld1q_u8(wb + offsetof(block_q3_K, hmask)), hm1 = vld1q_u8(wb + offsetof(block_q3_K, hmask) + 16);
        int32x4_t slo[4], shi[4];
        UNROLL for (int b = 0; b < NB; b++) slo[b] = shi[b] = vdupq_n_s32(0);
        for (int j = 0; j < 2; j++) {
            const uint8x16_t qa = vld1q_u8(wb + offsetof(block_q3_K, qs) + 32 * j);
            const uint8x16_t qb = vld1q_u8(wb + offsetof(block_q3_K, qs) + 32 * j + 16);
            for (int k = 0; k < 4; k++) {
                const int8x16_t rs = vdupq_n_s8((int8_t)(-2 * k)), rh = vdupq_n_s8((int8_t)(-(4 * j + k)));
                const uint8x16_t h0 = vshlq_n_u8(vandq_u8(vshlq_u8(hm0, rh), one), 2);
                const uint8x16_t h1 = vshlq_n_u8(vandq_u8(vshlq_u8(hm1, rh), one), 2);
                const int8x16_t w0 = vsubq_s8(vreinterpretq_s8_u8(vaddq_u8(vandq_u8(vshlq_u8(qa, rs), m3), h0)), four);
                const int8x16_t w1 = vsubq_s8(vreinterpretq_s8_u8(vaddq_u8(vandq_u8(vshlq_u8(qb, rs), m3), h1)), four);
                const int s0 = sc[8 * j + 2 * k], s1 = sc[8 * j + 2 * k + 1];
                UNROLL for (int b = 0; b < NB; b++) {
                    const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 128 * j + 32 * k;
                    slo[b] = vmlaq_n_s32(slo[b], dot16(w0, vld1q_s8(q8)), s0);
                    shi[b] = vmlaq_n_s32(shi[b], dot16(w1, vld1q_s8(q8 + 16)), s1);
                }
            }
        }
        const float dw = h2f(ld16(wb + offsetof(block_q3_K, d)));
        UNROLL for (int b = 0; b < NB; b++) fold8(&lo[b], &hi[b], slo[b], shi[b], ldf(a + (size_t)b * as + aoff) * dw);
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}
#define TILE_Q3_K(NB, ...) tile_q3_K(NB, __VA_ARGS__)

/* Q4_1 / Q5_1 x Q8_1 (scalar q_1): lanes of the unsigned quants (Q5_1: bit j of qh as the fifth bit), lane =
 * fma(dw*da, sum, lane); summs = fma(m_w, s_a, summs); result hsum8(lanes) + summs. */
INLINE void tile_q_1(const int NB, const int FIVE, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                     size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const size_t bs = FIVE ? sizeof(block_q5_1) : sizeof(block_q4_1);
    float32x4_t lo[4], hi[4];
    float summs[4] = { 0, 0, 0, 0 };
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / 32; i++) {
        const uint8_t *wb = w + (size_t)i * bs;
        const uint8x16_t q = vld1q_u8(wb + (FIVE ? offsetof(block_q5_1, qs) : offsetof(block_q4_1, qs)));
        uint8x16_t u0 = vandq_u8(q, m4), u1 = vshrq_n_u8(q, 4);
        if (FIVE) {
            u0 = vorrq_u8(u0, fifth_bits(wb + offsetof(block_q5_1, qh), 0));
            u1 = vorrq_u8(u1, fifth_bits(wb + offsetof(block_q5_1, qh), 1));
        }
        const int8x16_t w0 = vreinterpretq_s8_u8(u0), w1 = vreinterpretq_s8_u8(u1);
        const float dw = h2f(ld16(wb)), mw = h2f(ld16(wb + 2));
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_1);
            summs[b] = fmaf(mw, h2f(ld16(ab + 2)), summs[b]);
            const float d = dw * h2f(ld16(ab));
            lo[b] = vfmaq_n_f32(lo[b], vcvtq_f32_s32(dot16(w0, vld1q_s8((const int8_t *)(ab + 4)))), d);
            hi[b] = vfmaq_n_f32(hi[b], vcvtq_f32_s32(dot16(w1, vld1q_s8((const int8_t *)(ab + 20)))), d);
        }
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]) + summs[b];
}
#define TILE_Q4_1(NB, ...) tile_q_1(NB, 0, __VA_ARGS__)
#define TILE_Q5_1(NB, ...) tile_q_1(NB, 1, __VA_ARGS__)

/* IQ4_NL x Q8_0 (scalar vdot_iq4_nl): even and odd blocks in two sets of lanes, added lane by lane before hsum8, an
 * odd last block one fma of its whole dot after. R8 (IQ4_NL_R8): one fma of the whole block dot per block. */
INLINE void tile_iq4_nl(const int NB, const int R8, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                        size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F);
    const int8x16_t values = vld1q_s8(plm_iq4nl_values);
    float32x4_t lo[2][4], hi[2][4];
    float acc[4] = { 0, 0, 0, 0 };
    UNROLL for (int h = 0; h < 2; h++) UNROLL for (int b = 0; b < NB; b++) lo[h][b] = hi[h][b] = vdupq_n_f32(0.0f);
    const int nblk = n / 32, npair = R8 ? 0 : nblk & ~1;
    for (int i = 0; i < nblk; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_iq4_nl);
        const uint8x16_t q = vld1q_u8(wb + 2);
        const int8x16_t w0 = vqtbl1q_s8(values, vandq_u8(q, m4)), w1 = vqtbl1q_s8(values, vshrq_n_u8(q, 4));
        const float dw = h2f(ld16(wb));
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            const float da = h2f(ld16(ab));
            const int32x4_t s0 = dot16(w0, vld1q_s8((const int8_t *)(ab + 2)));
            const int32x4_t s1 = dot16(w1, vld1q_s8((const int8_t *)(ab + 18)));
            if (i < npair) {
                lo[i & 1][b] = vfmaq_n_f32(lo[i & 1][b], vcvtq_f32_s32(s0), da * dw);
                hi[i & 1][b] = vfmaq_n_f32(hi[i & 1][b], vcvtq_f32_s32(s1), da * dw);
            } else if (R8) {
                acc[b] = fmaf((float)vaddvq_s32(vaddq_s32(s0, s1)), dw * da, acc[b]);
            } else { /* the odd last block: after the reduction */
                acc[b] = (float)vaddvq_s32(vaddq_s32(s0, s1));
            }
        }
    }
    UNROLL for (int b = 0; b < NB; b++) {
        if (R8) { out[(size_t)b * ldo] = acc[b]; continue; }
        float s = hsum8(vaddq_f32(lo[0][b], lo[1][b]), vaddq_f32(hi[0][b], hi[1][b]));
        if (npair < nblk) {
            const uint8_t *wb = w + (size_t)npair * sizeof(block_iq4_nl), *ab = a + (size_t)b * as + (size_t)npair * sizeof(block_q8_0);
            s = fmaf(h2f(ld16(ab)) * h2f(ld16(wb)), acc[b], s); /* acc[b]: that block's integer dot, exact in float */
        }
        out[(size_t)b * ldo] = s;
    }
}
#define TILE_IQ4_NL(NB, ...) tile_iq4_nl(NB, 0, __VA_ARGS__)
#define TILE_IQ4_NL_R8(NB, ...) tile_iq4_nl(NB, 1, __VA_ARGS__)

/* Q2_K x Q8_K (scalar vdot_q2_K): per super-block, lanes first take the mins (lane L: mn_2L*bs_2L + mn_2L+1*bs_2L+1,
 * fma with -dy*dmin), then the scaled quants (per 32 values, lanes 0..3 the first 16 times scale 8j+2k, lanes 4..7
 * the second 16 times 8j+2k+1; fma with dy*d); hsum8. R8 (Q2_K_R8): whole sums, acc and accm fused per super-block,
 * or per 128 values for full groups of 4 activation rows (NB == 4: llama.cpp's gemm); result acc - accm. */
INLINE void tile_q2_K(const int NB, const int R8, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                      size_t ldo) {
    const uint8x16_t m3 = vdupq_n_u8(3);
    float32x4_t lo[4], hi[4];
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q2_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const uint8_t *sc = wb + offsetof(block_q2_K, scales);
        const uint8x16_t mn8 = vshrq_n_u8(vld1q_u8(sc), 4);
        const int16x8_t mn0 = vreinterpretq_s16_u16(vmovl_u8(vget_low_u8(mn8)));
        const int16x8_t mn1 = vreinterpretq_s16_u16(vmovl_high_u8(mn8));
        int32x4_t slo[2][4], shi[2][4];
        UNROLL for (int j = 0; j < 2; j++) UNROLL for (int b = 0; b < NB; b++) slo[j][b] = shi[j][b] = vdupq_n_s32(0);
        for (int j = 0; j < 2; j++) {
            const uint8x16_t qa = vld1q_u8(wb + offsetof(block_q2_K, qs) + 32 * j);
            const uint8x16_t qb = vld1q_u8(wb + offsetof(block_q2_K, qs) + 32 * j + 16);
            for (int k = 0; k < 4; k++) {
                const int8x16_t rs = vdupq_n_s8((int8_t)(-2 * k));
                const int8x16_t w0 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(qa, rs), m3));
                const int8x16_t w1 = vreinterpretq_s8_u8(vandq_u8(vshlq_u8(qb, rs), m3));
                const int s0 = sc[8 * j + 2 * k] & 0xF, s1 = sc[8 * j + 2 * k + 1] & 0xF;
                UNROLL for (int b = 0; b < NB; b++) {
                    const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 128 * j + 32 * k;
                    slo[j][b] = vmlaq_n_s32(slo[j][b], dot16(w0, vld1q_s8(q8)), s0);
                    shi[j][b] = vmlaq_n_s32(shi[j][b], dot16(w1, vld1q_s8(q8 + 16)), s1);
                }
            }
        }
        const float dw = h2f(ld16(wb + offsetof(block_q2_K, d))), dminw = h2f(ld16(wb + offsetof(block_q2_K, dmin)));
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const float dy = ldf(ab);
            const int16x8_t bs0 = vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums)));
            const int16x8_t bs1 = vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums) + 16));
            const int32x4_t e0 = pair_dot_s16(bs0, mn0), e1 = pair_dot_s16(bs1, mn1); /* lane L: mn_2L*bs_2L + mn_2L+1*bs_2L+1 */
            if (R8) {
                const int sa = vaddvq_s32(vaddq_s32(slo[0][b], shi[0][b])), sb = vaddvq_s32(vaddq_s32(slo[1][b], shi[1][b]));
                const int ma = vaddvq_s32(e0), mb = vaddvq_s32(e1);
                const float d = dw * dy, dm = dminw * dy;
                if (NB == 4) {
                    acc[b] = fmaf((float)sa, d, acc[b]), accm[b] = fmaf((float)ma, dm, accm[b]);
                    acc[b] = fmaf((float)sb, d, acc[b]), accm[b] = fmaf((float)mb, dm, accm[b]);
                } else {
                    acc[b] = fmaf((float)(sa + sb), d, acc[b]), accm[b] = fmaf((float)(ma + mb), dm, accm[b]);
                }
            } else {
                fold8(&lo[b], &hi[b], e0, e1, -dy * dminw);
                fold8(&lo[b], &hi[b], vaddq_s32(slo[0][b], slo[1][b]), vaddq_s32(shi[0][b], shi[1][b]), dy * dw);
            }
        }
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = R8 ? acc[b] - accm[b] : hsum8(lo[b], hi[b]);
}
#define TILE_Q2_K(NB, ...) tile_q2_K(NB, 0, __VA_ARGS__)
#define TILE_Q2_K_R8(NB, ...) tile_q2_K(NB, 1, __VA_ARGS__)

/* Q6_K x Q8_K, one weight row, NB activation rows, scalar's arithmetic (ggml's AVX2 kernel, bsums form): with the
 * unsigned 6-bit quants (0..63), for each 32 values lanes 0..3 take the first 16 (products 4L..4L+3) times its
 * scale, lanes 4..7 the second 16 times the next scale; then lane L -= 32*(sc_2L*bsum_2L + sc_2L+1*bsum_2L+1); per
 * super-block acc[L] = fma(d, lane L, acc[L]); result hsum8(acc). (|q*y| <= 63*128: SMULL pairs fit int16.) */
INLINE void tile_q6_K(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const uint8x16_t m4 = vdupq_n_u8(0x0F), m3 = vdupq_n_u8(0x03);
    float32x4_t lo[4], hi[4];
    UNROLL for (int b = 0; b < NB; b++) lo[b] = hi[b] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q6_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const int8_t *sc = (const int8_t *)(wb + offsetof(block_q6_K, scales));
        const float dw = h2f(ld16(wb + offsetof(block_q6_K, d)));
        int32x4_t slo[4], shi[4];
        UNROLL for (int b = 0; b < NB; b++) slo[b] = shi[b] = vdupq_n_s32(0);
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = wb + offsetof(block_q6_K, ql) + 64 * half;
            const uint8_t *qh = wb + offsetof(block_q6_K, qh) + 32 * half;
            const uint8x16_t h0 = vld1q_u8(qh), h1 = vld1q_u8(qh + 16);
            const uint8x16_t l0 = vld1q_u8(ql), l1 = vld1q_u8(ql + 16), l2 = vld1q_u8(ql + 32), l3 = vld1q_u8(ql + 48);
            int8x16_t q[8]; /* q[m]: values 128*half + 16m .. +15 (0..63), scale sc[8*half + m]; even m: lanes 0..3 */
            q[0] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l0, m4), vshlq_n_u8(vandq_u8(h0, m3), 4)));
            q[1] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l1, m4), vshlq_n_u8(vandq_u8(h1, m3), 4)));
            q[2] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l2, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 2), m3), 4)));
            q[3] = vreinterpretq_s8_u8(vorrq_u8(vandq_u8(l3, m4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 2), m3), 4)));
            q[4] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l0, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h0, 4), m3), 4)));
            q[5] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l1, 4), vshlq_n_u8(vandq_u8(vshrq_n_u8(h1, 4), m3), 4)));
            q[6] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l2, 4), vshlq_n_u8(vshrq_n_u8(h0, 6), 4)));
            q[7] = vreinterpretq_s8_u8(vorrq_u8(vshrq_n_u8(l3, 4), vshlq_n_u8(vshrq_n_u8(h1, 6), 4)));
            UNROLL for (int b = 0; b < NB; b++) {
                const int8_t *q8 = (const int8_t *)(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs)) + 128 * half;
                for (int k = 0; k < 4; k++) {
                    slo[b] = vmlaq_n_s32(slo[b], dot16(q[2 * k], vld1q_s8(q8 + 32 * k)), sc[8 * half + 2 * k]);
                    shi[b] = vmlaq_n_s32(shi[b], dot16(q[2 * k + 1], vld1q_s8(q8 + 32 * k + 16)), sc[8 * half + 2 * k + 1]);
                }
            }
        }
        const int8x16_t s8 = vld1q_s8(sc);
        const int16x8_t sa = vmovl_s8(vget_low_s8(s8)), sb = vmovl_high_s8(s8);
        UNROLL for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            /* the -32: lane L gets 32 * (sc_2L*bsum_2L + sc_2L+1*bsum_2L+1) */
            const int16x8_t ba = vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums)));
            const int16x8_t bb = vreinterpretq_s16_u8(vld1q_u8(ab + offsetof(block_q8_K, bsums) + 16));
            slo[b] = vsubq_s32(slo[b], vshlq_n_s32(pair_dot_s16(ba, sa), 5));
            shi[b] = vsubq_s32(shi[b], vshlq_n_s32(pair_dot_s16(bb, sb), 5));
            fold8(&lo[b], &hi[b], slo[b], shi[b], ldf(ab) * dw);
        }
    }
    UNROLL for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}

/* F32 / F16 weights x activations of the same type, scalar's arithmetic.
 * Plain (ggml_vec_dot_f32/_f16, AVX-512 form; also dot_f32/dot_f16): m = n & ~63; four 16-lane accumulators,
 * acc_j[l] = fma(w[i+16j+l], a[i+16j+l], acc_j[l]); s = red16((acc0+acc2) + (acc1+acc3)); the tail: F32
 * s = s + w*a in float over its 16- and 8-wide pieces, then fma for the last (n - m) % 8; F16 in double ((double)s
 * + (double)(w*a)..., then to float). Products of halves are exact in float, so the F16 fmas are the same FMLA. TB (tinyBLAS, F32_TB/F16_TB with nb >= 2, n % 16 == 0): one
 * 16-lane accumulator, red16. */
INLINE float32x4_t ld4(const int F16, const uint8_t *p) {
    return F16 ? vcvt_f32_f16(vreinterpret_f16_u8(vld1_u8(p))) : ld_f32x4(p);
}

/* red16 of 16 lanes in 4 vectors: t = v[0..7] + v[8..15], u = t[0..3] + t[4..7], (u0 + u2) + (u1 + u3) */
static inline float red16(float32x4_t v0, float32x4_t v1, float32x4_t v2, float32x4_t v3) {
    const float32x4_t u = vaddq_f32(vaddq_f32(v0, v2), vaddq_f32(v1, v3));
    return vaddv_f32(vadd_f32(vget_low_f32(u), vget_high_f32(u)));
}

INLINE float vdot_fl(const int F16, int n, const uint8_t *w, const uint8_t *a) {
    const size_t es = F16 ? 2 : 4;
    const int m = n & ~63;
    float32x4_t acc[16]; /* acc[4j + q]: lanes 4q..4q+3 of accumulator j */
    UNROLL for (int k = 0; k < 16; k++) acc[k] = vdupq_n_f32(0.0f);
    for (int i = 0; i < m; i += 64)
        for (int k = 0; k < 16; k++) {
            const size_t off = es * (size_t)(i + 4 * k);
            acc[k] = vfmaq_f32(acc[k], ld4(F16, w + off), ld4(F16, a + off));
        }
    float32x4_t v[4];
    UNROLL for (int q = 0; q < 4; q++) v[q] = vaddq_f32(vaddq_f32(acc[q], acc[8 + q]), vaddq_f32(acc[4 + q], acc[12 + q]));
    float s = red16(v[0], v[1], v[2], v[3]);
    if (F16) {
        double d = s;
        for (int i = m; i < n; i++) d += (double)(h2f(ld16(w + 2 * (size_t)i)) * h2f(ld16(a + 2 * (size_t)i)));
        return (float)d;
    }
    /* F32 tail as GCC compiled llama.cpp's: products added in order while 16- and 8-wide pieces remain, then
     * single fused multiply-adds */
    const int c = n - m, e = m + (c & ~15) + (c % 16 >= 8 ? 8 : 0);
    int i = m;
    for (; i < e; i++) s += ldf(w + 4 * (size_t)i) * ldf(a + 4 * (size_t)i);
    for (; i < n; i++) s = fmaf(ldf(w + 4 * (size_t)i), ldf(a + 4 * (size_t)i), s);
    return s;
}

INLINE void tile_tb(const int RW, const int NB, const int F16, int n, const uint8_t *w, size_t ws, const uint8_t *a,
                    size_t as, float *out, size_t ldo) {
    const size_t es = F16 ? 2 : 4;
    float32x4_t acc[4][4];
    UNROLL for (int k = 0; k < 4; k++) UNROLL for (int q = 0; q < 4; q++) acc[k][q] = vdupq_n_f32(0.0f);
    for (int i = 0; i < n; i += 16)
        UNROLL for (int q = 0; q < 4; q++) {
            const size_t off = es * (size_t)(i + 4 * q);
            float32x4_t x[4], y[4];
            UNROLL for (int r = 0; r < RW; r++) x[r] = ld4(F16, w + (size_t)r * ws + off);
            UNROLL for (int b = 0; b < NB; b++) y[b] = ld4(F16, a + (size_t)b * as + off);
            UNROLL for (int r = 0; r < RW; r++) UNROLL for (int b = 0; b < NB; b++)
                acc[r * NB + b][q] = vfmaq_f32(acc[r * NB + b][q], x[r], y[b]);
        }
    UNROLL for (int r = 0; r < RW; r++) UNROLL for (int b = 0; b < NB; b++) {
        const float32x4_t *v = acc[r * NB + b];
        out[(size_t)b * ldo + r] = red16(v[0], v[1], v[2], v[3]);
    }
}

#define TILE_TB32(RW, NB, ...) tile_tb(RW, NB, 0, __VA_ARGS__)
#define TILE_TB16(RW, NB, ...) tile_tb(RW, NB, 1, __VA_ARGS__)

/* ---------------------------------------------------------------- matmul drivers */
typedef const uint8_t u8c;

/* MM_WIDE, MM_ROW: simd/tiling.h */

MM_WIDE(mm_q8_0, TILE_Q8_0)
MM_WIDE(mm_q4_0, TILE_Q4_0)
MM_WIDE(mm_q4_0_r8, TILE_Q4_0_R8)
MM_WIDE(mm_tb32, TILE_TB32)
MM_WIDE(mm_tb16, TILE_TB16)
MM_ROW(mm_q4_K, TILE_Q4_K)
MM_ROW(mm_q4_K_r8, TILE_Q4_K_R8)
MM_ROW(mm_q5_K, TILE_Q5_K)
MM_ROW(mm_q5_0, TILE_Q5_0)
MM_ROW(mm_iq4_xs, TILE_IQ4_XS)
MM_ROW(mm_q3_K, TILE_Q3_K)
MM_ROW(mm_q4_1, TILE_Q4_1)
MM_ROW(mm_q5_1, TILE_Q5_1)
MM_ROW(mm_iq4_nl, TILE_IQ4_NL)
MM_ROW(mm_iq4_nl_r8, TILE_IQ4_NL_R8)
MM_ROW(mm_q2_K, TILE_Q2_K)
MM_ROW(mm_q2_K_r8, TILE_Q2_K_R8)
MM_ROW(mm_q6_K, tile_q6_K)

/* plain F32 / F16: one output at a time (its 64 accumulator lanes fill the register file) */
static void mm_fl(int F16, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++)
            out[(size_t)b * ldo + r] = F16 ? vdot_fl(1, n, w + (size_t)r * ws, a + (size_t)b * as)
                                           : vdot_fl(0, n, w + (size_t)r * ws, a + (size_t)b * as);
}

/* BF16 (scalar vdot_bf16 / tb_bf16): bf16 products are exact in float, so every lane add is the scalar one. vdot:
 * two 16-lane accumulators over 32-value steps, each reduced by red16 and added in double, the tail in double;
 * TB (nb >= 2, n % 16 == 0): one 16-lane accumulator, red16. */
static inline float32x4_t bf4(const uint8_t *p) {
    uint16_t h[4];
    memcpy(h, p, 8);
    return vreinterpretq_f32_u32(vshll_n_u16(vld1_u16(h), 16));
}
static float bf1(const uint8_t *p, int i) { uint16_t h; memcpy(&h, p + 2 * (size_t)i, 2); return plm_bf16_to_f32(h); }
static float vdot_bf16_n(const int tb, int n, const uint8_t *w, const uint8_t *a) {
    float32x4_t c[8];
    for (int q = 0; q < 8; q++) c[q] = vdupq_n_f32(0.0f);
    int i = 0;
    if (tb) {
        for (; i < n; i += 16)
            for (int q = 0; q < 4; q++) c[q] = vaddq_f32(c[q], vmulq_f32(bf4(w + 2 * (size_t)(i + 4 * q)), bf4(a + 2 * (size_t)(i + 4 * q))));
        return red16(c[0], c[1], c[2], c[3]);
    }
    for (; i + 32 <= n; i += 32)
        for (int q = 0; q < 8; q++) c[q] = vaddq_f32(c[q], vmulq_f32(bf4(w + 2 * (size_t)(i + 4 * q)), bf4(a + 2 * (size_t)(i + 4 * q))));
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
            out[(size_t)b * ldo + r] = vdot_bf16_n(tb, n, w + (size_t)r * ws, a + (size_t)b * as);
}

static void n_matmul(int type, int n, const void *w, size_t ws, int nr, const void *a, size_t as, int nb, float *out,
                     size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    const int tb = nb >= 2 && n % 16 == 0; /* the *_TB variants take tinyBLAS's order only then */
    switch (type) {
    case PLM_T_Q8_0: mm_q8_0(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0: mm_q4_0(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: mm_q4_0_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K: mm_q4_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4_K_r8(n, W, ws, nr, A, as, nb, out, ldo); break;
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
    case PLM_T_Q6_K: mm_q6_K(n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F32_TB:
        if (tb) mm_tb32(n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(0, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F16_TB:
        if (tb) mm_tb16(n, W, ws, nr, A, as, nb, out, ldo);
        else mm_fl(1, n, W, ws, nr, A, as, nb, out, ldo);
        break;
    case PLM_T_F32: mm_fl(0, n, W, ws, nr, A, as, nb, out, ldo); break;
    case PLM_T_F16: mm_fl(1, n, W, ws, nr, A, as, nb, out, ldo); break;
    default: plm_kernels_scalar.matmul(type, n, w, ws, nr, a, as, nb, out, ldo); break;
    }
}

/* ---------------------------------------------------------------- float kernels */
static float n_dot_f32(const float *a, const float *b, int n) {
    return vdot_fl(0, n, (const uint8_t *)a, (const uint8_t *)b);
}

static float n_dot_f16(const plm_f16 *a, const plm_f16 *b, int n) {
    return vdot_fl(1, n, (const uint8_t *)a, (const uint8_t *)b);
}

/* y += x*a: multiply, then add (not fused), like scalar */
static void n_axpy_f32(float *y, float a, const float *x, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        vst1q_f32(y + i, vaddq_f32(vld1q_f32(y + i), vmulq_n_f32(vld1q_f32(x + i), a)));
        vst1q_f32(y + i + 4, vaddq_f32(vld1q_f32(y + i + 4), vmulq_n_f32(vld1q_f32(x + i + 4), a)));
    }
    for (; i < n; i++) y[i] += x[i] * a;
}

/* y = f16(fma(x, a, y)): FMLA rounds once like fmaf, FCVTN rounds to nearest even like plm_f32_to_f16 */
static inline uint16x8_t mad8(uint16x8_t y, uint16x8_t x, float a) {
    const float16x8_t xh = vreinterpretq_f16_u16(x), yh = vreinterpretq_f16_u16(y);
    const float32x4_t lo = vfmaq_n_f32(vcvt_f32_f16(vget_low_f16(yh)), vcvt_f32_f16(vget_low_f16(xh)), a);
    const float32x4_t hi = vfmaq_n_f32(vcvt_high_f32_f16(yh), vcvt_high_f32_f16(xh), a);
    return vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(lo), hi));
}

static inline uint16x8_t scale8(uint16x8_t y, float a) {
    const float16x8_t yh = vreinterpretq_f16_u16(y);
    const float32x4_t lo = vmulq_n_f32(vcvt_f32_f16(vget_low_f16(yh)), a);
    const float32x4_t hi = vmulq_n_f32(vcvt_high_f32_f16(yh), a);
    return vreinterpretq_u16_f16(vcvt_high_f16_f32(vcvt_f16_f32(lo), hi));
}

static void n_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) vst1q_u16(y + i, mad8(vld1q_u16(y + i), vld1q_u16(x + i), a));
    if (i < n) { /* the tail through the same instructions */
        uint16_t ty[8] = { 0 }, tx[8] = { 0 };
        memcpy(ty, y + i, (size_t)(n - i) * 2), memcpy(tx, x + i, (size_t)(n - i) * 2);
        vst1q_u16(ty, mad8(vld1q_u16(ty), vld1q_u16(tx), a));
        memcpy(y + i, ty, (size_t)(n - i) * 2);
    }
}

static void n_scale_f16(plm_f16 *y, float a, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) vst1q_u16(y + i, scale8(vld1q_u16(y + i), a));
    if (i < n) {
        uint16_t ty[8] = { 0 };
        memcpy(ty, y + i, (size_t)(n - i) * 2);
        vst1q_u16(ty, scale8(vld1q_u16(ty), a));
        memcpy(y + i, ty, (size_t)(n - i) * 2);
    }
}

/* sum of x*x (float products) in double, sequentially like scalar (exactness is cheap here: O(n) per token); then
 * out = (x*scale)*w vectorized */
static void n_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    double sum = 0.0;
    for (int i = 0; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / n);
    const float scale = 1.0f / sqrtf(mean + eps);
    int i = 0;
    if (w)
        for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_f32(vmulq_n_f32(vld1q_f32(x + i), scale), vld1q_f32(w + i)));
    else
        for (; i + 4 <= n; i += 4) vst1q_f32(out + i, vmulq_n_f32(vld1q_f32(x + i), scale));
    for (; i < n; i++) out[i] = w ? (x[i] * scale) * w[i] : x[i] * scale;
}

/* plm_expf_ggml for 4 lanes, bit for bit: the same fused multiply-adds (FMLA/FMLS), then j * 2^n, which is
 * ldexpf's single rounding while |n| <= 126; lanes beyond (|x| > ~87) take the scalar function. */
static inline float32x4_t expf_ggml4(float32x4_t x) {
    const float32x4_t r = vdupq_n_f32(0x1.8p23f);
    const float32x4_t z = vfmaq_f32(r, x, vdupq_n_f32(0x1.715476p+0f));
    const float32x4_t nn = vsubq_f32(z, r);
    const float32x4_t b = vfmsq_f32(vfmsq_f32(x, nn, vdupq_n_f32(0x1.62e4p-1f)), nn, vdupq_n_f32(0x1.7f7d1cp-20f));
    const float32x4_t u = vmulq_f32(b, b);
    const float32x4_t p5 = vfmaq_f32(vdupq_n_f32(0x1.573e2ep-5f), vdupq_n_f32(0x1.0e4020p-7f), b);
    const float32x4_t p3 = vfmaq_f32(vdupq_n_f32(0x1.fffdb6p-2f), vdupq_n_f32(0x1.555e66p-3f), b);
    const float32x4_t p1 = vfmaq_f32(vdupq_n_f32(1.0f), vdupq_n_f32(0x1.ffffecp-1f), b);
    const float32x4_t j = vfmaq_f32(p1, vfmaq_f32(p3, p5, u), u);
    if (vmaxvq_u32(vcagtq_f32(nn, vdupq_n_f32(126.0f)))) {
        float xs[4], ys[4];
        vst1q_f32(xs, x);
        for (int l = 0; l < 4; l++) ys[l] = plm_expf_ggml(xs[l]);
        return vld1q_f32(ys);
    }
    const int32x4_t e = vshlq_n_s32(vaddq_s32(vcvtq_s32_f32(nn), vdupq_n_s32(127)), 23);
    return vmulq_f32(j, vreinterpretq_f32_s32(e));
}

/* g = silu(g) * u = (g / (1 + exp(-g))) * u, bit-exact with scalar: ggml's expf for the first n & ~15 elements,
 * glibc's for the rest */
static void n_silu_mul(float *g, const float *u, int n) {
    const float32x4_t one = vdupq_n_f32(1.0f);
    const int m = n & ~15;
    int i = 0;
    for (; i < m; i += 4) {
        const float32x4_t x = vld1q_f32(g + i);
        const float32x4_t s = vdivq_f32(x, vaddq_f32(one, expf_ggml4(vnegq_f32(x))));
        vst1q_f32(g + i, vmulq_f32(s, vld1q_f32(u + i)));
    }
    for (; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_glibc(-g[i]))) * u[i];
}

/* ---------------------------------------------------------------- not accelerated: the scalar kernels */
static void n_rope(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox) {
    plm_kernels_scalar.rope(x, hd, pos, base, freq_scale, ff, neox);
}

const plm_kernels plm_kernels_neon = {
#if defined(__ARM_FEATURE_DOTPROD)
    .name = "neon-dotprod",
#else
    .name = "neon",
#endif
    .quantize_row = n_quantize_row,
    .matmul = n_matmul,
    .rmsnorm = n_rmsnorm,
    .silu_mul = n_silu_mul,
    .gelu_mul = plm_gelu_mul_ref,
    .rope = n_rope,
    .f16_to_f32 = n_f16_to_f32,
    .f32_to_f16 = n_f32_to_f16,
    .dot_f32 = n_dot_f32,
    .dot_f16 = n_dot_f16,
    .axpy_f32 = n_axpy_f32,
    .mad_f16 = n_mad_f16,
    .scale_f16 = n_scale_f16,
};
