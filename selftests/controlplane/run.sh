#!/usr/bin/env bash
# bpflet-controlplane as kubectl and curl see it: a server on a random loopback port with
# a temp data dir, then kubectl over HTTP/2, curl watches over HTTP/1.1 and HTTP/2, the
# error codes, and kill -9 in the middle of a write burst. One line per check, then
# "N passed, N failed". Every process, port and file it makes goes in the EXIT trap.
#   BL_BIN=build/bin bash selftests/controlplane/run.sh   (BL_CP_LOG=FILE keeps the server log)
#   BL_CP_STORE=etcd ... runs the same checks on the etcd store (a throwaway etcd on loopback;
#   the kill -9 then hits etcd and the server together)
set -u

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BIN=$(realpath "${BL_BIN:-$ROOT/build/bin}")
CP=$BIN/bpflet-controlplane
WORK=$(mktemp -d "/tmp/bpflet-cp-$$.XXXXXX")
DATA=$WORK/data
SRV_PID=
STORE=${BL_CP_STORE:-sqlite}
STORE_ARGS=()
LE_ARGS=() # this server's own flags (a second server on the same etcd gets none)
BG_PIDS=()
PASS=0
FAIL=0

cleanup() {
	for p in "${BG_PIDS[@]}" $SRV_PID; do
		kill "$p" 2>/dev/null
	done
	for p in "${BG_PIDS[@]}" $SRV_PID; do
		wait "$p" 2>/dev/null
	done
	[ "$STORE" = etcd ] && stop_etcd
	# the server's log is worth seeing after a failure (BL_CP_LOG=FILE keeps it anyway)
	[ "$FAIL" -gt 0 ] && tail -n 30 "$WORK/server.log" 2>/dev/null | sed 's/^/# server: /'
	[ -n "${BL_CP_LOG:-}" ] && cp "$WORK/server.log" "$BL_CP_LOG" 2>/dev/null
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

if ! command -v kubectl >/dev/null || ! command -v curl >/dev/null || [ ! -x "$CP" ]; then
	echo "FAIL - needs kubectl, curl and $CP"
	echo "0 passed, 1 failed"
	exit 1
fi

# start_server: the store's server on a random high port, ready within 5 s
start_server() {
	local rc
	CP_UP_WAIT=50 cp_up "$WORK/server.log" "$DATA" --watch-bookmark-interval 1 \
		--compaction-interval 1 "${STORE_ARGS[@]}" "${LE_ARGS[@]}" "$@"
	rc=$?
	PORT=$CP_PORT
	SRV_PID=$CP_PID
	return $rc
}

stop_server() {
	kill "${1:--TERM}" "$SRV_PID" 2>/dev/null
	wait "$SRV_PID" 2>/dev/null
	SRV_RC=$?
	SRV_PID=
}

PKI=$DATA/pki
K() { kubectl --kubeconfig "$DATA/admin.kubeconfig" --request-timeout=10s "$@"; }
# C ARGS... URL-PATH: curl as admin over the given protocol flags
C() { curl -sS -m 10 --cacert "$PKI/ca.crt" --cert "$PKI/admin.crt" --key "$PKI/admin.key" "$@"; }
url() { echo "https://127.0.0.1:$PORT$1"; }
code_of() { C -o "$WORK/body" -w '%{http_code}' "$@"; }
current_rv() { C "$(url /api/v1/namespaces/default/configmaps)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["metadata"]["resourceVersion"])'; }
# stored_rv: the newest resourceVersion among the configmaps, services, pods and
# endpointslices (what the refused writes below would have made); unlike current_rv it
# does not move when the leader renews its Lease
stored_rv() {
	local p
	for p in /api/v1/configmaps /api/v1/services /api/v1/pods /apis/discovery.k8s.io/v1/endpointslices; do
		C "$(url $p)" || return
	done | python3 -c '
import json,sys; d=json.JSONDecoder(); t=sys.stdin.read().strip(); m=0; i=0
while i < len(t):
    o,i=d.raw_decode(t,i); m=max([m]+[int(x["metadata"]["resourceVersion"]) for x in o["items"]])
    while i < len(t) and t[i].isspace(): i+=1
print(m)'
}

# ---- start ----
mkdir -p -m 0700 "$DATA"
if [ "$STORE" = etcd ]; then
	if ! command -v etcd >/dev/null || ! start_etcd; then
		echo "FAIL - an etcd on loopback (package etcd-server) starts"
		tail -n 20 "$WORK/etcd.log" 2>/dev/null
		echo "0 passed, 1 failed"
		exit 1
	fi
	STORE_ARGS=(--etcd-servers "$ETCD_URL")
	# leader election is on with etcd: a stable id lets the server restarted after its
	# kill -9 below take its own Lease back at once instead of waiting for it to expire
	LE_ARGS=(--id "cp-$$")
	ok "etcd $(etcd --version | head -1 | awk '{print $3}') on $ETCD_URL"
fi
cat >"$DATA/tokens.csv" <<'CSV'
admintoken,alice,1001,"system:masters,devs"
plaintoken,bob,1002
CSV
if start_server; then ok "server starts on 127.0.0.1:$PORT"; else
	ko "server starts"
	cat "$WORK/server.log"
	echo "$PASS passed, $FAIL failed"
	exit 1
fi
check "--help reads like a man page" sh -c "'$CP' --help | grep -q '^SYNOPSIS'"
check "admin.kubeconfig written (0600)" test "$(stat -c %a "$DATA/admin.kubeconfig")" = 600
out=$(K get ns -o name 2>&1)
check "kubectl get ns lists the four default namespaces" \
	test "$(echo "$out" | sort | tr '\n' ' ')" = "namespace/default namespace/kube-node-lease namespace/kube-public namespace/kube-system "
check "kubectl version: no skew warning, server v1.32" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' version 2>&1 | grep -q 'Server Version: v1.32' && ! kubectl --kubeconfig '$DATA/admin.kubeconfig' version 2>&1 | grep -qi warning"

lease_holder() { C "$(url /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bpflet-controlplane)" | python3 -c 'import json,sys; print(json.load(sys.stdin)["spec"]["holderIdentity"])'; }
if [ "$STORE" = etcd ]; then
	check "etcd: leader election on by default, this server holds the Lease (--id cp-$$)" \
		test "$(lease_holder 2>/dev/null)" = "cp-$$"
else
	code=$(code_of "$(url /apis/coordination.k8s.io/v1/namespaces/kube-system/leases/bpflet-controlplane)")
	check "SQLite: no leader election by default (no Lease kube-system/bpflet-controlplane)" test "$code" = 404
fi

# ---- a Service through kubectl ----
cat >"$WORK/svc.yaml" <<'YAML'
apiVersion: v1
kind: Service
metadata:
  name: web
  labels: {app: web}
spec:
  selector: {app: web}
  ports:
  - {name: http, port: 80, targetPort: 8080}
YAML
check "kubectl create -f service.yaml" K create -f "$WORK/svc.yaml"
ip=$(K get svc web -o jsonpath='{.spec.clusterIP}' 2>/dev/null)
in_range() { python3 -c "import ipaddress,sys; sys.exit(0 if ipaddress.ip_address('$1') in ipaddress.ip_network('10.96.0.0/12') else 1)" 2>/dev/null; }
check "ClusterIP $ip allocated in 10.96.0.0/12" in_range "$ip"
check "kubectl get svc -o json: defaults (TCP, targetPort, uid, resourceVersion)" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc web -o json | python3 -c '
import json,sys; s=json.load(sys.stdin); p=s[\"spec\"][\"ports\"][0]
assert p[\"protocol\"]==\"TCP\" and p[\"targetPort\"]==8080 and s[\"spec\"][\"type\"]==\"ClusterIP\"
assert s[\"metadata\"][\"uid\"] and int(s[\"metadata\"][\"resourceVersion\"])>0
assert s[\"metadata\"][\"namespace\"]==\"default\"'"
check "kubectl get svc prints a table with the ClusterIP" sh -c "kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc | grep -q 'web .*ClusterIP .*$ip'"
check "kubectl label svc" K label svc web tier=front
check "kubectl get -l tier=front finds it" test "$(K get svc -l tier=front -o name 2>/dev/null)" = "service/web"
check "kubectl get -l 'tier in (back)' does not" test -z "$(K get svc -l 'tier in (back)' -o name 2>/dev/null)"
check "kubectl apply on the existing Service keeps the ClusterIP" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' apply -f '$WORK/svc.yaml' >/dev/null 2>&1 && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc web -o jsonpath='{.spec.clusterIP}')\" = '$ip'"
check "kubectl patch (merge) svc" K patch svc web --type merge -p '{"metadata":{"annotations":{"a":"b"}}}'
check "kubectl patch (json) svc" K patch svc web --type json -p '[{"op":"add","path":"/metadata/labels/j","value":"p"}]'
check "the patches are stored" test "$(K get svc web -o jsonpath='{.metadata.annotations.a}{.metadata.labels.j}' 2>/dev/null)" = "bp"
code=$(code_of -X POST -H 'Content-Type: application/json' --data "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"dup\"},\"spec\":{\"clusterIP\":\"$ip\",\"ports\":[{\"port\":1}]}}" "$(url /api/v1/namespaces/default/services)")
check "a taken ClusterIP is 422 'already allocated'" sh -c "[ $code = 422 ] && grep -q 'already allocated' '$WORK/body'"
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"np"},"spec":{"type":"NodePort","ports":[{"port":1,"nodePort":20000}]}}' "$(url /api/v1/namespaces/default/services)")
check "a NodePort out of range is 422 'not in the valid range'" sh -c "[ $code = 422 ] && grep -q 'not in the valid range' '$WORK/body'"
check "kubectl delete svc" K delete svc web
check "the Service is gone" sh -c "! kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc web >/dev/null 2>&1"
code=$(code_of -X POST -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"again\"},\"spec\":{\"clusterIP\":\"$ip\",\"ports\":[{\"port\":1}]}}" "$(url /api/v1/namespaces/default/services)")
check "a deleted Service's ClusterIP is free again" test "$code" = 201

# ---- kubectl create generators: typed clients send protobuf bodies ----
check "kubectl create namespace (protobuf body)" sh -c "kubectl --kubeconfig '$DATA/admin.kubeconfig' create namespace gen-$$ && kubectl --kubeconfig '$DATA/admin.kubeconfig' get ns gen-$$"
check "kubectl create configmap --from-literal: data stored" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create configmap gcm --from-literal=a=1 --from-literal=e= >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get cm gcm -o json | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"])')\" = \"{'a': '1', 'e': ''}\""
check "kubectl create secret generic: base64 data and type" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create secret generic gs --from-literal=k=v >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get secret gs -o jsonpath='{.data.k} {.type}')\" = 'dg== Opaque'"
check "kubectl create secret docker-registry: dockerconfigjson" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create secret docker-registry gdr --docker-server=r --docker-username=u --docker-password=p >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get secret gdr -o jsonpath='{.type}' | grep -qx kubernetes.io/dockerconfigjson"
check "kubectl create secret tls: kubernetes.io/tls with tls.crt" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create secret tls gtls --cert='$PKI/admin.crt' --key='$PKI/admin.key' >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get secret gtls -o jsonpath='{.type} {.data.tls\\.crt}' | grep -q '^kubernetes.io/tls LS0t'"
check "kubectl create serviceaccount" sh -c "kubectl --kubeconfig '$DATA/admin.kubeconfig' create serviceaccount gsa >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get sa gsa"
check "kubectl create service clusterip: ports and selector" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create service clusterip gci --tcp=5678:8080 >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc gci -o jsonpath='{.spec.ports[0].port}/{.spec.ports[0].targetPort}/{.spec.selector.app}/{.spec.type}')\" = 5678/8080/gci/ClusterIP"
check "kubectl create service nodeport: nodePort allocated" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create service nodeport gnp --tcp=80:8080 >/dev/null && n=\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc gnp -o jsonpath='{.spec.ports[0].nodePort}') && [ \"\$n\" -ge 30000 ] && [ \"\$n\" -le 32767 ]"
check "kubectl create service loadbalancer" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create service loadbalancer glb --tcp=80 >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc glb -o jsonpath='{.spec.type}' | grep -qx LoadBalancer"
check "kubectl create service externalname" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create service externalname gen --external-name=db.example.com >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc gen -o jsonpath='{.spec.externalName}' | grep -qx db.example.com"
check "kubectl create service clusterip --clusterip=None (headless)" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' create service clusterip ghl --clusterip=None >/dev/null && kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc ghl -o jsonpath='{.spec.clusterIP}' | grep -qx None"
# a ConfigMap "pbx" whose field 9 = "x" is unknown: refused, nothing stored
printf 'k8s\000\012\017\012\002v1\022\011ConfigMap\022\012\012\005\012\003pbx\112\001x' >"$WORK/pb.bin"
code=$(code_of -X POST -H 'Content-Type: application/vnd.kubernetes.protobuf' --data-binary @"$WORK/pb.bin" "$(url /api/v1/namespaces/default/configmaps)")
check "a protobuf body with a field the server does not know: 415, nothing stored" sh -c \
	"[ $code = 415 ] && grep -q 'field 9 of ConfigMap' '$WORK/body' && ! kubectl --kubeconfig '$DATA/admin.kubeconfig' get cm pbx >/dev/null 2>&1"
K delete ns "gen-$$" >/dev/null 2>&1
K delete svc gci gnp glb gen ghl >/dev/null 2>&1

# ---- strategic merge patch: lists merge by their keys ----
K run smp --image=busybox --env=A=1 --port=80 >/dev/null 2>&1
check "kubectl patch pod (strategic): containers by name, env by name, ports by containerPort" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' patch pod smp -p '{\"spec\":{\"containers\":[{\"name\":\"smp\",\"env\":[{\"name\":\"B\",\"value\":\"2\"}],\"ports\":[{\"containerPort\":80,\"name\":\"http\"}]}]}}' >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get pod smp -o jsonpath='{.spec.containers[0].image} {.spec.containers[0].env[*].name} {.spec.containers[0].ports[0].name}')\" = 'busybox A B http'"
K create service clusterip smps --tcp=80:8080 --tcp=443:8443 >/dev/null 2>&1
check "kubectl patch svc (strategic): ports by port, \$patch: delete" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' patch svc smps -p '{\"spec\":{\"ports\":[{\"port\":80,\"targetPort\":9090},{\"port\":443,\"\$patch\":\"delete\"}]}}' >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc smps -o jsonpath='{.spec.ports[*].port}/{.spec.ports[0].targetPort}')\" = '80/9090'"
code=$(code_of -X PATCH -H 'Content-Type: application/strategic-merge-patch+json' --data '{"spec":{"ports":[{"targetPort":1}]}}' "$(url /api/v1/namespaces/default/services/smps)")
check "a strategic patch whose list element lacks its merge key: 422, nothing changed" sh -c \
	"[ $code = 422 ] && grep -q 'merge key' '$WORK/body' && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get svc smps -o jsonpath='{.spec.ports[0].targetPort}')\" = 9090"
K delete pod smp --wait=false >/dev/null 2>&1
K delete svc smps >/dev/null 2>&1

# ---- server-side apply ----
cat >"$WORK/ssa1.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa, labels: {team: a}}
data: {k: v, keep: "1"}
YAML
cat >"$WORK/ssa2.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa}
data: {k: v2, keep: "1", added: "x"}
YAML
cat >"$WORK/ssa3.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ssa}
data: {k: other}
YAML
ssa_state() { K get cm ssa -o json --show-managed-fields 2>/dev/null | python3 -c 'import json,sys; o=json.load(sys.stdin); m=o["metadata"]; print(sorted(o.get("data",{}).items()), m.get("labels"), sorted((e["manager"],e["operation"]) for e in m.get("managedFields",[])))'; }
check "kubectl apply --server-side creates a missing object" sh -c "kubectl --kubeconfig '$DATA/admin.kubeconfig' apply --server-side -f '$WORK/ssa1.yaml' | grep -q 'serverside-applied'"
check "... with its fields and an Apply entry for the field manager" test "$(ssa_state)" = "[('k', 'v'), ('keep', '1')] {'team': 'a'} [('kubectl', 'Apply')]"
K apply --server-side -f "$WORK/ssa2.yaml" >/dev/null 2>&1
check "re-apply merges new fields and removes the ones the manager dropped (labels)" test "$(ssa_state)" = "[('added', 'x'), ('k', 'v2'), ('keep', '1')] None [('kubectl', 'Apply')]"
K apply --server-side --field-manager=bob -f "$WORK/ssa3.yaml" >"$WORK/ssa.out" 2>&1
check "another manager applying a different value for an owned field: conflict" sh -c \
	"[ $? -ne 0 ] && grep -q 'conflict with \"kubectl\": .data.k' '$WORK/ssa.out'"
check "... and nothing changed" test "$(K get cm ssa -o jsonpath='{.data.k}' 2>/dev/null)" = v2
check "--force-conflicts takes the field over" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' apply --server-side --field-manager=bob --force-conflicts -f '$WORK/ssa3.yaml' >/dev/null && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get cm ssa -o jsonpath='{.data.k}/{.data.keep}')\" = other/1"
code=$(code_of -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data-binary $'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ssay}\ndata: {y: "1"}\n' "$(url "/api/v1/namespaces/default/configmaps/ssay?fieldManager=curl")")
check "an apply patch in YAML (curl) creates: 201" sh -c "[ $code = 201 ] && test \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get cm ssay -o jsonpath='{.data.y}')\" = 1"
code=$(code_of -X PATCH -H 'Content-Type: application/apply-patch+yaml' --data '{"apiVersion":"v1","kind":"ConfigMap","data":{"a":"b"}}' "$(url /api/v1/namespaces/default/configmaps/ssay)")
check "an apply patch without fieldManager: 422" test "$code" = 422
K delete cm ssa ssay >/dev/null 2>&1

# ---- watches over HTTP/1.1 and HTTP/2 ----
rv=$(current_rv)
C --http1.1 -N -w '%{http_version}\n' "$(url "/api/v1/namespaces/default/configmaps?watch=true&resourceVersion=$rv&timeoutSeconds=3")" >"$WORK/w1" 2>&1 &
BG_PIDS+=($!)
C --http2 -N -w '%{http_version}\n' "$(url "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=3&allowWatchBookmarks=true")" >"$WORK/w2" 2>&1 &
BG_PIDS+=($!)
K get configmaps -w --output-watch-events >"$WORK/kw" 2>&1 &
BG_PIDS+=($!)
C --http2 -N "$(url "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=3&labelSelector=sel%3Don")" >"$WORK/w3" 2>&1 &
BG_PIDS+=($!)
sleep 0.5
K create -f - >/dev/null 2>&1 <<'JSON'
{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm1"},"data":{"a":"1"}}
JSON
K patch configmap cm1 --type merge -p '{"data":{"a":"2"},"metadata":{"labels":{"sel":"on"}}}' >/dev/null 2>&1
K delete configmap cm1 >/dev/null 2>&1
wait "${BG_PIDS[0]}" "${BG_PIDS[1]}" "${BG_PIDS[3]}" 2>/dev/null
sleep 0.3
kill "${BG_PIDS[2]}" 2>/dev/null
wait "${BG_PIDS[2]}" 2>/dev/null
BG_PIDS=()
events() { grep -o '"type":"[A-Z]*"' "$1" | cut -d'"' -f4 | grep -v BOOKMARK | tr '\n' ' '; }
check "HTTP/1.1 watch: ADDED MODIFIED DELETED, then ends at timeoutSeconds" \
	sh -c "[ \"$(events "$WORK/w1")\" = 'ADDED MODIFIED DELETED ' ] && tail -1 '$WORK/w1' | grep -qx 1.1"
check "HTTP/2 watch: ADDED MODIFIED DELETED" \
	sh -c "[ \"$(events "$WORK/w2")\" = 'ADDED MODIFIED DELETED ' ] && tail -1 '$WORK/w2' | grep -qx 2"
check "HTTP/2 watch with allowWatchBookmarks gets BOOKMARK events" grep -q '"type":"BOOKMARK"' "$WORK/w2"
# watchers of one event share its encoding: the one whose selector the patch made
# match sees it ADDED with the same object the others see MODIFIED
same_object() {
	python3 - "$WORK/w2" "$WORK/w3" <<'PY'
import json, sys
def evs(f):
    return [json.loads(l) for l in open(f) if l.startswith("{") and '"BOOKMARK"' not in l]
w2, w3 = evs(sys.argv[1]), evs(sys.argv[2])
assert [e["type"] for e in w3] == ["ADDED", "DELETED"], w3
assert w3[0]["object"] == w2[1]["object"] and w2[1]["type"] == "MODIFIED"
assert w3[0]["object"]["data"] == {"a": "2"} and w3[0]["object"]["metadata"]["resourceVersion"]
assert w3[1]["object"] == w2[2]["object"]
PY
}
check "a watch with a labelSelector: ADDED when a change moves the object in, the same object the others get" same_object
check "kubectl get -w sees ADDED, MODIFIED and DELETED" sh -c \
	"grep -q '^ADDED .*cm1' '$WORK/kw' && grep -q '^MODIFIED .*cm1' '$WORK/kw' && grep -q '^DELETED .*cm1' '$WORK/kw'"
sleep 2.2 # two compaction ticks: revision 1 is history now
C --http2 -N "$(url "/api/v1/namespaces?watch=1&resourceVersion=1&timeoutSeconds=2")" >"$WORK/w410" 2>&1
check "watch from a compacted revision: ERROR event with code 410" sh -c \
	"grep -q '\"type\":\"ERROR\"' '$WORK/w410' && grep -q '\"code\":410' '$WORK/w410'"
code=$(code_of "$(url "/api/v1/namespaces?watch=1&sendInitialEvents=true")")
check "sendInitialEvents=true without bookmarks is rejected with 422" test "$code" = 422
C -N "$(url "/api/v1/namespaces?watch=1&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1")" >"$WORK/wi" 2>&1
check "sendInitialEvents=true: ADDED each, then the initial-events-end BOOKMARK" sh -c \
	"[ \$(grep -c '\"type\":\"ADDED\"' '$WORK/wi') -ge 4 ] && grep '\"type\":\"BOOKMARK\"' '$WORK/wi' | grep -q 'initial-events-end'"

# ---- errors ----
code=$(curl -sk -m 10 -o "$WORK/body" -w '%{http_code}' "$(url /api/v1/namespaces)")
check "no credentials: 401 Status" sh -c "[ $code = 401 ] && grep -q '\"kind\":\"Status\"' '$WORK/body'"
code=$(curl -sk -m 10 -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer nope' "$(url /api/v1/namespaces)")
check "unknown bearer token: 401" test "$code" = 401
code=$(code_of "$(url /api/v1/namespaces/default/configmaps/missing)")
check "missing object: 404 NotFound" sh -c "[ $code = 404 ] && grep -q '\"reason\":\"NotFound\"' '$WORK/body'"
C -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"c409"},"data":{"v":"1"}}' "$(url /api/v1/namespaces/default/configmaps)" >"$WORK/c409"
stale=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["metadata"]["resourceVersion"])' "$WORK/c409")
C -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"data":{"v":"2"}}' "$(url /api/v1/namespaces/default/configmaps/c409)" >/dev/null
code=$(code_of -X PUT -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"c409\",\"resourceVersion\":\"$stale\"},\"data\":{\"v\":\"3\"}}" "$(url /api/v1/namespaces/default/configmaps/c409)")
check "update with a stale resourceVersion: 409 Conflict" sh -c "[ $code = 409 ] && grep -q '\"reason\":\"Conflict\"' '$WORK/body'"
code=$(code_of -X PUT -H 'Content-Type: application/json' --data '{"metadata":{"name":"c409"},"data":{"v":"4"}}' "$(url /api/v1/namespaces/default/configmaps/c409)")
check "update without resourceVersion: allowed (200)" test "$code" = 200
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"c409"}}' "$(url /api/v1/namespaces/default/configmaps)")
check "create of an existing name: 409 AlreadyExists" sh -c "[ $code = 409 ] && grep -q AlreadyExists '$WORK/body'"
before=$(stored_rv)
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"bad"' "$(url /api/v1/namespaces/default/configmaps)")
check "bad JSON: 400 BadRequest and nothing stored" sh -c "[ $code = 400 ] && [ \"\$0\" = \"$(stored_rv)\" ]" "$before"
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"data":{}}' "$(url /api/v1/namespaces/default/configmaps)")
check "no name: 422 Invalid" sh -c "[ $code = 422 ] && grep -q '\"reason\":\"Invalid\"' '$WORK/body'"
head -c $((3 * 1024 * 1024 + 10)) /dev/zero | tr '\0' 'a' >"$WORK/big"
code=$(C -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data-binary @"$WORK/big" "$(url /api/v1/namespaces/default/configmaps)")
check "a body over 3 MiB: 413" test "$code" = 413
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"x"}}' "$(url /api/v1/namespaces/nowhere/configmaps)")
check "create in a missing namespace: 404" test "$code" = 404

