/* Informers for the kinds the compiler reads, on one client. */
#include "agent/kube/kube_source.h"

#include "agent/common/log.h"
#include "agent/kube/informer.h"
#include "agent/kube/kube_client.h"
#include "agent/kube/kubeconfig.h"
#include "agent/kube/svc_index.h"
#include "agent/agent.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
enum { K_SERVICES, K_SLICES }; /* their places in kinds[] */

struct bl_kube_source {
	struct bl_agent *a;
	struct bl_kube_config cfg;
	struct bl_kube_client *c;
	struct bl_informer *inf[N_KINDS];
	struct bl_svc_index idx;
	double touched_at; /* when the first change not yet taken arrived; 0: none */
	/* last-change-trigger-time of slices changed since the last take */
	double triggers[256];
	size_t n_triggers;
	void (*changed)(struct bl_agent *);
};

#define TRIGGER_ANNOTATION "endpoints.kubernetes.io/last-change-trigger-time"

/* RFC 3339 as the API writes it ("2026-12-06T22:02:46Z", maybe with a fraction). */
static double parse_time(const char *s)
{
	struct tm tm = {0};
	const char *p = s ? strptime(s, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	double frac = 0;

	if (!p)
		return 0;
	if (*p == '.')
		frac = strtod(p, (char **)&p);
	if (*p != 'Z')
		return 0;
	return (double)timegm(&tm) + frac;
}

static void touched(struct bl_kube_source *k)
{
	if (!k->touched_at)
		k->touched_at = bl_now();
}

static void on_service(void *arg, const char *key, json_t *obj, json_t *stored)
{
	struct bl_kube_source *k = arg;

	(void)obj;
	(void)stored;
	touched(k);
	bl_svc_index_service(&k->idx, key);
}

static void on_slice(void *arg, const char *key, json_t *obj, json_t *stored)
{
	struct bl_kube_source *k = arg;

	double t = parse_time(json_string_value(
		json_object_get(json_object_get(json_object_get(obj, "metadata"), "annotations"),
				TRIGGER_ANNOTATION)));

	touched(k);
	if (t > 0 && k->n_triggers < sizeof(k->triggers) / sizeof(k->triggers[0]))
		k->triggers[k->n_triggers++] = t;
	if (key)
		bl_svc_index_slice(&k->idx, key, obj, stored);
	else
		bl_svc_index_slices_relisted(&k->idx, bl_informer_state(k->inf[K_SLICES])->cache);
}

static void on_slice_listed(void *arg, const char *key, json_t *obj, json_t *stored)
{
	bl_svc_index_slice_listed(&((struct bl_kube_source *)arg)->idx, key, obj, stored);
}

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
	bl_svc_index_init(&k->idx);
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
	/* the big kinds at scale: kept as text, parsed a Service at a time */
	bl_informer_compact(k->inf[K_SERVICES]);
	bl_informer_compact(k->inf[K_SLICES]);
	bl_informer_on_change(k->inf[K_SERVICES], on_service, k);
	bl_informer_on_change(k->inf[K_SLICES], on_slice, k);
	bl_informer_on_list_item(k->inf[K_SLICES], on_slice_listed);
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
	bl_svc_index_free(&k->idx);
	free(k);
}

bool bl_kube_source_synced(const struct bl_kube_source *k)
{
	for (size_t i = 0; i < N_KINDS; i++)
		if (!bl_informer_state(k->inf[i])->synced)
			return false;
	return true;
}

unsigned long bl_kube_source_other_generation(const struct bl_kube_source *k)
{
	unsigned long g = 0;

	for (size_t i = 0; i < N_KINDS; i++)
		if (i != K_SERVICES && i != K_SLICES)
			g += bl_informer_state(k->inf[i])->generation;
	return g;
}

json_t *bl_kube_source_take_touched(struct bl_kube_source *k, bool *all, double *since)
{
	*since = k->touched_at;
	k->touched_at = 0;
	return bl_svc_index_take(&k->idx, all);
}

size_t bl_kube_source_take_triggers(struct bl_kube_source *k, double *out, size_t max)
{
	size_t n = k->n_triggers < max ? k->n_triggers : max;

	memcpy(out, k->triggers, n * sizeof(*out));
	k->n_triggers = 0;
	return n;
}

json_t *bl_kube_source_service(const struct bl_kube_source *k, const char *key)
{
	return json_object_get(bl_informer_state(k->inf[K_SERVICES])->cache, key);
}

json_t *bl_kube_source_slices_of(const struct bl_kube_source *k, const char *key)
{
	return bl_svc_index_slices(&k->idx, key);
}

int bl_kube_source_objects(const struct bl_kube_source *k, json_t ***objs, size_t *n)
{
	size_t total = *n;
	json_t **o;

	for (size_t i = 0; i < N_KINDS; i++)
		if (i != K_SERVICES && i != K_SLICES)
			total += json_object_size(bl_informer_state(k->inf[i])->cache);
	o = realloc(*objs, (total + 1) * sizeof(*o));
	if (!o)
		return -ENOMEM;
	for (size_t i = 0; i < N_KINDS; i++) {
		const char *key;
		json_t *v;

		if (i == K_SERVICES || i == K_SLICES)
			continue;
		json_object_foreach(bl_informer_state(k->inf[i])->cache, key, v) o[(*n)++] = v;
	}
	*objs = o;
	return 0;
}

json_t *bl_kube_source_groups(const struct bl_kube_source *k)
{
	json_t *g = json_object(), *v;
	const char *key;

	json_object_foreach(bl_informer_state(k->inf[K_SERVICES])->cache, key, v)
		json_object_set_new(g, key, json_true());
	json_object_foreach(k->idx.slices, key, v) json_object_set_new(g, key, json_true());
	return g;
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
