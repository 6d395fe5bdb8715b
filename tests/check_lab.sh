#!/usr/bin/env bash
# Lab mode without a lab: the "lab host" is a network namespace with its own address behind a veth,
# its agent started with nsenter, the harness in a namespace of its own (nothing on the host touched).
# Checks: the refusals (missing options, the default route's link, addresses this host owns, an agent
# without the privilege to set a case's sysctl); the catalogue's outcome table in lab mode equals local
# mode's (ipv4 and mapped at the host's IPv4 address, ipv6 at its IPv6 one); wrong twins FAIL in ipv6
# there; the lab's sysctls end as they began and no socket is left there; every frame the harness
# sent was for the target (or an address probe).
# usage: check_lab.sh HARNESS AGENT CASES_DIR
set -euo pipefail
. "$(dirname "$0")/lab_hosts.sh"

new_host lab_pid
lab() { in_ns "$lab_pid" "$@"; }

ip link set lo up
quiet_ipv6 "$lab_pid"
ip link add thlab-h type veth peer name thlab-t netns "$lab_pid"
sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
# An IPv6 case's link has an MTU of 1520 (MSS 1460 in both families); the agent sets it on the lab
# host's end in IPv6 cases, and the harness's end must take such frames.
ip link set thlab-h mtu 1520 up
lab ip link set lo up
lab ip addr add 192.0.2.1/24 dev thlab-t
lab ip addr add 2001:db8::c000:201/64 dev thlab-t nodad
# A lab NIC fills in checksums before the wire; a veth leaves them to the receiver.
lab ethtool -K thlab-t tx off tso off gso off >/dev/null
lab ip link set thlab-t up
harness_mac=$(link_mac thlab-h)

