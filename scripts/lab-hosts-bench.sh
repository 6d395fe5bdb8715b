#!/usr/bin/env bash
# Several lab hosts at once (issue 22), without a lab: two "lab hosts", each a network namespace with
# 192.0.2.1 behind a veth of its own, their agents started with nsenter, the harness in a namespace of
# its own (nothing on the host touched). Runs CASES (default cases/) in ipv4 on one host, then on both
# at once (one case per host at a time), prints both wall times; fails when the tables differ or a host
# took no case. scripts/bench.sh measures the catalogue with it; kernel:lab_hosts runs it on a few
# cases for the table alone (no timing asserted). Needs root.
# usage: lab-hosts-bench.sh HARNESS AGENT [CASES]
set -euo pipefail
if [ $# -lt 2 ]; then
	echo "usage: lab-hosts-bench.sh HARNESS AGENT [CASES]" >&2
	exit 2
fi
if [ -z "${TCPHARNESS_LAB_HOSTS_INSIDE:-}" ]; then
	exec env TCPHARNESS_LAB_HOSTS_INSIDE=1 unshare --net -- "$0" "$@"
fi
harness=$1 agent=$2 cases=${3:-cases/}
scratch=$(mktemp -d /tmp/tcpharness-lab-hosts.XXXXXX)
hosts=()
cleanup() {
	for pid in "${hosts[@]}"; do kill "$pid" 2>/dev/null || true; done
	[ -n "$keep_logs" ] && cp -r "$scratch" "$keep_logs"; rm -rf "$scratch"
}
trap cleanup EXIT
keep_logs=${KEEP_LOGS:-}

ip link set lo up
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
lab_args=()
for h in 1 2; do
	unshare --net sleep infinity &
	pid=$!
	hosts+=("$pid")
	while [ "$(readlink "/proc/$pid/ns/net")" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
	host() { nsenter --net="/proc/$pid/ns/net" "$@"; }
	ip link add "thlh$h-h" type veth peer name "thlh$h-t" netns "$pid"
	ip link set "thlh$h-h" up
	host sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
	host ip link set lo up
	host ip addr add 192.0.2.1/24 dev "thlh$h-t"
	# A lab NIC fills in checksums before the wire; a veth leaves them to the receiver.
	host ethtool -K "thlh$h-t" tx off tso off gso off >/dev/null
	host ip link set "thlh$h-t" up
	lab_args+=(--iface "thlh$h-h" --target-ip 192.0.2.1 --agent "exec nsenter --net=/proc/$pid/ns/net $agent")
done

# one_run NAME HOSTS: the matrix on the first HOSTS hosts; its wall time in $NAME.wall.
one_run() {
	local start
	start=$(date +%s%N)
	"$harness" matrix --family 4 --retries 5 --target lab "${lab_args[@]:0:$((6 * $2))}" --allow-storm \
		--captures "$scratch/$1" "$cases" >"$scratch/$1.table" 2>"$scratch/$1.log" || true
	echo "($(date +%s%N) - $start) / 1000000000" | bc -l >"$scratch/$1.wall"
	# A pass on a retry (FLAKY: `~` in a cell, and a note under the table) is a pass.
	sed -i -e '/^`~`: /d' -e 's/~//g' -e '/^$/d' "$scratch/$1.table"
}
# Frames the harness sent on host H's link (/proc/net/dev: this namespace's view).
sent_to() { sed -n "s/^ *thlh$1-h://p" /proc/net/dev | awk '{ print $10 }'; }
one_run one 1
before=("$(sent_to 1)" "$(sent_to 2)")
one_run two 2
sent=($(($(sent_to 1) - before[0])) $(($(sent_to 2) - before[1])))
printf 'lab, one host:  wall time %6.2f s   (%s)\n' "$(cat "$scratch/one.wall")" "$(tail -n 1 "$scratch/one.log")"
printf 'lab, two hosts: wall time %6.2f s   (%s)\n' "$(cat "$scratch/two.wall")" "$(tail -n 1 "$scratch/two.log")"
echo "frames the harness sent to each of the two hosts: ${sent[0]} and ${sent[1]}"
if [ "${sent[0]}" -eq 0 ] || [ "${sent[1]}" -eq 0 ]; then
	echo "one of the two hosts took no case"
	exit 1
fi
if ! grep -q . "$scratch/one.table"; then
	echo "no table:"
	cat "$scratch/one.log"
	exit 1
fi
if diff -u "$scratch/one.table" "$scratch/two.table" >"$scratch/diff"; then
	echo "the same table on one host and on two ($(grep -c . "$scratch/one.table") lines)"
else
	echo "the tables differ:"
	cat "$scratch/diff"
	exit 1
fi
