/* The TAP, JUnit and JSON writers, from hand-made results (no kernel): exact TAP text, escaping in
 * each format, what an interrupted run leaves out, and write errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report_json.h"
#include "report_junit.h"
#include "report_tap.h"

#include "fake_runs.h"

#define DIFF_MESSAGE                                                                                   \
	"cases/time_wait/lost_final_ack.tc:2:4: the stack's segment to c differs from the expected one\n" \
	"      2 | +0 c > S. 0:0(0) ack 1 <mss 1460>\n"                                                   \
	"\n"                                                                                            \
	"    expected: S. 0:0(0) ack 1 <mss 1460>\n"                                                      \
	"    observed: R 1:1(0) win 0 <>\n"

static char *lines[] = { "0 app listen 8080 # R&D \"quoted\" \x01 \xff", "+0 c > S. 0:0(0) ack 1 <mss 1460>" };
static struct step steps[2];

static struct case_file make_case(const char *path, int variants)
{
	struct case_file c = fake_case(path, lines, 2, steps, 2, variants);
	for (int i = 0; i < 2; i++) {
		steps[i].where.line = i + 1;
		steps[i].line_index = i;
	}
	snprintf(c.peers[0].name, CASE_NAME_MAX, "c");
	c.peer_count = 1;
	static const char *const names[] = { "tw-kept", "no-tw-bucket" };
	for (int v = 0; v < variants; v++)
		snprintf(c.variants[v].name, CASE_NAME_MAX, "%s", names[v]);
	return c;
}

static struct run_record make_record(const struct case_file *c, int variant, enum verdict verdict,
				     const char *message)
{
	struct run_record r = fake_record(c, variant, verdict);
	r.name = report_run_name(c, variant, -1);
	r.result.message = (char *)message;
	r.result.duration_ns = 12400000;
	return r;
}

static struct run_event make_event(enum run_event_kind kind, int step, int peer, const char *expected,
				   const char *observed, const char *outcome)
{
	struct run_event e = fake_event(kind, step, peer, false, expected, observed, outcome);
	e.at_ns = 1500;
	return e;
}

/* A passing case without variants, then a case whose first variant fails on its segment line and
 * whose second is skipped. */
struct fixture {
	struct case_file accept, lost_final_ack;
	struct run_event events[3];
	struct run_record runs[3];
	struct run_set set;
};

static void fixture_init(struct fixture *f)
{
	f->accept = make_case("cases/handshake/accept.tc", 0);
	f->lost_final_ack = make_case("cases/time_wait/lost_final_ack.tc", 2);
	f->runs[0] = make_record(&f->accept, -1, VERDICT_PASS, NULL);
	snprintf(f->runs[0].result.outcome, sizeof f->runs[0].result.outcome, "ACCEPT");
	f->runs[1] = make_record(&f->lost_final_ack, 0, VERDICT_FAIL, DIFF_MESSAGE);
	struct case_result *failed = &f->runs[1].result;
	failed->duration_ns = 221600000;
	failed->failed_step = 1;
	failed->pcap_path = "captures/x/time_wait/lost_final_ack@tw-kept.pcap";
	snprintf(failed->outcome, sizeof failed->outcome, "RST");
	f->events[0] = make_event(RUN_EVENT_APP, 0, -1, "success", "0", "OK");
	f->events[1] = make_event(RUN_EVENT_SEGMENT, 1, 0, "S. 0:0(0) ack 1 <mss 1460>", "R 1:1(0) win 0 <>", "RST");
	f->events[1].broke = true;
	f->events[2] = make_event(RUN_EVENT_SEGMENT, -1, -1, "", "R 1:1(0) win 0", "RST");
	f->events[2].broke = true;
	failed->events = f->events;
	failed->event_count = 3;
	f->runs[2] = make_record(&f->lost_final_ack, 1, VERDICT_SKIP,
				 "requires sysctl net.ipv4.tcp_tw_recycle, which the stack under test (local: Linux 6.18.44) does not have");
	for (int i = 0; i < 3; i++)
		f->runs[i].selection_index = 2 * i;
	static const char *const paths[] = { "cases/" };
	/* The second shard of two of a selection of six runs (tcpharness merge reads this back). */
	f->set = (struct run_set){ .runs = f->runs, .count = 3, .families = 1u << FAMILY_IPV4,
				   .selection = { paths, 1, NULL, 6, 0x0123456789abcdefULL, 2, 2 },
				   .wall_ns = 987654321 };
}

