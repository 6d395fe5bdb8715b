#!/usr/bin/env bash
# Parallel runs tell the same truth as serial ones: the whole catalogue's outcome table with -j 1 and
# with -j 8 (more sandboxes than CPUs, since cases mostly wait on kernel timers) must be identical,
# and so must the order of the console lines. Eight sandboxes on two CPUs make the harness late now
# and then, which it reports as an ERROR and retries (here up to 5 times): a pass on a retry (FLAKY, `~`
# in a cell) is a pass for this comparison. One family: what families do is checked elsewhere, and
# three times the runs at -j 8 on two CPUs would measure the machine, not the scheduler.
set -u
harness=$1 cases=$2 captures=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
for jobs in 1 8; do
	"$harness" matrix --markdown --family 4 -j "$jobs" --retries 5 --captures "$captures/j$jobs" "$cases" >"$work/matrix$jobs" \
		2>"$work/console$jobs"
	status=$?
	if [ "$status" -ne 0 ]; then
		echo "FAIL: matrix -j $jobs exited $status"
		cat "$work/console$jobs"
		failures=$((failures + 1))
	fi
	# The table without the flaky marks and notes, and every verdict line with FLAKY read as PASS.
	sed -e 's/~ |/ |/g' -e '/^`~`: /d' -e '/^$/d' "$work/matrix$jobs" >"$work/table$jobs"
	grep -oE '^(PASS|FAIL|SKIP|ERROR|FLAKY) [^ ]+' "$work/console$jobs" | sed 's/^FLAKY /PASS /' >"$work/order$jobs"
done
diff -u "$work/table1" "$work/table8" || { echo "FAIL: -j 8 gives another table than -j 1"; failures=$((failures + 1)); }
diff -u "$work/order1" "$work/order8" || { echo "FAIL: -j 8 prints in another order"; failures=$((failures + 1)); }
[ -s "$work/order1" ] || { echo "FAIL: no results"; failures=$((failures + 1)); }
echo "parallel checks: $(wc -l <"$work/order1") case@variants, $failures failures"
[ "$failures" -eq 0 ]
