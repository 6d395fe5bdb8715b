/* explore_cli.c - see explore_cli.h. */
#include "explore_cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error_text.h"
#include "explore_table.h"
#include "report_html.h"
#include "schedule.h"
#include "target.h"
#include "wire.h"

#define EXIT_CELL_ERROR 1
#define EXIT_USAGE 2
#define EXPLORE_TOLERANCE_NS (300 * 1000000LL)

static const char explore_usage[] =
	"usage: tcpharness explore [-j N] [--targets T1,T2...] [--states S1,S2...] [--events E1,E2...]\n"
	"                          [--family inet] [--diff] [--json FILE] [--html DIR] [--emit DIR]\n"
	"                          [--captures DIR] [--vm-image DIR] [--list]\n"
	"\n"
	"Drives the stack into every TCP state, as server and as client, injects every event relative to\n"
	"that state's own numbers (RCV.NXT, SND.UNA, SND.NXT, TS.Recent), and prints the table of what it\n"
	"did: the reply, the state after (sock_diag), the counters that moved, a pcap per cell. Each cell\n"
	"runs in its own sandbox; cells are deterministic.\n"
	"\n"
	"  --targets T1,T2  local (default), vm, gvisor, lwip: a column per target in each cell\n"
	"  --states LIST    only these states (CLOSED, LISTEN, SYN_SENT, SYN_RECV, ESTABLISHED, FIN_WAIT1,\n"
	"                   FIN_WAIT2, CLOSING, TIME_WAIT, CLOSE_WAIT, LAST_ACK), in both roles\n"
	"  --events LIST    only these events (--list shows them)\n"
	"  --family inet    the address family (IPv4, the only one so far)\n"
	"  --diff           only the cells where targets differ or a target contradicts RFC 9293 3.10\n"
	"                   (RFC 5961, 6191, 7323 where 9293 defers to them)\n"
	"  --json FILE      every cell with everything observed (schema tcpharness-explore/1)\n"
	"  --html DIR       DIR/explore.html, the table coloured by reply; a click opens the cell's ladder in\n"
	"                   DIR/<target>/index.html\n"
	"  --emit DIR       write each cell (with --diff: each listed cell) as DIR/<row>/<event>.tc, an\n"
	"                   ordinary case expecting what the first target did, with a citation slot\n"
	"  --list           print the states and events, run nothing\n"
	"\n"
	"exit status: 0 every cell observed (or skipped with a reason: a stack that lacks a feature, or\n"
	"cannot be driven into the state), 1 the harness could not run a recipe somewhere (ERROR cells),\n"
	"2 usage error\n";

struct explore_options {
	int jobs;
	enum target_kind kinds[EXPLORE_MAX_TARGETS];
	int target_count;
	const char *states, *events, *json, *html, *emit, *captures, *vm_image;
	bool diff, list;
};

/* Whether name is one of the comma-separated items of list (NULL: every name is). */
static bool listed(const char *list, const char *name)
{
	if (!list)
		return true;
	size_t len = strlen(name);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ",");
		if (n == len && !strncasecmp(p, name, n))
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

/* Every item of list must name something: a typo would silently shrink the table. */
static int check_list(const char *option, const char *list, bool (*known)(const char *name, size_t len))
{
	for (const char *p = list; p && *p;) {
		size_t n = strcspn(p, ",");
		if (!known(p, n)) {
			fprintf(stderr, "tcpharness: %s: no such name '%.*s' (explore --list shows them)\n", option, (int)n, p);
			return -1;
		}
		p += n + (p[n] == ',');
	}
	return 0;
}

static bool known_state(const char *name, size_t len)
{
	for (int i = 0; i < explore_state_count; i++)
		if (strlen(explore_states[i].name) == len && !strncasecmp(explore_states[i].name, name, len))
			return true;
	return false;
}

static bool known_event(const char *name, size_t len)
{
	for (int i = 0; i < explore_event_count; i++)
		if (strlen(explore_events[i].name) == len && !strncasecmp(explore_events[i].name, name, len))
			return true;
	return false;
}

