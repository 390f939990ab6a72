#include "controlplane/compile/k8s_json.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bl_kj_fail(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || !errlen)
		return -EINVAL;
	n = snprintf(err, errlen, "%s: ", path);
	if (n < 0 || (size_t)n >= errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Up to max bytes of s at buf + at; returns the new end. Paths are built for every
 * field read, error or not, so they are put together without printf. */
static size_t put(char *buf, size_t at, const char *s, size_t max)
{
	size_t n = strnlen(s, max);

	memmove(buf + at, s, n);
	return at + n;
}

const char *bl_kj_key(char *buf, const char *parent, const char *key)
{
	size_t at = 0;

	if (parent && *parent) {
		at = put(buf, 0, parent, 90);
		buf[at++] = '.';
	}
	at = put(buf, at, key, 30);
	buf[at] = 0;
	return buf;
}

const char *bl_kj_idx(char *buf, const char *parent, size_t i)
{
	char digits[24];
	size_t nd = 0, at = put(buf, 0, parent, 100);

	do {
		digits[nd++] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	buf[at++] = '[';
	while (nd)
		buf[at++] = digits[--nd];
	buf[at++] = ']';
	buf[at] = 0;
	return buf;
}

/* The value at parent.key, NULL when absent or null. */
static const json_t *field(const json_t *parent, const char *key)
{
	const json_t *v = json_is_object(parent) ? json_object_get(parent, key) : NULL;

	return json_is_null(v) ? NULL : v;
}

int bl_kj_object(const json_t *parent, const char *key, const char *ppath, const json_t **out,
		 char *err, size_t errlen)
{
	const json_t *v = field(parent, key);
	char path[BL_PATH_LEN];

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_object(v))
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key), "must be an object");
	*out = v;
	return 0;
}

int bl_kj_array(const json_t *parent, const char *key, const char *ppath, const json_t **out,
		char *err, size_t errlen)
{
	const json_t *v = field(parent, key);
	char path[BL_PATH_LEN];

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_array(v))
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key), "must be a list");
	*out = v;
	return 0;
}

int bl_kj_string(const json_t *parent, const char *key, const char *ppath, char *buf, size_t len,
		 bool *present, char *err, size_t errlen)
{
	const json_t *v = field(parent, key);
	char path[BL_PATH_LEN];

	if (present)
		*present = false;
	if (!v)
		return 0;
	if (!json_is_string(v))
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key), "must be a string");
	if (json_string_length(v) >= len)
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key),
				  "must be at most %zu characters", len - 1);
	if (strlen(json_string_value(v)) != json_string_length(v))
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key),
				  "must not contain NUL bytes");
	memcpy(buf, json_string_value(v), json_string_length(v) + 1);
	if (present)
		*present = true;
	return 0;
}

int bl_kj_int(const json_t *parent, const char *key, const char *ppath, long long min,
	      long long max, long long *out, bool *present, char *err, size_t errlen)
{
	const json_t *v = field(parent, key);
	char path[BL_PATH_LEN];

	if (present)
		*present = false;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key),
				  "must be an integer %lld-%lld", min, max);
	*out = json_integer_value(v);
	if (present)
		*present = true;
	return 0;
}

int bl_kj_bool(const json_t *parent, const char *key, const char *ppath, bool *out, bool *present,
	       char *err, size_t errlen)
{
	const json_t *v = field(parent, key);
	char path[BL_PATH_LEN];

	if (present)
		*present = false;
	if (!v)
		return 0;
	if (!json_is_boolean(v))
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key),
				  "must be true or false");
	*out = json_is_true(v);
	if (present)
		*present = true;
	return 0;
}

int bl_kj_protocol(const json_t *parent, const char *key, const char *ppath, uint8_t *proto,
		   char *err, size_t errlen)
{
	char path[BL_PATH_LEN], s[8] = "TCP";
	int e = bl_kj_string(parent, key, ppath, s, sizeof(s), NULL, NULL, 0);

	if (!e && !strcmp(s, "TCP"))
		*proto = IPPROTO_TCP;
	else if (!e && !strcmp(s, "UDP"))
		*proto = IPPROTO_UDP;
	else if (!e && !strcmp(s, "SCTP"))
		*proto = IPPROTO_SCTP;
	else
		return bl_kj_fail(err, errlen, bl_kj_key(path, ppath, key),
				  "must be one of TCP, UDP, SCTP");
	return 0;
}

int bl_kj_ip_text(const char *text, const char *path, struct bpflet_addr *addr, uint8_t *family,
		  char *err, size_t errlen)
{
	memset(addr, 0, sizeof(*addr));
	if (inet_pton(AF_INET, text, &addr->addr[0]) == 1) {
		*family = BPFLET_AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, text, addr->addr) == 1) {
		*family = BPFLET_AF_INET6;
		return 0;
	}
	return bl_kj_fail(err, errlen, path, "\"%.64s\" is not a valid IP address", text);
}

static bool label_chars(const char *s, size_t n)
{
	if (n == 0 || n > 63 || !isalnum((unsigned char)s[0]) || !isalnum((unsigned char)s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(islower((unsigned char)s[i]) || isdigit((unsigned char)s[i]) || s[i] == '-'))
			return false;
	return true;
}

bool bl_k8s_dns_label(const char *s)
{
	return label_chars(s, strlen(s));
}

bool bl_k8s_dns_subdomain(const char *s)
{
	size_t len = strlen(s);

	if (len == 0 || len > 253)
		return false;
	for (const char *p = s;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);

		if (!label_chars(p, n))
			return false;
		if (!dot)
			return true;
		p = dot + 1;
	}
}

bool bl_k8s_port_name(const char *s)
{
	size_t n = strlen(s);
	bool letter = false;

	/* IANA_SVC_NAME: ≤15 chars, [a-z0-9-], a letter somewhere, no "--", no edge '-' */
	if (n == 0 || n > 15 || s[0] == '-' || s[n - 1] == '-' || strstr(s, "--"))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (islower((unsigned char)s[i]))
			letter = true;
		else if (!isdigit((unsigned char)s[i]) && s[i] != '-')
			return false;
	}
	return letter;
}
