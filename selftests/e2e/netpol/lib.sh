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
