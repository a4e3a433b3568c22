/* Matmul tiles of Q5_0, Q4_1, Q5_1 and plain IQ4_NL (32-value blocks, a fused update per block).
 * Part of simd/wasm128.c's translation unit, included there in this place: it uses the helpers defined above the
 * #include and defines what the drivers below it instantiate. Not a header of its own. */

/* Q5_0, Q4_1, Q5_1 (scalar vdot_q5_0, q_1): RW weight rows x NB activation rows per pass (MM_WIDE), the shift-only
 * forms for the contract's eight lanes (lanes 0..3: elements 0..15, 4..7: 16..31), each block's update fused as
 * in lanes8_add: FAST 1 (the fast SIMD128 table) the double rounding without the midpoint fix-up, as Q8_0's, 0 the
 * exact emulation (the relaxed build's fused form is tile_q32r, below). The fifth
 * bit of element 2k (lane k of the even vector) is bit 2k of qh: picked by a per-lane mask, no shuffles. Q4_1 /
 * Q5_1 also fuse summs = fma(m_w, s_a, summs) per block; result hsum8(lanes) + summs. */
enum { T32_Q5_0, T32_Q4_1, T32_Q5_1 };
INLINE void tile_q32(const int RW, const int NB, const int T, const int FAST, int n, const uint8_t *w, size_t ws,
                     const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t wbs = T == T32_Q5_0 ? sizeof(block_q5_0) : T == T32_Q4_1 ? sizeof(block_q4_1) : sizeof(block_q5_1);
    const size_t abs_ = T == T32_Q5_0 ? sizeof(block_q8_0) : sizeof(block_q8_1);
    const size_t qso = T == T32_Q5_0 ? offsetof(block_q5_0, qs) : T == T32_Q4_1 ? offsetof(block_q4_1, qs) : offsetof(block_q5_1, qs);
    const size_t qho = T == T32_Q5_0 ? offsetof(block_q5_0, qh) : offsetof(block_q5_1, qh);
    const size_t aqs = T == T32_Q5_0 ? 2 : 4;
    const v128_t me = wasm_u16x8_make(1, 4, 16, 64, 256, 1024, 4096, 16384);
    const v128_t mo = wasm_u16x8_make(2, 8, 32, 128, 512, 2048, 8192, 32768);
    const v128_t s16 = wasm_i16x8_splat(16), z = wasm_i16x8_splat(0);
    v128_t lo[4], hi[4], ad[4][4];
    float summs[4] = { 0, 0, 0, 0 };
    lanes8_zero(lo, hi, ad);
    for (int i = 0; i < n / 32; i++) {
        v128_t wv[4][4], y[4][4];
        float dw[4], mw[4], da[4], sa[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + (size_t)i * wbs;
            v128_t *q = wv[r];
            nib16(ld(wb + qso), &q[0], &q[1], &q[2], &q[3]);
            if (T != T32_Q4_1) {
                uint32_t qh;
                memcpy(&qh, wb + qho, 4);
                const v128_t L = wasm_i16x8_splat((int16_t)(qh & 0xffff)), H = wasm_i16x8_splat((int16_t)(qh >> 16));
                const v128_t c0 = wasm_i16x8_eq(wasm_v128_and(L, me), z), c1 = wasm_i16x8_eq(wasm_v128_and(L, mo), z);
                const v128_t c2 = wasm_i16x8_eq(wasm_v128_and(H, me), z), c3 = wasm_i16x8_eq(wasm_v128_and(H, mo), z);
                if (T == T32_Q5_0) { /* q - 16: minus 16 where the bit is clear */
                    q[0] = wasm_i16x8_sub(q[0], wasm_v128_and(c0, s16)), q[1] = wasm_i16x8_sub(q[1], wasm_v128_and(c1, s16));
                    q[2] = wasm_i16x8_sub(q[2], wasm_v128_and(c2, s16)), q[3] = wasm_i16x8_sub(q[3], wasm_v128_and(c3, s16));
                } else {
                    q[0] = wasm_v128_or(q[0], wasm_v128_andnot(s16, c0)), q[1] = wasm_v128_or(q[1], wasm_v128_andnot(s16, c1));
                    q[2] = wasm_v128_or(q[2], wasm_v128_andnot(s16, c2)), q[3] = wasm_v128_or(q[3], wasm_v128_andnot(s16, c3));
                }
            }
            dw[r] = h2f(ld16(wb));
            mw[r] = T == T32_Q5_0 ? 0.0f : h2f(ld16(wb + 2));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * abs_;
            act32(ab + aqs, y[b]);
            da[b] = h2f(ld16(ab));
            sa[b] = T == T32_Q5_0 ? 0.0f : h2f(ld16(ab + 2));
        }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const v128_t s0 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[r][0], y[b][0]), wasm_i32x4_dot_i16x8(wv[r][1], y[b][1]));
                const v128_t s1 = wasm_i32x4_add(wasm_i32x4_dot_i16x8(wv[r][2], y[b][2]), wasm_i32x4_dot_i16x8(wv[r][3], y[b][3]));
                if (T != T32_Q5_0) summs[k] = plm_fmaf(mw[r], sa[b], summs[k]);
                fma8_any(!FAST, dw[r] * da[b], s0, s1, ad[k]);
            }
    }
    lanes8_store(0, RW, NB, lo, hi, ad, out, ldo);
    if (T != T32_Q5_0)
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] += summs[r * NB + b];
}

