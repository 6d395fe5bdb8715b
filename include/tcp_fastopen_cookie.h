/* tcp_fastopen_cookie.h - the Fast Open cookie a Linux server gives a client (RFC 7413 4.1.2), from
 * its tcp_fastopen_key and the two addresses, so a script's cookie can follow the sandbox's addresses. */
#ifndef TCPHARNESS_TCP_FASTOPEN_COOKIE_H
#define TCPHARNESS_TCP_FASTOPEN_COOKIE_H

#include <stddef.h>
#include <stdint.h>

#include "ip_address.h"

/* Linux's cookie is one SipHash-2-4 value, 8 bytes (TCP_FASTOPEN_COOKIE_SIZE). */
#define TCP_FASTOPEN_COOKIE_SIZE 8

/* SipHash-2-4 (Aumasson and Bernstein, "SipHash: a fast short-input PRF", 2012) of len bytes under
 * a 128-bit key given as its two little-endian 64-bit halves. */
uint64_t siphash_2_4(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len);

/* The cookie a server keyed with key_text (net.ipv4.tcp_fastopen_key's form: four 32-bit hex words
 * `a1a1a1a1-b2b2b2b2-c3c3c3c3-d4d4d4d4`, a backup key after ',' ignored: the primary one signs)
 * gives the client at client for a SYN to server, both of one IP version (tcp_fastopen.c,
 * __tcp_fastopen_cookie_gen_cipher: SipHash of the SYN's source and destination addresses).
 * 0, or -1 when key_text is not such a key or the addresses' versions differ. */
int tcp_fastopen_server_cookie(const char *key_text, const struct ip_address *client,
			       const struct ip_address *server, uint8_t cookie[TCP_FASTOPEN_COOKIE_SIZE]);

#endif
