/* pocketlm command line: run, tokenize, info, chat, bench, logits (docs/architecture.md, "Tools").
 * Generated text only on stdout; timings and diagnostics on stderr; exit 1 on bad input. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pocketlm.h"

typedef struct opts {
    const char *model, *prompt, *file;
    int n_predict, n_prompt_bench, threads, n_ctx, no_bos, print_ids, kv_f32, parse_special, exact, prefill;
    plm_sampler_params sp;
} opts;

static int usage(void) {
    fprintf(stderr,
            "usage:\n"
            "  pocketlm run -m MODEL.gguf -p PROMPT [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P]\n"
            "               [--repeat-penalty R] [--seed S] [--threads N] [-c CTX] [--kv-f32] [--print-ids]\n"
            "  pocketlm tokenize -m MODEL.gguf (-p TEXT | -f FILE) [--no-bos] [--parse-special]\n"
            "  pocketlm info -m MODEL.gguf [-c CTX] [--kv-f32]\n"
            "  pocketlm chat -m MODEL.gguf [-n N] [sampling options]\n"
            "  pocketlm bench -m MODEL.gguf [-p 128] [-n 64] [--threads N]\n"
            "  pocketlm logits -m MODEL.gguf -f IDS.txt [--prefill P]   f32 logits after every id from P on, raw on stdout\n"
            "  (every command: --exact for kernels with llama.cpp's x86 arithmetic where the build's default differs)\n"
            "  pocketlm --version\n");
    return 1;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int parse_num(const char *s, double *out) {
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == 0;
}

static int parse_args(int argc, char **argv, opts *o) {
    memset(o, 0, sizeof *o);
    plm_sampler_default_params(&o->sp);
    o->sp.temperature = 0; /* the CLI is greedy unless asked: reproducible by default */
    o->n_predict = -1;
    o->n_prompt_bench = -1;
    o->threads = 1;
    for (int i = 2; i < argc; i++) {
        const char *a = argv[i];
        double v = 0;
        int flag = !strcmp(a, "--no-bos") || !strcmp(a, "--print-ids") || !strcmp(a, "--kv-f32") ||
                   !strcmp(a, "--parse-special") || !strcmp(a, "--exact");
        if (!flag && (i + 1 >= argc)) { fprintf(stderr, "error: %s needs a value\n", a); return 0; }
        const char *val = flag ? NULL : argv[i + 1];
        int numeric = !flag && strcmp(a, "-m") && strcmp(a, "-f") && !(strcmp(a, "-p") == 0 && strcmp(argv[1], "bench"));
        if (numeric && !parse_num(val, &v)) { fprintf(stderr, "error: %s expects a number, got '%s'\n", a, val); return 0; }
        /* integers go through int: keep every numeric option in a range where the conversion is defined */
        if (numeric && !(v >= -1e9 && v <= 1e9) && strcmp(a, "--seed")) {
            fprintf(stderr, "error: %s value '%s' is out of range\n", a, val);
            return 0;
        }
        if (numeric && !strcmp(a, "--seed") && !(v >= 0 && v < 1.8e19)) {
            fprintf(stderr, "error: --seed must be between 0 and 2^64\n");
            return 0;
        }
        if (!strcmp(a, "-m")) o->model = val;
        else if (!strcmp(a, "-p") && strcmp(argv[1], "bench")) o->prompt = val;
        else if (!strcmp(a, "-p")) o->n_prompt_bench = (int)v;
        else if (!strcmp(a, "-f")) o->file = val;
        else if (!strcmp(a, "-n")) o->n_predict = (int)v;
        else if (!strcmp(a, "-c")) o->n_ctx = (int)v;
        else if (!strcmp(a, "--temp")) o->sp.temperature = (float)v;
        else if (!strcmp(a, "--top-k")) o->sp.top_k = (int)v;
        else if (!strcmp(a, "--top-p")) o->sp.top_p = (float)v;
        else if (!strcmp(a, "--min-p")) o->sp.min_p = (float)v;
        else if (!strcmp(a, "--repeat-penalty")) o->sp.repeat_penalty = (float)v;
        else if (!strcmp(a, "--seed")) o->sp.seed = (uint64_t)v;
        else if (!strcmp(a, "--threads")) o->threads = (int)v;
        else if (!strcmp(a, "--no-bos")) o->no_bos = 1;
        else if (!strcmp(a, "--print-ids")) o->print_ids = 1;
        else if (!strcmp(a, "--kv-f32")) o->kv_f32 = 1;
        else if (!strcmp(a, "--parse-special")) o->parse_special = 1;
        else if (!strcmp(a, "--exact")) o->exact = 1;
        else if (!strcmp(a, "--prefill")) o->prefill = (int)v;
        else { fprintf(stderr, "error: unknown option '%s'\n", a); return 0; }
        if (!flag) i++;
    }
    if (!o->model) { fprintf(stderr, "error: -m MODEL.gguf is required\n"); return 0; }
    if (o->threads < 1 || o->threads > 256) { fprintf(stderr, "error: --threads must be 1..256\n"); return 0; }
    return 1;
}

