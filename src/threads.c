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
#include <stdint.h>
#include <time.h>

/* Decode runs ~100 small matrix products per token, a few hundred microseconds each at most, with the caller's
 * serial work (norms, residuals, sampling, in wasm a turn of the event loop) between them. A sleeping hand-off
 * costs a futex wake-up, tens to hundreds of microseconds (in browsers Atomics.wait/notify), and once one side
 * sleeps the other outwaits a short poll too: with a 20000-poll bound (~30 us in wasm, which has no pause) 70-90%
 * of the hand-offs slept (counted in Chromium). So a waiting thread polls for a budget of wall-clock time, then
 * sleeps on a condition variable (an idle pool burns no core between requests). The budget adapts: a wait that
 * ends within it raises it (up to SPIN_MAX_NS), one that runs out halves it (down to SPIN_MIN_NS). With a free
 * core the other side answers within microseconds and the budget stays high; when both threads share one core (a
 * busy machine) a poller only burns the time slice the other needs, its waits run out, and the budget falls to
 * where polling costs little. */
#define SPIN_MAX_NS 2000000
#define SPIN_MIN_NS 20000
#define POLLS_PER_CLOCK 64 /* polls between clock reads: in wasm a clock read is a call out to JavaScript */

#if defined(__x86_64__) || defined(__i386__)
#define cpu_relax() __builtin_ia32_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* Hand-offs: the caller publishes a task by bumping gen; workers count pending down when they are done. Each side
 * polls, then sleeps. A sleeper announces itself (sleepers, caller_asleep: sequentially consistent, as is the
 * write the other side makes before reading them) and re-checks under the mutex, so the other side takes the
 * mutex and signals only when someone sleeps or is about to: no lost wake-up, and no mutex on the fast path. */
struct plm_pool {
    int n;                 /* threads including the caller */
    pthread_t *tids;
    pthread_mutex_t mu;
    pthread_cond_t go, done;
    atomic_uint gen;       /* bumped for every task; workers run when it changes */
    atomic_int pending;    /* workers still running the current task */
    atomic_int sleepers;   /* workers asleep on go, or about to be */
    atomic_int caller_asleep; /* the caller is asleep on done, or about to be */
    int64_t caller_spin;   /* the caller's polling budget (ns) */
    atomic_int quit;
    plm_task fn;           /* written before gen is bumped, read after it is seen */
    void *ctx;
};

typedef struct { plm_pool *p; int ith; } worker_arg;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int64_t budget_after(int64_t budget, int in_time) {
    if (in_time) return budget + budget / 4 < SPIN_MAX_NS ? budget + budget / 4 : SPIN_MAX_NS;
    return budget / 2 > SPIN_MIN_NS ? budget / 2 : SPIN_MIN_NS;
}

/* Polls until gen differs from seen or the pool quits, for at most *budget ns (then adapted); returns the last
 * gen read. */
static unsigned spin_gen(plm_pool *p, unsigned seen, int64_t *budget) {
    int64_t until = 0;
    for (int i = 1;; i++) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen || atomic_load_explicit(&p->quit, memory_order_relaxed)) {
            *budget = budget_after(*budget, 1);
            return g;
        }
        if (i % POLLS_PER_CLOCK == 0) {
            int64_t t = now_ns();
            if (!until) until = t + *budget;
            else if (t > until) {
                *budget = budget_after(*budget, 0);
                return g;
            }
        }
        cpu_relax();
    }
}

/* Polls until pending reaches 0, for at most the caller's budget (then adapted); returns whether it did. */
static int spin_done(plm_pool *p) {
    int64_t until = 0;
    for (int i = 1;; i++) {
        if (!atomic_load_explicit(&p->pending, memory_order_acquire)) {
            p->caller_spin = budget_after(p->caller_spin, 1);
            return 1;
        }
        if (i % POLLS_PER_CLOCK == 0) {
            int64_t t = now_ns();
            if (!until) until = t + p->caller_spin;
            else if (t > until) {
                p->caller_spin = budget_after(p->caller_spin, 0);
                return 0;
            }
        }
        cpu_relax();
    }
}

static void *worker(void *arg) {
    worker_arg wa = *(worker_arg *)arg;
    free(arg);
    plm_pool *p = wa.p;
    unsigned seen = 0;
    int64_t budget = SPIN_MAX_NS;
    for (;;) {
        unsigned g = spin_gen(p, seen, &budget);
        if (g == seen && !atomic_load(&p->quit)) {
            pthread_mutex_lock(&p->mu);
            atomic_fetch_add(&p->sleepers, 1);
            while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->quit)) pthread_cond_wait(&p->go, &p->mu);
            atomic_fetch_sub(&p->sleepers, 1);
            pthread_mutex_unlock(&p->mu);
        }
        if (atomic_load(&p->quit)) return NULL;
        seen = g;
        p->fn(p->ctx, wa.ith, p->n);
        if (atomic_fetch_sub(&p->pending, 1) == 1 && atomic_load(&p->caller_asleep)) {
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
    p->caller_spin = SPIN_MAX_NS;
    atomic_init(&p->gen, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->caller_asleep, 0);
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
    atomic_fetch_add(&p->gen, 1); /* releases fn, ctx and pending to the workers that see it */
    if (atomic_load(&p->sleepers)) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->go);
        pthread_mutex_unlock(&p->mu);
    }
    fn(ctx, 0, p->n);
    if (spin_done(p)) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_asleep, 1);
    while (atomic_load(&p->pending)) pthread_cond_wait(&p->done, &p->mu);
    atomic_store(&p->caller_asleep, 0);
    pthread_mutex_unlock(&p->mu);
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
