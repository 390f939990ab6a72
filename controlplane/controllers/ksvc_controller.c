/* The default/kubernetes Service (the first address of the service CIDR, port 443
 * "https") and its Endpoints and EndpointSlice, pointing at this server, as
 * kube-apiserver keeps them. Made to point here at start (a restarted server takes
 * over) and made again whenever one is deleted. With several control planes on one etcd
 * only the leader runs this (leader.c), so they point at the leader. */
#include "controlplane/controllers/client.h"
#include "controlplane/controllers/ctl_util.h"
#include "controlplane/controllers/manager.h"
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <arpa/inet.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "kubernetes"

struct ksvc_ctl {
	struct event *ev;
	bool take_over; /* rewrite what differs (at start), not only what is missing */
	char ip[INET_ADDRSTRLEN];
};

static const struct {
	const char *res, *path;
} objs[] = {
	{"services", "/api/v1/namespaces/default/services"},
	{"endpoints", "/api/v1/namespaces/default/endpoints"},
	{"endpointslices", "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices"},
};

/* The listen address (127.0.0.1 for localhost), or the host's first non-loopback IPv4
 * one when it listens on all of them (clients cannot reach 0.0.0.0). */
static void advertise_address(struct bl_apiserver *srv, char ip[INET_ADDRSTRLEN])
{
	struct in_addr a;
	struct ifaddrs *ifs, *i;

	snprintf(ip, INET_ADDRSTRLEN, "127.0.0.1");
	if (!strcmp(srv->cfg.listen_host, "localhost"))
		return;
	if (inet_pton(AF_INET, srv->cfg.listen_host, &a) == 1 && a.s_addr != INADDR_ANY) {
		inet_ntop(AF_INET, &a, ip, INET_ADDRSTRLEN);
		return;
	}
	if (getifaddrs(&ifs))
		return;
	for (i = ifs; i; i = i->ifa_next) {
		if (i->ifa_addr && i->ifa_addr->sa_family == AF_INET &&
		    !(i->ifa_flags & IFF_LOOPBACK) && (i->ifa_flags & IFF_UP)) {
			inet_ntop(AF_INET, &((struct sockaddr_in *)i->ifa_addr)->sin_addr, ip,
				  INET_ADDRSTRLEN);
			break;
		}
	}
	freeifaddrs(ifs);
}

static json_t *want(struct bl_controllers *c, size_t which)
{
	struct ksvc_ctl *s = c->ksvc;
	int port = c->srv->cfg.listen_port;
	struct in_addr first = {htonl(c->srv->cfg.service_cidr.net + 1)};
	char vip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &first, vip, sizeof(vip));
	switch (which) {
	case 0:
		return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:s, s:s, s:[s], "
				 "s:s, s:[{s:s, s:i, s:s, s:i}]}}",
				 "apiVersion", "v1", "kind", "Service", "metadata", "name", NAME,
				 "namespace", "default", "labels", "component", "apiserver",
				 "provider", "kubernetes", "spec", "type", "ClusterIP", "clusterIP",
				 vip, "clusterIPs", vip, "sessionAffinity", "None", "ports", "name",
				 "https", "port", 443, "protocol", "TCP", "targetPort", port);
	case 1:
		return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:[{s:[{s:s}], s:[{s:s, s:i, "
				 "s:s}]}]}",
				 "apiVersion", "v1", "kind", "Endpoints", "metadata", "name", NAME,
				 "namespace", "default", "labels",
				 "endpointslice.kubernetes.io/skip-mirror", "true", "subsets",
				 "addresses", "ip", s->ip, "ports", "name", "https", "port", port,
				 "protocol", "TCP");
	default:
		return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s}}, s:s, s:[{s:[s], s:{s:b}}], "
				 "s:[{s:s, s:i, s:s}]}",
				 "apiVersion", "discovery.k8s.io/v1", "kind", "EndpointSlice",
				 "metadata", "name", NAME, "namespace", "default", "labels",
				 "kubernetes.io/service-name", NAME, "addressType", "IPv4",
				 "endpoints", "addresses", s->ip, "conditions", "ready", 1, "ports",
				 "name", "https", "port", port, "protocol", "TCP");
	}
}

