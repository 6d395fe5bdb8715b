/* test_tcp_options.c - unit tests for tcp_options.c: encoding, decoding, every malformed length. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "tcp_options.h"

/* The option block of a Linux SYN-ACK: mss 1460, sackOK, TS val 123 ecr 100, nop, wscale 7. */
static const uint8_t syn_ack_options[] = {
	0x02, 0x04, 0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00,
	0x00, 0x7b, 0x00, 0x00, 0x00, 0x64, 0x01, 0x03, 0x03, 0x07,
};

static struct tcp_option option_of_kind(uint8_t kind)
{
	struct tcp_option option;
	memset(&option, 0, sizeof(option));
	option.kind = kind;
	return option;
}

static void syn_ack_option_list(struct tcp_option options[5])
{
	options[0] = option_of_kind(TCP_OPTION_MSS);
	options[0].mss = 1460;
	options[1] = option_of_kind(TCP_OPTION_SACK_PERMITTED);
	options[2] = option_of_kind(TCP_OPTION_TIMESTAMP);
	options[2].ts_val = 123;
	options[2].ts_ecr = 100;
	options[3] = option_of_kind(TCP_OPTION_NOP);
	options[4] = option_of_kind(TCP_OPTION_WSCALE);
	options[4].wscale = 7;
}

static void encode_syn_ack_options_matches_wire_bytes(void **state)
{
	(void)state;
	struct tcp_option options[5];
	uint8_t out[40];
	syn_ack_option_list(options);
	assert_int_equal(tcp_options_encode(options, 5, out, sizeof(out)), 20);
	assert_memory_equal(out, syn_ack_options, sizeof(syn_ack_options));
}

