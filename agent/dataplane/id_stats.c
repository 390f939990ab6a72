/* Removing a Service's or backend's entry retires its id; the id's per-Service or
 * per-backend counters are zeroed with it, so the id's next owner starts from zero. */
#include "agent/common/log.h"
#include "agent/dataplane/loader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/monitor_abi.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void zero_stats(int fd, const char *map, const void *id)
{
	int ncpu = libbpf_num_possible_cpus();
	void *zero;

	if (fd <= 0 || ncpu <= 0)
		return; /* a dataplane without the counter maps (tests) */
	zero = calloc((size_t)ncpu, sizeof(struct bpflet_counter_val));
	if (!zero || bpf_map_update_elem(fd, id, zero, BPF_ANY))
		log_warn("clearing the counters of id %u in %s failed: %s", *(const uint32_t *)id,
			 map, zero ? strerror(errno) : "out of memory");
	free(zero);
}

int bl_dp_delete(struct bl_dataplane *dp, enum bl_dp_map map, const void *key)
{
	if (bpf_map_delete_elem(dp->fds[map], key))
		return -errno;
	if (map == BL_DP_SVCNAME) /* written and removed with the frontend's svc_id */
		zero_stats(dp->svcst_fd, BPFLET_MAP_SVC_STATS, key);
	else if (map == BL_DP_BE)
		zero_stats(dp->best_fd, BPFLET_MAP_BE_STATS, key);
	return 0;
}