# ---- wrong types for known fields: 422, nothing stored ----
before=$(stored_rv)
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"badsvc"},"spec":{"ports":[{"port":"eighty"}]}}' "$(url /api/v1/namespaces/default/services)")
check "Service port as a string: 422 Invalid naming spec.ports[0].port" sh -c "[ $code = 422 ] && grep -q '\"field\":\"spec.ports\[0\].port\"' '$WORK/body'"
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"badcm"},"data":{"a":1}}' "$(url /api/v1/namespaces/default/configmaps)")
check "ConfigMap data value as a number: 422 naming data.a" sh -c "[ $code = 422 ] && grep -q 'data.a' '$WORK/body'"
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"badpod","labels":["x"]},"spec":{"containers":[{"name":"c","image":"i"}]}}' "$(url /api/v1/namespaces/default/pods)")
check "labels as a list: 422" test "$code" = 422
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"badpod2"},"spec":{"containers":[{"name":"c","image":"i","ports":[{"containerPort":true}]}]}}' "$(url /api/v1/namespaces/default/pods)")
check "containerPort as a boolean: 422" test "$code" = 422
check "... and none of them stored anything" test "$(stored_rv)" = "$before"
code=$(code_of -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"data":{"v":{"x":1}}}' "$(url /api/v1/namespaces/default/configmaps/c409)")
check "a patch that makes a field the wrong type: 422, object unchanged" sh -c "[ $code = 422 ] && [ \"\$0\" = \"$(stored_rv)\" ]" "$before"

