#include "agent/common/json_skip.h"

#include <string.h>

#define MAX_DEPTH 256

const char *bl_json_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static bool hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *string(const char *p, const char *end)
{
	if (p >= end || *p != '"')
		return NULL;
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= end)
			return NULL;
		if (*p == 'u') {
			if (end - p < 5 || !hex(p[1]) || !hex(p[2]) || !hex(p[3]) || !hex(p[4]))
				return NULL;
			p += 4;
		} else if (!*p || !strchr("\"\\/bfnrt", *p)) {
			return NULL;
		}
	}
	return NULL;
}

static const char *digits(const char *p, const char *end)
{
	const char *s = p;

	while (p < end && *p >= '0' && *p <= '9')
		p++;
	return p > s ? p : NULL;
}

static const char *number(const char *p, const char *end)
{
	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0')
		p++;
	else if (!(p = digits(p, end)))
		return NULL;
	if (p < end && *p == '.' && !(p = digits(p + 1, end)))
		return NULL;
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = digits(p, end)))
			return NULL;
	}
	return p;
}

static const char *word(const char *p, const char *end, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

static const char *value(const char *p, const char *end, int depth);

static const char *container(const char *p, const char *end, int depth, bl_json_each_cb cb,
			     void *arg)
{
	bool obj = *p == '{';
	char close = obj ? '}' : ']';

	if (depth > MAX_DEPTH)
		return NULL;
	p = bl_json_ws(p + 1, end);
	if (p < end && *p == close)
		return p + 1;
	for (;;) {
		const char *k = NULL, *k_end = NULL, *v;

		if (obj) {
			k = p;
			if (!(p = string(p, end)))
				return NULL;
			k_end = p - 1;
			p = bl_json_ws(p, end);
			if (p >= end || *p != ':')
				return NULL;
			p = bl_json_ws(p + 1, end);
		}
		v = p;
		if (!(p = value(p, end, depth + 1)))
			return NULL;
		if (cb && !cb(arg, k ? k + 1 : NULL, k ? (size_t)(k_end - (k + 1)) : 0, v, p))
			return NULL;
		p = bl_json_ws(p, end);
		if (p >= end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = bl_json_ws(p + 1, end);
	}
}

static const char *value(const char *p, const char *end, int depth)
{
	if (p >= end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		return container(p, end, depth, NULL, NULL);
	case '"':
		return string(p, end);
	case 't':
		return word(p, end, "true");
	case 'f':
		return word(p, end, "false");
	case 'n':
		return word(p, end, "null");
	default:
		return number(p, end);
	}
}

const char *bl_json_skip(const char *p, const char *end)
{
	return value(p, end, 0);
}

const char *bl_json_each(const char *p, const char *end, bl_json_each_cb cb, void *arg)
{
	if (p >= end || (*p != '{' && *p != '['))
		return NULL;
	return container(p, end, 0, cb, arg);
}

bool bl_json_key_is(const char *key, size_t key_len, const char *name)
{
	return key && key_len == strlen(name) && !memcmp(key, name, key_len);
}
