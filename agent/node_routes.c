/* Node objects → kernel routes to their pod CIDRs via their addresses. */
#include "agent/node_routes.h"

#include "agent/common/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/route.h>
#include <string.h>

static struct nl_addr *addr4(uint32_t be, int plen)
{
	struct nl_addr *a = nl_addr_build(AF_INET, &be, sizeof(be));

	if (a)
		nl_addr_set_prefixlen(a, plen);
	return a;
}

static bool wanted(struct rtnl_route *rt, const struct bl_node_route *r, size_t n)
{
	struct nl_addr *dst = rtnl_route_get_dst(rt);
	struct rtnl_nexthop *nh;
	struct nl_addr *gw;
	uint32_t net, via;

	if (!dst || nl_addr_get_len(dst) != 4 || rtnl_route_get_nnexthops(rt) != 1)
		return false;
	nh = rtnl_route_nexthop_n(rt, 0);
	gw = nh ? rtnl_route_nh_get_gateway(nh) : NULL;
	if (!gw || nl_addr_get_len(gw) != 4)
		return false;
	memcpy(&net, nl_addr_get_binary_addr(dst), 4);
	memcpy(&via, nl_addr_get_binary_addr(gw), 4);
	for (size_t i = 0; i < n; i++)
		if (htonl(r[i].pod_cidr.net) == net &&
		    r[i].pod_cidr.plen == nl_addr_get_prefixlen(dst) && r[i].gw == via)
			return true;
	return false;
}

static int route_replace(struct nl_sock *sk, const struct bl_node_route *r)
{
	struct rtnl_route *rt = rtnl_route_alloc();
	struct rtnl_nexthop *nh = rtnl_route_nh_alloc();
	struct nl_addr *dst = addr4(htonl(r->pod_cidr.net), r->pod_cidr.plen);
	struct nl_addr *gw = addr4(r->gw, 32);
	int err = -NLE_NOMEM;

	if (rt && nh && dst && gw) {
		rtnl_route_set_family(rt, AF_INET);
		rtnl_route_set_table(rt, RT_TABLE_MAIN);
		rtnl_route_set_protocol(rt, BL_RTPROT_NODES);
		rtnl_route_set_scope(rt, RT_SCOPE_UNIVERSE);
		rtnl_route_set_type(rt, RTN_UNICAST);
		rtnl_route_set_dst(rt, dst);
		rtnl_route_nh_set_gateway(nh, gw);
		rtnl_route_add_nexthop(rt, nh);
		nh = NULL; /* owned by the route now */
		err = rtnl_route_add(sk, rt, NLM_F_REPLACE);
	}
	if (nh)
		rtnl_route_nh_free(nh);
	nl_addr_put(dst);
	nl_addr_put(gw);
	rtnl_route_put(rt);
	return err;
}

int bl_node_routes_apply(const struct bl_node_route *r, size_t n)
{
	struct nl_sock *sk = nl_socket_alloc();
	struct nl_cache *cache = NULL;
	struct nl_object *o;
	int first = 0, err;
	char a[INET_ADDRSTRLEN], g[INET_ADDRSTRLEN];

	if (!sk || nl_connect(sk, NETLINK_ROUTE)) {
		log_err("node routes: cannot open a netlink socket");
		nl_socket_free(sk);
		return -EIO;
	}
	err = rtnl_route_alloc_cache(sk, AF_INET, 0, &cache);
	if (err) {
		log_err("node routes: cannot list routes: %s", nl_geterror(err));
		first = -EIO;
		goto out;
	}
	for (o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_route *rt = (struct rtnl_route *)o;

		if (rtnl_route_get_protocol(rt) != BL_RTPROT_NODES ||
		    rtnl_route_get_table(rt) != RT_TABLE_MAIN || wanted(rt, r, n))
			continue;
		err = rtnl_route_delete(sk, rt, 0);
		if (err && err != -NLE_OBJ_NOTFOUND) {
			log_warn("node routes: cannot remove a stale route: %s", nl_geterror(err));
			if (!first)
				first = -EIO;
		}
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t net = htonl(r[i].pod_cidr.net);

		inet_ntop(AF_INET, &net, a, sizeof(a));
		inet_ntop(AF_INET, &r[i].gw, g, sizeof(g));
		err = route_replace(sk, &r[i]);
		if (err) {
			log_warn("node routes: %s/%u via %s (node %s): %s", a, r[i].pod_cidr.plen,
				 g, r[i].node, nl_geterror(err));
			if (!first)
				first = -EIO;
			continue;
		}
		log_debug("node routes: %s/%u via %s (node %s)", a, r[i].pod_cidr.plen, g,
			  r[i].node);
	}
out:
	nl_cache_free(cache);
	nl_socket_free(sk);
	return first;
}
