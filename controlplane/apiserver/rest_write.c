/* create, update (PUT) and patch: metadata defaults, optimistic concurrency, status
 * subresource rules, per-kind hooks. */
#include "controlplane/apiserver/body.h"
#include "controlplane/apiserver/kinds.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/patch.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"
#include "controlplane/apiserver/validate_types.h"
#include "controlplane/apiserver/validate_values.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool dry_run(struct hx *x)
{
	const char *d = hx_query(x, "dryRun");

	return d && !strcmp(d, "All");
}

/* metadata.namespace against the URL's; cluster-scoped objects have none. */
static int check_namespace(struct hx *x, const struct bl_route *r, json_t *meta)
{
	const char *ns = json_string_value(json_object_get(meta, "namespace"));

	if (!r->res->namespaced) {
		json_object_del(meta, "namespace");
		return 0;
	}
	if (ns && ns[0] && strcmp(ns, r->ns)) {
		bl_reply_status(x, 400, "BadRequest",
				"the namespace of the provided object does not match the namespace "
				"sent on the request",
				NULL, NULL);
		return -1;
	}
	json_object_set_new(meta, "namespace", json_string(r->ns));
	return 0;
}

/* Known fields of the wrong JSON type, or with values kube refuses: 422 before anything
 * else looks at them. */
static int check_types(struct hx *x, const struct bl_route *r, json_t *obj)
{
	char field[300], detail[600];
	const char *name =
		json_string_value(json_object_get(json_object_get(obj, "metadata"), "name"));
	const char *reason = "FieldValueInvalid";

	if (!bl_validate_types(r->res->kind, obj, field, sizeof(field), detail, sizeof(detail)) &&
	    !bl_validate_values(r->res->kind, obj, field, sizeof(field), detail, sizeof(detail),
				&reason))
		return 0;
	bl_reply_invalid(x, r->res, name ? name : r->name, field, reason, detail);
	return -1;
}

static void reply_obj(struct hx *x, int code, json_t *obj, int64_t rev)
{
	bl_obj_set_rv(obj, rev);
	bl_reply_json(x, code, json_incref(obj));
}

void bl_rest_create(struct hx *x, const struct bl_route *r)
{
	json_t *obj = bl_body_json(x, false);

	if (obj)
		bl_rest_create_obj(x, r, obj);
}

void bl_rest_create_obj(struct hx *x, const struct bl_route *r, json_t *obj)
{
	json_t *meta;
	const char *name, *gen, *why;
	char key[600], buf[BL_NAME_MAX], ts[32], uid[37];
	int64_t rev = 0;
	size_t len;
	char *enc;
	int rc;

	if (bl_body_check_type(x, r, obj) || check_types(x, r, obj))
		goto out;
	meta = bl_meta(obj);
	if (check_namespace(x, r, meta))
		goto out;
	name = json_string_value(json_object_get(meta, "name"));
	gen = json_string_value(json_object_get(meta, "generateName"));
	if ((!name || !name[0]) && gen && gen[0]) {
		bl_generate_name(gen, buf, sizeof(buf));
		json_object_set_new(meta, "name", json_string(buf));
		name = json_string_value(json_object_get(meta, "name"));
	}
	if (!name || !name[0]) {
		bl_reply_invalid(x, r->res, "", "metadata.name", "FieldValueRequired",
				 "Required value: name or generateName is required");
		goto out;
	}
	why = bl_name_invalid(name, !strcmp(r->res->name, "namespaces") ||
					    !strcmp(r->res->name, "services"));
	if (why) {
		snprintf(buf, sizeof(buf), "Invalid value: \"%.64s\": ", name);
		char msg[1024];

		snprintf(msg, sizeof(msg), "%s%s", buf, why);
		bl_reply_invalid(x, r->res, name, "metadata.name", "FieldValueInvalid", msg);
		goto out;
	}
	if (r->res->namespaced && !bl_namespace_accepts(x, r->ns, r->res, name))
		goto out;
	/* the server owns these */
	json_object_del(meta, "resourceVersion");
	json_object_del(meta, "deletionTimestamp");
	json_object_del(meta, "deletionGracePeriodSeconds");
	json_object_del(meta, "selfLink");
	bl_uuid(uid);
	bl_timestamp(time(NULL), ts);
	json_object_set_new(meta, "uid", json_string(uid));
	json_object_set_new(meta, "creationTimestamp", json_string(ts));
	if (r->res->flags & RES_GENERATION)
		json_object_set_new(meta, "generation", json_integer(1));
	else
		json_object_del(meta, "generation");
	if (bl_kind_prepare_create(x, r->res, obj))
		goto out;
	if (dry_run(x)) {
		bl_kind_create_failed(x->srv, r->res, obj);
		reply_obj(x, 201, obj, bl_store_current_rev(x->srv->store));
		goto out;
	}
	bl_resource_key(r->res, r->ns, name, key, sizeof(key));
	enc = bl_obj_encode(obj, &len);
	rc = enc ? bl_store_create(x->srv->store, key, enc, len, 0, &rev) : BL_STORE_IO;
	free(enc);
	if (rc) {
		bl_kind_create_failed(x->srv, r->res, obj);
		bl_reply_store_err(x, rc, r->res, name);
		goto out;
	}
	reply_obj(x, 201, obj, rev);
out:
	json_decref(obj);
}

