/*
 * bpflet-cni: a CNI 1.0 plugin (ADD, DEL, CHECK, VERSION). It wires a pod with a veth
 * pair, an address from the node's pod CIDR and routes through 169.254.1.1, then
 * registers the endpoint with the bpflet agent of the configured instance over its
 * unix socket. The runtime passes CNI_* variables and the network config on stdin;
 * the result or a CNI error goes to stdout, diagnostics to stderr.
 */
#include "agent/cni/cni.h"
#include "agent/common/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STDIN (1 << 20)

static char *read_stdin(void)
{
	size_t len = 0, cap = 4096;
	char *buf = malloc(cap);

	while (buf) {
		size_t n = fread(buf + len, 1, cap - len - 1, stdin);

		len += n;
		if (n == 0)
			break;
		if (len + 1 == cap) {
			char *p = cap < MAX_STDIN ? realloc(buf, cap * 2) : NULL;

			if (!p) {
				free(buf);
				return NULL;
			}
			buf = p;
			cap *= 2;
		}
	}
	if (buf)
		buf[len] = '\0';
	return buf;
}

static int print_doc(char *doc)
{
	if (!doc)
		return 1;
	printf("%s\n", doc);
	free(doc);
	return 0;
}

static int fail(const char *version, const struct cni_error *e)
{
	if (print_doc(cni_error_json(version, e)))
		printf("{\"cniVersion\":\"1.0.0\",\"code\":999,\"msg\":\"out of memory\"}\n");
	return 1;
}

int main(void)
{
	struct cni_error e = {0};
	struct cni_conf conf;
	struct cni_env env;
	char *in, *result = NULL;
	int rc;

	bl_log_set_prefix("bpflet-cni");
	if (cni_env_read(&env, &e))
		return fail(NULL, &e);
	if (!strcmp(env.command, "VERSION"))
		return print_doc(cni_version_json());
	in = read_stdin();
	if (!in) {
		cni_set_error(&e, CNI_ERR_DECODE, NULL, "cannot read the network config on stdin");
		return fail(NULL, &e);
	}
	rc = cni_conf_parse(in, &conf, &e);
	free(in);
	if (rc)
		return fail(NULL, &e);
	if (!strcmp(env.command, "ADD"))
		rc = cni_cmd_add(&conf, &env, &result, &e);
	else if (!strcmp(env.command, "DEL"))
		rc = cni_cmd_del(&conf, &env, &e);
	else
		rc = cni_cmd_check(&conf, &env, &e);
	if (rc)
		return fail(conf.cni_version, &e);
	if (result)
		print_doc(result);
	return 0;
}
