/* output_file.c - see output_file.h. */
#include "output_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "error_text.h"

/* How many names output_file_create tries (name, name~2, ...) before it gives up. */
#define OUTPUT_COPIES_MAX 1000

int output_dir_make(const char *dir, char **error)
{
	char path[PATH_MAX];
	if (!dir[0] || snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path)
		return error_set(error, "'%s': not a usable directory name", dir);
	for (char *p = path + 1;; p++) {
		if (*p && *p != '/')
			continue;
		char kept = *p;
		*p = '\0';
		if (mkdir(path, 0777) < 0 && errno != EEXIST)
			return error_set(error, "%s: %s", path, strerror(errno));
		if (!kept)
			return 0;
		*p = kept;
	}
}

/* Descends from dir_fd into the directory `component` (made when missing), never through a symlink.
 * The new descriptor, with dir_fd closed; -1 with *error and dir_fd closed. */
static int enter_directory(int dir_fd, const char *dir, const char *name, const char *component, char **error)
{
	int fd = -1;
	if (mkdirat(dir_fd, component, 0777) == 0 || errno == EEXIST)
		fd = openat(dir_fd, component, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	int saved = errno;
	close(dir_fd);
	if (fd >= 0)
		return fd;
	if (saved == ELOOP || saved == ENOTDIR)
		return error_set(error, "%s/%.*s is a symlink or not a directory: nothing is written through it",
				 dir, (int)(component + strlen(component) - name), name);
	return error_set(error, "%s/%.*s: %s", dir, (int)(component + strlen(component) - name), name,
			 strerror(saved));
}

FILE *output_file_create(const char *dir, const char *name, const char *suffix, char **path, char **error)
{
	*path = NULL;
	if (output_dir_make(dir, error) < 0)
		return NULL;
	char *components = strdup(name);
	if (!components) {
		error_set(error, "out of memory");
		return NULL;
	}
	int dir_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir_fd < 0)
		error_set(error, "%s: %s", dir, strerror(errno));
	char *last = components;
	for (char *slash; dir_fd >= 0 && (slash = strchr(last, '/'));) {
		*slash = '\0';
		dir_fd = enter_directory(dir_fd, dir, components, last, error);
		*slash = '/';
		last = slash + 1;
	}
	FILE *out = NULL;
	for (int copy = 1; dir_fd >= 0 && copy <= OUTPUT_COPIES_MAX; copy++) {
		char *file;
		if ((copy > 1 ? asprintf(&file, "%s~%d%s", last, copy, suffix) : asprintf(&file, "%s%s", last, suffix)) < 0) {
			error_set(error, "out of memory");
			break;
		}
		/* O_EXCL: a name that exists, even as a dangling symlink, is never opened. */
		int fd = openat(dir_fd, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		int saved = errno;
		if (fd >= 0 && asprintf(path, "%s/%.*s%s", dir, (int)(last - components), components, file) < 0)
			*path = NULL;
		if (fd >= 0 && (!*path || !(out = fdopen(fd, "wb")))) {
			error_set(error, "out of memory");
			close(fd);
			unlinkat(dir_fd, file, 0);
			free(*path);
			*path = NULL;
		} else if (fd < 0 && saved != EEXIST) {
			error_set(error, "%s/%.*s%s: %s", dir, (int)(last - components), components, file, strerror(saved));
		}
		free(file);
		if (fd >= 0 || saved != EEXIST)
			break;
		if (copy == OUTPUT_COPIES_MAX)
			error_set(error, "%s/%s%s: %d files of that name exist", dir, name, suffix, OUTPUT_COPIES_MAX);
	}
	if (dir_fd >= 0)
		close(dir_fd);
	free(components);
	return out;
}

/* A device or a FIFO the user names (/dev/stdout's target, /dev/full) is written in place: there is
 * nothing to replace it with. */
static int begin_in_place(struct output_file *f, char **error)
{
	int fd = open(f->path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && !(f->out = fdopen(fd, "w")))
		close(fd);
	if (f->out)
		return 0;
	int rc = error_set(error, "%s: %s", f->path, strerror(errno));
	output_file_commit(f, false, NULL);
	return rc;
}

int output_file_begin(struct output_file *f, const char *path, char **error)
{
	static unsigned attempt;
	*f = (struct output_file){ 0 };
	f->path = strdup(path);
	if (!f->path)
		return error_set(error, "out of memory");
	struct stat st;
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))
			return begin_in_place(f, error);
		int rc = error_set(error, "%s: %s", path, S_ISLNK(st.st_mode) ? "a symlink: a report is never written through one"
									    : strerror(S_ISDIR(st.st_mode) ? EISDIR : EINVAL));
		output_file_commit(f, false, NULL);
		return rc;
	}
	const char *slash = strrchr(path, '/');
	int dir_len = slash ? (int)(slash - path + 1) : 0;
	for (int tries = 0; tries < OUTPUT_COPIES_MAX; tries++) {
		free(f->temporary);
		if (asprintf(&f->temporary, "%.*s.%s.%d-%u.tmp", dir_len, path, path + dir_len, (int)getpid(),
			     attempt++) < 0) {
			f->temporary = NULL;
			break;
		}
		int fd = open(f->temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
		if (fd < 0 && errno == EEXIST)
			continue;
		if (fd < 0) {
			int rc = error_set(error, "%s: %s", path, strerror(errno));
			output_file_commit(f, false, NULL);
			return rc;
		}
		f->out = fdopen(fd, "w");
		if (f->out)
			return 0;
		close(fd);
		unlink(f->temporary);
		break;
	}
	int rc = error_set(error, "%s: cannot create a file beside it", path);
	output_file_commit(f, false, NULL);
	return rc;
}

int output_file_commit(struct output_file *f, int keep, char **error)
{
	int rc = 0;
	if (f->out) {
		bool failed = ferror(f->out) != 0;
		failed |= fclose(f->out) != 0;
		if (keep && failed)
			rc = error_set(error, "%s: %s", f->path, strerror(errno));
		else if (keep && f->temporary && rename(f->temporary, f->path) < 0)
			rc = error_set(error, "%s: %s", f->path, strerror(errno));
		if (f->temporary && (!keep || rc < 0))
			unlink(f->temporary);
	}
	free(f->path);
	free(f->temporary);
	*f = (struct output_file){ 0 };
	return rc;
}
