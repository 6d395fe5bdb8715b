#!/usr/bin/env bash
# Runs a case whose expectation is wrong on purpose and proves the harness says so: exit status 1,
# a FAIL line in every address family, and every `# expect-output: TEXT` line of the case's header
# present in the output (`// expect-output: TEXT` in a packetdrill .pkt).
# With `pass` as a fourth argument it proves the opposite for a valid case: exit status 0, nothing but
# PASS (or FLAKY) lines, and the same `# expect-output:` lines (what a pass must also say, e.g.
# unchecked lines).
set -u
harness=$1 case=$2 captures=$3 want=${4:-fail}
output=$("$harness" run --captures "$captures" "$case" 2>&1)
status=$?
printf '%s\n' "$output"
fail() { echo "expect_failure: $*" >&2; exit 1; }
if [ "$want" = pass ]; then
	# FLAKY passed too, on a retry after a harness ERROR (a busy machine); it never hides a FAIL.
	[ "$status" -eq 0 ] || fail "exit status $status, expected 0 (every run passed)"
	grep -q '^\(FAIL\|SKIP\|ERROR\) ' <<<"$output" && fail "a run did not pass"
	grep -q '^\(PASS\|FLAKY\) ' <<<"$output" || fail "no PASS line"
else
	[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (a case failed)"
	grep -q '^FAIL ' <<<"$output" || fail "no FAIL line"
	grep -q '^PASS ' <<<"$output" && [ "$(grep -c '^\(#\|//\) expect-pass' "$case")" -eq 0 ] && fail "a variant passed"
	# A wrong expectation is wrong in every address family the case runs in.
	for family in $("$harness" list "$case" | sed -n 's,.*/\(ipv4\|ipv6\|mapped\)$,\1,p' | sort -u); do
		grep -q "^FAIL [^ ]*/$family " <<<"$output" || fail "no run in the $family family failed"
	done
fi
found=0
while IFS= read -r wanted; do
	found=$((found + 1))
	grep -qF -- "$wanted" <<<"$output" || fail "missing from the output: '$wanted'"
done < <(sed -n 's/^\(#\|\/\/\) expect-output: //p' "$case")
[ "$found" -gt 0 ] || fail "$case has no '# expect-output:' lines"
echo "expect_failure: $case $([ "$want" = pass ] && echo passes || echo fails) as it should ($found expected lines found)"
