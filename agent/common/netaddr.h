/* IPv4 text ↔ ABI address conversions shared by agent, CNI plugin and bpfletctl. */
#ifndef BPFLET_NETADDR_H
#define BPFLET_NETADDR_H

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* "10.96.0.10" → addr (network order in addr[0]), family set. Returns 0 or -EINVAL. */
int bl_addr_parse(const char *text, struct bpflet_addr *addr, uint8_t *family);
/* addr → text; buf needs 46 bytes. Returns buf. */
const char *bl_addr_format(const struct bpflet_addr *addr, uint8_t family, char *buf, size_t len);

/* "TCP", "UDP", "SCTP", "ICMP", or "?" for an IPPROTO_* number. */
const char *bl_proto_name(unsigned proto);

/* IPv4 CIDR "10.244.1.0/24" → network (host order) and prefix length. */
struct bl_cidr4 {
	uint32_t net; /* host order, masked */
	uint8_t plen;
};
int bl_cidr4_parse(const char *text, struct bl_cidr4 *out);
bool bl_cidr4_contains(const struct bl_cidr4 *c, uint32_t host_order_ip);

#endif
