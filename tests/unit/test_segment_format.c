/* test_segment_format.c - unit tests for segment_format.c: notation, spans, truncation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "segment_format.h"

static struct spec_value value(int64_t number)
{
	return (struct spec_value){ .kind = SPEC_VALUE, .value = number };
}

static struct spec_value of_kind(enum spec_kind kind, int64_t number)
{
	return (struct spec_value){ .kind = kind, .value = number };
}

static struct segment_spec bare_spec(uint8_t flags, int64_t seq, uint32_t payload_len)
{
	struct segment_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.flags = flags;
	spec.seq = value(seq);
	spec.payload_len = payload_len;
	return spec;
}

static struct option_spec option(uint8_t kind)
{
	struct option_spec spec;
	memset(&spec, 0, sizeof(spec));
	spec.kind = kind;
	return spec;
}

/* S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7> */
static struct segment_spec syn_ack_spec(void)
{
	struct segment_spec spec = bare_spec(TCP_FLAG_SYN | TCP_FLAG_ACK, 0, 0);
	spec.ack = value(1);
	spec.win = value(65160);
	spec.has_options = true;
	spec.option_count = 5;
	spec.options[0] = option(TCP_OPTION_MSS);
	spec.options[0].v[0] = value(1460);
	spec.options[1] = option(TCP_OPTION_SACK_PERMITTED);
	spec.options[2] = option(TCP_OPTION_TIMESTAMP);
	spec.options[2].v[0] = value(123);
	spec.options[2].v[1] = value(100);
	spec.options[3] = option(TCP_OPTION_NOP);
	spec.options[4] = option(TCP_OPTION_WSCALE);
	spec.options[4].v[0] = value(7);
	return spec;
}

static const char syn_ack_text[] =
	"S. 0:0(0) ack 1 win 65160 <mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7>";

static void assert_spec_prints(const struct segment_spec *spec, const char *expected)
{
	char buf[256];
	assert_int_equal(segment_format_spec(spec, buf, sizeof(buf), NULL), (int)strlen(expected));
	assert_string_equal(buf, expected);
}

static void syn_ack_with_options(void **state)
{
	(void)state;
	struct segment_spec spec = syn_ack_spec();
	assert_spec_prints(&spec, syn_ack_text);
}

static void each_flag_combination(void **state)
{
	(void)state;
	static const struct {
		uint8_t flags;
		const char *text;
	} cases[] = {
		{ TCP_FLAG_SYN, "S" },
		{ TCP_FLAG_SYN | TCP_FLAG_ACK, "S." },
		{ TCP_FLAG_FIN | TCP_FLAG_ACK, "F." },
		{ TCP_FLAG_PSH | TCP_FLAG_ACK, "P." },
		{ TCP_FLAG_ACK, "." },
		{ TCP_FLAG_RST, "R" },
		{ TCP_FLAG_RST | TCP_FLAG_ACK, "R." },
		{ TCP_FLAG_FIN | TCP_FLAG_PSH | TCP_FLAG_ACK, "FP." },
		{ TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR, "SEW" },
		{ TCP_FLAG_ACK | TCP_FLAG_URG, ".U" },
		{ 0xff, "FSRP.EWU" },
		{ 0, "none" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct segment_spec spec = bare_spec(cases[i].flags, 1, 0);
		char expected[64];
		char buf[64];
		snprintf(expected, sizeof(expected), "%s 1:1(0)", cases[i].text);
		segment_format_spec(&spec, buf, sizeof(buf), NULL);
		if (strcmp(buf, expected) != 0)
			fail_msg("flags 0x%02x: got \"%s\", want \"%s\"", cases[i].flags, buf, expected);
	}
}

static void sequence_range_with_payload(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_PSH | TCP_FLAG_ACK, 1, 1000);
	spec.ack = value(1);
	assert_spec_prints(&spec, "P. 1:1001(1000) ack 1");
}

static void sequence_range_beyond_32_bits_of_text(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_ACK, 4294967295, 10);
	assert_spec_prints(&spec, ". 4294967295:4294967305(10)");
}

