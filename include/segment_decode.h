/* segment_decode.h - turn a captured Ethernet frame (IPv4 or IPv6) into a struct segment.
 * Captured frames are hostile input: every length is checked before it is read. */
#ifndef TCPHARNESS_SEGMENT_DECODE_H
#define TCPHARNESS_SEGMENT_DECODE_H

#include "segment.h"

/* Decodes an Ethernet II + IPv4 or IPv6 + TCP frame of caplen bytes. Verifies the IPv4 header and TCP
 * checksums (result in ip_checksum_ok/tcp_checksum_ok; a partial capture counts as not ok).
 * Returns 0 on success, or -1 with *error set to a static message ("not TCP", "truncated TCP header",
 * "bad option length", "ICMPv6, not TCP", ...) when the frame is not a well-formed TCP segment. */
int segment_decode_ethernet(const uint8_t *frame, size_t caplen, struct segment *out, const char **error);

/* Same, starting at the IPv4 header (for raw-IP links). */
int segment_decode_ipv4(const uint8_t *packet, size_t caplen, struct segment *out, const char **error);

/* Same, starting at the IPv6 header. Hop-by-hop, routing, destination options, fragment and AH
 * headers are skipped (at most 8); a later fragment, ESP, a jumbogram or a v4-mapped address is
 * refused. */
int segment_decode_ipv6(const uint8_t *packet, size_t caplen, struct segment *out, const char **error);

/* 1 with *type and *code when the Ethernet frame is an ICMPv6 message (behind any extension headers),
 * else 0: what the stack said that is not TCP, for the record. */
int segment_decode_icmpv6(const uint8_t *frame, size_t caplen, uint8_t *type, uint8_t *code);

#endif
