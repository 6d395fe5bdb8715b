/* agent_netns.c - see agent_netns.h. Addresses and flags over ioctl and the one move over a bare
 * rtnetlink message: the agent links libc only, so that it runs static in a VM's initramfs. */
#include "agent_netns.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "error_text.h"
#include "ip_address.h"
#include "neighbour.h"
#include "netns.h"
#include "netns_ipv6.h"
#include "sysctl_file.h"

/* Long enough for a loaded TCG guest's addrconf work to run. */
#define IPV6_USABLE_TIMEOUT_MS 2000
/* A lab link's global IPv6 addresses kept; more are left behind with a note in the error. */
#define HOME_IPV6_MAX 4

/* One IPv6 address of the interface at home, with its prefix length. */
struct ipv6_prefix {
	struct ip_address address;
	uint32_t length;
};

static struct {
	bool enabled;
	bool in_case;            /* the thread is in a case namespace, the interface with it */
	int home_fd;
	char ifname[IF_NAMESIZE];
	bool has_ipv4;
	struct sockaddr_in address, netmask;
	/* A lab host's own IPv6 addresses (link-local ones aside): an IPv6 case namespace gets them and
	 * resolves its neighbours (the harness answers for the peers). Without any (a VM's guest), it
	 * gets the address family_address maps the IPv4 one to, on a NOARP link with pinned peers. */
	struct ipv6_prefix ipv6_addresses[HOME_IPV6_MAX];
	int ipv6_count;
	bool noarp;
	int mtu;
	bool ipv6;               /* the case namespace runs IPv6 */
} home = { .home_fd = -1 };

bool agent_netns_enabled(void)
{
	return home.enabled;
}

static int interface_ioctl(unsigned long request, struct ifreq *ifr, const char *ifname)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	snprintf(ifr->ifr_name, sizeof ifr->ifr_name, "%s", ifname);
	int rc = ioctl(fd, request, ifr);
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

/* The agent is single-threaded: strerror's buffer is its own. */
static int fail_errno(char **error, const char *what)
{
	return error_set(error, "netns-per-case: %s: %s", what, strerror(errno));
}

/* The number of leading one bits of an IPv6 netmask. */
static uint32_t prefix_length(const struct sockaddr_in6 *mask)
{
	uint32_t bits = 0;
	for (int i = 0; i < 16; i++)
		for (int b = 7; b >= 0 && (mask->sin6_addr.s6_addr[i] >> b & 1); b--)
			bits++;
	return bits;
}

/* home.ifname's IPv6 addresses other than link-local ones (fe80::/10), which the kernel makes itself. */
static int record_ipv6_addresses(char **error)
{
	struct ifaddrs *list;
	if (getifaddrs(&list) < 0)
		return fail_errno(error, "getifaddrs");
	home.ipv6_count = 0;
	int rc = 0;
	for (struct ifaddrs *a = list; a && rc == 0; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET6 || strcmp(a->ifa_name, home.ifname) != 0)
			continue;
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)a->ifa_addr;
		if (IN6_IS_ADDR_LINKLOCAL(&in6->sin6_addr))
			continue;
		if (home.ipv6_count == HOME_IPV6_MAX) {
			rc = error_set(error, "netns-per-case: %s has more than %d IPv6 addresses", home.ifname,
				       HOME_IPV6_MAX);
			break;
		}
		struct ipv6_prefix *p = &home.ipv6_addresses[home.ipv6_count++];
		memcpy(p->address.bytes, &in6->sin6_addr, 16);
		p->length = a->ifa_netmask ? prefix_length((const struct sockaddr_in6 *)a->ifa_netmask) : 128;
	}
	freeifaddrs(list);
	return rc;
}

