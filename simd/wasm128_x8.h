/* The relaxed build's X8 tiles (simd.h's repacked layouts): Q4_0_X8, Q8_0_X8, Q4_K_X8 and their drivers.
 * Part of simd/wasm128.c's translation unit, included there in this place: it uses the helpers defined above the
 * #include and defines what the drivers below it instantiate. Not a header of its own. */

/* Q4_0 in the X8 layout (simd.h), relaxed: piece v of rows 0-3 is one vector and of rows 4-7 another, so the
 * relaxed dot against the activation's 4 bytes splat to every lane leaves row r's 4 products in lane r, summed over
 * the block's 8 pieces in place: two accumulators, no reductions. 8 rows x NB activation rows; ad4/ay4 as tile_q8_0's
 * (NULL: computed here, for the out-of-memory path). */
INLINE void tile_x8(const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a, size_t as,
                    const float *ad4, const int32_t *ay4, float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0), eight = wasm_i8x16_splat(8);
    v128_t acc[4][2];
    for (int b = 0; b < 4; b++) acc[b][0] = acc[b][1] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_0)) {
        v128_t dlo, dhi, q[8][2];
        h2f8(ld(w), &dlo, &dhi);
        for (int v = 0; v < 4; v++)
            for (int h = 0; h < 2; h++) {
                const v128_t t = ld(w + 16 + 32 * v + 16 * h);
                q[v][h] = wasm_v128_and(t, m4), q[v + 4][h] = wasm_u8x16_shr(t, 4);
            }
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            v128_t s0 = zero, s1 = zero;
            for (int v = 0; v < 8; v++) {
                const v128_t ys = wasm_v128_load32_splat(y + 4 * (v % 4) + 16 * (v / 4));
                s0 = RDOT(ys, q[v][0], s0), s1 = RDOT(ys, q[v][1], s1);
            }
            const int32_t y8 = ay4 ? ay4[4 * (size_t)i + b] : hsum_i32(RDOT(ld(y), eight, RDOT(ld(y + 16), eight, zero)));
            const v128_t da = wasm_f32x4_splat(ad4 ? ad4[4 * (size_t)i + b] : h2f(ld16(y - 2)));
            const v128_t c = wasm_i32x4_splat(y8);
            acc[b][0] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s0, c)), wasm_f32x4_mul(dlo, da), acc[b][0]);
            acc[b][1] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s1, c)), wasm_f32x4_mul(dhi, da), acc[b][1]);
        }
    }
    for (int b = 0; b < NB; b++) wasm_v128_store(out + (size_t)b * ldo, acc[b][0]), wasm_v128_store(out + (size_t)b * ldo + 4, acc[b][1]);
}

/* Q8_0 in the X8 layout (simd.h; the fast relaxed table only). A signed weight w is (w & 0x7f) - 128 * (w < 0): two
 * 7-bit operands for the relaxed dot, lo = w & 0x7f and the sign bit (u8 shift by 7), so dot(y, w) =
 * dot(y, lo) - 128 * dot(y, sign), exact, with no correction through the activations. Piece v's dot of row r lands
 * in lane r: the contract's lane v of that row, so with a fused RMADD per piece and block and hsum8's order at the
 * end this is scalar's Q8_0 arithmetic (unfused: two roundings per update). */
