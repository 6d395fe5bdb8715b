#!/usr/bin/env bash
# Without real root: an ordinary user runs catalogue cases under `unshare -Urn` (a user namespace in
# which it holds CAP_SYS_ADMIN and CAP_NET_ADMIN over the namespaces it creates) and they pass, and
# the only SKIP is the one the kernel itself causes (tcp_tw_recycle, gone since 4.12). The same user
# without unshare gets a SKIP for every case whose reason names the missing privilege, and exit 0.
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

status=0
(cd "$scratch" && "${as_user[@]}" unshare -Urn ./tcpharness run --captures captures/userns "${paths[@]}") \
	>"$scratch/userns.out" 2>&1 || status=$?
echo "== as $("${as_user[@]}" id -un 2>/dev/null || echo uid 65534) under unshare -Urn"
cat "$scratch/userns.out"
[ "$status" -eq 0 ] || fail "exit status $status under unshare -Urn, expected 0"
grep -q '^FAIL ' "$scratch/userns.out" && fail "a case failed under unshare -Urn"
while read -r verdict name _; do
	[ "$verdict" = SKIP ] || continue
	# Every address family runs: the name ends in its family.
	[ "$(sed -E 's,/(ipv4|ipv6|mapped)$,,' <<<"$name")" = "$expected_skip" ] || fail "$name was skipped under unshare -Urn"
done <"$scratch/userns.out"
passed=$(grep -c '^PASS ' "$scratch/userns.out" || true)
[ "$passed" -gt 0 ] || fail "nothing passed under unshare -Urn"

if [ ${#as_user[@]} -gt 0 ] || ! unshare -n true 2>/dev/null; then
	status=0
	(cd "$scratch" && "${as_user[@]}" ./tcpharness run --captures captures/plain "${paths[@]}") \
		>"$scratch/plain.out" 2>&1 || status=$?
	echo "== the same user without unshare"
	cat "$scratch/plain.out"
	[ "$status" -eq 0 ] || fail "exit status $status without privileges, expected 0 (everything skipped)"
	grep -q '^PASS \|^FAIL ' "$scratch/plain.out" && fail "a case ran without privileges"
	# Each SKIP's reason, the indented line under it, must say what is missing.
	unclear=$(awk '/^SKIP /{ getline reason; if (reason !~ /Operation not permitted/ || reason !~ /CAP_SYS_ADMIN|unshare -Urn/) print $2 }' \
		"$scratch/plain.out")
	[ -z "$unclear" ] || fail "SKIP without the missing privilege in its reason: $unclear"
fi

echo "rootless checks: $passed passed under unshare -Urn, $failures failures"
[ "$failures" -eq 0 ]
