#!/usr/bin/env bash
# Conntrack hygiene and protocol separation with real traffic: a UDP flow moves to the
# remaining backend as soon as its own leaves the Service; idle entries are collected by
# the agent's GC; TCP and UDP on one port reach different backends; a fragmented datagram
# (also with its fragments sent last first) reaches one backend; fill levels and GC
# counts are exported on /metrics.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=ct$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP_DNS=10.96.2.10
VIP_MIX=10.96.2.11

bl_node_up
bl_agent_start --ct-gc 1 --ct-timeout-udp 3 || { fail "agent starts"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add client) ||
	{ fail "pods wired by bpflet-cni"; exit 1; }
for p in a b; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080

# --- a UDP flow follows its backend's removal -----------------------------------
bl_service dns "$VIP_DNS" 53 UDP 8080 "$A"
bl_wait_backends dns 1
rm -f "$BL_WORK/go"
bl_in client timeout 30 python3 -c "
import socket, os, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(('0.0.0.0', 5300)); s.settimeout(1)
s.connect(('$VIP_DNS', 53))
def ask():
    for _ in range(5):
        s.send(b'x')
        try: return s.recv(100).decode().split()[0]
        except socket.timeout: pass
    return 'timeout'
print(ask(), flush=True)
open('$BL_WORK/first', 'w').close()
while not os.path.exists('$BL_WORK/go'): time.sleep(0.05)
print(ask(), flush=True)
" >"$BL_WORK/udp.out" 2>&1 &
udp_pid=$!
for _ in $(seq 200); do [ -e "$BL_WORK/first" ] && break; sleep 0.05; done
bl_service dns "$VIP_DNS" 53 UDP 8080 "$B"
bl_wait_backends dns 1
for _ in $(seq 100); do # until the purge ran: the flow's entries to a are gone
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list |
		grep -q "\"$A:8080\"" || break
	sleep 0.05
done
touch "$BL_WORK/go"
wait "$udp_pid"
[ "$(tr '\n' ' ' <"$BL_WORK/udp.out")" = "a b " ] &&
	pass "same UDP socket answered by a, then by b once a left the Service" ||
	fail "UDP flow after backend removal: $(tr '\n' ' ' <"$BL_WORK/udp.out")"

# --- idle entries go after the UDP timeout (3 s, GC every 1 s) -------------------
ct_udp() {
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list |
		python3 -c "import json,sys; print(sum(1 for e in json.load(sys.stdin) if e['src'].endswith(':5301') or e['dst'].endswith(':5301')))"
}
echo x | bl_in client timeout 3 socat -T1 - "UDP:$VIP_DNS:53,sourceport=5301" >/dev/null 2>&1
n1=$(ct_udp)
gone=0
for _ in $(seq 80); do
	[ "$(ct_udp)" = 0 ] && { gone=1; break; }
	sleep 0.1
done
[ "$n1" = 2 ] && [ "$gone" = 1 ] && pass "idle UDP flow (2 entries) collected by the agent's GC" ||
	fail "GC: entries before $n1, gone=$gone"

# --- TCP and UDP on the same port, separate backends ----------------------------
cat >"$BL_MANIFESTS/mix.yaml" <<YAML
apiVersion: v1
kind: Service
metadata: {name: mix, namespace: default}
spec:
  clusterIP: $VIP_MIX
  ports: [{name: t, port: 80, protocol: TCP, targetPort: 8080}, {name: u, port: 80, protocol: UDP, targetPort: 8080}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: mix-t, namespace: default, labels: {kubernetes.io/service-name: mix}}
