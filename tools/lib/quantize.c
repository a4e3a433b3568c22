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

/* ---------------------------------------------------------------- Q4_0 / Q8_0 */
static void q4_0_block(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < QK4_0; j++) {
        const float v = x[j];
        if (amax < fabsf(v)) { amax = fabsf(v); max = v; }
    }
    const float d = max / -8;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    sth(y, d);
    for (int j = 0; j < QK4_0 / 2; j++) {
        const float x0 = x[j] * id, x1 = x[QK4_0 / 2 + j] * id;
        const int xi0 = imin(15, (int)(int8_t)(int)(x0 + 8.5f));
        const int xi1 = imin(15, (int)(int8_t)(int)(x1 + 8.5f));
        y[2 + j] = (uint8_t)(xi0 | (xi1 << 4));
    }
}

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

/* ---------------------------------------------------------------- K-quant helpers */
static float make_qx_quants(int n, int nmax, const float *x, int8_t *L, int rmse_type, const float *qw) {
    float max = 0, amax = 0;
    for (int i = 0; i < n; ++i) {
        const float ax = fabsf(x[i]);
        if (ax > amax) { amax = ax; max = x[i]; }
    }
    if (amax < GROUP_MAX_EPS) {
        for (int i = 0; i < n; ++i) L[i] = 0;
        return 0.f;
    }
    float iscale = -nmax / max;
    if (rmse_type == 0) {
        for (int i = 0; i < n; ++i) {
            const int l = nearest_int(iscale * x[i]);
            L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, l)));
        }
        return 1 / iscale;
    }
    int return_early = 0;
    if (rmse_type < 0) {
        rmse_type = -rmse_type;
        return_early = 1;
    }
    float sumlx = 0, suml2 = 0;
    for (int i = 0; i < n; ++i) {
        int l = nearest_int(iscale * x[i]);
        l = imax(-nmax, imin(nmax - 1, l));
        L[i] = (int8_t)(l + nmax);
        const float w = qw ? qw[i] : rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(x[i]) : sqrtf(fabsf(x[i]));
        sumlx += w * x[i] * l;
        suml2 += w * l * l;
    }
    float scale = suml2 != 0.0f ? sumlx / suml2 : 0.0f;
    if (return_early) return suml2 > 0 ? 0.5f * (scale + 1 / iscale) : 1 / iscale;
    float best = scale * sumlx;
    for (int is = -9; is <= 9; ++is) {
        if (is == 0) continue;
        iscale = -(nmax + 0.1f * is) / max;
        sumlx = suml2 = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * x[i]);
            l = imax(-nmax, imin(nmax - 1, l));
            const float w = qw ? qw[i] : rmse_type == 1 ? x[i] * x[i] : rmse_type == 2 ? 1 : rmse_type == 3 ? fabsf(x[i]) : sqrtf(fabsf(x[i]));
            sumlx += w * x[i] * l;
            suml2 += w * l * l;
        }
        if (suml2 > 0 && sumlx * sumlx > best * suml2) {
            for (int i = 0; i < n; ++i) {
                const int l = nearest_int(iscale * x[i]);
                L[i] = (int8_t)(nmax + imax(-nmax, imin(nmax - 1, l)));
            }
            scale = sumlx / suml2;
            best = scale * sumlx;
        }
    }
    return scale;
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
    float best_error = 0;
    for (int i = 0; i < n; ++i) {
        const int l = nearest_int(iscale * (x[i] - min));
        L[i] = (uint8_t)imax(0, imin(nmax, l));
        float diff = scale * L[i] + min - x[i];
        diff = use_mad ? fabsf(diff) : diff * diff;
        best_error += weights[i] * diff;
    }
    if (nstep < 1) {
        *the_min = -min;
        return scale;
    }
    for (int is = 0; is <= nstep; ++is) {
        iscale = (rmin + rdelta * is + nmax) / (max - min);
        float sum_l = 0, sum_l2 = 0, sum_xl = 0;
        for (int i = 0; i < n; ++i) {
            int l = nearest_int(iscale * (x[i] - min));
            l = imax(0, imin(nmax, l));
            Laux[i] = (uint8_t)l;
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
            float cur_error = 0;
            for (int i = 0; i < n; ++i) {
                float diff = this_scale * Laux[i] + this_min - x[i];
                diff = use_mad ? fabsf(diff) : diff * diff;
                cur_error += weights[i] * diff;
            }
            if (cur_error < best_error) {
                for (int i = 0; i < n; ++i) L[i] = Laux[i];
                best_error = cur_error;
                scale = this_scale;
                min = this_min;
            }
        }
    }
    *the_min = -min;
    return scale;
}

