/* The relaxed build's X8 tiles (simd.h's repacked layouts): Q4_0_X8, Q4_K_X8, Q8_0_X8 and their drivers.
 * Part of simd/wasm128.c's translation unit, included there in this place: it uses the helpers defined above the
 * #include and defines what the drivers below it instantiate. Not a header of its own.
 *
 * Integer dots two ways, both exact, picked per call by dot_x86(): I16 = 0, the relaxed dot into i32 lanes (ARM:
 * one sdot); I16 = 1, on engines that lower that dot as x86's pmaddubsw + pmaddwd + paddd, the i16 dot (pmaddubsw
 * alone) with its pair sums added up in i16 over a block's 8 pieces and widened once (Q4_K: widened and scaled
 * at once, by i32x4.dot_i16x8 with the scale in both halves): with a 4-bit operand that is at most
 * 8 * 2 * 128 * 15 = 30720, inside i16. */

/* 1 when the relaxed dot reads its 7-bit operand's bytes as unsigned (V8 and SpiderMonkey on x86: pmaddubsw);
 * ARM's sdot reads them signed. Only operands outside [0, 127] tell; the kernels never pass such. In WASI programs
 * (tests, tools) the environment's PLM_RDOT=i32 asks for the i32 form, so that tests on x86 run the kernels ARM
 * phones run; the engine's builds read no environment (it would change their JavaScript glue). */
static int dot_x86(void) {
    static _Atomic int form = -1;
    int f = atomic_load_explicit(&form, memory_order_relaxed);
    if (f < 0) {
        volatile int32_t b = (int32_t)0x80808080u;
        const v128_t r = RDOT(wasm_i8x16_splat(1), wasm_i32x4_splat(b), wasm_i32x4_splat(0));
        f = wasm_i32x4_extract_lane(r, 0) > 0;
#ifdef __wasi__
        const char *e = getenv("PLM_RDOT");
        if (e && !strcmp(e, "i32")) f = 0;
#endif
        atomic_store_explicit(&form, f, memory_order_relaxed);
    }
    return f;
}

/* acc16 + the i16 pair sums of a's bytes times b's (b in [0, 127]) */
INLINE v128_t dot16(v128_t a, v128_t b, v128_t acc16) { return wasm_i16x8_add(acc16, wasm_i16x8_relaxed_dot_i8x16_i7x16(a, b)); }
INLINE v128_t widen16(v128_t acc16) { return wasm_i32x4_extadd_pairwise_i16x8(acc16); }

/* the high nibbles of t's bytes; m4 = 0x0f splat (an i16 shift and the mask: x86 has no byte shift, and V8's
 * i8x16.shr_u rebuilds its mask every time) */
INLINE v128_t hi4(v128_t t, v128_t m4) { return wasm_v128_and(wasm_u16x8_shr(t, 4), m4); }

/* Q4_0 in the X8 layout (simd.h), relaxed: piece v of rows 0-3 is one vector and of rows 4-7 another, so the
 * relaxed dot against the activation's 4 bytes splat to every lane leaves row r's 4 products in lane r, summed over
 * the block's 8 pieces in place: two accumulators, no reductions. 8 rows x NB activation rows; ad4/ay4 as tile_q8_0's
 * (NULL: computed here, for the out-of-memory path). */
INLINE void tile_x8(const int NB, const int FM, const int I16, int nblk, const uint8_t *w, const uint8_t *a, size_t as,
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
                q[v][h] = wasm_v128_and(t, m4), q[v + 4][h] = hi4(t, m4);
            }
        for (int b = 0; b < NB; b++) {
            const uint8_t *y = a + (size_t)b * as + (size_t)i * sizeof(block_q8_0) + 2;
            v128_t s0 = zero, s1 = zero;
            for (int v = 0; v < 8; v++) {
                const v128_t ys = wasm_v128_load32_splat(y + 4 * (v % 4) + 16 * (v / 4));
                if (I16) s0 = dot16(ys, q[v][0], s0), s1 = dot16(ys, q[v][1], s1);
                else s0 = RDOT(ys, q[v][0], s0), s1 = RDOT(ys, q[v][1], s1);
            }
            if (I16) s0 = widen16(s0), s1 = widen16(s1);
            const int32_t y8 = ay4 ? ay4[4 * (size_t)i + b] : hsum_i32(RDOT(ld(y), eight, RDOT(ld(y + 16), eight, zero)));
            const v128_t da = wasm_f32x4_splat(ad4 ? ad4[4 * (size_t)i + b] : h2f(ld16(y - 2)));
            const v128_t c = wasm_i32x4_splat(y8);
            acc[b][0] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s0, c)), wasm_f32x4_mul(dlo, da), acc[b][0]);
            acc[b][1] = fmav(FM, wasm_f32x4_convert_i32x4(wasm_i32x4_sub(s1, c)), wasm_f32x4_mul(dhi, da), acc[b][1]);
        }
    }
    for (int b = 0; b < NB; b++) wasm_v128_store(out + (size_t)b * ldo, acc[b][0]), wasm_v128_store(out + (size_t)b * ldo + 4, acc[b][1]);
}

