/* The syncer's Maglev tables: the map holds exactly the generator's table, only changed
 * entries are written, blocks are allocated, resized and released safely. */
#include "agent/dataplane/svc_sync.h"
#include "controlplane/compile/maglev.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MG_ENTRIES (BPFLET_MAGLEV_BLOCKS * BPFLET_MAGLEV_M)
#define KV_MAX	   1024

/* Maglev map as an array; the others as small key/value lists. */
static struct {
	uint32_t mg[MG_ENTRIES];
	unsigned mg_writes;
	struct {
		size_t n;
		unsigned char k[KV_MAX][40], v[KV_MAX][128];
	} kv[BL_DP_MAP_MAX];
	size_t ksz[BL_DP_MAP_MAX], vsz[BL_DP_MAP_MAX];
} M;

static long kv_find(enum bl_dp_map m, const void *k)
{
	for (size_t i = 0; i < M.kv[m].n; i++)
		if (!memcmp(M.kv[m].k[i], k, M.ksz[m]))
			return (long)i;
	return -1;
}

static void *kv_get(enum bl_dp_map m, const void *k)
{
	long i = kv_find(m, k);

	return i < 0 ? NULL : M.kv[m].v[i];
}

static int w_update(void *ctx, enum bl_dp_map m, const void *k, const void *v)
{
	long i;

	(void)ctx;
	if (m == BL_DP_MAGLEV) {
		uint32_t idx = *(const uint32_t *)k;

		if (idx >= MG_ENTRIES)
			return -E2BIG;
		M.mg[idx] = *(const uint32_t *)v;
		M.mg_writes++;
		return 0;
	}
	i = kv_find(m, k);
	if (i < 0) {
		if (M.kv[m].n == KV_MAX)
			return -E2BIG;
		i = (long)M.kv[m].n++;
		memcpy(M.kv[m].k[i], k, M.ksz[m]);
	}
	memcpy(M.kv[m].v[i], v, M.vsz[m]);
	return 0;
}

static int w_remove(void *ctx, enum bl_dp_map m, const void *k)
{
	long i = kv_find(m, k);

	(void)ctx;
	if (m == BL_DP_MAGLEV)
		return -EINVAL; /* an array entry cannot be removed */
	if (i < 0)
		return -ENOENT;
	M.kv[m].n--;
	memmove(M.kv[m].k[i], M.kv[m].k[M.kv[m].n], sizeof(M.kv[m].k[0]));
	memmove(M.kv[m].v[i], M.kv[m].v[M.kv[m].n], sizeof(M.kv[m].v[0]));
	return 0;
}

static const struct bl_map_writer W = {.update = w_update, .remove = w_remove};

static void init(void)
{
	memset(&M, 0, sizeof(M));
	M.ksz[BL_DP_FE] = sizeof(struct bpflet_fe_key);
	M.vsz[BL_DP_FE] = sizeof(struct bpflet_fe_val);
	M.ksz[BL_DP_SLOT] = sizeof(struct bpflet_slot_key);
	M.vsz[BL_DP_SLOT] = sizeof(uint32_t);
	M.ksz[BL_DP_BE] = sizeof(uint32_t);
	M.vsz[BL_DP_BE] = sizeof(struct bpflet_backend);
	M.ksz[BL_DP_SVCNAME] = sizeof(uint32_t);
	M.vsz[BL_DP_SVCNAME] = sizeof(struct bpflet_svc_name);
}

TestSuite(maglev_sync, .init = init);

static struct bpflet_backend be(unsigned i)
{
	struct bpflet_backend b = {0};

	b.addr.addr[0] = htonl(0x0af40000u + i);
	b.port = htons(8080);
	b.proto = IPPROTO_TCP;
	b.family = BPFLET_AF_INET;
	return b;
}

static struct bl_dp_frontend mgfe(unsigned vip_last, const struct bpflet_backend *b, size_t n)
{
	struct bl_dp_frontend f = {.backends = b, .n_backends = n, .flags = BPFLET_FE_F_MAGLEV};

