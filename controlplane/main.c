/* bpflet-controlplane: a Kubernetes-API-compatible server on an embedded SQLite store or
 * on etcd. */
#include "controlplane/apiserver/apiserver.h"
#include "controlplane/controllers/controllers.h"
#include "controlplane/controllers/leader.h"
#include "controlplane/store/store.h"
#include "agent/common/log.h"
#include "agent/common/paths.h"

#include <event2/event.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
	"NAME\n"
	"    bpflet-controlplane - a lean Kubernetes API server for bpflet\n"
	"\n"
	"SYNOPSIS\n"
	"    bpflet-controlplane --data-dir DIR [--listen ADDR:PORT] [OPTIONS]\n"
	"\n"
	"DESCRIPTION\n"
	"    Serves the part of the Kubernetes API that node agents and kubectl use\n"
	"    (namespaces, pods, services, endpoints, nodes, configmaps, secrets,\n"
	"    serviceaccounts, events, endpointslices, networkpolicies, leases) over HTTPS\n"
	"    with HTTP/1.1 and HTTP/2. Objects live in DIR/state.db, an SQLite database\n"
	"    in which every acknowledged write is on disk, or in etcd (--etcd-servers).\n"
	"\n"
	"    On first start it creates a CA and certificates in DIR/pki and writes\n"
	"    DIR/admin.kubeconfig, so that at once:\n"
	"        kubectl --kubeconfig DIR/admin.kubeconfig get namespaces\n"
	"\n"
	"    Clients authenticate with a certificate signed by DIR/pki/ca.crt (CN is the\n"
	"    user, O the groups) or a bearer token listed in DIR/tokens.csv, one per line:\n"
	"        token,user,uid,\"group1,group2\"\n"
	"    Group system:masters may do everything; nodes (CN=system:node:NAME,\n"
	"    O=system:nodes) may write only their own Node, Lease and bound pods.\n"
	"\n"
	"OPTIONS\n"
	"    --data-dir DIR\n"
	"        State directory (created 0700 if missing). Required.\n"
	"    --listen ADDR:PORT\n"
	"        Address to serve on. Default 127.0.0.1:6443.\n"
	"    --service-cluster-ip-range CIDR\n"
	"        ClusterIPs come from here. Default 10.96.0.0/12.\n"
	"    --service-node-port-range LO-HI\n"
	"        NodePorts come from here. Default 30000-32767.\n"
	"    --cluster-cidr CIDR\n"
	"        Nodes' pod CIDRs (spec.podCIDR) come from here. Default 10.244.0.0/16.\n"
	"    --node-cidr-mask-size N\n"
	"        Prefix length of each node's pod CIDR. Default 24.\n"
	"    --node-monitor-grace-period SECONDS\n"
	"        A node whose Lease (kube-node-lease) is not renewed for this long is\n"
	"        marked Ready=Unknown and tainted node.kubernetes.io/unreachable.\n"
	"        Default 50.\n"
	"    --watch-bookmark-interval SECONDS\n"
	"        How often watches that allow bookmarks get one. Default 60.\n"
	"    --compaction-interval SECONDS\n"
	"        Every SECONDS, forget history older than the previous interval\n"
	"        (watches from before get 410 Expired). 0 disables. Default 300.\n"
	"    --etcd-servers URL\n"
	"        Keep the objects in etcd (v3 API, through its JSON gateway) instead of\n"
	"        DIR/state.db; URL is http://HOST:PORT, several separated by commas are\n"
	"        tried in turn. resourceVersion is etcd's mod_revision, so several control\n"
	"        planes can share one etcd cluster. DIR still holds the PKI.\n"
	"    --leader-elect[=true|false]\n"
	"        Run the controllers (EndpointSlices, scheduler, node lifecycle, pod CIDRs,\n"
	"        default/kubernetes, namespace deletion) only while holding the Lease\n"
	"        kube-system/bpflet-controlplane (15 s, renewed every 2 s; a holder that\n"
	"        cannot renew for 10 s stops them; released on shutdown). Every server\n"
	"        serves the API. Default true with --etcd-servers, false otherwise.\n"
	"    --id ID\n"
	"        This server's holderIdentity in that Lease. Default HOSTNAME_PID; a\n"
	"        restart with the same ID takes its own Lease back at once.\n"
	"    -v, --verbose\n"
	"        Log every request.\n"
	"    -h, --help\n"
	"        This text.\n"
	"\n"
	"SIGNALS\n"
	"    SIGTERM and SIGINT end watches and connections and close the store cleanly.\n"
	"\n"
	"EXIT STATUS\n"
	"    0 after a clean shutdown, 1 when starting failed, 2 on bad usage.\n";

