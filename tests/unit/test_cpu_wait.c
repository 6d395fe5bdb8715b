/* test_cpu_wait.c - the evidence a timing verdict is excused by: ksoftirqd's and the thread's run-queue
 * wait (schedstat), steal (/proc/stat) and PSI, parsed from the kernel's texts and differenced. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cpu_wait.h"

static void test_parsers(void **state)
{
	(void)state;
	assert_int_equal(cpu_wait_parse_schedstat("19911390124 278097126047 335821\n", false), 278097126047LL);
	assert_int_equal(cpu_wait_parse_schedstat("19911390124 278097126047 335821\n", true), 298008516171LL);
	assert_int_equal(cpu_wait_parse_schedstat("garbage", true), -1);
	assert_int_equal(cpu_wait_parse_psi("some avg10=18.63 avg60=20.04 avg300=11.98 total=6971578941\n"
					    "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"),
			 6971578941000LL);
	assert_int_equal(cpu_wait_parse_psi("full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n"), -1);
	int64_t steal[4] = { -1, -1, -1, -1 };
	const char *stat = "cpu  818388 9509 809640 713993 2075 0 7080 12 0 0\n"
			   "cpu0 401235 4586 407422 364744 357 0 1997 5 0 0\n"
			   "cpu1 417152 4922 402217 349249 1717 0 5083 7 0 0\n"
			   "intr 1 2 3\n";
	assert_int_equal(cpu_wait_parse_steal(stat, 100, steal, 4), 2);
	assert_int_equal(steal[0], 50000000LL);
	assert_int_equal(steal[1], 70000000LL);
	assert_int_equal(steal[2], -1);
}

static struct cpu_wait_snapshot snapshot(int64_t at_ms, int64_t softirq0_ms, int64_t softirq1_ms, int64_t steal1_ms)
{
	struct cpu_wait_snapshot s = { .cpus = 2, .at_ns = at_ms * 1000000, .thread_wait_ns = at_ms * 1000,
				       .stall_ns = at_ms * 500000, .vcpu_wait_ns = -1 };
	s.softirq_ns[0] = softirq0_ms * 1000000;
	s.softirq_ns[1] = softirq1_ms * 1000000;
	s.steal_ns[0] = 0;
	s.steal_ns[1] = steal1_ms * 1000000;
	return s;
}

/* The CPU whose deferred work waited longest, steal included; the thread and PSI as they moved. */
static void test_between(void **state)
{
	(void)state;
	struct cpu_wait_snapshot before = snapshot(1000, 10, 20, 0), after = snapshot(1200, 40, 35, 30);
	struct cpu_wait w = cpu_wait_between(&before, &after);
	assert_int_equal(w.cpu, 1);
	assert_int_equal(w.deferred_ns, 45000000LL);
	assert_int_equal(w.thread_wait_ns, 200000LL);
	assert_int_equal(w.stall_ns, 100000000LL);
	assert_int_equal(w.span_ns, 200000000LL);
	char text[256];
	cpu_wait_format(&w, text, sizeof text);
	assert_string_equal(text, "ksoftirqd/1 was runnable 45.0 ms (schedstat, steal included), the harness thread "
				  "waited 0.2 ms for a CPU, some task 100.0 ms (PSI cpu) over the last 200.0 ms");
	/* A cut buffer gets the prefix and the full length. */
	char small[16];
	assert_int_equal(cpu_wait_format(&w, small, sizeof small), (int)strlen(text));
	assert_string_equal(small, "ksoftirqd/1 was");
}

/* Nothing known (no ksoftirqd visible, no schedstat, no PSI): -1 everywhere, and the text says so. */
static void test_unknown(void **state)
{
	(void)state;
	struct cpu_wait_snapshot before = snapshot(1000, 10, 20, 0), after = snapshot(1100, 10, 20, 0);
	for (int i = 0; i < 2; i++)
		before.softirq_ns[i] = after.softirq_ns[i] = -1;
	before.thread_wait_ns = before.stall_ns = -1;
	struct cpu_wait w = cpu_wait_between(&before, &after);
	assert_int_equal(w.deferred_ns, -1);
	assert_int_equal(w.thread_wait_ns, -1);
	assert_int_equal(w.stall_ns, -1);
	char text[128];
	cpu_wait_format(&w, text, sizeof text);
	assert_string_equal(text, "nothing known about waiting for a CPU over the last 100.0 ms");
}

/* A guest that stood still: said with its longest stretch; it explains a segment overdue by all of the
 * stall plus the catch-up, not one overdue twice the stall, and nothing without a stall. */
static void test_guest(void **state)
{
	(void)state;
	struct cpu_wait w = cpu_wait_unknown();
	assert_false(cpu_wait_explains(&w, 1));
	w.guest_stall_ns = 2500000000LL;
	w.guest_longest_ns = 2400000000LL;
	w.guest_span_ns = 2600000000LL;
	char text[256];
	cpu_wait_format(&w, text, sizeof text);
	assert_string_equal(text, "the guest stood still 2500.0 ms of 2600.0 ms (its vCPU not run; longest 2400.0 ms, by "
				  "its agent's clock watch)");
	assert_true(cpu_wait_explains(&w, 2500000000LL + CPU_WAIT_GUEST_CATCH_UP_NS));
	assert_false(cpu_wait_explains(&w, 2500000000LL + CPU_WAIT_GUEST_CATCH_UP_NS + 1));
	w.guest_stall_ns = 15000000LL;
	assert_true(cpu_wait_explains(&w, 30000000LL));
	assert_false(cpu_wait_explains(&w, 31000000LL)); /* within the catch-up, but more than twice the stall */
	w.guest_stall_ns = w.guest_longest_ns = 0;
	assert_false(cpu_wait_explains(&w, 1000000LL));
	/* Its vCPU thread waiting for a host CPU is the guest standing still too, whichever says more. */
	w.vcpu_wait_ns = 300000000LL;
	assert_true(cpu_wait_explains(&w, 320000000LL));
	assert_false(cpu_wait_explains(&w, 330000000LL));
	w.span_ns = 400000000LL;
	cpu_wait_format(&w, text, sizeof text);
	assert_string_equal(text, "the guest's vCPU thread waited 300.0 ms for a host CPU (schedstat), the guest stood "
				  "still 0.0 ms of 2600.0 ms (its vCPU not run; longest 0.0 ms, by its agent's clock watch) "
				  "over the last 400.0 ms");
	w.vcpu_wait_ns = -1;
	/* The host's deferred work still counts on its own. */
	w.deferred_ns = 40000000LL;
	assert_true(cpu_wait_explains(&w, 40000000LL));
	assert_false(cpu_wait_explains(&w, 40000001LL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_between),
		cmocka_unit_test(test_unknown),
		cmocka_unit_test(test_guest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
