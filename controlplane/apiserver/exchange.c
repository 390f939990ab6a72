#include "controlplane/apiserver/exchange.h"

#include <event2/http.h>
#include <stdio.h>
#include <sys/queue.h>
#include <stdlib.h>
#include <string.h>

int hx_init(struct hx *x, const char *method, const char *uri)
{
	struct evhttp_uri *u;
	const char *path, *q;

	TAILQ_INIT(&x->query);
	snprintf(x->method, sizeof(x->method), "%s", method);
	x->uri = strdup(uri);
	u = evhttp_uri_parse_with_flags(uri, EVHTTP_URI_NONCONFORMANT);
	if (!u || !x->uri) {
		evhttp_uri_free(u);
		return -1;
	}
	path = evhttp_uri_get_path(u);
	q = evhttp_uri_get_query(u);
	x->path = evhttp_uridecode(path && *path ? path : "/", 0, NULL);
	if (!x->path || (q && evhttp_parse_query_str(q, &x->query) != 0)) {
		evhttp_uri_free(u);
		return -1;
	}
	evhttp_uri_free(u);
	return 0;
}

void hx_cleanup(struct hx *x)
{
	evhttp_clear_headers(&x->query);
	free(x->uri);
	free(x->path);
	x->uri = x->path = NULL;
}

const char *hx_query(struct hx *x, const char *key)
{
	return evhttp_find_header(&x->query, key);
}
