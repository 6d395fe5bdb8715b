/* The console's lines from hand-made results (no kernel, no terminal): the verdict line, what follows
 * it, the summary and the exit status. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_console.h"

static void test_lines_and_summary(void **state)
{
	(void)state;
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	assert_non_null(out);
	struct console_report console;
	console_report_init(&console, out, 4);

	struct case_result result = { .verdict = VERDICT_PASS, .duration_ns = 12400000 };
	console_report_result(&console, "handshake/accept", &result);
	/* A pass that left lines unchecked says so on its own line, so it never reads like a full pass. */
	result.unchecked = 2;
	result.unchecked_reason = "expect state: the stack's socket states cannot be read (EOPNOTSUPP)";
	console_report_result(&console, "close/close_wait_held", &result);
	result.verdict = VERDICT_FAIL;
	result.unchecked = 1;
	result.unchecked_reason = "counter TcpExt.PAWSEstab: the stack has no such counter";
	result.message = "t.tc:3:4: the stack's segment to c differs\n  expected: R";
	result.pcap_path = "captures/x.pcap";
	console_report_result(&console, "paws/x", &result);
	result = (struct case_result){ .verdict = VERDICT_SKIP, .message = "the stack has no sysctl net.ipv4.x" };
	console_report_result(&console, "t/skip", &result);
	assert_int_equal(console_report_summary(&console), 1);
	fclose(out);

	assert_string_equal(text, "PASS handshake/accept (12 ms)\n"
				  "PASS close/close_wait_held (12 ms) (2 unchecked: expect state: the stack's socket "
				  "states cannot be read (EOPNOTSUPP))\n"
				  "FAIL paws/x (12 ms) (1 unchecked: counter TcpExt.PAWSEstab: the stack has no such counter)\n"
				  "    t.tc:3:4: the stack's segment to c differs\n"
				  "      expected: R\n"
				  "    pcap: captures/x.pcap\n"
				  "SKIP t/skip (0 ms)\n"
				  "    the stack has no sysctl net.ipv4.x\n"
				  "2 passed, 1 failed, 1 skipped\n");
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lines_and_summary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
