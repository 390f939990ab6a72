/* libyaml's event stream → jansson values, one JSON array entry per document. */
#include "agent/manifests/yaml_json.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#define MAX_DEPTH 100 /* Kubernetes objects are shallow; this stops stack exhaustion */

struct anchor {
	char *name;
	json_t *val; /* borrowed from the document being built */
};

struct yctx {
	yaml_parser_t p;
	char *err;
	size_t errlen;
	struct anchor *anchors;
	size_t n_anchors, cap_anchors;
};

static int fail_at(struct yctx *c, const yaml_mark_t *m, const char *what)
{
	snprintf(c->err, c->errlen, "line %zu column %zu: %s", m->line + 1, m->column + 1, what);
	return -EINVAL;
}

static int next(struct yctx *c, yaml_event_t *ev)
{
	if (yaml_parser_parse(&c->p, ev))
		return 0;
	snprintf(c->err, c->errlen, "line %zu column %zu: %s%s%s", c->p.problem_mark.line + 1,
		 c->p.problem_mark.column + 1, c->p.problem ? c->p.problem : "invalid YAML",
		 c->p.context ? " " : "", c->p.context ? c->p.context : "");
	return -EINVAL;
}

/* Anchors are per document; a redefinition shadows the older one. */
static int anchor_add(struct yctx *c, const yaml_char_t *name, json_t *val)
{
	if (!name)
		return 0;
	if (c->n_anchors == c->cap_anchors) {
		size_t cap = c->cap_anchors ? c->cap_anchors * 2 : 8;
		struct anchor *a = realloc(c->anchors, cap * sizeof(*a));

		if (!a)
			return -ENOMEM;
		c->anchors = a;
		c->cap_anchors = cap;
	}
	c->anchors[c->n_anchors].name = strdup((const char *)name);
	if (!c->anchors[c->n_anchors].name)
		return -ENOMEM;
	c->anchors[c->n_anchors++].val = val;
	return 0;
}

static void anchors_clear(struct yctx *c)
{
	for (size_t i = 0; i < c->n_anchors; i++)
		free(c->anchors[i].name);
	c->n_anchors = 0;
}

static json_t *alias(struct yctx *c, const yaml_event_t *ev)
{
	for (size_t i = c->n_anchors; i-- > 0;)
		if (!strcmp(c->anchors[i].name, (const char *)ev->data.alias.anchor))
			return json_incref(c->anchors[i].val);
	fail_at(c, &ev->start_mark, "unknown alias");
	return NULL;
}

/* Explicit tags win; quoted and block scalars are strings; plain ones are resolved. */
static json_t *scalar(struct yctx *c, const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	const char *tag = (const char *)ev->data.scalar.tag;
	json_t *j;

	if (tag && !ev->data.scalar.plain_implicit && strcmp(tag, "!")) {
		if (!strcmp(tag, YAML_STR_TAG))
			return json_stringn(v, len);
		j = bl_yaml_plain_scalar(v, len);
		if ((!strcmp(tag, YAML_INT_TAG) && json_is_integer(j)) ||
		    (!strcmp(tag, YAML_FLOAT_TAG) && json_is_number(j)) ||
		    (!strcmp(tag, YAML_BOOL_TAG) && json_is_boolean(j)) ||
		    (!strcmp(tag, YAML_NULL_TAG) && json_is_null(j)))
			return j;
		json_decref(j);
		fail_at(c, &ev->start_mark, "value does not match its tag");
		return NULL;
	}
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return json_stringn(v, len);
	return bl_yaml_plain_scalar(v, len);
}

static json_t *node(struct yctx *c, yaml_event_t *ev, int depth);

static json_t *sequence(struct yctx *c, yaml_event_t *start, int depth)
{
	json_t *arr = json_array();
	yaml_event_t ev;

	if (!arr)
		goto fail;
	for (;;) {
		json_t *child;

		if (next(c, &ev))
			goto fail;
		if (ev.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&ev);
			/* registered once complete, so an alias can never make a cycle */
			if (anchor_add(c, start->data.sequence_start.anchor, arr))
				goto fail;
			return arr;
		}
		child = node(c, &ev, depth + 1);
		if (!child || json_array_append_new(arr, child))
			goto fail;
	}
fail:
	json_decref(arr);
	return NULL;
}

