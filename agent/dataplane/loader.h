/*
 * Loads the BPF programs, pins their maps under /sys/fs/bpf/bpflet/<instance>/ and
 * attaches the pod program to host-side veths. Pinned maps and pinned tcx links
 * outlive the agent, so a restart re-adopts them and no connection is dropped.
 */
#ifndef BPFLET_LOADER_H
#define BPFLET_LOADER_H

#include "agent/dataplane/pol_sync.h"
#include "agent/dataplane/svc_sync.h"

#include <stdbool.h>
#include <stdint.h>

struct tc_pod;
struct xdp_uplink;
struct bpf_object;

struct bl_dataplane {
	struct tc_pod *skel;
	struct xdp_uplink *uplink; /* loaded by bl_uplink_attach, NULL without --uplink */
	char instance[64];
	char pin_dir[128];
	int fds[BL_DP_MAP_MAX]; /* indexed by enum bl_dp_map */
	int ct_tcp_fd, ct_any_fd, counters_fd, aff_fd, frag_fd, srcr_fd;
	struct bl_pol_fds pol; /* NetworkPolicy maps */
	int polct_fd, polcnt_fd, polev_fd;
	int svcst_fd, best_fd; /* per-Service / per-backend counters */
	int mon_fd;	       /* bpfletctl monitor's flag (bl_mon_v1) */
	bool reused_maps;      /* pinned maps from an earlier run were adopted */
};

/* Size of the Maglev map in blocks of BPFLET_MAGLEV_M entries for the next bl_dp_open
 * (default BPFLET_MAGLEV_BLOCKS). A pinned map of another size is not re-used. */
void bl_dp_set_maglev_blocks(uint32_t blocks);
/* --lb-mode dsr for the next bl_dp_open: the largest MSS a DSR backend's SYN-ACK may
 * carry (bpf/lib/mss.h); 0 leaves them alone. */
void bl_dp_set_dsr_mss(uint16_t mss);
/* --policy-audit for the next bl_dp_open: would-be policy denies pass. */
void bl_dp_set_policy_audit(bool audit);
/* --policy-allow-events for the next bl_dp_open: allows of new connections reported too. */
void bl_dp_set_policy_allow_events(bool on);
uint32_t bl_dp_maglev_entries(void);
/* Points every map of obj at the instance's pin (shared by all programs). */
int bl_dp_pin_maps(struct bl_dataplane *dp, struct bpf_object *obj);

/* Mounts bpffs if missing, loads and pins. hairpin_ip is network order. */
int bl_dp_open(struct bl_dataplane *dp, const char *instance, uint32_t hairpin_ip);
void bl_dp_close(struct bl_dataplane *dp); /* leaves pins and links in place */
/* Once every program of the instance runs the new code: the last pass of the conntrack
 * layout migration (agent/dataplane/ct_migrate.h), removing the old maps. */
void bl_dp_migrate_done(struct bl_dataplane *dp);

/* Attach the pod program to ifindex (tcx, pinned link named after ifname); an
 * existing pinned link is switched to the freshly loaded program in place. Falls
 * back to a clsact filter where tcx is missing. */
int bl_dp_attach_pod(struct bl_dataplane *dp, const char *ifname, int ifindex);
int bl_dp_detach_pod(struct bl_dataplane *dp, const char *ifname, int ifindex);

/* Fill the syncer's mirror from the pinned maps. */
int bl_dp_adopt(struct bl_dataplane *dp, struct bl_svc_sync *sync);
/* Deletes a syncer entry; a retired svc or backend id also gets its counters zeroed. */
int bl_dp_delete(struct bl_dataplane *dp, enum bl_dp_map map, const void *key);
/* A writer that applies the syncer's writes to the maps. */
struct bl_map_writer bl_dp_writer(struct bl_dataplane *dp);

/* Removes every pin, link and directory of the instance. */
int bl_dp_cleanup(const char *instance);

int bl_ensure_bpffs(void);

#endif
