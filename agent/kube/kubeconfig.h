/*
 * How the agent reaches the Kubernetes API: a kubeconfig file (clusters, users,
 * contexts, current-context or an explicit context) or the in-cluster service account
 * (token + ca.crt under /var/run/secrets/kubernetes.io/serviceaccount and
 * KUBERNETES_SERVICE_HOST/PORT). Certificates and keys are read into memory at load so
 * a bad path is reported at start, not at the first request.
 */
#ifndef BPFLET_KUBECONFIG_H
#define BPFLET_KUBECONFIG_H

#include <stdbool.h>
#include <stddef.h>

#define BL_KUBE_SA_DIR "/var/run/secrets/kubernetes.io/serviceaccount"

struct bl_kube_blob {
	char *data; /* NUL-terminated copy, len bytes before the NUL */
	size_t len;
};

struct bl_kube_config {
	char *server;  /* scheme://host[:port], no trailing slash */
	char *context; /* names as the kubeconfig spells them (NULL in-cluster) */
	char *cluster;
	char *user;
	struct bl_kube_blob ca;	  /* PEM bundle (len 0: the system store) */
	struct bl_kube_blob cert; /* client certificate PEM (len 0: none) */
	struct bl_kube_blob key;  /* its private key PEM */
	char *token;		  /* static bearer token, or NULL */
	char *token_file;	  /* bearer token re-read per request (rotated SA tokens) */
	bool insecure;		  /* insecure-skip-tls-verify */
};

/* Loads FILE with the given context (NULL: current-context). Relative paths in the
 * file are relative to its directory, as kubectl reads them. Returns 0, or -errno
 * with a message naming the file and the field in err; *out is then empty. */
int bl_kubeconfig_load(const char *file, const char *context, struct bl_kube_config *out, char *err,
		       size_t errlen);
/* The same from bytes already read; dir resolves relative paths ("." if NULL). */
int bl_kubeconfig_parse(const char *buf, size_t len, const char *dir, const char *context,
			struct bl_kube_config *out, char *err, size_t errlen);
/* In-cluster configuration from sa_dir (NULL: BL_KUBE_SA_DIR) and the
 * KUBERNETES_SERVICE_HOST/PORT environment. -ENOENT when the host variable is unset. */
int bl_kube_in_cluster(const char *sa_dir, struct bl_kube_config *out, char *err, size_t errlen);
/* The bearer token to send now (token_file re-read, whitespace trimmed) into buf;
 * 0 with buf "" when there is none, -errno when the file cannot be read. */
int bl_kube_config_token(const struct bl_kube_config *c, char *buf, size_t len);
void bl_kube_config_free(struct bl_kube_config *c);

#endif
