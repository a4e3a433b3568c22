/* llama2c-to-gguf: converts a llama2.c checkpoint and its tokenizer to a GGUF (arch llama, F32 tensors).
 *
 *   llama2c-to-gguf MODEL.bin TOKENIZER.bin OUT.gguf [--ctx N] [--name NAME] [--tied]
 *
 * Input formats (karpathy/llama2.c, MIT): the legacy checkpoint ("version 0", written by export.py
 * legacy_export / train.py) is a Config header of 7 int32 {dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size, seq_len} (vocab_size < 0: the classifier is not shared with the embedding) followed by float32
 * arrays: token_embedding (vocab, dim), rms_att (layers, dim), wq (layers, dim, dim), wk and wv (layers, kv_dim, dim),
 * wo (layers, dim, dim), rms_ffn (layers, dim), w1 (layers, hidden, dim), w2 (layers, dim, hidden),
 * w3 (layers, hidden, dim), rms_final (dim), freq_cis_real and _imag (seq_len, head_size/2 each), then wcls
 * (vocab, dim) when not shared. The tokenizer is int32 max_token_length, then per token: float32 score,
 * int32 length, the bytes.
 *
 * Output matches llama.cpp's examples/convert-llama2c-to-ggml (MIT): the same keys in the same order, the same
 * token texts and types (<unk>/<s>/</s> for ids 0/1/2, spaces as U+2581, byte tokens <0xNN>), rope dimension
 * min(64, head_size), rms epsilon 1e-5, and the same tensors in the same order, including output.weight as a copy
 * of the embedding when the checkpoint shares it (--tied leaves it out instead). No row permutation of wq/wk:
 * llama2.c's rotary embedding already rotates interleaved pairs (2i, 2i+1), which is what llama.cpp's non-NeoX
 * llama RoPE does; the permutation in convert_hf_to_gguf.py undoes Hugging Face's half-split layout, which
 * llama2.c checkpoints do not have. With --ctx 2048 the output for stories260K is byte-identical to the
 * ggml-org conversion; without it, context_length is the checkpoint's seq_len.
 *
 * Tensors are streamed from the checkpoint to the output one chunk at a time: memory use does not grow with the
 * model. A little-endian host is assumed (the checkpoint holds host floats).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf_write.h"
#include "simd.h"

typedef struct config {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
} config;

/* Prints "llama2c-to-gguf: message" on stderr; returns 1 (the exit status). */
static int die(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "llama2c-to-gguf: ");
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int64_t file_size(FILE *f) {
    if (fseeko(f, 0, SEEK_END) != 0) return -1;
    int64_t n = (int64_t)ftello(f);
    if (fseeko(f, 0, SEEK_SET) != 0) return -1;
    return n;
}

/* ---------------------------------------------------------------- tokenizer */
typedef struct vocab {
    int n;
    char **text;
    size_t *len;
    float *score;
    int32_t *type;
} vocab;

enum { TT_NORMAL = 1, TT_UNKNOWN = 2, TT_CONTROL = 3, TT_BYTE = 6 }; /* llama_token_type */

static void vocab_free(vocab *v) {
    if (v->text)
        for (int i = 0; i < v->n; i++) free(v->text[i]);
    free(v->text);
    free(v->len);
    free(v->score);
    free(v->type);
}

static int is_hex(int c) { return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'F') || (c >= 'a' && c <= 'f'); }