	f.key.addr.addr[0] = htonl(0x0a600000u + vip_last);
	f.key.port = htons(80);
	f.key.proto = IPPROTO_TCP;
	f.key.family = BPFLET_AF_INET;
	f.key.scope = BPFLET_SCOPE_INTERNAL;
	snprintf(f.name, sizeof(f.name), "default/mg%u", vip_last);
	return f;
}

/* The published table, resolved to backends, equals the generator's for the set. */
static void assert_table(const struct bl_dp_frontend *f)
{
	struct bpflet_fe_val *v = kv_get(BL_DP_FE, &f->key);
	uint32_t m = bl_maglev_size(f->n_backends), *t = malloc(m * sizeof(*t));

	cr_assert_not_null(v);
	cr_assert(v->flags & BPFLET_FE_F_MAGLEV);
	cr_assert_eq(!!(v->flags & BPFLET_FE_F_MAGLEV_LARGE), m == BPFLET_MAGLEV_M_LARGE);
	cr_assert_eq(v->maglev_base % BPFLET_MAGLEV_M, 0);
	cr_assert_eq(bl_maglev_build(f->backends, f->n_backends, m, t), 0);
	for (uint32_t i = 0; i < m; i++) {
		struct bpflet_backend *b = kv_get(BL_DP_BE, &M.mg[v->maglev_base + i]);

		cr_assert_not_null(b, "entry %u names no backend", i);
		cr_assert(!memcmp(b, &f->backends[t[i]], sizeof(*b)), "entry %u differs", i);
	}
	free(t);
}

Test(maglev_sync, writes_the_table_once_then_nothing)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[5] = {be(1), be(2), be(3), be(4), be(5)};
	struct bl_dp_frontend f = mgfe(1, b, 5);
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	cr_assert_eq(st.maglev_writes, BPFLET_MAGLEV_M);
	assert_table(&f);
	M.mg_writes = 0;
	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	cr_assert_eq(M.mg_writes, 0);
	cr_assert_eq(st.updates, 0);
	bl_svc_sync_free(s);
}

/* One of N removed: exactly the entries whose backend changed are written. */
Test(maglev_sync, one_backend_change_writes_only_changed_entries)
{
	enum { N = 20 };
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[N], less[N - 1];
	struct bl_dp_frontend f = mgfe(2, b, N), g;
	uint32_t *t1 = malloc(BPFLET_MAGLEV_M * 4), *t2 = malloc(BPFLET_MAGLEV_M * 4);
	unsigned changed = 0;
	struct bl_sync_stats st;

	for (unsigned i = 0; i < N; i++)
		b[i] = be(i + 10);
	memcpy(less, b, 5 * sizeof(b[0]));
	memcpy(less + 5, b + 6, (N - 6) * sizeof(b[0]));
	g = mgfe(2, less, N - 1);
	cr_assert_eq(bl_maglev_build(b, N, BPFLET_MAGLEV_M, t1), 0);
	cr_assert_eq(bl_maglev_build(less, N - 1, BPFLET_MAGLEV_M, t2), 0);
	for (uint32_t i = 0; i < BPFLET_MAGLEV_M; i++)
		changed += !!memcmp(&b[t1[i]], &less[t2[i]], sizeof(b[0]));
	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	M.mg_writes = 0;
	cr_assert_eq(bl_svc_sync_apply(s, &g, 1, &W, &st), 0);
	cr_assert_eq(M.mg_writes, changed, "wrote %u, %u changed", M.mg_writes, changed);
	cr_assert_eq(st.maglev_writes, changed);
	cr_assert_lt(changed, BPFLET_MAGLEV_M / N * 2, "%u changed", changed);
	assert_table(&g);
	/* the removed backend is gone from the backend map */
	cr_assert_eq(st.be_removed, 1);
	bl_svc_sync_free(s);
	free(t1);
	free(t2);
}

