/* The libm float functions llama.cpp's forward pass calls, computed as x86-64 glibc computes them, bit for bit, on
 * every platform. llama.cpp's reference outputs were recorded on x86-64 glibc; WebAssembly's libc (musl's maths)
 * and other platforms' libms round differently in the last bit for some arguments, and a greedy decode can flip on
 * one such bit (gemma3-tiny did, through RoPE's cos and sin).
 *
 * The algorithm is glibc's (sysdeps/ieee754/flt-32, which took it from Arm's optimized-routines, Szabolcs Nagy,
 * 2018): the argument is widened to double, reduced, and a short polynomial is evaluated in double with one final
 * rounding to float. glibc on x86-64 runs the copy it compiled with -mfma on every CPU that has FMA (the dynamic
 * loader's choice): there GCC fuses each multiply feeding an add. Where the steps below are computed differently
 * (unfused, or split), the comments say why that changes no result; tests/c/test_libm.c holds every build to
 * glibc's results. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "simd.h"

static inline uint32_t f2u(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }

/* ---- sin and cos (glibc's sinf/cosf/sincosf: s_sincosf.h, s_sincosf_data.c) ----
 * |x| < pi/4: the polynomials directly. |x| < 120: n = nearest integer to x*2/pi, r = x - n*pi/2 in one fused
 * step (pi/2 as a double is good to 55 bits, enough below 120). Larger: the exact product of the 24-bit mantissa
 * with 96 bits of 4/pi taken at the exponent's position, in 2.62 fixed point, gives n and r. Odd quadrants swap
 * the sine and cosine polynomials; quadrants 2 and 3 negate them. */

/* Sine: x + s1 x^3 + s2 x^5 + s3 x^7; cosine: 1 + c1 x^2 + ... + c4 x^8 (glibc's minimax coefficients). */
static const double SC_C1 = -0x1.ffffffd0c621cp-2, SC_C2 = 0x1.55553e1068f19p-5, SC_C3 = -0x1.6c087e89a359dp-10,
                    SC_C4 = 0x1.99343027bf8c3p-16;
static const double SC_S1 = -0x1.555545995a603p-3, SC_S2 = 0x1.1107605230bc4p-7, SC_S3 = -0x1.994eb3774cf24p-13;

/* glibc fuses the multiply-adds below; fused or not, the float results are the same on all 2^32 arguments (both
 * forms checked against glibc's, exhaustively): fused where the instruction is there, plain elsewhere rather than
 * through libm's fma, which on baseline x86-64 is a call and on WebAssembly slow integer code. */
#if defined(__FMA__) || defined(__ARM_FEATURE_FMA) || defined(__aarch64__)
#define LFMA(a, b, c) fma(a, b, c)
#else
#define LFMA(a, b, c) ((a) * (b) + (c))
#endif

/* The polynomials of the reduced argument x (x2 = x*x). glibc flips signs by negating x or every cosine
 * coefficient, both exact, so negating these results is the same. */
static float sin_poly(double x, double x2) {
    const double x3 = x * x2, x7 = x3 * x2;
    const double s1 = LFMA(x2, SC_S3, SC_S2), s = LFMA(x3, SC_S1, x);
    return (float)LFMA(x7, s1, s);
}

static float cos_poly(double x2) {
    const double x4 = x2 * x2, x6 = x4 * x2;
    const double c2 = LFMA(x2, SC_C4, SC_C3), c1 = LFMA(x2, SC_C1, 1.0), c = LFMA(x4, SC_C2, c1);
    return (float)LFMA(x6, c2, c);
}

/* 4/pi in binary, 192 bits: the window of 32 bits ending at byte i is inv_pio4(i) (zeros before the point). */
static const uint8_t FOUR_OVER_PI[24] = {0xa2, 0xf9, 0x83, 0x6e, 0x4e, 0x44, 0x15, 0x29, 0xfc, 0x27, 0x57, 0xd1,
                                         0xf5, 0x34, 0xdd, 0xc0, 0xdb, 0x62, 0x95, 0x99, 0x3c, 0x43, 0x90, 0x41};
