/* Tiling drivers shared by the SIMD backends (ISA-free: they only decide which weight and activation rows a
 * backend's tile function computes together). A backend defines `u8c` (const uint8_t) and tile functions, then
 * instantiates a matmul with MM_WIDE, MM_ROW or MM_ROWS, or writes its own loop over weight rows around MM_BY4.
 * Grouping never changes results: every tile computes each output exactly as the scalar reference does. */
#ifndef PLM_TILING_H
#define PLM_TILING_H

/* Activation rows in groups of 4, the 1..3 left over as one narrower group: call(NB, b) for b = 0, 4, 8, ... < nb,
 * with NB = min(4, nb - b) a constant in each call, so that an inlined tile is compiled once per width. `call` is
 * usually a macro the caller defines around its tile function. */
#define MM_BY4(nb, call)                                                                                             \
    for (int b_ = 0; b_ < (nb); b_ += 4) {                                                                           \
        switch ((nb) - b_ < 4 ? (nb) - b_ : 4) {                                                                     \
        case 4: call(4, b_); break;                                                                                  \
        case 3: call(3, b_); break;                                                                                  \
        case 2: call(2, b_); break;                                                                                  \
        default: call(1, b_); break;                                                                                 \
        }                                                                                                            \
    }

/* Activation rows 4 at a time over every weight row; 1..3 left over as the widest tile that fits (a single
 * activation row takes 4 weight rows at a time). tile(RW, NB, ...) */
#define MM_WIDE(fname, tile)                                                                                         \
    static void fname(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {       \
        int b = 0;                                                                                                   \
        for (; b + 4 <= nb; b += 4)                                                                                  \
            for (int r = 0; r < nr; r++)                                                                             \
                tile(1, 4, n, w + (size_t)r * ws, ws, a + (size_t)b * as, as, out + (size_t)b * ldo + r, ldo);       \
        const int left = nb - b;                                                                                     \
        a += (size_t)b * as, out += (size_t)b * ldo;                                                                 \
        int r = 0;                                                                                                   \
        if (left == 3) {                                                                                             \
            for (; r < nr; r++) tile(1, 3, n, w + (size_t)r * ws, ws, a, as, out + r, ldo);                          \
        } else if (left == 2) {                                                                                      \
            for (; r + 2 <= nr; r += 2) tile(2, 2, n, w + (size_t)r * ws, ws, a, as, out + r, ldo);                  \
            for (; r < nr; r++) tile(1, 2, n, w + (size_t)r * ws, ws, a, as, out + r, ldo);                          \
        } else if (left == 1) {                                                                                      \
            for (; r + 4 <= nr; r += 4) tile(4, 1, n, w + (size_t)r * ws, ws, a, as, out + r, ldo);                  \
            for (; r < nr; r++) tile(1, 1, n, w + (size_t)r * ws, ws, a, as, out + r, ldo);                          \
        }                                                                                                            \
    }

/* One weight row at a time, activation rows 4 at a time. tile(NB, ...) */
#define MM_ROW(fname, tile)                                                                                          \
    static void fname(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {       \
        for (int b = 0; b < nb; b += 4) {                                                                            \
            const int k = nb - b < 4 ? nb - b : 4;                                                                   \
            u8c *ab = a + (size_t)b * as;                                                                            \
            float *ob = out + (size_t)b * ldo;                                                                       \
            for (int r = 0; r < nr; r++) {                                                                           \
                u8c *wr = w + (size_t)r * ws;                                                                        \
                switch (k) {                                                                                         \
                case 4: tile(4, n, wr, ab, as, ob + r, ldo); break;                                                  \
                case 3: tile(3, n, wr, ab, as, ob + r, ldo); break;                                                  \
                case 2: tile(2, n, wr, ab, as, ob + r, ldo); break;                                                  \
                default: tile(1, n, wr, ab, as, ob + r, ldo); break;                                                 \
                }                                                                                                    \
            }                                                                                                        \
        }                                                                                                            \
    }

/* MM_ROW with the loops the other way round: weight rows outer, so that each row is read from memory once and stays
 * in L1 while every activation row passes over it, 4 at a time (MM_BY4); the activation rows stay in L1/L2.
 * tile(NB, ...) as for MM_ROW. */
#define MM_ROWS(fname, tile)                                                                                         \
    static void fname(int n, u8c *w, size_t ws, int nr, u8c *a, size_t as, int nb, float *out, size_t ldo) {       \
        for (int r = 0; r < nr; r++, w += ws)                                                                        \
            for (int b = 0; b < nb; b += 4) {                                                                        \
                u8c *ab = a + (size_t)b * as;                                                                        \
                float *ob = out + (size_t)b * ldo + r;                                                               \
                switch (nb - b < 4 ? nb - b : 4) {                                                                   \
                case 4: tile(4, n, w, ab, as, ob, ldo); break;                                                       \
                case 3: tile(3, n, w, ab, as, ob, ldo); break;                                                       \
                case 2: tile(2, n, w, ab, as, ob, ldo); break;                                                       \
                default: tile(1, n, w, ab, as, ob, ldo); break;                                                      \
                }                                                                                                    \
            }                                                                                                        \
    }

#endif