int agent_netns_setup(const char *ifname, char **error)
{
	struct ifreq ifr = { 0 };
	if (strlen(ifname) >= sizeof home.ifname)
		return error_set(error, "netns-per-case: interface name %s is too long", ifname);
	snprintf(home.ifname, sizeof home.ifname, "%s", ifname);
	if (interface_ioctl(SIOCGIFFLAGS, &ifr, ifname) < 0)
		return fail_errno(error, ifname);
	home.noarp = ifr.ifr_flags & IFF_NOARP;
	if (interface_ioctl(SIOCGIFMTU, &ifr, ifname) < 0)
		return fail_errno(error, ifname);
	home.mtu = ifr.ifr_mtu;
	int got = interface_ioctl(SIOCGIFADDR, &ifr, ifname);
	if (got < 0 && errno != EADDRNOTAVAIL)
		return fail_errno(error, ifname);
	home.has_ipv4 = got == 0;
	if (home.has_ipv4) {
		memcpy(&home.address, &ifr.ifr_addr, sizeof home.address);
		if (interface_ioctl(SIOCGIFNETMASK, &ifr, ifname) < 0)
			return fail_errno(error, ifname);
		memcpy(&home.netmask, &ifr.ifr_netmask, sizeof home.netmask);
	}
	if (record_ipv6_addresses(error) < 0)
		return -1;
	if (!home.has_ipv4 && home.ipv6_count == 0)
		return error_set(error, "netns-per-case: %s has no IPv4 address and no global IPv6 one", ifname);
	home.home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home.home_fd < 0)
		return fail_errno(error, "/proc/thread-self/ns/net");
	home.enabled = true;
	return 0;
}

