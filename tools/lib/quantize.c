/* Weight quantizers (reference code, not speed critical; tools and tests only: the runtime never quantizes
 * weights, and dequantizes with plm_dequantize_row in simd/scalar.c).
 *
 * These reproduce ggml's reference quantizers from ggml/src/ggml-quants.c of ggml-org/llama.cpp (MIT):
 * quantize_row_q4_0_ref, quantize_row_q8_0_ref, quantize_row_q4_K_ref (make_qkx2_quants) and
 * quantize_row_q6_K_ref (make_qx_quants), i.e. what `llama-quantize` produces without an importance matrix; Q4_1,
 * Q5_0, Q5_1, Q2_K and Q5_K follow their _ref quantizers too. Q3_K (make_qx_quants for its sub-block scales) and
 * IQ4_NL / IQ4_XS (a simpler scale search) write the same formats, not llama-quantize's exact bytes. The
 * block formats are ggml's (see simd.h). Our own code, written to the same
 * arithmetic so the output is byte-identical (same float operations in the same order; no FMA contraction).
 */
#include "simd.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

#ifdef __clang__
#pragma clang fp contract(off)
#endif

#define GROUP_MAX_EPS 1e-15f

static inline float ldhf(const uint8_t *p) { plm_f16 h; memcpy(&h, p, 2); return plm_f16_to_f32(h); }
static inline void sth(uint8_t *p, float f) { plm_f16 h = plm_f32_to_f16(f); memcpy(p, &h, 2); }
static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* ggml's nearest_int (round half to even for |f| <= 2^22) */
static inline int nearest_int(float fval) {
    const float val = fval + 12582912.f;
    int i;
    memcpy(&i, &val, sizeof(int));
    return (i & 0x007fffff) - 0x00400000;
}

/* ---------------------------------------------------------------- shared pieces */
/* The value of largest magnitude (the first of equals), its magnitude in *amax. */
static float max_by_magnitude(const float *x, int n, float *amax) {
    float a = 0.0f, max = 0.0f;
    for (int i = 0; i < n; i++)
        if (fabsf(x[i]) > a) { a = fabsf(x[i]); max = x[i]; }
    *amax = a;
    return max;
}

/* 32 levels as 16 bytes of nibble pairs (level j low, level 16 + j high); returns the levels' fifth bits (Q5_*). */
static uint32_t pack_nibbles(const uint8_t *L, uint8_t *qs) {
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        qs[j] = (uint8_t)((L[j] & 0xF) | ((L[16 + j] & 0xF) << 4));
        qh |= (uint32_t)((L[j] >> 4) & 1) << j | (uint32_t)((L[16 + j] >> 4) & 1) << (j + 16);
    }
    return qh;
}

/* QK_K 2-bit levels, four per byte: 32 bytes per 128 levels, level l + 32k in bits 2k of byte l. */
static void pack_2bit(const uint8_t *L, uint8_t *q) {
    for (int j = 0; j < QK_K; j += 128, q += 32)
        for (int l = 0; l < 32; ++l)
            q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

/* ---------------------------------------------------------------- Q4_0 / Q5_0 / Q8_0 */
static void q_0_block(const float *x, uint8_t *y, int five) {
    uint8_t L[32];
    float amax;
    const float d = max_by_magnitude(x, 32, &amax) / (five ? -16 : -8);
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    sth(y, d);
    for (int j = 0; j < 32; j++) L[j] = (uint8_t)imin(five ? 31 : 15, (int)(int8_t)(int)(x[j] * id + (five ? 16.5f : 8.5f)));
    const uint32_t qh = pack_nibbles(L, y + (five ? 6 : 2));
    if (five) memcpy(y + 2, &qh, 4);
}
static void q4_0_block(const float *x, uint8_t *y) { q_0_block(x, y, 0); }
static void q5_0_block(const float *x, uint8_t *y) { q_0_block(x, y, 1); }

static void q8_0_block(const float *x, uint8_t *y) {
    float amax = 0.0f;
    for (int j = 0; j < QK8_0; j++) {
        const float v = fabsf(x[j]);
        amax = amax > v ? amax : v;
    }
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    sth(y, d);
    for (int j = 0; j < QK8_0; j++) y[2 + j] = (uint8_t)(int8_t)roundf(x[j] * id);
}

/* ---------------------------------------------------------------- Q4_1 / Q5_1 (quantize_row_*_ref) */
static void q_1_block(const float *x, uint8_t *y, int five) {
    uint8_t L[32];
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / (five ? 31 : 15), id = d ? 1.0f / d : 0.0f;
    sth(y, d);
    sth(y + 2, min);
    for (int j = 0; j < 32; j++) L[j] = (uint8_t)imin(five ? 31 : 15, (int)(uint8_t)((x[j] - min) * id + 0.5f));
    const uint32_t qh = pack_nibbles(L, y + (five ? 8 : 4));
    if (five) memcpy(y + 4, &qh, 4);
}
static void q4_1_block(const float *x, uint8_t *y) { q_1_block(x, y, 0); }
static void q5_1_block(const float *x, uint8_t *y) { q_1_block(x, y, 1); }

/* ---------------------------------------------------------------- K-quant helpers */
/* make_qx_quants' levels for one scale: L[i] in [0, 2 nmax), stored with the offset nmax. */
static void qx_levels(int n, int nmax, float iscale, const float *x, int8_t *L) {
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, nearest_int(iscale * x[i]))));
}

