/* The Node object and its Lease, kept up as the kubelet keeps them (node_duties.c). */
#ifndef BPFLET_NODE_DUTIES_H
#define BPFLET_NODE_DUTIES_H

struct bl_agent;
struct bl_kube_client;
struct bl_node_duties;

/* Registers the Node (name, InternalIP, hostname/os labels, capacity, Ready) and
 * starts the Lease and status timers. NULL on allocation failure. */
struct bl_node_duties *bl_node_duties_start(struct bl_agent *a, struct bl_kube_client *c);
void bl_node_duties_free(struct bl_node_duties *d);
void bl_node_duties_stats(const struct bl_node_duties *d, unsigned long *renewals,
			  unsigned long *status_updates, unsigned long *failures);

#endif
