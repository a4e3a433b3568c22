/* The SIMD128 fast table's tiles on the X8 layouts (simd.h: Q4_0_X8, Q4_K_X8; the relaxed build reads the same bytes
 * with wasm128_x8.h's tiles). Part of simd/wasm128.c's translation unit, included there after wasm128_fast.h (it
 * uses round_f32, fma_ff, h2f8, q0_meta). Not a header of its own.
 *
 * A 16-byte piece of the layout is 4 weight rows x 4 quant bytes. Read as eight i16 lanes, lanes 2r and 2r + 1 are
 * row r's bytes (b0, b1) and (b2, b3); one mask each gives the low nibbles of b0 and b2, of b1 and b3 (times 256),
 * the high nibbles of b0 and b2 (times 16), and a shift those of b1 and b3. i32x4.dot_i16x8 of each against a splat
 * of the matching activation pair leaves row r's products in lane r: no per-output reductions, and Q4_K's scales
 * unpacked for 8 rows at once (kernel-bench, n = 768, V8: 1.4-1.6x the R8 tiles' GB/s with one activation row,
 * 1.3-1.45x with four). With one activation row the scaled sums are kept apart and shifted back once per block or
 * sub-block (every product of them is a multiple of 16 or 256, so the shift is exact); with several, the nibbles
 * are unpacked unscaled (two more ops, once for all rows) so that each row needs one accumulator. The R8 drivers in
 * wasm128_fast.h remain for matrices bound without repacking.
 *
 * The activation rows are turned once per call (per chunk of rows, in a malloc'd scratch; out of memory: per tile
 * and block on the stack) into i16 pairs: of every 4 quants e0..e3, (e0, e2) then (e1, e3) (pairs16). */

/* n int8 quants at q (n a multiple of 16) -> n i16 in pairs16's order */
static void pairs16(const uint8_t *q, int n, int16_t *p) {
    for (int j = 0; j < n; j += 16) {
        const v128_t x = ld(q + j), lo = wasm_i16x8_extend_low_i8x16(x), hi = wasm_i16x8_extend_high_i8x16(x);
        wasm_v128_store(p + j, wasm_i16x8_shuffle(lo, lo, 0, 2, 1, 3, 4, 6, 5, 7));
        wasm_v128_store(p + j + 8, wasm_i16x8_shuffle(hi, hi, 0, 2, 1, 3, 4, 6, 5, 7));
    }
}

/* one piece t's four nibble forms (above): u[0] = low of b0, b2; u[1] = low of b1, b3 (x256); u[2] = high of b0, b2
 * (x16); u[3] = high of b1, b3 */
INLINE void nib_x8(v128_t t, v128_t u[4]) {
    u[0] = wasm_v128_and(t, wasm_i16x8_splat(0x000f));
    u[1] = wasm_v128_and(t, wasm_i16x8_splat(0x0f00));
    u[2] = wasm_v128_and(t, wasm_i16x8_splat(0x00f0));
    u[3] = wasm_u16x8_shr(t, 12);
}

/* s[k] += dot(u[k], pair) for the piece whose low nibbles pair with yl (pairs16 at element 4v) and high with yh */
INLINE void dot_x8(const v128_t u[4], const int16_t *yl, const int16_t *yh, v128_t s[4]) {
    s[0] = wasm_i32x4_add(s[0], wasm_i32x4_dot_i16x8(u[0], wasm_v128_load32_splat(yl)));
    s[1] = wasm_i32x4_add(s[1], wasm_i32x4_dot_i16x8(u[1], wasm_v128_load32_splat(yl + 2)));
    s[2] = wasm_i32x4_add(s[2], wasm_i32x4_dot_i16x8(u[2], wasm_v128_load32_splat(yh)));
    s[3] = wasm_i32x4_add(s[3], wasm_i32x4_dot_i16x8(u[3], wasm_v128_load32_splat(yh + 2)));
}

/* byte k of every 32-bit lane */
INLINE v128_t lane_byte(v128_t v, const int k) { return wasm_v128_and(wasm_u32x4_shr(v, 8 * k), splat_i32(0xff)); }