Test(maglev_sync, large_service_moves_to_four_blocks_and_frees_the_old_one)
{
	enum { N = BPFLET_MAGLEV_LARGE_THRESHOLD + 1 };
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend *b = calloc(N, sizeof(*b));
	struct bl_dp_frontend small, large, other;
	struct bpflet_fe_val *v;
	struct bl_sync_stats st;
	uint32_t base_small;

	for (unsigned i = 0; i < N; i++)
		b[i] = be(i + 1);
	cr_assert_eq(bl_svc_sync_set_maglev_blocks(s, 5), 0);
	small = mgfe(3, b, 3);
	cr_assert_eq(bl_svc_sync_apply(s, &small, 1, &W, &st), 0);
	base_small = ((struct bpflet_fe_val *)kv_get(BL_DP_FE, &small.key))->maglev_base;
	large = mgfe(3, b, N);
	cr_assert_eq(bl_svc_sync_apply(s, &large, 1, &W, &st), 0);
	cr_assert_eq(st.maglev_writes, BPFLET_MAGLEV_M_LARGE);
	assert_table(&large);
	v = kv_get(BL_DP_FE, &large.key);
	cr_assert_neq(v->maglev_base, base_small);
	/* 5 blocks: 4 for the large table; the small one's block is free again */
	other = mgfe(4, b, 2);
	struct bl_dp_frontend both[2] = {large, other};

	cr_assert_eq(bl_svc_sync_apply(s, both, 2, &W, &st), 0);
	cr_assert_eq(st.maglev_fallbacks, 0);
	assert_table(&other);
	cr_assert_eq(((struct bpflet_fe_val *)kv_get(BL_DP_FE, &other.key))->maglev_base,
		     base_small);
	bl_svc_sync_free(s);
	free(b);
}

Test(maglev_sync, no_table_space_falls_back_to_random_until_freed)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[2] = {be(1), be(2)};
	struct bl_dp_frontend two[2] = {mgfe(5, b, 2), mgfe(6, b, 2)};
	struct bpflet_fe_val *v;
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_set_maglev_blocks(s, 1), 0);
	cr_assert_eq(bl_svc_sync_apply(s, two, 2, &W, &st), 0);
	cr_assert_eq(st.maglev_fallbacks, 1);
	v = kv_get(BL_DP_FE, &two[1].key);
	cr_assert_eq(v->flags & BPFLET_FE_F_MAGLEV, 0, "no table: published without Maglev");
	cr_assert_eq(v->count, 2, "random slots still serve it");
	/* the first one switches to random: its block goes to the second */
	two[0].flags = 0;
	cr_assert_eq(bl_svc_sync_apply(s, two, 2, &W, &st), 0);
	cr_assert_eq(st.maglev_fallbacks, 0);
	cr_assert_eq(((struct bpflet_fe_val *)kv_get(BL_DP_FE, &two[0].key))->flags, 0);
	assert_table(&two[1]);
	bl_svc_sync_free(s);
}

Test(maglev_sync, readopted_table_is_rewritten_with_the_same_values)
{
	struct bl_svc_sync *s = bl_svc_sync_new(), *s2;
	struct bpflet_backend b[3] = {be(1), be(2), be(3)};
	struct bl_dp_frontend f = mgfe(7, b, 3);
	struct bl_sync_stats st;
	uint32_t *before = malloc(sizeof(M.mg));

	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	memcpy(before, M.mg, sizeof(M.mg));
	/* a restarted agent: adopt what the maps hold */
	s2 = bl_svc_sync_new();
	for (size_t i = 0; i < M.kv[BL_DP_BE].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_backend(s2, *(uint32_t *)M.kv[BL_DP_BE].k[i],
						       (void *)M.kv[BL_DP_BE].v[i]),
			     0);
	for (size_t i = 0; i < M.kv[BL_DP_FE].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_frontend(s2, (void *)M.kv[BL_DP_FE].k[i],
							(void *)M.kv[BL_DP_FE].v[i]),
			     0);
	for (size_t i = 0; i < M.kv[BL_DP_SLOT].n; i++)
		cr_assert_eq(bl_svc_sync_adopt_slot(s2, (void *)M.kv[BL_DP_SLOT].k[i],
						    *(uint32_t *)M.kv[BL_DP_SLOT].v[i]),
			     0);
	cr_assert_eq(bl_svc_sync_adopt_done(s2, &W), 0);
	cr_assert_eq(bl_svc_sync_apply(s2, &f, 1, &W, &st), 0);
	cr_assert(!memcmp(before, M.mg, sizeof(M.mg)), "values changed across a restart");
	cr_assert_eq(st.fe_changed, 0, "same block kept: the frontend was not rewritten");
	assert_table(&f);
	bl_svc_sync_free(s);
	bl_svc_sync_free(s2);
	free(before);
}

