/* x86-64 AVX2 + FMA + F16C backend (the Makefile compiles this file alone with -mavx2 -mfma -mf16c; the pragmas
 * below make it self-contained otherwise). backend.c only hands this table out when the CPU has all three.
 *
 * Quantized dot products use the integer technique of ggml's AVX2 kernels (ggml-cpu/arch/x86/quants.c in
 * ggml-org/llama.cpp, MIT): maddubs (u8 x s8 -> s16 pairs) then madd (s16 -> s32). Block formats are ggml's.
 * Our own code. Differences from ggml's AVX2 code:
 *   - every matmul processes up to 4 activation rows per pass over a weight row, so a weight block is loaded and
 *     unpacked once and used 4 times (prefill is compute-bound, decode is bandwidth-bound);
 *   - the activation quantizers are bit-exact with the scalar reference (Q8_0: ggml's x86 rounding, id = 127/amax
 *     and ties to even; Q8_K: quantize_row_q8_K_ref), and so are silu_mul (plm_expf_ggml's polynomial), mad_f16,
 *     scale_f16, rmsnorm's final multiplies and the f16 conversions.
 * Quantized matmuls (Q4_0, Q8_0, Q4_K, Q6_K) are bit-identical to scalar.c, which follows ggml's x86 lane order
 * (so also to llama.cpp on x86). F16/F32 matmul and dot products sum in a different order than the scalar
 * reference (which sums in double): |x86 - scalar| <= 1e-5 * sum|w_i a_i| + 1e-6 (tests/c/test_kernels.c).
 * Q8_K activations must carry valid bsums (quantize_row always writes them).
 */
#if defined(__GNUC__) && !defined(__clang__) && !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#pragma GCC target("avx2,fma,f16c")
#endif
#if defined(__clang__) && !(defined(__AVX2__) && defined(__FMA__) && defined(__F16C__))
#pragma clang attribute push(__attribute__((target("avx2,fma,f16c"))), apply_to = function)
#define PLM_X86_POP_ATTR
#endif

#include "simd.h"

#include <immintrin.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define AI static inline __attribute__((always_inline))

/* ---------------------------------------------------------------- small helpers */
AI float ld_h(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return _cvtsh_ss(h);
}
AI float ld_f(const uint8_t *p) {
    float f;
    memcpy(&f, p, 4);
    return f;
}
AI __m256i ld256(const void *p) { return _mm256_loadu_si256((const __m256i *)p); }
AI __m128i ld128(const void *p) { return _mm_loadu_si128((const __m128i *)p); }

AI float hsum_ps(__m256 v) {
    __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
    s = _mm_add_ps(s, _mm_movehl_ps(s, s));
    s = _mm_add_ss(s, _mm_movehdup_ps(s));
    return _mm_cvtss_f32(s);
}
AI int hsum_epi32_128(__m128i v) {
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(1, 0, 3, 2)));
    v = _mm_add_epi32(v, _mm_shuffle_epi32(v, _MM_SHUFFLE(2, 3, 0, 1)));
    return _mm_cvtsi128_si32(v);
}
AI double hsum_pd(__m256d v) {
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    s = _mm_add_sd(s, _mm_unpackhi_pd(s, s));
    return _mm_cvtsd_f64(s);
}

/* ---------------------------------------------------------------- Q8_0 / Q4_0 weights x Q8_0 activations */
/* One weight row against NB (1..4) activation rows: out[b*ldo] = dot. ad: the activation scales as floats, 4 per
 * block ([block][4]). Float arithmetic exactly as the scalar reference (ggml's AVX2 / tinyBLAS order): lane k of
 * the accumulator gets fma(dw*da, sum of products 4k..4k+3, lane), and the 8 lanes are reduced pairwise at the end,
 * so results are bit-identical to scalar.c (and to llama.cpp on x86). */
