/* Leader election for the controllers (--leader-elect): only the control plane holding
 * the Lease kube-system/bpflet-controlplane runs them; every one serves the API. */
#ifndef BPFLET_CTL_LEADER_H
#define BPFLET_CTL_LEADER_H

#include "controlplane/controllers/controllers.h"

#define BL_LEADER_LEASE_NS   "kube-system"
#define BL_LEADER_LEASE_NAME "bpflet-controlplane"
#define BL_LEADER_LEASE_S    15 /* leaseDurationSeconds */
#define BL_LEADER_DEADLINE_S 10 /* a leader that could not renew for this long stops */
#define BL_LEADER_RETRY_S    2	/* how often the Lease is renewed or tried */

struct bl_leader;

/* Tries for the Lease at once (a lone server holds it before this returns) and then
 * every BL_LEADER_RETRY_S; id is the holderIdentity (NULL: "HOSTNAME_PID"). */
int bl_leader_start(struct event_base *base, struct bl_apiserver *srv,
		    const struct bl_controllers_config *cfg, const char *id,
		    struct bl_leader **out);
/* Stops the controllers and, when it holds the Lease, releases it so another control
 * plane takes over without waiting for it to expire. */
void bl_leader_stop(struct bl_leader *l);

#endif
