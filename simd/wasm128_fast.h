/* The SIMD128 fast table's Q8_0, Q4_0_R8 and Q4_K_R8 matmuls (plm_kernels_wasm128; "The fast tables" in
 * wasm128.c). Part of simd/wasm128.c's translation unit, included there after the drivers (it uses q0_meta, pl_act,
 * q0_scales, r8_block_sums, tile_q4k_r8w and the exact drivers as out-of-memory fallbacks). Not a header of its own.
 *
 * Without the relaxed dot, the integer sums come from i32x4.dot_i16x8 on sign-extended i16 halves (pl_act: even
 * and odd elements, shift-only). The activations are split once per call (per chunk of rows, in a malloc'd
 * scratch) instead of once per tile, so a weight row's tile only loads them.
 *
 * The float updates are the exact tables' fmaf emulation in f64 without the midpoint fix-up (fma8_any(0, ...),
 * fma_d), with two changes that keep their results: the accumulators stay in f64 between blocks, and the rounding
 * to float is Veltkamp's split (round_f32: three flops) instead of a demotion and a promotion. On x86 those
 * conversions, like the i32 -> f64 ones and the shuffles, all queue on one port; that port, not the integer work,
 * bounded Q8_0, whose contract has eight fmas per 32-value block and output. */

/* Rows [0, nb) of a chunk as pl_act's halves, per block: even and odd elements of bytes 0..15, then of 16..31 */
static void q0_split(int nblk, const uint8_t *a, size_t as, int nb, v128_t *y) {
    for (int b = 0; b < nb; b++)
        for (int i = 0; i < nblk; i++, y += 4) {
            const uint8_t *p = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            pl_act(ld(p), &y[0], &y[1]), pl_act(ld(p + 16), &y[2], &y[3]);
        }
}

/* q0_scales, with one weight row's scale converted once (RW == 1: the prefill tiles) */
INLINE v128_t q0_scales_s(const int RW, const int NB, const uint8_t *w, size_t ws, size_t woff, const float *ad4) {
    if (RW == 1) return wasm_f32x4_mul(wasm_f32x4_splat(h2f(ld16(w + woff))), by_b(NB, ld(ad4)));
    return q0_scales(RW, NB, w, ws, woff, ad4);
}

/* x (f64x2) rounded to float precision, kept in double (Veltkamp's split: the high part of x on 53 - 29 = 24 bits
 * is a rounding to nearest of x), with three flops instead of a demotion and a promotion, which on x86 compete
 * with the shuffles for one port. It can differ from the demotion only where x sits exactly on a float midpoint
 * (either neighbour may come out) or lies below float's normal range: the fast tables' exceptions anyway. */
INLINE v128_t round_f32(v128_t x) {
    const v128_t g = wasm_f64x2_mul(x, wasm_f64x2_splat(0x1p29 + 1.0));
    return wasm_f64x2_add(g, wasm_f64x2_sub(x, g));
}

/* fma8_any(0, ...) with the lanes rounded by round_f32 */
INLINE void fma8_r(float d, v128_t slo, v128_t shi, v128_t acc[4]) {
    const v128_t dd = wasm_f64x2_splat((double)d);
    acc[0] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(slo), dd), acc[0]));
    acc[1] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(slo, slo, 2, 3, 0, 1)), dd), acc[1]));
    acc[2] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(shi), dd), acc[2]));
    acc[3] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(wasm_i32x4_shuffle(shi, shi, 2, 3, 0, 1)), dd), acc[3]));
}

/* Q8_0, RW weight rows x NB activation rows (y: the split rows, 4 * nblk vectors each): the contract's eight lanes */
INLINE void tile_q8_0_split(const int RW, const int NB, int nblk, const uint8_t *w, size_t ws, const v128_t *y,
                            float *out, size_t ldo, const float *ad4) {
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < nblk; ib++) {
        const size_t off = (size_t)ib * sizeof(block_q8_0);
        v128_t we0[4], wo0[4], we1[4], wo1[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + off + 2;
            pl_act(ld(p), &we0[r], &wo0[r]), pl_act(ld(p + 16), &we1[r], &wo1[r]);
        }
        const v128_t dv = q0_scales_s(RW, NB, w, ws, off, ad4 + 4 * (size_t)ib);
        const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                              wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
        for (int b = 0; b < NB; b++) {
            const v128_t *yb = y + 4 * ((size_t)b * (size_t)nblk + (size_t)ib);
            const v128_t ye0 = yb[0], yo0 = yb[1], ye1 = yb[2], yo1 = yb[3];
            for (int r = 0; r < RW; r++) {
                const int k = r * NB + b;
                fma8_r(dk[k], dot4(we0[r], wo0[r], ye0, yo0), dot4(we1[r], wo1[r], ye1, yo1), ad[k]);
            }
        }
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
}

