/* The xdp_uplink test fixture (test_xdp_uplink.c), shared with the conntrack window
 * cases (test_ct_tcp.c) and the DSR cases: one skeleton, maps emptied per case. */
#ifndef BPFLET_TEST_XDP_UTIL_H
#define BPFLET_TEST_XDP_UTIL_H

#include "selftests/bpf/packet.h"

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NODE	"192.168.77.1"
#define CLIENT	"192.168.77.100"
#define LOCALBE "10.244.1.5"
#define REMOTE	"10.244.2.5"
#define NP	30080

struct xdp_uplink;
extern struct xdp_uplink *xdp_skel;

/* Loads the program once (node 192.168.77.1); empties maps and counters. */
bool xdp_fresh(void);
unsigned long long xdp_counter(enum bpflet_counter c);
/* An external TCP frontend {addr, port} → one backend at be_ip:8080 (none: NULL). */
void xdp_frontend(const char *addr, uint16_t port, const char *be_ip, bool local, uint16_t flags);
void xdp_frontend_proto(const char *addr, uint16_t port, uint8_t proto, const char *be_ip,
			bool local, uint16_t flags);
bool xdp_ct_get(const char *s, uint16_t sp, const char *d, uint16_t dp, struct bpflet_ct_val *out);
/* Runs a frame; returns the verdict or -errno (and the output's length). */
int xdp_run_frame(const uint8_t *in, size_t len, uint8_t *out, uint32_t *out_len);
/* Builds the packet into in, runs it; returns the verdict or -errno. */
int xdp_run(const struct pkt_spec *s, uint8_t *out, uint8_t *in, size_t *len);
/* TX, REDIRECT, or the counted drop when test_run's namespace has no route */
bool xdp_forwarded(int verdict);
/* The same, the no-route counter having been no_route_before when it ran. */
bool xdp_sent(int verdict, unsigned long long no_route_before);
/* What the FIB decides in a sent frame (MACs, TTL, so the IP checksum) copied from want,
 * so the rest compares byte for byte. */
void xdp_fib_part_aside(uint8_t *out, const uint8_t *want);

#endif