static void fixture_free(struct fixture *f)
{
	for (int i = 0; i < f->set.count; i++)
		free(f->runs[i].name);
}

static char *tap_text(const struct run_set *set)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	char *error = NULL;
	assert_int_equal(report_tap_write(out, set, &error), 0);
	assert_null(error);
	assert_int_equal(fclose(out), 0);
	return text;
}

/* Writes a report into a scratch directory and returns the file's text. */
static char *file_report(int (*write)(const char *, const struct run_set *, char **), const struct run_set *set)
{
	char dir[] = "/tmp/test_report_writers.XXXXXX";
	assert_non_null(mkdtemp(dir));
	char path[64];
	snprintf(path, sizeof path, "%s/report", dir);
	char *error = NULL;
	assert_int_equal(write(path, set, &error), 0);
	assert_null(error);
	FILE *in = fopen(path, "r");
	assert_non_null(in);
	char *text = NULL;
	size_t size = 0;
	assert_true(getdelim(&text, &size, '\0', in) > 0);
	fclose(in);
	unlink(path);
	rmdir(dir);
	return text;
}

static void test_tap(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	char *text = tap_text(&f.set);
	assert_string_equal(text, "TAP version 13\n"
				  "1..3\n"
				  "ok 1 - handshake/accept\n"
				  "not ok 2 - time_wait/lost_final_ack@tw-kept\n"
				  "  ---\n"
				  "  verdict: fail\n"
				  "  message: |\n"
				  "    cases/time_wait/lost_final_ack.tc:2:4: the stack's segment to c differs from the expected one\n"
				  "          2 | +0 c > S. 0:0(0) ack 1 <mss 1460>\n"
				  "    \n"
				  "        expected: S. 0:0(0) ack 1 <mss 1460>\n"
				  "        observed: R 1:1(0) win 0 <>\n"
				  "  outcome: \"RST\"\n"
				  "  pcap: \"captures/x/time_wait/lost_final_ack@tw-kept.pcap\"\n"
				  "  duration_ms: 222\n"
				  "  ...\n"
				  "ok 3 - time_wait/lost_final_ack@no-tw-bucket # SKIP requires sysctl "
				  "net.ipv4.tcp_tw_recycle, which the stack under test (local: Linux 6.18.44) does not have\n");
	free(text);
	fixture_free(&f);
}

/* `#` in a name would start a directive; a message the literal block cannot hold is double-quoted;
 * a SKIP reason keeps its first line only. */
static void test_tap_escapes(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	free(f.runs[0].name);
	f.runs[0].name = strdup("odd#name\\x");
	f.runs[1].result.message = "  indented \"first\" line\x01\nsecond";
	f.runs[1].result.outcome[0] = '\0';
	f.runs[1].result.pcap_path = NULL;
	f.runs[2].result.message = "first line\nsecond line";
	char *text = tap_text(&f.set);
	assert_string_equal(text, "TAP version 13\n"
				  "1..3\n"
				  "ok 1 - odd\\#name\\\\x\n"
				  "not ok 2 - time_wait/lost_final_ack@tw-kept\n"
				  "  ---\n"
				  "  verdict: fail\n"
				  "  message: \"  indented \\\"first\\\" line\\x01\\x0asecond\"\n"
				  "  outcome: ~\n"
				  "  pcap: ~\n"
				  "  duration_ms: 222\n"
				  "  ...\n"
				  "ok 3 - time_wait/lost_final_ack@no-tw-bucket # SKIP first line\n");
	free(text);
	fixture_free(&f);
}

/* Runs that never started are left out of the plan, and the stream bails out so that nothing
 * mistakes the missing runs for passes. */
static void test_tap_interrupted(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.runs[1].ran = false;
	f.runs[2].ran = false;
	char *text = tap_text(&f.set);
	assert_string_equal(text, "TAP version 13\n"
				  "1..1\n"
				  "ok 1 - handshake/accept\n"
				  "Bail out! interrupted: 2 of 3 runs never started\n");
	free(text);
	fixture_free(&f);
}