static plm_model *load(const opts *o) {
    const char *path = o->model;
    plm_model *m;
    double t0 = now_s();
    plm_status st = plm_model_load_file_ex(path, o->exact, &m);
    if (st) {
        fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_model_errmsg(m));
        plm_model_free(m);
        return NULL;
    }
    fprintf(stderr, "loaded %s in %.0f ms (backend %s)\n", path, (now_s() - t0) * 1e3, plm_model_backend_name(m));
    return m;
}

/* Tokenizes into a malloc'd array; returns the count or -1. */
static int tokenize(const plm_model *m, const char *text, size_t len, int add_bos, int special, int32_t **out) {
    int n = plm_tokenize(m, text, len, NULL, 0, add_bos, special);
    if (n < 0) return -1;
    *out = malloc(((size_t)n + 1) * sizeof **out);
    if (!*out) return -1;
    return plm_tokenize(m, text, len, *out, n, add_bos, special);
}

/* Streams token text so a multi-byte character split across tokens is printed only when complete. */
typedef struct printer { char pend[64]; int n; } printer;

static int utf8_len(unsigned char c) { return c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1; }

/* A token's piece: in small when it fits, else in a malloc'd buffer the caller frees (*heap). Length or -1. */
static int piece(const plm_model *m, int32_t id, char *small, int cap, char **heap) {
    *heap = NULL;
    int n = plm_token_to_piece(m, id, small, cap);
    if (n <= cap) return n;
    if (!(*heap = malloc((size_t)n)) || plm_token_to_piece(m, id, *heap, n) != n) return -1;
    return n;
}

static void emit(printer *p, const plm_model *m, int32_t id, FILE *f) {
    char small[256], *heap;
    int n = piece(m, id, small, sizeof small, &heap);
    const char *buf = heap ? heap : small;
    for (int i = 0; i < n; i++) {
        if (p->n == (int)sizeof p->pend) { fwrite(p->pend, 1, (size_t)p->n, f); p->n = 0; }
        p->pend[p->n++] = buf[i];
    }
    int done = 0, i = 0;
    while (i < p->n) {
        int l = utf8_len((unsigned char)p->pend[i]);
        if (i + l > p->n) break;
        i += l;
        done = i;
    }
    fwrite(p->pend, 1, (size_t)done, f);
    memmove(p->pend, p->pend + done, (size_t)(p->n - done));
    p->n -= done;
    fflush(f);
    free(heap);
}

static plm_session *new_session(const plm_model *m, const opts *o) {
    plm_session_params sp;
    plm_session_default_params(&sp);
    sp.n_threads = o->threads;
    sp.n_ctx = o->n_ctx;
    sp.kv_f32 = o->kv_f32;
    plm_session *s;
    plm_status st = plm_session_new(m, &sp, &s);
    if (st) {
        fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s));
        plm_session_free(s);
        s = NULL;
    }
    return s;
}

