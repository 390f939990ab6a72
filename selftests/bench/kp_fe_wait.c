/*
 * kp_fe_wait: how long the bpflet agent takes from a manifest edit to the map entry
 * (kp_bench.sh's endpoint-change figure).
 *   kp_fe_wait FE_MAP VIP PORT COUNT [SRC DST]
 * With SRC and DST, renames SRC over DST (the edit, atomic as an editor's save) and
 * starts the clock; then polls the frontend VIP:PORT/TCP in the pinned frontend map
 * until it holds COUNT backends. Prints "applied_ms N"; exits 1 after 20 s without it.
 */
#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpflet/abi.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	struct bpflet_fe_key key = {
		.proto = IPPROTO_TCP, .family = BPFLET_AF_INET, .scope = BPFLET_SCOPE_INTERNAL};
	struct bpflet_fe_val val;
	struct timespec nap = {0, 20 * 1000}; /* fine enough, and leaves the CPUs to the agent */
	int fd, want;
	double t0;

	if (argc != 5 && argc != 7) {
		fprintf(stderr, "usage: kp_fe_wait FE_MAP VIP PORT COUNT [SRC DST]\n");
		return 2;
	}
	fd = bpf_obj_get(argv[1]);
	want = atoi(argv[4]);
	key.port = htons((uint16_t)atoi(argv[3]));
	if (fd < 0 || inet_pton(AF_INET, argv[2], &key.addr.addr[0]) != 1) {
		fprintf(stderr, "kp_fe_wait: cannot open the map %s or bad address %s\n", argv[1],
			argv[2]);
		return 2;
	}
	t0 = now_ms();
	if (argc == 7 && rename(argv[5], argv[6])) {
		perror("kp_fe_wait: rename");
		return 2;
	}
	while (now_ms() - t0 < 20000) {
		if (!bpf_map_lookup_elem(fd, &key, &val) && val.count == want) {
			printf("applied_ms %.3f\n", now_ms() - t0);
			return 0;
		}
		nanosleep(&nap, NULL);
	}
	fprintf(stderr, "kp_fe_wait: %s:%s never showed %d backends\n", argv[2], argv[3], want);
	return 1;
}