/* RTM_NEWLINK with IFLA_NET_NS_FD, sent from the namespace the interface is in now. */
static int move_interface(int to_netns_fd, char **error)
{
	unsigned index = if_nametoindex(home.ifname);
	if (index == 0)
		return fail_errno(error, home.ifname);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return fail_errno(error, "rtnetlink socket");
	union {
		char bytes[NLMSG_SPACE(sizeof(struct ifinfomsg)) + RTA_SPACE(sizeof(uint32_t))];
		struct nlmsghdr align;
	} request = { 0 };
	struct nlmsghdr *n = &request.align;
	n->nlmsg_len = sizeof request.bytes;
	n->nlmsg_type = RTM_NEWLINK;
	n->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	n->nlmsg_seq = 1;
	struct ifinfomsg *info = NLMSG_DATA(n);
	info->ifi_family = AF_UNSPEC;
	info->ifi_index = (int)index;
	struct rtattr *attr = (struct rtattr *)(request.bytes + NLMSG_SPACE(sizeof *info));
	attr->rta_type = IFLA_NET_NS_FD;
	attr->rta_len = RTA_LENGTH(sizeof(uint32_t));
	uint32_t ns_fd = (uint32_t)to_netns_fd;
	memcpy(RTA_DATA(attr), &ns_fd, sizeof ns_fd);
	union {
		char bytes[1024];
		struct nlmsghdr align;
	} answer;
	int err = 0;
	ssize_t got = -1;
	if (send(fd, request.bytes, sizeof request.bytes, 0) != (ssize_t)sizeof request.bytes)
		err = errno;
	else if ((got = recv(fd, answer.bytes, sizeof answer.bytes, 0)) < 0)
		err = errno;
	else if (!NLMSG_OK(&answer.align, (size_t)got) || answer.align.nlmsg_type != NLMSG_ERROR ||
		 answer.align.nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		err = EPROTO;
	else
		err = -((struct nlmsgerr *)NLMSG_DATA(&answer.align))->error;
	close(fd);
	if (err) {
		errno = err;
		return fail_errno(error, "moving the interface to another namespace");
	}
	return 0;
}

/* The link's flags but NOARP as given, with wanted added. */
static int set_flags(const char *ifname, short wanted)
{
	struct ifreq ifr = { 0 };
	if (interface_ioctl(SIOCGIFFLAGS, &ifr, ifname) < 0)
		return -1;
	ifr.ifr_flags = (short)((ifr.ifr_flags & ~IFF_NOARP) | wanted);
	return interface_ioctl(SIOCSIFFLAGS, &ifr, ifname);
}

static int set_up(const char *ifname, bool noarp)
{
	return set_flags(ifname, (short)((noarp ? IFF_NOARP : 0) | IFF_UP));
}

/* The address a case's IPv6 namespace has without one of the host's own: the one the home IPv4
 * address stands for (family_address), on its /64. */
static struct ipv6_prefix mapped_home_address(void)
{
	return (struct ipv6_prefix){ family_address(FAMILY_IPV6, ntohl(home.address.sin_addr.s_addr)), 64 };
}

/* One IPv6 address on the interface, through the ioctl that takes an in6_ifreq. */
static int add_ipv6_address(const struct ipv6_prefix *p, char **error)
{
	struct in6_ifreq {
		struct in6_addr addr;
		uint32_t prefixlen;
		int ifindex;
	} req = { .prefixlen = p->length, .ifindex = (int)if_nametoindex(home.ifname) };
	memcpy(&req.addr, p->address.bytes, 16);
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail_errno(error, "IPv6 socket");
	int rc = ioctl(fd, SIOCSIFADDR, &req);
	int err = errno;
	close(fd);
	errno = err;
	return rc < 0 ? fail_errno(error, "IPv6 address") : 0;
}

/* addrconf puts an address in use on a workqueue after the link came up, even without DAD (see
 * sandbox.c's wait_address_local): until then a bind to it fails with EADDRNOTAVAIL. */
static int wait_ipv6_usable(const struct ipv6_prefix *p, char **error)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6 };
	memcpy(&a.sin6_addr, p->address.bytes, 16);
	const struct timespec pause = { 0, 1000000 };
	for (int waited_ms = 0; waited_ms < IPV6_USABLE_TIMEOUT_MS; waited_ms++) {
		int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return fail_errno(error, "IPv6 socket");
		int rc = bind(fd, (struct sockaddr *)&a, sizeof a);
		int err = errno;
		close(fd);
		if (rc == 0)
			return 0;
		if (err != EADDRNOTAVAIL) {
			errno = err;
			return fail_errno(error, "binding the IPv6 address");
		}
		nanosleep(&pause, NULL);
	}
	errno = ETIMEDOUT;
	return fail_errno(error, "the IPv6 address did not come into use");
}

/* A moved interface arrives down and without addresses. In an IPv6 case its MTU is an IPv6 link's
 * (where the link allows it), and either it gets the host's own IPv6 addresses and resolves its
 * neighbours (a lab host: the harness answers for the peers), or it is NOARP with the mapped address
 * (a VM's guest: no neighbour discovery, agent_netns_neighbour pins every peer). At home it gets
 * back what it had. */
static int configure_interface(char **error)
{
	struct ifreq ifr = { 0 };
	if (home.has_ipv4) {
		memcpy(&ifr.ifr_addr, &home.address, sizeof home.address);
		if (interface_ioctl(SIOCSIFADDR, &ifr, home.ifname) < 0)
			return fail_errno(error, "address");
		memcpy(&ifr.ifr_netmask, &home.netmask, sizeof home.netmask);
		if (interface_ioctl(SIOCSIFNETMASK, &ifr, home.ifname) < 0)
			return fail_errno(error, "netmask");
	}
	bool ipv6 = home.in_case && home.ipv6, pinned = ipv6 && home.ipv6_count == 0;
	/* NOARP before the IPv6 address exists: an address added to a link without it joins its
	 * solicited-node group (addrconf_join_solict), and the link then reports that group (MLD) when it
	 * comes up. */
	if (pinned && set_flags(home.ifname, IFF_NOARP) < 0)
		return fail_errno(error, "noarp");
	/* A lab NIC may not take the larger MTU: its cases then see the MSS its own MTU gives. */
	ifr.ifr_mtu = ipv6 ? NETNS_IPV6_LINK_MTU : home.mtu;
	if (interface_ioctl(SIOCSIFMTU, &ifr, home.ifname) < 0 && !(ipv6 && !pinned && errno == EINVAL))
		return fail_errno(error, "mtu");
	struct ipv6_prefix mapped = mapped_home_address();
	const struct ipv6_prefix *addresses = pinned ? &mapped : home.ipv6_addresses;
	int count = pinned ? 1 : ipv6 || !home.in_case ? home.ipv6_count : 0;
	for (int i = 0; i < count; i++)
		if (add_ipv6_address(&addresses[i], error) < 0)
			return -1;
	if (set_up(home.ifname, home.noarp || pinned) < 0)
		return fail_errno(error, "interface up");
	return ipv6 ? wait_ipv6_usable(&addresses[0], error) : 0;
}

