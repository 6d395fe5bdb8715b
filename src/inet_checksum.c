/* inet_checksum.c - see inet_checksum.h. */
#include "inet_checksum.h"

#include <netinet/in.h>

/* A 64-bit accumulator cannot overflow for any buffer an IPv4 packet can hold, so carries are
 * folded once at the end. */
static uint64_t sum_be16_words(uint64_t sum, const uint8_t *bytes, size_t len)
{
	size_t i;
	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)bytes[i] << 8 | bytes[i + 1];
	/* RFC 1071: an odd last byte is summed as if padded with a zero byte. */
	if (i < len)
		sum += (uint32_t)bytes[i] << 8;
	return sum;
}

static uint16_t fold_complement(uint64_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

uint16_t inet_checksum(const uint8_t *bytes, size_t len)
{
	return fold_complement(sum_be16_words(0, bytes, len));
}

uint16_t inet_checksum_tcp_ipv4(uint32_t src_ip, uint32_t dst_ip, const uint8_t *tcp, size_t tcp_len)
{
	uint64_t sum = 0;
	sum += src_ip >> 16;
	sum += src_ip & 0xffff;
	sum += dst_ip >> 16;
	sum += dst_ip & 0xffff;
	sum += IPPROTO_TCP;
	sum += tcp_len;
	return fold_complement(sum_be16_words(sum, tcp, tcp_len));
}
