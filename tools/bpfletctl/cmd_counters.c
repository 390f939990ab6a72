/* bpfletctl counters: the per-CPU reason counters, summed. */
#include "tools/bpfletctl/ctl.h"
#include "agent/common/maps_util.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int cmd_counters(const struct ctl *c, int argc, char **argv)
{
	int ncpu = libbpf_num_possible_cpus();
	int fd = ctl_map_open(c, BPFLET_MAP_COUNTERS);
	struct bpflet_counter_val *v;
	json_t *out;

	(void)argv;
	if (argc > 0) {
		fprintf(stderr, "bpfletctl: usage: counters\n");
		return 2;
	}
	if (fd < 0)
		return 1;
	v = calloc(ncpu > 0 ? (size_t)ncpu : 1, sizeof(*v));
	out = json_array();
	for (__u32 i = 0; i < BPFLET_CNT_MAX && v; i++) {
		unsigned long long p = 0, b = 0;

		if (bpf_map_lookup_elem(fd, &i, v))
			continue;
		for (int cpu = 0; cpu < ncpu; cpu++) {
			p += v[cpu].packets;
			b += v[cpu].bytes;
		}
		json_array_append_new(out,
				      json_pack("{s:s, s:I, s:I}", "reason", bl_counter_name(i),
						"packets", (json_int_t)p, "bytes", (json_int_t)b));
	}
	free(v);
	close(fd);
	if (c->json) {
		ctl_print_json(out);
		return 0;
	}
	size_t i;
	json_t *e;

	printf("%-26s %14s %16s\n", "REASON", "PACKETS", "BYTES");
	json_array_foreach(out, i, e)
		printf("%-26s %14lld %16lld\n", json_string_value(json_object_get(e, "reason")),
		       json_integer_value(json_object_get(e, "packets")),
		       json_integer_value(json_object_get(e, "bytes")));
	json_decref(out);
	return 0;
}
