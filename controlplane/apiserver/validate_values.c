/* Services: externalIPs are IP addresses, sessionAffinityConfig's timeout is 1..86400 s.
 * EndpointSlices: a supported addressType, and every endpoint has addresses of it. */
#include "controlplane/apiserver/validate_values.h"
#include "controlplane/apiserver/objmeta.h"

#include <arpa/inet.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_AFFINITY_SECONDS 86400

struct verr {
	char *field, *detail;
	size_t flen, dlen;
	const char **reason;
};

static int fail(struct verr *e, const char *reason, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(struct verr *e, const char *reason, const char *field, const char *fmt, ...)
{
	va_list ap;

	snprintf(e->field, e->flen, "%s", field);
	va_start(ap, fmt);
	vsnprintf(e->detail, e->dlen, fmt, ap);
	va_end(ap);
	*e->reason = reason;
	return -1;
}

/* kube's ValidateNonSpecialIP: NULL, or why ip may not be an external address */
static const char *special_ip(const char *ip)
{
	unsigned char a[16];

	if (inet_pton(AF_INET, ip, a) == 1) {
		uint32_t v =
			(uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3];

		if (!v)
			return "may not be unspecified (0.0.0.0)";
		if (a[0] == 127)
			return "may not be in the loopback range (127.0.0.0/8, ::1/128)";
		if (a[0] == 169 && a[1] == 254)
			return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
		if ((v & 0xffffff00u) == 0xe0000000u)
			return "may not be in the link-local multicast range (224.0.0.0/24, "
			       "ff02::/10)";
		return NULL;
	}
	if (inet_pton(AF_INET6, ip, a) != 1)
		return NULL;
	static const unsigned char zero[16], one[16] = {[15] = 1};
	if (!memcmp(a, zero, 16))
		return "may not be unspecified (::)";
	if (!memcmp(a, one, 16))
		return "may not be in the loopback range (127.0.0.0/8, ::1/128)";
	if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
		return "may not be in the link-local range (169.254.0.0/16, fe80::/10)";
	if (a[0] == 0xff && (a[1] & 0x0f) == 0x02)
		return "may not be in the link-local multicast range (224.0.0.0/24, ff02::/10)";
	return NULL;
}

static bool is_ip(const char *s, int family)
{
	unsigned char a[16];

	return s && inet_pton(family, s, a) == 1;
}

static int service(json_t *svc, struct verr *e)
{
	json_t *spec = json_object_get(svc, "spec"), *ip, *t;
	char field[96];
	size_t i;

	json_array_foreach(json_object_get(spec, "externalIPs"), i, ip)
	{
		const char *s = json_string_value(ip), *why;

		snprintf(field, sizeof(field), "spec.externalIPs[%zu]", i);
		if (!is_ip(s, AF_INET) && !is_ip(s, AF_INET6))
			return fail(e, "FieldValueInvalid", field,
				    "Invalid value: \"%s\": must be a valid IP address, (e.g. "
				    "10.9.8.7 or 2001:db8::ffff)",
				    s ? s : "");
		why = special_ip(s);
		if (why)
			return fail(e, "FieldValueInvalid", field, "Invalid value: \"%s\": %s", s,
				    why);
	}
	t = json_object_get(
		json_object_get(json_object_get(spec, "sessionAffinityConfig"), "clientIP"),
		"timeoutSeconds");
	if (json_is_integer(t) &&
	    (json_integer_value(t) < 1 || json_integer_value(t) > MAX_AFFINITY_SECONDS))
		return fail(e, "FieldValueInvalid",
			    "spec.sessionAffinityConfig.clientIP.timeoutSeconds",
			    "Invalid value: %lld: must be greater than 0 and less than %d",
			    (long long)json_integer_value(t), MAX_AFFINITY_SECONDS);
	return 0;
}

/* kube's IsFullyQualifiedDomainName: NULL, or why not */
static const char *not_fqdn(const char *s)
{
	if (!strchr(s, '.'))
		return "should be a domain with at least two segments separated by dots";
	return bl_name_invalid(s, false);
}

static int endpoint_slice(json_t *slice, struct verr *e)
{
	const char *type = json_string_value(json_object_get(slice, "addressType"));
	json_t *ep, *a;
	char field[96];
	size_t i, j;

	if (!type || !type[0])
		return fail(e, "FieldValueRequired", "addressType", "Required value");
	if (strcmp(type, "IPv4") && strcmp(type, "IPv6") && strcmp(type, "FQDN"))
		return fail(e, "FieldValueNotSupported", "addressType",
			    "Unsupported value: \"%.64s\": supported values: \"FQDN\", \"IPv4\", "
			    "\"IPv6\"",
			    type);
	json_array_foreach(json_object_get(slice, "endpoints"), i, ep)
	{
		json_t *addrs = json_object_get(ep, "addresses");

		snprintf(field, sizeof(field), "endpoints[%zu].addresses", i);
		if (!json_array_size(addrs))
			return fail(e, "FieldValueRequired", field,
				    "Required value: must contain at least 1 address");
		json_array_foreach(addrs, j, a)
		{
			const char *s = json_string_value(a) ?: "", *why = NULL;

			if (!strcmp(type, "IPv4") && !is_ip(s, AF_INET))
				why = "must be a valid IPv4 address";
			else if (!strcmp(type, "IPv6") && !is_ip(s, AF_INET6))
				why = "must be a valid IPv6 address";
			else if (!strcmp(type, "FQDN"))
				why = not_fqdn(s);
			if (why) {
				snprintf(field, sizeof(field), "endpoints[%zu].addresses[%zu]", i,
					 j);
				return fail(e, "FieldValueInvalid", field,
					    "Invalid value: \"%.128s\": %s", s, why);
			}
		}
	}
	return 0;
}

int bl_validate_values(const char *kind, json_t *obj, char *field, size_t flen, char *detail,
		       size_t dlen, const char **reason)
{
	struct verr e = {field, detail, flen, dlen, reason};

	if (!strcmp(kind, "Service"))
		return service(obj, &e);
	if (!strcmp(kind, "EndpointSlice"))
		return endpoint_slice(obj, &e);
	return 0;
}
