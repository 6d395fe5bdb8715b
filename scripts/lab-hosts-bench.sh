#!/usr/bin/env bash
# Several lab hosts at once (issue 22), without a lab: two "lab hosts", each a network namespace with
# 192.0.2.1 behind a veth of its own, their agents started with nsenter, the harness in a namespace of
# its own (nothing on the host touched). Runs CASES (default cases/) in FAMILY (4, the default, or 6:
# the hosts at 2001:db8::c000:201 as well) on one host, then on both at once (one case per host at a
# time), prints both wall times; fails when the tables differ or a host took no case. scripts/bench.sh
# measures the catalogue with it; kernel:lab_hosts and kernel:lab_hosts_ipv6 run it on a few cases for
# the table alone (no timing asserted). Needs root.
# usage: lab-hosts-bench.sh HARNESS AGENT [CASES [FAMILY]]
set -euo pipefail
if [ $# -lt 2 ] || { [ $# -ge 4 ] && [ "$4" != 4 ] && [ "$4" != 6 ]; }; then
	echo "usage: lab-hosts-bench.sh HARNESS AGENT [CASES [4|6]]" >&2
	exit 2
fi
if [ -z "${TCPHARNESS_LAB_HOSTS_INSIDE:-}" ]; then
	exec env TCPHARNESS_LAB_HOSTS_INSIDE=1 unshare --net -- "$0" "$@"
fi
harness=$1 agent=$2 cases=${3:-cases/} family=${4:-4}
# An IPv6 host: its own address, its link an IPv6 one's MTU (MSS 1460, as the cases expect).
target_ip=192.0.2.1 mtu=1500
[ "$family" = 4 ] || target_ip=2001:db8::c000:201 mtu=1520
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
	# IPv6 as a configured host speaks it, without a fresh link's DAD and router solicitations.
	host sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.all.accept_dad=0 \
		net.ipv6.conf.default.accept_dad=0 net.ipv6.conf.all.router_solicitations=0 \
		net.ipv6.conf.default.router_solicitations=0
	ip link add "thlh$h-h" type veth peer name "thlh$h-t" netns "$pid"
	ip link set "thlh$h-h" mtu "$mtu" up
	host ip link set lo up
	host ip link set "thlh$h-t" mtu "$mtu"
	host ip addr add 192.0.2.1/24 dev "thlh$h-t"
	host ip addr add 2001:db8::c000:201/64 dev "thlh$h-t" nodad
	# A lab NIC fills in checksums before the wire; a veth leaves them to the receiver.
	host ethtool -K "thlh$h-t" tx off tso off gso off >/dev/null
	host ip link set "thlh$h-t" up
	lab_args+=(--iface "thlh$h-h" --target-ip "$target_ip" --agent "exec nsenter --net=/proc/$pid/ns/net $agent")
done

# one_run NAME HOSTS: the matrix on the first HOSTS hosts; its wall time in $NAME.wall.
one_run() {
	local start
	start=$(date +%s%N)
	"$harness" matrix --family "$family" --retries 5 --target lab "${lab_args[@]:0:$((6 * $2))}" --allow-storm \
		--captures "$scratch/$1" "$cases" >"$scratch/$1.table" 2>"$scratch/$1.log" || true
	echo "($(date +%s%N) - $start) / 1000000000" | bc -l >"$scratch/$1.wall"
	# A pass on a retry (FLAKY: `~` in a cell, and a note under the table) is a pass.
	# (and the column widths a `~` widened, with the rules under the headers)
	sed -i -e '/^~: /d' -e 's/~//g' -e '/^$/d' -e '/^-[- ]*$/d' -e 's/  */ /g' "$scratch/$1.table"
}
# Frames the harness sent on host H's link (/proc/net/dev: this namespace's view).
sent_to() { sed -n "s/^ *thlh$1-h://p" /proc/net/dev | awk '{ print $10 }'; }
one_run one 1
before=("$(sent_to 1)" "$(sent_to 2)")
one_run two 2
sent=($(($(sent_to 1) - before[0])) $(($(sent_to 2) - before[1])))
printf 'lab (ipv%s), one host:  wall time %6.2f s   (%s)\n' "$family" "$(cat "$scratch/one.wall")" "$(tail -n 1 "$scratch/one.log")"
printf 'lab (ipv%s), two hosts: wall time %6.2f s   (%s)\n' "$family" "$(cat "$scratch/two.wall")" "$(tail -n 1 "$scratch/two.log")"
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
