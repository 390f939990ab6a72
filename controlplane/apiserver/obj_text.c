#include "controlplane/apiserver/obj_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEPTH 256

void bl_text_add(struct bl_text *t, const char *s, size_t n)
{
	if (t->oom)
		return;
	if (t->n + n + 1 > t->cap) {
		size_t cap = t->cap ? t->cap : 4096;
		char *p;

		while (cap < t->n + n + 1)
			cap *= 2;
		p = realloc(t->p, cap);
		if (!p) {
			t->oom = true;
			return;
		}
		t->p = p;
		t->cap = cap;
	}
	memcpy(t->p + t->n, s, n);
	t->n += n;
	t->p[t->n] = '\0';
}

void bl_text_adds(struct bl_text *t, const char *s)
{
	bl_text_add(t, s, strlen(s));
}

void bl_text_free(struct bl_text *t)
{
	free(t->p);
	memset(t, 0, sizeof(*t));
}

/* A strict JSON reader that only skips: each returns the end of what it read, or NULL
 * when the text is not JSON there. */
struct rd {
	const char *end;
};

static const char *ws(const struct rd *r, const char *p)
{
	while (p < r->end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

static bool hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

static const char *string(const struct rd *r, const char *p)
{
	if (p >= r->end || *p != '"')
		return NULL;
	for (p++; p < r->end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p + 1;
		if (c < 0x20)
			return NULL;
		if (c != '\\')
			continue;
		if (++p >= r->end)
			return NULL;
		if (*p == 'u') {
			if (r->end - p < 5 || !hex(p[1]) || !hex(p[2]) || !hex(p[3]) || !hex(p[4]))
				return NULL;
			p += 4;
		} else if (!strchr("\"\\/bfnrt", *p) || !*p) {
			return NULL;
		}
	}
	return NULL;
}

static const char *digits(const struct rd *r, const char *p)
{
	const char *s = p;

	while (p < r->end && *p >= '0' && *p <= '9')
		p++;
	return p > s ? p : NULL;
}

static const char *number(const struct rd *r, const char *p)
{
	if (p < r->end && *p == '-')
		p++;
	if (p < r->end && *p == '0')
		p++;
	else if (!(p = digits(r, p)))
		return NULL;
	if (p < r->end && *p == '.' && !(p = digits(r, p + 1)))
		return NULL;
	if (p < r->end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < r->end && (*p == '+' || *p == '-'))
			p++;
		if (!(p = digits(r, p)))
			return NULL;
	}
	return p;
}

static const char *word(const struct rd *r, const char *p, const char *w)
{
	size_t n = strlen(w);

	return (size_t)(r->end - p) >= n && !memcmp(p, w, n) ? p + n : NULL;
}

static const char *value(const struct rd *r, const char *p, int depth);

/* An object or array; on_key (objects, may be NULL) sees each key's text (without
 * quotes) and where its value starts. */
static const char *container(const struct rd *r, const char *p, int depth,
			     void (*on_key)(void *arg, const char *k, size_t n, const char *v),
			     void *arg)
{
	bool obj = *p == '{';
	char close = obj ? '}' : ']';

	if (depth > MAX_DEPTH)
		return NULL;
	p = ws(r, p + 1);
	if (p < r->end && *p == close)
		return p + 1;
	for (;;) {
		if (obj) {
			const char *k = p;

			if (!(p = string(r, p)))
				return NULL;
			p = ws(r, p);
			if (p >= r->end || *p != ':')
				return NULL;
			p = ws(r, p + 1);
			if (on_key)
				on_key(arg, k + 1, (size_t)(p - (k + 1)), p);
		}
		if (!(p = value(r, p, depth + 1)))
			return NULL;
		p = ws(r, p);
		if (p >= r->end)
			return NULL;
		if (*p == close)
			return p + 1;
		if (*p != ',')
			return NULL;
		p = ws(r, p + 1);
	}
}

static const char *value(const struct rd *r, const char *p, int depth)
{
	if (p >= r->end)
		return NULL;
	switch (*p) {
	case '{':
	case '[':
		return container(r, p, depth, NULL, NULL);
	case '"':
		return string(r, p);
	case 't':
		return word(r, p, "true");
	case 'f':
		return word(r, p, "false");
	case 'n':
		return word(r, p, "null");
	default:
		return number(r, p);
	}
}

/* key text k of n bytes (its closing quote, the colon and spacing included) is
 * "name"? */
static bool key_is(const char *k, size_t n, const char *name)
{
	size_t len = strlen(name);

	return n > len && !memcmp(k, name, len) && k[len] == '"';
}

struct meta_find {
	const char *meta; /* where metadata's value starts */
	bool has_rv;
};

static void on_meta_key(void *arg, const char *k, size_t n, const char *v)
{
	(void)v;
	if (key_is(k, n, "resourceVersion"))
		((struct meta_find *)arg)->has_rv = true;
}

static void on_top_key(void *arg, const char *k, size_t n, const char *v)
{
	if (key_is(k, n, "metadata"))
		((struct meta_find *)arg)->meta = v;
}

int bl_text_add_obj(struct bl_text *t, const struct bl_kv *kv, int64_t rev)
{
	struct rd r = {kv->value + kv->len};
	struct meta_find m = {0};
	const char *p = ws(&r, kv->value), *after, *inner;
	char rv[48];
	int n;

	if (p >= r.end || *p != '{')
		return -1;
	p = container(&r, p, 0, on_top_key, &m);
	if (!p || ws(&r, p) != r.end || !m.meta || *m.meta != '{')
		return -1;
	/* read again for its keys: a stored resourceVersion would be said twice */
	if (!container(&r, m.meta, 1, on_meta_key, &m) || m.has_rv)
		return -1;
	inner = ws(&r, m.meta + 1);
	after = m.meta + 1;
	n = snprintf(rv, sizeof(rv), "\"resourceVersion\":\"%lld\"%s", (long long)rev,
		     *inner == '}' ? "" : ",");
	bl_text_add(t, kv->value, (size_t)(after - kv->value));
	bl_text_add(t, rv, (size_t)n);
	bl_text_add(t, after, (size_t)(r.end - after));
	return 0;
}