/* Reads n_vocab tokens; returns 0 or prints why not. */
static int load_vocab(const char *path, int n_vocab, vocab *v) {
    FILE *f = fopen(path, "rb");
    if (!f) return die("cannot open tokenizer %s: %s", path, strerror(errno));
    const int64_t fsz = file_size(f);
    int rc = 1;
    char *buf = NULL;
    int32_t max_len;
    memset(v, 0, sizeof *v);
    v->n = n_vocab;
    v->text = calloc((size_t)n_vocab, sizeof *v->text);
    v->len = calloc((size_t)n_vocab, sizeof *v->len);
    v->score = calloc((size_t)n_vocab, sizeof *v->score);
    v->type = calloc((size_t)n_vocab, sizeof *v->type);
    if (!v->text || !v->len || !v->score || !v->type) { die("out of memory"); goto out; }
    if (fread(&max_len, 4, 1, f) != 1) { die("tokenizer %s is empty", path); goto out; }
    for (int i = 0; i < n_vocab; i++) {
        float score;
        int32_t len;
        if (fread(&score, 4, 1, f) != 1 || fread(&len, 4, 1, f) != 1) {
            die("tokenizer %s ends at token %d of %d", path, i, n_vocab);
            goto out;
        }
        if (len < 0 || (int64_t)len > fsz - (int64_t)ftello(f)) {
            fprintf(stderr, "llama2c-to-gguf: tokenizer %s: token %d has a bad length %d\n", path, i, (int)len);
            goto out;
        }
        free(buf);
        buf = malloc((size_t)len + 1);
        if (!buf) { die("out of memory"); goto out; }
        if (len && fread(buf, 1, (size_t)len, f) != (size_t)len) {
            fprintf(stderr, "llama2c-to-gguf: tokenizer %s ends inside token %d\n", path, i);
            goto out;
        }
        buf[len] = 0;
        /* Token text and type as llama.cpp's converter sets them. */
        const char *src = buf;
        size_t slen = (size_t)len;
        int32_t type = TT_NORMAL;
        if (i == 0) src = "<unk>", type = TT_UNKNOWN;
        else if (i == 1) src = "<s>", type = TT_CONTROL;
        else if (i == 2) src = "</s>", type = TT_CONTROL;
        else if (slen == 0) type = TT_CONTROL;
        else if (slen == 6 && memcmp(buf, "<0x", 3) == 0 && is_hex(buf[3]) && is_hex(buf[4]) && buf[5] == '>')
            type = TT_BYTE;
        if (i <= 2) slen = strlen(src);
        /* Spaces become U+2581 (3 bytes), as SentencePiece stores them. */
        size_t n_sp = 0;
        for (size_t k = 0; k < slen; k++) n_sp += src[k] == ' ';
        char *t = malloc(slen + 2 * n_sp + 1);
        if (!t) { die("out of memory"); goto out; }
        size_t o = 0;
        for (size_t k = 0; k < slen; k++) {
            if (src[k] == ' ') t[o++] = (char)0xE2, t[o++] = (char)0x96, t[o++] = (char)0x81;
            else t[o++] = src[k];
        }
        t[o] = 0;
        v->text[i] = t;
        v->len[i] = o;
        v->score[i] = score;
        v->type[i] = type;
    }
    rc = 0;
out:
    free(buf);
    fclose(f);
    return rc;
}

/* ---------------------------------------------------------------- checkpoint layout */
typedef struct region { int64_t off, n; } region; /* in floats */

typedef struct layout {
    region embed, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final, freq, wcls;
    int64_t end; /* floats after the header */
} layout;

static void plan(const config *c, int shared, layout *l) {
    const int64_t D = c->dim, H = c->hidden_dim, L = c->n_layers, V = c->vocab_size;
    const int64_t kvd = D * c->n_kv_heads / c->n_heads, hs = D / c->n_heads;
    int64_t o = 0;
#define NEXT(r, count) (l->r.off = o, l->r.n = (count), o += (count))
    NEXT(embed, V * D);
    NEXT(rms_att, L * D);
    NEXT(wq, L * D * D);
    NEXT(wk, L * kvd * D);
    NEXT(wv, L * kvd * D);
    NEXT(wo, L * D * D);
    NEXT(rms_ffn, L * D);
    NEXT(w1, L * H * D);
    NEXT(w2, L * D * H);
    NEXT(w3, L * H * D);
    NEXT(rms_final, D);
    NEXT(freq, (int64_t)c->seq_len * hs); /* real and imaginary halves, skipped */
    NEXT(wcls, shared ? 0 : V * D);
#undef NEXT
    l->end = o;
}

/* Streams n floats starting at float offset off (after the header) into the current output tensor. */
static int copy_floats(FILE *in, FILE *out, gguf_writer *w, int64_t off, int64_t n, float *buf, size_t cap) {
    if (fseeko(in, (off_t)(28 + off * 4), SEEK_SET) != 0) return die("seek failed in the checkpoint");
    while (n > 0) {
        size_t k = (size_t)(n < (int64_t)cap ? n : (int64_t)cap);
        if (fread(buf, 4, k, in) != k) return die("the checkpoint ended early");
        plm_status st = gguf_writer_write_data(w, out, buf, k * 4);
        if (st) return die("%s", gguf_writer_errmsg(w));
        n -= (int64_t)k;
    }
    return 0;
}

typedef struct planned { char name[64]; uint32_t n_dims; uint64_t ne[2]; int64_t off, n; } planned;

static void usage(void) {
    fprintf(stderr,
            "usage: llama2c-to-gguf MODEL.bin TOKENIZER.bin OUT.gguf [--ctx N] [--name NAME] [--tied]\n"
            "  converts a llama2.c checkpoint + tokenizer to a F32 GGUF (arch llama)\n"
            "  --ctx N     llama.context_length (default: the checkpoint's seq_len)\n"
            "  --name S    general.name (default \"llama\", as llama.cpp's converter)\n"
            "  --tied      with a shared classifier, omit output.weight (default: write a copy, as llama.cpp)\n");
}

