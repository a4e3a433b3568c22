/* Kernel tests: every backend of this build against the scalar reference, plus known answers for the formats.
 *
 * What is compared, and how closely (the orders themselves: scalar.c, "Arithmetic contract"):
 *   quantize_row (F32, F16, Q8_0, Q8_K)        bit-exact
 *   f16_to_f32 / f32_to_f16                    bit-exact (all 65536 halves; random and edge floats)
 *   matmul Q4_0, Q8_0, Q4_K, Q6_K and the variants Q4_0_R8, Q4_K_R8 (llama.cpp's x86 orders)  bit-exact
 *   matmul, "exact" data (power-of-two scales, small ints, so every float sum is exact)       bit-exact
 *   matmul F16/F32 (+ F16_TB/F32_TB), dot_f32/dot_f16, random data: bit-exact on backends that follow the float
 *     orders (float_exact: x86), else |got - ref| <= 1e-5 * sum_i |w_i * a_i| + 1e-6
 *   silu_mul, mad_f16, scale_f16               bit-exact (ggml's expf polynomial, glibc's expf tail, fused mad)
 *   rope, rmsnorm                              bit-exact on float_exact backends, else within 1e-5
 *   axpy_f32                                   |got - ref| <= 1e-5 * (|y| + |a*x|) + 1e-6
 * Fast tables (`fast`: the wasm ones that trade exactness for speed; their exact siblings are tested bit for bit
 * above): a multiply and an add where the reference fuses, other groupings of the same products. Quantized matmuls
 * then within 2 * (n/32 + 4) * 2^-24 * sum_i |w_i * a_i| + 1e-6 (both sums round once per 32-value block and per
 * scale product; error analysis of recursive summation, not a fitted constant); silu_mul within 1e-5 (the same
 * polynomial, unfused); mad_f16 within one half ulp (a float rounding before the half's). Exact data stays
 * bit-exact (every partial sum is representable). The double-rounding cases are the exact tables' business.
 * Known answers pin the scalar reference to the contract: the variants' summation orders, the F32 tail rule, red16,
 * rope's fused forms, plm_expf_glibc.
 * Weight quantizers: dequantize(quantize(x)) within per-type bounds, and hand-computed known answers.
 *
 * Add a backend: declare its table and add one line to the `backends` list below.
 */
#include "simd.h"

#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PLM_BACKEND_X86
extern const plm_kernels plm_kernels_x86;
/* The x86 table is usable when plm_kern() picks it with no override; it never picks it on a CPU without
 * AVX2+FMA+F16C. (With PLM_BACKEND=scalar set, the x86 checks are skipped.) */
static int x86_ok(void) { return plm_kern() == &plm_kernels_x86; }
#endif
#ifdef PLM_BACKEND_NEON
extern const plm_kernels plm_kernels_neon;
#endif
/* the relaxed-SIMD wasm build also defines PLM_BACKEND_WASM128; its table has its own name */
#if defined(PLM_BACKEND_WASM_RELAXED)
extern const plm_kernels plm_kernels_wasm_relaxed, plm_kernels_wasm_relaxed_exact;
#elif defined(PLM_BACKEND_WASM128)
extern const plm_kernels plm_kernels_wasm128, plm_kernels_wasm128_exact;
#endif

static int always(void) { return 1; }

/* float_exact: the backend follows the contract's F16/F32 summation orders (and rope's fused forms) bit for bit,
 * so its F16/F32 models match llama.cpp token for token; the others are held to a tolerance until they do. */
static const struct backend { const plm_kernels *k; int (*usable)(void); int float_exact, fast; } backends[] = {
    { &plm_kernels_scalar, always, 1, 0 }, /* scalar vs itself: checks determinism and runs the test code itself */
#ifdef PLM_BACKEND_X86
    { &plm_kernels_x86, x86_ok, 1, 0 },
#endif
#ifdef PLM_BACKEND_NEON
    { &plm_kernels_neon, always, 1, 0 },
#endif
#if defined(PLM_BACKEND_WASM_RELAXED)
    { &plm_kernels_wasm_relaxed_exact, always, 0, 0 },
    { &plm_kernels_wasm_relaxed, always, 0, 1 },
#elif defined(PLM_BACKEND_WASM128)
    { &plm_kernels_wasm128_exact, always, 0, 0 },
    { &plm_kernels_wasm128, always, 0, 1 },
#endif
};
static int cur_float_exact, cur_fast; /* of the backend under test */

/* the fast tables' bound for a quantized dot of n values (header) */
static double fast_rel(int n) { return 2.0 * (n / 32 + 4) * 0x1p-24; }

/* ---------------------------------------------------------------- reporting */
static int n_fail, n_pass;
static int cur_fail; /* failures in the current check group, to cap the output */

static void fail(const char *fmt, ...) {
    n_fail++;
    if (++cur_fail > 8) return;
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL: ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}
static void pass(void) { n_pass++; }
#define CHECK(cond, ...) ((cond) ? pass() : fail(__VA_ARGS__))

