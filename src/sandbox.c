/* sandbox.c - see sandbox.h. Everything a sandbox is made of lives inside its two anonymous
 * namespaces, so undoing a half-built one is closing the descriptors that hold them. */
#include "sandbox.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/ethtool.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/veth.h>
#include <net/ethernet.h>
#include <sched.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "error_text.h"
#include "netns.h"
#include "netns_ipv6.h"
#include "rtnl.h"
#include "sysctl_file.h"

#define LOOPBACK_IFINDEX 1 /* the kernel gives lo index 1 in every namespace */
/* Chosen rather than left to the kernel, which would number both ends 2 (each is the first device
 * after lo in its namespace). A veth whose ifindex equals its peer's looks to linkwatch like a
 * device without a lower link, and the target end's carrier then reaches its operstate only after
 * linkwatch's one-second batching delay. */
#define HARNESS_END_IFINDEX 2
#define TARGET_END_IFINDEX 3

/* Names only need to be unique for a human reading captures (each pair lives in its own
 * namespaces), so the counter may wrap to stay within IFNAMSIZ with a 7-digit PID. */
#define SANDBOX_COUNTER_MODULUS 10000
static atomic_uint sandboxes_made;

/* Sockets opened inside the fresh namespaces; they keep their namespace alive, so they are closed
 * before sandbox_create returns and only the two namespace fds hold the sandbox. */
struct build {
	struct rtnl harness;
	struct rtnl harness_links; /* link notifications, to see the harness end's carrier come up */
	struct rtnl target;
	int target_ioctl_fd;
};

/* Linkwatch runs at once for a veth, so this only guards against a wedged kernel. */
#define CARRIER_TIMEOUT_MS 1000

/* An IPv6 target's on-link prefix: 2001:db8::/64 holds every address family_address makes. */
#define IPV6_ON_LINK_PREFIX 64
#define IPV4_ON_LINK_PREFIX 24

/* The parser validated keys already; this second check is what keeps a bad key from ever naming a
 * file outside the namespace's own /proc/sys/net. */
static bool sysctl_key_safe(const char *key)
{
	return strncmp(key, "net.", 4) == 0 && key[4] != '\0' && !strstr(key, "..") &&
	       !strchr(key, '/');
}

/* A namespace fd must never be 0: sandbox_destroy treats 0 as "none" so that a zeroed struct
 * sandbox is safe to destroy. */
static int open_current_netns(void)
{
	int fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);

	if (fd == 0) {
		int moved = fcntl(fd, F_DUPFD_CLOEXEC, 1);
		int err = errno;
		close(fd);
		errno = err;
		fd = moved;
	}
	return fd;
}

/* Moves the calling thread into a new, empty network namespace and opens what must be opened from
 * inside it: the fd that holds it, an rtnetlink socket (and, when links is not NULL, one subscribed
 * to link notifications), and IPv6 off or quiet (netns_ipv6_quiet) before any link exists. *moved says
 * whether the thread left the namespace it was in, whatever else failed. */
static int enter_fresh_netns(const char *role, bool ipv6, int *netns_fd, struct rtnl *rtnl, struct rtnl *links,
			     bool *moved, char **error)
{
	if (unshare(CLONE_NEWNET) < 0)
		return error_set(error, "%s namespace: unshare(CLONE_NEWNET)%s: %s", role,
				 errno == EPERM ? " needs CAP_SYS_ADMIN" : "", strerror(errno));
	*moved = true;
	*netns_fd = open_current_netns();
	if (*netns_fd < 0)
		return error_set(error, "%s namespace: open: %s", role, strerror(errno));
	if (rtnl_open(rtnl, 0, error) < 0 || (links && rtnl_open(links, RTMGRP_LINK, error) < 0))
		return -1;
	/* Before any link exists, so that no router solicitation, MLD report or DAD probe ever reaches
	 * the wire (an IPv6 target fails later, at its address, on a kernel without IPv6). */
	const char *key;
	if (netns_ipv6_quiet(ipv6, &key) < 0)
		return error_set(error, "%s namespace: sysctl %s: %s", role, key, strerror(errno));
	return 0;
}

/* A sysctl that is not per namespace (net.core.rmem_max, net.ipv4.tcp_ehash_entries...) shows as
 * read-only in every namespace but the host's, to real root too: refusing it is no privilege
 * problem, and saying "Permission denied" would send the user off to find one. */
