/* HTTP/2 with nghttp2 on a TLS bufferevent taken over from evhttp (see http1.c): every
 * stream is one exchange; watch streams stay open and are fed as events arrive. */
#include "controlplane/apiserver/server.h"
#include "agent/common/log.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <nghttp2/nghttp2.h>
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>
#include <utlist.h>

#define MAX_BODY (3 * 1024 * 1024)

struct h2_stream {
	struct hx x;
	struct h2_conn *c;
	int32_t id;
	char method[16];
	char *path, *ctype, *accept, *authz;
	struct evbuffer *body;
	struct evbuffer *out;
	bool too_large;
	bool dispatched;
	bool answered; /* reply() or stream_end(): the handler let go */
	bool eof;      /* no more response data */
	struct h2_stream *prev, *next;
};

struct h2_conn {
	struct bl_apiserver *srv;
	struct bufferevent *bev;
	SSL *ssl;
	nghttp2_session *ng;
	struct event *flush; /* sends from outside nghttp2's callbacks */
	struct h2_stream *streams;
	/* evhttp's callbacks, given back so that evhttp frees the connection */
	bufferevent_data_cb h1_read, h1_write;
	bufferevent_event_cb h1_event;
	void *h1_arg;
	bool closing;
	struct h2_conn *prev, *next;
};

static void conn_close(struct h2_conn *c);

static void schedule_send(struct h2_conn *c)
{
	if (!c->closing)
		event_active(c->flush, EV_TIMEOUT, 0);
}

static void stream_free(struct h2_stream *s)
{
	DL_DELETE(s->c->streams, s);
	hx_cleanup(&s->x);
	free(s->path);
	free(s->ctype);
	free(s->accept);
	free(s->authz);
	if (s->body)
		evbuffer_free(s->body);
	if (s->out)
		evbuffer_free(s->out);
	free(s);
}

static ssize_t read_out(nghttp2_session *ng, int32_t id, uint8_t *buf, size_t len, uint32_t *flags,
			nghttp2_data_source *src, void *user)
{
	struct h2_stream *s = src->ptr;
	int n = evbuffer_remove(s->out, buf, len);

	(void)ng;
	(void)id;
	(void)user;
	if (n < 0)
		return NGHTTP2_ERR_TEMPORAL_CALLBACK_FAILURE;
	if (evbuffer_get_length(s->out) == 0) {
		if (s->eof)
			*flags |= NGHTTP2_DATA_FLAG_EOF;
		else if (n == 0)
			return NGHTTP2_ERR_DEFERRED; /* resumed by the next write */
	}
	return n;
}

static void submit(struct h2_stream *s, int status, const char *ctype)
{
	char code[8];
	nghttp2_nv nv[] = {
		{(uint8_t *)":status", (uint8_t *)code, 7, 0, NGHTTP2_NV_FLAG_NONE},
		{(uint8_t *)"content-type", (uint8_t *)ctype, 12, strlen(ctype),
		 NGHTTP2_NV_FLAG_NONE},
		{(uint8_t *)"cache-control", (uint8_t *)"no-cache, private", 13, 17,
		 NGHTTP2_NV_FLAG_NONE},
	};
	nghttp2_data_provider prd = {.source.ptr = s, .read_callback = read_out};

	snprintf(code, sizeof(code), "%d", status);
	nv[0].valuelen = strlen(code);
	nghttp2_submit_response(s->c->ng, s->id, nv, 3, &prd);
	schedule_send(s->c);
}

static void h2_reply(struct hx *x, int status, const char *ctype, const char *body, size_t len)
{
	struct h2_stream *s = (struct h2_stream *)x;

	evbuffer_add(s->out, body, len);
	s->eof = true;
	s->answered = true;
	submit(s, status, ctype);
}

static void h2_stream_start(struct hx *x, int status, const char *ctype)
{
	submit((struct h2_stream *)x, status, ctype);
}

static void h2_stream_write(struct hx *x, const char *data, size_t len)
{
	struct h2_stream *s = (struct h2_stream *)x;

	evbuffer_add(s->out, data, len);
	nghttp2_session_resume_data(s->c->ng, s->id);
	schedule_send(s->c);
}

static void h2_stream_end(struct hx *x)
{
	struct h2_stream *s = (struct h2_stream *)x;

	s->eof = true;
	s->answered = true;
	nghttp2_session_resume_data(s->c->ng, s->id);
	schedule_send(s->c);
}

