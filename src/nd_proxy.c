/* nd_proxy.c - see nd_proxy.h. Frames built here byte by byte (RFC 4861 4.3, 4.4, 4.6.1), sent and
 * seen through one libpcap handle. */
#include "nd_proxy.h"

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "case.h"
#include "error_text.h"
#include "inet_checksum.h"
#include "link_proxy.h"

#define ETHER_HEADER 14
#define IPV6_HEADER 40
#define ND_MESSAGE 24 /* type, code, checksum, flags, target address */
#define LLA_OPTION 8  /* RFC 4861 4.6.1 for Ethernet: type, length 1, MAC */
#define ND_FRAME (ETHER_HEADER + IPV6_HEADER + ND_MESSAGE + LLA_OPTION) /* the longest */
#define ICMPV6 58
#define NEIGHBOR_SOLICITATION 135
#define NEIGHBOR_ADVERTISEMENT 136
#define SOURCE_LLA 1
#define TARGET_LLA 2

struct nd_proxy {
	struct link_proxy link; /* first, so that the family's callbacks cast it back */
	struct ip_address target;
	bool target_mac_seen; /* ever; under link.lock */
};

static struct nd_proxy *nd_of(struct link_proxy *link)
{
	return (struct nd_proxy *)link;
}

static const struct ip_address unspecified;

/* ff02::1:ffXX:XXXX for address (RFC 4291 2.7.1) and its Ethernet group 33:33:ff:XX:XX:XX (RFC 2464 7). */
static void solicited_node(const struct ip_address *address, uint8_t group[16], uint8_t mac[6])
{
	static const uint8_t prefix[13] = { 0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01, 0xff };
	memcpy(group, prefix, 13);
	memcpy(group + 13, address->bytes + 13, 3);
	static const uint8_t mac_prefix[3] = { 0x33, 0x33, 0xff };
	memcpy(mac, mac_prefix, 3);
	memcpy(mac + 3, address->bytes + 13, 3);
}

/* One solicitation or advertisement about target_address into frame (room for ND_FRAME), with the
 * proxy's MAC as its link-layer option unless src is unspecified (a DAD probe carries none, RFC 4861
 * 7.2.2). Hop limit 255, which receivers insist on (RFC 4861 7.1). Returns the frame's length. */
static int build_nd(const struct nd_proxy *proxy, uint8_t type, uint32_t flags, const uint8_t eth_dst[6],
		    const uint8_t src[16], const uint8_t dst[16], const uint8_t target_address[16], uint8_t *frame)
{
	size_t body = ND_MESSAGE + (memcmp(src, unspecified.bytes, 16) == 0 ? 0 : LLA_OPTION);
	memset(frame, 0, ND_FRAME);
	memcpy(frame, eth_dst, 6);
	memcpy(frame + 6, proxy->link.mac, 6);
	frame[12] = 0x86, frame[13] = 0xdd;
	uint8_t *ip = frame + ETHER_HEADER, *nd = ip + IPV6_HEADER;
	ip[0] = 0x60;
	ip[5] = (uint8_t)body;
	ip[6] = ICMPV6;
	ip[7] = 255;
	memcpy(ip + 8, src, 16);
	memcpy(ip + 24, dst, 16);
	nd[0] = type;
	nd[4] = (uint8_t)(flags >> 24);
	memcpy(nd + 8, target_address, 16);
	if (body > ND_MESSAGE) {
		nd[24] = type == NEIGHBOR_SOLICITATION ? SOURCE_LLA : TARGET_LLA;
		nd[25] = 1;
		memcpy(nd + 26, proxy->link.mac, 6);
	}
	/* RFC 8200 8.1's pseudo-header, then the message. */
	uint8_t sum[32 + 8 + ND_MESSAGE + LLA_OPTION] = { 0 };
	memcpy(sum, src, 16);
	memcpy(sum + 16, dst, 16);
	sum[35] = (uint8_t)body;
	sum[39] = ICMPV6;
	memcpy(sum + 40, nd, body);
	uint16_t checksum = inet_checksum(sum, 40 + body);
	nd[2] = (uint8_t)(checksum >> 8), nd[3] = (uint8_t)checksum;
	return (int)(ETHER_HEADER + IPV6_HEADER + body);
}

/* build_nd's frame, sent; the caller holds the lock. */
static int send_nd(struct nd_proxy *proxy, uint8_t type, uint32_t flags, const uint8_t eth_dst[6],
		   const uint8_t src[16], const uint8_t dst[16], const uint8_t target_address[16])
{
	uint8_t frame[ND_FRAME];
	int len = build_nd(proxy, type, flags, eth_dst, src, dst, target_address, frame);
	return pcap_inject(proxy->link.capture, frame, (size_t)len) == len ? 0 : -1;
}

/* RFC 4862 5.4.3 and 5.4.4, seen from the prober: a probed address is held when another MAC
 * advertises it, sends from it, or probes for it itself. */
static void note_conflict(struct link_proxy *link, const uint8_t sender_mac[6], const struct ip_address *source,
			  uint8_t type, const struct ip_address *about)
{
	link_proxy_note_claim(link, sender_mac, source);
	if (type == NEIGHBOR_ADVERTISEMENT || (type == NEIGHBOR_SOLICITATION && ip_address_equal(source, &unspecified)))
		link_proxy_note_claim(link, sender_mac, about);
}

/* The target's solicitation for a peer gets the peer's advertisement (solicited, override); the
 * target's advertisement of itself tells its MAC. A solicitation from the target's MAC counts as the
 * target's whatever its source address (a Linux host may ask from its link-local address). Anything
 * else is only looked at for conflicts while a probe runs. */
