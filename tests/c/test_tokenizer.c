/* Tokenizer tests: llama.cpp's test vectors (models/vocab/ggml-vocab-*.gguf with .inp/.out), round trips, pre-tokenizer splits,
 * special tokens, Unicode tables, hostile vocabularies and speed.
 *
 *   build/asan/test_tokenizer                      # everything, from the repo root
 *   build/native/test_tokenizer VOCAB.gguf [INP OUT]  # the vector check for another vocabulary
 *   build/native/test_tokenizer VOCAB.gguf tests/data/conformance/tokenize-X.json  # llama.cpp's recorded tokenizations
 *
 * The .inp file holds the inputs separated by "\n__ggml_vocab_test__\n"; line i of .out has the ids of input i
 * without BOS (llama.cpp's tests/test-tokenizer-0.cpp reads them the same way). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "gguf.h"
#include "unicode.h"
#include "vocab.h"
#include "vocab_impl.h"

static int n_pass, n_fail;

#define CHECK(cond, ...)                                                                                           \
    do {                                                                                                           \
        if (cond) n_pass++;                                                                                        \
        else { n_fail++; fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } \
    } while (0)

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap + 1);
    for (size_t k; buf && (k = fread(buf + len, 1, cap - len, f)) > 0;) {
        len += k;
        if (len == cap) {
            char *p = realloc(buf, 2 * cap + 1);
            if (!p) { free(buf); buf = NULL; break; }
            buf = p;
            cap *= 2;
        }
    }
    fclose(f);
    if (buf) buf[len] = 0;
    *n = len;
    return buf;
}

static plm_vocab *vocab_from_bytes(const uint8_t *buf, size_t n, plm_status *st_out, char *err, size_t errlen) {
    gguf_file g;
    uint64_t need;
    plm_vocab *v = NULL;
    plm_status st = gguf_parse(&g, buf, n, &need, err, errlen);
    if (st == PLM_OK) {
        st = plm_vocab_load(&g, &v, err, errlen);
        gguf_free(&g);
    }
    if (st_out) *st_out = st;
    return v;
}

static plm_vocab *load_vocab(const char *path) {
    size_t n;
    char *buf = read_file(path, &n);
    char err[256] = "";
    if (!buf) { fprintf(stderr, "cannot read %s (run from the repo root)\n", path); return NULL; }
    plm_vocab *v = vocab_from_bytes((const uint8_t *)buf, n, NULL, err, sizeof err);
    if (!v) fprintf(stderr, "%s: %s\n", path, err);
    free(buf);
    return v;
}

/* tokenize into a fresh array (count in *n) */
static int32_t *tok(const plm_vocab *v, const char *s, size_t len, int add_bos, int special, int *n) {
    int k = plm_vocab_tokenize(v, s, len, NULL, 0, add_bos, special);
    int32_t *ids = malloc(sizeof(int32_t) * (size_t)(k > 0 ? k : 1));
    *n = k < 0 ? k : plm_vocab_tokenize(v, s, len, ids, k, add_bos, special);
    return ids;
}

static char *detok(const plm_vocab *v, const int32_t *ids, int n, int *len) {
    int k = plm_vocab_detokenize(v, ids, n, NULL, 0, 0, 0, 0);
    char *s = malloc((size_t)(k > 0 ? k : 0) + 1);
    *len = plm_vocab_detokenize(v, ids, n, s, k, 0, 0, 0);
    if (*len >= 0) s[*len] = 0;
    return s;
}

static int ids_eq(const int32_t *a, int na, const int32_t *b, int nb);

static void print_ids(const char *label, const int32_t *ids, int n) {
    fprintf(stderr, "  %s:", label);
    for (int i = 0; i < n; i++) fprintf(stderr, " %d", ids[i]);
    fputc('\n', stderr);
}

/* ---- llama.cpp's vectors ---- */
static void test_vectors(const char *vocab_path, const char *inp_path, const char *out_path) {
    plm_vocab *v = load_vocab(vocab_path);
    size_t ni, no;
    char *inp = read_file(inp_path, &ni), *out = read_file(out_path, &no);
    CHECK(v && inp && out, "load %s and its vectors", vocab_path);
    if (!v || !inp || !out) { plm_vocab_free(v); free(inp); free(out); return; }
    static const char sep[] = "\n__ggml_vocab_test__\n";
    const size_t seplen = sizeof sep - 1;
    int cases = 0, ok = 0, rt_ok = 0;
    size_t pos = 0;
    char *line = out;
    while (pos < ni) {
        char *next = strstr(inp + pos, sep);
        size_t len = next ? (size_t)(next - (inp + pos)) : ni - pos;
        const char *text = inp + pos;
        pos = next ? pos + len + seplen : ni;
        if (!*line && line == out + no) { CHECK(0, "%s: more inputs than output lines", out_path); break; }
        char *eol = strchr(line, '\n');
        if (eol) *eol = 0;
        int32_t want[4096];
        int nw = 0;
        for (char *p = line, *e; nw < 4096; p = e) {
            long x = strtol(p, &e, 10);
            if (e == p) break;
            want[nw++] = (int32_t)x;
        }
        line = eol ? eol + 1 : out + no;
        int n;
        int32_t *ids = tok(v, text, len, 0, 0, &n);
        int same = n == nw && memcmp(ids, want, sizeof(int32_t) * (size_t)n) == 0;
        cases++;
        ok += same;
        if (!same) {
            fprintf(stderr, "FAIL %s case %d: '%.*s'\n", vocab_path, cases, (int)len, text);
            print_ids("want", want, nw);
            print_ids("got ", ids, n);
        }
        int dl;
        char *back = detok(v, ids, n, &dl);
        int rt = dl == (int)len && memcmp(back, text, len) == 0;
        rt_ok += rt;
        if (!rt) fprintf(stderr, "FAIL %s round trip case %d: '%.*s' -> '%s'\n", vocab_path, cases, (int)len, text, back);
        free(back);
        free(ids);
    }
    printf("%s: %d/%d vector cases exact, %d/%d round trips\n", vocab_path, ok, cases, rt_ok, cases);
    CHECK(cases > 0 && ok == cases, "%s: %d of %d vector cases differ", vocab_path, cases - ok, cases);
    CHECK(rt_ok == cases, "%s: %d round trips differ", vocab_path, cases - rt_ok);
    free(inp);
    free(out);
    plm_vocab_free(v);
}

/* ---- llama.cpp's tokenizations recorded as JSON (tests/data/conformance/tokenize-*.json) ----
 * A reader for just what tools/record-reference.mjs writes: {"...": ..., "cases": [{"text": "...", "tokens": [...],
 * "special": [...], "detok": "...", "detok_special": "..."}, ...]}. The last three are there with --corpus. */
typedef struct jcur { const char *p, *end; int bad; } jcur;