static const struct hx_ops h2_ops = {h2_reply, h2_stream_start, h2_stream_write, h2_stream_end};

static ssize_t on_send(nghttp2_session *ng, const uint8_t *data, size_t len, int flags, void *user)
{
	struct h2_conn *c = user;

	(void)ng;
	(void)flags;
	if (bufferevent_write(c->bev, data, len) != 0)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	return (ssize_t)len;
}

static int on_begin_headers(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_conn *c = user;
	struct h2_stream *s;

	if (frame->hd.type != NGHTTP2_HEADERS || frame->headers.cat != NGHTTP2_HCAT_REQUEST)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NGHTTP2_ERR_CALLBACK_FAILURE;
	s->c = c;
	s->id = frame->hd.stream_id;
	s->body = evbuffer_new();
	s->out = evbuffer_new();
	TAILQ_INIT(&s->x.query);
	DL_APPEND(c->streams, s);
	nghttp2_session_set_stream_user_data(ng, s->id, s);
	return 0;
}

static void keep(char **dst, const uint8_t *v, size_t n)
{
	free(*dst);
	*dst = strndup((const char *)v, n);
}

static int on_header(nghttp2_session *ng, const nghttp2_frame *frame, const uint8_t *name,
		     size_t namelen, const uint8_t *value, size_t valuelen, uint8_t flags,
		     void *user)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);

	(void)flags;
	(void)user;
	if (!s || frame->hd.type != NGHTTP2_HEADERS)
		return 0;
#define IS(lit) (namelen == sizeof(lit) - 1 && !memcmp(name, lit, namelen))
	if (IS(":method"))
		snprintf(s->method, sizeof(s->method), "%.*s", (int)valuelen, value);
	else if (IS(":path"))
		keep(&s->path, value, valuelen);
	else if (IS("content-type"))
		keep(&s->ctype, value, valuelen);
	else if (IS("accept"))
		keep(&s->accept, value, valuelen);
	else if (IS("authorization"))
		keep(&s->authz, value, valuelen);
#undef IS
	return 0;
}

static int on_data(nghttp2_session *ng, uint8_t flags, int32_t id, const uint8_t *data, size_t len,
		   void *user)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)flags;
	(void)user;
	if (!s)
		return 0;
	if (evbuffer_get_length(s->body) + len > MAX_BODY)
		s->too_large = true;
	else
		evbuffer_add(s->body, data, len);
	return 0;
}

static void dispatch(struct h2_stream *s)
{
	static const char too_large[] =
		"{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"metadata\":{},"
		"\"status\":\"Failure\",\"message\":\"the request body is "
		"too large\",\"reason\":\"RequestEntityTooLarge\","
		"\"code\":413}\n";

	s->dispatched = true;
	s->x.ops = &h2_ops;
	s->x.srv = s->c->srv;
	s->x.proto = "HTTP/2";
	s->x.ssl = s->c->ssl;
	s->x.content_type = s->ctype;
	s->x.accept = s->accept;
	s->x.authorization = s->authz;
	s->x.body_len = evbuffer_get_length(s->body);
	s->x.body = (const char *)evbuffer_pullup(s->body, -1);
	if (hx_init(&s->x, s->method, s->path ? s->path : "")) {
		h2_reply(&s->x, 400, "text/plain", "malformed request\n", 18);
		return;
	}
	if (s->too_large) {
		h2_reply(&s->x, 413, "application/json", too_large, sizeof(too_large) - 1);
		return;
	}
	bl_handle(&s->x);
}

static int on_frame(nghttp2_session *ng, const nghttp2_frame *frame, void *user)
{
	struct h2_stream *s;

	(void)user;
	if (frame->hd.type != NGHTTP2_HEADERS && frame->hd.type != NGHTTP2_DATA)
		return 0;
	if (!(frame->hd.flags & NGHTTP2_FLAG_END_STREAM))
		return 0;
	s = nghttp2_session_get_stream_user_data(ng, frame->hd.stream_id);
	if (s && !s->dispatched)
		dispatch(s);
	return 0;
}

static int on_stream_close(nghttp2_session *ng, int32_t id, uint32_t err, void *user)
{
	struct h2_stream *s = nghttp2_session_get_stream_user_data(ng, id);

	(void)err;
	(void)user;
	if (!s)
		return 0;
	/* reset by the client while a handler still holds it: a watch going away */
	if (s->dispatched && !s->answered && s->x.on_close)
		s->x.on_close(&s->x, s->x.close_arg);
	stream_free(s);
	return 0;
}

