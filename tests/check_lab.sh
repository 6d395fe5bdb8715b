#!/usr/bin/env bash
# Lab mode without a lab: the "lab host" is a network namespace with its own address behind a veth,
# its agent started with nsenter, the harness in a namespace of its own (nothing on the host touched).
# Checks: the refusals (missing options, the default route's link, addresses this host owns, an agent
# without the privilege to set a case's sysctl); the catalogue's outcome table in lab mode equals local
# mode's (ipv4 and mapped); the lab's sysctls end as they began and
# no socket is left there; every frame the harness sent was for the target (or an address probe).
# usage: check_lab.sh HARNESS AGENT CASES_DIR
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: check_lab.sh HARNESS AGENT CASES_DIR" >&2
	exit 2
fi
if [ -z "${TCPHARNESS_LAB_INSIDE:-}" ]; then
	exec env TCPHARNESS_LAB_INSIDE=1 unshare --net -- "$0" "$@"
fi
harness=$1
agent=$2
cases=$3
scratch=$(mktemp -d)
lab_pid=
capture_pid=
cleanup() {
	[ -z "$capture_pid" ] || kill "$capture_pid" 2>/dev/null || true
	[ -z "$lab_pid" ] || kill "$lab_pid" 2>/dev/null || true
	rm -rf "$scratch"
}
trap cleanup EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

