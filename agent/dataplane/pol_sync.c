/* Policy maps: a sorted-array diff per map (see pol_sync.h). */
#include "agent/dataplane/pol_sync.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* One map's records: arrays of elem-sized items, key at 0, value at voff. */
struct rec_set {
	const void *items;
	size_t n, elem, ksz, voff, vsz;
	int (*cmp)(const void *, const void *);
};

static int rule_key_cmp(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct bpflet_pol_key));
}

static int ipc_key_cmp(const void *a, const void *b)
{
	const struct bpflet_ipcache_key *x = a, *y = b;

	if (x->prefixlen != y->prefixlen)
		return x->prefixlen < y->prefixlen ? -1 : 1;
	return memcmp(&x->addr, &y->addr, 4);
}

static int ep_key_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(*(const uint32_t *)a), y = ntohl(*(const uint32_t *)b);

	return x < y ? -1 : x > y;
}

static const void *find(const struct rec_set *s, const void *key)
{
	return s->n ? bsearch(key, s->items, s->n, s->elem, s->cmp) : NULL;
}

static int write_new(int fd, const struct rec_set *old, const struct rec_set *new,
		     struct bl_pol_sync_stats *st)
{
	for (size_t i = 0; i < new->n; i++) {
		const char *it = (const char *)new->items + i *new->elem;
		const char *was = find(old, it);

		if (was && !memcmp(was + old->voff, it + new->voff, new->vsz))
			continue;
		if (bpf_map_update_elem(fd, it, it + new->voff, BPF_ANY)) {
			st->errors++;
			return -errno;
		}
		st->writes++;
	}
	return 0;
}

static int remove_old(int fd, const struct rec_set *old, const struct rec_set *new,
		      struct bl_pol_sync_stats *st)
{
	for (size_t i = 0; i < old->n; i++) {
		const char *it = (const char *)old->items + i * old->elem;

		if (find(new, it))
			continue;
		if (bpf_map_delete_elem(fd, it) && errno != ENOENT) {
			st->errors++;
			return -errno;
		}
		st->removes++;
	}
	return 0;
}

#define RULES(t)                                                                                   \
	((struct rec_set){(t)->rules, (t)->n_rules, sizeof(struct bl_pol_rule),                    \
			  sizeof(struct bpflet_pol_key), offsetof(struct bl_pol_rule, val),        \
			  sizeof(struct bpflet_pol_val), rule_key_cmp})
#define IPC(t)                                                                                     \
	((struct rec_set){(t)->ipcache, (t)->n_ipcache, sizeof(struct bl_pol_ipcache),             \
			  sizeof(struct bpflet_ipcache_key), offsetof(struct bl_pol_ipcache, val), \
			  sizeof(struct bpflet_ipcache_val), ipc_key_cmp})
#define EPS(t)                                                                                     \
	((struct rec_set){(t)->endpoints, (t)->n_endpoints, sizeof(struct bl_pol_endpoint),        \
			  sizeof(uint32_t), offsetof(struct bl_pol_endpoint, val),                 \
			  sizeof(struct bpflet_pol_ep), ep_key_cmp})

/* Rule names by id; ids are positions, so a name changes when policies move. */
static int sync_names(int fd, const struct bl_pol_table *prev, const struct bl_pol_table *next,
		      struct bl_pol_sync_stats *st)
{
	for (size_t i = 0; i < next->n_rule_names && i + 1 < BPFLET_POL_RULES; i++) {
		struct bpflet_pol_name v = {0};
		uint32_t id = (uint32_t)i + 1;

		if (i < prev->n_rule_names && !strcmp(prev->rule_names[i], next->rule_names[i]))
			continue;
		snprintf(v.name, sizeof(v.name), "%s", next->rule_names[i]);
		if (bpf_map_update_elem(fd, &id, &v, BPF_ANY)) {
			st->errors++;
			return -errno;
		}
		st->writes++;
	}
	for (size_t i = next->n_rule_names; i < prev->n_rule_names; i++) {
		uint32_t id = (uint32_t)i + 1;

		if (!bpf_map_delete_elem(fd, &id))
			st->removes++;
	}
	return 0;
}

int bl_pol_sync(const struct bl_pol_fds *fds, const struct bl_pol_table *prev,
		const struct bl_pol_table *next, struct bl_pol_sync_stats *st)
{
	struct rec_set pr = RULES(prev), nr = RULES(next), pi = IPC(prev), ni = IPC(next);
	struct rec_set pe = EPS(prev), ne = EPS(next);
	int err;

	memset(st, 0, sizeof(*st));
	/* names and allow entries first, then identities, then isolation */
	if ((err = sync_names(fds->names, prev, next, st)) ||
	    (err = write_new(fds->rules, &pr, &nr, st)) ||
	    (err = write_new(fds->ipcache, &pi, &ni, st)) ||
	    (err = write_new(fds->endpoints, &pe, &ne, st)))
		return err;
	/* then the reverse: isolation lifted before its rules and identities go */
	if ((err = remove_old(fds->endpoints, &pe, &ne, st)) ||
	    (err = remove_old(fds->rules, &pr, &nr, st)) ||
	    (err = remove_old(fds->ipcache, &pi, &ni, st)))
		return err;
	return 0;
}
