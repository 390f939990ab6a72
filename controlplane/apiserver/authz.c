#include "controlplane/apiserver/authz.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/server.h"

#include <string.h>

static bool in_group(const struct bl_user *u, const char *g)
{
	for (int i = 0; i < u->ngroups; i++)
		if (!strcmp(u->groups[i], g))
			return true;
	return false;
}

/* The node's name, or NULL when u is not a node. */
static const char *node_name(const struct bl_user *u)
{
	if (!in_group(u, "system:nodes") || strncmp(u->name, "system:node:", 12) || !u->name[12])
		return NULL;
	return u->name + 12;
}

static bool is_read(const char *verb)
{
	return !strcmp(verb, "get") || !strcmp(verb, "list") || !strcmp(verb, "watch");
}

/* The stored pod is bound to node? */
static bool pod_on_node(struct hx *x, const struct bl_route *r, const char *node)
{
	char key[600];
	struct bl_kv kv;
	json_t *pod;
	bool ok = false;

	bl_resource_key(r->res, r->ns, r->name, key, sizeof(key));
	if (bl_store_get(x->srv->store, key, 0, &kv))
		return true; /* absent: the handler answers 404 */
	pod = bl_obj_from_kv(&kv);
	bl_kv_free(&kv);
	ok = pod &&
	     !strcmp(json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"))
			     ?: "",
		     node);
	json_decref(pod);
	return ok;
}

static bool node_allowed(struct hx *x, const char *node, const char *verb, const struct bl_route *r)
{
	const char *res = r->res->name;

	if (is_read(verb))
		/* secrets and config only for pods bound to the node: not yet */
		return strcmp(res, "secrets") && strcmp(res, "configmaps") &&
		       strcmp(res, "serviceaccounts");
	if (!strcmp(res, "nodes"))
		return !strcmp(verb, "create") || !strcmp(r->name, node);
	if (!strcmp(res, "leases"))
		return !strcmp(r->ns, "kube-node-lease") &&
		       (!strcmp(verb, "create") || !strcmp(r->name, node));
	if (!strcmp(res, "events"))
		return !strcmp(verb, "create") || !strcmp(verb, "update") || !strcmp(verb, "patch");
	if (!strcmp(res, "pods") && r->name[0] &&
	    (!strcmp(r->sub, "status") || !strcmp(verb, "delete")))
		return pod_on_node(x, r, node);
	return false;
}

bool bl_authorize(struct hx *x, const char *verb, const struct bl_route *r)
{
	const char *node;

	if (in_group(&x->user, "system:masters"))
		return true;
	node = node_name(&x->user);
	return node && node_allowed(x, node, verb, r);
}

bool bl_authorize_path(struct hx *x)
{
	(void)x;
	/* discovery is open to every authenticated user (kube's system:discovery) */
	return true;
}
