// SPDX-License-Identifier: GPL-2.0
/* The benchmark's baselines: the same parsing as tc_pod, then pass; an empty
 * program that shows what BPF_PROG_TEST_RUN itself costs per run; and two "floor"
 * programs that parse and do exactly one conntrack-sized LRU lookup and nothing
 * else: no program that follows conntrack can be cheaper than one hash lookup, so
 * these show how much of the established path is the lookup itself. */
#include "floor_key.h"
#include "lib/parse.h"

#include <bpflet/abi.h>
#include <linux/pkt_cls.h>

/* same key and value as tc_pod's TCP conntrack (40-byte key) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct bpflet_ct_key);
	__type(value, struct bpflet_ct_val);
} floor_ct SEC(".maps");

/* an IPv4-only key: 16 bytes instead of 40, hashed and compared in fewer words */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct floor_ct4_key);
	__type(value, struct bpflet_ct_val);
} floor_ct4 SEC(".maps");

SEC("tcx/ingress")
int tc_pass(struct __sk_buff *skb)
{
	struct pkt p = {};

	return parse_pkt(skb, &p) == PARSE_MALFORMED ? TC_ACT_SHOT : TC_ACT_OK;
}

SEC("tcx/ingress")
int tc_nothing(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

/* parse + one lookup with tc_pod's 40-byte key; passes only on a hit */
SEC("tcx/ingress")
int tc_ct_floor(struct __sk_buff *skb)
{
	struct bpflet_ct_key k;
	struct pkt p = {};

	if (parse_pkt(skb, &p) != PARSE_L4)
		return TC_ACT_SHOT;
	__builtin_memset(&k, 0, sizeof(k));
	k.saddr.addr[0] = p.saddr;
	k.daddr.addr[0] = p.daddr;
	k.sport = p.sport;
	k.dport = p.dport;
	k.proto = p.proto;
	k.family = BPFLET_AF_INET;
	return bpf_map_lookup_elem(&floor_ct, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

/* parse + one lookup with a 16-byte IPv4 key; passes only on a hit */
SEC("tcx/ingress")
int tc_ct4_floor(struct __sk_buff *skb)
{
	struct floor_ct4_key k;
	struct pkt p = {};

	if (parse_pkt(skb, &p) != PARSE_L4)
		return TC_ACT_SHOT;
	__builtin_memset(&k, 0, sizeof(k));
	k.saddr = p.saddr;
	k.daddr = p.daddr;
	k.sport = p.sport;
	k.dport = p.dport;
	k.proto = p.proto;
	return bpf_map_lookup_elem(&floor_ct4, &k) ? TC_ACT_OK : TC_ACT_SHOT;
}

/* A second, trivial XDP program: the coexistence test attaches it beside xdp_uplink */
SEC("xdp")
int xdp_nothing(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
