#!/usr/bin/env bash
# A guest starved of CPU gives an ERROR, not a FAIL (issue 17): the vm target runs a keepalive probe
# due 8 s after the handshake while this script stops QEMU (SIGSTOP) from 4 s to 11 s after the guest
# came up, so the probe leaves seconds late. The agent's clock watch (tcpharness-agent --clock-watch)
# saw the guest stand still through it, and the verdict must be an ERROR saying by how much. Without
# the stop the same case PASSes (on a retry, if the host's own load starved the guest at some line),
# and a wrong twin whose probe is late by the stack's own timing (tests/wrong/keepalive/answered_probe.tc)
# still FAILs, saying how long its guest stood still: a few ms (a loaded host's scheduling), not the
# 400 ms the probe is late.
# usage: check_vm_starved.sh HARNESS SOURCE_DIR VMDIR
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: check_vm_starved.sh HARNESS SOURCE_DIR VMDIR" >&2
	exit 2
fi
harness=$1 source_dir=$2 vm_image=$3
if ! [ -f "$vm_image/stamp" ]; then
	echo "SKIP: no VM image in $vm_image (kernel:vm builds it)"
	exit 77
fi
work=$(mktemp -d)
qemu=
trap '[ -z "$qemu" ] || kill -CONT "$qemu" 2>/dev/null; rm -rf "$work"' EXIT
cd "$source_dir"
case=tests/starved/keepalive_idle.tc

# The QEMU among the harness's descendants (it may boot the VM in a worker process).
qemu_of() {
	local pids=$1 next pid
	while [ -n "$pids" ]; do
		next=
		for pid in $pids; do
			[[ "$(cat "/proc/$pid/comm" 2>/dev/null)" == qemu-system* ]] && { echo "$pid"; return; }
			next+=" $(cat /proc/"$pid"/task/*/children 2>/dev/null)"
		done
		pids=$next
		[ -n "${pids// /}" ] || return 0
	done
}

status=0
"$harness" run --family 4 --retries 0 --target vm --vm-image "$vm_image" --captures "$work/captures" "$case" \
	>"$work/starved" 2>&1 &
harness_pid=$!
for _ in $(seq 600); do
	qemu=$(qemu_of "$harness_pid")
	[ -z "$qemu" ] || break
	sleep 0.1
done
[ -n "$qemu" ] || { wait "$harness_pid" || true; cat "$work/starved"; echo "FAIL: no QEMU started"; exit 1; }
console=$(tr '\0' '\n' <"/proc/$qemu/cmdline" | sed -n 's/^file,id=con,path=//p')
for _ in $(seq 1800); do
	grep -q TCPHARNESS-READY "$console" 2>/dev/null && break
	sleep 0.1
done
sleep 4
kill -STOP "$qemu"
sleep 7
kill -CONT "$qemu"
wait "$harness_pid" || status=$?
qemu=
cat "$work/starved"
[ "$status" -eq 3 ] || { echo "FAIL: exit status $status with the guest stopped, expected 3 (an ERROR)"; exit 1; }
grep -q '^ERROR starved/keepalive_idle ' "$work/starved" || { echo "FAIL: no ERROR with the guest stopped"; exit 1; }
grep -q 'the guest stood still [0-9]' "$work/starved" ||
	{ echo "FAIL: the ERROR does not say how long the guest stood still"; exit 1; }

status=0
# Retried as usual: the host's own load may starve the guest at some line (an ERROR), not at every try.
"$harness" run --family 4 --target vm --vm-image "$vm_image" --captures "$work/captures" "$case" \
	tests/wrong/keepalive/answered_probe.tc >"$work/free" 2>&1 || status=$?
cat "$work/free"
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status without a stop, expected 1 (the twin's FAIL)"; exit 1; }
grep -q '^\(PASS\|FLAKY\) starved/keepalive_idle ' "$work/free" ||
	{ echo "FAIL: the case does not PASS (at some try) without a stop"; exit 1; }
grep -q '^FAIL keepalive/answered_probe ' "$work/free" || { echo "FAIL: the wrong twin does not FAIL"; exit 1; }
grep -q '^    tests/wrong/keepalive/answered_probe.tc:.*\(too late\|no segment\).*the guest stood still [0-9.]* ms' \
	"$work/free" ||
	{ echo "FAIL: the twin's FAIL does not say how long its guest stood still"; exit 1; }
echo "vm: the stopped guest's late probe is an ERROR; unstopped, the case PASSes and the wrong twin FAILs"
