/* Where an instance keeps its state: pins in bpffs, the agent's socket and files under /run. */
#ifndef BPFLET_PATHS_H
#define BPFLET_PATHS_H

#include <stdbool.h>
#include <stddef.h>

#define BPFLET_RUN_ROOT	    "/run/bpflet"
#define BPFLET_INSTANCE_MAX 32
/* /run/bpflet/<instance>/pod-cidr: the agent's Node's spec.podCIDR, for bpflet-cni */
#define BL_POD_CIDR_FILE "pod-cidr"

/* Instance names become path components: [A-Za-z0-9_-], 1..32 chars. */
bool bl_instance_valid(const char *instance);

/* /sys/fs/bpf/bpflet/<instance> */
int bl_pin_dir(char *buf, size_t len, const char *instance);
/* /sys/fs/bpf/bpflet/<instance>/<name> */
int bl_pin_path(char *buf, size_t len, const char *instance, const char *name);
/* /run/bpflet/<instance> */
int bl_run_dir(char *buf, size_t len, const char *instance);
/* /run/bpflet/<instance>/agent.sock: the CNI plugin registers endpoints here */
int bl_sock_path(char *buf, size_t len, const char *instance);

/* mkdir -p; returns 0 or -errno */
int bl_mkdir_p(const char *path, unsigned mode);

#endif
