#!/usr/bin/env bash
# North-south through xdp_uplink on two nodes and an external client: NodePort to a
# local backend (client IP kept) and to a remote one (SNAT to the node, sent straight
# back out), LoadBalancer ingress IP, externalIP, externalTrafficPolicy Local (kept
# client IP; dropped on a node without endpoint), no endpoints (refused), UDP (also
# fragmented, and the backend's port unreachable translated back), a pod reaching a ClusterIP whose backend is on the other node (its reply
# reverse-NATed on the uplink), an agent restart under an open connection, and
# --cleanup detaching.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=up$$
. "$HERE/../../scripts/multinode_lib.sh"
. "$HERE/assert.sh"
trap 'mn_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

N1=$(mn_ip 1)
N2=$(mn_ip 2)
EXT=$MN_EXT_IP
LBIP=192.168.77.200
EIP=192.168.77.201
# native XDP (what the agent defaults to); BL_XDP_MODE=skb runs it on generic XDP
XDP_MODE=${BL_XDP_MODE:-native}

ext_udp() { echo ping | mn_ext timeout 3 socat -T1 - "UDP:$1:$2" 2>&1 | head -1; }

# svc NAME TYPE NODEPORT EXTRA-SPEC ENDPOINT...: ENDPOINT is IP/NODE (TCP+UDP port 8080)
svc() {
	local name=$1 type=$2 np=$3 extra=$4 f ip node i
	shift 4
	for i in 1 2; do
		f=/tmp/bpflet-${MN_TAG}n$i/manifests/$name.yaml
		{
			cat <<YAML
apiVersion: v1
kind: Service
metadata: {name: $name, namespace: default}
spec:
  type: $type
  clusterIP: 10.96.5.$((np - 30000))
  $extra
  ports:
  - {name: t, port: 80, protocol: TCP, targetPort: 8080, nodePort: $np}
  - {name: u, port: 80, protocol: UDP, targetPort: 8080, nodePort: $np}
YAML
			[ "$type" = LoadBalancer ] && echo "status: {loadBalancer: {ingress: [{ip: $LBIP}]}}"
			cat <<YAML
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $name-x, namespace: default, labels: {kubernetes.io/service-name: $name}}
addressType: IPv4
ports: [{name: t, port: 8080, protocol: TCP}, {name: u, port: 8080, protocol: UDP}]
endpoints:
YAML
			for e in "$@"; do
				IFS=/ read -r ip node <<<"$e"
				echo "  - {addresses: [\"$ip\"], nodeName: $node, conditions: {ready: true}}"
			done
			[ $# -gt 0 ] || echo "  []"
		} >"$f.tmp"
		mv "$f.tmp" "$f"
	done
}

# wait_ext HOST PORT WANT: until the external client's TCP answer is WANT
wait_ext() {
	local got
	for _ in $(seq 8); do
		got=$(mn_ext_tcp "$1" "$2")
		[ "$got" = "$3" ] && return 0
		sleep 0.1
	done
	bl_log "$1:$2 answered '$got', wanted '$3'"
	return 1
}


mn_up_uplink 2 "$XDP_MODE" || { fail "two nodes with xdp_uplink and an external client"; exit 1; }
ip -n "${MN_TAG}n1-node" link show uplink0 | grep -q "xdp" &&
	pass "xdp_uplink attached to node1's uplink0 ($XDP_MODE)" || fail "no XDP program on uplink0"
mn_use 1
A=$(bl_pod_add a) || { fail "pod a on node1"; exit 1; }
bl_serve_echo a 8080
bl_wait_port a 8080
mn_use 2
B=$(bl_pod_add b) || { fail "pod b on node2"; exit 1; }
bl_serve_echo b 8080
bl_bg b socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat
bl_wait_port b 8080
bl_wait_port b 9000
# an upstream router's view: the LoadBalancer IP and the externalIP lead to node1
mn_ext ip route add "$LBIP/32" via "$N1"
mn_ext ip route add "$EIP/32" via "$N1"
# the nodes know each other's and the client's MAC before the first translated packet
for i in 1 2; do ip netns exec "${MN_TAG}n$i-node" ping -c1 -W1 "$EXT" >/dev/null 2>&1; done
ip netns exec "${MN_TAG}n1-node" ping -c1 -W1 "$N2" >/dev/null 2>&1

svc loc NodePort 30081 "" "$A/node1"
svc rem NodePort 30082 "" "$B/node2"
check "NodePort → local backend: answered, the pod sees the client's own IP" \
	wait_ext "$N1" 30081 "a $EXT"
check "NodePort on node1 → backend on node2: answered via SNAT to node1 ($N1)" \
	wait_ext "$N1" 30082 "b $N1"