struct compactor {
	struct bl_store *store;
	int64_t last; /* revision seen at the previous tick */
};

/* kube-apiserver's scheme: each tick compacts up to what the previous tick saw, so
 * history younger than one interval always survives. */
static void on_compact(evutil_socket_t fd, short what, void *arg)
{
	struct compactor *c = arg;
	int rc;

	(void)fd;
	(void)what;
	if (c->last > bl_store_compact_rev(c->store)) {
		rc = bl_store_compact(c->store, c->last);
		if (rc)
			log_warn("compaction to %lld: %s", (long long)c->last,
				 bl_store_strerror(rc));
		else
			log_debug("compacted to revision %lld", (long long)c->last);
	}
	c->last = bl_store_current_rev(c->store);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	(void)what;
	log_info("signal %d: shutting down", (int)sig);
	event_base_loopexit(arg, NULL);
}

static int parse_listen(const char *s, struct bl_apiserver_config *cfg)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long port;

	if (!colon || colon == s || (size_t)(colon - s) >= sizeof(cfg->listen_host))
		return -1;
	port = strtol(colon + 1, &end, 10);
	if (*end || port < 1 || port > 65535)
		return -1;
	snprintf(cfg->listen_host, sizeof(cfg->listen_host), "%.*s", (int)(colon - s), s);
	cfg->listen_port = (int)port;
	return 0;
}

static int parse_range(const char *s, int *lo, int *hi)
{
	return sscanf(s, "%d-%d", lo, hi) == 2 && *lo > 0 && *lo <= *hi && *hi <= 65535 ? 0 : -1;
}