static void on_frame(struct link_proxy *link, const uint8_t *frame, size_t length)
{
	struct nd_proxy *proxy = nd_of(link);
	if (length < ETHER_HEADER + IPV6_HEADER + ND_MESSAGE || frame[12] != 0x86 || frame[13] != 0xdd)
		return;
	const uint8_t *ip = frame + ETHER_HEADER, *nd = ip + IPV6_HEADER, *sender_mac = frame + 6;
	if (ip[6] != ICMPV6 || ip[7] != 255 || (nd[0] != NEIGHBOR_SOLICITATION && nd[0] != NEIGHBOR_ADVERTISEMENT))
		return;
	struct ip_address source, about;
	memcpy(source.bytes, ip + 8, 16);
	memcpy(about.bytes, nd + 8, 16);
	note_conflict(link, sender_mac, &source, nd[0], &about);
	bool from_target = ip_address_equal(&source, &proxy->target) ||
			   (proxy->target_mac_seen && memcmp(sender_mac, link->target_mac, 6) == 0);
	if (from_target && nd[0] == NEIGHBOR_SOLICITATION && link_proxy_is_peer(link, &about)) {
		send_nd(proxy, NEIGHBOR_ADVERTISEMENT, 0x60000000u, sender_mac, about.bytes, source.bytes, about.bytes);
	} else if (from_target && nd[0] == NEIGHBOR_ADVERTISEMENT && ip_address_equal(&about, &proxy->target)) {
		link_proxy_answered(link, sender_mac);
		proxy->target_mac_seen = true;
	}
}

static int solicit(struct link_proxy *link, char **error)
{
	struct nd_proxy *proxy = nd_of(link);
	uint8_t group[16], group_mac[6];
	solicited_node(&proxy->target, group, group_mac);
	for (int i = 0; i < link->peer_count; i++)
		if (send_nd(proxy, NEIGHBOR_SOLICITATION, 0, group_mac, link->peers[i].bytes, group,
			    proxy->target.bytes) < 0)
			return error_set(error, "nd: send: %s", pcap_geterr(link->capture));
	return 0;
}

static int probe(struct link_proxy *link, const struct ip_address *ip, char **error)
{
	uint8_t group[16], group_mac[6];
	solicited_node(ip, group, group_mac);
	if (send_nd(nd_of(link), NEIGHBOR_SOLICITATION, 0, group_mac, unspecified.bytes, group, ip->bytes) < 0)
		return error_set(error, "nd: send: %s", pcap_geterr(link->capture));
	return 0;
}

static const struct link_proxy_family nd_family = {
	.name = "nd", .filter = "icmp6",
	.on_frame = on_frame,
	.solicit = solicit,
	.probe = probe,
};

struct nd_proxy *nd_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], const struct ip_address *target,
				const struct ip_address *peers, int count, char **error)
{
	struct nd_proxy *proxy = calloc(1, sizeof *proxy);
	if (!proxy) {
		error_set(error, "out of memory");
		return NULL;
	}
	proxy->target = *target;
	if (link_proxy_start(&proxy->link, &nd_family, netns_fd, ifname, mac, peers, count, error) < 0) {
		nd_proxy_stop(proxy);
		return NULL;
	}
	return proxy;
}

int nd_proxy_announce(struct nd_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error)
{
	int rc = link_proxy_announce(&proxy->link, target_mac, timeout_ms, error);
	if (rc > 0) {
		char text[IP_ADDRESS_TEXT_MAX];
		rc = error_set(error, "nd: the target %s did not answer a neighbour solicitation within %d ms",
			       ip_address_format(&proxy->target, text), timeout_ms);
	}
	return rc;
}

void nd_proxy_set_peers(struct nd_proxy *proxy, const struct ip_address *peers, int count)
{
	link_proxy_set_peers(&proxy->link, peers, count);
}

int nd_proxy_probe(struct nd_proxy *proxy, const struct ip_address *ips, int count,
		   struct address_conflict *conflicts, char **error)
{
	return link_proxy_probe(&proxy->link, ips, count, conflicts, error);
}

/* A frame built by build_nd for a solicitation of about's MAC from src, copied out. */
static int copy_solicitation(const struct nd_proxy *proxy, const uint8_t src[16], const struct ip_address *about,
			     uint8_t *frame, size_t size, char **error)
{
	uint8_t built[ND_FRAME], group[16], group_mac[6];
	solicited_node(about, group, group_mac);
	int len = build_nd(proxy, NEIGHBOR_SOLICITATION, 0, group_mac, src, group, about->bytes, built);
	if ((size_t)len > size)
		return error_set(error, "nd: a frame of %d bytes does not fit", len);
	memcpy(frame, built, (size_t)len);
	return len;
}

int nd_proxy_announce_frame(struct nd_proxy *proxy, const struct ip_address *peer, uint8_t *frame, size_t size,
			    char **error)
{
	return copy_solicitation(proxy, peer->bytes, &proxy->target, frame, size, error);
}

int nd_proxy_probe_frame(struct nd_proxy *proxy, const struct ip_address *ip, uint8_t *frame, size_t size,
			 char **error)
{
	return copy_solicitation(proxy, unspecified.bytes, ip, frame, size, error);
}

void nd_proxy_stop(struct nd_proxy *proxy)
{
	if (!proxy)
		return;
	link_proxy_stop(&proxy->link);
	free(proxy);
}
