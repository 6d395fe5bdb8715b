/* case_lexer.c - see case_lexer.h.
 * The text is hostile: every read stays inside the current line's length, and the first error ends the
 * parse with one `path:line:col: message` diagnostic. */
#include "case_lexer.h"

#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NS_PER_S 1000000000LL
#define TIME_MAX_NS (3600 * NS_PER_S)

/* ---- diagnostics ---- */

/* Builds `path:line:col: message`, the line, and a caret under col. Bytes that are not printable are
 * shown as '?' so the caret stays aligned and the terminal gets no control characters. */
static int vfail_on(struct case_lexer *lx, int line_no, const char *text, size_t len, int col,
		    const char *fmt, va_list ap)
{
	if (lx->error)
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
		if (asprintf(&lx->error, "%s:%d:%d: %s\n  %s\n  %s^", lx->path, line_no, col, message,
			     display, caret) < 0)
			lx->error = NULL;
	}
	free(message);
	free(display);
	free(caret);
	return -1;
}

int lex_fail(struct case_lexer *lx, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfail_on(lx, lx->line_no, lx->line, lx->line_len, col, fmt, ap);
	va_end(ap);
	return -1;
}

int lex_fail_at(struct case_lexer *lx, struct source_location where, const char *fmt, ...)
{
	const char *text = where.line >= 1 && where.line <= lx->line_count ? lx->lines[where.line - 1] : "";
	va_list ap;
	va_start(ap, fmt);
	vfail_on(lx, where.line, text, strlen(text), where.col, fmt, ap);
	va_end(ap);
	return -1;
}

int lex_unsupported(struct case_lexer *lx, int col, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(lx->unsupported_what, sizeof lx->unsupported_what, fmt, ap);
	va_end(ap);
	lx->unsupported = true;
	lx->unsupported_col = col;
	return -1;
}

/* ---- tokenizer ---- */

void lex_skip_blanks(struct case_lexer *lx)
{
	while (lx->pos < lx->code_len && char_is_blank(lx->line[lx->pos]))
		lx->pos++;
}

int lex_cursor_col(const struct case_lexer *lx)
{
	return (int)lx->pos + 1;
}

char lex_peek_char(struct case_lexer *lx)
{
	lex_skip_blanks(lx);
	return lx->pos < lx->code_len ? lx->line[lx->pos] : '\0';
}

bool lex_next_word(struct case_lexer *lx, const char *stops, struct token *t)
{
	lex_skip_blanks(lx);
	size_t start = lx->pos;
	while (lx->pos < lx->code_len && !char_is_blank(lx->line[lx->pos]) && !strchr(stops, lx->line[lx->pos]))
		lx->pos++;
	t->s = lx->line + start;
	t->len = lx->pos - start;
	t->col = (int)start + 1;
	return t->len > 0;
}

bool lex_next_token(struct case_lexer *lx, struct token *t)
{
	return lex_next_word(lx, "", t);
}

bool lex_peek_token(struct case_lexer *lx, struct token *t)
{
	size_t saved = lx->pos;
	bool found = lex_next_token(lx, t);
	lx->pos = saved;
	return found;
}

int lex_require_token(struct case_lexer *lx, struct token *t, const char *what)
{
	if (!lex_next_token(lx, t))
		return lex_fail(lx, t->col, "expected %s", what);
	return 0;
}

int lex_expect_end(struct case_lexer *lx)
{
	struct token t;
	if (lex_next_token(lx, &t))
		return lex_fail(lx, t.col, "unexpected " TOKEN_FMT, TOKEN_ARG(t));
	return 0;
}

bool token_is(struct token t, const char *word)
{
	return t.len == strlen(word) && memcmp(t.s, word, t.len) == 0;
}

struct token sub_token(struct token t, size_t offset, size_t len)
{
	return (struct token){ t.s + offset, len, t.col + (int)offset };
}

size_t token_find(struct token t, char ch)
{
	const char *hit = memchr(t.s, ch, t.len);
	return hit ? (size_t)(hit - t.s) : t.len;
}

void token_copy(char *dst, struct token t)
{
	memcpy(dst, t.s, t.len);
	dst[t.len] = '\0';
}

int token_symbol(struct token t, int (*from_name)(const char *name))
{
	char name[CASE_NAME_MAX];
	if (t.len >= sizeof name)
		return -1;
	token_copy(name, t);
	return from_name(name);
}

/* ---- numbers, names and addresses ---- */

