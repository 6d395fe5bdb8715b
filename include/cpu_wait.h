/* cpu_wait.h - how long the work a timing verdict depends on waited for a CPU, from the kernel's own
 * accounts: ksoftirqd's run-queue wait and steal time per CPU, the calling thread's wait, PSI; and how
 * long a VM guest under test stood still, by its agent's clock watch (clock_watch.h). */
#ifndef TCPHARNESS_CPU_WAIT_H
#define TCPHARNESS_CPU_WAIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CPU_WAIT_MAX_CPUS 64

/* The counters at one moment; -1 where the kernel does not say (no schedstat, no PSI, no ksoftirqd
 * visible in this pid namespace). */
struct cpu_wait_snapshot {
	int cpus;
	int64_t softirq_ns[CPU_WAIT_MAX_CPUS];      /* ksoftirqd/N's time runnable: running or waiting */
	int64_t steal_ns[CPU_WAIT_MAX_CPUS];        /* time the hypervisor ran something else */
	int64_t thread_wait_ns;                     /* the calling thread's time runnable but not running */
	int64_t vcpu_wait_ns;                       /* the watched guest vCPU thread's, likewise */
	int64_t stall_ns;                           /* PSI cpu "some": time any task waited */
	int64_t at_ns;                              /* CLOCK_MONOTONIC */
};

/* What waited between two snapshots. The network stack's deferred work (softirqs the kernel could not
 * run at once: packet delivery between namespaces, TCP timers) runs in ksoftirqd/N on the CPU that
 * raised it, so a segment held back there L ms kept that ksoftirqd runnable (waiting for the CPU or
 * working through what was queued before it) for L ms, plus whatever the hypervisor stole: deferred_ns
 * is the largest such sum over the CPUs, an upper bound of how long deferred work can have held a
 * segment back in the span. */
struct cpu_wait {
	int64_t deferred_ns; /* -1: unknown */
	int cpu;             /* the CPU deferred_ns is from */
	int64_t thread_wait_ns, stall_ns, span_ns; /* -1: unknown */
	/* A guest's stack runs only while the host runs its vCPU: how long the guest ran nothing in a span
	 * of guest_span_ns (not span_ns: the window's end to the segment, however late the harness saw
	 * it), and its longest such stretch (clock_watch_stalled_between); -1: unknown, not a guest. */
	int64_t guest_stall_ns, guest_longest_ns, guest_span_ns;
	/* How long the guest's vCPU thread waited on a host run queue (schedstat): the guest ran nothing
	 * meanwhile. -1: unknown, not a guest. */
	int64_t vcpu_wait_ns;
};

/* Nothing known: every figure -1. */
struct cpu_wait cpu_wait_unknown(void);

/* A guest that runs again runs its overdue timers and sends within this (a tick, TCG, the TAP). */
#define CPU_WAIT_GUEST_CATCH_UP_NS 20000000LL

/* Whether what waited explains a segment overdue_ns: deferred work runnable at least that long, or a
 * guest that stood still (by its clock watch, or its vCPU waiting for a host CPU) for all of it but
 * its catch-up, and at least half of it. */
bool cpu_wait_explains(const struct cpu_wait *w, int64_t overdue_ns);

/* Reads the counters now (the thread's own for thread_wait_ns). */
void cpu_wait_snapshot(struct cpu_wait_snapshot *s);

/* From now on the calling thread's snapshots read vcpu_wait_ns from schedstat_path (a VM guest's vCPU
 * thread's /proc/PID/task/TID/schedstat, target_case.vcpu_schedstat); NULL: none. */
void cpu_wait_watch_vcpu(const char *schedstat_path);

struct cpu_wait cpu_wait_between(const struct cpu_wait_snapshot *before, const struct cpu_wait_snapshot *after);

/* "ksoftirqd/1 was runnable 12.3 ms (schedstat, steal included), the harness thread waited 4.0 ms, some
 * task 80.1 ms (PSI cpu), the guest stood still 2500.0 ms (...) over the last 120.0 ms", leaving out
 * what is unknown. Like snprintf. */
int cpu_wait_format(const struct cpu_wait *w, char *buf, size_t size);

/* Parsers for the files, pure. The run time plus the run-queue wait (ns) of a /proc/PID/schedstat text
 * when run is true, the wait alone otherwise; PSI's "some"
 * total (us -> ns) of a /proc/pressure/cpu text; steal (ns) of each "cpuN" line of a /proc/stat text,
 * given USER_HZ, into steal[0..max): the number of CPUs found. -1 when the text does not say. */
int64_t cpu_wait_parse_schedstat(const char *text, bool run);
int64_t cpu_wait_parse_psi(const char *text);
int cpu_wait_parse_steal(const char *text, long user_hz, int64_t *steal, int max);

#endif