AI void row_q0(const int NB, const int Q4, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const float *ad,
               float *out, size_t ldo) {
    const size_t bsz = Q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const __m256i ones = _mm256_set1_epi16(1), m4 = _mm256_set1_epi8(0x0F), eight = _mm256_set1_epi8(8);
    for (int i = 0; i < nblk; i++, w += bsz) {
        const __m256 vdw = _mm256_set1_ps(ld_h(w));
        __m256i qx;
        if (Q4) {
            const __m128i t = ld128(w + 2); /* low nibbles are elements 0..15, high nibbles 16..31 */
            qx = _mm256_sub_epi8(_mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), m4), eight);
        } else {
            qx = ld256(w + 2);
        }
        const __m256i ax = _mm256_sign_epi8(qx, qx);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            const __m256i sy = _mm256_sign_epi8(ld256(ab + 2), qx);
            const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ax, sy), ones);
            acc[b] = _mm256_fmadd_ps(_mm256_mul_ps(vdw, _mm256_broadcast_ss(ad + 4 * (size_t)i + b)),
                                     _mm256_cvtepi32_ps(s32), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}
#define row_q8_0(NB, nblk, w, a, as, ad, out, ldo) row_q0(NB, 0, nblk, w, a, as, ad, out, ldo)
#define row_q4_0(NB, nblk, w, a, as, ad, out, ldo) row_q0(NB, 1, nblk, w, a, as, ad, out, ldo)

/* ---------------------------------------------------------------- Q4_K x Q8_K */
AI void row_q4_K(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    __m128 accm[4] = { _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps() };
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q4_K)) {
        const float dw = ld_h(w + offsetof(block_q4_K, d)), dminw = ld_h(w + offsetof(block_q4_K, dmin));
        /* unpack 8 six-bit scales and mins (ggml's kmask trick, little endian) */
        uint32_t u[4];
        memcpy(u, w + offsetof(block_q4_K, scales), 12);
        u[3] = ((u[2] >> 4) & 0x0f0f0f0f) | (((u[1] >> 6) & 0x03030303) << 4);
        const uint32_t uaux = u[1] & 0x3f3f3f3f;
        u[1] = (u[2] & 0x0f0f0f0f) | (((u[0] >> 6) & 0x03030303) << 4);
        u[2] = uaux;
        u[0] &= 0x3f3f3f3f;
        const __m256i mas = _mm256_cvtepu8_epi16(_mm_set_epi32((int)u[3], (int)u[2], (int)u[1], (int)u[0]));
        const __m128i mins = _mm256_extracti128_si256(mas, 1);
        const __m256i scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(mas));
        const uint8_t *q4 = w + offsetof(block_q4_K, qs);
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int j = 0; j < 4; j++) {
            const __m256i sc_l = _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)(0x0100 + 0x0202 * (2 * j))));
            const __m256i sc_h =
                _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)(0x0100 + 0x0202 * (2 * j + 1))));
            const __m256i q4bits = ld256(q4 + 32 * j);
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
                const __m256i pl = _mm256_madd_epi16(sc_l, _mm256_maddubs_epi16(q4l, ld256(q8 + 64 * j)));
                const __m256i ph = _mm256_madd_epi16(sc_h, _mm256_maddubs_epi16(q4h, ld256(q8 + 64 * j + 32)));
                sumi[b] = _mm256_add_epi32(sumi[b], _mm256_add_epi32(pl, ph));
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const float dy = ld_f(ab);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dw), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
            const __m256i bs = ld256(ab + offsetof(block_q8_K, bsums));
            const __m128i q8s = _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
            accm[b] = _mm_fmadd_ps(_mm_set1_ps(-dy * dminw), _mm_cvtepi32_ps(_mm_madd_epi16(mins, q8s)), accm[b]);
        }
    }
    for (int b = 0; b < NB; b++) {
        __m128 m = _mm_add_ps(accm[b], _mm_movehl_ps(accm[b], accm[b]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        out[(size_t)b * ldo] = hsum_ps(acc[b]) + _mm_cvtss_f32(m);
    }
}

/* ---------------------------------------------------------------- Q6_K x Q8_K */
/* ggml's AVX2 lanes: q6 (0..63) * q8 via maddubs, minus 32*q8 via maddubs, then the int8 scales (madd). */
AI void row_q6_K(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3), m32s = _mm256_set1_epi8(32);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q6_K)) {
        const float dw = ld_h(w + offsetof(block_q6_K, d));
        const __m128i sc8 = ld128(w + offsetof(block_q6_K, scales));
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int j = 0; j < 2; j++) {
            const __m256i lo = ld256(w + offsetof(block_q6_K, ql) + 64 * j);
            const __m256i hi = ld256(w + offsetof(block_q6_K, ql) + 64 * j + 32);
            const __m256i qh = ld256(w + offsetof(block_q6_K, qh) + 32 * j);
            for (int k = 0; k < 4; k++) {
                const __m256i l4 = k == 0 ? _mm256_and_si256(lo, m4)
                                 : k == 1 ? _mm256_and_si256(hi, m4)
                                 : k == 2 ? _mm256_and_si256(_mm256_srli_epi16(lo, 4), m4)
                                          : _mm256_and_si256(_mm256_srli_epi16(hi, 4), m4);
                const __m256i h2 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(qh, 2 * k), m3), 4);
                const __m256i q6 = _mm256_or_si256(l4, h2); /* unsigned 0..63 */
                /* scales 8j+2k (first 16 values) and 8j+2k+1 (next 16), widened to 16 x s16 */
                const int s0 = 8 * j + 2 * k;
                const __m128i shuf = _mm_set_epi64x((long long)(0x0101010101010101ULL * (unsigned)(s0 + 1)),
                                                    (long long)(0x0101010101010101ULL * (unsigned)s0));
                const __m256i sc = _mm256_cvtepi8_epi16(_mm_shuffle_epi8(sc8, shuf));
                for (int b = 0; b < NB; b++) {
                    const __m256i q8 = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) +
                                             offsetof(block_q8_K, qs) + 128 * j + 32 * k);
                    const __m256i p16 = _mm256_sub_epi16(_mm256_maddubs_epi16(q6, q8), _mm256_maddubs_epi16(m32s, q8));
                    sumi[b] = _mm256_add_epi32(sumi[b], _mm256_madd_epi16(sc, p16));
                }
            }
        }
        for (int b = 0; b < NB; b++) {
            const float dy = ld_f(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K));
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dw), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}