int lex_uint(struct case_lexer *lx, struct token t, uint64_t min, uint64_t max, uint64_t *out)
{
	if (t.len == 0)
		return lex_fail(lx, t.col, "expected a number");
	for (size_t i = 0; i < t.len; i++)
		if (!char_is_digit(t.s[i]))
			return lex_fail(lx, t.col, "expected a number, got " TOKEN_FMT, TOKEN_ARG(t));
	uint64_t value = 0;
	for (size_t i = 0; i < t.len; i++) {
		unsigned digit = (unsigned)(t.s[i] - '0');
		if (value > max / 10 || (value == max / 10 && digit > max % 10))
			return lex_fail(lx, t.col, "number out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
		value = value * 10 + digit;
	}
	if (value < min)
		return lex_fail(lx, t.col, "number out of range (%" PRIu64 "..%" PRIu64 ")", min, max);
	*out = value;
	return 0;
}

int lex_delta(struct case_lexer *lx, struct token t, uint64_t max_magnitude, int64_t *out)
{
	if (t.len == 0 || (t.s[0] != '+' && t.s[0] != '-'))
		return lex_fail(lx, t.col, "expected a signed number like +1 or -1, got " TOKEN_FMT, TOKEN_ARG(t));
	uint64_t magnitude;
	if (lex_uint(lx, sub_token(t, 1, t.len - 1), 0, max_magnitude, &magnitude) < 0)
		return -1;
	*out = t.s[0] == '-' ? -(int64_t)magnitude : (int64_t)magnitude;
	return 0;
}

int lex_int(struct case_lexer *lx, struct token t, int *out)
{
	bool negative = t.len > 0 && t.s[0] == '-';
	uint64_t magnitude;
	if (lex_uint(lx, negative ? sub_token(t, 1, t.len - 1) : t, 0,
		       negative ? (uint64_t)INT_MAX + 1 : (uint64_t)INT_MAX, &magnitude) < 0)
		return -1;
	*out = negative ? (int)(-(int64_t)magnitude) : (int)magnitude;
	return 0;
}

bool token_is_identifier(struct token t, size_t max)
{
	if (t.len == 0 || t.len > max || !char_is_lower(t.s[0]))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!char_is_lower(t.s[i]) && !char_is_digit(t.s[i]) && t.s[i] != '_')
			return false;
	return true;
}

int lex_port(struct case_lexer *lx, struct token t, uint16_t *out)
{
	uint64_t port;
	if (lex_uint(lx, t, 1, UINT16_MAX, &port) < 0)
		return -1;
	*out = (uint16_t)port;
	return 0;
}

/* Strict dotted quad: four 0..255 parts without leading zeros, which inet_aton would read as octal. */
int lex_ipv4(struct case_lexer *lx, struct token t, uint32_t *out)
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
		while (i < t.len && char_is_digit(t.s[i]) && i - start < 3)
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
	return lex_fail(lx, t.col, "invalid IPv4 address " TOKEN_FMT, TOKEN_ARG(t));
}

int lex_endpoint(struct case_lexer *lx, struct token t, bool port_optional, uint32_t *ip, uint16_t *port)
{
	size_t colon = token_find(t, ':');
	if (colon == t.len && !port_optional)
		return lex_fail(lx, t.col, "expected IP:PORT, got " TOKEN_FMT, TOKEN_ARG(t));
	if (lex_ipv4(lx, sub_token(t, 0, colon), ip) < 0)
		return -1;
	if (colon == t.len)
		return 0;
	return lex_port(lx, sub_token(t, colon + 1, t.len - colon - 1), port);
}

void format_ipv4(uint32_t ip, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
}

/* ---- time ---- */

/* One number of a time: `1`, `1.5`, `.2`, then an optional unit `s`, `ms` or `us`; 0..3600 s. */
static int lex_seconds(struct case_lexer *lx, struct token t, int64_t *ns)
{
	size_t i = 0, whole_digits = 0, frac_digits = 0;
	uint64_t whole = 0, frac = 0, frac_scale = 1;
	bool too_big = false;
	for (; i < t.len && char_is_digit(t.s[i]); i++, whole_digits++) {
		if (whole > (uint64_t)TIME_MAX_NS)
			too_big = true;
		else
			whole = whole * 10 + (uint64_t)(t.s[i] - '0');
	}
	if (i < t.len && t.s[i] == '.') {
		for (i++; i < t.len && char_is_digit(t.s[i]); i++, frac_digits++) {
			/* Digits past a nanosecond of a second cannot change the result. */
			if (frac_scale < (uint64_t)NS_PER_S) {
				frac = frac * 10 + (uint64_t)(t.s[i] - '0');
				frac_scale *= 10;
			}
		}
		if (frac_digits == 0)
			return lex_fail(lx, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));
	}
	if (whole_digits + frac_digits == 0)
		return lex_fail(lx, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));

	struct token unit = sub_token(t, i, t.len - i);
	uint64_t ns_per_unit;
	if (unit.len == 0 || token_is(unit, "s"))
		ns_per_unit = NS_PER_S;
	else if (token_is(unit, "ms"))
		ns_per_unit = 1000000;
	else if (token_is(unit, "us"))
		ns_per_unit = 1000;
	else
		return lex_fail(lx, unit.col, "unknown time unit " TOKEN_FMT " (use s, ms or us)", TOKEN_ARG(unit));

	if (too_big || whole > (uint64_t)TIME_MAX_NS / ns_per_unit)
		return lex_fail(lx, t.col, "time out of range (max 3600 s)");
	uint64_t total = whole * ns_per_unit + frac * ns_per_unit / frac_scale;
	if (total > (uint64_t)TIME_MAX_NS)
		return lex_fail(lx, t.col, "time out of range (max 3600 s)");
	*ns = (int64_t)total;
	return 0;
}

