#!/usr/bin/env bash
# Optional (needs a packetdrill you built yourself; CI has none): tcpharness gives packetdrill's own
# verdict on the project's .pkt scripts (tests/pkt pass under both) and on every script it runs of
# the suite in TCPHARNESS_PACKETDRILL_SUITE (google/packetdrill's gtests/net/tcp, or the kernel's
# tools/testing/selftests/net/packetdrill). Exit 77 (CTest: skipped) when either is not set.
set -u
harness=$1 source_dir=$2
pd=${TCPHARNESS_PACKETDRILL:-} suite=${TCPHARNESS_PACKETDRILL_SUITE:-}
if [ -z "$pd" ] || [ ! -x "$pd" ]; then
	echo "SKIP: set TCPHARNESS_PACKETDRILL to a packetdrill binary to compare verdicts with it"
	exit 77
fi
status=0
"$source_dir/scripts/packetdrill-compare.sh" "$harness" "$pd" "$source_dir/tests/pkt" || status=1
if [ -n "$suite" ] && [ -d "$suite" ]; then
	"$source_dir/scripts/packetdrill-compare.sh" "$harness" "$pd" "$suite" || status=1
else
	echo "no TCPHARNESS_PACKETDRILL_SUITE: the project's own scripts only"
fi
exit $status
