#!/usr/bin/env bash
# Issue 22: the catalogue cut into 4 shards, each run by a process of its own, and put back together by
# `tcpharness merge`, tells what one unsharded run tells: the same verdicts, matrix and counts. The
# split covers every run once, is the same whatever order the files were written in, and balances the
# shards' expected durations within 25% (wall time is measured in scripts/bench.sh, not here); merge
# refuses a missing or a doubled shard with a message naming it (exit 2). A pass on a retry (FLAKY,
# `~` in a cell) is a pass for this comparison, as in check_parallel.sh.
set -u
harness=$1 cases=$2 captures=$3
work=$(mktemp -d /tmp/tcpharness-s22-shard.XXXXXX)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

# The split: every run of `list` in exactly one shard, the same for a copy of the catalogue whose
# directories were created in reverse order.
"$harness" list "$cases" | sort >"$work/all.list"
for k in 1 2 3 4; do "$harness" list --shard "$k/4" "$cases" >"$work/shard$k.list"; done
sort "$work"/shard?.list | diff -u "$work/all.list" - || fail "the 4 shards do not list every run exactly once"
mkdir "$work/copy"
for dir in $(cd "$cases" && find . -type d | sort -r); do mkdir -p "$work/copy/cases/$dir"; done
for file in $(cd "$cases" && find . -type f | sort -r); do cp "$cases/$file" "$work/copy/cases/$file"; done
for k in 1 2 3 4; do
	(cd "$work/copy" && "$harness" list --shard "$k/4" cases) | diff -u "$work/shard$k.list" - ||
		fail "shard $k/4 of a copy written in another order differs"
done

# One unsharded run, and the 4 shards one after the other, each a process of its own.
"$harness" matrix --markdown --retries 5 --captures "$captures/all" --report json="$work/all.json" "$cases" \
	>"$work/all.table" 2>"$work/all.console"
status=$?
[ "$status" -eq 0 ] || { fail "the unsharded matrix exited $status"; tail -20 "$work/all.console"; }
for k in 1 2 3 4; do
	"$harness" run --shard "$k/4" --retries 5 --captures "$captures/shard$k" --report json="$work/shard$k.json" \
		"$cases" >"$work/shard$k.console" 2>&1
	status=$?
	[ "$status" -eq 0 ] || { fail "shard $k/4 exited $status"; tail -20 "$work/shard$k.console"; }
done
mkdir "$work/merged"
"$harness" merge --markdown --report json="$work/merged/merged.json" --report junit="$work/merged.xml" \
	--report tap="$work/merged.tap" --report html="$work/html" "$work"/shard{1,2,3,4}.json \
	>"$work/merged.table" 2>"$work/merged.console"
status=$?
[ "$status" -eq 0 ] || { fail "merge exited $status"; tail -20 "$work/merged.console"; }
for table in all merged; do sed -e 's/~ |/ |/g' -e '/^`~`: /d' -e '/^$/d' "$work/$table.table" >"$work/$table.cells"; done
diff -u "$work/all.cells" "$work/merged.cells" || fail "the merged matrix differs from the unsharded one"
[ -s "$work/all.cells" ] || fail "no matrix"

python3 - "$work" <<'PY' || failures=$((failures + 1))
import json, sys
work = sys.argv[1]
def load(name):
    with open(f"{work}/{name}.json") as f:
        return json.load(f)
def verdicts(report):
    return {r["name"]: "pass" if r["verdict"] == "flaky" else r["verdict"] for r in report["runs"]}
def counts(report):
    s = dict(report["summary"])
    s["passed"] += s.pop("flaky")
    return s
whole, merged = load("all"), load("merged/merged")
shards = [load(f"shard{k}") for k in range(1, 5)]
ok = True
def check(condition, message):
    global ok
    if not condition:
        print("FAIL:", message)
        ok = False
check(verdicts(whole) == verdicts(merged), "the merged verdicts differ from the unsharded run's")
check([r["name"] for r in whole["runs"]] == [r["name"] for r in merged["runs"]], "the merged runs are in another order")
check(counts(whole) == counts(merged), f"counts differ: {counts(whole)} unsharded, {counts(merged)} merged")
# The merged report lives in a directory of its own: its pcap paths must still lead to the shards' captures.
import os
pcaps = [r["pcap"] for r in merged["runs"] if r.get("pcap")]
check(pcaps, "the merged report names no capture")
missing = [p for p in pcaps if not os.path.isfile(os.path.join(work, "merged", p))]
check(not missing, f"{len(missing)} of {len(pcaps)} capture paths of the merged report lead nowhere, e.g. {missing[:1]}")
check(merged["selection"] == whole["selection"], "the merged report names another selection")
check(merged["shard"] == {"index": 1, "count": 1}, "the merged report is not the whole selection")
check(sorted(s["shard"]["index"] for s in shards) == [1, 2, 3, 4], "the shards are not 1..4")
expected = [sum(r["expected_ns"] for r in s["runs"]) for s in shards]
wall = [s["wall_ns"] for s in shards]
check(max(expected) < 1.25 * min(expected), f"expected durations of the shards not within 25%: {expected}")
print("shard expected s:", " ".join(f"{e / 1e9:.2f}" for e in expected),
      "| wall s:", " ".join(f"{w / 1e9:.2f}" for w in wall), f"| unsharded wall s: {whole['wall_ns'] / 1e9:.2f}")
sys.exit(0 if ok else 1)
PY
runs=$(grep -c '^ok \|^not ok ' "$work/merged.tap")
[ "$runs" -eq "$(wc -l <"$work/all.list")" ] || fail "the merged TAP has $runs tests, not $(wc -l <"$work/all.list")"
xmllint --noout "$work/merged.xml" || fail "the merged JUnit does not parse"
[ -s "$work/html/index.html" ] || fail "no merged HTML"

# A missing shard, a doubled one: exit 2 and a message that names it.
"$harness" merge "$work"/shard{1,2,4}.json >/dev/null 2>"$work/missing"
status=$?
[ "$status" -eq 2 ] && grep -q 'merge: shard 3/4 missing: no report given for it' "$work/missing" ||
	{ fail "merge without shard 3 exited $status: $(cat "$work/missing")"; }
"$harness" merge "$work"/shard{1,2,3,4,2}.json >/dev/null 2>"$work/doubled"
status=$?
[ "$status" -eq 2 ] && grep -q "merge: shard 2/4 given twice: $work/shard2.json and $work/shard2.json" "$work/doubled" ||
	{ fail "merge with shard 2 twice exited $status: $(cat "$work/doubled")"; }
"$harness" merge "$work"/shard{1,2,3,4}.json "$work/all.json" >/dev/null 2>"$work/other"
status=$?
[ "$status" -eq 2 ] && grep -q "is shard 1/4 of selection .* shard 1/1 of selection" "$work/other" ||
	{ fail "merge with an unsharded report exited $status: $(cat "$work/other")"; }
echo "shard checks: $(wc -l <"$work/all.list") runs in 4 shards, $failures failures"
[ "$failures" -eq 0 ]