static void keep_field(json_t *dst, json_t *src, const char *key)
{
	json_t *v = json_object_get(src, key);

	if (v)
		json_object_set(dst, key, v);
	else
		json_object_del(dst, key);
}

/* A new object for an existing one: the checks and rules shared by PUT and PATCH.
 * obj is stolen. */
void bl_rest_finish_update(struct hx *x, const struct bl_route *r, const char *key, json_t *old,
			   int64_t old_rev, json_t *obj)
{
	json_t *meta, *ometa = bl_meta(old), *tmp;
	const char *name, *rv;
	int64_t rev = 0;
	size_t len;
	char *enc;
	int rc;

	if (bl_body_check_type(x, r, obj) || check_types(x, r, obj))
		goto out;
	meta = bl_meta(obj);
	name = json_string_value(json_object_get(meta, "name"));
	if (name && strcmp(name, r->name)) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "the name of the object (%s) does not match the name on the URL "
				 "(%s)",
				 name, r->name);
		goto out;
	}
	json_object_set_new(meta, "name", json_string(r->name));
	if (check_namespace(x, r, meta))
		goto out;
	rv = json_string_value(json_object_get(meta, "resourceVersion"));
	if (rv && rv[0]) {
		int64_t want = bl_parse_rv(rv);

		if (want < 0) {
			bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
					 "invalid resource version \"%s\"", rv);
			goto out;
		}
		if (want != old_rev) {
			bl_reply_store_err(x, BL_STORE_CONFLICT, r->res, r->name);
			goto out;
		}
	}
	/* the server owns these */
	keep_field(meta, ometa, "uid");
	keep_field(meta, ometa, "creationTimestamp");
	keep_field(meta, ometa, "deletionTimestamp");
	keep_field(meta, ometa, "deletionGracePeriodSeconds");
	keep_field(meta, ometa, "generation");
	if (r->res->flags & RES_STATUS) {
		if (strcmp(r->sub, "status")) {
			keep_field(obj, old, "status");
		} else {
			/* /status changes the status and nothing else */
			tmp = json_deep_copy(old);
			keep_field(tmp, obj, "status");
			json_decref(obj);
			obj = tmp;
			meta = bl_meta(obj);
		}
	}
	if (!strcmp(r->res->name, "namespaces")) {
		json_t *fin = json_object_get(json_object_get(obj, "spec"), "finalizers");

		/* spec.finalizers change only through /finalize, and only they do there */
		tmp = json_deep_copy(!strcmp(r->sub, "finalize") ? old : obj);
		if (!json_is_object(json_object_get(tmp, "spec")))
			json_object_set_new(tmp, "spec", json_object());
		if (!strcmp(r->sub, "finalize"))
			json_object_set_new(json_object_get(tmp, "spec"), "finalizers",
					    json_is_array(fin) ? json_incref(fin) : json_array());
		else
			keep_field(json_object_get(tmp, "spec"), json_object_get(old, "spec"),
				   "finalizers");
		json_decref(obj);
		obj = tmp;
		meta = bl_meta(obj);
	}
	if ((r->res->flags & RES_GENERATION) && !r->sub[0] &&
	    !json_equal(json_object_get(old, "spec"), json_object_get(obj, "spec")))
		json_object_set_new(
			meta, "generation",
			json_integer(json_integer_value(json_object_get(ometa, "generation")) + 1));
	if (bl_kind_prepare_update(x, r->res, old, obj))
		goto out;
	bl_obj_set_rv(obj, old_rev);
	if (json_equal(obj, old) || dry_run(x)) {
		/* nothing changed: no new revision, as kube does for no-op updates */
		bl_kind_update_done(x->srv, r->res, old, obj, false);
		bl_reply_json(x, 200, json_incref(obj));
		goto out;
	}
	if (json_object_get(meta, "deletionTimestamp") &&
	    !json_array_size(json_object_get(meta, "finalizers")) &&
	    !json_array_size(json_object_get(json_object_get(obj, "spec"), "finalizers"))) {
		/* the last finalizer is gone from an object being deleted: it goes now */
		rc = bl_store_delete(x->srv->store, key, old_rev, &rev, NULL);
		bl_kind_update_done(x->srv, r->res, old, obj, false);
		if (rc) {
			bl_reply_store_err(x, rc, r->res, r->name);
			goto out;
		}
		bl_kind_deleted(x->srv, r->res, old);
		reply_obj(x, 200, obj, rev);
		goto out;
	}
	enc = bl_obj_encode(obj, &len);
	rc = enc ? bl_store_update(x->srv->store, key, enc, len, old_rev, &rev) : BL_STORE_IO;
	free(enc);
	bl_kind_update_done(x->srv, r->res, old, obj, rc == 0);
	if (rc) {
		bl_reply_store_err(x, rc, r->res, r->name);
		goto out;
	}
	reply_obj(x, 200, obj, rev);
