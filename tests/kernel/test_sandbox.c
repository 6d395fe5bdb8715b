/* test_sandbox.c - sandbox_create against the running kernel (needs root).
 * Timings live in scripts/bench.sh (tests/bench/bench_core.c), not here. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/ethtool.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <linux/if_packet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "netns.h"
#include "rtnl.h"
#include "sandbox.h"

#define TARGET_IP 0xc0000201u  /* 192.0.2.1 */
#define PEER_A_IP 0xc000020au  /* 192.0.2.10 */
#define PEER_B_IP 0xc000020bu  /* 192.0.2.11 */
#define TARGET_PORT 8080

/* Two peers behind one address (the NAT cases) give a duplicate entry on purpose. */
static struct ip_address peer_ips[3];

static struct sandbox_config config_in(enum address_family family, const struct sysctl_setting *sysctls, int count)
{
	peer_ips[0] = peer_ips[2] = family_address(family, PEER_A_IP);
	peer_ips[1] = family_address(family, PEER_B_IP);
	struct sandbox_config config = {
		.target = family_address(family, TARGET_IP),
		.peers = peer_ips,
		.peer_count = (int)(sizeof peer_ips / sizeof peer_ips[0]),
		.sysctls = sysctls,
		.sysctl_count = count,
	};
	return config;
}

static struct sandbox_config config_with(const struct sysctl_setting *sysctls, int count)
{
	return config_in(FAMILY_IPV4, sysctls, count);
}

static void create_or_fail(struct sandbox_config config, struct sandbox *sb)
{
	char *error = NULL;

	if (sandbox_create(&config, sb, &error) < 0)
		fail_msg("sandbox_create: %s", error ? error : "(no message)");
	assert_null(error);
}

static int count_open_fds(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int count = 0;

	assert_non_null(dir);
	while (readdir(dir))
		count++;
	closedir(dir);
	return count - 1; /* the directory's own fd */
}

static ino_t current_netns_inode(void)
{
	struct stat st;

	assert_int_equal(stat("/proc/thread-self/ns/net", &st), 0);
	return st.st_ino;
}

static int count_links_here(void)
{
	struct if_nameindex *links = if_nameindex();
	int count = 0;

	assert_non_null(links);
	while (links[count].if_index)
		count++;
	if_freenameindex(links);
	return count;
}

static void enter(int netns_fd, int *saved_fd)
{
	assert_int_equal(netns_enter(netns_fd, saved_fd), 0);
}

static void leave(int saved_fd)
{
	assert_int_equal(netns_leave(saved_fd), 0);
}

/* ifr_flags of a link in the current namespace; the ioctl socket must be opened here. */
static int link_flags_here(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	assert_int_equal(ioctl(fd, SIOCGIFFLAGS, &ifr), 0);
	close(fd);
	return ifr.ifr_flags;
}

static void assert_end_here(const char *ifname, int ifindex, const uint8_t *mac, const char *other)
{
	struct ifreq ifr = { 0 };
	int fd;
	int flags = link_flags_here(ifname);

	assert_int_equal(if_nametoindex(ifname), ifindex);
	assert_int_equal(if_nametoindex(other), 0);
	assert_true(flags & IFF_UP);
	assert_true(flags & IFF_RUNNING); /* carrier: the other end is up too */
	assert_true(link_flags_here("lo") & IFF_UP);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	assert_int_equal(ioctl(fd, SIOCGIFHWADDR, &ifr), 0);
	close(fd);
	assert_memory_equal(ifr.ifr_hwaddr.sa_data, mac, ETH_ALEN);
}

