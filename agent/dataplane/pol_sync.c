/* Policy maps: a sorted-array diff per map (see pol_sync.h). */
#include "agent/dataplane/pol_sync.h"

#include "agent/common/maps_util.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One map's records: arrays of elem-sized items, key at 0, value at voff. */
struct rec_set {
	const void *items;
	size_t n, elem, ksz, voff, vsz;
	int (*cmp)(const void *, const void *);
};

/* The ipcache entry's map and key there: a /32 goes to the hash by its address. */
static int ipc_fd(const struct bl_pol_fds *fds, const void **key)
{
	const struct bpflet_ipcache_key *k = *key;

	if (k->prefixlen == 32) {
		*key = &k->addr;
		return fds->ipcache_host;
	}
	return fds->ipcache;
}

/* The map a record of set s lives in (fd_of NULL: fd) and its key there. */
struct rec_map {
	int fd;
	int (*fd_of)(const struct bl_pol_fds *fds, const void **key);
	const struct bl_pol_fds *fds;
};

static int rec_fd(const struct rec_map *m, const void **key)
{
	return m->fd_of ? m->fd_of(m->fds, key) : m->fd;
}

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

static int write_new(struct rec_map m, const struct rec_set *old, const struct rec_set *new,
		     struct bl_pol_sync_stats *st)
{
	for (size_t i = 0; i < new->n; i++) {
		const char *it = (const char *)new->items + i *new->elem;
		const char *was = find(old, it);
		const void *key = it;
		int fd;

		if (was && !memcmp(was + old->voff, it + new->voff, new->vsz))
			continue;
		fd = rec_fd(&m, &key);
		if (bpf_map_update_elem(fd, key, it + new->voff, BPF_ANY)) {
			st->errors++;
			return -errno;
		}
		st->writes++;
	}
	return 0;
}