# The refusals run the plain agent (cleanup by SOCK_DESTROY, as 6.18 allows); the table runs it as the
# docs recommend, a fresh namespace per case with thlab-t moved in, where purge is refused, and with
# no SOCK_DESTROY at all (--refuse-sock-destroy), as on a 4.9 host whose tcp_abort refuses TIME_WAIT.
lab_args=(--target lab --iface thlab-h --target-ip 192.0.2.1 --agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent")
lab_netns_args=(--target lab --iface thlab-h --target-ip 192.0.2.1
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent --netns-per-case thlab-t --refuse-sock-destroy")
# The same host at its IPv6 address: the ipv6 family.
lab6_args=(--target lab --iface thlab-h --target-ip 2001:db8::c000:201
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent")
lab6_netns_args=(--target lab --iface thlab-h --target-ip 2001:db8::c000:201
	--agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent --netns-per-case thlab-t")
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
# The same refusals for an IPv6 target: an address outside the block the cases map into, the
# harness host's own target and peer addresses.
expect_refusal 2 "takes an IPv4 address or an IPv6 one in 2001:db8::/96" --target lab --iface thlab-h \
	--target-ip 2001:db8:1::1 --agent true "$one_case"
expect_refusal 0 "1 passed, 0 failed, 2 skipped" "${lab6_netns_args[@]}" "$one_case"
sysctl -qw net.ipv6.conf.thlab-h.disable_ipv6=0
ip addr add 2001:db8::c000:263/128 dev thlab-h nodad
expect_refusal 2 "--target-ip 2001:db8::c000:263 is this host's own address" --target lab --iface thlab-h \
	--target-ip 2001:db8::c000:263 --agent "exec nsenter --net=/proc/$lab_pid/ns/net $agent" "$one_case"
ip addr del 2001:db8::c000:263/128 dev thlab-h
ip addr add 2001:db8::c000:20a/128 dev thlab-h nodad
expect_refusal 2 "peer 2001:db8::c000:20a is this host's own address" "${lab6_args[@]}" "$one_case"
ip addr del 2001:db8::c000:20a/128 dev thlab-h
sysctl -qw net.ipv6.conf.thlab-h.disable_ipv6=1
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

lab_sysctls() { lab sh -c 'find /proc/sys/net/ipv4 /proc/sys/net/ipv6 /proc/sys/net/core -type f -perm -0400 ! -path "*/tcp_fastopen_key" ! -path "*/netdev_rss_key" ! -name stable_secret -print0 | xargs -0 grep -H "" | sort'; }
lab_sysctls >"$scratch/sysctls.before"

start_capture thlab-h "$scratch/all.pcapng"

status=0
# The catalogue's storms run paced at the default send budget (check_lab_safety.sh checks the pace).
# In every family: ipv4 and mapped (AF_INET6 sockets, IPv4 on the wire) at the host's IPv4 address,
# ipv6 at its IPv6 one.
for family in 4 mapped 6; do
	if [ "$family" = 6 ]; then host=("${lab6_netns_args[@]:2}"); else host=("${lab_netns_args[@]:2}"); fi
	"$harness" matrix --family "$family" --targets local,lab "${host[@]}" --allow-storm \
		--captures "$scratch/runs$family" "$cases" >>"$scratch/table" 2>>"$scratch/log" || {
		family_status=$?
		[ "$family_status" -le "$status" ] || status=$family_status
	}
done

# A wrong twin from each directory FAILs in ipv6 on the lab host too, with the diff it announces.
wrong_dir=$(dirname "$0")/wrong
wrong_twins=()
for dir in "$wrong_dir"/*/; do
	first=$(find "$dir" -maxdepth 1 -name '*.tc' | sort | head -n 1)
	[ -z "$first" ] || wrong_twins+=("$first")
done
wrong_status=0
"$harness" run --family 6 "${lab6_netns_args[@]}" --allow-storm --captures "$scratch/wrong" "${wrong_twins[@]}" \
	>"$scratch/wrong.out" 2>&1 || wrong_status=$?
[ "$wrong_status" -eq 1 ] || { sed 's/^/    /' "$scratch/wrong.out"; fail "the wrong twins in ipv6 on lab exited $wrong_status, want 1"; }
for twin in "${wrong_twins[@]}"; do
	for name in $("$harness" list --family 6 "$twin"); do
		grep -q "^FAIL $name " "$scratch/wrong.out" ||
			fail "wrong twin $name did not FAIL in ipv6 on lab: $(grep " $name " "$scratch/wrong.out")"
	done
	while IFS= read -r wanted; do
		grep -qF -- "$wanted" "$scratch/wrong.out" || fail "$twin in ipv6 on lab: missing from the output: '$wanted'"
	done < <(sed -n 's/^# expect-output: //p' "$twin")
done
echo "wrong twins in ipv6 on lab: ${#wrong_twins[@]} files, $(grep -c '^FAIL ' "$scratch/wrong.out") runs FAILed"
stop_capture
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
for family in 4 mapped 6; do
	[ -d "$scratch/runs$family/local" ] && [ -d "$scratch/runs$family/lab" ] ||
		fail "no per-target capture directories in $family"
done
# Every ipv6 pcap of both targets (issue 15): each opens in tshark, every TCP checksum is good, and no
# address appears but the catalogue's, mapped into 2001:db8::/96 (kernel:pcap checks one case's
# exactly). One tshark pass over them merged; mergecap refuses a file it cannot read.
find "$scratch/runs6" -name '*.pcapng' -print0 | sort -z >"$scratch/pcaps6"
pcaps6=$(tr -cd '\0' <"$scratch/pcaps6" | wc -c)
xargs -0 mergecap -w "$scratch/ipv6.pcapng" <"$scratch/pcaps6" || fail "mergecap could not read the ipv6 pcaps"
# A sum of zero goes out as 0xffff, the other zero of one's complement (RFC 1624 section 3): Linux's
# skb_checksum_help (net/core/dev.c) writes CSUM_MANGLED_0 for it, and tshark calls that bad. About one
# segment in 65536, so a storm meets it now and then: it counts as good here, any other mismatch not.
tshark -r "$scratch/ipv6.pcapng" -o tcp.check_checksum:TRUE -T fields -e tcp.checksum.status -e ipv6.src -e ipv6.dst \
	-e ip.src -e tcp.checksum -e tcp.checksum_calculated 2>/dev/null >"$scratch/ipv6.fields"
segments6=$(awk -F'\t' '$1 != ""' "$scratch/ipv6.fields" | wc -l)
bad=$(awk -F'\t' '$1 != "" && $1 != 1 && !($5 == "0xffff" && $6 == "0x0000")' "$scratch/ipv6.fields" | wc -l)
ipv4=$(awk -F'\t' '$4 != ""' "$scratch/ipv6.fields" | wc -l)
strangers=$(awk -F'\t' '{ print $2; print $3 }' "$scratch/ipv6.fields" | sort -u |
	grep -vE '^2001:db8::(c000:2|c633:64|cb00:71)[0-9a-f]{2}$' || true)
echo "ipv6 pcaps: $pcaps6 files, $segments6 TCP segments, $bad with a checksum tshark does not call good"
[ "$pcaps6" -gt 0 ] && [ "$segments6" -gt 0 ] || fail "no ipv6 pcap with a TCP segment"
[ "$bad" -eq 0 ] || fail "$bad TCP segments in the ipv6 pcaps with a bad checksum"
[ "$ipv4" -eq 0 ] || fail "$ipv4 IPv4 frames in the ipv6 pcaps"
[ -z "$strangers" ] || fail "addresses outside the catalogue's in the ipv6 pcaps: $strangers"

lab_sysctls >"$scratch/sysctls.after"
diff -u "$scratch/sysctls.before" "$scratch/sysctls.after" || fail "the lab host's sysctls changed"
lab ip -o -4 addr show thlab-t | grep -q 192.0.2.1/24 || fail "thlab-t did not come back home with its address"
lab ip -o -6 addr show thlab-t | grep -q 2001:db8::c000:201/64 || fail "thlab-t did not come back home with its IPv6 address"
leftover=$(lab ss -tanH | grep -vc LISTEN || true)
[ "$leftover" -eq 0 ] || { fail "$leftover sockets left on the lab host:"; lab ss -tan; }

sent=$(tshark -r "$scratch/all.pcapng" -Y "eth.src == $harness_mac" 2>/dev/null | wc -l)
# RFC 5227 probes (sender 0.0.0.0) and RFC 4862 ones (source ::) ask who holds a peer address:
# broadcast or to that address's solicited-node group by design, claiming nothing. A peer's
# solicitation for the target goes to the target's solicited-node group.
stray=$(tshark -r "$scratch/all.pcapng" -Y "eth.src == $harness_mac && !(ip.dst == 192.0.2.1 || ipv6.dst == 2001:db8::c000:201 || arp.dst.proto_ipv4 == 192.0.2.1 || arp.src.proto_ipv4 == 0.0.0.0 || ipv6.src == :: || (icmpv6.type == 135 && icmpv6.nd.ns.target_address == 2001:db8::c000:201))" 2>/dev/null | wc -l)
tcp6=$(tshark -r "$scratch/all.pcapng" -Y "eth.src == $harness_mac && ipv6.dst == 2001:db8::c000:201 && tcp" 2>/dev/null | wc -l)
echo "harness frames on the link: $sent ($tcp6 TCP over IPv6), addressed elsewhere than the target: $stray"
[ "$sent" -gt 0 ] || fail "no frame from the harness was captured"
[ "$tcp6" -gt 0 ] || fail "no IPv6 segment from the harness was captured"
[ "$stray" -eq 0 ] || fail "$stray frames went elsewhere than 192.0.2.1 and 2001:db8::c000:201"

[ "$failures" -eq 0 ] || exit 1
echo "lab mode: refusals, table, sysctls, sockets and addresses all as expected"
