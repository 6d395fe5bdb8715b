/* sandbox.h - the per-case test bed: two fresh network namespaces joined by a veth pair, built over
 * rtnetlink. The harness end has no address; the target end has the stack under test's address. */
#ifndef TCPHARNESS_SANDBOX_H
#define TCPHARNESS_SANDBOX_H

#include <net/if.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"
#include "ip_address.h"

/* Interface names: SANDBOX_IFNAME_PREFIX, the owner PID, a per-process counter, and h/t for the end. */
#define SANDBOX_IFNAME_PREFIX "th"

/* An IPv6 link's MTU: 20 bytes above Ethernet's, so that the stack's MSS is 1460 in both families
 * (1520 - 40 - 20), as the kernel's own packetdrill runs give IPv6 (selftests/net/packetdrill). The
 * lwip target's TAP gets it too. */
#define SANDBOX_IPV6_LINK_MTU 1520

struct sandbox_config {
	struct ip_address target;   /* the target end gets target/24 (IPv4) or target/64 (IPv6) */
	const struct ip_address *peers; /* a permanent neighbour entry (-> harness MAC) for each */
	int peer_count;
	const struct sysctl_setting *sysctls; /* written inside the target namespace only, in order */
	int sysctl_count;
};

struct sandbox {
	int harness_netns_fd;       /* namespace of the injecting/capturing end */
	int target_netns_fd;        /* namespace of the stack under test */
	char harness_ifname[IF_NAMESIZE];
	char target_ifname[IF_NAMESIZE];
	int harness_ifindex, target_ifindex;
	uint8_t harness_mac[6], target_mac[6];
};

/* Builds the sandbox: both namespaces anonymous (held only by the fds, so they vanish with this
 * process even after SIGKILL), IPv6 off in both (for an IPv6 target: on in the target namespace but
 * silent: no link-local address, DAD, router solicitation or MLD report, the target end NOARP, the link's
 * MTU 1520 so that the MSS is 1460 as over IPv4) and the
 * sysctls written before any link exists, lo up in both, veth up, TX checksum/TSO/GSO offload off on
 * the target end, address + on-link route, neighbours; returns once the harness end can transmit.
 * Every peer must lie in the target's on-link prefix, in its family.
 * The calling thread ends in the namespace it started in. Returns 0, or -1 with *error a malloc'd
 * message (e.g. "sysctl net.ipv4.tcp_foo=1: No such file or directory") after undoing everything it
 * had made; out's fds are then -1. */
int sandbox_create(const struct sandbox_config *config, struct sandbox *out, char **error);

/* Removes what sandbox_create made (closing the namespace fds destroys them). Safe on a zeroed or
 * already destroyed sandbox. */
void sandbox_destroy(struct sandbox *sandbox);

/* 1 when /proc/sys/<key as path> exists inside netns_fd's namespace, 0 when it does not, -1 on error. */
int sandbox_sysctl_exists(int netns_fd, const char *key);

/* Reads a sysctl inside netns_fd's namespace into value (trailing newline stripped). 0 or -1/errno. */
int sandbox_sysctl_read(int netns_fd, const char *key, char *value, size_t size);

#endif
