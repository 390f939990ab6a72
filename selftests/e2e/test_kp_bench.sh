#!/usr/bin/env bash
# The kube-proxy comparison's harness (selftests/bench/kp_bench.sh) measures what it
# says: a tiny run (10 Services, 3 endpoints, one short round) must show every path
# delivering to the backends it should (the backends' own kernel counters), each
# dataplane alone on its node, iptables' DNAT rules counting, and every figure of the
# table present. Figures themselves are for make bench, not asserted here.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/assert.sh"
OUT=/tmp/bpflet-kpt$$.json
trap 'rm -f "$OUT" "${OUT%.json}.txt"' EXIT

log=$(KP_SERVICES=10 KP_EPS=3 KP_REPS=1 KP_SECS=0.3 KP_CHANGES=1 KP_SYNC_REPS=1 \
	KP_IPTABLES_NFT_MAX=10 KP_OUT="$OUT" bash "$HERE/../bench/kp_bench.sh" 2>&1)
rc=$?
[ $rc = 0 ] && pass "kp_bench.sh ran to the end and its own checks held" ||
	fail "kp_bench.sh exited $rc: $(tail -5 <<<"$log")"
[ -s "$OUT" ] || {
	fail "no results in $OUT"
	bl_summary
	exit 1
}

# every check the harness made, one line each
while IFS=$'\t' read -r ok what; do
	[ "$ok" = True ] && pass "$what" || fail "$what"
done < <(python3 -c "
import json, sys
for c in json.load(open(sys.argv[1]))['checks']:
    print(f\"{c['ok']}\t{c['check']}\")" "$OUT")

check "the harness made the per-path checks (4 paths x 5, plus iptables' DNAT counters)" \
	python3 -c "import json,sys; sys.exit(len(json.load(open(sys.argv[1]))['checks']) != 21)" "$OUT"

# the table's figures: traffic for every path, control-plane timings for every dataplane
check "traffic figures (rr, crr, connect p50/p99, udp) above zero for every path" python3 -c "
import json, sys
t = json.load(open(sys.argv[1]))['n']['10']['traffic']
sys.exit(not all(t[f][p]['median'] > 0 for f in ('rr', 'crr', 'connect_p50_us', 'connect_p99_us', 'udp')
                 for p in ('direct', 'bpflet', 'iptables', 'nftables')))" "$OUT"
check "change and full-sync times for bpflet, iptables, nftables (and iptables-nft's full sync)" \
	python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['n']['10']['control']
need = {'change_ms': ['bpflet', 'bpflet-agent-sync', 'iptables', 'nftables'],
        'full_sync_ms': ['bpflet', 'bpflet-agent-sync', 'iptables', 'nftables', 'iptables-nft']}
sys.exit(not all(c[f][p]['median'] > 0 and len(c[f][p]['samples']) >= 1
                 for f, ps in need.items() for p in ps))" "$OUT"
check "bpflet's change was measured on the map (edit -> count 2 and back) after its agent's sync" \
	python3 -c "
import json, sys
c = json.load(open(sys.argv[1]))['n']['10']['control']['change_ms']
sys.exit(not (len(c['bpflet']['samples']) == 2 and
              c['bpflet']['median'] >= c['bpflet-agent-sync']['median']))" "$OUT"
check "the table printed ratios to direct and the control-plane rows" grep -q "nft -f" <<<"$log"
bl_summary