/* ---------------------------------------------------------------- F16 / F32 weights */
AI __m256 ldh8(const uint8_t *p) { return _mm256_cvtph_ps(ld128(p)); }
AI __m256 ldf8(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }

AI void row_f16(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc0[4], acc1[4];
    for (int b = 0; b < 4; b++) acc0[b] = acc1[b] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = ldh8(w + 2 * i), w1 = ldh8(w + 2 * i + 16);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + 2 * (size_t)i;
            acc0[b] = _mm256_fmadd_ps(w0, ldh8(ab), acc0[b]);
            acc1[b] = _mm256_fmadd_ps(w1, ldh8(ab + 16), acc1[b]);
        }
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 w0 = ldh8(w + 2 * i);
        for (int b = 0; b < NB; b++) acc0[b] = _mm256_fmadd_ps(w0, ldh8(a + (size_t)b * as + 2 * (size_t)i), acc0[b]);
    }
    for (int b = 0; b < NB; b++) {
        float s = hsum_ps(_mm256_add_ps(acc0[b], acc1[b]));
        for (int t = i; t < n; t++) s += ld_h(w + 2 * t) * ld_h(a + (size_t)b * as + 2 * (size_t)t);
        out[(size_t)b * ldo] = s;
    }
}

AI void row_f32(const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc0[4], acc1[4];
    for (int b = 0; b < 4; b++) acc0[b] = acc1[b] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m256 w0 = ldf8(w + 4 * i), w1 = ldf8(w + 4 * i + 32);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + 4 * (size_t)i;
            acc0[b] = _mm256_fmadd_ps(w0, ldf8(ab), acc0[b]);
            acc1[b] = _mm256_fmadd_ps(w1, ldf8(ab + 32), acc1[b]);
        }
    }
    for (; i + 8 <= n; i += 8) {
        const __m256 w0 = ldf8(w + 4 * i);
        for (int b = 0; b < NB; b++) acc0[b] = _mm256_fmadd_ps(w0, ldf8(a + (size_t)b * as + 4 * (size_t)i), acc0[b]);
    }
    for (int b = 0; b < NB; b++) {
        float s = hsum_ps(_mm256_add_ps(acc0[b], acc1[b]));
        for (int t = i; t < n; t++) s += ld_f(w + 4 * t) * ld_f(a + (size_t)b * as + 4 * (size_t)t);
        out[(size_t)b * ldo] = s;
    }
}

