#!/usr/bin/env bash
# The agent on the API at scale (make bench): bpflet-controlplane holding 10k Services
# x 10 endpoints (seeded), the agent started on --kubeconfig alone; the time from the
# agent's start until the maps hold every frontend, its resident memory, then the
# latency from an EndpointSlice PATCH to the frontend map (bench_kube_change).
# KAB_KEEP_LOG=FILE keeps the agent's log; KAB_AGENT_ARGS adds arguments (e.g. -v).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=kab$$
. "$HERE/../../scripts/netns_lib.sh"
NSVC=${KAB_SERVICES:-10000}
CHANGES=${KAB_CHANGES:-300}
CP_PID=
trap '[ -n "${KAB_KEEP_LOG:-}" ] && cp "$BL_AGENT_LOG" "$KAB_KEEP_LOG"
[ -n "$CP_PID" ] && kill "$CP_PID" 2>/dev/null; bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE

ms_of() { # HH:MM:SS.mmm -> ms since midnight
	awk -F'[:.]' '{print (($1 * 60 + $2) * 60 + $3) * 1000 + $4}' <<<"$1"
}
bl_node_up
mkdir -p -m 0700 "$BL_WORK/cp"
"$BL_BIN/bench_cp" seed "$BL_WORK/cp/state.db" "$NSVC" 10 plain | sed 's/^/   /' || exit 1
ip netns exec "$BL_NODE" "$BL_BIN/bpflet-controlplane" --data-dir "$BL_WORK/cp" \
	--listen 127.0.0.1:6443 --compaction-interval 0 >>"$BL_WORK/cp.log" 2>&1 &
CP_PID=$!
for _ in $(seq 100); do
	ip netns exec "$BL_NODE" curl -sk -m 1 https://127.0.0.1:6443/readyz >/dev/null 2>&1 && break
	sleep 0.1
done
start=$(date +%H:%M:%S.%3N)
BL_AGENT_API_ONLY=1 bl_agent_start --kubeconfig "$BL_WORK/cp/admin.kubeconfig" \
	--node-name "$BL_TAG-n1" --node-ip 192.168.254.1 ${KAB_AGENT_ARGS:-} || exit 1
# the seeded Services, and default/kubernetes when the control plane made it first
synced="synced ($NSVC|$((NSVC + 1))) frontends"
for _ in $(seq 1200); do
	grep -qE "$synced" "$BL_AGENT_LOG" && break
	sleep 0.05
done
line=$(grep -m1 -E "$synced" "$BL_AGENT_LOG") || {
	echo "bench: the agent never synced $NSVC frontends" >&2
	tail -5 "$BL_AGENT_LOG" >&2
	exit 1
}
listed=$(grep -E "listed [0-9]+ objects" "$BL_AGENT_LOG" | tail -1 | cut -d' ' -f1)
t0=$(ms_of "$start") t1=$(ms_of "$(cut -d' ' -f1 <<<"$line")") tl=$(ms_of "$listed")
# the Services are compiled while the BPF objects load when the lists are in first
pre=$(sed -nE 's/.* Services compiled in ([0-9.]+) ms while the dataplane loads.*/\1/p' "$BL_AGENT_LOG" | head -1)
echo "   full sync: agent start -> $NSVC frontends in the maps: $((t1 - t0)) ms" \
	"(lists received after $((tl - t0)) ms;${pre:+ compiled during the BPF load in $pre ms;}" \
	"sync $(sed -E 's/.* in ([0-9.]+) ms.*/\1/' <<<"$line") ms)"
rss() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$BL_AGENT_PID/status"; }
echo "   agent resident memory after the sync: $(rss VmRSS) MiB (peak $(rss VmHWM) MiB)"
# CPU time is less at the mercy of a shared machine than the wall clock (the BPF
# verifier's work counts as the agent's system time)
awk -v hz="$(getconf CLK_TCK)" '{printf "   agent CPU until synced: %d ms user, %d ms system\n", $14 * 1000 / hz, $15 * 1000 / hz}' \
	"/proc/$BL_AGENT_PID/stat"
: >"$BL_AGENT_LOG.changes"
tail -n0 -f "$BL_AGENT_LOG" >"$BL_AGENT_LOG.changes" &
tail_pid=$!
fe_map=$(grep -o '"bl_fe_v[0-9]*"' "$HERE/../../headers/bpflet/abi.h" | tr -d '"')
"$BL_BIN/bench_kube_change" https://127.0.0.1:6443 "$BL_WORK/cp/pki" \
	"/sys/fs/bpf/bpflet/$BL_INSTANCE/$fe_map" "$NSVC" "$CHANGES" "/var/run/netns/$BL_NODE" |
	sed 's/^/   /'
rc=${PIPESTATUS[0]}
kill "$tail_pid" 2>/dev/null
# the agent's own share, from its log: compile + write, and the watch event's
# arrival to the end of its write
pct() { # pct LABEL: p50/p99 of the numbers on stdin
	sort -n | awk -v l="$1" '{v[NR] = $1}
	END {
		if (!NR) exit
		i = int(NR * 0.99) + 1
		if (i > NR) i = NR
		printf "   %s: p50 %.2f ms, p99 %.2f ms over %d syncs\n", l, v[int(NR / 2) + 1], v[i], NR
	}'
}
grep -E "\(\+0 ~1 -0 frontends\)" "$BL_AGENT_LOG.changes" >"$BL_WORK/changes.txt"
sed -E 's/.* in ([0-9.]+) ms.*/\1/' "$BL_WORK/changes.txt" | pct "agent sync per change (compile + diff + write)"
sed -nE 's/.* ([0-9.]+) ms after the API.s change arrived.*/\1/p' "$BL_WORK/changes.txt" |
	pct "agent: watch event arrived -> map written"
echo "   agent resident memory after the changes: $(rss VmRSS) MiB (peak $(rss VmHWM) MiB)"
exit "$rc"