static int bad_usage(const char *what, const char *value)
{
	fprintf(stderr, "bpflet-controlplane: invalid %s \"%s\" (see --help)\n", what, value);
	return 2;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"data-dir", required_argument, NULL, 'd'},
		{"listen", required_argument, NULL, 'l'},
		{"etcd-servers", required_argument, NULL, 'e'},
		{"service-cluster-ip-range", required_argument, NULL, 'c'},
		{"service-node-port-range", required_argument, NULL, 'n'},
		{"watch-bookmark-interval", required_argument, NULL, 'b'},
		{"compaction-interval", required_argument, NULL, 'C'},
		{"cluster-cidr", required_argument, NULL, 'P'},
		{"node-cidr-mask-size", required_argument, NULL, 'M'},
		{"node-monitor-grace-period", required_argument, NULL, 'G'},
		{"leader-elect", optional_argument, NULL, 'L'},
		{"id", required_argument, NULL, 'I'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct bl_apiserver_config cfg = {
		.listen_host = "127.0.0.1",
		.listen_port = 6443,
		.nodeport_lo = 30000,
		.nodeport_hi = 32767,
		.bookmark_interval = 60,
	};
	struct bl_controllers_config ccfg = {.node_cidr_mask = 24, .node_grace = 50};
	struct bl_controllers *ctl = NULL;
	struct bl_leader *leader = NULL;
	const char *id = NULL;
	int elect = -1; /* -1: as the store says */
	const char *etcd = NULL;
	long compact_every = 300;
	struct compactor comp = {0};
	struct event *sigterm, *sigint, *compact_ev = NULL;
	struct bl_apiserver *srv;
	struct event_base *base;
	struct bl_store *store;
	char dbpath[600];
	int c;

	bl_log_set_prefix("bpflet-controlplane");
	bl_cidr4_parse("10.96.0.0/12", &cfg.service_cidr);
	bl_cidr4_parse("10.244.0.0/16", &ccfg.cluster_cidr);
	while ((c = getopt_long(argc, argv, "vh", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			cfg.data_dir = optarg;
			break;
		case 'l':
			if (parse_listen(optarg, &cfg))
				return bad_usage("--listen address", optarg);
			break;
		case 'e':
			etcd = optarg;
			break;
		case 'c':
			if (bl_cidr4_parse(optarg, &cfg.service_cidr) || cfg.service_cidr.plen > 28)
				return bad_usage("--service-cluster-ip-range", optarg);
			break;
		case 'n':
			if (parse_range(optarg, &cfg.nodeport_lo, &cfg.nodeport_hi))
				return bad_usage("--service-node-port-range", optarg);
			break;
		case 'b':
			cfg.bookmark_interval = atoi(optarg);
			if (cfg.bookmark_interval < 1)
				return bad_usage("--watch-bookmark-interval", optarg);
			break;
		case 'C':
			compact_every = atol(optarg);
			if (compact_every < 0)
				return bad_usage("--compaction-interval", optarg);
			break;
		case 'P':
			if (bl_cidr4_parse(optarg, &ccfg.cluster_cidr) ||
			    ccfg.cluster_cidr.plen > 30)
				return bad_usage("--cluster-cidr", optarg);
			break;
		case 'M':
			ccfg.node_cidr_mask = atoi(optarg);
			if (ccfg.node_cidr_mask < 1 || ccfg.node_cidr_mask > 30)
				return bad_usage("--node-cidr-mask-size", optarg);
			break;
		case 'G':
			ccfg.node_grace = atoi(optarg);
			if (ccfg.node_grace < 1)
				return bad_usage("--node-monitor-grace-period", optarg);
			break;
		case 'L':
			if (!optarg || !strcmp(optarg, "true"))
				elect = 1;
			else if (!strcmp(optarg, "false"))
				elect = 0;
			else
				return bad_usage("--leader-elect", optarg);
			break;
		case 'I':
			if (!optarg[0] || strlen(optarg) > 253)
				return bad_usage("--id", optarg);
			id = optarg;
			break;
		case 'v':
			bl_log_set_level(BL_LOG_DEBUG);
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			return 2;
		}
	}
	if (ccfg.node_cidr_mask < ccfg.cluster_cidr.plen ||
	    ccfg.node_cidr_mask - ccfg.cluster_cidr.plen > 24) {
		fprintf(stderr,
			"bpflet-controlplane: --node-cidr-mask-size %d does not fit "
			"--cluster-cidr /%u (at most 2^24 blocks)\n",
			ccfg.node_cidr_mask, ccfg.cluster_cidr.plen);
		return 2;
	}
	if (!cfg.data_dir || optind != argc) {
		fprintf(stderr, "usage: bpflet-controlplane --data-dir DIR [--listen ADDR:PORT] "
				"(see --help)\n");
		return 2;
	}
	if (bl_mkdir_p(cfg.data_dir, 0700) < 0) {
		log_err("cannot create the data directory %s", cfg.data_dir);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (!base)
		return 1;
	snprintf(dbpath, sizeof(dbpath), "%s/state.db", cfg.data_dir);
	if (etcd ? bl_etcd_store_open(etcd, base, &store) : bl_sqlite_store_open(dbpath, &store)) {
		log_err("cannot open the store %s", etcd ? etcd : dbpath);
		event_base_free(base);
		return 1;
	}
	if (bl_apiserver_start(base, &cfg, store, &srv)) {
		bl_store_close(store);
		if (base)
			event_base_free(base);
		return 1;
	}
	if (elect < 0)
		elect = etcd != NULL;
	if (elect ? bl_leader_start(base, srv, &ccfg, id, &leader)
		  : bl_controllers_start(base, srv, &ccfg, &ctl)) {
		bl_apiserver_stop(srv);
		bl_store_close(store);
		event_base_free(base);
		return 1;
	}
	sigterm = evsignal_new(base, SIGTERM, on_signal, base);
	sigint = evsignal_new(base, SIGINT, on_signal, base);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	if (compact_every > 0) {
		struct timeval tv = {compact_every, 0};

		comp.store = store;
		comp.last = bl_store_current_rev(store);
		compact_ev = event_new(base, -1, EV_PERSIST, on_compact, &comp);
		event_add(compact_ev, &tv);
	}

	event_base_dispatch(base);

	bl_leader_stop(leader);
	bl_controllers_stop(ctl);
	bl_apiserver_stop(srv);
	if (compact_ev)
		event_free(compact_ev);
	event_free(sigterm);
	event_free(sigint);
	bl_store_close(store);
	event_base_free(base);
	log_info("stopped");
	return 0;
}
