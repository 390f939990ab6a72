/* The network configuration a runtime passes on stdin:
 *   {"cniVersion":"1.0.0", "name":"...", "type":"bpflet-cni", "instance":"node1",
 *    "podCIDR":"10.244.0.0/24", "mtu":1500, "dataDir":"/var/lib/bpflet-cni/node1"}
 * Unknown keys (prevResult, runtimeConfig, ...) are ignored as the spec allows. */
#include "agent/cni/cni.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <string.h>

static int get_str(json_t *o, const char *key, char *dst, size_t len, bool required,
		   struct cni_error *e)
{
	json_t *v = json_object_get(o, key);

	if (!v) {
		if (!required)
			return 0;
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL, "network config: \"%s\" is required",
			      key);
		return -EINVAL;
	}
	if (!json_is_string(v) || !json_string_length(v) || json_string_length(v) >= len) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"%s\" must be a non-empty string shorter than %zu",
			      key, len);
		return -EINVAL;
	}
	strcpy(dst, json_string_value(v));
	return 0;
}

static int check_version(const struct cni_conf *c, struct cni_error *e)
{
	if (!strcmp(c->cni_version, "1.0.0") || !strcmp(c->cni_version, "0.4.0"))
		return 0;
	cni_set_error(e, CNI_ERR_INCOMPATIBLE, "supported versions: 0.4.0, 1.0.0",
		      "cniVersion %s is not supported", c->cni_version);
	return -EINVAL;
}

static int check_cidr(struct cni_conf *c, struct cni_error *e)
{
	uint32_t given;
	struct in_addr a;
	char ip[INET_ADDRSTRLEN] = "";

	/* /31 and /32 leave no pod address once network, first host and broadcast are out */
	if (bl_cidr4_parse(c->pod_cidr_text, &c->pod_cidr) || c->pod_cidr.plen < 8 ||
	    c->pod_cidr.plen > 30) {
		cni_set_error(
			e, CNI_ERR_INVALID_CONFIG, NULL,
			"network config: \"podCIDR\" \"%s\" is not an IPv4 CIDR from /8 to /30",
			c->pod_cidr_text);
		return -EINVAL;
	}
	sscanf(c->pod_cidr_text, "%15[0-9.]", ip);
	inet_pton(AF_INET, ip, &a);
	given = ntohl(a.s_addr);
	if (given != c->pod_cidr.net) {
		a.s_addr = htonl(c->pod_cidr.net);
		inet_ntop(AF_INET, &a, ip, sizeof(ip));
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"podCIDR\" \"%s\" has host bits set (did you mean "
			      "%s/%u?)",
			      c->pod_cidr_text, ip, c->pod_cidr.plen);
		return -EINVAL;
	}
	return 0;
}

/* No podCIDR in the config: the one the agent took from its Node's spec.podCIDR. */
static int published_pod_cidr(struct cni_conf *c, struct cni_error *e)
{
	char run[128], path[192];
	FILE *f;

	bl_run_dir(run, sizeof(run), c->instance);
	snprintf(path, sizeof(path), "%s/%s", run, BL_POD_CIDR_FILE);
	f = fopen(path, "r");
	if (f) {
		bool ok = fgets(c->pod_cidr_text, sizeof(c->pod_cidr_text), f) != NULL;

		fclose(f);
		c->pod_cidr_text[strcspn(c->pod_cidr_text, "\n")] = '\0';
		if (ok && c->pod_cidr_text[0])
			return 0;
	}
	cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
		      "network config: \"podCIDR\" is required (or the agent's %s, taken from "
		      "its Node's spec.podCIDR, which it has not written)",
		      path);
	return -EINVAL;
}

static int get_mtu(json_t *o, struct cni_conf *c, struct cni_error *e)
{
	json_t *mtu = json_object_get(o, "mtu");

	c->mtu = CNI_DEFAULT_MTU;
	if (!mtu)
		return 0;
	if (!json_is_integer(mtu) || json_integer_value(mtu) < 576 ||
	    json_integer_value(mtu) > 65535) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"mtu\" must be an integer from 576 to 65535");
		return -EINVAL;
	}
	c->mtu = (unsigned)json_integer_value(mtu);
	return 0;
}

int cni_conf_parse(const char *json, struct cni_conf *c, struct cni_error *e)
{
	json_error_t jerr;
	json_t *o = json_loads(json ? json : "", 0, &jerr);
	const char *type;
	int rc = -EINVAL;

	memset(c, 0, sizeof(*c));
	if (!o || !json_is_object(o)) {
		cni_set_error(e, CNI_ERR_DECODE, o ? "top level is not an object" : jerr.text,
			      "network config on stdin is not a JSON object");
		goto out;
	}
	if (get_str(o, "cniVersion", c->cni_version, sizeof(c->cni_version), true, e) ||
	    check_version(c, e))
		goto out;
	type = json_string_value(json_object_get(o, "type"));
	if (!type || strcmp(type, "bpflet-cni")) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"type\" must be \"bpflet-cni\"");
		goto out;
	}
	if (get_str(o, "name", c->name, sizeof(c->name), false, e) ||
	    get_str(o, "instance", c->instance, sizeof(c->instance), true, e) ||
	    get_str(o, "podCIDR", c->pod_cidr_text, sizeof(c->pod_cidr_text), false, e) ||
	    get_str(o, "dataDir", c->data_dir, sizeof(c->data_dir), false, e))
		goto out;
	if (!bl_instance_valid(c->instance)) {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"instance\" \"%s\" must be 1-%d characters of "
			      "[A-Za-z0-9_-]",
			      c->instance, BPFLET_INSTANCE_MAX);
		goto out;
	}
	if (!c->pod_cidr_text[0] && published_pod_cidr(c, e))
		goto out;
	if (check_cidr(c, e) || get_mtu(o, c, e))
		goto out;
	if (!c->data_dir[0]) {
		snprintf(c->data_dir, sizeof(c->data_dir), "%s/%s", CNI_DATA_ROOT, c->instance);
	} else if (c->data_dir[0] != '/') {
		cni_set_error(e, CNI_ERR_INVALID_CONFIG, NULL,
			      "network config: \"dataDir\" \"%s\" must be an absolute path",
			      c->data_dir);
		goto out;
	}
	rc = 0;
out:
	json_decref(o);
	return rc;
}
