/* report_merge.c - see report_merge.h. Reads with jansson; writes nothing: the merged set goes to the
 * same report writers as a run's. */
#include "report_merge.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error_text.h"
#include "relative_path.h"
#include "report_json.h"

struct merge_reports {
	const char *const *files;
	json_t **documents;
	int count;
	int *shard_of_file; /* the K of each report, 1-based */
	const char **paths;
	struct merge_selection selection;
};

void merge_reports_free(struct merge_reports *reports)
{
	if (!reports)
		return;
	for (int i = 0; i < reports->count; i++)
		json_decref(reports->documents[i]);
	free(reports->documents);
	free(reports->shard_of_file);
	free(reports->paths);
	free(reports);
}

/* A JSON integer within [low, high] at key of object, into *value; -1 otherwise. */
static int integer_in(const json_t *object, const char *key, long long low, long long high, long long *value)
{
	const json_t *v = json_object_get(object, key);
	if (!json_is_integer(v) || json_integer_value(v) < low || json_integer_value(v) > high)
		return -1;
	*value = json_integer_value(v);
	return 0;
}

/* A string or null at key; -1 when it is neither. */
static int string_or_null(const json_t *object, const char *key, const char **text)
{
	const json_t *v = json_object_get(object, key);
	*text = json_is_string(v) ? json_string_value(v) : NULL;
	return json_is_string(v) || json_is_null(v) ? 0 : -1;
}

/* The selection and shard of one report, checked for shape. */
static int read_selection(const char *file, const json_t *document, struct merge_selection *selection,
			  const char **paths, int *shard_index, char **error)
{
	const json_t *schema = json_object_get(document, "schema");
	if (!json_is_string(schema) || strcmp(json_string_value(schema), REPORT_JSON_SCHEMA) != 0)
		return error_set(error, "%s: not a tcpharness report (schema %s)", file, REPORT_JSON_SCHEMA);
	const json_t *sel = json_object_get(document, "selection"), *shard = json_object_get(document, "shard");
	const json_t *path_list = json_object_get(sel, "paths"), *families = json_object_get(sel, "families");
	const json_t *digest = json_object_get(sel, "digest");
	long long runs, index, count;
	if (!json_is_object(sel) || !json_is_object(shard) || !json_is_array(path_list) || !json_is_array(families) ||
	    !json_is_string(digest) || integer_in(sel, "runs", 0, 1LL << 30, &runs) < 0 ||
	    integer_in(shard, "count", 1, 1000, &count) < 0 || integer_in(shard, "index", 1, count, &index) < 0 ||
	    string_or_null(sel, "variant", &selection->variant_filter) < 0)
		return error_set(error, "%s: no selection and shard in this report: it was written by a tcpharness "
					"without --shard (before version %s), or changed since", file, TCPHARNESS_VERSION);
	selection->path_count = 0;
	size_t i;
	const json_t *item;
	json_array_foreach(path_list, i, item) {
		if (!json_is_string(item) || paths == NULL)
			return error_set(error, "%s: selection.paths holds something other than paths", file);
		paths[selection->path_count++] = json_string_value(item);
	}
	selection->families = 0;
	json_array_foreach(families, i, item) {
		int f = json_is_string(item) ? family_from_name(json_string_value(item)) : -1;
		if (f < 0)
			return error_set(error, "%s: selection.families holds an unknown family", file);
		selection->families |= 1u << f;
	}
	char *end;
	selection->digest = strtoull(json_string_value(digest), &end, 16);
	selection->run_count = (int)runs;
	selection->shard_count = (int)count;
	*shard_index = (int)index;
	return 0;
}

