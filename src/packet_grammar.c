/* packet_grammar.c - see packet_grammar.h. Flag letters, the sequence range and option forms follow
 * packetdrill's notation (its README, "TCP packet" lines) so that one grammar serves both notations. */
#include "packet_grammar.h"

#include <string.h>

/* packetdrill's flag letters; '.' is ACK. */
static const char tcp_flag_letters[] = "FSRP.EWU";
static const uint8_t tcp_flag_bits[] = {
	TCP_FLAG_FIN, TCP_FLAG_SYN, TCP_FLAG_RST, TCP_FLAG_PSH,
	TCP_FLAG_ACK, TCP_FLAG_ECE, TCP_FLAG_CWR, TCP_FLAG_URG,
};

static int parse_flags(struct case_lexer *lx, enum packet_notation notation, struct token t, uint8_t *flags)
{
	*flags = 0;
	/* packetdrill writes a segment without any flag as '-' (syntax.md, flags). */
	if (notation == PACKET_NOTATION_PKT && token_is(t, "-"))
		return 0;
	for (size_t i = 0; i < t.len; i++) {
		const char *letter = strchr(tcp_flag_letters, t.s[i]);
		/* packetdrill's AccECN notation (RFC 9768): 'A' is the AE bit, and a digit after the flags
		 * (`.5`) the three-bit ACE counter AE|CWR|ECE; segment_spec has no AE bit. */
		if (!letter && notation == PACKET_NOTATION_PKT && t.s[i] == 'A')
			return lex_unsupported(lx, t.col + (int)i, "the AE flag ('A', AccECN)");
		if (!letter && notation == PACKET_NOTATION_PKT && t.s[i] >= '0' && t.s[i] <= '7')
			return lex_unsupported(lx, t.col + (int)i, "the ACE field ('%c' after the flags, AccECN)", t.s[i]);
		if (!letter)
			return lex_fail(lx, t.col + (int)i, "unknown TCP flag '%c'", t.s[i]);
		uint8_t bit = tcp_flag_bits[letter - tcp_flag_letters];
		if (*flags & bit)
			return lex_fail(lx, t.col + (int)i, "duplicate TCP flag '%c'", t.s[i]);
		*flags |= bit;
	}
	return 0;
}

/* `START:END(LEN)`; END is redundant with START and LEN, so it is a check on the writer. */
static int parse_seq_range(struct case_lexer *lx, bool injected, struct token t, struct segment_spec *spec)
{
	size_t colon = token_find(t, ':');
	size_t paren = token_find(t, '(');
	if (colon == t.len || paren == t.len || paren < colon || t.s[t.len - 1] != ')')
		return lex_fail(lx, t.col, "expected a sequence range START:END(LEN), got " TOKEN_FMT, TOKEN_ARG(t));
	struct token start_token = sub_token(t, 0, colon), end_token = sub_token(t, colon + 1, paren - colon - 1);
	uint64_t start, end, len;
	/* `*:*(LEN)`: a sequence number the case cannot know, such as a RST's that echoes the ack field
	 * of a SYN (zero) in the stack's sequence space. */
	if (token_is(start_token, "*") || token_is(end_token, "*")) {
		if (injected)
			return lex_fail(lx, t.col, "'*' only allowed in expected segments");
		if (!token_is(start_token, "*") || !token_is(end_token, "*"))
			return lex_fail(lx, t.col, "a sequence range with '*' is written *:*(LEN), got " TOKEN_FMT,
					TOKEN_ARG(t));
		if (lex_uint(lx, sub_token(t, paren + 1, t.len - paren - 2), 0, SEGMENT_MAX_PAYLOAD, &len) < 0)
			return -1;
		spec->seq = (struct spec_value){ SPEC_ANY, 0 };
		spec->payload_len = (uint32_t)len;
		return 0;
	}
	if (lex_uint(lx, start_token, 0, UINT32_MAX, &start) < 0 ||
	    lex_uint(lx, end_token, 0, UINT32_MAX, &end) < 0 ||
	    lex_uint(lx, sub_token(t, paren + 1, t.len - paren - 2), 0, SEGMENT_MAX_PAYLOAD, &len) < 0)
		return -1;
	if ((uint32_t)(end - start) != len)
		return lex_fail(lx, t.col, "sequence range " TOKEN_FMT " is inconsistent", TOKEN_ARG(t));
	spec->seq = (struct spec_value){ SPEC_VALUE, (int64_t)start };
	spec->payload_len = (uint32_t)len;
	return 0;
}

