/* The sampler against a reference written from the semantics alone, sharing no code with src/sampler.c: llama.cpp's
 * chain (llama-sampling.cpp: penalties, top-k, top-p, min-p, temperature, then a draw) applied plainly to a fully
 * sorted candidate list, in double precision, with its own candidate order and its own xoshiro256** (checked
 * against the published test vectors). Also the partial sort (plm_cand_sort_head) against a full sort in that
 * order, on logits with many ties, for heads of every size. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm.h"
#include "sampler.h"

static int failures, checks;
#define CHECK(cond, ...) do { checks++; if (!(cond)) { failures++; printf("FAIL %s:%d: ", __FILE__, __LINE__); \
    printf(__VA_ARGS__); printf("\n"); } } while (0)

static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint32_t rnd(void) {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* ---------------------------------------------------------------- the reference */
/* Candidate order: higher logit first; equal logits by lower id (a stable argmax). */
static int ref_order(const void *pa, const void *pb) {
    const plm_cand *a = pa, *b = pb;
    if (a->logit > b->logit) return -1;
    if (a->logit < b->logit) return 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* SplitMix64 and xoshiro256** (Vigna; prng.di.unimi.it), as the sampler's contract names them: the state is four
 * SplitMix64 outputs of the seed. */
static uint64_t ref_splitmix64(uint64_t *x) {
    uint64_t z = *x = *x + 0x9e3779b97f4a7c15ull;
    z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ z >> 27) * 0x94d049bb133111ebull;
    return z ^ z >> 31;
}
static uint64_t ref_xoshiro(uint64_t s[4]) {
    const uint64_t x = s[1] * 5, result = (x << 7 | x >> 57) * 9, t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = s[3] << 45 | s[3] >> 19;
    return result;
}

typedef struct {
    plm_sampler_params p;
    uint64_t s[4];
    int32_t *hist; /* every accepted token */
    int hist_n;
} ref_sampler;

static void ref_init(ref_sampler *r, const plm_sampler_params *p, int cap) {
    r->p = *p;
    uint64_t x = p->seed;
    for (int i = 0; i < 4; i++) r->s[i] = ref_splitmix64(&x);
    r->hist = malloc((size_t)cap * sizeof *r->hist);
    r->hist_n = 0;
}
static void ref_accept(ref_sampler *r, int32_t id) { r->hist[r->hist_n++] = id; }

static int32_t ref_sample(ref_sampler *r, const float *logits, int nv, plm_cand *c) {
    const plm_sampler_params *p = &r->p;
    for (int i = 0; i < nv; i++) c[i] = (plm_cand){i, logits[i], 0};
    /* penalties (llama_sampler_penalties): every token seen in the last penalty_last_n, by its count there */
    const int last = p->penalty_last_n < r->hist_n ? p->penalty_last_n : r->hist_n;
    for (int id = 0; id < nv; id++) {
        int count = 0;
        for (int j = r->hist_n - last; j < r->hist_n; j++) count += r->hist[j] == id;
        if (!count) continue;
        float l = c[id].logit;
        l = l <= 0 ? l * p->repeat_penalty : l / p->repeat_penalty;
        c[id].logit = l - ((float)count * p->frequency_penalty + p->presence_penalty);
    }
    qsort(c, (size_t)nv, sizeof *c, ref_order);
    int32_t pick;
    if (p->temperature <= 0) {
        pick = c[0].id;
    } else {
        int n = p->top_k > 0 && p->top_k < nv ? p->top_k : nv;
        double *prob = malloc((size_t)n * sizeof *prob), total = 0;
        for (int i = 0; i < n; i++) total += prob[i] = exp((double)c[i].logit - c[0].logit);
        if (p->top_p < 1) { /* the shortest head holding at least top_p of the probability */
            double cum = 0;
            for (int i = 0; i < n; i++)
                if ((cum += prob[i] / total) >= p->top_p) { n = i + 1; break; }
        }
        if (p->min_p > 0) { /* logit at least the best one's + log(min_p); the best always stays */
            int keep = 1;
            while (keep < n && c[keep].logit >= c[0].logit + log(p->min_p)) keep++;
            n = keep;
        }
        total = 0;
        for (int i = 0; i < n; i++) total += prob[i] = exp(((double)c[i].logit - c[0].logit) / p->temperature);
        /* the draw: u uniform in [0, 1) from the top 53 bits; the first candidate whose cumulative share passes u */
        const double u = (double)(ref_xoshiro(r->s) >> 11) / 9007199254740992.0;
        double cum = 0;
        pick = c[n - 1].id;
        for (int i = 0; i < n; i++)
            if (u * total < (cum += prob[i])) { pick = c[i].id; break; }
        free(prob);
    }
    ref_accept(r, pick);
    return pick;
}

/* ---------------------------------------------------------------- tests */
static void test_rng(void) {
    uint64_t x = 0;
    CHECK(ref_splitmix64(&x) == 0xe220a8397b1dcdafull, "splitmix64(0) != the published first output");
    uint64_t s[4] = {1, 2, 3, 4};
    const uint64_t want[4] = {11520, 0, 1509978240, 1215971899390074240ull};
    for (int i = 0; i < 4; i++) CHECK(ref_xoshiro(s) == want[i], "xoshiro256** {1,2,3,4}: output %d", i);
}

