/* judge.c - see judge.h. */
#include "judge.h"

#include <stdio.h>
#include <string.h>

static bool value_matches(struct spec_value expected, struct spec_value observed)
{
	if (expected.kind == SPEC_UNSET || expected.kind == SPEC_ANY)
		return true;
	return observed.kind == SPEC_VALUE && observed.value == expected.value;
}

static bool option_matches(const struct option_spec *expected, const struct option_spec *observed)
{
	if (expected->kind != observed->kind)
		return false;
	int values = 0;
	switch (expected->kind) {
	case TCP_OPTION_MSS:
	case TCP_OPTION_WSCALE:
		values = 1;
		break;
	case TCP_OPTION_TIMESTAMP:
		values = 2;
		break;
	case TCP_OPTION_SACK:
		if (expected->sack_block_count != observed->sack_block_count)
			return false;
		values = 2 * expected->sack_block_count;
		break;
	case TCP_OPTION_EXPERIMENTAL:
		values = 1; /* the ExID; its Fast Open cookie is compared below */
		break;
	default:
		break;
	}
	for (int i = 0; i < values; i++)
		if (!value_matches(expected->v[i], observed->v[i]))
			return false;
	/* A cookie is compared byte for byte, as packetdrill compares options (run_packet.c). */
	return expected->cookie_len == observed->cookie_len &&
	       memcmp(expected->cookie, observed->cookie, expected->cookie_len) == 0;
}

static bool is_padding(const struct option_spec *option)
{
	return option->kind == TCP_OPTION_NOP || option->kind == TCP_OPTION_EOL;
}

/* `<...>`: the same options in the same order. `{...}`: each expected option matches its own observed
 * one, and the observed segment has no other option but padding. */
static bool options_match(const struct segment_spec *expected, const struct segment_spec *observed)
{
	if (!expected->options_as_set) {
		bool same = expected->option_count == observed->option_count;
		for (size_t i = 0; same && i < expected->option_count; i++)
			same = option_matches(&expected->options[i], &observed->options[i]);
		return same;
	}
	bool used[SEGMENT_MAX_OPTIONS] = { false };
	size_t observed_count = observed->option_count < SEGMENT_MAX_OPTIONS ? observed->option_count
									      : SEGMENT_MAX_OPTIONS;
	size_t unpadded = 0;
	for (size_t j = 0; j < observed_count; j++)
		unpadded += !is_padding(&observed->options[j]);
	if (unpadded != expected->option_count)
		return false;
	for (size_t i = 0; i < expected->option_count; i++) {
		size_t j = 0;
		while (j < observed_count && (used[j] || !option_matches(&expected->options[i], &observed->options[j])))
			j++;
		if (j == observed_count)
			return false;
		used[j] = true;
	}
	return true;
}

struct segment_verdict judge_segment(const struct segment_spec *expected, const struct segment_spec *observed)
{
	struct segment_verdict v = { 0 };
	v.differs[SEGMENT_FIELD_IP_ECN] = expected->has_ip_ecn && expected->ip_ecn != observed->ip_ecn;
	v.differs[SEGMENT_FIELD_FLAGS] = expected->flags != observed->flags;
	v.differs[SEGMENT_FIELD_SEQ] = !value_matches(expected->seq, observed->seq) ||
				       expected->payload_len != observed->payload_len;
	/* An expected ack also demands that the segment carries one. */
	v.differs[SEGMENT_FIELD_ACK] = expected->ack.kind != SPEC_UNSET && expected->ack.kind != SPEC_ANY &&
				       !value_matches(expected->ack, observed->ack);
	v.differs[SEGMENT_FIELD_WIN] = !value_matches(expected->win, observed->win);
	if (expected->has_options)
		v.differs[SEGMENT_FIELD_OPTIONS] = !options_match(expected, observed);
	v.matches = true;
	for (int f = 0; f < SEGMENT_FIELD_COUNT; f++)
		if (v.differs[f])
			v.matches = false;
	return v;
}

/* One formatted segment line and, when any field differs, a caret line under those fields. */
static int format_marked(const char *indent, const char *label, const struct segment_spec *spec,
			 const struct segment_verdict *verdict, char *buf, size_t size)
{
	char text[512];
	struct segment_field_spans spans;
	segment_format_spec(spec, text, sizeof text, &spans);
	char carets[sizeof text];
	int width = (int)strlen(text);
	memset(carets, ' ', (size_t)width);
	int last = -1;
	for (int f = 0; f < SEGMENT_FIELD_COUNT; f++) {
		if (!verdict->differs[f])
			continue;
		int start = spans.start[f], end = spans.end[f];
		if (start == end) /* the field is absent on this side: point where it would be */
			end = start + 1;
		for (int i = start; i < end && i < width + 1 && i < (int)sizeof carets - 1; i++) {
			carets[i] = '^';
			if (i > last)
				last = i;
		}
	}
	carets[last + 1] = '\0';
	if (last < 0)
		return snprintf(buf, size, "%s%-10s%s\n", indent, label, text);
	return snprintf(buf, size, "%s%-10s%s\n%s%-10s%s\n", indent, label, text, indent, "", carets);
}

int judge_format_diff(const struct segment_spec *expected, const struct segment_spec *observed,
		      const struct segment_verdict *verdict, const char *indent, char *buf, size_t size)
{
	int n = format_marked(indent, "expected:", expected, verdict, buf, size);
	size_t used = (size_t)n < size ? (size_t)n : size;
	int m = format_marked(indent, "observed:", observed, verdict, buf + used, size - used);
	return n + m;
}
