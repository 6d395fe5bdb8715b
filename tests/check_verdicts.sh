#!/usr/bin/env bash
# ERROR, FLAKY and the exit statuses on real runs (issue 14): a harness stopped past a line's window
# gives an ERROR that says how late it was (never a FAIL) and exit 3, as does a segment seen after the
# case's due end only because the harness came to that end late; the same with retries gives a
# FLAKY that shows both tries and exit 0; a FAIL outweighs an ERROR (exit 1); --rerun-failures shows a
# wrong twin's every try and still FAILs; a run in which every case was skipped exits 4, or 0 with
# --allow-skip-only; --help documents all of it. Others' work on the machine may add ERRORs and retries
# of its own: the checks hold either way.
# usage: check_verdicts.sh HARNESS SOURCE_DIR
set -u
harness=$1 source_dir=$2
. "$source_dir/tests/late_harness.sh"
late=$source_dir/tests/verdicts/late_injection.tc
late_read=$source_dir/tests/verdicts/late_read.tc
late_chain=$source_dir/tests/verdicts/late_call_chain.tc
stopped_segment=$source_dir/tests/verdicts/stopped_across_segment.tc
late_end=$source_dir/tests/verdicts/late_case_end.tc
wrong_twin=$source_dir/tests/wrong/time_wait/lost_final_ack.tc
skip=$source_dir/tests/reports/needs_tw_recycle.tc
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
# expect STATUS WANTED FILE TEXT...: the exit status, and every TEXT in the output FILE.
expect() {
	local status=$1 wanted=$2 file=$3
	shift 3
	cat "$file"
	[ "$status" -eq "$wanted" ] || fail "exit status $status, expected $wanted ($file)"
	for text in "$@"; do
		grep -qF -- "$text" "$file" || fail "$file does not say '$text'"
	done
}

help=$("$harness" --help)
for text in '--retries N' '--rerun-failures N' '--allow-skip-only' '3  no FAIL, but at least one ERROR' \
	'4  nothing ran: every case was a SKIP' 'N passed, N failed, N skipped, N flaky, N errors'; do
	grep -qF -- "$text" <<<"$help" || fail "--help does not say '$text'"
done

echo "== a late injection, no retries: ERROR, exit 3"
run_stopped "$harness" run --family 4 --family 4 --retries 0 --captures "$scratch/c" "$late" >"$scratch/error.out" 2>&1
expect $? 3 "$scratch/error.out" "ERROR verdicts/late_injection" "harness error: the injection left" \
	"ms late, after its window closed" "0 passed, 0 failed, 0 skipped, 0 flaky, 1 errors"
grep -q '^FAIL ' "$scratch/error.out" && fail "the late injection was blamed on the stack"

echo "== a state read while the harness was stopped: ERROR that says how late and what waited, exit 3"
run_stopped "$harness" run --family 4 --retries 0 --captures "$scratch/c" "$late_read" >"$scratch/read.out" 2>&1
expect $? 3 "$scratch/read.out" "ERROR verdicts/late_read" "harness error: socket state of c read" \
	"ms late (at +" "the harness was descheduled or stopped: " "the harness thread waited" "it proves nothing"
grep -q '^FAIL ' "$scratch/read.out" && fail "the late read was blamed on the stack"

echo "== a call made late inside its window, then a timer segment due before the late call's window: ERROR, exit 3"
run_stopped "$harness" run --family 4 --retries 0 --captures "$scratch/c" "$late_chain" >"$scratch/chain.out" 2>&1
expect $? 3 "$scratch/chain.out" "ERROR verdicts/late_call_chain" "harness error: segment arrived" \
	"ms early, but the lines since the last segment ran up to" "the harness cannot place it"
grep -q '^FAIL ' "$scratch/chain.out" && fail "the segment the late calls made look early was blamed on the stack"

