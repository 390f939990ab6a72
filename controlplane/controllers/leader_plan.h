/* Leader election among control planes on one store, pure: what to do with the
 * coordination.k8s.io/v1 Lease read now, and what to write. client-go's rules: a Lease
 * counts as expired when its record has not changed for leaseDurationSeconds of *our*
 * clock (monotonic, since we first saw that version), so clocks of different hosts never
 * need to agree. */
#ifndef BPFLET_CTL_LEADER_PLAN_H
#define BPFLET_CTL_LEADER_PLAN_H

#include <jansson.h>
#include <stdbool.h>

enum bl_le_verdict {
	BL_LE_CREATE, /* no Lease yet: create it, held by us */
	BL_LE_RENEW,  /* we hold it: write a new renewTime */
	BL_LE_TAKE,   /* released or expired: take it over (leaseTransitions + 1) */
	BL_LE_WAIT,   /* another holder, not expired */
};

/* lease (NULL: none stored) as seen at now, whose current version we first saw at
 * observed (both on one monotonic clock, seconds); me is our holderIdentity. A Lease
 * without a usable leaseDurationSeconds lasts dflt seconds. */
enum bl_le_verdict bl_le_decide(json_t *lease, const char *me, double now, double observed,
				int dflt);

/* True when a leader whose last successful renew was sent at renewed must stop now:
 * deadline seconds have passed without one. */
bool bl_le_lost(double now, double renewed, double deadline);

/* The Lease to write for verdict (not BL_LE_WAIT): old (NULL for CREATE) with holder me,
 * leaseDurationSeconds duration, renewTime (and acquireTime on CREATE/TAKE) now_micro,
 * leaseTransitions counted up on TAKE. A new reference; old's resourceVersion stays,
 * so the write fails when someone else wrote in between. */
json_t *bl_le_record(json_t *old, enum bl_le_verdict v, const char *me, int duration,
		     const char *now_micro);

/* The Lease that gives up old (held by us): no holder, lasting 1 s, so that another
 * control plane takes over at its next try. A new reference. */
json_t *bl_le_release(json_t *old, const char *now_micro);

#endif
