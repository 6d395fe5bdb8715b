#!/usr/bin/env bash
# The TAP, JUnit and JSON reports as their consumers read them.
#   check_reports.sh usage HARNESS SOURCE_DIR   --report's usage errors: exit 2 before anything runs
#   check_reports.sh run HARNESS SOURCE_DIR     real runs (root): a pass, a wrong twin failing in both
#     variants and a SKIP go through all three reports at once; prove parses the TAP, xmllint validates
#     the JUnit against tests/reports/junit.xsd, python3 loads the JSON and checks its documented
#     fields (docs/report-json.md). Then: TAP on stdout keeps stdout pure TAP, a report that cannot be
#     written makes exit status 2 (1 when a case failed), and an interrupted run still gets its reports.
#     Last, a harness ERROR (the harness stopped past a line's window) and a FLAKY (the same, passed on
#     a retry) in all four reports, each apart from FAIL and PASS. The JSON names the stack under test
#     (gvisor and lwip too, when they are here) and when the runs started.
set -u
mode=$1 harness=$2 source_dir=$3
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cd "$scratch" || exit 1
failures=0
fail() {
	echo "FAIL: $*"
	failures=$((failures + 1))
}
accept=$source_dir/cases/handshake/accept.tc
wrong_twin=$source_dir/tests/wrong/time_wait/lost_final_ack.tc
skip=$source_dir/tests/reports/needs_tw_recycle.tc
late=$source_dir/tests/verdicts/late_injection.tc
. "$source_dir/tests/late_harness.sh"

# Exit status 2, the message on stderr, and no report or capture written.
expect_usage_error() {
	local message=$1
	shift
	"$harness" "$@" >out.txt 2>err.txt
	local status=$?
	[ "$status" -eq 2 ] || fail "'$*' exited $status, expected 2"
	grep -qF -- "$message" err.txt || fail "'$*' does not say '$message': $(cat err.txt)"
	[ -z "$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$')" ] || fail "'$*' wrote $(ls -A)"
}

check_usage() {
	"$harness" --help | grep -qF -- '--report FORMAT[=PATH]' || fail "--help does not show --report"
	expect_usage_error "unknown report format 'xml'" run --report xml=r.xml "$accept"
	expect_usage_error "--report junit needs a FILE" run "$accept" --report junit
	expect_usage_error "--report json needs a FILE" run --report json --variant x "$accept"
	expect_usage_error "--report html needs a DIR" run --report html= "$accept"
	expect_usage_error "two reports would go to r.out" run --report json=r.out --report junit r.out "$accept"
	expect_usage_error "two reports would go to standard output" run --report tap --report tap "$accept"
	expect_usage_error "--report is an option of run, matrix and merge" list --report json=r.json "$accept"
	expect_usage_error "give --report tap a FILE" matrix --report tap "$accept"
}

# TAP::Harness's verdict on a TAP file: prove runs `cat FILE` as the test and parses its output.
prove_tap() {
	prove --exec cat "$1" 2>&1
}

