#!/usr/bin/env bash
# make bench, kube-proxy side by side: the same traffic from a client pod to one Service
# of EPS endpoints (backend pods), with N Services loaded, through
#   direct    the backend's pod IP on a node with no programs and no rules (the limit)
#   bpflet    the agent on its node (--manifests), tc_pod on every pod's veth
#   iptables  kube-proxy's iptables rule set (kp_rules.py) on its own node
#   nftables  kube-proxy's nftables table (kp_rules.py) on its own node
# Four node namespaces with the same pods (a client and EPS backends, all wired by
# bpflet-cni; the agent then stopped and --cleanup'd on every node but bpflet's), so
# each dataplane is the only translation on its node (checked, and written to the JSON),
# plus a fifth, pod-less node where the agent's full sync is timed from its start.
#
# Per N: full sync (agent start -> all frontends in the maps; iptables-restore of the
# whole set; nft -f of the whole table), one-endpoint change (manifest edit -> map entry;
# iptables-restore --noflush / nft -f of kube-proxy's partial sync), then REPS rounds of
# TCP request/response, connect+request/response (new connections/s and connect()
# latency p50/p99) and UDP request/response, SECS per path: one tcp_rr process takes the
# four paths in turns of SLICE ms, and a round's rate is the median of its slices' rates
# (the machine is shared: slices where other jobs had the CPU fall out of the median).
# The backends' own kernel counters (TcpPassiveOpens, UdpInDatagrams) prove that each
# path delivered to every endpoint. Results: a table of ratios to direct, JSON in OUT.
#
# Defaults keep the run near 8 minutes on 2 vCPUs, most of it in the N=10000 full syncs
# (nft -f of a 10k-Service table alone takes 1-3 minutes here), which is why those are
# done KP_SYNC_REPS_BIG times (default once) and the smaller ones KP_SYNC_REPS times.
# iptables is iptables-legacy by default: iptables-nft-restore --noflush grows
# superlinearly here (1k Services 8 s, 2k 56 s) and is timed on its own up to 1k.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
MN_TAG=kp$$
. "$HERE/../../scripts/multinode_lib.sh"
KW=/tmp/bpflet-$MN_TAG-kp
cleanup() {
	trap '' PIPE INT TERM HUP
	mn_teardown
	rm -rf "$KW"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

read -r -a NS_LIST <<<"${KP_SERVICES:-10 1000 10000}"
EPS=${KP_EPS:-10}
REPS=${KP_REPS:-5}
SECS=${KP_SECS:-1}
SLICE=${KP_SLICE_MS:-25}         # the paths take turns in slices this long
# client and servers on one CPU: a transaction never waits for a wakeup on the other
# CPU, where another job's load would make one path slow and not the next
CPU=${KP_CPU:-$(($(nproc) - 1))}
PAIRS=${KP_CHANGES:-3}          # drop-one/put-back pairs per dataplane and N
SYNC_REPS=${KP_SYNC_REPS:-3}    # full syncs per dataplane below 10k Services
SYNC_REPS_BIG=${KP_SYNC_REPS_BIG:-1}
IPTNFT_MAX=${KP_IPTABLES_NFT_MAX:-1000}
OUT=${KP_OUT:-$BL_ROOT/build/bench-kp.json}
GEN="$HERE/kp_rules.py"
PATHS=(direct bpflet iptables nftables)
declare -A NODE_OF=([direct]=1 [bpflet]=2 [iptables]=3 [nftables]=4)
SCRATCH=5
FE_MAP=$(grep -o '"bl_fe_v[0-9]*"' "$BL_ROOT/headers/bpflet/abi.h" | tr -d '"')
declare -A BACKENDS=()
mkdir -p "$KW"
RES=$KW/results.txt
: >"$RES"

for tool in iptables-legacy-restore iptables-nft-restore nft python3 bpftool; do
	command -v $tool >/dev/null || {
		echo "kp_bench: $tool is missing (make deps)" >&2
		exit 1
	}
done
node() { echo "${MN_TAG}n$1-node"; }
in_node() {
	local i=$1
	shift
	ip netns exec "$(node "$i")" "$@"
}
record() { echo "$*" >>"$RES"; }
note() { echo "   $*"; }

# timed_ms NODE FILE CMD...: milliseconds CMD takes reading FILE, timed inside NODE
# (so `ip netns exec` is not counted); nothing printed and status 1 if CMD fails.
timed_ms() {
	local i=$1 f=$2 t
	shift 2
	t=$(in_node "$i" bash -c 't0=$EPOCHREALTIME; "$@" <"$0" >/dev/null || exit 1
		t1=$EPOCHREALTIME; echo "$t0 $t1"' "$f" "$@") || return 1
	awk '{printf "%.3f\n", ($2 - $1) * 1000}' <<<"$t"
}

# ---------------------------------------------------------------- topology
echo "== kube-proxy side by side: ${NS_LIST[*]} Services x $EPS endpoints, $REPS x ${SECS}s per figure"
t_setup=$EPOCHREALTIME
started=$(date -u '+%Y-%m-%d %H:%M UTC')
mn_up 5 || exit 1
for i in 1 2 3 4; do
	mn_agent_start "$i" || exit 1
	bl_pod_add c >/dev/null || exit 1
	ips=()
	for b in $(seq 0 $((EPS - 1))); do
		ip=$(bl_pod_add "b$b") || exit 1
		ips+=("$ip")
		bl_bg "b$b" taskset -c "$CPU" "$BL_BIN/tcp_rr" -s 7000
	done
	BACKENDS[$i]=$(
		IFS=,
		echo "${ips[*]}"
	)
done
for i in 1 3 4; do
	mn_agent_stop "$i"
	"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" --cleanup \
		>>"$BL_AGENT_LOG" 2>&1 || exit 1
done
for i in 1 2 3 4; do
	mn_use "$i"
	for b in $(seq 0 $((EPS - 1))); do bl_wait_port "b$b" 7000 || exit 1; done
done

# isolation: which translators exist on each node (recorded; the report asserts them)
isolation() {
	local i=$1
	printf '%s %s %s' \
		"$(in_node "$i" bpftool net show 2>/dev/null | grep -c tc_pod)" \
		"$(in_node "$i" cat /proc/net/ip_tables_names 2>/dev/null | grep -c .)" \
		"$(in_node "$i" nft list tables 2>/dev/null | grep -c .)"
}

# ---------------------------------------------------------------- per N
vip_of() { python3 -c "import ipaddress; print(ipaddress.IPv4Address('10.97.0.0') + $1)"; }

gen() { # gen FILE ARGS...: a kp_rules.py output into FILE
	local f=$1
	shift
	python3 "$GEN" "$@" >"$f" || {
		echo "kp_bench: kp_rules.py $* failed" >&2
		exit 1
	}
}

# agent_synced I N FROM: until node I's log (from line FROM) says N frontends synced;
# prints that line
agent_synced() {
	local log=/tmp/bpflet-${MN_TAG}n$1/agent.log line
	for _ in $(seq 3000); do
		line=$(tail -n +"$3" "$log" | grep -m1 "synced $2 frontends") && {
			echo "$line"
			return 0
		}
		sleep 0.05
	done
	echo "kp_bench: node $1's agent never synced $2 frontends" >&2
	tail -5 "$log" >&2
	return 1
}
log_lines() { cat "/tmp/bpflet-${MN_TAG}n$1/agent.log" 2>/dev/null | wc -l; }
# epoch seconds of a log line's HH:MM:SS.mmm (UTC, today)
line_epoch() {
	local hms=${1%% *}
	echo "$(date -u -d "$(date -u +%F) ${hms%.*}" +%s).${hms#*.}"
}

ipt_flush() {
	local t
	for t in nat filter; do
		in_node 3 iptables-legacy -t $t -F
		in_node 3 iptables-legacy -t $t -X
	done
}

# load_bpflet N: node 2's manifests for N Services; waits for them in the maps
load_bpflet() {
	local n=$1 m=/tmp/bpflet-${MN_TAG}n2/manifests from
	from=$(($(log_lines 2) + 1))
	rm -f "$m/target.yaml"
	# staged outside the watched directory: the agent sees each file appear whole
	cp "$KW/rest.yaml" "$KW/stage.tmp" && mv "$KW/stage.tmp" "$m/rest.yaml"
	cp "$KW/target.yaml" "$KW/stage.tmp" && mv "$KW/stage.tmp" "$m/target.yaml"
	agent_synced 2 $((n + 1)) "$from" >/dev/null &&
		"$BL_BIN/kp_fe_wait" "/sys/fs/bpf/bpflet/${MN_TAG}n2/$FE_MAP" "$VIP" 80 "$EPS" >/dev/null
}

# full_syncs N REPS: every dataplane's full sync, timed; leaves nodes 3 and 4 loaded
full_syncs() {
	local n=$1 reps=$2 r ms start line m=/tmp/bpflet-${MN_TAG}n$SCRATCH/manifests
	for r in $(seq "$reps"); do
		ipt_flush
		in_node 3 iptables-legacy-restore --noflush <"$KW/ipt.base" || exit 1
		ms=$(timed_ms 3 "$KW/ipt.full" iptables-legacy-restore --noflush) || {
			echo "kp_bench: iptables-restore of $n Services failed" >&2
			exit 1
		}
		record "$n full_sync_ms iptables $ms"
		in_node 4 nft delete table ip kube-proxy 2>/dev/null
		ms=$(timed_ms 4 "$KW/nft.full" nft -f -) || {
			echo "kp_bench: nft -f of $n Services failed" >&2
			exit 1
		}
		record "$n full_sync_ms nftables $ms"
		# bpflet: a fresh agent (no pinned state) on the pod-less node
		rm -f "$m"/*.yaml
		cp "$KW/rest.yaml" "$KW/target.yaml" "$m/"
		mn_use $SCRATCH
		line=$(log_lines $SCRATCH)
		start=$EPOCHREALTIME
		mn_agent_start $SCRATCH >/dev/null || exit 1
		line=$(agent_synced $SCRATCH $((n + 1)) $((line + 1))) || exit 1
		record "$n full_sync_ms bpflet $(awk -v a="$start" -v b="$(line_epoch "$line")" \
			'BEGIN {printf "%.3f", (b - a) * 1000}')"
		record "$n full_sync_ms bpflet-agent-sync $(sed -E 's/.* in ([0-9.]+) ms.*/\1/' <<<"$line")"
		mn_agent_stop $SCRATCH
		"$BL_BIN/bpflet" --instance "$BL_INSTANCE" --netns "/var/run/netns/$BL_NODE" \
			--cleanup >>"$BL_AGENT_LOG" 2>&1
	done
	# iptables-nft, the backend kube-proxy's image picks on an nftables host, once
	if [ "$n" -le "$IPTNFT_MAX" ]; then
		in_node $SCRATCH iptables-nft-restore --noflush <"$KW/ipt.base"
		ms=$(timed_ms $SCRATCH "$KW/ipt.full" iptables-nft-restore --noflush) &&
			record "$n full_sync_ms iptables-nft $ms"
		in_node $SCRATCH nft flush ruleset
	fi
}

# changes N: PAIRS x (drop the measured Service's last endpoint, put it back) per dataplane
changes() {
	local n=$1 p ms from step want line m=/tmp/bpflet-${MN_TAG}n2/manifests
	local fe=/sys/fs/bpf/bpflet/${MN_TAG}n2/$FE_MAP
	for p in $(seq "$PAIRS"); do
		for step in drop back; do
			ms=$(timed_ms 3 "$KW/ipt.$step" iptables-legacy-restore --noflush) || exit 1
			record "$n change_ms iptables $ms"
			ms=$(timed_ms 4 "$KW/nft.$step" nft -f -) || exit 1
			record "$n change_ms nftables $ms"
			from=$(($(log_lines 2) + 1))
			want=$EPS
			[ $step = drop ] && want=$((EPS - 1))
			cp "$KW/target.$step.yaml" "$KW/target.tmp"
			ms=$("$BL_BIN/kp_fe_wait" "$fe" "$VIP" 80 $want "$KW/target.tmp" "$m/target.yaml" |
				awk '{print $2}') || exit 1
			record "$n change_ms bpflet $ms"
			# the agent's own share: the sync it logged for this edit
			line=$(agent_synced 2 $((n + 1)) "$from") || exit 1
			record "$n change_ms bpflet-agent-sync $(sed -E 's/.* in ([0-9.]+) ms.*/\1/' <<<"$line")"
			sleep 0.1
		done
	done
}

# counters I: the backends' TcpPassiveOpens and UdpInDatagrams, "b0 tcp udp ..." lines
counters() {
	local i=$1 b
	for b in $(seq 0 $((EPS - 1))); do
		echo "$b $(ip netns exec "${MN_TAG}n$i-b$b" awk '
			$1 == "Tcp:" && $2 ~ /^[0-9]/ {tcp = $7}
			$1 == "Udp:" && $2 ~ /^[0-9]/ {udp = $2}
			END {print tcp, udp}' /proc/net/snmp)"
	done
}

# traffic N: REPS rounds of rr, crr and udp over the four paths, order rotated per round
traffic() {
	local n=$1 r k mode path i target out spec args
	declare -A before=()
	for path in "${PATHS[@]}"; do
		i=${NODE_OF[$path]}
		target=$VIP:80
		[ "$path" = direct ] && target=${BACKENDS[1]%%,*}:7000
		ip netns exec "${MN_TAG}n$i-c" "$BL_BIN/tcp_rr" -c "$target" -t 0.3 -m rr >/dev/null 2>&1
		before[$path]=$(counters "$i")
	done
	in_node 3 iptables-legacy -t nat -Z
	for r in $(seq "$REPS"); do
		for mode in rr crr udp; do
			# one tcp_rr takes the four paths in turns of SLICE ms (order rotated per round)
			args=()
			for k in 0 1 2 3; do
				path=${PATHS[$(((k + r) % 4))]}
				i=${NODE_OF[$path]}
				case $path-$mode in
				direct-*) target=${BACKENDS[1]%%,*}:7000 ;;
				*-udp) target=$VIP:53 ;;
				*) target=$VIP:80 ;;
				esac
				args+=(-c "${MN_TAG}n$i-c@$target")
			done
			out=$(taskset -c "$CPU" "$BL_BIN/tcp_rr" -m $mode -t "$SECS" -q "$SLICE" "${args[@]}" 2>&1) ||
				echo "kp_bench: N=$n $mode round $r: $(tail -1 <<<"$out")" >&2
			for path in "${PATHS[@]}"; do
				spec="${MN_TAG}n${NODE_OF[$path]}-c@"
				# a path that did not answer counts 0, which the report's checks catch
				val() {
					awk -v s="$spec" -v k="$1" 'index($1, s) == 1 && $2 == k {v = $3}
						END {print v == "" ? 0 : v}' <<<"$out"
				}
				record "$n $mode $path $(val slice_median_per_second)"
				record "$n ${mode}_mean $path $(val transactions_per_second)"
				record "$n ${mode}_total $path $(val transactions)"
				if [ $mode = crr ]; then
					record "$n connect_p50_us $path $(val connect_p50_us)"
					record "$n connect_p99_us $path $(val connect_p99_us)"
				fi
			done
		done
	done
	# what each path's backends saw, per backend: "verify N path b tcp udp" deltas
	for path in "${PATHS[@]}"; do
		i=${NODE_OF[$path]}
		paste <(echo "${before[$path]}") <(counters "$i") | while read -r b t0 u0 _ t1 u1; do
			record "$n verify $path $b $((t1 - t0)) $((u1 - u0))"
		done
	done
	# kube-proxy's own DNAT rules counted the connections too
	record "$n ipt_dnat_rules_hit iptables $(in_node 3 iptables-legacy-save -c -t nat |
		grep -- "-p tcp" | grep -v '^\[0:0\]' | grep -c -- "--to-destination 10.244.3.")"
}

