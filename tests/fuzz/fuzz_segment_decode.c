/* fuzz_segment_decode.c - libFuzzer target: arbitrary bytes as a captured frame, decoded as Ethernet
 * and as raw IPv4, and every decoded segment printed by the one formatter that diagnostics and reports
 * use, both into room enough and into a cut buffer (snprintf semantics must hold there too). */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "segment_decode.h"
#include "segment_format.h"

/* Longer than any segment the formatter can print: 16 options, 4 SACK blocks each. */
#define FORMAT_ROOM 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_format(const struct segment *segment, size_t cut)
{
	char text[FORMAT_ROOM];
	int needed = segment_format_absolute(segment, text, sizeof text);

	if (needed < 0 || (size_t)needed >= sizeof text || strlen(text) != (size_t)needed)
		__builtin_trap();

	/* A cut buffer keeps the prefix that fits, NUL-terminated, and still reports the full length. */
	char cut_text[FORMAT_ROOM];
	cut %= (size_t)needed + 1;
	memset(cut_text, 'x', sizeof cut_text);
	if (segment_format_absolute(segment, cut_text, cut) != needed)
		__builtin_trap();
	if (cut > 0 && (strlen(cut_text) != cut - 1 || memcmp(cut_text, text, cut - 1) != 0))
		__builtin_trap();
	if (cut < sizeof cut_text && cut_text[cut] != 'x')
		__builtin_trap();

	struct option_spec specs[SEGMENT_MAX_OPTIONS];
	if (segment->option_count > SEGMENT_MAX_OPTIONS)
		__builtin_trap();
	segment_options_to_specs(segment->options, segment->option_count, specs);
	if (segment_format_options(specs, segment->option_count, text, sizeof text) >= (int)sizeof text)
		__builtin_trap();
}

static void decode(int (*decoder)(const uint8_t *, size_t, struct segment *, const char **),
		   const uint8_t *frame, size_t size)
{
	struct segment segment;
	const char *error = NULL;

	if (decoder(frame, size, &segment, &error) == 0)
		check_format(&segment, size);
	else if (!error || !error[0])
		__builtin_trap(); /* every refusal says why */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(segment_decode_ethernet, data, size);
	/* The same bytes past a would-be Ethernet header reach both IP decoders whatever the EtherType,
	 * so mutations of the IP and TCP headers are not wasted on that check. */
	if (size > 14) {
		decode(segment_decode_ipv4, data + 14, size - 14);
		decode(segment_decode_ipv6, data + 14, size - 14);
	}
	uint8_t type, code;
	segment_decode_icmpv6(data, size, &type, &code);
	return 0;
}
