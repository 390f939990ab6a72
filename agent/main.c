/*
 * bpflet: the node agent. Loads and pins the BPF dataplane, attaches it to the pod
 * veths the CNI plugin registers, and keeps the Service maps equal to the manifests.
 */
#include "agent/agent.h"
#include "agent/dataplane/uplink.h"
#include "agent/hc_server.h"
#include "agent/kube/kube_source.h"
#include "agent/kube/node_duties.h"
#include "agent/common/log.h"
#include "agent/common/netaddr.h"
#include "agent/common/paths.h"
#include "agent/http_server.h"
#include "agent/node_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bpflet --instance NAME (--manifests DIR | --kubeconfig FILE) [options]\n"
		"       bpflet --instance NAME --cleanup [--netns PATH]\n"
		"\n"
		"The bpflet node agent: an eBPF replacement for kube-proxy.\n"
		"\n"
		"  --instance NAME       instance name; pins live in /sys/fs/bpf/bpflet/NAME,\n"
		"                        the CNI socket in /run/bpflet/NAME/agent.sock\n"
		"  --netns PATH          work inside this network namespace (e.g.\n"
		"                        /var/run/netns/node1); pins stay in the host's bpffs\n"
		"  --manifests DIR       Service and EndpointSlice manifests (YAML/JSON), re-read\n"
		"                        when files change (alone, or beside the API)\n"
		"  --kubeconfig FILE     read the cluster from the Kubernetes API; without it\n"
		"                        the in-cluster service account is used when\n"
		"                        KUBERNETES_SERVICE_HOST is set\n"
		"  --context NAME        the kubeconfig context (default: current-context)\n"
		"  --node-ip IP          this node's address\n"
		"  --node-name NAME      this node's name (default: the instance name)\n"
		"  --pod-cidr CIDR       this node's pod CIDR (e.g. 10.244.0.0/24)\n"
		"  --uplink IFNAME       serve NodePorts, LoadBalancer IPs and externalIPs from\n"
		"                        outside with XDP on this interface (needs --node-ip,\n"
		"                        the source of flows sent on to other nodes)\n"
		"  --xdp-mode MODE       native (default) or skb (generic XDP, any driver)\n"
		"  --lb-mode MODE        snat (default): a backend on another node sees this\n"
		"                        node as the client; dsr: the packet goes to that node\n"
		"                        in IPIP and the backend answers the client directly,\n"
		"                        seeing its address (every node must use the same)\n"
		"  --nodeport-range A-B  NodePorts served (default 30000-32767, the API\n"
		"                        server's --service-node-port-range)\n"
		"  --healthz-bind A:P    /healthz listener (default 0.0.0.0:10256; '' disables)\n"
		"  --metrics-bind A:P    /metrics listener (default 0.0.0.0:10249; '' disables)\n"
		"  --hairpin-ip IP       source used when a pod reaches itself through a Service\n"
		"                        (default 169.254.42.1)\n"
		"  --resync SECONDS      full re-read period (default 30)\n"
		"  --lb-algorithm ALG    random (default) or maglev: consistent hashing, the\n"
		"                        same backend for a flow on every node; a Service's\n"
		"                        annotation service.bpflet.io/lb-algorithm overrides it\n"
		"  --maglev-tables N     Maglev table space: N tables of 16381 entries (64 KiB\n"
		"                        each; a Service past 160 backends takes 4); default 64.\n"
		"                        When full, further Services fall back to random\n"
		"  --ct-gc SECONDS       conntrack garbage collection period (default 30)\n"
		"  --ct-timeout-tcp-syn S, --ct-timeout-tcp S, --ct-timeout-tcp-closing S,\n"
		"  --ct-timeout-udp S    idle timeouts of TCP flows in handshake (60),\n"
		"                        established (21600), after FIN/RST (10) and of UDP\n"
		"                        and other flows (60)\n"
		"  --policy-audit        NetworkPolicy denies are counted and reported as\n"
		"                        events but the packets pass (trial of new policies)\n"
		"  --policy-allow-events log new connections a policy rule allowed, too\n"
		"                        (denies are always logged, at most 50 lines/s)\n"
		"  --cleanup             detach and unpin everything the instance created, exit\n"
		"  -v, --verbose         debug logging\n"
		"  -h, --help            this text\n"
		"\n"
		"SIGTERM/SIGINT stop the agent and leave maps and programs in place, so a\n"
		"restarted agent re-adopts them and no established connection is dropped.\n");
}

