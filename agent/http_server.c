#include "agent/http_server.h"
#include "agent/common/listen_sock.h"
#include "agent/common/log.h"

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct route {
	struct bl_http_handlers h;
};

static void send_reply(struct evhttp_request *req, int code, const char *type,
		       struct evbuffer *body)
{
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type", type);
	evhttp_send_reply(req, code, code == 200 ? "OK" : "Service Unavailable", body);
}

static void on_healthz(struct evhttp_request *req, void *arg)
{
	struct route *r = arg;
	struct evbuffer *body = evbuffer_new();
	bool ok;

	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	ok = r->h.healthz(r->h.arg, body);
	send_reply(req, ok ? 200 : 503, "application/json", body);
	evbuffer_free(body);
}

static void on_metrics(struct evhttp_request *req, void *arg)
{
	struct route *r = arg;
	struct evbuffer *body = evbuffer_new();

	if (!body) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	r->h.metrics(r->h.arg, body);
	send_reply(req, 200, "text/plain; version=0.0.4; charset=utf-8", body);
	evbuffer_free(body);
}

struct evhttp *bl_http_serve(struct event_base *base, const char *bind, bool healthz, bool metrics,
			     const struct bl_http_handlers *h)
{
	const char *colon = strrchr(bind, ':');
	struct evhttp *http;
	struct route *r;
	char addr[64];
	long port;

	if (!colon || (size_t)(colon - bind) >= sizeof(addr)) {
		log_err("bad listen address '%s': want ADDR:PORT", bind);
		return NULL;
	}
	memcpy(addr, bind, (size_t)(colon - bind));
	addr[colon - bind] = '\0';
	port = strtol(colon + 1, NULL, 10);
	if (port <= 0 || port > 65535) {
		log_err("bad port in '%s'", bind);
		return NULL;
	}
	r = calloc(1, sizeof(*r)); /* lives as long as the process */
	http = evhttp_new(base);
	if (!r || !http)
		goto fail;
	r->h = *h;
	evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	if (healthz)
		evhttp_set_cb(http, "/healthz", on_healthz, r);
	if (metrics)
		evhttp_set_cb(http, "/metrics", on_metrics, r);
	if (bl_evhttp_listen(http, addr[0] ? addr : "0.0.0.0", port)) {
		log_err("cannot listen on %s (is another agent or kube-proxy using it?)", bind);
		goto fail;
	}
	log_info("serving%s%s on %s", healthz ? " /healthz" : "", metrics ? " /metrics" : "", bind);
	return http;
fail:
	if (http)
		evhttp_free(http);
	free(r);
	return NULL;
}
