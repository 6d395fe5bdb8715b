/* explore_table.h - the explored table in memory (rows x events, a cell per target) and its outputs:
 * markdown, JSON and an HTML page, in full or as the difference list (`--diff`). */
#ifndef TCPHARNESS_EXPLORE_TABLE_H
#define TCPHARNESS_EXPLORE_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#include "explore.h"
#include "explore_rfc.h"

#define EXPLORE_MAX_TARGETS 8

struct explore_cell {
	int row, event;          /* indexes into the table's rows and events */
	char *name;              /* `server-established/rst-in-window`; malloc'd */
	struct explore_observation seen[EXPLORE_MAX_TARGETS];
	char *pcap[EXPLORE_MAX_TARGETS]; /* malloc'd or NULL */
	struct explore_rfc_answer rfc;
};

struct explore_table {
	struct explore_row rows[EXPLORE_MAX_ROWS];
	int row_count;
	const struct explore_event *events[64];
	int event_count;
	struct explore_cell *cells; /* row-major: cells[row * event_count + event] */
	const char *labels[EXPLORE_MAX_TARGETS]; /* "local: Linux 6.18..." */
	const char *kinds[EXPLORE_MAX_TARGETS];  /* "local" */
	int target_count;
};

/* A cell's short text on one target: the reply words, an arrow to the state after when it changed
 * (`RST→NONE`, `ACCEPT→SYN_RECV`, `DROP`), or SKIP / ERROR. */
void explore_cell_short(const struct explore_table *t, const struct explore_cell *cell, int target, char *buf,
			size_t size);

/* Whether the targets disagree on the cell, and whether a target's answer contradicts the RFC model. */
bool explore_cell_targets_differ(const struct explore_table *t, const struct explore_cell *cell);
bool explore_cell_contradicts_rfc(const struct explore_table *t, const struct explore_cell *cell, int target);

/* The table as GitHub markdown: a row per state, a column per event, each cell every target's short
 * text (`a / b` with several), `¹` where it contradicts the RFC model. */
void explore_print_markdown(FILE *out, const struct explore_table *t);

/* Only the cells where targets differ or a target contradicts the RFC model: one line each, with every
 * target's answer, the RFC's and its section. */
void explore_print_diff(FILE *out, const struct explore_table *t);

/* Every cell with everything observed (schema tcpharness-explore/1). 0, or -1 with *error. */
int explore_write_json(FILE *out, const struct explore_table *t, char **error);

/* A self-contained page: the table coloured by reply, each cell linking to its ladder in the run
 * report written next to it (DIR/<target>/index.html). 0, or -1 with *error. */
int explore_write_html(FILE *out, const struct explore_table *t, char **error);

#endif
