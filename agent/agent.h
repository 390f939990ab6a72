/* The node agent's state, shared by its parts (main loop, service source, metrics). */
#ifndef BPFLET_AGENT_H
#define BPFLET_AGENT_H

#include "agent/cni_server.h"
#include "agent/dataplane/ct_gc.h"
#include "agent/dataplane/loader.h"
#include "agent/endpoints.h"
#include "agent/policy_events.h"
#include "controlplane/compile/netpol.h"
#include "controlplane/compile/netpol_incr.h"

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

struct event_base;
struct event;
struct bl_service_source;
struct bl_hc_server;

struct bl_agent_opts {
	const char *instance;
	const char *netns;
	const char *manifests;	  /* NULL: the API alone */
	const char *kubeconfig;	  /* --kubeconfig */
	const char *kube_context; /* --context */
	bool use_api;		  /* kubeconfig, or in-cluster */
	const char *node_ip;
	const char *node_name;
	const char *pod_cidr;
	const char *healthz_bind;
	const char *metrics_bind;
	const char *hairpin_ip;
	const char *uplink;		     /* --uplink: XDP north-south on this interface */
	bool xdp_skb;			     /* --xdp-mode skb */
	uint16_t nodeport_min, nodeport_max; /* --nodeport-range */
	bool lb_dsr;			     /* --lb-mode dsr */
	struct bpflet_addr node_addr;	     /* --node-ip parsed (zero without it) */
	int resync_seconds;
	bool maglev;	   /* --lb-algorithm maglev */
	int maglev_tables; /* --maglev-tables: blocks of the Maglev map */
	int ct_gc_seconds;
	struct bl_ct_timeouts ct_timeouts;
	bool policy_audit;	  /* --policy-audit */
	bool policy_allow_events; /* --policy-allow-events */
	bool cleanup;
	bool verbose;
};

#define BL_SYNC_BUCKETS 8

/* A latency histogram in seconds, over bl_sync_bucket_bounds. */
struct bl_histo {
	unsigned long buckets[BL_SYNC_BUCKETS]; /* not cumulative; above the last: count */
	unsigned long count;
	double sum;
};
void bl_histo_observe(struct bl_histo *h, double secs);

struct bl_agent_stats {
	double last_sync;   /* unix time of the last completed sync */
	double last_change; /* unix time the last change was seen */
	unsigned long syncs, sync_errors, manifest_errors;
	unsigned long service_changes, endpoint_changes;
	unsigned long map_updates, map_removes;
	unsigned long maglev_writes, maglev_fallbacks;
	struct bl_histo sync_duration;
	/* from an EndpointSlice's last-change-trigger-time to its map write (kube-proxy's
	 * network programming latency), and from a watch event's arrival to its write */
	struct bl_histo programming, event_to_map;
	bool pending; /* a change is waiting to be applied */
};

struct bl_agent {
	struct bl_agent_opts o;
	struct event_base *base;
	struct bl_dataplane dp;
	struct bl_svc_sync *sync;
	struct bl_endpoints eps;
	struct bl_cni_server cni;
	struct bl_service_source *source;
	struct bl_hc_server *hc; /* healthCheckNodePort listeners */
	struct bl_agent_stats st;
	struct event *resync_ev, *debounce_ev, *watch_ev, *ct_gc_ev, *ct_purge_ev;
	struct bl_ct_gc_stats ct_gc; /* totals since start */
	unsigned long ct_gc_runs;
	int inotify_fd;
	struct bl_netpol_incr *pol_incr; /* policy_source.c: compiled by change */
	struct bl_pol_seen *pol_seen;	 /* the versions handed to it */
	bool pol_rewrite;		 /* a write failed: maps rewritten whole next */
	bool pol_dirty;			 /* rewrite the policy maps at the next sync */
	struct bl_pol_events *pol_ev;	 /* policy_events.c */
	struct bl_kube_source *kube;	 /* NULL without the API */
	struct bl_node_duties *node;	 /* Node + Lease, with the API */
	struct bl_pol_event_stats pol_events;
	bool dp_ready;		   /* the dataplane is loaded and adopted: syncs may run */
	struct event *mon_reap_ev; /* monitor_reaper.c */
};

extern const double bl_sync_bucket_bounds[BL_SYNC_BUCKETS];

double bl_now(void);

/* monitor_reaper.c: clears a dead bpfletctl monitor's flag every few seconds. */
int bl_mon_reaper_start(struct bl_agent *a);

/* service_source.c: manifests → compiler → syncer. */
int bl_service_source_init(struct bl_agent *a);
void bl_service_source_free(struct bl_agent *a);
/* Reload what changed and apply it; returns 0 or -errno (last good state kept). */
int bl_service_resync(struct bl_agent *a);
/* Before the maps are there: compile what changed, for the next resync to apply. */
int bl_service_precompile(struct bl_agent *a);

/* policy_source.c: Pods, Namespaces, NetworkPolicies among objs → policy maps. */
int bl_policy_resync(struct bl_agent *a, json_t **objs, size_t n);
/* The name of policy rule id ("ns/policy ingress[0]"), NULL when unused. */
const char *bl_policy_rule_name(const struct bl_agent *a, uint32_t id);

/* ct_gc_timer.c: periodic conntrack GC; a purge-only pass after Service changes. */
int bl_ct_gc_start(struct bl_agent *a);
void bl_ct_gc_pass(struct bl_agent *a, bool expire);
/* A purge-only pass shortly after (bursts of syncs share one), off the sync's path. */
void bl_ct_gc_purge_soon(struct bl_agent *a);

/* metrics.c */
struct evbuffer;
bool bl_agent_healthz(void *agent, struct evbuffer *body);
/* kube-proxy's rule without the body: also what healthCheckNodePorts report. */
bool bl_agent_healthy(void *agent);
void bl_agent_metrics(void *agent, struct evbuffer *body);

#endif