static void wildcards_auto_and_relative(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_SYN | TCP_FLAG_ACK, 0, 0);
	spec.seq = of_kind(SPEC_ANY, 0);
	spec.ack = of_kind(SPEC_AUTO, 0);
	spec.win = of_kind(SPEC_ANY, 0);
	spec.has_options = true;
	spec.option_count = 3;
	spec.options[0] = option(TCP_OPTION_TIMESTAMP);
	spec.options[0].v[0] = of_kind(SPEC_ANY, 0);
	spec.options[0].v[1] = of_kind(SPEC_AUTO, 0);
	spec.options[1] = option(TCP_OPTION_TIMESTAMP);
	spec.options[1].v[0] = of_kind(SPEC_RELATIVE, 5);
	spec.options[1].v[1] = of_kind(SPEC_RELATIVE, -3);
	spec.options[2] = option(TCP_OPTION_WSCALE);
	spec.options[2].v[0] = of_kind(SPEC_ANY, 0);
	assert_spec_prints(&spec, "S. *:*(0) ack auto win * <TS val * ecr auto,TS val +5 ecr -3,wscale *>");
}

static void relative_zero_keeps_its_sign(void **state)
{
	(void)state;
	struct option_spec ts = option(TCP_OPTION_TIMESTAMP);
	ts.v[0] = of_kind(SPEC_RELATIVE, 0);
	ts.v[1] = value(0);
	char buf[64];
	segment_format_options(&ts, 1, buf, sizeof(buf));
	assert_string_equal(buf, "<TS val +0 ecr 0>");
}

static void every_option_kind(void **state)
{
	(void)state;
	struct option_spec options[7] = {
		option(TCP_OPTION_NOP), option(TCP_OPTION_EOL), option(TCP_OPTION_MSS),
		option(TCP_OPTION_WSCALE), option(TCP_OPTION_SACK_PERMITTED), option(TCP_OPTION_SACK), option(30),
	};
	options[2].v[0] = value(536);
	options[3].v[0] = value(14);
	options[5].sack_block_count = 2;
	options[5].v[0] = value(1);
	options[5].v[1] = value(10);
	options[5].v[2] = value(20);
	options[5].v[3] = value(30);
	char buf[128];
	static const char expected[] = "<nop,eol,mss 536,wscale 14,sackOK,sack 1:10 20:30,opt-30>";
	assert_int_equal(segment_format_options(options, 7, buf, sizeof(buf)), (int)strlen(expected));
	assert_string_equal(buf, expected);
}

static void empty_option_list_still_has_brackets(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_ACK, 1, 0);
	spec.has_options = true;
	assert_spec_prints(&spec, ". 1:1(0) <>");
}

static void assert_span(const char *text, const struct segment_field_spans *spans, enum segment_field field,
			const char *expected)
{
	int len = spans->end[field] - spans->start[field];
	assert_int_equal(len, (int)strlen(expected));
	assert_memory_equal(text + spans->start[field], expected, (size_t)len);
}

static void spans_cover_each_field(void **state)
{
	(void)state;
	struct segment_spec spec = syn_ack_spec();
	struct segment_field_spans spans;
	char buf[256];
	segment_format_spec(&spec, buf, sizeof(buf), &spans);
	assert_span(buf, &spans, SEGMENT_FIELD_FLAGS, "S.");
	assert_span(buf, &spans, SEGMENT_FIELD_SEQ, "0:0(0)");
	assert_span(buf, &spans, SEGMENT_FIELD_ACK, "ack 1");
	assert_span(buf, &spans, SEGMENT_FIELD_WIN, "win 65160");
	assert_span(buf, &spans, SEGMENT_FIELD_OPTIONS, "<mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7>");
}

static void spans_of_absent_fields_are_empty(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_RST, 2, 0);
	struct segment_field_spans spans;
	char buf[64];
	int len = segment_format_spec(&spec, buf, sizeof(buf), &spans);
	assert_string_equal(buf, "R 2:2(0)");
	for (int field = SEGMENT_FIELD_ACK; field <= SEGMENT_FIELD_OPTIONS; field++) {
		assert_int_equal(spans.start[field], spans.end[field]);
		assert_int_equal(spans.start[field], len);
	}
	assert_span(buf, &spans, SEGMENT_FIELD_SEQ, "2:2(0)");
}

static void spans_with_win_but_no_ack(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_SYN, 0, 0);
	spec.win = value(64240);
	struct segment_field_spans spans;
	char buf[64];
	segment_format_spec(&spec, buf, sizeof(buf), &spans);
	assert_string_equal(buf, "S 0:0(0) win 64240");
	assert_int_equal(spans.start[SEGMENT_FIELD_ACK], spans.end[SEGMENT_FIELD_ACK]);
	assert_span(buf, &spans, SEGMENT_FIELD_WIN, "win 64240");
}

