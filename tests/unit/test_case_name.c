/* Case display names (case_name.h): whatever path a case is given by, its name stays a readable
 * relative path with no "..", no leading '/', no control character, and two cases never share one. */
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

#include "case_name.h"

static char root[PATH_MAX];

static void make_file(const char *relative)
{
	char path[PATH_MAX * 2];
	snprintf(path, sizeof path, "%s/%s", root, relative);
	for (char *p = path + strlen(root) + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(path, 0755);
			*p = '/';
		}
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fclose(f);
}

/* A tree under a fresh directory, and the working directory two levels down in it:
 * ROOT/{x.tc, a/x.tc, a/...tc, a/b/, t1/time_wait/z.tc, t2/time_wait/z.tc, real/y.tc, link -> real,
 * ctl\001dir/c.tc} */
static int tree_up(void **state)
{
	(void)state;
	snprintf(root, sizeof root, "/tmp/test_case_name-XXXXXX");
	if (!mkdtemp(root))
		return -1;
	make_file("x.tc");
	make_file("a/x.tc");
	make_file("a/...tc");
	make_file("t1/time_wait/z.tc");
	make_file("t2/time_wait/z.tc");
	make_file("real/y.tc");
	make_file("ctl\001dir/c.tc");
	char path[PATH_MAX + 16];
	snprintf(path, sizeof path, "%s/link", root);
	if (symlink("real", path) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/a/b", root);
	mkdir(path, 0755);
	return chdir(path);
}

static int tree_down(void **state)
{
	(void)state;
	char command[PATH_MAX + 16];
	snprintf(command, sizeof command, "rm -rf '%s'", root);
	return chdir("/") == 0 && system(command) == 0 ? 0 : -1;
}

/* Names the cases at paths[0..count) together and checks each against want[i] (with "ROOT" standing
 * for the tree's own directory name). */
static void assert_names(const char *const *paths, const char *const *want, int count)
{
	struct case_file cases[16];
	memset(cases, 0, sizeof cases);
	for (int i = 0; i < count; i++)
		cases[i].path = strdup(paths[i]);
	char *error = NULL;
	assert_int_equal(case_names_assign(cases, count, &error), 0);
	const char *root_name = strrchr(root, '/') + 1;
	for (int i = 0; i < count; i++) {
		char expected[PATH_MAX];
		const char *at = strstr(want[i], "ROOT");
		if (at)
			snprintf(expected, sizeof expected, "%.*s%s%s", (int)(at - want[i]), want[i], root_name, at + 4);
		else
			snprintf(expected, sizeof expected, "%s", want[i]);
		assert_string_equal(cases[i].name, expected);
		assert_true(cases[i].name[0] != '/');
		assert_null(strstr(cases[i].name, "../"));
		for (const char *p = cases[i].name; *p; p++)
			assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
		for (int j = 0; j < i; j++)
			assert_string_not_equal(cases[i].name, cases[j].name);
	}
	for (int i = 0; i < count; i++)
		case_free(&cases[i]);
}

/* A case file's name is the directory it is really in and its base name, wherever it was given from. */
static void test_paths_outside_the_working_directory(void **state)
{
	(void)state;
	char absolute[PATH_MAX + 16];
	snprintf(absolute, sizeof absolute, "%s/real/y.tc", root);
	const char *paths[] = { "../x.tc", "../../x.tc", absolute, "../../link/y.tc", "../../a/b/../x.tc" };
	const char *want[] = { "a/x", "ROOT/x", "real/y", "real/y~2", "a/x~2" };
	assert_names(paths, want, 5);
}

/* Two files of one name in different trees show as much of their directories as tells them apart. */
static void test_same_base_name_in_two_trees(void **state)
{
	(void)state;
	const char *paths[] = { "../../t1/time_wait/z.tc", "../../t2/time_wait/z.tc", "../x.tc" };
	const char *want[] = { "t1/time_wait/z", "t2/time_wait/z", "a/x" };
	assert_names(paths, want, 3);
}

/* Control characters and a name of dots cannot make a path component of their own. */
static void test_unusual_file_names(void **state)
{
	(void)state;
	const char *paths[] = { "../../ctl\001dir/c.tc", "../...tc" };
	const char *want[] = { "ctl?dir/c", "a/_.." };
	assert_names(paths, want, 2);
}

/* A case whose directory is gone is an error that names it, not a guess. */
static void test_missing_directory(void **state)
{
	(void)state;
	struct case_file c;
	memset(&c, 0, sizeof c);
	c.path = strdup("../no-such-dir/x.tc");
	char *error = NULL;
	assert_int_equal(case_names_assign(&c, 1, &error), -1);
	assert_string_equal(error, "../no-such-dir/x.tc: its directory: No such file or directory");
	free(error);
	case_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_outside_the_working_directory),
		cmocka_unit_test(test_same_base_name_in_two_trees),
		cmocka_unit_test(test_unusual_file_names),
		cmocka_unit_test(test_missing_directory),
	};
	return cmocka_run_group_tests(tests, tree_up, tree_down);
}