/* Which non-literal forms a number in a segment may take besides `*`. */
enum spec_forms { SPEC_FORMS_VALUE = 0, SPEC_FORMS_AUTO = 1, SPEC_FORMS_RELATIVE = 2 };

static int parse_spec_value(struct case_lexer *lx, struct token t, bool injected, uint64_t max, int forms,
			    struct spec_value *out)
{
	if (token_is(t, "*")) {
		if (injected)
			return lex_fail(lx, t.col, "'*' only allowed in expected segments");
		*out = (struct spec_value){ SPEC_ANY, 0 };
		return 0;
	}
	if ((forms & SPEC_FORMS_AUTO) && token_is(t, "auto")) {
		*out = (struct spec_value){ SPEC_AUTO, 0 };
		return 0;
	}
	if (t.len > 0 && (t.s[0] == '+' || t.s[0] == '-')) {
		if (!(forms & SPEC_FORMS_RELATIVE))
			return lex_fail(lx, t.col, "relative value " TOKEN_FMT " only allowed for TS val", TOKEN_ARG(t));
		out->kind = SPEC_RELATIVE;
		return lex_delta(lx, t, max, &out->value);
	}
	uint64_t value;
	if (lex_uint(lx, t, 0, max, &value) < 0)
		return -1;
	*out = (struct spec_value){ SPEC_VALUE, (int64_t)value };
	return 0;
}

/* Where an option's words end: at ',' and at the list's close, '>' (a list) or '}' (a set). */
#define OPTION_STOPS ",>}"

/* The next word inside `<...>` or `{...}`. */
static int option_word(struct case_lexer *lx, const char *what, struct token *t)
{
	if (!lex_next_word(lx, OPTION_STOPS, t))
		return lex_fail(lx, t->col, "expected %s", what);
	return 0;
}

static int parse_option_value(struct case_lexer *lx, const char *what, bool injected, uint64_t max, int forms,
			      struct spec_value *out)
{
	struct token t;
	if (option_word(lx, what, &t) < 0)
		return -1;
	return parse_spec_value(lx, t, injected, max, forms, out);
}

/* `sack L:R [L:R ...]`: 1..4 blocks. */
static int parse_sack_blocks(struct case_lexer *lx, bool injected, struct option_spec *option)
{
	for (;;) {
		char next = lex_peek_char(lx);
		if (next == '\0' || strchr(OPTION_STOPS, next))
			break;
		struct token block;
		lex_next_word(lx, OPTION_STOPS, &block);
		if (option->sack_block_count == SACK_MAX_BLOCKS)
			return lex_fail(lx, block.col, "too many SACK blocks (max %d)", SACK_MAX_BLOCKS);
		size_t colon = token_find(block, ':');
		if (colon == block.len)
			return lex_fail(lx, block.col, "expected a SACK block L:R, got " TOKEN_FMT, TOKEN_ARG(block));
		struct spec_value *edges = &option->v[2 * option->sack_block_count];
		if (parse_spec_value(lx, sub_token(block, 0, colon), injected, UINT32_MAX, SPEC_FORMS_VALUE,
				     &edges[0]) < 0 ||
		    parse_spec_value(lx, sub_token(block, colon + 1, block.len - colon - 1), injected, UINT32_MAX,
				     SPEC_FORMS_VALUE, &edges[1]) < 0)
			return -1;
		option->sack_block_count++;
	}
	if (option->sack_block_count == 0)
		return lex_fail(lx, lex_cursor_col(lx), "expected a SACK block L:R");
	return 0;
}