static void jws(jcur *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\n' || *c->p == '\r' || *c->p == '\t')) c->p++;
}
static int jeat(jcur *c, char ch) {
    jws(c);
    if (c->p < c->end && *c->p == ch) { c->p++; return 1; }
    return 0;
}
static unsigned jhex4(jcur *c) {
    unsigned x = 0;
    for (int i = 0; i < 4; i++, c->p++) {
        char h = c->p < c->end ? *c->p : 0;
        x = x * 16 + (unsigned)(h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : (c->bad = 1, 0));
    }
    return x;
}
/* a JSON string into out (malloc'ed, NUL-terminated; its byte length in *len) */
static char *jstr(jcur *c, size_t *len) {
    if (!jeat(c, '"')) { c->bad = 1; return NULL; }
    char *out = malloc((size_t)(c->end - c->p) + 1);
    size_t n = 0;
    while (c->p < c->end && *c->p != '"') {
        if (*c->p != '\\') { out[n++] = *c->p++; continue; }
        c->p++;
        char e = c->p < c->end ? *c->p++ : 0;
        uint32_t cp;
        switch (e) {
        case 'n': out[n++] = '\n'; break;
        case 't': out[n++] = '\t'; break;
        case 'r': out[n++] = '\r'; break;
        case 'b': out[n++] = '\b'; break;
        case 'f': out[n++] = '\f'; break;
        case 'u':
            cp = jhex4(c);
            if (cp >= 0xd800 && cp < 0xdc00 && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
                c->p += 2;
                cp = 0x10000 + ((cp - 0xd800) << 10) + (jhex4(c) - 0xdc00);
            }
            n += (size_t)plm_utf8_encode(cp, out + n);
            break;
        default: out[n++] = e;
        }
    }
    if (!jeat(c, '"')) c->bad = 1;
    out[n] = 0;
    *len = n;
    return out;
}
static int32_t *jints(jcur *c, int *n) {
    int cap = 16;
    int32_t *v = malloc(sizeof *v * (size_t)cap);
    *n = 0;
    if (!jeat(c, '[')) { c->bad = 1; return v; }
    while (!jeat(c, ']')) {
        if (*n && !jeat(c, ',')) { c->bad = 1; break; }
        jws(c);
        char *e;
        long x = strtol(c->p, &e, 10);
        if (e == c->p) { c->bad = 1; break; }
        c->p = e;
        if (*n == cap) v = realloc(v, sizeof *v * (size_t)(cap *= 2));
        v[(*n)++] = (int32_t)x;
    }
    return v;
}
/* skip any JSON value */
static void jskip(jcur *c) {
    jws(c);
    if (c->p >= c->end) { c->bad = 1; return; }
    if (*c->p == '"') { size_t l; free(jstr(c, &l)); return; }
    if (*c->p == '[' || *c->p == '{') {
        char close = *c->p == '[' ? ']' : '}';
        c->p++;
        for (int first = 1; !c->bad && !jeat(c, close); first = 0) {
            if (!first && !jeat(c, ',')) { c->bad = 1; return; }
            if (close == '}') { size_t l; free(jstr(c, &l)); if (!jeat(c, ':')) c->bad = 1; }
            jskip(c);
        }
        return;
    }
    while (c->p < c->end && !strchr(",]}", *c->p)) c->p++;
}

static void check_ids(const char *what, int *bad, const char *text, size_t len, const int32_t *want, int nw,
                      const int32_t *got, int ng) {
    if (ids_eq(want, nw, got, ng)) return;
    if ((*bad)++ < 5) {
        fprintf(stderr, "FAIL %s of '%.*s'\n", what, (int)len, text);
        print_ids("want", want, nw);
        print_ids("got ", got, ng);
    }
}

static void check_text(const char *what, int *bad, const char *text, size_t len, const char *want, size_t wl,
                       const char *got, int gl) {
    if (gl >= 0 && (size_t)gl == wl && memcmp(want, got, wl) == 0) return;
    if ((*bad)++ < 5) fprintf(stderr, "FAIL %s of '%.*s':\n  want '%.*s'\n  got  '%.*s'\n", what, (int)len, text, (int)wl,
                              want, gl < 0 ? 0 : gl, got);
}

static char *detok_ex(const plm_vocab *v, const int32_t *ids, int n, int unparse, int *len) {
    int k = plm_vocab_detokenize(v, ids, n, NULL, 0, 0, unparse, -1);
    char *s = malloc((size_t)(k > 0 ? k : 0) + 1);
    *len = k < 0 ? k : plm_vocab_detokenize(v, ids, n, s, k, 0, unparse, -1);
    return s;
}

/* one case: llama.cpp's tokens for text, with and without special-token parsing, and its detokenizations */
static void json_case(const plm_vocab *v, jcur *c, int *stats) {
    char *text = NULL, *detok_want = NULL, *detok_special_want = NULL;
    size_t tl = 0, dl = 0, dsl = 0;
    int32_t *tokens = NULL, *special = NULL;
    int nt = -1, ns = -1;
    if (!jeat(c, '{')) c->bad = 1;
    for (int first = 1; !c->bad && !jeat(c, '}'); first = 0) {
        if (!first && !jeat(c, ',')) { c->bad = 1; break; }
        size_t kl;
        char *key = jstr(c, &kl);
        if (!jeat(c, ':')) c->bad = 1;
        if (c->bad) { free(key); break; }
        if (!strcmp(key, "text")) text = jstr(c, &tl);
        else if (!strcmp(key, "tokens")) tokens = jints(c, &nt);
        else if (!strcmp(key, "special")) special = jints(c, &ns);
        else if (!strcmp(key, "detok")) detok_want = jstr(c, &dl);
        else if (!strcmp(key, "detok_special")) detok_special_want = jstr(c, &dsl);
        else jskip(c);
        free(key);
    }
    if (c->bad || !text || !tokens) c->bad = 1;
    else {
        int n, gl;
        stats[0]++;
        int32_t *ids = tok(v, text, tl, 0, 0, &n);
        check_ids("tokenize", &stats[1], text, tl, tokens, nt, ids, n);
        free(ids);
        if (detok_want) {
            stats[2]++;
            char *back = detok_ex(v, tokens, nt, 0, &gl);
            check_text("detokenize", &stats[3], text, tl, detok_want, dl, back, gl);
            free(back);
        }
        if (special) {
            stats[4]++;
            ids = tok(v, text, tl, 0, 1, &n);
            check_ids("tokenize (parse_special)", &stats[5], text, tl, special, ns, ids, n);
            free(ids);
        }
        if (special && detok_special_want) {
            stats[6]++;
            char *back = detok_ex(v, special, ns, 1, &gl);
            check_text("detokenize (unparse_special)", &stats[7], text, tl, detok_special_want, dsl, back, gl);
            free(back);
        }
    }
    free(text); free(detok_want); free(detok_special_want); free(tokens); free(special);
}