# ---- values kube refuses: 422 naming the field, nothing stored ----
before=$(stored_rv)
post422() { # WHAT FIELD PATH JSON: 422 Invalid with FIELD as the cause
	local code
	code=$(code_of -X POST -H 'Content-Type: application/json' --data "$4" "$(url "$3")")
	check "$1: 422 naming $2" sh -c "[ $code = 422 ] && grep -qF '\"field\":\"$2\"' '$WORK/body'"
}
post422 "Service externalIPs with a name in it" "spec.externalIPs[1]" /api/v1/namespaces/default/services \
	'{"metadata":{"name":"vext"},"spec":{"ports":[{"port":80}],"externalIPs":["192.0.2.7","not-an-ip"]}}'
check "... the message says it must be an IP address" grep -q 'must be a valid IP address' "$WORK/body"
post422 "Service externalIPs in the loopback range" "spec.externalIPs[0]" /api/v1/namespaces/default/services \
	'{"metadata":{"name":"vext"},"spec":{"ports":[{"port":80}],"externalIPs":["127.0.0.1"]}}'
post422 "sessionAffinityConfig timeoutSeconds 0" "spec.sessionAffinityConfig.clientIP.timeoutSeconds" /api/v1/namespaces/default/services \
	'{"metadata":{"name":"vaff"},"spec":{"ports":[{"port":80}],"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":0}}}}'
