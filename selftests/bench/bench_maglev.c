/*
 * bench_maglev: Maglev table work for a 1000-backend Service (M = 65521): the
 * generator alone, and the syncer's apply after one backend leaves, with the number of
 * entries it wrote (only changed ones) against the table size. Medians of REPS runs;
 * the writer is in memory, so this is the agent's CPU cost, not syscalls.
 */
#include "agent/dataplane/svc_sync.h"
#include "controlplane/compile/maglev.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define N    1000
#define REPS 5

static uint32_t *mg; /* the Maglev map, as an array */

static int w_update(void *ctx, enum bl_dp_map m, const void *k, const void *v)
{
	(void)ctx;
	if (m == BL_DP_MAGLEV)
		mg[*(const uint32_t *)k] = *(const uint32_t *)v;
	return 0;
}

static int w_remove(void *ctx, enum bl_dp_map m, const void *k)
{
	(void)ctx;
	(void)m;
	(void)k;
	return 0;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	const struct bl_map_writer w = {.update = w_update, .remove = w_remove};
	struct bpflet_backend *b = calloc(N, sizeof(*b));
	uint32_t m = bl_maglev_size(N), *t = malloc(m * sizeof(*t));
	double gen[REPS], upd[REPS];
	unsigned writes = 0;
	FILE *out = argc == 3 && !strcmp(argv[1], "--json") ? fopen(argv[2], "w") : NULL;

	mg = calloc((size_t)BPFLET_MAGLEV_BLOCKS * BPFLET_MAGLEV_M, sizeof(*mg));
	if (!b || !t || !mg)
		return 1;
	for (unsigned i = 0; i < N; i++) {
		b[i].addr.addr[0] = htonl(0x0af40000u + i);
		b[i].port = htons(8080);
		b[i].proto = IPPROTO_TCP;
		b[i].family = BPFLET_AF_INET;
	}
	for (int r = 0; r < REPS; r++) {
		double t0 = now();

		if (bl_maglev_build(b, N, m, t))
			return 1;
		gen[r] = now() - t0;
	}
	for (int r = 0; r < REPS; r++) {
		struct bl_svc_sync *s = bl_svc_sync_new();
		struct bl_dp_frontend f = {
			.n_backends = N, .backends = b, .flags = BPFLET_FE_F_MAGLEV};
		struct bl_sync_stats st;
		double t0;

		f.key.addr.addr[0] = htonl(0x0a600001);
		f.key.port = htons(80);
		f.key.proto = IPPROTO_TCP;
		f.key.family = BPFLET_AF_INET;
		snprintf(f.name, sizeof(f.name), "default/big");
		if (!s || bl_svc_sync_apply(s, &f, 1, &w, &st))
			return 1;
		f.backends = b + 1; /* backend 0 leaves */
		f.n_backends = N - 1;
		t0 = now();
		if (bl_svc_sync_apply(s, &f, 1, &w, &st))
			return 1;
		upd[r] = now() - t0;
		writes = st.maglev_writes;
		bl_svc_sync_free(s);
	}
	qsort(gen, REPS, sizeof(gen[0]), cmp);
	qsort(upd, REPS, sizeof(upd[0]), cmp);
	printf("%-44s %12.2f ms\n", "Maglev table build, 1000 backends, M=65521",
	       gen[REPS / 2] * 1e3);
	printf("%-44s %12.2f ms\n", "sync after 1 of 1000 backends leaves", upd[REPS / 2] * 1e3);
	printf("%-44s %12u of %u (%.2f%%; ideal M/N = %u)\n", "  Maglev entries written", writes, m,
	       100.0 * writes / m, m / N);
	if (out) {
		fprintf(out,
			"{\"backends\": %d, \"m\": %u, \"build_ms\": %.3f, \"sync_one_change_ms\": "
			"%.3f, \"entries_written\": %u}\n",
			N, m, gen[REPS / 2] * 1e3, upd[REPS / 2] * 1e3, writes);
		fclose(out);
	}
	free(b);
	free(t);
	free(mg);
	return 0;
}
