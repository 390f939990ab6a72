/* bpflet-cni's kernel side: network namespaces, libnl helpers, the veth pair and the
 * configuration of each of its ends. Functions return 0 or a negative errno / libnl
 * code and, where they take one, fill a cni_error naming the step that failed. */
#ifndef BPFLET_CNI_NET_H
#define BPFLET_CNI_NET_H

#include "agent/cni/cni.h"

#include <stdint.h>

struct nl_sock;

/* netns.c: runs fn(arg) inside the network namespace at path, then returns to ours.
 * Returns 0 with fn's result in *fn_rc, or -errno when the namespace cannot be entered. */
int netns_run(const char *path, int (*fn)(void *arg), void *arg, int *fn_rc);

/* nl.c: small libnl-route wrappers (IPv4, main table); they return libnl codes */
struct nl_sock *nl_route_open(void);
int nl_link_up(struct nl_sock *sk, const char *name, int *ifindex, char mac[18]);
int nl_addr4_add(struct nl_sock *sk, int ifindex, uint32_t ip, int plen);
/* gw 0: a link-scope route; otherwise via gw */
int nl_route4_add(struct nl_sock *sk, int ifindex, uint32_t dst, int plen, uint32_t gw);
int nl_neigh4_add_permanent(struct nl_sock *sk, int ifindex, uint32_t ip, const char *mac);
bool nl_addr4_present(struct nl_sock *sk, int ifindex, uint32_t ip);
bool nl_route4_present(struct nl_sock *sk, int ifindex, uint32_t dst, int plen);
/* ethtool: tx checksum offload off (eBPF redirects between veths break TCP otherwise) */
int tx_csum_off(const char *ifname);

/* veth.c */
int veth_create(const char *host_ifname, const char *pod_ifname, const char *netns, unsigned mtu,
		struct cni_error *e);
/* Deletes the host end (the peer goes with it); absent is fine. */
int veth_delete(const char *host_ifname);

/* host.c: the node's end, in the current namespace; fills li's host ifindex and mac */
int host_side_setup(const char *host_ifname, uint32_t pod_ip, struct cni_link_info *li,
		    struct cni_error *e);
int host_side_check(const char *host_ifname, uint32_t pod_ip, int *ifindex, struct cni_error *e);

/* pod.c: the pod's end, inside its namespace */
int pod_side_setup(const char *netns, const char *ifname, uint32_t pod_ip, const char *gw_mac,
		   char pod_mac[18], struct cni_error *e);
int pod_side_check(const char *netns, const char *ifname, uint32_t pod_ip, struct cni_error *e);

#endif