static void test_each_end_lives_in_its_own_namespace(void **state)
{
	struct sandbox sb;
	int saved;
	char prefix[16];
	ino_t home = current_netns_inode();
	(void)state;

	create_or_fail(config_with(NULL, 0), &sb);
	assert_int_equal(current_netns_inode(), home);
	snprintf(prefix, sizeof prefix, "%s%dx", SANDBOX_IFNAME_PREFIX, (int)getpid());
	assert_int_equal(strncmp(sb.harness_ifname, prefix, strlen(prefix)), 0);
	assert_int_equal(strncmp(sb.target_ifname, prefix, strlen(prefix)), 0);
	assert_int_equal(if_nametoindex(sb.harness_ifname), 0);
	assert_int_equal(if_nametoindex(sb.target_ifname), 0);

	enter(sb.harness_netns_fd, &saved);
	assert_end_here(sb.harness_ifname, sb.harness_ifindex, sb.harness_mac, sb.target_ifname);
	leave(saved);
	enter(sb.target_netns_fd, &saved);
	assert_end_here(sb.target_ifname, sb.target_ifindex, sb.target_mac, sb.harness_ifname);
	leave(saved);
	sandbox_destroy(&sb);
}

static void test_target_has_address_and_route_harness_has_none(void **state)
{
	struct sandbox sb;
	struct ifaddrs *addrs;
	int saved, fd, target_v4 = 0;
	char value[16];
	struct sockaddr_in peer = { .sin_family = AF_INET, .sin_port = htons(40000),
				    .sin_addr.s_addr = htonl(PEER_A_IP) };
	struct sockaddr_in local;
	socklen_t local_len = sizeof local;
	(void)state;

	create_or_fail(config_with(NULL, 0), &sb);
	enter(sb.target_netns_fd, &saved);
	assert_int_equal(getifaddrs(&addrs), 0);
	for (struct ifaddrs *a = addrs; a; a = a->ifa_next) {
		if (!a->ifa_addr)
			continue;
		assert_int_not_equal(a->ifa_addr->sa_family, AF_INET6);
		if (a->ifa_addr->sa_family == AF_INET && strcmp(a->ifa_name, sb.target_ifname) == 0) {
			assert_int_equal(((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr,
					 htonl(TARGET_IP));
			assert_int_equal(((struct sockaddr_in *)a->ifa_netmask)->sin_addr.s_addr,
					 htonl(0xffffff00u));
			target_v4++;
		}
	}
	freeifaddrs(addrs);
	assert_int_equal(target_v4, 1);
	/* The on-link route: a peer is reached from the target's own address. */
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&peer, sizeof peer), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&local, &local_len), 0);
	assert_int_equal(local.sin_addr.s_addr, htonl(TARGET_IP));
	close(fd);
	leave(saved);

	enter(sb.harness_netns_fd, &saved);
	assert_int_equal(getifaddrs(&addrs), 0);
	for (struct ifaddrs *a = addrs; a; a = a->ifa_next)
		if (a->ifa_addr && strcmp(a->ifa_name, sb.harness_ifname) == 0)
			assert_int_equal(a->ifa_addr->sa_family, AF_PACKET);
	freeifaddrs(addrs);
	leave(saved);

	assert_int_equal(sandbox_sysctl_read(sb.target_netns_fd, "net.ipv6.conf.all.disable_ipv6",
					     value, sizeof value), 0);
	assert_string_equal(value, "1");
	assert_int_equal(sandbox_sysctl_read(sb.harness_netns_fd,
					     "net.ipv6.conf.default.disable_ipv6", value, sizeof value), 0);
	assert_string_equal(value, "1");
	sandbox_destroy(&sb);
}

struct neighbour {
	uint32_t ip; /* host order */
	int state;
	bool has_mac;
	uint8_t mac[ETH_ALEN];
};

struct neighbour_table {
	int ifindex;
	int count;
	struct neighbour entries[8];
};

static int on_neighbour_attr(const struct nlattr *attr, void *data)
{
	struct neighbour *n = data;

	switch (mnl_attr_get_type(attr)) {
	case NDA_DST:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, 4) < 0)
			return MNL_CB_ERROR;
		n->ip = ntohl(mnl_attr_get_u32(attr));
		break;
	case NDA_LLADDR:
		if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, ETH_ALEN) < 0)
			return MNL_CB_ERROR;
		memcpy(n->mac, mnl_attr_get_payload(attr), ETH_ALEN);
		n->has_mac = true;
		break;
	}
	return MNL_CB_OK;
}