/* have already says what w says (w's fields only; the server adds defaults)? */
static bool covers(json_t *have, json_t *w)
{
	const char *k;
	json_t *v;

	if (json_is_object(w) && json_is_object(have)) {
		json_object_foreach(w, k, v) if (!covers(json_object_get(have, k), v)) return false;
		return true;
	}
	if (json_is_array(w) && json_is_array(have)) {
		if (json_array_size(w) != json_array_size(have))
			return false;
		for (size_t i = 0; i < json_array_size(w); i++)
			if (!covers(json_array_get(have, i), json_array_get(w, i)))
				return false;
		return true;
	}
	return json_equal(have, w);
}

/* 0, or -1 to try again. */
static int ensure(struct bl_controllers *c, size_t which, bool take_over)
{
	json_t *have = NULL, *w = want(c, which);
	char path[300];
	int code, rc = 0;

	snprintf(path, sizeof(path), "%s/" NAME, objs[which].path);
	code = bl_ctl_request(c->srv, "GET", path, NULL, NULL, &have);
	if (code == 404) {
		code = bl_ctl_request(c->srv, "POST", objs[which].path, NULL, w, NULL);
		if (code == 201)
			log_info("default/kubernetes %s made (%s:%d)", objs[which].res, c->ksvc->ip,
				 c->srv->cfg.listen_port);
		else
			log_warn("default/kubernetes %s: create: %d", objs[which].res, code);
		/* 422: the address is taken by another Service; nothing to retry */
		rc = code == 201 || code == 409 || code == 422 ? 0 : -1;
	} else if (code == 200 && take_over && !covers(have, w)) {
		/* the port and the endpoints now name this server (a Service holding
		 * another ClusterIP keeps it: 422, left alone) */
		json_object_set(json_object_get(w, "metadata"), "resourceVersion",
				bl_ctl_get(have, "metadata.resourceVersion"));
		code = bl_ctl_request(c->srv, "PUT", path, NULL, w, NULL);
		if (code != 200)
			log_warn("default/kubernetes %s: update: %d", objs[which].res, code);
		rc = code == 200 || code == 422 ? 0 : -1;
	} else if (code != 200) {
		rc = -1;
	}
	json_decref(have);
	json_decref(w);
	return rc;
}

static void on_sync(evutil_socket_t fd, short what, void *arg)
{
	struct bl_controllers *c = arg;
	struct ksvc_ctl *s = c->ksvc;
	int rc = 0;

	(void)fd;
	(void)what;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		rc |= ensure(c, i, s->take_over);
	if (rc) {
		struct timeval later = {2, 0};

		event_add(s->ev, &later);
		return;
	}
	s->take_over = false;
}

int bl_ksvc_ctl_start(struct bl_controllers *c)
{
	struct ksvc_ctl *s = calloc(1, sizeof(*s));

	if (!s)
		return -1;
	c->ksvc = s;
	advertise_address(c->srv, s->ip);
	s->take_over = true;
	s->ev = evtimer_new(c->base, on_sync, c);
	if (!s->ev)
		return -1;
	bl_ctl_kick(s->ev);
	return 0;
}

void bl_ksvc_ctl_event(struct bl_controllers *c, const struct ctl_event *e)
{
	if (!c->ksvc || !c->ksvc->ev || e->ev->type != BL_EV_DELETE || strcmp(e->ns, "default") ||
	    strcmp(e->name, NAME))
		return;
	for (size_t i = 0; i < sizeof(objs) / sizeof(objs[0]); i++)
		if (!strcmp(e->res, objs[i].res))
			bl_ctl_kick(c->ksvc->ev);
}

void bl_ksvc_ctl_stop(struct bl_controllers *c)
{
	if (!c->ksvc)
		return;
	if (c->ksvc->ev)
		event_free(c->ksvc->ev);
	free(c->ksvc);
	c->ksvc = NULL;
}
