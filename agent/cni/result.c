/* The documents the plugin prints on stdout: the ADD result, errors and VERSION. */
#include "agent/cni/cni.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *dump(json_t *o)
{
	char *s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(o);
	return s;
}

char *cni_result_json(const struct cni_conf *c, const struct cni_env *env,
		      const struct cni_link_info *li, uint32_t ip)
{
	struct in_addr a = {.s_addr = htonl(ip)};
	char text[INET_ADDRSTRLEN], addr[INET_ADDRSTRLEN + 3];
	json_t *o, *ipc;

	inet_ntop(AF_INET, &a, text, sizeof(text));
	snprintf(addr, sizeof(addr), "%s/32", text);
	/* interfaces[0] is the host veth, [1] the pod's; ips point at [1] */
	ipc = json_pack("{s:s, s:s, s:i}", "address", addr, "gateway", CNI_GATEWAY, "interface", 1);
	if (ipc && !strcmp(c->cni_version, "0.4.0"))
		json_object_set_new(ipc, "version", json_string("4"));
	o = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}], s:[o], s:[{s:s}], s:{}}",
		      "cniVersion", c->cni_version, "interfaces", "name", li->host_ifname, "mac",
		      li->host_mac, "name", env->ifname, "mac", li->pod_mac, "sandbox", env->netns,
		      "ips", ipc, "routes", "dst", "0.0.0.0/0", "dns");
	return dump(o);
}

char *cni_error_json(const char *version, const struct cni_error *e)
{
	return dump(json_pack(
		"{s:s, s:i, s:s, s:s}", "cniVersion", version && version[0] ? version : "1.0.0",
		"code", e->code ? e->code : CNI_ERR_OTHER, "msg", e->msg, "details", e->details));
}

char *cni_version_json(void)
{
	return dump(json_pack("{s:s, s:[s, s]}", "cniVersion", "1.0.0", "supportedVersions",
			      "0.4.0", "1.0.0"));
}
