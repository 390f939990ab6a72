/* Host-local IPAM on a temporary directory: order, idempotence, reuse, exhaustion,
 * and distinct addresses under concurrent plugin runs. */
#include "agent/cni/cni.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static struct cni_conf conf;
static char tmpdir[64];

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup_cidr(const char *cidr)
{
	memset(&conf, 0, sizeof(conf));
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/bpflet-ipam-test.XXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
	/* a sub-directory the plugin has to create itself */
	snprintf(conf.data_dir, sizeof(conf.data_dir), "%s/state/node1", tmpdir);
	snprintf(conf.pod_cidr_text, sizeof(conf.pod_cidr_text), "%s", cidr);
	cr_assert_eq(bl_cidr4_parse(cidr, &conf.pod_cidr), 0);
}

static void setup24(void)
{
	setup_cidr("10.244.0.0/24");
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static uint32_t alloc_ok(const char *id)
{
	struct cni_error e = {0};
	uint32_t ip = 0;

	cr_assert_eq(ipam_alloc(&conf, id, "eth0", &ip, &e), 0, "%s: %s", id, e.msg);
	return ip;
}

static bool file_holds(uint32_t ip, const char *text)
{
	char path[400], buf[256] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/%u.%u.%u.%u", conf.data_dir, ip >> 24, (ip >> 16) & 255,
		 (ip >> 8) & 255, ip & 255);
	f = fopen(path, "r");
	if (!f)
		return false;
	buf[fread(buf, 1, sizeof(buf) - 1, f)] = '\0';
	fclose(f);
	return !strcmp(buf, text);
}

TestSuite(ipam, .init = setup24, .fini = teardown);

Test(ipam, sequential_from_second_host)
{
	cr_assert_eq(alloc_ok("a"), 0x0af40002, "network and first host are reserved");
	cr_assert_eq(alloc_ok("b"), 0x0af40003);
	cr_assert_eq(alloc_ok("c"), 0x0af40004);
	cr_assert(file_holds(0x0af40003, "b\neth0\n"), "one file per address naming its owner");
}

Test(ipam, repeated_add_is_idempotent)
{
	uint32_t a = alloc_ok("a"), ip = 0;

	alloc_ok("b");
	cr_assert_eq(alloc_ok("a"), a);
	cr_assert_eq(ipam_find(&conf, "a", "eth0", &ip), 0);
	cr_assert_eq(ip, a);
	cr_assert_eq(ipam_find(&conf, "a", "eth1", &ip), -ENOENT,
		     "the ifname is part of the owner");
	cr_assert_eq(ipam_find(&conf, "zzz", "eth0", &ip), -ENOENT);
}

Test(ipam, same_container_other_interface)
{
	struct cni_error e = {0};
	uint32_t ip0 = alloc_ok("a"), ip1;

	cr_assert_eq(ipam_alloc(&conf, "a", "eth1", &ip1, &e), 0, "%s", e.msg);
	cr_assert_neq(ip0, ip1);
}

Test(ipam, release_and_reuse)
{
	uint32_t a = alloc_ok("a"), ip;

	alloc_ok("b");
	cr_assert_eq(ipam_release(&conf, "a", "eth0"), 0);
	cr_assert_eq(ipam_find(&conf, "a", "eth0", &ip), -ENOENT);
	cr_assert_eq(ipam_release(&conf, "a", "eth0"), 0, "releasing twice is fine");
	cr_assert_eq(ipam_release(&conf, "never", "eth0"), 0);
	cr_assert_eq(alloc_ok("c"), a, "the freed address is handed out again");
}

Test(ipam, release_on_fresh_dir)
{
	cr_assert_eq(ipam_release(&conf, "a", "eth0"), 0);
}

static void setup30(void)
{
	setup_cidr("10.0.0.0/30"); /* .0 net, .1 reserved, .2 usable, .3 broadcast */
}

Test(ipam_small, exhaustion_of_a_slash30, .init = setup30, .fini = teardown)
{
	struct cni_error e = {0};
	uint32_t ip;

	cr_assert_eq(alloc_ok("a"), 0x0a000002);
	cr_assert_eq(ipam_alloc(&conf, "b", "eth0", &ip, &e), -ENOSPC);
	cr_assert_eq(e.code, CNI_ERR_OTHER);
	cr_assert(strstr(e.msg, "no free address left in podCIDR 10.0.0.0/30"), "%s", e.msg);
	cr_assert_eq(alloc_ok("a"), 0x0a000002, "the holder still gets its address");
	cr_assert_eq(ipam_release(&conf, "a", "eth0"), 0);
	cr_assert_eq(alloc_ok("b"), 0x0a000002);
}

Test(ipam, address_from_an_old_cidr_is_replaced)
{
	uint32_t old = alloc_ok("a"), ip;

	cr_assert_eq(bl_cidr4_parse("10.245.0.0/24", &conf.pod_cidr), 0);
	ip = alloc_ok("a");
	cr_assert_eq(ip, 0x0af50002);
	cr_assert_neq(ip, old);
	cr_assert_not(file_holds(old, "a\neth0\n"), "the stale file is gone");
}

Test(ipam, unusable_dir)
{
	struct cni_error e = {0};
	uint32_t ip;

	snprintf(conf.data_dir, sizeof(conf.data_dir), "/proc/bpflet-no-such/dir");
	cr_assert_lt(ipam_alloc(&conf, "a", "eth0", &ip, &e), 0);
	cr_assert_eq(e.code, CNI_ERR_IO);
	cr_assert(strstr(e.msg, "/proc/bpflet-no-such/dir"), "%s", e.msg);
}

#define WORKERS	   8
#define PER_WORKER 12

Test(ipam, concurrent_processes_get_distinct_addresses)
{
	int fds[2];
	uint32_t seen[WORKERS * PER_WORKER];
	size_t n = 0;

	cr_assert_eq(pipe(fds), 0);
	for (int w = 0; w < WORKERS; w++) {
		pid_t pid = fork();

		cr_assert_neq(pid, -1);
		if (pid == 0) {
			close(fds[0]);
			for (int i = 0; i < PER_WORKER; i++) {
				struct cni_error e = {0};
				char id[32];
				uint32_t ip;

				snprintf(id, sizeof(id), "w%d-c%d", w, i);
				if (ipam_alloc(&conf, id, "eth0", &ip, &e))
					_exit(1);
				if (write(fds[1], &ip, sizeof(ip)) != sizeof(ip))
					_exit(1);
			}
			_exit(0);
		}
	}
	close(fds[1]);
	while (n < WORKERS * PER_WORKER && read(fds[0], &seen[n], sizeof(seen[n])) == 4)
		n++;
	close(fds[0]);
	for (int w = 0; w < WORKERS; w++) {
		int st;

		cr_assert_neq(wait(&st), -1);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "a worker failed to allocate");
	}
	cr_assert_eq(n, WORKERS * PER_WORKER);
	for (size_t i = 0; i < n; i++) {
		cr_assert(seen[i] >= 0x0af40002 && seen[i] <= 0x0af400fe, "%08x", seen[i]);
		for (size_t j = 0; j < i; j++)
			cr_assert_neq(seen[i], seen[j], "address %08x handed out twice", seen[i]);
	}
}
