/* bpflet-cni: a CNI 1.0 plugin. Types shared by its parts: errors, network config,
 * environment, host veth naming, IPAM and the result document. The netlink side is
 * in net.h, the commands in cmd.h. */
#ifndef BPFLET_CNI_H
#define BPFLET_CNI_H

#include "agent/common/netaddr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Error codes of the CNI specification */
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

void cni_set_error(struct cni_error *e, int code, const char *details, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Pods route everything through this link-local next hop; the host veth answers for it. */
#define CNI_GATEWAY	"169.254.1.1"
#define CNI_DEFAULT_MTU 1500
#define CNI_DATA_ROOT	"/var/lib/bpflet-cni"

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

/* config.c: the network configuration from stdin */
int cni_conf_parse(const char *json, struct cni_conf *c, struct cni_error *e);

/* env.c: CNI_COMMAND and friends; CNI_ARGS "K8S_POD_NAMESPACE=a;K8S_POD_NAME=b;..." */
int cni_env_read(struct cni_env *env, struct cni_error *e);
int cni_args_parse(const char *args, struct cni_env *env, struct cni_error *e);

/* ifname.c: "bl" + 11 hex chars of SHA-256(container id "/" ifname): stable, 13 chars */
#define CNI_HOST_IFNAME_LEN 13
void cni_host_ifname(const char *container_id, const char *ifname, char out[16]);

/* ipam.c: one file per allocated address under data_dir, guarded by flock */
int ipam_alloc(const struct cni_conf *c, const char *container_id, const char *ifname,
	       uint32_t *ip_host_order, struct cni_error *e);
/* Releasing what is not held is fine. Returns 0 or -errno. */
int ipam_release(const struct cni_conf *c, const char *container_id, const char *ifname);
/* 0 and the address when the owner holds one, -ENOENT otherwise */
int ipam_find(const struct cni_conf *c, const char *container_id, const char *ifname,
	      uint32_t *ip_host_order);

/* result.c */
struct cni_link_info {
	char host_ifname[16];
	int host_ifindex;
	char host_mac[18];
	char pod_mac[18];
};
char *cni_result_json(const struct cni_conf *c, const struct cni_env *env,
		      const struct cni_link_info *li, uint32_t ip_host_order);
char *cni_error_json(const char *version, const struct cni_error *e);
char *cni_version_json(void);

/* cmd.c: the three commands; ADD hands back the result document (malloc'd) */
int cni_cmd_add(const struct cni_conf *c, const struct cni_env *env, char **result,
		struct cni_error *e);
int cni_cmd_del(const struct cni_conf *c, const struct cni_env *env, struct cni_error *e);
int cni_cmd_check(const struct cni_conf *c, const struct cni_env *env, struct cni_error *e);

#endif