static int control_or_none(const plm_vocab *v, int id) { return id >= 0 && plm_vocab_is_control(v, id) ? id : -1; }

/* "vocab": what llama.cpp makes of the special tokens (ids, add BOS/EOS, every end-of-generation id) */
static void json_vocab(const plm_vocab *v, jcur *c, const char *json_path) {
    int32_t *eog = NULL;
    int neog = -1, bos = -2, eos = -2, eot = -2, add_bos = -2, add_eos = -2, n_tokens = -2;
    if (!jeat(c, '{')) c->bad = 1;
    for (int first = 1; !c->bad && !jeat(c, '}'); first = 0) {
        if (!first && !jeat(c, ',')) { c->bad = 1; break; }
        size_t kl;
        char *key = jstr(c, &kl);
        if (!jeat(c, ':')) c->bad = 1;
        jws(c);
        int *slot = !strcmp(key, "bos") ? &bos : !strcmp(key, "eos") ? &eos : !strcmp(key, "eot") ? &eot
                  : !strcmp(key, "add_bos") ? &add_bos : !strcmp(key, "add_eos") ? &add_eos
                  : !strcmp(key, "n_tokens") ? &n_tokens : NULL;
        if (c->bad) { free(key); break; }
        if (!strcmp(key, "eog")) { free(eog); eog = jints(c, &neog); }
        else if (slot && c->end - c->p >= 4 && !memcmp(c->p, "null", 4)) { *slot = -1; c->p += 4; }
        else if (slot && c->end - c->p >= 4 && !memcmp(c->p, "true", 4)) { *slot = 1; c->p += 4; }
        else if (slot && c->end - c->p >= 5 && !memcmp(c->p, "false", 5)) { *slot = 0; c->p += 5; }
        else if (slot) { char *e; *slot = (int)strtol(c->p, &e, 10); if (e == c->p) c->bad = 1; c->p = e; }
        else jskip(c);
        free(key);
    }
    if (c->bad) { free(eog); return; }
    CHECK(plm_vocab_n(v) == n_tokens, "%s: %d tokens, llama.cpp %d", json_path, plm_vocab_n(v), n_tokens);
    /* node-llama-cpp reports a BOS/EOS/EOT id only when it is a control token (llama.cpp's default BOS of a BPE
     * vocabulary is id 11, in Qwen's a comma) */
    int my_bos = control_or_none(v, plm_vocab_bos(v)), my_eos = control_or_none(v, plm_vocab_eos(v));
    int my_eot = control_or_none(v, plm_vocab_eot(v));
    CHECK(my_bos == bos && my_eos == eos && my_eot == eot, "%s: bos/eos/eot %d %d %d, llama.cpp %d %d %d", json_path,
          my_bos, my_eos, my_eot, bos, eos, eot);
    CHECK(plm_vocab_add_bos(v) == add_bos && plm_vocab_add_eos(v) == add_eos, "%s: add bos/eos %d %d, llama.cpp %d %d",
          json_path, plm_vocab_add_bos(v), plm_vocab_add_eos(v), add_bos, add_eos);
    int bad = 0, k = 0;
    for (int32_t id = 0; id < plm_vocab_n(v); id++) {
        int want = k < neog && eog[k] == id;
        k += want;
        if (!!plm_vocab_is_eog(v, id) != want && bad++ < 5) fprintf(stderr, "  end of generation %d: llama.cpp says %d\n", id, want);
    }
    CHECK(neog > 0 && bad == 0 && k == neog, "%s: %d ids disagree with llama.cpp on end of generation", json_path, bad);
    free(eog);
}

static void test_json_vectors(const char *vocab_path, const char *json_path) {
    plm_vocab *v = load_vocab(vocab_path);
    size_t nj;
    char *json = read_file(json_path, &nj);
    CHECK(v && json, "load %s and %s (the vocabularies in build/vocab/ are made by `make test-c`)", vocab_path, json_path);
    if (!v || !json) { plm_vocab_free(v); free(json); return; }
    jcur c = {json, json + nj, 0};
    int stats[8] = {0}; /* count, failures: tokenize, detokenize, with parse_special, detokenize with unparse_special */
    int has_cases = 0;
    if (!jeat(&c, '{')) c.bad = 1;
    for (int first = 1; !c.bad && !jeat(&c, '}'); first = 0) {
        if (!first && !jeat(&c, ',')) { c.bad = 1; break; }
        size_t kl;
        char *key = jstr(&c, &kl);
        if (!jeat(&c, ':')) c.bad = 1;
        if (c.bad) { free(key); break; }
        if (!strcmp(key, "vocab")) json_vocab(v, &c, json_path);
        else if (!strcmp(key, "cases")) {
            has_cases = 1;
            if (!jeat(&c, '[')) c.bad = 1;
            for (int i = 0; !c.bad && !jeat(&c, ']'); i++) {
                if (i && !jeat(&c, ',')) { c.bad = 1; break; }
                json_case(v, &c, stats);
            }
        } else jskip(&c);
        free(key);
    }
    printf("%s: as llama.cpp: %d/%d tokenizations, %d/%d with parse_special, %d/%d detokenizations, %d/%d with "
           "unparse_special\n", json_path, stats[0] - stats[1], stats[0], stats[4] - stats[5], stats[4], stats[2] - stats[3],
           stats[2], stats[6] - stats[7], stats[6]);
    CHECK(has_cases && !c.bad && stats[0] > 0, "%s: cannot read its cases (at byte %ld)", json_path, (long)(c.p - json));
    CHECK(stats[1] == 0 && stats[5] == 0, "%s: %d + %d tokenizations differ from llama.cpp", json_path, stats[1], stats[5]);
    CHECK(stats[3] == 0 && stats[7] == 0, "%s: %d + %d detokenizations differ from llama.cpp", json_path, stats[3], stats[7]);
    free(json);
    plm_vocab_free(v);
}

/* ---- property: detokenize(tokenize(x)) == x for random valid UTF-8 ---- */
static uint64_t rng = 0x243f6a8885a308d3ull;
static uint32_t rnd(void) {
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng >> 11);
}

