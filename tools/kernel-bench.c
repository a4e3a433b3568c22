/* kernel-bench: single-thread matmul throughput per weight type, in GB/s of weight bytes streamed, for the scalar
 * reference and this build's backend, next to the machine's single-thread memory read bandwidth.
 *
 *   build/native/kernel-bench [-n N] [-r ROWS] [-t SECONDS]
 *
 * Default: rows of N = 4096 values and enough rows that every matrix is >= 128 MiB (well past the last-level
 * cache, so decode-like nb=1 numbers are DRAM numbers); -r 4096 gives the 4096x4096 matrix instead (which may
 * fit in L3 for the small types). nb=4 passes 4 activation rows over each weight row (prefill). The rows of
 * weights hold random quants with sane scales; the numbers do not depend on the values. Times are the thread's CPU
 * time, so a busy machine disturbs them less (memory and cache contention still show).
 */
#include "simd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The thread's CPU time where POSIX has it (other processes on the machine then barely move the numbers), else
 * wall time. */
static double now(void) {
    struct timespec ts;
#if defined(_POSIX_C_SOURCE) && _POSIX_C_SOURCE >= 200112L && defined(CLOCK_THREAD_CPUTIME_ID)
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
#else
    timespec_get(&ts, TIME_UTC);
#endif
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static uint64_t rng = 0x243f6a8885a308d3ULL;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 32);
}

static void put_h(uint8_t *p, float f) {
    const plm_f16 h = plm_f32_to_f16(f);
    memcpy(p, &h, 2);
}

/* random weights of `type`: random quant bytes, every scale field replaced by a small positive half */
static void fill_weights(int type, uint8_t *w, size_t bytes) {
    for (size_t i = 0; i + 4 <= bytes; i += 4) {
        const uint32_t r = rnd();
        memcpy(w + i, &r, 4);
    }
    const plm_type_info *ti = plm_type(type);
    const size_t bb = (size_t)ti->bytes;
    for (size_t off = 0; off + bb <= bytes; off += bb) {
        uint8_t *b = w + off;
        switch (PLM_T_BASE(type)) {
        case PLM_T_F32: {
            const float f = (float)(rnd() % 2001) * 1e-3f - 1.0f;
            memcpy(b, &f, 4);
        } break;
        case PLM_T_F16: put_h(b, (float)(rnd() % 2001) * 1e-3f - 1.0f); break;
        case PLM_T_Q4_0:
        case PLM_T_Q8_0: put_h(b, 0.01f); break;
        case PLM_T_Q4_K: put_h(b + offsetof(block_q4_K, d), 0.01f), put_h(b + offsetof(block_q4_K, dmin), 0.001f); break;
        case PLM_T_Q6_K: put_h(b + offsetof(block_q6_K, d), 0.01f); break;
        case PLM_T_Q4_1: put_h(b + offsetof(block_q4_1, d), 0.01f), put_h(b + offsetof(block_q4_1, m), -0.05f); break;
        case PLM_T_Q5_0: put_h(b + offsetof(block_q5_0, d), 0.01f); break;
        case PLM_T_Q5_1: put_h(b + offsetof(block_q5_1, d), 0.01f), put_h(b + offsetof(block_q5_1, m), -0.1f); break;
        case PLM_T_Q2_K: put_h(b + offsetof(block_q2_K, d), 0.01f), put_h(b + offsetof(block_q2_K, dmin), 0.001f); break;
        case PLM_T_Q3_K: put_h(b + offsetof(block_q3_K, d), 0.01f); break;
        case PLM_T_Q5_K: put_h(b + offsetof(block_q5_K, d), 0.01f), put_h(b + offsetof(block_q5_K, dmin), 0.001f); break;
        case PLM_T_IQ4_NL: put_h(b + offsetof(block_iq4_nl, d), 0.01f); break;
        case PLM_T_IQ4_XS: put_h(b + offsetof(block_iq4_xs, d), 0.01f); break;
        case PLM_T_BF16:
            for (size_t j = 0; j + 2 <= bb; j += 2) { /* finite values: a sane exponent on random bits */
                uint16_t h;
                memcpy(&h, b + j, 2);
                h = (uint16_t)((h & 0x807f) | 0x3c00);
                memcpy(b + j, &h, 2);
            }
            break;
        }
    }
}

static volatile float sink;

/* GB/s of weight bytes for matmul(type) with nb activation rows, repeated for at least `secs` */
static double bench_matmul(const plm_kernels *k, int type, int n, int rows, const uint8_t *w, int nb, double secs) {
    const plm_type_info *ti = plm_type(type);
    const size_t ws = plm_row_size(type, n), as = plm_row_size(ti->act_type, n);
    float *x = malloc((size_t)n * sizeof(float) * (size_t)nb);
    uint8_t *a = malloc(as * (size_t)nb);
    float *out = malloc((size_t)rows * (size_t)nb * sizeof(float));
    if (!x || !a || !out) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (int i = 0; i < n * nb; i++) x[i] = (float)(rnd() % 2001) * 1e-3f - 1.0f;
    for (int b = 0; b < nb; b++) k->quantize_row(ti->act_type, x + (size_t)b * (size_t)n, a + (size_t)b * as, n);
    k->matmul(type, n, w, ws, rows, a, as, nb, out, (size_t)rows); /* warm up (page faults, caches) */
    int iters = 0;
    const double t0 = now();
    double t;
    do {
        k->matmul(type, n, w, ws, rows, a, as, nb, out, (size_t)rows);
        iters++;
        t = now() - t0;
    } while (t < secs);
    sink = out[rows / 2];
    free(x), free(a), free(out);
    return (double)ws * (double)rows * iters / t / 1e9;
}

