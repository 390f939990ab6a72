/* The CNI result and error documents. */
#include "agent/cni/cni.h"

#include <arpa/inet.h>
#include <jansson.h>
#include <stdlib.h>

char *cni_result_json(const struct cni_conf *c, const struct cni_env *env,
		      const struct cni_link_info *li, uint32_t ip)
{
	struct in_addr a = {.s_addr = htonl(ip)};
	char addr[INET_ADDRSTRLEN + 3], text[INET_ADDRSTRLEN];
	json_t *o;
	char *s;

	inet_ntop(AF_INET, &a, text, sizeof(text));
	snprintf(addr, sizeof(addr), "%s/32", text);
	o = json_pack("{s:s, s:[{s:s, s:s}, {s:s, s:s, s:s}], s:[{s:s, s:s, s:i}], "
		      "s:[{s:s, s:s}], s:{}}",
		      "cniVersion", c->cni_version, "interfaces", "name", li->host_ifname, "mac",
		      li->host_mac, "name", env->ifname, "mac", li->pod_mac, "sandbox", env->netns,
		      "ips", "address", addr, "gateway", GATEWAY_IP, "interface", 1, "routes",
		      "dst", "0.0.0.0/0", "gw", GATEWAY_IP, "dns");
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}

char *cni_error_json(const char *version, const struct cni_error *e)
{
	json_t *o = json_pack("{s:s, s:i, s:s}", "cniVersion", version && version[0] ? version : "1.0.0",
			      "code", e->code ? e->code : CNI_ERR_OTHER, "msg", e->msg);
	char *s;

	if (o && e->details[0])
		json_object_set_new(o, "details", json_string(e->details));
	s = o ? json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
	json_decref(o);
	return s;
}