static int sysctl_write_failed(const struct sysctl_setting *s, char **error)
{
	char path[SYSCTL_KEY_MAX + 16];
	struct stat st;
	int err = errno;

	if ((err == EACCES || err == EPERM) && sysctl_file_path(s->key, path, sizeof path) == 0 &&
	    stat(path, &st) == 0 && !(st.st_mode & 0222)) {
		errno = err;
		return error_set(error, "sysctl %s=%s: read-only in a network namespace (the kernel keeps "
				 "one host-wide value)", s->key, s->value);
	}
	errno = err;
	return error_set(error, "sysctl %s=%s: %s", s->key, s->value, strerror(err));
}

/* Takes the thread back to home_fd's namespace (and closes it) after fresh namespaces were entered;
 * returns rc, or -1 when the way back failed (with rc's message appended). Without CAP_SYS_ADMIN the
 * first unshare fails and setns back would fail the same way; a thread that never moved has nothing
 * to undo, and its error is the one worth reading. */
static int return_home(int home_fd, bool moved, int rc, char **error)
{
	if (!moved) {
		close(home_fd);
	} else if (netns_leave(home_fd) < 0) {
		char *inner = rc < 0 && error ? *error : NULL;
		rc = error_set(error, "return to own network namespace: %s%s%s", strerror(errno),
			       inner ? "; after: " : "", inner ? inner : "");
		free(inner);
	}
	return rc;
}

/* The case's sysctls go in before the links exist, so that net.*.default.* settings apply to the
 * veth exactly as they would to a device on a freshly booted host. */
static int make_namespaces(const struct sandbox_config *config, struct sandbox *sb,
			   struct build *build, char **error)
{
	int home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	bool moved = false;
	int rc = 0;

	if (home_fd < 0)
		return error_set(error, "open own network namespace: %s", strerror(errno));
	/* The harness end stays without IPv6 in every family: address-less and silent. A borrowed link's
	 * namespace was made so once, when the link was. */
	if (!sb->link)
		rc = enter_fresh_netns("harness", false, &sb->harness_netns_fd, &build->harness,
				       &build->harness_links, &moved, error);
	if (rc == 0)
		rc = enter_fresh_netns("target", !ip_address_is_ipv4(&config->target), &sb->target_netns_fd,
				       &build->target, NULL, &moved, error);
	if (rc == 0) {
		/* SIOCETHTOOL acts in the namespace the socket was created in, wherever the caller is. */
		build->target_ioctl_fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
		if (build->target_ioctl_fd < 0)
			rc = error_set(error, "target namespace: socket: %s", strerror(errno));
	}
	for (int i = 0; rc == 0 && i < config->sysctl_count; i++) {
		const struct sysctl_setting *s = &config->sysctls[i];
		if (sysctl_file_write(s->key, s->value) < 0)
			rc = sysctl_write_failed(s, error);
	}
	return return_home(home_fd, moved, rc, error);
}

/* mtu 0: the kernel's default. target_netns_fd -1: both ends in rtnl's namespace. harness_ifindex and
 * target_ifindex 0: the kernel's choice. master_ifindex: the bridge the harness end joins, or 0. */
static int create_veth(struct rtnl *rtnl, const char *harness_ifname, int harness_ifindex, const char *target_ifname,
		       int target_ifindex, int target_netns_fd, unsigned mtu, int master_ifindex, char **error)
{
	char buf[RTNL_REQUEST_SIZE], what[64];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	struct nlattr *linkinfo, *info_data, *peer;
	struct ifinfomsg *peer_ifi;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = harness_ifindex;
	ifi->ifi_flags = ifi->ifi_change = IFF_UP;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, harness_ifname);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (master_ifindex)
		mnl_attr_put_u32(nlh, IFLA_MASTER, (uint32_t)master_ifindex);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "veth");
	info_data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	peer = mnl_attr_nest_start(nlh, VETH_INFO_PEER);
	peer_ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *peer_ifi);
	/* No IFF_UP here: veth configures the peer before pairing it, and opening an unpaired veth
	 * fails with ENOTCONN. The target end goes up once it exists. */
	peer_ifi->ifi_family = AF_UNSPEC;
	peer_ifi->ifi_index = target_ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, target_ifname);
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	/* Created straight into the target namespace: the peer never exists anywhere else. */
	if (target_netns_fd >= 0)
		mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (uint32_t)target_netns_fd);
	mnl_attr_nest_end(nlh, peer);
	mnl_attr_nest_end(nlh, info_data);
	mnl_attr_nest_end(nlh, linkinfo);
	snprintf(what, sizeof what, "create veth %s/%s", harness_ifname, target_ifname);
	return rtnl_talk(rtnl, nlh, NULL, NULL, what, error);
}

/* flags: IFF_UP, with IFF_NOARP for an IPv6 target end (no neighbour discovery: every peer has a
 * permanent entry). */
