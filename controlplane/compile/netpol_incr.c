/* NetworkPolicy compiled by change (see netpol_incr.h). */
#include "controlplane/compile/netpol_incr.h"

#include "agent/common/netaddr.h"
#include "controlplane/compile/k8s_object.h"
#include "controlplane/compile/label_selector.h"
#include "controlplane/compile/netpol_rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#define KEY_LEN 330

/* A growable array of pointers; order never matters to its users. */
struct vec {
	void **v;
	size_t n, cap;
};

static int vec_push(struct vec *a, void *p)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? a->cap * 2 : 8;
		void **v = realloc(a->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = p;
	return 0;
}

static void vec_del(struct vec *a, const void *p)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i] == p) {
			a->v[i] = a->v[--a->n];
			return;
		}
}

static void vec_free(struct vec *a)
{
	free(a->v);
	memset(a, 0, sizeof(*a));
}

struct ns_e {
	char name[64];
	json_t *labels; /* own, with kubernetes.io/metadata.name */
	bool has_obj;	/* a Namespace object, not only implied by its pods */
	struct vec pods, pols, idents;
	UT_hash_handle hh;
};

struct ident {
	char *sig; /* "P<bits>\n<ns>\n<labels>\n<ports>" or "C<bits>", bit j = ipBlock j */
	uint32_t id;
	struct ns_e *ns;    /* NULL: an address range */
	struct vec members; /* pods carrying it */
	bool mark;	    /* scratch for ns_repeer */
	UT_hash_handle hh, hh_id;
};

struct pod_e {
	char key[KEY_LEN];
	json_t *obj;
	struct ns_e *ns;
	const json_t *labels, *containers;
	uint32_t ip; /* host order */
	bool has_ip, attached;
	struct ident *ident;
	struct vec sel_by; /* policies selecting it */
	UT_hash_handle hh;
};

struct rule_c {
	const json_t *rule;
	uint8_t dir;
	uint32_t id;
	size_t block0; /* global number of its first IPv4 ipBlock peer */
};

struct pol_e {
	char key[KEY_LEN];
	json_t *obj;
	struct ns_e *ns;
	const json_t *sel;
	bool on[2], attached;
	size_t n_blocks, block_base;
	struct rule_c *rules;
	size_t n_rules;
	struct vec sel_pods;
	struct bl_pol_rule *rows; /* every entry it produced, duplicates included */
	size_t n_rows, cap_rows;
	UT_hash_handle hh;
};

/* Entries in the maps-to-be: who produced them, what was handed out last. */
struct row_e {
	struct bpflet_pol_key key;
	uint32_t *ids, n, cap, written; /* ids: inl until more than two rules share it */
	uint32_t inl[2];
	bool dirty;
	UT_hash_handle hh;
};

static void row_free(struct row_e *r)
{
	if (r->ids != r->inl)
		free(r->ids);
	free(r);
}

struct ipc_e {
	struct bpflet_ipcache_key key;
	uint32_t range_id, written;
	struct vec pods;
	bool dirty;
	UT_hash_handle hh;
};

struct ep_e {
	uint32_t ip; /* network order */
	uint32_t cnt[2];
	uint32_t n_cls[2][BPFLET_POL_CLASSES]; /* entries written, by dir and class */
	struct bpflet_pol_ep written;
	bool dirty;
	UT_hash_handle hh;
};

struct bl_netpol_incr {
	struct ns_e *ns;
	struct pod_e *pods;
	struct pol_e *pols;
	struct ident *by_sig, *by_id;
	struct row_e *rows;
	struct ipc_e *ipc;
	struct ep_e *eps;
	struct vec d_rows, d_ipc, d_eps, d_names; /* dirty; d_names holds ids */
	struct bl_np_block *blocks;
	size_t n_blocks;
	char **names, **names_written; /* by rule id - 1 */
	size_t n_names, name_hint;
	bool rebuild;
	unsigned long rebuilds;
};

/* ---- namespaces ---- */

static struct ns_e *ns_get(struct bl_netpol_incr *c, const char *name)
{
	struct ns_e *n;

	HASH_FIND_STR(c->ns, name, n);
	if (n)
		return n;
	n = calloc(1, sizeof(*n));
	if (!n || !(n->labels = json_object())) {
		free(n);
		return NULL;
	}
	snprintf(n->name, sizeof(n->name), "%s", name);
	json_object_set_new(n->labels, "kubernetes.io/metadata.name", json_string(name));
	HASH_ADD_STR(c->ns, name, n);
	return n;
}

/* ---- output entries ---- */

static void mark(struct vec *d, bool *dirty, void *e)
{
	if (!*dirty && !vec_push(d, e))
		*dirty = true;
}

static int row_ref(struct bl_netpol_incr *c, const struct bpflet_pol_key *k, uint32_t id)
{
	struct row_e *r;

	HASH_FIND(hh, c->rows, k, sizeof(*k), r);
	if (!r) {
		if (!(r = calloc(1, sizeof(*r))))
			return -ENOMEM;
		r->key = *k;
		r->ids = r->inl;
		r->cap = 2;
		HASH_ADD(hh, c->rows, key, sizeof(r->key), r);
	}
	if (r->n == r->cap) {
		uint32_t cap = r->cap * 2, *ids = r->ids == r->inl
							  ? malloc(cap * sizeof(*ids))
							  : realloc(r->ids, cap * sizeof(*ids));

		if (!ids)
			return -ENOMEM;
		if (r->ids == r->inl)
			memcpy(ids, r->inl, sizeof(r->inl));
		r->ids = ids;
		r->cap = cap;
	}
	r->ids[r->n++] = id;
	mark(&c->d_rows, &r->dirty, r);
	return 0;
}