check "... the message gives the range" grep -q 'must be greater than 0 and less than 86400' "$WORK/body"
post422 "sessionAffinityConfig timeoutSeconds 86401" "spec.sessionAffinityConfig.clientIP.timeoutSeconds" /api/v1/namespaces/default/services \
	'{"metadata":{"name":"vaff"},"spec":{"ports":[{"port":80}],"sessionAffinity":"ClientIP","sessionAffinityConfig":{"clientIP":{"timeoutSeconds":86401}}}}'
post422 "an IPv4 EndpointSlice with 999.1.2.3" "endpoints[0].addresses[0]" /apis/discovery.k8s.io/v1/namespaces/default/endpointslices \
	'{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"vs"},"addressType":"IPv4","endpoints":[{"addresses":["999.1.2.3"]}]}'
post422 "an IPv6 EndpointSlice with an IPv4 address" "endpoints[1].addresses[0]" /apis/discovery.k8s.io/v1/namespaces/default/endpointslices \
	'{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"vs"},"addressType":"IPv6","endpoints":[{"addresses":["fd00::1"]},{"addresses":["10.0.0.1"]}]}'
post422 "an FQDN EndpointSlice with a one-label name" "endpoints[0].addresses[0]" /apis/discovery.k8s.io/v1/namespaces/default/endpointslices \
	'{"apiVersion":"discovery.k8s.io/v1","kind":"EndpointSlice","metadata":{"name":"vs"},"addressType":"FQDN","endpoints":[{"addresses":["db"]}]}'
check "... and none of them stored anything" test "$(stored_rv)" = "$before"
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"vok"},"spec":{"ports":[{"port":80}],"externalIPs":["192.0.2.7"],"sessionAffinity":"ClientIP"}}' "$(url /api/v1/namespaces/default/services)")
check "valid externalIPs and ClientIP affinity: 201, timeout defaulted to 10800" sh -c \
	"[ $code = 201 ] && python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))[\"spec\"]; assert s[\"sessionAffinityConfig\"][\"clientIP\"][\"timeoutSeconds\"]==10800 and s[\"externalIPs\"]==[\"192.0.2.7\"]' '$WORK/body'"
K delete svc vok >/dev/null 2>&1

