/*
 * NetworkPolicy compiler: Pods, Namespaces and networking.k8s.io/v1 NetworkPolicies →
 * ipcache, policy and endpoint records (headers/bpflet/policy_abi.h). Pure: no kernel.
 *
 * Semantics as upstream: a pod is isolated for a direction once a policy selecting it
 * lists that type (policyTypes default: Ingress, plus Egress when spec.egress is
 * set); allowed traffic is the union of the rules; a missing or empty from/to allows
 * every peer, a missing or empty ports list every port; ipBlock matches addresses in
 * cidr and outside every except (pod IPs included). Named ports resolve on the
 * destination pod: the endpoint itself for ingress, each peer pod for egress.
 */
#ifndef BPFLET_NETPOL_H
#define BPFLET_NETPOL_H

#include "controlplane/compile/errlist.h"

#include <bpflet/policy_abi.h>
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

struct bl_pol_ipcache {
	struct bpflet_ipcache_key key;
	struct bpflet_ipcache_val val;
};

struct bl_pol_rule {
	struct bpflet_pol_key key;
	struct bpflet_pol_val val;
};

struct bl_pol_endpoint {
	uint32_t addr; /* network order */
	struct bpflet_pol_ep val;
	char ns[64], name[254];
};

struct bl_pol_table {
	struct bl_pol_ipcache *ipcache; /* sorted by key */
	size_t n_ipcache;
	struct bl_pol_rule *rules; /* sorted by key, unique */
	size_t n_rules;
	struct bl_pol_endpoint *endpoints; /* selected pods with an IP, sorted by addr */
	size_t n_endpoints;
	char **rule_names; /* rule_id - 1 → "ns/policy ingress[0]" */
	size_t n_rule_names;
};

/* Compiles every Pod, Namespace and NetworkPolicy in objs (other kinds ignored). A bad
 * object is left out with one message in errs ("NetworkPolicy ns/name:
 * spec.ingress[0].ports[1].port: ..."); the others compile as if it were absent. The
 * agent compiles by change instead (netpol_incr.h), which keeps a bad object's last
 * good version in force. Returns 0 or -ENOMEM. */
int bl_netpol_compile(json_t *const *objs, size_t n, struct bl_pol_table *t,
		      struct bl_errlist *errs);
/* The checks bl_netpol_compile makes of one object: 0, or -EINVAL with the field and
 * the reason in err. Kinds the compiler ignores pass. */
int bl_netpol_check(const json_t *obj, char *err, size_t errlen);
void bl_pol_table_free(struct bl_pol_table *t);
/* Sorts rules (by key), ipcache (by prefix length, then address) and endpoints (by
 * address) as the compiler leaves them. */
void bl_pol_table_sort(struct bl_pol_table *t);
/* Sets each endpoint's classes (bpflet_pol_ep.classes) from its rules: the lookups
 * its packets need. Endpoints must be sorted. */
void bl_pol_table_classes(struct bl_pol_table *t);

/* Port range [lo, hi] (host order) → aligned blocks: ports[i] with plens[i] bits
 * fixed (16 = one port). Returns the count (at most 30). */
size_t bl_port_range_prefixes(uint16_t lo, uint16_t hi, uint16_t *ports, uint8_t *plens);

#endif
