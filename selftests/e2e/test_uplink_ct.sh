#!/usr/bin/env bash
# Conntrack hygiene on the north-south path with real TCP: an external client reaches
# node1's NodePort, the backend runs on node2 (DNAT+SNAT, both directions through
# node1's xdp_uplink). Bulk transfers both ways pass the window tracking untouched;
# segments injected into an open connection with hping3 (data far out of the window,
# SYN+FIN) are dropped at XDP and counted, and the backend never sees them (a capture
# in its namespace), while an injected in-window duplicate ACK does reach it; the
# connection still works afterwards. Last, an open connection survives an agent that
# finds conntrack maps of the previous layout (bl_ct_*_v1) and takes them over.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=uc$$
. "$HERE/../../scripts/multinode_lib.sh"
. "$HERE/assert.sh"
trap 'mn_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

N1=$(mn_ip 1)
EXT=$MN_EXT_IP
CPORT=45000
XDP_MODE=${BL_XDP_MODE:-native}

if ! command -v hping3 >/dev/null || ! command -v tcpdump >/dev/null; then
	fail "hping3 and tcpdump are needed (make deps)"
	bl_summary
	exit 1
fi

mn_up_uplink 2 "$XDP_MODE" || { fail "two nodes with xdp_uplink and an external client"; exit 1; }
mn_use 2
B=$(bl_pod_add b) || { fail "pod b on node2"; exit 1; }
bl_bg b socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat
bl_bg b iperf3 -s -p 5201
bl_wait_port b 9000
bl_wait_port b 5201
mn_nodeport ct 10.96.8.1 "$B" node2 echo/TCP/80/9000/30090 bulk/TCP/5201/5201/30091
for i in 1 2; do ip netns exec "${MN_TAG}n$i-node" ping -c1 -W1 "$EXT" >/dev/null 2>&1; done
ip netns exec "${MN_TAG}n1-node" ping -c1 -W1 "$(mn_ip 2)" >/dev/null 2>&1
for _ in $(seq 50); do
	mn_ext timeout 2 socat -T1 - "TCP:$N1:30090,connect-timeout=1" <<<"x" 2>/dev/null | grep -q x &&
		break
	sleep 0.1
done

drops() { echo "$(mn_counter 1 drop_ct_out_of_window) $(mn_counter 1 drop_ct_invalid)"; }

# ext_hold CPORT N OUT GO: a connection from the external client's port CPORT to the
# echo NodePort that exchanges "one" at once and "two" x N once GO exists; OUT gets
# "open", then "one <bytes echoed>". HOLDER is its pid; returns once it is open.
ext_hold() {
	rm -f "$4"
	mn_ext python3 - "$N1" "$1" "$4" "$2" >"$3" 2>&1 <<'PY' &
import os, socket, sys, time
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", int(sys.argv[2])))
s.settimeout(5)
s.connect((sys.argv[1], 30090))
s.sendall(b"one\n"); first = s.recv(64)
print("open", flush=True)
for _ in range(600):
    if os.path.exists(sys.argv[3]): break
    time.sleep(0.05)
n = int(sys.argv[4])
s.sendall(b"two" * n + b"\n"); got = b""
while len(got) < 3 * n + 1: got += s.recv(65536)
print(first.decode().strip(), len(got), flush=True)
PY
	HOLDER=$!
	for _ in $(seq 50); do grep -q open "$3" 2>/dev/null && return 0; sleep 0.1; done
	return 1
}

# 1. bulk both ways: window scaling, autotuned windows, GRO-sized segments
before=$(drops)
for dir in "" -R; do
	bytes=$(mn_ext timeout 20 iperf3 -c "$N1" -p 30091 -t 2 $dir -J 2>/dev/null |
		python3 -c "import json,sys; print(json.load(sys.stdin)['end']['sum_received']['bytes'])" \
			2>/dev/null)
	[ "${bytes:-0}" -gt 1000000 ] &&
		pass "iperf3 ${dir:-client → backend} through the NodePort: $bytes bytes" ||
		fail "iperf3 ${dir:-client → backend}: '${bytes:-}' bytes"
done
after=$(drops)
[ "$before" = "$after" ] && pass "no segment of the bulk transfers was judged out of window or invalid" ||
	fail "window/invalid drops during bulk transfers: $before → $after"

# 2. an open connection from a known port, then injected segments
mn_use 2
cap=$BL_WORK/backend.pcap
bl_bg b tcpdump -i eth0 -n -U -w "$cap" "tcp port 9000"
for _ in $(seq 50); do [ -s "$cap" ] && break; sleep 0.1; done
hold=$BL_WORK/hold.out
go=$BL_WORK/hold.go
ext_hold "$CPORT" 1 "$hold" "$go" || fail "the held connection did not open: $(cat "$hold")"

