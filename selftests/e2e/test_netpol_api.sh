#!/usr/bin/env bash
# NetworkPolicy end to end through the Kubernetes API: bpflet-controlplane in the node's
# namespace, the agent on --kubeconfig only, the nine pods wired by bpflet-cni (their
# identities from the CNI registration matched to the API's Pod objects), and every
# truth-table scenario of netpol/truth.py driven with kubectl apply / label / delete.
# Then a bad NetworkPolicy made through the API: logged by name and left out, and an
# edit into a bad one keeping the policy's last good version.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=npa$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE
NP_HERE=$HERE/netpol
. "$NP_HERE/lib.sh"
k() { ip netns exec "$BL_NODE" kubectl --kubeconfig "$BL_KCFG" "$@"; }

bl_node_up
NODE_IP=192.168.254.1
ip -n "$BL_NODE" addr add "$NODE_IP/32" dev lo
bl_cp_start || { fail "bpflet-controlplane serves in the node namespace"; exit 1; }
BL_AGENT_API_ONLY=1 bl_agent_start --kubeconfig "$BL_KCFG" --node-name "$BL_TAG-n1" \
	--node-ip "$NODE_IP" || { fail "agent starts on the API"; exit 1; }
np_pods || { fail "nine pods wired by bpflet-cni, servers listening"; exit 1; }
pass "agent on the API; nine pods in namespaces x, y, z wired by bpflet-cni"
t0=$(date +%s)
np_cfg "$BL_WORK/netpol.json" \
	"\"kubectl\": [\"ip\", \"netns\", \"exec\", \"$BL_NODE\", \"kubectl\", \"--kubeconfig\", \"$BL_KCFG\"]"
np_truth "$BL_WORK/netpol.json"
echo "# truth tables through the API: $(($(date +%s) - t0)) s"
grep -q "kube: /apis/networking.k8s.io/v1/networkpolicies: listed" "$BL_AGENT_LOG" &&
	pass "the agent listed and watched NetworkPolicies from the API" ||
	fail "no NetworkPolicy list in the agent log"

# a bad NetworkPolicy through the API: logged by name and left out, the good one applied;
# a good one edited into a bad one keeps its last good version in force
np() { # np NS NAME PORT
	printf '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "%s", "namespace": "%s"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": %s}]}]}}' "$2" "$1" "$3"
}
rules_of() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted(r["rule"] for r in d["rules"])), len(d["endpoints"]))'
}
wait_rules() {
	for _ in $(seq 100); do
		[ "$(rules_of)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
np x web 81 | k apply --validate=false -f - >/dev/null && np y bad 0 | k apply --validate=false -f - >/dev/null
check "kubectl-made bad policy y/bad next to x/web: x/web applied (3 pods isolated)" \
	wait_rules "x/web ingress[0] 3" || rules_of
check "y/bad logged by name and field, left out" \
	grep -q "NetworkPolicy y/bad: spec.ingress\[0\].ports\[0\].port: .*left out" "$BL_AGENT_LOG"
np x web 70000 | k apply --validate=false -f - >/dev/null && np z ok 80 | k apply --validate=false -f - >/dev/null
check "x/web edited bad: z/ok applied beside x/web's last good version (6 pods isolated)" \
	wait_rules "x/web ingress[0] z/ok ingress[0] 6" || rules_of
check "the bad edit logged: its last good version stays in force" \
	grep -q "NetworkPolicy x/web: spec.ingress\[0\].ports\[0\].port: .*last good version stays in force" "$BL_AGENT_LOG"
out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:81,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "b" ] && pass "x/web's last good rule (81) lets y/c reach x/b:81" || fail "y/c -> x/b:81 got '$out'"
out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:80,connect-timeout=2" </dev/null 2>&1)
[ "$out" != "b" ] && pass "and still denies x/b:80" || fail "y/c reached x/b:80"
k delete networkpolicy -n x web >/dev/null
check "the bad policy deleted: x no longer isolated" wait_rules "z/ok ingress[0] 3" || rules_of
bl_summary
