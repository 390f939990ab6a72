#!/usr/bin/env bash
# Leader election (--leader-elect) on a real etcd: two control planes, one Lease
# kube-system/bpflet-controlplane, controllers only on its holder; kill -9 of the holder
# and the other takes over once the Lease expired; SIGTERM releases it at once. Also a
# lone SQLite server with --leader-elect, which must hold the Lease at once. One line per
# check, then "N passed, N failed"; every process, port and file goes in the EXIT trap.
#   BL_BIN=build/bin bash selftests/controlplane/leader.sh
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${BL_BIN:-$ROOT/build/bin}")
CP=$BIN/bpflet-controlplane
WORK=$(mktemp -d "/tmp/bpflet-cple-$$.XXXXXX")
PASS=0
FAIL=0
declare -A PID PORT

cleanup() {
	local s
	for s in "${!PID[@]}"; do kill -KILL "${PID[$s]}" 2>/dev/null; done
	for s in "${!PID[@]}"; do wait "${PID[$s]}" 2>/dev/null; done
	stop_etcd
	if [ "$FAIL" -gt 0 ]; then
		for s in "$WORK"/*.log; do tail -n 15 "$s" 2>/dev/null | sed "s|^|# $(basename "$s"): |"; done
	fi
	rm -rf "$WORK"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# shellcheck source=selftests/controlplane/etcd_lib.sh
. "$ROOT/selftests/controlplane/etcd_lib.sh"
# shellcheck source=selftests/controlplane/check_lib.sh
. "$ROOT/selftests/controlplane/check_lib.sh"
# shellcheck source=selftests/controlplane/cp_up.sh
. "$ROOT/selftests/controlplane/cp_up.sh"

command -v curl >/dev/null && command -v python3 >/dev/null && [ -x "$CP" ] || bail "needs curl, python3 and $CP"

# up NAME ARGS...: a control plane with data dir $WORK/NAME on a random port
up() {
	local s=$1
	shift
	cp_up "$WORK/$s.log" "$WORK/$s" "$@" || return 1
	PORT[$s]=$CP_PORT
	PID[$s]=$CP_PID
}
# down NAME SIGNAL
down() {
	kill "-$2" "${PID[$1]}" 2>/dev/null
	wait "${PID[$1]}" 2>/dev/null
	RC=$?
	unset "PID[$1]"
}
# A NAME ARGS... URL-PATH: curl as NAME's admin to NAME
A() {
	local s=$1 p
	shift
	p=$WORK/$s/pki
	curl -sS -m 10 --cacert "$p/ca.crt" --cert "$p/admin.crt" --key "$p/admin.key" "${@:1:$#-1}" "https://127.0.0.1:${PORT[$s]}${*: -1}"
}
LEASE=/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bpflet-controlplane
# lease NAME FIELD...: the Lease's spec fields as NAME serves it, space-separated
lease() {
	local s=$1
	shift
	A "$s" "$LEASE" | python3 -c '
import json,sys; s=json.load(sys.stdin)["spec"]; print(" ".join(str(s.get(f,"-")) for f in sys.argv[1:]))' "$@"
}
holder_is() { [ "$(lease "$1" holderIdentity)" = "$2" ]; }
post() { A "$1" -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "$3" "$2"; }
mknode() { post "$1" /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$2\"}}"; }
cidr_of() { A "$1" "/api/v1/nodes/$2" | python3 -c 'import json,sys; s=json.load(sys.stdin)["spec"]; print(s.get("podCIDR",""), len(s.get("podCIDRs",[])))'; }
# all_cidrs NAME: every node's podCIDR, one per line ("-" for none)
all_cidrs() { A "$1" /api/v1/nodes | python3 -c 'import json,sys; [print(n["spec"].get("podCIDR","-")) for n in json.load(sys.stdin)["items"]]'; }
micro() { python3 -c 'import re,sys; sys.exit(0 if re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z", sys.argv[1]) else 1)' "$1"; }

# ---- a lone SQLite server with --leader-elect holds the Lease at once ----
if up lite --leader-elect --id lite-$$; then
	check "SQLite, --leader-elect: the Lease is held as soon as the server answers" holder_is lite "lite-$$"
	mknode lite ln1 >/dev/null
	has_cidr() { set -- $(cidr_of "$1" "$2"); [ -n "${1:-}" ] && [ "${2:-}" = 1 ]; }
	check "... and its controllers run (a new Node gets a podCIDR)" poll 5 has_cidr lite ln1
	down lite TERM
	check "... SIGTERM: exit 0" test "$RC" = 0
else
	ko "SQLite server with --leader-elect starts"
fi

# ---- two control planes on one etcd ----
command -v etcd >/dev/null && start_etcd || bail "an etcd on loopback (package etcd-server) starts"
ok "etcd on $ETCD_URL"
E=(--etcd-servers "$ETCD_URL")
up a "${E[@]}" --id a-$$ || bail "control plane a starts"
check "a (first on the etcd, default --leader-elect) holds the Lease at once" holder_is a "a-$$"
up b "${E[@]}" || bail "control plane b starts"
B_ID="$(hostname)_${PID[b]}"
sleep 2.5
check "b (default id HOSTNAME_PID) reads the same Lease: held by a, not b" holder_is b "a-$$"
read -r dur tr acq ren <<<"$(lease b leaseDurationSeconds leaseTransitions acquireTime renewTime)"
check "Lease: leaseDurationSeconds 15, leaseTransitions 0, acquireTime/renewTime MicroTime" \
	sh -c "[ '$dur' = 15 ] && [ '$tr' = 0 ] && $(declare -f micro); micro '$acq' && micro '$ren'"
renewed() { [ "$(lease b renewTime)" != "$ren" ]; }
check "a renews it (renewTime moves within 5 s)" poll 5 renewed
check "b says it serves the API only" grep -q "a-$$ holds the Lease; $B_ID serves the API only" "$WORK/b.log"
check "b runs no controllers (no 'controllers start' in its log)" sh -c "! grep -q 'controllers start' '$WORK/b.log'"

# Nodes through both servers at the same time: one allocator hands out the blocks, each
# once (two allocators would each give their first Node 10.244.0.0/24)
for i in 1 2 3 4 5 6; do
	mknode b "nb$i" >/dev/null &
	j1=$!
	mknode a "na$i" >/dev/null &
	wait $! $j1 # not a bare wait: the servers are children too
done
twelve() { [ "$(all_cidrs b | grep -c '^10\.244\.')" = 12 ] && [ "$(all_cidrs b | sort -u | grep -c '^10\.244\.')" = 12 ]; }
check "twelve Nodes made through a and b in pairs at once: twelve distinct podCIDRs" poll 10 twelve
one() { set -- $(cidr_of b nb1); [ -n "${1:-}" ] && [ "${2:-}" = 1 ]; }
check "a Node made through b: exactly one podCIDR (podCIDRs has one entry)" one
c1=$(cidr_of b nb1)
sleep 3
check "... stable 3 s later ($c1)" test "$(cidr_of a nb1)" = "$c1"
check "only a allocated (b's log has no allocation)" sh -c \
	"grep -q 'pod CIDR allocator: node nb1 gets' '$WORK/a.log' && ! grep -q 'pod CIDR allocator: node' '$WORK/b.log'"

# ---- kill -9 of the holder: b takes over once the Lease expired ----
down a KILL
t0=$SECONDS
check "a killed (-9): b holds the Lease within 15 s + 10 s" poll 25 holder_is b "$B_ID"
took=$((SECONDS - t0))
check "... not before the Lease could expire (took ${took} s, lease 15 s, renewed every 2 s)" test "$took" -ge 12
check "... leaseTransitions 1" test "$(lease b leaseTransitions)" = 1
check "b's log says its controllers start" grep -q "$B_ID holds the Lease kube-system/bpflet-controlplane: controllers start" "$WORK/b.log"
mknode b nb4 >/dev/null
new_block() {
	set -- $(cidr_of b nb4)
	[ -n "${1:-}" ] && [ "$(all_cidrs b | grep -c "^$1\$")" = 1 ]
}
check "b's controllers: a new Node gets a podCIDR no other Node has" poll 10 new_block
post b /api/v1/namespaces/default/services '{"metadata":{"name":"web"},"spec":{"selector":{"app":"web"},"ports":[{"port":80}]}}' >/dev/null
post b /api/v1/namespaces/default/pods '{"metadata":{"name":"web1","labels":{"app":"web"}},"spec":{"nodeName":"nb4","containers":[{"name":"c","image":"x"}]}}' >/dev/null
A b -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"status":{"podIP":"10.244.9.9","conditions":[{"type":"Ready","status":"True"}]}}' /api/v1/namespaces/default/pods/web1/status >/dev/null
slice() {
	A b "/apis/discovery.k8s.io/v1/namespaces/default/endpointslices?labelSelector=kubernetes.io/service-name=web" |
		python3 -c 'import json,sys; l=json.load(sys.stdin)["items"]; assert len(l)==1 and l[0]["endpoints"][0]["addresses"]==["10.244.9.9"]'
}
check "b's controllers: a new Service's EndpointSlice appears with its pod" poll 10 slice
ksvc_b() {
	A b /api/v1/namespaces/default/endpoints/kubernetes | python3 -c 'import json,sys; p=json.load(sys.stdin)["subsets"][0]["ports"][0]["port"]; assert p==int(sys.argv[1])' "${PORT[b]}"
}
check "b's controllers: default/kubernetes Endpoints now point at b" poll 10 ksvc_b

# ---- SIGTERM releases the Lease: a new server takes it at once ----
# released: the Lease as stored in etcd has no holder
released() {
	curl -s -m 5 -X POST -d "{\"key\":\"$(printf /registry/leases/kube-system/bpflet-controlplane | base64 -w0)\"}" "$ETCD_URL/v3/kv/range" |
		python3 -c 'import json,sys,base64; v=json.loads(base64.b64decode(json.load(sys.stdin)["kvs"][0]["value"])); assert v["spec"]["holderIdentity"]=="" and v["spec"]["leaseDurationSeconds"]==1'
}
down b TERM
check "b SIGTERM: exit 0" test "$RC" = 0
check "... and has released the Lease (read from etcd: no holder, 1 s)" released
if up a "${E[@]}" --id a-$$; then
	check "released: a restarted server holds it as soon as it answers" holder_is a "a-$$"
	check "... leaseTransitions 2" test "$(lease a leaseTransitions)" = 2
	down a TERM
else
	ko "a restarts"
fi
check "a SIGTERM: released again" released

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
