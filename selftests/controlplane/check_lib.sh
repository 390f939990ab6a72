# What the control-plane test scripts share: one line per check and the counts for the
# closing "N passed, N failed" (the sourcing script sets PASS=0 FAIL=0).
#   ok TEXT / ko TEXT      count and print a pass / a failure
#   check TEXT CMD...      passes when CMD exits 0
#   poll SECONDS CMD...    CMD until it passes, at most SECONDS (returns 1 then)
#   bail TEXT              a failure that ends the script (with the counts)

ok() { PASS=$((PASS + 1)); echo "ok   - $*"; }
ko() { FAIL=$((FAIL + 1)); echo "FAIL - $*"; }
check() {
	local what=$1
	shift
	if "$@" >/dev/null 2>&1; then ok "$what"; else ko "$what"; fi
}
poll() {
	local end=$((SECONDS + $1))
	shift
	while [ $SECONDS -le $end ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
bail() {
	ko "$1"
	echo "$PASS passed, $FAIL failed"
	exit 1
}
