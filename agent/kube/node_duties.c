/*
 * What keeps a node alive in a cluster: its Node object (registered, status updated
 * on change or every minute) and its Lease in kube-node-lease (renewed every 10 s,
 * 40 s duration), as the kubelet does them. Every request is asynchronous on the
 * agent's loop; a failure is logged and retried at the next tick.
 */
#include "agent/kube/node_duties.h"

#include "agent/agent.h"
#include "agent/common/log.h"
#include "agent/common/clock.h"
#include "agent/kube/kube_client.h"

#include <event2/event.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>
#include <time.h>
#include <unistd.h>

#define LEASE_RENEW_S	 10
#define LEASE_DURATION_S 40
#define STATUS_EVERY_S	 60
#define REPLY_MAX	 (1u << 20)

struct bl_node_duties {
	struct bl_agent *a;
	struct bl_kube_client *c;
	struct event *lease_ev, *status_ev;
	bool registered, lease_exists, ready_sent, last_ready;
	char transition[40]; /* when Ready last changed */
	double last_status;
	unsigned long lease_renewals, status_updates, failures;
};

/* One request's reply, read whole (a Status on failure is worth logging). */
struct call {
	struct bl_node_duties *d;
	void (*done)(struct bl_node_duties *d, long status, const char *body);
	char *buf;
	size_t len;
	char what[64];
};

static bool on_data(void *arg, long status, const char *p, size_t n)
{
	struct call *k = arg;
	char *nb;

	(void)status;
	if (k->len + n + 1 > REPLY_MAX)
		return false;
	nb = realloc(k->buf, k->len + n + 1);
	if (!nb)
		return false;
	memcpy(nb + k->len, p, n);
	k->buf = nb;
	k->len += n;
	k->buf[k->len] = '\0';
	return true;
}

static void on_done(void *arg, long status, bool ok, const char *err)
{
	struct call *k = arg;

	if (!ok && !status) {
		k->d->failures++;
		log_warn("node: %s: %s", k->what, err);
	}
	k->done(k->d, ok ? status : 0, k->buf ? k->buf : "");
	free(k->buf);
	free(k);
}

static const struct bl_kube_req_ops call_ops = {.on_data = on_data, .on_done = on_done};

static void call(struct bl_node_duties *d, const char *method, const char *path, json_t *body,
		 const char *ctype, const char *what,
		 void (*done)(struct bl_node_duties *, long, const char *))
{
	struct call *k = calloc(1, sizeof(*k));
	char *txt = body ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (!k || (body && !txt)) {
		free(k);
		free(txt);
		return;
	}
	k->d = d;
	k->done = done;
	snprintf(k->what, sizeof(k->what), "%s", what);
	if (!bl_kube_request(d->c, method, path, txt, ctype, 30, &call_ops, k))
		free(k);
	free(txt);
}

static void log_failure(const char *what, long status, const char *body)
{
	json_t *st = json_loads(body, 0, NULL);
	const char *msg = json_string_value(json_object_get(st, "message"));

	log_warn("node: %s: HTTP %ld%s%s", what, status, msg ? ": " : "", msg ? msg : "");
	json_decref(st);
}

/* ---- Node ---- */

static json_t *node_conditions(struct bl_node_duties *d, bool ready)
{
	char now[40];

	bl_now_rfc3339(now, sizeof(now), false);
	if (!d->transition[0] || ready != d->last_ready)
		snprintf(d->transition, sizeof(d->transition), "%s", now);
	d->last_ready = ready;
	return json_pack(
		"[{s:s, s:s, s:s, s:s, s:s, s:s}]", "type", "Ready", "status",
		ready ? "True" : "False", "reason", ready ? "KubeletReady" : "BpfletNotSynced",
		"message",
		ready ? "bpflet is posting ready status; its dataplane is in sync"
		      : "bpflet's dataplane has not completed a recent sync of the cluster's state",
		"lastHeartbeatTime", now, "lastTransitionTime", d->transition);
}

static json_t *node_status(struct bl_node_duties *d, bool ready)
{
	struct sysinfo si;
	char cpu[24], mem[32];
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	json_t *st;

	sysinfo(&si);
	snprintf(cpu, sizeof(cpu), "%ld", ncpu > 0 ? ncpu : 1);
	snprintf(mem, sizeof(mem), "%lluKi", (unsigned long long)si.totalram * si.mem_unit / 1024);
	st = json_pack("{s:{s:s, s:s, s:s}, s:{s:s, s:s, s:s}, s:o, s:{s:s, s:s, s:s}}", "capacity",
		       "cpu", cpu, "memory", mem, "pods", "110", "allocatable", "cpu", cpu,
		       "memory", mem, "pods", "110", "conditions", node_conditions(d, ready),
		       "nodeInfo", "operatingSystem", "linux", "architecture", "amd64",
		       "kubeProxyVersion", "bpflet");
	if (st && d->a->o.node_ip)
		json_object_set_new(st, "addresses",
				    json_pack("[{s:s, s:s}, {s:s, s:s}]", "type", "InternalIP",
					      "address", d->a->o.node_ip, "type", "Hostname",
					      "address", d->a->o.node_name));
	return st;
}

static void status_done(struct bl_node_duties *d, long status, const char *body)
{
	if (status == 200 || status == 201) {
		d->status_updates++;
		d->last_status = bl_now();
		d->ready_sent = true;
		return;
	}
	d->failures++;
	log_failure("status update", status, body);
}

