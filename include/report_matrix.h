/* report_matrix.h - the outcome table: rows are cases, columns their variants (or the targets
 * compared), each cell the word for what the stack did at the case's `outcome` steps. */
#ifndef TCPHARNESS_REPORT_MATRIX_H
#define TCPHARNESS_REPORT_MATRIX_H

#include <stdbool.h>
#include <stdio.h>

#include "report.h"

/* The cell of one record: SKIP; ERR for a harness error; the outcome, with `!` appended when the case
 * failed, `?` when it passed with unchecked lines (an unchecked outcome reads UNSEEN) and `~` when it
 * passed on a retry; `pass` or `FAIL` for a case that marks no outcome (or failed before reaching it);
 * `-` when it never ran. */
void matrix_cell(const struct run_record *r, char *buf, size_t size);

/* Prints one table per distinct list of variant names (cases without variants share a table with one
 * `outcome` column), in the order the cases come; when the set names families, each column is one per
 * family (`tw-kept/ipv4`, `tw-kept/ipv6`..., or `ipv4`, `ipv6`... without variants). markdown: GitHub
 * tables; else aligned columns. */
void matrix_print(FILE *out, const struct run_set *set, bool markdown);

#define MATRIX_MAX_TARGETS 8

/* One table comparing targets (stacks, kernels): a row per case@variant, a column per target, labels
 * as headers. Every set holds the same runs in the same order (one per target). */
void matrix_print_targets(FILE *out, const struct run_set *sets, const char *const *labels, int count,
			  bool markdown);

#endif
