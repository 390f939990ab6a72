/* loadBalancerSourceRanges into bl_srcr_v1: the map made equal to the compiled list
 * with the fewest writes (entries are compared whole; an LPM lookup would not tell
 * an exact key from a covering one). */
#ifndef BPFLET_SRC_RANGES_H
#define BPFLET_SRC_RANGES_H

#include <bpflet/abi.h>
#include <stddef.h>

/* want: sorted by memcmp, unique (as the compiler gives them). Returns 0 or -errno;
 * *written / *removed count the changes made. */
int bl_src_ranges_sync(int fd, const struct bpflet_srcrange_key *want, size_t n, unsigned *written,
		       unsigned *removed);

#endif
