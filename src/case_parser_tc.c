/* case_parser_tc.c - see case_notation.h: the .tc front end (DESIGN section 3).
 * One line at a time: parse it as a header statement or a step, in the lexer's current line. */
#include "case_notation.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "ip_address.h"
#include "packet_grammar.h"
#include "symbols.h"

#define NS_PER_S 1000000000LL
#define APP_DEFAULT_TIMEOUT_NS (2 * NS_PER_S)
#define APP_DEFAULT_BACKLOG 128
#define PEER_NAME_MAX 16
#define VARIANT_NAME_MAX (CASE_NAME_MAX - 1)
#define COUNTER_NAME_MAX 63

struct parser {
	struct case_lexer *lx;
	struct case_file *c;
	bool in_steps;     /* a step was seen: the header is closed */
	bool has_target;
	bool has_family;
	struct source_location peer_ip_where[CASE_MAX_PEERS];
	bool requires_option;
	struct source_location require_option_where; /* the first `require option`: it needs a peer */
};

/* ---- packet events ---- */

/* After `<` or `>`: an injected segment, an expected one, or `none [within T]`. */
static int parse_packet_event(struct parser *p, struct token direction, struct step *s)
{
	if (token_is(direction, "<")) {
		s->kind = STEP_INJECT;
		return packet_parse_segment(p->lx, PACKET_NOTATION_TC, true, &s->u.segment);
	}
	struct token t;
	if (lex_peek_token(p->lx, &t) && token_is(t, "none")) {
		lex_next_token(p->lx, &t);
		s->kind = STEP_EXPECT_NONE;
		s->u.none_window_ns = 0;
		if (lex_next_token(p->lx, &t)) {
			if (!token_is(t, "within"))
				return lex_fail(p->lx, t.col, "expected 'within' after 'none', got " TOKEN_FMT, TOKEN_ARG(t));
			if (lex_require_token(p->lx, &t, "a duration") < 0 ||
			    lex_duration(p->lx, t, &s->u.none_window_ns) < 0)
				return -1;
		}
		return lex_expect_end(p->lx);
	}
	s->kind = STEP_EXPECT_SEGMENT;
	return packet_parse_segment(p->lx, PACKET_NOTATION_TC, false, &s->u.segment);
}

/* ---- app calls ---- */

static int parse_app_bind(struct parser *p, struct app_call *call)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "IP:PORT or PORT") < 0)
		return -1;
	if (token_find(t, ':') < t.len)
		return lex_endpoint(p->lx, t, false, &call->ip, &call->port);
	return lex_port(p->lx, t, &call->port);
}

static int parse_app_listen(struct parser *p, struct app_call *call)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "a port") < 0 || lex_port(p->lx, t, &call->port) < 0)
		return -1;
	call->backlog = APP_DEFAULT_BACKLOG;
	if (!lex_peek_token(p->lx, &t) || !token_is(t, "backlog"))
		return 0;
	lex_next_token(p->lx, &t);
	uint64_t backlog;
	if (lex_require_token(p->lx, &t, "a backlog") < 0 || lex_uint(p->lx, t, 0, UINT16_MAX, &backlog) < 0)
		return -1;
	call->backlog = (int)backlog;
	return 0;
}

/* `[from L]`: the listener a call takes connections from, "lsn" when not given. */
static int parse_listener(struct parser *p, char listener[CASE_NAME_MAX])
{
	struct token t;
	strcpy(listener, "lsn");
	if (!lex_peek_token(p->lx, &t) || !token_is(t, "from"))
		return 0;
	lex_next_token(p->lx, &t);
	if (lex_require_token(p->lx, &t, "a listener handle") < 0)
		return -1;
	if (!token_is_identifier(t, PEER_NAME_MAX))
		return lex_fail(p->lx, t.col, "invalid handle " TOKEN_FMT " (expected [a-z][a-z0-9_]{0,15})", TOKEN_ARG(t));
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
	if (lex_require_token(p->lx, &t, "IP:PORT") < 0)
		return -1;
	return lex_endpoint(p->lx, t, false, &call->ip, &call->port);
}

static int parse_app_length(struct parser *p, struct app_call *call)
{
	struct token t;
	uint64_t length;
	if (lex_require_token(p->lx, &t, "a byte count") < 0 ||
	    lex_uint(p->lx, t, 1, SEGMENT_MAX_PAYLOAD, &length) < 0)
		return -1;
	call->length = (uint32_t)length;
	return 0;
}

static int parse_app_shutdown(struct parser *p, struct app_call *call)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "rd, wr or rdwr") < 0)
		return -1;
	if (token_is(t, "rd"))
		call->shutdown_how = SHUT_RD;
	else if (token_is(t, "wr"))
		call->shutdown_how = SHUT_WR;
	else if (token_is(t, "rdwr"))
		call->shutdown_how = SHUT_RDWR;
	else
		return lex_fail(p->lx, t.col, "expected rd, wr or rdwr, got " TOKEN_FMT, TOKEN_ARG(t));
	return 0;
}

