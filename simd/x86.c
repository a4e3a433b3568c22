/* x86-64 AVX2 + FMA + F16C backend (the Makefile compiles this file alone with -mavx2 -mfma -mf16c; the pragmas
 * below make it self-contained otherwise). backend.c only hands this table out when the CPU has all three.
 *
 * Quantized dot products use the integer technique of ggml's AVX2 kernels (ggml-cpu/arch/x86/quants.c in
 * ggml-org/llama.cpp, MIT): maddubs (u8 x s8 -> s16 pairs) then madd (s16 -> s32). Block formats are ggml's.
 * Our own code. Every kernel is bit-identical to scalar.c, whose "Arithmetic contract" is llama.cpp's x86 (AVX-512)
 * arithmetic, for the quantized types and the F16/F32 ones alike (tests/c/test_kernels.c checks it):
 *   - plain Q4_0/Q8_0/Q4_K/Q6_K: ggml's AVX2 lane orders; every matmul processes up to 4 activation rows per pass
 *     over a weight row, so a weight block is loaded and unpacked once and used 4 times;
 *   - Q4_0_R8 / Q4_K_R8 (llama.cpp's repacked orders: one fma per block, or per 64 values for Q4_K's gemm rows): 8
 *     weight rows at a time, lanes = rows, with the block sums of 8 rows gathered by add trees, and a software
 *     prefetch of the next 8 rows, which the hardware prefetcher does not see coming when rows are read across;
 *     a model's matrices of these types are repacked when it is bound (x_repack: the X8 layouts of simd.h), where
 *     8 rows' 4-byte pieces share a vector, so maddubs against a broadcast activation piece needs no add trees;
 *   - F16/F32: ggml_vec_dot's 4 x 16 lanes (8 AVX2 registers) and its tail, or tinyBLAS's 16 lanes for the *_TB
 *     variants with 2+ activation rows;
 *   - the activation quantizers (Q8_0: ggml's x86 rounding, id = 127/amax and ties to even; Q8_K:
 *     quantize_row_q8_K_ref), silu_mul (plm_expf_ggml's polynomial, glibc's expf for the tail), mad_f16, scale_f16,
 *     rmsnorm's final multiplies and the f16 conversions. rope is the scalar one.
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
#include "tiling.h"

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
AI int hsum_epi32_256(__m256i v) {
    return hsum_epi32_128(_mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1)));
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

/* ---------------------------------------------------------------- Q4_0 in llama.cpp's repacked order */
/* PLM_T_Q4_0_R8 (scalar.c): per output acc = fma((float)<integer dot of the 32-block>, d_w*d_a, acc), blocks in
 * order. Eight weight rows at a time, which is the natural SIMD form of that order (llama.cpp's repacked kernels
 * put 8 rows in the 8 lanes too): each row's block is unpacked to unsigned nibbles 0..15 once; per activation row,
 * maddubs gives 16 pair sums per weight row and a transposing add tree turns the 8 rows' into one vector whose lane
 * r is row r's block dot (minus 8 * the activation block's sum, for the -8 offset); one 8-lane fma with the 8 rows'
 * scales then advances 8 outputs. Remaining rows (fewer than 8) go one by one. */

/* lane r of the result = the sum of the 16 int16 lanes of m[r] (maddubs outputs of unsigned nibbles x int8: each
 * pair sum is at most 2*15*128, so the 3 levels of 16-bit horizontal adds, 16 products at most, cannot overflow);
 * the last level, across the two 128-bit halves, is done in 32 bits. */
AI __m256i sum8x16_epi16(const __m256i m[8]) {
    const __m256i h0 = _mm256_hadd_epi16(m[0], m[1]), h1 = _mm256_hadd_epi16(m[2], m[3]);
    const __m256i h2 = _mm256_hadd_epi16(m[4], m[5]), h3 = _mm256_hadd_epi16(m[6], m[7]);
    const __m256i g = _mm256_hadd_epi16(_mm256_hadd_epi16(h0, h1), _mm256_hadd_epi16(h2, h3));
    return _mm256_add_epi32(_mm256_cvtepi16_epi32(_mm256_castsi256_si128(g)), _mm256_cvtepi16_epi32(_mm256_extracti128_si256(g, 1)));
}

AI __m256i unpack_q4_0_u(const uint8_t *blk) { /* 32 unsigned nibbles in element order */
    const __m128i t = ld128(blk + 2);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}

AI int ld_u16(const uint8_t *p) {
    uint16_t h;
    memcpy(&h, p, 2);
    return h;
}

/* 8 weight rows (ws apart) x NB activation rows; ad/ay: per activation row (stride nblk) and block, its scale as
 * float and 8 * the sum of its quants. out: the 8 outputs of activation row b at out + b*ldo. */
AI void rows8_q4_0_r8(const int NB, int nblk, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                      const float *ad, const int32_t *ay, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const uint8_t *w1 = w + ws, *w2 = w1 + ws, *w3 = w2 + ws, *w4 = w3 + ws, *w5 = w4 + ws, *w6 = w5 + ws, *w7 = w6 + ws;
    for (int i = 0; i < nblk; i++) {
        const size_t o = (size_t)i * sizeof(block_q4_0);
        { /* The 8 rows are read across, not along, which the hardware prefetcher does not follow: fetch the next
           * group of rows (the 8*ws bytes after these, as rows lie in a tensor) at the pace this one is consumed,
           * 144 bytes per block. Without it decode runs at half speed. */
            const char *nx = (const char *)w + 8 * ws + (size_t)i * 8 * sizeof(block_q4_0);
            _mm_prefetch(nx, _MM_HINT_T0), _mm_prefetch(nx + 64, _MM_HINT_T0), _mm_prefetch(nx + 128, _MM_HINT_T0);
        }
        const __m256i qu[8] = { unpack_q4_0_u(w + o), unpack_q4_0_u(w1 + o), unpack_q4_0_u(w2 + o), unpack_q4_0_u(w3 + o),
                                unpack_q4_0_u(w4 + o), unpack_q4_0_u(w5 + o), unpack_q4_0_u(w6 + o), unpack_q4_0_u(w7 + o) };
        __m128i dh = _mm_cvtsi32_si128(ld_u16(w + o));
        dh = _mm_insert_epi16(dh, ld_u16(w1 + o), 1);
        dh = _mm_insert_epi16(dh, ld_u16(w2 + o), 2);
        dh = _mm_insert_epi16(dh, ld_u16(w3 + o), 3);
        dh = _mm_insert_epi16(dh, ld_u16(w4 + o), 4);
        dh = _mm_insert_epi16(dh, ld_u16(w5 + o), 5);
        dh = _mm_insert_epi16(dh, ld_u16(w6 + o), 6);
        dh = _mm_insert_epi16(dh, ld_u16(w7 + o), 7);
        const __m256 dwv = _mm256_cvtph_ps(dh);
        for (int b = 0; b < NB; b++) {
            const __m256i y = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2);
            __m256i m[8];
            for (int r = 0; r < 8; r++) m[r] = _mm256_maddubs_epi16(qu[r], y);
            const __m256i isum = _mm256_sub_epi32(sum8x16_epi16(m), _mm256_set1_epi32(ay[(size_t)b * nblk + i]));
            acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dwv, _mm256_set1_ps(ad[(size_t)b * nblk + i])),
                                     acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) _mm256_storeu_ps(out + (size_t)b * ldo, acc[b]);
}

/* The same for a group of 8 rows in the X8 layout (simd.h): the 8 scales are one load, and piece v of the 8 rows
 * is one vector whose 4-byte lane r is row r's, so maddubs against the activation's 4 bytes broadcast to every
 * lane leaves row r's pair sums in lane r: summed over the 8 pieces (in 16 bits: at most 8 * 2 * 15 * 128) and
 * widened by madd, lane r is row r's block dot, with no horizontal adds. */
