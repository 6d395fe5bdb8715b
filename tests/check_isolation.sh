#!/usr/bin/env bash
# The harness leaves the namespace it starts in as it found it. Snapshots this namespace, runs the
# whole catalogue, snapshots again and compares:
#   - sysctls: every readable file under /proc/sys/net/{ipv4,core,ipv6} must hold the same value. The
#     harness writes sysctls (the case's, IPv6 off) only inside its own namespaces; ipv6 is here
#     because disable_ipv6 is what it writes in every one of them. Skipped: write-only files
#     (route/flush, found by their mode, not by name), ipv6 conf/*/stable_secret (reading it fails with
#     EIO until someone sets it), and two values that change by themselves:
#     net.core.netdev_rss_key is all zeros until the first driver anywhere on the host asks for a
#     key, and net.ipv4.tcp_fastopen_key is generated on the first TCP Fast Open use in the namespace.
#   - interfaces: `ip -o link` as index, name and flags: none added, none removed, none changed.
#     (Addresses and link state counters are left out: they are not the harness's to change either,
#     but carrier and statistics move with the host's own traffic.)
#   - named namespaces (`ip netns list`) and processes: none left in the harness's session.
#   - TCP counters of this namespace (/proc/net/snmp Tcp: ActiveOpens, PassiveOpens, OutRsts,
#     OutSegs). Honestly, counters cannot prove that no single segment leaked: the host's own traffic
#     moves them too, and this check must not fail because a package manager opened a connection.
#     What they can prove is that the catalogue did not run here instead of in its sandboxes. So the
#     catalogue's own volume is counted from its pcaps (the stack's segments, RSTs, SYNs and SYN-ACKs)
#     and each host counter must have moved by less than half of that. On a quiet host the deltas are
#     0; the figures are printed either way.
# usage: check_isolation.sh HARNESS [CASES_DIR]   (CASES_DIR default: the repository's cases/)
set -euo pipefail
harness=$1
cases=${2:-$(cd "$(dirname "$0")/.." && pwd)/cases}
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

sysctls() {
	find /proc/sys/net/ipv4 /proc/sys/net/core /proc/sys/net/ipv6 -type f -perm -0400 \
		! -name stable_secret ! -path /proc/sys/net/core/netdev_rss_key ! -path /proc/sys/net/ipv4/tcp_fastopen_key \
		-print0 | xargs -0 grep -H '' | sort
}
links() { ip -o link | awk '{ print $1, $2, $3 }'; }
tcp_counters() { awk '/^Tcp:/ { if (!h) { split($0, name); h = 1 } else for (i = 2; i <= NF; i++) print name[i], $i }' /proc/net/snmp; }

sysctls >"$scratch/sysctls.before"
links >"$scratch/links.before"
ip netns list >"$scratch/netns.before"
tcp_counters >"$scratch/tcp.before"
[ -s "$scratch/sysctls.before" ] || { echo "FAIL: no sysctl readable under /proc/sys/net"; exit 1; }

# Its own session, so every process it forked can be found afterwards by session id.
status=0
# setsid forks (and --wait waits) when it is a group leader; either way the shell it starts leads the
# session.
setsid --wait sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$scratch/session" \
	"$harness" run --captures "$scratch/captures" --capture-format pcap "$cases" >"$scratch/out" 2>&1 &
wait $! || status=$?
session=$(cat "$scratch/session")
tail -n 1 "$scratch/out"
[ "$status" -eq 0 ] || { cat "$scratch/out"; fail "the catalogue did not pass (exit $status)"; }
[ -z "$(pgrep -s "$session" || true)" ] || fail "processes left in the harness's session: $(pgrep -s "$session" | tr '\n' ' ')"

sysctls >"$scratch/sysctls.after"
links >"$scratch/links.after"
ip netns list >"$scratch/netns.after"
tcp_counters >"$scratch/tcp.after"

