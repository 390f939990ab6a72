/* Value checks: Service externalIPs and sessionAffinity timeouts, EndpointSlice
 * addresses against their addressType. */
#include "controlplane/apiserver/validate_values.h"

#include <criterion/criterion.h>
#include <string.h>

static char field[128], detail[512];
static const char *reason;

static int V(const char *kind, const char *js)
{
	json_error_t e;
	json_t *o = json_loads(js, 0, &e);
	int rc;

	cr_assert(o, "%s", e.text);
	field[0] = detail[0] = '\0';
	rc = bl_validate_values(kind, o, field, sizeof(field), detail, sizeof(detail), &reason);
	json_decref(o);
	return rc;
}

Test(validate_values, external_ips)
{
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"1.2.3.4\",\"2001:db8::1\"]}}"), 0);
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"1.2.3.4\",\"x\"]}}"), -1);
	cr_assert_str_eq(field, "spec.externalIPs[1]");
	cr_assert_str_eq(detail, "Invalid value: \"x\": must be a valid IP address, (e.g. 10.9.8.7 "
				 "or 2001:db8::ffff)");
	cr_assert_str_eq(reason, "FieldValueInvalid");
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"127.0.0.1\"]}}"), -1);
	cr_assert(strstr(detail, "loopback"));
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"0.0.0.0\"]}}"), -1);
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"169.254.1.1\"]}}"), -1);
	cr_assert_eq(V("Service", "{\"spec\":{\"externalIPs\":[\"1.2.3.4/32\"]}}"), -1);
}

Test(validate_values, affinity_timeout)
{
	const char *f = "{\"spec\":{\"sessionAffinity\":\"ClientIP\",\"sessionAffinityConfig\":{"
			"\"clientIP\":{\"timeoutSeconds\":%d}}}}";
	char buf[256];

	snprintf(buf, sizeof(buf), f, 1);
	cr_assert_eq(V("Service", buf), 0);
	snprintf(buf, sizeof(buf), f, 86400);
	cr_assert_eq(V("Service", buf), 0);
	snprintf(buf, sizeof(buf), f, 0);
	cr_assert_eq(V("Service", buf), -1);
	cr_assert_str_eq(field, "spec.sessionAffinityConfig.clientIP.timeoutSeconds");
	cr_assert_str_eq(detail, "Invalid value: 0: must be greater than 0 and less than 86400");
	snprintf(buf, sizeof(buf), f, 86401);
	cr_assert_eq(V("Service", buf), -1);
}

Test(validate_values, slice_addresses)
{
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":["
					"\"10.0.0.1\"]}]}"),
		     0);
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv4\",\"endpoints\":[]}"), 0);
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv4\",\"endpoints\":[{\"addresses\":["
					"\"10.0.0.1\"]},{\"addresses\":[\"10.0.0.2\",\"::1\"]}]}"),
		     -1);
	cr_assert_str_eq(field, "endpoints[1].addresses[1]");
	cr_assert_str_eq(detail, "Invalid value: \"::1\": must be a valid IPv4 address");
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":["
					"\"10.0.0.1\"]}]}"),
		     -1);
	cr_assert_eq(V("EndpointSlice",
		       "{\"addressType\":\"IPv6\",\"endpoints\":[{\"addresses\":[\"fd00::1\"]}]}"),
		     0);
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":["
					"\"db.example.com\"]}]}"),
		     0);
	cr_assert_eq(
		V("EndpointSlice",
		  "{\"addressType\":\"FQDN\",\"endpoints\":[{\"addresses\":[\"Bad_Name.x\"]}]}"),
		-1);
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv4\",\"endpoints\":[{}]}"), -1);
	cr_assert_str_eq(field, "endpoints[0].addresses");
	cr_assert_str_eq(reason, "FieldValueRequired");
	cr_assert_eq(V("EndpointSlice", "{\"addressType\":\"IPv5\"}"), -1);
	cr_assert_str_eq(reason, "FieldValueNotSupported");
	cr_assert_eq(V("EndpointSlice", "{}"), -1);
	cr_assert_str_eq(field, "addressType");
	cr_assert_eq(V("Pod", "{\"spec\":{\"externalIPs\":[\"x\"]}}"), 0, "other kinds: no rules");
}
