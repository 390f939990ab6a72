/* Network configuration (stdin JSON), CNI_* environment and host veth naming. */
#include "agent/cni/cni.h"
#include "agent/common/paths.h"

#include <errno.h>
#include <jansson.h>
#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cni_set_error(struct cni_error *e, int code, const char *details, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	snprintf(e->details, sizeof(e->details), "%s", details ? details : "");
}

static int get_str(json_t *o, const char *key, char *dst, size_t len, bool required,
		   struct cni_error *e)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (required) {
			cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
				      "network config: \"%s\" is required", key);
			return -EINVAL;
		}
		return 0;
	}
	if (!json_is_string(v) || strlen(json_string_value(v)) >= len) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"%s\" must be a string shorter than %zu", key, len);
		return -EINVAL;
	}
	strcpy(dst, json_string_value(v));
	return 0;
}

int cni_conf_parse(const char *json, struct cni_conf *c, struct cni_error *e)
{
	json_error_t jerr;
	json_t *o = json_loads(json, 0, &jerr), *mtu;
	const char *type;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (!o || !json_is_object(o)) {
		cni_set_error(e, CNI_ERR_DECODE, o ? "not an object" : jerr.text,
			      "network config on stdin is not a JSON object");
		goto out;
	}
	type = json_string_value(json_object_get(o, "type"));
	if (!type || strcmp(type, "bpflet-cni")) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"type\" must be \"bpflet-cni\"");
		goto out;
	}
	if (get_str(o, "cniVersion", c->cni_version, sizeof(c->cni_version), true, e) ||
	    get_str(o, "name", c->name, sizeof(c->name), false, e) ||
	    get_str(o, "instance", c->instance, sizeof(c->instance), true, e) ||
	    get_str(o, "podCIDR", c->pod_cidr_text, sizeof(c->pod_cidr_text), true, e) ||
	    get_str(o, "dataDir", c->data_dir, sizeof(c->data_dir), false, e))
		goto out;
	if (strcmp(c->cni_version, "1.0.0") && strcmp(c->cni_version, "0.4.0")) {
		cni_set_error(e, CNI_ERR_INCOMPATIBLE, NULL,
			      "cniVersion %s is not supported (1.0.0, 0.4.0)", c->cni_version);
		goto out;
	}
	if (!bl_instance_valid(c->instance)) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"instance\" must be 1-32 of [A-Za-z0-9_-]");
		goto out;
	}
	if (bl_cidr4_parse(c->pod_cidr_text, &c->pod_cidr) || c->pod_cidr.plen > 30 ||
	    c->pod_cidr.plen < 8) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"podCIDR\" %s is not an IPv4 CIDR from /8 to /30",
			      c->pod_cidr_text);
		goto out;
	}
	mtu = json_object_get(o, "mtu");
	c->mtu = 1500;
	if (mtu) {
		if (!json_is_integer(mtu) || json_integer_value(mtu) < 576 ||
		    json_integer_value(mtu) > 65535) {
			cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
				      "network config: \"mtu\" must be an integer 576-65535");
			goto out;
		}
		c->mtu = (unsigned)json_integer_value(mtu);
	}
	if (!c->data_dir[0])
		snprintf(c->data_dir, sizeof(c->data_dir), "/var/lib/bpflet-cni/%s", c->instance);
	rc = 0;
out:
	json_decref(o);
	return rc;
}

static int env_copy(const char *name, char *dst, size_t len, bool required, struct cni_error *e)
{
	const char *v = getenv(name);

	if (!v || !v[0]) {
		dst[0] = '\0';
		if (required) {
			cni_set_error(e, CNI_ERR_INVALID_ENV, NULL, "%s is not set", name);
			return -EINVAL;
		}
		return 0;
	}
	if (strlen(v) >= len) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL, "%s is longer than %zu", name,
			      len - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

int cni_args_parse(const char *args, struct cni_env *env, struct cni_error *e)
{
	char *copy, *save = NULL;

	env->pod_namespace[0] = env->pod_name[0] = '\0';
	if (!args)
		return 0;
	copy = strdup(args);
	if (!copy)
		return -ENOMEM;
	for (char *kv = strtok_r(copy, ";", &save); kv; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');
		const char *val;

		if (!eq) {
			cni_set_error(e, CNI_ERR_INVALID_ENV, NULL,
				      "CNI_ARGS: '%s' is not KEY=VALUE", kv);
			free(copy);
			return -EINVAL;
		}
		*eq = '\0';
		val = eq + 1;
		if (!strcmp(kv, "K8S_POD_NAMESPACE"))
			snprintf(env->pod_namespace, sizeof(env->pod_namespace), "%s", val);
		else if (!strcmp(kv, "K8S_POD_NAME"))
			snprintf(env->pod_name, sizeof(env->pod_name), "%s", val);
	}
	free(copy);
	return 0;
}

int cni_env_read(struct cni_env *env, struct cni_error *e)
{
	bool needs_all;

	memset(env, 0, sizeof(*env));
	if (env_copy("CNI_COMMAND", env->command, sizeof(env->command), true, e))
		return -EINVAL;
	if (!strcmp(env->command, "VERSION"))
		return 0;
	needs_all = strcmp(env->command, "DEL") != 0; /* DEL may come without a netns */
	if (env_copy("CNI_CONTAINERID", env->container_id, sizeof(env->container_id), true, e) ||
	    env_copy("CNI_NETNS", env->netns, sizeof(env->netns), needs_all, e) ||
	    env_copy("CNI_IFNAME", env->ifname, sizeof(env->ifname), true, e))
		return -EINVAL;
	return cni_args_parse(getenv("CNI_ARGS"), env, e);
}

void cni_host_ifname(const char *container_id, const char *ifname, char out[16])
{
	unsigned char md[SHA256_DIGEST_LENGTH];
	char buf[300];
	int n = snprintf(buf, sizeof(buf), "%s/%s", container_id, ifname);

	SHA256((const unsigned char *)buf, (size_t)(n < 0 ? 0 : n), md);
	snprintf(out, 16, "bl%02x%02x%02x%02x%02x%x", md[0], md[1], md[2], md[3], md[4], md[5] >> 4);
}