static int parse_targets(const char *arg, struct explore_options *o)
{
	char *copy = strdup(arg), *save = NULL;
	o->target_count = 0;
	int rc = copy ? 0 : -1;
	for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; name && rc == 0; name = strtok_r(NULL, ",", &save)) {
		int kind = target_kind_from_name(name);
		if (kind < 0 || kind == TARGET_LAB) {
			fprintf(stderr, "tcpharness: explore targets are local, vm, gvisor and lwip, not '%s'\n", name);
			rc = -1;
		} else if (o->target_count == EXPLORE_MAX_TARGETS) {
			fprintf(stderr, "tcpharness: at most %d targets\n", EXPLORE_MAX_TARGETS);
			rc = -1;
		} else {
			for (int i = 0; i < o->target_count; i++)
				if (o->kinds[i] == (enum target_kind)kind) {
					fprintf(stderr, "tcpharness: target '%s' given twice\n", name);
					rc = -1;
				}
			o->kinds[o->target_count++] = (enum target_kind)kind;
		}
	}
	free(copy);
	if (rc == 0 && o->target_count == 0) {
		fprintf(stderr, "tcpharness: no target named in '%s'\n", arg);
		rc = -1;
	}
	return rc;
}

/* Returns -1 to go on, else the exit status. */
static int parse_options(int argc, char **argv, struct explore_options *o)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },       { "jobs", required_argument, NULL, 'j' },
		{ "targets", required_argument, NULL, 'T' }, { "target", required_argument, NULL, 'T' },
		{ "states", required_argument, NULL, 's' }, { "events", required_argument, NULL, 'e' },
		{ "family", required_argument, NULL, 'f' }, { "diff", no_argument, NULL, 'd' },
		{ "json", required_argument, NULL, 'J' },  { "html", required_argument, NULL, 'H' },
		{ "emit", required_argument, NULL, 'E' },  { "captures", required_argument, NULL, 'c' },
		{ "vm-image", required_argument, NULL, 'M' }, { "list", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*o = (struct explore_options){ .jobs = cpus < 1 ? 1 : cpus > SCHEDULE_MAX_JOBS ? SCHEDULE_MAX_JOBS : (int)cpus,
				       .kinds = { TARGET_LOCAL }, .target_count = 1 };
	optind = 1;
	int opt;
	while ((opt = getopt_long(argc, argv, "hj:", long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(explore_usage, stdout);
			return 0;
		case 'j': {
			char *end;
			long jobs = strtol(optarg, &end, 10);
			if (*end || end == optarg || jobs < 1 || jobs > SCHEDULE_MAX_JOBS) {
				fprintf(stderr, "tcpharness: -j takes a number of parallel cells (1..%d), not '%s'\n",
					SCHEDULE_MAX_JOBS, optarg);
				return EXIT_USAGE;
			}
			o->jobs = (int)jobs;
			break;
		}
		case 'T':
			if (parse_targets(optarg, o) < 0)
				return EXIT_USAGE;
			break;
		case 's':
			o->states = optarg;
			break;
		case 'e':
			o->events = optarg;
			break;
		case 'f':
			/* The seam for IPv6: cells are written with IPv4 documentation addresses until the case
			 * language has a family of its own. */
			if (strcmp(optarg, "inet") != 0) {
				fprintf(stderr, "tcpharness: explore --family: only inet (IPv4) so far, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			o->diff = true;
			break;
		case 'J':
			o->json = optarg;
			break;
		case 'H':
			o->html = optarg;
			break;
		case 'E':
			o->emit = optarg;
			break;
		case 'c':
			o->captures = optarg;
			break;
		case 'M':
			o->vm_image = optarg;
			break;
		case 'l':
			o->list = true;
			break;
		default:
			fputs(explore_usage, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "tcpharness: explore takes no PATH ('%s')\n%s", argv[optind], explore_usage);
		return EXIT_USAGE;
	}
	if (check_list("--states", o->states, known_state) < 0 || check_list("--events", o->events, known_event) < 0)
		return EXIT_USAGE;
	if (!o->vm_image)
		o->vm_image = getenv("TCPHARNESS_VM_IMAGE") ? getenv("TCPHARNESS_VM_IMAGE") : "build/vm";
	return -1;
}

static void print_list(void)
{
	struct explore_row rows[EXPLORE_MAX_ROWS];
	int count = explore_rows(rows);
	printf("states (%d rows):\n", count);
	for (int i = 0; i < count; i++)
		printf("  %s %-12s RCV.NXT %u SND.UNA %u SND.NXT %u\n", explore_role_name(rows[i].role), rows[i].state->name,
		       rows[i].state->rcv_nxt, rows[i].state->snd_una, rows[i].state->snd_nxt);
	printf("events (%d):\n", explore_event_count);
	for (int i = 0; i < explore_event_count; i++)
		printf("  %-20s %s\n", explore_events[i].name, explore_events[i].what);
}

/* Everything one explore holds: the table, every cell's case, a run set per target. */
struct exploration {
	struct explore_table table;
	struct case_file *cases; /* one per cell, same order */
	int parsed;              /* cases successfully parsed (to free) */
	struct run_set sets[EXPLORE_MAX_TARGETS];
	char *labels[EXPLORE_MAX_TARGETS];
	int targets_run;
};

static int build_cells(struct exploration *x, const struct explore_options *o)
{
	struct explore_table *t = &x->table;
	struct explore_row all[EXPLORE_MAX_ROWS];
	int count = explore_rows(all);
	for (int i = 0; i < count; i++)
		if (listed(o->states, all[i].state->name))
			t->rows[t->row_count++] = all[i];
	for (int i = 0; i < explore_event_count; i++)
		if (listed(o->events, explore_events[i].name))
			t->events[t->event_count++] = &explore_events[i];
	int cells = t->row_count * t->event_count;
	t->cells = calloc((size_t)(cells ? cells : 1), sizeof *t->cells);
	x->cases = calloc((size_t)(cells ? cells : 1), sizeof *x->cases);
	if (!t->cells || !x->cases)
		return -1;
	for (int c = 0; c < cells; c++) {
		struct explore_cell *cell = &t->cells[c];
		cell->row = c / t->event_count;
		cell->event = c % t->event_count;
		const struct explore_row *row = &t->rows[cell->row];
		const struct explore_event *event = t->events[cell->event];
		char *text = explore_cell_text(row, event, true, &cell->name), *path = NULL, *error = NULL;
		if (!text || asprintf(&path, "explore/%s.tc", cell->name) < 0) {
			free(text);
			return -1;
		}
		int rc = explore_cell_case(path, text, &x->cases[c], &error);
		free(text);
		free(path);
		if (rc < 0) {
			/* The tables are ours: a cell that does not parse is a bug here, not bad input. */
			fprintf(stderr, "tcpharness: explore cell %s: %s\n", cell->name, error ? error : "out of memory");
			free(error);
			return -1;
		}
		x->parsed++;
		/* The cell's own name, from the tables, is its display name and capture path (case_name.h). */
		x->cases[c].name = strdup(cell->name);
		if (!x->cases[c].name)
			return -1;
		explore_rfc_expect(row, event, &cell->rfc);
	}
	return 0;
}

static char *captures_dir(const struct explore_options *o, int t)
{
	char *base = NULL, *dir = NULL;
	if (o->captures) {
		base = strdup(o->captures);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
		if (asprintf(&base, "captures/explore-%s-%d", stamp, (int)getpid()) < 0)
			base = NULL;
	}
	if (!base || o->target_count == 1)
		return base;
	if (asprintf(&dir, "%s/%s", base, target_kind_name(o->kinds[t])) < 0)
		dir = NULL;
	free(base);
	return dir;
}

/* A cell that never reached its event (its sandbox not built, a veth without carrier; or its recipe
 * broken, which under heavy load is mostly the harness reading a segment late) said nothing about the
 * event: it runs once more, and says so. A recipe the stack really breaks breaks again. */
static void rerun_unobserved(struct run_set *set, const struct schedule_options *options)
{
	struct run_set again = { .runs = calloc((size_t)set->count, sizeof *again.runs), .families = set->families };
	int *from = calloc((size_t)set->count, sizeof *from);
	for (int i = 0; again.runs && from && i < set->count; i++) {
		struct run_record *r = &set->runs[i];
		struct explore_observation seen;
		if (!r->ran)
			continue;
		explore_observe(r->c, &r->result, &seen);
		if (seen.status != EXPLORE_RECIPE_FAILED && seen.status != EXPLORE_UNREACHED)
			continue;
		fprintf(stderr, "explore: %s again: %.*s\n", r->name, (int)strcspn(r->result.message ? r->result.message : "?", "\n"),
			r->result.message ? r->result.message : "?");
		case_result_free(&r->result);
		r->ran = false;
		from[again.count] = i;
		again.runs[again.count++] = *r;
	}
	if (again.count)
		schedule_run(&again, options, NULL);
	for (int i = 0; i < again.count; i++)
		set->runs[from[i]] = again.runs[i];
	free(again.runs);
	free(from);
}

/* Runs every cell on the t-th target; fills each cell's seen[t]. Returns 0, or the exit status. */
static int explore_target(struct exploration *x, const struct explore_options *o, int t)
{
	struct explore_table *table = &x->table;
	struct target_options options = { .kind = o->kinds[t], .vm_image = o->vm_image };
	struct target *target;
	char *error = NULL;
	if (target_open(&options, &target, &error) < 0) {
		fprintf(stderr, "tcpharness: target %s: %s\n", target_kind_name(options.kind), error ? error : "out of memory");
		free(error);
		return EXIT_USAGE;
	}
	x->labels[t] = strdup(target_label(target));
	table->labels[t] = x->labels[t] ? x->labels[t] : "?";
	table->kinds[t] = target_kind_name(options.kind);
	int cells = table->row_count * table->event_count;
	struct run_set *set = &x->sets[t];
	set->families = 1u << FAMILY_IPV4;
	set->runs = calloc((size_t)(cells ? cells : 1), sizeof *set->runs);
	if (!set->runs) {
		target_close(target);
		return EXIT_USAGE;
	}
	for (int c = 0; c < cells; c++) {
		set->runs[c] = (struct run_record){ .c = &x->cases[c], .variant = -1, .family = FAMILY_IPV4,
						    .name = strdup(table->cells[c].name) };
		set->count++;
	}
	char *dir = captures_dir(o, t);
	/* The recipes' lines are all `+0`: under load, late is the harness's, never the stack's. */
	/* Cells run in IPv4 (--family inet): names and pcaps carry no family. */
	struct run_options run_options = { target, dir, EXPLORE_TOLERANCE_NS, false, CAPTURE_FORMAT_PCAPNG };
	int jobs = target_runs_cases_in_parallel(target) ? o->jobs : 1;
	fprintf(stderr, "explore: %d state rows x %d events = %d cells on %s, %d at a time\n", table->row_count,
		table->event_count, cells, table->labels[t], jobs);
	int64_t began = wire_now_ns();
	/* A cell that ERRORed (the harness late, a sandbox not built) is tried again like any run's. */
	struct schedule_options schedule = { &run_options, 1, jobs, SCHEDULE_DEFAULT_RETRIES, 0, NULL, NULL };
	bool started = schedule_run(set, &schedule, NULL) == 0;
	if (started && !run_interrupted)
		rerun_unobserved(set, &schedule);
	wire_wait_released();
	target_close(target);
	int status = !started && cells > 0 ? EXIT_USAGE : 0;
	int errors = 0, unreached = 0;
	for (int c = 0; c < set->count; c++) {
		struct explore_cell *cell = &table->cells[c];
		if (!set->runs[c].ran)
			continue;
		explore_observe(&x->cases[c], &set->runs[c].result, &cell->seen[t]);
		if (set->runs[c].result.pcap_path)
			cell->pcap[t] = strdup(set->runs[c].result.pcap_path);
		if (cell->seen[t].status == EXPLORE_RECIPE_FAILED) {
			errors++;
			fprintf(stderr, "ERROR %s: %s\n", cell->name, cell->seen[t].why);
		} else if (cell->seen[t].status == EXPLORE_UNREACHED) {
			unreached++;
			fprintf(stderr, "SKIP %s: the stack does not follow the recipe there: %s\n", cell->name, cell->seen[t].why);
		}
	}
	fprintf(stderr, "explore: %d cells in %.1f s, %d ERROR, %d not reachable on this stack; pcaps under %s\n",
		set->count, (double)(wire_now_ns() - began) / 1e9, errors, unreached, dir ? dir : "?");
	free(dir);
	x->targets_run = t + 1;
	table->target_count = t + 1;
	return status ? status : errors ? EXIT_CELL_ERROR : 0;
}

static int make_dirs(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	int rc = mkdir(copy, 0755) < 0 && errno != EEXIST ? -1 : 0;
	free(copy);
	return rc;
}

static int write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f);
}

/* Each cell (with --diff, each listed one) the first target observed, as an ordinary case. */
static int emit_cases(const struct exploration *x, const struct explore_options *o)
{
	const struct explore_table *t = &x->table;
	int written = 0;
	for (int c = 0; c < t->row_count * t->event_count; c++) {
		const struct explore_cell *cell = &t->cells[c];
		if (cell->seen[0].status != EXPLORE_OBSERVED)
			continue;
		bool against_rfc = false;
		for (int i = 0; i < t->target_count; i++)
			against_rfc |= explore_cell_contradicts_rfc(t, cell, i);
		if (o->diff && !against_rfc && !explore_cell_targets_differ(t, cell))
			continue;
		char rfc_note[256];
		snprintf(rfc_note, sizeof rfc_note, "%s says %s, then %s.", cell->rfc.section, cell->rfc.reply, cell->rfc.state);
		char *text = explore_emit_text(&t->rows[cell->row], t->events[cell->event], &cell->seen[0], t->labels[0],
					       rfc_note);
		char *path = NULL, *dir = NULL;
		int rc = text && asprintf(&path, "%s/%s.tc", o->emit, cell->name) >= 0 ? 0 : -1;
		if (rc == 0 && (dir = strdup(path)) != NULL) {
			*strrchr(dir, '/') = '\0';
			rc = make_dirs(dir) < 0 || write_text(path, text) != 0 ? -1 : 0;
		}
		if (rc < 0)
			fprintf(stderr, "tcpharness: cannot write %s: %s\n", path ? path : o->emit, strerror(errno));
		free(text);
		free(path);
		free(dir);
		if (rc < 0)
			return -1;
		written++;
	}
	fprintf(stderr, "explore: %d cases written under %s\n", written, o->emit);
	return 0;
}

static int write_outputs(const struct exploration *x, const struct explore_options *o)
{
	const struct explore_table *t = &x->table;
	int rc = 0;
	char *error = NULL;
	if (o->json) {
		FILE *f = fopen(o->json, "w");
		if (!f || explore_write_json(f, t, &error) < 0 || fclose(f) != 0) {
			fprintf(stderr, "tcpharness: %s not written: %s\n", o->json, error ? error : strerror(errno));
			free(error);
			error = NULL;
			rc = -1;
		}
	}
	if (o->html) {
		char *page = NULL;
		FILE *f = NULL;
		if (make_dirs(o->html) == 0 && asprintf(&page, "%s/explore.html", o->html) >= 0)
			f = fopen(page, "w");
		if (!f || explore_write_html(f, t, &error) < 0 || fclose(f) != 0) {
			fprintf(stderr, "tcpharness: %s not written: %s\n", page ? page : o->html,
				error ? error : strerror(errno));
			free(error);
			error = NULL;
			rc = -1;
		}
		for (int i = 0; i < x->targets_run && rc == 0; i++) {
			char *dir = NULL;
			if (asprintf(&dir, "%s/%s", o->html, t->kinds[i]) < 0 || report_html_write(dir, &x->sets[i], &error) < 0) {
				fprintf(stderr, "tcpharness: %s not written: %s\n", dir ? dir : o->html, error ? error : "out of memory");
				free(error);
				error = NULL;
				rc = -1;
			}
			free(dir);
		}
		free(page);
	}
	if (o->emit && emit_cases(x, o) < 0)
		rc = -1;
	return rc;
}

static void free_exploration(struct exploration *x)
{
	int cells = x->table.row_count * x->table.event_count;
	for (int i = 0; i < x->targets_run; i++) {
		run_set_free(&x->sets[i]);
		free(x->labels[i]);
	}
	for (int c = 0; x->table.cells && c < cells; c++) {
		free(x->table.cells[c].name);
		for (int i = 0; i < EXPLORE_MAX_TARGETS; i++)
			free(x->table.cells[c].pcap[i]);
	}
	for (int c = 0; c < x->parsed; c++)
		case_free(&x->cases[c]);
	free(x->cases);
	free(x->table.cells);
}

int explore_main(int argc, char **argv)
{
	struct explore_options o;
	int status = parse_options(argc, argv, &o);
	if (status >= 0)
		return status;
	if (o.list) {
		print_list();
		return 0;
	}
	struct exploration x;
	memset(&x, 0, sizeof x);
	if (build_cells(&x, &o) < 0) {
		free_exploration(&x);
		return EXIT_USAGE;
	}
	schedule_install_signal_handlers();
	status = 0;
	for (int t = 0; t < o.target_count && !run_interrupted && status != EXIT_USAGE; t++) {
		int target_status = explore_target(&x, &o, t);
		if (target_status > status)
			status = target_status;
	}
	if (run_interrupted) {
		fprintf(stderr, "tcpharness: interrupted; everything it created is removed\n");
		status = 128 + run_interrupted;
	} else if (x.targets_run == o.target_count) {
		if (o.diff)
			explore_print_diff(stdout, &x.table);
		else
			explore_print_markdown(stdout, &x.table);
		if (write_outputs(&x, &o) < 0)
			status = EXIT_USAGE;
	}
	free_exploration(&x);
	return status;
}
