/* report_html.h - a self-contained HTML page (no network fetches, no external scripts): the summary,
 * the variant matrix, and a ladder diagram per case@variant with every segment as an arrow. */
#ifndef TCPHARNESS_REPORT_HTML_H
#define TCPHARNESS_REPORT_HTML_H

#include "report.h"

/* Writes DIR/index.html, creating DIR and its parents; a relative pcap path is linked relative to DIR.
 * The elements tests may rely on are listed at the top of report_html.c. Returns 0, or -1 with *error
 * a malloc'd message (the caller frees it). */
int report_html_write(const char *dir, const struct run_set *set, char **error);

#endif
