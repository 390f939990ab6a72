/* libnl-route wrappers for the few objects the plugin touches, plus the one ethtool
 * call libnl has no API for. */
#include "agent/cni/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/ethtool.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/neighbour.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct nl_sock *nl_route_open(void)
{
	struct nl_sock *sk = nl_socket_alloc();

	if (sk && nl_connect(sk, NETLINK_ROUTE)) {
		nl_socket_free(sk);
		return NULL;
	}
	return sk;
}

static struct nl_addr *addr4(uint32_t ip, int plen)
{
	uint32_t be = htonl(ip);
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (a)
		nl_addr_set_prefixlen(a, plen);
	return a;
}

int nl_link_up(struct nl_sock *sk, const char *name, int *ifindex, char mac[18])
{
	struct rtnl_link *link = NULL, *chg = rtnl_link_alloc();
	int err = chg ? rtnl_link_get_kernel(sk, 0, name, &link) : -NLE_NOMEM;

	if (!err) {
		rtnl_link_set_flags(chg, IFF_UP);
		err = rtnl_link_change(sk, link, chg, 0);
	}
	if (!err && ifindex)
		*ifindex = rtnl_link_get_ifindex(link);
	if (!err && mac)
		nl_addr2str(rtnl_link_get_addr(link), mac, 18);
	rtnl_link_put(chg);
	rtnl_link_put(link);
	return err;
}

int nl_addr4_add(struct nl_sock *sk, int ifindex, uint32_t ip, int plen)
{
	struct rtnl_addr *a = rtnl_addr_alloc();
	struct nl_addr *local = addr4(ip, plen);
	int err = -NLE_NOMEM;

	if (a && local) {
		rtnl_addr_set_ifindex(a, ifindex);
		rtnl_addr_set_local(a, local);
		err = rtnl_addr_add(sk, a, NLM_F_REPLACE);
		if (err == -NLE_EXIST)
			err = 0; /* a repeated ADD */
	}
	nl_addr_put(local);
	rtnl_addr_put(a);
	return err;
}

int nl_route4_add(struct nl_sock *sk, int ifindex, uint32_t dst, int plen, uint32_t gw)
{
	struct rtnl_route *r = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *d = addr4(dst, plen), *g = gw ? addr4(gw, 32) : NULL;
	int err = -NLE_NOMEM;

	if (r && nh && d && (g || !gw)) {
		rtnl_route_set_family(r, AF_INET);
		rtnl_route_set_dst(r, d);
		rtnl_route_set_table(r, RT_TABLE_MAIN);
		rtnl_route_set_protocol(r, RTPROT_BOOT);
		rtnl_route_set_scope(r, gw ? RT_SCOPE_UNIVERSE : RT_SCOPE_LINK);
		rtnl_route_nh_set_ifindex(nh, ifindex);
		if (g)
			rtnl_route_nh_set_gateway(nh, g);
		rtnl_route_add_nexthop(r, nh); /* r owns nh from here */
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

int nl_neigh4_add_permanent(struct nl_sock *sk, int ifindex, uint32_t ip, const char *mac)
{
	struct rtnl_neigh *n = rtnl_neigh_alloc();
	struct nl_addr *dst = addr4(ip, 32), *ll = NULL;
	int err = n && dst ? nl_addr_parse(mac, AF_LLC, &ll) : -NLE_NOMEM;

	if (!err) {
		rtnl_neigh_set_family(n, AF_INET);
		rtnl_neigh_set_ifindex(n, ifindex);
		rtnl_neigh_set_dst(n, dst);
		rtnl_neigh_set_lladdr(n, ll);
		rtnl_neigh_set_state(n, NUD_PERMANENT);
		err = rtnl_neigh_add(sk, n, NLM_F_CREATE | NLM_F_REPLACE);
	}
	nl_addr_put(ll);
	nl_addr_put(dst);
	rtnl_neigh_put(n);
	return err;
}

static bool addr4_equals(struct nl_addr *a, uint32_t ip, int plen)
{
	uint32_t be;

	if (!a || nl_addr_get_family(a) != AF_INET || (int)nl_addr_get_prefixlen(a) != plen)
		return false;
	if (plen == 0)
		return true; /* the default route may come without an address */
	if (nl_addr_get_len(a) != sizeof(be))
		return false;
	memcpy(&be, nl_addr_get_binary_addr(a), sizeof(be));
	return ntohl(be) == ip;
}

bool nl_addr4_present(struct nl_sock *sk, int ifindex, uint32_t ip)
{
	struct nl_cache *cache = NULL;
	bool found = false;

	if (rtnl_addr_alloc_cache(sk, &cache))
		return false;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !found;
	     o = nl_cache_get_next(o)) {
		struct rtnl_addr *a = (struct rtnl_addr *)o;

		found = rtnl_addr_get_ifindex(a) == ifindex &&
			addr4_equals(rtnl_addr_get_local(a), ip, 32);
	}
	nl_cache_free(cache);
	return found;
}

bool nl_route4_present(struct nl_sock *sk, int ifindex, uint32_t dst, int plen)
{
	struct nl_cache *cache = NULL;
	bool found = false;

	if (rtnl_route_alloc_cache(sk, AF_INET, 0, &cache))
		return false;
	for (struct nl_object *o = nl_cache_get_first(cache); o && !found;
	     o = nl_cache_get_next(o)) {
		struct rtnl_route *r = (struct rtnl_route *)o;
		struct rtnl_nexthop *nh = rtnl_route_nexthop_n(r, 0);

		found = rtnl_route_get_table(r) == RT_TABLE_MAIN && nh &&
			rtnl_route_nh_get_ifindex(nh) == ifindex &&
			addr4_equals(rtnl_route_get_dst(r), dst, plen);
	}
	nl_cache_free(cache);
	return found;
}

int tx_csum_off(const char *ifname)
{
	struct ethtool_value ev = {.cmd = ETHTOOL_STXCSUM, .data = 0};
	struct ifreq ifr = {0};
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), rc = 0;

	if (fd < 0)
		return -errno;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	if (ioctl(fd, SIOCETHTOOL, &ifr))
		rc = -errno;
	close(fd);
	return rc;
}
