/* case_parser.c - see case_parser.h.
 * One line at a time: check its bytes, keep it for diagnostics, then parse it as a header statement or
 * a step. The text is hostile: every read stays inside the current line's length, and the first error
 * ends the parse with one `path:line:col: message` diagnostic. */
#include "case_parser.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ip_address.h"
#include "symbols.h"

#define LINE_MAX_BYTES 4096
/* A real case has a few hundred steps; the cap keeps hostile input from costing gigabytes, since
 * every step carries a whole segment_spec (about 2.4 KB). */
#define CASE_MAX_STEPS 10000
#define CASE_FILE_MAX_BYTES (16 * 1024 * 1024)
#define NS_PER_S 1000000000LL
#define TIME_MAX_NS (3600 * NS_PER_S)
#define APP_DEFAULT_TIMEOUT_NS (2 * NS_PER_S)
#define APP_DEFAULT_BACKLOG 128
#define DEFAULT_TARGET_IP 0xc0000201u /* 192.0.2.1 */
#define PEER_NAME_MAX 16
#define VARIANT_NAME_MAX (CASE_NAME_MAX - 1)
#define COUNTER_NAME_MAX 63
/* A token quoted in a message is cut here, so one 4 KB token cannot drown the diagnostic. */
#define QUOTE_MAX 40

/* A span of the current line; never NUL-terminated. */
struct token {
	const char *s;
	size_t len;
	int col; /* 1-based */
};

#define TOKEN_FMT "'%.*s%s'"
#define TOKEN_ARG(t) \
	(int)((t).len > QUOTE_MAX ? QUOTE_MAX : (t).len), (t).s, ((t).len > QUOTE_MAX ? "..." : "")

struct parser {
	const char *path;
	struct case_file *c;
	const char *line;  /* the current line as read */
	size_t line_len;   /* without '\n' and a trailing '\r' */
	size_t code_len;   /* up to the comment: the only part tokens come from */
	size_t pos;        /* cursor, 0..code_len */
	int line_no;
	char *error;
	bool in_steps;     /* a step was seen: the header is closed */
	bool has_target;
	bool has_family;
	struct source_location peer_ip_where[CASE_MAX_PEERS];
	bool requires_option;
	struct source_location require_option_where; /* the first `require option`: it needs a peer */
	int line_capacity;
	int step_capacity;
};

/* ---- diagnostics ---- */

/* Builds `path:line:col: message`, the line, and a caret under col. Bytes that are not printable are
 * shown as '?' so the caret stays aligned and the terminal gets no control characters. */
static int vfail_on(struct parser *p, int line_no, const char *text, size_t len, int col,
		    const char *fmt, va_list ap)
{
	if (p->error)
		return -1;
	char *message = NULL;
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;

	size_t shown = len > LINE_MAX_BYTES ? LINE_MAX_BYTES : len;
	size_t pad = col > 1 ? (size_t)col - 1 : 0;
	char *display = malloc(shown + 1);
	char *caret = malloc(pad + 1);
	if (message && display && caret) {
		for (size_t i = 0; i < shown; i++) {
			unsigned char b = (unsigned char)text[i];
			display[i] = (b == '\t' || (b >= 0x20 && b < 0x7f)) ? (char)b : '?';
		}
		display[shown] = '\0';
		/* Tabs before the column are copied so the caret lands where the terminal puts the byte. */
		for (size_t i = 0; i < pad; i++)
			caret[i] = i < shown && text[i] == '\t' ? '\t' : ' ';
		caret[pad] = '\0';
		if (asprintf(&p->error, "%s:%d:%d: %s\n  %s\n  %s^", p->path, line_no, col, message,
			     display, caret) < 0)
			p->error = NULL;
	}
	free(message);
	free(display);
	free(caret);
	return -1;
}

/* An error in the line being parsed. Always returns -1. */
__attribute__((format(printf, 3, 4))) static int fail(struct parser *p, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_on(p, p->line_no, p->line, p->line_len, col, fmt, ap);
	va_end(ap);
	return -1;
}

/* An error found later about an earlier line, which is by then kept in c->lines. Always returns -1. */
__attribute__((format(printf, 3, 4))) static int fail_at(struct parser *p, struct source_location where,
							 const char *fmt, ...)
{
	const char *text = where.line >= 1 && where.line <= p->c->line_count ? p->c->lines[where.line - 1] : "";
	va_list ap;
	va_start(ap, fmt);
	vfail_on(p, where.line, text, strlen(text), where.col, fmt, ap);
	va_end(ap);
	return -1;
}

/* ---- tokenizer ---- */

