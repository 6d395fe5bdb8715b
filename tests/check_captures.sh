#!/usr/bin/env bash
# Nothing is written outside --captures (issue 26): cases given as ../x.tc, ../../x.tc, an absolute
# path outside the working directory, through a symlinked directory, and two files of one base name in
# different trees all PASS with readable, distinct names; every pcap lands inside the captures
# directory, every report where it was asked to, and nothing else in the tree changes (listed before
# and after). A symlink planted at a capture's name is left alone (the capture takes the next free
# name); one planted as a directory of a capture's path is refused with the reason.
# usage: check_captures.sh HARNESS CASE   (CASE: a short case that passes here)
set -uo pipefail
harness=$1 case=$2
scratch=$(mktemp -d) log=$(mktemp)
trap 'rm -rf "$scratch" "$log"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

tree=$scratch/tree
mkdir -p "$tree/a/b" "$tree/real" "$tree/t1/time_wait" "$tree/t2/time_wait" "$scratch/elsewhere/deep" "$scratch/outside"
for file in "$tree/a/x.tc" "$tree/x.tc" "$scratch/elsewhere/deep/w.tc" "$tree/real/y.tc" \
	"$tree/t1/time_wait/z.tc" "$tree/t2/time_wait/z.tc"; do
	cp "$case" "$file"
done
ln -s ../../real "$tree/a/b/linked"
captures=$scratch/captures
mkdir -p "$captures/t1/time_wait"
ln -s "$scratch/outside/planted-target" "$captures/t1/time_wait/z.pcapng"

# Every file and directory outside the captures directory, with its size and modification time.
listing() { find "$scratch" -path "$captures" -prune -o -printf '%p %y %s %T@ %l\n' | sort; }
before=$(listing)

cd "$tree/a/b" || exit 1
"$harness" run --family 4 --captures "$captures" --report "junit=$captures/results.xml" --report "json=$captures/results.json" \
	--report "html=$captures/html" ../x.tc ../../x.tc "$scratch/elsewhere/deep/w.tc" linked/y.tc \
	../../t1/time_wait/z.tc ../../t2/time_wait/z.tc >"$log" 2>&1
status=$?
[ "$status" -eq 0 ] || fail "the run exited $status: $(cat "$log")"
for name in a/x tree/x deep/w real/y t1/time_wait/z t2/time_wait/z; do
	grep -qE "^PASS $name \([0-9]+ ms\)$" "$log" || fail "no 'PASS $name' line: $(cat "$log")"
done
grep -q '\.\./\|^PASS /' "$log" && fail "a name with .. or a leading /: $(cat "$log")"
# The pcaps, all inside, one per case; the planted symlink's target never created.
pcaps=$(cd "$captures" && find . -path ./html -prune -o -name '*.pcapng' -type f -print | sort | tr '\n' ' ')
want="./a/x.pcapng ./deep/w.pcapng ./real/y.pcapng ./t1/time_wait/z~2.pcapng ./t2/time_wait/z.pcapng ./tree/x.pcapng "
[ "$pcaps" = "$want" ] || fail "pcaps under --captures: '$pcaps', expected '$want'"
# The HTML report's directory holds its own links to them, under the path they share.
linked=$(cd "$captures/html/captures" && find . -name '*.pcapng' -type f -links 2 | sort | tr '\n' ' ')
[ "$linked" = "$want" ] || fail "captures linked under the HTML report: '$linked', expected '$want'"
[ ! -e "$scratch/outside/planted-target" ] || fail "the planted symlink was written through"
[ -L "$captures/t1/time_wait/z.pcapng" ] || fail "the planted symlink was removed or replaced"
for report in results.xml results.json html/index.html; do
	[ -f "$captures/$report" ] || fail "no report $report"
	# Case names only: a "file" field is the path as given, ../x.tc included.
	names_with_dots='(class)?name="(\.\.|/)|"(name|case)": "(\.\.|/)|<th>(\.\.|/)'
	grep -qE "$names_with_dots" "$captures/$report" && fail "$report: a case name with .. or a leading /: $(grep -m1 -E "$names_with_dots" "$captures/$report")"
done
grep -qF '"case": "t1/time_wait/z"' "$captures/results.json" && grep -qF '"case": "t2/time_wait/z"' "$captures/results.json" ||
	fail "results.json does not tell t1/time_wait/z and t2/time_wait/z apart"
after=$(listing)
[ "$before" = "$after" ] || fail "outside --captures, the tree changed: $(diff <(echo "$before") <(echo "$after"))"

# A directory of a capture's path planted as a symlink: the case is not run into it.
captures2=$scratch/captures2
mkdir -p "$captures2"
ln -s "$scratch/outside" "$captures2/a"
before=$(listing)
"$harness" run --family 4 --captures "$captures2" ../x.tc >"$log" 2>&1
status=$?
# Not the stack's doing: a harness ERROR (exit 3), never a FAIL.
[ "$status" -eq 3 ] || fail "a planted directory symlink: exit $status, expected 3: $(cat "$log")"
grep -qF "$captures2/a is a symlink or not a directory: nothing is written through it" "$log" ||
	fail "a planted directory symlink: the reason is missing: $(cat "$log")"
[ -z "$(ls -A "$scratch/outside")" ] || fail "written through the planted directory symlink: $(ls -A "$scratch/outside")"
after=$(listing)
[ "$before" = "$after" ] || fail "outside --captures, the tree changed: $(diff <(echo "$before") <(echo "$after"))"

[ "$failures" -eq 0 ] || exit 1
echo "captures: six case paths, one planted file symlink, one planted directory symlink; nothing outside --captures changed"