/* Two nodes whose syncers gave the backends different ids (other history) still
 * publish tables naming the same backend in every entry. */
Test(maglev_sync, two_nodes_with_different_ids_agree)
{
	struct bl_svc_sync *n1 = bl_svc_sync_new(), *n2 = bl_svc_sync_new();
	struct bpflet_backend b[6] = {be(1), be(2), be(3), be(4), be(5), be(6)};
	struct bpflet_backend rev[6] = {be(6), be(5), be(4), be(3), be(2), be(1)};
	struct bpflet_backend other[3] = {be(90), be(91), be(92)};
	struct bl_dp_frontend f1 = mgfe(8, b, 6), f2 = mgfe(8, rev, 6), pre = mgfe(9, other, 3);
	uint32_t base;
	struct bpflet_backend *ids1 = calloc(BPFLET_MAGLEV_M, sizeof(*ids1));
	struct bl_sync_stats st;

	cr_assert_eq(bl_svc_sync_apply(n1, &f1, 1, &W, &st), 0);
	base = ((struct bpflet_fe_val *)kv_get(BL_DP_FE, &f1.key))->maglev_base;
	for (uint32_t i = 0; i < BPFLET_MAGLEV_M; i++)
		ids1[i] = *(struct bpflet_backend *)kv_get(BL_DP_BE, &M.mg[base + i]);
	/* node 2: fresh maps, other backends first so ids differ, input order reversed */
	init();
	cr_assert_eq(bl_svc_sync_apply(n2, &pre, 1, &W, &st), 0);
	struct bl_dp_frontend both[2] = {pre, f2};

	cr_assert_eq(bl_svc_sync_apply(n2, both, 2, &W, &st), 0);
	base = ((struct bpflet_fe_val *)kv_get(BL_DP_FE, &f2.key))->maglev_base;
	for (uint32_t i = 0; i < BPFLET_MAGLEV_M; i++) {
		struct bpflet_backend *x = kv_get(BL_DP_BE, &M.mg[base + i]);

		cr_assert_not_null(x);
		cr_assert(!memcmp(x, &ids1[i], sizeof(*x)), "entry %u differs between nodes", i);
	}
	bl_svc_sync_free(n1);
	bl_svc_sync_free(n2);
	free(ids1);
}

static int collect(void *arg, uint32_t svc_id, uint32_t backend_id)
{
	uint64_t *pairs = arg;

	for (int i = 0; i < 8; i++)
		if (!pairs[i]) {
			pairs[i] = (uint64_t)svc_id << 32 | backend_id;
			return 0;
		}
	return -E2BIG;
}

/* The membership the conntrack purge relies on: exactly the published backends. */
Test(maglev_sync, members_are_the_published_backends)
{
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bpflet_backend b[3] = {be(1), be(2), be(3)}, less[2] = {be(1), be(3)};
	struct bl_dp_frontend f = mgfe(10, b, 3);
	struct bl_sync_stats st;
	uint64_t pairs[8] = {0};
	uint32_t svc;
	int n = 0;

	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	f.backends = less;
	f.n_backends = 2;
	cr_assert_eq(bl_svc_sync_apply(s, &f, 1, &W, &st), 0);
	svc = ((struct bpflet_fe_val *)kv_get(BL_DP_FE, &f.key))->svc_id;
	cr_assert_eq(bl_svc_sync_for_each_member(s, collect, pairs), 0);
	for (int i = 0; i < 8 && pairs[i]; i++, n++) {
		uint32_t id = (uint32_t)pairs[i];
		struct bpflet_backend *x = kv_get(BL_DP_BE, &id);

		cr_assert_eq(pairs[i] >> 32, svc);
		cr_assert_not_null(x);
		cr_assert(!memcmp(x, &less[0], sizeof(*x)) || !memcmp(x, &less[1], sizeof(*x)),
			  "a removed backend is still a member");
	}
	cr_assert_eq(n, 2);
	bl_svc_sync_free(s);
}
