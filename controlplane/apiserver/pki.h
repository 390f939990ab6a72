/* The cluster's PKI under DIR/pki: a CA, the serving certificate and the admin client
 * certificate, made on first start and reused afterwards. */
#ifndef BPFLET_CP_PKI_H
#define BPFLET_CP_PKI_H

#include <stddef.h>

struct bl_pki {
	char ca_crt[512];
	char ca_key[512];
	char serving_crt[512];
	char serving_key[512];
	char admin_crt[512];
	char admin_key[512];
};

/* Creates what is missing; the serving certificate is remade when it does not cover host
 * (the listen address). Returns 0 or -1 (logged). */
int bl_pki_ensure(const char *data_dir, const char *host, struct bl_pki *out);

/* DIR/admin.kubeconfig for https://host:port with the admin certificate embedded. */
int bl_kubeconfig_write(const char *path, const struct bl_pki *pki, const char *host, int port);

#endif
