/* simd/libm_glibc.c against x86-64 glibc's own sinf, cosf and tanhf: a sweep of every 1021st float bit pattern
 * (4.2 million arguments of every sign and exponent, NaNs and infinities included), hashed (FNV-1a of the
 * results' bits). The hashes were recorded from glibc 2.36 (x86-64, FMA variant, Debian 12), so builds without
 * glibc (wasm, AArch64) check every value of the sweep too; where glibc on an FMA x86-64 runs the test, its
 * results are compared value by value as well. `test_libm --exhaustive` compares all 2^32 arguments (minutes). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

static int failures, checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static const uint64_t SIN_SWEEP = 0xdad9be2dc4b0d8a0ULL, COS_SWEEP = 0x1d816f814874baa8ULL, /* glibc 2.36 */
    TANH_SWEEP = 0xf868ba38661eda64ULL;

static uint64_t fnv(uint64_t h, float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    for (int b = 0; b < 4; b++) h = (h ^ ((u >> (8 * b)) & 0xff)) * 1099511628211ULL;
    return h;
}

#if defined(__GLIBC__) && defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define HAVE_GLIBC 1
static int same(float a, float b) { return !memcmp(&a, &b, 4) || (isnan(a) && isnan(b)); }
#else
#define HAVE_GLIBC 0
#endif

/* step 1021: the sweep; step 1: every float */
static void sweep(uint64_t step, int with_glibc) {
    uint64_t hs = 1469598103934665603ULL, hc = hs, ht = hs, gs = hs, gc = hs, gt = hs;
    long bad = 0;
    for (uint64_t i = 0; i < (1ull << 32); i += step) {
        const uint32_t u = (uint32_t)i;
        float x, s, c;
        memcpy(&x, &u, 4);
        plm_sincosf_glibc(x, &s, &c);
        const float t = plm_tanhf_glibc(x);
        /* NaN payloads are libm's business: hash a NaN as the canonical one */
        hs = fnv(hs, isnan(s) ? NAN : s), hc = fnv(hc, isnan(c) ? NAN : c), ht = fnv(ht, isnan(t) ? NAN : t);
#if HAVE_GLIBC
        if (with_glibc) {
            const float es = sinf(x), ec = cosf(x), et = tanhf(x);
            gs = fnv(gs, isnan(es) ? NAN : es), gc = fnv(gc, isnan(ec) ? NAN : ec), gt = fnv(gt, isnan(et) ? NAN : et);
            if (!same(s, es) || !same(c, ec) || !same(t, et)) {
                if (bad++ < 5)
                    printf("FAIL at %a: sin %a (glibc %a), cos %a (glibc %a), tanh %a (glibc %a)\n", (double)x,
                           (double)s, (double)es, (double)c, (double)ec, (double)t, (double)et);
            }
        }
#endif
    }
    if (step == 1) {
        CHECK(bad == 0, "%ld of 2^32 arguments differ from glibc", bad);
        return;
    }
    printf("sweep hashes: sin %016llx cos %016llx tanh %016llx\n", (unsigned long long)hs, (unsigned long long)hc,
           (unsigned long long)ht);
    CHECK(hs == SIN_SWEEP && hc == COS_SWEEP && ht == TANH_SWEEP, "sweep hashes differ from glibc's recorded ones");
    if (with_glibc)
        CHECK(bad == 0 && gs == SIN_SWEEP && gc == COS_SWEEP && gt == TANH_SWEEP,
              "%ld arguments differ from this glibc (its hashes %016llx %016llx %016llx)", bad, (unsigned long long)gs,
              (unsigned long long)gc, (unsigned long long)gt);
}

int main(int argc, char **argv) {
    int with_glibc = 0;
#if HAVE_GLIBC
    with_glibc = __builtin_cpu_supports("fma"); /* glibc's FMA variant is the one reproduced */
#endif
    /* a few values from glibc 2.36, x86-64 FMA, including RoPE angles where wasi-libc's cosf/sinf differ */
    static const float ks[][3] = {
        {0x1.a48fe2p-3f, 0x1.a19ccap-3f, 0x1.f53e12p-1f}, {0x1.6c3116p-3f, 0x1.6a467cp-3f, 0x1.f7ed06p-1f},
        {0x1.06d9f2p+0f, 0x1.b614e2p-1f, 0x1.0901b4p-1f}, {0x1p+0f, 0x1.aed548p-1f, 0x1.14a28p-1f},
        {0x1.2p+7f, -0x1.f6ce5ep-2f, 0x1.be0708p-1f},     {0x1p+24f, -0x1.8f22f8p-1f, 0x1.40ad68p-1f},
    };
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        float s, c;
        plm_sincosf_glibc(ks[i][0], &s, &c);
        CHECK(s == ks[i][1] && c == ks[i][2], "sincos(%a) = %a, %a; glibc %a, %a", (double)ks[i][0], (double)s,
              (double)c, (double)ks[i][1], (double)ks[i][2]);
    }
    sweep(argc > 1 && !strcmp(argv[1], "--exhaustive") ? 1 : 1021, with_glibc);
    printf("%d checks, %d failures%s\n", checks, failures, with_glibc ? "" : " (no glibc here: recorded hashes only)");
    return failures != 0;
}
