#!/usr/bin/env bash
# NetworkPolicy end to end: three namespaces x three pods wired by bpflet-cni, TCP and
# UDP servers on 80 and 81, the full reachability matrix (pod IP and ClusterIP) checked
# against selftests/e2e/netpol/truth.py's scenarios, then --policy-audit.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=np$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

NP_HERE=$HERE/netpol
. "$NP_HERE/lib.sh"

bl_node_up
# the node's own address, the source of its probes (kubelet's, in a cluster)
ip -n "$BL_NODE" addr add 192.168.254.1/32 dev lo
bl_agent_start || { fail "agent starts"; exit 1; }
np_pods || { fail "nine pods wired by bpflet-cni, servers listening"; exit 1; }
pass "nine pods in namespaces x, y, z wired by bpflet-cni"
np_cfg "$BL_WORK/netpol.json"
np_truth "$BL_WORK/netpol.json"

# every deny of the truth tables was reported on the ring buffer and logged
grep -q "policy deny: .* -> ${IPS[xa]}:80 TCP, ingress of ${IPS[xa]}, default deny" "$BL_AGENT_LOG" &&
	pass "deny events logged with addresses, direction and 'default deny'" ||
	fail "no deny event line for x/a in the agent log"
denies=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics |
	awk '/^bpflet_policy_verdict_events_total\{verdict="deny"\}/ {print $2}')
[ "${denies:-0}" -gt 100 ] && pass "/metrics counts $denies deny events" ||
	fail "/metrics deny events: '${denies:-}'"

# a policy deleted while the agent is down leaves nothing behind in the pinned maps
n_isolated() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["endpoints"]))'
}
printf '%s\n' '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "stale", "namespace": "y"}, "spec": {"podSelector": {}, "ingress": []}}' >"$BL_MANIFESTS/stale.json"
for _ in $(seq 60); do [ "$(n_isolated)" = 3 ] && break; sleep 0.05; done
bl_agent_stop
rm -f "$BL_MANIFESTS/stale.json"
[ "$(n_isolated)" = 3 ] && pass "y/stale's isolation pinned while the agent is down" ||
	fail "y/stale: $(n_isolated) isolated endpoints before the restart"

# --policy-audit: a deny-all policy only counts and reports
: >"$BL_AGENT_LOG"
bl_agent_start --policy-audit --policy-allow-events || { fail "agent restarts with --policy-audit"; exit 1; }
for _ in $(seq 60); do [ "$(n_isolated)" = 0 ] && break; sleep 0.05; done
[ "$(n_isolated)" = 0 ] && pass "restarted agent removes y/stale's entries (deleted while it was down)" ||
	fail "after the restart $(n_isolated) endpoints are still isolated"
cat >"$BL_MANIFESTS/policies.json.tmp" <<JSON
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "deny", "namespace": "x"}, "spec": {"podSelector": {}, "ingress": []}}
JSON
mv "$BL_MANIFESTS/policies.json.tmp" "$BL_MANIFESTS/policies.json"
isolated() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list |
		python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)["endpoints"]) == 3 else 1)'
}
for _ in $(seq 60); do isolated && break; sleep 0.05; done
check "deny-all in x isolates its three pods" isolated ||
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" policy list
audit_count() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters |
		python3 -c 'import json,sys; print(sum(c["packets"] for c in json.load(sys.stdin) if c["reason"] == "'"$1"'"))'
}
before=$(audit_count policy_audit)
drops=$(audit_count drop_policy)
out=$(bl_in yb timeout 3 socat -T2 - "TCP:${IPS[xa]}:80,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "a" ] && pass "audit mode: y/b reaches x/a despite deny-all" || fail "audit mode: y/b -> x/a got '$out'"
after=$(audit_count policy_audit)
[ "$after" -gt "$before" ] && pass "audit mode counted the would-be deny ($before -> $after)" ||
	fail "policy_audit counter did not move ($before -> $after)"
grep -q "policy audit (would deny, passed): ${IPS[yb]}:[0-9]* -> ${IPS[xa]}:80 TCP, ingress of ${IPS[xa]}, default deny" "$BL_AGENT_LOG" &&
	pass "audit mode logged the would-be deny" || fail "no audit line in the agent log"
[ "$(audit_count drop_policy)" = "$drops" ] && pass "audit mode dropped nothing" ||
	fail "audit mode: drop_policy moved from $drops to $(audit_count drop_policy)"
# --policy-allow-events: a connection a rule allowed is reported with its rule
cat >"$BL_MANIFESTS/policies.json.tmp" <<JSON
{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
 "metadata": {"name": "web", "namespace": "x"},
 "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": 81}]}]}}
JSON
mv "$BL_MANIFESTS/policies.json.tmp" "$BL_MANIFESTS/policies.json"
for _ in $(seq 60); do
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list | grep -q "x/web ingress" && break
	sleep 0.05
done
out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:81,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "b" ] && pass "y/c reaches x/b:81 under x/web" || fail "y/c -> x/b:81 got '$out'"
for _ in $(seq 40); do
	grep -q "policy allow: ${IPS[yc]}:[0-9]* -> ${IPS[xb]}:81 TCP, ingress of ${IPS[xb]}, x/web ingress\[0\]" "$BL_AGENT_LOG" && break
	sleep 0.05
done
check "allow event names the rule x/web ingress[0]" grep -q "policy allow: ${IPS[yc]}:[0-9]* -> ${IPS[xb]}:81 TCP, ingress of ${IPS[xb]}, x/web ingress\[0\]" "$BL_AGENT_LOG"

# a bad NetworkPolicy is logged by name and left out; the others are applied. Edited
# into something bad, a policy keeps its last good version in force.
policies() { # policies JSON...: policies.json holds exactly these
	local IFS=,
	printf '{"apiVersion": "v1", "kind": "List", "items": [%s]}\n' "$*" >"$BL_MANIFESTS/policies.json.tmp"
	mv "$BL_MANIFESTS/policies.json.tmp" "$BL_MANIFESTS/policies.json"
}
np_bad_policies policies
bl_summary
