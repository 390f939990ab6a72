/* NetworkPolicy compiler (see netpol.h): identities, ipcache, then rules per policy. */
#include "controlplane/compile/netpol.h"

#include "agent/common/netaddr.h"
#include "controlplane/compile/k8s_json.h"
#include "controlplane/compile/k8s_object.h"
#include "controlplane/compile/label_selector.h"
#include "controlplane/compile/netpol_rules.h"
#include "controlplane/compile/netpol_validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ns_ent {
	char name[64];
	json_t *labels; /* own copy, with kubernetes.io/metadata.name */
};

struct pod_ent {
	struct bl_k8s_meta meta;
	const json_t *labels, *containers;
	uint32_t ip; /* host order */
	bool has_ip;
	uint32_t id;
};

/* An identity: the pods (or address ranges) sharing one signature. */
struct ident {
	char *sig; /* "P<bits>\n<ns>\n<labels>\n<ports>" or "C<bits>"; bit j = ipBlock j */
	const struct pod_ent *rep; /* a pod carrying it; NULL for address ranges */
	const json_t *ns_labels;   /* rep's namespace's labels */
	size_t ord;		   /* order of discovery: the first pod is the rep */
	uint32_t hash, id;
};

struct ctx {
	struct ns_ent *ns;
	size_t n_ns;
	struct pod_ent *pods;
	size_t n_pods;
	json_t *const *pols;
	size_t n_pols;
	struct bl_np_block *blocks;
	size_t n_blocks;
	struct ident *ids;
	size_t n_ids;
	struct bl_pol_table *t;
	size_t cap_rules;
};

size_t bl_port_range_prefixes(uint16_t lo, uint16_t hi, uint16_t *ports, uint8_t *plens)
{
	uint32_t a = lo, b = hi;
	size_t n = 0;

	while (a <= b) {
		uint32_t size = a ? (a & -a) : 0x10000;
		uint8_t bits = 0;

		while (a + size - 1 > b)
			size >>= 1;
		while ((1u << bits) < size)
			bits++;
		ports[n] = (uint16_t)a;
		plens[n++] = (uint8_t)(16 - bits);
		a += size;
	}
	return n;
}

static const json_t *ns_labels(const struct ctx *c, const char *ns)
{
	for (size_t i = 0; i < c->n_ns; i++)
		if (!strcmp(c->ns[i].name, ns))
			return c->ns[i].labels;
	return NULL; /* filled in for every pod's namespace before use */
}

