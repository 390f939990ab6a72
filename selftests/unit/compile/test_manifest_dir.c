/* A manifest directory over time: per-file last-good, deletes, change detection. */
#include "helpers.h"

#include "agent/common/log.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char D[64];
static struct bl_manifest_cache C;
static struct bl_errlist E;

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(p);
}

static void setup(void)
{
	snprintf(D, sizeof(D), "/tmp/bl-manifests-XXXXXX");
	cr_assert(mkdtemp(D));
	bl_log_set_level(BL_LOG_ERR); /* the loader warns about every bad file */
	bl_manifest_cache_init(&C);
	bl_errlist_init(&E);
}

static void teardown(void)
{
	bl_manifest_cache_free(&C);
	bl_errlist_free(&E);
	nftw(D, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(manifest_dir, .init = setup, .fini = teardown);

#define SVC_YAML(name, ip, port)                                                                   \
	"apiVersion: v1\nkind: Service\nmetadata: {name: " name "}\nspec:\n  clusterIP: " ip       \
	"\n  ports: [{port: " port "}]\n"

static const char *const GOOD =
	SVC_YAML("web", "10.96.0.10", "80") "---\n" SVC_YAML("api", "10.96.0.11", "443");
static const char *const BAD =
	SVC_YAML("web", "10.96.0.10", "80") "---\n" SVC_YAML("api", "10.96.0.11", "70000");

/* Names of the cache's current objects, "a,b,c". */
static const char *names(char *buf, size_t len)
{
	json_t **objs;
	size_t n;

	buf[0] = 0;
	cr_assert_eq(bl_manifest_cache_objects(&C, &objs, &n), 0);
	for (size_t i = 0; i < n; i++) {
		json_t *md = json_object_get(objs[i], "metadata");

		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s", i ? "," : "",
			 json_string_value(json_object_get(md, "name")));
	}
	free(objs);
	return buf;
}

Test(manifest_dir, loads_sorted_files_and_ignores_others)
{
	char buf[256];

	cr_assert_eq(write_file(D, "b.yaml", GOOD), 0);
	cr_assert_eq(
		write_file(D, "a.json",
			   "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":"
			   "\"cm\"}}"),
		0);
	cr_assert_eq(write_file(D, "c.yml", SVC_YAML("third", "10.96.0.12", "80")), 0);
	/* not manifests: hidden, other extension, editor swap file, directory */
	cr_assert_eq(write_file(D, ".hidden.yaml", "garbage: [\n"), 0);
	cr_assert_eq(write_file(D, "notes.txt", "garbage: [\n"), 0);
	cr_assert_eq(write_file(D, "b.yaml.swp", "garbage: [\n"), 0);
	snprintf(buf, sizeof(buf), "%s/sub.yaml", D);
	cr_assert_eq(mkdir(buf, 0700), 0);

	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_eq(E.n, 0, "%s", E.n ? E.msgs[0] : "");
	cr_assert(C.changed);
	cr_assert_eq(C.n, 3);
	cr_assert_str_eq(names(buf, sizeof(buf)), "cm,web,api,third");
}

Test(manifest_dir, unchanged_reload_reports_no_change)
{
	unsigned long gen;

	write_file(D, "svc.yaml", GOOD);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert(C.changed);
	gen = C.generation;
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_not(C.changed);
	cr_assert_eq(C.generation, gen);
	/* rewriting identical bytes (new inode, new mtime) is still no change */
	write_file(D, "svc.yaml", GOOD);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_not(C.changed);
	/* a comment-only edit changes bytes but not objects */
	write_file(D, "svc.yaml",
		   "# edited\n---\n" SVC_YAML("web", "10.96.0.10",
					      "80") "---\n" SVC_YAML("api", "10.96.0.11", "443"));
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_not(C.changed);
	write_file(D, "svc.yaml", SVC_YAML("web", "10.96.0.10", "81"));
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert(C.changed);
	cr_assert_eq(C.generation, gen + 1);
}

Test(manifest_dir, bad_edit_keeps_last_good_objects)
{
	struct bl_svc_table t;
	char buf[256];

	write_file(D, "svc.yaml", GOOD);
	write_file(D, "other.yaml", SVC_YAML("other", "10.96.0.20", "80"));
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);

	write_file(D, "svc.yaml", BAD);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 1, "one file in error");
	cr_assert_not(C.changed, "the last good objects are still in force");
	cr_assert_eq(E.n, 1);
	cr_assert_str_eq(E.msgs[0], "svc.yaml: document 2 (Service default/api): "
				    "spec.ports[0].port: must be an integer 1-65535");
	cr_assert_str_eq(names(buf, sizeof(buf)), "other,web,api");

	/* the old objects still compile: api keeps port 443 */
	{
		json_t **objs;
		size_t n;

		cr_assert_eq(bl_manifest_cache_objects(&C, &objs, &n), 0);
		cr_assert_eq(bl_compile_objects(objs, n, NULL, &t, NULL), 0);
		free(objs);
		cr_assert_eq(t.n, 3);
		cr_assert(fe_get(&t, "10.96.0.11", 443, IPPROTO_TCP, BPFLET_SCOPE_INTERNAL));
		bl_svc_table_free(&t);
	}

	/* the error is reported on every load while it lasts */
	bl_errlist_clear(&E);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 1);
	cr_assert_eq(E.n, 1);

	/* garbage YAML: same rule */
	write_file(D, "svc.yaml", "apiVersion: v1\nkind: [\n");
	bl_errlist_clear(&E);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 1);
	cr_assert(strstr(E.msgs[0], "svc.yaml: line "), "%s", E.msgs[0]);
	cr_assert_str_eq(names(buf, sizeof(buf)), "other,web,api");

	/* fixed: the new version replaces the old one */
	write_file(D, "svc.yaml", SVC_YAML("web", "10.96.0.10", "8080"));
	bl_errlist_clear(&E);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_eq(E.n, 0);
	cr_assert(C.changed);
	cr_assert_str_eq(names(buf, sizeof(buf)), "other,web");
}

