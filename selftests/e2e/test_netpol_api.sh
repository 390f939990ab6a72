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
apply() { # apply JSON...: each through kubectl (without client-side validation)
	local d
	for d in "$@"; do
		k apply --validate=false -f - <<<"$d" >/dev/null || fail "kubectl apply $d"
	done
}
np_bad_policies apply
out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:80,connect-timeout=2" </dev/null 2>&1)
[ "$out" != "b" ] && pass "and still denies x/b:80" || fail "y/c reached x/b:80"
k delete networkpolicy -n x web >/dev/null
check "the bad policy deleted: x no longer isolated" np_wait_rules "z/ok ingress[0] 3" || np_rules
bl_summary
