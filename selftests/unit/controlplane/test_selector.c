/* Label and field selectors: parsing, errors and matching as kube-apiserver does them. */
#include "controlplane/apiserver/selector.h"

#include <criterion/criterion.h>

static bool labels_match(const char *sel, const char *labels_json)
{
	struct bl_selector *s;
	char err[256];
	json_t *labels = json_loads(labels_json, 0, NULL);
	bool m;

	cr_assert_eq(bl_label_selector_parse(sel, &s, err, sizeof(err)), 0, "%s: %s", sel, err);
	m = bl_label_selector_match(s, labels);
	bl_selector_free(s);
	json_decref(labels);
	return m;
}

Test(labels, empty_selects_everything)
{
	cr_assert(labels_match("", "{}"));
	cr_assert(labels_match(NULL, "{\"a\":\"b\"}"));
}

Test(labels, equality)
{
	cr_assert(labels_match("app=web", "{\"app\":\"web\"}"));
	cr_assert(labels_match("app==web", "{\"app\":\"web\",\"x\":\"y\"}"));
	cr_assert_not(labels_match("app=web", "{\"app\":\"db\"}"));
	cr_assert_not(labels_match("app=web", "{}"));
	cr_assert(labels_match("app!=web", "{}"), "!= matches a missing label");
	cr_assert_not(labels_match("app!=web", "{\"app\":\"web\"}"));
	cr_assert(labels_match("app=web,tier=front", "{\"app\":\"web\",\"tier\":\"front\"}"));
	cr_assert_not(labels_match("app=web,tier=front", "{\"app\":\"web\"}"));
}

Test(labels, set_based)
{
	cr_assert(labels_match("env in (prod, qa)", "{\"env\":\"qa\"}"));
	cr_assert_not(labels_match("env in (prod,qa)", "{\"env\":\"dev\"}"));
	cr_assert(labels_match("env notin (prod)", "{}"), "notin matches a missing label");
	cr_assert_not(labels_match("env notin (prod)", "{\"env\":\"prod\"}"));
	cr_assert(labels_match("env", "{\"env\":\"\"}"));
	cr_assert_not(labels_match("!env", "{\"env\":\"x\"}"));
	cr_assert(labels_match("!env,app in (a)", "{\"app\":\"a\"}"));
	cr_assert(labels_match("app.kubernetes.io/name=x", "{\"app.kubernetes.io/name\":\"x\"}"));
	cr_assert(labels_match("n>3", "{\"n\":\"4\"}"));
	cr_assert_not(labels_match("n<3", "{\"n\":\"x\"}"));
}

Test(labels, errors_say_where)
{
	struct bl_selector *s;
	char err[256];

	cr_assert_eq(bl_label_selector_parse("env in prod", &s, err, sizeof(err)), -1);
	cr_assert_not_null(strstr(err, "expected '('"), "%s", err);
	cr_assert_eq(bl_label_selector_parse("a=b,", &s, err, sizeof(err)), -1);
	cr_assert_eq(bl_label_selector_parse("a=b c=d", &s, err, sizeof(err)), -1);
	cr_assert_eq(bl_label_selector_parse("=x", &s, err, sizeof(err)), -1);
	cr_assert_null(s);
}

static bool fields_match(const char *sel, const char *obj_json)
{
	struct bl_selector *s;
	char err[256];
	json_t *obj = json_loads(obj_json, 0, NULL);
	bool m;

	cr_assert_eq(bl_field_selector_parse(sel, &s, err, sizeof(err)), 0, "%s: %s", sel, err);
	m = bl_field_selector_match(s, obj);
	bl_selector_free(s);
	json_decref(obj);
	return m;
}

Test(fields, dotted_paths)
{
	const char *pod = "{\"metadata\":{\"name\":\"p\",\"namespace\":\"ns\"},"
			  "\"spec\":{\"nodeName\":\"system-n1\",\"hostNetwork\":true}}";

	cr_assert(fields_match("metadata.name=p", pod));
	cr_assert(fields_match("spec.nodeName==system-n1,metadata.namespace=ns", pod));
	cr_assert_not(fields_match("spec.nodeName=n2", pod));
	cr_assert(fields_match("spec.nodeName!=n2", pod));
	cr_assert(fields_match("spec.hostNetwork=true", pod));
	cr_assert(fields_match("status.phase=", pod), "a missing field compares as \"\"");
	cr_assert(fields_match("spec.nodeName=", "{\"spec\":{}}"), "unscheduled pods");
}

Test(fields, keys_are_reported)
{
	struct bl_selector *s;
	char err[256];

	cr_assert_eq(bl_field_selector_parse("a.b=1,c=2", &s, err, sizeof(err)), 0);
	cr_assert_eq(bl_selector_count(s), 2);
	cr_assert_str_eq(bl_selector_key(s, 1), "c");
	bl_selector_free(s);
	cr_assert_eq(bl_field_selector_parse("a in (b)", &s, err, sizeof(err)), -1,
		     "no set-based field selectors");
}
