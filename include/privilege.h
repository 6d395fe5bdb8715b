/* privilege.h - what a local run needs to make its namespaces: as an ordinary user, a user namespace
 * of its own in which it holds the capabilities, with a network namespace (what `unshare -Urn` does),
 * entered before any thread starts. */
#ifndef TCPHARNESS_PRIVILEGE_H
#define TCPHARNESS_PRIVILEGE_H

/* Whether this process holds CAP_SYS_ADMIN and CAP_NET_ADMIN in its user namespace. */
int privilege_held(void);

/* With the capabilities held, does nothing and returns 0. Otherwise enters a new user namespace that
 * maps the caller's uid and gid to root, and a new network namespace it owns, and returns 1; or returns -1 with *why malloc'd (unprivileged
 * user namespaces disabled, a security module's refusal): the cases will then SKIP for lack of
 * privilege. Must run while the process has a single thread. */
int privilege_acquire(char **why);

#endif
