#include "agent/dataplane/loader.h"
#include "agent/dataplane/ct_migrate.h"
#include "agent/dataplane/pol_migrate.h"
#include "agent/common/log.h"
#include "agent/common/maps_util.h"
#include "agent/common/paths.h"
#include "tc_pod.skel.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

int bl_ensure_bpffs(void)
{
	struct statfs st;

	if (statfs("/sys/fs/bpf", &st) == 0 && st.f_type == BPF_FS_MAGIC)
		return 0;
	if (mkdir("/sys/fs/bpf", 0755) && errno != EEXIST)
		return -errno;
	if (mount("bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700")) {
		int err = -errno;

		log_err("mounting bpffs at /sys/fs/bpf failed: %s", strerror(errno));
		return err;
	}
	log_info("mounted bpffs at /sys/fs/bpf");
	return 0;
}

int bl_dp_pin_maps(struct bl_dataplane *dp, struct bpf_object *obj)
{
	struct bpf_map *map;
	char path[256];

	bpf_object__for_each_map(map, obj)
	{
		const char *name = bpf_map__name(map);

		/* .rodata/.bss stay private to one load */
		if (name[0] == '.' || strchr(name, '.'))
			continue;
		if (bl_pin_path(path, sizeof(path), dp->instance, name))
			return -ENAMETOOLONG;
		if (access(path, F_OK) == 0)
			dp->reused_maps = true;
		if (bpf_map__set_pin_path(map, path))
			return -errno;
	}
	return 0;
}

static uint32_t maglev_blocks = BPFLET_MAGLEV_BLOCKS;
static bool policy_audit, policy_allow_events;
static uint16_t dsr_mss;

void bl_dp_set_dsr_mss(uint16_t mss)
{
	dsr_mss = mss;
}

void bl_dp_set_policy_allow_events(bool on)
{
	policy_allow_events = on;
}

void bl_dp_set_policy_audit(bool audit)
{
	policy_audit = audit;
}

void bl_dp_set_maglev_blocks(uint32_t blocks)
{
	maglev_blocks = blocks;
}

uint32_t bl_dp_maglev_entries(void)
{
	return maglev_blocks * BPFLET_MAGLEV_M;
}

/* Policy maps of an older layout: copied before the new programs attach, so no pod
 * loses its isolation across the upgrade; the old pins go once every program moved. */
static void migrate_pol(struct bl_dataplane *dp, bool last)
{
	long n = bl_pol_migrate(dp->instance, &dp->pol, last);

	if (n < 0)
		log_warn("taking over layout-1 policy maps: %s", strerror((int)-n));
	else if (n > 0)
		log_info("took over %ld policy entries of layout 1", n);
}

/* Conntrack of an older layout: taken over, so no connection notices the upgrade. */
static void migrate_ct(struct bl_dataplane *dp, bool last)
{
	long n = bl_ct_migrate(dp->instance, dp->ct_tcp_fd, dp->ct_any_fd, last);

	if (n < 0)
		log_warn("taking over layout-1 conntrack entries: %s", strerror((int)-n));
	else if (n > 0)
		log_info("took over %ld conntrack entries of layout 1%s", n,
			 last ? " (opened during the switch); layout-1 maps removed" : "");
}