/* acc (two f64x2: lanes 0, 1 and 2, 3, doubles holding floats) = fmaf(s, d, acc) per lane by tile_q4_0_split's rule */
INLINE void fma4_r(v128_t s, v128_t d, v128_t acc[2]) {
    const v128_t s23 = wasm_i32x4_shuffle(s, s, 2, 3, 0, 1), d23 = wasm_i32x4_shuffle(d, d, 2, 3, 0, 1);
    acc[0] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(s), wasm_f64x2_promote_low_f32x4(d)), acc[0]));
    acc[1] = round_f32(wasm_f64x2_add(wasm_f64x2_mul(wasm_f64x2_convert_low_i32x4(s23), wasm_f64x2_promote_low_f32x4(d23)), acc[1]));
}

/* fma4_r's two f64x2 as one f32x4 */
INLINE v128_t demote4(const v128_t acc[2]) {
    return wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(acc[0]), wasm_f32x4_demote_f64x2_zero(acc[1]), 0, 1, 4, 5);
}

/* Q4_0_X8, 8 weight rows x NB activation rows: tile_q4_0_split's arithmetic (the block's whole integer dot, one
 * fmaf per block and output rounded as round_f32 does). y: the NB rows' pairs (ys i16 per row, 32 per block), ad/ay:
 * q0_meta's tables (stride 4 per block, lane b); y NULL: all three made here per block from a. */
INLINE void tile_q4_0_x8s(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const int16_t *y,
                          size_t ys, const float *ad4, const int32_t *ay4, float *out, size_t ldo) {
    const v128_t zero = wasm_i32x4_splat(0);
    v128_t acc[4][4]; /* [b][rows 0-1, 2-3, 4-5, 6-7] */
    for (int b = 0; b < NB; b++)
        for (int k = 0; k < 4; k++) acc[b][k] = wasm_f64x2_splat(0.0);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_0)) {
        int16_t loc[4][QK8_0] __attribute__((aligned(16)));
        const int16_t *yb[4];
        v128_t da[4], c[4], dw[2];
        for (int b = 0; b < NB; b++) {
            float da_ = 0.0f;
            int32_t ay_ = 0;
            if (y) {
                yb[b] = y + (size_t)b * ys + 32 * (size_t)i, da_ = ad4[4 * (size_t)i + b], ay_ = ay4[4 * (size_t)i + b];
            } else { /* out of memory: this block's pairs and q0_meta's two values here */
                const uint8_t *blk = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
                pairs16(blk + 2, QK8_0, loc[b]);
                for (int j = 0; j < QK8_0; j++) ay_ += 8 * (int8_t)blk[2 + j];
                yb[b] = loc[b], da_ = h2f(ld16(blk));
            }
            da[b] = wasm_f32x4_splat(da_), c[b] = wasm_i32x4_splat(ay_);
        }
        h2f8(ld(w), &dw[0], &dw[1]);
        for (int h = 0; h < 2; h++) {
            v128_t sum[4];
            if (NB == 1) { /* nib_x8's forms, their scaled sums apart */
                v128_t s[4] = { zero, zero, zero, zero };
                for (int v = 0; v < 4; v++) {
                    v128_t u[4];
                    nib_x8(ld(w + 16 + 32 * v + 16 * h), u);
                    dot_x8(u, yb[0] + 4 * v, yb[0] + 16 + 4 * v, s);
                }
                sum[0] = wasm_i32x4_add(wasm_i32x4_add(s[0], s[3]), wasm_i32x4_add(wasm_i32x4_shr(s[1], 8), wasm_i32x4_shr(s[2], 4)));
            } else { /* several activation rows: unscaled nibbles (two more ops, once for all rows), one sum per row */
                for (int b = 0; b < NB; b++) sum[b] = zero;
                for (int v = 0; v < 4; v++) {
                    const v128_t t = ld(w + 16 + 32 * v + 16 * h), m = wasm_i16x8_splat(0x0f);
                    const v128_t u0 = wasm_v128_and(t, m), u1 = wasm_v128_and(wasm_u16x8_shr(t, 8), m);
                    const v128_t u2 = wasm_v128_and(wasm_u16x8_shr(t, 4), m), u3 = wasm_u16x8_shr(t, 12);
                    for (int b = 0; b < NB; b++) {
                        const int16_t *yl = yb[b] + 4 * v, *yh = yl + 16;
                        const v128_t p = wasm_i32x4_add(wasm_i32x4_dot_i16x8(u0, wasm_v128_load32_splat(yl)),
                                                        wasm_i32x4_dot_i16x8(u1, wasm_v128_load32_splat(yl + 2)));
                        const v128_t q = wasm_i32x4_add(wasm_i32x4_dot_i16x8(u2, wasm_v128_load32_splat(yh)),
                                                        wasm_i32x4_dot_i16x8(u3, wasm_v128_load32_splat(yh + 2)));
                        sum[b] = wasm_i32x4_add(sum[b], wasm_i32x4_add(p, q));
                    }
                }
            }
            for (int b = 0; b < NB; b++) fma4_r(wasm_i32x4_sub(sum[b], c[b]), wasm_f32x4_mul(dw[h], da[b]), &acc[b][2 * h]);
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) wasm_v128_store(out + (size_t)b * ldo + 4 * h, demote4(&acc[b][2 * h]));
}

