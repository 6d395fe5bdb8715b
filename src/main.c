/* main.c - the tcpharness command line: run, matrix, check and list case files.
 * Exit status: 0 what ran passed, 1 a case failed, 2 usage or input error, 3 no failure but a harness
 * error, 4 nothing ran (every case skipped), 128+N after signal N. */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "build_revision.h"
#include "case_name.h"
#include "case_parser.h"
#include "dry_run.h"
#include "error_text.h"
#include "explore_cli.h"
#include "privilege.h"
#include "report.h"
#include "report_console.h"
#include "report_html.h"
#include "report_json.h"
#include "report_junit.h"
#include "report_matrix.h"
#include "report_merge.h"
#include "report_tap.h"
#include "run.h"
#include "schedule.h"
#include "shard.h"
#include "target.h"

#include <arpa/inet.h>

#define EXIT_PASSED 0
#define EXIT_CASE_FAILED 1
#define EXIT_USAGE 2
#define EXIT_HARNESS_ERROR 3
#define EXIT_NOTHING_RAN 4
/* Shares 2 with usage errors, and only when no case failed: a failed case's 1 says more. */
#define EXIT_REPORT_UNWRITTEN 2

#define TEXT_OF(number) #number
#define NUMBER_TEXT(macro) TEXT_OF(macro)
#define DEFAULT_PPS_TEXT NUMBER_TEXT(SEND_BUDGET_DEFAULT_PPS)

static const char usage_text[] =
	"usage: tcpharness run [-j N] [--variant NAME] [--family F] [--captures DIR] [--capture-format F]\n"
	"                      [--tolerance MS] [--report FORMAT[=PATH]]... [--retries N] [--rerun-failures N]\n"
	"                      [--allow-skip-only] [--shard K/N] [TARGET] PATH...\n"
	"       tcpharness matrix [--markdown] [--targets T1,T2...] [run options] PATH...\n"
	"       tcpharness check PATH...\n"
	"       tcpharness list [--variant NAME] [--family F] [--shard K/N] PATH...\n"
	"       tcpharness merge [--markdown] [--report FORMAT[=PATH]]... REPORT.json...\n"
	"       tcpharness explore [options]   (explore --help: the TCP state x event table)\n"
	"       tcpharness --help | --version\n"
	"\n"
	"Injects hand-built TCP segments at the running kernel, inside network namespaces it creates\n"
	"(nothing on the host is touched), and checks the kernel's replies against case files.\n"
	"PATH is a .tc or packetdrill .pkt file, or a directory searched recursively for them.\n"
	"\n"
	"commands:\n"
	"  run     run every case under every variant (or only --variant NAME); one capture per run under\n"
	"          --captures DIR (default: captures/<date>-<time>-<pid>)\n"
	"  matrix  run like `run`, then print the outcome table: a row per case, a column per variant,\n"
	"          each cell what the stack did at the case's `outcome` lines (ACCEPT, ACK, RST, DROP,\n"
	"          an errno name, SKIP; `!` marks a failed case); progress and failures go to stderr\n"
	"  check   parse only; report file:line:col errors\n"
	"  list    print every case@variant that `run` would run\n"
	"  merge   put the JSON reports of shards (--shard K/N --report json=FILE) back together: one\n"
	"          console report, matrix table (stdout) and --report of each format, as one unsharded run\n"
	"          would give; every shard 1..N exactly once, or exit 2 naming the one missing or doubled.\n"
	"          It reads the case files again from the PATHs the shards were given (the same checkout)\n"
	"  explore drive the stack into every TCP state, inject every event, print the state x event\n"
	"          table (its own options: tcpharness explore --help; docs/explore.md)\n"
	"\n"
	"options:\n"
	"  --variant NAME   run only this variant of the cases that declare it\n"
	"  --family F       4, 6, mapped or all (default): the address families every case runs in (IPv4;\n"
	"                   IPv6, each case address mapped into 2001:db8::/96; IPv4 on the wire to an\n"
	"                   AF_INET6 application); a case's `family` line narrows it. With several, a run's\n"
	"                   name ends in /ipv4, /ipv6 or /mapped and the matrix has a column per family\n"
	"  --captures DIR   where captures go: DIR/<case name>[@variant].pcapng, always a new file, never\n"
	"                   through a symlink under DIR\n"
	"  --capture-format pcapng|pcap\n"
	"                   pcapng (default, what Wireshark writes): every frame carries a comment naming\n"
	"                   the case line that injected or read it, the verdict on the frame that broke\n"
	"                   the case; pcap: classic format for tools that read nothing else, no comments\n"
	"  -j, --jobs N     run N case@variants at once, each in its own sandbox (default: the number of\n"
	"                   CPUs); results still print in case order\n"
	"  --tolerance MS   timing slack for lines without an explicit window (default 50)\n"
	"  --retries N      run a case@variant that ended in a harness ERROR again, in a fresh sandbox, up to\n"
	"                   N times (default 2); one that passes on a later try is FLAKY, every try shown\n"
	"  --rerun-failures N\n"
	"                   likewise for a FAIL (default 0: a FAIL stands)\n"
	"  --allow-skip-only\n"
	"                   exit 0, not 4, when every case was skipped\n"
	"  --markdown       matrix, merge: print GitHub-flavoured Markdown tables\n"
	"  --shard K/N      run, matrix, list: only runner K's share of N (1 <= K <= N <= 1000) of the\n"
	"                   selected case@variant/family runs, split by each run's expected duration (its\n"
	"                   timer chain as written), the same on every machine; the JSON report records the\n"
	"                   selection and K/N for merge (docs/ci.md)\n"
		"  --ip_version V, --local_ip A, --remote_ip A, --tolerance_usecs N, --tolerance_percent P,\n"
	"  --mss N, --tcp_ts_tick_usecs N, -D NAME=VALUE\n"
	"                   packetdrill's command line, for .pkt scripts (docs/packetdrill.md): options\n"
	"                   that win over the scripts' own, defines replacing whole words\n"
	"\n"
	"target (default local: the running kernel, one fresh pair of namespaces per case):\n"
	"  --target lab --iface IF --target-ip A --agent 'COMMAND' [--allow-default-route-iface]\n"
	"                   a lab host on the link IF: segments go to A only, the harness answers ARP\n"
	"                   (A an IPv4 address: families ipv4 and mapped) or neighbour solicitations (A\n"
	"                   an IPv6 address in 2001:db8::/96: family ipv6) for the peers' addresses (they\n"
	"                   must be on-link for A and not this host's), and the application runs in\n"
	"                   `tcpharness-agent` started by COMMAND (e.g. 'ssh lab1 tcpharness-agent'); its\n"
	"                   sysctls are restored after every case.\n"
	"                   Cases run one at a time. Several hosts: give --iface, --target-ip and --agent\n"
	"                   once per host, in the same order; cases spread over them, one case per host at\n"
	"                   a time (the same stack on every host, every A in one family). IF may not\n"
	"                   carry this host's default route unless --allow-default-route-iface says the\n"
	"                   link is a lab network. On a shared network (docs/lab.md, safety):\n"
	"    --allow-address-in-use ADDR  claim peer address ADDR although a host answered the RFC 5227\n"
	"                   (IPv6: RFC 4862) probe for it (otherwise that is refused, exit 2); repeatable\n"
	"    --max-pps N    send budget: at most N segments a second (default "
	DEFAULT_PPS_TEXT "); a case whose lines\n"
	"                   send more is refused before anything runs\n"
	"    --allow-storm  let `storm` lines run on the lab host, paced at --max-pps\n"
	"    --dry-run      run: probe the addresses, resolve the target and print every frame the run\n"
	"                   would send, in the case notation and as hex; send no segment\n"
	"  --target vm [--vm-image DIR | --kernel FILE [--modules DIR|PACKAGE.deb]]\n"
	"                   a Linux kernel under QEMU (TCG), booted once for the run, on a TAP in a\n"
	"                   namespace of the harness's own; every case gets a fresh network namespace in\n"
	"                   the guest. DIR (default $TCPHARNESS_VM_IMAGE, else build/vm) comes from\n"
	"                   scripts/vm-image.sh DIR build/tcpharness-agent-static (Debian's Linux 6.1).\n"
	"                   --kernel: any x86-64 kernel, a bzImage or a PVH vmlinux; drivers built as\n"
	"                   modules come from --modules (INSTALL_MOD_PATH or the kernel's .deb). What the\n"
	"                   kernel lacks (virtio, initramfs, devtmpfs, network namespaces, inet_diag) is\n"
	"                   named before it boots; the image is cached under ~/.cache/tcpharness\n"
	"  --target gvisor  gVisor's netstack: the agent runs under runsc (scripts/gvisor-run-agent.sh) in a\n"
	"                   fresh pair of namespaces per case; runsc must be installed\n"
	"  --target lwip    lwIP 2.1.3 (tcpharness-agent-lwip, built from Debian's source with TCP options on) on a TAP\n"
	"                   in a fresh namespace per case\n"
	"                   Lines prefixed {STACK} or {!STACK} in case files run only on (or everywhere but)\n"
	"                   linux, gvisor or lwip: per-stack expectations; {linux<4.13}: per kernel release\n"
	"  --targets T1,T2  matrix: run everything on each target in turn and print one table, a column\n"
	"                   per target (e.g. local,gvisor,lwip); pcaps go to DIR/<target>/. vm=PATH is a\n"
	"                   VM of its own, PATH an image directory or a kernel file, so several kernels\n"
	"                   make one table: local,vm,vm=/boot/vmlinuz-4.9.337\n"
	"  --report FORMAT[=PATH]\n"
	"                   run, matrix, merge: also write a report (repeatable); `--report FORMAT PATH` works\n"
	"                   too, except for tap, whose FILE is only ever given as tap=FILE:\n"
	"                     tap[=FILE]   TAP version 13; without FILE on stdout, and the console report\n"
	"                                  goes to stderr (matrix, whose table owns stdout, needs a FILE)\n"
	"                     junit FILE   JUnit XML for Jenkins and GitLab\n"
	"                     json FILE    JSON, schema tcpharness-report/1 (docs/report-json.md)\n"
	"                     html DIR     DIR/index.html, one self-contained page\n"
	"                   Written even when cases fail; after an interrupt, with the runs that finished.\n"
	"\n"
	"verdicts: PASS; FAIL the stack did something other than the case says; ERROR the harness or its\n"
	"environment could not perform a line (it was late, its agent, capture or sandbox broke), which\n"
	"proves nothing about the stack; SKIP the stack or the harness lacks what the case needs; FLAKY\n"
	"passed on a retry. The closing line: N passed, N failed, N skipped, N flaky, N errors.\n"
	"\n"
	"exit status:\n"
	"  0  everything that ran passed (FLAKY and SKIP allowed, as long as at least one case ran)\n"
	"  1  at least one FAIL\n"
	"  2  usage or input error; or a report could not be written and no case failed\n"
	"  3  no FAIL, but at least one ERROR\n"
	"  4  nothing ran: every case was a SKIP (0 with --allow-skip-only)\n"
	"  128+N  interrupted by signal N\n";

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
	return (len > 3 && strcmp(name + len - 3, ".tc") == 0) || (len > 4 && strcmp(name + len - 4, ".pkt") == 0);
}