unshare --net sleep infinity &
lab_pid=$!
while [ "$(readlink /proc/$lab_pid/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.01; done
lab() { nsenter --net="/proc/$lab_pid/ns/net" "$@"; }

ip link set lo up
ip link add thlab-h type veth peer name thlab-t netns "$lab_pid"
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set thlab-h up
lab sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
lab ip link set lo up
lab ip addr add 192.0.2.1/24 dev thlab-t
# A lab NIC fills in checksums before the wire; a veth leaves them to the receiver.
lab ethtool -K thlab-t tx off tso off gso off >/dev/null
lab ip link set thlab-t up
# (/sys/class/net shows the namespace sysfs was mounted in, not ours.)
harness_mac=$(ip -o link show thlab-h | sed -n 's|.*link/ether \([0-9a-f:]*\).*|\1|p')

# The refusals run the plain agent (cleanup by SOCK_DESTROY, as 6.18 allows); the table runs it as the
# docs recommend, a fresh namespace per case with thlab-t moved in, where purge is refused, and with
# no SOCK_DESTROY at all (--refuse-sock-destroy), as on a 4.9 host whose tcp_abort refuses TIME_WAIT.
lab_args=(--target lab --iface thlab-h --target-ip 192.0.2.1 --agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent")
lab_netns_args=(--target lab --iface thlab-h --target-ip 192.0.2.1
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent --netns-per-case thlab-t --refuse-sock-destroy")
one_case=$cases/handshake/accept.tc
[ -f "$one_case" ] || one_case=$(find "$cases" -name '*.tc' | sort | head -n 1)

# expect_refusal WANT_STATUS WANT_TEXT ARGS...: the harness stops with that status and says why.
expect_refusal() {
	local want_status=$1 want_text=$2 status=0
	shift 2
	"$harness" run --captures "$scratch/refused" "$@" >"$scratch/refusal" 2>&1 || status=$?
	if [ "$status" -ne "$want_status" ] || ! grep -qF -- "$want_text" "$scratch/refusal"; then
		fail "$* -> exit $status, want $want_status with '$want_text':"
		sed 's/^/    /' "$scratch/refusal"
	fi
}
expect_refusal 2 "needs --iface IF, --target-ip A and --agent" --target lab "$one_case"
expect_refusal 2 "are options of --target lab" --iface thlab-h "$one_case"
expect_refusal 2 "no such interface" --target lab --iface thlab-nope --target-ip 192.0.2.1 --agent true "$one_case"
ip route add default dev thlab-h
expect_refusal 2 "carries this host's default route" "${lab_args[@]}" "$one_case"
expect_refusal 0 "2 passed, 0 failed, 1 skipped" "${lab_args[@]}" --allow-default-route-iface "$one_case"
ip route del default dev thlab-h
ip addr add 192.0.2.99/32 dev thlab-h
expect_refusal 2 "is this host's own address" --target lab --iface thlab-h --target-ip 192.0.2.99 \
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent" "$one_case"
ip addr del 192.0.2.99/32 dev thlab-h
ip addr add 192.0.2.10/32 dev thlab-h
expect_refusal 2 "peer 192.0.2.10 is this host's own address" "${lab_args[@]}" "$one_case"
ip addr del 192.0.2.10/32 dev thlab-h
# An agent without root on the lab host: a case that sets a sysctl is a SKIP naming the privilege, not
# a read-only key of the stack's (nobody may not write the 0644 file that root may).
expect_refusal 4 "EPERM: the agent (uid 65534) lacks the privilege to write it; run it as root" \
	--target lab --iface thlab-h --target-ip 192.0.2.1 --family 4 \
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net setpriv --reuid=65534 --regid=65534 --clear-groups $agent" \
	"$(dirname "$0")/lab/sets_sysctl.tc"

# Without a namespace per case on such a host, the TIME_WAIT close/active_close leaves with its peer
# cannot be purged: the next case is an ERROR naming the cause, never a FAIL.
status=0
"$harness" run --family 4 --retries 0 --target lab --iface thlab-h --target-ip 192.0.2.1 \
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent --refuse-sock-destroy" --captures "$scratch/refused" \
	"$cases/close/active_close.tc" "$one_case" >"$scratch/refusal" 2>&1 || status=$?
if ! grep -A1 "^ERROR handshake/accept" "$scratch/refusal" | grep -q "SOCK_DESTROY .*refuses it (--refuse-sock-destroy).*--netns-per-case" ||
	grep -q "^FAIL " "$scratch/refusal" || [ "$status" -eq 0 ]; then
	fail "a purge SOCK_DESTROY cannot do (exit $status):"
	sed 's/^/    /' "$scratch/refusal"
fi
# (The TIME_WAIT would outlast the table's first minute; ss -K, as the agent's purge did, removes it.)
lab ss -K dst 192.0.2.10 >/dev/null 2>&1 || true

lab_sysctls() { lab sh -c 'find /proc/sys/net/ipv4 /proc/sys/net/core -type f -perm -0400 ! -path "*/tcp_fastopen_key" ! -path "*/netdev_rss_key" -print0 | xargs -0 grep -H "" | sort'; }
lab_sysctls >"$scratch/sysctls.before"

tshark -q -i thlab-h -w "$scratch/all.pcapng" >"$scratch/tshark.log" 2>&1 &
capture_pid=$!
until grep -q "Capturing on" "$scratch/tshark.log" 2>/dev/null; do sleep 0.05; done

status=0
# The catalogue's storms run paced at the default send budget (check_lab_safety.sh checks the pace).
# In both families a lab host runs: ipv4 and mapped (AF_INET6 sockets, IPv4 on the wire).
for family in 4 mapped; do
	"$harness" matrix --family "$family" --targets local,lab "${lab_netns_args[@]:2}" --allow-storm \
		--captures "$scratch/runs" "$cases" >>"$scratch/table" 2>>"$scratch/log" || {
		family_status=$?
		[ "$family_status" -le "$status" ] || status=$family_status
	}
done
kill "$capture_pid"
wait "$capture_pid" 2>/dev/null || true
capture_pid=
[ "$status" -le 1 ] || { cat "$scratch/log"; fail "matrix --targets local,lab exited $status"; }
# Columns: case, local, lab. Every row must say the same in both; a pass on a retry (FLAKY, `~`) is a pass.
sed -i 's/~//g' "$scratch/table"
head -n 1 "$scratch/table"
# Each family's table has its own header and rule.
rows=$(awk '!/^(case |-)/ && NF == 3' "$scratch/table" | wc -l)
differing=$(awk '!/^(case |-)/ && NF == 3 && $2 != $3' "$scratch/table")
[ "$rows" -gt 0 ] || { cat "$scratch/table" "$scratch/log"; fail "no rows in the two-target table"; }
[ -z "$differing" ] || { fail "lab and local differ:"; echo "$differing"; grep -E "^(FAIL|    )" "$scratch/log" | head -n 40; }
echo "$rows case@variants, the same outcome on both targets: $((rows - $(echo -n "$differing" | grep -c '^' || true)))"
grep -E "passed|failed" "$scratch/log" | sed 's/^/  /'
[ -d "$scratch/runs/local" ] && [ -d "$scratch/runs/lab" ] || fail "no per-target capture directories"

lab_sysctls >"$scratch/sysctls.after"
diff -u "$scratch/sysctls.before" "$scratch/sysctls.after" || fail "the lab host's sysctls changed"
lab ip -o -4 addr show thlab-t | grep -q 192.0.2.1/24 || fail "thlab-t did not come back home with its address"
leftover=$(lab ss -tanH | grep -vc LISTEN || true)
[ "$leftover" -eq 0 ] || { fail "$leftover sockets left on the lab host:"; lab ss -tan; }

sent=$(tshark -r "$scratch/all.pcapng" -Y "eth.src == $harness_mac" 2>/dev/null | wc -l)
# RFC 5227 probes (sender 0.0.0.0) ask who holds a peer address: broadcast by design, claiming nothing.
stray=$(tshark -r "$scratch/all.pcapng" -Y "eth.src == $harness_mac && !(ip.dst == 192.0.2.1 || arp.dst.proto_ipv4 == 192.0.2.1 || arp.src.proto_ipv4 == 0.0.0.0)" 2>/dev/null | wc -l)
echo "harness frames on the link: $sent, addressed elsewhere than the target: $stray"
[ "$sent" -gt 0 ] || fail "no frame from the harness was captured"
[ "$stray" -eq 0 ] || fail "$stray frames went elsewhere than 192.0.2.1"

[ "$failures" -eq 0 ] || exit 1
echo "lab mode: refusals, table, sysctls, sockets and addresses all as expected"
