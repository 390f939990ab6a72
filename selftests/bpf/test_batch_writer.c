/*
 * The batched map writer against the real maps: a first sync of 2000 Services (past one buffer of
 * 8192 slots) (some with Maglev tables), and a rebuild over them as after a relist, sent
 * through bl_batch_writer leave exactly what the one-entry-at-a-time writer leaves, in a
 * fraction of the syscalls, and no published frontend reads a Maglev block meanwhile
 * rewritten for another.
 */
#include "agent/dataplane/batch_writer.h"
#include "agent/dataplane/loader.h"
#include "agent/common/maps_util.h"
#include "selftests/bpf/harness.h"
#include "selftests/bpf/svc_lb_cases.h"
#include "tc_pod.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/svc_lb.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define N_FE	 2000
#define N_BE	 6
#define MG_CHECK (4u * BPFLET_MAGLEV_M)

static struct bl_dataplane dp;

static void open_maps(void)
{
	memset(&dp, 0, sizeof(dp));
	dp.fds[BL_DP_FE] = bpf_map__fd(svc_lb_skel->maps.bl_fe_v1);
	dp.fds[BL_DP_SLOT] = bpf_map__fd(svc_lb_skel->maps.bl_slot_v1);
	dp.fds[BL_DP_BE] = bpf_map__fd(svc_lb_skel->maps.bl_be_v1);
	dp.fds[BL_DP_SVCNAME] = bpf_map__fd(svc_lb_skel->maps.bl_svcname_v1);
	dp.fds[BL_DP_MAGLEV] = bpf_map__fd(svc_lb_skel->maps.bl_mg_v1);
	dp.svcst_fd = bpf_map__fd(svc_lb_skel->maps.bl_svcst_v1);
	dp.best_fd = bpf_map__fd(svc_lb_skel->maps.bl_best_v1);
}

static int one_update(void *ctx, enum bl_dp_map m, const void *k, const void *v)
{
	(void)ctx;
	return bpf_map_update_elem(dp.fds[m], k, v, BPF_ANY) ? -errno : 0;
}

static int one_remove(void *ctx, enum bl_dp_map m, const void *k)
{
	(void)ctx;
	return bpf_map_delete_elem(dp.fds[m], k) ? -errno : 0;
}

static struct bpflet_backend bes[N_FE][N_BE];
static struct bl_dp_frontend fes[N_FE];

static void desired(void)
{
	for (int i = 0; i < N_FE; i++) {
		struct bl_dp_frontend *f = &fes[i];

		memset(f, 0, sizeof(*f));
		f->key.addr.addr[0] = htonl(0x0a600000u | (unsigned)(i + 1));
		f->key.port = htons(80);
		f->key.proto = IPPROTO_TCP;
		f->key.family = BPFLET_AF_INET;
		f->key.scope = BPFLET_SCOPE_INTERNAL;
		snprintf(f->name, sizeof(f->name), "default/svc-%d", i);
		f->flags = i % 500 == 0 ? BPFLET_FE_F_MAGLEV : 0;
		for (int b = 0; b < N_BE; b++) {
			memset(&bes[i][b], 0, sizeof(bes[i][b]));
			/* every 10th Service shares its backends with the one before */
			int owner = i % 10 == 9 ? i - 1 : i;

			bes[i][b].addr.addr[0] = htonl(0x0af40000u | (unsigned)(owner * 8 + b));
			bes[i][b].port = htons(8080);
			bes[i][b].proto = IPPROTO_TCP;
			bes[i][b].family = BPFLET_AF_INET;
		}
		f->backends = bes[i];
		f->n_backends = N_BE - i % 3;
	}
}

/* A map's entries, sorted, for comparing two runs. */
struct dump {
	unsigned char *kv;
	size_t n, sz;
};

static int cmp_sz;
static int kv_cmp(const void *a, const void *b)
{
	return memcmp(a, b, (size_t)cmp_sz);
}

static struct dump dump_map(enum bl_dp_map m, size_t ksz, size_t vsz)
{
	struct dump d = {.sz = ksz + vsz};
	unsigned char key[64], next[64];
	void *prev = NULL;

	d.kv = malloc(200000 * d.sz);
	while (d.kv && !bpf_map_get_next_key(dp.fds[m], prev, next)) {
		memcpy(d.kv + d.n * d.sz, next, ksz);
		if (bpf_map_lookup_elem(dp.fds[m], next, d.kv + d.n * d.sz + ksz))
			break;
		d.n++;
		memcpy(key, next, ksz);
		prev = key;
	}
	cmp_sz = (int)d.sz;
	qsort(d.kv, d.n, d.sz, kv_cmp);
	return d;
}

