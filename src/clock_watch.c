/* clock_watch.c - see clock_watch.h. */
#include "clock_watch.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define CLOCK_WATCH_KEPT 256

struct stall {
	int64_t began_ns, ended_ns; /* CLOCK_MONOTONIC of the machine watched */
};

static pthread_mutex_t watch_lock = PTHREAD_MUTEX_INITIALIZER;
static struct stall stalls[CLOCK_WATCH_KEPT];
static int stall_count, stall_next;
static int64_t next_due_ns; /* 0: no thread */

static int64_t monotonic_ns(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
}

/* Sleeps to absolute due times; a wake that comes late records the span from its due time on, in
 * which the machine ran nothing of ours, and the next due time counts from the wake. */
static void *watch(void *unused)
{
	(void)unused;
	for (;;) {
		pthread_mutex_lock(&watch_lock);
		int64_t due = next_due_ns;
		pthread_mutex_unlock(&watch_lock);
		struct timespec at = { .tv_sec = (time_t)(due / 1000000000), .tv_nsec = (long)(due % 1000000000) };
		while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
			;
		int64_t woke = monotonic_ns();
		pthread_mutex_lock(&watch_lock);
		if (woke - due > CLOCK_WATCH_STALL_NS) {
			stalls[stall_next] = (struct stall){ due, woke };
			stall_next = (stall_next + 1) % CLOCK_WATCH_KEPT;
			if (stall_count < CLOCK_WATCH_KEPT)
				stall_count++;
		}
		next_due_ns = (woke > due ? woke : due) + CLOCK_WATCH_PERIOD_NS;
		pthread_mutex_unlock(&watch_lock);
	}
	return NULL;
}

int clock_watch_start(void)
{
	if (clock_watch_running())
		return 0;
	pthread_mutex_lock(&watch_lock);
	next_due_ns = monotonic_ns() + CLOCK_WATCH_PERIOD_NS;
	pthread_mutex_unlock(&watch_lock);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
	pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
	struct sched_param param = { .sched_priority = sched_get_priority_max(SCHED_FIFO) };
	pthread_attr_setschedparam(&attr, &param);
	pthread_t thread;
	int err = pthread_create(&thread, &attr, watch, NULL);
	if (err == EPERM) /* no CAP_SYS_NICE: an ordinary thread still sees the machine stop */
		err = pthread_create(&thread, NULL, watch, NULL);
	pthread_attr_destroy(&attr);
	if (err) {
		pthread_mutex_lock(&watch_lock);
		next_due_ns = 0;
		pthread_mutex_unlock(&watch_lock);
	}
	return err;
}

bool clock_watch_running(void)
{
	pthread_mutex_lock(&watch_lock);
	bool running = next_due_ns != 0;
	pthread_mutex_unlock(&watch_lock);
	return running;
}

/* Appends one stall; false when it does not fit. */
static bool append_stall(char *text, size_t size, size_t *used, int64_t now, const struct stall *s)
{
	int n = snprintf(text + *used, size - *used, "%s%lld:%lld", *used ? " " : "",
			 (long long)((now - s->ended_ns) / 1000000), (long long)((s->ended_ns - s->began_ns) / 1000000));
	if (n < 0 || (size_t)n >= size - *used) {
		text[*used] = '\0';
		return false;
	}
	*used += (size_t)n;
	return true;
}

int clock_watch_recent(char *text, size_t size)
{
	if (!size)
		return 0;
	text[0] = '\0';
	size_t used = 0;
	int written = 0;
	int64_t now = monotonic_ns();
	pthread_mutex_lock(&watch_lock);
	/* The thread may not have run since the machine came back: the wait it is in is a stall too. */
	if (next_due_ns && now - next_due_ns > CLOCK_WATCH_STALL_NS) {
		struct stall ongoing = { next_due_ns, now };
		if (append_stall(text, size, &used, now, &ongoing))
			written++;
	}
	for (int i = 0; i < stall_count; i++) {
		const struct stall *s = &stalls[(stall_next - 1 - i + CLOCK_WATCH_KEPT) % CLOCK_WATCH_KEPT];
		if (!append_stall(text, size, &used, now, s))
			break;
		written++;
	}
	pthread_mutex_unlock(&watch_lock);
	return written;
}

int64_t clock_watch_stalled_between(const char *text, int64_t now_ns, int64_t from_ns, int64_t to_ns,
				    int64_t *longest_ns)
{
	int64_t total = 0, longest = 0;
	const char *at = text;
	while (*at) {
		char *end;
		if (!isdigit((unsigned char)*at))
			return -1;
		long long ago = strtoll(at, &end, 10);
		if (*end != ':' || !isdigit((unsigned char)end[1]))
			return -1;
		at = end + 1;
		long long length = strtoll(at, &end, 10);
		if (*end && *end != ' ')
			return -1;
		at = *end ? end + 1 : end;
		int64_t ended = now_ns - (int64_t)ago * 1000000, began = ended - (int64_t)length * 1000000;
		int64_t lo = began > from_ns ? began : from_ns, hi = ended < to_ns ? ended : to_ns;
		if (hi <= lo)
			continue;
		total += hi - lo;
		if (hi - lo > longest)
			longest = hi - lo;
	}
	if (longest_ns)
		*longest_ns = longest;
	return total;
}
