#include "agent/common/paths.h"

#include <bpflet/abi.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

bool bl_instance_valid(const char *instance)
{
	size_t n = instance ? strlen(instance) : 0;

	if (n == 0 || n > BPFLET_INSTANCE_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = instance[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

static int fmt_path(char *buf, size_t len, const char *fmt, const char *a, const char *b)
{
	int n = snprintf(buf, len, fmt, a, b);

	return (n < 0 || (size_t)n >= len) ? -ENAMETOOLONG : 0;
}

int bl_pin_dir(char *buf, size_t len, const char *instance)
{
	return fmt_path(buf, len, "%s/%s", BPFLET_PIN_ROOT, instance);
}

int bl_pin_path(char *buf, size_t len, const char *instance, const char *name)
{
	char dir[128];
	int err = bl_pin_dir(dir, sizeof(dir), instance);

	return err ? err : fmt_path(buf, len, "%s/%s", dir, name);
}

int bl_run_dir(char *buf, size_t len, const char *instance)
{
	return fmt_path(buf, len, "%s/%s", BPFLET_RUN_ROOT, instance);
}

int bl_sock_path(char *buf, size_t len, const char *instance)
{
	return fmt_path(buf, len, "%s/%s/agent.sock", BPFLET_RUN_ROOT, instance);
}

int bl_mkdir_p(const char *path, unsigned mode)
{
	char tmp[512];
	size_t n = strlen(path);

	if (n == 0 || n >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, n + 1);
	for (char *p = tmp + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(tmp, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(tmp, mode) && errno != EEXIST)
		return -errno;
	return 0;
}
