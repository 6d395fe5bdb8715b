/* netns.h - run the calling thread inside another network namespace for a moment.
 * Sockets opened while inside stay bound to that namespace after the thread leaves it. */
#ifndef TCPHARNESS_NETNS_H
#define TCPHARNESS_NETNS_H

/* Enters the namespace behind netns_fd. *saved_fd receives a descriptor of the namespace the thread was
 * in, for netns_leave. Returns 0, or -1 with errno set. */
int netns_enter(int netns_fd, int *saved_fd);

/* Returns to the namespace saved by netns_enter and closes saved_fd. Returns 0, or -1 with errno set. */
int netns_leave(int saved_fd);

#endif
