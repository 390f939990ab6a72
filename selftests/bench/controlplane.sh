#!/usr/bin/env bash
# Control-plane figures (make bench): writes/s and watch fan-out latency to 1 and 100
# watchers on the SQLite and the etcd store, then list latency (whole, and in pages of
# 500 as informers list) and resident memory with 10k Services and 100k endpoints (10k
# EndpointSlices) stored, then how soon a server holding 10k selector Services answers
# and how long its EndpointSlice controller takes to write their 10k placeholder
# slices. Under 2 minutes.
set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${BL_BIN:-$ROOT/build/bin}")
WORK=$(mktemp -d "/tmp/bpflet-cpbench-$$.XXXXXX")
SHM=$(mktemp -d "/dev/shm/bpflet-cpbench-$$.XXXXXX")
SRV_PID=
. "$ROOT/selftests/controlplane/etcd_lib.sh"
CP=$BIN/bpflet-controlplane
. "$ROOT/selftests/controlplane/cp_up.sh"

cleanup() {
	[ -n "$SRV_PID" ] && kill "$SRV_PID" 2>/dev/null && wait "$SRV_PID" 2>/dev/null
	stop_etcd
	rm -rf "$WORK" "$SHM"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# start_server DATA [ARGS...]: on a random loopback port; waits for /readyz
start_server() {
	local data=$1
	shift
	cp_up "$WORK/server.log" "$data" "$@" && PORT=$CP_PORT SRV_PID=$CP_PID && return 0
	echo "bench: the control plane does not start" >&2
	return 1
}

stop_server() {
	kill "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_PID=
}

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$SRV_PID/status"; }

rc=0
for store in sqlite etcd; do
	args=()
	if [ $store = etcd ]; then
		start_etcd || { echo "bench: etcd does not start" >&2; exit 1; }
		args=(--etcd-servers "$ETCD_URL")
	fi
	start_server "$WORK/$store" "${args[@]}" || exit 1
	echo "-- $store store"
	"$BIN/bench_cp" http "https://127.0.0.1:$PORT" "$WORK/$store/pki" \
		--writes 3 --events 100 --watch 1 --watch 100 | sed 's/^/   /' || rc=1
	stop_server
done
stop_etcd

echo "-- 10k Services and 100k endpoints stored (SQLite)"
# selectorless Services: the EndpointSlice controller leaves the seeded slices as they are
"$BIN/bench_cp" seed "$SHM/state.db" 10000 10 plain | sed 's/^/   /' || exit 1
mkdir -p -m 0700 "$WORK/big"
cp "$SHM/state.db" "$WORK/big/state.db"
start_server "$WORK/big" --compaction-interval 0 || exit 1
echo "   resident memory after start: $(($(rss_kb) / 1024)) MiB"
for path in /api/v1/namespaces/default/services \
	/apis/discovery.k8s.io/v1/namespaces/default/endpointslices; do
	"$BIN/bench_cp" http "https://127.0.0.1:$PORT" "$WORK/big/pki" --list "$path" \
		--list-paged "$path" | sed "s|^|   ${path##*/} |" || rc=1
done
echo "   resident memory after the lists: $(($(rss_kb) / 1024)) MiB"
stop_server

echo "-- 10k Services with a selector and no pods: the EndpointSlice controller's first pass"
rm -f "$SHM/state.db"
"$BIN/bench_cp" seed "$SHM/state.db" 10000 10 | sed 's/^/   /' || exit 1
mkdir -p -m 0700 "$WORK/sel"
cp "$SHM/state.db" "$WORK/sel/state.db"
t0=$(date +%s%N)
start_server "$WORK/sel" --compaction-interval 0 || exit 1
echo "   ready (/readyz answers) after $((($(date +%s%N) - t0) / 1000000)) ms"
# one placeholder slice per Service (no endpoints), written while the server answers
n=0
for _ in $(seq 600); do
	n=$(curl -sk -m 5 --cert "$WORK/sel/pki/admin.crt" --key "$WORK/sel/pki/admin.key" \
		"https://127.0.0.1:$PORT/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=endpointslice.kubernetes.io%2Fmanaged-by" |
		python3 -c 'import json,sys; print(len(json.load(sys.stdin)["items"]))' 2>/dev/null)
	[ "${n:-0}" -ge 10000 ] && break
	sleep 0.2
done
echo "   10k placeholder slices written after $((($(date +%s%N) - t0) / 1000000)) ms ($n seen)"
[ "${n:-0}" -ge 10000 ] || rc=1
stop_server
exit $rc