/* ---------------------------------------------------------------- PRNG (splitmix64, fixed seed) */
static uint64_t rng_state = 0x5eed1234abcdULL;
static uint64_t rnd64(void) {
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint32_t rnd32(void) { return (uint32_t)(rnd64() >> 32); }
static float rndu(void) { return (float)((rnd64() >> 40) * (1.0 / 16777216.0)); } /* [0,1) */
static float rnds(void) { return 2.0f * rndu() - 1.0f; }                           /* [-1,1) */
static float rndn(void) {                                                          /* ~N(0,1) */
    float s = 0;
    for (int i = 0; i < 12; i++) s += rndu();
    return s - 6.0f;
}
static int rndi(int lo, int hi) { return lo + (int)(rnd32() % (uint32_t)(hi - lo + 1)); } /* [lo,hi] */

/* Random activations with a mix of shapes: uniform, gaussian with outliers, some exact zero blocks, ties. */
static void fill_act(float *x, int n, int flavor) {
    for (int i = 0; i < n; i++) {
        switch (flavor % 4) {
        case 0: x[i] = rnds(); break;
        case 1: x[i] = rndn() * (rndu() < 0.01f ? 20.0f : 1.0f); break;
        case 2: x[i] = (i / 32) % 3 == 1 ? 0.0f : rnds() * 100.0f; break;
        default: /* values on .5 ties after scaling: block max 127 -> d = 1 for Q8_0, iscale = 1 for Q8_K */
            x[i] = (float)rndi(-126, 125) + 0.5f;
            if (i % 32 == 0) x[i] = (i / 32) % 2 ? 127.0f : -127.0f;
            break;
        }
    }
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static int close_to(double got, double ref, double scale, double rel, double abs_tol) {
    if (isnan(ref)) return isnan(got);
    return fabs(got - ref) <= rel * scale + abs_tol;
}

/* ---------------------------------------------------------------- f16 */
static float f16_ref_round(float f); /* independent f32 -> f16 -> f32 reference via double arithmetic */

static void test_f16_exhaustive(void) {
    cur_fail = 0;
    /* f16 -> f32 -> f16 identity over every half except NaNs (which must stay NaN, quiet, same sign) */
    for (uint32_t h = 0; h < 65536; h++) {
        const float f = plm_f16_to_f32((plm_f16)h);
        const plm_f16 back = plm_f32_to_f16(f);
        const int is_nan = (h & 0x7c00) == 0x7c00 && (h & 0x3ff);
        if (is_nan) {
            CHECK(isnan(f) && back == (plm_f16)(h | 0x200), "f16 NaN %04x -> %04x", (unsigned)h, (unsigned)back);
        } else {
            CHECK(back == h, "f16 round trip %04x -> %g -> %04x", (unsigned)h, (double)f, (unsigned)back);
            /* value check against the definition */
            const int e = (h >> 10) & 31, m = h & 1023;
            double v = e == 0 ? m * ldexp(1.0, -24) : e == 31 ? INFINITY : (1024 + m) * ldexp(1.0, e - 25);
            if (h & 0x8000) v = -v;
            CHECK((double)f == v && !!signbit(f) == !!(h & 0x8000), "f16 value %04x = %g, want %g", (unsigned)h,
                  (double)f, v);
        }
    }
    /* f32 -> f16 on random bit patterns and around every half: compare with the double-arithmetic reference */
    for (int i = 0; i < 2000000; i++) {
        uint32_t u = rnd32();
        if (i & 1) u = (u & 0x80000000u) | (0x33000000u + u % (0x47800000u - 0x33000000u)); /* f16 range */
        float f;
        memcpy(&f, &u, 4);
        if (isnan(f)) continue;
        const float got = plm_f16_to_f32(plm_f32_to_f16(f)), want = f16_ref_round(f);
        CHECK(got == want && !!signbit(got) == !!signbit(want), "f32->f16 %.9g (%08x): %.9g want %.9g", (double)f,
              (unsigned)u, (double)got, (double)want);
    }
    for (uint32_t h = 0; h < 0x7c00; h++) { /* exact midpoints between consecutive halves: ties to even */
        const double lo = plm_f16_to_f32((plm_f16)h), hi = plm_f16_to_f32((plm_f16)(h + 1));
        const float mid = (float)((lo + hi) / 2); /* exact in float */
        const plm_f16 got = plm_f32_to_f16(mid), want = (plm_f16)((h & 1) ? h + 1 : h);
        CHECK(got == want, "f16 tie %04x/%04x -> %04x want %04x", (unsigned)h, (unsigned)(h + 1), (unsigned)got,
              (unsigned)want);
        if (got != want) break;
    }
    /* known answers */
    struct { float f; plm_f16 h; } ka[] = {
        { 1.0f, 0x3c00 }, { -2.0f, 0xc000 }, { 65504.0f, 0x7bff }, { 65519.99f, 0x7bff }, { 65520.0f, 0x7c00 },
        { 1e10f, 0x7c00 }, { -INFINITY, 0xfc00 }, { 5.9604644775390625e-8f, 0x0001 }, { 2.98023223876953125e-8f, 0 },
        { 2.9802326e-8f, 0x0001 }, { 6.103515625e-5f, 0x0400 }, { 0.333333333f, 0x3555 }, { -0.0f, 0x8000 },
        { 1.00048828125f, 0x3c00 }, { 1.00146484375f, 0x3c02 }, { 1e-30f, 0 },
    };
    for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++)
        CHECK(plm_f32_to_f16(ka[i].f) == ka[i].h, "f32_to_f16(%.9g) = %04x, want %04x", (double)ka[i].f,
              (unsigned)plm_f32_to_f16(ka[i].f), (unsigned)ka[i].h);
}

/* f32 -> nearest half (ties to even), as a float, computed with doubles: independent of scalar.c's bit tricks. */
static float f16_ref_round(float f) {
    const double a = fabs((double)f);
    double r;
    if (a >= 65520.0) r = INFINITY;
    else {
        int e;
        frexp(a, &e); /* a = m * 2^e, m in [0.5,1) */
        int ulp_e = e - 11;       /* 11 significant bits */
        if (ulp_e < -24) ulp_e = -24; /* subnormal spacing */
        const double ulp = ldexp(1.0, ulp_e);
        const double q = a / ulp, fl = floor(q), rem = q - fl;
        double k = fl;
        if (rem > 0.5 || (rem == 0.5 && fmod(fl, 2.0) != 0.0)) k = fl + 1;
        r = k * ulp;
    }
    return (float)(f < 0 || (f == 0 && signbit(f)) ? -r : r);
}

/* ---------------------------------------------------------------- helpers to build weight rows */
static const int wtypes[] = { PLM_T_F32, PLM_T_F16, PLM_T_Q4_0, PLM_T_Q8_0, PLM_T_Q4_K, PLM_T_Q6_K, PLM_T_BF16,
                              PLM_T_Q4_1, PLM_T_Q5_0, PLM_T_Q5_1, PLM_T_IQ4_NL, PLM_T_IQ4_XS, PLM_T_Q2_K, PLM_T_Q3_K,
                              PLM_T_Q5_K };
#define N_WTYPES ((int)(sizeof wtypes / sizeof wtypes[0]))
/* matmul also runs the kernel variants (simd.h) */
static const int mtypes[] = { PLM_T_F32, PLM_T_F16, PLM_T_Q4_0, PLM_T_Q8_0, PLM_T_Q4_K, PLM_T_Q6_K,
                              PLM_T_Q4_0_R8, PLM_T_Q4_K_R8, PLM_T_F32_TB, PLM_T_F16_TB,
                              PLM_T_Q4_1, PLM_T_Q5_0, PLM_T_Q5_1, PLM_T_Q2_K, PLM_T_Q3_K, PLM_T_Q5_K,
                              PLM_T_IQ4_NL, PLM_T_IQ4_XS, PLM_T_BF16, PLM_T_BF16_TB, PLM_T_IQ4_NL_R8,
                              PLM_T_Q2_K_R8 };
#define N_MTYPES ((int)(sizeof mtypes / sizeof mtypes[0]))

static void put_h(uint8_t *p, float f) { plm_f16 h = plm_f32_to_f16(f); memcpy(p, &h, 2); }

/* Fill one weight row of `type`. exact=1: power-of-two scales and small values so all float math is exact. */
static void make_weight_row(int type, int n, uint8_t *row, int exact) {
    type = PLM_T_BASE(type);
    const plm_type_info *ti = plm_type(type);
    const int nblk = n / ti->blck;
    if (type == PLM_T_F32) {
        for (int i = 0; i < n; i++) {
            const float v = exact ? (float)rndi(-8, 8) : rndn();
            memcpy(row + 4 * i, &v, 4);
        }
        return;
    }
    if (type == PLM_T_F16) {
        for (int i = 0; i < n; i++) put_h(row + 2 * i, exact ? (float)rndi(-8, 8) : rndn());
        return;
    }
    if (type == PLM_T_BF16) {
        for (int i = 0; i < n; i++) {
            const uint16_t h = plm_f32_to_bf16(exact ? (float)rndi(-8, 8) : rndn());
            memcpy(row + 2 * i, &h, 2);
        }
        return;
    }
    for (size_t i = 0; i < plm_row_size(type, n); i++) row[i] = (uint8_t)rnd32();
    for (int b = 0; b < nblk; b++) {
        uint8_t *blk = row + (size_t)b * (size_t)ti->bytes;
        const float d = exact ? ldexpf(1.0f, rndi(-1, 0)) : (0.001f + rndu()) * (rndu() < 0.5f ? -1.0f : 1.0f);
        switch (type) {
        case PLM_T_Q4_0:
        case PLM_T_Q8_0: put_h(blk, d); break;
        case PLM_T_Q4_K:
            put_h(blk + offsetof(block_q4_K, d), fabsf(d));
            put_h(blk + offsetof(block_q4_K, dmin), exact ? ldexpf(1.0f, rndi(-2, 0)) : rndu() * 0.1f);
            break;
        case PLM_T_Q6_K:
            if (exact)
                for (int j = 0; j < 16; j++) blk[offsetof(block_q6_K, scales) + j] = (uint8_t)(int8_t)rndi(-31, 31);
            put_h(blk + offsetof(block_q6_K, d), d);
            break;
        case PLM_T_Q4_1:
        case PLM_T_Q5_1: /* d, then the block's minimum m */
            put_h(blk, d);
            put_h(blk + 2, exact ? ldexpf(1.0f, rndi(-2, 0)) * (rndu() < 0.5f ? -1.0f : 1.0f) : rndn() * 0.1f);
            break;
        case PLM_T_Q5_0:
        case PLM_T_IQ4_NL:
        case PLM_T_IQ4_XS: put_h(blk, d); break;
        case PLM_T_Q2_K:
            put_h(blk + offsetof(block_q2_K, d), fabsf(d));
            put_h(blk + offsetof(block_q2_K, dmin), exact ? ldexpf(1.0f, rndi(-2, 0)) : rndu() * 0.1f);
            break;
        case PLM_T_Q3_K: put_h(blk + offsetof(block_q3_K, d), d); break;
        case PLM_T_Q5_K:
            put_h(blk + offsetof(block_q5_K, d), fabsf(d));
            put_h(blk + offsetof(block_q5_K, dmin), exact ? ldexpf(1.0f, rndi(-2, 0)) : rndu() * 0.1f);
            break;
        }
    }
}

/* Activation row for weight type `type` in its act type. exact=1: hand-built blocks with power-of-two scales and
 * small quants (so that every partial sum, at every scale, fits float's 24 bits); otherwise the scalar quantizer on random floats. */
static void make_act_row(int type, int n, uint8_t *row, int exact, int flavor) {
    const int at = plm_type(type)->act_type;
    if (!exact) {
        float *x = xmalloc((size_t)n * sizeof(float));
        fill_act(x, n, flavor);
        plm_kernels_scalar.quantize_row(at, x, row, n);
        free(x);
        return;
    }
    if (at == PLM_T_F32 || at == PLM_T_F16 || at == PLM_T_BF16) {
        for (int i = 0; i < n; i++) {
            const float v = (float)rndi(-8, 8);
            const uint16_t h = plm_f32_to_bf16(v);
            if (at == PLM_T_F32) memcpy(row + 4 * i, &v, 4);
            else if (at == PLM_T_BF16) memcpy(row + 2 * i, &h, 2);
            else put_h(row + 2 * i, v);
        }
    } else if (at == PLM_T_Q8_1) {
        for (int b = 0; b < n / 32; b++) {
            uint8_t *blk = row + (size_t)b * sizeof(block_q8_1);
            const float d = ldexpf(1.0f, rndi(-1, 0));
            int sum = 0;
            for (int j = 0; j < 32; j++) {
                const int q = rndi(-127, 127);
                blk[4 + j] = (uint8_t)(int8_t)q;
                sum += q;
            }
            put_h(blk, d);
            put_h(blk + 2, d * (float)sum);
        }
    } else if (at == PLM_T_Q8_0) {
        for (int b = 0; b < n / QK8_0; b++) {
            uint8_t *blk = row + (size_t)b * sizeof(block_q8_0);
            put_h(blk, ldexpf(1.0f, rndi(-1, 0)));
            for (int j = 0; j < QK8_0; j++) blk[2 + j] = (uint8_t)(int8_t)rndi(-127, 127);
        }
    } else if (at == PLM_T_Q8_K) {
        for (int b = 0; b < n / QK_K; b++) {
            uint8_t *blk = row + (size_t)b * sizeof(block_q8_K);
            const float d = ldexpf(1.0f, rndi(-1, 0));
            memcpy(blk, &d, 4);
            int8_t *qs = (int8_t *)(blk + offsetof(block_q8_K, qs));
            for (int j = 0; j < QK_K; j++) qs[j] = (int8_t)rndi(-3, 3);
            for (int j = 0; j < QK_K / 16; j++) {
                int16_t s = 0;
                for (int l = 0; l < 16; l++) s = (int16_t)(s + qs[16 * j + l]);
                memcpy(blk + offsetof(block_q8_K, bsums) + 2 * j, &s, 2);
            }
        }
    }
}

/* Activation row back to floats (for the error scale). */
static void act_to_float(int act_type, const uint8_t *row, float *y, int n) {
    if (act_type == PLM_T_Q8_K) {
        for (int b = 0; b < n / QK_K; b++) {
            const uint8_t *blk = row + (size_t)b * sizeof(block_q8_K);
            float d;
            memcpy(&d, blk, 4);
            for (int j = 0; j < QK_K; j++) y[b * QK_K + j] = d * (float)(int8_t)blk[offsetof(block_q8_K, qs) + j];
        }
    } else {
        plm_dequantize_row(act_type, row, y, n);
    }
}

/* ---------------------------------------------------------------- matmul */
static void test_matmul_one(const plm_kernels *k, int type, int n, int nr, int nb, size_t wpad, size_t apad,
                            size_t ldpad, int exact, int flavor) {
    const plm_type_info *ti = plm_type(type);
    const int base = PLM_T_BASE(type);
    const int at = ti->act_type;
    const size_t wrow = plm_row_size(type, n), arow = plm_row_size(at, n);
    const size_t ws = wrow + wpad, as = arow + apad, ldo = (size_t)nr + ldpad;
    uint8_t *W = xmalloc(ws * (size_t)nr + 1), *A = xmalloc(as * (size_t)nb + 1);
    memset(W, 0xA5, ws * (size_t)nr + 1);
    memset(A, 0x5A, as * (size_t)nb + 1);
    /* +1 byte offset when the pad is odd: exercises unaligned blocks */
    uint8_t *w = W + (wpad & 1), *a = A + (apad & 1);
    for (int r = 0; r < nr; r++) make_weight_row(type, n, w + (size_t)r * ws, exact);
    for (int b = 0; b < nb; b++) make_act_row(type, n, a + (size_t)b * as, exact, flavor + b);
    const size_t nout = ldo * (size_t)nb;
    float *ref = xmalloc(nout * sizeof(float)), *got = xmalloc(nout * sizeof(float));
    for (size_t i = 0; i < nout; i++) ref[i] = got[i] = -12345.0f; /* sentinel: padding must stay untouched */
    plm_kernels_scalar.matmul(type, n, w, ws, nr, a, as, nb, ref, ldo);
    k->matmul(type, n, w, ws, nr, a, as, nb, got, ldo);
    float *wf = xmalloc((size_t)n * sizeof(float)), *af = xmalloc((size_t)n * sizeof(float));
    int bad = 0;
    for (int b = 0; b < nb && !bad; b++) {
        act_to_float(at, a + (size_t)b * as, af, n);
        for (int r = 0; r < nr && !bad; r++) {
            plm_dequantize_row(base, w + (size_t)r * ws, wf, n);
            double mag = 0, direct = 0;
            for (int i = 0; i < n; i++) {
                mag += fabs((double)wf[i] * af[i]);
                direct += (double)wf[i] * af[i];
            }
            if (at == PLM_T_Q8_1) /* ggml takes a block's min term as m_w * s_a, with s_a = f16(d_a * sum q_a) */
                for (int blk = 0; blk < n / 32; blk++) {
                    const uint8_t *wb = w + (size_t)r * ws + (size_t)blk * ti->bytes;
                    const uint8_t *ab = a + (size_t)b * as + (size_t)blk * sizeof(block_q8_1);
                    plm_f16 mh, sh, dh;
                    memcpy(&mh, wb + 2, 2), memcpy(&dh, ab, 2), memcpy(&sh, ab + 2, 2);
                    double sq = 0;
                    for (int j = 0; j < 32; j++) sq += (int8_t)ab[4 + j];
                    direct += (double)plm_f16_to_f32(mh) * ((double)plm_f16_to_f32(sh) - plm_f16_to_f32(dh) * sq);
                }
            const float g = got[(size_t)b * ldo + r], e = ref[(size_t)b * ldo + r];
            /* quantized types follow llama.cpp's x86 orders in every backend: bit-exact always; float types on
             * backends that follow the float orders too */
            const int quant = base != PLM_T_F32 && base != PLM_T_F16;
            const int bitexact = exact || cur_float_exact || (quant && !cur_fast);
            int ok = bitexact ? g == e : close_to(g, e, mag, quant ? fast_rel(n) : 1e-5, 1e-6);
            /* the reference itself must agree with a plain double dot of the dequantized rows */
            int ok_ref = close_to(e, direct, mag, 2e-5, 1e-6);
            if (!ok || !ok_ref) {
                bad = 1;
                fail("%s matmul %s n=%d nr=%d nb=%d pads=%zu/%zu/%zu exact=%d: out[%d][%d] = %.9g, scalar %.9g, "
                     "double %.9g (mag %.3g)",
                     k->name, ti->name, n, nr, nb, wpad, apad, ldpad, exact, b, r, (double)g, (double)e, direct, mag);
            }
        }
        for (size_t r = (size_t)nr; r < ldo; r++)
            if (got[(size_t)b * ldo + r] != -12345.0f) {
                bad = 1;
                fail("%s matmul %s wrote past nr into ldo padding", k->name, ti->name);
                break;
            }
    }
    if (!bad) pass();
    free(W), free(A), free(ref), free(got), free(wf), free(af);
}

static void test_matmul(const plm_kernels *k) {
    cur_fail = 0;
    for (int t = 0; t < N_MTYPES; t++) {
        const int type = mtypes[t];
        const int blck = plm_type(type)->blck == 1 ? 32 : plm_type(type)->blck;
        const int nblocks[] = { 1, 2, 3, 5, 8 };
        for (int ni = 0; ni < 5; ni++) {
            const int n = blck * nblocks[ni];
            for (int nr = 1; nr <= 9; nr += 2)
                for (int nb = 1; nb <= 5; nb++) {
                    const size_t wpad = (size_t)((nr + nb + ni) % 3 == 0 ? 0 : (nr * 7 + nb) % 37);
                    const size_t apad = (size_t)((nb + ni) % 2 ? 0 : (nb * 5 + 3) % 41);
                    const size_t ldpad = (size_t)(nb % 3);
                    test_matmul_one(k, type, n, nr, nb, wpad, apad, ldpad, 0, nr + nb + ni);
                    if (nblocks[ni] <= 3) test_matmul_one(k, type, n, nr, nb, wpad, apad, ldpad, 1, 0);
                }
        }
        if (plm_type(type)->blck == 1) { /* float weights: any length, tails of every size */
            const int odd_n[] = { 1, 2, 7, 9, 13, 23, 45, 100 };
            for (int ni = 0; ni < 8; ni++)
                for (int nb = 1; nb <= 5; nb++) {
                    test_matmul_one(k, type, odd_n[ni], 3 + 2 * (ni % 3), nb, (size_t)(ni % 2) * 5, (size_t)nb % 2 * 3,
                                    (size_t)ni % 2, 0, ni + nb);
                    test_matmul_one(k, type, odd_n[ni], 1 + 2 * (nb % 3), nb, 0, (size_t)ni % 3, 0, 1, 0);
                }
        }
        /* larger shapes: a realistic row length and more rows than any unrolling (8-row groups plus a rest; the
         * Q4_K_R8 gemm/gemv split at nb & ~3 and the *_TB switch at nb >= 2) */
        const int nbig = plm_type(type)->blck == QK_K ? 2048 : 1024;
        test_matmul_one(k, type, nbig, 19, 4, 0, 0, 0, 0, 1);
        test_matmul_one(k, type, nbig, 33, 7, 0, 0, 1, 0, 3);
        test_matmul_one(k, type, nbig, 16, 1, 0, 0, 0, 0, 2);
        test_matmul_one(k, type, nbig, 24, 9, 3, 5, 2, 0, 5);
        test_matmul_one(k, type, nbig, 40, 2, 0, 0, 0, 0, 6);
        test_matmul_one(k, type, 4 * blck, 11, 6, 0, 0, 0, 1, 0);
        test_matmul_one(k, type, 3 * blck, 17, 5, 1, 0, 0, 0, 7);
    }
}

/* ---------------------------------------------------------------- quantize_row */
static void test_quantize_row(const plm_kernels *k) {
    cur_fail = 0;
    const int acts[] = { PLM_T_F32, PLM_T_F16, PLM_T_Q8_0, PLM_T_Q8_K, PLM_T_Q8_1, PLM_T_BF16 };
    for (int ai = 0; ai < 6; ai++) {
        const int at = acts[ai];
        const int blck = at == PLM_T_Q8_K ? QK_K : 32;
        for (int nblk = 1; nblk <= 17; nblk += 3)
            for (int flavor = 0; flavor < 8; flavor++) {
                const int n = nblk * blck;
                const size_t sz = plm_row_size(at, n);
                float *x = xmalloc((size_t)n * sizeof(float));
                fill_act(x, n, flavor);
                if (flavor == 5) memset(x, 0, (size_t)n * sizeof(float));
                if (flavor == 6)
                    for (int i = 0; i < n; i++) x[i] = 1e-3f * (float)((i % 7) - 3);
                if (flavor == 7) /* huge and tiny magnitudes */
                    for (int i = 0; i < n; i++) x[i] = rnds() * ((i / blck) % 2 ? 6e4f : 1e-6f);
                uint8_t *r = xmalloc(sz + 1), *g = xmalloc(sz + 1);
                memset(r, 0xEE, sz + 1);
                memset(g, 0xEE, sz + 1);
                plm_kernels_scalar.quantize_row(at, x, r, n);
                k->quantize_row(at, x, g + 1, n); /* unaligned destination */
                int first = -1;
                for (size_t i = 0; i < sz && first < 0; i++)
                    if (r[i] != g[i + 1]) first = (int)i;
                CHECK(first < 0, "%s quantize_row %s n=%d flavor=%d: byte %d differs (%02x vs scalar %02x)", k->name,
                      plm_type(at)->name, n, flavor, first, first >= 0 ? g[first + 1] : 0, first >= 0 ? r[first] : 0);
                free(x), free(r), free(g);
            }
    }
}

/* ---------------------------------------------------------------- float kernels */
static const int fsizes[] = { 1, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 64, 100, 255, 256, 1000, 4096 };
#define N_FSIZES ((int)(sizeof fsizes / sizeof fsizes[0]))

static int cmp_arrays(const char *what, const plm_kernels *k, int n, const float *got, const float *ref,
                      const float *scale) {
    for (int i = 0; i < n; i++) {
        const double s = scale ? scale[i] : fabs((double)ref[i]);
        if (!close_to(got[i], ref[i], s, 1e-5, 1e-6)) {
            fail("%s %s n=%d: [%d] = %.9g, scalar %.9g", k->name, what, n, i, (double)got[i], (double)ref[i]);
            return 0;
        }
    }
    pass();
    return 1;
}

static void test_float_kernels(const plm_kernels *k) {
    cur_fail = 0;
    for (int si = 0; si < N_FSIZES; si++) {
        const int n = fsizes[si];
        float *x = xmalloc((size_t)n * 4), *y = xmalloc((size_t)n * 4), *w = xmalloc((size_t)n * 4);
        float *r = xmalloc((size_t)n * 4), *g = xmalloc((size_t)n * 4), *sc = xmalloc((size_t)n * 4);
        plm_f16 *h1 = xmalloc((size_t)n * 2), *h2 = xmalloc((size_t)n * 2), *hr = xmalloc((size_t)n * 2);
        for (int rep = 0; rep < 3; rep++) {
            const float amp = rep == 0 ? 1.0f : rep == 1 ? 30.0f : 1e-3f;
            for (int i = 0; i < n; i++) x[i] = rndn() * amp, y[i] = rndn(), w[i] = rnds();

            /* rmsnorm, with and without weight; in place too */
            plm_kernels_scalar.rmsnorm(r, x, w, n, 1e-5f);
            k->rmsnorm(g, x, w, n, 1e-5f);
            if (cur_float_exact) CHECK(memcmp(g, r, (size_t)n * 4) == 0, "%s rmsnorm n=%d not bit-exact", k->name, n);
            else cmp_arrays("rmsnorm", k, n, g, r, NULL);
            plm_kernels_scalar.rmsnorm(r, x, NULL, n, 1e-6f);
            memcpy(g, x, (size_t)n * 4);
            k->rmsnorm(g, g, NULL, n, 1e-6f);
            if (cur_float_exact) CHECK(memcmp(g, r, (size_t)n * 4) == 0, "%s rmsnorm n=%d (in place) not bit-exact", k->name, n);
            else cmp_arrays("rmsnorm(in place, no weight)", k, n, g, r, NULL);

            /* silu_mul: g = silu(g) * u */
            for (int i = 0; i < n; i++) r[i] = g[i] = x[i] * (rep == 1 ? 1.0f : 4.0f);
            if (rep == 1)
                for (int i = 0; i < n; i += 5) r[i] = g[i] = (i % 2 ? 1.0f : -1.0f) * (80.0f + (float)(i % 40));
            plm_kernels_scalar.silu_mul(r, y, n);
            k->silu_mul(g, y, n);
            if (cur_fast) cmp_arrays("silu_mul", k, n, g, r, NULL);
            else CHECK(memcmp(g, r, (size_t)n * 4) == 0, "%s silu_mul n=%d not bit-exact with scalar", k->name, n);

            /* gelu_mul: g = gelu(g) * u, across -10/10 too */
            for (int i = 0; i < n; i++) r[i] = g[i] = x[i] * (rep == 1 ? 0.5f : 4.0f);
            plm_kernels_scalar.gelu_mul(r, y, n);
            k->gelu_mul(g, y, n);
            CHECK(memcmp(g, r, (size_t)n * 4) == 0, "%s gelu_mul n=%d not bit-exact with scalar", k->name, n);

            /* axpy_f32: scale = |y| + |a*x| */
            const float av = rnds() * 3.0f;
            memcpy(r, y, (size_t)n * 4), memcpy(g, y, (size_t)n * 4);
            plm_kernels_scalar.axpy_f32(r, av, x, n);
            k->axpy_f32(g, av, x, n);
            for (int i = 0; i < n; i++) sc[i] = fabsf(y[i]) + fabsf(av * x[i]);
            cmp_arrays("axpy_f32", k, n, g, r, sc);

            /* mad_f16 / scale_f16: f16 accumulators, bit-exact */
            plm_kernels_scalar.f32_to_f16(x, h1, n);
            plm_kernels_scalar.f32_to_f16(y, h2, n);
            memcpy(hr, h2, (size_t)n * 2);
            plm_kernels_scalar.mad_f16(hr, h1, av, n);
            k->mad_f16(h2, h1, av, n);
            if (cur_fast) {
                int ok = 1;
                for (int i = 0; i < n && ok; i++) {
                    const float gv = plm_f16_to_f32(h2[i]), rv = plm_f16_to_f32(hr[i]);
                    ok = gv == rv || fabsf(gv - rv) <= ldexpf(fabsf(rv), -10) + 0x1p-24f;
                }
                CHECK(ok, "%s mad_f16 n=%d beyond one half ulp", k->name, n);
                memcpy(h2, hr, (size_t)n * 2); /* scale_f16 below starts from the same halves */
            } else {
                CHECK(memcmp(hr, h2, (size_t)n * 2) == 0, "%s mad_f16 n=%d not bit-exact", k->name, n);
            }
            plm_kernels_scalar.scale_f16(hr, av * 0.3f, n);
            k->scale_f16(h2, av * 0.3f, n);
            CHECK(memcmp(hr, h2, (size_t)n * 2) == 0, "%s scale_f16 n=%d not bit-exact", k->name, n);

            /* dot_f32 / dot_f16 */
            double mag = 0;
            for (int i = 0; i < n; i++) mag += fabs((double)x[i] * y[i]);
            const float d1 = plm_kernels_scalar.dot_f32(x, y, n), d2 = k->dot_f32(x, y, n);
            CHECK(cur_float_exact ? d2 == d1 : close_to(d2, d1, mag, 1e-5, 1e-6), "%s dot_f32 n=%d: %.9g, scalar %.9g",
                  k->name, n, (double)d2, (double)d1);
            plm_kernels_scalar.f32_to_f16(y, h2, n);
            mag = 0;
            for (int i = 0; i < n; i++) mag += fabs((double)plm_f16_to_f32(h1[i]) * plm_f16_to_f32(h2[i]));
            const float e1 = plm_kernels_scalar.dot_f16(h1, h2, n), e2 = k->dot_f16(h1, h2, n);
            CHECK(cur_float_exact ? e2 == e1 : close_to(e2, e1, mag, 1e-5, 1e-6), "%s dot_f16 n=%d: %.9g, scalar %.9g",
                  k->name, n, (double)e2, (double)e1);

            /* f16 conversions: exact */
            for (int i = 0; i < n; i++) { /* include specials */
                if (i % 13 == 5) x[i] = (i % 2) ? 1e6f : -7e-8f;
                if (i % 29 == 11) x[i] = (i % 2) ? -INFINITY : 65519.0f;
            }
            plm_kernels_scalar.f32_to_f16(x, hr, n);
            k->f32_to_f16(x, h2, n);
            CHECK(memcmp(hr, h2, (size_t)n * 2) == 0, "%s f32_to_f16 n=%d differs", k->name, n);
            for (int i = 0; i < n; i++) h1[i] = (plm_f16)rnd32();
            for (int i = 0; i < n; i++)
                if ((h1[i] & 0x7c00) == 0x7c00 && (h1[i] & 0x3ff)) h1[i] &= 0xfbff; /* no NaN inputs here */
            plm_kernels_scalar.f16_to_f32(h1, r, n);
            k->f16_to_f32(h1, g, n);
            CHECK(memcmp(r, g, (size_t)n * 4) == 0, "%s f16_to_f32 n=%d differs", k->name, n);
        }
        free(x), free(y), free(w), free(r), free(g), free(sc), free(h1), free(h2), free(hr);
    }
    /* every half through the backend's bulk converter, and back */
    {
        plm_f16 *h = xmalloc(65536 * 2), *hb = xmalloc(65536 * 2);
        float *fr = xmalloc(65536 * 4), *fg = xmalloc(65536 * 4);
        for (int i = 0; i < 65536; i++) h[i] = (plm_f16)i;
        plm_kernels_scalar.f16_to_f32(h, fr, 65536);
        k->f16_to_f32(h, fg, 65536);
        int bad = -1;
        for (int i = 0; i < 65536 && bad < 0; i++) {
            uint32_t a, b;
            memcpy(&a, &fr[i], 4), memcpy(&b, &fg[i], 4);
            if (a != b) bad = i;
        }
        CHECK(bad < 0, "%s f16_to_f32 of half %04x differs", k->name, (unsigned)(bad < 0 ? 0 : bad));
        k->f32_to_f16(fr, hb, 65536);
        bad = -1;
        for (int i = 0; i < 65536 && bad < 0; i++) {
            const int nan = (i & 0x7c00) == 0x7c00 && (i & 0x3ff);
            if (nan ? hb[i] != (plm_f16)(i | 0x200) : hb[i] != i) bad = i;
        }
        CHECK(bad < 0, "%s f32_to_f16 round trip of half %04x -> %04x", k->name, (unsigned)(bad < 0 ? 0 : bad),
              (unsigned)(bad < 0 ? 0 : hb[bad]));
        free(h), free(hb), free(fr), free(fg);
    }
    /* rope */
    const int hds[] = { 2, 8, 64, 128 };
    const int poss[] = { 0, 1, 17, 1000, 32767 };
    for (int hi = 0; hi < 4; hi++)
        for (int pi = 0; pi < 5; pi++)
            for (int neox = 0; neox < 2; neox++)
                for (int var = 0; var < 3; var++) {
                    const int hd = hds[hi];
                    float x[128] = { 0 }, r[128], g[128], ff[64];
                    for (int i = 0; i < hd; i++) x[i] = rndn();
                    for (int i = 0; i < hd / 2; i++) ff[i] = 1.0f + 7.0f * (float)i / (float)(hd / 2); /* 1..8 */
                    memcpy(r, x, sizeof x), memcpy(g, x, sizeof x);
                    const float base = var ? 500000.0f : 10000.0f, fs = var == 1 ? 0.25f : 1.0f;
                    plm_kernels_scalar.rope(r, hd, poss[pi], base, fs, var == 2 ? ff : NULL, neox);
                    k->rope(g, hd, poss[pi], base, fs, var == 2 ? ff : NULL, neox);
                    char what[64];
                    snprintf(what, sizeof what, "rope(hd=%d,pos=%d,neox=%d,var=%d)", hd, poss[pi], neox, var);
                    float s[128];
                    for (int i = 0; i < hd; i++) s[i] = 1.0f; /* rotation keeps magnitudes ~1: absolute bound */
                    if (cur_float_exact)
                        CHECK(memcmp(g, r, (size_t)hd * sizeof(float)) == 0, "%s %s not bit-exact", k->name, what);
                    else
                        cmp_arrays(what, k, hd, g, r, s);
                }
}

/* ---------------------------------------------------------------- known answers and scalar-only semantics */
static void test_known_answers(void) {
    cur_fail = 0;
    float y[QK_K];
    /* Q4_0: d = 1, nibble j at element j and 16+j -> j - 8 */
    uint8_t b40[18];
    put_h(b40, 1.0f);
    for (int j = 0; j < 16; j++) b40[2 + j] = (uint8_t)(j | (j << 4));
    plm_dequantize_row(PLM_T_Q4_0, b40, y, 32);
    for (int j = 0; j < 32; j++) CHECK(y[j] == (float)((j % 16) - 8), "Q4_0 known: y[%d] = %g", j, (double)y[j]);
    /* ...and low nibble = element j, high nibble = element j+16 */
    for (int j = 0; j < 16; j++) b40[2 + j] = (uint8_t)(15 | (0 << 4));
    put_h(b40, -0.5f);
    plm_dequantize_row(PLM_T_Q4_0, b40, y, 32);
    for (int j = 0; j < 32; j++)
        CHECK(y[j] == (j < 16 ? -3.5f : 4.0f), "Q4_0 nibble order: y[%d] = %g", j, (double)y[j]);

    /* Q8_0: d = 0.25, q = j - 16 */
    uint8_t b80[34];
    put_h(b80, 0.25f);
    for (int j = 0; j < 32; j++) b80[2 + j] = (uint8_t)(int8_t)(j - 16);
    plm_dequantize_row(PLM_T_Q8_0, b80, y, 32);
    for (int j = 0; j < 32; j++) CHECK(y[j] == 0.25f * (j - 16), "Q8_0 known: y[%d] = %g", j, (double)y[j]);

    /* Q8_0 activation quantizer (ggml's x86 variant): amax 127 -> d = 1, id = 127/amax, ties to even */
    float xa[32];
    for (int j = 0; j < 32; j++) xa[j] = j == 0 ? 127.0f : (float)(j - 16) + 0.5f;
    plm_kernels_scalar.quantize_row(PLM_T_Q8_0, xa, b80, 32);
    plm_f16 dh;
    memcpy(&dh, b80, 2);
    CHECK(dh == 0x3c00, "Q8_0 quantize d = %04x", (unsigned)dh);
    for (int j = 1; j < 32; j++) {
        const int kk = j - 16, want = (kk % 2 == 0) ? kk : kk + 1; /* x = k + 0.5 -> the even neighbour */
        CHECK((int8_t)b80[2 + j] == want, "Q8_0 quantize tie x=%g -> %d, want %d", (double)xa[j], (int8_t)b80[2 + j],
              want);
    }
    /* Q8_K quantizer: max -127 -> iscale 1, d = 1; nearest_int rounds ties to even; bsums */
    static float xk[QK_K];
    for (int j = 0; j < QK_K; j++) xk[j] = j == 3 ? -127.0f : (float)((j % 11) - 5) + 0.5f;
    uint8_t bk[sizeof(block_q8_K)];
    plm_kernels_scalar.quantize_row(PLM_T_Q8_K, xk, bk, QK_K);
    float dk;
    memcpy(&dk, bk, 4);
    CHECK(dk == 1.0f, "Q8_K d = %g", (double)dk);
    for (int j = 0; j < QK_K; j++) {
        if (j == 3) continue;
        const int kk = (j % 11) - 5, want = (kk % 2 == 0) ? kk : kk + 1; /* k + 0.5 -> even neighbour */
        CHECK((int8_t)bk[4 + j] == want, "Q8_K tie x=%g -> %d want %d", (double)xk[j], (int8_t)bk[4 + j], want);
    }
    for (int j = 0; j < 16; j++) {
        int s = 0;
        for (int l = 0; l < 16; l++) s += (int8_t)bk[4 + 16 * j + l];
        int16_t bs;
        memcpy(&bs, bk + 260 + 2 * j, 2);
        CHECK(bs == s, "Q8_K bsums[%d] = %d want %d", j, bs, s);
    }

    /* Q4_K: pack 6-bit scales/mins by the documented layout, dequantize, compare with d*sc*q - dmin*m */
    {
        uint8_t blk[144];
        memset(blk, 0, sizeof blk);
        int sc[8], mn[8], q[QK_K];
        for (int j = 0; j < 8; j++) sc[j] = (j * 9 + 5) & 63, mn[j] = (j * 23 + 50) & 63;
        for (int j = 0; j < 4; j++) {
            blk[4 + j] = (uint8_t)(sc[j] | ((sc[j + 4] >> 4) << 6));
            blk[4 + j + 4] = (uint8_t)(mn[j] | ((mn[j + 4] >> 4) << 6));
            blk[4 + j + 8] = (uint8_t)((sc[j + 4] & 15) | ((mn[j + 4] & 15) << 4));
        }
        put_h(blk, 0.5f);
        put_h(blk + 2, 0.125f);
        for (int i = 0; i < QK_K; i++) q[i] = (i * 7 + i / 32) & 15;
        /* 64-element chunk c: 32 bytes; element c*64+l in the low nibble, c*64+32+l in the high nibble */
        for (int c = 0; c < 4; c++)
            for (int l = 0; l < 32; l++) blk[16 + 32 * c + l] = (uint8_t)(q[64 * c + l] | (q[64 * c + 32 + l] << 4));
        plm_dequantize_row(PLM_T_Q4_K, blk, y, QK_K);
        for (int i = 0; i < QK_K; i++) {
            const float want = 0.5f * (float)sc[i / 32] * (float)q[i] - 0.125f * (float)mn[i / 32];
            CHECK(y[i] == want, "Q4_K known: y[%d] = %g want %g", i, (double)y[i], (double)want);
        }
    }
    /* Q6_K: q in [-32,31] packed as 4 low bits in ql and 2 high bits in qh, 16 int8 scales */
    {
        uint8_t blk[210];
        memset(blk, 0, sizeof blk);
        int q[QK_K];
        int8_t sc[16];
        for (int i = 0; i < QK_K; i++) q[i] = ((i * 13 + i / 7) % 64) - 32;
        for (int j = 0; j < 16; j++) sc[j] = (int8_t)(j * 17 - 128);
        for (int h = 0; h < 2; h++) /* 128-element halves: ql 64 bytes, qh 32 bytes each */
            for (int l = 0; l < 32; l++) {
                const int *qq = q + 128 * h;
                uint8_t *ql = blk + 64 * h, *qh = blk + 128 + 32 * h;
                const int u0 = qq[l] + 32, u1 = qq[l + 32] + 32, u2 = qq[l + 64] + 32, u3 = qq[l + 96] + 32;
                ql[l] = (uint8_t)((u0 & 15) | ((u2 & 15) << 4));
                ql[l + 32] = (uint8_t)((u1 & 15) | ((u3 & 15) << 4));
                qh[l] = (uint8_t)((u0 >> 4) | ((u1 >> 4) << 2) | ((u2 >> 4) << 4) | ((u3 >> 4) << 6));
            }
        memcpy(blk + 192, sc, 16);
        put_h(blk + 208, 0.25f);
        plm_dequantize_row(PLM_T_Q6_K, blk, y, QK_K);
        for (int i = 0; i < QK_K; i++) {
            const float want = 0.25f * (float)sc[i / 16] * (float)q[i];
            CHECK(y[i] == want, "Q6_K known: y[%d] = %g want %g", i, (double)y[i], (double)want);
        }
    }
    /* matmul known answer: Q8_0 weights (d=1, q=1..32) x Q8_0 act (d=0.5, q=2) -> 0.5*2*528 = 528 */
    {
        uint8_t w[34], a[34];
        put_h(w, 1.0f), put_h(a, 0.5f);
        for (int j = 0; j < 32; j++) w[2 + j] = (uint8_t)(j + 1), a[2 + j] = 2;
        float out = 0;
        for (size_t bi = 0; bi < sizeof backends / sizeof backends[0]; bi++) {
            if (!backends[bi].usable()) continue;
            backends[bi].k->matmul(PLM_T_Q8_0, 32, w, 34, 1, a, 34, 1, &out, 1);
            CHECK(out == 528.0f, "%s Q8_0 known matmul = %g", backends[bi].k->name, (double)out);
        }
    }
    /* rope known answer: pos 1, hd 2 -> rotate (1,0) by 1 radian; pos 0 is the identity */
    {
        float v[2] = { 1.0f, 0.0f };
        plm_kernels_scalar.rope(v, 2, 1, 10000.0f, 1.0f, NULL, 0);
        CHECK(fabsf(v[0] - cosf(1.0f)) < 1e-7f && fabsf(v[1] - sinf(1.0f)) < 1e-7f, "rope known: %g %g",
              (double)v[0], (double)v[1]);
        float u[4] = { 1, 2, 3, 4 };
        plm_kernels_scalar.rope(u, 4, 0, 10000.0f, 1.0f, NULL, 1);
        CHECK(u[0] == 1 && u[1] == 2 && u[2] == 3 && u[3] == 4, "rope pos 0 not identity");
        /* neox pairs (0,2),(1,3); theta_1 = pos * 10000^(-1/2) = 0.01 at pos 1 */
        float z[4] = { 0, 1, 0, 0 };
        plm_kernels_scalar.rope(z, 4, 1, 10000.0f, 1.0f, NULL, 1);
        CHECK(fabsf(z[1] - cosf(0.01f)) < 1e-6f && fabsf(z[3] - sinf(0.01f)) < 1e-6f && z[0] == 0 && z[2] == 0,
              "rope neox pairs: %g %g %g %g", (double)z[0], (double)z[1], (double)z[2], (double)z[3]);
        /* frequency factors divide each pair's angle: factor 4 at pos 2 turns (1,0) by 0.5 radian */
        float yr[2] = { 1.0f, 0.0f };
        const float ff4 = 4.0f;
        plm_kernels_scalar.rope(yr, 2, 2, 10000.0f, 1.0f, &ff4, 0);
        CHECK(fabsf(yr[0] - cosf(0.5f)) < 1e-7f && fabsf(yr[1] - sinf(0.5f)) < 1e-7f, "rope factor known: %g %g",
              (double)yr[0], (double)yr[1]);
    }
    /* rmsnorm known answer */
    {
        float xr[4] = { 1, -1, 1, -1 }, wr[4] = { 1, 2, 3, 4 }, o[4];
        plm_kernels_scalar.rmsnorm(o, xr, wr, 4, 0.0f);
        CHECK(o[0] == 1 && o[1] == -2 && o[2] == 3 && o[3] == -4, "rmsnorm known: %g %g %g %g", (double)o[0],
              (double)o[1], (double)o[2], (double)o[3]);
    }
    /* plm_expf_ggml (ggml's vector expf, used by silu in every backend): within 2 ulp of exp, 0 / inf at the ends */
    {
        double worst = 0;
        for (float xv = -87.0f; xv <= 88.0f; xv += 0.0137f) {
            const double e = exp((double)xv), g = plm_expf_ggml(xv);
            worst = fmax(worst, fabs(g - e) / e);
        }
        CHECK(worst < 2.5e-7 && plm_expf_ggml(0.0f) == 1.0f && plm_expf_ggml(-200.0f) == 0.0f &&
                  isinf(plm_expf_ggml(200.0f)),
              "plm_expf_ggml: worst relative error %.3g", worst);
    }
    /* plm_expf_glibc: glibc's expf (values recorded from glibc 2.36, x86-64 FMA variant), special cases too */
    {
        static const float ka[][2] = {
            { 0x1p+0f, 0x1.5bf0a8p+1f },    { -0x1p-1f, 0x1.368b3p-1f },     { 0x1.49999ap+3f, 0x1.d0928p+14f },
            { -0x1.5ep+6f, 0x1.b2cafp-127f }, { 0x1.62p+6f, 0x1.99b988p+127f }, { -0x1.9ep+6f, 0x1p-149f },
            { -0x1.ap+6f, 0x0p+0f },         { 0x1.99999ap-4f, 0x1.1aec7cp+0f }, { -0x1.6p+1f, 0x1.05d938p-4f },
            { 0x1.62e43p-1f, 0x1p+1f },      { -0x1.0a2b24p+4f, 0x1.fffffep-25f },
            /* the only two inputs of [-104, 89] where its double fmas computed as mul + add change the result */
            { 0x1.04845ep+5f, 0x1.f93e38p+46f }, { -0x1.f8cbb2p+5f, 0x1.f45326p-92f },
        };
        for (size_t i = 0; i < sizeof ka / sizeof ka[0]; i++)
            CHECK(plm_expf_glibc(ka[i][0]) == ka[i][1], "plm_expf_glibc(%a) = %a, want %a", (double)ka[i][0],
                  (double)plm_expf_glibc(ka[i][0]), (double)ka[i][1]);
        CHECK(isinf(plm_expf_glibc(89.0f)) && plm_expf_glibc(-INFINITY) == 0.0f && isnan(plm_expf_glibc(NAN)) &&
                  plm_expf_glibc(0.0f) == 1.0f,
              "plm_expf_glibc special values");
        /* a sweep of 262175 inputs over the whole range, hashed (FNV-1a of the results' bits); the hash is glibc's
         * expf's, recorded on x86-64 with FMA and re-derived from glibc itself below wherever it runs, so builds
         * without glibc (wasm: its relaxed-SIMD fma path included) check every value of the sweep too */
        const uint64_t GLIBC_SWEEP = 0xe0752973a4589d94ULL;
        uint64_t h = 1469598103934665603ULL;
        for (float xv = -104.0f; xv <= 89.0f; xv = nextafterf(xv, INFINITY) + 0.000731f) {
            const float g = plm_expf_glibc(xv);
            uint32_t u;
            memcpy(&u, &g, 4);
            for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xff)) * 1099511628211ULL;
        }
        CHECK(h == GLIBC_SWEEP, "plm_expf_glibc sweep hash %016llx, glibc's %016llx", (unsigned long long)h,
              (unsigned long long)GLIBC_SWEEP);
#if defined(__GLIBC__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        if (__builtin_cpu_supports("fma")) { /* the very function it reproduces: the same sweep, value by value */
            int bad = 0;
            uint64_t hl = 1469598103934665603ULL;
            for (float xv = -104.0f; xv <= 89.0f; xv = nextafterf(xv, INFINITY) + 0.000731f) {
                const float g = plm_expf_glibc(xv), e = expf(xv);
                uint32_t u;
                memcpy(&u, &e, 4);
                for (int b = 0; b < 4; b++) hl = (hl ^ ((u >> (8 * b)) & 0xff)) * 1099511628211ULL;
                if (memcmp(&g, &e, 4) && bad < 3) bad++, fail("plm_expf_glibc(%a) = %a, libm %a", (double)xv, (double)g, (double)e);
            }
            CHECK(!bad && hl == GLIBC_SWEEP, "glibc's own sweep hash %016llx", (unsigned long long)hl);
        }
