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
#include "report_console.h"
#include "run.h"
#include "wire.h"

#define EXIT_CASE_FAILED 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: tcpharness run [--variant NAME] [--captures DIR] [--tolerance MS] PATH...\n"
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
	"  check   parse only; report file:line:col errors\n"
	"  list    print every case@variant that `run` would run\n"
	"\n"
	"options:\n"
	"  --variant NAME   run only this variant of the cases that declare it\n"
	"  --captures DIR   where pcap files go\n"
	"  --tolerance MS   timing slack for lines without an explicit window (default 50)\n"
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

/* Calls fn for every case@variant selected by variant_filter (NULL: all). Returns how many. */
static int for_each_run(const struct loaded_cases *loaded, const char *variant_filter,
			void (*fn)(const struct case_file *, int, void *), void *arg)
{
	int n = 0;
	for (int i = 0; i < loaded->count; i++) {
		const struct case_file *c = &loaded->cases[i];
		if (c->variant_count == 0) {
			if (!variant_filter) {
				if (fn)
					fn(c, -1, arg);
				n++;
			}
			continue;
		}
		for (int v = 0; v < c->variant_count; v++)
			if (!variant_filter || strcmp(variant_filter, c->variants[v].name) == 0) {
				if (fn)
					fn(c, v, arg);
				n++;
			}
	}
	return n;
}

static char *display_name(const struct case_file *c, int variant)
{
	char *name = run_case_name(c->path);
	if (variant < 0 || !name)
		return name;
	char *full;
	if (asprintf(&full, "%s@%s", name, c->variants[variant].name) < 0)
		full = NULL;
	free(name);
	return full;
}

static void print_run_name(const struct case_file *c, int variant, void *arg)
{
	(void)arg;
	char *name = display_name(c, variant);
	printf("%s\n", name ? name : "?");
	free(name);
}

struct run_context {
	struct run_options options;
	struct console_report report;
};

static void run_one(const struct case_file *c, int variant, void *arg)
{
	struct run_context *ctx = arg;
	if (run_interrupted)
		return;
	char *name = display_name(c, variant);
	console_report_started(&ctx->report, name ? name : c->path);
	struct case_result result;
	run_case(c, variant, &ctx->options, &result);
	console_report_result(&ctx->report, name ? name : c->path, &result);
	case_result_free(&result);
	free(name);
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

static int command_run(struct loaded_cases *loaded, const char *variant_filter, const char *captures_dir,
		       int64_t tolerance_ns)
{
	char *default_dir = captures_dir ? NULL : default_captures_dir();
	struct run_context ctx = { { captures_dir ? captures_dir : default_dir, tolerance_ns }, { 0 } };
	int total = for_each_run(loaded, variant_filter, NULL, NULL);
	if (total == 0) {
		fprintf(stderr, "tcpharness: no case has a variant named '%s'\n", variant_filter);
		free(default_dir);
		return EXIT_USAGE;
	}
	console_report_init(&ctx.report, stdout, total);
	install_signal_handlers();
	for_each_run(loaded, variant_filter, run_one, &ctx);
	wire_wait_released();
	int status = console_report_summary(&ctx.report);
	if (run_interrupted) {
		fprintf(stderr, "tcpharness: interrupted; everything it created is removed\n");
		status = 128 + run_interrupted;
	}
	free(default_dir);
	return status;
}

int main(int argc, char **argv)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "variant", required_argument, NULL, 'v' },
		{ "captures", required_argument, NULL, 'c' },
		{ "tolerance", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *variant_filter = NULL, *captures_dir = NULL;
	int64_t tolerance_ns = RUN_DEFAULT_TOLERANCE_NS;
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
			variant_filter = optarg;
			break;
		case 'c':
			captures_dir = optarg;
			break;
		case 't': {
			char *end;
			double ms = strtod(optarg, &end);
			if (*end || ms < 0 || ms > 60000) {
				fprintf(stderr, "tcpharness: --tolerance takes milliseconds (0..60000), not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			tolerance_ns = (int64_t)(ms * 1e6);
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
	const char *command = argv[optind++];
	bool known = !strcmp(command, "run") || !strcmp(command, "check") || !strcmp(command, "list");
	if (!known) {
		fprintf(stderr, "tcpharness: unknown command '%s'\n%s", command, usage_text);
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "tcpharness: %s needs at least one PATH\n", command);
		return EXIT_USAGE;
	}
	struct loaded_cases loaded;
	if (load_cases(argv + optind, argc - optind, &loaded) < 0) {
		free_cases(&loaded);
		return EXIT_USAGE;
	}
	int status = 0;
	if (!strcmp(command, "check"))
		printf("%d case file%s OK\n", loaded.count, loaded.count == 1 ? "" : "s");
	else if (!strcmp(command, "list"))
		for_each_run(&loaded, variant_filter, print_run_name, NULL);
	else
		status = command_run(&loaded, variant_filter, captures_dir, tolerance_ns);
	free_cases(&loaded);
	return status;
}
