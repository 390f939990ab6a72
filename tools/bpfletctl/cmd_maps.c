/* bpfletctl maps: every map pinned for the instance, with its size and fill level,
 * so a full conntrack or frontend map is seen before it starts dropping. */
#include "tools/bpfletctl/ctl.h"
#include "agent/common/paths.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Maps whose entries are not keys to walk: arrays are always full by construction,
 * ring buffers have no keys. Their fill level is not meaningful. */
static bool countable(enum bpf_map_type t)
{
	switch (t) {
	case BPF_MAP_TYPE_ARRAY:
	case BPF_MAP_TYPE_PERCPU_ARRAY:
	case BPF_MAP_TYPE_PROG_ARRAY:
	case BPF_MAP_TYPE_ARRAY_OF_MAPS:
	case BPF_MAP_TYPE_RINGBUF:
	case BPF_MAP_TYPE_PERF_EVENT_ARRAY:
		return false;
	default:
		return true;
	}
}

static json_t *describe(const char *path, const char *file)
{
	struct bpf_map_info info = {0};
	__u32 len = sizeof(info);
	const char *type;
	json_t *m;
	long n = -1;
	int fd;

	LIBBPF_OPTS(bpf_obj_get_opts, opts, .file_flags = BPF_F_RDONLY);
	fd = bpf_obj_get_opts(path, &opts);
	if (fd < 0)
		return NULL;
	if (bpf_map_get_info_by_fd(fd, &info, &len)) { /* a pinned link or program */
		close(fd);
		return NULL;
	}
	if (countable(info.type))
		n = bl_map_count(fd);
	close(fd);
	type = libbpf_bpf_map_type_str(info.type);
	m = json_pack("{s:s, s:s, s:i, s:s, s:i, s:i, s:i}", "name", file, "path", path, "id",
		      info.id, "type", type ? type : "unknown", "key_size", info.key_size,
		      "value_size", info.value_size, "max_entries", info.max_entries);
	if (n >= 0) {
		json_object_set_new(m, "entries", json_integer(n));
		json_object_set_new(m, "fill_percent",
				    json_real(info.max_entries ? 100.0 * n / info.max_entries : 0));
	}
	return m;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(json_string_value(json_object_get(*(json_t *const *)a, "name")),
		      json_string_value(json_object_get(*(json_t *const *)b, "name")));
}

static void print_table(json_t *arr)
{
	size_t i;
	json_t *m;

	printf("%-18s %-16s %5s %5s %9s %9s %7s\n", "MAP", "TYPE", "KEY", "VALUE", "MAX", "ENTRIES",
	       "FILL");
	json_array_foreach(arr, i, m)
	{
		json_t *e = json_object_get(m, "entries");
		char entries[24] = "-", fill[16] = "-";

		if (e) {
			snprintf(entries, sizeof(entries), "%lld", json_integer_value(e));
			snprintf(fill, sizeof(fill), "%.1f%%",
				 json_real_value(json_object_get(m, "fill_percent")));
		}
		printf("%-18s %-16s %5lld %5lld %9lld %9s %7s\n",
		       json_string_value(json_object_get(m, "name")),
		       json_string_value(json_object_get(m, "type")),
		       json_integer_value(json_object_get(m, "key_size")),
		       json_integer_value(json_object_get(m, "value_size")),
		       json_integer_value(json_object_get(m, "max_entries")), entries, fill);
	}
}

int cmd_maps(const struct ctl *c, int argc, char **argv)
{
	char dir[256], path[512];
	json_t *arr = json_array(), *m;
	struct dirent *de;
	DIR *d;

	if (argc > 0 && strcmp(argv[0], "list")) {
		fprintf(stderr, "bpfletctl: usage: maps [list]\n");
		json_decref(arr);
		return 2;
	}
	bl_pin_dir(dir, sizeof(dir), c->instance);
	d = opendir(dir);
	if (!d) {
		fprintf(stderr,
			"bpfletctl: %s: %s: is the agent of instance '%s' running? (start it "
			"with `bpflet --instance %s --manifests DIR`)\n",
			dir, strerror(errno), c->instance, c->instance);
		json_decref(arr);
		return 1;
	}
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		m = describe(path, de->d_name);
		if (m)
			json_array_append_new(arr, m);
	}
	closedir(d);
	ctl_sort(arr, by_name);
	if (c->json) {
		ctl_print_json(arr);
		return 0;
	}
	print_table(arr);
	json_decref(arr);
	return 0;
}