static inline void get_scale_min_k4(int j, const uint8_t *q, uint8_t *d, uint8_t *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (uint8_t)((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = (uint8_t)((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

/* ---------------------------------------------------------------- Q4_K */
static void q4_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K], Laux[32];
    float weights[32], mins[QK_K / 32], scales[QK_K / 32];
    uint8_t *sc = blk + offsetof(block_q4_K, scales);
    float max_scale = 0, max_min = 0;
    for (int j = 0; j < QK_K / 32; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, 15, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -1.f, 0.1f, 20, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(sc, 0, 12);
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t ls = (uint8_t)nearest_int(inv_scale * scales[j]);
        uint8_t lm = (uint8_t)nearest_int(inv_min * mins[j]);
        ls = ls < 63 ? ls : 63;
        lm = lm < 63 ? lm : 63;
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    sth(blk + offsetof(block_q4_K, d), max_scale / 63.f);
    sth(blk + offsetof(block_q4_K, dmin), max_min / 63.f);
    const float dd = ldhf(blk + offsetof(block_q4_K, d)), dmn = ldhf(blk + offsetof(block_q4_K, dmin));
    for (int j = 0; j < QK_K / 32; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, sc, &s, &m);
        const float d = dd * s;
        if (d == 0.0f) continue;
        const float dm = dmn * m;
        for (int ii = 0; ii < 32; ++ii) {
            const int l = nearest_int((x[32 * j + ii] + dm) / d);
            L[32 * j + ii] = (uint8_t)imax(0, imin(15, l));
        }
    }
    uint8_t *q = blk + offsetof(block_q4_K, qs);
    for (int j = 0; j < QK_K; j += 64) {
        for (int l = 0; l < 32; ++l) q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 4));
        q += 32;
    }
}

/* ---------------------------------------------------------------- Q6_K */
static void q6_K_block(const float *x, uint8_t *blk) {
    int8_t L[QK_K];
    float scales[QK_K / 16];
    float max_scale = 0, max_abs_scale = 0;
    for (int ib = 0; ib < QK_K / 16; ++ib) {
        const float scale = make_qx_quants(16, 32, x + 16 * ib, L + 16 * ib, 1, NULL);
        scales[ib] = scale;
        const float abs_scale = fabsf(scale);
        if (abs_scale > max_abs_scale) { max_abs_scale = abs_scale; max_scale = scale; }
    }
    if (max_abs_scale < GROUP_MAX_EPS) {
        memset(blk, 0, sizeof(block_q6_K));
        return;
    }
    int8_t *sc = (int8_t *)(blk + offsetof(block_q6_K, scales));
    const float iscale = -128.f / max_scale;
    sth(blk + offsetof(block_q6_K, d), 1 / iscale);
    for (int ib = 0; ib < QK_K / 16; ++ib) sc[ib] = (int8_t)imin(127, nearest_int(iscale * scales[ib]));
    const float dd = ldhf(blk + offsetof(block_q6_K, d));
    for (int j = 0; j < QK_K / 16; ++j) {
        const float d = dd * sc[j];
        if (d == 0.0f) continue;
        for (int ii = 0; ii < 16; ++ii) {
            int l = nearest_int(x[16 * j + ii] / d);
            l = imax(-32, imin(31, l));
            L[16 * j + ii] = (int8_t)(l + 32);
        }
    }
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

/* ---------------------------------------------------------------- Q4_1 / Q5_0 / Q5_1 (quantize_row_*_ref) */
static void q_1_block(const float *x, uint8_t *y, int five) {
    float min = x[0], max = x[0];
    for (int j = 1; j < 32; j++) {
        if (x[j] < min) min = x[j];
        if (x[j] > max) max = x[j];
    }
    const float d = (max - min) / (five ? 31 : 15), id = d ? 1.0f / d : 0.0f;
    sth(y, d);
    sth(y + 2, min);
    uint32_t qh = 0;
    uint8_t *qs = y + (five ? 8 : 4);
    for (int j = 0; j < 16; j++) {
        const int a = imin(five ? 31 : 15, (int)(uint8_t)((x[j] - min) * id + 0.5f));
        const int b = imin(five ? 31 : 15, (int)(uint8_t)((x[16 + j] - min) * id + 0.5f));
        qs[j] = (uint8_t)((a & 0xF) | ((b & 0xF) << 4));
        qh |= (uint32_t)((a >> 4) & 1) << j | (uint32_t)((b >> 4) & 1) << (j + 16);
    }
    if (five) memcpy(y + 4, &qh, 4);
}

static void q5_0_block(const float *x, uint8_t *y) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < 32; j++)
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    const float d = max / -16, id = d ? 1.0f / d : 0.0f;
    sth(y, d);
    uint32_t qh = 0;
    for (int j = 0; j < 16; j++) {
        const int a = imin(31, (int8_t)(x[j] * id + 16.5f)), b = imin(31, (int8_t)(x[16 + j] * id + 16.5f));
        y[6 + j] = (uint8_t)((a & 0xF) | ((b & 0xF) << 4));
        qh |= (uint32_t)((a >> 4) & 1) << j | (uint32_t)((b >> 4) & 1) << (j + 16);
    }
    memcpy(y + 2, &qh, 4);
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
static float iq4_fit(const float *x, int n, uint8_t *L) {
    float amax = 0.0f, max = 0.0f;
    for (int j = 0; j < n; j++)
        if (amax < fabsf(x[j])) { amax = fabsf(x[j]); max = x[j]; }
    if (amax < GROUP_MAX_EPS) {
        for (int j = 0; j < n; j++) L[j] = 8; /* level 1: the nearest to zero */
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
    const float d = iq4_fit(x, 32, L);
    sth(y, d);
    const float dd = ldhf(y);
    for (int j = 0; j < 32; j++) L[j] = dd ? (uint8_t)iq4_best(x[j] / dd) : 8;
    for (int j = 0; j < 16; j++) y[2 + j] = (uint8_t)(L[j] | (L[16 + j] << 4));
}
static void iq4_xs_block(const float *x, uint8_t *y) {
    uint8_t L[QK_K];
    float sc[8], amax = 0.0f, max = 0.0f;
    for (int ib = 0; ib < 8; ib++) {
        sc[ib] = iq4_fit(x + 32 * ib, 32, L + 32 * ib);
        if (amax < fabsf(sc[ib])) { amax = fabsf(sc[ib]); max = sc[ib]; }
    }
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
        const float dl = dd * (float)l;
        for (int j = 0; j < 32; j++) L[32 * ib + j] = dl ? (uint8_t)iq4_best(x[32 * ib + j] / dl) : 8;
        for (int j = 0; j < 16; j++) y[8 + 16 * ib + j] = (uint8_t)(L[32 * ib + j] | (L[32 * ib + 16 + j] << 4));
    }
    memcpy(y + 2, &sh, 2);
}

/* ---------------------------------------------------------------- Q2_K / Q3_K / Q5_K (quantize_row_*_ref, with
 * Q3_K's sub-block scales from make_qx_quants rather than make_q3_quants) */
static void q2_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K], Laux[16];
    float weights[16], mins[16], scales[16], max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
        for (int l = 0; l < 16; ++l) weights[l] = fabsf(x[16 * j + l]);
        scales[j] = make_qkx2_quants(16, 3, x + 16 * j, weights, L + 16 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 1);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
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
    for (int j = 0; j < 16; ++j) {
        const float d = dd * (sc[j] & 0xF);
        if (!d) continue;
        const float dm = dmn * (sc[j] >> 4);
        for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = (uint8_t)imax(0, imin(3, nearest_int((x[16 * j + ii] + dm) / d)));
    }
    uint8_t *q = blk + offsetof(block_q2_K, qs);
    for (int j = 0; j < QK_K; j += 128, q += 32)
        for (int l = 0; l < 32; ++l)
            q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

