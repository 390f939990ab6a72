/* One request and its response, whichever protocol carried it (HTTP/1.1 via evhttp or an
 * HTTP/2 stream via nghttp2). Handlers answer with reply() or with stream_start(),
 * stream_write()... stream_end(); after reply() or stream_end() the exchange is gone. */
#ifndef BPFLET_CP_EXCHANGE_H
#define BPFLET_CP_EXCHANGE_H

#include <event2/keyvalq_struct.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stddef.h>

struct bl_apiserver;
struct hx;

struct hx_ops {
	void (*reply)(struct hx *x, int status, const char *ctype, const char *body, size_t len);
	void (*stream_start)(struct hx *x, int status, const char *ctype);
	void (*stream_write)(struct hx *x, const char *data, size_t len);
	void (*stream_end)(struct hx *x);
};

#define HX_MAX_GROUPS 16

struct bl_user {
	char name[256];
	char uid[128];
	int ngroups;
	char groups[HX_MAX_GROUPS][128];
};

struct hx {
	const struct hx_ops *ops;
	struct bl_apiserver *srv;
	const char *proto; /* "HTTP/1.1" or "HTTP/2" (logs) */
	char method[16];
	char *uri;  /* as sent: path and query */
	char *path; /* percent-decoded path */
	struct evkeyvalq query;
	const char *content_type, *accept, *authorization; /* may be NULL */
	const char *body;
	size_t body_len;
	SSL *ssl; /* the connection's TLS state: the client certificate */
	struct bl_user user;
	/* Set by a streaming handler: the client went away before stream_end(). After
	 * it returns the exchange is freed. */
	void (*on_close)(struct hx *x, void *arg);
	void *close_arg;
};

/* Parses uri into path and query. Returns 0 or -1 (malformed: answer 400). */
int hx_init(struct hx *x, const char *method, const char *uri);
void hx_cleanup(struct hx *x);
const char *hx_query(struct hx *x, const char *key);

/* The whole request: authenticate, authorize, route, answer. */
void bl_handle(struct hx *x);

#endif
