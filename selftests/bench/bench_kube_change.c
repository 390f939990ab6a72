/* Change-to-map latency for make bench: an EndpointSlice patched at the API server, the
 * time until the agent's frontend map shows the new backend count.
 *   bench_kube_change URL PKI FE_MAP NSVC CHANGES [NETNS]
 * (NETNS: the pinned map is opened first, then the API is reached from that namespace)
 * Services svc-0..svc-NSVC-1 as bench_cp seed makes them (ClusterIP 10.96+i/8.., port
 * 80/TCP, 10 endpoints). Each change drops the last endpoint of one Service's slice or
 * puts it back. A watch of our own on the same server says when the event was
 * delivered, so the agent's own share (delivery -> map) is reported beside the total
 * (PATCH sent -> map). One "figure value unit" line per result. */
#include <bpf/bpf.h>
#include <bpflet/abi.h>
#include "selftests/bench/bench_http.h"
#include <curl/curl.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>
#include <jansson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define EPS	 10
#define MAX_SEEN 65536

static const char *base_url, *pki;
static struct {
	pthread_mutex_t mu;
	long rv[MAX_SEEN];
	double at[MAX_SEEN];
	size_t n;
} seen = {.mu = PTHREAD_MUTEX_INITIALIZER};
static atomic_bool stop_watch;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static CURL *handle(const char *path)
{
	return bench_handle(base_url, pki, path);
}

static long rv_of(json_t *obj)
{
	const char *rv = json_string_value(
		json_object_get(json_object_get(obj, "metadata"), "resourceVersion"));

	return rv ? atol(rv) : -1;
}

/* Watch lines: the arrival time of every resourceVersion. */
static size_t on_watch(char *p, size_t s, size_t n, void *arg)
{
	struct bench_body *b = arg;
	double t = now_ms();
	char *nl;

	if (!bench_collect(p, s, n, b))
		return 0;
	while ((nl = memchr(b->p, '\n', b->n))) {
		json_t *ev = json_loadb(b->p, nl - b->p, 0, NULL);
		long rv = ev ? rv_of(json_object_get(ev, "object")) : -1;

		if (rv > 0) {
			pthread_mutex_lock(&seen.mu);
			if (seen.n < MAX_SEEN) {
				seen.rv[seen.n] = rv;
				seen.at[seen.n++] = t;
			}
			pthread_mutex_unlock(&seen.mu);
		}
		json_decref(ev);
		b->n -= nl + 1 - b->p;
		memmove(b->p, nl + 1, b->n);
	}
	return atomic_load(&stop_watch) ? 0 : s * n;
}

static int progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
	(void)arg, (void)a, (void)b, (void)c, (void)d;
	return atomic_load(&stop_watch);
}

static void *watch_main(void *arg)
{
	char path[256];
	struct bench_body b = {0};
	CURL *c;

	snprintf(path, sizeof(path),
		 "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?watch=1&"
		 "resourceVersion=%ld",
		 *(long *)arg);
	c = handle(path);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_watch);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
	curl_easy_perform(c);
	curl_easy_cleanup(c);
	free(b.p);
	return NULL;
}

