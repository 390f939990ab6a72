/* The Maglev generator: prime sizes, order independence, even shares, minimal
 * disruption; and the compiler's choice of algorithm (flag and annotation). */
#include "controlplane/compile/maglev.h"
#include "helpers.h"

#include <arpa/inet.h>
#include <bpflet/jhash.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static struct bpflet_backend mk(unsigned i)
{
	struct bpflet_backend b = {0};

	b.addr.addr[0] = htonl(0x0af40000u + i); /* 10.244.x.y */
	b.port = htons(8080);
	b.proto = IPPROTO_TCP;
	b.family = BPFLET_AF_INET;
	return b;
}

static uint32_t *build(const struct bpflet_backend *b, size_t n, uint32_t m)
{
	uint32_t *t = malloc(m * sizeof(*t));

	cr_assert_not_null(t);
	cr_assert_eq(bl_maglev_build(b, n, m, t), 0);
	return t;
}

Test(maglev, sizes_are_prime_and_grow_for_large_services)
{
	cr_assert(bl_maglev_is_prime(BPFLET_MAGLEV_M));
	cr_assert(bl_maglev_is_prime(BPFLET_MAGLEV_M_LARGE));
	cr_assert_not(bl_maglev_is_prime(16383));
	cr_assert_eq(bl_maglev_size(1), 16381);
	cr_assert_eq(bl_maglev_size(BPFLET_MAGLEV_LARGE_THRESHOLD), 16381);
	cr_assert_eq(bl_maglev_size(BPFLET_MAGLEV_LARGE_THRESHOLD + 1), 65521);
	cr_assert_geq(BPFLET_MAGLEV_LARGE_BLOCKS * BPFLET_MAGLEV_M, BPFLET_MAGLEV_M_LARGE);
}

Test(maglev, bad_input_is_refused)
{
	struct bpflet_backend b[2] = {mk(1), mk(2)};
	uint32_t t[4];

	cr_assert_eq(bl_maglev_build(b, 0, 3, t), -EINVAL);
	cr_assert_eq(bl_maglev_build(b, 2, 4, t), -EINVAL); /* not prime */
	cr_assert_eq(bl_maglev_build(b, 2, 1, t), -EINVAL); /* smaller than n */
}

Test(maglev, same_table_for_any_input_order)
{
	enum { N = 37 };
	struct bpflet_backend a[N], r[N];
	uint32_t *ta, *tr;

	for (unsigned i = 0; i < N; i++) {
		a[i] = mk(i + 1);
		r[N - 1 - i] = a[i];
	}
	/* also a shuffled order */
	for (unsigned i = 0; i < N; i += 2) {
		struct bpflet_backend x = r[i];

		r[i] = r[(i * 7) % N];
		r[(i * 7) % N] = x;
	}
	ta = build(a, N, BPFLET_MAGLEV_M);
	tr = build(r, N, BPFLET_MAGLEV_M);
	for (uint32_t s = 0; s < BPFLET_MAGLEV_M; s++)
		cr_assert(!memcmp(&a[ta[s]], &r[tr[s]], sizeof(a[0])), "slot %u differs", s);
	free(ta);
	free(tr);
}

Test(maglev, every_share_within_two_percent_of_even)
{
	static const size_t ns[] = {2, 3, 10, 100, 160};

	for (size_t k = 0; k < sizeof(ns) / sizeof(ns[0]); k++) {
		size_t n = ns[k];
		struct bpflet_backend *b = calloc(n, sizeof(*b));
		unsigned *cnt = calloc(n, sizeof(*cnt));
		uint32_t m = bl_maglev_size(n), *t;
		double even = (double)m / (double)n;

		for (size_t i = 0; i < n; i++)
			b[i] = mk((unsigned)i * 3 + 7);
		t = build(b, n, m);
		for (uint32_t s = 0; s < m; s++) {
			cr_assert_lt(t[s], n);
			cnt[t[s]]++;
		}
		for (size_t i = 0; i < n; i++)
			cr_assert(cnt[i] >= even * 0.98 - 1 && cnt[i] <= even * 1.02 + 1,
				  "n=%zu backend %zu has %u slots, even is %.1f", n, i, cnt[i],
				  even);
		free(t);
		free(b);
		free(cnt);
	}
}

/* Removing one of N: its slots must move, and few others may. */
Test(maglev, removing_one_of_n_moves_little_more_than_its_share)
{
	enum { N = 50 };
	struct bpflet_backend b[N], less[N - 1];
	uint32_t *t1, *t2, m = BPFLET_MAGLEV_M, own = 0, other = 0;

	for (unsigned i = 0; i < N; i++)
		b[i] = mk(i + 1);
	memcpy(less, b, 17 * sizeof(b[0])); /* drop b[17] */
	memcpy(less + 17, b + 18, (N - 18) * sizeof(b[0]));
	t1 = build(b, N, m);
	t2 = build(less, N - 1, m);
	for (uint32_t s = 0; s < m; s++) {
		if (t1[s] == 17)
			own++;
		else if (memcmp(&b[t1[s]], &less[t2[s]], sizeof(b[0])))
			other++;
	}
	cr_assert_gt(own, 0);
	/* the paper's measurements: a few percent of M at most on top of M/N */
	cr_assert_lt(other, m / 50, "%u slots of kept backends moved (own share %u)", other, own);
	cr_log_info("remove 1 of %d: %u own slots moved, %u others", N, own, other);
	free(t1);
	free(t2);
}

