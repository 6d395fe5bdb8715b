/* report_tap.h - TAP version 13 for CI systems and `prove`: one test point per case@variant, a YAML
 * block with the diagnostic (the expected/observed diff) on failure, `# SKIP reason` on skips,
 * `not ok ... # harness error` on ERRORs, and every try of a FLAKY run in its YAML block. */
#ifndef TCPHARNESS_REPORT_TAP_H
#define TCPHARNESS_REPORT_TAP_H

#include <stdio.h>

#include "report.h"

/* Returns 0, or -1 with *error a malloc'd message. */
int report_tap_write(FILE *out, const struct run_set *set, char **error);

#endif