static void send_now(struct h2_conn *c)
{
	if (c->closing)
		return;
	if (nghttp2_session_send(c->ng) != 0 ||
	    (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng) &&
	     evbuffer_get_length(bufferevent_get_output(c->bev)) == 0))
		conn_close(c);
}

static void on_flush(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	send_now(arg);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct h2_conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len = evbuffer_get_length(in);
	ssize_t n = nghttp2_session_mem_recv(c->ng, evbuffer_pullup(in, -1), len);

	if (n < 0) {
		log_debug("h2: %s", nghttp2_strerror((int)n));
		conn_close(c);
		return;
	}
	evbuffer_drain(in, (size_t)n);
	send_now(c);
}

static void on_write(struct bufferevent *bev, void *arg)
{
	struct h2_conn *c = arg;

	(void)bev;
	if (!nghttp2_session_want_read(c->ng) && !nghttp2_session_want_write(c->ng))
		conn_close(c);
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	(void)bev;
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR | BEV_EVENT_TIMEOUT))
		conn_close(arg);
}

static void conn_close(struct h2_conn *c)
{
	struct h2_stream *s, *tmp;
	struct bufferevent *bev = c->bev;

	if (c->closing)
		return;
	c->closing = true;
	DL_FOREACH_SAFE(c->streams, s, tmp)
	{
		if (s->dispatched && !s->answered && s->x.on_close)
			s->x.on_close(&s->x, s->x.close_arg);
		stream_free(s);
	}
	nghttp2_session_del(c->ng);
	event_free(c->flush);
	DL_DELETE(c->srv->h2_conns, c);
	/* evhttp still owns the connection: tell it the peer is gone and it frees it */
	bufferevent_setcb(bev, c->h1_read, c->h1_write, c->h1_event, c->h1_arg);
	if (c->h1_event)
		c->h1_event(bev, BEV_EVENT_EOF | BEV_EVENT_READING, c->h1_arg);
	free(c);
}

void bl_h2_adopt(struct bl_apiserver *srv, struct bufferevent *bev, SSL *ssl)
{
	static nghttp2_session_callbacks *cbs;
	nghttp2_settings_entry settings[] = {
		{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 250},
		{NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20},
	};
	struct h2_conn *c = calloc(1, sizeof(*c));
	static nghttp2_option *opt;

	/* nghttp2's rapid-reset guard (Debian's CVE-2023-44487 fix: 33/s after a burst of
	 * 1000) answered a client doing ~1500 sequential requests/s on one connection with
	 * GOAWAY INTERNAL_ERROR after ~1000 of them. A ceiling well above a busy client
	 * still stops a reset flood. */
	if (!opt && nghttp2_option_new(&opt) == 0)
		nghttp2_option_set_stream_reset_rate_limit(opt, 10000, 5000);
	if (!cbs && nghttp2_session_callbacks_new(&cbs) == 0) {
		nghttp2_session_callbacks_set_send_callback(cbs, on_send);
		nghttp2_session_callbacks_set_on_begin_headers_callback(cbs, on_begin_headers);
		nghttp2_session_callbacks_set_on_header_callback(cbs, on_header);
		nghttp2_session_callbacks_set_on_data_chunk_recv_callback(cbs, on_data);
		nghttp2_session_callbacks_set_on_frame_recv_callback(cbs, on_frame);
		nghttp2_session_callbacks_set_on_stream_close_callback(cbs, on_stream_close);
	}
	if (!c || !cbs || nghttp2_session_server_new2(&c->ng, cbs, c, opt) != 0) {
		free(c);
		return; /* evhttp keeps it and answers the preface with an error */
	}
	c->srv = srv;
	c->bev = bev;
	c->ssl = ssl;
	c->flush = event_new(srv->base, -1, 0, on_flush, c);
	bufferevent_getcb(bev, &c->h1_read, &c->h1_write, &c->h1_event, &c->h1_arg);
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	/* evhttp's idle timeout would cut long watches */
	bufferevent_set_timeouts(bev, NULL, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	DL_APPEND(srv->h2_conns, c);
	nghttp2_submit_settings(c->ng, NGHTTP2_FLAG_NONE, settings, 2);
	schedule_send(c);
}

void bl_h2_close_all(struct bl_apiserver *srv)
{
	while (srv->h2_conns)
		conn_close(srv->h2_conns);
}
