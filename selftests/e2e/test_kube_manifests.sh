#!/usr/bin/env bash
# The agent on --manifests and --kubeconfig at once: a Service defined in a manifest
# gets endpoints from an EndpointSlice made through the API. An API change recompiles
# that Service alone, with what the manifests say of it (no full rebuild), and real
# traffic follows; a manifest change still rebuilds every Service.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=km$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP=10.96.0.60
k() { ip netns exec "$BL_NODE" kubectl --kubeconfig "$BL_KCFG" "$@"; }
tcp_req() { bl_in "$1" timeout 3 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>&1; }
rebuilds() { grep -c "full sync: objects read" "$BL_AGENT_LOG"; }
api_slice() { # api_slice IP...: the API's EndpointSlice of the manifest's Service mix
	{
		cat <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: mix-api
  namespace: default
  labels: {kubernetes.io/service-name: mix}
addressType: IPv4
ports: [{name: p, port: 8080, protocol: TCP}]
endpoints:
YAML
		for ip in "$@"; do
			printf '  - addresses: ["%s"]\n    conditions: {ready: true}\n' "$ip"
		done
	} | k apply -f - >/dev/null
}
# answers: which pods answered 12 connections to the VIP (sorted, unique)
answers() {
	for _ in $(seq 12); do tcp_req client "$VIP" 80; echo; done | awk 'NF {print $1}' | sort -u | tr '\n' ' '
}

bl_node_up
bl_cp_start || { fail "bpflet-controlplane serves in the node namespace"; exit 1; }
NODE_IP=192.168.254.1
ip -n "$BL_NODE" addr add "$NODE_IP/32" dev lo
bl_agent_start --kubeconfig "$BL_KCFG" --node-name "$BL_TAG-n1" --node-ip "$NODE_IP" -v ||
	{ fail "agent starts on manifests and the API"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add client) || { fail "pods wired"; exit 1; }
for p in a b; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080
bl_service mix "$VIP" 80 TCP 8080 "$A"
bl_service monly 10.96.0.61 80 TCP 8080 "$A"
check "the manifest's Service mix has its manifest backend" bl_wait_backends mix 1
check "and monly its own" bl_wait_backends monly 1
[ "$(answers)" = "a " ] && pass "mix answers from a alone" || fail "mix answers: '$(answers)'"

r0=$(rebuilds)
api_slice "$B"
check "an API slice naming mix adds its backend to the manifest's (2)" bl_wait_backends mix 2
r1=$(rebuilds)
[ "$r1" = "$r0" ] && pass "the API change recompiled mix alone (rebuilds: $r0 -> $r1)" ||
	fail "the API change rebuilt every Service ($r0 -> $r1 rebuilds)"
[ "$(answers)" = "a b " ] && pass "mix answers from a and b" || fail "mix answers: '$(answers)'"
check "monly untouched" bl_wait_backends monly 1

# the API defines mix too: the manifest's definition, first, still wins
svc_events() {
	ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics |
		awk -F' ' '/^bpflet_kube_watch_events_total\{resource="services"\}/ {print $2}'
}
e0=$(svc_events)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: mix, namespace: default}
spec:
  clusterIP: 10.96.0.62
  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]
YAML
vips() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list 2>/dev/null |
		python3 -c 'import json,sys
print(" ".join(sorted(s["frontend"]["ip"] for s in json.load(sys.stdin) if s["name"].startswith("default/mix:"))))'
}
# the agent has the API's Service once its Service watch counted the event
for _ in $(seq 60); do [ "$(svc_events)" -gt "$e0" ] && break; sleep 0.05; done
[ "$(svc_events)" -gt "$e0" ] || fail "the Service never reached the agent's watch"
sleep 0.2
[ "$(vips)" = "$VIP" ] && [ "$(answers)" = "a b " ] &&
	pass "an API Service of the same name leaves the manifest's VIP in place, a and b answering" ||
	fail "mix frontends '$(vips)', answers '$(answers)'"
k delete endpointslice mix-api >/dev/null
k delete service mix >/dev/null
check "the API slice deleted: mix back to its manifest backend" bl_wait_backends mix 1
[ "$(rebuilds)" = "$r0" ] && pass "still no rebuild for API changes" ||
	fail "rebuilds: $r0 -> $(rebuilds)"
[ "$(answers)" = "a " ] && pass "mix answers from a alone again" || fail "mix answers: '$(answers)'"

# a manifest change rebuilds whole, the API's part kept
api_slice "$B"
bl_wait_backends mix 2
bl_service mix "$VIP" 80 TCP 8080
check "the manifest's slice emptied: mix keeps the API's backend (1)" bl_wait_backends mix 1
[ "$(rebuilds)" -gt "$r0" ] && pass "a manifest change rebuilt ($r0 -> $(rebuilds))" ||
	fail "no rebuild after a manifest change"
[ "$(answers)" = "b " ] && pass "mix answers from b alone" || fail "mix answers: '$(answers)'"
bl_summary
