/* send_budget.h - what a case sends, counted from its lines before anything runs: when each step is
 * due as written, and whether a lab run of it stays within a segments-per-second budget. */
#ifndef TCPHARNESS_SEND_BUDGET_H
#define TCPHARNESS_SEND_BUDGET_H

#include <stdbool.h>
#include <stdint.h>

#include "case.h"

/* Lab mode's default: a few kB/s of small frames, far above what any catalogue case sends by its
 * lines (a handful of segments a second) and harmless to any shared LAN. */
#define SEND_BUDGET_DEFAULT_PPS 1000
#define SEND_BUDGET_MAX_PPS 100000

struct send_budget {
	unsigned max_pps; /* TCP segments the harness may send in any one second */
	bool allow_storm; /* `storm` lines may run; storm.c paces them at max_pps */
};

/* When each step of c is due in variant (-1: the case has none), as written: at_ns[i] for
 * c->steps[i], a relative time counted from the previous step of that variant. Steps outside the
 * variant get their predecessor's time. at_ns has room for c->step_count. */
void send_budget_timeline(const struct case_file *c, int variant, int64_t *at_ns);

/* 0 when, in variant, c's injected segments never number more than budget->max_pps in any one
 * second of its timeline and it has no storm line unless budget->allow_storm; else -1 with *error
 * malloc'd: `file:line:col: why`, naming the first line that breaks the budget. Lines for one stack
 * only count on every stack. */
int send_budget_check(const struct case_file *c, int variant, const struct send_budget *budget, char **error);

#endif
