/* schedule.c - see schedule.h. */
#include "schedule.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "report_console.h"
#include "worker_link.h"

static void on_signal(int sig)
{
	run_interrupted = sig;
}

void schedule_install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A dead agent must show up as an error reply, not kill the harness. */
	signal(SIGPIPE, SIG_IGN);
}

/* Workers take records in order; the main thread prints each result in that order as it lands. */
struct work_queue {
	struct run_set *set;
	const struct schedule_options *options;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a record finished, or a worker stopped */
	int next;               /* the next record a worker takes */
	int workers_running;
};

struct worker {
	struct work_queue *queue;
	const struct run_options *run;
	int index;
};

/* Whether a try with this verdict is tried again: an ERROR proves nothing about the stack, so it is
 * (up to --retries times); a FAIL only when asked (--rerun-failures). Never after a signal. */
static bool try_again(const struct run_record *r, const struct schedule_options *o, int errors, int failures)
{
	if (run_interrupted || r->earlier_count == RUN_MAX_TRIES)
		return false;
	if (r->result.verdict == VERDICT_ERROR)
		return errors < o->retries;
	return r->result.verdict == VERDICT_FAIL && failures < o->rerun_failures;
}

/* Runs one record until a try settles it; each try has a fresh sandbox (run_case makes one), and every
 * try but the last is kept with its verdict and message. */
static void run_record_tries(struct run_record *r, const struct schedule_options *o, const struct run_options *run)
{
	int errors = 0, failures = 0;
	run_case(r->c, r->variant, r->family, run, &r->result);
	while (try_again(r, o, errors, failures)) {
		errors += r->result.verdict == VERDICT_ERROR;
		failures += r->result.verdict == VERDICT_FAIL;
		struct run_try *earlier = &r->earlier[r->earlier_count++];
		earlier->verdict = r->result.verdict;
		earlier->message = r->result.message;
		earlier->duration_ns = r->result.duration_ns;
		r->result.message = NULL;
		case_result_free(&r->result);
		run_case(r->c, r->variant, r->family, run, &r->result);
	}
}

static void *run_worker(void *arg)
{
	const struct worker *w = arg;
	struct work_queue *q = w->queue;
	bool usable = !q->options->await_run || q->options->await_run(q->options->await_arg, w->index) == 0;
	pthread_mutex_lock(&q->lock);
	while (usable && q->next < q->set->count && !run_interrupted) {
		struct run_record *r = &q->set->runs[q->next++];
		pthread_mutex_unlock(&q->lock);
		struct run_record done = *r;
		run_record_tries(&done, q->options, w->run);
		pthread_mutex_lock(&q->lock);
		*r = done;
		r->ran = true;
		pthread_cond_broadcast(&q->changed);
	}
	q->workers_running--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	worker_link_release();
	return NULL;
}

/* A signal lands in one thread; the others learn of it from the same signal, which cuts their sleeps
 * and waits short (the handler only sets run_interrupted). */
static void interrupt_workers(const pthread_t *workers, int count)
{
	for (int i = 0; i < count; i++)
		pthread_kill(workers[i], run_interrupted);
}

int schedule_run(struct run_set *set, const struct schedule_options *options, FILE *console)
{
	struct console_report report;
	console_report_init(&report, console, set->count);
	schedule_install_signal_handlers();
	struct work_queue q = { .set = set, .options = options };
	pthread_mutex_init(&q.lock, NULL);
	pthread_condattr_t monotonic;
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&q.changed, &monotonic);
	pthread_condattr_destroy(&monotonic);
	pthread_t workers[SCHEDULE_MAX_JOBS];
	struct worker roles[SCHEDULE_MAX_JOBS];
	int started = 0;
	for (; started < options->jobs && started < set->count; started++) {
		roles[started] = (struct worker){ &q, &options->run[started % options->run_count], started };
		if (pthread_create(&workers[started], NULL, run_worker, &roles[started]) != 0)
			break;
		q.workers_running++;
	}
	bool workers_told = false;
	pthread_mutex_lock(&q.lock);
	for (int i = 0; i < set->count; i++) {
		struct run_record *r = &set->runs[i];
		if (!r->ran && q.workers_running > 0)
			console_report_started(&report, r->name);
		while (!r->ran && q.workers_running > 0) {
			if (run_interrupted && !workers_told) {
				interrupt_workers(workers, started);
				workers_told = true;
			}
			struct timespec tick;
			clock_gettime(CLOCK_MONOTONIC, &tick);
			tick.tv_nsec += 50000000;
			if (tick.tv_nsec >= 1000000000) {
				tick.tv_sec++;
				tick.tv_nsec -= 1000000000;
			}
			pthread_cond_timedwait(&q.changed, &q.lock, &tick);
		}
		if (r->ran)
			console_report_result(&report, r);
	}
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	pthread_cond_destroy(&q.changed);
	pthread_mutex_destroy(&q.lock);
	console_report_summary(&report);
	if (started == 0 && set->count > 0) {
		fprintf(stderr, "tcpharness: cannot start a worker thread\n");
		return -1;
	}
	return 0;
}