static void encode_pads_with_eol_to_word_boundary(void **state)
{
	(void)state;
	struct tcp_option options[2] = { option_of_kind(TCP_OPTION_MSS), option_of_kind(TCP_OPTION_WSCALE) };
	options[0].mss = 536;
	options[1].wscale = 14;
	uint8_t out[40];
	memset(out, 0xaa, sizeof(out));
	static const uint8_t expected[] = { 0x02, 0x04, 0x02, 0x18, 0x03, 0x03, 0x0e, 0x00 };
	assert_int_equal(tcp_options_encode(options, 2, out, sizeof(out)), 8);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void encode_nothing_is_empty(void **state)
{
	(void)state;
	uint8_t out[4];
	assert_int_equal(tcp_options_encode(NULL, 0, out, sizeof(out)), 0);
}

static void encode_eol_is_one_zero_byte_padded(void **state)
{
	(void)state;
	struct tcp_option options[2] = { option_of_kind(TCP_OPTION_NOP), option_of_kind(TCP_OPTION_EOL) };
	uint8_t out[4];
	memset(out, 0xaa, sizeof(out));
	static const uint8_t expected[] = { 0x01, 0x00, 0x00, 0x00 };
	assert_int_equal(tcp_options_encode(options, 2, out, sizeof(out)), 4);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void encode_sack_blocks(void **state)
{
	(void)state;
	struct tcp_option sack = option_of_kind(TCP_OPTION_SACK);
	sack.sack_block_count = 2;
	sack.sack_left[0] = 1;
	sack.sack_right[0] = 10;
	sack.sack_left[1] = 0x01020304;
	sack.sack_right[1] = 0xfffffffe;
	uint8_t out[40];
	static const uint8_t expected[] = {
		0x05, 0x12, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0a,
		0x01, 0x02, 0x03, 0x04, 0xff, 0xff, 0xff, 0xfe, 0x00, 0x00,
	};
	assert_int_equal(tcp_options_encode(&sack, 1, out, sizeof(out)), 20);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void encode_rejects_sack_block_count_outside_1_to_4(void **state)
{
	(void)state;
	struct tcp_option sack = option_of_kind(TCP_OPTION_SACK);
	uint8_t out[40];
	sack.sack_block_count = 0;
	assert_int_equal(tcp_options_encode(&sack, 1, out, sizeof(out)), -1);
	sack.sack_block_count = 5;
	assert_int_equal(tcp_options_encode(&sack, 1, out, sizeof(out)), -1);
	sack.sack_block_count = 4;
	assert_int_equal(tcp_options_encode(&sack, 1, out, sizeof(out)), 36);
}

static void encode_unknown_kind_as_zero_value_bytes(void **state)
{
	(void)state;
	struct tcp_option unknown = option_of_kind(30);
	unknown.length = 6;
	unknown.mss = 0xffff; /* values of other kinds must not leak into an unknown option */
	uint8_t out[8];
	memset(out, 0xaa, sizeof(out));
	static const uint8_t expected[] = { 30, 6, 0, 0, 0, 0, 0, 0 };
	assert_int_equal(tcp_options_encode(&unknown, 1, out, sizeof(out)), 8);
	assert_memory_equal(out, expected, sizeof(expected));
}

static void encode_rejects_unknown_kind_with_length_below_2(void **state)
{
	(void)state;
	struct tcp_option unknown = option_of_kind(30);
	uint8_t out[8];
	unknown.length = 1;
	assert_int_equal(tcp_options_encode(&unknown, 1, out, sizeof(out)), -1);
	unknown.length = 0;
	assert_int_equal(tcp_options_encode(&unknown, 1, out, sizeof(out)), -1);
}

static void encode_rejects_more_than_40_bytes(void **state)
{
	(void)state;
	struct tcp_option options[11];
	uint8_t out[64];
	for (size_t i = 0; i < 11; i++)
		options[i] = option_of_kind(TCP_OPTION_MSS);
	assert_int_equal(tcp_options_encode(options, 10, out, sizeof(out)), 40);
	assert_int_equal(tcp_options_encode(options, 11, out, sizeof(out)), -1);
}

static void encode_rejects_small_output_buffer(void **state)
{
	(void)state;
	struct tcp_option options[5];
	uint8_t out[20];
	syn_ack_option_list(options);
	assert_int_equal(tcp_options_encode(options, 5, out, 19), -1);
	/* mss (4) + wscale (3) fits in 7 bytes but its padding does not. */
	assert_int_equal(tcp_options_encode(&options[3], 2, out, 4), 4);
	struct tcp_option odd[2] = { options[0], options[4] };
	assert_int_equal(tcp_options_encode(odd, 2, out, 7), -1);
}

/* An option decoded as kind, length bytes long on the wire. */
static void assert_option(const struct tcp_option *o, uint8_t kind, uint8_t length)
{
	assert_int_equal(o->kind, kind);
	assert_int_equal(o->length, length);
}

static void decode_syn_ack_options(void **state)
{
	(void)state;
	struct tcp_option options[SEGMENT_MAX_OPTIONS];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(syn_ack_options, sizeof(syn_ack_options), options,
					    SEGMENT_MAX_OPTIONS, &error),
			 5);
	assert_option(&options[0], TCP_OPTION_MSS, 4);
	assert_int_equal(options[0].mss, 1460);
	assert_option(&options[1], TCP_OPTION_SACK_PERMITTED, 2);
	assert_option(&options[2], TCP_OPTION_TIMESTAMP, 10);
	assert_int_equal(options[2].ts_val, 123);
	assert_int_equal(options[2].ts_ecr, 100);
	assert_option(&options[3], TCP_OPTION_NOP, 1);
	assert_option(&options[4], TCP_OPTION_WSCALE, 3);
	assert_int_equal(options[4].wscale, 7);
}

static void round_trip_every_kind(void **state)
{
	(void)state;
	struct tcp_option options[5] = {
		option_of_kind(TCP_OPTION_SACK), option_of_kind(TCP_OPTION_TIMESTAMP),
		option_of_kind(TCP_OPTION_NOP), option_of_kind(TCP_OPTION_WSCALE), option_of_kind(254),
	};
	options[0].sack_block_count = 1;
	options[0].sack_left[0] = 0x80000000;
	options[0].sack_right[0] = 0x80000100;
	options[1].ts_val = 0xffffffff;
	options[1].ts_ecr = 1;
	options[3].wscale = 255;
	options[4].length = 4;
	uint8_t bytes[40];
	int len = tcp_options_encode(options, 5, bytes, sizeof(bytes));
	assert_int_equal(len, 28);

	struct tcp_option decoded[SEGMENT_MAX_OPTIONS];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, (size_t)len, decoded, SEGMENT_MAX_OPTIONS, &error), 5);
	assert_int_equal(decoded[0].sack_block_count, 1);
	assert_int_equal(decoded[0].sack_left[0], 0x80000000);
	assert_int_equal(decoded[0].sack_right[0], 0x80000100);
	assert_int_equal(decoded[1].ts_val, 0xffffffff);
	assert_int_equal(decoded[1].ts_ecr, 1);
	assert_int_equal(decoded[2].kind, TCP_OPTION_NOP);
	assert_int_equal(decoded[3].wscale, 255);
	assert_option(&decoded[4], 254, 4);
}

