/* etcd v3 JSON gateway encoding: base64 keys, int64-as-string, txn compares, the
 * outcome of txns and watch lines as etcd 3.4 sends them (captured from a real one). */
#include "controlplane/store/etcd_json.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

static json_t *J(const char *s)
{
	json_error_t e;
	json_t *j = json_loads(s, 0, &e);

	cr_assert_not_null(j, "bad test JSON: %s", e.text);
	return j;
}

static char *b64dec_field(const json_t *o, const char *f, size_t *len)
{
	return bl_b64_decode(json_string_value(json_object_get(o, f)), len);
}

Test(etcd_b64, round_trip_binary_and_padding)
{
	const char bin[] = {'a', 0, (char)0xff, 'z', 0x7f};
	char *dec;

	for (size_t n = 0; n <= sizeof(bin); n++) {
		char *enc = bl_b64_encode(bin, n);
		size_t len = 99;

		cr_assert_not_null(enc);
		cr_assert_eq(strlen(enc), 4 * ((n + 2) / 3));
		dec = bl_b64_decode(enc, &len);
		cr_assert_not_null(dec);
		cr_assert_eq(len, n, "length %zu", n);
		cr_assert_eq(memcmp(dec, bin, n), 0);
		cr_assert_eq(dec[n], '\0');
		free(enc);
		free(dec);
	}
	dec = bl_b64_encode("/registry/", 10);
	cr_assert_str_eq(dec, "L3JlZ2lzdHJ5Lw==");
	free(dec);
}

Test(etcd_b64, rejects_garbage)
{
	cr_assert_null(bl_b64_decode("abc", NULL));
	cr_assert_null(bl_b64_decode("a$c=", NULL));
}

Test(etcd_keys, prefix_end)
{
	char *e = bl_etcd_prefix_end("/registry/pods/");

	cr_assert_str_eq(e, "/registry/pods0");
	free(e);
	e = bl_etcd_prefix_end("a\xff");
	cr_assert_str_eq(e, "b");
	free(e);
}

Test(etcd_req, list_starts_right_after_the_last_key)
{
	json_t *r = bl_etcd_list_req("/registry/configmaps/", "/registry/configmaps/ns/b", 7, 3);
	size_t len;
	char *key = b64dec_field(r, "key", &len), *end = b64dec_field(r, "range_end", NULL);

	/* the key after "…/b" is "…/b\0" */
	cr_assert_eq(len, strlen("/registry/configmaps/ns/b") + 1);
	cr_assert_eq(memcmp(key, "/registry/configmaps/ns/b", len), 0);
	cr_assert_str_eq(end, "/registry/configmaps0");
	cr_assert_str_eq(json_string_value(json_object_get(r, "revision")), "7");
	cr_assert_str_eq(json_string_value(json_object_get(r, "limit")), "3");
	free(key);
	free(end);
	json_decref(r);
}

static const json_t *cmp0(const json_t *txn)
{
	return json_array_get(json_object_get(txn, "compare"), 0);
}

Test(etcd_req, txn_compares)
{
	json_t *c = bl_etcd_txn_req(BL_ETCD_CREATE, "/k", "v", 1, 0, 0);
	json_t *u = bl_etcd_txn_req(BL_ETCD_UPDATE, "/k", "w", 1, 0, 42);
	json_t *u0 = bl_etcd_txn_req(BL_ETCD_UPDATE, "/k", "w", 1, 0, 0);
	json_t *d = bl_etcd_txn_req(BL_ETCD_DELETE, "/k", NULL, 0, 0, 9);
	const json_t *put =
		json_object_get(json_array_get(json_object_get(c, "success"), 0), "request_put");

	cr_assert_str_eq(json_string_value(json_object_get(cmp0(c), "target")), "CREATE");
	cr_assert_str_eq(json_string_value(json_object_get(cmp0(c), "result")), "EQUAL");
	cr_assert_str_eq(json_string_value(json_object_get(put, "value")), "dg==");
	cr_assert_str_eq(json_string_value(json_object_get(cmp0(u), "target")), "MOD");
	cr_assert_str_eq(json_string_value(json_object_get(cmp0(u), "mod_revision")), "42");
	cr_assert_str_eq(json_string_value(json_object_get(cmp0(u0), "target")), "CREATE");
	cr_assert_str_eq(json_string_value(json_object_get(cmp0(u0), "result")), "GREATER");
	cr_assert(json_is_true(
		json_object_get(json_object_get(json_array_get(json_object_get(d, "success"), 0),
						"request_delete_range"),
				"prev_kv")));
	cr_assert_not_null(
		json_object_get(json_array_get(json_object_get(d, "failure"), 0), "request_range"));
	json_decref(c);
	json_decref(u);
	json_decref(u0);
	json_decref(d);
}

