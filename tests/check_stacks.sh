#!/usr/bin/env bash
# The gvisor and lwip targets (issues 6, 15): docs/stacks.md's table and differences must be what the
# three stacks do in every family (scripts/stack-table.sh --check), and both targets must stop cleanly: after a clean
# run, SIGINT, SIGTERM and SIGKILL no runsc or lwIP agent of ours runs, no TAP or veth appeared here,
# and no gVisor bundle is left (a SIGKILLed run's bundle is swept by the next run). Other engineers'
# runs of both stacks may come and go meanwhile: only this script's runs are judged.
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

# Other test runs on this machine start runsc and lwIP agents too, and share $workdir: ours carry this
# variable in their environment (runsc's gofer and sandbox drop it, so theirs is their parent's).
export TCPHARNESS_CHECK_STACKS=$$.$RANDOM
tagged() { [ -n "$1" ] && { tr '\0' '\n' <"/proc/$1/environ"; } 2>/dev/null | grep -qxF "TCPHARNESS_CHECK_STACKS=$TCPHARNESS_CHECK_STACKS"; }
ours() {
	local pid
	for pid in $(pgrep -f "runsc.*--root=$workdir/|tcpharness-agent-lwip --tap"); do
		if tagged "$pid" || tagged "$(ps -o ppid= -p "$pid" | tr -d ' ')"; then echo "$pid"; fi
	done
}
# What is left in $workdir that no running gvisor-run-agent.sh holds (each holds its run's lock), and
# $workdir itself when no other run of gVisor could have made it.
workdir_left() {
	[ -d "$workdir" ] || return 0
	local run
	for run in "$workdir"/*; do
		[ -f "$run/lock" ] && flock -n "$run/lock" true 2>/dev/null && echo "$run"
	done
	[ -n "$(ls -A "$workdir")" ] || pgrep -f gvisor-run-agent.sh >/dev/null || echo "$workdir (empty)"
}
# The limits below are what a machine busy with other test runs needs (runsc takes seconds to start and
# to stop there); each wait ends as soon as its condition holds.
leftovers() {
	local what=$1
	for _ in $(seq 300); do [ -z "$(ours)" ] && break; sleep 0.1; done
	[ -z "$(ours)" ] || fail "$what: still running: $(ours | xargs -r ps -o pid=,args= -p)"
	[ "$(ip -o link | wc -l)" -eq "$links_before" ] || fail "$what: links appeared here: $(ip -o link | tail -n +"$((links_before + 1))")"
}

(cd "$source_dir" && scripts/stack-table.sh --check "$harness") || fail "docs/stacks.md"
leftovers "after the matrix"
[ -z "$(workdir_left)" ] || fail "after the matrix: left in $workdir: $(workdir_left)"

# Per-stack lines are judged like any other: the wrong twin fails on gVisor and lwIP with the diff, in
# every family.
for target in gvisor lwip; do
	status=0
	"$harness" run --family all --target "$target" --captures "$scratch/captures-wrong-$target" \
		"$source_dir/tests/wrong/stacks/time_wait_rst.tc" >"$scratch/out" 2>&1 || status=$?
	[ "$status" -eq 1 ] || fail "$target: the wrong per-stack line exited $status, expected 1"
	for family in ipv4 ipv6 mapped; do
		grep -qF "FAIL stacks/time_wait_rst/$family" "$scratch/out" || fail "$target: the wrong twin did not FAIL in $family: $(cat "$scratch/out")"
	done
	for want in "expected: R 2:2(0) win 0" "observed: . 2:2(0) ack 2"; do
		[ "$(grep -cF "$want" "$scratch/out")" -eq 3 ] || fail "$target: the wrong per-stack line's output lacks '$want' in each family: $(cat "$scratch/out")"
	done
	# The ipv6 run is IPv6 alone between the case's addresses (mapped by README's rule), with good
	# TCP checksums, and its only ICMPv6 is neighbour discovery between them: no DAD, router
	# solicitation or MLD report from the stack, whose peers the harness answers for.
	pcap=$scratch/captures-wrong-$target/stacks/time_wait_rst/ipv6.pcapng
	[ -s "$pcap" ] || { fail "$target: no ipv6 pcap at $pcap"; continue; }
	[ "$(tshark -r "$pcap" -Y tcp 2>/dev/null | grep -c .)" -ge 8 ] || fail "$target ipv6: fewer than 8 TCP frames in $pcap"
	strangers=$(tshark -r "$pcap" -Y '!(ipv6.src in {2001:db8::c000:201 2001:db8::c000:20a} && ipv6.dst in {2001:db8::c000:201 2001:db8::c000:20a ff02::1:ff00:201 ff02::1:ff00:20a})' 2>/dev/null | grep -c .)
	[ "$strangers" -eq 0 ] || fail "$target ipv6: $strangers frames from or to other addresses: $(tshark -r "$pcap" 2>/dev/null)"
	noise=$(tshark -r "$pcap" -Y 'icmpv6 && !(icmpv6.type in {135 136})' 2>/dev/null | grep -c .)
	[ "$noise" -eq 0 ] || fail "$target ipv6: ICMPv6 other than neighbour discovery: $(tshark -r "$pcap" -Y icmpv6 2>/dev/null)"
	bad=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -Y 'tcp && tcp.checksum.status != 1' 2>/dev/null | grep -c .)
	[ "$bad" -eq 0 ] || fail "$target ipv6: $bad TCP frames with a checksum tshark does not call good"
done

# A case long enough (60 s of silence) to be signalled mid-run on both stacks however slowly its
# stack starts. The signal goes once the case runs (its pcap exists): before that the harness is still
# checking the target (a whole gVisor sandbox, seconds on a busy machine), with the SIGINT that a
# script's background job inherits ignored. The run must still be going then.
long_case=$source_dir/tests/good/stacks_signal.tc
for target in gvisor lwip; do
	for signal in INT TERM KILL; do
		captures=$scratch/captures-$target-$signal
		"$harness" run --family 4 --target "$target" --captures "$captures" "$long_case" >"$scratch/out" 2>&1 &
		pid=$!
		for _ in $(seq 600); do [ -e "$captures/good/stacks_signal.pcapng" ] && break; sleep 0.1; done
		[ -e "$captures/good/stacks_signal.pcapng" ] || fail "$target $signal: the case did not start within 60 s: $(tail -n 3 "$scratch/out")"
		sleep 0.5
		kill -0 "$pid" 2>/dev/null || fail "$target $signal: the run ended before the signal: $(tail -n 3 "$scratch/out")"
		kill -"$signal" "$pid" 2>/dev/null
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
[ -z "$(workdir_left)" ] || fail "after the sweep: left in $workdir: $(workdir_left)"
leftovers "after the sweep"

[ "$failures" -eq 0 ] || exit 1
echo "gvisor and lwip: docs/stacks.md holds, and every stop left nothing behind"
