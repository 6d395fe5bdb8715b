#!/usr/bin/env bash
# Lab mode on a shared network: two namespace "lab hosts" and the harness on one bridge, all in
# namespaces this script creates (and that vanish with it, also when a check fails).
#   - a peer address another host holds is refused (exit 2, address and MAC named) before anything
#     reaches the target: no agent started, no TCP segment, no ARP frame but the RFC 5227 probes;
#   - with the address free the run passes, and the target's neighbour table keeps no peer entry;
#   - --dry-run prints the frames and sends no TCP segment (a capture on the link says so);
#   - a storm is refused without --allow-storm, and with it stays under --max-pps (from the capture);
#   - a case whose lines exceed --max-pps is refused;
#   - at an IPv6 target the same: the peer address another host holds is refused after RFC 4862
#     duplicate address probes, a free one passes and the target forgets it (its NDP entry), and the
#     dry run sends nothing but the probes.
# usage: check_lab_safety.sh HARNESS AGENT CASES_DIR
set -euo pipefail
. "$(dirname "$0")/lab_hosts.sh"

# attach PID IF ADDRESS ADDRESS6: the host on the bridge through a veth, its end IF.
attach() {
	local pid=$1 name=$2 address=$3 address6=$4
	quiet_ipv6 "$pid"
	ip link add "$name-b" type veth peer name "$name" netns "$pid"
	ip link set "$name-b" mtu 1520 master thsafe-br up
	in_ns "$pid" ip link set lo up
	in_ns "$pid" ip addr add "$address/24" dev "$name"
	in_ns "$pid" ip addr add "$address6/64" dev "$name" nodad
	in_ns "$pid" ethtool -K "$name" tx off tso off gso off >/dev/null
	in_ns "$pid" ip link set "$name" up
}

sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip link set lo up
# (no multicast snooping: a solicited-node group reaches its host without MLD, as on a plain switch)
ip link add thsafe-br type bridge mcast_snooping 0
ip link set thsafe-br up
ip link add thsafe-h type veth peer name thsafe-h-b
ip link set thsafe-h-b mtu 1520 master thsafe-br up
ip link set thsafe-h mtu 1520 up
new_host target_pid
new_host other_pid
attach "$target_pid" thsafe-t 192.0.2.1 2001:db8::c000:201
attach "$other_pid" thsafe-o 192.0.2.10 2001:db8::c000:20a
harness_mac=$(link_mac thsafe-h)
other_mac=$(link_mac thsafe-o "$other_pid")

accept=$cases/handshake/accept.tc # peer c 192.0.2.10
storm=$cases/exhaustion/tw_bucket_storm.tc
lab_args=(--target lab --iface thsafe-h --target-ip 192.0.2.1
	--agent "touch $scratch/agent-started; exec nsenter --net=/proc/$target_pid/ns/net $agent")

# Frames from the harness matching a display filter, one line each.
harness_frames() { tshark -r "$scratch/link.pcapng" -Y "eth.src == $harness_mac && ($1)" 2>/dev/null; }

# harness STATUS_WANTED ARGS...: runs the harness; its output is in $scratch/out and $scratch/err.
harness() {
	local want=$1 status=0
	shift
	"$harness" run --captures "$scratch/runs" "$@" >"$scratch/out" 2>"$scratch/err" || status=$?
	if [ "$status" -ne "$want" ]; then
		fail "$* -> exit $status, want $want:"
		sed 's/^/    /' "$scratch/out" "$scratch/err"
		return 1
	fi
}
# harness_on_link STATUS_WANTED ARGS...: the same with the link captured (harness_frames reads it), from
# a state where no agent has started.
harness_on_link() {
	rm -f "$scratch/agent-started"
	start_capture thsafe-h "$scratch/link.pcapng"
	harness "$@" || true
	stop_capture
}
# refused_before_claiming ADDRESS ANSWERED CLAIMING PROBE RFC: after harness_on_link at a peer ADDRESS the
# other host holds: the refusal names ADDRESS and the other host's MAC, which ANSWERED; no agent was
# started; the link carried no TCP segment and no frame CLAIMING an address, and at least one of RFC's
# probes (PROBE: display filters); the target did not learn the harness's MAC for ADDRESS.
refused_before_claiming() {
	local address=$1 answered=$2 claiming=$3 probe=$4 rfc=$5 tcp claims probes
	grep -q "peer address $address is in use on thsafe-h: $other_mac $answered" "$scratch/err" ||
		{ fail "the refusal does not name $address and $other_mac:"; cat "$scratch/err"; }
	[ ! -e "$scratch/agent-started" ] || fail "the agent was started although $address was refused"
	tcp=$(harness_frames "tcp" | wc -l)
	claims=$(harness_frames "$claiming" | wc -l)
	probes=$(harness_frames "$probe" | wc -l)
	echo "refused run: $probes probes for $address, $tcp TCP segments, $claims frames claiming an address"
	[ "$tcp" -eq 0 ] && [ "$claims" -eq 0 ] || fail "the refused run sent $tcp TCP segments and $claims claiming frames"
	[ "$probes" -ge 1 ] || fail "no $rfc probe for $address on the link"
	if in_ns "$target_pid" ip neigh show "$address" | grep -q "$harness_mac"; then
		fail "the target learned the harness's MAC for $address"
	fi
}

