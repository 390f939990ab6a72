#!/usr/bin/env bash
# make bench: figures measured side by side in one run, reported as ratios.
#  1. per-packet cost under BPF_PROG_TEST_RUN (bench_prog): established and new-flow
#     paths against a bare parse-and-pass program, new-flow cost at 10/10k/100k Services;
#  2. TCP request/response and connect/request/response rates through a ClusterIP vs
#     straight to the pod IP, same topology, alternating runs, medians of REPS; then
#     the direct path again with both pods isolated by an allow-all NetworkPolicy;
#  3. NetworkPolicy per-packet and compile costs (bench_policy);
#  4. the control plane, the agent's full sync / change latency / memory at 10k
#     Services from it (kube_agent.sh) and at 1k NetworkPolicies over 10k pods
#     (netpol_agent.sh), north-south at XDP (northsouth.sh);
#  5. kube-proxy side by side (kp_bench.sh): direct, bpflet, kube-proxy's iptables and
#     nftables dataplanes at 10, 1k and 10k Services (docs/benchmarks.md).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=bench$$
. "$HERE/../../scripts/netns_lib.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE
REPS=${REPS:-5}
SECS=${SECS:-2}
OUT=${BENCH_OUT:-$BL_ROOT/build/bench-results.json}
mkdir -p "$BL_WORK"

echo "== per-packet cost (BPF_PROG_TEST_RUN)"
"$BL_BIN/bench_prog" --json "$BL_WORK/prog.json" || exit 1

echo
echo "== Maglev: table rebuild and entries written for one backend change at 1k backends"
"$BL_BIN/bench_maglev" --json "$BL_WORK/maglev.json" || exit 1

echo
echo "== TCP through the ClusterIP vs direct to the pod ($REPS x ${SECS}s each, alternating)"
bl_node_up
bl_agent_start || exit 1
S=$(bl_pod_add server) && C=$(bl_pod_add client) || exit 1
bl_bg server "$BL_BIN/tcp_rr" -s 7000
bl_wait_port server 7000
bl_service rr 10.96.0.20 80 TCP 7000 "$S"
bl_wait_backends rr 1 || exit 1

# warm-up: neighbour entries and first conntrack entries, not measured
for target in "$S:7000" 10.96.0.20:80; do
	bl_in client "$BL_BIN/tcp_rr" -c "$target" -t 0.5 -m rr >/dev/null 2>&1
done
: >"$BL_WORK/rr.txt"
for r in $(seq "$REPS"); do
	for mode in rr crr; do
		for path in direct clusterip; do
			target=$S:7000
			[ $path = clusterip ] && target=10.96.0.20:80
			v=$(bl_in client "$BL_BIN/tcp_rr" -c "$target" -t "$SECS" -m $mode |
				awk '/transactions_per_second/ {print $2}')
			echo "$mode $path ${v:-0}" >>"$BL_WORK/rr.txt"
		done
	done
done

# the same direct path with both pods isolated both ways by a NetworkPolicy that
# allows everything: every new connection is judged by the rules, every packet
# follows the policy conntrack in two hooks
cat >"$BL_MANIFESTS/policy.yaml" <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: all, namespace: default}
spec: {podSelector: {}, policyTypes: [Ingress, Egress], ingress: [{}], egress: [{}]}
YAML
for _ in $(seq 100); do
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list 2>/dev/null |
		grep -q "default/all ingress" && break
	sleep 0.05
done
for r in $(seq "$REPS"); do
	for mode in rr crr; do
		v=$(bl_in client "$BL_BIN/tcp_rr" -c "$S:7000" -t "$SECS" -m $mode |
			awk '/transactions_per_second/ {print $2}')
		echo "$mode policy ${v:-0}" >>"$BL_WORK/rr.txt"
	done
done
rm -f "$BL_MANIFESTS/policy.yaml"

echo
echo "== NetworkPolicy: rule lookup, established flows, compile + write at scale"
"$BL_BIN/bench_policy" --json "$BL_WORK/policy.json" || exit 1

python3 - "$BL_WORK/prog.json" "$BL_WORK/rr.txt" "$OUT" "$BL_WORK/policy.json" <<'PY'
import json, statistics, sys
prog = json.load(open(sys.argv[1]))
runs = {}
for line in open(sys.argv[2]):
    mode, path, v = line.split()
    runs.setdefault((mode, path), []).append(float(v))
res = {"per_packet": prog, "tcp": {}}
print(f"{'figure':<44} {'median':>12} {'min..max':>22} {'ratio':>8}")
for mode, label in (("rr", "TCP request/response (trans/s)"), ("crr", "TCP connect+request/response (trans/s)")):
    d, c = runs[(mode, "direct")], runs[(mode, "clusterip")]
    md, mc = statistics.median(d), statistics.median(c)
    res["tcp"][mode] = {"direct": d, "clusterip": c, "ratio_clusterip_to_direct": mc / md if md else 0}
    print(f"{label + ' direct':<44} {md:>12.0f} {min(d):>10.0f}..{max(d):<10.0f} {'1.000':>8}")
    print(f"{label + ' ClusterIP':<44} {mc:>12.0f} {min(c):>10.0f}..{max(c):<10.0f} {mc/md if md else 0:>8.3f}")
    pol = runs.get((mode, "policy"), [])
    if pol:
        mp = statistics.median(pol)
        res["tcp"][mode]["direct_policy"] = pol
        res["tcp"][mode]["ratio_policy_to_direct"] = mp / md if md else 0
        print(f"{label + ' direct, NetworkPolicy':<44} {mp:>12.0f} {min(pol):>10.0f}..{max(pol):<10.0f} {mp/md if md else 0:>8.3f}")
res["policy"] = json.load(open(sys.argv[4]))
json.dump(res, open(sys.argv[3], "w"), indent=2)
print(f"\nresults written to {sys.argv[3]}")
PY

if [ -x "$BL_BIN/bench_cp" ]; then
	echo
	echo "== control plane (bpflet-controlplane on SQLite and on etcd)"
	BL_BIN="$BL_BIN" bash "$HERE/controlplane.sh"
	echo
	echo "== the agent on the API: 10k Services x 10 endpoints from bpflet-controlplane"
	bash "$HERE/kube_agent.sh"
	echo
	echo "== the agent on the API: 1k NetworkPolicies over 10k pods, changes made with kubectl"
	bash "$HERE/netpol_agent.sh"
	echo
	echo "== the scheduler: 1000 pods onto 50 nodes, created pending vs created bound"
	BL_BIN="$BL_BIN" bash "$HERE/scheduler.sh"
fi

echo
echo "== north-south: NodePort to a backend on another node, xdp_uplink vs iptables DNAT+MASQUERADE"
NS_PERF=1 bash "$HERE/northsouth.sh" # the CPU split only where perf is installed
rc=$?

echo
echo "== kube-proxy side by side: direct, bpflet, iptables, nftables at 10/1k/10k Services (~6-9 min)"
bash "$HERE/kp_bench.sh" || rc=1
exit $rc
