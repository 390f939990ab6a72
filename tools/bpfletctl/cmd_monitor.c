/*
 * bpfletctl monitor: live flow, drop and policy events from the programs, and with
 * --pcap the packets they see, written as a pcap file.
 *
 * The programs emit only while bl_mon_v1 says a monitor runs: this command sets the
 * flag and refreshes a heartbeat every second, and clears the flag on exit or a
 * signal. A monitor killed without clearing it stops the events anyway once its
 * heartbeat is older than BPFLET_MON_STALE_NS.
 */
#include "tools/bpfletctl/mon_event.h"
#include "tools/bpfletctl/mon_pcap.h"
#include "agent/common/paths.h"

#include <arpa/inet.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <bpflet/policy_abi.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define PERF_PAGES	   256 /* per CPU: 1 MiB of packets in flight */
#define DEFAULT_SNAPLEN	   1514
#define HEARTBEAT_NS	   1000000000ll
#define SERVICE_REFRESH_NS 2000000000ll

static volatile sig_atomic_t stop_signal;

static void on_signal(int sig)
{
	stop_signal = sig;
}

struct mon {
	const struct ctl *c;
	struct mon_filter f;
	struct mon_names names;
	int ctl_fd, ev_fd, pcap_fd, fe_fd, slot_fd, be_fd;
	struct ring_buffer *rb;
	struct perf_buffer *pb;
	struct mon_pcap *dump;
	const char *pcap_file;
	unsigned long events, packets, lost, max_events;
	__u64 lost_events_at_start;
	bool out_failed;
	bool owner; /* this monitor wrote the flag: it clears it */
	struct bpflet_mon_ctl set;
};

static int64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000000000ll + ts.tv_nsec;
}

static int on_event(void *ctx, void *data, size_t size)
{
	struct mon *m = ctx;
	const struct bpflet_mon_event *e = data;
	json_t *o;

	if (size < sizeof(*e) || !mon_event_wanted(&m->f, e) ||
	    (m->max_events && m->events >= m->max_events))
		return 0;
	o = mon_event_json(&m->names, e);
	if (!o)
		return 0;
	if (m->c->json) {
		char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);

		if (s && puts(s) < 0)
			m->out_failed = true;
		free(s);
	} else {
		mon_event_print(stdout, o);
	}
	json_decref(o);
	m->events++;
	return 0;
}

static void on_sample(void *ctx, int cpu, void *data, __u32 size)
{
	struct mon *m = ctx;
	struct bpflet_pcap_meta meta;

	(void)cpu;
	if (size < sizeof(meta))
		return;
	memcpy(&meta, data, sizeof(meta));
	if (meta.caplen > size - sizeof(meta) || meta.caplen > meta.len)
		return;
	mon_pcap_write(m->dump, (int64_t)meta.ts_ns + m->names.mono_to_real_ns, meta.caplen,
		       meta.len, (const unsigned char *)data + sizeof(meta));
	m->packets++;
}

static void on_lost(void *ctx, int cpu, __u64 n)
{
	(void)cpu;
	((struct mon *)ctx)->lost += n;
}

/* Another monitor owns the flag while its heartbeat is fresh and its process lives. */
static int check_alone(struct mon *m)
{
	struct bpflet_mon_ctl cur;
	__u32 zero = 0;

	if (bpf_map_lookup_elem(m->ctl_fd, &zero, &cur))
		return -errno;
	if (!cur.flags || cur.pid == (__u32)getpid() ||
	    clock_ns(CLOCK_MONOTONIC_COARSE) > (int64_t)(cur.heartbeat_ns + BPFLET_MON_STALE_NS) ||
	    (kill((pid_t)cur.pid, 0) && errno == ESRCH))
		return 0;
	fprintf(stderr,
		"bpfletctl: another monitor (pid %u) is running on instance '%s'; stop it "
		"first (a monitor that died stops counting after %llu s)\n",
		cur.pid, m->c->instance, BPFLET_MON_STALE_NS / 1000000000ull);
	return -EBUSY;
}