static uint32_t *dump_maglev(void)
{
	uint32_t *mg = calloc(MG_CHECK, sizeof(*mg));

	for (uint32_t i = 0; mg && i < MG_CHECK; i++)
		bpf_map_lookup_elem(dp.fds[BL_DP_MAGLEV], &i, &mg[i]);
	return mg;
}

static void zero_maglev(void)
{
	uint32_t zero = 0;

	for (uint32_t i = 0; i < MG_CHECK; i++)
		bpf_map_update_elem(dp.fds[BL_DP_MAGLEV], &i, &zero, BPF_ANY);
}

static const struct {
	enum bl_dp_map m;
	size_t k, v;
} maps[] = {
	{BL_DP_FE, sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val)},
	{BL_DP_SLOT, sizeof(struct bpflet_slot_key), sizeof(uint32_t)},
	{BL_DP_BE, sizeof(uint32_t), sizeof(struct bpflet_backend)},
	{BL_DP_SVCNAME, sizeof(uint32_t), sizeof(struct bpflet_svc_name)},
};
#define N_MAPS (sizeof(maps) / sizeof(maps[0]))

static void clear_all(void)
{
	for (size_t i = 0; i < N_MAPS; i++)
		bl_map_clear(dp.fds[maps[i].m]);
	zero_maglev();
}

static void dump_all(struct dump *d, uint32_t **mg)
{
	for (size_t i = 0; i < N_MAPS; i++)
		d[i] = dump_map(maps[i].m, maps[i].k, maps[i].v);
	*mg = dump_maglev();
}

/* Two runs' maps are the same (and the dumps are freed). */
static void expect_same(struct dump *a, struct dump *b, uint32_t *mga, uint32_t *mgb)
{
	for (size_t i = 0; i < N_MAPS; i++) {
		EXPECT(a[i].n == b[i].n, "map %zu: %zu vs %zu entries", i, a[i].n, b[i].n);
		EXPECT(a[i].n == b[i].n && !memcmp(a[i].kv, b[i].kv, a[i].n * a[i].sz),
		       "map %zu: contents differ", i);
		free(a[i].kv);
		free(b[i].kv);
	}
	EXPECT(mga && mgb && !memcmp(mga, mgb, MG_CHECK * sizeof(*mga)), "Maglev tables differ");
	free(mga);
	free(mgb);
}

static void test_batched_first_sync_equals_one_by_one(void)
{
	struct bl_map_writer one = {.update = one_update, .remove = one_remove};
	struct bl_svc_sync *s1 = bl_svc_sync_new(), *s2 = bl_svc_sync_new();
	struct dump a[N_MAPS], b[N_MAPS];
	struct bl_batch_writer bw;
	struct bl_map_writer w;
	struct bl_sync_stats st;
	uint32_t *mga, *mgb;

	REQUIRE(s1 && s2, "syncers");
	open_maps();
	desired();
	clear_all();
	w = bl_batch_writer(&bw, &dp);
	EXPECT(bl_svc_sync_apply(s1, fes, N_FE, &w, &st) == 0, "batched apply");
	EXPECT(bl_batch_flush(&bw) == 0, "flush: %s", strerror(-bw.err));
	EXPECT(st.updates > 2000, "%u entries written", st.updates);
	EXPECT(bw.syscalls * 20 < st.updates, "%u syscalls for %u entries", bw.syscalls,
	       st.updates);
	dump_all(a, &mga);
	EXPECT(a[0].n == N_FE, "%zu frontends in the map", a[0].n);
	EXPECT(mga && mga[0] != 0, "the first Maglev table was written");
	bl_batch_free(&bw);

	clear_all();
	EXPECT(bl_svc_sync_apply(s2, fes, N_FE, &one, &st) == 0, "one-by-one apply");
	dump_all(b, &mgb);
	expect_same(a, b, mga, mgb);
	clear_all();
	bl_svc_sync_free(s1);
	bl_svc_sync_free(s2);
}

/* The desired state after a relist: every 7th Service gone, backend counts moved, some
 * Maglev tables dropped and others asked for (their blocks change hands). */