static uint32_t inv_pio4(int i) {
    uint32_t w = 0;
    for (int b = i - 3; b <= i; b++) w = w << 8 | (b >= 0 ? FOUR_OVER_PI[b] : 0);
    return w;
}

/* |x| >= 120 (xi its bits; the sign is ignored): quadrant into *np, the remainder in radians returned. */
static double reduce_large(uint32_t xi, int *np) {
    const int k = (int)(xi >> 26) & 15, shift = (int)(xi >> 23) & 7;
    const uint32_t m = ((xi & 0xffffff) | 0x800000) << shift;
    uint64_t r0 = (uint32_t)(m * inv_pio4(k)); /* only its low 32 bits count */
    const uint64_t r1 = (uint64_t)m * inv_pio4(k + 4), r2 = (uint64_t)m * inv_pio4(k + 8);
    r0 = (r2 >> 32) | (r0 << 32);
    r0 += r1;
    const uint64_t n = (r0 + (1ull << 61)) >> 62;
    r0 -= n << 62;
    *np = (int)n;
    return (double)(int64_t)r0 * 0x1.921fb54442d18p-62; /* times 2pi / 2^64 */
}

void plm_sincosf_glibc(float y, float *sinp, float *cosp) {
    const uint32_t top = (f2u(y) >> 20) & 0x7ff;
    if (top >= 0x7f8) { *sinp = *cosp = y - y; return; } /* inf, NaN: NaN */
    double x = (double)y;
    int n = 0, q = 0; /* n: the quadrant, whose parity swaps sin and cos; q: the one that decides the signs */
    if (top < 0x398) { *sinp = y; *cosp = 1.0f; return; } /* |y| < 2^-12 */
    if (top < 0x3f4) {
        /* |y| < 0.75 (glibc's test compares the top 12 bits with pi/4's): no reduction */
    } else if (top < 0x42f) { /* |y| < 120 */
        /* n = x * 2/pi rounded, through the integer part of x * 2/pi * 2^24 (glibc's form without lround). glibc
         * then rounds x - n*pi/2 once (an fma). Here pi/2 = HI + LO with HI of 45 bits and LO of 2, so n*HI and n*LO
         * are exact for |n| <= 77, x - n*HI is exact (Sterbenz: the two are within a factor of 2), and the one
         * rounding left is the fma's: the same result with or without an fma instruction. */
        n = q = ((int32_t)(x * 0x1.45f306dc9c883p+23) + 0x800000) >> 24;
        x = (x - n * 0x1.921fb54442dp0) - n * 0x1.8p-48;
    } else {
        x = reduce_large(f2u(y), &n);
        q = n + (int)(f2u(y) >> 31); /* the remainder is |y|'s: a negative y shifts the signs by one quadrant */
    }
    const double x2 = x * x;
    const float s = sin_poly(x, x2), c = cos_poly(x2);
    const float sq = (q + 1) & 2 ? -s : s, cq = q & 2 ? -c : c;
    *sinp = n & 1 ? cq : sq;
    *cosp = n & 1 ? sq : cq;
}

/* ---- tanh (glibc 2.36's tanhf and expm1f: fdlibm's, Sun Microsystems 1993, in float arithmetic) ----
 * Every operation below is a float operation rounded once, in the order written; products go through mulf so
 * that no compiler fuses them with an add (GCC does by default on AArch64, which would change results). */
static inline float u2f(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }
static inline float mulf(float a, float b) { return (float)((double)a * (double)b); } /* exact in double */

/* e^x - 1: x = k ln2 + r with r in [-ln2/2, ln2/2] carried as hi - lo (c the rounding error of that
 * difference), a rational approximation of e^r - 1, then scaled by 2^k. */