static int write_ctl(struct mon *m)
{
	struct bpflet_mon_ctl cur;
	__u32 zero = 0;

	/* the programs count lost events in the same value: carry their count over */
	if (!bpf_map_lookup_elem(m->ctl_fd, &zero, &cur))
		m->set.lost_events = cur.lost_events;
	m->set.heartbeat_ns = (__u64)clock_ns(CLOCK_MONOTONIC_COARSE);
	if (bpf_map_update_elem(m->ctl_fd, &zero, &m->set, BPF_ANY))
		return -errno;
	m->owner = true;
	return 0;
}

static __u64 lost_events(struct mon *m)
{
	struct bpflet_mon_ctl cur;
	__u32 zero = 0;

	return bpf_map_lookup_elem(m->ctl_fd, &zero, &cur) ? 0 : cur.lost_events;
}

static void clear_ctl(struct mon *m)
{
	struct bpflet_mon_ctl off = {0};
	__u32 zero = 0;

	if (m->owner)
		bpf_map_update_elem(m->ctl_fd, &zero, &off, BPF_ANY);
	m->owner = false;
}

static void agent_note(const struct ctl *c)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	bl_sock_path(sa.sun_path, sizeof(sa.sun_path), c->instance);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)))
		fprintf(stderr,
			"bpfletctl: note: the agent of instance '%s' is not running; its programs "
			"stay attached and are monitored, but no Service changes are applied\n",
			c->instance);
	if (s >= 0)
		close(s);
}

static int open_maps(struct mon *m)
{
	const struct ctl *c = m->c;

	m->ctl_fd = ctl_map_open_rw(c, BPFLET_MAP_MON);
	if (m->ctl_fd < 0)
		return -1;
	m->ev_fd = ctl_map_open_rw(c, BPFLET_MAP_MON_EV); /* the reader's page is mapped rw */
	if (m->ev_fd < 0)
		return -1;
	if (m->pcap_file && (m->pcap_fd = ctl_map_open_rw(c, BPFLET_MAP_PCAP)) < 0)
		return -1;
	if ((m->names.svc_fd = ctl_map_open(c, BPFLET_MAP_SVC_NAMES)) < 0)
		return -1;
	/* rule names: only where the NetworkPolicy maps exist */
	{
		char path[256];

		bl_pin_path(path, sizeof(path), c->instance, BPFLET_MAP_POL_NAME);
		if (access(path, F_OK) == 0)
			m->names.pol_fd = ctl_map_open(c, BPFLET_MAP_POL_NAME);
	}
	if (!m->f.service)
		return 0;
	if ((m->fe_fd = ctl_map_open(c, BPFLET_MAP_FRONTENDS)) < 0 ||
	    (m->slot_fd = ctl_map_open(c, BPFLET_MAP_SLOTS)) < 0 ||
	    (m->be_fd = ctl_map_open(c, BPFLET_MAP_BACKENDS)) < 0)
		return -1;
	if (!ctl_service_known(c, m->names.svc_fd, m->f.service))
		return -1;
	return mon_filter_load_service(&m->f, m->fe_fd, m->slot_fd, m->be_fd, m->names.svc_fd) ? -1
											       : 0;
}