static int read_documents(struct merge_reports *r, char **error)
{
	int *first_file_of_shard = NULL;
	for (int i = 0; i < r->count; i++) {
		json_error_t parse_error;
		r->documents[i] = json_load_file(r->files[i], 0, &parse_error);
		if (!r->documents[i])
			return error_set(error, "%s:%d:%d: %s", r->files[i], parse_error.line, parse_error.column,
					 parse_error.text);
		const json_t *paths = json_object_get(json_object_get(r->documents[i], "selection"), "paths");
		struct merge_selection selection;
		const char **path_list = calloc(json_array_size(paths) + 1, sizeof *path_list);
		int rc = path_list ? read_selection(r->files[i], r->documents[i], &selection, path_list,
						    &r->shard_of_file[i], error)
				   : error_set(error, "out of memory");
		if (rc < 0) {
			free(path_list);
			free(first_file_of_shard);
			return -1;
		}
		selection.paths = path_list;
		if (i == 0) {
			r->selection = selection;
			r->paths = path_list;
			first_file_of_shard = calloc((size_t)selection.shard_count, sizeof *first_file_of_shard);
			if (!first_file_of_shard)
				return error_set(error, "out of memory");
		} else {
			free(path_list);
			if (selection.digest != r->selection.digest || selection.shard_count != r->selection.shard_count) {
				free(first_file_of_shard);
				return error_set(error, "%s is shard %d/%d of selection %016llx, %s shard %d/%d of selection "
							"%016llx: merge takes the shards of one run (the same PATHs, "
							"--variant, --family and N)",
						 r->files[0], r->shard_of_file[0], r->selection.shard_count,
						 (unsigned long long)r->selection.digest, r->files[i], r->shard_of_file[i],
						 selection.shard_count, (unsigned long long)selection.digest);
			}
		}
		int k = r->shard_of_file[i];
		if (first_file_of_shard[k - 1]) {
			int rc2 = error_set(error, "shard %d/%d given twice: %s and %s", k, r->selection.shard_count,
					    r->files[first_file_of_shard[k - 1] - 1], r->files[i]);
			free(first_file_of_shard);
			return rc2;
		}
		first_file_of_shard[k - 1] = i + 1;
	}
	char missing[256] = "";
	int missing_count = 0;
	for (int k = 1; k <= r->selection.shard_count; k++)
		if (!first_file_of_shard[k - 1] && missing_count++ < 8)
			snprintf(missing + strlen(missing), sizeof missing - strlen(missing), "%s%d/%d",
				 missing_count > 1 ? ", " : "", k, r->selection.shard_count);
	free(first_file_of_shard);
	if (missing_count)
		return error_set(error, "shard%s %s%s missing: no report given for %s (%d report%s given for %d "
					"shards)", missing_count > 1 ? "s" : "", missing, missing_count > 8 ? ", ..." : "",
				 missing_count > 1 ? "them" : "it", r->count, r->count == 1 ? "" : "s",
				 r->selection.shard_count);
	return 0;
}

int merge_reports_read(const char *const *files, int count, struct merge_reports **reports,
		       struct merge_selection *selection, char **error)
{
	struct merge_reports *r = calloc(1, sizeof *r);
	*reports = r;
	if (!r || !(r->documents = calloc((size_t)count, sizeof *r->documents)) ||
	    !(r->shard_of_file = calloc((size_t)count, sizeof *r->shard_of_file)))
		return error_set(error, "out of memory");
	r->files = files;
	r->count = count;
	if (read_documents(r, error) < 0)
		return -1;
	*selection = r->selection;
	return 0;
}

/* The step written on source line `line` (1-based) that runs in variant; -1 for none. */
static int step_on_line(const struct case_file *c, int variant, const json_t *line)
{
	if (!json_is_integer(line))
		return -1;
	for (int i = 0; i < c->step_count; i++)
		if (c->steps[i].where.line == json_integer_value(line) &&
		    (variant < 0 || (c->steps[i].variant_mask >> variant & 1u)))
			return i;
	return -1;
}

static void copy_text(char *to, size_t size, const json_t *text)
{
	snprintf(to, size, "%s", json_is_string(text) ? json_string_value(text) : "");
}

static char *dup_or_null(const json_t *text)
{
	return json_is_string(text) ? strdup(json_string_value(text)) : NULL;
}

static int verdict_of(const json_t *word)
{
	for (int v = 0; v < VERDICT_COUNT && json_is_string(word); v++)
		if (!strcmp(json_string_value(word), report_shown_word((enum shown_verdict)v)))
			return v;
	return -1;
}

/* Events of kinds this tcpharness does not know are left out, as the schema lets a consumer. */
static int read_events(const json_t *events, const struct run_record *record, struct case_result *result)
{
	result->events = calloc(json_array_size(events) + 1, sizeof *result->events);
	if (!result->events)
		return -1;
	size_t i;
	const json_t *item;
	json_array_foreach(events, i, item) {
		const json_t *kind = json_object_get(item, "kind");
		int k = 0;
		while (k < REPORT_JSON_EVENT_KINDS &&
		       !(json_is_string(kind) && !strcmp(json_string_value(kind), report_json_event_kind(k))))
			k++;
		if (k == REPORT_JSON_EVENT_KINDS)
			continue;
		struct run_event *e = &result->events[result->event_count++];
		e->kind = (enum run_event_kind)k;
		e->at_ns = json_integer_value(json_object_get(item, "at_ns"));
		e->step = step_on_line(record->c, record->variant, json_object_get(item, "line"));
		e->peer = -1;
		const json_t *peer = json_object_get(item, "peer");
		for (int p = 0; p < record->c->peer_count && json_is_string(peer); p++)
			if (!strcmp(record->c->peers[p].name, json_string_value(peer)))
				e->peer = p;
		e->broke = json_is_true(json_object_get(item, "broke"));
		e->unchecked = json_is_true(json_object_get(item, "unchecked"));
		copy_text(e->expected, sizeof e->expected, json_object_get(item, "expected"));
		copy_text(e->observed, sizeof e->observed, json_object_get(item, "observed"));
		copy_text(e->outcome, sizeof e->outcome, json_object_get(item, "outcome"));
	}
	return 0;
}

