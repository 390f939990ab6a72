/* TCP conntrack hygiene: invalid flag combinations and segments outside a flow's
 * window are dropped instead of reaching a backend (or the node's stack).
 *
 * Window tracking follows Linux conntrack's tcp_in_window (van Rooij's rules): a
 * sender's sequence numbers must lie between (its highest end - the receiver's largest
 * window) and (the receiver's highest ack + window); its acks must not run far ahead
 * of or far behind what the receiver can have sent. Each conntrack entry keeps its own
 * direction's values (struct bpflet_ct_tcp_win), written only by its own packets,
 * plus a copy of the peer's limits. The copy is refreshed from the peer entry (a
 * second lookup) only when a segment falls outside it, which on a steady flow is once
 * per window's worth of data, not per packet. The ack check uses the sender's own
 * limit instead of the peer's exact end: up to one window more tolerant than Linux,
 * still far from anything a blind injection could count on.
 */
#ifndef BPFLET_BPF_CT_TCP_H
#define BPFLET_BPF_CT_TCP_H

#include "lib/conntrack.h"
#include "lib/nat.h"

#define TCPF_URG 0x20
/* PSH, ECE and CWR never make a combination invalid (Linux masks them too) */
#define TCP_FLAGS_MASK (TCPF_FIN | TCPF_SYN | TCPF_RST | TCPF_ACK | TCPF_URG)
#define TCP_FL(f)      (1ull << (f))
/* Linux's tcp_valid_flags as a bit set indexed by the masked flags byte */
#define TCP_VALID_FLAGS                                                                            \
	(TCP_FL(TCPF_SYN) | TCP_FL(TCPF_SYN | TCPF_URG) | TCP_FL(TCPF_SYN | TCPF_ACK) |            \
	 TCP_FL(TCPF_RST) | TCP_FL(TCPF_RST | TCPF_ACK) | TCP_FL(TCPF_FIN | TCPF_ACK) |            \
	 TCP_FL(TCPF_FIN | TCPF_ACK | TCPF_URG) | TCP_FL(TCPF_ACK) | TCP_FL(TCPF_ACK | TCPF_URG))

#define CT_WSCALE_MAX 14    /* RFC 7323 */
#define CT_MAXACKWIN  66000 /* Linux's MAXACKWINCONST: the least ack tolerance */
#define TCPOPT_WSCALE 3
#define TCP_OPTS_MAX  40
#define WSCALE_ABSENT 0xff

enum ct_tcp_verdict {
	CT_TCP_OK = 0,
	CT_TCP_INVALID, /* flag combination or header no sender may produce */
	CT_TCP_WINDOW,	/* outside the flow's window */
};

static __always_inline bool tcp_flags_valid(__u8 flags)
{
	return (TCP_VALID_FLAGS >> (flags & TCP_FLAGS_MASK)) & 1;
}

/* Only a bare SYN (URG, PSH, ECE, CWR aside) opens a flow. */
static __always_inline bool tcp_opens_flow(__u8 flags)
{
	return (flags & TCP_FLAGS_MASK & ~TCPF_URG) == TCPF_SYN;
}

static __always_inline bool seq_before(__u32 a, __u32 b)
{
	return (__s32)(a - b) < 0;
}

static __always_inline bool seq_after(__u32 a, __u32 b)
{
	return (__s32)(b - a) < 0;
}

/* What window tracking needs of one segment (sequence numbers in host order). */
struct tcp_seg {
	__u32 seq, end, ack;
	__u16 win;   /* as sent: scaled by the sender's factor unless it is a SYN */
	__u8 flags;  /* FIN SYN RST ACK URG */
	__u8 wscale; /* SYN only: the window scale option, WSCALE_ABSENT without one */
};

/* The window scale option of a SYN whose options start at opt. Options that cannot be
 * read count as "offered, 14": tolerant rather than strict with a wrong factor. */
static __noinline __u8 tcp_opt_wscale(__u8 *opt, void *data_end, __u32 optlen)
{
	__u32 i = 0;

	for (int n = 0; n < TCP_OPTS_MAX; n++) {
		__u8 kind, len;

		if (i >= optlen)
			break;
		i &= 0x3f; /* no change (i < 40): a bound the verifier can see */
		if ((void *)(opt + i + 1) > data_end)
			return CT_WSCALE_MAX;
		kind = opt[i];
		if (kind == 0)
			break;
		if (kind == 1) {
			i++;
			continue;
		}
		if ((void *)(opt + i + 2) > data_end)
			return CT_WSCALE_MAX;
		len = opt[i + 1];
		if (kind == TCPOPT_WSCALE && len == 3) {
			if ((void *)(opt + i + 3) > data_end)
				return CT_WSCALE_MAX;
			return opt[i + 2] > CT_WSCALE_MAX ? CT_WSCALE_MAX : opt[i + 2];
		}
		if (len < 2)
			break;
		i += len;
	}
	return WSCALE_ABSENT;
}

