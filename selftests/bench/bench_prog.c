/*
 * bench_prog: per-packet cost of tc_pod under BPF_PROG_TEST_RUN (the kernel reports
 * the mean duration of `repeat` runs), as ratios to a bare parse-and-pass program:
 * the established-flow path, and the new-flow path with 10, 10k and 100k Services.
 * Each figure is the median of REPS measurements.
 *
 * BPF_PROG_TEST_RUN runs `repeat` times on the same buffer, so a translated packet
 * would be measured only once. Each translation therefore has a mirror entry that
 * translates it back (a conntrack entry for the established path, a frontend at the
 * backend's address for the new-flow path): every run takes the full path.
 *
 * xdp_uplink's established north-south path (NodePort to a local backend, DNAT and
 * XDP_PASS) is measured the same way.
 *
 * The established path is measured again while a monitor runs (bl_mon_v1 on).
 *
 * Two floors put the established figure in proportion: parse + one LRU hit with
 * our 40-byte conntrack key, and the same with a 16-byte IPv4 key. No program that
 * follows conntrack can beat the first; the second is what a narrower key would buy.
 */
#include "floor_key.h"
#include "selftests/bpf/packet.h"
#include "pass.skel.h"
#include "tc_pod.skel.h"
#include "xdp_uplink.skel.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/abi.h>
#include <bpflet/monitor_abi.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define REPEAT 1000000
#define REPS   5

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

struct figure {
	double median, min, max;
};

/* Median ns/packet of REPS runs of `repeat` packets each. */
static int measure(int prog_fd, const uint8_t *pkt, size_t len, struct figure *f)
{
	double v[REPS];
	uint8_t out[PKT_MAX];

	for (int i = 0; i < REPS; i++) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = REPEAT);

		if (bpf_prog_test_run_opts(prog_fd, &o))
			return -errno;
		v[i] = o.duration; /* mean ns per run, as the kernel measures it */
	}
	qsort(v, REPS, sizeof(v[0]), cmp_double);
	f->median = v[REPS / 2];
	f->min = v[0];
	f->max = v[REPS - 1];
	return 0;
}

/* n Services of 2 backends each; the measured packet targets service 0. */
static int fill_services(struct tc_pod *s, unsigned n)
{
	int fe = bpf_map__fd(s->maps.bl_fe_v1), sl = bpf_map__fd(s->maps.bl_slot_v1);
	int be = bpf_map__fd(s->maps.bl_be_v1);

	for (unsigned i = 0; i < n; i++) {
		struct bpflet_fe_key k = {.port = htons(80),
					  .proto = IPPROTO_TCP,
					  .family = BPFLET_AF_INET,
					  .scope = BPFLET_SCOPE_INTERNAL};
		struct bpflet_fe_val v = {.svc_id = i + 1, .count = 2};

		k.addr.addr[0] = htonl(0x0a600000u + i); /* 10.96.0.0 + i */
		for (__u32 j = 0; j < 2; j++) {
			struct bpflet_slot_key skey = {.svc_id = i + 1, .slot = j};
			struct bpflet_backend b = {.port = htons(8080),
						   .proto = IPPROTO_TCP,
						   .family = BPFLET_AF_INET};
			__u32 id = 2 * i + j + 1;

			b.addr.addr[0] = htonl(0x0af40000u + 2 + (2 * i + j) % 60000);
			if (bpf_map_update_elem(be, &id, &b, BPF_ANY) ||
			    bpf_map_update_elem(sl, &skey, &id, BPF_ANY))
				return -errno;
		}
		if (bpf_map_update_elem(fe, &k, &v, BPF_ANY))
			return -errno;
	}
	return 0;
}

/* A figure only counts if the path really translated the packet. */
static int check_translated(int prog_fd, const uint8_t *pkt, size_t len, const char *what)
{
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != 0 && o.retval != XDP_PASS) /* TC_ACT_OK is 0, XDP_PASS 2 */
		o.retval = ~0u;
	if (o.retval == ~0u || pkt_ip_dst(out) == pkt_ip_dst(pkt)) {
		fprintf(stderr, "bench_prog: %s did not translate the packet (verdict %u)\n", what,
			o.retval);
		return -EPROTO;
	}
	return 0;
}

static struct tc_pod *load_pod(bool skip_ct)
{
	struct tc_pod *s = tc_pod__open();

	if (!s)
		return NULL;
	s->rodata->bench_skip_ct_lookup = skip_ct;
	if (tc_pod__load(s)) {
		tc_pod__destroy(s);
		return NULL;
	}
	return s;
}

