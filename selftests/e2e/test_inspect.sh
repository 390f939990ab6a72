#!/usr/bin/env bash
# bpfletctl's inspection commands against a running agent: per-Service and per-backend
# counters, service get, conntrack list filters, monitor (flow and drop events, filters,
# one monitor at a time, the flag cleared on exit) and monitor --pcap read back with
# tcpdump; every -o json compared with what the test set up and sent.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=ins$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
MON_PIDS=()
cleanup() {
	local p
	for p in "${MON_PIDS[@]}"; do kill -KILL "$p" 2>/dev/null; done
	rm -rf "/sys/fs/bpf/bpflet/nomaps$$"
	bl_teardown
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP=10.96.0.20
VIP_UDP=10.96.0.21
VIP_EMPTY=10.96.0.22
VIP_LONG=10.96.0.23
ctl() { "$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" "$@"; }
tcp_req() { bl_in "$1" timeout 3 socat -T2 - "TCP:$2:$3,connect-timeout=2" </dev/null 2>&1; }
udp_req() { echo ping | bl_in "$1" timeout 3 socat -T1 - "UDP:$2:$3" 2>&1; }

# mon_start OUT ARGS...: a monitor in the background, JSON lines to OUT, returns once
# its flag is set; MON_PID is its pid
mon_start() {
	local out=$1
	shift
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json monitor "$@" >"$out" 2>"$out.err" &
	MON_PID=$!
	MON_PIDS+=("$MON_PID")
	for _ in $(seq 100); do
		grep -q "monitoring instance" "$out.err" 2>/dev/null && return 0
		kill -0 "$MON_PID" 2>/dev/null || break
		sleep 0.05
	done
	bl_log "monitor did not start: $(cat "$out.err")"
	return 1
}
mon_stop() {
	kill -INT "$MON_PID" 2>/dev/null
	wait "$MON_PID" 2>/dev/null
}
# the monitor flag as the programs read it
mon_flags() {
	bpftool -j map lookup pinned "/sys/fs/bpf/bpflet/$BL_INSTANCE/bl_mon_v1" key 0 0 0 0 |
		python3 -c "import json,sys; print(json.load(sys.stdin)['formatted']['value']['flags'])"
}

bl_node_up
bl_agent_start || { fail "agent starts"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add client) || { fail "pods wired"; exit 1; }
for p in a b; do
	bl_serve_echo "$p" 8080
	bl_bg "$p" socat TCP-LISTEN:9000,fork,reuseaddr EXEC:cat
done
bl_wait_port a 8080 && bl_wait_port b 8080 && bl_wait_port a 9000 && bl_wait_port b 9000
bl_service web "$VIP" 80 TCP 8080 "$A" "$B"
bl_service dns "$VIP_UDP" 53 UDP 8080 "$A"
bl_service empty "$VIP_EMPTY" 80 TCP 8080
bl_service long "$VIP_LONG" 90 TCP 9000 "$A" "$B"
programmed() { bl_wait_backends web 2 && bl_wait_backends dns 1 && bl_wait_backends empty 0 &&
	bl_wait_backends long 2; }
check "agent programmed web (2 backends), dns (1), empty (0) and long (2)" programmed

# ---- monitor: events and a capture while known requests run ----
W=$BL_WORK
mon_start "$W/mon.json" --pcap "$W/cap.pcap" || fail "monitor starts"
[ "$(mon_flags)" = 3 ] && pass "monitor set the flag (events + capture) while running" ||
	fail "monitor flag while running: $(mon_flags)"
declare -A served=([a]=0 [b]=0)
for i in $(seq 12); do
	out=$(tcp_req client "$VIP" 80)
	case "$out" in "a $C") served[a]=$((served[a] + 1)) ;; "b $C") served[b]=$((served[b] + 1)) ;; esac
done
for i in $(seq 3); do udp_req client "$VIP_UDP" 53 >/dev/null; done
out=$(tcp_req client "$VIP_EMPTY" 80)
[[ "$out" == *refused* ]] || fail "empty Service not refused: $out"
sleep 0.3
mon_stop
[ $((served[a] + served[b])) = 12 ] && pass "12 TCP requests answered (a ${served[a]}, b ${served[b]})" ||
	fail "TCP requests: a ${served[a]} b ${served[b]} of 12"
