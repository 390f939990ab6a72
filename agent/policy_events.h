/* The policy verdict ring buffer (bl_polev_v1) read on the agent's event loop:
 * denies, --policy-audit's would-be denies and, with --policy-allow-events, allows
 * become log lines (rate limited: a flood of hostile traffic must not flood the log)
 * and per-verdict totals for /metrics. */
#ifndef BPFLET_POLICY_EVENTS_H
#define BPFLET_POLICY_EVENTS_H

#include <stdbool.h>

struct bl_agent;

struct bl_pol_event_stats {
	unsigned long verdicts[3]; /* by enum bpflet_pol_verdict */
	unsigned long not_logged;  /* over the rate limit */
};

/* Starts reading; 0 or -errno. */
int bl_pol_events_start(struct bl_agent *a);
void bl_pol_events_stop(struct bl_agent *a);

#endif
