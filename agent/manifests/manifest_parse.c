/* One manifest file's bytes → validated Kubernetes objects. */
#include "agent/manifests/manifests.h"

#include "agent/manifests/yaml_json.h"
#include "controlplane/compile/k8s_endpointslice.h"
#include "controlplane/compile/k8s_object.h"
#include "controlplane/compile/k8s_service.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n > m && !strcmp(s + n - m, suffix);
}

bool bl_manifest_wanted(const char *fname)
{
	return fname[0] != '.' &&
	       (ends_with(fname, ".yaml") || ends_with(fname, ".yml") || ends_with(fname, ".json"));
}

/* Parses what the compiler will read, so bad values are caught at load time. */
static int validate(const json_t *obj, char *err, size_t errlen)
{
	struct bl_k8s_service svc;
	struct bl_k8s_endpointslice s;
	int kind = bl_k8s_kind_of(obj, err, errlen);

	if (kind == BL_K8S_SERVICE && !bl_k8s_service_parse(obj, &svc, err, errlen)) {
		bl_k8s_service_free(&svc);
		return 0;
	}
	if (kind == BL_K8S_ENDPOINTSLICE && !bl_k8s_endpointslice_parse(obj, &s, err, errlen)) {
		bl_k8s_endpointslice_free(&s);
		return 0;
	}
	return kind == BL_K8S_OTHER ? 0 : -EINVAL;
}

static int add_object(const char *fname, const char *where, json_t *obj, json_t *out,
		      struct bl_errlist *errs)
{
	char err[320], what[200];

	if (validate(obj, err, sizeof(err))) {
		if (json_is_object(obj))
			bl_errlist_add(errs, "%s: %s (%s): %s", fname, where,
				       bl_k8s_describe(obj, what, sizeof(what)), err);
		else
			bl_errlist_add(errs, "%s: %s: %s", fname, where, err);
		return -EINVAL;
	}
	return json_array_append(out, obj) ? -ENOMEM : 0;
}

/* kind: List (kubectl's) or FooList (the API's): items may omit kind/apiVersion. */
static int add_list(const char *fname, const char *where, json_t *list, json_t *out,
		    struct bl_errlist *errs)
{
	const char *kind = json_string_value(json_object_get(list, "kind"));
	const char *api = json_string_value(json_object_get(list, "apiVersion"));
	json_t *items = json_object_get(list, "items"), *it;
	char at[96];
	size_t i;
	int e = 0;

	if (!json_is_array(items) && !json_is_null(items) && items) {
		bl_errlist_add(errs, "%s: %s (%s): items: must be a list", fname, where, kind);
		return -EINVAL;
	}
	json_array_foreach(items, i, it)
	{
		size_t klen = strlen(kind) - 4; /* without "List" */

		snprintf(at, sizeof(at), "%s items[%zu]", where, i);
		if (json_is_object(it) && klen && !json_object_get(it, "kind")) {
			json_object_set_new(it, "kind", json_stringn(kind, klen));
			if (api && !json_object_get(it, "apiVersion"))
				json_object_set_new(it, "apiVersion", json_string(api));
		}
		int r = add_object(fname, at, it, out, errs);

		if (r == -ENOMEM)
			return r;
		if (r)
			e = r;
	}
	return e;
}

static bool is_list(const json_t *doc)
{
	const char *kind = json_string_value(json_object_get(doc, "kind"));
	size_t n = kind ? strlen(kind) : 0;

	return n >= 4 && !strcmp(kind + n - 4, "List") && json_object_get(doc, "items");
}

int bl_manifest_parse(const char *fname, const char *buf, size_t len, json_t **objs,
		      struct bl_errlist *errs)
{
	bool json = ends_with(fname, ".json");
	json_t *docs, *doc;
	char err[256], where[32];
	size_t i;
	int e = 0;

	*objs = NULL;
	if (memchr(buf, 0, len)) {
		bl_errlist_add(errs, "%s: contains NUL bytes (not a text manifest)", fname);
		return -EINVAL;
	}
	e = json ? bl_json_stream_load(buf, len, &docs, err, sizeof(err))
		 : bl_yaml_load(buf, len, &docs, err, sizeof(err));
	if (e) {
		bl_errlist_add(errs, "%s: %s", fname, err);
		return e;
	}
	*objs = json_array();
	if (!*objs) {
		json_decref(docs);
		return -ENOMEM;
	}
	json_array_foreach(docs, i, doc)
	{
		int r;

		if (json_is_null(doc))
			continue; /* empty document, e.g. a trailing "---" */
		snprintf(where, sizeof(where), "document %zu", i + 1);
		r = is_list(doc) ? add_list(fname, where, doc, *objs, errs)
				 : add_object(fname, where, doc, *objs, errs);
		if (r)
			e = e == -ENOMEM ? e : r;
	}
	json_decref(docs);
	if (e) {
		json_decref(*objs);
		*objs = NULL;
	}
	return e;
}