static int on_neighbour(const struct nlmsghdr *nlh, void *data)
{
	struct neighbour_table *table = data;
	const struct ndmsg *ndm = mnl_nlmsg_get_payload(nlh);
	struct neighbour n = { 0 };

	if (nlh->nlmsg_type != RTM_NEWNEIGH || mnl_nlmsg_get_payload_len(nlh) < sizeof *ndm) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (ndm->ndm_family != AF_INET || ndm->ndm_ifindex != table->ifindex)
		return MNL_CB_OK;
	n.state = ndm->ndm_state;
	if (mnl_attr_parse(nlh, sizeof *ndm, on_neighbour_attr, &n) < 0)
		return MNL_CB_ERROR;
	if (table->count == (int)(sizeof table->entries / sizeof table->entries[0])) {
		errno = ENOSPC;
		return MNL_CB_ERROR;
	}
	table->entries[table->count++] = n;
	return MNL_CB_OK;
}

static void test_neighbours_are_permanent_with_harness_mac(void **state)
{
	struct sandbox sb;
	struct rtnl rtnl = { 0 };
	struct neighbour_table table = { 0 };
	char buf[RTNL_REQUEST_SIZE], *error = NULL;
	struct nlmsghdr *nlh;
	struct ndmsg *ndm;
	int saved;
	(void)state;

	create_or_fail(config_with(NULL, 0), &sb);
	enter(sb.target_netns_fd, &saved);
	assert_int_equal(rtnl_open(&rtnl, 0, &error), 0);
	leave(saved);
	table.ifindex = sb.target_ifindex;
	nlh = rtnl_request(&rtnl, buf, RTM_GETNEIGH, NLM_F_DUMP);
	ndm = mnl_nlmsg_put_extra_header(nlh, sizeof *ndm);
	ndm->ndm_family = AF_INET;
	if (rtnl_talk(&rtnl, nlh, on_neighbour, &table, "dump neighbours", &error) < 0)
		fail_msg("%s", error);
	rtnl_close(&rtnl);

	assert_int_equal(table.count, 2); /* the duplicate peer IP replaced, not added */
	for (int i = 0; i < table.count; i++) {
		struct neighbour *n = &table.entries[i];
		assert_true(n->ip == PEER_A_IP || n->ip == PEER_B_IP);
		assert_int_equal(n->state, NUD_PERMANENT);
		assert_true(n->has_mac);
		assert_memory_equal(n->mac, sb.harness_mac, ETH_ALEN);
	}
	sandbox_destroy(&sb);
}

static uint32_t ethtool_get(int fd, const char *ifname, uint32_t cmd)
{
	struct ethtool_value value = { .cmd = cmd };
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	ifr.ifr_data = (void *)&value;
	assert_int_equal(ioctl(fd, SIOCETHTOOL, &ifr), 0);
	return value.data;
}

static void test_target_offloads_are_off(void **state)
{
	struct sandbox sb;
	int saved, fd;
	(void)state;

	create_or_fail(config_with(NULL, 0), &sb);
	enter(sb.target_netns_fd, &saved);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	leave(saved);
	assert_true(fd >= 0);
	assert_int_equal(ethtool_get(fd, sb.target_ifname, ETHTOOL_GTXCSUM), 0);
	assert_int_equal(ethtool_get(fd, sb.target_ifname, ETHTOOL_GTSO), 0);
	assert_int_equal(ethtool_get(fd, sb.target_ifname, ETHTOOL_GGSO), 0);
	close(fd);
	sandbox_destroy(&sb);
}

static void read_host_sysctl(const char *path, char *value, size_t size)
{
	FILE *f = fopen(path, "re");

	assert_non_null(f);
	assert_non_null(fgets(value, (int)size, f));
	fclose(f);
	value[strcspn(value, "\n")] = '\0';
}

