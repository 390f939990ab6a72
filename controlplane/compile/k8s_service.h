/* core/v1 Service → plain struct, validated on the fields the compiler reads. */
#ifndef BPFLET_K8S_SERVICE_H
#define BPFLET_K8S_SERVICE_H

#include <bpflet/abi.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_LABEL_PROXY_NAME	    "service.kubernetes.io/service-proxy-name"
#define BL_AFFINITY_DEFAULT_TIMEOUT 10800 /* seconds, the API server's default */
#define BL_AFFINITY_MAX_TIMEOUT	    86400
/* Per-Service choice of the load-balancing algorithm: "random" or "maglev". */
#define BL_ANNOTATION_LB_ALGORITHM "service.bpflet.io/lb-algorithm"

enum bl_lb_algorithm {
	BL_LB_DEFAULT = 0, /* the agent's --lb-algorithm */
	BL_LB_RANDOM,
	BL_LB_MAGLEV,
};

enum bl_svc_type {
	BL_SVC_CLUSTER_IP = 0,
	BL_SVC_NODE_PORT,
	BL_SVC_LOAD_BALANCER,
	BL_SVC_EXTERNAL_NAME,
};

enum bl_traffic_policy {
	BL_TP_CLUSTER = 0, /* the default for both policies */
	BL_TP_LOCAL,
};

struct bl_k8s_ip {
	struct bpflet_addr addr;
	uint8_t family; /* BPFLET_AF_INET or BPFLET_AF_INET6 */
};

struct bl_k8s_svc_port {
	char name[64];	    /* "" when unnamed */
	uint8_t proto;	    /* IPPROTO_TCP/UDP/SCTP */
	uint16_t port;	    /* host order, 1-65535 */
	uint16_t node_port; /* host order, 0 = none */
	/* targetPort: a number (host order) or a container port name; informational,
	 * the EndpointSlices already carry the resolved numbers. */
	uint16_t target_port;
	char target_port_name[16];
};

struct bl_k8s_service {
	char ns[64];
	char name[64];
	enum bl_svc_type type;
	bool headless;			   /* clusterIP "None" */
	bool proxy_name_label;		   /* service.kubernetes.io/service-proxy-name present */
	enum bl_lb_algorithm lb_algorithm; /* from BL_ANNOTATION_LB_ALGORITHM */
	bool affinity_client_ip;
	uint32_t affinity_timeout; /* seconds, set when affinity_client_ip */
	enum bl_traffic_policy external_policy, internal_policy;
	/* spec.healthCheckNodePort (host order, 0 = none): the API server allocates it
	 * for type LoadBalancer with externalTrafficPolicy Local */
	uint16_t health_check_node_port;
	size_t n_cluster_ips;		 /* 0 when none allocated (or headless) */
	struct bl_k8s_ip cluster_ips[2]; /* [0] is spec.clusterIP */
	size_t n_ports;
	struct bl_k8s_svc_port *ports;
	size_t n_external_ips;
	struct bl_k8s_ip *external_ips;
	size_t n_lb_ips; /* status.loadBalancer.ingress[].ip with ipMode VIP (or unset) */
	struct bl_k8s_ip *lb_ips;
	size_t n_src_ranges; /* spec.loadBalancerSourceRanges (IPv4 CIDRs) */
	struct bl_k8s_cidr {
		uint32_t net; /* network order, masked */
		uint8_t plen;
	} * src_ranges;
};

/* Parses and validates obj (kind Service). Returns 0, -EINVAL with "field.path: reason"
 * in err, or -ENOMEM. On error *svc holds nothing to free. */
int bl_k8s_service_parse(const json_t *obj, struct bl_k8s_service *svc, char *err, size_t errlen);
void bl_k8s_service_free(struct bl_k8s_service *svc);

#endif
