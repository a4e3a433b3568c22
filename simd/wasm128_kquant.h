/* Matmul tiles of the K-quants (Q4_K, Q5_K, Q6_K, Q2_K, Q3_K) and IQ4_XS, and the shift-only SIMD128 integer
 * forms the wide tiles share.
 * Part of simd/wasm128.c's translation unit, included there in this place: it uses the helpers defined above the
 * #include and defines what the drivers below it instantiate. Not a header of its own. */

/* the integer 4-product lanes of 16 weights x 16 activations: relaxed dot (weights unsigned, < 128) or SIMD128 */
INLINE v128_t qdot(const int IM, v128_t wq, v128_t wu, v128_t wv, v128_t y) {
    if (IM) return RDOT(y, wq, wasm_i32x4_splat(0));
    v128_t yu, yv;
    split4(y, &yu, &yv);
    return dot4(wu, wv, yu, yv);
}

/* Q4_K x Q8_K, one weight row, NB activation rows (scalar vdot_q4_K): lanes 0..3 take the first 16 values of each
 * 32-value sub-block, lanes 4..7 the second 16, times the sub-block's scale; per super-block acc = fma(dy*d, lanes,
 * acc); the mins: accm[p] = fma(-dy*dmin, mn[2p]*(pair of bsums) + mn[2p+1]*(next pair), accm[p]); result
 * hsum8(acc) + ((accm0 + accm2) + (accm1 + accm3)). R8 (Q4_K_R8, llama.cpp's repacked kernels): one float per
 * output for the scales and one for the mins, result acc - accm; activation rows in full groups of 4 (NB == 4:
 * llama.cpp's gemm) fuse every 64-value pair of sub-blocks, acc = fma((float)(sc_2p*dot_2p + sc_2p+1*dot_2p+1),
 * dw*dy, acc) and likewise the mins, the others (gemv) once per super-block (scalar fmaf: a few per 256 values). */
INLINE void tile_q4_K(const int NB, const int R8, const int IM, const int FM, int n, const uint8_t *w, const uint8_t *a,
                      size_t as, float *out, size_t ldo) {
    const int per_pair = R8 && NB == 4; /* then the 4 activation rows' accumulators are the lanes of accv, accmv */
    const v128_t m4 = wasm_i8x16_splat(0x0f);
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    v128_t accv = wasm_f32x4_splat(0.0f), accmv = accv;
    v128_t lo[4], hi[4], am[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = am[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q4_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        plm_q4k_unpack(wb + offsetof(block_q4_K, scales), sc, mn);
        const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn));
        const v128_t mlo = wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3); /* one min per bsums entry */
        const v128_t mhi = wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q4_K, dmin)));
        const uint8_t *q4 = wb + offsetof(block_q4_K, qs);
        v128_t slo[4], shi[4], prod[4];
        float dy[4];
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            slo[b] = shi[b] = wasm_i32x4_splat(0);
            dy[b] = ldf(ab);
            /* lane p: mn_2p*S_2p + mn_2p+1*S_2p+1, S_j = bsums 2j + 2j+1 */
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mlo);
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mhi);
            prod[b] = wasm_i32x4_add(wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6), wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7));
        }
        /* per_pair: lane b of pmv[j] = row b's mins product of pair j; of dwy, dmy: dw * dy[b], dminw * dy[b] */
        v128_t pmv[4], dwy = wasm_f32x4_splat(0.0f), dmy = dwy;
        if (per_pair) {
            const v128_t t01 = wasm_i32x4_shuffle(prod[0], prod[1], 0, 4, 1, 5), t23 = wasm_i32x4_shuffle(prod[2], prod[3], 0, 4, 1, 5);
            const v128_t u01 = wasm_i32x4_shuffle(prod[0], prod[1], 2, 6, 3, 7), u23 = wasm_i32x4_shuffle(prod[2], prod[3], 2, 6, 3, 7);
            pmv[0] = wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), pmv[1] = wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7);
            pmv[2] = wasm_i32x4_shuffle(u01, u23, 0, 1, 4, 5), pmv[3] = wasm_i32x4_shuffle(u01, u23, 2, 3, 6, 7);
            const v128_t dyv = ld(dy);
            dwy = wasm_f32x4_mul(wasm_f32x4_splat(dw), dyv), dmy = wasm_f32x4_mul(wasm_f32x4_splat(dminw), dyv);
        }
        for (int j = 0; j < QK_K / 64; j++) {
            const v128_t qa = ld(q4 + 32 * j), qb = ld(q4 + 32 * j + 16);
            v128_t q[4] = { wasm_v128_and(qa, m4), wasm_v128_and(qb, m4), wasm_u8x16_shr(qa, 4), wasm_u8x16_shr(qb, 4) };
            v128_t qu[4], qv[4];
            if (!IM)
                for (int m = 0; m < 4; m++) split4(q[m], &qu[m], &qv[m]);
            const v128_t s0 = wasm_i32x4_splat(sc[2 * j]), s1 = wasm_i32x4_splat(sc[2 * j + 1]);
            v128_t tp[4]; /* per_pair: row b's lanes of pair j */
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                const v128_t tlo = wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[0], qu[0], qv[0], ld(q8)), s0),
                                                  wasm_i32x4_mul(qdot(IM, q[2], qu[2], qv[2], ld(q8 + 32)), s1));
                const v128_t thi = wasm_i32x4_add(wasm_i32x4_mul(qdot(IM, q[1], qu[1], qv[1], ld(q8 + 16)), s0),
                                                  wasm_i32x4_mul(qdot(IM, q[3], qu[3], qv[3], ld(q8 + 48)), s1));
                if (per_pair) tp[b] = wasm_i32x4_add(tlo, thi);
                else slo[b] = wasm_i32x4_add(slo[b], tlo), shi[b] = wasm_i32x4_add(shi[b], thi);
            }
            if (per_pair) { /* the 4 rows' sums in the lanes of one vector, then one fma each for scales and mins */
                const v128_t t01 = wasm_i32x4_add(wasm_i32x4_shuffle(tp[0], tp[1], 0, 4, 1, 5), wasm_i32x4_shuffle(tp[0], tp[1], 2, 6, 3, 7));
                const v128_t t23 = wasm_i32x4_add(wasm_i32x4_shuffle(tp[2], tp[3], 0, 4, 1, 5), wasm_i32x4_shuffle(tp[2], tp[3], 2, 6, 3, 7));
                const v128_t sum = wasm_i32x4_add(wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7));
                accv = fmav(FM, wasm_f32x4_convert_i32x4(sum), dwy, accv);
                accmv = fmav(FM, wasm_f32x4_convert_i32x4(pmv[j]), dmy, accmv);
            }
        }
        for (int b = 0; b < NB; b++) {
            if (per_pair) continue;
            if (R8) { /* gemv: whole-block sums, one fma each */
                acc[b] = plm_fmaf((float)hsum_i32(wasm_i32x4_add(slo[b], shi[b])), dw * dy[b], acc[b]);
                accm[b] = plm_fmaf((float)hsum_i32(prod[b]), dminw * dy[b], accm[b]);
                continue;
            }
            const float d = dy[b] * dw, dmin = -dy[b] * dminw;
            am[b] = upd(FM, dmin, prod[b], am[b]);
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    if (per_pair) wasm_v128_store(acc, accv), wasm_v128_store(accm, accmv);
    for (int b = 0; b < NB; b++) {
        const v128_t t = wasm_f32x4_add(am[b], wasm_i32x4_shuffle(am[b], am[b], 2, 3, 0, 1));
        out[(size_t)b * ldo] = R8 ? acc[b] - accm[b]
                                  : hsum8(lo[b], hi[b]) + (wasm_f32x4_extract_lane(t, 0) + wasm_f32x4_extract_lane(t, 1));
    }
}