/* X8 driver: groups of 8 rows, activation rows 4 at a time with q0_meta's tables per chunk (as MM_Q0) */
INLINE void mm_x8(const int FM, const int I16, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out,
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
                    tile_x8(1, FM, I16, nblk, w + (size_t)r * ws, a + (size_t)b * as, as, NULL, NULL, out + (size_t)b * ldo + r, ldo);
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
                case 4: tile_x8(4, FM, I16, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 3: tile_x8(3, FM, I16, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                case 2: tile_x8(2, FM, I16, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                default: tile_x8(1, FM, I16, nblk, wr, ab, as, adb, ayb, ob, ldo); break;
                }
            }
        }
    }
    if (ad != ad_s) free(ad), free(ay);
}

/* bytes k0 and k1 of every 32-bit lane of v as its two i16 halves (k < 0: 0); one pshufb or tbl (index -128 gives 0
 * on every engine) */
#define PB(r, k) ((k) < 0 ? -128 : 4 * (r) + (k))
INLINE v128_t pick16(v128_t v, const int k0, const int k1) {
    return wasm_i8x16_relaxed_swizzle(v, wasm_i8x16_make(PB(0, k0), -128, PB(0, k1), -128, PB(1, k0), -128, PB(1, k1), -128,
                                                         PB(2, k0), -128, PB(2, k1), -128, PB(3, k0), -128, PB(3, k1), -128));
}

/* Q4_K in the X8 layout (simd.h), relaxed: per 32-value sub-block, the relaxed dots of its 8 pieces against the
 * activation's 4 bytes splat leave each row's dot in its lane (rows 0-3 and 4-7: two vectors), times the rows'
 * scales, which ggml's shuffle unpacks lane by lane from the three scale words. Integer sums and fmas as scalar's
 * Q4_K_R8: NB == 4 is llama.cpp's gemm (one fma per 64-value pair), fewer rows its gemv (one per block). The
 * scales and mins are unpacked once per block for all NB activation rows, each scale as an i16 pair (I16: the pair
 * sums times the scale in one i32x4.dot_i16x8, pmaddwd) or an i32 (the dot's i32 lanes times it), each sub-block
 * pair's two mins as an i16 pair, times the activation's two 32-value sums by one i32x4.dot_i16x8. */