out:
	json_decref(obj);
}

/* The stored object or NULL after answering 404. */
json_t *bl_rest_load(struct hx *x, const struct bl_route *r, char *key, size_t keylen, int64_t *rev)
{
	struct bl_kv kv;
	json_t *obj;
	int rc;

	bl_resource_key(r->res, r->ns, r->name, key, keylen);
	rc = bl_store_get(x->srv->store, key, 0, &kv);
	if (rc) {
		bl_reply_store_err(x, rc, r->res, r->name);
		return NULL;
	}
	obj = bl_obj_from_kv(&kv);
	*rev = kv.mod_rev;
	bl_kv_free(&kv);
	if (!obj)
		bl_reply_status(x, 500, "InternalError", "stored object is corrupt", r->res,
				r->name);
	return obj;
}

void bl_rest_update(struct hx *x, const struct bl_route *r)
{
	json_t *obj = bl_body_json(x, false), *old;
	char key[600];
	int64_t rev;

	if (!obj)
		return;
	old = bl_rest_load(x, r, key, sizeof(key), &rev);
	if (!old) {
		json_decref(obj);
		return;
	}
	bl_rest_finish_update(x, r, key, old, rev, obj);
	json_decref(old);
}

void bl_rest_patch(struct hx *x, const struct bl_route *r)
{
	const char *ct = x->content_type ? x->content_type : "";
	json_t *patch, *old, *obj = NULL;
	char key[600], err[512];
	int64_t rev;

	if (strstr(ct, "application/apply-patch")) {
		bl_rest_apply(x, r);
		return;
	}
	if (!strstr(ct, "merge-patch+json") && !strstr(ct, "json-patch+json")) {
		bl_reply_statusf(
			x, 415, "UnsupportedMediaType", NULL, NULL,
			"the body of the request was in an unknown format - accepted "
			"media types include: application/json-patch+json, "
			"application/merge-patch+json, application/strategic-merge-patch+json, "
			"application/apply-patch+yaml");
		return;
	}
	patch = bl_body_json(x, true);
	if (!patch)
		return;
	old = bl_rest_load(x, r, key, sizeof(key), &rev);
	if (!old) {
		json_decref(patch);
		return;
	}
	if (strstr(ct, "json-patch+json") && !strstr(ct, "merge")) {
		obj = bl_json_patch(old, patch, err, sizeof(err));
		if (!obj)
			bl_reply_statusf(x, 422, "Invalid", r->res, r->name, "%s", err);
	} else if (!json_is_object(patch)) {
		bl_reply_status(x, 400, "BadRequest", "a merge patch must be a JSON object", NULL,
				NULL);
	} else if (strstr(ct, "strategic")) {
		obj = bl_strategic_merge_patch(old, patch, err, sizeof(err));
		if (!obj)
			bl_reply_statusf(x, 422, "Invalid", r->res, r->name, "%s", err);
	} else {
		obj = bl_merge_patch(old, patch);
	}
	json_decref(patch);
	if (obj)
		bl_rest_finish_update(x, r, key, old, rev, obj);
	json_decref(old);
}