static int set_link_up(struct rtnl *rtnl, int ifindex, unsigned flags, const char *what, char **error)
{
	char buf[RTNL_REQUEST_SIZE];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = ifi->ifi_change = flags;
	return rtnl_talk(rtnl, nlh, NULL, NULL, what, error);
}

struct link_reply {
	int ifindex;
	bool has_mac;
	uint8_t mac[ETH_ALEN];
};

static int on_link_attr(const struct nlattr *attr, void *data)
{
	struct link_reply *link = data;

	if (mnl_attr_get_type(attr) != IFLA_ADDRESS)
		return MNL_CB_OK;
	if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, ETH_ALEN) < 0)
		return MNL_CB_ERROR;
	memcpy(link->mac, mnl_attr_get_payload(attr), ETH_ALEN);
	link->has_mac = true;
	return MNL_CB_OK;
}

static int on_link(const struct nlmsghdr *nlh, void *data)
{
	struct link_reply *link = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK || mnl_nlmsg_get_payload_len(nlh) < sizeof *ifi) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	link->ifindex = ifi->ifi_index;
	return mnl_attr_parse(nlh, sizeof *ifi, on_link_attr, link);
}

/* The MAC comes from rtnetlink rather than /sys/class/net, which shows the opener's devices. */
static int read_link(struct rtnl *rtnl, const char *ifname, int *ifindex, uint8_t *mac,
		     char **error)
{
	char buf[RTNL_REQUEST_SIZE], what[64];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_GETLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	struct link_reply link = { 0 };

	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, ifname);
	snprintf(what, sizeof what, "read link %s", ifname);
	if (rtnl_talk(rtnl, nlh, on_link, &link, what, error) < 0)
		return -1;
	if (link.ifindex <= 0 || !link.has_mac) {
		errno = EBADMSG;
		return error_set(error, "%s: reply without ifindex or MAC", what);
	}
	*ifindex = link.ifindex;
	memcpy(mac, link.mac, ETH_ALEN);
	return 0;
}

/* The address's bytes as netlink carries them: 4 for IPv4, 16 for IPv6. */
static void put_address(struct nlmsghdr *nlh, uint16_t type, const struct ip_address *ip)
{
	if (ip_address_is_ipv4(ip))
		mnl_attr_put(nlh, type, 4, ip->bytes + 12);
	else
		mnl_attr_put(nlh, type, 16, ip->bytes);
}

/* An IPv6 address skips DAD (IFA_F_NODAD): nothing but the case's segments goes on the wire. */
static int add_address(struct rtnl *rtnl, const struct sandbox *sb, const struct ip_address *ip, char **error)
{
	char buf[RTNL_REQUEST_SIZE], what[96], text[IP_ADDRESS_TEXT_MAX];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof *ifa);
	bool ipv4 = ip_address_is_ipv4(ip);

	ifa->ifa_family = ipv4 ? AF_INET : AF_INET6;
	ifa->ifa_prefixlen = ipv4 ? IPV4_ON_LINK_PREFIX : IPV6_ON_LINK_PREFIX;
	ifa->ifa_flags = ipv4 ? 0 : IFA_F_NODAD;
	ifa->ifa_scope = RT_SCOPE_UNIVERSE;
	ifa->ifa_index = (uint32_t)sb->target_ifindex;
	put_address(nlh, IFA_LOCAL, ip);
	put_address(nlh, IFA_ADDRESS, ip);
	snprintf(what, sizeof what, "address %s/%d on %s", ip_address_format(ip, text), ifa->ifa_prefixlen,
		 sb->target_ifname);
	return rtnl_talk(rtnl, nlh, NULL, NULL, what, error);
}

/* REPLACE, not EXCL: two peers may share one IP (the NAT cases). */
static int add_neighbour(struct rtnl *rtnl, const struct sandbox *sb, const struct ip_address *ip, char **error)
{
	char buf[RTNL_REQUEST_SIZE], what[96], text[IP_ADDRESS_TEXT_MAX];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE);
	struct ndmsg *ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);

	ndm->ndm_family = ip_address_is_ipv4(ip) ? AF_INET : AF_INET6;
	ndm->ndm_ifindex = sb->target_ifindex;
	ndm->ndm_state = NUD_PERMANENT;
	put_address(nlh, NDA_DST, ip);
	mnl_attr_put(nlh, NDA_LLADDR, ETH_ALEN, sb->harness_mac);
	snprintf(what, sizeof what, "neighbour %s on %s", ip_address_format(ip, text), sb->target_ifname);
	return rtnl_talk(rtnl, nlh, NULL, NULL, what, error);
}

