#!/usr/bin/env bash
# packetdrill scripts (.pkt) next to case files: `check` lists every construct tcpharness cannot run
# with its file:line:col and exits 0, `run` makes such a script a SKIP naming the first one, and
# `list` shows the scripts that run.
set -u
harness=$1 tests=$2
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
unsupported=$tests/good/unsupported.pkt

"$harness" check "$unsupported" >"$scratch/out" 2>&1 || fail "check exit status $?"
for wanted in \
	"$unsupported:5:33: unsupported: socket option 'SO_ZEROCOPY'" \
	"$unsupported:8:38: unsupported: TCP option 'md5'" \
	"$unsupported:10:7: unsupported: %{ }%: '/' (true division)" \
	"1 case file OK, 1 of them SKIP for 3 unsupported constructs"; do
	grep -qxF -- "$wanted" "$scratch/out" || fail "check: missing '$wanted'"
done

"$harness" run --captures "$scratch/captures" "$unsupported" >"$scratch/out" 2>&1
status=$?
# Only a SKIP ran: nothing was tested, which is exit 4, never a green 0.
[ "$status" -eq 4 ] || fail "run of an unsupported script: exit status $status, expected 4"
grep -qF "SKIP good/unsupported" "$scratch/out" ||
	fail "run: no SKIP line"
grep -qF "$unsupported:5:33: socket option 'SO_ZEROCOPY' (and more: tcpharness check lists them)" "$scratch/out" ||
	fail "run: the SKIP does not name the first construct"

"$harness" check "$tests/pkt" >"$scratch/out" 2>&1 || fail "check tests/pkt: exit status $?"
grep -qx "9 case files OK" "$scratch/out" || fail "check tests/pkt: $(cat "$scratch/out")"

cat "$scratch/out"
echo "check_pkt: $failures failures"
[ "$failures" -eq 0 ]