#endif
    }
    /* gelu_mul: ggml's f16 GELU table, entry by entry (u = 1, so g = the entry): every half in (-10, 10), hashed
     * (FNV-1a of the results' bits; the hash was recorded on x86-64 glibc, where the entries are also re-derived
     * from ggml's own formula with glibc's tanhf and GCC's contraction of 1 + 0.044715*h*h), and the cut-offs */
    {
        const uint64_t GELU_TABLE = 0xef0778ad23833b1aULL;
        uint64_t h = 1469598103934665603ULL;
        int bad = 0;
        for (int i = 0; i < 65536; i++) {
            const float hv = plm_f16_to_f32((plm_f16)i);
            if (!(hv > -10.0f && hv < 10.0f)) continue;
            float g = hv, one = 1.0f;
            plm_kernels_scalar.gelu_mul(&g, &one, 1);
            uint32_t u;
            memcpy(&u, &g, 4);
            for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xff)) * 1099511628211ULL;
#if defined(__GLIBC__) && defined(__x86_64__)
            const float t = tanhf(0.79788456080286535587989211986876f * hv * fmaf(0.044715f * hv, hv, 1.0f));
            const float e = plm_f16_to_f32(plm_f32_to_f16(0.5f * hv * (1.0f + t)));
            if (memcmp(&g, &e, 4) && bad < 3) bad++, fail("gelu table entry for %a: %a, ggml's formula %a", (double)hv, (double)g, (double)e);
