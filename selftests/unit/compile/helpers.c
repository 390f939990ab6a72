#include "helpers.h"

#include "agent/common/netaddr.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *fixture_path(const char *name, char *buf, size_t len)
{
	const char *env = getenv("BL_TESTDATA");
	char exe[4096];
	ssize_t n;

	if (env) {
		snprintf(buf, len, "%s/%s", env, name);
		return buf;
	}
	/* <repo>/<build dir>/bin/test_compile → <repo>/selftests/unit/testdata */
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = 0;
		snprintf(buf, len, "%s/selftests/unit/testdata/%s", dirname(dirname(dirname(exe))),
			 name);
		if (!access(buf, R_OK))
			return buf;
	}
	snprintf(buf, len, "selftests/unit/testdata/%s", name);
	return buf;
}

char *fixture_read(const char *name, size_t *len)
{
	char path[4096];
	FILE *f = fopen(fixture_path(name, path, sizeof(path)), "rb");
	char *buf;
	long sz;

	cr_assert(f, "fixture %s missing", path);
	fseek(f, 0, SEEK_END);
	sz = ftell(f);
	rewind(f);
	buf = malloc(sz + 1);
	cr_assert(buf);
	cr_assert_eq(fread(buf, 1, sz, f), (size_t)sz);
	buf[sz] = 0;
	fclose(f);
	*len = (size_t)sz;
	return buf;
}

int fixture_parse(const char *name, json_t **objs, struct bl_errlist *errs)
{
	size_t len, before = errs->n;
	char *buf = fixture_read(name, &len);

	bl_manifest_parse(name, buf, len, objs, errs);
	free(buf);
	return (int)(errs->n - before);
}

void compile_fixtures(const struct bl_compile_opts *o, struct bl_svc_table *t,
		      struct bl_errlist *errs, const char *first, ...)
{
	json_t *all = json_array(), *objs;
	json_t **v;
	va_list ap;
	size_t n;

	va_start(ap, first);
	for (const char *name = first; name; name = va_arg(ap, const char *)) {
		int nerr = fixture_parse(name, &objs, errs);

		cr_assert_eq(nerr, 0, "%s: %s", name, nerr ? errs->msgs[errs->n - 1] : "");
		json_array_extend(all, objs);
		json_decref(objs);
	}
	va_end(ap);
	n = json_array_size(all);
	v = calloc(n + 1, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(all, i);
	cr_assert_eq(bl_compile_objects(v, n, o, t, errs), 0);
	free(v);
	json_decref(all);
}

const struct bl_svc_frontend *fe_get(const struct bl_svc_table *t, const char *ip, uint16_t port,
				     uint8_t proto, uint8_t scope)
{
	struct bpflet_fe_key k = {.port = htons(port), .proto = proto, .scope = scope};

	cr_assert_eq(bl_addr_parse(ip, &k.addr, &k.family), 0);
	return bl_svc_table_find(t, &k);
}

const char *be_ip(const struct bl_svc_backend *b, char *buf)
{
	return bl_addr_format(&b->addr, b->family, buf, 48);
}

int write_file(const char *dir, const char *name, const char *text)
{
	char path[4096], tmp[4200];
	FILE *f;

	/* write then rename, as editors and kubectl cp do: readers never see half a file */
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", dir, name);
	f = fopen(tmp, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	return rename(tmp, path);
}

bool lpm_prefix_eq(const void *a, const void *b, uint32_t bits)
{
	const uint8_t *x = a, *y = b;

	for (uint32_t i = 0; i < bits; i++)
		if (((x[i / 8] >> (7 - i % 8)) & 1) != ((y[i / 8] >> (7 - i % 8)) & 1))
			return false;
	return true;
}