static void test_sysctl_is_set_in_target_only(void **state)
{
	struct sandbox sb;
	struct sysctl_setting setting = { .key = "net.ipv4.tcp_tw_reuse" };
	char host_before[16], host_after[16], inside[16], harness[16];
	(void)state;

	read_host_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", host_before, sizeof host_before);
	/* Whatever the host has, ask for something else so that a leak would show. */
	snprintf(setting.value, sizeof setting.value, "%s", strcmp(host_before, "1") ? "1" : "0");
	create_or_fail(config_with(&setting, 1), &sb);

	assert_int_equal(sandbox_sysctl_read(sb.target_netns_fd, setting.key, inside, sizeof inside), 0);
	assert_string_equal(inside, setting.value);
	assert_int_equal(sandbox_sysctl_read(sb.harness_netns_fd, setting.key, harness,
					     sizeof harness), 0);
	assert_string_equal(harness, "2"); /* the kernel's default in a fresh namespace */
	read_host_sysctl("/proc/sys/net/ipv4/tcp_tw_reuse", host_after, sizeof host_after);
	assert_string_equal(host_after, host_before);

	assert_int_equal(sandbox_sysctl_exists(sb.target_netns_fd, "net.ipv4.tcp_tw_reuse"), 1);
	assert_int_equal(sandbox_sysctl_exists(sb.target_netns_fd, "net.ipv4.tcp_tw_recycle"), 0);
	assert_int_equal(sandbox_sysctl_exists(sb.target_netns_fd, "kernel.hostname"), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(sandbox_sysctl_exists(sb.target_netns_fd, "net.ipv4/../../kernel"), -1);
	assert_int_equal(sandbox_sysctl_read(sb.target_netns_fd, "net.ipv4.tcp_tw_reuse", inside, 1),
			 -1);
	assert_int_equal(errno, ERANGE);
	sandbox_destroy(&sb);
}

/* A failed create must leave no fd (hence no namespace), no link, and the thread at home. */
static void assert_create_fails_cleanly(struct sandbox_config config, const char *message)
{
	struct sandbox sb;
	char *error = NULL;
	int fds = count_open_fds(), links = count_links_here();
	ino_t home = current_netns_inode();

	assert_int_equal(sandbox_create(&config, &sb, &error), -1);
	assert_non_null(error);
	assert_string_equal(error, message);
	free(error);
	assert_int_equal(sb.harness_netns_fd, -1);
	assert_int_equal(sb.target_netns_fd, -1);
	sandbox_destroy(&sb);
	assert_int_equal(count_open_fds(), fds);
	assert_int_equal(count_links_here(), links);
	assert_int_equal(current_netns_inode(), home);
}

static void test_bad_sysctl_is_reported_and_undone(void **state)
{
	struct sysctl_setting good = { .key = "net.ipv4.tcp_rfc1337", .value = "1" };
	struct sysctl_setting missing[] = { good, { .key = "net.ipv4.tcp_no_such_knob", .value = "1" } };
	struct sysctl_setting bad_value[] = { { .key = "net.ipv4.tcp_tw_reuse_delay", .value = "0" } };
	struct sysctl_setting outside[] = { { .key = "kernel.pid_max", .value = "1" } };
	struct sysctl_setting climbing[] = { { .key = "net.ipv4/../../kernel.x", .value = "1" } };
	(void)state;

	assert_create_fails_cleanly(config_with(missing, 2),
				    "sysctl net.ipv4.tcp_no_such_knob=1: No such file or directory");
	assert_create_fails_cleanly(config_with(bad_value, 1),
				    "sysctl net.ipv4.tcp_tw_reuse_delay=0: Invalid argument");
	assert_create_fails_cleanly(config_with(outside, 1),
				    "sysctl kernel.pid_max=1: only net.* keys without \"..\" or '/'");
	assert_create_fails_cleanly(config_with(climbing, 1),
				    "sysctl net.ipv4/../../kernel.x=1: only net.* keys without \"..\" or '/'");
}

static void test_off_link_peer_is_refused(void **state)
{
	struct ip_address far_peer = ip_address_from_ipv4(0xc6336401u); /* 198.51.100.1 */
	struct sandbox_config config = config_with(NULL, 0);
	(void)state;

	config.peers = &far_peer;
	config.peer_count = 1;
	assert_create_fails_cleanly(config, "peer 198.51.100.1: not a neighbour on the target's 192.0.2.1/24");
}

static void test_tcp_listens_on_target_ip(void **state)
{
	struct sandbox sb;
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(TARGET_PORT),
				    .sin_addr.s_addr = htonl(TARGET_IP) };
	int saved, listener, client, accepted;
	(void)state;

	create_or_fail(config_with(NULL, 0), &sb);
	enter(sb.target_netns_fd, &saved);
	listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	client = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	leave(saved);
	assert_true(listener >= 0 && client >= 0);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(listener, 4), 0);
	/* A local connection goes over the target's lo, proving lo is up there too. */
	assert_int_equal(connect(client, (struct sockaddr *)&addr, sizeof addr), 0);
	accepted = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	assert_true(accepted >= 0);
	close(accepted);
	close(client);
	close(listener);
	sandbox_destroy(&sb);
}

