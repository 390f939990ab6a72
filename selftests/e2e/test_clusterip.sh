#!/usr/bin/env bash
# East-west ClusterIP load balancing through the pod program, with real TCP/UDP
# traffic between pod namespaces wired by bpflet-cni on one node namespace.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=e2e$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP=10.96.0.10
VIP_UDP=10.96.0.11
VIP_EMPTY=10.96.0.12
VIP_HAIR=10.96.0.13

# tcp_req POD IP PORT: one request, prints the server's answer.
tcp_req() { bl_in "$1" timeout 3 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>&1; }
udp_req() { echo ping | bl_in "$1" timeout 3 socat -T1 - "UDP:$2:$3" 2>&1; }

bl_node_up
bl_agent_start || { fail "agent starts"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add client) || { fail "pods wired by bpflet-cni"; exit 1; }
pass "three pods wired by bpflet-cni ($A $B $C)"
for p in a b; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080

out=$(tcp_req client "$A" 8080)
[ "$out" = "a $C" ] && pass "direct pod IP connection answered by a, client address kept" ||
	fail "direct pod IP: got '$out'"

bl_service web "$VIP" 80 TCP 8080 "$A" "$B"
bl_service dns "$VIP_UDP" 53 UDP 8080 "$A" "$B"
bl_wait_backends web 2 && bl_wait_backends dns 2
check "agent programmed web and dns with 2 backends each" bl_wait_backends web 2

declare -A seen=()
bad=0
for i in $(seq 40); do
	out=$(tcp_req client "$VIP" 80)
	case "$out" in
	"a $C" | "b $C") seen[${out%% *}]=1 ;;
	*) bad=$((bad + 1)) ;;
	esac
done
[ "$bad" = 0 ] && pass "40 TCP connections to $VIP:80 all answered with the client's own IP" ||
	fail "TCP via ClusterIP: $bad of 40 failed or saw a rewritten source"
[ -n "${seen[a]:-}" ] && [ -n "${seen[b]:-}" ] && pass "TCP connections reached both backends" ||
	fail "TCP connections reached only: ${!seen[*]}"

seen=()
bad=0
for i in $(seq 30); do
	out=$(udp_req client "$VIP_UDP" 53)
	case "$out" in
	"a $C" | "b $C") seen[${out%% *}]=1 ;;
	*) bad=$((bad + 1)) ;;
	esac
done
[ "$bad" = 0 ] && pass "30 UDP requests to $VIP_UDP:53 answered from the VIP with the client's IP" ||
	fail "UDP via ClusterIP: $bad of 30 failed"
[ -n "${seen[a]:-}" ] && [ -n "${seen[b]:-}" ] && pass "UDP requests reached both backends" ||
	fail "UDP requests reached only: ${!seen[*]}"

# The reply must come from the VIP: socat's UDP client drops answers from other sources,
# so an answer at all proves reverse NAT; check the TCP peer too.
out=$(bl_in client timeout 3 socat -T2 - "TCP:$VIP:80" </dev/null 2>&1)
[ -n "$out" ] && pass "TCP reply accepted by the client socket (reverse NAT to $VIP:80)" ||
	fail "no TCP reply through the VIP"

# Removing an endpoint stops new connections to it.
bl_service web "$VIP" 80 TCP 8080 "$B"
bl_wait_backends web 1
bad=0
for i in $(seq 20); do
	out=$(tcp_req client "$VIP" 80)
	[ "$out" = "b $C" ] || bad=$((bad + 1))
done
[ "$bad" = 0 ] && pass "after removing a from web, 20 new connections all went to b" ||
	fail "after removing a: $bad of 20 connections not answered by b"

# Zero endpoints: refused at once (TCP RST / ICMP port unreachable), never a timeout.
bl_service empty "$VIP_EMPTY" 80 TCP 8080
bl_service emptyudp "$VIP_EMPTY" 53 UDP 8080
bl_wait_backends empty 0 && bl_wait_backends emptyudp 0
start=$(date +%s%N)
out=$(tcp_req client "$VIP_EMPTY" 80)
ms=$((($(date +%s%N) - start) / 1000000))
[[ "$out" == *"Connection refused"* ]] && pass "TCP to a Service without endpoints refused (${ms} ms)" ||
	fail "TCP to empty Service: '$out' after ${ms} ms"
