/* Server-side apply: PATCH with application/apply-patch+yaml (YAML or JSON). A missing
 * object is created; an existing one gets the applied fields merged in (lists by their
 * merge keys), fields this manager applied before and dropped now are removed, and a
 * field another applier owns with a different value is a 409 Conflict unless
 * force=true. Ownership is recorded in metadata.managedFields (operation Apply). */
#include "agent/manifests/yaml_json.h"
#include "controlplane/apiserver/body.h"
#include "controlplane/apiserver/managed_fields.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/patch.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"

#include <stdio.h>
#include <string.h>

/* The applied configuration: JSON, or one YAML document. */
static json_t *applied_config(struct hx *x)
{
	json_t *docs = NULL, *obj;
	char err[256];

	obj = json_loadb(x->body ? x->body : "", x->body_len, JSON_REJECT_DUPLICATES, NULL);
	if (obj && json_is_object(obj))
		return obj;
	json_decref(obj);
	obj = NULL;
	if (bl_yaml_load(x->body ? x->body : "", x->body_len, &docs, err, sizeof(err)) == 0 &&
	    json_array_size(docs) == 1 && json_is_object(json_array_get(docs, 0)))
		obj = json_incref(json_array_get(docs, 0));
	else if (!docs)
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL, "error decoding YAML: %s", err);
	else
		bl_reply_status(x, 400, "BadRequest",
				"an apply patch must be one object (a YAML or JSON mapping)", NULL,
				NULL);
	json_decref(docs);
	return obj;
}

void bl_rest_apply(struct hx *x, const struct bl_route *r)
{
	const char *manager = hx_query(x, "fieldManager");
	const char *force = hx_query(x, "force");
	json_t *applied, *fields, *old, *merged, *meta, *managed;
	char key[600], err[1024];
	int64_t rev;
	struct bl_kv kv;
	int rc;

	if (!manager || !manager[0]) {
		bl_reply_invalid(x, r->res, r->name, "fieldManager", "FieldValueRequired",
				 "Required value: is required for apply patch");
		return;
	}
	applied = applied_config(x);
	if (!applied)
		return;
	if (bl_body_check_type(x, r, applied))
		goto out_applied;
	meta = bl_meta(applied);
	if (json_object_get(meta, "name") &&
	    strcmp(json_string_value(json_object_get(meta, "name")) ?: "", r->name)) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "the name of the object (%s) does not match the name on the URL "
				 "(%s)",
				 json_string_value(json_object_get(meta, "name")) ?: "", r->name);
		goto out_applied;
	}
	json_object_set_new(meta, "name", json_string(r->name));
	json_object_del(meta, "managedFields");
	fields = bl_mf_fields_of(applied);

	bl_resource_key(r->res, r->ns, r->name, key, sizeof(key));
	rc = bl_store_get(x->srv->store, key, 0, &kv);
	if (rc == BL_STORE_NOT_FOUND) {
		/* apply to a missing object creates it */
		json_object_set_new(
			meta, "managedFields",
			bl_mf_set_entry(NULL, manager,
					json_string_value(json_object_get(applied, "apiVersion")),
					fields));
		json_decref(fields);
		bl_rest_create_obj(x, r, applied);
		return;
	}
	if (rc) {
		bl_reply_store_err(x, rc, r->res, r->name);
		goto out_fields;
	}
	old = bl_obj_from_kv(&kv);
	rev = kv.mod_rev;
	bl_kv_free(&kv);
	if (!old) {
		bl_reply_status(x, 500, "InternalError", "stored object is corrupt", r->res,
				r->name);
		goto out_fields;
	}
	managed = json_object_get(bl_meta(old), "managedFields");
	if (!(force && !strcmp(force, "true")) &&
	    bl_mf_conflicts(managed, manager, fields, applied, old, err, sizeof(err))) {
		bl_reply_statusf(x, 409, "Conflict", r->res, r->name, "Apply failed: %s", err);
		json_decref(old);
		goto out_fields;
	}
	merged = bl_strategic_merge_patch(old, applied, err, sizeof(err));
	if (!merged) {
		bl_reply_statusf(x, 422, "Invalid", r->res, r->name, "%s", err);
		json_decref(old);
		goto out_fields;
	}
	bl_mf_remove_dropped(merged, bl_mf_entry_fields(managed, manager), fields, managed,
			     manager);
	json_object_set_new(
		bl_meta(merged), "managedFields",
		bl_mf_set_entry(managed, manager,
				json_string_value(json_object_get(applied, "apiVersion")), fields));
	/* only a resourceVersion the applier sent is checked against the stored one */
	if (json_object_get(meta, "resourceVersion"))
		json_object_set(bl_meta(merged), "resourceVersion",
				json_object_get(meta, "resourceVersion"));
	else
		json_object_del(bl_meta(merged), "resourceVersion");
	bl_rest_finish_update(x, r, key, old, rev, merged);
	json_decref(old);
out_fields:
	json_decref(fields);
out_applied:
	json_decref(applied);
}
