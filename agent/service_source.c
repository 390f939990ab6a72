/* Manifests → compiler → syncer: the agent's Service source for --manifests DIR. */
#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/dataplane/src_ranges.h"
#include "agent/hc_server.h"
#include "agent/kube/kube_source.h"
#include "agent/manifests/manifests.h"
#include "agent/node_routes.h"
#include "controlplane/compile/compile.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_service_source {
	struct bl_manifest_cache cache;
	bool dirty; /* the last apply left something undone: apply again even if unchanged */
};

int bl_service_source_init(struct bl_agent *a)
{
	a->source = calloc(1, sizeof(*a->source));
	if (!a->source)
		return -ENOMEM;
	bl_manifest_cache_init(&a->source->cache);
	a->source->dirty = true;
	return 0;
}

void bl_service_source_free(struct bl_agent *a)
{
	if (!a->source)
		return;
	bl_manifest_cache_free(&a->source->cache);
	free(a->source);
	a->source = NULL;
}

/* The syncer's view of the compiled table; backends share one flat array. */
static int to_frontends(const struct bl_svc_table *t, struct bl_dp_frontend **out,
			struct bpflet_backend **bes_out)
{
	size_t total = 0, at = 0;
	struct bl_dp_frontend *fes;
	struct bpflet_backend *bes;

	for (size_t i = 0; i < t->n; i++)
		total += t->fe[i].n_backends;
	fes = calloc(t->n ? t->n : 1, sizeof(*fes));
	bes = calloc(total ? total : 1, sizeof(*bes));
	if (!fes || !bes) {
		free(fes);
		free(bes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct bl_svc_frontend *f = &t->fe[i];

		fes[i].key = f->key;
		memcpy(fes[i].name, f->name, sizeof(fes[i].name));
		fes[i].flags = f->flags;
		fes[i].affinity_timeout = f->affinity_timeout;
		fes[i].n_backends = f->n_backends;
		fes[i].backends = bes + at;
		for (size_t j = 0; j < f->n_backends; j++)
			bl_svc_backend_to_abi(&f->backends[j], 0, &bes[at++]);
	}
	*out = fes;
	*bes_out = bes;
	return 0;
}

/* This node's spec.podCIDR, published for bpflet-cni (its config may leave podCIDR
 * out). A --pod-cidr that disagrees is reported, not overridden. */
static void publish_pod_cidr(struct bl_agent *a, json_t **objs, size_t n)
{
	static char published[32];
	char run[128], path[192], tmp[200];
	const char *cidr = NULL;
	FILE *f;

	for (size_t i = 0; i < n && !cidr; i++) {
		const json_t *md = json_object_get(objs[i], "metadata");

		if (json_is_string(json_object_get(objs[i], "kind")) &&
		    !strcmp(json_string_value(json_object_get(objs[i], "kind")), "Node") &&
		    json_is_string(json_object_get(md, "name")) &&
		    !strcmp(json_string_value(json_object_get(md, "name")), a->o.node_name))
			cidr = json_string_value(
				json_object_get(json_object_get(objs[i], "spec"), "podCIDR"));
	}
	if (!cidr || strlen(cidr) >= sizeof(published) || !strcmp(cidr, published))
		return;
	if (a->o.pod_cidr && strcmp(a->o.pod_cidr, cidr))
		log_warn("Node %s has spec.podCIDR %s but --pod-cidr says %s", a->o.node_name, cidr,
			 a->o.pod_cidr);
	bl_run_dir(run, sizeof(run), a->o.instance);
	snprintf(path, sizeof(path), "%s/%s", run, BL_POD_CIDR_FILE);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f && fprintf(f, "%s\n", cidr) < 0) {
		fclose(f);
		f = NULL;
	}
	if (!f || fclose(f) || rename(tmp, path)) {
		log_err("cannot write %s: %s", path, strerror(errno));
		return;
	}
	snprintf(published, sizeof(published), "%s", cidr);
	log_info("pod CIDR %s from Node %s published for bpflet-cni in %s", cidr, a->o.node_name,
		 path);
}

/* Other nodes' pod CIDRs routed via their addresses; a failure is retried next sync. */
static int sync_node_routes(struct bl_agent *a, json_t **objs, size_t n, struct bl_errlist *errs)
{
	struct bl_node_route *r;
	size_t nr;
	int rc = bl_node_routes_compile(objs, n, a->o.node_name, &r, &nr, errs);

	if (!rc)
		rc = bl_node_routes_apply(r, nr);
	free(r);
	return rc;
}

static void record_duration(struct bl_agent *a, double secs)
{
	int i = 0;

	while (i < BL_SYNC_BUCKETS - 1 && secs > bl_sync_bucket_bounds[i])
		i++;
	if (secs <= bl_sync_bucket_bounds[i])
		a->st.buckets[i]++;
	a->st.duration_sum += secs;
}