int bl_dp_open(struct bl_dataplane *dp, const char *instance, uint32_t hairpin_ip)
{
	char links[192];
	int err;

	memset(dp, 0, sizeof(*dp));
	snprintf(dp->instance, sizeof(dp->instance), "%s", instance);
	err = bl_ensure_bpffs();
	if (err)
		return err;
	bl_pin_dir(dp->pin_dir, sizeof(dp->pin_dir), instance);
	snprintf(links, sizeof(links), "%s/links", dp->pin_dir);
	err = bl_mkdir_p(links, 0700);
	if (err) {
		log_err("cannot create %s: %s", links, strerror(-err));
		return err;
	}
	dp->skel = tc_pod__open();
	if (!dp->skel) {
		err = -errno;
		log_err("opening the BPF object failed: %s", strerror(errno));
		return err;
	}
	dp->skel->rodata->hairpin_ip = hairpin_ip;
	dp->skel->rodata->policy_audit = policy_audit;
	dp->skel->rodata->dsr_mss = dsr_mss;
	dp->skel->rodata->policy_allow_events = policy_allow_events;
	err = bpf_map__set_max_entries(dp->skel->maps.bl_mg_v1, bl_dp_maglev_entries());
	if (!err)
		err = bl_dp_pin_maps(dp, dp->skel->obj);
	if (!err)
		err = tc_pod__load(dp->skel);
	if (err) {
		log_err("loading BPF programs failed: %s (a pinned map with an incompatible "
			"layout? run `bpflet --instance %s --cleanup`)",
			strerror(-err), instance);
		tc_pod__destroy(dp->skel);
		dp->skel = NULL;
		return err;
	}
	dp->fds[BL_DP_FE] = bpf_map__fd(dp->skel->maps.bl_fe_v1);
	dp->fds[BL_DP_SLOT] = bpf_map__fd(dp->skel->maps.bl_slot_v1);
	dp->fds[BL_DP_BE] = bpf_map__fd(dp->skel->maps.bl_be_v1);
	dp->fds[BL_DP_SVCNAME] = bpf_map__fd(dp->skel->maps.bl_svcname_v1);
	dp->fds[BL_DP_MAGLEV] = bpf_map__fd(dp->skel->maps.bl_mg_v1);
	dp->ct_tcp_fd = bpf_map__fd(dp->skel->maps.bl_ct_tcp_v2);
	dp->ct_any_fd = bpf_map__fd(dp->skel->maps.bl_ct_any_v2);
	dp->counters_fd = bpf_map__fd(dp->skel->maps.bl_cnt_v1);
	dp->aff_fd = bpf_map__fd(dp->skel->maps.bl_aff_v1);
	dp->frag_fd = bpf_map__fd(dp->skel->maps.bl_frag_v1);
	dp->srcr_fd = bpf_map__fd(dp->skel->maps.bl_srcr_v1);
	dp->pol.ipcache = bpf_map__fd(dp->skel->maps.bl_ipc_v2);
	dp->pol.ipcache_host = bpf_map__fd(dp->skel->maps.bl_ipch_v1);
	dp->pol.rules = bpf_map__fd(dp->skel->maps.bl_pol_v2);
	dp->pol.endpoints = bpf_map__fd(dp->skel->maps.bl_polep_v2);
	dp->pol.names = bpf_map__fd(dp->skel->maps.bl_polname_v1);
	dp->polct_fd = bpf_map__fd(dp->skel->maps.bl_polct_v1);
	dp->polcnt_fd = bpf_map__fd(dp->skel->maps.bl_polcnt_v1);
	dp->polev_fd = bpf_map__fd(dp->skel->maps.bl_polev_v1);
	dp->svcst_fd = bpf_map__fd(dp->skel->maps.bl_svcst_v1);
	dp->best_fd = bpf_map__fd(dp->skel->maps.bl_best_v1);
	dp->mon_fd = bpf_map__fd(dp->skel->maps.bl_mon_v1);
	log_info("BPF maps %s under %s", dp->reused_maps ? "re-adopted" : "created", dp->pin_dir);
	migrate_ct(dp, false);
	migrate_pol(dp, false);
	return 0;
}

void bl_dp_migrate_done(struct bl_dataplane *dp)
{
	migrate_ct(dp, true);
	migrate_pol(dp, true);
}

void bl_dp_close(struct bl_dataplane *dp)
{
	if (dp->skel)
		tc_pod__destroy(dp->skel);
	dp->skel = NULL;
}

static int link_pin_path(struct bl_dataplane *dp, const char *ifname, bool to_pod, char *buf,
			 size_t len)
{
	int n = snprintf(buf, len, "%s/links/%s%s", dp->pin_dir, ifname, to_pod ? ":to" : "");

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

/* An earlier agent's link: switch it to our program; stale (device gone) → unpin. */
static int readopt_link(struct bpf_program *prog, const char *path, int ifindex)
{
	struct bpf_link_info info = {0};
	__u32 len = sizeof(info);
	struct bpf_link *link = bpf_link__open(path);
	int err;

	if (!link)
		return -ENOENT;
	err = bpf_link_get_info_by_fd(bpf_link__fd(link), &info, &len);
	if (err || info.type != BPF_LINK_TYPE_TCX || (int)info.tcx.ifindex != ifindex) {
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return -ESTALE;
	}
	err = bpf_link__update_program(link, prog);
	bpf_link__disconnect(link); /* keep it attached when this handle goes */
	bpf_link__destroy(link);
	return err;
}

/* One of the pod's two programs (pinned as links/<ifname> and links/<ifname>:to; a
 * colon never occurs in an interface name and bpffs refuses dots): tc_pod on what the
 * pod sends (tc ingress of the host-side veth), tc_pod_to on what it receives (tc egress). */
static int attach_one(struct bl_dataplane *dp, const char *ifname, int ifindex, bool to_pod)
{
	struct bpf_program *prog = to_pod ? dp->skel->progs.tc_pod_to : dp->skel->progs.tc_pod;
	struct bpf_link *link;
	char path[256];
	int err;

	err = link_pin_path(dp, ifname, to_pod, path, sizeof(path));
	if (err)
		return err;
	if (access(path, F_OK) == 0) {
		err = readopt_link(prog, path, ifindex);
		if (!err)
			return 0;
		if (err != -ESTALE)
			log_warn("pinned link %s could not be re-used (%s); attaching anew", path,
				 strerror(-err));
		unlink(path);
	}
	link = bpf_program__attach_tcx(prog, ifindex, NULL);
	if (link) {
		err = bpf_link__pin(link, path);
		bpf_link__disconnect(link);
		bpf_link__destroy(link);
		if (err)
			log_err("pinning link %s failed: %s", path, strerror(-err));
		return err;
	}
	err = -errno;
	if (err != -EINVAL && err != -EOPNOTSUPP)
		return err;
	/* kernels without tcx: a clsact filter, which stays on the device by itself */
	LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
		    .attach_point = to_pod ? BPF_TC_EGRESS : BPF_TC_INGRESS);
	LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1, .flags = BPF_TC_F_REPLACE,
		    .prog_fd = bpf_program__fd(prog));
	err = bpf_tc_hook_create(&hook);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &opts);
}

