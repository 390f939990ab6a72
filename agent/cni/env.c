/* The CNI_* environment of one plugin run and the Kubernetes keys in CNI_ARGS. */
#include "agent/cni/cni.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int env_copy(const char *name, char *dst, size_t len, bool required, struct cni_error *e)
{
	const char *v = getenv(name);

	dst[0] = '\0';
	if (!v || !v[0]) {
		if (!required)
			return 0;
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL, "%s is not set", name);
		return -EINVAL;
	}
	if (strlen(v) >= len) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL, "%s is longer than %zu characters",
			      name, len - 1);
		return -EINVAL;
	}
	strcpy(dst, v);
	return 0;
}

/* The spec's container id: alphanumeric first, then alphanumerics, '_', '.', '-' */
static bool container_id_valid(const char *id)
{
	for (const char *p = id; *p; p++) {
		bool alnum = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			     (*p >= '0' && *p <= '9');

		if (!alnum && (p == id || !strchr("_.-", *p)))
			return false;
	}
	return id[0] != '\0';
}

/* What the kernel accepts as an interface name (dev_valid_name) */
static bool ifname_valid(const char *n)
{
	if (!n[0] || !strcmp(n, ".") || !strcmp(n, ".."))
		return false;
	for (const char *p = n; *p; p++)
		if (*p == '/' || *p == ':' || *p <= ' ')
			return false;
	return true;
}

static int set_arg(char *dst, size_t len, const char *key, const char *val, struct cni_error *e)
{
	if (strlen(val) >= len) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL,
			      "CNI_ARGS: %s is longer than %zu characters", key, len - 1);
		return -EINVAL;
	}
	strcpy(dst, val);
	return 0;
}

int cni_args_parse(const char *args, struct cni_env *env, struct cni_error *e)
{
	char *copy, *save = NULL;
	int rc = 0;

	env->pod_namespace[0] = env->pod_name[0] = '\0';
	if (!args || !args[0])
		return 0;
	copy = strdup(args);
	if (!copy) {
		cni_set_error(e, CNI_ERR_OTHER, NULL, "out of memory");
		return -ENOMEM;
	}
	for (char *kv = strtok_r(copy, ";", &save); kv && !rc; kv = strtok_r(NULL, ";", &save)) {
		char *eq = strchr(kv, '=');

		if (!eq || eq == kv) {
			cni_set_error(e, CNI_ERR_INVALID_ENV, NULL,
				      "CNI_ARGS: \"%s\" is not KEY=VALUE", kv);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		/* other keys (IgnoreUnknown, K8S_POD_UID, ...) are not ours to judge */
		if (!strcmp(kv, "K8S_POD_NAMESPACE"))
			rc = set_arg(env->pod_namespace, sizeof(env->pod_namespace), kv, eq + 1, e);
		else if (!strcmp(kv, "K8S_POD_NAME"))
			rc = set_arg(env->pod_name, sizeof(env->pod_name), kv, eq + 1, e);
	}
	free(copy);
	return rc;
}

int cni_env_read(struct cni_env *env, struct cni_error *e)
{
	bool add_or_check;

	memset(env, 0, sizeof(*env));
	if (env_copy("CNI_COMMAND", env->command, sizeof(env->command), true, e))
		return -EINVAL;
	if (!strcmp(env->command, "VERSION"))
		return 0;
	if (strcmp(env->command, "ADD") && strcmp(env->command, "DEL") &&
	    strcmp(env->command, "CHECK")) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, "supported: ADD, DEL, CHECK, VERSION",
			      "CNI_COMMAND \"%s\" is not supported", env->command);
		return -EINVAL;
	}
	/* DEL must work even when the runtime lost the netns */
	add_or_check = strcmp(env->command, "DEL") != 0;
	if (env_copy("CNI_CONTAINERID", env->container_id, sizeof(env->container_id), true, e) ||
	    env_copy("CNI_NETNS", env->netns, sizeof(env->netns), add_or_check, e) ||
	    env_copy("CNI_IFNAME", env->ifname, sizeof(env->ifname), true, e))
		return -EINVAL;
	if (!container_id_valid(env->container_id)) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL,
			      "CNI_CONTAINERID \"%s\" must be alphanumeric plus '_', '.', '-'",
			      env->container_id);
		return -EINVAL;
	}
	if (!ifname_valid(env->ifname)) {
		cni_set_error(e, CNI_ERR_INVALID_ENV, NULL,
			      "CNI_IFNAME \"%s\" is not a valid interface name", env->ifname);
		return -EINVAL;
	}
	return cni_args_parse(getenv("CNI_ARGS"), env, e);
}
