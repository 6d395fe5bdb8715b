/* The matrix's cells and table layout, from hand-made results (no kernel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "outcome.h"
#include "report_matrix.h"

#include "fake_runs.h"

static void test_segment_outcomes(void **state)
{
	(void)state;
	assert_string_equal(outcome_of_segment(TCP_FLAG_SYN | TCP_FLAG_ACK), "ACCEPT");
	assert_string_equal(outcome_of_segment(TCP_FLAG_RST | TCP_FLAG_ACK), "RST");
	assert_string_equal(outcome_of_segment(TCP_FLAG_RST), "RST");
	assert_string_equal(outcome_of_segment(TCP_FLAG_ACK), "ACK");
	assert_string_equal(outcome_of_segment(TCP_FLAG_ACK | TCP_FLAG_PSH), "ACK");
	assert_string_equal(outcome_of_segment(TCP_FLAG_FIN | TCP_FLAG_ACK), "FIN");
	assert_string_equal(outcome_of_segment(TCP_FLAG_SYN), "SYN");
}

static void test_app_outcomes(void **state)
{
	(void)state;
	char out[OUTCOME_MAX];
	outcome_of_app(APP_CONNECT, EADDRNOTAVAIL, -1, out);
	assert_string_equal(out, "EADDRNOTAVAIL");
	outcome_of_app(APP_CONNECT, EINPROGRESS, -1, out);
	assert_string_equal(out, "OK");
	outcome_of_app(APP_CONNECTED, EINPROGRESS, -1, out);
	assert_string_equal(out, "EINPROGRESS");
	outcome_of_app(APP_RECV, 0, 0, out);
	assert_string_equal(out, "EOF");
	outcome_of_app(APP_RECV, 0, 10, out);
	assert_string_equal(out, "OK");
}

static struct case_file make_case(const char *path, int variants)
{
	struct case_file c = fake_case(path, NULL, 0, NULL, 0, variants);
	for (int v = 0; v < variants; v++)
		snprintf(c.variants[v].name, CASE_NAME_MAX, "v%d", v);
	return c;
}

static struct run_record make_record(const struct case_file *c, int variant, enum verdict verdict,
				     const char *outcome)
{
	struct run_record r = fake_record(c, variant, verdict);
	snprintf(r.result.outcome, sizeof r.result.outcome, "%s", outcome);
	return r;
}

static void test_cells(void **state)
{
	(void)state;
	static const struct {
		enum verdict verdict;
		bool ran;
		int unchecked;
		const char *outcome, *cell;
	} rows[] = {
		{ VERDICT_PASS, true, 0, "RST", "RST" },   { VERDICT_FAIL, true, 0, "RST", "RST!" },
		{ VERDICT_FAIL, true, 0, "", "FAIL" },     { VERDICT_PASS, true, 0, "", "pass" },
		{ VERDICT_SKIP, true, 0, "ACK", "SKIP" },  { VERDICT_SKIP, false, 0, "ACK", "-" },
		/* A pass with unchecked lines is marked; a failure's `!` says enough. */
		{ VERDICT_PASS, true, 1, "RST/" OUTCOME_UNSEEN, "RST/" OUTCOME_UNSEEN "?" },
		{ VERDICT_PASS, true, 2, "ACK", "ACK?" },  { VERDICT_PASS, true, 1, "", "pass?" },
		{ VERDICT_FAIL, true, 1, "ACK", "ACK!" },
	};
	struct case_file c = make_case("cases/x/y.tc", 0);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		struct run_record r = make_record(&c, -1, rows[i].verdict, rows[i].outcome);
		r.ran = rows[i].ran;
		r.result.unchecked = rows[i].unchecked;
		char cell[64];
		matrix_cell(&r, cell, sizeof cell);
		assert_string_equal(cell, rows[i].cell);
	}
}

