#!/usr/bin/env bash
# The HTML report of real runs, as a browser sees it: a passing case, a wrong twin that fails in both
# variants, and a case with silences and states go through `--report html=DIR`; headless Chromium,
# shut in an empty network namespace so the page could fetch nothing even if it tried, renders it and
# dumps its DOM; tests/check_html_dom.py holds the DOM against the console and every run's pcap, and
# requires the teardown's FIN of the connection handshake/accept leaves open, drawn as teardown. Then
# the same for a harness ERROR and a FLAKY run (the harness stopped past a line's window).
# Exit 77 (skipped) until the harness has --report, or without the root needed for namespaces.
set -u
harness=$1 source_dir=$2
if ! "$harness" --help | grep -q -- '--report'; then
	echo "SKIP: $harness --help does not mention --report yet"
	exit 77
fi
if ! unshare --net true 2>/dev/null; then
	echo "SKIP: cannot create a network namespace (needs root)"
	exit 77
fi
for tool in chromium tshark python3; do
	command -v "$tool" >/dev/null || { echo "FAIL: $tool is missing; scripts/install-deps.sh --test installs it"; exit 1; }
done
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1

. "$source_dir/tests/late_harness.sh"

# Relative --captures and report directories: the capture links must be relative to the report.
"$harness" run --captures captures --report html=out/report --report json=out/report.json "$source_dir/cases/handshake/accept.tc" \
	"$source_dir/tests/wrong/time_wait/lost_final_ack.tc" "$source_dir/cases/time_wait/rst_assassination.tc" \
	>console.txt 2>&1
status=$?
cat console.txt
[ "$status" -eq 1 ] || { echo "FAIL: exit status $status, expected 1 (the wrong twin fails)"; exit 1; }
[ -s out/report/index.html ] || { echo "FAIL: no out/report/index.html"; exit 1; }

browse() {
	unshare --net timeout 120 chromium --headless --no-sandbox --disable-gpu --user-data-dir="$scratch/profile" \
		--no-first-run --disable-background-networking --disable-component-update --disable-sync \
		"$@" 2>>chromium.log
}
# check_report DIR CONSOLE [TEARDOWN_RUNS]: renders DIR/index.html and holds its DOM against CONSOLE and
# the pcaps; the runs named by TEARDOWN_RUNS' prefixes must draw what their teardown made the stack send.
check_report() {
	browse --screenshot="$scratch/report.png" --window-size=1400,2400 "file://$scratch/$1/index.html" >/dev/null ||
		{ echo "FAIL: chromium could not take the screenshot:"; tail -5 chromium.log; return 1; }
	browse --dump-dom "file://$scratch/$1/index.html" >dom.html ||
		{ echo "FAIL: chromium could not dump the DOM:"; tail -5 chromium.log; return 1; }
	python3 "$source_dir/tests/check_html_dom.py" dom.html "$scratch/$1" "$2" report.png "${3:-}"
}
# handshake/accept leaves its accepted connection open: closing it at teardown makes the stack send its FIN.
check_report out/report console.txt handshake/accept || exit 1

# The report directory copied elsewhere, the captures it came from gone: every link still resolves
# (each capture was brought under it), and the JSON report's paths resolve from its own directory.
mkdir -p elsewhere
cp -r out/report elsewhere/report
mv captures captures.away
python3 - elsewhere/report/index.html out/report.json <<'PY' || { mv captures.away captures; exit 1; }
import json, os, re, sys, urllib.parse
page, report = sys.argv[1], sys.argv[2]
hrefs = re.findall(r'href="([^"]*)"', open(page, encoding="utf-8").read())
files = [h for h in hrefs if not h.startswith("#")]
broken = [h for h in files if h.startswith("/") or ":" in h.split("/")[0]
          or not os.path.isfile(os.path.join(os.path.dirname(page), urllib.parse.unquote(h)))]
print(f"moved report: {len(files)} file links, {len(broken)} broken")
runs = json.load(open(report, encoding="utf-8"))["runs"]
base = os.path.dirname(report)
# The captures are away: a pcap path must point into them, relative to the report's directory.
unresolved = [r["file"] for r in runs if not os.path.isfile(os.path.join(base, r["file"]))]
misplaced = [r["pcap"] for r in runs if r["pcap"] and (r["pcap"].startswith("/")
             or not os.path.isfile(os.path.join(base, r["pcap"]).replace("/captures/", "/captures.away/", 1)))]
for what, bad in (("broken links", broken), ("case files not found from the JSON report", unresolved),
                  ("pcaps not relative to the JSON report", misplaced)):
    if bad:
        print(f"FAIL: {what}: {bad}")
sys.exit(1 if broken or unresolved or misplaced or not files else 0)
PY
mv captures.away captures

# An ERROR (-j 1: the stopped case runs first) beside a pass, then a FLAKY.
run_stopped "$harness" run -j 1 --retries 0 --captures captures --report html=out/error \
	"$source_dir/tests/verdicts/late_injection.tc" "$source_dir/cases/handshake/accept.tc" >error.txt 2>&1
status=$?
cat error.txt
[ "$status" -eq 3 ] || { echo "FAIL: a harness error: exit status $status, expected 3"; exit 1; }
run_stopped "$harness" run --captures captures --report html=out/flaky "$source_dir/tests/verdicts/late_injection.tc" \
	>flaky.txt 2>&1
status=$?
cat flaky.txt
[ "$status" -eq 0 ] || { echo "FAIL: a flaky run: exit status $status, expected 0"; exit 1; }
grep -q '^FLAKY ' flaky.txt || { echo "FAIL: the stopped run with retries is not FLAKY"; exit 1; }
check_report out/error error.txt && check_report out/flaky flaky.txt