Test(manifest_dir, new_bad_file_contributes_nothing)
{
	char buf[256];

	write_file(D, "good.yaml", SVC_YAML("web", "10.96.0.10", "80"));
	write_file(D, "new.yaml", BAD);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 1);
	/* all or nothing per file: the valid first document of new.yaml is not used */
	cr_assert_str_eq(names(buf, sizeof(buf)), "web");
	cr_assert(strstr(E.msgs[0], "new.yaml: document 2"), "%s", E.msgs[0]);
}

Test(manifest_dir, deleted_file_drops_its_objects)
{
	char path[128], buf[256];

	write_file(D, "a.yaml", SVC_YAML("a", "10.96.0.1", "80"));
	write_file(D, "b.yaml", SVC_YAML("b", "10.96.0.2", "80"));
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_str_eq(names(buf, sizeof(buf)), "a,b");

	/* even a file whose current version is bad: deleting it drops the old objects */
	write_file(D, "a.yaml", "kind: [\n");
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 1);
	cr_assert_str_eq(names(buf, sizeof(buf)), "a,b");
	snprintf(path, sizeof(path), "%s/a.yaml", D);
	cr_assert_eq(unlink(path), 0);
	bl_errlist_clear(&E);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_eq(E.n, 0);
	cr_assert(C.changed);
	cr_assert_eq(C.n, 1);
	cr_assert_str_eq(names(buf, sizeof(buf)), "b");

	snprintf(path, sizeof(path), "%s/b.yaml", D);
	cr_assert_eq(unlink(path), 0);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert(C.changed);
	cr_assert_str_eq(names(buf, sizeof(buf)), "");
}

Test(manifest_dir, missing_directory_keeps_the_cache)
{
	char gone[128], buf[256];

	write_file(D, "a.yaml", SVC_YAML("a", "10.96.0.1", "80"));
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	snprintf(gone, sizeof(gone), "%s/does-not-exist", D);
	cr_assert_eq(bl_manifest_dir_load(&C, gone, &E), -ENOENT);
	cr_assert(strstr(E.msgs[0], "cannot open directory"), "%s", E.msgs[0]);
	cr_assert_str_eq(names(buf, sizeof(buf)), "a");
}

Test(manifest_dir, symlinked_files_are_read)
{
	char target[128], link[128], buf[256];

	/* ConfigMap volumes present files as symlinks into a hidden ..data dir */
	write_file(D, ".real.yaml", SVC_YAML("linked", "10.96.0.1", "80"));
	snprintf(target, sizeof(target), "%s/.real.yaml", D);
	snprintf(link, sizeof(link), "%s/svc.yaml", D);
	cr_assert_eq(symlink(target, link), 0);
	cr_assert_eq(bl_manifest_dir_load(&C, D, &E), 0);
	cr_assert_str_eq(names(buf, sizeof(buf)), "linked");
}
