/* bpfletctl: inspect a bpflet instance through its pinned maps. */
#include "tools/bpfletctl/ctl.h"
#include "agent/common/paths.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void usage(FILE *out)
{
	fprintf(out,
		"usage: bpfletctl --instance NAME [-o table|json] COMMAND\n"
		"\n"
		"Reads the pinned maps of a bpflet instance (/sys/fs/bpf/bpflet/NAME).\n"
		"\n"
		"commands:\n"
		"  service list       frontends with their backends\n"
		"  service get NS/NAME[:PORT]\n"
		"                     one Service: its frontends (settings, counters) and its\n"
		"                     backends (state, locality, counters)\n"
		"  conntrack list [--addr IP] [--port N] [--service NS/NAME] [--proto P]\n"
		"                     connection tracking entries (both directions)\n"
		"  conntrack flush [--service SVC]\n"
		"                     delete all flows, or those of one Service (their next\n"
		"                     packet picks a backend afresh; TCP ones then need a SYN)\n"
		"  nat list           translated flows: client, frontend, backend, Service\n"
		"  backend list       backends with their state and the services using them\n"
		"  counters [--by reason|service|backend|all]\n"
		"                     packet and byte counters per outcome reason, per Service\n"
		"                     frontend and per backend (-o json alone: per reason)\n"
		"  monitor [--type flow,drop,policy] [--service NS/NAME] [--addr IP]\n"
		"          [--port N] [--pcap FILE [--snaplen N]] [--duration S] [--count N]\n"
		"                     live events, one line (or JSON object) each; --pcap\n"
		"                     writes the packets the programs see (monitor --help)\n"
		"  maps               every pinned map with its size and fill level\n"
		"  policy list        NetworkPolicy rules with packet/byte counters, and the\n"
		"                     isolated endpoints\n"
		"  policy get NS/POD|IP\n"
		"                     what an endpoint allows, per direction, peer and port\n"
		"  policy trace --from NS/POD|IP --to NS/POD|IP[:PORT[/tcp|udp|sctp]]\n"
		"                     allow or deny, and the rule that decided (or default\n"
		"                     deny / not isolated) on each side\n"
		"  maglev show SVC [--entries]\n"
		"                     a Service's Maglev table: each backend's share\n"
		"                     (SVC is namespace/name or namespace/name:port)\n"
		"\n"
		"options:\n"
		"  -i, --instance NAME   the agent instance (required)\n"
		"  -o, --output FORMAT   table (default) or json\n"
		"  -h, --help            this text\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"instance", required_argument, NULL, 'i'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	struct ctl c = {0};
	int opt;

	while ((opt = getopt_long(argc, argv, "+i:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'i':
			c.instance = optarg;
			break;
		case 'o':
			if (!strcmp(optarg, "json"))
				c.json = true;
			else if (strcmp(optarg, "table")) {
				fprintf(stderr, "bpfletctl: -o takes table or json\n");
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!bl_instance_valid(c.instance)) {
		fprintf(stderr, "bpfletctl: --instance NAME is required\n");
		return 2;
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	argc -= optind;
	argv += optind;
	if (!strcmp(argv[0], "service") || !strcmp(argv[0], "services"))
		return cmd_service(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "conntrack") || !strcmp(argv[0], "ct"))
		return cmd_conntrack(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "backend") || !strcmp(argv[0], "backends"))
		return cmd_backend(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "maps"))
		return cmd_maps(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "nat"))
		return cmd_nat(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "maglev"))
		return cmd_maglev(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "policy"))
		return cmd_policy(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "counters"))
		return cmd_counters(&c, argc - 1, argv + 1);
	if (!strcmp(argv[0], "monitor"))
		return cmd_monitor(&c, argc, argv);
	fprintf(stderr, "bpfletctl: unknown command '%s' (see --help)\n", argv[0]);
	return 2;
}