static void row_unref(struct bl_netpol_incr *c, const struct bpflet_pol_key *k, uint32_t id)
{
	struct row_e *r;

	HASH_FIND(hh, c->rows, k, sizeof(*k), r);
	if (!r)
		return;
	for (uint32_t i = 0; i < r->n; i++)
		if (r->ids[i] == id) {
			r->ids[i] = r->ids[--r->n];
			break;
		}
	mark(&c->d_rows, &r->dirty, r);
}

static struct ipc_e *ipc_get(struct bl_netpol_incr *c, uint32_t plen, uint32_t addr_host)
{
	struct bpflet_ipcache_key k = {plen, htonl(addr_host)};
	struct ipc_e *e;

	HASH_FIND(hh, c->ipc, &k, sizeof(k), e);
	if (!e && (e = calloc(1, sizeof(*e)))) {
		e->key = k;
		HASH_ADD(hh, c->ipc, key, sizeof(e->key), e);
	}
	if (e)
		mark(&c->d_ipc, &e->dirty, e);
	return e;
}

static struct ep_e *ep_get(struct bl_netpol_incr *c, uint32_t ip)
{
	struct ep_e *e;

	HASH_FIND(hh, c->eps, &ip, sizeof(ip), e);
	if (!e && (e = calloc(1, sizeof(*e)))) {
		e->ip = ip;
		HASH_ADD(hh, c->eps, ip, sizeof(e->ip), e);
	}
	if (e)
		mark(&c->d_eps, &e->dirty, e);
	return e;
}

/* An endpoint selected (d = +1) or no longer (-1) by a policy isolating dir. */
static int ep_count(struct bl_netpol_incr *c, uint32_t ip_host, int dir, int d)
{
	struct ep_e *e = ep_get(c, htonl(ip_host));

	if (!e)
		return -ENOMEM;
	e->cnt[dir] += (uint32_t)d;
	return 0;
}

/* An entry of the endpoint's appears in the map (d = +1) or leaves it (-1): its
 * class is asked by the program while any entry has it. */
static int ep_class(struct bl_netpol_incr *c, const struct bpflet_pol_key *k, int d)
{
	struct ep_e *e;

	if (k->dir > BPFLET_POL_EGRESS)
		return 0;
	if (!(e = ep_get(c, k->ep_addr)))
		return -ENOMEM;
	e->n_cls[k->dir][bpflet_pol_class(k->prefixlen)] += (uint32_t)d;
	return 0;
}

/* ---- rule ids and names ---- */

static uint32_t name_alloc(struct bl_netpol_incr *c, const char *pol_key, const char *dir, size_t i)
{
	size_t k = c->name_hint;
	char *n;

	while (k < c->n_names && c->names[k])
		k++;
	if (k + 1 >= BPFLET_POL_RULES)
		return 0; /* ids exhausted: the rule allows, unnamed and uncounted */
	if (k == c->n_names) {
		size_t cap = c->n_names ? c->n_names * 2 : 64;
		char **a = realloc(c->names, cap * sizeof(*a)),
		     **b = a ? realloc(c->names_written, cap * sizeof(*b)) : NULL;

		if (a)
			c->names = a;
		if (!b)
			return 0;
		c->names_written = b;
		memset(c->names + c->n_names, 0, (cap - c->n_names) * sizeof(*a));
		memset(c->names_written + c->n_names, 0, (cap - c->n_names) * sizeof(*b));
		c->n_names = cap;
	}
	if (asprintf(&n, "%s %s[%zu]", pol_key, dir, i) < 0)
		return 0;
	c->names[k] = n;
	c->name_hint = k + 1;
	vec_push(&c->d_names, (void *)(uintptr_t)(k + 1));
	return (uint32_t)k + 1;
}

static void name_free(struct bl_netpol_incr *c, uint32_t id)
{
	if (!id || id > c->n_names)
		return;
	free(c->names[id - 1]);
	c->names[id - 1] = NULL;
	if (id - 1 < c->name_hint)
		c->name_hint = id - 1;
	vec_push(&c->d_names, (void *)(uintptr_t)id);
}

/* ---- identities ---- */

static void block_bits(const struct bl_netpol_incr *c, const struct bl_cidr4 *r, char *bits)
{
	bl_np_block_bits(c->blocks, c->n_blocks, r, bits);
}

static char *pod_sig(const struct bl_netpol_incr *c, const struct pod_e *p)
{
	struct bl_cidr4 r = {.net = p->ip, .plen = 32};
	char *bits = malloc(c->n_blocks + 1), *sig;

	if (!bits)
		return NULL;
	block_bits(c, &r, bits);
	sig = bl_np_pod_sig(bits, p->ns->name, p->labels, p->containers);
	free(bits);
	return sig;
}

/* The identity for sig (taken over: freed when it exists already); *is_new set. */
static struct ident *ident_get(struct bl_netpol_incr *c, char *sig, struct ns_e *ns, bool *is_new)
{
	struct ident *k, *o;
	uint32_t id;

	*is_new = false;
	HASH_FIND(hh, c->by_sig, sig, strlen(sig), k);
	if (k) {
		free(sig);
		return k;
	}
	if (!(k = calloc(1, sizeof(*k)))) {
		free(sig);
		return NULL;
	}
	/* stable across changes: the signature's hash, the next free value on a clash */
	id = BPFLET_POL_PEER_MIN + bl_np_fnv1a(sig) % 0x70000000u;
	for (;; id = id + 1 < BPFLET_POL_PEER_MIN + 0x70000000u ? id + 1 : BPFLET_POL_PEER_MIN) {
		HASH_FIND(hh_id, c->by_id, &id, sizeof(id), o);
		if (!o)
			break;
	}
	k->sig = sig;
	k->id = id;
	k->ns = ns;
	if (ns && vec_push(&ns->idents, k)) {
		free(k);
		free(sig);
		return NULL;
	}
	HASH_ADD_KEYPTR(hh, c->by_sig, k->sig, strlen(k->sig), k);
	HASH_ADD(hh_id, c->by_id, id, sizeof(k->id), k);
	*is_new = true;
	return k;
}

