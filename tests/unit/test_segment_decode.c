/* test_segment_decode.c - unit tests for segment_decode.c on hand-built frames, cut and corrupted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inet_checksum.h"
#include "segment_decode.h"

/* 192.0.2.1:8080 > 192.0.2.10:40000 S. seq 3735928559 ack 1000001 win 65160
 * <mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7>, DF, TTL 64; checksums computed outside this code. */
static const uint8_t syn_ack_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
	0xb6, 0xb0, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x0a, 0x1f, 0x90,
	0x9c, 0x40, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x0f, 0x42, 0x41, 0xa0, 0x12,
	0xfe, 0x88, 0x28, 0xbe, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
	0x08, 0x0a, 0x00, 0x00, 0x00, 0x7b, 0x00, 0x00, 0x00, 0x64, 0x01, 0x03,
	0x03, 0x07,
};

/* 192.0.2.10:40000 > 192.0.2.1:8080 P. seq 1000001 ack 3735928560 win 502 len 5 ("hello"). */
static const uint8_t psh_ack_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x2d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
	0xb6, 0xbf, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x00, 0x02, 0x01, 0x9c, 0x40,
	0x1f, 0x90, 0x00, 0x0f, 0x42, 0x41, 0xde, 0xad, 0xbe, 0xf0, 0x50, 0x18,
	0x01, 0xf6, 0x4a, 0x34, 0x00, 0x00, 0x68, 0x65, 0x6c, 0x6c, 0x6f,
};
#define PSH_ACK_HEADERS_END 54

/* A pure ACK padded by the link to the 60-byte Ethernet minimum. */
static const uint8_t ack_frame_padded[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06,
	0xb6, 0xc4, 0xc0, 0x00, 0x02, 0x0a, 0xc0, 0x00, 0x02, 0x01, 0x9c, 0x40,
	0x1f, 0x90, 0x00, 0x0f, 0x42, 0x41, 0xde, 0xad, 0xbe, 0xf0, 0x50, 0x10,
	0x01, 0xf6, 0x8e, 0x13, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
};

#define ETH 14
#define IP_TOTAL_LENGTH (ETH + 2)
#define IP_FRAGMENT (ETH + 6)
#define IP_TTL (ETH + 8)
#define IP_PROTOCOL (ETH + 9)
#define IP_CHECKSUM (ETH + 10)
#define TCP_START (ETH + 20)
#define TCP_DATA_OFFSET (TCP_START + 12)
#define TCP_OPTIONS (TCP_START + 20)

/* The SYN-ACK above over IPv6: [2001:db8::c000:201]:8080 > [2001:db8::c000:20a]:40000, hop limit 64;
 * the TCP checksum over the IPv6 pseudo-header computed outside this code. */
static const uint8_t syn_ack_frame_ipv6[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00,
	0x02, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x0a, 0x1f, 0x90, 0x9c, 0x40, 0xde, 0xad,
	0xbe, 0xef, 0x00, 0x0f, 0x42, 0x41, 0xa0, 0x12, 0xfe, 0x88, 0xcd, 0x4b,
	0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x7b, 0x00, 0x00, 0x00, 0x64, 0x01, 0x03, 0x03, 0x07,
};

/* The same behind a hop-by-hop and a destination options header (8 bytes each, PadN). */
static const uint8_t syn_ack_frame_ipv6_extensions[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x00, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00,
	0x02, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x0a, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00,
	0x00, 0x00, 0x06, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x1f, 0x90,
	0x9c, 0x40, 0xde, 0xad, 0xbe, 0xef, 0x00, 0x0f, 0x42, 0x41, 0xa0, 0x12,
	0xfe, 0x88, 0xcd, 0x4b, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x04, 0x02,
	0x08, 0x0a, 0x00, 0x00, 0x00, 0x7b, 0x00, 0x00, 0x00, 0x64, 0x01, 0x03,
	0x03, 0x07,
};

/* ICMPv6 destination unreachable (type 1, code 4: port unreachable) quoting the IPv6 SYN-ACK's start. */
static const uint8_t icmpv6_unreachable_frame[] = {
	0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a,
	0x86, 0xdd, 0x60, 0x00, 0x00, 0x00, 0x00, 0x38, 0x3a, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00,
	0x02, 0x0a, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x01, 0x01, 0x04, 0x7f, 0xb5, 0x00, 0x00,
	0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x28, 0x06, 0x40, 0x20, 0x01,
	0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0x00,
	0x02, 0x01, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0xc0, 0x00, 0x02, 0x0a, 0x1f, 0x90, 0x9c, 0x40, 0xde, 0xad,
	0xbe, 0xef,
};

