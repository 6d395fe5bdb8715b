/* wire.c - see wire.h. */
#include "wire.h"

#include <errno.h>
#include <libnet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "error_text.h"
#include "netns.h"
#include "segment_decode.h"
#include "tcp_options.h"

#define WIRE_SNAPLEN 65535
#define WIRE_FILTER "tcp or icmp6"
/* libpcap's ring (TPACKET_V2 in immediate mode) cuts its buffer into slots for the largest frame the
 * harness end may see: with TSO/GSO on there (the sandbox turns offloads off on the target end only)
 * that is a whole snaplen, plus the slot's header. A frame that finds every slot full is lost. */
#define WIRE_SLOT_BYTES (WIRE_SNAPLEN + 1 + 256)
/* Frames per sendmmsg in wire_inject_batch: enough to make the system call's own cost vanish. */
#define WIRE_BATCH_CHUNK 64

/* The protocol blocks libnet holds for the last segment built. A segment of the same shape (option and
 * payload lengths) rewrites them in place through their tags, changing only fields: no allocation. */
struct libnet_blocks {
	bool valid;
	int options_len;
	uint32_t payload_len;
	bool ipv6;
	libnet_ptag_t options, tcp, ip, ethernet;
};

/* The frames captured so far: bytes back to back in one buffer, so a flood costs no allocation per frame. */
struct recording {
	bool enabled;
	uint8_t *bytes;
	size_t used, capacity;
	struct recorded { int64_t at_ns; size_t offset; uint32_t len; } *frames;
	int count, frame_capacity;
	bool out_of_memory;
};

/* libnet only builds frames here (its own link socket is opened for ETH_P_ALL, so every frame on the
 * link would also be queued to it and never read, and libnet_write asks for the interface index before
 * every frame); they go out on a packet socket of the wire's own, for protocol 0: it is bound to no
 * protocol hook, so nothing is ever queued to it. */
struct wire {
	libnet_t *net;
	int inject_fd;
	pcap_t *capture;
	struct recording recording;
	int capture_fd;
	uint32_t ring_frames; /* the capture ring holds this many frames of any size */
	int ifindex; /* of the injecting end, in the harness namespace */
	uint8_t src_mac[6], dst_mac[6];
	uint16_t next_ip_id;
	struct libnet_blocks blocks;
	bool restricted;                  /* only_destination is the one address frames may go to */
	struct ip_address only_destination; /* lab mode; a sandbox link, where nothing else listens, has none */
};

int64_t wire_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int set_filter(struct wire *w, const char *expression, char **error)
{
	struct bpf_program filter;
	if (pcap_compile(w->capture, &filter, expression, 1, PCAP_NETMASK_UNKNOWN) != 0)
		return error_set(error, "pcap_compile: %s", pcap_geterr(w->capture));
	int rc = pcap_setfilter(w->capture, &filter);
	pcap_freecode(&filter);
	if (rc != 0)
		return error_set(error, "pcap_setfilter: %s", pcap_geterr(w->capture));
	return 0;
}

