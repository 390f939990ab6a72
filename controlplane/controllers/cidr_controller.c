/* Pod CIDR allocation: every Node without spec.podCIDR gets the lowest free block of the
 * cluster CIDR (spec.podCIDR and spec.podCIDRs); blocks Nodes already have are adopted at
 * start and followed through watch events; a deleted Node's block is free again. When
 * none is left the Node is logged and gets a CIDRNotAvailable Event, once, and is tried
 * again when a block frees. */
#include "controlplane/controllers/cidr_alloc.h"
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/manager.h"
#include "agent/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct cidr_ctl {
	struct bl_cidr_alloc alloc;
	json_t *owners;	   /* node name → the block it holds */
	json_t *need;	   /* node names waiting for a block (set) */
	json_t *exhausted; /* of those, the ones told that none is left (set) */
	struct event *ev;
	char range[40]; /* the cluster CIDR, for messages */
};

/* The node holds cidr now (it may have held another). */
static void follow(struct cidr_ctl *s, const char *node, const char *cidr)
{
	const char *had = json_string_value(json_object_get(s->owners, node)), *k;
	json_t *v;
	int rc;

	if (had && !strcmp(had, cidr))
		return;
	if (had)
		bl_cidr_alloc_release(&s->alloc, had);
	json_object_del(s->owners, node);
	rc = bl_cidr_alloc_adopt(&s->alloc, cidr);
	if (rc == -EEXIST) {
		json_object_foreach(s->owners, k, v) if (!strcmp(json_string_value(v), cidr))
			log_warn("pod CIDR allocator: node %s has podCIDR %s, which node %s "
				 "holds",
				 node, cidr, k);
		return;
	}
	if (rc) {
		log_debug("pod CIDR allocator: node %s has podCIDR %s, not a /%d of %s", node, cidr,
			  s->alloc.mask, s->range);
		return;
	}
	json_object_set_new(s->owners, node, json_string(cidr));
}

static void forget(struct cidr_ctl *s, const char *node)
{
	const char *had = json_string_value(json_object_get(s->owners, node));

	if (had) {
		bl_cidr_alloc_release(&s->alloc, had);
		log_info("pod CIDR allocator: %s free again (node %s gone)", had, node);
	}
	json_object_del(s->owners, node);
	json_object_del(s->need, node);
	json_object_del(s->exhausted, node);
}

/* A stored node as the allocator sees it. */
static void observe(struct cidr_ctl *s, json_t *node)
{
	const char *name = bl_ctl_str(node, "metadata.name");
	const char *cidr = bl_ctl_str(node, "spec.podCIDR");

	if (!name)
		return;
	if (cidr && cidr[0]) {
		follow(s, name, cidr);
		json_object_del(s->need, name);
		json_object_del(s->exhausted, name);
	} else if (!bl_ctl_get(node, "metadata.deletionTimestamp")) {
		json_object_set_new(s->need, name, json_true());
	}
}

static void no_block_left(struct bl_controllers *c, const char *name)
{
	struct cidr_ctl *s = c->cidr;
	char msg[300];
	json_t *node;

	if (json_object_get(s->exhausted, name))
		return;
	json_object_set_new(s->exhausted, name, json_true());
	log_warn("pod CIDR allocator: no free /%d left in %s for node %s", s->alloc.mask, s->range,
		 name);
	snprintf(msg, sizeof(msg),
		 "Node %s status is now: CIDRNotAvailable (no free /%d left in %s)", name,
		 s->alloc.mask, s->range);
	node = json_pack("{s:{s:s}}", "metadata", "name", name);
	bl_ctl_record_event(c->srv, node, "Node", "Warning", "CIDRNotAvailable", msg,
			    "node-ipam-controller");
	json_decref(node);
}

