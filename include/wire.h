/* wire.h - the harness end of the link: libnet builds crafted Ethernet/IPv4 or IPv6/TCP frames, sent on a
 * packet socket; libpcap captures both directions (immediate mode, BPF "tcp or icmp6", nanosecond
 * stamps) and records them. */
#ifndef TCPHARNESS_WIRE_H
#define TCPHARNESS_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "segment.h"

struct wire;

/* One captured frame, decoded. */
struct wire_frame {
	int64_t at_ns;             /* capture time, CLOCK_REALTIME nanoseconds */
	bool decoded;              /* false: not a TCP segment we could read; see decode_error */
	const char *decode_error;  /* static */
	bool icmpv6;               /* not decoded, but an ICMPv6 message of this type and code */
	uint8_t icmpv6_type, icmpv6_code;
	struct segment segment;
	int recorded;              /* its index in the wire's recording; -1 when the wire records none */
};

/* A frame of the recording: its bytes from the Ethernet header on. */
struct wire_recorded_frame {
	int64_t at_ns;
	const uint8_t *bytes;
	uint32_t len;
};

/* The frames a capture ring holds unless told otherwise (1 MiB of buffer), and at most (64 MiB). */
#define WIRE_RING_FRAMES_DEFAULT 16
#define WIRE_RING_FRAMES_MAX 1024

/* Opens injection and capture on ifname inside harness_netns_fd's namespace (the sockets stay bound to
 * it); with record, it keeps every frame it captures for wire_recording. Frames go from src_mac to
 * dst_mac. The capture's ring holds ring_frames frames of any size captured but not yet read (0:
 * WIRE_RING_FRAMES_DEFAULT; at most WIRE_RING_FRAMES_MAX), its memory growing with them: a flood sizes
 * it to what it sends between reads (storm_ring_frames). Returns a wire, or NULL with *error malloc'd. */
struct wire *wire_open(int harness_netns_fd, const char *ifname, const uint8_t src_mac[6],
		       const uint8_t dst_mac[6], bool record, uint32_t ring_frames, char **error);

/* Readies a wire that outlives its cases (on a sandbox_link) for the next one: frames go to dst_mac (the
 * case's target end), only frames to or from it are captured from now on (none of an earlier case is
 * ever read, even one still on its way), the recording starts empty (kept with record) and IP IDs start
 * again as on a new wire. 0, or -1 with *error malloc'd. */
int wire_begin_case(struct wire *w, const uint8_t dst_mac[6], bool record, char **error);

/* On a link the harness shares with other hosts (lab mode): captures only target's TCP and ICMPv6,
 * and refuses to build any segment addressed elsewhere. 0, or -1 with *error malloc'd. */
int wire_restrict(struct wire *w, const struct ip_address *target, char **error);

/* Builds and sends one segment (checksums computed; payload is payload_len pattern bytes).
 * *sent_ns gets the CLOCK_REALTIME time just before the write. 0, or -1 with *error malloc'd. */
int wire_inject(struct wire *w, const struct segment *segment, int64_t *sent_ns, char **error);

/* Sends segments[0..count) in order, each frame byte for byte what wire_inject would have sent in its
 * place (IP IDs included), handed to the kernel many per system call (sendmmsg): for floods.
 * *sent_ns gets the CLOCK_REALTIME time just before the first frame goes (untouched when count is 0).
 * 0, or -1 with *error malloc'd; frames of a failing call may already be on the wire. */
int wire_inject_batch(struct wire *w, const struct segment *segments, size_t count, int64_t *sent_ns,
		      char **error);

/* Builds into frame[0..size) the frame wire_inject would send for segment now, consuming its IP ID, but
 * sends nothing: for senders outside the wire. Returns the frame's length, or -1 with *error malloc'd. */
int wire_build_frame(struct wire *w, const struct segment *segment, uint8_t *frame, size_t size, char **error);

/* Next captured frame in either direction, waiting until deadline_ns (CLOCK_REALTIME) at most; each
 * frame is also recorded. Returns 1 with *frame filled, 0 at the deadline, -1 with *error malloc'd. */
int wire_next(struct wire *w, int64_t deadline_ns, struct wire_frame *frame, char **error);

/* How many frames captured but not yet read the capture's ring holds at least (wire_open's ring_frames). */
uint32_t wire_ring_frames(const struct wire *w);

/* How many frames the capture lost so far because its ring was full (the harness read too slowly), or
 * -1 when libpcap cannot say. */
int64_t wire_capture_dropped(struct wire *w);

/* How many frames the wire has recorded so far (0 when it records none). */
int wire_recorded_count(const struct wire *w);

/* Every frame captured until now, in capture order, those not yet read by wire_next included: sets
 * *frames (malloc'd array, the caller frees it; its bytes stay the wire's until wire_close) and *count.
 * 0, or -1 with *error malloc'd. */
int wire_recording(struct wire *w, struct wire_recorded_frame **frames, int *count, char **error);

/* Closes the wire and frees its recording without waiting for the kernel to release its sockets: a
 * short-lived child process (sharing this one's memory) holds their last references and exits when
 * they are released (see wire_wait_released). NULL is fine. */
void wire_close(struct wire *w);

/* Waits until every closed wire's sockets are released, for callers that must see them gone. A process
 * need not call it before it exits, and its exit does not wait for them: the releasing children end on
 * their own, a grace period or two later, in a session of their own. */
void wire_wait_released(void);

/* CLOCK_REALTIME now in nanoseconds: the clock pcap stamps frames with. */
int64_t wire_now_ns(void);

#endif
