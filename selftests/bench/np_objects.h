/* The NetworkPolicy benchmarks' cluster: NP_NS namespaces (team-<i%7>), NP_PODS pods
 * ("pod-<i>" in ns-<i%NP_NS>, app-<(i/NP_NS)%10>, every third a client, a named port),
 * NP_POLICIES policies (one app's pods, two peers, a named port and a port range).
 * Shared by bench_policy (the compilers) and bench_cp seed-netpol (the agent on the API). */
#ifndef BPFLET_BENCH_NP_OBJECTS_H
#define BPFLET_BENCH_NP_OBJECTS_H

#include <jansson.h>

#define NP_NS	    100
#define NP_PODS	    10000
#define NP_POLICIES 1000

json_t *np_namespace(unsigned i);
/* pod i with label app (app-<(i/NP_NS)%10> is its own) */
json_t *np_pod(unsigned i, const char *app);
json_t *np_policy(unsigned i);

#endif