/* Adds path if it is a file, or every *.tc and *.pkt below it (sorted) if it is a directory. */
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
static int load_cases(const char *const *paths, int path_count, const struct pkt_command_line *pkt,
		      struct loaded_cases *out)
{
	struct path_list files = { 0 };
	int rc = 0;
	for (int i = 0; i < path_count && rc == 0; i++)
		rc = collect(paths[i], &files);
	if (rc == 0 && files.count == 0) {
		fprintf(stderr, "tcpharness: no case files (*.tc, *.pkt) found\n");
		rc = -1;
	}
	out->cases = calloc((size_t)(files.count ? files.count : 1), sizeof *out->cases);
	out->count = 0;
	if (!out->cases)
		rc = -1;
	int errors = 0;
	for (int i = 0; rc == 0 && i < files.count; i++) {
		char *error = NULL;
		if (case_parse_file_with(files.items[i], pkt, &out->cases[out->count], &error) < 0) {
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
	if (rc == 0 && errors == 0) {
		char *error = NULL;
		rc = case_names_assign(out->cases, out->count, &error);
		if (rc < 0)
			fprintf(stderr, "tcpharness: %s\n", error ? error : "out of memory");
		free(error);
	}
	return rc == 0 && errors == 0 ? 0 : -1;
}

static void free_cases(struct loaded_cases *loaded)
{
	for (int i = 0; i < loaded->count; i++)
		case_free(&loaded->cases[i]);
	free(loaded->cases);
}

/* Keeps only shard's runs of the whole selection in set, in selection order (shard.h). 0, or -1 out of
 * memory. */
static int cut_shard(struct run_set *set, const struct shard_spec *shard)
{
	int *shard_of = malloc((size_t)(set->count ? set->count : 1) * sizeof *shard_of);
	if (!shard_of || report_shard_of(set, shard->count, shard_of) < 0) {
		free(shard_of);
		return -1;
	}
	int kept = 0;
	for (int i = 0; i < set->count; i++) {
		if (shard_of[i] == shard->index - 1)
			set->runs[kept++] = set->runs[i];
		else
			free(set->runs[i].name);
	}
	set->count = kept;
	set->selection.shard_index = shard->index;
	set->selection.shard_count = shard->count;
	free(shard_of);
	return 0;
}

/* What selects the runs of an invocation: its case PATHs, --variant, --family and --shard. */
struct selection_options {
	const char *const *paths;
	int path_count;
	const char *variant_filter; /* NULL: every variant */
	unsigned families;          /* bit 1 << family */
	struct shard_spec shard;    /* 1/1: the whole selection */
};

/* Every case@variant selected by variant_filter (NULL: all), in each of the families that both the
 * invocation (families) and the case allow, in case order, none run yet; only those of the shard. */
static int build_run_set(const struct loaded_cases *loaded, const struct selection_options *selected,
			 struct run_set *set)
{
	const char *variant_filter = selected->variant_filter;
	unsigned families = selected->families;
	*set = (struct run_set){ .families = families,
				 .selection = { .paths = selected->paths, .path_count = selected->path_count,
						.variant_filter = variant_filter } };
	int capacity = 0;
	for (int i = 0; i < loaded->count; i++)
		capacity += (loaded->cases[i].variant_count ? loaded->cases[i].variant_count : 1) * FAMILY_COUNT;
	set->runs = calloc((size_t)(capacity ? capacity : 1), sizeof *set->runs);
	if (!set->runs)
		return -1;
	for (int i = 0; i < loaded->count; i++) {
		const struct case_file *c = &loaded->cases[i];
		for (int v = c->variant_count ? 0 : -1; v < c->variant_count; v++) {
			if (variant_filter && (v < 0 || strcmp(variant_filter, c->variants[v].name) != 0))
				continue;
			for (int f = 0; f < FAMILY_COUNT; f++) {
				if (!(families & c->families & 1u << f))
					continue;
				struct run_record *r = &set->runs[set->count++];
				r->c = c;
				r->variant = v;
				r->family = (enum address_family)f;
				r->name = report_run_name(c, v, report_names_families(set) ? f : -1);
				r->selection_index = set->count - 1;
				if (!r->name)
					return -1;
			}
		}
	}
	set->selection.run_count = set->count;
	set->selection.digest = report_selection_digest(set);
	set->selection.shard_index = set->selection.shard_count = 1;
	return selected->shard.count > 1 ? cut_shard(set, &selected->shard) : 0;
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

/* TAP without a FILE goes to standard output. */
static int write_tap(const char *path, const struct run_set *set, char **error)
{
	return path ? report_write_file(path, report_tap_write, set, error) : report_tap_write(stdout, set, error);
}

/* What --report can write. Only TAP may go without a PATH. */
static const struct report_format {
	const char *name;
	const char *path_kind; /* FILE or DIR, for messages */
	bool path_required;
	int (*write)(const char *path, const struct run_set *set, char **error);
} report_formats[] = {
	{ "tap", "FILE", false, write_tap },
	{ "junit", "FILE", true, report_junit_write },
	{ "json", "FILE", true, report_json_write },
	{ "html", "DIR", true, report_html_write },
};

#define MAX_REPORTS 16

struct report_request {
	const struct report_format *format;
	const char *path; /* NULL: standard output */
};

struct command_line {
	const char *command;
	const char *variant_filter;
	unsigned families;                 /* --family: bit 1 << family */
	const char *captures_dir;
	enum capture_format capture_format;
	int64_t tolerance_ns;
	int jobs;
	bool jobs_given;
	int retries, rerun_failures;
	bool allow_skip_only;
	bool markdown;
	struct target_options target;      /* the lab's settings; kind is kinds[0] */
	enum target_kind kinds[MATRIX_MAX_TARGETS];
	const char *vm_paths[MATRIX_MAX_TARGETS]; /* `vm=PATH`: an image directory or a kernel file */
	int target_count;
	bool target_given, lab_option_given, vm_option_given;
	struct report_request reports[MAX_REPORTS];
	int report_count;
	/* --target lab: a host per --iface, --target-ip and --agent, in the order given (only those three
	 * fields are set); cl->target holds the last given. */
	struct target_options lab_hosts[TARGET_MAX_LAB_HOSTS];
	int lab_host_count, lab_ip_count, lab_agent_count;
	struct shard_spec shard;           /* --shard K/N; 1/1 without it */
	bool selection_option;             /* an option other than --report, --markdown, --allow-skip-only */
	const char *const *paths;          /* the case PATHs */
	int path_count;
	struct pkt_command_line pkt;       /* packetdrill's options and -D defines, for .pkt files */
};

static struct selection_options selection_of(const struct command_line *cl)
{
	return (struct selection_options){ cl->paths, cl->path_count, cl->variant_filter, cl->families, cl->shard };
}

static bool report_to_stdout(const struct command_line *cl)
{
	for (int i = 0; i < cl->report_count; i++)
		if (!cl->reports[i].path)
			return true;
	return false;
}

/* Every requested report, also after failures and interrupts (with the runs that finished). Returns
 * -1 when any could not be written; each failure is on stderr. */
static int write_reports(const struct command_line *cl, const struct run_set *set)
{
	int rc = 0;
	for (int i = 0; i < cl->report_count; i++) {
		const struct report_request *request = &cl->reports[i];
		char *error = NULL;
		if (request->format->write(request->path, set, &error) < 0) {
			fprintf(stderr, "tcpharness: %s report not written: %s\n", request->format->name,
				error ? error : "out of memory");
			free(error);
			rc = -1;
		}
	}
	return rc;
}

/* Targets opened at once (VMs booting in parallel, lab hosts probed in parallel). A VM's QEMU dies with the thread that forked it
 * (PR_SET_PDEATHSIG follows the parent thread), so each target opened on a thread of the pool's
 * keeps that thread, waiting, until it is told to close the target it opened. */
struct target_pool {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int opened;        /* openings done (well or not) */
	int first;         /* the opening whose target names the run: the first to open */
	bool release;      /* the run is over: close and end */
	pthread_t threads[SCHEDULE_MAX_JOBS];
	bool threaded[SCHEDULE_MAX_JOBS];
	struct target_opening {
		struct target_pool *pool;
		const struct target_options *options;
		struct target *target;
		char *error;
		int rc;
		bool done;               /* rc, target and error are final */
		struct run_options *run; /* the worker's, whose target await_opening fills in; NULL: none */
	} openings[SCHEDULE_MAX_JOBS];
	int count;
};

static void opening_done(struct target_opening *o)
{
	pthread_mutex_lock(&o->pool->lock);
	o->pool->opened++;
	o->done = true;
	pthread_cond_broadcast(&o->pool->changed);
	pthread_mutex_unlock(&o->pool->lock);
}

static void *open_and_hold_target(void *arg)
{
	struct target_opening *o = arg;
	struct target_pool *pool = o->pool;
	o->rc = target_open(o->options, &o->target, &o->error);
	opening_done(o);
	pthread_mutex_lock(&pool->lock);
	while (!pool->release)
		pthread_cond_wait(&pool->changed, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
	target_close(o->target);
	return NULL;
}

/* Closes every target of the pool (each on the thread that opened it) and frees it. */
static void close_targets(struct target_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	pool->release = true;
	pthread_cond_broadcast(&pool->changed);
	pthread_mutex_unlock(&pool->lock);
	for (int i = 0; i < pool->count; i++)
		if (pool->threaded[i])
			pthread_join(pool->threads[i], NULL);
	if (!pool->threaded[0])
		target_close(pool->openings[0].target);
	for (int i = 0; i < pool->count; i++)
		free(pool->openings[i].error);
	pthread_cond_destroy(&pool->changed);
	pthread_mutex_destroy(&pool->lock);
	free(pool);
}

/* Blocks until every opening is done, so that each target is final (opened or not). */
static void await_all_openings(struct target_pool *pool)
{
	pthread_mutex_lock(&pool->lock);
	while (pool->opened < pool->count)
		pthread_cond_wait(&pool->changed, &pool->lock);
	pthread_mutex_unlock(&pool->lock);
}

/* The first opening to succeed, or -1 once every one failed. */
static int await_first_opened(struct target_pool *pool)
{
	int first = -1;
	pthread_mutex_lock(&pool->lock);
	for (;;) {
		for (int i = 0; i < pool->count && first < 0; i++)
			if (pool->openings[i].done && pool->openings[i].rc == 0)
				first = i;
		if (first >= 0 || pool->opened == pool->count)
			break;
		pthread_cond_wait(&pool->changed, &pool->lock);
	}
	pthread_mutex_unlock(&pool->lock);
	return first;
}

/* schedule_options.await_run: worker i's target once it is open (its VM booted while the first one's
 * worker ran cases). A target that did not open leaves its worker idle, said on stderr; the others
 * take its cases. A signal ends the wait within 50 ms. */
static int await_opening(void *arg, int worker)
{
	struct target_pool *pool = arg;
	struct target_opening *o = &pool->openings[worker % pool->count];
	pthread_mutex_lock(&pool->lock);
	while (!o->done && !run_interrupted) {
		struct timespec tick;
		clock_gettime(CLOCK_REALTIME, &tick);
		tick.tv_nsec += 50000000;
		if (tick.tv_nsec >= 1000000000) {
			tick.tv_sec++;
			tick.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&pool->changed, &pool->lock, &tick);
	}
	int rc = o->done && o->rc == 0 ? 0 : -1;
	/* Only a worker whose target opened late finds it unset; workers sharing one target only read it. */
	if (rc == 0 && o->run && o->run->target != o->target)
		o->run->target = o->target;
	pthread_mutex_unlock(&pool->lock);
	if (rc < 0 && o->done)
		fprintf(stderr, "tcpharness: target %d of %d did not open (%s); the others run its cases\n", worker + 1,
			pool->count, o->error ? o->error : "out of memory");
	return rc;
}

/* Opens count targets at once, the i-th with options[i]: the pool with targets in openings[0..count), or
 * NULL with *error (a failure's) and nothing left open. With any_first (VMs), it returns once any
 * target is open, as pool->first; the others go on opening on threads of their own, and
 * await_opening waits for each. Otherwise every target must open, and the first names the run. */
static struct target_pool *open_targets(const struct target_options *options, int count, bool any_first,
					char **error)
{
	struct target_pool *pool = calloc(1, sizeof *pool);
	if (!pool) {
		*error = strdup("out of memory");
		return NULL;
	}
	pthread_mutex_init(&pool->lock, NULL);
	pthread_cond_init(&pool->changed, NULL);
	pool->count = count;
	for (int i = 0; i < count; i++)
		pool->openings[i] = (struct target_opening){ pool, &options[i], NULL, NULL, -1, false, NULL };
	/* Without any_first, the first target opens on this thread, which outlives the run. */
	for (int i = any_first ? 0 : 1; i < count; i++) {
		pool->threaded[i] = pthread_create(&pool->threads[i], NULL, open_and_hold_target, &pool->openings[i]) == 0;
		if (!pool->threaded[i]) {
			pool->openings[i].error = strdup("cannot start a thread to open another target");
			opening_done(&pool->openings[i]);
		}
	}
	if (!any_first) {
		struct target_opening *first = &pool->openings[0];
		first->rc = target_open(&options[0], &first->target, &first->error);
		opening_done(first);
	}
	pool->first = any_first ? await_first_opened(pool) : 0;
	bool all_needed = !any_first || pool->first < 0;
	if (all_needed)
		await_all_openings(pool);
	for (int i = 0; i < count && all_needed; i++)
		if (pool->openings[i].rc < 0) {
			*error = pool->openings[i].error;
			pool->openings[i].error = NULL;
			close_targets(pool);
			return NULL;
		}
	return pool;
}

/* Runs set on the t-th target of the command line; *label gets its malloc'd label, which set->kernel
 * borrows, and set->started the time it began (the target opening included). With several
 * targets, each one's pcaps go to a directory of its own; a VM under -j N runs as N VMs, and a lab of
 * several hosts takes one case on each host at a time. Returns the exit status. */
static int run_on_target(const struct command_line *cl, int t, struct run_set *set, FILE *console, char **label)
{
	struct target_options options_of_target = cl->target;
	options_of_target.kind = cl->kinds[t];
	struct stat st;
	if (cl->vm_paths[t] && stat(cl->vm_paths[t], &st) == 0 && S_ISDIR(st.st_mode)) {
		options_of_target.vm_image = cl->vm_paths[t];
		options_of_target.vm_kernel = options_of_target.vm_modules = NULL;
	} else if (cl->vm_paths[t]) {
		options_of_target.vm_kernel = cl->vm_paths[t];
		options_of_target.vm_modules = NULL;
	}
	/* A VM runs one case at a time: -j N boots N of them, at once, one per worker. A lab host runs one
	 * case at a time too: a worker per host. */
	int copies = options_of_target.kind == TARGET_VM	? (cl->jobs < set->count ? cl->jobs : set->count)
		     : options_of_target.kind == TARGET_LAB ? cl->lab_host_count
							  : 1;
	if (copies < 1)
		copies = 1;
	char *error = NULL;
	clock_gettime(CLOCK_REALTIME, &set->started);
	char prepared_image[4096];
	struct target_pool *pool = NULL;
	/* Read by the opening threads until the targets close. */
	struct target_options per_copy[SCHEDULE_MAX_JOBS];
	if (target_prepare(&options_of_target, prepared_image, sizeof prepared_image, &error) == 0) {
		for (int i = 0; i < copies; i++) {
			per_copy[i] = options_of_target;
			if (options_of_target.kind == TARGET_LAB) {
				per_copy[i].iface = cl->lab_hosts[i].iface;
				per_copy[i].target_ip = cl->lab_hosts[i].target_ip;
				per_copy[i].target_ipv6 = cl->lab_hosts[i].target_ipv6;
				per_copy[i].agent_command = cl->lab_hosts[i].agent_command;
			}
		}
		/* VMs: the first worker starts on the first VM while the others boot. Lab hosts: all at
		 * once, since they must greet alike before any case runs. */
		pool = open_targets(per_copy, copies, options_of_target.kind == TARGET_VM, &error);
	}
	for (int i = 1; pool && i < copies && options_of_target.kind == TARGET_LAB; i++)
		if (strcmp(target_label(pool->openings[i].target), target_label(pool->openings[0].target)) != 0) {
			/* A case's verdict must not depend on which host took it. */
			error_set(&error, "the lab hosts differ: %s on %s, %s on %s; the hosts of one run must run the "
					  "same stack", target_label(pool->openings[0].target), cl->lab_hosts[0].iface,
				  target_label(pool->openings[i].target), cl->lab_hosts[i].iface);
			close_targets(pool);
			pool = NULL;
		}
	if (!pool) {
		fprintf(stderr, "tcpharness: target %s: %s\n", target_kind_name(options_of_target.kind),
			error ? error : "out of memory");
		free(error);
		*label = strdup(target_kind_name(options_of_target.kind));
		return EXIT_USAGE;
	}
	struct target *target = pool->openings[pool->first].target;
	*label = strdup(target_label(target));
	set->kernel = *label;
	if (cl->target_count > 1)
		fprintf(console, "== %s ==\n", target_label(target));
	int jobs = cl->jobs;
	if (options_of_target.kind == TARGET_LAB) {
		if (cl->jobs_given && cl->jobs != copies)
			fprintf(stderr, "tcpharness: %s runs one case at a time on each of its %d host%s; -j %d ignored\n",
				target_label(target), copies, copies == 1 ? "" : "s", cl->jobs);
		jobs = copies;
	} else if (!target_runs_cases_in_parallel(target) && copies == 1) {
		if (cl->jobs_given && cl->jobs > 1 && options_of_target.kind != TARGET_VM)
			fprintf(stderr, "tcpharness: %s runs one case at a time; -j %d ignored\n", target_label(target),
				cl->jobs);
		jobs = 1;
	}
	char *dir = cl->captures_dir ? strdup(cl->captures_dir) : default_captures_dir();
	if (dir && cl->target_count > 1) {
		/* local, lab, vm, then vm-2, vm-3 for more targets of a kind. */
		int same_kind_before = 0;
		for (int i = 0; i < t; i++)
			same_kind_before += cl->kinds[i] == cl->kinds[t];
		char *per_target = NULL;
		if ((same_kind_before ? asprintf(&per_target, "%s/%s-%d", dir, target_kind_name(options_of_target.kind),
						 same_kind_before + 1)
				      : asprintf(&per_target, "%s/%s", dir, target_kind_name(options_of_target.kind))) < 0)
			per_target = NULL;
		free(dir);
		dir = per_target;
	}
	struct run_options options[SCHEDULE_MAX_JOBS];
	pthread_mutex_lock(&pool->lock);
	for (int i = 0; i < copies; i++) {
		struct target_opening *o = &pool->openings[i];
		options[i] = (struct run_options){ o->done ? o->target : NULL, dir, cl->tolerance_ns,
						   report_names_families(set), cl->capture_format };
		pool->openings[i].run = &options[i];
	}
	pthread_mutex_unlock(&pool->lock);
	int status;
	if (cl->target.dry_run) {
		status = dry_run_print(target, set, stdout, &error) < 0 ? EXIT_USAGE : 0;
		if (status)
			fprintf(stderr, "tcpharness: dry run: %s\n", error ? error : "out of memory");
		free(error);
	} else {
		struct schedule_options schedule = { options, copies, jobs, cl->retries, cl->rerun_failures,
						     await_opening, pool };
		status = schedule_run(set, &schedule, console) < 0 ? EXIT_USAGE : EXIT_PASSED;
	}
	await_all_openings(pool);
	for (int i = 0; i < copies; i++)
		if (pool->openings[i].rc == 0 && target_refusal(pool->openings[i].target)) {
			fprintf(stderr, "tcpharness: %s: stopped claiming the peers' addresses: %s\n",
				target_label(pool->openings[i].target), target_refusal(pool->openings[i].target));
			status = EXIT_USAGE;
		}
	close_targets(pool);
	free(dir);
	return status;
}

/* What the runs on every target add up to (usage_text's list): a FAIL says most, then an ERROR; a run
 * in which every case was skipped tested nothing, and must not look green. */
static int exit_status_of(const struct run_set *sets, int count, bool allow_skip_only)
{
	int totals[SHOWN_VERDICT_COUNT] = { 0 };
	for (int t = 0; t < count; t++) {
		int counts[SHOWN_VERDICT_COUNT];
		report_count(&sets[t], counts);
		for (int v = 0; v < SHOWN_VERDICT_COUNT; v++)
			totals[v] += counts[v];
	}
	if (totals[SHOWN_FAIL])
		return EXIT_CASE_FAILED;
	if (totals[SHOWN_ERROR])
		return EXIT_HARNESS_ERROR;
	if (totals[SHOWN_PASS] + totals[SHOWN_FLAKY] == 0 && !allow_skip_only) {
		fprintf(stderr, "tcpharness: nothing ran: every case was skipped (exit %d; --allow-skip-only "
				"accepts that)\n", EXIT_NOTHING_RAN);
		return EXIT_NOTHING_RAN;
	}
	return EXIT_PASSED;
}

static bool every_target_is(const struct command_line *cl, enum target_kind kind)
{
	for (int t = 0; t < cl->target_count; t++)
		if (cl->kinds[t] != kind)
			return false;
	return true;
}

static int command_run(const struct loaded_cases *loaded, const struct command_line *cl)
{
	struct run_set set;
	struct selection_options selected = selection_of(cl);
	if (build_run_set(loaded, &selected, &set) < 0) {
		fprintf(stderr, "tcpharness: out of memory\n");
		run_set_free(&set);
		return EXIT_USAGE;
	}
	if (set.count == 0 && set.selection.run_count > 0) {
		/* More runners than runs: this one has nothing to do, and its report says so to merge. */
		fprintf(stderr, "tcpharness: shard %d/%d holds none of the %d run%s selected\n", cl->shard.index,
			cl->shard.count, set.selection.run_count, set.selection.run_count == 1 ? "" : "s");
		int status = write_reports(cl, &set) < 0 ? EXIT_REPORT_UNWRITTEN : EXIT_PASSED;
		run_set_free(&set);
		return status;
	}
	if (set.count == 0) {
		if (cl->variant_filter)
			fprintf(stderr, "tcpharness: no case has a variant named '%s'\n", cl->variant_filter);
		else
			fprintf(stderr, "tcpharness: no case runs in the families asked for (--family)\n");
		run_set_free(&set);
		return EXIT_USAGE;
	}
	struct run_set sets[MATRIX_MAX_TARGETS] = { set };
	char *labels[MATRIX_MAX_TARGETS] = { 0 };
	bool matrix = !strcmp(cl->command, "matrix");
	FILE *console = matrix || report_to_stdout(cl) ? stderr : stdout;
	int status = 0, ran = 0;
	/* An ordinary user runs local cases as root would, in a user namespace of its own; where none can
	 * be made, every case is a SKIP naming the missing privilege, and the exit status says nothing ran. */
	if (every_target_is(cl, TARGET_LOCAL)) {
		char *why = NULL;
		if (privilege_acquire(&why) < 0)
			fprintf(stderr, "tcpharness: %s; every case will be a SKIP\n", why ? why : "out of memory");
		free(why);
	}
	struct timespec started, ended;
	clock_gettime(CLOCK_MONOTONIC, &started);
	for (int t = 0; t < cl->target_count && !run_interrupted && status != EXIT_USAGE; t++) {
		if (t > 0 && build_run_set(loaded, &selected, &sets[t]) < 0) {
			run_set_free(&sets[t]);
			status = EXIT_USAGE;
			break;
		}
		ran = t + 1;
		int target_status = run_on_target(cl, t, &sets[t], console, &labels[t]);
		if (target_status > status)
			status = target_status;
	}
	clock_gettime(CLOCK_MONOTONIC, &ended);
	sets[0].wall_ns = (int64_t)(ended.tv_sec - started.tv_sec) * 1000000000 + (ended.tv_nsec - started.tv_nsec);
	/* A dry run runs nothing by design: its status is whether it could say what it would send. */
	if (status != EXIT_USAGE && !run_interrupted && !cl->target.dry_run)
		status = exit_status_of(sets, ran, cl->allow_skip_only);
	if (run_interrupted) {
		fprintf(stderr, "tcpharness: interrupted; everything it created is removed\n");
		status = 128 + run_interrupted;
	}
	if (matrix && !run_interrupted && status != EXIT_USAGE) {
		if (cl->target_count > 1)
			matrix_print_targets(stdout, sets, (const char *const *)labels, ran, cl->markdown);
		else
			matrix_print(stdout, &sets[0], cl->markdown);
	}
	/* Several targets: one report of every target's runs, each labelled with its target. The
	 * records are borrowed from the per-target sets, which own them. */
	struct run_set reported = sets[0];
	if (cl->target_count > 1) {
		/* Each record names its target; the set started with the first, and its selection and wall time
		 * are every target's. */
		reported = (struct run_set){ .families = sets[0].families, .started = sets[0].started,
					     .selection = sets[0].selection, .wall_ns = sets[0].wall_ns };
		for (int t = 0; t < ran; t++)
			reported.count += sets[t].count;
		reported.runs = calloc(reported.count ? (size_t)reported.count : 1, sizeof *reported.runs);
		if (!reported.runs) {
			fprintf(stderr, "tcpharness: out of memory\n");
			reported.count = 0;
			status = EXIT_USAGE;
		}
		for (int t = 0, at = 0; reported.runs && t < ran; t++)
			for (int i = 0; i < sets[t].count; i++, at++) {
				reported.runs[at] = sets[t].runs[i];
				reported.runs[at].target = labels[t];
			}
	}
	if (status != EXIT_USAGE && write_reports(cl, &reported) < 0 &&
	    (status == EXIT_PASSED || status == EXIT_NOTHING_RAN))
		status = EXIT_REPORT_UNWRITTEN;
	if (cl->target_count > 1)
		free(reported.runs);
	/* sets[0] is the caller's set, there even when no target ran. */
	for (int t = 0; t < (ran ? ran : 1); t++) {
		run_set_free(&sets[t]);
		free(labels[t]);
	}
	return status;
}

static int command_list(const struct loaded_cases *loaded, const struct command_line *cl)
{
	struct run_set set;
	struct selection_options selected = selection_of(cl);
	int status = 0;
	if (build_run_set(loaded, &selected, &set) < 0) {
		fprintf(stderr, "tcpharness: out of memory\n");
		status = EXIT_USAGE;
	}
	for (int i = 0; i < set.count; i++)
		printf("%s\n", set.runs[i].name);
	run_set_free(&set);
	return status;
}

/* Puts shard reports back together (report_merge.h) and writes what one unsharded run would have: the
 * console's lines and closing count on stderr, the matrix on stdout, every --report. The case files are
 * read again from the PATHs the shards were given, relative to this directory. */
static int command_merge(const struct command_line *cl)
{
	struct merge_reports *reports = NULL;
	struct merge_selection selection;
	struct loaded_cases loaded = { 0 };
	struct run_set set = { 0 };
	char *error = NULL;
	int status = EXIT_USAGE;
	if (merge_reports_read(cl->paths, cl->path_count, &reports, &selection, &error) < 0)
		goto out;
	if (load_cases(selection.paths, selection.path_count, NULL, &loaded) < 0) {
		error_set(&error, "the case files the shards ran are read from the PATHs they were given, relative to "
				  "this directory; run merge where the shards ran (the same checkout)");
		goto out;
	}
	struct selection_options selected = { selection.paths, selection.path_count, selection.variant_filter,
					      selection.families, { 1, 1 } };
	if (build_run_set(&loaded, &selected, &set) < 0) {
		error_set(&error, "out of memory");
		goto out;
	}
	if (set.selection.digest != selection.digest) {
		error_set(&error, "the case files here are not those the shards ran: their selection is %016llx here, "
				  "%016llx in the reports", (unsigned long long)set.selection.digest,
			  (unsigned long long)selection.digest);
		goto out;
	}
	if (merge_reports_fill(reports, &set, &error) < 0)
		goto out;
	struct console_report console;
	console_report_init(&console, stderr, set.count);
	for (int i = 0; i < set.count; i++)
		if (set.runs[i].ran)
			console_report_result(&console, &set.runs[i]);
	console_report_summary(&console);
	matrix_print(stdout, &set, cl->markdown);
	status = exit_status_of(&set, 1, cl->allow_skip_only);
	if (write_reports(cl, &set) < 0 && (status == EXIT_PASSED || status == EXIT_NOTHING_RAN))
		status = EXIT_REPORT_UNWRITTEN;
out:
	if (error)
		fprintf(stderr, "tcpharness: merge: %s\n", error);
	free(error);
	run_set_free(&set);
	free_cases(&loaded);
	merge_reports_free(reports);
	return status;
}

/* `--report FORMAT[=PATH]`, or `--report FORMAT PATH` when the format needs a PATH: a TAP report's
 * optional FILE is never taken from the next argument, which stays a case PATH. Prints what is wrong
 * and returns -1 on a usage error. */
static int add_report(struct command_line *cl, const char *arg, int argc, char **argv)
{
	size_t name_len = strcspn(arg, "=");
	const struct report_format *format = NULL;
	for (size_t i = 0; i < sizeof report_formats / sizeof report_formats[0]; i++)
		if (strlen(report_formats[i].name) == name_len && !strncmp(arg, report_formats[i].name, name_len))
			format = &report_formats[i];
	if (!format) {
		fprintf(stderr, "tcpharness: unknown report format '%.*s' (tap, junit, json, html)\n", (int)name_len,
			arg);
		return -1;
	}
	const char *path = arg[name_len] == '=' ? arg + name_len + 1 : NULL;
	if (!path && format->path_required && optind < argc && argv[optind][0] != '-')
		path = argv[optind++];
	if (path ? !*path : format->path_required) {
		fprintf(stderr, "tcpharness: --report %s needs a %s\n", format->name, format->path_kind);
		return -1;
	}
	for (int i = 0; i < cl->report_count; i++) {
		const char *other = cl->reports[i].path;
		if (path ? other && !strcmp(path, other) : !other) {
			fprintf(stderr, "tcpharness: two reports would go to %s\n", path ? path : "standard output");
			return -1;
		}
	}
	if (cl->report_count == MAX_REPORTS) {
		fprintf(stderr, "tcpharness: at most %d --report options\n", MAX_REPORTS);
		return -1;
	}
	cl->reports[cl->report_count++] = (struct report_request){ format, path };
	return 0;
}

/* `--target NAME` or `--targets A,B,...` (list: several allowed). Prints what is wrong; 0 or -1. */
static int parse_targets(const char *arg, bool list, struct command_line *cl)
{
	char *copy = strdup(arg), *save = NULL;
	cl->target_count = 0;
	int rc = copy ? 0 : -1;
	for (char *name = copy ? strtok_r(copy, ",", &save) : NULL; name && rc == 0; name = strtok_r(NULL, ",", &save)) {
		char *path = strchr(name, '=');
		if (path)
			*path++ = '\0';
		int kind = target_kind_from_name(name);
		if (path && (kind != TARGET_VM || !*path)) {
			fprintf(stderr, kind == TARGET_VM ? "tcpharness: vm= needs a PATH (an image directory or a kernel file)\n"
							  : "tcpharness: only vm takes =PATH, not '%s'\n", name);
			rc = -1;
		} else if (kind < 0) {
			fprintf(stderr, "tcpharness: unknown target '%s' (local, lab, vm)\n", name);
			rc = -1;
		} else if (cl->target_count == (list ? MATRIX_MAX_TARGETS : 1)) {
			fprintf(stderr, list ? "tcpharness: at most %d targets\n" : "tcpharness: --target takes one "
				"target; matrix --targets takes a list\n", MATRIX_MAX_TARGETS);
			rc = -1;
		} else {
			for (int i = 0; i < cl->target_count; i++)
				if (cl->kinds[i] == (enum target_kind)kind &&
				    (cl->vm_paths[i] && path ? strcmp(cl->vm_paths[i], path) == 0 : cl->vm_paths[i] == path)) {
					fprintf(stderr, "tcpharness: target '%s%s%s' given twice\n", name, path ? "=" : "",
						path ? path : "");
					rc = -1;
				}
			/* The path points into copy, which goes at the end: keep it in arg instead. */
			cl->vm_paths[cl->target_count] = path ? arg + (path - copy) : NULL;
			cl->kinds[cl->target_count++] = (enum target_kind)kind;
		}
	}
	free(copy);
	if (rc == 0 && cl->target_count == 0) {
		fprintf(stderr, "tcpharness: no target named in '%s'\n", arg);
		rc = -1;
	}
	cl->target.kind = cl->target_count ? cl->kinds[0] : TARGET_LOCAL;
	return rc;
}

static bool targets_include(const struct command_line *cl, enum target_kind kind)
{
	for (int i = 0; i < cl->target_count; i++)
		if (cl->kinds[i] == kind)
			return true;
	return false;
}

/* --allow-address-in-use, --max-pps, --allow-storm, --dry-run: lab mode on a shared network. Prints
 * what is wrong; 0 or -1. */
static int parse_lab_safety(int opt, const char *arg, struct target_options *target)
{
	if (opt == 'W') {
		target->budget.allow_storm = true;
	} else if (opt == 'N') {
		target->dry_run = true;
	} else if (opt == 'P') {
		char *end;
		long pps = strtol(arg, &end, 10);
		if (*end || end == arg || pps < 1 || pps > SEND_BUDGET_MAX_PPS) {
			fprintf(stderr, "tcpharness: --max-pps takes segments per second (1..%d), not '%s'\n",
				SEND_BUDGET_MAX_PPS, arg);
			return -1;
		}
		target->budget.max_pps = (unsigned)pps;
	} else {
		struct ip_address a;
		uint32_t case_ip = ip_address_parse(arg, &a) == 0 ? ip_address_case_ipv4(&a) : 0;
		if (!case_ip) {
			fprintf(stderr, "tcpharness: --allow-address-in-use takes an IPv4 address or an IPv6 one in "
					"2001:db8::/96, not '%s'\n", arg);
			return -1;
		}
		if (target->in_use_allowed_count == TARGET_MAX_IN_USE_ALLOWED) {
			fprintf(stderr, "tcpharness: at most %d --allow-address-in-use\n", TARGET_MAX_IN_USE_ALLOWED);
			return -1;
		}
		target->in_use_allowed[target->in_use_allowed_count++] = case_ip;
	}
	return 0;
}

/* Parses options into cl; returns -1 to go on, else the exit status to stop with. */
/* getopt's values for packetdrill's options and --allow-default-route-iface (-D is packetdrill's):
 * outside the characters short options use. */
#define PKT_OPTION 256
#define ALLOW_DEFAULT_ROUTE_OPTION 257

/* packetdrill's `--name=value` (name given) or `-D NAME=VALUE` (name NULL) for the .pkt front end,
 * which checks each value as it checks a script's option line. -1 after a message when it is no such. */
static int add_pkt_option(struct pkt_command_line *pkt, const char *name, const char *value)
{
	if (pkt->option_count == PKT_COMMAND_LINE_MAX || pkt->define_count == PKT_COMMAND_LINE_MAX) {
		fprintf(stderr, "tcpharness: at most %d packetdrill options and %d -D defines\n", PKT_COMMAND_LINE_MAX,
			PKT_COMMAND_LINE_MAX);
		return -1;
	}
	if (!name) {
		const char *equals = strchr(value, '=');
		if (!equals || equals == value) {
			fprintf(stderr, "tcpharness: -D takes NAME=VALUE, not '%s'\n", value);
			return -1;
		}
		pkt->defines[pkt->define_count++] = value;
		return 0;
	}
	/* Checked here so that a bad value is the command line's error, not a script line's. */
	struct ip_address address;
	char *end = NULL;
	double number = strtod(value, &end);
	bool good = !strcmp(name, "ip_version") ? !strcmp(value, "ipv4") || !strcmp(value, "ipv6") ||
							   !strcmp(value, "ipv4-mapped-ipv6")
		    : strstr(name, "_ip")           ? ip_address_parse(value, &address) == 0
						    : end != value && *end == '\0' && number >= 0 &&
							      (strcmp(name, "tolerance_percent") || number <= 100);
	if (!good) {
		fprintf(stderr, "tcpharness: --%s does not take '%s' (docs/packetdrill.md)\n", name, value);
		return -1;
	}
	char *option;
	if (asprintf(&option, "--%s=%s", name, value) < 0)
		return -1;
	pkt->options[pkt->option_count++] = option;
	return 0;
}

static int parse_command_line(int argc, char **argv, struct command_line *cl)
{
	static const struct option long_options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ "variant", required_argument, NULL, 'v' },
		{ "captures", required_argument, NULL, 'c' },
		{ "capture-format", required_argument, NULL, 'C' },
		{ "tolerance", required_argument, NULL, 't' },
		{ "markdown", no_argument, NULL, 'm' },
		{ "jobs", required_argument, NULL, 'j' },
		{ "report", required_argument, NULL, 'r' },
		{ "target", required_argument, NULL, 'T' },
		{ "targets", required_argument, NULL, 'S' },
		{ "iface", required_argument, NULL, 'I' },
		{ "target-ip", required_argument, NULL, 'A' },
		{ "agent", required_argument, NULL, 'G' },
		{ "allow-default-route-iface", no_argument, NULL, ALLOW_DEFAULT_ROUTE_OPTION },
		{ "vm-image", required_argument, NULL, 'M' },
		{ "kernel", required_argument, NULL, 'L' },
		{ "modules", required_argument, NULL, 'O' },
		{ "retries", required_argument, NULL, 'R' },
		{ "rerun-failures", required_argument, NULL, 'F' },
		{ "allow-skip-only", no_argument, NULL, 'K' },
		{ "allow-address-in-use", required_argument, NULL, 'U' },
		{ "max-pps", required_argument, NULL, 'P' },
		{ "allow-storm", no_argument, NULL, 'W' },
		{ "dry-run", no_argument, NULL, 'N' },
		{ "family", required_argument, NULL, 'Y' },
		{ "shard", required_argument, NULL, 'H' },
		/* packetdrill's own, for .pkt scripts (docs/packetdrill.md). */
		{ "ip_version", required_argument, NULL, PKT_OPTION },
		{ "local_ip", required_argument, NULL, PKT_OPTION },
		{ "remote_ip", required_argument, NULL, PKT_OPTION },
		{ "tolerance_usecs", required_argument, NULL, PKT_OPTION },
		{ "tolerance_percent", required_argument, NULL, PKT_OPTION },
		{ "mss", required_argument, NULL, PKT_OPTION },
		{ "tcp_ts_tick_usecs", required_argument, NULL, PKT_OPTION },
		{ NULL, 0, NULL, 0 },
	};
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	*cl = (struct command_line){ .tolerance_ns = RUN_DEFAULT_TOLERANCE_NS,
				     .jobs = cpus < 1 ? 1 : cpus > SCHEDULE_MAX_JOBS ? SCHEDULE_MAX_JOBS : (int)cpus,
				     .retries = SCHEDULE_DEFAULT_RETRIES,
				     .target_count = 1, .families = FAMILY_ALL, .shard = { 1, 1 },
				     .target = { .budget = { .max_pps = SEND_BUDGET_DEFAULT_PPS } } };
	int opt;
	int option_index = 0;
	while ((opt = getopt_long(argc, argv, "hj:D:", long_options, &option_index)) != -1) {
		/* Long-only options have codes past any character. */
		cl->selection_option |= opt > UCHAR_MAX || !strchr("rmhVK", opt);
		switch (opt) {
		case PKT_OPTION:
		case 'D':
			if (add_pkt_option(&cl->pkt, opt == 'D' ? NULL : long_options[option_index].name, optarg) < 0)
				return EXIT_USAGE;
			break;
		case 'j': {
			char *end;
			long jobs = strtol(optarg, &end, 10);
			if (*end || end == optarg || jobs < 1 || jobs > SCHEDULE_MAX_JOBS) {
				fprintf(stderr, "tcpharness: -j takes a number of parallel runs (1..%d), not '%s'\n",
					SCHEDULE_MAX_JOBS, optarg);
				return EXIT_USAGE;
			}
			cl->jobs = (int)jobs;
			cl->jobs_given = true;
			break;
		}
		case 'T':
		case 'S':
			if (cl->target_given || parse_targets(optarg, opt == 'S', cl) < 0)
				return EXIT_USAGE;
			cl->target_given = true;
			break;
		case 'I':
			if (cl->lab_host_count == TARGET_MAX_LAB_HOSTS) {
				fprintf(stderr, "tcpharness: at most %d lab hosts\n", TARGET_MAX_LAB_HOSTS);
				return EXIT_USAGE;
			}
			cl->target.iface = cl->lab_hosts[cl->lab_host_count++].iface = optarg;
			cl->lab_option_given = true;
			break;
		case 'A': {
			/* An IPv6 host is held as the case address it stands for: the run maps it back. */
			struct ip_address a;
			uint32_t case_ip = ip_address_parse(optarg, &a) == 0 ? ip_address_case_ipv4(&a) : 0;
			if (!case_ip) {
				fprintf(stderr, "tcpharness: --target-ip takes an IPv4 address or an IPv6 one in "
						"2001:db8::/96 (where the ipv6 family puts the cases' addresses), not '%s'\n",
					optarg);
				return EXIT_USAGE;
			}
			cl->target.target_ip = case_ip;
			cl->target.target_ipv6 = !ip_address_is_ipv4(&a);
			if (cl->lab_ip_count < TARGET_MAX_LAB_HOSTS) {
				cl->lab_hosts[cl->lab_ip_count].target_ipv6 = cl->target.target_ipv6;
				cl->lab_hosts[cl->lab_ip_count++].target_ip = cl->target.target_ip;
			}
			cl->lab_option_given = true;
			break;
		}
		case 'G':
			cl->target.agent_command = optarg;
			if (cl->lab_agent_count < TARGET_MAX_LAB_HOSTS)
				cl->lab_hosts[cl->lab_agent_count++].agent_command = optarg;
			cl->lab_option_given = true;
			break;
		case ALLOW_DEFAULT_ROUTE_OPTION:
			cl->target.allow_default_route = true;
			cl->lab_option_given = true;
			break;
		case 'R':
		case 'F': {
			char *end;
			long tries = strtol(optarg, &end, 10);
			if (*end || end == optarg || tries < 0 || tries >= RUN_MAX_TRIES) {
				fprintf(stderr, "tcpharness: %s takes a number of extra tries (0..%d), not '%s'\n",
					opt == 'R' ? "--retries" : "--rerun-failures", RUN_MAX_TRIES - 1, optarg);
				return EXIT_USAGE;
			}
			*(opt == 'R' ? &cl->retries : &cl->rerun_failures) = (int)tries;
			break;
		}
		case 'K':
			cl->allow_skip_only = true;
			break;
		case 'U':
		case 'P':
		case 'W':
		case 'N':
			if (parse_lab_safety(opt, optarg, &cl->target) < 0)
				return EXIT_USAGE;
			cl->lab_option_given = true;
			break;
		case 'M':
			cl->target.vm_image = optarg;
			cl->vm_option_given = true;
			break;
		case 'L':
			cl->target.vm_kernel = optarg;
			cl->vm_option_given = true;
			break;
		case 'O':
			cl->target.vm_modules = optarg;
			cl->vm_option_given = true;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		case 'V':
			printf("tcpharness %s (git %s)\n", TCPHARNESS_VERSION, build_revision);
			return 0;
		case 'v':
			cl->variant_filter = optarg;
			break;
		case 'Y': {
			int family = strcmp(optarg, "all") == 0 ? FAMILY_COUNT : family_from_name(optarg);
			if (family < 0) {
				fprintf(stderr, "tcpharness: --family takes 4, 6, mapped or all, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cl->families = family == FAMILY_COUNT ? FAMILY_ALL : 1u << family;
			break;
		}
		case 'c':
			cl->captures_dir = optarg;
			break;
		case 'H': {
			char *error = NULL;
			if (shard_parse(optarg, &cl->shard, &error) < 0) {
				fprintf(stderr, "tcpharness: %s\n", error ? error : "out of memory");
				free(error);
				return EXIT_USAGE;
			}
			break;
		}
		case 'C': {
			int format = capture_format_from_name(optarg);
			if (format < 0) {
				fprintf(stderr, "tcpharness: --capture-format takes pcapng or pcap, not '%s'\n", optarg);
				return EXIT_USAGE;
			}
			cl->capture_format = (enum capture_format)format;
			break;
		}
		case 'm':
			cl->markdown = true;
			break;
		case 'r':
			if (add_report(cl, optarg, argc, argv) < 0)
				return EXIT_USAGE;
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
	static const char *const commands[] = { "run", "matrix", "check", "list", "merge" };
	bool known = false;
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
		known |= !strcmp(cl->command, commands[i]);
	if (!known) {
		fprintf(stderr, "tcpharness: unknown command '%s'\n%s", cl->command, usage_text);
		return EXIT_USAGE;
	}
	bool merge = !strcmp(cl->command, "merge");
	if (merge && cl->selection_option) {
		fprintf(stderr, "tcpharness: merge takes the reports' own selection: only --report, --markdown and "
				"--allow-skip-only are its options\n");
		return EXIT_USAGE;
	}
	if (cl->markdown && strcmp(cl->command, "matrix") != 0 && !merge) {
		fprintf(stderr, "tcpharness: --markdown is an option of matrix and merge\n");
		return EXIT_USAGE;
	}
	if (cl->report_count && strcmp(cl->command, "run") != 0 && strcmp(cl->command, "matrix") != 0 && !merge) {
		fprintf(stderr, "tcpharness: --report is an option of run, matrix and merge\n");
		return EXIT_USAGE;
	}
	if (report_to_stdout(cl) && (!strcmp(cl->command, "matrix") || merge)) {
		fprintf(stderr, "tcpharness: matrix prints its table on stdout; give --report tap a FILE\n");
		return EXIT_USAGE;
	}
	if (optind >= argc) {
		fprintf(stderr, "tcpharness: %s needs at least one PATH\n", cl->command);
		return EXIT_USAGE;
	}
	cl->paths = (const char *const *)argv + optind;
	cl->path_count = argc - optind;
	if (cl->shard.count > 1 && !strcmp(cl->command, "check")) {
		fprintf(stderr, "tcpharness: --shard is an option of run, matrix and list\n");
		return EXIT_USAGE;
	}
	if (cl->lab_option_given && !targets_include(cl, TARGET_LAB)) {
		fprintf(stderr, "tcpharness: --iface, --target-ip, --agent, --allow-default-route-iface, "
				"--allow-address-in-use, --max-pps, --allow-storm and --dry-run are options of --target lab\n");
		return EXIT_USAGE;
	}
	if (cl->vm_option_given && !targets_include(cl, TARGET_VM)) {
		fprintf(stderr, "tcpharness: --vm-image, --kernel and --modules are options of --target vm\n");
		return EXIT_USAGE;
	}
	if (cl->target.vm_kernel && cl->target.vm_image) {
		fprintf(stderr, "tcpharness: --vm-image and --kernel both name the VM's kernel: give one\n");
		return EXIT_USAGE;
	}
	if (cl->target.vm_modules && !cl->target.vm_kernel) {
		fprintf(stderr, "tcpharness: --modules goes with --kernel\n");
		return EXIT_USAGE;
	}
	if (!cl->target.vm_image)
		cl->target.vm_image = getenv("TCPHARNESS_VM_IMAGE") ? getenv("TCPHARNESS_VM_IMAGE") : "build/vm";
	/* Lab mode never guesses where to send: the link, the host and its agent are all named. */
	if (targets_include(cl, TARGET_LAB) &&
	    (!cl->target.iface || !cl->target.target_ip || !cl->target.agent_command)) {
		fprintf(stderr, "tcpharness: --target lab needs --iface IF, --target-ip A and --agent 'COMMAND'\n");
		return EXIT_USAGE;
	}
	if (cl->lab_host_count != cl->lab_ip_count || cl->lab_host_count != cl->lab_agent_count) {
		fprintf(stderr, "tcpharness: several lab hosts take --iface, --target-ip and --agent once each, in "
				"the same order (%d, %d and %d given)\n", cl->lab_host_count, cl->lab_ip_count,
			cl->lab_agent_count);
		return EXIT_USAGE;
	}
	/* A case's families must not depend on which host takes it. */
	for (int i = 1; i < cl->lab_ip_count; i++)
		if (cl->lab_hosts[i].target_ipv6 != cl->lab_hosts[0].target_ipv6) {
			fprintf(stderr, "tcpharness: the lab hosts' --target-ip are of one family: all IPv4 (ipv4 and "
					"mapped) or all IPv6 (ipv6)\n");
			return EXIT_USAGE;
		}
	if (cl->target.dry_run && cl->lab_host_count > 1) {
		fprintf(stderr, "tcpharness: --dry-run shows one lab host's frames; name one host\n");
		return EXIT_USAGE;
	}
	if (cl->target_given && strcmp(cl->command, "run") != 0 && strcmp(cl->command, "matrix") != 0) {
		fprintf(stderr, "tcpharness: --target is an option of run and matrix\n");
		return EXIT_USAGE;
	}
	if (cl->target_count > 1 && strcmp(cl->command, "matrix") != 0) {
		fprintf(stderr, "tcpharness: several targets make a matrix: use `tcpharness matrix --targets`\n");
		return EXIT_USAGE;
	}
	if (cl->target.dry_run && (strcmp(cl->command, "run") != 0 || cl->target_count > 1 || cl->report_count)) {
		fprintf(stderr, "tcpharness: --dry-run is an option of `run --target lab`, without --report\n");
		return EXIT_USAGE;
	}
	return -1;
}

/* Every file parsed; what the packetdrill scripts among them use that cannot run, one line each. */
static int command_check(const struct loaded_cases *loaded)
{
	int unsupported = 0, skipped_files = 0;
	for (int i = 0; i < loaded->count; i++) {
		const struct case_file *c = &loaded->cases[i];
		for (int j = 0; j < c->unsupported_count; j++)
			printf("%s:%d:%d: unsupported: %s\n", c->path, c->unsupported[j].where.line,
			       c->unsupported[j].where.col, c->unsupported[j].what);
		unsupported += c->unsupported_count;
		skipped_files += c->unsupported_count > 0;
	}
	printf("%d case file%s OK", loaded->count, loaded->count == 1 ? "" : "s");
	if (skipped_files)
		printf(", %d of them SKIP for %d unsupported construct%s", skipped_files, unsupported,
		       unsupported == 1 ? "" : "s");
	printf("\n");
	return 0;
}

static int load_and_run(struct command_line *cl)
{
	if (!strcmp(cl->command, "merge"))
		return command_merge(cl);
	struct loaded_cases loaded;
	if (load_cases(cl->paths, cl->path_count, &cl->pkt, &loaded) < 0) {
		free_cases(&loaded);
		return EXIT_USAGE;
	}
	cl->target.cases = loaded.cases;
	cl->target.case_count = loaded.count;
	cl->target.variant_filter = cl->variant_filter;
	int status;
	if (!strcmp(cl->command, "check"))
		status = command_check(&loaded);
	else if (!strcmp(cl->command, "list"))
		status = command_list(&loaded, cl);
	else
		status = command_run(&loaded, cl);
	free_cases(&loaded);
	return status;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "explore"))
		return explore_main(argc - 1, argv + 1);
	struct command_line cl;
	int status = parse_command_line(argc, argv, &cl);
	if (status < 0)
		status = load_and_run(&cl);
	for (int i = 0; i < cl.pkt.option_count; i++)
		free((char *)cl.pkt.options[i]);
	return status;
}