#endif
        }
        CHECK(!bad && h == GELU_TABLE, "gelu table hash %016llx, recorded %016llx", (unsigned long long)h,
              (unsigned long long)GELU_TABLE);
        float g[6] = {-10.0f, -10.5f, 10.0f, 12.0f, 0.0f, 1.0f}, u[6] = {2, 2, 2, 2, 2, 3};
        plm_kernels_scalar.gelu_mul(g, u, 6);
        CHECK(g[0] == 0 && g[1] == 0 && g[2] == 20.0f && g[3] == 24.0f && g[4] == 0 &&
              g[5] == plm_f16_to_f32(plm_f32_to_f16(0.5f * (1.0f + tanhf(0.79788456080286535587989211986876f * fmaf(0.044715f, 1.0f, 1.0f))))) * 3.0f,
              "gelu_mul cut-offs at -10 and 10");
    }
    /* silu_mul: ggml's vector expf for the first n & ~15 elements, glibc's for the rest */
    {
        float g[20], u[20], g0[20];
        for (int i = 0; i < 20; i++) g0[i] = g[i] = (float)(i - 9) * 0.37f + 0.011f, u[i] = 1.0f + (float)i * 0.01f;
        plm_kernels_scalar.silu_mul(g, u, 20);
        int ok = 1;
        for (int i = 0; i < 20; i++) {
            const float e = i < 16 ? plm_expf_ggml(-g0[i]) : plm_expf_glibc(-g0[i]);
            ok &= g[i] == (g0[i] / (1.0f + e)) * u[i];
        }
        CHECK(ok, "silu_mul: vector/tail expf split");
    }
    /* rope: theta iterated in float, divided by the pair's factor, then scaled; rotation fma(x0, c, -(x1*s)),
     * fma(x0, s, x1*c), both modes */
    {
        const float ff[4] = { 1.0f, 1.5f, 3.1f, 8.0f };
        for (int neox = 0; neox < 2; neox++)
            for (int f = 0; f < 2; f++) {
                float x[8], r[8];
                for (int i = 0; i < 8; i++) x[i] = r[i] = 0.3f * (float)i - 1.1f;
                plm_kernels_scalar.rope(r, 8, 7, 10000.0f, 0.5f, f ? ff : NULL, neox);
                const float ts = powf(10000.0f, -2.0f / 8.0f);
                float th = 7.0f;
                int ok = 1;
                for (int i = 0; i < 4; i++, th *= ts) {
                    const int i0 = neox ? i : 2 * i, i1 = neox ? i + 4 : 2 * i + 1;
                    const float t = 0.5f * (f ? th / ff[i] : th);
                    const float c = cosf(t), sn = sinf(t);
                    ok &= r[i0] == fmaf(x[i0], c, -(x[i1] * sn)) && r[i1] == fmaf(x[i0], sn, x[i1] * c);
                }
                CHECK(ok, "rope (neox=%d, factors=%d): fused rotation", neox, f);
            }
    }
    /* float matmul orders: vec_dot_f32's tail rule, red16, and F32_TB switching to tinyBLAS at nb >= 2 */
    {
        enum { N = 100 };
        float w[N], a[2 * N];
        for (int i = 0; i < N; i++) w[i] = rnds(), a[i] = rnds(), a[N + i] = rnds();
        float acc[4][16] = { { 0 } }, v[16], t[8];
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 16; l++) acc[j][l] = fmaf(w[16 * j + l], a[16 * j + l], 0.0f);
        for (int l = 0; l < 16; l++) v[l] = (acc[0][l] + acc[2][l]) + (acc[1][l] + acc[3][l]);
        for (int l = 0; l < 8; l++) t[l] = v[l] + v[l + 8];
        float want = ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
        for (int i = 64; i < 96; i++) want += w[i] * a[i]; /* 36 left: 32 unfused, 4 fused (GCC's tail) */
        for (int i = 96; i < N; i++) want = fmaf(w[i], a[i], want);
        float got[2];
        plm_kernels_scalar.matmul(PLM_T_F32, N, w, sizeof w, 1, a, N * sizeof(float), 1, got, 1);
        CHECK(got[0] == want, "F32 vec_dot order: %a want %a", (double)got[0], (double)want);
        plm_kernels_scalar.matmul(PLM_T_F32_TB, N, w, sizeof w, 1, a, N * sizeof(float), 1, got, 1);
        CHECK(got[0] == want, "F32_TB with nb == 1 is vec_dot: %a want %a", (double)got[0], (double)want);
        float tb[16] = { 0 }; /* n = 96: tinyBLAS for nb >= 2 */
        for (int i = 0; i < 96; i += 16)
            for (int l = 0; l < 16; l++) tb[l] = fmaf(w[i + l], a[N + i + l], tb[l]);
        for (int l = 0; l < 8; l++) t[l] = tb[l] + tb[l + 8];
        want = ((t[0] + t[4]) + (t[2] + t[6])) + ((t[1] + t[5]) + (t[3] + t[7]));
        plm_kernels_scalar.matmul(PLM_T_F32_TB, 96, w, sizeof w, 1, a, N * sizeof(float), 2, got, 1);
        CHECK(got[1] == want, "F32_TB with nb == 2 is tinyBLAS: %a want %a", (double)got[1], (double)want);
    }
    /* Q4_0_R8 and Q4_K_R8: the repacked orders, from integer dots computed here */
    {
        uint8_t w[3 * sizeof(block_q4_0)], a[3 * sizeof(block_q8_0)];
        for (size_t i = 0; i < sizeof w; i++) w[i] = (uint8_t)rnd32();
        for (size_t i = 0; i < sizeof a; i++) a[i] = (uint8_t)rnd32();
        float want = 0.0f;
        for (int b = 0; b < 3; b++) {
            uint8_t *wb = w + b * sizeof(block_q4_0), *ab = a + b * sizeof(block_q8_0);
            put_h(wb, 0.01f * (float)(b + 1)), put_h(ab, 0.3f / (float)(b + 2));
            int s = 0;
            for (int j = 0; j < 32; j++)
                s += ((j < 16 ? wb[2 + j] & 15 : wb[2 + j - 16] >> 4) - 8) * (int8_t)ab[2 + j];
            want = fmaf((float)s, plm_f16_to_f32(plm_f32_to_f16(0.01f * (float)(b + 1))) *
                                      plm_f16_to_f32(plm_f32_to_f16(0.3f / (float)(b + 2))), want);
        }
        float got = 0;
        plm_kernels_scalar.matmul(PLM_T_Q4_0_R8, 96, w, sizeof w, 1, a, sizeof a, 1, &got, 1);
        CHECK(got == want, "Q4_0_R8 order: %a want %a", (double)got, (double)want);
    }
    {
        static uint8_t w[2 * sizeof(block_q4_K)], a[5][2 * sizeof(block_q8_K)];
        make_weight_row(PLM_T_Q4_K, 2 * QK_K, w, 0);
        for (int r = 0; r < 5; r++) make_act_row(PLM_T_Q4_K, 2 * QK_K, a[r], 0, r);
        float got[5];
        plm_kernels_scalar.matmul(PLM_T_Q4_K_R8, 2 * QK_K, w, sizeof w, 1, a, sizeof a[0], 5, got, 1);
        int ok = 1;
        for (int r = 0; r < 5; r++) { /* rows 0..3: gemm (fma per 64-value pair), row 4: gemv (fma per block) */
            float acc = 0.0f, accm = 0.0f;
            for (int b = 0; b < 2; b++) {
                const uint8_t *wb = w + b * sizeof(block_q4_K), *ab = a[r] + b * sizeof(block_q8_K);
                const uint8_t *sc = wb + 4, *q4 = wb + 16;
                const int8_t *q8 = (const int8_t *)(ab + 4);
                int16_t bs[16];
                memcpy(bs, ab + 260, sizeof bs);
                float dy;
                memcpy(&dy, ab, 4);
                const float d = plm_f16_to_f32((plm_f16)(wb[0] | wb[1] << 8)) * dy;
                const float dm = plm_f16_to_f32((plm_f16)(wb[2] | wb[3] << 8)) * dy;
                int si = 0, sm = 0;
                for (int p = 0; p < 4; p++) {
                    int pi = 0, pm = 0;
                    for (int j = 2 * p; j < 2 * p + 2; j++) {
                        const int scj = j < 4 ? sc[j] & 63 : (sc[j + 4] & 15) | ((sc[j - 4] >> 6) << 4);
                        const int mnj = j < 4 ? sc[j + 4] & 63 : (sc[j + 4] >> 4) | ((sc[j] >> 6) << 4);
                        int dot = 0;
                        for (int e = 0; e < 32; e++) dot += (j % 2 ? q4[32 * p + e] >> 4 : q4[32 * p + e] & 15) * q8[32 * j + e];
                        pi += scj * dot, pm += mnj * (bs[2 * j] + bs[2 * j + 1]);
                    }
                    if (r < 4) acc = fmaf((float)pi, d, acc), accm = fmaf((float)pm, dm, accm);
                    si += pi, sm += pm;
                }
                if (r == 4) acc = fmaf((float)si, d, acc), accm = fmaf((float)sm, dm, accm);
            }
            ok &= got[r] == acc - accm;
        }
        CHECK(ok, "Q4_K_R8 orders (gemm rows 0..3, gemv row 4)");
    }
    /* kernel variants answer plm_type like their base types */
    CHECK(plm_type(PLM_T_Q4_0_R8)->blck == QK4_0 && plm_type(PLM_T_Q4_0_R8)->act_type == PLM_T_Q8_0 &&
              plm_type(PLM_T_Q4_K_R8)->act_type == PLM_T_Q8_K && plm_row_size(PLM_T_F16_TB, 3) == 6 &&
              plm_row_size(PLM_T_F32_TB, 5) == 20 && PLM_T_BASE(PLM_T_Q4_K_R8) == PLM_T_Q4_K && PLM_T_VARIANT >= PLM_T_COUNT,
          "kernel variants in plm_type");
    /* type table */
    CHECK(plm_row_size(PLM_T_Q4_0, 64) == 36 && plm_row_size(PLM_T_Q8_0, 32) == 34 &&
              plm_row_size(PLM_T_Q4_K, 512) == 288 && plm_row_size(PLM_T_Q6_K, 256) == 210 &&
              plm_row_size(PLM_T_Q8_K, 256) == 292 && plm_row_size(PLM_T_F16, 3) == 6 &&
              plm_row_size(PLM_T_F32, 5) == 20,
          "plm_row_size");
    CHECK(plm_row_size(PLM_T_Q4_0, 33) == 0 && plm_row_size(16, 256) == 0 && plm_row_size(99, 32) == 0,
          "plm_row_size of unsupported");
    CHECK(plm_row_size(PLM_T_Q5_K, 512) == 352 && plm_row_size(PLM_T_Q3_K, 256) == 110 &&
              plm_row_size(PLM_T_Q2_K, 256) == 84 && plm_row_size(PLM_T_IQ4_XS, 256) == 136 &&
              plm_row_size(PLM_T_IQ4_NL, 64) == 36 && plm_row_size(PLM_T_Q4_1, 32) == 20 &&
              plm_row_size(PLM_T_Q5_0, 32) == 22 && plm_row_size(PLM_T_Q5_1, 64) == 48 &&
              plm_row_size(PLM_T_BF16, 3) == 6 && plm_row_size(PLM_T_Q8_1, 32) == 36,
          "plm_row_size of the other quantizer types");
    CHECK(strcmp(plm_type(PLM_T_Q5_K)->name, "q5_K") == 0 && plm_type(16)->blck == 0 &&
              strcmp(plm_type(PLM_T_BF16)->name, "bf16") == 0 && plm_type(-1) && plm_type(1000)->blck == 0,
          "plm_type names");
    CHECK(plm_type(PLM_T_Q4_0)->act_type == PLM_T_Q8_0 && plm_type(PLM_T_Q8_0)->act_type == PLM_T_Q8_0 &&
              plm_type(PLM_T_Q4_K)->act_type == PLM_T_Q8_K && plm_type(PLM_T_Q6_K)->act_type == PLM_T_Q8_K &&
              plm_type(PLM_T_F16)->act_type == PLM_T_F16 && plm_type(PLM_T_F32)->act_type == PLM_T_F32,
          "act types");
    CHECK(plm_kern() != NULL && plm_kern()->matmul != NULL, "plm_kern");
}

