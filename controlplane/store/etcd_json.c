#include "controlplane/store/etcd_json.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *bl_b64_encode(const void *buf, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out)
		EVP_EncodeBlock((unsigned char *)out, buf, (int)len);
	return out;
}

char *bl_b64_decode(const char *s, size_t *len)
{
	size_t n = strlen(s), pad = 0;
	unsigned char *out;
	int got;

	if (n % 4)
		return NULL;
	out = malloc(n / 4 * 3 + 1);
	if (!out)
		return NULL;
	got = n ? EVP_DecodeBlock(out, (const unsigned char *)s, (int)n) : 0;
	if (got < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts the padding as zero bytes */
	if (n && s[n - 1] == '=')
		pad++;
	if (n > 1 && s[n - 2] == '=')
		pad++;
	got -= (int)pad;
	out[got] = '\0';
	if (len)
		*len = (size_t)got;
	return (char *)out;
}

char *bl_etcd_prefix_end(const char *prefix)
{
	size_t n = strlen(prefix);
	char *end = strdup(prefix);

	if (!end)
		return NULL;
	while (n > 0 && (unsigned char)end[n - 1] == 0xff)
		end[--n] = '\0';
	if (n > 0)
		end[n - 1]++;
	return end;
}

int64_t bl_etcd_int(const json_t *obj, const char *field)
{
	const json_t *v = json_object_get(obj, field);

	if (json_is_integer(v))
		return json_integer_value(v);
	if (json_is_string(v))
		return strtoll(json_string_value(v), NULL, 10);
	return 0;
}

static char *b64_field(const json_t *obj, const char *field, size_t *len)
{
	const char *s = json_string_value(json_object_get(obj, field));

	return bl_b64_decode(s ? s : "", len);
}

int bl_etcd_kv_decode(const json_t *kv, struct bl_kv *out)
{
	memset(out, 0, sizeof(*out));
	if (!json_is_object(kv))
		return BL_STORE_IO;
	out->key = b64_field(kv, "key", NULL);
	out->value = b64_field(kv, "value", &out->len);
	out->mod_rev = bl_etcd_int(kv, "mod_revision");
	out->create_rev = bl_etcd_int(kv, "create_revision");
	out->lease = bl_etcd_int(kv, "lease");
	if (!out->key || !out->value || !out->key[0]) {
		bl_kv_free(out);
		return BL_STORE_IO;
	}
	return 0;
}

int bl_etcd_error(int http_status, const json_t *body)
{
	const char *msg = json_string_value(json_object_get(body, "error"));

	if (!msg)
		msg = json_string_value(json_object_get(body, "message"));
	if (msg && strstr(msg, "required revision has been compacted"))
		return BL_STORE_COMPACTED;
	if (msg && strstr(msg, "required revision is a future revision"))
		return BL_STORE_FUTURE;
	if (msg || http_status != 200 || !json_is_object(body))
		return BL_STORE_IO;
	return 0;
}

static json_t *b64_json(const void *buf, size_t len)
{
	char *s = bl_b64_encode(buf, len);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

static json_t *i64_json(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_string(buf);
}

json_t *bl_etcd_range_req(const char *key, const char *range_end, int64_t rev, int64_t limit)
{
	json_t *req = json_object();

	json_object_set_new(req, "key", b64_json(key, strlen(key)));
	if (range_end && range_end[0])
		json_object_set_new(req, "range_end", b64_json(range_end, strlen(range_end)));
	if (rev)
		json_object_set_new(req, "revision", i64_json(rev));
	if (limit)
		json_object_set_new(req, "limit", i64_json(limit));
	return req;
}

json_t *bl_etcd_list_req(const char *prefix, const char *start_after, int64_t rev, int64_t limit)
{
	json_t *req = bl_etcd_range_req(prefix, NULL, rev, limit);
	char *end = bl_etcd_prefix_end(prefix);

	/* the key right after start_after is start_after followed by a NUL byte */
	if (start_after && strcmp(start_after, prefix) >= 0)
		json_object_set_new(req, "key", b64_json(start_after, strlen(start_after) + 1));
	json_object_set_new(req, "range_end",
			    end && end[0] ? b64_json(end, strlen(end)) : json_string("AA=="));
	free(end);
	return req;
}

json_t *bl_etcd_txn_req(enum bl_etcd_txn_kind kind, const char *key, const char *val, size_t len,
			int64_t lease, int64_t expect_rev)
{
	json_t *cmp = json_object(), *op = json_object(), *req;

	json_object_set_new(cmp, "key", b64_json(key, strlen(key)));
	if (kind != BL_ETCD_CREATE && expect_rev) {
		json_object_set_new(cmp, "target", json_string("MOD"));
		json_object_set_new(cmp, "result", json_string("EQUAL"));
		json_object_set_new(cmp, "mod_revision", i64_json(expect_rev));
	} else {
		json_object_set_new(cmp, "target", json_string("CREATE"));
		json_object_set_new(cmp, "result",
				    json_string(kind == BL_ETCD_CREATE ? "EQUAL" : "GREATER"));
		json_object_set_new(cmp, "create_revision", i64_json(0));
	}
	json_object_set_new(op, "key", b64_json(key, strlen(key)));
	if (kind == BL_ETCD_DELETE) {
		json_object_set_new(op, "prev_kv", json_true());
		op = json_pack("{s:o}", "request_delete_range", op);
	} else {
		json_object_set_new(op, "value", b64_json(val ? val : "", len));
		if (lease)
			json_object_set_new(op, "lease", i64_json(lease));
		op = json_pack("{s:o}", "request_put", op);
	}
	req = json_pack("{s:[o], s:[o], s:[{s:o}]}", "compare", cmp, "success", op, "failure",
			"request_range", bl_etcd_range_req(key, NULL, 0, 0));
	return req;
}

int bl_etcd_txn_result(enum bl_etcd_txn_kind kind, const json_t *resp, int64_t expect_rev,
		       int64_t *rev, struct bl_kv *prev)
{
	const json_t *r0 = json_array_get(json_object_get(resp, "responses"), 0);
	const json_t *kvs;

	if (prev)
		memset(prev, 0, sizeof(*prev));
	if (!json_is_object(resp) || !json_is_object(r0))
		return BL_STORE_IO;
	if (json_is_true(json_object_get(resp, "succeeded"))) {
		*rev = bl_etcd_int(json_object_get(resp, "header"), "revision");
		if (kind == BL_ETCD_DELETE) {
			kvs = json_object_get(json_object_get(r0, "response_delete_range"),
					      "prev_kvs");
			if (bl_etcd_int(json_object_get(r0, "response_delete_range"), "deleted") !=
			    1)
				return BL_STORE_NOT_FOUND;
			if (prev && bl_etcd_kv_decode(json_array_get(kvs, 0), prev))
				return BL_STORE_IO;
		}
		return *rev > 0 ? 0 : BL_STORE_IO;
	}
	/* failed compare: the key as it is now tells why */
	kvs = json_object_get(json_object_get(r0, "response_range"), "kvs");
	if (kind == BL_ETCD_CREATE)
		return BL_STORE_EXISTS;
	if (json_array_size(kvs) == 0)
		return BL_STORE_NOT_FOUND;
	return expect_rev ? BL_STORE_CONFLICT : BL_STORE_IO;
}

json_t *bl_etcd_watch_req(const char *prefix, int64_t start_rev)
{
	char *end = bl_etcd_prefix_end(prefix);
	json_t *req = json_object();

	json_object_set_new(req, "key", b64_json(prefix, strlen(prefix)));
	/* range_end "\0" means every key >= key */
	json_object_set_new(req, "range_end",
			    end && end[0] ? b64_json(end, strlen(end)) : json_string("AA=="));
	json_object_set_new(req, "start_revision", i64_json(start_rev));
	json_object_set_new(req, "prev_kv", json_true());
	free(end);
	return json_pack("{s:o}", "create_request", req);
}

int bl_etcd_watch_decode(const json_t *line, bl_watch_cb cb, void *arg, int64_t *rev,
			 int64_t *compact_rev)
{
	const json_t *res = json_object_get(line, "result");
	const json_t *evs = json_object_get(res, "events"), *e;
	size_t i;

	*compact_rev = 0;
	if (!json_is_object(res))
		return BL_STORE_IO;
	*rev = bl_etcd_int(json_object_get(res, "header"), "revision");
	if (bl_etcd_int(res, "compact_revision")) {
		*compact_rev = bl_etcd_int(res, "compact_revision");
		return BL_STORE_COMPACTED;
	}
	json_array_foreach(evs, i, e)
	{
		const char *type = json_string_value(json_object_get(e, "type"));
		const json_t *pj = json_object_get(e, "prev_kv");
		struct bl_kv kv, prev = {0};
		struct bl_event ev = {BL_EV_PUT, &kv, NULL};
		int rc;

		if (json_is_object(pj) && bl_etcd_kv_decode(pj, &prev))
			return BL_STORE_IO;
		if (json_is_object(pj))
			ev.prev = &prev;
		if (type && !strcmp(type, "DELETE")) {
			/* etcd's delete event has only the key and revision: give the
			 * store's shape, the deleted value at the delete's revision */
			ev.type = BL_EV_DELETE;
			rc = bl_etcd_kv_decode(json_object_get(e, "kv"), &kv);
			if (!rc && ev.prev) {
				free(kv.value);
				kv.value = strndup(prev.value, prev.len);
				kv.len = prev.len;
				kv.create_rev = prev.create_rev;
				kv.lease = prev.lease;
				rc = kv.value ? 0 : BL_STORE_IO;
			}
		} else {
			rc = bl_etcd_kv_decode(json_object_get(e, "kv"), &kv);
		}
		if (rc) {
			bl_kv_free(&prev);
			return BL_STORE_IO;
		}
		cb(&ev, arg);
		bl_kv_free(&kv);
		bl_kv_free(&prev);
	}
	return 0;
}

bool bl_etcd_watch_canceled(const json_t *line, const char **reason)
{
	const json_t *res = json_object_get(line, "result");

	*reason = json_string_value(json_object_get(res, "cancel_reason")) ?: "";
	return json_is_true(json_object_get(res, "canceled")) &&
	       !bl_etcd_int(res, "compact_revision");
}
