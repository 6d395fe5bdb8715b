/* tcp_options.c - see tcp_options.h. */
#include "tcp_options.h"

#include <string.h>

#define TCP_OPTIONS_MAX_LEN 40
#define OPTION_LEN_MSS 4
#define OPTION_LEN_WSCALE 3
#define OPTION_LEN_SACK_PERMITTED 2
#define OPTION_LEN_TIMESTAMP 10
#define OPTION_LEN_SACK_BLOCK 8
#define OPTION_LEN_FAST_OPEN_BASE 2
#define OPTION_LEN_EXPERIMENTAL_BASE 4 /* kind, length, 16-bit ExID (RFC 6994 3) */

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* On-wire length of an option, or 0 when the option cannot be encoded. */
static size_t encoded_length(const struct tcp_option *option)
{
	switch (option->kind) {
	case TCP_OPTION_EOL:
	case TCP_OPTION_NOP:
		return 1;
	case TCP_OPTION_MSS:
		return OPTION_LEN_MSS;
	case TCP_OPTION_WSCALE:
		return OPTION_LEN_WSCALE;
	case TCP_OPTION_SACK_PERMITTED:
		return OPTION_LEN_SACK_PERMITTED;
	case TCP_OPTION_TIMESTAMP:
		return OPTION_LEN_TIMESTAMP;
	case TCP_OPTION_SACK:
		if (option->sack_block_count < 1 || option->sack_block_count > SACK_MAX_BLOCKS)
			return 0;
		return 2 + (size_t)OPTION_LEN_SACK_BLOCK * option->sack_block_count;
	case TCP_OPTION_FAST_OPEN:
		return option->cookie_len > TCP_FAST_OPEN_COOKIE_MAX ? 0 : OPTION_LEN_FAST_OPEN_BASE + option->cookie_len;
	case TCP_OPTION_EXPERIMENTAL:
		return option->cookie_len > TCP_FAST_OPEN_COOKIE_MAX ? 0
								      : OPTION_LEN_EXPERIMENTAL_BASE + option->cookie_len;
	default:
		return option->length >= 2 ? option->length : 0;
	}
}

static void encode_one(const struct tcp_option *option, uint8_t *out, size_t length)
{
	out[0] = option->kind;
	if (length == 1)
		return;
	out[1] = (uint8_t)length;
	switch (option->kind) {
	case TCP_OPTION_MSS:
		put_be16(out + 2, option->mss);
		break;
	case TCP_OPTION_WSCALE:
		out[2] = option->wscale;
		break;
	case TCP_OPTION_TIMESTAMP:
		put_be32(out + 2, option->ts_val);
		put_be32(out + 6, option->ts_ecr);
		break;
	case TCP_OPTION_SACK:
		for (size_t i = 0; i < option->sack_block_count; i++) {
			put_be32(out + 2 + OPTION_LEN_SACK_BLOCK * i, option->sack_left[i]);
			put_be32(out + 6 + OPTION_LEN_SACK_BLOCK * i, option->sack_right[i]);
		}
		break;
	case TCP_OPTION_FAST_OPEN:
		memcpy(out + OPTION_LEN_FAST_OPEN_BASE, option->cookie, option->cookie_len);
		break;
	case TCP_OPTION_EXPERIMENTAL:
		put_be16(out + 2, option->exp_magic);
		memcpy(out + OPTION_LEN_EXPERIMENTAL_BASE, option->cookie, option->cookie_len);
		break;
	default:
		/* Unknown kinds carry no values we know; their length alone is what a test exercises. */
		memset(out + 2, 0, length - 2);
		break;
	}
}

int tcp_options_encode(const struct tcp_option *options, size_t count, uint8_t *out, size_t out_size)
{
	size_t used = 0;
	for (size_t i = 0; i < count; i++) {
		size_t length = encoded_length(&options[i]);
		if (length == 0 || used + length > TCP_OPTIONS_MAX_LEN || used + length > out_size)
			return -1;
		encode_one(&options[i], out + used, length);
		used += length;
	}
	/* The data offset counts 32-bit words, so the list is padded with EOL to a word boundary. */
	size_t padded = (used + 3) & ~(size_t)3;
	if (padded > out_size)
		return -1;
	memset(out + used, TCP_OPTION_EOL, padded - used);
	return (int)padded;
}

