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

# The verdict hand-off on the real kernel path: with y/c isolated for egress (so its
# flow gets a pass entry) and x/b for ingress, tc_pod's note lets x/b's tc_pod_to stamp
# the rule that allowed the SYN into y/c's pass entry (pol_to), which later packets
# then carry from tc_pod to tc_pod_to instead of its lookups.
policies "$(np_json x web 81)" '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "out", "namespace": "y"}, "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{}]}}'
check "x/web and y/out in force (6 pods isolated)" \
	np_wait_rules "x/web ingress[0] y/out egress[0] 6" || np_rules
out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:81,connect-timeout=2,sourceport=40123" </dev/null 2>&1)
[ "$out" = "b" ] && pass "y/c (egress isolated) reaches x/b:81 from port 40123" || fail "y/c -> x/b:81 got '$out'"
handoff() {
	bpftool -j map dump pinned "/sys/fs/bpf/bpflet/$BL_INSTANCE/bl_ct_tcp_v2" >"$BL_WORK/ct.json" &&
		"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list >"$BL_WORK/rules.json" &&
		python3 - "$BL_WORK/ct.json" "$BL_WORK/rules.json" "${IPS[yc]}" "${IPS[xb]}" <<'PY'
import json, socket, struct, sys
ct, rules = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
ip = lambda a: struct.unpack("<I", socket.inet_aton(a))[0]  # __be32 as bpftool prints it
be16 = lambda p: socket.htons(p)
want = [r["id"] for r in rules["rules"] if r["rule"] == "x/web ingress[0]"]
got = [e["formatted"]["value"].get("pol_to") for e in ct
       if e["formatted"]["key"]["saddr"]["addr"][0] == ip(sys.argv[3])
       and e["formatted"]["key"]["daddr"]["addr"][0] == ip(sys.argv[4])
       and e["formatted"]["key"]["sport"] == be16(40123)
       and e["formatted"]["key"]["dport"] == be16(81)
       and e["formatted"]["value"]["svc_id"] == 0]
print("pass entries' pol_to", got, "rule id", want)
sys.exit(0 if len(want) == 1 and got == want else 1)
PY
}
check "y/c's pass entry carries x/web ingress[0], stamped by x/b's tc_pod_to" handoff
bl_summary