AI void rows8_q4_0_x8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const float *ad,
                      const int32_t *ay, float *out, size_t ldo) {
    const int inl = !ad; /* no tables (out of memory): each activation block's scale and 8 * sum here */
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const __m256i m4 = _mm256_set1_epi8(0x0F), ones = _mm256_set1_epi16(1);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_0)) {
        const __m256 dwv = _mm256_cvtph_ps(ld128(w));
        __m256i q[8];
        for (int v = 0; v < 4; v++) {
            const __m256i t = ld256(w + 16 + 32 * v);
            q[v] = _mm256_and_si256(t, m4), q[v + 4] = _mm256_and_si256(_mm256_srli_epi16(t, 4), m4);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            int32_t y4[8];
            memcpy(y4, y, 32);
            __m256i s16 = _mm256_maddubs_epi16(q[0], _mm256_set1_epi32(y4[0]));
            for (int v = 1; v < 4; v++) s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(q[v], _mm256_set1_epi32(y4[v])));
            for (int v = 0; v < 4; v++) s16 = _mm256_add_epi16(s16, _mm256_maddubs_epi16(q[v + 4], _mm256_set1_epi32(y4[v + 4])));
            const int32_t y8 = inl ? hsum_epi32_256(_mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_set1_epi8(8), ld256(y)), ones))
                                   : ay[(size_t)b * nblk + i];
            const float da = inl ? ld_h(y - 2) : ad[(size_t)b * nblk + i];
            const __m256i isum = _mm256_sub_epi32(_mm256_madd_epi16(s16, ones), _mm256_set1_epi32(y8));
            acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(isum), _mm256_mul_ps(dwv, _mm256_set1_ps(da)), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) _mm256_storeu_ps(out + (size_t)b * ldo, acc[b]);
}

/* one weight row (the rows after the last group of 8) */
AI void row1_q4_0_r8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const float *ad,
                     const int32_t *ay, float *out, size_t ldo) {
    float acc[4] = { 0 };
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < nblk; i++) {
        const uint8_t *blk = w + (size_t)i * sizeof(block_q4_0);
        const __m256i qu = unpack_q4_0_u(blk);
        const float dw = ld_h(blk);
        for (int b = 0; b < NB; b++) {
            const __m256i y = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2);
            const int isum = hsum_epi32_256(_mm256_madd_epi16(_mm256_maddubs_epi16(qu, y), ones)) - ay[(size_t)b * nblk + i];
            acc[b] = fmaf((float)isum, dw * ad[(size_t)b * nblk + i], acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = acc[b];
}

/* ---------------------------------------------------------------- Q4_K x Q8_K */
/* A Q4_K block's 8 six-bit scales (low 8 i16 lanes) and 8 mins (high 8), unpacked with ggml's kmask trick. */
AI __m256i q4k_scales_mins(const uint8_t *w) {
    uint8_t sm[16]; /* scales then mins */
    plm_q4k_unpack(w + offsetof(block_q4_K, scales), sm, sm + 8);
    return _mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)sm));
}
/* The same, as the scales in both 128-bit halves (for k4_scale) and the mins alone */
AI void k4_unpack(const uint8_t *w, __m256i *scales, __m128i *mins) {
    const __m256i mas = q4k_scales_mins(w);
    *mins = _mm256_extracti128_si256(mas, 1);
    *scales = _mm256_broadcastsi128_si256(_mm256_castsi256_si128(mas));
}
/* scale s of the block in every 16-bit lane (ggml's get_scale_shuffle_k4) */
AI __m256i k4_scale(__m256i scales, int s) {
    return _mm256_shuffle_epi8(scales, _mm256_set1_epi16((short)(0x0100 + 0x0202 * s)));
}
/* 64-value pair j of a Q4_K / Q5_K block: lanes of sc_2j * (ql . q8[0..31]) + sc_2j+1 * (qh . q8[32..63]) */
AI __m256i k4_pair(__m256i scales, int j, __m256i ql, __m256i qh, const uint8_t *q8) {
    const __m256i pl = _mm256_madd_epi16(k4_scale(scales, 2 * j), _mm256_maddubs_epi16(ql, ld256(q8)));
    const __m256i ph = _mm256_madd_epi16(k4_scale(scales, 2 * j + 1), _mm256_maddubs_epi16(qh, ld256(q8 + 32)));
    return _mm256_add_epi32(pl, ph);
}
/* the activation block's bsums summed in pairs (one per 32 values), as 8 i16 lanes */
AI __m128i k4_bsums(const uint8_t *ab) {
    const __m256i bs = ld256(ab + offsetof(block_q8_K, bsums));
    return _mm_hadd_epi16(_mm256_castsi256_si128(bs), _mm256_extracti128_si256(bs, 1));
}

AI void row_q4_K(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    __m128 accm[4] = { _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps(), _mm_setzero_ps() };
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q4_K)) {
        const float dw = ld_h(w + offsetof(block_q4_K, d)), dminw = ld_h(w + offsetof(block_q4_K, dmin));
        __m256i scales;
        __m128i mins;
        k4_unpack(w, &scales, &mins);
        const uint8_t *q4 = w + offsetof(block_q4_K, qs);
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int j = 0; j < 4; j++) {
            const __m256i q4bits = ld256(q4 + 32 * j);
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
                sumi[b] = _mm256_add_epi32(sumi[b], k4_pair(scales, j, q4l, q4h, q8 + 64 * j));
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const float dy = ld_f(ab);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dw), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
            accm[b] = _mm_fmadd_ps(_mm_set1_ps(-dy * dminw), _mm_cvtepi32_ps(_mm_madd_epi16(mins, k4_bsums(ab))), accm[b]);
        }
    }
    for (int b = 0; b < NB; b++) {
        __m128 m = _mm_add_ps(accm[b], _mm_movehl_ps(accm[b], accm[b]));
        m = _mm_add_ss(m, _mm_movehdup_ps(m));
        out[(size_t)b * ldo] = hsum_ps(acc[b]) + _mm_cvtss_f32(m);
    }
}

/* Q4_K in llama.cpp's repacked order (PLM_T_Q4_K_R8, scalar.c): integer sums per 64-value pair of sub-blocks,
 * fused once per 256-block (gemv: NB < 4, the rows after the last group of 4) or once per pair (gemm: NB == 4, the
 * driver hands rows over in groups of 4 first). The scale and min sums have their own accumulators. */
/* lane p of the result = the sum of the 8 lanes of v[p], p < 4 */
AI __m128i sum4x8_epi32(const __m256i v[4]) {
    const __m256i g = _mm256_hadd_epi32(_mm256_hadd_epi32(v[0], v[1]), _mm256_hadd_epi32(v[2], v[3]));
    return _mm_add_epi32(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1));
}

