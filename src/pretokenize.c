/* Pre-tokenizers for byte-level BPE: llama.cpp's regex splits, hand-coded over code points and class flags.
 *
 * llama.cpp applies a list of regular expressions one after the other: each one splits every piece produced so
 * far into its matches and the unmatched stretches between them. The GPT-2 and Llama-3 expressions have hand-coded
 * matchers in llama.cpp's unicode.cpp; the others run through std::regex over a "collapsed" text in which each
 * code point stands for its class. Here every expression is a small matcher over (code point, flags) with the
 * same leftmost-first semantics, so no regex engine is needed and each step is linear in the text.
 */
#include <stdlib.h>

#include "unicode.h"
#include "vocab_impl.h"

#define OOR 0xffffffffu /* "no code point": outside the current piece */
#define F_WS PLM_UCD_WHITESPACE
#define F_L PLM_UCD_LETTER
#define F_N PLM_UCD_NUMBER

typedef struct segs { size_t *len; size_t n, cap; int oom; } segs;

static void seg_add(segs *s, size_t len) {
    if (!len || s->oom) return;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 256;
        size_t *p = realloc(s->len, cap * sizeof *p);
        if (!p) { s->oom = 1; return; }
        s->len = p;
        s->cap = cap;
    }
    s->len[s->n++] = len;
}

/* One piece [a, b) of the text being split by a hand-coded expression. */
typedef struct piece {
    const uint32_t *cp;
    const uint16_t *fl;
    size_t a, b;
    size_t prev; /* end of the last emitted word */
    segs *out;
} piece;

static uint32_t cpt_at(const piece *p, size_t i) { return i >= p->a && i < p->b ? p->cp[i] : OOR; }
static unsigned fl_at(const piece *p, size_t i) { return i >= p->a && i < p->b ? p->fl[i] : 0u; }
static void emit(piece *p, size_t end) {
    seg_add(p->out, end - p->prev);
    p->prev = end;
}

/* English contractions after an apostrophe: returns the match length (2 or 3) or 0. */
static size_t contraction(const piece *p, size_t pos, int icase) {
    if (cpt_at(p, pos) != '\'' || pos + 1 >= p->b) return 0;
    uint32_t c1 = cpt_at(p, pos + 1);
    if (icase) c1 = plm_unicode_tolower(c1);
    if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
    if (pos + 2 >= p->b) return 0;
    uint32_t c2 = cpt_at(p, pos + 2);
    if (icase) c2 = plm_unicode_tolower(c2);
    if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
    return 0;
}

/* GPT-2: 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)
 * (unmatched whitespace ends up as a piece of its own, which is what the regex split produces too) */
static void split_gpt2(piece *p) {
    size_t pos = p->a;
    while (pos < p->b) {
        uint32_t c = p->cp[pos];
        unsigned f = p->fl[pos];
        size_t k = contraction(p, pos, 0);
        if (k) { pos += k; emit(p, pos); continue; }
        unsigned f2 = c == ' ' ? fl_at(p, pos + 1) : f;
        if (f2 & F_L) { /* ' ?\p{L}+' */
            pos += c == ' ';
            while (fl_at(p, pos) & F_L) pos++;
            emit(p, pos);
            continue;
        }
        if (f2 & F_N) { /* ' ?\p{N}+' */
            pos += c == ' ';
            while (fl_at(p, pos) & F_N) pos++;
            emit(p, pos);
            continue;
        }
        if (!(f2 & (F_WS | F_L | F_N)) && f2) { /* ' ?[^\s\p{L}\p{N}]+' */
            pos += c == ' ';
            for (unsigned g = fl_at(p, pos); !(g & (F_WS | F_L | F_N)) && g; g = fl_at(p, ++pos)) {}
            emit(p, pos);
            continue;
        }
        size_t nws = 0;
        while (fl_at(p, pos + nws) & F_WS) nws++;
        if (nws > 1 && cpt_at(p, pos + nws) != OOR) { /* '\s+(?!\S)': leave the last space to the next word */
            pos += nws - 1;
            emit(p, pos);
            continue;
        }
        if (nws > 0) { pos += nws; emit(p, pos); continue; }
        emit(p, ++pos); /* no alternative matched */
    }
}

/* Llama 3 (max_digits 3) and Qwen2 (max_digits 1):
 * (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+ */
static void split_llama3(piece *p, size_t max_digits) {
    size_t pos = p->a;
    while (pos < p->b) {
        uint32_t c = p->cp[pos];
        unsigned f = p->fl[pos];
        size_t k = contraction(p, pos, 1);
        if (k) { pos += k; emit(p, pos); continue; }
        if (!(c == '\r' || c == '\n' || (f & F_N))) { /* '[^\r\n\p{L}\p{N}]?\p{L}+' */
            if ((f & F_L) || (fl_at(p, pos + 1) & F_L)) {
                pos++;
                while (fl_at(p, pos) & F_L) pos++;
                emit(p, pos);
                continue;
            }
        }
        if (f & F_N) { /* '\p{N}{1,max}' repeatedly */
            size_t ini = pos;
            while (fl_at(p, pos) & F_N) {
                if (++pos - ini >= max_digits) { emit(p, pos); ini = pos; }
            }
            emit(p, pos);
            continue;
        }
        unsigned f2 = c == ' ' ? fl_at(p, pos + 1) : f;
        if (!(f2 & (F_WS | F_L | F_N)) && f) { /* ' ?[^\s\p{L}\p{N}]+[\r\n]*' */
            pos += c == ' ';
            for (unsigned g = f2; !(g & (F_WS | F_L | F_N)) && g; g = fl_at(p, ++pos)) {}
            for (uint32_t c2 = cpt_at(p, pos); c2 == '\r' || c2 == '\n'; c2 = cpt_at(p, ++pos)) {}
            emit(p, pos);
            continue;
        }
        size_t nws = 0, last_rn = 0;
        while (fl_at(p, pos + nws) & F_WS) {
            uint32_t c2 = cpt_at(p, pos + nws);
            if (c2 == '\r' || c2 == '\n') last_rn = pos + nws + 1;
            nws++;
        }
        if (last_rn > 0) { pos = last_rn; emit(p, pos); continue; } /* '\s*[\r\n]+' */
        if (nws > 1 && cpt_at(p, pos + nws) != OOR) { pos += nws - 1; emit(p, pos); continue; } /* '\s+(?!\S)' */
        if (nws > 0) { pos += nws; emit(p, pos); continue; } /* '\s+' */
        emit(p, ++pos);
    }
}

