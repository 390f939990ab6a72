#!/usr/bin/env bash
# bpflet-cni against real namespaces, as a runtime calls it: a node namespace, two pod
# namespaces, a fake agent on the instance's socket that records every request.
# Needs root, iproute2 and python3. Everything it creates carries this run's pid and is
# removed by the EXIT trap, also after a failure.
#   BPFLET_CNI=path/to/bpflet-cni bash selftests/cni/test_cni.sh
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PLUGIN=$(realpath "${BPFLET_CNI:-$ROOT/build/bin/bpflet-cni}" 2>/dev/null)
TAG=blcni$$
NODE=$TAG-node
INSTANCE=cnitest$$
SOCK_DIR=/run/bpflet/$INSTANCE
WORK=$(mktemp -d "/tmp/bpflet-cni-$$.XXXXXX")
DATA=$WORK/ipam
CIDR=10.244.0.0/24
AGENT_PID=
PASS=0
FAIL=0

cleanup() {
	[ -n "$AGENT_PID" ] && kill "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
	for ns in "$TAG-a" "$TAG-b" "$NODE"; do
		ip netns del "$ns" 2>/dev/null
	done
	rm -rf "$WORK" "$SOCK_DIR"
	rmdir /run/bpflet 2>/dev/null
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
# check DESCRIPTION CMD...: one line per check
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else ko "$what"; fi
}
finish() {
	echo "$PASS passed, $FAIL failed"
	[ "$FAIL" -eq 0 ]
	exit
}

if [ "$(id -u)" != 0 ] || [ ! -x "$PLUGIN" ]; then
	ko "needs root and the plugin at ${BPFLET_CNI:-$ROOT/build/bin/bpflet-cni}"
	finish
fi

conf() {
	cat <<JSON
{"cniVersion":"1.0.0","name":"bpflet","type":"bpflet-cni","instance":"$INSTANCE",
 "podCIDR":"$CIDR","mtu":1450,"dataDir":"$DATA"}
JSON
}

# cni CMD POD [config]: the plugin inside the node namespace; its stdout in $OUT
cni() {
	local cmd=$1 pod=$2 cfg=${3:-$(conf)}
	OUT=$(ip netns exec "$NODE" env -i PATH="$PATH" CNI_COMMAND="$cmd" \
		CNI_CONTAINERID="ctr-$TAG-$pod" CNI_NETNS="/var/run/netns/$TAG-$pod" \
		CNI_IFNAME=eth0 CNI_PATH="$(dirname "$PLUGIN")" \
		CNI_ARGS="IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=$pod" \
		"$PLUGIN" <<<"$cfg" 2>>"$WORK/stderr")
}

# jq-less JSON access: json EXPR reads $OUT as d
json() { python3 -c "import json,sys; d=json.loads(sys.argv[1]); print($1)" "$OUT" 2>/dev/null; }

# A fake agent: answers {"ok":true} (or a refusal while $WORK/refuse exists) and
# appends every request line to $WORK/requests.
start_agent() {
	mkdir -p "$SOCK_DIR"
	python3 - "$SOCK_DIR/agent.sock" "$WORK" <<'PY' &
import os, socket, sys
path, work = sys.argv[1], sys.argv[2]
if os.path.exists(path):
    os.unlink(path)
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(16)
open(work + "/agent.ready", "w").close()
while True:
    c, _ = s.accept()
    line = c.makefile("rb").readline()
    with open(work + "/requests", "ab") as f:
        f.write(line)
    if os.path.exists(work + "/refuse"):
        c.sendall(b'{"ok":false,"error":"refused by the test"}\n')
    else:
        c.sendall(b'{"ok":true}\n')
    c.close()
PY
	AGENT_PID=$!
	for _ in $(seq 100); do
		[ -e "$WORK/agent.ready" ] && return 0
		sleep 0.05
	done
	return 1
}
stop_agent() {
	kill "$AGENT_PID" 2>/dev/null
	wait "$AGENT_PID" 2>/dev/null
	AGENT_PID=
	rm -f "$SOCK_DIR/agent.sock" "$WORK/agent.ready"
}

# last_request FIELD: a field of the last request the fake agent received
last_request() {
	tail -n1 "$WORK/requests" | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"
}

