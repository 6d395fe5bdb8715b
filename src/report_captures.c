/* report_captures.c - see report_captures.h. */
#include "report_captures.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_text.h"
#include "output_file.h"
#include "relative_path.h"

#define CAPTURES_SUBDIR "captures"

/* The length of the directory part (up to and including its last '/') every capture of set shares. */
static size_t shared_directory(const struct run_set *set, char reals[][PATH_MAX], const bool *to_gather)
{
	const char *first = NULL;
	size_t shared = 0;
	for (int i = 0; i < set->count; i++) {
		if (!to_gather[i])
			continue;
		if (!first) {
			first = reals[i];
			shared = (size_t)(strrchr(first, '/') - first) + 1;
			continue;
		}
		size_t n = 0;
		while (n < shared && first[n] == reals[i][n])
			n++;
		while (n > 0 && first[n - 1] != '/')
			n--;
		shared = n;
	}
	return shared;
}

/* Puts a copy of the file source at path (its directory exists), replacing what is there. */
static int copy_file(const char *source, const char *path, char **error)
{
	int in = open(source, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return error_set(error, "%s: %s", source, strerror(errno));
	struct output_file out;
	if (output_file_begin(&out, path, error) < 0) {
		close(in);
		return -1;
	}
	char buffer[65536];
	ssize_t n;
	while ((n = read(in, buffer, sizeof buffer)) > 0 && fwrite(buffer, 1, (size_t)n, out.out) == (size_t)n)
		;
	int failed = n != 0;
	int saved = errno;
	close(in);
	int rc = output_file_commit(&out, !failed, error);
	if (failed && rc == 0)
		rc = error_set(error, "copying %s: %s", source, strerror(saved));
	return rc;
}

/* A hard link when source and path share a file system (no bytes copied), else a copy. The link is made
 * beside path and renamed over it, so an existing file there is replaced, never written through. */
static int link_or_copy(const char *source, const char *path, char **error)
{
	char *beside;
	if (asprintf(&beside, "%s.%ld.link", path, (long)getpid()) < 0)
		return error_set(error, "out of memory");
	int rc;
	if (link(source, beside) == 0) {
		rc = rename(beside, path) == 0 ? 0 : error_set(error, "%s: %s", path, strerror(errno));
		/* rename does nothing when both names are already links of one file: the spare one remains. */
		unlink(beside);
	} else {
		rc = copy_file(source, path, error);
	}
	free(beside);
	return rc;
}

int report_captures_gather(const char *dir_real, const struct run_set *set, char **links, char **error)
{
	char (*reals)[PATH_MAX] = calloc((size_t)set->count + 1, sizeof *reals);
	bool *to_gather = calloc((size_t)set->count + 1, sizeof *to_gather);
	if (!reals || !to_gather) {
		free(reals);
		free(to_gather);
		return error_set(error, "out of memory");
	}
	size_t dir_len = strlen(dir_real);
	for (int i = 0; i < set->count; i++) {
		links[i] = NULL;
		const char *capture = set->runs[i].result.pcap_path;
		if (!capture || !realpath(capture, reals[i]))
			continue;
		/* Already inside the report's directory: linked where it is. */
		to_gather[i] = !(strncmp(reals[i], dir_real, dir_len) == 0 && reals[i][dir_len] == '/');
	}
	size_t shared = shared_directory(set, reals, to_gather);
	int rc = 0;
	for (int i = 0; i < set->count && rc == 0; i++) {
		const char *capture = set->runs[i].result.pcap_path;
		if (!capture)
			continue;
		if (!to_gather[i]) {
			links[i] = relative_path(dir_real, capture);
			if (!links[i])
				rc = error_set(error, "out of memory");
			continue;
		}
		char *path = NULL, *parent = NULL;
		if (asprintf(&links[i], CAPTURES_SUBDIR "/%s", reals[i] + shared) < 0) {
			links[i] = NULL;
			rc = error_set(error, "out of memory");
		} else if (asprintf(&path, "%s/%s", dir_real, links[i]) < 0) {
			path = NULL;
			rc = error_set(error, "out of memory");
		} else if (!(parent = strdup(path))) {
			rc = error_set(error, "out of memory");
		} else {
			*strrchr(parent, '/') = '\0';
			if (output_dir_make(parent, error) < 0 || link_or_copy(reals[i], path, error) < 0)
				rc = -1;
		}
		free(parent);
		free(path);
	}
	free(reals);
	free(to_gather);
	return rc;
}
