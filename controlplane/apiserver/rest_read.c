/* get and list: reads at a revision, selectors, limit and continue tokens. */
#include "controlplane/apiserver/rest.h"
#include "controlplane/apiserver/obj_text.h"
#include "controlplane/apiserver/objmeta.h"
#include "controlplane/apiserver/respond.h"
#include "controlplane/apiserver/server.h"
#include "controlplane/apiserver/table.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAGE 500

void bl_rest_get(struct hx *x, const struct bl_route *r)
{
	char key[600];
	struct bl_kv kv;
	json_t *obj;
	int rc;

	bl_resource_key(r->res, r->ns, r->name, key, sizeof(key));
	rc = bl_store_get(x->srv->store, key, 0, &kv);
	if (rc) {
		bl_reply_store_err(x, rc, r->res, r->name);
		return;
	}
	obj = bl_obj_from_kv(&kv);
	bl_kv_free(&kv);
	if (!obj) {
		bl_reply_status(x, 500, "InternalError", "stored object is corrupt", r->res,
				r->name);
		return;
	}
	if (bl_wants_table(x))
		obj = bl_table_of(r->res, obj, false);
	bl_reply_json(x, 200, obj);
}

/* Continue tokens: base64 of {"v":"meta.k8s.io/v1","rv":REV,"start":LASTKEY}. */
static char *continue_encode(int64_t rev, const char *last)
{
	json_t *t = json_pack("{s:s, s:I, s:s}", "v", "meta.k8s.io/v1", "rv", (json_int_t)rev,
			      "start", last);
	char *js = json_dumps(t, JSON_COMPACT);
	size_t n = js ? strlen(js) : 0;
	char *out = js ? malloc(4 * ((n + 2) / 3) + 1) : NULL;

	if (out)
		EVP_EncodeBlock((unsigned char *)out, (unsigned char *)js, (int)n);
	free(js);
	json_decref(t);
	return out;
}

static int continue_decode(const char *tok, int64_t *rev, char **start)
{
	size_t n = strlen(tok);
	unsigned char *raw = malloc(n + 1);
	int len = raw ? EVP_DecodeBlock(raw, (const unsigned char *)tok, (int)n) : -1;
	json_t *t;
	int rc = -1;

	if (len < 0) {
		free(raw);
		return -1;
	}
	/* DecodeBlock counts the padding as zero bytes */
	while (len > 0 && raw[len - 1] == '\0')
		len--;
	t = json_loadb((char *)raw, (size_t)len, 0, NULL);
	if (json_is_string(json_object_get(t, "start")) &&
	    json_is_integer(json_object_get(t, "rv"))) {
		*rev = json_integer_value(json_object_get(t, "rv"));
		*start = strdup(json_string_value(json_object_get(t, "start")));
		rc = *start ? 0 : -1;
	}
	json_decref(t);
	free(raw);
	return rc;
}

/* The revision a list reads at, from resourceVersion / resourceVersionMatch / continue. */
static int list_rev(struct hx *x, int64_t *rev, char **start)
{
	const char *cont = hx_query(x, "continue");
	const char *rv = hx_query(x, "resourceVersion");
	const char *match = hx_query(x, "resourceVersionMatch");
	int64_t cur = bl_store_current_rev(x->srv->store), want;

	*start = NULL;
	*rev = cur;
	if (cont && cont[0]) {
		if (continue_decode(cont, rev, start)) {
			bl_reply_status(x, 400, "BadRequest", "continue key is not valid", NULL,
					NULL);
			return -1;
		}
		return 0;
	}
	if (!rv || !rv[0] || !strcmp(rv, "0"))
		return 0;
	want = bl_parse_rv(rv);
	if (want < 0) {
		bl_reply_statusf(x, 400, "BadRequest", NULL, NULL,
				 "invalid resource version \"%s\"", rv);
		return -1;
	}
	if (match && !strcmp(match, "Exact"))
		*rev = want;
	else if (want > cur)
		*rev = want; /* the store answers "future": 504 like kube's "Too large" */
	return 0;
}

static json_t *list_body(const struct bl_resource *res, int64_t rev)
{
	char kind[96], av[96], rvs[24];

	bl_list_kind(res, kind, sizeof(kind));
	bl_resource_api_version(res, av, sizeof(av));
	snprintf(rvs, sizeof(rvs), "%lld", (long long)rev);
	return json_pack("{s:s, s:s, s:{s:s}, s:[]}", "kind", kind, "apiVersion", av, "metadata",
			 "resourceVersion", rvs, "items");
}

/* The list as the client reads it. As text: the stored objects' own bytes between a
 * header and a tail (no tree built); as a Table: through jansson. */
struct list_out {
	bool table;
	json_t *body;	  /* table */
	struct bl_text t; /* text: the items, comma-separated */
	size_t n;
};