INLINE void tile_q8_x8(const int NB, int nblk, const uint8_t *w, const uint8_t *a, size_t as, const float *ad4,
                       float *out, size_t ldo) {
    const v128_t m7 = wasm_i8x16_splat(0x7f), zero = wasm_i32x4_splat(0);
    v128_t acc[4][8][2];
    for (int b = 0; b < NB; b++)
        for (int v = 0; v < 8; v++) acc[b][v][0] = acc[b][v][1] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q8_0)) {
        v128_t dlo, dhi;
        h2f8(ld(w), &dlo, &dhi);
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            const v128_t da = wasm_f32x4_splat(ad4 ? ad4[4 * (size_t)i + b] : h2f(ld16(y - 2)));
            const v128_t d0 = wasm_f32x4_mul(dlo, da), d1 = wasm_f32x4_mul(dhi, da);
            for (int v = 0; v < 8; v++) {
                const v128_t ys = wasm_v128_load32_splat(y + 4 * v);
                const v128_t t0 = ld(w + 16 + 32 * v), t1 = ld(w + 32 + 32 * v);
                const v128_t s0 = wasm_i32x4_sub(RDOT(ys, wasm_v128_and(t0, m7), zero),
                                                 wasm_i32x4_shl(RDOT(ys, wasm_u8x16_shr(t0, 7), zero), 7));
                const v128_t s1 = wasm_i32x4_sub(RDOT(ys, wasm_v128_and(t1, m7), zero),
                                                 wasm_i32x4_shl(RDOT(ys, wasm_u8x16_shr(t1, 7), zero), 7));
                acc[b][v][0] = RMADD(wasm_f32x4_convert_i32x4(s0), d0, acc[b][v][0]);
                acc[b][v][1] = RMADD(wasm_f32x4_convert_i32x4(s1), d1, acc[b][v][1]);
            }
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) { /* hsum8 per lane: r_k = lane k + lane k+4, (r0 + r2) + (r1 + r3) */
            v128_t r[4];
            for (int k = 0; k < 4; k++) r[k] = wasm_f32x4_add(acc[b][k][h], acc[b][k + 4][h]);
            wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_add(wasm_f32x4_add(r[0], r[2]), wasm_f32x4_add(r[1], r[3])));
        }
}

/* one X8 tile: Q4_0 (tile_x8) or Q8_0 (tile_q8_x8) */
INLINE void tile_x8_any(const int Q8, const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a,
                        size_t as, const float *ad4, const int32_t *ay4, float *out, size_t ldo) {
    if (Q8) tile_q8_x8(NB, nblk, w, a, as, ad4, out, ldo);
    else tile_x8(NB, FM, nblk, w, a, as, ad4, ay4, out, ldo);
}

