/* Matmul tiles of the 32-value block types with Q8_0 activations: Q8_0, Q4_0 (plain, R8; relaxed dot forms), and the
 * pair form IQ4_NL_R8 shares.
 * Part of simd/wasm128.c's translation unit, included there in this place: it uses the helpers defined above the
 * #include and defines what the drivers below it instantiate. Not a header of its own. */

/* ---------------------------------------------------------------- matmul tiles
 * A tile computes RW weight rows x NB activation rows (RW*NB <= 4) in one pass; output (r, b) is k = r*NB + b.
 * RW, NB, and the type/mode flags are compile-time constants at every call site (forced inline). Every quantized
 * kernel reproduces scalar's (ggml AVX2's) eight lanes: lane L = the integer sum of products 4L..4L+3 of 32 values
 * (the relaxed dot's layout), updated with a fused multiply-add by the block's scale, then hsum8. */

/* int8 x16 -> the two i16x8 halves laid out for i32x4.dot_i16x8 to sum 4 consecutive elements per lane:
 * u = elements 0,1,4,5,8,9,12,13 and v = 2,3,6,7,10,11,14,15 */
INLINE void split4(v128_t x, v128_t *u, v128_t *v) {
    const v128_t t = wasm_i8x16_shuffle(x, x, 0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15);
    *u = wasm_i16x8_extend_low_i8x16(t);
    *v = wasm_i16x8_extend_high_i8x16(t);
}

INLINE v128_t dot4(v128_t xu, v128_t xv, v128_t yu, v128_t yv) {
    return wasm_i32x4_add(wasm_i32x4_dot_i16x8(xu, yu), wasm_i32x4_dot_i16x8(xv, yv));
}

/* Q4_0_R8 without the relaxed dot needs only each block's whole sum, in any grouping: read as eight u16 lanes, the
 * block's 16 bytes give elements 2k (low nibble of the low byte), 2k+1, 2k+16 and 2k+17 (the high nibbles) of lane
 * k with one mask or shift each, no shuffles; the activations' even and odd bytes, sign-extended to i16, pair with
 * them in i32x4.dot_i16x8, and the -8 comes off through 8 * the activations' sum. */
INLINE void pl_act(v128_t x, v128_t *even, v128_t *odd) {
    *even = wasm_i16x8_shr(wasm_i16x8_shl(x, 8), 8);
    *odd = wasm_i16x8_shr(x, 8);
}

/* lane k of a tile = output (k / NB, k % NB): the activation row's value from v, which holds 4 rows' */
INLINE v128_t by_b(const int NB, v128_t v) {
    switch (NB) { /* (shuffle lanes must be literal constants) */
    case 1: return wasm_i32x4_shuffle(v, v, 0, 0, 0, 0);
    case 2: return wasm_i32x4_shuffle(v, v, 0, 1, 0, 1);
    case 3: return wasm_i32x4_shuffle(v, v, 0, 1, 2, 0);
    default: return v;
    }
}

/* the half at p + idx*stride + off, or 0 for a lane the tile does not use */
INLINE uint32_t h_at(const int used, const uint8_t *p, size_t stride, int idx, size_t off) {
    return used ? ld16(p + (size_t)idx * stride + off) : 0u;
}

/* Q8_0 / Q4_0 x Q8_0, one tile function per weight type and variant. Q4_0: element j < 16 is the low nibble of
 * byte j, 16+j the high nibble, minus 8. All take (..., ad4, ay4): the activation rows' scales and 8 * their sums
 * (q0_meta), 4 lanes per block.
 *   tile_q8_0, tile_q4_0      eight lanes per output: lane L (lo 0..3, hi 4..7) = fma(dw*da, products 4L..4L+3,
 *                             lane L), then hsum8 (lanes8_*)
 *   tile_q4_0_r8              Q4_0_R8 (llama.cpp's repacked order): one float per output, acc = fma((float)(the
 *                             block's whole integer dot), dw*da, acc), the tile's 4 outputs in the 4 lanes of acc
 *   tile_q4_0_rdot, tile_q4_0_r8_rdot   the same two orders for the relaxed build: the unsigned nibbles are the
 *                             relaxed dot's 7-bit operand, and 8 * (sum of the activations) comes off
 * FM (the ones the relaxed table also uses): the float update by relaxed_madd (fused), else the exact emulation. */

