/*
 * bpflet-cni: CNI 1.0 plugin (ADD, DEL, CHECK, VERSION). Wires a pod with a veth pair,
 * an address from the node's pod CIDR and routes, then registers the endpoint with
 * the bpflet agent of the configured instance over its unix socket.
 */
#include "agent/cni/cni.h"
#include "agent/common/endpoint_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AGENT_TIMEOUT_MS 5000
#define MAX_STDIN (1 << 20)

static char *read_stdin(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, stdin);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			if (cap >= MAX_STDIN) {
				free(buf);
				return NULL;
			}
			cap *= 2;
			char *p = realloc(buf, cap);

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static int fail(const char *version, const struct cni_error *e)
{
	char *s = cni_error_json(version, e);

	printf("%s\n", s ? s : "{\"code\":999,\"msg\":\"out of memory\"}");
	free(s);
	return 1;
}

static void owner_of(const struct cni_env *env, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", env->container_id, env->ifname);
}

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

static int cmd_add(const struct cni_conf *c, const struct cni_env *env)
{
	struct cni_error e = {0};
	struct cni_link_info li;
	struct bl_endpoint_msg m;
	char owner[200], err[512];
	uint32_t ip;
	char *out;

	owner_of(env, owner, sizeof(owner));
	if (ipam_alloc(c, owner, &ip, &e))
		return fail(c->cni_version, &e);
	if (net_setup(c, env, ip, &li, &e)) {
		ipam_release(c, owner);
		return fail(c->cni_version, &e);
	}
	fill_msg(&m, BL_EP_ADD, env, li.host_ifname, li.host_ifindex, ip);
	if (bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err))) {
		net_teardown(li.host_ifname);
		ipam_release(c, owner);
		cni_set_error(&e, CNI_ERR_TRY_AGAIN, err, "registering the pod with bpflet failed");
		return fail(c->cni_version, &e);
	}
	out = cni_result_json(c, env, &li, ip);
	if (!out) {
		cni_set_error(&e, CNI_ERR_OTHER, NULL, "out of memory");
		return fail(c->cni_version, &e);
	}
	printf("%s\n", out);
	free(out);
	return 0;
}

static int cmd_del(const struct cni_conf *c, const struct cni_env *env)
{
	struct bl_endpoint_msg m;
	char owner[200], host[16], err[512];
	struct cni_error e = {0};

	cni_host_ifname(env->container_id, env->ifname, host);
	owner_of(env, owner, sizeof(owner));
	fill_msg(&m, BL_EP_DEL, env, host, 0, 0);
	/* the agent may be gone: DEL must still clean up and succeed */
	bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err));
	if (net_teardown(host)) {
		cni_set_error(&e, CNI_ERR_OTHER, NULL, "deleting %s failed", host);
		return fail(c->cni_version, &e);
	}
	if (ipam_release(c, owner)) {
		cni_set_error(&e, CNI_ERR_IO, NULL, "releasing the address of %s failed", owner);
		return fail(c->cni_version, &e);
	}
	return 0;
}

static int cmd_check(const struct cni_conf *c, const struct cni_env *env)
{
	struct cni_error e = {0};
	struct bl_endpoint_msg m;
	char owner[200], host[16], err[512];
	uint32_t ip;

	cni_host_ifname(env->container_id, env->ifname, host);
	owner_of(env, owner, sizeof(owner));
	if (ipam_find(c, owner, &ip)) {
		cni_set_error(&e, CNI_ERR_UNKNOWN_CONTAINER, NULL, "no address is allocated to %s",
			      owner);
		return fail(c->cni_version, &e);
	}
	if (net_check(env, host, ip, &e))
		return fail(c->cni_version, &e);
	fill_msg(&m, BL_EP_CHECK, env, host, (int)if_nametoindex(host), ip);
	if (bl_endpoint_call(c->instance, &m, AGENT_TIMEOUT_MS, err, sizeof(err))) {
		cni_set_error(&e, CNI_ERR_OTHER, err, "the bpflet agent does not know this pod");
		return fail(c->cni_version, &e);
	}
	return 0;
}

int main(void)
{
	struct cni_error e = {0};
	struct cni_conf conf;
	struct cni_env env;
	char *in;
	int rc;

	if (cni_env_read(&env, &e))
		return fail(NULL, &e);
	if (!strcmp(env.command, "VERSION")) {
		printf("{\"cniVersion\":\"1.0.0\",\"supportedVersions\":[\"0.4.0\",\"1.0.0\"]}\n");
		return 0;
	}
	in = read_stdin();
	if (!in) {
		cni_set_error(&e, CNI_ERR_DECODE, NULL, "cannot read the network config on stdin");
		return fail(NULL, &e);
	}
	rc = cni_conf_parse(in, &conf, &e);
	free(in);
	if (rc)
		return fail(NULL, &e);
	if (!strcmp(env.command, "ADD"))
		return cmd_add(&conf, &env);
	if (!strcmp(env.command, "DEL"))
		return cmd_del(&conf, &env);
	if (!strcmp(env.command, "CHECK"))
		return cmd_check(&conf, &env);
	cni_set_error(&e, CNI_ERR_INVALID_ENV, NULL, "CNI_COMMAND %s is not supported",
		      env.command);
	return fail(conf.cni_version, &e);
}
