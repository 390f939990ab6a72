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

# count_lines: turn the driver's "ok   - " / "FAIL - " lines into our tallies
count_lines() {
	local l
	while IFS= read -r l; do
		case "$l" in
		"ok   - "*) pass "${l#ok   - }" ;;
		"FAIL - "*) fail "${l#FAIL - }" ;;
		"driver exit 0") ;;
		"driver exit "*) fail "truth-table driver: $l" ;;
		*) echo "$l" ;;
		esac
	done
}

bl_node_up
# the node's own address, the source of its probes (kubelet's, in a cluster)
ip -n "$BL_NODE" addr add 192.168.254.1/32 dev lo
bl_agent_start || { fail "agent starts"; exit 1; }
declare -A IPS=()
for ns in x y z; do
	for p in a b c; do
		ip=$(BL_POD_NS=$ns BL_POD_NAME=$p bl_pod_add "$ns$p") || { fail "pod $ns/$p wired"; exit 1; }
		IPS[$ns$p]=$ip
	done
done
pass "nine pods in namespaces x, y, z wired by bpflet-cni"
for k in "${!IPS[@]}"; do
	bl_bg "$k" python3 "$HERE/netpol/serve.py" "${k:1}"
done
for k in "${!IPS[@]}"; do
	bl_wait_port "$k" 81 || fail "servers of $k listening"
done

cfg=$BL_WORK/netpol.json
{
	printf '{"node_ns": "%s", "manifests": "%s", "ctl": "%s", "instance": "%s",' \
		"$BL_NODE" "$BL_MANIFESTS" "$BL_BIN/bpfletctl" "$BL_INSTANCE"
	printf ' "pod_ns_prefix": "%s-", "pods": {' "$BL_TAG"
	sep=
	for k in "${!IPS[@]}"; do
		printf '%s"%s": {"ns": "%s", "name": "%s", "ip": "%s"}' "$sep" "$k" "${k:0:1}" "${k:1}" "${IPS[$k]}"
		sep=", "
	done
	printf '}}\n'
} >"$cfg"
count_lines < <(timeout 900 python3 "$HERE/netpol/truth.py" "$cfg" 2>&1; echo "driver exit $?")

# --policy-audit: a deny-all policy only counts and reports
bl_agent_stop
bl_agent_start --policy-audit || { fail "agent restarts with --policy-audit"; exit 1; }
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
[ "$(audit_count drop_policy)" = "$drops" ] && pass "audit mode dropped nothing" ||
	fail "audit mode: drop_policy moved from $drops to $(audit_count drop_policy)"
bl_summary