/* Simple expressions: a class of code points matched one at a time (X) or as runs (X+), and [0-9]{3}. */
enum { CLS_NUMBER, CLS_PUNCT_DEFAULT, CLS_PUNCT_FALCON };

static int in_class(int cls, uint32_t c, unsigned f) {
    switch (cls) {
    case CLS_NUMBER: return (f & F_N) != 0;
    case CLS_PUNCT_DEFAULT: /* [\p{P}\$\+<=>\^~\|] */
        return (f & PLM_UCD_PUNCTUATION) || c == '$' || c == '+' || c == '<' || c == '=' || c == '>' || c == '^' ||
               c == '~' || c == '|';
    case CLS_PUNCT_FALCON: /* [\p{P}\$\+<=>\^~\|`] */
        return in_class(CLS_PUNCT_DEFAULT, c, f) || c == '`';
    }
    return 0;
}

/* Matches become words, and so do the unmatched stretches between them. */
static void split_class(piece *p, int cls, int runs) {
    size_t pos = p->a;
    while (pos < p->b) {
        if (!in_class(cls, p->cp[pos], p->fl[pos])) { pos++; continue; }
        if (pos > p->prev) emit(p, pos);
        size_t end = pos + 1;
        if (runs) while (end < p->b && in_class(cls, p->cp[end], p->fl[end])) end++;
        emit(p, end);
        pos = end;
    }
    if (p->b > p->prev) emit(p, p->b);
}

static int ascii_digit(uint32_t c) { return c >= '0' && c <= '9'; }

static void split_digit3(piece *p) {
    size_t pos = p->a;
    while (pos + 3 <= p->b) {
        if (ascii_digit(p->cp[pos]) && ascii_digit(p->cp[pos + 1]) && ascii_digit(p->cp[pos + 2])) {
            if (pos > p->prev) emit(p, pos);
            emit(p, pos + 3);
            pos += 3;
        } else {
            pos++;
        }
    }
    if (p->b > p->prev) emit(p, p->b);
}

enum step { S_GPT2, S_LLAMA3, S_QWEN2, S_NUM_EACH, S_NUM_RUNS, S_PUNCT_DEFAULT, S_PUNCT_FALCON, S_DIGIT3, S_END };

static const unsigned char pipelines[][5] = {
    [PLM_PRE_DEFAULT] = {S_PUNCT_DEFAULT, S_GPT2, S_NUM_RUNS, S_DIGIT3, S_END},
    [PLM_PRE_GPT2] = {S_GPT2, S_END},
    [PLM_PRE_LLAMA3] = {S_LLAMA3, S_END},
    [PLM_PRE_QWEN2] = {S_QWEN2, S_END},
    [PLM_PRE_STARCODER] = {S_NUM_EACH, S_GPT2, S_END},
    [PLM_PRE_FALCON] = {S_PUNCT_FALCON, S_GPT2, S_DIGIT3, S_END},
};

int plm_pretokenize(int pre, const uint32_t *cpts, const uint16_t *flags, size_t n, size_t **lens, size_t *n_lens) {
    segs cur = {0}, next = {0};
    *lens = NULL;
    *n_lens = 0;
    if (pre < 0 || pre >= (int)(sizeof pipelines / sizeof pipelines[0])) pre = PLM_PRE_DEFAULT;
    seg_add(&cur, n);
    for (const unsigned char *st = pipelines[pre]; *st != S_END && !cur.oom; st++) {
        next.n = 0;
        size_t a = 0;
        for (size_t i = 0; i < cur.n; i++) {
            piece p = {cpts, flags, a, a + cur.len[i], a, &next};
            switch (*st) {
            case S_GPT2: split_gpt2(&p); break;
            case S_LLAMA3: split_llama3(&p, 3); break;
            case S_QWEN2: split_llama3(&p, 1); break;
            case S_NUM_EACH: split_class(&p, CLS_NUMBER, 0); break;
            case S_NUM_RUNS: split_class(&p, CLS_NUMBER, 1); break;
            case S_PUNCT_DEFAULT: split_class(&p, CLS_PUNCT_DEFAULT, 1); break;
            case S_PUNCT_FALCON: split_class(&p, CLS_PUNCT_FALCON, 1); break;
            case S_DIGIT3: split_digit3(&p); break;
            }
            a += cur.len[i];
        }
        if (next.oom) { cur.oom = 1; break; }
        segs t = cur;
        cur = next;
        next = t;
    }
    free(next.len);
    if (cur.oom) { free(cur.len); return -1; }
    *lens = cur.len;
    *n_lens = cur.n;
    return 0;
}
