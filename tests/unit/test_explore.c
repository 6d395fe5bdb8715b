/* test_explore.c - the state x event tables as case text (every cell parses, observers marked), the
 * RFC 9293 3.10 model on cells whose answer the RFC states outright, reading an observation back
 * from a run's events, and the emitted case. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "case_parser.h"
#include "explore.h"
#include "explore_rfc.h"

static const struct explore_event *event_named(const char *name)
{
	for (int i = 0; i < explore_event_count; i++)
		if (!strcmp(explore_events[i].name, name))
			return &explore_events[i];
	fail_msg("no event %s", name);
	return NULL;
}

static struct explore_row row_named(const char *state, enum explore_role role)
{
	struct explore_row rows[EXPLORE_MAX_ROWS];
	int count = explore_rows(rows);
	for (int i = 0; i < count; i++)
		if (!strcmp(rows[i].state->name, state) && rows[i].role == role)
			return rows[i];
	fail_msg("no row %s", state);
	return rows[0];
}

static void test_table_covers_ten_states_both_roles(void **state)
{
	(void)state;
	struct explore_row rows[EXPLORE_MAX_ROWS];
	int count = explore_rows(rows);
	int distinct = 0, clients = 0;
	for (int i = 0; i < count; i++) {
		bool seen = false;
		for (int j = 0; j < i; j++)
			seen |= !strcmp(rows[j].state->name, rows[i].state->name);
		distinct += !seen;
		clients += rows[i].role == EXPLORE_CLIENT;
	}
	assert_true(distinct >= 11);
	assert_true(clients >= 9);
	assert_true(explore_event_count >= 15);
}

/* Every cell's observing text is a valid case whose observers come after the event, and every emitted
 * form parses too. */
static void test_every_cell_parses(void **state)
{
	(void)state;
	struct explore_row rows[EXPLORE_MAX_ROWS];
	int count = explore_rows(rows);
	for (int r = 0; r < count; r++)
		for (int e = 0; e < explore_event_count; e++) {
			char *name = NULL, *error = NULL;
			char *text = explore_cell_text(&rows[r], &explore_events[e], true, &name);
			assert_non_null(text);
			struct case_file c;
			if (explore_cell_case(name, text, &c, &error) < 0)
				fail_msg("%s: %s", name, error);
			int observers = 0, last_inject = -1;
			for (int i = 0; i < c.step_count; i++) {
				if (c.steps[i].kind == STEP_INJECT)
					last_inject = i;
				if (c.steps[i].observe) {
					observers++;
					assert_true(i > last_inject);
				}
			}
			/* listening: a `{lwip}` line and a `{!lwip}` line; the state; the counters */
			assert_int_equal(observers, 3 + explore_counter_count);
			assert_int_equal(c.steps[last_inject].line_index, c.steps[last_inject + 1].line_index - 1);
			case_free(&c);
			free(text);
			free(name);
		}
}

static void test_cell_names_are_paths(void **state)
{
	(void)state;
	struct explore_row row = row_named("TIME_WAIT", EXPLORE_CLIENT);
	char *name = NULL;
	char *text = explore_cell_text(&row, event_named("rst-in-window"), false, &name);
	assert_string_equal(name, "client-time-wait/rst-in-window");
	/* 1000 above RCV.NXT 2, a newer TSval, no TSecr without the ACK bit (RFC 7323 3.2) */
	assert_non_null(strstr(text, "c < R 1002:1002(0) win 502 <nop,nop,TS val 100001 ecr 0>"));
	assert_null(strstr(text, "# observe"));
	free(text);
	free(name);
}

static void assert_rfc(const char *state, enum explore_role role, const char *event, const char *reply,
		       const char *after)
{
	struct explore_row row = row_named(state, role);
	struct explore_rfc_answer a;
	explore_rfc_expect(&row, event_named(event), &a);
	if (strcmp(a.reply, reply) != 0 || strcmp(a.state, after) != 0)
		fail_msg("%s x %s: RFC model says %s -> %s (%s), expected %s -> %s", state, event, a.reply, a.state,
			 a.section, reply, after);
}

