/* bpfletctl conntrack list: both conntrack maps, one line per direction. */
#include "tools/bpfletctl/ctl.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct ct_walk {
	json_t *out;
	unsigned long long now_ns;
	/* filters: 0 / NULL match everything */
	uint32_t addr;	  /* network order: source, destination, NAT or hairpin address */
	uint16_t port;	  /* host order: source, destination or NAT port */
	const char *want; /* Service NAMESPACE/NAME[:PORT] */
	int name_fd;
	uint8_t proto;
};

static bool wanted(const struct ct_walk *w, const struct bpflet_ct_key *key,
		   const struct bpflet_ct_val *val)
{
	if (w->proto && key->proto != w->proto)
		return false;
	if (w->addr && key->saddr.addr[0] != w->addr && key->daddr.addr[0] != w->addr &&
	    val->nat_addr.addr[0] != w->addr && val->hairpin_addr.addr[0] != w->addr)
		return false;
	if (w->port && ntohs(key->sport) != w->port && ntohs(key->dport) != w->port &&
	    ntohs(val->nat_port) != w->port)
		return false;
	if (w->want) {
		char name[BPFLET_SVC_NAME_LEN];

		ctl_svc_name(w->name_fd, val->svc_id, name, sizeof(name));
		if (!ctl_name_matches(name, w->want))
			return false;
	}
	return true;
}

static int add_entry(void *arg, const void *k, const void *v)
{
	const struct bpflet_ct_key *key = k;
	const struct bpflet_ct_val *val = v;
	struct ct_walk *w = arg;
	char src[80], dst[80], nat[80];
	json_t *e;

	if (!wanted(w, key, val))
		return 0;
	ctl_endpoint(&key->saddr, key->family, key->sport, src, sizeof(src));
	ctl_endpoint(&key->daddr, key->family, key->dport, dst, sizeof(dst));
	ctl_endpoint(&val->nat_addr, key->family, val->nat_port, nat, sizeof(nat));
	e = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:I}", "protocol",
		      bl_proto_name(key->proto), "src", src, "dst", dst, "direction",
		      val->dir == BPFLET_CT_REPLY ? "reply"
		      : val->svc_id == 0	  ? "policy" /* a pass entry: no translation */
						  : "forward",
		      "nat", nat, "svc_id", val->svc_id, "backend_id", val->backend_id, "flags",
		      val->flags, "idle_seconds",
		      (json_int_t)(w->now_ns > val->last_seen_ns
					   ? (w->now_ns - val->last_seen_ns) / 1000000000ull
					   : 0));
	if (val->flags & BPFLET_CT_F_HAIRPIN) {
		char hp[80];

		ctl_endpoint(&val->hairpin_addr, key->family, val->hairpin_port, hp, sizeof(hp));
		*strrchr(hp, ':') = '\0';
		json_object_set_new(e, "hairpin", json_string(hp));
	}
	if (key->proto == IPPROTO_TCP && val->win.state) /* the window record (JSON only) */
		json_object_set_new(e, "tcp_window",
				    json_pack("{s:I, s:I, s:I, s:I, s:I, s:i, s:i}", "end",
					      (json_int_t)val->win.end, "ack_limit",
					      (json_int_t)val->win.ack_limit, "max_window",
					      (json_int_t)val->win.maxwin, "peer_limit",
					      (json_int_t)val->win.peer_limit, "peer_max_window",
					      (json_int_t)val->win.peer_maxwin, "scale",
					      val->win.wscale, "state", val->win.state));
	json_array_append_new(w->out, e);
	return 0;
}

static const char usage[] = "bpfletctl: usage: conntrack list [--addr IP] [--port N] [--service "
			    "NAMESPACE/NAME[:PORT]]\n"
			    "                                 [--proto tcp|udp|sctp]\n"
			    "                  conntrack flush [--service NAMESPACE/NAME[:PORT]]\n";

int cmd_conntrack(const struct ctl *c, int argc, char **argv)
{
	struct ct_walk w = {.name_fd = -1};
	struct timespec ts;
	int fds[2] = {-1, -1}, rc = 1;
	size_t i;
	json_t *e;

	if (argc >= 1 && !strcmp(argv[0], "flush"))
		return ct_flush(c, argc, argv);
	if (argc < 1 || strcmp(argv[0], "list") || argc % 2 == 0) {
		fputs(usage, stderr);
		return 2;
	}
	for (int a = 1; a + 1 < argc; a += 2) {
		const char *opt = argv[a], *val = argv[a + 1];
		int bad = 0;

		if (!strcmp(opt, "--addr"))
			bad = ctl_parse_addr(val, &w.addr);
		else if (!strcmp(opt, "--port"))
			bad = ctl_parse_port(val, &w.port);
		else if (!strcmp(opt, "--proto"))
			bad = ctl_parse_proto(val, &w.proto);
		else if (!strcmp(opt, "--service"))
			w.want = val;
		else {
			fprintf(stderr, "bpfletctl: conntrack list: unknown option '%s'\n", opt);
			bad = -1;
		}
		if (bad) {
			fputs(usage, stderr);
			return 2;
		}
	}
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* the clock conntrack stamps use */
	w.now_ns = (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
	fds[0] = ctl_map_open(c, BPFLET_MAP_CT_TCP);
	fds[1] = fds[0] >= 0 ? ctl_map_open(c, BPFLET_MAP_CT_ANY) : -1;
	if (fds[1] >= 0 && w.want) {
		w.name_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES);
		if (w.name_fd >= 0 && !ctl_service_known(c, w.name_fd, w.want)) {
			close(w.name_fd);
			w.name_fd = -1;
		}
	}
	if (fds[1] < 0 || (w.want && w.name_fd < 0))
		goto out;
	w.out = json_array();
	for (int m = 0; m < 2; m++) {
		/* TCP flows sit in the TCP map only, the rest in the other */
		if (w.proto && (w.proto == IPPROTO_TCP) != (m == 0))
			continue;
		bl_map_walk(fds[m], sizeof(struct bpflet_ct_key), sizeof(struct bpflet_ct_val),
			    add_entry, &w);
	}
	rc = 0;
	if (c->json) {
		ctl_print_json(w.out);
		w.out = NULL;
		goto out;
	}
	printf("%-5s %-22s %-22s %-8s %-22s %-6s %s\n", "PROTO", "SOURCE", "DESTINATION", "DIR",
	       "NAT", "SVC", "IDLE");
	json_array_foreach(w.out, i, e)
	{
		printf("%-5s %-22s %-22s %-8s %-22s %-6lld %llds\n",
		       json_string_value(json_object_get(e, "protocol")),
		       json_string_value(json_object_get(e, "src")),
		       json_string_value(json_object_get(e, "dst")),
		       json_string_value(json_object_get(e, "direction")),
		       json_string_value(json_object_get(e, "nat")),
		       json_integer_value(json_object_get(e, "svc_id")),
		       json_integer_value(json_object_get(e, "idle_seconds")));
	}
out:
	json_decref(w.out);
	ctl_close_all((int[]){fds[0], fds[1], w.name_fd}, 3);
	return rc;
}
