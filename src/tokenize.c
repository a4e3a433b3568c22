/* Tokenization entry point (llama.cpp's llama_vocab::impl::tokenize): special tokens are cut out of the raw text
 * first (tokenizer_st_partition), then each remaining stretch of text goes through the SPM or BPE tokenizer. */
#include <stdlib.h>
#include <string.h>

#include "vocab_impl.h"

/* A piece of the input: raw text [off, off + len) when tok < 0, else a special token. */
typedef struct frag { size_t off, len; int32_t tok; } frag;
typedef struct frags { frag *f; size_t n, cap; int oom; } frags;

static void frag_add(frags *fs, size_t off, size_t len, int32_t tok) {
    if (fs->oom) return;
    if (fs->n == fs->cap) {
        size_t cap = fs->cap ? fs->cap * 2 : 16;
        frag *p = realloc(fs->f, cap * sizeof *p);
        if (!p) { fs->oom = 1; return; }
        fs->f = p;
        fs->cap = cap;
    }
    fs->f[fs->n++] = (frag){off, len, tok};
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; }

/* First occurrence of pat (m > 0 bytes) in s[from, end), or (size_t)-1. */
static size_t find(const char *s, size_t from, size_t end, const char *pat, size_t m) {
    if (end < m) return (size_t)-1;
    for (size_t i = from; i + m <= end;) {
        const char *hit = memchr(s + i, pat[0], end - m + 1 - i);
        if (!hit) return (size_t)-1;
        i = (size_t)(hit - s);
        if (memcmp(s + i, pat, m) == 0) return i;
        i++;
    }
    return (size_t)-1;
}

static int considered(const plm_vocab *v, int32_t id, int parse_special) {
    /* control and unknown tokens only when asked; user-defined tokens always (as llama.cpp and HF tokenizers) */
    return parse_special || !(v->attr[id] & (PLM_ATTR_CONTROL | PLM_ATTR_UNKNOWN));
}

/* Splits the text on special tokens, longest token first, each token over every raw fragment left to right. */
static void partition(const plm_vocab *v, const char *text, size_t len, int parse_special, frags *out) {
    frags a = {0}, b = {0};
    frag_add(&a, 0, len, -1);
    /* Which special tokens occur at all. Short texts: search each token. Long ones: one pass over the text, with
     * the candidates bucketed by their first two bytes (one-byte tokens by their only byte), so that each position
     * looks only at the few tokens that can start there. */
    size_t nsp = (size_t)v->n_special, n_present = 0, n_cand = 0;
    unsigned char *present = calloc(nsp ? nsp : 1, 1);
    int32_t *start2 = NULL, *start1 = NULL, *by2 = NULL, *by1 = NULL;
    if (!present) { a.oom = 1; goto done; }
    for (size_t i = 0; i < nsp; i++) if (considered(v, v->special[i], parse_special)) n_cand++;
    if (n_cand == 0) goto done;
    if ((uint64_t)len * n_cand <= (1u << 22)) {
        for (size_t i = 0; i < nsp; i++) {
            int32_t id = v->special[i];
            if (considered(v, id, parse_special) && find(text, 0, len, plm_tok_text(v, id), v->text_len[id]) != (size_t)-1) {
                present[i] = 1;
                n_present++;
            }
        }
        goto split;
    }
    start2 = calloc(65536 + 1, sizeof *start2);
    start1 = calloc(256 + 1, sizeof *start1);
    by2 = malloc(nsp * sizeof *by2);
    by1 = malloc(nsp * sizeof *by1);
    if (!start2 || !start1 || !by2 || !by1) { a.oom = 1; goto done; }
    for (size_t i = 0; i < nsp; i++) {
        int32_t id = v->special[i];
        const unsigned char *t = (const unsigned char *)plm_tok_text(v, id);
        if (!considered(v, id, parse_special)) continue;
        if (v->text_len[id] == 1) start1[t[0] + 1]++;
        else start2[(t[0] << 8 | t[1]) + 1]++;
    }
    for (int k = 0; k < 65536; k++) start2[k + 1] += start2[k];
    for (int k = 0; k < 256; k++) start1[k + 1] += start1[k];
    {
        int32_t *fill2 = malloc(65536 * sizeof *fill2), fill1[256];
        if (!fill2) { a.oom = 1; goto done; }
        memcpy(fill2, start2, 65536 * sizeof *fill2);
        memcpy(fill1, start1, sizeof fill1);
        for (size_t i = 0; i < nsp; i++) {
            int32_t id = v->special[i];
            const unsigned char *t = (const unsigned char *)plm_tok_text(v, id);
            if (!considered(v, id, parse_special)) continue;
            if (v->text_len[id] == 1) by1[fill1[t[0]]++] = (int32_t)i;
            else by2[fill2[t[0] << 8 | t[1]]++] = (int32_t)i;
        }
        free(fill2);
    }
    for (size_t pos = 0; pos < len; pos++) {
        const unsigned char *t = (const unsigned char *)text + pos;
        for (int32_t k = start1[t[0]]; k < start1[t[0] + 1]; k++)
            if (!present[by1[k]]) { present[by1[k]] = 1; n_present++; }
        if (pos + 1 >= len) break;
        int key = t[0] << 8 | t[1];
        for (int32_t k = start2[key]; k < start2[key + 1]; k++) {
            size_t si = (size_t)by2[k];
            if (present[si]) continue;
            int32_t id = v->special[si];
            size_t m = v->text_len[id];
            if (m <= len - pos && memcmp(text + pos, plm_tok_text(v, id), m) == 0) { present[si] = 1; n_present++; }
        }
    }
split:
    for (size_t si = 0; si < nsp && n_present > 0; si++) {
        if (!present[si]) continue;
        n_present--;
        int32_t id = v->special[si];
        const char *pat = plm_tok_text(v, id);
        size_t m = v->text_len[id];
        uint16_t attr = v->attr[id];
        b.n = 0;
        for (size_t k = 0; k < a.n; k++) {
            frag f = a.f[k];
            if (f.tok >= 0) { frag_add(&b, f.off, f.len, f.tok); continue; }
            size_t cur = f.off, end = f.off + f.len;
            for (;;) {
                size_t hit = find(text, cur, end, pat, m);
                if (hit == (size_t)-1) break;
                size_t left = hit - cur;
                if (attr & PLM_ATTR_LSTRIP) while (left > 0 && is_space(text[cur + left - 1])) left--;
                if (left > 0) frag_add(&b, cur, left, -1);
                frag_add(&b, 0, 0, id);
                cur = hit + m;
                if (attr & PLM_ATTR_RSTRIP) while (cur < end && is_space(text[cur])) cur++;
            }
            if (cur < end) frag_add(&b, cur, end - cur, -1);
        }
        if (b.oom) { a.oom = 1; break; }
        frags t = a;
        a = b;
        b = t;
    }
done:
    free(present);
    free(start2);
    free(start1);
    free(by2);
    free(by1);
    free(b.f);
    *out = a;
}

