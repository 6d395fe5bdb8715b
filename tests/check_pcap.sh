#!/usr/bin/env bash
# The captures of a case, one per address family, hold every injected and every captured segment, in
# order, with valid IPv4 (where there is one) and TCP checksums as tshark (Wireshark's dissector)
# judges them; the ipv6 capture holds IPv6 alone, between the case's addresses mapped by README's rule
# (192.0.2.10 -> 2001:db8::c000:20a), and nothing else: no ICMPv6, no neighbour discovery, no MLD.
# They are pcapng that tshark reads without a warning, each frame's comment naming the case line that
# injected or read it (`time_wait/lost_final_ack.tc:16 injected S ...`), and the section header naming
# the case, variant, family, target and harness. The wrong twin's frame that broke it also carries
# the verdict and the diff's first line. --capture-format pcap writes classic pcap.
# usage: check_pcap.sh HARNESS CASE WRONG_TWIN   (cases/time_wait/lost_final_ack.tc and its twin)
set -u
harness=$1 case=$2 twin=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$harness" run --captures "$scratch" --variant tw-kept "$case" >/dev/null || { echo "FAIL: the case failed"; exit 1; }
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
# The capture of a run's last try: a try the harness could not perform (an ERROR under load) is tried
# again, and each try keeps its own capture, NAME~2.pcapng after NAME.pcapng.
# usage: last_try PATH_WITHOUT_SUFFIX SUFFIX
last_try() {
	local last=$1$2 n=2
	while [ -e "$1~$n$2" ]; do last=$1~$n$2 n=$((n + 1)); done
	echo "$last"
}
for family in ipv4 mapped ipv6; do
	pcap=$(last_try "$scratch/time_wait/lost_final_ack@tw-kept/$family" .pcapng)
	warnings=$(tshark -r "$pcap" -V 2>&1 >/dev/null | grep -v '^Running as user')
	[ -z "$warnings" ] || fail "$family: tshark warns: $warnings"
	# The case's lines 16-25 in order; the first frame comes from line 16 (`c < S`).
	comments=$(tshark -r "$pcap" -T fields -e frame.comment 2>/dev/null)
	lines=$(printf '%s\n' "$comments" | sed -E 's/^time_wait\/lost_final_ack\.tc:([0-9]+) (injected|expected) .*/\1 \2/')
	want=$(printf '%s\n' "16 injected" "17 expected" "18 injected" "21 expected" "22 injected" "23 expected" "24 injected" "25 expected")
	[ "$lines" = "$want" ] || fail "$family: frame comments: $comments"
	printf '%s\n' "$comments" | grep -qxF "time_wait/lost_final_ack.tc:23 expected . 2:2(0) ack 2 <nop,nop,TS val * ecr 102>" ||
		fail "$family: no comment for line 23 in the case's own notation: $comments"
	header=$(capinfos "$pcap" 2>/dev/null)
	for said in "Capture application: tcpharness " "Capture comment:     case time_wait/lost_final_ack ($case)" \
		"Capture comment:     variant tw-kept, family $family, target local: Linux "; do
		printf '%s\n' "$header" | grep -qF "$said" || fail "$family: the section header does not say '$said': $header"
	done
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

# The wrong twin: its line 23 expects an RST where the stack ACKs; that frame says so.
"$harness" run --captures "$scratch/wrong" --variant tw-kept --family 4 "$twin" >"$scratch/wrong.out"
pcap=$(last_try "$scratch/wrong/time_wait/lost_final_ack@tw-kept" .pcapng)
broke=$(tshark -r "$pcap" -T fields -e frame.comment 2>/dev/null | tail -n 1)
diagnostic=$(grep -F "$twin:23:" "$scratch/wrong.out" | grep -F 'differs from the expected one' | tail -n 1 | sed 's/^ *//')
[ -n "$diagnostic" ] || fail "wrong twin: no diagnostic for line 23: $(cat "$scratch/wrong.out")"
want="time_wait/lost_final_ack.tc:23 expected R 2:2(0) win 0,FAIL: $diagnostic -- expected: R 2:2(0) win 0"
[ "$broke" = "$want" ] || fail "wrong twin: the last frame's comment is '$broke', expected '$want'"
capinfos "$pcap" 2>/dev/null | grep -qF "Capture comment:     FAIL: $diagnostic" || fail "wrong twin: the section header lacks the verdict"

# Classic pcap on request: libpcap's magic for nanosecond stamps, the same frames, no comments.
"$harness" run --captures "$scratch/classic" --capture-format pcap --variant tw-kept --family 4 "$case" >/dev/null ||
	fail "--capture-format pcap: the case failed"
pcap=$(last_try "$scratch/classic/time_wait/lost_final_ack@tw-kept" .pcap)
magic=$(od -An -tx4 -N4 "$pcap" | tr -d ' ')
[ "$magic" = a1b23c4d ] || fail "--capture-format pcap: magic $magic, expected a1b23c4d (nanosecond pcap)"
[ "$(tshark -r "$pcap" 2>/dev/null | wc -l)" -eq 8 ] || fail "--capture-format pcap: not 8 frames"
[ -z "$(tshark -r "$pcap" -T fields -e frame.comment 2>/dev/null | tr -d '\n')" ] || fail "--capture-format pcap: comments"

[ "$failures" -eq 0 ] || exit 1
echo "pcap: in each family 8 frames, 4 injected, all checksums good, each named by its case line; ipv6 between the case's addresses only; the wrong twin's breaking frame carries its verdict; classic pcap on request"