/* What an IPv6 target must be: its address on the target end and no link-local one, NOARP with a
 * permanent neighbour for each peer, MTU 1520 on both ends, the harness end without IPv6, TCP over
 * the address, and nothing at all on the wire while it idles (no router solicitation, no MLD report,
 * no DAD probe: those come within about a second of the link going up). */
static void test_ipv6_target_is_reachable_and_silent(void **state)
{
	struct sandbox sb;
	struct ifaddrs *addrs;
	int saved, target_v6 = 0;
	char value[16];
	struct ip_address target = family_address(FAMILY_IPV6, TARGET_IP);
	(void)state;

	create_or_fail(config_in(FAMILY_IPV6, NULL, 0), &sb);
	enter(sb.harness_netns_fd, &saved);
	int capture = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	leave(saved);
	assert_true(capture >= 0);
	struct sockaddr_ll bound = { .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				     .sll_ifindex = sb.harness_ifindex };
	assert_int_equal(bind(capture, (struct sockaddr *)&bound, sizeof bound), 0);

	enter(sb.target_netns_fd, &saved);
	assert_int_equal(getifaddrs(&addrs), 0);
	for (struct ifaddrs *a = addrs; a; a = a->ifa_next) {
		if (!a->ifa_addr || strcmp(a->ifa_name, sb.target_ifname) != 0)
			continue;
		assert_int_not_equal(a->ifa_addr->sa_family, AF_INET);
		if (a->ifa_addr->sa_family == AF_INET6) {
			assert_memory_equal(&((struct sockaddr_in6 *)a->ifa_addr)->sin6_addr, target.bytes, 16);
			target_v6++;
		}
	}
	freeifaddrs(addrs);
	assert_int_equal(target_v6, 1);
	assert_true(link_flags_here(sb.target_ifname) & IFF_NOARP);
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", sb.target_ifname);
	assert_int_equal(ioctl(fd, SIOCGIFMTU, &ifr), 0);
	assert_int_equal(ifr.ifr_mtu, 1520);
	close(fd);
	/* TCP to the address from inside: it is a usable local address, not a tentative one. */
	struct sockaddr_in6 addr = { .sin6_family = AF_INET6, .sin6_port = htons(TARGET_PORT) };
	memcpy(&addr.sin6_addr, target.bytes, 16);
	int listener = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int client = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	leave(saved);
	assert_int_equal(bind(listener, (struct sockaddr *)&addr, sizeof addr), 0);
	assert_int_equal(listen(listener, 1), 0);
	assert_int_equal(connect(client, (struct sockaddr *)&addr, sizeof addr), 0);
	close(client);
	close(listener);

	assert_int_equal(sandbox_sysctl_read(sb.harness_netns_fd, "net.ipv6.conf.default.disable_ipv6", value,
					     sizeof value), 0);
	assert_string_equal(value, "1");
	assert_int_equal(sandbox_sysctl_read(sb.target_netns_fd, "net.ipv6.conf.default.addr_gen_mode", value,
					     sizeof value), 0);
	assert_string_equal(value, "1");

	struct pollfd quiet = { .fd = capture, .events = POLLIN };
	int ready = poll(&quiet, 1, 1500);
	if (ready != 0) {
		uint8_t frame[256];
		ssize_t n = recv(capture, frame, sizeof frame, 0);
		fail_msg("a frame on the idle IPv6 link: %zd bytes, EtherType %02x%02x", n, n > 13 ? frame[12] : 0,
			 n > 13 ? frame[13] : 0);
	}
	close(capture);
	sandbox_destroy(&sb);
}