int bl_dp_attach_pod(struct bl_dataplane *dp, const char *ifname, int ifindex)
{
	int err = attach_one(dp, ifname, ifindex, false);

	return err ? err : attach_one(dp, ifname, ifindex, true);
}

static void detach_one(struct bl_dataplane *dp, const char *ifname, int ifindex, bool to_pod)
{
	struct bpf_link *link;
	char path[256];

	if (link_pin_path(dp, ifname, to_pod, path, sizeof(path)))
		return;
	link = bpf_link__open(path);
	if (link) {
		bpf_link__detach(link);
		bpf_link__unpin(link);
		bpf_link__destroy(link);
		return;
	}
	if (ifindex > 0) {
		LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
			    .attach_point = to_pod ? BPF_TC_EGRESS : BPF_TC_INGRESS);
		LIBBPF_OPTS(bpf_tc_opts, opts, .handle = 1, .priority = 1);
		bpf_tc_detach(&hook, &opts);
	}
}

int bl_dp_detach_pod(struct bl_dataplane *dp, const char *ifname, int ifindex)
{
	char path[256];

	if (link_pin_path(dp, ifname, true, path, sizeof(path)))
		return -ENAMETOOLONG;
	detach_one(dp, ifname, ifindex, false);
	detach_one(dp, ifname, ifindex, true);
	return 0;
}

static int writer_update(void *ctx, enum bl_dp_map map, const void *key, const void *val)
{
	struct bl_dataplane *dp = ctx;

	return bpf_map_update_elem(dp->fds[map], key, val, BPF_ANY) ? -errno : 0;
}

static int writer_remove(void *ctx, enum bl_dp_map map, const void *key)
{
	return bl_dp_delete(ctx, map, key);
}

struct bl_map_writer bl_dp_writer(struct bl_dataplane *dp)
{
	return (struct bl_map_writer){.ctx = dp, .update = writer_update, .remove = writer_remove};
}

static int adopt_fe(void *s, const void *k, const void *v)
{
	int err = bl_svc_sync_adopt_frontend(s, k, v);

	return err == -EEXIST ? 0 : err;
}

static int adopt_slot(void *s, const void *k, const void *v)
{
	return bl_svc_sync_adopt_slot(s, k, *(const uint32_t *)v);
}

static int adopt_be(void *s, const void *k, const void *v)
{
	int err = bl_svc_sync_adopt_backend(s, *(const uint32_t *)k, v);

	return err == -EEXIST ? 0 : err;
}

int bl_dp_adopt(struct bl_dataplane *dp, struct bl_svc_sync *sync)
{
	struct bl_map_writer w = bl_dp_writer(dp);
	int err;

	err = bl_map_walk(dp->fds[BL_DP_BE], sizeof(uint32_t), sizeof(struct bpflet_backend),
			  adopt_be, sync);
	if (!err)
		err = bl_map_walk(dp->fds[BL_DP_FE], sizeof(struct bpflet_fe_key),
				  sizeof(struct bpflet_fe_val), adopt_fe, sync);
	if (!err)
		err = bl_map_walk(dp->fds[BL_DP_SLOT], sizeof(struct bpflet_slot_key),
				  sizeof(uint32_t), adopt_slot, sync);
	if (err)
		return err;
	err = bl_svc_sync_adopt_done(sync, &w);
	if (err < 0)
		return err;
	if (err > 0)
		log_warn("removed %d orphan slot entries left by an earlier run", err);
	log_info("re-adopted %zu frontends and %zu backends from pinned maps",
		 bl_svc_sync_frontends(sync), bl_svc_sync_backends(sync));
	return 0;
}

static int rm_tree(const char *dir)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	char path[512];

	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (lstat(path, &st) == 0 && S_ISDIR(st.st_mode))
			rm_tree(path);
		else
			unlink(path);
	}
	closedir(d);
	return rmdir(dir) ? -errno : 0;
}

int bl_dp_cleanup(const char *instance)
{
	char dir[128], links[192], path[512];
	struct dirent *de;
	DIR *d;

	bl_pin_dir(dir, sizeof(dir), instance);
	snprintf(links, sizeof(links), "%s/links", dir);
	d = opendir(links);
	/* detach before unpinning: an unpinned link with no fd would go anyway,
	 * but detaching first makes the order explicit */
	while (d && (de = readdir(d))) {
		struct bpf_link *link;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", links, de->d_name);
		link = bpf_link__open(path);
		if (link) {
			bpf_link__detach(link);
			bpf_link__destroy(link);
		}
	}
	if (d)
		closedir(d);
	return rm_tree(dir);
}
