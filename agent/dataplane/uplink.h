/*
 * The node's uplink: xdp_uplink attached through libxdp (its dispatcher lets other XDP
 * programs run beside ours where the kernel allows freplace; elsewhere libxdp attaches
 * ours alone). The attachment outlives the agent; a restart swaps the program in
 * place, so north-south flows keep going.
 */
#ifndef BPFLET_UPLINK_H
#define BPFLET_UPLINK_H

#include "agent/dataplane/loader.h"

#include <stdbool.h>
#include <stdint.h>

#define BL_UPLINK_PROG_NAME "xdp_uplink"
/* MTU minus this is the largest MSS through a DSR tunnel: IPv4 + TCP + the outer IPv4 */
#define BL_DSR_HEADROOM 60

/* The interface's MTU, or -errno. */
int bl_uplink_mtu(const char *ifname);

/* Loads xdp_uplink on dp's pinned maps and attaches it to ifname (native mode, or
 * generic when skb_mode). node_ip (network order) is the SNAT source; dsr selects
 * direct server return (IPIP to the backend's node) for remote backends. */
int bl_uplink_attach(struct bl_dataplane *dp, const char *ifname, uint32_t node_ip, bool skb_mode,
		     bool dsr);
void bl_uplink_close(struct bl_dataplane *dp); /* leaves the attachment in place */

/* Detaches xdp_uplink from every interface of the current network namespace. */
int bl_uplink_detach_all(void);

#endif