/* Like snprintf: the return is the length needed, the buffer keeps a NUL-terminated prefix. */
static void small_buffer_truncates_like_snprintf(void **state)
{
	(void)state;
	struct segment_spec spec = syn_ack_spec();
	size_t full = strlen(syn_ack_text);
	for (size_t size = 1; size <= full + 1; size++) {
		char buf[sizeof(syn_ack_text) + 8];
		memset(buf, 'x', sizeof(buf));
		struct segment_field_spans spans;
		assert_int_equal(segment_format_spec(&spec, buf, size, &spans), (int)full);
		assert_int_equal(strlen(buf), size - 1);
		assert_memory_equal(buf, syn_ack_text, size - 1);
		assert_int_equal(buf[size], 'x');
		assert_int_equal(spans.end[SEGMENT_FIELD_OPTIONS], (int)full);
	}
	assert_int_equal(segment_format_spec(&spec, NULL, 0, NULL), (int)full);
	char options_buf[5];
	assert_int_equal(segment_format_options(spec.options, spec.option_count, options_buf, sizeof(options_buf)),
			 (int)strlen("<mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7>"));
	assert_string_equal(options_buf, "<mss");
}

static struct segment syn_ack_segment(void)
{
	struct segment segment;
	memset(&segment, 0, sizeof(segment));
	segment.src_ip = ip_address_from_ipv4(0xc0000201);
	segment.dst_ip = ip_address_from_ipv4(0xc000020a);
	segment.src_port = 8080;
	segment.dst_port = 40000;
	segment.seq = 3735928559u;
	segment.ack = 1000001;
	segment.flags = TCP_FLAG_SYN | TCP_FLAG_ACK;
	segment.window = 65160;
	segment.option_count = 5;
	segment.options[0].kind = TCP_OPTION_MSS;
	segment.options[0].mss = 1460;
	segment.options[1].kind = TCP_OPTION_SACK_PERMITTED;
	segment.options[2].kind = TCP_OPTION_TIMESTAMP;
	segment.options[2].ts_val = 123;
	segment.options[2].ts_ecr = 100;
	segment.options[3].kind = TCP_OPTION_NOP;
	segment.options[4].kind = TCP_OPTION_WSCALE;
	segment.options[4].wscale = 7;
	segment.ip_checksum_ok = true;
	segment.tcp_checksum_ok = true;
	return segment;
}

static void absolute_syn_ack(void **state)
{
	(void)state;
	struct segment segment = syn_ack_segment();
	char buf[256];
	static const char expected[] = "192.0.2.1:8080 > 192.0.2.10:40000 S. seq 3735928559 ack 1000001 win 65160 "
				       "<mss 1460,sackOK,TS val 123 ecr 100,nop,wscale 7> len 0";
	assert_int_equal(segment_format_absolute(&segment, buf, sizeof(buf)), (int)strlen(expected));
	assert_string_equal(buf, expected);
}

/* IPv6 endpoints in brackets (RFC 5952 6), so the port never reads as part of the address. */
static void absolute_ipv6_brackets_addresses(void **state)
{
	(void)state;
	struct segment segment = syn_ack_segment();
	segment.src_ip = family_address(FAMILY_IPV6, 0xc0000201);
	segment.dst_ip = family_address(FAMILY_IPV6, 0xc000020a);
	segment.option_count = 0;
	char buf[256];
	segment_format_absolute(&segment, buf, sizeof(buf));
	assert_string_equal(buf, "[2001:db8::c000:201]:8080 > [2001:db8::c000:20a]:40000 S. seq 3735928559 ack 1000001 "
				 "win 65160 len 0");
}