/* One run object of a report into record (whose case, variant and name the selection gave). */
static int fill_record(const char *file, const json_t *run, struct run_record *record, char **error)
{
	const json_t *tries = json_object_get(run, "tries");
	size_t try_count = json_array_size(tries);
	if (try_count < 1 || try_count > RUN_MAX_TRIES + 1)
		return error_set(error, "%s: %s: no tries", file, record->name);
	for (size_t t = 0; t < try_count; t++) {
		const json_t *one = json_array_get(tries, t);
		int verdict = verdict_of(json_object_get(one, "verdict"));
		if (verdict < 0)
			return error_set(error, "%s: %s: try %zu has no verdict tcpharness knows", file, record->name, t + 1);
		if (t + 1 < try_count) {
			struct run_try *earlier = &record->earlier[record->earlier_count++];
			earlier->verdict = (enum verdict)verdict;
			earlier->message = dup_or_null(json_object_get(one, "message"));
			earlier->duration_ns = json_integer_value(json_object_get(one, "duration_ns"));
		} else {
			record->result.verdict = (enum verdict)verdict;
		}
	}
	struct case_result *result = &record->result;
	record->ran = true;
	result->message = dup_or_null(json_object_get(run, "message"));
	/* A shard's report names its captures from its own directory; the merged one is written elsewhere. */
	const json_t *pcap = json_object_get(run, "pcap");
	if (json_is_string(pcap) && !(result->pcap_path = relative_path_from_report(file, json_string_value(pcap))))
		return error_set(error, "out of memory");
	result->unchecked_reason = dup_or_null(json_object_get(run, "unchecked_reason"));
	result->unchecked = (int)json_integer_value(json_object_get(run, "unchecked"));
	result->duration_ns = json_integer_value(json_object_get(run, "duration_ns"));
	result->failed_step = step_on_line(record->c, record->variant, json_object_get(run, "failed_step"));
	copy_text(result->outcome, sizeof result->outcome, json_object_get(run, "outcome"));
	if (read_events(json_object_get(run, "events"), record, result) < 0)
		return error_set(error, "out of memory");
	return 0;
}

/* Every run of the report at index `file` into its place in set. */
static int fill_from(const struct merge_reports *r, int file, const int *shard_of, struct run_set *set, char **error)
{
	const char *name = r->files[file];
	int k = r->shard_of_file[file], n = r->selection.shard_count;
	const json_t *runs = json_object_get(r->documents[file], "runs");
	long long not_run = 0;
	if (!json_is_array(runs) ||
	    integer_in(json_object_get(r->documents[file], "summary"), "not_run", 0, set->count, &not_run) < 0)
		return error_set(error, "%s: no runs and summary in this report", name);
	size_t i;
	const json_t *run;
	json_array_foreach(runs, i, run) {
		long long index;
		const json_t *run_name = json_object_get(run, "name");
		if (integer_in(run, "index", 0, set->count - 1, &index) < 0 || !json_is_string(run_name))
			return error_set(error, "%s: run %zu has no index in the selection of %d runs", name, i + 1,
					 set->count);
		if (json_is_string(json_object_get(run, "target")))
			return error_set(error, "%s holds the runs of several targets (matrix --targets): merge puts the "
						"shards of one target together; give each target's run a --report of its own",
					 name);
		struct run_record *record = &set->runs[index];
		if (strcmp(record->name, json_string_value(run_name)) != 0)
			return error_set(error, "%s: run %lld of the selection is %s here but %s in the case files: "
						"the case files are not those the shards ran", name, index,
					 json_string_value(run_name), record->name);
		if (shard_of[index] != k - 1)
			return error_set(error, "%s (shard %d/%d) holds %s, which is shard %d/%d's", name, k, n,
					 record->name, shard_of[index] + 1, n);
		if (record->ran)
			return error_set(error, "%s: %s given twice", name, record->name);
		if (fill_record(name, run, record, error) < 0)
			return -1;
	}
	int owed = 0;
	for (int j = 0; j < set->count; j++)
		owed += shard_of[j] == k - 1;
	if ((long long)json_array_size(runs) + not_run != owed)
		return error_set(error, "%s (shard %d/%d) holds %zu of its shard's %d runs and counts %lld as not run",
				 name, k, n, json_array_size(runs), owed, not_run);
	return 0;
}

int merge_reports_fill(const struct merge_reports *reports, struct run_set *set, char **error)
{
	int *shard_of = malloc((size_t)(set->count ? set->count : 1) * sizeof *shard_of);
	if (!shard_of || report_shard_of(set, reports->selection.shard_count, shard_of) < 0) {
		free(shard_of);
		return error_set(error, "out of memory");
	}
	int rc = 0;
	set->wall_ns = 0;
	for (int f = 0; f < reports->count && rc == 0; f++) {
		rc = fill_from(reports, f, shard_of, set, error);
		long long wall_ns;
		if (integer_in(reports->documents[f], "wall_ns", 0, INT64_MAX, &wall_ns) == 0 && wall_ns > set->wall_ns)
			set->wall_ns = wall_ns;
	}
	free(shard_of);
	return rc;
}