/* Both sockets must be created inside the harness namespace; they stay bound to it afterwards. */
static int open_in_namespace(struct wire *w, const char *ifname, char **error)
{
	char errbuf[PCAP_ERRBUF_SIZE] = "";

	w->inject_fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (w->inject_fd < 0)
		return error_set(error, "packet socket%s: %s", errno == EPERM ? " needs CAP_NET_RAW" : "",
				 strerror(errno));
	/* Once, where libnet_write_link would ask before every frame. */
	struct ifreq ifr = { 0 };
	snprintf(ifr.ifr_name, sizeof ifr.ifr_name, "%s", ifname);
	if (ioctl(w->inject_fd, SIOCGIFINDEX, &ifr) < 0)
		return error_set(error, "%s: interface index: %s", ifname, strerror(errno));
	w->ifindex = ifr.ifr_ifindex;
	w->capture = pcap_create(ifname, errbuf);
	if (!w->capture)
		return error_set(error, "pcap_create on %s: %s", ifname, errbuf);
	/* Immediate mode: a reply is handed to us as it arrives, not when a buffer block fills. */
	if (pcap_set_immediate_mode(w->capture, 1) != 0 || pcap_set_snaplen(w->capture, WIRE_SNAPLEN) != 0 ||
	    pcap_set_buffer_size(w->capture, (int)(w->ring_frames * WIRE_SLOT_BYTES)) != 0 ||
	    pcap_set_tstamp_precision(w->capture, PCAP_TSTAMP_PRECISION_NANO) != 0)
		return error_set(error, "pcap settings on %s: %s", ifname, pcap_geterr(w->capture));
	if (pcap_activate(w->capture) < 0)
		return error_set(error, "pcap_activate on %s: %s", ifname, pcap_geterr(w->capture));
	/* ICMPv6 too: what the stack says about our segments (unreachable, too big) belongs in the pcap. */
	if (set_filter(w, WIRE_FILTER, error) < 0)
		return -1;
	if (pcap_setnonblock(w->capture, 1, errbuf) != 0)
		return error_set(error, "pcap_setnonblock: %s", errbuf);
	w->capture_fd = pcap_get_selectable_fd(w->capture);
	if (w->capture_fd < 0)
		return error_set(error, "pcap on %s has no selectable descriptor", ifname);
	return 0;
}

int wire_restrict(struct wire *w, const struct ip_address *target, char **error)
{
	char expression[128], address[IP_ADDRESS_TEXT_MAX];
	snprintf(expression, sizeof expression, "(%s) and host %s", WIRE_FILTER, ip_address_format(target, address));
	if (set_filter(w, expression, error) < 0)
		return -1;
	w->only_destination = *target;
	w->restricted = true;
	return 0;
}

/* Reads and forgets every frame the capture holds now. */
static void drain(struct wire *w)
{
	struct pcap_pkthdr *header;
	const u_char *bytes;
	while (pcap_next_ex(w->capture, &header, &bytes) == 1)
		;
}

int wire_begin_case(struct wire *w, const uint8_t dst_mac[6], bool record, char **error)
{
	char expression[128];
	snprintf(expression, sizeof expression, "(%s) and ether host %02x:%02x:%02x:%02x:%02x:%02x", WIRE_FILTER,
		 dst_mac[0], dst_mac[1], dst_mac[2], dst_mac[3], dst_mac[4], dst_mac[5]);
	/* libpcap filters what its ring held before in user space (blocks_to_filter_in_userland), and the
	 * kernel what comes after: a frame of an earlier case, however late, is never read. */
	if (set_filter(w, expression, error) < 0)
		return -1;
	drain(w);
	memcpy(w->dst_mac, dst_mac, 6);
	w->next_ip_id = 0;
	w->blocks.valid = false;
	struct recording *r = &w->recording;
	r->enabled = record;
	r->used = 0;
	r->count = 0;
	r->out_of_memory = false;
	return 0;
}

struct wire *wire_open(int harness_netns_fd, const char *ifname, const uint8_t src_mac[6],
		       const uint8_t dst_mac[6], bool record, uint32_t ring_frames, char **error)
{
	if (ring_frames > WIRE_RING_FRAMES_MAX) {
		error_set(error, "a capture ring of %u frames is more than the wire allows (%u)", ring_frames,
			  WIRE_RING_FRAMES_MAX);
		return NULL;
	}
	struct wire *w = calloc(1, sizeof *w);
	if (!w) {
		error_set(error, "out of memory");
		return NULL;
	}
	w->ring_frames = ring_frames ? ring_frames : WIRE_RING_FRAMES_DEFAULT;
	w->inject_fd = w->capture_fd = -1;
	w->recording.enabled = record;
	memcpy(w->src_mac, src_mac, 6);
	memcpy(w->dst_mac, dst_mac, 6);
	char errbuf[LIBNET_ERRBUF_SIZE] = "";
	/* No socket, no interface lookup. libnet hands built frames out (libnet_adv_cull_packet) only in an
	 * advanced mode, and its advanced link mode would open the ETH_P_ALL socket: the mode is a public
	 * field of libnet_t (libnet-structures.h), and with no socket nothing but culling reads it. */
	w->net = libnet_init(LIBNET_NONE, NULL, errbuf);
	if (!w->net) {
		error_set(error, "libnet_init: %s", errbuf);
		free(w);
		return NULL;
	}
	w->net->injection_type = LIBNET_LINK_ADV;

	int saved;
	if (netns_enter(harness_netns_fd, &saved) < 0) {
		error_set(error, "entering the harness namespace: %s", strerror(errno));
		wire_close(w);
		return NULL;
	}
	int rc = open_in_namespace(w, ifname, error);
	if (netns_leave(saved) < 0 && rc == 0)
		rc = error_set(error, "leaving the harness namespace: %s", strerror(errno));
	if (rc != 0) {
		wire_close(w);
		return NULL;
	}
	return w;
}

