/* Crafting test packets (Ethernet/IPv4/TCP|UDP|ICMP, valid checksums) and checking the
 * ones the program sends back. */
#ifndef BPFLET_TEST_PACKET_H
#define BPFLET_TEST_PACKET_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PKT_MAX 1600

struct pkt_spec {
	const char *src, *dst; /* dotted quads */
	uint16_t sport, dport; /* host order */
	uint8_t proto;	       /* IPPROTO_TCP / UDP / ICMP */
	uint8_t tcp_flags;     /* FIN 1, SYN 2, RST 4, PSH 8, ACK 16 */
	uint32_t seq, ack;
	uint16_t payload;   /* bytes of payload */
	bool udp_no_csum;   /* UDP checksum 0 (none) */
	bool tcp_options;   /* 20 bytes of TCP options (a SYN's MSS/SACK/TS...) */
	bool wscale_opt;    /* those options carry a window scale option (implies tcp_options) */
	uint8_t wscale;	    /* its shift count */
	uint16_t window;    /* TCP window field; 0 means 64240 */
	uint16_t mss;	    /* an MSS option first in the options (implies tcp_options) */
	uint8_t ip_options; /* bytes of IPv4 options (NOPs), a multiple of 4 */
};

/* Field offsets in a frame built by pkt_build without IP options. */
#define OFF_ETH_DST  0
#define OFF_ETH_SRC  6
#define OFF_IP	     14
#define OFF_IP_LEN   (OFF_IP + 2)
#define OFF_IP_PROTO (OFF_IP + 9)
#define OFF_IP_SRC   (OFF_IP + 12)
#define OFF_IP_DST   (OFF_IP + 16)
#define OFF_L4	     34

size_t pkt_build(uint8_t *buf, const struct pkt_spec *s);

/* Readers of a frame */
uint32_t pkt_ip_src(const uint8_t *p); /* network order */
uint32_t pkt_ip_dst(const uint8_t *p);
uint16_t pkt_sport(const uint8_t *p); /* host order */
uint16_t pkt_dport(const uint8_t *p);
uint16_t pkt_udp_csum(const uint8_t *p);
/* The UDP checksum the frame should carry, computed over it (0 stays a possible result:
 * on the wire it must be sent as 0xffff). */
uint16_t pkt_udp_csum_calc(const uint8_t *p);

/* Verifies the IPv4 header checksum and the L4 checksum (TCP, UDP unless 0, ICMP).
 * Writes the reason on failure. */
bool pkt_csums_ok(const uint8_t *p, size_t len, char *why, size_t whylen);

uint32_t ip4(const char *dotted); /* network order */

/* An ICMP error src → dst of type/code quoting the IPv4 packet built from q (whole, or
 * its first qlen bytes when qlen is non-zero); frag-needed says MTU 1400. Returns the
 * frame length. */
size_t pkt_icmp_error(uint8_t *b, const char *src, const char *dst, uint8_t type, uint8_t code,
		      const struct pkt_spec *q, size_t qlen);
/* Makes a frame built by pkt_build a fragment: offset in 8-byte units, MF; IP checksum
 * fixed. */
void pkt_set_frag(uint8_t *frame, uint16_t off8, bool mf);
/* Whether the frame's IPv4 header checksum verifies. */
bool pkt_ip_csum_ok(const uint8_t *frame);
/* The checksums of the packet quoted inside an ICMP error frame. */
bool pkt_quote_csums_ok(const uint8_t *frame, char *why, size_t n);

#endif
