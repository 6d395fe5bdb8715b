/* relative_path.h: a path as seen from a report's directory, through canonical paths. */
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

#include "relative_path.h"

static void test_relative(void **state)
{
	(void)state;
	char root[] = "/tmp/test_relative_path-XXXXXX", real_root[PATH_MAX];
	assert_non_null(mkdtemp(root));
	assert_non_null(realpath(root, real_root));
	assert_int_equal(chdir(root), 0);
	assert_int_equal(mkdir("captures", 0755), 0);
	assert_int_equal(mkdir("captures/t", 0755), 0);
	assert_int_equal(mkdir("out", 0755), 0);
	assert_int_equal(mkdir("out/report", 0755), 0);
	assert_int_equal(mkdir("outer", 0755), 0);
	fclose(fopen("captures/t/x.pcapng", "w"));
	fclose(fopen("out/report/y.pcapng", "w"));

	char dir[PATH_MAX];
	assert_int_equal(relative_path_report_dir("out/report/index.json", dir), 0);
	char want[PATH_MAX + 16];
	snprintf(want, sizeof want, "%s/out/report", real_root);
	assert_string_equal(dir, want);
	char *path = relative_path(dir, "captures/t/x.pcapng");
	assert_string_equal(path, "../../captures/t/x.pcapng");
	free(path);
	path = relative_path(dir, "out/report/y.pcapng");
	assert_string_equal(path, "y.pcapng");
	free(path);
	/* A directory whose name starts like another's is no parent of it. */
	snprintf(want, sizeof want, "%s/out", real_root);
	path = relative_path(want, "outer");
	assert_string_equal(path, "../outer");
	free(path);
	/* Gone: as given. */
	path = relative_path(dir, "captures/gone.pcapng");
	assert_string_equal(path, "captures/gone.pcapng");
	free(path);
	assert_int_equal(relative_path_report_dir("index.json", dir), 0);
	assert_string_equal(dir, real_root);

	char command[PATH_MAX + 16];
	snprintf(command, sizeof command, "rm -rf '%s'", root);
	assert_int_equal(system(command), 0);
}

/* A path read from a report (merge reads shards' reports) names a file from that report's directory. */
static void test_from_report(void **state)
{
	(void)state;
	const char *cases[][3] = {
		{ "shards/1.json", "../captures/x.pcapng", "shards/../captures/x.pcapng" },
		{ "/ci/out/shard-2.json", "c/y.pcapng", "/ci/out/c/y.pcapng" },
		{ "shard-3.json", "captures/z.pcapng", "captures/z.pcapng" },
		{ "shards/4.json", "/abs/w.pcapng", "/abs/w.pcapng" },
		{ "/shard.json", "v.pcapng", "/v.pcapng" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *path = relative_path_from_report(cases[i][0], cases[i][1]);
		assert_non_null(path);
		assert_string_equal(path, cases[i][2]);
		free(path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_relative),
		cmocka_unit_test(test_from_report),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
