#!/usr/bin/env bash
# Without real root: an ordinary user runs catalogue cases under `unshare -Urn` (a user namespace in
# which it holds CAP_SYS_ADMIN and CAP_NET_ADMIN over the namespaces it creates) and they pass, and
# the only SKIP is the one the kernel itself causes (tcp_tw_recycle, gone since 4.12). The same user
# without unshare gets the same verdicts: the harness enters a user namespace of its own. Where it
# cannot (user.max_user_namespaces 0 in the user namespace it runs in, and no capability), every case
# is a SKIP whose reason names the missing privilege, and the exit status is 4 (nothing ran), 0 with
# --allow-skip-only.
# As root the user is nobody (setpriv drops every capability with the uid); as anyone else it is the
# caller. Exit 77 (skipped) when there is no unprivileged user or user namespaces are off here.
# usage: check_rootless.sh HARNESS [CASES_DIR]   (CASES_DIR default: the repository's cases/)
set -euo pipefail
harness=$1
cases=${2:-$(cd "$(dirname "$0")/.." && pwd)/cases}
# Sandbox, sysctls per variant, wire, agent, sock_diag states, MIB counters, connect on a one-port
# range, and one case that must SKIP for the kernel's reason rather than a privilege's.
selected=(handshake/accept handshake/syn_closed_port time_wait/lost_final_ack paws/new_data_old_ts
	reuse/tw_reuse close/close_wait_held nat/tw_recycle)
expected_skip='nat/tw_recycle'

as_user=()
if [ "$(id -u)" -eq 0 ]; then
	command -v setpriv >/dev/null || { echo "SKIP: setpriv (util-linux) is missing, no way to drop root"; exit 77; }
	as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
fi
if ! "${as_user[@]}" unshare -Urn true 2>/dev/null; then
	echo "SKIP: an unprivileged user cannot create a user namespace here (user.max_user_namespaces is" \
		"$(cat /proc/sys/user/max_user_namespaces 2>/dev/null || echo '?'), or a security module forbids it)"
	exit 77
fi

# The binary and the cases go where that user can read them; captures where it can write.
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
chmod 0755 "$scratch"
install -m 0755 "$harness" "$scratch/tcpharness"
paths=()
for name in "${selected[@]}"; do
	[ -f "$cases/$name.tc" ] || { echo "FAIL: $cases/$name.tc is missing; update this test's list"; exit 1; }
	install -D -m 0644 "$cases/$name.tc" "$scratch/cases/$name.tc"
	paths+=("$scratch/cases/$name.tc")
done
mkdir -m 0777 "$scratch/captures"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# Passes and the kernel's own SKIP only; a FLAKY (passed on a retry after a harness ERROR on a busy
# machine) is a pass. $1: label, $2: output file, $3: exit status.
expect_passes() {
	echo "== $1"
	cat "$2"
	[ "$3" -eq 0 ] || fail "exit status $3 $1, expected 0"
	grep -q '^\(FAIL\|ERROR\) ' "$2" && fail "a case failed or broke $1"
	while read -r verdict name _; do
		[ "$verdict" = SKIP ] || continue
		# Every address family runs: the name ends in its family.
		[ "$(sed -E 's,/(ipv4|ipv6|mapped)$,,' <<<"$name")" = "$expected_skip" ] || fail "$name was skipped $1"
	done <"$2"
	passed=$(grep -c '^\(PASS\|FLAKY\) ' "$2" || true)
	[ "$passed" -gt 0 ] || fail "nothing passed $1"
}

user=$("${as_user[@]}" id -un 2>/dev/null || echo uid 65534)
status=0
(cd "$scratch" && "${as_user[@]}" unshare -Urn ./tcpharness run --captures captures/userns "${paths[@]}") \
	>"$scratch/userns.out" 2>&1 || status=$?
expect_passes "as $user under unshare -Urn" "$scratch/userns.out" "$status"

# No ceremony: the same user, no unshare; the harness makes its own user namespace.
status=0
(cd "$scratch" && "${as_user[@]}" ./tcpharness run --captures captures/plain "${paths[@]}") \
	>"$scratch/plain.out" 2>&1 || status=$?
expect_passes "as $user without unshare" "$scratch/plain.out" "$status"

# Where no user namespace can be made: inside one of the caller's own, its limit set to 0 (a per-user-
# namespace sysctl, nothing on the host changes) and every capability dropped for good (securebits
# noroot: exec gives uid 0 none back).
no_userns() {
	"${as_user[@]}" unshare -Ur sh -c 'echo 0 >/proc/sys/user/max_user_namespaces &&
		exec setpriv --securebits +noroot,+noroot_locked --bounding-set -all --inh-caps -all "$@"' sh "$@"
}
if no_userns true 2>/dev/null; then
	for allow in "" --allow-skip-only; do
		status=0
		(cd "$scratch" && no_userns ./tcpharness run $allow --captures captures/none "${paths[@]}") \
			>"$scratch/none.out" 2>&1 || status=$?
		echo "== as $user where no user namespace can be made ${allow:+($allow)}"
		cat "$scratch/none.out"
		want=4
		[ -n "$allow" ] && want=0
		[ "$status" -eq "$want" ] || fail "exit status $status without any privilege ${allow}, expected $want"
		grep -q '^\(PASS\|FAIL\|ERROR\|FLAKY\) ' "$scratch/none.out" && fail "a case ran without privileges"
		grep -qF 'cannot make a user namespace of its own' "$scratch/none.out" ||
			fail "no word of why the harness could not make a user namespace"
		# Each SKIP's reason, the indented line under it, must say what is missing.
		unclear=$(awk '/^SKIP /{ getline reason; if (reason !~ /Operation not permitted/ || reason !~ /CAP_SYS_ADMIN|unshare -Urn/) print $2 }' \
			"$scratch/none.out")
		[ -z "$unclear" ] || fail "SKIP without the missing privilege in its reason: $unclear"
	done
else
	echo "== (not checked: this kernel does not let a user namespace's root lower user.max_user_namespaces)"
fi

echo "rootless checks: $passed passed without unshare, $failures failures"
[ "$failures" -eq 0 ]
