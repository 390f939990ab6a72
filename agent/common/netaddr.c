#include "agent/common/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bl_addr_parse(const char *text, struct bpflet_addr *addr, uint8_t *family)
{
	struct in_addr in4;

	memset(addr, 0, sizeof(*addr));
	if (text && inet_pton(AF_INET, text, &in4) == 1) {
		addr->addr[0] = in4.s_addr;
		*family = BPFLET_AF_INET;
		return 0;
	}
	/* IPv6 is kept possible in the ABI; the dataplane does not serve it yet. */
	return -EINVAL;
}

const char *bl_addr_format(const struct bpflet_addr *addr, uint8_t family, char *buf, size_t len)
{
	struct in_addr in4 = {.s_addr = addr->addr[0]};

	if (family == BPFLET_AF_INET6) {
		if (!inet_ntop(AF_INET6, addr->addr, buf, len))
			snprintf(buf, len, "?");
	} else if (!inet_ntop(AF_INET, &in4, buf, len)) {
		snprintf(buf, len, "?");
	}
	return buf;
}

int bl_cidr4_parse(const char *text, struct bl_cidr4 *out)
{
	char ip[INET_ADDRSTRLEN];
	const char *slash = text ? strchr(text, '/') : NULL;
	struct in_addr in4;
	char *end;
	long plen;
	size_t n;

	if (!slash)
		return -EINVAL;
	n = (size_t)(slash - text);
	if (n == 0 || n >= sizeof(ip))
		return -EINVAL;
	memcpy(ip, text, n);
	ip[n] = '\0';
	if (inet_pton(AF_INET, ip, &in4) != 1)
		return -EINVAL;
	errno = 0;
	plen = strtol(slash + 1, &end, 10);
	if (errno || *end || end == slash + 1 || plen < 0 || plen > 32)
		return -EINVAL;
	out->plen = (uint8_t)plen;
	out->net = ntohl(in4.s_addr) & (plen ? ~0u << (32 - plen) : 0);
	return 0;
}

bool bl_cidr4_contains(const struct bl_cidr4 *c, uint32_t host_order_ip)
{
	uint32_t mask = c->plen ? ~0u << (32 - c->plen) : 0;

	return (host_order_ip & mask) == c->net;
}

const char *bl_proto_name(unsigned proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return "TCP";
	case IPPROTO_UDP:
		return "UDP";
	case IPPROTO_SCTP:
		return "SCTP";
	case IPPROTO_ICMP:
		return "ICMP";
	default:
		return "?";
	}
}