/* ---------------------------------------------------------------- weight quantizers */
static void test_weight_roundtrip(void) {
    cur_fail = 0;
    const int n = 8192;
    float *x = xmalloc(n * 4), *y = xmalloc(n * 4);
    uint8_t *q = xmalloc(plm_row_size(PLM_T_F32, n)), *q2 = xmalloc(plm_row_size(PLM_T_F32, n));
    for (int flavor = 0; flavor < 3; flavor++) {
        for (int i = 0; i < n; i++)
            x[i] = flavor == 0 ? rndn() * 0.02f : flavor == 1 ? rnds() : rndn() * (rndu() < 0.002f ? 10.0f : 1.0f);
        if (flavor == 2)
            for (int i = 512; i < 1024; i++) x[i] = 0.0f; /* all-zero blocks / super-blocks */
        double rx = 0;
        for (int i = 0; i < n; i++) rx += (double)x[i] * x[i];
        rx = sqrt(rx / n);
        for (int t = 0; t < N_WTYPES; t++) {
            const int type = wtypes[t];
            const size_t bytes = plm_quantize_weights(type, x, q, n);
            CHECK(bytes == plm_row_size(type, n), "quantize %s returned %zu bytes", plm_type(type)->name, bytes);
            /* deterministic */
            plm_quantize_weights(type, x, q2, n);
            CHECK(memcmp(q, q2, bytes) == 0, "quantize %s not deterministic", plm_type(type)->name);
            plm_dequantize_row(type, q, y, n);
            double se = 0, maxrel = 0;
            const int blk = plm_type(type)->blck == QK_K ? QK_K : 32;
            for (int b0 = 0; b0 < n; b0 += blk) {
                float amax = 0;
                for (int i = b0; i < b0 + blk; i++) amax = fmaxf(amax, fabsf(x[i]));
                for (int i = b0; i < b0 + blk; i++) {
                    const double e = fabs((double)y[i] - x[i]);
                    se += e * e;
                    if (amax > 0) maxrel = fmax(maxrel, e / amax);
                    else if (e != 0) maxrel = 1e9;
                }
            }
            const double rmse = sqrt(se / n) / rx;
            /* bounds: max error relative to the block's largest magnitude, and RMS error relative to RMS(x).
             * Q8_0: d/2 (+ f16 rounding of d); Q4_0: one step d = amax/8 at the clamped end; K-quants: measured
             * with ggml's reference quantizer, with margin. */
            double max_bound = 0, rms_bound = 0;
            switch (type) {
            case PLM_T_F32: max_bound = 0; rms_bound = 0; break;
            case PLM_T_F16: max_bound = 1.0 / 2048; rms_bound = 1.0 / 2048; break;
            case PLM_T_Q8_0: max_bound = 0.5 / 127 * 1.13; rms_bound = 0.012; break;
            case PLM_T_Q4_0: max_bound = 1.0 / 8 * 1.01; rms_bound = 0.15; break;
            case PLM_T_Q4_K: max_bound = 0.20; rms_bound = 0.11; break;
            case PLM_T_Q6_K: max_bound = 0.045; rms_bound = 0.025; break;
            /* the other quantizers: half a step of their grids (Q5_0: a step at the clamped end), with margin */
            case PLM_T_BF16: max_bound = 1.0 / 256; rms_bound = 1.0 / 256; break;
            case PLM_T_Q5_0: max_bound = 1.0 / 16 * 1.01; rms_bound = 0.06; break;
            case PLM_T_Q4_1: max_bound = 2.0 / 30 * 1.05; rms_bound = 0.09; break;
            case PLM_T_Q5_1: max_bound = 2.0 / 62 * 1.05; rms_bound = 0.04; break;
            case PLM_T_IQ4_NL: max_bound = 0.12; rms_bound = 0.09; break;
            case PLM_T_IQ4_XS: max_bound = 0.2; rms_bound = 0.1; break;
            case PLM_T_Q5_K: max_bound = 0.1; rms_bound = 0.06; break;
            case PLM_T_Q3_K: max_bound = 0.4; rms_bound = 0.2; break;
            case PLM_T_Q2_K: max_bound = 0.6; rms_bound = 0.4; break;
            }
            CHECK(maxrel <= max_bound && rmse <= rms_bound,
                  "round trip %s flavor %d: max err %.4g of block amax (bound %.4g), rmse %.4g of rms (bound %.4g)",
                  plm_type(type)->name, flavor, maxrel, max_bound, rmse, rms_bound);
            if (getenv("PLM_TEST_VERBOSE"))
                printf("  %-5s flavor %d: max err/amax %.4f  rmse/rms %.4f\n", plm_type(type)->name, flavor, maxrel,
                       rmse);
        }
    }
    /* Q8_0 weights use ggml's reference quantizer (llama-quantize): q = roundf(x / d), ties away from zero */
    {
        float xb[32];
        for (int i = 0; i < 32; i++) xb[i] = i == 0 ? -127.0f : (float)(i - 16) + 0.5f;
        uint8_t b[34];
        plm_quantize_weights(PLM_T_Q8_0, xb, b, 32);
        int ok = plm_f16_to_f32((plm_f16)(b[0] | (b[1] << 8))) == 1.0f;
        for (int i = 1; i < 32; i++) ok &= (int8_t)b[2 + i] == (int)roundf(xb[i]);
        CHECK(ok, "Q8_0 weight quantizer ties");
    }
    /* Q4_0 reference behaviour: the largest-magnitude value maps to -8 exactly (d = max / -8) */
    {
        float xb[32];
        for (int i = 0; i < 32; i++) xb[i] = (float)i / 31.0f;
        uint8_t b[18];
        plm_quantize_weights(PLM_T_Q4_0, xb, b, 32);
        float yb[32];
        plm_dequantize_row(PLM_T_Q4_0, b, yb, 32);
        CHECK((b[2 + 15] >> 4) == 0 && yb[31] == plm_f16_to_f32(plm_f32_to_f16(-1.0f / 8)) * -8.0f,
              "Q4_0 max maps to -8: nibble %d, y %g", b[2 + 15] >> 4, (double)yb[31]);
    }
    /* unsupported types produce nothing */
    CHECK(plm_quantize_weights(16 /* IQ2_XXS */, x, q, 256) == 0 && plm_quantize_weights(PLM_T_Q4_0, x, q, 31) == 0,
          "quantize unsupported");
    free(x), free(y), free(q), free(q2);
}