int plm_vocab_tokenize(const plm_vocab *v, const char *text, size_t len, int32_t *ids, int cap, int add_bos,
                       int parse_special) {
    if (!v || (!text && len)) return -1;
    plm_ids out = {0};
    frags fs = {0};
    char *buf = NULL;
    int add_special = add_bos != 0;
    int bos = add_special && (add_bos > 0 || v->add_bos) && v->bos >= 0;
    int eos = add_special && v->add_eos && v->eos >= 0;
    if (len) partition(v, text, len, parse_special, &fs);
    if (fs.oom) goto fail;
    if (bos) plm_ids_push(&out, v->bos);
    if (v->type == PLM_VOCAB_SPM) {
        /* a space goes in front of the text at the start and after every special token; spaces become U+2581 */
        size_t maxf = 0;
        for (size_t i = 0; i < fs.n; i++) if (fs.f[i].tok < 0 && fs.f[i].len > maxf) maxf = fs.f[i].len;
        if (maxf > SIZE_MAX / 3 - 1 || (maxf && !(buf = malloc(3 * (maxf + 1))))) goto fail;
        int prev_special = 1;
        for (size_t i = 0; i < fs.n && !out.oom; i++) {
            const frag *f = &fs.f[i];
            if (f->tok >= 0) { plm_ids_push(&out, f->tok); prev_special = 1; continue; }
            size_t n = 0;
            if (v->add_space_prefix && prev_special) { memcpy(buf, "\xe2\x96\x81", 3); n = 3; }
            for (size_t k = 0; k < f->len; k++) {
                char c = text[f->off + k];
                if (c == ' ') { memcpy(buf + n, "\xe2\x96\x81", 3); n += 3; }
                else buf[n++] = c;
            }
            plm_spm_tokenize(v, buf, n, &out);
            prev_special = 0;
        }
    } else {
        for (size_t i = 0; i < fs.n && !out.oom; i++) {
            const frag *f = &fs.f[i];
            if (f->tok >= 0) plm_ids_push(&out, f->tok);
            else plm_bpe_tokenize(v, text + f->off, f->len, &out);
        }
    }
    if (eos) plm_ids_push(&out, v->eos);
    if (out.oom || out.n > (size_t)INT32_MAX) goto fail;
    if (ids && cap > 0 && out.n > 0) memcpy(ids, out.p, (out.n < (size_t)cap ? out.n : (size_t)cap) * sizeof *ids);
    free(buf);
    free(fs.f);
    free(out.p);
    return (int)out.n;
fail:
    free(buf);
    free(fs.f);
    free(out.p);
    return -1;
}
