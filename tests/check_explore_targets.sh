#!/usr/bin/env bash
# `explore --targets local,lwip --diff` for real: both stacks run the same cells, every cell holds an
# observation of each, and the difference list names exactly the cells where they answered apart.
# ack-old-ts is the known one: Linux rejects the old TSval by PAWS and ACKs (tcp_validate_incoming,
# PAWSEstab), lwIP 2.1.3 has no PAWS check (tcp_in.c tcp_parseopt only records ts_recent) and takes
# the ACK silently; rst-in-window they answer alike (a challenge ACK), so it is not a difference.
set -u
harness=$1 work=$2
fail() { echo "check_explore_targets: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || { echo "check_explore_targets: SKIP, needs root for namespaces"; exit 77; }
[ -x "$(dirname "$harness")/tcpharness-agent-lwip" ] ||
	{ echo "check_explore_targets: SKIP, no tcpharness-agent-lwip (configure found no lwIP source)"; exit 77; }
rm -rf "$work" && mkdir -p "$work" || fail "cannot make $work"

"$harness" explore -j 2 --targets local,lwip --states ESTABLISHED --events ack-old-ts,rst-in-window,data-in-window \
	--diff --captures "$work/captures" --json "$work/cells.json" --emit "$work/emitted" >"$work/diff.md" 2>"$work/err"
status=$?
cat "$work/err" "$work/diff.md"
[ "$status" -eq 0 ] || fail "exit status $status, expected 0 (every cell observed on both)"

# Every cell has an observation from each target, in the order given.
cells=$(grep -c '^  {"name"' "$work/cells.json")
[ "$cells" -eq 6 ] || fail "$cells cells in the JSON, expected 2 rows x 3 events"
pairs=$(grep -c '"observed": \[{"target": "local", "status": "observed".*{"target": "lwip", "status": "observed"' "$work/cells.json")
[ "$pairs" -eq "$cells" ] || fail "only $pairs of $cells cells observed on local and then on lwip"
[ -n "$(find "$work/captures/local" -name '*.pcapng')" ] && [ -n "$(find "$work/captures/lwip" -name '*.pcapng')" ] ||
	fail "no pcaps per target"

for role in server client; do
	grep -q "^- $role ESTABLISHED × ack-old-ts: local ACK; lwip DROP.*\[targets differ\]" "$work/diff.md" ||
		fail "$role ack-old-ts is not listed as local ACK, lwip DROP, targets differ"
	grep -q "^- $role ESTABLISHED × rst-in-window" "$work/diff.md" &&
		fail "$role rst-in-window listed, though both stacks answer with a challenge ACK"
done
# data-in-window agrees (an ACK from both, lwIP's delayed one inside its longer window) and with the RFC.
grep -q "data-in-window" "$work/diff.md" && fail "data-in-window listed: lwIP's delayed ACK missed its window?"

# A listed cell, emitted from the first target (local), passes there and fails on lwip.
emitted="$work/emitted/server-established/ack-old-ts.tc"
[ -f "$emitted" ] || fail "no $emitted"
"$harness" run --tolerance 300 --captures "$work/emitted-local" "$emitted" || fail "the emitted case failed on local"
output=$("$harness" run --target lwip --captures "$work/emitted-lwip" "$emitted" 2>&1)
status=$?
printf '%s\n' "$output"
[ "$status" -eq 1 ] || fail "the emitted case on lwip: exit status $status, expected 1 (FAIL)"
echo "check_explore_targets: local and lwip differ where expected, and the emitted case tells them apart"