AI void row_q4_K_r8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const int gemm = NB == 4;
    float acc[4] = { 0 }, accm[4] = { 0 };
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q4_K)) {
        const float dw = ld_h(w + offsetof(block_q4_K, d)), dminw = ld_h(w + offsetof(block_q4_K, dmin));
        __m256i scales;
        __m128i mins;
        k4_unpack(w, &scales, &mins);
        const uint8_t *q4 = w + offsetof(block_q4_K, qs);
        __m256i pv[4][4]; /* [activation row][pair]: lane sums are the pair's scaled integer dot */
        for (int j = 0; j < 4; j++) {
            const __m256i q4bits = ld256(q4 + 32 * j);
            const __m256i q4l = _mm256_and_si256(q4bits, m4);
            const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
                pv[b][j] = k4_pair(scales, j, q4l, q4h, q8 + 64 * j);
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const float dy = ld_f(ab);
            const float d = dw * dy, dm = dminw * dy;
            const __m128i sm = _mm_madd_epi16(mins, k4_bsums(ab)); /* lane p = mn_2p*S_2p + mn_2p+1*S_2p+1 */
            if (gemm) {
                int si[4], smv[4];
                _mm_storeu_si128((__m128i *)si, sum4x8_epi32(pv[b]));
                _mm_storeu_si128((__m128i *)smv, sm);
                for (int j = 0; j < 4; j++) {
                    acc[b] = fmaf((float)si[j], d, acc[b]);
                    accm[b] = fmaf((float)smv[j], dm, accm[b]);
                }
            } else {
                const __m256i t = _mm256_add_epi32(_mm256_add_epi32(pv[b][0], pv[b][1]), _mm256_add_epi32(pv[b][2], pv[b][3]));
                acc[b] = fmaf((float)hsum_epi32_256(t), d, acc[b]);
                accm[b] = fmaf((float)hsum_epi32_128(sm), dm, accm[b]);
            }
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = acc[b] - accm[b];
}

/* lane r of the result = the sum of the 8 lanes of s[r] */
AI __m256i sum8x8_epi32(const __m256i s[8]) {
    const __m256i h0 = _mm256_hadd_epi32(s[0], s[1]), h1 = _mm256_hadd_epi32(s[2], s[3]);
    const __m256i h2 = _mm256_hadd_epi32(s[4], s[5]), h3 = _mm256_hadd_epi32(s[6], s[7]);
    const __m256i g0 = _mm256_hadd_epi32(h0, h1), g1 = _mm256_hadd_epi32(h2, h3);
    return _mm256_add_epi32(_mm256_permute2x128_si256(g0, g1, 0x20), _mm256_permute2x128_si256(g0, g1, 0x31));
}

/* Q4_K_R8, eight weight rows at a time (lanes = rows, as llama.cpp's repacked kernels): per row the scaled integer
 * dots of each 64-value pair (int32 lanes), then add trees give each row's pair or block total in its lane, and the
 * fmas run on 8 rows at once. Same prefetch as Q4_0_R8. */
AI void rows8_q4_K_r8(const int NB, int nblk, const uint8_t *w, size_t ws, const uint8_t *a, size_t as, float *out,
                      size_t ldo) {
    const int gemm = NB == 4;
    __m256 acc[4], accm[4];
    for (int b = 0; b < 4; b++) acc[b] = accm[b] = _mm256_setzero_ps();
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    for (int i = 0; i < nblk; i++) {
        {
            const char *nx = (const char *)w + 8 * ws + (size_t)i * 8 * sizeof(block_q4_K);
            for (int l = 0; l < 8 * (int)sizeof(block_q4_K); l += 64) _mm_prefetch(nx + l, _MM_HINT_T0);
        }
        __m256i pv[4][4][8]; /* gemm: [activation row][pair][weight row] */
        __m256i tv[4][8];    /* gemv: [activation row][weight row], the 4 pairs added */
        __m128i mins8[8];
        uint16_t dh[8], dmh[8];
        for (int r = 0; r < 8; r++) {
            const uint8_t *wb = w + (size_t)r * ws + (size_t)i * sizeof(block_q4_K);
            memcpy(&dh[r], wb + offsetof(block_q4_K, d), 2);
            memcpy(&dmh[r], wb + offsetof(block_q4_K, dmin), 2);
            __m256i scales;
            k4_unpack(wb, &scales, &mins8[r]);
            const uint8_t *q4 = wb + offsetof(block_q4_K, qs);
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC unroll 4
#endif
            for (int j = 0; j < 4; j++) {
                const __m256i q4bits = ld256(q4 + 32 * j);
                const __m256i q4l = _mm256_and_si256(q4bits, m4);
                const __m256i q4h = _mm256_and_si256(_mm256_srli_epi16(q4bits, 4), m4);
                for (int b = 0; b < NB; b++) {
                    const uint8_t *q8 = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
                    const __m256i p = k4_pair(scales, j, q4l, q4h, q8 + 64 * j);
                    if (gemm) pv[b][j][r] = p;
                    else tv[b][r] = j ? _mm256_add_epi32(tv[b][r], p) : p;
                }
            }
        }
        const __m256 dwv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dh));
        const __m256 dmv = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)dmh));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const __m256 dy = _mm256_set1_ps(ld_f(ab));
            const __m256 d = _mm256_mul_ps(dwv, dy), dm = _mm256_mul_ps(dmv, dy);
            const __m128i q8s = k4_bsums(ab);
            __m128i sm[8]; /* lane p = mn_2p*S_2p + mn_2p+1*S_2p+1 of row r */
            for (int r = 0; r < 8; r++) sm[r] = _mm_madd_epi16(mins8[r], q8s);
            if (gemm) {
                /* transpose 8 rows x 4 pairs */
                const __m128i a0 = _mm_unpacklo_epi32(sm[0], sm[1]), a1 = _mm_unpackhi_epi32(sm[0], sm[1]);
                const __m128i a2 = _mm_unpacklo_epi32(sm[2], sm[3]), a3 = _mm_unpackhi_epi32(sm[2], sm[3]);
                const __m128i a4 = _mm_unpacklo_epi32(sm[4], sm[5]), a5 = _mm_unpackhi_epi32(sm[4], sm[5]);
                const __m128i a6 = _mm_unpacklo_epi32(sm[6], sm[7]), a7 = _mm_unpackhi_epi32(sm[6], sm[7]);
                const __m256i mp[4] = {
                    _mm256_set_m128i(_mm_unpacklo_epi64(a4, a6), _mm_unpacklo_epi64(a0, a2)),
                    _mm256_set_m128i(_mm_unpackhi_epi64(a4, a6), _mm_unpackhi_epi64(a0, a2)),
                    _mm256_set_m128i(_mm_unpacklo_epi64(a5, a7), _mm_unpacklo_epi64(a1, a3)),
                    _mm256_set_m128i(_mm_unpackhi_epi64(a5, a7), _mm_unpackhi_epi64(a1, a3)),
                };
                for (int j = 0; j < 4; j++) {
                    acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum8x8_epi32(pv[b][j])), d, acc[b]);
                    accm[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(mp[j]), dm, accm[b]);
                }
            } else {
                const __m128i m0 = _mm_hadd_epi32(_mm_hadd_epi32(sm[0], sm[1]), _mm_hadd_epi32(sm[2], sm[3]));
                const __m128i m1 = _mm_hadd_epi32(_mm_hadd_epi32(sm[4], sm[5]), _mm_hadd_epi32(sm[6], sm[7]));
                acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum8x8_epi32(tv[b])), d, acc[b]);
                accm[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(_mm256_set_m128i(m1, m0)), dm, accm[b]);
            }
        }
    }
    for (int b = 0; b < NB; b++) _mm256_storeu_ps(out + (size_t)b * ldo, _mm256_sub_ps(acc[b], accm[b]));
}

static void mm_q4_K_r8(int nblk, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,
                       size_t ldo) {
    int r = 0;
    for (; r + 8 <= nr; r += 8, w += 8 * ws) {
#define T(NB, b) rows8_q4_K_r8(NB, nblk, w, ws, a + (size_t)(b) * as, as, out + (size_t)(b) * ldo + r, ldo)
        MM_BY4(nb, T)
#undef T
    }
    for (; r < nr; r++, w += ws) {
#define T(NB, b) row_q4_K_r8(NB, nblk, w, a + (size_t)(b) * as, as, out + (size_t)(b) * ldo + r, ldo)
        MM_BY4(nb, T)
#undef T
    }
}

/* ---------------------------------------------------------------- Q6_K x Q8_K */
/* ggml's AVX2 lanes (bsums form): q6 (0..63) * q8 via maddubs, the int8 scales (madd); the -32 offset comes off
 * at the end of the 256-block as 32 * (scales . bsums), lane L taking bsums 2L and 2L+1. */
AI void row_q6_K(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const __m256i m4 = _mm256_set1_epi8(0x0F), m3 = _mm256_set1_epi8(3);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q6_K)) {
        const float dw = ld_h(w + offsetof(block_q6_K, d));
        const __m128i sc8 = ld128(w + offsetof(block_q6_K, scales));
        const __m256i sc16 = _mm256_cvtepi8_epi16(sc8);
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
                    sumi[b] = _mm256_add_epi32(sumi[b], _mm256_madd_epi16(sc, _mm256_maddubs_epi16(q6, q8)));
                }
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const __m256i corr = _mm256_slli_epi32(_mm256_madd_epi16(ld256(ab + offsetof(block_q8_K, bsums)), sc16), 5);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(ld_f(ab) * dw), _mm256_cvtepi32_ps(_mm256_sub_epi32(sumi[b], corr)),
                                     acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}

