/* nd_proxy.c - see nd_proxy.h. Frames built here byte by byte (RFC 4861 4.3, 4.4, 4.6.1), sent and
 * seen through one libpcap handle. */
#include "nd_proxy.h"

#include <errno.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case.h"
#include "error_text.h"
#include "inet_checksum.h"
#include "netns.h"

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
#define POLL_MS 50
/* A solicitation can be lost while a just-started stack opens its link (gVisor): ask again this often. */
#define ANNOUNCE_RETRY_MS 250

/* One address being probed, and who (if anyone) answered for it. */
struct probed_address {
	struct ip_address ip;
	bool held;
	uint8_t mac[6];
};

struct nd_proxy {
	pcap_t *capture;
	uint8_t mac[6];
	struct ip_address target;
	struct ip_address peers[CASE_MAX_PEERS];
	int peer_count;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* everything below, the peers, and sending */
	pthread_cond_t answered;
	bool stop;
	bool target_known;      /* since the last nd_proxy_announce began */
	bool target_mac_seen;   /* ever */
	uint8_t target_mac[6];
	struct probed_address probed[ARP_PROBE_MAX]; /* while nd_proxy_probe runs */
	int probed_count;
};

static bool is_peer(const struct nd_proxy *proxy, const uint8_t *address)
{
	for (int i = 0; i < proxy->peer_count; i++)
		if (memcmp(proxy->peers[i].bytes, address, 16) == 0)
			return true;
	return false;
}

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
	static const uint8_t unspecified[16];
	size_t body = ND_MESSAGE + (memcmp(src, unspecified, 16) == 0 ? 0 : LLA_OPTION);
	memset(frame, 0, ND_FRAME);
	memcpy(frame, eth_dst, 6);
	memcpy(frame + 6, proxy->mac, 6);
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
		memcpy(nd + 26, proxy->mac, 6);
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
	return pcap_inject(proxy->capture, frame, (size_t)len) == len ? 0 : -1;
}

/* RFC 4862 5.4.3 and 5.4.4, seen from the prober: a probed address is held when another MAC
 * advertises it, sends from it, or probes for it itself. The caller holds the lock. */
static void note_conflict(struct nd_proxy *proxy, const uint8_t sender_mac[6], const uint8_t *ip, const uint8_t *nd)
{
	static const uint8_t unspecified[16];
	if (memcmp(sender_mac, proxy->mac, 6) == 0)
		return;
	for (int i = 0; i < proxy->probed_count; i++) {
		struct probed_address *p = &proxy->probed[i];
		bool about = memcmp(nd + 8, p->ip.bytes, 16) == 0;
		bool claims = memcmp(ip + 8, p->ip.bytes, 16) == 0 || (nd[0] == NEIGHBOR_ADVERTISEMENT && about) ||
			      (nd[0] == NEIGHBOR_SOLICITATION && about && memcmp(ip + 8, unspecified, 16) == 0);
		if (claims && !p->held) {
			p->held = true;
			memcpy(p->mac, sender_mac, 6);
		}
	}
}

/* The target's solicitation for a peer gets the peer's advertisement (solicited, override); the
 * target's advertisement of itself tells its MAC. A solicitation from the target's MAC counts as the
 * target's whatever its source address (a Linux host may ask from its link-local address). Anything
 * else is only looked at for conflicts while a probe runs. */
static void on_frame(u_char *user, const struct pcap_pkthdr *header, const u_char *frame)
{
	struct nd_proxy *proxy = (struct nd_proxy *)user;
	if (header->caplen < ETHER_HEADER + IPV6_HEADER + ND_MESSAGE || frame[12] != 0x86 || frame[13] != 0xdd)
		return;
	const uint8_t *ip = frame + ETHER_HEADER, *nd = ip + IPV6_HEADER;
	if (ip[6] != ICMPV6 || ip[7] != 255 || (nd[0] != NEIGHBOR_SOLICITATION && nd[0] != NEIGHBOR_ADVERTISEMENT))
		return;
	pthread_mutex_lock(&proxy->lock);
	note_conflict(proxy, frame + 6, ip, nd);
	bool from_target = memcmp(ip + 8, proxy->target.bytes, 16) == 0 ||
			   (proxy->target_mac_seen && memcmp(frame + 6, proxy->target_mac, 6) == 0);
	if (from_target && nd[0] == NEIGHBOR_SOLICITATION && is_peer(proxy, nd + 8)) {
		send_nd(proxy, NEIGHBOR_ADVERTISEMENT, 0x60000000u, frame + 6, nd + 8, ip + 8, nd + 8);
	} else if (from_target && nd[0] == NEIGHBOR_ADVERTISEMENT && memcmp(nd + 8, proxy->target.bytes, 16) == 0) {
		memcpy(proxy->target_mac, frame + 6, 6);
		proxy->target_known = proxy->target_mac_seen = true;
		pthread_cond_broadcast(&proxy->answered);
	}
	pthread_mutex_unlock(&proxy->lock);
}