/* ---------------------------------------------------------------- matmul driver */
/* Weight rows outer (each row is read from memory once and stays in L1 while every activation row passes over
 * it, 4 at a time); the activation rows stay in L1/L2. `len` is blocks for quantized types, elements for F16/F32. */
#define DEFINE_MM(NAME, ROW)                                                                                          \
    static void NAME(int len, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,  \
                     size_t ldo) {                                                                                    \
        for (int r = 0; r < nr; r++, w += ws) {                                                                       \
            int b = 0;                                                                                                \
            for (; b + 4 <= nb; b += 4) ROW(4, len, w, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo);       \
            switch (nb - b) {                                                                                         \
            case 3: ROW(3, len, w, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo); break;                    \
            case 2: ROW(2, len, w, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo); break;                    \
            case 1: ROW(1, len, w, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo); break;                    \
            default: break;                                                                                           \
            }                                                                                                         \
        }                                                                                                             \
    }

/* Q4_0/Q8_0 x Q8_0: the activation scales (f16) are converted to float once per call, for a chunk of activation
 * rows at a time (stack buffer; the heap only for very long rows), laid out [4-row group][block][4] for row_q0. */
#define Q0_SCALES_STACK 4096
#define DEFINE_MM_Q0(NAME, ROW, TYPE)                                                                                 \
    static void NAME(int nblk, const uint8_t *w0, size_t ws, int nr, const uint8_t *a, size_t as, int nb,            \
                     float *out, size_t ldo) {                                                                        \
        float stack_ad[Q0_SCALES_STACK], *ad = stack_ad;                                                              \
        int chunk = Q0_SCALES_STACK / (nblk > 0 ? nblk : 1) / 4 * 4;                                                   \
        if (chunk < 4) {                                                                                              \
            chunk = (nb + 3) / 4 * 4;                                                                                 \
            ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);                                                \
            if (!ad) { /* out of memory: the reference needs no buffer */                                             \
                plm_kernels_scalar.matmul(TYPE, nblk * 32, w0, ws, nr, a, as, nb, out, ldo);                          \
                return;                                                                                               \
            }                                                                                                         \
        }                                                                                                             \
        for (int c0 = 0; c0 < nb; c0 += chunk) {                                                                      \
            const int cn = nb - c0 < chunk ? nb - c0 : chunk;                                                         \
            const uint8_t *ac = a + (size_t)c0 * as;                                                                  \
            float *oc = out + (size_t)c0 * ldo;                                                                       \
            for (int b = 0; b < (cn + 3) / 4 * 4; b++) {                                                              \
                float *g = ad + (size_t)(b / 4) * 4 * (size_t)nblk + (size_t)(b % 4);                                 \
                for (int i = 0; i < nblk; i++)                                                                        \
                    g[4 * (size_t)i] = b < cn ? ld_h(ac + (size_t)b * as + (size_t)i * sizeof(block_q8_0)) : 0.0f;    \
            }                                                                                                         \
            const uint8_t *w = w0;                                                                                    \
            for (int r = 0; r < nr; r++, w += ws) {                                                                   \
                int b = 0;                                                                                            \
                for (; b + 4 <= cn; b += 4)                                                                           \
                    ROW(4, nblk, w, ac + (size_t)b * as, as, ad + (size_t)b * (size_t)nblk, oc + (size_t)b * ldo + r, ldo); \
                const float *adb = ad + (size_t)b * (size_t)nblk;                                                     \
                switch (cn - b) {                                                                                     \
                case 3: ROW(3, nblk, w, ac + (size_t)b * as, as, adb, oc + (size_t)b * ldo + r, ldo); break;          \
                case 2: ROW(2, nblk, w, ac + (size_t)b * as, as, adb, oc + (size_t)b * ldo + r, ldo); break;          \
                case 1: ROW(1, nblk, w, ac + (size_t)b * as, as, adb, oc + (size_t)b * ldo + r, ldo); break;          \
                default: break;                                                                                       \
                }                                                                                                     \
            }                                                                                                         \
        }                                                                                                             \
        if (ad != stack_ad) free(ad);                                                                                 \
    }
