#include "agent/dataplane/pol_migrate.h"
#include "agent/common/log.h"
#include "agent/common/maps_util.h"
#include "agent/common/paths.h"

#include <bpf/bpf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *const old_maps[] = {BPFLET_MAP_IPCACHE_V1, BPFLET_MAP_POLICY_V1,
				       BPFLET_MAP_POL_EP_V1};

/* An old map by name, if pinned with the expected sizes (negative: none or not ours). */
static int open_old(const char *instance, const char *name, __u32 ksz, __u32 vsz)
{
	return bl_pin_open_sized(instance, name, ksz, vsz, "layout-1 policy map");
}

/* The old tables as one compiled table; endpoints' classes from their rules. */
static int read_old(const char *instance, struct bl_pol_table *t)
{
	int ipc = open_old(instance, BPFLET_MAP_IPCACHE_V1, sizeof(struct bpflet_ipcache_key),
			   sizeof(struct bpflet_ipcache_val));
	int rules = open_old(instance, BPFLET_MAP_POLICY_V1, sizeof(struct bpflet_pol_key),
			     sizeof(struct bpflet_pol_val));
	int eps = open_old(instance, BPFLET_MAP_POL_EP_V1, sizeof(__be32),
			   sizeof(struct bpflet_pol_ep_v1));
	struct bl_pol_fds old = {
		.ipcache = ipc, .ipcache_host = -1, .rules = rules, .endpoints = eps, .names = -1};
	int err = 0;

	memset(t, 0, sizeof(*t));
	if (ipc >= 0 && rules >= 0 && eps >= 0)
		err = bl_pol_read_maps_v1(&old, t);
	else if (ipc >= 0 || rules >= 0 || eps >= 0)
		log_warn("layout-1 policy maps incomplete; not taken over");
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? ipc : i == 1 ? rules : eps;

		if (fd >= 0)
			close(fd);
	}
	return err;
}

long bl_pol_migrate(const char *instance, const struct bl_pol_fds *fds, bool last)
{
	struct bl_pol_table old, none = {0};
	struct bl_pol_sync_stats st;
	char path[256];
	int err;

	if (last) {
		for (size_t i = 0; i < sizeof(old_maps) / sizeof(old_maps[0]); i++)
			if (!bl_pin_path(path, sizeof(path), instance, old_maps[i]) &&
			    unlink(path) && errno != ENOENT)
				log_warn("removing %s: %s", path, strerror(errno));
		return 0;
	}
	err = read_old(instance, &old);
	if (err)
		return err;
	if (!old.n_rules && !old.n_ipcache && !old.n_endpoints)
		return 0;
	err = bl_pol_sync(fds, &none, &old, &st);
	bl_pol_table_free(&old);
	return err ? err : (long)st.writes;
}
