/* A small fixed thread pool: run one task on every thread and wait. Built without threads (PLM_NO_THREADS, the
 * single-thread wasm variants) it runs the task inline. */
#ifndef PLM_THREADS_H
#define PLM_THREADS_H

typedef struct plm_pool plm_pool;
typedef void (*plm_task)(void *ctx, int ith, int nth);

plm_pool *plm_pool_new(int n_threads); /* n_threads includes the caller; fewer start if the system refuses */
void plm_pool_run(plm_pool *p, plm_task fn, void *ctx);
int plm_pool_size(const plm_pool *p);
void plm_pool_free(plm_pool *p);

/* Splits [0, n) into nth nearly equal parts, aligned to `align`; part ith is [*a, *b). */
void plm_split(int n, int align, int ith, int nth, int *a, int *b);

#endif
