/* test_case_parser.c - the case-file parser against the examples in tests/good, the malformed corpus in
 * tests/bad (checked line by line against tests/bad/EXPECTED), and hostile bytes.
 * Usage: test_case_parser [BAD_DIR [GOOD_DIR]]; or TCPHARNESS_BAD_DIR / TCPHARNESS_GOOD_DIR;
 * GOOD_DIR defaults to BAD_DIR/../good. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "case_parser.h"
#include "segment_format.h"
#include "pkt_code.h"
#include "symbols.h"

static const char *bad_dir;
static const char *good_dir;

#define MS 1000000LL
#define S 1000000000LL

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s: %s", path, strerror(errno));
	char *text = NULL;
	size_t capacity = 0;
	*len = 0;
	for (;;) {
		if (*len == capacity) {
			capacity = capacity ? 2 * capacity : 4096;
			text = realloc(text, capacity);
			assert_non_null(text);
		}
		size_t n = fread(text + *len, 1, capacity - *len, f);
		if (n == 0)
			break;
		*len += n;
	}
	fclose(f);
	return text;
}

static char *join(const char *dir, const char *name)
{
	char *path;
	assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
	return path;
}

static void parse_good(const char *name, struct case_file *c)
{
	char *path = join(good_dir, name);
	char *error = NULL;
	if (case_parse_file(path, c, &error) != 0)
		fail_msg("%s", error);
	assert_null(error);
	free(path);
}

/* Parses text that must be accepted. */
static void parse_ok(const char *text, struct case_file *c)
{
	char *error = NULL;
	if (case_parse_text("t.tc", text, strlen(text), c, &error) != 0)
		fail_msg("%s", error);
}

/* Checks `path:LINE:COL: message\n  <line>\n  <caret under COL>` and returns LINE and COL. */
static void assert_diagnostic_shape(const char *error, const char *path, int *line, int *col)
{
	size_t path_len = strlen(path);
	assert_non_null(error);
	assert_memory_equal(error, path, path_len);
	int consumed = 0;
	assert_int_equal(sscanf(error + path_len, ":%d:%d: %n", line, col, &consumed), 2);
	assert_true(consumed > 0);
	assert_true(*line >= 1);
	assert_true(*col >= 1);
	const char *source = strchr(error, '\n');
	assert_non_null(source);
	assert_memory_equal(source, "\n  ", 3);
	const char *caret = strchr(source + 1, '\n');
	assert_non_null(caret);
	assert_memory_equal(caret, "\n  ", 3);
	caret += 3;
	assert_int_equal(strlen(caret), (size_t)*col);
	for (int i = 0; i < *col - 1; i++)
		assert_true(caret[i] == ' ' || caret[i] == '\t');
	assert_int_equal(caret[*col - 1], '^');
}

/* Parses text that must be refused; checks that nothing escapes and returns the diagnostic. */
static char *parse_error_len(const char *text, size_t len)
{
	struct case_file c;
	memset(&c, 0xa5, sizeof c);
	char *error = NULL;
	assert_int_equal(case_parse_text("t.tc", text, len, &c, &error), -1);
	assert_null(c.lines);
	assert_null(c.steps);
	assert_null(c.path);
	assert_int_equal(c.step_count, 0);
	int line, col;
	assert_diagnostic_shape(error, "t.tc", &line, &col);
	return error;
}

static char *parse_error(const char *text)
{
	return parse_error_len(text, strlen(text));
}

static void assert_first_line(const char *error, const char *first_line)
{
	size_t n = strlen(first_line);
	if (strncmp(error, first_line, n) != 0 || error[n] != '\n')
		fail_msg("expected: %s\n     got: %s", first_line, error);
}

static void assert_error_starts(const char *text, const char *first_line)
{
	char *error = parse_error(text);
	assert_first_line(error, first_line);
	free(error);
}

static void assert_spec(struct spec_value v, enum spec_kind kind, int64_t value)
{
	assert_int_equal(v.kind, kind);
	assert_int_equal(v.value, value);
}