/* kv (obj: kv parsed, or NULL) as the next item; -1 when it is corrupt (skipped). */
static int list_add(struct list_out *o, const struct bl_kv *kv, json_t *obj)
{
	size_t mark = o->t.n;
	char *s;

	if (o->table) {
		json_array_append_new(json_object_get(o->body, "items"), obj);
		o->n++;
		return 0;
	}
	if (o->n)
		bl_text_add(&o->t, ",", 1);
	if (bl_text_add_obj(&o->t, kv, kv->mod_rev)) {
		/* unusual text: as jansson reads and writes it */
		obj = obj ? obj : bl_obj_from_kv(kv);
		s = obj ? json_dumps(obj, JSON_COMPACT) : NULL;
		json_decref(obj);
		if (!s) {
			o->t.n = mark;
			return -1;
		}
		bl_text_adds(&o->t, s);
		free(s);
	} else {
		json_decref(obj);
	}
	o->n++;
	return 0;
}

static void list_reply(struct hx *x, const struct bl_route *r, struct list_out *o, int64_t rev,
		       const char *cont)
{
	char kind[96], av[96], head[512];
	struct bl_text b = {0};

	if (o->table) {
		if (cont)
			json_object_set_new(json_object_get(o->body, "metadata"), "continue",
					    json_string(cont));
		bl_reply_json(x, 200, bl_table_of(r->res, o->body, true));
		o->body = NULL;
		return;
	}
	bl_list_kind(r->res, kind, sizeof(kind));
	bl_resource_api_version(r->res, av, sizeof(av));
	/* continue tokens are base64: nothing to escape */
	snprintf(head, sizeof(head),
		 "{\"kind\":\"%s\",\"apiVersion\":\"%s\",\"metadata\":{\"resourceVersion\":\"%"
		 "lld\"%s%s%s},"
		 "\"items\":[",
		 kind, av, (long long)rev, cont ? ",\"continue\":\"" : "", cont ? cont : "",
		 cont ? "\"" : "");
	bl_text_adds(&b, head);
	bl_text_add(&b, o->t.p ? o->t.p : "", o->t.n);
	bl_text_adds(&b, "]}\n");
	if (b.oom || o->t.oom)
		bl_reply_status(x, 500, "InternalError", "out of memory", NULL, NULL);
	else
		x->ops->reply(x, 200, "application/json", b.p, b.n);
	bl_text_free(&b);
}

void bl_rest_list(struct hx *x, const struct bl_route *r)
{
	struct bl_filter f;
	struct list_out o = {.table = bl_wants_table(x)};
	char prefix[600], *start = NULL, *last = NULL, *tok = NULL;
	const char *lim = hx_query(x, "limit");
	size_t limit = lim ? strtoul(lim, NULL, 10) : 0, page_size = 0;
	int64_t rev;
	bool more = false, parse;
	int rc = 0;

	if (bl_filter_parse(x, r, &f))
		return;
	if (list_rev(x, &rev, &start)) {
		bl_filter_free(&f);
		return;
	}
	/* a tree only when something has to look inside the objects */
	parse = o.table || !bl_filter_empty(&f);
	if (limit)
		page_size = parse && limit < PAGE ? PAGE : limit;
	bl_resource_key(r->res, r->ns[0] ? r->ns : NULL, NULL, prefix, sizeof(prefix));
	if (o.table)
		o.body = list_body(r->res, rev);
	/* pages from the store until limit objects matched the selectors */
	while (!more) {
		struct bl_kv_list page;

		rc = bl_store_list(x->srv->store, prefix, start, rev, page_size, &page);
		if (rc)
			break;
		for (size_t i = 0; i < page.n && !more; i++) {
			json_t *obj = parse ? bl_obj_from_kv(&page.items[i]) : NULL;

			if (parse && (!obj || !bl_filter_match(&f, obj))) {
				json_decref(obj);
				continue;
			}
			if (limit && o.n == limit) {
				json_decref(obj);
				more = true;
				break;
			}
			if (list_add(&o, &page.items[i], obj))
				continue;
			free(last);
			last = strdup(page.items[i].key);
		}
		/* without selectors every stored object is an item: the store knows */
		if (!parse && limit && o.n == limit && page.more)
			more = true;
		if (page.n) {
			free(start);
			start = strdup(page.items[page.n - 1].key);
		}
		bl_kv_list_free(&page);
		if (!page.more)
			break;
	}
	free(start);
	bl_filter_free(&f);
	if (!rc && more && last)
		tok = continue_encode(rev, last);
	free(last);
	if (rc)
		bl_reply_store_err(x, rc, r->res, NULL);
	else
		list_reply(x, r, &o, rev, tok);
	free(tok);
	json_decref(o.body);
	bl_text_free(&o.t);
}
