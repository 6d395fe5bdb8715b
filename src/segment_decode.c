/* segment_decode.c - see segment_decode.h. */
#include "segment_decode.h"

#include <netinet/in.h>
#include <string.h>

#include "inet_checksum.h"
#include "tcp_options.h"

#define ETHERNET_HEADER_LEN 14
#define ETHERTYPE_IPV4 0x0800
#define ETHERTYPE_IPV6 0x86dd
#define IPV6_HEADER_LEN 40
/* More extension headers than any sender needs: a chain longer than this is hostile. */
#define IPV6_MAX_EXTENSION_HEADERS 8
#define IPV6_FRAGMENT_OFFSET_MASK 0xfff8
#define IPV6_FLAG_M 0x0001
#define IPV4_MIN_HEADER_LEN 20
#define IPV4_FLAG_MF 0x2000
#define IPV4_FRAGMENT_OFFSET_MASK 0x1fff
#define TCP_MIN_HEADER_LEN 20

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

int segment_decode_ethernet(const uint8_t *frame, size_t caplen, struct segment *out, const char **error)
{
	memset(out, 0, sizeof(*out));
	if (caplen < ETHERNET_HEADER_LEN) {
		*error = "truncated Ethernet header";
		return -1;
	}
	uint16_t ethertype = get_be16(frame + 12);
	if (ethertype == ETHERTYPE_IPV6)
		return segment_decode_ipv6(frame + ETHERNET_HEADER_LEN, caplen - ETHERNET_HEADER_LEN, out, error);
	if (ethertype != ETHERTYPE_IPV4) {
		*error = "neither IPv4 nor IPv6";
		return -1;
	}
	return segment_decode_ipv4(frame + ETHERNET_HEADER_LEN, caplen - ETHERNET_HEADER_LEN, out, error);
}

/* Decodes the TCP header of tcp_len bytes (by the IP total length) of which captured are in hand. */
static int decode_tcp(const uint8_t *tcp, size_t tcp_len, size_t captured, struct segment *out,
		      const char **error)
{
	if (tcp_len < TCP_MIN_HEADER_LEN) {
		*error = "IP payload too short for a TCP header";
		return -1;
	}
	if (captured < TCP_MIN_HEADER_LEN) {
		*error = "truncated TCP header";
		return -1;
	}
	size_t header_len = (size_t)(tcp[12] >> 4) * 4;
	if (header_len < TCP_MIN_HEADER_LEN) {
		*error = "TCP data offset below 5";
		return -1;
	}
	if (header_len > tcp_len) {
		*error = "TCP data offset past the IP payload";
		return -1;
	}
	if (header_len > captured) {
		*error = "truncated TCP options";
		return -1;
	}
	int option_count = tcp_options_decode(tcp + TCP_MIN_HEADER_LEN, header_len - TCP_MIN_HEADER_LEN,
					      out->options, SEGMENT_MAX_OPTIONS, error);
	if (option_count < 0)
		return -1;
	out->option_count = (size_t)option_count;
	out->src_port = get_be16(tcp);
	out->dst_port = get_be16(tcp + 2);
	out->seq = get_be32(tcp + 4);
	out->ack = get_be32(tcp + 8);
	out->flags = tcp[13];
	out->window = get_be16(tcp + 14);
	out->urgent = get_be16(tcp + 18);
	out->payload_len = (uint32_t)(tcp_len - header_len);
	return 0;
}

int segment_decode_ipv4(const uint8_t *packet, size_t caplen, struct segment *out, const char **error)
{
	memset(out, 0, sizeof(*out));
	if (caplen < IPV4_MIN_HEADER_LEN) {
		*error = "truncated IPv4 header";
		return -1;
	}
	if (packet[0] >> 4 != 4) {
		*error = "not IPv4";
		return -1;
	}
	size_t header_len = (size_t)(packet[0] & 0x0f) * 4;
	if (header_len < IPV4_MIN_HEADER_LEN) {
		*error = "IPv4 header length below 20";
		return -1;
	}
	if (caplen < header_len) {
		*error = "truncated IPv4 options";
		return -1;
	}
	size_t total_len = get_be16(packet + 2);
	if (total_len < header_len) {
		*error = "IPv4 total length shorter than its header";
		return -1;
	}
	uint16_t fragment = get_be16(packet + 6);
	if (fragment & IPV4_FRAGMENT_OFFSET_MASK) {
		*error = "IPv4 fragment other than the first";
		return -1;
	}
	if (packet[9] != IPPROTO_TCP) {
		*error = "not TCP";
		return -1;
	}
	out->src_ip = ip_address_from_ipv4(get_be32(packet + 12));
	out->dst_ip = ip_address_from_ipv4(get_be32(packet + 16));
	out->ip_ecn = packet[1] & 3;
	out->ip_checksum_ok = inet_checksum(packet, header_len) == 0;

	/* Bytes past total_len are link-layer padding (short Ethernet frames), not TCP. */
	size_t tcp_len = total_len - header_len;
	size_t captured = caplen < total_len ? caplen - header_len : tcp_len;
	if (decode_tcp(packet + header_len, tcp_len, captured, out, error) < 0)
		return -1;
	/* Only a whole segment can be summed: a cut capture or a first fragment is reported not ok. */
	bool whole = captured == tcp_len && !(fragment & IPV4_FLAG_MF);
	out->tcp_checksum_ok =
		whole && inet_checksum_tcp(&out->src_ip, &out->dst_ip, packet + header_len, tcp_len) == 0;
	return 0;
}