static void test_good_time_wait_fin(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("time_wait_fin.tc", &c);

	assert_int_equal(c.line_count, 24);
	assert_string_equal(c.lines[0], "# A FIN retransmitted into TIME_WAIT is re-ACKed, not reset.");
	assert_int_equal(c.target_ip, 0xc0000201);
	assert_int_equal(c.variant_count, 2);
	assert_string_equal(c.variants[1].name, "no-tw-bucket");
	assert_int_equal(c.variants[1].sysctl_count, 1);
	assert_string_equal(c.variants[1].sysctls[0].key, "net.ipv4.tcp_max_tw_buckets");
	assert_string_equal(c.variants[1].sysctls[0].value, "0");
	assert_int_equal(case_variant_index(&c, "tw-kept"), 0);
	assert_int_equal(case_variant_index(&c, "no-tw-bucket"), 1);
	assert_int_equal(case_variant_index(&c, "tw"), -1);
	assert_int_equal(c.sysctl_count, 1);
	assert_string_equal(c.sysctls[0].key, "net.ipv4.tcp_invalid_ratelimit");

	assert_int_equal(c.peer_count, 1);
	const struct peer_decl *peer = &c.peers[0];
	assert_string_equal(peer->name, "c");
	assert_int_equal(peer->ip, 0xc000020a);
	assert_int_equal(peer->port, 40000);
	assert_int_equal(peer->isn, 1000000);
	assert_int_equal(peer->ts_start, 1000);
	assert_int_equal(peer->ts_rate_hz, 1000);
	assert_int_equal(peer->target_port, 8080); /* from `app listen 8080` */
	assert_int_equal(peer->where.line, 7);
	assert_int_equal(peer->where.col, 1);

	assert_int_equal(c.step_count, 16);
	const struct step *s = &c.steps[0];
	assert_int_equal(s->kind, STEP_APP);
	assert_int_equal(s->u.app.op, APP_LISTEN);
	assert_string_equal(s->u.app.handle, "lsn");
	assert_int_equal(s->u.app.port, 8080);
	assert_false(s->when.relative);
	assert_int_equal(s->when.earliest_ns, 0);
	assert_int_equal(s->peer, -1);
	assert_int_equal(s->variant_mask, ~0u);
	assert_int_equal(s->line_index, 8);
	assert_int_equal(s->where.line, 9);
	assert_int_equal(s->where.col, 7);

	s = &c.steps[1];
	assert_int_equal(s->kind, STEP_INJECT);
	assert_int_equal(s->peer, 0);
	assert_true(s->when.relative);
	assert_int_equal(s->u.segment.flags, TCP_FLAG_SYN);
	assert_spec(s->u.segment.seq, SPEC_VALUE, 0);
	assert_int_equal(s->u.segment.payload_len, 0);
	assert_spec(s->u.segment.ack, SPEC_UNSET, 0);
	assert_spec(s->u.segment.win, SPEC_VALUE, 64240);
	assert_true(s->u.segment.has_options);
	assert_int_equal(s->u.segment.option_count, 5);
	assert_int_equal(s->u.segment.options[0].kind, TCP_OPTION_MSS);
	assert_spec(s->u.segment.options[0].v[0], SPEC_VALUE, 1460);
	assert_int_equal(s->u.segment.options[1].kind, TCP_OPTION_SACK_PERMITTED);
	assert_int_equal(s->u.segment.options[2].kind, TCP_OPTION_TIMESTAMP);
	assert_spec(s->u.segment.options[2].v[0], SPEC_VALUE, 100);
	assert_spec(s->u.segment.options[2].v[1], SPEC_VALUE, 0);
	assert_int_equal(s->u.segment.options[3].kind, TCP_OPTION_NOP);
	assert_int_equal(s->u.segment.options[4].kind, TCP_OPTION_WSCALE);
	assert_spec(s->u.segment.options[4].v[0], SPEC_VALUE, 7);

	s = &c.steps[2];
	assert_int_equal(s->kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(s->u.segment.flags, TCP_FLAG_SYN | TCP_FLAG_ACK);
	assert_spec(s->u.segment.ack, SPEC_VALUE, 1);
	assert_spec(s->u.segment.win, SPEC_UNSET, 0);
	assert_spec(s->u.segment.options[2].v[0], SPEC_ANY, 0);
	assert_spec(s->u.segment.options[2].v[1], SPEC_VALUE, 100);
	assert_spec(s->u.segment.options[4].v[0], SPEC_ANY, 0);

	s = &c.steps[3];
	assert_int_equal(s->u.segment.flags, TCP_FLAG_ACK);
	assert_spec(s->u.segment.seq, SPEC_VALUE, 1);
	assert_spec(s->u.segment.options[2].v[1], SPEC_AUTO, 0);

	assert_int_equal(c.steps[4].u.app.op, APP_ACCEPT);
	assert_string_equal(c.steps[4].u.app.handle, "conn");
	assert_string_equal(c.steps[4].u.app.from_handle, "lsn");
	assert_int_equal(c.steps[4].u.app.timeout_ns, 2 * S);
	assert_int_equal(c.steps[5].u.app.op, APP_CLOSE);
	assert_int_equal(c.steps[5].u.app.expect, APP_EXPECT_SUCCESS);
	assert_int_equal(c.steps[6].u.segment.flags, TCP_FLAG_FIN | TCP_FLAG_ACK);

	s = &c.steps[9];
	assert_true(s->when.relative);
	assert_int_equal(s->when.earliest_ns, 200 * MS);
	assert_int_equal(s->when.latest_ns, 200 * MS);
	assert_false(s->when.has_window);

	s = &c.steps[10];
	assert_int_equal(s->variant_mask, 1u);
	assert_int_equal(s->kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(s->where.line, 19);
	assert_int_equal(s->where.col, 19);
	s = &c.steps[11];
	assert_int_equal(s->kind, STEP_EXPECT_STATE);
	assert_int_equal(s->u.expected.state, tcp_state_from_name("TIME_WAIT"));
	assert_int_equal(s->peer, 0);
	s = &c.steps[12];
	assert_int_equal(s->variant_mask, 2u);
	assert_int_equal(s->u.segment.flags, TCP_FLAG_RST);
	assert_spec(s->u.segment.seq, SPEC_VALUE, 2);
	assert_false(s->u.segment.has_options);
	s = &c.steps[13];
	assert_int_equal(s->kind, STEP_EXPECT_COUNTER);
	assert_string_equal(s->u.counter.name, "TCPTimeWaitOverflow");
	assert_int_equal(s->u.counter.delta, 1);
	assert_int_equal(s->peer, -1);
	s = &c.steps[14];
	assert_int_equal(s->kind, STEP_EXPECT_NONE);
	assert_int_equal(s->u.none_window_ns, 100 * MS);
	s = &c.steps[15];
	assert_int_equal(s->u.app.op, APP_RECV);
	assert_int_equal(s->u.app.length, 10);
	assert_int_equal(s->u.app.timeout_ns, 500 * MS);
	assert_int_equal(s->u.app.expect, APP_EXPECT_ERRNO);
	assert_int_equal(s->u.app.expect_errno, ETIMEDOUT);
	assert_int_equal(s->line_index, 23);
	case_free(&c);
	assert_null(c.steps);
	case_free(&c);
}

static void test_good_every_construct_header(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("every_construct.tc", &c);

	assert_int_equal(c.target_ip, 0xc0000201);
	assert_int_equal(c.sysctl_count, 2);
	assert_string_equal(c.sysctls[0].key, "net.ipv4.ip_local_port_range");
	assert_string_equal(c.sysctls[0].value, "40000 40000");
	assert_string_equal(c.sysctls[1].value, "1");
	assert_int_equal(c.variant_count, 3);
	assert_string_equal(c.variants[2].name, "2x");
	assert_int_equal(c.variants[1].sysctl_count, 2);
	assert_string_equal(c.variants[1].sysctls[1].key, "net.ipv4.tcp_tw_reuse_delay");
	assert_string_equal(c.variants[1].sysctls[1].value, "1000");
	assert_int_equal(c.require_count, 3);
	assert_int_equal(c.requires[0].kind, REQUIRE_SYSCTL);
	assert_string_equal(c.requires[0].name, "net.ipv4.tcp_tw_reuse_delay");
	assert_string_equal(c.requires[1].name, "net.ipv4.tcp_rfc1337");
	assert_int_equal(c.requires[2].kind, REQUIRE_OPTION);
	assert_string_equal(c.requires[2].name, "wscale");
	assert_int_equal(c.requires[2].option, TCP_OPTION_WSCALE);
	assert_true(c.per_stack);

	assert_int_equal(c.peer_count, 3);
	assert_int_equal(c.peers[0].port, 40000);
	assert_int_equal(c.peers[0].isn, 1000000);
	assert_int_equal(c.peers[0].target_port, 8080); /* the first bind comes before the listen */
	assert_string_equal(c.peers[1].name, "b_2");
	assert_int_equal(c.peers[1].ip, c.peers[0].ip);
	assert_int_equal(c.peers[1].port, 5555);
	assert_int_equal(c.peers[1].isn, 4294967295u);
	assert_int_equal(c.peers[1].ts_start, 0);
	assert_int_equal(c.peers[1].ts_rate_hz, 1000000);
	assert_int_equal(c.peers[1].target_port, 9000);
	assert_int_equal(c.peers[2].ip, 0xc6336407);
	assert_int_equal(c.peers[2].port, 1);
	assert_int_equal(c.peers[2].target_port, 80);
	assert_int_equal(c.peers[2].ts_rate_hz, 250);
	assert_int_equal(c.peers[2].isn, 0);
	assert_int_equal(c.step_count, 28);
	case_free(&c);
}

static void test_good_every_construct_app(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("every_construct.tc", &c);
	const struct step *s = c.steps;

	assert_true(s[0].when.relative);
	assert_int_equal(s[0].u.app.op, APP_SOCKET);
	assert_string_equal(s[0].u.app.handle, "conn");
	assert_int_equal(s[0].u.app.timeout_ns, 0);

	assert_int_equal(s[1].when.earliest_ns, 500 * MS);
	assert_int_equal(s[1].u.app.op, APP_BIND);
	assert_int_equal(s[1].u.app.ip, 0xc0000201);
	assert_int_equal(s[1].u.app.port, 8080);

	assert_int_equal(s[2].when.earliest_ns, 1 * S);
	assert_string_equal(s[2].u.app.handle, "lsn2");
	assert_int_equal(s[2].u.app.port, 8081);
	assert_int_equal(s[2].u.app.backlog, 5);

	assert_int_equal(s[3].when.earliest_ns, 200 * MS);
	assert_int_equal(s[3].u.app.op, APP_ACCEPT);
	assert_string_equal(s[3].u.app.handle, "srv");
	assert_string_equal(s[3].u.app.from_handle, "lsn2");
	assert_int_equal(s[3].u.app.timeout_ns, 3 * S);
	assert_int_equal(s[3].u.app.expect, APP_EXPECT_ANY);

	assert_true(s[4].when.has_window);
	assert_false(s[4].when.relative);
	assert_int_equal(s[4].when.earliest_ns, 1500 * MS);
	assert_int_equal(s[4].when.latest_ns, 2 * S);
	assert_int_equal(s[4].u.app.op, APP_CONNECT);
	assert_int_equal(s[4].u.app.ip, 0xc000020a);
	assert_int_equal(s[4].u.app.port, 80);
	assert_int_equal(s[4].u.app.expect, APP_EXPECT_ERRNO);
	assert_int_equal(s[4].u.app.expect_errno, EINPROGRESS);

	assert_true(s[5].when.relative);
	assert_true(s[5].when.has_window);
	assert_int_equal(s[5].when.earliest_ns, 900 * MS);
	assert_int_equal(s[5].when.latest_ns, 1100 * MS);
	assert_int_equal(s[5].u.app.op, APP_CONNECTED);
	assert_string_equal(s[5].u.app.handle, "c1");
	assert_int_equal(s[5].u.app.timeout_ns, 250 * MS);
	assert_int_equal(s[5].u.app.expect, APP_EXPECT_VALUE);
	assert_int_equal(s[5].u.app.expect_value, 0);

	assert_int_equal(s[6].when.earliest_ns, 500 * MS);
	assert_int_equal(s[6].u.app.length, 1000);
	assert_int_equal(s[6].u.app.expect_value, 1000);
	assert_int_equal(s[7].when.earliest_ns, 100000);
	assert_int_equal(s[7].u.app.length, 65000);
	assert_int_equal(s[7].u.app.timeout_ns, 2 * S);
	assert_int_equal(s[8].when.earliest_ns, 2 * S);
	assert_int_equal(s[8].u.app.shutdown_how, SHUT_WR);
	assert_int_equal(s[9].when.earliest_ns, 2 * S);
	assert_int_equal(s[9].when.latest_ns, 2500 * MS);
	assert_int_equal(s[9].u.app.expect_value, -1);

	assert_int_equal(s[10].variant_mask, 1u);
	assert_int_equal(s[10].stack_count, 0);
	assert_int_equal(s[10].u.app.op, APP_SETSOCKOPT);
	assert_string_equal(s[10].u.app.option, "SO_LINGER");
	assert_int_equal(s[10].u.app.value_count, 2);
	assert_int_equal(s[10].u.app.values[0], 1);
	assert_int_equal(s[10].u.app.values[1], 0);
	assert_int_equal(s[11].variant_mask, 6u);
	assert_true(s[11].stacks_negated);
	assert_int_equal(s[11].stack_count, 2);
	assert_string_equal(s[11].stacks[0], "lwip");
	assert_string_equal(s[11].stacks[1], "gvisor");
	assert_int_equal(s[11].where.col, 34);
	assert_string_equal(s[11].u.app.option, "TCP_LINGER2");
	assert_int_equal(s[11].u.app.value_count, 1);
	assert_int_equal(s[11].u.app.values[0], -1);
	assert_int_equal(s[11].u.app.expect_errno, EINVAL);
	assert_int_equal(s[12].variant_mask, 5u);
	assert_int_equal(s[12].u.app.op, APP_GETSOCKOPT);
	assert_string_equal(s[12].u.app.option, "SO_ERROR");
	assert_int_equal(s[12].u.app.expect_value, 111);
	case_free(&c);
}

static void test_good_every_construct_segments(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("every_construct.tc", &c);
	const struct step *s = c.steps;

	const struct segment_spec *seg = &s[13].u.segment;
	assert_int_equal(s[13].kind, STEP_INJECT);
	assert_int_equal(s[13].peer, 0);
	assert_int_equal(seg->flags, TCP_FLAG_SYN | TCP_FLAG_ECE | TCP_FLAG_CWR | TCP_FLAG_URG);
	assert_spec(seg->seq, SPEC_VALUE, 4294967295);
	assert_int_equal(seg->payload_len, 5);
	assert_spec(seg->win, SPEC_VALUE, 0);
	assert_true(seg->has_options);
	assert_int_equal(seg->option_count, 0);

	seg = &s[14].u.segment;
	assert_int_equal(seg->flags, TCP_FLAG_PSH | TCP_FLAG_ACK);
	assert_int_equal(seg->payload_len, 100);
	assert_spec(seg->ack, SPEC_VALUE, 4294967295);
	assert_spec(seg->win, SPEC_VALUE, 65535);
	assert_int_equal(seg->option_count, 4);
	assert_spec(seg->options[0].v[0], SPEC_RELATIVE, 5);
	assert_spec(seg->options[0].v[1], SPEC_AUTO, 0);
	assert_spec(seg->options[1].v[0], SPEC_RELATIVE, -3);
	assert_spec(seg->options[1].v[1], SPEC_VALUE, 7);
	assert_spec(seg->options[2].v[0], SPEC_AUTO, 0);
	assert_int_equal(seg->options[3].kind, TCP_OPTION_EOL);

	seg = &s[15].u.segment;
	assert_int_equal(s[15].kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(s[15].peer, 1);
	assert_int_equal(seg->flags, TCP_FLAG_RST | TCP_FLAG_PSH);
	assert_spec(seg->ack, SPEC_ANY, 0);
	assert_spec(seg->win, SPEC_ANY, 0);
	assert_int_equal(seg->option_count, 5);
	assert_spec(seg->options[0].v[0], SPEC_ANY, 0);
	assert_spec(seg->options[1].v[0], SPEC_VALUE, 14);
	assert_int_equal(seg->options[2].kind, TCP_OPTION_SACK);
	assert_int_equal(seg->options[2].sack_block_count, 4);
	assert_spec(seg->options[2].v[0], SPEC_VALUE, 1);
	assert_spec(seg->options[2].v[1], SPEC_VALUE, 2);
	assert_spec(seg->options[2].v[2], SPEC_ANY, 0);
	assert_spec(seg->options[2].v[3], SPEC_VALUE, 5);
	assert_spec(seg->options[2].v[5], SPEC_ANY, 0);
	assert_spec(seg->options[2].v[7], SPEC_VALUE, 10);
	assert_int_equal(seg->options[3].kind, TCP_OPTION_NOP);
	assert_int_equal(seg->options[4].kind, TCP_OPTION_SACK_PERMITTED);

	assert_false(s[16].u.segment.has_options);
	assert_spec(s[16].u.segment.ack, SPEC_UNSET, 0);
	seg = &s[17].u.segment;
	assert_int_equal(s[17].peer, 2);
	assert_spec(seg->options[0].v[0], SPEC_ANY, 0);
	assert_spec(seg->options[0].v[1], SPEC_ANY, 0);
	assert_int_equal(seg->options[1].sack_block_count, 1);

	assert_int_equal(s[18].kind, STEP_EXPECT_NONE);
	assert_int_equal(s[18].u.none_window_ns, 0);
	assert_int_equal(s[19].u.none_window_ns, 1500 * MS);
	case_free(&c);
}

static void test_good_every_construct_other_events(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("every_construct.tc", &c);
	const struct step *s = c.steps;

	assert_int_equal(s[20].kind, STEP_EXPECT_COUNTER);
	assert_string_equal(s[20].u.counter.name, "TcpExt.PAWSEstab");
	assert_int_equal(s[20].u.counter.delta, -2);
	assert_int_equal(s[21].u.counter.delta, 0);
	assert_int_equal(s[22].kind, STEP_EXPECT_STATE);
	assert_int_equal(s[22].peer, 1);
	assert_int_equal(s[22].u.expected.state, TCP_STATE_NO_SOCKET);
	assert_false(s[22].stacks_negated);
	assert_int_equal(s[22].stack_count, 1);
	assert_string_equal(s[22].stacks[0], "linux");
	assert_int_equal(s[23].kind, STEP_WAIT);
	assert_int_equal(s[23].when.earliest_ns, 1 * S);
	assert_int_equal(s[24].kind, STEP_INCARNATION);
	assert_int_equal(s[24].u.incarnation.seq_delta, 100000);
	assert_int_equal(s[24].u.incarnation.ts_delta, -5);
	assert_int_equal(s[25].u.incarnation.seq_delta, 0);
	assert_int_equal(s[25].u.incarnation.ts_delta, 1);
	assert_int_equal(s[26].kind, STEP_INCARNATION);
	assert_int_equal(s[26].peer, 1);
	assert_int_equal(s[27].kind, STEP_TSCLOCK_JUMP);
	assert_int_equal(s[27].peer, 2);
	assert_int_equal(s[27].u.ts_jump, -4294967295LL);
	assert_int_equal(s[27].where.line, 43);
	assert_int_equal(s[27].where.col, 4);
	case_free(&c);
}

static void test_good_packetdrill_style(void **state)
{
	(void)state;
	struct case_file c;
	parse_good("packetdrill_style.tc", &c);
	assert_int_equal(c.line_count, 10);
	for (int i = 0; i < c.line_count; i++)
		assert_null(strchr(c.lines[i], '\r'));
	assert_string_equal(c.lines[9], "+0 app accept = 4"); /* no newline at the end of the file */
	assert_int_equal(c.peers[0].target_port, 8080);
	assert_int_equal(c.step_count, 7);
	assert_int_equal(c.steps[0].u.app.op, APP_BIND);
	assert_int_equal(c.steps[0].u.app.ip, 0);
	assert_int_equal(c.steps[2].kind, STEP_INJECT);
	assert_int_equal(c.steps[2].peer, 0);
	assert_int_equal(c.steps[2].when.earliest_ns, 100 * MS);
	assert_int_equal(c.steps[2].where.col, 8);
	assert_spec(c.steps[2].u.segment.options[5].v[0], SPEC_VALUE, 10);
	assert_int_equal(c.steps[3].kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(c.steps[4].when.earliest_ns, 100 * MS);
	assert_int_equal(c.steps[5].kind, STEP_EXPECT_STATE);
	assert_int_equal(c.steps[5].peer, 0);
	assert_int_equal(c.steps[5].u.expected.state, tcp_state_from_name("ESTABLISHED"));
	assert_int_equal(c.steps[6].u.app.expect_value, 4);
	case_free(&c);
}

/* Every file in tests/bad against its line in EXPECTED, and every file has one. */
static void test_bad_corpus(void **state)
{
	(void)state;
	char *expected_path = join(bad_dir, "EXPECTED");
	size_t expected_len;
	char *expected = read_file(expected_path, &expected_len);
	expected = realloc(expected, expected_len + 1);
	assert_non_null(expected);
	expected[expected_len] = '\0';
	char *listing = strdup(expected); /* strtok_r below cuts `expected` up */
	assert_non_null(listing);

	int checked = 0;
	char *saveptr = NULL;
	for (char *want = strtok_r(expected, "\n", &saveptr); want; want = strtok_r(NULL, "\n", &saveptr)) {
		if (want[0] == '#')
			continue;
		/* `tests/bad/NAME.tc:...` or `NAME.pkt:...`: the display path is what the parser names in the
		 * message, and its extension picks the notation. */
		char *end = strstr(want, ".tc:");
		size_t extension = 3;
		if (!end) {
			end = strstr(want, ".pkt:");
			extension = 4;
		}
		assert_non_null(end);
		char *display = strndup(want, (size_t)(end - want) + extension);
		const char *name = strrchr(display, '/') ? strrchr(display, '/') + 1 : display;
		char *path = join(bad_dir, name);
		size_t len;
		char *text = read_file(path, &len);

		struct case_file c;
		char *error = NULL;
		int rc = case_parse_text(display, text, len, &c, &error);
		if (rc == 0)
			fail_msg("%s was accepted", path);
		size_t first_len = strcspn(error, "\n");
		if (first_len != strlen(want) || memcmp(error, want, first_len) != 0)
			fail_msg("%s\nexpected: %s\n     got: %.*s", path, want, (int)first_len, error);
		int line, col;
		assert_diagnostic_shape(error, display, &line, &col);
		free(error);
		free(text);
		free(path);
		free(display);
		checked++;
	}

	DIR *dir = opendir(bad_dir);
	assert_non_null(dir);
	int files = 0;
	for (struct dirent *entry; (entry = readdir(dir));) {
		size_t n = strlen(entry->d_name);
		if ((n < 3 || strcmp(entry->d_name + n - 3, ".tc") != 0) &&
		    (n < 4 || strcmp(entry->d_name + n - 4, ".pkt") != 0))
			continue;
		char needle[300];
		snprintf(needle, sizeof needle, "/%s:", entry->d_name);
		if (!strstr(listing, needle))
			fail_msg("%s has no line in EXPECTED", entry->d_name);
		files++;
	}
	closedir(dir);
	assert_int_equal(files, checked);
	assert_true(checked >= 25);
	free(listing);
	free(expected);
	free(expected_path);
}

/* `old S:E(L)` on an expected SYN, `ecr auto from PEER` naming the peer by its index + 1. */
static void test_old_numbers_and_ecr_from(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer o 192.0.2.10:80\npeer n 192.0.2.10:80\n"
		 "0 n > S old 65539:65539(0) <TS val * ecr auto from o>\n"
		 "+0 n < S. 0:0(0) ack 1 <TS val 5 ecr auto from n>\n"
		 "+0 o < . 1:1(0) ack 1 <TS val 6 ecr auto>\n",
		 &c);
	assert_true(c.steps[0].u.segment.seq_in_old_numbers);
	assert_int_equal(c.steps[0].u.segment.seq.value, 65539);
	assert_int_equal(c.steps[0].u.segment.options[0].v[1].kind, SPEC_AUTO);
	assert_int_equal(c.steps[0].u.segment.options[0].v[1].value, 1);
	assert_false(c.steps[1].u.segment.seq_in_old_numbers);
	assert_int_equal(c.steps[1].u.segment.options[0].v[1].value, 2);
	assert_int_equal(c.steps[2].u.segment.options[0].v[1].value, 0);
	char text[128];
	segment_format_spec(&c.steps[0].u.segment, text, sizeof text, NULL);
	assert_memory_equal(text, "S old 65539:65539(0) ", strlen("S old 65539:65539(0) "));
	case_free(&c);
}

static void test_time_forms(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("0.0000000019 wait\n3600 wait\n3600000ms wait\n+1.5us wait\n0~0 wait\n.000001s wait\n", &c);
	assert_int_equal(c.steps[0].when.earliest_ns, 1); /* digits past a nanosecond are dropped */
	assert_int_equal(c.steps[1].when.earliest_ns, 3600 * S);
	assert_int_equal(c.steps[2].when.earliest_ns, 3600 * S);
	assert_int_equal(c.steps[3].when.earliest_ns, 1500);
	assert_true(c.steps[4].when.has_window);
	assert_int_equal(c.steps[5].when.earliest_ns, 1000);
	case_free(&c);

	assert_error_starts("3600000001ms wait", "t.tc:1:1: time out of range (max 3600 s)");
	assert_error_starts("99999999999999999999999999999 wait", "t.tc:1:1: time out of range (max 3600 s)");
	assert_error_starts("+-1 wait", "t.tc:1:1: negative time '+-1'");
	assert_error_starts("1. wait", "t.tc:1:1: invalid time '1.'");
	assert_error_starts("+ wait", "t.tc:1:1: invalid time '+'");
	assert_error_starts("1~ wait", "t.tc:1:3: expected the end of the time window after '~'");
	assert_error_starts("0 app recv 5 within +1s", "t.tc:1:21: expected a duration like 100ms, got '+1s'");
}

/* Every family unless the case pins some: `family 4`, `family 6 mapped`. */
static void test_family_line(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer c 192.0.2.10\n0 wait\n", &c);
	assert_int_equal(c.families, FAMILY_ALL);
	case_free(&c);
	parse_ok("family 4\npeer c 192.0.2.10\n0 wait\n", &c);
	assert_int_equal(c.families, 1u << FAMILY_IPV4);
	case_free(&c);
	parse_ok("family 6 mapped\npeer c 192.0.2.10\n0 wait\n", &c);
	assert_int_equal(c.families, 1u << FAMILY_IPV6 | 1u << FAMILY_MAPPED);
	case_free(&c);
	assert_error_starts("family 4\n0 wait\nfamily 6\n", "t.tc:3:1: 'family' must come before the first step");
	assert_error_starts("family ipv7\n0 wait\n", "t.tc:1:8: expected 4, 6 or mapped, got 'ipv7'");
	assert_error_starts("family 6 6\n0 wait\n", "t.tc:1:10: family ipv6 given twice");
}

static void test_header_rules(void **state)
{
	(void)state;
	struct case_file c;
	/* Two peers behind one NAT address; the target declared after them; no listen: ports learned. */
	parse_ok("peer a 192.0.2.10:1000\npeer b 192.0.2.10:1001\ntarget 192.0.2.9\n0 wait\n", &c);
	assert_int_equal(c.target_ip, 0xc0000209);
	assert_int_equal(c.peers[0].target_port, 0);
	assert_int_equal(c.peers[1].isn, 2000000);
	case_free(&c);

	/* The default port 40000 + index collides with an explicit one. */
	assert_error_starts("peer a 192.0.2.10:40001\npeer b 192.0.2.10\n0 wait",
			    "t.tc:2:8: peer 'b' gets the default port 40001, already peer 'a''s on 192.0.2.10; "
			    "write the port to share it");
	/* Written out, a shared 4-tuple is deliberate: an old and a new connection on it. */
	parse_ok("peer old 192.0.2.10:80\npeer new 192.0.2.10:80\n0 wait\n", &c);
	assert_int_equal(c.peer_count, 2);
	assert_int_equal(c.peers[1].port, 80);
	case_free(&c);
	/* The check against the default target happens once the header is complete. */
	assert_error_starts("peer a 192.0.2.1\n# comment\n0 wait",
			    "t.tc:1:8: peer 'a' has the target's address 192.0.2.1");
	assert_error_starts("target 192.0.2.1\ntarget 192.0.2.2\n0 wait", "t.tc:2:1: duplicate 'target'");
	assert_error_starts("sysctl\n0 wait", "t.tc:1:7: expected KEY=VALUE");
	assert_error_starts("sysctl net.=1\n0 wait", "t.tc:1:11: sysctl key ends with '.'");
	assert_error_starts("sysctl net.ipv4.a=1=2 net.x\n0 wait", "t.tc:1:23: expected KEY=VALUE, got 'net.x'");
	assert_error_starts("peer abcdefghijklmnopq 192.0.2.10\n0 wait",
			    "t.tc:1:6: invalid peer name 'abcdefghijklmnopq' (expected [a-z][a-z0-9_]{0,15})");
	assert_error_starts("peer a 192.0.2.10 isn 5 isn 6\n0 wait", "t.tc:1:25: duplicate 'isn'");
	assert_error_starts("variant v net.ipv4.x=1\n0 wait", "t.tc:1:11: expected 'sysctl', got 'net.ipv4.x=1'");

	char key[200];
	snprintf(key, sizeof key, "require sysctl net.%0128d\n0 wait", 0);
	assert_error_starts(key, "t.tc:1:16: sysctl key too long (max 127 bytes)");
}

static void test_step_rules(void **state)
{
	(void)state;
	assert_error_starts("peer c 192.0.2.10\n0 expect state", "t.tc:2:15: expected a TCP state");
	assert_error_starts("peer a 192.0.2.10\npeer b 192.0.2.11\n0 expect state LISTEN",
			    "t.tc:3:3: several peers declared; name the peer before 'expect'");
	assert_error_starts("0 expect state LISTEN", "t.tc:1:3: no peer declared");
	assert_error_starts("peer c 192.0.2.10\n0 c > none within", "t.tc:2:18: expected a duration");
	assert_error_starts("peer c 192.0.2.10\n0 c > none soon", "t.tc:2:12: expected 'within' after 'none', got 'soon'");
	assert_error_starts("peer c 192.0.2.10\n0 c < S 0:0(0) <TS val 1 ecr 2 3>",
			    "t.tc:2:32: expected ',' or '>' after a TCP option, got '3'");
	assert_error_starts("peer c 192.0.2.10\n0 c < S 0:0(0) <sack>", "t.tc:2:21: expected a SACK block L:R");
	assert_error_starts("peer c 192.0.2.10\n0 c < S 0:0(0) <mss 1,,nop>", "t.tc:2:23: expected a TCP option");
	assert_error_starts("peer c 192.0.2.10\n0 c < SS 0:0(0)", "t.tc:2:8: duplicate TCP flag 'S'");
	assert_error_starts("peer c 192.0.2.10\n0 c tsclock 5", "t.tc:2:13: expected a signed number like +1 or -1, got '5'");
	assert_error_starts("peer c 192.0.2.10\n0 c incarnation seq +1 seq +2", "t.tc:2:24: duplicate 'seq'");
	assert_error_starts("0 app", "t.tc:1:6: expected an app call");
	assert_error_starts("0 app accept from", "t.tc:1:18: expected a listener handle");
	assert_error_starts("0 app listen 80 =", "t.tc:1:18: expected a result after '='");
	assert_error_starts("0 app setsockopt SO_KEEPALIVE 1 2", "t.tc:1:33: SO_KEEPALIVE takes 1 value");
	assert_error_starts("0 app setsockopt SO_LINGER 1 x", "t.tc:1:30: expected a number, got 'x'");
	assert_error_starts("0 app getsockopt SO_ERROR = 2147483648", "t.tc:1:29: number out of range (0..2147483647)");
	assert_error_starts("0 app connect 192.0.2.10", "t.tc:1:15: expected IP:PORT, got '192.0.2.10'");
	assert_error_starts("0 expect counter Bad-Name +1", "t.tc:1:18: invalid counter name 'Bad-Name'");
	assert_error_starts("[nope] 0 wait", "t.tc:1:2: unknown variant 'nope'");
	assert_error_starts("variant v sysctl net.x=1\n[v 0 wait", "t.tc:2:4: expected ',' or ']' in the variant list");
	assert_error_starts("0", "t.tc:1:2: expected an event after the time");
	assert_error_starts("0 frobnicate", "t.tc:1:3: unknown event 'frobnicate'");

	/* A handle named like a call keyword is the keyword, not the handle. */
	struct case_file c;
	parse_ok("0 app shutdown rd\n0 app close rd\n0 app listen backlog_x 80\n", &c);
	assert_int_equal(c.steps[0].u.app.shutdown_how, SHUT_RD);
	assert_string_equal(c.steps[0].u.app.handle, "conn");
	assert_string_equal(c.steps[1].u.app.handle, "rd");
	assert_string_equal(c.steps[2].u.app.handle, "backlog_x");
	assert_int_equal(c.steps[2].u.app.backlog, 128);
	case_free(&c);
}

/* `expect state NAME timer A~B`: a window of durations for the socket's pending timer. */
static void test_state_timer(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer c 192.0.2.10\n0 expect state TIME_WAIT timer 59.5~60\n0 expect state NONE\n"
		 "0 c expect state SYN_SENT timer 500ms~1s\n",
		 &c);
	assert_true(c.steps[0].u.expected.check_timer);
	assert_int_equal(c.steps[0].u.expected.timer_min_ns, 59500000000LL);
	assert_int_equal(c.steps[0].u.expected.timer_max_ns, 60000000000LL);
	assert_false(c.steps[1].u.expected.check_timer);
	assert_int_equal(c.steps[2].u.expected.timer_min_ns, 500000000LL);
	case_free(&c);
	assert_error_starts("peer c 192.0.2.10\n0 expect state TIME_WAIT timer 60",
			    "t.tc:2:32: expected a timer window like 59~60, got '60'");
	assert_error_starts("peer c 192.0.2.10\n0 expect state TIME_WAIT timer 60~59",
			    "t.tc:2:32: timer window '60~59' ends before it starts");
	assert_error_starts("peer c 192.0.2.10\n0 expect state TIME_WAIT soon",
			    "t.tc:2:26: expected 'timer', 'for' or the end of the line, got 'soon'");
	assert_error_starts("peer c 192.0.2.10\n0 expect state TIME_WAIT timer", "t.tc:2:31: expected a timer window like 59~60");
}

/* `for T` after `expect state` (also after a timer window) and `expect counter`: a quiet period. */
static void test_hold(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer c 192.0.2.10\n0 expect state CLOSE_WAIT for 1\n0 expect counter PAWSEstab +0 for 500ms\n"
		 "0 expect state TIME_WAIT timer 59~60 for 0.1\n0 expect counter PAWSEstab +1\n",
		 &c);
	assert_int_equal(c.steps[0].hold_ns, 1000000000LL);
	assert_int_equal(c.steps[1].hold_ns, 500000000LL);
	assert_int_equal(c.steps[1].u.counter.delta, 0);
	assert_true(c.steps[2].u.expected.check_timer);
	assert_int_equal(c.steps[2].hold_ns, 100000000LL);
	assert_int_equal(c.steps[3].hold_ns, 0);
	case_free(&c);
	assert_error_starts("peer c 192.0.2.10\n0 expect counter X +1 for", "t.tc:2:26: expected a duration like 500ms");
	assert_error_starts("peer c 192.0.2.10\n0 expect counter X +1 for 0", "t.tc:2:27: 'for' takes a duration longer than 0");
	assert_error_starts("peer c 192.0.2.10\n0 expect counter X +1 until 1",
			    "t.tc:2:23: expected 'for' or the end of the line, got 'until'");
	assert_error_starts("peer c 192.0.2.10\n0 expect state NONE for 1 more", "t.tc:2:27: unexpected 'more'");
}

/* `sysctl K=V = ERRNO`: a write the stack must refuse, in a statement and in a variant. */
static void test_sysctl_refused(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("sysctl net.ipv4.tcp_tw_reuse_delay=0 = EINVAL net.ipv4.tcp_tw_reuse=1\n"
		 "variant v sysctl net.ipv4.tcp_fin_timeout=0 = EINVAL\npeer c 192.0.2.10\n0 wait\n", &c);
	assert_int_equal(c.sysctl_count, 2);
	assert_int_equal(c.sysctls[0].refused_with, EINVAL);
	assert_string_equal(c.sysctls[0].value, "0");
	assert_int_equal(c.sysctls[1].refused_with, 0);
	assert_int_equal(c.variants[0].sysctls[0].refused_with, EINVAL);
	case_free(&c);
	assert_error_starts("sysctl net.ipv4.x=0 = ENOPE\n", "t.tc:1:23: unknown errno name 'ENOPE'");
	assert_error_starts("sysctl net.ipv4.x=0 =\n", "t.tc:1:22: expected an errno name like EINVAL");
}

/* `expect clock A B same|offset` compares two peers; A is the step's peer. */
static void test_expect_clock(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer a 192.0.2.10:1\npeer b 192.0.2.10:2\n0 expect clock b a same\n0 outcome expect clock a b offset\n", &c);
	assert_int_equal(c.steps[0].kind, STEP_EXPECT_CLOCK);
	assert_int_equal(c.steps[0].peer, 1);
	assert_int_equal(c.steps[0].u.clock.other_peer, 0);
	assert_true(c.steps[0].u.clock.same);
	assert_false(c.steps[1].u.clock.same);
	assert_true(c.steps[1].outcome);
	case_free(&c);
	assert_error_starts("peer a 192.0.2.10:1\n0 expect clock a a same", "t.tc:2:18: 'expect clock' compares two different peers");
	assert_error_starts("peer a 192.0.2.10:1\n0 expect clock a z same", "t.tc:2:18: unknown peer 'z'");
	assert_error_starts("peer a 192.0.2.10:1\npeer b 192.0.2.10:2\n0 expect clock a b close",
			    "t.tc:3:20: expected 'same' or 'offset', got 'close'");
	assert_error_starts("peer a 192.0.2.10:1\npeer b 192.0.2.10:2\n0 a expect clock a b same",
			    "t.tc:3:12: 'expect clock' names its two peers after 'clock'");
}

/* `{stacks}` after the variant prefix: which stacks (target_stack()) a line runs on. */
static void test_stack_prefixes(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("variant v sysctl net.ipv4.tcp_sack=0\npeer c 192.0.2.10\n"
		 "{lwip} 0 wait\n{lwip,gvisor} 0 wait\n{!lwip} 0 wait\n{!lwip,gvisor} 0 wait\n"
		 "[v] {freebsd-14_x} 0 wait\n0 wait\n",
		 &c);
	assert_true(c.per_stack);
	const struct step *s = c.steps;
	static const char *const stacks[] = { "linux", "lwip", "gvisor", "freebsd", "" };
	/* Rows: the steps; columns: stacks[] in order. */
	static const bool runs[6][5] = {
		{ false, true, false, false, false }, { false, true, true, false, false },
		{ true, false, true, true, true },    { true, false, false, true, true },
		{ false, false, false, false, false }, { true, true, true, true, true },
	};
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 5; j++)
			if (step_runs_on(&s[i], stacks[j], 0) != runs[i][j])
				fail_msg("step %d on '%s': expected %s", i, stacks[j], runs[i][j] ? "run" : "skipped");
	assert_true(step_runs_on(&s[4], "freebsd-14_x", 0));
	assert_int_equal(s[4].variant_mask, 1u);
	assert_int_equal(s[0].where.col, 10);
	case_free(&c);

	/* No prefix anywhere: the case declares no per-stack expectations. */
	parse_ok("0 wait\n", &c);
	assert_false(c.per_stack);
	case_free(&c);

	char name[64];
	snprintf(name, sizeof name, "{%016d} 0 wait", 0);
	assert_error_starts(name, "t.tc:1:2: stack name too long (max 15 bytes)");
	assert_error_starts("{lwip,lwip} 0 wait", "t.tc:1:7: duplicate stack 'lwip'");
	assert_error_starts("{lwip,!gvisor} 0 wait", "t.tc:1:7: invalid character '!' in stack name (expected [a-z0-9_-])");
	assert_error_starts("{lwip,} 0 wait", "t.tc:1:7: expected a stack name");
	assert_error_starts("{lwip}", "t.tc:1:7: expected a time");
	assert_error_starts("{lwip} {gvisor} 0 wait", "t.tc:1:8: invalid time '{gvisor}'");
}