Test(maglev, flow_hash_is_lookup3_and_order_sensitive)
{
	/* lookup3's hashword of no words is the bare initial value */
	cr_assert_eq(bl_jhash_words(NULL, 0, 0), 0xdeadbeefu);
	uint32_t h1 = bl_flow_hash4(inet_addr("10.0.0.1"), inet_addr("10.96.0.10"), htons(1000),
				    htons(80), IPPROTO_TCP);
	uint32_t h2 = bl_flow_hash4(inet_addr("10.0.0.1"), inet_addr("10.96.0.10"), htons(1001),
				    htons(80), IPPROTO_TCP);
	uint32_t h3 = bl_flow_hash4(inet_addr("10.0.0.1"), inet_addr("10.96.0.10"), htons(1000),
				    htons(80), IPPROTO_UDP);

	cr_assert_neq(h1, h2);
	cr_assert_neq(h1, h3);
	cr_assert_eq(h1, bl_flow_hash4(inet_addr("10.0.0.1"), inet_addr("10.96.0.10"), htons(1000),
				       htons(80), IPPROTO_TCP));
}

static json_t *svc_json(const char *name, const char *vip, const char *annotation)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"%s\","
		 "\"namespace\":\"default\"%s%s%s},\"spec\":{\"clusterIP\":\"%s\",\"ports\":"
		 "[{\"port\":80,\"protocol\":\"TCP\"}]}}",
		 name, annotation ? ",\"annotations\":{\"" BL_ANNOTATION_LB_ALGORITHM "\":\"" : "",
		 annotation ? annotation : "", annotation ? "\"}" : "", vip);
	json_t *j = json_loads(buf, 0, NULL);

	cr_assert_not_null(j, "%s", buf);
	return j;
}

static uint16_t flags_of(const struct bl_svc_table *t, const char *vip)
{
	const struct bl_svc_frontend *fe = fe_get(t, vip, 80, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL);

	cr_assert_not_null(fe, "%s", vip);
	return fe->flags;
}

Test(maglev, algorithm_from_flag_and_annotation)
{
	json_t *objs[3] = {svc_json("plain", "10.96.0.1", NULL),
			   svc_json("mg", "10.96.0.2", "maglev"),
			   svc_json("rnd", "10.96.0.3", "random")};
	struct bl_compile_opts o = {0};
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_objects(objs, 3, &o, &t, &e), 0);
	cr_assert_eq(e.n, 0, "%s", e.n ? e.msgs[0] : "");
	cr_assert_eq(flags_of(&t, "10.96.0.1") & BPFLET_FE_F_MAGLEV, 0);
	cr_assert_neq(flags_of(&t, "10.96.0.2") & BPFLET_FE_F_MAGLEV, 0);
	cr_assert_eq(flags_of(&t, "10.96.0.3") & BPFLET_FE_F_MAGLEV, 0);
	bl_svc_table_free(&t);
	o.maglev = true; /* --lb-algorithm maglev: the annotation still wins */
	cr_assert_eq(bl_compile_objects(objs, 3, &o, &t, &e), 0);
	cr_assert_neq(flags_of(&t, "10.96.0.1") & BPFLET_FE_F_MAGLEV, 0);
	cr_assert_neq(flags_of(&t, "10.96.0.2") & BPFLET_FE_F_MAGLEV, 0);
	cr_assert_eq(flags_of(&t, "10.96.0.3") & BPFLET_FE_F_MAGLEV, 0);
	bl_svc_table_free(&t);
	for (int i = 0; i < 3; i++)
		json_decref(objs[i]);
	bl_errlist_free(&e);
}

Test(maglev, unknown_annotation_value_is_a_clear_error)
{
	json_t *obj = svc_json("bad", "10.96.0.4", "roundrobin");
	struct bl_svc_table t = {0};
	struct bl_errlist e;

	bl_errlist_init(&e);
	cr_assert_eq(bl_compile_objects(&obj, 1, NULL, &t, &e), 0);
	cr_assert_eq(t.n, 0);
	cr_assert_eq(e.n, 1);
	cr_assert(strstr(e.msgs[0], BL_ANNOTATION_LB_ALGORITHM), "%s", e.msgs[0]);
	cr_assert(strstr(e.msgs[0], "maglev"), "%s", e.msgs[0]);
	bl_svc_table_free(&t);
	json_decref(obj);
	bl_errlist_free(&e);
}
