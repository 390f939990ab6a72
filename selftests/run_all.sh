#!/usr/bin/env bash
# make check: every suite in turn, then one combined "N passed, N failed" line.
# Suites: Criterion unit tests (no root), BPF_PROG_TEST_RUN cases and the network
# namespace end-to-end tests (root; CI runs as root).
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${BL_BIN:-$ROOT/build/bin}
passed=0
failed=0

# add_counts LABEL OUTPUT: reads either Criterion's synthesis or our own summary line.
add_counts() {
	local label=$1 out=$2 p f line
	line=$(grep -E '^\[====\] Synthesis:' <<<"$out" | tail -1)
	if [ -n "$line" ]; then
		p=$(sed -E 's/.*Passing: ([0-9]+).*/\1/' <<<"$line")
		f=$(sed -E 's/.*Failing: ([0-9]+) \| Crashing: ([0-9]+).*/\1+\2/' <<<"$line")
		f=$((f))
	else
		line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' <<<"$out" | tail -1)
		if [ -z "$line" ]; then
			echo "FAIL - $label printed no summary"
			failed=$((failed + 1))
			return
		fi
		p=${line%% passed*}
		f=$(sed -E 's/.* ([0-9]+) failed.*/\1/' <<<"$line")
	fi
	echo "== $label: $p passed, $f failed"
	passed=$((passed + p))
	failed=$((failed + f))
}

run_suite() {
	local label=$1 out rc
	shift
	echo "== $label"
	out=$("$@" 2>&1)
	rc=$?
	echo "$out"
	add_counts "$label" "$out"
	if [ $rc -ne 0 ] && ! grep -qE '(Failing: [1-9]|Crashing: [1-9]| [1-9][0-9]* failed)' <<<"$out"; then
		echo "FAIL - $label exited $rc"
		failed=$((failed + 1))
	fi
}

run_suite "unit: compile" "$BIN/test_compile" --jobs 2
run_suite "unit: cni" "$BIN/test_cni" --jobs 2
run_suite "unit: dataplane" "$BIN/test_dataplane" --jobs 2
run_suite "unit: kube" "$BIN/test_kube" --jobs 2
if [ -f "$ROOT/controlplane/main.c" ]; then
	run_suite "unit: controlplane" "$BIN/test_controlplane" --jobs 2
fi
if [ "$(id -u)" = 0 ]; then
	run_suite "bpf: prog_test_run" "$BIN/test_bpf"
	run_suite "cni: netns integration" env BPFLET_CNI="$BIN/bpflet-cni" bash "$ROOT/selftests/cni/test_cni.sh"
	run_suite "e2e: network namespaces" env BL_BIN="$BIN" bash "$ROOT/selftests/e2e/run.sh"
	if [ -f "$ROOT/selftests/controlplane/run.sh" ]; then
		run_suite "controlplane: integration" env BL_BIN="$BIN" bash "$ROOT/selftests/controlplane/run.sh"
		run_suite "controlplane: integration (etcd)" env BL_BIN="$BIN" BL_CP_STORE=etcd bash "$ROOT/selftests/controlplane/run.sh"
	fi
else
	echo "FAIL - BPF and e2e suites need root (run make check as root)"
	failed=$((failed + 1))
fi

echo
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
