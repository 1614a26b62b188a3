// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The SQ ring and doorbell protocol under two threads, TAP output.
 *
 * The producer posts with the provider's own code (providers/uet/
 * uet_queue.h: ring-full check, publish, NEED_WAKEUP check).  The
 * consumer models the kernel's send engine as the issue 3 contract has
 * it: it polls while work arrives; going idle it sets UET_DB_NEED_WAKEUP,
 * issues a full barrier, re-checks the ring and only then sleeps; a kick
 * (the POST_SEND write() without WRs) wakes it, and it clears
 * UET_DB_NEED_WAKEUP when it runs again.
 *
 * Checked, over millions of WQEs with random pauses on both sides: every
 * WQE is consumed once, in order, with its payload intact (so a full
 * ring was never overwritten); no WQE is ever stranded while the engine
 * sleeps; a kick happens only after the engine set NEED_WAKEUP.
 *
 * Build: gcc -O2 -pthread -I providers/uet -I include/uapi
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uet_queue.h"

#define ENTRIES 64
/* An engine asleep this long with WQEs it was not kicked for: stranded. */
#define STRAND_NS (250 * 1000 * 1000L)
/* Empty polls before the engine goes idle. */
#define IDLE_POLLS 64

struct profile {
	const char *name;
	unsigned long items;
	unsigned int max_batch;
	/*
	 * Each side pauses once in 'every' rounds on average, asleep for up
	 * to 'us' microseconds, or with 'us' 0 busy for a short while.
	 */
	unsigned int prod_every, prod_us;
	unsigned int cons_every, cons_us;
	bool fills;			/* the ring must be found full */
};

static const struct profile profiles[] = {
	{ "balanced", 1500000, 8, 64, 0, 64, 0, false },
	{ "slow engine", 1000000, 16, 4096, 50, 16, 30, true },
	{ "bursty poster", 1000000, 4, 16, 20, 1024, 0, false },
};

#define NPROFILES (sizeof(profiles) / sizeof(profiles[0]))

static struct uet_queue ring;
static struct uet_doorbell db __attribute__((aligned(64)));

/*
 * The kick and the engine's sleep, as a wait queue would have them.
 * kicked and asleep change under wq_lock and are read without it.
 */
static pthread_mutex_t wq_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wq_cond;
static _Atomic bool kicked, asleep;

/* Times the engine set and cleared NEED_WAKEUP; see producer_post(). */
static _Atomic unsigned long arms, disarms;
/* The producer is between its publish and the end of its kick. */
static _Atomic bool in_post;
/* Either side found a failure: both stop, the first one is reported. */
static _Atomic bool stop;
static _Atomic unsigned long stranded;

/* Each counter has one writer. */
struct stats {
	unsigned long consumed, bad_items, sleeps;	/* engine */
	unsigned long full, kicks, bad_kicks;		/* producer */
	char first_bad[160];
};

static struct stats st;

static int tap_n, tap_failed;

static void tap(bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%sok %d ", ok ? "" : "not ", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!ok)
		tap_failed++;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#else
	atomic_signal_fence(memory_order_seq_cst);
#endif
}

static void pause_maybe(uint64_t *s, unsigned int every, unsigned int us)
{
	struct timespec ts = { 0 };
	unsigned int i, n;

	if (rnd(s) % every)
		return;
	if (!us) {
		n = rnd(s) % 512;
		for (i = 0; i < n; i++)
			cpu_relax();
		return;
	}
	ts.tv_nsec = (rnd(s) % us + 1) * 1000;
	nanosleep(&ts, NULL);
}

/* A WQE whose every byte the engine can check against its number. */
static void wqe_fill(struct uet_send_wqe *wqe, uint64_t seq)
{
	uint32_t i;

	wqe->wr_id = seq;
	wqe->opcode = seq % 7;
	wqe->send_flags = (seq >> 3) & 0xf;
	wqe->inline_len = 8 + seq % 57;
	for (i = 0; i < wqe->inline_len; i++)
		wqe->inline_data[i] = (uint8_t)(seq * 31 + i);
}

static bool wqe_check(const struct uet_send_wqe *wqe, uint64_t seq)
{
	uint32_t i;

	if (wqe->wr_id != seq || wqe->opcode != seq % 7 ||
	    wqe->send_flags != ((seq >> 3) & 0xf) ||
	    wqe->inline_len != 8 + seq % 57)
		return false;
	for (i = 0; i < wqe->inline_len; i++)
		if (wqe->inline_data[i] != (uint8_t)(seq * 31 + i))
			return false;
	return true;
}

static void kick(void)
{
	pthread_mutex_lock(&wq_lock);
	atomic_store(&kicked, true);
	pthread_cond_signal(&wq_cond);
	pthread_mutex_unlock(&wq_lock);
}

static void fail_stop(const char *fmt, ...)
{
	va_list ap;

	if (atomic_exchange(&stop, true))
		return;
	va_start(ap, fmt);
	vsnprintf(st.first_bad, sizeof(st.first_bad), fmt, ap);
	va_end(ap);
}

