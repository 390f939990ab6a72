/* bpflet-controlplane's Kubernetes API server: the public face used by main.c. */
#ifndef BPFLET_CP_APISERVER_H
#define BPFLET_CP_APISERVER_H

#include "agent/common/netaddr.h"
#include "controlplane/store/store.h"

#include <event2/event.h>

struct bl_apiserver_config {
	const char *data_dir;
	char listen_host[64];
	int listen_port;
	struct bl_cidr4 service_cidr;
	int nodeport_lo, nodeport_hi;
	int bookmark_interval; /* seconds between watch BOOKMARK events */
};

struct bl_apiserver;

/* Makes the PKI and admin.kubeconfig, loads DIR/tokens.csv, seeds the default
 * namespaces and starts listening. The store stays the caller's. */
int bl_apiserver_start(struct event_base *base, const struct bl_apiserver_config *cfg,
		       struct bl_store *store, struct bl_apiserver **out);
/* Ends every watch and connection. */
void bl_apiserver_stop(struct bl_apiserver *srv);

#endif