check_json() {
	python3 - "$@" <<'EOF'
import json, os, sys

path, expect = sys.argv[1], sys.argv[2]
with open(path, encoding="utf-8") as f:
    report = json.load(f)
problems = []
def check(condition, what):
    if not condition:
        problems.append(what)

check(report["schema"] == "tcpharness-report/1", "schema")
for key in ("tcpharness_version", "started", "written"):
    check(isinstance(report[key], str) and report[key], key)
check(report["started"] <= report["written"], f"started {report['started']} after written {report['written']}")
# The stack under test: the harness host's kernel on local, the stack's own name elsewhere; none
# for several targets, whose runs name theirs.
kernels = {"targets": None, "gvisor": "gvisor: runsc ", "lwip": "lwip: lwIP "}
kernel = kernels.get(expect, f"local: Linux {os.uname().release}")
check(report["kernel"] == kernel if expect not in ("gvisor", "lwip") else
      isinstance(report["kernel"], str) and report["kernel"].startswith(kernel) and report["kernel"] != kernel,
      f"kernel {report['kernel']!r}, expected {kernel!r}")
run_fields = {"name", "index", "expected_ns", "target", "case", "file", "variant", "family", "verdict", "message", "outcome", "unchecked",
              "unchecked_reason", "failed_step", "duration_ns", "pcap", "tries", "events"}
# matrix --targets: every target's runs of the one selection, one target after the other.
targets = {run["target"] for run in report["runs"]}
check(set(report["selection"]) == {"paths", "variant", "families", "runs", "digest"} and
      report["selection"]["runs"] * len(targets) >= len(report["runs"]) and len(report["selection"]["digest"]) == 16,
      f"selection {report['selection']}")
check(report["shard"] == {"index": 1, "count": 1}, f"shard {report['shard']}")
check(isinstance(report["wall_ns"], int) and report["wall_ns"] >= sum(r["duration_ns"] for r in report["runs"]) / 64,
      "wall_ns")
for target in targets:
    indices = [r["index"] for r in report["runs"] if r["target"] == target]
    check(indices == sorted(indices), f"run indices of {target} in order")
check(set(report["summary"]) == {"passed", "failed", "skipped", "flaky", "errors", "not_run"},
      f"summary fields {sorted(report['summary'])}")
event_fields = {"kind", "at_ns", "line", "source", "peer", "broke", "unchecked", "expected", "observed",
                "outcome"}
kinds = {"injected", "segment", "silence", "app", "state", "counter", "teardown"}
for run in report["runs"]:
    check(set(run) == run_fields, f"{run.get('name')}: fields {sorted(set(run) ^ run_fields)}")
    check(run["verdict"] in ("pass", "fail", "skip", "error", "flaky"), f"{run['name']}: verdict {run['verdict']}")
    tries = run["tries"]
    check(len(tries) >= 1 and all(set(t) == {"verdict", "message", "duration_ns"} for t in tries) and
          all(t["verdict"] in ("pass", "fail", "skip", "error") for t in tries), f"{run['name']}: tries {tries}")
    last = tries[-1]["verdict"]
    check(run["verdict"] == ("flaky" if last == "pass" and len(tries) > 1 else last) and
          tries[-1]["message"] == run["message"], f"{run['name']}: the last try is not the run's verdict")
    check(isinstance(run["duration_ns"], int) and run["duration_ns"] > 0, f"{run['name']}: duration_ns")
    base = run["case"] + ("@" + run["variant"] if run["variant"] else "")
    check(run["name"] in (base, base + "/" + run["family"]), f"{run['name']}: name")
    check(run["family"] in ("ipv4", "ipv6", "mapped"), f"{run['name']}: family")
    check(run["unchecked"] == sum(e["unchecked"] for e in run["events"]) and
          (run["unchecked_reason"] is None) == (run["unchecked"] == 0), f"{run['name']}: unchecked")
    for event in run["events"]:
        check(set(event) == event_fields, f"{run['name']}: event fields {sorted(set(event) ^ event_fields)}")
        check(event["kind"] in kinds, f"{run['name']}: event kind {event['kind']}")
        check((event["line"] is None) == (event["source"] is None), f"{run['name']}: line without source")
    # The teardown's segments come after every line's events, belong to no line and are never judged.
    teardown = [i for i, e in enumerate(run["events"]) if e["kind"] == "teardown"]
    check(teardown == list(range(len(run["events"]) - len(teardown), len(run["events"]))) and
          all(run["events"][i]["line"] is None and not run["events"][i]["broke"] for i in teardown),
          f"{run['name']}: teardown events {teardown}")
    if run["verdict"] == "skip":
        check(run["events"] == [] and run["message"].startswith("requires sysctl"), f"{run['name']}: skip")
    else:
        check(len(run["events"]) > 0, f"{run['name']}: no events")
        check(run["pcap"] and run["pcap"].endswith(".pcapng"), f"{run['name']}: pcap")
    if run["verdict"] in ("fail", "error"):
        check(run["message"] and (run["failed_step"] is None or
                                  f":{run['failed_step']}:" in run["message"].splitlines()[0]),
              f"{run['name']}: message and failed_step")

# Others' work on the machine may turn a pass into a FLAKY (a retried harness ERROR): a pass all the same.
verdicts = {run["name"]: "pass" if run["verdict"] == "flaky" else run["verdict"] for run in report["runs"]}
summary = report["summary"]
if expect == "all":
    check((summary["passed"] + summary["flaky"], summary["failed"], summary["skipped"], summary["errors"],
           summary["not_run"]) == (1, 2, 1, 0, 0), f"summary {summary}")
    check(verdicts == {"handshake/accept": "pass", "time_wait/lost_final_ack@tw-kept": "fail",
                       "time_wait/lost_final_ack@no-tw-bucket": "fail", "reports/needs_tw_recycle": "skip"},
          f"verdicts {verdicts}")
    # handshake/accept leaves its connection open: the teardown closes it and the stack sends its FIN.
    accept = [r for r in report["runs"] if r["name"] == "handshake/accept"]
    closing = [e["observed"].split(" ")[0] for e in accept[0]["events"] if e["kind"] == "teardown"] if accept else []
    check(closing == ["F."], f"handshake/accept: the teardown's segments {closing}, expected the stack's FIN")
    # The broken expectation of each failing variant, as tests/wrong/time_wait/lost_final_ack.tc's
    # header announces it.
    broke = {run["variant"]: [e for e in run["events"] if e["broke"]] for run in report["runs"]
             if run["verdict"] == "fail"}
    for variant, expected, observed in (("tw-kept", "R 2:2(0) win 0", ". 2:2(0) ack 2 win"),
                                        ("no-tw-bucket", ". 2:2(0) ack 2 <nop,nop,TS val * ecr 102>",
                                         "R 2:2(0) win 0 <>")):
        events = broke.get(variant, [])
        check(len(events) == 1 and events[0]["kind"] == "segment" and events[0]["peer"] == "c" and
              events[0]["expected"] == expected and events[0]["observed"].startswith(observed) and
              events[0]["source"].startswith(f"[{variant}]"),
              f"{variant}: the broken event {events}")
elif expect == "targets":
    # matrix --targets local,gvisor: every run twice, labelled with its target, one target after the other.
    targets = [run["target"] for run in report["runs"]]
    check(len(set(targets)) == 2 and all(targets), f"targets {set(targets)}")
    check(targets[0].startswith("local: ") and targets[-1].startswith("gvisor: "), f"target order {targets}")
    names = [run["name"] for run in report["runs"]]
    check(names[: len(names) // 2] == names[len(names) // 2 :], f"each target runs every case: {names}")
elif expect == "error":
    check(verdicts == {"verdicts/late_injection": "error", "handshake/accept": "pass"}, f"verdicts {verdicts}")
    run = report["runs"][0]
    check(summary["errors"] == 1 and summary["failed"] == 0, f"summary {summary}")
    check("harness error: the injection left" in run["message"] and run["failed_step"] == 7 and
          len(run["tries"]) == 1, f"the error run {run}")
elif expect == "flaky":
    run = report["runs"][0]
    check(run["verdict"] == "flaky" and summary["flaky"] >= 1, f"verdict {run['verdict']}, summary {summary}")
    # The stopped try, then as many as a busy machine needed (each retry an ERROR too, or the pass).
    verdicts = [t["verdict"] for t in run["tries"]]
    check(verdicts[0] == "error" and verdicts[-1] == "pass" and set(verdicts) == {"error", "pass"} and
          "harness error: the injection left" in run["tries"][0]["message"] and run["message"] is None,
          f"the flaky run's tries {run['tries']}")
elif expect in ("gvisor", "lwip"):
    check(verdicts == {"handshake/accept": "pass"}, f"verdicts {verdicts}")
elif expect == "families":
    check(verdicts == {f"handshake/accept/{f}": "pass" for f in ("ipv4", "ipv6", "mapped")}, f"verdicts {verdicts}")
    check([run["family"] for run in report["runs"]] == ["ipv4", "ipv6", "mapped"], "families in order")
elif expect == "interrupted":
    # The verdict of the case the signal cut short is run_case's to decide, not the report's.
    check(report["summary"]["not_run"] == 1, f"summary {report['summary']}")
    check([run["name"] for run in report["runs"]] == ["long/idle_connection"], f"runs {list(verdicts)}")
for problem in problems:
    print(f"FAIL: JSON report: {problem}")
sys.exit(1 if problems else 0)
EOF
}

check_junit_content() {
	python3 - "$1" <<'EOF'
import sys
import xml.etree.ElementTree as ET

root = ET.parse(sys.argv[1]).getroot()
cases = {c.get("name"): c for c in root.iter("testcase")}
problems = []
if (root.get("tests"), root.get("failures"), root.get("skipped")) != ("4", "2", "1"):
    problems.append(f"testsuites counts {root.attrib}")
if [s.get("name") for s in root] != ["handshake/accept", "time_wait/lost_final_ack", "reports/needs_tw_recycle"]:
    problems.append(f"testsuites {[s.get('name') for s in root]}")
failure = cases["time_wait/lost_final_ack@no-tw-bucket"].find("failure")
if failure is None or "observed: R 2:2(0) win 0 <>" not in failure.text or "\n" in failure.get("message"):
    problems.append("the no-tw-bucket failure")
if cases["time_wait/lost_final_ack@tw-kept"].get("classname") != "time_wait":
    problems.append("classname")
if cases["reports/needs_tw_recycle"].find("skipped") is None:
    problems.append("the skip")
if ".pcapng" not in cases["handshake/accept"].find("system-out").text:
    problems.append("the pcap path")
for problem in problems:
    print(f"FAIL: JUnit report: {problem}")
sys.exit(1 if problems else 0)
EOF
}

check_run() {
	# Every family by default: each report names the run's family.
	"$harness" run --captures captures --report tap=families.tap --report junit families.xml \
		--report json=families.json "$accept" >/dev/null 2>&1 || fail "handshake/accept failed in some family"
	check_json families.json families || failures=$((failures + 1))
	for family in ipv4 ipv6 mapped; do
		grep -q "^ok [0-9]* - handshake/accept/$family\$" families.tap || fail "the TAP report lacks handshake/accept/$family"
		grep -qF "name=\"handshake/accept/$family\"" families.xml || fail "the JUnit report lacks handshake/accept/$family"
	done
	xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" families.xml || fail "the families' JUnit report is not valid"

	# One family from here on: the names as they were before families.
	"$harness" run --family 4 --captures captures --report tap=report.tap --report junit report.xml \
		--report json=report.json "$accept" "$wrong_twin" "$skip" >console.txt 2>&1
	local status=$?
	cat console.txt
	[ "$status" -eq 1 ] || fail "exit status $status, expected 1 (the wrong twin fails)"

	local proved
	proved=$(prove_tap report.tap)
	echo "$proved"
	grep -q 'Tests: 4 Failed: 2)' <<<"$proved" || fail "prove does not count 4 tests, 2 failed"
	grep -q 'Failed tests:  2-3' <<<"$proved" || fail "prove does not name tests 2-3 as failed"
	grep -q '1 skipped subtest' <<<"$proved" || fail "prove does not count 1 skip"
	grep -qi 'parse error' <<<"$proved" && fail "prove found TAP parse errors"

	xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" report.xml || fail "the JUnit report is not valid"
	check_junit_content report.xml || failures=$((failures + 1))
	check_json report.json all || failures=$((failures + 1))

	# Several targets make one report, each run labelled with its target (gVisor: when runsc is here).
	if command -v runsc >/dev/null; then
		"$harness" matrix --family 4 --targets local,gvisor --captures captures --report json=targets.json \
			--report junit=targets.xml --report html=targets-html "$accept" >targets.txt 2>&1 ||
			fail "matrix --targets local,gvisor with reports: exit $?"
		check_json targets.json targets || failures=$((failures + 1))
		xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" targets.xml || fail "several targets: invalid JUnit"
		[ "$(grep -c '<testsuite name="\(local\|gvisor\): ' targets.xml)" -eq 2 ] ||
			fail "several targets: a JUnit suite per target and case"
		[ "$(grep -c '<span class="target">' targets-html/index.html)" -eq 2 ] ||
			fail "several targets: the HTML does not label each run with its target"
	fi

	# A target other than local: the report names its stack, not the harness host's kernel.
	local stack
	for stack in gvisor lwip; do
		[ "$stack" = gvisor ] && ! command -v runsc >/dev/null && continue
		[ "$stack" = lwip ] && [ ! -x "$(dirname "$harness")/tcpharness-agent-lwip" ] && continue
		"$harness" run --family 4 --target "$stack" --captures captures --report json="$stack.json" "$accept" \
			>"$stack.txt" 2>&1 || fail "handshake/accept on $stack with a JSON report: exit $?: $(cat "$stack.txt")"
		check_json "$stack.json" "$stack" || failures=$((failures + 1))
	done

	# TAP on stdout: stdout is TAP alone, the console goes to stderr.
	"$harness" run --family 4 --captures captures --report tap "$skip" >stdout.tap 2>stderr.txt
	status=$?
	[ "$status" -eq 4 ] || fail "a SKIP alone with --report tap exited $status, expected 4 (nothing ran)"
	[ "$(head -n 1 stdout.tap)" = "TAP version 13" ] || fail "stdout does not start with the TAP header"
	grep -q '^SKIP ' stdout.tap && fail "the console report went to stdout with TAP"
	grep -q '^SKIP reports/needs_tw_recycle' stderr.txt || fail "the console report is not on stderr"
	proved=$(prove_tap stdout.tap) || fail "prove rejects the TAP on stdout: $proved"

	# A report that cannot be written: 2 when nothing failed, 1 (the failure) when a case failed.
	"$harness" run --captures captures --report json=missing/report.json "$skip" >/dev/null 2>err.txt
	status=$?
	[ "$status" -eq 2 ] || fail "an unwritable report after a SKIP: exit $status, expected 2"
	grep -qF 'tcpharness: json report not written: missing/report.json: No such file or directory' err.txt ||
		fail "no message for the unwritable report: $(cat err.txt)"
	"$harness" run --captures captures --variant no-tw-bucket --report junit=missing/report.xml "$wrong_twin" \
		>/dev/null 2>&1
	status=$?
	[ "$status" -eq 1 ] || fail "an unwritable report after a failure: exit $status, expected 1"

	# Interrupted: the reports hold the case running when SIGINT came, not the one after it (-j 1, so
	# the second has not started).
	"$harness" run -j 1 --family 4 --captures captures --report tap=int.tap --report junit=int.xml --report json=int.json \
		"$source_dir/tests/long/idle_connection.tc" "$skip" >int.txt 2>&1 &
	local pid=$!
	for _ in $(seq 100); do # wait until the case is running: its agent child exists
		[ -n "$(pgrep -P "$pid")" ] && break
		sleep 0.02
	done
	sleep 0.3
	kill -INT "$pid"
	wait "$pid"
	status=$?
	[ "$status" -eq 130 ] || fail "interrupted: exit $status, expected 130"
	grep -qx 'Bail out! interrupted: 1 of 2 runs never started' int.tap || fail "interrupted: the TAP does not bail out"
	grep -qx '1\.\.1' int.tap || fail "interrupted: the TAP plan is not 1..1"
	prove_tap int.tap >/dev/null && fail "prove passes an interrupted run"
	xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" int.xml || fail "interrupted: invalid JUnit"
	check_json int.json interrupted || failures=$((failures + 1))

	check_error_and_flaky
}

# An ERROR is `not ok ... # harness error` (prove counts it failed), JUnit <error> (never <failure>),
# JSON "error"; a FLAKY is `ok ... # flaky` with its tries in YAML, JUnit status="flaky" with its
# tries, JSON "flaky" with both tries. The HTML of both is tests/check_html.sh's.
check_error_and_flaky() {
	run_stopped "$harness" run --family 4 -j 1 --retries 0 --captures captures --report tap=err.tap --report junit=err.xml \
		--report json=err.json "$late" "$accept" >err.txt 2>&1
	local status=$?
	cat err.txt
	[ "$status" -eq 3 ] || fail "a harness error: exit $status, expected 3"
	grep -q '^not ok 1 - verdicts/late_injection # harness error$' err.tap || fail "TAP: no 'not ok ... # harness error'"
	grep -q '^  verdict: error$' err.tap || fail "TAP: the YAML block does not say error"
	local proved
	proved=$(prove_tap err.tap)
	grep -q 'Failed 1/2 subtests' <<<"$proved" || fail "prove does not count the error as failed: $proved"
	grep -qi 'parse error' <<<"$proved" && fail "prove found TAP parse errors in the error run"
	xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" err.xml || fail "the error run's JUnit is not valid"
	python3 - err.xml <<'PYEOF' || failures=$((failures + 1))
import sys
import xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
case = {c.get("name"): c for c in root.iter("testcase")}["verdicts/late_injection"]
error = case.find("error")
ok = (root.get("errors"), root.get("failures")) == ("1", "0") and error is not None and \
    case.find("failure") is None and "harness error: the injection left" in error.get("message") and \
    case.get("status") == "error"
print("" if ok else f"FAIL: JUnit: the error run {root.attrib} {ET.tostring(case)[:300]}")
sys.exit(0 if ok else 1)
PYEOF
	check_json err.json error || failures=$((failures + 1))

	run_stopped "$harness" run --family 4 --captures captures --report tap=flaky.tap --report junit=flaky.xml \
		--report json=flaky.json "$late" >flaky.txt 2>&1
	status=$?
	cat flaky.txt
	[ "$status" -eq 0 ] || fail "a flaky run: exit $status, expected 0"
	grep -q '^ok 1 - verdicts/late_injection # flaky: passed on try [23]$' flaky.tap || fail "TAP: no 'ok ... # flaky'"
	grep -qF '    try 1: ERROR: ' flaky.tap && grep -q '    try [23]: PASS' flaky.tap || fail "TAP: the tries are missing"
	proved=$(prove_tap flaky.tap)
	grep -q '^Result: PASS' <<<"$proved" || fail "prove does not pass the flaky run: $proved"
	xmllint --noout --schema "$source_dir/tests/reports/junit.xsd" flaky.xml || fail "the flaky run's JUnit is not valid"
	grep -qF 'status="flaky"' flaky.xml && grep -qF 'try 1: ERROR: ' flaky.xml || fail "JUnit: no flaky status or tries"
	check_json flaky.json flaky || failures=$((failures + 1))
}

case $mode in
usage) check_usage ;;
run) check_run ;;
*) fail "unknown mode '$mode' (usage or run)" ;;
esac
echo "report checks ($mode): $failures failures"
[ "$failures" -eq 0 ]
