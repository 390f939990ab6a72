/*
 * NetworkPolicy compiled by change: the agent's compiler. It holds the Pods, Namespaces
 * and NetworkPolicies it was given and the entries they produce, and after each batch
 * of changes hands out only the map entries that differ (the delta), so a pod's label
 * or address, or one policy, takes effect in the time its own entries take rather
 * than a compile of the cluster.
 *
 * Semantics are those of bl_netpol_compile (netpol.h); the randomized differential
 * test in selftests/unit/compile checks both give the same verdicts. A pod's identity
 * is the hash of its signature (namespace, labels, named ports, ipBlock membership),
 * rule ids are allocated per policy rule and kept while the policy lives, so one
 * change never renumbers the rest. A Namespace's new labels re-match its identities
 * against every peer. What costs a rebuild of the whole state: a change to the set of
 * ipBlocks (every signature carries the membership); the delta is still only what
 * differs.
 *
 * A bad object is reported by name and not taken: its last good version, if any,
 * stays in force, so isolation is never silently lost.
 */
#ifndef BPFLET_NETPOL_INCR_H
#define BPFLET_NETPOL_INCR_H

#include "controlplane/compile/errlist.h"
#include "controlplane/compile/netpol.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

struct bl_netpol_incr;

/* The entries to write and to remove, for each map. */
struct bl_pol_delta {
	struct bl_pol_rule *rule_up;
	size_t n_rule_up;
	struct bpflet_pol_key *rule_del;
	size_t n_rule_del;
	struct bl_pol_ipcache *ipc_up;
	size_t n_ipc_up;
	struct bpflet_ipcache_key *ipc_del;
	size_t n_ipc_del;
	struct bl_pol_endpoint *ep_up;
	size_t n_ep_up;
	uint32_t *ep_del; /* addresses, network order */
	size_t n_ep_del;
	uint32_t *name_up; /* rule ids whose name is new or changed */
	size_t n_name_up;
	uint32_t *name_del;
	size_t n_name_del;
};

struct bl_netpol_incr *bl_netpol_incr_new(void);
void bl_netpol_incr_free(struct bl_netpol_incr *c);

/* A Pod, Namespace or NetworkPolicy, new or changed (other kinds: ignored, 0). The
 * compiler holds a reference: the caller must not change the object afterwards (a new
 * version is a new object). A bad one: -EINVAL and a message in errs naming it, the
 * previous version kept. -ENOMEM leaves the state in need of a rebuild. */
int bl_netpol_incr_set(struct bl_netpol_incr *c, const json_t *obj, struct bl_errlist *errs);
/* Removes "Pod"/"Namespace"/"NetworkPolicy" ns/name (a Namespace: ns ignored). */
int bl_netpol_incr_remove(struct bl_netpol_incr *c, const char *kind, const char *ns,
			  const char *name);

/* The entries that changed since the last commit (all of them the first time).
 * Returns 0 or -ENOMEM (then the next commit rebuilds). Free d with bl_pol_delta_free. */
int bl_netpol_incr_commit(struct bl_netpol_incr *c, struct bl_pol_delta *d);
void bl_pol_delta_free(struct bl_pol_delta *d);
/* Forget what was committed: the next commit hands out every entry again (after a
 * map write failed). */
void bl_netpol_incr_forget_written(struct bl_netpol_incr *c);

/* The name of rule id ("ns/policy ingress[0]"), NULL when unused. */
const char *bl_netpol_incr_rule_name(const struct bl_netpol_incr *c, uint32_t id);
/* Everything as one table, sorted as bl_netpol_compile sorts it (rule_names by id,
 * NULL-free: unused ids get ""). */
int bl_netpol_incr_table(const struct bl_netpol_incr *c, struct bl_pol_table *t);
/* How many whole rebuilds it took since it was made (tests, metrics). */
unsigned long bl_netpol_incr_rebuilds(const struct bl_netpol_incr *c);

#endif
