/* report_matrix.c - see report_matrix.h. */
#include "report_matrix.h"

#include <stdlib.h>
#include <string.h>

#define CELL_MAX (4 * OUTCOME_MAX + 2)
#define MAX_COLUMNS                                                                                        \
	(CASE_MAX_VARIANTS * FAMILY_COUNT + 1 > MATRIX_MAX_TARGETS + 1 ? CASE_MAX_VARIANTS * FAMILY_COUNT + 1    \
								      : MATRIX_MAX_TARGETS + 1)
#define HEADER_MAX (CASE_NAME_MAX + 8)

void matrix_cell(const struct run_record *r, char *buf, size_t size)
{
	const struct case_result *result = &r->result;
	if (!r->ran)
		snprintf(buf, size, "-");
	else if (result->verdict == VERDICT_SKIP)
		snprintf(buf, size, "SKIP");
	/* What the stack did at a line the harness could not perform proves nothing: no outcome shown. */
	else if (result->verdict == VERDICT_ERROR)
		snprintf(buf, size, "ERR");
	else if (result->verdict == VERDICT_FAIL && !result->outcome[0])
		snprintf(buf, size, "FAIL");
	else
		snprintf(buf, size, "%s%s%s", result->outcome[0] ? result->outcome : "pass",
			 result->verdict == VERDICT_FAIL ? "!" : result->unchecked ? "?" : "",
			 report_shown_verdict(r) == SHOWN_FLAKY ? "~" : "");
}

/* Two cases go in one table when they declare the same variant names in the same order. */
static bool same_columns(const struct case_file *a, const struct case_file *b)
{
	if (a->variant_count != b->variant_count)
		return false;
	for (int i = 0; i < a->variant_count; i++)
		if (strcmp(a->variants[i].name, b->variants[i].name) != 0)
			return false;
	return true;
}

static void print_row(FILE *out, const char *const *cells, const int *widths, int columns, bool markdown)
{
	for (int col = 0; col < columns; col++) {
		if (markdown)
			fprintf(out, "| %s ", cells[col]);
		else
			fprintf(out, "%s%-*s", col ? "  " : "", col == columns - 1 ? 0 : widths[col], cells[col]);
	}
	fputs(markdown ? "|\n" : "\n", out);
}

static void print_rule(FILE *out, const int *widths, int columns, bool markdown)
{
	for (int col = 0; col < columns; col++) {
		if (markdown) {
			fputs("|---", out);
			continue;
		}
		fputs(col ? "  " : "", out);
		for (int i = 0; i < widths[col]; i++)
			fputc('-', out);
	}
	fputs(markdown ? "|\n" : "\n", out);
}

/* The header's widths start the columns'; in the second pass (widths known) the header and its rule
 * are printed. */
static void start_table(FILE *out, int pass, const char *const *header, int *widths, int columns, bool markdown)
{
	if (pass == 0)
		for (int col = 0; col < columns; col++)
			widths[col] = (int)strlen(header[col]);
	if (pass == 1) {
		print_row(out, header, widths, columns, markdown);
		print_rule(out, widths, columns, markdown);
	}
}

/* Widens the columns to fit row; in the second pass (the widths known) prints it. */
static void fit_or_print(FILE *out, int pass, const char *const *row, int *widths, int columns, bool markdown)
{
	for (int col = 0; col < columns; col++) {
		int len = (int)strlen(row[col]);
		if (len > widths[col])
			widths[col] = len;
	}
	if (pass == 1)
		print_row(out, row, widths, columns, markdown);
}

/* The families a set's tables have a column for: one (unnamed) unless the set names families. */
static int family_columns(const struct run_set *set, enum address_family *families)
{
	int count = 0;
	for (int f = 0; f < FAMILY_COUNT; f++)
		if (set->families & 1u << f)
			families[count++] = (enum address_family)f;
	return report_names_families(set) ? count : 1;
}

/* The column of record r: its variant's, and within it its family's. */
static int column_of(const struct run_record *r, const enum address_family *families, int family_count)
{
	int family = 0;
	while (family < family_count - 1 && families[family] != r->family)
		family++;
	return 1 + (r->variant >= 0 ? r->variant : 0) * family_count + family;
}

/* The table of every case whose columns match those of the case starting at `first`: a column per
 * variant (`outcome` without variants), each split per family when the set names families. */