INLINE void tile_q4k_x8(const int NB, const int FM, const int I16, int nblk, const uint8_t *w, const uint8_t *a, size_t as, float *out,
                        size_t ldo) {
    const int per_pair = NB == 4;
    const v128_t m4 = wasm_i8x16_splat(0x0f), zero = wasm_i32x4_splat(0);
    const v128_t k1 = splat_i32(0x3f3f3f3f), k2 = splat_i32(0x0f0f0f0f), k3 = splat_i32(0x03030303);
    v128_t acc[4][2], accm[4][2];
    for (int b = 0; b < 4; b++)
        for (int h = 0; h < 2; h++) acc[b][h] = accm[b][h] = wasm_f32x4_splat(0.0f);
    for (int i = 0; i < nblk; i++, w += 8 * sizeof(block_q4_K)) {
        v128_t dw[2], dm[2], sc[4][2][2], mn[4][2]; /* sc[c][h]: sub-blocks 2c, 2c + 1; mn[c][h]: their mins */
        h2f8(ld(w), &dw[0], &dw[1]);
        h2f8(ld(w + 16), &dm[0], &dm[1]);
        for (int h = 0; h < 2; h++) {
            const v128_t u0 = ld(w + 32 + 16 * h), u1 = ld(w + 64 + 16 * h), u2 = ld(w + 96 + 16 * h);
            /* bytes j of s03 / m03: scales / mins j (0..3), of s47 / m47: j + 4 */
            const v128_t s03 = wasm_v128_and(u0, k1), m03 = wasm_v128_and(u1, k1);
            const v128_t s47 = wasm_v128_or(wasm_v128_and(u2, k2), wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u0, 6), k3), 4));
            const v128_t m47 = wasm_v128_or(wasm_v128_and(wasm_u32x4_shr(u2, 4), k2),
                                            wasm_i32x4_shl(wasm_v128_and(wasm_u32x4_shr(u1, 6), k3), 4));
            for (int c = 0; c < 4; c++) {
                const v128_t sv = c < 2 ? s03 : s47, mv = c < 2 ? m03 : m47;
                const int j = (2 * c) % 4;
                sc[c][h][0] = pick16(sv, j, I16 ? j : -1);
                sc[c][h][1] = pick16(sv, j + 1, I16 ? j + 1 : -1);
                mn[c][h] = pick16(mv, j, j + 1);
            }
        }
        const uint8_t *q8[4];
        v128_t d[4][2], dmin[4][2], s01[4][4], sum[4][2], msum[4][2];
        for (int b = 0; b < NB; b++) {
            const uint8_t *ab = a + (size_t)b * as + (size_t)i * sizeof(block_q8_K);
            int16_t bs[QK_K / 16];
            memcpy(bs, ab + offsetof(block_q8_K, bsums), sizeof bs);
            q8[b] = ab + offsetof(block_q8_K, qs);
            const v128_t dy = wasm_f32x4_splat(ldf(ab));
            for (int h = 0; h < 2; h++) {
                d[b][h] = wasm_f32x4_mul(dw[h], dy), dmin[b][h] = wasm_f32x4_mul(dm[h], dy);
                sum[b][h] = msum[b][h] = zero;
            }
            /* the activation's sums over sub-blocks 2c and 2c + 1 as an i16 pair (each within +-32 * 128) */
            for (int c = 0; c < 4; c++)
                s01[b][c] = wasm_i32x4_splat((int32_t)((uint32_t)(uint16_t)(bs[4 * c] + bs[4 * c + 1]) |
                                                       (uint32_t)(uint16_t)(bs[4 * c + 2] + bs[4 * c + 3]) << 16));
        }
        /* sub-blocks 2c (low nibbles) and 2c + 1 (high), rows 4h..4h+3: each weight vector split once, against the
         * NB activation rows (their dots are the live registers) */
        for (int c = 0; c < 4; c++)
            for (int h = 0; h < 2; h++) {
                v128_t dl[4], dh[4];
                for (int b = 0; b < NB; b++) dl[b] = dh[b] = zero;
                for (int v = 0; v < 8; v++) {
                    const v128_t t = ld(w + 128 + 256 * c + 32 * v + 16 * h), ql = wasm_v128_and(t, m4), qh = hi4(t, m4);
                    for (int b = 0; b < NB; b++) {
                        const v128_t yl = wasm_v128_load32_splat(q8[b] + 64 * c + 4 * v);
                        const v128_t yh = wasm_v128_load32_splat(q8[b] + 64 * c + 32 + 4 * v);
                        if (I16) dl[b] = dot16(yl, ql, dl[b]), dh[b] = dot16(yh, qh, dh[b]);
                        else dl[b] = RDOT(yl, ql, dl[b]), dh[b] = RDOT(yh, qh, dh[b]);
                    }
                }
                for (int b = 0; b < NB; b++) {
                    const v128_t P = I16 ? wasm_i32x4_add(wasm_i32x4_dot_i16x8(dl[b], sc[c][h][0]), wasm_i32x4_dot_i16x8(dh[b], sc[c][h][1]))
                                         : wasm_i32x4_add(wasm_i32x4_mul(dl[b], sc[c][h][0]), wasm_i32x4_mul(dh[b], sc[c][h][1]));
                    const v128_t M = wasm_i32x4_dot_i16x8(mn[c][h], s01[b][c]);
                    if (per_pair) {
                        acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(P), d[b][h], acc[b][h]);
                        accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(M), dmin[b][h], accm[b][h]);
                    } else {
                        sum[b][h] = wasm_i32x4_add(sum[b][h], P), msum[b][h] = wasm_i32x4_add(msum[b][h], M);
                    }
                }
            }
        if (!per_pair)
            for (int b = 0; b < NB; b++)
                for (int h = 0; h < 2; h++) {
                    acc[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(sum[b][h]), d[b][h], acc[b][h]);
                    accm[b][h] = fmav(FM, wasm_f32x4_convert_i32x4(msum[b][h]), dmin[b][h], accm[b][h]);
                }
    }
    for (int b = 0; b < NB; b++)
        for (int h = 0; h < 2; h++) wasm_v128_store(out + (size_t)b * ldo + 4 * h, wasm_f32x4_sub(acc[b][h], accm[b][h]));
}

