#include "controlplane/apiserver/objmeta.h"

#include <ctype.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void bl_uuid(char buf[37])
{
	unsigned char b[16];

	RAND_bytes(b, sizeof(b));
	b[6] = (b[6] & 0x0f) | 0x40;
	b[8] = (b[8] & 0x3f) | 0x80;
	snprintf(buf, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

void bl_timestamp(time_t t, char buf[32])
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void bl_generate_name(const char *prefix, char *buf, size_t len)
{
	/* no vowels, no look-alikes: kube's alphabet for generated suffixes */
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	unsigned char r[5];
	char sfx[6];

	RAND_bytes(r, sizeof(r));
	for (int i = 0; i < 5; i++)
		sfx[i] = alphabet[r[i] % (sizeof(alphabet) - 1)];
	sfx[5] = '\0';
	snprintf(buf, len, "%s%s", prefix, sfx);
}

const char *bl_name_invalid(const char *name, bool label)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= (label ? 63 : 253);

	for (size_t i = 0; ok && i < n; i++) {
		char c = name[i];
		bool alnum = islower((unsigned char)c) || isdigit((unsigned char)c);

		if (i == 0 || i == n - 1)
			ok = alnum;
		else
			ok = alnum || c == '-' || (!label && c == '.');
	}
	if (ok)
		return NULL;
	if (label)
		return "a lowercase RFC 1123 label must consist of lower case alphanumeric "
		       "characters or '-', and must start and end with an alphanumeric character "
		       "(e.g. 'my-name',  or '123-abc', regex used for validation is "
		       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
	return "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric "
	       "characters, '-' or '.', and must start and end with an alphanumeric character "
	       "(e.g. 'example.com', regex used for validation is "
	       "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
}

json_t *bl_meta(json_t *obj)
{
	json_t *m = json_object_get(obj, "metadata");

	if (!json_is_object(m)) {
		m = json_object();
		json_object_set_new(obj, "metadata", m);
	}
	return m;
}

const char *bl_meta_str(json_t *obj, const char *field)
{
	return json_string_value(json_object_get(json_object_get(obj, "metadata"), field));
}

void bl_obj_set_rv(json_t *obj, int64_t rev)
{
	char rv[24];

	snprintf(rv, sizeof(rv), "%lld", (long long)rev);
	json_object_set_new(bl_meta(obj), "resourceVersion", json_string(rv));
}

json_t *bl_obj_from_kv(const struct bl_kv *kv)
{
	json_t *obj = json_loadb(kv->value, kv->len, 0, NULL);

	if (!json_is_object(obj)) {
		json_decref(obj);
		return NULL;
	}
	bl_obj_set_rv(obj, kv->mod_rev);
	return obj;
}

char *bl_obj_encode(json_t *obj, size_t *len)
{
	json_t *m = json_object_get(obj, "metadata");
	json_t *rv = json_incref(json_object_get(m, "resourceVersion"));
	char *s;

	json_object_del(m, "resourceVersion");
	s = json_dumps(obj, JSON_COMPACT);
	if (rv)
		json_object_set_new(m, "resourceVersion", rv);
	if (s)
		*len = strlen(s);
	return s;
}

int64_t bl_parse_rv(const char *s)
{
	char *end;
	long long v;

	if (!s || !*s || !isdigit((unsigned char)*s))
		return -1;
	v = strtoll(s, &end, 10);
	return *end ? -1 : v;
}