static void *serve(void *arg)
{
	struct nd_proxy *proxy = arg;
	struct pollfd p = { .fd = pcap_get_selectable_fd(proxy->capture), .events = POLLIN };
	for (;;) {
		pthread_mutex_lock(&proxy->lock);
		bool stop = proxy->stop;
		pthread_mutex_unlock(&proxy->lock);
		if (stop)
			return NULL;
		if (poll(&p, 1, POLL_MS) > 0)
			pcap_dispatch(proxy->capture, -1, on_frame, (u_char *)proxy);
	}
}

static int open_link(struct nd_proxy *proxy, const char *ifname, char **error)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	proxy->capture = pcap_create(ifname, errbuf);
	if (!proxy->capture)
		return error_set(error, "nd: pcap_create on %s: %s", ifname, errbuf);
	if (pcap_set_immediate_mode(proxy->capture, 1) != 0 || pcap_set_snaplen(proxy->capture, 128) != 0 ||
	    pcap_activate(proxy->capture) < 0)
		return error_set(error, "nd: capture on %s: %s", ifname, pcap_geterr(proxy->capture));
	struct bpf_program filter;
	if (pcap_compile(proxy->capture, &filter, "icmp6", 1, PCAP_NETMASK_UNKNOWN) != 0)
		return error_set(error, "nd: pcap_compile: %s", pcap_geterr(proxy->capture));
	int rc = pcap_setfilter(proxy->capture, &filter);
	pcap_freecode(&filter);
	if (rc != 0 || pcap_setnonblock(proxy->capture, 1, errbuf) != 0)
		return error_set(error, "nd: capture filter on %s: %s", ifname, pcap_geterr(proxy->capture));
	return 0;
}

struct nd_proxy *nd_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], const struct ip_address *target,
				const struct ip_address *peers, int count, char **error)
{
	struct nd_proxy *proxy = calloc(1, sizeof *proxy);
	if (!proxy) {
		error_set(error, "out of memory");
		return NULL;
	}
	memcpy(proxy->mac, mac, 6);
	proxy->target = *target;
	for (int i = 0; i < count && i < CASE_MAX_PEERS; i++)
		proxy->peers[proxy->peer_count++] = peers[i];
	pthread_mutex_init(&proxy->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&proxy->answered, &attr);
	pthread_condattr_destroy(&attr);

	int saved, rc;
	if (netns_enter(netns_fd, &saved) < 0) {
		rc = error_set(error, "nd: entering the harness namespace: %s", strerror(errno));
	} else {
		rc = open_link(proxy, ifname, error);
		if (netns_leave(saved) < 0 && rc == 0)
			rc = error_set(error, "nd: leaving the harness namespace: %s", strerror(errno));
	}
	if (rc == 0 && (errno = pthread_create(&proxy->thread, NULL, serve, proxy)) != 0)
		rc = error_set(error, "nd: thread: %s", strerror(errno));
	proxy->thread_started = rc == 0;
	if (rc < 0) {
		nd_proxy_stop(proxy);
		return NULL;
	}
	return proxy;
}

static struct timespec ms_from_now(int ms)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	t.tv_sec += ms / 1000;
	t.tv_nsec += (long)(ms % 1000) * 1000000;
	if (t.tv_nsec >= 1000000000) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000;
	}
	return t;
}

