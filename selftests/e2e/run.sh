#!/usr/bin/env bash
# Runs every selftests/e2e/test_*.sh and prints the combined "N passed, N failed".
HERE=$(cd "$(dirname "$0")" && pwd)
passed=0
failed=0
for t in "$HERE"/test_*.sh; do
	echo "## $(basename "$t")"
	out=$(bash "$t" 2>&1 | tee /dev/stderr | tail -1)
	if [[ "$out" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		passed=$((passed + BASH_REMATCH[1]))
		failed=$((failed + BASH_REMATCH[2]))
	else
		echo "FAIL - $(basename "$t") ended without a summary"
		failed=$((failed + 1))
	fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
