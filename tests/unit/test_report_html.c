/* The HTML report from hand-made results (no kernel): escaping, the ladder's DOM contract (arrows,
 * columns, broken expectations), skipped runs, section anchors, pcap links and the report directory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_html.h"

#include "fake_runs.h"

static char *lines[] = {
	"peer a 192.0.2.10:40000",
	"peer b 192.0.2.10:40001",
	"0  app listen 8080",
	"+0 a < S 0:0(0) win 1000 <mss 1460,TS val 1 ecr 0>",
	"+0 a > S. 0:0(0) ack 1 <mss 1460,TS val * ecr 1>",
	"+0 b < S 0:0(0) win 1000",
	"+0 outcome b > S. 0:0(0) ack 1",
	"+0 expect state TIME_WAIT   # the comment is not shown",
	"+0 expect counter PAWSEstab +1",
	"+0 b > none within 100ms",
};

/* The steps of `lines`, each on the line after the two peers it names. */
static struct step steps[] = {
	{ .kind = STEP_APP, .where = { 3, 4 }, .line_index = 2, .peer = -1 },
	{ .kind = STEP_INJECT, .where = { 4, 4 }, .line_index = 3, .peer = 0 },
	{ .kind = STEP_EXPECT_SEGMENT, .where = { 5, 4 }, .line_index = 4, .peer = 0 },
	{ .kind = STEP_INJECT, .where = { 6, 4 }, .line_index = 5, .peer = 1 },
	{ .kind = STEP_EXPECT_SEGMENT, .where = { 7, 12 }, .line_index = 6, .peer = 1 },
	{ .kind = STEP_EXPECT_STATE, .where = { 8, 4 }, .line_index = 7, .peer = 0 },
	{ .kind = STEP_EXPECT_COUNTER, .where = { 9, 4 }, .line_index = 8, .peer = -1 },
	{ .kind = STEP_EXPECT_NONE, .where = { 10, 4 }, .line_index = 9, .peer = 1 },
};

static struct case_file make_case(const char *path, int variants)
{
	struct case_file c = fake_case(path, lines, (int)(sizeof lines / sizeof lines[0]), steps,
				       (int)(sizeof steps / sizeof steps[0]), variants);
	c.target_ip = 0xc0000201;
	c.peer_count = 2;
	for (int p = 0; p < 2; p++) {
		snprintf(c.peers[p].name, CASE_NAME_MAX, "%c", 'a' + p);
		c.peers[p].ip = 0xc000020a;
		c.peers[p].port = (uint16_t)(40000 + p);
	}
	for (int v = 0; v < variants; v++)
		snprintf(c.variants[v].name, CASE_NAME_MAX, "v%d", v);
	return c;
}

static struct run_event event(enum run_event_kind kind, int step, int peer, bool broke, const char *observed,
			      const char *expected)
{
	return fake_event(kind, step, peer, broke, expected, observed, "");
}

/* One event per step of `lines`, the stack's answer to b broken, and a segment to an undeclared address
 * that no line expected; a millisecond apart. */
static struct run_event events[9];

static void fill_events(void)
{
	events[0] = event(RUN_EVENT_APP, 0, -1, false, "0", "success");
	events[1] = event(RUN_EVENT_INJECTED, 1, 0, false, "S 0:0(0) win 1000 <mss 1460,TS val 1 ecr 0>", "");
	events[2] = event(RUN_EVENT_SEGMENT, 2, 0, false, "S. 0:0(0) ack 1 win 65160 <mss 1460,TS val 77 ecr 1>",
			  "S. 0:0(0) ack 1 <mss 1460,TS val * ecr 1>");
	events[3] = event(RUN_EVENT_INJECTED, 3, 1, false, "S 0:0(0) win 1000", "");
	events[4] = event(RUN_EVENT_SEGMENT, 4, 1, true, "R 0:0(0) ack 1 win 0", "S. 0:0(0) ack 1");
	events[5] = event(RUN_EVENT_STATE, 5, 0, false, "TIME_WAIT", "TIME_WAIT");
	events[6] = event(RUN_EVENT_COUNTER, 6, -1, false, "PAWSEstab +1", "PAWSEstab +1");
	events[7] = event(RUN_EVENT_SILENCE, 7, 1, false, "nothing", "none within 100 ms");
	events[8] = event(RUN_EVENT_SEGMENT, -1, -1, true, "R 192.0.2.1:8080 > 192.0.2.99:1", "");
	for (int i = 0; i < 9; i++)
		events[i].at_ns = 1000000LL * i;
}