[ "$(mon_flags)" = 0 ] && pass "monitor cleared the flag on SIGINT" || fail "flag after exit: $(mon_flags)"
check "monitor: 12 TCP flow events client -> $VIP:80 => a or b, default/web:p, split as served" python3 -c "
import json,sys
ev=[json.loads(l) for l in open('$W/mon.json')]
fl=[e for e in ev if e['type']=='flow' and e['protocol']=='TCP']
assert len(fl)==12, len(fl)
for e in fl:
    assert e['src'].startswith('$C:') and e['dst']=='$VIP:80' and e['hook']=='from-pod', e
    assert e['service']=='default/web:p' and e['backend'] in ('$A:8080','$B:8080'), e
n={'a':sum(e['backend']=='$A:8080' for e in fl),'b':sum(e['backend']=='$B:8080' for e in fl)}
assert n=={'a':${served[a]},'b':${served[b]}}, n
"
check "monitor: 3 UDP flow events to default/dns:p and a reject_tcp_rst drop to $VIP_EMPTY:80" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/mon.json')]
u=[e for e in ev if e['type']=='flow' and e['protocol']=='UDP']
assert len(u)==3 and all(e['service']=='default/dns:p' and e['backend']=='$A:8080' for e in u), u
d=[e for e in ev if e['type']=='drop']
assert len(d)==1 and d[0]['reason']=='reject_tcp_rst' and d[0]['dst']=='$VIP_EMPTY:80', d
assert d[0]['src'].startswith('$C:')
"
# The capture: tc_pod saw the SYNs to the VIP, tc_pod_to the same SYNs after DNAT at
# the backend's veth, and the replies before reverse NAT.
tcpdump -nn -r "$W/cap.pcap" 2>/dev/null >"$W/cap.txt"
check "pcap readable by tcpdump: 12 SYNs $C -> $VIP.80 (before DNAT)" python3 -c "
import re
l=open('$W/cap.txt').read().splitlines()
syn=[x for x in l if re.search(r' $C\.\d+ > $VIP\.80: Flags \[S\]', x)]
assert len(syn)==12, (len(syn), l[:5])
"
check "pcap: the same SYNs delivered to a and b on port 8080 (after DNAT), split as served" python3 -c "
import re
l=open('$W/cap.txt').read().splitlines()
to=lambda ip: [x for x in l if re.search(r' $C\.\d+ > '+re.escape(ip)+r'\.8080: Flags \[S\]', x)]
assert len(to('$A'))==${served[a]} and len(to('$B'))==${served[b]}, (len(to('$A')), len(to('$B')))
"
check "pcap: the backends' SYN-ACKs (before reverse NAT) and the UDP requests to $VIP_UDP.53" python3 -c "
import re
l=open('$W/cap.txt').read().splitlines()
sa=[x for x in l if re.search(r' ($A|$B)\.8080 > $C\.\d+: Flags \[S\.\]', x)]
assert len(sa)==12, (len(sa), [x for x in l if 'Flags [S.]' in x][:4])
assert len([x for x in l if re.search(r' $C\.\d+ > $VIP_UDP\.53: ', x)])==3
"

# ---- counters: per reason, per Service frontend, per backend ----
json=$(ctl -o json counters --by all)
check "counters --by all: web's packets = the sum of its backends', each backend's share > 0 where it served" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
s={x['service']:x for x in d['services']}
b={x['backend']+'/'+x['protocol']:x for x in d['backends']}
web=s['default/web:p']; ba=b['$A:8080/TCP']; bb=b['$B:8080/TCP']
assert web['frontend']=='$VIP:80' and web['protocol']=='TCP'
assert web['packets']==ba['packets']+bb['packets'] and web['bytes']==ba['bytes']+bb['bytes'], (web,ba,bb)
assert web['packets']>=12*5, web   # SYN, SYN-ACK, ACK, data, FIN at least
assert (ba['packets']>0)==(${served[a]}>0) and (bb['packets']>0)==(${served[b]}>0), (ba,bb)
dns=s['default/dns:p']; bu=b['$A:8080/UDP']
assert dns['packets']==6 and bu['packets']==6, (dns,bu)   # 3 requests, 3 replies
assert s['default/empty:p']['packets']==0
r={x['reason']:x['packets'] for x in d['reasons']}
assert r['dnat_new']>=15 and r['reject_tcp_rst']>=1, r
" "$json"
json=$(ctl -o json counters)
check "counters -o json alone keeps its per-reason array" python3 -c "
import json,sys
d=json.loads(sys.argv[1]); assert isinstance(d,list) and {'reason','packets','bytes'}<=set(d[0])
" "$json"
out=$(ctl counters)
grep -q "^REASON" <<<"$out" && grep -q "default/web:p $VIP:80/TCP" <<<"$out" &&
	grep -qE "^[0-9]+ +$A:8080/TCP" <<<"$out" && pass "counters table: reasons, services, backends" ||
	fail "counters table: $out"