/* ---------------------------------------------------------------- backend layouts (plm_kernels.repack)
 * A repacked matrix must give, bit for bit, what the scalar reference computes from the file's layout; matrices
 * the backend leaves alone (rows not a multiple of 8, other types) must come back unchanged. */
static void test_repack(const plm_kernels *k) {
    if (!k->repack) return;
    cur_fail = 0;
    static const int ns[] = { 256, 512, 4096 }, nrs[] = { 8, 16, 24, 40 };
    static const int types[] = { PLM_T_Q4_0_R8, PLM_T_Q4_K_R8, PLM_T_Q8_0 };
    for (size_t it = 0; it < sizeof types / sizeof types[0]; it++)
    for (size_t in = 0; in < sizeof ns / sizeof ns[0]; in++)
        for (size_t ir = 0; ir < sizeof nrs / sizeof nrs[0]; ir++)
            for (int nb = 1; nb <= 9; nb += (nb < 5 ? 1 : 4)) {
                const int n = ns[in], nr = nrs[ir], type = types[it], at = plm_type(type)->act_type;
                const size_t ws = plm_row_size(type, n), as = plm_row_size(at, n);
                uint8_t *w = xmalloc(ws * (size_t)nr), *w2 = xmalloc(ws * (size_t)nr), *a = xmalloc(as * (size_t)nb);
                for (int r = 0; r < nr; r++) make_weight_row(type, n, w + (size_t)r * ws, 0);
                for (int b = 0; b < nb; b++) make_act_row(type, n, a + (size_t)b * as, 0, b);
                /* a -128 quant (the quantizer makes none): the fast Q8_0_X8 tile's other path. (x86's Q8_0 kernel, like
                 * llama.cpp's sign trick, negates it to -128 against a negative weight: only the fast tables here.) */
                if (cur_fast && type == PLM_T_Q8_0 && nb >= 2) a[as + 2 + 5] = 0x80;
                memcpy(w2, w, ws * (size_t)nr);
                float *ref = xmalloc((size_t)nr * nb * sizeof(float)), *got = xmalloc((size_t)nr * nb * sizeof(float));
                plm_kernels_scalar.matmul(type, n, w, ws, nr, a, as, nb, ref, (size_t)nr);
                const int t = k->repack(type, w2, n, nr);
                k->matmul(t, n, w2, ws, nr, a, as, nb, got, (size_t)nr);
                if (cur_fast) { /* the fast bound (header), against each output's sum of |products| */
                    float *wf = xmalloc((size_t)n * 4), *af = xmalloc((size_t)n * 4);
                    int ok = 1;
                    for (int b = 0; b < nb && ok; b++) {
                        act_to_float(at, a + (size_t)b * as, af, n);
                        for (int r = 0; r < nr && ok; r++) {
                            plm_dequantize_row(PLM_T_BASE(type), w + (size_t)r * ws, wf, n);
                            double mag = 0;
                            for (int i = 0; i < n; i++) mag += fabs((double)wf[i] * af[i]);
                            ok = close_to(got[(size_t)b * nr + r], ref[(size_t)b * nr + r], mag, fast_rel(n), 1e-6);
                        }
                    }
                    CHECK(ok, "%s repacked %s n=%d nr=%d nb=%d beyond the fast bound", k->name, plm_type(t)->name, n,
                          nr, nb);
                    free(wf), free(af);
                    if (ok) memcpy(ref, got, (size_t)nr * nb * sizeof(float)); /* the group check: the same outputs */
                } else {
                    CHECK(memcmp(ref, got, (size_t)nr * nb * sizeof(float)) == 0, "%s repacked %s n=%d nr=%d nb=%d differs",
                          k->name, plm_type(t)->name, n, nr, nb);
                }
                /* threads take groups of 8 rows: a group on its own gives the same outputs */
                if (t != type && nr > 8) {
                    k->matmul(t, n, w2 + 8 * ws, ws, nr - 8, a, as, nb, got + 8, (size_t)nr);
                    CHECK(memcmp(ref, got, (size_t)nr * nb * sizeof(float)) == 0, "%s repacked, from row 8", k->name);
                }
                free(w), free(w2), free(a), free(ref), free(got);
            }
    uint8_t w[18 * 4 * 12];
    memset(w, 0x37, sizeof w);
    CHECK(k->repack(PLM_T_Q4_0_R8, w, 128, 12) == PLM_T_Q4_0_R8 && k->repack(PLM_T_Q8_0, w, 32, 12) == PLM_T_Q8_0,
          "%s repack: matrices it cannot take come back as they were", k->name);
    int same = 1;
    for (size_t i = 0; i < sizeof w; i++) same &= w[i] == 0x37;
    CHECK(same, "%s repack changed a matrix it did not take", k->name);
}

