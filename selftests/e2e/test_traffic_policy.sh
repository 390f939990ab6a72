#!/usr/bin/env bash
# internalTrafficPolicy Local and the ready -> serving+terminating fallback with real
# traffic: the node's name is the instance name, "far" is another node.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=tp$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP=10.96.3.10

# svc ITP ENDPOINT...: ENDPOINT is IP/NODE/READY/SERVING/TERMINATING
svc() {
	local itp=$1 f=$BL_MANIFESTS/tp.yaml.tmp ip node r s t
	shift
	{
		cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: tp, namespace: default}
spec:
  clusterIP: $VIP
  internalTrafficPolicy: $itp
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: tp-x, namespace: default, labels: {kubernetes.io/service-name: tp}}
addressType: IPv4
ports: [{name: p, port: 8080, protocol: TCP}]
endpoints:
YAML
		for e in "$@"; do
			IFS=/ read -r ip node r s t <<<"$e"
			echo "  - {addresses: [\"$ip\"], nodeName: $node, conditions: {ready: $r, serving: $s, terminating: $t}}"
		done
	} >"$f"
	mv "$f" "${f%.tmp}"
}

# hits N: distinct answering pods of N connections ("timeout"/"refused" for failures).
hits() {
	local i out
	for i in $(seq "$1"); do
		out=$(bl_in client timeout 3 socat -T2 - "TCP:$VIP:80,connect-timeout=1" </dev/null 2>&1)
		case "$out" in
		"a "* | "b "*) echo "${out%% *}" ;;
		*refused*) echo refused ;;
		*) echo timeout ;;
		esac
	done | sort -u | tr '\n' ' '
}

# wait_tp IP[!]... [--no-local]: until tp's backends are exactly these addresses ("!":
# terminating) and the no-local-endpoints drop is on when asked.
wait_tp() {
	local want="" drop=False ip
	for ip in "$@"; do
		[ "$ip" = --no-local ] && drop=True || want="$want'$ip',"
		want=${want//!/ terminating}
	done
	for _ in $(seq 100); do
		"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list 2>/dev/null |
			python3 -c "import json,sys
d=[s for s in json.load(sys.stdin) if s['name']=='default/tp:p']
sys.exit(0 if d and sorted(b['ip']+(' terminating' if b['state']=='terminating' else '') for b in d[0]['backends'])==sorted([$want]) and d[0]['no_local_endpoints']==$drop else 1)" &&
			return 0
		sleep 0.05
	done
	bl_log "tp: backends never became: $*"
	return 1
}

counter() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters |
		python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['$1'])"
}

bl_node_up
bl_agent_start || { fail "agent starts"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && bl_pod_add client >/dev/null ||
	{ fail "pods wired by bpflet-cni"; exit 1; }
for p in a b; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080
HERE_NODE=$BL_INSTANCE

# Cluster: both ready endpoints serve, wherever they run.
svc Cluster "$A/$HERE_NODE/true/true/false" "$B/far/true/true/false"
wait_tp "$A" "$B"
got=$(hits 30)
[ "$got" = "a b " ] && pass "ITP Cluster: 30 connections reach local a and remote b" || fail "Cluster: '$got'"

# Local: only this node's endpoint.
svc Local "$A/$HERE_NODE/true/true/false" "$B/far/true/true/false"
wait_tp "$A"
got=$(hits 20)
[ "$got" = "a " ] && pass "ITP Local: 20 connections all reach the local endpoint a" || fail "Local: '$got'"
out=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" service list)
grep -E "^default/tp:p .* Local +$A:8080 \(local\)" <<<"$out" >/dev/null &&
	pass "bpfletctl service list (table) shows policy Local and the local backend" ||
	fail "service list table: $out"

# Local, the local endpoint terminating but serving, remote one ready: the fallback is
# decided within the Local scope, so the terminating local one still serves.
svc Local "$A/$HERE_NODE/false/true/true" "$B/far/true/true/false"
wait_tp "$A!"
got=$(hits 10)
[ "$got" = "a " ] && pass "ITP Local: terminating+serving local endpoint used (local fallback)" ||
	fail "Local fallback: '$got'"

# Cluster with one ready and one terminating: only the ready one.
svc Cluster "$A/$HERE_NODE/false/true/true" "$B/far/true/true/false"
wait_tp "$B"
got=$(hits 10)
[ "$got" = "b " ] && pass "ITP Cluster: ready b preferred over terminating a" || fail "Cluster ready: '$got'"

# Cluster, all terminating: serving ones used, non-serving never.
svc Cluster "$A/$HERE_NODE/false/true/true" "$B/far/false/false/true"
wait_tp "$A!"
got=$(hits 10)
[ "$got" = "a " ] && pass "ITP Cluster, all terminating: only the serving one (a) used" ||
	fail "Cluster fallback: '$got'"
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list)
check "bpfletctl shows policy Cluster and the fallback backend as terminating, local" python3 -c "
import json,sys
d=[s for s in json.loads(sys.argv[1]) if s['name']=='default/tp:p'][0]
assert d['traffic_policy']=='Cluster', d
assert [(b['ip'],b['state'],b['local']) for b in d['backends']]==[('$A','terminating',True)], d
" "$json"

# Local with no local endpoint but a remote one: dropped (timeout), not refused.
svc Local "$B/far/true/true/false"
wait_tp --no-local
before=$(counter drop_no_local_endpoint)
got=$(hits 2)
after=$(counter drop_no_local_endpoint)
[ "$got" = "timeout " ] && [ "$after" -gt "$before" ] &&
	pass "ITP Local without local endpoints: dropped (no RST), drop_no_local_endpoint $before -> $after" ||
	fail "no local endpoint: '$got', counter $before -> $after"

# No endpoints anywhere: rejected at once.
svc Local
wait_tp
got=$(hits 2)
[ "$got" = "refused " ] && pass "no endpoints on any node: connection refused" || fail "no endpoints: '$got'"

[ "$BL_FAILED" -eq 0 ] || { echo "# agent log:"; tail -30 "$BL_AGENT_LOG" | sed 's/^/#   /'; }
bl_summary
