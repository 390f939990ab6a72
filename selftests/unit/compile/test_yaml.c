/* Manifest parsing: YAML typing, multi-document streams, Lists, JSON streams, errors. */
#include "helpers.h"

#include "agent/manifests/yaml_json.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

static json_t *scalars_data(json_t **objs)
{
	struct bl_errlist e;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("scalars.yaml", objs, &e), 0);
	bl_errlist_free(&e);
	cr_assert_eq(json_array_size(*objs), 1);
	return json_object_get(json_array_get(*objs, 0), "data");
}

#define INT_IS(d, k, v)                                                                            \
	do {                                                                                       \
		json_t *x_ = json_object_get(d, k);                                                \
		cr_assert(json_is_integer(x_), "%s is not an integer", k);                         \
		cr_assert_eq(json_integer_value(x_), v, "%s", k);                                  \
	} while (0)
#define STR_IS(d, k, v)                                                                            \
	do {                                                                                       \
		json_t *x_ = json_object_get(d, k);                                                \
		cr_assert(json_is_string(x_), "%s is not a string", k);                            \
		cr_assert_str_eq(json_string_value(x_), v, "%s", k);                               \
	} while (0)

Test(yaml, plain_scalars_are_typed_like_kubernetes)
{
	json_t *objs, *d = scalars_data(&objs);

	INT_IS(d, "int", 80);
	INT_IS(d, "negative", -12);
	INT_IS(d, "hex", 31);
	INT_IS(d, "octal", 493);
	INT_IS(d, "underscored", 1000);
	INT_IS(d, "tagged_int", 7);
	cr_assert(json_is_real(json_object_get(d, "real")));
	cr_assert_float_eq(json_real_value(json_object_get(d, "real")), 1.5, 1e-9);
	cr_assert_float_eq(json_real_value(json_object_get(d, "exp")), 1000.0, 1e-9);
	cr_assert(json_is_true(json_object_get(d, "yes_bool")));
	cr_assert(json_is_true(json_object_get(d, "on_bool")));
	cr_assert(json_is_true(json_object_get(d, "true_bool")));
	cr_assert(json_is_false(json_object_get(d, "false_bool")));
	cr_assert(json_is_null(json_object_get(d, "tilde")));
	cr_assert(json_is_null(json_object_get(d, "null_word")));
	cr_assert(json_is_null(json_object_get(d, "empty")));
	json_decref(objs);
}

Test(yaml, quoted_and_other_scalars_stay_strings)
{
	json_t *objs, *d = scalars_data(&objs);

	STR_IS(d, "quoted_int", "80");
	STR_IS(d, "single_quoted", "443");
	STR_IS(d, "quoted_bool", "true");
	STR_IS(d, "tagged_str", "42");
	STR_IS(d, "ip", "10.96.0.10");
	STR_IS(d, "version", "1.2.3");
	STR_IS(d, "colon_text", "a: b");
	STR_IS(d, "block", "line one\nline two\n");
	/* a numeric key becomes the string key "80", as YAML→JSON does */
	STR_IS(d, "80", "numeric key");
	json_decref(objs);
}

Test(yaml, anchors_and_aliases)
{
	json_t *objs, *d = scalars_data(&objs);

	INT_IS(json_object_get(d, "aliased"), "x", 1);
	cr_assert(json_equal(json_object_get(d, "anchored"), json_object_get(d, "aliased")));
	json_decref(objs);
}

Test(yaml, plain_scalar_edge_cases)
{
	struct {
		const char *in;
		int type;
	} cases[] = {
		{"0", JSON_INTEGER},   {"+5", JSON_INTEGER},  {"0b101", JSON_INTEGER},
		{"08", JSON_REAL},     {"-", JSON_STRING},    {"1e", JSON_STRING},
		{".inf", JSON_STRING}, {"y", JSON_TRUE},      {"NO", JSON_FALSE},
		{"Yes", JSON_TRUE},    {"nope", JSON_STRING}, {"9223372036854775807", JSON_INTEGER},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		json_t *v = bl_yaml_plain_scalar(cases[i].in, strlen(cases[i].in));

		cr_assert_eq(json_typeof(v), cases[i].type, "%s", cases[i].in);
		json_decref(v);
	}
}