/* 0 done (or nothing to do), -1 try again later. */
static int assign(struct bl_controllers *c, const char *name)
{
	struct cidr_ctl *s = c->cidr;
	char path[400], cidr[40];
	json_t *node = NULL, *patch;
	int code;

	snprintf(path, sizeof(path), "/api/v1/nodes/%s", name);
	code = bl_ctl_request(c->srv, "GET", path, NULL, NULL, &node);
	if (code != 200 || bl_ctl_str(node, "spec.podCIDR")) {
		if (code == 200)
			observe(s, node);
		json_decref(node);
		return code == 200 || code == 404 ? 0 : -1;
	}
	if (bl_cidr_alloc_next(&s->alloc, cidr, sizeof(cidr))) {
		json_decref(node);
		no_block_left(c, name);
		return 0;
	}
	/* resourceVersion: a Node changed meanwhile is read again, not overwritten */
	patch = json_pack("{s:{s:O}, s:{s:s, s:[s]}}", "metadata", "resourceVersion",
			  bl_ctl_get(node, "metadata.resourceVersion"), "spec", "podCIDR", cidr,
			  "podCIDRs", cidr);
	json_decref(node);
	json_object_set_new(s->owners, name, json_string(cidr));
	code = bl_ctl_request(c->srv, "PATCH", path, "application/merge-patch+json", patch, NULL);
	json_decref(patch);
	if (code == 200) {
		log_info("pod CIDR allocator: node %s gets %s", name, cidr);
		json_object_del(s->need, name);
		json_object_del(s->exhausted, name);
		return 0;
	}
	bl_cidr_alloc_release(&s->alloc, cidr);
	json_object_del(s->owners, name);
	return code == 404 ? 0 : -1;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct cidr_ctl *s = c->cidr;
	json_t *todo = json_deep_copy(s->need), *v;
	const char *name;
	int rc = 0;

	(void)fd;
	(void)what;
	json_object_foreach(todo, name, v)
	{
		if (!json_object_get(s->exhausted, name))
			rc |= assign(c, name);
	}
	json_decref(todo);
	if (rc) {
		struct timeval later = {1, 0};

		event_add(s->ev, &later);
	}
}

int bl_cidr_ctl_start(struct bl_controllers *c)
{
	struct cidr_ctl *s = calloc(1, sizeof(*s));
	json_t *nodes, *n;
	struct in_addr in;
	size_t i;

	if (!s)
		return -1;
	c->cidr = s;
	in.s_addr = htonl(c->cfg.cluster_cidr.net);
	snprintf(s->range, sizeof(s->range), "%s/%u", inet_ntoa(in), c->cfg.cluster_cidr.plen);
	if (bl_cidr_alloc_init(&s->alloc, &c->cfg.cluster_cidr, c->cfg.node_cidr_mask)) {
		log_err("pod CIDR allocator: /%d blocks of %s: not possible", c->cfg.node_cidr_mask,
			s->range);
		return -1;
	}
	s->owners = json_object();
	s->need = json_object();
	s->exhausted = json_object();
	s->ev = evtimer_new(c->base, on_sync, c);
	nodes = bl_ctl_list(c->srv, "/registry/nodes/");
	if (!s->ev || !nodes) {
		json_decref(nodes);
		return -1;
	}
	/* what Nodes hold first, so that nothing is handed out twice */
	json_array_foreach(nodes, i, n) observe(s, n);
	json_decref(nodes);
	log_info("pod CIDR allocator: /%d blocks of %s, %zu in use", s->alloc.mask, s->range,
		 s->alloc.nused);
	bl_ctl_kick(s->ev);
	return 0;
}

void bl_cidr_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	struct cidr_ctl *s = c->cidr;
	json_t *node;

	if (!s || !s->ev || strcmp(e->res, "nodes"))
		return;
	if (e->ev->type == BL_EV_DELETE) {
		forget(s, e->name);
		/* a block came free: the ones that found none try again */
		json_object_clear(s->exhausted);
		if (json_object_size(s->need))
			bl_ctl_kick(s->ev);
		return;
	}
	node = json_loadb(e->ev->kv->value, e->ev->kv->len, 0, NULL);
	if (!node)
		return;
	observe(s, node);
	json_decref(node);
	if (json_object_size(s->need) > json_object_size(s->exhausted))
		bl_ctl_kick(s->ev);
}

void bl_cidr_ctl_stop(struct bl_controllers *c)
{
	struct cidr_ctl *s = c->cidr;

	if (!s)
		return;
	if (s->ev)
		event_free(s->ev);
	bl_cidr_alloc_free(&s->alloc);
	json_decref(s->owners);
	json_decref(s->need);
	json_decref(s->exhausted);
	free(s);
	c->cidr = NULL;
}
