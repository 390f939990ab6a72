/* get and list: reads at a revision, selectors, limit and continue tokens. */
#include "controlplane/apiserver/rest.h"
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

void bl_rest_list(struct hx *x, const struct bl_route *r)
{
	struct bl_filter f;
	char prefix[600], *start = NULL, *last = NULL;
	const char *lim = hx_query(x, "limit");
	size_t limit = lim ? strtoul(lim, NULL, 10) : 0, n = 0;
	int64_t rev;
	bool more = false;
	json_t *body, *items;
	int rc = 0;

	if (bl_filter_parse(x, r, &f))
		return;
	if (list_rev(x, &rev, &start)) {
		bl_filter_free(&f);
		return;
	}
	bl_resource_key(r->res, r->ns[0] ? r->ns : NULL, NULL, prefix, sizeof(prefix));
	body = list_body(r->res, rev);
	items = json_object_get(body, "items");
	/* pages from the store until limit objects matched the selectors */
	while (!more) {
		struct bl_kv_list page;

		rc = bl_store_list(x->srv->store, prefix, start, rev, limit ? PAGE : 0, &page);
		if (rc)
			break;
		for (size_t i = 0; i < page.n; i++) {
			json_t *obj = bl_obj_from_kv(&page.items[i]);

			if (!obj || !bl_filter_match(&f, obj)) {
				json_decref(obj);
				continue;
			}
			if (limit && n == limit) {
				json_decref(obj);
				more = true;
				break;
			}
			json_array_append_new(items, obj);
			n++;
			free(last);
			last = strdup(page.items[i].key);
		}
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
	if (rc) {
		free(last);
		json_decref(body);
		bl_reply_store_err(x, rc, r->res, NULL);
		return;
	}
	if (more && last) {
		char *tok = continue_encode(rev, last);

		json_object_set_new(json_object_get(body, "metadata"), "continue",
				    json_string(tok ? tok : ""));
		free(tok);
	}
	free(last);
	if (bl_wants_table(x))
		body = bl_table_of(r->res, body, true);
	bl_reply_json(x, 200, body);
}