# ---- bearer tokens and node credentials ----
code=$(curl -sS -m 10 --cacert "$PKI/ca.crt" -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer admintoken' "$(url /api/v1/namespaces)")
check "bearer token of a system:masters user: 200" test "$code" = 200
code=$(curl -sS -m 10 --cacert "$PKI/ca.crt" -o "$WORK/body" -w '%{http_code}' -H 'Authorization: Bearer plaintoken' "$(url /api/v1/namespaces)")
check "bearer token of a user with no rights: 403 Forbidden" sh -c "[ $code = 403 ] && grep -q 'bob.*cannot list' '$WORK/body'"
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$WORK/node.key" \
	-subj "/O=system:nodes/CN=system:node:n1" 2>/dev/null |
	openssl x509 -req -CA "$PKI/ca.crt" -CAkey "$PKI/ca.key" -days 1 -out "$WORK/node.crt" \
		-extfile <(echo extendedKeyUsage=clientAuth) 2>/dev/null
N() { curl -sS -m 10 --cacert "$PKI/ca.crt" --cert "$WORK/node.crt" --key "$WORK/node.key" -o /dev/null -w '%{http_code}' "$@"; }
node_json() { echo "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\"}}"; }
code=$(N -X POST -H 'Content-Type: application/json' --data "$(node_json n1)" "$(url /api/v1/nodes)")
check "node n1 registers its own Node: 201" test "$code" = 201
C -X POST -H 'Content-Type: application/json' --data "$(node_json n2)" "$(url /api/v1/nodes)" >/dev/null
code=$(N -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"status":{"conditions":[{"type":"Ready","status":"True"}]}}' "$(url /api/v1/nodes/n1/status)")
check "node n1 updates its own Node status: 200" test "$code" = 200
code=$(N -X PATCH -H 'Content-Type: application/merge-patch+json' --data '{"metadata":{"labels":{"x":"y"}}}' "$(url /api/v1/nodes/n2)")
check "node n1 may not touch Node n2: 403" test "$code" = 403
code=$(N "$(url /api/v1/namespaces/default/secrets)")
check "node n1 may not list secrets: 403" test "$code" = 403
code=$(N "$(url "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")")
check "node n1 lists pods: 200" test "$code" = 200
check "kubectl get nodes shows n1 Ready" sh -c "kubectl --kubeconfig '$DATA/admin.kubeconfig' get nodes | grep -q 'n1 .*Ready'"

# ---- list: selectors, limit/continue ----
for i in 1 2 3 4 5; do
	C -X POST -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"page$i\",\"labels\":{\"page\":\"$((i % 2))\"}}}" "$(url /api/v1/namespaces/default/configmaps)" >/dev/null
done
# pages: "PAGES:NAMES" of a paged list, or "expired" when the revision its continue token
# pins was compacted meanwhile (410, as kube answers; --compaction-interval 1 and, on
# etcd, the leader's Lease renewals every 2 s make that possible on a slow machine)
pages() {
	local cont="" names="" n=0
	while :; do
		[ "$(C -o "$WORK/page" -w '%{http_code}' "$(url "/api/v1/namespaces/default/configmaps?labelSelector=page&limit=2&continue=$cont")")" = 410 ] &&
			grep -q '"reason":"Expired"' "$WORK/page" && echo expired && return
		names="$names$(python3 -c 'import json,sys; print(" ".join(i["metadata"]["name"] for i in json.load(open(sys.argv[1]))["items"]), end=" ")' "$WORK/page")"
		cont=$(python3 -c 'import json,sys,urllib.parse; print(urllib.parse.quote(json.load(open(sys.argv[1]))["metadata"].get("continue",""), safe=""))' "$WORK/page")
		n=$((n + 1))
		[ -z "$cont" ] || [ $n -gt 5 ] && break
	done
	echo "$n:$names"
}
pages_fresh() { local p; for _ in 1 2 3; do p=$(pages); [ "$p" = expired ] || break; done; echo "$p"; }
check "limit=2 with continue pages through 5 objects in 3 pages" test "$(pages_fresh)" = "3:page1 page2 page3 page4 page5 "
# pages read at the first page's revision while other writes land between them: the
# same items, byte for byte once parsed, as one unpaged list at that revision
paged_equals_unpaged() {
	python3 - "$PORT" "$PKI" <<'PY'
import http.client, json, ssl, sys, urllib.parse
port, pki = sys.argv[1], sys.argv[2]
ctx = ssl.create_default_context(cafile=pki + "/ca.crt")
ctx.load_cert_chain(pki + "/admin.crt", pki + "/admin.key")
c = http.client.HTTPSConnection("127.0.0.1", int(port), context=ctx)
def req(method, path, body=None):
    c.request(method, path, body=json.dumps(body) if body else None,
              headers={"Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    assert r.status < 300, (method, path, r.status, data)
    return json.loads(data)
cms = "/api/v1/namespaces/default/configmaps"
for i in range(7):
    req("POST", cms, {"metadata": {"name": "fix%d" % i}, "data": {"v": str(i)}})
first = req("GET", cms + "?limit=3")
rev = first["metadata"]["resourceVersion"]
whole = req("GET", cms + "?resourceVersion=%s&resourceVersionMatch=Exact" % rev)
items, page, n = list(first["items"]), first, 0
while page["metadata"].get("continue"):
    n += 1
    req("POST", cms, {"metadata": {"name": "late%d" % n}})
    if n <= 3:
        req("DELETE", cms + "/fix%d" % n)
        req("PUT", cms + "/fix%d" % (n + 3), {"metadata": {"name": "fix%d" % (n + 3)}, "data": {"v": "x"}})
    page = req("GET", cms + "?limit=3&continue=" + urllib.parse.quote(page["metadata"]["continue"], safe=""))
    assert page["metadata"]["resourceVersion"] == rev, page["metadata"]
    items += page["items"]
assert n >= 2, n
assert items == whole["items"], ([i["metadata"]["name"] for i in items], [i["metadata"]["name"] for i in whole["items"]])
assert all(i["metadata"]["resourceVersion"] for i in items)
for i in range(7):
    c.request("DELETE", cms + "/fix%d" % i); c.getresponse().read()
for i in range(1, n + 1):
    c.request("DELETE", cms + "/late%d" % i); c.getresponse().read()
PY
}
check "paged list at a fixed revision with writes between pages = unpaged list at it" paged_equals_unpaged
check "labelSelector page=1 (equality)" test "$(K get cm -l page=1 -o name 2>/dev/null | tr '\n' ' ')" = "configmap/page1 configmap/page3 configmap/page5 "
check "labelSelector 'page,page notin (1)' (exists + set-based)" test "$(K get cm -l 'page,page notin (1)' -o name 2>/dev/null | tr '\n' ' ')" = "configmap/page2 configmap/page4 "
check "fieldSelector metadata.name" test "$(K get cm --field-selector metadata.name=page2 -o name 2>/dev/null)" = "configmap/page2"
code=$(code_of "$(url "/api/v1/pods?fieldSelector=spec.nodeName%3Dn1")")
check "fieldSelector spec.nodeName on pods: 200" test "$code" = 200
code=$(code_of "$(url "/api/v1/namespaces/default/configmaps?fieldSelector=spec.nodeName%3Dn1")")
check "an unsupported field selector: 400" test "$code" = 400
check "kubectl delete configmaps -l (deletecollection)" sh -c \
	"kubectl --kubeconfig '$DATA/admin.kubeconfig' delete cm -l page >/dev/null && [ -z \"\$(kubectl --kubeconfig '$DATA/admin.kubeconfig' get cm -l page -o name)\" ]"

# ---- every resource of the table: create -f, get, delete through kubectl ----
cat >"$WORK/all.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: p1}
spec: {containers: [{name: c, image: busybox}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: e1}
---
apiVersion: v1
kind: Node
metadata: {name: n1}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: cm2}
---
apiVersion: v1
kind: Secret
metadata: {name: s1}
stringData: {k: v}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa1}
---
apiVersion: v1
kind: Event
metadata: {name: ev1}
involvedObject: {kind: Pod, name: p1}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: es1}
addressType: IPv4
endpoints: []
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np1}
spec: {podSelector: {}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l1}
---
apiVersion: v1
kind: Namespace
metadata: {name: extra}
YAML
check "kubectl apply -f of one object per resource" K apply -f "$WORK/all.yaml"
check "kubectl get of each" K get pod/p1 endpoints/e1 node/n1 cm/cm2 secret/s1 sa/sa1 event/ev1 endpointslice/es1 netpol/np1 lease/l1 ns/extra
check "kubectl delete of each" K delete -f "$WORK/all.yaml" --wait=false

# ---- etcd: a second control plane on the same etcd (HA) ----
if [ "$STORE" = etcd ]; then
	PORT2=$((20000 + RANDOM % 40000))
	"$CP" --data-dir "$WORK/data2" --listen "127.0.0.1:$PORT2" "${STORE_ARGS[@]}" >>"$WORK/server2.log" 2>&1 &
	SRV2=$!
	BG_PIDS+=($SRV2)
	for _ in $(seq 50); do
		curl -sk -m 1 "https://127.0.0.1:$PORT2/readyz" >/dev/null 2>&1 && break
		sleep 0.1
	done
	K2() { kubectl --kubeconfig "$WORK/data2/admin.kubeconfig" --request-timeout=10s "$@"; }
	K2 get cm -w --output-watch-events >"$WORK/kw2" 2>&1 &
	BG_PIDS+=($!)
	sleep 0.5
	K create configmap ha1 --from-literal=a=1 >/dev/null 2>&1
	check "a second control plane on the same etcd reads what the first wrote" \
		test "$(K2 get cm ha1 -o jsonpath='{.data.a}' 2>/dev/null)" = 1
	rv1=$(K get cm ha1 -o jsonpath='{.metadata.resourceVersion}' 2>/dev/null)
	check "... with the same resourceVersion (etcd's mod_revision)" \
		test "$(K2 get cm ha1 -o jsonpath='{.metadata.resourceVersion}' 2>/dev/null)" = "$rv1"
	K2 patch cm ha1 --type merge -p '{"data":{"a":"2"}}' >/dev/null 2>&1
	code=$(code_of -X PUT -H 'Content-Type: application/json' --data "{\"metadata\":{\"name\":\"ha1\",\"resourceVersion\":\"$rv1\"},\"data\":{\"a\":\"3\"}}" "$(url /api/v1/namespaces/default/configmaps/ha1)")
	check "an update through the first with a revision the second superseded: 409" test "$code" = 409
	sleep 0.5
	check "a watch on the second sees the first's create (ADDED ha1)" grep -q '^ADDED .*ha1' "$WORK/kw2"
	check "... and the first still holds the Lease (the second only serves the API)" \
		sh -c "[ \"\$($(declare -f C url lease_holder); PKI='$PKI' PORT=$PORT lease_holder)\" = cp-$$ ] && grep -q 'cp-$$ holds the Lease; .* serves the API only' '$WORK/server2.log'"
	kill "${BG_PIDS[@]}" 2>/dev/null
	wait "${BG_PIDS[@]}" 2>/dev/null
	BG_PIDS=()
	K delete cm ha1 >/dev/null 2>&1
fi

