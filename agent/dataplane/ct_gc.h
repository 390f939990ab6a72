/*
 * Conntrack garbage collection in userspace: entries idle past their protocol's and
 * TCP state's timeout are deleted (both directions of a flow together, judged on the
 * flow's combined state and newest activity), and UDP/other flows whose backend left
 * their Service are purged so clients move on at once. LRU eviction in the kernel
 * stays as the last resort when the maps fill faster than GC runs.
 */
#ifndef BPFLET_CT_GC_H
#define BPFLET_CT_GC_H

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stdint.h>

/* Idle timeouts in seconds. */
struct bl_ct_timeouts {
	uint32_t tcp_syn;	  /* handshake not completed (no SYN-ACK seen) */
	uint32_t tcp_established; /* SYN-ACK seen, no FIN/RST */
	uint32_t tcp_closing;	  /* FIN or RST seen */
	uint32_t other;		  /* UDP and other protocols */
};

#define BL_CT_TIMEOUTS_DEFAULT                                                                     \
	{                                                                                          \
		.tcp_syn = 60, .tcp_established = 21600, .tcp_closing = 10, .other = 60            \
	}

struct bl_ct_gc_stats {
	unsigned long scanned;
	unsigned long expired;	    /* deleted as idle */
	unsigned long backend_gone; /* deleted because the backend left the Service */
	unsigned long errors;	    /* deletes that failed (other than already gone) */
};

/* Is backend_id still a backend of svc_id? NULL: do not purge. */
typedef bool (*bl_ct_live_fn)(void *arg, uint32_t svc_id, uint32_t backend_id);

/* The timeout (seconds) of a flow with combined BPFLET_CT_F_* flags. */
uint32_t bl_ct_timeout(const struct bl_ct_timeouts *t, bool tcp, uint8_t flags);

/* One pass over a conntrack map (tcp: the TCP map's semantics). now_ns is
 * CLOCK_MONOTONIC_COARSE, the clock the programs stamp entries with. live is consulted
 * for non-TCP entries only (kube-proxy clears UDP conntrack of removed endpoints; TCP
 * flows end on their own). expire=false: purge only. Adds to *st; returns 0 or -errno
 * of a failed walk. */
int bl_ct_gc_run(int ct_fd, bool tcp, uint64_t now_ns, const struct bl_ct_timeouts *t, bool expire,
		 bl_ct_live_fn live, void *arg, struct bl_ct_gc_stats *st);

#endif
