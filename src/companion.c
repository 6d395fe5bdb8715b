/* companion.c - the lookup order of companion.h: TCPHARNESS_LIBEXEC, the install layout beside the
 * binary, the binary's own directory. */
#include "companion.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "error_text.h"

/* TCPHARNESS_LIBEXEC_FROM_BINDIR comes from CMake: the install's libexec/tcpharness relative to its bin/. */

static bool join_executable(const char *dir, const char *name, char *out, size_t size)
{
	int len = snprintf(out, size, "%s/%s", dir, name);
	return len > 0 && (size_t)len < size && access(out, X_OK) == 0;
}

int companion_find(const char *name, char *out, size_t size, char **error)
{
	const char *libexec = getenv("TCPHARNESS_LIBEXEC");
	if (libexec && *libexec) {
		if (join_executable(libexec, name, out, size))
			return 0;
		return error_set(error, "%s not found in TCPHARNESS_LIBEXEC=%s", name, libexec);
	}
	char exe_dir[4096];
	ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
	if (n < 0)
		return error_set(error, "cannot find the harness's own binary: %s", strerror(errno));
	exe_dir[n] = '\0';
	char *slash = strrchr(exe_dir, '/');
	if (slash)
		*slash = '\0';
	char installed[4096 + sizeof TCPHARNESS_LIBEXEC_FROM_BINDIR];
	snprintf(installed, sizeof installed, "%s/%s", exe_dir, TCPHARNESS_LIBEXEC_FROM_BINDIR);
	if (join_executable(installed, name, out, size) || join_executable(exe_dir, name, out, size))
		return 0;
	return error_set(error, "%s not found in %s nor in %s (or set TCPHARNESS_LIBEXEC)", name, installed, exe_dir);
}