Test(yaml, multi_document_stream_skips_empty_documents)
{
	struct bl_errlist e;
	json_t *objs;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("multi.yaml", &objs, &e), 0);
	cr_assert_eq(json_array_size(objs), 3);
	cr_assert_str_eq(json_string_value(json_object_get(
				 json_object_get(json_array_get(objs, 1), "metadata"), "name")),
			 "two");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 2), "kind")),
			 "ConfigMap");
	json_decref(objs);
	bl_errlist_free(&e);
}

Test(yaml, list_and_typed_list_are_flattened)
{
	struct bl_errlist e;
	json_t *objs;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("list.json", &objs, &e), 0);
	cr_assert_eq(json_array_size(objs), 2);
	json_decref(objs);
	/* ServiceList items carry no kind: they inherit "Service" and the apiVersion */
	cr_assert_eq(fixture_parse("conditions.yaml", &objs, &e), 0);
	cr_assert_eq(json_array_size(objs), 7);
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 0), "kind")),
			 "Service");
	cr_assert_str_eq(json_string_value(json_object_get(json_array_get(objs, 0), "apiVersion")),
			 "v1");
	json_decref(objs);
	bl_errlist_free(&e);
}

Test(yaml, json_stream_of_objects)
{
	struct bl_errlist e;
	json_t *objs, *port;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("objects.json", &objs, &e), 0);
	cr_assert_eq(json_array_size(objs), 2);
	port = json_array_get(
		json_object_get(json_object_get(json_array_get(objs, 0), "spec"), "ports"), 0);
	cr_assert_eq(json_integer_value(json_object_get(port, "port")), 80);
	json_decref(objs);
	bl_errlist_free(&e);
}

Test(yaml, garbage_yaml_names_file_and_line)
{
	struct bl_errlist e;
	json_t *objs;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("bad/garbage.yaml", &objs, &e), 1);
	cr_assert_null(objs);
	cr_assert(strstr(e.msgs[0], "bad/garbage.yaml: line 5 column"), "%s", e.msgs[0]);
	bl_errlist_free(&e);
}

Test(yaml, garbage_json_names_file_and_line)
{
	struct bl_errlist e;
	json_t *objs;

	bl_errlist_init(&e);
	cr_assert_eq(fixture_parse("bad/garbage.json", &objs, &e), 1);
	cr_assert_null(objs);
	cr_assert(strstr(e.msgs[0], "bad/garbage.json: line 2 column"), "%s", e.msgs[0]);
	bl_errlist_free(&e);
}

Test(yaml, duplicate_keys_and_unknown_alias_are_errors)
{
	const char *dup = "a: 1\nb: 2\na: 3\n", *alias = "a: *nowhere\n";
	char err[256];
	json_t *docs;

	cr_assert_eq(bl_yaml_load(dup, strlen(dup), &docs, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "line 3 column 1: duplicate mapping key"), "%s", err);
	cr_assert_eq(bl_yaml_load(alias, strlen(alias), &docs, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "line 1"), "%s", err);
}

Test(yaml, self_referencing_alias_cannot_make_a_cycle)
{
	const char *text = "a: &x [1, *x]\n";
	char err[256];
	json_t *docs;

	cr_assert_eq(bl_yaml_load(text, strlen(text), &docs, err, sizeof(err)), -EINVAL);
}

Test(yaml, deep_nesting_is_refused)
{
	char text[512];
	json_t *docs;
	char err[256];

	memset(text, '[', 300);
	text[300] = 0;
	cr_assert_eq(bl_yaml_load(text, strlen(text), &docs, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "too deep"), "%s", err);
}

Test(yaml, wanted_file_names)
{
	cr_assert(bl_manifest_wanted("svc.yaml"));
	cr_assert(bl_manifest_wanted("svc.yml"));
	cr_assert(bl_manifest_wanted("svc.json"));
	cr_assert_not(bl_manifest_wanted(".svc.yaml"));
	cr_assert_not(bl_manifest_wanted("svc.yaml.swp"));
	cr_assert_not(bl_manifest_wanted("README.md"));
	cr_assert_not(bl_manifest_wanted(".yaml"));
}