# ---- service get ----
json=$(ctl -o json service get default/web)
cnt=$(ctl -o json counters --by service)
check "service get default/web: frontend $VIP:80/TCP, backends a and b active, counters as counters shows" python3 -c "
import json,sys
d=json.loads(sys.argv[1]); c={x['svc_id']:x for x in json.loads(sys.argv[2])}
assert d['service']=='default/web' and len(d['frontends'])==1
f=d['frontends'][0]
assert (f['ip'],f['port'],f['protocol'],f['scope'])==('$VIP',80,'TCP','internal'), f
assert f['counters']['packets']==c[f['svc_id']]['packets']>0, (f, c[f['svc_id']])
bs=sorted((b['ip'],b['port'],b['state']) for b in d['backends'])
assert bs==sorted([('$A',8080,'active'),('$B',8080,'active')]), bs
assert sum(b['counters']['packets'] for b in d['backends'])==f['counters']['packets']
assert all(b['frontends']==['$VIP:80/TCP'] and sorted(f['backend_ids'])==sorted(x['id'] for x in d['backends']) for b in d['backends'])
" "$json" "$cnt"
out=$(ctl service get default/web)
grep -q "$VIP:80/TCP" <<<"$out" && grep -q "$A:8080/TCP" <<<"$out" && pass "service get table" ||
	fail "service get table: $out"
out=$(ctl service get default/nosuch 2>&1)
rc=$?
[ $rc = 1 ] && grep -q "service default/nosuch not found in instance '$BL_INSTANCE'" <<<"$out" &&
	pass "service get of an unknown Service: exit 1, says so and what to run" || fail "unknown service ($rc): $out"

# ---- conntrack list filters (a connection held open so its entries stay) ----
bl_hold_open client "$VIP_LONG" 90 ||
	fail "a TCP connection held open through $VIP_LONG:90 ($(cat "$BL_WORK/hold.out" 2>/dev/null))"