int agent_netns_home(char **error)
{
	if (!home.enabled || !home.in_case)
		return 0;
	/* A fresh namespace that never got the interface (its move failed) has nothing to give back. */
	if (if_nametoindex(home.ifname) != 0 && move_interface(home.home_fd, error) < 0)
		return -1;
	/* The case namespace goes with the thread's last reference to it. */
	if (setns(home.home_fd, CLONE_NEWNET) < 0)
		return fail_errno(error, "back to the home namespace");
	home.in_case = false;
	return configure_interface(error);
}

int agent_netns_fresh(bool ipv6, char **error)
{
	if (!home.enabled)
		return error_set(error, "netns-per-case: not set up");
	if (agent_netns_home(error) < 0)
		return -1;
	/* The interface moves from home, so the request goes out on a socket opened there. */
	int home_rtnl_fd = -1, case_fd = -1;
	if (unshare(CLONE_NEWNET) < 0)
		return fail_errno(error, "unshare(CLONE_NEWNET)");
	home.in_case = true;
	home.ipv6 = ipv6;
	case_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (case_fd < 0)
		return fail_errno(error, "/proc/thread-self/ns/net");
	const char *key;
	int rc = netns_ipv6_quiet(ipv6, &key) < 0 ? fail_errno(error, key) : 0;
	struct ifreq lo = { 0 };
	if (rc == 0 && interface_ioctl(SIOCGIFFLAGS, &lo, "lo") == 0) {
		lo.ifr_flags |= IFF_UP;
		rc = interface_ioctl(SIOCSIFFLAGS, &lo, "lo") < 0 ? fail_errno(error, "lo up") : 0;
	}
	if (rc == 0) {
		rc = netns_enter(home.home_fd, &home_rtnl_fd);
		if (rc < 0) {
			rc = fail_errno(error, "entering the home namespace");
		} else {
			rc = move_interface(case_fd, error);
			if (netns_leave(home_rtnl_fd) < 0 && rc == 0)
				rc = fail_errno(error, "back to the case namespace");
		}
	}
	close(case_fd);
	return rc < 0 ? -1 : configure_interface(error);
}

int agent_netns_sysctl_open(const char *key, int flags)
{
	int fd = sysctl_file_open(key, flags);
	if (fd >= 0 || errno != ENOENT || !home.in_case)
		return fd;
	int saved;
	if (netns_enter(home.home_fd, &saved) < 0)
		return -1;
	fd = sysctl_file_open(key, flags);
	int err = errno;
	if (netns_leave(saved) < 0 && fd >= 0) {
		err = errno;
		close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

int agent_netns_neighbour(const struct ip_address *ip, const uint8_t mac[6], char **error)
{
	if (!home.in_case) {
		errno = EPERM;
		return error_set(error, "neigh-add: only in a case namespace of --netns-per-case");
	}
	int err = neighbour_set_permanent(home.ifname, ip, mac, error);
	errno = err;
	return err ? -1 : 0;
}
