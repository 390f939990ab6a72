#!/usr/bin/env bash
# Backend selection with real traffic: sessionAffinity ClientIP (sticks, expires,
# switched live ClientIP -> None -> ClientIP) and Maglev (table read back through
# bpfletctl, traffic spread), on one node namespace with pods wired by bpflet-cni.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=lb$$
. "$HERE/../../scripts/netns_lib.sh"
. "$HERE/assert.sh"
trap 'bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

VIP_AFF=10.96.1.10
VIP_MG=10.96.1.11

# svc NAME VIP AFFINITY(None|ClientIP) TIMEOUT(""=default) ALGO(""|maglev|random) IP...
svc() {
	local name=$1 vip=$2 aff=$3 timeout=$4 algo=$5 f
	shift 5
	f=$BL_MANIFESTS/$name.yaml.tmp
	{
		echo "apiVersion: v1"
		echo "kind: Service"
		echo "metadata:"
		echo "  name: $name"
		echo "  namespace: default"
		[ -n "$algo" ] && echo "  annotations: {service.bpflet.io/lb-algorithm: $algo}"
		echo "spec:"
		echo "  clusterIP: $vip"
		echo "  sessionAffinity: $aff"
		[ -n "$timeout" ] && echo "  sessionAffinityConfig: {clientIP: {timeoutSeconds: $timeout}}"
		echo "  ports: [{name: p, port: 80, protocol: TCP, targetPort: 8080}]"
		echo "---"
		echo "apiVersion: discovery.k8s.io/v1"
		echo "kind: EndpointSlice"
		echo "metadata: {name: $name-x, namespace: default, labels: {kubernetes.io/service-name: $name}}"
		echo "addressType: IPv4"
		echo "ports: [{name: p, port: 8080, protocol: TCP}]"
		echo "endpoints:"
		for ip in "$@"; do echo "  - {addresses: [\"$ip\"], conditions: {ready: true}}"; done
	} >"$f"
	mv "$f" "${f%.tmp}"
}

# wait_field NAME KEY VALUE: until bpfletctl service list shows KEY == VALUE for NAME.
wait_field() {
	for _ in $(seq 100); do
		"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list 2>/dev/null |
			python3 -c "import json,sys
d=[s for s in json.load(sys.stdin) if s['name']=='default/$1:p']
sys.exit(0 if d and str(d[0]['$2'])=='$3' else 1)" && return 0
		sleep 0.05
	done
	return 1
}

req() { bl_in client timeout 3 socat -T2 - "TCP:$1:80,connect-timeout=2" </dev/null 2>/dev/null | cut -d' ' -f1; }

# hits VIP N: N requests, prints the distinct answering pods (sorted, space separated)
# and "bad" for each failure.
hits() {
	local out i
	for i in $(seq "$2"); do
		out=$(req "$1")
		echo "${out:-bad}"
	done | sort -u | tr '\n' ' '
}

bl_node_up
bl_agent_start --maglev-tables 2 || { fail "agent starts"; exit 1; }
A=$(bl_pod_add a) && B=$(bl_pod_add b) && C=$(bl_pod_add c) && bl_pod_add client >/dev/null ||
	{ fail "pods wired by bpflet-cni"; exit 1; }
for p in a b c; do bl_serve_echo "$p" 8080; done
bl_wait_port a 8080 && bl_wait_port b 8080 && bl_wait_port c 8080

# --- sessionAffinity ClientIP -------------------------------------------------
svc sticky "$VIP_AFF" ClientIP 1 "" "$A" "$B" "$C"
check "sticky programmed with ClientIP affinity, timeout 1 s" wait_field sticky affinity_timeout 1
got=$(hits "$VIP_AFF" 15)
[[ "$got" =~ ^[abc]\ $ ]] && pass "15 requests with ClientIP affinity hit one backend ($got)" ||
	fail "affinity: 15 requests reached '$got'"

# After the timeout a new choice is made: over 8 expiries more than one backend shows up
# (all the same by chance: (1/3)^7).
seen=""
for _ in $(seq 8); do
	sleep 1.6
	seen="$seen $(req "$VIP_AFF")"
done
n=$(tr ' ' '\n' <<<"$seen" | grep -E '^[abc]$' | sort -u | wc -l)
[ "$n" -ge 2 ] && pass "after each 1 s timeout the backend is chosen again ($seen)" ||
	fail "affinity never expired: $seen"

# Live switch ClientIP -> None: requests spread again.
svc sticky "$VIP_AFF" None "" "" "$A" "$B" "$C"
check "switched to None live" wait_field sticky affinity None
got=$(hits "$VIP_AFF" 30)
[[ "$got" != *bad* ]] && [ "$(wc -w <<<"$got")" -ge 2 ] &&
	pass "affinity None: 30 requests spread over backends ($got)" || fail "None: '$got'"

# ... and back to ClientIP with the default timeout.
svc sticky "$VIP_AFF" ClientIP "" "" "$A" "$B" "$C"
check "back to ClientIP with the default 10800 s" wait_field sticky affinity_timeout 10800
got=$(hits "$VIP_AFF" 15)
[[ "$got" =~ ^[abc]\ $ ]] && pass "ClientIP again: 15 requests hit one backend ($got)" ||
	fail "ClientIP again: '$got'"

