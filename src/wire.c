/* wire.c - see wire.h. */
#include "wire.h"

#include <errno.h>
#include <libnet.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "error_text.h"
#include "netns.h"
#include "segment_decode.h"
#include "tcp_options.h"

#define WIRE_SNAPLEN 65535
#define WIRE_BUFFER_BYTES (1024 * 1024)

struct wire {
	libnet_t *net;
	pcap_t *capture;
	pcap_dumper_t *dump;
	int capture_fd;
	uint8_t src_mac[6], dst_mac[6];
	uint16_t next_ip_id;
};

int64_t wire_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Both sockets must be created inside the harness namespace; they stay bound to it afterwards. */
static int open_in_namespace(struct wire *w, const char *ifname, char **error)
{
	char errbuf[PCAP_ERRBUF_SIZE > LIBNET_ERRBUF_SIZE ? PCAP_ERRBUF_SIZE : LIBNET_ERRBUF_SIZE] = "";

	w->net = libnet_init(LIBNET_LINK, ifname, errbuf);
	if (!w->net)
		return error_set(error, "libnet_init on %s: %s", ifname, errbuf);
	w->capture = pcap_create(ifname, errbuf);
	if (!w->capture)
		return error_set(error, "pcap_create on %s: %s", ifname, errbuf);
	/* Immediate mode: a reply is handed to us as it arrives, not when a buffer block fills. */
	if (pcap_set_immediate_mode(w->capture, 1) != 0 || pcap_set_snaplen(w->capture, WIRE_SNAPLEN) != 0 ||
	    pcap_set_buffer_size(w->capture, WIRE_BUFFER_BYTES) != 0 ||
	    pcap_set_tstamp_precision(w->capture, PCAP_TSTAMP_PRECISION_NANO) != 0)
		return error_set(error, "pcap settings on %s: %s", ifname, pcap_geterr(w->capture));
	if (pcap_activate(w->capture) < 0)
		return error_set(error, "pcap_activate on %s: %s", ifname, pcap_geterr(w->capture));
	struct bpf_program filter;
	if (pcap_compile(w->capture, &filter, "ip and tcp", 1, PCAP_NETMASK_UNKNOWN) != 0)
		return error_set(error, "pcap_compile: %s", pcap_geterr(w->capture));
	int rc = pcap_setfilter(w->capture, &filter);
	pcap_freecode(&filter);
	if (rc != 0)
		return error_set(error, "pcap_setfilter: %s", pcap_geterr(w->capture));
	if (pcap_setnonblock(w->capture, 1, errbuf) != 0)
		return error_set(error, "pcap_setnonblock: %s", errbuf);
	w->capture_fd = pcap_get_selectable_fd(w->capture);
	if (w->capture_fd < 0)
		return error_set(error, "pcap on %s has no selectable descriptor", ifname);
	return 0;
}

static int open_dump(struct wire *w, const char *pcap_path, char **error)
{
	pcap_t *dead = pcap_open_dead_with_tstamp_precision(DLT_EN10MB, WIRE_SNAPLEN, PCAP_TSTAMP_PRECISION_NANO);
	if (!dead)
		return error_set(error, "pcap_open_dead failed");
	w->dump = pcap_dump_open(dead, pcap_path);
	int rc = w->dump ? 0 : error_set(error, "%s: %s", pcap_path, pcap_geterr(dead));
	pcap_close(dead);
	return rc;
}

struct wire *wire_open(int harness_netns_fd, const char *ifname, const uint8_t src_mac[6],
		       const uint8_t dst_mac[6], const char *pcap_path, char **error)
{
	struct wire *w = calloc(1, sizeof *w);
	if (!w) {
		error_set(error, "out of memory");
		return NULL;
	}
	w->capture_fd = -1;
	memcpy(w->src_mac, src_mac, 6);
	memcpy(w->dst_mac, dst_mac, 6);

	int saved;
	if (netns_enter(harness_netns_fd, &saved) < 0) {
		error_set(error, "entering the harness namespace: %s", strerror(errno));
		free(w);
		return NULL;
	}
	int rc = open_in_namespace(w, ifname, error);
	if (netns_leave(saved) < 0 && rc == 0)
		rc = error_set(error, "leaving the harness namespace: %s", strerror(errno));
	if (rc == 0 && pcap_path)
		rc = open_dump(w, pcap_path, error);
	if (rc != 0) {
		wire_close(w);
		return NULL;
	}
	return w;
}

static uint8_t payload_pattern[SEGMENT_MAX_PAYLOAD];

