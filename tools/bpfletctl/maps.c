#include "tools/bpfletctl/ctl.h"
#include "agent/common/netaddr.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

static int map_open(const struct ctl *c, const char *name, __u32 flags)
{
	char path[256], dir[256];
	int fd;

	bl_pin_path(path, sizeof(path), c->instance, name);
	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = flags);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0) {
		int err = errno;

		bl_pin_dir(dir, sizeof(dir), c->instance);
		if (err == ENOENT && access(dir, F_OK))
			fprintf(stderr,
				"bpfletctl: instance '%s' not found (no %s): is its agent running? "
				"(start it with `bpflet --instance %s --manifests DIR`)\n",
				c->instance, dir, c->instance);
		else if (err == ENOENT)
			fprintf(stderr,
				"bpfletctl: map %s missing in %s: the agent of instance '%s' is "
				"older than this bpfletctl or still starting (restart the agent to "
				"create it)\n",
				name, dir, c->instance);
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

bool ctl_name_matches(const char *have, const char *want)
{
	size_t n = strlen(want);

	return !strncmp(have, want, n) && (have[n] == '\0' || have[n] == ':');
}

void ctl_svc_name(int name_fd, uint32_t svc_id, char *out, size_t len)
{
	struct bpflet_svc_name nm = {0};

	if (name_fd < 0 || bpf_map_lookup_elem(name_fd, &svc_id, &nm))
		nm.name[0] = '\0';
	nm.name[sizeof(nm.name) - 1] = '\0';
	snprintf(out, len, "%s", nm.name);
}

struct name_find {
	const char *want;
	bool found;
};

static int find_name(void *arg, const void *k, const void *v)
{
	const struct bpflet_svc_name *nm = v;
	struct name_find *f = arg;
	char name[BPFLET_SVC_NAME_LEN];

	(void)k;
	memcpy(name, nm->name, sizeof(name));
	name[sizeof(name) - 1] = '\0';
	f->found = ctl_name_matches(name, f->want);
	return f->found;
}

bool ctl_service_known(const struct ctl *c, int name_fd, const char *want)
{
	struct name_find f = {.want = want};

	bl_map_walk(name_fd, sizeof(__u32), sizeof(struct bpflet_svc_name), find_name, &f);
	if (!f.found)
		fprintf(stderr,
			"bpfletctl: service %s not found in instance '%s' (`bpfletctl --instance "
			"%s service list` shows the Services the agent programmed; name them "
			"NAMESPACE/NAME or NAMESPACE/NAME:PORT)\n",
			want, c->instance, c->instance);
	return f.found;
}

int ctl_percpu_sum(int fd, __u32 key, struct bpflet_counter_val *sum)
{
	int ncpu = libbpf_num_possible_cpus();
	struct bpflet_counter_val *v;
	int err = 0;

	sum->packets = sum->bytes = 0;
	if (ncpu <= 0)
		return -EINVAL;
	v = calloc((size_t)ncpu, sizeof(*v));
	if (!v)
		return -ENOMEM;
	if (bpf_map_lookup_elem(fd, &key, v))
		err = -errno;
	for (int i = 0; !err && i < ncpu; i++) {
		sum->packets += v[i].packets;
		sum->bytes += v[i].bytes;
	}
	free(v);
	return err;
}

int ctl_parse_port(const char *s, uint16_t *port)
{
	char *end;
	long v = strtol(s, &end, 10);

	if (!*s || *end || v < 1 || v > 65535) {
		fprintf(stderr, "bpfletctl: '%s' is not a port (1-65535)\n", s);
		return -1;
	}
	*port = (uint16_t)v;
	return 0;
}

int ctl_parse_addr(const char *s, uint32_t *addr_be)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1) {
		fprintf(stderr, "bpfletctl: '%s' is not an IPv4 address\n", s);
		return -1;
	}
	*addr_be = a.s_addr;
	return 0;
}

int ctl_parse_proto(const char *s, uint8_t *proto)
{
	if (!strcasecmp(s, "tcp"))
		*proto = IPPROTO_TCP;
	else if (!strcasecmp(s, "udp"))
		*proto = IPPROTO_UDP;
	else if (!strcasecmp(s, "sctp"))
		*proto = IPPROTO_SCTP;
	else {
		fprintf(stderr, "bpfletctl: protocol '%s': use tcp, udp or sctp\n", s);
		return -1;
	}
	return 0;
}

void ctl_sort(json_t *arr, int (*cmp)(const void *, const void *))
{
	size_t n = json_array_size(arr);
	json_t **items = calloc(n ? n : 1, sizeof(*items));

	if (!items)
		return;
	for (size_t i = 0; i < n; i++)
		items[i] = json_incref(json_array_get(arr, i));
	qsort(items, n, sizeof(*items), cmp);
	json_array_clear(arr);
	for (size_t i = 0; i < n; i++)
		json_array_append_new(arr, items[i]);
	free(items);
}

int ctl_by_id(const void *a, const void *b)
{
	json_int_t x = json_integer_value(json_object_get(*(json_t *const *)a, "id"));
	json_int_t y = json_integer_value(json_object_get(*(json_t *const *)b, "id"));

	return (x > y) - (x < y);
}
