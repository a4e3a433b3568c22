/* Scalar reference backend: the kernels every SIMD backend is tested against.
 *
 * Block formats (block_q4_0, block_q8_0, block_q4_K, block_q6_K, block_q8_K) are ggml's, as defined in
 * ggml/src/ggml-common.h of ggml-org/llama.cpp (MIT), so GGUF tensors are used straight from the file. The dot
 * products reproduce the arithmetic of ggml's portable kernels (ggml-cpu/quants.c: ggml_vec_dot_q4_0_q8_0,
 * _q8_0_q8_0, _q4_K_q8_K, _q6_K_q8_K, all "_generic"), including their float summation order, and the activation
 * quantizers are ggml's reference ones (quantize_row_q8_0_ref, quantize_row_q8_K_ref). This file is our own code.
 *
 * Portable C11: no intrinsics; every multi-byte field is read with memcpy, so weight/activation rows may sit at any
 * byte address and any stride (GGUF data is only guaranteed to be 32-byte aligned at the tensor start). Float
 * reductions (dot_f32/f16, rmsnorm, softmax) accumulate in double like ggml's scalar code (ggml_float).
 */
#include "simd.h"

#include <math.h>
#include <stddef.h>
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

/* ---------------------------------------------------------------- type table */
#define NOK(nm) { nm, 0, 0, -1 }
static const plm_type_info type_table[PLM_T_COUNT] = {
    [PLM_T_F32] = { "f32", 1, 4, PLM_T_F32 },
    [PLM_T_F16] = { "f16", 1, 2, PLM_T_F16 },
    [PLM_T_Q4_0] = { "q4_0", QK4_0, (int)sizeof(block_q4_0), PLM_T_Q8_0 },
    [PLM_T_Q4_1] = NOK("q4_1"),
    [PLM_T_Q5_0] = NOK("q5_0"),
    [PLM_T_Q5_1] = NOK("q5_1"),
    [PLM_T_Q8_0] = { "q8_0", QK8_0, (int)sizeof(block_q8_0), PLM_T_Q8_0 },
    [PLM_T_Q8_1] = NOK("q8_1"),
    [PLM_T_Q2_K] = NOK("q2_K"),
    [PLM_T_Q3_K] = NOK("q3_K"),
    [PLM_T_Q4_K] = { "q4_K", QK_K, (int)sizeof(block_q4_K), PLM_T_Q8_K },
    [PLM_T_Q5_K] = NOK("q5_K"),
    [PLM_T_Q6_K] = { "q6_K", QK_K, (int)sizeof(block_q6_K), PLM_T_Q8_K },
    /* activation-only: sized so callers can allocate Q8_K rows, but there is no Q8_K weight matmul */
    [PLM_T_Q8_K] = { "q8_K", QK_K, (int)sizeof(block_q8_K), -1 },
    [16] = NOK("iq2_xxs"), [17] = NOK("iq2_xs"), [18] = NOK("iq3_xxs"), [19] = NOK("iq1_s"),
    [20] = NOK("iq4_nl"), [21] = NOK("iq3_s"), [22] = NOK("iq2_s"), [23] = NOK("iq4_xs"),
    [24] = NOK("i8"), [25] = NOK("i16"), [26] = NOK("i32"), [27] = NOK("i64"), [28] = NOK("f64"),
    [29] = NOK("iq1_m"), [PLM_T_BF16] = NOK("bf16"),
    [34] = NOK("tq1_0"), [35] = NOK("tq2_0"), [39] = NOK("mxfp4"),
};
static const plm_type_info type_unknown = NOK("unknown");
#undef NOK

const plm_type_info *plm_type(int type) {
    if (type < 0 || type >= PLM_T_COUNT || !type_table[type].name) return &type_unknown;
    return &type_table[type];
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
        for (int j = 0; j < QK8_0; j++) y[2 + j] = (uint8_t)(int8_t)nearbyintf(x[j] * id);
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

static void s_quantize_row(int act_type, const float *x, void *out, int n) {
    uint8_t *y = (uint8_t *)out;
    switch (act_type) {
    case PLM_T_F32: memmove(out, x, (size_t)n * sizeof(float)); break;
    case PLM_T_F16:
        for (int i = 0; i < n; i++) sth(y + 2 * i, plm_f32_to_f16(x[i]));
        break;
    case PLM_T_Q8_0: quant_q8_0(x, y, n); break;
    case PLM_T_Q8_K: quant_q8_K(x, y, n); break;
    default: break;
    }
}

/* ---------------------------------------------------------------- dot products (one weight row, one act row) */
/* Float dots: float products summed in double, 4 independent partial sums (i mod 4) then added in order. */
static float vdot_f32(int n, const uint8_t *w, const uint8_t *a) {
    double s[4] = { 0, 0, 0, 0 };
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) s[k] += (double)(ldf(w + 4 * (i + k)) * ldf(a + 4 * (i + k)));
    for (; i < n; i++) s[i & 3] += (double)(ldf(w + 4 * i) * ldf(a + 4 * i));
    return (float)((s[0] + s[1]) + (s[2] + s[3]));
}

