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
	"$unsupported:5:33: unsupported: socket option 'SO_MARK'" \
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
grep -qF "$unsupported:5:33: socket option 'SO_MARK' (and more: tcpharness check lists them)" "$scratch/out" ||
	fail "run: the SKIP does not name the first construct"

# packetdrill's command line: --ip_version narrows the families as a script's own line does; -D
# defines replace whole words of the script; a bad value is a usage error (exit 2).
[ "$("$harness" list --ip_version=ipv6 "$tests/pkt/client.pkt")" = "pkt/client/ipv6" ] ||
	fail "list --ip_version=ipv6: $("$harness" list --ip_version=ipv6 "$tests/pkt/client.pkt" 2>&1)"
mkdir "$scratch/defines"
printf '%s\n' '--ip_version=ipv4-mapped-ipv6' '0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3' \
	'+0 setsockopt(3, SOL_SOCKET, SO_RCVBUF, [BUFFER], 4) = 0' \
	'+0 < S 0:0(0) win 100 <mss 1000,FO COOKIE,nop,nop>' >"$scratch/defines/d.pkt"
[ "$("$harness" list "$scratch/defines/d.pkt")" = "defines/d/mapped" ] ||
	fail "a script's --ip_version: $("$harness" list "$scratch/defines/d.pkt" 2>&1)"
"$harness" check -D BUFFER=65536 -D COOKIE=abcd1234 "$scratch/defines/d.pkt" >"$scratch/out" 2>&1
grep -qx "1 case file OK" "$scratch/out" || fail "check with -D: $(cat "$scratch/out")"
"$harness" check -D COOKIE=abcd1234 "$scratch/defines/d.pkt" >"$scratch/out" 2>&1
grep -qF "d.pkt:3:41: unsupported: an option value other than [N]: '[BUFFER]'" "$scratch/out" ||
	fail "check without -D BUFFER: $(cat "$scratch/out")"
"$harness" check --tolerance_usecs=soon "$tests/pkt/client.pkt" >"$scratch/out" 2>&1
[ $? -eq 2 ] && grep -qF "tcpharness: --tolerance_usecs does not take 'soon'" "$scratch/out" ||
	fail "a bad --tolerance_usecs: $(cat "$scratch/out")"

"$harness" check "$tests/pkt" >"$scratch/out" 2>&1 || fail "check tests/pkt: exit status $?"
grep -qx "21 case files OK" "$scratch/out" || fail "check tests/pkt: $(cat "$scratch/out")"

cat "$scratch/out"
echo "check_pkt: $failures failures"
[ "$failures" -eq 0 ]
