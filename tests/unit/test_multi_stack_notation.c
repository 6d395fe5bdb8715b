/* test_multi_stack_notation.c - the notation that lets one case line fit several stacks: option sets
 * `{...}` (same options, any order and padding) and `tune KEY=VALUE` (a knob only where it exists). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "case_parser.h"
#include "judge.h"
#include "segment_format.h"

static void parse_ok(const char *text, struct case_file *c)
{
	char *error = NULL;
	if (case_parse_text("t.tc", text, strlen(text), c, &error) != 0)
		fail_msg("%s", error);
}

/* lwIP's SYN-ACK options as they come off the wire (docs/lwip-notes.md). */
static struct segment_spec lwip_syn_ack(void)
{
	struct segment_spec s = { .flags = TCP_FLAG_SYN | TCP_FLAG_ACK, .seq = { SPEC_VALUE, 0 },
				  .ack = { SPEC_VALUE, 1 }, .win = { SPEC_VALUE, 65535 }, .has_options = true };
	const uint8_t kinds[] = { TCP_OPTION_MSS, TCP_OPTION_NOP, TCP_OPTION_NOP, TCP_OPTION_TIMESTAMP,
				  TCP_OPTION_NOP, TCP_OPTION_WSCALE, TCP_OPTION_NOP, TCP_OPTION_NOP,
				  TCP_OPTION_SACK_PERMITTED };
	for (size_t i = 0; i < sizeof kinds; i++)
		s.options[i].kind = kinds[i];
	s.option_count = sizeof kinds;
	s.options[0].v[0] = (struct spec_value){ SPEC_VALUE, 1460 };
	s.options[3].v[0] = (struct spec_value){ SPEC_VALUE, 818133 };
	s.options[3].v[1] = (struct spec_value){ SPEC_VALUE, 100 };
	s.options[5].v[0] = (struct spec_value){ SPEC_VALUE, 1 };
	return s;
}

static struct segment_spec expected_line(const char *line)
{
	char text[256];
	snprintf(text, sizeof text, "peer c 192.0.2.10\n0 c > %s\n", line);
	struct case_file c;
	parse_ok(text, &c);
	struct segment_spec spec = c.steps[0].u.segment;
	case_free(&c);
	return spec;
}

static void test_set_matches_any_order_and_padding(void **state)
{
	(void)state;
	struct segment_spec observed = lwip_syn_ack();
	struct segment_spec set = expected_line("S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 100,wscale *}");
	assert_true(set.options_as_set);
	assert_int_equal(set.option_count, 4);
	assert_true(judge_segment(&set, &observed).matches);

	/* The same options as an ordered list do not match lwIP's layout. */
	struct segment_spec list = expected_line("S. 0:0(0) ack 1 <mss 1460,sackOK,TS val * ecr 100,nop,wscale *>");
	assert_false(list.options_as_set);
	assert_true(judge_segment(&list, &observed).differs[SEGMENT_FIELD_OPTIONS]);
}

static void test_set_still_checks_values_and_membership(void **state)
{
	(void)state;
	struct segment_spec observed = lwip_syn_ack();
	/* A value differs. */
	struct segment_spec ecr = expected_line("S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 101,wscale *}");
	assert_true(judge_segment(&ecr, &observed).differs[SEGMENT_FIELD_OPTIONS]);
	/* An option the stack did not send. */
	struct segment_spec more = expected_line("S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 100,wscale *,sack 1:2}");
	assert_false(judge_segment(&more, &observed).matches);
	/* An option the stack sent that the line does not name. */
	struct segment_spec fewer = expected_line("S. 0:0(0) ack 1 {mss 1460,TS val * ecr 100,wscale *}");
	assert_false(judge_segment(&fewer, &observed).matches);
	/* One expected option cannot be matched twice by one observed option. */
	struct segment_spec twice = expected_line("S. 0:0(0) ack 1 {mss 1460,mss 1460,TS val * ecr 100,wscale *}");
	assert_false(judge_segment(&twice, &observed).matches);
	/* `{}`: no option at all but padding. */
	struct segment_spec none = expected_line(". 1:1(0) ack 1 {}");
	assert_false(judge_segment(&none, &observed).matches);
	observed.option_count = 2;
	observed.options[0].kind = TCP_OPTION_NOP;
	assert_false(judge_segment(&none, &observed).differs[SEGMENT_FIELD_OPTIONS]);
}

static void test_set_prints_as_written(void **state)
{
	(void)state;
	struct segment_spec set = expected_line("S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 100,wscale *}");
	char text[256];
	segment_format_spec(&set, text, sizeof text, NULL);
	assert_string_equal(text, "S. 0:0(0) ack 1 {mss 1460,sackOK,TS val * ecr 100,wscale *}");
}

/* `*:*(LEN)`: any sequence number, the length still checked. */
static void test_any_sequence_number(void **state)
{
	(void)state;
	struct segment_spec rst = expected_line("R. *:*(0) ack 1");
	assert_int_equal(rst.seq.kind, SPEC_ANY);
	struct segment_spec observed = { .flags = TCP_FLAG_RST | TCP_FLAG_ACK, .seq = { SPEC_VALUE, 4294960786 },
					 .ack = { SPEC_VALUE, 1 }, .win = { SPEC_VALUE, 65407 } };
	assert_true(judge_segment(&rst, &observed).matches);
	observed.payload_len = 1;
	assert_true(judge_segment(&rst, &observed).differs[SEGMENT_FIELD_SEQ]);
	char text[128];
	segment_format_spec(&rst, text, sizeof text, NULL);
	assert_string_equal(text, "R. *:*(0) ack 1");
}

static void test_tune_marks_its_keys(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("sysctl net.ipv4.tcp_rfc1337=1\ntune net.ipv4.tcp_invalid_ratelimit=0 net.ipv4.tcp_syncookies=0\n"
		 "peer c 192.0.2.10\n0 wait\n",
		 &c);
	assert_int_equal(c.sysctl_count, 3);
	assert_false(c.sysctls[0].where_present);
	assert_true(c.sysctls[1].where_present);
	assert_string_equal(c.sysctls[1].key, "net.ipv4.tcp_invalid_ratelimit");
	assert_true(c.sysctls[2].where_present);
	case_free(&c);

	/* One key, one value: `tune` and `sysctl` share the duplicate check. */
	char *error = NULL;
	assert_int_equal(case_parse_text("t.tc", "sysctl net.ipv4.tcp_rfc1337=1\ntune net.ipv4.tcp_rfc1337=0\n0 wait\n",
					 strlen("sysctl net.ipv4.tcp_rfc1337=1\ntune net.ipv4.tcp_rfc1337=0\n0 wait\n"), &c,
					 &error),
			 -1);
	assert_non_null(strstr(error, "t.tc:2:6: duplicate sysctl key 'net.ipv4.tcp_rfc1337'"));
	free(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_set_matches_any_order_and_padding),
		cmocka_unit_test(test_set_still_checks_values_and_membership),
		cmocka_unit_test(test_set_prints_as_written),
		cmocka_unit_test(test_any_sequence_number),
		cmocka_unit_test(test_tune_marks_its_keys),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
