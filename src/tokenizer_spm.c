/* SentencePiece-style tokenizer (llama.cpp's llm_tokenizer_spm_session): start from UTF-8 characters, repeatedly
 * merge the adjacent pair whose concatenation is the highest-scoring token (ties: leftmost), then emit each
 * symbol's token, or its bytes as <0xNN> tokens when the symbol is not in the vocabulary.
 *
 * SentencePiece does not pre-split, and llama.cpp runs one work queue over the whole text. When no token of the
 * vocabulary has a U+2581 preceded by another character (true of the LLaMA vocabularies; checked at load time,
 * plm_vocab.spm_split), no merge can ever join the two sides of "x▁", so cutting the text before every such ▁ and
 * running each piece on its own gives exactly the same tokens with small, cache-friendly heaps. */
#include <stdlib.h>

#include "unicode.h"
#include "vocab_impl.h"

typedef struct sym { int prev, next; size_t off, n; } sym;
typedef struct bigram { int left, right; float score; uint32_t size; } bigram;

/* max-heap on score, ties broken by the smaller left index */
static int before(const bigram *a, const bigram *b) {
    return a->score > b->score || (a->score == b->score && a->left < b->left);
}

typedef struct heap { bigram *h; size_t n, cap; int oom; } heap;

static void heap_push(heap *q, bigram b) {
    if (q->oom) return;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 256;
        bigram *p = realloc(q->h, cap * sizeof *p);
        if (!p) { q->oom = 1; return; }
        q->h = p;
        q->cap = cap;
    }
    size_t i = q->n++;
    while (i > 0) {
        size_t up = (i - 1) / 2;
        if (!before(&b, &q->h[up])) break;
        q->h[i] = q->h[up];
        i = up;
    }
    q->h[i] = b;
}

static bigram heap_pop(heap *q) {
    bigram top = q->h[0], last = q->h[--q->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= q->n) break;
        if (c + 1 < q->n && before(&q->h[c + 1], &q->h[c])) c++;
        if (!before(&q->h[c], &last)) break;
        q->h[i] = q->h[c];
        i = c;
    }
    if (q->n) q->h[i] = last;
    return top;
}

static void try_add(const plm_vocab *v, const char *text, const sym *s, int left, int right, heap *q) {
    if (left < 0 || right < 0) return;
    size_t n = s[left].n + s[right].n;
    int32_t id = plm_vocab_find(v, text + s[left].off, n);
    if (id < 0) return;
    bigram b = {left, right, v->score[id], (uint32_t)n};
    heap_push(q, b);
}

/* llama.cpp's byte_to_token: "<0xNN>", else the byte itself as a token; unknown token as a last resort. */
static int32_t byte_token(const plm_vocab *v, unsigned char c) {
    static const char hex[] = "0123456789ABCDEF";
    char buf[6] = {'<', '0', 'x', hex[c >> 4], hex[c & 15], '>'};
    int32_t id = plm_vocab_find(v, buf, 6);
    if (id < 0) id = plm_vocab_find(v, (const char *)&c, 1);
    if (id < 0) id = v->unk;
    return id;
}

/* Tokenizes text[0, n) (n <= INT32_MAX) with the symbol and heap storage given. */
static void spm_piece(const plm_vocab *v, const char *text, size_t n, sym *s, heap *q, plm_ids *out) {
    size_t ns = 0;
    q->n = 0;
    for (size_t off = 0; off < n;) {
        size_t len = plm_utf8_len((unsigned char)text[off]);
        if (len > n - off) len = n - off;
        s[ns].off = off;
        s[ns].n = len;
        s[ns].prev = (int)ns - 1;
        off += len;
        s[ns].next = off == n ? -1 : (int)ns + 1;
        ns++;
    }
    for (size_t i = 1; i < ns; i++) try_add(v, text, s, (int)i - 1, (int)i, q);
    while (q->n && !q->oom) {
        bigram b = heap_pop(q);
        sym *l = &s[b.left], *r = &s[b.right];
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size) continue; /* one side already merged */
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) s[r->next].prev = b.left;
        try_add(v, text, s, l->prev, b.left, q);
        try_add(v, text, s, b.left, l->next, q);
    }
    if (q->oom) out->oom = 1;
    for (int i = 0; i != -1 && !out->oom; i = s[i].next) {
        int32_t id = plm_vocab_find(v, text + s[i].off, s[i].n);
        if (id >= 0) { plm_ids_push(out, id); continue; }
        for (size_t j = 0; j < s[i].n; j++) {
            int32_t bid = byte_token(v, (unsigned char)text[s[i].off + j]);
            if (bid >= 0) plm_ids_push(out, bid);
        }
    }
}

static int is_u2581(const char *p) { return p[0] == '\xe2' && p[1] == '\x96' && p[2] == '\x81'; }

static size_t sym_len(const char *text, size_t n, size_t off) {
    size_t len = plm_utf8_len((unsigned char)text[off]);
    return len > n - off ? n - off : len;
}

/* Next cut after the symbol starting at `from`: a U+2581 symbol whose preceding 3 bytes are not U+2581. Walks
 * symbols exactly as spm_piece splits them, so cuts always fall on symbol boundaries. Returns n when none. */
static size_t next_cut(const char *text, size_t n, size_t from) {
    for (size_t off = from + sym_len(text, n, from); off < n; off += sym_len(text, n, off))
        if (sym_len(text, n, off) == 3 && is_u2581(text + off) && !(off >= 3 && is_u2581(text + off - 3))) return off;
    return n;
}

void plm_spm_tokenize(const plm_vocab *v, const char *text, size_t n, plm_ids *out) {
    if (n == 0) return;
    if (n > (size_t)INT32_MAX) { out->oom = 1; return; }
    heap q = {NULL, 0, 0, 0};
    size_t maxp = n; /* the symbol array is sized for the largest piece */
    if (v->spm_split) {
        maxp = 0;
        for (size_t a = 0, b; a < n; a = b) {
            b = next_cut(text, n, a);
            if (b - a > maxp) maxp = b - a;
        }
    }
    sym *s = maxp <= SIZE_MAX / sizeof *s ? malloc(maxp * sizeof *s) : NULL;
    if (!s) { out->oom = 1; return; }
    for (size_t a = 0, b; a < n && !out->oom; a = b) {
        b = v->spm_split ? next_cut(text, n, a) : n;
        spm_piece(v, text + a, b - a, s, &q, out);
    }
    free(q.h);
    free(s);
}
