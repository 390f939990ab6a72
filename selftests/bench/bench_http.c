#include "selftests/bench/bench_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CURL *bench_handle(const char *base, const char *pki, const char *path)
{
	CURL *c = curl_easy_init();
	char url[512], buf[512];

	if (!c)
		return NULL;
	snprintf(url, sizeof(url), "%s%s", base, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	snprintf(buf, sizeof(buf), "%s/ca.crt", pki);
	curl_easy_setopt(c, CURLOPT_CAINFO, buf);
	snprintf(buf, sizeof(buf), "%s/admin.crt", pki);
	curl_easy_setopt(c, CURLOPT_SSLCERT, buf);
	snprintf(buf, sizeof(buf), "%s/admin.key", pki);
	curl_easy_setopt(c, CURLOPT_SSLKEY, buf);
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION,
			 getenv("BENCH_H1") ? CURL_HTTP_VERSION_1_1 : CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_VERBOSE, getenv("BENCH_VERBOSE") ? 1L : 0L);
	return c;
}

size_t bench_collect(char *p, size_t s, size_t n, void *arg)
{
	struct bench_body *b = arg;
	char *np = realloc(b->p, b->n + s * n + 1);

	if (!np)
		return 0;
	memcpy(np + b->n, p, s * n);
	b->n += s * n;
	np[b->n] = '\0';
	b->p = np;
	return s * n;
}
