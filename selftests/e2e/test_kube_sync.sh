#!/usr/bin/env bash
# The agent on the Kubernetes API: bpflet-controlplane in the node's namespace, the
# agent with --kubeconfig only (no manifests), Services/EndpointSlices/NetworkPolicies
# made with kubectl and turned into maps and real traffic; a control-plane restart
# mid-watch, a relist after a compaction the agent slept through, and an agent
# restart, none flushing the maps.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=ks$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

KCFG=$BL_KCFG
VIP=10.96.0.50
k() { ip netns exec "$BL_NODE" kubectl --kubeconfig "$KCFG" "$@"; }
tcp_req() { bl_in "$1" timeout 3 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>&1; }
backends() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list 2>/dev/null |
		python3 -c 'import json,sys
d=[s for s in json.load(sys.stdin) if s["name"].startswith("default/web:")]
print(sum(len(s["backends"]) for s in d) if d else -1)' 2>/dev/null
}
wait_backends() {
	for _ in $(seq 100); do
		[ "$(backends)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
slice() { # slice IP...: the EndpointSlice of web with these ready endpoints
	{
		cat <<YAML
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: default
  labels: {kubernetes.io/service-name: web}
  annotations: {endpoints.kubernetes.io/last-change-trigger-time: "$(date -u +%Y-%m-%dT%H:%M:%SZ)"}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
YAML
		for ip in "$@"; do
			printf '  - addresses: ["%s"]\n    conditions: {ready: true}\n' "$ip"
		done
	} | k apply -f - >/dev/null
}

bl_node_up
bl_cp_start || { fail "bpflet-controlplane serves in the node namespace"; exit 1; }
pass "bpflet-controlplane up, $KCFG written"
NODE_IP=192.168.254.1
ip -n "$BL_NODE" addr add "$NODE_IP/32" dev lo
BL_AGENT_API_ONLY=1 bl_agent_start --kubeconfig "$KCFG" --node-name "$BL_TAG-n1" --node-ip "$NODE_IP" ||
	{ fail "agent starts on the API"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add client) || { fail "pods wired"; exit 1; }
for p in a b; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080

k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: web, namespace: default}
spec:
  clusterIP: $VIP
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080}]
YAML
slice "$A" "$B"
check "kubectl-made Service and EndpointSlice reach the maps (2 backends)" wait_backends 2
grep -q "kube: /api/v1/services: listed" "$BL_AGENT_LOG" && pass "informers listed, then watched" ||
	fail "no list in the agent log"
# six watches at once on one connection: only HTTP/2 multiplexing can do that
conns=$(ip netns exec "$BL_NODE" ss -Htnp state established '( dport = :6443 )' |
	grep -c "pid=$BL_AGENT_PID,")
[ "$conns" = 1 ] && pass "six watches and the node's writes share one HTTP/2 connection" ||
	fail "the agent holds $conns connections to the API server"
ok=0
for _ in $(seq 10); do
	out=$(tcp_req client "$VIP" 80)
	case "$out" in "a $C" | "b $C") ok=$((ok + 1)) ;; esac
done
[ "$ok" = 10 ] && pass "10 connections to the API-made ClusterIP answered" || fail "ClusterIP: $ok of 10"

# node duties: the Node object and its Lease, through the API
node_json() { k get node "$BL_TAG-n1" -o json 2>/dev/null; }
node_ok() {
	node_json | python3 -c 'import json,sys
n=json.load(sys.stdin); l=n["metadata"]["labels"]; st=n["status"]
ready=[c for c in st["conditions"] if c["type"]=="Ready"]
assert l["kubernetes.io/hostname"]=="'"$BL_TAG-n1"'" and l["kubernetes.io/os"]=="linux", l
assert {"type":"InternalIP","address":"'"$NODE_IP"'"} in st["addresses"], st.get("addresses")
assert ready and ready[0]["status"]=="True" and ready[0]["reason"]=="KubeletReady", ready
assert int(st["capacity"]["cpu"])>=1 and st["capacity"]["memory"].endswith("Ki"), st["capacity"]
' 2>/dev/null
}
# Ready turns True once the agent's first sync is recent; its status follows within 1 s
for _ in $(seq 150); do node_ok && break; sleep 0.1; done
node_ok && pass "Node registered: hostname/os labels, InternalIP, capacity, Ready=True (KubeletReady)" ||
	{ fail "Node object: $(node_json | head -c 600)"; grep "node:" "$BL_AGENT_LOG" | tail -5; }
renew() { k -n kube-node-lease get lease "$BL_TAG-n1" -o jsonpath='{.spec.renewTime} {.spec.holderIdentity} {.spec.leaseDurationSeconds}' 2>/dev/null; }
for _ in $(seq 50); do [ -n "$(renew)" ] && break; sleep 0.1; done
l1=$(renew)
[[ "$l1" == *" $BL_TAG-n1 40" ]] && pass "Lease in kube-node-lease held by the node, 40 s duration" || fail "Lease: '$l1'"
sleep 11
l2=$(renew)
[ -n "$l2" ] && [ "${l1%% *}" != "${l2%% *}" ] && pass "Lease renewed within 11 s (${l1%% *} -> ${l2%% *})" ||
	fail "Lease not renewed: '$l1' then '$l2'"

