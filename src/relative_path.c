/* relative_path.c - see relative_path.h. */
#include "relative_path.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

char *relative_path(const char *dir_real, const char *path)
{
	char path_real[PATH_MAX];
	if (!realpath(path, path_real))
		return strdup(path);
	/* common: the last '/' of the directories both paths share. */
	size_t i = 0, common = 0;
	for (; dir_real[i] && dir_real[i] == path_real[i]; i++)
		if (dir_real[i] == '/')
			common = i;
	if (!dir_real[i] && path_real[i] == '/')
		common = i;
	size_t ups = 0;
	for (const char *p = dir_real + common; *p; p++)
		ups += *p == '/' && p[1];
	const char *rest = path_real + common + 1;
	char *relative = malloc(3 * ups + strlen(rest) + 1);
	if (!relative)
		return NULL;
	char *end = relative;
	for (size_t up = 0; up < ups; up++, end += 3)
		memcpy(end, "../", 3);
	strcpy(end, rest);
	return relative;
}

int relative_path_report_dir(const char *path, char *buf)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	char *slash = strrchr(copy, '/');
	const char *dir = !slash ? "." : slash == copy ? "/" : (*slash = '\0', copy);
	int rc = realpath(dir, buf) ? 0 : -1;
	free(copy);
	return rc;
}

char *relative_path_from_report(const char *report_path, const char *path)
{
	const char *slash = strrchr(report_path, '/');
	if (path[0] == '/' || !slash)
		return strdup(path);
	size_t dir_length = (size_t)(slash - report_path) + 1;
	char *joined = malloc(dir_length + strlen(path) + 1);
	if (!joined)
		return NULL;
	memcpy(joined, report_path, dir_length);
	strcpy(joined + dir_length, path);
	return joined;
}