int wire_inject(struct wire *w, const struct segment *s, int64_t *sent_ns, char **error)
{
	uint8_t options[40];
	int options_len = tcp_options_encode(s->options, s->option_count, options, sizeof options);
	if (options_len < 0)
		return error_set(error, "TCP options do not fit in 40 bytes");
	if (s->payload_len > SEGMENT_MAX_PAYLOAD)
		return error_set(error, "payload of %u bytes is too large", s->payload_len);
	if (payload_pattern[0] == 0)
		for (size_t i = 0; i < sizeof payload_pattern; i++)
			payload_pattern[i] = (uint8_t)('a' + i % 26);

	libnet_clear_packet(w->net);
	uint32_t tcp_len = LIBNET_TCP_H + (uint32_t)options_len + s->payload_len;
	if (options_len > 0 && libnet_build_tcp_options(options, (uint32_t)options_len, w->net, 0) == -1)
		goto libnet_error;
	if (libnet_build_tcp(s->src_port, s->dst_port, s->seq, s->ack, s->flags, s->window, 0, s->urgent,
			     (uint16_t)tcp_len, s->payload_len ? payload_pattern : NULL, s->payload_len, w->net,
			     0) == -1)
		goto libnet_error;
	/* DF and TTL 64 as a Linux peer would send; the ID only has to differ between segments. */
	if (libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), 0, w->next_ip_id++, IP_DF, 64, IPPROTO_TCP,
			      0, htonl(s->src_ip), htonl(s->dst_ip), NULL, 0, w->net, 0) == -1)
		goto libnet_error;
	if (libnet_build_ethernet(w->dst_mac, w->src_mac, ETHERTYPE_IP, NULL, 0, w->net, 0) == -1)
		goto libnet_error;
	*sent_ns = wire_now_ns();
	if (libnet_write(w->net) == -1)
		goto libnet_error;
	return 0;
libnet_error:
	return error_set(error, "libnet: %s", libnet_geterror(w->net));
}

struct frame_context {
	struct wire *wire;
	struct wire_frame *frame;
};

static void take_frame(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes)
{
	struct frame_context *ctx = (struct frame_context *)user;
	struct wire_frame *frame = ctx->frame;
	if (ctx->wire->dump)
		pcap_dump((u_char *)ctx->wire->dump, header, bytes);
	/* With nanosecond precision, tv_usec holds nanoseconds. */
	frame->at_ns = (int64_t)header->ts.tv_sec * 1000000000 + header->ts.tv_usec;
	frame->decode_error = NULL;
	frame->decoded = segment_decode_ethernet(bytes, header->caplen, &frame->segment, &frame->decode_error) == 0;
}

int wire_next(struct wire *w, int64_t deadline_ns, struct wire_frame *frame, char **error)
{
	struct frame_context ctx = { w, frame };
	for (;;) {
		int n = pcap_dispatch(w->capture, 1, take_frame, (u_char *)&ctx);
		if (n < 0)
			return error_set(error, "pcap_dispatch: %s", pcap_geterr(w->capture));
		if (n > 0)
			return 1;
		int64_t left_ns = deadline_ns - wire_now_ns();
		if (left_ns <= 0)
			return 0;
		struct pollfd pfd = { .fd = w->capture_fd, .events = POLLIN };
		struct timespec timeout = { left_ns / 1000000000, left_ns % 1000000000 };
		if (ppoll(&pfd, 1, &timeout, NULL) < 0 && errno != EINTR)
			return error_set(error, "poll on capture: %s", strerror(errno));
	}
}

/* Closing a packet socket waits for an RCU grace period (packet_release -> synchronize_net): 15-30 ms
 * each. The sockets are released on a thread of their own so the next case need not wait for it. */
static pthread_mutex_t releases_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t releases_done = PTHREAD_COND_INITIALIZER;
static int releases_running;

static void release_sockets(struct wire *w)
{
	if (w->capture)
		pcap_close(w->capture);
	if (w->net)
		libnet_destroy(w->net);
	free(w);
}

static void *release_thread(void *arg)
{
	release_sockets(arg);
	pthread_mutex_lock(&releases_lock);
	releases_running--;
	pthread_cond_broadcast(&releases_done);
	pthread_mutex_unlock(&releases_lock);
	return NULL;
}

void wire_close(struct wire *w)
{
	if (!w)
		return;
	if (w->capture && w->dump) {
		struct wire_frame scratch;
		struct frame_context ctx = { w, &scratch };
		while (pcap_dispatch(w->capture, -1, take_frame, (u_char *)&ctx) > 0)
			;
	}
	if (w->dump)
		pcap_dump_close(w->dump);
	w->dump = NULL;

	pthread_attr_t attr;
	pthread_t thread;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&releases_lock);
	releases_running++;
	pthread_mutex_unlock(&releases_lock);
	if (pthread_create(&thread, &attr, release_thread, w) != 0)
		release_thread(w); /* no thread to spare: pay the wait here */
	pthread_attr_destroy(&attr);
}

void wire_wait_released(void)
{
	pthread_mutex_lock(&releases_lock);
	while (releases_running > 0)
		pthread_cond_wait(&releases_done, &releases_lock);
	pthread_mutex_unlock(&releases_lock);
}
