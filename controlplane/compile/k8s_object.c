#include "controlplane/compile/k8s_object.h"

#include "controlplane/compile/k8s_json.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

int bl_k8s_kind_of(const json_t *obj, char *err, size_t errlen)
{
	const char *kind, *api;

	if (!json_is_object(obj)) {
		snprintf(err, errlen, "must be a mapping (a Kubernetes object)");
		return -EINVAL;
	}
	kind = json_string_value(json_object_get(obj, "kind"));
	api = json_string_value(json_object_get(obj, "apiVersion"));
	if (!kind || !*kind) {
		snprintf(err, errlen, "kind: required");
		return -EINVAL;
	}
	if (!api || !*api) {
		snprintf(err, errlen, "apiVersion: required");
		return -EINVAL;
	}
	if (!strcmp(kind, "Service")) {
		if (strcmp(api, "v1")) {
			snprintf(err, errlen, "apiVersion: Service must be v1, not %.40s", api);
			return -EINVAL;
		}
		return BL_K8S_SERVICE;
	}
	if (!strcmp(kind, "EndpointSlice")) {
		/* v1beta1 had a different schema (topology map); we only read v1 */
		if (strcmp(api, "discovery.k8s.io/v1")) {
			snprintf(err, errlen,
				 "apiVersion: EndpointSlice must be discovery.k8s.io/v1, not %.40s",
				 api);
			return -EINVAL;
		}
		return BL_K8S_ENDPOINTSLICE;
	}
	return BL_K8S_OTHER;
}

const char *bl_k8s_describe(const json_t *obj, char *buf, size_t len)
{
	const json_t *md = json_object_get(obj, "metadata");
	const char *kind = json_string_value(json_object_get(obj, "kind"));
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	const char *name = json_string_value(json_object_get(md, "name"));

	snprintf(buf, len, "%.40s %.63s/%.100s", kind ? kind : "object", ns && *ns ? ns : "default",
		 name && *name ? name : "<no name>");
	return buf;
}

int bl_k8s_meta_parse(const json_t *obj, bool label_name, struct bl_k8s_meta *m,
		      const json_t **labels, char *err, size_t errlen)
{
	const json_t *md, *lb, *v;
	const char *key;
	bool present;
	int e;

	memset(m, 0, sizeof(*m));
	*labels = NULL;
	e = bl_kj_object(obj, "metadata", "", &md, err, errlen);
	if (e)
		return e;
	if (!md)
		return bl_kj_fail(err, errlen, "metadata", "required");
	e = bl_kj_string(md, "name", "metadata", m->name, sizeof(m->name), &present, err, errlen);
	if (e)
		return e;
	if (!present || !*m->name)
		return bl_kj_fail(err, errlen, "metadata.name", "required");
	if (label_name ? !bl_k8s_dns_label(m->name) : !bl_k8s_dns_subdomain(m->name))
		return bl_kj_fail(err, errlen, "metadata.name",
				  "\"%.64s\" must be lower case alphanumerics and '-'%s", m->name,
				  label_name ? ", at most 63 characters" : " and '.'");
	e = bl_kj_string(md, "namespace", "metadata", m->ns, sizeof(m->ns), &present, err, errlen);
	if (e)
		return e;
	if (!present || !*m->ns)
		strcpy(m->ns, "default");
	else if (!bl_k8s_dns_label(m->ns))
		return bl_kj_fail(
			err, errlen, "metadata.namespace",
			"\"%.64s\" must be a DNS label (lower case alphanumerics and '-')", m->ns);
	e = bl_kj_object(md, "labels", "metadata", &lb, err, errlen);
	if (e)
		return e;
	json_object_foreach((json_t *)lb, key, v)
	{
		if (!json_is_string(v))
			return bl_kj_fail(err, errlen, "metadata.labels",
					  "value of \"%.63s\" must be a string", key);
	}
	*labels = lb;
	return 0;
}

const char *bl_k8s_label(const json_t *labels, const char *key)
{
	return json_string_value(json_object_get(labels, key));
}
