/* sysctl_file.h - a net.* sysctl as its /proc/sys file, in the calling thread's network namespace:
 * the one place the sandbox and the agent turn a key into a path, open it and write it. */
#ifndef TCPHARNESS_SYSCTL_FILE_H
#define TCPHARNESS_SYSCTL_FILE_H

#include <stddef.h>

/* `net.ipv4.tcp_tw_reuse` -> `/proc/sys/net/ipv4/tcp_tw_reuse`. 0, or -1 with errno ENAMETOOLONG. */
int sysctl_file_path(const char *key, char *path, size_t size);

/* open(2) of the key's file with flags (O_CLOEXEC added): an fd, or -1 with errno. */
int sysctl_file_open(const char *key, int flags);

/* Writes value in one write(2). 0, or -1 with errno (EIO when the kernel took only part of it). */
int sysctl_file_write(const char *key, const char *value);

/* Writes value in one write(2) to fd, a sysctl file opened for writing (or -1 from a failed open, whose
 * errno is kept), and closes it. 0, or -1 with errno. */
int sysctl_file_write_fd(int fd, const char *value);

#endif