static size_t random_utf8(char *buf, size_t max_cpts) {
    static const char *const words[] = {"the", " the", "Hello", " world", "<s>", "</s>", "<|endoftext|>", "'s", "'LL",
                                        "  ", "\n\n", "\t", "3333", "1.5", "...", "!!", " ?", "don't", "\r\n"};
    size_t n = 0, k = 1 + rnd() % max_cpts;
    for (size_t i = 0; i < k; i++) {
        uint32_t c;
        switch (rnd() % 10) {
        case 0: case 1: case 2: c = 32 + rnd() % 95; break;              /* printable ASCII */
        case 3: c = "\t\n\r \x0b\x0c"[rnd() % 6]; break;                 /* whitespace */
        case 4: c = 0xa0 + rnd() % 0x1e0; break;                         /* Latin-1 and Latin Extended */
        case 5: c = 0x400 + rnd() % 0x100; break;                        /* Cyrillic */
        case 6: c = 0x4e00 + rnd() % 0x5200; break;                      /* CJK */
        case 7: c = 0x1f300 + rnd() % 0x300; break;                      /* emoji */
        case 8: c = 0x300 + rnd() % 0x70; break;                         /* combining marks */
        default: {
            const char *w = words[rnd() % (sizeof words / sizeof words[0])];
            size_t wl = strlen(w);
            memcpy(buf + n, w, wl);
            n += wl;
            continue;
        }
        }
        if (rnd() % 50 == 0) { c = 1 + rnd() % 0x10fffe; if (c >= 0xd800 && c < 0xe000) c = 0xfffd; }
        /* U+2581 is SentencePiece's space: it reads back as ' ' (checked in test_specials), so leave it out */
        if (c == 0x2581) c = 0x2580;
        n += (size_t)plm_utf8_encode(c, buf + n);
    }
    return n;
}

/* random bytes (mostly invalid UTF-8) with special-token parsing: no crash, ids in range */
static void test_random_bytes(const char *vocab_path, int iters) {
    plm_vocab *v = load_vocab(vocab_path);
    CHECK(v != NULL, "load %s", vocab_path);
    if (!v) return;
    static const char *const frags[] = {"<s>", "</s>", "<unk>", "<|endoftext|>", "\xe2\x96\x81", " ", "'s"};
    char buf[512];
    int bad = 0;
    for (int it = 0; it < iters; it++) {
        size_t len = 0, k = rnd() % 64;
        for (size_t i = 0; i < k; i++) {
            if (rnd() % 8 == 0) {
                const char *f = frags[rnd() % (sizeof frags / sizeof frags[0])];
                memcpy(buf + len, f, strlen(f));
                len += strlen(f);
            } else {
                buf[len++] = (char)(rnd() & 0xff);
            }
        }
        int n;
        int32_t *ids = tok(v, buf, len, (int)(rnd() % 3) - 1, 1, &n);
        if (n < 0) bad++;
        for (int i = 0; i < n; i++) if (ids[i] < 0 || ids[i] >= plm_vocab_n(v)) bad++;
        free(ids);
    }
    /* (no round trip here: in SentencePiece a malformed lead byte just before a space swallows part of the U+2581
     * that stands for the space into byte tokens, which then print as those raw bytes -- llama.cpp does the same) */
    CHECK(bad == 0, "%s: %d problems on random bytes", vocab_path, bad);
    plm_vocab_free(v);
}

static void test_round_trip(const char *vocab_path, int iters) {
    plm_vocab *v = load_vocab(vocab_path);
    CHECK(v != NULL, "load %s", vocab_path);
    if (!v) return;
    char buf[64 * 24];
    int bad = 0;
    for (int it = 0; it < iters; it++) {
        size_t len = random_utf8(buf, 48);
        int n, dl;
        int32_t *ids = tok(v, buf, len, 0, 0, &n);
        char *back = detok(v, ids, n, &dl);
        if (dl != (int)len || memcmp(back, buf, len) != 0) {
            if (bad++ < 3) fprintf(stderr, "FAIL round trip %s: '%.*s' -> '%s'\n", vocab_path, (int)len, buf, back);
        }
        free(back);
        free(ids);
    }
    printf("%s: %d/%d random UTF-8 round trips\n", vocab_path, iters - bad, iters);
    CHECK(bad == 0, "%s: %d random round trips failed", vocab_path, bad);
    plm_vocab_free(v);
}

/* ---- special tokens, pieces, EOG ---- */
static int ids_eq(const int32_t *a, int na, const int32_t *b, int nb) {
    return na == nb && (na == 0 || memcmp(a, b, sizeof *a * (size_t)na) == 0);
}

