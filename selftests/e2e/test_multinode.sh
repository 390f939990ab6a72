#!/usr/bin/env bash
# Several nodes on one L2 fabric: each agent routes the other nodes' pod CIDRs via
# their addresses, learnt from Node objects; pods talk across nodes with their own IPs.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=mn$$
. "$HERE/../../scripts/multinode_lib.sh"
. "$HERE/assert.sh"
trap 'mn_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

tcp_req() { bl_in "$1" timeout 3 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>&1; }
# the UDP echo server is python: it binds later than socat's TCP listener
wait_udp() {
	for _ in $(seq 100); do
		bl_in "$1" ss -lun "sport = :$2" | grep -q ":$2" && return 0
		sleep 0.05
	done
	return 1
}
udp_req() { echo ping | bl_in "$1" timeout 3 socat -T1 - "UDP:$2:$3" 2>&1; }
# node_routes I: node I's routes of protocol 149 (ours), one "CIDR via GW" a line.
node_routes() {
	ip -n "${MN_TAG}n$1-node" -4 route show proto 149 | awk '{print $1, $2, $3}' | sort
}
# wait_routes I WANT: until node I's routes are WANT (newline-separated).
wait_routes() {
	for _ in $(seq 100); do
		[ "$(node_routes "$1")" = "$2" ] && return 0
		sleep 0.05
	done
	bl_log "node $1 routes: $(node_routes "$1" | tr '\n' ';') wanted $(tr '\n' ';' <<<"$2")"
	return 1
}

mn_up 3 || { fail "three nodes on one fabric"; exit 1; }
mn_node_objects
for i in 1 2 3; do
	mn_agent_start "$i" || { fail "agent of node $i starts"; exit 1; }
done
pass "three nodes with their own agents and pin directories"

want1=$(printf '10.244.2.0/24 via 192.168.77.2\n10.244.3.0/24 via 192.168.77.3')
want2=$(printf '10.244.1.0/24 via 192.168.77.1\n10.244.3.0/24 via 192.168.77.3')
check "node1 routes the pod CIDRs of node2 and node3 via their InternalIPs" wait_routes 1 "$want1"
check "node2 routes the pod CIDRs of node1 and node3 (never its own)" wait_routes 2 "$want2"
n=$(ls -d /sys/fs/bpf/bpflet/"${MN_TAG}"n[123] 2>/dev/null | wc -l)
[ "$n" = 3 ] && pass "one pin directory per node instance" || fail "pin directories: $n"

mn_use 1
A=$(bl_pod_add a) || { fail "pod a on node1"; exit 1; }
mn_use 2
B=$(bl_pod_add b) || { fail "pod b on node2"; exit 1; }
mn_use 3
C=$(bl_pod_add c) || { fail "pod c on node3"; exit 1; }
case "$A/$B/$C" in
10.244.1.*/10.244.2.*/10.244.3.*) pass "pods got addresses from their node's pod CIDR ($A $B $C)" ;;
*) fail "pod addresses $A $B $C" ;;
esac
mn_use 2
bl_serve_echo b 8080
bl_wait_port b 8080
mn_use 3
bl_serve_echo c 8080
bl_wait_port c 8080
wait_udp c 8080

mn_use 1
out=$(tcp_req a "$B" 8080)
[ "$out" = "b $A" ] && pass "TCP pod a (node1) → pod b (node2): answered, client IP $A kept" ||
	fail "TCP a → b across nodes: '$out'"
out=$(udp_req a "$C" 8080)
[ "$out" = "c $A" ] && pass "UDP pod a (node1) → pod c (node3): answered, client IP $A kept" ||
	fail "UDP a → c across nodes: '$out'"
mn_use 3
out=$(tcp_req c "$B" 8080)
[ "$out" = "b $C" ] && pass "TCP pod c (node3) → pod b (node2): client IP $C kept" ||
	fail "TCP c → b across nodes: '$out'"

# A Node that goes away takes its route with it; one that comes back brings it back.
mn_node_objects 1 2
check "node1 drops the route of a removed Node" wait_routes 1 "10.244.2.0/24 via 192.168.77.2"
mn_use 1
out=$(tcp_req a "$C" 8080)
[ "$out" != "c $A" ] && pass "pod c unreachable from node1 once its Node is gone" ||
	fail "pod c still reachable: '$out'"
mn_node_objects
check "node1 routes node3 again when its Node is back" wait_routes 1 "$want1"
out=$(tcp_req a "$C" 8080)
[ "$out" = "c $A" ] && pass "pod c reachable again from node1" || fail "a → c after re-add: '$out'"

# Routes survive an agent restart and are not rewritten by it; foreign routes are kept.
ip -n "${MN_TAG}n1-node" route add 10.250.0.0/24 via 192.168.77.3
mn_agent_stop 1
check "routes stay while node1's agent is down" wait_routes 1 "$want1"
mn_agent_start 1 || fail "node1 agent restarts"
check "routes unchanged after node1's agent restarts" wait_routes 1 "$want1"
ip -n "${MN_TAG}n1-node" route show 10.250.0.0/24 | grep -q via &&
	pass "a route the agent does not own is left alone" || fail "foreign route removed"

# A Node with a broken podCIDR is reported and skipped, the others stay.
mn_use 1
cat >"$BL_MANIFESTS/bad-node.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: node9}
spec: {podCIDR: 10.244.9.0/99}
status: {addresses: [{type: InternalIP, address: 192.168.77.9}]}
YAML
for _ in $(seq 100); do grep -q "Node node9: spec.podCIDR" "$BL_AGENT_LOG" && break; sleep 0.05; done
grep -q "Node node9: spec.podCIDR" "$BL_AGENT_LOG" && pass "a Node with a bad podCIDR is logged" ||
	fail "no error for node9"
check "routes of good Nodes kept next to a bad one" wait_routes 1 "$want1"

# --cleanup removes the instance's routes.
mn_agent_stop 1
"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" --cleanup \
	>>"$BL_AGENT_LOG" 2>&1
[ -z "$(node_routes 1)" ] && pass "--cleanup removed node1's pod CIDR routes" ||
	fail "routes left: $(node_routes 1)"

bl_summary