/* Q4_0_R8 on split rows: tile_q0_pairs' fast arithmetic (the block's whole integer dot, one fma per block and
 * output, rounded by round_f32), the 4 outputs' accumulators as two f64x2 */
INLINE void tile_q4_0_split(const int RW, const int NB, int nblk, const uint8_t *w, size_t ws, const v128_t *y,
                            float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t n4 = wasm_i16x8_splat(0x0f), zero = wasm_i32x4_splat(0);
    v128_t alo = wasm_f64x2_splat(0.0), ahi = alo; /* outputs 0, 1 and 2, 3 as doubles holding floats */
    for (int ib = 0; ib < nblk; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0);
        v128_t wu0[4], wv0[4], wu1[4], wv1[4];
        for (int r = 0; r < RW; r++) { /* elements 2k, 2k+1, 2k+16, 2k+17 in lane k (see pl_act) */
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            wu0[r] = wasm_v128_and(q, n4), wv0[r] = wasm_v128_and(wasm_u16x8_shr(q, 8), n4);
            wu1[r] = wasm_v128_and(wasm_u16x8_shr(q, 4), n4), wv1[r] = wasm_u16x8_shr(q, 12);
        }
        v128_t t[4] = { zero, zero, zero, zero };
        for (int b = 0; b < NB; b++) {
            const v128_t *yb = y + 4 * ((size_t)b * (size_t)nblk + (size_t)ib);
            const v128_t ye0 = yb[0], yo0 = yb[1], ye1 = yb[2], yo1 = yb[3];
            for (int r = 0; r < RW; r++)
                t[r * NB + b] = wasm_i32x4_add(dot4(wu0[r], wv0[r], ye0, yo0), dot4(wu1[r], wv1[r], ye1, yo1));
        }
        const v128_t dv = q0_scales_s(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        const v128_t sum = r8_block_sums(NB, t, ay4 + 4 * (size_t)ib), sum23 = wasm_i32x4_shuffle(sum, sum, 2, 3, 0, 1);
        const v128_t dv23 = wasm_i32x4_shuffle(dv, dv, 2, 3, 0, 1);
        alo = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(sum), wasm_f64x2_promote_low_f32x4(dv)), alo));
        if (RW * NB > 2)
            ahi = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(sum23), wasm_f64x2_promote_low_f32x4(dv23)), ahi));
    }
    r8_store(RW, NB, wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(alo), wasm_f32x4_demote_f64x2_zero(ahi), 0, 1, 4, 5), out, ldo);
}

INLINE void tile_q0_split(const int Q8, const int RW, const int NB, int nblk, const uint8_t *w, size_t ws,
                          const v128_t *y, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    if (Q8) tile_q8_0_split(RW, NB, nblk, w, ws, y, out, ldo, ad4);
    else tile_q4_0_split(RW, NB, nblk, w, ws, y, out, ldo, ad4, ay4);
}

/* Scratch bytes per chunk of activation rows (split halves, 64 bytes per block and row, plus q0_meta's 8) */
#define Q0_SPLIT_BYTES (96 * 1024)

