#include "controlplane/controllers/eps_plan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SVC_LABEL     "kubernetes.io/service-name"
#define MANAGED_LABEL "endpointslice.kubernetes.io/managed-by"

static const char *str_at(json_t *obj, const char *a, const char *b)
{
	json_t *v = json_object_get(obj, a);

	return json_string_value(b ? json_object_get(v, b) : v);
}

static json_t *selector_of(json_t *svc)
{
	json_t *sel = json_object_get(json_object_get(svc, "spec"), "selector");

	return json_is_object(sel) && json_object_size(sel) ? sel : NULL;
}

bool bl_eps_service_managed(json_t *svc)
{
	const char *type = str_at(svc, "spec", "type");

	return selector_of(svc) && !(type && !strcmp(type, "ExternalName"));
}

bool bl_eps_selects(json_t *svc, json_t *pod)
{
	json_t *sel = selector_of(svc), *labels, *v;
	const char *k;

	if (!sel)
		return false;
	labels = json_object_get(json_object_get(pod, "metadata"), "labels");
	json_object_foreach(sel, k, v)
	{
		const char *have = json_string_value(json_object_get(labels, k));

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	return true;
}

bool bl_eps_slice_of(json_t *slice, const char *svc_name)
{
	json_t *labels = json_object_get(json_object_get(slice, "metadata"), "labels");
	const char *svc = json_string_value(json_object_get(labels, SVC_LABEL));
	const char *by = json_string_value(json_object_get(labels, MANAGED_LABEL));

	return svc && by && !strcmp(by, BL_EPS_MANAGED_BY) && (!svc_name || !strcmp(svc, svc_name));
}

static bool pod_ready(json_t *pod)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(json_object_get(pod, "status"), "conditions"), i, c)
	{
		const char *type = json_string_value(json_object_get(c, "type"));
		const char *st = json_string_value(json_object_get(c, "status"));

		if (type && !strcmp(type, "Ready"))
			return st && !strcmp(st, "True");
	}
	return false;
}

/* A named targetPort is looked up in the pod's containers: -1 when none has it. */
static long long container_port(json_t *pod, const char *name, const char *proto)
{
	size_t i, j;
	json_t *c, *p;

	json_array_foreach(json_object_get(json_object_get(pod, "spec"), "containers"), i, c)
	{
		json_array_foreach(json_object_get(c, "ports"), j, p)
		{
			const char *n = json_string_value(json_object_get(p, "name"));
			const char *pp = json_string_value(json_object_get(p, "protocol"));

			if (n && !strcmp(n, name) && !strcmp(pp ? pp : "TCP", proto) &&
			    json_is_integer(json_object_get(p, "containerPort")))
				return json_integer_value(json_object_get(p, "containerPort"));
		}
	}
	return -1;
}

static json_t *resolve_ports(json_t *svc, json_t *pod)
{
	json_t *out = json_array(), *sp;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, sp)
	{
		const char *name = json_string_value(json_object_get(sp, "name"));
		const char *proto = json_string_value(json_object_get(sp, "protocol"));
		json_t *tp = json_object_get(sp, "targetPort"), *p;
		long long port;

		proto = proto ? proto : "TCP";
		if (json_is_integer(tp))
			port = json_integer_value(tp);
		else if (json_is_string(tp))
			port = container_port(pod, json_string_value(tp), proto);
		else
			port = json_integer_value(json_object_get(sp, "port"));
		if (port < 1 || port > 65535)
			continue; /* as upstream: a port this pod does not have is left out */
		p = json_pack("{s:s, s:I, s:s}", "name", name ? name : "", "port", port, "protocol",
			      proto);
		if (json_object_get(sp, "appProtocol"))
			json_object_set(p, "appProtocol", json_object_get(sp, "appProtocol"));
		json_array_append_new(out, p);
	}
	return out;
}