/* Shift-only SIMD128 integer forms (no shuffles, activations split once per tile): 16 bytes read as eight u16
 * lanes give, per lane k, the 4-bit quants of elements 2k and 2k+1 (low nibbles of bytes 2k, 2k+1) and of the
 * high nibbles likewise; pl_act splits 16 activation bytes into their even and odd elements. dot_i16x8 of the even
 * pair and of the odd pair, added, is lane k = products 4k..4k+3: the contract's lane for those 16 values, so
 * these forms serve the lane-exact kernels as well as the whole-sum ones. */
INLINE void nib16(v128_t q, v128_t *le, v128_t *lo, v128_t *he, v128_t *ho) {
    const v128_t n4 = wasm_i16x8_splat(0x0f);
    *le = wasm_v128_and(q, n4), *lo = wasm_v128_and(wasm_u16x8_shr(q, 8), n4);
    *he = wasm_v128_and(wasm_u16x8_shr(q, 4), n4), *ho = wasm_u16x8_shr(q, 12);
}

/* 32 activation bytes at p as the even/odd i16 halves of elements 0..15 (y[0], y[1]) and 16..31 (y[2], y[3]) */
INLINE void act32(const uint8_t *p, v128_t y[4]) { pl_act(ld(p), &y[0], &y[1]), pl_act(ld(p + 16), &y[2], &y[3]); }

/* lanes of 32 values: weights w[0..3] (as act32's layout) against activations y[0..3] */
INLINE v128_t dot32(const v128_t w[4], const v128_t y[4]) {
    return wasm_i32x4_add(wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[0], y[0]), wasm_i32x4_dot_i16x8(w[1], y[1])),
                          wasm_i32x4_add(wasm_i32x4_dot_i16x8(w[2], y[2]), wasm_i32x4_dot_i16x8(w[3], y[3])));
}

/* Q4_K_R8 on SIMD128 (scalar's Q4_K_R8 order, bit for bit): RW weight rows x NB activation rows per pass (MM_WIDE),
 * the shift-only forms for the integer sums, which the R8 order needs only as whole sums per 64 (gemm: NB == 4)
 * or 256 values (gemv). Weight nibbles unpacked once per activation row group (RW >= NB) or activations split
 * once per weight row (RW < NB), whichever is fewer. */
