#include "controlplane/controllers/sched_plan.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/quantity.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* kube's scoring assumes this much for a container that requests nothing, so pods
 * without requests still spread (fitting uses the real requests) */
#define NONZERO_CPU (100LL)			   /* 100m, in milli-cores */
#define NONZERO_MEM (200LL * 1024 * 1024 * 1000LL) /* 200Mi, in milli-bytes */

struct usage {
	int64_t cpu, mem, pods; /* what fitting compares */
	int64_t cpu_nz, mem_nz; /* what scoring adds up */
};

struct node_info {
	json_t *node;
	const char *name;
	struct usage alloc, used;
};

/* Reasons a pod does not fit, counted over the nodes for kube's FitError message. */
struct reasons {
	json_t *counts; /* reason → integer */
};

static bool terminal(json_t *pod)
{
	const char *phase = bl_ctl_str(pod, "status.phase");

	return phase && (!strcmp(phase, "Succeeded") || !strcmp(phase, "Failed"));
}

bool bl_sched_pending(json_t *pod)
{
	const char *node = bl_ctl_str(pod, "spec.nodeName");
	const char *sched = bl_ctl_str(pod, "spec.schedulerName");

	return (!node || !node[0]) && !bl_ctl_get(pod, "metadata.deletionTimestamp") &&
	       !terminal(pod) && (!sched || !sched[0] || !strcmp(sched, BL_SCHED_NAME));
}

static int64_t request(json_t *c, const char *res)
{
	int64_t v = 0;

	if (bl_quantity_milli(
		    bl_ctl_get(json_object_get(json_object_get(c, "resources"), "requests"), res),
		    &v))
		return 0;
	return v;
}

/* kube's effective request: the sum over containers, or the largest init container's
 * when that is more (init containers run one at a time, before the others). */
static void pod_requests(json_t *pod, struct usage *u)
{
	json_t *spec = json_object_get(pod, "spec"), *c;
	int64_t cpu = 0, mem = 0, cpu_nz = 0, mem_nz = 0;
	size_t i;

	json_array_foreach(json_object_get(spec, "containers"), i, c)
	{
		int64_t rc = request(c, "cpu"), rm = request(c, "memory");

		cpu += rc;
		mem += rm;
		cpu_nz += rc ? rc : NONZERO_CPU;
		mem_nz += rm ? rm : NONZERO_MEM;
	}
	json_array_foreach(json_object_get(spec, "initContainers"), i, c)
	{
		if (request(c, "cpu") > cpu)
			cpu = request(c, "cpu");
		if (request(c, "memory") > mem)
			mem = request(c, "memory");
	}
	u->cpu = cpu;
	u->mem = mem;
	u->pods = 1000; /* one pod, in milli */
	u->cpu_nz = cpu_nz;
	u->mem_nz = mem_nz;
}

json_t *bl_sched_charge(json_t *pod)
{
	const char *node = bl_ctl_str(pod, "spec.nodeName");
	struct usage u;

	if (!node || !node[0] || terminal(pod))
		return NULL;
	pod_requests(pod, &u);
	return json_pack("{s:s, s:[I, I, I, I, I]}", "node", node, "r", (json_int_t)u.cpu,
			 (json_int_t)u.mem, (json_int_t)u.pods, (json_int_t)u.cpu_nz,
			 (json_int_t)u.mem_nz);
}

void bl_sched_usage_apply(json_t *usage, json_t *charge, int sign)
{
	const char *node = bl_ctl_str(charge, "node");
	json_t *r = json_object_get(charge, "r"), *have;

	if (!node || json_array_size(r) != 5)
		return;
	have = json_object_get(usage, node);
	if (!have) {
		have = json_pack("[I, I, I, I, I]", (json_int_t)0, (json_int_t)0, (json_int_t)0,
				 (json_int_t)0, (json_int_t)0);
		json_object_set_new(usage, node, have);
	}
	for (size_t i = 0; i < 5; i++)
		json_array_set_new(have, i,
				   json_integer(json_integer_value(json_array_get(have, i)) +
						sign * json_integer_value(json_array_get(r, i))));
	if (!json_integer_value(json_array_get(have, 2)))
		json_object_del(usage, node); /* no pod left there */
}

static void add_usage(struct usage *to, const struct usage *u)
{
	to->cpu += u->cpu;
	to->mem += u->mem;
	to->pods += u->pods;
	to->cpu_nz += u->cpu_nz;
	to->mem_nz += u->mem_nz;
}

static int64_t allocatable(json_t *node, const char *res)
{
	int64_t v = 0;

	/* missing is none, as kube reads it: such a node takes no pods */
	if (bl_quantity_milli(json_object_get(bl_ctl_get(node, "status.allocatable"), res), &v))
		return 0;
	return v;
}

static bool node_ready(json_t *node)
{
	json_t *c = bl_ctl_condition(node, "Ready");

	return c && !strcmp(json_string_value(json_object_get(c, "status")) ?: "", "True");
}