/* ---------------------------------------------------------------- F16 / F32 weights */
/* Bit-exact with scalar.c: ggml_vec_dot_f32/_f16's AVX-512 form (4 accumulators of 16 lanes = 8 AVX2 registers,
 * acc[k] holding elements 8k..8k+7 of every 64, reduced as red16((acc0+acc2)+(acc1+acc3)), then the tail), and
 * tinyBLAS's form for F32_TB/F16_TB with 2+ activation rows (one 16-lane accumulator = 2 registers, red16). */
AI __m256 ldh8(const uint8_t *p) { return _mm256_cvtph_ps(ld128(p)); }
AI __m256 ldf8(const uint8_t *p) { return _mm256_loadu_ps((const float *)p); }
AI __m256 ld8(const int F16, const uint8_t *p, int i) { return F16 ? ldh8(p + 2 * (size_t)i) : ldf8(p + 4 * (size_t)i); }
AI float ld1(const int F16, const uint8_t *p, int i) { return F16 ? ld_h(p + 2 * (size_t)i) : ld_f(p + 4 * (size_t)i); }

/* red16 of a 16-lane value held as lanes 0-7 and 8-15 */
AI float red16(__m256 lo, __m256 hi) { return hsum_ps(_mm256_add_ps(lo, hi)); }

AI float vec_dot(const int F16, int n, const uint8_t *w, const uint8_t *a) {
    const int m = n & ~63;
    float s = 0.0f;
    if (m) { /* eight named accumulators (an array ends up in memory) */
        __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0, c6 = c0, c7 = c0;
        for (int i = 0; i < m; i += 64) {
            c0 = _mm256_fmadd_ps(ld8(F16, w, i), ld8(F16, a, i), c0);
            c1 = _mm256_fmadd_ps(ld8(F16, w, i + 8), ld8(F16, a, i + 8), c1);
            c2 = _mm256_fmadd_ps(ld8(F16, w, i + 16), ld8(F16, a, i + 16), c2);
            c3 = _mm256_fmadd_ps(ld8(F16, w, i + 24), ld8(F16, a, i + 24), c3);
            c4 = _mm256_fmadd_ps(ld8(F16, w, i + 32), ld8(F16, a, i + 32), c4);
            c5 = _mm256_fmadd_ps(ld8(F16, w, i + 40), ld8(F16, a, i + 40), c5);
            c6 = _mm256_fmadd_ps(ld8(F16, w, i + 48), ld8(F16, a, i + 48), c6);
            c7 = _mm256_fmadd_ps(ld8(F16, w, i + 56), ld8(F16, a, i + 56), c7);
        }
        /* accumulator j = (c[2j], c[2j+1]): (acc0 + acc2) + (acc1 + acc3), lanes 0-7 and 8-15 */
        s = red16(_mm256_add_ps(_mm256_add_ps(c0, c4), _mm256_add_ps(c2, c6)),
                  _mm256_add_ps(_mm256_add_ps(c1, c5), _mm256_add_ps(c3, c7)));
    }
    if (F16) {
        double d = s;
        for (int i = m; i < n; i++) d += (double)(ld1(1, w, i) * ld1(1, a, i));
        return (float)d;
    }
    const int c = n - m, v = m + (c & ~15) + (c % 16 >= 8 ? 8 : 0);
    for (int i = m; i < v; i++) s += ld1(0, w, i) * ld1(0, a, i);
    for (int i = v; i < n; i++) s = fmaf(ld1(0, w, i), ld1(0, a, i), s);
    return s;
}

/* tinyBLAS form, one weight row x NB activation rows, n % 16 == 0 */
AI void row_tb(const int F16, const int NB, int n, const uint8_t *w, const uint8_t *a, size_t as, float *out,
               size_t ldo) {
    __m256 lo[4], hi[4];
    for (int b = 0; b < 4; b++) lo[b] = hi[b] = _mm256_setzero_ps();
    for (int i = 0; i < n; i += 16) {
        const __m256 w0 = ld8(F16, w, i), w1 = ld8(F16, w, i + 8);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as;
            lo[b] = _mm256_fmadd_ps(w0, ld8(F16, ab, i), lo[b]);
            hi[b] = _mm256_fmadd_ps(w1, ld8(F16, ab, i + 8), hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = red16(lo[b], hi[b]);
}

static void mm_float(const int F16, const int tb, int n, const uint8_t *w, size_t ws, int nr, const uint8_t *a,
                     size_t as, int nb, float *out, size_t ldo) {
    if (tb && nb >= 2 && n % 16 == 0) {
        for (int r = 0; r < nr; r++, w += ws) {
#define T(NB, b) row_tb(F16, NB, n, w, a + (size_t)(b) * as, as, out + (size_t)(b) * ldo + r, ldo)
            MM_BY4(nb, T)
#undef T
        }
        return;
    }
    for (int r = 0; r < nr; r++, w += ws)
        for (int b = 0; b < nb; b++)
            out[(size_t)b * ldo + r] = F16 ? vec_dot(1, n, w, a + (size_t)b * as) : vec_dot(0, n, w, a + (size_t)b * as);
}

/* ---------------------------------------------------------------- matmul drivers */
/* One weight row at a time, activation rows 4 at a time (MM_ROWS, simd/tiling.h) */
typedef const uint8_t u8c;
MM_ROWS(mm_q4_K, row_q4_K)
MM_ROWS(mm_q6_K, row_q6_K)

/* Q4_0/Q8_0 x Q8_0: the activation scales (f16) are converted to float once per call, for a chunk of activation
 * rows at a time (stack buffer; the heap only for very long rows), laid out [4-row group][block][4] for row_q0. */
#define Q0_SCALES_STACK 4096
AI void mm_q0(const int Q4, int nblk, const uint8_t *w0, size_t ws, int nr, const uint8_t *a, size_t as, int nb,
              float *out, size_t ldo) {
    float stack_ad[Q0_SCALES_STACK], *ad = stack_ad;
    int chunk = Q0_SCALES_STACK / (nblk > 0 ? nblk : 1) / 4 * 4;
    if (chunk < 4) {
        chunk = (nb + 3) / 4 * 4;
        ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);
        if (!ad) { /* out of memory: the reference needs no buffer */
            plm_kernels_scalar.matmul(Q4 ? PLM_T_Q4_0 : PLM_T_Q8_0, nblk * 32, w0, ws, nr, a, as, nb, out, ldo);
            return;
        }
    }
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        const uint8_t *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        for (int b = 0; b < (cn + 3) / 4 * 4; b++) {
            float *g = ad + (size_t)(b / 4) * 4 * (size_t)nblk + (size_t)(b % 4);
            for (int i = 0; i < nblk; i++)
                g[4 * (size_t)i] = b < cn ? ld_h(ac + (size_t)b * as + (size_t)i * sizeof(block_q8_0)) : 0.0f;
        }
        const uint8_t *w = w0;
        for (int r = 0; r < nr; r++, w += ws) {
#define T(NB, b) row_q0(NB, Q4, nblk, w, ac + (size_t)(b) * as, as, ad + (size_t)(b) * (size_t)nblk, oc + (size_t)(b) * ldo + r, ldo)
            MM_BY4(cn, T)
#undef T
        }
    }
    if (ad != stack_ad) free(ad);
}

/* Q4_0_R8 driver: activation scales and 8*sums once per chunk of activation rows (stack buffers), then weight rows
 * 8 at a time, activation rows 4 at a time. */