static void ident_drop(struct bl_netpol_incr *c, struct ident *k)
{
	HASH_DELETE(hh, c->by_sig, k);
	HASH_DELETE(hh_id, c->by_id, k);
	if (k->ns)
		vec_del(&k->ns->idents, k);
	vec_free(&k->members);
	free(k->sig);
	free(k);
}

static struct bl_np_ident as_peer(const struct ident *k)
{
	const struct pod_e *rep = k->members.n ? k->members.v[0] : NULL;

	return (struct bl_np_ident){.ns = k->ns ? k->ns->name : NULL,
				    .ns_labels = k->ns ? k->ns->labels : NULL,
				    .labels = rep ? rep->labels : NULL,
				    .block_bits = k->sig + 1};
}

/* ---- one policy's entries ---- */

struct emit {
	struct bl_netpol_incr *c;
	struct pol_e *p;
};

static int push(void *arg, uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto, uint16_t port,
		uint32_t plen, uint32_t rule_id)
{
	struct emit *x = arg;
	struct pol_e *p = x->p;
	struct bl_pol_rule *r;

	if (p->n_rows == p->cap_rows) {
		size_t cap = p->cap_rows ? p->cap_rows * 2 : 16;

		if (!(r = realloc(p->rows, cap * sizeof(*r))))
			return -ENOMEM;
		p->rows = r;
		p->cap_rows = cap;
	}
	r = &p->rows[p->n_rows++];
	bl_np_rule_fill(r, ep, peer, dir, proto, port, plen, rule_id);
	return row_ref(x->c, &r->key, rule_id);
}

static const json_t *peers_of(const struct rule_c *r)
{
	return json_object_get(r->rule, r->dir == BPFLET_POL_INGRESS ? "from" : "to");
}

/* Identities peer qi of rule r takes (only: just that one, if it does). */
static int peer_matches_into(struct bl_netpol_incr *c, const struct pol_e *p,
			     const struct rule_c *r, size_t qi, struct ident *only, struct vec *out)
{
	const json_t *peers = peers_of(r), *peer = json_array_get(peers, qi);
	const json_t *nss = json_object_get(peer, "namespaceSelector");
	size_t b = r->block0;
	struct ident *k, *tmp;
	struct ns_e *n, *ntmp;
	int e = 0;

	for (size_t j = 0; j < qi; j++)
		b += bl_np_v4_block(json_array_get(peers, j)) != NULL;
#define TAKE(k)                                                                                    \
	do {                                                                                       \
		struct bl_np_ident id_ = as_peer(k);                                               \
		if (!e && bl_np_peer_matches(&id_, peer, p->ns->name, b, c->n_blocks))             \
			e = vec_push(out, k);                                                      \
	} while (0)
	if (only) {
		TAKE(only);
	} else if (json_object_get(peer, "ipBlock")) {
		HASH_ITER(hh, c->by_sig, k, tmp) TAKE(k);
	} else if (!nss) { /* only this namespace's pods */
		for (size_t i = 0; i < p->ns->idents.n; i++)
			TAKE((struct ident *)p->ns->idents.v[i]);
	} else {
		HASH_ITER(hh, c->ns, n, ntmp)
		{
			if (!bl_selector_matches(nss, n->labels))
				continue;
			for (size_t i = 0; i < n->idents.n; i++)
				TAKE((struct ident *)n->idents.v[i]);
		}
	}
#undef TAKE
	return e;
}

/* The entries of rule r for endpoints eps[0..n) (only: just for that identity). */
static int emit_rule(struct bl_netpol_incr *c, struct pol_e *p, const struct rule_c *r,
		     struct pod_e *const *eps, size_t n, struct ident *only)
{
	const json_t *peers = peers_of(r), *ports = json_object_get(r->rule, "ports");
	struct emit x = {c, p};
	struct vec m = {0};
	int e = 0;

	if (json_array_size(peers) == 0) {
		/* every peer; an egress named port still needs each destination pod */
		if (r->dir == BPFLET_POL_EGRESS && bl_np_has_named_port(ports)) {
			struct ident *k, *tmp;

			if (only && only->ns)
				e = vec_push(&m, only);
			if (!only) {
				HASH_ITER(hh, c->by_sig, k, tmp)
				{
					if (k->ns && !e)
						e = vec_push(&m, k);
				}
			}
		}
		for (size_t i = 0; i < n && !e; i++) {
			for (size_t j = 0; j < m.n && !e; j++) {
				struct ident *k = m.v[j];
				struct pod_e *rep = k->members.v[0];

				e = bl_np_emit_ports(eps[i]->ip, eps[i]->containers, k->id,
						     rep->containers, r->dir, ports, r->id, push,
						     &x);
			}
			if (!only && !e)
				e = bl_np_emit_ports(eps[i]->ip, eps[i]->containers,
						     BPFLET_POL_PEER_ANY, NULL, r->dir, ports,
						     r->id, push, &x);
		}
		vec_free(&m);
		return e;
	}
	for (size_t qi = 0; qi < json_array_size(peers) && !e; qi++) {
		m.n = 0;
		e = peer_matches_into(c, p, r, qi, only, &m);
		for (size_t i = 0; i < n && !e; i++)
			for (size_t j = 0; j < m.n && !e; j++) {
				struct ident *k = m.v[j];
				struct pod_e *rep = k->members.n ? k->members.v[0] : NULL;

				e = bl_np_emit_ports(eps[i]->ip, eps[i]->containers, k->id,
						     rep ? rep->containers : NULL, r->dir, ports,
						     r->id, push, &x);
			}
	}
	vec_free(&m);
	return e;
}

static int emit_all(struct bl_netpol_incr *c, struct pol_e *p, struct pod_e *const *eps, size_t n,
		    struct ident *only)
{
	int e = 0;

	for (size_t i = 0; i < p->n_rules && !e; i++)
		if (p->on[p->rules[i].dir])
			e = emit_rule(c, p, &p->rules[i], eps, n, only);
	return e;
}

