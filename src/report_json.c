/* report_json.c - see report_json.h; docs/report-json.md is the schema, and a change here that
 * renames or removes a field changes REPORT_JSON_SCHEMA too. */
#include "report_json.h"

#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_text.h"
#include "shard.h"
#include "output_file.h"
#include "relative_path.h"


/* A JSON string (RFC 8259), or null for NULL. Control characters are escaped (\n, \t, \r by name,
 * the rest as \u00XX, DEL too since it is invisible); malformed UTF-8 (a comment in a case file may
 * hold any bytes) becomes U+FFFD, so the document always parses. */
static void put_json_string(FILE *out, const char *text)
{
	if (!text) {
		fputs("null", out);
		return;
	}
	const unsigned char *bytes = (const unsigned char *)text;
	size_t len = strlen(text);
	fputc('"', out);
	for (size_t i = 0; i < len;) {
		uint32_t cp = 0;
		size_t n = report_utf8_decode(bytes + i, len - i, &cp);
		if (n == 0) {
			fputs("\\ufffd", out);
			i++;
			continue;
		}
		if (cp == '"' || cp == '\\')
			fprintf(out, "\\%c", (char)cp);
		else if (cp == '\n')
			fputs("\\n", out);
		else if (cp == '\t')
			fputs("\\t", out);
		else if (cp == '\r')
			fputs("\\r", out);
		else if (cp < 0x20 || cp == 0x7f)
			fprintf(out, "\\u%04x", (unsigned)cp);
		else
			fwrite(bytes + i, 1, n, out);
		i += n;
	}
	fputc('"', out);
}

/* The run's fixed-size texts use "" for "nothing here"; the report says null. */
static const char *or_null(const char *text)
{
	return text && *text ? text : NULL;
}

const char *report_json_event_kind(enum run_event_kind kind)
{
	static const char *const kinds[] = {
		[RUN_EVENT_INJECTED] = "injected", [RUN_EVENT_SEGMENT] = "segment", [RUN_EVENT_SILENCE] = "silence",
		[RUN_EVENT_APP] = "app",           [RUN_EVENT_STATE] = "state",     [RUN_EVENT_COUNTER] = "counter",
		[RUN_EVENT_CLOCK] = "clock",       [RUN_EVENT_STORM] = "storm",     [RUN_EVENT_TEARDOWN] = "teardown",
	};
	return kinds[kind];
}

static void put_event(FILE *out, const struct case_file *c, const struct run_event *e)
{
	const struct step *step = e->step >= 0 ? &c->steps[e->step] : NULL;
	fputs("{\"kind\": ", out);
	put_json_string(out, report_json_event_kind(e->kind));
	fprintf(out, ", \"at_ns\": %lld, \"line\": ", (long long)e->at_ns);
	if (step)
		fprintf(out, "%d", step->where.line);
	else
		fputs("null", out);
	fputs(", \"source\": ", out);
	put_json_string(out, step ? c->lines[step->line_index] : NULL);
	fputs(", \"peer\": ", out);
	put_json_string(out, e->peer >= 0 ? c->peers[e->peer].name : NULL);
	fprintf(out, ", \"broke\": %s, \"unchecked\": %s, \"expected\": ", e->broke ? "true" : "false",
		e->unchecked ? "true" : "false");
	put_json_string(out, or_null(e->expected));
	fputs(", \"observed\": ", out);
	put_json_string(out, or_null(e->observed));
	fputs(", \"outcome\": ", out);
	put_json_string(out, or_null(e->outcome));
	fputc('}', out);
}

/* Every try in order, the last one included: [{"verdict": "error", "message": "...", "duration_ns": N}]. */
static void put_tries(FILE *out, const struct run_record *r)
{
	fputc('[', out);
	for (int i = 0; i <= r->earlier_count; i++) {
		bool last = i == r->earlier_count;
		enum verdict verdict = last ? r->result.verdict : r->earlier[i].verdict;
		const char *message = last ? r->result.message : r->earlier[i].message;
		fputs(i ? ", {\"verdict\": " : "{\"verdict\": ", out);
		put_json_string(out, report_shown_word((enum shown_verdict)verdict));
		fputs(", \"message\": ", out);
		put_json_string(out, message);
		fprintf(out, ", \"duration_ns\": %lld}",
			(long long)(last ? r->result.duration_ns : r->earlier[i].duration_ns));
	}
	fputc(']', out);
}

/* A path relative to the report's directory (dir_real), so that the report moved with its captures and
 * cases still finds them. */
static void put_json_path(FILE *out, const char *dir_real, const char *path)
{
	char *relative = path ? relative_path(dir_real, path) : NULL;
	put_json_string(out, relative ? relative : path);
	free(relative);
}