/* Cases with the same variant names share a table; others get their own; a failure adds the legend. */
static void test_tables(void **state)
{
	(void)state;
	struct case_file a = make_case("cases/t/a.tc", 2), b = make_case("cases/t/b.tc", 0);
	struct case_file d = make_case("cases/t/d.tc", 2);
	struct run_record runs[] = {
		make_record(&a, 0, VERDICT_PASS, "ACK"), make_record(&a, 1, VERDICT_PASS, "RST"),
		make_record(&b, -1, VERDICT_FAIL, "DROP"),
		make_record(&d, 0, VERDICT_SKIP, ""), make_record(&d, 1, VERDICT_PASS, "EADDRNOTAVAIL"),
	};
	struct run_set set = { .runs = runs, .count = 5, .families = 1u << FAMILY_IPV4 };
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	matrix_print(out, &set, true);
	fclose(out);
	assert_string_equal(text, "| case | v0 | v1 |\n"
				  "|---|---|---|\n"
				  "| t/a | ACK | RST |\n"
				  "| t/d | SKIP | EADDRNOTAVAIL |\n"
				  "\n"
				  "| case | outcome |\n"
				  "|---|---|\n"
				  "| t/b | DROP! |\n"
				  "\n"
				  "`!`: the case failed; the cell shows what the stack did.\n");
	free(text);

	out = open_memstream(&text, &len);
	set.count = 2;
	matrix_print(out, &set, false);
	fclose(out);
	assert_string_equal(text, "case  v0   v1\n"
				  "----  ---  ---\n"
				  "t/a   ACK  RST\n");
	free(text);
}

/* One column per target, rows by run name, the legend when any target failed a case. */
/* The targets table as text (free it). */
static char *targets_table(const struct run_set *sets, const char *const *labels, bool markdown)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	matrix_print_targets(out, sets, labels, 2, markdown);
	fclose(out);
	return text;
}

static void test_targets_table(void **state)
{
	(void)state;
	struct case_file a = make_case("cases/t/a.tc", 0), b = make_case("cases/t/b.tc", 0);
	struct run_record local[] = { make_record(&a, -1, VERDICT_PASS, "RST"), make_record(&b, -1, VERDICT_PASS, "ACK") };
	struct run_record vm[] = { make_record(&a, -1, VERDICT_PASS, "RST"), make_record(&b, -1, VERDICT_SKIP, "") };
	local[0].name = vm[0].name = "t/a";
	local[1].name = vm[1].name = "t/b";
	struct run_set sets[] = { { .runs = local, .count = 2, .families = 1u << FAMILY_IPV4 },
				  { .runs = vm, .count = 2, .families = 1u << FAMILY_IPV4 } };
	const char *labels[] = { "local: Linux 6.18", "vm: Linux 6.1" };
	char *text = targets_table(sets, labels, true);
	assert_string_equal(text, "| case | local: Linux 6.18 | vm: Linux 6.1 |\n"
				  "|---|---|---|\n"
				  "| t/a | RST | RST |\n"
				  "| t/b | ACK | SKIP |\n");
	free(text);

	vm[0].result.verdict = VERDICT_FAIL;
	text = targets_table(sets, labels, false);
	assert_string_equal(text, "case  local: Linux 6.18  vm: Linux 6.1\n"
				  "----  -----------------  -------------\n"
				  "t/a   RST                RST!\n"
				  "t/b   ACK                SKIP\n"
				  "\n"
				  "!: the case failed; the cell shows what the stack did.\n");
	free(text);

	/* A pass with unchecked lines gets its own legend line, after the failure's. */
	local[1].result.unchecked = 1;
	text = targets_table(sets, labels, true);
	assert_string_equal(text, "| case | local: Linux 6.18 | vm: Linux 6.1 |\n"
				  "|---|---|---|\n"
				  "| t/a | RST | RST! |\n"
				  "| t/b | ACK? | SKIP |\n"
				  "\n"
				  "`!`: the case failed; the cell shows what the stack did.\n"
				  "`?`: passed, but the stack could not show the evidence of some lines (UNSEEN where the "
				  "case's outcome was one).\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_segment_outcomes),
		cmocka_unit_test(test_targets_table),
		cmocka_unit_test(test_app_outcomes),
		cmocka_unit_test(test_cells),
		cmocka_unit_test(test_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
