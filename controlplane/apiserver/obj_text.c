#include "controlplane/apiserver/obj_text.h"
#include "agent/common/json_skip.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct meta_find {
	const char *meta; /* where metadata's value starts */
	bool has_rv;
};

static bool on_meta_key(void *arg, const char *k, size_t n, const char *v, const char *v_end)
{
	(void)v;
	(void)v_end;
	if (bl_json_key_is(k, n, "resourceVersion"))
		((struct meta_find *)arg)->has_rv = true;
	return true;
}

static bool on_top_key(void *arg, const char *k, size_t n, const char *v, const char *v_end)
{
	(void)v_end;
	if (bl_json_key_is(k, n, "metadata"))
		((struct meta_find *)arg)->meta = v;
	return true;
}

int bl_text_add_obj(struct bl_text *t, const struct bl_kv *kv, int64_t rev)
{
	const char *end = kv->value + kv->len, *p = bl_json_ws(kv->value, end), *after, *inner;
	struct meta_find m = {0};
	char rv[48];
	int n;

	p = bl_json_each(p, end, on_top_key, &m);
	if (!p || bl_json_ws(p, end) != end || !m.meta || *m.meta != '{')
		return -1;
	/* read again for its keys: a stored resourceVersion would be said twice */
	if (!bl_json_each(m.meta, end, on_meta_key, &m) || m.has_rv)
		return -1;
	inner = bl_json_ws(m.meta + 1, end);
	after = m.meta + 1;
	n = snprintf(rv, sizeof(rv), "\"resourceVersion\":\"%lld\"%s", (long long)rev,
		     *inner == '}' ? "" : ",");
	bl_text_add(t, kv->value, (size_t)(after - kv->value));
	bl_text_add(t, rv, (size_t)n);
	bl_text_add(t, after, (size_t)(end - after));
	return 0;
}