Test(etcd_resp, txn_outcomes)
{
	json_t *ok = J("{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":"
		       "[{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}");
	json_t *miss = J("{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":"
			 "{\"header\":{\"revision\":\"2\"}}}]}");
	json_t *there = J("{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":"
			  "{\"kvs\":[{\"key\":\"YQ==\",\"create_revision\":\"2\",\"mod_revision\":"
			  "\"2\",\"value\":\"eA==\"}],\"count\":\"1\"}}]}");
	json_t *del = J("{\"header\":{\"revision\":\"3\"},\"succeeded\":true,\"responses\":["
			"{\"response_delete_range\":{\"deleted\":\"1\",\"prev_kvs\":[{\"key\":"
			"\"YQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":"
			"\"1\",\"value\":\"eA==\"}]}}]}");
	struct bl_kv prev;
	int64_t rev = 0;

	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_CREATE, ok, 0, &rev, NULL), 0);
	cr_assert_eq(rev, 2);
	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_CREATE, there, 0, &rev, NULL), BL_STORE_EXISTS);
	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_UPDATE, there, 1, &rev, NULL), BL_STORE_CONFLICT);
	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_UPDATE, miss, 1, &rev, NULL), BL_STORE_NOT_FOUND);
	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_DELETE, miss, 0, &rev, NULL), BL_STORE_NOT_FOUND);
	cr_assert_eq(bl_etcd_txn_result(BL_ETCD_DELETE, del, 2, &rev, &prev), 0);
	cr_assert_eq(rev, 3);
	cr_assert_str_eq(prev.key, "a");
	cr_assert_str_eq(prev.value, "x");
	cr_assert_eq(prev.mod_rev, 2);
	bl_kv_free(&prev);
	json_decref(ok);
	json_decref(miss);
	json_decref(there);
	json_decref(del);
}

Test(etcd_resp, errors_map_to_store_errors)
{
	json_t *comp = J("{\"error\":\"etcdserver: mvcc: required revision has been compacted\","
			 "\"code\":11}");
	json_t *fut = J("{\"error\":\"etcdserver: mvcc: required revision is a future "
			"revision\",\"code\":11}");
	json_t *ok = J("{\"header\":{\"revision\":\"1\"}}");

	cr_assert_eq(bl_etcd_error(400, comp), BL_STORE_COMPACTED);
	cr_assert_eq(bl_etcd_error(400, fut), BL_STORE_FUTURE);
	cr_assert_eq(bl_etcd_error(200, ok), 0);
	cr_assert_eq(bl_etcd_error(503, ok), BL_STORE_IO);
	cr_assert_eq(bl_etcd_error(200, NULL), BL_STORE_IO);
	json_decref(comp);
	json_decref(fut);
	json_decref(ok);
}

struct seen {
	int n;
	enum bl_event_type type[4];
	char val[4][8];
	int64_t rev[4], prev_rev[4];
};

static void record(const struct bl_event *ev, void *arg)
{
	struct seen *s = arg;

	s->type[s->n] = ev->type;
	snprintf(s->val[s->n], sizeof(s->val[0]), "%s", ev->kv->value);
	s->rev[s->n] = ev->kv->mod_rev;
	s->prev_rev[s->n] = ev->prev ? ev->prev->mod_rev : 0;
	s->n++;
}

