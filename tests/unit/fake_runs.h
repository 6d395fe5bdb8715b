/* fake_runs.h - hand-made run records and events for the report tests: what run_case would fill,
 * without a kernel. Each test sets the fields it looks at beyond these. */
#ifndef TCPHARNESS_TESTS_FAKE_RUNS_H
#define TCPHARNESS_TESTS_FAKE_RUNS_H

#include <stdio.h>
#include <string.h>

#include "report.h"

/* The name case_names_assign gives a file whose directory has that name ("t/x" for "cases/t/x.tc"),
 * for hand-made cases whose paths do not exist. Static storage, so nothing is freed. */
static inline char *fake_case_name(const char *path)
{
	static char names[32][128];
	static int used;
	char *name = names[used++ % 32];
	const char *start = strrchr(path, '/');
	if (start)
		while (start > path && start[-1] != '/')
			start--;
	else
		start = path;
	snprintf(name, sizeof names[0], "%.*s", (int)(strlen(start) - 3), start);
	return name;
}

/* A case at path (named as case_names_assign would) of lines[0..line_count) and steps[0..step_count),
 * with variant_count variants named by the test; no peers. */
static inline struct case_file fake_case(const char *path, char **lines, int line_count, struct step *steps,
					 int step_count, int variant_count)
{
	struct case_file c;
	memset(&c, 0, sizeof c);
	c.path = (char *)path;
	c.name = fake_case_name(path);
	c.lines = lines;
	c.line_count = line_count;
	c.steps = steps;
	c.step_count = step_count;
	c.variant_count = variant_count;
	return c;
}

/* A record that ran with this verdict; no name, message or events. */
static inline struct run_record fake_record(const struct case_file *c, int variant, enum verdict verdict)
{
	struct run_record r;
	memset(&r, 0, sizeof r);
	r.c = c;
	r.variant = variant;
	r.ran = true;
	r.result.verdict = verdict;
	r.result.failed_step = -1;
	return r;
}

static inline struct run_event fake_event(enum run_event_kind kind, int step, int peer, bool broke,
					  const char *expected, const char *observed, const char *outcome)
{
	struct run_event e;
	memset(&e, 0, sizeof e);
	e.kind = kind;
	e.step = step;
	e.peer = peer;
	e.broke = broke;
	snprintf(e.expected, sizeof e.expected, "%s", expected);
	snprintf(e.observed, sizeof e.observed, "%s", observed);
	snprintf(e.outcome, sizeof e.outcome, "%s", outcome);
	return e;
}

#endif
