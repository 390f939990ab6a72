/* The NetworkPolicy benchmarks' cluster (see np_objects.h). */
#include "selftests/bench/np_objects.h"

#include <stdio.h>

json_t *np_namespace(unsigned i)
{
	char ns[16], team[16];

	snprintf(ns, sizeof(ns), "ns-%u", i);
	snprintf(team, sizeof(team), "team-%u", i % 7);
	return json_pack("{s:s, s:s, s:{s:s, s:{s:s}}}", "apiVersion", "v1", "kind", "Namespace",
			 "metadata", "name", ns, "labels", "team", team);
}

json_t *np_pod(unsigned i, const char *app)
{
	char name[32], ns[16], ip[24];

	snprintf(name, sizeof(name), "pod-%u", i);
	snprintf(ns, sizeof(ns), "ns-%u", i % NP_NS);
	snprintf(ip, sizeof(ip), "10.%u.%u.%u", 100 + i / 65536, (i / 256) % 256, i % 256);
	return json_pack("{s:s, s:s, s:{s:s, s:s, s:{s:s, s:s}}, s:{s:[{s:s, s:[{s:s, s:i}]}]}, "
			 "s:{s:s}}",
			 "apiVersion", "v1", "kind", "Pod", "metadata", "name", name, "namespace",
			 ns, "labels", "app", app, "role", i % 3 ? "server" : "client", "spec",
			 "containers", "name", "c", "ports", "name", "http", "containerPort", 8080,
			 "status", "podIP", ip);
}

json_t *np_policy(unsigned i)
{
	char name[32], ns[16], app[16], team[16];

	snprintf(name, sizeof(name), "pol-%u", i);
	snprintf(ns, sizeof(ns), "ns-%u", i % NP_NS);
	snprintf(app, sizeof(app), "app-%u", (i / NP_NS) % 10);
	snprintf(team, sizeof(team), "team-%u", i % 7);
	return json_pack(
		"{s:s, s:s, s:{s:s, s:s}, s:{s:{s:{s:s}}, s:[{s:[{s:{s:{s:s, s:s}}}, {s:{s:{s:s}}, "
		"s:{s:{s:s, s:s}}}], s:[{s:s}, {s:i, s:i}]}]}}",
		"apiVersion", "networking.k8s.io/v1", "kind", "NetworkPolicy", "metadata", "name",
		name, "namespace", ns, "spec", "podSelector", "matchLabels", "app", app, "ingress",
		"from", "podSelector", "matchLabels", "role", "client", "app", "app-0",
		"namespaceSelector", "matchLabels", "team", team, "podSelector", "matchLabels",
		"role", "client", "app", "app-0", "ports", "port", "http", "port", 9000, "endPort",
		9007);
}