static int parse_sockopt_name(struct parser *p, struct app_call *call, const struct sockopt_symbol **symbol)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "a socket option name") < 0)
		return -1;
	*symbol = NULL;
	if (t.len < sizeof call->option) {
		token_copy(call->option, t);
		*symbol = sockopt_by_name(call->option);
	}
	if (!*symbol)
		return lex_fail(p->lx, t.col, "unknown socket option " TOKEN_FMT, TOKEN_ARG(t));
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
		if (!lex_next_token(p->lx, &t) || token_is(t, "="))
			return lex_fail(p->lx, t.col, "%s takes %d value%s", symbol->name, symbol->value_count, plural);
		if (lex_int(p->lx, t, &call->values[call->value_count]) < 0)
			return -1;
	}
	if (lex_peek_token(p->lx, &t) && !token_is(t, "="))
		return lex_fail(p->lx, t.col, "%s takes %d value%s", symbol->name, symbol->value_count, plural);
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
	if (!token_is_identifier(t, PEER_NAME_MAX) || token_is(t, "within"))
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
	if (lex_require_token(p->lx, &t, "a result after '='") < 0)
		return -1;
	if (token_is(t, "*")) {
		call->expect = APP_EXPECT_ANY;
		return 0;
	}
	if (char_is_digit(t.s[0]) || t.s[0] == '-') {
		int value;
		if (lex_int(p->lx, t, &value) < 0)
			return -1;
		call->expect = APP_EXPECT_VALUE;
		call->expect_value = value;
		return 0;
	}
	int err = token_symbol(t, errno_from_name);
	if (err < 0)
		return lex_fail(p->lx, t.col, "unknown errno name " TOKEN_FMT, TOKEN_ARG(t));
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
	if (lex_require_token(p->lx, &t, "an app call") < 0)
		return -1;
	const struct app_syntax *syntax = NULL;
	for (size_t i = 0; i < sizeof app_syntaxes / sizeof app_syntaxes[0]; i++)
		if (token_is(t, app_syntaxes[i].name))
			syntax = &app_syntaxes[i];
	if (!syntax)
		return lex_fail(p->lx, t.col, "unknown app call " TOKEN_FMT, TOKEN_ARG(t));

	call->op = syntax->op;
	strcpy(call->handle, syntax->default_handle);
	call->timeout_ns = syntax->blocking ? APP_DEFAULT_TIMEOUT_NS : 0;
	call->expect = APP_EXPECT_SUCCESS;
	if (lex_peek_token(p->lx, &t) && is_handle(syntax, t)) {
		lex_next_token(p->lx, &t);
		token_copy(call->handle, t);
	}
	if (syntax->parse_arguments(p, call) < 0)
		return -1;

	if (lex_peek_token(p->lx, &t) && token_is(t, "within")) {
		lex_next_token(p->lx, &t);
		if (!syntax->blocking)
			return lex_fail(p->lx, t.col, "'within' only applies to accept, connected and recv");
		if (lex_require_token(p->lx, &t, "a duration") < 0 ||
		    lex_duration(p->lx, t, &call->timeout_ns) < 0)
			return -1;
	}
	if (lex_peek_token(p->lx, &t) && token_is(t, "=")) {
		lex_next_token(p->lx, &t);
		if (parse_app_result(p, call) < 0)
			return -1;
	}
	return lex_expect_end(p->lx);
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
	if (lex_require_token(p->lx, &a, "a peer name") < 0 ||
	    lex_require_token(p->lx, &b, "a second peer name") < 0)
		return -1;
	names[0] = a;
	names[1] = b;
	for (int i = 0; i < 2; i++) {
		peers[i] = peer_index(p->c, names[i]);
		if (peers[i] < 0)
			return lex_fail(p->lx, names[i].col, "unknown peer " TOKEN_FMT, TOKEN_ARG(names[i]));
	}
	if (peers[0] == peers[1])
		return lex_fail(p->lx, b.col, "'expect clock' compares two different peers");
	if (lex_require_token(p->lx, &how, "'same' or 'offset'") < 0)
		return -1;
	if (!token_is(how, "same") && !token_is(how, "offset"))
		return lex_fail(p->lx, how.col, "expected 'same' or 'offset', got " TOKEN_FMT, TOKEN_ARG(how));
	s->kind = STEP_EXPECT_CLOCK;
	s->peer = peers[0];
	s->u.clock.other_peer = peers[1];
	s->u.clock.same = token_is(how, "same");
	return lex_expect_end(p->lx);
}

/* `timer A~B` after `expect state NAME`: both ends durations, A <= B. */
static int parse_timer_window(struct parser *p, struct step *s)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "a timer window like 59~60") < 0)
		return -1;
	size_t tilde = token_find(t, '~');
	if (tilde == t.len || tilde == 0 || tilde == t.len - 1)
		return lex_fail(p->lx, t.col, "expected a timer window like 59~60, got " TOKEN_FMT, TOKEN_ARG(t));
	if (lex_duration(p->lx, sub_token(t, 0, tilde), &s->u.expected.timer_min_ns) < 0 ||
	    lex_duration(p->lx, sub_token(t, tilde + 1, t.len - tilde - 1), &s->u.expected.timer_max_ns) < 0)
		return -1;
	if (s->u.expected.timer_max_ns < s->u.expected.timer_min_ns)
		return lex_fail(p->lx, t.col, "timer window " TOKEN_FMT " ends before it starts", TOKEN_ARG(t));
	s->u.expected.check_timer = true;
	return 0;
}

