/* Strategic merge patch as kubectl and client-go send it: lists of the built-in types
 * that carry a patchMergeKey merge element by element (containers by name, ports by
 * containerPort / port, env by name, volumes by name, conditions by type, ...), sets of
 * primitives (finalizers) merge as sets, other lists are replaced. Directives: $patch
 * (replace / delete / merge), $retainKeys, $deleteFromPrimitiveList/<field>, and
 * $setElementOrder/<field> (order only; accepted and ignored). */
#include "controlplane/apiserver/patch.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* Field path (names joined by '.', list indices left out) suffix → merge key; ""
 * marks a set of primitives. From the patchMergeKey tags of k8s.io/api core/v1. */
static const struct {
	const char *suffix, *key;
} merge_keys[] = {
	{"containers", "name"},
	{"initContainers", "name"},
	{"ephemeralContainers", "name"},
	{"containers.ports", "containerPort"},
	{"initContainers.ports", "containerPort"},
	{"containers.env", "name"},
	{"initContainers.env", "name"},
	{"containers.volumeMounts", "mountPath"},
	{"initContainers.volumeMounts", "mountPath"},
	{"containers.volumeDevices", "devicePath"},
	{"spec.volumes", "name"},
	{"spec.imagePullSecrets", "name"},
	{"spec.hostAliases", "ip"},
	{"status.conditions", "type"},
	{"status.addresses", "type"},
	{"status.podIPs", "ip"},
	{"metadata.ownerReferences", "uid"},
	{"metadata.finalizers", ""},
	{"spec.podCIDRs", ""},
};

const char *bl_smp_merge_key(const char *path)
{
	size_t pl = strlen(path);

	for (size_t i = 0; i < sizeof(merge_keys) / sizeof(merge_keys[0]); i++) {
		size_t sl = strlen(merge_keys[i].suffix);

		if (pl >= sl && !strcmp(path + pl - sl, merge_keys[i].suffix) &&
		    (pl == sl || path[pl - sl - 1] == '.'))
			return merge_keys[i].key;
	}
	/* a Service's ports merge by port (a container's matched above) */
	if (!strcmp(path, "spec.ports"))
		return "port";
	return NULL;
}

static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* A copy of v without directives, for values that land as they are. */
static json_t *strip(json_t *v)
{
	const char *k;
	json_t *e, *out;
	size_t i;

	if (json_is_object(v)) {
		out = json_object();
		json_object_foreach(v, k, e)
		{
			if (k[0] != '$')
				json_object_set_new(out, k, strip(e));
		}
		return out;
	}
	if (json_is_array(v)) {
		out = json_array();
		json_array_foreach(v, i, e)
		{
			if (!json_object_get(e, "$patch"))
				json_array_append_new(out, strip(e));
		}
		return out;
	}
	return json_deep_copy(v);
}

static const char *directive(json_t *v)
{
	return json_string_value(json_object_get(v, "$patch"));
}

static json_t *smp_obj(json_t *target, json_t *patch, const char *path, char *err, size_t len);

static json_t *smp_list(json_t *target, json_t *patch, const char *path, char *err, size_t len)
{
	const char *key = bl_smp_merge_key(path);
	json_t *out, *e;
	size_t i;

	if (!key)
		return strip(patch);
	json_array_foreach(patch, i, e)
	{
		const char *d = directive(e);

		if (d && !strcmp(d, "replace"))
			return strip(patch);
	}
	out = json_is_array(target) ? json_deep_copy(target) : json_array();
	json_array_foreach(patch, i, e)
	{
		const char *d = directive(e);
		json_t *kv, *o;
		size_t j;
		bool found = false;

		if (!key[0]) { /* a set of primitives */
			json_array_foreach(out, j, o)
			{
				if (json_equal(o, e))
					found = true;
			}
			if (!found)
				json_array_append(out, e);
			continue;
		}
		kv = json_object_get(e, key);
		if (!json_is_object(e) || !kv) {
			seterr(err, len, "%s: an element does not contain its merge key \"%s\"",
			       path, key);
			json_decref(out);
			return NULL;
		}
		if (d && strcmp(d, "delete") && strcmp(d, "merge")) {
			seterr(err, len, "%s: unknown patch directive \"%s\"", path, d);
			json_decref(out);
			return NULL;
		}
		for (j = 0; j < json_array_size(out); j++) {
			if (!json_equal(json_object_get(json_array_get(out, j), key), kv))
				continue;
			found = true;
			if (d && !strcmp(d, "delete")) {
				json_array_remove(out, j);
				break;
			}
			o = smp_obj(json_array_get(out, j), e, path, err, len);
			if (!o) {
				json_decref(out);
				return NULL;
			}
			json_array_set_new(out, j, o);
			break;
		}
		if (!found && !(d && !strcmp(d, "delete")))
			json_array_append_new(out, strip(e));
	}
	return out;
}

static int delete_from_list(json_t *out, const char *field, json_t *values)
{
	json_t *list = json_object_get(out, field), *v;
	size_t i;

	if (!json_is_array(values))
		return -1;
	json_array_foreach(values, i, v)
	{
		for (size_t j = 0; j < json_array_size(list);) {
			if (json_equal(json_array_get(list, j), v))
				json_array_remove(list, j);
			else
				j++;
		}
	}
	return 0;
}

static json_t *smp_obj(json_t *target, json_t *patch, const char *path, char *err, size_t len)
{
	const char *k, *d = directive(patch);
	json_t *v, *out, *retain;
	char sub[512];
	void *tmp;

	if (d && !strcmp(d, "replace"))
		return strip(patch);
	if (d && strcmp(d, "merge") && strcmp(d, "delete")) {
		seterr(err, len, "%s: unknown patch directive \"%s\"", path[0] ? path : "(root)",
		       d);
		return NULL;
	}
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach(patch, k, v)
	{
		json_t *nv;

		if (k[0] == '$')
			continue;
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
		if (json_is_null(v) ||
		    (json_is_object(v) && directive(v) && !strcmp(directive(v), "delete"))) {
			json_object_del(out, k);
			continue;
		}
		if (json_is_object(v))
			nv = smp_obj(json_object_get(out, k), v, sub, err, len);
		else if (json_is_array(v))
			nv = smp_list(json_object_get(out, k), v, sub, err, len);
		else
			nv = json_deep_copy(v);
		if (!nv) {
			json_decref(out);
			return NULL;
		}
		json_object_set_new(out, k, nv);
	}
	json_object_foreach(patch, k, v)
	{
		if (!strncmp(k, "$deleteFromPrimitiveList/", 25) &&
		    delete_from_list(out, k + 25, v)) {
			seterr(err, len, "%s: %s must be a list", path[0] ? path : "(root)", k);
			json_decref(out);
			return NULL;
		}
	}
	/* $retainKeys: fields not listed go (union types such as a volume's source) */
	retain = json_object_get(patch, "$retainKeys");
	if (json_is_array(retain)) {
		json_object_foreach_safe(out, tmp, k, v)
		{
			bool keep = false;
			size_t i;
			json_t *r;

			json_array_foreach(retain, i, r)
			{
				if (json_is_string(r) && !strcmp(json_string_value(r), k))
					keep = true;
			}
			if (!keep)
				json_object_del(out, k);
		}
	}
	return out;
}

json_t *bl_strategic_merge_patch(json_t *target, json_t *patch, char *err, size_t len)
{
	if (!json_is_object(patch)) {
		seterr(err, len, "a strategic merge patch must be a JSON object");
		return NULL;
	}
	return smp_obj(target, patch, "", err, len);
}