static uint8_t payload_pattern[SEGMENT_MAX_PAYLOAD];
static pthread_once_t payload_pattern_once = PTHREAD_ONCE_INIT;

/* Filled once for all wires: with -j, several threads inject at the same time. */
static void fill_payload_pattern(void)
{
	for (size_t i = 0; i < sizeof payload_pattern; i++)
		payload_pattern[i] = (uint8_t)('a' + i % 26);
}

/* Puts s into w->net's protocol blocks, consuming one IP ID. With reuse, a segment shaped like the
 * previous one rewrites its blocks in place; without, the packet is built from scratch. */
static int build_segment(struct wire *w, const struct segment *s, bool reuse, char **error)
{
	uint8_t options[40];
	int options_len = tcp_options_encode(s->options, s->option_count, options, sizeof options);
	if (options_len < 0)
		return error_set(error, "TCP options do not fit in 40 bytes");
	if (s->payload_len > SEGMENT_MAX_PAYLOAD)
		return error_set(error, "payload of %u bytes is too large", s->payload_len);
	char address[IP_ADDRESS_TEXT_MAX];
	if (w->restricted && !ip_address_equal(&s->dst_ip, &w->only_destination))
		return error_set(error, "refused: %s is not the declared target", ip_address_format(&s->dst_ip, address));
	bool ipv6 = !ip_address_is_ipv4(&s->src_ip);
	if (ipv6 != !ip_address_is_ipv4(&s->dst_ip))
		return error_set(error, "refused: an IPv4 and an IPv6 address in one segment");
	pthread_once(&payload_pattern_once, fill_payload_pattern);

	struct libnet_blocks *b = &w->blocks;
	if (!reuse || !b->valid || b->options_len != options_len || b->payload_len != s->payload_len ||
	    b->ipv6 != ipv6) {
		libnet_clear_packet(w->net);
		*b = (struct libnet_blocks){ .options_len = options_len, .payload_len = s->payload_len, .ipv6 = ipv6 };
	}
	/* A failed build leaves libnet's blocks and our tags out of step: start afresh next time. */
	b->valid = false;
	uint32_t tcp_len = LIBNET_TCP_H + (uint32_t)options_len + s->payload_len;
	if (options_len > 0 &&
	    (b->options = libnet_build_tcp_options(options, (uint32_t)options_len, w->net, b->options)) == -1)
		goto libnet_error;
	b->tcp = libnet_build_tcp(s->src_port, s->dst_port, s->seq, s->ack, s->flags, s->window, 0, s->urgent,
				  (uint16_t)tcp_len, s->payload_len ? payload_pattern : NULL, s->payload_len, w->net,
				  b->tcp);
	if (b->tcp == -1)
		goto libnet_error;
	if (ipv6) {
		/* Hop limit 64 as a Linux peer would send; libnet sums TCP over the IPv6 pseudo-header. */
		struct libnet_in6_addr src, dst;
		memcpy(&src, s->src_ip.bytes, 16);
		memcpy(&dst, s->dst_ip.bytes, 16);
		b->ip = libnet_build_ipv6(s->ip_ecn, 0, (uint16_t)tcp_len, IPPROTO_TCP, 64, src, dst, NULL, 0, w->net, b->ip);
	} else {
		/* DF and TTL 64 as a Linux peer would send; the ID only has to differ between segments. */
		b->ip = libnet_build_ipv4((uint16_t)(LIBNET_IPV4_H + tcp_len), s->ip_ecn, w->next_ip_id++, IP_DF, 64,
					  IPPROTO_TCP, 0, htonl(ip_address_ipv4(&s->src_ip)),
					  htonl(ip_address_ipv4(&s->dst_ip)), NULL, 0, w->net, b->ip);
	}
	if (b->ip == -1)
		goto libnet_error;
	b->ethernet = libnet_build_ethernet(w->dst_mac, w->src_mac, ipv6 ? ETHERTYPE_IPV6 : ETHERTYPE_IP, NULL, 0,
					    w->net, b->ethernet);
	if (b->ethernet == -1)
		goto libnet_error;
	b->valid = true;
	return 0;
libnet_error:
	return error_set(error, "libnet: %s", libnet_geterror(w->net));
}