static void test_junit(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.runs[1].result.message = "line & <mss 1460> \"q\" 'a'\x01\xff\ttab\n"
				   "  second <nop> & more\r\n";
	char *xml = file_report(report_junit_write, &f.set);
	assert_non_null(strstr(xml, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
				    "<testsuites name=\"tcpharness\" tests=\"3\" failures=\"1\" errors=\"0\" "
				    "skipped=\"1\" time=\"0.246\">\n"
				    "  <testsuite name=\"handshake/accept\" tests=\"1\" failures=\"0\" errors=\"0\" "
				    "skipped=\"0\" time=\"0.012\">\n"));
	assert_non_null(strstr(xml, "<property name=\"file\" value=\"cases/handshake/accept.tc\"/>"));
	assert_non_null(strstr(xml, "<testcase classname=\"handshake\" name=\"handshake/accept\" "
				    "file=\"cases/handshake/accept.tc\" time=\"0.012\" status=\"pass\">\n"
				    "      <system-out>outcome: ACCEPT\n</system-out>\n"
				    "    </testcase>\n"));
	assert_non_null(strstr(xml, "<testsuite name=\"time_wait/lost_final_ack\" tests=\"2\" failures=\"1\" "
				    "errors=\"0\" skipped=\"1\" time=\"0.234\">"));
	/* The attribute holds the first line, every markup character and white space escaped; the text
	 * holds the whole message; a control byte and a byte that is not UTF-8 become U+FFFD. */
	assert_non_null(strstr(xml, "<testcase classname=\"time_wait\" name=\"time_wait/lost_final_ack@tw-kept\" "
				    "file=\"cases/time_wait/lost_final_ack.tc\" time=\"0.222\" status=\"fail\">\n"
				    "      <failure message=\"line &amp; &lt;mss 1460&gt; &quot;q&quot; &apos;a&apos;"
				    "\xef\xbf\xbd\xef\xbf\xbd&#9;tab\">"
				    "line &amp; &lt;mss 1460&gt; \"q\" 'a'\xef\xbf\xbd\xef\xbf\xbd\ttab\n"
				    "  second &lt;nop&gt; &amp; more&#13;\n"
				    "</failure>\n"
				    "      <system-out>outcome: RST\n"
				    "pcap: captures/x/time_wait/lost_final_ack@tw-kept.pcap\n"
				    "</system-out>\n"));
	assert_non_null(strstr(xml, "<skipped message=\"requires sysctl net.ipv4.tcp_tw_recycle, which the stack "
				    "under test (local: Linux 6.18.44) does not have\"/>\n"));
	assert_non_null(strstr(xml, "  </testsuite>\n</testsuites>\n"));
	free(xml);
	fixture_free(&f);
}

/* A case none of whose runs started has no testsuite: a suite with no tests would claim it ran. */
static void test_junit_interrupted(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.runs[1].ran = false;
	f.runs[2].ran = false;
	char *xml = file_report(report_junit_write, &f.set);
	assert_non_null(strstr(xml, "<testsuites name=\"tcpharness\" tests=\"1\" failures=\"0\""));
	assert_null(strstr(xml, "lost_final_ack"));
	free(xml);
	fixture_free(&f);
}

/* The stack under test is the target's, whatever kernel the harness runs on; started in UTC. */
static void test_json_kernel_and_start(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.set.kernel = "gvisor: runsc release-20240212.0";
	f.set.started = (struct timespec){ .tv_sec = 1796515200 + 3723, .tv_nsec = 999999999 };
	char *json = file_report(report_json_write, &f.set);
	assert_non_null(strstr(json, ",\n  \"kernel\": \"gvisor: runsc release-20240212.0\",\n"
				     "  \"started\": \"2026-12-06T01:02:03Z\",\n  \"written\": \""));
	free(json);
	fixture_free(&f);
}

