#!/usr/bin/env bash
# Every wrong twin FAILs on the vm target in every address family (issue 15): one VM for all of
# tests/wrong/, each run the list names must FAIL, and give the same verdict in ipv4, ipv6 and mapped.
# Where the guest's 6.1 cannot show the twin wrong the same way in every family, that is allowed and
# counted: a SKIP (it lacks what the twin needs), a PASS whose wrong line is unchecked (it lacks the
# counter: PAWSTimewait), and the twins named in on_6_1 below. A harness ERROR never is.
# usage: check_vm_wrong.sh HARNESS SOURCE_DIR VMDIR
set -euo pipefail
. "$(dirname "$0")/vm_image.sh"

status=0
"$harness" run --family all --target vm --vm-image "$vm_image" --captures "$work/captures" tests/wrong/ \
	>"$work/output" 2>&1 || status=$?
[ "$status" -eq 1 ] || { cat "$work/output"; echo "FAIL: exit status $status, expected 1"; exit 1; }
# What Linux 6.1 itself does: in pkt/tcp_info two ACKed segments leave cwnd at 10 there (6.18 grows it
# to 12), the very claim the twin makes.
on_6_1=" pkt/tcp_info "
failures=0 excused=0 failed=0
declare -A verdicts
while read -r name; do
	line=$(awk -v n="$name" '$2 == n' "$work/output")
	verdict=${line%% *}
	verdicts[${name%/*}]+="${verdict:-none} "
	case $verdict in
	FAIL) failed=$((failed + 1)) ;;
	SKIP) excused=$((excused + 1)) ;;
	PASS) if [[ "$line" == *" unchecked: "* || "$on_6_1" == *" ${name%/*} "* ]]; then
		excused=$((excused + 1))
	else
		echo "FAIL: $name: PASS, expected FAIL"
		failures=$((failures + 1))
	fi ;;
	*) echo "FAIL: $name: ${verdict:-no verdict}, expected FAIL"; failures=$((failures + 1)) ;;
	esac
done < <("$harness" list tests/wrong/)
for twin in "${!verdicts[@]}"; do
	[ "$(tr ' ' '\n' <<<"${verdicts[$twin]}" | sort -u | grep -c .)" -eq 1 ] ||
		{ echo "FAIL: $twin: the families disagree (${verdicts[$twin]})"; failures=$((failures + 1)); }
done
for family in ipv4 ipv6 mapped; do
	grep -q "^FAIL [^ ]*/$family " "$work/output" || { echo "FAIL: no wrong twin failed in $family"; failures=$((failures + 1)); }
done
[ "$failures" -eq 0 ] || { grep -A6 '^\(PASS\|ERROR\|FLAKY\) ' "$work/output" | head -60; exit 1; }
echo "vm: $failed wrong-twin runs FAIL in ipv4, ipv6 and mapped alike ($excused cannot on the guest's 6.1, in every family)"
