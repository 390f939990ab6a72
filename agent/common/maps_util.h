/* Small helpers over pinned maps shared by the agent and bpfletctl. */
#ifndef BPFLET_MAPS_UTIL_H
#define BPFLET_MAPS_UTIL_H

#include <bpflet/abi.h>
#include <stddef.h>

/* Calls fn for every entry of a hash map (keys up to 128 bytes, values up to 512);
 * stops at the first non-zero return and returns it, 0 when all were seen. */
int bl_map_walk(int fd, size_t ksz, size_t vsz,
		int (*fn)(void *arg, const void *key, const void *val), void *arg);

/* Deletes every entry (keys up to 128 bytes); returns how many went. */
long bl_map_clear(int fd);

/* Entries in a map, by walking its keys. */
long bl_map_count(int fd);

/* The map pinned as name under instance, when its key and value sizes are ksz and vsz
 * (an older layout being taken over). -ENOENT: not pinned; -EPROTO: pinned with other
 * sizes (a warning names it as `what` and it is left alone); else -errno. */
int bl_pin_open_sized(const char *instance, const char *name, __u32 ksz, __u32 vsz,
		      const char *what);

/* Metric/CLI name of a counter slot ("dnat_new", "drop_malformed", ...). */
const char *bl_counter_name(unsigned idx);

#endif
