/* case_parser_pkt.c - see case_notation.h: the .pkt front end, packetdrill's notation (its syntax.md
 * grammar and README) lowered into the same steps a .tc file gives. docs/packetdrill.md says what is
 * run and how; what is not becomes c->unsupported (a SKIP naming file:line:col), never a silent pass.
 * One statement per line; C-style block comments, `%{ }%` blocks and backtick commands may span lines. */
#include "case_notation.h"
#include "case_parser.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <linux/sockios.h>
#include <time.h>
#include <linux/errqueue.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent_protocol.h"
#include "packet_grammar.h"
#include "pkt_code.h"
#include "pkt_shell.h"
#include "symbols.h"
#include "tcp_fastopen_cookie.h"

#define NS_PER_MS 1000000LL
/* packetdrill's defaults (its config.c, set_default_config): --tolerance_usecs=4000 and
 * --tolerance_percent=12.5 (a line may be off by 12.5 % of its distance from the previous one, when
 * that is more: run.c, verify_time), and both the port a script's bind() takes and the one its
 * connect() reaches are 8080. Percentages are held in thousandths. */
#define PKT_DEFAULT_TOLERANCE_NS (4 * NS_PER_MS)
#define PKT_DEFAULT_TOLERANCE_PER_MILLE 125
#define PKT_PORT 8080
/* The script's remote end: a documentation address next to the target's 192.0.2.1. */
#define PKT_REMOTE_IP 0xc0000202u /* 192.0.2.2 */
#define PKT_MAX_ARGUMENTS 8
/* How long the harness waits for a packet the script expects at any time (`*`). */
#define PKT_ANY_TIME_NS (10 * 1000 * NS_PER_MS)
/* pkt_call.err of `= -1` without an errno name: any errno. */
#define PKT_ANY_ERRNO (-1)
/* How much longer than its span and slack a blocking send may wait in the stack (lower_any_send). */
#define PKT_SEND_WAIT_MARGIN_NS (500 * NS_PER_MS)
/* The most the sandbox's 1500-byte link carries in a segment. */
#define PKT_LINK_MSS 1460

/* BLOCK_COMMAND_SKIPPED: a multi-line command already recorded as unsupported; BLOCK_CALL: a system
 * call written over several lines (poll, sendmsg, epoll_ctl), gathered until its brackets close. */
enum pkt_block { BLOCK_NONE, BLOCK_COMMENT, BLOCK_CODE, BLOCK_COMMAND, BLOCK_COMMAND_SKIPPED, BLOCK_CALL };

struct pkt_parser {
	struct case_lexer *lx;
	struct case_file *c;
	char *dir;                  /* the script's directory: `../common/defaults.sh` is relative to it */
	int64_t tolerance_ns;
	int64_t tolerance_per_mille;
	uint32_t ts_tick_usecs;     /* --tcp_ts_tick_usecs: 0, the stack's TS vals are not checked */
	int64_t script_ns;          /* the script's time of its latest event, for the next one's tolerance */
	int64_t span_slack_ns;      /* the slack of the current line's span end */
	const struct pkt_command_line *command_line; /* packetdrill's, or NULL */
	bool seen_event;
	enum pkt_block block;       /* a construct that started on an earlier line and is still open */
	struct source_location block_where; /* where the open block started */
	/* BLOCK_CALL: brackets still open, the event's step and span, and the call's text so far (its
	 * first line whole, so columns on it stay right), where the call starts in it, and its line. */
	int call_depth;
	struct step call_step;
	int64_t call_span_ns;
	char call_text[2 * LINE_MAX_BYTES];
	size_t call_len, call_pos;
	int call_line_no;
	/* %{ }%: the socket its tcpi_* fields are read from (packetdrill's socket under test: the last
	 * socket() or accept()), the script's variables, and an open block's step and text so far. */
	char socket_under_test[CASE_NAME_MAX];
	struct pkt_code_variables code_variables;
	struct step code_step;
	char code_text[2 * LINE_MAX_BYTES];
	size_t code_len;
	uint32_t remote_isn;        /* the seq of the script's latest SYN: its later seqs count from it */
	uint64_t opened_fds;        /* bit N: descriptor N connected (connect, sendto MSG_FASTOPEN) */
	uint64_t nonblocking_fds;   /* bit N: the script made descriptor N O_NONBLOCK (fcntl F_SETFL) */
	bool nstat_restarted;       /* an nstat check without -s restarted its history (nstat_command) */
	/* packetdrill's socket under test is a listener (listen() made it so; socket() and the SYN that
	 * makes its child end that), and how many SYNs reached one: each after the first comes from a new
	 * ephemeral port (run_packet.c, create_socket_for_inbound_syn: next_ephemeral_port). */
	bool listener_under_test;
	/* A socket() or accept() may give a number the script never closed (packetdrill maps each script
	 * descriptor onto its newest live one): each such reuse is a new agent handle, `fd4_1`. */
	uint64_t open_fds;
	uint8_t fd_generation[64];
	int passive_opens;
	/* The addresses the script was written for (--local_ip, --remote_ip, else packetdrill's defaults
	 * for its --ip_version): a server cookie it spells out was made for them. */
	struct ip_address script_local, script_remote;
	/* A command line ending in '\' goes on on the next: its command word and options, repeated. */
	char continued[CASE_UNSUPPORTED_TEXT];
};

/* ---- unsupported constructs ---- */

static void record_unsupported(struct pkt_parser *p, struct source_location where, const char *what)
{
	struct case_file *c = p->c;
	if (c->unsupported_count == CASE_MAX_UNSUPPORTED)
		return;
	struct unsupported_construct *u = &c->unsupported[c->unsupported_count++];
	u->where = where;
	snprintf(u->what, sizeof u->what, "%s", what);
}

/* After a statement: an unsupported construct is recorded and parsing goes on; an error ends it. */
static int settle(struct pkt_parser *p, int rc)
{
	struct case_lexer *lx = p->lx;
	if (rc == 0 || lx->error || !lx->unsupported)
		return rc;
	record_unsupported(p, (struct source_location){ lx->line_no, lx->unsupported_col }, lx->unsupported_what);
	lx->unsupported = false;
	return 0;
}

/* ---- system calls ---- */

/* `name(arg, ...) = result [ERRNO (note)]` as written; tokens point into the line. */
struct pkt_call {
	struct token name;
	struct token args[PKT_MAX_ARGUMENTS];
	int arg_count;
	struct token result;
	int64_t value;
	int err;              /* 0 unless the result names an errno */
	int64_t span_ns;      /* `+0...0.1`: how long the call is expected to block; 0 without a span */
};

static struct token trimmed(struct token t)
{
	while (t.len > 0 && char_is_blank(t.s[0]))
		t = sub_token(t, 1, t.len - 1);
	while (t.len > 0 && char_is_blank(t.s[t.len - 1]))
		t.len--;
	return t;
}

/* Splits `(a, [b, c], {d=e})` at its top-level commas, the cursor on '('. */
static int parse_arguments(struct pkt_parser *p, struct pkt_call *call)
{
	struct case_lexer *lx = p->lx;
	int open_col = lex_cursor_col(lx);
	size_t start = ++lx->pos;
	int depth = 0;
	bool quoted = false;
	for (; lx->pos < lx->code_len; lx->pos++) {
		char ch = lx->line[lx->pos];
		if (quoted) {
			quoted = ch != '"';
			continue;
		}
		if (ch == '"')
			quoted = true;
		else if (ch == '(' || ch == '[' || ch == '{')
			depth++;
		else if ((ch == ')' || ch == ']' || ch == '}') && depth > 0)
			depth--;
		else if ((ch == ',' || ch == ')') && depth == 0) {
			struct token arg = trimmed((struct token){ lx->line + start, lx->pos - start, (int)start + 1 });
			if (arg.len > 0 || ch == ',' || call->arg_count > 0) {
				if (call->arg_count == PKT_MAX_ARGUMENTS)
					return lex_unsupported(lx, arg.col, "a call with more than %d arguments",
							       PKT_MAX_ARGUMENTS);
				call->args[call->arg_count++] = arg;
			}
			start = lx->pos + 1;
			if (ch == ')') {
				lx->pos++;
				return 0;
			}
		}
	}
	return lex_fail(lx, open_col, "unbalanced '(' in a system call");
}

