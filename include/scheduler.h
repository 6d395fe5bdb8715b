/* scheduler.h - runs a set of case@variants N at a time, each in its own sandbox on the target, and
 * hands every result back in set order as it lands (run, matrix and explore share it). */
#ifndef TCPHARNESS_SCHEDULER_H
#define TCPHARNESS_SCHEDULER_H

#include "report.h"
#include "run.h"

#define SCHEDULER_MAX_JOBS 64

/* Told about records in set order, on the calling thread: started when the caller begins waiting for
 * a record, finished once it ran. Either may be NULL. */
struct schedule_listener {
	void (*started)(void *context, const struct run_record *r);
	void (*finished)(void *context, const struct run_record *r);
	void *context;
};

/* Runs every record of set, `jobs` at a time (1..SCHEDULER_MAX_JOBS), and returns
 * when all ran or run_interrupted stopped them (the workers learn of it through the same signal).
 * Returns how many workers started: 0 means none could, and nothing ran. */
int schedule_run(struct run_set *set, const struct run_options *options, int jobs,
		 const struct schedule_listener *listener);

/* SIGINT and SIGTERM set run_interrupted (the running cases stop at their next step and everything
 * they created is removed); SIGPIPE is ignored, so a dead agent is an error reply. */
void schedule_install_signal_handlers(void);

#endif
