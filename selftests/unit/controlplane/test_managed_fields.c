/* Server-side apply's field sets: FieldsV1 of an applied configuration, conflicts with
 * another applier, and removal of fields an applier dropped. */
#include "controlplane/apiserver/managed_fields.h"

#include <criterion/criterion.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_t *v = json_loads(s, 0, NULL);

	cr_assert_not_null(v, "bad JSON %s", s);
	return v;
}

static void expect(json_t *got, const char *want)
{
	json_t *w = J(want);
	char *g = json_dumps(got, JSON_COMPACT | JSON_SORT_KEYS);

	cr_assert(json_equal(got, w), "got %s", g);
	free(g);
	json_decref(w);
}

Test(managed_fields, fields_of_keyed_lists_sets_and_atomic_lists)
{
	json_t *a = J("{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"p\","
		      "\"labels\":{\"x\":\"1\"},\"finalizers\":[\"f\"]},\"spec\":{\"containers\":"
		      "[{\"name\":\"c\",\"image\":\"i\"}],\"tolerations\":[{\"key\":\"t\"}]}}");
	json_t *f = bl_mf_fields_of(a);

	expect(f,
	       "{\"f:metadata\":{\"f:labels\":{\"f:x\":{}},\"f:finalizers\":{\"v:\\\"f\\\"\":{}}},"
	       "\"f:spec\":{\"f:containers\":{\"k:{\\\"name\\\":\\\"c\\\"}\":{\"f:name\":{},"
	       "\"f:image\":{}}},\"f:tolerations\":{}}}");
	json_decref(f);
	json_decref(a);
}

Test(managed_fields, conflict_only_with_other_owner_and_different_value)
{
	json_t *live = J("{\"data\":{\"k\":\"v\",\"m\":\"1\"}}");
	json_t *managed = J("[{\"manager\":\"alice\",\"operation\":\"Apply\",\"fieldsV1\":"
			    "{\"f:data\":{\"f:k\":{},\"f:m\":{}}}}]");
	json_t *same = J("{\"data\":{\"k\":\"v\"}}"), *diff = J("{\"data\":{\"m\":\"2\"}}");
	json_t *fs = bl_mf_fields_of(same), *fd = bl_mf_fields_of(diff);
	char msg[256];

	cr_assert_eq(bl_mf_conflicts(managed, "bob", fs, same, live, msg, sizeof(msg)), 0);
	cr_assert_eq(bl_mf_conflicts(managed, "bob", fd, diff, live, msg, sizeof(msg)), 1);
	cr_assert_str_eq(msg, "conflict with \"alice\": .data.m");
	/* alice changing her own field is no conflict */
	cr_assert_eq(bl_mf_conflicts(managed, "alice", fd, diff, live, msg, sizeof(msg)), 0);
	json_decref(fs);
	json_decref(fd);
	json_decref(same);
	json_decref(diff);
	json_decref(live);
	json_decref(managed);
}

Test(managed_fields, dropped_fields_go_unless_someone_else_owns_them)
{
	json_t *live = J("{\"data\":{\"a\":\"1\",\"b\":\"2\",\"c\":\"3\"},\"spec\":{\"containers\":"
			 "[{\"name\":\"x\"},{\"name\":\"y\"}]}}");
	json_t *prev = J("{\"f:data\":{\"f:a\":{},\"f:b\":{},\"f:c\":{}},\"f:spec\":{"
			 "\"f:containers\":{\"k:{\\\"name\\\":\\\"x\\\"}\":{},"
			 "\"k:{\\\"name\\\":\\\"y\\\"}\":{}}}}");
	json_t *now = J("{\"f:data\":{\"f:a\":{}},\"f:spec\":{\"f:containers\":{"
			"\"k:{\\\"name\\\":\\\"x\\\"}\":{}}}}");
	json_t *managed = J("[{\"manager\":\"me\",\"operation\":\"Apply\",\"fieldsV1\":{}},"
			    "{\"manager\":\"other\",\"operation\":\"Apply\",\"fieldsV1\":"
			    "{\"f:data\":{\"f:c\":{}}}}]");

	bl_mf_remove_dropped(live, prev, now, managed, "me");
	expect(live, "{\"data\":{\"a\":\"1\",\"c\":\"3\"},\"spec\":{\"containers\":[{\"name\":"
		     "\"x\"}]}}");
	json_decref(live);
	json_decref(prev);
	json_decref(now);
	json_decref(managed);
}

Test(managed_fields, set_entry_replaces_the_managers_apply_entry)
{
	json_t *managed = J("[{\"manager\":\"me\",\"operation\":\"Apply\",\"fieldsV1\":{}},"
			    "{\"manager\":\"other\",\"operation\":\"Apply\",\"fieldsV1\":{}}]");
	json_t *f = J("{\"f:data\":{}}");
	json_t *out = bl_mf_set_entry(managed, "me", "v1", f);

	cr_assert_eq(json_array_size(out), 2);
	cr_assert(json_equal(bl_mf_entry_fields(out, "me"), f));
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(out, 1), "fieldsType")),
			 "FieldsV1");
	json_decref(out);
	json_decref(f);
	json_decref(managed);
}
