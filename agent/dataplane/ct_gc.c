#include "agent/dataplane/ct_gc.h"

#include <bpf/bpf.h>
#include <bpflet/ct_peer.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint32_t bl_ct_timeout(const struct bl_ct_timeouts *t, bool tcp, uint8_t flags)
{
	if (!tcp)
		return t->other;
	if (flags & (BPFLET_CT_F_FIN_SEEN | BPFLET_CT_F_RST_SEEN))
		return t->tcp_closing;
	if (flags & BPFLET_CT_F_SYNACK_SEEN)
		return t->tcp_established;
	return t->tcp_syn;
}

struct doomed {
	struct bpflet_ct_key *k;
	size_t n, cap;
};

static int doom(struct doomed *d, const struct bpflet_ct_key *k)
{
	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		void *p = realloc(d->k, cap * sizeof(*d->k));

		if (!p)
			return -ENOMEM;
		d->k = p;
		d->cap = cap;
	}
	d->k[d->n++] = *k;
	return 0;
}

int bl_ct_gc_run(int ct_fd, bool tcp, uint64_t now_ns, const struct bl_ct_timeouts *t, bool expire,
		 bl_ct_live_fn live, void *arg, struct bl_ct_gc_stats *st)
{
	struct bpflet_ct_key key, next, peer;
	struct bpflet_ct_val v, pv;
	struct doomed d = {0};
	void *prev = NULL;
	int err = 0;
	size_t n_expired = 0;

	/* collect first, delete after: deleting while walking restarts a hash walk */
	while (bpf_map_get_next_key(ct_fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(ct_fd, &key, &v))
			continue; /* gone meanwhile */
		st->scanned++;
		if (!tcp && live && v.svc_id && !live(arg, v.svc_id, v.backend_id)) {
			err = doom(&d, &key);
			if (err)
				break;
			continue;
		}
		if (!expire)
			continue;
		uint64_t last = v.last_seen_ns;
		uint8_t flags = v.flags;

		bpflet_ct_peer_key(&peer, &key, &v);
		if (bpf_map_lookup_elem(ct_fd, &peer, &pv) == 0) {
			flags |= pv.flags;
			if (pv.last_seen_ns > last)
				last = pv.last_seen_ns;
		}
		if (now_ns > last && now_ns - last > bl_ct_timeout(t, tcp, flags) * 1000000000ull) {
			err = doom(&d, &key);
			if (err)
				break;
			n_expired++;
		}
	}
	for (size_t i = 0; i < d.n; i++) {
		if (bpf_map_delete_elem(ct_fd, &d.k[i]) && errno != ENOENT)
			st->errors++;
	}
	st->expired += n_expired;
	st->backend_gone += d.n - n_expired;
	free(d.k);
	return err;
}