INLINE void tile_q4k_r8w(const int RW, const int NB, const int FM, int n, const uint8_t *w, size_t ws,
                         const uint8_t *a, size_t as, float *out, size_t ldo, const v128_t *ys, size_t ysr) {
    const int per_pair = NB == 4, KN = RW * NB;
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    v128_t accv = wasm_f32x4_splat(0.0f), accmv = accv;
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * sizeof(block_q4_K), aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[4][8], mn[4][8];
        float dw[4], dm[4], dy[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            plm_q4k_unpack(wb + offsetof(block_q4_K, scales), sc[r], mn[r]);
            dw[r] = h2f(ld16(wb)), dm[r] = h2f(ld16(wb + offsetof(block_q4_K, dmin)));
        }
        v128_t prod[4]; /* output k: lane p = the mins product of 64-value pair p */
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            dy[b] = ldf(ab);
            const v128_t b0 = ld(ab + offsetof(block_q8_K, bsums)), b1 = ld(ab + offsetof(block_q8_K, bsums) + 16);
            for (int r = 0; r < RW; r++) {
                const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn[r]));
                const v128_t e0 = wasm_i32x4_dot_i16x8(b0, wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3));
                const v128_t e1 = wasm_i32x4_dot_i16x8(b1, wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7));
                prod[r * NB + b] = wasm_i32x4_add(wasm_i32x4_shuffle(e0, e1, 0, 2, 4, 6), wasm_i32x4_shuffle(e0, e1, 1, 3, 5, 7));
            }
        }
        v128_t s[4], pmv[4], dwy = wasm_f32x4_splat(0.0f), dmy = dwy;
        for (int k = 0; k < 4; k++) s[k] = wasm_i32x4_splat(0);
        if (per_pair) { /* RW == 1: lane b of pmv[p] = row b's mins product of pair p */
            const v128_t t01 = wasm_i32x4_shuffle(prod[0], prod[1], 0, 4, 1, 5), t23 = wasm_i32x4_shuffle(prod[2], prod[3], 0, 4, 1, 5);
            const v128_t u01 = wasm_i32x4_shuffle(prod[0], prod[1], 2, 6, 3, 7), u23 = wasm_i32x4_shuffle(prod[2], prod[3], 2, 6, 3, 7);
            pmv[0] = wasm_i32x4_shuffle(t01, t23, 0, 1, 4, 5), pmv[1] = wasm_i32x4_shuffle(t01, t23, 2, 3, 6, 7);
            pmv[2] = wasm_i32x4_shuffle(u01, u23, 0, 1, 4, 5), pmv[3] = wasm_i32x4_shuffle(u01, u23, 2, 3, 6, 7);
            const v128_t dyv = ld(dy);
            dwy = wasm_f32x4_mul(wasm_f32x4_splat(dw[0]), dyv), dmy = wasm_f32x4_mul(wasm_f32x4_splat(dm[0]), dyv);
        }
        for (int j = 0; j < QK_K / 64; j++) {
            v128_t P[4];
            /* the weight row's two sub-blocks 2j (low nibbles) and 2j + 1 (high) in act32's layout, times their scales
             * (at most 15 * 63 as i16: the scale is applied once per weight row instead of once per product lane) */
#define Q4K_W(r, lo, hi)                                                                                             \
    do {                                                                                                             \
        const uint8_t *q4 = w + (size_t)(r) * ws + woff + offsetof(block_q4_K, qs) + 32 * j;                         \
        nib16(ld(q4), &lo[0], &lo[1], &hi[0], &hi[1]);                                                               \
        nib16(ld(q4 + 16), &lo[2], &lo[3], &hi[2], &hi[3]);                                                          \
        const v128_t sl_ = wasm_i16x8_splat((int16_t)sc[r][2 * j]), sh_ = wasm_i16x8_splat((int16_t)sc[r][2 * j + 1]); \
        for (int q = 0; q < 4; q++) lo[q] = wasm_i16x8_mul(lo[q], sl_), hi[q] = wasm_i16x8_mul(hi[q], sh_);      \
    } while (0)
/* activation row b's values 64j..64j+63 in act32's layout: split here, or already split (ys: q4k_split's rows) */
#define Q4K_ACT(b)                                                                                                   \
    do {                                                                                                             \
        if (ys) {                                                                                                    \
            const v128_t *yv = ys + (size_t)(b) * ysr + 32 * (size_t)i + 8 * j;                                      \
            for (int q = 0; q < 4; q++) yl[q] = yv[q], yh[q] = yv[4 + q];                                            \
        } else {                                                                                                     \
            const uint8_t *q8 = a + (size_t)(b) * as + aoff + offsetof(block_q8_K, qs) + 64 * j;                     \
            act32(q8, yl), act32(q8 + 32, yh);                                                                       \
        }                                                                                                            \
    } while (0)
#define Q4K_DOT(r, b)                                                                                                \
    P[(r) * NB + (b)] = wasm_i32x4_add(dot32(wl, yl), dot32(wh, yh))
            if (RW >= NB) {
                for (int b = 0; b < NB; b++) {
                    v128_t yl[4], yh[4];
                    Q4K_ACT(b);
                    for (int r = 0; r < RW; r++) {
                        v128_t wl[4], wh[4];
                        Q4K_W(r, wl, wh);
                        Q4K_DOT(r, b);
                    }
                }
            } else {
                for (int r = 0; r < RW; r++) {
                    v128_t wl[4], wh[4];
                    Q4K_W(r, wl, wh);
                    for (int b = 0; b < NB; b++) {
                        v128_t yl[4], yh[4];
                        Q4K_ACT(b);
                        Q4K_DOT(r, b);
                    }
                }
            }
#undef Q4K_W
#undef Q4K_ACT
#undef Q4K_DOT
            if (per_pair) { /* the 4 rows' pair sums in the lanes of one vector, one fma each for scales and mins */
                accv = fmav(FM, wasm_f32x4_convert_i32x4(r8_block_sums(4, P, NULL)), dwy, accv);
                accmv = fmav(FM, wasm_f32x4_convert_i32x4(pmv[j]), dmy, accmv);
            } else {
                for (int k = 0; k < KN; k++) s[k] = wasm_i32x4_add(s[k], P[k]);
            }
        }
        if (!per_pair) /* gemv: whole-block sums, one fma each */
            for (int r = 0; r < RW; r++)
                for (int b = 0; b < NB; b++) {
                    const int k = r * NB + b;
                    acc[k] = plm_fmaf((float)hsum_i32(s[k]), dw[r] * dy[b], acc[k]);
                    accm[k] = plm_fmaf((float)hsum_i32(prod[k]), dm[r] * dy[b], accm[k]);
                }
    }
    if (per_pair) wasm_v128_store(acc, accv), wasm_v128_store(accm, accmv);
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = acc[r * NB + b] - accm[r * NB + b];
}

/* Q5_K x Q8_K, one weight row, NB activation rows (scalar vdot_q5_K): tile_q4_K's lanes (non-R8) on the 5-bit
 * quants (nibble | bit 2j or 2j+1 of qh << 4: below 128, so the relaxed dot takes them as its 7-bit operand); the
 * mins are one integer per super-block, summs = fma(-dy*dmin, m, summs); result hsum8(lanes) + summs. Lane sums
 * in tile_q6_K's three FORMs (below). */
