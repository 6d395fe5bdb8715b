/* link_proxy.h - what arp_proxy and nd_proxy share: a capture on a link inside the harness namespace,
 * a thread handing each captured frame to the address family, and the announce and probe rounds. */
#ifndef TCPHARNESS_LINK_PROXY_H
#define TCPHARNESS_LINK_PROXY_H

#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arp_proxy.h"
#include "case.h"
#include "ip_address.h"

struct link_proxy;

/* An address family's part of a proxy. Every callback runs with the proxy's lock held. */
struct link_proxy_family {
	const char *name;   /* "arp", "nd": the start of every error */
	const char *filter; /* the capture's pcap filter: the frames on_frame looks at */
	/* Opens what the family sends through besides the capture, on ifname inside the harness
	 * namespace; NULL when it sends through the capture. 0, or -1 with *error malloc'd. */
	int (*open)(struct link_proxy *link, const char *ifname, char **error);
	/* One captured frame, length bytes of it. */
	void (*on_frame)(struct link_proxy *link, const uint8_t *frame, size_t length);
	/* Asks the target for its MAC once from each current peer. 0, or -1 with *error malloc'd. */
	int (*solicit)(struct link_proxy *link, char **error);
	/* One probe asking who holds ip. 0, or -1 with *error malloc'd. */
	int (*probe)(struct link_proxy *link, const struct ip_address *ip, char **error);
};

/* An address being probed, and who (if anyone) answered for it. */
struct probed_address {
	struct ip_address ip;
	bool held;
	uint8_t mac[6];
};

/* The first member of each family's proxy, so that the family's callbacks cast link back to it. */
struct link_proxy {
	const struct link_proxy_family *family;
	pcap_t *capture;
	uint8_t mac[6];
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* everything below, the family's own state, and sending */
	pthread_cond_t answered;
	bool stop;
	struct ip_address peers[CASE_MAX_PEERS];
	int peer_count;
	bool target_known; /* since the last link_proxy_announce began */
	uint8_t target_mac[6];
	struct probed_address probed[ARP_PROBE_MAX]; /* while link_proxy_probe runs */
	int probed_count;
};

/* Fills link (zeroed by the caller) and starts its thread on ifname inside netns_fd's namespace,
 * answering for peers[0..count) (at most CASE_MAX_PEERS). 0, or -1 with *error malloc'd; either way
 * link_proxy_stop undoes what was done. */
int link_proxy_start(struct link_proxy *link, const struct link_proxy_family *family, int netns_fd, const char *ifname,
		     const uint8_t mac[6], const struct ip_address *peers, int count, char **error);

/* The addresses answered for from now on (at most CASE_MAX_PEERS). */
void link_proxy_set_peers(struct link_proxy *link, const struct ip_address *peers, int count);
/* Whether address is a current peer's; the lock held. */
bool link_proxy_is_peer(const struct link_proxy *link, const struct ip_address *address);

/* Calls the family's solicit every ANNOUNCE_RETRY_MS until on_frame reports the target's MAC
 * (link_proxy_answered) or timeout_ms have passed. 0 with target_mac filled, 1 when the target did
 * not answer (*error untouched: the family says what it asked), or -1 with *error malloc'd. */
int link_proxy_announce(struct link_proxy *link, uint8_t target_mac[6], int timeout_ms, char **error);
/* The target answered from target_mac; the lock held. */
void link_proxy_answered(struct link_proxy *link, const uint8_t target_mac[6]);

/* Calls the family's probe for each of ips[0..count) in ARP_PROBE_ROUNDS rounds ARP_PROBE_INTERVAL_MS
 * apart, then listens ARP_PROBE_LISTEN_MS. Returns how many addresses are held by someone, each in
 * conflicts[] (room for count), or -1 with *error malloc'd. */
int link_proxy_probe(struct link_proxy *link, const struct ip_address *ips, int count,
		     struct address_conflict *conflicts, char **error);
/* A frame from sender_mac claims the address claimed: while a probe runs, a probed address that
 * another MAC claims is held by it. The lock held. */
void link_proxy_note_claim(struct link_proxy *link, const uint8_t sender_mac[6], const struct ip_address *claimed);

/* Stops the thread, closes the capture and destroys the lock; frees nothing. */
void link_proxy_stop(struct link_proxy *link);

#endif