/* `TS val V ecr E`, where E may be `auto from PEER`. */
static int parse_timestamp_option(struct case_lexer *lx, bool injected, const struct packet_peers *peers,
				  struct option_spec *option)
{
	struct token word;
	if (option_word(lx, "'val'", &word) < 0)
		return -1;
	if (!token_is(word, "val"))
		return lex_fail(lx, word.col, "expected 'val', got " TOKEN_FMT, TOKEN_ARG(word));
	if (parse_option_value(lx, "a TS val", injected, UINT32_MAX, SPEC_FORMS_AUTO | SPEC_FORMS_RELATIVE,
			       &option->v[0]) < 0)
		return -1;
	if (option_word(lx, "'ecr'", &word) < 0)
		return -1;
	if (!token_is(word, "ecr"))
		return lex_fail(lx, word.col, "expected 'ecr', got " TOKEN_FMT, TOKEN_ARG(word));
	if (parse_option_value(lx, "a TS ecr", injected, UINT32_MAX, SPEC_FORMS_AUTO, &option->v[1]) < 0)
		return -1;
	size_t before = lx->pos;
	if (option->v[1].kind != SPEC_AUTO || !lex_next_word(lx, OPTION_STOPS, &word) || !token_is(word, "from")) {
		lx->pos = before;
		return 0;
	}
	struct token name;
	if (option_word(lx, "a peer name after 'from'", &name) < 0)
		return -1;
	int index = peers ? peers->index(peers->context, name) : -1;
	if (index < 0)
		return lex_fail(lx, name.col, "'ecr auto from' names no declared peer: " TOKEN_FMT, TOKEN_ARG(name));
	option->v[1].value = index + 1;
	return 0;
}

