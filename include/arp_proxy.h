/* arp_proxy.h - the peers' link-layer presence on a link the harness does not own (lab host, VM,
 * gVisor, lwIP): answers the target's ARP requests for peer addresses and learns the target's MAC. */
#ifndef TCPHARNESS_ARP_PROXY_H
#define TCPHARNESS_ARP_PROXY_H

#include <stdint.h>

struct arp_proxy;

/* Starts a thread that, on ifname inside netns_fd's namespace, answers with mac every ARP request
 * that target_ip sends for one of the current peers (arp_proxy_set_peers), and nothing else: the
 * proxy never speaks to another host. Returns the proxy, or NULL with *error malloc'd. */
struct arp_proxy *arp_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], uint32_t target_ip,
				  char **error);

/* The addresses answered for from now on (host order; at most 16). */
void arp_proxy_set_peers(struct arp_proxy *proxy, const uint32_t *peer_ips, int count);

/* Asks the target for its MAC from each current peer address. A Linux target that receives a
 * request addressed to it records the sender (arp_process -> neigh_event_ns), so its first segment
 * to a peer needs no resolution of its own. Waits up to timeout_ms for the answer; 0 with
 * target_mac filled, or -1 with *error malloc'd. */
int arp_proxy_announce(struct arp_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error);

/* Stops the thread and closes the link's sockets. NULL is fine. */
void arp_proxy_stop(struct arp_proxy *proxy);

#endif