static int add_frontend(struct tc_pod *s, __be32 vip, __be16 port, __u32 svc_id, __u32 be_id,
			__be32 be_ip, __be16 be_port)
{
	struct bpflet_fe_key k = {.port = port,
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_INTERNAL};
	struct bpflet_fe_val v = {.svc_id = svc_id, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = svc_id, .slot = 0};
	struct bpflet_backend b = {.port = be_port, .proto = IPPROTO_TCP, .family = BPFLET_AF_INET};

	k.addr.addr[0] = vip;
	b.addr.addr[0] = be_ip;
	if (bpf_map_update_elem(bpf_map__fd(s->maps.bl_be_v1), &be_id, &b, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.bl_slot_v1), &sk, &be_id, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(s->maps.bl_fe_v1), &k, &v, BPF_ANY))
		return -errno;
	return 0;
}

/* Service 0's backends get frontends that lead back to 10.96.0.0:80. */
static int mirror_frontends(struct tc_pod *s)
{
	for (__u32 j = 0; j < 2; j++) {
		int err = add_frontend(s, htonl(0x0af40000u + 2 + j), htons(8080), 0x7fff0000 + j,
				       0x7fff0000 + j, htonl(0x0a600000u), htons(80));

		if (err)
			return err;
	}
	return 0;
}

/* The established flow's translated tuple gets a conntrack entry leading back. */
static int mirror_conntrack(struct tc_pod *s, const uint8_t *translated)
{
	struct bpflet_ct_key k = {.sport = htons(pkt_sport(translated)),
				  .dport = htons(pkt_dport(translated)),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET};
	struct bpflet_ct_val v = {.nat_port = htons(80), .dir = BPFLET_CT_FORWARD, .svc_id = 1};

	k.saddr.addr[0] = pkt_ip_src(translated);
	k.daddr.addr[0] = pkt_ip_dst(translated);
	v.nat_addr.addr[0] = htonl(0x0a600000u);
	return bpf_map_update_elem(bpf_map__fd(s->maps.bl_ct_tcp_v2), &k, &v, BPF_ANY) ? -errno : 0;
}

/* xdp_uplink with NodePort 192.168.77.1:30080 → a local backend 10.244.1.5:8080: the
 * SYN opens the flow, the translated tuple gets an entry leading back, then the ACK
 * is measured. */