int main(int argc, char **argv) {
    const char *pos[3] = {0};
    int npos = 0, tied = 0;
    long ctx = -1;
    const char *name = "llama";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ctx") && i + 1 < argc) {
            char *end;
            ctx = strtol(argv[++i], &end, 10);
            if (*end || ctx <= 0 || ctx > INT32_MAX) { usage(); return 1; }
        } else if (!strcmp(argv[i], "--name") && i + 1 < argc) {
            name = argv[++i];
        } else if (!strcmp(argv[i], "--tied")) {
            tied = 1;
        } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage();
            return 0;
        } else if (argv[i][0] == '-' || npos == 3) {
            usage();
            return 1;
        } else {
            pos[npos++] = argv[i];
        }
    }
    if (npos != 3) { usage(); return 1; }

    FILE *in = fopen(pos[0], "rb");
    if (!in) return die("cannot open checkpoint %s: %s", pos[0], strerror(errno));
    const int64_t fsz = file_size(in);
    config c;
    if (fread(&c, sizeof c, 1, in) != 1) { fclose(in); return die("%s is too short for a llama2.c header", pos[0]); }
    const int shared = c.vocab_size > 0;
    if (c.vocab_size < 0) c.vocab_size = -c.vocab_size;
    if (c.n_kv_heads <= 0) c.n_kv_heads = c.n_heads;
    if (c.dim <= 0 || c.hidden_dim <= 0 || c.n_layers <= 0 || c.n_heads <= 0 || c.vocab_size <= 0 || c.seq_len <= 0 ||
        c.dim % c.n_heads || c.n_kv_heads > c.n_heads || c.n_heads % c.n_kv_heads || c.dim > (1 << 20) ||
        c.hidden_dim > (1 << 22) || c.n_layers > 4096 || c.vocab_size > (1 << 22) || c.seq_len > (1 << 24)) {
        fclose(in);
        fprintf(stderr, "llama2c-to-gguf: %s: implausible llama2.c header {dim %d, hidden %d, layers %d, heads %d, "
                "kv heads %d, vocab %d, seq_len %d} (only the legacy version-0 format is supported)\n", pos[0], c.dim,
                c.hidden_dim, c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.seq_len);
        return 1;
    }
    layout l;
    plan(&c, shared, &l);
    if (fsz != 28 + l.end * 4) {
        fclose(in);
        fprintf(stderr, "llama2c-to-gguf: %s is %lld bytes, but its header describes %lld (%s classifier); "
                "is it a legacy (version 0) llama2.c checkpoint?\n", pos[0], (long long)fsz,
                (long long)(28 + l.end * 4), shared ? "shared" : "separate");
        return 1;
    }

    vocab v;
    if (load_vocab(pos[1], c.vocab_size, &v)) { vocab_free(&v); fclose(in); return 1; }

    const int64_t D = c.dim, H = c.hidden_dim, kvd = (int64_t)c.dim * c.n_kv_heads / c.n_heads;
    const int head = c.dim / c.n_heads;
    gguf_writer *w = gguf_writer_new();
    if (!w) { vocab_free(&v); fclose(in); return die("out of memory"); }

    /* Keys in llama.cpp's converter order. */
    plm_status st = gguf_writer_set_str_arr(w, "tokenizer.ggml.tokens", (const char *const *)v.text, v.len,
                                            (uint64_t)v.n);
    if (!st) st = gguf_writer_set_arr(w, "tokenizer.ggml.scores", GGUF_F32, v.score, (uint64_t)v.n);
    if (!st) st = gguf_writer_set_arr(w, "tokenizer.ggml.token_type", GGUF_I32, v.type, (uint64_t)v.n);
    if (!st) st = gguf_writer_set_str(w, "tokenizer.ggml.model", "llama");
    if (!st) st = gguf_writer_set_str(w, "general.architecture", "llama");
    if (!st) st = gguf_writer_set_str(w, "general.name", name);
    if (!st) st = gguf_writer_set_u32(w, "tokenizer.ggml.unknown_token_id", 0);
    if (!st) st = gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 1);
    if (!st) st = gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 2);
    if (!st) st = gguf_writer_set_u32(w, "tokenizer.ggml.seperator_token_id", UINT32_MAX); /* sic, llama.cpp's key */
    if (!st) st = gguf_writer_set_u32(w, "tokenizer.ggml.padding_token_id", UINT32_MAX);
    if (!st) st = gguf_writer_set_u32(w, "llama.context_length", (uint32_t)(ctx > 0 ? ctx : c.seq_len));
    if (!st) st = gguf_writer_set_u32(w, "llama.embedding_length", (uint32_t)c.dim);
    if (!st) st = gguf_writer_set_u32(w, "llama.feed_forward_length", (uint32_t)c.hidden_dim);
    if (!st) st = gguf_writer_set_u32(w, "llama.attention.head_count", (uint32_t)c.n_heads);
    if (!st) st = gguf_writer_set_u32(w, "llama.attention.head_count_kv", (uint32_t)c.n_kv_heads);
    if (!st) st = gguf_writer_set_u32(w, "llama.block_count", (uint32_t)c.n_layers);
    if (!st) st = gguf_writer_set_u32(w, "llama.rope.dimension_count", (uint32_t)(head < 64 ? head : 64));
    if (!st) st = gguf_writer_set_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    vocab_free(&v);

    /* Tensors in llama.cpp's converter order; ne[0] is the row length (llama2.c stores rows contiguously). */
    const int n_planned = 3 + 9 * c.n_layers;
    planned *p = calloc((size_t)n_planned, sizeof *p);
    int np = 0;
    if (!p) st = PLM_OUT_OF_MEMORY;
