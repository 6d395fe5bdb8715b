/* test_report_merge.c - shard JSON reports read back by tcpharness merge: what report_json wrote comes
 * back field for field into the selection's records; a missing, doubled or foreign shard is refused
 * with a message naming it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "case_parser.h"
#include "report_json.h"
#include "report_merge.h"

static const char case_text[] = "peer c 192.0.2.10:40000\n"
				"variant a sysctl net.ipv4.tcp_rfc1337=0\n"
				"variant b sysctl net.ipv4.tcp_rfc1337=1\n"
				"0    app listen 8080\n"
				"+0   c < S 0:0(0) win 1000\n"
				"+0   outcome c > S. 0:0(0) ack 1 win 1000\n"
				"[b] +1 c > none within 2s\n";

struct fixture {
	struct case_file c;
	struct run_record runs[2];
	struct run_event events[2];
	struct run_set whole; /* the selection, both runs with their results */
	char dir[64], files[3][96];
};

static const char *const paths[] = { "t/x.tc" };

/* The selection's two runs, none run yet. */
static void empty_selection(struct fixture *f, struct run_set *set, struct run_record *runs)
{
	for (int v = 0; v < 2; v++) {
		memset(&runs[v], 0, sizeof runs[v]);
		runs[v].c = &f->c;
		runs[v].variant = v;
		runs[v].family = FAMILY_IPV4;
		runs[v].name = report_run_name(&f->c, v, -1);
		runs[v].selection_index = v;
	}
	*set = (struct run_set){ .runs = runs, .count = 2, .families = 1u << FAMILY_IPV4,
				 .selection = { paths, 1, NULL, 2, 0, 1, 1 } };
	set->selection.digest = report_selection_digest(set);
}

/* Writes shard k of 2 (the runs report_shard_of puts there) as JSON to f->files[k - 1]. */
static void write_shard(struct fixture *f, int k, const int *shard_of)
{
	struct run_record mine[2];
	int count = 0;
	for (int i = 0; i < 2; i++)
		if (shard_of[i] == k - 1)
			mine[count++] = f->runs[i];
	struct run_set shard = f->whole;
	shard.runs = mine;
	shard.count = count;
	shard.selection.shard_index = k;
	shard.selection.shard_count = 2;
	shard.wall_ns = 1000 * k;
	char *error = NULL;
	assert_int_equal(report_json_write(f->files[k - 1], &shard, &error), 0);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof *f);
	char *error = NULL;
	if (case_parse_text("t/x.tc", case_text, strlen(case_text), &f->c, &error) != 0)
		fail_msg("%s", error);
	f->c.name = strdup("t/x");
	empty_selection(f, &f->whole, f->runs);
	/* @a failed at its SYN-ACK line; @b passed on its second try after an ERROR. */
	struct case_result *failed = &f->runs[0].result;
	f->runs[0].ran = true;
	failed->verdict = VERDICT_FAIL;
	failed->message = "t/x.tc:6:15: the stack's segment to c differs";
	failed->pcap_path = "captures/t/x@a.pcap";
	failed->duration_ns = 123456789;
	failed->failed_step = 2;
	snprintf(failed->outcome, sizeof failed->outcome, "RST");
	f->events[0] = (struct run_event){ .kind = RUN_EVENT_INJECTED, .at_ns = 5, .step = 1, .peer = 0 };
	snprintf(f->events[0].observed, sizeof f->events[0].observed, "S 0:0(0) win 1000");
	f->events[1] = (struct run_event){ .kind = RUN_EVENT_SEGMENT, .at_ns = 7, .step = 2, .peer = 0, .broke = true };
	snprintf(f->events[1].expected, sizeof f->events[1].expected, "S. 0:0(0) ack 1 win 1000");
	snprintf(f->events[1].observed, sizeof f->events[1].observed, "R. 0:0(0) ack 1 win 0");
	snprintf(f->events[1].outcome, sizeof f->events[1].outcome, "RST");
	failed->events = f->events;
	failed->event_count = 2;
	f->runs[1].ran = true;
	f->runs[1].result.verdict = VERDICT_PASS;
	f->runs[1].result.failed_step = -1;
	f->runs[1].result.duration_ns = 2000;
	f->runs[1].earlier[0] = (struct run_try){ VERDICT_ERROR, "harness error: late", 1000 };
	f->runs[1].earlier_count = 1;
	snprintf(f->dir, sizeof f->dir, "/tmp/tcpharness-merge-test.XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	for (int k = 0; k < 3; k++)
		snprintf(f->files[k], sizeof f->files[k], "%s/shard%d.json", f->dir, k + 1);
	int shard_of[2];
	assert_int_equal(report_shard_of(&f->whole, 2, shard_of), 0);
	/* Two runs in two shards: one each, whichever way. */
	assert_int_not_equal(shard_of[0], shard_of[1]);
	write_shard(f, 1, shard_of);
	write_shard(f, 2, shard_of);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	for (int k = 0; k < 3; k++)
		unlink(f->files[k]);
	rmdir(f->dir);
	for (int i = 0; i < 2; i++)
		free(f->runs[i].name);
	case_free(&f->c);
	free(f);
	return 0;
}

