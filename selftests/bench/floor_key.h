/* The 16-byte IPv4 conntrack key of the benchmark's floor program, shared by the
 * BPF side (pass.bpf.c) and the userspace that seeds it (bench_prog.c). */
#ifndef BPFLET_BENCH_FLOOR_KEY_H
#define BPFLET_BENCH_FLOOR_KEY_H

#include <linux/types.h>

struct floor_ct4_key {
	__be32 saddr, daddr;
	__be16 sport, dport;
	__u8 proto;
	__u8 pad[3];
};

#endif