static int ethtool_off(int ioctl_fd, const char *ifname, uint32_t cmd, const char *feature,
		       char **error)
{
	struct ethtool_value value = { .cmd = cmd, .data = 0 };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	ifr.ifr_data = (void *)&value;
	if (ioctl(ioctl_fd, SIOCETHTOOL, &ifr) < 0)
		return error_set(error, "%s: %s off: %s", ifname, feature, strerror(errno));
	return 0;
}

/* veth hands partially checksummed skbs across, which a capture shows as bad checksums; TSO/GSO
 * would let the target's segments reach the capture larger than one MSS. */
static int offloads_off(int ioctl_fd, const char *ifname, char **error)
{
	if (ethtool_off(ioctl_fd, ifname, ETHTOOL_STXCSUM, "tx checksumming", error) < 0 ||
	    ethtool_off(ioctl_fd, ifname, ETHTOOL_STSO, "tcp segmentation offload", error) < 0 ||
	    ethtool_off(ioctl_fd, ifname, ETHTOOL_SGSO, "generic segmentation offload", error) < 0)
		return -1;
	return 0;
}

static int on_harness_link(const struct nlmsghdr *nlh, void *data)
{
	const int *harness_ifindex = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *ifi) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	return ifi->ifi_index == *harness_ifindex && (ifi->ifi_flags & IFF_RUNNING) ? MNL_CB_STOP
										   : MNL_CB_OK;
}

/* The harness end came up before its peer, without carrier, so its transmit queue keeps the
 * dropping noop qdisc until linkwatch sees the carrier and activates it; frames injected before
 * then vanish. Linkwatch announces the activated link with IFF_RUNNING. */
static int wait_harness_carrier(struct build *build, struct sandbox *sb, char **error)
{
	char what[64];

	snprintf(what, sizeof what, "%s carrier", sb->harness_ifname);
	return rtnl_wait_event(&build->harness_links, on_harness_link, &sb->harness_ifindex,
			       CARRIER_TIMEOUT_MS, what, error);
}

/* Polls ifname (in ioctl_fd's namespace) until IFF_RUNNING is set. */
static int wait_running(int ioctl_fd, const char *ifname, char **error)
{
	struct ifreq ifr = { 0 };
	const struct timespec pause = { 0, 100000 };

	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	for (int waited_us = 0; waited_us < CARRIER_TIMEOUT_MS * 1000; waited_us += 100) {
		if (ioctl(ioctl_fd, SIOCGIFFLAGS, &ifr) < 0)
			return error_set(error, "%s: reading flags: %s", ifname, strerror(errno));
		if (ifr.ifr_flags & IFF_RUNNING)
			return 0;
		nanosleep(&pause, NULL);
	}
	errno = ETIMEDOUT;
	return error_set(error, "%s carrier: not running after %d ms", ifname, CARRIER_TIMEOUT_MS);
}

/* The target end's replies meet the same noop qdisc until linkwatch activates it, and linkwatch may
 * handle it after the harness end under load: wait for IFF_RUNNING there too. */
static int wait_target_running(struct build *build, struct sandbox *sb, char **error)
{
	return wait_running(build->target_ioctl_fd, sb->target_ifname, error);
}

/* Whether peer is on the target's on-link prefix (and not the target itself). */
static bool in_on_link_prefix(const struct ip_address *target, const struct ip_address *peer)
{
	int prefix_bytes = ip_address_is_ipv4(target) ? 12 + IPV4_ON_LINK_PREFIX / 8 : IPV6_ON_LINK_PREFIX / 8;
	return memcmp(target->bytes, peer->bytes, (size_t)prefix_bytes) == 0 && !ip_address_equal(target, peer);
}

static int on_route(const struct nlmsghdr *nlh, void *data)
{
	unsigned char *type = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type != RTM_NEWROUTE || mnl_nlmsg_get_payload_len(nlh) < sizeof *rtm) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	*type = rtm->rtm_type;
	return MNL_CB_OK;
}

/* An IPv6 address added before the link had carrier is delivered to only once addrconf's work, run
 * after the carrier came, has completed it (with IFA_F_NODAD at once, but on a workqueue) and put in
 * its local route (__ipv6_ifa_notify); until then segments to it vanish. Wait for the local route. */