# ping4 POD DST: one ICMP echo; iputils ping if present, raw socket otherwise
ping4() {
	if command -v ping >/dev/null; then
		ip netns exec "$TAG-$1" ping -c1 -W2 "$2"
		return
	fi
	ip netns exec "$TAG-$1" python3 - "$2" <<'PY'
import os, socket, struct, sys, time
dst = sys.argv[1]
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
s.settimeout(0.5)
ident = os.getpid() & 0xFFFF
def csum(b):
    t = sum(struct.unpack("!%dH" % (len(b) // 2), b))
    t = (t >> 16) + (t & 0xFFFF)
    return ~(t + (t >> 16)) & 0xFFFF
pkt = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"bpflet-cni"
pkt = pkt[:2] + struct.pack("!H", csum(pkt)) + pkt[4:]
s.sendto(pkt, (dst, 0))
end = time.time() + 2
while time.time() < end:
    try:
        data, addr = s.recvfrom(2048)
    except socket.timeout:
        continue
    ihl = (data[0] & 15) * 4
    if addr[0] == dst and data[ihl] == 0 and struct.unpack("!H", data[ihl + 4:ihl + 6])[0] == ident:
        sys.exit(0)
sys.exit(1)
PY
}

tx_csum_is_off() { # NS IFNAME
	ip netns exec "$1" ethtool -k "$2" | grep -q '^tx-checksumming: off'
}

allocations() { find "$DATA" -maxdepth 1 -name '[0-9]*' 2>/dev/null | wc -l; }

# ---- setup ----
ip netns add "$NODE" && ip netns add "$TAG-a" && ip netns add "$TAG-b" || {
	ko "namespaces $NODE, $TAG-a, $TAG-b"
	finish
}
ip -n "$NODE" link set lo up
ip netns exec "$NODE" sysctl -qw net.ipv4.ip_forward=1
check "fake agent listening on $SOCK_DIR/agent.sock" start_agent

# ---- VERSION and input errors ----
OUT=$(CNI_COMMAND=VERSION "$PLUGIN" </dev/null)
check "VERSION lists 0.4.0 and 1.0.0" \
	test "$(json 'd["cniVersion"], d["supportedVersions"]')" = "1.0.0 ['0.4.0', '1.0.0']"
cni ADD a '{"cniVersion":"1.0.0"'
check "ADD with broken JSON: exit non-zero, code 6" test $? -ne 0 -a "$(json 'd["code"]')" = 6
cni ADD a '{"cniVersion":"1.0.0","name":"x","type":"bpflet-cni","podCIDR":"10.244.0.0/24"}'
check "ADD without instance: code 7 naming \"instance\"" \
	test "$(json 'd["code"], "instance" in d["msg"]')" = "7 True"
OUT=$(ip netns exec "$NODE" env -i CNI_COMMAND=ADD CNI_CONTAINERID=x CNI_IFNAME=eth0 \
	"$PLUGIN" <<<"$(conf)" 2>/dev/null)
check "ADD without CNI_NETNS: code 4 naming CNI_NETNS" \
	test "$(json 'd["code"], "CNI_NETNS" in d["msg"]')" = "4 True"

# ---- ADD ----
cni ADD a
check "ADD pod a succeeds" test $? -eq 0
A_OUT=$OUT
IP_A=$(json 'd["ips"][0]["address"].split("/")[0]')
H_A=$(json 'd["interfaces"][0]["name"]')
check "pod a got 10.244.0.2/32 via 169.254.1.1 on interface 1" \
	test "$(json 'd["ips"][0]["address"], d["ips"][0]["gateway"], d["ips"][0]["interface"]')" = \
	"10.244.0.2/32 169.254.1.1 1"
check "result: container interface eth0 with sandbox and mac, default route, dns" \
	test "$(json 'd["interfaces"][1]["name"], d["interfaces"][1]["sandbox"], len(d["interfaces"][1]["mac"]), d["routes"], d["dns"]')" = \
	"eth0 /var/run/netns/$TAG-a 17 [{'dst': '0.0.0.0/0'}] {}"
cni ADD b
check "ADD pod b succeeds" test $? -eq 0
IP_B=$(json 'd["ips"][0]["address"].split("/")[0]')
H_B=$(json 'd["interfaces"][0]["name"]')
check "pod b got the next address ($IP_B)" test "$IP_B" = 10.244.0.3
host_names_ok() { [[ $H_A =~ ^bl[0-9a-f]{11}$ && $H_B =~ ^bl[0-9a-f]{11}$ && $H_A != "$H_B" ]]; }
check "host veth names are bl+11 hex ($H_A, $H_B)" host_names_ok

# ---- what ADD built ----
check "pod a: eth0 up with $IP_A/32, mtu 1450" \
	bash -c "ip -n $TAG-a -o addr show dev eth0 | grep -q 'inet $IP_A/32' &&
		 ip -n $TAG-a link show eth0 | grep -q 'mtu 1450.*state UP'"
check "pod a: lo up" bash -c "ip -n $TAG-a link show lo | grep -q UP"
check "pod a: 169.254.1.1 dev eth0 scope link" \
	bash -c "ip -n $TAG-a route show 169.254.1.1 | grep -q 'dev eth0 .*scope link'"
check "pod a: default via 169.254.1.1 dev eth0" \
	bash -c "ip -n $TAG-a route show default | grep -q 'default via 169.254.1.1 dev eth0'"
check "node: $H_A up, route $IP_A/32 dev $H_A scope link" \
	bash -c "ip -n $NODE link show $H_A | grep -q 'state UP' &&
		 ip -n $NODE route show $IP_A/32 | grep -q 'dev $H_A .*scope link'"
node_sysctl() { ip netns exec "$NODE" cat "/proc/sys/net/ipv4/$1"; }
check "node: proxy_arp on $H_A and $H_B, answering without delay" \
	test "$(node_sysctl "conf/$H_A/proxy_arp") $(node_sysctl "conf/$H_B/proxy_arp") $(node_sysctl "neigh/$H_A/proxy_delay")" = "1 1 0"
if command -v ethtool >/dev/null; then
	check "tx checksum offload off on $H_A and on pod a's eth0" \
		bash -c "$(declare -f tx_csum_is_off); tx_csum_is_off $NODE $H_A && tx_csum_is_off $TAG-a eth0"
fi
check "agent told: op add, $H_A and its ifindex, $IP_A, pod default/a, its netns" \
	test "$(grep '"ctr-'"$TAG"'-a"' "$WORK/requests" | tail -n1 | python3 -c "import json,sys
r=json.load(sys.stdin); print(r['op'], r['ifname'], r['ip'], r['pod_namespace'], r['pod_name'], r['netns'], r['ifindex'])")" = \
	"add $H_A $IP_A default a /var/run/netns/$TAG-a $(ip netns exec "$NODE" cat "/sys/class/net/$H_A/ifindex" 2>/dev/null ||
		ip -n "$NODE" -o link show "$H_A" | cut -d: -f1)"

# ---- traffic through the node ----
check "ping pod a -> pod b ($IP_B)" ping4 a "$IP_B"
check "ping pod b -> pod a ($IP_A)" ping4 b "$IP_A"
# Without the pod's static neighbour entry the node's proxy_arp must answer; that needs
# a route for 169.254.1.1 on the node, as any node with a default route has.
ip -n "$NODE" link add "$TAG-up0" type veth peer name "$TAG-up1" 2>/dev/null
ip -n "$NODE" link set "$TAG-up0" up && ip -n "$NODE" link set "$TAG-up1" up
ip -n "$NODE" route add default dev "$TAG-up0"
ip -n "$TAG-a" neigh del 169.254.1.1 dev eth0
check "proxy_arp: pod a resolves 169.254.1.1 to $H_A's mac and pings pod b" \
	bash -c "$(declare -f ping4); TAG=$TAG; ping4 a $IP_B &&
		 ip -n $TAG-a neigh show 169.254.1.1 | grep -q \$(ip -n $NODE -br link show $H_A | awk '{print \$3}')"

# ---- idempotence, CHECK ----
cni ADD a
check "repeated ADD for pod a keeps $IP_A" test "$(json 'd["ips"][0]["address"]')" = "$IP_A/32"
check "two allocations on disk" test "$(allocations)" = 2
cni CHECK a
RC=$?
check "CHECK pod a succeeds" test "$RC" -eq 0
check "CHECK pod a asked the agent" grep -q '"op":"check"' "$WORK/requests"
ip -n "$TAG-b" addr flush dev eth0
cni CHECK b
RC=$?
check "CHECK pod b without its address fails naming the problem" \
	test "$RC" -ne 0 -a "$(json '"lost its address" in d["msg"]')" = True

# ---- failures undo everything ----
host_veths() { ip -n "$NODE" -o link show | grep -cE '^[0-9]+: bl[0-9a-f]{11}[@:]'; }
refused_cleanly() {
	[ "$(host_veths)" = 2 ] && [ "$(ip -n "$TAG-c" -o link show | wc -l)" = 1 ] &&
		[ "$(allocations)" = 2 ]
}
ip netns add "$TAG-c"
touch "$WORK/refuse"
cni ADD c
RC=$?
rm -f "$WORK/refuse"
check "ADD refused by the agent: error naming the refusal" \
	test "$RC" -ne 0 -a "$(json '"refused by the test" in d["msg"]')" = True
check "refused ADD left no veth and no allocation" refused_cleanly
stop_agent
cni ADD c
RC=$?
check "ADD with the agent down: code 11 (try again later), rolled back" \
	test "$RC" -ne 0 -a "$(json 'd["code"]')" = 11 -a "$(allocations)" = 2
ip netns del "$TAG-c"
start_agent

# ---- DEL ----
del_told() { tail -n1 "$WORK/requests" | grep -q "\"op\":\"del\".*\"ifname\":\"$H_A\""; }
a_gone() {
	! ip -n "$NODE" link show "$H_A" && ! ip -n "$TAG-a" link show eth0 && [ ! -e "$DATA/$IP_A" ]
}
cni DEL a
check "DEL pod a succeeds" test $? -eq 0
check "DEL pod a told the agent about $H_A" del_told
check "DEL pod a removed $H_A (and its peer) and the allocation" a_gone
cni DEL a
check "second DEL pod a succeeds" test $? -eq 0
stop_agent
cni DEL b
check "DEL pod b with the agent down still succeeds" test $? -eq 0
ip netns del "$TAG-b"
cni DEL b
check "DEL pod b again with its netns gone succeeds" test $? -eq 0
check "no allocation left in $DATA" test "$(allocations)" = 0
check "no host veth left in the node" test "$(host_veths)" = 0

finish