/* A MIB counter's name, bare (`PAWSEstab`) or with its group (`TcpExt.PAWSEstab`). */
static int parse_counter_name(struct parser *p, char name[COUNTER_NAME_MAX + 1])
{
	struct token t;
	if (lex_require_token(p->lx, &t, "a counter name") < 0)
		return -1;
	bool valid = t.len <= COUNTER_NAME_MAX;
	for (size_t i = 0; valid && i < t.len; i++)
		valid = char_is_lower(t.s[i]) || (t.s[i] >= 'A' && t.s[i] <= 'Z') || char_is_digit(t.s[i]) ||
			t.s[i] == '_' || t.s[i] == '.';
	if (!valid)
		return lex_fail(p->lx, t.col, "invalid counter name " TOKEN_FMT, TOKEN_ARG(t));
	token_copy(name, t);
	return 0;
}

/* `for T` after an `expect state` or `expect counter`: the expectation holds over T, a quiet period. */
static int parse_hold(struct parser *p, struct step *s)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "a duration like 500ms") < 0 || lex_duration(p->lx, t, &s->hold_ns) < 0)
		return -1;
	if (s->hold_ns == 0)
		return lex_fail(p->lx, t.col, "'for' takes a duration longer than 0");
	return lex_expect_end(p->lx);
}

static int parse_expect(struct parser *p, struct token expect, bool has_peer, struct step *s)
{
	struct token what, t;
	if (lex_require_token(p->lx, &what, "'state', 'counter' or 'clock'") < 0)
		return -1;
	if (token_is(what, "state")) {
		if (!has_peer) {
			if (p->c->peer_count == 0)
				return lex_fail(p->lx, expect.col, "no peer declared");
			if (p->c->peer_count > 1)
				return lex_fail(p->lx, expect.col, "several peers declared; name the peer before 'expect'");
			s->peer = 0;
		}
		if (lex_require_token(p->lx, &t, "a TCP state") < 0)
			return -1;
		int state = token_symbol(t, tcp_state_from_name);
		if (state < 0)
			return lex_fail(p->lx, t.col, "unknown TCP state " TOKEN_FMT, TOKEN_ARG(t));
		s->kind = STEP_EXPECT_STATE;
		s->u.expected.state = state;
		if (!lex_next_token(p->lx, &t))
			return 0;
		if (token_is(t, "for"))
			return parse_hold(p, s);
		if (!token_is(t, "timer"))
			return lex_fail(p->lx, t.col, "expected 'timer', 'for' or the end of the line, got " TOKEN_FMT,
					TOKEN_ARG(t));
		if (parse_timer_window(p, s) < 0)
			return -1;
		if (!lex_next_token(p->lx, &t))
			return 0;
		if (!token_is(t, "for"))
			return lex_fail(p->lx, t.col, "expected 'for' or the end of the line, got " TOKEN_FMT, TOKEN_ARG(t));
		return parse_hold(p, s);
	}
	if (token_is(what, "clock"))
		return has_peer ? lex_fail(p->lx, what.col, "'expect clock' names its two peers after 'clock'")
				: parse_expect_clock(p, s);
	if (!token_is(what, "counter"))
		return lex_fail(p->lx, what.col, "expected 'state', 'counter' or 'clock', got " TOKEN_FMT, TOKEN_ARG(what));
	if (has_peer)
		return lex_fail(p->lx, what.col, "'expect counter' takes no peer (counters are per namespace)");
	if (parse_counter_name(p, s->u.counter.name) < 0)
		return -1;
	s->kind = STEP_EXPECT_COUNTER;
	if (lex_require_token(p->lx, &t, "a counter delta like +1, -1 or 0") < 0)
		return -1;
	if (token_is(t, "0"))
		s->u.counter.delta = 0;
	else if (lex_delta(p->lx, t, INT64_MAX, &s->u.counter.delta) < 0)
		return -1;
	if (!lex_next_token(p->lx, &t))
		return 0;
	if (!token_is(t, "for"))
		return lex_fail(p->lx, t.col, "expected 'for' or the end of the line, got " TOKEN_FMT, TOKEN_ARG(t));
	return parse_hold(p, s);
}

