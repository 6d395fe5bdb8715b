#!/usr/bin/env bash
# Sanitizer builds only (issue 21): the harness built with ASan+UBSan drives gVisor and lwIP through
# the handshake and close cases, its agents built with them too (the lwip agent; the dynamic agent
# gvisor-run-agent.sh gives runsc when no static one exists, as in these builds). Any sanitizer report
# aborts a process: the harness's exit status, or an agent that broke, an ERROR. Kept to two
# directories of the catalogue so that CI stays short; kernel:stacks runs all of it in plain builds.
# usage: check_stacks_sanitized.sh HARNESS SOURCE_DIR   (exit 77: runsc is not installed)
set -u
harness=$1 source_dir=$2
command -v runsc >/dev/null || { echo "runsc is not installed: nothing to drive"; exit 77; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
status=0
"$harness" matrix -j 2 --family 4 --targets gvisor,lwip --captures "$scratch/captures" \
	"$source_dir/cases/handshake" "$source_dir/cases/close" >"$scratch/table" 2>"$scratch/log" || status=$?
cat "$scratch/table"
tail -n 1 "$scratch/log"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ "$status" -eq 0 ] || fail "matrix --targets gvisor,lwip exited $status: $(grep -E '^(FAIL|ERROR|    )' "$scratch/log" | head -n 20)"
grep -qE 'AddressSanitizer|runtime error:' "$scratch/log" && fail "a sanitizer report: $(grep -E -A5 'AddressSanitizer|runtime error:' "$scratch/log" | head -n 20)"
head -n 1 "$scratch/table" | grep -q 'gvisor: runsc .*lwip: lwIP ' || fail "the table does not have both stacks' columns"
[ "$failures" -eq 0 ]