/* single-thread read bandwidth: sum a 256 MiB buffer of 64-bit words */
static double bench_memory(double secs) {
    const size_t bytes = (size_t)256 << 20, nw = bytes / 8;
    uint64_t *buf = malloc(bytes);
    if (!buf) { fprintf(stderr, "out of memory\n"); exit(1); }
    for (size_t i = 0; i < nw; i++) buf[i] = i * 2654435761u;
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int iters = 0;
    const double t0 = now();
    double t;
    do {
        for (size_t i = 0; i < nw; i += 4) s0 += buf[i], s1 += buf[i + 1], s2 += buf[i + 2], s3 += buf[i + 3];
        iters++;
        t = now() - t0;
    } while (t < secs);
    sink = (float)(s0 + s1 + s2 + s3);
    free(buf);
    return (double)bytes * iters / t / 1e9;
}

int main(int argc, char **argv) {
    int n = 4096, rows_opt = 0, no_scalar = 0, with_exact = 0;
    const char *only = NULL;
    double secs = 0.5;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-n") && i + 1 < argc) n = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-r") && i + 1 < argc) rows_opt = atoi(argv[++i]);
        else if (!strcmp(argv[i], "-t") && i + 1 < argc) secs = atof(argv[++i]);
        else if (!strcmp(argv[i], "-T") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "-S")) no_scalar = 1;
        else if (!strcmp(argv[i], "-x")) with_exact = 1;
        else {
            fprintf(stderr, "usage: %s [-n N (multiple of 256)] [-r ROWS] [-t SECONDS] [-T type,type,...] [-S: no scalar "
                            "column] [-x: the exact sibling table too]\n", argv[0]);
            return 2;
        }
    }
    if (n <= 0 || n % QK_K) { fprintf(stderr, "n must be a positive multiple of 256\n"); return 2; }
    const plm_kernels *ks[3] = { &plm_kernels_scalar, plm_kern(), NULL };
    int nk = ks[1] == ks[0] ? 1 : 2;
    if (with_exact && nk == 2 && ks[1]->exact) ks[nk++] = ks[1]->exact;
    const double mem = bench_memory(secs);
    printf("single-thread memory read bandwidth (sum of 256 MiB): %.1f GB/s\n", mem);
    printf("matmul, GB/s of weight bytes streamed (single thread), n = %d\n", n);
    printf("%-8s %8s", "type", "MiB");
    for (int i = 0; i < nk; i++) printf("   %8s nb=1  %8s nb=4", ks[i]->name, ks[i]->name);
    printf("\n");
    /* each type beside the variant llama.cpp's summation order gives most matrices of real models (simd.h), and
     * Q4_0_R8 in the backend's own layout when it repacks (the form a model's matrices then run in) */
    const int types[] = { PLM_T_Q4_0,  PLM_T_Q4_0_R8, PLM_T_Q4_0_X8, PLM_T_Q8_0,    PLM_T_Q8_0_X8, PLM_T_Q4_K,
                          PLM_T_Q4_K_R8, PLM_T_Q4_K_X8, PLM_T_Q6_K,  PLM_T_Q4_1,    PLM_T_Q5_0,   PLM_T_Q5_1,
                          PLM_T_Q2_K,  PLM_T_Q2_K_R8, PLM_T_Q3_K,   PLM_T_Q5_K,    PLM_T_IQ4_NL, PLM_T_IQ4_NL_R8,
                          PLM_T_IQ4_XS, PLM_T_BF16,   PLM_T_F16,    PLM_T_F16_TB,  PLM_T_F32,    PLM_T_F32_TB };
    for (int t = 0; t < (int)(sizeof types / sizeof types[0]); t++) {
        const int type = types[t], x8 = (type >> 8) == 2;
        const int r8 = type == PLM_T_Q8_0_X8 ? PLM_T_Q8_0 : PLM_T_VARIANT | PLM_T_BASE(type);
        if (x8 && (nk < 2 || !ks[1]->repack)) continue;
        if (only) { /* -T: the named types only (names as plm_type gives them, e.g. q8_0,q4_K_r8) */
            const char *nm = plm_type(type)->name, *p = only;
            const size_t ln = strlen(nm);
            int hit = 0;
            while (*p && !hit) {
                const char *e = strchr(p, ',');
                const size_t l = e ? (size_t)(e - p) : strlen(p);
                hit = l == ln && !strncmp(p, nm, l);
                p += l + (e != NULL);
            }
            if (!hit) continue;
        }
        const size_t ws = plm_row_size(type, n);
        int rows = rows_opt > 0 ? rows_opt : 4096;
        if (rows_opt <= 0)
            while ((size_t)rows * ws < ((size_t)128 << 20)) rows += 4096;
        uint8_t *w = malloc(ws * (size_t)rows);
        if (!w) { fprintf(stderr, "out of memory\n"); return 1; }
        fill_weights(type, w, ws * (size_t)rows);
        if (x8 && ks[1]->repack(r8, w, n, rows) != type) { free(w); continue; }
        printf("%-8s %8.1f", plm_type(type)->name, (double)(ws * (size_t)rows) / (1 << 20));
        fflush(stdout);
        for (int i = 0; i < nk; i++) {
            if ((x8 && i != 1) || (no_scalar && i == 0)) { /* the reference reads only the file's layout */
                printf("   %13s  %13s", "-", "-");
                continue;
            }
            /* the scalar kernels are slow: give them fewer rows' worth of time, same per-byte measure */
            printf("   %13.2f", bench_matmul(ks[i], type, n, rows, w, 1, secs));
            fflush(stdout);
            printf("  %13.2f", bench_matmul(ks[i], type, n, rows, w, 4, secs));
            fflush(stdout);
        }
        printf("\n");
        free(w);
    }
    return 0;
}