/* `{linux<4.13}`: a stack name with a release bound, for behaviour that changed between kernels. */
static void test_release_prefixes(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("{linux<4.13} 0 wait\n{linux>=4.13} 0 wait\n{!linux<=4.9.337} 0 wait\n{linux=6.1,lwip} 0 wait\n"
		 "{linux>5.4,linux<4.10} 0 wait\n{linux} 0 wait\n",
		 &c);
	assert_true(c.per_stack);
	const struct step *s = c.steps;
	assert_int_equal(s[0].stack_bounds[0].op, RELEASE_LT);
	assert_int_equal(s[0].stack_bounds[0].release, release_code(4, 13, 0));
	assert_string_equal(s[0].stacks[0], "linux");
	assert_int_equal(s[2].stack_bounds[0].release, release_code(4, 9, 337));
	assert_int_equal(s[5].stack_bounds[0].op, RELEASE_ANY);
	/* Columns: Linux 4.9.337, 4.13.0, 6.1.0, 6.18.44, lwIP (no release), Linux of unknown release. */
	static const char *const stacks[] = { "linux", "linux", "linux", "linux", "lwip", "linux" };
	const uint32_t releases[] = { release_code(4, 9, 337), release_code(4, 13, 0), release_code(6, 1, 0),
				      release_code(6, 18, 44), 0, 0 };
	static const bool runs[6][6] = {
		{ true, false, false, false, false, false }, { false, true, true, true, false, false },
		{ false, true, true, true, true, true },     { false, false, true, false, true, false },
		{ true, false, true, true, false, false },   { true, true, true, true, false, true },
	};
	for (int i = 0; i < 6; i++)
		for (int j = 0; j < 6; j++)
			if (step_runs_on(&s[i], stacks[j], releases[j]) != runs[i][j])
				fail_msg("step %d on %s %u: expected %s", i, stacks[j], releases[j], runs[i][j] ? "run" : "skipped");
	case_free(&c);

	uint32_t code = 0;
	assert_int_equal(release_scan("6.1.0-57-cloud-amd64", 20, &code), 5);
	assert_int_equal(code, release_code(6, 1, 0));
	assert_int_equal(release_scan("4.9.337", 7, &code), 7);
	assert_int_equal(release_scan("6.18.44-fc-v669", 15, &code), 7);
	assert_int_equal(code, release_code(6, 18, 44));
	assert_int_equal(release_scan("6", 1, &code), 0);
	assert_int_equal(release_scan("6.", 2, &code), 0);
	assert_int_equal(release_scan("6.1234", 6, &code), 0);

	assert_error_starts("{linux<} 0 wait", "t.tc:1:8: expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got ''");
	assert_error_starts("{linux<4} 0 wait", "t.tc:1:8: expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got '4'");
	assert_error_starts("{linux<4.13x} 0 wait", "t.tc:1:8: expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got '4.13x'");
	assert_error_starts("{linux<4.13.1.2} 0 wait", "t.tc:1:8: expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got '4.13.1.2'");
	assert_error_starts("{linux=<4.13} 0 wait", "t.tc:1:8: expected a kernel release (MAJOR.MINOR[.PATCH], e.g. 4.13), got '<4.13'");
	assert_error_starts("{<4.13} 0 wait", "t.tc:1:2: expected a stack name before the release bound");
	assert_error_starts("{linux<4.13,linux<4.13} 0 wait", "t.tc:1:13: duplicate stack 'linux'");
	assert_error_starts("{li!nux<4.13} 0 wait", "t.tc:1:4: invalid character '!' in stack name (expected [a-z0-9_-])");
}

