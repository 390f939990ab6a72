#!/usr/bin/env bash
# NetworkPolicy in the agent on the API at scale (make bench): bpflet-controlplane
# holding 1k NetworkPolicies over 10k pods in 100 namespaces (bench_cp seed-netpol), the
# agent on --kubeconfig alone. Reports the time from the agent's start to the policy
# maps written, its memory, then for pod label changes, policy edits and namespace
# label changes made with kubectl: the agent's own policy pass (objects read, the
# changed ones compiled, the delta written; from its log) and kubectl's start -> maps
# written, beside kubectl's own run time.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
BL_TAG=npb$$
. "$HERE/../../scripts/netns_lib.sh"
trap '[ -n "${NPB_KEEP_LOG:-}" ] && cp "$BL_AGENT_LOG" "$NPB_KEEP_LOG"; bl_teardown' EXIT
trap 'exit 130' INT TERM HUP PIPE
N=${NPB_CHANGES:-15}
k() { ip netns exec "$BL_NODE" kubectl --kubeconfig "$BL_KCFG" "$@"; }
ms_of() { # HH:MM:SS.mmm -> ms since midnight
	awk -F'[:.]' '{print (($1 * 60 + $2) * 60 + $3) * 1000 + $4}' <<<"$1"
}
now_ms() { ms_of "$(date +%H:%M:%S.%3N)"; }
# pass_after T: waits for the agent's first policy pass logged after T (ms); prints
# "<its duration ms> <its end ms>"
pass_after() {
	local t=$1 line ts
	for _ in $(seq 400); do
		while read -r line; do
			ts=$(ms_of "${line%% *}")
			if [ "$ts" -ge "$t" ]; then
				echo "$(sed -E 's/.* in ([0-9.]+) ms .*compiled ([0-9.]+), delta ([0-9.]+), write ([0-9.]+).*/\1 \2 \3 \4/' <<<"$line") $ts"
				return 0
			fi
		done < <(grep -E "policy: [0-9]+ entries written, [0-9]+ removed in" "$BL_AGENT_LOG")
		sleep 0.05
	done
	return 1
}
stats() { # stats LABEL: p50/max of the numbers on stdin
	sort -n | awk -v l="$1" '{v[NR] = $1} END {
		if (NR) printf "   %s: p50 %.2f ms, max %.2f ms over %d\n", l, v[int(NR / 2) + 1], v[NR], NR }'
}

bl_node_up
mkdir -p -m 0700 "$BL_CP_DATA"
# the pods are bound to the agent's node: the scheduler leaves them alone
"$BL_BIN/bench_cp" seed-netpol "$BL_CP_DATA/state.db" "$BL_TAG-n1" | sed 's/^/   /' || exit 1
bl_cp_start || { echo "bench: the control plane does not start" >&2; exit 1; }
start=$(now_ms)
BL_AGENT_API_ONLY=1 bl_agent_start --kubeconfig "$BL_KCFG" --node-name "$BL_TAG-n1" \
	--node-ip 192.168.254.1 || exit 1
for _ in $(seq 1200); do
	grep -qE "policy: [0-9]{6,} entries written" "$BL_AGENT_LOG" && break
	sleep 0.05
done
line=$(grep -m1 -E "policy: [0-9]{6,} entries written" "$BL_AGENT_LOG") || {
	echo "bench: the agent never wrote the policy maps" >&2
	tail -5 "$BL_AGENT_LOG" >&2
	exit 1
}
echo "   agent start -> policy maps written: $(($(ms_of "${line%% *}") - start)) ms" \
	"($(sed -E 's/.*policy: ([0-9]+) entries written.* in ([0-9.]+) ms.*/\1 entries; the pass itself \2 ms/' <<<"$line"))"
rss() { awk -v k="$1" '$1 == k":" {printf "%.1f", $2 / 1024}' "/proc/$BL_AGENT_PID/status"; }
echo "   agent resident memory: $(rss VmRSS) MiB (peak $(rss VmHWM) MiB)"
sleep 1
# change KIND: N changes made with kubectl, each waited for in the agent's log
change() {
	local what=$1 i t0 t1 r
	: >"$BL_WORK/pass.txt"
	: >"$BL_WORK/objects.txt"
	: >"$BL_WORK/compile.txt"
	: >"$BL_WORK/e2e.txt"
	: >"$BL_WORK/kubectl.txt"
	for i in $(seq "$N"); do
		case $what in
		label) # a client pod becomes a server and back
			p=$((5001 + 21 * ((i - 1) / 2)))
			v=server
			[ $((i % 2)) = 0 ] && v=client
			t0=$(now_ms)
			k label --overwrite pod "pod-$p" -n "ns-$((p % 100))" "role=$v" >/dev/null ;;
		policy) # a policy's second peer asks for another team
			t0=$(now_ms)
			k patch networkpolicy "pol-$((10 + 31 * i))" -n "ns-$(((10 + 31 * i) % 100))" \
				--type=json -p '[{"op": "replace", "path": "/spec/ingress/0/from/1/namespaceSelector/matchLabels/team", "value": "team-x"}]' >/dev/null ;;
		namespace)
			t0=$(now_ms)
			k label --overwrite namespace "ns-$((3 + i))" team=team-y >/dev/null ;;
		esac
		t1=$(now_ms)
		r=$(pass_after "$t0") || { echo "   $what $i: no policy pass logged" >&2; continue; }
		read -r total objects compile write end <<<"$r"
		echo "$total" >>"$BL_WORK/pass.txt"
		echo "$objects" >>"$BL_WORK/objects.txt"
		echo "$compile $write" | awk '{print $1 + $2}' >>"$BL_WORK/compile.txt"
		echo $((end - t0)) >>"$BL_WORK/e2e.txt"
		echo $((t1 - t0)) >>"$BL_WORK/kubectl.txt"
		sleep 0.2
	done
	stats "$2: the agent's policy pass" <"$BL_WORK/pass.txt"
	stats "$2:   of which reading the objects, compiling the changed ones" <"$BL_WORK/objects.txt"
	stats "$2:   of which the delta and its map writes" <"$BL_WORK/compile.txt"
	stats "$2: kubectl started -> maps written" <"$BL_WORK/e2e.txt"
	stats "$2: (kubectl's own run, for scale)" <"$BL_WORK/kubectl.txt"
}
change label "a pod's labels"
change policy "a policy edited"
change namespace "a namespace's labels"
echo "   agent resident memory after the changes: $(rss VmRSS) MiB (peak $(rss VmHWM) MiB)"