static int open_pcap(struct mon *m)
{
	m->dump = mon_pcap_open(m->pcap_file, m->set.snaplen);
	if (!m->dump)
		return -1;
	m->pb = perf_buffer__new(m->pcap_fd, PERF_PAGES, on_sample, on_lost, m, NULL);
	if (!m->pb) {
		fprintf(stderr, "bpfletctl: cannot read %s: %s\n", BPFLET_MAP_PCAP,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int add_epoll(int ep, int fd)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};

	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void drain(struct mon *m)
{
	ring_buffer__consume(m->rb);
	if (m->pb)
		perf_buffer__consume(m->pb);
	if (m->dump)
		mon_pcap_flush(m->dump);
	if (fflush(stdout))
		m->out_failed = true;
}

/* Until a signal, the duration, the event count or a closed stdout. */
static int run(struct mon *m, double duration)
{
	int64_t start = clock_ns(CLOCK_MONOTONIC), beat = start, refresh = start;
	int ep = epoll_create1(EPOLL_CLOEXEC);

	if (ep < 0 || add_epoll(ep, ring_buffer__epoll_fd(m->rb)) ||
	    (m->pb && add_epoll(ep, perf_buffer__epoll_fd(m->pb)))) {
		fprintf(stderr, "bpfletctl: epoll: %s\n", strerror(errno));
		if (ep >= 0)
			close(ep);
		return 1;
	}
	fprintf(stderr, "bpfletctl: monitoring instance '%s'%s%s (Ctrl-C to stop)\n",
		m->c->instance, m->pcap_file ? ", packets to " : "",
		m->pcap_file ? m->pcap_file : "");
	while (!stop_signal && !m->out_failed) {
		struct epoll_event evs[2];
		int64_t now;

		epoll_wait(ep, evs, 2, 200);
		drain(m);
		now = clock_ns(CLOCK_MONOTONIC);
		if (m->max_events && m->events >= m->max_events)
			break;
		if (duration > 0 && now - start >= (int64_t)(duration * 1e9))
			break;
		if (now - beat >= HEARTBEAT_NS) {
			struct bpflet_mon_ctl cur;
			__u32 zero = 0;

			/* someone else took the flag over (our heartbeat had gone stale) */
			if (!bpf_map_lookup_elem(m->ctl_fd, &zero, &cur) && cur.flags &&
			    cur.pid != (__u32)getpid()) {
				fprintf(stderr, "bpfletctl: monitor pid %u took over; stopping\n",
					cur.pid);
				m->owner = false;
				break;
			}
			write_ctl(m);
			beat = now;
		}
		if (m->f.service && now - refresh >= SERVICE_REFRESH_NS) {
			mon_filter_load_service(&m->f, m->fe_fd, m->slot_fd, m->be_fd,
						m->names.svc_fd);
			refresh = now;
		}
	}
	close(ep);
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bpfletctl --instance NAME [-o json] monitor [--type flow,drop,policy]\n"
		"          [--service NAMESPACE/NAME[:PORT]] [--addr IP] [--port N]\n"
		"          [--pcap FILE [--snaplen BYTES]] [--duration SECONDS] [--count N]\n"
		"\n"
		"  --type      which events: flow (new translated connections), drop (dropped\n"
		"              or rejected packets, with the reason), policy (NetworkPolicy\n"
		"              verdicts on new connections); default all\n"
		"  --service   events of one Service: its flows, and drops/verdicts addressed to\n"
		"              its frontends or backends\n"
		"  --addr/--port  events with that address/port as source, destination or\n"
		"              backend; they also select the packets written to --pcap\n"
		"  --pcap      write the packets the XDP and TC programs receive (before any\n"
		"              translation) to FILE (pcap, Ethernet); first --snaplen bytes\n"
		"              (default %d, at most %d)\n"
		"  --duration  stop after SECONDS; --count: stop after N events\n",
		DEFAULT_SNAPLEN, BPFLET_MON_SNAPLEN_MAX);
}

static int parse(struct mon *m, int argc, char **argv, double *duration)
{
	static const struct option opts[] = {
		{"type", required_argument, NULL, 't'},
		{"service", required_argument, NULL, 's'},
		{"addr", required_argument, NULL, 'a'},
		{"port", required_argument, NULL, 'p'},
		{"pcap", required_argument, NULL, 'w'},
		{"snaplen", required_argument, NULL, 'n'},
		{"duration", required_argument, NULL, 'd'},
		{"count", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	char *end;
	int o;

	optind = 1;
	while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (o) {
		case 't':
			if (mon_parse_types(optarg, &m->f.types)) {
				fprintf(stderr, "bpfletctl: --type takes flow, drop and/or policy, "
						"comma-separated\n");
				return -1;
			}
			break;
		case 's':
			m->f.service = optarg;
			break;
		case 'a':
			if (ctl_parse_addr(optarg, &m->f.addr))
				return -1;
			m->set.pcap_addr.addr[0] = m->f.addr;
			m->set.pcap_family = BPFLET_AF_INET;
			break;
		case 'p':
			if (ctl_parse_port(optarg, &m->f.port))
				return -1;
			m->set.pcap_port = htons(m->f.port);
			break;
		case 'w':
			m->pcap_file = optarg;
			break;
		case 'n':
			m->set.snaplen = (__u32)strtoul(optarg, &end, 10);
			if (*end || m->set.snaplen < 64 ||
			    m->set.snaplen > BPFLET_MON_SNAPLEN_MAX) {
				fprintf(stderr, "bpfletctl: --snaplen takes 64..%d bytes\n",
					BPFLET_MON_SNAPLEN_MAX);
				return -1;
			}
			break;
		case 'd':
			*duration = strtod(optarg, &end);
			if (*end || *duration <= 0) {
				fprintf(stderr, "bpfletctl: --duration takes seconds (> 0)\n");
				return -1;
			}
			break;
		case 'c':
			m->max_events = strtoul(optarg, &end, 10);
			if (*end || !m->max_events) {
				fprintf(stderr,
					"bpfletctl: --count takes a number of events (> 0)\n");
				return -1;
			}
			break;
		case 'h':
			usage(stdout);
			return 1;
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return -1;
	}
	return 0;
}

int cmd_monitor(const struct ctl *c, int argc, char **argv)
{
	struct mon m = {.c = c,
			.ctl_fd = -1,
			.ev_fd = -1,
			.pcap_fd = -1,
			.fe_fd = -1,
			.slot_fd = -1,
			.be_fd = -1,
			.names = {.svc_fd = -1, .pol_fd = -1}};
	struct sigaction sa = {.sa_handler = on_signal};
	double duration = 0;
	__u64 lost;
	int rc = 1, p;

	m.set.snaplen = DEFAULT_SNAPLEN;
	p = parse(&m, argc, argv, &duration);
	if (p)
		return p > 0 ? 0 : 2;
	m.set.flags = BPFLET_MON_F_EVENTS | (m.pcap_file ? BPFLET_MON_F_PCAP : 0);
	m.set.pid = (__u32)getpid();
	m.names.mono_to_real_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_MONOTONIC);
	if (open_maps(&m) || check_alone(&m))
		goto out;
	m.rb = ring_buffer__new(m.ev_fd, on_event, &m, NULL);
	if (!m.rb) {
		fprintf(stderr, "bpfletctl: cannot read %s: %s\n", BPFLET_MAP_MON_EV,
			strerror(errno));
		goto out;
	}
	if (m.pcap_file && open_pcap(&m))
		goto out;
	agent_note(c);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN); /* a closed stdout ends the loop through its write error */
	m.lost_events_at_start = lost_events(&m);
	if (write_ctl(&m)) {
		fprintf(stderr, "bpfletctl: cannot set %s: %s\n", BPFLET_MAP_MON, strerror(errno));
		goto out;
	}
	rc = run(&m, duration);
	lost = lost_events(&m) - m.lost_events_at_start;
	clear_ctl(&m);
	drain(&m); /* what was emitted before the flag went off */
	fprintf(stderr, "bpfletctl: %lu events", m.events);
	if (lost)
		fprintf(stderr,
			" (%llu more lost: the ring buffer was full; narrow the filters "
			"or read faster)",
			(unsigned long long)lost);
	if (m.pcap_file)
		fprintf(stderr, ", %lu packets written to %s (%lu lost)", m.packets, m.pcap_file,
			m.lost);
	fputc('\n', stderr);
out:
	clear_ctl(&m);
	ring_buffer__free(m.rb);
	perf_buffer__free(m.pb);
	mon_pcap_close(m.dump);
	mon_filter_free(&m.f);
	ctl_close_all((int[]){m.ctl_fd, m.ev_fd, m.pcap_fd, m.fe_fd, m.slot_fd, m.be_fd,
			      m.names.svc_fd, m.names.pol_fd},
		      8);
	return rc;
}
