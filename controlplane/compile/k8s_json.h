/*
 * Typed reads of Kubernetes JSON fields that report the field path on error, the way
 * the API server does ("spec.ports[0].port: must be an integer 1-65535"). JSON null
 * counts as absent, like Go's decoder; unknown fields are never looked at.
 */
#ifndef BPFLET_K8S_JSON_H
#define BPFLET_K8S_JSON_H

#include "agent/common/netaddr.h" /* bl_proto_name */

#include <bpflet/abi.h>
#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BL_PATH_LEN 128

/* Formats "path: message" into err and returns -EINVAL. */
int bl_kj_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* "parent.key" / "parent[i]" into buf (truncated safely); returns buf. */
const char *bl_kj_key(char *buf, const char *parent, const char *key);
const char *bl_kj_idx(char *buf, const char *parent, size_t i);

/* Each returns 0 (with *present / out untouched when absent) or -EINVAL. */
int bl_kj_object(const json_t *parent, const char *key, const char *ppath, const json_t **out,
		 char *err, size_t errlen);
int bl_kj_array(const json_t *parent, const char *key, const char *ppath, const json_t **out,
		char *err, size_t errlen);
/* Copies a string into buf (size len); longer strings are an error. */
int bl_kj_string(const json_t *parent, const char *key, const char *ppath, char *buf, size_t len,
		 bool *present, char *err, size_t errlen);
int bl_kj_int(const json_t *parent, const char *key, const char *ppath, long long min,
	      long long max, long long *out, bool *present, char *err, size_t errlen);
int bl_kj_bool(const json_t *parent, const char *key, const char *ppath, bool *out, bool *present,
	       char *err, size_t errlen);

/* "TCP"/"UDP"/"SCTP" → IPPROTO_*; absent → TCP (the API server's default). */
int bl_kj_protocol(const json_t *parent, const char *key, const char *ppath, uint8_t *proto,
		   char *err, size_t errlen);
/* An IPv4 or IPv6 address in text; IPv6 is parsed so it can be skipped, not rejected. */
int bl_kj_ip_text(const char *text, const char *path, struct bpflet_addr *addr, uint8_t *family,
		  char *err, size_t errlen);

/* Kubernetes name rules we rely on (RFC 1123 label / subdomain, IANA service name). */
bool bl_k8s_dns_label(const char *s);
bool bl_k8s_dns_subdomain(const char *s);
bool bl_k8s_port_name(const char *s);

#endif
