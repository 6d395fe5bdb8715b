/* report.c - see report.h. */
#include "report.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"
#include "output_file.h"

void run_set_free(struct run_set *set)
{
	for (int i = 0; i < set->count; i++) {
		free(set->runs[i].name);
		if (set->runs[i].ran)
			case_result_free(&set->runs[i].result);
		for (int t = 0; t < set->runs[i].earlier_count; t++)
			free(set->runs[i].earlier[t].message);
	}
	free(set->runs);
}

bool report_names_families(const struct run_set *set)
{
	return (set->families & (set->families - 1)) != 0;
}

char *report_run_name(const struct case_file *c, int variant, int family)
{
	char *full;
	if (asprintf(&full, "%s%s%s%s%s", c->name, variant >= 0 ? "@" : "", variant >= 0 ? c->variants[variant].name : "",
		     family >= 0 ? "/" : "", family >= 0 ? family_name((enum address_family)family) : "") < 0)
		full = NULL;
	return full;
}

const char *report_variant_name(const struct run_record *r)
{
	return r->variant >= 0 ? r->c->variants[r->variant].name : "";
}

enum shown_verdict report_shown_verdict(const struct run_record *r)
{
	if (!r->ran)
		return SHOWN_NOT_RUN;
	switch (r->result.verdict) {
	case VERDICT_PASS:
		return r->earlier_count ? SHOWN_FLAKY : SHOWN_PASS;
	case VERDICT_FAIL:
		return SHOWN_FAIL;
	case VERDICT_SKIP:
		return SHOWN_SKIP;
	case VERDICT_ERROR:
	default:
		return SHOWN_ERROR;
	}
}

const char *report_shown_word(enum shown_verdict v)
{
	static const char *const words[] = { [SHOWN_PASS] = "pass",   [SHOWN_FAIL] = "fail",
					     [SHOWN_SKIP] = "skip",   [SHOWN_ERROR] = "error",
					     [SHOWN_FLAKY] = "flaky", [SHOWN_NOT_RUN] = "notrun" };
	return words[v];
}

const char *report_verdict_label(enum verdict v)
{
	static const char *const labels[] = { [VERDICT_PASS] = "PASS", [VERDICT_FAIL] = "FAIL",
					      [VERDICT_SKIP] = "SKIP", [VERDICT_ERROR] = "ERROR" };
	return labels[v];
}

void report_count(const struct run_set *set, int counts[SHOWN_VERDICT_COUNT])
{
	memset(counts, 0, SHOWN_VERDICT_COUNT * sizeof counts[0]);
	for (int i = 0; i < set->count; i++)
		counts[report_shown_verdict(&set->runs[i])]++;
}

static char *append_try(char *text, int number, enum verdict verdict, const char *message)
{
	size_t first_line = message ? strcspn(message, "\n") : 0;
	char *longer;
	if (asprintf(&longer, "%stry %d: %s%s%.*s\n", text, number, report_verdict_label(verdict),
		     first_line ? ": " : "", (int)first_line, message ? message : "") < 0)
		longer = NULL;
	free(text);
	return longer;
}

char *report_tries_text(const struct run_record *r)
{
	if (!r->ran || r->earlier_count == 0)
		return NULL;
	char *text = strdup("");
	for (int i = 0; text && i < r->earlier_count; i++)
		text = append_try(text, i + 1, r->earlier[i].verdict, r->earlier[i].message);
	if (text)
		text = append_try(text, r->earlier_count + 1, r->result.verdict,
				  r->result.verdict == VERDICT_PASS ? NULL : r->result.message);
	return text;
}

int report_case_end(const struct run_set *set, int first)
{
	int i = first;
	while (i < set->count && set->runs[i].c == set->runs[first].c && set->runs[i].target == set->runs[first].target)
		i++;
	return i;
}

int report_write_file(const char *path, int (*put)(FILE *out, const struct run_set *set, char **error),
		      const struct run_set *set, char **error)
{
	struct output_file file;
	if (output_file_begin(&file, path, error) < 0)
		return -1;
	int rc = put(file.out, set, error);
	if (output_file_commit(&file, rc == 0, rc == 0 ? error : NULL) < 0)
		rc = -1;
	return rc;
}

size_t report_utf8_decode(const unsigned char *p, size_t available, uint32_t *code_point)
{
	static const struct {
		unsigned char mask, lead; /* the lead byte's fixed bits: (p[0] & mask) == lead */
		uint32_t min;             /* the least code point this length may encode */
	} forms[] = { { 0x80, 0x00, 0 }, { 0xe0, 0xc0, 0x80 }, { 0xf0, 0xe0, 0x800 }, { 0xf8, 0xf0, 0x10000 } };
	for (size_t len = 1; len <= 4; len++) {
		if ((p[0] & forms[len - 1].mask) != forms[len - 1].lead)
			continue;
		if (len > available)
			return 0;
		uint32_t cp = (uint32_t)(p[0] & ~forms[len - 1].mask);
		for (size_t i = 1; i < len; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < forms[len - 1].min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
		*code_point = cp;
		return len;
	}
	return 0;
}
