#!/usr/bin/env bash
# Signals the harness in the middle of a case and proves nothing it created survives: its agent
# process is gone, no veth or named namespace appeared in this namespace, and the exit status says
# what happened (128 + the signal: 130, 143, 137). After SIGKILL the agent dies with its parent
# (PR_SET_PDEATHSIG) and the anonymous namespaces with their last holder.
set -u
harness=$1 case=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
veths_before=$(ip -o link show type veth | wc -l)
netns_before=$(ip netns list | wc -l)

for signal in INT TERM KILL; do
	"$harness" run --captures "$scratch/captures" "$case" >"$scratch/out" 2>&1 &
	pid=$!
	agent=""
	for _ in $(seq 100); do # wait until the case is running: its agent child exists
		agent=$(pgrep -P "$pid" | head -n 1)
		[ -n "$agent" ] && break
		sleep 0.02
	done
	[ -n "$agent" ] || { echo "FAIL $signal: the case never started"; failures=$((failures + 1)); continue; }
	sleep 0.3
	kill -"$signal" "$pid"
	wait "$pid"
	status=$?
	case $signal in
	INT) want=130 ;;
	TERM) want=143 ;;
	KILL) want=137 ;;
	esac
	[ "$status" -eq "$want" ] || { echo "FAIL $signal: exit status $status, expected $want"; failures=$((failures + 1)); }
	# A killed agent may linger as a zombie until its new parent reaps it: that is dead too.
	alive() { [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null; }
	for _ in $(seq 100); do alive "$agent" || break; sleep 0.02; done
	if alive "$agent"; then
		echo "FAIL $signal: agent $agent still alive"
		failures=$((failures + 1))
	fi
	[ "$(ip -o link show type veth | wc -l)" -eq "$veths_before" ] ||
		{ echo "FAIL $signal: a veth appeared in this namespace"; failures=$((failures + 1)); }
	[ "$(ip netns list | wc -l)" -eq "$netns_before" ] ||
		{ echo "FAIL $signal: a named namespace appeared"; failures=$((failures + 1)); }
	echo "SIG$signal: exit $status, agent gone"
done
echo "interrupt checks: $failures failures"
[ "$failures" -eq 0 ]
