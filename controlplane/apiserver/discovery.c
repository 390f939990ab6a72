/* Discovery: /version, /api, /apis, /api/v1, /apis/GROUP[/VERSION], built from the
 * resource table. kubectl asks for aggregated discovery first and falls back to these
 * when the answer is plain application/json. */
#include "controlplane/apiserver/discovery.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"

#include <stdio.h>
#include <string.h>

#define GIT_VERSION "v1.32.0"

static json_t *csv_array(const char *csv)
{
	json_t *a = json_array();

	while (csv && *csv) {
		size_t n = strcspn(csv, ",");

		json_array_append_new(a, json_stringn(csv, n));
		csv += n + (csv[n] == ',');
	}
	return a;
}

static json_t *resource_entry(const struct bl_resource *r)
{
	json_t *e = json_pack("{s:s, s:s, s:b, s:s, s:[ssssssss]}", "name", r->name, "singularName",
			      r->singular, "namespaced", r->namespaced, "kind", r->kind, "verbs",
			      "create", "delete", "deletecollection", "get", "list", "patch",
			      "update", "watch");

	if (r->short_names)
		json_object_set_new(e, "shortNames", csv_array(r->short_names));
	if (r->categories)
		json_object_set_new(e, "categories", csv_array(r->categories));
	return e;
}

static json_t *resource_list(const char *group, const char *version)
{
	char gv[96];
	json_t *list, *res;
	bool any = false;

	snprintf(gv, sizeof(gv), "%s%s%s", group, group[0] ? "/" : "", version);
	list = json_pack("{s:s, s:s, s:s, s:[]}", "kind", "APIResourceList", "apiVersion", "v1",
			 "groupVersion", gv, "resources");
	res = json_object_get(list, "resources");
	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *r = &bl_resources[i];
		char sub[96];

		if (strcmp(r->group, group) || strcmp(r->version, version))
			continue;
		any = true;
		json_array_append_new(res, resource_entry(r));
		if (r->flags & RES_STATUS) {
			snprintf(sub, sizeof(sub), "%s/status", r->name);
			json_array_append_new(
				res, json_pack("{s:s, s:s, s:b, s:s, s:[sss]}", "name", sub,
					       "singularName", "", "namespaced", r->namespaced,
					       "kind", r->kind, "verbs", "get", "patch", "update"));
		}
		if (r->flags & RES_BINDING) {
			snprintf(sub, sizeof(sub), "%s/binding", r->name);
			json_array_append_new(res, json_pack("{s:s, s:s, s:b, s:s, s:[s]}", "name",
							     sub, "singularName", "", "namespaced",
							     r->namespaced, "kind", "Binding",
							     "verbs", "create"));
		}
	}
	if (!any) {
		json_decref(list);
		return NULL;
	}
	return list;
}

static json_t *group_entry(const char *group)
{
	json_t *versions = json_array();
	const char *preferred = NULL;
	char gv[96];

	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *r = &bl_resources[i];
		bool seen = false;

		if (strcmp(r->group, group))
			continue;
		for (size_t j = 0; j < i; j++)
			seen |= !strcmp(bl_resources[j].group, group) &&
				!strcmp(bl_resources[j].version, r->version);
		if (seen)
			continue;
		snprintf(gv, sizeof(gv), "%s/%s", group, r->version);
		json_array_append_new(versions, json_pack("{s:s, s:s}", "groupVersion", gv,
							  "version", r->version));
		if (!preferred)
			preferred = r->version;
	}
	if (!preferred) {
		json_decref(versions);
		return NULL;
	}
	snprintf(gv, sizeof(gv), "%s/%s", group, preferred);
	return json_pack("{s:s, s:o, s:{s:s, s:s}}", "name", group, "versions", versions,
			 "preferredVersion", "groupVersion", gv, "version", preferred);
}

static json_t *group_list(void)
{
	json_t *groups = json_array();

	for (size_t i = 0; i < bl_nresources; i++) {
		const char *g = bl_resources[i].group;
		bool seen = !g[0];

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(bl_resources[j].group, g);
		if (!seen)
			json_array_append_new(groups, group_entry(g));
	}
	return json_pack("{s:s, s:s, s:o}", "kind", "APIGroupList", "apiVersion", "v1", "groups",
			 groups);
}

static json_t *version_info(void)
{
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "major", "1", "minor",
			 "32", "gitVersion", GIT_VERSION, "gitCommit", "bpflet", "gitTreeState",
			 "clean", "buildDate", "2025-01-01T00:00:00Z", "goVersion", "go1.23.4",
			 "compiler", "gc", "platform", "linux/amd64");
}

bool bl_discovery_public(const char *path)
{
	return !strcmp(path, "/version") || !strcmp(path, "/healthz") || !strcmp(path, "/livez") ||
	       !strcmp(path, "/readyz") || !strncmp(path, "/healthz/", 9) ||
	       !strncmp(path, "/livez/", 7) || !strncmp(path, "/readyz/", 8);
}

bool bl_discovery_handle(struct hx *x)
{
	const char *p = x->path;
	char group[96], version[32], extra[8];
	json_t *doc = NULL;
	int n;

	if (bl_discovery_public(p) && strcmp(p, "/version")) {
		x->ops->reply(x, 200, "text/plain; charset=utf-8", "ok", 2);
		return true;
	}
	if (!strcmp(p, "/version")) {
		doc = version_info();
	} else if (!strcmp(p, "/api") || !strcmp(p, "/api/")) {
		char addr[96];

		snprintf(addr, sizeof(addr), "%s:%d", x->srv->cfg.listen_host,
			 x->srv->cfg.listen_port);
		doc = json_pack("{s:s, s:[s], s:[{s:s, s:s}]}", "kind", "APIVersions", "versions",
				"v1", "serverAddressByClientCIDRs", "clientCIDR", "0.0.0.0/0",
				"serverAddress", addr);
	} else if (!strcmp(p, "/api/v1") || !strcmp(p, "/api/v1/")) {
		doc = resource_list("", "v1");
	} else if (!strcmp(p, "/apis") || !strcmp(p, "/apis/")) {
		doc = group_list();
	} else if ((n = sscanf(p, "/apis/%95[^/]/%31[^/]%7s", group, version, extra)) == 2) {
		doc = resource_list(group, version);
	} else if (n == 1 && strlen(p) == 6 + strlen(group)) {
		doc = group_entry(group);
		if (doc) {
			json_object_set_new(doc, "kind", json_string("APIGroup"));
			json_object_set_new(doc, "apiVersion", json_string("v1"));
		}
	} else {
		return false;
	}
	if (!doc) {
		bl_reply_status(x, 404, "NotFound",
				"the server could not find the requested resource", NULL, NULL);
		return true;
	}
	bl_reply_json(x, 200, doc);
	return true;
}
