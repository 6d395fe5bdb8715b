/* arp_proxy.c - see arp_proxy.h. libnet builds the ARP frames, libpcap sees the target's. */
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

/* One ARP frame from mac; the caller holds the lock. */
static int send_arp(struct arp_proxy *proxy, uint16_t op, const uint8_t eth_dst[6], uint32_t sender_ip,
		    const uint8_t target_hw[6], uint32_t target_ip)
{
	uint8_t spa[4], tpa[4];
	uint32_t s = htonl(sender_ip), t = htonl(target_ip);
	memcpy(spa, &s, 4);
	memcpy(tpa, &t, 4);
	libnet_clear_packet(proxy->net);
	if (libnet_build_arp(ARPHRD_ETHER, ETHERTYPE_IP, 6, 4, op, proxy->mac, spa, (uint8_t *)target_hw, tpa, NULL,
			     0, proxy->net, 0) == -1 ||
	    libnet_build_ethernet(eth_dst, proxy->mac, ETHERTYPE_ARP, NULL, 0, proxy->net, 0) == -1 ||
	    libnet_write(proxy->net) == -1)
		return -1;
	return 0;
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
	if (sender_ip != proxy->target_ip)
		return;
	pthread_mutex_lock(&proxy->lock);
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
	proxy->net = libnet_init(LIBNET_LINK, ifname, errbuf);
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
	static const uint8_t broadcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff }, unknown[6] = { 0 };
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
			if (send_arp(proxy, ARPOP_REQUEST, broadcast, proxy->peers[i], unknown, proxy->target_ip) < 0)
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
