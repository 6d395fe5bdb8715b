/* agent_netns.h - a fresh network namespace per case for an agent that drives a whole host (a VM's
 * guest, a lab host): the test interface moves into it and back out, so no case inherits a socket.
 *
 * Why: cleaning up with sock_diag SOCK_DESTROY works only on some kernels (4.9's tcp_abort refuses
 * TIME_WAIT and skips orphans). A namespace takes every socket with it: TIME_WAIT entries are purged
 * when it dies, and an orphan that keeps it alive is left without the interface, so it can never
 * reach the wire again. Per-namespace sysctls start at the kernel's defaults in every case; keys that
 * live only in the host's first namespace (many tcp_* before 5.x) are read and written there.
 * The state is per process (the agent is single-threaded). */
#ifndef TCPHARNESS_AGENT_NETNS_H
#define TCPHARNESS_AGENT_NETNS_H

#include <stdbool.h>
#include <stdint.h>

#include "ip_address.h"

/* Records ifname's IPv4 address, prefix, global IPv6 addresses and ARP flag in the calling thread's
 * namespace (the home). Returns 0, or -1 with *error malloc'd (no such interface, no address). */
int agent_netns_setup(const char *ifname, char **error);

/* True after a successful agent_netns_setup. */
bool agent_netns_enabled(void);

/* Ends the current case namespace (its interface back home) and enters a new one: lo up, the
 * interface moved in with its address and ARP flag, up. IPv6 is off in it, or with ipv6 on and quiet
 * (netns_ipv6_quiet), and either the interface's own IPv6 addresses from home (a lab host: it resolves
 * its neighbours) or, when it had none, NOARP and the IPv6 address family_address maps the IPv4 one
 * to (a VM's guest: peers pinned), in use when this returns. Returns 0, or -1 with *error malloc'd. */
int agent_netns_fresh(bool ipv6, char **error);

/* A permanent neighbour entry for ip at mac on the interface, in the case namespace only (an IPv6
 * case's NOARP link asks for none). Returns 0, or -1 with errno and *error malloc'd. */
int agent_netns_neighbour(const struct ip_address *ip, const uint8_t mac[6], char **error);

/* Back home, the interface as setup found it. Returns 0, or -1 with *error malloc'd. */
int agent_netns_home(char **error);

/* open(2) of a net.* sysctl's file (O_CLOEXEC added): in the current namespace, or, when the key
 * exists only in the home namespace (a global sysctl on older kernels), there. An fd, or -1 with errno. */
int agent_netns_sysctl_open(const char *key, int flags);

#endif
