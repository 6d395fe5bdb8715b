/* segment_format.c - see segment_format.h. */
#include "segment_format.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* snprintf semantics across many appends: len counts what the whole text needs, buf keeps the prefix
 * that fits, always NUL-terminated when size > 0. */
struct text {
	char *buf;
	size_t size;
	size_t len;
};

static void text_init(struct text *text, char *buf, size_t size)
{
	text->buf = buf;
	text->size = size;
	text->len = 0;
	if (size > 0)
		buf[0] = '\0';
}

__attribute__((format(printf, 2, 3))) static void text_printf(struct text *text, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	char *at = text->len < text->size ? text->buf + text->len : NULL;
	size_t room = text->len < text->size ? text->size - text->len : 0;
	int needed = vsnprintf(at, room, format, args);
	va_end(args);
	if (needed > 0)
		text->len += (size_t)needed;
}

static void print_flags(struct text *text, uint8_t flags)
{
	static const struct {
		uint8_t flag;
		char letter;
	} order[] = {
		{ TCP_FLAG_FIN, 'F' }, { TCP_FLAG_SYN, 'S' }, { TCP_FLAG_RST, 'R' }, { TCP_FLAG_PSH, 'P' },
		{ TCP_FLAG_ACK, '.' }, { TCP_FLAG_ECE, 'E' }, { TCP_FLAG_CWR, 'W' }, { TCP_FLAG_URG, 'U' },
	};
	/* tcpdump's word for a segment with no flags; an empty field would leave nothing to underline. */
	if (flags == 0) {
		text_printf(text, "none");
		return;
	}
	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++)
		if (flags & order[i].flag)
			text_printf(text, "%c", order[i].letter);
}

static void print_value(struct text *text, const struct spec_value *value)
{
	switch (value->kind) {
	case SPEC_VALUE:
		text_printf(text, "%lld", (long long)value->value);
		break;
	case SPEC_ANY:
		text_printf(text, "*");
		break;
	case SPEC_AUTO:
		text_printf(text, "auto");
		break;
	case SPEC_RELATIVE:
		text_printf(text, "%+lld", (long long)value->value);
		break;
	case SPEC_UNSET:
		/* A value the case line left to the harness but that had to be printed: make it visible. */
		text_printf(text, "?");
		break;
	}
}

static void print_option(struct text *text, const struct option_spec *option)
{
	switch (option->kind) {
	case TCP_OPTION_EOL:
		text_printf(text, "eol");
		break;
	case TCP_OPTION_NOP:
		text_printf(text, "nop");
		break;
	case TCP_OPTION_MSS:
		text_printf(text, "mss ");
		print_value(text, &option->v[0]);
		break;
	case TCP_OPTION_WSCALE:
		text_printf(text, "wscale ");
		print_value(text, &option->v[0]);
		break;
	case TCP_OPTION_SACK_PERMITTED:
		text_printf(text, "sackOK");
		break;
	case TCP_OPTION_SACK: {
		size_t blocks = option->sack_block_count < SACK_MAX_BLOCKS ? option->sack_block_count
									   : SACK_MAX_BLOCKS;
		text_printf(text, "sack");
		for (size_t i = 0; i < blocks; i++) {
			text_printf(text, " ");
			print_value(text, &option->v[2 * i]);
			text_printf(text, ":");
			print_value(text, &option->v[2 * i + 1]);
		}
		break;
	}
	case TCP_OPTION_TIMESTAMP:
		text_printf(text, "TS val ");
		print_value(text, &option->v[0]);
		text_printf(text, " ecr ");
		print_value(text, &option->v[1]);
		break;
	case TCP_OPTION_FAST_OPEN:
	case TCP_OPTION_EXPERIMENTAL:
		if (option->kind == TCP_OPTION_EXPERIMENTAL &&
		    (option->v[0].kind != SPEC_VALUE || option->v[0].value != TCP_FAST_OPEN_EXP_MAGIC)) {
			text_printf(text, "opt-254");
			break;
		}
		/* packetdrill's names: FO, and FOEXP for the experimental option (its lexer.l). */
		text_printf(text, option->kind == TCP_OPTION_FAST_OPEN ? "FO" : "FOEXP");
		if (option->cookie_len > 0)
			text_printf(text, " ");
		for (size_t i = 0; i < option->cookie_len && i < TCP_FAST_OPEN_COOKIE_MAX; i++)
			text_printf(text, "%02x", option->cookie[i]);
		break;
	default:
		text_printf(text, "opt-%u", option->kind);
		break;
	}
}