/* Checks the length byte of a known kind; NULL when it is right. */
static const char *known_length_error(uint8_t kind, uint8_t length)
{
	switch (kind) {
	case TCP_OPTION_MSS:
		return length == OPTION_LEN_MSS ? NULL : "mss option length is not 4";
	case TCP_OPTION_WSCALE:
		return length == OPTION_LEN_WSCALE ? NULL : "wscale option length is not 3";
	case TCP_OPTION_SACK_PERMITTED:
		return length == OPTION_LEN_SACK_PERMITTED ? NULL : "sackOK option length is not 2";
	case TCP_OPTION_TIMESTAMP:
		return length == OPTION_LEN_TIMESTAMP ? NULL : "TS option length is not 10";
	case TCP_OPTION_SACK:
		if (length < 2 + OPTION_LEN_SACK_BLOCK || length > 2 + OPTION_LEN_SACK_BLOCK * SACK_MAX_BLOCKS ||
		    (length - 2) % OPTION_LEN_SACK_BLOCK != 0)
			return "sack option length is not 2+8n with n 1..4";
		return NULL;
	case TCP_OPTION_EXPERIMENTAL:
		return length >= OPTION_LEN_EXPERIMENTAL_BASE ? NULL : "experimental option length is below 4";
	default:
		return NULL;
	}
}

static void decode_values(const uint8_t *p, struct tcp_option *option)
{
	switch (option->kind) {
	case TCP_OPTION_MSS:
		option->mss = get_be16(p + 2);
		break;
	case TCP_OPTION_WSCALE:
		option->wscale = p[2];
		break;
	case TCP_OPTION_TIMESTAMP:
		option->ts_val = get_be32(p + 2);
		option->ts_ecr = get_be32(p + 6);
		break;
	case TCP_OPTION_SACK:
		option->sack_block_count = (uint8_t)((option->length - 2) / OPTION_LEN_SACK_BLOCK);
		for (size_t i = 0; i < option->sack_block_count; i++) {
			option->sack_left[i] = get_be32(p + 2 + OPTION_LEN_SACK_BLOCK * i);
			option->sack_right[i] = get_be32(p + 6 + OPTION_LEN_SACK_BLOCK * i);
		}
		break;
	case TCP_OPTION_FAST_OPEN:
		option->cookie_len = (uint8_t)(option->length - OPTION_LEN_FAST_OPEN_BASE);
		memcpy(option->cookie, p + OPTION_LEN_FAST_OPEN_BASE, option->cookie_len);
		break;
	case TCP_OPTION_EXPERIMENTAL:
		option->exp_magic = get_be16(p + 2);
		/* Another experiment's data is not a cookie; its length alone is kept. */
		if (option->exp_magic == TCP_FAST_OPEN_EXP_MAGIC &&
		    option->length <= OPTION_LEN_EXPERIMENTAL_BASE + TCP_FAST_OPEN_COOKIE_MAX) {
			option->cookie_len = (uint8_t)(option->length - OPTION_LEN_EXPERIMENTAL_BASE);
			memcpy(option->cookie, p + OPTION_LEN_EXPERIMENTAL_BASE, option->cookie_len);
		}
		break;
	default:
		break;
	}
}

int tcp_options_decode(const uint8_t *bytes, size_t len, struct tcp_option *options, size_t max,
		       const char **error)
{
	size_t count = 0;
	size_t at = 0;
	/* RFC 9293 3.2: EOL ends the list; whatever follows it is padding. */
	while (at < len && bytes[at] != TCP_OPTION_EOL) {
		if (count == max) {
			*error = "more TCP options than fit in a segment";
			return -1;
		}
		struct tcp_option *option = &options[count];
		memset(option, 0, sizeof(*option));
		option->kind = bytes[at];
		if (option->kind == TCP_OPTION_NOP) {
			option->length = 1;
		} else {
			if (at + 1 >= len) {
				*error = "option without a length byte";
				return -1;
			}
			option->length = bytes[at + 1];
			if (option->length < 2) {
				*error = "option length below 2";
				return -1;
			}
			if (option->length > len - at) {
				*error = "option length past the end of the options";
				return -1;
			}
			const char *length_error = known_length_error(option->kind, option->length);
			if (length_error) {
				*error = length_error;
				return -1;
			}
			decode_values(bytes + at, option);
		}
		at += option->length;
		count++;
	}
	return (int)count;
}