/*
 * Between two posts, the producer is the only one who could kick.  If
 * the engine sleeps then with no kick pending while WQEs wait, the last
 * post should have kicked and did not: they are stranded until the next
 * post at best.  kicked is read before asleep because the engine clears
 * asleep before kicked when it wakes.
 */
static void producer_check_stranded(uint32_t producer)
{
	if (!atomic_load(&kicked) && atomic_load(&asleep) &&
	    uet_load_acquire(&ring.hdr->consumer) != producer) {
		atomic_fetch_add(&stranded, 1);
		fail_stop("WQEs before %u stranded while the engine slept",
			  producer);
	}
}

/*
 * Post up to @producer as uet_post_send() does, and check the kick.  The
 * engine increments arms before it sets NEED_WAKEUP and disarms after it
 * clears it.  If the publish saw the flag set by the engine's k-th arm
 * (an acquire load of a seq_cst store), arms >= k afterwards; and
 * disarms < k before, or the k-th clear would have been visible to that
 * load.  So a kick without NEED_WAKEUP shows as arms <= disarms-before.
 */
static void producer_post(uint32_t producer)
{
	unsigned long d0 = atomic_load(&disarms);

	atomic_store(&in_post, true);
	if (uet_sq_publish(&ring, producer, &db)) {
		if (atomic_load(&arms) <= d0)
			st.bad_kicks++;
		st.kicks++;
		kick();
	}
	atomic_store(&in_post, false);
}

static void *producer(void *arg)
{
	const struct profile *p = arg;
	uint64_t rng = 0x9e3779b97f4a7c15ULL;
	uint32_t prod = 0;
	uint64_t seq = 0;
	unsigned int n, batch;

	while (seq < p->items && !atomic_load(&stop)) {
		producer_check_stranded(prod);
		batch = 1 + rnd(&rng) % p->max_batch;
		for (n = 0; n < batch && seq + n < p->items; n++) {
			if (uet_queue_full(&ring, prod + n)) {
				st.full++;
				break;
			}
			wqe_fill(uet_queue_slot(&ring, prod + n,
						sizeof(struct uet_send_wqe)),
				 seq + n);
		}
		if (n) {
			prod += n;
			seq += n;
			producer_post(prod);
		}
		pause_maybe(&rng, p->prod_every, p->prod_us);
	}
	return NULL;
}

/*
 * Sleep until kicked.  Woken by the timeout instead, with WQEs in the
 * ring and the producer not on its way to kick, they were stranded:
 * this catches the last post, which no producer_check_stranded()
 * follows.
 */
static void engine_sleep(uint32_t cons)
{
	struct timespec ts;

	pthread_mutex_lock(&wq_lock);
	atomic_store(&asleep, true);
	while (!atomic_load(&kicked) && !atomic_load(&stop)) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += STRAND_NS;
		ts.tv_sec += ts.tv_nsec / 1000000000L;
		ts.tv_nsec %= 1000000000L;
		if (pthread_cond_timedwait(&wq_cond, &wq_lock, &ts) !=
		    ETIMEDOUT || atomic_load(&kicked))
			continue;
		if (uet_load_acquire(&ring.hdr->producer) != cons &&
		    !atomic_load(&in_post)) {
			atomic_fetch_add(&stranded, 1);
			fail_stop("WQE %u stranded while the engine slept",
				  cons);
		}
	}
	atomic_store(&asleep, false);
	atomic_store(&kicked, false);
	st.sleeps++;
	pthread_mutex_unlock(&wq_lock);
}

/* Consume the WQEs before @prod; false at one that is not the next. */
static bool engine_consume(uint32_t prod, uint32_t *cons)
{
	const struct uet_send_wqe *wqe;

	for (; *cons != prod; (*cons)++, st.consumed++) {
		wqe = uet_queue_slot(&ring, *cons, sizeof(*wqe));
		if (!wqe_check(wqe, st.consumed)) {
			st.bad_items++;
			fail_stop("slot %u: not WQE %lu", *cons, st.consumed);
			return false;
		}
	}
	uet_store_release(&ring.hdr->consumer, *cons);
	return true;
}

static void *engine(void *arg)
{
	const struct profile *p = arg;
	uint64_t rng = 0x2545f4914f6cdd1dULL;
	unsigned int idle = 0;
	uint32_t prod, cons = 0;

	while (st.consumed < p->items && !atomic_load(&stop)) {
		prod = uet_load_acquire(&ring.hdr->producer);
		if (prod != cons) {
			if (!engine_consume(prod, &cons))
				return NULL;
			idle = 0;
			pause_maybe(&rng, p->cons_every, p->cons_us);
			continue;
		}
		if (++idle < IDLE_POLLS) {
			cpu_relax();
			continue;
		}

		/* Going idle: announce it, then look once more. */
		atomic_fetch_add(&arms, 1);
		atomic_fetch_or((_Atomic uint32_t *)&db.flags,
				UET_DB_NEED_WAKEUP);
		atomic_thread_fence(memory_order_seq_cst);
		if (uet_load_acquire(&ring.hdr->producer) == cons)
			engine_sleep(cons);
		/* Running: posters need not kick. */
		atomic_fetch_and((_Atomic uint32_t *)&db.flags,
				 ~(uint32_t)UET_DB_NEED_WAKEUP);
		atomic_fetch_add(&disarms, 1);
		idle = 0;
	}
	return NULL;
}

