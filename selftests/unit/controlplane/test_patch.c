/* Merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch. */
#include "controlplane/apiserver/patch.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static void expect_json(json_t *got, const char *want)
{
	json_t *w = json_loads(want, 0, NULL);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	cr_assert_not_null(w, "bad expectation %s", want);
	cr_assert(json_equal(got, w), "got %s, want %s", g, want);
	free(g);
	json_decref(w);
	json_decref(got);
}

static json_t *j(const char *s)
{
	json_t *v = json_loads(s, JSON_DECODE_ANY, NULL);

	cr_assert_not_null(v, "bad JSON %s", s);
	return v;
}

Test(merge, rfc7386_examples)
{
	json_t *t = j("{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}");
	json_t *p = j("{\"a\":\"z\",\"c\":{\"f\":null}}");

	expect_json(bl_merge_patch(t, p), "{\"a\":\"z\",\"c\":{\"d\":\"e\"}}");
	json_decref(p);
	p = j("{\"a\":[1]}");
	expect_json(bl_merge_patch(t, p), "{\"a\":[1],\"c\":{\"d\":\"e\",\"f\":\"g\"}}");
	json_decref(p);
	p = j("{\"x\":{\"y\":null,\"z\":1}}");
	expect_json(bl_merge_patch(t, p),
		    "{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"},\"x\":{\"z\":1}}");
	json_decref(p);
	expect_json(t, "{\"a\":\"b\",\"c\":{\"d\":\"e\",\"f\":\"g\"}}"); /* untouched */
}

Test(merge, strategic_drops_directives)
{
	json_t *t = j("{\"spec\":{\"ports\":[{\"port\":80}]}}");
	json_t *p = j("{\"$setElementOrder/x\":[],\"spec\":{\"$retainKeys\":[\"a\"],\"a\":1}}");

	char err[256];

	/* $retainKeys keeps only the keys it lists: ports go */
	expect_json(bl_strategic_merge_patch(t, p, err, sizeof(err)), "{\"spec\":{\"a\":1}}");
	json_decref(t);
	json_decref(p);
}

static json_t *smp(const char *target, const char *patch, char *err)
{
	json_t *t = j(target), *p = j(patch);
	json_t *out = bl_strategic_merge_patch(t, p, err, 256);

	json_decref(t);
	json_decref(p);
	return out;
}

Test(smp, containers_merge_by_name_env_by_name_ports_by_containerPort)
{
	char err[256] = "";

	expect_json(
		smp("{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i1\",\"env\":[{"
		    "\"name\":"
		    "\"X\",\"value\":\"1\"}],\"ports\":[{\"containerPort\":80}]},{\"name\":\"b\","
		    "\"image\":\"j\"}]}}",
		    "{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i2\",\"env\":[{"
		    "\"name\":"
		    "\"Y\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80,\"name\":\"http\"},"
		    "{\"containerPort\":443}]},{\"name\":\"c\",\"image\":\"k\"}]}}",
		    err),
		"{\"spec\":{\"containers\":[{\"name\":\"a\",\"image\":\"i2\",\"env\":[{\"name\":"
		"\"X\",\"value\":\"1\"},{\"name\":\"Y\",\"value\":\"2\"}],\"ports\":[{"
		"\"containerPort\":80,\"name\":\"http\"},{\"containerPort\":443}]},{\"name\":\"b\","
		"\"image\":\"j\"},{\"name\":\"c\",\"image\":\"k\"}]}}");
}

Test(smp, service_ports_by_port_and_delete_directive)
{
	char err[256] = "";

	expect_json(smp("{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":8080},{\"port\":"
			"443}],\"selector\":{\"a\":\"b\"}}}",
			"{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":"
			"443,\"$patch\":\"delete\"},{\"port\":53}]}}",
			err),
		    "{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":53}],"
		    "\"selector\":{\"a\":\"b\"}}}");
}

Test(smp, replace_directives_and_unkeyed_lists)
{
	char err[256] = "";

	/* $patch: replace on a list and on a map; tolerations have no merge key */
	expect_json(smp("{\"spec\":{\"volumes\":[{\"name\":\"a\"},{\"name\":\"b\"}],"
			"\"nodeSelector\":{\"x\":\"1\",\"y\":\"2\"},\"tolerations\":[{\"key\":"
			"\"k\"}]}}",
			"{\"spec\":{\"volumes\":[{\"name\":\"c\"},{\"$patch\":\"replace\"}],"
			"\"nodeSelector\":{\"$patch\":\"replace\",\"z\":\"3\"},\"tolerations\":"
			"[{\"key\":\"t\"}]}}",
			err),
		    "{\"spec\":{\"volumes\":[{\"name\":\"c\"}],\"nodeSelector\":{\"z\":\"3\"},"
		    "\"tolerations\":[{\"key\":\"t\"}]}}");
}

