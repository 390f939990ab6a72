#include "agent/policy_events.h"
#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/common/netaddr.h"

#include <arpa/inet.h>
#include <bpf/libbpf.h>
#include <bpflet/policy_abi.h>
#include <errno.h>
#include <stdlib.h>
#include <event2/event.h>
#include <string.h>

/* at most this many event lines per second; the rest are only counted */
#define POL_EV_LINES_PER_SEC 50

struct bl_pol_events {
	struct bl_agent *a;
	struct ring_buffer *rb;
	struct event *ev;
	double window; /* start of the current one-second window */
	unsigned lines;
	unsigned long skipped; /* in this window */
};

static const char *rule_name(const struct bl_agent *a, __u32 id)
{
	const char *n = bl_policy_rule_name(a, id);

	return n ? n : id ? "a rule since removed" : "default deny";
}

static bool under_limit(struct bl_pol_events *pe)
{
	double now = bl_now();

	if (now - pe->window >= 1.0) {
		if (pe->skipped)
			log_warn("policy: %lu more verdict events in the last second not logged",
				 pe->skipped);
		pe->window = now;
		pe->lines = 0;
		pe->skipped = 0;
	}
	if (pe->lines < POL_EV_LINES_PER_SEC) {
		pe->lines++;
		return true;
	}
	pe->skipped++;
	pe->a->pol_events.not_logged++;
	return false;
}

static int on_event(void *ctx, void *data, size_t size)
{
	static const char *const what[] = {"deny", "audit (would deny, passed)", "allow"};
	struct bl_pol_events *pe = ctx;
	const struct bpflet_pol_event *e = data;
	char src[INET_ADDRSTRLEN], dst[INET_ADDRSTRLEN], ep[INET_ADDRSTRLEN];

	if (size < sizeof(*e) || e->verdict > BPFLET_POL_ALLOW)
		return 0;
	pe->a->pol_events.verdicts[e->verdict]++;
	if (!under_limit(pe))
		return 0;
	inet_ntop(AF_INET, &e->saddr, src, sizeof(src));
	inet_ntop(AF_INET, &e->daddr, dst, sizeof(dst));
	snprintf(ep, sizeof(ep), "%s", e->dir == BPFLET_POL_INGRESS ? dst : src);
	log_info("policy %s: %s:%u -> %s:%u %s, %s of %s, %s", what[e->verdict], src,
		 ntohs(e->sport), dst, ntohs(e->dport), bl_proto_name(e->proto),
		 e->dir == BPFLET_POL_INGRESS ? "ingress" : "egress", ep,
		 rule_name(pe->a, e->rule_id));
	return 0;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct bl_pol_events *pe = arg;

	(void)fd;
	(void)what;
	ring_buffer__consume(pe->rb);
}

int bl_pol_events_start(struct bl_agent *a)
{
	struct bl_pol_events *pe = calloc(1, sizeof(*pe));
	int err;

	if (!pe)
		return -ENOMEM;
	pe->a = a;
	pe->rb = ring_buffer__new(a->dp.polev_fd, on_event, pe, NULL);
	if (!pe->rb) {
		err = -errno;
		log_err("policy events: cannot read %s: %s", BPFLET_MAP_POL_EV, strerror(-err));
		free(pe);
		return err;
	}
	pe->ev = event_new(a->base, ring_buffer__epoll_fd(pe->rb), EV_READ | EV_PERSIST,
			   on_readable, pe);
	if (!pe->ev || event_add(pe->ev, NULL)) {
		ring_buffer__free(pe->rb);
		free(pe);
		return -ENOMEM;
	}
	a->pol_ev = pe;
	return 0;
}

void bl_pol_events_stop(struct bl_agent *a)
{
	struct bl_pol_events *pe = a->pol_ev;

	if (!pe)
		return;
	ring_buffer__consume(pe->rb);
	event_free(pe->ev);
	ring_buffer__free(pe->rb);
	free(pe);
	a->pol_ev = NULL;
}