static void print_table(FILE *out, const struct run_set *set, int first, bool markdown)
{
	const struct case_file *model = set->runs[first].c;
	enum address_family families[FAMILY_COUNT];
	int family_count = family_columns(set, families);
	int variants = model->variant_count ? model->variant_count : 1;
	int columns = 1 + variants * family_count;
	const char *header[MAX_COLUMNS];
	char header_text[MAX_COLUMNS][HEADER_MAX];
	header[0] = "case";
	for (int v = 0; v < variants; v++)
		for (int f = 0; f < family_count; f++) {
			int col = 1 + v * family_count + f;
			const char *variant = model->variant_count ? model->variants[v].name : "outcome";
			if (family_count == 1)
				snprintf(header_text[col], HEADER_MAX, "%s", variant);
			else if (!model->variant_count)
				snprintf(header_text[col], HEADER_MAX, "%s", family_name(families[f]));
			else
				snprintf(header_text[col], HEADER_MAX, "%s/%s", variant, family_name(families[f]));
			header[col] = header_text[col];
		}
	int widths[MAX_COLUMNS];

	/* Widths first, from every row of this table. */
	for (int pass = 0; pass < 2; pass++) {
		start_table(out, pass, header, widths, columns, markdown);
		for (int i = first; i < set->count; i = report_case_end(set, i)) {
			if (!same_columns(set->runs[i].c, model))
				continue;
			char cell_text[MAX_COLUMNS][CELL_MAX];
			const char *row[MAX_COLUMNS];
			row[0] = set->runs[i].c->name;
			for (int col = 1; col < columns; col++) {
				snprintf(cell_text[col], CELL_MAX, "-");
				row[col] = cell_text[col];
			}
			/* A --variant filter or a `family` line may have left only some columns run. */
			for (int r = i; r < report_case_end(set, i); r++) {
				int col = column_of(&set->runs[r], families, family_count);
				matrix_cell(&set->runs[r], cell_text[col], CELL_MAX);
			}
			fit_or_print(out, pass, row, widths, columns, markdown);
		}
	}
}

/* The marks the cells of these sets carry, and a line under the table for each. */
static void print_notes(FILE *out, const struct run_set *sets, int count, bool markdown)
{
	bool failed = false, unchecked = false, errors = false, flaky = false;
	for (int t = 0; t < count; t++)
		for (int i = 0; i < sets[t].count; i++) {
			const struct run_record *r = &sets[t].runs[i];
			enum shown_verdict shown = report_shown_verdict(r);
			failed |= shown == SHOWN_FAIL;
			errors |= shown == SHOWN_ERROR;
			flaky |= shown == SHOWN_FLAKY;
			unchecked |= r->ran && r->result.verdict == VERDICT_PASS && r->result.unchecked;
		}
	if (failed || unchecked || errors || flaky)
		fputc('\n', out);
	if (failed)
		fprintf(out, "%s: the case failed; the cell shows what the stack did.\n", markdown ? "`!`" : "!");
	if (errors)
		fprintf(out, "%s: a harness error (it was late, or its agent, capture or sandbox broke): nothing is known "
			"about the stack there.\n", markdown ? "`ERR`" : "ERR");
	if (flaky)
		fprintf(out, "%s: passed on a retry (flaky); the console and the reports show every try.\n",
			markdown ? "`~`" : "~");
	if (unchecked)
		fprintf(out, "%s: passed, but the stack could not show the evidence of some lines (%s where the case's "
			"outcome was one).\n", markdown ? "`?`" : "?", OUTCOME_UNSEEN);
}

void matrix_print(FILE *out, const struct run_set *set, bool markdown)
{
	int tables = 0;
	for (int i = 0; i < set->count; i = report_case_end(set, i)) {
		bool seen = false;
		for (int j = 0; j < i && !seen; j = report_case_end(set, j))
			seen = same_columns(set->runs[j].c, set->runs[i].c);
		if (seen)
			continue;
		if (tables++)
			fputc('\n', out);
		print_table(out, set, i, markdown);
	}
	print_notes(out, set, 1, markdown);
}

void matrix_print_targets(FILE *out, const struct run_set *sets, const char *const *labels, int count,
			  bool markdown)
{
	int columns = 1 + (count < MATRIX_MAX_TARGETS ? count : MATRIX_MAX_TARGETS);
	const char *header[MAX_COLUMNS];
	int widths[MAX_COLUMNS];
	header[0] = "case";
	for (int col = 1; col < columns; col++)
		header[col] = labels[col - 1];
	for (int pass = 0; pass < 2; pass++) {
		start_table(out, pass, header, widths, columns, markdown);
		for (int i = 0; i < sets[0].count; i++) {
			char cell_text[MAX_COLUMNS][CELL_MAX];
			const char *row[MAX_COLUMNS];
			row[0] = sets[0].runs[i].name;
			for (int col = 1; col < columns; col++) {
				matrix_cell(&sets[col - 1].runs[i], cell_text[col], CELL_MAX);
				row[col] = cell_text[col];
			}
			fit_or_print(out, pass, row, widths, columns, markdown);
		}
	}
	print_notes(out, sets, count, markdown);
}