/* ---------------------------------------------------------------- fma where the target has none
 * Emulating fma(x, y, z) by one rounding to double and one to float goes wrong exactly when the double lands on a
 * float midpoint that the exact sum is not on. The cases here put the exact sum 2^-30 of a half-ulp beside such a
 * midpoint: above the one between 2^20 and 2^20 + 2^-3 (even: fma rounds up, double rounding ties down to 2^20),
 * and below the one between 2^20 + 2^-3 and 2^20 + 2^-2 (odd: fma rounds down, double rounding ties up). The
 * products are (2^30 + 1) * 2^-34 = 80581 * 13325 * 2^-34 = (1321 * 2^-17) * (1525 * 2^-17) * 533 and
 * (2^30 - 1) * 2^-34 = 49981 * 21483 * 2^-34 = (993 * 2^-17) * (1661 * 2^-17) * 651: float operands, or two half
 * scales times an integer dot, as the kernels see them. Every backend must give fma's answer. */
static const float DR_LO = 1048576.0f, DR_ODD = 1048576.125f; /* 2^20, 2^20 + 2^-3 */

static float dr_naive(float x, float y, float z) { return (float)((double)x * (double)y + (double)z); }

/* The reference for random operands: fmaf natively (glibc: exact). wasi-libc's fmaf gets some double-rounding cases
 * wrong (the odd case below), so under wasm the reference is binary128 arithmetic (long double there): the product
 * is exact in its 113 bits, and a sum rounded there lands on a float midpoint it is not on with a chance of about
 * 2^-89 per random sample. */