DEFINE_MM_Q0(mm_q8_0, row_q8_0, PLM_T_Q8_0)
DEFINE_MM_Q0(mm_q4_0, row_q4_0, PLM_T_Q4_0)
DEFINE_MM(mm_q4_K, row_q4_K)
DEFINE_MM(mm_q6_K, row_q6_K)
DEFINE_MM(mm_f16, row_f16)
DEFINE_MM(mm_f32, row_f32)

static void x_matmul(int type, int n, const void *w, size_t w_stride, int nr, const void *a, size_t a_stride, int nb,
                     float *out, size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    switch (type) {
    case PLM_T_Q8_0: mm_q8_0(n / QK8_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_0: mm_q4_0(n / QK4_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_K: mm_q4_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q6_K: mm_q6_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F16: mm_f16(n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F32: mm_f32(n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    default: plm_kernels_scalar.matmul(type, n, w, w_stride, nr, a, a_stride, nb, out, ldo); break;
    }
}

/* ---------------------------------------------------------------- activation quantizers (bit-exact with scalar) */
/* four 8 x s32 vectors -> 32 x s8 in element order */
AI __m256i pack32(__m256i i0, __m256i i1, __m256i i2, __m256i i3) {
    const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(i0, i1), _mm256_packs_epi32(i2, i3));
    return _mm256_permutevar8x32_epi32(p, _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
}

static void quant_q8_0(const float *x, uint8_t *y, int n) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int i = 0; i < n / QK8_0; i++, x += QK8_0, y += sizeof(block_q8_0)) {
        __m256 v[4];
        for (int k = 0; k < 4; k++) v[k] = _mm256_loadu_ps(x + 8 * k);
        __m256 m = _mm256_max_ps(_mm256_max_ps(_mm256_and_ps(v[0], absmask), _mm256_and_ps(v[1], absmask)),
                                 _mm256_max_ps(_mm256_and_ps(v[2], absmask), _mm256_and_ps(v[3], absmask)));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        const float d = amax / 127.0f;
        const float id = amax != 0.0f ? 127.0f / amax : 0.0f;
        const plm_f16 dh = plm_f32_to_f16(d);
        memcpy(y, &dh, 2);
        const __m256 vid = _mm256_set1_ps(id);
        __m256i q[4];
        for (int k = 0; k < 4; k++)
            q[k] = _mm256_cvtps_epi32(_mm256_round_ps(_mm256_mul_ps(v[k], vid), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
        _mm256_storeu_si256((__m256i *)(y + 2), pack32(q[0], q[1], q[2], q[3]));
    }
}

static void quant_q8_K(const float *x, uint8_t *y, int n) {
    const __m256 absmask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
    for (int i = 0; i < n / QK_K; i++, x += QK_K, y += sizeof(block_q8_K)) {
        __m256 m = _mm256_setzero_ps();
        for (int k = 0; k < QK_K; k += 8) m = _mm256_max_ps(m, _mm256_and_ps(_mm256_loadu_ps(x + k), absmask));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        const float amax = _mm_cvtss_f32(m4);
        if (amax == 0.0f) {
            memset(y, 0, sizeof(block_q8_K));
            continue;
        }
        /* the reference takes the first element of largest magnitude, with its sign */
        float max = 0.0f;
        const __m256 vam = _mm256_set1_ps(amax);
        for (int k = 0; k < QK_K; k += 8) {
            const int bits = _mm256_movemask_ps(
                _mm256_cmp_ps(_mm256_and_ps(_mm256_loadu_ps(x + k), absmask), vam, _CMP_EQ_OQ));
            if (bits) {
                max = x[k + __builtin_ctz((unsigned)bits)];
                break;
            }
        }
        const float iscale = -127.0f / max;
        const __m256 vis = _mm256_set1_ps(iscale);
        const __m256i lim = _mm256_set1_epi32(127);
        int8_t *qs = (int8_t *)(y + offsetof(block_q8_K, qs));
        for (int k = 0; k < QK_K; k += 32) {
            __m256i q[4];
            for (int t = 0; t < 4; t++) {
                const __m256 v = _mm256_mul_ps(_mm256_loadu_ps(x + k + 8 * t), vis);
                q[t] = _mm256_min_epi32(_mm256_cvtps_epi32(_mm256_round_ps(v, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)), lim);
            }
            _mm256_storeu_si256((__m256i *)(qs + k), pack32(q[0], q[1], q[2], q[3]));
        }
        /* bsums: sums of 16 quants */
        const __m256i ones8 = _mm256_set1_epi8(1), ones16 = _mm256_set1_epi16(1);
        int16_t bsums[QK_K / 16];
        for (int k = 0; k < QK_K; k += 32) {
            const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(ones8, ld256(qs + k)), ones16);
            bsums[k / 16] = (int16_t)hsum_epi32_128(_mm256_castsi256_si128(s32));
            bsums[k / 16 + 1] = (int16_t)hsum_epi32_128(_mm256_extracti128_si256(s32, 1));
        }
        memcpy(y + offsetof(block_q8_K, bsums), bsums, sizeof bsums);
        const float d = 1.0f / iscale;
        memcpy(y, &d, 4);
    }
}

static void x_f32_to_f16(const float *x, plm_f16 *y, int n);

static void x_quantize_row(int act_type, const float *x, void *out, int n) {
    switch (act_type) {
    case PLM_T_Q8_0: quant_q8_0(x, (uint8_t *)out, n); break;
    case PLM_T_Q8_K: quant_q8_K(x, (uint8_t *)out, n); break;
    case PLM_T_F16: x_f32_to_f16(x, (plm_f16 *)out, n); break;
    default: plm_kernels_scalar.quantize_row(act_type, x, out, n); break;
    }
}

/* ---------------------------------------------------------------- float kernels */
/* expf for 8 lanes (Cephes-style range reduction + degree-6 polynomial, ~2 ulp). Inputs are clamped to
 * [-88.37, 88.37]: results below ~4e-39 become 0 and above become ~2.4e38 instead of inf. */
AI __m256 exp8(__m256 x) {
    x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(-88.3762626647949f)), _mm256_set1_ps(88.3762626647949f));
    __m256 fx = _mm256_fmadd_ps(x, _mm256_set1_ps(1.44269504088896341f), _mm256_set1_ps(0.5f));
    fx = _mm256_floor_ps(fx);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(0.693359375f), x);
    x = _mm256_fnmadd_ps(fx, _mm256_set1_ps(-2.12194440e-4f), x);
    __m256 y = _mm256_set1_ps(1.9875691500e-4f);
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.3981999507e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(8.3334519073e-3f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(4.1665795894e-2f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(1.6666665459e-1f));
    y = _mm256_fmadd_ps(y, x, _mm256_set1_ps(5.0000001201e-1f));
    y = _mm256_fmadd_ps(y, _mm256_mul_ps(x, x), _mm256_add_ps(x, _mm256_set1_ps(1.0f)));
    const __m256i e = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(fx), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(y, _mm256_castsi256_ps(e));
}

static void x_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(x + i);
        const __m256 sq = _mm256_mul_ps(v, v); /* float products, as the reference */
        s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(sq)));
        s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(sq, 1)));
    }
    double sum = hsum_pd(_mm256_add_pd(s0, s1));
    for (; i < n; i++) sum += (double)(x[i] * x[i]);
    const float mean = (float)(sum / n);
    const float scale = 1.0f / sqrtf(mean + eps);
    const __m256 vs = _mm256_set1_ps(scale);
    i = 0;
    if (w) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_mul_ps(_mm256_loadu_ps(x + i), vs), _mm256_loadu_ps(w + i)));
        for (; i < n; i++) out[i] = (x[i] * scale) * w[i];
    } else {
        for (; i + 8 <= n; i += 8) _mm256_storeu_ps(out + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vs));
        for (; i < n; i++) out[i] = x[i] * scale;
    }
}

