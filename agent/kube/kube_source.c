/* Informers for the kinds the compiler reads, on one client. */
#include "agent/kube/kube_source.h"

#include "agent/common/log.h"
#include "agent/kube/informer.h"
#include "agent/kube/kube_client.h"
#include "agent/kube/kubeconfig.h"
#include "agent/agent.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *path, *kind, *api_version;
} kinds[] = {
	{"/api/v1/services", "Service", "v1"},
	{"/apis/discovery.k8s.io/v1/endpointslices", "EndpointSlice", "discovery.k8s.io/v1"},
	{"/api/v1/nodes", "Node", "v1"},
	/* NetworkPolicy: every pod (peers live on other nodes too), namespaces, policies */
	{"/api/v1/pods", "Pod", "v1"},
	{"/api/v1/namespaces", "Namespace", "v1"},
	{"/apis/networking.k8s.io/v1/networkpolicies", "NetworkPolicy", "networking.k8s.io/v1"},
};
#define N_KINDS (sizeof(kinds) / sizeof(kinds[0]))

struct bl_kube_source {
	struct bl_agent *a;
	struct bl_kube_config cfg;
	struct bl_kube_client *c;
	struct bl_informer *inf[N_KINDS];
	void (*changed)(struct bl_agent *);
};

static void on_changed(void *arg)
{
	struct bl_kube_source *k = arg;

	k->changed(k->a);
}

struct bl_kube_source *bl_kube_source_new(struct bl_agent *a, const char *kubeconfig,
					  const char *context, void (*changed)(struct bl_agent *))
{
	struct bl_kube_source *k = calloc(1, sizeof(*k));
	const char *sa_dir = getenv("BPFLET_SERVICEACCOUNT_DIR");
	char err[512];
	int rc;

	if (!k)
		return NULL;
	k->a = a;
	k->changed = changed;
	rc = kubeconfig ? bl_kubeconfig_load(kubeconfig, context, &k->cfg, err, sizeof(err))
			: bl_kube_in_cluster(sa_dir, &k->cfg, err, sizeof(err));
	if (rc) {
		log_err("%s", err);
		free(k);
		return NULL;
	}
	log_info("kube: API server %s (%s)", k->cfg.server,
		 kubeconfig ? "kubeconfig" : "in-cluster service account");
	k->c = bl_kube_client_new(a->base, &k->cfg);
	if (!k->c) {
		bl_kube_source_free(k);
		return NULL;
	}
	for (size_t i = 0; i < N_KINDS; i++) {
		k->inf[i] = bl_informer_new(a->base, k->c, kinds[i].path, kinds[i].kind,
					    kinds[i].api_version, on_changed, k);
		if (!k->inf[i]) {
			bl_kube_source_free(k);
			return NULL;
		}
	}
	return k;
}

void bl_kube_source_free(struct bl_kube_source *k)
{
	if (!k)
		return;
	/* the client first: no request may call back into a freed informer */
	bl_kube_client_free(k->c);
	for (size_t i = 0; i < N_KINDS; i++)
		bl_informer_free(k->inf[i]);
	bl_kube_config_free(&k->cfg);
	free(k);
}

bool bl_kube_source_synced(const struct bl_kube_source *k)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (!bl_informer_state(k->inf[i])->synced)
			return false;
	return true;
}

unsigned long bl_kube_source_generation(const struct bl_kube_source *k)
{
	unsigned long g = 0;

	for (size_t i = 0; i < N_KINDS; i++)
		g += bl_informer_state(k->inf[i])->generation;
	return g;
}

int bl_kube_source_objects(const struct bl_kube_source *k, json_t ***objs, size_t *n)
{
	size_t total = *n;
	json_t **o;

	for (size_t i = 0; i < N_KINDS; i++)
		total += json_object_size(bl_informer_state(k->inf[i])->cache);
	o = realloc(*objs, (total + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < N_KINDS; i++) {
		const char *key;
		json_t *v;

		json_object_foreach(bl_informer_state(k->inf[i])->cache, key, v) o[(*n)++] = v;
	}
	*objs = o;
	return 0;
}

void bl_kube_source_metrics(const struct bl_kube_source *k, struct evbuffer *b)
{
	static const struct {
		const char *name, *help;
		size_t off;
	} m[] = {
		{"bpflet_kube_watch_restarts_total", "Watches that ended and were started again.",
		 offsetof(struct bl_inf_state, restarts)},
		{"bpflet_kube_relists_total", "Full lists after 410 Gone or a failed list.",
		 offsetof(struct bl_inf_state, relists)},
		{"bpflet_kube_watch_events_total", "Watch events received (bookmarks included).",
		 offsetof(struct bl_inf_state, events)},
		{"bpflet_kube_bad_events_total", "Watch lines or list items that were skipped.",
		 offsetof(struct bl_inf_state, bad_events)},
	};

	for (size_t j = 0; j < sizeof(m) / sizeof(m[0]); j++) {
		evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s counter\n", m[j].name, m[j].help,
				    m[j].name);
		for (size_t i = 0; i < N_KINDS; i++) {
			const struct bl_inf_state *s = bl_informer_state(k->inf[i]);

			evbuffer_add_printf(b, "%s{resource=\"%s\"} %lu\n", m[j].name,
					    strrchr(kinds[i].path, '/') + 1,
					    *(const unsigned long *)((const char *)s + m[j].off));
		}
	}
}

struct bl_kube_client *bl_kube_source_client(const struct bl_kube_source *k)
{
	return k->c;
}
