/* report_json.h - the versioned JSON report (schema in docs/report-json.md): every case@variant with
 * its verdict, every event (segments expected and observed, app results, states, counters), timings
 * and the pcap path. */
#ifndef TCPHARNESS_REPORT_JSON_H
#define TCPHARNESS_REPORT_JSON_H

#include "report.h"

#define REPORT_JSON_SCHEMA "tcpharness-report/1"
#define REPORT_JSON_EVENT_KINDS (RUN_EVENT_TEARDOWN + 1)

/* An event's `kind` word: "injected", "segment", ... (docs/report-json.md). */
const char *report_json_event_kind(enum run_event_kind kind);

/* Returns 0, or -1 with *error a malloc'd message. */
int report_json_write(const char *path, const struct run_set *set, char **error);

#endif
