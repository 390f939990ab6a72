#include "selftests/bpf/packet.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

static const uint8_t mac_pod[6] = {0x02, 0, 0, 0, 0, 0x04};
static const uint8_t mac_host[6] = {0x02, 0, 0, 0, 0, 0x01};

uint32_t ip4(const char *dotted)
{
	struct in_addr a;

	inet_pton(AF_INET, dotted, &a);
	return a.s_addr;
}

static uint32_t sum16(const uint8_t *p, size_t len, uint32_t sum)
{
	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

static uint32_t pseudo(const uint8_t *ip, uint8_t proto, uint16_t l4len)
{
	uint32_t sum = sum16(ip + 12, 8, 0);

	return sum + proto + l4len;
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

size_t pkt_build(uint8_t *b, const struct pkt_spec *s)
{
	size_t ihl = 20 + s->ip_options;
	uint8_t *ip = b + OFF_IP, *l4 = ip + ihl;
	bool opts = s->tcp_options || s->wscale_opt || s->mss;
	size_t l4hdr = s->proto == IPPROTO_TCP ? (opts ? 40 : 20) : 8;
	size_t l4len = l4hdr + s->payload, total = ihl + l4len;
	uint32_t saddr = ip4(s->src), daddr = ip4(s->dst);

	memset(b, 0, 14 + total);
	memcpy(b + OFF_ETH_DST, mac_host, 6);
	memcpy(b + OFF_ETH_SRC, mac_pod, 6);
	put16(b + 12, 0x0800);
	ip[0] = (uint8_t)(0x40 | ihl / 4);
	put16(ip + 2, (uint16_t)total);
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000); /* DF */
	ip[8] = 64;
	ip[9] = s->proto;
	memcpy(ip + 12, &saddr, 4);
	memcpy(ip + 16, &daddr, 4);
	memset(ip + 20, 1, s->ip_options); /* NOPs */
	put16(ip + 10, fold(sum16(ip, ihl, 0)));
	for (size_t i = 0; i < s->payload; i++)
		l4[l4hdr + i] = (uint8_t)('a' + i % 26);
	if (s->proto == IPPROTO_TCP) {
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put32(l4 + 4, s->seq);
		put32(l4 + 8, s->ack);
		l4[12] = (uint8_t)((l4hdr / 4) << 4);
		l4[13] = s->tcp_flags;
		put16(l4 + 14, s->window ? s->window : 64240);
		for (size_t i = 20; i < l4hdr; i++)
			l4[i] = 1; /* NOPs */
		if (s->mss) {	   /* kind 2, length 4 */
			l4[20] = 2;
			l4[21] = 4;
			put16(l4 + 22, s->mss);
		}
		if (s->wscale_opt) { /* NOP, then window scale (kind 3, length 3) */
			l4[25] = 3;
			l4[26] = 3;
			l4[27] = s->wscale;
		}
		put16(l4 + 16, fold(sum16(l4, l4len, pseudo(ip, IPPROTO_TCP, (uint16_t)l4len))));
	} else if (s->proto == IPPROTO_UDP) {
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		put16(l4 + 4, (uint16_t)l4len);
		if (!s->udp_no_csum) {
			uint16_t c =
				fold(sum16(l4, l4len, pseudo(ip, IPPROTO_UDP, (uint16_t)l4len)));

			put16(l4 + 6, c ? c : 0xffff);
		}
	} else if (s->proto == IPPROTO_ICMP) {
		l4[0] = 8; /* echo request */
		put16(l4 + 4, s->sport);
		put16(l4 + 6, s->dport);
		put16(l4 + 2, fold(sum16(l4, l4len, 0)));
	}
	return 14 + total;
}

uint16_t pkt_udp_csum_calc(const uint8_t *p)
{
	const uint8_t *ip = p + OFF_IP, *l4 = ip + (ip[0] & 0xf) * 4;
	uint16_t l4len = (uint16_t)(l4[4] << 8 | l4[5]);
	uint32_t sum = sum16(l4, 6, pseudo(ip, IPPROTO_UDP, l4len));

	return fold(sum16(l4 + 8, l4len - 8u, sum));
}

uint32_t pkt_ip_src(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p + OFF_IP_SRC, 4);
	return v;
}

