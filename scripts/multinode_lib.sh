# Several bpflet nodes on one machine, for e2e tests, the demo and benchmarks:
#
#   <tag>-fab    a namespace holding bridge br0: the L2 fabric
#   <tag>nI-node node I (1..N): uplink0 = 192.168.77.I/24 on the fabric, pod CIDR
#                10.244.I.0/24, its own `bpflet --instance <tag>nI` and pin directory
#   <tag>-ext    an external client: eth0 = 192.168.77.100/24 on the fabric
#
# Each node is a netns_lib.sh node with its own BL_TAG (<tag>nI); mn_use I switches the
# BL_* variables to node I so every bl_* helper works on it. Source this file, set
# MN_TAG (unique per run; carries the pid), call mn_up N, and mn_teardown in a trap.

MN_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
MN_TAG=${MN_TAG:-mn$$}
MN_FAB=$MN_TAG-fab
MN_EXT=$MN_TAG-ext
MN_NET=192.168.77
MN_EXT_IP=$MN_NET.100
MN_N=0
MN_CUR=
declare -A MN_PIDS=()
BL_TAG=${MN_TAG}n1
. "$MN_ROOT/scripts/netns_lib.sh"

# mn_ip I: node I's address on the fabric.
mn_ip() { echo "$MN_NET.$1"; }

# mn_use I: point the bl_* helpers at node I.
mn_use() {
	[ -n "$MN_CUR" ] && MN_PIDS[$MN_CUR]=$BL_AGENT_PID
	MN_CUR=$1
	BL_TAG=${MN_TAG}n$1
	BL_NODE=$BL_TAG-node
	BL_INSTANCE=$BL_TAG
	BL_WORK=/tmp/bpflet-$BL_TAG
	BL_MANIFESTS=$BL_WORK/manifests
	BL_AGENT_LOG=$BL_WORK/agent.log
	BL_POD_CIDR=10.244.$1.0/24
	BL_AGENT_PID=${MN_PIDS[$1]:-}
}

# mn_link NS IFNAME PORT: a veth from the fabric bridge (port PORT) into NS as IFNAME.
# Checksum offload off: BPF redirects between veths need complete checksums.
mn_link() {
	local ns=$1 ifname=$2 port=$3
	ip -n "$MN_FAB" link add "$port" type veth peer name "$ifname" netns "$ns" || return 1
	ip -n "$MN_FAB" link set "$port" master br0 up
	ip netns exec "$MN_FAB" ethtool -K "$port" tx off >/dev/null 2>&1
	ip netns exec "$ns" ethtool -K "$ifname" tx off >/dev/null 2>&1
	ip -n "$ns" link set "$ifname" up
}

# mn_up N: the fabric, N nodes (no agents yet) and the external client.
mn_up() {
	local i
	MN_N=$1
	ip netns add "$MN_FAB" || return 1
	ip -n "$MN_FAB" link set lo up
	ip -n "$MN_FAB" link add br0 type bridge || return 1
	ip -n "$MN_FAB" link set br0 up
	# a switch, not a firewall: no netfilter hooks on bridged frames (where br_netfilter
	# is loaded; the setting is per namespace)
	ip netns exec "$MN_FAB" sysctl -qw net.bridge.bridge-nf-call-iptables=0 \
		net.bridge.bridge-nf-call-ip6tables=0 net.bridge.bridge-nf-call-arptables=0 \
		>/dev/null 2>&1
	for i in $(seq "$MN_N"); do
		mn_use "$i"
		bl_node_up || return 1
		mn_link "$BL_NODE" uplink0 "n$i" || return 1
		ip -n "$BL_NODE" addr add "$(mn_ip "$i")/24" dev uplink0
	done
	ip netns add "$MN_EXT" || return 1
	ip -n "$MN_EXT" link set lo up
	mn_link "$MN_EXT" eth0 ext || return 1
	ip -n "$MN_EXT" addr add "$MN_EXT_IP/24" dev eth0
}

# mn_fabric_napi: a pass-through XDP program on every bridge-side veth. A veth hands
# frames that its peer sent by XDP_TX/redirect only to a peer with NAPI running, which
# an XDP program there turns on; without it native XDP_TX on a node's uplink0 loses
# every frame. Needed whenever the nodes run xdp_uplink in native mode.
mn_fabric_napi() {
	local p
	for p in $(ip -n "$MN_FAB" -o link show master br0 | awk -F'[:@ ]+' '{print $2}'); do
		ip -n "$MN_FAB" link set dev "$p" xdpdrv object "$MN_ROOT/build/bpf/pass.bpf.o" \
			section xdp || return 1
	done
}