/* Drops p's entries for endpoint ip (0: all) or peer identity id (0: any). */
static void unemit(struct bl_netpol_incr *c, struct pol_e *p, uint32_t ep_host, uint32_t peer)
{
	size_t k = 0;
	uint32_t ep = htonl(ep_host);

	for (size_t i = 0; i < p->n_rows; i++) {
		struct bl_pol_rule *r = &p->rows[i];

		if ((!ep_host || r->key.ep_addr == ep) && (!peer || r->key.peer_id == peer))
			row_unref(c, &r->key, r->val.rule_id);
		else
			p->rows[k++] = *r;
	}
	p->n_rows = k;
}

static bool selects(const struct pol_e *p, const struct pod_e *q)
{
	return q->has_ip && q->ns == p->ns && bl_selector_matches(p->sel, q->labels);
}

static int pol_select(struct bl_netpol_incr *c, struct pol_e *p, struct pod_e *q)
{
	int e = vec_push(&p->sel_pods, q);

	if (!e)
		e = vec_push(&q->sel_by, p);
	for (int d = 0; d < 2 && !e; d++)
		if (p->on[d])
			e = ep_count(c, q->ip, d, 1);
	return e;
}

static int pol_attach(struct bl_netpol_incr *c, struct pol_e *p)
{
	const char *dirs[2] = {"ingress", "egress"};
	size_t block = p->block_base, idx[2] = {0, 0};
	int e = 0;

	for (size_t i = 0; i < p->n_rules; i++) {
		struct rule_c *r = &p->rules[i];
		size_t qi;
		json_t *peer;

		r->id = name_alloc(c, p->key, dirs[r->dir], idx[r->dir]++);
		r->block0 = block;
		json_array_foreach(peers_of(r), qi, peer) block += bl_np_v4_block(peer) != NULL;
	}
	for (size_t i = 0; i < p->ns->pods.n && !e; i++) {
		struct pod_e *q = p->ns->pods.v[i];

		if (q->attached && selects(p, q))
			e = pol_select(c, p, q);
	}
	if (!e)
		e = emit_all(c, p, (struct pod_e *const *)p->sel_pods.v, p->sel_pods.n, NULL);
	p->attached = true;
	return e;
}

static void pol_detach(struct bl_netpol_incr *c, struct pol_e *p)
{
	if (!p->attached)
		return;
	unemit(c, p, 0, 0);
	for (size_t i = 0; i < p->sel_pods.n; i++) {
		struct pod_e *q = p->sel_pods.v[i];

		vec_del(&q->sel_by, p);
		for (int d = 0; d < 2; d++)
			if (p->on[d])
				ep_count(c, q->ip, d, -1);
	}
	p->sel_pods.n = 0;
	for (size_t i = 0; i < p->n_rules; i++) {
		name_free(c, p->rules[i].id);
		p->rules[i].id = 0;
	}
	p->attached = false;
}

/* ---- one pod ---- */

static int pod_attach(struct bl_netpol_incr *c, struct pod_e *q)
{
	struct pol_e *p, *tmp;
	bool is_new = false;
	char *sig;
	int e = 0;

	q->attached = true;
	if (!q->has_ip)
		return 0; /* no address: nothing to match, nothing to isolate */
	if (!(sig = pod_sig(c, q)) || !(q->ident = ident_get(c, sig, q->ns, &is_new)))
		return -ENOMEM;
	if ((e = vec_push(&q->ident->members, q)))
		return e;
	{
		struct ipc_e *ie = ipc_get(c, 32, q->ip);

		if (!ie || vec_push(&ie->pods, q))
			return -ENOMEM;
	}
	/* a new identity: every attached policy's rules that take it, for their endpoints */
	HASH_ITER(hh, c->pols, p, tmp)
	{
		if (is_new && p->attached && !e)
			e = emit_all(c, p, (struct pod_e *const *)p->sel_pods.v, p->sel_pods.n,
				     q->ident);
	}
	/* as an endpoint: the policies of its namespace that select it */
	for (size_t i = 0; i < q->ns->pols.n && !e; i++) {
		p = q->ns->pols.v[i];
		if (p->attached && selects(p, q) && !(e = pol_select(c, p, q)))
			e = emit_all(c, p, &q, 1, NULL);
	}
	return e;
}

static void pod_detach(struct bl_netpol_incr *c, struct pod_e *q)
{
	struct pol_e *p, *tmp;

	if (!q->attached)
		return;
	q->attached = false;
	while (q->sel_by.n) {
		p = q->sel_by.v[q->sel_by.n - 1];
		q->sel_by.n--;
		unemit(c, p, q->ip, 0);
		vec_del(&p->sel_pods, q);
		for (int d = 0; d < 2; d++)
			if (p->on[d])
				ep_count(c, q->ip, d, -1);
		/* another selected pod with the same address keeps its entries */
		for (size_t i = 0; i < p->sel_pods.n; i++) {
			struct pod_e *o = p->sel_pods.v[i];

			if (o->ip == q->ip)
				emit_all(c, p, &o, 1, NULL);
		}
	}
	if (q->ident) {
		struct ipc_e *ie = ipc_get(c, 32, q->ip);

		if (ie)
			vec_del(&ie->pods, q);
		vec_del(&q->ident->members, q);
		if (!q->ident->members.n) {
			HASH_ITER(hh, c->pols, p, tmp) unemit(c, p, 0, q->ident->id);
			ident_drop(c, q->ident);
		}
		q->ident = NULL;
	}
}

/* ---- objects in and out ---- */

static void pod_free(struct bl_netpol_incr *c, struct pod_e *q)
{
	HASH_DEL(c->pods, q);
	vec_del(&q->ns->pods, q);
	vec_free(&q->sel_by);
	json_decref(q->obj);
	free(q);
}