static float expm1f_fdlibm(float x) {
    const float ln2_hi = 0x1.62e300p-1f, ln2_lo = 0x1.2fefa2p-17f, invln2 = 0x1.715476p+0f;
    const float Q1 = -0x1.111112p-5f, Q2 = 0x1.a01a02p-10f, Q3 = -0x1.4ce19ap-14f, Q4 = 0x1.0cfca8p-18f,
                Q5 = -0x1.afdb76p-23f;
    uint32_t hx = f2u(x);
    const int neg = (int)(hx >> 31);
    hx &= 0x7fffffff;
    if (hx >= 0x4195b844) { /* |x| >= 27 ln2 */
        if (hx > 0x7f800000) return x + x;
        if (hx == 0x7f800000) return neg ? -1.0f : x;
        if (hx >= 0x42b17218 && x > 0x1.62e300p+6f) return INFINITY;
        if (neg) return -1.0f;
    }
    float hi, lo, c = 0.0f;
    int k = 0;
    if (hx > 0x3eb17218) { /* |x| > ln2/2 */
        if (hx < 0x3f851592) { /* and < 3 ln2/2: k = +-1 */
            k = neg ? -1 : 1;
            hi = neg ? x + ln2_hi : x - ln2_hi;
            lo = neg ? -ln2_lo : ln2_lo;
        } else {
            k = (int)(mulf(invln2, x) + (neg ? -0.5f : 0.5f));
            const float t = (float)k;
            hi = x - mulf(t, ln2_hi); /* exact */
            lo = mulf(t, ln2_lo);
        }
        x = hi - lo;
        c = (hi - x) - lo;
    } else if (hx < 0x33000000) { /* |x| < 2^-25 */
        return x;
    }
    const float hfx = 0.5f * x, hxs = mulf(x, hfx);
    const float r1 = 1.0f + mulf(hxs, Q1 + mulf(hxs, Q2 + mulf(hxs, Q3 + mulf(hxs, Q4 + mulf(hxs, Q5)))));
    const float t = 3.0f - mulf(r1, hfx);
    float e = mulf(hxs, (r1 - t) / (6.0f - mulf(x, t)));
    if (k == 0) return x - (mulf(x, e) - hxs);
    e = mulf(x, e - c) - c;
    e -= hxs;
    if (k == -1) return 0.5f * (x - e) - 0.5f;
    if (k == 1) return x < -0.25f ? -2.0f * (e - (x + 0.5f)) : 1.0f + 2.0f * (x - e);
    float y;
    if (k <= -2 || k > 56) { /* exp(x) - 1 ~ exp(x) */
        y = 1.0f - (e - x);
        return u2f(f2u(y) + ((uint32_t)k << 23)) - 1.0f;
    }
    if (k < 23) {
        y = u2f(0x3f800000u - (0x1000000u >> k)) - (e - x); /* 1 - 2^-k */
    } else {
        y = x - (e + u2f((uint32_t)(0x7f - k) << 23)); /* 2^-k */
        y += 1.0f;
    }
    return u2f(f2u(y) + ((uint32_t)k << 23));
}

/* tanh x = 1 - 2/(e^2|x| + 1) for |x| >= 1, -(e^-2|x| - 1)/(e^-2|x| - 1 + 2) below, the sign restored. */
float plm_tanhf_glibc(float x) {
    const uint32_t jx = f2u(x), ix = jx & 0x7fffffff;
    if (ix >= 0x7f800000) return jx >> 31 ? 1.0f / x - 1.0f : 1.0f / x + 1.0f; /* +-1; NaN */
    float z;
    if (ix < 0x41b00000) { /* |x| < 22 */
        if (ix == 0) return x;
        if (ix < 0x24000000) return mulf(x, 1.0f + x); /* |x| < 2^-55 */
        if (ix >= 0x3f800000) {
            const float t = expm1f_fdlibm(2.0f * fabsf(x));
            z = 1.0f - 2.0f / (t + 2.0f);
        } else {
            const float t = expm1f_fdlibm(-2.0f * fabsf(x));
            z = -t / (t + 2.0f);
        }
    } else {
        z = 1.0f; /* 1 - 1e-30, rounded */
    }
    return jx >> 31 ? -z : z;
}
