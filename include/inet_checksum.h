/* inet_checksum.h - the Internet checksum (RFC 1071) for IPv4 headers and TCP segments over
 * either IP. Shared by the segment decoder (verify) and anything that builds raw segments (fill in). */
#ifndef TCPHARNESS_INET_CHECKSUM_H
#define TCPHARNESS_INET_CHECKSUM_H

#include <stddef.h>
#include <stdint.h>

#include "ip_address.h"

/* Checksum of len bytes, as the number to store big-endian in a zeroed checksum field. Over bytes
 * that already carry a correct checksum it returns 0, which is how a receiver verifies. */
uint16_t inet_checksum(const uint8_t *bytes, size_t len);

/* Same for a TCP segment (header + payload, tcp_len bytes) including its pseudo-header: IPv4's
 * (RFC 9293 3.1) when both addresses are IPv4, else IPv6's (RFC 8200 8.1). Returns 0 over a segment
 * whose checksum is correct. */
uint16_t inet_checksum_tcp(const struct ip_address *src, const struct ip_address *dst, const uint8_t *tcp,
			   size_t tcp_len);

#endif
