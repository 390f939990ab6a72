#include "controlplane/apiserver/managed_fields.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/patch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MAX_OTHERS 32

static json_t *fields_of(json_t *v, const char *path);

/* "k:{\"name\":\"x\"}" for the element e of a list merged by key. */
static char *elem_key(json_t *e, const char *key)
{
	json_t *k = json_pack("{s:O}", key, json_object_get(e, key));
	char *s = k ? json_dumps(k, JSON_COMPACT | JSON_SORT_KEYS) : NULL, *out = NULL;

	if (s && asprintf(&out, "k:%s", s) < 0)
		out = NULL;
	free(s);
	json_decref(k);
	return out;
}

static char *value_key(json_t *v)
{
	char *s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *out = NULL;

	if (s && asprintf(&out, "v:%s", s) < 0)
		out = NULL;
	free(s);
	return out;
}

static json_t *list_fields(json_t *arr, const char *path)
{
	const char *key = bl_smp_merge_key(path);
	json_t *out = json_object(), *e;
	size_t i;

	if (!key)
		return out; /* atomic: owned as a whole */
	json_array_foreach(arr, i, e)
	{
		char *k =
			key[0] ? (json_object_get(e, key) ? elem_key(e, key) : NULL) : value_key(e);

		if (k)
			json_object_set_new(out, k, key[0] ? fields_of(e, path) : json_object());
		free(k);
	}
	return out;
}

static json_t *fields_of(json_t *v, const char *path)
{
	json_t *out = json_object(), *c;
	const char *k;
	char sub[512], fk[300];

	if (!json_is_object(v))
		return out;
	json_object_foreach(v, k, c)
	{
		snprintf(sub, sizeof(sub), "%s%s%s", path, path[0] ? "." : "", k);
		snprintf(fk, sizeof(fk), "f:%s", k);
		if (json_is_object(c))
			json_object_set_new(out, fk, fields_of(c, sub));
		else if (json_is_array(c))
			json_object_set_new(out, fk, list_fields(c, sub));
		else
			json_object_set_new(out, fk, json_object());
	}
	return out;
}

json_t *bl_mf_fields_of(json_t *applied)
{
	json_t *copy = json_deep_copy(applied), *meta, *out;
	static const char *const identity[] = {
		"name",	      "namespace",	   "uid",	    "resourceVersion",
		"generation", "creationTimestamp", "managedFields", "selfLink"};

	json_object_del(copy, "apiVersion");
	json_object_del(copy, "kind");
	json_object_del(copy, "status");
	meta = json_object_get(copy, "metadata");
	for (size_t i = 0; meta && i < sizeof(identity) / sizeof(identity[0]); i++)
		json_object_del(meta, identity[i]);
	if (meta && !json_object_size(meta))
		json_object_del(copy, "metadata");
	out = fields_of(copy, "");
	json_decref(copy);
	return out;
}

/* The child of value v that field key k names: an object member or a list element. */
static json_t *child(json_t *v, const char *k)
{
	json_t *want, *e;
	const char *name;
	json_t *kv;
	size_t i;

	if (!strncmp(k, "f:", 2))
		return json_object_get(v, k + 2);
	if (strncmp(k, "k:", 2) || !json_is_array(v))
		return NULL;
	want = json_loads(k + 2, 0, NULL);
	if (!want || json_object_size(want) != 1) {
		json_decref(want);
		return NULL;
	}
	json_object_foreach(want, name, kv)
	{
		json_array_foreach(v, i, e)
		{
			if (json_equal(json_object_get(e, name), kv)) {
				json_decref(want);
				return e;
			}
		}
	}
	json_decref(want);
	return NULL;
}

struct others {
	const char *names[MAX_OTHERS];
	json_t *nodes[MAX_OTHERS];
	int n;
};

static void others_of(json_t *managed, const char *manager, struct others *o)
{
	json_t *e;
	size_t i;

	o->n = 0;
	json_array_foreach(managed, i, e)
	{
		const char *m = json_string_value(json_object_get(e, "manager"));

		if (!m || !strcmp(m, manager) || o->n == MAX_OTHERS)
			continue;
		o->names[o->n] = m;
		o->nodes[o->n++] = json_object_get(e, "fieldsV1");
	}
}

static void descend(const struct others *o, const char *k, struct others *out)
{
	*out = *o;
	for (int i = 0; i < o->n; i++)
		out->nodes[i] = o->nodes[i] ? json_object_get(o->nodes[i], k) : NULL;
}