# mn_up_uplink N MODE [agent args]: mn_up N with every node's agent on uplink0 in XDP
# MODE (native: the fabric gets its NAPI programs first) and the Node objects.
mn_up_uplink() {
	local n=$1 mode=$2 i
	shift 2
	mn_up "$n" || return 1
	if [ "$mode" = native ]; then mn_fabric_napi || return 1; fi
	mn_node_objects
	for i in $(seq "$n"); do
		mn_agent_start "$i" --uplink uplink0 --xdp-mode "$mode" "$@" || return 1
	done
}

# mn_nodeport NAME CLUSTERIP ADDRESS NODE PORT...: a NodePort Service with one endpoint
# (ADDRESS on node NODE) and its EndpointSlice, in every node's manifests. Each PORT is
# NAME/PROTOCOL/PORT/TARGETPORT/NODEPORT.
mn_nodeport() {
	local name=$1 cip=$2 addr=$3 node=$4 i p n proto port target np f ports="" eports=""
	shift 4
	for p in "$@"; do
		IFS=/ read -r n proto port target np <<<"$p"
		ports+="  - {name: $n, port: $port, protocol: $proto, targetPort: $target, nodePort: $np}"$'\n'
		eports+="{name: $n, port: $target, protocol: $proto}, "
	done
	for i in $(seq "$MN_N"); do
		f=/tmp/bpflet-${MN_TAG}n$i/manifests/$name.yaml
		cat >"$f.tmp" <<YAML
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  type: NodePort
  clusterIP: $cip
  ports:
${ports}---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $name-x, namespace: default, labels: {kubernetes.io/service-name: $name}}
addressType: IPv4
ports: [${eports%, }]
endpoints: [{addresses: ["$addr"], nodeName: $node, conditions: {ready: true}}]
YAML
		mv "$f.tmp" "$f"
	done
}

# mn_node_objects [I...]: Node objects (podCIDR, InternalIP) for nodes I (default all)
# in every node's manifest directory, the way the API would show them.
mn_node_objects() {
	local i j nodes=("$@") f
	[ ${#nodes[@]} -gt 0 ] || mapfile -t nodes < <(seq "$MN_N")
	for i in $(seq "$MN_N"); do
		f=/tmp/bpflet-${MN_TAG}n$i/manifests/nodes.yaml
		for j in "${nodes[@]}"; do
			cat <<YAML
---
apiVersion: v1
kind: Node
metadata: {name: node$j}
spec: {podCIDR: 10.244.$j.0/24}
status:
  addresses: [{type: InternalIP, address: $(mn_ip "$j")}, {type: Hostname, address: node$j}]
YAML
		done >"$f.tmp"
		mv "$f.tmp" "$f"
	done
}

# mn_agent_start I [args]: node I's agent (node name nodeI, its fabric address).
mn_agent_start() {
	local i=$1
	shift
	mn_use "$i"
	bl_agent_start --node-name "node$i" --node-ip "$(mn_ip "$i")" "$@"
}

# mn_agent_stop I
mn_agent_stop() {
	mn_use "$1"
	bl_agent_stop
}

# mn_ext CMD...: run a command in the external client.
mn_ext() { ip netns exec "$MN_EXT" "$@"; }

# mn_ext_tcp HOST PORT: the external client's TCP answer, "refused" or "timeout".
mn_ext_tcp() {
	local out
	out=$(mn_ext timeout 3 socat -T2 - "TCP:$1:$2,connect-timeout=1" </dev/null 2>&1)
	case "$out" in
	*refused*) echo refused ;;
	"" | *"timed out"*) echo timeout ;;
	*) echo "$out" | head -1 ;;
	esac
}

# mn_counter I REASON: node I's packet counter for REASON (bpfletctl counters).
mn_counter() {
	mn_use "$1"
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters |
		python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['$2'])"
}

mn_teardown() {
	local i
	trap '' PIPE INT TERM HUP
	# every node's agent first: bl_teardown ends with a bare `wait`, which would block on
	# the agents of the nodes not torn down yet
	for i in $(seq "$MN_N"); do
		mn_use "$i"
		bl_agent_stop
	done
	for i in $(seq "$MN_N"); do
		mn_use "$i"
		bl_teardown
	done
	ip netns del "$MN_EXT" 2>/dev/null
	ip netns del "$MN_FAB" 2>/dev/null
}
