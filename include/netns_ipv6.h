/* netns_ipv6.h - the sysctls that keep a fresh network namespace from speaking IPv6 on its own (DAD,
 * router solicitations, MLD), written before any link exists: shared by the sandbox and the agent. */
#ifndef TCPHARNESS_NETNS_IPV6_H
#define TCPHARNESS_NETNS_IPV6_H

#include <stdbool.h>

/* An IPv6 link's MTU: 20 bytes above Ethernet's, so that the stack's MSS is 1460 in both families
 * (1520 - 40 - 20), as the kernel's own packetdrill runs give IPv6 (selftests/net/packetdrill). */
#define NETNS_IPV6_LINK_MTU 1520

/* In the calling thread's namespace: IPv6 off (ipv6 false), or on without a link-local address
 * (addr_gen_mode 1: no DAD, hence no router solicitation from addrconf_dad_completed), without DAD or
 * router solicitations, and without RAs taken. The solicited-node group, the one MLD would report,
 * is never joined on a NOARP link (addrconf_join_solict), so an IPv6 link must be NOARP and give
 * every peer a permanent neighbour entry. A kernel without IPv6 (ENOENT) is already quiet.
 * Returns 0, or -1 with errno and *failed set to the key that could not be written. */
int netns_ipv6_quiet(bool ipv6, const char **failed);

#endif
