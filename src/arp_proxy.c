/* arp_proxy.c - see arp_proxy.h. libnet builds the ARP frames, libpcap sees everyone's. */
#include "arp_proxy.h"

#include <libnet.h>
#include <pcap/pcap.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "error_text.h"
#include "link_proxy.h"

#define ETHER_HEADER 14
#define ARP_BODY 28

struct arp_proxy {
	struct link_proxy link; /* first, so that the family's callbacks cast it back */
	libnet_t *net;          /* under link.lock: the thread answers while callers announce */
	uint32_t target_ip;
};

static struct arp_proxy *arp_of(struct link_proxy *link)
{
	return (struct arp_proxy *)link;
}

static uint32_t ip_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Builds one ARP frame from mac into the proxy's libnet blocks; the caller holds the lock. */
static int build_arp(struct arp_proxy *proxy, uint16_t op, const uint8_t eth_dst[6], uint32_t sender_ip,
		     const uint8_t target_hw[6], uint32_t target_ip)
{
	uint8_t spa[4], tpa[4];
	uint32_t s = htonl(sender_ip), t = htonl(target_ip);
	memcpy(spa, &s, 4);
	memcpy(tpa, &t, 4);
	libnet_clear_packet(proxy->net);
	if (libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, op, proxy->link.mac, spa, (uint8_t *)target_hw, tpa,
			     NULL, 0, proxy->net, 0) == -1 ||
	    libnet_build_ethernet(eth_dst, proxy->link.mac, ETHERTYPE_ARP, NULL, 0, proxy->net, 0) == -1)
		return -1;
	return 0;
}

static int send_arp(struct arp_proxy *proxy, uint16_t op, const uint8_t eth_dst[6], uint32_t sender_ip,
		    const uint8_t target_hw[6], uint32_t target_ip)
{
	if (build_arp(proxy, op, eth_dst, sender_ip, target_hw, target_ip) < 0 || libnet_write(proxy->net) == -1)
		return -1;
	return 0;
}

/* The frame send_arp would send, copied into frame[size] instead. Its length, or -1 with *error. */
static int copy_arp(struct arp_proxy *proxy, uint16_t op, const uint8_t eth_dst[6], uint32_t sender_ip,
		    const uint8_t target_hw[6], uint32_t target_ip, uint8_t *frame, size_t size, char **error)
{
	uint8_t *built;
	uint32_t len;
	pthread_mutex_lock(&proxy->link.lock);
	int rc = build_arp(proxy, op, eth_dst, sender_ip, target_hw, target_ip) < 0 ||
				 libnet_adv_cull_packet(proxy->net, &built, &len) == -1
			 ? error_set(error, "arp: libnet: %s", libnet_geterror(proxy->net))
			 : 0;
	if (rc == 0) {
		rc = len <= size ? (int)len : error_set(error, "arp: a frame of %u bytes does not fit", len);
		if (rc > 0)
			memcpy(frame, built, len);
		libnet_adv_free_packet(proxy->net, built);
	}
	pthread_mutex_unlock(&proxy->link.lock);
	return rc;
}

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, unknown_mac[6] = { 0 };

/* RFC 5227 section 2.1.1: a frame from another host whose sender address is a probed one, or whose
 * sender address is 0 and target a probed one (that host is probing for it too). */
static void note_conflict(struct link_proxy *link, uint16_t op, const uint8_t sender_mac[6], uint32_t sender_ip,
			  uint32_t asked_ip)
{
	struct ip_address sender = ip_address_from_ipv4(sender_ip), asked = ip_address_from_ipv4(asked_ip);
	link_proxy_note_claim(link, sender_mac, &sender);
	if (op == ARPOP_REQUEST && sender_ip == 0)
		link_proxy_note_claim(link, sender_mac, &asked);
}

static void on_frame(struct link_proxy *link, const uint8_t *frame, size_t length)
{
	struct arp_proxy *proxy = arp_of(link);
	if (length < ETHER_HEADER + ARP_BODY)
		return;
	const uint8_t *arp = frame + ETHER_HEADER;
	/* Ethernet/IPv4 ARP only: hardware 1, protocol 0x0800, lengths 6 and 4. */
	if (arp[0] != 0 || arp[1] != 1 || arp[2] != 0x08 || arp[3] != 0 || arp[4] != 6 || arp[5] != 4)
		return;
	uint16_t op = (uint16_t)(arp[6] << 8 | arp[7]);
	const uint8_t *sender_mac = arp + 8;
	uint32_t sender_ip = ip_at(arp + 14), asked_ip = ip_at(arp + 24);
	note_conflict(link, op, sender_mac, sender_ip, asked_ip);
	if (sender_ip != proxy->target_ip)
		return;
	struct ip_address asked = ip_address_from_ipv4(asked_ip);
	if (op == ARPOP_REQUEST && link_proxy_is_peer(link, &asked))
		send_arp(proxy, ARPOP_REPLY, sender_mac, asked_ip, sender_mac, sender_ip);
	else if (op == ARPOP_REPLY)
		link_proxy_answered(link, sender_mac);
}