static int lex_time_point(struct case_lexer *lx, struct token t, bool *relative, int64_t *ns)
{
	*relative = t.len > 0 && t.s[0] == '+';
	struct token number = *relative ? sub_token(t, 1, t.len - 1) : t;
	if (number.len == 0)
		return lex_fail(lx, t.col, "invalid time " TOKEN_FMT, TOKEN_ARG(t));
	if (number.len > 0 && number.s[0] == '-')
		return lex_fail(lx, t.col, "negative time " TOKEN_FMT, TOKEN_ARG(t));
	return lex_seconds(lx, number, ns);
}

int lex_time(struct case_lexer *lx, struct token t, struct time_spec *when)
{
	size_t tilde = token_find(t, '~');
	if (lex_time_point(lx, sub_token(t, 0, tilde), &when->relative, &when->earliest_ns) < 0)
		return -1;
	when->latest_ns = when->earliest_ns;
	if (tilde == t.len)
		return 0;
	struct token latest = sub_token(t, tilde + 1, t.len - tilde - 1);
	if (latest.len == 0)
		return lex_fail(lx, latest.col, "expected the end of the time window after '~'");
	bool latest_relative;
	if (lex_time_point(lx, latest, &latest_relative, &when->latest_ns) < 0)
		return -1;
	if (latest_relative != when->relative)
		return lex_fail(lx, latest.col, "both ends of a time window must be absolute or both relative");
	if (when->latest_ns < when->earliest_ns)
		return lex_fail(lx, t.col, "time window " TOKEN_FMT " ends before it starts", TOKEN_ARG(t));
	when->has_window = true;
	return 0;
}

int lex_duration(struct case_lexer *lx, struct token t, int64_t *ns)
{
	if (t.len > 0 && (t.s[0] == '+' || t.s[0] == '-'))
		return lex_fail(lx, t.col, "expected a duration like 100ms, got " TOKEN_FMT, TOKEN_ARG(t));
	return lex_seconds(lx, t, ns);
}

/* ---- lines ---- */

/* NUL anywhere, other control or non-ASCII bytes outside a comment, or more than 4096 bytes.
 * Also finds where the comment starts. */
static int check_line_bytes(struct case_lexer *lx, const char *comment)
{
	size_t checked = lx->line_len > LINE_MAX_BYTES ? LINE_MAX_BYTES : lx->line_len;
	bool in_comment = false;
	lx->code_len = checked;
	for (size_t i = 0; i < checked; i++) {
		unsigned char b = (unsigned char)lx->line[i];
		if (b == '\0')
			return lex_fail(lx, (int)i + 1, "NUL byte");
		if (in_comment)
			continue;
		if (b == (unsigned char)comment[0] && lx->line_len - i >= strlen(comment) &&
		    memcmp(lx->line + i, comment, strlen(comment)) == 0) {
			in_comment = true;
			lx->code_len = i;
		} else if (b != '\t' && (b < 0x20 || b >= 0x7f)) {
			return lex_fail(lx, (int)i + 1, "invalid byte 0x%02x (only printable ASCII outside comments)", b);
		}
	}
	if (lx->line_len > LINE_MAX_BYTES)
		return lex_fail(lx, LINE_MAX_BYTES + 1, "line too long (max %d bytes)", LINE_MAX_BYTES);
	return 0;
}

static int keep_line(struct case_lexer *lx)
{
	if (lx->line_count == lx->line_capacity) {
		if (lx->line_capacity > INT_MAX / 2)
			return lex_fail(lx, 1, "too many lines");
		int capacity = lx->line_capacity ? 2 * lx->line_capacity : 64;
		char **lines = realloc(lx->lines, (size_t)capacity * sizeof *lines);
		if (!lines)
			return lex_fail(lx, 1, "out of memory");
		lx->lines = lines;
		lx->line_capacity = capacity;
	}
	char *copy = malloc(lx->line_len + 1);
	if (!copy)
		return lex_fail(lx, 1, "out of memory");
	memcpy(copy, lx->line, lx->line_len);
	copy[lx->line_len] = '\0';
	lx->lines[lx->line_count++] = copy;
	return 0;
}
static int lex_start_line(struct case_lexer *lx, const char *line, size_t len, const char *comment)
{
	lx->line = line;
	lx->line_len = len;
	if (lx->line_len > 0 && lx->line[lx->line_len - 1] == '\r')
		lx->line_len--;
	lx->pos = 0;
	lx->code_len = 0;
	lx->line_no++;
	if (check_line_bytes(lx, comment) < 0 || keep_line(lx) < 0)
		return -1;
	return 0;
}

int lex_each_line(struct case_lexer *lx, const char *text, size_t len, const char *comment,
		  int (*parse_line)(void *front_end), void *front_end)
{
	size_t start = 0;
	while (start < len) {
		const char *newline = memchr(text + start, '\n', len - start);
		size_t end = newline ? (size_t)(newline - text) : len;
		if (lex_start_line(lx, text + start, end - start, comment) < 0 || parse_line(front_end) < 0)
			return -1;
		start = end + 1;
	}
	return 0;
}
