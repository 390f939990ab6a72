#include "tools/bpfletctl/ctl.h"
#include "agent/common/netaddr.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int map_open(const struct ctl *c, const char *name, __u32 flags)
{
	char path[256];
	int fd;

	bl_pin_path(path, sizeof(path), c->instance, name);
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = flags);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT)
			fprintf(stderr,
				"bpfletctl: %s not found: is the agent of instance '%s' running? "
				"(start it with `bpflet --instance %s --manifests DIR`)\n",
				path, c->instance, c->instance);
		else
			fprintf(stderr, "bpfletctl: cannot open %s: %s (run as root)\n", path,
				strerror(err));
		return -err;
	}
	return fd;
}

int ctl_map_open(const struct ctl *c, const char *name)
{
	return map_open(c, name, BPF_F_RDONLY);
}

int ctl_map_open_rw(const struct ctl *c, const char *name)
{
	return map_open(c, name, 0);
}

const char *ctl_endpoint(const struct bpflet_addr *a, unsigned family, unsigned port_be, char *buf,
			 size_t len)
{
	char ip[64];

	bl_addr_format(a, (uint8_t)family, ip, sizeof(ip));
	snprintf(buf, len, "%s:%u", ip, ntohs((uint16_t)port_be));
	return buf;
}

void ctl_print_json(json_t *v)
{
	char *s = json_dumps(v, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s)
		puts(s);
	free(s);
	json_decref(v);
}

void ctl_close_all(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}