echo "$(wc -l <"$scratch/sysctls.before") sysctl values, $(wc -l <"$scratch/links.before") interfaces compared"
# A new interface brings a hundred conf/neigh entries of its own: the first lines say enough.
if ! diff -u --label before --label after "$scratch/sysctls.before" "$scratch/sysctls.after" >"$scratch/sysctls.diff"; then
	head -n 40 "$scratch/sysctls.diff"
	fail "sysctls changed ($(grep -c '^[-+]/' "$scratch/sysctls.diff") lines differ)"
fi
diff -u --label before --label after "$scratch/links.before" "$scratch/links.after" || fail "interfaces changed"
diff -u --label before --label after "$scratch/netns.before" "$scratch/netns.after" || fail "named namespaces changed"

# The catalogue's own volume, from its pcaps: frames from the stack under test (the case's `target`
# address, default 192.0.2.1, or its ipv6 family's), and of those the RSTs, SYNs and SYN-ACKs (the
# Tcp MIB counts both families).
python3 - "$scratch/captures" "$cases" >"$scratch/volume" <<'EOF'
import os, re, struct, sys
captures, cases = sys.argv[1], sys.argv[2]
# A pcap is named after its case's directory and base name (case_name.h): find that file.
case_files = {}
for directory, _, files in os.walk(cases):
    for name in files:
        if name.endswith(".tc"):
            case_files[os.path.join(os.path.basename(directory), name)] = os.path.join(directory, name)
totals = {"OutSegs": 0, "OutRsts": 0, "ActiveOpens": 0, "PassiveOpens": 0}
for directory, _, files in os.walk(captures):
    for name in files:
        if not name.endswith(".pcap"):
            continue
        # <theme>/<case>[@variant][/<family>][~N].pcap (case_name.h, then the run's name; ~N: a later
        # try of a retried run, never written over the first).
        run = re.sub(r"~[0-9]+$", "", os.path.relpath(os.path.join(directory, name), captures)[:-len(".pcap")])
        family = None
        if run.rsplit("/", 1)[-1] in ("ipv4", "ipv6", "mapped"):
            run, family = run.rsplit("/", 1)
        case = case_files[re.sub(r"@[^/]*$", "", run) + ".tc"]
        target = "192.0.2.1"
        with open(case) as f:
            for line in f:
                if line.split()[:1] == ["target"]:
                    target = line.split()[1]
        target = bytes(int(b) for b in target.split("."))
        # The ipv6 family's address for it: 2001:db8::a.b.c.d (README, "Address families").
        target6 = bytes.fromhex("20010db8") + bytes(8) + target
        with open(os.path.join(directory, name), "rb") as f:
            order = "<" if f.read(24)[:4] in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
            while len(record := f.read(16)) == 16:
                frame = f.read(struct.unpack(order + "IIII", record)[2])
                if len(frame) >= 74 and frame[12:14] == b"\x86\xdd" and frame[20] == 6 and frame[22:38] == target6:
                    flags = frame[54 + 13]
                elif len(frame) >= 34 and frame[12:14] == b"\x08\x00" and frame[26:30] == target:
                    flags = frame[14 + (frame[14] & 15) * 4 + 13]
                else:
                    continue
                totals["OutSegs"] += 1
                totals["OutRsts"] += bool(flags & 0x04)
                totals["ActiveOpens"] += flags & 0x12 == 0x02
                totals["PassiveOpens"] += flags & 0x12 == 0x12
for name, count in totals.items():
    print(name, count)
EOF
while read -r counter volume; do
	before=$(awk -v c="$counter" '$1 == c { print $2 }' "$scratch/tcp.before")
	after=$(awk -v c="$counter" '$1 == c { print $2 }' "$scratch/tcp.after")
	delta=$((after - before))
	echo "Tcp.$counter: moved by $delta here; the catalogue's own: $volume"
	[ "$volume" -eq 0 ] || [ $((2 * delta)) -lt "$volume" ] ||
		fail "Tcp.$counter moved by $delta here, at least half the catalogue's $volume"
done <"$scratch/volume"
[ "$(awk '$1 == "OutSegs" { print $2 }' "$scratch/volume")" -gt 0 ] ||
	fail "the pcaps show no segment from the stack at all: the volume count is broken"

echo "isolation checks: $failures failures"
[ "$failures" -eq 0 ]