# the flow's own numbers as node1's conntrack recorded them
mn_use 1
read -r cend send < <("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list |
	python3 -c "
import json, sys
f = r = None
for e in json.load(sys.stdin):
    if e['protocol'].lower() != 'tcp' or 'tcp_window' not in e: continue
    if e['src'] == '$EXT:$CPORT' and e['direction'] == 'forward': f = e['tcp_window']['end']
    if e['dst'] == '$N1:$CPORT' and e['direction'] == 'reply': r = e['tcp_window']['end']
print(f, r)")
[ -n "${cend:-}" ] && [ "$cend" != None ] && [ "$send" != None ] &&
	pass "node1 tracks the open connection's window (client end $cend, backend end $send)" ||
	{
		fail "no window record for the open connection ('${cend:-}' '${send:-}')"
		"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list >&2
		touch "$go"
		bl_summary
		exit 1
	}

inject() { mn_ext timeout 5 hping3 -q -c 1 -k -s "$CPORT" -p 30090 "$@" "$N1" >/dev/null 2>&1; }
seen() { tcpdump -r "$cap" -n "tcp[14:2] = $1" 2>/dev/null | wc -l; }

o0=$(mn_counter 1 drop_ct_out_of_window)
printf 'OUTOFWINDOW' >"$BL_WORK/payload"
inject -A -P -w 4321 -M $(((cend + 0x40000000) % 0x100000000)) -L "$send" -d 11 -E "$BL_WORK/payload"
i0=$(mn_counter 1 drop_ct_invalid)
inject -S -F -w 4322 -M "$cend"
inject -A -w 1234 -M "$cend" -L "$send" # in window: a duplicate ACK, harmless
sleep 0.5
o1=$(mn_counter 1 drop_ct_out_of_window)
i1=$(mn_counter 1 drop_ct_invalid)
[ "$o1" -eq $((o0 + 1)) ] &&
	pass "data 1 GiB past the window: dropped at XDP, drop_ct_out_of_window $o0 → $o1" ||
	fail "out-of-window injection: drop_ct_out_of_window $o0 → $o1"
[ "$i1" -eq $((i0 + 1)) ] && pass "SYN+FIN on the open flow: dropped, drop_ct_invalid $i0 → $i1" ||
	fail "SYN+FIN injection: drop_ct_invalid $i0 → $i1"
[ "$(seen 4321)" = 0 ] && [ "$(seen 4322)" = 0 ] &&
	pass "the backend's capture holds neither injected segment" ||
	fail "the backend saw injected segments: out-of-window $(seen 4321), SYN+FIN $(seen 4322)"
[ "$(seen 1234)" -ge 1 ] && pass "the in-window duplicate ACK reached the backend (capture works)" ||
	fail "the in-window injected ACK never reached the backend"
touch "$go"
wait "$HOLDER"
[ "$(tail -1 "$hold")" = "one 4" ] && pass "the connection carries on after the injections" ||
	fail "held connection: '$(cat "$hold")'"

# 3. an agent of the previous conntrack layout replaced under an open connection: its
# maps are played by layout-1 copies (64-byte values) of node1's entries while the agent
# is down, the v2 pins gone, as an older agent would have left them
mn_use 2
hold2=$BL_WORK/hold2.out
go2=$BL_WORK/hold2.go
ext_hold 45001 30000 "$hold2" "$go2" || fail "the second held connection did not open"
mn_agent_stop 1
pins=/sys/fs/bpf/bpflet/${MN_TAG}n1
python3 - "$pins" <<'PY'
import json, subprocess, sys
pins = sys.argv[1]
for m in ("tcp", "any"):
    old, new = f"{pins}/bl_ct_{m}_v1", f"{pins}/bl_ct_{m}_v2"
    dump = json.loads(subprocess.check_output(["bpftool", "-j", "map", "dump", "pinned", new]))
    subprocess.check_call(["bpftool", "map", "create", old, "type", "lru_hash", "key", "40",
                           "value", "64", "entries", "4096", "name", f"bl_ct_{m}_v1"])
    for e in dump:
        subprocess.check_call(["bpftool", "map", "update", "pinned", old, "key", "hex"] +
                              [b[2:] for b in e["key"]] + ["value", "hex"] +
                              [b[2:] for b in e["value"][:64]])
    subprocess.check_call(["rm", new])
PY
mn_agent_start 1 --uplink uplink0 --xdp-mode "$XDP_MODE" || fail "node1's agent restarts"
touch "$go2"
wait "$HOLDER"
grep -q "took over [1-9][0-9]* conntrack entries of layout 1" "/tmp/bpflet-${MN_TAG}n1/agent.log" &&
	[ ! -e "$pins/bl_ct_tcp_v1" ] && [ -e "$pins/bl_ct_tcp_v2" ] &&
	pass "the new agent took the layout-1 entries over and removed the old maps" ||
	fail "layout migration: $(grep -i "layout" "/tmp/bpflet-${MN_TAG}n1/agent.log" | tail -2)"
[ "$(tail -1 "$hold2")" = "one 90001" ] &&
	pass "an open connection survived the switch from layout 1 (90 kB after it)" ||
	fail "connection across the layout switch: '$(cat "$hold2")'"

bl_summary
