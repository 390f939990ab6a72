#include "agent/kube/svc_index.h"

#include "agent/kube/informer_state.h"

#include <stdio.h>

#define SERVICE_NAME_LABEL "kubernetes.io/service-name"

void bl_svc_index_init(struct bl_svc_index *x)
{
	x->slices = json_object();
	x->group = json_object();
	x->dirty = json_object();
	x->next_slices = x->next_group = NULL;
	x->all = true;
}

void bl_svc_index_free(struct bl_svc_index *x)
{
	json_decref(x->slices);
	json_decref(x->group);
	json_decref(x->dirty);
	json_decref(x->next_slices);
	json_decref(x->next_group);
	x->slices = x->group = x->dirty = x->next_slices = x->next_group = NULL;
}

/* "namespace/service" of a slice, false when it names no Service. */
static bool group_of(json_t *slice, char *buf, size_t len)
{
	json_t *md = json_object_get(slice, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *svc = json_string_value(
		json_object_get(json_object_get(md, "labels"), SERVICE_NAME_LABEL));
	int n;

	if (!svc || !*svc)
		return false;
	n = snprintf(buf, len, "%s/%s", ns && *ns ? ns : "default", svc);
	return n > 0 && (size_t)n < len;
}

static void touch(struct bl_svc_index *x, const char *group)
{
	json_object_set_new(x->dirty, group, json_true());
}

void bl_svc_index_service(struct bl_svc_index *x, const char *key)
{
	if (key)
		touch(x, key);
	else
		x->all = true;
}

static void add_to(json_t *slices, json_t *groups, const char *group, const char *key,
		   json_t *stored)
{
	json_t *set = json_object_get(slices, group);

	if (!set) {
		set = json_object();
		json_object_set_new(slices, group, set);
	}
	json_object_set(set, key, stored);
	json_object_set_new(groups, key, json_string(group));
}

static void add(struct bl_svc_index *x, const char *group, const char *key, json_t *stored)
{
	add_to(x->slices, x->group, group, key, stored);
}

void bl_svc_index_slice(struct bl_svc_index *x, const char *key, json_t *obj, json_t *stored)
{
	const char *was = json_string_value(json_object_get(x->group, key));
	char group[600];

	if (was) {
		json_t *set = json_object_get(x->slices, was);

		json_object_del(set, key);
		if (set && !json_object_size(set))
			json_object_del(x->slices, was);
		touch(x, was);
		json_object_del(x->group, key); /* frees was */
	}
	if (obj && stored && group_of(obj, group, sizeof(group))) {
		add(x, group, key, stored);
		touch(x, group);
	}
}

void bl_svc_index_slices_reset(struct bl_svc_index *x, json_t *cache)
{
	const char *key;
	char group[600];
	json_t *v;

	json_object_clear(x->slices);
	json_object_clear(x->group);
	json_object_foreach(cache, key, v)
	{
		json_t *obj = bl_inf_object(v);

		if (obj && group_of(obj, group, sizeof(group)))
			add(x, group, key, v);
		json_decref(obj);
	}
	x->all = true;
}

void bl_svc_index_slice_listed(struct bl_svc_index *x, const char *key, json_t *obj, json_t *stored)
{
	char group[600];

	if (!key || !x->next_slices) {
		json_decref(x->next_slices);
		json_decref(x->next_group);
		x->next_slices = json_object();
		x->next_group = json_object();
	}
	if (key && obj && group_of(obj, group, sizeof(group)))
		add_to(x->next_slices, x->next_group, group, key, stored);
}

void bl_svc_index_slices_relisted(struct bl_svc_index *x, json_t *cache)
{
	if (!x->next_slices) {
		bl_svc_index_slices_reset(x, cache);
		return;
	}
	json_decref(x->slices);
	json_decref(x->group);
	x->slices = x->next_slices;
	x->group = x->next_group;
	x->next_slices = x->next_group = NULL;
	x->all = true;
}

json_t *bl_svc_index_slices(const struct bl_svc_index *x, const char *group)
{
	return json_object_get(x->slices, group);
}

json_t *bl_svc_index_take(struct bl_svc_index *x, bool *all)
{
	json_t *d = x->dirty;

	*all = x->all;
	x->all = false;
	x->dirty = json_object();
	return d;
}