# 1. 192.0.2.10 belongs to the other host: refused, named with its MAC, before anything is claimed.
harness_on_link 2 "${lab_args[@]}" "$accept"
refused_before_claiming 192.0.2.10 answered "arp && arp.src.proto_ipv4 != 0.0.0.0" \
	"arp && arp.src.proto_ipv4 == 0.0.0.0 && arp.dst.proto_ipv4 == 192.0.2.10" "RFC 5227"

# --allow-address-in-use lets the user claim it anyway (a dry run, so the other host is not disturbed).
harness 0 "${lab_args[@]}" --dry-run --allow-address-in-use 192.0.2.10 "$accept" &&
	{ grep -q "192.0.2.10 is in use by $other_mac; claimed anyway" "$scratch/err" ||
		fail "--allow-address-in-use gave no note: $(cat "$scratch/err")"; }

# 2. The other host moves away: the run passes and the target forgets the peer afterwards.
in_ns "$other_pid" ip -4 addr flush dev thsafe-o
in_ns "$other_pid" ip addr add 192.0.2.20/24 dev thsafe-o
if harness 0 "${lab_args[@]}" "$accept"; then
	grep -q "2 passed, 0 failed" "$scratch/out" || fail "the free-address run (ipv4 and mapped) did not pass: $(cat "$scratch/out")"
	grep -qE "192.0.2.1 forgot its neighbour entries for the 1 peer address \([1-9][0-9]* flushed\)" "$scratch/err" ||
		fail "the harness did not say the lab host forgot the peer: $(cat "$scratch/err")"
fi
left=$(in_ns "$target_pid" ip -4 neigh show 192.0.2.10)
[ -z "$left" ] || fail "the target still has a neighbour entry for the peer: $left"

# 3. --dry-run: the frames printed, no TCP segment sent, nothing claimed.
harness_on_link 0 "${lab_args[@]}" --dry-run "$accept"
grep -q "c < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>" "$scratch/out" ||
	{ fail "the dry run does not print the SYN in the case notation:"; cat "$scratch/out"; }
hex_lines=$(grep -cE '^ +[0-9a-f]{84,} +\([0-9]+ bytes\)$' "$scratch/out" || true)
[ "$hex_lines" -ge 3 ] || fail "the dry run printed $hex_lines hex frames, want the probe, the announcement and two segments"
tcp=$(harness_frames "tcp" | wc -l)
claims=$(harness_frames "arp && arp.src.proto_ipv4 != 0.0.0.0" | wc -l)
echo "dry run: $(grep -c ' < ' "$scratch/out") segments printed, $hex_lines hex frames; on the link $tcp TCP segments, $claims claiming ARP frames"
[ "$tcp" -eq 0 ] && [ "$claims" -eq 0 ] || fail "the dry run sent $tcp TCP segments and $claims claiming ARP frames"
[ ! -e "$scratch/agent-started" ] || fail "the dry run started the agent"

# 4. The send budget: lines over --max-pps are refused; a storm needs --allow-storm and is paced.
harness 2 "${lab_args[@]}" --max-pps 1 "$accept" &&
	{ grep -q "accept.tc:.*2 segments within one second from this line on, over the lab send budget (--max-pps 1)" \
		"$scratch/err" || fail "the budget refusal does not say which line: $(cat "$scratch/err")"; }
harness 2 "${lab_args[@]}" --variant tw1000 "$storm" &&
	{ grep -q "tw_bucket_storm.tc:.*needs --allow-storm" "$scratch/err" ||
		fail "the storm refusal does not say why: $(cat "$scratch/err")"; }