/* Q4_K_X8, 8 weight rows x NB activation rows: scalar's Q4_K_R8 arithmetic (integer sums per 64-value pair, fused
 * per pair when NB == 4: llama.cpp's gemm, by fma4_r, whose f64 lanes take a pair's sums exactly (below 2^24);
 * per 256-value block otherwise: its gemv, by fma_ff, fmaf bit for bit).
 * y: the NB rows' pairs (ys i16 per row, QK_K per block); NULL: made here per block. */
INLINE void tile_q4k_x8s(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const int16_t *y,
                         size_t ys, float *out, size_t ldo) {
    const int per_pair = NB == 4;
    const v128_t zero = wasm_i32x4_splat(0);
    const v128_t k1 = splat_i32(0x3f3f3f3f), k2 = splat_i32(0x0f0f0f0f), k3 = splat_i32(0x03030303);
    v128_t acc[4][2], accm[4][2], pacc[4][2][2], paccm[4][2][2]; /* per_pair: fma4_r's f64 pairs */
    int16_t loc[4][QK_K] __attribute__((aligned(16)));
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) {
            acc[b][h] = accm[b][h] = wasm_f32x4_splat(0.0f);
            pacc[b][h][0] = pacc[b][h][1] = paccm[b][h][0] = paccm[b][h][1] = wasm_f64x2_splat(0.0);
        }
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_K)) {
        const int16_t *yb[4];
        for (int b = 0; b < NB; b++) {
            if (y) {
                yb[b] = y + (size_t)b * ys + (size_t)QK_K * (size_t)i;
            } else {
                pairs16(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs), QK_K, loc[b]);
                yb[b] = loc[b];
            }
        }
        v128_t dw[2], dm[2], sc[2][2], mn[2][2]; /* sc[0]: scales 0..3 (byte j), sc[1]: 4..7; mn likewise */
        h2f8(ld(w), &dw[0], &dw[1]);
        h2f8(ld(w + 16), &dm[0], &dm[1]);
        for (int h = 0; h < 2; h++) {
            const v128_t u0 = ld(w + 32 + 16 * h), u1 = ld(w + 64 + 16 * h), u2 = ld(w + 96 + 16 * h);
            sc[0][h] = wasm_v128_and(u0, k1);
            sc[1][h] = wasm_v128_or(wasm_v128_and(u2, k2), wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u0, 6), k3), 4));
            mn[0][h] = wasm_v128_and(u1, k1);
            mn[1][h] = wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(u2, 4), k2),
                                    wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u1, 6), k3), 4));
        }
        v128_t d[4][2], dmin[4][2], sum[4][2], msum[4][2];
        int16_t bs[4][QK_K / 16];
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            memcpy(bs[b], ab + offsetof(block_q8_K, bsums), sizeof bs[b]);
            const v128_t dy = wasm_f32x4_splat(ldf(ab));
            for (int h = 0; h < 2; h++) {
                d[b][h] = wasm_f32x4_mul(dw[h], dy), dmin[b][h] = wasm_f32x4_mul(dm[h], dy);
                sum[b][h] = msum[b][h] = zero;
            }
        }
        for (int c = 0; c < 4; c++) /* sub-blocks 2c (low nibbles) and 2c + 1 (high) */
            for (int h = 0; h < 2; h++) {
                const uint8_t *wc = w + 128 + 256 * c + 16 * h;
                const v128_t scv = sc[c / 2][h], mnv = mn[c / 2][h];
                const v128_t s_lo = lane_byte(scv, (2 * c) % 4), s_hi = lane_byte(scv, (2 * c + 1) % 4);
                const v128_t m_lo = lane_byte(mnv, (2 * c) % 4), m_hi = lane_byte(mnv, (2 * c + 1) % 4);
                v128_t dls[4], dhs[4]; /* row b's integer dots of sub-blocks 2c and 2c + 1 */
                if (NB == 1) { /* nib_x8's forms, their scaled sums apart */
                    v128_t s[4] = { zero, zero, zero, zero };
                    for (int v = 0; v < 8; v++) {
                        v128_t t[4];
                        nib_x8(ld(wc + 32 * v), t);
                        dot_x8(t, yb[0] + 64 * c + 4 * v, yb[0] + 64 * c + 32 + 4 * v, s);
                    }
                    dls[0] = wasm_i32x4_add(s[0], wasm_i32x4_shr(s[1], 8));
                    dhs[0] = wasm_i32x4_add(s[3], wasm_i32x4_shr(s[2], 4));
                } else { /* several activation rows: unscaled nibbles (two more ops, once for all rows) */
                    for (int b = 0; b < NB; b++) dls[b] = dhs[b] = zero;
                    for (int v = 0; v < 8; v++) {
                        const v128_t t = ld(wc + 32 * v), m = wasm_i16x8_splat(0x0f);
                        const v128_t u0 = wasm_v128_and(t, m), u1 = wasm_v128_and(wasm_u16x8_shr(t, 8), m);
                        const v128_t u2 = wasm_v128_and(wasm_u16x8_shr(t, 4), m), u3 = wasm_u16x8_shr(t, 12);
                        for (int b = 0; b < NB; b++) {
                            const int16_t *yl = yb[b] + 64 * c + 4 * v, *yh = yl + 32;
                            dls[b] = wasm_i32x4_add(dls[b], wasm_i32x4_add(wasm_i32x4_dot_i16x8(u0, wasm_v128_load32_splat(yl)),
                                                                           wasm_i32x4_dot_i16x8(u1, wasm_v128_load32_splat(yl + 2))));
                            dhs[b] = wasm_i32x4_add(dhs[b], wasm_i32x4_add(wasm_i32x4_dot_i16x8(u2, wasm_v128_load32_splat(yh)),
                                                                           wasm_i32x4_dot_i16x8(u3, wasm_v128_load32_splat(yh + 2))));
                        }
                    }
                }
                for (int b = 0; b < NB; b++) {
                    const v128_t dl = dls[b], dh = dhs[b];
                    const v128_t P = wasm_i32x4_add(wasm_i32x4_mul(dl, s_lo), wasm_i32x4_mul(dh, s_hi));
                    const v128_t M = wasm_i32x4_add(wasm_i32x4_mul(m_lo, wasm_i32x4_splat(bs[b][4 * c] + bs[b][4 * c + 1])),
                                                    wasm_i32x4_mul(m_hi, wasm_i32x4_splat(bs[b][4 * c + 2] + bs[b][4 * c + 3])));
                    if (per_pair) {
                        fma4_r(P, d[b][h], pacc[b][h]);
                        fma4_r(M, dmin[b][h], paccm[b][h]);
                    } else {
                        sum[b][h] = wasm_i32x4_add(sum[b][h], P), msum[b][h] = wasm_i32x4_add(msum[b][h], M);
                    }
                }
            }
        if (!per_pair)
            for (int b = 0; b < NB; b++)
                for (int h = 0; h < 2; h++) {
                    acc[b][h] = fma_ff(wasm_f32x4_convert_i32x4(sum[b][h]), d[b][h], acc[b][h]);
                    accm[b][h] = fma_ff(wasm_f32x4_convert_i32x4(msum[b][h]), dmin[b][h], accm[b][h]);
                }
    }
    if (per_pair)
        for (int b = 0; b < NB; b++)
            for (int h = 0; h < 2; h++) acc[b][h] = demote4(pacc[b][h]), accm[b][h] = demote4(paccm[b][h]);
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_sub(acc[b][h], accm[b][h]));
}

