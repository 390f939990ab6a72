#!/usr/bin/env bash
# bpfletctl on the north-south path: an external client reaches a NodePort translated
# at XDP (xdp_uplink). monitor shows the flow from the uplink and a drop at XDP with
# its reason; monitor --pcap holds the frames XDP received (before DNAT: tcpdump on the
# node cannot see them, XDP runs first); service get and counters count the flows.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=ix$$
. "$HERE/../../scripts/multinode_lib.sh"
. "$HERE/assert.sh"
MON_PID=
trap '[ -n "$MON_PID" ] && kill -KILL "$MON_PID" 2>/dev/null; mn_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

N1=$(mn_ip 1)
EXT=$MN_EXT_IP

# nodeport NAME PORT EXTRA ENDPOINT/NODE: a NodePort Service on TCP 80 → 8080
nodeport() {
	local f=/tmp/bpflet-${MN_TAG}n1/manifests/$1.yaml
	cat >"$f.tmp" <<YAML
apiVersion: v1
kind: Service
metadata: {name: $1, namespace: default}
spec:
  type: NodePort
  clusterIP: 10.96.6.$(($2 - 30000))
  $3
  ports: [{name: t, port: 80, protocol: TCP, targetPort: 8080, nodePort: $2}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: $1-x, namespace: default, labels: {kubernetes.io/service-name: $1}}
addressType: IPv4
ports: [{name: t, port: 8080, protocol: TCP}]
endpoints:
  - {addresses: ["${4%/*}"], nodeName: ${4#*/}, conditions: {ready: true}}
YAML
	mv "$f.tmp" "$f"
}

mn_up 1 || { fail "a node and an external client"; exit 1; }
mn_node_objects
mn_agent_start 1 --uplink uplink0 --xdp-mode skb || { fail "agent starts with --uplink"; exit 1; }
A=$(bl_pod_add a) || { fail "pod a"; exit 1; }
bl_serve_echo a 8080
bl_wait_port a 8080
ip netns exec "$BL_NODE" ping -c1 -W1 "$EXT" >/dev/null 2>&1
nodeport np 30091 "" "$A/node1"
nodeport far 30092 "externalTrafficPolicy: Local" "10.244.9.9/node9"
programmed() { bl_wait_backends np 2 && bl_wait_backends far 1; }
check "agent programmed np (ClusterIP + NodePort) and far (its ClusterIP backend only)" programmed
out=
for _ in $(seq 20); do
	out=$(mn_ext_tcp "$N1" 30091)
	[ "$out" = "a $EXT" ] && break
	sleep 0.1
done
[ "$out" = "a $EXT" ] && pass "NodePort $N1:30091 answered by a, client address kept" ||
	fail "NodePort: '$out'"

W=$BL_WORK
"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json monitor --pcap "$W/xdp.pcap" \
	--addr "$EXT" >"$W/mon.json" 2>"$W/mon.err" &
MON_PID=$!
for _ in $(seq 100); do grep -q "monitoring instance" "$W/mon.err" && break; sleep 0.05; done
for _ in 1 2 3; do mn_ext_tcp "$N1" 30091 >/dev/null; done
out=$(mn_ext_tcp "$N1" 30092)
sleep 0.3
kill -INT "$MON_PID"
wait "$MON_PID"
MON_PID=
[ "$out" = timeout ] && pass "externalTrafficPolicy Local without a local endpoint: dropped" ||
	fail "ETP Local without endpoint: '$out'"
check "monitor: 3 flows from the uplink, $EXT -> $N1:30091 => $A:8080, default/np:t" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/mon.json')]
fl=[e for e in ev if e['type']=='flow']
assert len(fl)==3, ev
for e in fl:
    assert e['hook']=='xdp-uplink' and e['src'].startswith('$EXT:') and e['dst']=='$N1:30091', e
    assert e['backend']=='$A:8080' and e['service']=='default/np:t', e
"
check "monitor: drop events at XDP for $N1:30092, reason drop_no_local_endpoint" python3 -c "
import json
ev=[json.loads(l) for l in open('$W/mon.json')]
d=[e for e in ev if e['type']=='drop']
assert d and all(e['hook']=='xdp-uplink' and e['dst']=='$N1:30092' and e['reason']=='drop_no_local_endpoint' for e in d), d
"
tcpdump -nn -r "$W/xdp.pcap" 2>/dev/null >"$W/xdp.txt"
check "pcap: 3 SYNs $EXT -> $N1.30091 as XDP received them, 3 to $A.8080 after DNAT" python3 -c "
import re
l=open('$W/xdp.txt').read().splitlines()
n=lambda p: len([x for x in l if re.search(p, x)])
assert n(r' $EXT\.\d+ > $N1\.30091: Flags \[S\]')==3, l[:6]
assert n(r' $EXT\.\d+ > $A\.8080: Flags \[S\]')==3, l[:6]
assert n(r' $EXT\.\d+ > $N1\.30092: Flags \[S\]')>=1
assert all('$EXT' in x for x in l if ' > ' in x), 'the --addr filter let other packets in'
"

json=$("$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json service get default/np)
check "service get default/np: the NodePort frontend (external) counted, its local backend too" python3 -c "
import json,sys
d=json.loads(sys.argv[1])
f={(x['ip'],x['port'],x['scope']):x for x in d['frontends']}
np=f[('$N1',30091,'external')]
assert np['counters']['packets']>=4*5, np   # 4 connections, 5 packets or more each way
b=d['backends'][0]
assert (b['ip'],b['port'])==('$A',8080) and b['counters']['packets']>=np['counters']['packets'], b
" "$json"

bl_summary