max_pps=2000
harness_on_link 0 "${lab_args[@]}" --allow-storm --max-pps "$max_pps" --variant tw1000 "$storm"
grep -q "2 passed, 0 failed" "$scratch/out" || fail "the paced storm (ipv4 and mapped) did not pass: $(cat "$scratch/out")"
tshark -r "$scratch/link.pcapng" -Y "eth.src == $harness_mac && tcp" -T fields -e frame.time_epoch 2>/dev/null |
	sort -n >"$scratch/times"
sent=$(wc -l <"$scratch/times")
busiest=$(awk '{ t[NR] = $1 } END { j = 1; best = 0
	for (i = 1; i <= NR; i++) { while (t[i] - t[j] >= 1) j++; if (i - j + 1 > best) best = i - j + 1 }
	print best }' "$scratch/times")
echo "paced storm: $sent TCP segments from the harness, at most $busiest in any one second (budget $max_pps)"
[ "$sent" -ge 6000 ] || fail "the storm sent $sent segments, want at least 6000"
[ "$busiest" -le "$max_pps" ] || fail "$busiest segments within one second, over --max-pps $max_pps"
[ "$busiest" -ge $((max_pps / 2)) ] || fail "only $busiest segments in the busiest second: is the storm paced far below the budget?"

# 5. An IPv6 target. 2001:db8::c000:20a (the ipv6 family's 192.0.2.10) belongs to the other host:
# refused after duplicate address probes, named with its MAC, before anything is claimed.
lab6_args=(--target lab --iface thsafe-h --target-ip 2001:db8::c000:201
	--agent "touch $scratch/agent-started; exec nsenter --net=/proc/$target_pid/ns/net $agent")
harness_on_link 2 "${lab6_args[@]}" "$accept"
refused_before_claiming 2001:db8::c000:20a "answered a duplicate address probe" "(icmpv6 && ipv6.src != ::) || arp" \
	"icmpv6.type == 135 && ipv6.src == :: && icmpv6.nd.ns.target_address == 2001:db8::c000:20a" "RFC 4862"

# The other host gives the address up: the run passes (the target's link has an IPv6 link's MTU, for
# the catalogue's MSS) and the target forgets the peer afterwards.
in_ns "$other_pid" ip addr del 2001:db8::c000:20a/64 dev thsafe-o
in_ns "$target_pid" ip link set thsafe-t mtu 1520
if harness 0 "${lab6_args[@]}" "$accept"; then
	grep -q "1 passed, 0 failed, 2 skipped" "$scratch/out" || fail "the free-address IPv6 run did not pass: $(cat "$scratch/out")"
	grep -qE "2001:db8::c000:201 forgot its neighbour entries for the 1 peer address \([1-9][0-9]* flushed\)" \
		"$scratch/err" || fail "the harness did not say the IPv6 lab host forgot the peer: $(cat "$scratch/err")"
fi
left=$(in_ns "$target_pid" ip -6 neigh show 2001:db8::c000:20a)
[ -z "$left" ] || fail "the target still has a neighbour entry for the IPv6 peer: $left"

# The IPv6 dry run: solicitations and segments printed, nothing sent but the probes.
harness_on_link 0 "${lab6_args[@]}" --dry-run "$accept"
grep -q "neighbour solicitation for 2001:db8::c000:201 from 2001:db8::c000:20a (announces the peer)" "$scratch/out" &&
	grep -q "c < S 0:0(0) win 64240 <mss 1460,sackOK,TS val 100 ecr 0,nop,wscale 7>" "$scratch/out" ||
	{ fail "the IPv6 dry run does not print the announcement and the SYN:"; cat "$scratch/out"; }
tcp=$(harness_frames "tcp" | wc -l)
claims=$(harness_frames "(icmpv6 && ipv6.src != ::) || arp" | wc -l)
echo "IPv6 dry run: $(grep -c ' < ' "$scratch/out") segments printed; on the link $tcp TCP segments, $claims claiming frames"
[ "$tcp" -eq 0 ] && [ "$claims" -eq 0 ] || fail "the IPv6 dry run sent $tcp TCP segments and $claims claiming frames"
[ ! -e "$scratch/agent-started" ] || fail "the IPv6 dry run started the agent"

[ "$failures" -eq 0 ] || exit 1
echo "lab safety: address probes, refusals, neighbour flush, dry run and send budget (and the first three at an IPv6 target) all as expected"
