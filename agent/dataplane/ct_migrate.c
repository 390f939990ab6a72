#include "agent/dataplane/ct_migrate.h"
#include "agent/common/log.h"
#include "agent/common/maps_util.h"
#include "agent/common/paths.h"

#include <bpf/bpf.h>
#include <bpflet/abi.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

struct copy_state {
	int to_fd;
	long copied;
};

static int copy_entry(void *arg, const void *key, const void *val)
{
	struct copy_state *c = arg;
	struct bpflet_ct_val v;

	memset(&v, 0, sizeof(v));
	memcpy(&v, val, BPFLET_CT_VAL_V1_SIZE); /* layout 1 is layout 2's prefix */
	if (bpf_map_update_elem(c->to_fd, key, &v, BPF_NOEXIST) == 0)
		c->copied++;
	else if (errno != EEXIST)
		return -errno;
	return 0;
}

/* One v1 map into to_fd; its pin goes when `last`. */
static long migrate_one(const char *instance, const char *name, int to_fd, bool last)
{
	struct copy_state c = {.to_fd = to_fd};
	char path[256];
	int fd = bl_pin_open_sized(instance, name, sizeof(struct bpflet_ct_key),
				   BPFLET_CT_VAL_V1_SIZE, "layout-1 conntrack map");
	int err;

	if (fd == -ENOENT || fd == -EPROTO)
		return 0;
	if (fd < 0)
		return fd;
	err = bl_map_walk(fd, sizeof(struct bpflet_ct_key), BPFLET_CT_VAL_V1_SIZE, copy_entry, &c);
	close(fd);
	if (err)
		return err;
	if (last && !bl_pin_path(path, sizeof(path), instance, name) && unlink(path))
		log_warn("removing %s: %s", path, strerror(errno));
	return c.copied;
}

long bl_ct_migrate(const char *instance, int tcp_fd, int any_fd, bool last)
{
	long a = migrate_one(instance, BPFLET_MAP_CT_TCP_V1, tcp_fd, last), b;

	if (a < 0)
		return a;
	b = migrate_one(instance, BPFLET_MAP_CT_ANY_V1, any_fd, last);
	return b < 0 ? b : a + b;
}
