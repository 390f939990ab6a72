#ifndef BPFLET_MON_FLAG_H
#define BPFLET_MON_FLAG_H

#include <stdint.h>

/* Clears bl_mon_v1's flag when its heartbeat is older than BPFLET_MON_STALE_NS at
 * now_ns (CLOCK_MONOTONIC_COARSE). Returns the dead monitor's pid (or 1) when it
 * cleared, 0 when nothing was stale, -errno on failure. */
int bl_mon_clear_stale(int mon_fd, uint64_t now_ns);

#endif