static plm_sampler *new_sampler(const plm_sampler_params *p, int n_vocab) {
    plm_sampler *smp;
    plm_status st = plm_sampler_new(p, n_vocab, &smp);
    if (st) {
        fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_sampler_errmsg(smp));
        plm_sampler_free(smp);
        smp = NULL;
    }
    return smp;
}

/* Evaluates the prompt then samples up to n tokens; returns 0 on success. */
static int generate(const plm_model *m, plm_session *s, plm_sampler *smp, const int32_t *ids, int n_ids, int n,
                    const opts *o, printer *pr) {
    double t0 = now_s();
    plm_status st = plm_session_eval(s, ids, n_ids);
    if (st) { fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s)); return 1; }
    double t1 = now_s();
    int produced = 0;
    if (o->print_ids) printf("[");
    while (produced < n) {
        int32_t id = plm_sampler_sample(smp, plm_session_logits(s));
        if (plm_token_is_eog(m, id)) break;
        if (o->print_ids) printf(produced ? ",%d" : "%d", id), fflush(stdout);
        else emit(pr, m, id, stdout);
        produced++;
        if (produced == n) break;
        if ((st = plm_session_eval(s, &id, 1))) {
            if (st == PLM_CONTEXT_FULL) { fprintf(stderr, "\n[context full after %d tokens]\n", plm_session_n_past(s)); break; }
            fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s));
            return 1;
        }
    }
    if (o->print_ids) printf("]\n");
    double t2 = now_s();
    fprintf(stderr, "\nprefill: %d tokens in %.1f ms (%.1f tok/s); decode: %d tokens in %.1f ms (%.1f tok/s)\n", n_ids,
            (t1 - t0) * 1e3, n_ids / (t1 - t0), produced, (t2 - t1) * 1e3, produced > 0 ? produced / (t2 - t1) : 0.0);
    return 0;
}

static int cmd_run(const opts *o) {
    if (!o->prompt) { fprintf(stderr, "error: run needs -p PROMPT\n"); return 1; }
    plm_model *m = load(o);
    if (!m) return 1;
    int rc = 1;
    int32_t *ids = NULL;
    plm_session *s = NULL;
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    plm_sampler *smp = new_sampler(&o->sp, mi.n_vocab);
    int n = tokenize(m, o->prompt, strlen(o->prompt), o->no_bos ? 0 : -1, o->parse_special, &ids);
    if (n <= 0) { fprintf(stderr, "error: the prompt gives no tokens\n"); goto out; }
    if (!smp || !(s = new_session(m, o))) goto out;
    for (int i = 0; i < n; i++) plm_sampler_accept(smp, ids[i]);
    printer pr = {{0}, 0};
    rc = generate(m, s, smp, ids, n, o->n_predict < 0 ? 128 : o->n_predict, o, &pr);
out:
    free(ids);
    plm_sampler_free(smp);
    plm_session_free(s);
    plm_model_free(m);
    return rc;
}

static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { fprintf(stderr, "error: cannot open '%s'\n", path); return NULL; }
    size_t cap = 1 << 16, n = 0, r;
    char *buf = malloc(cap);
    while (buf && (r = fread(buf + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *b = realloc(buf, cap *= 2);
            if (!b) { free(buf); buf = NULL; }
            buf = b;
        }
    }
    fclose(f);
    if (!buf) fprintf(stderr, "error: out of memory reading '%s'\n", path);
    *len = n;
    return buf;
}