/* `c incarnation [seq ±N] [ts ±N]`. */
static int parse_incarnation(struct parser *p, struct step *s)
{
	struct token t;
	bool seen_seq = false, seen_ts = false;
	s->kind = STEP_INCARNATION;
	while (lex_next_token(p->lx, &t)) {
		int64_t *delta;
		bool *seen;
		if (token_is(t, "seq")) {
			delta = &s->u.incarnation.seq_delta;
			seen = &seen_seq;
		} else if (token_is(t, "ts")) {
			delta = &s->u.incarnation.ts_delta;
			seen = &seen_ts;
		} else {
			return lex_fail(p->lx, t.col, "expected 'seq' or 'ts', got " TOKEN_FMT, TOKEN_ARG(t));
		}
		if (*seen)
			return lex_fail(p->lx, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		*seen = true;
		if (lex_require_token(p->lx, &t, "a signed number like +1 or -1") < 0 ||
		    lex_delta(p->lx, t, UINT32_MAX, delta) < 0)
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
	if (lex_require_token(p->lx, &t, "a number of connections") < 0 ||
	    lex_uint(p->lx, t, 1, CASE_STORM_MAX, &count) < 0)
		return -1;
	if (peer->port + count - 1 > UINT16_MAX)
		return lex_fail(p->lx, t.col, "%" PRIu64 " connections from port %u run past port 65535", count, peer->port);
	s->u.storm.count = (uint32_t)count;
	if (parse_listener(p, s->u.storm.listener) < 0)
		return -1;
	return lex_expect_end(p->lx);
}

static int parse_tsclock_jump(struct parser *p, struct step *s)
{
	struct token t;
	s->kind = STEP_TSCLOCK_JUMP;
	if (lex_require_token(p->lx, &t, "a signed number like +1 or -1") < 0 ||
	    lex_delta(p->lx, t, UINT32_MAX, &s->u.ts_jump) < 0)
		return -1;
	return lex_expect_end(p->lx);
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
	if (lex_require_token(p->lx, &t, "'<', '>', 'expect', 'incarnation', 'tsclock' or 'storm'") < 0)
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
	return lex_fail(p->lx, t.col, "expected '<', '>', 'expect', 'incarnation', 'tsclock' or 'storm', got " TOKEN_FMT,
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
		return lex_expect_end(p->lx);
	}
	if (token_is(event, "<") || token_is(event, ">")) {
		/* packetdrill writes packet lines without a peer: fine while there is only one. */
		if (p->c->peer_count == 0)
			return lex_fail(p->lx, event.col, "no peer declared");
		if (p->c->peer_count > 1)
			return lex_fail(p->lx, event.col, "several peers declared; name the peer before " TOKEN_FMT,
				    TOKEN_ARG(event));
		s->peer = 0;
		return parse_packet_event(p, event, s);
	}
	s->peer = peer_index(p->c, event);
	if (s->peer >= 0)
		return parse_peer_event(p, s);
	struct token next;
	if (token_is_identifier(event, PEER_NAME_MAX) && lex_peek_token(p->lx, &next) && is_peer_event_word(next))
		return lex_fail(p->lx, event.col, "unknown peer " TOKEN_FMT, TOKEN_ARG(event));
	return lex_fail(p->lx, event.col, "unknown event " TOKEN_FMT, TOKEN_ARG(event));
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
	return char_is_lower(ch) || char_is_digit(ch) || ch == '_' || ch == '-';
}

/* `<4.13`, `>=5.4`, `=6.1.0` after a stack name: the releases a per-kernel line is about. */
static int parse_release_bound(struct parser *p, struct token bound, struct release_bound *out)
{
	static const struct {
		const char *text;
		enum release_op op;
	} ops[] = { { "<=", RELEASE_LE }, { ">=", RELEASE_GE }, { "<", RELEASE_LT }, { ">", RELEASE_GT }, { "=", RELEASE_EQ } };
	size_t op_len = 0;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0] && !op_len; i++)
		if (bound.len >= strlen(ops[i].text) && strncmp(bound.s, ops[i].text, strlen(ops[i].text)) == 0) {
			out->op = ops[i].op;
			op_len = strlen(ops[i].text);
		}
	struct token release = { bound.s + op_len, bound.len - op_len, bound.col + (int)op_len };
	size_t used = release_scan(release.s, release.len, &out->release);
	if (used == 0 || used != release.len)
		return lex_fail(p->lx, release.col, "expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got " TOKEN_FMT,
				TOKEN_ARG(release));
	return 0;
}

static bool same_bound(const struct release_bound *a, const struct release_bound *b)
{
	return a->op == b->op && a->release == b->release;
}

/* A stack list whose names are all address families (`{ipv6}`, `{!mapped}`) selects families instead:
 * the step's skipped_families, and no stacks. One naming both is refused. */
static int stacks_to_families(struct parser *p, struct step *s, int col)
{
	unsigned named = 0;
	int families = 0;
	for (int i = 0; i < s->stack_count; i++) {
		int f = strcmp(s->stacks[i], "4") && strcmp(s->stacks[i], "6") ? family_from_name(s->stacks[i]) : -1;
		if (f >= 0 && s->stack_bounds[i].op != RELEASE_ANY)
			return lex_fail(p->lx, col, "an address family has no release bound");
		if (f >= 0) {
			named |= 1u << f;
			families++;
		}
	}
	if (families == 0)
		return 0;
	if (families != s->stack_count)
		return lex_fail(p->lx, col, "a prefix names stacks or address families, not both");
	s->skipped_families = s->stacks_negated ? named : FAMILY_ALL & ~named;
	s->stack_count = 0;
	s->stacks_negated = false;
	return 0;
}

/* `{name,...}` or `{!name,...}` with the cursor on '{'; a stack name may carry a release bound
 * (`{linux<4.13}`). */