# ---- etcd: killed and restarted under a running control plane ----
if [ "$STORE" = etcd ]; then
	rv=$(current_rv)
	C --http2 -N "$(url "/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=$rv&timeoutSeconds=15")" >"$WORK/wr" 2>&1 &
	WR=$!
	BG_PIDS+=($WR)
	sleep 0.3
	stop_etcd -KILL
	code=$(code_of -m 15 -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"down"}}' "$(url /api/v1/namespaces/default/configmaps)")
	check "a write while etcd is down: 500 InternalError, no hang" test "$code" = 500
	if start_etcd; then ok "etcd restarts under the running control plane"; else ko "etcd restarts under the running control plane"; fi
	code=000
	for _ in 1 2 3 4 5; do
		code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"back"}}' "$(url /api/v1/namespaces/default/configmaps)")
		[ "$code" = 201 ] && break
		sleep 0.5
	done
	check "writes work again once etcd is back" test "$code" = 201
	sleep 1
	check "the open watch resumed: ADDED back, nothing for the failed write" sh -c \
		"grep -q '\"name\":\"back\"' '$WORK/wr' && ! grep -q '\"name\":\"down\"' '$WORK/wr'"
	kill "$WR" 2>/dev/null
	wait "$WR" 2>/dev/null
	BG_PIDS=()
	K delete cm back >/dev/null 2>&1
fi

# ---- controllers: the EndpointSlice controller ----
K create ns ctl >/dev/null 2>&1
cat >"$WORK/ctl.yaml" <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: ctl-n1, labels: {topology.kubernetes.io/zone: z1}}
---
apiVersion: v1
kind: Service
metadata: {name: cweb, namespace: ctl}
spec:
  selector: {app: cweb}
  ports: [{name: http, port: 80, targetPort: web}]
---
apiVersion: v1
kind: Pod
metadata: {name: cp1, namespace: ctl, labels: {app: cweb}}
spec:
  nodeName: ctl-n1
  containers: [{name: c, image: x, ports: [{name: web, containerPort: 8080}]}]
YAML
K create -f "$WORK/ctl.yaml" >/dev/null 2>&1
K -n ctl patch pod cp1 --subresource=status --type=merge -p '{"status":{"podIP":"10.244.9.5","conditions":[{"type":"Ready","status":"True"}]}}' >/dev/null 2>&1
slice_ok() {
	kubectl --kubeconfig "$DATA/admin.kubeconfig" -n ctl get endpointslices -l kubernetes.io/service-name=cweb -o json 2>/dev/null | python3 -c '
import json,sys; l=json.load(sys.stdin)["items"]; assert len(l)==1; s=l[0]; e=s["endpoints"]
assert s["addressType"]=="IPv4" and s["ports"]==[{"name":"http","port":8080,"protocol":"TCP"}]
assert s["metadata"]["labels"]["endpointslice.kubernetes.io/managed-by"]=="endpointslice-controller.k8s.io"
assert s["metadata"]["ownerReferences"][0]["name"]=="cweb"
assert len(e)==1 and e[0]["addresses"]==["10.244.9.5"] and e[0]["conditions"]=={"ready":True,"serving":True,"terminating":False}
assert e[0]["nodeName"]=="ctl-n1" and e[0]["zone"]=="z1" and e[0]["targetRef"]["name"]=="cp1"'
}
wait_for() { local i; for i in $(seq 50); do "$@" && return 0; sleep 0.1; done; return 1; }
check "EndpointSlice controller: slice for cweb (named port 8080, ready, node, zone, owner)" wait_for slice_ok
K delete svc -n ctl cweb >/dev/null 2>&1
no_slice() { test -z "$(kubectl --kubeconfig "$DATA/admin.kubeconfig" -n ctl get endpointslices -o name 2>/dev/null)"; }
check "EndpointSlice controller: the slice goes with its Service" wait_for no_slice

# ---- durability: kill -9 in the middle of a write burst ----
: >"$WORK/acked"
(
	i=0
	while [ $i -lt 400 ]; do
		i=$((i + 1))
		c=$(C -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' \
			--data "{\"metadata\":{\"name\":\"burst$i\"}}" \
			"$(url /api/v1/namespaces/default/configmaps)" 2>/dev/null)
		[ "$c" = 201 ] && echo "burst$i" >>"$WORK/acked"
	done
) &
BURST=$!
BG_PIDS+=($BURST)
sleep 1.5
[ "$STORE" = etcd ] && stop_etcd -KILL
stop_server -KILL
wait "$BURST" 2>/dev/null
BG_PIDS=()
nacked=$(wc -l <"$WORK/acked")
check "kill -9 of the $STORE store during a burst of creates ($nacked acknowledged)" test "$nacked" -gt 0
if [ "$STORE" = etcd ]; then
	if start_etcd; then ok "etcd restarts on its data dir"; else ko "etcd restarts on its data dir"; fi
fi
if start_server --node-monitor-grace-period 4 --cluster-cidr 10.250.0.0/21; then ok "restart on the same data dir"; else ko "restart on the same data dir"; fi
C "$(url /api/v1/namespaces/default/configmaps)" | python3 -c 'import json,sys; print("\n".join(i["metadata"]["name"] for i in json.load(sys.stdin)["items"]))' >"$WORK/have"
missing=$(grep -vxFf "$WORK/have" "$WORK/acked" | wc -l)
check "every acknowledged write survived ($missing of $nacked missing)" test "$missing" -eq 0
check "kubectl works after the restart" K get ns default

# ---- controllers, on the restarted server (--node-monitor-grace-period 4,
# --cluster-cidr 10.250.0.0/21: eight /24 blocks) ----
wait_long() { local i; for i in $(seq 150); do "$@" && return 0; sleep 0.1; done; return 1; }
now_micro() { date -u +%Y-%m-%dT%H:%M:%S.%6NZ; }
jpost() { C -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/json' --data "$2" "$(url "$1")"; }
jpatch() { C -o /dev/null -w '%{http_code}' -X PATCH -H 'Content-Type: application/merge-patch+json' --data "$2" "$(url "$1")"; }
# answered CODE TEXT: the last code_of got CODE with TEXT (literally) in its body
answered() { [ "$code" = "$1" ] && grep -qF -- "$2" "$WORK/body"; }

# default/kubernetes: the first service address, port 443, endpoints at this server
kube_svc_ok() {
	K get svc,endpoints,endpointslices kubernetes -o json 2>/dev/null | python3 -c '
import json,sys; port=int(sys.argv[1]); l=json.load(sys.stdin)["items"]; k={o["kind"]:o for o in l}
s=k["Service"]; p=s["spec"]["ports"]
assert s["spec"]["clusterIP"]=="10.96.0.1" and p==[{"name":"https","port":443,"protocol":"TCP","targetPort":port}], s["spec"]
assert s["metadata"]["labels"]=={"component":"apiserver","provider":"kubernetes"}
e=k["Endpoints"]["subsets"]; assert e==[{"addresses":[{"ip":"127.0.0.1"}],"ports":[{"name":"https","port":port,"protocol":"TCP"}]}], e
es=k["EndpointSlice"]; assert es["metadata"]["labels"]["kubernetes.io/service-name"]=="kubernetes"
assert es["addressType"]=="IPv4" and es["endpoints"][0]["addresses"]==["127.0.0.1"] and es["ports"][0]["port"]==port' "$PORT"
}
check "default/kubernetes: Service 10.96.0.1:443 (https), Endpoints and EndpointSlice at 127.0.0.1:$PORT" wait_for kube_svc_ok
K delete svc kubernetes >/dev/null 2>&1
K delete endpointslice kubernetes >/dev/null 2>&1
check "default/kubernetes Service and slice deleted: made again, same ClusterIP" wait_for kube_svc_ok

# a stand-in kubelet renews the Leases of the nodes named in $WORK/alive every second
: >"$WORK/alive"
(
	while :; do
		for n in $(cat "$WORK/alive"); do
			jpatch "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/$n" \
				"{\"spec\":{\"renewTime\":\"$(now_micro)\"}}" >/dev/null 2>&1
		done
		sleep 1
	done
) &
BG_PIDS+=($!)
# mknode NAME CPU PODS SPEC LABELS READY: a Node with allocatable, Ready, and a Lease
mknode() {
	jpost /api/v1/nodes "{\"apiVersion\":\"v1\",\"kind\":\"Node\",\"metadata\":{\"name\":\"$1\",\"labels\":$5},\"spec\":$4}" >/dev/null
	jpatch "/api/v1/nodes/$1/status" "{\"status\":{\"allocatable\":{\"cpu\":\"$2\",\"memory\":\"8Gi\",\"pods\":\"$3\"},\"conditions\":[{\"type\":\"Ready\",\"status\":\"$6\",\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]}}" >/dev/null
	[ "$6" = True ] || return 0
	jpost /apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases "{\"apiVersion\":\"coordination.k8s.io/v1\",\"kind\":\"Lease\",\"metadata\":{\"name\":\"$1\"},\"spec\":{\"holderIdentity\":\"$1\",\"leaseDurationSeconds\":40,\"renewTime\":\"$(now_micro)\"}}" >/dev/null
	echo "$1" >>"$WORK/alive"
}
mknode w1 2 10 '{}' '{"kubernetes.io/hostname":"w1"}' True
mknode w2 4 10 '{}' '{}' True
mknode full 8 1 '{}' '{}' True
mknode tainted 16 10 '{"taints":[{"key":"dedicated","value":"x","effect":"NoSchedule"}]}' '{"pool":"special"}' True
mknode cordoned 16 10 '{"unschedulable":true}' '{}' True
mknode sick 16 10 '{}' '{}' False

# ---- pod CIDRs ----
# node_cidrs NAME...: their podCIDRs ("" for none), in order
node_cidrs() { local n; for n; do K get node "$n" -o jsonpath='{.spec.podCIDR}{"\n"}' 2>/dev/null || echo; done | paste -sd' '; }
six_cidrs() {
	[ "$(node_cidrs w1 w2 full tainted cordoned sick | tr ' ' '\n' | sort | tr '\n' ' ')" = \
		"10.250.0.0/24 10.250.1.0/24 10.250.2.0/24 10.250.3.0/24 10.250.4.0/24 10.250.5.0/24 " ]
}
check "podCIDR: six new nodes get six distinct /24s of 10.250.0.0/21" wait_for six_cidrs
same_pair() {
	set -- $(K get node w1 -o jsonpath='{.spec.podCIDR} {.spec.podCIDRs[0]}' 2>/dev/null)
	[ -n "${1:-}" ] && [ "$1" = "${2:-}" ]
}
check "... spec.podCIDRs[0] equals spec.podCIDR" same_pair
jpost /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"c1"}}' >/dev/null
jpost /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"c2"}}' >/dev/null
last_two() { [ "$(node_cidrs c1 c2)" = '10.250.6.0/24 10.250.7.0/24' ]; }
check "podCIDR: c1 and c2 get the last two blocks" wait_for last_two
jpost /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"c3"}}' >/dev/null
cidr_event() { [ -n "$(K get events -n default --field-selector "reason=CIDRNotAvailable,involvedObject.name=$1" -o name 2>/dev/null)" ]; }
c3_none() { wait_for cidr_event c3 && [ "$(node_cidrs c3)" = "" ] && K get node c3 >/dev/null 2>&1 && curl -sk -m 2 "$(url /readyz)" >/dev/null; }
check "podCIDR exhausted: c3 gets none and a CIDRNotAvailable Event; the server lives" c3_none
K delete node c1 >/dev/null 2>&1
c3_reuses() { [ "$(node_cidrs c3)" = 10.250.6.0/24 ]; }
check "podCIDR: c1 deleted, its block goes to the waiting c3" wait_for c3_reuses

