/* Byte-level BPE (llama.cpp's llm_tokenizer_bpe_session): pre-tokenize into words, map each word's bytes through
 * the GPT-2 alphabet, then repeatedly merge the adjacent pair with the lowest merge rank (ties: leftmost). */
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab_impl.h"

typedef struct sym { int prev, next; size_t off, n; } sym;
typedef struct bigram { int left, right; int32_t rank; size_t size; } bigram;

/* min-heap on (rank, left) */
static int before(const bigram *a, const bigram *b) {
    return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

typedef struct heap { bigram *h; size_t n, cap; int oom; } heap;

static void heap_push(heap *q, bigram b) {
    if (q->oom) return;
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 64;
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

typedef struct work {
    const plm_vocab *v;
    const char *w; /* the byte-encoded word */
    sym *s;
    size_t ns, cap_s;
    heap q;
    int oom;
} work;

static void add_bigram(work *k, int left, int right) {
    if (left < 0 || right < 0) return;
    const sym *l = &k->s[left], *r = &k->s[right];
    int32_t rank = plm_vocab_merge_rank(k->v, k->w + l->off, l->n, k->w + r->off, r->n);
    if (rank < 0) return;
    bigram b = {left, right, rank, l->n + r->n};
    heap_push(&k->q, b);
}

/* Merges one byte-encoded word and appends its tokens. */
static void bpe_word(work *k, const char *w, size_t len, plm_ids *out) {
    const plm_vocab *v = k->v;
    if (v->ignore_merges) {
        int32_t id = plm_vocab_find(v, w, len);
        if (id >= 0) { plm_ids_push(out, id); return; }
    }
    k->w = w;
    k->ns = 0;
    k->q.n = 0;
    for (size_t off = 0; off < len;) {
        size_t n = plm_utf8_len((unsigned char)w[off]);
        if (n > len - off) n = len - off;
        if (k->ns == k->cap_s) {
            size_t cap = k->cap_s ? k->cap_s * 2 : 64;
            sym *p = realloc(k->s, cap * sizeof *p);
            if (!p) { k->oom = 1; return; }
            k->s = p;
            k->cap_s = cap;
        }
        sym *s = &k->s[k->ns];
        s->off = off;
        s->n = n;
        s->prev = (int)k->ns - 1;
        off += n;
        s->next = off == len ? -1 : (int)k->ns + 1;
        k->ns++;
    }
    for (size_t i = 1; i < k->ns; i++) add_bigram(k, (int)i - 1, (int)i);
    while (k->q.n && !k->q.oom) {
        bigram b = heap_pop(&k->q);
        sym *l = &k->s[b.left], *r = &k->s[b.right];
        /* stale: one side was merged away, or grew (llama.cpp compares the text, which only changes by growing) */
        if (l->n == 0 || r->n == 0 || l->n + r->n != b.size || l->next != b.right) continue;
        l->n += r->n;
        r->n = 0;
        l->next = r->next;
        if (r->next >= 0) k->s[r->next].prev = b.left;
        add_bigram(k, l->prev, b.left);
        add_bigram(k, b.left, l->next);
    }
    if (k->q.oom) { k->oom = 1; return; }
    for (int i = k->ns ? 0 : -1; i != -1; i = k->s[i].next) {
        const sym *s = &k->s[i];
        if (s->n == 0) continue;
        int32_t id = plm_vocab_find(v, w + s->off, s->n);
        if (id >= 0) { plm_ids_push(out, id); continue; }
        /* not in the vocabulary: one token per byte of the encoded text, those that exist (as llama.cpp) */
        for (size_t j = 0; j < s->n; j++) {
            int32_t bid = plm_vocab_find(v, w + s->off + j, 1);
            if (bid >= 0) plm_ids_push(out, bid);
        }
    }
}

void plm_bpe_tokenize(const plm_vocab *v, const char *text, size_t n, plm_ids *out) {
    /* decode as llama.cpp does (malformed bytes become U+FFFD), classify, pre-tokenize */
    if (n > SIZE_MAX / 8 - 1) { out->oom = 1; return; } /* sizes below cannot overflow (32-bit targets) */
    uint32_t *cp = malloc((n ? n : 1) * sizeof *cp);
    uint16_t *fl = malloc((n ? n : 1) * sizeof *fl);
    size_t *lens = NULL, nlens = 0, ncp = 0;
    char *word = NULL;
    work k = {v, NULL, NULL, 0, 0, {NULL, 0, 0, 0}, 0};
    if (!cp || !fl) goto oom;
    for (size_t i = 0; i < n;) {
        size_t adv;
        uint32_t c = plm_utf8_decode(text + i, n - i, &adv);
        cp[ncp] = c;
        fl[ncp] = (uint16_t)plm_unicode_flags(c);
        ncp++;
        i += adv;
    }
    if (plm_pretokenize(v->pre, cp, fl, ncp, &lens, &nlens) != 0) goto oom;
    size_t maxw = 0;
    for (size_t i = 0; i < nlens; i++) if (lens[i] > maxw) maxw = lens[i];
    /* a code point is at most 4 UTF-8 bytes, and each byte becomes at most 2 bytes of the GPT-2 alphabet */
    if (!(word = malloc(maxw * 8 + 1))) goto oom;
    size_t at = 0;
    for (size_t i = 0; i < nlens && !k.oom && !out->oom; i++) {
        size_t wl = 0;
        for (size_t j = at; j < at + lens[i]; j++) {
            char u[4];
            int nu = plm_utf8_encode(cp[j], u);
            for (int b = 0; b < nu; b++) wl += (size_t)plm_utf8_encode(plm_gpt2_byte_to_cpt((unsigned char)u[b]), word + wl);
        }
        at += lens[i];
        bpe_word(&k, word, wl, out);
    }
    if (k.oom) goto oom;
    free(cp); free(fl); free(lens); free(word); free(k.s); free(k.q.h);
    return;
oom:
    out->oom = 1;
    free(cp); free(fl); free(lens); free(word); free(k.s); free(k.q.h);
}