int nd_proxy_announce(struct nd_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error)
{
	uint8_t group[16], group_mac[6];
	solicited_node(&proxy->target, group, group_mac);
	pthread_mutex_lock(&proxy->lock);
	proxy->target_known = false;
	int rc = 0;
	for (int waited = 0; rc == 0 && !proxy->target_known; waited += ANNOUNCE_RETRY_MS) {
		if (waited >= timeout_ms) {
			char text[IP_ADDRESS_TEXT_MAX];
			rc = error_set(error, "nd: the target %s did not answer a neighbour solicitation within %d ms",
				       ip_address_format(&proxy->target, text), timeout_ms);
			break;
		}
		for (int i = 0; i < proxy->peer_count && rc == 0; i++)
			if (send_nd(proxy, NEIGHBOR_SOLICITATION, 0, group_mac, proxy->peers[i].bytes, group,
				    proxy->target.bytes) < 0)
				rc = error_set(error, "nd: send: %s", pcap_geterr(proxy->capture));
		struct timespec slice = ms_from_now(ANNOUNCE_RETRY_MS);
		while (rc == 0 && !proxy->target_known)
			if (pthread_cond_timedwait(&proxy->answered, &proxy->lock, &slice) == ETIMEDOUT)
				break;
	}
	if (rc == 0)
		memcpy(target_mac, proxy->target_mac, 6);
	pthread_mutex_unlock(&proxy->lock);
	return rc;
}

void nd_proxy_set_peers(struct nd_proxy *proxy, const struct ip_address *peers, int count)
{
	pthread_mutex_lock(&proxy->lock);
	proxy->peer_count = 0;
	for (int i = 0; i < count && i < CASE_MAX_PEERS; i++)
		proxy->peers[proxy->peer_count++] = peers[i];
	pthread_mutex_unlock(&proxy->lock);
}

/* Waits on the proxy's condition until ms have passed; the caller holds the lock. */
static void wait_locked(struct nd_proxy *proxy, int ms)
{
	struct timespec until = ms_from_now(ms), now;
	do {
		pthread_cond_timedwait(&proxy->answered, &proxy->lock, &until);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
}

static const uint8_t unspecified_address[16];

int nd_proxy_probe(struct nd_proxy *proxy, const struct ip_address *ips, int count,
		   struct address_conflict *conflicts, char **error)
{
	if (count > ARP_PROBE_MAX)
		return error_set(error, "nd: %d addresses to probe, at most %d", count, ARP_PROBE_MAX);
	pthread_mutex_lock(&proxy->lock);
	for (int i = 0; i < count; i++)
		proxy->probed[i] = (struct probed_address){ .ip = ips[i] };
	proxy->probed_count = count;
	int rc = 0;
	for (int round = 0; round < ARP_PROBE_ROUNDS && rc == 0; round++) {
		for (int i = 0; i < count && rc == 0; i++) {
			uint8_t group[16], group_mac[6];
			solicited_node(&ips[i], group, group_mac);
			if (send_nd(proxy, NEIGHBOR_SOLICITATION, 0, group_mac, unspecified_address, group, ips[i].bytes) < 0)
				rc = error_set(error, "nd: send: %s", pcap_geterr(proxy->capture));
		}
		if (rc == 0)
			wait_locked(proxy, round + 1 < ARP_PROBE_ROUNDS ? ARP_PROBE_INTERVAL_MS : ARP_PROBE_LISTEN_MS);
	}
	for (int i = 0; i < count && rc >= 0; i++)
		if (proxy->probed[i].held) {
			conflicts[rc].ip = proxy->probed[i].ip;
			memcpy(conflicts[rc].mac, proxy->probed[i].mac, 6);
			rc++;
		}
	proxy->probed_count = 0;
	pthread_mutex_unlock(&proxy->lock);
	return rc;
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
	return copy_solicitation(proxy, unspecified_address, ip, frame, size, error);
}

void nd_proxy_stop(struct nd_proxy *proxy)
{
	if (!proxy)
		return;
	if (proxy->thread_started) {
		pthread_mutex_lock(&proxy->lock);
		proxy->stop = true;
		pthread_mutex_unlock(&proxy->lock);
		pthread_join(proxy->thread, NULL);
	}
	if (proxy->capture)
		pcap_close(proxy->capture);
	pthread_cond_destroy(&proxy->answered);
	pthread_mutex_destroy(&proxy->lock);
	free(proxy);
}
