#include "threads.h"

#include <stdlib.h>

void plm_split(int n, int align, int ith, int nth, int *a, int *b) {
    int units = (n + align - 1) / align;
    int per = units / nth, extra = units % nth;
    int u0 = ith * per + (ith < extra ? ith : extra);
    int u1 = u0 + per + (ith < extra);
    *a = u0 * align < n ? u0 * align : n;
    *b = u1 * align < n ? u1 * align : n;
}

#ifdef PLM_NO_THREADS

struct plm_pool { int n; };
plm_pool *plm_pool_new(int n_threads) { (void)n_threads; plm_pool *p = malloc(sizeof *p); if (p) p->n = 1; return p; }
void plm_pool_run(plm_pool *p, plm_task fn, void *ctx) { (void)p; fn(ctx, 0, 1); }
int plm_pool_size(const plm_pool *p) { return p->n; }
void plm_pool_free(plm_pool *p) { free(p); }

#else
#include <pthread.h>
#include <stdatomic.h>

/* Decode runs ~100 small matrix products per token: a sleeping hand-off (futex wake + reschedule, tens of
 * microseconds) per product would cost more than the second thread saves. Both sides spin briefly on an atomic
 * before falling back to the condition variables, which keep idle workers from burning a core between requests. */
#define SPIN_ITERS 20000

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

struct plm_pool {
    int n;                 /* threads including the caller */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_uint gen;       /* bumped for every task; workers run when it changes */
    atomic_int pending;    /* workers still running the current task */
    atomic_int quit;
    plm_task fn;           /* written before gen is bumped (release), read after it is seen (acquire) */
    void *ctx;
};

typedef struct { plm_pool *p; int ith; } worker_arg;

static void *worker(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    plm_pool *p = wa.p;
    unsigned seen = 0;
    for (;;) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        for (int i = 0; g == seen && i < SPIN_ITERS && !atomic_load_explicit(&p->quit, memory_order_relaxed); i++) {
            cpu_relax();
            g = atomic_load_explicit(&p->gen, memory_order_acquire);
        }
        if (g == seen) {
            pthread_mutex_lock(&p->mu);
            while ((g = atomic_load_explicit(&p->gen, memory_order_acquire)) == seen && !atomic_load(&p->quit))
                pthread_cond_wait(&p->go, &p->mu);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->ctx, wa.ith, p->n);
        if (atomic_fetch_sub_explicit(&p->pending, 1, memory_order_acq_rel) == 1) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done);
            pthread_mutex_unlock(&p->mu);
        }
    }
}

plm_pool *plm_pool_new(int n_threads) {
    plm_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    if (n_threads < 1) n_threads = 1;
    if (n_threads > 256) n_threads = 256;
    p->n = 1;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->go, NULL);
    pthread_cond_init(&p->done, NULL);
    if (n_threads > 1 && !(p->tids = calloc((size_t)n_threads, sizeof *p->tids))) return p;
    for (int i = 1; i < n_threads; i++) {
        worker_arg *wa = malloc(sizeof *wa);
        if (!wa) break;
        wa->p = p;
        wa->ith = i;
        if (pthread_create(&p->tids[i], NULL, worker, wa) != 0) { free(wa); break; }
        p->n = i + 1;
    }
    return p;
}

void plm_pool_run(plm_pool *p, plm_task fn, void *ctx) {
    if (p->n == 1) { fn(ctx, 0, 1); return; }
    p->fn = fn;
    p->ctx = ctx;
    atomic_store_explicit(&p->pending, p->n - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    fn(ctx, 0, p->n);
    for (int i = 0; i < SPIN_ITERS && atomic_load_explicit(&p->pending, memory_order_acquire); i++) cpu_relax();
    if (atomic_load_explicit(&p->pending, memory_order_acquire)) {
        pthread_mutex_lock(&p->mu);
        while (atomic_load_explicit(&p->pending, memory_order_acquire)) pthread_cond_wait(&p->done, &p->mu);
        pthread_mutex_unlock(&p->mu);
    }
}

int plm_pool_size(const plm_pool *p) { return p->n; }

void plm_pool_free(plm_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->quit, 1);
    pthread_cond_broadcast(&p->go);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n; i++) pthread_join(p->tids[i], NULL);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->go);
    pthread_cond_destroy(&p->done);
    free(p->tids);
    free(p);
}
#endif
