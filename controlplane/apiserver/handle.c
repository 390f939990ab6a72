/* One request from start to answer: health, authentication, discovery, authorization,
 * then the REST handlers. */
#include "controlplane/apiserver/authz.h"
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <string.h>

/* kube's NewForbidden: 'pods "p" is forbidden: User "u" cannot create resource
 * "pods/binding" in API group "" in the namespace "default"' */
static void forbidden(struct hx *x, const char *verb, const struct bl_route *r)
{
	char ns[300] = "", q[128], what[400], res[128];

	if (r->ns[0])
		snprintf(ns, sizeof(ns), " in the namespace \"%s\"", r->ns);
	bl_resource_qualified(r->res, q, sizeof(q));
	if (r->name[0])
		snprintf(what, sizeof(what), "%s \"%s\"", q, r->name);
	else
		snprintf(what, sizeof(what), "%s", q);
	snprintf(res, sizeof(res), "%s%s%s", r->res->name, r->sub[0] ? "/" : "", r->sub);
	bl_reply_statusf(x, 403, "Forbidden", r->res, r->name,
			 "%s is forbidden: User \"%s\" cannot %s resource \"%s\" in API group "
			 "\"%s\"%s",
			 what, x->user.name, verb, res, r->res->group, ns);
}

void bl_handle(struct hx *x)
{
	struct bl_route r;
	const char *verb;

	log_debug("%s %s %s", x->proto, x->method, x->uri);
	if (bl_discovery_public(x->path) && bl_discovery_handle(x))
		return;
	if (!bl_authenticate(x->srv->tokens, x)) {
		bl_reply_status(x, 401, "Unauthorized", "Unauthorized", NULL, NULL);
		return;
	}
	if (bl_openapi_handle(x) || bl_discovery_handle(x))
		return;
	if (bl_route_parse(x->path, &r)) {
		bl_reply_status(x, 404, "NotFound",
				"the server could not find the requested resource", NULL, NULL);
		return;
	}
	verb = bl_route_verb(x, &r);
	if (!bl_authorize(x, verb, &r)) {
		forbidden(x, verb, &r);
		return;
	}
	bl_rest_handle(x, &r);
}
