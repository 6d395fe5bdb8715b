/* companion.h - where the harness finds the programs it starts but does not link (the agents and
 * scripts/gvisor-run-agent.sh): named by TCPHARNESS_LIBEXEC, installed, or in a build directory. */
#ifndef TCPHARNESS_COMPANION_H
#define TCPHARNESS_COMPANION_H

#include <stddef.h>

/* Writes to out (size bytes) the path of the executable companion `name`, looked up in the first
 * directory that applies, in this order:
 *   1. $TCPHARNESS_LIBEXEC when set (and then only there, so a wrong setting is never bypassed);
 *   2. the install layout beside the running binary: BINDIR/../libexec/tcpharness (relocatable, so
 *      DESTDIR and --prefix trees work as they are);
 *   3. the running binary's own directory: a build directory, which holds the agents and a copy of
 *      the scripts wherever it is (in or out of the source tree).
 * Returns 0, or -1 with *error malloc'd naming the directories searched. */
int companion_find(const char *name, char *out, size_t size, char **error);

#endif