static int conflicts(json_t *fields, json_t *applied, json_t *live, const struct others *o,
		     const char *path, char *msg, size_t len)
{
	const char *k;
	json_t *sub;
	int n = 0;

	if (!json_object_size(fields)) {
		/* a leaf (or an atomic list): its value decides */
		if ((!applied && !live) || (applied && live && json_equal(applied, live)))
			return 0;
		for (int i = 0; i < o->n; i++) {
			size_t used = strlen(msg);

			if (!o->nodes[i])
				continue;
			snprintf(msg + used, len - used, "%sconflict with \"%s\": %s",
				 used ? "; " : "", o->names[i], path);
			return 1;
		}
		return 0;
	}
	json_object_foreach(fields, k, sub)
	{
		struct others next;
		char p[512];

		if (!strncmp(k, "v:", 2))
			continue;
		descend(o, k, &next);
		snprintf(p, sizeof(p), !strncmp(k, "f:", 2) ? "%s.%s" : "%s[%s]", path, k + 2);
		n += conflicts(sub, child(applied, k), child(live, k), &next, p, msg, len);
	}
	return n;
}

int bl_mf_conflicts(json_t *managed, const char *manager, json_t *fields, json_t *applied,
		    json_t *live, char *msg, size_t len)
{
	struct others o;
	const char *k;
	json_t *sub;
	int n = 0;

	msg[0] = '\0';
	others_of(managed, manager, &o);
	json_object_foreach(fields, k, sub)
	{
		struct others next;
		char p[512];

		descend(&o, k, &next);
		snprintf(p, sizeof(p), ".%s", k + 2);
		n += conflicts(sub, child(applied, k), child(live, k), &next, p, msg, len);
	}
	return n;
}

static bool owned_by_other(const struct others *o)
{
	for (int i = 0; i < o->n; i++)
		if (o->nodes[i])
			return true;
	return false;
}

static void remove_dropped(json_t *live, json_t *prev, json_t *fields, const struct others *o)
{
	const char *k;
	json_t *sub;

	json_object_foreach(prev, k, sub)
	{
		struct others next;
		json_t *now = json_object_get(fields, k), *c;

		descend(o, k, &next);
		if (now) {
			c = child(live, k);
			if (c && json_object_size(sub))
				remove_dropped(c, sub, now, &next);
			continue;
		}
		if (owned_by_other(&next))
			continue;
		if (!strncmp(k, "f:", 2) && json_is_object(live)) {
			json_object_del(live, k + 2);
		} else if (json_is_array(live)) {
			json_t *want = !strncmp(k, "v:", 2)
					       ? json_loads(k + 2, JSON_DECODE_ANY, NULL)
					       : NULL;

			c = want ? NULL : child(live, k);
			for (size_t i = 0; i < json_array_size(live); i++) {
				json_t *e = json_array_get(live, i);

				if (e == c || (want && json_equal(e, want))) {
					json_array_remove(live, i);
					break;
				}
			}
			json_decref(want);
		}
	}
}

void bl_mf_remove_dropped(json_t *live, json_t *prev, json_t *fields, json_t *managed,
			  const char *manager)
{
	struct others o;

	if (!prev)
		return;
	others_of(managed, manager, &o);
	remove_dropped(live, prev, fields, &o);
}

json_t *bl_mf_entry_fields(json_t *managed, const char *manager)
{
	json_t *e;
	size_t i;

	json_array_foreach(managed, i, e)
	{
		const char *m = json_string_value(json_object_get(e, "manager"));
		const char *op = json_string_value(json_object_get(e, "operation"));

		if (m && op && !strcmp(m, manager) && !strcmp(op, "Apply"))
			return json_object_get(e, "fieldsV1");
	}
	return NULL;
}

json_t *bl_mf_set_entry(json_t *managed, const char *manager, const char *api_version,
			json_t *fields)
{
	json_t *out = json_array(), *e;
	char ts[32];
	size_t i;

	json_array_foreach(managed, i, e)
	{
		const char *m = json_string_value(json_object_get(e, "manager"));
		const char *op = json_string_value(json_object_get(e, "operation"));

		if (!(m && op && !strcmp(m, manager) && !strcmp(op, "Apply")))
			json_array_append(out, e);
	}
	bl_timestamp(time(NULL), ts);
	json_array_append_new(out,
			      json_pack("{s:s, s:s, s:s, s:s, s:s, s:O}", "manager", manager,
					"operation", "Apply", "apiVersion", api_version, "time", ts,
					"fieldsType", "FieldsV1", "fieldsV1", fields));
	return out;
}