static void desired_later(void)
{
	desired();
	for (int i = 0; i < N_FE; i++) {
		fes[i].n_backends = 1 + (size_t)(i + 1) % N_BE;
		if (i % 500 == 0)
			fes[i].flags = 0;
		else if (i % 500 == 1)
			fes[i].flags = BPFLET_FE_F_MAGLEV;
	}
	for (int i = 0, j = 0; i < N_FE; i++)
		if (i % 7 != 3)
			fes[j++] = fes[i];
}
#define N_LATER (N_FE - (N_FE + 3) / 7)

/* A full apply over published maps (the rebuild after a relist) in batches leaves the
 * maps exactly as one-by-one writes do. */
static void test_batched_rebuild_equals_one_by_one(void)
{
	struct bl_map_writer one = {.update = one_update, .remove = one_remove};
	struct bl_svc_sync *s1 = bl_svc_sync_new(), *s2 = bl_svc_sync_new();
	struct dump a[N_MAPS], b[N_MAPS];
	struct bl_batch_writer bw;
	struct bl_map_writer w;
	struct bl_sync_stats st;
	uint32_t *mga, *mgb;

	REQUIRE(s1 && s2, "syncers");
	open_maps();
	clear_all();
	desired();
	EXPECT(bl_svc_sync_apply(s1, fes, N_FE, &one, &st) == 0, "first state");
	desired_later();
	w = bl_batch_writer(&bw, &dp);
	EXPECT(bl_svc_sync_apply(s1, fes, N_LATER, &w, &st) == 0, "batched rebuild");
	EXPECT(bl_batch_flush(&bw) == 0, "flush: %s", strerror(-bw.err));
	EXPECT(st.fe_removed == N_FE - N_LATER && st.fe_changed > 1000, "-%u ~%u frontends",
	       st.fe_removed, st.fe_changed);
	EXPECT(bw.syscalls * 2 < st.updates + st.removes, "%u syscalls for %u + %u entries",
	       bw.syscalls, st.updates, st.removes);
	dump_all(a, &mga);
	bl_batch_free(&bw);

	clear_all();
	desired();
	EXPECT(bl_svc_sync_apply(s2, fes, N_FE, &one, &st) == 0, "first state again");
	desired_later();
	EXPECT(bl_svc_sync_apply(s2, fes, N_LATER, &one, &st) == 0, "one-by-one rebuild");
	dump_all(b, &mgb);
	EXPECT(a[0].n == N_LATER, "%zu frontends", a[0].n);
	expect_same(a, b, mga, mgb);
	clear_all();
	bl_svc_sync_free(s1);
	bl_svc_sync_free(s2);
}

/* A Maglev entry held back for one frontend must not land in a block that a frontend
 * in the map still reads: the spy looks at the map when each entry is handed over. */
static struct bl_map_writer spied;
static int spy_bad;

static int spy_update(void *ctx, enum bl_dp_map m, const void *k, const void *v)
{
	if (m == BL_DP_MAGLEV) {
		uint32_t block = *(const uint32_t *)k / BPFLET_MAGLEV_M;
		struct bpflet_fe_key key, *prev = NULL;
		struct bpflet_fe_val val;

		while (!bpf_map_get_next_key(dp.fds[BL_DP_FE], prev, &key)) {
			if (!bpf_map_lookup_elem(dp.fds[BL_DP_FE], &key, &val) &&
			    (val.flags & BPFLET_FE_F_MAGLEV) &&
			    val.maglev_base / BPFLET_MAGLEV_M == block)
				spy_bad++;
			prev = &key;
		}
	}
	return spied.update(ctx, m, k, v);
}

static int spy_remove(void *ctx, enum bl_dp_map m, const void *k)
{
	return spied.remove(ctx, m, k);
}

static int spy_flush(void *ctx)
{
	return spied.flush(ctx);
}

static void test_reused_maglev_block_never_read_by_another(void)
{
	struct bl_map_writer one = {.update = one_update, .remove = one_remove}, w;
	struct bl_svc_sync *s = bl_svc_sync_new();
	struct bl_batch_writer bw;
	struct bl_sync_stats st;
	struct bpflet_fe_val v0, v1;

	REQUIRE(s, "syncer");
	open_maps();
	clear_all();
	desired();
	/* before: only 0 has a table; after: 0 has none, 1 takes the freed block */
	fes[1].flags = 0;
	EXPECT(bl_svc_sync_apply(s, fes, 2, &one, &st) == 0, "before");
	fes[0].flags = 0;
	fes[1].flags = BPFLET_FE_F_MAGLEV;
	spied = bl_batch_writer(&bw, &dp);
	w = (struct bl_map_writer){
		.ctx = &bw, .update = spy_update, .remove = spy_remove, .flush = spy_flush};
	spy_bad = 0;
	EXPECT(bl_svc_sync_apply(s, fes, 2, &w, &st) == 0, "after");
	EXPECT(bl_batch_flush(&bw) == 0, "flush");
	EXPECT(st.maglev_writes > 0, "1's table written");
	EXPECT(spy_bad == 0, "%d Maglev entries went to a block frontend 0 still read", spy_bad);
	EXPECT(!bpf_map_lookup_elem(dp.fds[BL_DP_FE], &fes[0].key, &v0) &&
		       !(v0.flags & BPFLET_FE_F_MAGLEV),
	       "0 without a table");
	EXPECT(!bpf_map_lookup_elem(dp.fds[BL_DP_FE], &fes[1].key, &v1) &&
		       (v1.flags & BPFLET_FE_F_MAGLEV),
	       "1 with one");
	bl_batch_free(&bw);
	clear_all();
	bl_svc_sync_free(s);
}

