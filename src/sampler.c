/* Token sampling in llama.cpp's default order: penalties, top-k, top-p, min-p, temperature, then a draw.
 * The random generator is our own (SplitMix64 seeding xoshiro256**) so a seed gives the same text on every build:
 * native, NEON and wasm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pocketlm.h"
#include "sampler.h"

typedef plm_cand cand;

struct plm_sampler {
    plm_sampler_params p;
    int n_vocab;
    uint64_t rng[4];
    int32_t *hist;  /* ring of the last penalty_last_n tokens */
    int hist_n, hist_pos;
    cand *c;        /* NULL only in a sampler that failed to be made (it carries err) */
    char err[128];
};

void plm_sampler_default_params(plm_sampler_params *p) {
    memset(p, 0, sizeof *p);
    p->temperature = 0.8f;
    p->top_k = 40;
    p->top_p = 0.95f;
    p->min_p = 0.05f;
    p->repeat_penalty = 1.0f;
    p->penalty_last_n = 64;
    p->seed = 0x5eed;
}

static uint64_t splitmix(uint64_t *x) {
    uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t next_u64(uint64_t *s) {
    uint64_t r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
    s[2] ^= s[0]; s[3] ^= s[1]; s[1] ^= s[2]; s[0] ^= s[3]; s[2] ^= t; s[3] = rotl(s[3], 45);
    return r;
}

/* Why a parameter set cannot be sampled with, or NULL. */
static const char *bad_params(const plm_sampler_params *p, int n_vocab) {
    if (n_vocab <= 0) return "the vocabulary is empty";
    if (isnan(p->temperature) || isnan(p->top_p) || isnan(p->min_p) || isnan(p->frequency_penalty) ||
        isnan(p->presence_penalty))
        return "a sampling parameter is NaN";
    if (!(p->repeat_penalty > 0) || isinf(p->repeat_penalty)) return "repeat_penalty must be a positive number";
    return NULL;
}

const char *plm_sampler_errmsg(const plm_sampler *s) { return s ? s->err : "out of memory"; }

plm_status plm_sampler_new(const plm_sampler_params *p, int n_vocab, plm_sampler **out) {
    plm_sampler *s = *out = calloc(1, sizeof *s);
    if (!s) return PLM_OUT_OF_MEMORY;
    if (p) s->p = *p; else plm_sampler_default_params(&s->p);
    const char *bad = bad_params(&s->p, n_vocab);
    if (bad) {
        snprintf(s->err, sizeof s->err, "%s", bad);
        return PLM_BAD_ARG;
    }
    if (s->p.penalty_last_n < 0) s->p.penalty_last_n = 0;
    s->n_vocab = n_vocab;
    uint64_t x = s->p.seed;
    for (int i = 0; i < 4; i++) s->rng[i] = splitmix(&x);
    s->c = malloc((size_t)n_vocab * sizeof *s->c);
    s->hist = malloc(((size_t)s->p.penalty_last_n + 1) * sizeof *s->hist);
    if (!s->c || !s->hist) {
        free(s->c);
        free(s->hist);
        s->c = NULL;
        s->hist = NULL;
        snprintf(s->err, sizeof s->err, "out of memory: a sampler over %d tokens", n_vocab);
        return PLM_OUT_OF_MEMORY;
    }
    return PLM_OK;
}

void plm_sampler_free(plm_sampler *s) {
    if (!s) return;
    free(s->c);
    free(s->hist);
    free(s);
}

void plm_sampler_accept(plm_sampler *s, int32_t id) {
    if (!s->hist || s->p.penalty_last_n == 0) return;
    s->hist[s->hist_pos] = id;
    s->hist_pos = (s->hist_pos + 1) % s->p.penalty_last_n;
    if (s->hist_n < s->p.penalty_last_n) s->hist_n++;
}

int plm_cand_order(const void *a, const void *b) {
    const cand *x = a, *y = b;
    if (x->logit != y->logit) return x->logit < y->logit ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id); /* ties: lower id first, like a stable argmax */
}