# spec.podCIDR, assigned by whoever allocates them, reaches bpflet-cni through the agent
k patch node "$BL_TAG-n1" --type merge -p '{"spec":{"podCIDR":"10.244.7.0/24"}}' >/dev/null
cidr_file=/run/bpflet/$BL_INSTANCE/pod-cidr
for _ in $(seq 60); do [ "$(cat "$cidr_file" 2>/dev/null)" = 10.244.7.0/24 ] && break; sleep 0.05; done
[ "$(cat "$cidr_file" 2>/dev/null)" = 10.244.7.0/24 ] && pass "the Node's spec.podCIDR published in $cidr_file" ||
	fail "pod-cidr file: '$(cat "$cidr_file" 2>/dev/null)'"
L=$(BL_CNI_NO_CIDR=1 bl_pod_add late)
[[ "$L" == 10.244.7.* ]] && pass "bpflet-cni without podCIDR in its config allocates from it ($L)" ||
	fail "CNI ADD without podCIDR: '$L'"

slice "$A"
check "an EndpointSlice change through the watch leaves 1 backend" wait_backends 1

# bad objects the API server takes (it refuses bad IPs with 422): logged by name and
# skipped, nothing else disturbed
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: bad-ext, namespace: default, annotations: {service.bpflet.io/lb-algorithm: round-robin}}
spec:
  clusterIP: 10.96.0.51
  ports: [{port: 80, protocol: TCP}]
  futureField: {unknown: true}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: web-bad, namespace: default, labels: {kubernetes.io/service-name: web}}
addressType: IPv4
ports: [{name: Not_A_Label, port: 8080, protocol: TCP}]
endpoints:
- addresses: ["10.1.2.3"]
YAML
for _ in $(seq 50); do grep -q "web-bad" "$BL_AGENT_LOG" && break; sleep 0.1; done
grep -q "Service default/bad-ext: .*skipped" "$BL_AGENT_LOG" &&
	grep -q "EndpointSlice default/web-bad: .*skipped" "$BL_AGENT_LOG" &&
	pass "a Service and a slice with bad fields: logged by name, skipped" ||
	fail "bad objects not reported: $(grep -E 'bad' "$BL_AGENT_LOG" | tail -3)"
out=$(tcp_req client "$VIP" 80)
[ "$(backends)" = 1 ] && [ "$out" = "a $C" ] &&
	pass "web keeps its one backend and answers beside them" ||
	fail "bad objects disturbed web: $(backends) backends, '$out'"
# a big object (200 KiB of annotation) is taken like any other
big=$(head -c 150000 /dev/zero | base64 -w0)
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: big, namespace: default, annotations: {note: "$big"}}
spec:
  clusterIP: 10.96.0.52
  ports: [{port: 81, protocol: TCP}]
YAML
for _ in $(seq 50); do
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" service list 2>/dev/null | grep -q "default/big" && break
	sleep 0.1
done
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" service list 2>/dev/null | grep -q "default/big" &&
	pass "a Service with a 200 KiB annotation is served" || fail "the big Service never reached the maps"
k delete service bad-ext big >/dev/null
k delete endpointslice web-bad >/dev/null
# the slices carry the controller's last-change-trigger-time: programming latency
prog=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics |
	awk '/^kubeproxy_network_programming_duration_seconds_(count|sum)/ {print $2}' | tr '\n' ' ')
read -r psum pcount <<<"$prog"
[ "${pcount:-0}" -ge 1 ] && awk -v s="$psum" -v c="$pcount" 'BEGIN {exit !(s / c < 30)}' &&
	pass "kubeproxy_network_programming_duration_seconds: $pcount changes, mean $(awk -v s="$psum" -v c="$pcount" 'BEGIN {printf "%.3f", s / c}') s" ||
	fail "network programming latency not recorded: '$prog'"

# NetworkPolicy through the API: the pods are known by their CNI registrations
k apply -f - >/dev/null <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny, namespace: default}
spec: {podSelector: {}, ingress: []}
YAML
isolated() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list |
		python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)["endpoints"]) == '"$1"' else 1)'
}
for _ in $(seq 60); do isolated 4 && break; sleep 0.05; done
check "a NetworkPolicy from the API isolates the four pods" isolated 4
out=$(tcp_req client "$A" 8080)
[ -z "$out" ] || [[ "$out" == *"timed out"* ]] || [[ "$out" == *"Connection"* ]] &&
	[ "$out" != "a $C" ] && pass "default deny from the API holds (client -> a refused)" ||
	fail "client -> a under default deny: '$out'"
