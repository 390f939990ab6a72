#include "agent/hc_server.h"
#include "agent/common/listen_sock.h"
#include "agent/common/log.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hc_port {
	struct bl_hc_server *srv;
	struct evhttp *http;
	struct bl_svc_health_check hc; /* what this port answers for */
};

struct bl_hc_server {
	struct event_base *base;
	bool (*healthy)(void *arg);
	void *arg;
	size_t n, cap;
	struct hc_port **ports; /* sorted by port */
};

/* Any path answers, as kube-proxy's does: load balancers probe "/" or "/healthz". */
static void on_request(struct evhttp_request *req, void *arg)
{
	struct hc_port *p = arg;
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();
	bool proxy_ok = p->srv->healthy(p->srv->arg);
	bool ok = proxy_ok && p->hc.local_endpoints > 0;
	char weight[16];
	json_t *j;
	char *text;

	j = json_pack("{s:{s:s, s:s}, s:i, s:b}", "service", "namespace", p->hc.ns, "name",
		      p->hc.name, "localEndpoints", (json_int_t)p->hc.local_endpoints,
		      "serviceProxyHealthy", proxy_ok);
	text = j ? json_dumps(j, JSON_INDENT(2)) : NULL;
	json_decref(j);
	if (!body || !text) {
		free(text);
		if (body)
			evbuffer_free(body);
		evhttp_send_error(req, 500, NULL);
		return;
	}
	evbuffer_add_printf(body, "%s\n", text);
	free(text);
	snprintf(weight, sizeof(weight), "%u", p->hc.local_endpoints);
	evhttp_add_header(h, "Content-Type", "application/json");
	evhttp_add_header(h, "X-Content-Type-Options", "nosniff");
	evhttp_add_header(h, "X-Load-Balancing-Endpoint-Weight", weight);
	evhttp_send_reply(req, ok ? 200 : 503, ok ? "OK" : "Service Unavailable", body);
	evbuffer_free(body);
}

struct bl_hc_server *bl_hc_server_new(struct event_base *base, bool (*healthy)(void *arg),
				      void *arg)
{
	struct bl_hc_server *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->base = base;
	s->healthy = healthy;
	s->arg = arg;
	return s;
}

static struct hc_port *port_open(struct bl_hc_server *s, const struct bl_svc_health_check *hc)
{
	struct hc_port *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->srv = s;
	p->hc = *hc;
	p->http = evhttp_new(s->base);
	if (!p->http || bl_evhttp_listen(p->http, "0.0.0.0", hc->port)) {
		log_warn("healthCheckNodePort %u of Service %s/%s: cannot listen: %s; retried "
			 "at the next sync",
			 hc->port, hc->ns, hc->name, strerror(errno));
		if (p->http)
			evhttp_free(p->http);
		free(p);
		return NULL;
	}
	evhttp_set_gencb(p->http, on_request, p);
	evhttp_set_allowed_methods(p->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	log_info("healthCheckNodePort %u: serving Service %s/%s", hc->port, hc->ns, hc->name);
	return p;
}

static void port_close(struct hc_port *p)
{
	log_info("healthCheckNodePort %u: closed (Service %s/%s)", p->hc.port, p->hc.ns,
		 p->hc.name);
	evhttp_free(p->http);
	free(p);
}

size_t bl_hc_server_apply(struct bl_hc_server *s, const struct bl_svc_health_check *hc, size_t n)
{
	struct hc_port **next = calloc(n ? n : 1, sizeof(*next));
	size_t i = 0, j = 0, m = 0, failed = 0;

	if (!next) {
		log_err("health check ports: out of memory; keeping the current listeners");
		return n;
	}
	/* merge two port-sorted lists: keep, open or close */
	while (i < s->n || j < n) {
		if (j == n || (i < s->n && s->ports[i]->hc.port < hc[j].port)) {
			port_close(s->ports[i++]);
		} else if (i == s->n || hc[j].port < s->ports[i]->hc.port) {
			struct hc_port *p = port_open(s, &hc[j++]);

			if (p)
				next[m++] = p;
			else
				failed++;
		} else {
			s->ports[i]->hc = hc[j++];
			next[m++] = s->ports[i++];
		}
	}
	free(s->ports);
	s->ports = next;
	s->n = m;
	s->cap = n;
	return failed;
}

size_t bl_hc_server_count(const struct bl_hc_server *s)
{
	return s ? s->n : 0;
}

void bl_hc_server_free(struct bl_hc_server *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++)
		port_close(s->ports[i]);
	free(s->ports);
	free(s);
}
