#include "controlplane/apiserver/patch.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static json_t *merge(json_t *target, json_t *patch)
{
	const char *k;
	json_t *v, *out;

	if (!json_is_object(patch))
		return json_deep_copy(patch);
	out = json_is_object(target) ? json_deep_copy(target) : json_object();
	json_object_foreach(patch, k, v)
	{
		if (json_is_null(v))
			json_object_del(out, k);
		else
			json_object_set_new(out, k, merge(json_object_get(out, k), v));
	}
	return out;
}

json_t *bl_merge_patch(json_t *target, json_t *patch)
{
	return merge(target, patch);
}

/* RFC 6901: "~1" is '/', "~0" is '~'. */
static char *unescape(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;

	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '~' && i + 1 < n && (s[i + 1] == '0' || s[i + 1] == '1')) {
			*o++ = s[i + 1] == '1' ? '/' : '~';
			i++;
		} else {
			*o++ = s[i];
		}
	}
	*o = '\0';
	return out;
}

static int array_index(json_t *arr, const char *tok, bool for_add, size_t *idx)
{
	size_t n = json_array_size(arr);
	char *end;
	unsigned long v;

	if (for_add && !strcmp(tok, "-")) {
		*idx = n; /* "-" appends */
		return 0;
	}
	if (!tok[0] || tok[0] == '-' || tok[0] == '+' || (tok[0] == '0' && tok[1]))
		return -1;
	v = strtoul(tok, &end, 10);
	if (*end || (for_add ? v > n : v >= n))
		return -1;
	*idx = v;
	return 0;
}

/* Resolves all but the last token: *parent and the last token (caller frees). */
static int resolve_parent(json_t *doc, const char *ptr, json_t **parent, char **last)
{
	json_t *cur = doc;
	const char *p = ptr;

	if (*p != '/')
		return -1;
	for (;;) {
		const char *seg = p + 1;
		size_t n = strcspn(seg, "/");
		char *tok = unescape(seg, n);

		if (!tok)
			return -1;
		if (seg[n] == '\0') {
			*parent = cur;
			*last = tok;
			return 0;
		}
		if (json_is_object(cur)) {
			cur = json_object_get(cur, tok);
		} else if (json_is_array(cur)) {
			size_t i;

			cur = array_index(cur, tok, false, &i) ? NULL : json_array_get(cur, i);
		} else {
			cur = NULL;
		}
		free(tok);
		if (!cur)
			return -1;
		p = seg + n;
	}
}

static json_t *get_at(json_t *doc, const char *ptr)
{
	json_t *parent, *v = NULL;
	char *last;
	size_t i;

	if (!ptr[0])
		return doc;
	if (resolve_parent(doc, ptr, &parent, &last))
		return NULL;
	if (json_is_object(parent))
		v = json_object_get(parent, last);
	else if (json_is_array(parent) && !array_index(parent, last, false, &i))
		v = json_array_get(parent, i);
	free(last);
	return v;
}

/* value is stolen. The root ("") cannot be replaced in place: callers handle it. */
static int add_at(json_t *doc, const char *ptr, json_t *value, bool replace)
{
	json_t *parent;
	char *last;
	size_t i;
	int rc = -1;

	if (resolve_parent(doc, ptr, &parent, &last)) {
		json_decref(value);
		return -1;
	}
	if (json_is_object(parent)) {
		if (!replace || json_object_get(parent, last))
			rc = json_object_set_new(parent, last, value);
		else
			json_decref(value);
	} else if (json_is_array(parent) && !array_index(parent, last, !replace, &i)) {
		rc = replace ? json_array_set_new(parent, i, value)
			     : json_array_insert_new(parent, i, value);
	} else {
		json_decref(value);
	}
	free(last);
	return rc;
}

static int remove_at(json_t *doc, const char *ptr)
{
	json_t *parent;
	char *last;
	size_t i;
	int rc = -1;

	if (resolve_parent(doc, ptr, &parent, &last))
		return -1;
	if (json_is_object(parent))
		rc = json_object_del(parent, last);
	else if (json_is_array(parent) && !array_index(parent, last, false, &i))
		rc = json_array_remove(parent, i);
	free(last);
	return rc;
}

static int apply_op(json_t *doc, json_t *op, char *err, size_t len)
{
	const char *name = json_string_value(json_object_get(op, "op"));
	const char *path = json_string_value(json_object_get(op, "path"));
	const char *from = json_string_value(json_object_get(op, "from"));
	json_t *value = json_object_get(op, "value");
	json_t *src;

	if (!name || !path || !path[0]) {
		snprintf(err, len, "each operation needs \"op\" and a non-root \"path\"");
		return -1;
	}
	if (!strcmp(name, "add") || !strcmp(name, "replace")) {
		if (!value)
			goto novalue;
		if (add_at(doc, path, json_deep_copy(value), name[0] == 'r'))
			goto badpath;
	} else if (!strcmp(name, "remove")) {
		if (remove_at(doc, path))
			goto badpath;
	} else if (!strcmp(name, "test")) {
		if (!value)
			goto novalue;
		if (!json_equal(get_at(doc, path), value)) {
			snprintf(err, len, "testing value %s failed", path);
			return -1;
		}
	} else if (!strcmp(name, "copy") || !strcmp(name, "move")) {
		src = from ? get_at(doc, from) : NULL;
		if (!src)
			goto badpath;
		src = json_deep_copy(src);
		if (name[0] == 'm' && remove_at(doc, from)) {
			json_decref(src);
			goto badpath;
		}
		if (add_at(doc, path, src, false))
			goto badpath;
	} else {
		snprintf(err, len, "unexpected op \"%s\"", name);
		return -1;
	}
	return 0;
novalue:
	snprintf(err, len, "op %s needs a \"value\"", name);
	return -1;
badpath:
	snprintf(err, len, "%s operation does not apply: doc is missing path: \"%s\"", name, path);
	return -1;
}

json_t *bl_json_patch(json_t *target, json_t *ops, char *err, size_t len)
{
	json_t *doc, *op;
	size_t i;

	if (!json_is_array(ops)) {
		snprintf(err, len, "a JSON patch is an array of operations");
		return NULL;
	}
	doc = json_deep_copy(target);
	json_array_foreach(ops, i, op)
	{
		if (!json_is_object(op) || apply_op(doc, op, err, len)) {
			if (!json_is_object(op))
				snprintf(err, len, "operation %zu is not an object", i);
			json_decref(doc);
			return NULL;
		}
	}
	return doc;
}
