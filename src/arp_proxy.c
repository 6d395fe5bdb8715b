/* arp_proxy.c - see arp_proxy.h. libnet builds the ARP frames, libpcap sees everyone's. */
#include "arp_proxy.h"

#include <errno.h>
#include <libnet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case.h"
#include "error_text.h"
#include "netns.h"

#define ETHER_HEADER 14
#define ARP_BODY 28
#define POLL_MS 50

/* One address being probed, and who (if anyone) answered for it. */
struct probed_address {
	uint32_t ip;
	bool held;
	uint8_t mac[6];
};

struct arp_proxy {
	libnet_t *net;
	pcap_t *capture;
	uint8_t mac[6];
	uint32_t target_ip;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* everything below, and net (the thread answers while callers announce) */
	pthread_cond_t answered;
	bool stop;
	uint32_t peers[CASE_MAX_PEERS];
	int peer_count;
	bool target_known;
	uint8_t target_mac[6];
	struct probed_address probed[ARP_PROBE_MAX]; /* while arp_proxy_probe runs */
	int probed_count;
};

static uint32_t ip_at(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static bool is_peer(const struct arp_proxy *proxy, uint32_t ip)
{
	for (int i = 0; i < proxy->peer_count; i++)
		if (proxy->peers[i] == ip)
			return true;
	return false;
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
	if (libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, op, proxy->mac, spa, (uint8_t *)target_hw, tpa, NULL,
			     0, proxy->net, 0) == -1 ||
	    libnet_build_ethernet(eth_dst, proxy->mac, ETHERTYPE_ARP, NULL, 0, proxy->net, 0) == -1)
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
	pthread_mutex_lock(&proxy->lock);
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
	pthread_mutex_unlock(&proxy->lock);
	return rc;
}

static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, unknown_mac[6] = { 0 };

/* RFC 5227 section 2.1.1: a frame from another host whose sender address is a probed one, or whose
 * sender address is 0 and target a probed one (that host is probing for it too). The caller holds
 * the lock. */
static void note_conflict(struct arp_proxy *proxy, uint16_t op, const uint8_t sender_mac[6], uint32_t sender_ip,
			  uint32_t asked_ip)
{
	if (memcmp(sender_mac, proxy->mac, 6) == 0)
		return;
	for (int i = 0; i < proxy->probed_count; i++) {
		struct probed_address *p = &proxy->probed[i];
		bool claims = sender_ip == p->ip || (op == ARPOP_REQUEST && sender_ip == 0 && asked_ip == p->ip);
		if (claims && !p->held) {
			p->held = true;
			memcpy(p->mac, sender_mac, 6);
		}
	}
}

static void on_frame(u_char *user, const struct pcap_pkthdr *header, const u_char *frame)
{
	struct arp_proxy *proxy = (struct arp_proxy *)user;
	if (header->caplen < ETHER_HEADER + ARP_BODY)
		return;
	const uint8_t *arp = frame + ETHER_HEADER;
	/* Ethernet/IPv4 ARP only: hardware 1, protocol 0x0800, lengths 6 and 4. */
	if (arp[0] != 0 || arp[1] != 1 || arp[2] != 0x08 || arp[3] != 0 || arp[4] != 6 || arp[5] != 4)
		return;
	uint16_t op = (uint16_t)(arp[6] << 8 | arp[7]);
	const uint8_t *sender_mac = arp + 8;
	uint32_t sender_ip = ip_at(arp + 14), asked_ip = ip_at(arp + 24);
	pthread_mutex_lock(&proxy->lock);
	note_conflict(proxy, op, sender_mac, sender_ip, asked_ip);
	if (sender_ip != proxy->target_ip) {
		pthread_mutex_unlock(&proxy->lock);
		return;
	}
	if (op == ARPOP_REQUEST && is_peer(proxy, asked_ip)) {
		send_arp(proxy, ARPOP_REPLY, sender_mac, asked_ip, sender_mac, sender_ip);
	} else if (op == ARPOP_REPLY) {
		memcpy(proxy->target_mac, sender_mac, 6);
		proxy->target_known = true;
		pthread_cond_broadcast(&proxy->answered);
	}
	pthread_mutex_unlock(&proxy->lock);
}