/* Q4_K_X8 driver: groups of 8 rows; activation rows in groups of 4 (gemm), the last 1..3 one group (gemv) */
INLINE void mm_q4k_x8(const int FM, const int I16, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    for (int b = 0; b < nb; b += 4)
        for (int r = 0; r < nr; r += 8) {
            u8c *wr = w + (size_t)r * ws, *ab = a + (size_t)b * as;
            float *ob = out + (size_t)b * ldo + r;
            switch (nb - b < 4 ? nb - b : 4) {
            case 4: tile_q4k_x8(4, FM, I16, n / QK_K, wr, ab, as, ob, ldo); break;
            case 3: tile_q4k_x8(3, FM, I16, n / QK_K, wr, ab, as, ob, ldo); break;
            case 2: tile_q4k_x8(2, FM, I16, n / QK_K, wr, ab, as, ob, ldo); break;
            default: tile_q4k_x8(1, FM, I16, n / QK_K, wr, ab, as, ob, ldo); break;
            }
        }
}

/* Q8_0 in the Q8_0_X8 layout (simd.h: 4-row halves, scales then quants), the fast relaxed table only. Signed weights
 * times signed activations, with the activation as the relaxed dot's 7-bit operand: q8_prep turns each activation
 * row, once per matmul, into |q|, q's sign as a byte mask s, and per 4-byte piece C = the sum of |q| over its
 * negative bytes. Where q < 0, w ^ s = -w - 1, so dot(w ^ s, |q|) + C = dot(w, q), exact for every weight byte
 * (-128 too); one xor and one dot per 16 weight bytes. Piece v of the 4 rows is one vector, so the dot leaves row
 * r's products 4v..4v+3 in lane r: the contract's lane v, fused per block by RMADD into acc[v] (scalar's Q8_0
 * arithmetic when the engine fuses; two roundings per update otherwise), hsum8's order at the end. Eight
 * accumulators: a tile of 4 rows and one activation row fits the 16 registers of x86 and leaves ARM room. */
#define Q8P 100 /* prepared bytes per activation block: |q| [0, 32), s [32, 64), C as 8 int32 [64, 96), d_a [96, 100) */

/* dot(t, |q|) + C: the relaxed dot, or (I16) its i16 pairs widened at once (pairs of 127 * 128 fit i16; a sum of
 * two pieces would not) */
INLINE v128_t dot_q8(const int I16, v128_t t, v128_t aq, v128_t c) {
    return I16 ? wasm_i32x4_add(widen16(wasm_i16x8_relaxed_dot_i8x16_i7x16(t, aq)), c) : RDOT(t, aq, c);
}

/* one activation row of Q8_0 blocks -> Q8P bytes per block; 0 if some quant is -128 (|q| is then no 7-bit operand:
 * the row takes q8x_scalar) */
static int q8_prep(int nblk, const uint8_t *a, uint8_t *p) {
    const v128_t zero = wasm_i32x4_splat(0), one = wasm_i8x16_splat(1), m128 = wasm_i8x16_splat(-128);
    v128_t bad = zero;
    for (int i = 0; i < nblk; i++, a += sizeof(block_q8_0), p += Q8P) {
        for (int h = 0; h < 2; h++) {
            const v128_t q = ld(a + 2 + 16 * h), s = wasm_i8x16_lt(q, zero), aq = wasm_i8x16_abs(q);
            bad = wasm_v128_or(bad, wasm_i8x16_eq(q, m128));
            wasm_v128_store(p + 16 * h, aq);
            wasm_v128_store(p + 32 + 16 * h, s);
            wasm_v128_store(p + 64 + 16 * h, RDOT(one, wasm_v128_and(aq, s), zero));
        }
        const float da = h2f(ld16(a));
        memcpy(p + 96, &da, 4);
    }
    return !wasm_v128_any_true(bad);
}