static void pol_free(struct bl_netpol_incr *c, struct pol_e *p)
{
	HASH_DEL(c->pols, p);
	vec_del(&p->ns->pols, p);
	vec_free(&p->sel_pods);
	free(p->rules);
	free(p->rows);
	json_decref(p->obj);
	free(p);
}

static size_t v4_blocks(const json_t *spec)
{
	const char *dirs[2] = {"ingress", "egress"}, *peers[2] = {"from", "to"};
	size_t n = 0, ri, qi;
	json_t *rule, *peer;

	for (int d = 0; d < 2; d++)
		json_array_foreach(json_object_get(spec, dirs[d]), ri, rule)
			json_array_foreach(json_object_get(rule, peers[d]), qi, peer) n +=
			bl_np_v4_block(peer) != NULL;
	return n;
}

static struct pod_e *pod_new(struct bl_netpol_incr *c, const char *key, const struct bl_k8s_meta *m,
			     json_t *obj, const json_t *labels)
{
	struct pod_e *q = calloc(1, sizeof(*q));
	const json_t *spec = json_object_get(obj, "spec");
	const char *ip =
		json_string_value(json_object_get(json_object_get(obj, "status"), "podIP"));
	struct in_addr in;

	if (!q || !(q->ns = ns_get(c, m->ns)) || vec_push(&q->ns->pods, q)) {
		free(q);
		return NULL;
	}
	snprintf(q->key, sizeof(q->key), "%s", key);
	q->obj = obj;
	q->labels = labels;
	q->containers = json_object_get(spec, "containers");
	/* host-network pods share the node's address: policy never applies */
	if (ip && inet_pton(AF_INET, ip, &in) == 1 &&
	    !json_is_true(json_object_get(spec, "hostNetwork"))) {
		q->ip = ntohl(in.s_addr);
		q->has_ip = true;
	}
	HASH_ADD_STR(c->pods, key, q);
	return q;
}

static struct pol_e *pol_new(struct bl_netpol_incr *c, const char *key, const struct bl_k8s_meta *m,
			     json_t *obj)
{
	struct pol_e *p = calloc(1, sizeof(*p));
	const json_t *spec = json_object_get(obj, "spec");
	const char *dirs[2] = {"ingress", "egress"};
	size_t n = 0, i;
	json_t *rule;

	if (!p || !(p->ns = ns_get(c, m->ns)) || vec_push(&p->ns->pols, p)) {
		free(p);
		return NULL;
	}
	for (int d = 0; d < 2; d++)
		n += json_array_size(json_object_get(spec, dirs[d]));
	if (!(p->rules = calloc(n + 1, sizeof(*p->rules)))) {
		vec_del(&p->ns->pols, p);
		free(p);
		return NULL;
	}
	for (int d = 0; d < 2; d++)
		json_array_foreach(json_object_get(spec, dirs[d]), i, rule)
		{
			p->rules[p->n_rules].rule = rule;
			p->rules[p->n_rules++].dir = (uint8_t)d;
		}
	snprintf(p->key, sizeof(p->key), "%s", key);
	p->obj = obj;
	p->sel = json_object_get(spec, "podSelector");
	p->on[0] = bl_np_lists_type(spec, "Ingress");
	p->on[1] = bl_np_lists_type(spec, "Egress");
	p->n_blocks = v4_blocks(spec);
	HASH_ADD_STR(c->pols, key, p);
	return p;
}

static int set_pod(struct bl_netpol_incr *c, const char *key, const struct bl_k8s_meta *m,
		   json_t *obj, const json_t *labels)
{
	struct pod_e *q;

	HASH_FIND_STR(c->pods, key, q);
	if (q) {
		pod_detach(c, q);
		pod_free(c, q);
	}
	if (!obj)
		return 0;
	if (!(q = pod_new(c, key, m, obj, labels))) {
		json_decref(obj);
		return -ENOMEM;
	}
	return c->rebuild ? 0 : pod_attach(c, q);
}

static int set_pol(struct bl_netpol_incr *c, const char *key, const struct bl_k8s_meta *m,
		   json_t *obj)
{
	struct pol_e *p;
	bool blocks = obj && v4_blocks(json_object_get(obj, "spec"));

	HASH_FIND_STR(c->pols, key, p);
	if (p) {
		blocks |= p->n_blocks > 0;
		pol_detach(c, p);
		pol_free(c, p);
	}
	/* ipBlocks are numbered across policies and every signature carries them */
	if (blocks)
		c->rebuild = true;
	if (!obj)
		return 0;
	if (!(p = pol_new(c, key, m, obj))) {
		json_decref(obj);
		return -ENOMEM;
	}
	return c->rebuild ? 0 : pol_attach(c, p);
}

/* A namespace's labels changed: which peers take its identities may too. Their
 * entries go and come back (the endpoints a policy selects do not depend on them). */
static int ns_repeer(struct bl_netpol_incr *c, struct ns_e *n)
{
	struct pol_e *p, *tmp;
	int e = 0;

	for (size_t i = 0; i < n->idents.n; i++)
		((struct ident *)n->idents.v[i])->mark = true;
	HASH_ITER(hh, c->pols, p, tmp)
	{
		size_t k = 0;

		for (size_t i = 0; i < p->n_rows; i++) {
			struct bl_pol_rule *r = &p->rows[i];
			struct ident *id = NULL;

			if (r->key.peer_id != BPFLET_POL_PEER_ANY)
				HASH_FIND(hh_id, c->by_id, &r->key.peer_id, sizeof(uint32_t), id);
			if (id && id->mark)
				row_unref(c, &r->key, r->val.rule_id);
			else
				p->rows[k++] = *r;
		}
		p->n_rows = k;
	}
	for (size_t i = 0; i < n->idents.n; i++)
		((struct ident *)n->idents.v[i])->mark = false;
	HASH_ITER(hh, c->pols, p, tmp)
	{
		for (size_t i = 0; i < n->idents.n && p->attached && !e; i++)
			e = emit_all(c, p, (struct pod_e *const *)p->sel_pods.v, p->sel_pods.n,
				     n->idents.v[i]);
	}
	return e;
}

