/* judge.h - decide whether an observed segment is the expected one, and say how it differs.
 * Pure: compares two segment_specs (the expectation and the relative view of what the stack sent). */
#ifndef TCPHARNESS_JUDGE_H
#define TCPHARNESS_JUDGE_H

#include <stdbool.h>
#include <stddef.h>

#include "segment.h"
#include "segment_format.h"

struct segment_verdict {
	bool matches;
	bool differs[SEGMENT_FIELD_COUNT]; /* which fields broke the expectation */
};

/* Compares observed (all literal values) with expected (literals, `*`, unset = unchecked): flags and
 * length exactly, seq/ack/win when expected gives them, the option list kind by kind when expected has
 * one. */
struct segment_verdict judge_segment(const struct segment_spec *expected, const struct segment_spec *observed);

/* Writes the side-by-side diff used by every report:
 *     expected: . 2:2(0) ack 2
 *               ^
 *     observed: R 2:2(0)
 *               ^
 * with carets under every differing field, each line prefixed by indent. Like snprintf. */
int judge_format_diff(const struct segment_spec *expected, const struct segment_spec *observed,
		      const struct segment_verdict *verdict, const char *indent, char *buf, size_t size);

#endif