static int parse_stack_prefix(struct parser *p, struct step *s)
{
	int col = lex_cursor_col(p->lx);
	p->lx->pos++;
	if (lex_peek_char(p->lx) == '!') {
		s->stacks_negated = true;
		p->lx->pos++;
	}
	for (;;) {
		struct token name;
		if (!lex_next_word(p->lx, ",}", &name))
			return lex_fail(p->lx, name.col, "expected a stack name");
		struct token bound = { name.s + name.len, 0, name.col + (int)name.len };
		for (size_t i = 0; i < name.len; i++)
			if (strchr("<>=", name.s[i])) {
				bound = (struct token){ name.s + i, name.len - i, name.col + (int)i };
				name.len = i;
				break;
			}
		if (name.len == 0)
			return lex_fail(p->lx, name.col, "expected a stack name before the release bound");
		for (size_t i = 0; i < name.len; i++)
			if (!is_stack_name_char(name.s[i]))
				return lex_fail(p->lx, name.col + (int)i, "invalid character '%c' in stack name (expected [a-z0-9_-])",
					    name.s[i]);
		if (name.len >= CASE_STACK_NAME_MAX)
			return lex_fail(p->lx, name.col, "stack name too long (max %d bytes)", CASE_STACK_NAME_MAX - 1);
		if (s->stack_count == CASE_MAX_STACKS)
			return lex_fail(p->lx, name.col, "too many stacks (max %d)", CASE_MAX_STACKS);
		struct release_bound *b = &s->stack_bounds[s->stack_count];
		*b = (struct release_bound){ RELEASE_ANY, 0 };
		if (bound.len && parse_release_bound(p, bound, b) < 0)
			return -1;
		for (int i = 0; i < s->stack_count; i++)
			if (token_is(name, s->stacks[i]) && same_bound(b, &s->stack_bounds[i]))
				return lex_fail(p->lx, name.col, "duplicate stack " TOKEN_FMT, TOKEN_ARG(name));
		token_copy(s->stacks[s->stack_count++], name);
		char next = lex_peek_char(p->lx);
		if (next == ',' || next == '}') {
			p->lx->pos++;
			if (next == '}')
				return stacks_to_families(p, s, col);
			continue;
		}
		return lex_fail(p->lx, lex_cursor_col(p->lx), "expected ',' or '}' in the stack list");
	}
}

/* `[name]` or `[name1,name2]` with the cursor on '['. */
static int parse_variant_prefix(struct parser *p, uint32_t *mask)
{
	p->lx->pos++;
	*mask = 0;
	for (;;) {
		struct token name;
		if (!lex_next_word(p->lx, ",]", &name))
			return lex_fail(p->lx, name.col, "expected a variant name");
		int index = variant_index_of(p->c, name);
		if (index < 0)
			return lex_fail(p->lx, name.col, "unknown variant " TOKEN_FMT, TOKEN_ARG(name));
		*mask |= 1u << index;
		char next = lex_peek_char(p->lx);
		if (next == ',' || next == ']') {
			p->lx->pos++;
			if (next == ']')
				return 0;
			continue;
		}
		return lex_fail(p->lx, lex_cursor_col(p->lx), "expected ',' or ']' in the variant list");
	}
}

/* `[VARIANTS] {STACKS} TIME EVENT`, both prefixes optional. */
static int parse_step(struct parser *p, struct token first)
{
	struct step s;
	memset(&s, 0, sizeof s);
	s.variant_mask = ~0u;
	s.peer = -1;
	s.line_index = p->lx->line_no - 1;
	p->lx->pos = (size_t)first.col - 1;
	if (lex_peek_char(p->lx) == '[' && parse_variant_prefix(p, &s.variant_mask) < 0)
		return -1;
	if (lex_peek_char(p->lx) == '{' && parse_stack_prefix(p, &s) < 0)
		return -1;
	struct token t;
	if (lex_require_token(p->lx, &t, "a time") < 0)
		return -1;
	if (t.s[0] == '[')
		return lex_fail(p->lx, t.col, "the [variant] prefix comes before the {stack} prefix");
	if (lex_time(p->lx, t, &s.when) < 0 || lex_require_token(p->lx, &t, "an event after the time") < 0)
		return -1;
	struct token outcome_word = t;
	if (token_is(t, "outcome")) {
		s.outcome = true;
		if (lex_require_token(p->lx, &t, "an observation after 'outcome'") < 0)
			return -1;
	}
	s.where = (struct source_location){ p->lx->line_no, t.col };
	if (parse_event(p, t, &s) < 0)
		return -1;
	bool observes = s.kind == STEP_EXPECT_SEGMENT || s.kind == STEP_EXPECT_NONE || s.kind == STEP_APP ||
			s.kind == STEP_EXPECT_STATE || s.kind == STEP_EXPECT_COUNTER || s.kind == STEP_EXPECT_CLOCK;
	if (s.outcome && !observes)
		return lex_fail(p->lx, outcome_word.col,
			    "'outcome' marks an observation ('>' line, app call or expect), not this event");
	if (s.stack_count)
		p->c->per_stack = true;
	return case_append_step(p->lx, p->c, &s);
}

/* ---- header statements ---- */