echo "== a segment the stack sent while the harness was stopped: the capture's stamp proves it in time"
run_stopped "$harness" run --family 4 --retries 0 --captures "$scratch/c" "$stopped_segment" >"$scratch/seen.out" 2>&1
expect $? 0 "$scratch/seen.out" "PASS verdicts/stopped_across_segment" "1 passed, 0 failed, 0 skipped, 0 flaky, 0 errors"

echo "== a segment the stack sent after the case's last line was due, seen only by a harness stopped past it: ERROR, exit 3"
run_stopped "$harness" run --family 4 --retries 0 --captures "$scratch/c" "$late_end" >"$scratch/end.out" 2>&1
expect $? 3 "$scratch/end.out" "ERROR verdicts/late_case_end" "harness error: the stack sent a segment no line expected" \
	"an on-time harness would have ended the case before it"
grep -q '^FAIL ' "$scratch/end.out" && fail "the segment after the case's due end was blamed on the stack"

echo "== its wrong twins, stopped the same way, still FAIL: a harness late to look excuses nothing"
for twin in stopped_late_segment:"ms too late (from the " \
	stopped_silence:"no segment from the stack to c within 550 ms (nor in the " \
	stopped_early_segment:"ms too early"; do
	name=${twin%%:*}
	run_stopped "$harness" run --family 4 --retries 0 --captures "$scratch/c" \
		"$source_dir/tests/wrong/timing/$name.tc" >"$scratch/$name.out" 2>&1
	expect $? 1 "$scratch/$name.out" "FAIL timing/$name" "${twin#*:}" "0 passed, 1 failed, 0 skipped, 0 flaky, 0 errors"
done

echo "== the same with the default retries: FLAKY, every try shown, exit 0"
run_stopped "$harness" run --family 4 --family 4 --captures "$scratch/c" "$late" >"$scratch/flaky.out" 2>&1
expect $? 0 "$scratch/flaky.out" "FLAKY verdicts/late_injection" "try 1: ERROR: " "harness error: the injection left" \
	"try 2: PASS" "0 passed, 0 failed, 0 skipped, 1 flaky, 0 errors"

echo "== a FAIL outweighs an ERROR: exit 1"
run_stopped "$harness" run --family 4 --family 4 -j 1 --retries 0 --captures "$scratch/c" "$late" "$wrong_twin" >"$scratch/both.out" 2>&1
expect $? 1 "$scratch/both.out" "ERROR verdicts/late_injection" "FAIL time_wait/lost_final_ack@tw-kept"

echo "== --rerun-failures 1: a wrong twin fails both tries, and both are shown"
"$harness" run --family 4 --rerun-failures 1 --variant tw-kept --captures "$scratch/c" "$wrong_twin" >"$scratch/rerun.out" 2>&1
expect $? 1 "$scratch/rerun.out" "FAIL time_wait/lost_final_ack@tw-kept" "0 passed, 1 failed, 0 skipped, 0 flaky, 0 errors"
# On a busy machine a try may also end in a harness ERROR, which is retried on its own account.
[ "$(grep -c '^    try [0-9]*: FAIL: ' "$scratch/rerun.out")" -eq 2 ] || fail "not two failed tries shown"

echo "== every case skipped: nothing ran, exit 4; 0 with --allow-skip-only"
"$harness" run --family 4 --captures "$scratch/c" "$skip" >"$scratch/skip.out" 2>&1
expect $? 4 "$scratch/skip.out" "SKIP reports/needs_tw_recycle" "tcpharness: nothing ran: every case was skipped"
"$harness" run --family 4 --allow-skip-only --captures "$scratch/c" "$skip" >"$scratch/skip-allowed.out" 2>&1
expect $? 0 "$scratch/skip-allowed.out" "SKIP reports/needs_tw_recycle"
"$harness" run --family 4 --retries 16 "$skip" >"$scratch/usage.out" 2>&1
expect $? 2 "$scratch/usage.out" "--retries takes a number of extra tries (0..15), not '16'"

echo "verdict checks: $failures failures"
[ "$failures" -eq 0 ]