static void test_json(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	f.runs[1].result.message = "a \"quoted\" \\ word\x01\x1f\x7f\ttab\nnext\r\xc3\xa9\xc3";
	char *json = file_report(report_json_write, &f.set);
	assert_non_null(strstr(json, "{\n  \"schema\": \"tcpharness-report/1\",\n  \"tcpharness_version\": \"" TCPHARNESS_VERSION
				     "\",\n  \"kernel\": null,\n  \"started\": null,\n  \"written\": \""));
	assert_non_null(strstr(json, "\"summary\": {\"passed\": 1, \"failed\": 1, \"skipped\": 1, \"flaky\": 0, \"errors\": 0, \"not_run\": 0},\n"));
	assert_non_null(strstr(json, "  \"selection\": {\"paths\": [\"cases/\"], \"variant\": null, \"families\": [\"ipv4\"], "
				     "\"runs\": 6, \"digest\": \"0123456789abcdef\"},\n"
				     "  \"shard\": {\"index\": 2, \"count\": 2},\n"
				     "  \"wall_ns\": 987654321,\n"));
	assert_non_null(strstr(json, "    {\n"
				     "      \"name\": \"handshake/accept\",\n"
				     "      \"index\": 0,\n"
				     "      \"expected_ns\": 60000000,\n"
				     "      \"target\": null,\n"
				     "      \"case\": \"handshake/accept\",\n"
				     "      \"file\": \"cases/handshake/accept.tc\",\n"
				     "      \"variant\": null,\n"
				     "      \"family\": \"ipv4\",\n"
				     "      \"verdict\": \"pass\",\n"
				     "      \"message\": null,\n"
				     "      \"outcome\": \"ACCEPT\",\n"
				     "      \"unchecked\": 0,\n"
				     "      \"unchecked_reason\": null,\n"
				     "      \"failed_step\": null,\n"
				     "      \"duration_ns\": 12400000,\n"
				     "      \"pcap\": null,\n"
				     "      \"tries\": [{\"verdict\": \"pass\", \"message\": null, \"duration_ns\": 12400000}],\n"
				     "      \"events\": []\n"
				     "    },\n"));
	assert_non_null(strstr(json, "      \"name\": \"time_wait/lost_final_ack@tw-kept\",\n"
				     "      \"index\": 2,\n"
				     "      \"expected_ns\": 60000000,\n"
				     "      \"target\": null,\n"
				     "      \"case\": \"time_wait/lost_final_ack\",\n"
				     "      \"file\": \"cases/time_wait/lost_final_ack.tc\",\n"
				     "      \"variant\": \"tw-kept\",\n"
				     "      \"family\": \"ipv4\",\n"
				     "      \"verdict\": \"fail\",\n"
				     "      \"message\": \"a \\\"quoted\\\" \\\\ word\\u0001\\u001f\\u007f\\ttab\\nnext\\r\xc3\xa9"
				     "\\ufffd\",\n"
				     "      \"outcome\": \"RST\",\n"
				     "      \"unchecked\": 0,\n"
				     "      \"unchecked_reason\": null,\n"
				     "      \"failed_step\": 2,\n"
				     "      \"duration_ns\": 221600000,\n"
				     "      \"pcap\": \"captures/x/time_wait/lost_final_ack@tw-kept.pcap\",\n"
				     "      \"tries\": [{\"verdict\": \"fail\", \"message\": \"a \\\"quoted\\\" \\\\ word\\u0001\\u001f\\u007f"
				     "\\ttab\\nnext\\r\xc3\xa9\\ufffd\", \"duration_ns\": 221600000}],\n"
				     "      \"events\": [\n"));
	/* Every event names its line and the line's text, which here holds a quote, a control byte and a
	 * byte that is not UTF-8 in its comment. */
	assert_non_null(strstr(json, "        {\"kind\": \"app\", \"at_ns\": 1500, \"line\": 1, \"source\": "
				     "\"0 app listen 8080 # R&D \\\"quoted\\\" \\u0001 \\ufffd\", \"peer\": null, "
				     "\"broke\": false, \"unchecked\": false, \"expected\": \"success\", \"observed\": \"0\", \"outcome\": \"OK\"},\n"
				     "        {\"kind\": \"segment\", \"at_ns\": 1500, \"line\": 2, \"source\": "
				     "\"+0 c > S. 0:0(0) ack 1 <mss 1460>\", \"peer\": \"c\", \"broke\": true, "
				     "\"unchecked\": false, \"expected\": \"S. 0:0(0) ack 1 <mss 1460>\", \"observed\": \"R 1:1(0) win 0 <>\", "
				     "\"outcome\": \"RST\"},\n"
				     "        {\"kind\": \"segment\", \"at_ns\": 1500, \"line\": null, \"source\": null, "
				     "\"peer\": null, \"broke\": true, \"unchecked\": false, \"expected\": null, "
				     "\"observed\": \"R 1:1(0) win 0\", "
				     "\"outcome\": \"RST\"}\n"
				     "      ]\n"
				     "    },\n"));
	assert_non_null(strstr(json, "      \"variant\": \"no-tw-bucket\",\n      \"family\": \"ipv4\",\n      \"verdict\": \"skip\",\n"));
	assert_non_null(strstr(json, "    }\n  ]\n}\n"));
	free(json);
	fixture_free(&f);
}