/* the tile's scale products dw*da at block offset woff, lane k = r*NB + b (lanes past RW*NB: 0) */
INLINE v128_t q0_scales(const int RW, const int NB, const uint8_t *w, size_t ws, size_t woff, const float *ad4) {
    const int kn = RW * NB;
    const v128_t hw = wasm_u32x4_make(h_at(0 < kn, w, ws, 0 / NB, woff), h_at(1 < kn, w, ws, 1 / NB, woff),
                                      h_at(2 < kn, w, ws, 2 / NB, woff), h_at(3 < kn, w, ws, 3 / NB, woff));
    return wasm_f32x4_mul(h2f4(hw), by_b(NB, ld(ad4)));
}

/* Eight-lane accumulators of up to 4 outputs: lo/hi float lanes when fused (FM), else f64x2 pairs 01, 23, 45, 67
 * (fma8_exact). */
INLINE void lanes8_zero(v128_t lo[4], v128_t hi[4], v128_t ad[4][4]) {
    for (int k = 0; k < 4; k++) {
        lo[k] = hi[k] = wasm_f32x4_splat(0.0f);
        for (int j = 0; j < 4; j++) ad[k][j] = wasm_f64x2_splat(0.0);
    }
}

/* lanes += d * (s0 | s1), fused like scalar's fmaf */
INLINE void lanes8_add(const int FM, float d, v128_t s0, v128_t s1, v128_t *lo, v128_t *hi, v128_t ad[4]) {
    if (FM) {
        *lo = RMADD(wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(s0), *lo);
        *hi = RMADD(wasm_f32x4_splat(d), wasm_f32x4_convert_i32x4(s1), *hi);
    } else {
        fma8_exact(d, s0, s1, ad);
    }
}

INLINE void lanes8_store(const int FM, const int RW, const int NB, v128_t lo[4], v128_t hi[4], v128_t ad[4][4],
                         float *out, size_t ldo) {
    if (!FM)
        for (int k = 0; k < RW * NB; k++) {
            lo[k] = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(ad[k][0]), wasm_f32x4_demote_f64x2_zero(ad[k][1]), 0, 1, 4, 5);
            hi[k] = wasm_i32x4_shuffle(wasm_f32x4_demote_f64x2_zero(ad[k][2]), wasm_f32x4_demote_f64x2_zero(ad[k][3]), 0, 1, 4, 5);
        }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = hsum8(lo[r * NB + b], hi[r * NB + b]);
}

/* One block of the eight-lane form for signed int8 weights (w0: elements 0..15, w1: 16..31 of each weight row) */
INLINE void lanes8_block(const int RW, const int NB, const int FM, const v128_t w0[4], const v128_t w1[4],
                         const uint8_t *a, size_t as, size_t aoff, v128_t dv, v128_t lo[4], v128_t hi[4],
                         v128_t ad[4][4]) {
    v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
    for (int r = 0; r < RW; r++) split4(w0[r], &wu0[r], &wv0[r]), split4(w1[r], &wu1[r], &wv1[r]);
    for (int b = 0; b < NB; b++) {
        const uint8_t *p = a + (size_t)b * as + aoff + 2;
        split4(ld(p), &au0[b], &av0[b]), split4(ld(p + 16), &au1[b], &av1[b]);
    }
    const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                          wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) {
            const int k = r * NB + b;
            lanes8_add(FM, dk[k], dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]), &lo[k],
                       &hi[k], ad[k]);
        }
}

INLINE void tile_q8_0(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws, const uint8_t *a,
                      size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK8_0; ib++) {
        const size_t off = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + off + 2;
            w0[r] = ld(p), w1[r] = ld(p + 16);
        }
        lanes8_block(RW, NB, FM, w0, w1, a, as, off, q0_scales(RW, NB, w, ws, off, ad4 + 4 * (size_t)ib), lo, hi, ad);
    }
    lanes8_store(FM, RW, NB, lo, hi, ad, out, ldo);
}