static void q3_K_block(const float *x, uint8_t *blk) {
    int8_t L[QK_K];
    float scales[16], max_scale = 0, amax = 0;
    for (int j = 0; j < 16; ++j) {
        scales[j] = make_qx_quants(16, 4, x + 16 * j, L + 16 * j, 1, NULL);
        if (fabsf(scales[j]) > amax) { amax = fabsf(scales[j]); max_scale = scales[j]; }
    }
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
    for (int j = 0; j < 16; ++j) {
        const int s = ((j < 8 ? sc[j] & 0xF : sc[j - 8] >> 4) | (((sc[8 + j % 4] >> (2 * (j / 4))) & 3) << 4)) - 32;
        const float d = dd * s;
        if (!d) continue;
        for (int ii = 0; ii < 16; ++ii) L[16 * j + ii] = (int8_t)(imax(-4, imin(3, nearest_int(x[16 * j + ii] / d))) + 4);
    }
    uint8_t *hm = blk + offsetof(block_q3_K, hmask), *q = blk + offsetof(block_q3_K, qs);
    for (int j = 0; j < QK_K; ++j)
        if (L[j] > 3) {
            hm[j % 32] |= (uint8_t)(1u << (j / 32));
            L[j] -= 4;
        }
    for (int j = 0; j < QK_K; j += 128, q += 32)
        for (int l = 0; l < 32; ++l)
            q[l] = (uint8_t)(L[j + l] | (L[j + l + 32] << 2) | (L[j + l + 64] << 4) | (L[j + l + 96] << 6));
}

