/* test_judge.c - matching an expected segment against an observed one, and the diff text. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "judge.h"

static struct segment_spec observed_ack(void)
{
	struct segment_spec s = { .flags = TCP_FLAG_ACK, .seq = { SPEC_VALUE, 2 }, .ack = { SPEC_VALUE, 2 },
				  .win = { SPEC_VALUE, 64 }, .has_options = true, .option_count = 3 };
	s.options[0].kind = TCP_OPTION_NOP;
	s.options[1].kind = TCP_OPTION_NOP;
	s.options[2].kind = TCP_OPTION_TIMESTAMP;
	s.options[2].v[0] = (struct spec_value){ SPEC_VALUE, 123456 };
	s.options[2].v[1] = (struct spec_value){ SPEC_VALUE, 102 };
	return s;
}

static void test_unset_and_wildcards_match(void **state)
{
	(void)state;
	struct segment_spec observed = observed_ack();
	struct segment_spec expected = observed;
	expected.win.kind = SPEC_UNSET;
	expected.options[2].v[0].kind = SPEC_ANY;
	assert_true(judge_segment(&expected, &observed).matches);
	expected.has_options = false;
	assert_true(judge_segment(&expected, &observed).matches);
}

static void test_each_field_can_break_the_match(void **state)
{
	(void)state;
	struct segment_spec observed = observed_ack();
	struct segment_spec expected = observed;
	expected.flags = TCP_FLAG_RST;
	struct segment_verdict v = judge_segment(&expected, &observed);
	assert_false(v.matches);
	assert_true(v.differs[SEGMENT_FIELD_FLAGS]);
	assert_false(v.differs[SEGMENT_FIELD_SEQ]);

	expected = observed;
	expected.payload_len = 1;
	assert_true(judge_segment(&expected, &observed).differs[SEGMENT_FIELD_SEQ]);

	expected = observed;
	expected.ack.value = 3;
	assert_true(judge_segment(&expected, &observed).differs[SEGMENT_FIELD_ACK]);

	expected = observed;
	expected.win.value = 65535;
	assert_true(judge_segment(&expected, &observed).differs[SEGMENT_FIELD_WIN]);

	expected = observed;
	expected.options[2].v[1].value = 101;
	assert_true(judge_segment(&expected, &observed).differs[SEGMENT_FIELD_OPTIONS]);

	expected = observed;
	expected.option_count = 2;
	assert_true(judge_segment(&expected, &observed).differs[SEGMENT_FIELD_OPTIONS]);
}

static void test_expected_ack_demands_an_ack(void **state)
{
	(void)state;
	struct segment_spec rst = { .flags = TCP_FLAG_RST, .seq = { SPEC_VALUE, 2 }, .win = { SPEC_VALUE, 0 } };
	struct segment_spec expected = observed_ack();
	expected.has_options = false;
	struct segment_verdict v = judge_segment(&expected, &rst);
	assert_true(v.differs[SEGMENT_FIELD_FLAGS]);
	assert_true(v.differs[SEGMENT_FIELD_ACK]);
}

static void test_diff_underlines_the_differing_fields(void **state)
{
	(void)state;
	struct segment_spec observed = { .flags = TCP_FLAG_RST, .seq = { SPEC_VALUE, 2 }, .win = { SPEC_VALUE, 0 },
					 .has_options = true };
	struct segment_spec expected = { .flags = TCP_FLAG_ACK, .seq = { SPEC_VALUE, 2 }, .ack = { SPEC_VALUE, 2 } };
	struct segment_verdict v = judge_segment(&expected, &observed);
	char text[1024];
	judge_format_diff(&expected, &observed, &v, "  ", text, sizeof text);
	assert_string_equal(text, "  expected: . 2:2(0) ack 2\n"
				  "            ^        ^^^^^\n"
				  "  observed: R 2:2(0) win 0 <>\n"
				  "            ^       ^\n");
}

static void test_diff_of_a_match_has_no_carets(void **state)
{
	(void)state;
	struct segment_spec observed = observed_ack();
	struct segment_verdict v = judge_segment(&observed, &observed);
	char text[1024];
	judge_format_diff(&observed, &observed, &v, "", text, sizeof text);
	assert_null(strchr(text, '^'));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unset_and_wildcards_match),
		cmocka_unit_test(test_each_field_can_break_the_match),
		cmocka_unit_test(test_expected_ack_demands_an_ack),
		cmocka_unit_test(test_diff_underlines_the_differing_fields),
		cmocka_unit_test(test_diff_of_a_match_has_no_carets),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
