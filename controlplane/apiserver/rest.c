/* Verb dispatch and what every verb shares: selectors, list kinds, namespace checks. */
#include "controlplane/apiserver/rest.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"

#include <stdio.h>
#include <string.h>

static bool field_supported(const struct bl_resource *res, const char *key)
{
	const char *p = res->fields;
	size_t n = strlen(key);

	if (!strcmp(key, "metadata.name") ||
	    (res->namespaced && !strcmp(key, "metadata.namespace")))
		return true;
	while (p && *p) {
		size_t len = strcspn(p, ",");

		if (len == n && !strncmp(p, key, n))
			return true;
		p += len + (p[len] == ',');
	}
	return false;
}

int bl_filter_parse(struct hx *x, const struct bl_route *r, struct bl_filter *f)
{
	char err[512];

	memset(f, 0, sizeof(*f));
	if (bl_label_selector_parse(hx_query(x, "labelSelector"), &f->labels, err, sizeof(err))) {
		bl_reply_status(x, 400, "BadRequest", err, NULL, NULL);
		return -1;
	}
	if (bl_field_selector_parse(hx_query(x, "fieldSelector"), &f->fields, err, sizeof(err))) {
		bl_filter_free(f);
		bl_reply_status(x, 400, "BadRequest", err, NULL, NULL);
		return -1;
	}
	for (size_t i = 0; i < bl_selector_count(f->fields); i++) {
		const char *key = bl_selector_key(f->fields, i);

		if (!field_supported(r->res, key)) {
			snprintf(err, sizeof(err), "field label not supported: %s", key);
			bl_filter_free(f);
			bl_reply_status(x, 400, "BadRequest", err, NULL, NULL);
			return -1;
		}
	}
	return 0;
}

bool bl_filter_match(const struct bl_filter *f, json_t *obj)
{
	json_t *labels = json_object_get(json_object_get(obj, "metadata"), "labels");

	return bl_label_selector_match(f->labels, labels) &&
	       bl_field_selector_match(f->fields, obj);
}

bool bl_filter_empty(const struct bl_filter *f)
{
	return !bl_selector_count(f->labels) && !bl_selector_count(f->fields);
}

void bl_filter_free(struct bl_filter *f)
{
	bl_selector_free(f->labels);
	bl_selector_free(f->fields);
	f->labels = f->fields = NULL;
}

void bl_list_kind(const struct bl_resource *res, char *buf, size_t len)
{
	snprintf(buf, len, "%sList", res->kind);
}

bool bl_namespace_accepts(struct hx *x, const char *ns, const struct bl_resource *res,
			  const char *name)
{
	const struct bl_resource *nsres = bl_resource_find("", "v1", "namespaces");
	char key[512], q[128], what[400], msg[900];
	struct bl_kv kv;
	json_t *obj, *st, *d;
	bool terminating;
	int rc;

	bl_resource_key(nsres, NULL, ns, key, sizeof(key));
	rc = bl_store_get(x->srv->store, key, 0, &kv);
	if (rc) {
		bl_reply_store_err(x, rc, nsres, ns);
		return false;
	}
	obj = bl_obj_from_kv(&kv);
	bl_kv_free(&kv);
	terminating = json_object_get(json_object_get(obj, "metadata"), "deletionTimestamp");
	json_decref(obj);
	if (!terminating)
		return true;
	bl_resource_qualified(res, q, sizeof(q));
	if (name && name[0])
		snprintf(what, sizeof(what), "%s \"%s\"", q, name);
	else
		snprintf(what, sizeof(what), "%s", q);
	snprintf(msg, sizeof(msg),
		 "%s is forbidden: unable to create new content in namespace %s because it is "
		 "being terminated",
		 what, ns);
	st = bl_status_new(403, "Forbidden", msg);
	d = json_pack("{s:s, s:s}", "name", name ? name : "", "kind", res->name);
	snprintf(msg, sizeof(msg), "namespace %s is being terminated", ns);
	json_object_set_new(d, "causes",
			    json_pack("[{s:s, s:s, s:s}]", "reason", "NamespaceTerminating",
				      "message", msg, "field", "metadata.namespace"));
	json_object_set_new(st, "details", d);
	bl_reply_json(x, 403, st);
	return false;
}

void bl_rest_handle(struct hx *x, const struct bl_route *r)
{
	const char *verb = bl_route_verb(x, r);

	if (!strcmp(r->sub, "binding") && (r->res->flags & RES_BINDING) && r->ns[0]) {
		bl_rest_bind(x, r);
		return;
	}
	if (!strcmp(r->sub, "finalize") && !strcmp(r->res->name, "namespaces") && r->name[0]) {
		/* the namespace controller's: spec.finalizers and nothing else */
		if (!strcmp(verb, "update"))
			bl_rest_update(x, r);
		else
			bl_reply_statusf(x, 405, "MethodNotAllowed", NULL, NULL,
					 "the server does not allow this method on the requested "
					 "resource");
		return;
	}
	if (r->sub[0] && (strcmp(r->sub, "status") || !(r->res->flags & RES_STATUS))) {
		bl_reply_status(x, 404, "NotFound",
				"the server could not find the requested resource", NULL, NULL);
		return;
	}
	if (r->res->namespaced && !r->ns[0] && strcmp(verb, "list") && strcmp(verb, "watch")) {
		/* a namespaced object is only ever addressed inside its namespace */
		bl_reply_status(x, 404, "NotFound",
				"the server could not find the requested resource", NULL, NULL);
		return;
	}
	if (!strcmp(verb, "get"))
		bl_rest_get(x, r);
	else if (!strcmp(verb, "list"))
		bl_rest_list(x, r);
	else if (!strcmp(verb, "watch"))
		bl_rest_watch(x, r);
	else if (!strcmp(verb, "create") && !r->name[0])
		bl_rest_create(x, r);
	else if (!strcmp(verb, "update") && r->name[0])
		bl_rest_update(x, r);
	else if (!strcmp(verb, "patch") && r->name[0])
		bl_rest_patch(x, r);
	else if (!strcmp(verb, "delete"))
		bl_rest_delete(x, r);
	else if (!strcmp(verb, "deletecollection"))
		bl_rest_delete_collection(x, r);
	else
		bl_reply_statusf(x, 405, "MethodNotAllowed", NULL, NULL,
				 "the server does not allow this method on the requested resource");
}
