#include "controlplane/apiserver/selector.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum sel_op { SEL_EQ, SEL_NE, SEL_IN, SEL_NOTIN, SEL_EXISTS, SEL_NOT_EXISTS, SEL_GT, SEL_LT };

struct sel_req {
	char *key;
	enum sel_op op;
	size_t nvals;
	char **vals;
};

struct bl_selector {
	size_t n;
	struct sel_req *reqs;
};

struct lexer {
	const char *p;
	char *err;
	size_t errlen;
};

static void skip_ws(struct lexer *lx)
{
	while (isspace((unsigned char)*lx->p))
		lx->p++;
}

static bool word_char(char c, bool field)
{
	/* field values may hold more than label values do (e.g. "system:node:x") */
	return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.' || c == '/' ||
	       (field && c == ':');
}

static char *word(struct lexer *lx, bool field)
{
	const char *s;

	skip_ws(lx);
	s = lx->p;
	while (word_char(*lx->p, field))
		lx->p++;
	return strndup(s, (size_t)(lx->p - s));
}

static bool keyword(struct lexer *lx, const char *kw)
{
	size_t n = strlen(kw);

	skip_ws(lx);
	if (strncmp(lx->p, kw, n) || word_char(lx->p[n], false))
		return false;
	lx->p += n;
	return true;
}

static int fail(struct lexer *lx, const char *what)
{
	snprintf(lx->err, lx->errlen, "unable to parse requirement: %s at \"%s\"", what, lx->p);
	return -1;
}

static int add_val(struct sel_req *r, char *v)
{
	char **vals = realloc(r->vals, (r->nvals + 1) * sizeof(*vals));

	if (!vals || !v) {
		free(v);
		return -1;
	}
	r->vals = vals;
	r->vals[r->nvals++] = v;
	return 0;
}

static int value_set(struct lexer *lx, struct sel_req *r)
{
	skip_ws(lx);
	if (*lx->p != '(')
		return fail(lx, "expected '('");
	lx->p++;
	for (;;) {
		if (add_val(r, word(lx, false)))
			return -1;
		skip_ws(lx);
		if (*lx->p == ')') {
			lx->p++;
			return 0;
		}
		if (*lx->p != ',')
			return fail(lx, "expected ',' or ')'");
		lx->p++;
	}
}

static int requirement(struct lexer *lx, struct sel_req *r, bool field)
{
	skip_ws(lx);
	if (!field && *lx->p == '!') {
		lx->p++;
		r->op = SEL_NOT_EXISTS;
		r->key = word(lx, false);
		return r->key && r->key[0] ? 0 : fail(lx, "expected a key");
	}
	r->key = word(lx, field);
	if (!r->key || !r->key[0])
		return fail(lx, "expected a key");
	skip_ws(lx);
	if (!strncmp(lx->p, "==", 2) || !strncmp(lx->p, "!=", 2)) {
		r->op = lx->p[0] == '!' ? SEL_NE : SEL_EQ;
		lx->p += 2;
	} else if (*lx->p == '=') {
		r->op = SEL_EQ;
		lx->p++;
	} else if (!field && (*lx->p == '>' || *lx->p == '<')) {
		r->op = *lx->p == '>' ? SEL_GT : SEL_LT;
		lx->p++;
	} else if (!field && keyword(lx, "notin")) {
		r->op = SEL_NOTIN;
		return value_set(lx, r);
	} else if (!field && keyword(lx, "in")) {
		r->op = SEL_IN;
		return value_set(lx, r);
	} else if (!field && (*lx->p == ',' || *lx->p == '\0')) {
		r->op = SEL_EXISTS;
		return 0;
	} else {
		return fail(lx, "expected an operator");
	}
	return add_val(r, word(lx, field));
}