/* logits with ties: levels levels of value, or spread values when levels == 0 */
static void fill(plm_cand *c, int n, int levels) {
    for (int i = 0; i < n; i++) {
        c[i].id = i;
        c[i].logit = levels ? (float)(rnd() % (uint32_t)levels) - levels / 2 : ((float)rnd() / 65536.0f - 32768.0f) / 1000.0f;
        c[i].p = 0;
    }
}

static void test_sort_head(void) {
    const int sizes[] = {1, 2, 3, 7, 40, 512, 32000};
    for (int si = 0; si < (int)(sizeof sizes / sizeof *sizes); si++) {
        const int n = sizes[si];
        plm_cand *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b), *c = malloc((size_t)n * sizeof *c);
        int bad = 0, runs = 0;
        for (int levels = 0; levels <= 64; levels += 16)
            for (int t = 0; t < 6; t++) {
                const int ks[] = {1, 2, 40, n / 2, n - 1, n, n + 5, (int)(rnd() % (uint32_t)n) + 1};
                fill(a, n, levels);
                memcpy(b, a, (size_t)n * sizeof *a);
                qsort(b, (size_t)n, sizeof *b, ref_order);
                for (int ki = 0; ki < 8; ki++) {
                    const int k = ks[ki] < 1 ? 1 : ks[ki], head = k < n ? k : n;
                    memcpy(c, a, (size_t)n * sizeof *a);
                    plm_cand_sort_head(c, n, k);
                    bad += memcmp(c, b, (size_t)head * sizeof *c) != 0;
                    runs++;
                }
            }
        CHECK(bad == 0, "n %d: %d of %d heads differ from the full sort", n, bad, runs);
        free(a);
        free(b);
        free(c);
    }
}

/* Draws of plm_sampler_sample against ref_sample, each fed the same logits, over a grid of every filter and
 * penalty (on and off, alone and together), with prompt tokens in the penalty history. */
static void test_sample(void) {
    enum { NV = 1024, DRAWS = 12, PROMPT = 10 };
    float *logits = malloc(NV * sizeof *logits);
    plm_cand *c = malloc(NV * sizeof *c);
    const int top_ks[] = {40, 1, 0, 300};
    const float temps[] = {0.8f, 1.5f, 0.0f};
    const float top_ps[] = {0.95f, 1.0f, 0.5f};
    const float min_ps[] = {0.05f, 0.0f, 0.3f};
    const struct { float rep, freq, pres; int last_n; } pens[] = {
        {1.0f, 0.0f, 0.0f, 64}, {1.3f, 0.0f, 0.0f, 64}, {1.1f, 0.5f, 0.7f, 8}, {1.0f, 1.0f, 0.0f, 16}, {1.0f, 0.0f, 1.5f, 0}};
    int bad = 0, draws = 0, runs = 0, nonfirst = 0;
    for (int ki = 0; ki < 4; ki++)
        for (int ti = 0; ti < 3; ti++)
            for (int pi = 0; pi < 3; pi++)
                for (int mi = 0; mi < 3; mi++)
                    for (int ei = 0; ei < 5; ei++) {
                        plm_sampler_params p;
                        plm_sampler_default_params(&p);
                        p.top_k = top_ks[ki], p.temperature = temps[ti], p.top_p = top_ps[pi], p.min_p = min_ps[mi];
                        p.repeat_penalty = pens[ei].rep, p.frequency_penalty = pens[ei].freq;
                        p.presence_penalty = pens[ei].pres, p.penalty_last_n = pens[ei].last_n;
                        p.seed = 1000 + (uint64_t)runs++;
                        plm_sampler *s = NULL;
                        CHECK(plm_sampler_new(&p, NV, &s) == PLM_OK, "sampler: %s", plm_sampler_errmsg(s));
                        ref_sampler r;
                        ref_init(&r, &p, PROMPT + DRAWS);
                        for (int t = 0; t < PROMPT; t++) { /* low ids, repeated, where the likely picks are */
                            const int32_t id = (int32_t)(rnd() % 16);
                            plm_sampler_accept(s, id);
                            ref_accept(&r, id);
                        }
                        for (int t = 0; t < DRAWS; t++) {
                            /* multiples of 1/16 (exact), many ties, either sign; the highest among the low ids */
                            for (int i = 0; i < NV; i++) logits[i] = (float)(rnd() % 200) / 16.0f - (i < 64 ? 6 : 10);
                            const int32_t got = plm_sampler_sample(s, logits), want = ref_sample(&r, logits, NV, c);
                            bad += got != want;
                            nonfirst += want != c[0].id; /* the draw went past the best candidate */
                            draws++;
                        }
                        free(r.hist);
                        plm_sampler_free(s);
                    }
    CHECK(bad == 0, "%d of %d draws differ from the reference", bad, draws);
    CHECK(nonfirst > draws / 10, "only %d of %d draws picked other than the best candidate: the grid tests little",
          nonfirst, draws);
    free(logits);
    free(c);
}

int main(void) {
    test_rng();
    test_sort_head();
    test_sample();
    printf("test_sampler: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