# ---- scheduler ----
K create ns sched >/dev/null 2>&1
jpost /api/v1/namespaces/sched/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"occupant"},"spec":{"nodeName":"full","containers":[{"name":"c","image":"x"}]}}' >/dev/null
# mkpod NAME CPU [SPEC-FIELDS,]: a pod in namespace sched requesting CPU
mkpod() { jpost /api/v1/namespaces/sched/pods "{\"apiVersion\":\"v1\",\"kind\":\"Pod\",\"metadata\":{\"name\":\"$1\"},\"spec\":{${3:-}\"containers\":[{\"name\":\"c\",\"image\":\"x\",\"resources\":{\"requests\":{\"cpu\":\"$2\",\"memory\":\"64Mi\"}}}]}}" >/dev/null; }
on_node() { [ "$(K -n sched get pod "$1" -o jsonpath='{.spec.nodeName}' 2>/dev/null)" = "$2" ]; }
mkpod s1 1
check "scheduler: s1 (1 cpu) bound to the least loaded Ready node w2 (not full, tainted, cordoned or NotReady)" wait_for on_node s1 w2
scheduled_true() { [ "$(K -n sched get pod s1 -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}' 2>/dev/null)" = True ]; }
check "... through pods/binding: PodScheduled=True" scheduled_true
mkpod s2 3
check "scheduler: s2 (3 cpu) to w2, the only node with 3 cpus left" wait_for on_node s2 w2
mkpod s3 1500m
check "scheduler: s3 (1500m) to w1, w2 being full" wait_for on_node s3 w1
mkpod big 3
unschedulable() {
	K -n sched get pod big -o json 2>/dev/null | python3 -c '
import json,sys; p=json.load(sys.stdin); c=[c for c in p["status"].get("conditions",[]) if c["type"]=="PodScheduled"]
assert not p["spec"].get("nodeName") and c and c[0]["status"]=="False" and c[0]["reason"]=="Unschedulable", c
m=c[0]["message"]
for part in ("nodes are available: ", "2 Insufficient cpu", "1 Too many pods", "1 node(s) had untolerated taint {dedicated: x}", "1 node(s) were unschedulable", "were not ready"):
	assert part in m, m'
}
check "scheduler: big (3 cpu) fits nowhere: PodScheduled=False Unschedulable, every reason counted" wait_for unschedulable
failed_event() { [ -n "$(K -n sched get events --field-selector reason=FailedScheduling,involvedObject.name=big -o name 2>/dev/null)" ]; }
check "... and a FailedScheduling Event" failed_event
K -n sched delete pod s2 --grace-period=0 --force >/dev/null 2>&1
check "scheduler: s2 deleted, big tried again and bound to w2" wait_for on_node big w2
mkpod tol 1 '"nodeSelector":{"pool":"special"},"tolerations":[{"key":"dedicated","operator":"Equal","value":"x","effect":"NoSchedule"}],'
check "scheduler: a pod tolerating dedicated=x with nodeSelector pool=special goes to tainted" wait_for on_node tol tainted
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"s1"},"target":{"apiVersion":"v1","kind":"Node","name":"w1"}}' "$(url /api/v1/namespaces/sched/pods/s1/binding)")
check "binding an already bound pod: 409 'already assigned to node \"w2\"'" answered 409 'pod s1 is already assigned to node \"w2\"'
jpost /api/v1/namespaces/sched/pods '{"apiVersion":"v1","kind":"Pod","metadata":{"name":"other"},"spec":{"schedulerName":"other-scheduler","containers":[{"name":"c","image":"x"}]}}' >/dev/null
code=$(curl -sS -m 10 --cacert "$PKI/ca.crt" -o "$WORK/body" -w '%{http_code}' -H 'Authorization: Bearer plaintoken' -X POST -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"other"},"target":{"name":"w1"}}' "$(url /api/v1/namespaces/sched/pods/other/binding)")
check "binding by a user without rights: 403 naming pods/binding" answered 403 'pods \"other\" is forbidden: User \"bob\" cannot create resource \"pods/binding\"'
sleep 0.5
check "another scheduler's pod is left alone" on_node other ""
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"other"},"target":{"apiVersion":"v1","kind":"Node","name":"w1"}}' "$(url /api/v1/namespaces/sched/pods/other/binding)")
check "... until bound by hand (admin): 201 Success, spec.nodeName w1" sh -c "[ $code = 201 ] && grep -q '\"status\":\"Success\"' '$WORK/body'"
check "... spec.nodeName w1" on_node other w1

