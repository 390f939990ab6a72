/*
 * The CNI plugin ↔ agent registration protocol. One JSON object per line on the
 * agent's unix socket (bl_sock_path), one JSON reply line:
 *   request  {"op":"add"|"del"|"check", "container_id", "ifname", "ifindex", "ip",
 *             "pod_namespace", "pod_name", "netns"}
 *   reply    {"ok":true} or {"ok":false,"error":"..."}
 * A path-based socket under /run works from any network namespace (runtimes call
 * the plugin under `ip netns exec`, where /sys/fs/bpf is not the host's).
 */
#ifndef BPFLET_ENDPOINT_MSG_H
#define BPFLET_ENDPOINT_MSG_H

#include <stddef.h>
#include <stdint.h>

enum bl_ep_op { BL_EP_ADD, BL_EP_DEL, BL_EP_CHECK };

struct bl_endpoint_msg {
	enum bl_ep_op op;
	char container_id[128];
	char ifname[16]; /* host-side veth name (IFNAMSIZ) */
	int ifindex;	 /* in the node's network namespace */
	char ip[16];	 /* pod IPv4 address, dotted quad */
	char pod_namespace[64];
	char pod_name[254];
	char netns[256];
};

/* Encode as one line with trailing '\n'. Returns a malloc'd string or NULL. */
char *bl_endpoint_msg_encode(const struct bl_endpoint_msg *m);
/* Decode one line. Returns 0, or -EINVAL with a reason in err. */
int bl_endpoint_msg_decode(const char *line, struct bl_endpoint_msg *m, char *err, size_t errlen);

/* Send one request to the agent of `instance` and wait (timeout_ms) for its reply.
 * Returns 0 when the agent said ok, otherwise -errno with a reason in err. */
int bl_endpoint_call(const char *instance, const struct bl_endpoint_msg *m, int timeout_ms,
		     char *err, size_t errlen);

#endif