/* Reads the TCP header at p->l4_off. -1: a header no sender produces (data offset past
 * the packet). */
static __always_inline int tcp_seg_read(void *data, void *data_end, const struct pkt *p,
					struct tcp_seg *s)
{
	__u32 off = p->l4_off, hlen, len;
	struct tcphdr *th;

	if (off > L4_OFF_MAX)
		return -1;
	asm volatile("%0 &= 0xff" : "+r"(off)); /* the bound, in the register used */
	th = data + off;
	if ((void *)(th + 1) > data_end)
		return -1;
	hlen = th->doff * 4;
	if (p->ip_len < p->ihl + hlen)
		return -1;
	len = p->ip_len - p->ihl - hlen;
	s->flags = p->tcp_flags & TCP_FLAGS_MASK;
	s->seq = bpf_ntohl(th->seq);
	s->ack = bpf_ntohl(th->ack_seq);
	s->win = bpf_ntohs(th->window);
	s->end = s->seq + len + !!(s->flags & TCPF_SYN) + !!(s->flags & TCPF_FIN);
	s->wscale = WSCALE_ABSENT;
	if (s->flags & TCPF_SYN)
		s->wscale = tcp_opt_wscale((__u8 *)(th + 1), data_end, hlen - sizeof(*th));
	return 0;
}

/* A SYN (or SYN-ACK) starts its sender's record. The window in a SYN is never scaled. */
static __always_inline void ct_tcp_win_init(struct bpflet_ct_tcp_win *w, const struct tcp_seg *s)
{
	__builtin_memset(w, 0, sizeof(*w));
	w->end = s->end;
	w->peer_limit = s->end; /* nothing may be sent past the SYN before the peer acks it */
	w->maxwin = s->win ? s->win : 1;
	w->state = BPFLET_CT_W_TRACKED;
	if (s->wscale != WSCALE_ABSENT) {
		w->wscale = s->wscale;
		w->state |= BPFLET_CT_W_WSCALE;
	}
	if (s->flags & TCPF_ACK) {
		w->ack_limit = s->ack + w->maxwin;
		w->state |= BPFLET_CT_W_ACKED;
	}
}

/* A SYN on an existing entry: a retransmitted or re-opening handshake, or a SYN-ACK.
 * Inside an open flow it passes without touching the record (Linux ignores it too),
 * so a blind SYN cannot move the window. */
static __noinline int ct_tcp_syn(struct bpflet_ct_val *ct, const struct bpflet_ct_key *self,
				 const struct tcp_seg *s)
{
	struct bpflet_ct_tcp_win *w = &ct->win;
	bool closed = ct->flags & (BPFLET_CT_F_FIN_SEEN | BPFLET_CT_F_RST_SEEN);
	struct bpflet_ct_val *peer;
	struct bpflet_ct_key pk;

	if ((w->state & BPFLET_CT_W_DATA) && !closed)
		return CT_TCP_OK;
	bpflet_ct_peer_key(&pk, self, ct);
	peer = bpf_map_lookup_elem(&bl_ct_tcp_v2, &pk);
	ct_tcp_win_init(w, s);
	if (closed) /* the tuple is re-used: a new connection, not a closing one */
		ct->flags &= ~(BPFLET_CT_F_FIN_SEEN | BPFLET_CT_F_RST_SEEN);
	if (!peer) {
		w->state |= BPFLET_CT_W_ONEWAY;
		return CT_TCP_OK;
	}
	if (!(s->flags & TCPF_ACK)) {
		/* the peer answers with a SYN-ACK that starts its record afresh */
		if (closed) {
			__builtin_memset(&peer->win, 0, sizeof(peer->win));
			peer->flags &= ~(BPFLET_CT_F_SYNACK_SEEN | BPFLET_CT_F_FIN_SEEN |
					 BPFLET_CT_F_RST_SEEN);
		}
		return CT_TCP_OK;
	}
	/* SYN-ACK: scaling holds only when both SYNs offered it (RFC 7323) */
	if (!(w->state & BPFLET_CT_W_WSCALE) || !(peer->win.state & BPFLET_CT_W_WSCALE)) {
		w->wscale = 0;
		peer->win.wscale = 0;
	}
	w->peer_maxwin = peer->win.maxwin;
	peer->win.peer_limit = w->ack_limit;
	peer->win.peer_maxwin = w->maxwin;
	return CT_TCP_OK;
}

/* An entry that has not seen its sender's SYN (taken over from an older agent, or a
 * first packet that is not a SYN): learn from this segment, assuming the largest window
 * scale, as Linux does when it picks up a connection. */
