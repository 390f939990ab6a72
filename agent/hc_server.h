/* kube-proxy's service health server: one HTTP listener per healthCheckNodePort this
 * node serves (LoadBalancer Services with externalTrafficPolicy Local), answering 200
 * with the local endpoint count while there is one, 503 otherwise, so external load
 * balancers send traffic only to nodes that can serve it without a second hop. */
#ifndef BPFLET_HC_SERVER_H
#define BPFLET_HC_SERVER_H

#include "controlplane/compile/svc_records.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct bl_hc_server;

/* healthy(arg): the proxy's own health (kube-proxy answers 503 when it is stale). */
struct bl_hc_server *bl_hc_server_new(struct event_base *base, bool (*healthy)(void *arg),
				      void *arg);
/* Makes the listeners match hc (sorted by port, ports unique): opens new ports,
 * closes dropped ones, updates counts in place. A port that cannot be bound is
 * logged and retried at the next apply. Returns the number of such ports. */
size_t bl_hc_server_apply(struct bl_hc_server *s, const struct bl_svc_health_check *hc, size_t n);
/* Listening ports (for tests and metrics). */
size_t bl_hc_server_count(const struct bl_hc_server *s);
void bl_hc_server_free(struct bl_hc_server *s);

#endif