static bool is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static bool is_lower(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

static void skip_blanks(struct parser *p)
{
	while (p->pos < p->code_len && is_blank(p->line[p->pos]))
		p->pos++;
}

static int cursor_col(const struct parser *p)
{
	return (int)p->pos + 1;
}

/* The next character after blanks, or 0 at the end of the statement. */
static char peek_char(struct parser *p)
{
	skip_blanks(p);
	return p->pos < p->code_len ? p->line[p->pos] : '\0';
}

/* Reads a word that ends at a blank, the end of the statement, or any character in stops (the stop is
 * not consumed). Returns false when the word is empty; t->col then says where one was expected. */
static bool next_word(struct parser *p, const char *stops, struct token *t)
{
	skip_blanks(p);
	size_t start = p->pos;
	while (p->pos < p->code_len && !is_blank(p->line[p->pos]) && !strchr(stops, p->line[p->pos]))
		p->pos++;
	t->s = p->line + start;
	t->len = p->pos - start;
	t->col = (int)start + 1;
	return t->len > 0;
}

static bool next_token(struct parser *p, struct token *t)
{
	return next_word(p, "", t);
}

static bool peek_token(struct parser *p, struct token *t)
{
	size_t saved = p->pos;
	bool found = next_token(p, t);
	p->pos = saved;
	return found;
}

static int require_token(struct parser *p, struct token *t, const char *what)
{
	if (!next_token(p, t))
		return fail(p, t->col, "expected %s", what);
	return 0;
}

static int expect_end(struct parser *p)
{
	struct token t;
	if (next_token(p, &t))
		return fail(p, t.col, "unexpected " TOKEN_FMT, TOKEN_ARG(t));
	return 0;
}

static bool token_is(struct token t, const char *word)
{
	return t.len == strlen(word) && memcmp(t.s, word, t.len) == 0;
}

static struct token sub_token(struct token t, size_t offset, size_t len)
{
	return (struct token){ t.s + offset, len, t.col + (int)offset };
}

/* Index of the first ch in t, or t.len. */
static size_t token_find(struct token t, char ch)
{
	const char *hit = memchr(t.s, ch, t.len);
	return hit ? (size_t)(hit - t.s) : t.len;
}

/* Copies t into dst as a C string; the caller has checked that it fits. */
static void token_copy(char *dst, struct token t)
{
	memcpy(dst, t.s, t.len);
	dst[t.len] = '\0';
}

/* The number symbols.h gives the token's name (errno, TCP state), or -1 for no such name. */
static int symbol_of(struct token t, int (*from_name)(const char *name))
{
	char name[CASE_NAME_MAX];
	if (t.len >= sizeof name)
		return -1;
	token_copy(name, t);
	return from_name(name);
}

/* ---- numbers, names and addresses ---- */

static int parse_uint(struct parser *p, struct token t, uint64_t min, uint64_t max, uint64_t *out)
{
	if (t.len == 0)
		return fail(p, t.col, "expected a number");
	for (size_t i = 0; i < t.len; i++)
		if (!is_digit(t.s[i]))
			return fail(p, t.col, "expected a number, got " TOKEN_FMT, TOKEN_ARG(t));
	uint64_t value = 0;
	for (size_t i = 0; i < t.len; i++) {
		unsigned digit = (unsigned)(t.s[i] - '0');
		if (value > max / 10 || (value == max / 10 && digit > max % 10))
			return fail(p, t.col, "number out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
		value = value * 10 + digit;
	}
	if (value < min)
		return fail(p, t.col, "number out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
	*out = value;
	return 0;
}

/* `+N` or `-N`, the sign required: deltas read as deltas. */
static int parse_delta(struct parser *p, struct token t, uint64_t max_magnitude, int64_t *out)
{
	if (t.len == 0 || (t.s[0] != '+' && t.s[0] != '-'))
		return fail(p, t.col, "expected a signed number like +1 or -1, got " TOKEN_FMT, TOKEN_ARG(t));
	uint64_t magnitude;
	if (parse_uint(p, sub_token(t, 1, t.len - 1), 0, max_magnitude, &magnitude) < 0)
		return -1;
	*out = t.s[0] == '-' ? -(int64_t)magnitude : (int64_t)magnitude;
	return 0;
}

/* A decimal integer with an optional '-', within int range. */
static int parse_int(struct parser *p, struct token t, int *out)
{
	bool negative = t.len > 0 && t.s[0] == '-';
	uint64_t magnitude;
	if (parse_uint(p, negative ? sub_token(t, 1, t.len - 1) : t, 0,
		       negative ? (uint64_t)INT_MAX + 1 : (uint64_t)INT_MAX, &magnitude) < 0)
		return -1;
	*out = negative ? (int)(-(int64_t)magnitude) : (int)magnitude;
	return 0;
}

/* `[a-z][a-z0-9_]{0,max-1}`: peer names and socket handles. */
static bool is_identifier(struct token t, size_t max)
{
	if (t.len == 0 || t.len > max || !is_lower(t.s[0]))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!is_lower(t.s[i]) && !is_digit(t.s[i]) && t.s[i] != '_')
			return false;
	return true;
}

static int parse_port(struct parser *p, struct token t, uint16_t *out)
{
	uint64_t port;
	if (parse_uint(p, t, 1, UINT16_MAX, &port) < 0)
		return -1;
	*out = (uint16_t)port;
	return 0;
}

/* Strict dotted quad: four 0..255 parts without leading zeros, which inet_aton would read as octal. */
static int parse_ipv4(struct parser *p, struct token t, uint32_t *out)
{
	uint32_t ip = 0;
	size_t i = 0;
	for (int part = 0; part < 4; part++) {
		if (part > 0) {
			if (i >= t.len || t.s[i] != '.')
				goto invalid;
			i++;
		}
		size_t start = i;
		unsigned value = 0;
		while (i < t.len && is_digit(t.s[i]) && i - start < 3)
			value = value * 10 + (unsigned)(t.s[i++] - '0');
		if (i == start || value > 255 || (t.s[start] == '0' && i - start > 1))
			goto invalid;
		ip = ip << 8 | value;
	}
	if (i != t.len)
		goto invalid;
	*out = ip;
	return 0;
invalid:
	return fail(p, t.col, "invalid IPv4 address " TOKEN_FMT, TOKEN_ARG(t));
}

/* `IP:PORT`, or `IP` alone when port_optional (then *port is left alone). */
static int parse_endpoint(struct parser *p, struct token t, bool port_optional, uint32_t *ip, uint16_t *port)
{
	size_t colon = token_find(t, ':');
	if (colon == t.len && !port_optional)
		return fail(p, t.col, "expected IP:PORT, got " TOKEN_FMT, TOKEN_ARG(t));
	if (parse_ipv4(p, sub_token(t, 0, colon), ip) < 0)
		return -1;
	if (colon == t.len)
		return 0;
	return parse_port(p, sub_token(t, colon + 1, t.len - colon - 1), port);
}

static void format_ipv4(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* ---- time ---- */

/* One number of a time: `1`, `1.5`, `.2`, then an optional unit `s`, `ms` or `us`; 0..3600 s. */
static int parse_seconds(struct parser *p, struct token t, int64_t *ns)
{
	size_t i = 0, whole_digits = 0, frac_digits = 0;
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	bool too_big = false;
	for (; i < t.len && is_digit(t.s[i]); i++, whole_digits++) {
		if (whole > (uint64_t)TIME_MAX_NS)
			too_big = true;
		else
			whole = whole * 10 + (uint64_t)(t.s[i] - '0');
	}
	if (i < t.len && t.s[i] == '.') {
		for (i++; i < t.len && is_digit(t.s[i]); i++, frac_digits++) {
			/* Digits past a nanosecond of a second cannot change the result. */
			if (frac_scale < (uint64_t)NS_PER_S) {
				frac = frac * 10 + (uint64_t)(t.s[i] - '0');
				frac_scale *= 10;
			}
		}
		if (frac_digits == 0)
			return fail(p, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));
	}
	if (whole_digits + frac_digits == 0)
		return fail(p, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));

	struct token unit = sub_token(t, i, t.len - i);
	uint64_t ns_per_unit;
	if (unit.len == 0 || token_is(unit, "s"))
		ns_per_unit = NS_PER_S;
	else if (token_is(unit, "ms"))
		ns_per_unit = 1000000;
	else if (token_is(unit, "us"))
		ns_per_unit = 1000;
	else
		return fail(p, unit.col, "unknown time unit " TOKEN_FMT " (use s, ms or us)", TOKEN_ARG(unit));

	if (too_big || whole > (uint64_t)TIME_MAX_NS / ns_per_unit)
		return fail(p, t.col, "time out of range (max 3600 s)");
	uint64_t total = whole * ns_per_unit + frac * ns_per_unit / frac_scale;
	if (total > (uint64_t)TIME_MAX_NS)
		return fail(p, t.col, "time out of range (max 3600 s)");
	*ns = (int64_t)total;
	return 0;
}

static int parse_time_point(struct parser *p, struct token t, bool *relative, int64_t *ns)
{
	*relative = t.len > 0 && t.s[0] == '+';
	struct token number = *relative ? sub_token(t, 1, t.len - 1) : t;
	if (number.len == 0)
		return fail(p, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));
	if (number.len > 0 && number.s[0] == '-')
		return fail(p, t.col, "negative time " TOKEN_FMT, TOKEN_ARG(t));
	return parse_seconds(p, number, ns);
}

/* `0`, `+0.2`, `1.0~1.2`, `+0.9~+1.1`. */
static int parse_time(struct parser *p, struct token t, struct time_spec *when)
{
	size_t tilde = token_find(t, '~');
	if (parse_time_point(p, sub_token(t, 0, tilde), &when->relative, &when->earliest_ns) < 0)
		return -1;
	when->latest_ns = when->earliest_ns;
	if (tilde == t.len)
		return 0;
	struct token latest = sub_token(t, tilde + 1, t.len - tilde - 1);
	if (latest.len == 0)
		return fail(p, latest.col, "expected the end of the time window after '~'");
	bool latest_relative;
	if (parse_time_point(p, latest, &latest_relative, &when->latest_ns) < 0)
		return -1;
	if (latest_relative != when->relative)
		return fail(p, latest.col, "both ends of a time window must be absolute or both relative");
	if (when->latest_ns < when->earliest_ns)
		return fail(p, t.col, "time window " TOKEN_FMT " ends before it starts", TOKEN_ARG(t));
	when->has_window = true;
	return 0;
}

/* `within T`: a plain duration, no '+' and no window. */
static int parse_duration(struct parser *p, struct token t, int64_t *ns)
{
	if (t.len > 0 && (t.s[0] == '+' || t.s[0] == '-'))
		return fail(p, t.col, "expected a duration like 100ms, got " TOKEN_FMT, TOKEN_ARG(t));
	return parse_seconds(p, t, ns);
}

/* ---- segments: the packet-line part a packetdrill import reuses ---- */

/* packetdrill's flag letters; '.' is ACK. */
static const char tcp_flag_letters[] = "FSRP.EWU";
static const uint8_t tcp_flag_bits[] = {
	TCP_FLAG_FIN, TCP_FLAG_SYN, TCP_FLAG_RST, TCP_FLAG_PSH,
	TCP_FLAG_ACK, TCP_FLAG_ECE, TCP_FLAG_CWR, TCP_FLAG_URG,
};

static int parse_flags(struct parser *p, struct token t, uint8_t *flags)
{
	*flags = 0;
	for (size_t i = 0; i < t.len; i++) {
		const char *letter = strchr(tcp_flag_letters, t.s[i]);
		if (!letter)
			return fail(p, t.col + (int)i, "unknown TCP flag '%c'", t.s[i]);
		uint8_t bit = tcp_flag_bits[letter - tcp_flag_letters];
		if (*flags & bit)
			return fail(p, t.col + (int)i, "duplicate TCP flag '%c'", t.s[i]);
		*flags |= bit;
	}
	return 0;
}

/* `START:END(LEN)`; END is redundant with START and LEN, so it is a check on the writer. */
static int parse_seq_range(struct parser *p, struct token t, struct segment_spec *spec)
{
	size_t colon = token_find(t, ':');
	size_t paren = token_find(t, '(');
	if (colon == t.len || paren == t.len || paren < colon || t.s[t.len - 1] != ')')
		return fail(p, t.col, "expected a sequence range START:END(LEN), got " TOKEN_FMT, TOKEN_ARG(t));
	uint64_t start, end, len;
	if (parse_uint(p, sub_token(t, 0, colon), 0, UINT32_MAX, &start) < 0 ||
	    parse_uint(p, sub_token(t, colon + 1, paren - colon - 1), 0, UINT32_MAX, &end) < 0 ||
	    parse_uint(p, sub_token(t, paren + 1, t.len - paren - 2), 0, SEGMENT_MAX_PAYLOAD, &len) < 0)
		return -1;
	if ((uint32_t)(end - start) != len)
		return fail(p, t.col, "sequence range " TOKEN_FMT " is inconsistent", TOKEN_ARG(t));
	spec->seq = (struct spec_value){ SPEC_VALUE, (int64_t)start };
	spec->payload_len = (uint32_t)len;
	return 0;
}

/* Which non-literal forms a number in a segment may take besides `*`. */
enum spec_forms { SPEC_FORMS_VALUE = 0, SPEC_FORMS_AUTO = 1, SPEC_FORMS_RELATIVE = 2 };