static int open_libnet(struct link_proxy *link, const char *ifname, char **error)
{
	char errbuf[LIBNET_ERRBUF_SIZE] = "";
	arp_of(link)->net = libnet_init(LIBNET_LINK_ADV, ifname, errbuf);
	return arp_of(link)->net ? 0 : error_set(error, "arp: libnet_init on %s: %s", ifname, errbuf);
}

static int solicit(struct link_proxy *link, char **error)
{
	struct arp_proxy *proxy = arp_of(link);
	for (int i = 0; i < link->peer_count; i++)
		if (send_arp(proxy, ARPOP_REQUEST, broadcast, ip_address_ipv4(&link->peers[i]), unknown_mac,
			     proxy->target_ip) < 0)
			return error_set(error, "arp: libnet: %s", libnet_geterror(proxy->net));
	return 0;
}

static int probe(struct link_proxy *link, const struct ip_address *ip, char **error)
{
	struct arp_proxy *proxy = arp_of(link);
	if (send_arp(proxy, ARPOP_REQUEST, broadcast, 0, unknown_mac, ip_address_ipv4(ip)) < 0)
		return error_set(error, "arp: libnet: %s", libnet_geterror(proxy->net));
	return 0;
}

static const struct link_proxy_family arp_family = {
	.name = "arp", .filter = "arp",
	.open = open_libnet,
	.on_frame = on_frame,
	.solicit = solicit,
	.probe = probe,
};

struct arp_proxy *arp_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], uint32_t target_ip,
				  char **error)
{
	struct arp_proxy *proxy = calloc(1, sizeof *proxy);
	if (!proxy) {
		error_set(error, "out of memory");
		return NULL;
	}
	proxy->target_ip = target_ip;
	if (link_proxy_start(&proxy->link, &arp_family, netns_fd, ifname, mac, NULL, 0, error) < 0) {
		arp_proxy_stop(proxy);
		return NULL;
	}
	return proxy;
}

void arp_proxy_set_peers(struct arp_proxy *proxy, const uint32_t *peer_ips, int count)
{
	struct ip_address peers[CASE_MAX_PEERS];
	int n = 0;
	for (; n < count && n < CASE_MAX_PEERS; n++)
		peers[n] = ip_address_from_ipv4(peer_ips[n]);
	link_proxy_set_peers(&proxy->link, peers, n);
}

int arp_proxy_announce(struct arp_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error)
{
	int rc = link_proxy_announce(&proxy->link, target_mac, timeout_ms, error);
	if (rc > 0)
		rc = error_set(error, "arp: the target %u.%u.%u.%u did not answer within %d ms (is it on this "
				      "link, with the peers' subnet on-link?)",
			       proxy->target_ip >> 24, (proxy->target_ip >> 16) & 0xff, (proxy->target_ip >> 8) & 0xff,
			       proxy->target_ip & 0xff, timeout_ms);
	return rc;
}

int arp_proxy_probe(struct arp_proxy *proxy, const uint32_t *ips, int count, struct address_conflict *conflicts,
		    char **error)
{
	if (count > ARP_PROBE_MAX)
		return error_set(error, "arp: %d addresses to probe, at most %d", count, ARP_PROBE_MAX);
	struct ip_address probed[ARP_PROBE_MAX];
	for (int i = 0; i < count; i++)
		probed[i] = ip_address_from_ipv4(ips[i]);
	return link_proxy_probe(&proxy->link, probed, count, conflicts, error);
}

int arp_proxy_announce_frame(struct arp_proxy *proxy, uint32_t peer_ip, uint8_t *frame, size_t size,
			     char **error)
{
	return copy_arp(proxy, ARPOP_REQUEST, broadcast, peer_ip, unknown_mac, proxy->target_ip, frame, size, error);
}

int arp_proxy_probe_frame(struct arp_proxy *proxy, uint32_t ip, uint8_t *frame, size_t size, char **error)
{
	return copy_arp(proxy, ARPOP_REQUEST, broadcast, 0, unknown_mac, ip, frame, size, error);
}

void arp_proxy_stop(struct arp_proxy *proxy)
{
	if (!proxy)
		return;
	link_proxy_stop(&proxy->link);
	if (proxy->net)
		libnet_destroy(proxy->net);
	free(proxy);
}