static void test_specials(void) {
    plm_vocab *spm = load_vocab("models/vocab/ggml-vocab-llama-spm.gguf");
    plm_vocab *bpe = load_vocab("models/vocab/ggml-vocab-gpt-2.gguf");
    CHECK(spm && bpe, "load vocabularies");
    if (!spm || !bpe) { plm_vocab_free(spm); plm_vocab_free(bpe); return; }
    int n;
    int32_t *ids;
    CHECK(plm_vocab_bos(spm) == 1 && plm_vocab_eos(spm) == 2 && plm_vocab_add_bos(spm) == 1, "spm bos/eos");
    CHECK(plm_vocab_add_space_prefix(spm) == 1, "spm adds a space prefix");
    CHECK(!strcmp(plm_vocab_model_name(spm), "llama") && !strcmp(plm_vocab_model_name(bpe), "gpt2"), "model names");
    CHECK(!strcmp(plm_vocab_pre_name(bpe), "gpt-2"), "gpt-2 pre-tokenizer, got %s", plm_vocab_pre_name(bpe));

    /* BOS by default, none on request */
    ids = tok(spm, "Hello world", 11, -1, 0, &n);
    CHECK(n == 3 && ids[0] == 1 && ids[1] == 15043 && ids[2] == 3186, "spm default BOS (n=%d)", n);
    free(ids);
    ids = tok(spm, "Hello world", 11, 0, 0, &n);
    CHECK(n == 2 && ids[0] == 15043, "spm no BOS");
    free(ids);
    /* "<s>" is text unless parse_special; after a special token the text gets a space prefix again */
    ids = tok(spm, "<s>Hello", 8, 0, 1, &n);
    CHECK(n == 2 && ids[0] == 1 && ids[1] == 15043, "spm parse_special <s> (n=%d)", n);
    free(ids);
    ids = tok(spm, "<s>Hello", 8, 0, 0, &n);
    CHECK(n > 2 && ids[0] != 1, "spm <s> as text");
    free(ids);
    ids = tok(bpe, "a<|endoftext|>b", 15, 0, 1, &n);
    int32_t want_bpe[] = {64, 50256, 65};
    CHECK(ids_eq(ids, n, want_bpe, 3), "gpt2 parse_special <|endoftext|>");
    free(ids);
    ids = tok(bpe, "a<|endoftext|>b", 15, 0, 0, &n);
    CHECK(n > 3, "gpt2 <|endoftext|> as text");
    free(ids);
    /* long text with special tokens (the bucketed search): the same ids as the piece repeated */
    {
        const char *piece = "Hello<s> world x</s>";
        size_t pl = strlen(piece), reps = 100000;
        char *big = malloc(pl * reps);
        for (size_t r = 0; r < reps; r++) memcpy(big + r * pl, piece, pl);
        int n1, nb;
        int32_t *one = tok(spm, piece, pl, 0, 1, &n1);
        int32_t *all = tok(spm, big, pl * reps, 0, 1, &nb);
        int same = nb == n1 * (int)reps;
        for (int i = 0; same && i < nb; i++) same = all[i] == one[i % n1];
        CHECK(same && n1 > 4 && one[1] == 1 && one[n1 - 1] == 2, "long text with specials (%d ids for %d per piece)", nb, n1);
        free(one);
        free(all);
        free(big);
    }
    /* capacity contract: returns the count needed, writes at most cap */
    int32_t small[2] = {-7, -7};
    CHECK(plm_vocab_tokenize(spm, "Hello world again", 17, small, 1, 0, 0) == 3 && small[0] == 15043 && small[1] == -7,
          "tokenize with a short buffer");
    CHECK(plm_vocab_tokenize(spm, "", 0, NULL, 0, -1, 0) == 1, "empty text with BOS gives [BOS]");
    CHECK(plm_vocab_tokenize(spm, "", 0, NULL, 0, 0, 0) == 0, "empty text without BOS gives []");

    /* pieces */
    char p[64];
    CHECK(plm_vocab_piece(spm, 1, p, sizeof p) == 0, "BOS piece is empty");
    CHECK(plm_vocab_piece_ex(spm, 1, p, sizeof p, 0, 1) == 3 && !memcmp(p, "<s>", 3), "BOS piece with special");
    CHECK(plm_vocab_piece(spm, 15043, p, sizeof p) == 6 && !memcmp(p, " Hello", 6), "spm piece ▁Hello");
    CHECK(plm_vocab_piece_ex(spm, 15043, p, sizeof p, 1, 0) == 5 && !memcmp(p, "Hello", 5), "spm piece lstrip");
    CHECK(plm_vocab_piece(spm, 13, p, sizeof p) == 1 && p[0] == '\n', "byte token <0x0A>");
    CHECK(plm_vocab_piece(spm, 15043, p, 2) == 6, "piece length when it does not fit");
    CHECK(plm_vocab_piece(spm, -1, p, sizeof p) == -1 && plm_vocab_piece(spm, 32000, p, sizeof p) == -1, "bad ids");
    CHECK(plm_vocab_piece(bpe, 995, p, sizeof p) == 6 && !memcmp(p, " world", 6), "gpt2 piece Ġworld");
    CHECK(plm_vocab_text(bpe, 995, p, sizeof p) == 7 && !strcmp(p, "\xc4\xa0world"), "raw text Ġworld");
    CHECK(plm_vocab_leading_space(spm, " Hi", 3) == 1 && plm_vocab_leading_space(bpe, " Hi", 3) == 0, "leading space");
    /* detokenize: a leading BOS keeps the space (llama.cpp), remove_special drops it */
    int32_t seq[] = {1, 15043, 3186};
    char d[64];
    int dl = plm_vocab_detokenize(spm, seq, 3, d, sizeof d, 0, 0, -1);
    CHECK(dl == 12 && !memcmp(d, " Hello world", 12), "detokenize with BOS (%d)", dl);
    dl = plm_vocab_detokenize(spm, seq + 1, 2, d, sizeof d, 0, 0, -1);
    CHECK(dl == 11 && !memcmp(d, "Hello world", 11), "detokenize without BOS strips the prefix space");
    dl = plm_vocab_detokenize(spm, seq, 3, d, sizeof d, 0, 1, -1);
    CHECK(dl == 15 && !memcmp(d, "<s> Hello world", 15), "detokenize unparse_special");
    /* clean_spaces (gpt2 default): " ," -> "," */
    ids = tok(bpe, "a , b", 5, 0, 0, &n);
    dl = plm_vocab_detokenize(bpe, ids, n, d, sizeof d, 0, 0, -1);
    CHECK(dl == 4 && !memcmp(d, "a, b", 4), "clean_spaces");
    dl = plm_vocab_detokenize(bpe, ids, n, d, sizeof d, 0, 0, 0);
    CHECK(dl == 5 && !memcmp(d, "a , b", 5), "clean_spaces off");
    free(ids);

    /* SentencePiece's space in the input is a space to the model: it cannot survive a round trip (llama.cpp too) */
    ids = tok(spm, "a\xe2\x96\x81" "b", 5, 0, 0, &n);
    dl = plm_vocab_detokenize(spm, ids, n, d, sizeof d, 0, 0, -1);
    CHECK(dl == 3 && !memcmp(d, "a b", 3), "U+2581 in SPM input reads back as a space");
    free(ids);

    /* end of generation */
    CHECK(plm_vocab_is_eog(spm, 2) && !plm_vocab_is_eog(spm, 1) && !plm_vocab_is_eog(spm, 15043), "spm eog");
    CHECK(plm_vocab_is_eog(bpe, 50256) && !plm_vocab_is_eog(bpe, 995) && !plm_vocab_is_eog(bpe, -3), "gpt2 eog");
    plm_vocab_free(spm);
    plm_vocab_free(bpe);
}

/* ---- pre-tokenizer splits (hand-derived from the regular expressions) ---- */
static void check_split(int pre, const char *text, const char *const *want, const char *label) {
    uint32_t cp[512];
    uint16_t fl[512];
    size_t n = 0, len = strlen(text);
    for (size_t i = 0; i < len;) {
        size_t adv;
        cp[n] = plm_utf8_decode(text + i, len - i, &adv);
        fl[n] = (uint16_t)plm_unicode_flags(cp[n]);
        n++;
        i += adv;
    }
    size_t *lens, nl;
    int ok = plm_pretokenize(pre, cp, fl, n, &lens, &nl) == 0;
    size_t nw = 0;
    while (want[nw]) nw++;
    ok = ok && nl == nw;
    char got[2048] = "";
    size_t at = 0, gl = 0;
    for (size_t i = 0; i < nl; i++) {
        char w[256];
        size_t wl = 0;
        for (size_t j = at; j < at + lens[i]; j++) wl += (size_t)plm_utf8_encode(cp[j], w + wl);
        at += lens[i];
        if (i < nw && (wl != strlen(want[i]) || memcmp(w, want[i], wl))) ok = 0;
        gl += (size_t)snprintf(got + gl, sizeof got - gl, "[%.*s]", (int)wl, w);
        if (gl >= sizeof got) gl = sizeof got - 1;
    }
    CHECK(ok, "%s split of '%s': got %s", label, text, got);
    free(lens);
}

