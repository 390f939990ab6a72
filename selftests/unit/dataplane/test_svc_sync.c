/* The Service syncer against in-memory maps: minimal writes, safe order, re-adoption. */
#include "agent/dataplane/svc_sync.h"

#include <bpflet/monitor_abi.h>

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An in-memory map: flat arrays of fixed-size keys/values, plenty for tests. */
#define FAKE_MAX 4096
struct fake_map {
	size_t ksz, vsz, n;
	unsigned char keys[FAKE_MAX][40];
	unsigned char vals[FAKE_MAX][128];
};

struct fake {
	struct fake_map m[BL_DP_MAP_MAX];
	unsigned updates, removes;
	int fail_after; /* fail the Nth write from now (1-based), 0 = never */
	/* the dataplane's view must stay consistent after every single write */
	unsigned inconsistent;
};

static struct fake F;

static long find(struct fake_map *m, const void *k)
{
	for (size_t i = 0; i < m->n; i++)
		if (!memcmp(m->keys[i], k, m->ksz))
			return (long)i;
	return -1;
}

static void *lookup(enum bl_dp_map map, const void *k)
{
	long i = find(&F.m[map], k);

	return i < 0 ? NULL : F.m[map].vals[i];
}

/* Every published frontend must reach an existing backend through each slot. */
static void check_consistent(void)
{
	struct fake_map *fe = &F.m[BL_DP_FE];

	for (size_t i = 0; i < fe->n; i++) {
		struct bpflet_fe_val *v = (void *)fe->vals[i];

		for (unsigned s = 0; s < v->count; s++) {
			struct bpflet_slot_key sk = {.svc_id = v->svc_id, .slot = s};
			uint32_t *id = lookup(BL_DP_SLOT, &sk);

			if (!id || !lookup(BL_DP_BE, id))
				F.inconsistent++;
		}
	}
}

static int f_update(void *ctx, enum bl_dp_map map, const void *k, const void *v)
{
	struct fake_map *m = &F.m[map];
	long i;

	(void)ctx;
	if (F.fail_after && --F.fail_after == 0)
		return -ENOSPC;
	i = find(m, k);
	if (i < 0) {
		if (m->n == FAKE_MAX)
			return -E2BIG;
		i = (long)m->n++;
		memcpy(m->keys[i], k, m->ksz);
	}
	memcpy(m->vals[i], v, m->vsz);
	F.updates++;
	check_consistent();
	return 0;
}

static int f_remove(void *ctx, enum bl_dp_map map, const void *k)
{
	struct fake_map *m = &F.m[map];
	long i = find(m, k);

	(void)ctx;
	if (i < 0)
		return -ENOENT;
	m->n--;
	memmove(m->keys[i], m->keys[m->n], sizeof(m->keys[0]));
	memmove(m->vals[i], m->vals[m->n], sizeof(m->vals[0]));
	F.removes++;
	check_consistent();
	return 0;
}

static const struct bl_map_writer W = {.update = f_update, .remove = f_remove};

static void fake_init(void)
{
	memset(&F, 0, sizeof(F));
	F.m[BL_DP_FE].ksz = sizeof(struct bpflet_fe_key);
	F.m[BL_DP_FE].vsz = sizeof(struct bpflet_fe_val);
	F.m[BL_DP_SLOT].ksz = sizeof(struct bpflet_slot_key);
	F.m[BL_DP_SLOT].vsz = sizeof(uint32_t);
	F.m[BL_DP_BE].ksz = sizeof(uint32_t);
	F.m[BL_DP_BE].vsz = sizeof(struct bpflet_backend);
	F.m[BL_DP_SVCNAME].ksz = sizeof(uint32_t);
	F.m[BL_DP_SVCNAME].vsz = sizeof(struct bpflet_svc_name);
}

TestSuite(svc_sync, .init = fake_init);

static struct bpflet_fe_key vip(const char *ip, int port, int proto)
{
	struct bpflet_fe_key k = {0};

	inet_pton(AF_INET, ip, &k.addr.addr[0]);
	k.port = htons((uint16_t)port);
	k.proto = (uint8_t)proto;
	k.family = BPFLET_AF_INET;
	k.scope = BPFLET_SCOPE_INTERNAL;
	return k;
}

static struct bpflet_backend be(int last_octet, int port)
{
	struct bpflet_backend b = {0};

	b.addr.addr[0] = htonl(0x0af40000u | (unsigned)last_octet); /* 10.244.0.x */
	b.port = htons((uint16_t)port);
	b.proto = IPPROTO_TCP;
	b.family = BPFLET_AF_INET;
	return b;
}

static struct bl_dp_frontend fe(struct bpflet_fe_key k, const struct bpflet_backend *b, size_t n)
{
	struct bl_dp_frontend f = {.key = k, .backends = b, .n_backends = n};

