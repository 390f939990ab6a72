#!/usr/bin/env bash
# The etcd store's watch stream going silent while etcd still answers (seen once under
# heavy load: every write then waited out WRITE_WAIT_MS and the server stopped answering).
# A TCP proxy in front of a real etcd stops passing on the first /v3/watch stream when
# told to; the server must notice that its write's event does not come back, watch
# again, and deliver every event to its own watchers. One line per check, then
# "N passed, N failed"; every process and file goes in the EXIT trap.
#   BL_BIN=build/bin bash selftests/controlplane/watch_stall.sh
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${BL_BIN:-$ROOT/build/bin}")
CP=$BIN/bpflet-controlplane
WORK=$(mktemp -d "/tmp/bpflet-cpws-$$.XXXXXX")
PASS=0
FAIL=0
SRV=
PROXY=
WATCH=

cleanup() {
	local p
	for p in $WATCH $SRV $PROXY; do kill -KILL "$p" 2>/dev/null; done
	for p in $WATCH $SRV $PROXY; do wait "$p" 2>/dev/null; done
	stop_etcd
	[ "$FAIL" -gt 0 ] && tail -n 20 "$WORK/server.log" 2>/dev/null | sed 's/^/# server: /'
	rm -rf "$WORK"
	return 0
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP PIPE

# shellcheck source=selftests/controlplane/etcd_lib.sh
. "$ROOT/selftests/controlplane/etcd_lib.sh"
# shellcheck source=selftests/controlplane/check_lib.sh
. "$ROOT/selftests/controlplane/check_lib.sh"

command -v etcd >/dev/null && [ -x "$CP" ] || bail "needs etcd (etcd-server) and $CP"
start_etcd || bail "an etcd on loopback starts"

# proxy: every connection passed on both ways, except that once $WORK/silence exists the
# first /v3/watch connection's answers are read from etcd and dropped
cat >"$WORK/proxy.py" <<'PY'
import os, socket, sys, threading
up_port, flag, port_file = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(64)
open(port_file, "w").write(str(ls.getsockname()[1]))
watches = [0]
def pump(src, dst, silenceable):
    try:
        while True:
            b = src.recv(65536)
            if not b:
                break
            if silenceable and os.path.exists(flag):
                continue
            dst.sendall(b)
    except OSError:
        pass
    for s in (src, dst):
        try: s.shutdown(socket.SHUT_RDWR)
        except OSError: pass
def serve(c):
    first = c.recv(65536)
    u = socket.create_connection(("127.0.0.1", up_port))
    u.sendall(first)
    silenceable = False
    if first.startswith(b"POST /v3/watch"):
        watches[0] += 1
        silenceable = watches[0] == 1
    threading.Thread(target=pump, args=(c, u, False), daemon=True).start()
    pump(u, c, silenceable)
while True:
    c, _ = ls.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
PY
python3 "$WORK/proxy.py" "$ETCD_CPORT" "$WORK/silence" "$WORK/pport" &
PROXY=$!
poll 5 test -s "$WORK/pport" || bail "the proxy starts"
PORT=$((${BL_CP_PORT_LO:-20000} + RANDOM % ${BL_CP_PORT_SPAN:-40000}))
"$CP" --data-dir "$WORK/data" --listen "127.0.0.1:$PORT" --etcd-servers "http://127.0.0.1:$(cat "$WORK/pport")" >>"$WORK/server.log" 2>&1 &
SRV=$!
poll 10 curl -sk -m 1 "https://127.0.0.1:$PORT/readyz" || bail "server on the proxied etcd starts"
ok "server on etcd through a proxy that can silence the watch"
P=$WORK/data/pki
C() { curl -sS -m 20 --cacert "$P/ca.crt" --cert "$P/admin.crt" --key "$P/admin.key" "$@"; }
CM=https://127.0.0.1:$PORT/api/v1/namespaces/default/configmaps
mk() { C -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"$1\"}}" "$CM"; }
C -N "$CM?watch=1" >"$WORK/w" 2>/dev/null &
WATCH=$!
sleep 0.5
check "before: a create answers 201" test "$(mk s1)" = 201
check "... and the watcher sees it" poll 5 grep -q '"name":"s1"' "$WORK/w"

touch "$WORK/silence"
check "watch stream silenced: a create still answers 201" test "$(mk s2)" = 201
check "the server says it watches again" poll 10 grep -q "watching again" "$WORK/server.log"
check "the watcher gets the create made while the stream was silent" poll 10 grep -q '"name":"s2"' "$WORK/w"
check "after: a create answers 201" test "$(mk s3)" = 201
check "... and the watcher sees it" poll 5 grep -q '"name":"s3"' "$WORK/w"
check "each create seen exactly once" test "$(grep -c '"type":"ADDED"' "$WORK/w")" = 3

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