static void absolute_without_ack_flag_or_options(void **state)
{
	(void)state;
	struct segment segment = syn_ack_segment();
	segment.flags = TCP_FLAG_RST;
	segment.ack = 77;
	segment.window = 0;
	segment.option_count = 0;
	char buf[256];
	segment_format_absolute(&segment, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:8080 > 192.0.2.10:40000 R seq 3735928559 win 0 len 0");
}

static void absolute_marks_bad_checksums(void **state)
{
	(void)state;
	struct segment segment = syn_ack_segment();
	segment.option_count = 0;
	segment.payload_len = 5;
	segment.tcp_checksum_ok = false;
	char buf[256];
	segment_format_absolute(&segment, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:8080 > 192.0.2.10:40000 S. seq 3735928559 ack 1000001 win 65160 len 5 "
				 "[bad tcp cksum]");
	segment.ip_checksum_ok = false;
	segment_format_absolute(&segment, buf, sizeof(buf));
	assert_string_equal(buf, "192.0.2.1:8080 > 192.0.2.10:40000 S. seq 3735928559 ack 1000001 win 65160 len 5 "
				 "[bad ip cksum] [bad tcp cksum]");
}

static void absolute_small_buffer(void **state)
{
	(void)state;
	struct segment segment = syn_ack_segment();
	char full[256];
	char buf[20];
	int needed = segment_format_absolute(&segment, full, sizeof(full));
	assert_int_equal(segment_format_absolute(&segment, buf, sizeof(buf)), needed);
	assert_int_equal(strlen(buf), sizeof(buf) - 1);
	assert_memory_equal(buf, full, sizeof(buf) - 1);
}

static void options_to_specs_keeps_values(void **state)
{
	(void)state;
	struct tcp_option options[4];
	memset(options, 0, sizeof(options));
	options[0].kind = TCP_OPTION_MSS;
	options[0].mss = 1460;
	options[1].kind = TCP_OPTION_SACK;
	options[1].sack_block_count = 2;
	options[1].sack_left[0] = 1;
	options[1].sack_right[0] = 10;
	options[1].sack_left[1] = 4294967295u;
	options[1].sack_right[1] = 5;
	options[2].kind = TCP_OPTION_TIMESTAMP;
	options[2].ts_val = 4000000000u;
	options[2].ts_ecr = 7;
	options[3].kind = 99;
	options[3].length = 4;
	struct option_spec specs[4];
	memset(specs, 0xee, sizeof(specs));
	segment_options_to_specs(options, 4, specs);
	assert_int_equal(specs[0].kind, TCP_OPTION_MSS);
	assert_int_equal(specs[0].v[0].kind, SPEC_VALUE);
	assert_int_equal(specs[0].v[0].value, 1460);
	assert_int_equal(specs[0].v[1].kind, SPEC_UNSET);
	assert_int_equal(specs[1].sack_block_count, 2);
	assert_int_equal(specs[1].v[2].value, 4294967295);
	assert_int_equal(specs[1].v[3].value, 5);
	assert_int_equal(specs[1].v[4].kind, SPEC_UNSET);
	assert_int_equal(specs[2].v[0].value, 4000000000);
	assert_int_equal(specs[2].v[1].value, 7);
	assert_int_equal(specs[3].kind, 99);
	char buf[128];
	segment_format_options(specs, 4, buf, sizeof(buf));
	assert_string_equal(buf, "<mss 1460,sack 1:10 4294967295:5,TS val 4000000000 ecr 7,opt-99>");
}

/* Counts larger than the arrays (a bug upstream) must not read past them under ASan. */
static void oversized_counts_stay_inside_arrays(void **state)
{
	(void)state;
	struct segment_spec spec = bare_spec(TCP_FLAG_ACK, 1, 0);
	spec.has_options = true;
	spec.option_count = 1000;
	for (size_t i = 0; i < SEGMENT_MAX_OPTIONS; i++)
		spec.options[i] = option(TCP_OPTION_NOP);
	spec.options[0] = option(TCP_OPTION_SACK);
	spec.options[0].sack_block_count = 200;
	for (size_t i = 0; i < 2 * SACK_MAX_BLOCKS; i++)
		spec.options[0].v[i] = value((int64_t)i);
	char buf[256];
	segment_format_spec(&spec, buf, sizeof(buf), NULL);
	assert_string_equal(buf, ". 1:1(0) <sack 0:1 2:3 4:5 6:7,"
				 "nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop,nop>");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syn_ack_with_options),
		cmocka_unit_test(each_flag_combination),
		cmocka_unit_test(sequence_range_with_payload),
		cmocka_unit_test(sequence_range_beyond_32_bits_of_text),
		cmocka_unit_test(wildcards_auto_and_relative),
		cmocka_unit_test(relative_zero_keeps_its_sign),
		cmocka_unit_test(every_option_kind),
		cmocka_unit_test(empty_option_list_still_has_brackets),
		cmocka_unit_test(spans_cover_each_field),
		cmocka_unit_test(spans_of_absent_fields_are_empty),
		cmocka_unit_test(spans_with_win_but_no_ack),
		cmocka_unit_test(small_buffer_truncates_like_snprintf),
		cmocka_unit_test(absolute_syn_ack),
		cmocka_unit_test(absolute_ipv6_brackets_addresses),
		cmocka_unit_test(absolute_without_ack_flag_or_options),
		cmocka_unit_test(absolute_marks_bad_checksums),
		cmocka_unit_test(absolute_small_buffer),
		cmocka_unit_test(options_to_specs_keeps_values),
		cmocka_unit_test(oversized_counts_stay_inside_arrays),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