static int cmd_tokenize(const opts *o) {
    if (!o->prompt == !o->file) { fprintf(stderr, "error: tokenize needs exactly one of -p TEXT or -f FILE\n"); return 1; }
    size_t len = 0;
    char *text = o->file ? read_file(o->file, &len) : NULL;
    if (o->file && !text) return 1;
    if (!o->file) len = strlen(o->prompt);
    plm_model *m = load(o);
    int rc = 1;
    int32_t *ids = NULL;
    if (m) {
        int n = tokenize(m, text ? text : o->prompt, len, o->no_bos ? 0 : -1, o->parse_special, &ids);
        if (n < 0) fprintf(stderr, "error: tokenization failed\n");
        else {
            printf("[");
            for (int i = 0; i < n; i++) printf(i ? ", %d" : "%d", ids[i]);
            printf("]\n");
            rc = 0;
        }
    }
    free(ids);
    free(text);
    plm_model_free(m);
    return rc;
}

/* plm_inspect_json over the file's header, read as far as the header needs: what a page sees before downloading. */
static char *inspect_file(const opts *o) {
    FILE *f = fopen(o->model, "rb");
    if (!f) return NULL;
    plm_session_params sp;
    plm_session_default_params(&sp);
    sp.n_ctx = o->n_ctx;
    sp.kv_f32 = o->kv_f32;
    uint64_t need = 1 << 16;
    size_t n = 0;
    char *js = NULL;
    uint8_t *buf = NULL;
    while (!js && need > n && need <= (256u << 20)) {
        uint8_t *b = realloc(buf, (size_t)need);
        if (!b) break;
        buf = b;
        size_t r = fread(buf + n, 1, (size_t)need - n, f);
        n += r;
        js = plm_inspect_json(buf, n, &sp, 0, &need);
        if (!r) break; /* end of file: the loader says what is missing */
    }
    free(buf);
    fclose(f);
    return js;
}

/* One line a person reads: the facts of inspect (stdout keeps the JSON). */
static void print_summary(const char *js) {
    const char *arch = strstr(js, "\"architecture\":"), *params = strstr(js, "\"parameters\":"),
               *total = strstr(js, "\"total\":"), *ctx = strstr(js, "\"n_ctx\":"), *sup = strstr(js, "\"supported\":");
    char a[64] = "?";
    if (arch) sscanf(arch, "\"architecture\":\"%63[^\"]", a);
    double pc = params ? atof(params + 13) : 0, mem = total ? atof(total + 8) : 0;
    fprintf(stderr, "%s, %.1fM parameters; a %d-token session needs %.1f MiB in all; %s\n", a, pc / 1e6,
            ctx ? atoi(ctx + 8) : 0, mem / 1048576.0, sup && !strncmp(sup + 12, "true", 4) ? "supported" : "not supported");
}

static int cmd_info(const opts *o) {
    plm_model *m = load(o);
    if (!m) return 1;
    char *js = plm_model_info_json(m), *ij = js ? inspect_file(o) : NULL;
    if (js && ij) {
        print_summary(ij);
        js[strlen(js) - 1] = 0; /* the object's closing brace: the inspect facts go inside */
        printf("%s,\"inspect\":%s}\n", js, ij);
    }
    int rc = js && ij ? 0 : 1;
    if (rc) fprintf(stderr, "error [OUT_OF_MEMORY]: out of memory describing the model\n");
    free(js);
    free(ij);
    plm_model_free(m);
    return rc;
}

static int cmd_bench(const opts *o) {
    plm_model *m = load(o);
    if (!m) return 1;
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    int np = o->n_prompt_bench < 0 ? 128 : o->n_prompt_bench, nd = o->n_predict < 0 ? 64 : o->n_predict;
    opts oo = *o;
    if (!oo.n_ctx) oo.n_ctx = np + nd + 1;
    plm_session *s = new_session(m, &oo);
    int rc = 1;
    int32_t *ids = malloc(((size_t)np + 1) * sizeof *ids);
    if (s && ids && np > 0) {
        uint64_t x = 42;
        for (int i = 0; i < np; i++) ids[i] = (int32_t)((x = x * 6364136223846793005ull + 1442695040888963407ull) >> 33) % mi.n_vocab;
        double t0 = now_s();
        plm_status st = plm_session_eval(s, ids, np);
        double t1 = now_s();
        int32_t id = ids[np - 1];
        for (int i = 0; i < nd && !st; i++) st = plm_session_eval(s, &id, 1), id = (id + 7) % mi.n_vocab;
        double t2 = now_s();
        if (st) fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s));
        else {
            printf("{\"model\":\"%s\",\"backend\":\"%s\",\"threads\":%d,\"n_prompt\":%d,\"n_decode\":%d,"
                   "\"prefill_tok_s\":%.2f,\"decode_tok_s\":%.2f}\n",
                   o->model, plm_model_backend_name(m), o->threads, np, nd, np / (t1 - t0), nd > 0 ? nd / (t2 - t1) : 0.0);
            rc = 0;
        }
    } else if (np <= 0) fprintf(stderr, "error: -p must be positive\n");
    free(ids);
    plm_session_free(s);
    plm_model_free(m);
    return rc;
}