addressType: IPv4
ports: [{name: t, port: 8080, protocol: TCP}]
endpoints: [{addresses: ["$A"], conditions: {ready: true}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: mix-u, namespace: default, labels: {kubernetes.io/service-name: mix}}
addressType: IPv4
ports: [{name: u, port: 8080, protocol: UDP}]
endpoints: [{addresses: ["$B"], conditions: {ready: true}}]
YAML
bl_wait_backends mix 2
bad=0
for _ in $(seq 5); do
	t=$(bl_in client timeout 3 socat -T2 - "TCP:$VIP_MIX:80,connect-timeout=2" </dev/null 2>/dev/null | cut -d' ' -f1)
	u=$(echo x | bl_in client timeout 3 socat -T1 - "UDP:$VIP_MIX:80" 2>/dev/null | cut -d' ' -f1)
	[ "$t/$u" = "a/b" ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass "TCP $VIP_MIX:80 always reaches a, UDP $VIP_MIX:80 always b (5 each)" ||
	fail "TCP/UDP on one port: $bad of 5 rounds wrong (last $t/$u)"

# --- bpfletctl nat list / conntrack flush ---------------------------------------
ctl() { "$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json "$@"; }
bl_in client timeout 3 socat -T2 - "TCP:$VIP_MIX:80,connect-timeout=2" </dev/null >/dev/null 2>&1
echo x | bl_in client timeout 3 socat -T1 - "UDP:$VIP_MIX:80,sourceport=5310" >/dev/null 2>&1
ctl nat list >"$BL_WORK/nat.json"
check "bpfletctl nat list: TCP and UDP flows of mix with client, frontend and backend" python3 -c "
import json,sys
d=json.load(open(sys.argv[1]))
t=[e for e in d if e['service']=='default/mix:t' and e['protocol']=='TCP']
u=[e for e in d if e['service']=='default/mix:u' and e['protocol']=='UDP']
assert t and all(e['frontend']=='$VIP_MIX:80' and e['backend']=='$A:8080' and e['client'].startswith('$C:') for e in t), t
assert u and all(e['frontend']=='$VIP_MIX:80' and e['backend']=='$B:8080' for e in u), u
assert all(e['protocol'] in ('TCP','UDP') for e in d)
" "$BL_WORK/nat.json"
# a TCP flow of another Service (long timeouts: the GC cannot take it meanwhile)
bl_service keep 10.96.2.13 80 TCP 8080 "$A"
bl_wait_backends keep 1
bl_in client timeout 3 socat -T2 - "TCP:10.96.2.13:80,connect-timeout=2,sourceport=5311" </dev/null >/dev/null 2>&1
ctl conntrack flush --service default/mix >"$BL_WORK/flush.json"
ctl conntrack list >"$BL_WORK/ct.json"
check "conntrack flush --service default/mix: its flows gone, another Service's kept" python3 -c "
import json,sys
f=json.load(open(sys.argv[1])); d=json.load(open(sys.argv[2]))
assert f['deleted']>=4 and f['failed']==0, f
assert not any(e['dst']=='$VIP_MIX:80' or e['nat']=='$VIP_MIX:80' for e in d), d
assert any(e['src']=='$C:5311' for e in d), d
" "$BL_WORK/flush.json" "$BL_WORK/ct.json"
ctl conntrack flush >"$BL_WORK/flush.json"
check "conntrack flush: every entry deleted" python3 -c "
import json,sys
f=json.load(open(sys.argv[1]))
assert f['deleted']>=2, f
" "$BL_WORK/flush.json"
n=$(ctl conntrack list | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
[ "$n" = 0 ] && pass "conntrack empty after flush" || fail "conntrack after flush: $n entries"

# --- a fragmented datagram through the VIP --------------------------------------
# 2000 bytes over 1500-byte veths: the client's kernel sends two fragments; the first
# carries the ports, the second must follow it to the same backend.
bl_service big 10.96.2.14 53 UDP 8080 "$A"
bl_wait_backends big 1
out=$(bl_in client timeout 5 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('10.96.2.14', 53))
s.send(b'y' * 2000)
try: print(s.recv(100).decode().split()[0])
except socket.timeout: print('timeout')
" 2>&1)
n=$(ctl counters | python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['fragment_translated'])")
[ "$out" = a ] && [ "${n:-0}" -ge 1 ] &&
	pass "a 2000-byte UDP datagram (2 fragments) through the VIP answered by a (fragment_translated $n)" ||
	fail "fragmented datagram: '$out', fragment_translated ${n:-?}"

# the same datagram with its fragments sent last first (a raw socket): the early one is
# held until the first has passed, then follows it to the same backend
before=$(ctl counters | python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['fragment_replayed'])")
out=$(bl_in client timeout 5 python3 -c "
import socket, struct
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
u.bind(('0.0.0.0', 5410)); u.settimeout(2)
src = socket.inet_aton('$C'); dst = socket.inet_aton('10.96.2.14')
data = struct.pack('!HHHH', 5410, 53, 8 + 2000, 0) + b'z' * 2000  # UDP checksum 0: none
def frag(off, chunk, more):
    # the kernel fills in the IP checksum of an IP_HDRINCL packet
    return struct.pack('!BBHHHBBH4s4s', 0x45, 0, 20 + len(chunk), 0x4242,
                       (0x2000 if more else 0) | off // 8, 64, 17, 0, src, dst) + chunk
r = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
r.sendto(frag(1480, data[1480:], False), ('10.96.2.14', 0))
r.sendto(frag(0, data[:1480], True), ('10.96.2.14', 0))
try: print(u.recv(100).decode().split()[0])
except socket.timeout: print('timeout')
" 2>&1)
after=$(ctl counters | python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['fragment_replayed'])")
[ "$out" = a ] && [ "${after:-0}" -gt "${before:-0}" ] &&
	pass "fragments sent last first: the early one was held for the first, the datagram answered by a" ||
	fail "out-of-order fragments: '$out', fragment_replayed ${before:-?} → ${after:-?}"

# --- ICMP errors of a backend reach the client translated -------------------------
# b has no UDP listener on 9999: its kernel answers with port unreachable quoting
# client -> b:9999; only when translated back to the VIP does the client's socket
# (connected to the VIP) see it as ECONNREFUSED instead of waiting in vain.
VIP_CLOSED=10.96.2.12
bl_service closed "$VIP_CLOSED" 53 UDP 9999 "$B"
bl_wait_backends closed 1
before=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters |
	python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['icmp_error_translated'])")
out=$(bl_in client timeout 5 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('$VIP_CLOSED', 53))
s.send(b'x')
try:
    s.recv(100); print('answered')
except ConnectionRefusedError: print('refused')
except socket.timeout: print('timeout')
" 2>&1)
after=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters |
	python3 -c "import json,sys; print({c['reason']:c['packets'] for c in json.load(sys.stdin)}['icmp_error_translated'])")
[ "$out" = refused ] && [ "$after" -gt "$before" ] &&
	pass "backend's ICMP port unreachable reached the client as the VIP's (refused; counter $before -> $after)" ||
	fail "ICMP error translation: client saw '$out', counter $before -> $after"

# --- metrics ------------------------------------------------------------------
out=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics)
check "/metrics: fill of every conntrack, affinity and fragment map, GC deletions by reason" python3 -c "
import re,sys
m=dict(re.findall(r'^(\S+) (\S+)$', sys.argv[1], re.M))
for mp in ('bl_ct_tcp_v2','bl_ct_any_v2','bl_aff_v1','bl_frag_v1'):
    assert 'bpflet_map_entries{map=\"%s\"}' % mp in m, mp
    assert int(m['bpflet_map_capacity{map=\"%s\"}' % mp]) > 0, mp
assert int(m['bpflet_conntrack_gc_deleted_total{reason=\"backend_gone\"}']) >= 2, m
assert int(m['bpflet_conntrack_gc_deleted_total{reason=\"expired\"}']) >= 2, m
assert int(m['bpflet_conntrack_gc_runs_total']) >= 1
" "$out"

[ "$BL_FAILED" -eq 0 ] || { echo "# agent log:"; tail -30 "$BL_AGENT_LOG" | sed 's/^/#   /'; }
bl_summary