static void test_two_sandboxes_coexist(void **state)
{
	struct sandbox a, b;
	struct stat a_target, b_target;
	int saved;
	(void)state;

	create_or_fail(config_with(NULL, 0), &a);
	create_or_fail(config_with(NULL, 0), &b);
	assert_string_not_equal(a.harness_ifname, b.harness_ifname);
	assert_string_not_equal(a.target_ifname, b.target_ifname);
	assert_int_equal(fstat(a.target_netns_fd, &a_target), 0);
	assert_int_equal(fstat(b.target_netns_fd, &b_target), 0);
	assert_int_not_equal(a_target.st_ino, b_target.st_ino);

	enter(a.target_netns_fd, &saved);
	assert_int_equal(if_nametoindex(a.target_ifname), a.target_ifindex);
	assert_int_equal(if_nametoindex(b.target_ifname), 0);
	leave(saved);
	enter(b.target_netns_fd, &saved);
	assert_int_equal(if_nametoindex(b.target_ifname), b.target_ifindex);
	assert_int_equal(if_nametoindex(a.target_ifname), 0);
	leave(saved);
	sandbox_destroy(&a);
	sandbox_destroy(&b);
}

static void test_destroy_is_safe_on_zeroed_and_destroyed(void **state)
{
	struct sandbox zeroed = { 0 }, sb;
	int fds = count_open_fds();
	(void)state;

	sandbox_destroy(&zeroed);
	assert_true(fcntl(0, F_GETFD) >= 0 || errno == EBADF); /* stdin left alone */
	create_or_fail(config_with(NULL, 0), &sb);
	assert_int_equal(count_open_fds(), fds + 2);
	sandbox_destroy(&sb);
	sandbox_destroy(&sb);
	assert_int_equal(count_open_fds(), fds);
}

static int link_mtu_here(const char *ifname)
{
	struct ifreq ifr = { 0 };
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	assert_int_equal(ioctl(fd, SIOCGIFMTU, &ifr), 0);
	close(fd);
	return ifr.ifr_mtu;
}

static void create_on_or_fail(struct sandbox_link *link, struct sandbox_config config, struct sandbox *sb)
{
	char *error = NULL;

	if (sandbox_create_on(link, &config, sb, &error) < 0)
		fail_msg("sandbox_create_on: %s", error ? error : "(no message)");
	assert_null(error);
}

/* One link, three cases: each gets a fresh target namespace (a sysctl the first wrote is gone), its
 * target end as sandbox_create makes one (up, running, the family's MTU and NOARP, a MAC of its own),
 * its harness end up and running in the link's namespace, the bridge on the case's MTU, and the
 * bridge's address for the target's neighbours; two cases at once on one link each keep their own. */