/* Teacher forcing for the statistical conformance tool (tools/logits-compare.mjs): ids from a text file (decimal,
 * any separators); the first `prefill` (at least 1) are evaluated as one batch, then each of the rest alone; after
 * the batch and after every later id, the n_vocab logits go to stdout as raw little-endian f32. */
static int cmd_logits(const opts *o) {
    if (!o->file) { fprintf(stderr, "error: logits needs -f IDS.txt\n"); return 1; }
    FILE *f = fopen(o->file, "rb");
    if (!f) { fprintf(stderr, "error: cannot open '%s'\n", o->file); return 1; }
    int32_t *ids = NULL;
    int n = 0, cap = 0, c;
    long v = -1;
    while ((c = fgetc(f)) != EOF || v >= 0) {
        if (c >= '0' && c <= '9') { v = (v < 0 ? 0 : v) * 10 + (c - '0'); if (v > 1 << 30) break; continue; }
        if (v >= 0) {
            if (n == cap) {
                int32_t *t = realloc(ids, (size_t)(cap = cap ? 2 * cap : 256) * sizeof *ids);
                if (!t) break;
                ids = t;
            }
            ids[n++] = (int32_t)v, v = -1;
        }
        if (c == EOF) break;
    }
    fclose(f);
    plm_model *m = n > 0 ? load(o) : NULL;
    if (!m) { if (n <= 0) fprintf(stderr, "error: no ids in '%s'\n", o->file); free(ids); return 1; }
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    int rc = 1, p = o->prefill < 1 ? 1 : o->prefill > n ? n : o->prefill;
    for (int i = 0; i < n; i++)
        if (ids[i] >= mi.n_vocab) {
            fprintf(stderr, "error: id %d is out of range (n_vocab %d)\n", ids[i], mi.n_vocab);
            n = 0;
        }
    opts oo = *o;
    if (!oo.n_ctx) oo.n_ctx = n + 1;
    plm_session *s = new_session(m, &oo);
    plm_status st = s && n > 0 ? plm_session_eval(s, ids, p) : PLM_BAD_ARG;
    for (int i = p; !st; i++) {
        if (fwrite(plm_session_logits(s), sizeof(float), (size_t)mi.n_vocab, stdout) != (size_t)mi.n_vocab) break;
        if (i == n) { rc = 0; break; }
        st = plm_session_eval(s, &ids[i], 1);
    }
    if (st && s && n > 0) fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s));
    free(ids);
    plm_session_free(s);
    plm_model_free(m);
    return rc;
}

/* Interactive chat: the whole conversation is re-rendered with the model's template each turn and only the
 * tokens after the longest prefix already in the KV cache are evaluated. */
