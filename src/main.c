/* main.c - the tcpharness command line: run, check and list case files.
 * Exit status: 0 everything passed, 1 a case failed, 2 usage or input error (nothing was run). */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "case_parser.h"
#include "report.h"
#include "report_console.h"
#include "report_matrix.h"
#include "run.h"
#include "wire.h"

#define EXIT_CASE_FAILED 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: tcpharness run [--variant NAME] [--captures DIR] [--tolerance MS] PATH...\n"
	"       tcpharness matrix [--markdown] [run options] PATH...\n"
	"       tcpharness check PATH...\n"
	"       tcpharness list PATH...\n"
	"       tcpharness --help | --version\n"
	"\n"
	"Injects hand-built TCP segments at the running kernel, inside network namespaces it creates\n"
	"(nothing on the host is touched), and checks the kernel's replies against case files.\n"
	"PATH is a .tc file or a directory searched recursively for them.\n"
	"\n"
	"commands:\n"
	"  run     run every case under every variant (or only --variant NAME); one pcap per run under\n"
	"          --captures DIR (default: captures/<date>-<time>-<pid>)\n"
	"  matrix  run like `run`, then print the outcome table: a row per case, a column per variant,\n"
	"          each cell what the stack did at the case's `outcome` lines (ACCEPT, ACK, RST, DROP,\n"
	"          an errno name, SKIP; `!` marks a failed case); progress and failures go to stderr\n"
	"  check   parse only; report file:line:col errors\n"
	"  list    print every case@variant that `run` would run\n"
	"\n"
	"options:\n"
	"  --variant NAME   run only this variant of the cases that declare it\n"
	"  --captures DIR   where pcap files go\n"
	"  --tolerance MS   timing slack for lines without an explicit window (default 50)\n"
	"  --markdown       matrix: print GitHub-flavoured Markdown tables\n"
	"\n"
	"exit status: 0 all passed, 1 a case failed, 2 usage or input error\n";

struct path_list {
	char **items;
	int count, capacity;
};

static int push_path(struct path_list *list, const char *path)
{
	if (list->count == list->capacity) {
		int capacity = list->capacity ? 2 * list->capacity : 16;
		char **items = realloc(list->items, (size_t)capacity * sizeof *items);
		if (!items)
			return -1;
		list->items = items;
		list->capacity = capacity;
	}
	list->items[list->count] = strdup(path);
	return list->items[list->count++] ? 0 : -1;
}

static bool is_case_file(const char *name)
{
	size_t len = strlen(name);
	return len > 3 && strcmp(name + len - 3, ".tc") == 0;
}

