/* libcurl multi on libevent: the socket and timer callbacks curl asks for. */
#include "agent/kube/kube_client.h"

#include "agent/common/log.h"

#include <curl/curl.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

struct bl_kube_client {
	struct event_base *base;
	const struct bl_kube_config *cfg;
	CURLM *multi;
	struct event *timer;
};

struct bl_kube_req {
	struct bl_kube_client *c;
	CURL *easy;
	struct curl_slist *hdrs;
	const struct bl_kube_req_ops *ops;
	void *arg;
	char errbuf[CURL_ERROR_SIZE];
};

struct sock_ctx {
	struct event *ev;
};

static void check_done(struct bl_kube_client *c)
{
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(c->multi, &left))) {
		struct bl_kube_req *r;
		long status = 0;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
		curl_easy_getinfo(m->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		curl_multi_remove_handle(c->multi, r->easy);
		r->ops->on_done(r->arg, status, m->data.result == CURLE_OK,
				r->errbuf[0] ? r->errbuf : curl_easy_strerror(m->data.result));
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		free(r);
	}
}

static void on_sock_event(evutil_socket_t fd, short what, void *arg)
{
	struct bl_kube_client *c = arg;
	int running, flags = (what & EV_READ ? CURL_CSELECT_IN : 0) |
			     (what & EV_WRITE ? CURL_CSELECT_OUT : 0);

	curl_multi_socket_action(c->multi, fd, flags, &running);
	check_done(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct bl_kube_client *c = arg;
	int running;

	(void)fd;
	(void)what;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	check_done(c);
}

static int sock_cb(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct bl_kube_client *c = userp;
	struct sock_ctx *sc = socketp;
	short kind = EV_PERSIST | (what & CURL_POLL_IN ? EV_READ : 0) |
		     (what & CURL_POLL_OUT ? EV_WRITE : 0);

	(void)e;
	if (what == CURL_POLL_REMOVE) {
		if (sc) {
			event_free(sc->ev);
			free(sc);
			curl_multi_assign(c->multi, s, NULL);
		}
		return 0;
	}
	if (!sc) {
		sc = calloc(1, sizeof(*sc));
		if (!sc)
			return -1;
		curl_multi_assign(c->multi, s, sc);
	} else {
		event_free(sc->ev);
	}
	sc->ev = event_new(c->base, s, kind, on_sock_event, c);
	return sc->ev ? event_add(sc->ev, NULL) : -1;
}

static int timer_cb(CURLM *m, long ms, void *userp)
{
	struct bl_kube_client *c = userp;
	struct timeval tv = {ms / 1000, (ms % 1000) * 1000};

	(void)m;
	if (ms < 0)
		return event_del(c->timer);
	return event_add(c->timer, &tv);
}

struct bl_kube_client *bl_kube_client_new(struct event_base *base, const struct bl_kube_config *cfg)
{
	struct bl_kube_client *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->base = base;
	c->cfg = cfg;
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer, c);
	if (!c->multi || !c->timer) {
		bl_kube_client_free(c);
		return NULL;
	}
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, sock_cb);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, timer_cb);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_PIPELINING, CURLPIPE_MULTIPLEX);
	return c;
}

void bl_kube_client_free(struct bl_kube_client *c)
{
	if (!c)
		return;
	if (c->multi)
		curl_multi_cleanup(c->multi);
	if (c->timer)
		event_free(c->timer);
	free(c);
}

static size_t on_write(char *p, size_t sz, size_t n, void *arg)
{
	struct bl_kube_req *r = arg;
	long status = 0;

	curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &status);
	return r->ops->on_data(r->arg, status, p, sz * n) ? sz * n : 0;
}

static void set_blob(CURL *e, CURLoption opt, const struct bl_kube_blob *b)
{
	struct curl_blob blob = {.data = b->data, .len = b->len, .flags = CURL_BLOB_COPY};

	curl_easy_setopt(e, opt, &blob);
}

struct bl_kube_req *bl_kube_get(struct bl_kube_client *c, const char *path, long timeout_s,
				const struct bl_kube_req_ops *ops, void *arg)
{
	return bl_kube_request(c, "GET", path, NULL, NULL, timeout_s, ops, arg);
}

struct bl_kube_req *bl_kube_request(struct bl_kube_client *c, const char *method, const char *path,
				    const char *body, const char *content_type, long timeout_s,
				    const struct bl_kube_req_ops *ops, void *arg)
{
	const struct bl_kube_config *cfg = c->cfg;
	struct bl_kube_req *r = calloc(1, sizeof(*r));
	char url[4096], tok[8192], auth[8300], ctype[128];

	if (!r || !(r->easy = curl_easy_init())) {
		free(r);
		return NULL;
	}
	r->c = c;
	r->ops = ops;
	r->arg = arg;
	snprintf(url, sizeof(url), "%s%s", cfg->server, path);
	r->hdrs = curl_slist_append(NULL, "Accept: application/json");
	if (bl_kube_config_token(cfg, tok, sizeof(tok)) == 0 && tok[0]) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s", tok);
		r->hdrs = curl_slist_append(r->hdrs, auth);
	}
	if (body) {
		snprintf(ctype, sizeof(ctype), "Content-Type: %s",
			 content_type ? content_type : "application/json");
		r->hdrs = curl_slist_append(r->hdrs, ctype);
		curl_easy_setopt(r->easy, CURLOPT_COPYPOSTFIELDS, body);
	}
	if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(r->easy, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(r->easy, CURLOPT_URL, url);
	curl_easy_setopt(r->easy, CURLOPT_HTTPHEADER, r->hdrs);
	curl_easy_setopt(r->easy, CURLOPT_USERAGENT, "bpflet");
	curl_easy_setopt(r->easy, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	/* wait for the shared HTTP/2 connection instead of opening another */
	curl_easy_setopt(r->easy, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(r->easy, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(r->easy, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(r->easy, CURLOPT_PRIVATE, r);
	curl_easy_setopt(r->easy, CURLOPT_ERRORBUFFER, r->errbuf);
	curl_easy_setopt(r->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(r->easy, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPIDLE, 30L);
	curl_easy_setopt(r->easy, CURLOPT_TCP_KEEPINTVL, 10L);
	if (timeout_s > 0)
		curl_easy_setopt(r->easy, CURLOPT_TIMEOUT, timeout_s);
	if (cfg->ca.len)
		set_blob(r->easy, CURLOPT_CAINFO_BLOB, &cfg->ca);
	if (cfg->cert.len) {
		set_blob(r->easy, CURLOPT_SSLCERT_BLOB, &cfg->cert);
		set_blob(r->easy, CURLOPT_SSLKEY_BLOB, &cfg->key);
		curl_easy_setopt(r->easy, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(r->easy, CURLOPT_SSLKEYTYPE, "PEM");
	}
	if (cfg->insecure) {
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->easy, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (curl_multi_add_handle(c->multi, r->easy) != CURLM_OK) {
		log_err("kube: cannot start GET %s", path);
		curl_easy_cleanup(r->easy);
		curl_slist_free_all(r->hdrs);
		free(r);
		return NULL;
	}
	return r;
}