static void x_softmax(float *x, int n) {
    if (n <= 0) return;
    float max = x[0];
    int i = 0;
    if (n >= 8) {
        __m256 m = _mm256_loadu_ps(x);
        for (i = 8; i + 8 <= n; i += 8) m = _mm256_max_ps(m, _mm256_loadu_ps(x + i));
        __m128 m4 = _mm_max_ps(_mm256_castps256_ps128(m), _mm256_extractf128_ps(m, 1));
        m4 = _mm_max_ps(m4, _mm_movehl_ps(m4, m4));
        m4 = _mm_max_ss(m4, _mm_movehdup_ps(m4));
        max = _mm_cvtss_f32(m4);
    }
    for (; i < n; i++) max = x[i] > max ? x[i] : max;
    const __m256 vmax = _mm256_set1_ps(max);
    __m256d s = _mm256_setzero_pd();
    for (i = 0; i + 8 <= n; i += 8) {
        const __m256 e = exp8(_mm256_sub_ps(_mm256_loadu_ps(x + i), vmax));
        _mm256_storeu_ps(x + i, e);
        s = _mm256_add_pd(s, _mm256_add_pd(_mm256_cvtps_pd(_mm256_castps256_ps128(e)),
                                           _mm256_cvtps_pd(_mm256_extractf128_ps(e, 1))));
    }
    double sum = hsum_pd(s);
    for (; i < n; i++) {
        const float e = expf(x[i] - max);
        x[i] = e;
        sum += (double)e;
    }
    const float sc = (float)(1.0 / sum);
    const __m256 vsc = _mm256_set1_ps(sc);
    for (i = 0; i + 8 <= n; i += 8) _mm256_storeu_ps(x + i, _mm256_mul_ps(_mm256_loadu_ps(x + i), vsc));
    for (; i < n; i++) x[i] *= sc;
}

