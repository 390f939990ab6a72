/* Shared NetworkPolicy semantics (see netpol_rules.h). */
#include "controlplane/compile/netpol_rules.h"

#include "agent/common/fnv.h"
#include "controlplane/compile/label_selector.h"
#include "controlplane/compile/netpol.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool cidr_inside(const struct bl_cidr4 *outer, const struct bl_cidr4 *inner)
{
	return inner->plen >= outer->plen && bl_cidr4_contains(outer, inner->net);
}

void bl_np_block_bits(const struct bl_np_block *blocks, size_t n, const struct bl_cidr4 *r,
		      char *bits)
{
	for (size_t j = 0; j < n; j++) {
		const struct bl_np_block *b = &blocks[j];
		bool in = cidr_inside(&b->cidr, r);

		for (size_t x = 0; in && x < b->n_ex; x++)
			if (cidr_inside(&b->ex[x], r))
				in = false;
		bits[j] = in ? '1' : '0';
	}
	bits[n] = '\0';
}

char *bl_np_pod_sig(const char *bits, const char *ns, const json_t *labels,
		    const json_t *containers)
{
	char *l, *ports, *sig = NULL;
	json_t *all = json_array();
	size_t i;
	json_t *ct;

	json_array_foreach(containers, i, ct) json_array_extend(all, json_object_get(ct, "ports"));
	l = labels ? json_dumps(labels, JSON_COMPACT | JSON_SORT_KEYS) : strdup("{}");
	ports = json_dumps(all, JSON_COMPACT | JSON_SORT_KEYS);
	if (l && ports && asprintf(&sig, "P%s\n%s\n%s\n%s", bits, ns, l, ports) < 0)
		sig = NULL;
	free(l);
	free(ports);
	json_decref(all);
	return sig;
}

uint32_t bl_np_fnv1a(const char *s)
{
	return bl_fnv1a32(s, strlen(s));
}

void bl_np_rule_fill(struct bl_pol_rule *r, uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto,
		     uint16_t port, uint32_t plen, uint32_t rule_id)
{
	memset(r, 0, sizeof(*r));
	r->key.prefixlen = plen;
	r->key.ep_addr = htonl(ep);
	r->key.peer_id = peer;
	r->key.dir = dir;
	if (plen > BPFLET_POL_PLEN_DIR)
		r->key.proto = proto;
	if (plen > BPFLET_POL_PLEN_PROTO)
		r->key.port = htons(port);
	r->val.rule_id = rule_id;
}

bool bl_np_lists_type(const json_t *spec, const char *type)
{
	const json_t *types = json_object_get(spec, "policyTypes");
	size_t i;
	json_t *v;

	if (json_array_size(types) == 0) /* default: Ingress, Egress when egress is set */
		return !strcmp(type, "Ingress") || (json_object_get(spec, "egress") &&
						    !json_is_null(json_object_get(spec, "egress")));
	json_array_foreach(types, i, v)
	{
		if (!strcmp(json_string_value(v), type))
			return true;
	}
	return false;
}

const json_t *bl_np_v4_block(const json_t *peer)
{
	const json_t *b = json_object_get(peer, "ipBlock");
	const char *cidr = json_string_value(json_object_get(b, "cidr"));

	return cidr && !strchr(cidr, ':') ? b : NULL;
}

bool bl_np_peer_matches(const struct bl_np_ident *k, const json_t *peer, const char *pol_ns,
			size_t block_idx, size_t n_blocks)
{
	const json_t *ps = json_object_get(peer, "podSelector");
	const json_t *nss = json_object_get(peer, "namespaceSelector");

	if (json_object_get(peer, "ipBlock"))
		return bl_np_v4_block(peer) && block_idx < n_blocks &&
		       k->block_bits[block_idx] == '1';
	if (!k->ns)
		return false;
	if (nss ? !bl_selector_matches(nss, k->ns_labels) : strcmp(k->ns, pol_ns))
		return false;
	return !ps || bl_selector_matches(ps, k->labels);
}

static uint8_t proto_of(const json_t *pt)
{
	const char *pr = json_string_value(json_object_get(pt, "protocol"));

	return !pr || !strcmp(pr, "TCP") ? IPPROTO_TCP
	       : !strcmp(pr, "UDP")	 ? IPPROTO_UDP
					 : IPPROTO_SCTP;
}

/* A container port by name and protocol; 0 when there is none. */
static uint16_t named_port(const json_t *containers, const char *name, uint8_t proto)
{
	size_t i, j;
	json_t *ct, *pt;

	json_array_foreach(containers, i, ct)
	{
		json_array_foreach(json_object_get(ct, "ports"), j, pt)
		{
			const char *n = json_string_value(json_object_get(pt, "name"));

			if (n && !strcmp(n, name) && proto_of(pt) == proto)
				return (uint16_t)json_integer_value(
					json_object_get(pt, "containerPort"));
		}
	}
	return 0;
}

bool bl_np_has_named_port(const json_t *ports)
{
	size_t i;
	json_t *pt;

	json_array_foreach(ports, i, pt)
	{
		if (json_is_string(json_object_get(pt, "port")))
			return true;
	}
	return false;
}

int bl_np_emit_ports(uint32_t ep, const json_t *ep_containers, uint32_t peer,
		     const json_t *peer_containers, uint8_t dir, const json_t *ports,
		     uint32_t rule_id, bl_np_push_fn push, void *ctx)
{
	size_t i;
	json_t *pt;
	int e;

	if (json_array_size(ports) == 0)
		return push(ctx, ep, peer, dir, 0, 0, BPFLET_POL_PLEN_DIR, rule_id);
	json_array_foreach(ports, i, pt)
	{
		const json_t *port = json_object_get(pt, "port");
		uint8_t proto = proto_of(pt);
		uint16_t lo, hi, bases[32];
		uint8_t plens[32];
		size_t n;

		if (!port || json_is_null(port)) {
			if ((e = push(ctx, ep, peer, dir, proto, 0, BPFLET_POL_PLEN_PROTO,
				      rule_id)))
				return e;
			continue;
		}
		if (json_is_string(port)) {
			/* named: resolved on the destination pod */
			const json_t *dst =
				dir == BPFLET_POL_INGRESS ? ep_containers : peer_containers;

			lo = dst ? named_port(dst, json_string_value(port), proto) : 0;
			if (!lo)
				continue;
			hi = lo;
		} else {
			const json_t *end = json_object_get(pt, "endPort");

			lo = (uint16_t)json_integer_value(port);
			hi = json_is_integer(end) ? (uint16_t)json_integer_value(end) : lo;
		}
		n = bl_port_range_prefixes(lo, hi, bases, plens);
		for (size_t k = 0; k < n; k++)
			if ((e = push(ctx, ep, peer, dir, proto, bases[k],
				      BPFLET_POL_PLEN_PROTO + plens[k], rule_id)))
				return e;
	}
	return 0;
}
