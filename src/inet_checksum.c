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

uint16_t inet_checksum_tcp(const struct ip_address *src, const struct ip_address *dst, const uint8_t *tcp,
			   size_t tcp_len)
{
	/* Both pseudo-headers sum the protocol and the length as plain numbers (the 32-bit IPv6 length
	 * folds to the same value). */
	uint64_t sum = IPPROTO_TCP + (uint64_t)tcp_len;
	if (ip_address_is_ipv4(src) && ip_address_is_ipv4(dst)) {
		sum = sum_be16_words(sum, src->bytes + 12, 4);
		sum = sum_be16_words(sum, dst->bytes + 12, 4);
	} else {
		sum = sum_be16_words(sum, src->bytes, 16);
		sum = sum_be16_words(sum, dst->bytes, 16);
	}
	return fold_complement(sum_be16_words(sum, tcp, tcp_len));
}