/* c[0..k) as a heap whose root is the worst of the k best so far: a parent never comes before its children. */
static void sift_down(cand *c, int k, int i) {
    for (;;) {
        int l = 2 * i + 1, w = i;
        if (l < k && plm_cand_order(&c[l], &c[w]) > 0) w = l;
        if (l + 1 < k && plm_cand_order(&c[l + 1], &c[w]) > 0) w = l + 1;
        if (w == i) return;
        cand t = c[i];
        c[i] = c[w], c[w] = t, i = w;
    }
}

void plm_cand_sort_head(cand *c, int n, int k) {
    if (k <= 0) return;
    if (k < n) {
        for (int i = k / 2 - 1; i >= 0; i--) sift_down(c, k, i);
        for (int i = k; i < n; i++)
            if (plm_cand_order(&c[i], &c[0]) < 0) c[0] = c[i], sift_down(c, k, 0);
    } else {
        k = n;
    }
    qsort(c, (size_t)k, sizeof *c, plm_cand_order);
}

/* Penalties as llama.cpp applies them: repeat (divide positive, multiply negative), then frequency * count and
 * presence once, for each distinct token in the recent history. */
static void apply_penalties(const plm_sampler *s, cand *c) {
    const plm_sampler_params *p = &s->p;
    if (s->hist_n == 0 || (p->repeat_penalty == 1.0f && p->frequency_penalty == 0 && p->presence_penalty == 0))
        return;
    for (int i = 0; i < s->hist_n; i++) {
        int32_t id = s->hist[i];
        if (id < 0 || id >= s->n_vocab) continue;
        int count = 0, first = 1;
        for (int j = 0; j < s->hist_n; j++) {
            if (s->hist[j] == id) { count++; if (j < i) first = 0; }
        }
        if (!first) continue; /* each distinct token once */
        float *l = &c[id].logit;
        *l = *l <= 0 ? *l * p->repeat_penalty : *l / p->repeat_penalty;
        *l -= (float)count * p->frequency_penalty + p->presence_penalty;
    }
}

int32_t plm_sampler_sample(plm_sampler *s, const float *logits) {
    const plm_sampler_params *p = &s->p;
    int n = s->n_vocab;
    cand *c = s->c;
    if (!c) return -1;
    for (int i = 0; i < n; i++) c[i] = (cand){i, logits[i], 0};
    apply_penalties(s, c);
    int32_t pick;
    if (p->temperature <= 0) {
        int best = 0;
        for (int i = 1; i < n; i++) if (c[i].logit > c[best].logit) best = i;
        pick = c[best].id;
    } else {
        /* top-k, top-p and min-p only look at the head of the candidates in logit order, so only the top_k best
         * are sorted; without top-k the whole vocabulary is (top-p's sum runs over all of it in that order). */
        n = p->top_k > 0 && p->top_k < n ? p->top_k : n;
        plm_cand_sort_head(c, s->n_vocab, n);
        /* probabilities at temperature 1 for top-p / min-p, as llama.cpp filters before scaling */
        float mx = c[0].logit;
        double sum = 0;
        for (int i = 0; i < n; i++) sum += (c[i].p = expf(c[i].logit - mx));
        if (p->top_p < 1.0f) {
            double cum = 0;
            for (int i = 0; i < n; i++) {
                cum += c[i].p / sum;
                if (cum >= p->top_p) { n = i + 1; break; }
            }
        }
        if (p->min_p > 0) {
            float thr = c[0].p * p->min_p;
            int keep = 1;
            while (keep < n && c[keep].p >= thr) keep++;
            n = keep;
        }
        sum = 0;
        for (int i = 0; i < n; i++) sum += (c[i].p = expf((c[i].logit - mx) / p->temperature));
        double r = (double)(next_u64(s->rng) >> 11) * (1.0 / 9007199254740992.0) * sum;
        pick = c[n - 1].id;
        for (int i = 0; i < n; i++) {
            r -= c[i].p;
            if (r < 0) { pick = c[i].id; break; }
        }
    }
    plm_sampler_accept(s, pick);
    return pick;
}