/* A pass whose stack could not show some lines' evidence (sock_diag, a counter) says so in every
 * format: TAP as a comment after the test point (and after a failure's YAML block), JUnit in
 * system-out, JSON in the run and in the event. */
static void mark_unchecked(struct fixture *f)
{
	f->runs[0].result.unchecked = 2;
	f->runs[0].result.unchecked_reason = "expect state: the stack's socket states cannot be read (EOPNOTSUPP)";
	f->runs[1].result.unchecked = 1;
	f->runs[1].result.unchecked_reason = "counter TcpExt.PAWSEstab: the stack has no such counter";
	f->events[0] = make_event(RUN_EVENT_COUNTER, 0, -1, "TcpExt.PAWSEstab +1", "unobservable", "UNSEEN");
	f->events[0].unchecked = true;
}

static void test_unchecked(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	mark_unchecked(&f);
	char *text = tap_text(&f.set);
	assert_non_null(strstr(text, "ok 1 - handshake/accept\n"
				     "# 2 unchecked: expect state: the stack's socket states cannot be read (EOPNOTSUPP)\n"
				     "not ok 2 - "));
	assert_non_null(strstr(text, "  duration_ms: 222\n"
				     "  ...\n"
				     "# 1 unchecked: counter TcpExt.PAWSEstab: the stack has no such counter\n"
				     "ok 3 - "));
	free(text);

	char *xml = file_report(report_junit_write, &f.set);
	assert_non_null(strstr(xml, "      <system-out>outcome: ACCEPT\n"
				    "unchecked: 2: expect state: the stack's socket states cannot be read (EOPNOTSUPP)\n"
				    "</system-out>\n"));
	free(xml);

	char *json = file_report(report_json_write, &f.set);
	assert_non_null(strstr(json, "      \"verdict\": \"pass\",\n"
				     "      \"message\": null,\n"
				     "      \"outcome\": \"ACCEPT\",\n"
				     "      \"unchecked\": 2,\n"
				     "      \"unchecked_reason\": \"expect state: the stack's socket states cannot be read "
				     "(EOPNOTSUPP)\",\n"));
	assert_non_null(strstr(json, "{\"kind\": \"counter\", \"at_ns\": 1500, \"line\": 1, \"source\": "
				     "\"0 app listen 8080 # R&D \\\"quoted\\\" \\u0001 \\ufffd\", \"peer\": null, "
				     "\"broke\": false, \"unchecked\": true, \"expected\": \"TcpExt.PAWSEstab +1\", "
				     "\"observed\": \"unobservable\", \"outcome\": \"UNSEEN\"}"));
	free(json);
	fixture_free(&f);
}

/* An ERROR is the harness's: `not ok` with a `# harness error` comment, JUnit <error> (never
 * <failure>), JSON "error". A pass after a try that did not is FLAKY, with every try, in all three. */
static void mark_error_and_flaky(struct fixture *f)
{
	f->runs[1].result.verdict = VERDICT_ERROR;
	f->runs[1].result.message = "t.tc:2:4: harness error: the injection left 80.0 ms late";
	f->runs[0].earlier[0] = (struct run_try){ VERDICT_ERROR, "t.tc:5:1: harness error: late\n  5 | x", 7000000 };
	f->runs[0].earlier_count = 1;
}