static bool tolerated(json_t *pod, json_t *taint)
{
	const char *key = json_string_value(json_object_get(taint, "key")) ?: "";
	const char *value = json_string_value(json_object_get(taint, "value")) ?: "";
	const char *effect = json_string_value(json_object_get(taint, "effect")) ?: "";
	json_t *t;
	size_t i;

	json_array_foreach(bl_ctl_get(pod, "spec.tolerations"), i, t)
	{
		const char *tk = json_string_value(json_object_get(t, "key")) ?: "";
		const char *op = json_string_value(json_object_get(t, "operator")) ?: "Equal";
		const char *te = json_string_value(json_object_get(t, "effect")) ?: "";
		const char *tv = json_string_value(json_object_get(t, "value")) ?: "";

		if (te[0] && strcmp(te, effect))
			continue;
		if (!strcmp(op, "Exists") && (!tk[0] || !strcmp(tk, key)))
			return true;
		if (!strcmp(op, "Equal") && !strcmp(tk, key) && !strcmp(tv, value))
			return true;
	}
	return false;
}

/* The first NoSchedule/NoExecute taint of node that pod does not tolerate, or NULL. */
static json_t *untolerated(json_t *pod, json_t *node)
{
	json_t *taint;
	size_t i;

	json_array_foreach(bl_ctl_get(node, "spec.taints"), i, taint)
	{
		const char *effect = json_string_value(json_object_get(taint, "effect")) ?: "";

		if ((!strcmp(effect, "NoSchedule") || !strcmp(effect, "NoExecute")) &&
		    !tolerated(pod, taint))
			return taint;
	}
	return NULL;
}

bool bl_sched_tolerates(json_t *pod, json_t *node)
{
	return !untolerated(pod, node);
}

static bool selector_matches(json_t *pod, json_t *node)
{
	json_t *labels = bl_ctl_get(node, "metadata.labels"), *v;
	const char *k;

	json_object_foreach(bl_ctl_get(pod, "spec.nodeSelector"), k, v)
	{
		const char *have = json_string_value(json_object_get(labels, k));

		if (!have || !json_is_string(v) || strcmp(have, json_string_value(v)))
			return false;
	}
	return true;
}

static void count(struct reasons *r, const char *why)
{
	json_t *n = json_object_get(r->counts, why);

	json_object_set_new(r->counts, why, json_integer(json_integer_value(n) + 1));
}

/* Checks in kube's filter order; the reasons a node fails go to r. */
static bool fits(json_t *pod, const struct usage *req, const struct node_info *n, struct reasons *r)
{
	json_t *taint;
	bool ok = true;
	char why[600];

	if (!node_ready(n->node)) {
		count(r, "node(s) were not ready");
		return false;
	}
	if (json_is_true(bl_ctl_get(n->node, "spec.unschedulable"))) {
		count(r, "node(s) were unschedulable");
		return false;
	}
	taint = untolerated(pod, n->node);
	if (taint) {
		snprintf(why, sizeof(why), "node(s) had untolerated taint {%.250s: %.250s}",
			 json_string_value(json_object_get(taint, "key")) ?: "",
			 json_string_value(json_object_get(taint, "value")) ?: "");
		count(r, why);
		return false;
	}
	if (!selector_matches(pod, n->node)) {
		count(r, "node(s) didn't match Pod's node affinity/selector");
		return false;
	}
	if (n->used.pods + req->pods > n->alloc.pods) {
		count(r, "Too many pods");
		ok = false;
	}
	if (req->cpu && n->used.cpu + req->cpu > n->alloc.cpu) {
		count(r, "Insufficient cpu");
		ok = false;
	}
	if (req->mem && n->used.mem + req->mem > n->alloc.mem) {
		count(r, "Insufficient memory");
		ok = false;
	}
	return ok;
}

static double fraction(int64_t used, int64_t alloc)
{
	return alloc > 0 ? (double)used / (double)alloc : 1.0;
}

/* kube's LeastAllocated, inverted: the mean share of cpu and memory in use once the
 * pod is there; lower is better. */
static double load(const struct node_info *n, const struct usage *req)
{
	return (fraction(n->used.cpu_nz + req->cpu_nz, n->alloc.cpu) +
		fraction(n->used.mem_nz + req->mem_nz, n->alloc.mem)) /
	       2;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct node_info *)a)->name, ((const struct node_info *)b)->name);
}

static int by_queue_order(const void *a, const void *b)
{
	json_t *pa = *(json_t *const *)a, *pb = *(json_t *const *)b;
	json_int_t qa = json_integer_value(bl_ctl_get(pa, "spec.priority"));
	json_int_t qb = json_integer_value(bl_ctl_get(pb, "spec.priority"));
	int c;

	if (qa != qb)
		return qa > qb ? -1 : 1;
	c = strcmp(bl_ctl_str(pa, "metadata.creationTimestamp") ?: "",
		   bl_ctl_str(pb, "metadata.creationTimestamp") ?: "");
	if (c)
		return c;
	c = strcmp(bl_ctl_str(pa, "metadata.namespace") ?: "",
		   bl_ctl_str(pb, "metadata.namespace") ?: "");
	return c ? c
		 : strcmp(bl_ctl_str(pa, "metadata.name") ?: "",
			  bl_ctl_str(pb, "metadata.name") ?: "");
}