static void test_round_trip(void **state)
{
	struct fixture *f = *state;
	const char *files[] = { f->files[1], f->files[0] }; /* any order */
	struct merge_reports *reports = NULL;
	struct merge_selection selection;
	char *error = NULL;
	assert_int_equal(merge_reports_read(files, 2, &reports, &selection, &error), 0);
	assert_int_equal(selection.shard_count, 2);
	assert_int_equal(selection.run_count, 2);
	assert_int_equal(selection.path_count, 1);
	assert_string_equal(selection.paths[0], "t/x.tc");
	assert_null(selection.variant_filter);
	assert_int_equal(selection.families, 1u << FAMILY_IPV4);
	assert_true(selection.digest == f->whole.selection.digest);
	struct run_set merged;
	struct run_record *runs = calloc(2, sizeof *runs); /* run_set_free frees it */
	empty_selection(f, &merged, runs);
	assert_int_equal(merge_reports_fill(reports, &merged, &error), 0);
	assert_int_equal(merged.wall_ns, 2000);
	const struct case_result *failed = &runs[0].result;
	assert_true(runs[0].ran);
	assert_int_equal(report_shown_verdict(&runs[0]), SHOWN_FAIL);
	assert_string_equal(failed->message, f->runs[0].result.message);
	/* Named from the shard report's directory, so from the working directory it is under that one. */
	char pcap[sizeof f->dir + 32];
	snprintf(pcap, sizeof pcap, "%s/captures/t/x@a.pcap", f->dir);
	assert_string_equal(failed->pcap_path, pcap);
	assert_string_equal(failed->outcome, "RST");
	assert_int_equal(failed->failed_step, 2);
	assert_int_equal(failed->duration_ns, 123456789);
	assert_int_equal(failed->event_count, 2);
	for (int e = 0; e < 2; e++) {
		const struct run_event *want = &f->events[e], *got = &failed->events[e];
		assert_int_equal(got->kind, want->kind);
		assert_int_equal(got->at_ns, want->at_ns);
		assert_int_equal(got->step, want->step);
		assert_int_equal(got->peer, want->peer);
		assert_int_equal(got->broke, want->broke);
		assert_string_equal(got->expected, want->expected);
		assert_string_equal(got->observed, want->observed);
		assert_string_equal(got->outcome, want->outcome);
	}
	assert_int_equal(report_shown_verdict(&runs[1]), SHOWN_FLAKY);
	assert_int_equal(runs[1].earlier_count, 1);
	assert_int_equal(runs[1].earlier[0].verdict, VERDICT_ERROR);
	assert_string_equal(runs[1].earlier[0].message, "harness error: late");
	assert_int_equal(runs[1].result.failed_step, -1);
	run_set_free(&merged);
	merge_reports_free(reports);
}

static void expect_refusal(struct fixture *f, const char *const *files, int count, const char *want)
{
	(void)f;
	struct merge_reports *reports = NULL;
	struct merge_selection selection;
	char *error = NULL;
	assert_int_equal(merge_reports_read(files, count, &reports, &selection, &error), -1);
	if (!strstr(error, want))
		fail_msg("'%s' does not say '%s'", error, want);
	free(error);
	merge_reports_free(reports);
}

static void test_missing_and_doubled(void **state)
{
	struct fixture *f = *state;
	const char *only_second[] = { f->files[1] };
	expect_refusal(f, only_second, 1, "shard 1/2 missing: no report given for it (1 report given for 2 shards)");
	const char *doubled[] = { f->files[0], f->files[1], f->files[0] };
	char want[256];
	snprintf(want, sizeof want, "shard 1/2 given twice: %s and %s", f->files[0], f->files[0]);
	expect_refusal(f, doubled, 3, want);
}

/* Another selection (the whole, unsharded) and a report without a selection. */
static void test_foreign(void **state)
{
	struct fixture *f = *state;
	char *error = NULL;
	assert_int_equal(report_json_write(f->files[2], &f->whole, &error), 0);
	const char *mixed[] = { f->files[0], f->files[2] };
	expect_refusal(f, mixed, 2, "shard 1/1 of selection");
	FILE *old = fopen(f->files[2], "w");
	fputs("{\"schema\": \"tcpharness-report/1\", \"summary\": {}, \"runs\": []}", old);
	fclose(old);
	const char *without[] = { f->files[2] };
	expect_refusal(f, without, 1, "no selection and shard in this report");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_missing_and_doubled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