[ "$(mn_counter 1 xdp_tx_remote)" -gt 0 ] && pass "node1 sent the remote flow back out from XDP" ||
	fail "xdp_tx_remote counter did not move"
out=$(ext_udp "$N1" 30082)
[ "$out" = "b $N1" ] && pass "UDP NodePort → remote backend answered ('$out')" || fail "UDP remote: '$out'"
out=$(ext_udp "$N1" 30081)
[ "$out" = "a $EXT" ] && pass "UDP NodePort → local backend keeps the client IP" || fail "UDP local: '$out'"
# 3000 bytes: three fragments; the later two follow the first's translation at XDP
# (left to the kernel they would reach node1's own, closed, port)
out=$(mn_ext python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('$N1', 30082))
s.send(b'z' * 3000)
try: print(s.recv(100).decode().strip())
except OSError as e: print(e)" 2>&1)
n=$(mn_counter 1 fragment_translated)
[ "$out" = "b $N1" ] && [ "${n:-0}" -ge 2 ] &&
	pass "a fragmented UDP datagram → remote backend answered (fragment_translated $n)" ||
	fail "fragmented UDP NodePort: '$out', fragment_translated ${n:-?}"

# ext_refused HOST PORT: the external client's connected UDP socket after sending to
# HOST:PORT: "refused" (ECONNREFUSED: a port unreachable it could match), "timeout", ...
ext_refused() {
	local out=timeout
	for _ in $(seq 10); do
		out=$(mn_ext python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
s.connect(('$1', $2))
s.send(b'x')
try: s.recv(100); print('answered')
except ConnectionRefusedError: print('refused')
except socket.timeout: print('timeout')" 2>&1)
		[ "$out" = refused ] && break
	done
	echo "$out"
}
# no UDP listener on 9999: the backend's port unreachable must reach the client as the
# NodePort's own. From b (node2) it comes to node1 about node1's port (SNAT) and is
# translated at XDP; from a (node1) tc_pod translates it and sends it out.
mn_nodeport closed 10.96.5.89 "$B" node2 u/UDP/80/9999/30089
mn_nodeport closedl 10.96.5.80 "$A" node1 u/UDP/80/9999/30080
out=$(ext_refused "$N1" 30089)
[ "$out" = refused ] && [ "$(mn_counter 1 icmp_error_translated)" -gt 0 ] &&
	pass "the remote backend's port unreachable reached the client translated (refused)" ||
	fail "ICMP error of an SNATed flow: '$out', icmp_error_translated $(mn_counter 1 icmp_error_translated)"
out=$(ext_refused "$N1" 30080)
[ "$out" = refused ] && pass "the local backend's port unreachable reached the client translated" ||
	fail "ICMP error of a local north-south flow: '$out'"

svc both NodePort 30083 "" "$A/node1" "$B/node2"
wait_ext "$N2" 30083 "b $EXT" >/dev/null 2>&1 || wait_ext "$N2" 30083 "a $N2" >/dev/null
got=$(for _ in $(seq 24); do mn_ext_tcp "$N2" 30083; done | sort -u | tr '\n' ',')
[ "$got" = "a $N2,b $EXT," ] && pass "24 connections to node2's NodePort reach both backends ($got)" ||
	fail "both backends via node2: '$got'"

svc lb LoadBalancer 30084 "externalIPs: [$EIP]" "$B/node2"
check "LoadBalancer ingress IP answered" wait_ext "$LBIP" 80 "b $N1"
check "externalIP answered" wait_ext "$EIP" 80 "b $N1"
check "the same Service's NodePort answers too" wait_ext "$N2" 30084 "b $EXT"

rm -f /tmp/bpflet-${MN_TAG}n[12]/manifests/lb.yaml # lbr takes over the LoadBalancer IP
svc lbr LoadBalancer 30088 "loadBalancerSourceRanges: [\"$EXT/32\"]" "$B/node2"
check "loadBalancerSourceRanges containing the client: admitted" wait_ext "$LBIP" 80 "b $N1"
before=$(mn_counter 1 drop_source_range)
svc lbr LoadBalancer 30088 "loadBalancerSourceRanges: [10.0.0.0/8]" "$B/node2"
for _ in $(seq 50); do
	[ "$(mn_ext_tcp "$LBIP" 80)" = timeout ] && break
done
after=$(mn_counter 1 drop_source_range)
[ "$(mn_ext_tcp "$LBIP" 80)" = timeout ] && [ "$after" -gt "$before" ] &&
	pass "a client outside loadBalancerSourceRanges is dropped at XDP (counted $before → $after)" ||
	fail "source range drop: drops $before → $after"
rm -f /tmp/bpflet-${MN_TAG}n[12]/manifests/lbr.yaml

svc etp NodePort 30085 "externalTrafficPolicy: Local" "$A/node1"
check "ETP Local on the endpoint's node: client IP kept" wait_ext "$N1" 30085 "a $EXT"
before=$(mn_counter 2 drop_no_local_endpoint)
got=$(mn_ext_tcp "$N2" 30085)
after=$(mn_counter 2 drop_no_local_endpoint)
[ "$got" = timeout ] && [ "$after" -gt "$before" ] &&
	pass "ETP Local on a node without endpoint: dropped at XDP and counted" ||
	fail "ETP Local elsewhere: '$got' (drops $before → $after)"

svc none NodePort 30086 ""
check "NodePort without endpoints: refused at once" wait_ext "$N1" 30086 refused

# east-west across nodes: the reply comes in on node1's uplink and is reverse-NATed there
mn_use 1
out=$(bl_in a timeout 3 socat -T2 - "TCP:10.96.5.82:80,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "b $A" ] && pass "pod a → ClusterIP with its backend on node2: answered, client IP kept" ||
	fail "cross-node ClusterIP: '$out'"

# pods reach NodePorts and external addresses too (tc_pod's external lookup)
out=$(bl_in a timeout 3 socat -T2 - "TCP:$N1:30082,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "b $A" ] && pass "pod a → its own node's NodePort (backend on node2): answered" ||
	fail "pod → NodePort: '$out'"
out=$(bl_in a timeout 3 socat -T2 - "TCP:$N2:30082,connect-timeout=2" </dev/null 2>&1)
[ "$out" = "b $A" ] && pass "pod a → node2's NodePort (served by node2's XDP): answered" ||
	fail "pod → other node's NodePort: '$out'"

# a second XDP program beside ours through libxdp (needs its dispatcher: freplace)
mn_use 1
ip netns exec "$BL_NODE" "$BL_BIN/xdp_second" attach uplink0 "$BL_ROOT/build/bpf/pass.bpf.o" \
	"$XDP_MODE" >"$BL_WORK/second.log" 2>&1
case $? in
0)
	check "with a second XDP program attached, the NodePort still answers" \
		wait_ext "$N1" 30081 "a $EXT"
	ip netns exec "$BL_NODE" "$BL_BIN/xdp_second" detach uplink0 \
		"$BL_ROOT/build/bpf/pass.bpf.o" "$XDP_MODE" >/dev/null 2>&1
	check "and after it left, too" wait_ext "$N1" 30081 "a $EXT"
	;;
3) echo "skip - second XDP program: not run here ($(tail -1 "$BL_WORK/second.log"))" ;;
*) fail "second XDP program: $(tail -1 "$BL_WORK/second.log")" ;;
esac
check "our program is still the one on uplink0" wait_ext "$N1" 30081 "a $EXT"

