/* cpu_wait.c - see cpu_wait.h. */
#include "cpu_wait.h"

#include <dirent.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

int64_t cpu_wait_parse_schedstat(const char *text, bool run)
{
	long long ran, waited;
	if (sscanf(text, "%lld %lld", &ran, &waited) != 2 || ran < 0 || waited < 0)
		return -1;
	return run ? ran + waited : waited;
}

int64_t cpu_wait_parse_psi(const char *text)
{
	long long total;
	if (sscanf(text, "some avg10=%*f avg60=%*f avg300=%*f total=%lld", &total) != 1 || total < 0)
		return -1;
	return total * 1000;
}

int cpu_wait_parse_steal(const char *text, long user_hz, int64_t *steal, int max)
{
	int found = 0;
	for (const char *line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		int cpu;
		long long user, nice, system, idle, iowait, irq, softirq, stolen;
		if (sscanf(line, "cpu%d %lld %lld %lld %lld %lld %lld %lld %lld", &cpu, &user, &nice, &system, &idle,
			   &iowait, &irq, &softirq, &stolen) != 9 || cpu < 0 || cpu >= max)
			continue;
		steal[cpu] = stolen * (1000000000 / user_hz);
		if (cpu + 1 > found)
			found = cpu + 1;
	}
	return found;
}

/* The pids of ksoftirqd/0, /1, ... as this pid namespace shows them (0: not visible), found once. */
static pid_t softirq_threads[CPU_WAIT_MAX_CPUS];
static pthread_once_t softirq_threads_found = PTHREAD_ONCE_INIT;

/* /proc lists pids in ascending order and the ksoftirqd threads are among the first the kernel starts:
 * the scan stops once every CPU's is found, after a few dozen entries instead of every process on the
 * host (a process's first snapshot paid for them all, 1-2 ms with a hundred processes). */
