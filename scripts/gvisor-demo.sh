#!/usr/bin/env bash
# Shows tcpharness-agent running under gVisor's netstack: builds two throwaway network namespaces and a
# veth, starts scripts/gvisor-run-agent.sh, checks hello and a TCP handshake on the wire, cleans up.
set -euo pipefail

usage() {
	cat >&2 <<'EOF'
usage: gvisor-demo.sh [--agent PATH] [--keep DIR]

  --agent PATH  agent binary for gvisor-run-agent.sh (default: its own default)
  --keep DIR    copy the capture, the agent's stderr and the transcript into DIR

Runs as root. Creates two anonymous network namespaces (harness, target) joined by a veth, runs the
agent under runsc on the target side as 192.0.2.1/24, and checks: (1) `hello` over the agent's stdio,
(2) a listener on 192.0.2.1:8080 made through the protocol accepts a connection from the harness
namespace, and gVisor's SYN-ACK on the harness veth has a valid checksum, its options and the veth's
MAC. Exit status: 0 every check passed, 1 a check failed, 2 usage or setup error.
EOF
	exit 2
}

agent_args=()
keep=
while [ $# -gt 0 ]; do
	case $1 in
	--agent) [ $# -ge 2 ] || usage; agent_args=(--agent "$2"); shift 2 ;;
	--keep) [ $# -ge 2 ] || usage; keep=$2; shift 2 ;;
	*) usage ;;
	esac
done
[ "$(id -u)" -eq 0 ] || { echo "gvisor-demo: needs root" >&2; exit 2; }
for tool in runsc dumpcap tshark ethtool nsenter unshare; do
	command -v "$tool" >/dev/null || { echo "gvisor-demo: $tool missing; run scripts/install-deps.sh --target gvisor" >&2; exit 2; }
done
here=$(cd "$(dirname "$0")" && pwd)