/* X8 driver: groups of 8 rows, activation rows 4 at a time with q0_meta's tables per chunk (as MM_Q0) */
INLINE void mm_x8q(const int Q8, const int FM, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out,
                   size_t ldo) {
    const int nblk = n / QK8_0;
    float ad_s[Q0_META], *ad = ad_s;
    int32_t ay_s[Q0_META], *ay = ay_s;
    int chunk = nblk > 0 ? Q0_META / (4 * nblk) * 4 : 4;
    if (chunk < 4) {
        chunk = (nb + 3) / 4 * 4;
        ad = malloc(sizeof(float) * (size_t)chunk * (size_t)nblk);
        ay = malloc(sizeof(int32_t) * (size_t)chunk * (size_t)nblk);
        if (!ad || !ay) { /* out of memory: the tile without tables */
            free(ad), free(ay);
            for (int r = 0; r < nr; r += 8)
                for (int b = 0; b < nb; b++)
                    tile_x8_any(Q8, 1, FM, nblk, w + (size_t)r * ws, a + (size_t)b * as, as, NULL, NULL, out + (size_t)b * ldo + r, ldo);
            return;
        }
    }
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        u8c *ac = a + (size_t)c0 * as;
        float *oc = out + (size_t)c0 * ldo;
        q0_meta(nblk, ac, as, cn, ad, ay);
        for (int b = 0; b < cn; b += 4) {
            const float *adb = ad + (size_t)b * nblk;
            const int32_t *ayb = ay + (size_t)b * nblk;
            for (int r = 0; r < nr; r += 8) {
                u8c *wr = w + (size_t)r * ws, *ab = ac + (size_t)b * as;
                float *ob = oc + (size_t)b * ldo + r;
                switch (cn - b < 4 ? cn - b : 4) {
                case 4: tile_x8_any(Q8, 4, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 3: tile_x8_any(Q8, 3, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 2: tile_x8_any(Q8, 2, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                default: tile_x8_any(Q8, 1, FM, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                }
            }
        }
    }
    if (ad != ad_s) free(ad), free(ay);
}
#define mm_x8(FM, ...) mm_x8q(0, FM, __VA_ARGS__)

/* byte k of every 32-bit lane */
INLINE v128_t byte_at(v128_t v, const int k) { return wasm_v128_and(wasm_u32x4_shr(v, 8 * k), splat_i32(0xff)); }

/* Q4_K in the X8 layout (simd.h), relaxed: per 32-value sub-block, the relaxed dots of its 8 pieces against the
 * activation's 4 bytes splat leave each row's dot in its lane (rows 0-3 and 4-7: two vectors), times the rows'
 * scales, which ggml's shuffle unpacks lane by lane from the three scale words. Integer sums and fmas as scalar's
 * Q4_K_R8: NB == 4 is llama.cpp's gemm (one fma per 64-value pair), fewer rows its gemv (one per block). */
INLINE void tile_q4k_x8(const int NB, const int FM, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                        size_t ldo) {
    const int per_pair = NB == 4;
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0);
    const v128_t k1 = splat_i32(0x3f3f3f3f), k2 = splat_i32(0x0f0f0f0f), k3 = splat_i32(0x03030303);
    v128_t acc[4][2], accm[4][2];
    for (int b = 0; b < 4; b++)
        for (int h = 0; h < 2; h++) acc[b][h] = accm[b][h] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_K)) {
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
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            const uint8_t *q8 = ab + offsetof(block_q8_K, qs);
            int16_t bs[QK_K / 16];
            memcpy(bs, ab + offsetof(block_q8_K, bsums), sizeof bs);
            const v128_t dy = wasm_f32x4_splat(ldf(ab));
            const v128_t d[2] = { wasm_f32x4_mul(dw[0], dy), wasm_f32x4_mul(dw[1], dy) };
            const v128_t dmin[2] = { wasm_f32x4_mul(dm[0], dy), wasm_f32x4_mul(dm[1], dy) };
            v128_t sum[2] = { zero, zero }, msum[2] = { zero, zero };
            for (int c = 0; c < 4; c++) { /* sub-blocks 2c (low nibbles) and 2c + 1 (high) */
                v128_t dl[2] = { zero, zero }, dh[2] = { zero, zero };
                for (int v = 0; v < 8; v++) {
                    const v128_t yl = wasm_v128_load32_splat(q8 + 64 * c + 4 * v);
                    const v128_t yh = wasm_v128_load32_splat(q8 + 64 * c + 32 + 4 * v);
                    for (int h = 0; h < 2; h++) {
                        const v128_t t = ld(w + 128 + 256 * c + 32 * v + 16 * h);
                        dl[h] = RDOT(yl, wasm_v128_and(t, m4), dl[h]);
                        dh[h] = RDOT(yh, wasm_u8x16_shr(t, 4), dh[h]);
                    }
                }
                const v128_t s0 = wasm_i32x4_splat(bs[4 * c] + bs[4 * c + 1]), s1 = wasm_i32x4_splat(bs[4 * c + 2] + bs[4 * c + 3]);
                for (int h = 0; h < 2; h++) {
                    const v128_t scv = sc[c / 2][h], mnv = mn[c / 2][h];
                    const v128_t P = wasm_i32x4_add(wasm_i32x4_mul(dl[h], byte_at(scv, (2 * c) % 4)),
                                                    wasm_i32x4_mul(dh[h], byte_at(scv, (2 * c + 1) % 4)));
                    const v128_t M = wasm_i32x4_add(wasm_i32x4_mul(byte_at(mnv, (2 * c) % 4), s0),
                                                    wasm_i32x4_mul(byte_at(mnv, (2 * c + 1) % 4), s1));
                    if (per_pair) {
                        acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(P), d[h], acc[b][h]);
                        accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(M), dmin[h], accm[b][h]);
                    } else {
                        sum[h] = wasm_i32x4_add(sum[h], P), msum[h] = wasm_i32x4_add(msum[h], M);
                    }
                }
            }
            if (!per_pair)
                for (int h = 0; h < 2; h++) {
                    acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(sum[h]), d[h], acc[b][h]);
                    accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(msum[h]), dmin[h], accm[b][h]);
                }
        }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_sub(acc[b][h], accm[b][h]));
}

/* Q4_K_X8 driver: groups of 8 rows; activation rows in groups of 4 (gemm), the last 1..3 one group (gemv) */
INLINE void mm_q4k_x8(const int FM, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    for (int b = 0; b < nb; b += 4)
        for (int r = 0; r < nr; r += 8) {
            u8c *wr = w + (size_t)r * ws, *ab = a + (size_t)b * as;
            float *ob = out + (size_t)b * ldo + r;
            switch (nb - b < 4 ? nb - b : 4) {
            case 4: tile_q4k_x8(4, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            case 3: tile_q4k_x8(3, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            case 2: tile_q4k_x8(2, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            default: tile_q4k_x8(1, FM, n / QK_K, wr, ab, as, ob, ldo); break;
            }
        }
}