/* The same braces naming address families: which families a line runs in; no stack is named, so the
 * case declares no per-stack expectation. */
static void test_family_prefixes(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer c 192.0.2.10\n{ipv6} 0 wait\n{!ipv6} 0 wait\n{ipv4,mapped} 0 wait\n{lwip} 0 wait\n", &c);
	const struct step *s = c.steps;
	static const bool runs[4][FAMILY_COUNT] = {
		{ false, true, false }, { true, false, true }, { true, false, true }, { true, true, true },
	};
	for (int i = 0; i < 4; i++)
		for (int f = 0; f < FAMILY_COUNT; f++)
			if (step_runs_in_family(&s[i], f) != runs[i][f])
				fail_msg("step %d in %s: expected %s", i, family_name((enum address_family)f),
					 runs[i][f] ? "run" : "skipped");
	assert_int_equal(s[0].stack_count, 0);
	assert_true(step_runs_on(&s[0], "lwip", 0));
	assert_false(step_runs_on(&s[3], "linux", 0));
	case_free(&c);
	parse_ok("{ipv6} 0 wait\n", &c);
	assert_false(c.per_stack);
	case_free(&c);
	assert_error_starts("{ipv6,lwip} 0 wait", "t.tc:1:1: a prefix names stacks or address families, not both");
	assert_error_starts("{ipv6>4.13} 0 wait", "t.tc:1:1: an address family has no release bound");
}

