/*
 * The compiler's output: desired Service frontends with their backends, in the shape
 * the agent's syncer writes into the maps (keys ready to use, network byte order).
 */
#ifndef BPFLET_SVC_RECORDS_H
#define BPFLET_SVC_RECORDS_H

#include <bpflet/abi.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>


/* One backend of a frontend. Identity (what bl_svc_backend_cmp orders by) is
 * {addr, family, port, proto}; the rest is state that may change in place. */
struct bl_svc_backend {
	struct bpflet_addr addr;
	uint16_t port;		/* network order: the EndpointSlice port (resolved targetPort) */
	uint8_t proto;		/* IPPROTO_* */
	uint8_t family;		/* enum bpflet_family */
	bool terminating;	/* chosen through the serving+terminating fallback, or marked so */
	bool local;	/* endpoint's nodeName is this node */
	uint16_t zone;	/* bl_zone_id of the endpoint's zone, 0 when unknown */
};

struct bl_svc_frontend {
	struct bpflet_fe_key key;	/* ready for the frontends map */
	char name[BPFLET_SVC_NAME_LEN]; /* "namespace/name:port-name" or "namespace/name" */
	uint16_t flags;			/* BPFLET_FE_F_* */
	uint32_t affinity_timeout;	/* seconds, 0 without affinity */
	bool local_only; /* traffic policy Local: only this node's endpoints were eligible */
	/* local_only, none here but some elsewhere: kube-proxy drops such traffic instead
	 * of rejecting it (flags gets BPFLET_FE_F_NO_LOCAL_DROP) */
	bool no_local_endpoints;
	size_t n_backends;		 /* 0: the dataplane rejects */
	struct bl_svc_backend *backends; /* sorted by bl_svc_backend_cmp, unique */
};

/* A healthCheckNodePort this node serves (kube-proxy's service health server):
 * type LoadBalancer, externalTrafficPolicy Local. */
struct bl_svc_health_check {
	uint16_t port; /* host order */
	char ns[64];
	char name[64];
	/* this node's ready endpoints of the Service (distinct addresses); 0 → 503,
	 * also while only terminating endpoints remain */
	uint32_t local_endpoints;
};

/* All frontends, sorted by bl_svc_fe_key_cmp, keys unique; health checks sorted by
 * port, ports unique. */
struct bl_svc_table {
	size_t n;
	struct bl_svc_frontend *fe;
	size_t n_hc;
	struct bl_svc_health_check *hc;
	/* loadBalancerSourceRanges entries, sorted (memcmp), unique */
	size_t n_src;
	struct bpflet_srcrange_key *src;
};

void bl_svc_table_free(struct bl_svc_table *t);
/* Binary search; NULL when absent. */
const struct bl_svc_frontend *bl_svc_table_find(const struct bl_svc_table *t,
						const struct bpflet_fe_key *k);

/* Total orders: keys by family, address, port (numerically), proto, scope;
 * backends by identity {family, address, port, proto}. */
int bl_svc_fe_key_cmp(const struct bpflet_fe_key *a, const struct bpflet_fe_key *b);
int bl_svc_backend_cmp(const struct bl_svc_backend *a, const struct bl_svc_backend *b);
/* Zone names as small ids, the same for the process's life (a backend is kept for
 * each endpoint of each Service: 2 bytes, not the name). "" and NULL are 0; past
 * 65535 distinct names, 0 too. */
uint16_t bl_zone_id(const char *name);
const char *bl_zone_name(uint16_t id);
/* Same identity and same state (terminating, local, zone). */
bool bl_svc_backend_equal(const struct bl_svc_backend *a, const struct bl_svc_backend *b);

/* The map value for a backend; zone ids are the agent's to assign (0 = unknown). */
void bl_svc_backend_to_abi(const struct bl_svc_backend *b, uint16_t zone_id,
			   struct bpflet_backend *out);
/* "10.96.0.10:80/TCP" (plus " external" for scope EXTERNAL); returns buf. */
const char *bl_svc_fe_key_format(const struct bpflet_fe_key *k, char *buf, size_t len);

#endif
