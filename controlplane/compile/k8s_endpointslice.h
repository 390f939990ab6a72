/* discovery.k8s.io/v1 EndpointSlice → plain struct, with the API's nil defaults applied. */
#ifndef BPFLET_K8S_ENDPOINTSLICE_H
#define BPFLET_K8S_ENDPOINTSLICE_H

#include <bpflet/abi.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_LABEL_SERVICE_NAME "kubernetes.io/service-name"

enum bl_addr_type {
	BL_ADDR_IPV4 = 0,
	BL_ADDR_IPV6, /* parsed for metadata only: endpoints are not read yet */
	BL_ADDR_FQDN, /* never served by a proxy: endpoints are not read */
};

struct bl_k8s_slice_port {
	char name[64]; /* nil → "" (the API's default) */
	uint8_t proto; /* nil → TCP */
	bool has_port; /* nil port: "all ports", which a proxy cannot use; skipped */
	uint16_t port; /* host order */
};

struct bl_k8s_endpoint {
	struct bpflet_addr addr; /* addresses[0]: the others are fungible copies */
	uint8_t family;
	bool ready;	     /* nil → true */
	bool serving;	     /* nil → true (kube-proxy's reading; see k8s_endpointslice.c) */
	bool terminating;    /* nil → false */
	char node_name[254]; /* "" when unset */
	char zone[64];	     /* "" when unset */
};

struct bl_k8s_endpointslice {
	char ns[64];
	char name[254];
	char service_name[64]; /* the kubernetes.io/service-name label, "" when absent */
	enum bl_addr_type addr_type;
	size_t n_ports;
	struct bl_k8s_slice_port *ports;
	size_t n_endpoints; /* 0 for address types other than IPv4 */
	struct bl_k8s_endpoint *endpoints;
};

/* Parses and validates obj (kind EndpointSlice). Returns 0, -EINVAL with
 * "field.path: reason" in err, or -ENOMEM. On error *s holds nothing to free. */
int bl_k8s_endpointslice_parse(const json_t *obj, struct bl_k8s_endpointslice *s, char *err,
			       size_t errlen);
void bl_k8s_endpointslice_free(struct bl_k8s_endpointslice *s);

#endif
