/* What the HTTP benchmarks share: a libcurl handle for the control plane with its
 * admin client certificate, and a growing response body. */
#ifndef BPFLET_BENCH_HTTP_H
#define BPFLET_BENCH_HTTP_H

#include <curl/curl.h>
#include <stddef.h>

/* base + path, TLS with PKI/ca.crt and PKI/admin.{crt,key}; HTTP/2 unless BENCH_H1
 * is set, requests logged with BENCH_VERBOSE. */
CURL *bench_handle(const char *base, const char *pki, const char *path);

struct bench_body {
	char *p; /* NUL-terminated */
	size_t n;
};

/* A CURLOPT_WRITEFUNCTION appending to the struct bench_body in WRITEDATA. */
size_t bench_collect(char *p, size_t s, size_t n, void *arg);

#endif
