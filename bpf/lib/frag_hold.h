/* IPv4 fragments that arrive before their datagram's first one (senders and networks
 * may reorder them): TC holds such a fragment in a map and drops its skb; when the
 * first fragment comes, the held frame goes back into the device's ingress behind it,
 * and follows the conntrack entry the first one leaves (lib/frag.h). */
#ifndef BPFLET_BPF_FRAG_HOLD_H
#define BPFLET_BPF_FRAG_HOLD_H

#include "lib/frag.h"
#include "lib/maps.h"

/* The fragment key of the frame's datagram (its IPv4 header parsed into p). */
static __always_inline int frag_key_of(struct __sk_buff *skb, const struct pkt *p,
				       struct bpflet_frag_key *fk)
{
	__be16 id;

	if (bpf_skb_load_bytes(skb, ETH_HLEN + offsetof(struct iphdr, id), &id, sizeof(id)))
		return -1;
	__builtin_memset(fk, 0, sizeof(*fk));
	fk->saddr.addr[0] = p->saddr;
	fk->daddr.addr[0] = p->daddr;
	fk->id = id;
	fk->proto = p->proto;
	fk->family = BPFLET_AF_INET;
	return 0;
}

/* len when a frame of that size fits a held one, else 0. The two bounds are checked
 * apart, the value pinned between them: merged into one unsigned compare on a copy,
 * the verifier would not see them on the register the helper gets. 64 bits: no
 * zero-extending copy between check and use either. */
static __always_inline __u64 frame_fits(__u64 len)
{
	if (len > BPFLET_FRAG_HELD_BYTES)
		return 0;
	asm volatile("" : "+r"(len));
	if (len < ETH_HLEN + sizeof(struct iphdr))
		return 0;
	asm volatile("" : "+r"(len));
	return len;
}

/* Copies the skb's frame into h; -1 when it does not fit. */
static __always_inline int frag_save(struct __sk_buff *skb, struct bpflet_frag_held *h)
{
	__u64 len = frame_fits(skb->len);

	if (!len)
		return -1;
	h->len = len;
	return bpf_skb_load_bytes(skb, 0, h->frame, len) ? -1 : 0;
}

/* Makes the skb the frame in h (resized, every byte written). */
static __always_inline int frag_load(struct __sk_buff *skb, const struct bpflet_frag_held *h)
{
	__u64 len = frame_fits(h->len);

	if (!len || bpf_skb_change_tail(skb, len, 0))
		return -1;
	return bpf_skb_store_bytes(skb, 0, h->frame, len, 0) ? -1 : 0;
}

/* FRAG_EARLY: a later fragment ahead of its first (senders and networks may reorder).
 * Held, one per datagram, until the first fragment comes; 0 when held (the caller drops
 * this copy), -1 when it could not be (another is held already, or it is too big). */
static __noinline int frag_hold(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpflet_frag_key fk;
	struct bpflet_frag_held *h;
	__u32 zero = 0;

	h = bpf_map_lookup_elem(&bl_fragscr_v1, &zero);
	if (!h || frag_key_of(skb, p, &fk) || frag_save(skb, h))
		return -1;
	return bpf_map_update_elem(&bl_fragh_v1, &fk, h, BPF_NOEXIST) ? -1 : 0;
}

/* FRAG_FIRST: a fragment held for this datagram goes back into this device's ingress,
 * queued behind the first fragment, which is on its way now and leaves the conntrack
 * entry the held one will follow. The skb plays the held frame for the clone and is
 * restored. 1: replayed, 0: nothing held, -1: failed (the skb may be lost: drop it). */
static __noinline int frag_replay(struct __sk_buff *skb, const struct pkt *p)
{
	struct bpflet_frag_held *held, *mine;
	struct bpflet_frag_key fk;
	__u32 zero = 0;
	int err;

	if (frag_key_of(skb, p, &fk))
		return 0;
	held = bpf_map_lookup_elem(&bl_fragh_v1, &fk);
	mine = bpf_map_lookup_elem(&bl_fragscr_v1, &zero);
	if (!held || !mine)
		return 0;
	if (frag_save(skb, mine)) /* the first fragment, kept aside */
		return 0;
	err = frag_load(skb, held);
	if (!err)
		err = bpf_clone_redirect(skb, skb->ifindex, BPF_F_INGRESS);
	bpf_map_delete_elem(&bl_fragh_v1, &fk);
	if (frag_load(skb, mine))
		return -1;
	return err ? 0 : 1;
}

#endif