static double seen_at(long rv)
{
	double t = -1;

	pthread_mutex_lock(&seen.mu);
	for (size_t i = seen.n; i-- > 0;)
		if (seen.rv[i] == rv) {
			t = seen.at[i];
			break;
		}
	pthread_mutex_unlock(&seen.mu);
	return t;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void report(const char *what, double *v, int n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	printf("%s_p50 %.2f ms\n%s_p99 %.2f ms\n%s_max %.2f ms\n", what, v[n / 2], what,
	       v[(int)(n * 0.99)], what, v[n - 1]);
}

/* The slice's endpoints as a merge patch: the first `count` of svc i's. */
static char *patch_body(int i, int count)
{
	json_t *eps = json_array(), *p;
	char addr[32], *s;

	for (int e = 0; e < count; e++) {
		snprintf(addr, sizeof(addr), "10.244.%d.%d", (i * EPS + e) >> 8 & 255,
			 (i * EPS + e) & 255);
		json_array_append_new(eps, json_pack("{s:[s], s:{s:b}}", "addresses", addr,
						     "conditions", "ready", 1));
	}
	p = json_pack("{s:o}", "endpoints", eps);
	s = json_dumps(p, JSON_COMPACT);
	json_decref(p);
	return s;
}

static long list_rv(void)
{
	CURL *c = handle("/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?limit=1");
	struct bench_body b = {0};
	json_t *l;
	long rv = -1;

	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	if (curl_easy_perform(c) == CURLE_OK && b.p && (l = json_loads(b.p, 0, NULL))) {
		rv = rv_of(l);
		json_decref(l);
	}
	curl_easy_cleanup(c);
	free(b.p);
	return rv;
}

int main(int argc, char **argv)
{
	int fd, nsvc, changes, bad = 0, got = 0;
	double *total, *agent;
	unsigned char *count;
	struct curl_slist *hdrs;
	pthread_t th;
	long rv0;

	if (argc != 6 && argc != 7) {
		fprintf(stderr, "usage: bench_kube_change URL PKI FE_MAP NSVC CHANGES [NETNS]\n");
		return 2;
	}
	base_url = argv[1];
	pki = argv[2];
	nsvc = atoi(argv[4]);
	changes = atoi(argv[5]);
	fd = bpf_obj_get(argv[3]);
	total = calloc(changes, sizeof(*total));
	agent = calloc(changes, sizeof(*agent));
	count = malloc(nsvc);
	if (fd < 0 || nsvc <= 0 || changes <= 0 || !total || !agent || !count) {
		fprintf(stderr, "bench_kube_change: cannot open %s or bad arguments\n", argv[3]);
		return 1;
	}
	if (argc == 7) {
		int ns = open(argv[6], O_RDONLY | O_CLOEXEC);

		if (ns < 0 || setns(ns, CLONE_NEWNET)) {
			fprintf(stderr, "bench_kube_change: cannot enter %s\n", argv[6]);
			return 1;
		}
		close(ns);
	}
	memset(count, EPS, nsvc);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	rv0 = list_rv();
	if (rv0 < 0 || pthread_create(&th, NULL, watch_main, &rv0)) {
		fprintf(stderr, "bench_kube_change: cannot list or watch the slices\n");
		return 1;
	}
	hdrs = curl_slist_append(NULL, "Content-Type: application/merge-patch+json");
	for (int k = 0; k < changes; k++) {
		/* spread over the Services: a different frontend each time */
		int i = (int)((long)k * 7919 % nsvc), want = count[i] == EPS ? EPS - 1 : EPS;
		char path[256], *body = patch_body(i, want);
		struct bpflet_fe_key key = {.port = htons(80),
					    .proto = IPPROTO_TCP,
					    .family = BPFLET_AF_INET,
					    .scope = BPFLET_SCOPE_INTERNAL};
		struct bpflet_fe_val val;
		struct bench_body resp = {0};
		double t0, t_map = -1, t_watch;
		json_t *o;
		long code = 0, rv = -1;
		CURL *c;

		key.addr.addr[0] = htonl((10u << 24) | ((96u + (i >> 16)) << 16) | (i & 0xffff));
		snprintf(path, sizeof(path),
			 "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices/svc-%d", i);
		c = handle(path);
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, "PATCH");
		curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, bench_collect);
		curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
		t0 = now_ms();
		if (curl_easy_perform(c) == CURLE_OK)
			curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
		curl_easy_cleanup(c);
		free(body);
		if (code == 200 && resp.p && (o = json_loads(resp.p, 0, NULL))) {
			rv = rv_of(o);
			json_decref(o);
		}
		free(resp.p);
		/* polled every 20 us: fine enough, and leaves the CPUs to the agent */
		while (code == 200 && now_ms() - t0 < 5000) {
			struct timespec nap = {0, 20 * 1000};

			if (!bpf_map_lookup_elem(fd, &key, &val) && val.count == want) {
				t_map = now_ms();
				break;
			}
			nanosleep(&nap, NULL);
		}
		/* the watch may report a moment after the map (both woke on one write) */
		while ((t_watch = seen_at(rv)) < 0 && t_map >= 0 && now_ms() - t_map < 1000) {
			struct timespec nap = {0, 20 * 1000};

			nanosleep(&nap, NULL);
		}
		if (t_map < 0 || t_watch < 0) {
			if (bad++ < 3)
				fprintf(stderr,
					"bench_kube_change: change %d (svc-%d -> %d): HTTP %ld, "
					"map %s, watch %s\n",
					k, i, want, code, t_map < 0 ? "unchanged" : "ok",
					t_watch < 0 ? "silent" : "ok");
			continue;
		}
		count[i] = want;
		total[got] = t_map - t0;
		agent[got++] = t_map > t_watch ? t_map - t_watch : 0;
	}
	atomic_store(&stop_watch, true);
	pthread_join(th, NULL);
	if (got) {
		report("change_to_map", total, got);
		report("watch_delivery_to_map", agent, got);
	}
	printf("changes_applied %d of %d\n", got, changes);
	curl_slist_free_all(hdrs);
	return bad ? 1 : 0;
}