INLINE void tile_q5_K(const int NB, const int FORM, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), m10 = wasm_i8x16_splat(0x10), zero = wasm_i32x4_splat(0);
    float summs[4] = { 0, 0, 0, 0 };
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q5_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        uint8_t sc[8], mn[8];
        plm_q4k_unpack(wb + offsetof(block_q5_K, scales), sc, mn);
        const v128_t mins = wasm_u16x8_extend_low_u8x16(wasm_v128_load64_zero(mn));
        const v128_t mlo = wasm_i16x8_shuffle(mins, mins, 0, 0, 1, 1, 2, 2, 3, 3);
        const v128_t mhi = wasm_i16x8_shuffle(mins, mins, 4, 4, 5, 5, 6, 6, 7, 7);
        const float dw = h2f(ld16(wb)), dminw = h2f(ld16(wb + offsetof(block_q5_K, dmin)));
        const uint8_t *q5 = wb + offsetof(block_q5_K, qs);
        const v128_t h0 = ld(wb + offsetof(block_q5_K, qh)), h1 = ld(wb + offsetof(block_q5_K, qh) + 16);
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = zero;
        for (int j = 0; j < QK_K / 64; j++) {
            const v128_t qa = ld(q5 + 32 * j), qb = ld(q5 + 32 * j + 16);
            /* bit k of each qh byte moved to bit 4 by a 16-bit shift (the neighbour byte's bits land elsewhere) */
#define BIT4(h, k) wasm_v128_and((k) <= 4 ? wasm_i16x8_shl(h, 4 - (k)) : wasm_u16x8_shr(h, (k) - 4), m10)
            const v128_t q[4] = { wasm_v128_or(wasm_v128_and(qa, m4), BIT4(h0, 2 * j)),
                                  wasm_v128_or(wasm_v128_and(qb, m4), BIT4(h1, 2 * j)),
                                  wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(qa, 4), m4), BIT4(h0, 2 * j + 1)),
                                  wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(qb, 4), m4), BIT4(h1, 2 * j + 1)) };
#undef BIT4
            const v128_t s16[2] = { wasm_i16x8_splat(sc[2 * j]), wasm_i16x8_splat(sc[2 * j + 1]) };
            const v128_t s32[2] = { wasm_i32x4_splat(sc[2 * j]), wasm_i32x4_splat(sc[2 * j + 1]) };
            v128_t qe[4], qo[4];
            for (int m = 0; m < 4; m++)
                qe[m] = wasm_i16x8_mul(wasm_v128_and(q[m], wasm_i16x8_splat(0xff)), s16[m / 2]),
                qo[m] = wasm_i16x8_mul(wasm_u16x8_shr(q[m], 8), s16[m / 2]);
            for (int b = 0; b < NB; b++) {
                const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 64 * j;
                v128_t t[4], ye, yo;
                for (int m = 0; m < 4; m++) {
                    const v128_t y = ld(q8 + 16 * m);
#ifdef PLM_BACKEND_WASM_RELAXED
                    if (FORM == 1) t[m] = wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(y, q[m]), s16[m / 2]);
                    else
#endif
                    if (FORM == 0) t[m] = wasm_i32x4_mul(RDOT(y, q[m], zero), s32[m / 2]);
                    else pl_act(y, &ye, &yo), t[m] = wasm_i32x4_add(wasm_i32x4_dot_i16x8(qe[m], ye), wasm_i32x4_dot_i16x8(qo[m], yo));
                }
                slo[b] = wasm_i32x4_add(slo[b], wasm_i32x4_add(t[0], t[2]));
                shi[b] = wasm_i32x4_add(shi[b], wasm_i32x4_add(t[1], t[3]));
            }
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const float dy = ldf(ab);
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mlo);
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mhi);
            summs[b] = plm_fmaf(-dy * dminw, (float)hsum_i32(wasm_i32x4_add(e0, e1)), summs[b]);
            const float d = dy * dw;
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]) + summs[b];
}

/* Q2_K x Q8_K (scalar vdot_q2_K): per super-block, lanes first take the mins (lane L: mn_2L*bs_2L + mn_2L+1*bs_2L+1,
 * fma with -dy*dmin), then the scaled quants (per 32 values, lanes 0..3 the first 16 times scale 8j+2k, lanes 4..7
 * the second 16 times 8j+2k+1; fma with dy*d); hsum8. R8 (Q2_K_R8): whole sums, acc and accm fused per super-block,
 * or per 128 values for full groups of 4 activation rows (NB == 4: llama.cpp's gemm); result acc - accm. */
INLINE void tile_q2_K(const int NB, const int R8, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m3 = wasm_i8x16_splat(3);
    v128_t lo[4], hi[4];
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q2_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const uint8_t *sc = wb + offsetof(block_q2_K, scales);
        const v128_t mn8 = wasm_u8x16_shr(ld(sc), 4);
        const v128_t mn0 = wasm_u16x8_extend_low_u8x16(mn8), mn1 = wasm_u16x8_extend_high_u8x16(mn8);
        v128_t slo[2][4], shi[2][4];
        for (int j = 0; j < 2; j++)
            for (int b = 0; b < NB; b++) slo[j][b] = shi[j][b] = wasm_i32x4_splat(0);
        for (int j = 0; j < 2; j++) {
            const v128_t qa = ld(wb + offsetof(block_q2_K, qs) + 32 * j), qb = ld(wb + offsetof(block_q2_K, qs) + 32 * j + 16);
            for (int k = 0; k < 4; k++) {
                v128_t w0u, w0v, w1u, w1v;
                split4(wasm_v128_and(wasm_u8x16_shr(qa, 2 * k), m3), &w0u, &w0v);
                split4(wasm_v128_and(wasm_u8x16_shr(qb, 2 * k), m3), &w1u, &w1v);
                const v128_t s0 = wasm_i32x4_splat(sc[8 * j + 2 * k] & 0xF), s1 = wasm_i32x4_splat(sc[8 * j + 2 * k + 1] & 0xF);
                for (int b = 0; b < NB; b++) {
                    const uint8_t *q8 = a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 128 * j + 32 * k;
                    v128_t yu, yv;
                    split4(ld(q8), &yu, &yv);
                    slo[j][b] = wasm_i32x4_add(slo[j][b], wasm_i32x4_mul(dot4(w0u, w0v, yu, yv), s0));
                    split4(ld(q8 + 16), &yu, &yv);
                    shi[j][b] = wasm_i32x4_add(shi[j][b], wasm_i32x4_mul(dot4(w1u, w1v, yu, yv), s1));
                }
            }
        }
        const float dw = h2f(ld16(wb + offsetof(block_q2_K, d))), dminw = h2f(ld16(wb + offsetof(block_q2_K, dmin)));
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const float dy = ldf(ab);
            const v128_t e0 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), mn0);      /* lanes 0..3 */
            const v128_t e1 = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), mn1); /* lanes 4..7 */
            if (R8) {
                const int s0 = hsum_i32(wasm_i32x4_add(slo[0][b], shi[0][b])), s1 = hsum_i32(wasm_i32x4_add(slo[1][b], shi[1][b]));
                const int mm0 = hsum_i32(e0), mm1 = hsum_i32(e1);
                const float d = dw * dy, dm = dminw * dy;
                if (NB == 4) {
                    acc[b] = plm_fmaf((float)s0, d, acc[b]), accm[b] = plm_fmaf((float)mm0, dm, accm[b]);
                    acc[b] = plm_fmaf((float)s1, d, acc[b]), accm[b] = plm_fmaf((float)mm1, dm, accm[b]);
                } else {
                    acc[b] = plm_fmaf((float)(s0 + s1), d, acc[b]), accm[b] = plm_fmaf((float)(mm0 + mm1), dm, accm[b]);
                }
            } else {
                lo[b] = upd(FM, -dy * dminw, e0, lo[b]);
                hi[b] = upd(FM, -dy * dminw, e1, hi[b]);
                lo[b] = upd(FM, dy * dw, wasm_i32x4_add(slo[0][b], slo[1][b]), lo[b]);
                hi[b] = upd(FM, dy * dw, wasm_i32x4_add(shi[0][b], shi[1][b]), hi[b]);
            }
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = R8 ? acc[b] - accm[b] : hsum8(lo[b], hi[b]);
}

