/* privilege.c - see privilege.h. */
#include "privilege.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "error_text.h"

int privilege_held(void)
{
	struct __user_cap_header_struct header = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
	memset(data, 0, sizeof data);
	if (syscall(SYS_capget, &header, data) < 0)
		return 0;
	unsigned needed = (1u << CAP_SYS_ADMIN) | (1u << CAP_NET_ADMIN);
	return (data[0].effective & needed) == needed;
}

static int write_file(const char *path, const char *text, char **why)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return error_set(why, "%s: %s", path, strerror(errno));
	ssize_t n = write(fd, text, strlen(text));
	int saved = errno;
	close(fd);
	if (n != (ssize_t)strlen(text))
		return error_set(why, "writing %s: %s", path, n < 0 ? strerror(saved) : "short write");
	return 0;
}

int privilege_acquire(char **why)
{
	if (privilege_held())
		return 0;
	uid_t uid = geteuid();
	gid_t gid = getegid();
	/* A network namespace too, as `unshare -Urn`: a thread that visits the sandbox's namespaces must be
	 * able to come back, and it may enter only namespaces its user namespace owns. */
	if (unshare(CLONE_NEWUSER | CLONE_NEWNET) < 0) {
		FILE *limit = fopen("/proc/sys/user/max_user_namespaces", "r");
		long max = -1;
		if (limit) {
			if (fscanf(limit, "%ld", &max) != 1)
				max = -1;
			fclose(limit);
		}
		return error_set(why, "not privileged, and cannot make a user namespace of its own: unshare(CLONE_NEWUSER|CLONE_NEWNET): "
				 "%s%s", strerror(errno), max == 0 ? " (user.max_user_namespaces is 0)" : "");
	}
	/* As `unshare -Ur`: setgroups must be denied before an unprivileged process may write gid_map. */
	char map[64];
	if (write_file("/proc/self/setgroups", "deny", why) < 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)uid);
	if (write_file("/proc/self/uid_map", map, why) < 0)
		return -1;
	snprintf(map, sizeof map, "0 %u 1", (unsigned)gid);
	if (write_file("/proc/self/gid_map", map, why) < 0)
		return -1;
	return 1;
}
