/* Start and stop: PKI, kubeconfig, tokens, allocators rebuilt from the store, default
 * namespaces, the listener. */
#include "controlplane/apiserver/kinds.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/pki.h"
#include "controlplane/apiserver/server.h"
#include "controlplane/apiserver/tls.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const default_namespaces[] = {"default", "kube-system", "kube-public",
						 "kube-node-lease"};

static int seed_namespaces(struct bl_apiserver *srv)
{
	const struct bl_resource *r = bl_resource_find("", "v1", "namespaces");

	for (size_t i = 0; i < sizeof(default_namespaces) / sizeof(default_namespaces[0]); i++) {
		const char *name = default_namespaces[i];
		char key[300], uid[37], ts[32], *enc;
		struct bl_kv kv;
		json_t *ns;
		size_t len;
		int rc;

		bl_resource_key(r, NULL, name, key, sizeof(key));
		if (bl_store_get(srv->store, key, 0, &kv) == 0) {
			bl_kv_free(&kv);
			continue;
		}
		bl_uuid(uid);
		bl_timestamp(time(NULL), ts);
		ns = json_pack("{s:s, s:s, s:{s:s, s:s, s:s, s:{s:s}}, s:{s:[s]}, s:{s:s}}",
			       "apiVersion", "v1", "kind", "Namespace", "metadata", "name", name,
			       "uid", uid, "creationTimestamp", ts, "labels",
			       "kubernetes.io/metadata.name", name, "spec", "finalizers",
			       "kubernetes", "status", "phase", "Active");
		enc = ns ? bl_obj_encode(ns, &len) : NULL;
		rc = enc ? bl_store_create(srv->store, key, enc, len, 0, NULL) : BL_STORE_IO;
		free(enc);
		json_decref(ns);
		if (rc && rc != BL_STORE_EXISTS) {
			log_err("cannot create namespace %s: %s", name, bl_store_strerror(rc));
			return -1;
		}
	}
	return 0;
}

/* What stored objects hold (ClusterIPs, NodePorts) is taken again. */
static int restore(struct bl_apiserver *srv)
{
	for (size_t i = 0; i < bl_nresources; i++) {
		const struct bl_resource *r = &bl_resources[i];
		struct bl_kv_list l;
		char prefix[300];

		if (strcmp(r->name, "services"))
			continue;
		bl_resource_key(r, NULL, NULL, prefix, sizeof(prefix));
		if (bl_store_list(srv->store, prefix, NULL, 0, 0, &l))
			return -1;
		for (size_t j = 0; j < l.n; j++) {
			json_t *obj = bl_obj_from_kv(&l.items[j]);

			if (obj)
				bl_kind_restore(srv, r, obj);
			json_decref(obj);
		}
		bl_kv_list_free(&l);
	}
	return 0;
}

static void init_allocators(struct bl_apiserver *srv)
{
	const struct bl_cidr4 *c = &srv->cfg.service_cidr;
	uint32_t size = c->plen >= 32 ? 1 : (uint32_t)1 << (32 - c->plen);
	uint32_t lo = c->net + 1, hi = c->net + size - 2;
	uint32_t band = size / 16 < 16 ? 16 : size / 16 > 256 ? 256 : size / 16;

	/* network and broadcast addresses never; the lowest band only when asked for
	 * (10.96.0.1 is the kubernetes Service's, 10.96.0.10 DNS's by convention) */
	bl_alloc_init(&srv->cluster_ips, lo, hi, lo + band);
	bl_alloc_init(&srv->node_ports, (uint32_t)srv->cfg.nodeport_lo,
		      (uint32_t)srv->cfg.nodeport_hi, 0);
}

int bl_apiserver_start(struct event_base *base, const struct bl_apiserver_config *cfg,
		       struct bl_store *store, struct bl_apiserver **out)
{
	struct bl_apiserver *srv = calloc(1, sizeof(*srv));
	char path[600];
	struct bl_pki pki;

	*out = NULL;
	if (!srv)
		return -1;
	srv->base = base;
	srv->store = store;
	srv->cfg = *cfg;
	if (srv->cfg.bookmark_interval <= 0)
		srv->cfg.bookmark_interval = 60;
	init_allocators(srv);
	if (bl_pki_ensure(cfg->data_dir, cfg->listen_host, &pki))
		goto fail;
	snprintf(path, sizeof(path), "%s/admin.kubeconfig", cfg->data_dir);
	if (bl_kubeconfig_write(path, &pki, cfg->listen_host, cfg->listen_port))
		goto fail;
	snprintf(path, sizeof(path), "%s/tokens.csv", cfg->data_dir);
	srv->tokens = bl_tokens_load(path);
	if (!srv->tokens)
		goto fail;
	srv->ssl_ctx = bl_tls_server_ctx(pki.serving_crt, pki.serving_key, pki.ca_crt);
	if (!srv->ssl_ctx || restore(srv) || seed_namespaces(srv) || bl_http_listen(srv))
		goto fail;
	log_info("serving the Kubernetes API on https://%s:%d (kubeconfig %s/admin.kubeconfig)",
		 cfg->listen_host, cfg->listen_port, cfg->data_dir);
	*out = srv;
	return 0;
fail:
	bl_apiserver_stop(srv);
	return -1;
}

void bl_apiserver_stop(struct bl_apiserver *srv)
{
	if (!srv)
		return;
	bl_watch_close_all(srv);
	bl_h2_close_all(srv);
	/* let evhttp finish the replies just ended before it is freed */
	event_base_loop(srv->base, EVLOOP_NONBLOCK);
	bl_http_close(srv);
	if (srv->ssl_ctx)
		SSL_CTX_free(srv->ssl_ctx);
	bl_tokens_free(srv->tokens);
	bl_alloc_free(&srv->cluster_ips);
	bl_alloc_free(&srv->node_ports);
	free(srv);
}
