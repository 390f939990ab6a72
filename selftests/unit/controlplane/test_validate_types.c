/* Type checks of known fields: the field path and message of the first mismatch. */
#include "controlplane/apiserver/validate_types.h"

#include <criterion/criterion.h>
#include <string.h>

static int run(const char *kind, const char *doc, char *field, char *detail)
{
	json_t *o = json_loads(doc, 0, NULL);
	int rc;

	cr_assert_not_null(o);
	rc = bl_validate_types(kind, o, field, 300, detail, 600);
	json_decref(o);
	return rc;
}

Test(validate_types, good_objects_pass)
{
	char f[300], d[600];

	cr_assert_eq(
		run("Service",
		    "{\"metadata\":{\"name\":\"s\",\"labels\":{\"a\":\"b\"}},\"spec\":{\"ports\":"
		    "[{\"port\":80,\"targetPort\":\"http\"}],\"selector\":{\"a\":\"b\"}}}",
		    f, d),
		0);
	cr_assert_eq(run("Pod",
			 "{\"spec\":{\"containers\":[{\"name\":\"c\",\"ports\":[{\"containerPort\":"
			 "80}],\"env\":[{\"name\":\"A\",\"value\":\"1\"}]}]}}",
			 f, d),
		     0);
	/* null means "absent" in JSON merge semantics */
	cr_assert_eq(run("ConfigMap", "{\"data\":null}", f, d), 0);
}

Test(validate_types, mismatches_name_the_field)
{
	char f[300], d[600];

	cr_assert_eq(
		run("Service", "{\"spec\":{\"ports\":[{\"port\":80},{\"port\":\"x\"}]}}", f, d),
		-1);
	cr_assert_str_eq(f, "spec.ports[1].port");
	cr_assert(strstr(d, "must be of type integer"), "%s", d);
	cr_assert_eq(run("ConfigMap", "{\"data\":{\"a\":\"1\",\"b\":2}}", f, d), -1);
	cr_assert_str_eq(f, "data.b");
	cr_assert_eq(
		run("Pod", "{\"spec\":{\"containers\":[{\"name\":\"c\",\"args\":[1]}]}}", f, d),
		-1);
	cr_assert_str_eq(f, "spec.containers[0].args[0]");
	cr_assert_eq(run("Lease", "{\"metadata\":\"m\"}", f, d), -1);
	cr_assert_str_eq(f, "metadata");
	cr_assert_eq(run("Service", "{\"spec\":{\"ports\":[{\"targetPort\":1.5}]}}", f, d), -1);
	cr_assert(strstr(d, "integer or string"), "%s", d);
}
