#include "controlplane/apiserver/pb_decode.h"
#include "controlplane/store/etcd_json.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

struct rd {
	const uint8_t *p, *end;
};

struct fieldval {
	uint32_t num;
	int wt;
	uint64_t v;	    /* varint and fixed */
	const uint8_t *buf; /* WT_LEN */
	size_t len;
};

static int varint(struct rd *r, uint64_t *out)
{
	uint64_t v = 0;

	for (int shift = 0; shift < 64; shift += 7) {
		if (r->p >= r->end)
			return -1;
		v |= (uint64_t)(*r->p & 0x7f) << shift;
		if (!(*r->p++ & 0x80)) {
			*out = v;
			return 0;
		}
	}
	return -1;
}

/* The next field; 1 at the end, -1 when malformed. */
static int next(struct rd *r, struct fieldval *f)
{
	uint64_t tag;

	if (r->p == r->end)
		return 1;
	memset(f, 0, sizeof(*f));
	if (varint(r, &tag) || (tag >> 3) == 0 || (tag >> 3) > UINT32_MAX)
		return -1;
	f->num = (uint32_t)(tag >> 3);
	f->wt = (int)(tag & 7);
	switch (f->wt) {
	case WT_VARINT:
		return varint(r, &f->v);
	case WT_I64:
	case WT_I32: {
		size_t n = f->wt == WT_I64 ? 8 : 4;

		if ((size_t)(r->end - r->p) < n)
			return -1;
		for (size_t i = 0; i < n; i++)
			f->v |= (uint64_t)r->p[i] << (8 * i);
		r->p += n;
		return 0;
	}
	case WT_LEN:
		if (varint(r, &f->v) || f->v > (uint64_t)(r->end - r->p))
			return -1;
		f->buf = r->p;
		f->len = (size_t)f->v;
		r->p += f->len;
		return 0;
	default:
		return -1; /* groups are not used by Kubernetes */
	}
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const struct pb_field *find(const struct pb_msg *m, uint32_t num)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->fields[i].num == num)
			return &m->fields[i];
	return NULL;
}

static json_t *str_of(const struct fieldval *f)
{
	return json_stringn((const char *)f->buf, f->len);
}

static json_t *b64_of(const struct fieldval *f)
{
	char *s = bl_b64_encode(f->buf, f->len);
	json_t *j = s ? json_string(s) : NULL;

	free(s);
	return j;
}

/* A map entry {1: key, 2: value}. */
static int map_entry(const struct fieldval *f, bool bytes, json_t *map)
{
	struct rd r = {f->buf, f->buf + f->len};
	struct fieldval kv, key = {0}, val = {0};
	json_t *v;
	int rc;

	while ((rc = next(&r, &kv)) == 0) {
		if (kv.wt != WT_LEN)
			return -1;
		if (kv.num == 1)
			key = kv;
		else if (kv.num == 2)
			val = kv;
		else
			return -1;
	}
	if (rc < 0)
		return -1;
	v = bytes ? b64_of(&val) : str_of(&val);
	if (!v || json_object_setn_new(map, (const char *)key.buf, key.len, v))
		return -1;
	return 0;
}

static json_t *int_or_string(const struct fieldval *f)
{
	struct rd r = {f->buf, f->buf + f->len};
	struct fieldval g;
	uint64_t type = 0, ival = 0;
	json_t *sval = NULL;
	int rc;

	while ((rc = next(&r, &g)) == 0) {
		if (g.num == 1 && g.wt == WT_VARINT)
			type = g.v;
		else if (g.num == 2 && g.wt == WT_VARINT)
			ival = g.v;
		else if (g.num == 3 && g.wt == WT_LEN) {
			json_decref(sval);
			sval = str_of(&g);
		}
	}
	if (rc < 0 || type > 1) {
		json_decref(sval);
		return NULL;
	}
	if (type == 1)
		return sval ? sval : json_string("");
	json_decref(sval);
	return json_integer((int32_t)ival);
}

/* Time {1: seconds, 2: nanos} → RFC 3339; json null for the zero time. */
static json_t *time_of(const struct fieldval *f)
{
	struct rd r = {f->buf, f->buf + f->len};
	struct fieldval g;
	int64_t secs = 0;
	char buf[40];
	struct tm tm;
	time_t t;
	int rc;

	while ((rc = next(&r, &g)) == 0)
		if (g.num == 1 && g.wt == WT_VARINT)
			secs = (int64_t)g.v;
	if (rc < 0)
		return NULL;
	if (secs == 0)
		return json_null();
	t = (time_t)secs;
	if (!gmtime_r(&t, &tm))
		return NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return json_string(buf);
}

static bool is_zero(const struct fieldval *f)
{
	return f->wt == WT_LEN ? f->len == 0 : f->v == 0;
}

static bool empty_json(const json_t *j)
{
	return json_is_null(j) || (json_is_object(j) && json_object_size(j) == 0) ||
	       (json_is_array(j) && json_array_size(j) == 0);
}

