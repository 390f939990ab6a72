#include "agent/common/maps_util.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int bl_pin_open_sized(const char *instance, const char *name, __u32 ksz, __u32 vsz,
		      const char *what)
{
	struct bpf_map_info info;
	__u32 len = sizeof(info);
	char path[256];
	int fd;

	if (bl_pin_path(path, sizeof(path), instance, name))
		return -ENAMETOOLONG;
	fd = bpf_obj_get(path);
	if (fd < 0)
		return -errno;
	memset(&info, 0, sizeof(info));
	if (bpf_map_get_info_by_fd(fd, &info, &len) || info.key_size != ksz ||
	    info.value_size != vsz) {
		log_warn("%s: not a %s (key %u, value %u bytes); left alone", path, what,
			 info.key_size, info.value_size);
		close(fd);
		return -EPROTO;
	}
	return fd;
}

int bl_map_walk(int fd, size_t ksz, size_t vsz,
		int (*fn)(void *arg, const void *key, const void *val), void *arg)
{
	char key[128], next[128], val[512];
	void *prev = NULL;
	int err = 0;

	if (ksz > sizeof(key) || vsz > sizeof(val))
		return -E2BIG;
	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, ksz);
		prev = key;
		if (bpf_map_lookup_elem(fd, key, val))
			continue; /* deleted meanwhile */
		err = fn(arg, key, val);
		if (err)
			break;
	}
	return err;
}

long bl_map_clear(int fd)
{
	/* keys gathered by one walk, then deleted: deleting while walking would lose the
	 * walk's place, and restarting from the first key each time scans every empty
	 * bucket again (quadratic on a big, sparse map) */
	enum { CHUNK = 4096, KEY_MAX = 128 };
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	char *keys, key[KEY_MAX];
	long n = 0;
	size_t got;

	if (bpf_map_get_info_by_fd(fd, &info, &len) || !info.key_size || info.key_size > KEY_MAX)
		return -EINVAL;
	keys = malloc((size_t)CHUNK * info.key_size);
	if (!keys)
		return -ENOMEM;
	do {
		void *prev = NULL;

		got = 0;
		while (got < CHUNK && !bpf_map_get_next_key(fd, prev, keys + got * info.key_size)) {
			memcpy(key, keys + got * info.key_size, info.key_size);
			prev = key;
			got++;
		}
		for (size_t i = 0; i < got; i++)
			if (!bpf_map_delete_elem(fd, keys + i * info.key_size))
				n++;
	} while (got == CHUNK);
	free(keys);
	return n;
}

long bl_map_count(int fd)
{
	char key[128], next[128];
	void *prev = NULL;
	long n = 0;

	while (bpf_map_get_next_key(fd, prev, next) == 0) {
		memcpy(key, next, sizeof(key));
		prev = key;
		n++;
	}
	return n;
}

static const char *const counter_names[BPFLET_CNT_MAX] = {
	[BPFLET_CNT_PASS] = "pass",
	[BPFLET_CNT_DNAT_NEW] = "dnat_new",
	[BPFLET_CNT_DNAT_EST] = "dnat_established",
	[BPFLET_CNT_RNAT] = "reverse_nat",
	[BPFLET_CNT_REJECT_TCP] = "reject_tcp_rst",
	[BPFLET_CNT_REJECT_UDP] = "reject_icmp_unreachable",
	[BPFLET_CNT_DROP_MALFORMED] = "drop_malformed",
	[BPFLET_CNT_DROP_NO_BACKEND] = "drop_no_backend",
	[BPFLET_CNT_DROP_CT_FULL] = "drop_conntrack_full",
	[BPFLET_CNT_DROP_REWRITE] = "drop_rewrite_failed",
	[BPFLET_CNT_DROP_REJECT_FAILED] = "drop_reject_failed",
	[BPFLET_CNT_FRAGMENT] = "fragment",
	[BPFLET_CNT_NON_IP] = "non_ip",
	[BPFLET_CNT_DROP_CT_INVALID] = "drop_ct_invalid",
	[BPFLET_CNT_DROP_NO_LOCAL] = "drop_no_local_endpoint",
	[BPFLET_CNT_ICMP_ERROR_NAT] = "icmp_error_translated",
	[BPFLET_CNT_FRAGMENT_NAT] = "fragment_translated",
	[BPFLET_CNT_XDP_LOCAL] = "xdp_to_local_pod",
	[BPFLET_CNT_XDP_TX] = "xdp_tx_remote",
	[BPFLET_CNT_DROP_NO_ROUTE] = "drop_no_route",
	[BPFLET_CNT_DROP_SRC_RANGE] = "drop_source_range",
	[BPFLET_CNT_DSR_IN] = "dsr_unwrapped",
	[BPFLET_CNT_DROP_POLICY] = "drop_policy",
	[BPFLET_CNT_POLICY_AUDIT] = "policy_audit",
	[BPFLET_CNT_DROP_CT_WINDOW] = "drop_ct_out_of_window",
	[BPFLET_CNT_DSR_FRAG_NEEDED] = "dsr_icmp_frag_needed",
	[BPFLET_CNT_DROP_DSR_TOO_BIG] = "drop_dsr_too_big",
	[BPFLET_CNT_FRAGMENT_HELD] = "fragment_held",
	[BPFLET_CNT_FRAGMENT_REPLAYED] = "fragment_replayed",
};

const char *bl_counter_name(unsigned idx)
{
	return idx < BPFLET_CNT_MAX && counter_names[idx] ? counter_names[idx] : "unknown";
}