static struct node_info *find_node(struct node_info *ns, size_t n, const char *name)
{
	struct node_info key = {.name = name};

	return name ? bsearch(&key, ns, n, sizeof(*ns), by_name) : NULL;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* kube's FitError: "0/3 nodes are available: 1 Too many pods, 2 Insufficient cpu." (the
 * "count reason" texts sorted) */
static json_t *fit_error(size_t nnodes, struct reasons *r)
{
	size_t n = json_object_size(r->counts), i = 0, len = 64;
	char **texts = calloc(n ? n : 1, sizeof(*texts)), *msg = NULL;
	const char *k;
	json_t *v, *out;
	bool ok = texts != NULL;

	if (ok) {
		json_object_foreach(r->counts, k, v)
		{
			if (asprintf(&texts[i], "%lld %s", (long long)json_integer_value(v), k) <
			    0) {
				texts[i] = NULL;
				ok = false;
			}
			len += strlen(texts[i] ? texts[i] : "") + 2;
			i++;
		}
		qsort(texts, n, sizeof(*texts), by_text);
		msg = ok ? malloc(len) : NULL;
	}
	if (!nnodes || !msg) {
		out = json_string("no nodes available to schedule pods");
	} else {
		size_t off = (size_t)snprintf(msg, len, "0/%zu nodes are available", nnodes);

		for (i = 0; i < n; i++)
			off += (size_t)snprintf(msg + off, len - off, "%s%s", i ? ", " : ": ",
						texts[i]);
		snprintf(msg + off, len - off, ".");
		out = json_string(msg);
	}
	for (i = 0; texts && i < n; i++)
		free(texts[i]);
	free(texts);
	free(msg);
	return out;
}

static void pod_ref(json_t *to, json_t *pod)
{
	json_object_set_new(to, "namespace",
			    json_string(bl_ctl_str(pod, "metadata.namespace") ?: ""));
	json_object_set_new(to, "name", json_string(bl_ctl_str(pod, "metadata.name") ?: ""));
}

json_t *bl_sched_plan(json_t *nodes, json_t *pods, json_t *usage)
{
	size_t nn = json_array_size(nodes), np = json_array_size(pods), nq = 0, i, j;
	struct node_info *ns = calloc(nn ? nn : 1, sizeof(*ns));
	json_t **queue = calloc(np ? np : 1, sizeof(*queue));
	json_t *plan = json_pack("{s:[], s:[]}", "bind", "unschedulable"), *pod;

	if (!ns || !queue || !plan) {
		free(ns);
		free(queue);
		return plan;
	}
	for (i = 0, j = 0; i < nn; i++) {
		json_t *node = json_array_get(nodes, i), *have;

		if (!bl_ctl_str(node, "metadata.name"))
			continue;
		ns[j].node = node;
		ns[j].name = bl_ctl_str(node, "metadata.name");
		ns[j].alloc.cpu = allocatable(node, "cpu");
		ns[j].alloc.mem = allocatable(node, "memory");
		ns[j].alloc.pods = allocatable(node, "pods");
		have = json_object_get(usage, ns[j].name);
		if (json_array_size(have) == 5) {
			ns[j].used.cpu = json_integer_value(json_array_get(have, 0));
			ns[j].used.mem = json_integer_value(json_array_get(have, 1));
			ns[j].used.pods = json_integer_value(json_array_get(have, 2));
			ns[j].used.cpu_nz = json_integer_value(json_array_get(have, 3));
			ns[j].used.mem_nz = json_integer_value(json_array_get(have, 4));
		}
		j++;
	}
	nn = j;
	qsort(ns, nn, sizeof(*ns), by_name);
	json_array_foreach(pods, i, pod)
	{
		struct node_info *n = find_node(ns, nn, bl_ctl_str(pod, "spec.nodeName"));
		struct usage u;

		if (bl_sched_pending(pod)) {
			queue[nq++] = pod;
		} else if (n && !terminal(pod)) {
			pod_requests(pod, &u);
			add_usage(&n->used, &u);
		}
	}
	qsort(queue, nq, sizeof(*queue), by_queue_order);
	for (i = 0; i < nq; i++) {
		struct reasons r = {json_object()};
		struct node_info *best = NULL;
		double best_load = 0;
		struct usage req;
		json_t *entry = json_object();

		pod = queue[i];
		pod_requests(pod, &req);
		for (j = 0; j < nn; j++) {
			double l;

			if (!fits(pod, &req, &ns[j], &r))
				continue;
			l = load(&ns[j], &req);
			if (!best || l < best_load) {
				best = &ns[j];
				best_load = l;
			}
		}
		pod_ref(entry, pod);
		if (best) {
			add_usage(&best->used, &req);
			json_object_set_new(entry, "node", json_string(best->name));
			json_array_append_new(json_object_get(plan, "bind"), entry);
		} else {
			json_object_set_new(entry, "message", fit_error(nn, &r));
			json_array_append_new(json_object_get(plan, "unschedulable"), entry);
		}
		json_decref(r.counts);
	}
	free(ns);
	free(queue);
	return plan;
}
