/* link_proxy.c - see link_proxy.h. */
#include "link_proxy.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <time.h>

#include "error_text.h"
#include "netns.h"

#define POLL_MS 50
/* A request can be lost while a just-started stack opens its link (gVisor): ask again this often. */
#define ANNOUNCE_RETRY_MS 250

static void on_captured(u_char *user, const struct pcap_pkthdr *header, const u_char *frame)
{
	struct link_proxy *link = (struct link_proxy *)user;
	pthread_mutex_lock(&link->lock);
	link->family->on_frame(link, frame, header->caplen);
	pthread_mutex_unlock(&link->lock);
}

static void *serve(void *arg)
{
	struct link_proxy *link = arg;
	struct pollfd p = { .fd = pcap_get_selectable_fd(link->capture), .events = POLLIN };
	for (;;) {
		pthread_mutex_lock(&link->lock);
		bool stop = link->stop;
		pthread_mutex_unlock(&link->lock);
		if (stop)
			return NULL;
		if (poll(&p, 1, POLL_MS) > 0)
			pcap_dispatch(link->capture, -1, on_captured, (u_char *)link);
	}
}

static int open_capture(struct link_proxy *link, const char *ifname, char **error)
{
	const char *name = link->family->name;
	char errbuf[PCAP_ERRBUF_SIZE] = "";
	link->capture = pcap_create(ifname, errbuf);
	if (!link->capture)
		return error_set(error, "%s: pcap_create on %s: %s", name, ifname, errbuf);
	if (pcap_set_immediate_mode(link->capture, 1) != 0 || pcap_set_snaplen(link->capture, 128) != 0 ||
	    pcap_activate(link->capture) < 0)
		return error_set(error, "%s: capture on %s: %s", name, ifname, pcap_geterr(link->capture));
	struct bpf_program filter;
	if (pcap_compile(link->capture, &filter, link->family->filter, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return error_set(error, "%s: pcap_compile: %s", name, pcap_geterr(link->capture));
	int rc = pcap_setfilter(link->capture, &filter);
	pcap_freecode(&filter);
	if (rc != 0 || pcap_setnonblock(link->capture, 1, errbuf) != 0)
		return error_set(error, "%s: capture filter on %s: %s", name, ifname, pcap_geterr(link->capture));
	return 0;
}

int link_proxy_start(struct link_proxy *link, const struct link_proxy_family *family, int netns_fd, const char *ifname,
		     const uint8_t mac[6], const struct ip_address *peers, int count, char **error)
{
	link->family = family;
	memcpy(link->mac, mac, 6);
	for (int i = 0; i < count && i < CASE_MAX_PEERS; i++)
		link->peers[link->peer_count++] = peers[i];
	pthread_mutex_init(&link->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&link->answered, &attr);
	pthread_condattr_destroy(&attr);

	int saved, rc;
	if (netns_enter(netns_fd, &saved) < 0) {
		rc = error_set(error, "%s: entering the harness namespace: %s", family->name, strerror(errno));
	} else {
		rc = family->open ? family->open(link, ifname, error) : 0;
		if (rc == 0)
			rc = open_capture(link, ifname, error);
		if (netns_leave(saved) < 0 && rc == 0)
			rc = error_set(error, "%s: leaving the harness namespace: %s", family->name, strerror(errno));
	}
	if (rc == 0 && (errno = pthread_create(&link->thread, NULL, serve, link)) != 0)
		rc = error_set(error, "%s: thread: %s", family->name, strerror(errno));
	link->thread_started = rc == 0;
	return rc;
}

void link_proxy_set_peers(struct link_proxy *link, const struct ip_address *peers, int count)
{
	pthread_mutex_lock(&link->lock);
	link->peer_count = 0;
	for (int i = 0; i < count && i < CASE_MAX_PEERS; i++)
		link->peers[link->peer_count++] = peers[i];
	pthread_mutex_unlock(&link->lock);
}

bool link_proxy_is_peer(const struct link_proxy *link, const struct ip_address *address)
{
	for (int i = 0; i < link->peer_count; i++)
		if (ip_address_equal(&link->peers[i], address))
			return true;
	return false;
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

int link_proxy_announce(struct link_proxy *link, uint8_t target_mac[6], int timeout_ms, char **error)
{
	pthread_mutex_lock(&link->lock);
	link->target_known = false;
	int rc = 0;
	for (int waited = 0; rc == 0 && !link->target_known; waited += ANNOUNCE_RETRY_MS) {
		if (waited >= timeout_ms) {
			rc = 1;
			break;
		}
		rc = link->family->solicit(link, error);
		struct timespec slice = ms_from_now(ANNOUNCE_RETRY_MS);
		while (rc == 0 && !link->target_known)
			if (pthread_cond_timedwait(&link->answered, &link->lock, &slice) == ETIMEDOUT)
				break;
	}
	if (rc == 0)
		memcpy(target_mac, link->target_mac, 6);
	pthread_mutex_unlock(&link->lock);
	return rc;
}

void link_proxy_answered(struct link_proxy *link, const uint8_t target_mac[6])
{
	memcpy(link->target_mac, target_mac, 6);
	link->target_known = true;
	pthread_cond_broadcast(&link->answered);
}

/* Waits on the proxy's condition until ms have passed; the caller holds the lock. */
static void wait_locked(struct link_proxy *link, int ms)
{
	struct timespec until = ms_from_now(ms), now;
	do {
		pthread_cond_timedwait(&link->answered, &link->lock, &until);
		clock_gettime(CLOCK_MONOTONIC, &now);
	} while (now.tv_sec < until.tv_sec || (now.tv_sec == until.tv_sec && now.tv_nsec < until.tv_nsec));
}

int link_proxy_probe(struct link_proxy *link, const struct ip_address *ips, int count,
		     struct address_conflict *conflicts, char **error)
{
	if (count > ARP_PROBE_MAX)
		return error_set(error, "%s: %d addresses to probe, at most %d", link->family->name, count,
				 ARP_PROBE_MAX);
	pthread_mutex_lock(&link->lock);
	for (int i = 0; i < count; i++)
		link->probed[i] = (struct probed_address){ .ip = ips[i] };
	link->probed_count = count;
	int rc = 0;
	for (int round = 0; round < ARP_PROBE_ROUNDS && rc == 0; round++) {
		for (int i = 0; i < count && rc == 0; i++)
			rc = link->family->probe(link, &ips[i], error);
		if (rc == 0)
			wait_locked(link, round + 1 < ARP_PROBE_ROUNDS ? ARP_PROBE_INTERVAL_MS : ARP_PROBE_LISTEN_MS);
	}
	for (int i = 0; i < count && rc >= 0; i++)
		if (link->probed[i].held) {
			conflicts[rc].ip = link->probed[i].ip;
			memcpy(conflicts[rc].mac, link->probed[i].mac, 6);
			rc++;
		}
	link->probed_count = 0;
	pthread_mutex_unlock(&link->lock);
	return rc;
}

void link_proxy_note_claim(struct link_proxy *link, const uint8_t sender_mac[6], const struct ip_address *claimed)
{
	if (memcmp(sender_mac, link->mac, 6) == 0)
		return;
	for (int i = 0; i < link->probed_count; i++) {
		struct probed_address *p = &link->probed[i];
		if (ip_address_equal(&p->ip, claimed) && !p->held) {
			p->held = true;
			memcpy(p->mac, sender_mac, 6);
		}
	}
}

void link_proxy_stop(struct link_proxy *link)
{
	if (link->thread_started) {
		pthread_mutex_lock(&link->lock);
		link->stop = true;
		pthread_mutex_unlock(&link->lock);
		pthread_join(link->thread, NULL);
	}
	if (link->capture)
		pcap_close(link->capture);
	pthread_cond_destroy(&link->answered);
	pthread_mutex_destroy(&link->lock);
}