/* Q2_K_R8 on SIMD128 (scalar's Q2_K_R8 order, bit for bit): RW weight rows x NB activation rows (MM_WIDE), the
 * 2-bit quants of a 16-byte run read as u16 lanes (even elements: bits 2k of the low byte, odd: of the high), so
 * the integer sums need no shuffles; whole sums per 128 values, fused as tile_q2_K's R8. */
INLINE void tile_q2k_r8w(const int RW, const int NB, int n, const uint8_t *w, size_t ws, const uint8_t *a, size_t as,
                         float *out, size_t ldo) {
    const v128_t m3 = wasm_i16x8_splat(3);
    float acc[4] = { 0, 0, 0, 0 }, accm[4] = { 0, 0, 0, 0 };
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * sizeof(block_q2_K), aoff = (size_t)i * sizeof(block_q8_K);
        const uint8_t *sc[4], *qs[4], *q8[4];
        float dw[4], dm[4], dy[4];
        int mm[4][2];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            sc[r] = wb + offsetof(block_q2_K, scales), qs[r] = wb + offsetof(block_q2_K, qs);
            dw[r] = h2f(ld16(wb + offsetof(block_q2_K, d))), dm[r] = h2f(ld16(wb + offsetof(block_q2_K, dmin)));
        }
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            dy[b] = ldf(ab), q8[b] = ab + offsetof(block_q8_K, qs);
            const v128_t bs0 = ld(ab + offsetof(block_q8_K, bsums)), bs1 = ld(ab + offsetof(block_q8_K, bsums) + 16);
            for (int r = 0; r < RW; r++) {
                const v128_t mn8 = wasm_u8x16_shr(ld(sc[r]), 4);
                mm[r * NB + b][0] = hsum_i32(wasm_i32x4_dot_i16x8(bs0, wasm_u16x8_extend_low_u8x16(mn8)));
                mm[r * NB + b][1] = hsum_i32(wasm_i32x4_dot_i16x8(bs1, wasm_u16x8_extend_high_u8x16(mn8)));
            }
        }
        v128_t s[4][2];
        for (int k = 0; k < 4; k++) s[k][0] = s[k][1] = wasm_i32x4_splat(0);
        for (int j = 0; j < 2; j++)
#pragma clang loop unroll(disable) /* code size */
            for (int k = 0; k < 4; k++)
                for (int h = 0; h < 2; h++) { /* values 128j + 32k + 16h .. +15: bits 2k of qs[32j + 16h ..], scale 8j + 2k + h */
                    v128_t ye[4], yo[4];
                    for (int b = 0; b < NB; b++) pl_act(ld(q8[b] + 128 * j + 32 * k + 16 * h), &ye[b], &yo[b]);
                    for (int r = 0; r < RW; r++) {
                        const v128_t q = ld(qs[r] + 32 * j + 16 * h);
                        const v128_t we = wasm_v128_and(wasm_u16x8_shr(q, 2 * k), m3), wo = wasm_v128_and(wasm_u16x8_shr(q, 8 + 2 * k), m3);
                        const v128_t scv = wasm_i32x4_splat(sc[r][8 * j + 2 * k + h] & 0xF);
                        for (int b = 0; b < NB; b++)
                            s[r * NB + b][j] = wasm_i32x4_add(s[r * NB + b][j], wasm_i32x4_mul(wasm_i32x4_add(wasm_i32x4_dot_i16x8(we, ye[b]), wasm_i32x4_dot_i16x8(wo, yo[b])), scv));
                    }
                }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const int s0 = hsum_i32(s[k][0]), s1 = hsum_i32(s[k][1]);
                const float d = dw[r] * dy[b], dmn = dm[r] * dy[b];
                if (NB == 4) {
                    acc[k] = plm_fmaf((float)s0, d, acc[k]), accm[k] = plm_fmaf((float)mm[k][0], dmn, accm[k]);
                    acc[k] = plm_fmaf((float)s1, d, acc[k]), accm[k] = plm_fmaf((float)mm[k][1], dmn, accm[k]);
                } else {
                    acc[k] = plm_fmaf((float)(s0 + s1), d, acc[k]), accm[k] = plm_fmaf((float)(mm[k][0] + mm[k][1]), dmn, accm[k]);
                }
            }
    }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) out[(size_t)b * ldo + r] = acc[r * NB + b] - accm[r * NB + b];
}