k delete networkpolicy deny >/dev/null
for _ in $(seq 60); do isolated 0 && break; sleep 0.05; done
out=$(tcp_req client "$A" 8080)
[ "$out" = "a $C" ] && pass "deleting the policy through the API allows again" || fail "after delete: '$out'"

# the control plane goes away mid-watch: maps stay, the agent resumes afterwards
bl_cp_stop
sleep 1
[ "$(backends)" = 1 ] && pass "API server down: the Service keeps its backend" || fail "maps changed while the API was down: $(backends)"
out=$(tcp_req client "$VIP" 80)
[ "$out" = "a $C" ] && pass "traffic flows while the API is down" || fail "ClusterIP with the API down: '$out'"
bl_cp_start || { fail "bpflet-controlplane restarts on the same data"; tail -5 "$BL_WORK/cp.log"; }
slice "$A" "$B"
check "after the API server's restart the watch resumes (2 backends again)" wait_backends 2

# a relist over published maps: the agent sleeps while the API server restarts and
# compacts past its resourceVersion; woken, its watch gets 410, it lists again and
# rebuilds every Service (in batches), traffic following the change it missed
listed=$(grep -c ": listed " "$BL_AGENT_LOG")
kill -STOP "$BL_AGENT_PID"
bl_cp_stop
bl_cp_start --compaction-interval 1 || fail "bpflet-controlplane restarts with compaction"
slice "$A"
sleep 2.5 # two compaction ticks: the agent's resourceVersion is history
kill -CONT "$BL_AGENT_PID"
relisted() { grep -q "endpointslices: resourceVersion .* expired, listing again" "$BL_AGENT_LOG" && [ "$(backends)" = 1 ]; }
for _ in $(seq 200); do relisted && break; sleep 0.05; done
check "woken past a compaction, the agent relists (410) and rebuilds: 1 backend" relisted
out=$(tcp_req client "$VIP" 80)
[ "$out" = "a $C" ] && pass "after the rebuild the ClusterIP reaches the one backend" || fail "after the relist: '$out'"
slice "$A" "$B"
check "and follows the watch again (2 backends)" wait_backends 2
# every informer has listed again (each backs off on its own) before going on
for _ in $(seq 200); do
	[ "$(grep -c ": listed " "$BL_AGENT_LOG")" -ge $((listed + 6)) ] && break
	sleep 0.05
done

# an agent restart re-adopts the maps and writes nothing when nothing changed; a
# connection open through the ClusterIP lives on
for p in a b; do bl_bg "$p" socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat; done
bl_wait_port a 9000 && bl_wait_port b 9000
k apply -f - >/dev/null <<YAML
apiVersion: v1
kind: Service
metadata: {name: long, namespace: default}
spec:
  clusterIP: 10.96.0.53
  ports: [{name: echo, port: 90, protocol: TCP, targetPort: 9000}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: long-1, namespace: default, labels: {kubernetes.io/service-name: long}}
addressType: IPv4
ports: [{name: echo, port: 9000, protocol: TCP}]
endpoints:
- addresses: ["$A"]
- addresses: ["$B"]
YAML
for _ in $(seq 50); do tcp_req client 10.96.0.53 90 | grep -q . && break; sleep 0.1; done
bl_hold_open client 10.96.0.53 90
bl_agent_stop
[ "$(backends)" = 2 ] && pass "agent stopped: maps still hold the Service" || fail "agent stop flushed: $(backends)"
: >"$BL_AGENT_LOG"
BL_AGENT_API_ONLY=1 bl_agent_start --kubeconfig "$KCFG" --node-name "$BL_TAG-n1" --node-ip "$NODE_IP" ||
	fail "agent restarts"
for _ in $(seq 100); do grep -q "kube: /apis/networking.k8s.io/v1/networkpolicies: listed" "$BL_AGENT_LOG" && break; sleep 0.05; done
sleep 0.3
grep -E "synced .* removed" "$BL_AGENT_LOG" | grep -qv " 0 removed" &&
	fail "the restarted agent removed entries: $(grep -E 'synced' "$BL_AGENT_LOG")" ||
	pass "the restarted agent removed nothing from the maps"
check "the restarted agent still has 2 backends" wait_backends 2
bl_hold_result
[ "$BL_HOLD_OUT" = survived ] &&
	pass "a TCP connection open through the ClusterIP survived the agent's restart" ||
	{ fail "connection across the restart: $BL_HOLD_OUT"; grep -E "kube:|synced|error|warn" "$BL_AGENT_LOG" | tail -30 >&2; }
metrics=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics)
grep -q '^bpflet_kube_watch_events_total{resource="endpointslices"}' <<<"$metrics" &&
	pass "/metrics has the informers' watch counters" || { fail "/metrics lacks bpflet_kube_* counters"; grep -c . <<<"$metrics"; grep -i "metrics\|error" "$BL_AGENT_LOG" | head -5; }
bl_summary
