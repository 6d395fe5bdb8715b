/* dry_run.h - lab mode's --dry-run: every frame a run would send, printed in the case notation and as
 * hex, none of them sent. The address probes that found the peers free are the only frames on the link. */
#ifndef TCPHARNESS_DRY_RUN_H
#define TCPHARNESS_DRY_RUN_H

#include <stdio.h>

#include "report.h"
#include "target.h"

/* Prints, for each record of set in order, the ARP announcements and the segments its steps inject
 * (the stack's ISN, TSval and, where it connects, its port taken as 0: they are learned during a real
 * run) and each storm's size and pacing, all addressed as a run on t (a lab target opened with
 * dry_run) would address them. Returns 0, or -1 with *error malloc'd. */
int dry_run_print(struct target *t, const struct run_set *set, FILE *out, char **error);

#endif