#define IPV6_NEXT_HEADER (ETH + 6)
#define IPV6_EXTENSIONS (ETH + 40)

static uint32_t ipv4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
	return (uint32_t)a << 24 | (uint32_t)b << 16 | (uint32_t)c << 8 | d;
}

/* Keeps the IPv4 header checksum right after a test edits the header, so only the edit is tested. */
static void refresh_ip_checksum(uint8_t *frame)
{
	frame[IP_CHECKSUM] = frame[IP_CHECKSUM + 1] = 0;
	uint16_t checksum = inet_checksum(frame + ETH, (size_t)(frame[ETH] & 0x0f) * 4);
	frame[IP_CHECKSUM] = (uint8_t)(checksum >> 8);
	frame[IP_CHECKSUM + 1] = (uint8_t)checksum;
}

/* frame[0..len) decoded from a heap copy of exactly len bytes (ASan and valgrind watch its end),
 * ICMPv6 too; segment_decode_ethernet's result. */
static int decode_copy(const uint8_t *frame, size_t len, struct segment *segment, const char **error)
{
	uint8_t *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	memcpy(copy, frame, len);
	int rc = segment_decode_ethernet(copy, len, segment, error);
	uint8_t type, code;
	segment_decode_icmpv6(copy, len, &type, &code);
	free(copy);
	return rc;
}

/* The segment in frame, which must decode. */
static struct segment decoded(const uint8_t *frame, size_t len)
{
	struct segment segment;
	const char *error = NULL;
	if (decode_copy(frame, len, &segment, &error) != 0)
		fail_msg("refused: %s", error ? error : "(no error)");
	return segment;
}

static void refused(const uint8_t *frame, size_t len, const char *expected_error)
{
	struct segment segment;
	const char *error = NULL;
	assert_int_equal(decode_copy(frame, len, &segment, &error), -1);
	assert_string_equal(error, expected_error);
}

