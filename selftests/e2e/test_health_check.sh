#!/usr/bin/env bash
# healthCheckNodePort (kube-proxy's service health server) on a node: 200 with the
# local ready endpoint count, 503 with none or only terminating ones, the listener
# follows the Service (policy Cluster closes it, a new port moves it), a port held by
# another process is retried until free, and an agent restart serves it again.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=hc$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

ME=$BL_INSTANCE # the agent's node name defaults to its instance name

# svc ETP HCPORT ENDPOINT...: ENDPOINT is IP/NODE/READY/TERMINATING
svc() {
	local etp=$1 hc=$2 f=$BL_MANIFESTS/lb.yaml.tmp ip node r t
	shift 2
	{
		cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: lb, namespace: shop}
spec:
  type: LoadBalancer
  clusterIP: 10.96.9.10
  externalTrafficPolicy: $etp
  healthCheckNodePort: $hc
  ports: [{name: http, port: 80, protocol: TCP, targetPort: 8080, nodePort: 30080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: lb-x, namespace: shop, labels: {kubernetes.io/service-name: lb}}
addressType: IPv4
ports: [{name: http, port: 8080, protocol: TCP}]
endpoints:
YAML
		for e in "$@"; do
			IFS=/ read -r ip node r t <<<"$e"
			echo "  - {addresses: [\"$ip\"], nodeName: $node, conditions: {ready: $r, serving: true, terminating: $t}}"
		done
		[ $# -gt 0 ] || echo "  []"
	} >"$f"
	mv "$f" "${f%.tmp}"
}

# probe PORT: "CODE LOCALENDPOINTS WEIGHT NS/NAME HEALTHY", or "refused"
probe() {
	local out
	out=$(ip netns exec "$BL_NODE" curl -s -m 2 -D "$BL_WORK/h" -o "$BL_WORK/b" \
		-w '%{http_code}' "http://127.0.0.1:$1/healthz") || { echo refused; return; }
	python3 - "$out" "$BL_WORK/h" "$BL_WORK/b" <<'PY'
import json, sys
code, hdr, body = sys.argv[1], open(sys.argv[2]).read(), json.load(open(sys.argv[3]))
w = [l.split(":", 1)[1].strip() for l in hdr.splitlines()
     if l.lower().startswith("x-load-balancing-endpoint-weight:")]
s = body["service"]
print(code, body["localEndpoints"], w[0] if w else "-", s["namespace"] + "/" + s["name"],
      str(body["serviceProxyHealthy"]).lower())
PY
}

# wait_probe PORT WANT: until probe PORT prints WANT (≤ 12 s: a retry may wait a resync)
wait_probe() {
	local got
	for _ in $(seq 120); do
		got=$(probe "$1")
		[ "$got" = "$2" ] && return 0
		sleep 0.1
	done
	bl_log "port $1: wanted '$2', last '$got'"
	return 1
}

bl_node_up
bl_agent_start || { fail "agent starts"; exit 1; }

svc Local 32100 "10.244.0.20/$ME/true/false" "10.244.0.21/$ME/true/false" "10.244.9.2/far/true/false"
check "2 local ready endpoints (of 3): 200, localEndpoints 2, weight header 2" \
	wait_probe 32100 "200 2 2 shop/lb true"

svc Local 32100 "10.244.0.20/$ME/false/true" "10.244.0.21/$ME/true/false" "10.244.9.2/far/true/false"
check "one local endpoint terminating: count follows (1)" wait_probe 32100 "200 1 1 shop/lb true"

svc Local 32100 "10.244.0.20/$ME/false/true" "10.244.0.21/$ME/false/true" "10.244.9.2/far/true/false"
check "only terminating local endpoints remain: 503, localEndpoints 0" \
	wait_probe 32100 "503 0 0 shop/lb true"

svc Local 32100 "10.244.9.2/far/true/false"
check "endpoints only on another node: 503" wait_probe 32100 "503 0 0 shop/lb true"

svc Cluster 32100 "10.244.0.20/$ME/true/false"
check "externalTrafficPolicy Cluster: the port is closed" wait_probe 32100 refused

svc Local 32101 "10.244.0.20/$ME/true/false"
check "back to Local on a new port: 32101 answers 200" wait_probe 32101 "200 1 1 shop/lb true"
check "and the old port 32100 stays closed" wait_probe 32100 refused

# a port held by someone else: logged, other ports unaffected, bound once free
ip netns exec "$BL_NODE" socat TCP-LISTEN:32102,reuseaddr,fork SYSTEM:true >/dev/null 2>&1 &
squatter=$!
BL_BG_PIDS+=("$squatter")
bl_wait_port_node() { for _ in $(seq 50); do ip netns exec "$BL_NODE" ss -Hltn "sport = :$1" | grep -q . && return 0; sleep 0.05; done; return 1; }
bl_wait_port_node 32102
svc Local 32102 "10.244.0.20/$ME/true/false"
for _ in $(seq 50); do grep -q "healthCheckNodePort 32102 of Service shop/lb: cannot listen" "$BL_AGENT_LOG" && break; sleep 0.1; done
check "a port in use is reported with the Service's name" \
	grep -q "healthCheckNodePort 32102 of Service shop/lb: cannot listen" "$BL_AGENT_LOG"
kill "$squatter" 2>/dev/null
wait "$squatter" 2>/dev/null
check "once free it is bound at the next sync: 200" wait_probe 32102 "200 1 1 shop/lb true"

bl_agent_stop
check "agent stopped: nobody answers" wait_probe 32102 refused
bl_agent_start || fail "agent restarts"
check "agent restarted: the health check is served again" wait_probe 32102 "200 1 1 shop/lb true"

bl_summary
