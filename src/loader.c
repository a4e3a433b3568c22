/* Streaming loader: GGUF bytes arrive in order, in chunks of any size. The header is buffered until it parses;
 * from then on every byte of the data section is copied once, straight into the weights arena. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* The header (metadata + tensor table) of the largest real vocabularies is ~10 MB; beyond this it is hostile. */
#define MAX_HEADER_BYTES (256u << 20)

struct plm_loader {
    plm_status status;     /* sticky: once failed, every call returns it */
    char err[256];
    uint8_t *hdr;          /* header bytes buffered so far */
    uint64_t hdr_len, hdr_cap, hdr_need;
    uint64_t fed;          /* total bytes fed */
    uint64_t file_size;    /* total size when the caller knows it (0 = unknown) */
    uint64_t mem_limit;    /* bytes the model and one session may take (0 = plm_memory_available()) */
    plm_session_params params; /* that session */
    plm_model *m;          /* created once the header parsed */
    int exact;             /* plm_loader_set_exact */
    uint64_t piece_max;    /* plm_loader_set_piece_max (0: PLM_PIECE_MAX) */
};

static plm_status ld_fail(plm_loader *ld, plm_status st, const char *msg) {
    ld->status = st;
    if (msg) snprintf(ld->err, sizeof ld->err, "%s", msg);
    return st;
}

plm_status plm_loader_new(plm_loader **out) {
    *out = calloc(1, sizeof(plm_loader));
    if (*out) plm_session_default_params(&(*out)->params);
    return *out ? PLM_OK : PLM_OUT_OF_MEMORY;
}

void plm_loader_set_memory_limit(plm_loader *ld, uint64_t limit, const plm_session_params *p) {
    if (!ld) return;
    ld->mem_limit = limit;
    if (p) ld->params = *p;
}

/* The object a failed constructor hands back: a model with no vocabulary and no weights, holding the message. */
static plm_model *failed_model(const char *msg) {
    plm_model *m = calloc(1, sizeof *m);
    if (m) snprintf(m->err, sizeof m->err, "%.*s", (int)sizeof m->err - 1, msg);
    return m;
}

const char *plm_model_errmsg(const plm_model *m) { return m ? m->err : "out of memory"; }

void plm_loader_set_file_size(plm_loader *ld, uint64_t size) {
    if (ld) ld->file_size = size;
}

void plm_loader_set_exact(plm_loader *ld, int exact) {
    if (ld) ld->exact = exact != 0;
}

void plm_loader_set_piece_max(plm_loader *ld, uint64_t bytes) {
    if (ld) ld->piece_max = bytes;
}

const char *plm_loader_errmsg(const plm_loader *ld) { return ld ? ld->err : "out of memory"; }

uint64_t plm_loader_expected_size(const plm_loader *ld) {
    return ld && ld->m ? ld->m->gguf.data_offset + ld->m->gguf.data_size : 0;
}

void plm_loader_free(plm_loader *ld) {
    if (!ld) return;
    free(ld->hdr);
    plm_model_free(ld->m);
    free(ld);
}

