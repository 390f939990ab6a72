/* URL → resource, namespace, name, subresource:
 *   /api/v1/[watch/][namespaces/NS/]RESOURCE[/NAME[/SUB]]
 *   /apis/GROUP/VERSION/[watch/][namespaces/NS/]RESOURCE[/NAME[/SUB]] */
#include "controlplane/apiserver/rest.h"

#include <stdio.h>
#include <string.h>

#define MAX_SEGS 10

static int split(char *p, char **segs)
{
	int n = 0;

	for (char *s = strtok(p, "/"); s; s = strtok(NULL, "/")) {
		if (n == MAX_SEGS)
			return -1;
		segs[n++] = s;
	}
	return n;
}

static int copy(char *dst, size_t len, const char *src)
{
	return (size_t)snprintf(dst, len, "%s", src) < len ? 0 : -1;
}

int bl_route_parse(const char *path, struct bl_route *r)
{
	char buf[1024], *segs[MAX_SEGS];
	const char *group = "", *version;
	int n, i;

	memset(r, 0, sizeof(*r));
	if (copy(buf, sizeof(buf), path))
		return -1;
	n = split(buf, segs);
	if (n < 3)
		return -1;
	if (!strcmp(segs[0], "api")) {
		version = segs[1];
		i = 2;
	} else if (!strcmp(segs[0], "apis") && n >= 4) {
		group = segs[1];
		version = segs[2];
		i = 3;
	} else {
		return -1;
	}
	if (!strcmp(segs[i], "watch")) {
		r->watch_path = true;
		i++;
	}
	/* namespaces/NS/RESOURCE... names a namespaced collection; namespaces/NS alone (or
	 * namespaces/NS/status) is the Namespace itself */
	if (i + 2 < n && !strcmp(segs[i], "namespaces") && strcmp(segs[i + 2], "status") &&
	    strcmp(segs[i + 2], "finalize")) {
		if (copy(r->ns, sizeof(r->ns), segs[i + 1]))
			return -1;
		i += 2;
	}
	if (i >= n)
		return -1;
	r->res = bl_resource_find(group, version, segs[i++]);
	if (!r->res || (r->ns[0] && !r->res->namespaced))
		return -1;
	if (i < n && copy(r->name, sizeof(r->name), segs[i++]))
		return -1;
	if (i < n && copy(r->sub, sizeof(r->sub), segs[i++]))
		return -1;
	return i == n ? 0 : -1;
}

static bool query_true(struct hx *x, const char *key)
{
	const char *v = hx_query(x, key);

	return v && (!strcmp(v, "true") || !strcmp(v, "1"));
}

const char *bl_route_verb(struct hx *x, const struct bl_route *r)
{
	const char *m = x->method;

	if (!strcmp(m, "GET") || !strcmp(m, "HEAD")) {
		if (r->watch_path || query_true(x, "watch"))
			return "watch";
		return r->name[0] ? "get" : "list";
	}
	if (!strcmp(m, "POST"))
		return "create";
	if (!strcmp(m, "PUT"))
		return "update";
	if (!strcmp(m, "PATCH"))
		return "patch";
	if (!strcmp(m, "DELETE"))
		return r->name[0] ? "delete" : "deletecollection";
	return "unknown";
}
