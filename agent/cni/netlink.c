/* The plugin's netlink work through libnl-route: the veth pair, the pod's address and
 * routes (entered with setns), and the node's route to the pod. */
#include "agent/cni/cni.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/route.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static struct nl_sock *nl_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

/* eBPF redirection between veths breaks TCP unless tx checksum offload is off */
static void tx_csum_off(const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	ioctl(fd, SIOCETHTOOL, &ifr);
	close(fd);
}

static int link_up(struct nl_sock *sk, const char *name, int *ifindex, char mac[18])
{
	struct rtnl_link *link = NULL, *chg = rtnl_link_alloc();
	int err = rtnl_link_get_kernel(sk, 0, name, &link);

	if (!err) {
		rtnl_link_set_flags(chg, IFF_UP);
		err = rtnl_link_change(sk, link, chg, 0);
		if (ifindex)
			*ifindex = rtnl_link_get_ifindex(link);
		if (mac)
			nl_addr2str(rtnl_link_get_addr(link), mac, 18);
	}
	rtnl_link_put(chg);
	if (link)
		rtnl_link_put(link);
	return err;
}

static int add_addr(struct nl_sock *sk, int ifindex, const char *cidr)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = NULL;
	int err = nl_addr_parse(cidr, AF_INET, &local);

	if (!err) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		err = rtnl_addr_add(sk, a, 0);
		if (err == -NLE_EXIST)
			err = 0;
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err;
}

static int add_route(struct nl_sock *sk, int ifindex, const char *dst, const char *via)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = NULL, *g = NULL;
	int err = nl_addr_parse(dst, AF_INET, &d);

	if (!err && via)
		err = nl_addr_parse(via, AF_INET, &g);
	if (!err) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_dst(r, d);
		rtnl_route_set_table(r, RT_TABLE_MAIN);
		rtnl_route_set_scope(r, via ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		if (g)
			rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_add_nexthop(r, nh);
		nh = NULL;
		err = rtnl_route_add(sk, r, NLM_F_CREATE | NLM_F_REPLACE);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(d);
	nl_addr_put(g);
	rtnl_route_put(r);
	return err;
}

/* Runs fn inside the network namespace at path, then comes back. */
static int in_netns(const char *path, int (*fn)(void *), void *arg)
{
	int self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	int target = open(path, O_RDONLY | O_CLOEXEC);
	int err;

	if (self < 0 || target < 0) {
		err = -errno;
		goto out;
	}
	if (setns(target, CLONE_NEWNET)) {
		err = -errno;
		goto out;
	}
	err = fn(arg);
	if (setns(self, CLONE_NEWNET))
		err = -errno; /* cannot happen short of a kernel bug; never continue */
out:
	if (self >= 0)
		close(self);
	if (target >= 0)
		close(target);
	return err;
}

struct pod_side {
	const struct cni_env *env;
	char cidr[24];
	char mac[18];
	int err_step;
};

static int configure_pod(void *arg)
{
	struct pod_side *ps = arg;
	struct nl_sock *sk = nl_open();
	int idx = 0, err;

	if (!sk)
		return -ENOMEM;
	ps->err_step = 1;
	err = link_up(sk, "lo", NULL, NULL);
	if (!err) {
		ps->err_step = 2;
		err = link_up(sk, ps->env->ifname, &idx, ps->mac);
	}
	if (!err) {
		ps->err_step = 3;
		err = add_addr(sk, idx, ps->cidr);
	}
	if (!err) {
		ps->err_step = 4;
		err = add_route(sk, idx, GATEWAY_IP "/32", NULL);
	}
	if (!err) {
		ps->err_step = 5;
		err = add_route(sk, idx, "0.0.0.0/0", GATEWAY_IP);
	}
	tx_csum_off(ps->env->ifname);
	nl_socket_free(sk);
	return err > 0 ? -err : err;
}

int net_setup(const struct cni_conf *c, const struct cni_env *env, uint32_t ip,
	      struct cni_link_info *out, struct cni_error *e)
{
	static const char *const steps[] = {"", "lo up", "interface up", "pod address",
					    "gateway route", "default route"};
	struct pod_side ps = {.env = env};
	struct rtnl_link *veth = NULL, *peer;
	struct in_addr a = {.s_addr = htonl(ip)};
	struct nl_sock *sk = nl_open();
	char ipbuf[INET_ADDRSTRLEN], route[32];
	int nsfd = -1, err;