out=$(bl_in client timeout 3 python3 -c "
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(2)
s.connect(('$VIP_EMPTY', 53))
s.send(b'x')
try:
    s.recv(100)
    print('answered')
except ConnectionRefusedError:
    print('refused')
except socket.timeout:
    print('timeout')
" 2>&1)
[ "$out" = refused ] && pass "UDP to a Service without endpoints gets ICMP port unreachable" ||
	fail "UDP to empty Service: $out"

# Hairpin: a pod reaching itself through its own Service.
bl_service hair "$VIP_HAIR" 80 TCP 8080 "$A"
bl_wait_backends hair 1
out=$(tcp_req a "$VIP_HAIR" 80)
[[ "$out" == "a "* ]] && pass "hairpin: pod a reached itself through $VIP_HAIR ($out)" ||
	fail "hairpin: got '$out'"

# Inspection: bpfletctl reads the pinned maps.
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list)
check "bpfletctl service list shows web at $VIP:80 with backend $B:8080" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
w=[s for s in d if s['name']=='default/web:p']
assert len(w)==1 and w[0]['frontend']['ip']=='$VIP' and w[0]['frontend']['port']==80
assert [(b['ip'],b['port']) for b in w[0]['backends']]==[('$B',8080)]
" "$json"
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json conntrack list)
check "bpfletctl conntrack list holds forward and reply entries for $C" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
assert any(e['direction']=='forward' and e['src'].startswith('$C:') and e['dst']=='$VIP:80' for e in d)
assert any(e['direction']=='reply' and e['dst'].startswith('$C:') and e['nat']=='$VIP:80' for e in d)
" "$json"
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json counters)
check "counters: new flows, rejects and reverse NAT counted" python3 -c "
import json,sys
d={c['reason']:c['packets'] for c in json.loads(sys.argv[1])}
assert d['dnat_new']>=70 and d['reverse_nat']>=70, d
assert d['reject_tcp_rst']>=1 and d['reject_icmp_unreachable']>=1, d
" "$json"

json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json backend list)
check "bpfletctl backend list shows $B:8080 used by default/web:p" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
b=[x for x in d if x['ip']=='$B' and x['port']==8080 and x['protocol']=='TCP']
assert len(b)==1 and 'default/web:p' in b[0]['services'] and b[0]['state']=='active', d
" "$json"
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json maps)
check "bpfletctl maps lists every map with its fill level" python3 -c "
import json,sys
d={m['name']:m for m in json.loads(sys.argv[1])}
for n in ['bl_fe_v1','bl_slot_v1','bl_be_v1','bl_ct_tcp_v2','bl_ct_any_v2','bl_cnt_v1','bl_svcname_v1']:
    assert n in d, n
assert d['bl_fe_v1']['entries']>=3 and d['bl_fe_v1']['max_entries']>=d['bl_fe_v1']['entries'], d['bl_fe_v1']
assert d['bl_ct_tcp_v2']['entries']>=2 and 0 < d['bl_ct_tcp_v2']['fill_percent'] < 100
assert 'entries' not in d['bl_cnt_v1']
" "$json"
out=$("$BL_BIN/bpfletctl" --instance "nosuch$$" maps 2>&1)
grep -q "is the agent of instance 'nosuch$$' running" <<<"$out" &&
	pass "bpfletctl names the missing instance and the fix" || fail "missing instance: $out"

# kube-proxy's contract: healthz and metrics on the node's address.
out=$(ip netns exec "$BL_NODE" curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:10256/healthz)
[ "$out" = 200 ] && pass "/healthz answers 200" || fail "/healthz answered $out"
out=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics)
grep -q '^kubeproxy_sync_proxy_rules_last_timestamp_seconds ' <<<"$out" &&
	grep -q '^bpflet_packets_total{reason="dnat_new"} [1-9]' <<<"$out" &&
	pass "/metrics has kube-proxy's sync metric and packet counters" || fail "/metrics content"

# A bad manifest: clear error naming the file, and the last good state stays.
cp "$BL_MANIFESTS/web.yaml" "$BL_WORK/web.good"
sed -i 's/port: 80,/port: 99999,/' "$BL_MANIFESTS/web.yaml"
sleep 0.5
grep -q "web.yaml" "$BL_AGENT_LOG" && pass "bad manifest logged with its file name" ||
	fail "no error naming web.yaml in the agent log"
out=$(tcp_req client "$VIP" 80)
[ "$out" = "b $C" ] && pass "last good state of web kept after a bad edit" ||
	fail "web broken by a bad manifest: '$out'"
cp "$BL_WORK/web.good" "$BL_MANIFESTS/web.yaml"

# Restart: an open TCP connection survives the agent going away and coming back.
bl_serve_long() { bl_bg b socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat; }
bl_serve_long
bl_service long 10.96.0.14 90 TCP 9000 "$B"
bl_wait_port b 9000 && bl_wait_backends long 1
bl_hold_open client 10.96.0.14 90
bl_agent_stop
sleep 0.3
bl_agent_start
bl_wait_backends long 1
bl_hold_result
[ "$BL_HOLD_OUT" = survived ] && pass "open TCP connection survived an agent restart" ||
	fail "connection across restart: $BL_HOLD_OUT"
out=$(tcp_req client "$VIP" 80)
[ "$out" = "b $C" ] && pass "Services work after the restart" || fail "after restart: '$out'"

# Cleanup removes every pin of the instance.
bl_agent_stop
"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" --cleanup \
	>>"$BL_AGENT_LOG" 2>&1
[ ! -e "/sys/fs/bpf/bpflet/$BL_INSTANCE" ] && pass "--cleanup removed the instance's pins" ||
	fail "pins left: $(ls /sys/fs/bpf/bpflet/$BL_INSTANCE)"
out=$(ip netns exec "$BL_NODE" bpftool net show 2>/dev/null | grep -c tc_pod)
[ "${out:-0}" = 0 ] && pass "--cleanup detached the pod program from every veth" ||
	fail "tc_pod still attached $out times"

[ "$BL_FAILED" -eq 0 ] || { echo "# agent log:"; tail -30 "$BL_AGENT_LOG" | sed 's/^/#   /'; }
bl_summary