work=$(mktemp -d /tmp/thgv-demo.XXXXXX)
harness_pid='' target_pid='' capture_pid='' agent_pid=''
# shellcheck disable=SC2317  # reached through the traps
cleanup() {
	local status=$?
	trap '' INT TERM HUP
	trap - EXIT
	# gvisor-run-agent.sh removes its container on SIGTERM; the namespaces (and with them the veth)
	# go away when their last process, our sleep, ends.
	for pid in $agent_pid $capture_pid; do
		kill -TERM "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	for pid in $harness_pid $target_pid; do
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	if [ -n "$keep" ]; then
		mkdir -p "$keep"
		cp "$work"/demo.pcap "$work"/agent.stderr "$work"/transcript "$keep"/ 2>/dev/null || true
	fi
	rm -rf "$work"
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Anonymous namespaces: nothing to delete afterwards, nothing named that could collide.
unshare --net sleep infinity &
harness_pid=$!
unshare --net sleep infinity &
target_pid=$!
harness_ns=/proc/$harness_pid/ns/net
target_ns=/proc/$target_pid/ns/net
for _ in $(seq 100); do
	[ "$(readlink "$harness_ns" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] &&
		[ "$(readlink "$target_ns" 2>/dev/null)" != "$(readlink /proc/self/ns/net)" ] && break
	sleep 0.01
done
in_h() { nsenter --net="$harness_ns" "$@"; }

in_h ip link add thgv-h type veth peer name thgv-t netns "$target_pid"
# A quiet harness side: no IPv6 chatter in the capture. Its TX checksum offload goes off because
# gVisor verifies checksums (gvisor-run-agent.sh) and the kernel would leave them partial on a veth.
in_h sysctl -qw net.ipv6.conf.thgv-h.disable_ipv6=1
in_h ethtool -K thgv-h tx off >/dev/null
in_h ip addr add 192.0.2.254/24 dev thgv-h
in_h ip link set thgv-h up
target_mac=$(nsenter --net="$target_ns" ip -o link show thgv-t | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2)

# Not through in_h: a backgrounded function is a subshell, and $! would not be dumpcap itself.
nsenter --net="$harness_ns" dumpcap -q -i thgv-h -w "$work/demo.pcap" 2>"$work/dumpcap.stderr" &
capture_pid=$!
for _ in $(seq 200); do
	[ -s "$work/demo.pcap" ] && break
	sleep 0.01
done

results=()
failed=0
check() { # check NAME OK(0/1) DETAIL
	if [ "$2" -eq 0 ]; then results+=("PASS  $1: $3"); else results+=("FAIL  $1: $3"); failed=1; fi
}

start=$(now_ms)
coproc AGENT { exec "$here/gvisor-run-agent.sh" "${agent_args[@]}" "$target_ns" 192.0.2.1/24 "$work/run" 2>"$work/agent.stderr"; }
# shellcheck disable=SC2153  # AGENT_PID comes from coproc
agent_pid=$AGENT_PID
# Own copies of the coproc's pipe ends, and the originals closed, so closing to_agent is the agent's EOF.
exec {to_agent}>&"${AGENT[1]}" {from_agent}<&"${AGENT[0]}"
eval "exec ${AGENT[1]}>&- ${AGENT[0]}<&-"

# call REQUEST: one exchange; the reply lands in $reply, empty when the agent is gone or silent.
call() {
	reply=
	echo "> $1" >>"$work/transcript"
	{ printf '%s\n' "$1" >&"$to_agent"; } 2>/dev/null || return 0
	IFS= read -r -t 20 -u "$from_agent" reply || true
	echo "< $reply" >>"$work/transcript"
}

call '1 hello -'
ready=$(($(now_ms) - start))
read -r _ ret err _ text <<<"$reply" || true
check "hello over stdio" "$([ "${ret:-}" = 2 ] && [ "${err:-}" = - ] && echo 0 || echo 1)" \
	"reply '${reply:-none}' after $ready ms; the stack calls itself '${text:-?}'"

call '2 socket s'
call '3 bind s port=8080'
call '4 listen s port=8080'
read -r _ ret _ <<<"$reply" || true
check "listen on 192.0.2.1:8080" "$([ "${ret:-}" = 0 ] && echo 0 || echo 1)" "reply '${reply:-none}'"

connect_out=$(in_h timeout 5 bash -c 'exec 3<>/dev/tcp/192.0.2.1/8080 && printf hello >&3 && echo connected' 2>&1 || true)
check "connect from the harness netns" "$([ "$connect_out" = connected ] && echo 0 || echo 1)" "${connect_out:-no output}"

call '5 accept c from=s timeout_ms=3000'
read -r _ ret _ <<<"$reply" || true
check "accept through the protocol" "$([ "${ret:-x}" -ge 0 ] 2>/dev/null && echo 0 || echo 1)" "reply '${reply:-none}'"
call '6 recv c len=5 timeout_ms=2000'
read -r _ ret _ <<<"$reply" || true
check "recv the harness's 5 bytes" "$([ "${ret:-}" = 5 ] && echo 0 || echo 1)" "reply '${reply:-none}'"
call '7 close c'
call '8 close s'

stop_start=$(now_ms)
exec {to_agent}>&-
for _ in $(seq 1000); do
	kill -0 "$agent_pid" 2>/dev/null || break
	sleep 0.01
done
# Still there after 10 s: a hung stop is a failed check, not a hung demo.
kill -0 "$agent_pid" 2>/dev/null && kill -TERM "$agent_pid"
wait "$agent_pid" && agent_status=0 || agent_status=$?
agent_pid=
stopped=$(($(now_ms) - stop_start))
check "agent ends at EOF" "$agent_status" "exit status $agent_status, $stopped ms after stdin closed"
leftover=$(find "$work/run" -mindepth 1 2>/dev/null | head -1)
check "no container state left" "$([ -z "$leftover" ] && echo 0 || echo 1)" "${leftover:-$work/run is empty}"

sleep 0.3
kill -TERM "$capture_pid" 2>/dev/null || true
wait "$capture_pid" 2>/dev/null || true
capture_pid=

synack=$(tshark -r "$work/demo.pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE \
	-Y 'ip.src==192.0.2.1 && tcp.srcport==8080 && tcp.flags.syn==1 && tcp.flags.ack==1' \
	-T fields -E separator=';' -e eth.src -e tcp.checksum.status -e ip.checksum.status -e tcp.options.mss_val \
	-e tcp.options.sack_perm -e tcp.options.timestamp.tsval -e tcp.options.wscale.shift -e tcp.window_size_value \
	-e ip.flags.df -e frame.len 2>/dev/null | head -1)
IFS=';' read -r mac tcp_ck ip_ck mss sack tsval wscale win df flen <<<"$synack" || true
check "SYN-ACK captured on the harness veth" "$([ -n "$synack" ] && echo 0 || echo 1)" "${synack:-none}"
check "SYN-ACK source MAC is the target veth's" "$([ -n "$mac" ] && [ "$mac" = "$target_mac" ] && echo 0 || echo 1)" \
	"${mac:-?} (veth thgv-t: $target_mac)"
check "SYN-ACK checksums valid" "$([ "${tcp_ck:-}" = 1 ] && [ "${ip_ck:-}" = 1 ] && echo 0 || echo 1)" \
	"tcp.checksum.status=${tcp_ck:-?}, ip.checksum.status=${ip_ck:-?} (1 = good), frame ${flen:-?} bytes"
results+=("INFO  SYN-ACK options: mss ${mss:-none}, sackOK $([ -n "$sack" ] && echo yes || echo no), TS $([ -n "$tsval" ] && echo "val $tsval" || echo none), wscale ${wscale:-none}; window ${win:-?}; DF ${df:-?}")
oversized=$(tshark -r "$work/demo.pcap" -Y 'frame.len > 1514' 2>/dev/null | wc -l)
check "no frame above 1514 bytes (GSO off)" "$([ "$oversized" -eq 0 ] && echo 0 || echo 1)" "$oversized oversized"

echo "gVisor demo: runsc $(runsc --version | head -1 | awk '{print $3}'), ready in $ready ms, stopped in $stopped ms"
printf '  %s\n' "${results[@]}"
exit "$failed"