static int parse_spec_value(struct parser *p, struct token t, bool injected, uint64_t max, int forms,
			    struct spec_value *out)
{
	if (token_is(t, "*")) {
		if (injected)
			return fail(p, t.col, "'*' only allowed in expected segments");
		*out = (struct spec_value){ SPEC_ANY, 0 };
		return 0;
	}
	if ((forms & SPEC_FORMS_AUTO) && token_is(t, "auto")) {
		*out = (struct spec_value){ SPEC_AUTO, 0 };
		return 0;
	}
	if (t.len > 0 && (t.s[0] == '+' || t.s[0] == '-')) {
		if (!(forms & SPEC_FORMS_RELATIVE))
			return fail(p, t.col, "relative value " TOKEN_FMT " only allowed for TS val", TOKEN_ARG(t));
		out->kind = SPEC_RELATIVE;
		return parse_delta(p, t, max, &out->value);
	}
	uint64_t value;
	if (parse_uint(p, t, 0, max, &value) < 0)
		return -1;
	*out = (struct spec_value){ SPEC_VALUE, (int64_t)value };
	return 0;
}

/* The next word inside `<...>`; options end at ',' and '>'. */
static int option_word(struct parser *p, const char *what, struct token *t)
{
	if (!next_word(p, ",>", t))
		return fail(p, t->col, "expected %s", what);
	return 0;
}

static int parse_option_value(struct parser *p, const char *what, bool injected, uint64_t max, int forms,
			      struct spec_value *out)
{
	struct token t;
	if (option_word(p, what, &t) < 0)
		return -1;
	return parse_spec_value(p, t, injected, max, forms, out);
}

/* `sack L:R [L:R ...]`: 1..4 blocks. */
static int parse_sack_blocks(struct parser *p, bool injected, struct option_spec *option)
{
	for (;;) {
		char next = peek_char(p);
		if (next == ',' || next == '>' || next == '\0')
			break;
		struct token block;
		next_word(p, ",>", &block);
		if (option->sack_block_count == SACK_MAX_BLOCKS)
			return fail(p, block.col, "too many SACK blocks (max %d)", SACK_MAX_BLOCKS);
		size_t colon = token_find(block, ':');
		if (colon == block.len)
			return fail(p, block.col, "expected a SACK block L:R, got " TOKEN_FMT, TOKEN_ARG(block));
		struct spec_value *edges = &option->v[2 * option->sack_block_count];
		if (parse_spec_value(p, sub_token(block, 0, colon), injected, UINT32_MAX, SPEC_FORMS_VALUE,
				     &edges[0]) < 0 ||
		    parse_spec_value(p, sub_token(block, colon + 1, block.len - colon - 1), injected, UINT32_MAX,
				     SPEC_FORMS_VALUE, &edges[1]) < 0)
			return -1;
		option->sack_block_count++;
	}
	if (option->sack_block_count == 0)
		return fail(p, cursor_col(p), "expected a SACK block L:R");
	return 0;
}

/* `TS val V ecr E`. */
static int parse_timestamp_option(struct parser *p, bool injected, struct option_spec *option)
{
	struct token word;
	if (option_word(p, "'val'", &word) < 0)
		return -1;
	if (!token_is(word, "val"))
		return fail(p, word.col, "expected 'val', got " TOKEN_FMT, TOKEN_ARG(word));
	if (parse_option_value(p, "a TS val", injected, UINT32_MAX, SPEC_FORMS_AUTO | SPEC_FORMS_RELATIVE,
			       &option->v[0]) < 0)
		return -1;
	if (option_word(p, "'ecr'", &word) < 0)
		return -1;
	if (!token_is(word, "ecr"))
		return fail(p, word.col, "expected 'ecr', got " TOKEN_FMT, TOKEN_ARG(word));
	return parse_option_value(p, "a TS ecr", injected, UINT32_MAX, SPEC_FORMS_AUTO, &option->v[1]);
}

static int parse_option(struct parser *p, struct token name, bool injected, struct option_spec *option)
{
	if (token_is(name, "nop")) {
		option->kind = TCP_OPTION_NOP;
	} else if (token_is(name, "eol")) {
		option->kind = TCP_OPTION_EOL;
	} else if (token_is(name, "sackOK")) {
		option->kind = TCP_OPTION_SACK_PERMITTED;
	} else if (token_is(name, "mss")) {
		option->kind = TCP_OPTION_MSS;
		return parse_option_value(p, "an mss value", injected, UINT16_MAX, SPEC_FORMS_VALUE, &option->v[0]);
	} else if (token_is(name, "wscale")) {
		option->kind = TCP_OPTION_WSCALE;
		/* RFC 7323 2.3: a shift count above 14 is not meaningful. */
		return parse_option_value(p, "a wscale value", injected, 14, SPEC_FORMS_VALUE, &option->v[0]);
	} else if (token_is(name, "sack")) {
		option->kind = TCP_OPTION_SACK;
		return parse_sack_blocks(p, injected, option);
	} else if (token_is(name, "TS")) {
		option->kind = TCP_OPTION_TIMESTAMP;
		return parse_timestamp_option(p, injected, option);
	} else {
		return fail(p, name.col, "unknown TCP option " TOKEN_FMT, TOKEN_ARG(name));
	}
	return 0;
}

/* `<opt, opt, ...>` with the cursor on '<'; `<>` means "no options". */
static int parse_options(struct parser *p, bool injected, struct segment_spec *spec)
{
	p->pos++;
	spec->has_options = true;
	if (peek_char(p) == '>') {
		p->pos++;
		return 0;
	}
	for (;;) {
		struct token name;
		if (option_word(p, "a TCP option", &name) < 0)
			return -1;
		if (spec->option_count == SEGMENT_MAX_OPTIONS)
			return fail(p, name.col, "too many TCP options (max %d)", SEGMENT_MAX_OPTIONS);
		if (parse_option(p, name, injected, &spec->options[spec->option_count++]) < 0)
			return -1;
		char next = peek_char(p);
		if (next == ',' || next == '>') {
			p->pos++;
			if (next == '>')
				return 0;
			continue;
		}
		if (next == '\0')
			return fail(p, cursor_col(p), "expected ',' or '>' after a TCP option");
		struct token extra;
		next_word(p, ",>", &extra);
		return fail(p, extra.col, "expected ',' or '>' after a TCP option, got " TOKEN_FMT, TOKEN_ARG(extra));
	}
}

