/* Small pure helpers of the API server: names, ages, allocators, routes. */
#include "controlplane/apiserver/alloc.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/rest.h"
#include "controlplane/apiserver/table.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

Test(meta, names)
{
	cr_assert_null(bl_name_invalid("web-1", true));
	cr_assert_null(bl_name_invalid("a.b.c", false));
	cr_assert_not_null(bl_name_invalid("a.b", true), "no dots in a label");
	cr_assert_not_null(bl_name_invalid("Web", false));
	cr_assert_not_null(bl_name_invalid("-a", false));
	cr_assert_not_null(bl_name_invalid("", false));
}

Test(meta, uid_and_generated_names)
{
	char uid[37], name[32];

	bl_uuid(uid);
	cr_assert_eq(strlen(uid), 36);
	cr_assert_eq(uid[14], '4', "version 4");
	bl_generate_name("web-", name, sizeof(name));
	cr_assert_eq(strlen(name), 9);
	cr_assert_null(bl_name_invalid(name, true));
}

Test(meta, resource_versions)
{
	cr_assert_eq(bl_parse_rv("123"), 123);
	cr_assert_eq(bl_parse_rv("12a"), -1);
	cr_assert_eq(bl_parse_rv(""), -1);
	cr_assert_eq(bl_parse_rv("-1"), -1);
}

Test(meta, human_ages)
{
	char b[16];

	bl_human_age(5, b, sizeof(b));
	cr_assert_str_eq(b, "5s");
	bl_human_age(200, b, sizeof(b));
	cr_assert_str_eq(b, "3m20s");
	bl_human_age(3600 * 5 + 60 * 7, b, sizeof(b));
	cr_assert_str_eq(b, "5h7m");
	bl_human_age(86400 * 3 + 3600 * 2, b, sizeof(b));
	cr_assert_str_eq(b, "3d2h");
}

Test(alloc, take_release_and_ranges)
{
	struct bl_alloc a;
	uint32_t v, seen = 0;

	bl_alloc_init(&a, 30000, 30009, 0);
	cr_assert_eq(bl_alloc_take(&a, 30005), 0);
	cr_assert_eq(bl_alloc_take(&a, 30005), -EEXIST);
	cr_assert_eq(bl_alloc_take(&a, 29999), -ERANGE);
	for (int i = 0; i < 9; i++) {
		cr_assert_eq(bl_alloc_any(&a, &v), 0);
		cr_assert(v >= 30000 && v <= 30009 && v != 30005);
		seen++;
	}
	cr_assert_eq(bl_alloc_any(&a, &v), -ENOSPC);
	bl_alloc_release(&a, 30005);
	cr_assert_eq(bl_alloc_any(&a, &v), 0);
	cr_assert_eq(v, 30005);
	bl_alloc_free(&a);
	cr_assert_eq(seen, 9);
}

Test(route, paths)
{
	struct bl_route r;

	cr_assert_eq(bl_route_parse("/api/v1/namespaces", &r), 0);
	cr_assert_str_eq(r.res->name, "namespaces");
	cr_assert_str_eq(r.name, "");
	cr_assert_eq(bl_route_parse("/api/v1/namespaces/default", &r), 0);
	cr_assert_str_eq(r.res->name, "namespaces");
	cr_assert_str_eq(r.name, "default");
	cr_assert_eq(bl_route_parse("/api/v1/namespaces/kube-system/status", &r), 0);
	cr_assert_str_eq(r.sub, "status");
	cr_assert_eq(bl_route_parse("/api/v1/namespaces/default/pods/p/status", &r), 0);
	cr_assert_str_eq(r.ns, "default");
	cr_assert_str_eq(r.name, "p");
	cr_assert_str_eq(r.sub, "status");
	cr_assert_eq(bl_route_parse("/apis/discovery.k8s.io/v1/endpointslices", &r), 0);
	cr_assert_str_eq(r.res->kind, "EndpointSlice");
	cr_assert_eq(bl_route_parse("/api/v1/watch/namespaces/a/services", &r), 0);
	cr_assert(r.watch_path);
	cr_assert_eq(bl_route_parse("/api/v1/namespaces/a/nodes", &r), -1,
		     "nodes are cluster-wide");
	cr_assert_eq(bl_route_parse("/api/v1/frobs", &r), -1);
	cr_assert_eq(bl_route_parse("/apis/apps/v1/deployments", &r), -1);
}
