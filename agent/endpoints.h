/*
 * Local pod endpoints registered by the CNI plugin. Each one is a host-side veth
 * that carries the pod program. The registry is kept on disk under
 * /run/bpflet/<instance>/endpoints/ so a restarted agent re-attaches (re-adopts)
 * exactly the veths it had.
 */
#ifndef BPFLET_ENDPOINTS_H
#define BPFLET_ENDPOINTS_H

#include "agent/common/endpoint_msg.h"
#include "agent/dataplane/loader.h"

#include <stddef.h>

struct bl_endpoint;

struct bl_endpoints {
	char state_dir[160];
	struct bl_dataplane *dp;
	struct bl_endpoint *by_id;
};

/* Loads the registry and re-attaches every endpoint whose veth still exists. */
int bl_endpoints_init(struct bl_endpoints *eps, const char *instance, struct bl_dataplane *dp);
void bl_endpoints_free(struct bl_endpoints *eps);

/* Handles one CNI request. Returns 0 or -errno with a reason in err. */
int bl_endpoints_handle(struct bl_endpoints *eps, const struct bl_endpoint_msg *m, char *err,
			size_t errlen);

/* Detach every endpoint (for --cleanup). */
void bl_endpoints_detach_all(struct bl_endpoints *eps);

size_t bl_endpoints_count(const struct bl_endpoints *eps);

/* Calls fn for every registered endpoint. */
void bl_endpoints_foreach(const struct bl_endpoints *eps,
			  void (*fn)(const struct bl_endpoint_msg *m, void *ctx), void *ctx);

#endif
