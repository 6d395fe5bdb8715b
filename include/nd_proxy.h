/* nd_proxy.h - the peers' link-layer presence for IPv6 (RFC 4861 neighbour discovery) on a link whose
 * stack resolves its neighbours itself (gVisor, lwIP, a lab host): what arp_proxy.h does for IPv4. */
#ifndef TCPHARNESS_ND_PROXY_H
#define TCPHARNESS_ND_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "arp_proxy.h"
#include "ip_address.h"

struct nd_proxy;

/* Starts a thread that, on ifname inside netns_fd's namespace, answers with mac every neighbour
 * solicitation that target sends for one of peers[0..count) (at most CASE_MAX_PEERS), and nothing
 * else. Returns the proxy, or NULL with *error malloc'd. */
struct nd_proxy *nd_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], const struct ip_address *target,
				const struct ip_address *peers, int count, char **error);

/* The addresses answered for from now on (at most CASE_MAX_PEERS): a lab host's proxy serves a case
 * at a time. */
void nd_proxy_set_peers(struct nd_proxy *proxy, const struct ip_address *peers, int count);

/* Solicits the target's MAC from each peer address with the peer's link-layer address in the
 * solicitation, so the target records each peer (RFC 4861 7.2.3, STALE) and its first segment needs
 * no resolution of its own. Waits up to timeout_ms for the advertisement; 0 with target_mac filled,
 * or -1 with *error malloc'd. */
int nd_proxy_announce(struct nd_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error);

/* Duplicate address detection on the harness's behalf (RFC 4862 5.4): neighbour solicitations for
 * each of ips[0..count) from the unspecified address, without a link-layer option, to the address's
 * solicited-node group, so no host records anything; ARP_PROBE_ROUNDS rounds as arp_proxy_probe. A
 * conflict is an advertisement for a probed address from another MAC, a frame from another MAC whose
 * source is a probed address, or another host's own probe for it (5.4.3). Returns how many addresses
 * are held, each in conflicts[] (room for count), or -1 with *error malloc'd. */
int nd_proxy_probe(struct nd_proxy *proxy, const struct ip_address *ips, int count,
		   struct address_conflict *conflicts, char **error);

/* The frames nd_proxy_announce sends for peer, and nd_proxy_probe for ip, built but not sent (a dry
 * run prints them). Each returns its length in frame[size], or -1 with *error malloc'd. */
int nd_proxy_announce_frame(struct nd_proxy *proxy, const struct ip_address *peer, uint8_t *frame, size_t size,
			    char **error);
int nd_proxy_probe_frame(struct nd_proxy *proxy, const struct ip_address *ip, uint8_t *frame, size_t size,
			 char **error);

/* Stops the thread and closes the capture. NULL is fine. */
void nd_proxy_stop(struct nd_proxy *proxy);

#endif