uint32_t pkt_ip_dst(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p + OFF_IP_DST, 4);
	return v;
}

uint16_t pkt_sport(const uint8_t *p)
{
	return (uint16_t)(p[OFF_L4] << 8 | p[OFF_L4 + 1]);
}

uint16_t pkt_dport(const uint8_t *p)
{
	return (uint16_t)(p[OFF_L4 + 2] << 8 | p[OFF_L4 + 3]);
}

uint16_t pkt_udp_csum(const uint8_t *p)
{
	return (uint16_t)(p[OFF_L4 + 6] << 8 | p[OFF_L4 + 7]);
}

bool pkt_csums_ok(const uint8_t *p, size_t len, char *why, size_t n)
{
	const uint8_t *ip = p + OFF_IP;
	size_t ihl, total, l4len;

	if (len < 34) {
		snprintf(why, n, "frame of %zu bytes is too short", len);
		return false;
	}
	ihl = (size_t)(ip[0] & 0xf) * 4;
	total = (size_t)(ip[2] << 8 | ip[3]);
	if (14 + total != len) {
		snprintf(why, n, "IP total length %zu does not match frame length %zu", total, len);
		return false;
	}
	if (fold(sum16(ip, ihl, 0)) != 0) {
		snprintf(why, n, "bad IP header checksum");
		return false;
	}
	l4len = total - ihl;
	if (ip[9] == IPPROTO_UDP && (p[14 + ihl + 6] | p[14 + ihl + 7]) == 0)
		return true; /* no checksum */
	if (ip[9] == IPPROTO_TCP || ip[9] == IPPROTO_UDP) {
		if (fold(sum16(ip + ihl, l4len, pseudo(ip, ip[9], (uint16_t)l4len))) != 0) {
			snprintf(why, n, "bad %s checksum", ip[9] == IPPROTO_TCP ? "TCP" : "UDP");
			return false;
		}
	} else if (ip[9] == IPPROTO_ICMP && fold(sum16(ip + ihl, l4len, 0)) != 0) {
		snprintf(why, n, "bad ICMP checksum");
		return false;
	}
	return true;
}

size_t pkt_icmp_error(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code,
		      const struct pkt_spec *q, size_t qlen)
{
	uint8_t inner[PKT_MAX];
	size_t ilen = pkt_build(inner, q) - OFF_IP, n;
	struct pkt_spec o = {.src = src, .dst = dst, .proto = IPPROTO_ICMP};
	uint8_t *icmp;
	uint16_t c;

	if (qlen && qlen < ilen)
		ilen = qlen;
	o.payload = (uint16_t)ilen;
	n = pkt_build(b, &o);
	icmp = b + OFF_L4;
	memset(icmp, 0, 8);
	icmp[0] = type;
	icmp[1] = code;
	if (type == 3 && code == 4)
		put16(icmp + 6, 1400); /* next-hop MTU */
	memcpy(icmp + 8, inner + OFF_IP, ilen);
	c = fold(sum16(icmp, 8 + ilen, 0));
	put16(icmp + 2, c);
	return n;
}

bool pkt_quote_csums_ok(const uint8_t *frame, char *why, size_t n)
{
	uint8_t q[PKT_MAX];
	size_t qlen = (size_t)(frame[OFF_L4 + 8 + 2] << 8 | frame[OFF_L4 + 9 + 2]);

	memcpy(q, frame, OFF_IP);
	memcpy(q + OFF_IP, frame + OFF_L4 + 8, qlen);
	return pkt_csums_ok(q, OFF_IP + qlen, why, n);
}

void pkt_set_frag(uint8_t *f, uint16_t off8, bool mf)
{
	uint8_t *ip = f + OFF_IP;

	put16(ip + 6, (uint16_t)((mf ? 0x2000 : 0) | off8));
	put16(ip + 10, 0);
	put16(ip + 10, fold(sum16(ip, 20, 0)));
}

bool pkt_ip_csum_ok(const uint8_t *f)
{
	return fold(sum16(f + OFF_IP, (size_t)(f[OFF_IP] & 0xf) * 4, 0)) == 0;
}
