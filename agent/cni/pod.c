/* The pod's end, configured from inside its namespace: lo and the interface up, the
 * pod address as a /32, and everything routed to 169.254.1.1 on the link. The host
 * veth answers ARP for that address (proxy_arp), but only if the node has a route
 * for it; a permanent neighbour entry makes the pod independent of that. */
#include "agent/cni/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>

struct pod_job {
	const char *ifname;
	uint32_t ip;
	const char *gw_mac;
	char mac[18];
	const char *step; /* the step that failed */
	int csum_err;
};

static uint32_t gateway(void)
{
	struct in_addr a;

	inet_pton(AF_INET, CNI_GATEWAY, &a);
	return ntohl(a.s_addr);
}

static int configure(void *arg)
{
	struct pod_job *j = arg;
	struct nl_sock *sk = nl_route_open();
	int idx = 0, err;

	if (!sk)
		return -NLE_NOMEM;
	j->step = "bringing lo up";
	err = nl_link_up(sk, "lo", NULL, NULL);
	if (!err) {
		j->step = "bringing the interface up";
		err = nl_link_up(sk, j->ifname, &idx, j->mac);
	}
	if (!err) {
		j->step = "adding the pod address";
		err = nl_addr4_add(sk, idx, j->ip, 32);
	}
	if (!err) {
		j->step = "adding the route to " CNI_GATEWAY;
		err = nl_route4_add(sk, idx, gateway(), 32, 0);
	}
	if (!err) {
		j->step = "adding the default route";
		err = nl_route4_add(sk, idx, 0, 0, gateway());
	}
	if (!err) {
		j->step = "adding the neighbour entry for " CNI_GATEWAY;
		err = nl_neigh4_add_permanent(sk, idx, gateway(), j->gw_mac);
	}
	if (!err)
		j->csum_err = tx_csum_off(j->ifname);
	nl_socket_free(sk);
	return err;
}

int pod_side_setup(const char *netns, const char *ifname, uint32_t pod_ip, const char *gw_mac,
		   char pod_mac[18], struct cni_error *e)
{
	struct pod_job j = {.ifname = ifname, .ip = pod_ip, .gw_mac = gw_mac, .step = ""};
	int err = 0, rc = netns_run(netns, configure, &j, &err);

	if (rc) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, strerror(-rc),
			      "CNI_NETNS %s is not a network namespace we can enter", netns);
		return rc;
	}
	if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err), "%s in %s: %s failed", ifname,
			      netns, j.step);
		return -EIO;
	}
	if (j.csum_err) {
		cni_set_error(e, CNI_ERR_OTHER, strerror(-j.csum_err),
			      "%s in %s: turning tx checksum offload off failed", ifname, netns);
		return j.csum_err;
	}
	memcpy(pod_mac, j.mac, sizeof(j.mac));
	return 0;
}

struct check_job {
	const char *ifname;
	uint32_t ip;
	const char *problem;
};

static int inspect(void *arg)
{
	struct check_job *j = arg;
	struct nl_sock *sk = nl_route_open();
	struct rtnl_link *link = NULL;

	if (!sk)
		return -NLE_NOMEM;
	if (rtnl_link_get_kernel(sk, 0, j->ifname, &link))
		j->problem = "is missing";
	else if (!(rtnl_link_get_flags(link) & IFF_UP))
		j->problem = "is down";
	else if (!nl_addr4_present(sk, rtnl_link_get_ifindex(link), j->ip))
		j->problem = "lost its address";
	else if (!nl_route4_present(sk, rtnl_link_get_ifindex(link), 0, 0))
		j->problem = "has no default route";
	rtnl_link_put(link);
	nl_socket_free(sk);
	return 0;
}

int pod_side_check(const char *netns, const char *ifname, uint32_t pod_ip, struct cni_error *e)
{
	struct check_job j = {.ifname = ifname, .ip = pod_ip};
	struct in_addr a = {.s_addr = htonl(pod_ip)};
	char text[INET_ADDRSTRLEN];
	int err = 0, rc = netns_run(netns, inspect, &j, &err);

	inet_ntop(AF_INET, &a, text, sizeof(text));
	if (rc) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, strerror(-rc),
			      "CNI_NETNS %s cannot be entered", netns);
		return rc;
	}
	if (err || j.problem) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "%s in %s (address %s/32) %s", ifname, netns,
			      text, j.problem ? j.problem : "cannot be inspected");
		return -ENOENT;
	}
	return 0;
}
