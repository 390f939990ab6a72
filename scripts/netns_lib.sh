# Shared by the e2e tests, the demo and the benchmarks: a node network namespace,
# pods wired by bpflet-cni, and one bpflet agent, all removed again by bl_teardown.
# Source it, set BL_TAG (unique per run; carries the pid), then call bl_node_up.
#
# Everything stays inside namespaces this script creates: pod CIDR 10.244.0.0/24,
# Service addresses from 10.96.0.0/12.

BL_ROOT=${BL_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
BL_BIN=${BL_BIN:-$BL_ROOT/build/bin}
BL_TAG=${BL_TAG:-bl$$}
BL_NODE=${BL_TAG}-node
BL_INSTANCE=${BL_TAG}
BL_WORK=${BL_WORK:-/tmp/bpflet-$BL_TAG}
BL_MANIFESTS=$BL_WORK/manifests
BL_AGENT_LOG=$BL_WORK/agent.log
BL_POD_CIDR=${BL_POD_CIDR:-10.244.0.0/24}
BL_AGENT_PID=
BL_BG_PIDS=()

bl_log() { echo "# $*" >&2; }

# BL_CNI_NO_CIDR=1: no podCIDR, the plugin takes the one the agent published
bl_cni_conf() {
	local cidr="\"podCIDR\":\"$BL_POD_CIDR\","
	[ -n "${BL_CNI_NO_CIDR:-}" ] && cidr=
	cat <<JSON
{"cniVersion":"1.0.0","name":"bpflet","type":"bpflet-cni","instance":"$BL_INSTANCE",
 $cidr"dataDir":"$BL_WORK/ipam"}
JSON
}

# bl_cni CMD POD: run the plugin as a runtime would, inside the node namespace.
# The pod registers as default/POD unless BL_POD_NS / BL_POD_NAME say otherwise.
bl_cni() {
	local cmd=$1 pod=$2
	bl_cni_conf | ip netns exec "$BL_NODE" env CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="ctr-$BL_TAG-$pod" CNI_NETNS="/var/run/netns/$BL_TAG-$pod" \
		CNI_IFNAME=eth0 CNI_PATH="$BL_BIN" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=${BL_POD_NS:-default};K8S_POD_NAME=${BL_POD_NAME:-$pod}" \
		"$BL_BIN/bpflet-cni"
}

bl_node_up() {
	mkdir -p "$BL_MANIFESTS"
	ip netns add "$BL_NODE"
	ip -n "$BL_NODE" link set lo up
}

# bl_agent_start [extra args]: starts the agent and waits for its CNI socket.
bl_agent_start() {
	local src=(--manifests "$BL_MANIFESTS")
	# BL_AGENT_API_ONLY=1: no --manifests, the caller passes --kubeconfig
	[ -n "${BL_AGENT_API_ONLY:-}" ] && src=()
	"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" \
		"${src[@]}" --pod-cidr "$BL_POD_CIDR" --resync 5 "$@" \
		>>"$BL_AGENT_LOG" 2>&1 &
	BL_AGENT_PID=$!
	for _ in $(seq 100); do
		[ -S "/run/bpflet/$BL_INSTANCE/agent.sock" ] && return 0
		kill -0 "$BL_AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	bl_log "agent did not start; log:"
	tail -20 "$BL_AGENT_LOG" >&2
	return 1
}

bl_agent_stop() {
	[ -n "$BL_AGENT_PID" ] || return 0
	kill -TERM "$BL_AGENT_PID" 2>/dev/null
	for _ in $(seq 100); do
		kill -0 "$BL_AGENT_PID" 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL "$BL_AGENT_PID" 2>/dev/null
	wait "$BL_AGENT_PID" 2>/dev/null
	BL_AGENT_PID=
}

# bl_pod_add NAME: a pod namespace wired by bpflet-cni; prints its IP.
bl_pod_add() {
	local pod=$1 out
	ip netns add "$BL_TAG-$pod"
	out=$(bl_cni ADD "$pod") || { bl_log "CNI ADD $pod failed: $out"; return 1; }
	python3 -c 'import json,sys; print(json.load(sys.stdin)["ips"][0]["address"].split("/")[0])' \
		<<<"$out"
}

# bl_in POD CMD...: run a command inside a pod.
bl_in() {
	local pod=$1
	shift
	ip netns exec "$BL_TAG-$pod" "$@"
}

# bl_bg POD CMD...: a background server inside a pod, killed at teardown.
bl_bg() {
	local pod=$1
	shift
	ip netns exec "$BL_TAG-$pod" "$@" >/dev/null 2>&1 &
	BL_BG_PIDS+=($!)
}

# bl_serve_echo POD PORT: TCP and UDP servers answering "<pod> <client address>".
bl_serve_echo() {
	local pod=$1 port=$2
	bl_bg "$pod" socat TCP-LISTEN:"$port",fork,reuseaddr SYSTEM:"echo $pod \$SOCAT_PEERADDR"
	# one process answering every datagram (socat's forking UDP server drops some)
	bl_bg "$pod" python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', $port))
while True:
    data, peer = s.recvfrom(2048)
    s.sendto(b'$pod %s\n' % peer[0].encode(), peer)
"
}

# bl_hold_open POD IP PORT: a TCP connection to an echo server that exchanges one line
# now and one more once bl_hold_release is called; returns after the first exchange.
# bl_hold_result then sets BL_HOLD_OUT to "survived" if both went through (not in a
# $(...): the connection is this shell's child).
bl_hold_open() {
	rm -f "$BL_WORK/hold.first" "$BL_WORK/hold.go"
	bl_in "$1" timeout 30 python3 -c "
import socket, os, time
s = socket.create_connection(('$2', $3), timeout=5)
s.sendall(b'one\n'); assert s.recv(10) == b'one\n'
open('$BL_WORK/hold.first', 'w').close()
while not os.path.exists('$BL_WORK/hold.go'): time.sleep(0.05)
s.sendall(b'two\n'); assert s.recv(10) == b'two\n'
print('survived')
" >"$BL_WORK/hold.out" 2>&1 &
	BL_HOLD_PID=$!
	for _ in $(seq 100); do
		[ -e "$BL_WORK/hold.first" ] && return 0
		sleep 0.05
	done
	return 1
}
bl_hold_result() {
	touch "$BL_WORK/hold.go"
	wait "$BL_HOLD_PID"
	BL_HOLD_OUT=$(cat "$BL_WORK/hold.out")
}

# bl_wait_port POD PORT: wait until a TCP listener is up in a pod.
bl_wait_port() {
	for _ in $(seq 100); do
		bl_in "$1" ss -ltn "sport = :$2" | grep -q LISTEN && return 0
		sleep 0.05
	done
	return 1
}

# bl_service NAME VIP PORT PROTO TARGETPORT IP...: a Service and its EndpointSlice.
bl_service() {
	local name=$1 vip=$2 port=$3 proto=$4 tport=$5
	shift 5
	local f=$BL_MANIFESTS/$name.yaml.tmp
	{
		cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  clusterIP: $vip
  ports: [{name: p, port: $port, protocol: $proto, targetPort: $tport}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: $name-abc
  namespace: default
  labels: {kubernetes.io/service-name: $name}
addressType: IPv4
ports: [{name: p, port: $tport, protocol: $proto}]
endpoints:
YAML
		for ip in "$@"; do
			echo "  - addresses: [\"$ip\"]"
			echo "    conditions: {ready: true}"
		done
		[ $# -gt 0 ] || echo "  []"
	} >"$f"
	mv "$f" "${f%.tmp}"
}

# bl_wait_backends NAME COUNT: until bpfletctl shows COUNT backends for the Service.
bl_wait_backends() {
	local name=$1 want=$2 n
	for _ in $(seq 100); do
		n=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list 2>/dev/null |
			python3 -c "import json,sys
d=json.load(sys.stdin)
print(sum(len(s['backends']) for s in d if s['name'].startswith('default/$name:')) if any(s['name'].startswith('default/$name:') for s in d) else -1)" 2>/dev/null)
		[ "$n" = "$want" ] && return 0
		sleep 0.05
	done
	bl_log "service $name: wanted $want backends, have ${n:-?}"
	return 1
}

# bl_cp_start [server args]: bpflet-controlplane in the node namespace on
# 127.0.0.1:6443 with its data in $BL_CP_DATA (kept across restarts); waits until it is
# ready. kubectl reaches it with $BL_KCFG. Stopped by bl_cp_stop and bl_teardown.
BL_CP_DATA=$BL_WORK/cp
BL_KCFG=$BL_CP_DATA/admin.kubeconfig
BL_CP_PID=
bl_cp_start() {
	mkdir -p "$BL_CP_DATA"
	ip netns exec "$BL_NODE" "$BL_BIN/bpflet-controlplane" --data-dir "$BL_CP_DATA" \
		--listen 127.0.0.1:6443 "$@" >>"$BL_WORK/cp.log" 2>&1 &
	BL_CP_PID=$!
	for _ in $(seq 100); do
		ip netns exec "$BL_NODE" curl -sk -m 1 https://127.0.0.1:6443/readyz >/dev/null 2>&1 &&
			return 0
		sleep 0.1
	done
	return 1
}

bl_cp_stop() {
	[ -n "$BL_CP_PID" ] || return 0
	kill "$BL_CP_PID" 2>/dev/null
	wait "$BL_CP_PID" 2>/dev/null
	BL_CP_PID=
}

# The pods of this run, from the namespaces themselves (bl_pod_add runs in $(...)
# subshells, so a shell array would not see them).
bl_pods() {
	ip netns list | awk '{print $1}' | grep "^$BL_TAG-" | grep -vx "$BL_NODE" | sed "s/^$BL_TAG-//"
}

bl_teardown() {
	local pid pod
	# nothing may interrupt the cleanup, not even a reader that went away
	trap '' PIPE INT TERM HUP
	for pid in "${BL_BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null
	done
	bl_agent_stop
	bl_cp_stop
	if [ -x "$BL_BIN/bpflet" ] && ip netns list | grep -qw "$BL_NODE"; then
		for pod in $(bl_pods); do
			bl_cni DEL "$pod" >/dev/null 2>&1
		done
		"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" \
			--cleanup >>"$BL_AGENT_LOG" 2>&1
	fi
	for pod in $(bl_pods); do
		ip netns del "$BL_TAG-$pod" 2>/dev/null
	done
	ip netns del "$BL_NODE" 2>/dev/null
	rm -rf "/sys/fs/bpf/bpflet/$BL_INSTANCE" "/run/bpflet/$BL_INSTANCE"
	# libxdp's lock directory, made by the agent's uplink attach: empty once no
	# dispatcher is pinned (rmdir leaves it when another user still has one there)
	rmdir /sys/fs/bpf/bpflet /sys/fs/bpf/xdp /run/bpflet 2>/dev/null
	wait 2>/dev/null
	rm -rf "$BL_WORK"
	BL_BG_PIDS=()
}
