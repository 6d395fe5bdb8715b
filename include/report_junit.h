/* report_junit.h - JUnit XML that Jenkins and GitLab read: a testsuite per case file, a testcase per
 * case@variant, <failure> with the diff, <skipped> with the reason. */
#ifndef TCPHARNESS_REPORT_JUNIT_H
#define TCPHARNESS_REPORT_JUNIT_H

#include "report.h"

/* Returns 0, or -1 with *error a malloc'd message. */
int report_junit_write(const char *path, const struct run_set *set, char **error);

#endif
