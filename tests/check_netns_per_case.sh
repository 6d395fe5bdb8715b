#!/usr/bin/env bash
# tcpharness-agent --netns-per-case (issue 17): what a case leaves behind (a TIME_WAIT holding its
# port, a sysctl) is gone after the next reset without SOCK_DESTROY, which the agent then refuses;
# the interface comes home with its address at the end. --refuse-sock-destroy (what the VM guest's
# agent runs with) leaves a TIME_WAIT in place and says why, as 4.9's tcp_abort would. The "host" is a namespace of this script's
# own with a veth pair; nothing outside it is touched.
# usage: check_netns_per_case.sh AGENT
set -euo pipefail
if [ $# -ne 1 ]; then
	echo "usage: check_netns_per_case.sh AGENT" >&2
	exit 2
fi
if [ -z "${TCPHARNESS_NETNS_INSIDE:-}" ]; then
	exec env TCPHARNESS_NETNS_INSIDE=1 unshare --net -- "$0" "$@"
fi
agent=$1
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set lo up
ip link add thnpc0 type veth peer name thnpc1
ip link set thnpc1 up
ip addr add 192.0.2.1/24 dev thnpc0
ip link set thnpc0 up
# An interface that stays home: its conf keys exist only in the home namespace, as tcp_tw_recycle and
# many tcp_* keys exist only in the first namespace of a 4.x kernel.
ip link add thnpc8 type veth peer name thnpc9

coproc AGENT { exec "$agent" --netns-per-case thnpc0 --refuse-sock-destroy; }
agent_pid=$AGENT_PID
# ask REQUEST: prints the reply line. One request at a time, so every request can carry id 1.
ask() {
	printf '1 %s\n' "$1" >&"${AGENT[1]}"
	local reply
	read -r -t 10 reply <&"${AGENT[0]}" || { echo "no reply to '$1'" >&2; exit 1; }
	printf '%s\n' "$reply"
}
# expect REQUEST RET ERRNO [TEXT]: the reply's return value (* for any), errno name and text (a prefix).
expect() {
	local reply ret err text
	reply=$(ask "$1")
	read -r _ ret err _ text <<<"$reply"
	if ! { [ "$2" = "*" ] || [ "$ret" = "$2" ]; } || [ "$err" != "$3" ] || [[ "$text" != "${4:-}"* ]]; then
		fail "'$1' -> '$reply', want $2 $3 ${4:-}"
	fi
}

# leave_time_wait: a case that closes first from port 8080, which leaves a TIME_WAIT there.
leave_time_wait() {
	expect "socket lsn" "*" -
	expect "listen lsn port=8080" 0 -
	expect "socket cli" "*" -
	expect "connect cli ip=192.0.2.1 port=8080" -1 EINPROGRESS
	expect "connected cli timeout_ms=1000" 0 -
	expect "accept-close lsn count=1 timeout_ms=1000" 1 -
	expect "close cli" 0 -
	expect "close lsn" 0 -
}
# end_agent: the agent's input ends, and so must the agent.
end_agent() {
	local agent_in=${AGENT[1]}
	exec {agent_in}>&-
	wait "$agent_pid" || fail "the agent exited $?"
}

expect "reset -" 0 - fresh-netns
# The TIME_WAIT a case leaves keeps a new listener off its port.
leave_time_wait
expect "sysctl-set - key=net.ipv4.tcp_rfc1337 value=1" 0 -
expect "socket again" "*" -
expect "listen again port=8080" -1 EADDRINUSE
expect "purge - ip=192.0.2.1" -1 EPERM "purge refused"
# A key the case namespace lacks is written where it lives, and put back at the next reset.
expect "sysctl-set - key=net.ipv4.conf.thnpc9.accept_local value=1" 0 -
expect "sysctl-get - key=net.ipv4.conf.thnpc9.accept_local" 0 - 1
[ "$(sysctl -n net.ipv4.conf.thnpc9.accept_local)" = 1 ] || fail "a home-only key was not written at home"

# The next case: nothing of the previous one, per-namespace sysctls at their defaults.
expect "reset -" 0 - fresh-netns
expect "socket lsn" "*" -
expect "listen lsn port=8080" 0 -
expect "sysctl-get - key=net.ipv4.tcp_rfc1337" 0 - 0
[ "$(sysctl -n net.ipv4.conf.thnpc9.accept_local)" = 0 ] || fail "a home-only key was not restored at the reset"
# The case's namespace has the interface, up, with its address and nothing else.
expect "socket cli" "*" -
expect "connect cli ip=192.0.2.1 port=8080" -1 EINPROGRESS
expect "connected cli timeout_ms=1000" 0 -
[ -z "$(ip -o link show thnpc0 2>/dev/null)" ] || fail "thnpc0 stayed home during a case"
reply=$(ask "tsclock -")
read -r _ hz _ <<<"$reply"
[ "$hz" = 1000 ] || fail "tsclock on $(uname -r): $reply, want 1000 Hz (tcp_time_stamp_raw)"

# An IPv6 case (issue 15): IPv6 on in the case namespace, but quiet (no DAD, router solicitation or
# MLD report reaches the wire), the interface NOARP with the address 192.0.2.1 maps to
# (2001:db8::c000:201) and an IPv6 link's MTU, in use at once; a peer pinned by neigh-add.
rx_packets() { awk '$1 == "thnpc1:" { print $3 }' /proc/net/dev; }
rx_before=$(rx_packets)
expect "reset - family=inet6" 0 - fresh-netns
in_case() { nsenter --net="/proc/$AGENT_PID/ns/net" "$@"; }
in_case ip -o -6 addr show thnpc0 | grep -q "2001:db8::c000:201/64" || fail "no 2001:db8::c000:201/64: $(in_case ip -o addr)"
in_case ip -o -6 addr show thnpc0 | grep -q "fe80::" && fail "a link-local address, which would solicit routers"
in_case ip -o link show thnpc0 | grep -q "NOARP.*mtu 1520" || fail "thnpc0 not NOARP with mtu 1520: $(in_case ip -o link show thnpc0)"
expect "sysctl-get - key=net.ipv6.conf.thnpc0.accept_dad" 0 - 0
expect "socket lsn6 family=inet6" "*" -
expect "listen lsn6 port=8080 family=inet6" 0 -
expect "socket cli6 family=inet6" "*" -
expect "connect cli6 ip=2001:db8::c000:201 port=8080 family=inet6" -1 EINPROGRESS
expect "connected cli6 timeout_ms=1000" 0 -
expect "neigh-add - ip=2001:db8::c000:20a lladdr=02:00:00:00:02:0a" 0 -
in_case ip -6 neigh show dev thnpc0 | grep -q "2001:db8::c000:20a lladdr 02:00:00:00:02:0a PERMANENT" ||
	fail "no permanent neighbour: $(in_case ip -6 neigh show)"
expect "neigh-add - ip=2001:db8::c000:20a lladdr=02:00:00:00:02" -1 EINVAL "bad lladdr"
sleep 1.5 # MLD reports and router solicitations would have gone out by now (RFC 4861 6.3.7: up to 1 s)
rx_after=$(rx_packets)
[ "$rx_after" = "$rx_before" ] || fail "the IPv6 case namespace sent $((rx_after - rx_before)) frame(s) on its own"
expect "reset -" 0 - fresh-netns
in_case ip -o link show thnpc0 | grep -q "mtu 1500" || fail "an IPv4 case after an IPv6 one: $(in_case ip -o link show thnpc0)"
in_case ip -o link show thnpc0 | grep -q "NOARP" && fail "an IPv4 case after an IPv6 one is NOARP"

# End of input: the agent ends, and takes the interface home.
end_agent
ip -o -4 addr show thnpc0 | grep -q "192.0.2.1/24" || fail "thnpc0 came home without its address"
ip -o link show thnpc0 | grep -q "UP" || fail "thnpc0 came home down"
[ "$(ss -tanH | wc -l)" -eq 0 ] || { fail "sockets left at home:"; ss -tan; }

# Without a namespace per case the agent purges with SOCK_DESTROY; --refuse-sock-destroy sends none,
# and the purge fails naming the refusal, with the TIME_WAIT still there.
coproc AGENT { exec "$agent" --refuse-sock-destroy; }
# Bash forgets AGENT_PID once the coprocess has exited, which it may before the wait below.
agent_pid=$AGENT_PID
leave_time_wait
reply=$(ask "purge - ip=192.0.2.1")
read -r _ ret err _ text <<<"$reply"
[ "$ret $err" = "-1 EOPNOTSUPP" ] && [[ "$text" == *"SOCK_DESTROY"*"refuses it (--refuse-sock-destroy)"*"--netns-per-case"* ]] ||
	fail "purge under --refuse-sock-destroy: '$reply'"
ss -tanH state time-wait | grep -q "192.0.2.1:8080" || fail "the TIME_WAIT on :8080 is gone: $(ss -tan)"
end_agent

[ "$failures" -eq 0 ] || exit 1
echo "netns-per-case: the next case inherits nothing, purge refused, an IPv6 case quiet and pinned, the interface home as it was; --refuse-sock-destroy sends no SOCK_DESTROY"
