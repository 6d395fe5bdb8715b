#!/usr/bin/env bash
# The pcaps of a case, one per address family, hold every injected and every captured segment, in
# order, with valid IPv4 (where there is one) and TCP checksums as tshark (Wireshark's dissector)
# judges them; the ipv6 pcap holds IPv6 alone, between the case's addresses mapped by README's rule
# (192.0.2.10 -> 2001:db8::c000:20a), and nothing else: no ICMPv6, no neighbour discovery, no MLD.
set -u
harness=$1 case=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$harness" run --captures "$scratch" --variant tw-kept "$case" >/dev/null || { echo "FAIL: the case failed"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
for family in ipv4 mapped ipv6; do
	pcap="$scratch/time_wait/lost_final_ack@tw-kept/$family.pcap"
	if [ "$family" = ipv6 ]; then
		fields=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -T fields \
			-e ipv6.src -e tcp.flags.str -e tcp.checksum.status -e ipv6.dst 2>/dev/null)
		peer=2001:db8::c000:20a target=2001:db8::c000:201
	else
		fields=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields \
			-e ip.src -e tcp.flags.str -e tcp.checksum.status -e ip.checksum.status 2>/dev/null)
		peer=192.0.2.10 target=
	fi
	printf '%s: %s\n' "$family" "$fields"
	frames=$(printf '%s\n' "$fields" | grep -c .)
	all=$(tshark -r "$pcap" -T fields -e frame.number 2>/dev/null | grep -c .)
	# SYN, SYN-ACK, ACK, FIN (stack), FIN (peer), ACK, FIN again, re-ACK.
	[ "$frames" -eq 8 ] && [ "$all" -eq 8 ] || fail "$family: $frames TCP frames of $all, expected 8 of 8"
	if [ "$family" = ipv6 ]; then
		bad=$(printf '%s\n' "$fields" | awk -F'\t' '$3 != 1' | wc -l)
		strangers=$(printf '%s\n' "$fields" |
			awk -F'\t' -v p="$peer" -v t="$target" '!(($1 == p && $4 == t) || ($1 == t && $4 == p))' | wc -l)
		[ "$strangers" -eq 0 ] || fail "ipv6: $strangers frames between other addresses than $peer and $target"
		tshark -r "$pcap" -Y ip 2>/dev/null | grep -q . && fail "ipv6: an IPv4 frame in the ipv6 pcap"
	else
		bad=$(printf '%s\n' "$fields" | awk -F'\t' '$3 != 1 || $4 != 1' | wc -l)
	fi
	[ "$bad" -eq 0 ] || fail "$family: $bad frames with a checksum tshark does not call good"
	injected=$(printf '%s\n' "$fields" | awk -F'\t' -v p="$peer" '$1 == p' | wc -l)
	[ "$injected" -eq 4 ] || fail "$family: $injected injected frames, expected 4"
done
[ "$failures" -eq 0 ] || exit 1
echo "pcap: in each family 8 frames, 4 injected, all checksums good; ipv6 between the case's addresses only"