#define ADD1(nm, region_off, count) \
    (snprintf(p[np].name, 64, "%s", nm), p[np].n_dims = 1, p[np].ne[0] = (uint64_t)(count), p[np].ne[1] = 1, \
     p[np].off = (region_off), p[np].n = (count), np++)
#define ADD2(nm, region_off, cols, rows) \
    (snprintf(p[np].name, 64, "%s", nm), p[np].n_dims = 2, p[np].ne[0] = (uint64_t)(cols), \
     p[np].ne[1] = (uint64_t)(rows), p[np].off = (region_off), p[np].n = (int64_t)(cols) * (rows), np++)
    if (!st) {
        const int64_t V = c.vocab_size;
        ADD2("token_embd.weight", l.embed.off, D, V);
        ADD1("output_norm.weight", l.rms_final.off, D);
        if (!shared) ADD2("output.weight", l.wcls.off, D, V);
        else if (!tied) ADD2("output.weight", l.embed.off, D, V);
        for (int64_t i = 0; i < c.n_layers; i++) {
            char nm[64];
#define BLK(suffix) (snprintf(nm, sizeof nm, "blk.%d.%s", (int)i, suffix), nm)
            ADD2(BLK("attn_q.weight"), l.wq.off + i * D * D, D, D);
            ADD2(BLK("attn_k.weight"), l.wk.off + i * kvd * D, D, kvd);
            ADD2(BLK("attn_v.weight"), l.wv.off + i * kvd * D, D, kvd);
            ADD2(BLK("attn_output.weight"), l.wo.off + i * D * D, D, D);
            ADD1(BLK("attn_norm.weight"), l.rms_att.off + i * D, D);
            ADD2(BLK("ffn_gate.weight"), l.w1.off + i * H * D, D, H);
            ADD2(BLK("ffn_down.weight"), l.w2.off + i * D * H, H, D);
            ADD2(BLK("ffn_up.weight"), l.w3.off + i * H * D, D, H);
            ADD1(BLK("ffn_norm.weight"), l.rms_ffn.off + i * D, D);
#undef BLK
        }
    }
#undef ADD1
#undef ADD2
    for (int i = 0; i < np && !st; i++) st = gguf_writer_add_tensor(w, p[i].name, PLM_T_F32, p[i].n_dims, p[i].ne, NULL, 0);
    if (st) {
        fprintf(stderr, "llama2c-to-gguf: %s\n", st == PLM_OUT_OF_MEMORY ? "out of memory" : gguf_writer_errmsg(w));
        free(p);
        gguf_writer_free(w);
        fclose(in);
        return 1;
    }

    FILE *out = fopen(pos[2], "wb");
    if (!out) {
        free(p);
        gguf_writer_free(w);
        fclose(in);
        return die("cannot create %s: %s", pos[2], strerror(errno));
    }
    const size_t cap = 1 << 18; /* floats per chunk (1 MiB) */
    float *buf = malloc(cap * sizeof *buf);
    int rc = buf ? 0 : die("out of memory");
    if (!rc && (st = gguf_writer_write_header(w, out))) rc = die("%s", gguf_writer_errmsg(w));
    for (int i = 0; i < np && !rc; i++) rc = copy_floats(in, out, w, p[i].off, p[i].n, buf, cap);
    if (!rc && (st = gguf_writer_finish(w, out))) rc = die("%s", gguf_writer_errmsg(w));
    if (fclose(out) != 0 && !rc) rc = die("writing %s failed: %s", pos[2], strerror(errno));
    if (!rc)
        fprintf(stderr, "llama2c-to-gguf: %s -> %s: dim %d, %d layers, %d heads (%d kv), ffn %d, vocab %d%s, "
                "%d tensors, %llu bytes\n", pos[0], pos[2], c.dim, c.n_layers, c.n_heads, c.n_kv_heads, c.hidden_dim,
                c.vocab_size, shared ? (tied ? ", tied output" : ", shared classifier copied to output.weight") : "",
                np, (unsigned long long)gguf_writer_file_size(w));
    else
        remove(pos[2]);
    free(buf);
    free(p);
    gguf_writer_free(w);
    fclose(in);
    return rc;
}
