/* The agent's conntrack GC: a libevent timer runs a full pass over both conntrack maps;
 * the Service source asks for a purge-only pass after each sync that changed
 * something, so UDP flows leave a removed backend without waiting for the timer. */
#include "agent/agent.h"
#include "agent/common/log.h"

#include <event2/event.h>
#include <string.h>
#include <time.h>

static bool backend_live(void *arg, uint32_t svc_id, uint32_t backend_id)
{
	return bl_svc_sync_backend_live(arg, svc_id, backend_id);
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
	uint64_t now = coarse_ns();
	int err;

	err = bl_ct_gc_run(a->dp.ct_any_fd, false, now, &a->o.ct_timeouts, expire, backend_live,
			   a->sync, &st);
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

int bl_ct_gc_start(struct bl_agent *a)
{
	struct timeval period = {a->o.ct_gc_seconds, 0};

	a->ct_gc_ev = event_new(a->base, -1, EV_PERSIST, on_gc, a);
	if (!a->ct_gc_ev)
		return -1;
	return event_add(a->ct_gc_ev, &period);
}