/* Adds path if it is a file, or every *.tc below it (sorted) if it is a directory. */
static int collect(const char *path, struct path_list *list)
{
	struct stat st;
	if (stat(path, &st) < 0) {
		fprintf(stderr, "tcpharness: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return push_path(list, path);
	struct dirent **entries;
	int n = scandir(path, &entries, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "tcpharness: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = 0;
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;
		if (rc == 0 && name[0] != '.') {
			char *child;
			if (asprintf(&child, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/", name) < 0)
				rc = -1;
			else {
				struct stat cst;
				if (stat(child, &cst) == 0 && (S_ISDIR(cst.st_mode) || is_case_file(name)))
					rc = collect(child, list);
				free(child);
			}
		}
		free(entries[i]);
	}
	free(entries);
	return rc;
}

struct loaded_cases {
	struct case_file *cases;
	int count;
};

/* Parses every file; any error is printed and makes the whole load fail (nothing runs). */
static int load_cases(char **paths, int path_count, struct loaded_cases *out)
{
	struct path_list files = { 0 };
	int rc = 0;
	for (int i = 0; i < path_count && rc == 0; i++)
		rc = collect(paths[i], &files);
	if (rc == 0 && files.count == 0) {
		fprintf(stderr, "tcpharness: no case files (*.tc) found\n");
		rc = -1;
	}
	out->cases = calloc((size_t)(files.count ? files.count : 1), sizeof *out->cases);
	out->count = 0;
	if (!out->cases)
		rc = -1;
	int errors = 0;
	for (int i = 0; rc == 0 && i < files.count; i++) {
		char *error = NULL;
		if (case_parse_file(files.items[i], &out->cases[out->count], &error) < 0) {
			fprintf(stderr, "%s\n", error ? error : "out of memory");
			free(error);
			errors++;
		} else {
			out->count++;
		}
	}
	for (int i = 0; i < files.count; i++)
		free(files.items[i]);
	free(files.items);
	return rc == 0 && errors == 0 ? 0 : -1;
}

static void free_cases(struct loaded_cases *loaded)
{
	for (int i = 0; i < loaded->count; i++)
		case_free(&loaded->cases[i]);
	free(loaded->cases);
}

/* Every case@variant selected by variant_filter (NULL: all), in case order, none run yet. */
static int build_run_set(const struct loaded_cases *loaded, const char *variant_filter, struct run_set *set)
{
	set->count = 0;
	int capacity = 0;
	for (int i = 0; i < loaded->count; i++)
		capacity += loaded->cases[i].variant_count ? loaded->cases[i].variant_count : 1;
	set->runs = calloc((size_t)(capacity ? capacity : 1), sizeof *set->runs);
	if (!set->runs)
		return -1;
	for (int i = 0; i < loaded->count; i++) {
		const struct case_file *c = &loaded->cases[i];
		for (int v = c->variant_count ? 0 : -1; v < c->variant_count; v++) {
			if (variant_filter && (v < 0 || strcmp(variant_filter, c->variants[v].name) != 0))
				continue;
			struct run_record *r = &set->runs[set->count++];
			r->c = c;
			r->variant = v;
			r->name = report_run_name(c, v);
			if (!r->name)
				return -1;
		}
	}
	return 0;
}

static void free_run_set(struct run_set *set)
{
	for (int i = 0; i < set->count; i++) {
		free(set->runs[i].name);
		if (set->runs[i].ran)
			case_result_free(&set->runs[i].result);
	}
	free(set->runs);
}

static void on_signal(int sig)
{
	run_interrupted = sig;
}

static void install_signal_handlers(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A dead agent must show up as an error reply, not kill the harness. */
	signal(SIGPIPE, SIG_IGN);
}

static char *default_captures_dir(void)
{
	char stamp[32];
	time_t now = time(NULL);
	strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", localtime(&now));
	char *dir;
	if (asprintf(&dir, "captures/%s-%d", stamp, (int)getpid()) < 0)
		return NULL;
	return dir;
}

/* Runs every record in order; the console report goes to `console` (stdout for `run`, stderr for
 * `matrix`, whose table owns stdout). Returns the exit status. */
static int run_all(struct run_set *set, const struct run_options *options, FILE *console)
{
	struct console_report report;
	console_report_init(&report, console, set->count);
	install_signal_handlers();
	for (int i = 0; i < set->count && !run_interrupted; i++) {
		struct run_record *r = &set->runs[i];
		console_report_started(&report, r->name);
		run_case(r->c, r->variant, options, &r->result);
		r->ran = true;
		console_report_result(&report, r->name, &r->result);
	}
	wire_wait_released();
	int status = console_report_summary(&report);
	if (run_interrupted) {
		fprintf(stderr, "tcpharness: interrupted; everything it created is removed\n");
		status = 128 + run_interrupted;
	}
	return status;
}

struct command_line {
	const char *command;
	const char *variant_filter;
	const char *captures_dir;
	int64_t tolerance_ns;
	bool markdown;
};

static int command_run(const struct loaded_cases *loaded, const struct command_line *cl)
{
	struct run_set set;
	if (build_run_set(loaded, cl->variant_filter, &set) < 0) {
		fprintf(stderr, "tcpharness: out of memory\n");
		free_run_set(&set);
		return EXIT_USAGE;
	}
	if (set.count == 0) {
		fprintf(stderr, "tcpharness: no case has a variant named '%s'\n", cl->variant_filter);
		free_run_set(&set);
		return EXIT_USAGE;
	}
	char *default_dir = cl->captures_dir ? NULL : default_captures_dir();
	struct run_options options = { cl->captures_dir ? cl->captures_dir : default_dir, cl->tolerance_ns };
	bool matrix = !strcmp(cl->command, "matrix");
	int status = run_all(&set, &options, matrix ? stderr : stdout);
	if (matrix && !run_interrupted)
		matrix_print(stdout, &set, cl->markdown);
	free_run_set(&set);
	free(default_dir);
	return status;
}

static int command_list(const struct loaded_cases *loaded, const char *variant_filter)
{
	struct run_set set;
	int status = 0;
	if (build_run_set(loaded, variant_filter, &set) < 0) {
		fprintf(stderr, "tcpharness: out of memory\n");
		status = EXIT_USAGE;
	}
	for (int i = 0; i < set.count; i++)
		printf("%s\n", set.runs[i].name);
	free_run_set(&set);
	return status;
}

/* Parses options into cl; returns -1 to go on, else the exit status to stop with. */
static int parse_command_line(int argc, char **argv, struct command_line *cl)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "variant", required_argument, NULL, 'v' },
		{ "captures", required_argument, NULL, 'c' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "markdown", no_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	*cl = (struct command_line){ .tolerance_ns = RUN_DEFAULT_TOLERANCE_NS };
	int opt;
	while ((opt = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (opt) {
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("tcpharness %s\n", TCPHARNESS_VERSION);
			return 0;
		case 'v':
			cl->variant_filter = optarg;
			break;
		case 'c':
			cl->captures_dir = optarg;
			break;
		case 'm':
			cl->markdown = true;
			break;
		case 't': {
			char *end;
			double ms = strtod(optarg, &end);
			if (*end || ms < 0 || ms > 60000) {
				fprintf(stderr, "tcpharness: --tolerance takes milliseconds (0..60000), not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cl->tolerance_ns = (int64_t)(ms * 1e6);
			break;
		}
		default:
			fputs(usage_text, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fputs(usage_text, stderr);
		return EXIT_USAGE;
	}
	cl->command = argv[optind++];
	static const char *const commands[] = { "run", "matrix", "check", "list" };
	bool known = false;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		known |= !strcmp(cl->command, commands[i]);
	if (!known) {
		fprintf(stderr, "tcpharness: unknown command '%s'\n%s", cl->command, usage_text);
		return EXIT_USAGE;
	}
	if (cl->markdown && strcmp(cl->command, "matrix") != 0) {
		fprintf(stderr, "tcpharness: --markdown is an option of matrix\n");
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "tcpharness: %s needs at least one PATH\n", cl->command);
		return EXIT_USAGE;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct command_line cl;
	int status = parse_command_line(argc, argv, &cl);
	if (status >= 0)
		return status;
	struct loaded_cases loaded;
	if (load_cases(argv + optind, argc - optind, &loaded) < 0) {
		free_cases(&loaded);
		return EXIT_USAGE;
	}
	if (!strcmp(cl.command, "check")) {
		printf("%d case file%s OK\n", loaded.count, loaded.count == 1 ? "" : "s");
		status = 0;
	} else if (!strcmp(cl.command, "list")) {
		status = command_list(&loaded, cl.variant_filter);
	} else {
		status = command_run(&loaded, &cl);
	}
	free_cases(&loaded);
	return status;
}