Test(etcd_watch, put_then_delete_with_prev_kv)
{
	json_t *put = J("{\"result\":{\"header\":{\"revision\":\"2\"},\"events\":[{\"kv\":{"
			"\"key\":\"YQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
			"\"version\":\"1\",\"value\":\"eA==\"}}]}}");
	json_t *del = J("{\"result\":{\"header\":{\"revision\":\"3\"},\"events\":[{\"type\":"
			"\"DELETE\",\"kv\":{\"key\":\"YQ==\",\"mod_revision\":\"3\"},\"prev_kv\":"
			"{\"key\":\"YQ==\",\"create_revision\":\"2\",\"mod_revision\":\"2\","
			"\"version\":\"1\",\"value\":\"eA==\"}}]}}");
	json_t *created = J("{\"result\":{\"header\":{\"revision\":\"1\"},\"created\":true}}");
	struct seen s = {0};
	int64_t rev, crev;

	cr_assert_eq(bl_etcd_watch_decode(created, record, &s, &rev, &crev), 0);
	cr_assert_eq(s.n, 0);
	cr_assert_eq(bl_etcd_watch_decode(put, record, &s, &rev, &crev), 0);
	cr_assert_eq(bl_etcd_watch_decode(del, record, &s, &rev, &crev), 0);
	cr_assert_eq(rev, 3);
	cr_assert_eq(s.n, 2);
	cr_assert_eq(s.type[0], BL_EV_PUT);
	cr_assert_str_eq(s.val[0], "x");
	cr_assert_eq(s.rev[0], 2);
	cr_assert_eq(s.prev_rev[0], 0);
	/* the store's DELETE: the deleted value at the delete's revision */
	cr_assert_eq(s.type[1], BL_EV_DELETE);
	cr_assert_str_eq(s.val[1], "x");
	cr_assert_eq(s.rev[1], 3);
	cr_assert_eq(s.prev_rev[1], 2);
	json_decref(put);
	json_decref(del);
	json_decref(created);
}

Test(etcd_watch, compacted_and_malformed)
{
	json_t *comp = J("{\"result\":{\"header\":{\"revision\":\"9\"},\"compact_revision\":"
			 "\"5\",\"canceled\":true}}");
	json_t *bad = J("{\"result\":{\"header\":{},\"events\":[{\"kv\":{\"key\":\"!!\"}}]}}");
	struct seen s = {0};
	int64_t rev, crev;

	cr_assert_eq(bl_etcd_watch_decode(comp, record, &s, &rev, &crev), BL_STORE_COMPACTED);
	cr_assert_eq(crev, 5);
	cr_assert_eq(bl_etcd_watch_decode(bad, record, &s, &rev, &crev), BL_STORE_IO);
	cr_assert_eq(s.n, 0);
	json_decref(comp);
	json_decref(bad);
}

Test(etcd_watch, canceled_without_compaction)
{
	json_t *cancel = J("{\"result\":{\"header\":{\"revision\":\"9\"},\"canceled\":true,"
			   "\"cancel_reason\":\"etcdserver: permission denied\"}}");
	json_t *comp = J("{\"result\":{\"header\":{\"revision\":\"9\"},\"compact_revision\":"
			 "\"5\",\"canceled\":true}}");
	json_t *created = J("{\"result\":{\"header\":{\"revision\":\"1\"},\"created\":true}}");
	const char *why;

	cr_assert(bl_etcd_watch_canceled(cancel, &why));
	cr_assert_str_eq(why, "etcdserver: permission denied");
	cr_assert(!bl_etcd_watch_canceled(comp, &why), "compaction has its own path");
	cr_assert(!bl_etcd_watch_canceled(created, &why));
	cr_assert_str_eq(why, "");
	json_decref(cancel);
	json_decref(comp);
	json_decref(created);
}