static __always_inline void ct_tcp_pickup(struct bpflet_ct_tcp_win *w, const struct tcp_seg *s)
{
	__u32 swin = (__u32)s->win << CT_WSCALE_MAX;

	w->wscale = CT_WSCALE_MAX;
	w->end = s->end;
	w->maxwin = swin ? swin : 1;
	w->peer_limit = s->end + w->maxwin;
	w->peer_maxwin = 0;
	w->state = BPFLET_CT_W_TRACKED | BPFLET_CT_W_PICKUP | BPFLET_CT_W_DATA;
	if (s->flags & TCPF_ACK) {
		w->ack_limit = s->ack + w->maxwin;
		w->state |= BPFLET_CT_W_ACKED;
	}
}

/* The segment's sequence range against the (copied) peer limits. */
static __always_inline bool ct_tcp_seq_ok(const struct bpflet_ct_tcp_win *w,
					  const struct tcp_seg *s)
{
	if (seq_after(s->seq, w->peer_limit))
		return false; /* past what the receiver allowed */
	/* older than the receiver's largest window (unknown yet: 0, not checked) */
	return !w->peer_maxwin || seq_after(s->end, w->end - w->peer_maxwin - 1);
}

/* Copies the peer entry's limits. Returns true when the segment should be judged
 * again, false when there is nothing to judge it by (the peer is not tracked here). */
static __noinline bool ct_tcp_refresh(struct bpflet_ct_val *ct, const struct bpflet_ct_key *self)
{
	struct bpflet_ct_tcp_win *w = &ct->win;
	struct bpflet_ct_val *peer;
	struct bpflet_ct_key pk;

	bpflet_ct_peer_key(&pk, self, ct);
	peer = bpf_map_lookup_elem(&bl_ct_tcp_v2, &pk);
	if (!peer) {
		w->state |= BPFLET_CT_W_ONEWAY;
		return false;
	}
	if (!(peer->win.state & BPFLET_CT_W_TRACKED))
		return false;
	if (peer->win.state & BPFLET_CT_W_ACKED)
		w->peer_limit = peer->win.ack_limit;
	w->peer_maxwin = peer->win.maxwin;
	return true;
}

/* Judges one TCP segment of the flow whose entry ct (found with key self) it matched,
 * and records it. Runs before any rewrite. */
static __always_inline int ct_tcp_track(struct bpflet_ct_val *ct, const struct bpflet_ct_key *self,
					void *data, void *data_end, const struct pkt *p)
{
	struct bpflet_ct_tcp_win *w = &ct->win;
	struct tcp_seg s;
	__u32 swin, lim, slack;

	if (!tcp_flags_valid(p->tcp_flags))
		return CT_TCP_INVALID;
	if (ct->flags & BPFLET_CT_F_DSR)
		return CT_TCP_OK; /* the replies go straight to the client: one side only */
	if (tcp_seg_read(data, data_end, p, &s))
		return CT_TCP_INVALID;
	if (s.flags & TCPF_SYN)
		return ct_tcp_syn(ct, self, &s);
	if (!(w->state & BPFLET_CT_W_TRACKED)) {
		ct_tcp_pickup(w, &s);
		return CT_TCP_OK;
	}
	if (!(w->state & BPFLET_CT_W_ONEWAY) && !ct_tcp_seq_ok(w, &s) && ct_tcp_refresh(ct, self) &&
	    !ct_tcp_seq_ok(w, &s))
		return CT_TCP_WINDOW;
	swin = (__u32)s.win << (w->wscale & 0xf);
	if ((s.flags & TCPF_ACK) && (w->state & BPFLET_CT_W_ACKED)) {
		/* the peer sent at most up to this side's own limit (plus a segment that
		 * started inside it); an ack far behind it is a stale or forged one */
		slack = w->maxwin > CT_MAXACKWIN ? w->maxwin : CT_MAXACKWIN;
		if (seq_after(s.ack, w->ack_limit + slack) ||
		    !seq_after(s.ack, w->ack_limit - w->maxwin - slack - 1))
			return CT_TCP_WINDOW;
	}
	/* record: plain stores, and only of what moved */
	if (seq_after(s.end, w->end))
		w->end = s.end;
	if (s.flags & TCPF_ACK) {
		lim = s.ack + (swin ? swin : 1);
		if (!(w->state & BPFLET_CT_W_ACKED) || seq_after(lim, w->ack_limit)) {
			w->ack_limit = lim;
			w->state |= BPFLET_CT_W_ACKED;
		}
		if (swin > w->maxwin)
			w->maxwin = swin;
	}
	if (!(w->state & BPFLET_CT_W_DATA))
		w->state |= BPFLET_CT_W_DATA;
	return CT_TCP_OK;
}

/* The forward entry of a new flow, from its SYN. -1: not a valid opening segment.
 * Not inlined: its segment stays off the new-flow path's stack frame. */
static __noinline int ct_tcp_open(struct bpflet_ct_tcp_win *w, void *data, void *data_end,
				  const struct pkt *p)
{
	struct tcp_seg s;

	if (tcp_seg_read(data, data_end, p, &s))
		return -1;
	ct_tcp_win_init(w, &s);
	return 0;
}

#endif