static float vdot_f16(int n, const uint8_t *w, const uint8_t *a) {
    double s[4] = { 0, 0, 0, 0 };
    int i = 0;
    for (; i + 4 <= n; i += 4)
        for (int k = 0; k < 4; k++) s[k] += (double)(ldhf(w + 2 * (i + k)) * ldhf(a + 2 * (i + k)));
    for (; i < n; i++) s[i & 3] += (double)(ldhf(w + 2 * i) * ldhf(a + 2 * i));
    return (float)((s[0] + s[1]) + (s[2] + s[3]));
}

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
            acc[k] = fmaf(d, (float)sumi, acc[k]);
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
            acc[k] = fmaf(d, (float)sumi, acc[k]);
        }
    }
    return hsum8(acc);
}

/* The 12 packed bytes of a Q4_K block hold 8 six-bit scales and 8 six-bit mins (ggml's get_scale_min_k4). */
static inline void q4k_scale_min(int j, const uint8_t *q, int *d, int *m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = (q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4);
        *m = (q[j + 4] >> 4) | ((q[j] >> 6) << 4);
    }
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
        for (int j = 0; j < 8; j++) q4k_scale_min(j, w + offsetof(block_q4_K, scales), &sc[j], &mn[j]);
        const float dy = ldf(a);
        const float d = dy * ldhf(w + offsetof(block_q4_K, d));
        const float dmin = -dy * ldhf(w + offsetof(block_q4_K, dmin));
        int16_t bs[QK_K / 16];
        memcpy(bs, a + offsetof(block_q8_K, bsums), sizeof bs);
        for (int p = 0; p < 4; p++) {
            const int prod = mn[2 * p] * (bs[4 * p] + bs[4 * p + 1]) + mn[2 * p + 1] * (bs[4 * p + 2] + bs[4 * p + 3]);
            accm[p] = fmaf(dmin, (float)prod, accm[p]);
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
        for (int L = 0; L < 8; L++) acc[L] = fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc) + ((accm[0] + accm[2]) + (accm[1] + accm[3]));
}

static float vdot_q6_K(int n, const uint8_t *w, const uint8_t *a) {
    float acc[8] = { 0 };
    for (int i = 0; i < n / QK_K; i++, w += sizeof(block_q6_K), a += sizeof(block_q8_K)) {
        const uint8_t *ql = w + offsetof(block_q6_K, ql);
        const uint8_t *qh = w + offsetof(block_q6_K, qh);
        const int8_t *sc = (const int8_t *)(w + offsetof(block_q6_K, scales));
        const int8_t *q8 = (const int8_t *)(a + offsetof(block_q8_K, qs));
        const float d = ldf(a) * ldhf(w + offsetof(block_q6_K, d));
        int sumi[8] = { 0 };
        for (int j = 0; j < QK_K / 128; j++)
            for (int k = 0; k < 4; k++) {
                const uint8_t *l4 = ql + 64 * j + (k & 1) * 32, *h = qh + 32 * j;
                for (int L = 0; L < 8; L++) {
                    int s = 0;
                    for (int e = 4 * L; e < 4 * L + 4; e++) {
                        const int q = ((k < 2 ? l4[e] & 0xF : l4[e] >> 4) | (((h[e] >> (2 * k)) & 3) << 4)) - 32;
                        s += q * q8[128 * j + 32 * k + e];
                    }
                    sumi[L] += sc[8 * j + 2 * k + (L >= 4)] * s;
                }
            }
        for (int L = 0; L < 8; L++) acc[L] = fmaf(d, (float)sumi[L], acc[L]);
    }
    return hsum8(acc);
}

typedef float (*vdot_fn)(int n, const uint8_t *w, const uint8_t *a);

static vdot_fn vdot_for(int type) {
    switch (type) {
    case PLM_T_F32: return vdot_f32;
    case PLM_T_F16: return vdot_f16;
    case PLM_T_Q4_0: return vdot_q4_0;
    case PLM_T_Q8_0: return vdot_q8_0;
    case PLM_T_Q4_K: return vdot_q4_K;
    case PLM_T_Q6_K: return vdot_q6_K;
    default: return NULL;
    }
}

