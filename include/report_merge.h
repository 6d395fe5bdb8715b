/* report_merge.h - puts shard JSON reports (`run --shard K/N --report json=FILE`) back together: checks
 * that they are shards 1..N of one selection, each once, and fills that selection's records. */
#ifndef TCPHARNESS_REPORT_MERGE_H
#define TCPHARNESS_REPORT_MERGE_H

#include <stdint.h>

#include "report.h"

/* What the shards were cut from, as their reports say (docs/report-json.md, "selection"). */
struct merge_selection {
	const char *const *paths; /* the case PATHs the shards were given */
	int path_count;
	const char *variant_filter; /* NULL: every variant */
	unsigned families;
	int run_count;
	uint64_t digest;
	int shard_count;
};

struct merge_reports; /* the parsed reports */

/* Reads the JSON reports in files[0..count): each a tcpharness-report/1 with a selection and a shard,
 * all of one selection and one N, together shards 1..N once each. Fills *reports (free with
 * merge_reports_free; *selection's strings live in it). 0, or -1 with *error malloc'd: what is wrong,
 * naming the files (a missing or doubled shard, another selection, JSON that does not parse). */
int merge_reports_read(const char *const *files, int count, struct merge_reports **reports,
		       struct merge_selection *selection, char **error);

/* Fills set - the selection rebuilt from its case files in selection order, none run - with every
 * report's runs, each at its index; checks that each report holds exactly its shard's runs (those it
 * counts as not run aside) and names them as the selection does. set->wall_ns becomes the slowest
 * shard's. 0, or -1 with *error malloc'd. */
int merge_reports_fill(const struct merge_reports *reports, struct run_set *set, char **error);

void merge_reports_free(struct merge_reports *reports);

#endif