static void decode_syn_ack_every_field(void **state)
{
	(void)state;
	struct segment segment = decoded(syn_ack_frame, sizeof(syn_ack_frame));
	assert_int_equal(ip_address_ipv4(&segment.src_ip), ipv4(192, 0, 2, 1));
	assert_int_equal(ip_address_ipv4(&segment.dst_ip), ipv4(192, 0, 2, 10));
	assert_int_equal(segment.src_port, 8080);
	assert_int_equal(segment.dst_port, 40000);
	assert_int_equal(segment.seq, 3735928559u);
	assert_int_equal(segment.ack, 1000001);
	assert_int_equal(segment.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(segment.window, 65160);
	assert_int_equal(segment.urgent, 0);
	assert_int_equal(segment.payload_len, 0);
	assert_true(segment.ip_checksum_ok);
	assert_true(segment.tcp_checksum_ok);
	assert_int_equal(segment.option_count, 5);
	assert_int_equal(segment.options[0].kind, TCP_OPTION_MSS);
	assert_int_equal(segment.options[0].mss, 1460);
	assert_int_equal(segment.options[1].kind, TCP_OPTION_SACK_PERMITTED);
	assert_int_equal(segment.options[2].kind, TCP_OPTION_TIMESTAMP);
	assert_int_equal(segment.options[2].ts_val, 123);
	assert_int_equal(segment.options[2].ts_ecr, 100);
	assert_int_equal(segment.options[3].kind, TCP_OPTION_NOP);
	assert_int_equal(segment.options[4].kind, TCP_OPTION_WSCALE);
	assert_int_equal(segment.options[4].wscale, 7);
}

static void decode_data_segment(void **state)
{
	(void)state;
	struct segment segment = decoded(psh_ack_frame, sizeof(psh_ack_frame));
	assert_int_equal(segment.flags, TCP_FLAG_PSH | TCP_FLAG_ACK);
	assert_int_equal(segment.seq, 1000001);
	assert_int_equal(segment.ack, 3735928560u);
	assert_int_equal(segment.window, 502);
	assert_int_equal(segment.payload_len, 5);
	assert_int_equal(segment.option_count, 0);
	assert_true(segment.ip_checksum_ok);
	assert_true(segment.tcp_checksum_ok);
}

static void decode_ignores_ethernet_padding(void **state)
{
	(void)state;
	struct segment segment = decoded(ack_frame_padded, sizeof(ack_frame_padded));
	assert_int_equal(segment.flags, TCP_FLAG_ACK);
	assert_int_equal(segment.payload_len, 0);
	assert_true(segment.tcp_checksum_ok);
}

static void decode_from_ipv4_header(void **state)
{
	(void)state;
	struct segment segment;
	const char *error = NULL;
	assert_int_equal(segment_decode_ipv4(syn_ack_frame + ETH, sizeof(syn_ack_frame) - ETH, &segment, &error),
			 0);
	assert_int_equal(segment.seq, 3735928559u);
	assert_int_equal(segment.option_count, 5);
	assert_true(segment.tcp_checksum_ok);
}

/* Cut anywhere inside the headers, a frame is refused with a message; never read past caplen. */
static void truncated_syn_ack_at_every_byte(void **state)
{
	(void)state;
	for (size_t caplen = 0; caplen < sizeof(syn_ack_frame); caplen++) {
		struct segment segment;
		const char *error = NULL;
		int rc = decode_copy(syn_ack_frame, caplen, &segment, &error);
		if (rc != -1 || error == NULL || error[0] == '\0')
			fail_msg("caplen %zu: rc %d error %s", caplen, rc, error ? error : "(none)");
	}
}

/* Cut inside the payload, the headers still decode and the TCP checksum is reported not ok. */
static void truncated_payload_decodes_headers(void **state)
{
	(void)state;
	for (size_t caplen = 0; caplen < sizeof(psh_ack_frame); caplen++) {
		struct segment segment;
		const char *error = NULL;
		int rc = decode_copy(psh_ack_frame, caplen, &segment, &error);
		if (caplen < PSH_ACK_HEADERS_END) {
			if (rc != -1 || error == NULL)
				fail_msg("caplen %zu: headers cut but rc %d", caplen, rc);
			continue;
		}
		if (rc != 0)
			fail_msg("caplen %zu: rc %d error %s", caplen, rc, error ? error : "(none)");
		assert_int_equal(segment.payload_len, 5);
		assert_int_equal(segment.seq, 1000001);
		assert_true(segment.ip_checksum_ok);
		assert_false(segment.tcp_checksum_ok);
	}
}

/* Up to two bytes of a frame set to other values (an edit at 0 is none: no test edits a MAC). */
struct frame_edit {
	size_t at;
	uint8_t value;
};
#define EDITS_MAX 2

static void edit(uint8_t *frame, const struct frame_edit edits[EDITS_MAX])
{
	for (int i = 0; i < EDITS_MAX; i++)
		if (edits[i].at)
			frame[edits[i].at] = edits[i].value;
}

/* An edit the checksums must see, or must not, in a frame that still decodes (its option_count
 * options too). Where refresh_ip is set the IPv4 header checksum is made right again after the edit,
 * so only the edit is tested. */
static const struct checksum_case {
	const char *what;
	const uint8_t *frame;
	size_t len;
	int option_count;
	struct frame_edit edits[EDITS_MAX];
	bool refresh_ip, ip_ok, tcp_ok;
} checksum_cases[] = {
	{ "one payload bit", psh_ack_frame, sizeof psh_ack_frame, 0, { { sizeof psh_ack_frame - 1, 'o' ^ 0x01 } },
	  false, true, false },
	{ "destination 192.0.2.11 (in the pseudo-header)", syn_ack_frame, sizeof syn_ack_frame, 5,
	  { { ETH + 19, 11 } }, true, true, false },
	{ "TTL 63 (outside the pseudo-header)", syn_ack_frame, sizeof syn_ack_frame, 5, { { IP_TTL, 63 } }, false,
	  false, true },
	/* MF, offset 0: the rest of the segment is elsewhere, so its checksum cannot be checked. */
	{ "a first fragment", syn_ack_frame, sizeof syn_ack_frame, 5, { { IP_FRAGMENT, 0x20 } }, true, true, false },
	/* The IPv6 pseudo-header covers both addresses. */
	{ "one bit of the IPv6 destination", syn_ack_frame_ipv6, sizeof syn_ack_frame_ipv6, 5,
	  { { ETH + 39, 0x0a ^ 0x01 } }, false, true, false },
};

static void checksums_see_what_they_cover(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof checksum_cases / sizeof checksum_cases[0]; i++) {
		const struct checksum_case *c = &checksum_cases[i];
		uint8_t frame[128];
		assert_true(c->len <= sizeof frame);
		memcpy(frame, c->frame, c->len);
		edit(frame, c->edits);
		if (c->refresh_ip)
			refresh_ip_checksum(frame);
		struct segment segment = decoded(frame, c->len);
		if (segment.ip_checksum_ok != c->ip_ok || segment.tcp_checksum_ok != c->tcp_ok)
			fail_msg("%s: IP checksum %s, TCP checksum %s", c->what, segment.ip_checksum_ok ? "ok" : "bad",
				 segment.tcp_checksum_ok ? "ok" : "bad");
		assert_int_equal(segment.option_count, c->option_count);
	}
}

