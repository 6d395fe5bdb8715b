/* report.h - the results of one invocation, in case order: what every report after the console
 * (matrix, TAP, JUnit, JSON, HTML) reads. */
#ifndef TCPHARNESS_REPORT_H
#define TCPHARNESS_REPORT_H

#include "case.h"
#include "run.h"

/* One case under one variant, and how it went. */
struct run_record {
	const struct case_file *c;
	int variant;       /* index into c->variants; -1 when the case declares none */
	char *name;        /* `time_wait/lost_final_ack@tw-kept`; malloc'd */
	bool ran;          /* false: never started (the run was interrupted first) */
	struct case_result result;
};

struct run_set {
	struct run_record *runs;
	int count;
};

/* The display name of a case file plus `@variant` (variant >= 0). Malloc'd. */
char *report_run_name(const struct case_file *c, int variant);

/* The name of the variant a record ran, or "" for a case without variants. */
const char *report_variant_name(const struct run_record *r);

#endif
