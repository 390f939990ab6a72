/* The NetworkPolicy maps as bpfletctl policy reads them (cmd_policy.c, and the verdict
 * trace in cmd_policy_trace.c). */
#ifndef BPFLET_CTL_POLICY_MAPS_H
#define BPFLET_CTL_POLICY_MAPS_H

#include "tools/bpfletctl/ctl.h"

#include <bpflet/policy_abi.h>
#include <jansson.h>

struct pol_maps {
	int ipc, ipch, rules, eps, names, cnt; /* ipc: prefixes below /32; ipch: /32s */
	json_t *pods; /* "10.244.0.2" → "ns/name" (this node's registered pods) */
};

int pol_maps_open(const struct ctl *c, struct pol_maps *m);
void pol_maps_close(struct pol_maps *m);
const char *pol_ip_str(__be32 a, char *buf);
/* "ns/name" of a pod registered on this node, or NULL */
json_t *pol_pod_of(const struct pol_maps *m, __be32 a);
const char *pol_rule_name(const struct pol_maps *m, __u32 id, char *buf, size_t len);
/* "ns/name" of a registered pod or a dotted quad → address (network order); prints
 * why not and returns -1 otherwise */
int pol_resolve(const struct pol_maps *m, const char *what, __be32 *out);
/* The peer identity the programs find for addr (lib/policy.h pol_peer_id). */
__u32 pol_peer_id(const struct pol_maps *m, __be32 addr);
/* The entry of ep's for peer the programs find (pol_match): its classes for dir,
 * longest first. Returns 0 and the value, or -1 when none allows. */
int pol_match(const struct pol_maps *m, const struct bpflet_pol_ep *e, __be32 ep, __u32 peer,
	      __u8 dir, __u8 proto, __be16 port, struct bpflet_pol_val *out);
/* bpfletctl policy trace --from X --to Y[:PORT[/PROTO]] [--backend B] */
int pol_trace(const struct ctl *c, struct pol_maps *m, int argc, char **argv);

#endif