static void test_pretokenizers(void) {
    const char *t1 = "Hello, y'all! How are you 😁 ?我想在apple工作1314151天～";
    const char *const gpt2[] = {"Hello", ",", " y", "'", "all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作",
                                "1314151", "天", "～", NULL};
    check_split(PLM_PRE_GPT2, t1, gpt2, "gpt2");
    const char *const llama3[] = {"Hello", ",", " y", "'all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作",
                                  "131", "415", "1", "天", "～", NULL};
    check_split(PLM_PRE_LLAMA3, t1, llama3, "llama3");
    const char *const qwen2[] = {"Hello", ",", " y", "'all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作",
                                 "1", "3", "1", "4", "1", "5", "1", "天", "～", NULL};
    check_split(PLM_PRE_QWEN2, t1, qwen2, "qwen2");
    const char *const star[] = {"Hello", ",", " y", "'", "all", "!", " How", " are", " you", " 😁", " ?", "我想在apple工作",
                                "1", "3", "1", "4", "1", "5", "1", "天", "～", NULL};
    check_split(PLM_PRE_STARCODER, t1, star, "starcoder");
    /* default: punctuation runs first, then gpt2, then digit runs, then [0-9]{3} */
    const char *const def[] = {"x", "+=", "123", "45", ";", " it", "'", "s", NULL};
    check_split(PLM_PRE_DEFAULT, "x+=12345; it's", def, "default");
    const char *const def2[] = {"abc", " ", "123", "45", NULL};
    check_split(PLM_PRE_DEFAULT, "abc 12345", def2, "default digits");
    /* whitespace: \s+(?!\S) leaves one space for the next word; \s*[\r\n]+ takes up to the last newline */
    const char *const ws_gpt2[] = {"a", "  ", " b", "\n\n ", NULL};
    check_split(PLM_PRE_GPT2, "a   b\n\n ", ws_gpt2, "gpt2 spaces");
    const char *const ws_l3[] = {"a", "  ", " b", " \n\n", "\tc", NULL};
    check_split(PLM_PRE_LLAMA3, "a   b \n\n\tc", ws_l3, "llama3 newlines");
    const char *const contr[] = {"I", "'M", " ok", " it", "'S", NULL};
    check_split(PLM_PRE_LLAMA3, "I'M ok it'S", contr, "llama3 contractions (case-insensitive)");
    const char *const contr2[] = {"I", "'", "M", " ok", NULL};
    check_split(PLM_PRE_GPT2, "I'M ok", contr2, "gpt2 contractions (case-sensitive)");
    const char *const punct[] = {"a", " ...\n\n", "b", NULL};
    check_split(PLM_PRE_LLAMA3, "a ...\n\nb", punct, "llama3 punctuation + newlines");
    const char *const empty[] = {NULL};
    check_split(PLM_PRE_LLAMA3, "", empty, "empty");
}

/* ---- Unicode tables and UTF-8 helpers ---- */
static void test_unicode(void) {
    CHECK(plm_unicode_flags('A') == PLM_UCD_LETTER, "A is a letter");
    CHECK(plm_unicode_flags('7') == PLM_UCD_NUMBER, "7 is a number");
    CHECK(plm_unicode_flags(' ') == (PLM_UCD_SEPARATOR | PLM_UCD_WHITESPACE), "space");
    CHECK(plm_unicode_flags('\n') == (PLM_UCD_CONTROL | PLM_UCD_WHITESPACE), "newline");
    CHECK(plm_unicode_flags(0xa0) & PLM_UCD_WHITESPACE, "NBSP is whitespace");
    CHECK(plm_unicode_flags(0x3000) & PLM_UCD_WHITESPACE, "ideographic space");
    CHECK(plm_unicode_flags(0x4e00) == PLM_UCD_LETTER, "CJK letter");
    CHECK(plm_unicode_flags(0x0301) == PLM_UCD_MARK, "combining acute");
    CHECK(plm_unicode_flags(0x00bd) == PLM_UCD_NUMBER, "½ is a number");
    CHECK(plm_unicode_flags(0x1f600) == PLM_UCD_SYMBOL, "emoji is a symbol");
    CHECK(plm_unicode_flags('!') == PLM_UCD_PUNCTUATION && plm_unicode_flags('$') == PLM_UCD_SYMBOL, "! and $");
    CHECK(plm_unicode_flags(0x0378) == PLM_UCD_UNDEFINED, "unassigned");
    CHECK(plm_unicode_flags(0x20000) == PLM_UCD_LETTER && plm_unicode_flags(0x2a6df) == PLM_UCD_LETTER, "CJK ext B range");
    /* Unicode 15.1, as llama.cpp's tables: CJK Extension I, ideographic description characters, a CJK stroke */
    CHECK(plm_unicode_flags(0x2ebf0) == PLM_UCD_LETTER && plm_unicode_flags(0x2ee5d) == PLM_UCD_LETTER &&
          plm_unicode_flags(0x2ee5e) == PLM_UCD_UNDEFINED, "CJK ext I range");
    CHECK(plm_unicode_flags(0x2ffc) == PLM_UCD_SYMBOL && plm_unicode_flags(0x31ef) == PLM_UCD_SYMBOL, "U+2FFC, U+31EF");
    CHECK(plm_unicode_flags(0xe000) == PLM_UCD_CONTROL, "private use");
    CHECK(plm_unicode_flags(0x110000) == PLM_UCD_UNDEFINED, "out of range");
    CHECK(plm_unicode_tolower('A') == 'a' && plm_unicode_tolower('a') == 'a' && plm_unicode_tolower('1') == '1', "tolower ascii");
    CHECK(plm_unicode_tolower(0x130) == 'i' && plm_unicode_tolower(0x212a) == 'k', "tolower İ and Kelvin");
    CHECK(plm_unicode_tolower(0x100) == 0x101 && plm_unicode_tolower(0x101) == 0x101, "tolower Latin Extended-A");
    CHECK(plm_unicode_tolower(0x410) == 0x430 && plm_unicode_tolower(0x10400) == 0x10428, "tolower Cyrillic, Deseret");
    /* UTF-8 decoding as llama.cpp: malformed -> U+FFFD, one byte */
    size_t adv;
    CHECK(plm_utf8_decode("\xe2\x96\x81", 3, &adv) == 0x2581 && adv == 3, "decode ▁");
    CHECK(plm_utf8_decode("\xe2\x96", 2, &adv) == 0xfffd && adv == 1, "decode truncated");
    CHECK(plm_utf8_decode("\x80", 1, &adv) == 0xfffd && adv == 1, "decode continuation");
    /* streaming helper */
    const char *s = "a\xe2\x96\x81" "b\xf0\x9f\x98\x81";
    CHECK(plm_utf8_complete(s, 1) == 1 && plm_utf8_complete(s, 2) == 1 && plm_utf8_complete(s, 3) == 1 &&
          plm_utf8_complete(s, 4) == 4 && plm_utf8_complete(s, 5) == 5 && plm_utf8_complete(s, 6) == 5 &&
          plm_utf8_complete(s, 8) == 5 && plm_utf8_complete(s, 9) == 9, "utf8_complete");
    CHECK(plm_utf8_complete("\x80\x80", 2) == 2 && plm_utf8_complete("", 0) == 0, "utf8_complete invalid/empty");
    /* GPT-2 byte alphabet is a bijection onto its 256 code points */
    int ok = 1;
    for (int b = 0; b < 256; b++) ok &= plm_gpt2_cpt_to_byte(plm_gpt2_byte_to_cpt((unsigned char)b)) == b;
    CHECK(ok && plm_gpt2_byte_to_cpt(' ') == 0x120 && plm_gpt2_byte_to_cpt('\n') == 0x10a, "gpt2 byte alphabet");
}

