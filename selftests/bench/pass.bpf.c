// SPDX-License-Identifier: GPL-2.0
/* The benchmark's baseline: the same parsing as tc_pod, then pass; and an empty
 * program that shows what BPF_PROG_TEST_RUN itself costs per run. */
#include "lib/parse.h"

#include <linux/pkt_cls.h>

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

char LICENSE[] SEC("license") = "GPL";
