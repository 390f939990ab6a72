#!/usr/bin/env bash
# The scheduler (make bench): 50 Ready nodes, then 1000 pods created pending and bound by
# bpflet-controlplane, beside 1000 pods created already bound, on one server in one run:
# wall time until every pod is bound, the server's CPU for each, and how evenly the pods
# spread (least loaded first). The creates go through kubectl, one connection.
#   BL_BIN=build/bin bash selftests/bench/scheduler.sh   (SCHED_PODS=N, SCHED_NODES=N)
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${BL_BIN:-$ROOT/build/bin}")
PODS=${SCHED_PODS:-1000}
NODES=${SCHED_NODES:-50}
WORK=$(mktemp -d "/tmp/bpflet-schedbench-$$.XXXXXX")
SRV_PID=
cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

CP=$BIN/bpflet-controlplane
. "$ROOT/selftests/controlplane/cp_up.sh"
# nodes here have no kubelet: a grace period longer than the run keeps them Ready
cp_up "$WORK/server.log" "$WORK/data" --node-monitor-grace-period 3600 --compaction-interval 0 ||
	{ echo "bench: the control plane does not start" >&2; exit 1; }
PORT=$CP_PORT
SRV_PID=$CP_PID
K() { kubectl --kubeconfig "$WORK/data/admin.kubeconfig" --request-timeout=60s "$@"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$SRV_PID/stat"; }
now() { date +%s.%N; }

# items KIND N NAME-PREFIX [NODE-PREFIX]: a List of N objects (pods bound round-robin
# to NODE-PREFIX0.. when given)
items() {
	python3 - "$@" <<'PY'
import json, sys
kind, n, prefix = sys.argv[1], int(sys.argv[2]), sys.argv[3]
bind = sys.argv[4] if len(sys.argv) > 4 else None
nodes = int(sys.argv[5]) if len(sys.argv) > 5 else 1
out = []
for i in range(n):
    if kind == "Node":
        out.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"{prefix}{i}"},
                    "status": {"allocatable": {"cpu": "32", "memory": "128Gi", "pods": "110"},
                               "conditions": [{"type": "Ready", "status": "True"}]}})
        continue
    spec = {"containers": [{"name": "c", "image": "x",
                            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}}}]}
    if bind:
        spec["nodeName"] = f"{bind}{i % nodes}"
    out.append({"apiVersion": "v1", "kind": "Pod",
                "metadata": {"name": f"{prefix}{i}", "namespace": "bench"}, "spec": spec})
print(json.dumps({"apiVersion": "v1", "kind": "List", "items": out}))
PY
}
unbound() {
	K -n bench get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' 2>/dev/null |
		grep -c '^$'
}

items Node "$NODES" n >"$WORK/nodes.json"
K create --validate=false -f "$WORK/nodes.json" >/dev/null || exit 1
K create ns bench >/dev/null || exit 1
items Pod "$PODS" bound- n "$NODES" >"$WORK/bound.json"
items Pod "$PODS" pending- >"$WORK/pending.json"

c0=$(cpu_ticks) t0=$(now)
K create --validate=false -f "$WORK/bound.json" >/dev/null || exit 1
t1=$(now) c1=$(cpu_ticks)
echo "   $PODS pods created already bound: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s," \
	"server CPU $(echo "($c1 - $c0) / 100" | bc -l | xargs printf '%.2f') s"

c0=$(cpu_ticks) t0=$(now)
K create --validate=false -f "$WORK/pending.json" >/dev/null || exit 1
for _ in $(seq 600); do
	[ "$(unbound)" = 0 ] && break
	sleep 0.1
done
t1=$(now) c1=$(cpu_ticks)
left=$(unbound)
echo "   $PODS pods created pending, all bound by the scheduler: $(echo "$t1 - $t0" | bc -l | xargs printf '%.2f') s," \
	"server CPU $(echo "($c1 - $c0) / 100" | bc -l | xargs printf '%.2f') s ($left left unbound)"
K -n bench get pods -o jsonpath='{range .items[*]}{.spec.nodeName}{"\n"}{end}' |
	sort | uniq -c | awk -v n="$NODES" '{c[NR] = $1} END {
		min = c[1]; max = c[1]
		for (i in c) { if (c[i] < min) min = c[i]; if (c[i] > max) max = c[i] }
		printf "   pods per node (both sets): %d..%d over %d of %d nodes\n", min, max, NR, n }'
[ "$left" = 0 ]