static void test_rfc_model(void **state)
{
	(void)state;
	assert_rfc("CLOSED", EXPLORE_SERVER, "syn-at", "RST", "NONE");
	assert_rfc("CLOSED", EXPLORE_SERVER, "rst-at-rcv-nxt", "DROP", "NONE");
	assert_rfc("LISTEN", EXPLORE_SERVER, "syn-at", "ACCEPT", "SYN_RECV");
	assert_rfc("LISTEN", EXPLORE_SERVER, "ack-at-nxt", "RST", "NONE");
	assert_rfc("SYN_SENT", EXPLORE_CLIENT, "syn-ack", "ACK", "ESTABLISHED");
	assert_rfc("SYN_SENT", EXPLORE_CLIENT, "syn-at", "ACCEPT", "SYN_RECV");
	assert_rfc("SYN_SENT", EXPLORE_CLIENT, "ack-above-nxt", "RST", "SYN_SENT");
	assert_rfc("SYN_SENT", EXPLORE_CLIENT, "rst-ack-at-rcv-nxt", "DROP", "NONE");
	assert_rfc("SYN_RECV", EXPLORE_SERVER, "ack-at-nxt", "DROP", "ESTABLISHED");
	assert_rfc("SYN_RECV", EXPLORE_SERVER, "ack-above-nxt", "RST", "SYN_RECV");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "rst-at-rcv-nxt", "DROP", "NONE");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "rst-in-window", "ACK", "ESTABLISHED");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "rst-out-of-window", "DROP", "ESTABLISHED");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "syn-above", "ACK", "ESTABLISHED");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "fin-in-window", "ACK", "CLOSE_WAIT");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "data-old-ts", "ACK", "ESTABLISHED");
	assert_rfc("ESTABLISHED", EXPLORE_SERVER, "data-no-ts", "DROP", "ESTABLISHED");
	assert_rfc("FIN_WAIT1", EXPLORE_CLIENT, "ack-at-nxt", "DROP", "FIN_WAIT2");
	assert_rfc("FIN_WAIT1", EXPLORE_CLIENT, "fin-in-window", "ACK", "TIME_WAIT");
	assert_rfc("CLOSING", EXPLORE_SERVER, "ack-at-nxt", "DROP", "TIME_WAIT");
	assert_rfc("LAST_ACK", EXPLORE_SERVER, "ack-at-nxt", "DROP", "NONE");
	assert_rfc("TIME_WAIT", EXPLORE_SERVER, "syn-above", "ACCEPT", "SYN_RECV");
	assert_rfc("TIME_WAIT", EXPLORE_SERVER, "syn-above-ts-older", "DROP", "TIME_WAIT");
	assert_rfc("TIME_WAIT", EXPLORE_SERVER, "fin-in-window", "ACK", "TIME_WAIT");
	assert_rfc("CLOSE_WAIT", EXPLORE_SERVER, "data-in-window", "DROP", "CLOSE_WAIT");
}

