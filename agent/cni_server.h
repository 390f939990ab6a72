/* The agent's unix socket where bpflet-cni registers pod endpoints (protocol in
 * agent/common/endpoint_msg.h). */
#ifndef BPFLET_CNI_SERVER_H
#define BPFLET_CNI_SERVER_H

#include "agent/endpoints.h"

struct event_base;
struct evconnlistener;

struct bl_cni_server {
	struct evconnlistener *listener;
	struct bl_endpoints *eps;
	char path[128];
	/* called after an endpoint was added or removed (policy needs pod addresses) */
	void (*on_change)(void *ctx);
	void *ctx;
};

int bl_cni_server_start(struct bl_cni_server *srv, struct event_base *base, const char *instance,
			struct bl_endpoints *eps);
void bl_cni_server_stop(struct bl_cni_server *srv);

#endif
