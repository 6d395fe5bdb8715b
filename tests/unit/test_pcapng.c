/* pcapng.h writes the blocks draft-ietf-opsawg-pcapng describes: read back field by field here (and by
 * tshark in kernel:pcap), comments where they were asked for, lengths that agree at both ends. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pcapng.h"

static uint32_t u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static uint16_t u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, 2);
	return v;
}

/* The option of code `code` in options[0..len), its value and length; NULL when absent. */
static const uint8_t *option(const uint8_t *options, size_t len, uint16_t code, int nth, uint16_t *value_len)
{
	for (size_t at = 0; at + 4 <= len;) {
		uint16_t c = u16(options + at), l = u16(options + at + 2);
		if (c == 0)
			return NULL;
		if (c == code && nth-- == 0) {
			*value_len = l;
			return options + at + 4;
		}
		at += 4 + ((l + 3u) & ~3u);
	}
	return NULL;
}

static void test_blocks(void **state)
{
	(void)state;
	uint8_t frame_a[60] = { 0x02, 0, 0, 0, 0, 1 }, frame_b[61] = { 0x02, 0, 0, 0, 0, 2 };
	struct pcapng_frame frames[] = {
		{ 1700000000123456789LL, frame_a, sizeof frame_a, { "x.tc:3 injected S 0:0(0) win 64240", NULL } },
		{ 1700000000223456789LL, frame_b, sizeof frame_b, { NULL } },
		{ 1700000000323456789LL, frame_a, sizeof frame_a, { "x.tc:4 expected R", "FAIL: x.tc:4:3: differs" } },
	};
	struct pcapng_section section = { "tcpharness 0.1.0", { "case x (x.tc)", "variant v, family ipv4", NULL } };
	char *bytes = NULL;
	size_t size = 0;
	FILE *out = open_memstream(&bytes, &size);
	char *error = NULL;
	assert_int_equal(pcapng_write(out, &section, 65535, frames, 3, &error), 0);
	fclose(out);
	const uint8_t *p = (const uint8_t *)bytes, *end = p + size;

	/* Section header (4.1): magic, version 1.0, length unknown, then its comments and application. */
	assert_int_equal(u32(p), 0x0A0D0D0A);
	uint32_t len = u32(p + 4);
	assert_int_equal(len % 4, 0);
	assert_int_equal(u32(p + len - 4), len);
	assert_int_equal(u32(p + 8), 0x1A2B3C4D);
	assert_int_equal(u16(p + 12), 1);
	assert_int_equal(u16(p + 14), 0);
	assert_int_equal(u32(p + 16), 0xFFFFFFFF);
	uint16_t vlen;
	const uint8_t *v = option(p + 24, len - 28, 1, 1, &vlen);
	assert_non_null(v);
	assert_memory_equal(v, "variant v, family ipv4", vlen);
	v = option(p + 24, len - 28, 4, 0, &vlen);
	assert_non_null(v);
	assert_memory_equal(v, "tcpharness 0.1.0", vlen);
	p += len;

	/* Interface (4.2): Ethernet, the snaplen, nanosecond stamps. */
	assert_int_equal(u32(p), 1);
	len = u32(p + 4);
	assert_int_equal(u32(p + len - 4), len);
	assert_int_equal(u16(p + 8), 1);
	assert_int_equal(u32(p + 12), 65535);
	v = option(p + 16, len - 20, 9, 0, &vlen);
	assert_non_null(v);
	assert_int_equal(vlen, 1);
	assert_int_equal(v[0], 9);
	p += len;

	/* Enhanced packets (4.3): stamp, lengths, the bytes padded, the comments. */
	for (int i = 0; i < 3; i++) {
		assert_int_equal(u32(p), 6);
		len = u32(p + 4);
		assert_int_equal(len % 4, 0);
		assert_int_equal(u32(p + len - 4), len);
		uint64_t stamp = (uint64_t)u32(p + 12) << 32 | u32(p + 16);
		assert_true(stamp == (uint64_t)frames[i].at_ns);
		assert_int_equal(u32(p + 20), frames[i].len);
		assert_int_equal(u32(p + 24), frames[i].len);
		assert_memory_equal(p + 28, frames[i].bytes, frames[i].len);
		const uint8_t *options = p + 28 + ((frames[i].len + 3) & ~3u);
		size_t options_len = (size_t)(p + len - 4 - options);
		for (int n = 0; n < PCAPNG_MAX_COMMENTS && frames[i].comments[n]; n++) {
			v = option(options, options_len, 1, n, &vlen);
			assert_non_null(v);
			assert_int_equal(vlen, strlen(frames[i].comments[n]));
			assert_memory_equal(v, frames[i].comments[n], vlen);
		}
		if (!frames[i].comments[0])
			assert_int_equal(options_len, 0);
		p += len;
	}
	assert_ptr_equal(p, end);
	free(bytes);
}

/* A write that fails says so. */
static void test_full_device(void **state)
{
	(void)state;
	FILE *out = fopen("/dev/full", "w");
	assert_non_null(out);
	setvbuf(out, NULL, _IONBF, 0);
	struct pcapng_section section = { NULL, { NULL } };
	char *error = NULL;
	assert_int_equal(pcapng_write(out, &section, 65535, NULL, 0, &error), -1);
	assert_non_null(error);
	assert_non_null(strstr(error, "No space left on device"));
	free(error);
	fclose(out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blocks),
		cmocka_unit_test(test_full_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
