/* schedule.h - runs a set of case@variants on one target, several at once, each in a sandbox of its
 * own; retries a run that ERRORed (and, on request, one that FAILed) in a fresh one, keeping every try. */
#ifndef TCPHARNESS_SCHEDULE_H
#define TCPHARNESS_SCHEDULE_H

#include <stdio.h>

#include "report.h"
#include "run.h"

#define SCHEDULE_MAX_JOBS 64
#define SCHEDULE_DEFAULT_RETRIES 2

struct schedule_options {
	/* Worker i runs its cases with run[i % run_count]: its own VM where the target boots one per
	 * worker, the one target otherwise. */
	const struct run_options *run;
	int run_count;       /* 1..jobs */
	int jobs;            /* records run at once, 1..SCHEDULE_MAX_JOBS */
	int retries;         /* extra tries for a run that ERRORed (--retries) */
	int rerun_failures;  /* extra tries for a run that FAILed (--rerun-failures) */
	/* NULL, or called by worker i on its own thread before it takes a record: 0 once run[i % run_count]
	 * is usable (its VM booted while the other workers ran cases), else the worker takes none. */
	int (*await_run)(void *arg, int worker);
	void *await_arg;
};

/* SIGINT and SIGTERM set run_interrupted (running cases stop at their next step and remove what they
 * made); SIGPIPE is ignored, so a dead agent is an error reply. schedule_run installs them too; a
 * command that opens targets first installs them before. */
void schedule_install_signal_handlers(void);

/* Runs every record of set, filling its result and earlier tries, and prints each on console (NULL:
 * nowhere) in case order as it lands, then the closing line. SIGINT and SIGTERM stop it: the running cases end at their
 * next step, the others never start. 0, or -1 when no worker thread could start (said on stderr). */
int schedule_run(struct run_set *set, const struct schedule_options *options, FILE *console);

#endif
