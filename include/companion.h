/* companion.h - files that ship with the harness: next to its binary (the agents) or in its source
 * tree as seen from the build directory (scripts/), found without any installation step. */
#ifndef TCPHARNESS_COMPANION_H
#define TCPHARNESS_COMPANION_H

#include <stddef.h>

/* Writes the path of relative (to the directory of /proc/self/exe) into out. 0 when it is an
 * executable file, -1 otherwise (or when it does not fit). */
int companion_path(const char *relative, char *out, size_t size);

#endif