static void send_status(struct bl_node_duties *d)
{
	char path[300];
	bool ready = bl_agent_healthy(d->a);

	snprintf(path, sizeof(path), "/api/v1/nodes/%s/status", d->a->o.node_name);
	call(d, "PATCH", path, json_pack("{s:o}", "status", node_status(d, ready)),
	     "application/merge-patch+json", "status update", status_done);
}

static void register_done(struct bl_node_duties *d, long status, const char *body)
{
	if (status == 201 || status == 200) {
		log_info("node: registered Node %s", d->a->o.node_name);
		d->registered = true;
		send_status(d); /* a create may drop status, as the API server's does */
		return;
	}
	if (status == 409) {
		log_info("node: Node %s exists; taking it over", d->a->o.node_name);
		d->registered = true;
		send_status(d);
		return;
	}
	d->failures++;
	log_failure("registering the Node", status, body);
}

static void register_node(struct bl_node_duties *d)
{
	json_t *node = json_pack("{s:s, s:s, s:{s:s, s:{s:s, s:s}}, s:{}, s:o}", "apiVersion", "v1",
				 "kind", "Node", "metadata", "name", d->a->o.node_name, "labels",
				 "kubernetes.io/hostname", d->a->o.node_name, "kubernetes.io/os",
				 "linux", "spec", "status", node_status(d, bl_agent_healthy(d->a)));

	call(d, "POST", "/api/v1/nodes", node, NULL, "registering the Node", register_done);
}

static void on_status_tick(evutil_socket_t fd, short what, void *arg)
{
	struct bl_node_duties *d = arg;

	(void)fd;
	(void)what;
	if (!d->registered) {
		register_node(d);
		return;
	}
	/* on change at once, otherwise once a minute */
	if (bl_agent_healthy(d->a) != d->last_ready || !d->ready_sent ||
	    bl_now() - d->last_status >= STATUS_EVERY_S)
		send_status(d);
}

/* ---- Lease ---- */

static void renew_lease(struct bl_node_duties *d);

static void ns_done(struct bl_node_duties *d, long status, const char *body)
{
	if (status != 201 && status != 409) {
		d->failures++;
		log_failure("creating namespace kube-node-lease", status, body);
		return;
	}
	renew_lease(d);
}

static void lease_done(struct bl_node_duties *d, long status, const char *body)
{
	if (status == 200 || status == 201) {
		d->lease_exists = true;
		d->lease_renewals++;
		return;
	}
	if (status == 404 && d->lease_exists) {
		d->lease_exists = false; /* deleted under us: create it again */
		renew_lease(d);
		return;
	}
	if (status == 404) {
		/* the namespace first (an API server without it), then the Lease */
		call(d, "POST", "/api/v1/namespaces",
		     json_pack("{s:s, s:s, s:{s:s}}", "apiVersion", "v1", "kind", "Namespace",
			       "metadata", "name", "kube-node-lease"),
		     NULL, "creating namespace kube-node-lease", ns_done);
		return;
	}
	if (status == 409) {
		d->lease_exists = true;
		renew_lease(d);
		return;
	}
	d->failures++;
	log_failure("renewing the Lease", status, body);
}

static void renew_lease(struct bl_node_duties *d)
{
	char now[40], path[300];
	const char *n = d->a->o.node_name;

	bl_now_rfc3339(now, sizeof(now), true);
	if (d->lease_exists) {
		snprintf(path, sizeof(path),
			 "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/%s", n);
		call(d, "PATCH", path, json_pack("{s:{s:s}}", "spec", "renewTime", now),
		     "application/merge-patch+json", "renewing the Lease", lease_done);
		return;
	}
	call(d, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases",
	     json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:i, s:s}}", "apiVersion",
		       "coordination.k8s.io/v1", "kind", "Lease", "metadata", "name", n,
		       "namespace", "kube-node-lease", "spec", "holderIdentity", n,
		       "leaseDurationSeconds", LEASE_DURATION_S, "renewTime", now),
	     NULL, "creating the Lease", lease_done);
}

static void on_lease_tick(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	renew_lease(arg);
}

struct bl_node_duties *bl_node_duties_start(struct bl_agent *a, struct bl_kube_client *c)
{
	struct bl_node_duties *d = calloc(1, sizeof(*d));
	struct timeval lease = {LEASE_RENEW_S, 0}, status = {1, 0};

	if (!d)
		return NULL;
	d->a = a;
	d->c = c;
	d->lease_ev = event_new(a->base, -1, EV_PERSIST, on_lease_tick, d);
	d->status_ev = event_new(a->base, -1, EV_PERSIST, on_status_tick, d);
	if (!d->lease_ev || !d->status_ev) {
		bl_node_duties_free(d);
		return NULL;
	}
	/* the lease every 10 s; the status tick each second only sends on change or
	 * once a minute */
	event_add(d->lease_ev, &lease);
	event_add(d->status_ev, &status);
	register_node(d);
	renew_lease(d);
	return d;
}

void bl_node_duties_free(struct bl_node_duties *d)
{
	if (!d)
		return;
	if (d->lease_ev)
		event_free(d->lease_ev);
	if (d->status_ev)
		event_free(d->status_ev);
	free(d);
}

void bl_node_duties_stats(const struct bl_node_duties *d, unsigned long *renewals,
			  unsigned long *status_updates, unsigned long *failures)
{
	*renewals = d->lease_renewals;
	*status_updates = d->status_updates;
	*failures = d->failures;
}