/* Q6_K x Q8_K, one weight row, NB activation rows (scalar vdot_q6_K, ggml AVX2's bsums form): with the unsigned
 * 6-bit quants (0..63), of each 32 values lanes 0..3 take the first 16 times its scale, lanes 4..7 the second 16
 * times the next scale; then lane L -= 32*(sc_2L*bsum_2L + sc_2L+1*bsum_2L+1); per super-block acc = fma(dy*d,
 * lanes, acc); result hsum8(acc). The quants are unpacked with 16-bit shifts (x86 has no byte shift). Lane sums
 * three exact ways (FORM):
 *   0  relaxed dot (the quants its 7-bit operand) into i32, times the scale (ARM: one sdot)
 *   1  on engines that lower the relaxed dot to pmaddubsw (dot_x86): its i16 pair sums (at most 2 * 63 * 128) times
 *      the scale by i32x4.dot_i16x8, ggml AVX2's own pair of instructions
 *   2  SIMD128: the quants' even and odd bytes as i16 (a mask and a shift: they are unsigned) times the scale (at
 *      most 63 * 128), dot_i16x8 with the activation's even and odd bytes: together the 4-product lanes */
INLINE void tile_q6_K(const int NB, const int FORM, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), m30 = wasm_i8x16_splat(0x30), zero = wasm_i32x4_splat(0);
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q6_K);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const int8_t *sc = (const int8_t *)(wb + offsetof(block_q6_K, scales));
        const float dw = h2f(ld16(wb + offsetof(block_q6_K, d)));
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = zero;
        for (int half = 0; half < 2; half++) {
            const uint8_t *ql = wb + offsetof(block_q6_K, ql) + 64 * half;
            const uint8_t *qh = wb + offsetof(block_q6_K, qh) + 32 * half;
            const v128_t h0 = ld(qh), h1 = ld(qh + 16);
            const v128_t l0 = ld(ql), l1 = ld(ql + 16), l2 = ld(ql + 32), l3 = ld(ql + 48);
            v128_t q[8]; /* q[m]: values 128*half + 16m .. +15, scale sc[8*half + m]; even m -> lo */
            q[0] = wasm_v128_or(wasm_v128_and(l0, m4), wasm_v128_and(wasm_i16x8_shl(h0, 4), m30));
            q[1] = wasm_v128_or(wasm_v128_and(l1, m4), wasm_v128_and(wasm_i16x8_shl(h1, 4), m30));
            q[2] = wasm_v128_or(wasm_v128_and(l2, m4), wasm_v128_and(wasm_i16x8_shl(h0, 2), m30));
            q[3] = wasm_v128_or(wasm_v128_and(l3, m4), wasm_v128_and(wasm_i16x8_shl(h1, 2), m30));
            q[4] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l0, 4), m4), wasm_v128_and(h0, m30));
            q[5] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l1, 4), m4), wasm_v128_and(h1, m30));
            q[6] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l2, 4), m4), wasm_v128_and(wasm_u16x8_shr(h0, 2), m30));
            q[7] = wasm_v128_or(wasm_v128_and(wasm_u16x8_shr(l3, 4), m4), wasm_v128_and(wasm_u16x8_shr(h1, 2), m30));
            for (int m = 0; m < 8; m++) {
                const int s = sc[8 * half + m];
                const v128_t s16 = wasm_i16x8_splat((int16_t)s), s32 = wasm_i32x4_splat(s);
                const v128_t qe = wasm_i16x8_mul(wasm_v128_and(q[m], wasm_i16x8_splat(0xff)), s16);
                const v128_t qo = wasm_i16x8_mul(wasm_u16x8_shr(q[m], 8), s16);
                for (int b = 0; b < NB; b++) {
                    const v128_t y = ld(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 128 * half + 16 * m);
                    v128_t t, ye, yo;
#ifdef PLM_BACKEND_WASM_RELAXED
                    if (FORM == 1) t = wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(y, q[m]), s16);
                    else
#endif
                    if (FORM == 0) t = wasm_i32x4_mul(RDOT(y, q[m], zero), s32);
                    else pl_act(y, &ye, &yo), t = wasm_i32x4_add(wasm_i32x4_dot_i16x8(qe, ye), wasm_i32x4_dot_i16x8(qo, yo));
                    if (m & 1) shi[b] = wasm_i32x4_add(shi[b], t);
                    else slo[b] = wasm_i32x4_add(slo[b], t);
                }
            }
        }
        const v128_t s8v = ld(sc);
        const v128_t sa = wasm_i16x8_extend_low_i8x16(s8v), sb = wasm_i16x8_extend_high_i8x16(s8v);
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + aoff;
            const v128_t clo = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums)), sa);
            const v128_t chi = wasm_i32x4_dot_i16x8(ld(ab + offsetof(block_q8_K, bsums) + 16), sb);
            slo[b] = wasm_i32x4_sub(slo[b], wasm_i32x4_shl(clo, 5));
            shi[b] = wasm_i32x4_sub(shi[b], wasm_i32x4_shl(chi, 5));
            const float d = ldf(ab) * dw;
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}

#ifdef PLM_BACKEND_WASM_RELAXED /* the relaxed dot's form; SIMD128 takes tile_klanes */
/* bits k, k+1.. of x's bytes moved to bit t by a 16-bit shift; the caller masks off what the shift carried over from
 * the neighbouring byte (x86 has no byte shift) */
INLINE v128_t bits_to(v128_t x, const int k, const int t) {
    return t >= k ? wasm_i16x8_shl(x, (uint32_t)(t - k)) : wasm_u16x8_shr(x, (uint32_t)(k - t));
}

