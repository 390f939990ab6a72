# Shared by test_netpol.sh (manifests) and test_netpol_api.sh (the Kubernetes API):
# the truth tables' nine pods and their servers, the driver's config, its tallies.
# Needs netns_lib.sh and assert.sh sourced, the node up and the agent started.

# np_pods: pods a, b, c in namespaces x, y, z wired by bpflet-cni (registered as
# x/a ...), TCP and UDP servers on 80 and 81 in each; fills IPS[xa]=address ...
declare -A IPS=()
np_pods() {
	local ns p ip k
	for ns in x y z; do
		for p in a b c; do
			ip=$(BL_POD_NS=$ns BL_POD_NAME=$p bl_pod_add "$ns$p") || return 1
			IPS[$ns$p]=$ip
		done
	done
	for k in "${!IPS[@]}"; do
		bl_bg "$k" python3 "$NP_HERE/serve.py" "${k:1}"
	done
	for k in "${!IPS[@]}"; do
		bl_wait_port "$k" 81 || return 1
	done
}

# np_cfg FILE [JSON fields...]: the driver's config (truth.py's docstring)
np_cfg() {
	local file=$1 k sep=
	shift
	{
		printf '{"node_ns": "%s", "manifests": "%s", "ctl": "%s", "instance": "%s",' \
			"$BL_NODE" "$BL_MANIFESTS" "$BL_BIN/bpfletctl" "$BL_INSTANCE"
		for f in "$@"; do printf ' %s,' "$f"; done
		printf ' "pod_ns_prefix": "%s-", "pods": {' "$BL_TAG"
		for k in "${!IPS[@]}"; do
			printf '%s"%s": {"ns": "%s", "name": "%s", "ip": "%s"}' "$sep" "$k" "${k:0:1}" "${k:1}" "${IPS[$k]}"
			sep=", "
		done
		printf '}}\n'
	} >"$file"
}

# np_truth CFG: runs the driver, its "ok   - " / "FAIL - " lines become our tallies
np_truth() {
	local l
	while IFS= read -r l; do
		case "$l" in
		"ok   - "*) pass "${l#ok   - }" ;;
		"FAIL - "*) fail "${l#FAIL - }" ;;
		"driver exit 0") ;;
		"driver exit "*) fail "truth-table driver: $l" ;;
		*) echo "$l" ;;
		esac
	done < <(timeout 1200 python3 "$NP_HERE/truth.py" "$1" 2>&1; echo "driver exit $?")
}

# ---- bad policies: logged by name, left out, a bad edit keeping the last good version

np_json() { # np_json NS NAME PORT: a policy allowing ingress to every pod of NS on PORT
	printf '{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": "%s", "namespace": "%s"}, "spec": {"podSelector": {}, "ingress": [{"ports": [{"port": %s}]}]}}' "$2" "$1" "$3"
}
np_rules() { # the rule names bpfletctl lists and the isolated endpoints, one line
	"$BL_BIN/bpfletctl" --instance "$BL_INSTANCE" -o json policy list |
		python3 -c 'import json,sys; d=json.load(sys.stdin); print(" ".join(sorted(r["rule"] for r in d["rules"])), len(d["endpoints"]))'
}
np_wait_rules() {
	for _ in $(seq 100); do
		[ "$(np_rules)" = "$1" ] && return 0
		sleep 0.05
	done
	return 1
}
# np_bad_policies PUT: PUT JSON... makes those policies exist (a file, or kubectl apply)
np_bad_policies() {
	local put=$1 out
	: >"$BL_AGENT_LOG"
	$put "$(np_json x web 81)" "$(np_json y bad 0)"
	check "a bad policy y/bad next to x/web: x/web applied (3 pods isolated)" \
		np_wait_rules "x/web ingress[0] 3" || np_rules
	check "y/bad logged by name and field, left out" \
		grep -q "NetworkPolicy y/bad: spec.ingress\[0\].ports\[0\].port: .*left out" "$BL_AGENT_LOG"
	$put "$(np_json x web 70000)" "$(np_json z ok 80)"
	check "x/web edited bad: z/ok applied beside x/web's last good version (6 pods isolated)" \
		np_wait_rules "x/web ingress[0] z/ok ingress[0] 6" || np_rules
	check "the bad edit logged: its last good version stays in force" \
		grep -q "NetworkPolicy x/web: spec.ingress\[0\].ports\[0\].port: .*last good version stays in force" "$BL_AGENT_LOG"
	out=$(bl_in yc timeout 3 socat -T2 - "TCP:${IPS[xb]}:81,connect-timeout=2" </dev/null 2>&1)
	[ "$out" = "b" ] && pass "x/web's last good rule (81) lets y/c reach x/b:81" ||
		fail "y/c -> x/b:81 got '$out'"
}
