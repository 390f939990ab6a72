#!/usr/bin/env bash
# make bench, north-south: an external client → node1's NodePort → a backend on
# node2, through (a) xdp_uplink (DNAT+SNAT and XDP_TX) and (b) the same forwarding
# done by iptables DNAT + MASQUERADE rules in node1, alternating in one run; medians
# of REPS. TCP request/response rate (tcp_rr) and UDP packets per second received by
# the backend (iperf3, 64-byte datagrams, unlimited rate).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=ns$$
. "$HERE/../../scripts/multinode_lib.sh"
cleanup() {
	ip netns exec "${MN_TAG}n1-node" iptables -t nat -F 2>/dev/null
	mn_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE
REPS=${REPS:-3}
SECS=${SECS:-2}
OUT=${NS_OUT:-$BL_ROOT/build/bench-northsouth.json}
N1=$(mn_ip 1)
N2=$(mn_ip 2)
NODE1=${MN_TAG}n1-node

mn_up 2 || exit 1
mn_node_objects
for i in 1 2; do mn_agent_start "$i" --uplink uplink0 --xdp-mode skb || exit 1; done
mn_use 2
B=$(bl_pod_add b) || exit 1
bl_bg b "$BL_BIN/tcp_rr" -s 7000
bl_bg b iperf3 -s -p 5201
bl_wait_port b 7000
bl_wait_port b 5201
for i in 1 2; do
	cat >"/tmp/bpflet-${MN_TAG}n$i/manifests/ns.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: ns, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.6.1
  ports:
  - {name: rr, port: 7000, protocol: TCP, targetPort: 7000, nodePort: 30090}
  - {name: pt, port: 5201, protocol: TCP, targetPort: 5201, nodePort: 30091}
  - {name: pu, port: 5201, protocol: UDP, targetPort: 5201, nodePort: 30091}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: ns-x, namespace: default, labels: {kubernetes.io/service-name: ns}}
addressType: IPv4
ports: [{name: rr, port: 7000, protocol: TCP}, {name: pt, port: 5201, protocol: TCP}, {name: pu, port: 5201, protocol: UDP}]
endpoints: [{addresses: ["$B"], nodeName: node2, conditions: {ready: true}}]
YAML
done
for i in 1 2; do ip netns exec "${MN_TAG}n$i-node" ping -c1 -W1 "$MN_EXT_IP" >/dev/null 2>&1; done
ip netns exec "$NODE1" ping -c1 -W1 "$N2" >/dev/null 2>&1
for _ in $(seq 50); do
	mn_ext "$BL_BIN/tcp_rr" -c "$N1:30090" -t 0.3 -m rr 2>/dev/null | grep -q transactions && break
	sleep 0.1
done

rr() { mn_ext "$BL_BIN/tcp_rr" -c "$N1:30090" -t "$SECS" -m rr | awk '/transactions_per_second/ {print $2}'; }
pps() {
	mn_ext iperf3 -c "$N1" -p 30091 -u -l 64 -b 0 -t "$SECS" --json 2>/dev/null | python3 -c "
import json,sys
e=json.load(sys.stdin)['end']['sum']
print(int((e['packets']-e['lost_packets'])/e['seconds']))" 2>/dev/null || echo 0
}

# iptables: what kube-proxy's rules do for this NodePort, done by the kernel
iptables_on() {
	mn_agent_stop 1
	"$BL_BIN/bpflet" --instance "${MN_TAG}n1" --netns "/var/run/netns/$NODE1" --cleanup >/dev/null 2>&1
	ip -n "$NODE1" route replace 10.244.2.0/24 via "$N2"
	for p in "tcp 30090 7000" "tcp 30091 5201" "udp 30091 5201"; do
		set -- $p
		ip netns exec "$NODE1" iptables -t nat -A PREROUTING -d "$N1" -p "$1" --dport "$2" \
			-j DNAT --to-destination "$B:$3"
	done
	ip netns exec "$NODE1" iptables -t nat -A POSTROUTING -d "$B" -j MASQUERADE
}
iptables_off() {
	ip netns exec "$NODE1" iptables -t nat -F
	ip netns exec "$NODE1" conntrack -F >/dev/null 2>&1
	mn_agent_start 1 --uplink uplink0 --xdp-mode skb >/dev/null || exit 1
	sleep 0.5
}

: >"$BL_WORK/ns.txt"
for r in $(seq "$REPS"); do
	echo "rr xdp $(rr)" >>"$BL_WORK/ns.txt"
	echo "pps xdp $(pps)" >>"$BL_WORK/ns.txt"
	iptables_on
	echo "rr iptables $(rr)" >>"$BL_WORK/ns.txt"
	echo "pps iptables $(pps)" >>"$BL_WORK/ns.txt"
	[ "$r" = "$REPS" ] || iptables_off
done

python3 - "$BL_WORK/ns.txt" "$OUT" <<'PY'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    f, path, v = line.split()
    runs.setdefault((f, path), []).append(float(v or 0))
res = {}
print(f"{'north-south figure (NodePort → other node)':<48} {'median':>12} {'min..max':>22} {'ratio':>8}")
for f, label in (("rr", "TCP request/response (trans/s)"), ("pps", "UDP 64 B packets/s at the backend")):
    x, i = runs[(f, "xdp")], runs[(f, "iptables")]
    mx, mi = statistics.median(x), statistics.median(i)
    res[f] = {"xdp": x, "iptables": i, "ratio_xdp_to_iptables": mx / mi if mi else 0}
    print(f"{label + ' iptables DNAT+MASQ':<48} {mi:>12.0f} {min(i):>10.0f}..{max(i):<10.0f} {'1.000':>8}")
    print(f"{label + ' bpflet XDP':<48} {mx:>12.0f} {min(x):>10.0f}..{max(x):<10.0f} {mx/mi if mi else 0:>8.3f}")
json.dump(res, open(sys.argv[2], "w"), indent=2)
print(f"results written to {sys.argv[2]}")
PY