/* The frame in w->net's blocks with its checksums, in a buffer for libnet_adv_free_packet. */
static int cull_frame(struct wire *w, uint8_t **frame, uint32_t *len, char **error)
{
	if (libnet_adv_cull_packet(w->net, frame, len) == -1)
		return error_set(error, "libnet: %s", libnet_geterror(w->net));
	return 0;
}

/* Where every frame goes: out of the harness end, as libnet_write_link addressed it. */
static struct sockaddr_ll harness_end(const struct wire *w)
{
	return (struct sockaddr_ll){ .sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
				     .sll_ifindex = w->ifindex };
}

int wire_inject(struct wire *w, const struct segment *s, int64_t *sent_ns, char **error)
{
	uint8_t *built;
	uint32_t len;
	if (build_segment(w, s, false, error) < 0 || cull_frame(w, &built, &len, error) < 0)
		return -1;
	struct sockaddr_ll to = harness_end(w);
	*sent_ns = wire_now_ns();
	ssize_t n = sendto(w->inject_fd, built, len, 0, (struct sockaddr *)&to, sizeof to);
	int err = errno;
	libnet_adv_free_packet(w->net, built);
	if (n != (ssize_t)len)
		return error_set(error, "sending on the harness end: %s", n < 0 ? strerror(err) : "short write");
	return 0;
}

int wire_build_frame(struct wire *w, const struct segment *s, uint8_t *frame, size_t size, char **error)
{
	uint8_t *built;
	uint32_t len;
	if (build_segment(w, s, true, error) < 0 || cull_frame(w, &built, &len, error) < 0)
		return -1;
	int rc = (int)len;
	if (len > size)
		rc = error_set(error, "a frame of %u bytes does not fit in %zu", len, size);
	else
		memcpy(frame, built, len);
	libnet_adv_free_packet(w->net, built);
	return rc;
}

/* Hands messages[0..count) to the kernel. Returns how many went before an error (errno), count when all did. */
static unsigned send_frames(struct wire *w, struct mmsghdr *messages, unsigned count)
{
	unsigned sent = 0;
	while (sent < count) {
		int n = sendmmsg(w->inject_fd, messages + sent, count - sent, 0);
		if (n < 0 && errno != EINTR)
			break;
		if (n > 0)
			sent += (unsigned)n;
	}
	return sent;
}

int wire_inject_batch(struct wire *w, const struct segment *segments, size_t count, int64_t *sent_ns,
		      char **error)
{
	struct sockaddr_ll to = harness_end(w);
	struct mmsghdr messages[WIRE_BATCH_CHUNK];
	struct iovec frames[WIRE_BATCH_CHUNK];

	for (size_t done = 0; done < count;) {
		unsigned n = 0;
		int rc = 0;
		for (; n < WIRE_BATCH_CHUNK && done + n < count; n++) {
			uint8_t *built;
			uint32_t len;
			if (build_segment(w, &segments[done + n], true, error) < 0 ||
			    cull_frame(w, &built, &len, error) < 0) {
				rc = -1;
				break;
			}
			frames[n] = (struct iovec){ .iov_base = built, .iov_len = len };
			messages[n] = (struct mmsghdr){ .msg_hdr = { .msg_name = &to, .msg_namelen = sizeof to,
								     .msg_iov = &frames[n], .msg_iovlen = 1 } };
		}
		if (rc == 0) {
			if (done == 0)
				*sent_ns = wire_now_ns();
			unsigned sent = send_frames(w, messages, n);
			if (sent < n)
				rc = error_set(error, "sendmmsg on the harness end: %s (%zu of %zu frames sent)",
					       strerror(errno), done + sent, count);
		}
		for (unsigned i = 0; i < n; i++)
			libnet_adv_free_packet(w->net, frames[i].iov_base);
		if (rc < 0)
			return -1;
		done += n;
	}
	return 0;
}