/* Tries to parse the buffered header; on success creates the model and sizes the weights arena. */
static plm_status try_header(plm_loader *ld, int final) {
    if (!final && ld->hdr_len < ld->hdr_need) return PLM_OK;
    gguf_file g;
    uint64_t need = 0;
    plm_status st = gguf_parse(&g, ld->hdr, ld->hdr_len, &need, ld->err, sizeof ld->err);
    if (st != PLM_OK) {
        if (need && !final) {
            /* The parser's message names what ran out (which key, array or tensor); say why it is final. */
            size_t len = strlen(ld->err);
            if (need > MAX_HEADER_BYTES) {
                snprintf(ld->err + len, sizeof ld->err - len, "; the header would exceed %u MiB: the file is corrupt",
                         MAX_HEADER_BYTES >> 20);
                return ld_fail(ld, PLM_BAD_MODEL, NULL);
            }
            if (ld->file_size && need > ld->file_size) {
                snprintf(ld->err + len, sizeof ld->err - len, "; the file has only %llu bytes",
                         (unsigned long long)ld->file_size);
                return ld_fail(ld, PLM_BAD_MODEL, NULL);
            }
            /* Retry only once the buffer has doubled (or holds what was asked): a header of H bytes fed in tiny
             * chunks is then parsed O(log H) times, not once per chunk. */
            ld->hdr_need = need > 2 * ld->hdr_len ? need : 2 * ld->hdr_len;
            return PLM_OK; /* wait for more bytes */
        }
        return ld_fail(ld, st, NULL);
    }
    plm_model *m = calloc(1, sizeof *m);
    if (!m) { gguf_free(&g); return ld_fail(ld, PLM_OUT_OF_MEMORY, "out of memory"); }
    m->gguf = g;
    m->header = ld->hdr; /* the model now owns the header bytes the gguf_file points into */
    ld->hdr = NULL;
    ld->m = m;
    if ((st = plm_model_read_header(m, ld->err, sizeof ld->err)) != PLM_OK) return ld_fail(ld, st, NULL);
    m->weights_size = g.data_size;
    /* Refused now, from the header, rather than after every byte has been copied into the arena. The header's
     * verdict comes before the truncation check so that a file with both faults gets the same status whether or
     * not the caller told the file size (the fuzzer holds the loader to that). */
    if ((st = plm_model_check(m, ld->err, sizeof ld->err)) != PLM_OK) return ld_fail(ld, st, NULL);
    if (ld->file_size && g.data_size && g.data_offset + g.data_size > ld->file_size) {
        snprintf(ld->err, sizeof ld->err, "GGUF file truncated: its tensors end at byte %llu but the file has %llu bytes",
                 (unsigned long long)(g.data_offset + g.data_size), (unsigned long long)ld->file_size);
        return ld_fail(ld, PLM_BAD_MODEL, NULL);
    }
    if ((st = plm_model_fits(m, &ld->params, ld->mem_limit ? ld->mem_limit : plm_memory_available(), ld->err,
                             sizeof ld->err)) != PLM_OK)
        return ld_fail(ld, st, NULL);
    if ((st = plm_arena_new(m, ld->piece_max ? ld->piece_max : PLM_PIECE_MAX, ld->err, sizeof ld->err)))
        return ld_fail(ld, st, NULL);
    return PLM_OK;
}

/* ---- the weights arena ---- */

typedef struct { uint64_t offset, size; } span;

static int cmp_span(const void *a, const void *b) {
    uint64_t x = ((const span *)a)->offset, y = ((const span *)b)->offset;
    return (x > y) - (x < y);
}

/* The pieces' starts: 0, then a tensor's offset wherever the piece so far plus that tensor would pass piece_max
 * (tensors never overlap: gguf.c refuses that). Writes at most n starts when `starts` is given; returns the count. */
static int plan_pieces(const span *t, uint64_t n, uint64_t piece_max, uint64_t *starts) {
    int k = 1;
    uint64_t from = 0;
    if (starts) starts[0] = 0;
    for (uint64_t i = 0; i < n; i++)
        if (t[i].offset > from && t[i].offset + t[i].size - from > piece_max) {
            if (starts) starts[k] = t[i].offset;
            k++;
            from = t[i].offset;
        }
    return k;
}

