/* scheduler.c - see scheduler.h. */
#include "scheduler.h"

#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>

/* Workers take records in order; the calling thread reports each result in that order as it lands. */
struct work_queue {
	struct run_set *set;
	const struct run_options *options;
	pthread_mutex_t lock;
	pthread_cond_t changed; /* a record finished, or a worker stopped */
	int next;               /* the next record a worker takes */
	int workers_running;
};

static void *run_worker(void *arg)
{
	struct work_queue *q = arg;
	pthread_mutex_lock(&q->lock);
	while (q->next < q->set->count && !run_interrupted) {
		struct run_record *r = &q->set->runs[q->next++];
		pthread_mutex_unlock(&q->lock);
		struct case_result result;
		run_case(r->c, r->variant, q->options, &result);
		pthread_mutex_lock(&q->lock);
		r->result = result;
		r->ran = true;
		pthread_cond_broadcast(&q->changed);
	}
	q->workers_running--;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

/* A signal lands in one thread; the others learn of it from the same signal, which cuts their sleeps
 * and waits short (the handler only sets run_interrupted). */
static void interrupt_workers(const pthread_t *workers, int count)
{
	for (int i = 0; i < count; i++)
		pthread_kill(workers[i], run_interrupted);
}

int schedule_run(struct run_set *set, const struct run_options *options, int jobs,
		 const struct schedule_listener *listener)
{
	struct work_queue q = { .set = set, .options = options };
	pthread_mutex_init(&q.lock, NULL);
	pthread_condattr_t monotonic;
	pthread_condattr_init(&monotonic);
	pthread_condattr_setclock(&monotonic, CLOCK_MONOTONIC);
	pthread_cond_init(&q.changed, &monotonic);
	pthread_condattr_destroy(&monotonic);
	pthread_t workers[SCHEDULER_MAX_JOBS];
	int started = 0;
	for (; started < jobs && started < SCHEDULER_MAX_JOBS && started < set->count; started++) {
		if (pthread_create(&workers[started], NULL, run_worker, &q) != 0)
			break;
		q.workers_running++;
	}
	bool workers_told = false;
	pthread_mutex_lock(&q.lock);
	for (int i = 0; i < set->count; i++) {
		struct run_record *r = &set->runs[i];
		if (!r->ran && q.workers_running > 0 && listener && listener->started)
			listener->started(listener->context, r);
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
		if (r->ran && listener && listener->finished)
			listener->finished(listener->context, r);
	}
	pthread_mutex_unlock(&q.lock);
	for (int i = 0; i < started; i++)
		pthread_join(workers[i], NULL);
	pthread_cond_destroy(&q.changed);
	pthread_mutex_destroy(&q.lock);
	return started;
}

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