static json_t *mapping(struct yctx *c, yaml_event_t *start, int depth)
{
	json_t *obj = json_object();
	yaml_event_t kev;
	char *key = NULL;

	if (!obj)
		goto fail;
	for (;;) {
		yaml_event_t vev;
		json_t *child;

		if (next(c, &kev))
			goto fail;
		if (kev.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&kev);
			if (anchor_add(c, start->data.mapping_start.anchor, obj))
				goto fail;
			return obj;
		}
		if (kev.type != YAML_SCALAR_EVENT) {
			fail_at(c, &kev.start_mark, "mapping keys must be scalars");
			yaml_event_delete(&kev);
			goto fail;
		}
		/* keys are always strings in Kubernetes objects (YAML→JSON stringifies) */
		key = strndup((const char *)kev.data.scalar.value, kev.data.scalar.length);
		if (!key || json_object_get(obj, key)) {
			if (key)
				fail_at(c, &kev.start_mark, "duplicate mapping key");
			yaml_event_delete(&kev);
			goto fail;
		}
		yaml_event_delete(&kev);
		if (next(c, &vev))
			goto fail;
		child = node(c, &vev, depth + 1);
		if (!child || json_object_set_new(obj, key, child))
			goto fail;
		free(key);
		key = NULL;
	}
fail:
	free(key);
	json_decref(obj);
	return NULL;
}

/* Builds the value that starts with ev, consuming ev and all events of the value. */
static json_t *node(struct yctx *c, yaml_event_t *ev, int depth)
{
	json_t *v = NULL;

	if (depth > MAX_DEPTH) {
		fail_at(c, &ev->start_mark, "nesting too deep");
		yaml_event_delete(ev);
		return NULL;
	}
	switch (ev->type) {
	case YAML_SCALAR_EVENT:
		v = scalar(c, ev);
		if (v && anchor_add(c, ev->data.scalar.anchor, v)) {
			json_decref(v);
			v = NULL;
		}
		break;
	case YAML_ALIAS_EVENT:
		v = alias(c, ev);
		break;
	case YAML_SEQUENCE_START_EVENT:
		v = sequence(c, ev, depth);
		break;
	case YAML_MAPPING_START_EVENT:
		v = mapping(c, ev, depth);
		break;
	default:
		fail_at(c, &ev->start_mark, "unexpected YAML event");
		break;
	}
	yaml_event_delete(ev);
	return v;
}

/* One document: DOCUMENT-START already consumed; reads through DOCUMENT-END. */
static json_t *document(struct yctx *c)
{
	yaml_event_t ev;
	json_t *v;

	if (next(c, &ev))
		return NULL;
	v = node(c, &ev, 0);
	anchors_clear(c);
	if (!v || next(c, &ev))
		goto fail;
	if (ev.type != YAML_DOCUMENT_END_EVENT) {
		fail_at(c, &ev.start_mark, "expected the end of the document");
		yaml_event_delete(&ev);
		goto fail;
	}
	yaml_event_delete(&ev);
	return v;
fail:
	json_decref(v);
	return NULL;
}

int bl_yaml_load(const char *buf, size_t len, json_t **docs, char *err, size_t errlen)
{
	struct yctx c = {.err = err, .errlen = errlen};
	yaml_event_t ev;
	int e = -EINVAL;

	*docs = json_array();
	if (!*docs || !yaml_parser_initialize(&c.p)) {
		snprintf(err, errlen, "out of memory");
		json_decref(*docs);
		*docs = NULL;
		return -ENOMEM;
	}
	yaml_parser_set_input_string(&c.p, (const unsigned char *)buf, len);
	for (;;) {
		if (next(&c, &ev))
			break;
		if (ev.type == YAML_STREAM_END_EVENT) {
			e = 0;
			break;
		}
		if (ev.type == YAML_DOCUMENT_START_EVENT) {
			json_t *d = document(&c);

			yaml_event_delete(&ev);
			if (!d || json_array_append_new(*docs, d))
				break;
			continue;
		}
		yaml_event_delete(&ev); /* STREAM-START */
	}
	if (!e)
		yaml_event_delete(&ev);
	anchors_clear(&c);
	free(c.anchors);
	yaml_parser_delete(&c.p);
	if (e) {
		json_decref(*docs);
		*docs = NULL;
	}
	return e;
}

int bl_json_stream_load(const char *buf, size_t len, json_t **docs, char *err, size_t errlen)
{
	size_t off = 0;

	*docs = json_array();
	if (!*docs)
		return -ENOMEM;
	for (;;) {
		json_error_t je;
		json_t *v;

		while (off < len && strchr(" \t\r\n", buf[off]))
			off++;
		if (off >= len)
			return 0;
		v = json_loadb(buf + off, len - off,
			       JSON_DISABLE_EOF_CHECK | JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
			       &je);
		if (!v || json_array_append_new(*docs, v)) {
			/* line numbers are relative to this value: make them absolute */
			int line = je.line;

			for (size_t i = 0; i < off; i++)
				line += buf[i] == '\n';
			snprintf(err, errlen, "line %d column %d: %s", line, je.column, je.text);
			json_decref(*docs);
			*docs = NULL;
			return -EINVAL;
		}
		off += je.position;
	}
}
