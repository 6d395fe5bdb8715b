/* sysctl_file.c - see sysctl_file.h. */
#include "sysctl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "case.h"

int sysctl_file_path(const char *key, char *path, size_t size)
{
	int n = snprintf(path, size, "/proc/sys/%s", key);
	if (n < 0 || (size_t)n >= size) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (char *c = path + strlen("/proc/sys/"); *c; c++)
		if (*c == '.')
			*c = '/';
	return 0;
}

int sysctl_file_open(const char *key, int flags)
{
	char path[sizeof "/proc/sys/" + SYSCTL_KEY_MAX];
	if (sysctl_file_path(key, path, sizeof path) < 0)
		return -1;
	return open(path, flags | O_CLOEXEC);
}

int sysctl_file_write(const char *key, const char *value)
{
	return sysctl_file_write_fd(sysctl_file_open(key, O_WRONLY), value);
}

int sysctl_file_write_fd(int fd, const char *value)
{
	if (fd < 0)
		return -1;
	size_t len = strlen(value);
	ssize_t n = write(fd, value, len);
	int err = n < 0 ? errno : EIO;
	close(fd);
	if (n != (ssize_t)len) {
		errno = err;
		return -1;
	}
	return 0;
}