static int remove_old(struct rec_map m, const struct rec_set *old, const struct rec_set *new,
		      struct bl_pol_sync_stats *st)
{
	for (size_t i = 0; i < old->n; i++) {
		const char *it = (const char *)old->items + i * old->elem;
		const void *key = it;
		int fd;

		if (find(new, it))
			continue;
		fd = rec_fd(&m, &key);
		if (bpf_map_delete_elem(fd, key) && errno != ENOENT) {
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
	struct rec_map rules = {.fd = fds->rules}, eps = {.fd = fds->endpoints};
	struct rec_map ipc = {.fd = -1, .fd_of = ipc_fd, .fds = fds};
	int err;

	memset(st, 0, sizeof(*st));
	/* names and allow entries first, then identities, then isolation (an endpoint's
	 * classes grow after its new entries are in, and shrink before old ones go) */
	if ((err = sync_names(fds->names, prev, next, st)) ||
	    (err = write_new(rules, &pr, &nr, st)) || (err = write_new(ipc, &pi, &ni, st)) ||
	    (err = write_new(eps, &pe, &ne, st)))
		return err;
	/* then the reverse: isolation lifted before its rules and identities go */
	if ((err = remove_old(eps, &pe, &ne, st)) || (err = remove_old(rules, &pr, &nr, st)) ||
	    (err = remove_old(ipc, &pi, &ni, st)))
		return err;
	return 0;
}

static int upd(int fd, const void *k, const void *v, struct bl_pol_sync_stats *st)
{
	if (bpf_map_update_elem(fd, k, v, BPF_ANY)) {
		st->errors++;
		return -errno;
	}
	st->writes++;
	return 0;
}

static int rm(int fd, const void *k, struct bl_pol_sync_stats *st)
{
	if (bpf_map_delete_elem(fd, k) && errno != ENOENT) {
		st->errors++;
		return -errno;
	}
	st->removes++;
	return 0;
}

int bl_pol_sync_delta(const struct bl_pol_fds *fds, const struct bl_netpol_incr *c,
		      const struct bl_pol_delta *d, struct bl_pol_sync_stats *st)
{
	int err = 0;

	memset(st, 0, sizeof(*st));
	for (size_t i = 0; i < d->n_name_up && !err; i++) {
		struct bpflet_pol_name v = {0};
		const char *n = bl_netpol_incr_rule_name(c, d->name_up[i]);

		snprintf(v.name, sizeof(v.name), "%s", n ? n : "");
		err = upd(fds->names, &d->name_up[i], &v, st);
	}
	for (size_t i = 0; i < d->n_rule_up && !err; i++)
		err = upd(fds->rules, &d->rule_up[i].key, &d->rule_up[i].val, st);
	for (size_t i = 0; i < d->n_ipc_up && !err; i++) {
		const void *k = &d->ipc_up[i].key;
		int fd = ipc_fd(fds, &k);

		err = upd(fd, k, &d->ipc_up[i].val, st);
	}
	for (size_t i = 0; i < d->n_ep_up && !err; i++)
		err = upd(fds->endpoints, &d->ep_up[i].addr, &d->ep_up[i].val, st);
	for (size_t i = 0; i < d->n_ep_del && !err; i++)
		err = rm(fds->endpoints, &d->ep_del[i], st);
	for (size_t i = 0; i < d->n_rule_del && !err; i++)
		err = rm(fds->rules, &d->rule_del[i], st);
	for (size_t i = 0; i < d->n_ipc_del && !err; i++) {
		const void *k = &d->ipc_del[i];
		int fd = ipc_fd(fds, &k);

		err = rm(fd, k, st);
	}
	for (size_t i = 0; i < d->n_name_del && !err; i++)
		if (!bpf_map_delete_elem(fds->names, &d->name_del[i]))
			st->removes++;
	return err;
}

/* Appends each entry of a map walk to one of the table's arrays (layout: f). */
struct reader {
	void *arr; /* address of the array pointer */
	size_t *n;
	struct rec_set f;
};

static int read_one(void *arg, const void *k, const void *v)
{
	struct reader *r = arg;
	char *a = realloc(*(char **)r->arr, (*r->n + 1) * r->f.elem);

	if (!a)
		return -ENOMEM;
	memset(a + *r->n * r->f.elem, 0, r->f.elem);
	memcpy(a + *r->n * r->f.elem, k, r->f.ksz);
	memcpy(a + *r->n * r->f.elem + r->f.voff, v, r->f.vsz);
	*(char **)r->arr = a;
	(*r->n)++;
	return 0;
}

/* A /32 of the hash: the same record as a prefix of the trie. */
static int read_host(void *arg, const void *k, const void *v)
{
	struct bpflet_ipcache_key key = {32, *(const __be32 *)k};

	return read_one(arg, &key, v);
}

/* An endpoint of layout 1: its flags; the classes come from its rules. */
static int read_ep_v1(void *arg, const void *k, const void *v)
{
	struct bpflet_pol_ep e = {.flags = ((const struct bpflet_pol_ep_v1 *)v)->flags};

	return read_one(arg, k, &e);
}

/* Layout 2 (v1 false): ipcache split in trie and hash, endpoints with classes;
 * layout 1: one trie of every prefix, endpoints with flags only. */
static int read_maps(const struct bl_pol_fds *fds, struct bl_pol_table *t, bool v1)
{
	int err;

	memset(t, 0, sizeof(*t));
	struct reader rules = {&t->rules, &t->n_rules, RULES(t)};
	struct reader ipc = {&t->ipcache, &t->n_ipcache, IPC(t)};
	struct reader eps = {&t->endpoints, &t->n_endpoints, EPS(t)};

	err = bl_map_walk(fds->rules, rules.f.ksz, rules.f.vsz, read_one, &rules);
	if (!err)
		err = bl_map_walk(fds->ipcache, ipc.f.ksz, ipc.f.vsz, read_one, &ipc);
	if (!err && !v1)
		err = bl_map_walk(fds->ipcache_host, sizeof(__be32), ipc.f.vsz, read_host, &ipc);
	if (!err)
		err = v1 ? bl_map_walk(fds->endpoints, eps.f.ksz, sizeof(struct bpflet_pol_ep_v1),
				       read_ep_v1, &eps)
			 : bl_map_walk(fds->endpoints, eps.f.ksz, eps.f.vsz, read_one, &eps);
	if (err) {
		bl_pol_table_free(t);
		return err;
	}
	bl_pol_table_sort(t);
	if (v1)
		bl_pol_table_classes(t);
	return 0;
}

int bl_pol_read_maps(const struct bl_pol_fds *fds, struct bl_pol_table *t)
{
	return read_maps(fds, t, false);
}

int bl_pol_read_maps_v1(const struct bl_pol_fds *fds, struct bl_pol_table *t)
{
	return read_maps(fds, t, true);
}