static int parse(const char *text, struct bl_selector **out, char *err, size_t len, bool field)
{
	struct bl_selector *s = calloc(1, sizeof(*s));
	struct lexer lx = {text ? text : "", err, len};

	*out = NULL;
	if (!s)
		return -1;
	skip_ws(&lx);
	while (*lx.p) {
		struct sel_req *reqs = realloc(s->reqs, (s->n + 1) * sizeof(*reqs));

		if (!reqs)
			goto bad;
		s->reqs = reqs;
		memset(&reqs[s->n], 0, sizeof(reqs[0]));
		s->n++;
		if (requirement(&lx, &reqs[s->n - 1], field))
			goto bad;
		skip_ws(&lx);
		if (*lx.p == ',') {
			lx.p++;
			skip_ws(&lx);
			if (!*lx.p) {
				fail(&lx, "expected a requirement after ','");
				goto bad;
			}
		} else if (*lx.p) {
			fail(&lx, "expected ','");
			goto bad;
		}
	}
	*out = s;
	return 0;
bad:
	bl_selector_free(s);
	return -1;
}

int bl_label_selector_parse(const char *text, struct bl_selector **out, char *err, size_t len)
{
	return parse(text, out, err, len, false);
}

int bl_field_selector_parse(const char *text, struct bl_selector **out, char *err, size_t len)
{
	return parse(text, out, err, len, true);
}

void bl_selector_free(struct bl_selector *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		for (size_t j = 0; j < s->reqs[i].nvals; j++)
			free(s->reqs[i].vals[j]);
		free(s->reqs[i].vals);
		free(s->reqs[i].key);
	}
	free(s->reqs);
	free(s);
}

size_t bl_selector_count(const struct bl_selector *s)
{
	return s ? s->n : 0;
}

const char *bl_selector_key(const struct bl_selector *s, size_t i)
{
	return s->reqs[i].key;
}

static bool in_set(const struct sel_req *r, const char *v)
{
	for (size_t i = 0; i < r->nvals; i++)
		if (!strcmp(r->vals[i], v))
			return true;
	return false;
}

static bool req_match(const struct sel_req *r, const char *v)
{
	char *end;
	long long a, b;

	switch (r->op) {
	case SEL_EQ:
		return v && !strcmp(v, r->vals[0]);
	case SEL_NE:
		return !v || strcmp(v, r->vals[0]) != 0;
	case SEL_IN:
		return v && in_set(r, v);
	case SEL_NOTIN:
		return !v || !in_set(r, v);
	case SEL_EXISTS:
		return v != NULL;
	case SEL_NOT_EXISTS:
		return v == NULL;
	case SEL_GT:
	case SEL_LT:
		if (!v)
			return false;
		a = strtoll(v, &end, 10);
		if (*end || !*v)
			return false;
		b = strtoll(r->vals[0], &end, 10);
		return r->op == SEL_GT ? a > b : a < b;
	}
	return false;
}

bool bl_label_selector_match(const struct bl_selector *s, json_t *labels)
{
	for (size_t i = 0; s && i < s->n; i++)
		if (!req_match(&s->reqs[i],
			       json_string_value(json_object_get(labels, s->reqs[i].key))))
			return false;
	return true;
}

/* The field at a dotted path as text; "" when absent, as kube-apiserver compares it. */
static void field_value(json_t *obj, const char *path, char *buf, size_t len)
{
	char seg[256];
	json_t *v = obj;

	while (v && *path) {
		size_t n = strcspn(path, ".");

		snprintf(seg, sizeof(seg), "%.*s", (int)n, path);
		v = json_object_get(v, seg);
		path += n + (path[n] == '.');
	}
	buf[0] = '\0';
	if (json_is_string(v))
		snprintf(buf, len, "%s", json_string_value(v));
	else if (json_is_boolean(v))
		snprintf(buf, len, "%s", json_is_true(v) ? "true" : "false");
	else if (json_is_integer(v))
		snprintf(buf, len, "%lld", (long long)json_integer_value(v));
}

bool bl_field_selector_match(const struct bl_selector *s, json_t *obj)
{
	char v[1024];

	for (size_t i = 0; s && i < s->n; i++) {
		field_value(obj, s->reqs[i].key, v, sizeof(v));
		if (!req_match(&s->reqs[i], v))
			return false;
	}
	return true;
}
