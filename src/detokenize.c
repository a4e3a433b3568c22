/* Token -> text (llama.cpp's token_to_piece and detokenize). */
#include <stdlib.h>
#include <string.h>

#include "unicode.h"
#include "vocab_impl.h"

/* Output that counts what it would write and writes only what fits. */
typedef struct sink { char *buf; size_t cap, n; } sink;

static void put(sink *s, const char *p, size_t n) {
    if (s->buf && s->n + n <= s->cap) memcpy(s->buf + s->n, p, n);
    s->n += n;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* "<0xNN>" -> NN, read like llama.cpp's strtol(text.substr(3, 2), 16) */
static unsigned char token_byte(const char *t, size_t n) {
    int v = 0;
    for (size_t i = 3; i < 5 && i < n; i++) {
        int h = hexval(t[i]);
        if (h < 0) break;
        v = v * 16 + h;
    }
    return (unsigned char)v;
}

/* Writes the piece of a token into s (llama.cpp's token_to_piece without the cache). */
static void piece(const plm_vocab *v, int32_t id, int special, sink *s) {
    uint16_t attr = v->attr[id];
    const char *t = plm_tok_text(v, id);
    size_t n = v->text_len[id];
    if (!special && (attr & (PLM_ATTR_UNKNOWN | PLM_ATTR_CONTROL))) return;
    if (attr & (PLM_ATTR_UNKNOWN | PLM_ATTR_CONTROL | PLM_ATTR_USER_DEFINED)) { put(s, t, n); return; }
    if (attr & PLM_ATTR_NORMAL) {
        if (v->type == PLM_VOCAB_SPM) { /* U+2581 -> ' ' */
            size_t i = 0, run = 0;
            while (i < n) {
                if (i + 3 <= n && memcmp(t + i, "\xe2\x96\x81", 3) == 0) {
                    put(s, t + run, i - run);
                    put(s, " ", 1);
                    i += 3;
                    run = i;
                } else {
                    i++;
                }
            }
            put(s, t + run, n - run);
        } else { /* GPT-2 alphabet -> bytes */
            for (size_t i = 0; i < n;) {
                size_t adv;
                uint32_t c = plm_utf8_decode(t + i, n - i, &adv);
                int b = plm_gpt2_cpt_to_byte(c);
                if (b >= 0) {
                    char ch = (char)b;
                    put(s, &ch, 1);
                } else { /* llama.cpp's llama_decode_text marks characters outside the alphabet */
                    static const char hx[] = "0123456789abcdef";
                    char u[4];
                    int nu = plm_utf8_encode(c, u);
                    put(s, "[UNK_BYTE_0x", 12);
                    for (int k = 0; k < nu; k++) {
                        char h2[2] = {hx[(unsigned char)u[k] >> 4], hx[(unsigned char)u[k] & 15]};
                        put(s, h2, 2);
                    }
                    put(s, t, n);
                    put(s, "]", 1);
                }
                i += adv;
            }
        }
        return;
    }
    if (attr & PLM_ATTR_BYTE) {
        char b = (char)token_byte(t, n);
        put(s, &b, 1);
    }
}

/* Renders a piece into tmp storage when it has to be stripped; small pieces stay on the stack. */
static int piece_into(const plm_vocab *v, int32_t id, char *buf, int cap, int lstrip, int special) {
    char small[256];
    sink s = {small, sizeof small, 0};
    piece(v, id, special, &s);
    const char *p = small;
    char *heap = NULL;
    if (s.n > sizeof small) {
        if (!(heap = malloc(s.n))) return -1;
        s = (sink){heap, s.n, 0};
        piece(v, id, special, &s);
        p = heap;
    }
    size_t n = s.n;
    for (int i = 0; i < lstrip && n && *p == ' '; i++) { p++; n--; }
    if (n > (size_t)INT32_MAX) { free(heap); return -1; }
    if (buf && cap >= 0 && n <= (size_t)cap) memcpy(buf, p, n);
    free(heap);
    return (int)n;
}

int plm_vocab_piece_ex(const plm_vocab *v, int32_t id, char *buf, int cap, int lstrip, int special) {
    if (!v || id < 0 || id >= v->n) return -1;
    return piece_into(v, id, buf, cap, lstrip, special);
}

int plm_vocab_piece(const plm_vocab *v, int32_t id, char *buf, int cap) {
    return plm_vocab_piece_ex(v, id, buf, cap, 0, 0);
}

int plm_vocab_leading_space(const plm_vocab *v, const char *p, int len) {
    return v && v->add_space_prefix && len > 0 && p[0] == ' ';
}

int plm_vocab_detokenize(const plm_vocab *v, const int32_t *ids, int n, char *buf, int cap, int remove_special,
                         int unparse_special, int clean_spaces) {
    if (!v || n < 0 || (n > 0 && !ids)) return -1;
    size_t total = 0;
    for (int i = 0; i < n; i++) {
        if (ids[i] < 0 || ids[i] >= v->n) return -1;
        int k = piece_into(v, ids[i], NULL, 0, 0, unparse_special);
        if (k < 0) return -1;
        total += (size_t)k;
    }
    char *t = malloc(total + 1);
    if (!t) return -1;
    int remove_space = v->add_space_prefix;
    if (remove_special && v->add_bos && n > 0 && ids[0] == v->bos) { remove_space = 0; ids++; n--; }
    if (remove_special && v->add_eos && n > 0 && ids[n - 1] == v->eos) n--;
    size_t len = 0;
    for (int i = 0; i < n; i++) {
        int k = piece_into(v, ids[i], t + len, (int)(total - len < (size_t)INT32_MAX ? total - len : INT32_MAX),
                           remove_space, unparse_special);
        remove_space = 0;
        if (k < 0) { free(t); return -1; }
        len += (size_t)k;
    }
    if (clean_spaces < 0) clean_spaces = v->clean_spaces;
    if (clean_spaces && len) {
        /* llama.cpp's three passes: " ?" " !" " ." " ,"; " ' "; " 's" " 'm" " 're" " 've" */
        size_t w = 1;
        for (size_t i = 1; i < len; i++) {
            char x = t[i];
            if (t[i - 1] == ' ' && (x == '?' || x == '!' || x == '.' || x == ',')) w--;
            t[w++] = x;
        }
        len = w;
        w = 1;
        for (size_t i = 1; i < len; i++) {
            char x = t[i];
            if (x == '\'' && i + 1 < len && t[i - 1] == ' ' && t[i + 1] == ' ') { w--; t[++i] = '\0'; }
            t[w++] = x;
        }
        len = w;
        w = 1;
        for (size_t i = 1; i < len; i++) {
            char x = t[i];
            if (t[i - 1] == ' ' && x == '\'' && i + 1 < len) {
                char x1 = t[i + 1];
                if (x1 == 's' || x1 == 'm') w--;
                else if (i + 2 < len && ((x1 == 'r' && t[i + 2] == 'e') || (x1 == 'v' && t[i + 2] == 'e'))) w--;
            }
            t[w++] = x;
        }
        len = w;
    }
    if (len > (size_t)INT32_MAX) { free(t); return -1; }
    if (buf && cap >= 0 && len <= (size_t)cap) memcpy(buf, t, len);
    free(t);
    return (int)len;
}