static void s_matmul(int type, int n, const void *w, size_t w_stride, int nr, const void *a, size_t a_stride, int nb,
                     float *out, size_t ldo) {
    const vdot_fn f = vdot_for(type);
    if (!f) return;
    const uint8_t *W = (const uint8_t *)w, *A = (const uint8_t *)a;
    for (int r = 0; r < nr; r++)
        for (int b = 0; b < nb; b++) out[(size_t)b * ldo + (size_t)r] = f(n, W + (size_t)r * w_stride, A + (size_t)b * a_stride);
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

/* ggml_vec_soft_max_f32: exp(x - max), sum in double, then scale by (float)(1/sum). */
static void s_softmax(float *x, int n) {
    if (n <= 0) return;
    float max = x[0];
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        const float e = expf(x[i] - max);
        x[i] = e;
        sum += (double)e;
    }
    const float s = (float)(1.0 / sum);
    for (int i = 0; i < n; i++) x[i] *= s;
}

/* exp as ggml computes it inside SiLU on x86 with AVX-512 (ggml_v_expf, "adapted from arm limited optimized
 * routine", max error 1.45 ulp): a degree-5 polynomial on the reduced argument, scaled by 2^n. llama.cpp's SwiGLU
 * uses it for every full vector, so this is what its greedy decoding sees; libm's expf differs in the last bit
 * often enough to flip near-tied tokens. Every backend must reproduce it (fused multiply-adds included). */
float plm_expf_ggml(float x) {
    const float r = 0x1.8p23f;
    const float z = fmaf(x, 0x1.715476p+0f, r);
    const float n = z - r;
    const float b = fmaf(-n, 0x1.7f7d1cp-20f, fmaf(-n, 0x1.62e4p-1f, x));
    const float u = b * b;
    const float j = fmaf(fmaf(fmaf(0x1.0e4020p-7f, b, 0x1.573e2ep-5f), u, fmaf(0x1.555e66p-3f, b, 0x1.fffdb6p-2f)), u,
                         fmaf(0x1.ffffecp-1f, b, 1.0f));
    if (fabsf(n) > 192.0f) return n <= 0.0f ? 0.0f : INFINITY;
    return ldexpf(j, (int)n);
}

/* swiglu: silu(g) * u with silu(x) = x / (1 + exp(-x)) */
static void s_silu_mul(float *g, const float *u, int n) {
    for (int i = 0; i < n; i++) g[i] = (g[i] / (1.0f + plm_expf_ggml(-g[i]))) * u[i];
}

/* ggml_rope_cache_init + rope_yarn with ext_factor 0, attn_factor 1: theta_0 = pos, theta_{i+1} = theta_i *
 * powf(base, -2/hd) (iterated in float like ggml), angle = freq_scale * theta_i, cos/sin via cosf/sinf. */
static void s_rope(float *x, int hd, int pos, float base, float freq_scale, int neox) {
    const float theta_scale = powf(base, -2.0f / (float)hd);
    float theta = (float)pos;
    const int half = hd / 2;
    for (int i = 0; i < half; i++) {
        const float t = freq_scale * theta;
        const float c = cosf(t), s = sinf(t);
        const int i0 = neox ? i : 2 * i, i1 = neox ? i + half : 2 * i + 1;
        const float x0 = x[i0], x1 = x[i1];
        x[i0] = x0 * c - x1 * s;
        x[i1] = x0 * s + x1 * c;
        theta *= theta_scale;
    }
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

static void s_axpy_f16(float *y, float a, const plm_f16 *x, int n) {
    for (int i = 0; i < n; i++) y[i] += plm_f16_to_f32(x[i]) * a;
}

/* ggml_vec_mad_f16 / ggml_vec_scale_f16: the accumulator stays f16, rounded after every update (lead's addition
 * for flash attention). */
static void s_mad_f16(plm_f16 *y, const plm_f16 *x, float a, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f32_to_f16(fmaf(plm_f16_to_f32(x[i]), a, plm_f16_to_f32(y[i])));
}

static void s_scale_f16(plm_f16 *y, float a, int n) {
    for (int i = 0; i < n; i++) y[i] = plm_f32_to_f16(plm_f16_to_f32(y[i]) * a);
}

const plm_kernels plm_kernels_scalar = {
    .name = "scalar",
    .quantize_row = s_quantize_row,
    .matmul = s_matmul,
    .rmsnorm = s_rmsnorm,
    .softmax = s_softmax,
    .silu_mul = s_silu_mul,
    .rope = s_rope,
    .f16_to_f32 = s_f16_to_f32,
    .f32_to_f16 = s_f32_to_f16,
    .dot_f32 = s_dot_f32,
    .dot_f16 = s_dot_f16,
    .axpy_f32 = s_axpy_f32,
    .axpy_f16 = s_axpy_f16,
    .mad_f16 = s_mad_f16,
    .scale_f16 = s_scale_f16,
};
