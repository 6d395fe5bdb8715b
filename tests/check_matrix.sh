#!/usr/bin/env bash
# The matrix tells the truth: README.md's tables are what this kernel does (scripts/readme-matrix.sh
# --check), and a wrong expectation shows up as a failed cell holding what the stack really did.
set -u
harness=$1 source_dir=$2 captures=$3
failures=0
"$source_dir/scripts/readme-matrix.sh" --check "$harness" || failures=$((failures + 1))

out=$("$harness" matrix --markdown --captures "$captures" "$source_dir/tests/wrong/time_wait/lost_final_ack.tc" 2>/dev/null)
status=$?
want='| time_wait/lost_final_ack | ACK! | ACK! | ACK! | RST! | RST! | RST! |'
if [ "$status" -ne 1 ] || ! grep -qxF "$want" <<<"$out"; then
	echo "FAIL: the wrong twin's matrix (exit $status) lacks the row '$want':"
	echo "$out"
	failures=$((failures + 1))
fi
# One family asked for: a column per variant, as before families.
out=$("$harness" matrix --markdown --family 6 --captures "$captures" "$source_dir/tests/wrong/time_wait/lost_final_ack.tc" 2>/dev/null)
want='| time_wait/lost_final_ack | ACK! | RST! |'
if ! grep -qxF "$want" <<<"$out" || ! grep -qxF '| case | tw-kept | no-tw-bucket |' <<<"$out"; then
	echo "FAIL: the wrong twin's --family 6 matrix lacks the row '$want' or its header:"
	echo "$out"
	failures=$((failures + 1))
fi
echo "matrix checks: $failures failures"
[ "$failures" -eq 0 ]