static int set_ns(struct bl_netpol_incr *c, const char *name, const json_t *labels, bool present)
{
	struct ns_e *n = ns_get(c, name);
	json_t *l = labels ? json_deep_copy(labels) : json_object();

	if (!n || !l) {
		json_decref(l);
		return -ENOMEM;
	}
	json_object_set_new(l, "kubernetes.io/metadata.name", json_string(name));
	n->has_obj = present;
	if (json_equal(l, n->labels)) {
		json_decref(l);
		return 0;
	}
	json_decref(n->labels);
	n->labels = l;
	return c->rebuild ? 0 : ns_repeer(c, n);
}

static bool kind_is(const char *kind, const char *k)
{
	return kind && !strcmp(kind, k);
}

int bl_netpol_incr_set(struct bl_netpol_incr *c, const json_t *obj, struct bl_errlist *errs)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	char err[256], what[200], key[KEY_LEN];
	struct bl_k8s_meta m;
	const json_t *labels;
	json_t *copy;
	int e;

	if (!kind_is(kind, "Pod") && !kind_is(kind, "Namespace") && !kind_is(kind, "NetworkPolicy"))
		return 0;
	if (bl_netpol_check(obj, err, sizeof(err))) {
		bool have = false;
		const json_t *md = json_object_get(obj, "metadata");
		const char *nm = json_string_value(json_object_get(md, "name"));
		const char *ns = json_string_value(json_object_get(md, "namespace"));

		if (nm) {
			snprintf(key, sizeof(key), "%s/%s", ns ? ns : "default", nm);
			if (kind_is(kind, "Pod")) {
				struct pod_e *q;

				HASH_FIND_STR(c->pods, key, q);
				have = q != NULL;
			} else if (kind_is(kind, "NetworkPolicy")) {
				struct pol_e *p;

				HASH_FIND_STR(c->pols, key, p);
				have = p != NULL;
			} else {
				struct ns_e *n;

				HASH_FIND_STR(c->ns, nm, n);
				have = n && n->has_obj;
			}
		}
		bl_errlist_add(errs, "%s: %s; %s", bl_k8s_describe(obj, what, sizeof(what)), err,
			       have ? "its last good version stays in force"
				    : "left out (no earlier good version)");
		return -EINVAL;
	}
	bl_k8s_meta_parse(obj, kind_is(kind, "Namespace"), &m, &labels, err, sizeof(err));
	if (kind_is(kind, "Namespace"))
		e = set_ns(c, m.name, labels, true);
	else {
		/* held, not copied: objects from caches and files are replaced, never changed */
		copy = json_incref((json_t *)obj);
		/* labels again, in the object the compiler keeps */
		bl_k8s_meta_parse(copy, false, &m, &labels, err, sizeof(err));
		snprintf(key, sizeof(key), "%s/%s", m.ns, m.name);
		e = kind_is(kind, "Pod") ? set_pod(c, key, &m, copy, labels)
					 : set_pol(c, key, &m, copy);
	}
	if (e)
		c->rebuild = true;
	return e;
}

int bl_netpol_incr_remove(struct bl_netpol_incr *c, const char *kind, const char *ns,
			  const char *name)
{
	struct bl_k8s_meta m = {0};
	char key[KEY_LEN];
	struct ns_e *n;

	snprintf(m.ns, sizeof(m.ns), "%s", ns && *ns ? ns : "default");
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(key, sizeof(key), "%s/%s", m.ns, m.name);
	if (kind_is(kind, "Pod"))
		return set_pod(c, key, &m, NULL, NULL);
	if (kind_is(kind, "NetworkPolicy"))
		return set_pol(c, key, &m, NULL);
	HASH_FIND_STR(c->ns, name, n);
	if (kind_is(kind, "Namespace") && n && n->has_obj)
		return set_ns(c, name, NULL, false);
	return 0;
}

/* ---- whole rebuilds ---- */

static int by_key(const struct pol_e *a, const struct pol_e *b)
{
	return strcmp(a->key, b->key);
}

static int add_range(struct bl_netpol_incr *c, const struct bl_cidr4 *r)
{
	char *sig = malloc(c->n_blocks + 2);
	struct ipc_e *ie = ipc_get(c, r->plen, r->net);
	struct ident *k;
	bool is_new;

	if (!sig || !ie) {
		free(sig);
		return -ENOMEM;
	}
	sig[0] = 'C';
	block_bits(c, r, sig + 1);
	if (!(k = ident_get(c, sig, NULL, &is_new)))
		return -ENOMEM;
	ie->range_id = k->id;
	return 0;
}

static int collect_blocks(struct bl_netpol_incr *c)
{
	const char *dirs[2] = {"ingress", "egress"}, *peers[2] = {"from", "to"};
	struct pol_e *p, *tmp;
	size_t n = 0, ri, qi, xi;
	json_t *rule, *peer, *x;

	HASH_SRT(hh, c->pols, by_key);
	HASH_ITER(hh, c->pols, p, tmp)
	{
		p->block_base = n;
		n += p->n_blocks;
	}
	free(c->blocks);
	c->n_blocks = 0;
	if (!(c->blocks = calloc(n + 1, sizeof(*c->blocks))))
		return -ENOMEM;
	HASH_ITER(hh, c->pols, p, tmp)
	{
		const json_t *spec = json_object_get(p->obj, "spec");

		for (int d = 0; d < 2; d++)
			json_array_foreach(json_object_get(spec, dirs[d]), ri, rule)
				json_array_foreach(json_object_get(rule, peers[d]), qi, peer)
			{
				const json_t *b = bl_np_v4_block(peer);
				struct bl_np_block *k = &c->blocks[c->n_blocks];

				if (!b)
					continue;
				bl_cidr4_parse(json_string_value(json_object_get(b, "cidr")),
					       &k->cidr);
				json_array_foreach(json_object_get(b, "except"), xi, x)
				{
					if (k->n_ex < BL_NP_MAX_EXCEPT)
						bl_cidr4_parse(json_string_value(x),
							       &k->ex[k->n_ex++]);
				}
				c->n_blocks++;
			}
	}
	return 0;
}

