#include "controlplane/apiserver/validate_types.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum vt { T_STR, T_INT, T_BOOL, T_OBJ, T_LIST, T_STRMAP, T_STRLIST, T_INTSTR };

/* kind ("" for every kind), path (names joined by '.', "[]" walks a list), type */
static const struct {
	const char *kind, *path;
	enum vt type;
} rules[] = {
	{"", "metadata", T_OBJ},
	{"", "metadata.name", T_STR},
	{"", "metadata.generateName", T_STR},
	{"", "metadata.namespace", T_STR},
	{"", "metadata.labels", T_STRMAP},
	{"", "metadata.annotations", T_STRMAP},
	{"", "metadata.finalizers", T_STRLIST},
	{"", "metadata.ownerReferences", T_LIST},
	{"", "spec", T_OBJ},
	{"", "status", T_OBJ},
	{"Service", "spec.type", T_STR},
	{"Service", "spec.clusterIP", T_STR},
	{"Service", "spec.clusterIPs", T_STRLIST},
	{"Service", "spec.selector", T_STRMAP},
	{"Service", "spec.externalIPs", T_STRLIST},
	{"Service", "spec.externalName", T_STR},
	{"Service", "spec.sessionAffinity", T_STR},
	{"Service", "spec.externalTrafficPolicy", T_STR},
	{"Service", "spec.internalTrafficPolicy", T_STR},
	{"Service", "spec.loadBalancerSourceRanges", T_STRLIST},
	{"Service", "spec.sessionAffinityConfig", T_OBJ},
	{"Service", "spec.sessionAffinityConfig.clientIP", T_OBJ},
	{"Service", "spec.sessionAffinityConfig.clientIP.timeoutSeconds", T_INT},
	{"Service", "spec.ports", T_LIST},
	{"Service", "spec.ports[]", T_OBJ},
	{"Service", "spec.ports[].name", T_STR},
	{"Service", "spec.ports[].protocol", T_STR},
	{"Service", "spec.ports[].port", T_INT},
	{"Service", "spec.ports[].nodePort", T_INT},
	{"Service", "spec.ports[].targetPort", T_INTSTR},
	{"ConfigMap", "data", T_STRMAP},
	{"ConfigMap", "binaryData", T_STRMAP},
	{"ConfigMap", "immutable", T_BOOL},
	{"Secret", "data", T_STRMAP},
	{"Secret", "stringData", T_STRMAP},
	{"Secret", "type", T_STR},
	{"Secret", "immutable", T_BOOL},
	{"Pod", "spec.nodeName", T_STR},
	{"Pod", "spec.restartPolicy", T_STR},
	{"Pod", "spec.hostNetwork", T_BOOL},
	{"Pod", "spec.nodeSelector", T_STRMAP},
	{"Pod", "spec.containers", T_LIST},
	{"Pod", "spec.containers[]", T_OBJ},
	{"Pod", "spec.containers[].name", T_STR},
	{"Pod", "spec.containers[].image", T_STR},
	{"Pod", "spec.containers[].command", T_STRLIST},
	{"Pod", "spec.containers[].args", T_STRLIST},
	{"Pod", "spec.containers[].ports", T_LIST},
	{"Pod", "spec.containers[].ports[].containerPort", T_INT},
	{"Pod", "spec.containers[].ports[].name", T_STR},
	{"Pod", "spec.containers[].ports[].protocol", T_STR},
	{"Pod", "spec.containers[].env", T_LIST},
	{"Pod", "spec.containers[].env[].name", T_STR},
	{"Pod", "spec.containers[].env[].value", T_STR},
	{"Pod", "status.podIP", T_STR},
	{"Pod", "status.phase", T_STR},
	{"Node", "spec.podCIDR", T_STR},
	{"Node", "spec.podCIDRs", T_STRLIST},
	{"Node", "spec.unschedulable", T_BOOL},
	{"EndpointSlice", "addressType", T_STR},
	{"EndpointSlice", "endpoints", T_LIST},
	{"EndpointSlice", "endpoints[].addresses", T_STRLIST},
	{"EndpointSlice", "endpoints[].nodeName", T_STR},
	{"EndpointSlice", "endpoints[].conditions", T_OBJ},
	{"EndpointSlice", "endpoints[].conditions.ready", T_BOOL},
	{"EndpointSlice", "endpoints[].conditions.serving", T_BOOL},
	{"EndpointSlice", "endpoints[].conditions.terminating", T_BOOL},
	{"EndpointSlice", "ports", T_LIST},
	{"EndpointSlice", "ports[].port", T_INT},
	{"EndpointSlice", "ports[].name", T_STR},
	{"EndpointSlice", "ports[].protocol", T_STR},
	{"Lease", "spec.holderIdentity", T_STR},
	{"Lease", "spec.leaseDurationSeconds", T_INT},
	{"Endpoints", "subsets", T_LIST},
	{"Namespace", "spec.finalizers", T_STRLIST},
};