/* The IPv4 SYN-ACK edited into something the decoder must refuse, cut at caplen (0: not cut). */
static const struct refusal {
	struct frame_edit edits[EDITS_MAX];
	size_t caplen;
	const char *error;
} ipv4_refusals[] = {
	{ { { 12, 0x86 }, { 13, 0xdd } }, 0, "not IPv6" },             /* IPv6's EtherType over an IPv4 header */
	{ { { 12, 0x08 }, { 13, 0x06 } }, 0, "neither IPv4 nor IPv6" }, /* ARP */
	{ { { ETH, 0x65 } }, 0, "not IPv4" },
	{ { { ETH, 0x44 } }, 0, "IPv4 header length below 20" },
	/* A 60-byte IP header, but the frame is cut at 34 + 20. */
	{ { { ETH, 0x4f } }, ETH + 40, "truncated IPv4 options" },
	{ { { IP_TOTAL_LENGTH, 0 }, { IP_TOTAL_LENGTH + 1, 19 } }, 0, "IPv4 total length shorter than its header" },
	{ { { IP_TOTAL_LENGTH, 0 }, { IP_TOTAL_LENGTH + 1, 39 } }, 0, "IP payload too short for a TCP header" },
	/* IP says 36 bytes of TCP, the data offset says 40. */
	{ { { IP_TOTAL_LENGTH + 1, 56 } }, 0, "TCP data offset past the IP payload" },
	{ { { TCP_DATA_OFFSET, 0x40 } }, 0, "TCP data offset below 5" },
	{ { { IP_PROTOCOL, 17 } }, 0, "not TCP" },
	{ { { IP_FRAGMENT, 0x00 }, { IP_FRAGMENT + 1, 0x01 } }, 0, "IPv4 fragment other than the first" },
	{ { { TCP_OPTIONS + 1, 5 } }, 0, "mss option length is not 4" },
};

static void ipv4_refusals_say_what_is_wrong(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof ipv4_refusals / sizeof ipv4_refusals[0]; i++) {
		const struct refusal *r = &ipv4_refusals[i];
		uint8_t frame[sizeof(syn_ack_frame)];
		memcpy(frame, syn_ack_frame, sizeof(frame));
		edit(frame, r->edits);
		refused(frame, r->caplen ? r->caplen : sizeof(frame), r->error);
	}
}