/* `require option NAME`: what the stack's SYN-ACK must carry; the probe needs a peer to send from. */
static void test_require_option(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("require option timestamps\nrequire option sack\nrequire sysctl net.ipv4.tcp_sack\n"
		 "require option wscale\npeer c 192.0.2.10\n0 wait\n",
		 &c);
	assert_int_equal(c.require_count, 4);
	assert_int_equal(c.requires[0].kind, REQUIRE_OPTION);
	assert_int_equal(c.requires[0].option, TCP_OPTION_TIMESTAMP);
	assert_string_equal(c.requires[0].name, "timestamps");
	assert_int_equal(c.requires[1].option, TCP_OPTION_SACK_PERMITTED);
	assert_string_equal(c.requires[1].name, "sack");
	assert_int_equal(c.requires[2].kind, REQUIRE_SYSCTL);
	assert_int_equal(c.requires[3].option, TCP_OPTION_WSCALE);
	case_free(&c);

	assert_error_starts("require option\npeer c 192.0.2.10\n0 wait", "t.tc:1:15: expected timestamps, sack or wscale");
	assert_error_starts("require option sack wscale\npeer c 192.0.2.10\n0 wait", "t.tc:1:21: unexpected 'wscale'");
	assert_error_starts("require option TS\npeer c 192.0.2.10\n0 wait",
			    "t.tc:1:16: expected timestamps, sack or wscale, got 'TS'");
	/* Without a peer the whole header is read first, so the error names the first option line. */
	assert_error_starts("require option sack\nrequire option wscale\n0 wait",
			    "t.tc:1:9: 'require option' needs a peer: the probe SYN comes from the first peer's address");
	assert_error_starts("require option sack\n",
			    "t.tc:1:9: 'require option' needs a peer: the probe SYN comes from the first peer's address");
}

