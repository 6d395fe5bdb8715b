/* test_ts_clock.c - the TS clock rate from two TCP_TIMESTAMP samples: jiffies before Linux 4.13 (HZ
 * 100, 250, 300 or 1000), ms after; a sample's jitter must not turn 250 Hz into 248. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "ts_clock.h"

static void test_rounds_to_kernel_hz(void **state)
{
	(void)state;
	const int64_t ms200 = 200000000;
	assert_int_equal(ts_clock_rate(50, ms200), 250);           /* 4.9 with HZ 250: 50 jiffies */
	assert_int_equal(ts_clock_rate(49, ms200 + 3000000), 250); /* one jiffy short, a late sample */
	assert_int_equal(ts_clock_rate(20, ms200), 100);
	assert_int_equal(ts_clock_rate(60, ms200), 300);
	assert_int_equal(ts_clock_rate(201, ms200), 1000);         /* tcp_time_stamp_raw(): ms */
	assert_int_equal(ts_clock_rate(100, ms200), 500);          /* no kernel HZ: the measured rate */
	assert_int_equal(ts_clock_rate(0, ms200), 0);
	assert_int_equal(ts_clock_rate(50, 0), 0);
	/* The clock wraps: ticks are the unsigned difference. */
	assert_int_equal(ts_clock_rate((uint32_t)(5u - 0xffffffd3u), ms200), 250);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rounds_to_kernel_hz),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