/* KEY: [a-z0-9_.-]{1,127}, starting with "net.", no "..", no trailing '.'. */
static int parse_sysctl_key(struct parser *p, struct token key, char out[SYSCTL_KEY_MAX])
{
	for (size_t i = 0; i < key.len; i++) {
		char ch = key.s[i];
		if (!char_is_lower(ch) && !char_is_digit(ch) && ch != '_' && ch != '.' && ch != '-')
			return lex_fail(p->lx, key.col + (int)i, "invalid character '%c' in sysctl key", ch);
	}
	if (key.len == 0)
		return lex_fail(p->lx, key.col, "empty sysctl key");
	if (key.len >= SYSCTL_KEY_MAX)
		return lex_fail(p->lx, key.col, "sysctl key too long (max %d bytes)", SYSCTL_KEY_MAX - 1);
	/* Only per-namespace net sysctls: anything else would reach the host. */
	if (key.len < 4 || memcmp(key.s, "net.", 4) != 0)
		return lex_fail(p->lx, key.col, "sysctl key " TOKEN_FMT " must start with 'net.'", TOKEN_ARG(key));
	for (size_t i = 0; i + 1 < key.len; i++)
		if (key.s[i] == '.' && key.s[i + 1] == '.')
			return lex_fail(p->lx, key.col + (int)i, "'..' in sysctl key");
	if (key.s[key.len - 1] == '.')
		return lex_fail(p->lx, key.col + (int)key.len - 1, "sysctl key ends with '.'");
	token_copy(out, key);
	return 0;
}

/* `KEY=VALUE`; a ',' in VALUE stands for a space (`ip_local_port_range=40000,40000`). */
static int parse_sysctl_setting(struct parser *p, struct token t, struct sysctl_setting *setting)
{
	size_t equals = token_find(t, '=');
	if (equals == t.len)
		return lex_fail(p->lx, t.col, "expected KEY=VALUE, got " TOKEN_FMT, TOKEN_ARG(t));
	if (parse_sysctl_key(p, sub_token(t, 0, equals), setting->key) < 0)
		return -1;
	struct token value = sub_token(t, equals + 1, t.len - equals - 1);
	if (value.len == 0)
		return lex_fail(p->lx, value.col, "empty sysctl value");
	if (value.len >= SYSCTL_VALUE_MAX)
		return lex_fail(p->lx, value.col, "sysctl value too long (max %d bytes)", SYSCTL_VALUE_MAX - 1);
	for (size_t i = 0; i < value.len; i++)
		setting->value[i] = value.s[i] == ',' ? ' ' : value.s[i];
	setting->value[value.len] = '\0';
	return 0;
}

/* One or more KEY=VALUE [= ERRNO] to the end of the statement. */
static int parse_sysctl_list(struct parser *p, struct sysctl_setting *settings, int *count)
{
	struct token t;
	if (lex_require_token(p->lx, &t, "KEY=VALUE") < 0)
		return -1;
	do {
		if (*count == CASE_MAX_SYSCTLS)
			return lex_fail(p->lx, t.col, "too many sysctls (max %d)", CASE_MAX_SYSCTLS);
		struct sysctl_setting *setting = &settings[*count];
		if (parse_sysctl_setting(p, t, setting) < 0)
			return -1;
		/* `K=V = EINVAL`: the value the stack must refuse, and how. */
		struct token refusal;
		if (lex_peek_token(p->lx, &refusal) && token_is(refusal, "=")) {
			lex_next_token(p->lx, &refusal);
			if (lex_require_token(p->lx, &refusal, "an errno name like EINVAL") < 0)
				return -1;
			setting->refused_with = token_symbol(refusal, errno_from_name);
			if (setting->refused_with <= 0)
				return lex_fail(p->lx, refusal.col, "unknown errno name " TOKEN_FMT, TOKEN_ARG(refusal));
		}
		for (int i = 0; i < *count; i++)
			if (strcmp(settings[i].key, setting->key) == 0)
				return lex_fail(p->lx, t.col, "duplicate sysctl key '%s'", setting->key);
		(*count)++;
	} while (lex_next_token(p->lx, &t));
	return 0;
}

static int parse_target_statement(struct parser *p, struct token keyword)
{
	struct token t;
	if (p->has_target)
		return lex_fail(p->lx, keyword.col, "duplicate 'target'");
	if (lex_require_token(p->lx, &t, "an IPv4 address") < 0 || lex_ipv4(p->lx, t, &p->c->target_ip) < 0)
		return -1;
	p->has_target = true;
	return lex_expect_end(p->lx);
}

/* `family 4`, `family 6 mapped`: the only families the case runs in (its subject is one family's). */
static int parse_family_statement(struct parser *p, struct token keyword)
{
	struct token t;
	if (p->has_family)
		return lex_fail(p->lx, keyword.col, "duplicate 'family'");
	if (lex_require_token(p->lx, &t, "4, 6 or mapped") < 0)
		return -1;
	p->c->families = 0;
	do {
		char name[8];
		snprintf(name, sizeof name, "%.*s", (int)(t.len < sizeof name ? t.len : sizeof name - 1), t.s);
		int family = t.len < sizeof name ? family_from_name(name) : -1;
		if (family < 0)
			return lex_fail(p->lx, t.col, "expected 4, 6 or mapped, got " TOKEN_FMT, TOKEN_ARG(t));
		if (p->c->families & 1u << family)
			return lex_fail(p->lx, t.col, "family %s given twice", family_name((enum address_family)family));
		p->c->families |= 1u << family;
	} while (lex_next_token(p->lx, &t));
	p->has_family = true;
	return 0;
}