static void decode_four_sack_blocks(void **state)
{
	(void)state;
	uint8_t bytes[34] = { TCP_OPTION_SACK, 34 };
	for (size_t i = 2; i < sizeof(bytes); i++)
		bytes[i] = (uint8_t)i;
	struct tcp_option options[1];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, sizeof(bytes), options, 1, &error), 1);
	assert_int_equal(options[0].sack_block_count, 4);
	assert_int_equal(options[0].sack_left[0], 0x02030405);
	assert_int_equal(options[0].sack_right[3], 0x1e1f2021);
}

static void decode_stops_at_eol(void **state)
{
	(void)state;
	/* What follows EOL is padding, even when it would not decode. */
	static const uint8_t bytes[] = { 0x01, 0x00, 0x02, 0x09, 0xff, 0x00 };
	struct tcp_option options[4];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, sizeof(bytes), options, 4, &error), 1);
	assert_int_equal(options[0].kind, TCP_OPTION_NOP);
	assert_null(error);
}

static void decode_empty_and_all_padding(void **state)
{
	(void)state;
	static const uint8_t padding[] = { 0, 0, 0, 0 };
	struct tcp_option options[1];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(padding, 0, options, 1, &error), 0);
	assert_int_equal(tcp_options_decode(padding, sizeof(padding), options, 1, &error), 0);
}

static void decode_unknown_kind_keeps_kind_and_length(void **state)
{
	(void)state;
	static const uint8_t bytes[] = { 99, 3, 0xab, 0x01 };
	struct tcp_option options[4];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, sizeof(bytes), options, 4, &error), 2);
	assert_option(&options[0], 99, 3);
	assert_int_equal(options[1].kind, TCP_OPTION_NOP);
}

/* RFC 7413 4.1.1: kind 34 with the cookie; the experimental form with ExID 0xF989 (RFC 6994). */
static void fast_open_cookies_round_trip(void **state)
{
	(void)state;
	struct tcp_option options[3] = {
		option_of_kind(TCP_OPTION_FAST_OPEN), option_of_kind(TCP_OPTION_EXPERIMENTAL),
		option_of_kind(TCP_OPTION_FAST_OPEN),
	};
	static const uint8_t cookie[] = { 0xab, 0xcd, 0x12, 0x34 };
	options[0].cookie_len = sizeof cookie;
	memcpy(options[0].cookie, cookie, sizeof cookie);
	options[1].exp_magic = TCP_FAST_OPEN_EXP_MAGIC;
	options[1].cookie_len = sizeof cookie;
	memcpy(options[1].cookie, cookie, sizeof cookie);
	uint8_t bytes[40];
	int len = tcp_options_encode(options, 3, bytes, sizeof bytes);
	static const uint8_t wire[] = { 34, 6, 0xab, 0xcd, 0x12, 0x34, 254, 8, 0xf9, 0x89, 0xab, 0xcd, 0x12, 0x34,
					34, 2 };
	assert_int_equal(len, sizeof wire);
	assert_memory_equal(bytes, wire, sizeof wire);

	struct tcp_option decoded[SEGMENT_MAX_OPTIONS];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, (size_t)len, decoded, SEGMENT_MAX_OPTIONS, &error), 3);
	assert_int_equal(decoded[0].cookie_len, 4);
	assert_memory_equal(decoded[0].cookie, cookie, sizeof cookie);
	assert_int_equal(decoded[1].exp_magic, TCP_FAST_OPEN_EXP_MAGIC);
	assert_int_equal(decoded[1].cookie_len, 4);
	assert_memory_equal(decoded[1].cookie, cookie, sizeof cookie);
	assert_int_equal(decoded[2].cookie_len, 0);
}

/* Another experiment's option (ExID 0x1234) carries data that is no cookie. */
static void experimental_option_of_another_exid_has_no_cookie(void **state)
{
	(void)state;
	static const uint8_t bytes[] = { 254, 6, 0x12, 0x34, 0xaa, 0xbb, 0, 0 };
	struct tcp_option options[2];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(bytes, sizeof bytes, options, 2, &error), 1);
	assert_int_equal(options[0].exp_magic, 0x1234);
	assert_int_equal(options[0].cookie_len, 0);
	assert_int_equal(options[0].length, 6);
}

struct malformed {
	const char *what;
	uint8_t bytes[44];
	size_t len;
};

