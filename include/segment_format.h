/* segment_format.h - the one formatter for segments, used by every diagnostic and report.
 * Prints tcpdump/packetdrill notation: `S. 0:0(0) ack 1 win 65535 <mss 1460,sackOK,TS val * ecr 100>`. */
#ifndef TCPHARNESS_SEGMENT_FORMAT_H
#define TCPHARNESS_SEGMENT_FORMAT_H

#include "segment.h"

enum segment_field {
	SEGMENT_FIELD_IP_ECN, /* `[ect0]`, before the flags */
	SEGMENT_FIELD_FLAGS,
	SEGMENT_FIELD_SEQ, /* the whole `start:end(len)` */
	SEGMENT_FIELD_ACK,
	SEGMENT_FIELD_WIN,
	SEGMENT_FIELD_OPTIONS,
	SEGMENT_FIELD_COUNT
};

/* Where each field landed in the formatted text: [start, end) byte offsets, start == end when the
 * field was not printed. Lets a diff underline the fields that differ. */
struct segment_field_spans {
	int start[SEGMENT_FIELD_COUNT];
	int end[SEGMENT_FIELD_COUNT];
};

/* Formats a spec (expected, injected, or the relative view of an observed segment) into buf like
 * snprintf: always NUL-terminated, returns the length it needed. Fields: flags (`S`, `S.`, `F.`, `R`,
 * `.`, `P.`, order F S R P then `.` for ACK, then E W U), `start:end(len)`, `ack N` if set,
 * `win N` if set, `<opt,...>` if has_options. SPEC_ANY prints `*`, SPEC_AUTO `auto`,
 * SPEC_RELATIVE `+N`/`-N`. spans may be NULL. */
int segment_format_spec(const struct segment_spec *spec, char *buf, size_t size,
			struct segment_field_spans *spans);

/* Formats only the option list `<mss 1460,nop,...>` (with the angle brackets). */
int segment_format_options(const struct option_spec *options, size_t count, char *buf, size_t size);

/* Formats a captured segment in absolute numbers with addresses, tcpdump style:
 * `192.0.2.1:8080 > 192.0.2.10:40000 S. seq 123 ack 456 win 65160 <mss 1460,...> len 0`. */
int segment_format_absolute(const struct segment *segment, char *buf, size_t size);

/* Converts decoded options into option specs holding literal values (for relative views). */
void segment_options_to_specs(const struct tcp_option *options, size_t count, struct option_spec *out);

#endif
