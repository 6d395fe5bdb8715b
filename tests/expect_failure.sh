#!/usr/bin/env bash
# Runs a case whose expectation is wrong on purpose and proves the harness says so: exit status 1,
# a FAIL line, and every `# expect-output: TEXT` line of the case's header present in the output
# (`// expect-output: TEXT` in a packetdrill .pkt).
# With `pass` as a fourth argument it proves the opposite for a valid case: exit status 0, nothing but
# PASS lines, and the same `# expect-output:` lines (what a pass must also say, e.g. unchecked lines).
set -u
harness=$1 case=$2 captures=$3 want=${4:-fail}
output=$("$harness" run --captures "$captures" "$case" 2>&1)
status=$?
printf '%s\n' "$output"
fail() { echo "expect_failure: $*" >&2; exit 1; }
if [ "$want" = pass ]; then
	[ "$status" -eq 0 ] || fail "exit status $status, expected 0 (every run passed)"
	grep -q '^\(FAIL\|SKIP\) ' <<<"$output" && fail "a run did not pass"
	grep -q '^PASS ' <<<"$output" || fail "no PASS line"
else
	[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (a case failed)"
	grep -q '^FAIL ' <<<"$output" || fail "no FAIL line"
	grep -q '^PASS ' <<<"$output" && [ "$(grep -c '^\(#\|//\) expect-pass' "$case")" -eq 0 ] && fail "a variant passed"
fi
found=0
while IFS= read -r wanted; do
	found=$((found + 1))
	grep -qF -- "$wanted" <<<"$output" || fail "missing from the output: '$wanted'"
done < <(sed -n 's/^\(#\|\/\/\) expect-output: //p' "$case")
[ "$found" -gt 0 ] || fail "$case has no '# expect-output:' lines"
echo "expect_failure: $case $([ "$want" = pass ] && echo passes || echo fails) as it should ($found expected lines found)"
