/* POST pods/NAME/binding: a pod assigned to a node, as kube's binding registry does it:
 * spec.nodeName and the PodScheduled=True condition in one write; 409 when the pod is
 * bound already or being deleted. */
#include "controlplane/apiserver/body.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* status.conditions[PodScheduled] = True (its transition time kept when it was True) */
static void set_scheduled(json_t *pod)
{
	json_t *status = json_object_get(pod, "status"), *conds, *c;
	char ts[32];
	size_t i;

	if (!json_is_object(status)) {
		status = json_object();
		json_object_set_new(pod, "status", status);
	}
	conds = json_object_get(status, "conditions");
	if (!json_is_array(conds)) {
		conds = json_array();
		json_object_set_new(status, "conditions", conds);
	}
	bl_timestamp(time(NULL), ts);
	json_array_foreach(conds, i, c)
	{
		if (strcmp(json_string_value(json_object_get(c, "type")) ?: "", "PodScheduled"))
			continue;
		if (strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True"))
			json_object_set_new(c, "lastTransitionTime", json_string(ts));
		json_object_set_new(c, "status", json_string("True"));
		json_object_del(c, "reason");
		json_object_del(c, "message");
		return;
	}
	json_array_append_new(conds,
			      json_pack("{s:s, s:s, s:n, s:s}", "type", "PodScheduled", "status",
					"True", "lastProbeTime", "lastTransitionTime", ts));
}

/* 0 written; 1 answered; or a store error (BL_STORE_CONFLICT: try again) */
static int bind_once(struct hx *x, const struct bl_route *r, const char *node, json_t *annotations)
{
	char key[600], *enc;
	json_t *pod, *meta, *v;
	const char *bound, *k;
	int64_t rev;
	size_t len;
	int rc;

	pod = bl_rest_load(x, r, key, sizeof(key), &rev);
	if (!pod)
		return 1;
	meta = bl_meta(pod);
	bound = json_string_value(json_object_get(json_object_get(pod, "spec"), "nodeName"));
	if (json_object_get(meta, "deletionTimestamp") || (bound && bound[0])) {
		if (bound && bound[0])
			bl_reply_statusf(x, 409, "Conflict", r->res, r->name,
					 "Operation cannot be fulfilled on pods/binding \"%s\": "
					 "pod %s is already assigned to node \"%s\"",
					 r->name, r->name, bound);
		else
			bl_reply_statusf(x, 409, "Conflict", r->res, r->name,
					 "Operation cannot be fulfilled on pods/binding \"%s\": "
					 "pod %s is being deleted, cannot be assigned to a host",
					 r->name, r->name);
		json_decref(pod);
		return 1;
	}
	if (!json_is_object(json_object_get(pod, "spec")))
		json_object_set_new(pod, "spec", json_object());
	json_object_set_new(json_object_get(pod, "spec"), "nodeName", json_string(node));
	if (json_object_size(annotations)) {
		if (!json_is_object(json_object_get(meta, "annotations")))
			json_object_set_new(meta, "annotations", json_object());
		json_object_foreach(annotations, k, v) if (json_is_string(v))
			json_object_set(json_object_get(meta, "annotations"), k, v);
	}
	set_scheduled(pod);
	enc = bl_obj_encode(pod, &len);
	rc = enc ? bl_store_update(x->srv->store, key, enc, len, rev, NULL) : BL_STORE_IO;
	free(enc);
	json_decref(pod);
	return rc;
}

void bl_rest_bind(struct hx *x, const struct bl_route *r)
{
	json_t *b, *target, *st;
	const char *name, *ns, *node, *kind;
	int rc = BL_STORE_CONFLICT;

	if (strcmp(x->method, "POST")) {
		bl_reply_statusf(x, 405, "MethodNotAllowed", NULL, NULL,
				 "the server does not allow this method on the requested resource");
		return;
	}
	b = bl_body_json(x, false);
	if (!b)
		return;
	kind = json_string_value(json_object_get(b, "kind"));
	name = json_string_value(json_object_get(json_object_get(b, "metadata"), "name"));
	ns = json_string_value(json_object_get(json_object_get(b, "metadata"), "namespace"));
	target = json_object_get(b, "target");
	node = json_string_value(json_object_get(target, "name"));
	if (kind && strcmp(kind, "Binding")) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "the body is a %s, not a Binding", kind);
	} else if (!name || strcmp(name, r->name)) {
		bl_reply_status(x, 400, "BadRequest",
				"name in URL does not match name in Binding object", NULL, NULL);
	} else if (ns && ns[0] && strcmp(ns, r->ns)) {
		bl_reply_status(x, 400, "BadRequest",
				"the namespace of the provided object does not match the namespace "
				"sent on the request",
				NULL, NULL);
	} else if (!node || !node[0]) {
		bl_reply_statusf(x, 422, "Invalid", r->res, r->name,
				 "Binding \"%s\" is invalid: target.name: Required value", r->name);
	} else if (json_string_value(json_object_get(target, "kind")) &&
		   strcmp(json_string_value(json_object_get(target, "kind")), "Node")) {
		bl_reply_statusf(x, 422, "Invalid", r->res, r->name,
				 "Binding \"%s\" is invalid: target.kind: Unsupported value: "
				 "\"%s\": supported values: \"Node\"",
				 r->name, json_string_value(json_object_get(target, "kind")));
	} else {
		/* another writer between read and write: read again, a few times */
		for (int i = 0; i < 5 && rc == BL_STORE_CONFLICT; i++)
			rc = bind_once(
				x, r, node,
				json_object_get(json_object_get(b, "metadata"), "annotations"));
		if (rc == 0) {
			st = bl_status_new(201, NULL, "");
			json_object_del(st, "message");
			bl_reply_json(x, 201, st);
		} else if (rc != 1) {
			bl_reply_store_err(x, rc, r->res, r->name);
		}
	}
	json_decref(b);
}