	memset(out, 0, sizeof(*out));
	cni_host_ifname(env->container_id, env->ifname, out->host_ifname);
	inet_ntop(AF_INET, &a, ipbuf, sizeof(ipbuf));
	snprintf(ps.cidr, sizeof(ps.cidr), "%s/32", ipbuf);
	if (!sk) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "cannot open a netlink socket");
		return -ENOMEM;
	}
	nsfd = open(env->netns, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		err = -errno;
		cni_set_error(e, CNI_ERR_INVALID_ENV, strerror(errno), "CNI_NETNS %s cannot be opened",
			      env->netns);
		goto out;
	}
	/* a repeated ADD after a failure may find our own veth: start clean */
	net_teardown(out->host_ifname);
	veth = rtnl_link_veth_alloc();
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, out->host_ifname);
	rtnl_link_set_mtu(veth, c->mtu);
	rtnl_link_set_name(peer, env->ifname);
	rtnl_link_set_mtu(peer, c->mtu);
	rtnl_link_set_ns_fd(peer, nsfd);
	rtnl_link_put(peer);
	err = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err),
			      "creating veth %s <-> %s in %s failed", out->host_ifname,
			      env->ifname, env->netns);
		err = -EIO;
		goto out;
	}
	err = in_netns(env->netns, configure_pod, &ps);
	if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(-err), "pod side of %s: %s failed",
			      env->ifname, steps[ps.err_step]);
		goto fail;
	}
	memcpy(out->pod_mac, ps.mac, sizeof(out->pod_mac));
	/* the node side answers ARP for the pods' gateway address itself */
	err = link_up(sk, out->host_ifname, &out->host_ifindex, out->host_mac);
	if (!err)
		err = add_addr(sk, out->host_ifindex, GATEWAY_IP "/32");
	snprintf(route, sizeof(route), "%s/32", ipbuf);
	if (!err)
		err = add_route(sk, out->host_ifindex, route, NULL);
	tx_csum_off(out->host_ifname);
	if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err),
			      "node side of %s: address or route to %s failed", out->host_ifname,
			      ipbuf);
		goto fail;
	}
	err = 0;
	goto out;
fail:
	net_teardown(out->host_ifname);
	err = -EIO;
out:
	if (veth)
		rtnl_link_put(veth);
	if (nsfd >= 0)
		close(nsfd);
	nl_socket_free(sk);
	return err;
}

int net_teardown(const char *host_ifname)
{
	struct nl_sock *sk = nl_open();
	struct rtnl_link *link = NULL;
	int err;

	if (!sk)
		return -ENOMEM;
	err = rtnl_link_get_kernel(sk, 0, host_ifname, &link);
	if (!err) {
		err = rtnl_link_delete(sk, link);
		rtnl_link_put(link);
	} else {
		err = 0; /* already gone */
	}
	nl_socket_free(sk);
	return err ? -EIO : 0;
}

struct check_arg {
	const struct cni_env *env;
	uint32_t ip;
	bool found;
};

static int check_pod(void *arg)
{
	struct check_arg *ca = arg;
	struct nl_sock *sk = nl_open();
	struct rtnl_link *link = NULL;
	struct nl_cache *addrs = NULL;
	struct nl_object *obj;
	int err;

	if (!sk)
		return -ENOMEM;
	err = rtnl_link_get_kernel(sk, 0, ca->env->ifname, &link);
	if (!err)
		err = rtnl_addr_alloc_cache(sk, &addrs);
	for (obj = addrs ? nl_cache_get_first(addrs) : NULL; !err && obj; obj = nl_cache_get_next(obj)) {
		struct rtnl_addr *a = (struct rtnl_addr *)obj;
		struct nl_addr *l = rtnl_addr_get_local(a);

		if (rtnl_addr_get_ifindex(a) == rtnl_link_get_ifindex(link) && l &&
		    nl_addr_get_family(l) == AF_INET &&
		    ntohl(*(uint32_t *)nl_addr_get_binary_addr(l)) == ca->ip)
			ca->found = true;
	}
	if (addrs)
		nl_cache_free(addrs);
	if (link)
		rtnl_link_put(link);
	nl_socket_free(sk);
	return err > 0 ? -err : err;
}

int net_check(const struct cni_env *env, const char *host_ifname, uint32_t ip,
	      struct cni_error *e)
{
	struct check_arg ca = {.env = env, .ip = ip};

	if (!if_nametoindex(host_ifname)) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "host veth %s is missing", host_ifname);
		return -ENODEV;
	}
	if (in_netns(env->netns, check_pod, &ca) || !ca.found) {
		cni_set_error(e, CNI_ERR_OTHER, NULL,
			      "interface %s in %s is missing or lost its address", env->ifname,
			      env->netns);
		return -ENODEV;
	}
	return 0;
}
