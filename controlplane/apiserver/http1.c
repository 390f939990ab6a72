/* HTTP/1.1 by evhttp over OpenSSL bufferevents. Every connection starts here; one whose
 * ALPN chose h2 is handed to http2.c as soon as its handshake is done. */
#include "controlplane/apiserver/server.h"
#include "controlplane/apiserver/tls.h"
#include "agent/common/listen_sock.h"
#include "agent/common/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/http.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#define MAX_BODY (3 * 1024 * 1024) /* kube-apiserver's request size limit */

static int ex_bev = -1; /* SSL ex_data: the connection's bufferevent */
static int ex_srv = -1; /* SSL_CTX ex_data: the server */

struct h1x {
	struct hx x;
	struct evhttp_request *req;
	struct evhttp_connection *evcon; /* while streaming */
};

static void h1_free(struct h1x *h)
{
	hx_cleanup(&h->x);
	free(h);
}

static void set_ctype(struct evhttp_request *req, const char *ctype)
{
	struct evkeyvalq *out = evhttp_request_get_output_headers(req);

	evhttp_add_header(out, "Content-Type", ctype);
	evhttp_add_header(out, "Cache-Control", "no-cache, private");
}

static void h1_reply(struct hx *x, int status, const char *ctype, const char *body, size_t len)
{
	struct h1x *h = (struct h1x *)x;
	struct evbuffer *buf = evbuffer_new();

	set_ctype(h->req, ctype);
	if (buf)
		evbuffer_add(buf, body, len);
	evhttp_send_reply(h->req, status, NULL, buf);
	evbuffer_free(buf);
	h1_free(h);
}

static void h1_closed(struct evhttp_connection *evcon, void *arg)
{
	struct h1x *h = arg;

	(void)evcon;
	if (h->x.on_close)
		h->x.on_close(&h->x, h->x.close_arg);
	/* evhttp detached the unfinished request from the failed connection and left it
	 * to us: ending a detached request frees it */
	if (!evhttp_request_get_connection(h->req))
		evhttp_send_reply_end(h->req);
	h1_free(h);
}

static void h1_stream_start(struct hx *x, int status, const char *ctype)
{
	struct h1x *h = (struct h1x *)x;

	set_ctype(h->req, ctype);
	h->evcon = evhttp_request_get_connection(h->req);
	/* the client hanging up is how a watch usually ends */
	evhttp_connection_set_closecb(h->evcon, h1_closed, h);
	evhttp_send_reply_start(h->req, status, NULL);
}

static void h1_stream_write(struct hx *x, const char *data, size_t len)
{
	struct h1x *h = (struct h1x *)x;
	struct evbuffer *buf = evbuffer_new();

	if (!buf)
		return;
	evbuffer_add(buf, data, len);
	evhttp_send_reply_chunk(h->req, buf);
	evbuffer_free(buf);
}

static void h1_stream_end(struct hx *x)
{
	struct h1x *h = (struct h1x *)x;

	evhttp_connection_set_closecb(h->evcon, NULL, NULL);
	evhttp_send_reply_end(h->req);
	h1_free(h);
}

static const struct hx_ops h1_ops = {h1_reply, h1_stream_start, h1_stream_write, h1_stream_end};

static const char *method_name(enum evhttp_cmd_type cmd)
{
	switch (cmd) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	default:
		return "OTHER";
	}
}

static void on_request(struct evhttp_request *req, void *arg)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	struct evbuffer *body = evhttp_request_get_input_buffer(req);
	struct bufferevent *bev =
		evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
	struct h1x *h = calloc(1, sizeof(*h));

	if (!h) {
		evhttp_send_error(req, 500, NULL);
		return;
	}
	h->x.ops = &h1_ops;
	h->x.srv = arg;
	h->x.proto = "HTTP/1.1";
	h->req = req;
	h->x.ssl = bufferevent_openssl_get_ssl(bev);
	h->x.content_type = evhttp_find_header(in, "Content-Type");
	h->x.accept = evhttp_find_header(in, "Accept");
	h->x.authorization = evhttp_find_header(in, "Authorization");
	h->x.body_len = evbuffer_get_length(body);
	h->x.body = (const char *)evbuffer_pullup(body, -1);
	if (hx_init(&h->x, method_name(evhttp_request_get_command(req)),
		    evhttp_request_get_uri(req))) {
		h1_reply(&h->x, 400, "text/plain", "malformed request URI\n", 22);
		return;
	}
	bl_handle(&h->x);
}

/* Runs inside the handshake: once ALPN chose h2 the connection leaves evhttp. */
static void on_tls_info(const SSL *ssl, int where, int ret)
{
	struct bufferevent *bev;

	(void)ret;
	if (where & SSL_CB_HANDSHAKE_DONE) {
		int one = 1;

		/* a watch event is a small write: without this, Nagle holds the next one
		 * until the client's delayed ACK (40 ms) */
		setsockopt(SSL_get_fd(ssl), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	}
	if (!(where & SSL_CB_HANDSHAKE_DONE) || !bl_tls_is_h2((SSL *)ssl))
		return;
	bev = SSL_get_ex_data(ssl, ex_bev);
	if (!bev)
		return;
	/* TLS 1.3 may report "done" again: adopt once */
	SSL_set_ex_data((SSL *)ssl, ex_bev, NULL);
	bl_h2_adopt(SSL_CTX_get_ex_data(SSL_get_SSL_CTX(ssl), ex_srv), bev, (SSL *)ssl);
}

static struct bufferevent *make_bev(struct event_base *base, void *arg)
{
	struct bl_apiserver *srv = arg;
	SSL *ssl = SSL_new(srv->ssl_ctx);
	struct bufferevent *bev;

	if (!ssl)
		return NULL;
	/* evhttp sets the socket afterwards */
	bev = bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
					     BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		SSL_free(ssl);
		return NULL;
	}
	SSL_set_ex_data(ssl, ex_bev, bev);
	return bev;
}

int bl_http_listen(struct bl_apiserver *srv)
{
	if (ex_bev < 0) {
		ex_bev = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
		ex_srv = SSL_CTX_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	}
	SSL_CTX_set_ex_data(srv->ssl_ctx, ex_srv, srv);
	SSL_CTX_set_info_callback(srv->ssl_ctx, on_tls_info);
	srv->http = evhttp_new(srv->base);
	if (!srv->http)
		return -1;
	evhttp_set_bevcb(srv->http, make_bev, srv);
	evhttp_set_gencb(srv->http, on_request, srv);
	evhttp_set_max_body_size(srv->http, MAX_BODY);
	evhttp_set_max_headers_size(srv->http, 1024 * 1024);
	/* idle keep-alive connections; watches keep writing (bookmarks) or time out */
	evhttp_set_timeout(srv->http, 3600);
	evhttp_set_allowed_methods(srv->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_PUT |
						      EVHTTP_REQ_PATCH | EVHTTP_REQ_DELETE |
						      EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
	if (bl_evhttp_listen(srv->http, srv->cfg.listen_host, srv->cfg.listen_port)) {
		log_err("cannot listen on %s:%d: %m", srv->cfg.listen_host, srv->cfg.listen_port);
		return -1;
	}
	return 0;
}

void bl_http_close(struct bl_apiserver *srv)
{
	if (srv->http)
		evhttp_free(srv->http);
	srv->http = NULL;
}
