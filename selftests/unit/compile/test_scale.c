/* Size and robustness: 10k services compile; any truncation of a fixture is handled. */
#include "helpers.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_SVC 10000

static json_t *service(int i)
{
	char name[32], ip[32];

	snprintf(name, sizeof(name), "svc-%05d", i);
	snprintf(ip, sizeof(ip), "10.96.%d.%d", i / 250, i % 250 + 1);
	return json_pack("{s:s, s:s, s:{s:s, s:s}, s:{s:s, s:[{s:s, s:i, s:s}, {s:s, s:i, s:s}]}}",
			 "apiVersion", "v1", "kind", "Service", "metadata", "name", name,
			 "namespace", "bench", "spec", "clusterIP", ip, "ports", "name", "http",
			 "port", 80, "targetPort", "http", "name", "dns", "port", 53, "protocol",
			 "UDP");
}

/* Two slices per service: slice 0 has addresses +0 +1 +2, slice 1 has +0 (again) +3 +4;
 * the third endpoint of each is not ready. */
static json_t *slice(int i, int k)
{
	char name[40], svc[32], a[3][32];

	snprintf(name, sizeof(name), "svc-%05d-%d", i, k);
	snprintf(svc, sizeof(svc), "svc-%05d", i);
	for (int e = 0; e < 3; e++) {
		int x = i * 8 + (k && !e ? 0 : 2 * k + e);

		snprintf(a[e], sizeof(a[e]), "10.%d.%d.%d", 128 + (x >> 16), (x >> 8) & 255,
			 x & 255);
	}
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:s, s:i}, {s:s, s:i, s:s}],"
			 " s:[{s:[s]}, {s:[s]}, {s:[s], s:{s:b}}]}",
			 "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice", "metadata",
			 "name", name, "namespace", "bench", "labels", "kubernetes.io/service-name",
			 svc, "addressType", "IPv4", "ports", "name", "http", "port", 8080 + k,
			 "name", "dns", "port", 5353, "protocol", "UDP", "endpoints", "addresses",
			 a[0], "addresses", a[1], "addresses", a[2], "conditions", "ready", 0);
}

Test(scale, ten_thousand_services)
{
	size_t n = 3 * N_SVC;
	json_t **objs = calloc(n, sizeof(*objs));
	struct bl_svc_table t;
	struct bl_errlist e;
	size_t backends = 0;

	bl_errlist_init(&e);
	for (int i = 0; i < N_SVC; i++) {
		objs[3 * i] = slice(i, 1);
		objs[3 * i + 1] = service(N_SVC - 1 - i); /* input order is irrelevant */
		objs[3 * i + 2] = slice(i, 0);
		cr_assert(objs[3 * i] && objs[3 * i + 1] && objs[3 * i + 2]);
	}
	cr_assert_eq(bl_compile_objects(objs, n, NULL, &t, &e), 0);
	cr_assert_eq(e.n, 0, "%s", e.n ? e.msgs[0] : "");
	cr_assert_eq(t.n, 2 * N_SVC);
	for (size_t i = 0; i < t.n; i++) {
		backends += t.fe[i].n_backends;
		if (i)
			cr_assert_lt(bl_svc_fe_key_cmp(&t.fe[i - 1].key, &t.fe[i].key), 0);
	}
	/* ready: +0 +1 from slice 0, +0 +3 from slice 1. dns (5353 in both slices): +0 is a
	 * duplicate → 3; http (8080 vs 8081): +0:8080 and +0:8081 are two endpoints → 4 */
	cr_assert_eq(backends, 7 * N_SVC);
	{
		const struct bl_svc_frontend *fe =
			fe_get(&t, "10.96.39.250", 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);

		cr_assert(fe);
		cr_assert_str_eq(fe->name, "bench/svc-09999:http");
		cr_assert_eq(fe->n_backends, 4);
		/* svc 9999: base 79992 = 10.129.56.120 */
		cr_assert_eq(fe->backends[0].addr.addr[0], inet_addr("10.129.56.120"));
		cr_assert_eq(fe->backends[0].port, htons(8080));
		cr_assert_eq(fe->backends[1].addr.addr[0], inet_addr("10.129.56.120"));
		cr_assert_eq(fe->backends[1].port, htons(8081));
		cr_assert_eq(fe->backends[2].addr.addr[0], inet_addr("10.129.56.121"));
		cr_assert_eq(fe->backends[2].port, htons(8080));
		cr_assert_eq(fe->backends[3].addr.addr[0], inet_addr("10.129.56.123"));
		cr_assert_eq(fe->backends[3].port, htons(8081));
		fe = fe_get(&t, "10.96.39.250", 53, IPPROTO_UDP, BPFLET_SCOPE_INTERNAL);
		cr_assert_eq(fe->n_backends, 3, "10.129.56.120:5353 from both slices is one");
	}
	bl_svc_table_free(&t);
	bl_errlist_free(&e);
	for (size_t i = 0; i < n; i++)
		json_decref(objs[i]);
	free(objs);
}

/* Every prefix of every fixture parses or fails cleanly: no crash, no leak. */
Test(scale, truncated_fixtures_never_crash)
{
	const char *files[] = {"web.yaml", "conditions.yaml", "objects.json", "policy.yaml",
			       "scalars.yaml"};

	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		char *buf = fixture_read(files[f], &len);

		for (size_t cut = 0; cut <= len; cut += 7) {
			struct bl_errlist e;
			struct bl_svc_table t;
			json_t *objs;

			bl_errlist_init(&e);
			if (!bl_manifest_parse(files[f], buf, cut, &objs, &e)) {
				json_t **v = calloc(json_array_size(objs) + 1, sizeof(*v));

				for (size_t i = 0; i < json_array_size(objs); i++)
					v[i] = json_array_get(objs, i);
				cr_assert_eq(
					bl_compile_objects(v, json_array_size(objs), NULL, &t, &e),
					0);
				bl_svc_table_free(&t);
				free(v);
				json_decref(objs);
			} else {
				cr_assert_gt(e.n, 0, "%s cut at %zu: error without a message",
					     files[f], cut);
				cr_assert_null(objs);
			}
			bl_errlist_free(&e);
		}
		free(buf);
	}
}
