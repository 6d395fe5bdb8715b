#!/usr/bin/env bash
# The pcap of a case holds every injected and every captured segment, in order, with valid IPv4 and
# TCP checksums as tshark (Wireshark's dissector) judges them.
set -u
harness=$1 case=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
"$harness" run --captures "$scratch" --variant tw-kept "$case" >/dev/null || { echo "FAIL: the case failed"; exit 1; }
pcap="$scratch/time_wait/lost_final_ack@tw-kept.pcap"
fields=$(tshark -r "$pcap" -o tcp.check_checksum:TRUE -o ip.check_checksum:TRUE -T fields \
	-e ip.src -e tcp.flags.str -e tcp.checksum.status -e ip.checksum.status 2>/dev/null)
printf '%s\n' "$fields"
frames=$(printf '%s\n' "$fields" | grep -c .)
# SYN, SYN-ACK, ACK, FIN (stack), FIN (peer), ACK, FIN again, re-ACK.
[ "$frames" -eq 8 ] || { echo "FAIL: $frames frames, expected 8"; exit 1; }
bad=$(printf '%s\n' "$fields" | awk -F'\t' '$3 != 1 || $4 != 1' | wc -l)
[ "$bad" -eq 0 ] || { echo "FAIL: $bad frames with a checksum tshark does not call good"; exit 1; }
injected=$(printf '%s\n' "$fields" | awk -F'\t' '$1 == "192.0.2.10"' | wc -l)
[ "$injected" -eq 4 ] || { echo "FAIL: $injected injected frames, expected 4"; exit 1; }
echo "pcap: 8 frames, 4 injected, all checksums good"