int bl_service_resync(struct bl_agent *a)
{
	struct bl_service_source *src = a->source;
	/* with an uplink, NodePorts (on the node's address), LoadBalancer IPs and
	 * externalIPs get their scope EXTERNAL frontends for xdp_uplink */
	struct bl_compile_opts opts = {.node_name = a->o.node_name,
				       .maglev = a->o.maglev,
				       .external = a->o.uplink != NULL,
				       .n_node_ips = a->o.uplink ? 1 : 0,
				       .node_ips = &a->o.node_addr,
				       .nodeport_min = a->o.nodeport_min,
				       .nodeport_max = a->o.nodeport_max};
	struct bl_svc_table table = {0};
	struct bl_dp_frontend *fes = NULL;
	struct bpflet_backend *bes = NULL;
	struct bl_errlist errs;
	struct bl_sync_stats st;
	struct bl_map_writer w = bl_dp_writer(&a->dp);
	double t0 = bl_now();
	json_t **objs = NULL;
	size_t n = 0;
	unsigned long kube_gen;
	int rc, node_routes = 0;

	bl_errlist_init(&errs);
	if (a->kube && !bl_kube_source_synced(a->kube)) {
		/* the maps stay as re-adopted until the API has been listed in full:
		 * a partial view would remove the Services not listed yet */
		a->st.pending = true;
		rc = 0;
		goto out;
	}
	rc = a->o.manifests ? bl_manifest_dir_load(&src->cache, a->o.manifests, &errs) : 0;
	if (rc < 0) {
		log_err("cannot read manifests in %s: %s; keeping the current maps", a->o.manifests,
			strerror(-rc));
		goto out;
	}
	if (rc > 0 && src->cache.changed)
		a->st.manifest_errors++;
	kube_gen = a->kube ? bl_kube_source_generation(a->kube) : 0;
	if (!src->cache.changed && kube_gen == a->kube_gen_applied && !src->dirty &&
	    !a->pol_dirty) {
		/* nothing new: the maps already say what the manifests say */
		a->st.last_sync = bl_now();
		a->st.pending = false;
		rc = 0;
		goto out;
	}
	bl_errlist_clear(&errs);
	rc = bl_manifest_cache_objects(&src->cache, &objs, &n);
	/* the API's objects beside the manifests' (borrowed from the informer caches) */
	if (!rc && a->kube)
		rc = bl_kube_source_objects(a->kube, &objs, &n);
	a->kube_gen_applied = kube_gen;
	if (!rc)
		rc = bl_compile_objects(objs, n, &opts, &table, &errs);
	if (!rc)
		node_routes = sync_node_routes(a, objs, n, &errs);
	if (!rc)
		publish_pod_cidr(a, objs, n);
	if (!rc && bl_policy_resync(a, objs, n))
		node_routes = 1; /* retried at the next sync, Services still applied */
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	if (!rc)
		rc = to_frontends(&table, &fes, &bes);
	if (rc) {
		log_err("compiling Services failed: %s; keeping the current maps", strerror(-rc));
		goto out;
	}
	{
		unsigned sw, sr;
		int e = bl_src_ranges_sync(a->dp.srcr_fd, table.src, table.n_src, &sw, &sr);

		if (e)
			log_err("loadBalancerSourceRanges: writing the map failed: %s",
				strerror(-e));
		if (sw || sr)
			log_info("loadBalancerSourceRanges: %u entries written, %u removed", sw,
				 sr);
		node_routes |= e;
	}
	rc = bl_svc_sync_apply(a->sync, fes, table.n, &w, &st);
	src->dirty = rc != 0 || node_routes != 0;
	/* a port that could not be bound is tried again at the next sync */
	if (a->hc && bl_hc_server_apply(a->hc, table.hc, table.n_hc))
		src->dirty = true;
	a->st.syncs++;
	a->st.map_updates += st.updates;
	a->st.map_removes += st.removes;
	a->st.service_changes += st.fe_added + st.fe_changed + st.fe_removed;
	a->st.endpoint_changes += st.be_added + st.be_removed;
	a->st.maglev_writes += st.maglev_writes;
	a->st.maglev_fallbacks += st.maglev_fallbacks;
	if (st.maglev_fallbacks)
		log_warn("Maglev table space full (--maglev-tables %d): %u frontends use random "
			 "selection",
			 a->o.maglev_tables, st.maglev_fallbacks);
	record_duration(a, bl_now() - t0);
	if (rc) {
		a->st.sync_errors++;
		log_err("sync left %u frontends at their previous state: %s (map full?)", st.errors,
			strerror(-rc));
	} else {
		a->st.last_sync = bl_now();
		a->st.pending = false;
	}
	/* flows of UDP (and other) to backends that left are purged now */
	if (st.updates || st.removes)
		bl_ct_gc_pass(a, false);
	if (st.updates || st.removes)
		log_info("synced %zu frontends: %u entries written, %u removed (+%u ~%u -%u "
			 "frontends) in %.1f ms",
			 table.n, st.updates, st.removes, st.fe_added, st.fe_changed, st.fe_removed,
			 (bl_now() - t0) * 1e3);
out:
	free(objs);
	free(fes);
	free(bes);
	bl_svc_table_free(&table);
	bl_errlist_free(&errs);
	return rc;
}
