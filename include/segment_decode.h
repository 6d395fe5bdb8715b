/* segment_decode.h - turn a captured Ethernet frame into a struct segment.
 * Captured frames are hostile input: every length is checked before it is read. */
#ifndef TCPHARNESS_SEGMENT_DECODE_H
#define TCPHARNESS_SEGMENT_DECODE_H

#include "segment.h"

/* Decodes an Ethernet II + IPv4 + TCP frame of caplen bytes. Verifies the IPv4 header and TCP
 * checksums (result in ip_checksum_ok/tcp_checksum_ok; a partial capture counts as not ok).
 * Returns 0 on success, or -1 with *error set to a static message ("not IPv4", "truncated TCP header",
 * "bad option length", ...) when the frame is not a well-formed TCP/IPv4 segment. */
int segment_decode_ethernet(const uint8_t *frame, size_t caplen, struct segment *out, const char **error);

/* Same, starting at the IPv4 header (for raw-IP links). */
int segment_decode_ipv4(const uint8_t *packet, size_t caplen, struct segment *out, const char **error);

#endif