static void put_run(FILE *out, const struct run_record *r, const char *dir_real)
{
	const struct case_file *c = r->c;
	const struct case_result *result = &r->result;
	fputs("    {\n      \"name\": ", out);
	put_json_string(out, r->name);
	fprintf(out, ",\n      \"index\": %d,\n      \"expected_ns\": %lld", r->selection_index,
		(long long)shard_expected_ns(c, r->variant, r->family));
	fputs(",\n      \"target\": ", out);
	put_json_string(out, r->target);
	fputs(",\n      \"case\": ", out);
	put_json_string(out, c->name);
	fputs(",\n      \"file\": ", out);
	put_json_path(out, dir_real, c->path);
	fputs(",\n      \"variant\": ", out);
	put_json_string(out, or_null(report_variant_name(r)));
	fputs(",\n      \"family\": ", out);
	put_json_string(out, family_name(r->family));
	fputs(",\n      \"verdict\": ", out);
	put_json_string(out, report_shown_word(report_shown_verdict(r)));
	fputs(",\n      \"message\": ", out);
	put_json_string(out, result->message);
	fputs(",\n      \"outcome\": ", out);
	put_json_string(out, or_null(result->outcome));
	fprintf(out, ",\n      \"unchecked\": %d,\n      \"unchecked_reason\": ", result->unchecked);
	put_json_string(out, result->unchecked_reason);
	fputs(",\n      \"failed_step\": ", out);
	if (result->failed_step >= 0)
		fprintf(out, "%d", c->steps[result->failed_step].where.line);
	else
		fputs("null", out);
	fprintf(out, ",\n      \"duration_ns\": %lld,\n      \"pcap\": ", (long long)result->duration_ns);
	put_json_path(out, dir_real, result->pcap_path);
	fputs(",\n      \"tries\": ", out);
	put_tries(out, r);
	fputs(",\n      \"events\": [", out);
	for (int i = 0; i < result->event_count; i++) {
		fputs(i ? ",\n        " : "\n        ", out);
		put_event(out, c, &result->events[i]);
	}
	fputs(result->event_count ? "\n      ]\n    }" : "]\n    }", out);
}

/* What merge needs to put shards together: the selection they were cut from and which shard this is. */
static void put_selection(FILE *out, const struct run_set *set)
{
	const struct run_selection *selection = &set->selection;
	fputs("  \"selection\": {\"paths\": [", out);
	for (int i = 0; i < selection->path_count; i++) {
		fputs(i ? ", " : "", out);
		put_json_string(out, selection->paths[i]);
	}
	fputs("], \"variant\": ", out);
	put_json_string(out, selection->variant_filter);
	fputs(", \"families\": [", out);
	int listed = 0;
	for (int f = 0; f < FAMILY_COUNT; f++)
		if (set->families & 1u << f) {
			fputs(listed++ ? ", " : "", out);
			put_json_string(out, family_name((enum address_family)f));
		}
	fprintf(out, "], \"runs\": %d, \"digest\": \"%016llx\"},\n", selection->run_count,
		(unsigned long long)selection->digest);
	fprintf(out, "  \"shard\": {\"index\": %d, \"count\": %d},\n  \"wall_ns\": %lld,\n  \"runs\": [",
		selection->shard_index, selection->shard_count, (long long)set->wall_ns);
}

static void put_report(FILE *out, const struct run_set *set, const char *dir_real)
{
	int counts[SHOWN_VERDICT_COUNT];
	report_count(set, counts);
	char written_at[32], started_at[32];
	time_t now = time(NULL);
	strftime(written_at, sizeof written_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
	if (set->started.tv_sec)
		strftime(started_at, sizeof started_at, "%Y-%m-%dT%H:%M:%SZ", gmtime(&set->started.tv_sec));
	fputs("{\n  \"schema\": \"" REPORT_JSON_SCHEMA "\",\n  \"tcpharness_version\": ", out);
	put_json_string(out, TCPHARNESS_VERSION);
	fputs(",\n  \"kernel\": ", out);
	put_json_string(out, set->kernel);
	fputs(",\n  \"started\": ", out);
	put_json_string(out, set->started.tv_sec ? started_at : NULL);
	fprintf(out,
		",\n  \"written\": \"%s\",\n"
		"  \"summary\": {\"passed\": %d, \"failed\": %d, \"skipped\": %d, \"flaky\": %d, \"errors\": %d, "
		"\"not_run\": %d},\n",
		written_at, counts[SHOWN_PASS], counts[SHOWN_FAIL], counts[SHOWN_SKIP], counts[SHOWN_FLAKY],
		counts[SHOWN_ERROR], counts[SHOWN_NOT_RUN]);
	put_selection(out, set);
	int written_runs = 0;
	for (int i = 0; i < set->count; i++) {
		if (!set->runs[i].ran)
			continue;
		fputs(written_runs++ ? ",\n" : "\n", out);
		put_run(out, &set->runs[i], dir_real);
	}
	fputs(written_runs ? "\n  ]\n}\n" : "]\n}\n", out);
}

int report_json_write(const char *path, const struct run_set *set, char **error)
{
	char dir_real[PATH_MAX];
	if (relative_path_report_dir(path, dir_real) < 0)
		return error_set(error, "%s: %s", path, strerror(errno));
	struct output_file file;
	if (output_file_begin(&file, path, error) < 0)
		return -1;
	put_report(file.out, set, dir_real);
	return output_file_commit(&file, true, error);
}