#define R8_STACK 2048
AI void mm_q4_0_8(const int X8, int nblk, const uint8_t *w0, size_t ws, int nr, const uint8_t *a, size_t as, int nb,
                  float *out, size_t ldo) {
    float stack_ad[R8_STACK], *ad = stack_ad;
    int32_t stack_ay[R8_STACK], *ay = stack_ay;
    int chunk = R8_STACK / (nblk > 0 ? nblk : 1) / 4 * 4;
    if (chunk < 4) {
        chunk = (nb + 3) / 4 * 4;
        ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);
        ay = malloc(sizeof(int32_t) * (size_t)chunk * (size_t)nblk);
        if (!ad || !ay) { /* out of memory: the reference needs no buffer */
            free(ad), free(ay);
            if (X8) { /* the reference cannot read X8: the kernel, without its tables */
                for (int r = 0; r < nr; r += 8)
                    for (int b = 0; b < nb; b++)
                        rows8_q4_0_x8(1, nblk, w0 + (size_t)r * ws, a + (size_t)b * as, as, NULL, NULL,
                                      out + (size_t)b * ldo + r, ldo);
                return;
            }
            plm_kernels_scalar.matmul(PLM_T_Q4_0_R8, nblk * QK4_0, w0, ws, nr, a, as, nb, out, ldo);
            return;
        }
    }
    const __m256i eight = _mm256_set1_epi8(8), ones = _mm256_set1_epi16(1);
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        const uint8_t *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        for (int b = 0; b < cn; b++)
            for (int i = 0; i < nblk; i++) {
                const uint8_t *blk = ac + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
                ad[(size_t)b * nblk + i] = ld_h(blk);
                ay[(size_t)b * nblk + i] = hsum_epi32_256(_mm256_madd_epi16(_mm256_maddubs_epi16(eight, ld256(blk + 2)), ones));
            }
        int r = 0;
        for (; r + 8 <= nr; r += 8) {
            const uint8_t *w = w0 + (size_t)r * ws;
#define ARGS(b) ac + (size_t)(b) * as, as, ad + (size_t)(b) * nblk, ay + (size_t)(b) * nblk, oc + (size_t)(b) * ldo + r, ldo
#define T8(NB, b) rows8_q4_0_x8(NB, nblk, w, ARGS(b))
#define R8(NB, b) rows8_q4_0_r8(NB, nblk, w, ws, ARGS(b))
            if (X8) {
                MM_BY4(cn, T8)
            } else {
                MM_BY4(cn, R8)
            }
        }
        for (; r < nr; r++) {
            const uint8_t *w = w0 + (size_t)r * ws;
#define R1(NB, b) row1_q4_0_r8(NB, nblk, w, ARGS(b))
            MM_BY4(cn, R1)
#undef R1
#undef R8
#undef T8
#undef ARGS
        }
    }
    if (ad != stack_ad) free(ad);
    if (ay != stack_ay) free(ay);
}

static void mm_q4_0_r8(int nblk, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,
                       size_t ldo) {
    mm_q4_0_8(0, nblk, w, ws, nr, a, as, nb, out, ldo);
}
static void mm_q4_0_x8(int nblk, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,
                       size_t ldo) {
    mm_q4_0_8(1, nblk, w, ws, nr, a, as, nb, out, ldo);
}


/* ---------------------------------------------------------------- the other quantizer types (scalar.c's orders) */
/* byte j of the result is 0xFF where bit j of the 32-bit word at p is set (ggml's bytes_from_bits_32) */
AI __m256i bits32_to_bytes(const uint8_t *p) {
    uint32_t u;
    memcpy(&u, p, 4);
    const __m256i shuf = _mm256_set_epi64x(0x0303030303030303, 0x0202020202020202, 0x0101010101010101, 0);
    const __m256i bytes = _mm256_or_si256(_mm256_shuffle_epi8(_mm256_set1_epi32((int)u), shuf),
                                          _mm256_set1_epi64x(0x7fbfdfeff7fbfdfe));
    return _mm256_cmpeq_epi8(bytes, _mm256_set1_epi64x(-1));
}
/* 32 nibbles in element order: low nibbles are elements 0..15, high nibbles 16..31 */
AI __m256i nibbles32(const uint8_t *p) {
    const __m128i t = ld128(p);
    return _mm256_and_si256(_mm256_set_m128i(_mm_srli_epi16(t, 4), t), _mm256_set1_epi8(0x0F));
}
/* 8 lanes of signed int8 x int8 products summed 4 at a time (lane k: products 4k..4k+3) */
AI __m256i dot8_i8(__m256i x, __m256i y) {
    return _mm256_madd_epi16(_mm256_maddubs_epi16(_mm256_sign_epi8(x, x), _mm256_sign_epi8(y, x)), _mm256_set1_epi16(1));
}

/* Q5_0 x Q8_0 (and IQ4_NL with two accumulators, even and odd blocks, and a scalar odd last block) */
AI void row_q5_0(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    for (int i = 0; i < nblk; i++, w += sizeof(block_q5_0)) {
        const float dw = ld_h(w);
        const __m256i hi = _mm256_andnot_si256(bits32_to_bytes(w + offsetof(block_q5_0, qh)), _mm256_set1_epi8((char)0xF0));
        const __m256i qx = _mm256_or_si256(nibbles32(w + offsetof(block_q5_0, qs)), hi); /* q - 16 as int8 */
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ld_h(ab)), _mm256_cvtepi32_ps(dot8_i8(qx, ld256(ab + 2))), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}

AI __m256i iq4_levels(const uint8_t *qs) {
    const __m128i values = ld128(plm_iq4nl_values), m4 = _mm_set1_epi8(0x0F);
    const __m128i t = ld128(qs);
    return _mm256_set_m128i(_mm_shuffle_epi8(values, _mm_and_si128(_mm_srli_epi16(t, 4), m4)),
                            _mm_shuffle_epi8(values, _mm_and_si128(t, m4)));
}

AI void row_iq4_nl(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[2][4];
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < 4; b++) acc[h][b] = _mm256_setzero_ps();
    int i = 0;
    for (; i + 1 < nblk; i += 2)
        for (int h = 0; h < 2; h++) {
            const uint8_t *x = w + (size_t)(i + h) * sizeof(block_iq4_nl);
            const __m256i qx = iq4_levels(x + 2);
            const float dw = ld_h(x);
            for (int b = 0; b < NB; b++) {
                const uint8_t *ab = a + (size_t)b * as + (size_t)(i + h) * sizeof(block_q8_0);
                acc[h][b] = _mm256_fmadd_ps(_mm256_set1_ps(ld_h(ab) * dw), _mm256_cvtepi32_ps(dot8_i8(qx, ld256(ab + 2))),
                                            acc[h][b]);
            }
        }
    for (int b = 0; b < NB; b++) {
        float s = hsum_ps(_mm256_add_ps(acc[0][b], acc[1][b]));
        if (i < nblk) {
            const uint8_t *x = w + (size_t)i * sizeof(block_iq4_nl), *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            s = fmaf(ld_h(ab) * ld_h(x), (float)hsum_epi32_256(dot8_i8(iq4_levels(x + 2), ld256(ab + 2))), s);
        }
        out[(size_t)b * ldo] = s;
    }
}

/* IQ4_NL_R8: the whole block's integer dot, one fma per block */
AI void row_iq4_nl_r8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    float acc[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < nblk; i++, w += sizeof(block_iq4_nl)) {
        const __m256i qx = iq4_levels(w + 2);
        const float dw = ld_h(w);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            acc[b] = fmaf((float)hsum_epi32_256(dot8_i8(qx, ld256(ab + 2))), dw * ld_h(ab), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = acc[b];
}

/* Q4_1 / Q5_1 x Q8_1: unsigned quants, lanes fma(d_w*d_a), plus the min term fma(m_w, s_a) */
AI void row_q_1(const int NB, const int FIVE, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                size_t ldo) {
    const size_t bs = FIVE ? sizeof(block_q5_1) : sizeof(block_q4_1);
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    float summs[4] = { 0, 0, 0, 0 };
    const __m256i ones = _mm256_set1_epi16(1);
    for (int i = 0; i < nblk; i++, w += bs) {
        const float dw = ld_h(w), mw = ld_h(w + 2);
        __m256i qx = nibbles32(w + (FIVE ? offsetof(block_q5_1, qs) : offsetof(block_q4_1, qs)));
        if (FIVE) qx = _mm256_or_si256(qx, _mm256_and_si256(bits32_to_bytes(w + offsetof(block_q5_1, qh)), _mm256_set1_epi8(0x10)));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_1);
            summs[b] = fmaf(mw, ld_h(ab + 2), summs[b]);
            const __m256i s32 = _mm256_madd_epi16(_mm256_maddubs_epi16(qx, ld256(ab + 4)), ones);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dw * ld_h(ab)), _mm256_cvtepi32_ps(s32), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]) + summs[b];
}