# ---- node lifecycle: w1's Lease stops being renewed ----
grep -vx w1 "$WORK/alive" >"$WORK/alive.new"
mv "$WORK/alive.new" "$WORK/alive"
unreachable() {
	K get node w1 -o json 2>/dev/null | python3 -c '
import json,sys; n=json.load(sys.stdin); r=[c for c in n["status"]["conditions"] if c["type"]=="Ready"][0]
assert r["status"]=="Unknown" and r["reason"]=="NodeStatusUnknown", r
t=sorted((t["key"],t["effect"]) for t in n["spec"].get("taints",[]))
assert t==[("node.kubernetes.io/unreachable","NoExecute"),("node.kubernetes.io/unreachable","NoSchedule")], t'
}
check "node lifecycle: w1's Lease not renewed for 4 s: Ready=Unknown (NodeStatusUnknown), unreachable NoSchedule+NoExecute" wait_long unreachable
shows() { K get nodes 2>/dev/null | grep -q "^$1 *$2 "; }
table_ok() { shows w1 NotReady && shows w2 Ready; }
check "... kubectl get nodes: w1 NotReady, w2 Ready" table_ok
sick_tainted() { K get node sick -o jsonpath='{.spec.taints[*].key}' 2>/dev/null | grep -q node.kubernetes.io/unreachable; }
check "... the NotReady node without a Lease is tainted too (no heartbeat for 4 s)" wait_long sick_tainted
mkpod late 100m '"nodeSelector":{"kubernetes.io/hostname":"w1"},'
late_waits() { K -n sched get pod late -o jsonpath='{.status.conditions[0].reason}' 2>/dev/null | grep -qx Unschedulable; }
check "... a pod that only fits w1 waits (Unschedulable)" wait_for late_waits
echo w1 >>"$WORK/alive"
jpatch /api/v1/nodes/w1/status "{\"status\":{\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\",\"reason\":\"KubeletReady\",\"lastHeartbeatTime\":\"$(date -u +%Y-%m-%dT%H:%M:%SZ)\"}]}}" >/dev/null
recovered() { [ -z "$(K get node w1 -o jsonpath='{.spec.taints}' 2>/dev/null)" ] && shows w1 Ready; }
check "node lifecycle: Lease renewed and Ready reported again: taints removed, w1 Ready" wait_long recovered
check "... and the waiting pod is bound to w1" wait_for on_node late w1
sleep 5
check "... w1 stays Ready while its Lease is renewed" recovered

# ---- namespace deletion ----
K create ns doomed >/dev/null 2>&1
cat >"$WORK/doomed.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: held, namespace: doomed, finalizers: [example.com/hold]}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: plain, namespace: doomed}
---
apiVersion: v1
kind: Secret
metadata: {name: s, namespace: doomed}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: sa, namespace: doomed}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: doomed}
spec: {selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Endpoints
metadata: {name: e, namespace: doomed}
---
apiVersion: v1
kind: Event
metadata: {name: ev, namespace: doomed}
involvedObject: {kind: Pod, name: bound}
---
apiVersion: v1
kind: Pod
metadata: {name: waiting, namespace: doomed}
spec: {nodeSelector: {no: where}, containers: [{name: c, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: bound, namespace: doomed, labels: {app: web}}
spec: {nodeName: w2, terminationGracePeriodSeconds: 0, containers: [{name: c, image: x}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: es, namespace: doomed}
addressType: IPv4
endpoints: [{addresses: [10.1.1.1]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: np, namespace: doomed}
spec: {podSelector: {}}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: l, namespace: doomed}
YAML
check "namespace doomed with objects of every namespaced kind" K create -f "$WORK/doomed.yaml"
check "kubectl delete namespace doomed --wait=false" K delete ns doomed --wait=false
terminating() { K get ns doomed -o jsonpath='{.status.phase} {.metadata.deletionTimestamp}' 2>/dev/null | grep -q '^Terminating 20'; }
check "... it is Terminating (phase and deletionTimestamp)" terminating
code=$(code_of -X POST -H 'Content-Type: application/json' --data '{"metadata":{"name":"late"}}' "$(url /api/v1/namespaces/doomed/configmaps)")
check "create in a Terminating namespace: 403 'unable to create new content ... being terminated'" \
	answered 403 'configmaps \"late\" is forbidden: unable to create new content in namespace doomed because it is being terminated'
check "... with the cause NamespaceTerminating on metadata.namespace" \
	answered 403 '"causes":[{"reason":"NamespaceTerminating","message":"namespace doomed is being terminated","field":"metadata.namespace"}]'
only_held() {
	[ "$(K -n doomed get pods,services,endpoints,configmaps,secrets,serviceaccounts,events,endpointslices,networkpolicies,leases -o name 2>/dev/null)" = configmap/held ] &&
		[ -n "$(K -n doomed get cm held -o jsonpath='{.metadata.deletionTimestamp}' 2>/dev/null)" ]
}
check "namespace controller: everything gone but the ConfigMap a finalizer holds (marked for deletion)" wait_for only_held
check "... the namespace waits for it" terminating
ns_conditions() {
	K get ns doomed -o json 2>/dev/null | python3 -c '
import json,sys; c={c["type"]:c for c in json.load(sys.stdin)["status"].get("conditions",[])}
r=c["NamespaceContentRemaining"]; f=c["NamespaceFinalizersRemaining"]
assert r["status"]=="True" and r["message"]=="Some resources are remaining: configmaps has 1 resource instances", r
assert f["status"]=="True" and f["message"]=="Some content in the namespace has finalizers remaining: example.com/hold in 1 resource instances", f'
}
check "... and says why in its conditions (NamespaceContentRemaining, NamespaceFinalizersRemaining)" wait_for ns_conditions
K -n doomed patch cm held --type merge -p '{"metadata":{"finalizers":null}}' >/dev/null 2>&1
ns_gone() { ! K get ns doomed >/dev/null 2>&1; }
check "finalizer removed: the namespace goes" wait_for ns_gone
for ns in default kube-system kube-public; do
	code=$(code_of -X DELETE "$(url /api/v1/namespaces/$ns)")
	check "DELETE namespace $ns: 403 'this namespace may not be deleted'" \
		answered 403 "namespaces \\\"$ns\\\" is forbidden: this namespace may not be deleted"
done
all_active() { [ "$(K get ns default kube-system kube-public -o jsonpath='{.items[*].status.phase}' 2>/dev/null)" = 'Active Active Active' ]; }
check "... all three still Active" all_active

stop_server -TERM
check "SIGTERM: clean shutdown, exit 0" test "$SRV_RC" -eq 0

# ---- podCIDRs after a restart: what Nodes hold is adopted again, nothing handed out twice ----
if start_server --node-monitor-grace-period 4 --cluster-cidr 10.250.0.0/21; then
	jpost /api/v1/nodes '{"apiVersion":"v1","kind":"Node","metadata":{"name":"c4"}}' >/dev/null
	all_distinct() {
		local all
		all=$(K get nodes -o jsonpath='{.items[*].spec.podCIDR}' 2>/dev/null | tr ' ' '\n' | grep '^10\.250\.')
		[ "$(echo "$all" | wc -l)" = 8 ] && [ "$(echo "$all" | sort -u | wc -l)" = 8 ]
	}
	c4_none() { wait_for cidr_event c4 && [ "$(node_cidrs c4)" = "" ] && K get node c4 >/dev/null 2>&1 && all_distinct; }
	check "podCIDR after a restart: the 8 blocks Nodes hold are adopted, c4 gets none (CIDRNotAvailable)" c4_none
	K delete node c2 >/dev/null 2>&1
	c4_reuses() { [ "$(node_cidrs c4)" = 10.250.7.0/24 ] && all_distinct; }
	check "... c2 deleted: c4 gets its block, still no duplicate" wait_for c4_reuses
	stop_server -TERM
else
	ko "restart on the same data dir (podCIDR adoption)"
fi

# ---- etcd: scripts with their own etcd and servers, counted in here ----
# sub_suite PREFIX SCRIPT: runs SCRIPT, prints its lines with PREFIX, adds its counts
sub_suite() {
	local sp sf
	BL_BIN="$BIN" bash "$2" >"$WORK/sub.out" 2>&1
	grep -v '^[0-9]* passed, [0-9]* failed$' "$WORK/sub.out" | sed "s/^\(ok  \|FAIL\) - /\1 - $1: /"
	read -r sp sf <<<"$(sed -n 's/^\([0-9]*\) passed, \([0-9]*\) failed$/\1 \2/p' "$WORK/sub.out")"
	if [ -n "${sp:-}" ]; then
		PASS=$((PASS + sp))
		FAIL=$((FAIL + sf))
	else
		ko "$1: $2 ended without a summary"
	fi
}
if [ "$STORE" = etcd ]; then
	sub_suite "leader election" "$ROOT/selftests/controlplane/leader.sh"
	sub_suite "silent etcd watch" "$ROOT/selftests/controlplane/watch_stall.sh"
fi

echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
