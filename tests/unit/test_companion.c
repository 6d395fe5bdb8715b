/* test_companion.c - the lookup order of companion.h: TCPHARNESS_LIBEXEC alone when set, else the
 * binary's own directory (the install layout beside it is checked by tests/check_install.sh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "companion.h"

static char own_name[PATH_MAX];

struct libexec {
	char dir[64], file[128];
};

/* A TCPHARNESS_LIBEXEC directory holding one executable, tool.sh. */
static int make_libexec(void **state)
{
	static struct libexec l;
	snprintf(l.dir, sizeof l.dir, "/tmp/test_companion.XXXXXX");
	assert_non_null(mkdtemp(l.dir));
	snprintf(l.file, sizeof l.file, "%s/tool.sh", l.dir);
	int fd = open(l.file, O_CREAT | O_WRONLY, 0755);
	assert_true(fd >= 0);
	close(fd);
	*state = &l;
	return 0;
}

static int remove_libexec(void **state)
{
	struct libexec *l = *state;
	unlink(l->file);
	rmdir(l->dir);
	unsetenv("TCPHARNESS_LIBEXEC");
	return 0;
}

static void test_libexec_variable_is_searched_first(void **state)
{
	struct libexec *l = *state;
	setenv("TCPHARNESS_LIBEXEC", l->dir, 1);
	char path[PATH_MAX], *error = NULL;
	assert_int_equal(companion_find("tool.sh", path, sizeof path, &error), 0);
	assert_string_equal(path, l->file);
}

/* The binary's own directory would have it, but a set TCPHARNESS_LIBEXEC is the only place looked at. */
static void test_libexec_variable_is_searched_alone(void **state)
{
	struct libexec *l = *state;
	setenv("TCPHARNESS_LIBEXEC", l->dir, 1);
	char path[PATH_MAX], *error = NULL;
	assert_int_equal(companion_find(own_name, path, sizeof path, &error), -1);
	assert_non_null(strstr(error, "TCPHARNESS_LIBEXEC="));
	assert_non_null(strstr(error, l->dir));
	free(error);
}

static void test_own_directory_without_variable(void **state)
{
	(void)state;
	unsetenv("TCPHARNESS_LIBEXEC");
	char path[PATH_MAX], exe[PATH_MAX], *error = NULL;
	assert_int_equal(companion_find(own_name, path, sizeof path, &error), 0);
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	assert_string_equal(path, exe);
}

static void test_missing_names_every_directory_searched(void **state)
{
	(void)state;
	unsetenv("TCPHARNESS_LIBEXEC");
	char path[PATH_MAX], *error = NULL;
	assert_int_equal(companion_find("no-such-companion", path, sizeof path, &error), -1);
	assert_non_null(strstr(error, "no-such-companion not found in "));
	assert_non_null(strstr(error, "/../libexec/tcpharness nor in "));
	assert_non_null(strstr(error, "TCPHARNESS_LIBEXEC"));
	free(error);
}

static void test_too_small_a_buffer_is_not_found(void **state)
{
	struct libexec *l = *state;
	setenv("TCPHARNESS_LIBEXEC", l->dir, 1);
	char path[8], *error = NULL;
	assert_int_equal(companion_find("tool.sh", path, sizeof path, &error), -1);
	free(error);
}

int main(int argc, char **argv)
{
	(void)argc;
	const char *slash = strrchr(argv[0], '/');
	snprintf(own_name, sizeof own_name, "%s", slash ? slash + 1 : argv[0]);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_libexec_variable_is_searched_first, make_libexec, remove_libexec),
		cmocka_unit_test_setup_teardown(test_libexec_variable_is_searched_alone, make_libexec, remove_libexec),
		cmocka_unit_test(test_own_directory_without_variable),
		cmocka_unit_test(test_missing_names_every_directory_searched),
		cmocka_unit_test_setup_teardown(test_too_small_a_buffer_is_not_found, make_libexec, remove_libexec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