udp_req client "$VIP_UDP" 53 >/dev/null
# idle_seconds moves between two reads
ct() { ctl -o json conntrack list "$@" | python3 -c "
import json,sys
d=json.load(sys.stdin)
for e in d: e.pop('idle_seconds')
print(json.dumps(d))"; }
all=$(ct)
check "conntrack list --service default/long: the held flow's forward and reply entries only" python3 -c "
import json,sys
d=json.loads(sys.argv[1]); a=json.loads(sys.argv[2])
want=[e for e in a if e['protocol']=='TCP' and '$VIP_LONG:90' in (e['dst'],e['nat'])]
assert len(d)==2 and sorted(map(json.dumps,d))==sorted(map(json.dumps,want)), (d, want)
f=[e for e in d if e['direction']=='forward'][0]; r=[e for e in d if e['direction']=='reply'][0]
assert f['src'].startswith('$C:') and f['nat'] in ('$A:9000','$B:9000') and r['src']==f['nat'], d
" "$(ct --service default/long)" "$all"
check "conntrack list --proto udp: only UDP entries, dns's among them" python3 -c "
import json,sys
d=json.loads(sys.argv[1]); a=json.loads(sys.argv[2])
assert d and d==[e for e in a if e['protocol']=='UDP'] and any(e['dst']=='$VIP_UDP:53' for e in d), d
" "$(ct --proto udp)" "$all"
check "conntrack list --port 9000: the held flow's two entries" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
assert len(d)==2 and all('$VIP_LONG:90' in (e['dst'],e['nat']) for e in d), d
" "$(ct --port 9000)"
check "conntrack list --addr $C --proto tcp: exactly the client's TCP entries" python3 -c "
import json,sys
d=json.loads(sys.argv[1]); a=json.loads(sys.argv[2])
want=[e for e in a if e['protocol']=='TCP' and '$C' in [x.split(':')[0] for x in (e['src'],e['dst'],e['nat'])]]
assert d and sorted(map(json.dumps,d))==sorted(map(json.dumps,want)), (d, want)
" "$(ct --addr "$C" --proto tcp)" "$all"
bl_hold_result
[ "$BL_HOLD_OUT" = survived ] || fail "held connection: $BL_HOLD_OUT"
out=$(ctl conntrack list --service default/nosuch 2>&1)
[ $? = 1 ] && grep -q "not found" <<<"$out" && pass "conntrack list --service unknown: exit 1, says so" ||
	fail "conntrack unknown service: $out"
out=$(ctl conntrack list --addr 10.0.0.300 2>&1)
[ $? = 2 ] && grep -q "not an IPv4 address" <<<"$out" && pass "conntrack list --addr with a bad address: usage error" ||
	fail "bad --addr: $out"
out=$(ctl conntrack flush --service default/nosuch 2>&1)
[ $? = 1 ] && grep -q "not found" <<<"$out" && pass "conntrack flush --service unknown: exit 1, nothing flushed" ||
	fail "flush unknown service: $out"

# ---- monitor filters ----
mon_start "$W/f.json" --type flow --service default/dns || fail "filtered monitor starts"
tcp_req client "$VIP" 80 >/dev/null
udp_req client "$VIP_UDP" 53 >/dev/null
tcp_req client "$VIP_EMPTY" 80 >/dev/null
sleep 0.3
mon_stop
check "monitor --type flow --service default/dns: the one dns flow, nothing else" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/f.json')]
assert len(ev)==1 and ev[0]['type']=='flow' and ev[0]['service']=='default/dns:p', ev
"
mon_start "$W/g.json" --type drop --port 80 --count 1 || fail "drop monitor starts"
tcp_req client "$VIP" 80 >/dev/null
tcp_req client "$VIP_EMPTY" 80 >/dev/null
for _ in $(seq 40); do kill -0 "$MON_PID" 2>/dev/null || break; sleep 0.05; done
kill -0 "$MON_PID" 2>/dev/null && fail "monitor --count 1 still running" || pass "monitor --count 1 stopped by itself"
wait "$MON_PID" 2>/dev/null
check "monitor --type drop --port 80: only the reject" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/g.json')]
assert len(ev)==1 and ev[0]['type']=='drop' and ev[0]['reason']=='reject_tcp_rst', ev
"
out=$(ctl monitor --type bogus 2>&1)
[ $? = 2 ] && grep -q "flow, drop and/or policy" <<<"$out" && pass "monitor --type bogus: usage error" ||
	fail "monitor --type bogus: $out"
out=$(ctl monitor --service default/nosuch 2>&1)
[ $? = 1 ] && grep -q "not found" <<<"$out" && pass "monitor --service unknown: exit 1, says so" ||
	fail "monitor unknown service: $out"

# one monitor at a time; a stopped one (stale heartbeat) is taken over, and a killed one
# leaves the flag to the next monitor at once
mon_start "$W/h.json" || fail "monitor starts"
first=$MON_PID
out=$(timeout 5 "$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" monitor --duration 1 2>&1)
[ $? = 1 ] && grep -q "another monitor (pid $first)" <<<"$out" &&
	pass "a second monitor is refused while the first runs" || fail "second monitor: $out"
kill -STOP "$first"
sleep 5.5
mon_start "$W/i.json" && pass "the first one stopped for 5.5 s (stale heartbeat): a new monitor starts" ||
	fail "monitor over a stale one"
second=$MON_PID
kill -CONT "$first"
for _ in $(seq 60); do kill -0 "$first" 2>/dev/null || break; sleep 0.05; done
wait "$first" 2>/dev/null
grep -q "monitor pid $second took over; stopping" "$W/h.json.err" &&
	[ "$(mon_flags)" = 1 ] && pass "the resumed first monitor sees the takeover, leaves and keeps the flag on" ||
	fail "takeover: $(cat "$W/h.json.err"), flag $(mon_flags)"
kill -KILL "$second"
wait "$second" 2>/dev/null
[ "$(mon_flags)" = 1 ] && pass "a killed monitor leaves the flag on (its heartbeat goes stale)" ||
	fail "flag after SIGKILL: $(mon_flags)"
mon_start "$W/j.json" --duration 1 && pass "its flag is taken over at once: its pid is gone" ||
	fail "monitor after a killed one"
wait "$MON_PID" 2>/dev/null
[ "$(mon_flags)" = 0 ] && pass "monitor --duration ends and clears the flag" || fail "flag: $(mon_flags)"
mon_start "$W/k.json" || fail "monitor starts"
kill -KILL "$MON_PID"
wait "$MON_PID" 2>/dev/null
cleared=
for _ in $(seq 130); do # stale after 5 s, the agent looks every 5 s
	[ "$(mon_flags)" = 0 ] && cleared=1 && break
	sleep 0.1
done
[ -n "$cleared" ] && grep -q "cleared the flag of a bpfletctl monitor (pid $MON_PID)" "$BL_AGENT_LOG" &&
	pass "the agent clears a killed monitor's flag once its heartbeat is stale, and logs it" ||
	fail "flag of a killed monitor left on: $(mon_flags)"

# ---- policy verdicts: b accepts only a ----
cat >"$BL_MANIFESTS/pol.json.tmp" <<JSON
{"apiVersion": "v1", "kind": "List", "items": [
 {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "default", "labels": {"ns": "default"}}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "a", "namespace": "default", "labels": {"pod": "a"}}, "spec": {"containers": [{"name": "c", "image": "none"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "b", "namespace": "default", "labels": {"pod": "b"}}, "spec": {"containers": [{"name": "c", "image": "none"}]}},
 {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "client", "namespace": "default", "labels": {"pod": "client"}}, "spec": {"containers": [{"name": "c", "image": "none"}]}},
 {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "only-a", "namespace": "default"},
  "spec": {"podSelector": {"matchLabels": {"pod": "b"}}, "ingress": [{"from": [{"podSelector": {"matchLabels": {"pod": "a"}}}]}]}}]}