/* The optional `isn N`, `tsclock START`, `rate HZ`, `to PORT` of a peer, in any order. */
static int parse_peer_settings(struct parser *p, struct peer_decl *peer)
{
	static const char *const names[] = { "isn", "tsclock", "rate", "to" };
	bool seen[4] = { false };
	struct token t, value;
	while (lex_next_token(p->lx, &t)) {
		size_t which = 0;
		while (which < 4 && !token_is(t, names[which]))
			which++;
		if (which == 4)
			return lex_fail(p->lx, t.col, "expected isn, tsclock, rate or to, got " TOKEN_FMT, TOKEN_ARG(t));
		if (seen[which])
			return lex_fail(p->lx, t.col, "duplicate " TOKEN_FMT, TOKEN_ARG(t));
		seen[which] = true;
		if (lex_require_token(p->lx, &value, "a number") < 0)
			return -1;
		uint64_t number;
		switch (which) {
		case 0:
			if (lex_uint(p->lx, value, 0, UINT32_MAX, &number) < 0)
				return -1;
			peer->isn = (uint32_t)number;
			break;
		case 1:
			if (lex_uint(p->lx, value, 0, UINT32_MAX, &number) < 0)
				return -1;
			peer->ts_start = (uint32_t)number;
			break;
		case 2:
			if (lex_uint(p->lx, value, 1, 1000000, &number) < 0)
				return -1;
			peer->ts_rate_hz = (uint32_t)number;
			break;
		default:
			if (lex_port(p->lx, value, &peer->target_port) < 0)
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
		return lex_fail(p->lx, keyword.col, "too many peers (max %d)", CASE_MAX_PEERS);
	if (lex_require_token(p->lx, &name, "a peer name") < 0)
		return -1;
	if (!token_is_identifier(name, PEER_NAME_MAX))
		return lex_fail(p->lx, name.col, "invalid peer name " TOKEN_FMT " (expected [a-z][a-z0-9_]{0,15})",
			    TOKEN_ARG(name));
	/* Step events start with these words, so a peer named so could not be told apart. */
	if (token_is(name, "app") ||
	    token_is(name, "expect") || token_is(name, "wait") || token_is(name, "outcome"))
		return lex_fail(p->lx, name.col, "peer name " TOKEN_FMT " is reserved", TOKEN_ARG(name));
	if (peer_index(c, name) >= 0)
		return lex_fail(p->lx, name.col, "duplicate peer " TOKEN_FMT, TOKEN_ARG(name));

	int index = c->peer_count;
	struct peer_decl *peer = &c->peers[index];
	memset(peer, 0, sizeof *peer);
	token_copy(peer->name, name);
	peer->where = (struct source_location){ p->lx->line_no, keyword.col };
	peer->port = (uint16_t)(40000 + index);
	peer->isn = 1000000u * (uint32_t)(index + 1);
	peer->ts_start = 1000;
	peer->ts_rate_hz = 1000;
	if (lex_require_token(p->lx, &address, "IP[:PORT]") < 0 ||
	    lex_endpoint(p->lx, address, true, &peer->ip, &peer->port) < 0)
		return -1;
	p->peer_ip_where[index] = (struct source_location){ p->lx->line_no, address.col };
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
			return lex_fail(p->lx, address.col, "peer '%s' gets the default port %u, already peer '%s''s on %s; "
				    "write the port to share it", peer->name, peer->port, c->peers[i].name, ip);
		}
	}
	c->peer_count++;
	return 0;
}

/* `sysctl KEY=VALUE ...`, and `tune KEY=VALUE ...` for knobs a stack may lack (case.h). */
static int parse_sysctl_statement(struct parser *p, struct token keyword)
{
	int first = p->c->sysctl_count;
	if (parse_sysctl_list(p, p->c->sysctls, &p->c->sysctl_count) < 0)
		return -1;
	for (int i = first; i < p->c->sysctl_count; i++)
		p->c->sysctls[i].where_present = token_is(keyword, "tune");
	return 0;
}

/* `[a-z0-9][a-z0-9_-]{0,30}`: the name must fit CASE_NAME_MAX with its NUL. */
static bool is_variant_name(struct token t)
{
	if (t.len == 0 || t.len > VARIANT_NAME_MAX || !(char_is_lower(t.s[0]) || char_is_digit(t.s[0])))
		return false;
	for (size_t i = 1; i < t.len; i++)
		if (!char_is_lower(t.s[i]) && !char_is_digit(t.s[i]) && t.s[i] != '_' && t.s[i] != '-')
			return false;
	return true;
}

