/* TCP listening sockets on numeric addresses, bound without getaddrinfo (whose
 * AI_ADDRCONFIG refuses 0.0.0.0 and 127.0.0.1 in a namespace with no IPv4 address
 * but the loopback's, as a fresh node namespace is). */
#ifndef BPFLET_LISTEN_SOCK_H
#define BPFLET_LISTEN_SOCK_H

/* A non-blocking, SO_REUSEADDR listener on host:port. Returns the fd, -EAFNOSUPPORT
 * when host is not a numeric IPv4/IPv6 address (resolve it another way), or -errno. */
int bl_listen_tcp(const char *host, int port);

struct evhttp;
/* evhttp on host:port: bl_listen_tcp for a numeric host, evhttp's own resolver for a
 * name. Returns 0 or -errno (errno set too). */
int bl_evhttp_listen(struct evhttp *http, const char *host, int port);

#endif