/* Q3_K x Q8_K, one weight row, NB activation rows (scalar vdot_q3_K): the 16 values of group g (j = g/8, k = g%8/2,
 * h = g%2: bits 2k of qs run 2j + h, minus 4 where hmask bit 4j + k is clear) times its scale feed lanes 0..3 for
 * even g, 4..7 for odd g; per super-block acc = fma(dy*d, lanes, acc); result hsum8(acc). The quants (-4..3) by
 * tile_iq4_xs's sign trick: magnitudes as the 7-bit operand, signs onto the activations. */
INLINE void tile_q3_K(const int NB, const int I16, const int FM, int n, const uint8_t *w, const uint8_t *a, size_t as,
                      float *out, size_t ldo) {
    const v128_t m3 = wasm_i8x16_splat(3), b4 = wasm_i8x16_splat(4), zero = wasm_i32x4_splat(0);
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_q3_K), *s12 = wb + offsetof(block_q3_K, scales);
        const size_t aoff = (size_t)i * sizeof(block_q8_K);
        const v128_t hm[2] = { ld(wb + offsetof(block_q3_K, hmask)), ld(wb + offsetof(block_q3_K, hmask) + 16) };
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = zero;
#pragma clang loop unroll(full) /* constant shifts and offsets */
        for (int g = 0; g < 16; g++) {
            const int j = g / 8, k = (g % 8) / 2, h = g % 2;
            const int sc = ((g < 8 ? s12[g] & 0xF : s12[g - 8] >> 4) | (((s12[8 + g % 4] >> (2 * (g / 4))) & 3) << 4)) - 32;
            const v128_t q = ld(wb + offsetof(block_q3_K, qs) + 32 * j + 16 * h);
            const v128_t v = wasm_i8x16_sub(wasm_v128_or(wasm_v128_and(bits_to(q, 2 * k, 0), m3),
                                                         wasm_v128_and(bits_to(hm[h], 4 * j + k, 2), b4)), b4);
            const v128_t mag = wasm_i8x16_abs(v), neg = wasm_i8x16_lt(v, zero);
            const v128_t s16 = wasm_i16x8_splat((int16_t)sc), s32 = wasm_i32x4_splat(sc);
            for (int b = 0; b < NB; b++) {
                const v128_t y = ld(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 16 * g);
                const v128_t ys = wasm_i8x16_sub(wasm_v128_xor(y, neg), neg);
                const v128_t t = I16 ? wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(ys, mag), s16)
                                     : wasm_i32x4_mul(RDOT(ys, mag, zero), s32);
                if (g & 1) shi[b] = wasm_i32x4_add(shi[b], t);
                else slo[b] = wasm_i32x4_add(slo[b], t);
            }
        }
        const float dw = h2f(ld16(wb + offsetof(block_q3_K, d)));
        for (int b = 0; b < NB; b++) {
            const float d = ldf(a + (size_t)b * as + aoff) * dw;
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}

/* IQ4_XS x Q8_K, one weight row, NB activation rows (scalar vdot_iq4_xs): ggml AVX2's sign trick, exact here because
 * Q8_K has no -128: the levels' magnitudes (at most 127) are the relaxed dot's 7-bit operand and their signs move
 * onto the activations. Of each 32-value sub-block, lanes 0..3 take the low nibbles' 16 values and lanes 4..7 the
 * high nibbles', times the sub-block's scale - 32 (I16 as tile_q6_K's); per super-block acc = fma(d*dy, lanes,
 * acc); result hsum8(acc). */
INLINE void tile_iq4_xs(const int NB, const int I16, const int FM, int n, const uint8_t *w, const uint8_t *a,
                        size_t as, float *out, size_t ldo) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0), levels = ld(plm_iq4nl_values);
    const v128_t mag = wasm_i8x16_abs(levels), neg = wasm_i8x16_lt(levels, zero);
    v128_t lo[4], hi[4];
    for (int b = 0; b < NB; b++) lo[b] = hi[b] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const uint8_t *wb = w + (size_t)i * sizeof(block_iq4_xs);
        const size_t aoff = (size_t)i * sizeof(block_q8_K) + offsetof(block_q8_K, qs);
        v128_t slo[4], shi[4];
        for (int b = 0; b < NB; b++) slo[b] = shi[b] = zero;
        for (int ib = 0; ib < QK_K / 32; ib++) {
            const v128_t q = ld(wb + offsetof(block_iq4_xs, qs) + 16 * ib);
            const v128_t nl = wasm_v128_and(q, m4), nh = wasm_v128_and(wasm_u16x8_shr(q, 4), m4);
            const v128_t ml = wasm_i8x16_relaxed_swizzle(mag, nl), mh = wasm_i8x16_relaxed_swizzle(mag, nh);
            const v128_t sl = wasm_i8x16_relaxed_swizzle(neg, nl), sh = wasm_i8x16_relaxed_swizzle(neg, nh);
            const int ls = plm_iq4xs_scale(wb, ib);
            const v128_t s16 = wasm_i16x8_splat((int16_t)ls), s32 = wasm_i32x4_splat(ls);
            for (int b = 0; b < NB; b++) {
                const uint8_t *y = a + (size_t)b * as + aoff + 32 * ib;
                const v128_t yl = wasm_i8x16_sub(wasm_v128_xor(ld(y), sl), sl);
                const v128_t yh = wasm_i8x16_sub(wasm_v128_xor(ld(y + 16), sh), sh);
                if (I16) {
                    slo[b] = wasm_i32x4_add(slo[b], wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(yl, ml), s16));
                    shi[b] = wasm_i32x4_add(shi[b], wasm_i32x4_dot_i16x8(wasm_i16x8_relaxed_dot_i8x16_i7x16(yh, mh), s16));
                } else {
                    slo[b] = wasm_i32x4_add(slo[b], wasm_i32x4_mul(RDOT(yl, ml, zero), s32));
                    shi[b] = wasm_i32x4_add(shi[b], wasm_i32x4_mul(RDOT(yh, mh, zero), s32));
                }
            }
        }
        const float dw = h2f(ld16(wb));
        for (int b = 0; b < NB; b++) {
            const float d = dw * ldf(a + (size_t)b * as + (size_t)i * sizeof(block_q8_K));
            lo[b] = upd(FM, d, slo[b], lo[b]);
            hi[b] = upd(FM, d, shi[b], hi[b]);
        }
    }
    for (int b = 0; b < NB; b++) out[(size_t)b * ldo] = hsum8(lo[b], hi[b]);
}
#endif

