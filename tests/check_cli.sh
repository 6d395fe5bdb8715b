#!/usr/bin/env bash
# The command line's contract: help and version, exit status 2 for every usage error, list and check.
set -u
harness=$1 cases=$2
failures=0
expect_status() {
	local want=$1; shift
	"$@" >/dev/null 2>&1
	local got=$?
	if [ "$got" -ne "$want" ]; then
		echo "FAIL: '$*' exited $got, expected $want"
		failures=$((failures + 1))
	fi
}
expect_status 0 "$harness" --help
expect_status 0 "$harness" --version
expect_status 2 "$harness"
expect_status 2 "$harness" frobnicate "$cases"
expect_status 2 "$harness" run
expect_status 2 "$harness" run /nonexistent/path.tc
expect_status 2 "$harness" run --tolerance banana "$cases"
expect_status 2 "$harness" run --variant no-such-variant "$cases"
expect_status 2 "$harness" --no-such-option
expect_status 2 "$harness" run --target mars "$cases"
expect_status 2 "$harness" run --target lab "$cases"
expect_status 2 "$harness" run --target lab --iface lo --target-ip 192.0.2.1 "$cases"
expect_status 2 "$harness" run --target lab --iface lo --target-ip banana --agent true "$cases"
expect_status 2 "$harness" run --iface lo "$cases"
expect_status 2 "$harness" run --target local,lab "$cases"
expect_status 2 "$harness" run --targets local,lab --iface lo --target-ip 192.0.2.1 --agent true "$cases"
expect_status 2 "$harness" matrix --targets local,local "$cases"
expect_status 2 "$harness" matrix --targets , "$cases"
expect_status 2 "$harness" matrix --targets local,lab --iface lo --target-ip 192.0.2.1 --agent true \
	--report json=/dev/null "$cases"
expect_status 2 "$harness" check --target local "$cases"
# --shard K/N and merge (issue 22): each usage error names what is wrong.
expect_message() {
	local want=$1; shift
	local got
	got=$("$@" 2>&1 >/dev/null)
	local status=$?
	if [ "$status" -ne 2 ] || ! grep -qF -- "$want" <<<"$got"; then
		echo "FAIL: '$*' exited $status saying '$got', expected 2 and '$want'"
		failures=$((failures + 1))
	fi
}
for bad in 0/4 5/4 4 2/ /4 x/y 1/1001; do
	expect_message "--shard takes K/N, runner K of N (1 <= K <= N <= 1000), not '$bad'" "$harness" list --shard "$bad" "$cases"
done
expect_message "--shard is an option of run, matrix and list" "$harness" check --shard 1/2 "$cases"
expect_message "merge takes the reports' own selection" "$harness" merge --shard 1/2 /dev/null
expect_message "merge takes the reports' own selection" "$harness" merge --family 4 /dev/null
expect_message "merge needs at least one PATH" "$harness" merge
expect_message "matrix prints its table on stdout" "$harness" merge --report tap /dev/null
expect_message "not a tcpharness report" "$harness" merge <(echo '{"schema": "other/1"}')
expect_message "1:1: '[' or '{' expected" "$harness" merge "$cases/../README.md"
expect_message "several lab hosts take --iface, --target-ip and --agent once each, in the same order (2, 1 and 1 given)" \
	"$harness" run --target lab --iface lo --iface lo --target-ip 192.0.2.1 --agent true "$cases"
expect_message "the lab hosts' --target-ip are of one family" "$harness" run --target lab --iface lo --iface lo \
	--target-ip 192.0.2.1 --target-ip 2001:db8::c000:201 --agent true --agent true "$cases"
expect_message "--target-ip takes an IPv4 address or an IPv6 one in 2001:db8::/96" "$harness" run --target lab \
	--iface lo --target-ip fe80::1 --agent true "$cases"
expect_message "--dry-run shows one lab host's frames" "$harness" run --target lab --iface lo --iface lo \
	--target-ip 192.0.2.1 --target-ip 192.0.2.2 --agent true --agent true --dry-run "$cases"
# More runners than runs: a runner without any exits 0 and says so (its report still goes to merge).
empty=$("$harness" run --shard 2/2 --family 4 --captures /nonexistent "$cases/handshake/accept.tc" 2>&1 >/dev/null)
status=$?
[ "$status" -eq 0 ] && grep -qF "shard 2/2 holds none of the 1 run selected" <<<"$empty" ||
	{ echo "FAIL: an empty shard exited $status saying '$empty'"; failures=$((failures + 1)); }
# The shards of a selection list every run once; one shard of one is the whole selection.
diff <("$harness" list "$cases" | sort) <(for k in 1 2 3; do "$harness" list --shard "$k/3" "$cases"; done | sort) >/dev/null ||
	{ echo "FAIL: list --shard K/3 for K = 1..3 is not list"; failures=$((failures + 1)); }
diff <("$harness" list "$cases") <("$harness" list --shard 1/1 "$cases") >/dev/null ||
	{ echo "FAIL: list --shard 1/1 is not list"; failures=$((failures + 1)); }
expect_status 0 "$harness" check "$cases"
expect_status 0 "$harness" explore --help
expect_status 0 "$harness" explore --list
expect_status 2 "$harness" explore --states NO_SUCH_STATE
expect_status 2 "$harness" explore --events no-such-event
expect_status 2 "$harness" explore --family inet6
expect_status 2 "$harness" explore --targets local,local
expect_status 2 "$harness" explore --targets lab
expect_status 2 "$harness" explore -j 0
expect_status 2 "$harness" explore "$cases"
"$harness" explore --list | grep -q '^  client TIME_WAIT ' ||
	{ echo "FAIL: explore --list shows no client TIME_WAIT row"; failures=$((failures + 1)); }
"$harness" --help | grep -q '^usage: tcpharness run' || { echo "FAIL: --help shows no usage"; failures=$((failures + 1)); }
expect_status 2 "$harness" run --family 5 "$cases"
expect_status 2 "$harness" run --family "" "$cases"
# Every family by default, each run named after it; one family asked for: names without it; a case
# pinned to `family 4` (tw_recycle) runs in no other.
for family in ipv4 ipv6 mapped; do
	"$harness" list "$cases" | grep -q "^time_wait/lost_final_ack@no-tw-bucket/$family\$" ||
		{ echo "FAIL: list does not show time_wait/lost_final_ack@no-tw-bucket/$family"; failures=$((failures + 1)); }
done
"$harness" list --family 6 "$cases" | grep -q '^time_wait/lost_final_ack@no-tw-bucket$' ||
	{ echo "FAIL: list --family 6 does not show time_wait/lost_final_ack@no-tw-bucket"; failures=$((failures + 1)); }
if "$harness" list "$cases" | grep -q '^nat/tw_recycle/ipv6$'; then
	echo "FAIL: nat/tw_recycle, pinned to family 4, runs in ipv6"
	failures=$((failures + 1))
fi
expect_status 2 "$harness" run --family 6 "$cases/nat/tw_recycle.tc"
echo "cli checks: $failures failures"
[ "$failures" -eq 0 ]