static void ring_reset(void)
{
	memset(ring.hdr, 0, UET_QUEUE_HDR_SIZE);
	memset(&db, 0, sizeof(db));
	memset(&st, 0, sizeof(st));
	atomic_store(&arms, 0);
	atomic_store(&disarms, 0);
	atomic_store(&stranded, 0);
	atomic_store(&stop, false);
	atomic_store(&kicked, false);
	atomic_store(&asleep, false);
}

static void run_profile(const struct profile *p)
{
	pthread_t tp, tc;
	struct timespec t0, t1;
	double secs;

	ring_reset();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	pthread_create(&tc, NULL, engine, (void *)p);
	pthread_create(&tp, NULL, producer, (void *)p);
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = t1.tv_sec - t0.tv_sec + (t1.tv_nsec - t0.tv_nsec) / 1e9;

	printf("# %s: %lu WQEs in %.2f s, engine slept %lu times, %lu kicks, ring full %lu times%s%s\n",
	       p->name, st.consumed, secs, st.sleeps, st.kicks, st.full,
	       st.first_bad[0] ? "; first failure: " : "", st.first_bad);
	tap(st.consumed == p->items && !st.bad_items,
	    "%s: all %lu WQEs consumed once, in order, payload intact",
	    p->name, p->items);
	tap(!atomic_load(&stranded) && st.sleeps > 0,
	    "%s: no WQE stranded while the engine slept (%lu sleeps)",
	    p->name, st.sleeps);
	tap(!st.bad_kicks && st.kicks > 0,
	    "%s: every kick (%lu) followed a NEED_WAKEUP", p->name,
	    st.kicks);
	if (p->fills)
		tap(st.full > 0 && st.consumed == p->items && !st.bad_items,
		    "%s: a full ring was reported (%lu times), never overwritten",
		    p->name, st.full);
}

static void test_full(void)
{
	bool ok = true;
	uint32_t i;

	ring_reset();
	for (i = 0; i < ENTRIES; i++)
		ok &= !uet_queue_full(&ring, i);
	ok &= uet_queue_full(&ring, ENTRIES);
	ring.hdr->consumer = 1;
	ok &= !uet_queue_full(&ring, ENTRIES) &&
	      uet_queue_full(&ring, ENTRIES + 1);
	/* free-running indices across the 2^32 wrap */
	ring.hdr->consumer = 0xfffffff0;
	ok &= !uet_queue_full(&ring, 0xfffffff0 + ENTRIES - 1) &&
	      uet_queue_full(&ring, 0xfffffff0 + ENTRIES);
	tap(ok, "ring full exactly when %d WQEs are unconsumed, across the index wrap",
	    ENTRIES);
}

static void test_publish(void)
{
	struct uet_queue_hdr *h = ring.hdr;
	bool ok = true;

	ring_reset();
	ok &= !uet_sq_publish(&ring, 5, &db) && h->producer == 5;
	db.flags = UET_DB_NEED_WAKEUP;
	ok &= uet_sq_publish(&ring, 6, &db) && h->producer == 6;
	db.flags = 0;
	h->flags = UET_QUEUE_ERR;
	ok &= uet_sq_publish(&ring, 7, &db) && h->producer == 7;
	tap(ok, "SQ publish stores the producer and asks for a kick only on NEED_WAKEUP or UET_QUEUE_ERR");

	ok = true;
	h->flags = 0;
	db.flags = UET_DB_NEED_WAKEUP;
	ok &= !uet_rq_publish(&ring, 8) && h->producer == 8;
	h->flags = UET_QUEUE_ERR;
	ok &= uet_rq_publish(&ring, 9) && h->producer == 9;
	tap(ok, "RQ publish stores the producer and asks for a kick only on UET_QUEUE_ERR");
}

int main(void)
{
	/* page-aligned like the kernel's, in whole pages for aligned_alloc() */
	size_t size = (UET_QUEUE_HDR_SIZE +
		       ENTRIES * sizeof(struct uet_send_wqe) + 4095) & ~4095UL;
	pthread_condattr_t ca;
	size_t i, plan = 3;

	/* A hang is a failure too. */
	alarm(120);
	ring.hdr = aligned_alloc(4096, size);
	if (!ring.hdr)
		return 1;
	ring.buf = (char *)ring.hdr + UET_QUEUE_HDR_SIZE;
	ring.entries = ENTRIES;
	ring.map_size = size;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&wq_cond, &ca);

	for (i = 0; i < NPROFILES; i++)
		plan += 3 + profiles[i].fills;
	printf("TAP version 13\n1..%zu\n", plan);
	test_full();
	test_publish();
	for (i = 0; i < NPROFILES; i++)
		run_profile(&profiles[i]);
	free(ring.hdr);
	return tap_failed ? 1 : 0;
}