/* `outcome` marks observations only, and only the lines that carry it. */
static void test_outcome_marks(void **state)
{
	(void)state;
	struct case_file c;
	parse_ok("peer c 192.0.2.10\n0 app listen 80\n+0 c < S 0:0(0)\n+0 outcome c > S. 0:0(0) ack 1\n"
		 "+0 outcome app accept\n+0 outcome expect state ESTABLISHED\n+0 outcome expect counter X +1\n"
		 "+0 outcome c > none\n+0 c > none\n",
		 &c);
	assert_false(c.steps[0].outcome);
	assert_false(c.steps[1].outcome);
	for (int i = 2; i < 7; i++)
		assert_true(c.steps[i].outcome);
	assert_int_equal(c.steps[2].kind, STEP_EXPECT_SEGMENT);
	assert_int_equal(c.steps[2].where.col, 12);
	assert_false(c.steps[7].outcome);
	case_free(&c);
	assert_error_starts("peer c 192.0.2.10\n0 outcome wait", "t.tc:2:3: 'outcome' marks an observation ('>' line, app call or expect), not this event");
	assert_error_starts("peer c 192.0.2.10\n0 outcome c incarnation", "t.tc:2:3: 'outcome' marks an observation ('>' line, app call or expect), not this event");
	assert_error_starts("0 outcome outcome app close", "t.tc:1:11: unknown event 'outcome'");
}

/* The quoted line shows unprintable bytes as '?' and keeps tabs so the caret lines up. */
static void test_diagnostic_display(void **state)
{
	(void)state;
	char *error = parse_error("\t0\tapp\tfrob # caf\xc3\xa9");
	assert_string_equal(error, "t.tc:1:8: unknown app call 'frob'\n"
				   "  \t0\tapp\tfrob # caf??\n"
				   "  \t \t   \t^");
	free(error);

	char long_token[200];
	memset(long_token, 'z', sizeof long_token);
	memcpy(long_token, "0 ", 2);
	long_token[sizeof long_token - 1] = '\0';
	error = parse_error(long_token);
	assert_non_null(strstr(error, "unknown event 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...'\n"));
	free(error);
}

static void test_hostile_bytes(void **state)
{
	(void)state;
	/* Not NUL-terminated: an over-read of the buffer shows up under ASan and valgrind. */
	const char valid[] = "0 wait";
	char *exact = malloc(sizeof valid - 1);
	memcpy(exact, valid, sizeof valid - 1);
	struct case_file c;
	char *error = NULL;
	assert_int_equal(case_parse_text("t.tc", exact, sizeof valid - 1, &c, &error), 0);
	assert_int_equal(c.step_count, 1);
	case_free(&c);
	memcpy(exact, "0 wai", 5);
	exact[5] = '+';
	free(parse_error_len(exact, 6));
	free(exact);

	size_t megabyte = 1 << 20;
	char *big = malloc(megabyte);
	memset(big, 'a', megabyte);
	error = parse_error_len(big, megabyte);
	assert_first_line(error, "t.tc:1:4097: line too long (max 4096 bytes)");
	free(error);

	for (size_t i = 0; i < megabyte; i++)
		big[i] = (char)((i * 2654435761u) >> 13);
	free(parse_error_len(big, megabyte));

	memset(big, '9', megabyte);
	memcpy(big, "0 app send ", 11);
	for (size_t i = 4000; i < megabyte; i += 4001)
		big[i] = '\n';
	error = parse_error_len(big, megabyte);
	assert_first_line(error, "t.tc:1:12: number out of range (1..65000)");
	free(error);

	/* Many steps cost memory per step, so there is a cap. */
	memset(big, '\n', megabyte);
	for (size_t i = 0; i + 7 <= megabyte; i += 7)
		memcpy(big + i, "0 wait\n", 7);
	error = parse_error_len(big, megabyte);
	assert_first_line(error, "t.tc:10001:1: too many steps (max 10000)");
	free(error);
	free(big);

	free(parse_error_len("", 0));
	free(parse_error_len(NULL, 0));
	free(parse_error_len("\n\n\n", 3));
}

/* Property: whatever the bytes, the result is a case or one well-formed diagnostic. */
static void check_any(const char *text, size_t len)
{
	struct case_file c;
	char *error = NULL;
	if (case_parse_text("t.tc", text, len, &c, &error) == 0) {
		assert_null(error);
		assert_true(c.step_count > 0);
		case_free(&c);
		return;
	}
	int line, col;
	assert_diagnostic_shape(error, "t.tc", &line, &col);
	free(error);
}