static void find_softirq_threads(void)
{
	DIR *proc = opendir("/proc");
	if (!proc)
		return;
	long cpus = sysconf(_SC_NPROCESSORS_CONF);
	long found = 0;
	struct dirent *d;
	while ((cpus <= 0 || found < cpus) && (d = readdir(proc))) {
		char *end;
		long pid = strtol(d->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		char path[64], comm[32] = "";
		snprintf(path, sizeof path, "/proc/%ld/comm", pid);
		FILE *f = fopen(path, "re");
		if (!f)
			continue;
		int cpu;
		if (fgets(comm, sizeof comm, f) && sscanf(comm, "ksoftirqd/%d", &cpu) == 1 && cpu >= 0 &&
		    cpu < CPU_WAIT_MAX_CPUS && !softirq_threads[cpu]) {
			softirq_threads[cpu] = (pid_t)pid;
			found++;
		}
		fclose(f);
	}
	closedir(proc);
}

static size_t read_text(const char *path, char *buf, size_t size)
{
	FILE *f = fopen(path, "re");
	if (!f)
		return 0;
	size_t n = fread(buf, 1, size - 1, f);
	fclose(f);
	buf[n] = '\0';
	return n;
}

static int64_t read_schedstat(const char *path, bool run)
{
	char text[128];
	return read_text(path, text, sizeof text) ? cpu_wait_parse_schedstat(text, run) : -1;
}

/* Per thread: each worker runs its cases on a VM of its own. */
static _Thread_local char vcpu_schedstat[64];

void cpu_wait_watch_vcpu(const char *schedstat_path)
{
	snprintf(vcpu_schedstat, sizeof vcpu_schedstat, "%s", schedstat_path ? schedstat_path : "");
}

void cpu_wait_snapshot(struct cpu_wait_snapshot *s)
{
	pthread_once(&softirq_threads_found, find_softirq_threads);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	s->at_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	for (int i = 0; i < CPU_WAIT_MAX_CPUS; i++)
		s->steal_ns[i] = s->softirq_ns[i] = -1;
	char text[8192];
	s->cpus = read_text("/proc/stat", text, sizeof text)
			  ? cpu_wait_parse_steal(text, sysconf(_SC_CLK_TCK), s->steal_ns, CPU_WAIT_MAX_CPUS)
			  : 0;
	for (int i = 0; i < s->cpus; i++) {
		if (!softirq_threads[i])
			continue;
		char path[64];
		snprintf(path, sizeof path, "/proc/%d/schedstat", (int)softirq_threads[i]);
		s->softirq_ns[i] = read_schedstat(path, true);
	}
	s->thread_wait_ns = read_schedstat("/proc/thread-self/schedstat", false);
	s->vcpu_wait_ns = vcpu_schedstat[0] ? read_schedstat(vcpu_schedstat, false) : -1;
	s->stall_ns = read_text("/proc/pressure/cpu", text, sizeof text) ? cpu_wait_parse_psi(text) : -1;
}

static int64_t delta(int64_t before, int64_t after)
{
	return before < 0 || after < before ? -1 : after - before;
}

struct cpu_wait cpu_wait_unknown(void)
{
	return (struct cpu_wait){ .deferred_ns = -1, .cpu = -1, .thread_wait_ns = -1, .stall_ns = -1, .span_ns = -1,
				  .guest_stall_ns = -1, .guest_longest_ns = -1, .guest_span_ns = -1,
				  .vcpu_wait_ns = -1 };
}

bool cpu_wait_explains(const struct cpu_wait *w, int64_t overdue_ns)
{
	if (w->deferred_ns >= 0 && w->deferred_ns >= overdue_ns)
		return true;
	int64_t still = w->guest_stall_ns > w->vcpu_wait_ns ? w->guest_stall_ns : w->vcpu_wait_ns;
	return still > 0 && still + CPU_WAIT_GUEST_CATCH_UP_NS >= overdue_ns && 2 * still >= overdue_ns;
}

struct cpu_wait cpu_wait_between(const struct cpu_wait_snapshot *before, const struct cpu_wait_snapshot *after)
{
	struct cpu_wait w = cpu_wait_unknown();
	int cpus = before->cpus < after->cpus ? before->cpus : after->cpus;
	for (int i = 0; i < cpus; i++) {
		int64_t softirq = delta(before->softirq_ns[i], after->softirq_ns[i]);
		int64_t steal = delta(before->steal_ns[i], after->steal_ns[i]);
		if (softirq < 0)
			continue;
		int64_t sum = softirq + (steal > 0 ? steal : 0);
		if (sum > w.deferred_ns) {
			w.deferred_ns = sum;
			w.cpu = i;
		}
	}
	w.thread_wait_ns = delta(before->thread_wait_ns, after->thread_wait_ns);
	w.vcpu_wait_ns = delta(before->vcpu_wait_ns, after->vcpu_wait_ns);
	w.stall_ns = delta(before->stall_ns, after->stall_ns);
	w.span_ns = after->at_ns - before->at_ns;
	return w;
}

/* snprintf at offset n of buf, which may already be full. */
static int append(char *buf, size_t size, int n, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static int append(char *buf, size_t size, int n, const char *fmt, ...)
{
	size_t at = (size_t)n < size ? (size_t)n : size;
	va_list ap;
	va_start(ap, fmt);
	int m = vsnprintf(buf + at, size - at, fmt, ap);
	va_end(ap);
	return n + m;
}

int cpu_wait_format(const struct cpu_wait *w, char *buf, size_t size)
{
	int n = 0;
	const char *sep = "";
	if (size)
		buf[0] = '\0';
	if (w->deferred_ns >= 0) {
		n = append(buf, size, n, "ksoftirqd/%d was runnable %.1f ms (schedstat, steal included)", w->cpu,
			   (double)w->deferred_ns / 1e6);
		sep = ", ";
	}
	if (w->thread_wait_ns >= 0) {
		n = append(buf, size, n, "%sthe harness thread waited %.1f ms for a CPU", sep, (double)w->thread_wait_ns / 1e6);
		sep = ", ";
	}
	if (w->stall_ns >= 0) {
		n = append(buf, size, n, "%ssome task %.1f ms (PSI cpu)", sep, (double)w->stall_ns / 1e6);
		sep = ", ";
	}
	if (w->vcpu_wait_ns >= 0) {
		n = append(buf, size, n, "%sthe guest's vCPU thread waited %.1f ms for a host CPU (schedstat)", sep,
			   (double)w->vcpu_wait_ns / 1e6);
		sep = ", ";
	}
	if (w->guest_stall_ns >= 0) {
		n = append(buf, size, n, "%sthe guest stood still %.1f ms of %.1f ms (its vCPU not run; longest %.1f ms, "
			   "by its agent's clock watch)", sep, (double)w->guest_stall_ns / 1e6, (double)w->guest_span_ns / 1e6,
			   (double)w->guest_longest_ns / 1e6);
		sep = ", ";
	}
	if (w->span_ns < 0)
		return append(buf, size, n, "%s", *sep ? "" : "nothing known about waiting for a CPU");
	return append(buf, size, n, "%sover the last %.1f ms", *sep ? " " : "nothing known about waiting for a CPU ",
		      (double)w->span_ns / 1e6);
}
