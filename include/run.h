/* run.h - run one case under one variant in a fresh sandbox and judge every step.
 * Owns the order of things: sandbox, wire, agent, observer; steps on a timeline; teardown. */
#ifndef TCPHARNESS_RUN_H
#define TCPHARNESS_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"

struct run_options {
	const char *captures_dir; /* pcap files go to <captures_dir>/<case>[@variant].pcap; NULL: none */
	int64_t tolerance_ns;     /* timing slack around expectations without an explicit window */
};

#define RUN_DEFAULT_TOLERANCE_NS (50 * 1000000LL)

enum verdict { VERDICT_PASS, VERDICT_FAIL, VERDICT_SKIP };

struct case_result {
	enum verdict verdict;
	char *message;      /* FAIL: the diagnostic (multi-line); SKIP: the reason; malloc'd or NULL */
	char *pcap_path;    /* malloc'd or NULL */
	int64_t duration_ns;
	int steps_run;
};

/* The display name of a case: its file's directory and base name without `.tc`
 * ("time_wait/lost_final_ack"). Malloc'd. */
char *run_case_name(const char *path);

/* Runs case c under variant index `variant` (-1 when the case declares none). Always fills *result
 * (free with case_result_free); infrastructure failures are FAILs whose message says what broke,
 * missing privileges and missing kernel features are SKIPs with the reason. */
void run_case(const struct case_file *c, int variant, const struct run_options *options,
	      struct case_result *result);

void case_result_free(struct case_result *r);

/* Set (to the signal's number) from a signal handler: the running case stops at its next step and is
 * reported as failed. */
extern volatile int run_interrupted;

#endif