static int rebuild(struct bl_netpol_incr *c)
{
	struct pol_e *p, *ptmp;
	struct pod_e *q, *qtmp;
	struct ident *k, *ktmp;
	struct ipc_e *ie, *itmp;
	struct bl_cidr4 any = {0};
	int e;

	c->rebuilds++;
	HASH_ITER(hh, c->pols, p, ptmp) pol_detach(c, p);
	HASH_ITER(hh, c->pods, q, qtmp) pod_detach(c, q);
	HASH_ITER(hh, c->by_sig, k, ktmp) ident_drop(c, k); /* what is left: the ranges */
	HASH_ITER(hh, c->ipc, ie, itmp)
	{
		ie->range_id = 0;
		mark(&c->d_ipc, &ie->dirty, ie);
	}
	if ((e = collect_blocks(c)) || (e = add_range(c, &any)))
		return e;
	for (size_t j = 0; j < c->n_blocks; j++) {
		if ((e = add_range(c, &c->blocks[j].cidr)))
			return e;
		for (size_t x = 0; x < c->blocks[j].n_ex; x++)
			if ((e = add_range(c, &c->blocks[j].ex[x])))
				return e;
	}
	HASH_ITER(hh, c->pods, q, qtmp)
	if ((e = pod_attach(c, q)))
		return e;
	HASH_ITER(hh, c->pols, p, ptmp)
	if ((e = pol_attach(c, p)))
		return e;
	c->rebuild = false;
	return 0;
}

/* ---- hand-out ---- */

#define GROW(arr, n)                                                                               \
	({                                                                                         \
		void *p_ = realloc((arr), ((n) + 1) * sizeof(*(arr)));                             \
		if (p_)                                                                            \
			(arr) = p_;                                                                \
		p_ != NULL;                                                                        \
	})

static uint32_t row_value(const struct row_e *r)
{
	uint32_t v = 0;

	for (uint32_t i = 0; i < r->n; i++)
		if (!v || r->ids[i] < v)
			v = r->ids[i];
	return r->n ? (v ? v : 1) : 0; /* an id-less rule still allows */
}

static uint32_t ipc_value(const struct ipc_e *e)
{
	/* a pod's own /32 beats a range with the same prefix */
	return e->pods.n ? ((struct pod_e *)e->pods.v[0])->ident->id : e->range_id;
}

/* The endpoint's map value; flags 0: not in the map. */
static struct bpflet_pol_ep ep_value(const struct ep_e *e)
{
	struct bpflet_pol_ep v = {0};

	v.flags = (e->cnt[0] ? BPFLET_POL_EP_ISOLATED_INGRESS : 0) |
		  (e->cnt[1] ? BPFLET_POL_EP_ISOLATED_EGRESS : 0);
	for (int d = 0; d < 2; d++)
		for (uint32_t k = 0; k < BPFLET_POL_CLASSES; k++)
			if (e->n_cls[d][k])
				v.classes[d] |= 1u << k;
	return v;
}

static int hand_out(struct bl_netpol_incr *c, struct bl_pol_delta *d)
{
	for (size_t i = 0; i < c->d_rows.n; i++) {
		struct row_e *r = c->d_rows.v[i];
		uint32_t v = row_value(r);

		r->dirty = false;
		if (v && v != r->written) {
			if (!GROW(d->rule_up, d->n_rule_up))
				return -ENOMEM;
			d->rule_up[d->n_rule_up++] = (struct bl_pol_rule){r->key, {v, 0}};
		} else if (!v && r->written) {
			if (!GROW(d->rule_del, d->n_rule_del))
				return -ENOMEM;
			d->rule_del[d->n_rule_del++] = r->key;
		}
		/* the entry enters or leaves the map: its endpoint's classes follow */
		if (!v != !r->written && ep_class(c, &r->key, v ? 1 : -1))
			return -ENOMEM;
		r->written = v;
		if (!r->n) {
			HASH_DEL(c->rows, r);
			row_free(r);
		}
	}
	c->d_rows.n = 0;
	for (size_t i = 0; i < c->d_ipc.n; i++) {
		struct ipc_e *e = c->d_ipc.v[i];
		uint32_t v = ipc_value(e);

		e->dirty = false;
		if (v && v != e->written) {
			if (!GROW(d->ipc_up, d->n_ipc_up))
				return -ENOMEM;
			d->ipc_up[d->n_ipc_up++] = (struct bl_pol_ipcache){e->key, {v, 0}};
		} else if (!v && e->written) {
			if (!GROW(d->ipc_del, d->n_ipc_del))
				return -ENOMEM;
			d->ipc_del[d->n_ipc_del++] = e->key;
		}
		e->written = v;
		if (!v) {
			HASH_DEL(c->ipc, e);
			vec_free(&e->pods);
			free(e);
		}
	}
	c->d_ipc.n = 0;
	for (size_t i = 0; i < c->d_eps.n; i++) {
		struct ep_e *e = c->d_eps.v[i];
		struct bpflet_pol_ep v = ep_value(e);

		e->dirty = false;
		if (v.flags && memcmp(&v, &e->written, sizeof(v))) {
			if (!GROW(d->ep_up, d->n_ep_up))
				return -ENOMEM;
			memset(&d->ep_up[d->n_ep_up], 0, sizeof(d->ep_up[0]));
			d->ep_up[d->n_ep_up].addr = e->ip;
			d->ep_up[d->n_ep_up++].val = v;
		} else if (!v.flags && e->written.flags) {
			if (!GROW(d->ep_del, d->n_ep_del))
				return -ENOMEM;
			d->ep_del[d->n_ep_del++] = e->ip;
		}
		e->written = v.flags ? v : (struct bpflet_pol_ep){0};
		/* kept while an entry names it: its classes are counted here */
		if (!v.flags && !v.classes[0] && !v.classes[1]) {
			HASH_DEL(c->eps, e);
			free(e);
		}
	}
	c->d_eps.n = 0;
	for (size_t i = 0; i < c->d_names.n; i++) {
		uint32_t id = (uint32_t)(uintptr_t)c->d_names.v[i];
		char *now = c->names[id - 1], **was = &c->names_written[id - 1];

		if (now && (!*was || strcmp(now, *was))) {
			if (!GROW(d->name_up, d->n_name_up))
				return -ENOMEM;
			d->name_up[d->n_name_up++] = id;
		} else if (!now && *was) {
			if (!GROW(d->name_del, d->n_name_del))
				return -ENOMEM;
			d->name_del[d->n_name_del++] = id;
		}
		free(*was);
		*was = now ? strdup(now) : NULL;
	}
	c->d_names.n = 0;
	return 0;
}