static void test_truncations_and_mutations(void **state)
{
	(void)state;
	static const char *const names[] = { "time_wait_fin.tc", "every_construct.tc", "packetdrill_style.tc" };
	unsigned seed = 12345;
	for (size_t f = 0; f < sizeof names / sizeof names[0]; f++) {
		char *path = join(good_dir, names[f]);
		size_t len;
		char *text = read_file(path, &len);
		for (size_t cut = 0; cut <= len; cut++) {
			/* A private copy of exactly cut bytes, so a read past the end is caught. */
			char *prefix = malloc(cut + 1);
			memcpy(prefix, text, cut);
			check_any(prefix, cut);
			free(prefix);
		}
		char *mutant = malloc(len);
		for (int round = 0; round < 1500; round++) {
			memcpy(mutant, text, len);
			for (int edits = 1 + round % 3; edits > 0; edits--) {
				seed = seed * 1103515245u + 12345u;
				size_t at = (seed >> 8) % len;
				seed = seed * 1103515245u + 12345u;
				static const char interesting[] = { '\0', '\n', '\r', '#', '<', '>', ',', ':', '(', ')',
								    '[', ']', '~', '*', '+', '-', '9', ' ', '\t', '\xff' };
				mutant[at] = round % 2 ? interesting[(seed >> 8) % sizeof interesting] : (char)(seed >> 16);
			}
			check_any(mutant, len);
		}
		free(mutant);
		free(text);
		free(path);
	}
}

static void test_parse_file_errors(void **state)
{
	(void)state;
	struct case_file c;
	char *error = NULL;
	char *path = join(bad_dir, "no-such-file.tc");
	assert_int_equal(case_parse_file(path, &c, &error), -1);
	char *want;
	assert_true(asprintf(&want, "%s: %s", path, strerror(ENOENT)) > 0);
	assert_string_equal(error, want);
	assert_null(c.steps);
	free(want);
	free(error);
	free(path);

	assert_int_equal(case_parse_file(bad_dir, &c, &error), -1);
	assert_true(asprintf(&want, "%s: %s", bad_dir, strerror(EISDIR)) > 0);
	assert_string_equal(error, want);
	free(want);
	free(error);

	/* A sparse file costs nothing to make and shows the size cap applies before reading. */
	char big_path[] = "/tmp/test_case_parser_XXXXXX";
	int fd = mkstemp(big_path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 17 * 1024 * 1024), 0);
	close(fd);
	assert_int_equal(case_parse_file(big_path, &c, &error), -1);
	assert_true(asprintf(&want, "%s: file too large (max 16 MB)", big_path) > 0);
	assert_string_equal(error, want);
	unlink(big_path);
	free(want);
	free(error);

	/* Through the file path, a diagnostic names the file as given. */
	path = join(bad_dir, "unknown_flag.tc");
	assert_int_equal(case_parse_file(path, &c, &error), -1);
	assert_memory_equal(error, path, strlen(path));
	assert_non_null(strstr(error, ":3:9: unknown TCP flag 'X'\n"));
	free(error);
	free(path);
}

/* tests/pkt/server.pkt lowered: the steps a .tc file would give, the sysctls of its defaults.sh, the
 * TSO segment kept whole, and packetdrill's TS rules. */
static void test_pkt_lowering(void **state)
{
	(void)state;
	struct case_file c;
	char *path = join(good_dir, "../pkt/server.pkt");
	char *error = NULL;
	if (case_parse_file(path, &c, &error) != 0)
		fail_msg("%s", error);
	assert_int_equal(c.unsupported_count, 0);
	assert_int_equal(c.peer_count, 1);
	assert_int_equal(c.peers[0].target_port, 8080);

	/* defaults.sh: four settings kept (tcp_fack best effort), arithmetic computed. */
	const struct sysctl_setting *rmem = NULL, *fack = NULL;
	for (int i = 0; i < c.sysctl_count; i++) {
		if (!strcmp(c.sysctls[i].key, "net.ipv4.tcp_rmem"))
			rmem = &c.sysctls[i];
		if (!strcmp(c.sysctls[i].key, "net.ipv4.tcp_fack"))
			fack = &c.sysctls[i];
	}
	assert_non_null(rmem);
	assert_string_equal(rmem->value, "4096 131072 6291456");
	assert_true(rmem->best_effort);
	assert_non_null(fack);

	assert_int_equal(c.steps[0].kind, STEP_APP);
	assert_int_equal(c.steps[0].u.app.op, APP_SOCKET);
	assert_string_equal(c.steps[0].u.app.handle, "fd3");
	assert_int_equal(c.steps[0].when.tolerance_ns, 20 * MS);
	assert_int_equal(c.steps[2].u.app.op, APP_BIND);
	assert_int_equal(c.steps[2].u.app.port, 8080);

	/* The SYN-ACK: TS val unchecked, options exact. */
	const struct step *synack = &c.steps[5];
	assert_int_equal(synack->kind, STEP_EXPECT_SEGMENT);
	assert_true(synack->u.segment.has_options);
	assert_int_equal(synack->u.segment.options[2].kind, TCP_OPTION_TIMESTAMP);
	assert_int_equal(synack->u.segment.options[2].v[0].kind, SPEC_ANY);
	assert_int_equal(synack->u.segment.options[2].v[1].value, 100);
	/* The handshake's ACK echoes the stack's clock. */
	assert_int_equal(c.steps[6].u.segment.options[2].v[1].kind, SPEC_AUTO);

	/* The TSO segment stays whole: the run aggregates the stack's segments towards it (run.c). */
	assert_true(c.coalesce_segments);
	assert_true(c.link_offloads);
	int whole = 0;
	for (int i = 0; i < c.step_count; i++) {
		const struct segment_spec *s = &c.steps[i].u.segment;
		if (c.steps[i].kind == STEP_EXPECT_SEGMENT && s->payload_len == 2964 && s->seq.value == 1 &&
		    s->flags == (TCP_FLAG_PSH | TCP_FLAG_ACK))
			whole++;
	}
	assert_int_equal(whole, 1);
	case_free(&c);
	free(path);
}

/* fcntl's flags as the script left them, a poll() over several lines, a sysctl at its time, a second
 * SYN to a listener from a new port, a descriptor number given again while open, blocking sends. */
static void test_pkt_lowering_calls(void **state)
{
	(void)state;
	const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			   "+0 fcntl(3, F_GETFL) = 0x2 (flags O_RDWR)\n"
			   "+0 fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK) = 0\n"
			   "+0 fcntl(3, F_GETFL) = 0x802\n"
			   "+0 listen(3, 1) = 0\n"
			   "+0 < S 0:0(0) win 100\n"
			   "+0 > S. 0:0(0) ack 1\n"
			   "+0 < . 1:1(0) ack 1 win 100\n"
			   "+0 accept(3, ..., ...) = 4\n"
			   "+0...0.2 poll([{fd=4,\n"
			   "               events=POLLIN|POLLOUT, // a comment\n"
			   "               revents=POLLOUT}], 1, 100) = 1\n"
			   "+.1 `sysctl -q net.ipv4.tcp_sack=0 net.ipv4.tcp_ecn=1`\n"
			   "+0 listen(3, 1) = 0\n"
			   "+0 < S 0:0(0) win 100\n"
			   "+0 > S. 1234:1234(0) ack 1\n"
			   "+0 < . 1:1(0) ack 1 win 100\n"
			   "+0 accept(3, ..., ...) = 4\n"
			   "+0...0.3 write(4, ..., 10) = 10\n"
			   "+0 write(4, ..., 10) = 10\n"
			   "+0 sendmsg(4, {msg_name(...)=..., msg_iov(3)=[{..., 5}, {...,6},{..., 7}],\n"
			   "              msg_flags=0}, MSG_NOSIGNAL|MSG_EOR) = 18\n"
			   "* > P. 1:19(18) ack 1\n"
			   "+0 > S 0:1000(1000) <mss 1460>\n";
	struct case_file c;
	char *error = NULL;
	if (case_parse_text("u.pkt", text, strlen(text), &c, &error) != 0)
		fail_msg("%s", error);
	assert_int_equal(c.unsupported_count, 0);
	/* The fcntl lines only mark time. */
	assert_int_equal(c.steps[1].kind, STEP_WAIT);
	assert_int_equal(c.steps[3].kind, STEP_WAIT);
	const struct step *poll_step = &c.steps[9];
	assert_int_equal(poll_step->u.app.op, APP_POLL);
	assert_string_equal(poll_step->u.app.handle, "fd4");
	assert_int_equal(poll_step->u.app.poll_events, POLLIN | POLLOUT);
	assert_int_equal(poll_step->u.app.expect_value, POLLOUT);
	assert_int_equal(poll_step->u.app.span_ns, 200 * MS);
	assert_int_equal(poll_step->u.app.timeout_ns, 100 * MS); /* the script's own timeout is shorter */
	assert_int_equal(poll_step->where.line, 10);
	assert_int_equal(c.steps[10].kind, STEP_SYSCTL);
	assert_string_equal(c.steps[10].u.sysctl.key, "net.ipv4.tcp_sack");
	assert_string_equal(c.steps[10].u.sysctl.value, "0");
	assert_int_equal(c.steps[10].when.earliest_ns, 100 * MS);
	assert_int_equal(c.steps[11].kind, STEP_SYSCTL);
	assert_string_equal(c.steps[11].u.sysctl.key, "net.ipv4.tcp_ecn");
	assert_int_equal(c.steps[11].when.earliest_ns, 0);
	bool required = false;
	for (int i = 0; i < c.require_count; i++)
		required |= c.requires[i].kind == REQUIRE_SYSCTL && !strcmp(c.requires[i].name, "net.ipv4.tcp_ecn");
	assert_true(required);
	/* The first SYN comes from the peer's own port, the second from the next one. */
	assert_false(c.steps[5].new_passive_open);
	assert_true(c.steps[13].new_passive_open);
	/* The stack's SYN-ACK seq is its ISN whatever the script wrote. */
	assert_int_equal(c.steps[14].u.segment.seq.kind, SPEC_ANY);
	assert_string_equal(c.steps[16].u.app.handle, "fd4_1");
	assert_int_equal(c.steps[17].u.app.op, APP_SEND);
	assert_int_equal(c.steps[17].u.app.span_ns, 300 * MS);
	assert_true(c.steps[17].u.app.timeout_ns > 300 * MS);
	assert_string_equal(c.steps[17].u.app.handle, "fd4_1");
	assert_int_equal(c.steps[18].u.app.span_ns, 0);
	assert_int_equal(c.steps[19].u.app.op, APP_SEND);
	assert_int_equal(c.steps[19].u.app.length, 18);
	assert_true(c.steps[19].u.app.end_of_record);
	/* `*`: any time from the previous event on, waited for up to 10 s. */
	assert_int_equal(c.steps[20].kind, STEP_EXPECT_SEGMENT);
	assert_true(c.steps[20].when.relative && c.steps[20].when.has_window);
	assert_int_equal(c.steps[20].when.earliest_ns, 0);
	assert_int_equal(c.steps[20].when.latest_ns, 10000 * MS);
	/* A SYN with data past the peer's MSS (536 here) is one segment still: GSO never splits a SYN. */
	assert_int_equal(c.step_count, 22);
	assert_int_equal(c.steps[21].u.segment.payload_len, 1000);
	case_free(&c);
}