/* `FLAGS START:END(LEN) [ack N] [win N] [<OPTIONS>]` to the end of the statement. */
static int parse_segment(struct parser *p, bool injected, struct segment_spec *spec)
{
	struct token t;
	if (require_token(p, &t, "TCP flags") < 0 || parse_flags(p, t, &spec->flags) < 0)
		return -1;
	if (require_token(p, &t, "a sequence range START:END(LEN)") < 0 || parse_seq_range(p, t, spec) < 0)
		return -1;
	for (;;) {
		char next = peek_char(p);
		if (next == '\0')
			return 0;
		if (next == '<') {
			if (parse_options(p, injected, spec) < 0)
				return -1;
			return expect_end(p);
		}
		next_token(p, &t);
		struct spec_value *field;
		uint64_t max;
		if (token_is(t, "ack")) {
			field = &spec->ack;
			max = UINT32_MAX;
		} else if (token_is(t, "win")) {
			field = &spec->win;
			max = UINT16_MAX;
		} else {
			return fail(p, t.col, "unexpected " TOKEN_FMT " in a segment (expected ack, win or <options>)",
				    TOKEN_ARG(t));
		}
		if (field->kind != SPEC_UNSET)
			return fail(p, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		struct token value;
		if (require_token(p, &value, "a number") < 0)
			return -1;
		/* DESIGN 3 promises `auto` for ack one day; until then say so rather than "expected a number". */
		if (field == &spec->ack && token_is(value, "auto"))
			return fail(p, value.col, "'ack auto' is not supported");
		if (parse_spec_value(p, value, injected, max, SPEC_FORMS_VALUE, field) < 0)
			return -1;
	}
}

/* After `<` or `>`: an injected segment, an expected one, or `none [within T]`. */
static int parse_packet_event(struct parser *p, struct token direction, struct step *s)
{
	if (token_is(direction, "<")) {
		s->kind = STEP_INJECT;
		return parse_segment(p, true, &s->u.segment);
	}
	struct token t;
	if (peek_token(p, &t) && token_is(t, "none")) {
		next_token(p, &t);
		s->kind = STEP_EXPECT_NONE;
		s->u.none_window_ns = 0;
		if (next_token(p, &t)) {
			if (!token_is(t, "within"))
				return fail(p, t.col, "expected 'within' after 'none', got " TOKEN_FMT, TOKEN_ARG(t));
			if (require_token(p, &t, "a duration") < 0 || parse_duration(p, t, &s->u.none_window_ns) < 0)
				return -1;
		}
		return expect_end(p);
	}
	s->kind = STEP_EXPECT_SEGMENT;
	return parse_segment(p, false, &s->u.segment);
}

/* ---- app calls ---- */

static int parse_app_bind(struct parser *p, struct app_call *call)
{
	struct token t;
	if (require_token(p, &t, "IP:PORT or PORT") < 0)
		return -1;
	if (token_find(t, ':') < t.len)
		return parse_endpoint(p, t, false, &call->ip, &call->port);
	return parse_port(p, t, &call->port);
}

static int parse_app_listen(struct parser *p, struct app_call *call)
{
	struct token t;
	if (require_token(p, &t, "a port") < 0 || parse_port(p, t, &call->port) < 0)
		return -1;
	call->backlog = APP_DEFAULT_BACKLOG;
	if (!peek_token(p, &t) || !token_is(t, "backlog"))
		return 0;
	next_token(p, &t);
	uint64_t backlog;
	if (require_token(p, &t, "a backlog") < 0 || parse_uint(p, t, 0, UINT16_MAX, &backlog) < 0)
		return -1;
	call->backlog = (int)backlog;
	return 0;
}

/* `[from L]`: the listener a call takes connections from, "lsn" when not given. */
static int parse_listener(struct parser *p, char listener[CASE_NAME_MAX])
{
	struct token t;
	strcpy(listener, "lsn");
	if (!peek_token(p, &t) || !token_is(t, "from"))
		return 0;
	next_token(p, &t);
	if (require_token(p, &t, "a listener handle") < 0)
		return -1;
	if (!is_identifier(t, PEER_NAME_MAX))
		return fail(p, t.col, "invalid handle " TOKEN_FMT " (expected [a-z][a-z0-9_]{0,15})", TOKEN_ARG(t));
	token_copy(listener, t);
	return 0;
}

static int parse_app_accept(struct parser *p, struct app_call *call)
{
	return parse_listener(p, call->from_handle);
}

static int parse_app_connect(struct parser *p, struct app_call *call)
{
	struct token t;
	if (require_token(p, &t, "IP:PORT") < 0)
		return -1;
	return parse_endpoint(p, t, false, &call->ip, &call->port);
}

static int parse_app_length(struct parser *p, struct app_call *call)
{
	struct token t;
	uint64_t length;
	if (require_token(p, &t, "a byte count") < 0 || parse_uint(p, t, 1, SEGMENT_MAX_PAYLOAD, &length) < 0)
		return -1;
	call->length = (uint32_t)length;
	return 0;
}

static int parse_app_shutdown(struct parser *p, struct app_call *call)
{
	struct token t;
	if (require_token(p, &t, "rd, wr or rdwr") < 0)
		return -1;
	if (token_is(t, "rd"))
		call->shutdown_how = SHUT_RD;
	else if (token_is(t, "wr"))
		call->shutdown_how = SHUT_WR;
	else if (token_is(t, "rdwr"))
		call->shutdown_how = SHUT_RDWR;
	else
		return fail(p, t.col, "expected rd, wr or rdwr, got " TOKEN_FMT, TOKEN_ARG(t));
	return 0;
}

static int parse_sockopt_name(struct parser *p, struct app_call *call, const struct sockopt_symbol **symbol)
{
	struct token t;
	if (require_token(p, &t, "a socket option name") < 0)
		return -1;
	*symbol = NULL;
	if (t.len < sizeof call->option) {
		token_copy(call->option, t);
		*symbol = sockopt_by_name(call->option);
	}
	if (!*symbol)
		return fail(p, t.col, "unknown socket option " TOKEN_FMT, TOKEN_ARG(t));
	return 0;
}

static int parse_app_setsockopt(struct parser *p, struct app_call *call)
{
	const struct sockopt_symbol *symbol;
	if (parse_sockopt_name(p, call, &symbol) < 0)
		return -1;
	const char *plural = symbol->value_count == 1 ? "" : "s";
	struct token t;
	for (call->value_count = 0; call->value_count < symbol->value_count; call->value_count++) {
		if (!next_token(p, &t) || token_is(t, "="))
			return fail(p, t.col, "%s takes %d value%s", symbol->name, symbol->value_count, plural);
		if (parse_int(p, t, &call->values[call->value_count]) < 0)
			return -1;
	}
	if (peek_token(p, &t) && !token_is(t, "="))
		return fail(p, t.col, "%s takes %d value%s", symbol->name, symbol->value_count, plural);
	return 0;
}

static int parse_app_getsockopt(struct parser *p, struct app_call *call)
{
	const struct sockopt_symbol *symbol;
	return parse_sockopt_name(p, call, &symbol);
}

static int parse_app_nothing(struct parser *p, struct app_call *call)
{
	(void)p;
	(void)call;
	return 0;
}

struct app_syntax {
	const char *name;
	enum app_op op;
	const char *default_handle;
	bool blocking;                   /* takes `within T` */
	const char *const keywords[4];   /* words of this call that are never a handle */
	int (*parse_arguments)(struct parser *p, struct app_call *call);
};

static const struct app_syntax app_syntaxes[] = {
	{ "socket", APP_SOCKET, "conn", false, { NULL }, parse_app_nothing },
	{ "bind", APP_BIND, "conn", false, { NULL }, parse_app_bind },
	{ "listen", APP_LISTEN, "lsn", false, { "backlog", NULL }, parse_app_listen },
	{ "accept", APP_ACCEPT, "conn", true, { "from", NULL }, parse_app_accept },
	{ "connect", APP_CONNECT, "conn", false, { NULL }, parse_app_connect },
	{ "connected", APP_CONNECTED, "conn", true, { NULL }, parse_app_nothing },
	{ "send", APP_SEND, "conn", false, { NULL }, parse_app_length },
	{ "recv", APP_RECV, "conn", true, { NULL }, parse_app_length },
	{ "shutdown", APP_SHUTDOWN, "conn", false, { "rd", "wr", "rdwr", NULL }, parse_app_shutdown },
	{ "close", APP_CLOSE, "conn", false, { NULL }, parse_app_nothing },
	{ "setsockopt", APP_SETSOCKOPT, "conn", false, { NULL }, parse_app_setsockopt },
	{ "getsockopt", APP_GETSOCKOPT, "conn", false, { NULL }, parse_app_getsockopt },
};

static bool is_handle(const struct app_syntax *syntax, struct token t)
{
	if (!is_identifier(t, PEER_NAME_MAX) || token_is(t, "within"))
		return false;
	for (size_t i = 0; syntax->keywords[i]; i++)
		if (token_is(t, syntax->keywords[i]))
			return false;
	return true;
}

/* `= RESULT`: an integer, an errno name or `*`. */
static int parse_app_result(struct parser *p, struct app_call *call)
{
	struct token t;
	if (require_token(p, &t, "a result after '='") < 0)
		return -1;
	if (token_is(t, "*")) {
		call->expect = APP_EXPECT_ANY;
		return 0;
	}
	if (is_digit(t.s[0]) || t.s[0] == '-') {
		int value;
		if (parse_int(p, t, &value) < 0)
			return -1;
		call->expect = APP_EXPECT_VALUE;
		call->expect_value = value;
		return 0;
	}
	int err = symbol_of(t, errno_from_name);
	if (err < 0)
		return fail(p, t.col, "unknown errno name " TOKEN_FMT, TOKEN_ARG(t));
	call->expect = APP_EXPECT_ERRNO;
	call->expect_errno = err;
	return 0;
}

/* `app CALL [H] ARGS [within T] [= RESULT]`. */
static int parse_app(struct parser *p, struct step *s)
{
	struct app_call *call = &s->u.app;
	struct token t;
	s->kind = STEP_APP;
	if (require_token(p, &t, "an app call") < 0)
		return -1;
	const struct app_syntax *syntax = NULL;
	for (size_t i = 0; i < sizeof app_syntaxes / sizeof app_syntaxes[0]; i++)
		if (token_is(t, app_syntaxes[i].name))
			syntax = &app_syntaxes[i];
	if (!syntax)
		return fail(p, t.col, "unknown app call " TOKEN_FMT, TOKEN_ARG(t));

	call->op = syntax->op;
	strcpy(call->handle, syntax->default_handle);
	call->timeout_ns = syntax->blocking ? APP_DEFAULT_TIMEOUT_NS : 0;
	call->expect = APP_EXPECT_SUCCESS;
	if (peek_token(p, &t) && is_handle(syntax, t)) {
		next_token(p, &t);
		token_copy(call->handle, t);
	}
	if (syntax->parse_arguments(p, call) < 0)
		return -1;

	if (peek_token(p, &t) && token_is(t, "within")) {
		next_token(p, &t);
		if (!syntax->blocking)
			return fail(p, t.col, "'within' only applies to accept, connected and recv");
		if (require_token(p, &t, "a duration") < 0 || parse_duration(p, t, &call->timeout_ns) < 0)
			return -1;
	}
	if (peek_token(p, &t) && token_is(t, "=")) {
		next_token(p, &t);
		if (parse_app_result(p, call) < 0)
			return -1;
	}
	return expect_end(p);
}

/* ---- the other events ---- */

/* `expect state STATE` or `expect counter NAME ±N`; has_peer when a peer name came first. */
static int peer_index(const struct case_file *c, struct token name);

/* `expect clock A B same|offset`. */
static int parse_expect_clock(struct parser *p, struct step *s)
{
	struct token a, b, how;
	int peers[2];
	struct token names[2];
	if (require_token(p, &a, "a peer name") < 0 || require_token(p, &b, "a second peer name") < 0)
		return -1;
	names[0] = a;
	names[1] = b;
	for (int i = 0; i < 2; i++) {
		peers[i] = peer_index(p->c, names[i]);
		if (peers[i] < 0)
			return fail(p, names[i].col, "unknown peer " TOKEN_FMT, TOKEN_ARG(names[i]));
	}
	if (peers[0] == peers[1])
		return fail(p, b.col, "'expect clock' compares two different peers");
	if (require_token(p, &how, "'same' or 'offset'") < 0)
		return -1;
	if (!token_is(how, "same") && !token_is(how, "offset"))
		return fail(p, how.col, "expected 'same' or 'offset', got " TOKEN_FMT, TOKEN_ARG(how));
	s->kind = STEP_EXPECT_CLOCK;
	s->peer = peers[0];
	s->u.clock.other_peer = peers[1];
	s->u.clock.same = token_is(how, "same");
	return expect_end(p);
}

/* `timer A~B` after `expect state NAME`: both ends durations, A <= B. */
static int parse_timer_window(struct parser *p, struct step *s)
{
	struct token t;
	if (require_token(p, &t, "a timer window like 59~60") < 0)
		return -1;
	size_t tilde = token_find(t, '~');
	if (tilde == t.len || tilde == 0 || tilde == t.len - 1)
		return fail(p, t.col, "expected a timer window like 59~60, got " TOKEN_FMT, TOKEN_ARG(t));
	if (parse_duration(p, sub_token(t, 0, tilde), &s->u.expected.timer_min_ns) < 0 ||
	    parse_duration(p, sub_token(t, tilde + 1, t.len - tilde - 1), &s->u.expected.timer_max_ns) < 0)
		return -1;
	if (s->u.expected.timer_max_ns < s->u.expected.timer_min_ns)
		return fail(p, t.col, "timer window " TOKEN_FMT " ends before it starts", TOKEN_ARG(t));
	s->u.expected.check_timer = true;
	return expect_end(p);
}

/* A MIB counter's name, bare (`PAWSEstab`) or with its group (`TcpExt.PAWSEstab`). */
static int parse_counter_name(struct parser *p, char name[COUNTER_NAME_MAX + 1])
{
	struct token t;
	if (require_token(p, &t, "a counter name") < 0)
		return -1;
	bool valid = t.len <= COUNTER_NAME_MAX;
	for (size_t i = 0; valid && i < t.len; i++)
		valid = is_lower(t.s[i]) || (t.s[i] >= 'A' && t.s[i] <= 'Z') || is_digit(t.s[i]) ||
			t.s[i] == '_' || t.s[i] == '.';
	if (!valid)
		return fail(p, t.col, "invalid counter name " TOKEN_FMT, TOKEN_ARG(t));
	token_copy(name, t);
	return 0;
}

static int parse_expect(struct parser *p, struct token expect, bool has_peer, struct step *s)
{
	struct token what, t;
	if (require_token(p, &what, "'state', 'counter' or 'clock'") < 0)
		return -1;
	if (token_is(what, "state")) {
		if (!has_peer) {
			if (p->c->peer_count == 0)
				return fail(p, expect.col, "no peer declared");
			if (p->c->peer_count > 1)
				return fail(p, expect.col, "several peers declared; name the peer before 'expect'");
			s->peer = 0;
		}
		if (require_token(p, &t, "a TCP state") < 0)
			return -1;
		int state = symbol_of(t, tcp_state_from_name);
		if (state < 0)
			return fail(p, t.col, "unknown TCP state " TOKEN_FMT, TOKEN_ARG(t));
		s->kind = STEP_EXPECT_STATE;
		s->u.expected.state = state;
		if (!next_token(p, &t))
			return 0;
		if (!token_is(t, "timer"))
			return fail(p, t.col, "expected 'timer' or the end of the line, got " TOKEN_FMT, TOKEN_ARG(t));
		return parse_timer_window(p, s);
	}
	if (token_is(what, "clock"))
		return has_peer ? fail(p, what.col, "'expect clock' names its two peers after 'clock'")
				: parse_expect_clock(p, s);
	if (!token_is(what, "counter"))
		return fail(p, what.col, "expected 'state', 'counter' or 'clock', got " TOKEN_FMT, TOKEN_ARG(what));
	if (has_peer)
		return fail(p, what.col, "'expect counter' takes no peer (counters are per namespace)");
	if (parse_counter_name(p, s->u.counter.name) < 0)
		return -1;
	s->kind = STEP_EXPECT_COUNTER;
	if (require_token(p, &t, "a counter delta like +1, -1 or 0") < 0)
		return -1;
	if (token_is(t, "0"))
		s->u.counter.delta = 0;
	else if (parse_delta(p, t, INT64_MAX, &s->u.counter.delta) < 0)
		return -1;
	return expect_end(p);
}

/* `c incarnation [seq ±N] [ts ±N]`. */
static int parse_incarnation(struct parser *p, struct step *s)
{
	struct token t;
	bool seen_seq = false, seen_ts = false;
	s->kind = STEP_INCARNATION;
	while (next_token(p, &t)) {
		int64_t *delta;
		bool *seen;
		if (token_is(t, "seq")) {
			delta = &s->u.incarnation.seq_delta;
			seen = &seen_seq;
		} else if (token_is(t, "ts")) {
			delta = &s->u.incarnation.ts_delta;
			seen = &seen_ts;
		} else {
			return fail(p, t.col, "expected 'seq' or 'ts', got " TOKEN_FMT, TOKEN_ARG(t));
		}
		if (*seen)
			return fail(p, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		*seen = true;
		if (require_token(p, &t, "a signed number like +1 or -1") < 0 || parse_delta(p, t, UINT32_MAX, delta) < 0)
			return -1;
	}
	return 0;
}

/* `c storm N [from L]`: N whole lifecycles from c's address, source ports c's port .. +N-1. */
static int parse_storm(struct parser *p, const struct peer_decl *peer, struct step *s)
{
	struct token t;
	uint64_t count;
	s->kind = STEP_STORM;
	if (require_token(p, &t, "a number of connections") < 0 || parse_uint(p, t, 1, CASE_STORM_MAX, &count) < 0)
		return -1;
	if (peer->port + count - 1 > UINT16_MAX)
		return fail(p, t.col, "%" PRIu64 " connections from port %u run past port 65535", count, peer->port);
	s->u.storm.count = (uint32_t)count;
	if (parse_listener(p, s->u.storm.listener) < 0)
		return -1;
	return expect_end(p);
}

static int parse_tsclock_jump(struct parser *p, struct step *s)
{
	struct token t;
	s->kind = STEP_TSCLOCK_JUMP;
	if (require_token(p, &t, "a signed number like +1 or -1") < 0 || parse_delta(p, t, UINT32_MAX, &s->u.ts_jump) < 0)
		return -1;
	return expect_end(p);
}

static int peer_index(const struct case_file *c, struct token name)
{
	for (int i = 0; i < c->peer_count; i++)
		if (token_is(name, c->peers[i].name))
			return i;
	return -1;
}

/* What may follow a peer name in a step. */
static bool is_peer_event_word(struct token t)
{
	return token_is(t, "<") || token_is(t, ">") || token_is(t, "expect") || token_is(t, "incarnation") ||
	       token_is(t, "tsclock") || token_is(t, "storm");
}

/* Everything after `PEER`. */
static int parse_peer_event(struct parser *p, struct step *s)
{
	struct token t;
	if (require_token(p, &t, "'<', '>', 'expect', 'incarnation', 'tsclock' or 'storm'") < 0)
		return -1;
	if (token_is(t, "<") || token_is(t, ">"))
		return parse_packet_event(p, t, s);
	if (token_is(t, "expect"))
		return parse_expect(p, t, true, s);
	if (token_is(t, "incarnation"))
		return parse_incarnation(p, s);
	if (token_is(t, "tsclock"))
		return parse_tsclock_jump(p, s);
	if (token_is(t, "storm"))
		return parse_storm(p, &p->c->peers[s->peer], s);
	return fail(p, t.col, "expected '<', '>', 'expect', 'incarnation', 'tsclock' or 'storm', got " TOKEN_FMT,
		    TOKEN_ARG(t));
}

static int parse_event(struct parser *p, struct token event, struct step *s)
{
	if (token_is(event, "app"))
		return parse_app(p, s);
	if (token_is(event, "expect"))
		return parse_expect(p, event, false, s);
	if (token_is(event, "wait")) {
		s->kind = STEP_WAIT;
		return expect_end(p);
	}
	if (token_is(event, "<") || token_is(event, ">")) {
		/* packetdrill writes packet lines without a peer: fine while there is only one. */
		if (p->c->peer_count == 0)
			return fail(p, event.col, "no peer declared");
		if (p->c->peer_count > 1)
			return fail(p, event.col, "several peers declared; name the peer before " TOKEN_FMT,
				    TOKEN_ARG(event));
		s->peer = 0;
		return parse_packet_event(p, event, s);
	}
	s->peer = peer_index(p->c, event);
	if (s->peer >= 0)
		return parse_peer_event(p, s);
	struct token next;
	if (is_identifier(event, PEER_NAME_MAX) && peek_token(p, &next) && is_peer_event_word(next))
		return fail(p, event.col, "unknown peer " TOKEN_FMT, TOKEN_ARG(event));
	return fail(p, event.col, "unknown event " TOKEN_FMT, TOKEN_ARG(event));
}

/* ---- steps ---- */

static int variant_index_of(const struct case_file *c, struct token name)
{
	for (int i = 0; i < c->variant_count; i++)
		if (token_is(name, c->variants[i].name))
			return i;
	return -1;
}

/* What target_stack() gives: [a-z0-9_-], a lab host's system name in lower case included. */
static bool is_stack_name_char(char ch)
{
	return is_lower(ch) || is_digit(ch) || ch == '_' || ch == '-';
}

/* `{name,...}` or `{!name,...}` with the cursor on '{'. */
static int parse_stack_prefix(struct parser *p, struct step *s)
{
	p->pos++;
	if (peek_char(p) == '!') {
		s->stacks_negated = true;
		p->pos++;
	}
	for (;;) {
		struct token name;
		if (!next_word(p, ",}", &name))
			return fail(p, name.col, "expected a stack name");
		for (size_t i = 0; i < name.len; i++)
			if (!is_stack_name_char(name.s[i]))
				return fail(p, name.col + (int)i, "invalid character '%c' in stack name (expected [a-z0-9_-])",
					    name.s[i]);
		if (name.len >= CASE_STACK_NAME_MAX)
			return fail(p, name.col, "stack name too long (max %d bytes)", CASE_STACK_NAME_MAX - 1);
		if (s->stack_count == CASE_MAX_STACKS)
			return fail(p, name.col, "too many stacks (max %d)", CASE_MAX_STACKS);
		for (int i = 0; i < s->stack_count; i++)
			if (token_is(name, s->stacks[i]))
				return fail(p, name.col, "duplicate stack " TOKEN_FMT, TOKEN_ARG(name));
		token_copy(s->stacks[s->stack_count++], name);
		char next = peek_char(p);
		if (next == ',' || next == '}') {
			p->pos++;
			if (next == '}')
				return 0;
			continue;
		}
		return fail(p, cursor_col(p), "expected ',' or '}' in the stack list");
	}
}

/* `[name]` or `[name1,name2]` with the cursor on '['. */
static int parse_variant_prefix(struct parser *p, uint32_t *mask)
{
	p->pos++;
	*mask = 0;
	for (;;) {
		struct token name;
		if (!next_word(p, ",]", &name))
			return fail(p, name.col, "expected a variant name");
		int index = variant_index_of(p->c, name);
		if (index < 0)
			return fail(p, name.col, "unknown variant " TOKEN_FMT, TOKEN_ARG(name));
		*mask |= 1u << index;
		char next = peek_char(p);
		if (next == ',' || next == ']') {
			p->pos++;
			if (next == ']')
				return 0;
			continue;
		}
		return fail(p, cursor_col(p), "expected ',' or ']' in the variant list");
	}
}

static int append_step(struct parser *p, const struct step *s)
{
	struct case_file *c = p->c;
	if (c->step_count == CASE_MAX_STEPS)
		return fail(p, 1, "too many steps (max %d)", CASE_MAX_STEPS);
	if (c->step_count == p->step_capacity) {
		int capacity = p->step_capacity ? 2 * p->step_capacity : 32;
		if (capacity > CASE_MAX_STEPS)
			capacity = CASE_MAX_STEPS;
		struct step *steps = realloc(c->steps, (size_t)capacity * sizeof *steps);
		if (!steps)
			return fail(p, 1, "out of memory");
		c->steps = steps;
		p->step_capacity = capacity;
	}
	c->steps[c->step_count++] = *s;
	return 0;
}

/* `[VARIANTS] {STACKS} TIME EVENT`, both prefixes optional. */
static int parse_step(struct parser *p, struct token first)
{
	struct step s;
	memset(&s, 0, sizeof s);
	s.variant_mask = ~0u;
	s.peer = -1;
	s.line_index = p->line_no - 1;
	p->pos = (size_t)first.col - 1;
	if (peek_char(p) == '[' && parse_variant_prefix(p, &s.variant_mask) < 0)
		return -1;
	if (peek_char(p) == '{' && parse_stack_prefix(p, &s) < 0)
		return -1;
	struct token t;
	if (require_token(p, &t, "a time") < 0)
		return -1;
	if (t.s[0] == '[')
		return fail(p, t.col, "the [variant] prefix comes before the {stack} prefix");
	if (parse_time(p, t, &s.when) < 0 || require_token(p, &t, "an event after the time") < 0)
		return -1;
	struct token outcome_word = t;
	if (token_is(t, "outcome")) {
		s.outcome = true;
		if (require_token(p, &t, "an observation after 'outcome'") < 0)
			return -1;
	}
	s.where = (struct source_location){ p->line_no, t.col };
	if (parse_event(p, t, &s) < 0)
		return -1;
	bool observes = s.kind == STEP_EXPECT_SEGMENT || s.kind == STEP_EXPECT_NONE || s.kind == STEP_APP ||
			s.kind == STEP_EXPECT_STATE || s.kind == STEP_EXPECT_COUNTER || s.kind == STEP_EXPECT_CLOCK;
	if (s.outcome && !observes)
		return fail(p, outcome_word.col,
			    "'outcome' marks an observation ('>' line, app call or expect), not this event");
	if (s.stack_count)
		p->c->per_stack = true;
	return append_step(p, &s);
}

/* ---- header statements ---- */

/* KEY: [a-z0-9_.-]{1,127}, starting with "net.", no "..", no trailing '.'. */
static int parse_sysctl_key(struct parser *p, struct token key, char out[SYSCTL_KEY_MAX])
{
	for (size_t i = 0; i < key.len; i++) {
		char ch = key.s[i];
		if (!is_lower(ch) && !is_digit(ch) && ch != '_' && ch != '.' && ch != '-')
			return fail(p, key.col + (int)i, "invalid character '%c' in sysctl key", ch);
	}
	if (key.len == 0)
		return fail(p, key.col, "empty sysctl key");
	if (key.len >= SYSCTL_KEY_MAX)
		return fail(p, key.col, "sysctl key too long (max %d bytes)", SYSCTL_KEY_MAX - 1);
	/* Only per-namespace net sysctls: anything else would reach the host. */
	if (key.len < 4 || memcmp(key.s, "net.", 4) != 0)
		return fail(p, key.col, "sysctl key " TOKEN_FMT " must start with 'net.'", TOKEN_ARG(key));
	for (size_t i = 0; i + 1 < key.len; i++)
		if (key.s[i] == '.' && key.s[i + 1] == '.')
			return fail(p, key.col + (int)i, "'..' in sysctl key");
	if (key.s[key.len - 1] == '.')
		return fail(p, key.col + (int)key.len - 1, "sysctl key ends with '.'");
	token_copy(out, key);
	return 0;
}

/* `KEY=VALUE`; a ',' in VALUE stands for a space (`ip_local_port_range=40000,40000`). */
static int parse_sysctl_setting(struct parser *p, struct token t, struct sysctl_setting *setting)
{
	size_t equals = token_find(t, '=');
	if (equals == t.len)
		return fail(p, t.col, "expected KEY=VALUE, got " TOKEN_FMT, TOKEN_ARG(t));
	if (parse_sysctl_key(p, sub_token(t, 0, equals), setting->key) < 0)
		return -1;
	struct token value = sub_token(t, equals + 1, t.len - equals - 1);
	if (value.len == 0)
		return fail(p, value.col, "empty sysctl value");
	if (value.len >= SYSCTL_VALUE_MAX)
		return fail(p, value.col, "sysctl value too long (max %d bytes)", SYSCTL_VALUE_MAX - 1);
	for (size_t i = 0; i < value.len; i++)
		setting->value[i] = value.s[i] == ',' ? ' ' : value.s[i];
	setting->value[value.len] = '\0';
	return 0;
}

/* One or more KEY=VALUE to the end of the statement. */
static int parse_sysctl_list(struct parser *p, struct sysctl_setting *settings, int *count)
{
	struct token t;
	if (require_token(p, &t, "KEY=VALUE") < 0)
		return -1;
	do {
		if (*count == CASE_MAX_SYSCTLS)
			return fail(p, t.col, "too many sysctls (max %d)", CASE_MAX_SYSCTLS);
		struct sysctl_setting *setting = &settings[*count];
		if (parse_sysctl_setting(p, t, setting) < 0)
			return -1;
		for (int i = 0; i < *count; i++)
			if (strcmp(settings[i].key, setting->key) == 0)
				return fail(p, t.col, "duplicate sysctl key '%s'", setting->key);
		(*count)++;
	} while (next_token(p, &t));
	return 0;
}

static int parse_target_statement(struct parser *p, struct token keyword)
{
	struct token t;
	if (p->has_target)
		return fail(p, keyword.col, "duplicate 'target'");
	if (require_token(p, &t, "an IPv4 address") < 0 || parse_ipv4(p, t, &p->c->target_ip) < 0)
		return -1;
	p->has_target = true;
	return expect_end(p);
}

/* `family 4`, `family 6 mapped`: the only families the case runs in (its subject is one family's). */
static int parse_family_statement(struct parser *p, struct token keyword)
{
	struct token t;
	if (p->has_family)
		return fail(p, keyword.col, "duplicate 'family'");
	if (require_token(p, &t, "4, 6 or mapped") < 0)
		return -1;
	p->c->families = 0;
	do {
		char name[8];
		snprintf(name, sizeof name, "%.*s", (int)(t.len < sizeof name ? t.len : sizeof name - 1), t.s);
		int family = t.len < sizeof name ? family_from_name(name) : -1;
		if (family < 0)
			return fail(p, t.col, "expected 4, 6 or mapped, got " TOKEN_FMT, TOKEN_ARG(t));
		if (p->c->families & 1u << family)
			return fail(p, t.col, "family %s given twice", family_name((enum address_family)family));
		p->c->families |= 1u << family;
	} while (next_token(p, &t));
	p->has_family = true;
	return 0;
}

/* The optional `isn N`, `tsclock START`, `rate HZ`, `to PORT` of a peer, in any order. */
static int parse_peer_settings(struct parser *p, struct peer_decl *peer)
{
	static const char *const names[] = { "isn", "tsclock", "rate", "to" };
	bool seen[4] = { false };
	struct token t, value;
	while (next_token(p, &t)) {
		size_t which = 0;
		while (which < 4 && !token_is(t, names[which]))
			which++;
		if (which == 4)
			return fail(p, t.col, "expected isn, tsclock, rate or to, got " TOKEN_FMT, TOKEN_ARG(t));
		if (seen[which])
			return fail(p, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		seen[which] = true;
		if (require_token(p, &value, "a number") < 0)
			return -1;
		uint64_t number;
		switch (which) {
		case 0:
			if (parse_uint(p, value, 0, UINT32_MAX, &number) < 0)
				return -1;
			peer->isn = (uint32_t)number;
			break;
		case 1:
			if (parse_uint(p, value, 0, UINT32_MAX, &number) < 0)
				return -1;
			peer->ts_start = (uint32_t)number;
			break;
		case 2:
			if (parse_uint(p, value, 1, 1000000, &number) < 0)
				return -1;
			peer->ts_rate_hz = (uint32_t)number;
			break;
		default:
			if (parse_port(p, value, &peer->target_port) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* `peer NAME IP[:PORT] [isn N] [tsclock START] [rate HZ] [to PORT]`. */
static int parse_peer_statement(struct parser *p, struct token keyword)
{
	struct case_file *c = p->c;
	struct token name, address;
	if (c->peer_count == CASE_MAX_PEERS)
		return fail(p, keyword.col, "too many peers (max %d)", CASE_MAX_PEERS);
	if (require_token(p, &name, "a peer name") < 0)
		return -1;
	if (!is_identifier(name, PEER_NAME_MAX))
		return fail(p, name.col, "invalid peer name " TOKEN_FMT " (expected [a-z][a-z0-9_]{0,15})",
			    TOKEN_ARG(name));
	/* Step events start with these words, so a peer named so could not be told apart. */
	if (token_is(name, "app") || token_is(name, "expect") || token_is(name, "wait") || token_is(name, "outcome"))
		return fail(p, name.col, "peer name " TOKEN_FMT " is reserved", TOKEN_ARG(name));
	if (peer_index(c, name) >= 0)
		return fail(p, name.col, "duplicate peer " TOKEN_FMT, TOKEN_ARG(name));

	int index = c->peer_count;
	struct peer_decl *peer = &c->peers[index];
	memset(peer, 0, sizeof *peer);
	token_copy(peer->name, name);
	peer->where = (struct source_location){ p->line_no, keyword.col };
	peer->port = (uint16_t)(40000 + index);
	peer->isn = 1000000u * (uint32_t)(index + 1);
	peer->ts_start = 1000;
	peer->ts_rate_hz = 1000;
	if (require_token(p, &address, "IP[:PORT]") < 0 || parse_endpoint(p, address, true, &peer->ip, &peer->port) < 0)
		return -1;
	p->peer_ip_where[index] = (struct source_location){ p->line_no, address.col };
	if (parse_peer_settings(p, peer) < 0)
		return -1;
	/* Peers may share IP:PORT on purpose (an old and a new connection on one 4-tuple, NAT clients
	 * behind one mapping), but only when the port is written: a default port that lands on another
	 * peer's is an accident. */
	bool port_written = memchr(address.s, ':', address.len) != NULL;
	for (int i = 0; i < index && !port_written; i++) {
		if (c->peers[i].ip == peer->ip && c->peers[i].port == peer->port) {
			char ip[16];
			format_ipv4(peer->ip, ip);
			return fail(p, address.col, "peer '%s' gets the default port %u, already peer '%s''s on %s; "
				    "write the port to share it", peer->name, peer->port, c->peers[i].name, ip);
		}
	}
	c->peer_count++;
	return 0;
}

static int parse_sysctl_statement(struct parser *p, struct token keyword)
{
	(void)keyword;
	return parse_sysctl_list(p, p->c->sysctls, &p->c->sysctl_count);
}

/* `[a-z0-9][a-z0-9_-]{0,30}`: the name must fit CASE_NAME_MAX with its NUL. */
static bool is_variant_name(struct token t)
{
	if (t.len == 0 || t.len > VARIANT_NAME_MAX || !(is_lower(t.s[0]) || is_digit(t.s[0])))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!is_lower(t.s[i]) && !is_digit(t.s[i]) && t.s[i] != '_' && t.s[i] != '-')
			return false;
	return true;
}

/* `variant NAME sysctl KEY=VALUE [KEY=VALUE ...]`. */
static int parse_variant_statement(struct parser *p, struct token keyword)
{
	struct case_file *c = p->c;
	struct token name, t;
	if (c->variant_count == CASE_MAX_VARIANTS)
		return fail(p, keyword.col, "too many variants (max %d)", CASE_MAX_VARIANTS);
	if (require_token(p, &name, "a variant name") < 0)
		return -1;
	if (!is_variant_name(name))
		return fail(p, name.col, "invalid variant name " TOKEN_FMT " (expected [a-z0-9][a-z0-9_-]{0,30})",
			    TOKEN_ARG(name));
	if (variant_index_of(c, name) >= 0)
		return fail(p, name.col, "duplicate variant " TOKEN_FMT, TOKEN_ARG(name));
	if (require_token(p, &t, "'sysctl'") < 0)
		return -1;
	if (!token_is(t, "sysctl"))
		return fail(p, t.col, "expected 'sysctl', got " TOKEN_FMT, TOKEN_ARG(t));
	struct variant *variant = &c->variants[c->variant_count];
	memset(variant, 0, sizeof *variant);
	token_copy(variant->name, name);
	if (parse_sysctl_list(p, variant->sysctls, &variant->sysctl_count) < 0)
		return -1;
	c->variant_count++;
	return 0;
}

/* `timestamps`, `sack` or `wscale` after `require option`: what the stack's SYN-ACK must carry. */
static int parse_required_option(struct parser *p, struct requirement *r)
{
	static const struct {
		const char *name;
		uint8_t option;
	} options[] = {
		{ "timestamps", TCP_OPTION_TIMESTAMP },
		{ "sack", TCP_OPTION_SACK_PERMITTED },
		{ "wscale", TCP_OPTION_WSCALE },
	};
	struct token t;
	if (require_token(p, &t, "timestamps, sack or wscale") < 0)
		return -1;
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		if (token_is(t, options[i].name)) {
			strcpy(r->name, options[i].name);
			r->option = options[i].option;
			return 0;
		}
	}
	return fail(p, t.col, "expected timestamps, sack or wscale, got " TOKEN_FMT, TOKEN_ARG(t));
}

/* `require sysctl KEY`, `require counter NAME`, `require option OPTION`. */
static int parse_require_statement(struct parser *p, struct token keyword)
{
	struct case_file *c = p->c;
	struct token t;
	if (c->require_count == CASE_MAX_REQUIRES)
		return fail(p, keyword.col, "too many requirements (max %d)", CASE_MAX_REQUIRES);
	struct requirement *r = &c->requires[c->require_count];
	if (require_token(p, &t, "'sysctl', 'counter' or 'option'") < 0)
		return -1;
	if (token_is(t, "sysctl")) {
		r->kind = REQUIRE_SYSCTL;
		if (require_token(p, &t, "a sysctl key") < 0 || parse_sysctl_key(p, t, r->name) < 0)
			return -1;
	} else if (token_is(t, "counter")) {
		r->kind = REQUIRE_COUNTER;
		if (parse_counter_name(p, r->name) < 0)
			return -1;
	} else if (token_is(t, "option")) {
		r->kind = REQUIRE_OPTION;
		if (!p->requires_option)
			p->require_option_where = (struct source_location){ p->line_no, t.col };
		p->requires_option = true;
		if (parse_required_option(p, r) < 0)
			return -1;
	} else {
		return fail(p, t.col, "expected 'sysctl', 'counter' or 'option', got " TOKEN_FMT, TOKEN_ARG(t));
	}
	c->require_count++;
	return expect_end(p);
}

static const struct {
	const char *keyword;
	int (*parse)(struct parser *p, struct token keyword);
} header_statements[] = {
	{ "target", parse_target_statement },   { "peer", parse_peer_statement },
	{ "sysctl", parse_sysctl_statement },   { "variant", parse_variant_statement },
	{ "require", parse_require_statement }, { "family", parse_family_statement },
};

/* Checks that need the whole header: run before the first step, or at the end when there is none. */
static int close_header(struct parser *p)
{
	const struct case_file *c = p->c;
	/* The capability probe's SYN comes from the first peer's address, which the target can reach. */
	if (p->requires_option && c->peer_count == 0)
		return fail_at(p, p->require_option_where,
			       "'require option' needs a peer: the probe SYN comes from the first peer's address");
	for (int i = 0; i < c->peer_count; i++) {
		if (c->peers[i].ip == c->target_ip) {
			char ip[16];
			format_ipv4(c->target_ip, ip);
			return fail_at(p, p->peer_ip_where[i], "peer '%s' has the target's address %s", c->peers[i].name,
				       ip);
		}
	}
	p->in_steps = true;
	return 0;
}

/* ---- lines ---- */

/* NUL anywhere, other control or non-ASCII bytes outside a comment, or more than 4096 bytes.
 * Also finds where the comment starts. */
static int check_line_bytes(struct parser *p)
{
	size_t checked = p->line_len > LINE_MAX_BYTES ? LINE_MAX_BYTES : p->line_len;
	bool in_comment = false;
	p->code_len = checked;
	for (size_t i = 0; i < checked; i++) {
		unsigned char b = (unsigned char)p->line[i];
		if (b == '\0')
			return fail(p, (int)i + 1, "NUL byte");
		if (in_comment)
			continue;
		if (b == '#') {
			in_comment = true;
			p->code_len = i;
		} else if (b != '\t' && (b < 0x20 || b >= 0x7f)) {
			return fail(p, (int)i + 1, "invalid byte 0x%02x (only printable ASCII outside comments)", b);
		}
	}
	if (p->line_len > LINE_MAX_BYTES)
		return fail(p, LINE_MAX_BYTES + 1, "line too long (max %d bytes)", LINE_MAX_BYTES);
	return 0;
}

static int keep_line(struct parser *p)
{
	struct case_file *c = p->c;
	if (c->line_count == p->line_capacity) {
		if (p->line_capacity > INT_MAX / 2)
			return fail(p, 1, "too many lines");
		int capacity = p->line_capacity ? 2 * p->line_capacity : 64;
		char **lines = realloc(c->lines, (size_t)capacity * sizeof *lines);
		if (!lines)
			return fail(p, 1, "out of memory");
		c->lines = lines;
		p->line_capacity = capacity;
	}
	char *copy = malloc(p->line_len + 1);
	if (!copy)
		return fail(p, 1, "out of memory");
	memcpy(copy, p->line, p->line_len);
	copy[p->line_len] = '\0';
	c->lines[c->line_count++] = copy;
	return 0;
}

static bool starts_step(struct token t)
{
	return t.s[0] == '[' || t.s[0] == '{' || t.s[0] == '+' || t.s[0] == '-' || t.s[0] == '.' || is_digit(t.s[0]);
}

static int parse_line(struct parser *p)
{
	struct token t;
	if (!next_token(p, &t))
		return 0;
	for (size_t i = 0; i < sizeof header_statements / sizeof header_statements[0]; i++) {
		if (token_is(t, header_statements[i].keyword)) {
			if (p->in_steps)
				return fail(p, t.col, TOKEN_FMT " must come before the first step", TOKEN_ARG(t));
			return header_statements[i].parse(p, t);
		}
	}
	if (starts_step(t)) {
		if (!p->in_steps && close_header(p) < 0)
			return -1;
		return parse_step(p, t);
	}
	if (token_is(t, "app") || token_is(t, "expect") || token_is(t, "wait") || token_is(t, "<") ||
	    token_is(t, ">") || peer_index(p->c, t) >= 0)
		return fail(p, t.col, "expected a time before " TOKEN_FMT, TOKEN_ARG(t));
	return fail(p, t.col, "unknown statement " TOKEN_FMT, TOKEN_ARG(t));
}

/* Fills what only the whole file decides. */
static int finish(struct parser *p)
{
	struct case_file *c = p->c;
	if (!p->in_steps && close_header(p) < 0)
		return -1;
	if (c->step_count == 0)
		return fail_at(p, (struct source_location){ 1, 1 }, "no steps");
	uint16_t listen_port = 0;
	for (int i = 0; i < c->step_count && listen_port == 0; i++) {
		const struct step *s = &c->steps[i];
		if (s->kind == STEP_APP && (s->u.app.op == APP_LISTEN || s->u.app.op == APP_BIND))
			listen_port = s->u.app.port;
	}
	for (int i = 0; i < c->peer_count; i++)
		if (c->peers[i].target_port == 0)
			c->peers[i].target_port = listen_port;
	return 0;
}

static int parse_lines(struct parser *p, const char *text, size_t len)
{
	size_t start = 0;
	while (start < len) {
		const char *newline = memchr(text + start, '\n', len - start);
		size_t end = newline ? (size_t)(newline - text) : len;
		p->line = text + start;
		p->line_len = end - start;
		if (p->line_len > 0 && p->line[p->line_len - 1] == '\r')
			p->line_len--;
		p->pos = 0;
		p->code_len = 0;
		p->line_no++;
		if (check_line_bytes(p) < 0 || keep_line(p) < 0 || parse_line(p) < 0)
			return -1;
		start = end + 1;
	}
	return finish(p);
}

int case_parse_text(const char *path, const char *text, size_t len, struct case_file *out, char **error)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	p.path = path ? path : "<case>";
	p.c = calloc(1, sizeof *p.c);
	int rc = -1;
	if (p.c) {
		p.c->target_ip = DEFAULT_TARGET_IP;
		p.c->families = FAMILY_ALL;
		p.c->path = strdup(p.path);
		if (p.c->path)
			rc = parse_lines(&p, text, len);
	}
	if (rc == 0) {
		*out = *p.c;
		free(p.c);
		return 0;
	}
	case_free(p.c);
	free(p.c);
	memset(out, 0, sizeof *out);
	if (!p.error && asprintf(&p.error, "%s: out of memory", p.path) < 0)
		p.error = NULL;
	*error = p.error;
	return -1;
}

/* `path: message`, for failures before there is a line to point at. */
static int file_error(const char *path, const char *message, char **error)
{
	if (asprintf(error, "%s: %s", path, message) < 0)
		*error = NULL;
	return -1;
}

/* Reads fd to its end into a malloc'd buffer. Returns 0, or an errno value (EFBIG past the size cap). */
static int read_all(int fd, size_t size_hint, char **text, size_t *len)
{
	/* The size is only a hint: the file may change while we read it, or be a pipe with no size. */
	size_t capacity = size_hint + 4096;
	char *buffer = malloc(capacity);
	*len = 0;
	for (;;) {
		if (!buffer)
			return ENOMEM;
		ssize_t n = read(fd, buffer + *len, capacity - *len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : 0;
			if (err)
				free(buffer);
			else
				*text = buffer;
			return err;
		}
		*len += (size_t)n;
		if (*len > CASE_FILE_MAX_BYTES) {
			free(buffer);
			return EFBIG;
		}
		if (*len == capacity) {
			capacity *= 2;
			char *grown = realloc(buffer, capacity);
			if (!grown)
				free(buffer);
			buffer = grown;
		}
	}
}

int case_parse_file(const char *path, struct case_file *out, char **error)
{
	memset(out, 0, sizeof *out);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return file_error(path, strerror(errno), error);
	struct stat st;
	int err = 0;
	if (fstat(fd, &st) < 0)
		err = errno;
	else if (S_ISDIR(st.st_mode))
		err = EISDIR;
	else if (st.st_size > CASE_FILE_MAX_BYTES)
		err = EFBIG;
	char *text = NULL;
	size_t len = 0;
	if (err == 0)
		err = read_all(fd, (size_t)st.st_size, &text, &len);
	close(fd);
	if (err == EFBIG)
		return file_error(path, "file too large (max 16 MB)", error);
	if (err)
		return file_error(path, strerror(err), error);
	int rc = case_parse_text(path, text, len, out, error);
	free(text);
	return rc;
}

int case_variant_index(const struct case_file *c, const char *name)
{
	for (int i = 0; i < c->variant_count; i++)
		if (strcmp(c->variants[i].name, name) == 0)
			return i;
	return -1;
}