JSON
mv "$BL_MANIFESTS/pol.json.tmp" "$BL_MANIFESTS/pol.json"
isolated() {
	for _ in $(seq 100); do
		ctl -o json policy list 2>/dev/null |
			python3 -c 'import json,sys; sys.exit(0 if len(json.load(sys.stdin)["endpoints"]) == 1 else 1)' &&
			return 0
		sleep 0.05
	done
	return 1
}
check "policy only-a isolates b" isolated
mon_start "$W/p.json" --type policy || fail "policy monitor starts"
out=$(tcp_req client "$B" 8080)
out2=$(tcp_req a "$B" 8080)
sleep 0.3
mon_stop
[ "$out2" = "b $A" ] && [[ "$out" != "b "* ]] && pass "a reaches b, client does not" ||
	fail "policy: client got '$out', a got '$out2'"
check "monitor --type policy: client -> b denied (default deny), a -> b allowed by only-a" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/p.json')]
assert all(e['type']=='policy' for e in ev), ev
d=[e for e in ev if e['verdict']=='deny']
a=[e for e in ev if e['verdict']=='allow']
assert d and all(e['src'].startswith('$C:') and e['dst']=='$B:8080' and e['direction']=='ingress' and e['rule']=='default deny' and e['hook']=='to-pod' and e['peer']=='$C' and e['port']==8080 for e in d), d
assert len(a)==1 and a[0]['src'].startswith('$A:') and a[0]['dst']=='$B:8080' and 'only-a' in a[0]['rule'], a
"
rm -f "$BL_MANIFESTS/pol.json"

# ---- errors that say what to do ----
out=$("$BL_BIN/bpfletctl" --instance "nosuch$$" counters 2>&1)
[ $? = 1 ] && grep -q "instance 'nosuch$$' not found" <<<"$out" && grep -q "is its agent running" <<<"$out" &&
	pass "unknown instance: named, with the fix" || fail "unknown instance: $out"
mkdir -p "/sys/fs/bpf/bpflet/nomaps$$"
out=$("$BL_BIN/bpfletctl" --instance "nomaps$$" service get default/web 2>&1)
[ $? = 1 ] && grep -q "map bl_fe_v1 missing" <<<"$out" && grep -q "restart the agent" <<<"$out" &&
	pass "a missing map: named, with the fix" || fail "missing map: $out"
rmdir "/sys/fs/bpf/bpflet/nomaps$$"

[ "$BL_FAILED" -eq 0 ] || { echo "# agent log:"; tail -20 "$BL_AGENT_LOG" | sed 's/^/#   /'; }
bl_summary