static int wait_address_local(struct build *build, struct sandbox *sb, const struct ip_address *target,
			      char **error)
{
	const struct timespec pause = { 0, 100000 };
	char what[96], text[IP_ADDRESS_TEXT_MAX];
	snprintf(what, sizeof what, "route to %s", ip_address_format(target, text));
	for (int waited_us = 0; waited_us < CARRIER_TIMEOUT_MS * 1000; waited_us += 100) {
		char buf[RTNL_REQUEST_SIZE];
		struct nlmsghdr *nlh = rtnl_request(&build->target, buf, RTM_GETROUTE, 0);
		struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof *rtm);
		unsigned char type = RTN_UNSPEC;
		rtm->rtm_family = AF_INET6;
		rtm->rtm_dst_len = 128;
		mnl_attr_put(nlh, RTA_DST, 16, target->bytes);
		/* ENETUNREACH while the prefix route is not in yet either. */
		if (rtnl_talk(&build->target, nlh, on_route, &type, what, NULL) == 0 && type == RTN_LOCAL)
			return 0;
		nanosleep(&pause, NULL);
	}
	errno = ETIMEDOUT;
	return error_set(error, "%s: %s is not a local address after %d ms", sb->target_ifname, text,
			 CARRIER_TIMEOUT_MS);
}

static int check_config(const struct sandbox_config *config, char **error)
{
	char text[IP_ADDRESS_TEXT_MAX], target_text[IP_ADDRESS_TEXT_MAX];

	if (ip_address_is_unspecified(&config->target) || config->peer_count < 0 ||
	    (config->peer_count > 0 && !config->peers) || config->sysctl_count < 0 ||
	    (config->sysctl_count > 0 && !config->sysctls)) {
		errno = EINVAL;
		return error_set(error, "sandbox: invalid configuration");
	}
	/* The target has only its on-link route: a peer outside it would be silently unreachable. */
	for (int i = 0; i < config->peer_count; i++) {
		if (!in_on_link_prefix(&config->target, &config->peers[i])) {
			errno = EINVAL;
			return error_set(error, "peer %s: not a neighbour on the target's %s/%d",
					 ip_address_format(&config->peers[i], text),
					 ip_address_format(&config->target, target_text),
					 ip_address_is_ipv4(&config->target) ? IPV4_ON_LINK_PREFIX : IPV6_ON_LINK_PREFIX);
		}
	}
	for (int i = 0; i < config->sysctl_count; i++) {
		const struct sysctl_setting *s = &config->sysctls[i];
		if (!sysctl_key_safe(s->key)) {
			errno = EINVAL;
			return error_set(error, "sysctl %s=%s: only net.* keys without \"..\" or '/'",
					 s->key, s->value);
		}
	}
	return 0;
}

/* Names the links made together (the harness and target ends; a link's bridge and keeper pair) one
 * counter value apart from every other's, each with its own letter from suffixes. */
static int name_links(const char *suffixes, char (*names)[IF_NAMESIZE], char **error)
{
	unsigned int counter = atomic_fetch_add(&sandboxes_made, 1) % SANDBOX_COUNTER_MODULUS;
	int pid = (int)getpid();
	bool fits = true;

	for (int i = 0; suffixes[i]; i++) {
		int n = snprintf(names[i], IF_NAMESIZE, SANDBOX_IFNAME_PREFIX "%dx%u%c", pid, counter, suffixes[i]);
		fits = fits && n > 0 && n < IF_NAMESIZE;
	}
	if (!fits) {
		errno = ENAMETOOLONG;
		return error_set(error, "sandbox: interface name for pid %d does not fit IFNAMSIZ", pid);
	}
	return 0;
}

/* The target end, in the target namespace already, made the case's: up, offloads off (unless the case
 * keeps them), the address and
 * the neighbours; then both ends running. */
static int set_up_target_end(const struct sandbox_config *config, struct sandbox *sb, struct build *build,
			     char **error)
{
	if (read_link(&build->target, sb->target_ifname, &sb->target_ifindex, sb->target_mac,
		      error) < 0 ||
	    set_link_up(&build->target, sb->target_ifindex,
			ip_address_is_ipv4(&config->target) ? IFF_UP : IFF_UP | IFF_NOARP, "target end up", error) < 0 ||
	    (!config->offloads && offloads_off(build->target_ioctl_fd, sb->target_ifname, error) < 0) ||
	    add_address(&build->target, sb, &config->target, error) < 0)
		return -1;
	for (int i = 0; i < config->peer_count; i++)
		if (add_neighbour(&build->target, sb, &config->peers[i], error) < 0)
			return -1;
	if (wait_harness_carrier(build, sb, error) < 0 || wait_target_running(build, sb, error) < 0)
		return -1;
	return ip_address_is_ipv4(&config->target) ? 0 : wait_address_local(build, sb, &config->target, error);
}

