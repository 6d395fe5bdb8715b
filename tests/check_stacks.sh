#!/usr/bin/env bash
# The gvisor and lwip targets (issue 6): docs/stacks.md's table and differences must be what the
# three stacks do (scripts/stack-table.sh --check), and both targets must stop cleanly: after a clean
# run, SIGINT, SIGTERM and SIGKILL no runsc or lwIP agent of ours runs, no TAP or veth appeared here,
# and the gVisor bundle directory is gone (a SIGKILLed run's bundle is swept by the next run).
# usage: check_stacks.sh HARNESS SOURCE_DIR
set -uo pipefail
if [ $# -ne 2 ]; then
	echo "usage: check_stacks.sh HARNESS SOURCE_DIR" >&2
	exit 2
fi
harness=$1 source_dir=$2
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
workdir=/tmp/tcpharness-gvisor
links_before=$(ip -o link | wc -l)

ours() { pgrep -f "runsc.*--root=$workdir/|tcpharness-agent-lwip --tap" || true; }
leftovers() {
	local what=$1
	for _ in $(seq 150); do [ -z "$(ours)" ] && break; sleep 0.02; done
	[ -z "$(ours)" ] || fail "$what: still running: $(ours | xargs -r ps -o pid=,args= -p)"
	[ "$(ip -o link | wc -l)" -eq "$links_before" ] || fail "$what: links appeared here: $(ip -o link | tail -n +"$((links_before + 1))")"
}

(cd "$source_dir" && scripts/stack-table.sh --check "$harness") || fail "docs/stacks.md"
leftovers "after the matrix"
[ ! -e "$workdir" ] || fail "after the matrix: $workdir is left: $(ls -A "$workdir")"

# Per-stack lines are judged like any other: the wrong twin fails on gVisor and lwIP with the diff.
for target in gvisor lwip; do
	status=0
	"$harness" run --family 4 --target "$target" --captures "$scratch/captures" "$source_dir/tests/wrong/stacks/time_wait_rst.tc" \
		>"$scratch/out" 2>&1 || status=$?
	[ "$status" -eq 1 ] || fail "$target: the wrong per-stack line exited $status, expected 1"
	for want in "FAIL stacks/time_wait_rst" "expected: R 2:2(0) win 0" "observed: . 2:2(0) ack 2"; do
		grep -qF "$want" "$scratch/out" || fail "$target: the wrong per-stack line's output lacks '$want': $(cat "$scratch/out")"
	done
done

# A case long enough to be signalled mid-run on both stacks (it waits out a 1 s timer).
long_case=$source_dir/tests/good/stacks_signal.tc
for target in gvisor lwip; do
	for signal in INT TERM KILL; do
		"$harness" run --family 4 --target "$target" --captures "$scratch/captures" "$long_case" >"$scratch/out" 2>&1 &
		pid=$!
		for _ in $(seq 200); do [ -n "$(ours)" ] && break; sleep 0.02; done
		sleep 0.5
		kill -"$signal" "$pid"
		wait "$pid"
		status=$?
		case $signal in INT) want=130 ;; TERM) want=143 ;; KILL) want=137 ;; esac
		[ "$status" -eq "$want" ] || fail "$target $signal: exit status $status, expected $want ($(tail -n 3 "$scratch/out"))"
		leftovers "$target $signal"
	done
done
# The SIGKILLed gVisor run could not remove its bundle; the next run sweeps it, then removes the
# directory it shares with other runs.
"$harness" run --family 4 --target gvisor --captures "$scratch/captures" "$source_dir/cases/handshake/syn_closed_port.tc" >"$scratch/out" 2>&1 ||
	fail "a gVisor run after SIGKILL: $(cat "$scratch/out")"
[ ! -e "$workdir" ] || fail "after the sweep: $workdir is left: $(ls -A "$workdir")"
leftovers "after the sweep"

[ "$failures" -eq 0 ] || exit 1
echo "gvisor and lwip: docs/stacks.md holds, and every stop left nothing behind"
