/* tcp_options.h - TCP option encoding and decoding (RFC 9293 3.2, RFC 7323, RFC 2018).
 * Pure byte work: no I/O, every length checked, safe on hostile input. */
#ifndef TCPHARNESS_TCP_OPTIONS_H
#define TCPHARNESS_TCP_OPTIONS_H

#include "segment.h"

/* Encodes options in order into out (at most 40 bytes), padding with zero (EOL) bytes to a multiple
 * of 4 as the TCP header needs. Returns the encoded length (0..40) or -1 when they do not fit
 * or an option is malformed (e.g. too many SACK blocks). */
int tcp_options_encode(const struct tcp_option *options, size_t count, uint8_t *out, size_t out_size);

/* Decodes len bytes of TCP options into options[] (at most max). Trailing EOL padding ends the list and
 * is not reported. Returns the number of options, or -1 with *error set to a static message when a
 * length field is inconsistent (e.g. "option kind 8 length 3 out of range"). */
int tcp_options_decode(const uint8_t *bytes, size_t len, struct tcp_option *options, size_t max,
		       const char **error);

#endif