/* ---- hostile vocabularies, built in memory ---- */
typedef struct gw { uint8_t *p; size_t n, cap; int nkv; } gw;
static void gw_put(gw *w, const void *d, size_t n) {
    if (w->n + n > w->cap) { w->cap = (w->n + n) * 2; w->p = realloc(w->p, w->cap); }
    memcpy(w->p + w->n, d, n);
    w->n += n;
}
static void gw_u32(gw *w, uint32_t v) { uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)}; gw_put(w, b, 4); }
static void gw_u64(gw *w, uint64_t v) { gw_u32(w, (uint32_t)v); gw_u32(w, (uint32_t)(v >> 32)); }
static void gw_str(gw *w, const char *s) { gw_u64(w, strlen(s)); gw_put(w, s, strlen(s)); }
static void gw_kv_str(gw *w, const char *k, const char *v) { gw_str(w, k); gw_u32(w, GGUF_STRING); gw_str(w, v); w->nkv++; }
static void gw_kv_u32(gw *w, const char *k, uint32_t v) { gw_str(w, k); gw_u32(w, GGUF_U32); gw_u32(w, v); w->nkv++; }
static void gw_kv_strs(gw *w, const char *k, const char *const *v, int n) {
    gw_str(w, k); gw_u32(w, GGUF_ARRAY); gw_u32(w, GGUF_STRING); gw_u64(w, (uint64_t)n);
    for (int i = 0; i < n; i++) gw_str(w, v[i]);
    w->nkv++;
}
static void gw_kv_i32s(gw *w, const char *k, const int32_t *v, int n) {
    gw_str(w, k); gw_u32(w, GGUF_ARRAY); gw_u32(w, GGUF_I32); gw_u64(w, (uint64_t)n);
    for (int i = 0; i < n; i++) gw_u32(w, (uint32_t)v[i]);
    w->nkv++;
}
/* header (magic, version, counts) in front of the key/values written so far */
static uint8_t *gw_finish(gw *w, size_t *n) {
    gw h = {0};
    gw_put(&h, "GGUF", 4); gw_u32(&h, 3); gw_u64(&h, 0); gw_u64(&h, (uint64_t)w->nkv);
    gw_put(&h, w->p, w->n);
    free(w->p);
    *n = h.n;
    return h.p;
}

static plm_vocab *build(const char *model, const char *pre, const char *const *toks, int ntok, const int32_t *types,
                        const char *const *merges, int nmerges, int32_t bos, plm_status *st, char *err) {
    gw w = {0};
    gw_kv_str(&w, "general.architecture", "llama");
    gw_kv_str(&w, "tokenizer.ggml.model", model);
    if (pre) gw_kv_str(&w, "tokenizer.ggml.pre", pre);
    gw_kv_strs(&w, "tokenizer.ggml.tokens", toks, ntok);
    if (types) gw_kv_i32s(&w, "tokenizer.ggml.token_type", types, ntok);
    if (merges) gw_kv_strs(&w, "tokenizer.ggml.merges", merges, nmerges);
    if (bos >= 0) gw_kv_u32(&w, "tokenizer.ggml.bos_token_id", (uint32_t)bos);
    size_t n;
    uint8_t *buf = gw_finish(&w, &n);
    plm_vocab *v = vocab_from_bytes(buf, n, st, err, 256);
    free(buf); /* the vocabulary must not keep pointers into the GGUF buffer */
    return v;
}

static void test_hostile(void) {
    char err[256];
    plm_status st;
    /* byte-level BPE with duplicates, an empty string and an out-of-range BOS id */
    const char *toks[] = {"a", "b", "ab", "a", "", "\xc4\xa0", "\xc4\xa0" "ab", "<|im_end|>"};
    const char *merges[] = {"a b", "\xc4\xa0 ab", "a b", "nospace", "b"};
    int32_t types[] = {1, 1, 1, 1, 1, 1, 1, 3};
    plm_vocab *v = build("gpt2", "qwen2", toks, 8, types, merges, 5, 999999, &st, err);
    CHECK(v && st == PLM_OK, "hostile vocab loads (%s)", err);
    if (v) {
        int n;
        int32_t *ids = tok(v, "ab ab", 5, -1, 0, &n);
        int32_t want[] = {2, 6};
        CHECK(ids_eq(ids, n, want, 2), "hostile vocab tokenizes (n=%d)", n);
        free(ids);
        CHECK(plm_vocab_bos(v) == -1, "out-of-range BOS id is treated as absent");
        CHECK(plm_vocab_is_eog(v, 7) && plm_vocab_eot(v) == 7, "<|im_end|> detected as EOT/EOG");
        char p[32];
        CHECK(plm_vocab_text(v, 4, p, sizeof p) == 9 && !strcmp(p, "[EMPTY_4]"), "empty token renamed");
        ids = tok(v, "a<|im_end|>", 11, 0, 1, &n);
        CHECK(n == 2 && ids[0] == 0 && ids[1] == 7, "control token parsed");
        free(ids);
        ids = tok(v, "zz\xff", 3, 0, 0, &n); /* nothing in the vocabulary: dropped, never a crash */
        CHECK(n == 0, "unknown bytes dropped (n=%d)", n);
        free(ids);
        plm_vocab_free(v);
    }
    /* llama.cpp's per-model EOG exceptions (llama-vocab.cpp): with <|call|> and <|return|> ending generation,
     * <|end|> does not (o200k_harmony); with <|tool_response>, </s> does not (gemma4). Without them both do. */
    {
        const char *h[] = {"a", "<|end|>", "<|call|>", "<|return|>", "</s>", "<|tool_response>"};
        int32_t ht[] = {1, 3, 3, 3, 3, 3};
        plm_vocab *x = build("gpt2", "gpt-2", h, 6, ht, merges, 1, -1, &st, err);
        CHECK(x && !plm_vocab_is_eog(x, 1) && plm_vocab_is_eog(x, 2) && plm_vocab_is_eog(x, 3), "harmony: <|end|> not EOG");
        CHECK(x && !plm_vocab_is_eog(x, 4) && plm_vocab_is_eog(x, 5), "gemma4: </s> not EOG next to <|tool_response>");
        plm_vocab_free(x);
        x = build("gpt2", "gpt-2", h, 3, ht, merges, 1, -1, &st, err);
        CHECK(x && plm_vocab_is_eog(x, 1), "<|end|> is EOG without <|return|> or <|flush|>");
        plm_vocab_free(x);
        x = build("gpt2", "gpt-2", h, 5, ht, merges, 1, -1, &st, err);
        CHECK(x && plm_vocab_is_eog(x, 1) == 0 && plm_vocab_is_eog(x, 4), "</s> is EOG without <|tool_response>");
        plm_vocab_free(x);
    }
    v = build("gpt2", "my-new-pretok", toks, 3, NULL, merges, 1, -1, &st, err);
    CHECK(!v && st == PLM_UNSUPPORTED && strstr(err, "my-new-pretok"), "unknown pre-tokenizer: %s", err);
    v = build("gpt2", NULL, toks, 3, NULL, merges, 1, -1, &st, err);
    CHECK(v && !strcmp(plm_vocab_pre_name(v), "default"), "missing pre-tokenizer means default");
    plm_vocab_free(v);
    v = build("gpt2", "gpt-2", toks, 3, NULL, NULL, 0, -1, &st, err);
    CHECK(!v && st == PLM_BAD_MODEL, "BPE without merges: %s", err);
    v = build("bert", NULL, toks, 3, NULL, NULL, 0, -1, &st, err);
    CHECK(!v && st == PLM_UNSUPPORTED && strstr(err, "bert"), "unsupported model: %s", err);
    /* SPM without byte tokens: unknown characters fall back to <unk> */
    const char *stoks[] = {"<unk>", "<s>", "</s>", "\xe2\x96\x81", "h", "i", "\xe2\x96\x81h"};
    int32_t stypes[] = {2, 3, 3, 1, 1, 1, 1};
    v = build("llama", NULL, stoks, 7, stypes, NULL, 0, -1, &st, err);
    CHECK(v != NULL, "small spm vocab: %s", err);
    if (v) {
        int n;
        int32_t *ids = tok(v, "hi!", 3, 1, 0, &n);
        int32_t want[] = {1, 6, 5, 0};
        CHECK(ids_eq(ids, n, want, 4), "spm without byte tokens (n=%d)", n);
        free(ids);
        plm_vocab_free(v);
    }
}

