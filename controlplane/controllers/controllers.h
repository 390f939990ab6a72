/* The controllers that run inside bpflet-controlplane, on the server's event loop: they
 * watch the store and write through the REST handlers (client.h). */
#ifndef BPFLET_CTL_CONTROLLERS_H
#define BPFLET_CTL_CONTROLLERS_H

#include "agent/common/netaddr.h"

#include <event2/event.h>
#include <stdbool.h>

struct bl_apiserver;

struct bl_controllers_config {
	struct bl_cidr4 cluster_cidr; /* nodes' pod CIDRs come from here */
	int node_cidr_mask;	      /* prefix length of each node's pod CIDR */
	int node_grace;		      /* seconds without a Lease renewal before NotReady */
};

struct bl_controllers;

int bl_controllers_start(struct event_base *base, struct bl_apiserver *srv,
			 const struct bl_controllers_config *cfg, struct bl_controllers **out);
void bl_controllers_stop(struct bl_controllers *c);

#endif