INLINE void tile_q4_0(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                      float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), s8 = wasm_i8x16_splat(8);
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4];
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_i8x16_sub(wasm_v128_and(q, m4), s8), w1[r] = wasm_i8x16_sub(wasm_u8x16_shr(q, 4), s8);
        }
        lanes8_block(RW, NB, 0, w0, w1, a, as, aoff, q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib), lo, hi, ad);
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
}

/* Q4_0_R8 forms: t[k] holds 4 partial integer sums of output k; their totals, output k in lane k, minus the -8
 * offsets (8 * the activation block's sum, from ay4) */
INLINE v128_t r8_block_sums(const int NB, const v128_t t[4], const int32_t *ay4) {
    const v128_t t01 = wasm_i32x4_add(wasm_i32x4_shuffle(t[0], t[1], 0, 4, 1, 5), wasm_i32x4_shuffle(t[0], t[1], 2, 6, 3, 7));
    const v128_t t23 = wasm_i32x4_add(wasm_i32x4_shuffle(t[2], t[3], 0, 4, 1, 5), wasm_i32x4_shuffle(t[2], t[3], 2, 6, 3, 7));
    const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7));
    return ay4 ? wasm_i32x4_sub(sum, by_b(NB, ld(ay4))) : sum;
}

INLINE void r8_store(const int RW, const int NB, v128_t acc, float *out, size_t ldo) {
    float res[4];
    wasm_v128_store(res, acc);
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = res[r * NB + b];
}

/* Without the relaxed dot only each block's whole sum is needed, in any grouping: the u16-lane form of pl_act.
 * Q8 1 (Q8_0 weights, fast tables only): the weights' even and odd bytes sign-extended like the activations'; 2
 * (IQ4_NL_R8, the same order as Q4_0_R8 on the IQ4_NL levels): the levels looked up, then split likewise.
 * FAST: the block update by fma_d (1, the fast SIMD128 table) or RMADD (2, relaxed: fused where the engine
 * fuses), else the exact fma. */
INLINE void tile_q0_pairs(const int RW, const int NB, const int Q8, const int FAST, int n, const uint8_t *w, size_t ws,
                          const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t n4 = wasm_i16x8_splat(0x0f), zero = wasm_i32x4_splat(0);
    const size_t wb = Q8 == 1 ? sizeof(block_q8_0) : sizeof(block_q4_0);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * wb, aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
        for (int r = 0; r < RW; r++) { /* elements 2k, 2k+1, 2k+16, 2k+17 in lane k (see pl_act) */
            const uint8_t *p = w + (size_t)r * ws + woff + 2;
            if (Q8 == 1) {
                pl_act(ld(p), &wu0[r], &wv0[r]), pl_act(ld(p + 16), &wu1[r], &wv1[r]);
            } else if (Q8 == 2) { /* IQ4_NL: the levels of the low nibbles (elements 0..15), then of the high */
                const v128_t q = ld(p), values = ld(plm_iq4nl_values), m4 = wasm_i8x16_splat(0x0f);
                pl_act(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &wu0[r], &wv0[r]);
                pl_act(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &wu1[r], &wv1[r]);
            } else {
                const v128_t q = ld(p);
                wu0[r] = wasm_v128_and(q, n4), wv0[r] = wasm_v128_and(wasm_u16x8_shr(q, 8), n4);
                wu1[r] = wasm_v128_and(wasm_u16x8_shr(q, 4), n4), wv1[r] = wasm_u16x8_shr(q, 12);
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            pl_act(ld(p), &au0[b], &av0[b]), pl_act(ld(p + 16), &au1[b], &av1[b]);
        }
        v128_t t[4] = { zero, zero, zero, zero };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++)
                t[r * NB + b] = wasm_i32x4_add(dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]));
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        const v128_t sum = wasm_f32x4_convert_i32x4(r8_block_sums(NB, t, Q8 ? NULL : ay4 + 4 * (size_t)ib));
        acc = FAST == 2 ? RMADD(sum, dv, acc) : FAST ? fma_d(sum, dv, acc) : fma_ff(sum, dv, acc);
    }
    r8_store(RW, NB, acc, out, ldo);
}

