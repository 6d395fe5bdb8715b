#!/usr/bin/env bash
# Every wrong twin FAILs on the vm target in every address family (issue 15): one VM for all of
# tests/wrong/, each run the list names must FAIL; a SKIP (the guest's 6.1 lacks what the twin needs)
# is allowed and counted, a PASS or a harness ERROR is not.
# usage: check_vm_wrong.sh HARNESS SOURCE_DIR VMDIR
set -euo pipefail
if [ $# -ne 3 ]; then
	echo "usage: check_vm_wrong.sh HARNESS SOURCE_DIR VMDIR" >&2
	exit 2
fi
harness=$1 source_dir=$2 vm_image=$3
if ! [ -f "$vm_image/stamp" ]; then
	echo "SKIP: no VM image in $vm_image (kernel:vm builds it)"
	exit 77
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$source_dir"

status=0
"$harness" run --family all --target vm --vm-image "$vm_image" --captures "$work/captures" tests/wrong/ \
	>"$work/output" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$work/output"; echo "FAIL: exit status $status, expected 1"; exit 1; }
failures=0 skipped=0 failed=0
while read -r name; do
	verdict=$(awk -v n="$name" '$2 == n { print $1 }' "$work/output")
	case $verdict in
	FAIL) failed=$((failed + 1)) ;;
	SKIP) skipped=$((skipped + 1)) ;;
	*) echo "FAIL: $name: ${verdict:-no verdict}, expected FAIL"; failures=$((failures + 1)) ;;
	esac
done < <("$harness" list tests/wrong/)
for family in ipv4 ipv6 mapped; do
	grep -q "^FAIL [^ ]*/$family " "$work/output" || { echo "FAIL: no wrong twin failed in $family"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || { grep -A6 '^\(PASS\|ERROR\|FLAKY\) ' "$work/output" | head -60; exit 1; }
echo "vm: $failed wrong-twin runs FAIL in ipv4, ipv6 and mapped ($skipped SKIP on the guest's kernel)"
