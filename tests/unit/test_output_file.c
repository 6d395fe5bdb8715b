/* Captures and reports (output_file.h) land where they were asked to, whatever is planted there: a
 * symlink in the captures directory is never followed, an existing file never written through. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "output_file.h"

/* ROOT/captures is the directory given; ROOT/outside stands for everything else. */
static char root[PATH_MAX], captures[PATH_MAX + 16], outside[PATH_MAX + 16];

static int tree_up(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/test_output_file-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	snprintf(captures, sizeof captures, "%s/captures", root);
	snprintf(outside, sizeof outside, "%s/outside", root);
	return mkdir(outside, 0755);
}

static int tree_down(void **state)
{
	(void)state;
	char command[PATH_MAX + 16];
	snprintf(command, sizeof command, "rm -rf '%s'", root);
	return system(command) == 0 ? 0 : -1;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static char *read_text(const char *path)
{
	static char text[256];
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(text, 1, sizeof text - 1, f);
	text[n] = '\0';
	fclose(f);
	return text;
}

/* Creates name+suffix under captures and writes text to it; returns where it went (malloc'd). */
static char *capture(const char *name, const char *suffix, const char *text)
{
	char *path = NULL, *error = NULL;
	FILE *f = output_file_create(captures, name, suffix, &path, &error);
	if (!f)
		fail_msg("output_file_create %s: %s", name, error);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* Directories come from the umask like mkdir -p's; a name taken gets ~2, ~3, the first file kept. */
static void test_new_files_only(void **state)
{
	(void)state;
	mode_t saved = umask(077);
	char *first = capture("time_wait/x", "@v.pcap", "first");
	umask(saved);
	char want[PATH_MAX * 2];
	snprintf(want, sizeof want, "%s/time_wait/x@v.pcap", captures);
	assert_string_equal(first, want);
	snprintf(want, sizeof want, "%s/time_wait", captures);
	struct stat st;
	assert_int_equal(stat(want, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);

	char *second = capture("time_wait/x", "@v.pcap", "second");
	snprintf(want, sizeof want, "%s/time_wait/x~2@v.pcap", captures);
	assert_string_equal(second, want);
	assert_string_equal(read_text(first), "first");
	assert_string_equal(read_text(second), "second");
	free(first);
	free(second);
}

/* A symlink planted at a capture's name is left alone, its target never created or written. */
static void test_planted_file_symlink(void **state)
{
	(void)state;
	char link[PATH_MAX * 2], target[PATH_MAX * 2];
	snprintf(link, sizeof link, "%s/planted", captures);
	assert_int_equal(mkdir(link, 0755) == 0 || access(link, F_OK) == 0, 1);
	snprintf(link, sizeof link, "%s/planted/y.pcap", captures);
	snprintf(target, sizeof target, "%s/y-target", outside);
	assert_int_equal(symlink(target, link), 0);
	char *path = capture("planted/y", ".pcap", "capture");
	snprintf(link, sizeof link, "%s/planted/y~2.pcap", captures);
	assert_string_equal(path, link);
	assert_int_equal(access(target, F_OK), -1);
	free(path);
}

/* A symlink planted as one of the name's directories is refused, with the reason. */
static void test_planted_directory_symlink(void **state)
{
	(void)state;
	char link[PATH_MAX * 2];
	snprintf(link, sizeof link, "%s/evil", captures);
	assert_int_equal(symlink(outside, link), 0);
	char *path = NULL, *error = NULL;
	assert_null(output_file_create(captures, "evil/z", ".pcap", &path, &error));
	assert_null(path);
	char want[PATH_MAX * 3];
	snprintf(want, sizeof want, "%s/evil is a symlink or not a directory: nothing is written through it", captures);
	assert_string_equal(error, want);
	free(error);
	snprintf(want, sizeof want, "%s/z.pcap", outside);
	assert_int_equal(access(want, F_OK), -1);
}

/* A report replaces the file at its path: a hard link to another file leaves that file as it was; a
 * symlink is refused. */
static void test_report_replaces(void **state)
{
	(void)state;
	char precious[PATH_MAX * 2], report[PATH_MAX * 2], *error = NULL;
	snprintf(precious, sizeof precious, "%s/precious", outside);
	snprintf(report, sizeof report, "%s/report.xml", root);
	write_text(precious, "precious");
	assert_int_equal(link(precious, report), 0);
	struct output_file f;
	assert_int_equal(output_file_begin(&f, report, &error), 0);
	fputs("report", f.out);
	assert_int_equal(output_file_commit(&f, 1, &error), 0);
	assert_string_equal(read_text(report), "report");
	assert_string_equal(read_text(precious), "precious");

	snprintf(report, sizeof report, "%s/report.json", root);
	assert_int_equal(symlink(precious, report), 0);
	assert_int_equal(output_file_begin(&f, report, &error), -1);
	char want[PATH_MAX * 3];
	snprintf(want, sizeof want, "%s: a symlink: a report is never written through one", report);
	assert_string_equal(error, want);
	free(error);
	assert_string_equal(read_text(precious), "precious");
}

/* A report that is given up leaves nothing behind, not even its temporary file. */
static void test_report_abandoned(void **state)
{
	(void)state;
	char dir[PATH_MAX * 2], report[PATH_MAX * 3], *error = NULL;
	snprintf(dir, sizeof dir, "%s/abandoned", root);
	assert_int_equal(mkdir(dir, 0755), 0);
	snprintf(report, sizeof report, "%s/results.json", dir);
	struct output_file f;
	assert_int_equal(output_file_begin(&f, report, &error), 0);
	fputs("half", f.out);
	assert_int_equal(output_file_commit(&f, 0, NULL), 0);
	char command[PATH_MAX * 4];
	snprintf(command, sizeof command, "test -z \"$(ls -A '%s')\"", dir);
	assert_int_equal(system(command), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_new_files_only),
		cmocka_unit_test(test_planted_file_symlink),
		cmocka_unit_test(test_planted_directory_symlink),
		cmocka_unit_test(test_report_replaces),
		cmocka_unit_test(test_report_abandoned),
	};
	return cmocka_run_group_tests(tests, tree_up, tree_down);
}
