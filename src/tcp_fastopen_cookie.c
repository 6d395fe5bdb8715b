/* tcp_fastopen_cookie.c - see tcp_fastopen_cookie.h. */
#include "tcp_fastopen_cookie.h"

#include <stdio.h>
#include <string.h>

static uint64_t rotate_left(uint64_t x, int bits)
{
	return x << bits | x >> (64 - bits);
}

static uint64_t load_le64(const uint8_t *p, size_t len)
{
	uint64_t v = 0;
	for (size_t i = 0; i < len; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

/* One SipRound over the four state words (the paper, section 2). */
static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = rotate_left(v[1], 13) ^ v[0];
	v[0] = rotate_left(v[0], 32);
	v[2] += v[3];
	v[3] = rotate_left(v[3], 16) ^ v[2];
	v[0] += v[3];
	v[3] = rotate_left(v[3], 21) ^ v[0];
	v[2] += v[1];
	v[1] = rotate_left(v[1], 17) ^ v[2];
	v[2] = rotate_left(v[2], 32);
}

static void compress(uint64_t v[4], uint64_t m, int rounds)
{
	v[3] ^= m;
	for (int i = 0; i < rounds; i++)
		sip_round(v);
	v[0] ^= m;
}

uint64_t siphash_2_4(uint64_t k0, uint64_t k1, const uint8_t *data, size_t len)
{
	/* "somepseudorandomlygeneratedbytes", the paper's initialisation constants. */
	uint64_t v[4] = { k0 ^ 0x736f6d6570736575ull, k1 ^ 0x646f72616e646f6dull, k0 ^ 0x6c7967656e657261ull,
			  k1 ^ 0x7465646279746573ull };
	size_t whole = len - len % 8;
	for (size_t at = 0; at < whole; at += 8)
		compress(v, load_le64(data + at, 8), 2);
	/* The last block: the remaining bytes, the length's low byte on top. */
	compress(v, load_le64(data + whole, len % 8) | (uint64_t)(len & 0xff) << 56, 2);
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

int tcp_fastopen_server_cookie(const char *key_text, const struct ip_address *client,
			       const struct ip_address *server, uint8_t cookie[TCP_FASTOPEN_COOKIE_SIZE])
{
	unsigned words[4];
	char after;
	/* proc_tcp_fastopen_key reads the words with %x and stores each little-endian (cpu_to_le32);
	 * the cipher takes the 16 bytes as two little-endian 64-bit halves (tcp_fastopen_reset_cipher). */
	int n = sscanf(key_text, "%x-%x-%x-%x%c", &words[0], &words[1], &words[2], &words[3], &after);
	if (n < 4 || (n == 5 && after != ','))
		return -1;
	bool ipv4 = ip_address_is_ipv4(client);
	if (ipv4 != ip_address_is_ipv4(server))
		return -1;
	uint8_t addresses[32];
	size_t half = ipv4 ? 4 : 16;
	memcpy(addresses, client->bytes + 16 - half, half);
	memcpy(addresses + half, server->bytes + 16 - half, half);
	uint64_t k0 = (uint64_t)words[1] << 32 | words[0], k1 = (uint64_t)words[3] << 32 | words[2];
	uint64_t value = siphash_2_4(k0, k1, addresses, 2 * half);
	for (int i = 0; i < TCP_FASTOPEN_COOKIE_SIZE; i++)
		cookie[i] = (uint8_t)(value >> (8 * i));
	return 0;
}
