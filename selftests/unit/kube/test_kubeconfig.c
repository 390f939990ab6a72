/* kubeconfig and in-cluster configuration: contexts, inline and file credentials,
 * tokens, and errors that name the field. */
#include "agent/kube/kubeconfig.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void mkdir_tmp(void)
{
	strcpy(dir, "/tmp/bl-kubeconfig-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(kubeconfig, .init = mkdir_tmp, .fini = rm_tmp);

static void put(const char *name, const char *content)
{
	char p[128];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs(content, f);
	fclose(f);
}

/* "ca-bytes" / "cert-bytes" / "key-bytes" in base64 */
#define CA_B64	 "Y2EtYnl0ZXM="
#define CERT_B64 "Y2VydC1ieXRlcw=="
#define KEY_B64	 "a2V5LWJ5dGVz"

static const char two_contexts[] =
	"apiVersion: v1\n"
	"kind: Config\n"
	"current-context: prod\n"
	"clusters:\n"
	"- name: c-prod\n"
	"  cluster:\n"
	"    server: https://10.0.0.1:6443/\n"
	"    certificate-authority-data: " CA_B64 "\n"
	"- name: c-dev\n"
	"  cluster:\n"
	"    server: https://dev.example:443\n"
	"    certificate-authority: pki/ca.crt\n"
	"    insecure-skip-tls-verify: true\n"
	"users:\n"
	"- name: admin\n"
	"  user:\n"
	"    client-certificate-data: " CERT_B64 "\n"
	"    client-key-data: " KEY_B64 "\n"
	"- name: dev\n"
	"  user:\n"
	"    client-certificate: pki/dev.crt\n"
	"    client-key: /nonexistent-but-overridden\n"
	"    client-key-data: " KEY_B64 "\n"
	"    token: abc123\n"
	"- name: bot\n"
	"  user: {tokenFile: tok}\n"
	"contexts:\n"
	"- {name: prod, context: {cluster: c-prod, user: admin}}\n"
	"- {name: dev, context: {cluster: c-dev, user: dev, namespace: x}}\n"
	"- {name: bot, context: {cluster: c-prod, user: bot}}\n"
	"- {name: anon, context: {cluster: c-prod}}\n";

static int load(const char *ctx, struct bl_kube_config *c, char *err)
{
	char p[128];

	put("config", two_contexts);
	snprintf(p, sizeof(p), "%s/config", dir);
	return bl_kubeconfig_load(p, ctx, c, err, 512);
}

Test(kubeconfig, current_context_with_inline_credentials)
{
	struct bl_kube_config c;
	char err[512] = "";

	cr_assert_eq(load(NULL, &c, err), 0, "%s", err);
	cr_assert_str_eq(c.context, "prod");
	cr_assert_str_eq(c.cluster, "c-prod");
	cr_assert_str_eq(c.user, "admin");
	cr_assert_str_eq(c.server, "https://10.0.0.1:6443", "trailing slash dropped");
	cr_assert_eq(c.ca.len, 8);
	cr_assert_str_eq(c.ca.data, "ca-bytes");
	cr_assert_str_eq(c.cert.data, "cert-bytes");
	cr_assert_str_eq(c.key.data, "key-bytes");
	cr_assert_null(c.token);
	cr_assert_not(c.insecure);
	bl_kube_config_free(&c);
}

Test(kubeconfig, context_flag_files_relative_to_the_kubeconfig_and_token)
{
	struct bl_kube_config c;
	char err[512] = "", tok[64];
	char p[128];

	snprintf(p, sizeof(p), "%s/pki", dir);
	cr_assert_eq(mkdir(p, 0700), 0);
	put("pki/ca.crt", "CA FILE\n");
	put("pki/dev.crt", "DEV CERT\n");
	cr_assert_eq(load("dev", &c, err), 0, "%s", err);
	cr_assert_str_eq(c.server, "https://dev.example:443");
	cr_assert_str_eq(c.ca.data, "CA FILE\n");
	cr_assert_str_eq(c.cert.data, "DEV CERT\n");
	cr_assert_str_eq(c.key.data, "key-bytes", "-data wins over the path");
	cr_assert(c.insecure);
	cr_assert_eq(bl_kube_config_token(&c, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "abc123");
	bl_kube_config_free(&c);
}

Test(kubeconfig, token_file_is_reread_and_trimmed)
{
	struct bl_kube_config c;
	char err[512] = "", tok[64];

	put("tok", "  first-token\n");
	cr_assert_eq(load("bot", &c, err), 0, "%s", err);
	cr_assert_eq(bl_kube_config_token(&c, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "first-token");
	put("tok", "rotated\n");
	cr_assert_eq(bl_kube_config_token(&c, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "rotated");
	cr_assert_eq(bl_kube_config_token(&c, tok, 4), -ENOBUFS);
	cr_assert_eq(c.cert.len, 0);
	bl_kube_config_free(&c);
}

Test(kubeconfig, context_without_user_is_anonymous)
{
	struct bl_kube_config c;
	char err[512] = "", tok[8];

	cr_assert_eq(load("anon", &c, err), 0, "%s", err);
	cr_assert_null(c.user);
	cr_assert_eq(c.cert.len, 0);
	cr_assert_eq(bl_kube_config_token(&c, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "");
	bl_kube_config_free(&c);
}

/* The JSON form bpflet-controlplane writes (admin.kubeconfig) reads the same way. */
Test(kubeconfig, json_kubeconfig)
{
	static const char j[] =
		"{\"apiVersion\":\"v1\",\"kind\":\"Config\",\"clusters\":[{\"name\":\"b\","
		"\"cluster\":{\"server\":\"https://127.0.0.1:21001\","
		"\"certificate-authority-data\":\"" CA_B64 "\"}}],\"users\":[{\"name\":\"a\","
		"\"user\":{\"client-certificate-data\":\"" CERT_B64
		"\",\"client-key-data\":\"" KEY_B64
		"\"}}],\"contexts\":[{\"name\":\"b\",\"context\":{\"cluster\":\"b\",\"user\":\"a\"}"
		"}],"
		"\"current-context\":\"b\",\"preferences\":{}}";
	struct bl_kube_config c;
	char err[512] = "";

	cr_assert_eq(bl_kubeconfig_parse(j, sizeof(j) - 1, NULL, NULL, &c, err, sizeof(err)), 0,
		     "%s", err);
	cr_assert_str_eq(c.server, "https://127.0.0.1:21001");
	cr_assert_str_eq(c.key.data, "key-bytes");
	bl_kube_config_free(&c);
}

struct bad_case {
	const char *what, *yaml, *context, *msg;
	int rc;
};

static const char head[] = "clusters:\n- {name: c, cluster: {server: 'https://h:1'}}\n"
			   "contexts:\n- {name: x, context: {cluster: c, user: u}}\n";

Test(kubeconfig, bad_input_gives_clear_errors)
{
	static char buf[16][1024];
	const struct bad_case cases[] = {
		{"unknown context", two_contexts, "staging", "context \"staging\" not found",
		 -ENOENT},
		{"no current-context", "clusters: []\n", NULL,
		 "no current-context set and no --context given", -EINVAL},
		{"context names a missing cluster",
		 "current-context: x\ncontexts:\n- {name: x, context: {cluster: gone}}\n", NULL,
		 "cluster \"gone\" not found", -ENOENT},
		{"cluster without server",
		 "current-context: x\nclusters:\n- {name: c, cluster: {}}\n"
		 "contexts:\n- {name: x, context: {cluster: c}}\n",
		 NULL, "cluster \"c\" has no server", -EINVAL},
		{"server is not a URL",
		 "current-context: x\nclusters:\n- {name: c, cluster: {server: 'h:1'}}\n"
		 "contexts:\n- {name: x, context: {cluster: c}}\n",
		 NULL, "server \"h:1\" is not an http(s) URL", -EINVAL},
		{"bad base64",
		 "current-context: x\nclusters:\n- {name: c, cluster: {server: 'https://h', "
		 "certificate-authority-data: '!!notbase64!!'}}\n"
		 "contexts:\n- {name: x, context: {cluster: c}}\n",
		 NULL, "cluster \"c\".certificate-authority-data is not valid base64", -EINVAL},
		{"missing CA file",
		 "current-context: x\nclusters:\n- {name: c, cluster: {server: 'https://h', "
		 "certificate-authority: /nonexistent/ca.crt}}\n"
		 "contexts:\n- {name: x, context: {cluster: c}}\n",
		 NULL, "cannot read /nonexistent/ca.crt: No such file or directory", -ENOENT},
		{"key without certificate",
		 "users:\n- {name: u, user: {client-key-data: " KEY_B64 "}}\n", "x",
		 "user \"u\" has a client key without its certificate", -EINVAL},
		{"exec plugin", "users:\n- {name: u, user: {exec: {command: aws}}}\n", "x",
		 "credential plugin", -ENOTSUP},
		{"basic auth", "users:\n- {name: u, user: {username: a, password: b}}\n", "x",
		 "basic authentication", -ENOTSUP},
		{"token not a string", "users:\n- {name: u, user: {token: [1]}}\n", "x",
		 "user \"u\".token must be a string", -EINVAL},
		{"insecure not a bool",
		 "current-context: x\nclusters:\n- {name: c, cluster: {server: 'https://h', "
		 "insecure-skip-tls-verify: maybe}}\ncontexts:\n- {name: x, context: {cluster: "
		 "c}}\n",
		 NULL, "insecure-skip-tls-verify must be true or false", -EINVAL},
		{"not a mapping", "- a\n- b\n", NULL, "expected a mapping", -EINVAL},
		{"YAML syntax", "clusters: [\n", NULL, "line ", -EINVAL},
		{"missing tokenFile", "users:\n- {name: u, user: {tokenFile: /nonexistent/tok}}\n",
		 "x", "tokenFile: cannot read /nonexistent/tok", -ENOENT},
		{"contexts not a list", "current-context: x\ncontexts: {x: 1}\n", NULL,
		 "contexts must be a list", -EINVAL},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct bad_case *k = &cases[i];
		const char *y = k->yaml;
		struct bl_kube_config c;
		char err[512] = "";
		int rc;

		/* user cases share the cluster/context head */
		if (!strncmp(y, "users:", 6)) {
			snprintf(buf[i], sizeof(buf[i]), "%s%s", head, y);
			y = buf[i];
		}
		rc = bl_kubeconfig_parse(y, strlen(y), dir, k->context, &c, err, sizeof(err));
		cr_expect_eq(rc, k->rc, "%s: rc %d, want %d (%s)", k->what, rc, k->rc, err);
		cr_expect(strstr(err, k->msg) != NULL, "%s: message '%s' lacks '%s'", k->what, err,
			  k->msg);
		cr_expect_null(c.server, "%s: config left half-filled", k->what);
	}
}

Test(kubeconfig, missing_file_is_named)
{
	struct bl_kube_config c;
	char err[512] = "";

	cr_assert_eq(bl_kubeconfig_load("/nonexistent/kubeconfig", NULL, &c, err, sizeof(err)),
		     -ENOENT);
	cr_assert_str_eq(err, "kubeconfig /nonexistent/kubeconfig: No such file or directory");
}

Test(kubeconfig, in_cluster_service_account)
{
	struct bl_kube_config c;
	char err[512] = "", tok[64];

	put("token", "sa-token\n");
	put("ca.crt", "SA CA\n");
	setenv("KUBERNETES_SERVICE_HOST", "10.96.0.1", 1);
	setenv("KUBERNETES_SERVICE_PORT", "443", 1);
	cr_assert_eq(bl_kube_in_cluster(dir, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.server, "https://10.96.0.1:443");
	cr_assert_str_eq(c.ca.data, "SA CA\n");
	cr_assert_eq(bl_kube_config_token(&c, tok, sizeof(tok)), 0);
	cr_assert_str_eq(tok, "sa-token");
	bl_kube_config_free(&c);

	setenv("KUBERNETES_SERVICE_HOST", "fd00::1", 1);
	unsetenv("KUBERNETES_SERVICE_PORT");
	cr_assert_eq(bl_kube_in_cluster(dir, &c, err, sizeof(err)), 0, "%s", err);
	cr_assert_str_eq(c.server, "https://[fd00::1]:443");
	bl_kube_config_free(&c);

	setenv("KUBERNETES_SERVICE_PORT", "https", 1);
	cr_assert_eq(bl_kube_in_cluster(dir, &c, err, sizeof(err)), -EINVAL);
	cr_assert(strstr(err, "KUBERNETES_SERVICE_PORT \"https\" is not a port"));
	unsetenv("KUBERNETES_SERVICE_PORT");

	cr_assert_eq(bl_kube_in_cluster("/nonexistent", &c, err, sizeof(err)), -ENOENT);
	cr_assert(strstr(err, "service account token /nonexistent/token"), "%s", err);
	cr_assert_null(c.server);

	unsetenv("KUBERNETES_SERVICE_HOST");
	cr_assert_eq(bl_kube_in_cluster(dir, &c, err, sizeof(err)), -ENOENT);
	cr_assert_str_eq(err, "KUBERNETES_SERVICE_HOST is not set");
}
