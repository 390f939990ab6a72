/* ADD, DEL and CHECK: IPAM, the veth's two ends, and the agent's registration, with
 * every step of a failed ADD undone so a retry starts clean. */
#include "agent/cni/cni.h"
#include "agent/cni/net.h"
#include "agent/common/endpoint_msg.h"
#include "agent/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_TIMEOUT_MS 5000

static void fill_msg(struct bl_endpoint_msg *m, enum bl_ep_op op, const struct cni_env *env,
		     const char *host_ifname, int ifindex, uint32_t ip)
{
	struct in_addr a = {.s_addr = htonl(ip)};

	memset(m, 0, sizeof(*m));
	m->op = op;
	snprintf(m->container_id, sizeof(m->container_id), "%s", env->container_id);
	snprintf(m->ifname, sizeof(m->ifname), "%s", host_ifname);
	m->ifindex = ifindex;
	if (ip)
		inet_ntop(AF_INET, &a, m->ip, sizeof(m->ip));
	snprintf(m->pod_namespace, sizeof(m->pod_namespace), "%s", env->pod_namespace);
	snprintf(m->pod_name, sizeof(m->pod_name), "%s", env->pod_name);
	snprintf(m->netns, sizeof(m->netns), "%s", env->netns);
}

static const char *pod_label(const struct cni_env *env, char *buf, size_t len)
{
	if (env->pod_name[0])
		snprintf(buf, len, "pod %s/%s", env->pod_namespace, env->pod_name);
	else
		snprintf(buf, len, "container %s", env->container_id);
	return buf;
}

int cni_cmd_add(const struct cni_conf *c, const struct cni_env *env, char **result,
		struct cni_error *e)
{
	struct cni_link_info li = {0};
	struct bl_endpoint_msg m;
	char err[512], label[400];
	uint32_t ip;
	int rc;

	*result = NULL;
	cni_host_ifname(env->container_id, env->ifname, li.host_ifname);
	rc = ipam_alloc(c, env->container_id, env->ifname, &ip, e);
	if (rc)
		return rc;
	rc = veth_create(li.host_ifname, env->ifname, env->netns, c->mtu, e);
	if (rc)
		goto release;
	rc = host_side_setup(li.host_ifname, ip, &li, e);
	if (!rc)
		rc = pod_side_setup(env->netns, env->ifname, ip, li.host_mac, li.pod_mac, e);
	if (rc)
		goto undo;
	fill_msg(&m, BL_EP_ADD, env, li.host_ifname, li.host_ifindex, ip);
	rc = bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err));
	if (rc) {
		/* an agent that is down or slow may be back soon; a refusal is final */
		cni_set_error(e, rc == -EPROTO ? CNI_ERR_OTHER : CNI_ERR_TRY_AGAIN,
			      "the veth and the address were rolled back",
			      "registering %s with the bpflet agent failed: %s",
			      pod_label(env, label, sizeof(label)), err);
		goto undo;
	}
	*result = cni_result_json(c, env, &li, ip);
	if (*result)
		return 0;
	cni_set_error(e, CNI_ERR_OTHER, NULL, "out of memory");
	rc = -ENOMEM;
	fill_msg(&m, BL_EP_DEL, env, li.host_ifname, li.host_ifindex, ip);
	bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err));
undo:
	veth_delete(li.host_ifname);
release:
	ipam_release(c, env->container_id, env->ifname);
	return rc;
}

int cni_cmd_del(const struct cni_conf *c, const struct cni_env *env, struct cni_error *e)
{
	struct bl_endpoint_msg m;
	char host[16], err[512];
	uint32_t ip = 0;
	int rc;

	cni_host_ifname(env->container_id, env->ifname, host);
	ipam_find(c, env->container_id, env->ifname, &ip);
	fill_msg(&m, BL_EP_DEL, env, host, (int)if_nametoindex(host), ip);
	/* DEL must clean up and succeed even when the agent is gone */
	if (bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err)))
		log_warn("DEL %s: agent not told: %s", env->container_id, err);
	rc = veth_delete(host);
	if (rc) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "deleting host veth %s failed", host);
		return rc;
	}
	rc = ipam_release(c, env->container_id, env->ifname);
	if (rc) {
		cni_set_error(e, CNI_ERR_IO, strerror(-rc),
			      "releasing the address of %s/%s in %s failed", env->container_id,
			      env->ifname, c->data_dir);
		return rc;
	}
	return 0;
}

int cni_cmd_check(const struct cni_conf *c, const struct cni_env *env, struct cni_error *e)
{
	struct bl_endpoint_msg m;
	char host[16], err[512], label[400];
	uint32_t ip;
	int ifindex, rc;

	cni_host_ifname(env->container_id, env->ifname, host);
	if (ipam_find(c, env->container_id, env->ifname, &ip)) {
		cni_set_error(e, CNI_ERR_UNKNOWN_CONTAINER, NULL,
			      "no address is allocated to %s/%s in %s", env->container_id,
			      env->ifname, c->data_dir);
		return -ENOENT;
	}
	rc = host_side_check(host, ip, &ifindex, e);
	if (!rc)
		rc = pod_side_check(env->netns, env->ifname, ip, e);
	if (rc)
		return rc;
	fill_msg(&m, BL_EP_CHECK, env, host, ifindex, ip);
	rc = bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err));
	if (rc)
		cni_set_error(e, CNI_ERR_OTHER, err, "the bpflet agent does not vouch for %s: %s",
			      pod_label(env, label, sizeof(label)), err);
	return rc;
}