static struct run_record make_record(const struct case_file *c, int variant, enum verdict verdict)
{
	struct run_record r = fake_record(c, variant, verdict);
	r.name = report_run_name(c, variant, -1);
	assert_non_null(r.name);
	return r;
}

static char *read_whole(const char *path)
{
	FILE *in = fopen(path, "r");
	assert_non_null(in);
	char *text = NULL;
	size_t len = 0;
	FILE *copy = open_memstream(&text, &len);
	assert_non_null(copy);
	int ch;
	while ((ch = fgetc(in)) != EOF)
		fputc(ch, copy);
	fclose(in);
	fclose(copy);
	return text;
}

static int count(const char *haystack, const char *needle)
{
	int n = 0;
	for (const char *p = strstr(haystack, needle); p; p = strstr(p + 1, needle))
		n++;
	return n;
}

/* The text of run `name`'s ladder, up to its </svg>; NULL when it has none. Malloc'd. */
static char *ladder_of(const char *html, const char *name)
{
	char opening[256];
	snprintf(opening, sizeof opening, "<svg class=\"ladder\" data-run=\"%s\"", name);
	const char *start = strstr(html, opening);
	if (!start)
		return NULL;
	const char *end = strstr(start, "</svg>");
	assert_non_null(end);
	return strndup(start, (size_t)(end - start));
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Every test works in a scratch directory of its own, removed afterwards. */
static char scratch[] = "/tmp/test_report_html.XXXXXX";
static char previous_cwd[PATH_MAX];

static int enter_scratch(void **state)
{
	(void)state;
	strcpy(scratch + strlen(scratch) - 6, "XXXXXX");
	if (!getcwd(previous_cwd, sizeof previous_cwd) || !mkdtemp(scratch) || chdir(scratch) < 0)
		return -1;
	fill_events();
	return 0;
}

static int leave_scratch(void **state)
{
	(void)state;
	if (chdir(previous_cwd) < 0)
		return -1;
	return nftw(scratch, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

/* Writes the report of `runs` into DIR and returns the page. Malloc'd. */
static char *write_report(const char *dir, struct run_record *runs, int count)
{
	struct run_set set = { .runs = runs, .count = count, .families = 1u << FAMILY_IPV4 };
	char *error = NULL;
	int rc = report_html_write(dir, &set, &error);
	if (rc < 0)
		fail_msg("report_html_write: %s", error ? error : "?");
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/index.html", dir);
	return read_whole(path);
}

static void free_records(struct run_record *runs, int count)
{
	for (int i = 0; i < count; i++)
		free(runs[i].name);
}

static void test_ladder(void **state)
{
	(void)state;
	struct case_file c = make_case("cases/t/two_peers.tc", 0);
	struct run_record r = make_record(&c, -1, VERDICT_FAIL);
	r.result.events = events;
	r.result.event_count = (int)(sizeof events / sizeof events[0]);
	r.result.message = "cases/t/two_peers.tc:7:12: the stack's segment to b differs\n    expected: S. <x>";
	char *html = write_report("report", &r, 1);
	char *ladder = ladder_of(html, "t/two_peers");
	assert_non_null(ladder);

	/* Escaped everywhere: segment texts, diagnostics, tooltips. */
	assert_non_null(strstr(ladder, "S 0:0(0) win 1000 &lt;mss 1460,TS val 1 ecr 0&gt;"));
	assert_null(strstr(html, "<mss"));
	assert_null(strstr(html, "<x>"));
	assert_non_null(strstr(html, "<pre class=\"diagnostic\">cases/t/two_peers.tc:7:12: the stack&#39;s segment"));

	/* Two injected and three stack segments (one to nobody declared): five arrows, one of them broken
	 * by the wrong answer to b and one by being unexpected; silences and notes are no arrows. */
	assert_non_null(strstr(ladder, "data-segments=\"5\""));
	assert_int_equal(count(ladder, "<g class=\"arrow"), 5);
	assert_int_equal(count(ladder, "<g class=\"arrow\" data-kind=\"injected\""), 2);
	assert_int_equal(count(ladder, "<g class=\"arrow broke\" data-kind=\"segment\""), 2);
	assert_non_null(strstr(ladder, "expected: S. 0:0(0) ack 1</text>"));
	assert_non_null(strstr(ladder, "expected: no segment</text>"));
	assert_int_equal(count(ladder, "<g class=\"silence\">"), 1);
	assert_non_null(strstr(ladder, "no segment (DROP)"));

	/* One column per peer, one for the undeclared address, one for the stack. */
	assert_int_equal(count(ladder, "<g class=\"column\""), 4);
	assert_int_equal(count(ladder, "data-column=\"a\""), 1);
	assert_int_equal(count(ladder, "data-column=\"b\""), 1);
	assert_int_equal(count(ladder, "data-column=\"(other)\""), 1);
	assert_int_equal(count(ladder, "data-column=\"stack\""), 1);
	assert_non_null(strstr(ladder, "192.0.2.10:40001</text>"));
	assert_non_null(strstr(ladder, "192.0.2.1</text>"));

	/* Notes beside the stack: the call as written, states, counters; source lines as tooltips. */
	assert_non_null(strstr(ladder, ">app listen 8080 \u2192 0</text>"));
	assert_non_null(strstr(ladder, ">state TIME_WAIT</text>"));
	assert_non_null(strstr(ladder, ">PAWSEstab +1</text>"));
	assert_non_null(strstr(ladder, "<title>line 8: +0 expect state TIME_WAIT</title>"));
	assert_non_null(strstr(ladder, "<title>no line expected this segment</title>"));
	assert_non_null(strstr(ladder, ">+0.004 s</text>"));
	free(ladder);
	free(html);
	free_records(&r, 1);
}

/* A skipped run shows its reason and no ladder; a run never started says so; the summary counts all. */
static void test_skip_and_summary(void **state)
{
	(void)state;
	struct case_file c = make_case("cases/t/x.tc", 3);
	struct run_record runs[] = {
		make_record(&c, 0, VERDICT_PASS),
		make_record(&c, 1, VERDICT_SKIP),
		make_record(&c, 2, VERDICT_PASS),
	};
	runs[1].result.message = "requires sysctl net.ipv4.tcp_tw_recycle <gone>";
	runs[2].ran = false;
	char *html = write_report("report", runs, 3);
	assert_non_null(strstr(html, "1 passed</span>, <span class=\"fail\">0 failed</span>, "
				     "<span class=\"skip\">1 skipped</span>, <span class=\"flaky\">0 flaky</span>, "
				     "<span class=\"error\">0 errors</span>, <span class=\"notrun\">1 not run"));
	assert_int_equal(count(html, "<svg class=\"ladder\""), 1);
	assert_non_null(strstr(html, "<svg class=\"ladder\" data-run=\"t/x@v0\" data-segments=\"0\""));
	assert_non_null(strstr(html, "data-run=\"t/x@v1\" data-verdict=\"skip\""));
	assert_non_null(strstr(html, "data-run=\"t/x@v2\" data-verdict=\"notrun\""));
	assert_non_null(strstr(html, "tcp_tw_recycle &lt;gone&gt;"));
	/* The matrix: one row for the case, a cell per variant linking to its section. */
	assert_non_null(strstr(html, "<tr><th>t/x</th>"
				     "<td class=\"pass\"><a href=\"#t.x.v0\"><span class=\"variant\">v0</span>pass</a></td>"
				     "<td class=\"skip\"><a href=\"#t.x.v1\"><span class=\"variant\">v1</span>SKIP</a></td>"
				     "<td class=\"notrun\"><a href=\"#t.x.v2\">"));
	assert_non_null(strstr(html, "<section class=\"run\" id=\"t.x.v1\""));
	free(html);
	free_records(runs, 3);
}

/* A pass whose stack could not show some lines' evidence: marked in its cell, its facts and its ladder. */
static void test_unchecked(void **state)
{
	(void)state;
	struct case_file c = make_case("cases/t/u.tc", 0);
	struct run_record r = make_record(&c, -1, VERDICT_PASS);
	struct run_event unchecked[] = { events[0], event(RUN_EVENT_STATE, 5, 0, false, "unobservable", "TIME_WAIT") };
	unchecked[1].unchecked = true;
	r.result.events = unchecked;
	r.result.event_count = 2;
	r.result.unchecked = 1;
	r.result.unchecked_reason = "expect state: the stack's socket states cannot be read (EOPNOTSUPP)";
	snprintf(r.result.outcome, sizeof r.result.outcome, "UNSEEN");
	char *html = write_report("report", &r, 1);
	assert_non_null(strstr(html, "<td class=\"pass unchecked\"><a href=\"#t.u\">UNSEEN?</a></td>"));
	assert_non_null(strstr(html, "<code>?</code>: it passed, but the stack could not show the evidence"));
	assert_non_null(strstr(html, "<span class=\"unchecked\">1 unchecked: expect state: the stack&#39;s socket "
				     "states cannot be read (EOPNOTSUPP)</span>"));
	char *ladder = ladder_of(html, "t/u");
	assert_non_null(ladder);
	assert_int_equal(count(ladder, "<g class=\"note unchecked\" data-kind=\"state\">"), 1);
	assert_non_null(strstr(ladder, ">unchecked: state TIME_WAIT</text>"));
	free(ladder);
	free(html);
	free_records(&r, 1);
}

/* What the stack sent as the harness closed the application's sockets: below the teardown's divider,
 * after every line's event, grey arrows marked as the teardown's and never counted among the case's
 * segments. */
static void test_teardown(void **state)
{
	(void)state;
	struct case_file c = make_case("cases/t/open.tc", 0);
	struct run_record r = make_record(&c, -1, VERDICT_PASS);
	struct run_event run[] = { events[1], events[2], event(RUN_EVENT_TEARDOWN, -1, 0, false, "F. 1:1(0) ack 1 win 64",
									 ""),
				   event(RUN_EVENT_TEARDOWN, -1, 1, false, "R 1:1(0) win 0", "") };
	run[2].at_ns = 3000000;
	run[3].at_ns = 3100000;
	r.result.events = run;
	r.result.event_count = 4;
	char *html = write_report("report", &r, 1);
	char *ladder = ladder_of(html, "t/open");
	assert_non_null(ladder);
	assert_non_null(strstr(ladder, "data-segments=\"2\" data-teardown=\"2\""));
	assert_int_equal(count(ladder, "<g class=\"arrow"), 4);
	assert_int_equal(count(ladder, "<g class=\"arrow teardown\" data-kind=\"teardown\">"), 2);
	assert_non_null(strstr(ladder, ">teardown: F. 1:1(0) ack 1 win 64</text>"));
	assert_non_null(strstr(ladder, ">teardown: R 1:1(0) win 0</text>"));
	assert_non_null(strstr(ladder, "<title>teardown: the stack sent this as the harness closed the application's "
					"sockets, after the last line; not judged</title>"));
	/* One divider, after the case's last segment and before the teardown's first. */
	assert_int_equal(count(ladder, "<g class=\"teardown-divider teardown\">"), 1);
	const char *divider = strstr(ladder, "teardown-divider");
	assert_true(strstr(ladder, "data-kind=\"segment\"") < divider);
	assert_true(divider < strstr(ladder, "data-kind=\"teardown\""));
	assert_non_null(strstr(divider, ">teardown (not judged)</text>"));
	free(ladder);
	free(html);

	/* A run whose teardown sent nothing has no divider. */
	r.result.event_count = 2;
	html = write_report("report", &r, 1);
	ladder = ladder_of(html, "t/open");
	assert_non_null(strstr(ladder, "data-teardown=\"0\""));
	assert_null(strstr(ladder, "teardown-divider"));
	free(ladder);
	free(html);
	free_records(&r, 1);
}

/* A capture outside the report's directory is hard-linked under DIR/captures/ and linked there, so the
 * directory can be moved whole; one that no longer exists is linked as given; two runs of the same name
 * get distinct anchors; the directory and its parents are created. */
static void test_links_and_directory(void **state)
{
	(void)state;
	assert_int_equal(mkdir("captures", 0755), 0);
	assert_int_equal(mkdir("captures/t", 0755), 0);
	FILE *pcap = fopen("captures/t/x #1.pcap", "w");
	assert_non_null(pcap);
	fclose(pcap);
	struct case_file c = make_case("cases/t/x.tc", 0), twin = make_case("tests/wrong/t/x.tc", 0);
	struct run_record runs[] = { make_record(&c, -1, VERDICT_PASS), make_record(&twin, -1, VERDICT_FAIL) };
	runs[0].result.pcap_path = "captures/t/x #1.pcap";
	runs[1].result.pcap_path = "/var/captures/t/x.pcap";
	char *html = write_report("out/html/report", runs, 2);
	assert_non_null(strstr(html, "<a class=\"pcap\" href=\"captures/x%20%231.pcap\">"
				     "captures/t/x #1.pcap</a>"));
	struct stat original, linked;
	assert_int_equal(stat("captures/t/x #1.pcap", &original), 0);
	assert_int_equal(stat("out/html/report/captures/x #1.pcap", &linked), 0);
	assert_true(original.st_ino == linked.st_ino && original.st_dev == linked.st_dev);
	assert_non_null(strstr(html, "<a class=\"pcap\" href=\"/var/captures/t/x.pcap\">"));
	assert_non_null(strstr(html, "id=\"t.x\""));
	assert_non_null(strstr(html, "id=\"t.x-2\""));
	assert_non_null(strstr(html, "href=\"#t.x-2\""));
	free(html);

	/* A directory that cannot be made: an error naming it, nothing printed. */
	struct run_set set = { .runs = runs, .count = 2, .families = 1u << FAMILY_IPV4 };
	char *error = NULL;
	assert_int_equal(report_html_write("captures/t/x #1.pcap/html", &set, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "captures/t/x #1.pcap"));
	free(error);
	free_records(runs, 2);
}

/* A capture on another file system than the report (tmpfs /dev/shm here) is copied, byte for byte; a
 * second report into the same directory replaces the copy. */
static void test_capture_copied_across_file_systems(void **state)
{
	(void)state;
	char elsewhere[] = "/dev/shm/test_report_html.XXXXXX", capture[64];
	struct stat shm, here;
	if (stat("/dev/shm", &shm) < 0 || stat(".", &here) < 0 || shm.st_dev == here.st_dev || !mkdtemp(elsewhere))
		skip();
	snprintf(capture, sizeof capture, "%s/x.pcapng", elsewhere);
	FILE *f = fopen(capture, "w");
	assert_non_null(f);
	fputs("frames", f);
	fclose(f);
	struct case_file c = make_case("cases/t/x.tc", 0);
	struct run_record r = make_record(&c, -1, VERDICT_PASS);
	r.result.pcap_path = capture;
	for (int round = 0; round < 2; round++) {
		char *html = write_report("report", &r, 1);
		assert_non_null(strstr(html, "<a class=\"pcap\" href=\"captures/x.pcapng\">"));
		free(html);
		char *copy = read_whole("report/captures/x.pcapng");
		assert_string_equal(copy, "frames");
		free(copy);
		struct stat copied;
		assert_int_equal(stat("report/captures/x.pcapng", &copied), 0);
		assert_int_equal(copied.st_nlink, 1);
	}
	unlink(capture);
	rmdir(elsewhere);
	free_records(&r, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_ladder, enter_scratch, leave_scratch),
		cmocka_unit_test_setup_teardown(test_skip_and_summary, enter_scratch, leave_scratch),
		cmocka_unit_test_setup_teardown(test_links_and_directory, enter_scratch, leave_scratch),
		cmocka_unit_test_setup_teardown(test_capture_copied_across_file_systems, enter_scratch, leave_scratch),
		cmocka_unit_test_setup_teardown(test_unchecked, enter_scratch, leave_scratch),
		cmocka_unit_test_setup_teardown(test_teardown, enter_scratch, leave_scratch),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
