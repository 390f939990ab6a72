#!/usr/bin/env bash
# The benchmark's kube-proxy baselines are real rule sets, not only fast ones: the
# iptables and nftables rules from selftests/bench/kp_rules.py, loaded into a throwaway
# node namespace, must carry real TCP and UDP traffic from a client pod to a ClusterIP,
# spread it over the endpoints, and follow an endpoint change.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/assert.sh"
GEN="$HERE/../bench/kp_rules.py"
T=kpr$$
NODE=$T-node
trap 'cleanup' EXIT
trap 'exit 130' INT TERM HUP PIPE

cleanup() {
	trap '' PIPE INT TERM HUP
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
	for ns in $T-c $T-a $T-b $NODE; do ip netns del "$ns" 2>/dev/null; done
	wait 2>/dev/null
}
PIDS=()
quiet() { "$@" >/dev/null 2>&1; }

for tool in iptables-restore nft python3 socat; do
	command -v $tool >/dev/null || {
		fail "$tool installed (scripts/deps.sh)"
		bl_summary
		exit 1
	}
done

# node with three pods on veths, routed: client 10.244.0.2, backends a .3 and b .4
ip netns add "$NODE"
ip -n "$NODE" link set lo up
ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
i=2
for p in c a b; do
	ip netns add "$T-$p"
	ip -n "$T-$p" link set lo up
	ip link add "k$p$$" netns "$NODE" type veth peer name eth0 netns "$T-$p"
	ip -n "$T-$p" addr add "10.244.0.$i/32" dev eth0
	ip -n "$T-$p" link set eth0 up
	ip -n "$NODE" link set "k$p$$" up
	ip -n "$NODE" addr add 169.254.1.1/32 dev "k$p$$"
	ip -n "$NODE" route add "10.244.0.$i/32" dev "k$p$$"
	ip -n "$T-$p" route add 169.254.1.1/32 dev eth0
	ip -n "$T-$p" route add default via 169.254.1.1 dev eth0
	i=$((i + 1))
done
for p in a b; do
	ip netns exec "$T-$p" socat TCP-LISTEN:7000,fork,reuseaddr SYSTEM:"echo $p" >/dev/null 2>&1 &
	PIDS+=($!)
	ip netns exec "$T-$p" socat UDP-RECVFROM:7000,fork SYSTEM:"echo $p" >/dev/null 2>&1 &
	PIDS+=($!)
done
for _ in $(seq 100); do
	ip netns exec "$T-b" ss -ltn 'sport = :7000' | grep -q LISTEN &&
		ip netns exec "$T-a" ss -ltn 'sport = :7000' | grep -q LISTEN && break
	sleep 0.05
done
out=$(ip netns exec "$T-c" timeout 3 socat -T2 - TCP:10.244.0.3:7000,connect-timeout=2 </dev/null 2>&1)
[ "$out" = a ] && pass "direct pod path works (a answered)" || fail "direct pod path: '$out'"

# 5 Services; the last one (10.97.0.5, port 80/TCP and 53/UDP) points at a and b
ARGS=(--services 5 --endpoints 2 --target-eps 10.244.0.3,10.244.0.4)
VIP=10.97.0.5

# spread TCP-REQS: prints "a b" letters seen over 30 TCP connections, or "fail"
spread() {
	local seen="" out n
	for n in $(seq 30); do
		out=$(ip netns exec "$T-c" timeout 3 socat -T2 - "TCP:$VIP:80,connect-timeout=2" </dev/null 2>&1)
		case "$out" in a | b) [[ "$seen" == *"$out"* ]] || seen="$seen$out" ;; *) echo fail && return ;; esac
	done
	echo "$seen" | fold -w1 | sort | tr -d '\n'
}
# udp_req: one datagram's answer; up to 3 tries, as a resolver would (socat's forking
# UDP server, forking a shell per datagram, can miss the 1 s wait on a loaded machine)
udp_req() {
	local out
	for _ in 1 2 3; do
		out=$(echo x | ip netns exec "$T-c" timeout 3 socat -T1 - "UDP:$VIP:53" 2>&1)
		[ -n "$out" ] && break
	done
	echo "$out"
}

# check_dataplane NAME: traffic through whichever rule set is loaded
check_dataplane() {
	local name=$1 got
	got=$(spread)
	[ "$got" = ab ] && pass "$name: 30 TCP connections to $VIP:80 all answered, both endpoints used" ||
		fail "$name: TCP through the ClusterIP saw '$got'"
	got=$(udp_req)
	[[ "$got" == a || "$got" == b ]] && pass "$name: UDP to $VIP:53 answered by an endpoint ($got)" ||
		fail "$name: UDP through the ClusterIP: '$got'"
}

# iptables: the jumps once, then kube-proxy's full sync and one partial sync
python3 "$GEN" iptables-base --services 5 | ip netns exec "$NODE" iptables-restore --noflush &&
	python3 "$GEN" iptables full "${ARGS[@]}" | ip netns exec "$NODE" iptables-restore --noflush
check "iptables: kube-proxy's full ruleset loads with iptables-restore --noflush" \
	quiet ip netns exec "$NODE" iptables -t nat -S KUBE-SERVICES
n=$(ip netns exec "$NODE" iptables -t nat -S | grep -c -- '-j KUBE-SEP-')
[ "$n" = 12 ] && pass "iptables: 12 endpoint jumps (5 Services, 6 ports, 2 endpoints)" ||
	fail "iptables: $n endpoint jumps"
check_dataplane iptables
python3 "$GEN" iptables change "${ARGS[@]}" --drop-last | ip netns exec "$NODE" iptables-restore --noflush
got=$(spread)
[ "$got" = a ] && pass "iptables: after the change drops b, 30 connections all reach a" ||
	fail "iptables: after dropping b saw '$got'"
n=$(ip netns exec "$NODE" iptables -t nat -S | grep -c '^-N KUBE-SEP-')
[ "$n" = 10 ] && pass "iptables: the stale endpoint chains were deleted (10 left)" ||
	fail "iptables: $n KUBE-SEP chains after the change"
python3 "$GEN" iptables change "${ARGS[@]}" | ip netns exec "$NODE" iptables-restore --noflush
ip netns exec "$NODE" nft flush ruleset
out=$(ip netns exec "$T-c" timeout 3 socat -T2 - "TCP:$VIP:80,connect-timeout=1" </dev/null 2>&1)
[ "$out" != a ] && [ "$out" != b ] && pass "without rules the ClusterIP does not answer" ||
	fail "ClusterIP answered without rules: '$out'"

# nftables: kube-proxy's table, then one change transaction
python3 "$GEN" nftables full "${ARGS[@]}" | ip netns exec "$NODE" nft -f -
check "nftables: kube-proxy's table loads with nft -f" \
	quiet ip netns exec "$NODE" nft list map ip kube-proxy service-ips
check_dataplane nftables
python3 "$GEN" nftables change "${ARGS[@]}" --drop-last | ip netns exec "$NODE" nft -f -
got=$(spread)
[ "$got" = a ] && pass "nftables: after the change drops b, 30 connections all reach a" ||
	fail "nftables: after dropping b saw '$got'"
python3 "$GEN" nftables full "${ARGS[@]}" | ip netns exec "$NODE" nft -f - &&
	got=$(spread) && [ "$got" = ab ] && pass "nftables: a second full sync restores both endpoints" ||
	fail "nftables: second full sync: '${got:-}'"
ip netns exec "$NODE" nft flush ruleset

bl_summary