static int add_ns(struct ctx *c, const char *name, const json_t *labels)
{
	struct ns_ent *n;

	for (size_t i = 0; i < c->n_ns; i++)
		if (!strcmp(c->ns[i].name, name)) {
			if (labels) { /* the Namespace object wins over an implied one */
				json_object_update(c->ns[i].labels, (json_t *)labels);
				json_object_set_new(c->ns[i].labels, "kubernetes.io/metadata.name",
						    json_string(name));
			}
			return 0;
		}
	n = realloc(c->ns, (c->n_ns + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	c->ns = n;
	n = &c->ns[c->n_ns];
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->labels = labels ? json_deep_copy(labels) : json_object();
	if (!n->labels)
		return -ENOMEM;
	json_object_set_new(n->labels, "kubernetes.io/metadata.name", json_string(name));
	c->n_ns++;
	return 0;
}

static void ctx_free(struct ctx *c)
{
	for (size_t i = 0; i < c->n_ns; i++)
		json_decref(c->ns[i].labels);
	for (size_t i = 0; i < c->n_ids; i++)
		free(c->ids[i].sig);
	free(c->ns);
	free(c->pods);
	free(c->blocks);
	free(c->ids);
}

void bl_pol_table_free(struct bl_pol_table *t)
{
	for (size_t i = 0; i < t->n_rule_names; i++)
		free(t->rule_names[i]);
	free(t->rule_names);
	free(t->ipcache);
	free(t->rules);
	free(t->endpoints);
	memset(t, 0, sizeof(*t));
}

static bool policy_kind(const char *kind)
{
	return kind && (!strcmp(kind, "Pod") || !strcmp(kind, "Namespace") ||
			!strcmp(kind, "NetworkPolicy"));
}

static int check_obj(const json_t *obj, const char *kind, struct bl_k8s_meta *m,
		     const json_t **labels, char *err, size_t errlen)
{
	/* Namespace names are DNS labels, the others DNS subdomains */
	int e = bl_k8s_meta_parse(obj, !strcmp(kind, "Namespace"), m, labels, err, errlen);

	if (!e && !strcmp(kind, "Pod"))
		e = bl_pod_validate(obj, err, errlen);
	if (!e && !strcmp(kind, "NetworkPolicy"))
		e = bl_netpol_validate(obj, err, errlen);
	return e;
}

int bl_netpol_check(const json_t *obj, char *err, size_t errlen)
{
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	struct bl_k8s_meta m;
	const json_t *labels;

	return policy_kind(kind) ? check_obj(obj, kind, &m, &labels, err, errlen) : 0;
}

/* Pass 1: Namespaces, Pods and policies, every object checked; a bad one is reported
 * and left out. */
static int collect(struct ctx *c, json_t *const *objs, size_t n, struct bl_errlist *errs)
{
	json_t **pols = calloc(n + 1, sizeof(*pols));
	char err[256], what[200];
	int e;

	c->pods = calloc(n + 1, sizeof(*c->pods));
	if (!pols || !c->pods) {
		free(pols);
		return -ENOMEM;
	}
	c->pols = pols;
	for (size_t i = 0; i < n; i++) {
		const char *kind = json_string_value(json_object_get(objs[i], "kind"));
		struct bl_k8s_meta m;
		const json_t *labels;
		bool ns_kind;

		if (!policy_kind(kind))
			continue;
		ns_kind = !strcmp(kind, "Namespace");
		if (check_obj(objs[i], kind, &m, &labels, err, sizeof(err))) {
			bl_errlist_add(errs, "%s: %s", bl_k8s_describe(objs[i], what, sizeof(what)),
				       err);
			continue;
		}
		if (ns_kind) {
			if ((e = add_ns(c, m.name, labels)))
				return e;
		} else if (!strcmp(kind, "Pod")) {
			struct pod_ent *p = &c->pods[c->n_pods++];
			const char *ip = json_string_value(
				json_object_get(json_object_get(objs[i], "status"), "podIP"));
			const json_t *spec = json_object_get(objs[i], "spec");
			struct in_addr in;

			p->meta = m;
			p->labels = labels;
			p->containers = json_object_get(spec, "containers");
			/* host-network pods share the node's address: policy never applies */
			if (ip && inet_pton(AF_INET, ip, &in) == 1 &&
			    !json_is_true(json_object_get(spec, "hostNetwork"))) {
				p->ip = ntohl(in.s_addr);
				p->has_ip = true;
			}
			if ((e = add_ns(c, m.ns, NULL)))
				return e;
		} else {
			pols[c->n_pols++] = objs[i];
			if ((e = add_ns(c, m.ns, NULL)))
				return e;
		}
	}
	return 0;
}

#define FOR_PEERS(c, fn)                                                                           \
	for (size_t pi = 0; pi < (c)->n_pols; pi++) {                                              \
		const json_t *spec_ = json_object_get((c)->pols[pi], "spec");                      \
		const char *dirs_[2] = {"ingress", "egress"}, *peers_[2] = {"from", "to"};         \
		for (int d_ = 0; d_ < 2; d_++) {                                                   \
			size_t ri_, qi_;                                                           \
			json_t *rule_, *peer_;                                                     \
			json_array_foreach(json_object_get(spec_, dirs_[d_]), ri_, rule_)          \
			{                                                                          \
				json_array_foreach(json_object_get(rule_, peers_[d_]), qi_, peer_) \
				{                                                                  \
					fn;                                                        \
				}                                                                  \
			}                                                                          \
		}                                                                                  \
	}

/* The IPv4 ipBlocks of all policies, numbered in policy order (peer_ is in scope). */
static int collect_blocks(struct ctx *c)
{
	size_t n = 0;

	FOR_PEERS(c, n += bl_np_v4_block(peer_) != NULL);
	c->blocks = calloc(n + 1, sizeof(*c->blocks));
	if (!c->blocks)
		return -ENOMEM;
	FOR_PEERS(c, {
		const json_t *b = bl_np_v4_block(peer_);
		struct bl_np_block *k = &c->blocks[c->n_blocks];
		size_t xi;
		json_t *x;

		if (b) {
			bl_cidr4_parse(json_string_value(json_object_get(b, "cidr")), &k->cidr);
			json_array_foreach(json_object_get(b, "except"), xi, x)
			{
				if (k->n_ex < 64)
					bl_cidr4_parse(json_string_value(x), &k->ex[k->n_ex++]);
			}
			c->n_blocks++;
		}
	});
	return 0;
}

/* Membership of an address range (a /32 for a pod) in every block, as '0'/'1'. */
static void block_bits(const struct ctx *c, const struct bl_cidr4 *r, char *bits)
{
	bl_np_block_bits(c->blocks, c->n_blocks, r, bits);
}

static char *pod_sig(const struct ctx *c, const struct pod_ent *p)
{
	struct bl_cidr4 r = {.net = p->ip, .plen = 32};
	char *bits = malloc(c->n_blocks + 1), *sig = NULL;

	if (!bits)
		return NULL;
	if (p->has_ip)
		block_bits(c, &r, bits);
	else
		memset(bits, '0', c->n_blocks), bits[c->n_blocks] = '\0';
	sig = bl_np_pod_sig(bits, p->meta.ns, p->labels, p->containers);
	free(bits);
	return sig;
}

static int ident_by_sig(const void *a, const void *b)
{
	return strcmp(((const struct ident *)a)->sig, ((const struct ident *)b)->sig);
}

static int ident_by_hash(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return strcmp(x->sig, y->sig);
}

/* ids are sorted by signature once assign_ids ran */
static int ident_find(const struct ctx *c, const char *sig)
{
	size_t lo = 0, hi = c->n_ids;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = strcmp(c->ids[mid].sig, sig);

		if (!d)
			return (int)mid;
		if (d < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static int ident_by_sig_ord(const void *a, const void *b)
{
	const struct ident *x = a, *y = b;
	int d = strcmp(x->sig, y->sig);

	return d ? d : (x->ord > y->ord) - (x->ord < y->ord);
}

/* Sort by signature and keep the first of each: O(n log n), not a scan per pod. */
static void dedupe_idents(struct ctx *c)
{
	size_t k = 0;

	qsort(c->ids, c->n_ids, sizeof(*c->ids), ident_by_sig_ord);
	for (size_t i = 0; i < c->n_ids; i++) {
		if (k && !strcmp(c->ids[k - 1].sig, c->ids[i].sig)) {
			free(c->ids[i].sig);
			continue;
		}
		c->ids[k++] = c->ids[i];
	}
	c->n_ids = k;
	for (size_t i = 0; i < c->n_ids; i++)
		c->ids[i].ns_labels = c->ids[i].rep ? ns_labels(c, c->ids[i].rep->meta.ns) : NULL;
}

/* Identities are stable across compiles: a hash of the signature, the next free value
 * on a collision (in signature order, so deterministic). */
static void assign_ids(struct ctx *c)
{
	uint32_t prev = 0;

	for (size_t i = 0; i < c->n_ids; i++)
		c->ids[i].hash = BPFLET_POL_PEER_MIN + bl_np_fnv1a(c->ids[i].sig) % 0x70000000u;
	qsort(c->ids, c->n_ids, sizeof(*c->ids), ident_by_hash);
	for (size_t i = 0; i < c->n_ids; i++) {
		c->ids[i].id = i && c->ids[i].hash <= prev ? prev + 1 : c->ids[i].hash;
		prev = c->ids[i].id;
	}
	qsort(c->ids, c->n_ids, sizeof(*c->ids), ident_by_sig);
}

static int add_ident(struct ctx *c, char *sig, const struct pod_ent *rep, size_t *cap)
{
	if (c->n_ids == *cap) {
		size_t nc = *cap ? *cap * 2 : 64;
		struct ident *n = realloc(c->ids, nc * sizeof(*n));

		if (!n) {
			free(sig);
			return -ENOMEM;
		}
		c->ids = n;
		*cap = nc;
	}
	c->ids[c->n_ids] = (struct ident){.sig = sig, .rep = rep, .ord = c->n_ids};
	c->n_ids++;
	return 0;
}

static uint32_t id_of(const struct ctx *c, const char *sig)
{
	int i = ident_find(c, sig);

	return i < 0 ? 0 : c->ids[i].id;
}

static int cidr_cmp(const void *a, const void *b)
{
	const struct bl_pol_ipcache *x = a, *y = b;

	if (x->key.prefixlen != y->key.prefixlen)
		return x->key.prefixlen < y->key.prefixlen ? -1 : 1;
	return memcmp(&x->key.addr, &y->key.addr, 4);
}

/* Pass 2: identities for pods and address ranges, and the ipcache. */
static int build_ipcache(struct ctx *c, struct bl_errlist *errs)
{
	size_t cap = 0, n_pref = 1, k = 0;
	struct bl_cidr4 *pref;
	struct bl_pol_ipcache *ipc;
	int e;

	for (size_t j = 0; j < c->n_blocks; j++)
		n_pref += 1 + c->blocks[j].n_ex;
	pref = calloc(n_pref, sizeof(*pref));
	ipc = calloc(n_pref + c->n_pods + 1, sizeof(*ipc));
	if (!pref || !ipc) {
		free(pref);
		free(ipc);
		return -ENOMEM;
	}
	n_pref = 1; /* pref[0] = 0.0.0.0/0: addresses no block or pod names */
	for (size_t j = 0; j < c->n_blocks; j++) {
		pref[n_pref++] = c->blocks[j].cidr;
		for (size_t x = 0; x < c->blocks[j].n_ex; x++)
			pref[n_pref++] = c->blocks[j].ex[x];
	}
	for (size_t i = 0; i < c->n_pods; i++) {
		char *sig = pod_sig(c, &c->pods[i]);

		if (!sig || (e = add_ident(c, sig, &c->pods[i], &cap)))
			goto nomem;
	}
	for (size_t i = 0; i < n_pref; i++) {
		char *sig = malloc(c->n_blocks + 2);

		if (!sig)
			goto nomem;
		sig[0] = 'C';
		block_bits(c, &pref[i], sig + 1);
		if ((e = add_ident(c, sig, NULL, &cap)))
			goto nomem;
	}
	dedupe_idents(c);
	assign_ids(c);
	for (size_t i = 0; i < c->n_pods; i++) {
		char *sig = pod_sig(c, &c->pods[i]);

		if (!sig)
			goto nomem;
		c->pods[i].id = id_of(c, sig);
		free(sig);
		if (!c->pods[i].has_ip)
			continue;
		ipc[k].key = (struct bpflet_ipcache_key){32, htonl(c->pods[i].ip)};
		ipc[k++].val.id = c->pods[i].id;
	}
	for (size_t i = 0; i < n_pref; i++) {
		char *sig = malloc(c->n_blocks + 2);

		if (!sig)
			goto nomem;
		sig[0] = 'C';
		block_bits(c, &pref[i], sig + 1);
		ipc[k].key = (struct bpflet_ipcache_key){pref[i].plen, htonl(pref[i].net)};
		ipc[k++].val.id = id_of(c, sig);
		free(sig);
	}
	/* same prefix twice: a pod's /32 (listed first) beats an except, the first pod wins */
	qsort(ipc, k, sizeof(*ipc), cidr_cmp);
	c->t->n_ipcache = 0;
	for (size_t i = 0; i < k; i++) {
		if (c->t->n_ipcache && !cidr_cmp(&ipc[c->t->n_ipcache - 1], &ipc[i]))
			continue;
		ipc[c->t->n_ipcache++] = ipc[i];
	}
	c->t->ipcache = ipc;
	free(pref);
	(void)errs;
	return 0;
nomem:
	free(pref);
	free(ipc);
	return -ENOMEM;
}

static int push_rule(void *arg, uint32_t ep, uint32_t peer, uint8_t dir, uint8_t proto,
		     uint16_t port, uint32_t plen, uint32_t rule_id)
{
	struct ctx *c = arg;
	struct bl_pol_table *t = c->t;
	struct bl_pol_rule *r;

	if (t->n_rules == c->cap_rules) {
		size_t nc = c->cap_rules ? c->cap_rules * 2 : 256;

		r = realloc(t->rules, nc * sizeof(*r));
		if (!r)
			return -ENOMEM;
		t->rules = r;
		c->cap_rules = nc;
	}
	bl_np_rule_fill(&t->rules[t->n_rules++], ep, peer, dir, proto, port, plen, rule_id);
	return 0;
}

/* Does identity k match this peer of a policy in namespace pol_ns? */
static bool peer_matches(const struct ctx *c, const struct ident *k, const json_t *peer,
			 const char *pol_ns, size_t block_idx)
{
	struct bl_np_ident id = {.ns = k->rep ? k->rep->meta.ns : NULL,
				 .ns_labels = k->ns_labels,
				 .labels = k->rep ? k->rep->labels : NULL,
				 .block_bits = k->sig + 1};

	return bl_np_peer_matches(&id, peer, pol_ns, block_idx, c->n_blocks);
}

/* The entries of a rule's ports for endpoint ep and one identity. */
static int emit_ports(struct ctx *c, const struct pod_ent *ep, uint32_t peer,
		      const struct pod_ent *peer_pod, uint8_t dir, const json_t *ports,
		      uint32_t rule_id)
{
	return bl_np_emit_ports(ep->ip, ep->containers, peer,
				peer_pod ? peer_pod->containers : NULL, dir, ports, rule_id,
				push_rule, c);
}

/* match[q * n_ids + k]: does peer q of a rule take identity k. Depends on the rule and
 * the policy's namespace only, so it is worked out once, not once per selected pod. */
static uint8_t *rule_matches(const struct ctx *c, const json_t *peers, const char *pol_ns,
			     size_t block_idx)
{
	uint8_t *match = calloc(json_array_size(peers) * c->n_ids + 1, 1);
	size_t qi;
	json_t *peer;

	if (!match)
		return NULL;
	json_array_foreach(peers, qi, peer)
	{
		bool is_block = json_object_get(peer, "ipBlock") != NULL;
		bool v4 = bl_np_v4_block(peer) != NULL;
		size_t bi = block_idx;

		if (v4)
			block_idx++;
		if (is_block && !v4)
			continue; /* IPv6 */
		for (size_t k = 0; k < c->n_ids; k++)
			match[qi * c->n_ids + k] = peer_matches(c, &c->ids[k], peer, pol_ns, bi);
	}
	return match;
}

static int emit_rule(struct ctx *c, const struct pod_ent *ep, uint8_t dir, const json_t *rule,
		     const uint8_t *match, uint32_t rule_id)
{
	const json_t *peers = json_object_get(rule, dir == BPFLET_POL_INGRESS ? "from" : "to");
	const json_t *ports = json_object_get(rule, "ports");
	size_t qi;
	int e;

	if (json_array_size(peers) == 0) {
		/* all peers; an egress named port still needs each destination pod */
		if (dir == BPFLET_POL_EGRESS && bl_np_has_named_port(ports)) {
			for (size_t k = 0; k < c->n_ids; k++)
				if (c->ids[k].rep &&
				    (e = emit_ports(c, ep, c->ids[k].id, c->ids[k].rep, dir, ports,
						    rule_id)))
					return e;
		}
		return emit_ports(c, ep, BPFLET_POL_PEER_ANY, NULL, dir, ports, rule_id);
	}
	for (qi = 0; qi < json_array_size(peers); qi++) {
		for (size_t k = 0; k < c->n_ids; k++) {
			if (!match[qi * c->n_ids + k])
				continue;
			if ((e = emit_ports(c, ep, c->ids[k].id, c->ids[k].rep, dir, ports,
					    rule_id)))
				return e;
		}
	}
	return 0;
}

static int rule_cmp(const void *a, const void *b)
{
	const struct bl_pol_rule *x = a, *y = b;
	int d = memcmp(&x->key, &y->key, sizeof(x->key));

	if (d)
		return d;
	return x->val.rule_id < y->val.rule_id ? -1 : x->val.rule_id > y->val.rule_id;
}

static int ep_cmp(const void *a, const void *b)
{
	uint32_t x = ntohl(((const struct bl_pol_endpoint *)a)->addr);
	uint32_t y = ntohl(((const struct bl_pol_endpoint *)b)->addr);

	return x < y ? -1 : x > y;
}

void bl_pol_table_classes(struct bl_pol_table *t)
{
	for (size_t i = 0; i < t->n_rules; i++) {
		const struct bpflet_pol_key *k = &t->rules[i].key;
		struct bl_pol_endpoint want = {.addr = k->ep_addr}, *ep;

		if (k->dir > BPFLET_POL_EGRESS || !t->n_endpoints)
			continue;
		ep = bsearch(&want, t->endpoints, t->n_endpoints, sizeof(*ep), ep_cmp);
		if (ep)
			ep->val.classes[k->dir] |= 1u << bpflet_pol_class(k->prefixlen);
	}
}

static int add_rule_name(struct bl_pol_table *t, const struct bl_k8s_meta *m, const char *dir,
			 size_t i)
{
	char **n = realloc(t->rule_names, (t->n_rule_names + 1) * sizeof(*n));

	if (!n)
		return -ENOMEM;
	t->rule_names = n;
	if (asprintf(&n[t->n_rule_names], "%s/%s %s[%zu]", m->ns, m->name, dir, i) < 0)
		return -ENOMEM;
	t->n_rule_names++;
	return 0;
}

/* Pass 3: every policy's selected pods become isolated endpoints with allow entries. */
static int build_rules(struct ctx *c)
{
	struct bl_pol_table *t = c->t;
	size_t block_base = 0;
	int e;

	t->endpoints = calloc(c->n_pods + 1, sizeof(*t->endpoints));
	size_t *sel_pods = calloc(c->n_pods + 1, sizeof(*sel_pods));
	long *ep_of = malloc((c->n_pods + 1) * sizeof(*ep_of)); /* pod → its endpoint */

	e = 0;
	if (!t->endpoints || !sel_pods || !ep_of) {
		e = -ENOMEM;
		goto out;
	}
	for (size_t k = 0; k < c->n_pods; k++)
		ep_of[k] = -1;
	for (size_t pi = 0; pi < c->n_pols && !e; pi++) {
		const json_t *spec = json_object_get(c->pols[pi], "spec");
		const json_t *sel = json_object_get(spec, "podSelector");
		const char *dirs[2] = {"ingress", "egress"}, *types[2] = {"Ingress", "Egress"};
		uint32_t flags[2] = {BPFLET_POL_EP_ISOLATED_INGRESS, BPFLET_POL_EP_ISOLATED_EGRESS};
		struct bl_k8s_meta m;
		const json_t *labels;
		char err[64];
		size_t next_block = block_base, n_sel = 0;

		bl_k8s_meta_parse(c->pols[pi], false, &m, &labels, err, sizeof(err));
		for (size_t k = 0; k < c->n_pods; k++) {
			const struct pod_ent *p = &c->pods[k];

			if (p->has_ip && !strcmp(p->meta.ns, m.ns) &&
			    bl_selector_matches(sel, p->labels))
				sel_pods[n_sel++] = k;
		}
		for (int d = 0; d < 2 && !e; d++) {
			const json_t *rules = json_object_get(spec, dirs[d]);
			bool on = bl_np_lists_type(spec, types[d]);
			size_t ri;
			json_t *rule;

			json_array_foreach(rules, ri, rule)
			{
				const json_t *peers = json_object_get(rule, d ? "to" : "from");
				uint8_t *match = NULL;
				uint32_t rule_id;
				size_t qi;
				json_t *peer;

				if ((e = add_rule_name(t, &m, dirs[d], ri)))
					break;
				rule_id = (uint32_t)t->n_rule_names;
				if (on && n_sel && json_array_size(peers) &&
				    !(match = rule_matches(c, peers, m.ns, next_block))) {
					e = -ENOMEM;
					break;
				}
				for (size_t x = 0; on && x < n_sel && !e; x++)
					e = emit_rule(c, &c->pods[sel_pods[x]], (uint8_t)d, rule,
						      match, rule_id);
				free(match);
				if (e)
					break;
				/* blocks are numbered whether or not a pod was selected */
				json_array_foreach(peers, qi, peer) next_block +=
					bl_np_v4_block(peer) != NULL;
			}
			for (size_t x = 0; on && x < n_sel && !e; x++) {
				const struct pod_ent *p = &c->pods[sel_pods[x]];
				struct bl_pol_endpoint *ep;

				if (ep_of[sel_pods[x]] < 0) {
					ep_of[sel_pods[x]] = (long)t->n_endpoints;
					ep = &t->endpoints[t->n_endpoints++];
					ep->addr = htonl(p->ip);
					snprintf(ep->ns, sizeof(ep->ns), "%s", p->meta.ns);
					snprintf(ep->name, sizeof(ep->name), "%s", p->meta.name);
				}
				t->endpoints[ep_of[sel_pods[x]]].val.flags |= flags[d];
			}
		}
		block_base = next_block;
	}
out:
	free(sel_pods);
	free(ep_of);
	if (e)
		return e;
	qsort(t->endpoints, t->n_endpoints, sizeof(*t->endpoints), ep_cmp);
	{
		/* two Pod objects with one address (a stale one and its successor): one
		 * endpoint, isolated as either says */
		size_t k = 0;

		for (size_t i = 0; i < t->n_endpoints; i++) {
			if (k && t->endpoints[k - 1].addr == t->endpoints[i].addr) {
				t->endpoints[k - 1].val.flags |= t->endpoints[i].val.flags;
				continue;
			}
			t->endpoints[k++] = t->endpoints[i];
		}
		t->n_endpoints = k;
	}
	if (t->n_rules)
		qsort(t->rules, t->n_rules, sizeof(*t->rules), rule_cmp);
	{
		size_t k = 0;

		for (size_t i = 0; i < t->n_rules; i++) {
			if (k && !memcmp(&t->rules[k - 1].key, &t->rules[i].key,
					 sizeof(t->rules[i].key)))
				continue;
			t->rules[k++] = t->rules[i];
		}
		t->n_rules = k;
	}
	bl_pol_table_classes(t);
	return 0;
}

void bl_pol_table_sort(struct bl_pol_table *t)
{
	if (t->n_rules)
		qsort(t->rules, t->n_rules, sizeof(*t->rules), rule_cmp);
	if (t->n_ipcache)
		qsort(t->ipcache, t->n_ipcache, sizeof(*t->ipcache), cidr_cmp);
	if (t->n_endpoints)
		qsort(t->endpoints, t->n_endpoints, sizeof(*t->endpoints), ep_cmp);
}

int bl_netpol_compile(json_t *const *objs, size_t n, struct bl_pol_table *t,
		      struct bl_errlist *errs)
{
	struct ctx c = {.t = t};
	int e;

	memset(t, 0, sizeof(*t));
	e = collect(&c, objs, n, errs);
	if (!e)
		e = collect_blocks(&c);
	if (!e)
		e = build_ipcache(&c, errs);
	if (!e)
		e = build_rules(&c);
	free((void *)c.pols);
	ctx_free(&c);
	if (e)
		bl_pol_table_free(t);
	return e;
}