/* The digits after `0x`: at most 8 of them, an int's worth. */
static int hex_value(struct case_lexer *lx, struct token digits, int64_t *out)
{
	uint64_t value = 0;
	if (digits.len == 0 || digits.len > 8)
		return lex_fail(lx, digits.col, "expected 1 to 8 hex digits, got " TOKEN_FMT, TOKEN_ARG(digits));
	for (size_t i = 0; i < digits.len; i++) {
		char ch = digits.s[i];
		int digit = char_is_digit(ch) ? ch - '0' : (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10
			  : (ch >= 'A' && ch <= 'F') ? ch - 'A' + 10 : -1;
		if (digit < 0)
			return lex_fail(lx, digits.col, "expected hex digits, got " TOKEN_FMT, TOKEN_ARG(digits));
		value = value * 16 + (uint64_t)digit;
	}
	*out = (int64_t)value;
	return 0;
}

/* `= 3`, `= -1 EINPROGRESS (Operation now in progress)`. */
static int parse_result(struct pkt_parser *p, struct pkt_call *call)
{
	struct case_lexer *lx = p->lx;
	struct token t;
	if (lex_require_token(lx, &t, "'=' and the call's result") < 0)
		return -1;
	if (!token_is(t, "="))
		return lex_fail(lx, t.col, "expected '=', got " TOKEN_FMT, TOKEN_ARG(t));
	if (lex_require_token(lx, &call->result, "the call's result") < 0)
		return -1;
	int value;
	struct token r = call->result;
	bool hex = r.len > 2 && r.s[0] == '0' && (r.s[1] == 'x' || r.s[1] == 'X');
	bool decimal = r.len > 0 && (char_is_digit(r.s[0]) || (r.s[0] == '-' && r.len > 1)) && !hex;
	if (hex) {
		/* `= 0x2 (flags O_RDWR)`: packetdrill's grammar takes a hex result as any number. */
		if (hex_value(lx, sub_token(r, 2, r.len - 2), &call->value) < 0)
			return -1;
		value = (int)call->value;
	} else if (!decimal) {
		return lex_unsupported(lx, r.col, "a result other than a number: " TOKEN_FMT, TOKEN_ARG(r));
	} else {
		if (lex_int(lx, r, &value) < 0)
			return -1;
		call->value = value;
	}
	struct token errno_word;
	if (lex_peek_char(lx) == '(') {
		/* `= 0x2 (flags O_RDWR)`: a note for the reader. */
		lx->pos = lx->code_len;
		return 0;
	}
	if (!lex_next_token(lx, &errno_word)) {
		/* `= -1` alone: the call fails, whatever the errno (packetdrill checks none then). */
		if (value == -1)
			call->err = PKT_ANY_ERRNO;
		return 0;
	}
	/* `-1 EPIPE(Broken pipe)`: the note may follow the name without a blank. */
	errno_word.len = token_find(errno_word, '(');
	call->err = token_symbol(errno_word, errno_from_name);
	if (call->err < 0)
		return lex_unsupported(lx, errno_word.col, "errno " TOKEN_FMT, TOKEN_ARG(errno_word));
	if (value != -1)
		return lex_fail(lx, errno_word.col, "an errno name follows only a result of -1");
	/* The rest, `(Operation now in progress)`, is a note for the reader. */
	lx->pos = lx->code_len;
	return 0;
}

static bool is_ellipsis(struct token t)
{
	return token_is(t, "...");
}

/* The handle of descriptor fd's newest socket. */
static void handle_of(const struct pkt_parser *p, long long fd, char handle[CASE_NAME_MAX])
{
	if (fd >= 0 && fd < 64 && p->fd_generation[fd] > 0)
		snprintf(handle, CASE_NAME_MAX, "fd%lld_%d", fd, p->fd_generation[fd]);
	else
		snprintf(handle, CASE_NAME_MAX, "fd%lld", fd);
}

/* `3` -> the app handle "fd3": packetdrill's descriptor numbers name the agent's sockets. */
static int fd_handle(struct pkt_parser *p, struct token t, char handle[CASE_NAME_MAX])
{
	int fd;
	if (lex_int(p->lx, t, &fd) < 0)
		return -1;
	if (fd < 0)
		return lex_fail(p->lx, t.col, "negative file descriptor " TOKEN_FMT, TOKEN_ARG(t));
	handle_of(p, fd, handle);
	return 0;
}

/* A socket() or accept() gives descriptor fd: a new handle when the script's earlier one is open. */
static int new_fd_handle(struct pkt_parser *p, const struct pkt_call *call, char handle[CASE_NAME_MAX])
{
	long long fd = (long long)call->value;
	if (fd >= 0 && fd < 64) {
		if (p->open_fds & (1ull << fd)) {
			if (p->fd_generation[fd] == UINT8_MAX)
				return lex_unsupported(p->lx, call->result.col, "descriptor %lld opened %d times", fd, UINT8_MAX);
			p->fd_generation[fd]++;
		}
		p->open_fds |= 1ull << fd;
	}
	handle_of(p, fd, handle);
	return 0;
}

/* Bit N of a descriptor set, 0 for a descriptor past 63 (none is tracked there). */
static uint64_t fd_bit(const char handle[CASE_NAME_MAX])
{
	long fd = strtol(handle + strlen("fd"), NULL, 10); /* fd_handle's name */
	return fd >= 0 && fd < 64 ? 1ull << fd : 0;
}

/* The result a successful or failing call must give. */
static void expect_result(const struct pkt_call *call, struct app_call *app)
{
	if (call->err == PKT_ANY_ERRNO) {
		app->expect = APP_EXPECT_FAILURE;
	} else if (call->err) {
		app->expect = APP_EXPECT_ERRNO;
		app->expect_errno = call->err;
	} else {
		app->expect = APP_EXPECT_VALUE;
		app->expect_value = call->value;
	}
}

static int require_ellipsis(struct pkt_parser *p, struct token t, const char *what)
{
	if (!is_ellipsis(t))
		return lex_unsupported(p->lx, t.col, "%s other than '...': " TOKEN_FMT, what, TOKEN_ARG(t));
	return 0;
}

/* How long a call that waits for the peer (accept, read) may take: the line's tolerance, packetdrill's
 * check that a call without `...` returns "now" (the segment it needs may still be on its way from
 * the injection); nothing when the script says it would block (EAGAIN), so the line's clock stays.
 * A call with a span waits that long and the slack of its end after it. */
static int64_t wait_of(const struct pkt_parser *p, const struct pkt_call *call)
{
	if (call->span_ns > 0)
		return call->span_ns + (p->span_slack_ns < NS_PER_MS ? NS_PER_MS : p->span_slack_ns);
	if (call->err == EAGAIN)
		return 0;
	return p->tolerance_ns < NS_PER_MS ? NS_PER_MS : p->tolerance_ns;
}

/* socket(..., SOCK_STREAM, IPPROTO_TCP) = FD */
static int lower_socket(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (!is_ellipsis(call->args[0]) && !token_is(call->args[0], "AF_INET"))
		return lex_unsupported(p->lx, call->args[0].col, "socket family " TOKEN_FMT, TOKEN_ARG(call->args[0]));
	/* SOCK_NONBLOCK sets the descriptor's O_NONBLOCK at once (sock_alloc_file), as F_SETFL would. */
	bool nonblocking = token_is(call->args[1], "SOCK_STREAM|SOCK_NONBLOCK");
	if (!token_is(call->args[1], "SOCK_STREAM") && !nonblocking)
		return lex_unsupported(p->lx, call->args[1].col, "socket type " TOKEN_FMT, TOKEN_ARG(call->args[1]));
	if (!token_is(call->args[2], "IPPROTO_TCP") && !token_is(call->args[2], "0"))
		return lex_unsupported(p->lx, call->args[2].col, "protocol " TOKEN_FMT, TOKEN_ARG(call->args[2]));
	if (call->err || call->value < 0)
		return lex_unsupported(p->lx, call->result.col, "a socket() expected to fail");
	app->op = APP_SOCKET;
	/* The agent's descriptor differs from the script's; the script's names the handle. */
	if (new_fd_handle(p, call, app->handle) < 0)
		return -1;
	p->opened_fds &= ~fd_bit(app->handle);
	p->nonblocking_fds = nonblocking ? p->nonblocking_fds | fd_bit(app->handle) : p->nonblocking_fds & ~fd_bit(app->handle);
	p->listener_under_test = false;
	app->expect = APP_EXPECT_SUCCESS;
	memcpy(p->socket_under_test, app->handle, sizeof app->handle);
	return 0;
}

/* bind(FD, ..., ...) = 0: packetdrill binds its port 8080 on the stack's address. */
static int lower_bind(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (require_ellipsis(p, call->args[1], "an address") < 0 || fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	app->op = APP_BIND;
	app->port = PKT_PORT;
	p->c->peers[0].target_port = PKT_PORT;
	expect_result(call, app);
	return 0;
}

static int lower_listen(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (fd_handle(p, call->args[0], app->handle) < 0 || lex_int(p->lx, call->args[1], &app->backlog) < 0)
		return -1;
	app->op = APP_LISTEN;
	app->port = PKT_PORT;
	p->listener_under_test = true;
	p->c->peers[0].target_port = PKT_PORT;
	expect_result(call, app);
	return 0;
}

/* accept(LISTENER, ..., ...) = FD */
static int lower_accept(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (fd_handle(p, call->args[0], app->from_handle) < 0)
		return -1;
	app->op = APP_ACCEPT;
	app->timeout_ns = wait_of(p, call);
	if (call->err) {
		strcpy(app->handle, "failed_accept");
		expect_result(call, app);
	} else {
		if (new_fd_handle(p, call, app->handle) < 0)
			return -1;
		app->expect = APP_EXPECT_SUCCESS;
		memcpy(p->socket_under_test, app->handle, sizeof app->handle);
		p->nonblocking_fds &= ~fd_bit(app->handle);
	}
	return 0;
}

/* A connect, or a sendto with MSG_FASTOPEN before the socket connected (after, the flag is ignored:
 * tcp_sendmsg_fastopen runs only in SYN_SENT's stead), opens a connection: the peer follows the
 * stack's next SYN from then on and ignores the earlier sockets' segments, as packetdrill's sniffer
 * does (run_packet.c: packets that do not match the test socket). */
static void mark_active_open(struct pkt_parser *p, struct app_call *app)
{
	uint64_t bit = fd_bit(app->handle);
	app->active_open = !bit || !(p->opened_fds & bit);
	p->opened_fds |= bit;
}

/* connect(FD, ..., ...) = -1 EINPROGRESS: the agent's connect never blocks, like packetdrill's on a
 * socket made O_NONBLOCK. A blocking connect that returns 0 after its span (`+0...0.1 connect(...)
 * = 0`) is that connect and then the wait for its end (parse_syscall). Without a span it returns 0
 * at once, which a non-blocking connect does too where the stack completes it without waiting: a
 * connect TCP_FASTOPEN_CONNECT defers to the first write (tcp_fastopen_defer_connect); where the
 * stack would block, the agent's connect says EINPROGRESS and the line fails, as under packetdrill
 * it would return late. */
static int lower_connect(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (require_ellipsis(p, call->args[1], "an address") < 0 || fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	if (!call->err && call->value != 0)
		return lex_fail(p->lx, call->result.col, "connect() returns 0 or -1");
	app->op = APP_CONNECT;
	mark_active_open(p, app);
	app->ip = p->c->peers[0].ip;
	app->port = PKT_PORT;
	expect_result(call, app);
	if (!call->err && call->span_ns > 0) {
		app->expect = APP_EXPECT_ERRNO;
		app->expect_errno = EINPROGRESS;
	}
	return 0;
}

/* The second half of a blocking connect: the wait for the handshake, which blocks for the span. */
static void connected_half(struct pkt_parser *p, const struct pkt_call *call, struct step *s)
{
	struct app_call *app = &s->u.app;
	app->op = APP_CONNECTED;
	app->active_open = false;
	app->expect = APP_EXPECT_VALUE;
	app->expect_value = 0;
	app->timeout_ns = wait_of(p, call);
	app->span_ns = call->span_ns;
	app->span_slack_ns = p->span_slack_ns;
	s->when = (struct time_spec){ .relative = true, .tolerance_ns = s->when.tolerance_ns, .clock_at_call = true };
}

/* The words of `A|B|C` one by one: true with *word set while there is one; *rest moves past it. */
static bool next_flag_word(struct token *rest, struct token *word)
{
	if (rest->len == 0)
		return false;
	size_t bar = token_find(*rest, '|');
	*word = trimmed(sub_token(*rest, 0, bar));
	*rest = bar < rest->len ? sub_token(*rest, bar + 1, rest->len - bar - 1) : sub_token(*rest, rest->len, 0);
	return true;
}

/* The flags of send/recv/sendto/recvfrom, `A|B` by name or as a number: for a send MSG_EOR
 * (tcp_sendmsg keeps the next write out of this skb, so records are not coalesced), for a sendto
 * MSG_FASTOPEN (RFC 7413: the call connects and its data rides in the SYN; tcp_sendmsg_fastopen),
 * and MSG_DONTWAIT, which the agent's calls are already (they never block past their line). */
static int io_flags(struct pkt_parser *p, const struct pkt_call *call, int index, struct app_call *app)
{
	static const struct {
		const char *name;
		int value;
	} known[] = { { "MSG_EOR", MSG_EOR }, { "MSG_FASTOPEN", MSG_FASTOPEN }, { "MSG_DONTWAIT", MSG_DONTWAIT },
		      { "MSG_ZEROCOPY", MSG_ZEROCOPY }, { "MSG_NOSIGNAL", MSG_NOSIGNAL } };
	if (index >= call->arg_count)
		return 0;
	struct token rest = call->args[index], word;
	int flags = 0;
	while (next_flag_word(&rest, &word)) {
		int64_t value = -1;
		for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
			if (token_is(word, known[i].name))
				value = known[i].value;
		if (value < 0 && word.len > 2 && word.s[0] == '0' && word.s[1] == 'x' &&
		    hex_value(p->lx, sub_token(word, 2, word.len - 2), &value) < 0)
			return -1;
		if (value < 0 && token_is(word, "0"))
			value = 0;
		if (value < 0)
			return lex_unsupported(p->lx, word.col, "flag " TOKEN_FMT, TOKEN_ARG(word));
		flags |= (int)value;
	}
	int allowed = MSG_DONTWAIT | MSG_NOSIGNAL | (app ? MSG_EOR | MSG_ZEROCOPY : 0) |
		      (app && (token_is(call->name, "sendto") || token_is(call->name, "sendmsg")) ? MSG_FASTOPEN : 0);
	if (flags & ~allowed)
		return lex_unsupported(p->lx, call->args[index].col, "flags " TOKEN_FMT, TOKEN_ARG(call->args[index]));
	if (app) {
		app->end_of_record = flags & MSG_EOR;
		app->fast_open = flags & MSG_FASTOPEN;
		app->zerocopy = flags & MSG_ZEROCOPY;
	}
	return 0;
}

static int io_length(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	uint64_t length;
	if (require_ellipsis(p, call->args[1], "a buffer") < 0 ||
	    lex_uint(p->lx, call->args[2], 0, UINT32_MAX, &length) < 0)
		return -1;
	bool reads = token_is(call->name, "read") || token_is(call->name, "recv") || token_is(call->name, "recvfrom");
	/* A zero-length send is a call of its own (sendto(..., 0, MSG_FASTOPEN, ...) asks for a cookie, a
	 * SYN without data); a zero-length read would not wait for data as the agent's does. */
	if (length == 0 && reads)
		return lex_unsupported(p->lx, call->args[2].col, "a zero-length %.*s", (int)call->name.len, call->name.s);
	/* The agent moves at most AGENT_IO_MAX bytes a call. A read that returns fewer bytes than that
	 * returned all the stack held (tcp_recvmsg), which a read of AGENT_IO_MAX returns as well. */
	if (length > AGENT_IO_MAX && reads && !call->err && call->value >= 0 && call->value < AGENT_IO_MAX)
		length = AGENT_IO_MAX;
	if (length > AGENT_IO_MAX)
		return lex_unsupported(p->lx, call->args[2].col, "a %.*s of more than %u bytes", (int)call->name.len,
				       call->name.s, AGENT_IO_MAX);
	app->length = (uint32_t)length;
	return fd_handle(p, call->args[0], app->handle);
}

/* read / recv / recvfrom (FD, ..., N[, 0[, ..., ...]]) = BYTES */
static int lower_recv(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (io_flags(p, call, 3, NULL) < 0 || io_length(p, call, app) < 0)
		return -1;
	app->op = APP_RECV;
	app->timeout_ns = wait_of(p, call);
	expect_result(call, app);
	return 0;
}

/* write / send / sendto (FD, ..., N[, 0[, ..., ...]]) = BYTES */
static bool struct_field(struct token t, const char *name, struct token *value);

/* What a send of app->length bytes with its flags becomes: a sendto where MSG_FASTOPEN connects (its
 * address, the argument `address`, must be `...`), a blocking one under a span. */
static int lower_any_send(struct pkt_parser *p, const struct pkt_call *call, struct token address, struct app_call *app)
{
	app->op = APP_SEND;
	/* The stack's own wait must outlast the span's slack: a writer that gives up there (SO_SNDTIMEO)
	 * no longer holds sk_write_pending, so a late handshake's ACK goes out alone
	 * (tcp_rcv_synsent_state_process) where packetdrill's writer still waits and its data carries
	 * the ACK. The return is judged at the span's end all the same. */
	if (call->span_ns > 0)
		app->timeout_ns = wait_of(p, call) + PKT_SEND_WAIT_MARGIN_NS;
	if (app->fast_open) {
		if (require_ellipsis(p, address, "an address") < 0)
			return -1;
		app->op = APP_SENDTO;
		mark_active_open(p, app);
		app->ip = p->c->peers[0].ip;
		app->port = PKT_PORT;
	}
	expect_result(call, app);
	return 0;
}

static int lower_send(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (io_flags(p, call, 3, app) < 0 || io_length(p, call, app) < 0)
		return -1;
	return lower_any_send(p, call, call->args[4], app);
}

/* sendmsg(FD, {msg_name(...)=..., msg_iov(N)=[{..., L1}, ...], msg_flags=0}, FLAGS) = BYTES: for TCP a
 * send of L1 + ... bytes (tcp_sendmsg copies the iovecs into one stream), except with MSG_ZEROCOPY,
 * whose pages follow the iovecs (a SKIP over more than one). */
static int lower_sendmsg(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	struct token msg = call->args[1];
	if (io_flags(p, call, 2, app) < 0 || fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	const char *at = memmem(msg.s, msg.len, "msg_iov(", strlen("msg_iov("));
	const char *open = at ? memchr(at, '[', msg.len - (size_t)(at - msg.s)) : NULL;
	const char *close = open ? memchr(open, ']', msg.len - (size_t)(open - msg.s)) : NULL;
	if (!close)
		return lex_unsupported(p->lx, msg.col, "a sendmsg() without msg_iov(N)=[...]");
	struct token list = { open + 1, (size_t)(close - open - 1), msg.col + (int)(open + 1 - msg.s) };
	uint64_t total = 0;
	int vectors = 0;
	for (const char *brace = memchr(list.s, '{', list.len); brace;
	     brace = memchr(brace + 1, '{', list.len - (size_t)(brace + 1 - list.s))) {
		const char *end = memchr(brace, '}', list.len - (size_t)(brace - list.s));
		const char *comma = end ? memchr(brace, ',', (size_t)(end - brace)) : NULL;
		if (!comma)
			return lex_unsupported(p->lx, list.col, "an iovec other than {..., LENGTH}");
		struct token length = trimmed((struct token){ comma + 1, (size_t)(end - comma - 1),
							      list.col + (int)(comma + 1 - list.s) });
		uint64_t n;
		if (lex_uint(p->lx, length, 0, AGENT_IO_MAX, &n) < 0)
			return -1;
		total += n;
		vectors++;
	}
	if (total > AGENT_IO_MAX)
		return lex_unsupported(p->lx, list.col, "a sendmsg() of more than %u bytes", AGENT_IO_MAX);
	if (app->zerocopy && vectors > 1)
		return lex_unsupported(p->lx, list.col, "a MSG_ZEROCOPY sendmsg() of several iovecs");
	app->length = (uint32_t)total;
	struct token name;
	if (app->fast_open && !struct_field(msg, "msg_name(...)", &name))
		return lex_unsupported(p->lx, msg.col, "a sendmsg(MSG_FASTOPEN) without msg_name");
	return lower_any_send(p, call, app->fast_open ? name : call->args[0], app);
}

static int lower_close(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	app->op = APP_CLOSE;
	p->open_fds &= ~fd_bit(app->handle);
	expect_result(call, app);
	return 0;
}

static int lower_shutdown(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	static const struct {
		const char *name;
		int how;
	} hows[] = { { "SHUT_RD", SHUT_RD }, { "SHUT_WR", SHUT_WR }, { "SHUT_RDWR", SHUT_RDWR } };
	if (fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	app->op = APP_SHUTDOWN;
	for (size_t i = 0; i < sizeof hows / sizeof hows[0]; i++) {
		if (token_is(call->args[1], hows[i].name)) {
			app->shutdown_how = hows[i].how;
			expect_result(call, app);
			return 0;
		}
	}
	return lex_unsupported(p->lx, call->args[1].col, "shutdown how " TOKEN_FMT, TOKEN_ARG(call->args[1]));
}

/* The option name of set/getsockopt, known to symbols.h (integer options and SO_LINGER). */
static int sockopt_of(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app,
		      const struct sockopt_symbol **symbol)
{
	struct token name = call->args[2];
	*symbol = NULL;
	if (name.len < sizeof app->option) {
		token_copy(app->option, name);
		*symbol = sockopt_by_name(app->option);
	}
	if (!*symbol)
		return lex_unsupported(p->lx, name.col, "socket option " TOKEN_FMT, TOKEN_ARG(name));
	return fd_handle(p, call->args[0], app->handle);
}

/* `[1]` -> 1; `[0xffffffff]` -> the int with those bits (an unsigned option's all ones). */
static int bracketed_int(struct pkt_parser *p, struct token t, int *value)
{
	struct token inside = t.len >= 3 ? trimmed(sub_token(t, 1, t.len - 2)) : t;
	int64_t hex;
	if (t.s[0] == '[' && t.s[t.len - 1] == ']' && inside.len > 2 && inside.s[0] == '0' && inside.s[1] == 'x') {
		if (hex_value(p->lx, sub_token(inside, 2, inside.len - 2), &hex) < 0)
			return -1;
		*value = (int)(uint32_t)hex;
		return 0;
	}
	bool number = inside.len > 0 && (char_is_digit(inside.s[0]) || inside.s[0] == '-');
	for (size_t i = 1; number && i < inside.len; i++)
		number = char_is_digit(inside.s[i]);
	if (t.len < 3 || t.s[0] != '[' || t.s[t.len - 1] != ']' || !number)
		return lex_unsupported(p->lx, t.col, "an option value other than [N]: " TOKEN_FMT, TOKEN_ARG(t));
	return lex_int(p->lx, inside, value);
}

/* `{onoff=1, linger=0}` -> 1, 0. */
static int linger_values(struct pkt_parser *p, struct token t, int values[2])
{
	int onoff, linger;
	char tail;
	char text[64];
	if (t.len >= sizeof text)
		return lex_unsupported(p->lx, t.col, "SO_LINGER value " TOKEN_FMT, TOKEN_ARG(t));
	token_copy(text, t);
	if (sscanf(text, "{ onoff = %d , linger = %d }%c", &onoff, &linger, &tail) != 2)
		return lex_unsupported(p->lx, t.col, "SO_LINGER value " TOKEN_FMT, TOKEN_ARG(t));
	values[0] = onoff;
	values[1] = linger;
	return 0;
}

/* setsockopt(FD, LEVEL, NAME, [V] | {onoff=.., linger=..}, LEN) = 0 */
static int lower_setsockopt(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	const struct sockopt_symbol *symbol;
	if (sockopt_of(p, call, app, &symbol) < 0)
		return -1;
	app->op = APP_SETSOCKOPT;
	app->value_count = symbol->value_count;
	if ((symbol->value_count == 2 ? linger_values(p, call->args[3], app->values)
				      : bracketed_int(p, call->args[3], &app->values[0])) < 0)
		return -1;
	expect_result(call, app);
	return 0;
}

/* getsockopt(FD, LEVEL, NAME, [V], [LEN]) = 0: the agent answers with the value itself (SO_ERROR:
 * the pending error as an errno), so V is what the line expects back. */
static int lower_getsockopt(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	const struct sockopt_symbol *symbol;
	if (sockopt_of(p, call, app, &symbol) < 0)
		return -1;
	if (symbol->value_count != 1)
		return lex_unsupported(p->lx, call->args[2].col, "getsockopt " TOKEN_FMT, TOKEN_ARG(call->args[2]));
	app->op = APP_GETSOCKOPT;
	if (call->err || call->value != 0) {
		expect_result(call, app);
		return 0;
	}
	struct token v = call->args[3];
	bool is_so_error = token_is(call->args[2], "SO_ERROR");
	int expected;
	if (is_so_error && v.len > 2 && v.s[0] == '[' && !char_is_digit(v.s[1])) {
		/* [ECONNREFUSED]: the pending error by name. */
		app->expect = APP_EXPECT_ERRNO;
		app->expect_errno = token_symbol(trimmed(sub_token(v, 1, v.len - 2)), errno_from_name);
		if (app->expect_errno < 0)
			return lex_unsupported(p->lx, v.col, "SO_ERROR value " TOKEN_FMT, TOKEN_ARG(v));
		return 0;
	}
	if (bracketed_int(p, v, &expected) < 0)
		return -1;
	app->expect = APP_EXPECT_VALUE;
	app->expect_value = expected;
	return 0;
}

/* fcntl(FD, F_SETFL, O_RDWR|O_NONBLOCK) = 0 and fcntl(FD, F_GETFL) = 0x2: a descriptor's file status
 * flags are the process's, not the stack's (sock_alloc_file opens a socket O_RDWR; accept4 without
 * SOCK_NONBLOCK gives a blocking one). The agent drives every socket without blocking already (each
 * call waits only as long as its line allows, a blocking one its span), so F_SETFL only records what
 * the script asked for and F_GETFL must give that back: an expectation the script's own F_SETFL lines
 * contradict is an error in the script, not the stack's answer. */
static int lower_fcntl(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (call->err || (call->value < 0))
		return lex_unsupported(p->lx, call->result.col, "an fcntl() expected to fail");
	if (fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	uint64_t bit = fd_bit(app->handle);
	if (call->arg_count == 2 && token_is(call->args[1], "F_GETFL")) {
		int64_t flags = O_RDWR | ((p->nonblocking_fds & bit) ? O_NONBLOCK : 0);
		if (call->value != flags)
			return lex_fail(p->lx, call->result.col, "fcntl(F_GETFL) gives 0x%llx here (O_RDWR%s, as the "
					"script's F_SETFL lines left it), not 0x%llx", (long long)flags,
					flags & O_NONBLOCK ? "|O_NONBLOCK" : "", (long long)call->value);
		return 1;
	}
	if (call->arg_count != 3 || !token_is(call->args[1], "F_SETFL"))
		return lex_unsupported(p->lx, call->name.col, "fcntl other than F_SETFL and F_GETFL");
	bool nonblocking = false;
	struct token rest = call->args[2], word;
	while (next_flag_word(&rest, &word)) {
		if (token_is(word, "O_NONBLOCK"))
			nonblocking = true;
		else if (!token_is(word, "O_RDWR"))
			return lex_unsupported(p->lx, word.col, "fcntl flag " TOKEN_FMT, TOKEN_ARG(word));
	}
	if (call->value != 0)
		return lex_fail(p->lx, call->result.col, "fcntl(F_SETFL) returns 0 or -1");
	p->nonblocking_fds = nonblocking ? p->nonblocking_fds | bit : p->nonblocking_fds & ~bit;
	return 1;
}

/* The value of `name=` in `{fd=4, events=POLLOUT, revents=POLLOUT}`, up to the next ',' or '}'. */
static bool struct_field(struct token t, const char *name, struct token *value)
{
	size_t name_len = strlen(name);
	for (size_t i = 0; i + name_len < t.len; i++) {
		bool starts = i == 0 || t.s[i - 1] == '{' || t.s[i - 1] == ',' || char_is_blank(t.s[i - 1]);
		if (!starts || memcmp(t.s + i, name, name_len) != 0)
			continue;
		size_t at = i + name_len;
		while (at < t.len && char_is_blank(t.s[at]))
			at++;
		if (at == t.len || t.s[at] != '=')
			continue;
		size_t end = ++at;
		while (end < t.len && t.s[end] != ',' && t.s[end] != '}')
			end++;
		*value = trimmed(sub_token(t, at, end - at));
		return true;
	}
	return false;
}

struct event_name {
	const char *name;
	uint32_t bit;
};
static const struct event_name poll_names[] = {
	{ "POLLIN", POLLIN },	{ "POLLPRI", POLLPRI },	      { "POLLOUT", POLLOUT },	    { "POLLERR", POLLERR },
	{ "POLLHUP", POLLHUP }, { "POLLRDNORM", POLLRDNORM }, { "POLLWRNORM", POLLWRNORM }, { "POLLRDHUP", POLLRDHUP },
	{ NULL, 0 },
};
static const struct event_name epoll_names[] = {
	{ "EPOLLIN", EPOLLIN },		  { "EPOLLPRI", EPOLLPRI },	    { "EPOLLOUT", EPOLLOUT },
	{ "EPOLLERR", EPOLLERR },	  { "EPOLLHUP", EPOLLHUP },	    { "EPOLLRDHUP", EPOLLRDHUP },
	{ "EPOLLET", EPOLLET },		  { "EPOLLONESHOT", EPOLLONESHOT }, { "EPOLLEXCLUSIVE", EPOLLEXCLUSIVE },
	{ NULL, 0 },
};

/* POLLIN|POLLOUT (or EPOLLIN|EPOLLET) as glibc numbers them. */
static int poll_bits(struct pkt_parser *p, struct token t, const struct event_name *names, uint32_t *bits)
{
	*bits = 0;
	struct token rest = t, word;
	while (next_flag_word(&rest, &word)) {
		int64_t bit = token_is(word, "0") ? 0 : -1;
		for (size_t i = 0; names[i].name; i++)
			if (token_is(word, names[i].name))
				bit = names[i].bit;
		if (bit < 0)
			return lex_unsupported(p->lx, word.col, "poll event " TOKEN_FMT, TOKEN_ARG(word));
		*bits |= (uint32_t)bit;
	}
	return 0;
}

/* poll([{fd=FD, events=E, revents=R}], 1, TIMEOUT_MS) = N: one socket, polled by the agent for at
 * most the script's timeout and no longer than the line allows (its span, else its slack). The
 * line's result and revents become one expected value, the revents the agent sees (0 for N = 0). */
static int lower_poll(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	struct token fds = call->args[0], fd, events, revents;
	int count, timeout_ms;
	uint32_t expected_revents;
	if (lex_int(p->lx, call->args[1], &count) < 0 || lex_int(p->lx, call->args[2], &timeout_ms) < 0)
		return -1;
	int structs = 0;
	for (size_t i = 0; i < fds.len; i++)
		structs += fds.s[i] == '{';
	if (count != 1 || structs != 1)
		return lex_unsupported(p->lx, fds.col, "a poll() of other than one descriptor");
	if (!struct_field(fds, "fd", &fd) || !struct_field(fds, "events", &events) ||
	    !struct_field(fds, "revents", &revents))
		return lex_fail(p->lx, fds.col, "expected [{fd=N, events=..., revents=...}]");
	if (fd_handle(p, fd, app->handle) < 0 || poll_bits(p, events, poll_names, &app->poll_events) < 0 ||
	    poll_bits(p, revents, poll_names, &expected_revents) < 0)
		return -1;
	if (call->err)
		return lex_unsupported(p->lx, call->result.col, "a poll() expected to fail");
	if (call->value != 0 && call->value != 1)
		return lex_fail(p->lx, call->result.col, "a poll() of one descriptor returns 0 or 1");
	app->op = APP_POLL;
	int64_t line_wait_ns = wait_of(p, call);
	app->timeout_ns = timeout_ms < 0 || (int64_t)timeout_ms * NS_PER_MS > line_wait_ns ? line_wait_ns
											 : (int64_t)timeout_ms * NS_PER_MS;
	app->expect = APP_EXPECT_VALUE;
	app->expect_value = call->value ? expected_revents : 0;
	return 0;
}

/* epoll_create(SIZE) = FD: an epoll instance of the agent's (a stack without epoll answers EOPNOTSUPP). */
static int lower_epoll_create(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	if (call->err || call->value < 0)
		return lex_unsupported(p->lx, call->result.col, "an epoll_create() expected to fail");
	app->op = APP_EPOLL_CREATE;
	app->expect = APP_EXPECT_SUCCESS;
	return new_fd_handle(p, call, app->handle);
}

/* epoll_ctl(EPFD, EPOLL_CTL_ADD|MOD|DEL, FD, {events=E, fd=FD}) = 0 */
static int lower_epoll_ctl(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	static const struct {
		const char *name;
		int op;
	} ops[] = { { "EPOLL_CTL_ADD", EPOLL_CTL_ADD }, { "EPOLL_CTL_MOD", EPOLL_CTL_MOD }, { "EPOLL_CTL_DEL", EPOLL_CTL_DEL } };
	struct token event = call->args[3], events, fd;
	app->epoll_ctl_op = -1;
	for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
		if (token_is(call->args[1], ops[i].name))
			app->epoll_ctl_op = ops[i].op;
	if (app->epoll_ctl_op < 0)
		return lex_unsupported(p->lx, call->args[1].col, "epoll_ctl op " TOKEN_FMT, TOKEN_ARG(call->args[1]));
	if (fd_handle(p, call->args[0], app->handle) < 0 || fd_handle(p, call->args[2], app->from_handle) < 0)
		return -1;
	if (!struct_field(event, "events", &events) || !struct_field(event, "fd", &fd) ||
	    fd.len != call->args[2].len || memcmp(fd.s, call->args[2].s, fd.len) != 0)
		return lex_unsupported(p->lx, event.col, "an epoll event other than {events=..., fd=FD}");
	if (poll_bits(p, events, epoll_names, &app->poll_events) < 0)
		return -1;
	app->op = APP_EPOLL_CTL;
	expect_result(call, app);
	return 0;
}

/* epoll_wait(EPFD, {events=E, fd=FD}, MAX, TIMEOUT_MS) = 1, or `{events=0, ptr=0}` with = 0: one
 * ready event at most, waited for no longer than the script's timeout and the line allow. */
static int lower_epoll_wait(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	struct token event = call->args[1], events, fd;
	int max_events, timeout_ms;
	if (fd_handle(p, call->args[0], app->handle) < 0 || lex_int(p->lx, call->args[2], &max_events) < 0 ||
	    lex_int(p->lx, call->args[3], &timeout_ms) < 0)
		return -1;
	if (call->err)
		return lex_unsupported(p->lx, call->result.col, "an epoll_wait() expected to fail");
	if (call->value > 1 || max_events < 1)
		return lex_unsupported(p->lx, call->result.col, "an epoll_wait() of more than one event");
	if (!struct_field(event, "events", &events))
		return lex_unsupported(p->lx, event.col, "an epoll event other than {events=..., fd=FD}");
	uint32_t expected_events;
	if (poll_bits(p, events, epoll_names, &expected_events) < 0)
		return -1;
	app->op = APP_EPOLL_WAIT;
	int64_t line_wait_ns = wait_of(p, call);
	app->timeout_ns = timeout_ms < 0 || (int64_t)timeout_ms * NS_PER_MS > line_wait_ns ? line_wait_ns
											 : (int64_t)timeout_ms * NS_PER_MS;
	app->expect = APP_EXPECT_VALUE;
	app->expect_value = call->value ? expected_events : 0;
	if (call->value == 1) {
		if (!struct_field(event, "fd", &fd))
			return lex_unsupported(p->lx, event.col, "an epoll event other than {events=..., fd=FD}");
		if (fd_handle(p, fd, app->expect_text) < 0)
			return -1;
	}
	return 0;
}

/* ioctl(FD, SIOCINQ|SIOCOUTQ, [N]) = 0: the bytes the socket counts (unread; unsent and unacked),
 * through the agent's ioctl op. */
static int lower_ioctl(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	int expected;
	if (token_is(call->args[1], "SIOCINQ"))
		app->ioctl_request = SIOCINQ;
	else if (token_is(call->args[1], "SIOCOUTQ"))
		app->ioctl_request = SIOCOUTQ;
	else
		return lex_unsupported(p->lx, call->args[1].col, "ioctl " TOKEN_FMT, TOKEN_ARG(call->args[1]));
	if (fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	app->op = APP_IOCTL;
	if (call->err || call->value != 0) {
		expect_result(call, app);
		return 0;
	}
	if (bracketed_int(p, call->args[2], &expected) < 0)
		return -1;
	app->expect = APP_EXPECT_VALUE;
	app->expect_value = expected;
	return 0;
}

/* A number, or one of the names a sock_extended_err's fields are written with. */
static int errqueue_field(struct pkt_parser *p, struct token t, unsigned *value)
{
	static const struct {
		const char *name;
		unsigned value;
	} names[] = { { "SO_EE_ORIGIN_ZEROCOPY", SO_EE_ORIGIN_ZEROCOPY },
		      { "SO_EE_CODE_ZEROCOPY_COPIED", SO_EE_CODE_ZEROCOPY_COPIED } };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (token_is(t, names[i].name)) {
			*value = names[i].value;
			return 0;
		}
	uint64_t number;
	if (t.len == 0 || !char_is_digit(t.s[0]))
		return lex_unsupported(p->lx, t.col, "error queue value " TOKEN_FMT, TOKEN_ARG(t));
	if (lex_uint(p->lx, t, 0, UINT32_MAX, &number) < 0)
		return -1;
	*value = (unsigned)number;
	return 0;
}

/* recvmsg(FD, {..., msg_flags=MSG_ERRQUEUE, msg_control=[{cmsg_level=.., cmsg_type=.., cmsg_data={ee_errno=..,
 * ee_origin=.., ee_type=.., ee_code=.., ee_info=.., ee_data=..}}]}, MSG_ERRQUEUE) = 0: one MSG_ZEROCOPY
 * notification (Documentation/networking/msg_zerocopy.rst), read from the error queue by the agent and
 * compared field by field; `msg_control=[]` with `= -1 EAGAIN`: none queued. Any other recvmsg is a
 * SKIP. */
static int lower_recvmsg(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app)
{
	struct token msg = call->args[1], field;
	if (!token_is(call->args[2], "MSG_ERRQUEUE"))
		return lex_unsupported(p->lx, call->name.col, "recvmsg other than MSG_ERRQUEUE");
	if (fd_handle(p, call->args[0], app->handle) < 0)
		return -1;
	app->op = APP_ERRQUEUE;
	app->timeout_ns = wait_of(p, call);
	expect_result(call, app);
	if (call->err)
		return 0;
	static const char *const fields[] = { "ee_errno", "ee_origin", "ee_type", "ee_code", "ee_info", "ee_data" };
	size_t used = 0;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		unsigned value = 0;
		if (!struct_field(msg, fields[i], &field))
			return lex_unsupported(p->lx, msg.col, "recvmsg(MSG_ERRQUEUE) without %s", fields[i]);
		if (errqueue_field(p, field, &value) < 0)
			return -1;
		used += (size_t)snprintf(app->expect_text + used, sizeof app->expect_text - used, "%s%s=%u",
					 i ? " " : "", fields[i], value);
	}
	return 0;
}

/* One row per call: its argument count and how it becomes an app call. A lowering returns 0 (an app
 * step), 1 (the line only marks time), or -1. */
static const struct pkt_syscall {
	const char *name;
	int arg_count;
	int (*lower)(struct pkt_parser *p, const struct pkt_call *call, struct app_call *app);
} pkt_syscalls[] = {
	{ "socket", 3, lower_socket },		{ "bind", 3, lower_bind },
	{ "listen", 2, lower_listen },		{ "accept", 3, lower_accept },
	{ "connect", 3, lower_connect },	{ "read", 3, lower_recv },
	{ "recv", 4, lower_recv },		{ "recvfrom", 6, lower_recv },
	{ "write", 3, lower_send },		{ "send", 4, lower_send },
	{ "sendto", 6, lower_send },		{ "close", 1, lower_close },
	{ "shutdown", 2, lower_shutdown },	{ "setsockopt", 5, lower_setsockopt },
	{ "getsockopt", 5, lower_getsockopt }, { "fcntl", -1, lower_fcntl },
	{ "poll", 3, lower_poll },		{ "recvmsg", 3, lower_recvmsg },
	{ "epoll_create", 1, lower_epoll_create }, { "epoll_ctl", 4, lower_epoll_ctl },
	{ "epoll_wait", 4, lower_epoll_wait },	{ "sendmsg", 3, lower_sendmsg },
	{ "ioctl", 3, lower_ioctl },
};

/* depth plus the brackets text[len] opens and less those it closes, outside quotes. */
static int bracket_depth(const char *text, size_t len, int depth)
{
	bool quoted = false;
	for (size_t i = 0; i < len; i++) {
		char ch = text[i];
		if (quoted || ch == '"')
			quoted = ch == '"' ? !quoted : quoted;
		else
			depth += (ch == '(' || ch == '[' || ch == '{') - (ch == ')' || ch == ']' || ch == '}');
	}
	return depth;
}

/* Adds text[len] to the gathered call, after a blank. */
static int add_call_text(struct pkt_parser *p, const char *text, size_t len)
{
	if (p->call_len + len + 2 > sizeof p->call_text)
		return lex_fail_at(p->lx, p->block_where, "a system call longer than %zu bytes", sizeof p->call_text - 2);
	if (p->call_len > 0)
		p->call_text[p->call_len++] = ' ';
	memcpy(p->call_text + p->call_len, text, len);
	p->call_len += len;
	p->call_text[p->call_len] = '\0';
	return 0;
}

static int parse_syscall(struct pkt_parser *p, struct step *s, int64_t span_ns);

/* The call's brackets closed: it is parsed as if written on its first line. */
static int finish_call(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	struct case_lexer saved = *lx;
	lx->line = p->call_text;
	lx->line_len = lx->code_len = p->call_len;
	lx->pos = p->call_pos;
	lx->line_no = p->call_line_no;
	int rc = parse_syscall(p, &p->call_step, p->call_span_ns);
	if (rc == 0)
		rc = case_append_step(lx, p->c, &p->call_step);
	rc = settle(p, rc);
	lx->line = saved.line;
	lx->line_len = saved.line_len;
	lx->code_len = saved.code_len;
	lx->pos = saved.code_len;
	lx->line_no = saved.line_no;
	return rc;
}

/* A call whose brackets stay open at the line's end: gathered until they close (BLOCK_CALL). */
static int start_call(struct pkt_parser *p, const struct step *s, int64_t span_ns, int depth)
{
	struct case_lexer *lx = p->lx;
	p->block = BLOCK_CALL;
	const char *open = memchr(lx->line + lx->pos, '(', lx->code_len - lx->pos);
	p->block_where = (struct source_location){ lx->line_no, open ? (int)(open - lx->line) + 1 : s->where.col };
	p->call_depth = depth;
	p->call_step = *s;
	p->call_span_ns = span_ns;
	p->call_len = 0;
	p->call_pos = lx->pos;
	p->call_line_no = lx->line_no;
	int rc = add_call_text(p, lx->line, lx->code_len);
	lx->pos = lx->code_len;
	return rc;
}

static int parse_syscall(struct pkt_parser *p, struct step *s, int64_t span_ns)
{
	struct case_lexer *lx = p->lx;
	struct pkt_call call;
	memset(&call, 0, sizeof call);
	call.span_ns = span_ns;
	if (!lex_next_word(lx, "(", &call.name) || lex_peek_char(lx) != '(')
		return lex_fail(lx, call.name.col, "expected a packet, a system call, a command or %%{ }%%");
	if (parse_arguments(p, &call) < 0 || parse_result(p, &call) < 0)
		return -1;
	const struct pkt_syscall *row = NULL;
	for (size_t i = 0; i < sizeof pkt_syscalls / sizeof pkt_syscalls[0]; i++)
		if (token_is(call.name, pkt_syscalls[i].name))
			row = &pkt_syscalls[i];
	if (!row)
		return lex_unsupported(lx, call.name.col, "system call " TOKEN_FMT, TOKEN_ARG(call.name));
	if (row->arg_count >= 0 && call.arg_count != row->arg_count)
		return lex_fail(lx, call.name.col, "%s takes %d arguments, not %d", row->name, row->arg_count,
				call.arg_count);
	/* The call blocks while later lines inject what it waits for: accept, a read, a connect's end, and
	 * a write or sendto, which waits for its connection and for room in the buffer (send_blocking). */
	bool waits = row->lower == lower_recv || row->lower == lower_accept || row->lower == lower_connect ||
		     row->lower == lower_send || row->lower == lower_poll || row->lower == lower_epoll_wait ||
		     row->lower == lower_sendmsg;
	if (span_ns > 0 && !waits)
		return lex_unsupported(lx, s->where.col, "a blocking call's span ('...') on %s", row->name);
	struct app_call *app = &s->u.app;
	int rc = row->lower(p, &call, app);
	if (rc < 0)
		return -1;
	s->kind = rc == 1 ? STEP_WAIT : STEP_APP;
	if (span_ns > 0 && row->lower == lower_connect && !call.err) {
		if (case_append_step(lx, p->c, s) < 0)
			return -1;
		connected_half(p, &call, s);
	} else if (span_ns > 0) {
		app->span_ns = span_ns;
		app->span_slack_ns = p->span_slack_ns;
	}
	return 0;
}

/* ---- packets ---- */

/* `[ect0]`, `[noecn]`, `[ect1]`, `[ce]`: the IP ECN field before the flags (syntax.md, opt_ip_info;
 * parser.y, ip_ecn), checked on an expected segment as packetdrill's TOS_CHECK_ECN checks it and written
 * on an injected one. The other IP fields (`[ect01]`, `[tos 0x..]`, `(flowlabel ..)`, `(ttl ..)`) are
 * beyond what tcpharness writes or checks. */
static int parse_ip_info(struct pkt_parser *p, struct segment_spec *spec)
{
	static const struct { const char *name; uint8_t ecn; } codepoints[] = {
		{ "noecn", IP_ECN_NOT_ECT }, { "ect1", IP_ECN_ECT1 }, { "ect0", IP_ECN_ECT0 }, { "ce", IP_ECN_CE },
	};
	struct case_lexer *lx = p->lx;
	char open = lex_peek_char(lx);
	if (open != '[' && open != '(')
		return 0;
	int col = lex_cursor_col(lx);
	const char *close = memchr(lx->line + lx->pos, open == '[' ? ']' : ')', lx->code_len - lx->pos);
	if (!close)
		return lex_fail(lx, col, "unterminated IP field %c", open);
	struct token inside = { lx->line + lx->pos + 1, (size_t)(close - lx->line) - lx->pos - 1, col + 1 };
	lx->pos = (size_t)(close - lx->line) + 1;
	for (size_t i = 0; open == '[' && i < sizeof codepoints / sizeof codepoints[0]; i++)
		if (token_is(trimmed(inside), codepoints[i].name)) {
			spec->has_ip_ecn = true;
			spec->ip_ecn = codepoints[i].ecn;
			return 0;
		}
	return lex_unsupported(lx, col, "the IP field %c%.*s%c", open, (int)inside.len, inside.s, open == '[' ? ']' : ')');
}

static void shift(struct spec_value *v, uint32_t by)
{
	if (v->kind == SPEC_VALUE)
		v->value = (uint32_t)(v->value + by);
}

/* packetdrill's remote sequence space (socket.h, remote_seq_script_to_live_offset): a script's SYN
 * or SYN-ACK gives the remote ISN as it is; every later segment's seq, and the ack and SACK edges the
 * stack sends back outside a SYN, count from that ISN. The peer's own ISN is 0, so those become
 * absolute here. */
static void remote_sequence_space(struct pkt_parser *p, bool injected, struct segment_spec *spec)
{
	bool syn = spec->flags & TCP_FLAG_SYN;
	if (injected && syn && spec->seq.kind == SPEC_VALUE) {
		p->remote_isn = (uint32_t)spec->seq.value;
		return;
	}
	if (syn && !injected && spec->seq.kind == SPEC_VALUE && spec->seq.value != 0) {
		/* The stack's SYN or SYN-ACK: its seq is the stack's ISN whatever the script wrote (socket.h,
		 * local_seq_script_to_live_offset maps the script's onto it; 0, the stack's ISN counted from
		 * itself, says so already), and the stack's later seqs count from the stack's ISN, not from
		 * the script's. */
		spec->seq = (struct spec_value){ SPEC_ANY, 0 };
		return;
	}
	if (syn)
		return;
	if (injected) {
		shift(&spec->seq, p->remote_isn);
		return;
	}
	shift(&spec->ack, p->remote_isn);
	for (size_t i = 0; i < spec->option_count; i++) {
		struct option_spec *o = &spec->options[i];
		for (int b = 0; o->kind == TCP_OPTION_SACK && b < 2 * o->sack_block_count; b++)
			shift(&o->v[b], p->remote_isn);
	}
}

/* A cookie the script spells out that is the stack's own for the script's addresses (its TFO_COOKIE
 * written as a literal: `FO 3021b9d889017eeb`) is the stack's for the run's addresses. */
static void find_stack_cookies(struct pkt_parser *p, struct segment_spec *spec)
{
	const char *key = NULL;
	for (int i = 0; i < p->c->sysctl_count; i++)
		if (!strcmp(p->c->sysctls[i].key, "net.ipv4.tcp_fastopen_key"))
			key = p->c->sysctls[i].value;
	uint8_t script_cookie[TCP_FASTOPEN_COOKIE_SIZE];
	bool known = key && tcp_fastopen_server_cookie(key, &p->script_remote, &p->script_local, script_cookie) == 0;
	for (size_t i = 0; i < spec->option_count; i++) {
		struct option_spec *o = &spec->options[i];
		if (known && (o->kind == TCP_OPTION_FAST_OPEN || o->kind == TCP_OPTION_EXPERIMENTAL) &&
		    o->cookie_len == TCP_FASTOPEN_COOKIE_SIZE && !memcmp(o->cookie, script_cookie, sizeof script_cookie))
			o->stack_cookie = true;
		p->c->uses_stack_cookie |= o->stack_cookie;
	}
}

/* A line's slack at delta_ns from the previous event: --tolerance_usecs, or --tolerance_percent of the
 * distance when that is more. */
static int64_t slack_of(const struct pkt_parser *p, int64_t delta_ns)
{
	int64_t proportional_ns = delta_ns * p->tolerance_per_mille / 1000;
	return proportional_ns > p->tolerance_ns ? proportional_ns : p->tolerance_ns;
}

static int parse_packet(struct pkt_parser *p, struct token direction, struct step *s)
{
	bool injected = token_is(direction, "<");
	struct token kind;
	if (lex_peek_token(p->lx, &kind) && (token_is(kind, "icmp") || token_is(kind, "udp") ||
					     token_is(kind, "ipv4") || token_is(kind, "ipv6") ||
					     token_is(kind, "gre") || token_is(kind, "mpls")))
		return lex_unsupported(p->lx, kind.col, "%.*s packets", (int)kind.len, kind.s);
	struct segment_spec *spec = &s->u.segment;
	s->kind = injected ? STEP_INJECT : STEP_EXPECT_SEGMENT;
	s->peer = 0;
	struct segment_spec ip_fields = { 0 };
	if (parse_ip_info(p, &ip_fields) < 0 ||
	    packet_parse_segment(p->lx, PACKET_NOTATION_PKT, injected, NULL, spec) < 0)
		return -1;
	spec->has_ip_ecn = ip_fields.has_ip_ecn;
	spec->ip_ecn = ip_fields.ip_ecn;
	if (injected && spec->win.kind == SPEC_UNSET)
		return lex_fail(p->lx, direction.col, "window must be specified for inbound packets");
	if (injected && (spec->flags & (TCP_FLAG_SYN | TCP_FLAG_ACK)) == TCP_FLAG_SYN && p->listener_under_test) {
		s->new_passive_open = p->passive_opens++ > 0;
		p->listener_under_test = false;
	}
	remote_sequence_space(p, injected, spec);
	find_stack_cookies(p, spec);
	for (size_t i = 0; i < spec->option_count; i++) {
		struct option_spec *o = &spec->options[i];
		if (o->kind != TCP_OPTION_TIMESTAMP)
			continue;
		/* packetdrill checks no outbound TS val unless --tcp_ts_tick_usecs (config.c: 0), and then
		 * within --tolerance_usecs or --tolerance_percent of the time since the script started
		 * (verify_outbound_tcp_option); it maps an inbound TS ecr onto the stack's TS clock
		 * (run_packet.c); `auto` echoes the stack's latest. */
		if (!injected && p->ts_tick_usecs && o->v[0].kind == SPEC_VALUE) {
			int64_t tolerance_ns = slack_of(p, p->script_ns);
			o->ts_tick_usecs = p->ts_tick_usecs;
			o->ts_tolerance_usecs = (uint32_t)(tolerance_ns / 1000);
		} else if (!injected) {
			o->v[0] = (struct spec_value){ SPEC_ANY, 0 };
		}
		else if (spec->flags & TCP_FLAG_ACK)
			o->v[1] = (struct spec_value){ SPEC_AUTO, 0 };
	}
	return 0;
}

/* The bytes an injected segment's options take on the wire, padded to a word (tcp_options.c). */
static size_t injected_options_length(const struct segment_spec *spec)
{
	size_t length = 0;
	for (size_t i = 0; i < spec->option_count; i++) {
		const struct option_spec *o = &spec->options[i];
		size_t cookie = o->stack_cookie ? TCP_FASTOPEN_COOKIE_SIZE : o->cookie_len;
		switch (o->kind) {
		case TCP_OPTION_EOL: case TCP_OPTION_NOP: length += 1; break;
		case TCP_OPTION_MSS: length += 4; break;
		case TCP_OPTION_WSCALE: length += 3; break;
		case TCP_OPTION_SACK_PERMITTED: length += 2; break;
		case TCP_OPTION_TIMESTAMP: length += 10; break;
		case TCP_OPTION_SACK: length += 2 + 8 * (size_t)o->sack_block_count; break;
		case TCP_OPTION_FAST_OPEN: length += 2 + cookie; break;
		default: length += 4 + cookie; break;
		}
	}
	return (length + 3) & ~(size_t)3;
}

static int append_packet(struct pkt_parser *p, const struct step *s)
{
	/* packetdrill's tun device takes an injected segment of any size, a veth no more than its MTU. */
	size_t ip_length = PKT_LINK_MSS + 40;
	if (s->kind == STEP_INJECT &&
	    40 + injected_options_length(&s->u.segment) + s->u.segment.payload_len > ip_length)
		return lex_unsupported(p->lx, s->where.col, "an injected segment longer than the link's MTU (%zu bytes)",
				       ip_length);
	return case_append_step(p->lx, p->c, s);
}

/* ---- events ---- */

/* The whole %{ }% text is in p->code_text: its conditions become one step at the block's time. */
static int finish_code_block(struct pkt_parser *p)
{
	struct step *s = &p->code_step;
	char *why = NULL;
	int rc = pkt_code_lower(p->code_text, p->code_len, &p->code_variables, s->u.tcp_info.conditions,
				sizeof s->u.tcp_info.conditions, &why);
	if (rc < 0)
		return lex_fail(p->lx, 1, "out of memory");
	if (rc == 0 && s->u.tcp_info.conditions[0] && !p->socket_under_test[0]) {
		rc = 1;
		why = strdup("%{ }% before any socket");
	}
	if (rc == 1) {
		record_unsupported(p, s->where, why ? why : "%{ }%");
		free(why);
		return 0;
	}
	s->kind = s->u.tcp_info.conditions[0] ? STEP_EXPECT_TCP_INFO : STEP_WAIT;
	snprintf(s->u.tcp_info.handle, sizeof s->u.tcp_info.handle, "%s", p->socket_under_test);
	return case_append_step(p->lx, p->c, s);
}

/* Adds text (up to a closing `}%`, which ends the block) to the open block. */
static int add_code_text(struct pkt_parser *p, const char *text, size_t len)
{
	const char *end = memmem(text, len, "}%", 2);
	size_t take = end ? (size_t)(end - text) : len;
	if (p->code_len + take + 1 >= sizeof p->code_text)
		return lex_fail_at(p->lx, p->block_where, "%%{ }%% block longer than %zu bytes", sizeof p->code_text - 2);
	memcpy(p->code_text + p->code_len, text, take);
	p->code_len += take;
	p->code_text[p->code_len++] = '\n';
	p->lx->pos = p->lx->code_len;
	if (!end)
		return 0;
	p->block = BLOCK_NONE;
	return finish_code_block(p);
}

/* `%{ ... }%`, the cursor on '%': Python that packetdrill runs on the socket's tcp_info. */
static int parse_code_block(struct pkt_parser *p, const struct step *s)
{
	struct case_lexer *lx = p->lx;
	p->code_step = *s;
	p->code_len = 0;
	p->block = BLOCK_CODE;
	p->block_where = s->where;
	/* The whole line, not code_len: Python's `//` is no comment. */
	size_t start = lx->pos + 2;
	return add_code_text(p, lx->line + start, lx->line_len - start);
}
static int parse_command(struct pkt_parser *p, const struct step *at);


/* packetdrill's command line, applied at the first event (commands and options, below). */
static int apply_command_line(struct pkt_parser *p);

/* `TIME ACTION`. */
static int parse_event(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	struct step s;
	memset(&s, 0, sizeof s);
	s.variant_mask = ~0u;
	s.peer = -1;
	s.line_index = lx->line_no - 1;
	struct token t;
	lex_next_token(lx, &t);
	s.where = (struct source_location){ lx->line_no, t.col };
	if (!p->seen_event && apply_command_line(p) < 0)
		return -1;
	p->seen_event = true;
	if (token_is(t, "*")) {
		/* `* > F. ...`: the stack's segment at any time (run.c, verify_time: ANY_TIME is not checked),
		 * counted from the previous event; the harness waits for it up to PKT_ANY_TIME_NS. */
		if (lex_peek_char(lx) != '>')
			return lex_unsupported(lx, t.col, "an event at any time ('*') other than an expected packet");
		s.when = (struct time_spec){ .relative = true, .has_window = true, .latest_ns = PKT_ANY_TIME_NS };
		s.where.col = lex_cursor_col(lx);
		struct token direction;
		lex_next_word(lx, "", &direction);
		if (parse_packet(p, direction, &s) < 0)
			return -1;
		return append_packet(p, &s);
	}
	/* `+.02 ~ +1.1`: a window written with blanks around its '~' (the kernel's scripts have it). */
	char range[2 * LINE_MAX_BYTES];
	struct token part;
	bool open_range = t.len > 0 && t.s[t.len - 1] == '~';
	bool spaced_range = open_range || (lex_peek_token(lx, &part) && part.s[0] == '~');
	if (spaced_range) {
		size_t used = 0;
		memcpy(range, t.s, t.len);
		used = t.len;
		while (lex_peek_token(lx, &part) && (open_range || part.s[0] == '~') && used + part.len < sizeof range) {
			lex_next_token(lx, &part);
			memcpy(range + used, part.s, part.len);
			used += part.len;
			open_range = range[used - 1] == '~';
		}
		t = (struct token){ range, used, t.col };
	}
	/* `+0...0.100`: the call may block 100 ms (syntax.md, opt_end_time). */
	struct token time = t;
	int64_t span_ns = 0;
	const char *dots = memmem(t.s, t.len, "...", 3);
	struct token spaced;
	if (!dots && !spaced_range && lex_peek_token(lx, &spaced) && spaced.len >= 3 && memcmp(spaced.s, "...", 3) == 0) {
		/* `+0 ...0.010` and `+.002 ... 0.004`: the same span, written with blanks. */
		lex_next_token(lx, &spaced);
		t = (struct token){ t.s, (size_t)(spaced.s + spaced.len - t.s), t.col };
		dots = spaced.s;
	}
	if (dots) {
		time = trimmed(sub_token(t, 0, (size_t)(dots - t.s)));
		size_t after = (size_t)(dots - t.s) + 3;
		struct token end = sub_token(t, after, t.len - after);
		if (end.len == 0 && !lex_next_token(lx, &end))
			return lex_fail(lx, t.col, "expected the end time after '...'");
		if (lex_duration(lx, end, &span_ns) < 0)
			return -1;
	}
	if (lex_time(lx, time, &s.when) < 0)
		return -1;
	/* `+a...b`: the call starts at a and returns at b, both counted as the line's time is. */
	if (dots) {
		span_ns -= s.when.earliest_ns;
		if (span_ns < 0)
			return lex_fail(lx, t.col, "a span ends before it starts");
		/* `+0...0 connect(...)`: it blocks still (the next lines run meanwhile), and returns at once;
		 * a span of 1 ns is that, within the line's slack. */
		if (span_ns == 0)
			span_ns = 1;
	}
	/* A system call's line happened when it was made, however long the agent took to answer
	 * (`+0 > P.` after three writes is due with the first one). */
	s.when.clock_at_call = true;
	int64_t at_ns = s.when.relative ? p->script_ns + s.when.earliest_ns : s.when.earliest_ns;
	int64_t delta_ns = at_ns - p->script_ns;
	p->script_ns = at_ns;
	/* A window `a~b` has the slack on both sides too (run.c, verify_time: from a - tolerance to
	 * b + tolerance). */
	s.when.tolerance_ns = slack_of(p, delta_ns);
	/* The end of a span is checked the same way, from the same previous event. */
	p->span_slack_ns = slack_of(p, delta_ns + span_ns);
	char next = lex_peek_char(lx);
	s.where.col = lex_cursor_col(lx);
	int rc;
	if (next == '<' || next == '>') {
		struct token direction;
		lex_next_word(lx, "", &direction);
		if (dots)
			return lex_fail(lx, t.col, "a packet line has no '...' span");
		if (parse_packet(p, direction, &s) < 0)
			return -1;
		return append_packet(p, &s);
	} else if (next == '`') {
		if (dots)
			return lex_fail(lx, t.col, "a command has no '...' span");
		return parse_command(p, &s);
	} else if (next == '%' && lx->pos + 1 < lx->code_len && lx->line[lx->pos + 1] == '{') {
		return parse_code_block(p, &s);
	} else if (next == '\0') {
		return lex_fail(lx, s.where.col, "expected an action after the time");
	} else {
		int depth = bracket_depth(lx->line + lx->pos, lx->code_len - lx->pos, 0);
		if (depth > 0)
			return start_call(p, &s, span_ns, depth);
		rc = parse_syscall(p, &s, span_ns);
	}
	if (rc < 0)
		return -1;
	return case_append_step(lx, p->c, &s);
}

/* ---- commands and options ---- */

/* One shell line of a backtick command, run at the case's start. */
static int run_shell_line(struct pkt_parser *p, struct token line, const char *origin)
{
	struct case_lexer *lx = p->lx;
	struct pkt_shell_effect effect;
	char *why = NULL;
	int rc = pkt_shell_line(line.s, line.len, p->dir, origin[0] != '\0', &effect, &why);
	if (rc != PKT_SHELL_DONE) {
		if (rc == PKT_SHELL_ERROR)
			lex_fail(lx, line.col, "%s%s", origin, why ? why : "out of memory");
		else
			lex_unsupported(lx, line.col, "%s%s", origin, why ? why : "?");
		free(why);
		pkt_shell_effect_free(&effect);
		return settle(p, -1);
	}
	for (int i = 0; i < effect.sysctl_count; i++) {
		struct case_file *c = p->c;
		int slot = 0;
		while (slot < c->sysctl_count && strcmp(c->sysctls[slot].key, effect.sysctls[i].key) != 0)
			slot++;
		if (slot == CASE_MAX_CASE_SYSCTLS) {
			pkt_shell_effect_free(&effect);
			return settle(p, lex_unsupported(lx, line.col, "more than %d sysctls", CASE_MAX_CASE_SYSCTLS));
		}
		c->sysctls[slot] = effect.sysctls[i];
		if (slot == c->sysctl_count)
			c->sysctl_count++;
	}
	if (effect.offloads_off)
		p->c->link_offloads = false;
	for (int i = 0; i < effect.file_line_count; i++) {
		char origin_here[CASE_UNSUPPORTED_TEXT];
		snprintf(origin_here, sizeof origin_here, "%.80s:%d: ", effect.file, effect.file_lines[i].number);
		struct token file_line = { effect.file_lines[i].text, strlen(effect.file_lines[i].text), line.col };
		if (run_shell_line(p, file_line, origin_here) < 0)
			break;
	}
	pkt_shell_effect_free(&effect);
	return lx->error ? -1 : 0;
}

/* The part of the current line up to a closing '`' (which ends the command) or the line's end. */
static int parse_command_text(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	lex_skip_blanks(lx);
	size_t start = lx->pos;
	const char *close = memchr(lx->line + start, '`', lx->line_len - start);
	size_t end = close ? (size_t)(close - lx->line) : lx->line_len;
	p->block = close ? BLOCK_NONE : BLOCK_COMMAND;
	lx->pos = close ? end + 1 : lx->code_len;
	struct token text = trimmed((struct token){ lx->line + start, end - start, (int)start + 1 });
	if (close && lex_peek_char(lx) != '\0')
		return lex_fail(lx, lex_cursor_col(lx), "unexpected text after the command's closing '`'");
	bool continues = text.len > 0 && text.s[text.len - 1] == '\\';
	if (continues)
		text = trimmed(sub_token(text, 0, text.len - 1));
	char joined[2 * LINE_MAX_BYTES];
	size_t prefix_len = strlen(p->continued);
	if (prefix_len > 0 && text.len > 0) {
		snprintf(joined, sizeof joined, "%s %.*s", p->continued, (int)text.len, text.s);
		text = (struct token){ joined, strlen(joined), text.col };
	}
	if (continues && prefix_len == 0) {
		/* The first line: what every continuation line repeats (`set_sysctls.py`, `sysctl -q`). */
		size_t words = pkt_shell_command_prefix(text.s, text.len);
		snprintf(p->continued, sizeof p->continued, "%.*s", (int)words, text.s);
		if (words == text.len)
			return 0;
	}
	if (!continues)
		p->continued[0] = '\0';
	if (text.len == 0)
		return 0;
	return run_shell_line(p, text, "");
}

/* The case needs the key a sysctl step sets: a stack without it SKIPs the case before it starts. */
static void require_sysctl(struct case_file *c, const char *key)
{
	for (int i = 0; i < c->require_count; i++)
		if (c->requires[i].kind == REQUIRE_SYSCTL && !strcmp(c->requires[i].name, key))
			return;
	if (c->require_count == CASE_MAX_REQUIRES)
		return;
	struct requirement *r = &c->requires[c->require_count++];
	r->kind = REQUIRE_SYSCTL;
	snprintf(r->name, sizeof r->name, "%s", key);
}

/* Bytes of text past `word` and the blanks after it, or NULL when text (at *at) does not start so. */
static const char *skip_word(const char *at, const char *end, const char *word)
{
	size_t n = strlen(word);
	if ((size_t)(end - at) < n || memcmp(at, word, n) != 0)
		return NULL;
	at += n;
	while (at < end && (*at == ' ' || *at == '\t'))
		at++;
	return at;
}

/* nstat (iproute2) keeps a history of the namespace's MIB counters and prints what moved since:
 * `nstat -n` (or `nstat > /dev/null`) as the script's first line only starts that history, as the
 * case's own counter baseline does; `nstat [-s] | grep NAME | grep -q " N "` then asks that NAME
 * moved by N since (nstat prints no line for a counter that did not move), an `expect counter`
 * step. A check without -s restarts the history, after which no check can follow. Returns 1 when
 * text is none of these. */
static int nstat_command(struct pkt_parser *p, const struct step *at, struct token text, int col)
{
	const char *end = text.s + text.len, *c = skip_word(text.s, end, "nstat");
	if (!c)
		return 1;
	if ((skip_word(c, end, "-n") == end || skip_word(c, end, "> /dev/null") == end ||
	     (skip_word(c, end, "-n") && skip_word(skip_word(c, end, "-n"), end, "> /dev/null") == end)))
		return p->c->step_count == 0 ? 0
					     : lex_unsupported(p->lx, col, "nstat restarting its history after the "
									"script began");
	bool keeps_history = skip_word(c, end, "-s") != NULL;
	if (keeps_history)
		c = skip_word(c, end, "-s");
	char name[64];
	size_t name_len = 0;
	if (!(c = skip_word(c, end, "| grep")))
		return 1;
	while (c < end && *c != ' ' && *c != '|' && name_len + 1 < sizeof name)
		name[name_len++] = *c++;
	name[name_len] = '\0';
	while (c < end && *c == ' ')
		c++;
	int delta = 0, used = 0;
	if (!(c = skip_word(c, end, "| grep -q")) || sscanf(c, "\" %d \"%n", &delta, &used) != 1 || c + used != end ||
	    delta <= 0 || p->nstat_restarted)
		return 1;
	/* nstat's names join the group to the counter: TcpExtBeyondWindow is TcpExt.BeyondWindow. */
	static const char *const groups[] = { "TcpExt", "IpExt", "Tcp", "Ip", "Icmp" };
	size_t group = 0;
	while (group < sizeof groups / sizeof groups[0] && strncmp(name, groups[group], strlen(groups[group])) != 0)
		group++;
	if (group == sizeof groups / sizeof groups[0])
		return 1;
	struct step s = *at;
	s.kind = STEP_EXPECT_COUNTER;
	snprintf(s.u.counter.name, sizeof s.u.counter.name, "%s.%s", groups[group], name + strlen(groups[group]));
	s.u.counter.delta = delta;
	p->nstat_restarted = !keeps_history;
	return case_append_step(p->lx, p->c, &s);
}

/* A one-line command at a time in the script (`+0 `sysctl -q net.ipv4.tcp_fastopen=0x402``): packetdrill
 * runs it then (run_command.c), so its sysctls become steps at that time, in the case's namespace.
 * Other commands, and one over several lines, would change the stack in ways the agent cannot. */
static int timed_command(struct pkt_parser *p, const struct step *at, struct token text, int col)
{
	struct case_lexer *lx = p->lx;
	if (pkt_shell_is_cleanup(text.s, text.len))
		return 0;
	int nstat = at && p->block == BLOCK_NONE ? nstat_command(p, at, text, col) : 1;
	if (nstat <= 0)
		return nstat;
	struct pkt_shell_effect effect;
	char *why = NULL;
	int rc = at && p->block == BLOCK_NONE ? pkt_shell_line(text.s, text.len, p->dir, false, &effect, &why)
					      : PKT_SHELL_UNSUPPORTED;
	bool only_sysctls = rc == PKT_SHELL_DONE && effect.file_line_count == 0 && effect.sysctl_count > 0;
	for (int i = 0; only_sysctls && i < effect.sysctl_count; i++)
		/* The run makes the stack's Fast Open cookies from the key it holds at the start. */
		only_sysctls = strcmp(effect.sysctls[i].key, "net.ipv4.tcp_fastopen_key") != 0;
	if (rc == PKT_SHELL_DONE)
		pkt_shell_effect_free(&effect);
	free(why);
	if (!only_sysctls)
		return lex_unsupported(lx, col, "a shell command while the script runs: '%.*s'", (int)text.len, text.s);
	struct step s = *at;
	s.kind = STEP_SYSCTL;
	for (int i = 0; i < effect.sysctl_count; i++) {
		s.u.sysctl = effect.sysctls[i];
		require_sysctl(p->c, s.u.sysctl.key);
		if (case_append_step(lx, p->c, &s) < 0)
			return -1;
		/* The rest of the line's sysctls at once after the first. */
		s.when = (struct time_spec){ .relative = true, .tolerance_ns = at->when.tolerance_ns, .clock_at_call = true };
	}
	return 0;
}

/* A backtick command: before the first event it prepares the case (sysctls); timed (at) or later it
 * changes the stack while the script runs. */
static int parse_command(struct pkt_parser *p, const struct step *at)
{
	struct case_lexer *lx = p->lx;
	int col = lex_cursor_col(lx);
	lx->pos++;
	if (at || p->seen_event) {
		const char *close = memchr(lx->line + lx->pos, '`', lx->line_len - lx->pos);
		struct token text = trimmed((struct token){ lx->line + lx->pos,
							    close ? (size_t)(close - lx->line) - lx->pos : lx->code_len - lx->pos,
							    col + 1 });
		p->block = close ? BLOCK_NONE : BLOCK_COMMAND_SKIPPED;
		p->block_where = (struct source_location){ lx->line_no, col };
		lx->pos = lx->code_len;
		return timed_command(p, at, text, col);
	}
	p->block_where = (struct source_location){ lx->line_no, col };
	return parse_command_text(p);
}

/* packetdrill's default addresses (its run_all.py, config.c): the stack's and the script's. */
static void set_default_script_addresses(struct pkt_parser *p, bool ipv6)
{
	ip_address_parse(ipv6 ? "fd3d:a0b:17d6::1" : "192.168.0.1", &p->script_local);
	ip_address_parse(ipv6 ? "fd3d:fa7b:d17d::1" : "192.0.2.1", &p->script_remote);
}

/* `--tolerance_percent=25` or `=12.5`: 0..100 with at most three decimals. */
static int parse_percent(struct pkt_parser *p, struct token value)
{
	size_t dot = token_find(value, '.');
	uint64_t whole, fraction = 0;
	struct token decimals = dot < value.len ? sub_token(value, dot + 1, value.len - dot - 1) : sub_token(value, 0, 0);
	if (lex_uint(p->lx, sub_token(value, 0, dot), 0, 100, &whole) < 0 ||
	    (decimals.len > 0 && lex_uint(p->lx, decimals, 0, 999, &fraction) < 0))
		return -1;
	for (size_t i = decimals.len; i < 3; i++)
		fraction *= 10;
	if (decimals.len > 3 || whole * 1000 + fraction > 100000)
		return lex_fail(p->lx, value.col, "--tolerance_percent is 0..100 with at most 3 decimals, not " TOKEN_FMT,
				TOKEN_ARG(value));
	p->tolerance_per_mille = (int64_t)(whole * 1000 + fraction) / 100;
	return 0;
}

/* `--tolerance_usecs=10000`: the options a script may start with (syntax.md, opt_options). */
static int apply_option(struct pkt_parser *p, struct token t)
{
	struct case_lexer *lx = p->lx;
	size_t equals = token_find(t, '=');
	struct token name = sub_token(t, 2, (equals < t.len ? equals : t.len) - 2);
	struct token value = equals < t.len ? sub_token(t, equals + 1, t.len - equals - 1) : sub_token(t, t.len, 0);
	if (token_is(name, "tolerance_usecs")) {
		uint64_t usecs;
		if (lex_uint(lx, value, 0, 60000000, &usecs) < 0)
			return -1;
		p->tolerance_ns = (int64_t)usecs * 1000;
	} else if (token_is(name, "tolerance_percent")) {
		if (parse_percent(p, value) < 0)
			return -1;
	} else if (token_is(name, "local_ip") || token_is(name, "remote_ip")) {
		/* The stack's and the script's addresses: the sandbox's own (192.0.2.1 and .2) stand in; the
		 * script's are kept for the cookies it spells out. */
		char text[IP_ADDRESS_TEXT_MAX];
		struct ip_address *address = token_is(name, "local_ip") ? &p->script_local : &p->script_remote;
		if (value.len >= sizeof text)
			return lex_fail(lx, value.col, "not an IP address: " TOKEN_FMT, TOKEN_ARG(value));
		token_copy(text, value);
		if (ip_address_parse(text, address) < 0)
			return lex_fail(lx, value.col, "not an IP address: " TOKEN_FMT, TOKEN_ARG(value));
		/* packetdrill runs a script in the family of the addresses it names (an IPv4 one in ipv4 or
		 * ipv4-mapped-ipv6; with --ip_version=ipv6 it fails to set them up, netdev.c). */
		p->c->families &= ip_address_is_ipv4(address) ? ~(1u << FAMILY_IPV6) : 1u << FAMILY_IPV6;
	} else if (token_is(name, "ip_version")) {
		/* packetdrill's names (config.c); the script runs in that family only. */
		static const char *const versions[] = { [FAMILY_IPV4] = "ipv4", [FAMILY_IPV6] = "ipv6",
							[FAMILY_MAPPED] = "ipv4-mapped-ipv6" };
		int family = -1;
		for (int f = 0; f < FAMILY_COUNT; f++)
			if (token_is(value, versions[f]))
				family = f;
		if (family < 0)
			return lex_fail(lx, value.col, "--ip_version is ipv4, ipv6 or ipv4-mapped-ipv6, not " TOKEN_FMT,
					TOKEN_ARG(value));
		p->c->families = 1u << family;
		if (family == FAMILY_IPV6)
			set_default_script_addresses(p, true);
	} else if (token_is(name, "tcp_ts_tick_usecs")) {
		/* packetdrill's check of the stack's TS vals (config.c: 0..1000000, 0 disables it). */
		uint64_t usecs;
		if (lex_uint(lx, value, 0, 1000000, &usecs) < 0)
			return -1;
		p->ts_tick_usecs = (uint32_t)usecs;
	} else if (token_is(name, "send_omit_free")) {
		/* packetdrill then keeps each send's buffer, so that a MSG_ZEROCOPY send's pinned pages are not
		 * rewritten before they leave (run_system_call.c, sendcall_may_free): only the payload's bytes
		 * could change, which no line compares. */
		if (value.len)
			return lex_fail(lx, value.col, "--send_omit_free takes no value");
	} else if (token_is(name, "strict_segments")) {
		/* The stack's segments one for one, none aggregated (run_packet.c, do_outbound_script_packet). */
		if (value.len)
			return lex_fail(lx, value.col, "--strict_segments takes no value");
		p->c->coalesce_segments = false;
	} else if (token_is(name, "mss")) {
		/* packetdrill's gso_size for the super-segments it injects through its tun device; an
		 * injected segment here is never longer than the link's MTU (append_packet). */
		uint64_t mss;
		if (lex_uint(lx, value, 1, UINT16_MAX, &mss) < 0)
			return -1;
	} else {
		return lex_unsupported(lx, t.col, "option " TOKEN_FMT, TOKEN_ARG(t));
	}
	return 0;
}

static int parse_option(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	struct token t;
	lex_next_token(lx, &t);
	if (p->seen_event)
		return lex_fail(lx, t.col, "options come before the first event");
	if (apply_option(p, t) < 0)
		return -1;
	return lex_expect_end(lx);
}

/* packetdrill's command-line options, after the script's own (they win), at its first event. */
static int apply_command_line(struct pkt_parser *p)
{
	for (int i = 0; p->command_line && i < p->command_line->option_count; i++) {
		const char *option = p->command_line->options[i];
		if (apply_option(p, (struct token){ option, strlen(option), 1 }) < 0)
			return -1;
	}
	return 0;
}

/* ---- lines ---- */

/* Skips the rest of a block comment from the cursor; false when it runs past this line. */
static bool skip_block_comment(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	const char *end = memmem(lx->line + lx->pos, lx->line_len - lx->pos, "*/", 2);
	if (!end) {
		if (p->block != BLOCK_COMMENT)
			p->block_where = (struct source_location){ lx->line_no, lex_cursor_col(lx) - 2 };
		p->block = BLOCK_COMMENT;
		lx->pos = lx->code_len;
		return false;
	}
	p->block = BLOCK_NONE;
	lx->pos = (size_t)(end - lx->line) + 2;
	return true;
}

static int parse_statement(struct pkt_parser *p)
{
	struct case_lexer *lx = p->lx;
	switch (p->block) {
	case BLOCK_COMMENT:
		if (!skip_block_comment(p))
			return 0;
		break;
	case BLOCK_CODE:
		return add_code_text(p, lx->line, lx->line_len);
	case BLOCK_COMMAND:
		return parse_command_text(p);
	case BLOCK_CALL:
		if (add_call_text(p, lx->line, lx->code_len) < 0)
			return -1;
		lx->pos = lx->code_len;
		p->call_depth = bracket_depth(lx->line, lx->code_len, p->call_depth);
		if (p->call_depth > 0)
			return 0;
		p->block = BLOCK_NONE;
		return finish_call(p);
	case BLOCK_COMMAND_SKIPPED:
		if (memchr(lx->line, '`', lx->line_len))
			p->block = BLOCK_NONE;
		return 0;
	case BLOCK_NONE:
		break;
	}
	char next = lex_peek_char(lx);
	if (next == '/' && lx->pos + 1 < lx->line_len && lx->line[lx->pos + 1] == '*') {
		lx->pos += 2;
		if (!skip_block_comment(p))
			return 0;
		next = lex_peek_char(lx);
	}
	if (next == '\0')
		return 0;
	if (next == '-' && lx->pos + 1 < lx->code_len && lx->line[lx->pos + 1] == '-')
		return parse_option(p);
	if (next == '`')
		return parse_command(p, NULL);
	return parse_event(p);
}

static int parse_line(void *parser)
{
	struct pkt_parser *p = parser;
	return settle(p, parse_statement(p));
}

/* The script's directory, for the files its commands name. */
static char *directory_of(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? strndup(path, (size_t)(slash - path)) : strdup(".");
}

static bool is_word_char(char ch)
{
	return char_is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_';
}

/* text with each defined NAME, as a whole word, replaced by its VALUE (packetdrill's -D, which its
 * lexer applies to every word). TFO_COOKIE is not replaced: a define gives the cookie for
 * packetdrill's addresses, and the run makes the one for its own (option_spec.stack_cookie). NULL
 * when out of memory. */
static char *substitute_defines(const char *text, size_t len, const struct pkt_command_line *pkt, size_t *out_len)
{
	size_t size = len + 1;
	char *out = malloc(size);
	size_t used = 0;
	for (size_t at = 0; out && at < len;) {
		size_t word = at;
		while (word < len && is_word_char(text[word]))
			word++;
		const char *value = NULL;
		for (int d = 0; word > at && d < pkt->define_count; d++) {
			const char *define = pkt->defines[d], *equals = strchr(define, '=');
			if (equals && (size_t)(equals - define) == word - at && !memcmp(define, text + at, word - at) &&
			    strncmp(define, "TFO_COOKIE=", strlen("TFO_COOKIE=")) != 0)
				value = equals + 1;
		}
		const char *piece = value ? value : text + at;
		size_t piece_len = value ? strlen(value) : word > at ? word - at : 1;
		if (used + piece_len + 1 > size) {
			size = 2 * (used + piece_len + 1);
			char *bigger = realloc(out, size);
			if (!bigger) {
				free(out);
				return NULL;
			}
			out = bigger;
		}
		memcpy(out + used, piece, piece_len);
		used += piece_len;
		at = word > at ? word : at + 1;
	}
	*out_len = used;
	return out;
}

int case_parse_pkt(struct case_lexer *lx, const char *text, size_t len, const struct pkt_command_line *pkt,
		   struct case_file *c)
{
	char *substituted = NULL;
	if (pkt && pkt->define_count > 0) {
		substituted = substitute_defines(text, len, pkt, &len);
		if (!substituted)
			return lex_fail(lx, 1, "out of memory");
		text = substituted;
	}
	struct pkt_parser p;
	memset(&p, 0, sizeof p);
	p.lx = lx;
	p.c = c;
	p.command_line = pkt;
	p.tolerance_ns = PKT_DEFAULT_TOLERANCE_NS;
	p.tolerance_per_mille = PKT_DEFAULT_TOLERANCE_PER_MILLE;
	set_default_script_addresses(&p, false);
	c->expected_segments_only = true;
	c->link_offloads = true;
	c->coalesce_segments = true;
	p.dir = directory_of(lx->path);
	if (!p.dir) {
		free(substituted);
		return lex_fail(lx, 1, "out of memory");
	}
	struct peer_decl *remote = &c->peers[c->peer_count++];
	strcpy(remote->name, "remote");
	remote->ip = PKT_REMOTE_IP;
	remote->port = PKT_PORT;
	remote->isn = 0;
	remote->ts_start = 1000;
	remote->ts_rate_hz = 1000;
	remote->where = (struct source_location){ 1, 1 };
	remote->follows_active_opens = true;
	int rc = lex_each_line(lx, text, len, "//", parse_line, &p);
	free(p.dir);
	free(substituted);
	if (rc < 0)
		return -1;
	static const char *const unterminated[] = {
		[BLOCK_COMMENT] = "unterminated comment", [BLOCK_CODE] = "unterminated '%{' block",
		[BLOCK_COMMAND] = "unterminated '`' command", [BLOCK_COMMAND_SKIPPED] = "unterminated '`' command",
		[BLOCK_CALL] = "unbalanced '(' in a system call",
	};
	if (p.block != BLOCK_NONE)
		return lex_fail_at(lx, p.block_where, "%s", unterminated[p.block]);
	if (c->step_count == 0 && c->unsupported_count == 0)
		return lex_fail_at(lx, (struct source_location){ 1, 1 }, "no events");
	return 0;
}