/* `variant NAME sysctl KEY=VALUE [KEY=VALUE ...]`. */
static int parse_variant_statement(struct parser *p, struct token keyword)
{
	struct case_file *c = p->c;
	struct token name, t;
	if (c->variant_count == CASE_MAX_VARIANTS)
		return lex_fail(p->lx, keyword.col, "too many variants (max %d)", CASE_MAX_VARIANTS);
	if (lex_require_token(p->lx, &name, "a variant name") < 0)
		return -1;
	if (!is_variant_name(name))
		return lex_fail(p->lx, name.col, "invalid variant name " TOKEN_FMT " (expected [a-z0-9][a-z0-9_-]{0,30})",
			    TOKEN_ARG(name));
	if (variant_index_of(c, name) >= 0)
		return lex_fail(p->lx, name.col, "duplicate variant " TOKEN_FMT, TOKEN_ARG(name));
	if (lex_require_token(p->lx, &t, "'sysctl'") < 0)
		return -1;
	if (!token_is(t, "sysctl"))
		return lex_fail(p->lx, t.col, "expected 'sysctl', got " TOKEN_FMT, TOKEN_ARG(t));
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
	if (lex_require_token(p->lx, &t, "timestamps, sack or wscale") < 0)
		return -1;
	for (size_t i = 0; i < sizeof options / sizeof options[0]; i++) {
		if (token_is(t, options[i].name)) {
			strcpy(r->name, options[i].name);
			r->option = options[i].option;
			return 0;
		}
	}
	return lex_fail(p->lx, t.col, "expected timestamps, sack or wscale, got " TOKEN_FMT, TOKEN_ARG(t));
}

/* `require sysctl KEY`, `require counter NAME`, `require option OPTION`. */
static int parse_require_statement(struct parser *p, struct token keyword)
{
	struct case_file *c = p->c;
	struct token t;
	if (c->require_count == CASE_MAX_REQUIRES)
		return lex_fail(p->lx, keyword.col, "too many requirements (max %d)", CASE_MAX_REQUIRES);
	struct requirement *r = &c->requires[c->require_count];
	if (lex_require_token(p->lx, &t, "'sysctl', 'counter' or 'option'") < 0)
		return -1;
	if (token_is(t, "sysctl")) {
		r->kind = REQUIRE_SYSCTL;
		if (lex_require_token(p->lx, &t, "a sysctl key") < 0 || parse_sysctl_key(p, t, r->name) < 0)
			return -1;
	} else if (token_is(t, "counter")) {
		r->kind = REQUIRE_COUNTER;
		if (parse_counter_name(p, r->name) < 0)
			return -1;
	} else if (token_is(t, "option")) {
		r->kind = REQUIRE_OPTION;
		if (!p->requires_option)
			p->require_option_where = (struct source_location){ p->lx->line_no, t.col };
		p->requires_option = true;
		if (parse_required_option(p, r) < 0)
			return -1;
	} else {
		return lex_fail(p->lx, t.col, "expected 'sysctl', 'counter' or 'option', got " TOKEN_FMT, TOKEN_ARG(t));
	}
	c->require_count++;
	return lex_expect_end(p->lx);
}

static const struct {
	const char *keyword;
	int (*parse)(struct parser *p, struct token keyword);
} header_statements[] = {
	{ "target", parse_target_statement },   { "peer", parse_peer_statement },
	{ "sysctl", parse_sysctl_statement },   { "variant", parse_variant_statement },
	{ "require", parse_require_statement }, { "tune", parse_sysctl_statement },
	{ "family", parse_family_statement },
};

/* Checks that need the whole header: run before the first step, or at the end when there is none. */
static int close_header(struct parser *p)
{
	const struct case_file *c = p->c;
	/* The capability probe's SYN comes from the first peer's address, which the target can reach. */
	if (p->requires_option && c->peer_count == 0)
		return lex_fail_at(p->lx, p->require_option_where,
			       "'require option' needs a peer: the probe SYN comes from the first peer's address");
	for (int i = 0; i < c->peer_count; i++) {
		if (c->peers[i].ip == c->target_ip) {
			char ip[16];
			format_ipv4(c->target_ip, ip);
			return lex_fail_at(p->lx, p->peer_ip_where[i], "peer '%s' has the target's address %s", c->peers[i].name,
				       ip);
		}
	}
	p->in_steps = true;
	return 0;
}

/* ---- lines ---- */

static bool starts_step(struct token t)
{
	return t.s[0] == '[' || t.s[0] == '{' || t.s[0] == '+' || t.s[0] == '-' || t.s[0] == '.' || char_is_digit(t.s[0]);
}

static int parse_line(void *parser)
{
	struct parser *p = parser;
	struct token t;
	if (!lex_next_token(p->lx, &t))
		return 0;
	for (size_t i = 0; i < sizeof header_statements / sizeof header_statements[0]; i++) {
		if (token_is(t, header_statements[i].keyword)) {
			if (p->in_steps)
				return lex_fail(p->lx, t.col, TOKEN_FMT " must come before the first step", TOKEN_ARG(t));
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
		return lex_fail(p->lx, t.col, "expected a time before " TOKEN_FMT, TOKEN_ARG(t));
	return lex_fail(p->lx, t.col, "unknown statement " TOKEN_FMT, TOKEN_ARG(t));
}

/* Fills what only the whole file decides. */
static int finish(struct parser *p)
{
	struct case_file *c = p->c;
	if (!p->in_steps && close_header(p) < 0)
		return -1;
	if (c->step_count == 0)
		return lex_fail_at(p->lx, (struct source_location){ 1, 1 }, "no steps");
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

int case_parse_tc(struct case_lexer *lx, const char *text, size_t len, struct case_file *c)
{
	struct parser p;
	memset(&p, 0, sizeof p);
	p.lx = lx;
	p.c = c;
	if (lex_each_line(lx, text, len, "#", parse_line, &p) < 0)
		return -1;
	return finish(&p);
}
