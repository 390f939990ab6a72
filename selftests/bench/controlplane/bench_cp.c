/* Control-plane figures for make bench.
 *   bench_cp seed-netpol DB [NODE]  writes the NetworkPolicy benchmarks' namespaces, pods
 *                                   (bound to NODE) and policies (selftests/bench/
 *                                   np_objects.h) into DB
 *   bench_cp seed DB NSVC EPS [plain]  writes NSVC Services and as many EndpointSlices of
 *                                   EPS endpoints each into the SQLite store DB (a tmpfs path:
 *                                   seeding is not what is measured); "plain": Services
 *                                   without a selector, so the EndpointSlice controller
 *                                   leaves the seeded slices alone
 *   bench_cp http URL PKI [opts]    against a running server (client cert PKI/admin.*):
 *     --writes SECS                 sequential creates over one HTTP/2 connection: writes/s
 *     --watch N                     N watchers over HTTP/2; EVENTS creates, each one's delay
 *                                   from the write request to every watcher: p50/p99, and
 *                                   per event the first to last watcher (the fan-out)
 *     --events E                    (default 200)
 *     --list PATH                   GET PATH 5 times: median/max latency and item count
 *     --list-paged PATH             PATH in pages of 500 (limit/continue, as informers
 *                                   list) 5 times: median/max of the whole walk, pages
 * One "figure value unit" line per result. */
#include "controlplane/store/store.h"
#include "selftests/bench/bench_http.h"
#include "selftests/bench/np_objects.h"

#include <curl/curl.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int seed(const char *db, int nsvc, int eps, bool plain)
{
	struct bl_store *st;
	char key[256], *val;

	if (bl_sqlite_store_open(db, &st))
		return 1;
	for (int i = 0; i < nsvc; i++) {
		json_t *svc = json_pack(
			"{s:s, s:s, s:{s:s, s:s, s:s, s:s}, s:{s:s, s:[s], s:s, s:{s:s}, "
			"s:[{s:s, s:i, s:i}]}}",
			"apiVersion", "v1", "kind", "Service", "metadata", "name", "", "namespace",
			"default", "uid", "", "creationTimestamp", "2026-01-01T00:00:00Z", "spec",
			"clusterIP", "", "clusterIPs", "", "type", "ClusterIP", "selector", "app",
			"", "ports", "protocol", "TCP", "port", 80, "targetPort", 8080);
		json_t *sl, *eplist = json_array();
		char name[32], ip[32], uid[40];
		int rc;

		snprintf(name, sizeof(name), "svc-%d", i);
		snprintf(ip, sizeof(ip), "10.%d.%d.%d", 96 + (i >> 16), (i >> 8) & 255, i & 255);
		snprintf(uid, sizeof(uid), "00000000-0000-4000-8000-%012d", i);
		json_object_set_new(json_object_get(svc, "metadata"), "name", json_string(name));
		json_object_set_new(json_object_get(svc, "metadata"), "uid", json_string(uid));
		json_object_set_new(json_object_get(svc, "spec"), "clusterIP", json_string(ip));
		json_array_set_new(json_object_get(json_object_get(svc, "spec"), "clusterIPs"), 0,
				   json_string(ip));
		if (plain)
			json_object_del(json_object_get(svc, "spec"), "selector");
		else
			json_object_set_new(
				json_object_get(json_object_get(svc, "spec"), "selector"), "app",
				json_string(name));
		for (int e = 0; e < eps; e++) {
			char addr[32];

			snprintf(addr, sizeof(addr), "10.244.%d.%d", (i * eps + e) >> 8 & 255,
				 (i * eps + e) & 255);
			json_array_append_new(eplist, json_pack("{s:[s], s:{s:b}}", "addresses",
								addr, "conditions", "ready", 1));
		}
		sl = json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:o, s:[{s:s, s:i}]}",
			       "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice",
			       "metadata", "name", name, "namespace", "default", "labels",
			       "kubernetes.io/service-name", name, "addressType", "IPv4",
			       "endpoints", eplist, "ports", "protocol", "TCP", "port", 8080);
		snprintf(key, sizeof(key), "/registry/services/default/%s", name);
		val = json_dumps(svc, JSON_COMPACT);
		rc = bl_store_create(st, key, val, strlen(val), 0, NULL);
		free(val);
		snprintf(key, sizeof(key), "/registry/endpointslices/default/%s", name);
		val = json_dumps(sl, JSON_COMPACT);
		rc = rc ? rc : bl_store_create(st, key, val, strlen(val), 0, NULL);
		free(val);
		json_decref(svc);
		json_decref(sl);
		if (rc) {
			fprintf(stderr, "seed: %s\n", bl_store_strerror(rc));
			bl_store_close(st);
			return 1;
		}
	}
	bl_store_close(st);
	printf("seeded %d Services and %d endpoints\n", nsvc, nsvc * eps);
	return 0;
}