plm_status plm_arena_new(plm_model *m, uint64_t piece_max, char *err, size_t errlen) {
    const gguf_file *g = &m->gguf;
    if (!g->data_size) return PLM_OK;
    span *t = malloc((g->n_tensors ? g->n_tensors : 1) * sizeof *t);
    uint64_t *starts = NULL;
    plm_status st = PLM_OUT_OF_MEMORY;
    if (!t) goto out;
    for (uint64_t i = 0; i < g->n_tensors; i++) t[i] = (span){ g->tensors[i].offset, g->tensors[i].size };
    qsort(t, g->n_tensors, sizeof *t, cmp_span);
    int n = plan_pieces(t, g->n_tensors, piece_max, NULL);
    starts = malloc((size_t)n * sizeof *starts);
    if (!starts || !(m->pieces = calloc((size_t)n, sizeof *m->pieces))) goto out;
    plan_pieces(t, g->n_tensors, piece_max, starts);
    m->n_pieces = n;
    for (int i = 0; i < n; i++) {
        plm_piece *pc = &m->pieces[i];
        pc->start = starts[i];
        pc->size = (i + 1 < n ? starts[i + 1] : g->data_size) - starts[i];
        if (pc->size > SIZE_MAX - 64 || !(pc->p = malloc((size_t)pc->size))) goto out;
    }
    st = PLM_OK;
out:
    if (st) {
        plm_arena_free(m);
        snprintf(err, errlen, "out of memory: the model needs %.1f MiB for its weights", g->data_size / 1048576.0);
    }
    free(starts);
    free(t);
    return st;
}

/* the first piece holding bytes at or past data-section offset off */
static int piece_of(const plm_model *m, uint64_t off) {
    int lo = 0, hi = m->n_pieces - 1;
    while (lo < hi) {
        int mid = (lo + hi + 1) / 2;
        if (m->pieces[mid].start <= off) lo = mid;
        else hi = mid - 1;
    }
    return lo;
}

uint8_t *plm_arena_at(const plm_model *m, uint64_t off) {
    const plm_piece *pc = &m->pieces[piece_of(m, off)];
    return pc->p + (off - pc->start);
}

void plm_arena_free(plm_model *m) {
    for (int i = 0; m->pieces && i < m->n_pieces; i++) free(m->pieces[i].p);
    free(m->pieces);
    m->pieces = NULL;
    m->n_pieces = 0;
}

/* Copies the part of [pos, pos+n) of the file that lies in the data section into the arena's pieces. */
static void copy_data(plm_model *m, uint64_t pos, const uint8_t *p, uint64_t n) {
    uint64_t start = m->gguf.data_offset, end = start + m->gguf.data_size;
    uint64_t a = pos > start ? pos : start, b = pos + n < end ? pos + n : end;
    if (a >= b) return;
    for (int i = piece_of(m, a - start); i < m->n_pieces && start + m->pieces[i].start < b; i++) {
        const plm_piece *pc = &m->pieces[i];
        uint64_t x = start + pc->start, y = x + pc->size;
        if (x < a) x = a;
        if (y > b) y = b;
        if (x < y) memcpy(pc->p + (x - start - pc->start), p + (x - pos), (size_t)(y - x));
    }
}

/* Appends to the header buffer; the caller bounds n so the buffer never holds much beyond the header. */
static plm_status buffer_header(plm_loader *ld, const uint8_t *p, uint64_t n) {
    if (ld->hdr_len + n > ld->hdr_cap) {
        uint64_t cap = ld->hdr_cap ? ld->hdr_cap : 1 << 16;
        while (cap < ld->hdr_len + n) cap *= 2;
        uint8_t *h = realloc(ld->hdr, (size_t)cap);
        if (!h) return ld_fail(ld, PLM_OUT_OF_MEMORY, "out of memory buffering the GGUF header");
        ld->hdr = h;
        ld->hdr_cap = cap;
    }
    memcpy(ld->hdr + ld->hdr_len, p, (size_t)n);
    ld->hdr_len += n;
    ld->fed += n;
    return PLM_OK;
}

