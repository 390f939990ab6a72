#!/usr/bin/env bash
# --lb-mode dsr on two nodes: an external client reaches node1's NodePort, the backend
# runs on node2; node1 sends the packet there in IPIP, node2 unwraps it and the pod
# answers the client directly from node2 with node1's NodePort as source. The backend
# sees the client's own address; node1 keeps no reply entry. TCP, UDP, many flows, and
# a 4 MB upload in full-size segments (the backend's node clamps the MSS of its SYN-ACK
# by the 20 bytes IPIP adds, else they would not fit the tunnel), and path MTU discovery
# for a datagram too big for the tunnel (node1 answers ICMP frag-needed).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=ds$$
. "$HERE/../../scripts/multinode_lib.sh"
. "$HERE/assert.sh"
trap 'mn_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

N1=$(mn_ip 1)
EXT=$MN_EXT_IP
XDP_MODE=${BL_XDP_MODE:-native}


mn_up_uplink 2 "$XDP_MODE" --lb-mode dsr ||
	{ fail "two nodes with xdp_uplink --lb-mode dsr and an external client"; exit 1; }
grep -q "xdp_uplink attached to uplink0 (.* mode, DSR)" "/tmp/bpflet-${MN_TAG}n1/agent.log" &&
	pass "xdp_uplink attached in DSR mode" || fail "attach log"
mn_use 2
B=$(bl_pod_add b) || { fail "pod b on node2"; exit 1; }
bl_serve_echo b 8080
bl_bg b socat TCP-LISTEN:9001,fork,reuseaddr SYSTEM:"sha256sum"
bl_wait_port b 8080
bl_wait_port b 9001
mn_nodeport d 10.96.7.1 "$B" node2 t/TCP/80/8080/30100 u/UDP/80/8080/30100 big/TCP/81/9001/30101
for i in 1 2; do ip netns exec "${MN_TAG}n$i-node" ping -c1 -W1 "$EXT" >/dev/null 2>&1; done
ip netns exec "${MN_TAG}n1-node" ping -c1 -W1 "$(mn_ip 2)" >/dev/null 2>&1

got=timeout
for _ in $(seq 10); do
	got=$(mn_ext_tcp "$N1" 30100)
	[ "$got" = "b $EXT" ] && break
	sleep 0.2
done
[ "$got" = "b $EXT" ] && pass "DSR NodePort → node2's backend: answered, the pod sees the client's IP" ||
	fail "DSR TCP: '$got'"
got=$(for _ in $(seq 10); do mn_ext_tcp "$N1" 30100; done | sort -u | tr '\n' ,)
[ "$got" = "b $EXT," ] && pass "10 more connections all answered" || fail "DSR flows: '$got'"
out=$(echo ping | mn_ext timeout 3 socat -T1 - "UDP:$N1:30100" 2>&1 | head -1)
[ "$out" = "b $EXT" ] && pass "DSR UDP answered with the client's IP kept" || fail "DSR UDP: '$out'"
[ "$(mn_counter 2 dsr_unwrapped)" -gt 0 ] && pass "node2 unwrapped the IPIP packets at XDP" ||
	fail "dsr_unwrapped on node2: $(mn_counter 2 dsr_unwrapped)"
# full-size segments through the tunnel: 4 MB up, its digest back
big=/tmp/bpflet-${MN_TAG}n1/big.bin
head -c 4000000 /dev/urandom >"$big"
want=$(sha256sum <"$big" | cut -d' ' -f1)
got=$(mn_ext timeout 15 socat -t5 -T10 - "TCP:$N1:30101,connect-timeout=2" <"$big" 2>/dev/null |
	cut -d' ' -f1)
[ "$got" = "$want" ] && pass "a 4 MB upload over DSR arrived whole (sha256 matches)" ||
	fail "DSR upload: digest '${got:-none}', want $want"

# a datagram that the tunnel would push past the MTU: node1 answers ICMP frag-needed
# and the client's kernel learns the path MTU (its next send of that size is refused)
out=$(mn_ext python3 - "$N1" <<'PY' 2>&1
import socket, sys, time
IP_MTU_DISCOVER, IP_PMTUDISC_DO, IP_MTU = 10, 2, 14
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.IPPROTO_IP, IP_MTU_DISCOVER, IP_PMTUDISC_DO)
s.connect((sys.argv[1], 30100))
s.send(b"x" * 1472)
time.sleep(0.5)
try:
    s.send(b"x" * 1472)
    print("sent", s.getsockopt(socket.IPPROTO_IP, IP_MTU))
except OSError as e:
    print("refused" if e.errno == 90 else e, s.getsockopt(socket.IPPROTO_IP, IP_MTU))
PY
)
[ "$out" = "refused 1480" ] &&
	pass "a 1500-byte DF datagram got ICMP frag-needed: the client's path MTU is now 1480" ||
	fail "path MTU discovery over DSR: '$out'"
[ "$(mn_counter 1 dsr_icmp_frag_needed)" -gt 0 ] && pass "node1 counted dsr_icmp_frag_needed" ||
	fail "dsr_icmp_frag_needed on node1: $(mn_counter 1 dsr_icmp_frag_needed)"

mn_use 1
n=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list |
	python3 -c "import json,sys; print(sum(1 for e in json.load(sys.stdin) if e['direction']=='reply'))")
[ "$n" = 0 ] && pass "node1 holds no reply entries: replies never come back through it" ||
	fail "node1 reply entries: $n"

bl_summary