/* One object under its registry key, with the metadata the API server would add. */
static int put(struct bl_store *st, const char *resource, json_t *o, unsigned serial)
{
	json_t *md = json_object_get(o, "metadata");
	const char *ns = json_string_value(json_object_get(md, "namespace"));
	char key[256], uid[40], *val;
	int rc;

	snprintf(uid, sizeof(uid), "00000000-0000-4000-9000-%012u", serial);
	json_object_set_new(md, "uid", json_string(uid));
	json_object_set_new(md, "creationTimestamp", json_string("2026-01-01T00:00:00Z"));
	if (ns)
		snprintf(key, sizeof(key), "/registry/%s/%s/%s", resource, ns,
			 json_string_value(json_object_get(md, "name")));
	else
		snprintf(key, sizeof(key), "/registry/%s/%s", resource,
			 json_string_value(json_object_get(md, "name")));
	val = json_dumps(o, JSON_COMPACT);
	rc = val ? bl_store_create(st, key, val, strlen(val), 0, NULL) : -1;
	free(val);
	json_decref(o);
	return rc;
}

/* node: every pod's spec.nodeName, so the scheduler leaves them as they are */
static int seed_netpol(const char *db, const char *node)
{
	struct bl_store *st;
	unsigned serial = 0;
	int rc = 0;

	if (bl_sqlite_store_open(db, &st))
		return 1;
	for (unsigned i = 0; i < NP_NS && !rc; i++)
		rc = put(st, "namespaces", np_namespace(i), serial++);
	for (unsigned i = 0; i < NP_PODS && !rc; i++) {
		char app[16];

		json_t *pod;

		snprintf(app, sizeof(app), "app-%u", (i / NP_NS) % 10);
		pod = np_pod(i, app);
		if (node)
			json_object_set_new(json_object_get(pod, "spec"), "nodeName",
					    json_string(node));
		rc = put(st, "pods", pod, serial++);
	}
	for (unsigned i = 0; i < NP_POLICIES && !rc; i++)
		rc = put(st, "networkpolicies", np_policy(i), serial++);
	bl_store_close(st);
	if (rc) {
		fprintf(stderr, "seed-netpol: %s\n", bl_store_strerror(rc));
		return 1;
	}
	printf("seeded %d namespaces, %d pods, %d NetworkPolicies\n", NP_NS, NP_PODS, NP_POLICIES);
	return 0;
}

static const char *base_url, *pki;

static CURL *handle(const char *path, const char *post, struct curl_slist *hdrs)
{
	CURL *c = bench_handle(base_url, pki, path);

	curl_easy_setopt(c, CURLOPT_PIPEWAIT, 1L);
	if (post) {
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, post);
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	}
	return c;
}

static size_t sink(char *p, size_t s, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return s * n;
}

static struct curl_slist *json_hdr(void)
{
	return curl_slist_append(NULL, "Content-Type: application/json");
}