static void q5_K_block(const float *x, uint8_t *blk) {
    uint8_t L[QK_K], Laux[32];
    float weights[32], mins[8], scales[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        float sum_x2 = 0;
        for (int l = 0; l < 32; ++l) sum_x2 += x[32 * j + l] * x[32 * j + l];
        const float av_x = sqrtf(sum_x2 / 32);
        for (int l = 0; l < 32; ++l) weights[l] = av_x + fabsf(x[32 * j + l]);
        scales[j] = make_qkx2_quants(32, 31, x + 32 * j, weights, L + 32 * j, &mins[j], Laux, -0.5f, 0.1f, 15, 0);
        if (scales[j] > max_scale) max_scale = scales[j];
        if (mins[j] > max_min) max_min = mins[j];
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f, inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    memset(blk, 0, sizeof(block_q5_K));
    uint8_t *sc = blk + offsetof(block_q5_K, scales);
    for (int j = 0; j < 8; ++j) {
        const uint8_t ls = (uint8_t)imin(63, nearest_int(inv_scale * scales[j]));
        const uint8_t lm = (uint8_t)imin(63, nearest_int(inv_min * mins[j]));
        if (j < 4) {
            sc[j] = ls;
            sc[j + 4] = lm;
        } else {
            sc[j + 4] = (uint8_t)((ls & 0xF) | ((lm & 0xF) << 4));
            sc[j - 4] |= (uint8_t)((ls >> 4) << 6);
            sc[j - 0] |= (uint8_t)((lm >> 4) << 6);
        }
    }
    sth(blk + offsetof(block_q5_K, d), max_scale / 63.f);
    sth(blk + offsetof(block_q5_K, dmin), max_min / 63.f);
    const float dd = ldhf(blk + offsetof(block_q5_K, d)), dmn = ldhf(blk + offsetof(block_q5_K, dmin));
    for (int j = 0; j < 8; ++j) {
        uint8_t s, m;
        get_scale_min_k4(j, sc, &s, &m);
        const float d = dd * s;
        if (!d) continue;
        const float dm = dmn * m;
        for (int ii = 0; ii < 32; ++ii) L[32 * j + ii] = (uint8_t)imax(0, imin(31, nearest_int((x[32 * j + ii] + dm) / d)));
    }
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
size_t plm_quantize_weights(int type, const float *x, void *out, int64_t n) {
    const size_t bytes = plm_row_size(type, n);
    if (!bytes || n <= 0) return 0;
    uint8_t *y = (uint8_t *)out;
    switch (type) {
    case PLM_T_F32: memmove(out, x, (size_t)n * sizeof(float)); break;
    case PLM_T_F16:
        for (int64_t i = 0; i < n; i++) sth(y + 2 * i, x[i]);
        break;
    case PLM_T_Q4_0:
        for (int64_t i = 0; i < n / QK4_0; i++) q4_0_block(x + i * QK4_0, y + i * (int64_t)sizeof(block_q4_0));
        break;
    case PLM_T_Q8_0:
        for (int64_t i = 0; i < n / QK8_0; i++) q8_0_block(x + i * QK8_0, y + i * (int64_t)sizeof(block_q8_0));
        break;
    case PLM_T_Q4_K:
        for (int64_t i = 0; i < n / QK_K; i++) q4_K_block(x + i * QK_K, y + i * (int64_t)sizeof(block_q4_K));
        break;
    case PLM_T_Q6_K:
        for (int64_t i = 0; i < n / QK_K; i++) q6_K_block(x + i * QK_K, y + i * (int64_t)sizeof(block_q6_K));
        break;
    case PLM_T_Q4_1:
    case PLM_T_Q5_1:
        for (int64_t i = 0; i < n / 32; i++) q_1_block(x + i * 32, y + i * (int64_t)plm_type(type)->bytes, type == PLM_T_Q5_1);
        break;
    case PLM_T_Q5_0:
        for (int64_t i = 0; i < n / 32; i++) q5_0_block(x + i * 32, y + i * (int64_t)sizeof(block_q5_0));
        break;
    case PLM_T_IQ4_NL:
        for (int64_t i = 0; i < n / 32; i++) iq4_nl_block(x + i * 32, y + i * (int64_t)sizeof(block_iq4_nl));
        break;
    case PLM_T_IQ4_XS:
        for (int64_t i = 0; i < n / QK_K; i++) iq4_xs_block(x + i * QK_K, y + i * (int64_t)sizeof(block_iq4_xs));
        break;
    case PLM_T_Q2_K:
        for (int64_t i = 0; i < n / QK_K; i++) q2_K_block(x + i * QK_K, y + i * (int64_t)sizeof(block_q2_K));
        break;
    case PLM_T_Q3_K:
        for (int64_t i = 0; i < n / QK_K; i++) q3_K_block(x + i * QK_K, y + i * (int64_t)sizeof(block_q3_K));
        break;
    case PLM_T_Q5_K:
        for (int64_t i = 0; i < n / QK_K; i++) q5_K_block(x + i * QK_K, y + i * (int64_t)sizeof(block_q5_K));
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