#ifdef PLM_BACKEND_WASM_RELAXED
/* tile_q32's relaxed form (FAST 2: the update by RMADD): the quants unsigned (Q5_0 as q + 16, 0..31) are the relaxed
 * dot's 7-bit operand, one dot per 16 values into the contract's lanes; Q5_0's -16 enters as the dot's addend,
 * -16 times the activation's lane sums, made once per activation block for the RW weight rows (Q8_0 quants are in
 * [-127, 127], so negating them is exact). The fifth bits: qh's bytes spread 8 to a vector by a shuffle, each
 * byte's own bit picked by a mask. */
INLINE void tile_q32r(const int RW, const int NB, const int T, int n, const uint8_t *w, size_t ws, const uint8_t *a,
                      size_t as, float *out, size_t ldo) {
    const size_t wbs = T == T32_Q5_0 ? sizeof(block_q5_0) : T == T32_Q4_1 ? sizeof(block_q4_1) : sizeof(block_q5_1);
    const size_t abs_ = T == T32_Q5_0 ? sizeof(block_q8_0) : sizeof(block_q8_1);
    const size_t qso = T == T32_Q5_0 ? offsetof(block_q5_0, qs) : T == T32_Q4_1 ? offsetof(block_q4_1, qs) : offsetof(block_q5_1, qs);
    const size_t qho = T == T32_Q5_0 ? offsetof(block_q5_0, qh) : offsetof(block_q5_1, qh);
    const size_t aqs = T == T32_Q5_0 ? 2 : 4;
    const v128_t m4 = wasm_i8x16_splat(0x0f), b16 = wasm_i8x16_splat(16), zero = wasm_i32x4_splat(0);
    const v128_t bit = wasm_i8x16_make(1, 2, 4, 8, 16, 32, 64, -128, 1, 2, 4, 8, 16, 32, 64, -128);
    v128_t lo[4], hi[4], ad[4][4];
    float summs[4] = { 0, 0, 0, 0 };
    lanes8_zero(lo, hi, ad);
    for (int i = 0; i < n / 32; i++) {
        v128_t u[4][2];
        float dw[4], mw[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + (size_t)i * wbs;
            const v128_t q = ld(wb + qso);
            u[r][0] = wasm_v128_and(q, m4), u[r][1] = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
            if (T != T32_Q4_1) {
                uint32_t qh;
                memcpy(&qh, wb + qho, 4);
                const v128_t h = wasm_i32x4_splat((int32_t)qh);
                const v128_t h0 = wasm_i8x16_shuffle(h, h, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
                const v128_t h1 = wasm_i8x16_shuffle(h, h, 2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
                u[r][0] = wasm_v128_or(u[r][0], wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(h0, bit), bit), b16));
                u[r][1] = wasm_v128_or(u[r][1], wasm_v128_and(wasm_i8x16_eq(wasm_v128_and(h1, bit), bit), b16));
            }
            dw[r] = h2f(ld16(wb));
            mw[r] = T == T32_Q5_0 ? 0.0f : h2f(ld16(wb + 2));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * abs_;
            const v128_t y0 = ld(ab + aqs), y1 = ld(ab + aqs + 16);
            v128_t c0 = zero, c1 = zero;
            if (T == T32_Q5_0) c0 = RDOT(wasm_i8x16_neg(y0), b16, zero), c1 = RDOT(wasm_i8x16_neg(y1), b16, zero);
            const float da = h2f(ld16(ab)), sa = T == T32_Q5_0 ? 0.0f : h2f(ld16(ab + 2));
            for (int r = 0; r < RW; r++) {
                const int k = r * NB + b;
                if (T != T32_Q5_0) summs[k] = plm_fmaf(mw[r], sa, summs[k]);
                lanes8_add(1, dw[r] * da, RDOT(y0, u[r][0], c0), RDOT(y1, u[r][1], c1), &lo[k], &hi[k], ad[k]);
            }
        }
    }
    lanes8_store(1, RW, NB, lo, hi, ad, out, ldo);
    if (T != T32_Q5_0)
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] += summs[r * NB + b];
}
#endif