/* Q5_K x Q8_K: Q4_K's lanes with the fifth bit; the mins one integer per block into a float sum (fma) */
AI void row_q5_K(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    float summs[4] = { 0, 0, 0, 0 };
    const __m256i m4 = _mm256_set1_epi8(0x0F), one = _mm256_set1_epi8(1);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q5_K)) {
        const float dw = ld_h(w + offsetof(block_q5_K, d)), dminw = ld_h(w + offsetof(block_q5_K, dmin));
        __m256i scales;
        __m128i mins;
        k4_unpack(w, &scales, &mins); /* same 12-byte scale/min packing as Q4_K */
        const uint8_t *q5 = w + offsetof(block_q5_K, qs);
        const __m256i hb = ld256(w + offsetof(block_q5_K, qh));
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int j = 0; j < 4; j++) {
            const __m256i q5bits = ld256(q5 + 32 * j);
            const __m256i h0 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j), one), 4);
            const __m256i h1 = _mm256_slli_epi16(_mm256_and_si256(_mm256_srli_epi16(hb, 2 * j + 1), one), 4);
            const __m256i ql = _mm256_or_si256(_mm256_and_si256(q5bits, m4), h0);
            const __m256i qh = _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi16(q5bits, 4), m4), h1);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
                sumi[b] = _mm256_add_epi32(sumi[b], k4_pair(scales, j, ql, qh, q8 + 64 * j));
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const float dy = ld_f(ab);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dw), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
            summs[b] = fmaf(-dy * dminw, (float)hsum_epi32_128(_mm_madd_epi16(mins, k4_bsums(ab))), summs[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]) + summs[b];
}

/* Q2_K / Q3_K x Q8_K: 16 scales of 16 values; per 128 values (j) and 32 values (k), the low 16 bytes take scale
 * 8j+2k and the high 16 bytes 8j+2k+1. Q2_K's mins go into the same lanes first (lane L: bsums 2L, 2L+1). */
AI void row_q23_K(const int NB, const int Q3, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                  size_t ldo) {
    const size_t bsz = Q3 ? sizeof(block_q3_K) : sizeof(block_q2_K);
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    const __m256i m3 = _mm256_set1_epi8(3), four = _mm256_set1_epi8(4);
    for (int i = 0; i < nblk; i++, w += bsz) {
        int sc[16];
        __m256i mins = _mm256_setzero_si256();
        float dw, dminw = 0;
        const uint8_t *q = w + (Q3 ? offsetof(block_q3_K, qs) : offsetof(block_q2_K, qs));
        __m256i hb = _mm256_setzero_si256();
        if (Q3) {
            plm_q3k_scales(w + offsetof(block_q3_K, scales), sc);
            dw = ld_h(w + offsetof(block_q3_K, d));
            hb = ld256(w + offsetof(block_q3_K, hmask));
        } else {
            const __m128i sm = ld128(w + offsetof(block_q2_K, scales));
            mins = _mm256_cvtepu8_epi16(_mm_and_si128(_mm_srli_epi16(sm, 4), _mm_set1_epi8(0x0F)));
            for (int t = 0; t < 16; t++) sc[t] = w[offsetof(block_q2_K, scales) + t] & 0xF;
            dw = ld_h(w + offsetof(block_q2_K, d));
            dminw = ld_h(w + offsetof(block_q2_K, dmin));
        }
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int j = 0; j < 2; j++) {
            const __m256i bits = ld256(q + 32 * j);
            for (int k = 0; k < 4; k++) {
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16((short)sc[8 * j + 2 * k + 1]), _mm_set1_epi16((short)sc[8 * j + 2 * k]));
                const __m256i ql = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * k), m3);
                __m256i qhv = _mm256_setzero_si256();
                if (Q3) { /* 4 where the hmask bit is clear */
                    const __m256i bit = _mm256_set1_epi8((char)(1 << (4 * j + k)));
                    qhv = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_and_si256(hb, bit), _mm256_setzero_si256()), four);
                }
                for (int b = 0; b < NB; b++) {
                    const __m256i q8 = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs) + 128 * j + 32 * k);
                    __m256i p = _mm256_maddubs_epi16(ql, q8);
                    if (Q3) p = _mm256_sub_epi16(p, _mm256_maddubs_epi16(qhv, q8));
                    sumi[b] = _mm256_add_epi32(sumi[b], _mm256_madd_epi16(scv, p));
                }
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const float dy = ld_f(ab);
            if (!Q3)
                acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(-dy * dminw),
                                         _mm256_cvtepi32_ps(_mm256_madd_epi16(mins, ld256(ab + offsetof(block_q8_K, bsums)))), acc[b]);
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dy * dw), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}

/* Q2_K_R8: integer sums per 128 values; fused per 256-block (gemv) or per 128 (NB == 4: llama.cpp's gemm rows) */
AI void row_q2_K_r8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    const __m256i m3 = _mm256_set1_epi8(3);
    for (int i = 0; i < nblk; i++, w += sizeof(block_q2_K)) {
        const uint8_t *sc = w + offsetof(block_q2_K, scales), *q = w + offsetof(block_q2_K, qs);
        const float dw = ld_h(w + offsetof(block_q2_K, d)), dminw = ld_h(w + offsetof(block_q2_K, dmin));
        int s[2][4];
        for (int j = 0; j < 2; j++) {
            __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                                _mm256_setzero_si256() };
            const __m256i bits = ld256(q + 32 * j);
            for (int k = 0; k < 4; k++) {
                const __m256i scv = _mm256_set_m128i(_mm_set1_epi16((short)(sc[8 * j + 2 * k + 1] & 0xF)),
                                                     _mm_set1_epi16((short)(sc[8 * j + 2 * k] & 0xF)));
                const __m256i ql = _mm256_and_si256(_mm256_srli_epi16(bits, 2 * k), m3);
                for (int b = 0; b < NB; b++) {
                    const __m256i q8 = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs) + 128 * j + 32 * k);
                    sumi[b] = _mm256_add_epi32(sumi[b], _mm256_madd_epi16(scv, _mm256_maddubs_epi16(ql, q8)));
                }
            }
            for (int b = 0; b < NB; b++) s[j][b] = hsum_epi32_256(sumi[b]);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            int16_t bs[16];
            memcpy(bs, ab + offsetof(block_q8_K, bsums), sizeof bs);
            int m[2] = { 0, 0 };
            for (int t = 0; t < 16; t++) m[t / 8] += (sc[t] >> 4) * bs[t];
            const float dy = ld_f(ab), d = dw * dy, dm = dminw * dy;
            if (NB == 4) {
                for (int j = 0; j < 2; j++) {
                    acc[b] = fmaf((float)s[j][b], d, acc[b]);
                    accm[b] = fmaf((float)m[j], dm, accm[b]);
                }
            } else {
                acc[b] = fmaf((float)(s[0][b] + s[1][b]), d, acc[b]);
                accm[b] = fmaf((float)(m[0] + m[1]), dm, accm[b]);
            }
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = acc[b] - accm[b];
}