/* make_qx_quants' weighted sums for the levels of one scale (L from qx_levels, offset removed). */
static void qx_sums(int n, int nmax, const float *x, const int8_t *L, int rmse_type, const float *qw, float *sumlx,
                    float *suml2) {
    float slx = 0, sl2 = 0;
    for (int i = 0; i < n; ++i) {
        const int l = L[i] - nmax;
        const float w = qw ? qw[i] : rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(x[i]) : sqrtf(fabsf(x[i]));
        slx += w * x[i] * l;
        sl2 += w * l * l;
    }
    *sumlx = slx;
    *suml2 = sl2;
}

static float make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw) {
    float amax;
    const float max = max_by_magnitude(x, n, &amax);
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    qx_levels(n, nmax, iscale, x, L);
    if (rmse_type == 0) return 1 / iscale;
    int return_early = 0;
    if (rmse_type < 0) {
        rmse_type = -rmse_type;
        return_early = 1;
    }
    float sumlx, suml2;
    qx_sums(n, nmax, x, L, rmse_type, qw, &sumlx, &suml2);
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
    float best = scale * sumlx;
    int8_t Laux[QK_K];
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        qx_levels(n, nmax, iscale, x, Laux);
        qx_sums(n, nmax, x, Laux, rmse_type, qw, &sumlx, &suml2);
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            memcpy(L, Laux, (size_t)n);
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
}

/* make_qkx2_quants' levels for one scale and offset: L[i] in [0, nmax]. */
static void qkx_levels(int n, int nmax, float iscale, float min, const float *x, uint8_t *L) {
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)imax(0, imin(nmax, nearest_int(iscale * (x[i] - min))));
}

/* The weighted error (absolute or squared) of levels L with that scale and min. */
static float qkx_error(int n, const float *x, const float *weights, const uint8_t *L, float scale, float min, int use_mad) {
    float err = 0;
    for (int i = 0; i < n; ++i) {
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        err += weights[i] * diff;
    }
    return err;
}