/* Appends or sets one decoded value under the field's JSON name. */
static int put(json_t *obj, const struct pb_field *fd, const struct fieldval *f, char *err,
	       size_t errlen)
{
	json_t *v = NULL, *cur = json_object_get(obj, fd->json);
	bool list = fd->kind == PB_MSG_LIST || fd->kind == PB_STRING_LIST;
	bool map = fd->kind == PB_MAP_STRING || fd->kind == PB_MAP_BYTES;
	int want_wt = (fd->kind == PB_INT || fd->kind == PB_BOOL) ? WT_VARINT : WT_LEN;

	if (f->wt != want_wt) {
		seterr(err, errlen, "field %s: wire type %d", fd->json, f->wt);
		return -1;
	}
	if (map) {
		if (!cur) {
			cur = json_object();
			json_object_set_new(obj, fd->json, cur);
		}
		if (map_entry(f, fd->kind == PB_MAP_BYTES, cur)) {
			seterr(err, errlen, "field %s: malformed map entry", fd->json);
			return -1;
		}
		return 0;
	}
	switch (fd->kind) {
	case PB_STRING:
	case PB_STRING_LIST:
		v = str_of(f);
		break;
	case PB_BYTES:
		v = b64_of(f);
		break;
	case PB_INT:
		v = json_integer((json_int_t)(int64_t)f->v);
		break;
	case PB_BOOL:
		v = json_boolean(f->v != 0);
		break;
	case PB_MSG:
	case PB_MSG_LIST:
		v = bl_pb_decode_msg(fd->sub, f->buf, f->len, err, errlen);
		if (!v)
			return -1;
		break;
	case PB_INT_OR_STRING:
		v = int_or_string(f);
		break;
	case PB_TIME:
		v = time_of(f);
		break;
	default:
		break;
	}
	if (!v) {
		seterr(err, errlen, "field %s: malformed value", fd->json);
		return -1;
	}
	if (list) {
		if (!cur) {
			cur = json_array();
			json_object_set_new(obj, fd->json, cur);
		}
		return json_array_append_new(cur, v);
	}
	/* what Go's JSON (omitempty) leaves out, unless the Go field is a pointer */
	if (!fd->keep_zero && (is_zero(f) || empty_json(v))) {
		json_decref(v);
		return 0;
	}
	return json_object_set_new(obj, fd->json, v);
}

json_t *bl_pb_decode_msg(const struct pb_msg *m, const uint8_t *buf, size_t len, char *err,
			 size_t errlen)
{
	struct rd r = {buf, buf + len};
	json_t *obj = json_object();
	struct fieldval f;
	int rc;

	while ((rc = next(&r, &f)) == 0) {
		const struct pb_field *fd = find(m, f.num);

		if (!fd) {
			/* Go's generated marshaller writes zero values of non-pointer
			 * fields: those carry nothing; anything else would be lost */
			if (is_zero(&f))
				continue;
			seterr(err, errlen, "field %u of %s is not known to this server", f.num,
			       m->name);
			json_decref(obj);
			return NULL;
		}
		if (put(obj, fd, &f, err, errlen)) {
			json_decref(obj);
			return NULL;
		}
	}
	if (rc < 0) {
		seterr(err, errlen, "malformed protobuf in %s", m->name);
		json_decref(obj);
		return NULL;
	}
	return obj;
}

json_t *bl_pb_decode_object(const uint8_t *buf, size_t len, char *err, size_t errlen)
{
	static const uint8_t magic[4] = {'k', '8', 's', 0};
	struct rd r = {buf + 4, buf + len}, tr;
	struct fieldval f, g;
	json_t *av = NULL, *kind = NULL, *obj = NULL;
	const uint8_t *raw = NULL;
	size_t raw_len = 0;
	const struct pb_msg *m;
	int rc;

	if (len < 4 || memcmp(buf, magic, 4)) {
		seterr(err, errlen, "not a Kubernetes protobuf body (no k8s magic)");
		return NULL;
	}
	while ((rc = next(&r, &f)) == 0) {
		if (f.num == 1 && f.wt == WT_LEN) {
			tr = (struct rd){f.buf, f.buf + f.len};
			while (next(&tr, &g) == 0) {
				if (g.num == 1 && g.wt == WT_LEN) {
					json_decref(av);
					av = str_of(&g);
				} else if (g.num == 2 && g.wt == WT_LEN) {
					json_decref(kind);
					kind = str_of(&g);
				}
			}
		} else if (f.num == 2 && f.wt == WT_LEN) {
			raw = f.buf;
			raw_len = f.len;
		} else if (f.num == 3 && f.wt == WT_LEN && f.len) {
			seterr(err, errlen, "content encoding %.*s is not supported", (int)f.len,
			       (const char *)f.buf);
			rc = -2;
			break;
		}
	}
	m = rc == 1 && av && kind ? bl_pb_kind_msg(json_string_value(av), json_string_value(kind))
				  : NULL;
	if (rc == -1)
		seterr(err, errlen, "malformed protobuf envelope");
	else if (rc == 1 && !m)
		seterr(err, errlen, "protobuf bodies of %s %s are not supported; send JSON",
		       av ? json_string_value(av) : "?", kind ? json_string_value(kind) : "?");
	if (m)
		obj = bl_pb_decode_msg(m, raw ? raw : (const uint8_t *)"", raw_len, err, errlen);
	if (obj) {
		json_object_set(obj, "apiVersion", av);
		json_object_set(obj, "kind", kind);
	}
	json_decref(av);
	json_decref(kind);
	return obj;
}
