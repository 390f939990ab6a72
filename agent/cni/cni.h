/* bpflet-cni: a CNI 1.0 plugin. Shared types of its parts (config, IPAM, netlink, result). */
#ifndef BPFLET_CNI_H
#define BPFLET_CNI_H

#include "agent/common/netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* CNI spec error codes */
enum cni_code {
	CNI_ERR_INCOMPATIBLE = 1,
	CNI_ERR_UNSUPPORTED_FIELD = 2,
	CNI_ERR_UNKNOWN_CONTAINER = 3,
	CNI_ERR_INVALID_ENV = 4,
	CNI_ERR_IO = 5,
	CNI_ERR_DECODE = 6,
	CNI_ERR_INVALID_CONFIG = 7,
	CNI_ERR_TRY_AGAIN = 11,
	CNI_ERR_OTHER = 999,
};

struct cni_error {
	int code; /* enum cni_code, 0 = none */
	char msg[256];
	char details[512];
};

#define GATEWAY_IP "169.254.1.1"

struct cni_conf {
	char cni_version[16];
	char name[64];
	char instance[64];
	char pod_cidr_text[32];
	struct bl_cidr4 pod_cidr;
	unsigned mtu;
	char data_dir[256];
};

struct cni_env {
	char command[16];
	char container_id[128];
	char netns[256];
	char ifname[16];
	char pod_namespace[64];
	char pod_name[254];
};

/* config.c */
int cni_conf_parse(const char *json, struct cni_conf *c, struct cni_error *e);
int cni_env_read(struct cni_env *env, struct cni_error *e);
/* "A=1;K8S_POD_NAME=x" → pod namespace/name fields */
int cni_args_parse(const char *args, struct cni_env *env, struct cni_error *e);
/* "bl" + 11 hex chars of SHA-256(container id + "/" + ifname): stable, ≤ 15 chars */
void cni_host_ifname(const char *container_id, const char *ifname, char out[16]);

/* ipam.c: one file per allocated address under data_dir, guarded by flock. */
int ipam_alloc(const struct cni_conf *c, const char *owner, uint32_t *ip_host_order,
	       struct cni_error *e);
int ipam_release(const struct cni_conf *c, const char *owner);
/* 0 and the address when owner holds one, -ENOENT otherwise */
int ipam_find(const struct cni_conf *c, const char *owner, uint32_t *ip_host_order);

/* netlink.c */
struct cni_link_info {
	char host_ifname[16];
	int host_ifindex;
	char host_mac[18];
	char pod_mac[18];
};
int net_setup(const struct cni_conf *c, const struct cni_env *env, uint32_t ip,
	      struct cni_link_info *out, struct cni_error *e);
/* Removes the host veth (the peer goes with it); absent is fine. */
int net_teardown(const char *host_ifname);
int net_check(const struct cni_env *env, const char *host_ifname, uint32_t ip,
	      struct cni_error *e);

/* result.c */
char *cni_result_json(const struct cni_conf *c, const struct cni_env *env,
		      const struct cni_link_info *li, uint32_t ip);
char *cni_error_json(const char *version, const struct cni_error *e);

void cni_set_error(struct cni_error *e, int code, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