struct frame_context {
	struct wire *wire;
	struct wire_frame *frame;
};

/* Keeps a frame; out of memory, the recording stops there and wire_recording says so. Returns its
 * index, or -1. */
static int record_frame(struct recording *r, int64_t at_ns, const u_char *bytes, uint32_t len)
{
	if (!r->enabled || r->out_of_memory)
		return -1;
	if (r->used + len > r->capacity) {
		size_t capacity = r->capacity ? r->capacity : 64 * 1024;
		while (capacity < r->used + len)
			capacity *= 2;
		uint8_t *grown = realloc(r->bytes, capacity);
		if (!grown)
			goto out_of_memory;
		r->bytes = grown;
		r->capacity = capacity;
	}
	if (r->count == r->frame_capacity) {
		int capacity = r->frame_capacity ? 2 * r->frame_capacity : 256;
		struct recorded *grown = realloc(r->frames, (size_t)capacity * sizeof *grown);
		if (!grown)
			goto out_of_memory;
		r->frames = grown;
		r->frame_capacity = capacity;
	}
	memcpy(r->bytes + r->used, bytes, len);
	r->frames[r->count] = (struct recorded){ at_ns, r->used, len };
	r->used += len;
	return r->count++;
out_of_memory:
	r->out_of_memory = true;
	return -1;
}

