/* The agent's conntrack GC: a libevent timer runs a full pass over both conntrack maps;
 * the Service source asks for a purge-only pass after each sync that changed
 * something, so UDP flows leave a removed backend without waiting for the timer. */
#include "agent/agent.h"
#include "agent/common/log.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The published {svc_id, backend_id} pairs, built once per pass into one sorted
 * array (8 bytes a pair, one block: no heap left fragmented at 100k pairs); a purge
 * looks each conntrack entry up by binary search. */
struct members {
	uint64_t *k;
	size_t n, cap;
};

static int add_member(void *arg, uint32_t svc_id, uint32_t backend_id)
{
	struct members *m = arg;

	if (m->n == m->cap) {
		size_t cap = m->cap ? m->cap * 2 : 1024;
		uint64_t *k = realloc(m->k, cap * sizeof(*k));

		if (!k)
			return -ENOMEM;
		m->k = k;
		m->cap = cap;
	}
	m->k[m->n++] = (uint64_t)svc_id << 32 | backend_id;
	return 0;
}

static int u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static bool backend_live(void *arg, uint32_t svc_id, uint32_t backend_id)
{
	const struct members *m = arg;
	uint64_t key = (uint64_t)svc_id << 32 | backend_id;

	return bsearch(&key, m->k, m->n, sizeof(key), u64_cmp) != NULL;
}

static uint64_t coarse_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void bl_ct_gc_pass(struct bl_agent *a, bool expire)
{
	struct bl_ct_gc_stats st = {0};
	struct members set = {0};
	uint64_t now = coarse_ns();
	int err;

	/* without the full set, purge nothing rather than too much */
	err = bl_svc_sync_for_each_member(a->sync, add_member, &set);
	if (set.n)
		qsort(set.k, set.n, sizeof(*set.k), u64_cmp);
	err = bl_ct_gc_run(a->dp.ct_any_fd, false, now, &a->o.ct_timeouts, expire,
			   err ? NULL : backend_live, &set, &st);
	free(set.k);
	if (!err && expire)
		err = bl_ct_gc_run(a->dp.ct_tcp_fd, true, now, &a->o.ct_timeouts, true, NULL, NULL,
				   &st);
	if (err)
		log_warn("conntrack GC pass incomplete: %s", strerror(-err));
	a->ct_gc.scanned += st.scanned;
	a->ct_gc.expired += st.expired;
	a->ct_gc.backend_gone += st.backend_gone;
	a->ct_gc.errors += st.errors;
	a->ct_gc_runs += expire;
	if (st.expired || st.backend_gone)
		log_debug("conntrack GC: %lu scanned, %lu idle and %lu of removed backends deleted",
			  st.scanned, st.expired, st.backend_gone);
}

static void on_gc(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bl_ct_gc_pass(arg, true);
}

static void on_purge(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	bl_ct_gc_pass(arg, false);
}

void bl_ct_gc_purge_soon(struct bl_agent *a)
{
	/* 20 ms: long enough to share one pass among a burst of changes, short beside
	 * a UDP client's retry */
	struct timeval soon = {0, 20 * 1000};

	if (!a->ct_purge_ev)
		bl_ct_gc_pass(a, false);
	else if (!event_pending(a->ct_purge_ev, EV_TIMEOUT, NULL))
		event_add(a->ct_purge_ev, &soon);
}

int bl_ct_gc_start(struct bl_agent *a)
{
	struct timeval period = {a->o.ct_gc_seconds, 0};

	a->ct_purge_ev = evtimer_new(a->base, on_purge, a);
	if (!a->ct_purge_ev)
		return -1;
	a->ct_gc_ev = event_new(a->base, -1, EV_PERSIST, on_gc, a);
	if (!a->ct_gc_ev)
		return -1;
	return event_add(a->ct_gc_ev, &period);
}