/* MM_Q0's tiling with the activation rows split once per chunk. Out of memory: the unsplit fast matmul. */
static void mm_q0_split(const int Q8, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out,
                        size_t ldo) {
    const int nblk = n / QK8_0;
    if (nblk == 0) {
        for (int b = 0; b < nb; b++)
            for (int r = 0; r < nr; r++) out[(size_t)b * ldo + r] = 0.0f;
        return;
    }
    const size_t row_bytes = (size_t)nblk * (64 + 8);
    int chunk = (int)(Q0_SPLIT_BYTES / row_bytes) / 4 * 4;
    if (chunk < 4) chunk = 4;
    if (chunk > (nb + 3) / 4 * 4) chunk = (nb + 3) / 4 * 4;
    void *mem = malloc(row_bytes * (size_t)chunk + 64); /* + alignment, + a tile's 4-lane reads past a group */
    if (!mem) {
        if (Q8) mm_q8_0_fast(n, w, ws, nr, a, as, nb, out, ldo);
        else mm_q4_0_fast(n, w, ws, nr, a, as, nb, out, ldo);
        return;
    }
    v128_t *y = (v128_t *)(void *)(((uintptr_t)mem + 15) & ~(uintptr_t)15);
    float *ad = (float *)(void *)(y + 4 * (size_t)nblk * (size_t)chunk);
    int32_t *ay = (int32_t *)(void *)(ad + (size_t)nblk * (size_t)chunk);
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        q0_meta(nblk, ac, as, cn, ad, ay);
        q0_split(nblk, ac, as, cn, y);
        const size_t yr = 4 * (size_t)nblk; /* vectors per split row */
#define T0(RW, NB, r, b)                                                                                             \
    tile_q0_split(Q8, RW, NB, nblk, w + (size_t)(r) * ws, ws, y + (size_t)(b) * yr, oc + (size_t)(b) * ldo + (r), ldo, \
                  ad + (size_t)((b) / 4) * 4 * (size_t)nblk + (b) % 4, ay + (size_t)((b) / 4) * 4 * (size_t)nblk + (b) % 4)
        int b = 0, r;
        for (; b + 4 <= cn; b += 4)
            for (r = 0; r < nr; r++) T0(1, 4, r, b);
        const int left = cn - b;
        r = 0;
        if (left == 3) {
            for (; r < nr; r++) T0(1, 3, r, b);
        } else if (left == 2) {
            for (; r + 2 <= nr; r += 2) T0(2, 2, r, b);
            for (; r < nr; r++) T0(1, 2, r, b);
        } else if (left == 1) {
            for (; r + 4 <= nr; r += 4) T0(4, 1, r, b);
            for (; r < nr; r++) T0(1, 1, r, b);
        }
#undef T0
    }
    free(mem);
}

/* Q4_K_R8 (tile_q4k_r8w, bit for bit the exact table's arithmetic) with the activation rows' quants split once per
 * chunk: per row and 256-value block, pl_act's halves of its 16-byte pieces in order (32 vectors). */
static void q4k_split(int nsb, const uint8_t *a, size_t as, int nb, v128_t *y) {
    for (int b = 0; b < nb; b++)
        for (int i = 0; i < nsb; i++) {
            const uint8_t *p = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
            for (int q = 0; q < QK_K / 16; q++, y += 2) pl_act(ld(p + 16 * q), &y[0], &y[1]);
        }
}

static void mm_q4k_split(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    const int nsb = n / QK_K;
    const size_t ysr = 32 * (size_t)nsb; /* vectors per split row */
    int chunk = nsb > 0 ? (int)(Q0_SPLIT_BYTES / (16 * ysr)) / 4 * 4 : 4;
    if (chunk < 4) chunk = 4;
    if (chunk > (nb + 3) / 4 * 4) chunk = (nb + 3) / 4 * 4;
    void *mem = malloc(16 * ysr * (size_t)chunk + 16);
    if (!mem || nsb == 0) {
        free(mem);
        mm_q4_K_r8(n, w, ws, nr, a, as, nb, out, ldo);
        return;
    }
    v128_t *y = (v128_t *)(void *)(((uintptr_t)mem + 15) & ~(uintptr_t)15);
    for (int c0 = 0; c0 < nb; c0 += chunk) { /* chunks of a multiple of 4 rows: the R8 order's groups stay whole */
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        q4k_split(nsb, ac, as, cn, y);
        int b = 0;
        for (; b + 4 <= cn; b += 4)
            for (int r = 0; r < nr; r++)
                tile_q4k_r8w(1, 4, 0, n, w + (size_t)r * ws, ws, ac + (size_t)b * as, as, oc + (size_t)b * ldo + r, ldo,
                             y + (size_t)b * ysr, ysr);
        const int left = cn - b;
        u8c *al = ac + (size_t)b * as;
        float *ol = oc + (size_t)b * ldo;
        const v128_t *yl = y + (size_t)b * ysr;
        int r = 0;
        if (left == 3) {
            for (; r < nr; r++) tile_q4k_r8w(1, 3, 0, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, yl, ysr);
        } else if (left == 2) {
            for (; r + 2 <= nr; r += 2) tile_q4k_r8w(2, 2, 0, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, yl, ysr);
            for (; r < nr; r++) tile_q4k_r8w(1, 2, 0, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, yl, ysr);
        } else if (left == 1) {
            for (; r + 4 <= nr; r += 4) tile_q4k_r8w(4, 1, 0, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, yl, ysr);
            for (; r < nr; r++) tile_q4k_r8w(1, 1, 0, n, w + (size_t)r * ws, ws, al, as, ol + r, ldo, yl, ysr);
        }
    }
    free(mem);
}