static int build_sandbox(const struct sandbox_config *config, struct sandbox *sb,
			 struct build *build, char **error)
{
	char names[2][IF_NAMESIZE];
	if (name_links("ht", names, error) < 0)
		return -1;
	memcpy(sb->harness_ifname, names[0], IF_NAMESIZE);
	memcpy(sb->target_ifname, names[1], IF_NAMESIZE);
	if (make_namespaces(config, sb, build, error) < 0 ||
	    set_link_up(&build->harness, LOOPBACK_IFINDEX, IFF_UP, "harness lo up", error) < 0 ||
	    set_link_up(&build->target, LOOPBACK_IFINDEX, IFF_UP, "target lo up", error) < 0 ||
	    create_veth(&build->harness, sb->harness_ifname, HARNESS_END_IFINDEX, sb->target_ifname, TARGET_END_IFINDEX,
			sb->target_netns_fd, ip_address_is_ipv4(&config->target) ? 0 : NETNS_IPV6_LINK_MTU, 0, error) < 0 ||
	    read_link(&build->harness, sb->harness_ifname, &sb->harness_ifindex, sb->harness_mac,
		      error) < 0)
		return -1;
	return set_up_target_end(config, sb, build, error);
}

/* Opens in link's namespace what a sandbox made on it talks to it with: an rtnetlink socket, and one
 * for the notifications about its harness end (harness_ifindex), opened before the end exists, to see
 * it come up. */
static int open_in_link(const struct sandbox_link *link, int harness_ifindex, struct build *build, char **error)
{
	int saved;
	if (netns_enter(link->harness_netns_fd, &saved) < 0)
		return error_set(error, "entering the harness namespace: %s", strerror(errno));
	int rc = rtnl_open(&build->harness, 0, error);
	if (rc == 0)
		rc = rtnl_open(&build->harness_links, RTMGRP_LINK, error);
	if (rc == 0)
		rc = rtnl_only_link(&build->harness_links, harness_ifindex, error);
	if (netns_leave(saved) < 0 && rc == 0)
		rc = error_set(error, "leaving the harness namespace: %s", strerror(errno));
	return rc;
}

/* A locally administered unicast address, as the kernel's eth_random_addr makes one. */
static int random_mac(uint8_t mac[ETH_ALEN], char **error)
{
	if (getrandom(mac, ETH_ALEN, 0) != ETH_ALEN)
		return error_set(error, "getrandom: %s", strerror(errno));
	mac[0] = (uint8_t)((mac[0] & 0xfe) | 0x02);
	return 0;
}

/* One RTM_NEWLINK for ifindex: its MTU (0: unchanged), its MAC (NULL: unchanged) and flags (change 0:
 * unchanged). */
static int change_link(struct rtnl *rtnl, int ifindex, unsigned mtu, const uint8_t *mac, unsigned flags,
		       unsigned change, const char *what, char **error)
{
	char buf[RTNL_REQUEST_SIZE];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWLINK, 0);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = flags;
	ifi->ifi_change = change;
	if (mtu)
		mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	if (mac)
		mnl_attr_put(nlh, IFLA_ADDRESS, ETH_ALEN, mac);
	return rtnl_talk(rtnl, nlh, NULL, NULL, what, error);
}

/* The case's harness end joins the link's bridge as it is made, its target end made straight in the
 * fresh target namespace: a sandbox as sandbox_create makes one, whose harness end's frames reach the
 * link's wire through the bridge unchanged. The bridge takes the case's MTU, so that the wire sends
 * what the harness end would take and no more. */
static int build_on_link(const struct sandbox_config *config, struct sandbox *sb, struct build *build, char **error)
{
	struct sandbox_link *link = sb->link;
	bool ipv4 = ip_address_is_ipv4(&config->target);
	unsigned mtu = ipv4 ? ETH_DATA_LEN : NETNS_IPV6_LINK_MTU;
	char names[2][IF_NAMESIZE];
	uint8_t harness_end_mac[ETH_ALEN];

	if (name_links("ht", names, error) < 0)
		return -1;
	memcpy(sb->harness_ifname, names[0], IF_NAMESIZE);
	memcpy(sb->target_ifname, names[1], IF_NAMESIZE);
	/* Chosen, not the kernel's, so that its notifications can be told from the others' (the earlier
	 * cases' harness ends leave the bridge meanwhile) before it exists; never TARGET_END_IFINDEX (the
	 * bridge and the keeper pair hold the lowest indexes): the two ends' indexes must differ. */
	int harness_ifindex = link->next_ifindex++;
	if (make_namespaces(config, sb, build, error) < 0 ||
	    set_link_up(&build->target, LOOPBACK_IFINDEX, IFF_UP, "target lo up", error) < 0 ||
	    open_in_link(link, harness_ifindex, build, error) < 0)
		return -1;
	if (mtu != link->mtu) {
		link->mtu = 0; /* unknown until the change is made */
		if (change_link(&build->harness, link->bridge_ifindex, mtu, NULL, 0, 0, "bridge mtu", error) < 0)
			return -1;
		link->mtu = mtu;
	}
	if (create_veth(&build->harness, sb->harness_ifname, harness_ifindex, sb->target_ifname, TARGET_END_IFINDEX,
			sb->target_netns_fd, ipv4 ? 0 : NETNS_IPV6_LINK_MTU, link->bridge_ifindex, error) < 0 ||
	    read_link(&build->harness, sb->harness_ifname, &sb->harness_ifindex, harness_end_mac, error) < 0)
		return -1;
	return set_up_target_end(config, sb, build, error);
}

