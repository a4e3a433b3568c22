/* The sampler's partial sort (plm_cand_sort_head) against a full qsort with the same comparator, on random logits
 * with many ties, for heads of every size; then plm_sampler_sample's picks with top-k on, against the same
 * sampling run over a fully sorted candidate list (the sampler before the partial sort). */
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
        plm_cand *a = malloc((size_t)n * sizeof *a), *b = malloc((size_t)n * sizeof *b);
        int bad = 0, runs = 0;
        for (int levels = 0; levels <= 64; levels += 16)
            for (int t = 0; t < 6; t++) {
                const int ks[] = {1, 2, 40, n / 2, n - 1, n, n + 5, (int)(rnd() % (uint32_t)n) + 1};
                fill(a, n, levels);
                memcpy(b, a, (size_t)n * sizeof *a);
                qsort(b, (size_t)n, sizeof *b, plm_cand_order);
                plm_cand *c = malloc((size_t)n * sizeof *c);
                for (int ki = 0; ki < 8; ki++) {
                    const int k = ks[ki] < 1 ? 1 : ks[ki], head = k < n ? k : n;
                    memcpy(c, a, (size_t)n * sizeof *a);
                    plm_cand_sort_head(c, n, k);
                    bad += memcmp(c, b, (size_t)head * sizeof *c) != 0;
                    runs++;
                }
                free(c);
            }
        CHECK(bad == 0, "n %d: %d of %d heads differ from the full sort", n, bad, runs);
        free(a);
        free(b);
    }
}

/* The sampler's draw over a fully sorted list: what plm_sampler_sample computed before the partial sort. */
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
static int32_t full_sort_pick(const plm_sampler_params *p, uint64_t *st, const float *logits, int nv, plm_cand *c) {
    for (int i = 0; i < nv; i++) c[i] = (plm_cand){i, logits[i], 0};
    int n = p->top_k > 0 && p->top_k < nv ? p->top_k : nv;
    qsort(c, (size_t)nv, sizeof *c, plm_cand_order);
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
    double r = (double)(next_u64(st) >> 11) * (1.0 / 9007199254740992.0) * sum;
    int32_t pick = c[n - 1].id;
    for (int i = 0; i < n; i++) {
        r -= c[i].p;
        if (r < 0) { pick = c[i].id; break; }
    }
    return pick;
}

static void test_sample(void) {
    const int nv = 4096;
    float *logits = malloc(nv * sizeof *logits);
    plm_cand *c = malloc(nv * sizeof *c);
    const int top_ks[] = {40, 1, 0, 200};
    const float temps[] = {0.8f, 1.5f};
    int bad = 0, draws = 0;
    for (int ki = 0; ki < 4; ki++)
        for (int ti = 0; ti < 2; ti++) {
            plm_sampler_params p;
            plm_sampler_default_params(&p);
            p.top_k = top_ks[ki], p.temperature = temps[ti], p.penalty_last_n = 0, p.seed = 77 + (uint64_t)ki;
            plm_sampler *s = NULL;
            if (plm_sampler_new(&p, nv, &s) != PLM_OK) bad++;
            uint64_t x = p.seed, st[4];
            for (int i = 0; i < 4; i++) st[i] = splitmix(&x);
            for (int t = 0; t < 40; t++) {
                for (int i = 0; i < nv; i++) logits[i] = (float)(rnd() % 200) / 16.0f;
                bad += plm_sampler_sample(s, logits) != full_sort_pick(&p, st, logits, nv, c);
                draws++;
            }
            plm_sampler_free(s);
        }
    CHECK(bad == 0, "%d of %d draws differ from sampling over a full sort", bad, draws);
    free(logits);
    free(c);
}

int main(void) {
    test_sort_head();
    test_sample();
    printf("test_sampler: %d checks, %d failures\n", checks, failures);
    return failures != 0;
}