static void test_cases_on_a_link_are_sandboxes_of_their_own(void **state)
{
	static const struct sysctl_setting rfc1337 = { .key = "net.ipv4.tcp_rfc1337", .value = "1" };
	static const enum address_family families[] = { FAMILY_IPV4, FAMILY_IPV6, FAMILY_IPV4 };
	struct sandbox_link link;
	char *error = NULL, value[16];
	uint8_t previous_mac[ETH_ALEN] = { 0 };
	ino_t previous_ns = 0;
	int saved;
	(void)state;

	if (sandbox_link_open(&link, &error) < 0)
		fail_msg("sandbox_link_open: %s", error ? error : "(no message)");
	for (int i = 0; i < 3; i++) {
		struct sandbox sb, beside;
		struct stat target_ns;
		bool ipv4 = families[i] == FAMILY_IPV4;
		create_on_or_fail(&link, config_in(families[i], i == 0 ? &rfc1337 : NULL, i == 0), &sb);
		assert_ptr_equal(sb.link, &link);
		assert_int_equal(sb.harness_netns_fd, link.harness_netns_fd);
		assert_memory_equal(sb.harness_mac, link.bridge_mac, ETH_ALEN);
		assert_memory_not_equal(sb.target_mac, previous_mac, ETH_ALEN);
		memcpy(previous_mac, sb.target_mac, ETH_ALEN);
		assert_int_equal(fstat(sb.target_netns_fd, &target_ns), 0);
		assert_int_not_equal(target_ns.st_ino, previous_ns);
		previous_ns = target_ns.st_ino;
		assert_int_equal(sandbox_sysctl_read(sb.target_netns_fd, "net.ipv4.tcp_rfc1337", value, sizeof value), 0);
		assert_string_equal(value, i == 0 ? "1" : "0");

		enter(sb.harness_netns_fd, &saved);
		assert_int_equal(if_nametoindex(sb.harness_ifname), sb.harness_ifindex);
		assert_int_equal(if_nametoindex(sb.target_ifname), 0);
		assert_true(link_flags_here(sb.harness_ifname) & IFF_RUNNING);
		assert_true(link_flags_here(link.bridge_ifname) & IFF_RUNNING);
		assert_int_equal(link_mtu_here(sb.harness_ifname), ipv4 ? 1500 : 1520);
		assert_int_equal(link_mtu_here(link.bridge_ifname), ipv4 ? 1500 : 1520);
		leave(saved);
		enter(sb.target_netns_fd, &saved);
		assert_end_here(sb.target_ifname, sb.target_ifindex, sb.target_mac, sb.harness_ifname);
		assert_int_equal(link_mtu_here(sb.target_ifname), ipv4 ? 1500 : 1520);
		assert_int_equal(!!(link_flags_here(sb.target_ifname) & IFF_NOARP), !ipv4);
		leave(saved);

		create_on_or_fail(&link, config_in(families[i], NULL, 0), &beside);
		assert_string_not_equal(beside.harness_ifname, sb.harness_ifname);
		assert_memory_not_equal(beside.target_mac, sb.target_mac, ETH_ALEN);
		enter(beside.target_netns_fd, &saved);
		assert_end_here(beside.target_ifname, beside.target_ifindex, beside.target_mac, sb.harness_ifname);
		leave(saved);
		sandbox_destroy(&beside);
		sandbox_destroy(&sb);
		assert_null(sb.link);
	}
	sandbox_link_close(&link);
	sandbox_link_close(&link);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_each_end_lives_in_its_own_namespace),
		cmocka_unit_test(test_target_has_address_and_route_harness_has_none),
		cmocka_unit_test(test_neighbours_are_permanent_with_harness_mac),
		cmocka_unit_test(test_target_offloads_are_off),
		cmocka_unit_test(test_sysctl_is_set_in_target_only),
		cmocka_unit_test(test_bad_sysctl_is_reported_and_undone),
		cmocka_unit_test(test_off_link_peer_is_refused),
		cmocka_unit_test(test_tcp_listens_on_target_ip),
		cmocka_unit_test(test_ipv6_target_is_reachable_and_silent),
		cmocka_unit_test(test_two_sandboxes_coexist),
		cmocka_unit_test(test_destroy_is_safe_on_zeroed_and_destroyed),
		cmocka_unit_test(test_cases_on_a_link_are_sandboxes_of_their_own),
	};

	if (geteuid() != 0) {
		fprintf(stderr, "test_sandbox: needs root (network namespaces); skipped\n");
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
