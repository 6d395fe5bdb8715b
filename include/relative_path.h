/* relative_path.h - a file's path as seen from a report's directory, so that a report moved together
 * with what it points to (its captures, its cases) still finds them. */
#ifndef TCPHARNESS_RELATIVE_PATH_H
#define TCPHARNESS_RELATIVE_PATH_H

/* The path from the directory dir_real (canonical: realpath's) to path (relative to the working
 * directory, or absolute): "../captures/x.pcapng". Computed between canonical paths, because dir and
 * path are both relative to the working directory, not to each other. A path that does not resolve is
 * returned as given. Malloc'd; NULL out of memory. */
char *relative_path(const char *dir_real, const char *path);

/* The canonical directory a report file at path is written into (its dirname's realpath), into
 * buf[PATH_MAX]. 0, or -1 with errno. */
int relative_path_report_dir(const char *path, char *buf);

/* The working directory's view of path as a report file at report_path names it (relative to that
 * report's directory): "shards/../captures/x.pcapng" for "../captures/x.pcapng" in
 * "shards/1.json". An absolute path, or a report in the working directory, gives path as it is.
 * Malloc'd; NULL out of memory. */
char *relative_path_from_report(const char *report_path, const char *path);

#endif
