/* report_files.h - the machine-readable and shareable reports written after a run: TAP 13, JUnit XML,
 * JSON (schema in docs/report-json.md) and a self-contained HTML page with a ladder per case. */
#ifndef TCPHARNESS_REPORT_FILES_H
#define TCPHARNESS_REPORT_FILES_H

#include <stdio.h>

#include "report.h"

/* Each writer returns 0, or -1 with *error a malloc'd message (nothing half-written is left claimed
 * as a report: the caller says which file failed). */
int report_tap_write(FILE *out, const struct run_set *set, char **error);
int report_junit_write(const char *path, const struct run_set *set, char **error);
int report_json_write(const char *path, const struct run_set *set, char **error);
int report_html_write(const char *dir, const struct run_set *set, char **error);

#endif