static float ref_fmaf(float x, float y, float z) {
#ifdef __wasm__
    return (float)((long double)x * (long double)y + (long double)z);
#else
    return fmaf(x, y, z);
#endif
}

static void test_fmaf_emulation(void) {
    cur_fail = 0;
    /* volatile: the compiler must not fold these (it folds fma exactly) */
    volatile float xe = 80581 * 0x1p-17f, ye = 13325 * 0x1p-17f, xo = 49981 * 0x1p-17f, yo = 21483 * 0x1p-17f;
    /* float's subnormal range: 2^-127 + (2^32 + 1) * 2^-182 = (2^22 + 1/2 + 2^-32) * 2^-149 -> (2^22 + 1) * 2^-149 */
    volatile float xs = 641 * 0x1p-91f, ys = 6700417 * 0x1p-91f, zs = 0x1p-127f;
    const float want_s = 0x1.000004p-127f;
    /* the cases bite: double rounding gets each one wrong */
    CHECK(dr_naive(xe, ye, DR_LO) == DR_LO && dr_naive(xo, yo, DR_ODD) == 1048576.25f && dr_naive(xs, ys, zs) == zs,
          "double-rounding cases");
    for (int sg = 1; sg >= -1; sg -= 2) {
        const float s = (float)sg;
        CHECK(plm_fmaf(s * xe, ye, s * DR_LO) == s * DR_ODD, "plm_fmaf (even case, sign %d)", sg);
        CHECK(plm_fmaf(s * xo, yo, s * DR_ODD) == s * DR_ODD, "plm_fmaf (odd case, sign %d)", sg);
        CHECK(plm_fmaf(s * xs, ys, s * zs) == s * want_s, "plm_fmaf (subnormal case, sign %d)", sg);
        CHECK(ref_fmaf(s * xo, yo, s * DR_ODD) == s * DR_ODD && ref_fmaf(s * xs, ys, s * zs) == s * want_s,
              "reference fmaf (sign %d)", sg);
    }
    /* random operands over the whole exponent range (subnormal results, overflow, inf and NaN among them), and
     * products near 1 */
    for (int i = 0; i < 300000; i++) {
        uint32_t u[3];
        float f[3];
        for (int j = 0; j < 3; j++) {
            u[j] = rnd32();
            if (j < 2 && (i & 1)) u[j] = (u[j] & 0x80ffffffu) | ((uint32_t)rndi(70, 150) << 23);
            memcpy(&f[j], &u[j], 4);
        }
        const float got = plm_fmaf(f[0], f[1], f[2]), want = ref_fmaf(f[0], f[1], f[2]);
        if (isnan(want)) CHECK(isnan(got), "plm_fmaf(%a, %a, %a) = %a, want NaN", f[0], f[1], f[2], got);
        else CHECK(memcmp(&got, &want, 4) == 0, "plm_fmaf(%a, %a, %a) = %a, want %a", f[0], f[1], f[2], got, want);
    }
}

/* Q8_0 / Q4_0 rows of 32-value blocks: block i has scales dw[i], da[i] and integer dot s[i] in lane 0, made of
 * the products w[i][j] * a[i][j], j < 2 (values 0 elsewhere) */
static void dr_q0_rows(int q4, int nblk, const float *dw, const float *da, const int (*w)[2], const int (*a)[2],
                       uint8_t *wr, uint8_t *ar) {
    const size_t wb = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
    for (int i = 0; i < nblk; i++) {
        uint8_t *pw = wr + (size_t)i * wb, *pa = ar + (size_t)i * sizeof(block_q8_0);
        memset(pa, 0, sizeof(block_q8_0));
        put_h(pw, dw[i]), put_h(pa, da[i]);
        if (q4) {
            memset(pw + 2, 0x88, 16); /* value 0 in both nibbles */
            for (int j = 0; j < 2; j++) pw[2 + j] = (uint8_t)(0x80 | (w[i][j] + 8));
        } else {
            memset(pw + 2, 0, 32);
            for (int j = 0; j < 2; j++) pw[2 + j] = (uint8_t)(int8_t)w[i][j];
        }
        for (int j = 0; j < 2; j++) pa[2 + j] = (uint8_t)(int8_t)a[i][j];
    }
}

static void test_double_rounding(const plm_kernels *k) {
    cur_fail = 0;
    /* 2^20 (65536 * 16), [+ 2^-3,] then the tiny product */
    static const float dw_e[] = { 1024, 1321 * 0x1p-17f }, da_e[] = { 64, 1525 * 0x1p-17f };
    static const float dw_o[] = { 1024, 1, 993 * 0x1p-17f }, da_o[] = { 64, 0.125f, 1661 * 0x1p-17f };
    static const int w8_e[][2] = { { 4, 0 }, { 13, 0 } }, a8_e[][2] = { { 4, 0 }, { 41, 0 } };
    static const int w8_o[][2] = { { 4, 0 }, { 1, 0 }, { 21, 0 } }, a8_o[][2] = { { 4, 0 }, { 1, 0 }, { 31, 0 } };
    static const int w4_e[][2] = { { 4, 0 }, { 7, 1 } }, a4_e[][2] = { { 4, 0 }, { 76, 1 } }; /* 533 = 7*76 + 1 */
    static const int w4_o[][2] = { { 4, 0 }, { 1, 0 }, { 7, 0 } }, a4_o[][2] = { { 4, 0 }, { 1, 0 }, { 93, 0 } };
    static const int types[] = { PLM_T_Q8_0, PLM_T_Q4_0, PLM_T_Q4_0_R8 };
    uint8_t wr[3 * 34], ar[3 * 34];
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        const int q4 = types[t] != PLM_T_Q8_0;
        const size_t wb = q4 ? sizeof(block_q4_0) : sizeof(block_q8_0);
        float out[2];
        dr_q0_rows(q4, 2, dw_e, da_e, q4 ? w4_e : w8_e, q4 ? a4_e : a8_e, wr, ar);
        k->matmul(types[t], 64, wr, 2 * wb, 1, ar, 2 * sizeof(block_q8_0), 1, out, 1);
        CHECK(out[0] == DR_ODD, "%s %s double rounding (even case): %.9g", k->name, plm_type(types[t])->name, out[0]);
        dr_q0_rows(q4, 3, dw_o, da_o, q4 ? w4_o : w8_o, q4 ? a4_o : a8_o, wr, ar);
        k->matmul(types[t], 96, wr, 3 * wb, 1, ar, 3 * sizeof(block_q8_0), 1, out, 1);
        CHECK(out[0] == DR_ODD, "%s %s double rounding (odd case): %.9g", k->name, plm_type(types[t])->name, out[0]);
    }
    /* F32: lane 0 of the plain kernels (and dot_f32) sums elements 0, 64, ...; of *_TB with nb >= 2, 0, 16, ... */
    float w[128], a[2][128], out[2];
    for (int c = 0; c < 2; c++) {
        const float z = c ? DR_ODD : DR_LO, x = c ? 49981 * 0x1p-17f : 80581 * 0x1p-17f;
        const float y = c ? 21483 * 0x1p-17f : 13325 * 0x1p-17f;
        for (int tb = 0; tb < 2; tb++) {
            memset(w, 0, sizeof w), memset(a, 0, sizeof a);
            w[0] = z, a[0][0] = a[1][0] = 1;
            w[tb ? 16 : 64] = x, a[0][tb ? 16 : 64] = a[1][tb ? 16 : 64] = y;
            const int nb = tb ? 2 : 1;
            k->matmul(tb ? PLM_T_F32_TB : PLM_T_F32, 128, w, sizeof w, 1, a, sizeof a[0], nb, out, 1);
            for (int b = 0; b < nb; b++)
                CHECK(out[b] == DR_ODD, "%s %s double rounding (case %d): %.9g", k->name, tb ? "f32_tb" : "f32", c,
                      out[b]);
            if (!tb) CHECK(k->dot_f32(w, a[0], 128) == DR_ODD, "%s dot_f32 double rounding (case %d)", k->name, c);
        }
    }
}

int main(void) {
    test_f16_exhaustive();
    test_known_answers();
    test_fmaf_emulation();
    test_weight_roundtrip();
    int ran = 0;
    for (size_t i = 0; i < sizeof backends / sizeof backends[0]; i++) {
        const plm_kernels *k = backends[i].k;
        if (!backends[i].usable()) {
            printf("skip backend %s: not selected by plm_kern() (CPU lacks it, or PLM_BACKEND=scalar)\n", k->name);
            continue;
        }
        const int before = n_fail;
        cur_float_exact = backends[i].float_exact;
        cur_fast = backends[i].fast;
        test_quantize_row(k);
        test_matmul(k);
        test_float_kernels(k);
        if (!cur_fast) test_double_rounding(k);
        test_repack(k);
        printf("backend %-8s %s\n", k->name, n_fail == before ? "ok" : "FAILED");
        ran++;
    }
    printf("test_kernels: %d passed, %d failed (%d backends, default %s)\n", n_pass, n_fail, ran, plm_kern()->name);
    return n_fail ? 1 : 0;
}
