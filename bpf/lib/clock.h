/* The conntrack clock: CLOCK_MONOTONIC_COARSE in ns, as bpf_ktime_get_coarse_ns() gives
 * it, for a fraction of the cost. */
#ifndef BPFLET_BPF_CLOCK_H
#define BPFLET_BPF_CLOCK_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

/* The coarse clock only moves on a tick, so one reading per jiffy is exact. The
 * helper call costs ~14 ns (calls are dear under retpolines and SRSO's safe RET);
 * bpf_jiffies64() is inlined by the verifier into a plain load. Shared by all CPUs:
 * a racing update can only leave the value one tick old, which the once-a-second
 * conntrack refresh does not notice. */
__u64 clock_jiffies;
__u64 clock_ns;

static __always_inline __u64 coarse_now(void)
{
	__u64 j = bpf_jiffies64();

	if (j != clock_jiffies) {
		clock_ns = bpf_ktime_get_coarse_ns();
		clock_jiffies = j;
	}
	return clock_ns;
}

#endif