static void close_build(struct build *build)
{
	rtnl_close(&build->harness);
	rtnl_close(&build->harness_links);
	rtnl_close(&build->target);
	if (build->target_ioctl_fd >= 0)
		close(build->target_ioctl_fd);
}

/* The bridge forwards nothing until it has carrier, which it has while one port has: the keeper pair's
 * end is that port, so the bridge never loses carrier between one case's harness end and the next's
 * (linkwatch would take its transmit queue away and give it back). STP off: a port forwards as soon as
 * it joins; multicast snooping off: the bridge never sends a query of its own. */
static int make_bridge(struct rtnl *rtnl, struct sandbox_link *link, const char *keeper, const char *keeper_peer,
		       char **error)
{
	char buf[RTNL_REQUEST_SIZE];
	struct nlmsghdr *nlh = rtnl_request(rtnl, buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof *ifi);
	ifi->ifi_family = AF_UNSPEC;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, link->bridge_ifname);
	struct nlattr *linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "bridge");
	struct nlattr *info_data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_BR_STP_STATE, 0);
	mnl_attr_put_u8(nlh, IFLA_BR_MCAST_SNOOPING, 0);
	mnl_attr_nest_end(nlh, info_data);
	mnl_attr_nest_end(nlh, linkinfo);
	uint8_t mac[ETH_ALEN], keeper_mac[ETH_ALEN];
	int keeper_ifindex, keeper_peer_ifindex;
	/* Its MAC set afterwards, as an address the user chose (dev_set_mac_address): a bridge would
	 * otherwise take the lowest of its ports' MACs, and each case's harness end is a new port. */
	if (rtnl_talk(rtnl, nlh, NULL, NULL, "create bridge", error) < 0 ||
	    read_link(rtnl, link->bridge_ifname, &link->bridge_ifindex, link->bridge_mac, error) < 0 ||
	    random_mac(mac, error) < 0 ||
	    change_link(rtnl, link->bridge_ifindex, 0, mac, IFF_UP, IFF_UP, "bridge address and up", error) < 0 ||
	    create_veth(rtnl, keeper, 0, keeper_peer, 0, -1, 0, link->bridge_ifindex, error) < 0 ||
	    read_link(rtnl, keeper, &keeper_ifindex, keeper_mac, error) < 0 ||
	    read_link(rtnl, keeper_peer, &keeper_peer_ifindex, keeper_mac, error) < 0 ||
	    set_link_up(rtnl, keeper_peer_ifindex, IFF_UP, "keeper up", error) < 0 ||
	    read_link(rtnl, link->bridge_ifname, &link->bridge_ifindex, link->bridge_mac, error) < 0)
		return -1;
	int highest = TARGET_END_IFINDEX;
	const int made[] = { link->bridge_ifindex, keeper_ifindex, keeper_peer_ifindex };
	for (size_t i = 0; i < sizeof made / sizeof made[0]; i++)
		highest = made[i] > highest ? made[i] : highest;
	link->next_ifindex = highest + 1;
	return 0;
}

int sandbox_link_open(struct sandbox_link *link, char **error)
{
	struct rtnl rtnl = { 0 };
	char names[3][IF_NAMESIZE];
	bool moved = false;

	*link = (struct sandbox_link){ .harness_netns_fd = -1, .mtu = ETH_DATA_LEN };
	int home_fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (home_fd < 0)
		return error_set(error, "open own network namespace: %s", strerror(errno));
	int rc = enter_fresh_netns("harness", false, &link->harness_netns_fd, &rtnl, NULL, &moved, error);
	int ioctl_fd = rc == 0 ? socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0) : -1;
	if (rc == 0 && ioctl_fd < 0)
		rc = error_set(error, "harness namespace: socket: %s", strerror(errno));
	rc = return_home(home_fd, moved, rc, error);
	if (rc == 0)
		rc = name_links("bkq", names, error);
	if (rc == 0) {
		memcpy(link->bridge_ifname, names[0], IF_NAMESIZE);
		if (set_link_up(&rtnl, LOOPBACK_IFINDEX, IFF_UP, "harness lo up", error) < 0 ||
		    make_bridge(&rtnl, link, names[1], names[2], error) < 0 ||
		    wait_running(ioctl_fd, link->bridge_ifname, error) < 0)
			rc = -1;
	}
	rtnl_close(&rtnl);
	if (ioctl_fd >= 0)
		close(ioctl_fd);
	if (rc < 0) {
		int err = errno;
		sandbox_link_close(link);
		errno = err;
	}
	return rc;
}

