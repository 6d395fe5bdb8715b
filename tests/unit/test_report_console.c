/* The console's lines from hand-made results (no kernel, no terminal): the verdict line, what follows
 * it, and the summary. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_console.h"

/* Prints the record named name with result as its last try. */
static void show(struct console_report *console, const char *name, const struct case_result *result)
{
	struct run_record record = { .name = (char *)name, .ran = true, .result = *result };
	console_report_result(console, &record);
}

static void test_lines_and_summary(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	struct console_report console;
	console_report_init(&console, out, 6);

	struct case_result result = { .verdict = VERDICT_PASS, .duration_ns = 12400000 };
	show(&console, "handshake/accept", &result);
	/* A pass that left lines unchecked says so on its own line, so it never reads like a full pass. */
	result.unchecked = 2;
	result.unchecked_reason = "expect state: the stack's socket states cannot be read (EOPNOTSUPP)";
	show(&console, "close/close_wait_held", &result);
	result.verdict = VERDICT_FAIL;
	result.unchecked = 1;
	result.unchecked_reason = "counter TcpExt.PAWSEstab: the stack has no such counter";
	result.message = "t.tc:3:4: the stack's segment to c differs\n  expected: R";
	result.pcap_path = "captures/x.pcap";
	show(&console, "paws/x", &result);
	result = (struct case_result){ .verdict = VERDICT_SKIP, .message = "the stack under test (lwip: lwIP 2.1.3) "
										   "has no sysctl net.ipv4.x" };
	show(&console, "t/skip", &result);
	result = (struct case_result){ .verdict = VERDICT_ERROR,
				       .message = "t.tc:5:1: harness error: the injection left 80.0 ms late" };
	show(&console, "t/error", &result);
	/* A pass after an ERROR is FLAKY, with every try under it. */
	struct run_record flaky = { .name = "t/flaky", .ran = true, .result = { .verdict = VERDICT_PASS },
				    .earlier = { { VERDICT_ERROR, "t.tc:5:1: harness error: late\n  5 | x", 0 } },
				    .earlier_count = 1 };
	console_report_result(&console, &flaky);
	console_report_summary(&console);
	fclose(out);

	assert_string_equal(text, "PASS handshake/accept (12 ms)\n"
				  "PASS close/close_wait_held (12 ms) (2 unchecked: expect state: the stack's socket "
				  "states cannot be read (EOPNOTSUPP))\n"
				  "FAIL paws/x (12 ms) (1 unchecked: counter TcpExt.PAWSEstab: the stack has no such counter)\n"
				  "    t.tc:3:4: the stack's segment to c differs\n"
				  "      expected: R\n"
				  "    pcap: captures/x.pcap\n"
				  "SKIP t/skip (0 ms)\n"
				  "    the stack under test (lwip: lwIP 2.1.3) has no sysctl net.ipv4.x\n"
				  "ERROR t/error (0 ms)\n"
				  "    t.tc:5:1: harness error: the injection left 80.0 ms late\n"
				  "FLAKY t/flaky (0 ms)\n"
				  "    try 1: ERROR: t.tc:5:1: harness error: late\n"
				  "    try 2: PASS\n"
				  "2 passed, 1 failed, 1 skipped, 1 flaky, 1 errors\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
