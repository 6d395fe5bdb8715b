/* nd_proxy.h - the peers' link-layer presence for IPv6 (RFC 4861 neighbour discovery) on a link whose
 * stack resolves its neighbours itself (gVisor, lwIP): what arp_proxy.h does for IPv4. */
#ifndef TCPHARNESS_ND_PROXY_H
#define TCPHARNESS_ND_PROXY_H

#include <stdint.h>

#include "ip_address.h"

struct nd_proxy;

/* Starts a thread that, on ifname inside netns_fd's namespace, answers with mac every neighbour
 * solicitation that target sends for one of peers[0..count) (at most CASE_MAX_PEERS), and nothing
 * else. Returns the proxy, or NULL with *error malloc'd. */
struct nd_proxy *nd_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], const struct ip_address *target,
				const struct ip_address *peers, int count, char **error);

/* Solicits the target's MAC from each peer address with the peer's link-layer address in the
 * solicitation, so the target records each peer (RFC 4861 7.2.3, STALE) and its first segment needs
 * no resolution of its own. Waits up to timeout_ms for the advertisement; 0 with target_mac filled,
 * or -1 with *error malloc'd. */
int nd_proxy_announce(struct nd_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error);

/* Stops the thread and closes the capture. NULL is fine. */
void nd_proxy_stop(struct nd_proxy *proxy);

#endif