/* Q8_0 for the fast tables: the contract's eight lanes with shift-only integer sums (pl_act's even and odd
 * elements: dot_i16x8 of the even ones gives products 4k and 4k+2 in lane k, of the odd ones 4k+1 and 4k+3, so their
 * sum is lane k of the contract for elements 0..15, likewise 16..31 for lanes 4..7), updated by fma8_any without
 * the midpoint fix-up. */
INLINE void tile_q8_0_fast(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                           float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK8_0; ib++) {
        const size_t off = (size_t)ib * sizeof(block_q8_0);
        v128_t wu0[4], wv0[4], wu1[4], wv1[4], au0[4], av0[4], au1[4], av1[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *p = w + (size_t)r * ws + off + 2;
            pl_act(ld(p), &wu0[r], &wv0[r]), pl_act(ld(p + 16), &wu1[r], &wv1[r]);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + off + 2;
            pl_act(ld(p), &au0[b], &av0[b]), pl_act(ld(p + 16), &au1[b], &av1[b]);
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, off, ad4 + 4 * (size_t)ib);
        const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                              wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                fma8_any(0, dk[k], dot4(wu0[r], wv0[r], au0[b], av0[b]), dot4(wu1[r], wv1[r], au1[b], av1[b]), ad[k]);
            }
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
}

#ifdef PLM_BACKEND_WASM_RELAXED
INLINE void tile_q4_0_rdot(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                           const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4, const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), ones = wasm_i8x16_splat(1), zero = wasm_i32x4_splat(0);
    v128_t lo[4], hi[4], ad[4][4];
    lanes8_zero(lo, hi, ad);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4], a0[4], a1[4], m0[4], m1[4];
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_v128_and(q, m4), w1[r] = wasm_u8x16_shr(q, 4);
        }
        for (int b = 0; b < NB; b++) { /* m: 8 * the sums of 4 activations, the -8 per lane */
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            a0[b] = ld(p), a1[b] = ld(p + 16);
            m0[b] = wasm_i32x4_shl(RDOT(a0[b], ones, zero), 3), m1[b] = wasm_i32x4_shl(RDOT(a1[b], ones, zero), 3);
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        const float dk[4] = { wasm_f32x4_extract_lane(dv, 0), wasm_f32x4_extract_lane(dv, 1),
                              wasm_f32x4_extract_lane(dv, 2), wasm_f32x4_extract_lane(dv, 3) };
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                lanes8_add(FM, dk[k], wasm_i32x4_sub(RDOT(a0[b], w0[r], zero), m0[b]),
                           wasm_i32x4_sub(RDOT(a1[b], w1[r], zero), m1[b]), &lo[k], &hi[k], ad[k]);
            }
    }
    lanes8_store(FM, RW, NB, lo, hi, ad, out, ldo);
}

INLINE void tile_q4_0_r8_rdot(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                              const uint8_t *a, size_t as, float *out, size_t ldo, const float *ad4,
                              const int32_t *ay4) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0);
    v128_t acc = wasm_f32x4_splat(0.0f);
    for (int ib = 0; ib < n / QK4_0; ib++) {
        const size_t woff = (size_t)ib * sizeof(block_q4_0), aoff = (size_t)ib * sizeof(block_q8_0);
        v128_t w0[4], w1[4], t[4] = { zero, zero, zero, zero };
        for (int r = 0; r < RW; r++) {
            const v128_t q = ld(w + (size_t)r * ws + woff + 2);
            w0[r] = wasm_v128_and(q, m4), w1[r] = wasm_u8x16_shr(q, 4);
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *p = a + (size_t)b * as + aoff + 2;
            const v128_t a0 = ld(p), a1 = ld(p + 16);
            for (int r = 0; r < RW; r++) t[r * NB + b] = RDOT(a0, w0[r], RDOT(a1, w1[r], zero));
        }
        const v128_t dv = q0_scales(RW, NB, w, ws, woff, ad4 + 4 * (size_t)ib);
        acc = fmav(FM, wasm_f32x4_convert_i32x4(r8_block_sums(NB, t, ay4 + 4 * (size_t)ib)), dv, acc);
    }
    r8_store(RW, NB, acc, out, ldo);
}
#endif
