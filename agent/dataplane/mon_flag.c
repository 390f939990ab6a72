/* bl_mon_v1's flag left on by a monitor that died: the programs already ignore it once
 * its heartbeat is stale, but still call into their monitor hook on every packet
 * until someone clears it. */
#include "agent/dataplane/mon_flag.h"

#include <bpf/bpf.h>
#include <bpflet/monitor_abi.h>
#include <errno.h>

int bl_mon_clear_stale(int mon_fd, uint64_t now_ns)
{
	struct bpflet_mon_ctl c, off = {0};
	__u32 zero = 0;

	if (bpf_map_lookup_elem(mon_fd, &zero, &c))
		return -errno;
	if (!c.flags || now_ns <= c.heartbeat_ns + BPFLET_MON_STALE_NS)
		return 0;
	/* a monitor that wakes up after this writes its flag back with its heartbeat */
	if (bpf_map_update_elem(mon_fd, &zero, &off, BPF_ANY))
		return -errno;
	return c.pid ? (int)c.pid : 1;
}
