/* delete and deletecollection: preconditions, finalizers, graceful pod deletion, and
 * namespaces turning Terminating (the namespace controller empties and removes them). */
#include "controlplane/apiserver/body.h"
#include "controlplane/apiserver/kinds.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct del_opts {
	long long grace; /* -1: the object's own */
	const char *uid, *rv;
};

static int parse_opts(struct hx *x, json_t **body, struct del_opts *o)
{
	const char *g = hx_query(x, "gracePeriodSeconds");
	json_t *pre;

	*body = NULL;
	o->grace = g ? strtoll(g, NULL, 10) : -1;
	o->uid = o->rv = NULL;
	if (!x->body_len)
		return 0;
	*body = bl_body_json(x, false);
	if (!*body)
		return -1;
	if (json_is_integer(json_object_get(*body, "gracePeriodSeconds")))
		o->grace = json_integer_value(json_object_get(*body, "gracePeriodSeconds"));
	pre = json_object_get(*body, "preconditions");
	o->uid = json_string_value(json_object_get(pre, "uid"));
	o->rv = json_string_value(json_object_get(pre, "resourceVersion"));
	return 0;
}

/* kube's NamespaceLifecycle keeps these forever */
static bool immortal(const struct bl_resource *res, const char *name)
{
	return !strcmp(res->name, "namespaces") && name &&
	       (!strcmp(name, "default") || !strcmp(name, "kube-system") ||
		!strcmp(name, "kube-public"));
}

static int mark(struct bl_apiserver *srv, const char *key, json_t *obj, int64_t rev,
		long long grace, int64_t *newrev)
{
	json_t *meta = bl_meta(obj);
	char ts[32], *enc;
	size_t len;
	int rc;

	bl_timestamp(time(NULL) + grace, ts);
	json_object_set_new(meta, "deletionTimestamp", json_string(ts));
	json_object_set_new(meta, "deletionGracePeriodSeconds", json_integer(grace));
	enc = bl_obj_encode(obj, &len);
	rc = enc ? bl_store_update(srv->store, key, enc, len, rev, newrev) : BL_STORE_IO;
	free(enc);
	return rc;
}

/* Deletes (or marks) one object; returns 0 with *out the object to show, or a store
 * error, or 1 after answering a precondition failure. */
static int delete_one(struct hx *x, const struct bl_resource *res, const struct bl_kv *kv,
		      const struct del_opts *o, json_t **out)
{
	struct bl_apiserver *srv = x->srv;
	json_t *obj = bl_obj_from_kv(kv), *meta;
	const char *uid, *name;
	long long grace = o->grace;
	int64_t rev = 0;
	int rc;

	*out = NULL;
	if (!obj)
		return BL_STORE_IO;
	meta = bl_meta(obj);
	uid = bl_meta_str(obj, "uid");
	name = bl_meta_str(obj, "name");
	if (o->uid && (!uid || strcmp(o->uid, uid))) {
		bl_reply_statusf(
			x, 409, "Conflict", res, name,
			"Precondition failed: UID in precondition: %s, UID in object meta: "
			"%s",
			o->uid, uid ? uid : "");
		json_decref(obj);
		return 1;
	}
	if (o->rv && bl_parse_rv(o->rv) != kv->mod_rev) {
		json_decref(obj);
		return BL_STORE_CONFLICT;
	}
	if (json_array_size(json_object_get(meta, "finalizers")) ||
	    json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers"))) {
		/* finalizers first: the object stays, marked, until they are all removed
		 * (a namespace's spec.finalizers by the namespace controller, once it is
		 * empty) */
		rc = 0;
		if (!strcmp(res->name, "namespaces")) {
			if (!json_is_object(json_object_get(obj, "status")))
				json_object_set_new(obj, "status", json_object());
			json_object_set_new(json_object_get(obj, "status"), "phase",
					    json_string("Terminating"));
		}
		if (!json_object_get(meta, "deletionTimestamp"))
			rc = mark(srv, kv->key, obj, kv->mod_rev, 0, &rev);
		else
			rev = kv->mod_rev;
		goto done;
	}
	if ((res->flags & RES_GRACEFUL) &&
	    json_string_value(json_object_get(json_object_get(obj, "spec"), "nodeName"))) {
		/* a bound pod: its kubelet stops it and deletes it with grace 0 */
		if (grace < 0)
			grace = json_integer_value(json_object_get(
				json_object_get(obj, "spec"), "terminationGracePeriodSeconds"));
		if (grace > 0) {
			json_t *cur = json_object_get(meta, "deletionGracePeriodSeconds");

			rc = 0;
			rev = kv->mod_rev;
			if (!cur || json_integer_value(cur) > grace)
				rc = mark(srv, kv->key, obj, kv->mod_rev, grace, &rev);
			goto done;
		}
	}
	rc = bl_store_delete(srv->store, kv->key, kv->mod_rev, &rev, NULL);
	if (rc == 0)
		bl_kind_deleted(srv, res, obj);
done:
	if (rc) {
		json_decref(obj);
		return rc;
	}
	bl_obj_set_rv(obj, rev);
	*out = obj;
	return 0;
}