static void take_frame(u_char *user, const struct pcap_pkthdr *header, const u_char *bytes)
{
	struct frame_context *ctx = (struct frame_context *)user;
	struct wire_frame *frame = ctx->frame;
	/* With nanosecond precision, tv_usec holds nanoseconds. */
	frame->at_ns = (int64_t)header->ts.tv_sec * 1000000000 + header->ts.tv_usec;
	frame->recorded = record_frame(&ctx->wire->recording, frame->at_ns, bytes, header->caplen);
	frame->decode_error = NULL;
	frame->decoded = segment_decode_ethernet(bytes, header->caplen, &frame->segment, &frame->decode_error) == 0;
	frame->icmpv6 = !frame->decoded &&
			segment_decode_icmpv6(bytes, header->caplen, &frame->icmpv6_type, &frame->icmpv6_code);
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

uint32_t wire_ring_frames(const struct wire *w)
{
	return w->ring_frames;
}

int64_t wire_capture_dropped(struct wire *w)
{
	struct pcap_stat stats;
	return pcap_stats(w->capture, &stats) == 0 ? (int64_t)stats.ps_drop : -1;
}

/* Closing a packet socket waits for RCU grace periods: its ring's teardown and then its release each
 * call synchronize_net (packet_set_ring, packet_release), 15-30 ms each under load. A process cannot end
 * before its own descriptors are released, so a socket released by the harness, on any thread, kept
 * the whole process from exiting. The last references go to a releaser process instead (release_later),
 * which exits once the kernel has released them; the harness waits for none of it, in a case or at its
 * exit. Releasers are reaped by wire_wait_released or, once the harness has gone, by init. */
#define RELEASERS_MAX 64
#define RELEASER_STACK_BYTES (64 * 1024)
struct releaser {
	pid_t pid;
	int *stack; /* the child's own block of the harness's memory, freed once the child is reaped: the two
		     * descriptors it keeps (-1: none) at its start, the child's stack above them */
};
static pthread_mutex_t releasers_lock = PTHREAD_MUTEX_INITIALIZER;
static struct releaser releasers[RELEASERS_MAX];
static int releaser_count;

int wire_recorded_count(const struct wire *w)
{
	return w->recording.count;
}

int wire_recording(struct wire *w, struct wire_recorded_frame **frames, int *count, char **error)
{
	struct recording *r = &w->recording;
	if (w->capture) {
		struct wire_frame scratch;
		struct frame_context ctx = { w, &scratch };
		while (pcap_dispatch(w->capture, -1, take_frame, (u_char *)&ctx) > 0)
			;
	}
	if (r->out_of_memory)
		return error_set(error, "out of memory after %d frames", r->count);
	*frames = calloc((size_t)r->count + 1, sizeof **frames);
	if (!*frames)
		return error_set(error, "out of memory");
	for (int i = 0; i < r->count; i++)
		(*frames)[i] = (struct wire_recorded_frame){ r->frames[i].at_ns, r->bytes + r->frames[i].offset,
							     r->frames[i].len };
	*count = r->count;
	return 0;
}

/* Reaps the releasers that are done (block: all of them). Called with releasers_lock held. */
static void reap_releasers(bool block)
{
	for (int i = 0; i < releaser_count;) {
		pid_t rc;
		while ((rc = waitpid(releasers[i].pid, NULL, __WALL | (block ? 0 : WNOHANG))) < 0 && errno == EINTR)
			;
		if (rc == 0) {
			i++;
			continue;
		}
		free(releasers[i].stack);
		releasers[i] = releasers[--releaser_count];
	}
}

/* The releaser child. It shares the harness's memory (CLONE_VM: no page tables copied) but not its
 * descriptors, keeps the two it was given, and ends, which closes them. Only system calls that cannot
 * fail here (so errno, the parent thread's, stays untouched), with every signal blocked. */
static int releaser_main(void *arg)
{
	const int *keep = arg;
	int low = keep[0] < keep[1] ? keep[0] : keep[1];
	int high = keep[0] < keep[1] ? keep[1] : keep[0];
	setsid();
	if (low > 0)
		close_range(0, (unsigned)low - 1, 0);
	if (high > low + 1)
		close_range((unsigned)low + 1, (unsigned)high - 1, 0);
	close_range((unsigned)high + 1, ~0u, 0);
	return 0;
}

/* Hands the last references to a and b (-1: none) to a releaser child that closes every other
 * descriptor it inherited and exits; its exit closes a and b and waits for their grace periods, while
 * the harness goes on at once (it does not even wait for the child to be scheduled). Its own session:
 * the harness's ends with the harness. Without a child, the caller pays the waits. */
static void release_later(int a, int b)
{
	if (a < 0 && b < 0)
		return;
	pthread_mutex_lock(&releasers_lock);
	reap_releasers(false);
	pid_t pid = -1;
	struct releaser *r = &releasers[releaser_count];
	if (releaser_count < RELEASERS_MAX && (r->stack = malloc(RELEASER_STACK_BYTES))) {
		r->stack[0] = a;
		r->stack[1] = b;
		sigset_t all, old;
		sigfillset(&all);
		pthread_sigmask(SIG_SETMASK, &all, &old);
		pid = clone(releaser_main, (char *)r->stack + RELEASER_STACK_BYTES, CLONE_VM | SIGCHLD, r->stack);
		pthread_sigmask(SIG_SETMASK, &old, NULL);
		if (pid > 0) {
			r->pid = pid;
			releaser_count++;
		} else {
			free(r->stack);
		}
	}
	pthread_mutex_unlock(&releasers_lock);
	if (pid < 0) {
		if (a >= 0)
			close(a);
		if (b >= 0)
			close(b);
	}
}

/* pcap_close unmaps the ring and closes its socket; with the releaser holding the socket too, neither
 * waits for a grace period here (the ring is torn down with the socket's release). */
void wire_close(struct wire *w)
{
	if (!w)
		return;
	int capture_fd = w->capture ? pcap_fileno(w->capture) : -1;
	int inject_fd = w->inject_fd;
	w->inject_fd = -1;
	release_later(capture_fd, inject_fd);
	if (w->capture)
		pcap_close(w->capture);
	if (w->net)
		libnet_destroy(w->net);
	free(w->recording.bytes);
	free(w->recording.frames);
	free(w);
}

void wire_wait_released(void)
{
	pthread_mutex_lock(&releasers_lock);
	reap_releasers(true);
	pthread_mutex_unlock(&releasers_lock);
}
