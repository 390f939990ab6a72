/* Manifests → compiler → syncer: the agent's Service source for --manifests DIR. */
#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"
#include "agent/dataplane/batch_writer.h"
#include "agent/dataplane/src_ranges.h"
#include "agent/hc_server.h"
#include "agent/kube/kube_source.h"
#include "agent/manifests/manifests.h"
#include "agent/node_routes.h"
#include "agent/service_groups.h"
#include "controlplane/compile/compile.h"

#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bl_service_source {
	struct bl_manifest_cache cache;
	bool dirty;	   /* the last apply left something undone: rebuild and apply in full */
	bool others_dirty; /* node routes or policies to retry */
	bool extras_dirty; /* health-check ports or source ranges to retry */
	bool built;	   /* incr holds every Service */
	bool apply_full;   /* rebuilt before the maps were ready: the next apply is a full one */
	double since;	   /* when the API's changes compiled but not yet applied arrived */
	unsigned long other_gen;       /* the API's non-Service generation applied */
	struct bl_compile_incr *incr;  /* each Service's compiled frontends */
	struct bl_manifest_groups *mg; /* the manifests' part of them */
};

int bl_service_source_init(struct bl_agent *a)
{
	a->source = calloc(1, sizeof(*a->source));
	if (!a->source)
		return -ENOMEM;
	bl_manifest_cache_init(&a->source->cache);
	a->source->dirty = true;
	a->source->incr = bl_compile_incr_new();
	if (!a->source->incr) {
		free(a->source);
		a->source = NULL;
		return -ENOMEM;
	}
	return 0;
}

void bl_service_source_free(struct bl_agent *a)
{
	if (!a->source)
		return;
	bl_manifest_cache_free(&a->source->cache);
	bl_compile_incr_free(a->source->incr);
	bl_manifest_groups_free(a->source->mg);
	free(a->source);
	a->source = NULL;
}

/* The syncer's view of the compiled frontends; backends share one flat array. */
static int to_frontends(const struct bl_svc_frontend *const *fe, size_t n,
			struct bl_dp_frontend **out, struct bpflet_backend **bes_out)
{
	size_t total = 0, at = 0;
	struct bl_dp_frontend *fes;
	struct bpflet_backend *bes;

