/* test_send_budget.c - a case's timeline as written, and lab mode's refusals of cases that would send
 * more than --max-pps in a second or storm without --allow-storm. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_parser.h"
#include "send_budget.h"

static struct case_file parse(const char *text)
{
	struct case_file c;
	char *error = NULL;
	int rc = case_parse_text("budget.tc", text, strlen(text), &c, &error);
	if (rc != 0)
		fail_msg("%s", error);
	return c;
}

/* Five SYNs: three at 0, 0.5 and 0.9 s, one 0.2 s after that (1.1 s), one at 2 s. */
static const char five_syns[] = "peer c 192.0.2.10:40000\n"
				"peer d 192.0.2.11:40000 to 8080\n"
				"0    app listen 8080\n"
				"+0   c < S 0:0(0) win 1000\n"
				"0.5  d < S 0:0(0) win 1000\n"
				"0.9  c < R 1:1(0) win 0\n"
				"+0.2 d < R 1:1(0) win 0\n"
				"2    c < S 0:0(0) win 1000\n";

static void test_timeline(void **state)
{
	(void)state;
	struct case_file c = parse(five_syns);
	int64_t at_ns[6];
	send_budget_timeline(&c, -1, at_ns);
	assert_int_equal(at_ns[1], 0);
	assert_int_equal(at_ns[2], 500000000);
	assert_int_equal(at_ns[4], 1100000000);
	assert_int_equal(at_ns[5], 2000000000);
	case_free(&c);
}

static void test_busiest_second(void **state)
{
	(void)state;
	struct case_file c = parse(five_syns);
	char *error = NULL;
	struct send_budget three = { 3, false }, two = { 2, false };
	/* 0, 0.5 and 0.9 s fall in one second; 0.5, 0.9 and 1.1 s in another: three is enough. */
	assert_int_equal(send_budget_check(&c, -1, &three, &error), 0);
	assert_int_equal(send_budget_check(&c, -1, &two, &error), -1);
	assert_non_null(strstr(error, "budget.tc:4:6: 3 segments within one second from this line on, over the lab "
				      "send budget (--max-pps 2)"));
	assert_non_null(strstr(error, "    4 | +0   c < S 0:0(0) win 1000"));
	free(error);
	case_free(&c);
}

static void test_storm_needs_the_flag(void **state)
{
	(void)state;
	struct case_file c = parse("variant quiet sysctl net.ipv4.tcp_rfc1337=1\n"
				   "variant loud sysctl net.ipv4.tcp_rfc1337=0\n"
				   "peer c 192.0.2.10:20000\n"
				   "0 app listen 8080 backlog 600\n"
				   "[loud] +0 c storm 500\n");
	char *error = NULL;
	struct send_budget plain = { SEND_BUDGET_DEFAULT_PPS, false }, storms = { SEND_BUDGET_DEFAULT_PPS, true };
	assert_int_equal(send_budget_check(&c, 0, &plain, &error), 0);
	assert_int_equal(send_budget_check(&c, 1, &plain, &error), -1);
	assert_non_null(strstr(error, "budget.tc:5:11: a storm of 500 connections sends 1500 segments"));
	assert_non_null(strstr(error, "needs --allow-storm (then it is paced at --max-pps 1000)"));
	free(error);
	error = NULL;
	assert_int_equal(send_budget_check(&c, 1, &storms, &error), 0);
	assert_null(error);
	case_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_timeline),
		cmocka_unit_test(test_busiest_second),
		cmocka_unit_test(test_storm_needs_the_flag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
