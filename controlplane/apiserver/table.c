#include "controlplane/apiserver/table.h"
#include "controlplane/apiserver/objmeta.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

bool bl_wants_table(struct hx *x)
{
	return x->accept && strstr(x->accept, "as=Table");
}

void bl_human_age(long long s, char *buf, size_t len)
{
	long long m = s / 60, h = s / 3600, d = s / 86400;

	if (s < 0)
		s = 0;
	if (s < 120)
		snprintf(buf, len, "%llds", s);
	else if (m < 10)
		snprintf(buf, len, "%lldm%llds", m, s % 60);
	else if (h < 3)
		snprintf(buf, len, "%lldm", m);
	else if (h < 8)
		snprintf(buf, len, "%lldh%lldm", h, m % 60);
	else if (h < 48)
		snprintf(buf, len, "%lldh", h);
	else if (d < 8)
		snprintf(buf, len, "%lldd%lldh", d, h % 24);
	else if (d < 365 * 2)
		snprintf(buf, len, "%lldd", d);
	else
		snprintf(buf, len, "%lldy", d / 365);
}

static long long age_of(json_t *obj)
{
	const char *ts = bl_meta_str(obj, "creationTimestamp");
	struct tm tm = {0};

	if (!ts || !strptime(ts, "%Y-%m-%dT%H:%M:%SZ", &tm))
		return 0;
	return (long long)(time(NULL) - timegm(&tm));
}

static const char *str(json_t *obj, const char *a, const char *b)
{
	const char *s = json_string_value(json_object_get(json_object_get(obj, a), b));

	return s && s[0] ? s : "<none>";
}

/* Extra columns per kind: name and type pairs, then the cells for one object. */
struct columns {
	const char *resource;
	const char *names[4];
};

static const struct columns extra[] = {
	{"namespaces", {"Status"}},
	{"services", {"Type", "Cluster-IP", "External-IP", "Port(s)"}},
	{"nodes", {"Status"}},
	{"pods", {"Status", "Node"}},
};

static const struct columns *columns_of(const struct bl_resource *res)
{
	for (size_t i = 0; i < sizeof(extra) / sizeof(extra[0]); i++)
		if (!strcmp(extra[i].resource, res->name))
			return &extra[i];
	return NULL;
}

static void svc_ports(json_t *svc, char *buf, size_t len)
{
	json_t *p;
	size_t i, off = 0;

	buf[0] = '\0';
	json_array_foreach(json_object_get(json_object_get(svc, "spec"), "ports"), i, p)
	{
		json_int_t np = json_integer_value(json_object_get(p, "nodePort"));
		const char *proto = json_string_value(json_object_get(p, "protocol"));
		int n;

		if (np)
			n = snprintf(buf + off, len - off, "%s%lld:%lld/%s", i ? "," : "",
				     (long long)json_integer_value(json_object_get(p, "port")),
				     (long long)np, proto ? proto : "TCP");
		else
			n = snprintf(buf + off, len - off, "%s%lld/%s", i ? "," : "",
				     (long long)json_integer_value(json_object_get(p, "port")),
				     proto ? proto : "TCP");
		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	if (!buf[0])
		snprintf(buf, len, "<none>");
}

static const char *node_ready(json_t *node)
{
	json_t *c;
	size_t i;

	json_array_foreach(json_object_get(json_object_get(node, "status"), "conditions"), i, c)
	{
		const char *t = json_string_value(json_object_get(c, "type"));
		const char *s = json_string_value(json_object_get(c, "status"));

		if (t && !strcmp(t, "Ready"))
			return s && !strcmp(s, "True") ? "Ready" : "NotReady";
	}
	return "Unknown";
}

static void add_cells(const struct bl_resource *res, json_t *obj, json_t *cells)
{
	char buf[512];

	if (!strcmp(res->name, "namespaces")) {
		json_array_append_new(cells, json_string(str(obj, "status", "phase")));
	} else if (!strcmp(res->name, "services")) {
		json_t *ing = json_object_get(
			json_object_get(json_object_get(obj, "status"), "loadBalancer"), "ingress");
		const char *ext = json_string_value(json_object_get(json_array_get(ing, 0), "ip"));

		json_array_append_new(cells, json_string(str(obj, "spec", "type")));
		json_array_append_new(cells, json_string(str(obj, "spec", "clusterIP")));
		json_array_append_new(cells, json_string(ext ? ext : "<none>"));
		svc_ports(obj, buf, sizeof(buf));
		json_array_append_new(cells, json_string(buf));
	} else if (!strcmp(res->name, "nodes")) {
		json_array_append_new(cells, json_string(node_ready(obj)));
	} else if (!strcmp(res->name, "pods")) {
		json_array_append_new(cells, json_string(bl_meta_str(obj, "deletionTimestamp")
								 ? "Terminating"
								 : str(obj, "status", "phase")));
		json_array_append_new(cells, json_string(str(obj, "spec", "nodeName")));
	}
}

static json_t *row(const struct bl_resource *res, json_t *obj)
{
	const char *name = bl_meta_str(obj, "name");
	json_t *cells = json_pack("[s]", name ? name : "");
	json_t *partial =
		json_pack("{s:s, s:s, s:O}", "kind", "PartialObjectMetadata", "apiVersion",
			  "meta.k8s.io/v1", "metadata", json_object_get(obj, "metadata"));
	char age[32];

	add_cells(res, obj, cells);
	bl_human_age(age_of(obj), age, sizeof(age));
	json_array_append_new(cells, json_string(age));
	return json_pack("{s:o, s:o}", "cells", cells, "object", partial);
}

static json_t *column(const char *name, const char *format)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:i}", "name", name, "type", "string", "format",
			 format, "description", "", "priority", 0);
}

json_t *bl_table_of(const struct bl_resource *res, json_t *obj, bool is_list)
{
	const struct columns *cols = columns_of(res);
	json_t *defs = json_pack("[o]", column("Name", "name"));
	json_t *rows = json_array(), *item, *t;
	json_t *rv = json_object_get(json_object_get(obj, "metadata"), "resourceVersion");
	json_t *cont = json_object_get(json_object_get(obj, "metadata"), "continue");
	size_t i;

	for (i = 0; cols && i < 4 && cols->names[i]; i++)
		json_array_append_new(defs, column(cols->names[i], ""));
	json_array_append_new(defs, column("Age", ""));
	if (is_list) {
		json_array_foreach(json_object_get(obj, "items"), i, item)
			json_array_append_new(rows, row(res, item));
	} else {
		json_array_append_new(rows, row(res, obj));
	}
	t = json_pack("{s:s, s:s, s:{s:O*}, s:o, s:o}", "kind", "Table", "apiVersion",
		      "meta.k8s.io/v1", "metadata", "resourceVersion", rv, "columnDefinitions",
		      defs, "rows", rows);
	if (cont)
		json_object_set(json_object_get(t, "metadata"), "continue", cont);
	json_decref(obj);
	return t;
}