/* Q3_K and IQ4_XS on SIMD128 (scalar's eight lanes per super-block, bit for bit): RW weight rows x NB activation
 * rows per pass (MM_LEAN). In both, the 16 values of group g (values 16g..16g+15 of a super-block) have one scale
 * and feed lanes 0..3 for even g, 4..7 for odd g; kq_vals unpacks a group's 16 quants to bytes, pl_act splits them
 * and the activations (once per tile, not per weight row) into even and odd i16 halves, and dot_i16x8 of each pair
 * gives the contract's 4-product lanes. Per super-block the lanes are fused with dy*d as before (upd). */
enum { TK_Q3_K, TK_IQ4_XS };

INLINE v128_t kq_vals(const int T, const uint8_t *wb, const int g) {
    const v128_t m4 = wasm_i8x16_splat(0x0f), m3 = wasm_i8x16_splat(3), one = wasm_i8x16_splat(1);
    if (T == TK_Q3_K) { /* j = g/8, k = (g%8)/2, h = g%2: bits 2k of qs run 2j + h, minus 4 where hmask bit 4j+k is clear */
        const int j = g / 8, k = (g % 8) / 2, h = g % 2;
        const v128_t q = ld(wb + offsetof(block_q3_K, qs) + 32 * j + 16 * h);
        const v128_t hm = ld(wb + offsetof(block_q3_K, hmask) + 16 * h);
        return wasm_i8x16_sub(wasm_i8x16_add(wasm_v128_and(wasm_u8x16_shr(q, 2 * k), m3),
                                             wasm_i8x16_shl(wasm_v128_and(wasm_u8x16_shr(hm, 4 * j + k), one), 2)),
                              wasm_i8x16_splat(4));
    }
    /* IQ4_XS: sub-block g/2, low nibbles' levels for even g, high for odd */
    const v128_t q = ld(wb + offsetof(block_iq4_xs, qs) + 16 * (g / 2));
    return wasm_i8x16_swizzle(ld(plm_iq4nl_values), g % 2 ? wasm_u8x16_shr(q, 4) : wasm_v128_and(q, m4));
}

INLINE void tile_klanes(const int RW, const int NB, const int T, const int FM, int n, const uint8_t *w, size_t ws,
                        const uint8_t *a, size_t as, float *out, size_t ldo) {
    const size_t wbs = T == TK_Q3_K ? sizeof(block_q3_K) : sizeof(block_iq4_xs);
    v128_t lo[4], hi[4];
    for (int k = 0; k < 4; k++) lo[k] = hi[k] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < n / QK_K; i++) {
        const size_t woff = (size_t)i * wbs, aoff = (size_t)i * sizeof(block_q8_K);
        int sc[4][16];
        float dw[4];
        for (int r = 0; r < RW; r++) {
            const uint8_t *wb = w + (size_t)r * ws + woff;
            if (T == TK_Q3_K) {
                const uint8_t *s12 = wb + offsetof(block_q3_K, scales);
                for (int t = 0; t < 16; t++)
                    sc[r][t] = ((t < 8 ? s12[t] & 0xF : s12[t - 8] >> 4) | (((s12[8 + t % 4] >> (2 * (t / 4))) & 3) << 4)) - 32;
                dw[r] = h2f(ld16(wb + offsetof(block_q3_K, d)));
            } else {
                const uint16_t sh = ld16(wb + offsetof(block_iq4_xs, scales_h));
                const uint8_t *sl = wb + offsetof(block_iq4_xs, scales_l);
                for (int g = 0; g < 16; g++) {
                    const int ib = g / 2;
                    sc[r][g] = (((sl[ib / 2] >> (4 * (ib % 2))) & 0xF) | (((sh >> (2 * ib)) & 3) << 4)) - 32;
                }
                dw[r] = h2f(ld16(wb));
            }
        }
        v128_t slo[4], shi[4];
        for (int k = 0; k < 4; k++) slo[k] = shi[k] = wasm_i32x4_splat(0);
#pragma clang loop unroll(disable) /* code size: 16 groups x up to 4 outputs, per tile shape and type */
        for (int g = 0; g < 16; g++) {
            v128_t ye[4], yo[4];
            for (int b = 0; b < NB; b++) pl_act(ld(a + (size_t)b * as + aoff + offsetof(block_q8_K, qs) + 16 * g), &ye[b], &yo[b]);
            for (int r = 0; r < RW; r++) {
                v128_t we, wo;
                pl_act(kq_vals(T, w + (size_t)r * ws + woff, g), &we, &wo);
                const v128_t scv = wasm_i32x4_splat(sc[r][g]);
                for (int b = 0; b < NB; b++) {
                    const int k = r * NB + b;
                    const v128_t t = wasm_i32x4_mul(wasm_i32x4_add(wasm_i32x4_dot_i16x8(we, ye[b]), wasm_i32x4_dot_i16x8(wo, yo[b])), scv);
                    if (g & 1) shi[k] = wasm_i32x4_add(shi[k], t);
                    else slo[k] = wasm_i32x4_add(slo[k], t);
                }
            }
        }
        for (int r = 0; r < RW; r++)
            for (int b = 0; b < NB; b++) {
                const int k = r * NB + b;
                const float d = ldf(a + (size_t)b * as + aoff) * dw[r];
                lo[k] = upd(FM, d, slo[k], lo[k]);
                hi[k] = upd(FM, d, shi[k], hi[k]);
            }
    }
    for (int r = 0; r < RW; r++)
        for (int b = 0; b < NB; b++) {
            out[(size_t)b * ldo + r] = hsum8(lo[r * NB + b], hi[r * NB + b]);
        }
}