static float make_qkx2_quants(int n, int nmax, const float *x, const float *weights, uint8_t *L, float *the_min,
                              uint8_t *Laux, float rmin, float rdelta, int nstep, int use_mad) {
    float min = x[0], max = x[0];
    float sum_w = weights[0];
    float sum_x = sum_w * x[0];
    for (int i = 1; i < n; ++i) {
        if (x[i] < min) min = x[i];
        if (x[i] > max) max = x[i];
        const float w = weights[i];
        sum_w += w;
        sum_x += w * x[i];
    }
    if (min > 0) min = 0;
    if (max == min) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        *the_min = -min;
        return 0.f;
    }
    float iscale = nmax / (max - min);
    float scale = 1 / iscale;
    qkx_levels(n, nmax, iscale, min, x, L);
    float best_error = qkx_error(n, x, weights, L, scale, min, use_mad);
    for (int is = 0; is <= nstep && nstep >= 1; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        qkx_levels(n, nmax, iscale, min, x, Laux);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            const int l = Laux[i];
            const float w = weights[i];
            sum_l += w * l;
            sum_l2 += w * l * l;
            sum_xl += w * l * x[i];
        }
        const float D = sum_w * sum_l2 - sum_l * sum_l;
        if (D > 0) {
            float this_scale = (sum_w * sum_xl - sum_x * sum_l) / D;
            float this_min = (sum_l2 * sum_x - sum_l * sum_xl) / D;
            if (this_min > 0) {
                this_min = 0;
                this_scale = sum_xl / sum_l2;
            }
            const float cur_error = qkx_error(n, x, weights, Laux, this_scale, this_min, use_mad);
            if (cur_error < best_error) {
                memcpy(L, Laux, (size_t)n);
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

/* make_qkx2_quants over nsub sub-blocks of len values (Q2_K: weights |x|; Q4_K, Q5_K: rms + |x|); the largest
 * scale and min come back in *max_scale and *max_min. */
static void qkx2_sub_blocks(const float *x, int nsub, int len, int nmax, float rmin, int nstep, int q2, uint8_t *L,
                            float *scales, float *mins, float *max_scale, float *max_min) {
    uint8_t Laux[32];
    float weights[32];
    *max_scale = *max_min = 0;
    for (int j = 0; j < nsub; ++j, x += len, L += len) {
        float av_x = 0;
        if (!q2) {
            float sum_x2 = 0;
            for (int l = 0; l < len; ++l) sum_x2 += x[l] * x[l];
            av_x = sqrtf(sum_x2 / len);
        }
        for (int l = 0; l < len; ++l) weights[l] = q2 ? fabsf(x[l]) : av_x + fabsf(x[l]);
        scales[j] = make_qkx2_quants(len, nmax, x, weights, L, &mins[j], Laux, rmin, 0.1f, nstep, q2);
        if (scales[j] > *max_scale) *max_scale = scales[j];
        if (mins[j] > *max_min) *max_min = mins[j];
    }
}

/* make_qx_quants (rmse_type 1) over 16 sub-blocks of 16; returns the scale of largest magnitude, that in *amax. */
static float qx_sub_blocks(const float *x, int nmax, int8_t *L, float *scales, float *amax) {
    for (int j = 0; j < 16; ++j) scales[j] = make_qx_quants(16, nmax, x + 16 * j, L + 16 * j, 1, NULL);
    return max_by_magnitude(scales, 16, amax);
}

/* Levels again from the stored (rounded) sub-block scale d and min dm: L in [0, nmax]. A zero scale keeps L. */
static void requant_min(const float *x, int n, float d, float dm, int nmax, uint8_t *L) {
    if (d == 0.0f) return;
    for (int i = 0; i < n; ++i) L[i] = (uint8_t)imax(0, imin(nmax, nearest_int((x[i] + dm) / d)));
}

/* Likewise without a min: L in [0, 2 nmax), stored with the offset nmax. */
static void requant_sym(const float *x, int n, float d, int nmax, int8_t *L) {
    if (d == 0.0f) return;
    for (int i = 0; i < n; ++i) L[i] = (int8_t)(imax(-nmax, imin(nmax - 1, nearest_int(x[i] / d))) + nmax);
}

/* Q4_K / Q5_K: the 6-bit scale and min of sub-block j into the 12 scale bytes (zeroed beforehand). */
static void set_scale_min_k4(int j, uint8_t ls, uint8_t lm, uint8_t *q) {
    if (j < 4) {
        q[j] = ls;
        q[j + 4] = lm;
    } else {
        q[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
        q[j - 4] |= (uint8_t)((ls >> 4) << 6);
        q[j - 0] |= (uint8_t)((lm >> 4) << 6);
    }
}

_Static_assert(offsetof(block_q4_K, scales) == offsetof(block_q5_K, scales) &&
                   offsetof(block_q4_K, dmin) == offsetof(block_q5_K, dmin), "Q4_K and Q5_K share their head");

/* Q4_K / Q5_K (nmax 15 / 31): the sub-block search, scales and mins to 6 bits, d and dmin, levels again from the
 * stored scales. The caller packs L. */
static void k4_scales(const float *x, int nmax, float rmin, int nstep, uint8_t *blk, uint8_t *L) {
    float mins[8], scales[8], max_scale, max_min;
    uint8_t *sc = blk + offsetof(block_q4_K, scales);
    qkx2_sub_blocks(x, 8, 32, nmax, rmin, nstep, 0, L, scales, mins, &max_scale, &max_min);
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    for (int j = 0; j < 8; ++j) {
        /* ggml's Q4_K clamps the byte, our Q5_K the int (they differ only for a negative scale): kept as they were */
        const uint8_t ls = nmax == 15 ? (uint8_t)imin(63, (uint8_t)nearest_int(inv_scale * scales[j]))
                                      : (uint8_t)imin(63, nearest_int(inv_scale * scales[j]));
        const uint8_t lm = nmax == 15 ? (uint8_t)imin(63, (uint8_t)nearest_int(inv_min * mins[j]))
                                      : (uint8_t)imin(63, nearest_int(inv_min * mins[j]));
        set_scale_min_k4(j, ls, lm, sc);
    }
    sth(blk + offsetof(block_q4_K, d), max_scale / 63.f);
    sth(blk + offsetof(block_q4_K, dmin), max_min / 63.f);
    const float dd = ldhf(blk + offsetof(block_q4_K, d)), dmn = ldhf(blk + offsetof(block_q4_K, dmin));
    for (int j = 0; j < 8; ++j) {
        int s, m;
        plm_q4k_scale_min(j, sc, &s, &m);
        requant_min(x + 32 * j, 32, dd * s, dmn * m, nmax, L + 32 * j);
    }
}

/* ---------------------------------------------------------------- Q4_K */
static void q4_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K];
    memset(blk, 0, sizeof(block_q4_K));
    k4_scales(x, 15, -1.f, 20, blk, L);
    uint8_t *q = blk + offsetof(block_q4_K, qs);
    for (int j = 0; j < QK_K; j += 64, q += 32)
        for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
}

/* ---------------------------------------------------------------- Q6_K */
static void q6_K_block(const float *x, uint8_t *blk) {
    int8_t L[QK_K];
    float scales[QK_K / 16], max_abs_scale;
    const float max_scale = qx_sub_blocks(x, 32, L, scales, &max_abs_scale);
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(blk, 0, sizeof(block_q6_K));
        return;
    }
    int8_t *sc = (int8_t *)(blk + offsetof(block_q6_K, scales));
    const float iscale = -128.f / max_scale;
    sth(blk + offsetof(block_q6_K, d), 1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) sc[ib] = (int8_t)imin(127, nearest_int(iscale * scales[ib]));
    const float dd = ldhf(blk + offsetof(block_q6_K, d));
    for (int j = 0; j < QK_K / 16; ++j) requant_sym(x + 16 * j, 16, dd * sc[j], 32, L + 16 * j);
    uint8_t *ql = blk + offsetof(block_q6_K, ql), *qh = blk + offsetof(block_q6_K, qh);
    for (int j = 0; j < QK_K; j += 128) {
        for (int l = 0; l < 32; ++l) {
            const uint8_t q1 = L[j + l + 0] & 0xF, q2 = L[j + l + 32] & 0xF;
            const uint8_t q3 = L[j + l + 64] & 0xF, q4 = L[j + l + 96] & 0xF;
            ql[l + 0] = (uint8_t)(q1 | (q3 << 4));
            ql[l + 32] = (uint8_t)(q2 | (q4 << 4));
            qh[l] = (uint8_t)((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) | ((L[j + l + 64] >> 4) << 4) |
                              ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
}

/* ---------------------------------------------------------------- IQ4_NL / IQ4_XS
 * Simpler than ggml's search (quantize_row_iq4_nl_impl tries a range of scales): the scale that maps the value of
 * largest magnitude onto the outermost level, each value to its nearest level, then one least-squares refit of the
 * scale and a second choice of levels. Not byte-identical to llama-quantize; same format. */
static int iq4_best(float v) {
    int best = 0;
    for (int k = 1; k < 16; k++)
        if (fabsf(v - plm_iq4nl_values[k]) < fabsf(v - plm_iq4nl_values[best])) best = k;
    return best;
}
/* Each of 32 values to its nearest level at scale d (level 8, the nearest to zero, for a zero scale). */
static void iq4_levels(const float *x, float d, uint8_t *L) {
    for (int j = 0; j < 32; j++) L[j] = d ? (uint8_t)iq4_best(x[j] / d) : 8;
}
static float iq4_fit(const float *x, int n, uint8_t *L) {
    float amax;
    const float max = max_by_magnitude(x, n, &amax);
    if (amax < GROUP_MAX_EPS) {
        for (int j = 0; j < n; j++) L[j] = 8;
        return 0.0f;
    }
    float d = max / plm_iq4nl_values[0];
    for (int pass = 0; pass < 2; pass++) {
        float sxq = 0, sqq = 0;
        for (int j = 0; j < n; j++) {
            L[j] = (uint8_t)iq4_best(x[j] / d);
            const float q = plm_iq4nl_values[L[j]];
            sxq += x[j] * q;
            sqq += q * q;
        }
        if (pass == 0 && sqq > 0) d = sxq / sqq;
    }
    return d;
}
static void iq4_nl_block(const float *x, uint8_t *y) {
    uint8_t L[32];
    sth(y, iq4_fit(x, 32, L));
    iq4_levels(x, ldhf(y), L);
    pack_nibbles(L, y + 2);
}
static void iq4_xs_block(const float *x, uint8_t *y) {
    uint8_t L[QK_K];
    float sc[8], amax;
    for (int ib = 0; ib < 8; ib++) sc[ib] = iq4_fit(x + 32 * ib, 32, L + 32 * ib);
    const float max = max_by_magnitude(sc, 8, &amax);
    memset(y, 0, sizeof(block_iq4_xs));
    if (amax < GROUP_MAX_EPS) {
        for (int j = 0; j < QK_K / 2; j++) y[8 + j] = 0x88;
        return;
    }
    const float d = -max / 32, id = 1.0f / d;
    sth(y, d);
    const float dd = ldhf(y);
    uint16_t sh = 0;
    for (int ib = 0; ib < 8; ib++) {
        const int l = imax(-32, imin(31, nearest_int(id * sc[ib])));
        y[4 + ib / 2] |= (uint8_t)(((l + 32) & 0xF) << (4 * (ib % 2)));
        sh |= (uint16_t)(((l + 32) >> 4) << (2 * ib));
        iq4_levels(x + 32 * ib, dd * (float)l, L + 32 * ib);
        pack_nibbles(L + 32 * ib, y + 8 + 16 * ib);
    }
    memcpy(y + 2, &sh, 2);
}

/* ---------------------------------------------------------------- Q2_K / Q3_K / Q5_K (quantize_row_*_ref, with
 * Q3_K's sub-block scales from make_qx_quants rather than make_q3_quants) */
static void q2_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K];
    float mins[16], scales[16], max_scale, max_min;
    qkx2_sub_blocks(x, 16, 16, 3, -0.5f, 15, 1, L, scales, mins, &max_scale, &max_min);
    uint8_t *sc = blk + offsetof(block_q2_K, scales);
    memset(blk, 0, sizeof(block_q2_K));
    if (max_scale > 0) {
        const float iscale = 15 / max_scale;
        for (int j = 0; j < 16; ++j) sc[j] = (uint8_t)nearest_int(iscale * scales[j]);
        sth(blk + offsetof(block_q2_K, d), max_scale / 15);
    }
    if (max_min > 0) {
        const float iscale = 15 / max_min;
        for (int j = 0; j < 16; ++j) sc[j] |= (uint8_t)(nearest_int(iscale * mins[j]) << 4);
        sth(blk + offsetof(block_q2_K, dmin), max_min / 15);
    }
    const float dd = ldhf(blk + offsetof(block_q2_K, d)), dmn = ldhf(blk + offsetof(block_q2_K, dmin));
    for (int j = 0; j < 16; ++j) requant_min(x + 16 * j, 16, dd * (sc[j] & 0xF), dmn * (sc[j] >> 4), 3, L + 16 * j);
    pack_2bit(L, blk + offsetof(block_q2_K, qs));
}

static void q3_K_block(const float *x, uint8_t *blk) {
    int8_t L[QK_K];
    float scales[16], amax;
    const float max_scale = qx_sub_blocks(x, 4, L, scales, &amax);
    memset(blk, 0, sizeof(block_q3_K));
    uint8_t *sc = blk + offsetof(block_q3_K, scales);
    if (max_scale) {
        const float iscale = -32.f / max_scale;
        for (int j = 0; j < 16; ++j) {
            int l = imax(-32, imin(31, nearest_int(iscale * scales[j]))) + 32;
            if (j < 8) sc[j] = (uint8_t)(l & 0xF);
            else sc[j - 8] |= (uint8_t)((l & 0xF) << 4);
            l >>= 4;
            sc[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
        }
        sth(blk + offsetof(block_q3_K, d), 1 / iscale);
    }
    const float dd = ldhf(blk + offsetof(block_q3_K, d));
    int s[16];
    plm_q3k_scales(sc, s);
    for (int j = 0; j < 16; ++j) requant_sym(x + 16 * j, 16, dd * s[j], 4, L + 16 * j);
    uint8_t *hm = blk + offsetof(block_q3_K, hmask);
    for (int j = 0; j < QK_K; ++j)
        if (L[j] > 3) {
            hm[j % 32] |= (uint8_t)(1u << (j / 32));
            L[j] -= 4;
        }
    pack_2bit((const uint8_t *)L, blk + offsetof(block_q3_K, qs));
}

static void q5_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K];
    memset(blk, 0, sizeof(block_q5_K));
    k4_scales(x, 31, -0.5f, 15, blk, L);
    uint8_t *qh = blk + offsetof(block_q5_K, qh), *ql = blk + offsetof(block_q5_K, qs);
    for (int n = 0, m1 = 1; n < QK_K; n += 64, m1 <<= 2, ql += 32)
        for (int l = 0; l < 32; ++l) {
            int l1 = L[n + l], l2 = L[n + l + 32];
            if (l1 > 15) { l1 -= 16; qh[l] |= (uint8_t)m1; }
            if (l2 > 15) { l2 -= 16; qh[l] |= (uint8_t)(m1 << 1); }
            ql[l] = (uint8_t)(l1 | (l2 << 4));
        }
}

