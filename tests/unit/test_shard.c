/* test_shard.c - the --shard split: K/N parsing, a run's expected duration from its case's timeline,
 * and an assignment that covers every run once, balances expected time and ignores input order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "case_parser.h"
#include "shard.h"

#define MS 1000000LL

static void test_parse(void **state)
{
	(void)state;
	struct shard_spec spec;
	char *error = NULL;
	assert_int_equal(shard_parse("2/4", &spec, &error), 0);
	assert_int_equal(spec.index, 2);
	assert_int_equal(spec.count, 4);
	assert_int_equal(shard_parse("1/1", &spec, &error), 0);
	static const char *const bad[] = { "0/4", "5/4", "4", "2/", "/4", "2/4x", "-1/4", "+1/4", "1/-4", "a/b",
					   "1/1001", "" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		assert_int_equal(shard_parse(bad[i], &spec, &error), -1);
		char expected[96];
		snprintf(expected, sizeof expected, "(1 <= K <= N <= 1000), not '%s'", bad[i]);
		assert_non_null(strstr(error, expected));
		free(error);
		error = NULL;
	}
}

static struct case_file parse(const char *text)
{
	struct case_file c;
	char *error = NULL;
	if (case_parse_text("shard.tc", text, strlen(text), &c, &error) != 0)
		fail_msg("%s", error);
	return c;
}

/* The timer chain: a relative line counts from the end of the `none` window before it; a hold is
 * waited out; a variant's own lines count only in it. */
static void test_expected_duration(void **state)
{
	(void)state;
	struct case_file c = parse("peer c 192.0.2.10:40000\n"
				   "variant short sysctl net.ipv4.tcp_rfc1337=0\n"
				   "variant long sysctl net.ipv4.tcp_rfc1337=1\n"
				   "0      app listen 8080\n"
				   "+0     c < S 0:0(0) win 1000\n"
				   "+0     c > S. 0:0(0) ack 1\n"
				   "+0.1   c < . 1:1(0) ack 1 win 1000\n"
				   "+0     c > none within 300ms\n"
				   "[long] 2.0 expect state ESTABLISHED for 500ms\n"
				   "[short] +0.2 c < R 1:1(0) win 0\n"
				   "{lwip} +5 c > none within 1s\n"
				   "{linux<5.4} +9 c > none within 1s\n"
				   "[short] {ipv6} +1 c > none within 1s\n");
	/* short: 0.1 s, a quiet 0.3 s, the RST 0.2 s later; lwIP's line and an old kernel's do not count. */
	assert_int_equal(shard_expected_ns(&c, 0, FAMILY_IPV4), 600 * MS + SHARD_RUN_OVERHEAD_NS);
	assert_int_equal(shard_expected_ns(&c, 0, FAMILY_IPV6), 2600 * MS + SHARD_RUN_OVERHEAD_NS);
	assert_int_equal(shard_expected_ns(&c, 1, FAMILY_IPV4), 2500 * MS + SHARD_RUN_OVERHEAD_NS);
	case_free(&c);
}

static void assign(const int64_t *expected, const char *const *names, int count, int shards, int *shard_of)
{
	assert_int_equal(shard_assign(expected, names, count, shards, shard_of), 0);
}

/* Longest first to the least loaded: 7 -> A, 5 -> B, 4 -> C, 3 -> C (4), 3 -> B (5), 2 -> A (7)...
 * every shard ends at 9, the best split there is. */
static void test_balanced(void **state)
{
	(void)state;
	static const int64_t expected[] = { 2, 3, 7, 3, 5, 4, 2, 1 };
	static const char *const names[] = { "a", "b", "c", "d", "e", "f", "g", "h" };
	int shard_of[8];
	assign(expected, names, 8, 3, shard_of);
	int64_t load[3] = { 0 };
	for (int i = 0; i < 8; i++) {
		assert_in_range(shard_of[i], 0, 2);
		load[shard_of[i]] += expected[i];
	}
	assert_int_equal(load[0], 9);
	assert_int_equal(load[1], 9);
	assert_int_equal(load[2], 9);
}

/* The same runs listed in another order land in the same shards: ties go by name, not position. */
static void test_order_does_not_matter(void **state)
{
	(void)state;
	enum { RUNS = 40 };
	int64_t expected[RUNS], shuffled_expected[RUNS];
	char names[RUNS][8];
	const char *name_of[RUNS], *shuffled_names[RUNS];
	int shard_of[RUNS], shuffled_shard_of[RUNS], position[RUNS];
	for (int i = 0; i < RUNS; i++) {
		snprintf(names[i], sizeof names[i], "r%02d", i);
		name_of[i] = names[i];
		expected[i] = (i % 4) * MS; /* many ties */
		position[i] = (i * 17) % RUNS; /* 17 is prime to 40: a permutation */
	}
	for (int i = 0; i < RUNS; i++) {
		shuffled_expected[position[i]] = expected[i];
		shuffled_names[position[i]] = name_of[i];
	}
	assign(expected, name_of, RUNS, 4, shard_of);
	assign(shuffled_expected, shuffled_names, RUNS, 4, shuffled_shard_of);
	int64_t load[4] = { 0 };
	for (int i = 0; i < RUNS; i++) {
		assert_int_equal(shard_of[i], shuffled_shard_of[position[i]]);
		load[shard_of[i]] += expected[i];
	}
	/* 60 ms in all: 15 each. */
	for (int s = 0; s < 4; s++)
		assert_int_equal(load[s], 15 * MS);
}

/* More shards than runs: some stay empty, none gets two. */
static void test_more_shards_than_runs(void **state)
{
	(void)state;
	static const int64_t expected[] = { 5, 5 };
	static const char *const names[] = { "a", "b" };
	int shard_of[2];
	assign(expected, names, 2, 4, shard_of);
	assert_int_equal(shard_of[0], 0);
	assert_int_equal(shard_of[1], 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_expected_duration),
		cmocka_unit_test(test_balanced),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_more_shards_than_runs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