int bl_netpol_incr_commit(struct bl_netpol_incr *c, struct bl_pol_delta *d)
{
	int e = 0;

	memset(d, 0, sizeof(*d));
	if (c->rebuild)
		e = rebuild(c);
	if (e) {
		c->rebuild = true;
		return e;
	}
	e = hand_out(c, d);
	if (e)
		c->rebuild = true; /* half handed out: the next commit starts over */
	return e;
}

void bl_pol_delta_free(struct bl_pol_delta *d)
{
	free(d->rule_up);
	free(d->rule_del);
	free(d->ipc_up);
	free(d->ipc_del);
	free(d->ep_up);
	free(d->ep_del);
	free(d->name_up);
	free(d->name_del);
	memset(d, 0, sizeof(*d));
}

const char *bl_netpol_incr_rule_name(const struct bl_netpol_incr *c, uint32_t id)
{
	return id && id <= c->n_names ? c->names[id - 1] : NULL;
}

unsigned long bl_netpol_incr_rebuilds(const struct bl_netpol_incr *c)
{
	return c->rebuilds;
}

int bl_netpol_incr_table(const struct bl_netpol_incr *c, struct bl_pol_table *t)
{
	struct row_e *r, *rt;
	struct ipc_e *ie, *it;
	struct ep_e *e, *et;
	size_t last = 0;

	memset(t, 0, sizeof(*t));
	t->rules = calloc(HASH_COUNT(c->rows) + 1, sizeof(*t->rules));
	t->ipcache = calloc(HASH_COUNT(c->ipc) + 1, sizeof(*t->ipcache));
	t->endpoints = calloc(HASH_COUNT(c->eps) + 1, sizeof(*t->endpoints));
	for (size_t i = 0; i < c->n_names; i++)
		if (c->names[i])
			last = i + 1;
	t->rule_names = calloc(last + 1, sizeof(*t->rule_names));
	if (!t->rules || !t->ipcache || !t->endpoints || !t->rule_names)
		goto nomem;
	HASH_ITER(hh, c->rows, r, rt)
	if (row_value(r))
		t->rules[t->n_rules++] = (struct bl_pol_rule){r->key, {row_value(r), 0}};
	HASH_ITER(hh, c->ipc, ie, it)
	if (ipc_value(ie))
		t->ipcache[t->n_ipcache++] = (struct bl_pol_ipcache){ie->key, {ipc_value(ie), 0}};
	HASH_ITER(hh, c->eps, e, et)
	if (ep_value(e).flags) {
		t->endpoints[t->n_endpoints].addr = e->ip;
		t->endpoints[t->n_endpoints++].val = ep_value(e);
	}
	for (size_t i = 0; i < last; i++) {
		if (!(t->rule_names[i] = strdup(c->names[i] ? c->names[i] : "")))
			goto nomem;
		t->n_rule_names++;
	}
	bl_pol_table_sort(t);
	return 0;
nomem:
	bl_pol_table_free(t);
	return -ENOMEM;
}

struct bl_netpol_incr *bl_netpol_incr_new(void)
{
	struct bl_netpol_incr *c = calloc(1, sizeof(*c));

	if (c)
		c->rebuild = true; /* the first commit builds everything */
	return c;
}

void bl_netpol_incr_free(struct bl_netpol_incr *c)
{
	struct pol_e *p, *pt;
	struct pod_e *q, *qt;
	struct ident *k, *kt;
	struct ns_e *n, *nt;
	struct row_e *r, *rt;
	struct ipc_e *ie, *it;
	struct ep_e *e, *et;

	if (!c)
		return;
	HASH_ITER(hh, c->pols, p, pt) pol_free(c, p);
	HASH_ITER(hh, c->pods, q, qt) pod_free(c, q);
	HASH_ITER(hh, c->by_sig, k, kt) ident_drop(c, k);
	HASH_ITER(hh, c->ns, n, nt)
	{
		HASH_DEL(c->ns, n);
		json_decref(n->labels);
		vec_free(&n->pods);
		vec_free(&n->pols);
		vec_free(&n->idents);
		free(n);
	}
	HASH_ITER(hh, c->rows, r, rt)
	{
		HASH_DEL(c->rows, r);
		row_free(r);
	}
	HASH_ITER(hh, c->ipc, ie, it)
	{
		HASH_DEL(c->ipc, ie);
		vec_free(&ie->pods);
		free(ie);
	}
	HASH_ITER(hh, c->eps, e, et)
	{
		HASH_DEL(c->eps, e);
		free(e);
	}
	for (size_t i = 0; i < c->n_names; i++) {
		free(c->names[i]);
		free(c->names_written[i]);
	}
	free(c->names);
	free(c->names_written);
	free(c->blocks);
	vec_free(&c->d_rows);
	vec_free(&c->d_ipc);
	vec_free(&c->d_eps);
	vec_free(&c->d_names);
	free(c);
}