# an open north-south connection (remote backend, SNAT) across an agent restart
mn_nodeport hold 10.96.5.87 "$B" node2 h/TCP/80/9000/30087
hold_out=/tmp/bpflet-${MN_TAG}n1/hold.out
for _ in $(seq 50); do
	mn_ext timeout 2 socat -T1 - "TCP:$N1:30087,connect-timeout=1" <<<"x" 2>/dev/null | grep -q x && break
	sleep 0.1
done
mn_ext python3 - "$N1" >"$hold_out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection((sys.argv[1], 30087), timeout=3)
s.sendall(b"one\n"); first = s.recv(64)
time.sleep(3)
s.sendall(b"two\n"); second = s.recv(64)
print(first.decode().strip(), second.decode().strip())
PY
holder=$!
sleep 0.5
mn_agent_stop 1
mn_agent_start 1 --uplink uplink0 --xdp-mode "$XDP_MODE" || fail "node1's agent restarts"
wait "$holder"
[ "$(cat "$hold_out")" = "one two" ] &&
	pass "an open NodePort connection (SNAT path) survives the agent's restart" ||
	fail "connection across restart: '$(cat "$hold_out")'"
grep -q "xdp_uplink attached to uplink0" "/tmp/bpflet-${MN_TAG}n1/agent.log" &&
	[ "$(grep -c "xdp_uplink attached" "/tmp/bpflet-${MN_TAG}n1/agent.log")" = 2 ] &&
	pass "the restarted agent swapped its XDP program in place" || fail "restart attach log"

mn_agent_stop 1
mn_use 1
"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" --cleanup >/dev/null 2>&1
ip -n "$BL_NODE" link show uplink0 | grep -q xdp && fail "--cleanup left XDP on uplink0" ||
	pass "--cleanup detached xdp_uplink from uplink0"

bl_summary
