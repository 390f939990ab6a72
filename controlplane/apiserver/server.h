/* The API server's shared state, seen by every part of apiserver/. */
#ifndef BPFLET_CP_SERVER_H
#define BPFLET_CP_SERVER_H

#include "controlplane/apiserver/apiserver.h"
#include "controlplane/apiserver/alloc.h"
#include "controlplane/apiserver/authn.h"

#include <event2/http.h>
#include <openssl/ssl.h>

struct h2_conn;
struct watch_stream;

struct bl_apiserver {
	struct event_base *base;
	struct bl_store *store;
	struct bl_apiserver_config cfg;
	SSL_CTX *ssl_ctx;
	struct evhttp *http;
	struct bl_tokens *tokens;
	struct bl_alloc cluster_ips;
	struct bl_alloc node_ports;
	struct h2_conn *h2_conns;
	struct watch_stream *watches;
};

/* http1.c: evhttp on the listen address, TLS through bufferevent_openssl. */
int bl_http_listen(struct bl_apiserver *srv);
void bl_http_close(struct bl_apiserver *srv);

/* http2.c: takes over a TLS connection on which ALPN chose h2. */
void bl_h2_adopt(struct bl_apiserver *srv, struct bufferevent *bev, SSL *ssl);
void bl_h2_close_all(struct bl_apiserver *srv);

/* watch.c */
void bl_watch_close_all(struct bl_apiserver *srv);

#endif
