/*
 * HTTPS requests to the Kubernetes API through libcurl's multi interface, driven by
 * the agent's libevent loop. HTTP/2 when the server offers it, and every request
 * multiplexed on one connection (CURLPIPE_MULTIPLEX + PIPEWAIT), so all watches share it.
 */
#ifndef BPFLET_KUBE_CLIENT_H
#define BPFLET_KUBE_CLIENT_H

#include "agent/kube/kubeconfig.h"

#include <stdbool.h>
#include <stddef.h>

struct event_base;
struct bl_kube_client;
struct bl_kube_req;

struct bl_kube_req_ops {
	/* body bytes as they arrive, status known; return false to abort the request */
	bool (*on_data)(void *arg, long status, const char *buf, size_t len);
	/* the request ended (after an abort too); it is freed after this returns */
	void (*on_done)(void *arg, long status, bool ok, const char *errmsg);
};

/* The config is copied where needed; it must outlive the client (token_file). */
struct bl_kube_client *bl_kube_client_new(struct event_base *base,
					  const struct bl_kube_config *cfg);
void bl_kube_client_free(struct bl_kube_client *c);
/* GET server+path; timeout_s bounds the whole transfer (0: none). */
struct bl_kube_req *bl_kube_get(struct bl_kube_client *c, const char *path, long timeout_s,
				const struct bl_kube_req_ops *ops, void *arg);
/* Any method with an optional body (copied) of the given content type. */
struct bl_kube_req *bl_kube_request(struct bl_kube_client *c, const char *method, const char *path,
				    const char *body, const char *content_type, long timeout_s,
				    const struct bl_kube_req_ops *ops, void *arg);

#endif