/* ---- speed: 1 MB of English-like text ---- */
static void test_speed(const char *vocab_path, double limit_s) {
    plm_vocab *v = load_vocab(vocab_path);
    if (!v) { CHECK(0, "load %s", vocab_path); return; }
    static const char *const words[] = {"the", "quick", "brown", "fox", "jumps", "over", "lazy", "dog", "and", "it",
                                        "was", "a", "bright", "cold", "day", "in", "April", "clocks", "were",
                                        "striking", "thirteen", "Winston", "Smith", "his", "chin", "nuzzled", "into",
                                        "breast", "effort", "to", "escape", "vile", "wind", "slipped", "quickly",
                                        "through", "glass", "doors", "of", "Victory", "Mansions", "though", "not",
                                        "enough", "prevent", "swirl", "gritty", "dust", "from", "entering", "along",
                                        "with", "him", "1984", "don't", "I'll"};
    size_t cap = 1 << 20;
    char *text = malloc(cap + 64);
    size_t n = 0;
    uint64_t saved = rng;
    rng = 42;
    while (n < cap) {
        const char *w = words[rnd() % (sizeof words / sizeof words[0])];
        size_t wl = strlen(w);
        memcpy(text + n, w, wl);
        n += wl;
        uint32_t r = rnd() % 20;
        text[n++] = r == 0 ? '.' : r == 1 ? ',' : ' ';
        if (r == 0) text[n++] = rnd() % 4 ? ' ' : '\n';
    }
    rng = saved;
    clock_t t0 = clock();
    int k = plm_vocab_tokenize(v, text, n, NULL, 0, 0, 0);
    double dt = (double)(clock() - t0) / CLOCKS_PER_SEC;
    printf("%s: %zu bytes -> %d tokens in %.3f s\n", vocab_path, n, k, dt);
    CHECK(k > 100000 && dt < limit_s, "%s: 1 MB in %.3f s (limit %.1f s)", vocab_path, dt, limit_s);
    free(text);
    plm_vocab_free(v);
}

int main(int argc, char **argv) {
    if (argc == 3 && strstr(argv[2], ".json")) { /* recorded llama.cpp tokenizations for another vocabulary */
        test_json_vectors(argv[1], argv[2]);
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return n_fail != 0;
    }
    if (argc > 1) { /* vector check for another vocabulary */
        char inp[1024], out[1024];
        snprintf(inp, sizeof inp, "%s.inp", argv[1]);
        snprintf(out, sizeof out, "%s.out", argv[1]);
        test_vectors(argv[1], argc > 2 ? argv[2] : inp, argc > 3 ? argv[3] : out);
        printf("%d passed, %d failed\n", n_pass, n_fail);
        return n_fail != 0;
    }
    test_unicode();
    test_pretokenizers();
    test_vectors("models/vocab/ggml-vocab-llama-spm.gguf", "models/vocab/ggml-vocab-llama-spm.gguf.inp",
                 "models/vocab/ggml-vocab-llama-spm.gguf.out");
    test_vectors("models/vocab/ggml-vocab-gpt-2.gguf", "models/vocab/ggml-vocab-gpt-2.gguf.inp",
                 "models/vocab/ggml-vocab-gpt-2.gguf.out");
    test_json_vectors("models/vocab/ggml-vocab-llama-spm.gguf", "tests/data/conformance/tokenize-ggml-vocab-llama-spm.json");
    test_json_vectors("models/vocab/ggml-vocab-gpt-2.gguf", "tests/data/conformance/tokenize-ggml-vocab-gpt-2.json");
    /* the real Qwen3, Gemma 2, Gemma 3 and Llama 3 vocabularies, converted from npm packages by tools/vocab-gguf.mjs */
    static const char *const real[] = {"qwen3", "gemma2", "gemma3", "llama3"};
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        char gguf_path[128], json_path[128];
        snprintf(gguf_path, sizeof gguf_path, "build/vocab/ggml-vocab-%s.gguf", real[i]);
        snprintf(json_path, sizeof json_path, "tests/data/conformance/tokenize-ggml-vocab-%s.json", real[i]);
        test_json_vectors(gguf_path, json_path);
    }
    test_round_trip("models/vocab/ggml-vocab-llama-spm.gguf", 400);
    test_round_trip("models/vocab/ggml-vocab-gpt-2.gguf", 400);
    test_random_bytes("models/vocab/ggml-vocab-llama-spm.gguf", 300);
    test_random_bytes("models/vocab/ggml-vocab-gpt-2.gguf", 300);
    test_specials();
    test_hostile();
    /* generous limits: the sanitizer build runs several times slower than the native one */
    test_speed("models/vocab/ggml-vocab-llama-spm.gguf", 5.0);
    test_speed("models/vocab/ggml-vocab-gpt-2.gguf", 5.0);
    printf("%d passed, %d failed\n", n_pass, n_fail);
    return n_fail != 0;
}
