/* report_captures.h - makes an HTML report's directory self-contained: every run's capture file is
 * hard-linked (copied across file systems) under DIR/captures/, so the directory can be moved whole. */
#ifndef TCPHARNESS_REPORT_CAPTURES_H
#define TCPHARNESS_REPORT_CAPTURES_H

#include "report.h"

/* For each run of set with a capture, sets links[i] (malloc'd; NULL for a run without one) to that
 * capture's path relative to dir_real (the report directory, canonical): the capture itself when it is
 * already under it, else its link or copy at captures/<its path below the directory all the set's
 * captures share>, which replaces what was there. A capture that no longer exists is linked as given.
 * 0, or -1 with *error malloc'd (links then holds what was done; free them all either way). */
int report_captures_gather(const char *dir_real, const struct run_set *set, char **links, char **error);

#endif