/* IQ4_XS x Q8_K: lane L = sum over the 8 sub-blocks of (scale - 32) * products 4L..4L+3 */
AI void row_iq4_xs(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    __m256 acc[4] = { _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps(), _mm256_setzero_ps() };
    for (int i = 0; i < nblk; i++, w += sizeof(block_iq4_xs)) {
        __m256i sumi[4] = { _mm256_setzero_si256(), _mm256_setzero_si256(), _mm256_setzero_si256(),
                            _mm256_setzero_si256() };
        for (int ib = 0; ib < 8; ib++) {
            const short ls = (short)plm_iq4xs_scale(w, ib);
            const __m256i qx = iq4_levels(w + offsetof(block_iq4_xs, qs) + 16 * ib);
            const __m256i ax = _mm256_sign_epi8(qx, qx), lsv = _mm256_set1_epi16(ls);
            for (int b = 0; b < NB; b++) {
                const __m256i q8 = ld256(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs) + 32 * ib);
                sumi[b] = _mm256_add_epi32(sumi[b], _mm256_madd_epi16(_mm256_maddubs_epi16(ax, _mm256_sign_epi8(q8, qx)), lsv));
            }
        }
        const float dw = ld_h(w);
        for (int b = 0; b < NB; b++) {
            const float dy = ld_f(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K));
            acc[b] = _mm256_fmadd_ps(_mm256_set1_ps(dw * dy), _mm256_cvtepi32_ps(sumi[b]), acc[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum_ps(acc[b]);
}

#define ROW_Q4_1(NB, ...) row_q_1(NB, 0, __VA_ARGS__)
#define ROW_Q5_1(NB, ...) row_q_1(NB, 1, __VA_ARGS__)
#define ROW_Q2_K(NB, ...) row_q23_K(NB, 0, __VA_ARGS__)
#define ROW_Q3_K(NB, ...) row_q23_K(NB, 1, __VA_ARGS__)
MM_ROWS(mm_q5_0, row_q5_0)
MM_ROWS(mm_iq4_nl, row_iq4_nl)
MM_ROWS(mm_iq4_nl_r8, row_iq4_nl_r8)
MM_ROWS(mm_q4_1, ROW_Q4_1)
MM_ROWS(mm_q5_1, ROW_Q5_1)
MM_ROWS(mm_q5_K, row_q5_K)
MM_ROWS(mm_q2_K, ROW_Q2_K)
MM_ROWS(mm_q2_K_r8, row_q2_K_r8)
MM_ROWS(mm_q3_K, ROW_Q3_K)
MM_ROWS(mm_iq4_xs, row_iq4_xs)

/* BF16 (scalar vdot_bf16 / tb_bf16): exact products, so the adds are scalar's; vdot: two 16-lane accumulators
 * (c0,c1 and c2,c3) over 32-value steps, each red16 and added in double, the tail in double; TB: one, red16. */
AI __m256 bf8(const uint8_t *p) { return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(ld128(p)), 16)); }
AI float bf1(const uint8_t *p, int i) { uint16_t h; memcpy(&h, p + 2 * (size_t)i, 2); return plm_bf16_to_f32(h); }
static float vdot_bf16_x(const int tb, int n, const uint8_t *w, const uint8_t *a) {
    __m256 c0 = _mm256_setzero_ps(), c1 = c0, c2 = c0, c3 = c0;
    int i = 0;
    if (tb) {
        for (; i < n; i += 16) {
            c0 = _mm256_add_ps(c0, _mm256_mul_ps(bf8(w + 2 * (size_t)i), bf8(a + 2 * (size_t)i)));
            c1 = _mm256_add_ps(c1, _mm256_mul_ps(bf8(w + 2 * (size_t)i + 16), bf8(a + 2 * (size_t)i + 16)));
        }
        return red16(c0, c1);
    }
    for (; i + 32 <= n; i += 32) {
        c0 = _mm256_add_ps(c0, _mm256_mul_ps(bf8(w + 2 * (size_t)i), bf8(a + 2 * (size_t)i)));
        c1 = _mm256_add_ps(c1, _mm256_mul_ps(bf8(w + 2 * (size_t)i + 16), bf8(a + 2 * (size_t)i + 16)));
        c2 = _mm256_add_ps(c2, _mm256_mul_ps(bf8(w + 2 * (size_t)i + 32), bf8(a + 2 * (size_t)i + 32)));
        c3 = _mm256_add_ps(c3, _mm256_mul_ps(bf8(w + 2 * (size_t)i + 48), bf8(a + 2 * (size_t)i + 48)));
    }
    double s = 0.0;
    s += (double)red16(c0, c1);
    s += (double)red16(c2, c3);
    for (; i < n; i++) s += (double)(bf1(w, i) * bf1(a, i));
    return (float)s;
}
static void mm_bf16(const int tb, int n, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb,
                    float *out, size_t ldo) {
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++)
            out[(size_t)b * ldo + r] = vdot_bf16_x(tb, n, w + (size_t)r * ws, a + (size_t)b * as);
}

static void mm_q4_K_x8(int nblk, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,
                       size_t ldo);

