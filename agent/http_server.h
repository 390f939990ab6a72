/* /healthz (kube-proxy's port 10256) and /metrics (Prometheus text, port 10249). */
#ifndef BPFLET_HTTP_SERVER_H
#define BPFLET_HTTP_SERVER_H

#include <stdbool.h>

struct event_base;
struct evhttp;
struct evbuffer;

struct bl_http_handlers {
	void *arg;
	/* Writes the health body; returns true when healthy (200) else 503. */
	bool (*healthz)(void *arg, struct evbuffer *body);
	void (*metrics)(void *arg, struct evbuffer *body);
};

/* Binds "ADDR:PORT" (ADDR may be empty or 0.0.0.0). Returns NULL on failure. */
struct evhttp *bl_http_serve(struct event_base *base, const char *bind, bool healthz, bool metrics,
			     const struct bl_http_handlers *h);

#endif