/* IQ4_NL x Q8_0 (scalar vdot_iq4_nl): even and odd blocks in two sets of lanes, added lane by lane before hsum8, an
 * odd last block one fma of its whole dot after. R8 (IQ4_NL_R8): one fma of the whole block dot per block. */
INLINE void tile_iq4_nl(const int NB, const int R8, const int FM, int n, const uint8_t *w, const uint8_t *a,
                        size_t as, float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), values = ld(plm_iq4nl_values);
    v128_t lo[2][4], hi[2][4];
    float acc[4] = { 0, 0, 0, 0 };
    for (int h = 0; h < 2; h++)
        for (int b = 0; b < NB; b++) lo[h][b] = hi[h][b] = wasm_f32x4_splat(0.0f);
    const int nblk = n / 32, npair = R8 ? 0 : nblk & ~1;
    for (int i = 0; i < nblk; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_iq4_nl);
        const v128_t q = ld(wb + 2);
        v128_t w0u, w0v, w1u, w1v;
        split4(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &w0u, &w0v);
        split4(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &w1u, &w1v);
        const float dw = h2f(ld16(wb));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0);
            const float da = h2f(ld16(ab));
            v128_t yu, yv;
            split4(ld(ab + 2), &yu, &yv);
            const v128_t s0 = dot4(w0u, w0v, yu, yv);
            split4(ld(ab + 18), &yu, &yv);
            const v128_t s1 = dot4(w1u, w1v, yu, yv);
            if (i < npair) {
                lo[i & 1][b] = upd(FM, da * dw, s0, lo[i & 1][b]);
                hi[i & 1][b] = upd(FM, da * dw, s1, hi[i & 1][b]);
            } else if (R8) {
                acc[b] = plm_fmaf((float)hsum_i32(wasm_i32x4_add(s0, s1)), dw * da, acc[b]);
            } /* else: an odd last block, added after the reduction below */
        }
    }
    for (int b = 0; b < NB; b++) {
        if (R8) { out[(size_t)b * ldo] = acc[b]; continue; }
        float s = hsum8(wasm_f32x4_add(lo[0][b], lo[1][b]), wasm_f32x4_add(hi[0][b], hi[1][b]));
        if (npair < nblk) { /* the odd last block: one fma of its whole dot on the reduced sum */
            const uint8_t *wb = w + (size_t)npair * sizeof(block_iq4_nl), *ab = a + (size_t)b * as + (size_t)npair * sizeof(block_q8_0);
            const v128_t q = ld(wb + 2);
            v128_t w0u, w0v, w1u, w1v, yu, yv;
            split4(wasm_i8x16_swizzle(values, wasm_v128_and(q, m4)), &w0u, &w0v);
            split4(wasm_i8x16_swizzle(values, wasm_u8x16_shr(q, 4)), &w1u, &w1v);
            split4(ld(ab + 2), &yu, &yv);
            const v128_t s0 = dot4(w0u, w0v, yu, yv);
            split4(ld(ab + 18), &yu, &yv);
            s = plm_fmaf(h2f(ld16(ab)) * h2f(ld16(wb)), (float)hsum_i32(wasm_i32x4_add(s0, dot4(w1u, w1v, yu, yv))), s);
        }
        out[(size_t)b * ldo] = s;
    }
}
