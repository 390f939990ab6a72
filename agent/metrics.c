/* kube-proxy's observable contract: /healthz rules and /metrics names where they apply,
 * plus bpflet's own (map fill levels, per-reason packet counters). */
#include "agent/agent.h"
#include "agent/common/maps_util.h"
#include "agent/kube/kube_source.h"
#include "agent/kube/node_duties.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

const double bl_sync_bucket_bounds[BL_SYNC_BUCKETS] = {0.001, 0.004, 0.016, 0.064,
						       0.256, 1.024, 4.096, 16.384};

double bl_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void fmt_time(double t, char *buf, size_t len)
{
	time_t s = (time_t)t;
	struct tm tm;

	gmtime_r(&s, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* kube-proxy: healthy while no change has waited longer than the health timeout. */
bool bl_agent_healthy(void *agent)
{
	struct bl_agent *a = agent;
	double timeout = 2.0 * a->o.resync_seconds;

	return a->st.syncs > 0 && !(a->st.pending && bl_now() - a->st.last_change > timeout);
}

bool bl_agent_healthz(void *agent, struct evbuffer *body)
{
	struct bl_agent *a = agent;
	double now = bl_now();
	char last[40], cur[40];
	bool ok = bl_agent_healthy(a);

	fmt_time(a->st.last_sync, last, sizeof(last));
	fmt_time(now, cur, sizeof(cur));
	evbuffer_add_printf(body, "{\"lastUpdated\": \"%s\",\"currentTime\": \"%s\"}\n", last, cur);
	return ok;
}

static void packet_counters(struct bl_agent *a, struct evbuffer *b)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *v;

	if (ncpu <= 0)
		return;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return;
	evbuffer_add_printf(b, "# HELP bpflet_packets_total Packets seen by the pod program, "
			       "by outcome.\n# TYPE bpflet_packets_total counter\n");
	for (__u32 i = 0; i < BPFLET_CNT_MAX; i++) {
		unsigned long long p = 0;

		if (bpf_map_lookup_elem(a->dp.counters_fd, &i, v))
			continue;
		for (int c = 0; c < ncpu; c++)
			p += v[c].packets;
		evbuffer_add_printf(b, "bpflet_packets_total{reason=\"%s\"} %llu\n",
				    bl_counter_name(i), p);
	}
	free(v);
}

static void map_fill(struct bl_agent *a, struct evbuffer *b)
{
	static const struct {
		const char *name;
		size_t off;
	} maps[] = {
		{BPFLET_MAP_FRONTENDS, offsetof(struct bl_dataplane, fds[BL_DP_FE])},
		{BPFLET_MAP_SLOTS, offsetof(struct bl_dataplane, fds[BL_DP_SLOT])},
		{BPFLET_MAP_BACKENDS, offsetof(struct bl_dataplane, fds[BL_DP_BE])},
		{BPFLET_MAP_CT_TCP, offsetof(struct bl_dataplane, ct_tcp_fd)},
		{BPFLET_MAP_CT_ANY, offsetof(struct bl_dataplane, ct_any_fd)},
		{BPFLET_MAP_AFFINITY, offsetof(struct bl_dataplane, aff_fd)},
		{BPFLET_MAP_FRAG, offsetof(struct bl_dataplane, frag_fd)},
		{BPFLET_MAP_IPCACHE, offsetof(struct bl_dataplane, pol.ipcache)},
		{BPFLET_MAP_IPCACHE_HOST, offsetof(struct bl_dataplane, pol.ipcache_host)},
		{BPFLET_MAP_POLICY, offsetof(struct bl_dataplane, pol.rules)},
		{BPFLET_MAP_POL_EP, offsetof(struct bl_dataplane, pol.endpoints)},
		{BPFLET_MAP_POL_CT, offsetof(struct bl_dataplane, polct_fd)},
	};

	evbuffer_add_printf(b, "# HELP bpflet_map_entries Entries in a pinned BPF map.\n"
			       "# TYPE bpflet_map_entries gauge\n");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int fd = *(int *)((char *)&a->dp + maps[i].off);

		evbuffer_add_printf(b, "bpflet_map_entries{map=\"%s\"} %ld\n", maps[i].name,
				    bl_map_count(fd));
	}
	evbuffer_add_printf(b, "# HELP bpflet_map_capacity Maximum entries of a pinned BPF map.\n"
			       "# TYPE bpflet_map_capacity gauge\n");
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		int fd = *(int *)((char *)&a->dp + maps[i].off);
		struct bpf_map_info info = {0};
		__u32 len = sizeof(info);

		if (bpf_map_get_info_by_fd(fd, &info, &len) == 0)
			evbuffer_add_printf(b, "bpflet_map_capacity{map=\"%s\"} %u\n", maps[i].name,
					    info.max_entries);
	}
}