static int writes(double secs)
{
	struct curl_slist *h = json_hdr();
	CURL *c = handle("/api/v1/namespaces/default/configmaps", "{}", h);
	double t0 = now_ms(), t;
	int n = 0, bad = 0;
	char body[128];

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	while ((t = now_ms()) - t0 < secs * 1000) {
		long code = 0;
		CURLcode cc;

		snprintf(body, sizeof(body), "{\"metadata\":{\"name\":\"bw-%d-%d\"}}", (int)t0, n);
		curl_easy_setopt(c, CURLOPT_COPYPOSTFIELDS, body);
		cc = curl_easy_perform(c);
		if (cc == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		if (code != 201 && bad++ < 3)
			fprintf(stderr, "bench_cp: create %d answered %ld (%s)\n", n, code,
				curl_easy_strerror(cc));
		n++;
	}
	printf("writes_per_second %.0f (%d creates, %d failed)\n", n / ((t - t0) / 1000), n, bad);
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	return bad ? 1 : 0;
}

struct watcher {
	struct bench_body seen;
	double got; /* when the awaited name arrived; 0 until then */
	const char *want;
};

static size_t on_watch(char *p, size_t s, size_t n, void *arg)
{
	struct watcher *w = arg;

	bench_collect(p, s, n, &w->seen);
	if (!w->got && w->want && strstr(w->seen.p, w->want))
		w->got = now_ms();
	if (w->seen.n > 1 << 20)
		w->seen.n = 0; /* bounded: old events are not looked at again */
	return s * n;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static int watch_latency(int nw, int events)
{
	CURLM *m = curl_multi_init();
	struct watcher *w = calloc(nw, sizeof(*w));
	CURL **wh = calloc(nw, sizeof(*wh));
	double *lat = calloc((size_t)nw * events, sizeof(*lat));
	/* per event: first to last watcher, what the fan-out itself costs */
	double *spread = calloc((size_t)events, sizeof(*spread));
	size_t nspread = 0;
	struct curl_slist *h = json_hdr();
	size_t nlat = 0;
	int running, missed = 0;
	char path[256], want[64], post[128];
	long tag = (long)now_ms();

	curl_multi_setopt(m, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	curl_multi_setopt(m, CURLMOPT_MAX_CONCURRENT_STREAMS, 1000L);
	snprintf(path, sizeof(path),
		 "/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=120"
		 "&labelSelector=bench%%3Dw%ld",
		 tag);
	for (int i = 0; i < nw; i++) {
		wh[i] = handle(path, NULL, NULL);
		curl_easy_setopt(wh[i], CURLOPT_WRITEFUNCTION, on_watch);
		curl_easy_setopt(wh[i], CURLOPT_WRITEDATA, &w[i]);
		curl_multi_add_handle(m, wh[i]);
	}
	/* let every stream open before measuring */
	for (double t0 = now_ms(); now_ms() - t0 < 1500;) {
		curl_multi_perform(m, &running);
		curl_multi_poll(m, NULL, 0, 20, NULL);
	}
	/* event -1 warms up: the writer's own connection (the watches may fill the
	 * first one's stream limit) is not what is measured */
	for (int e = -1; e < events; e++) {
		CURL *c;
		double t0;
		int left = nw;

		snprintf(want, sizeof(want), "\"name\":\"bwl-%ld-%d\"", tag, e);
		snprintf(post, sizeof(post),
			 "{\"metadata\":{\"name\":\"bwl-%ld-%d\",\"labels\":{\"bench\":\"w%ld\"}}}",
			 tag, e, tag);
		for (int i = 0; i < nw; i++) {
			w[i].got = 0;
			w[i].want = want;
			w[i].seen.n = 0;
		}
		c = handle("/api/v1/namespaces/default/configmaps", post, h);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
		t0 = now_ms();
		curl_multi_add_handle(m, c);
		while (left && now_ms() - t0 < 5000) {
			curl_multi_perform(m, &running);
			left = 0;
			for (int i = 0; i < nw; i++)
				left += !w[i].got;
			if (left)
				curl_multi_poll(m, NULL, 0, 1, NULL);
		}
		for (double t1 = now_ms(); now_ms() - t1 < 2000;) {
			CURLMsg *msg;
			int q;
			bool done = false;

			curl_multi_perform(m, &running);
			while ((msg = curl_multi_info_read(m, &q)))
				if (msg->msg == CURLMSG_DONE && msg->easy_handle == c)
					done = true;
			if (done)
				break;
			curl_multi_poll(m, NULL, 0, 1, NULL);
		}
		curl_multi_remove_handle(m, c);
		curl_easy_cleanup(c);
		double first = 0, last = 0;

		for (int i = 0; i < nw && e >= 0; i++) {
			if (w[i].got) {
				lat[nlat++] = w[i].got - t0;
				first = !first || w[i].got < first ? w[i].got : first;
				last = w[i].got > last ? w[i].got : last;
			} else {
				missed++;
			}
		}
		if (e >= 0 && first)
			spread[nspread++] = last - first;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_d);
	if (nlat)
		printf("watch_latency_%d_watchers_ms p50 %.2f p99 %.2f max %.2f (%zu deliveries, "
		       "%d missed)\n",
		       nw, lat[nlat / 2], lat[nlat * 99 / 100], lat[nlat - 1], nlat, missed);
	qsort(spread, nspread, sizeof(*spread), cmp_d);
	if (nspread && nw > 1)
		printf("watch_fanout_spread_%d_watchers_ms p50 %.2f p99 %.2f max %.2f (first to "
		       "last "
		       "watcher, %zu events)\n",
		       nw, spread[nspread / 2], spread[nspread * 99 / 100], spread[nspread - 1],
		       nspread);
	for (int i = 0; i < nw; i++) {
		curl_multi_remove_handle(m, wh[i]);
		curl_easy_cleanup(wh[i]);
		free(w[i].seen.p);
	}
	curl_multi_cleanup(m);
	curl_slist_free_all(h);
	free(w);
	free(wh);
	free(lat);
	free(spread);
	return missed || !nlat ? 1 : 0;
}

/* GET base+path (+ "continue" when cont): the parsed body, NULL on failure; *ms
 * gets the time the request took (parsing the answer not counted). */
static json_t *get_json(const char *path, const char *cont, double *ms)
{
	struct bench_body b = {0};
	char full[4096];
	json_t *j;

	if (cont) {
		char *esc = curl_easy_escape(NULL, cont, 0);

		snprintf(full, sizeof(full), "%s&continue=%s", path, esc);
		curl_free(esc);
	} else {
		snprintf(full, sizeof(full), "%s", path);
	}
	/* one connection for every page, as an informer keeps it */
	static CURL *c;
	char url[4200];

	if (!c)
		c = handle(full, NULL, NULL);
	snprintf(url, sizeof(url), "%s%s", base_url, full);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	*ms = now_ms();
	curl_easy_perform(c);
	*ms = now_ms() - *ms;
	j = b.p ? json_loads(b.p, 0, NULL) : NULL;
	free(b.p);
	return j;
}

/* paged: limit=500 and every continue until the end, as one figure */
static int list_latency(const char *path, bool paged)
{
	double t[5];
	size_t items = 0, pages = 0;
	char first[2048];

	snprintf(first, sizeof(first), "%s%s", path, paged ? "?limit=500" : "");
	for (int i = 0; i < 5; i++) {
		char *cont = NULL;

		items = pages = 0;
		t[i] = 0;
		do {
			double ms;
			json_t *j = get_json(first, cont, &ms);
			const char *next = json_string_value(
				json_object_get(json_object_get(j, "metadata"), "continue"));

			free(cont);
			cont = next && next[0] ? strdup(next) : NULL;
			items += json_array_size(json_object_get(j, "items"));
			pages++;
			t[i] += ms;
			json_decref(j);
		} while (cont);
	}
	qsort(t, 5, sizeof(*t), cmp_d);
	if (paged)
		printf("list_paged_latency_ms median %.1f max %.1f (%zu items in %zu pages)\n",
		       t[2], t[4], items, pages);
	else
		printf("list_latency_ms median %.1f max %.1f (%zu items)\n", t[2], t[4], items);
	return items ? 0 : 1;
}

int main(int argc, char **argv)
{
	int rc = 0, events = 200;

	if ((argc == 3 || argc == 4) && !strcmp(argv[1], "seed-netpol"))
		return seed_netpol(argv[2], argc == 4 ? argv[3] : NULL);
	if ((argc == 5 || argc == 6) && !strcmp(argv[1], "seed"))
		return seed(argv[2], atoi(argv[3]), atoi(argv[4]),
			    argc == 6 && !strcmp(argv[5], "plain"));
	if (argc < 4 || strcmp(argv[1], "http")) {
		fprintf(stderr, "usage: bench_cp seed DB NSVC EPS [plain] | bench_cp http URL PKI "
				"[--writes SECS] [--events E] [--watch N]... [--list PATH] "
				"[--list-paged PATH]\n");
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	base_url = argv[2];
	pki = argv[3];
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--writes"))
			rc |= writes(atof(argv[i + 1]));
		else if (!strcmp(argv[i], "--events"))
			events = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--watch"))
			rc |= watch_latency(atoi(argv[i + 1]), events);
		else if (!strcmp(argv[i], "--list"))
			rc |= list_latency(argv[i + 1], false);
		else if (!strcmp(argv[i], "--list-paged"))
			rc |= list_latency(argv[i + 1], true);
	}
	curl_global_cleanup();
	return rc;
}