Test(smp, primitive_sets_conditions_and_delete_from_list)
{
	char err[256] = "";

	expect_json(smp("{\"metadata\":{\"finalizers\":[\"a\",\"b\"]},\"status\":{"
			"\"conditions\":[{\"type\":\"Ready\",\"status\":\"False\"},{\"type\":"
			"\"X\",\"status\":\"True\"}]}}",
			"{\"metadata\":{\"finalizers\":[\"c\",\"a\"],"
			"\"$deleteFromPrimitiveList/finalizers\":[\"b\"]},\"status\":{"
			"\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}",
			err),
		    "{\"metadata\":{\"finalizers\":[\"a\",\"c\"]},\"status\":{\"conditions\":"
		    "[{\"type\":\"Ready\",\"status\":\"True\"},{\"type\":\"X\",\"status\":"
		    "\"True\"}]}}");
}

Test(smp, errors_change_nothing)
{
	char err[256] = "";

	cr_assert_null(smp("{\"spec\":{\"containers\":[{\"name\":\"a\"}]}}",
			   "{\"spec\":{\"containers\":[{\"image\":\"x\"}]}}", err));
	cr_assert(strstr(err, "spec.containers") && strstr(err, "\"name\""), "%s", err);
	cr_assert_null(smp("{}", "{\"spec\":{\"$patch\":\"bogus\"}}", err));
	cr_assert(strstr(err, "bogus"), "%s", err);
	cr_assert_eq(bl_smp_merge_key("spec.template.spec.containers.ports")[0], 'c');
	cr_assert_str_eq(bl_smp_merge_key("spec.ports"), "port");
	cr_assert_null(bl_smp_merge_key("spec.tolerations"));
}

static json_t *jp(const char *doc, const char *ops, char *err)
{
	json_t *d = j(doc), *o = j(ops);
	json_t *out = bl_json_patch(d, o, err, 256);

	json_decref(d);
	json_decref(o);
	return out;
}

Test(jsonpatch, operations)
{
	char err[256];

	expect_json(
		jp("{\"a\":{\"b\":1}}", "[{\"op\":\"add\",\"path\":\"/a/c\",\"value\":2}]", err),
		"{\"a\":{\"b\":1,\"c\":2}}");
	expect_json(jp("{\"l\":[1,3]}", "[{\"op\":\"add\",\"path\":\"/l/1\",\"value\":2}]", err),
		    "{\"l\":[1,2,3]}");
	expect_json(jp("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/-\",\"value\":2}]", err),
		    "{\"l\":[1,2]}");
	expect_json(jp("{\"a\":1,\"b\":2}", "[{\"op\":\"remove\",\"path\":\"/a\"}]", err),
		    "{\"b\":2}");
	expect_json(jp("{\"a\":1}", "[{\"op\":\"replace\",\"path\":\"/a\",\"value\":[]}]", err),
		    "{\"a\":[]}");
	expect_json(jp("{\"a\":{\"x\":1}}", "[{\"op\":\"move\",\"from\":\"/a/x\",\"path\":\"/y\"}]",
		       err),
		    "{\"a\":{},\"y\":1}");
	expect_json(jp("{\"a\":1}",
		       "[{\"op\":\"copy\",\"from\":\"/a\",\"path\":\"/b\"},"
		       "{\"op\":\"test\",\"path\":\"/b\",\"value\":1}]",
		       err),
		    "{\"a\":1,\"b\":1}");
	expect_json(jp("{\"m\":{\"a/b\":1,\"c~d\":2}}",
		       "[{\"op\":\"remove\",\"path\":\"/m/a~1b\"},{\"op\":\"remove\",\"path\":\"/m/"
		       "c~0d\"}]",
		       err),
		    "{\"m\":{}}");
}

Test(jsonpatch, failures_change_nothing)
{
	char err[256];

	cr_assert_null(jp("{\"a\":1}", "[{\"op\":\"test\",\"path\":\"/a\",\"value\":2}]", err));
	cr_assert_not_null(strstr(err, "testing value /a failed"), "%s", err);
	cr_assert_null(jp("{}", "[{\"op\":\"replace\",\"path\":\"/nope\",\"value\":1}]", err));
	cr_assert_null(jp("{\"l\":[1]}", "[{\"op\":\"add\",\"path\":\"/l/5\",\"value\":1}]", err));
	cr_assert_null(jp("{\"l\":[1]}", "[{\"op\":\"remove\",\"path\":\"/l/01\"}]", err));
	cr_assert_null(jp("{}", "[{\"op\":\"frobnicate\",\"path\":\"/a\"}]", err));
	cr_assert_null(jp("{}", "{\"op\":\"add\"}", err), "not an array");
}
