/* Stored objects written from their own text: the same object jansson would write,
 * and every text that is not plainly one object with metadata left to jansson. */
#include "controlplane/apiserver/obj_text.h"
#include "controlplane/apiserver/objmeta.h"

#include <criterion/criterion.h>
#include <string.h>

static struct bl_kv kv_of(const char *s)
{
	return (struct bl_kv){.key = "/k", .value = (char *)s, .len = strlen(s), .mod_rev = 42};
}

Test(obj_text, same_object_as_through_jansson)
{
	static const char *const objs[] = {
		"{\"metadata\":{}}",
		"{\"metadata\":{\"name\":\"a\"},\"spec\":{\"x\":[1,2.5,-3e+2,true,false,null]}}",
		" { \"kind\" : \"Pod\" , \"metadata\" : { \"name\" : \"b\" } , \"z\" : [ ] } \n",
		"{\"a\":{\"metadata\":{\"resourceVersion\":\"1\"}},\"metadata\":{\"n\":\"\\\"q\\\\"
		"\\u00e9\\n\"}}",
		"{\"metadata\":{\"labels\":{\"k/"
		"x\":\"v\"},\"annotations\":{\"big\":\"{\\\"no\\\":1}\"}}}",
		"{\"metadata\":{\"name\":\"\xc3\xa9t\xc3\xa9\"},\"data\":{\"\":\"\"}}",
	};

	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++) {
		struct bl_kv kv = kv_of(objs[i]);
		struct bl_text t = {0};
		json_t *want = bl_obj_from_kv(&kv), *got;

		cr_assert_not_null(want, "%s", objs[i]);
		cr_assert_eq(bl_text_add_obj(&t, &kv, 42), 0, "%s", objs[i]);
		got = json_loadb(t.p, t.n, 0, NULL);
		cr_assert(json_equal(got, want), "%s -> %s", objs[i], t.p);
		cr_assert_str_eq(bl_meta_str(got, "resourceVersion"), "42");
		json_decref(got);
		json_decref(want);
		bl_text_free(&t);
	}
}

Test(obj_text, anything_else_is_left_to_jansson)
{
	static const char *const bad[] = {
		"",
		"[]",
		"{\"metadata\":[]}",
		"{\"spec\":{}}",
		"{\"metadata\":{\"resourceVersion\":\"7\"}}",
		"{\"metadata\":{}} x",
		"{\"metadata\":{}",
		"{\"metadata\":{\"a\":01}}",
		"{\"metadata\":{\"a\":1.}}",
		"{\"metadata\":{\"a\":\"\\x\"}}",
		"{\"metadata\":{\"a\":\"\\u12\"}}",
		"{\"metadata\":{\"a\":\"tab\there\"}}",
		"{\"metadata\":{\"a\":tru}}",
		"{\"metadata\":{\"a\":1,}}",
		"{\"metadata\":{} \"b\":1}",
		"{'metadata':{}}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct bl_kv kv = kv_of(bad[i]);
		struct bl_text t = {0};

		bl_text_adds(&t, "x");
		cr_assert_eq(bl_text_add_obj(&t, &kv, 1), -1, "%s", bad[i]);
		cr_assert_eq(t.n, 1, "nothing appended for %s", bad[i]);
		bl_text_free(&t);
	}
}

Test(obj_text, deep_nesting_is_refused_not_overflowed)
{
	size_t depth = 100000, n = 0;
	char *s = malloc(depth * 2 + 64);
	struct bl_text t = {0};
	struct bl_kv kv;

	n += (size_t)sprintf(s, "{\"metadata\":{},\"x\":");
	for (size_t i = 0; i < depth; i++)
		s[n++] = '[';
	for (size_t i = 0; i < depth; i++)
		s[n++] = ']';
	s[n++] = '}';
	s[n] = '\0';
	kv = kv_of(s);
	cr_assert_eq(bl_text_add_obj(&t, &kv, 1), -1);
	bl_text_free(&t);
	free(s);
}
