/* output_file.h - creates the files a run leaves behind (pcaps under --captures, reports) so that
 * nothing planted there, a symlink or a hard link, can make the harness write anywhere else. */
#ifndef TCPHARNESS_OUTPUT_FILE_H
#define TCPHARNESS_OUTPUT_FILE_H

#include <stdio.h>

/* Makes dir and its missing parents (mode 0777 less the umask, like mkdir -p). The path is the user's
 * to choose, symlinks included. 0, or -1 with *error malloc'd. */
int output_dir_make(const char *dir, char **error);

/* Creates the new file dir/name+suffix for writing; name is '/'-separated components (a case's name,
 * case_name.h), whose directories are made under dir as needed and must not be symlinks (refused, with
 * the reason). The file is always new: when that name is taken (by an earlier run, or anything
 * planted), name~2+suffix, name~3+suffix... is used. Returns the stream and sets *path (malloc'd);
 * NULL with *error malloc'd. */
FILE *output_file_create(const char *dir, const char *name, const char *suffix, char **path, char **error);

/* A report being written: a new file beside path, which output_file_commit renames over path, so that
 * an existing file there (another user's hard link included) is replaced, never written through. */
struct output_file {
	FILE *out;
	char *path;
	char *temporary; /* NULL: written in place */
};

/* Starts writing path (its directory must exist). A symlink or a directory there is refused; a device
 * or a FIFO (/dev/full, a pipe) is written in place. 0, or -1 with *error malloc'd. */
int output_file_begin(struct output_file *f, const char *path, char **error);

/* Closes f; when keep and every write succeeded, puts it at its path, else removes it. 0, or -1 with
 * *error malloc'd (a failed write or rename). */
int output_file_commit(struct output_file *f, int keep, char **error);

#endif