/* Where an IPv6 packet's upper-layer header starts, past its extension headers (RFC 8200 4). */
struct ipv6_upper_layer {
	uint8_t protocol;
	size_t offset;  /* from the IPv6 header */
	size_t length;  /* by the payload length, from offset */
	bool whole;     /* not a first fragment */
};

/* Walks the extension header chain of packet (caplen bytes captured). Every length is read only after
 * it is known to be captured and inside the payload. 0, or -1 with *error static. */
static int ipv6_walk(const uint8_t *packet, size_t caplen, struct ipv6_upper_layer *upper, const char **error)
{
	if (caplen < IPV6_HEADER_LEN) {
		*error = "truncated IPv6 header";
		return -1;
	}
	if (packet[0] >> 4 != 6) {
		*error = "not IPv6";
		return -1;
	}
	size_t end = IPV6_HEADER_LEN + get_be16(packet + 4);
	if (end == IPV6_HEADER_LEN && packet[6] == IPPROTO_HOPOPTS) {
		*error = "IPv6 jumbogram";
		return -1;
	}
	uint8_t next = packet[6];
	size_t offset = IPV6_HEADER_LEN;
	upper->whole = true;
	for (int seen = 0;; seen++) {
		size_t header_len;
		switch (next) {
		case IPPROTO_HOPOPTS:
		case IPPROTO_ROUTING:
		case IPPROTO_DSTOPTS:
		case IPPROTO_FRAGMENT:
		case IPPROTO_AH:
			break;
		case IPPROTO_NONE:
			*error = "IPv6 without an upper-layer header";
			return -1;
		case IPPROTO_ESP:
			*error = "IPv6 ESP (encrypted)";
			return -1;
		default:
			upper->protocol = next;
			upper->offset = offset;
			upper->length = end - offset;
			return 0;
		}
		if (seen == IPV6_MAX_EXTENSION_HEADERS) {
			*error = "too many IPv6 extension headers";
			return -1;
		}
		if (offset + 8 > end) {
			*error = "IPv6 extension header past the payload";
			return -1;
		}
		if (offset + 8 > caplen) {
			*error = "truncated IPv6 extension header";
			return -1;
		}
		const uint8_t *h = packet + offset;
		if (next == IPPROTO_FRAGMENT) {
			uint16_t fragment = get_be16(h + 2);
			if (fragment & IPV6_FRAGMENT_OFFSET_MASK) {
				*error = "IPv6 fragment other than the first";
				return -1;
			}
			upper->whole = upper->whole && !(fragment & IPV6_FLAG_M);
			header_len = 8;
		} else {
			/* AH counts 4-byte units less 2 (RFC 4302 2.2); the others 8-byte units less 1. */
			header_len = next == IPPROTO_AH ? ((size_t)h[1] + 2) * 4 : ((size_t)h[1] + 1) * 8;
		}
		if (offset + header_len > end) {
			*error = "IPv6 extension header past the payload";
			return -1;
		}
		next = h[0];
		offset += header_len;
	}
}

int segment_decode_ipv6(const uint8_t *packet, size_t caplen, struct segment *out, const char **error)
{
	memset(out, 0, sizeof(*out));
	struct ipv6_upper_layer upper;
	if (ipv6_walk(packet, caplen, &upper, error) < 0)
		return -1;
	if (upper.protocol == IPPROTO_ICMPV6) {
		*error = "ICMPv6, not TCP";
		return -1;
	}
	if (upper.protocol != IPPROTO_TCP) {
		*error = "not TCP";
		return -1;
	}
	memcpy(out->src_ip.bytes, packet + 8, 16);
	memcpy(out->dst_ip.bytes, packet + 24, 16);
	/* The traffic class spans the first two bytes; its low two bits are the ECN field. */
	out->ip_ecn = (packet[1] >> 4) & 3;
	/* A v4-mapped address never travels in an IPv6 header (RFC 4291 2.5.5.2): held as it is, it
	 * would read as IPv4. */
	if (ip_address_is_ipv4(&out->src_ip) || ip_address_is_ipv4(&out->dst_ip)) {
		*error = "IPv4-mapped address in an IPv6 header";
		return -1;
	}
	out->ip_checksum_ok = true;
	size_t captured = caplen < upper.offset ? 0 : caplen - upper.offset;
	if (captured > upper.length)
		captured = upper.length;
	if (decode_tcp(packet + upper.offset, upper.length, captured, out, error) < 0)
		return -1;
	bool whole = captured == upper.length && upper.whole;
	out->tcp_checksum_ok = whole && inet_checksum_tcp(&out->src_ip, &out->dst_ip, packet + upper.offset,
							  upper.length) == 0;
	return 0;
}

int segment_decode_icmpv6(const uint8_t *frame, size_t caplen, uint8_t *type, uint8_t *code)
{
	const char *error;
	struct ipv6_upper_layer upper;
	if (caplen < ETHERNET_HEADER_LEN || get_be16(frame + 12) != ETHERTYPE_IPV6 ||
	    ipv6_walk(frame + ETHERNET_HEADER_LEN, caplen - ETHERNET_HEADER_LEN, &upper, &error) < 0 ||
	    upper.protocol != IPPROTO_ICMPV6 || upper.length < 2 ||
	    ETHERNET_HEADER_LEN + upper.offset + 2 > caplen)
		return 0;
	*type = frame[ETHERNET_HEADER_LEN + upper.offset];
	*code = frame[ETHERNET_HEADER_LEN + upper.offset + 1];
	return 1;
}