/* ---------------------------------------------------------------- public entry points */
typedef void (*block_fn)(const float *x, uint8_t *y);

static block_fn block_quantizer(int type) {
    switch (type) {
    case PLM_T_Q4_0: return q4_0_block;
    case PLM_T_Q4_1: return q4_1_block;
    case PLM_T_Q5_0: return q5_0_block;
    case PLM_T_Q5_1: return q5_1_block;
    case PLM_T_Q8_0: return q8_0_block;
    case PLM_T_Q2_K: return q2_K_block;
    case PLM_T_Q3_K: return q3_K_block;
    case PLM_T_Q4_K: return q4_K_block;
    case PLM_T_Q5_K: return q5_K_block;
    case PLM_T_Q6_K: return q6_K_block;
    case PLM_T_IQ4_NL: return iq4_nl_block;
    case PLM_T_IQ4_XS: return iq4_xs_block;
    default: return NULL;
    }
}

size_t plm_quantize_weights(int type, const float *x, void *out, int64_t n) {
    const size_t bytes = plm_row_size(type, n);
    if (!bytes || n <= 0) return 0;
    uint8_t *y = (uint8_t *)out;
    const block_fn f = block_quantizer(type);
    if (f) {
        const plm_type_info *ti = plm_type(type);
        for (int64_t i = 0; i < n / ti->blck; i++) f(x + i * ti->blck, y + i * ti->bytes);
        return bytes;
    }
    switch (type) {
    case PLM_T_F32: memmove(out, x, (size_t)n * sizeof(float)); break;
    case PLM_T_F16:
        for (int64_t i = 0; i < n; i++) sth(y + 2 * i, x[i]);
        break;
    case PLM_T_BF16:
        for (int64_t i = 0; i < n; i++) {
            const uint16_t h = plm_f32_to_bf16(x[i]);
            memcpy(y + 2 * i, &h, 2);
        }
        break;
    default: return 0;
    }
    return bytes;
}