json_t *bl_eps_endpoint(json_t *svc, json_t *pod, json_t *nodes, json_t **ports)
{
	json_t *meta = json_object_get(pod, "metadata"), *ep, *ref;
	const char *ip = str_at(pod, "status", "podIP");
	const char *phase = str_at(pod, "status", "phase");
	const char *node = str_at(pod, "spec", "nodeName");
	const char *zone = NULL;
	bool publish, serving, terminating;

	*ports = NULL;
	if (!bl_eps_selects(svc, pod) || !ip || !ip[0] || strchr(ip, ':'))
		return NULL;
	if (phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed")))
		return NULL;
	publish = json_is_true(
		json_object_get(json_object_get(svc, "spec"), "publishNotReadyAddresses"));
	serving = pod_ready(pod);
	terminating = json_object_get(meta, "deletionTimestamp") != NULL;
	ep = json_pack("{s:[s], s:{s:b, s:b, s:b}}", "addresses", ip, "conditions", "ready",
		       publish || (serving && !terminating), "serving", serving, "terminating",
		       terminating);
	if (node && node[0]) {
		json_object_set_new(ep, "nodeName", json_string(node));
		zone = json_string_value(json_object_get(
			json_object_get(json_object_get(json_object_get(nodes, node), "metadata"),
					"labels"),
			"topology.kubernetes.io/zone"));
	}
	if (zone)
		json_object_set_new(ep, "zone", json_string(zone));
	ref = json_pack("{s:s}", "kind", "Pod");
	if (json_object_get(meta, "namespace"))
		json_object_set(ref, "namespace", json_object_get(meta, "namespace"));
	json_object_set(ref, "name", json_object_get(meta, "name"));
	if (json_object_get(meta, "uid"))
		json_object_set(ref, "uid", json_object_get(meta, "uid"));
	json_object_set_new(ep, "targetRef", ref);
	*ports = resolve_ports(svc, pod);
	return ep;
}

static const char *ep_pod(json_t *ep)
{
	return str_at(ep, "targetRef", "name");
}

/* Desired endpoints grouped by their port list:
 * {"<ports json>": {"ports": [...], "eps": {"<pod>": endpoint}}} */
static json_t *desired_groups(json_t *svc, json_t *pods, json_t *nodes, size_t *total)
{
	json_t *groups = json_object(), *pod;
	size_t i;

	*total = 0;
	json_array_foreach(pods, i, pod)
	{
		json_t *ports, *ep = bl_eps_endpoint(svc, pod, nodes, &ports), *g;
		char *key;

		if (!ep)
			continue;
		key = json_dumps(ports, JSON_COMPACT | JSON_SORT_KEYS);
		g = json_object_get(groups, key);
		if (!g) {
			g = json_pack("{s:O, s:{}}", "ports", ports, "eps");
			json_object_set_new(groups, key, g);
		}
		if (!json_object_get(json_object_get(g, "eps"), ep_pod(ep)))
			(*total)++;
		json_object_set_new(json_object_get(g, "eps"), ep_pod(ep), ep);
		free(key);
		json_decref(ports);
	}
	return groups;
}

static int by_name(const void *a, const void *b)
{
	json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;

	return strcmp(str_at(x, "metadata", "name") ?: "", str_at(y, "metadata", "name") ?: "");
}

static int by_key(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static json_t *desired_labels(json_t *svc)
{
	json_t *labels =
		json_deep_copy(json_object_get(json_object_get(svc, "metadata"), "labels"));

	if (!json_is_object(labels)) {
		json_decref(labels);
		labels = json_object();
	}
	json_object_set(labels, SVC_LABEL,
			json_object_get(json_object_get(svc, "metadata"), "name"));
	json_object_set_new(labels, MANAGED_LABEL, json_string(BL_EPS_MANAGED_BY));
	return labels;
}

static json_t *owner_refs(json_t *svc)
{
	return json_pack("[{s:s, s:s, s:s, s:s, s:b, s:b}]", "apiVersion", "v1", "kind", "Service",
			 "name", str_at(svc, "metadata", "name") ?: "", "uid",
			 str_at(svc, "metadata", "uid") ?: "", "controller", 1,
			 "blockOwnerDeletion", 1);
}

/* The slice as it should be: old's identity, our labels, owner, ports and endpoints. */
static json_t *shape(json_t *svc, json_t *old, json_t *ports, json_t *eps)
{
	json_t *s = old ? json_deep_copy(old) : json_object(), *meta;
	json_t *smeta = json_object_get(svc, "metadata");

	json_object_set_new(s, "apiVersion", json_string("discovery.k8s.io/v1"));
	json_object_set_new(s, "kind", json_string("EndpointSlice"));
	meta = json_object_get(s, "metadata");
	if (!json_is_object(meta)) {
		meta = json_object();
		json_object_set_new(s, "metadata", meta);
	}
	if (!old) {
		char gen[300];

		snprintf(gen, sizeof(gen), "%s-",
			 json_string_value(json_object_get(smeta, "name")));
		json_object_set_new(meta, "generateName", json_string(gen));
		if (json_object_get(smeta, "namespace"))
			json_object_set(meta, "namespace", json_object_get(smeta, "namespace"));
	}
	json_object_set_new(meta, "labels", desired_labels(svc));
	json_object_set_new(meta, "ownerReferences", owner_refs(svc));
	json_object_set_new(s, "addressType", json_string("IPv4"));
	json_object_set(s, "ports", ports);
	json_object_set(s, "endpoints", eps);
	return s;
}

struct slot {
	json_t *old;   /* the stored slice */
	json_t *eps;   /* its endpoints from now on */
	json_t *ports; /* borrowed */
	const char *key;
};

json_t *bl_eps_plan(json_t *svc, json_t *pods, json_t *nodes, json_t *slices, size_t max)
{
	json_t *plan = json_pack("{s:[], s:[], s:[]}", "create", "update", "delete");
	json_t *create = json_object_get(plan, "create"), *update = json_object_get(plan, "update");
	json_t *del = json_object_get(plan, "delete"), *groups, *s, *g;
	const char *svc_name = str_at(svc, "metadata", "name"), *key;
	size_t total, n = 0, i, nkeys = 0;
	json_t **mine;
	struct slot *slots;
	const char **keys;

	if (!svc_name || !bl_eps_service_managed(svc))
		return plan;
	max = max ? max : BL_EPS_MAX_ENDPOINTS;
	groups = desired_groups(svc, pods, nodes, &total);
	mine = calloc(json_array_size(slices) + 1, sizeof(*mine));
	slots = calloc(json_array_size(slices) + 1, sizeof(*slots));
	keys = calloc(json_object_size(groups) + 1, sizeof(*keys));
	json_array_foreach(slices, i, s) if (bl_eps_slice_of(s, svc_name)) mine[n++] = s;
	qsort(mine, n, sizeof(*mine), by_name);

	/* 1: every stored slice keeps those of its endpoints that are still wanted */
	for (i = 0; i < n; i++) {
		json_t *ports = json_object_get(mine[i], "ports"), *ep, *empty = json_array();
		char *k = json_dumps(json_is_array(ports) ? ports : empty,
				     JSON_COMPACT | JSON_SORT_KEYS);
		size_t j;

		json_decref(empty);
		slots[i].old = mine[i];
		slots[i].eps = json_array();
		g = json_object_get(groups, k);
		free(k);
		if (!g)
			continue;
		slots[i].ports = json_object_get(g, "ports");
		json_object_foreach(groups, key, s) if (s == g) slots[i].key = key;
		json_array_foreach(json_object_get(mine[i], "endpoints"), j, ep)
		{
			const char *pod = ep_pod(ep);
			json_t *want = pod ? json_object_get(json_object_get(g, "eps"), pod) : NULL;

			if (!want || json_array_size(slots[i].eps) >= max)
				continue;
			json_array_append(slots[i].eps, want);
			json_object_del(json_object_get(g, "eps"), pod);
		}
	}
	/* 2: what is left goes into slices of the same ports with room, then new ones */
	json_object_foreach(groups, key, g) keys[nkeys++] = key;
	qsort(keys, nkeys, sizeof(*keys), by_key);
	for (size_t k = 0; k < nkeys; k++) {
		json_t *gr = json_object_get(groups, keys[k]), *eps = json_object_get(gr, "eps");
		const char **pods_left = calloc(json_object_size(eps) + 1, sizeof(*pods_left));
		size_t left = 0, next = 0;
		const char *pod;

		json_object_foreach(eps, pod, s) pods_left[left++] = pod;
		qsort(pods_left, left, sizeof(*pods_left), by_key);
		for (i = 0; i < n && next < left; i++) {
			if (slots[i].key != keys[k])
				continue;
			while (next < left && json_array_size(slots[i].eps) < max)
				json_array_append(slots[i].eps,
						  json_object_get(eps, pods_left[next++]));
		}
		while (next < left) {
			json_t *fresh = json_array();

			while (next < left && json_array_size(fresh) < max)
				json_array_append(fresh, json_object_get(eps, pods_left[next++]));
			json_array_append_new(
				create, shape(svc, NULL, json_object_get(gr, "ports"), fresh));
			json_decref(fresh);
		}
		free(pods_left);
	}
	/* 3: emptied slices go, except one placeholder when the Service has no endpoints */
	for (i = 0; i < n; i++) {
		bool placeholder = total == 0 && i == 0;
		json_t *want, *empty = json_array();

		if (!json_array_size(slots[i].eps) && !placeholder) {
			json_array_append(del, slots[i].old);
			json_decref(slots[i].eps);
			json_decref(empty);
			continue;
		}
		want = shape(svc, slots[i].old,
			     !placeholder && slots[i].ports ? slots[i].ports : empty, slots[i].eps);
		json_decref(empty);
		if (json_equal(want, slots[i].old))
			json_decref(want);
		else
			json_array_append_new(update, want);
		json_decref(slots[i].eps);
	}
	if (total == 0 && n == 0) {
		json_t *none = json_array();

		json_array_append_new(create, shape(svc, NULL, none, none));
		json_decref(none);
	}
	free(mine);
	free(slots);
	free(keys);
	json_decref(groups);
	return plan;
}
