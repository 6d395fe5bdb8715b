/* arp_proxy.h - the peers' link-layer presence on a link the harness does not own (lab host, VM,
 * gVisor, lwIP): probes that no one else holds the peer addresses (RFC 5227), answers the target's
 * ARP requests for them and learns the target's MAC. */
#ifndef TCPHARNESS_ARP_PROXY_H
#define TCPHARNESS_ARP_PROXY_H

#include <stddef.h>
#include <stdint.h>

#include "ip_address.h"

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

/* Most addresses one arp_proxy_probe (or nd_proxy_probe) call asks about. */
#define ARP_PROBE_MAX 64

/* RFC 5227 section 1.1 spaces a host's three probes 1-2 s apart (PROBE_MIN, PROBE_MAX) and listens
 * ANNOUNCE_WAIT (2 s) after the last, to ride out a host's momentary silence. The harness asks on a
 * link the user calls a lab network, before the run and again during long ones, so it keeps the
 * three rounds and the listening but shortens the spacing: about a second in all. IPv6's probes
 * (nd_proxy_probe) keep the same rounds. */
#define ARP_PROBE_ROUNDS 3
#define ARP_PROBE_INTERVAL_MS 250
#define ARP_PROBE_LISTEN_MS 500

/* An address someone else answered for: the MAC that claimed it. */
struct address_conflict {
	struct ip_address ip;
	uint8_t mac[6];
};

/* RFC 5227 section 2.1.1 address probes: ARP requests for each of ips[0..count) from sender address
 * 0.0.0.0 (so no host records anything), ARP_PROBE_ROUNDS rounds ARP_PROBE_INTERVAL_MS apart, then
 * ARP_PROBE_LISTEN_MS of listening. A conflict is an ARP frame from another MAC whose sender address
 * is a probed one, or another host's probe for it (section 2.1.1, last paragraph). Returns how many
 * addresses are held by someone, each in conflicts[] (room for count), or -1 with *error malloc'd.
 * Probing the target's own address is how a dry run learns its MAC without claiming anything. */
int arp_proxy_probe(struct arp_proxy *proxy, const uint32_t *ips, int count, struct address_conflict *conflicts,
		    char **error);

/* The frame arp_proxy_announce sends for peer_ip, built but not sent (a dry run prints it). Returns
 * its length in frame[size], or -1 with *error malloc'd. */
int arp_proxy_announce_frame(struct arp_proxy *proxy, uint32_t peer_ip, uint8_t *frame, size_t size,
			     char **error);
/* The probe frame for ip (see arp_proxy_probe), built but not sent. As above. */
int arp_proxy_probe_frame(struct arp_proxy *proxy, uint32_t ip, uint8_t *frame, size_t size, char **error);

/* Stops the thread and closes the link's sockets. NULL is fine. */
void arp_proxy_stop(struct arp_proxy *proxy);

#endif