	for (size_t i = 0; i < n; i++)
		total += fe[i]->n_backends;
	fes = calloc(n ? n : 1, sizeof(*fes));
	bes = calloc(total ? total : 1, sizeof(*bes));
	if (!fes || !bes) {
		free(fes);
		free(bes);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		const struct bl_svc_frontend *f = fe[i];

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

/* Nodes, Pods, Namespaces, NetworkPolicies: node routes, the pod CIDR, policy maps.
 * Non-zero: something is to be retried at the next sync. */
static int sync_others(struct bl_agent *a, json_t **objs, size_t n, struct bl_errlist *errs)
{
	int retry = sync_node_routes(a, objs, n, errs);

	publish_pod_cidr(a, objs, n);
	if (bl_policy_resync(a, objs, n))
		retry = 1;
	return retry;
}

/* The syncer's mirror again from the maps, after writes it counted did not land. */
static void readopt(struct bl_agent *a)
{
	struct bl_svc_sync *s = bl_svc_sync_new();

	if (!s || bl_svc_sync_set_maglev_blocks(s, (uint32_t)a->o.maglev_tables) ||
	    bl_dp_adopt(&a->dp, s)) {
		log_err("re-reading the maps failed: the syncer may believe writes that did not "
			"land");
		bl_svc_sync_free(s);
		return;
	}
	bl_svc_sync_free(a->sync);
	a->sync = s;
}

/* The frontends to write: a full apply (every frontend, the rest removed) after a
 * rebuild, else only what the touched Services changed. */
static int apply_services(struct bl_agent *a, bool full, struct bl_sync_stats *st,
			  struct bl_errlist *errs)
{
	struct bl_service_source *src = a->source;
	const struct bl_svc_frontend **fe = NULL;
	struct bpflet_fe_key *gone = NULL;
	struct bl_dp_frontend *fes = NULL;
	struct bpflet_backend *bes = NULL;
	/* full applies (the first sync, rebuilds after a relist) go out in batches */
	bool batch = full;
	struct bl_batch_writer bw;
	struct bl_map_writer w = batch ? bl_batch_writer(&bw, &a->dp) : bl_dp_writer(&a->dp);
	size_t n = 0, n_gone = 0;
	double t0 = bl_now(), t_fe, t_diff;
	int rc = bl_compile_incr_take(src->incr, &fe, &n, &gone, &n_gone, errs);

	if (!rc && full) {
		free(fe);
		rc = bl_compile_incr_all(src->incr, &fe, &n);
	}
	if (!rc)
		rc = to_frontends(fe, n, &fes, &bes);
	t_fe = bl_now();
	if (!rc && full)
		rc = bl_svc_sync_apply(a->sync, fes, n, &w, st);
	else if (!rc)
		rc = bl_svc_sync_apply_delta(a->sync, fes, n, gone, n_gone, &w, st);
	t_diff = bl_now();
	if (batch) {
		int e = bl_batch_flush(&bw);

		log_debug("full sync: %u entries in %u syscalls (%.1f ms); frontends listed %.1f "
			  "ms, diffed and written %.1f ms, the rest written %.1f ms",
			  st->updates, bw.syscalls, bw.sys_ms, (t_fe - t0) * 1e3,
			  (t_diff - t_fe) * 1e3, (bl_now() - t_diff) * 1e3);
		if (e) {
			log_err("batched map writes failed: %s; re-reading the maps", strerror(-e));
			readopt(a);
			rc = rc ? rc : e;
		}
		bl_batch_free(&bw);
	}
	free(fe);
	free(gone);
	free(fes);
	free(bes);
	return rc;
}

/* Health-check ports and loadBalancerSourceRanges, when they changed. Non-zero: to
 * be retried. */
static int apply_extras(struct bl_agent *a, bool force, struct bl_errlist *errs)
{
	const struct bl_svc_table *x;
	unsigned sw, sr;
	bool changed;
	int retry = 0, e = bl_compile_incr_extras(a->source->incr, &x, &changed, errs);

	if (e)
		return e;
	if (!changed && !force)
		return 0;
	e = bl_src_ranges_sync(a->dp.srcr_fd, x->src, x->n_src, &sw, &sr);
	if (e)
		log_err("loadBalancerSourceRanges: writing the map failed: %s", strerror(-e));
	if (sw || sr)
		log_info("loadBalancerSourceRanges: %u entries written, %u removed", sw, sr);
	retry |= e;
	/* a port that could not be bound is tried again at the next sync */
	if (a->hc && bl_hc_server_apply(a->hc, x->hc, x->n_hc))
		retry = 1;
	return retry;
}

/* The API's changes are in the maps now: how long they took. */
static void observe_programming(struct bl_agent *a, double since)
{
	double now = bl_now(), t[256];
	size_t n = a->kube ? bl_kube_source_take_triggers(a->kube, t, 256) : 0;

	if (since > 0)
		bl_histo_observe(&a->st.event_to_map, now - since);
	for (size_t i = 0; i < n; i++)
		bl_histo_observe(&a->st.programming, now > t[i] ? now - t[i] : 0);
}

/* The changes to the maps since the last sync (compile_only: only compiled, while
 * the dataplane loads; the next call applies them). */
static int resync(struct bl_agent *a, bool compile_only)
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
	struct bl_errlist errs;
	struct bl_sync_stats st = {0};
	double t0 = bl_now(), t_read, t_compiled, t_applied;
	json_t **objs = NULL, *touched = NULL;
	size_t n = 0;
	unsigned long other_gen;
	bool all = false, rebuild, full, others;
	double since = 0;
	int rc, retry = 0;

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
	if (a->kube)
		touched = bl_kube_source_take_touched(a->kube, &all, &since);
	if (src->since > 0 && (!since || src->since < since))
		since = src->since;
	src->since = 0;
	other_gen = a->kube ? bl_kube_source_other_generation(a->kube) : 0;
	/* an API change recompiles its Service alone, with what the manifests say of it */
	rebuild = !src->built || src->dirty || src->cache.changed || all;
	full = rebuild || src->apply_full;
	/* node routes and policies are written as they are compiled: not before the maps */
	others = !compile_only &&
		 (full || src->others_dirty || a->pol_dirty || other_gen != src->other_gen);
	if (compile_only && !rebuild && !json_object_size(touched)) {
		rc = 0;
		goto out;
	}
	if (!full && !others && !json_object_size(touched) && !src->extras_dirty) {
		/* nothing new: the maps already say what the sources say */
		a->st.last_sync = bl_now();
		a->st.pending = false;
		rc = 0;
		goto out;
	}
	bl_errlist_clear(&errs);
	if (rebuild || others) {
		rc = bl_manifest_cache_objects(&src->cache, &objs, &n);
		/* the API's objects beside the manifests' (borrowed from the informer caches) */
		if (!rc && a->kube)
			rc = bl_kube_source_objects(a->kube, &objs, &n);
	}
	if (!rc && others) {
		src->others_dirty = sync_others(a, objs, n, &errs) != 0;
		src->other_gen = other_gen;
	}
	t_read = bl_now();
	if (!rc && rebuild)
		rc = bl_service_groups_rebuild(src->incr, objs, n, a->kube, &opts, &errs, &src->mg);
	else if (!rc)
		rc = bl_service_groups_update(src->incr, a->kube, touched, src->mg, &opts, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	if (rc) {
		log_err("compiling Services failed: %s; keeping the current maps", strerror(-rc));
		src->dirty = true;
		goto out;
	}
	src->built = true;
	src->dirty = false;
	src->apply_full = full;
	bl_errlist_clear(&errs);
	t_compiled = bl_now();
	if (compile_only) {
		/* the next sync applies it: its changes arrived now */
		src->since = since;
		a->st.pending = true;
		if (rebuild)
			malloc_trim(0);
		bl_log(rebuild ? BL_LOG_INFO : BL_LOG_DEBUG,
		       "%zu Services compiled in %.1f ms while the dataplane loads",
		       bl_compile_incr_services(src->incr), (t_compiled - t_read) * 1e3);
		goto out;
	}
	src->apply_full = false;
	rc = apply_services(a, full, &st, &errs);
	t_applied = bl_now();
	/* a rebuild parses every object once: give what it freed back to the system */
	if (full)
		malloc_trim(0);
	if (rebuild)
		log_debug("full sync: objects read %.1f ms, Services compiled %.1f ms, applied "
			  "%.1f ms, memory trimmed %.1f ms",
			  (t_read - t0) * 1e3, (t_compiled - t_read) * 1e3,
			  (t_applied - t_compiled) * 1e3, (bl_now() - t_applied) * 1e3);
	retry = apply_extras(a, full || src->extras_dirty, &errs);
	for (size_t i = 0; i < errs.n; i++)
		log_warn("%s", errs.msgs[i]);
	src->dirty = rc != 0;
	src->extras_dirty = retry != 0;
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
	bl_histo_observe(&a->st.sync_duration, bl_now() - t0);
	if (rc) {
		a->st.sync_errors++;
		log_err("sync left %u frontends at their previous state: %s (map full?)", st.errors,
			strerror(-rc));
	} else {
		a->st.last_sync = bl_now();
		a->st.pending = false;
	}
	if (!rc)
		observe_programming(a, since);
	/* flows of UDP (and other) to backends that left are purged soon after */
	if (st.removes)
		bl_ct_gc_purge_soon(a);
	if (st.updates || st.removes) {
		char after[64] = "";

		if (since > 0)
			snprintf(after, sizeof(after), ", %.1f ms after the API's change arrived",
				 (bl_now() - since) * 1e3);
		log_info("synced %zu frontends: %u entries written, %u removed (+%u ~%u -%u "
			 "frontends) in %.1f ms%s",
			 bl_svc_sync_frontends(a->sync), st.updates, st.removes, st.fe_added,
			 st.fe_changed, st.fe_removed, (bl_now() - t0) * 1e3, after);
	}
out:
	json_decref(touched);
	free(objs);
	bl_errlist_free(&errs);
	return rc;
}

int bl_service_resync(struct bl_agent *a)
{
	return resync(a, false);
}

int bl_service_precompile(struct bl_agent *a)
{
	return resync(a, true);
}