static void decode_rejects_every_malformed_length(void **state)
{
	(void)state;
	static const struct malformed cases[] = {
		{ "kind with no length byte", { 0x01, 0x02 }, 2 },
		{ "unknown kind with no length byte", { 99 }, 1 },
		{ "length 0", { 0x02, 0x00, 0x05, 0xb4 }, 4 },
		{ "length 1", { 0x08, 0x01, 0x00, 0x00 }, 4 },
		{ "unknown kind length 1", { 99, 0x01, 0x00, 0x00 }, 4 },
		{ "length past the end", { 0x01, 0x02, 0x04, 0x05 }, 4 },
		{ "unknown kind past the end", { 99, 0x08, 0, 0, 0, 0, 0 }, 7 },
		{ "mss length 3", { 0x02, 0x03, 0x05, 0x00 }, 4 },
		{ "mss length 5", { 0x02, 0x05, 0x05, 0xb4, 0x00 }, 5 },
		{ "wscale length 2", { 0x03, 0x02, 0x00, 0x00 }, 4 },
		{ "wscale length 4", { 0x03, 0x04, 0x07, 0x00 }, 4 },
		{ "sackOK length 3", { 0x04, 0x03, 0x00, 0x00 }, 4 },
		{ "TS length 9", { 0x08, 0x09, 0, 0, 0, 0, 0, 0, 0, 0 }, 10 },
		{ "TS length 11", { 0x08, 0x0b, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 12 },
		{ "TS length 10 cut at 9", { 0x08, 0x0a, 0, 0, 0, 0, 0, 0, 0 }, 9 },
		{ "sack with no block", { 0x05, 0x02, 0x00, 0x00 }, 4 },
		{ "experimental option without its ExID", { 254, 0x03, 0xf9, 0x00 }, 4 },
		{ "sack length 9", { 0x05, 0x09, 0, 0, 0, 0, 0, 0, 0, 0 }, 10 },
		{ "sack length 17", { 0x05, 0x11 }, 20 },
		{ "sack with 5 blocks", { 0x05, 0x2a }, 44 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct tcp_option options[SEGMENT_MAX_OPTIONS];
		const char *error = NULL;
		/* A heap copy of exactly len bytes lets ASan and valgrind catch a read past the end. */
		uint8_t *bytes = malloc(cases[i].len);
		assert_non_null(bytes);
		memcpy(bytes, cases[i].bytes, cases[i].len);
		int count = tcp_options_decode(bytes, cases[i].len, options, SEGMENT_MAX_OPTIONS, &error);
		free(bytes);
		if (count != -1 || error == NULL || error[0] == '\0')
			fail_msg("%s: decoded %d options, error %s", cases[i].what, count, error ? error : "(none)");
	}
}

static void decode_rejects_more_options_than_max(void **state)
{
	(void)state;
	uint8_t nops[SEGMENT_MAX_OPTIONS + 1];
	memset(nops, TCP_OPTION_NOP, sizeof(nops));
	struct tcp_option options[SEGMENT_MAX_OPTIONS];
	const char *error = NULL;
	assert_int_equal(tcp_options_decode(nops, SEGMENT_MAX_OPTIONS, options, SEGMENT_MAX_OPTIONS, &error),
			 SEGMENT_MAX_OPTIONS);
	assert_int_equal(tcp_options_decode(nops, sizeof(nops), options, SEGMENT_MAX_OPTIONS, &error), -1);
	assert_non_null(error);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(encode_syn_ack_options_matches_wire_bytes),
		cmocka_unit_test(encode_pads_with_eol_to_word_boundary),
		cmocka_unit_test(encode_nothing_is_empty),
		cmocka_unit_test(encode_eol_is_one_zero_byte_padded),
		cmocka_unit_test(encode_sack_blocks),
		cmocka_unit_test(encode_rejects_sack_block_count_outside_1_to_4),
		cmocka_unit_test(encode_unknown_kind_as_zero_value_bytes),
		cmocka_unit_test(encode_rejects_unknown_kind_with_length_below_2),
		cmocka_unit_test(encode_rejects_more_than_40_bytes),
		cmocka_unit_test(encode_rejects_small_output_buffer),
		cmocka_unit_test(decode_syn_ack_options),
		cmocka_unit_test(round_trip_every_kind),
		cmocka_unit_test(decode_four_sack_blocks),
		cmocka_unit_test(decode_stops_at_eol),
		cmocka_unit_test(decode_empty_and_all_padding),
		cmocka_unit_test(decode_unknown_kind_keeps_kind_and_length),
		cmocka_unit_test(decode_rejects_every_malformed_length),
		cmocka_unit_test(decode_rejects_more_options_than_max),
		cmocka_unit_test(fast_open_cookies_round_trip),
		cmocka_unit_test(experimental_option_of_another_exid_has_no_cookie),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