/* A removal waits for what was buffered before it: later writes keep their order. */
static void test_remove_flushes_first(void)
{
	struct bl_batch_writer bw;
	struct bl_map_writer w;
	struct bpflet_fe_key k = {.port = htons(81), .proto = IPPROTO_TCP, .family = 4};
	struct bpflet_fe_val v = {.svc_id = 77, .count = 0}, got;

	open_maps();
	clear_all();
	w = bl_batch_writer(&bw, &dp);
	EXPECT(w.update(w.ctx, BL_DP_FE, &k, &v) == 0, "buffered");
	EXPECT(bpf_map_lookup_elem(dp.fds[BL_DP_FE], &k, &got) != 0, "not written yet");
	EXPECT(w.remove(w.ctx, BL_DP_FE, &k) == 0, "the removal finds the flushed entry");
	EXPECT(bpf_map_lookup_elem(dp.fds[BL_DP_FE], &k, &got) != 0, "and removes it");
	EXPECT(bw.syscalls == 2, "%u syscalls", bw.syscalls);
	bl_batch_free(&bw);
}

/* A big buffer goes out from two threads, split by key: a backend written many times
 * in one buffer ends with its last value, every other one lands too. */
static void test_split_keeps_each_keys_order(void)
{
	struct bl_batch_writer bw;
	struct bl_map_writer w;
	struct bpflet_backend v = {.family = 4}, got;
	uint32_t id;
	int wrong = 0;

	open_maps();
	clear_all();
	w = bl_batch_writer(&bw, &dp);
	for (uint32_t i = 0; i < 6000; i++) {
		/* ids 1..3000 once each, id 5000 after every one of them */
		id = 1 + i / 2;
		v.port = htons((uint16_t)(i % 2 ? 9000 + i % 1000 : 80));
		v.addr.addr[0] = htonl(0x0a000000 | id);
		if (i % 2)
			id = 5000;
		EXPECT(w.update(w.ctx, BL_DP_BE, &id, &v) == 0, "buffered %u", i);
	}
	EXPECT(bl_batch_flush(&bw) == 0, "flushed");
	for (id = 1; id <= 3000; id++)
		if (bpf_map_lookup_elem(dp.fds[BL_DP_BE], &id, &got) || got.port != htons(80) ||
		    got.addr.addr[0] != htonl(0x0a000000 | id))
			wrong++;
	EXPECT(wrong == 0, "%d of 3000 backends missing or wrong", wrong);
	id = 5000;
	EXPECT(bpf_map_lookup_elem(dp.fds[BL_DP_BE], &id, &got) == 0 &&
		       got.port == htons(9000 + 5999 % 1000) &&
		       got.addr.addr[0] == htonl(0x0a000000 | 3000),
	       "the backend written 3000 times holds its last value (port %u)", ntohs(got.port));
	bl_batch_free(&bw);
	clear_all();
}

const struct test_case batch_cases[] = {
	{"batched writer: a big buffer split over two threads keeps each key's order",
	 test_split_keeps_each_keys_order},
	{"batched first sync: same maps as one-by-one writes, 20x fewer syscalls",
	 test_batched_first_sync_equals_one_by_one},
	{"batched writer: a removal flushes what waits before it", test_remove_flushes_first},
	{"batched rebuild over published maps (relist): same maps as one-by-one writes",
	 test_batched_rebuild_equals_one_by_one},
	{"batched rebuild: a Maglev block changing hands is never read by its old frontend",
	 test_reused_maglev_block_never_read_by_another},
};
const int batch_n_cases = sizeof(batch_cases) / sizeof(batch_cases[0]);