void bl_rest_delete(struct hx *x, const struct bl_route *r)
{
	struct del_opts o;
	json_t *body, *obj;
	struct bl_kv kv;
	char key[600];
	int rc;

	if (immortal(r->res, r->name)) {
		bl_reply_statusf(
			x, 403, "Forbidden", r->res, r->name,
			"namespaces \"%s\" is forbidden: this namespace may not be deleted",
			r->name);
		return;
	}
	if (parse_opts(x, &body, &o))
		return;
	bl_resource_key(r->res, r->ns, r->name, key, sizeof(key));
	rc = bl_store_get(x->srv->store, key, 0, &kv);
	if (rc == 0)
		rc = delete_one(x, r->res, &kv, &o, &obj);
	bl_kv_free(&kv);
	if (rc == 0)
		bl_reply_json(x, 200, obj);
	else if (rc != 1)
		bl_reply_store_err(x, rc, r->res, r->name);
	json_decref(body);
}

void bl_rest_delete_collection(struct hx *x, const struct bl_route *r)
{
	struct del_opts o;
	struct bl_filter f;
	struct bl_kv_list l;
	json_t *body, *list, *items, *obj;
	char prefix[600], kind[96], av[96];
	int rc;

	if (parse_opts(x, &body, &o))
		return;
	if (bl_filter_parse(x, r, &f)) {
		json_decref(body);
		return;
	}
	bl_resource_key(r->res, r->ns[0] ? r->ns : NULL, NULL, prefix, sizeof(prefix));
	rc = bl_store_list(x->srv->store, prefix, NULL, 0, 0, &l);
	if (rc) {
		bl_reply_store_err(x, rc, r->res, NULL);
		goto out;
	}
	bl_list_kind(r->res, kind, sizeof(kind));
	bl_resource_api_version(r->res, av, sizeof(av));
	list = json_pack("{s:s, s:s, s:{}, s:[]}", "kind", kind, "apiVersion", av, "metadata",
			 "items");
	items = json_object_get(list, "items");
	for (size_t i = 0; i < l.n; i++) {
		json_t *cur = bl_obj_from_kv(&l.items[i]);
		bool match = cur && bl_filter_match(&f, cur) &&
			     !immortal(r->res, bl_meta_str(cur, "name"));

		json_decref(cur);
		if (!match)
			continue;
		rc = delete_one(x, r->res, &l.items[i], &o, &obj);
		if (rc == 1) {
			/* answered already */
			json_decref(list);
			bl_kv_list_free(&l);
			goto out;
		}
		if (rc == 0)
			json_array_append_new(items, obj);
		else
			log_warn("deletecollection %s: %s", l.items[i].key, bl_store_strerror(rc));
	}
	bl_kv_list_free(&l);
	bl_reply_json(x, 200, list);
out:
	bl_filter_free(&f);
	json_decref(body);
}
