/* netns.c - see netns.h. */
#include "netns.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <unistd.h>

int netns_enter(int netns_fd, int *saved_fd)
{
	int saved = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (saved < 0)
		return -1;
	if (setns(netns_fd, CLONE_NEWNET) < 0) {
		int err = errno;
		close(saved);
		errno = err;
		return -1;
	}
	*saved_fd = saved;
	return 0;
}

int netns_leave(int saved_fd)
{
	int rc = setns(saved_fd, CLONE_NEWNET);
	int err = errno;
	close(saved_fd);
	errno = err;
	return rc;
}