static void test_error_and_flaky(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	mark_error_and_flaky(&f);
	char *text = tap_text(&f.set);
	assert_non_null(strstr(text, "ok 1 - handshake/accept # flaky: passed on try 2\n"
				     "  ---\n"
				     "  verdict: flaky\n"
				     "  tries: |\n"
				     "    try 1: ERROR: t.tc:5:1: harness error: late\n"
				     "    try 2: PASS\n"));
	assert_non_null(strstr(text, "not ok 2 - time_wait/lost_final_ack@tw-kept # harness error\n"
				     "  ---\n"
				     "  verdict: error\n"
				     "  message: |\n"
				     "    t.tc:2:4: harness error: the injection left 80.0 ms late\n"));
	free(text);

	char *xml = file_report(report_junit_write, &f.set);
	assert_non_null(strstr(xml, "tests=\"3\" failures=\"0\" errors=\"1\" skipped=\"1\""));
	assert_non_null(strstr(xml, "time=\"0.222\" status=\"error\">\n"
				    "      <error message=\"t.tc:2:4: harness error: the injection left 80.0 ms late\">"));
	assert_null(strstr(xml, "<failure"));
	assert_non_null(strstr(xml, "status=\"flaky\">\n"
				    "      <system-out>flaky: passed after a try that did not\n"
				    "try 1: ERROR: t.tc:5:1: harness error: late\n"
				    "try 2: PASS\n"));
	free(xml);

	char *json = file_report(report_json_write, &f.set);
	assert_non_null(strstr(json, "\"summary\": {\"passed\": 0, \"failed\": 0, \"skipped\": 1, \"flaky\": 1, "
				     "\"errors\": 1, \"not_run\": 0},\n"));
	assert_non_null(strstr(json, "      \"verdict\": \"flaky\",\n"));
	assert_non_null(strstr(json, "      \"tries\": [{\"verdict\": \"error\", \"message\": \"t.tc:5:1: harness error: "
				     "late\\n  5 | x\", \"duration_ns\": 7000000}, {\"verdict\": \"pass\", \"message\": null, "
				     "\"duration_ns\": 12400000}],\n"));
	assert_non_null(strstr(json, "      \"verdict\": \"error\",\n"));
	free(json);
	fixture_free(&f);
}

static void test_json_interrupted(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	for (int i = 0; i < 3; i++)
		f.runs[i].ran = false;
	char *json = file_report(report_json_write, &f.set);
	assert_non_null(strstr(json, "\"summary\": {\"passed\": 0, \"failed\": 0, \"skipped\": 0, \"flaky\": 0, \"errors\": 0, \"not_run\": 3},\n"));
	assert_non_null(strstr(json, "  \"runs\": []\n}\n"));
	free(json);
	fixture_free(&f);
}

/* A report that cannot be written says which file and why: a missing directory, a full device. */
static void test_write_errors(void **state)
{
	(void)state;
	struct fixture f;
	fixture_init(&f);
	int (*const writers[])(const char *, const struct run_set *, char **) = { report_junit_write,
										 report_json_write };
	for (size_t i = 0; i < sizeof writers / sizeof writers[0]; i++) {
		char *error = NULL;
		assert_int_equal(writers[i]("/nonexistent-dir/report", &f.set, &error), -1);
		assert_string_equal(error, "/nonexistent-dir/report: No such file or directory");
		free(error);
		error = NULL;
		assert_int_equal(writers[i]("/dev/full", &f.set, &error), -1);
		assert_string_equal(error, "/dev/full: No space left on device");
		free(error);
	}
	FILE *full = fopen("/dev/full", "w");
	assert_non_null(full);
	char *error = NULL;
	assert_int_equal(report_tap_write(full, &f.set, &error), -1);
	assert_string_equal(error, "cannot write the TAP report: No space left on device");
	free(error);
	fclose(full);
	fixture_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tap),
		cmocka_unit_test(test_tap_escapes),
		cmocka_unit_test(test_tap_interrupted),
		cmocka_unit_test(test_junit),
		cmocka_unit_test(test_junit_interrupted),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_json_kernel_and_start),
		cmocka_unit_test(test_json_interrupted),
		cmocka_unit_test(test_unchecked),
		cmocka_unit_test(test_error_and_flaky),
		cmocka_unit_test(test_write_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
