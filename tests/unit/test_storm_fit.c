/* test_storm_fit.c - what one segment from the stack is to a storm connection at each step: awaited,
 * sent again, the resent FIN the link put behind the final ACK, unexpected, or differing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "segment.h"
#include "storm.h"

/* The fit of a segment from the stack, given in the connection's relative numbers. */
static enum storm_segment_fit fit(enum storm_conn_step step, uint8_t flags, uint32_t seq, uint32_t ack)
{
	struct segment_spec seen = { .flags = flags, .seq = { SPEC_VALUE, seq }, .ack = { SPEC_VALUE, ack } };
	return storm_segment_fit(step, &seen);
}

#define SYN_ACK (TCP_FLAG_SYN | TCP_FLAG_ACK)
#define FIN_ACK (TCP_FLAG_FIN | TCP_FLAG_ACK)

static void test_each_step_awaits_its_own_segment(void **state)
{
	(void)state;
	assert_int_equal(fit(CONN_SYN_SENT, SYN_ACK, 0, 1), STORM_SEGMENT_AWAITED);
	assert_int_equal(fit(CONN_CLOSING, FIN_ACK, 1, 1), STORM_SEGMENT_AWAITED);
	assert_int_equal(fit(CONN_FIN_SENT, TCP_FLAG_ACK, 2, 2), STORM_SEGMENT_AWAITED);
	assert_int_equal(fit(CONN_SYN_SENT, FIN_ACK, 1, 1), STORM_SEGMENT_DIFFERS);
	assert_int_equal(fit(CONN_FIN_SENT, TCP_FLAG_ACK, 2, 1), STORM_SEGMENT_DIFFERS);
}

/* The SYN-ACK may come again until the FIN, the FIN until our FIN-ACK reaches the stack. */
static void test_the_stack_may_resend_until_it_hears_from_us(void **state)
{
	(void)state;
	assert_int_equal(fit(CONN_ESTABLISHED, SYN_ACK, 0, 1), STORM_SEGMENT_AGAIN);
	assert_int_equal(fit(CONN_FIN_RECEIVED, FIN_ACK, 1, 1), STORM_SEGMENT_AGAIN);
	assert_int_equal(fit(CONN_FIN_SENT, FIN_ACK, 1, 1), STORM_SEGMENT_AGAIN);
	assert_int_equal(fit(CONN_FIN_SENT, SYN_ACK, 0, 1), STORM_SEGMENT_DIFFERS);
}

/* After the final ACK only a FIN acking 1 (sent before our FIN reached the stack) is told apart: the
 * link may have put it behind that ACK. Anything else after the final ACK is the stack's own doing. */
static void test_after_the_final_ack_only_the_old_fin_is_crossed(void **state)
{
	(void)state;
	assert_int_equal(fit(CONN_DONE, FIN_ACK, 1, 1), STORM_SEGMENT_CROSSED);
	assert_int_equal(fit(CONN_DONE, FIN_ACK, 1, 2), STORM_SEGMENT_UNEXPECTED);
	assert_int_equal(fit(CONN_DONE, TCP_FLAG_ACK, 2, 2), STORM_SEGMENT_UNEXPECTED);
	assert_int_equal(fit(CONN_DONE, TCP_FLAG_RST, 2, 0), STORM_SEGMENT_UNEXPECTED);
	assert_int_equal(fit(CONN_DONE, SYN_ACK, 0, 1), STORM_SEGMENT_UNEXPECTED);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_step_awaits_its_own_segment),
		cmocka_unit_test(test_the_stack_may_resend_until_it_hears_from_us),
		cmocka_unit_test(test_after_the_final_ack_only_the_old_fin_is_crossed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