/* What packetdrill has and tcpharness cannot run: each recorded at its construct, parsing goes on. */
static void test_pkt_unsupported(void **state)
{
	(void)state;
	const char *text = "0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3\n"
			   "+0 %{ import os }%\n"
			   "+0 %{\n"
			   "assert tcpi_no_such_field == 0\n"
			   "}%\n"
			   "+0 < S 0:0(0) win 100 <mss 1000,md5 abcd,nop,nop>\n"
			   "+0 ioctl(3, FIONBIO, [0]) = 0\n"
			   "+0 recvmsg(3, {msg_name(...)=...,\n"
			   "   msg_iov(1)=[{..., 10}], msg_flags=0}, 0) = 10\n"
			   "+0 `nstat -n`\n"
			   "+0 %{ assert tcpi_snd_cwnd // 2 == 5 }%\n"
			   "+0 < SEWA 0:0(0) win 100\n"
			   "+0 > P.5 1:11(10) ack 1\n"
			   "+0 read(3, ..., 2000000) = 2000000\n"
			   "+0 close(3) = 0\n";
	struct case_file c;
	char *error = NULL;
	if (case_parse_text("u.pkt", text, strlen(text), &c, &error) != 0)
		fail_msg("%s", error);
	static const struct {
		int line, col;
		const char *what;
	} want[] = {
		{ 2, 4, "%{ }%: the statement 'import os'" },
		{ 3, 4, "%{ }%: the name 'tcpi_no_such_field'" },
		{ 6, 33, "TCP option 'md5'" },
		{ 7, 13, "ioctl 'FIONBIO'" },
		{ 8, 4, "recvmsg other than MSG_ERRQUEUE" },
		{ 10, 4, "nstat restarting its history after the script began" },
		{ 12, 9, "the AE flag ('A', AccECN)" },
		{ 13, 8, "the ACE field ('5' after the flags, AccECN)" },
		{ 14, 17, "a read of more than 1048576 bytes" },
	};
	assert_int_equal(c.unsupported_count, 9);
	for (int i = 0; i < 9; i++) {
		assert_int_equal(c.unsupported[i].where.line, want[i].line);
		assert_int_equal(c.unsupported[i].where.col, want[i].col);
		assert_string_equal(c.unsupported[i].what, want[i].what);
	}
	assert_int_equal(c.step_count, 3); /* socket, the one block tcpharness can check, close */
	assert_int_equal(c.steps[1].kind, STEP_EXPECT_TCP_INFO);
	assert_string_equal(c.steps[1].u.tcp_info.handle, "fd3");
	assert_string_equal(c.steps[1].u.tcp_info.conditions, "tcpi_snd_cwnd // 2 == 5\n");
	case_free(&c);
}

static int64_t fake_cwnd = 12;

static bool fake_tcp_info(const char *field, void *context, int64_t *value)
{
	(void)context;
	if (strcmp(field, "tcpi_snd_cwnd"))
		return false;
	*value = fake_cwnd;
	return true;
}

/* %{ }% without Python: lowering keeps the conditions with variables resolved; checking evaluates
 * them as Python would (chained comparisons, floor division, and/or/not, constants). */
static void test_pkt_code(void **state)
{
	(void)state;
	struct pkt_code_variables vars = { .count = 0 };
	char lowered[512];
	char *why = NULL;
	const char *block = " cwnd = 10; cwnd += 2  # a comment with 'quotes'\n"
			    "assert tcpi_snd_cwnd == cwnd, 'cwnd=%d' % tcpi_snd_cwnd\n"
			    "print(tcpi_snd_cwnd)\n"
			    "assert 10 < tcpi_snd_cwnd <= 12 and not tcpi_snd_cwnd == 11\n"
			    "assert -7 // 2 == -4 and -7 % 2 == 1 and (TCPI_OPT_SACK | TCPI_OPT_WSCALE) == 6\n"
			    "assert tcpi_snd_cwnd != TCP_INFINITE_SSTHRESH or \\\n 1 == 0\n";
	assert_int_equal(pkt_code_lower(block, strlen(block), &vars, lowered, sizeof lowered, &why), 0);
	assert_int_equal(vars.count, 1);
	assert_int_equal(vars.value[0], 12);
	assert_string_equal(lowered, "tcpi_snd_cwnd == 12\n"
				     "10 < tcpi_snd_cwnd <= 12 and not tcpi_snd_cwnd == 11\n"
				     "- 7 // 2 == - 4 and - 7 % 2 == 1 and ( TCPI_OPT_SACK | TCPI_OPT_WSCALE ) == 6\n"
				     "tcpi_snd_cwnd != TCP_INFINITE_SSTHRESH or 1 == 0\n");
	char *failure = NULL;
	fake_cwnd = 12;
	assert_int_equal(pkt_code_check(lowered, fake_tcp_info, NULL, &failure), 0);
	fake_cwnd = 11;
	assert_int_equal(pkt_code_check(lowered, fake_tcp_info, NULL, &failure), 1);
	assert_string_equal(failure, "assert tcpi_snd_cwnd == 12 failed (tcpi_snd_cwnd = 11)");
	free(failure);
	assert_int_equal(pkt_code_check("tcpi_rtt > 0\n", fake_tcp_info, NULL, &failure), -1);
	assert_string_equal(failure, "%{ assert tcpi_rtt > 0 }%: tcpi_rtt cannot be read");
	free(failure);

	static const char *const outside[] = { "x += 1", "assert tcpi_rtt / 2 > 1", "y = tcpi_rtt",
					       "assert (1", "assert 1 ==", "import os", "assert 1 @ 2" };
	for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
		why = NULL;
		assert_int_equal(pkt_code_lower(outside[i], strlen(outside[i]), &vars, lowered, sizeof lowered, &why), 1);
		assert_non_null(why);
		free(why);
	}
}

int main(int argc, char **argv)
{
	bad_dir = argc > 1 ? argv[1] : getenv("TCPHARNESS_BAD_DIR");
	if (!bad_dir)
		bad_dir = "tests/bad";
	good_dir = argc > 2 ? argv[2] : getenv("TCPHARNESS_GOOD_DIR");
	char *default_good = NULL;
	if (!good_dir) {
		if (asprintf(&default_good, "%s/../good", bad_dir) < 0)
			return 1;
		good_dir = default_good;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_time_wait_fin),
		cmocka_unit_test(test_good_every_construct_header),
		cmocka_unit_test(test_good_every_construct_app),
		cmocka_unit_test(test_good_every_construct_segments),
		cmocka_unit_test(test_good_every_construct_other_events),
		cmocka_unit_test(test_good_packetdrill_style),
		cmocka_unit_test(test_bad_corpus),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_header_rules),
		cmocka_unit_test(test_family_line),
		cmocka_unit_test(test_family_prefixes),
		cmocka_unit_test(test_step_rules),
		cmocka_unit_test(test_outcome_marks),
		cmocka_unit_test(test_stack_prefixes),
		cmocka_unit_test(test_release_prefixes),
		cmocka_unit_test(test_require_option),
		cmocka_unit_test(test_state_timer),
		cmocka_unit_test(test_hold),
		cmocka_unit_test(test_sysctl_refused),
		cmocka_unit_test(test_expect_clock),
		cmocka_unit_test(test_diagnostic_display),
		cmocka_unit_test(test_hostile_bytes),
		cmocka_unit_test(test_truncations_and_mutations),
		cmocka_unit_test(test_parse_file_errors),
		cmocka_unit_test(test_pkt_lowering),
		cmocka_unit_test(test_pkt_lowering_calls),
		cmocka_unit_test(test_pkt_unsupported),
		cmocka_unit_test(test_pkt_code),
		cmocka_unit_test(test_old_numbers_and_ecr_from),
	};
	int failed = cmocka_run_group_tests(tests, NULL, NULL);
	free(default_good);
	return failed;
}
