#include "agent/dataplane/batch_writer.h"

#include "agent/common/clock.h"
#include "agent/common/fnv.h"
#include "agent/dataplane/loader.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* Key and value sizes of the syncer's maps (svc_sync.h documents the types). */
static const struct {
	size_t k, v;
} sizes[BL_DP_MAP_MAX] = {
	[BL_DP_FE] = {sizeof(struct bpflet_fe_key), sizeof(struct bpflet_fe_val)},
	[BL_DP_SLOT] = {sizeof(struct bpflet_slot_key), sizeof(uint32_t)},
	[BL_DP_BE] = {sizeof(uint32_t), sizeof(struct bpflet_backend)},
	[BL_DP_SVCNAME] = {sizeof(uint32_t), sizeof(struct bpflet_svc_name)},
	[BL_DP_MAGLEV] = {sizeof(uint32_t), sizeof(uint32_t)},
};

#define BATCH_MAX 8192 /* entries per map between flushes: ~1 MiB at most */

/* What a frontend points at goes out first. */
static const enum bl_dp_map order[] = {BL_DP_BE, BL_DP_SVCNAME, BL_DP_SLOT, BL_DP_MAGLEV, BL_DP_FE};

/* n entries of one map, sent by one thread. */
struct run {
	int fd;
	enum bl_dp_map m;
	const unsigned char *k, *v;
	size_t n;
	unsigned syscalls;
	int err;
};

static void *send_run(void *arg)
{
	struct run *r = arg;
	size_t done = 0;

	while (done < r->n) {
		__u32 count = (__u32)(r->n - done);
		LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
		int err = bpf_map_update_batch(r->fd, r->k + done * sizes[r->m].k,
					       r->v + done * sizes[r->m].v, &count, &opts);

		r->syscalls++;
		if (!err)
			break;
		/* count says how many went in; the one after failed: once more alone,
		 * which also covers kernels without batch support for this map */
		done += count;
		r->syscalls++;
		if (bpf_map_update_elem(r->fd, r->k + done * sizes[r->m].k,
					r->v + done * sizes[r->m].v, BPF_ANY)) {
			r->err = -errno;
			break;
		}
		done++;
	}
	return NULL;
}

/* Big buffers go out from two threads at once, split by key so that a key written
 * twice keeps its order (the kernel's hash maps lock per bucket): the first sync's
 * ~200k entries are most of its time after the compile. */
#define SPLIT_MIN 2048

static bool split(struct bl_batch_writer *b, enum bl_dp_map m, struct run r[2])
{
	struct bl_batch_buf *q = &b->buf[m];
	size_t ks = sizes[m].k, vs = sizes[m].v, n1 = 0, n2 = 0;
	struct bl_batch_half *t = &b->half;

	if (q->n * ks > t->kcap) {
		unsigned char *k = realloc(t->k, q->n * ks);

		if (!k)
			return false;
		t->k = k;
		t->kcap = q->n * ks;
	}
	if (q->n * vs > t->vcap) {
		unsigned char *v = realloc(t->v, q->n * vs);

		if (!v)
			return false;
		t->v = v;
		t->vcap = q->n * vs;
	}
	/* the second half moves out, the first closes up in place */
	for (size_t i = 0; i < q->n; i++) {
		const unsigned char *k = q->k + i * ks, *v = q->v + i * vs;

		if (bl_fnv1a32(k, ks) & 1) {
			memcpy(t->k + n2 * ks, k, ks);
			memcpy(t->v + n2 * vs, v, vs);
			n2++;
		} else {
			memmove(q->k + n1 * ks, k, ks);
			memmove(q->v + n1 * vs, v, vs);
			n1++;
		}
	}
	r[0].k = q->k;
	r[0].v = q->v;
	r[0].n = n1;
	r[1].k = t->k;
	r[1].v = t->v;
	r[1].n = n2;
	return true;
}

static int send_one(struct bl_batch_writer *b, enum bl_dp_map m)
{
	struct bl_batch_buf *q = &b->buf[m];
	struct run r[2] = {{.fd = b->dp->fds[m], .m = m, .k = q->k, .v = q->v, .n = q->n},
			   {.fd = b->dp->fds[m], .m = m}};
	double t0 = bl_mono_now();
	pthread_t th;
	bool halves = q->n >= SPLIT_MIN && split(b, m, r);
	bool two = halves && !pthread_create(&th, NULL, send_run, &r[1]);

	send_run(&r[0]);
	if (two)
		pthread_join(th, NULL);
	else if (halves && !r[0].err)
		send_run(&r[1]); /* no thread: the second half after the first */
	q->n = 0;
	b->syscalls += r[0].syscalls + r[1].syscalls;
	b->sys_ms += (bl_mono_now() - t0) * 1e3;
	return r[0].err ? r[0].err : r[1].err;
}

int bl_batch_flush(struct bl_batch_writer *b)
{
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]) && !b->err; i++)
		b->err = send_one(b, order[i]);
	if (b->err)
		for (int m = 0; m < BL_DP_MAP_MAX; m++)
			b->buf[m].n = 0;
	return b->err;
}

static int batch_update(void *ctx, enum bl_dp_map m, const void *key, const void *val)
{
	struct bl_batch_writer *b = ctx;
	struct bl_batch_buf *q = &b->buf[m];

	if (b->err)
		return b->err;
	/* bounded buffers: everything waiting goes out, in order, every BATCH_MAX */
	if (q->n == BATCH_MAX && bl_batch_flush(b))
		return b->err;
	if (q->n == q->cap) {
		size_t cap = q->cap ? q->cap * 2 : 1024;
		unsigned char *k = realloc(q->k, cap * sizes[m].k), *v;

		if (!k)
			return -ENOMEM;
		q->k = k;
		v = realloc(q->v, cap * sizes[m].v);
		if (!v)
			return -ENOMEM;
		q->v = v;
		q->cap = cap;
	}
	memcpy(q->k + q->n * sizes[m].k, key, sizes[m].k);
	memcpy(q->v + q->n * sizes[m].v, val, sizes[m].v);
	q->n++;
	return 0;
}

static int batch_remove(void *ctx, enum bl_dp_map m, const void *key)
{
	struct bl_batch_writer *b = ctx;

	/* what waits may be what this removal must follow (a frontend's new count
	 * before the slot past it goes) */
	if (bl_batch_flush(b))
		return b->err;
	b->syscalls++;
	return bl_dp_delete(b->dp, m, key);
}

static int batch_barrier(void *ctx)
{
	return bl_batch_flush(ctx);
}

struct bl_map_writer bl_batch_writer(struct bl_batch_writer *b, struct bl_dataplane *dp)
{
	memset(b, 0, sizeof(*b));
	b->dp = dp;
	return (struct bl_map_writer){
		.ctx = b, .update = batch_update, .remove = batch_remove, .flush = batch_barrier};
}

void bl_batch_free(struct bl_batch_writer *b)
{
	for (int m = 0; m < BL_DP_MAP_MAX; m++) {
		free(b->buf[m].k);
		free(b->buf[m].v);
	}
	free(b->half.k);
	free(b->half.v);
	memset(b, 0, sizeof(*b));
}