static void add_event(struct case_result *r, enum run_event_kind kind, int step, const char *observed,
		      const char *outcome)
{
	struct run_event *e = &r->events[r->event_count++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->step = step;
	snprintf(e->observed, sizeof e->observed, "%s", observed);
	snprintf(e->outcome, sizeof e->outcome, "%s", outcome);
}

/* A run's events read back as what does not change between runs: the TSval and window masked, the
 * state, the counters that moved; and the emitted case expects exactly that. */
static void test_observation_and_emitted_case(void **state)
{
	(void)state;
	struct explore_row row = row_named("ESTABLISHED", EXPLORE_SERVER);
	const struct explore_event *event = event_named("rst-in-window");
	char *name = NULL, *error = NULL;
	char *text = explore_cell_text(&row, event, true, &name);
	struct case_file c;
	assert_int_equal(explore_cell_case(name, text, &c, &error), 0);
	int inject = -1;
	for (int i = 0; i < c.step_count; i++)
		if (c.steps[i].kind == STEP_INJECT)
			inject = i;
	struct run_event events[8];
	struct case_result result = { .verdict = VERDICT_PASS, .failed_step = -1, .steps_run = c.step_count,
				      .events = events };
	add_event(&result, RUN_EVENT_SEGMENT, inject + 1, ". 1:1(0) ack 1 win 502 <nop,nop,TS val 4242 ecr 100000>", "ACK");
	add_event(&result, RUN_EVENT_STATE, inject + 2, "ESTABLISHED", "ESTABLISHED");
	for (int i = 0; i < explore_counter_count; i++)
		if (!strcmp(c.steps[inject + 3 + i].u.counter.name, "TCPChallengeACK"))
			add_event(&result, RUN_EVENT_COUNTER, inject + 3 + i, "TCPChallengeACK +1", "TCPChallengeACK+1");
	struct explore_observation o;
	explore_observe(&c, &result, &o);
	assert_int_equal(o.status, EXPLORE_OBSERVED);
	assert_string_equal(o.reply, "ACK");
	assert_string_equal(o.replies[0], ". 1:1(0) ack 1 <nop,nop,TS val * ecr 100000>");
	assert_string_equal(o.state_after, "ESTABLISHED");
	assert_int_equal(o.moved_count, 1);
	assert_string_equal(o.moved[0].name, "TCPChallengeACK");
	assert_int_equal(o.moved[0].delta, 1);

	char *emitted = explore_emit_text(&row, event, &o, "local: Linux", "RFC 5961 3.2");
	assert_non_null(strstr(emitted, "+0    outcome c > . 1:1(0) ack 1 <nop,nop,TS val * ecr 100000>\n"));
	assert_non_null(strstr(emitted, "+0    outcome c expect state ESTABLISHED\n"));
	assert_non_null(strstr(emitted, "+0    expect counter TCPChallengeACK +1\n"));
	assert_non_null(strstr(emitted, "# Why: RFC 5961 3.2"));
	struct case_file emitted_case;
	if (case_parse_text("emitted.tc", emitted, strlen(emitted), &emitted_case, &error) < 0)
		fail_msg("%s", error);
	case_free(&emitted_case);

	/* A RST answering a segment without ACK carries seq 0: relative to a random ISN, no number. */
	result.event_count = 0;
	add_event(&result, RUN_EVENT_SEGMENT, inject + 1, "R. 2557269319:2557269319(0) ack 2 win 0 <>", "RST");
	add_event(&result, RUN_EVENT_STATE, inject + 2, "NONE", "NONE");
	explore_observe(&c, &result, &o);
	assert_string_equal(o.replies[0], "R. *:*(0) ack 2");
	char *unknown_seq = explore_emit_text(&row, event, &o, "local: Linux", NULL);
	if (case_parse_text("unknown_seq.tc", unknown_seq, strlen(unknown_seq), &emitted_case, &error) < 0)
		fail_msg("%s", error);
	case_free(&emitted_case);
	free(unknown_seq);

	/* A recipe line the stack answered otherwise: the state is not reachable there, no observation. */
	result.verdict = VERDICT_FAIL;
	result.failed_step = 2;
	result.message = "x.tc:3:1: socket state of c is NONE, expected ESTABLISHED\n  more";
	explore_observe(&c, &result, &o);
	assert_int_equal(o.status, EXPLORE_UNREACHED);
	assert_string_equal(o.why, "x.tc:3:1: socket state of c is NONE, expected ESTABLISHED");

	/* A recipe the harness could not run (an ERROR) is no observation either. */
	result.verdict = VERDICT_ERROR;
	result.failed_step = -1;
	result.steps_run = 2;
	result.message = "x.tc:3:1: harness error: late";
	explore_observe(&c, &result, &o);
	assert_int_equal(o.status, EXPLORE_RECIPE_FAILED);

	free(emitted);
	case_free(&c);
	free(text);
	free(name);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_covers_ten_states_both_roles),
		cmocka_unit_test(test_every_cell_parses),
		cmocka_unit_test(test_cell_names_are_paths),
		cmocka_unit_test(test_rfc_model),
		cmocka_unit_test(test_observation_and_emitted_case),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
