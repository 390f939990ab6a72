/* CNI_* environment, CNI_ARGS and host veth naming. */
#include "agent/cni/cni.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void set_env(const char *cmd, const char *id, const char *netns, const char *ifname,
		    const char *args)
{
	const char *names[] = {"CNI_COMMAND", "CNI_CONTAINERID", "CNI_NETNS", "CNI_IFNAME",
			       "CNI_ARGS"};
	const char *vals[] = {cmd, id, netns, ifname, args};

	for (int i = 0; i < 5; i++) {
		if (vals[i])
			setenv(names[i], vals[i], 1);
		else
			unsetenv(names[i]);
	}
}

Test(args, kubernetes_keys)
{
	struct cni_env env = {0};
	struct cni_error e = {0};

	cr_assert_eq(cni_args_parse("IgnoreUnknown=1;K8S_POD_NAMESPACE=kube-system;"
				    "K8S_POD_NAME=coredns-abc;K8S_POD_INFRA_CONTAINER_ID=123;"
				    "K8S_POD_UID=u-1",
				    &env, &e),
		     0, "%s", e.msg);
	cr_assert_str_eq(env.pod_namespace, "kube-system");
	cr_assert_str_eq(env.pod_name, "coredns-abc");
}

Test(args, empty_and_trailing)
{
	struct cni_env env = {0};
	struct cni_error e = {0};

	cr_assert_eq(cni_args_parse(NULL, &env, &e), 0);
	cr_assert_eq(cni_args_parse("", &env, &e), 0);
	cr_assert_eq(cni_args_parse("K8S_POD_NAME=x;;", &env, &e), 0);
	cr_assert_str_eq(env.pod_name, "x");
	cr_assert_str_eq(env.pod_namespace, "");
	cr_assert_eq(cni_args_parse("K8S_POD_NAME=a=b", &env, &e), 0);
	cr_assert_str_eq(env.pod_name, "a=b", "only the first '=' splits");
}

Test(args, malformed)
{
	struct cni_env env = {0};
	struct cni_error e = {0};
	char longname[400];

	cr_assert_neq(cni_args_parse("K8S_POD_NAME", &env, &e), 0);
	cr_assert_eq(e.code, CNI_ERR_INVALID_ENV);
	cr_assert(strstr(e.msg, "CNI_ARGS"), "%s", e.msg);
	cr_assert_neq(cni_args_parse("=x", &env, &e), 0);
	memset(longname, 'a', sizeof(longname));
	memcpy(longname, "K8S_POD_NAME=", 13);
	longname[sizeof(longname) - 1] = '\0';
	cr_assert_neq(cni_args_parse(longname, &env, &e), 0);
	cr_assert(strstr(e.msg, "K8S_POD_NAME"), "%s", e.msg);
}

Test(env, add_needs_everything)
{
	struct cni_env env;
	struct cni_error e = {0};

	set_env("ADD", "abc123", "/var/run/netns/p", "eth0", "K8S_POD_NAMESPACE=d;K8S_POD_NAME=p");
	cr_assert_eq(cni_env_read(&env, &e), 0, "%s", e.msg);
	cr_assert_str_eq(env.container_id, "abc123");
	cr_assert_str_eq(env.pod_name, "p");
	set_env("ADD", "abc123", NULL, "eth0", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert_eq(e.code, CNI_ERR_INVALID_ENV);
	cr_assert(strstr(e.msg, "CNI_NETNS"), "%s", e.msg);
	set_env("ADD", NULL, "/n", "eth0", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert(strstr(e.msg, "CNI_CONTAINERID"), "%s", e.msg);
	set_env("ADD", "a/b", "/n", "eth0", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert(strstr(e.msg, "CNI_CONTAINERID"), "%s", e.msg);
	set_env("ADD", "abc", "/n", "averyveryverylongname", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert(strstr(e.msg, "CNI_IFNAME"), "%s", e.msg);
	set_env("ADD", "abc", "/n", "a/b", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert(strstr(e.msg, "CNI_IFNAME"), "%s", e.msg);
}

Test(env, del_without_netns_version_alone_unknown_command)
{
	struct cni_env env;
	struct cni_error e = {0};

	set_env("DEL", "abc", NULL, "eth0", NULL);
	cr_assert_eq(cni_env_read(&env, &e), 0, "%s", e.msg);
	set_env("VERSION", NULL, NULL, NULL, NULL);
	cr_assert_eq(cni_env_read(&env, &e), 0, "%s", e.msg);
	set_env("GC", "abc", "/n", "eth0", NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert_eq(e.code, CNI_ERR_INVALID_ENV);
	set_env(NULL, NULL, NULL, NULL, NULL);
	cr_assert_neq(cni_env_read(&env, &e), 0);
	cr_assert(strstr(e.msg, "CNI_COMMAND"), "%s", e.msg);
}

Test(ifname, deterministic_and_short)
{
	char a[16], b[16], c[16], d[16];
	char longid[128];

	cni_host_ifname("0123456789abcdef", "eth0", a);
	cni_host_ifname("0123456789abcdef", "eth0", b);
	cni_host_ifname("0123456789abcdef", "eth1", c);
	cni_host_ifname("0123456789abcdeg", "eth0", d);
	cr_assert_str_eq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_str_neq(a, d);
	cr_assert_eq(strlen(a), CNI_HOST_IFNAME_LEN);
	cr_assert(strncmp(a, "bl", 2) == 0);
	cr_assert_eq(strspn(a + 2, "0123456789abcdef"), 11, "%s", a);
	memset(longid, 'f', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	cni_host_ifname(longid, "verylongifname1", a);
	cr_assert_eq(strlen(a), CNI_HOST_IFNAME_LEN);
}

Test(ifname, no_collisions_among_many)
{
	static char names[5000][16];

	for (int i = 0; i < 5000; i++) {
		char id[32];

		snprintf(id, sizeof(id), "ctr-%d", i);
		cni_host_ifname(id, "eth0", names[i]);
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(names[i], names[j]);
	}
}