/* `<...>`, or `{...}` for an option set (segment.h). */
static void print_options(struct text *text, const struct option_spec *options, size_t count, bool as_set)
{
	text_printf(text, as_set ? "{" : "<");
	for (size_t i = 0; i < count; i++) {
		if (i > 0)
			text_printf(text, ",");
		print_option(text, &options[i]);
	}
	text_printf(text, as_set ? "}" : ">");
}

/* A count larger than the struct's array would read past it; print what the array holds. */
static size_t clamp_option_count(size_t count)
{
	return count < SEGMENT_MAX_OPTIONS ? count : SEGMENT_MAX_OPTIONS;
}

static void print_sequence_range(struct text *text, const struct spec_value *seq, uint32_t payload_len)
{
	if (seq->kind == SPEC_VALUE) {
		text_printf(text, "%lld:%lld(%u)", (long long)seq->value,
			    (long long)seq->value + payload_len, payload_len);
		return;
	}
	print_value(text, seq);
	text_printf(text, ":");
	print_value(text, seq);
	text_printf(text, "(%u)", payload_len);
}

static void span_begin(struct segment_field_spans *spans, enum segment_field field, const struct text *text)
{
	if (spans)
		spans->start[field] = spans->end[field] = (int)text->len;
}

static void span_end(struct segment_field_spans *spans, enum segment_field field, const struct text *text)
{
	if (spans)
		spans->end[field] = (int)text->len;
}

int segment_format_spec(const struct segment_spec *spec, char *buf, size_t size,
			struct segment_field_spans *spans)
{
	struct text text;
	text_init(&text, buf, size);
	if (spans)
		memset(spans, 0, sizeof(*spans));

	/* packetdrill's names for the codepoints (its lexer.l). */
	static const char *const ecn_names[] = { [IP_ECN_NOT_ECT] = "noecn", [IP_ECN_ECT1] = "ect1",
						 [IP_ECN_ECT0] = "ect0", [IP_ECN_CE] = "ce" };
	span_begin(spans, SEGMENT_FIELD_IP_ECN, &text);
	if (spec->has_ip_ecn)
		text_printf(&text, "[%s]", ecn_names[spec->ip_ecn & 3]);
	span_end(spans, SEGMENT_FIELD_IP_ECN, &text);
	if (spec->has_ip_ecn)
		text_printf(&text, " ");
	span_begin(spans, SEGMENT_FIELD_FLAGS, &text);
	print_flags(&text, spec->flags);
	span_end(spans, SEGMENT_FIELD_FLAGS, &text);

	text_printf(&text, " ");
	span_begin(spans, SEGMENT_FIELD_SEQ, &text);
	if (spec->seq_in_old_numbers)
		text_printf(&text, "old ");
	print_sequence_range(&text, &spec->seq, spec->payload_len);
	span_end(spans, SEGMENT_FIELD_SEQ, &text);

	/* Fields not printed get an empty span where they would have gone, so a diff still has a column. */
	if (spec->ack.kind != SPEC_UNSET)
		text_printf(&text, " ");
	span_begin(spans, SEGMENT_FIELD_ACK, &text);
	if (spec->ack.kind != SPEC_UNSET) {
		text_printf(&text, "ack ");
		print_value(&text, &spec->ack);
	}
	span_end(spans, SEGMENT_FIELD_ACK, &text);

