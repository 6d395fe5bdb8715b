/* test_storm_sizing.c - how large a storm's capture ring is and how many connections a chunk holds: the
 * ring grows with the storm up to a chunk of 64 connections, and a chunk never outgrows its ring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "storm.h"
#include "wire.h"

/* Three frames per connection of a chunk: ours, the stack's answer, and room for a retransmission. */
static void test_the_ring_grows_with_the_storm_up_to_a_chunk(void **state)
{
	(void)state;
	assert_int_equal(storm_ring_frames(1), 3);
	assert_int_equal(storm_ring_frames(20), 60);
	assert_int_equal(storm_ring_frames(64), 192);
	assert_int_equal(storm_ring_frames(600), 192);
	assert_int_equal(storm_ring_frames(2000), 192);
	assert_true(storm_ring_frames(65535) <= WIRE_RING_FRAMES_MAX);
}

/* A ring sized for the storm is no cap: the chunk is the storm's own (its size, or 64). */
static void test_a_ring_sized_for_the_storm_does_not_cap_its_chunks(void **state)
{
	(void)state;
	for (uint32_t count = 1; count <= 2000; count++) {
		uint32_t chunk = storm_chunk(count, storm_ring_frames(count));
		assert_int_equal(chunk, count < 64 ? count : 64);
	}
}

/* A smaller ring (the wire's default of 16 frames) makes chunks fit it, and never empty. */
static void test_a_smaller_ring_makes_smaller_chunks(void **state)
{
	(void)state;
	assert_int_equal(storm_chunk(2000, WIRE_RING_FRAMES_DEFAULT), 5);
	assert_int_equal(storm_chunk(2000, 96), 32);
	assert_int_equal(storm_chunk(3, 96), 3);
	assert_int_equal(storm_chunk(2000, 2), 1);
	assert_int_equal(storm_chunk(2000, 0), 1);
	for (uint32_t frames = 3; frames <= 300; frames++)
		assert_true(storm_chunk(2000, frames) * 3 <= frames);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_the_ring_grows_with_the_storm_up_to_a_chunk),
		cmocka_unit_test(test_a_ring_sized_for_the_storm_does_not_cap_its_chunks),
		cmocka_unit_test(test_a_smaller_ring_makes_smaller_chunks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