static void *serve(void *arg)
{
	struct arp_proxy *proxy = arg;
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

static int open_link(struct arp_proxy *proxy, const char *ifname, char **error)
{
	char errbuf[PCAP_ERRBUF_SIZE > LIBNET_ERRBUF_SIZE ? PCAP_ERRBUF_SIZE : LIBNET_ERRBUF_SIZE] = "";
	proxy->net = libnet_init(LIBNET_LINK_ADV, ifname, errbuf);
	if (!proxy->net)
		return error_set(error, "arp: libnet_init on %s: %s", ifname, errbuf);
	proxy->capture = pcap_create(ifname, errbuf);
	if (!proxy->capture)
		return error_set(error, "arp: pcap_create on %s: %s", ifname, errbuf);
	if (pcap_set_immediate_mode(proxy->capture, 1) != 0 || pcap_set_snaplen(proxy->capture, 128) != 0 ||
	    pcap_activate(proxy->capture) < 0)
		return error_set(error, "arp: capture on %s: %s", ifname, pcap_geterr(proxy->capture));
	struct bpf_program filter;
	if (pcap_compile(proxy->capture, &filter, "arp", 1, PCAP_NETMASK_UNKNOWN) != 0)
		return error_set(error, "arp: pcap_compile: %s", pcap_geterr(proxy->capture));
	int rc = pcap_setfilter(proxy->capture, &filter);
	pcap_freecode(&filter);
	if (rc != 0 || pcap_setnonblock(proxy->capture, 1, errbuf) != 0)
		return error_set(error, "arp: capture filter on %s: %s", ifname, pcap_geterr(proxy->capture));
	return 0;
}

struct arp_proxy *arp_proxy_start(int netns_fd, const char *ifname, const uint8_t mac[6], uint32_t target_ip,
				  char **error)
{
	struct arp_proxy *proxy = calloc(1, sizeof *proxy);
	if (!proxy) {
		error_set(error, "out of memory");
		return NULL;
	}
	memcpy(proxy->mac, mac, 6);
	proxy->target_ip = target_ip;
	pthread_mutex_init(&proxy->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&proxy->answered, &attr);
	pthread_condattr_destroy(&attr);

	int saved, rc;
	if (netns_enter(netns_fd, &saved) < 0) {
		rc = error_set(error, "arp: entering the harness namespace: %s", strerror(errno));
	} else {
		rc = open_link(proxy, ifname, error);
		if (netns_leave(saved) < 0 && rc == 0)
			rc = error_set(error, "arp: leaving the harness namespace: %s", strerror(errno));
	}
	if (rc == 0 && (errno = pthread_create(&proxy->thread, NULL, serve, proxy)) != 0)
		rc = error_set(error, "arp: thread: %s", strerror(errno));
	proxy->thread_started = rc == 0;
	if (rc < 0) {
		arp_proxy_stop(proxy);
		return NULL;
	}
	return proxy;
}

void arp_proxy_set_peers(struct arp_proxy *proxy, const uint32_t *peer_ips, int count)
{
	pthread_mutex_lock(&proxy->lock);
	proxy->peer_count = 0;
	for (int i = 0; i < count && i < CASE_MAX_PEERS; i++)
		proxy->peers[proxy->peer_count++] = peer_ips[i];
	pthread_mutex_unlock(&proxy->lock);
}

/* A request can be lost while a just-started stack opens its link (gVisor): ask again this often. */
#define ANNOUNCE_RETRY_MS 250

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

int arp_proxy_announce(struct arp_proxy *proxy, uint8_t target_mac[6], int timeout_ms, char **error)
{
	pthread_mutex_lock(&proxy->lock);
	proxy->target_known = false;
	int rc = 0;
	for (int waited = 0; rc == 0 && !proxy->target_known; waited += ANNOUNCE_RETRY_MS) {
		if (waited >= timeout_ms) {
			rc = error_set(error, "arp: the target %u.%u.%u.%u did not answer within %d ms (is it on this "
					      "link, with the peers' subnet on-link?)",
				       proxy->target_ip >> 24, (proxy->target_ip >> 16) & 0xff,
				       (proxy->target_ip >> 8) & 0xff, proxy->target_ip & 0xff, timeout_ms);
			break;
		}
		for (int i = 0; i < proxy->peer_count && rc == 0; i++)
			if (send_arp(proxy, ARPOP_REQUEST, broadcast, proxy->peers[i], unknown_mac, proxy->target_ip) < 0)
				rc = error_set(error, "arp: libnet: %s", libnet_geterror(proxy->net));
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

/* Waits on the proxy's condition until ms have passed; the caller holds the lock. */
static void wait_locked(struct arp_proxy *proxy, int ms)
{
	struct timespec until = ms_from_now(ms), now;
	do {
		pthread_cond_timedwait(&proxy->answered, &proxy->lock, &until);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
}

int arp_proxy_probe(struct arp_proxy *proxy, const uint32_t *ips, int count, struct address_conflict *conflicts,
		    char **error)
{
	if (count > ARP_PROBE_MAX)
		return error_set(error, "arp: %d addresses to probe, at most %d", count, ARP_PROBE_MAX);
	pthread_mutex_lock(&proxy->lock);
	for (int i = 0; i < count; i++)
		proxy->probed[i] = (struct probed_address){ .ip = ips[i] };
	proxy->probed_count = count;
	int rc = 0;
	for (int round = 0; round < ARP_PROBE_ROUNDS && rc == 0; round++) {
		for (int i = 0; i < count && rc == 0; i++)
			if (send_arp(proxy, ARPOP_REQUEST, broadcast, 0, unknown_mac, ips[i]) < 0)
				rc = error_set(error, "arp: libnet: %s", libnet_geterror(proxy->net));
		if (rc == 0)
			wait_locked(proxy, round + 1 < ARP_PROBE_ROUNDS ? ARP_PROBE_INTERVAL_MS : ARP_PROBE_LISTEN_MS);
	}
	for (int i = 0; i < count && rc >= 0; i++)
		if (proxy->probed[i].held) {
			conflicts[rc].ip = ip_address_from_ipv4(proxy->probed[i].ip);
			memcpy(conflicts[rc].mac, proxy->probed[i].mac, 6);
			rc++;
		}
	proxy->probed_count = 0;
	pthread_mutex_unlock(&proxy->lock);
	return rc;
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
	if (proxy->thread_started) {
		pthread_mutex_lock(&proxy->lock);
		proxy->stop = true;
		pthread_mutex_unlock(&proxy->lock);
		pthread_join(proxy->thread, NULL);
	}
	if (proxy->capture)
		pcap_close(proxy->capture);
	if (proxy->net)
		libnet_destroy(proxy->net);
	pthread_cond_destroy(&proxy->answered);
	pthread_mutex_destroy(&proxy->lock);
	free(proxy);
}