/* Scratch bytes per chunk of activation rows (their pairs; Q4_0: and q0_meta's tables) */
#define X8S_BYTES (128 * 1024)

/* activation rows per chunk: a multiple of 4 (Q4_K_R8's gemm groups stay whole), at most nb rounded up */
static int x8s_chunk(size_t row_bytes, int nb) {
    int chunk = (int)(X8S_BYTES / row_bytes) / 4 * 4;
    if (chunk < 4) chunk = 4;
    return chunk > (nb + 3) / 4 * 4 ? (nb + 3) / 4 * 4 : chunk;
}

/* The tiles of activation rows b.. against one group of weight rows: 4 rows at once, fewer (a chunk's last 1-3)
 * one by one, which gives the same outputs (both tiles' arithmetic is per activation row when NB < 4) with two
 * fewer copies of each tile in the module. CALL(NB, j): the tile of NB rows from row b + j. */
#define X8S_TILES(LEFT, CALL)                                                                                        \
    do {                                                                                                             \
        if ((LEFT) >= 4) CALL(4, 0);                                                                                 \
        else                                                                                                         \
            for (int j_ = 0; j_ < (LEFT); j_++) CALL(1, j_);                                                         \
    } while (0)

/* Q4_0_X8 driver: groups of 8 weight rows against activation rows 4 at a time, the activation rows' pairs and
 * q0_meta's tables made once per chunk. Out of memory: the tiles make them per block on the stack, one row at a time. */