/* 4 rows (a half's quants at w, its scales as floats in dw[4i + r]) times one prepared activation row -> out[0..3] */
INLINE void tile_q8x4(const int I16, int nblk, const uint8_t *w, const float *dw, const uint8_t *p, float *out) {
    v128_t acc[8];
    for (int v = 0; v < 8; v++) acc[v] = wasm_f32x4_splat(0.0f);
#pragma clang loop unroll(disable)
    for (int i = 0; i < nblk; i++, w += 128, p += Q8P) {
        const v128_t d = wasm_f32x4_mul(ld(dw + 4 * i), wasm_v128_load32_splat(p + 96));
        for (int v = 0; v < 8; v++) {
            const v128_t t = wasm_v128_xor(ld(w + 16 * v), wasm_v128_load32_splat(p + 32 + 4 * v));
            const v128_t s = dot_q8(I16, t, wasm_v128_load32_splat(p + 4 * v), wasm_v128_load32_splat(p + 64 + 4 * v));
            acc[v] = RMADD(wasm_f32x4_convert_i32x4(s), d, acc[v]);
        }
    }
    const v128_t r0 = wasm_f32x4_add(acc[0], acc[4]), r1 = wasm_f32x4_add(acc[1], acc[5]);
    const v128_t r2 = wasm_f32x4_add(acc[2], acc[6]), r3 = wasm_f32x4_add(acc[3], acc[7]);
    wasm_v128_store(out, wasm_f32x4_add(wasm_f32x4_add(r0, r2), wasm_f32x4_add(r1, r3)));
}

/* the same outputs one lane at a time from the unprepared activation row (a -128 quant; out of memory) */
static void q8x_scalar(int nblk, const uint8_t *w, const uint8_t *a, float *out) {
    for (int r = 0; r < 4; r++) {
        float acc[8] = { 0 };
        for (int i = 0; i < nblk; i++) {
            const uint8_t *ab = a + (size_t)i * sizeof(block_q8_0), *wb = w + 8 * (size_t)nblk + 128 * (size_t)i + 4 * r;
            const float d = h2f(ld16(w + 8 * (size_t)i + 2 * r)) * h2f(ld16(ab));
            for (int l = 0; l < 8; l++) {
                int s = 0;
                for (int j = 0; j < 4; j++) s += (int8_t)wb[16 * l + j] * (int8_t)ab[2 + 4 * l + j];
                acc[l] = plm_fmaf((float)s, d, acc[l]);
            }
        }
        out[r] = ((acc[0] + acc[4]) + (acc[2] + acc[6])) + ((acc[1] + acc[5]) + (acc[3] + acc[7]));
    }
}

/* Q8_0_X8 driver: activation rows prepared in chunks (~128 KiB, so they stay in L2), then per 4-row half its scales
 * as floats and every row of the chunk against it (the half's bytes stay in L1) */
INLINE void mm_q8x(const int I16, int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {
    const int nblk = n / QK8_0;
    int chunk = (1 << 17) / (nblk * Q8P + 1);
    chunk = chunk < 1 ? 1 : chunk > nb ? nb : chunk;
    float *dw = malloc(16 * (size_t)nblk + (size_t)chunk * (size_t)nblk * Q8P + (size_t)chunk);
    if (!dw) {
        for (int g = 0; g < nr; g += 4)
            for (int b = 0; b < nb; b++) q8x_scalar(nblk, w + (size_t)g * ws, a + (size_t)b * as, out + (size_t)b * ldo + g);
        return;
    }
    uint8_t *prep = (uint8_t *)(dw + 4 * (size_t)nblk), *ok = prep + (size_t)chunk * (size_t)nblk * Q8P;
    for (int c0 = 0; c0 < nb; c0 += chunk) {
        const int cn = nb - c0 < chunk ? nb - c0 : chunk;
        for (int b = 0; b < cn; b++) ok[b] = (uint8_t)q8_prep(nblk, a + (size_t)(c0 + b) * as, prep + (size_t)b * nblk * Q8P);
        for (int g = 0; g < nr; g += 4) {
            u8c *sc = w + (size_t)g * ws, *wg = sc + 8 * (size_t)nblk;
            int i = 0;
            for (; i + 2 <= nblk; i += 2) {
                v128_t lo, hi;
                h2f8(ld(sc + 8 * i), &lo, &hi);
                wasm_v128_store(dw + 4 * i, lo), wasm_v128_store(dw + 4 * i + 4, hi);
            }
            if (i < nblk) wasm_v128_store(dw + 4 * i, ld_h4(sc + 8 * i));
            for (int b = 0; b < cn; b++) {
                float *o = out + (size_t)(c0 + b) * ldo + g;
                if (ok[b]) tile_q8x4(I16, nblk, wg, dw, prep + (size_t)b * nblk * Q8P, o);
                else q8x_scalar(nblk, sc, a + (size_t)(c0 + b) * as, o);
            }
        }
    }
    free(dw);
}
