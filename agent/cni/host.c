/* The node's end of a pod's veth: up, answering ARP for the pods' gateway address
 * (proxy_arp, without delay), checksum offload off and a /32 route to the pod. */
#include "agent/cni/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/ip.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/inet.h>
#include <netlink/route/neightbl.h>
#include <stdio.h>
#include <string.h>

/* proxy_arp through IFLA_AF_SPEC (the netlink face of conf/<if>/proxy_arp), and the
 * ARP table's proxy_delay at 0 so the first answer is not held back up to 0.8 s. */
static int proxy_arp_on(struct nl_sock *sk, const char *ifname, int ifindex)
{
	struct rtnl_link *link = NULL, *chg = rtnl_link_alloc();
	struct rtnl_neightbl *tbl = rtnl_neightbl_alloc();
	int err = chg && tbl ? rtnl_link_get_kernel(sk, 0, ifname, &link) : -NLE_NOMEM;

	if (!err)
		err = rtnl_link_inet_set_conf(chg, IPV4_DEVCONF_PROXY_ARP, 1);
	if (!err)
		err = rtnl_link_change(sk, link, chg, 0);
	if (!err) {
		rtnl_neightbl_set_family(tbl, AF_INET);
		rtnl_neightbl_set_name(tbl, "arp_cache");
		rtnl_neightbl_set_dev(tbl, ifindex);
		rtnl_neightbl_set_proxy_delay(tbl, 0);
		err = rtnl_neightbl_change(sk, tbl, tbl);
	}
	rtnl_neightbl_put(tbl);
	rtnl_link_put(chg);
	rtnl_link_put(link);
	return err;
}

int host_side_setup(const char *host_ifname, uint32_t pod_ip, struct cni_link_info *li,
		    struct cni_error *e)
{
	struct nl_sock *sk = nl_route_open();
	const char *step;
	int err;

	if (!sk) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "cannot open a netlink socket");
		return -ENOMEM;
	}
	step = "bringing it up";
	err = nl_link_up(sk, host_ifname, &li->host_ifindex, li->host_mac);
	if (!err) {
		step = "enabling proxy_arp";
		err = proxy_arp_on(sk, host_ifname, li->host_ifindex);
	}
	if (!err) {
		step = "adding the route to the pod";
		err = nl_route4_add(sk, li->host_ifindex, pod_ip, 32, 0);
	}
	if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err), "host veth %s: %s failed",
			      host_ifname, step);
		err = -EIO;
	} else if ((err = tx_csum_off(host_ifname))) {
		cni_set_error(e, CNI_ERR_OTHER, strerror(-err),
			      "host veth %s: turning tx checksum offload off failed", host_ifname);
	}
	nl_socket_free(sk);
	return err;
}

int host_side_check(const char *host_ifname, uint32_t pod_ip, int *ifindex, struct cni_error *e)
{
	struct nl_sock *sk = nl_route_open();
	struct in_addr a = {.s_addr = htonl(pod_ip)};
	char text[INET_ADDRSTRLEN];
	int rc = 0;

	*ifindex = (int)if_nametoindex(host_ifname);
	inet_ntop(AF_INET, &a, text, sizeof(text));
	if (!sk) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "cannot open a netlink socket");
		rc = -ENOMEM;
	} else if (!*ifindex) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "host veth %s is missing", host_ifname);
		rc = -ENODEV;
	} else if (!nl_route4_present(sk, *ifindex, pod_ip, 32)) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "the node has no route %s/32 dev %s", text,
			      host_ifname);
		rc = -ENOENT;
	}
	nl_socket_free(sk);
	return rc;
}
