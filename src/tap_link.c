/* tap_link.c - see tap_link.h. */
#include "tap_link.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include "error_text.h"
#include "netns.h"
#include "netns_ipv6.h"

/* Far above a storm's burst (600 connections' segments of one phase at once). */
#define TAP_QUEUE_FRAMES 4096

/* Runs inside the new namespace: the TAP, its MAC, up. */
static int make_tap(struct tap_link *link, bool persist, int *tap_fd, char **error)
{
	const char *key;
	if (netns_ipv6_quiet(false, &key) < 0)
		return error_set(error, "tap: %s: %s", key, strerror(errno));
	if ((*tap_fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC)) < 0)
		return error_set(error, "tap: /dev/net/tun: %s", strerror(errno));
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", link->ifname);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (ioctl(*tap_fd, TUNSETIFF, &ifr) < 0)
		return error_set(error, "tap: TUNSETIFF %s: %s", link->ifname, strerror(errno));
	if (persist && ioctl(*tap_fd, TUNSETPERSIST, 1) < 0)
		return error_set(error, "tap: TUNSETPERSIST %s: %s", link->ifname, strerror(errno));
	int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	int rc = 0;
	if (sock < 0 || ioctl(sock, SIOCGIFHWADDR, &ifr) < 0)
		rc = error_set(error, "tap: %s's address: %s", link->ifname, strerror(errno));
	if (rc == 0)
		memcpy(link->mac, ifr.ifr_hwaddr.sa_data, 6);
	/* The stack's own MTU bounds what it sends; the harness may send up to an IPv6 case's. */
	ifr.ifr_mtu = NETNS_IPV6_LINK_MTU;
	if (rc == 0 && ioctl(sock, SIOCSIFMTU, &ifr) < 0)
		rc = error_set(error, "tap: %s mtu %d: %s", link->ifname, NETNS_IPV6_LINK_MTU, strerror(errno));
	/* A storm writes hundreds of frames at once; a TAP's ring holds tx_queue_len of them (500 by
	 * default, tun_attach) and drops the rest while the reader (a descheduled QEMU) lags: segments
	 * the stack never saw, read as its silence. */
	ifr.ifr_qlen = TAP_QUEUE_FRAMES;
	if (rc == 0 && ioctl(sock, SIOCSIFTXQLEN, &ifr) < 0)
		rc = error_set(error, "tap: %s txqueuelen %d: %s", link->ifname, TAP_QUEUE_FRAMES, strerror(errno));
	if (rc == 0 && (ioctl(sock, SIOCGIFFLAGS, &ifr) < 0 ||
			(ifr.ifr_flags |= IFF_UP, ioctl(sock, SIOCSIFFLAGS, &ifr)) < 0))
		rc = error_set(error, "tap: %s up: %s", link->ifname, strerror(errno));
	if (sock >= 0)
		close(sock);
	return rc;
}

int tap_link_create(const char *ifname, bool persist, struct tap_link *out, int *tap_fd, char **error)
{
	memset(out, 0, sizeof *out);
	out->netns_fd = -1;
	*tap_fd = -1;
	snprintf(out->ifname, sizeof out->ifname, "%s", ifname);
	int home = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home < 0)
		return error_set(error, "tap: open own namespace: %s", strerror(errno));
	if (unshare(CLONE_NEWNET) < 0) {
		int err = errno;
		close(home);
		return error_set(error, "tap: unshare(CLONE_NEWNET): %s", strerror(err));
	}
	int rc = 0;
	out->netns_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (out->netns_fd < 0)
		rc = error_set(error, "tap: open the new namespace: %s", strerror(errno));
	if (rc == 0)
		rc = make_tap(out, persist, tap_fd, error);
	if (netns_leave(home) < 0 && rc == 0)
		rc = error_set(error, "tap: return to own namespace: %s", strerror(errno));
	if (rc < 0) {
		if (*tap_fd >= 0)
			close(*tap_fd);
		*tap_fd = -1;
		tap_link_destroy(out);
	}
	return rc;
}

void tap_link_destroy(struct tap_link *link)
{
	if (link->netns_fd >= 0)
		close(link->netns_fd);
	link->netns_fd = -1;
}
