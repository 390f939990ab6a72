/* The pod's veth pair. The peer is created directly inside the pod's namespace under
 * its final name (IFLA_NET_NS_FD on the peer): one netlink request instead of
 * create/move/rename, and no moment where a stray "eth0" sits in the node. */
#include "agent/cni/net.h"

#include <errno.h>
#include <fcntl.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/link/veth.h>
#include <string.h>
#include <unistd.h>

int veth_create(const char *host_ifname, const char *pod_ifname, const char *netns, unsigned mtu,
		struct cni_error *e)
{
	struct nl_sock *sk = nl_route_open();
	struct rtnl_link *veth = NULL, *peer;
	int nsfd = open(netns, O_RDONLY | O_CLOEXEC), err;

	if (nsfd < 0) {
		err = -errno;
		cni_set_error(e, CNI_ERR_INVALID_ENV, strerror(errno),
			      "CNI_NETNS %s cannot be opened", netns);
		goto out;
	}
	if (!sk || !(veth = rtnl_link_veth_alloc())) {
		err = -ENOMEM;
		cni_set_error(e, CNI_ERR_OTHER, NULL, "cannot open a netlink socket");
		goto out;
	}
	/* a repeated ADD, or one after a half-done run, starts from a clean slate */
	veth_delete(host_ifname);
	peer = rtnl_link_veth_get_peer(veth);
	rtnl_link_set_name(veth, host_ifname);
	rtnl_link_set_mtu(veth, mtu);
	rtnl_link_set_name(peer, pod_ifname);
	rtnl_link_set_mtu(peer, mtu);
	rtnl_link_set_ns_fd(peer, nsfd);
	rtnl_link_put(peer);
	err = rtnl_link_add(sk, veth, NLM_F_CREATE | NLM_F_EXCL);
	if (err == -NLE_EXIST) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err),
			      "creating veth %s: %s already exists in %s", host_ifname, pod_ifname,
			      netns);
		err = -EEXIST;
	} else if (err) {
		cni_set_error(e, CNI_ERR_OTHER, nl_geterror(err),
			      "creating veth %s <-> %s in %s failed", host_ifname, pod_ifname,
			      netns);
		err = -EIO;
	}
out:
	rtnl_link_put(veth);
	if (nsfd >= 0)
		close(nsfd);
	nl_socket_free(sk);
	return err;
}

int veth_delete(const char *host_ifname)
{
	struct nl_sock *sk = nl_route_open();
	struct rtnl_link *link = NULL;
	int err;

	if (!sk)
		return -ENOMEM;
	err = rtnl_link_get_kernel(sk, 0, host_ifname, &link);
	if (!err)
		err = rtnl_link_delete(sk, link);
	else if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND)
		err = 0; /* already gone */
	rtnl_link_put(link);
	nl_socket_free(sk);
	return err ? -EIO : 0;
}
