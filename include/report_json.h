/* report_json.h - the versioned JSON report (schema in docs/report-json.md): every case@variant with
 * its verdict, every event (segments expected and observed, app results, states, counters), timings
 * and the pcap path. */
#ifndef TCPHARNESS_REPORT_JSON_H
#define TCPHARNESS_REPORT_JSON_H

#include "report.h"

/* Returns 0, or -1 with *error a malloc'd message. */
int report_json_write(const char *path, const struct run_set *set, char **error);

#endif