	if (spec->win.kind != SPEC_UNSET)
		text_printf(&text, " ");
	span_begin(spans, SEGMENT_FIELD_WIN, &text);
	if (spec->win.kind != SPEC_UNSET) {
		text_printf(&text, "win ");
		print_value(&text, &spec->win);
	}
	span_end(spans, SEGMENT_FIELD_WIN, &text);

	if (spec->has_options)
		text_printf(&text, " ");
	span_begin(spans, SEGMENT_FIELD_OPTIONS, &text);
	if (spec->has_options)
		print_options(&text, spec->options, clamp_option_count(spec->option_count), spec->options_as_set);
	span_end(spans, SEGMENT_FIELD_OPTIONS, &text);
	return (int)text.len;
}

int segment_format_options(const struct option_spec *options, size_t count, char *buf, size_t size)
{
	struct text text;
	text_init(&text, buf, size);
	print_options(&text, options, count, false);
	return (int)text.len;
}

/* `192.0.2.1:8080`, `[2001:db8::c000:201]:8080` (RFC 5952 6). */
static void print_endpoint(struct text *text, const struct ip_address *ip, uint16_t port)
{
	char address[IP_ADDRESS_TEXT_MAX];
	ip_address_format(ip, address);
	text_printf(text, ip_address_is_ipv4(ip) ? "%s:%u" : "[%s]:%u", address, port);
}

int segment_format_absolute(const struct segment *segment, char *buf, size_t size)
{
	struct text text;
	text_init(&text, buf, size);
	print_endpoint(&text, &segment->src_ip, segment->src_port);
	text_printf(&text, " > ");
	print_endpoint(&text, &segment->dst_ip, segment->dst_port);
	text_printf(&text, " ");
	print_flags(&text, segment->flags);
	text_printf(&text, " seq %u", segment->seq);
	/* As tcpdump: the ack field means nothing unless ACK is set. */
	if (segment->flags & TCP_FLAG_ACK)
		text_printf(&text, " ack %u", segment->ack);
	text_printf(&text, " win %u", segment->window);
	if (segment->option_count > 0) {
		struct option_spec options[SEGMENT_MAX_OPTIONS];
		size_t count = clamp_option_count(segment->option_count);
		segment_options_to_specs(segment->options, count, options);
		text_printf(&text, " ");
		print_options(&text, options, count, false);
	}
	text_printf(&text, " len %u", segment->payload_len);
	if (!segment->ip_checksum_ok)
		text_printf(&text, " [bad ip cksum]");
	if (!segment->tcp_checksum_ok)
		text_printf(&text, " [bad tcp cksum]");
	return (int)text.len;
}

static struct spec_value literal(int64_t value)
{
	return (struct spec_value){ .kind = SPEC_VALUE, .value = value };
}

void segment_options_to_specs(const struct tcp_option *options, size_t count, struct option_spec *out)
{
	for (size_t i = 0; i < count; i++) {
		const struct tcp_option *option = &options[i];
		struct option_spec *spec = &out[i];
		memset(spec, 0, sizeof(*spec));
		spec->kind = option->kind;
		switch (option->kind) {
		case TCP_OPTION_MSS:
			spec->v[0] = literal(option->mss);
			break;
		case TCP_OPTION_WSCALE:
			spec->v[0] = literal(option->wscale);
			break;
		case TCP_OPTION_TIMESTAMP:
			spec->v[0] = literal(option->ts_val);
			spec->v[1] = literal(option->ts_ecr);
			break;
		case TCP_OPTION_SACK:
			spec->sack_block_count = option->sack_block_count < SACK_MAX_BLOCKS
							 ? option->sack_block_count
							 : SACK_MAX_BLOCKS;
			for (size_t b = 0; b < spec->sack_block_count; b++) {
				spec->v[2 * b] = literal(option->sack_left[b]);
				spec->v[2 * b + 1] = literal(option->sack_right[b]);
			}
			break;
		case TCP_OPTION_EXPERIMENTAL:
			spec->v[0] = literal(option->exp_magic);
			break;
		default:
			break;
		}
		spec->cookie_len = option->cookie_len;
		memcpy(spec->cookie, option->cookie, option->cookie_len);
	}
}
