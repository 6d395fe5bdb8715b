/* segment.h - the two shapes of a TCP segment every module shares.
 * `struct segment` is what was on the wire (absolute numbers, addresses); `struct segment_spec` is what a
 * case line says or what an observed segment looks like in relative numbers (packetdrill convention). */
#ifndef TCPHARNESS_SEGMENT_H
#define TCPHARNESS_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ip_address.h"

#define TCP_FLAG_FIN 0x01
#define TCP_FLAG_SYN 0x02
#define TCP_FLAG_RST 0x04
#define TCP_FLAG_PSH 0x08
#define TCP_FLAG_ACK 0x10
#define TCP_FLAG_URG 0x20
#define TCP_FLAG_ECE 0x40
#define TCP_FLAG_CWR 0x80

enum tcp_option_kind {
	TCP_OPTION_EOL = 0,
	TCP_OPTION_NOP = 1,
	TCP_OPTION_MSS = 2,
	TCP_OPTION_WSCALE = 3,
	TCP_OPTION_SACK_PERMITTED = 4,
	TCP_OPTION_SACK = 5,
	TCP_OPTION_TIMESTAMP = 8,
	TCP_OPTION_FAST_OPEN = 34,    /* RFC 7413 4.1.1: kind, length, cookie (0 or 4..16 bytes) */
	TCP_OPTION_EXPERIMENTAL = 254, /* RFC 6994; with magic 0xF989 the pre-RFC Fast Open option */
};

/* RFC 6994 ExID of the experimental Fast Open option (before kind 34 was assigned). */
#define TCP_FAST_OPEN_EXP_MAGIC 0xF989
/* RFC 7413 4.1.1 makes a cookie 4..16 bytes; a segment may carry a malformed one up to what the
 * 40 bytes of option space leave (a test of the stack's checks injects one, as packetdrill can). */
#define TCP_FAST_OPEN_COOKIE_MAX 38

#define SEGMENT_MAX_OPTIONS 16
#define SACK_MAX_BLOCKS 4
/* Largest payload a case may inject or the decoder keeps a length for. */
#define SEGMENT_MAX_PAYLOAD 65000

/* One option as decoded from the wire. Unknown kinds keep kind and length only. */
struct tcp_option {
	uint8_t kind;
	uint8_t length; /* on-wire length including kind and length bytes (1 for EOL/NOP) */
	uint16_t mss;
	uint8_t wscale;
	uint32_t ts_val, ts_ecr;
	uint8_t sack_block_count;
	uint32_t sack_left[SACK_MAX_BLOCKS], sack_right[SACK_MAX_BLOCKS];
	uint16_t exp_magic; /* kind 254: the ExID; only TCP_FAST_OPEN_EXP_MAGIC's cookie is decoded */
	uint8_t cookie_len; /* Fast Open (34, or 254 with the Fast Open magic): the cookie */
	uint8_t cookie[TCP_FAST_OPEN_COOKIE_MAX];
};

/* A segment as captured or injected: every number absolute; an IPv4 segment's addresses are IPv4
 * ones (ip_address_is_ipv4), an IPv6 segment's are not. */
/* The IP ECN field's codepoints (RFC 3168 5): the low two bits of IPv4's TOS and IPv6's traffic class. */
enum { IP_ECN_NOT_ECT = 0, IP_ECN_ECT1 = 1, IP_ECN_ECT0 = 2, IP_ECN_CE = 3 };

struct segment {
	struct ip_address src_ip, dst_ip;
	uint16_t src_port, dst_port;
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t window;
	uint16_t urgent;
	size_t option_count;
	struct tcp_option options[SEGMENT_MAX_OPTIONS];
	uint32_t payload_len;
	uint8_t ip_ecn; /* the IP header's ECN field (RFC 3168 5): IP_ECN_NOT_ECT .. IP_ECN_CE */
	bool ip_checksum_ok, tcp_checksum_ok; /* IPv6 has no header checksum: ip_checksum_ok is true */
};

/* How a number in a case line (or a relative view of an observed one) is given. */
enum spec_kind {
	SPEC_UNSET = 0, /* not written: expected -> not checked; injected -> harness default */
	SPEC_VALUE,     /* a literal number */
	SPEC_ANY,       /* `*`: anything matches (expected segments only) */
	SPEC_AUTO,      /* `auto`: filled from peer state (TS ecr, TS val from the peer's clock) */
	SPEC_RELATIVE,  /* `+N`/`-N` on TS val: offset from the peer's clock now */
};

struct spec_value {
	enum spec_kind kind;
	int64_t value;
};

struct option_spec {
	uint8_t kind;
	/* mss: v[0]; wscale: v[0]; TS: v[0]=val v[1]=ecr; sack: v[2i]=left v[2i+1]=right */
	struct spec_value v[2 * SACK_MAX_BLOCKS];
	uint8_t sack_block_count;
	/* Fast Open (kind 34, or 254 with its magic): the cookie's bytes, compared byte for byte */
	uint8_t cookie_len;
	uint8_t cookie[TCP_FAST_OPEN_COOKIE_MAX];
	/* The cookie the stack, as a server, makes for this peer (a .pkt's TFO_COOKIE): its bytes depend
	 * on the run's addresses, so the run fills them in (peer.h) */
	bool stack_cookie;
	/* An expected TS (a .pkt's --tcp_ts_tick_usecs): its val counts in ticks of this many µs from the
	 * connection's first one the stack sent, within ts_tolerance_usecs (peer_map_ts_ticks); 0: the
	 * val is compared as v[0] says. */
	uint32_t ts_tick_usecs;
	uint32_t ts_tolerance_usecs;
};

/* A segment in the case language's terms: seq relative to the sender's ISN, ack relative to the
 * receiver's ISN. Used for injected segments, expected segments and relative views of observed ones. */
struct segment_spec {
	uint8_t flags;
	struct spec_value seq;  /* start of the sequence range (`start:end(len)`) */
	/* `old START:END(LEN)` (an expected SYN only): seq counts from the ISN the stack had with this peer
	 * before this SYN, the previous incarnation's, not from the ISN the SYN itself announces. */
	bool seq_in_old_numbers;
	uint32_t payload_len;   /* len; end = start + len */
	struct spec_value ack;  /* SPEC_UNSET when the line has no `ack` */
	struct spec_value win;  /* SPEC_UNSET when the line has no `win` */
	bool has_options;       /* false: `<...>` absent (expected: not checked; injected: none) */
	/* `{...}` instead of `<...>` (expected segments only): the same options in any order, with any
	 * nop/eol padding. For cases whose subject is not the option layout, so that stacks that lay out
	 * the same options differently (lwIP: `mss,nop,nop,TS,nop,wscale,nop,nop,sackOK`) meet one line. */
	bool options_as_set;
	size_t option_count;
	struct option_spec options[SEGMENT_MAX_OPTIONS];
	/* A .pkt's `[ect0]`: the IP ECN field (IP_ECN_*), checked on an expected segment and written on an
	 * injected one; without it an expected segment's field is not checked and an injected one is
	 * Not-ECT. */
	bool has_ip_ecn;
	uint8_t ip_ecn;
};

#endif