/* plm_expf_ggml for 8 lanes, bit for bit (ggml_v_expf, AVX-512 form: same fused multiply-adds, then j * 2^n with a
 * single rounding). Lanes with |n| > 126 (|x| > ~87) take the scalar function. */
AI __m256 expf_ggml8(__m256 x) {
    const __m256 r = _mm256_set1_ps(0x1.8p23f);
    const __m256 z = _mm256_fmadd_ps(x, _mm256_set1_ps(0x1.715476p+0f), r);
    const __m256 n = _mm256_sub_ps(z, r);
    const __m256 b = _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.7f7d1cp-20f),
                                      _mm256_fnmadd_ps(n, _mm256_set1_ps(0x1.62e4p-1f), x));
    const __m256 u = _mm256_mul_ps(b, b);
    const __m256 j = _mm256_fmadd_ps(
        _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(0x1.0e4020p-7f), b, _mm256_set1_ps(0x1.573e2ep-5f)), u,
                        _mm256_fmadd_ps(_mm256_set1_ps(0x1.555e66p-3f), b, _mm256_set1_ps(0x1.fffdb6p-2f))),
        u, _mm256_fmadd_ps(_mm256_set1_ps(0x1.ffffecp-1f), b, _mm256_set1_ps(1.0f)));
    const __m256 big = _mm256_cmp_ps(_mm256_andnot_ps(_mm256_set1_ps(-0.0f), n), _mm256_set1_ps(126.0f), _CMP_NLE_UQ);
    if (__builtin_expect(_mm256_movemask_ps(big) != 0, 0)) {
        float xs[8], ys[8];
        _mm256_storeu_ps(xs, x);
        for (int i = 0; i < 8; i++) ys[i] = plm_expf_ggml(xs[i]);
        return _mm256_loadu_ps(ys);
    }
    const __m256i k = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
    return _mm256_mul_ps(j, _mm256_castsi256_ps(k));
}

/* g = (g / (1 + exp(-g))) * u, bit-exact with the scalar reference */
static void x_silu_mul(float *g, const float *u, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), sgn = _mm256_set1_ps(-0.0f);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 e = expf_ggml8(_mm256_xor_ps(v, sgn));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_ggml(-g[i]))) * u[i];
}

