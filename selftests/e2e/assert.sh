# Tiny assertion helpers: each check prints one line; bl_summary prints the totals.
BL_PASSED=0
BL_FAILED=0

pass() {
	BL_PASSED=$((BL_PASSED + 1))
	echo "ok   - $*"
}

fail() {
	BL_FAILED=$((BL_FAILED + 1))
	echo "FAIL - $*"
}

# check DESC CMD...: passes when CMD exits 0.
check() {
	local desc=$1
	shift
	if "$@"; then pass "$desc"; else fail "$desc"; fi
}

bl_summary() {
	echo "$BL_PASSED passed, $BL_FAILED failed"
	[ "$BL_FAILED" -eq 0 ]
}
