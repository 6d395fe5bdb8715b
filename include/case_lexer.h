/* case_lexer.h - the words, numbers, times and addresses of a case file's lines, shared by every
 * notation's front end (.tc, .pkt), and the one `file:line:col: message` diagnostic they all build. */
#ifndef TCPHARNESS_CASE_LEXER_H
#define TCPHARNESS_CASE_LEXER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "case.h"

#define LINE_MAX_BYTES 4096
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

/* The line being read, every line read so far (for diagnostics about earlier lines, and for the
 * case's own copy), and the first error. Zero it, set path, then give it the text with lex_each_line. */
struct case_lexer {
	const char *path;
	const char *line;  /* the current line as read */
	size_t line_len;   /* without '\n' and a trailing '\r' */
	size_t code_len;   /* up to the comment: the only part tokens come from */
	size_t pos;        /* cursor, 0..code_len */
	int line_no;
	char *error;       /* malloc'd; the first diagnostic only */
	/* Instead of an error: the text is valid but asks for what tcpharness cannot do (lex_unsupported).
	 * The front end records it as the case's SKIP reason, clears it and goes on. */
	bool unsupported;
	int unsupported_col;
	char unsupported_what[CASE_UNSUPPORTED_TEXT];
	char **lines;      /* malloc'd copies of the lines read; the front end hands them to the case */
	int line_count;
	int line_capacity;
};

static inline bool char_is_blank(char ch)
{
	return ch == ' ' || ch == '\t';
}

static inline bool char_is_digit(char ch)
{
	return ch >= '0' && ch <= '9';
}

static inline bool char_is_lower(char ch)
{
	return ch >= 'a' && ch <= 'z';
}

/* Makes each line of text (len bytes, any bytes) the current line in turn and calls parse_line(front_end)
 * on it, after checking its bytes (no NUL, only printable ASCII outside the comment that starts at the
 * first `comment` marker, at most LINE_MAX_BYTES) and keeping a copy. Returns 0, or -1 at the first
 * error with lx->error set. */
int lex_each_line(struct case_lexer *lx, const char *text, size_t len, const char *comment,
		  int (*parse_line)(void *front_end), void *front_end);

/* Sets lx->error (unless already set) to `path:line:col: message`, the line and a caret under col.
 * lex_fail is about the current line, lex_fail_at about any line read so far. Both return -1. */
__attribute__((format(printf, 3, 4))) int lex_fail(struct case_lexer *lx, int col, const char *fmt, ...);
__attribute__((format(printf, 3, 4))) int lex_fail_at(struct case_lexer *lx, struct source_location where,
						      const char *fmt, ...);

/* Marks the current statement as valid but unsupported: what names the construct. Returns -1. */
__attribute__((format(printf, 3, 4))) int lex_unsupported(struct case_lexer *lx, int col, const char *fmt, ...);

/* ---- the cursor ---- */
void lex_skip_blanks(struct case_lexer *lx);
int lex_cursor_col(const struct case_lexer *lx);
/* The next character after blanks, or 0 at the end of the statement. */
char lex_peek_char(struct case_lexer *lx);
/* Reads a word that ends at a blank, the end of the statement, or any character in stops (the stop is
 * not consumed). Returns false when the word is empty; t->col then says where one was expected. */
bool lex_next_word(struct case_lexer *lx, const char *stops, struct token *t);
bool lex_next_token(struct case_lexer *lx, struct token *t);
bool lex_peek_token(struct case_lexer *lx, struct token *t);
/* The next token, or -1 with "expected WHAT". */
int lex_require_token(struct case_lexer *lx, struct token *t, const char *what);
/* 0 at the end of the statement, else -1 with "unexpected ...". */
int lex_expect_end(struct case_lexer *lx);

/* ---- tokens ---- */
bool token_is(struct token t, const char *word);
struct token sub_token(struct token t, size_t offset, size_t len);
/* Index of the first ch in t, or t.len. */
size_t token_find(struct token t, char ch);
/* Copies t into dst as a C string; the caller has checked that it fits. */
void token_copy(char *dst, struct token t);
/* The number symbols.h gives the token's name (errno, TCP state), or -1 for no such name. */
int token_symbol(struct token t, int (*from_name)(const char *name));
/* `[a-z][a-z0-9_]{0,max-1}`: peer names and socket handles. */
bool token_is_identifier(struct token t, size_t max);

/* ---- numbers, addresses and times: 0, or -1 with the diagnostic set ---- */
int lex_uint(struct case_lexer *lx, struct token t, uint64_t min, uint64_t max, uint64_t *out);
/* `+N` or `-N`, the sign required: deltas read as deltas. */
int lex_delta(struct case_lexer *lx, struct token t, uint64_t max_magnitude, int64_t *out);
/* A decimal integer with an optional '-', within int range. */
int lex_int(struct case_lexer *lx, struct token t, int *out);
int lex_port(struct case_lexer *lx, struct token t, uint16_t *out);
/* Strict dotted quad: four 0..255 parts without leading zeros, which inet_aton would read as octal. */
int lex_ipv4(struct case_lexer *lx, struct token t, uint32_t *out);
/* `IP:PORT`, or `IP` alone when port_optional (then *port is left alone). */
int lex_endpoint(struct case_lexer *lx, struct token t, bool port_optional, uint32_t *ip, uint16_t *port);
void format_ipv4(uint32_t ip, char out[16]);
/* `0`, `+0.2`, `1.0~1.2`, `+0.9~+1.1`; units s (default), ms, us; 0..3600 s. */
int lex_time(struct case_lexer *lx, struct token t, struct time_spec *when);
/* A plain duration like `100ms`: no '+' and no window. */
int lex_duration(struct case_lexer *lx, struct token t, int64_t *ns);

#endif