	snprintf(f.name, sizeof(f.name), "default/svc%u", ntohs(k.port));
	return f;
}

/* The backends a frontend reaches, as a bitmask of last octets. */
static unsigned long reach(struct bpflet_fe_key k)
{
	struct bpflet_fe_val *v = lookup(BL_DP_FE, &k);
	unsigned long mask = 0;

	if (!v)
		return 0;
	for (unsigned s = 0; s < v->count; s++) {
		struct bpflet_slot_key sk = {.svc_id = v->svc_id, .slot = s};
		uint32_t *id = lookup(BL_DP_SLOT, &sk);
		struct bpflet_backend *b = id ? lookup(BL_DP_BE, id) : NULL;

		cr_assert_not_null(b, "slot %u of svc %u dangles", s, v->svc_id);
		mask |= 1ul << (ntohl(b->addr.addr[0]) & 0xff);
	}
	return mask;
}

Test(svc_sync, creates_then_second_apply_writes_nothing)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[2] = {be(2, 8080), be(3, 8080)};
	struct bl_dp_frontend want = fe(vip("10.96.0.10", 80, IPPROTO_TCP), b, 2);
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	/* 2 backends + name + 2 slots + frontend */
	cr_assert_eq(st.updates, 6);
	cr_assert_eq(st.fe_added, 1);
	cr_assert_eq(reach(want.key), (1ul << 2) | (1ul << 3));
	cr_assert_eq(F.m[BL_DP_FE].n, 1);
	struct bpflet_svc_name *nm = lookup(
		BL_DP_SVCNAME, &((struct bpflet_fe_val *)lookup(BL_DP_FE, &want.key))->svc_id);
	cr_assert_str_eq(nm->name, "default/svc80");

	unsigned before = F.updates;

	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	cr_assert_eq(F.updates, before, "a no-op sync wrote %u entries", F.updates - before);
	cr_assert_eq(st.removes, 0);
	cr_assert_eq(F.inconsistent, 0);
	bl_svc_sync_free(s);
}

Test(svc_sync, removing_one_backend_touches_only_its_slot)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[4] = {be(2, 80), be(3, 80), be(4, 80), be(5, 80)};
	struct bpflet_backend less[3] = {be(2, 80), be(4, 80), be(5, 80)};
	struct bl_dp_frontend want = fe(vip("10.96.0.10", 80, IPPROTO_TCP), b, 4);
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	want.backends = less;
	want.n_backends = 3;
	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	/* slot of .3 takes .5 (1 write), count 4→3 (1 write); slot 3 and backend .3 go */
	cr_assert_eq(st.updates, 2, "updates %u", st.updates);
	cr_assert_eq(st.removes, 2, "removes %u", st.removes);
	cr_assert_eq(st.be_removed, 1);
	cr_assert_eq(reach(want.key), (1ul << 2) | (1ul << 4) | (1ul << 5));
	cr_assert_eq(F.m[BL_DP_BE].n, 3);
	cr_assert_eq(F.m[BL_DP_SLOT].n, 3);
	cr_assert_eq(F.inconsistent, 0);
	bl_svc_sync_free(s);
}

Test(svc_sync, shared_backend_survives_one_service_going)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[1] = {be(7, 80)};
	struct bl_dp_frontend two[2] = {fe(vip("10.96.0.10", 80, IPPROTO_TCP), b, 1),
					fe(vip("10.96.0.11", 80, IPPROTO_TCP), b, 1)};
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, two, 2, &W, &st), 0);
	cr_assert_eq(F.m[BL_DP_BE].n, 1, "one backend entry shared by two services");
	cr_assert_eq(bl_svc_sync_apply(s, two, 1, &W, &st), 0);
	cr_assert_eq(st.fe_removed, 1);
	cr_assert_eq(st.be_removed, 0);
	cr_assert_eq(F.m[BL_DP_FE].n, 1);
	cr_assert_eq(F.m[BL_DP_BE].n, 1);
	cr_assert_eq(F.m[BL_DP_SVCNAME].n, 1);
	cr_assert_eq(bl_svc_sync_apply(s, NULL, 0, &W, &st), 0);
	cr_assert_eq(F.m[BL_DP_FE].n + F.m[BL_DP_SLOT].n + F.m[BL_DP_BE].n + F.m[BL_DP_SVCNAME].n,
		     0, "everything removed");
	cr_assert_eq(F.inconsistent, 0);
	bl_svc_sync_free(s);
}

