/* companion.c - see companion.h. */
#include "companion.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int companion_path(const char *relative, char *out, size_t size)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n < 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (slash)
		*slash = '\0';
	int len = snprintf(out, size, "%s/%s", exe, relative);
	return len < 0 || (size_t)len >= size || access(out, X_OK) < 0 ? -1 : 0;
}
