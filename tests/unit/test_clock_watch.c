/* test_clock_watch.c - a guest's stalls placed on the harness's clock: the part of each within a span,
 * their sum and the longest, and a malformed list refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "clock_watch.h"

#define MS 1000000LL

/* Received at 10 s: one stall that ended 100 ms ago after 2.5 s, one that ended 5 s ago after 30 ms. */
static void test_stalled_between(void **state)
{
	(void)state;
	const char *text = "100:2500 5000:30";
	int64_t now = 10000 * MS, longest = -1;
	/* The whole of both. */
	assert_int_equal(clock_watch_stalled_between(text, now, 0, now, &longest), 2530 * MS);
	assert_int_equal(longest, 2500 * MS);
	/* From 8 s on: the first from 8 s to its end at 9.9 s. */
	assert_int_equal(clock_watch_stalled_between(text, now, 8000 * MS, now, &longest), 1900 * MS);
	assert_int_equal(longest, 1900 * MS);
	/* Up to 7.5 s: the first from its start at 7.4 s, and the second. */
	assert_int_equal(clock_watch_stalled_between(text, now, 0, 7500 * MS, &longest), 130 * MS);
	assert_int_equal(longest, 100 * MS);
	/* Between them: nothing. */
	assert_int_equal(clock_watch_stalled_between(text, now, 5100 * MS, 7300 * MS, &longest), 0);
	assert_int_equal(longest, 0);
	assert_int_equal(clock_watch_stalled_between("", now, 0, now, &longest), 0);
}

static void test_malformed(void **state)
{
	(void)state;
	static const char *const bad[] = { "100", "100:", ":5", "100:5x", "-1:5", "100:-5", "100:5  7:1", "a:b" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		assert_int_equal(clock_watch_stalled_between(bad[i], 10000 * MS, 0, 10000 * MS, NULL), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stalled_between),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