void sandbox_link_close(struct sandbox_link *link)
{
	if (link->harness_netns_fd > 0)
		close(link->harness_netns_fd);
	link->harness_netns_fd = -1;
}

/* A sandbox built (rc 0) goes to out; a half-built one is taken down, keeping the errno that broke it. */
static int handed_out(int rc, struct sandbox *sb, struct sandbox *out)
{
	if (rc < 0) {
		int err = errno;
		sandbox_destroy(sb);
		errno = err;
		return -1;
	}
	*out = *sb;
	return 0;
}

int sandbox_create_on(struct sandbox_link *link, const struct sandbox_config *config, struct sandbox *out,
		      char **error)
{
	struct sandbox sb = { .link = link, .harness_netns_fd = link->harness_netns_fd, .target_netns_fd = -1 };
	struct build build = { .target_ioctl_fd = -1 };

	*out = (struct sandbox){ .harness_netns_fd = -1, .target_netns_fd = -1 };
	if (check_config(config, error) < 0)
		return -1;
	/* The target's neighbours are the bridge's address: the wire sends from it, and the bridge hands
	 * frames to it up to the wire. */
	memcpy(sb.harness_mac, link->bridge_mac, sizeof sb.harness_mac);
	int rc = build_on_link(config, &sb, &build, error);
	close_build(&build);
	return handed_out(rc, &sb, out);
}

int sandbox_create(const struct sandbox_config *config, struct sandbox *out, char **error)
{
	struct sandbox sb = { .harness_netns_fd = -1, .target_netns_fd = -1 };
	struct build build = { .target_ioctl_fd = -1 };
	int rc;

	*out = (struct sandbox){ .harness_netns_fd = -1, .target_netns_fd = -1 };
	if (check_config(config, error) < 0)
		return -1;
	rc = build_sandbox(config, &sb, &build, error);
	close_build(&build);
	return handed_out(rc, &sb, out);
}

void sandbox_destroy(struct sandbox *sandbox)
{
	/* fd 0 is never a namespace fd (open_current_netns), so a zeroed sandbox closes nothing. */
	if (sandbox->link)
		sandbox->link = NULL; /* the link's namespace stays; the pair goes with the target namespace */
	else if (sandbox->harness_netns_fd > 0)
		close(sandbox->harness_netns_fd);
	if (sandbox->target_netns_fd > 0)
		close(sandbox->target_netns_fd);
	sandbox->harness_netns_fd = sandbox->target_netns_fd = -1;
}

/* Opens /proc/sys/<key> as seen from netns_fd's namespace; the open file stays bound to that
 * namespace, so only the open itself happens inside. */
static int sysctl_open_in(int netns_fd, const char *key, int flags)
{
	char path[SYSCTL_KEY_MAX + 16];
	int saved_fd, fd, err;

	if (!sysctl_key_safe(key)) {
		errno = EINVAL;
		return -1;
	}
	if (sysctl_file_path(key, path, sizeof path) < 0 || netns_enter(netns_fd, &saved_fd) < 0)
		return -1;
	fd = open(path, flags | O_CLOEXEC);
	err = errno;
	if (netns_leave(saved_fd) < 0) {
		err = errno;
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	errno = err;
	return fd;
}

int sandbox_sysctl_exists(int netns_fd, const char *key)
{
	int fd = sysctl_open_in(netns_fd, key, O_PATH);

	if (fd >= 0) {
		close(fd);
		return 1;
	}
	return errno == ENOENT ? 0 : -1;
}

int sandbox_sysctl_read(int netns_fd, const char *key, char *value, size_t size)
{
	int fd, err;
	ssize_t n;

	if (size == 0) {
		errno = EINVAL;
		return -1;
	}
	fd = sysctl_open_in(netns_fd, key, O_RDONLY);
	if (fd < 0)
		return -1;
	n = read(fd, value, size);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	if ((size_t)n == size) {
		errno = ERANGE;
		return -1;
	}
	value[n] = '\0';
	if (n > 0 && value[n - 1] == '\n')
		value[n - 1] = '\0';
	return 0;
}