static const char *type_name(enum vt t)
{
	static const char *const names[] = {"string", "integer", "boolean", "object",
					    "array",  "object",	 "array",   "integer or string"};

	return names[t];
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

/* A bad element (of a map or list) or the value itself; "" when v fits. */
static bool fits(json_t *v, enum vt t, char *bad, size_t blen)
{
	const char *k;
	json_t *e;
	size_t i;

	bad[0] = '\0';
	switch (t) {
	case T_STR:
		return json_is_string(v);
	case T_INT:
		return json_is_integer(v);
	case T_BOOL:
		return json_is_boolean(v);
	case T_OBJ:
		return json_is_object(v);
	case T_LIST:
		return json_is_array(v);
	case T_INTSTR:
		return json_is_integer(v) || json_is_string(v);
	case T_STRMAP:
		if (!json_is_object(v))
			return false;
		json_object_foreach(v, k, e)
		{
			if (!json_is_string(e)) {
				snprintf(bad, blen, ".%s", k);
				return false;
			}
		}
		return true;
	case T_STRLIST:
		if (!json_is_array(v))
			return false;
		json_array_foreach(v, i, e)
		{
			if (!json_is_string(e)) {
				snprintf(bad, blen, "[%zu]", i);
				return false;
			}
		}
		return true;
	}
	return true;
}

/* Checks path rest (from v, named at) against t. */
static int check(json_t *v, const char *rest, const char *at, enum vt t, char *field, size_t flen,
		 char *detail, size_t dlen)
{
	char seg[64], here[256], bad[300];
	const char *dot;
	size_t n;
	bool list;
	json_t *e;

	if (!rest[0]) {
		if (json_is_null(v) || fits(v, t, bad, sizeof(bad)))
			return 0;
		snprintf(field, flen, "%s%s", at, bad);
		e = bad[0] ? (bad[0] == '.' ? json_object_get(v, bad + 1)
					    : json_array_get(v, strtoul(bad + 1, NULL, 10)))
			   : v;
		snprintf(detail, dlen, "Invalid value: \"%s\": %s%s in body must be of type %s",
			 json_type_name(e), at, bad,
			 bad[0] ? (t == T_STRMAP || t == T_STRLIST ? "string" : type_name(t))
				: type_name(t));
		return -1;
	}
	dot = strchr(rest, '.');
	n = dot ? (size_t)(dot - rest) : strlen(rest);
	if (n >= sizeof(seg))
		return 0;
	memcpy(seg, rest, n);
	seg[n] = '\0';
	list = n > 2 && !strcmp(seg + n - 2, "[]");
	if (list)
		seg[n - 2] = '\0';
	if (!json_is_object(v))
		return 0; /* the parent's own rule reports it */
	v = json_object_get(v, seg);
	if (!v)
		return 0;
	snprintf(here, sizeof(here), "%s%s%s", at, at[0] ? "." : "", seg);
	if (!list)
		return check(v, dot ? dot + 1 : "", here, t, field, flen, detail, dlen);
	if (!json_is_array(v))
		return 0;
	for (size_t i = 0; i < json_array_size(v); i++) {
		char idx[280];

		snprintf(idx, sizeof(idx), "%s[%zu]", here, i);
		if (check(json_array_get(v, i), dot ? dot + 1 : "", idx, t, field, flen, detail,
			  dlen))
			return -1;
	}
	return 0;
}

int bl_validate_types(const char *kind, json_t *obj, char *field, size_t flen, char *detail,
		      size_t dlen)
{
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (rules[i].kind[0] && strcmp(rules[i].kind, kind))
			continue;
		if (check(obj, rules[i].path, "", rules[i].type, field, flen, detail, dlen))
			return -1;
	}
	return 0;
}