static void mm_q4_0_x8s(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    const int nblk = n / QK8_0;
    const size_t row_bytes = (size_t)nblk * (64 + 8);
    const int chunk = x8s_chunk(row_bytes, nb);
    void *mem = malloc(row_bytes * (size_t)chunk + 16);
    if (!mem) {
        for (int b = 0; b < nb; b++)
            for (int r = 0; r < nr; r += 8)
                tile_q4_0_x8s(1, nblk, w + (size_t)r * ws, a + (size_t)b * as, as, NULL, 0, NULL, NULL, out + (size_t)b * ldo + r, ldo);
        return;
    }
    int16_t *y = (int16_t *)(void *)(((uintptr_t)mem + 15) & ~(uintptr_t)15);
    float *ad = (float *)(void *)(y + 32 * (size_t)nblk * (size_t)chunk);
    int32_t *ay = (int32_t *)(void *)(ad + (size_t)nblk * (size_t)chunk);
    const size_t ys = 32 * (size_t)nblk;
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        q0_meta(nblk, ac, as, cn, ad, ay);
        for (int b = 0; b < cn; b++)
            for (int i = 0; i < nblk; i++)
                pairs16(ac + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2, QK8_0, y + (size_t)b * ys + 32 * (size_t)i);
        for (int b = 0; b < cn; b += 4)
            for (int r = 0; r < nr; r += 8) {
#define CALL(NB, J)                                                                                                  \
    tile_q4_0_x8s(NB, nblk, w + (size_t)r * ws, ac + (size_t)(b + (J)) * as, as, y + (size_t)(b + (J)) * ys, ys,       \
                  ad + (size_t)b * nblk + (J), ay + (size_t)b * nblk + (J), out + (size_t)(c0 + b + (J)) * ldo + r, ldo)
                X8S_TILES(cn - b, CALL);
#undef CALL
            }
    }
    free(mem);
}

/* Q4_K_X8 driver: as mm_q4_0_x8s; out of memory, the tiles make each block's pairs on the stack */
static void mm_q4k_x8s(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    const int nsb = n / QK_K;
    const size_t ys = (size_t)QK_K * (size_t)nsb;
    const int chunk = nsb > 0 ? x8s_chunk(2 * ys, nb) : 4;
    void *mem = nsb > 0 ? malloc(2 * ys * (size_t)chunk + 16) : NULL;
    int16_t *y = mem ? (int16_t *)(void *)(((uintptr_t)mem + 15) & ~(uintptr_t)15) : NULL;
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        if (y)
            for (int b = 0; b < cn; b++)
                for (int i = 0; i < nsb; i++)
                    pairs16(ac + (size_t)b * as + (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs), QK_K,
                            y + (size_t)b * ys + (size_t)QK_K * (size_t)i);
        for (int b = 0; b < cn; b += 4)
            for (int r = 0; r < nr; r += 8) {
#define CALL(NB, J)                                                                                                  \
    tile_q4k_x8s(NB, nsb, w + (size_t)r * ws, ac + (size_t)(b + (J)) * as, as, y ? y + (size_t)(b + (J)) * ys : NULL,  \
                 ys, out + (size_t)(c0 + b + (J)) * ldo + r, ldo)
                X8S_TILES(cn - b, CALL);
#undef CALL
            }
    }
    free(mem);
}

/* The SIMD128 fast table's layouts: Q4_0_R8 and Q4_K_R8 matrices to X8 (simd.h) */
static int f_repack(int type, void *w, int n, int nr) {
    if (type == PLM_T_Q4_0_R8 && plm_repack_q4_0_x8(w, n, nr)) return PLM_T_Q4_0_X8;
    if (type == PLM_T_Q4_K_R8 && plm_repack_q4_K_x8(w, n, nr)) return PLM_T_Q4_K_X8;
    return type;
}