Test(svc_sync, zero_backends_publishes_count_zero)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[2] = {be(2, 80), be(3, 80)};
	struct bl_dp_frontend want = fe(vip("10.96.0.12", 53, IPPROTO_UDP), b, 2);
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	want.n_backends = 0;
	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	struct bpflet_fe_val *v = lookup(BL_DP_FE, &want.key);

	cr_assert_not_null(v, "frontend stays so the dataplane can reject");
	cr_assert_eq(v->count, 0);
	cr_assert_eq(F.m[BL_DP_SLOT].n, 0);
	cr_assert_eq(F.m[BL_DP_BE].n, 0);
	bl_svc_sync_free(s);
}

Test(svc_sync, readopted_mirror_writes_nothing)
{
	struct bl_svc_sync *s = bl_svc_sync_new(), *s2;
	struct bpflet_backend b[3] = {be(2, 80), be(3, 80), be(4, 80)};
	struct bl_dp_frontend want[2] = {fe(vip("10.96.0.10", 80, IPPROTO_TCP), b, 3),
					 fe(vip("10.96.0.10", 80, IPPROTO_UDP), b, 2)};
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, want, 2, &W, &st), 0);
	uint32_t id_tcp = bl_svc_sync_svc_id(s, &want[0].key);

	bl_svc_sync_free(s);
	/* a restarted agent reads the maps back */
	s2 = bl_svc_sync_new();
	for (size_t i = 0; i < F.m[BL_DP_BE].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_backend(s2, *(uint32_t *)F.m[BL_DP_BE].keys[i],
						       (void *)F.m[BL_DP_BE].vals[i]),
			     0);
	for (size_t i = 0; i < F.m[BL_DP_SLOT].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_slot(s2, (void *)F.m[BL_DP_SLOT].keys[i],
						    *(uint32_t *)F.m[BL_DP_SLOT].vals[i]),
			     0);
	for (size_t i = 0; i < F.m[BL_DP_FE].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_frontend(s2, (void *)F.m[BL_DP_FE].keys[i],
							(void *)F.m[BL_DP_FE].vals[i]),
			     0);
	cr_assert_eq(bl_svc_sync_adopt_done(s2, &W), 0);
	cr_assert_eq(bl_svc_sync_svc_id(s2, &want[0].key), id_tcp, "ids survive a restart");
	/* names are not adopted (inspection only), so they are rewritten once */
	unsigned before = F.updates;

	cr_assert_eq(bl_svc_sync_apply(s2, want, 2, &W, &st), 0);
	cr_assert_eq(F.updates - before, 2, "only the two names rewritten, got %u",
		     F.updates - before);
	cr_assert_eq(st.removes, 0);
	cr_assert_eq(reach(want[0].key), 0x1cul);
	bl_svc_sync_free(s2);
}

Test(svc_sync, failed_write_keeps_previous_state_then_recovers)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[2] = {be(2, 80), be(3, 80)};
	struct bpflet_backend nb[2] = {be(8, 80), be(9, 80)};
	struct bl_dp_frontend want = fe(vip("10.96.0.10", 80, IPPROTO_TCP), b, 2);
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	want.backends = nb;
	F.fail_after = 3; /* a full map mid-update */
	cr_assert_neq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	cr_assert_eq(st.errors, 1);
	cr_assert_eq(F.inconsistent, 0, "never a dangling slot, even half-way");
	cr_assert_eq(reach(want.key) & ~((1ul << 2) | (1ul << 3) | (1ul << 8) | (1ul << 9)), 0);
	cr_assert_eq(bl_svc_sync_apply(s, &want, 1, &W, &st), 0);
	cr_assert_eq(reach(want.key), (1ul << 8) | (1ul << 9));
	cr_assert_eq(F.m[BL_DP_BE].n, 2, "old backends collected");
	bl_svc_sync_free(s);
}

Test(svc_sync, orphan_slots_removed_on_adopt)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_slot_key k = {.svc_id = 99, .slot = 0};
	uint32_t id = 5;

	f_update(NULL, BL_DP_SLOT, &k, &id);
	cr_assert_eq(bl_svc_sync_adopt_slot(s, &k, id), 0);
	cr_assert_eq(bl_svc_sync_adopt_done(s, &W), 1);
	cr_assert_eq(F.m[BL_DP_SLOT].n, 0);
	bl_svc_sync_free(s);
}

/* Deltas: only the frontends named are touched, backends nobody uses go, and a full
 * apply of the same desired list afterwards finds nothing to write. */