static int cmd_chat(const opts *o) {
    plm_model *m = load(o);
    if (!m) return 1;
    plm_model_info mi;
    plm_model_get_info(m, &mi);
    plm_session *s = new_session(m, o);
    opts so = *o;
    if (so.sp.temperature == 0 && !so.print_ids) so.sp.temperature = 0; /* greedy by default, like run */
    plm_sampler *smp = new_sampler(&so.sp, mi.n_vocab);
    int rc = s && smp ? 0 : 1, nmsg = 0, ncache = 0;
    plm_chat_message msgs[256];
    char *owned[256];
    int32_t cache[65536];
    char line[8192];
    const char *family = NULL;
    while (!rc && nmsg + 2 < 256 && (fprintf(stderr, "> "), fgets(line, sizeof line, stdin))) {
        line[strcspn(line, "\n")] = 0;
        if (!line[0]) continue;
        owned[nmsg] = strdup(line);
        msgs[nmsg] = (plm_chat_message){"user", owned[nmsg]};
        nmsg++;
        int need = plm_chat_apply(m, msgs, nmsg, 1, NULL, 0, &family);
        char *txt = need >= 0 ? malloc((size_t)need + 1) : NULL;
        if (!txt) { rc = 1; break; }
        plm_chat_apply(m, msgs, nmsg, 1, txt, need + 1, &family);
        int32_t *ids = NULL;
        int n = tokenize(m, txt, (size_t)need, -1, 1, &ids);
        free(txt);
        if (n < 0 || n > (int)(sizeof cache / sizeof *cache)) { free(ids); rc = 1; break; }
        int keep = 0;
        while (keep < ncache && keep < n - 1 && cache[keep] == ids[keep]) keep++;
        plm_session_truncate(s, keep);
        memcpy(cache, ids, (size_t)n * sizeof *ids);
        ncache = n;
        printer pr = {{0}, 0};
        /* Collect the reply as text for the next turn's rendering. */
        char *reply = calloc(1, 1);
        size_t rlen = 0;
        plm_status st = plm_session_eval(s, ids + keep, n - keep);
        free(ids);
        for (int i = 0; !st && reply && i < (o->n_predict < 0 ? 512 : o->n_predict); i++) {
            int32_t id = plm_sampler_sample(smp, plm_session_logits(s));
            if (plm_token_is_eog(m, id)) break;
            emit(&pr, m, id, stdout);
            char small[256], *heap;
            int pl = piece(m, id, small, sizeof small, &heap);
            if (pl > 0) {
                char *r2 = realloc(reply, rlen + (size_t)pl + 1);
                if (!r2) { free(heap); break; }
                reply = r2;
                memcpy(reply + rlen, heap ? heap : small, (size_t)pl);
                reply[rlen += (size_t)pl] = 0;
            }
            free(heap);
            if (ncache < (int)(sizeof cache / sizeof *cache)) cache[ncache++] = id;
            st = plm_session_eval(s, &id, 1);
        }
        printf("\n");
        if (st) fprintf(stderr, "error [%s]: %s\n", plm_status_name(st), plm_session_errmsg(s));
        if (!reply) { rc = 1; break; }
        owned[nmsg] = reply;
        msgs[nmsg] = (plm_chat_message){"assistant", reply};
        nmsg++;
        if (st) break;
    }
    if (family) fprintf(stderr, "[chat template: %s]\n", family);
    for (int i = 0; i < nmsg; i++) free(owned[i]);
    plm_sampler_free(smp);
    plm_session_free(s);
    plm_model_free(m);
    return rc;
}

int main(int argc, char **argv) {
    if (argc < 2) return usage();
    opts o;
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) return printf("pocketlm %s\n", plm_version()) < 0;
    if (strcmp(cmd, "run") && strcmp(cmd, "tokenize") && strcmp(cmd, "info") && strcmp(cmd, "chat") &&
        strcmp(cmd, "bench") && strcmp(cmd, "logits"))
        return usage();
    if (!parse_args(argc, argv, &o)) return usage();
    if (!strcmp(cmd, "run")) return cmd_run(&o);
    if (!strcmp(cmd, "tokenize")) return cmd_tokenize(&o);
    if (!strcmp(cmd, "info")) return cmd_info(&o);
    if (!strcmp(cmd, "chat")) return cmd_chat(&o);
    if (!strcmp(cmd, "logits")) return cmd_logits(&o);
    return cmd_bench(&o);
}