static int xdp_established(const struct pkt_spec *ack_spec, struct figure *f)
{
	struct pkt_spec spec = *ack_spec;
	struct bpflet_fe_key k = {.port = htons(30080),
				  .proto = IPPROTO_TCP,
				  .family = BPFLET_AF_INET,
				  .scope = BPFLET_SCOPE_EXTERNAL};
	struct bpflet_fe_val fv = {.svc_id = 1, .count = 1};
	struct bpflet_slot_key sk = {.svc_id = 1};
	struct bpflet_backend b = {.port = htons(8080),
				   .proto = IPPROTO_TCP,
				   .family = BPFLET_AF_INET,
				   .flags = BPFLET_BE_F_LOCAL};
	struct bpflet_ct_key mk = {.proto = IPPROTO_TCP, .family = BPFLET_AF_INET};
	struct bpflet_ct_val mv = {.nat_port = htons(30080),
				   .dir = BPFLET_CT_FORWARD,
				   .flags = BPFLET_CT_F_NORTH_SOUTH,
				   .svc_id = 1};
	uint8_t syn[PKT_MAX], pkt[PKT_MAX], out[PKT_MAX];
	struct xdp_uplink *x = xdp_uplink__open();
	__u32 id = 1;
	size_t len;
	int err;

	if (!x)
		return -errno;
	x->rodata->node_ip = inet_addr("192.168.77.1");
	err = xdp_uplink__load(x);
	if (err)
		goto out;
	spec.src = "192.168.77.100";
	spec.dst = "192.168.77.1";
	spec.dport = 30080;
	spec.tcp_flags = 0x10;
	spec.seq = 1;
	len = pkt_build(pkt, &spec);
	spec.tcp_flags = 0x02;
	spec.seq = 0;
	pkt_build(syn, &spec);
	k.addr.addr[0] = inet_addr("192.168.77.1");
	b.addr.addr[0] = inet_addr("10.244.1.5");
	if (bpf_map_update_elem(bpf_map__fd(x->maps.bl_be_v1), &id, &b, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(x->maps.bl_slot_v1), &sk, &id, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(x->maps.bl_fe_v1), &k, &fv, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = syn, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
	err = bpf_prog_test_run_opts(bpf_program__fd(x->progs.xdp_uplink), &o);
	if (err || o.retval != XDP_PASS || pkt_ip_dst(out) != b.addr.addr[0]) {
		fprintf(stderr, "bench_prog: xdp_uplink did not translate the SYN\n");
		err = -EPROTO;
		goto out;
	}
	mk.saddr.addr[0] = inet_addr(spec.src);
	mk.daddr.addr[0] = b.addr.addr[0];
	mk.sport = htons(spec.sport);
	mk.dport = htons(8080);
	mv.nat_addr.addr[0] = k.addr.addr[0];
	if (bpf_map_update_elem(bpf_map__fd(x->maps.bl_ct_tcp_v2), &mk, &mv, BPF_ANY)) {
		err = -errno;
		goto out;
	}
	err = check_translated(bpf_program__fd(x->progs.xdp_uplink), pkt, len, "xdp established");
	if (!err)
		err = measure(bpf_program__fd(x->progs.xdp_uplink), pkt, len, f);
out:
	xdp_uplink__destroy(x);
	return err;
}

/* bl_mon_v1 as bpfletctl monitor sets it, heartbeat fresh for the next seconds. */
static int monitor_on(struct tc_pod *s)
{
	struct bpflet_mon_ctl c = {.flags = BPFLET_MON_F_EVENTS, .pid = 1};
	struct timespec ts;
	__u32 zero = 0;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	c.heartbeat_ns = (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
	return bpf_map_update_elem(bpf_map__fd(s->maps.bl_mon_v1), &zero, &c, BPF_ANY) ? -errno : 0;
}

/* Both floor maps get the entry the measured packet hits. */
static int seed_floors(struct pass *p, const struct pkt_spec *sp)
{
	struct bpflet_ct_key k = {.sport = htons(sp->sport),
				  .dport = htons(sp->dport),
				  .proto = sp->proto,
				  .family = BPFLET_AF_INET};
	struct floor_ct4_key k4 = {
		.sport = htons(sp->sport), .dport = htons(sp->dport), .proto = sp->proto};
	struct bpflet_ct_val v = {.dir = BPFLET_CT_FORWARD, .svc_id = 1};

	k.saddr.addr[0] = k4.saddr = inet_addr(sp->src);
	k.daddr.addr[0] = k4.daddr = inet_addr(sp->dst);
	if (bpf_map_update_elem(bpf_map__fd(p->maps.floor_ct), &k, &v, BPF_ANY) ||
	    bpf_map_update_elem(bpf_map__fd(p->maps.floor_ct4), &k4, &v, BPF_ANY))
		return -errno;
	return 0;
}

/* A floor only counts if its lookup hit (it passes only then). */
static int check_hit(int prog_fd, const uint8_t *pkt, size_t len, const char *what)
{
	uint8_t out[PKT_MAX];
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = (__u32)len,
		    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);

	if (bpf_prog_test_run_opts(prog_fd, &o))
		return -errno;
	if (o.retval != 0) {
		fprintf(stderr, "bench_prog: %s missed its entry (verdict %u)\n", what, o.retval);
		return -EPROTO;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const unsigned sizes[] = {10, 10000, 100000};
	struct pkt_spec spec = {.src = "10.244.0.4",
				.dst = "10.96.0.0",
				.sport = 40000,
				.dport = 80,
				.proto = IPPROTO_TCP,
				.tcp_flags = 0x10,
				.seq = 1,
				.ack = 1};
	struct figure floor_f, pass_f, ct_f, ct4_f, est_f, mon_f, xdp_f, new_f[3];
	const char *json_path = argc == 3 && !strcmp(argv[1], "--json") ? argv[2] : NULL;
	uint8_t pkt[PKT_MAX], syn[PKT_MAX], out[PKT_MAX];
	size_t len = pkt_build(pkt, &spec);
	struct pass *pass = pass__open_and_load();
	struct tc_pod *est = load_pod(false);
	int err;

	/* a flow to a Service starts with a SYN (other packets without conntrack are
	 * dropped as invalid): the new-flow path is measured with one */
	spec.tcp_flags = 0x02;
	pkt_build(syn, &spec);
	if (!pass || !est) {
		fprintf(stderr, "bench_prog: loading BPF programs failed: %s (needs root)\n",
			strerror(errno));
		return 1;
	}
	err = measure(bpf_program__fd(pass->progs.tc_nothing), pkt, len, &floor_f);
	if (!err)
		err = measure(bpf_program__fd(pass->progs.tc_pass), pkt, len, &pass_f);
	if (!err)
		err = seed_floors(pass, &spec);
	if (!err)
		err = check_hit(bpf_program__fd(pass->progs.tc_ct_floor), pkt, len, "ct floor");
	if (!err)
		err = check_hit(bpf_program__fd(pass->progs.tc_ct4_floor), pkt, len, "ct4 floor");
	if (!err)
		err = measure(bpf_program__fd(pass->progs.tc_ct_floor), pkt, len, &ct_f);
	if (!err)
		err = measure(bpf_program__fd(pass->progs.tc_ct4_floor), pkt, len, &ct4_f);
	/* established: the first run creates the flow, the measured ones follow it */
	if (!err)
		err = fill_services(est, 10);
	if (!err) {
		LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = syn, .data_size_in = (__u32)len,
			    .data_out = out, .data_size_out = sizeof(out), .repeat = 1);
		err = bpf_prog_test_run_opts(bpf_program__fd(est->progs.tc_pod), &o);
		if (!err)
			err = mirror_conntrack(est, out);
	}
	if (!err)
		err = check_translated(bpf_program__fd(est->progs.tc_pod), pkt, len, "established");
	if (!err)
		err = measure(bpf_program__fd(est->progs.tc_pod), pkt, len, &est_f);
	/* the same while a monitor runs: its hooks arm per packet (no event for an
	 * established packet, so the figure is the armed path's own cost) */
	if (!err)
		err = monitor_on(est);
	if (!err)
		err = measure(bpf_program__fd(est->progs.tc_pod), pkt, len, &mon_f);
	if (!err)
		err = xdp_established(&spec, &xdp_f);
	for (int i = 0; i < 3 && !err; i++) {
		struct tc_pod *nf = load_pod(true);

		if (!nf) {
			err = -errno;
			break;
		}
		err = fill_services(nf, sizes[i]);
		if (!err)
			err = mirror_frontends(nf);
		if (!err)
			err = check_translated(bpf_program__fd(nf->progs.tc_pod), syn, len,
					       "new flow");
		if (!err)
			err = measure(bpf_program__fd(nf->progs.tc_pod), syn, len, &new_f[i]);
		tc_pod__destroy(nf);
	}
	pass__destroy(pass);
	tc_pod__destroy(est);
	if (err) {
		fprintf(stderr, "bench_prog: %s\n", strerror(-err));
		return 1;
	}

	printf("%-40s %10s %18s %10s\n", "path (BPF_PROG_TEST_RUN, 1e6 runs x 5)", "ns/pkt",
	       "min..max", "ratio");
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "empty program (test_run's own cost)",
	       floor_f.median, floor_f.min, floor_f.max, floor_f.median / pass_f.median);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "parse-and-pass baseline", pass_f.median,
	       pass_f.min, pass_f.max, 1.0);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "floor: parse + 1 CT hit (40 B key)",
	       ct_f.median, ct_f.min, ct_f.max, ct_f.median / pass_f.median);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "floor: parse + 1 CT hit (16 B key)",
	       ct4_f.median, ct4_f.min, ct4_f.max, ct4_f.median / pass_f.median);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "tc_pod established flow", est_f.median,
	       est_f.min, est_f.max, est_f.median / pass_f.median);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "tc_pod established, monitor running",
	       mon_f.median, mon_f.min, mon_f.max, mon_f.median / pass_f.median);
	printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", "xdp_uplink established north-south",
	       xdp_f.median, xdp_f.min, xdp_f.max, xdp_f.median / pass_f.median);
	for (int i = 0; i < 3; i++) {
		char label[64];

		snprintf(label, sizeof(label), "tc_pod new flow, %u Services", sizes[i]);
		printf("%-40s %10.1f %8.1f..%-8.1f %10.3f\n", label, new_f[i].median, new_f[i].min,
		       new_f[i].max, new_f[i].median / pass_f.median);
	}
	printf("new flow 10k/10 Services: %.3f   100k/10 Services: %.3f\n",
	       new_f[1].median / new_f[0].median, new_f[2].median / new_f[0].median);
	printf("established vs its floor (parse + 1 CT hit, 40 B key): %.3f\n",
	       est_f.median / ct_f.median);
	if (json_path) {
		FILE *f = fopen(json_path, "w");

		if (!f) {
			perror(json_path);
			return 1;
		}
		fprintf(f,
			"{\"empty_ns\": %.2f, \"pass_ns\": %.2f, \"ct_floor_ns\": %.2f, "
			"\"ct4_floor_ns\": %.2f, \"established_ns\": %.2f, "
			"\"established_monitor_ns\": %.2f, "
			"\"xdp_established_ns\": %.2f, "
			"\"new_flow_ns\": {\"10\": "
			"%.2f, "
			"\"10000\": %.2f, \"100000\": %.2f},\n \"ratios\": "
			"{\"established_to_pass\": "
			"%.4f, \"new_flow_to_pass\": %.4f, \"new_flow_10k_to_10\": %.4f, "
			"\"new_flow_100k_to_10\": %.4f, \"established_to_ct_floor\": %.4f}}\n",
			floor_f.median, pass_f.median, ct_f.median, ct4_f.median, est_f.median,
			mon_f.median, xdp_f.median, new_f[0].median, new_f[1].median,
			new_f[2].median, est_f.median / pass_f.median,
			new_f[0].median / pass_f.median, new_f[1].median / new_f[0].median,
			new_f[2].median / new_f[0].median, est_f.median / ct_f.median);
		fclose(f);
	}
	return 0;
}