for N in "${NS_LIST[@]}"; do
	VIP=$(vip_of "$N")
	t_n=$EPOCHREALTIME
	echo "== N=$N Services (measured: $VIP, ports 80/TCP and 53/UDP)"
	big=$SYNC_REPS
	[ "$N" -ge 10000 ] && big=$SYNC_REPS_BIG
	A=(--services "$N" --endpoints "$EPS")
	gen "$KW/ipt.base" iptables-base "${A[@]}"
	gen "$KW/ipt.full" iptables full "${A[@]}" --target-eps "${BACKENDS[3]}"
	gen "$KW/ipt.drop" iptables change "${A[@]}" --target-eps "${BACKENDS[3]}" --drop-last
	gen "$KW/ipt.back" iptables change "${A[@]}" --target-eps "${BACKENDS[3]}"
	gen "$KW/nft.full" nftables full "${A[@]}" --target-eps "${BACKENDS[4]}"
	gen "$KW/nft.drop" nftables change "${A[@]}" --target-eps "${BACKENDS[4]}" --drop-last
	gen "$KW/nft.back" nftables change "${A[@]}" --target-eps "${BACKENDS[4]}"
	gen "$KW/rest.yaml" bpflet rest "${A[@]}" --target-eps "${BACKENDS[2]}"
	gen "$KW/target.yaml" bpflet target "${A[@]}" --target-eps "${BACKENDS[2]}"
	gen "$KW/target.drop.yaml" bpflet target "${A[@]}" --target-eps "${BACKENDS[2]}" --drop-last
	cp "$KW/target.yaml" "$KW/target.back.yaml"
	note "rules generated: $(wc -l <"$KW/ipt.full") iptables-restore lines," \
		"$(wc -l <"$KW/nft.full") nft lines, $(wc -l <"$KW/rest.yaml") manifest lines"
	full_syncs "$N" "$big"
	load_bpflet "$N" || exit 1
	for path in "${PATHS[@]}"; do
		record "$N isolation $path $(isolation "${NODE_OF[$path]}")"
	done
	note "full syncs done ($big each); endpoint changes ($((PAIRS * 2)) each)"
	changes "$N"
	note "traffic ($REPS rounds x 3 figures x 4 paths x ${SECS}s)"
	traffic "$N"
	note "N=$N took $(awk -v a="$t_n" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}') s"
done

# the raw samples beside the JSON: kp_report.py can summarize them again
mkdir -p "$(dirname "$OUT")" && cp "$RES" "${OUT%.json}.txt"
python3 "$HERE/kp_report.py" summarize "$RES" "$OUT" \
	--endpoints "$EPS" --reps "$REPS" --secs "$SECS" --slice-ms "$SLICE" --changes $((PAIRS * 2)) \
	--sync-reps "$SYNC_REPS" --sync-reps-big "$SYNC_REPS_BIG" --date "$started" \
	--seconds "$(awk -v a="$t_setup" -v b="$EPOCHREALTIME" 'BEGIN {printf "%.0f", b - a}')"