static void x_rope(float *x, int hd, int pos, float base, float freq_scale, int neox) {
    plm_kernels_scalar.rope(x, hd, pos, base, freq_scale, neox);
}

static void x_f16_to_f32(const plm_f16 *x, float *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, _mm256_cvtph_ps(ld128(x + i)));
    for (; i < n; i++) y[i] = plm_f16_to_f32(x[i]);
}

static void x_f32_to_f16(const float *x, plm_f16 *y, int n) {
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(_mm256_loadu_ps(x + i), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = plm_f32_to_f16(x[i]);
}

static float x_dot_f32(const float *a, const float *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
        s1 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 8), _mm256_loadu_ps(b + i + 8), s1);
        s2 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 16), _mm256_loadu_ps(b + i + 16), s2);
        s3 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i + 24), _mm256_loadu_ps(b + i + 24), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_loadu_ps(a + i), _mm256_loadu_ps(b + i), s0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += a[i] * b[i];
    return s;
}

static float x_dot_f16(const plm_f16 *a, const plm_f16 *b, int n) {
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    int i = 0;
    for (; i + 32 <= n; i += 32) {
        s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(a + i)), _mm256_cvtph_ps(ld128(b + i)), s0);
        s1 = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(a + i + 8)), _mm256_cvtph_ps(ld128(b + i + 8)), s1);
        s2 = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(a + i + 16)), _mm256_cvtph_ps(ld128(b + i + 16)), s2);
        s3 = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(a + i + 24)), _mm256_cvtph_ps(ld128(b + i + 24)), s3);
    }
    for (; i + 8 <= n; i += 8) s0 = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(a + i)), _mm256_cvtph_ps(ld128(b + i)), s0);
    float s = hsum_ps(_mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
    for (; i < n; i++) s += plm_f16_to_f32(a[i]) * plm_f16_to_f32(b[i]);
    return s;
}

static void x_axpy_f32(float *y, float a, const float *x, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += x[i] * a;
}

static void x_axpy_f16(float *y, float a, const plm_f16 *x, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(x + i)), va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += plm_f16_to_f32(x[i]) * a;
}

/* Flash-attention f16 accumulator updates: scalar until vectorized (lead's addition; must round like scalar). */
/* y = f16(fma(x, a, y)) and y = f16(y * a): bit-exact with the scalar reference (and ggml_vec_mad_f16/_scale_f16) */
static void x_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 r = _mm256_fmadd_ps(_mm256_cvtph_ps(ld128(x + i)), va, _mm256_cvtph_ps(ld128(y + i)));
        _mm_storeu_si128((__m128i *)(y + i), _mm256_cvtps_ph(r, _MM_FROUND_TO_NEAREST_INT));
    }
    for (; i < n; i++) y[i] = plm_f32_to_f16(fmaf(plm_f16_to_f32(x[i]), a, plm_f16_to_f32(y[i])));
}

static void x_scale_f16(plm_f16 *y, float a, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm_storeu_si128((__m128i *)(y + i),
                         _mm256_cvtps_ph(_mm256_mul_ps(_mm256_cvtph_ps(ld128(y + i)), va), _MM_FROUND_TO_NEAREST_INT));
    for (; i < n; i++) y[i] = plm_f32_to_f16(plm_f16_to_f32(y[i]) * a);
}

const plm_kernels plm_kernels_x86 = {
    .name = "avx2",
    .quantize_row = x_quantize_row,
    .matmul = x_matmul,
    .rmsnorm = x_rmsnorm,
    .softmax = x_softmax,
    .silu_mul = x_silu_mul,
    .rope = x_rope,
    .f16_to_f32 = x_f16_to_f32,
    .f32_to_f16 = x_f32_to_f16,
    .dot_f32 = x_dot_f32,
    .dot_f16 = x_dot_f16,
    .axpy_f32 = x_axpy_f32,
    .axpy_f16 = x_axpy_f16,
    .mad_f16 = x_mad_f16,
    .scale_f16 = x_scale_f16,
};

#ifdef PLM_X86_POP_ATTR
#pragma clang attribute pop
#endif