static int hex_digit(char ch)
{
	if (char_is_digit(ch))
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* `FO [COOKIE]`, `FOEXP [COOKIE]` (packetdrill's parser.y, tcp_option): the cookie in hex, an even
 * number of digits; no cookie is a cookie request. The length is not held to RFC 7413's 4..16
 * bytes: a script may inject a malformed cookie, as packetdrill lets it (segment.h). */
static int parse_fast_open_cookie(struct case_lexer *lx, enum packet_notation notation, struct option_spec *option)
{
	char next = lex_peek_char(lx);
	if (next == '\0' || strchr(OPTION_STOPS, next))
		return 0;
	struct token cookie;
	lex_next_word(lx, OPTION_STOPS, &cookie);
	/* packetdrill's runner defines TFO_COOKIE as the cookie the kernel makes for the script's two
	 * addresses (run_all.py, -D TFO_COOKIE=...): here, for the run's. */
	if (notation == PACKET_NOTATION_PKT && token_is(cookie, "TFO_COOKIE")) {
		option->stack_cookie = true;
		return 0;
	}
	bool hex = cookie.len % 2 == 0;
	for (size_t i = 0; hex && i < cookie.len; i++)
		hex = hex_digit(cookie.s[i]) >= 0;
	if (!hex && !char_is_digit(cookie.s[0]))
		return lex_unsupported(lx, cookie.col, "a Fast Open cookie named " TOKEN_FMT " (a -D define)",
				       TOKEN_ARG(cookie));
	if (!hex)
		return lex_fail(lx, cookie.col, "a Fast Open cookie is an even number of hex digits, got " TOKEN_FMT,
				TOKEN_ARG(cookie));
	if (cookie.len / 2 > TCP_FAST_OPEN_COOKIE_MAX)
		return lex_fail(lx, cookie.col, "a Fast Open cookie is at most %d bytes (the option space)",
				TCP_FAST_OPEN_COOKIE_MAX);
	option->cookie_len = (uint8_t)(cookie.len / 2);
	for (size_t i = 0; i < option->cookie_len; i++)
		option->cookie[i] = (uint8_t)(hex_digit(cookie.s[2 * i]) << 4 | hex_digit(cookie.s[2 * i + 1]));
	return 0;
}

static int parse_option(struct case_lexer *lx, enum packet_notation notation, struct token name, bool injected,
			const struct packet_peers *peers, struct option_spec *option)
{
	if (token_is(name, "nop")) {
		option->kind = TCP_OPTION_NOP;
	} else if (token_is(name, "eol")) {
		option->kind = TCP_OPTION_EOL;
	} else if (token_is(name, "sackOK")) {
		option->kind = TCP_OPTION_SACK_PERMITTED;
	} else if (token_is(name, "mss")) {
		option->kind = TCP_OPTION_MSS;
		return parse_option_value(lx, "an mss value", injected, UINT16_MAX, SPEC_FORMS_VALUE, &option->v[0]);
	} else if (token_is(name, "wscale")) {
		option->kind = TCP_OPTION_WSCALE;
		/* RFC 7323 2.3: a shift count above 14 is not meaningful. */
		return parse_option_value(lx, "a wscale value", injected, 14, SPEC_FORMS_VALUE, &option->v[0]);
	} else if (token_is(name, "sack")) {
		option->kind = TCP_OPTION_SACK;
		return parse_sack_blocks(lx, injected, option);
	} else if (token_is(name, "TS")) {
		option->kind = TCP_OPTION_TIMESTAMP;
		return parse_timestamp_option(lx, injected, peers, option);
	} else if (token_is(name, "FO")) {
		option->kind = TCP_OPTION_FAST_OPEN;
		return parse_fast_open_cookie(lx, notation, option);
	} else if (token_is(name, "FOEXP")) {
		option->kind = TCP_OPTION_EXPERIMENTAL;
		option->v[0] = (struct spec_value){ SPEC_VALUE, TCP_FAST_OPEN_EXP_MAGIC };
		return parse_fast_open_cookie(lx, notation, option);
	} else if (notation == PACKET_NOTATION_PKT) {
		/* packetdrill also writes ECN (AccECN) and md5, which segment_spec cannot carry. */
		return lex_unsupported(lx, name.col, "TCP option " TOKEN_FMT, TOKEN_ARG(name));
	} else {
		return lex_fail(lx, name.col, "unknown TCP option " TOKEN_FMT, TOKEN_ARG(name));
	}
	return 0;
}

/* `<opt, opt, ...>` with the cursor on '<' (`<>`: no options), or the set `{opt, opt, ...}` with the
 * cursor on '{': the same options in any order with any nop/eol padding (segment.h). */
static int parse_options(struct case_lexer *lx, enum packet_notation notation, bool injected,
			 const struct packet_peers *peers, struct segment_spec *spec)
{
	int open_col = lex_cursor_col(lx);
	char close = lex_peek_char(lx) == '{' ? '}' : '>';
	spec->options_as_set = close == '}';
	if (spec->options_as_set && injected)
		return lex_fail(lx, open_col, "an option set {...} matches the stack's options in any order; "
			    "an injected segment's options need theirs: write <...>");
	lx->pos++;
	spec->has_options = true;
	if (lex_peek_char(lx) == close) {
		lx->pos++;
		return 0;
	}
	/* packetdrill's `<...>`: any options at all (its parser.y, opt_tcp_options). */
	if (notation == PACKET_NOTATION_PKT && close == '>' && lx->code_len - lx->pos >= 4 &&
	    memcmp(lx->line + lx->pos, "...", 3) == 0) {
		int col = lex_cursor_col(lx);
		lx->pos += 3;
		if (lex_peek_char(lx) != '>')
			return lex_fail(lx, lex_cursor_col(lx), "expected '>' after '<...'");
		lx->pos++;
		if (injected)
			return lex_fail(lx, col, "'<...>' only allowed in expected segments");
		spec->has_options = false;
		return 0;
	}
	for (;;) {
		struct token name;
		if (option_word(lx, "a TCP option", &name) < 0)
			return -1;
		if (spec->option_count == SEGMENT_MAX_OPTIONS)
			return lex_fail(lx, name.col, "too many TCP options (max %d)", SEGMENT_MAX_OPTIONS);
		struct option_spec *option = &spec->options[spec->option_count++];
		if (parse_option(lx, notation, name, injected, peers, option) < 0)
			return -1;
		if (spec->options_as_set && (option->kind == TCP_OPTION_NOP || option->kind == TCP_OPTION_EOL))
			return lex_fail(lx, name.col, "padding is free in an option set {...}: leave out " TOKEN_FMT,
					TOKEN_ARG(name));
		char next = lex_peek_char(lx);
		if (next == ',' || next == close) {
			lx->pos++;
			if (next == close)
				return 0;
			continue;
		}
		if (next == '\0')
			return lex_fail(lx, lex_cursor_col(lx), "expected ',' or '%c' after a TCP option", close);
		if (strchr(OPTION_STOPS, next)) /* the other kind of list's close: `{mss 1460>` */
			return lex_fail(lx, lex_cursor_col(lx), "expected ',' or '%c' after a TCP option, got '%c'",
					close, next);
		struct token extra;
		lex_next_word(lx, OPTION_STOPS, &extra);
		return lex_fail(lx, extra.col, "expected ',' or '%c' after a TCP option, got " TOKEN_FMT, close,
				TOKEN_ARG(extra));
	}
}

int packet_parse_segment(struct case_lexer *lx, enum packet_notation notation, bool injected,
			 const struct packet_peers *peers, struct segment_spec *spec)
{
	struct token t;
	/* packetdrill checks that an expected segment without `<...>` carries no options at all. */
	spec->has_options = notation == PACKET_NOTATION_PKT;
	if (lex_require_token(lx, &t, "TCP flags") < 0 || parse_flags(lx, notation, t, &spec->flags) < 0)
		return -1;
	if (lex_require_token(lx, &t, "a sequence range START:END(LEN)") < 0)
		return -1;
	/* `old`: a SYN from the stack written in the previous incarnation's numbers (.tc notation). */
	if (notation == PACKET_NOTATION_TC && token_is(t, "old")) {
		if (injected)
			return lex_fail(lx, t.col, "'old' only numbers a SYN the stack sends, not an injected segment");
		if (!(spec->flags & TCP_FLAG_SYN))
			return lex_fail(lx, t.col, "'old' numbers only a SYN's sequence (its ISN in the previous "
				    "incarnation's numbers); this segment has no S flag");
		spec->seq_in_old_numbers = true;
		if (lex_require_token(lx, &t, "a sequence range START:END(LEN) after 'old'") < 0)
			return -1;
	}
	if (parse_seq_range(lx, injected, t, spec) < 0)
		return -1;
	for (;;) {
		char next = lex_peek_char(lx);
		if (next == '\0')
			return 0;
		/* The option set `{...}` is the .tc notation's own; packetdrill has none. */
		if (next == '<' || (next == '{' && notation == PACKET_NOTATION_TC)) {
			if (parse_options(lx, notation, injected, peers, spec) < 0)
				return -1;
			return lex_expect_end(lx);
		}
		lex_next_token(lx, &t);
		struct spec_value *field;
		uint64_t max;
		if (token_is(t, "ack")) {
			field = &spec->ack;
			max = UINT32_MAX;
		} else if (token_is(t, "win")) {
			field = &spec->win;
			max = UINT16_MAX;
		} else if (notation == PACKET_NOTATION_PKT && token_is(t, "urg")) {
			return lex_unsupported(lx, t.col, "the urgent pointer ('urg')");
		} else {
			return lex_fail(lx, t.col, "unexpected " TOKEN_FMT " in a segment (expected ack, win or <options>)",
				    TOKEN_ARG(t));
		}
		if (field->kind != SPEC_UNSET)
			return lex_fail(lx, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		struct token value;
		if (lex_require_token(lx, &value, "a number") < 0)
			return -1;
		/* DESIGN 3 promises `auto` for ack one day; until then say so rather than "expected a number". */
		if (field == &spec->ack && token_is(value, "auto"))
			return lex_fail(lx, value.col, "'ack auto' is not supported");
		if (parse_spec_value(lx, value, injected, max, SPEC_FORMS_VALUE, field) < 0)
			return -1;
	}
}