plm_status plm_loader_feed(plm_loader *ld, const void *bytes, size_t len) {
    if (!ld) return PLM_OUT_OF_MEMORY;
    if (ld->status) return ld->status;
    const uint8_t *p = bytes;
    uint64_t n = len;
    /* Header phase: take what the parser asked for, at least doubling the buffer each attempt so a header of
     * size H costs O(H log H) parsing, and never more than that, so a whole file passed as one chunk is not
     * duplicated into the header buffer. */
    while (n && !ld->m) {
        uint64_t take = ld->hdr_need > ld->hdr_len ? ld->hdr_need - ld->hdr_len : 0;
        if (take < ld->hdr_len) take = ld->hdr_len;
        if (take < (1 << 16)) take = 1 << 16;
        if (take > n) take = n;
        plm_status st = buffer_header(ld, p, take);
        if (!st) st = try_header(ld, 0);
        if (st) return st;
        p += take;
        n -= take;
        if (ld->m) copy_data(ld->m, 0, ld->m->header, ld->fed); /* data bytes that came with the header */
    }
    if (n) {
        copy_data(ld->m, ld->fed, p, n);
        ld->fed += n;
    }
    return PLM_OK;
}

static plm_status finish(plm_loader *ld, plm_model **out);

plm_status plm_loader_finish(plm_loader *ld, plm_model **out) {
    *out = NULL;
    if (!ld) return PLM_OUT_OF_MEMORY;
    plm_status st = ld->status ? ld->status : finish(ld, out);
    if (st) *out = failed_model(ld->err);
    return st;
}

static plm_status finish(plm_loader *ld, plm_model **out) {
    if (!ld->m) {
        plm_status st = try_header(ld, 1);
        if (st) return st;
        if (!ld->m) return ld_fail(ld, PLM_BAD_MODEL, "GGUF header incomplete");
        copy_data(ld->m, 0, ld->m->header, ld->fed);
    }
    plm_model *m = ld->m;
    uint64_t want = m->gguf.data_offset + m->gguf.data_size;
    if (m->gguf.n_tensors && ld->fed < want) {
        snprintf(ld->err, sizeof ld->err, "GGUF file truncated: %llu of %llu bytes arrived (tensor data missing)",
                 (unsigned long long)ld->fed, (unsigned long long)want);
        return ld_fail(ld, PLM_BAD_MODEL, NULL);
    }
    plm_status st = plm_model_bind(m, ld->exact, ld->err, sizeof ld->err);
    if (st) return ld_fail(ld, st, NULL);
    ld->m = NULL;
    *out = m;
    ld->status = PLM_BAD_ARG; /* a loader hands over one model */
    snprintf(ld->err, sizeof ld->err, "loader already finished");
    return PLM_OK;
}

plm_status plm_model_load_file(const char *path, plm_model **out) { return plm_model_load_file_ex(path, 0, out); }

plm_status plm_model_load_file_ex(const char *path, int exact, plm_model **out) {
    char err[320];
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, sizeof err, "cannot open '%s'", path);
        *out = failed_model(err);
        return PLM_IO;
    }
    plm_loader *ld = NULL;
    plm_loader_new(&ld);
    plm_loader_set_exact(ld, exact);
    if (ld && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        if (size > 0) plm_loader_set_file_size(ld, (uint64_t)size);
        rewind(f);
    }
    enum { CHUNK = 1 << 20 };
    uint8_t *buf = malloc(CHUNK);
    plm_status st = (ld && buf) ? PLM_OK : PLM_OUT_OF_MEMORY;
    size_t n;
    while (st == PLM_OK && (n = fread(buf, 1, CHUNK, f)) > 0) st = plm_loader_feed(ld, buf, n);
    if (st == PLM_OK && ferror(f)) {
        st = PLM_IO;
        snprintf(err, sizeof err, "error reading '%s'", path);
    } else {
        if (st == PLM_OK) st = plm_loader_finish(ld, out);
        if (st) snprintf(err, sizeof err, "%s: %s", path, ld ? plm_loader_errmsg(ld) : "out of memory");
    }
    if (st) {
        plm_model_free(*out);
        *out = failed_model(err);
    }
    free(buf);
    plm_loader_free(ld);
    fclose(f);
    return st;
}