static void x_matmul(int type, int n, const void *w, size_t w_stride, int nr, const void *a, size_t a_stride, int nb,
                     float *out, size_t ldo) {
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    switch (type) {
    case PLM_T_Q8_0: mm_q0(0, n / QK8_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_0: mm_q0(1, n / QK4_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_0_R8: mm_q4_0_r8(n / QK4_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_0_X8: mm_q4_0_x8(n / QK4_0, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_K_X8: mm_q4_K_x8(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_K: mm_q4_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_K_R8: mm_q4_K_r8(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q6_K: mm_q6_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F16: mm_float(1, 0, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F32: mm_float(0, 0, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F16_TB: mm_float(1, 1, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_F32_TB: mm_float(0, 1, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q5_0: mm_q5_0(n / 32, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_IQ4_NL: mm_iq4_nl(n / 32, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_IQ4_NL_R8: mm_iq4_nl_r8(n / 32, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q4_1: mm_q4_1(n / 32, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q5_1: mm_q5_1(n / 32, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q5_K: mm_q5_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q2_K: mm_q2_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q2_K_R8: mm_q2_K_r8(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_BF16: mm_bf16(0, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_BF16_TB: mm_bf16(nb >= 2 && n % 16 == 0, n, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_Q3_K: mm_q3_K(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
    case PLM_T_IQ4_XS: mm_iq4_xs(n / QK_K, W, w_stride, nr, A, a_stride, nb, out, ldo); break;
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
static void x_rmsnorm(float *out, const float *x, const float *w, int n, float eps) {
    /* ggml adds the float squares to a double one by one, in order: so does this (a double sum of floats is not
     * always exact, and the order then shows in the last bit of mean) */
    double sum = 0.0;
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        float sq[8];
        const __m256 v = _mm256_loadu_ps(x + i);
        _mm256_storeu_ps(sq, _mm256_mul_ps(v, v));
        for (int k = 0; k < 8; k++) sum += (double)sq[k];
    }
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

/* g = (g / (1 + exp(-g))) * u, bit-exact with the scalar reference: ggml's vector expf for the first n & ~15
 * elements, glibc's expf for the rest (as llama.cpp's 16-lane loop and its scalar tail) */
static void x_silu_mul(float *g, const float *u, int n) {
    const __m256 one = _mm256_set1_ps(1.0f), sgn = _mm256_set1_ps(-0.0f);
    const int m = n & ~15;
    int i = 0;
    for (; i < m; i += 8) {
        const __m256 v = _mm256_loadu_ps(g + i);
        const __m256 e = expf_ggml8(_mm256_xor_ps(v, sgn));
        _mm256_storeu_ps(g + i, _mm256_mul_ps(_mm256_div_ps(v, _mm256_add_ps(one, e)), _mm256_loadu_ps(u + i)));
    }
    for (; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_glibc(-g[i]))) * u[i];
}

static void x_rope(float *x, int hd, int pos, float base, float freq_scale, const float *ff, int neox) {
    plm_kernels_scalar.rope(x, hd, pos, base, freq_scale, ff, neox);
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
    return vec_dot(0, n, (const uint8_t *)a, (const uint8_t *)b);
}

static float x_dot_f16(const plm_f16 *a, const plm_f16 *b, int n) {
    return vec_dot(1, n, (const uint8_t *)a, (const uint8_t *)b);
}

static void x_axpy_f32(float *y, float a, const float *x, int n) {
    const __m256 va = _mm256_set1_ps(a);
    int i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(y + i, _mm256_fmadd_ps(_mm256_loadu_ps(x + i), va, _mm256_loadu_ps(y + i)));
    for (; i < n; i++) y[i] += x[i] * a;
}

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

/* Q4_K in the X8 layout (simd.h): 8 rows in the 8 lanes. Per 32-value sub-block, maddubs of its 8 pieces against
 * the activation's 4 bytes broadcast, summed in 16 bits (at most 8 * 2 * 15 * 128), is each row's dot in its lane
 * as two 16-bit pair sums; ggml's scale shuffle runs on the 32-bit lanes of the three scale words. Each weight
 * vector is split into nibbles once for the NB activation rows (their sums are the live registers); the scales
 * and mins are unpacked once per block, each scale as a 16-bit pair (madd by it widens and scales the pair sums at
 * once), each sub-block pair's two mins as a 16-bit pair (madd by the activation's two 32-value sums). Integer
 * sums and fmas as scalar's Q4_K_R8: NB == 4 is llama.cpp's gemm (one fma per 64-value pair), fewer rows its gemv. */
#define PB8(r, k) (char)((k) < 0 ? -128 : 4 * (r) + (k))
#define PB8_LANE(k0, k1) PB8(0, k0), -128, PB8(0, k1), -128, PB8(1, k0), -128, PB8(1, k1), -128, \
                         PB8(2, k0), -128, PB8(2, k1), -128, PB8(3, k0), -128, PB8(3, k1), -128
/* bytes k0 and k1 of every 32-bit lane of v as its two 16-bit halves */
AI __m256i pick16_256(__m256i v, const int k0, const int k1) {
    return _mm256_shuffle_epi8(v, _mm256_setr_epi8(PB8_LANE(k0, k1), PB8_LANE(k0, k1)));
}
AI __m256i bcast4(const uint8_t *p) {
    int32_t x;
    memcpy(&x, p, 4);
    return _mm256_set1_epi32(x);
}

AI void rows8_q4_K_x8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out, size_t ldo) {
    const int per_pair = NB == 4;
    const __m256i m4 = _mm256_set1_epi8(0x0F);
    const __m256i k1 = _mm256_set1_epi32(0x3f3f3f3f), k2 = _mm256_set1_epi32(0x0f0f0f0f), k3 = _mm256_set1_epi32(0x03030303);
    __m256 acc[4], accm[4];
    for (int b = 0; b < 4; b++) acc[b] = accm[b] = _mm256_setzero_ps();
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_K)) {
        const __m256 dw = _mm256_cvtph_ps(ld128(w)), dm = _mm256_cvtph_ps(ld128(w + 16));
        const __m256i u0 = ld256(w + 32), u1 = ld256(w + 64), u2 = ld256(w + 96);
        const __m256i sc[2] = { _mm256_and_si256(u0, k1),
                                _mm256_or_si256(_mm256_and_si256(u2, k2),
                                                _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u0, 6), k3), 4)) };
        const __m256i mn[2] = { _mm256_and_si256(u1, k1),
                                _mm256_or_si256(_mm256_and_si256(_mm256_srli_epi32(u2, 4), k2),
                                                _mm256_slli_epi32(_mm256_and_si256(_mm256_srli_epi32(u1, 6), k3), 4)) };
        const uint8_t *q8[4];
        int16_t bs[4][QK_K / 16];
        __m256 d[4], dmin[4];
        __m256i sum[4], msum[4];
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            q8[b] = ab + offsetof(block_q8_K, qs);
            memcpy(bs[b], ab + offsetof(block_q8_K, bsums), sizeof bs[b]);
            const __m256 dy = _mm256_set1_ps(ld_f(ab));
            d[b] = _mm256_mul_ps(dw, dy), dmin[b] = _mm256_mul_ps(dm, dy);
            sum[b] = msum[b] = _mm256_setzero_si256();
        }
        for (int c = 0; c < 4; c++) { /* sub-blocks 2c (low nibbles) and 2c + 1 (high) */
            const int j = (2 * c) % 4;
            const __m256i scl = pick16_256(sc[c / 2], j, j), sch = pick16_256(sc[c / 2], j + 1, j + 1);
            const __m256i mnp = pick16_256(mn[c / 2], j, j + 1);
            __m256i sl[4], sh[4];
            for (int b = 0; b < NB; b++) sl[b] = sh[b] = _mm256_setzero_si256();
            for (int v = 0; v < 8; v++) {
                const __m256i t = ld256(w + 128 + 256 * c + 32 * v);
                const __m256i lo = _mm256_and_si256(t, m4), hi = _mm256_and_si256(_mm256_srli_epi16(t, 4), m4);
                for (int b = 0; b < NB; b++) {
                    sl[b] = _mm256_add_epi16(sl[b], _mm256_maddubs_epi16(lo, bcast4(q8[b] + 64 * c + 4 * v)));
                    sh[b] = _mm256_add_epi16(sh[b], _mm256_maddubs_epi16(hi, bcast4(q8[b] + 64 * c + 32 + 4 * v)));
                }
            }
            for (int b = 0; b < NB; b++) {
                const __m256i P = _mm256_add_epi32(_mm256_madd_epi16(sl[b], scl), _mm256_madd_epi16(sh[b], sch));
                const int16_t s0 = (int16_t)(bs[b][4 * c] + bs[b][4 * c + 1]), s1 = (int16_t)(bs[b][4 * c + 2] + bs[b][4 * c + 3]);
                const __m256i M = _mm256_madd_epi16(mnp, _mm256_set1_epi32((int32_t)((uint32_t)(uint16_t)s0 | (uint32_t)(uint16_t)s1 << 16)));
                if (per_pair) {
                    acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(P), d[b], acc[b]);
                    accm[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(M), dmin[b], accm[b]);
                } else {
                    sum[b] = _mm256_add_epi32(sum[b], P), msum[b] = _mm256_add_epi32(msum[b], M);
                }
            }
        }
        if (!per_pair)
            for (int b = 0; b < NB; b++) {
                acc[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(sum[b]), d[b], acc[b]);
                accm[b] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(msum[b]), dmin[b], accm[b]);
            }
    }
    for (int b = 0; b < NB; b++) _mm256_storeu_ps(out + (size_t)b * ldo, _mm256_sub_ps(acc[b], accm[b]));
}

/* Q4_K_X8 driver: groups of 8 rows; activation rows in groups of 4 (gemm), the last 1..3 one group (gemv) */
static void mm_q4_K_x8(int nblk, const uint8_t *w, size_t ws, int nr, const uint8_t *a, size_t as, int nb, float *out,
                       size_t ldo) {
#define T(NB, b)                                                                                                       \
    for (int r = 0; r < nr; r += 8)                                                                                    \
        rows8_q4_K_x8(NB, nblk, w + (size_t)r * ws, a + (size_t)(b) * as, as, out + (size_t)(b) * ldo + r, ldo)
    MM_BY4(nb, T)
#undef T
}

/* Q4_0_R8 and Q4_K_R8 matrices go to the X8 layouts (simd.h), read by rows8_q4_0_x8 and rows8_q4_K_x8 */
static int x_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q4_0_R8 && plm_repack_q4_0_x8(w, n, nr)) return PLM_T_Q4_0_X8;
    if (type == PLM_T_Q4_K_R8 && plm_repack_q4_K_x8(w, n, nr)) return PLM_T_Q4_K_X8;
    return type;
}

const plm_kernels plm_kernels_x86 = {
    .name = "avx2",
    .quantize_row = x_quantize_row,
    .matmul = x_matmul,
    .rmsnorm = x_rmsnorm,
    .silu_mul = x_silu_mul,
    .gelu_mul = plm_gelu_mul_ref,
    .rope = x_rope,
    .f16_to_f32 = x_f16_to_f32,
    .f32_to_f16 = x_f32_to_f16,
    .dot_f32 = x_dot_f32,
    .dot_f16 = x_dot_f16,
    .axpy_f32 = x_axpy_f32,
    .mad_f16 = x_mad_f16,
    .scale_f16 = x_scale_f16,
    .repack = x_repack,
};

#ifdef PLM_X86_POP_ATTR
#pragma clang attribute pop
#endif
