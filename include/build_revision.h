/* build_revision.h - the git revision this harness was built from, for --version: a bug report then
 * names the exact source. Defined in a file the build writes (cmake/build_revision.cmake). */
#ifndef TCPHARNESS_BUILD_REVISION_H
#define TCPHARNESS_BUILD_REVISION_H

/* A 12-digit commit id, "-dirty" appended when the tree had uncommitted changes; "unknown" when the
 * source was not a git checkout (a tarball). */
extern const char build_revision[];

#endif