# The affinity map holds the client's entry (bpftool reads it through the pin).
out=$(bpftool -j map dump pinned "/sys/fs/bpf/bpflet/$BL_INSTANCE/bl_aff_v1" 2>/dev/null |
	python3 -c "import json,sys; print(len(json.load(sys.stdin)))" 2>/dev/null)
[ "${out:-0}" -ge 1 ] && pass "affinity map holds the client's entry ($out)" ||
	fail "affinity map entries: ${out:-none}"

# --- Maglev -------------------------------------------------------------------
svc mg "$VIP_MG" None "" maglev "$A" "$B" "$C"
check "mg programmed with Maglev" wait_field mg algorithm maglev
json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json maglev show default/mg)
check "bpfletctl maglev show: M=16381, 3 backends, shares within 2% of even" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
assert len(d)==1 and d[0]['algorithm']=='maglev', d
t=d[0]['table']
assert t['size']==16381 and t['base']%16381==0, t
b=t['backends']
assert len(b)==3 and sum(x['slots'] for x in b)==16381, b
assert sorted(x['endpoint'] for x in b)==sorted(['$A:8080','$B:8080','$C:8080']), b
assert all(abs(x['share']-1/3)<0.02 for x in b), b
" "$json"
got=$(hits "$VIP_MG" 30)
[[ "$got" != *bad* ]] && [ "$(wc -w <<<"$got")" -ge 2 ] &&
	pass "Maglev: 30 connections answered, spread over backends ($got)" || fail "Maglev: '$got'"

# One backend leaves: c's entries move, the others' stay (all but a handful).
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json maglev show default/mg --entries >"$BL_WORK/mg1.json"
svc mg "$VIP_MG" None "" maglev "$A" "$B"
bl_wait_backends mg 2
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json maglev show default/mg --entries >"$BL_WORK/mg2.json"
check "removing c moved all of c's Maglev entries and under 1% of the others" python3 -c "
import json,sys
b=json.load(open(sys.argv[1]))[0]['table']; a=json.load(open(sys.argv[2]))[0]['table']
ids={x['id']:x['endpoint'] for x in b['backends']}
c=[i for i,e in ids.items() if e=='$C:8080'][0]
moved=[i for i,(x,y) in enumerate(zip(b['entries'],a['entries'])) if x!=y]
own=sum(1 for x in b['entries'] if x==c)
others=sum(1 for i in moved if b['entries'][i]!=c)
assert c not in a['entries'] and len(moved)-others==own, (len(moved), own)
assert others < 16381//100, others
" "$BL_WORK/mg1.json" "$BL_WORK/mg2.json"
got=$(hits "$VIP_MG" 20)
[[ "$got" =~ ^(a\ |a\ b\ |b\ )$ ]] && pass "after removing c: 20 connections reach only a/b ($got)" ||
	fail "after removing c: '$got'"

json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list)
check "bpfletctl service list shows algorithm and affinity" python3 -c "
import json,sys
d={s['name']:s for s in json.loads(sys.argv[1])}
assert d['default/mg:p']['algorithm']=='maglev' and d['default/mg:p']['affinity']=='None'
assert d['default/sticky:p']['algorithm']=='random' and d['default/sticky:p']['affinity']=='ClientIP'
" "$json"

# --- Maglev table space (--maglev-tables 2): mg holds one, mg2 the other ---------
svc mg2 10.96.1.12 None "" maglev "$A" "$B"
check "mg2 gets the second Maglev table" wait_field mg2 algorithm maglev
svc mg3 10.96.1.13 None "" maglev "$A" "$B"
bl_wait_backends mg3 2
got=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service list |
	python3 -c "import json,sys; print([s['algorithm'] for s in json.load(sys.stdin) if s['name']=='default/mg3:p'])")
[ "$got" = "['random']" ] && grep -q "Maglev table space full" "$BL_AGENT_LOG" &&
	pass "table space full: mg3 served by random selection, warning logged" ||
	fail "mg3 with full table space: $got"
out=$(ip netns exec "$BL_NODE" curl -s http://127.0.0.1:10249/metrics)
grep -qE '^bpflet_maglev_fallbacks_total [1-9]' <<<"$out" &&
	grep -qE '^bpflet_maglev_entries_written_total [1-9]' <<<"$out" &&
	pass "/metrics: Maglev entries written and fallbacks" || fail "Maglev metrics"
got=$(hits 10.96.1.13 10)
[[ "$got" != *bad* ]] && pass "mg3 answers meanwhile ($got)" || fail "mg3: '$got'"
rm -f "$BL_MANIFESTS/mg2.yaml"
check "mg2 removed: its table goes to mg3" wait_field mg3 algorithm maglev

[ "$BL_FAILED" -eq 0 ] || { echo "# agent log:"; tail -30 "$BL_AGENT_LOG" | sed 's/^/#   /'; }
bl_summary
