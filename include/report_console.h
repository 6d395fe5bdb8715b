/* report_console.h - what a person at a terminal reads: a line per case and variant, each failure's
 * diagnostic, a live progress line on a terminal, and the closing
 * `N passed, N failed, N skipped, N flaky, N errors`. */
#ifndef TCPHARNESS_REPORT_CONSOLE_H
#define TCPHARNESS_REPORT_CONSOLE_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

struct console_report {
	FILE *out;
	bool color;     /* a terminal and NO_COLOR unset */
	bool progress;  /* a terminal: show and erase a progress line */
	int total, done;
	int counts[SHOWN_VERDICT_COUNT];
};

/* out NULL: only count (explore keeps its own console). */
void console_report_init(struct console_report *r, FILE *out, int total);

/* Shows `[done/total] name` while a case runs (terminals only). */
void console_report_started(struct console_report *r, const char *name);

/* Prints `PASS name (12 ms)`, or FAIL/SKIP/ERROR with the message indented below, or FLAKY with every
 * try's verdict below, and counts it. Lines the stack could not show evidence for follow on the
 * verdict's line: `(2 unchecked: why)`. */
void console_report_result(struct console_report *r, const struct run_record *record);

/* Prints the closing line `N passed, N failed, N skipped, N flaky, N errors`. */
void console_report_summary(struct console_report *r);

#endif
