#include "agent/dataplane/batch_writer.h"

#include "agent/dataplane/loader.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

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

static int send_one(struct bl_batch_writer *b, enum bl_dp_map m)
{
	struct bl_batch_buf *q = &b->buf[m];
	int fd = b->dp->fds[m];
	size_t done = 0;
	double t0 = now_ms();

	while (done < q->n) {
		__u32 count = (__u32)(q->n - done);
		LIBBPF_OPTS(bpf_map_batch_opts, opts, .elem_flags = BPF_ANY);
		int err = bpf_map_update_batch(fd, q->k + done * sizes[m].k,
					       q->v + done * sizes[m].v, &count, &opts);

		b->syscalls++;
		if (!err) {
			done = q->n;
			break;
		}
		/* count says how many went in; the one after failed: once more alone,
		 * which also covers kernels without batch support for this map */
		done += count;
		b->syscalls++;
		if (bpf_map_update_elem(fd, q->k + done * sizes[m].k, q->v + done * sizes[m].v,
					BPF_ANY)) {
			b->sys_ms += now_ms() - t0;
			return -errno;
		}
		done++;
	}
	q->n = 0;
	b->sys_ms += now_ms() - t0;
	return 0;
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
	memset(b, 0, sizeof(*b));
}