Test(svc_sync, delta_apply_equals_full_apply)
{
	enum { N_FE = 12, N_BE = 20 };
	struct bl_svc_sync *s = bl_svc_sync_new();
	unsigned long want[N_FE] = {0}; /* bitmask of backend octets; 0: frontend absent */
	struct bpflet_backend bes[N_FE][N_BE];
	struct bl_dp_frontend d[N_FE], all[N_FE];
	struct bpflet_fe_key gone[N_FE];
	struct bl_sync_stats st;

	srandom(11);
	for (int round = 0; round < 400; round++) {
		size_t n = 0, n_gone = 0, n_all = 0;
		unsigned long used = 0;
		unsigned before_u, before_r;

		for (int edits = 1 + (int)(random() % 3); edits > 0; edits--) {
			int f = (int)(random() % N_FE);
			struct bpflet_fe_key k;
			char ip[32];

			snprintf(ip, sizeof(ip), "10.96.0.%d", f + 1);
			k = vip(ip, 80, IPPROTO_TCP);
			want[f] = random() % 4 ? ((unsigned long)random() & ((1ul << N_BE) - 2)) | 2
					       : 0;
			/* one entry per frontend even when edited twice this round */
			for (size_t j = 0; j < n; j++)
				if (!memcmp(&d[j].key, &k, sizeof(k)))
					d[j] = d[--n];
			for (size_t j = 0; j < n_gone; j++)
				if (!memcmp(&gone[j], &k, sizeof(k)))
					gone[j] = gone[--n_gone];
			if (!want[f]) {
				gone[n_gone++] = k;
				continue;
			}
			size_t nb = 0;

			for (int b = 1; b < N_BE; b++)
				if (want[f] >> b & 1)
					bes[f][nb++] = be(b, 8080);
			d[n++] = fe(k, bes[f], nb);
		}
		cr_assert_eq(bl_svc_sync_apply_delta(s, d, n, gone, n_gone, &W, &st), 0);
		cr_assert_eq(F.inconsistent, 0);
		for (int f = 0; f < N_FE; f++) {
			char ip[32];

			snprintf(ip, sizeof(ip), "10.96.0.%d", f + 1);
			cr_assert_eq(reach(vip(ip, 80, IPPROTO_TCP)), want[f], "round %d fe %d",
				     round, f);
			used |= want[f];
			if (want[f]) {
				size_t nb = 0;

				for (int b = 1; b < N_BE; b++)
					if (want[f] >> b & 1)
						bes[f][nb++] = be(b, 8080);
				all[n_all++] = fe(vip(ip, 80, IPPROTO_TCP), bes[f], nb);
			}
		}
		cr_assert_eq(F.m[BL_DP_FE].n, n_all);
		cr_assert_eq(F.m[BL_DP_BE].n, (size_t)__builtin_popcountl(used),
			     "round %d: unused backends left behind", round);
		before_u = F.updates;
		before_r = F.removes;
		if (round % 10 == 9) {
			cr_assert_eq(bl_svc_sync_apply(s, all, n_all, &W, &st), 0);
			cr_assert_eq(F.updates - before_u + F.removes - before_r, 0,
				     "round %d: the full apply found work the deltas left", round);
		}
	}
	bl_svc_sync_free(s);
}

/* Ids index the per-Service and per-backend counter arrays: past the last index they
 * wrap to the lowest free one instead of growing. */
Test(svc_sync, ids_wrap_below_the_counter_arrays)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b_old = be(2, 80), b_new = be(3, 80);
	struct bl_dp_frontend want[2] = {fe(vip("10.96.0.10", 80, IPPROTO_TCP), &b_old, 1),
					 fe(vip("10.96.0.11", 80, IPPROTO_TCP), &b_new, 1)};
	struct bpflet_fe_val old = {.svc_id = BPFLET_SVC_ID_LIMIT - 1, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = BPFLET_SVC_ID_LIMIT - 1, .slot = 0};
	uint32_t be_id = BPFLET_BE_ID_LIMIT - 1, *id;
	struct bl_sync_stats st;

	/* an earlier run left the highest ids in use */
	cr_assert_eq(f_update(NULL, BL_DP_BE, &be_id, &b_old), 0);
	cr_assert_eq(f_update(NULL, BL_DP_SLOT, &sk, &be_id), 0);
	cr_assert_eq(f_update(NULL, BL_DP_FE, &want[0].key, &old), 0);
	cr_assert_eq(bl_svc_sync_adopt_backend(s, be_id, &b_old), 0);
	cr_assert_eq(bl_svc_sync_adopt_slot(s, &sk, be_id), 0);
	cr_assert_eq(bl_svc_sync_adopt_frontend(s, &want[0].key, &old), 0);
	cr_assert_eq(bl_svc_sync_adopt_done(s, &W), 0);
	cr_assert_eq(bl_svc_sync_apply(s, want, 2, &W, &st), 0);
	cr_assert_eq(bl_svc_sync_svc_id(s, &want[0].key), BPFLET_SVC_ID_LIMIT - 1, "kept");
	cr_assert_eq(bl_svc_sync_svc_id(s, &want[1].key), 1, "the next svc id wrapped to 1");
	sk.svc_id = 1;
	id = lookup(BL_DP_SLOT, &sk);
	cr_assert(id && *id == 1, "the next backend id wrapped to 1 (got %u)", id ? *id : 0);
	bl_svc_sync_free(s);
}