/* A whole positive number of seconds, else a message naming the flag. */
static int positive_arg(const char *flag, const char *arg, int *out)
{
	char *end;
	long v = strtol(arg, &end, 10);

	if (*arg == '\0' || *end || v < 1 || v > 86400 * 30) {
		fprintf(stderr, "bpflet: %s takes a positive number of seconds, not '%s'\n", flag,
			arg);
		return -EINVAL;
	}
	*out = (int)v;
	return 0;
}

static int parse_opts(int argc, char **argv, struct bl_agent_opts *o)
{
	static const struct option longopts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"netns", required_argument, NULL, 'n'},
		{"manifests", required_argument, NULL, 'm'},
		{"kubeconfig", required_argument, NULL, 1012},
		{"context", required_argument, NULL, 1013},
		{"node-ip", required_argument, NULL, 'a'},
		{"node-name", required_argument, NULL, 'N'},
		{"pod-cidr", required_argument, NULL, 'p'},
		{"healthz-bind", required_argument, NULL, 'H'},
		{"metrics-bind", required_argument, NULL, 'M'},
		{"hairpin-ip", required_argument, NULL, 'P'},
		{"resync", required_argument, NULL, 'r'},
		{"lb-algorithm", required_argument, NULL, 'L'},
		{"ct-gc", required_argument, NULL, 'G'},
		{"maglev-tables", required_argument, NULL, 1005},
		{"uplink", required_argument, NULL, 1006},
		{"xdp-mode", required_argument, NULL, 1007},
		{"nodeport-range", required_argument, NULL, 1008},
		{"lb-mode", required_argument, NULL, 1009},
		{"ct-timeout-tcp-syn", required_argument, NULL, 1001},
		{"ct-timeout-tcp", required_argument, NULL, 1002},
		{"ct-timeout-tcp-closing", required_argument, NULL, 1003},
		{"ct-timeout-udp", required_argument, NULL, 1004},
		{"policy-audit", no_argument, NULL, 1010},
		{"policy-allow-events", no_argument, NULL, 1011},
		{"cleanup", no_argument, NULL, 'c'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	int c;

	*o = (struct bl_agent_opts){
		.healthz_bind = "0.0.0.0:10256",
		.metrics_bind = "0.0.0.0:10249",
		.hairpin_ip = "169.254.42.1",
		.resync_seconds = 30,
		.ct_gc_seconds = 30,
		.maglev_tables = BPFLET_MAGLEV_BLOCKS,
		.nodeport_min = 30000,
		.nodeport_max = 32767,
		.ct_timeouts = BL_CT_TIMEOUTS_DEFAULT,
	};
	while ((c = getopt_long(argc, argv, "vh", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->instance = optarg;
			break;
		case 'n':
			o->netns = optarg;
			break;
		case 'm':
			o->manifests = optarg;
			break;
		case 'a':
			o->node_ip = optarg;
			break;
		case 'N':
			o->node_name = optarg;
			break;
		case 'p':
			o->pod_cidr = optarg;
			break;
		case 'H':
			o->healthz_bind = optarg;
			break;
		case 'M':
			o->metrics_bind = optarg;
			break;
		case 'P':
			o->hairpin_ip = optarg;
			break;
		case 'r':
			o->resync_seconds = atoi(optarg);
			break;
		case 'L':
			if (strcmp(optarg, "random") && strcmp(optarg, "maglev")) {
				fprintf(stderr,
					"bpflet: --lb-algorithm must be random or maglev\n");
				return -EINVAL;
			}
			o->maglev = !strcmp(optarg, "maglev");
			break;
		case 'G':
			if (positive_arg("--ct-gc", optarg, &o->ct_gc_seconds))
				return -EINVAL;
			break;
		case 1005:
			if (positive_arg("--maglev-tables", optarg, &o->maglev_tables) ||
			    o->maglev_tables > 4096) {
				fprintf(stderr, "bpflet: --maglev-tables takes 1..4096\n");
				return -EINVAL;
			}
			break;
		case 1006:
			o->uplink = optarg;
			break;
		case 1007:
			if (strcmp(optarg, "native") && strcmp(optarg, "skb")) {
				fprintf(stderr, "bpflet: --xdp-mode must be native or skb\n");
				return -EINVAL;
			}
			o->xdp_skb = !strcmp(optarg, "skb");
			break;
		case 1009:
			if (strcmp(optarg, "snat") && strcmp(optarg, "dsr")) {
				fprintf(stderr, "bpflet: --lb-mode must be snat or dsr\n");
				return -EINVAL;
			}
			o->lb_dsr = !strcmp(optarg, "dsr");
			break;
		case 1008: {
			unsigned lo, hi;
			char tail;

			if (sscanf(optarg, "%u-%u%c", &lo, &hi, &tail) != 2 || !lo || lo > hi ||
			    hi > 65535) {
				fprintf(stderr,
					"bpflet: --nodeport-range takes LOW-HIGH within "
					"1-65535, not '%s'\n",
					optarg);
				return -EINVAL;
			}
			o->nodeport_min = (uint16_t)lo;
			o->nodeport_max = (uint16_t)hi;
			break;
		}
		case 1001:
		case 1002:
		case 1003:
		case 1004: {
			uint32_t *t[] = {&o->ct_timeouts.tcp_syn, &o->ct_timeouts.tcp_established,
					 &o->ct_timeouts.tcp_closing, &o->ct_timeouts.other};
			int v;

			if (positive_arg("--ct-timeout-*", optarg, &v))
				return -EINVAL;
			*t[c - 1001] = (uint32_t)v;
			break;
		}
		case 1010:
			o->policy_audit = true;
			break;
		case 1011:
			o->policy_allow_events = true;
			break;
		case 1012:
			o->kubeconfig = optarg;
			break;
		case 1013:
			o->kube_context = optarg;
			break;
		case 'c':
			o->cleanup = true;
			break;
		case 'v':
			o->verbose = true;
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "bpflet: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (!bl_instance_valid(o->instance)) {
		fprintf(stderr,
			"bpflet: --instance NAME is required ([A-Za-z0-9_-], 1-32 chars)\n");
		return -EINVAL;
	}
	o->use_api = o->kubeconfig || getenv("KUBERNETES_SERVICE_HOST");
	if (!o->cleanup && !o->manifests && !o->use_api) {
		fprintf(stderr, "bpflet: needs --manifests DIR or --kubeconfig FILE (or to run "
				"in a cluster with KUBERNETES_SERVICE_HOST set); see --help\n");
		return -EINVAL;
	}
	if (o->kube_context && !o->kubeconfig) {
		fprintf(stderr, "bpflet: --context needs --kubeconfig\n");
		return -EINVAL;
	}
	if (o->resync_seconds < 1) {
		fprintf(stderr, "bpflet: --resync must be a positive number of seconds\n");
		return -EINVAL;
	}
	if (!o->node_name)
		o->node_name = o->instance;
	if (o->uplink && !o->node_ip) {
		fprintf(stderr, "bpflet: --uplink needs --node-ip (the SNAT source address)\n");
		return -EINVAL;
	}
	return 0;
}

static int enter_netns(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), err = 0;

	if (fd < 0) {
		log_err("cannot open network namespace %s: %s", path, strerror(errno));
		return -errno;
	}
	if (setns(fd, CLONE_NEWNET)) {
		err = -errno;
		log_err("cannot enter network namespace %s: %s", path, strerror(errno));
	}
	close(fd);
	return err;
}

/* /proc/sys/net shows the namespace of the process that opens it. */
static void write_sysctl(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		log_warn("cannot set %s=%s: %s", path, val, strerror(errno));
	if (fd >= 0)
		close(fd);
}

static void node_sysctls(void)
{
	write_sysctl("/proc/sys/net/ipv4/ip_forward", "1");
	/* the hairpin source address has no route back through the pod's veth */
	write_sysctl("/proc/sys/net/ipv4/conf/all/rp_filter", "0");
	write_sysctl("/proc/sys/net/ipv4/conf/default/rp_filter", "0");
	/* replies of pod → own NodePort flows come back from the uplink reverse-NATed to
	 * this node's address: without accept_local the input path drops them as martian */
	write_sysctl("/proc/sys/net/ipv4/conf/all/accept_local", "1");
	write_sysctl("/proc/sys/net/ipv4/conf/default/accept_local", "1");
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct bl_agent *a = arg;

	(void)what;
	log_info("signal %d: stopping, maps and programs stay in place", (int)sig);
	event_base_loopbreak(a->base);
}

static void run_sync(struct bl_agent *a)
{
	if (!a->dp_ready) {
		/* the Services are compiled while the BPF load runs on its thread; the
		 * first sync writes them once the maps are there */
		if (a->source && bl_service_precompile(a))
			log_warn("compiling Services failed; will retry");
		return;
	}
	if (bl_service_resync(a))
		log_warn("sync incomplete; will retry");
}

static void on_resync(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	run_sync(arg);
}

static void on_manifest_event(evutil_socket_t fd, short what, void *arg)
{
	struct bl_agent *a = arg;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	struct timeval debounce = {0, 50 * 1000};

	(void)what;
	while (read(fd, buf, sizeof(buf)) > 0)
		;
	a->st.pending = true;
	a->st.last_change = bl_now();
	/* editors write files in several steps; apply once they settle */
	event_add(a->debounce_ev, &debounce);
}

/* A pod came or went: its address may change what NetworkPolicies select. */
static void on_endpoints_changed(void *arg)
{
	struct bl_agent *a = arg;
	struct timeval soon = {0, 10 * 1000};

	a->pol_dirty = true;
	a->st.pending = true;
	event_add(a->debounce_ev, &soon);
}

/* An informer's cache changed: apply it at once, right after the loop has handled
 * what is ready (a burst of events in one read becomes one sync). */
static void on_kube_changed(struct bl_agent *a)
{
	struct timeval now = {0, 0};

	a->st.pending = true;
	a->st.last_change = bl_now();
	event_add(a->debounce_ev, &now);
}

static int watch_manifests(struct bl_agent *a)
{
	a->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (a->inotify_fd < 0)
		return -errno;
	if (inotify_add_watch(a->inotify_fd, a->o.manifests,
			      IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CREATE |
				      IN_ATTRIB) < 0) {
		log_err("cannot watch %s: %s", a->o.manifests, strerror(errno));
		return -errno;
	}
	a->watch_ev = event_new(a->base, a->inotify_fd, EV_READ | EV_PERSIST, on_manifest_event, a);
	return event_add(a->watch_ev, NULL);
}

/* The BPF load (a few hundred ms) runs on a thread of its own while the loop already
 * serves the informers' first lists: both are on the way to the first sync. */
struct dp_loader {
	struct bl_agent *a;
	uint32_t hairpin;
	int err;
	int fd[2];
	bool done;
};

static void *dp_load_thread(void *arg)
{
	struct dp_loader *l = arg;

	l->err = bl_dp_open(&l->a->dp, l->a->o.instance, l->hairpin);
	if (write(l->fd[1], "", 1) < 0)
		log_warn("dataplane loader: wake-up: %s", strerror(errno));
	return NULL;
}

static void on_dp_loaded(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	((struct dp_loader *)arg)->done = true;
}

static int load_dataplane(struct bl_agent *a, uint32_t hairpin)
{
	struct dp_loader l = {.a = a, .hairpin = hairpin};
	struct event *ev = NULL;
	pthread_t t;
	int err;

	if (pipe2(l.fd, O_CLOEXEC | O_NONBLOCK))
		return -errno;
	ev = event_new(a->base, l.fd[0], EV_READ, on_dp_loaded, &l);
	err = ev ? event_add(ev, NULL) : -ENOMEM;
	if (!err)
		err = -pthread_create(&t, NULL, dp_load_thread, &l);
	if (err) {
		/* no thread: load here, the lists wait */
		l.err = bl_dp_open(&a->dp, a->o.instance, hairpin);
	} else {
		while (!l.done)
			event_base_loop(a->base, EVLOOP_ONCE);
		pthread_join(t, NULL);
	}
	if (ev)
		event_free(ev);
	close(l.fd[0]);
	close(l.fd[1]);
	return l.err;
}

static int cleanup_instance(struct bl_agent *a)
{
	struct bl_dataplane dp;
	char run[128];
	int err;

	/* endpoints first: clsact filters are found through them */
	if (bl_dp_open(&dp, a->o.instance, 0) == 0) {
		if (bl_endpoints_init(&a->eps, a->o.instance, &dp) == 0) {
			bl_endpoints_detach_all(&a->eps);
			bl_endpoints_free(&a->eps);
		}
		bl_dp_close(&dp);
	}
	if (bl_uplink_detach_all() > 0)
		log_info("detached %s from the uplink", BL_UPLINK_PROG_NAME);
	err = bl_dp_cleanup(a->o.instance);
	bl_node_routes_apply(NULL, 0);
	bl_run_dir(run, sizeof(run), a->o.instance);
	char cmd[200];
	snprintf(cmd, sizeof(cmd), "%s/endpoints", run);
	rmdir(cmd);
	snprintf(cmd, sizeof(cmd), "%s/agent.sock", run);
	unlink(cmd);
	snprintf(cmd, sizeof(cmd), "%s/%s", run, BL_POD_CIDR_FILE);
	unlink(cmd);
	rmdir(run);
	/* the shared parents go too once no other instance uses them */
	rmdir(BPFLET_PIN_ROOT);
	rmdir(BPFLET_RUN_ROOT);
	if (err && err != -ENOENT) {
		log_err("cleanup of instance %s incomplete: %s", a->o.instance, strerror(-err));
		return 1;
	}
	log_info("instance %s cleaned up", a->o.instance);
	return 0;
}

int main(int argc, char **argv)
{
	static struct bl_agent a;
	struct bl_http_handlers h = {
		.arg = &a, .healthz = bl_agent_healthz, .metrics = bl_agent_metrics};
	struct event *sigterm, *sigint;
	struct bpflet_addr hairpin;
	uint8_t fam;
	int err;

	if (parse_opts(argc, argv, &a.o))
		return 2;
	bl_log_set_prefix(a.o.instance);
	if (a.o.verbose)
		bl_log_set_level(BL_LOG_DEBUG);
	if (bl_addr_parse(a.o.hairpin_ip, &hairpin, &fam)) {
		log_err("--hairpin-ip %s is not an IPv4 address", a.o.hairpin_ip);
		return 2;
	}
	if (a.o.node_ip &&
	    (bl_addr_parse(a.o.node_ip, &a.o.node_addr, &fam) || fam != BPFLET_AF_INET)) {
		log_err("--node-ip %s is not an IPv4 address", a.o.node_ip);
		return 2;
	}
	if (bl_ensure_bpffs())
		return 1;
	if (a.o.netns && enter_netns(a.o.netns))
		return 1;
	if (a.o.cleanup)
		return cleanup_instance(&a);
	signal(SIGPIPE, SIG_IGN);
	node_sysctls();

	a.base = event_base_new();
	a.sync = bl_svc_sync_new();
	if (!a.base || !a.sync ||
	    bl_svc_sync_set_maglev_blocks(a.sync, (uint32_t)a.o.maglev_tables))
		return 1;
	bl_dp_set_maglev_blocks((uint32_t)a.o.maglev_tables);
	bl_dp_set_policy_audit(a.o.policy_audit);
	bl_dp_set_policy_allow_events(a.o.policy_allow_events);
	if (a.o.lb_dsr && a.o.uplink) {
		/* room for the ingress node's IPIP header in a client's segments */
		int mtu = bl_uplink_mtu(a.o.uplink);

		if (mtu > 576)
			bl_dp_set_dsr_mss((uint16_t)(mtu - BL_DSR_HEADROOM));
	}
	a.debounce_ev = evtimer_new(a.base, on_resync, &a);
	if (!a.debounce_ev || bl_service_source_init(&a))
		return 1;
	if (a.o.use_api) {
		/* lists start as soon as the loop runs, i.e. during the BPF load; no sync
		 * removes anything before every informer has listed once */
		a.kube = bl_kube_source_new(&a, a.o.kubeconfig, a.o.kube_context, on_kube_changed);
		if (!a.kube)
			return 1;
	}
	err = load_dataplane(&a, hairpin.addr[0]);
	if (err)
		return 1;
	if (a.o.uplink &&
	    bl_uplink_attach(&a.dp, a.o.uplink, a.o.node_addr.addr[0], a.o.xdp_skb, a.o.lb_dsr))
		return 1;
	err = bl_dp_adopt(&a.dp, a.sync);
	if (err) {
		log_err("re-adopting pinned maps failed: %s", strerror(-err));
		return 1;
	}
	err = bl_endpoints_init(&a.eps, a.o.instance, &a.dp);
	if (err) {
		log_err("endpoint registry: %s", strerror(-err));
		return 1;
	}
	bl_dp_migrate_done(&a.dp); /* every program is switched to this agent's now */
	a.dp_ready = true;
	if (a.o.use_api) {
		a.node = bl_node_duties_start(&a, bl_kube_source_client(a.kube));
		if (!a.node)
			return 1;
	}
	a.hc = bl_hc_server_new(a.base, bl_agent_healthy, &a);
	if (!a.hc)
		return 1;
	/* the first sync writes only what differs from the re-adopted maps */
	run_sync(&a);
	a.cni.on_change = on_endpoints_changed;
	a.cni.ctx = &a;
	if (bl_cni_server_start(&a.cni, a.base, a.o.instance, &a.eps))
		return 1;
	if (a.o.manifests && watch_manifests(&a))
		return 1;
	if (bl_ct_gc_start(&a))
		return 1;
	if (bl_mon_reaper_start(&a))
		return 1;
	if (bl_pol_events_start(&a))
		return 1;
	if (a.o.healthz_bind[0] && !bl_http_serve(a.base, a.o.healthz_bind, true, false, &h))
		return 1;
	if (a.o.metrics_bind[0] && !bl_http_serve(a.base, a.o.metrics_bind, false, true, &h))
		return 1;

	struct timeval period = {a.o.resync_seconds, 0};

	a.resync_ev = event_new(a.base, -1, EV_PERSIST, on_resync, &a);
	event_add(a.resync_ev, &period);
	sigterm = evsignal_new(a.base, SIGTERM, on_signal, &a);
	sigint = evsignal_new(a.base, SIGINT, on_signal, &a);
	event_add(sigterm, NULL);
	event_add(sigint, NULL);
	log_info("agent ready (instance %s, node %s)", a.o.instance, a.o.node_name);

	event_base_dispatch(a.base);

	bl_pol_events_stop(&a);
	bl_cni_server_stop(&a.cni);
	bl_hc_server_free(a.hc);
	bl_node_duties_free(a.node);
	bl_kube_source_free(a.kube);
	bl_service_source_free(&a);
	bl_endpoints_free(&a.eps);
	bl_svc_sync_free(a.sync);
	bl_uplink_close(&a.dp);
	bl_dp_close(&a.dp);
	if (a.ct_gc_ev)
		event_free(a.ct_gc_ev);
	if (a.ct_purge_ev)
		event_free(a.ct_purge_ev);
	if (a.mon_reap_ev)
		event_free(a.mon_reap_ev);
	event_free(sigterm);
	event_free(sigint);
	return 0;
}
