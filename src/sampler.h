/* The sampler's candidate order, shared with its test (tests/c/test_sampler.c). */
#ifndef PLM_SAMPLER_H
#define PLM_SAMPLER_H

#include <stdint.h>

typedef struct plm_cand { int32_t id; float logit; float p; } plm_cand;

/* qsort comparator: higher logit first, ties by lower id (a total order on distinct ids, like a stable argmax). */
int plm_cand_order(const void *a, const void *b);
/* Puts the k best of c[0..n) (plm_cand_order) in c[0..k), in order; c[k..n) is left unspecified. The same head a
 * full qsort would give, in O(n log k). */
void plm_cand_sort_head(plm_cand *c, int n, int k);

#endif
