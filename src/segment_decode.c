/* segment_decode.c - see segment_decode.h. */
#include "segment_decode.h"

#include <netinet/in.h>
#include <string.h>

#include "inet_checksum.h"
#include "tcp_options.h"

#define ETHERNET_HEADER_LEN 14
#define ETHERTYPE_IPV4 0x0800
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
	if (get_be16(frame + 12) != ETHERTYPE_IPV4) {
		*error = "not IPv4";
		return -1;
	}
	return segment_decode_ipv4(frame + ETHERNET_HEADER_LEN, caplen - ETHERNET_HEADER_LEN, out, error);
}

/* Decodes the TCP header of tcp_len bytes (by the IP total length) of which captured are in hand. */
static int decode_tcp(const uint8_t *tcp, size_t tcp_len, size_t captured, struct segment *out,
		      const char **error)
{
	if (tcp_len < TCP_MIN_HEADER_LEN) {
		*error = "IPv4 payload too short for a TCP header";
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
		*error = "TCP data offset past the IPv4 payload";
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
	out->src_ip = get_be32(packet + 12);
	out->dst_ip = get_be32(packet + 16);
	out->ip_checksum_ok = inet_checksum(packet, header_len) == 0;

	/* Bytes past total_len are link-layer padding (short Ethernet frames), not TCP. */
	size_t tcp_len = total_len - header_len;
	size_t captured = caplen < total_len ? caplen - header_len : tcp_len;
	if (decode_tcp(packet + header_len, tcp_len, captured, out, error) < 0)
		return -1;
	/* Only a whole segment can be summed: a cut capture or a first fragment is reported not ok. */
	bool whole = captured == tcp_len && !(fragment & IPV4_FLAG_MF);
	out->tcp_checksum_ok =
		whole && inet_checksum_tcp_ipv4(out->src_ip, out->dst_ip, packet + header_len, tcp_len) == 0;
	return 0;
}