static void ct_gc_metrics(struct bl_agent *a, struct evbuffer *b)
{
	evbuffer_add_printf(b,
			    "# HELP bpflet_conntrack_gc_runs_total Full conntrack GC passes.\n"
			    "# TYPE bpflet_conntrack_gc_runs_total counter\n"
			    "bpflet_conntrack_gc_runs_total %lu\n"
			    "# HELP bpflet_conntrack_gc_deleted_total Conntrack entries deleted "
			    "by GC.\n"
			    "# TYPE bpflet_conntrack_gc_deleted_total counter\n"
			    "bpflet_conntrack_gc_deleted_total{reason=\"expired\"} %lu\n"
			    "bpflet_conntrack_gc_deleted_total{reason=\"backend_gone\"} %lu\n",
			    a->ct_gc_runs, a->ct_gc.expired, a->ct_gc.backend_gone);
	evbuffer_add_printf(b,
			    "# HELP bpflet_maglev_entries_written_total Maglev entries written "
			    "(only changed ones).\n"
			    "# TYPE bpflet_maglev_entries_written_total counter\n"
			    "bpflet_maglev_entries_written_total %lu\n"
			    "# HELP bpflet_maglev_fallbacks_total Frontends that wanted Maglev and "
			    "got random selection (table space full), per sync.\n"
			    "# TYPE bpflet_maglev_fallbacks_total counter\n"
			    "bpflet_maglev_fallbacks_total %lu\n",
			    a->st.maglev_writes, a->st.maglev_fallbacks);
}

void bl_histo_observe(struct bl_histo *h, double secs)
{
	for (int i = 0; i < BL_SYNC_BUCKETS; i++)
		if (secs <= bl_sync_bucket_bounds[i]) {
			h->buckets[i]++;
			break;
		}
	h->count++;
	h->sum += secs;
}

static void histo_print(struct evbuffer *b, const char *name, const char *help,
			const struct bl_histo *h)
{
	unsigned long cum = 0;

	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
	for (int i = 0; i < BL_SYNC_BUCKETS; i++) {
		cum += h->buckets[i];
		evbuffer_add_printf(b, "%s_bucket{le=\"%g\"} %lu\n", name, bl_sync_bucket_bounds[i],
				    cum);
	}
	evbuffer_add_printf(b, "%s_bucket{le=\"+Inf\"} %lu\n%s_sum %g\n%s_count %lu\n", name,
			    h->count, name, h->sum, name, h->count);
}