static void decode_ipv6_syn_ack(const uint8_t *frame, size_t len)
{
	struct segment segment = decoded(frame, len);
	char text[IP_ADDRESS_TEXT_MAX];
	assert_string_equal(ip_address_format(&segment.src_ip, text), "2001:db8::c000:201");
	assert_string_equal(ip_address_format(&segment.dst_ip, text), "2001:db8::c000:20a");
	assert_int_equal(segment.src_port, 8080);
	assert_int_equal(segment.seq, 3735928559u);
	assert_int_equal(segment.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_int_equal(segment.option_count, 5);
	assert_true(segment.ip_checksum_ok);
	assert_true(segment.tcp_checksum_ok);
}

static void decode_ipv6_every_field(void **state)
{
	(void)state;
	decode_ipv6_syn_ack(syn_ack_frame_ipv6, sizeof syn_ack_frame_ipv6);
}

static void decode_ipv6_past_extension_headers(void **state)
{
	(void)state;
	decode_ipv6_syn_ack(syn_ack_frame_ipv6_extensions, sizeof syn_ack_frame_ipv6_extensions);
}

/* Hostile extension chains: a header whose length runs past the payload or the capture, a later
 * fragment, ESP, no next header, a chain too long, a v4-mapped address in an IPv6 header. */
static void ipv6_hostile_headers_refused(void **state)
{
	(void)state;
	uint8_t frame[sizeof syn_ack_frame_ipv6_extensions];
	memcpy(frame, syn_ack_frame_ipv6_extensions, sizeof frame);
	frame[IPV6_EXTENSIONS + 1] = 200; /* hop-by-hop of 1608 bytes */
	refused(frame, sizeof frame, "IPv6 extension header past the payload");

	memcpy(frame, syn_ack_frame_ipv6_extensions, sizeof frame);
	refused(frame, IPV6_EXTENSIONS + 4, "truncated IPv6 extension header");

	memcpy(frame, syn_ack_frame_ipv6_extensions, sizeof frame);
	frame[IPV6_NEXT_HEADER] = 44; /* a fragment header with offset 8 */
	frame[IPV6_EXTENSIONS + 2] = 0x00;
	frame[IPV6_EXTENSIONS + 3] = 0x08;
	refused(frame, sizeof frame, "IPv6 fragment other than the first");

	memcpy(frame, syn_ack_frame_ipv6_extensions, sizeof frame);
	frame[IPV6_NEXT_HEADER] = 50;
	refused(frame, sizeof frame, "IPv6 ESP (encrypted)");
	frame[IPV6_NEXT_HEADER] = 59;
	refused(frame, sizeof frame, "IPv6 without an upper-layer header");

	/* Nine hop-by-hop headers chained to each other. */
	uint8_t chain[ETH + 40 + 9 * 8];
	memcpy(chain, syn_ack_frame_ipv6, ETH + 40);
	chain[ETH + 4] = 0;
	chain[ETH + 5] = 9 * 8;
	chain[IPV6_NEXT_HEADER] = 0;
	memset(chain + IPV6_EXTENSIONS, 0, 9 * 8);
	refused(chain, sizeof chain, "too many IPv6 extension headers");

	uint8_t mapped[sizeof syn_ack_frame_ipv6];
	memcpy(mapped, syn_ack_frame_ipv6, sizeof mapped);
	static const uint8_t v4_mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1 };
	memcpy(mapped + ETH + 8, v4_mapped, 16);
	refused(mapped, sizeof mapped, "IPv4-mapped address in an IPv6 header");
}

/* Every cut of the extension-header frame is refused or decoded, never read past. */
static void ipv6_truncated_at_every_byte(void **state)
{
	(void)state;
	for (size_t caplen = 0; caplen < sizeof syn_ack_frame_ipv6_extensions; caplen++) {
		struct segment segment;
		const char *error = NULL;
		int rc = decode_copy(syn_ack_frame_ipv6_extensions, caplen, &segment, &error);
		if (rc != -1 || error == NULL || error[0] == '\0')
			fail_msg("caplen %zu: rc %d error %s", caplen, rc, error ? error : "(none)");
	}
}

/* ICMPv6 is recorded as what it is, never decoded as TCP. */
static void icmpv6_is_not_tcp(void **state)
{
	(void)state;
	refused(icmpv6_unreachable_frame, sizeof icmpv6_unreachable_frame, "ICMPv6, not TCP");
	uint8_t type = 0, code = 0;
	assert_int_equal(segment_decode_icmpv6(icmpv6_unreachable_frame, sizeof icmpv6_unreachable_frame, &type, &code), 1);
	assert_int_equal(type, 1);
	assert_int_equal(code, 4);
	assert_int_equal(segment_decode_icmpv6(syn_ack_frame_ipv6, sizeof syn_ack_frame_ipv6, &type, &code), 0);
	assert_int_equal(segment_decode_icmpv6(syn_ack_frame, sizeof syn_ack_frame, &type, &code), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(decode_syn_ack_every_field),
		cmocka_unit_test(decode_data_segment),
		cmocka_unit_test(decode_ignores_ethernet_padding),
		cmocka_unit_test(decode_from_ipv4_header),
		cmocka_unit_test(truncated_syn_ack_at_every_byte),
		cmocka_unit_test(truncated_payload_decodes_headers),
		cmocka_unit_test(checksums_see_what_they_cover),
		cmocka_unit_test(ipv4_refusals_say_what_is_wrong),
		cmocka_unit_test(decode_ipv6_every_field),
		cmocka_unit_test(decode_ipv6_past_extension_headers),
		cmocka_unit_test(ipv6_hostile_headers_refused),
		cmocka_unit_test(ipv6_truncated_at_every_byte),
		cmocka_unit_test(icmpv6_is_not_tcp),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