void bl_agent_metrics(void *agent, struct evbuffer *b)
{
	struct bl_agent *a = agent;

	histo_print(b, "kubeproxy_sync_proxy_rules_duration_seconds",
		    "SyncProxyRules latency in seconds", &a->st.sync_duration);
	histo_print(b, "kubeproxy_network_programming_duration_seconds",
		    "In Cluster Network Programming Latency in seconds (from an "
		    "EndpointSlice's last-change-trigger-time to its map write)",
		    &a->st.programming);
	histo_print(b, "bpflet_kube_event_to_map_seconds",
		    "From a watch event's arrival to the map write it caused", &a->st.event_to_map);
	evbuffer_add_printf(b,
			    "# HELP kubeproxy_sync_proxy_rules_last_timestamp_seconds The last "
			    "time proxy rules were successfully synced\n"
			    "# TYPE kubeproxy_sync_proxy_rules_last_timestamp_seconds gauge\n"
			    "kubeproxy_sync_proxy_rules_last_timestamp_seconds %.3f\n",
			    a->st.last_sync);
	evbuffer_add_printf(b,
			    "# TYPE kubeproxy_sync_proxy_rules_service_changes_total counter\n"
			    "kubeproxy_sync_proxy_rules_service_changes_total %lu\n"
			    "# TYPE kubeproxy_sync_proxy_rules_endpoint_changes_total counter\n"
			    "kubeproxy_sync_proxy_rules_endpoint_changes_total %lu\n",
			    a->st.service_changes, a->st.endpoint_changes);
	evbuffer_add_printf(b,
			    "# HELP bpflet_sync_errors_total Syncs that left some frontend at its "
			    "previous state.\n# TYPE bpflet_sync_errors_total counter\n"
			    "bpflet_sync_errors_total %lu\n"
			    "# HELP bpflet_manifest_errors_total Manifest loads that kept a "
			    "file's last good state.\n# TYPE bpflet_manifest_errors_total counter\n"
			    "bpflet_manifest_errors_total %lu\n"
			    "# TYPE bpflet_map_writes_total counter\n"
			    "bpflet_map_writes_total{op=\"update\"} %lu\n"
			    "bpflet_map_writes_total{op=\"delete\"} %lu\n"
			    "# TYPE bpflet_services gauge\nbpflet_services %zu\n"
			    "# TYPE bpflet_backends gauge\nbpflet_backends %zu\n"
			    "# TYPE bpflet_local_endpoints gauge\nbpflet_local_endpoints %zu\n",
			    a->st.sync_errors, a->st.manifest_errors, a->st.map_updates,
			    a->st.map_removes, bl_svc_sync_frontends(a->sync),
			    bl_svc_sync_backends(a->sync), bl_endpoints_count(&a->eps));
	map_fill(a, b);
	ct_gc_metrics(a, b);
	packet_counters(a, b);
	if (a->kube)
		bl_kube_source_metrics(a->kube, b);
	if (a->node) {
		unsigned long renewals, updates, failures;

		bl_node_duties_stats(a->node, &renewals, &updates, &failures);
		evbuffer_add_printf(
			b,
			"# HELP bpflet_node_lease_renewals_total Lease renewals the API "
			"server accepted.\n# TYPE bpflet_node_lease_renewals_total counter\n"
			"bpflet_node_lease_renewals_total %lu\n"
			"# HELP bpflet_node_status_updates_total Node status updates "
			"accepted.\n# TYPE bpflet_node_status_updates_total counter\n"
			"bpflet_node_status_updates_total %lu\n"
			"# HELP bpflet_node_api_failures_total Node or Lease requests that "
			"failed.\n# TYPE bpflet_node_api_failures_total counter\n"
			"bpflet_node_api_failures_total %lu\n",
			renewals, updates, failures);
	}
	evbuffer_add_printf(
		b,
		"# HELP bpflet_policy_verdict_events_total NetworkPolicy decisions on "
		"new connections reported by the dataplane.\n"
		"# TYPE bpflet_policy_verdict_events_total counter\n"
		"bpflet_policy_verdict_events_total{verdict=\"deny\"} %lu\n"
		"bpflet_policy_verdict_events_total{verdict=\"audit\"} %lu\n"
		"bpflet_policy_verdict_events_total{verdict=\"allow\"} %lu\n"
		"# HELP bpflet_policy_events_not_logged_total Verdict events over the "
		"log rate limit.\n# TYPE bpflet_policy_events_not_logged_total counter\n"
		"bpflet_policy_events_not_logged_total %lu\n",
		a->pol_events.verdicts[BPFLET_POL_DENY], a->pol_events.verdicts[BPFLET_POL_AUDIT],
		a->pol_events.verdicts[BPFLET_POL_ALLOW], a->pol_events.not_logged);
}
