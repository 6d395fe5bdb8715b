/* run.c - see run.h. */
#include "run.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "error_text.h"

#include "agent.h"
#include "capability.h"
#include "judge.h"
#include "peer.h"
#include "pkt_code.h"
#include "segment_format.h"
#include "storm.h"
#include "symbols.h"
#include "target.h"
#include "wire.h"

volatile int run_interrupted;

#define MAX_PENDING 256
#define POLL_INTERVAL_NS 200000LL

/* A segment the stack sent that no step has consumed yet. */
struct pending_segment {
	int64_t at_ns;
	int peer; /* -1: addressed to no declared peer */
	struct segment segment;
};

#define CASE_MAX_COUNTERS 32

/* A counter some line checks, as it stood when the case started. */
struct counter_baseline {
	const char *name;
	bool exists;
	int64_t value;
};

/* Everything one case run holds; torn down in reverse order by teardown(). */
struct run_state {
	const struct case_file *c;
	struct case_file retargeted; /* c with the target's own address, when the target has one */
	int variant;
	const struct run_options *options;
	struct target_case target;
	bool target_begun;
	struct agent *agent;
	struct wire *wire;
	struct counter_baseline baselines[CASE_MAX_COUNTERS];
	int baseline_count;
	struct peer_state peers[CASE_MAX_PEERS];
	int64_t kernel_tsval_at_ns[CASE_MAX_PEERS]; /* when the stack's last TSval to each peer was sent */
	struct pending_segment pending[MAX_PENDING];
	int pending_count;
	int64_t start_ns;
	int64_t previous_ns; /* actual time of the previous step: the base of relative times */
	char *failure;       /* first failure's diagnostic */
	int failed_step;
	int unchecked;           /* lines the stack could not show evidence for */
	char *unchecked_reason;  /* their reasons, each once, joined by "; " */
	struct run_event *events;
	int event_count, event_capacity;
};

static char *format_message(const char *fmt, va_list ap)
{
	char *text;
	if (vasprintf(&text, fmt, ap) < 0)
		return NULL;
	return text;
}

static char *message(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = format_message(fmt, ap);
	va_end(ap);
	return text;
}

/* Records a step failure as `file:line:col: message`, the source line, and optional detail lines. */
static int step_failed(struct run_state *rs, const struct step *step, const char *detail, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *what = format_message(fmt, ap);
	va_end(ap);
	rs->failure = message("%s:%d:%d: %s\n  %5d | %s\n%s", rs->c->path, step->where.line, step->where.col,
			      what ? what : "out of memory", step->where.line, rs->c->lines[step->line_index],
			      detail ? detail : "");
	free(what);
	rs->failed_step = (int)(step - rs->c->steps);
	return -1;
}

/* Appends an event for reports; its texts start empty. Out of memory, the report just misses it. */
static struct run_event *add_event(struct run_state *rs, enum run_event_kind kind, const struct step *step,
				   int peer, int64_t at_ns)
{
	static struct run_event discarded;
	if (rs->event_count == rs->event_capacity) {
		int capacity = rs->event_capacity ? 2 * rs->event_capacity : 32;
		struct run_event *events = realloc(rs->events, (size_t)capacity * sizeof *events);
		if (!events)
			return memset(&discarded, 0, sizeof discarded);
		rs->events = events;
		rs->event_capacity = capacity;
	}
	struct run_event *e = &rs->events[rs->event_count++];
	memset(e, 0, sizeof *e);
	e->kind = kind;
	e->at_ns = at_ns - rs->start_ns;
	e->step = step ? (int)(step - rs->c->steps) : -1;
	e->peer = peer;
	return e;
}

/* Whether reason is one of list's "; "-joined reasons. */
static bool listed(const char *list, const char *reason)
{
	size_t len = strlen(reason);
	for (const char *p = list; *p;) {
		size_t n = strcspn(p, ";");
		if (n == len && memcmp(p, reason, n) == 0)
			return true;
		p += n;
		p += strspn(p, "; ");
	}
	return false;
}

/* A line whose evidence this stack cannot show: recorded as unobservable and counted with its reason,
 * never judged, so that the run goes on and its reports say what it did not check. */
static void step_unchecked(struct run_state *rs, const struct step *step, enum run_event_kind kind,
			   const char *expected, const char *reason)
{
	rs->previous_ns = wire_now_ns();
	struct run_event *e = add_event(rs, kind, step, step->peer, rs->previous_ns);
	e->unchecked = true;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "unobservable");
	snprintf(e->outcome, sizeof e->outcome, OUTCOME_UNSEEN);
	rs->unchecked++;
	if (rs->unchecked_reason && listed(rs->unchecked_reason, reason))
		return;
	char *joined = rs->unchecked_reason ? message("%s; %s", rs->unchecked_reason, reason) : strdup(reason);
	if (joined) {
		free(rs->unchecked_reason);
		rs->unchecked_reason = joined;
	}
}

static void sleep_until(int64_t at_ns)
{
	struct timespec ts = { at_ns / 1000000000, at_ns % 1000000000 };
	while (clock_nanosleep(CLOCK_REALTIME, TIMER_ABSTIME, &ts, NULL) == EINTR && !run_interrupted)
		;
}

static const char *peer_label(const struct run_state *rs, int peer)
{
	return peer >= 0 ? rs->c->peers[peer].name : "(no declared peer)";
}

static int owning_peer(const struct run_state *rs, const struct segment *s)
{
	for (int i = 0; i < rs->c->peer_count; i++)
		if (peer_owns(&rs->peers[i], s))
			return i;
	return -1;
}

/* Reads captured frames until deadline_ns; the stack's segments join the pending queue, our own
 * injected ones only go to the pcap file. Returns after the first new pending segment, or at the
 * deadline. -1 on a capture error. */
static int pump(struct run_state *rs, int64_t deadline_ns, bool *got_one)
{
	*got_one = false;
	for (;;) {
		struct wire_frame frame;
		char *error = NULL;
		int rc = wire_next(rs->wire, deadline_ns, &frame, &error);
		if (rc < 0) {
			rs->failure = message("capture failed: %s", error ? error : "?");
			free(error);
			return -1;
		}
		if (rc == 0)
			return 0;
		if (!frame.decoded || frame.segment.src_ip != rs->c->target_ip)
			continue;
		if (rs->pending_count == MAX_PENDING) {
			rs->failure = message("more than %d segments from the stack left unexpected", MAX_PENDING);
			return -1;
		}
		struct pending_segment *p = &rs->pending[rs->pending_count++];
		p->at_ns = frame.at_ns;
		p->segment = frame.segment;
		p->peer = owning_peer(rs, &frame.segment);
		*got_one = true;
		return 0;
	}
}

/* Drains everything captured so far without waiting. */
static int drain(struct run_state *rs)
{
	bool got;
	do {
		if (pump(rs, 0, &got) < 0)
			return -1;
	} while (got);
	return 0;
}

/* Peers may share a 4-tuple (an old connection and the new one on it): a segment is for every peer
 * that owns it, and the line that expects it decides which one reads it. */
static bool pending_is_for(const struct run_state *rs, int i, int peer)
{
	return rs->pending[i].peer >= 0 && peer_owns(&rs->peers[peer], &rs->pending[i].segment);
}

static int take_pending(struct run_state *rs, int peer, struct pending_segment *out)
{
	for (int i = 0; i < rs->pending_count; i++) {
		if (!pending_is_for(rs, i, peer))
			continue;
		*out = rs->pending[i];
		memmove(&rs->pending[i], &rs->pending[i + 1], (size_t)(rs->pending_count - i - 1) * sizeof rs->pending[0]);
		rs->pending_count--;
		return 1;
	}
	return 0;
}

/* A segment the stack sent that no line expected, in the case's relative terms; recorded as an event
 * that broke `step` (NULL: no line's). */
static char *describe_unexpected(struct run_state *rs, const struct step *step, const struct pending_segment *p)
{
	char text[RUN_EVENT_TEXT];
	if (p->peer >= 0) {
		struct segment_spec view;
		peer_learn(&rs->peers[p->peer], &p->segment);
		peer_relative_view(&rs->peers[p->peer], &p->segment, &view);
		segment_format_spec(&view, text, sizeof text, NULL);
	} else {
		segment_format_absolute(&p->segment, text, sizeof text);
	}
	struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, step, p->peer, p->at_ns);
	e->broke = true;
	snprintf(e->observed, sizeof e->observed, "%s", text);
	snprintf(e->outcome, sizeof e->outcome, "%s", outcome_of_segment(p->segment.flags));
	if (step && step->kind == STEP_EXPECT_NONE)
		snprintf(e->expected, sizeof e->expected, "none");
	return message("    unexpected: %s > %s at +%.3f s\n", peer_label(rs, p->peer), text,
		       (double)(p->at_ns - rs->start_ns) / 1e9);
}

/* Strictness, as in packetdrill: a segment from the stack that no line consumed fails the case. */
static int check_nothing_unexpected(struct run_state *rs, const struct step *step, const char *when)
{
	if (drain(rs) < 0)
		return -1;
	if (rs->pending_count == 0 || rs->c->expected_segments_only)
		return 0;
	char *detail = describe_unexpected(rs, NULL, &rs->pending[0]);
	if (step)
		step_failed(rs, step, detail, "the stack sent a segment no line expected (%s)", when);
	else
		rs->failure = message("%s: the stack sent a segment no line expected (%s)\n%s", rs->c->path, when,
				      detail ? detail : "");
	free(detail);
	return -1;
}

struct step_window {
	int64_t earliest_ns, latest_ns; /* when the step is due */
	int64_t open_ns, close_ns;      /* when an expectation may be met: the window plus tolerance */
};

static struct step_window window_of(const struct run_state *rs, const struct step *step)
{
	int64_t base = step->when.relative ? rs->previous_ns : rs->start_ns;
	struct step_window w = { base + step->when.earliest_ns, base + step->when.latest_ns, 0, 0 };
	int64_t slack = step->when.has_window	      ? 0
			: step->when.tolerance_ns > 0 ? step->when.tolerance_ns
						      : rs->options->tolerance_ns;
	w.open_ns = w.earliest_ns - slack;
	w.close_ns = w.latest_ns + slack;
	return w;
}

static int do_inject(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	if (check_nothing_unexpected(rs, step, "before this injection") < 0)
		return -1;
	struct peer_state *peer = &rs->peers[step->peer];
	struct segment segment;
	const char *build_error = NULL;
	if (peer_build_segment(peer, &step->u.segment, rs->c->target_ip, wire_now_ns() - rs->start_ns, &segment,
			       &build_error) < 0)
		return step_failed(rs, step, NULL, "cannot build the segment: %s", build_error);
	char *error = NULL;
	int64_t sent_ns;
	if (wire_inject(rs->wire, &segment, &sent_ns, &error) < 0) {
		step_failed(rs, step, NULL, "injection failed: %s", error ? error : "?");
		free(error);
		return -1;
	}
	rs->previous_ns = sent_ns;
	struct segment_spec view;
	peer_injected_view(peer, &segment, &view);
	struct run_event *e = add_event(rs, RUN_EVENT_INJECTED, step, step->peer, sent_ns);
	segment_format_spec(&view, e->observed, sizeof e->observed, NULL);
	return 0;
}

static int do_expect_segment(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	struct pending_segment got;
	while (!take_pending(rs, step->peer, &got)) {
		bool new_one;
		if (run_interrupted || wire_now_ns() >= w->close_ns) {
			struct run_event *e = add_event(rs, RUN_EVENT_SILENCE, step, step->peer, wire_now_ns());
			e->broke = true;
			segment_format_spec(&step->u.segment, e->expected, sizeof e->expected, NULL);
			snprintf(e->observed, sizeof e->observed, "nothing");
			snprintf(e->outcome, sizeof e->outcome, OUTCOME_DROP);
			char detail[RUN_EVENT_TEXT + 64];
			snprintf(detail, sizeof detail, "    expected: %s\n    observed: nothing\n", e->expected);
			return step_failed(rs, step, detail, "no segment from the stack to %s within %.0f ms",
					   peer_label(rs, step->peer), (double)(w->close_ns - rs->previous_ns) / 1e6);
		}
		if (pump(rs, w->close_ns, &new_one) < 0)
			return -1;
	}
	struct peer_state *peer = &rs->peers[step->peer];
	peer_learn(peer, &got.segment);
	rs->kernel_tsval_at_ns[step->peer] = got.at_ns;
	struct segment_spec observed, expected;
	peer_relative_view(peer, &got.segment, &observed);
	peer_resolve_expected(peer, &step->u.segment, &expected);
	struct segment_verdict verdict = judge_segment(&expected, &observed);
	struct run_event *e = add_event(rs, RUN_EVENT_SEGMENT, step, step->peer, got.at_ns);
	segment_format_spec(&expected, e->expected, sizeof e->expected, NULL);
	segment_format_spec(&observed, e->observed, sizeof e->observed, NULL);
	snprintf(e->outcome, sizeof e->outcome, "%s", outcome_of_segment(got.segment.flags));
	e->broke = !verdict.matches || got.at_ns < w->open_ns;
	if (!verdict.matches) {
		char detail[2048];
		judge_format_diff(&expected, &observed, &verdict, "    ", detail, sizeof detail);
		return step_failed(rs, step, detail, "the stack's segment to %s differs from the expected one",
				   peer_label(rs, step->peer));
	}
	if (got.at_ns < w->open_ns)
		return step_failed(rs, step, NULL, "segment arrived %.1f ms too early",
				   (double)(w->open_ns - got.at_ns) / 1e6);
	rs->previous_ns = got.at_ns;
	return 0;
}

static int do_expect_none(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	int64_t quiet_until = w->earliest_ns + step->u.none_window_ns;
	for (;;) {
		for (int i = 0; i < rs->pending_count; i++)
			if (pending_is_for(rs, i, step->peer)) {
				char *detail = describe_unexpected(rs, step, &rs->pending[i]);
				step_failed(rs, step, detail, "expected silence towards %s, but the stack sent a segment",
					    peer_label(rs, step->peer));
				free(detail);
				return -1;
			}
		if (run_interrupted || wire_now_ns() >= quiet_until)
			break;
		bool got;
		if (pump(rs, quiet_until, &got) < 0)
			return -1;
	}
	/* Whatever reached the capture by now was sent within the quiet window or just after it; either
	 * way no line expected it, and blaming a later line would point at the wrong one. */
	if (drain(rs) < 0)
		return -1;
	for (int i = 0; i < rs->pending_count; i++)
		if (pending_is_for(rs, i, step->peer)) {
			char *detail = describe_unexpected(rs, step, &rs->pending[i]);
			step_failed(rs, step, detail, "expected silence towards %s, but the stack sent a segment",
				    peer_label(rs, step->peer));
			free(detail);
			return -1;
		}
	rs->previous_ns = quiet_until;
	struct run_event *e = add_event(rs, RUN_EVENT_SILENCE, step, step->peer, quiet_until);
	snprintf(e->expected, sizeof e->expected, "none within %.0f ms", (double)step->u.none_window_ns / 1e6);
	snprintf(e->observed, sizeof e->observed, "nothing");
	snprintf(e->outcome, sizeof e->outcome, OUTCOME_DROP);
	return 0;
}

static bool app_result_matches(const struct app_call *call, const struct agent_reply *reply)
{
	switch (call->expect) {
	case APP_EXPECT_ANY:
		return true;
	case APP_EXPECT_VALUE:
		return reply->err == 0 && reply->ret == call->expect_value;
	case APP_EXPECT_ERRNO:
		return reply->err == call->expect_errno;
	case APP_EXPECT_SUCCESS:
	default:
		/* A non-blocking connect succeeds by starting; `app connected` reports how it ended. */
		return reply->err == 0 || (call->op == APP_CONNECT && reply->err == EINPROGRESS);
	}
}

static void describe_app_expectation(const struct app_call *call, char *buf, size_t size)
{
	switch (call->expect) {
	case APP_EXPECT_VALUE:
		snprintf(buf, size, "%lld", (long long)call->expect_value);
		break;
	case APP_EXPECT_ERRNO:
		snprintf(buf, size, "-1 %s", errno_name(call->expect_errno));
		break;
	default:
		snprintf(buf, size, "success");
		break;
	}
}

static int do_app(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	struct agent_reply reply;
	char *error = NULL;
	struct app_call call = step->u.app;
	/* A target with an address of its own: the case's address in a call means the target's. */
	if (call.ip && call.ip == rs->c->target_ip)
		call.ip = rs->target.target_ip;
	int64_t called_ns = wire_now_ns();
	if (agent_call(rs->agent, &call, &reply, &error) < 0) {
		step_failed(rs, step, NULL, "agent: %s", error ? error : "?");
		free(error);
		return -1;
	}
	/* The agent stamps the call's return; a remote stack's clock is not ours, so there the reply's
	 * arrival is the best the harness knows. */
	rs->previous_ns = step->when.clock_at_call	 ? called_ns
			  : rs->target.same_clock ? (int64_t)reply.when.tv_sec * 1000000000 + reply.when.tv_nsec
						  : wire_now_ns();
	char expected[64];
	describe_app_expectation(&step->u.app, expected, sizeof expected);
	struct run_event *e = add_event(rs, RUN_EVENT_APP, step, -1, rs->previous_ns);
	e->broke = !app_result_matches(&step->u.app, &reply);
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	if (reply.err)
		snprintf(e->observed, sizeof e->observed, "-1 %s", errno_name(reply.err));
	else
		snprintf(e->observed, sizeof e->observed, "%lld", (long long)reply.ret);
	outcome_of_app(step->u.app.op, reply.err, reply.ret, e->outcome);
	if (e->broke) {
		if (reply.err)
			return step_failed(rs, step, NULL, "application call returned -1 %s, expected %s",
					   errno_name(reply.err), expected);
		return step_failed(rs, step, NULL, "application call returned %lld, expected %s",
				   (long long)reply.ret, expected);
	}
	return 0;
}

static bool timer_in_window(const struct step *step, int64_t timer_ms)
{
	return timer_ms >= 0 && timer_ms * 1000000 >= step->u.expected.timer_min_ns &&
	       timer_ms * 1000000 <= step->u.expected.timer_max_ns;
}

static int do_expect_state(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	const struct peer_state *peer = &rs->peers[step->peer];
	if (peer->target_port == 0)
		return step_failed(rs, step, NULL, "no 4-tuple for %s yet: the stack's port is unknown",
				   peer->decl->name);
	sleep_until(w->open_ns);
	struct socket_evidence seen = { -1, -1 };
	int want = step->u.expected.state;
	bool timer_checked = step->u.expected.check_timer;
	char expected[RUN_EVENT_TEXT];
	if (timer_checked)
		snprintf(expected, sizeof expected, "%s timer %.3f~%.3f s", tcp_state_name(want),
			 (double)step->u.expected.timer_min_ns / 1e9, (double)step->u.expected.timer_max_ns / 1e9);
	else
		snprintf(expected, sizeof expected, "%s", tcp_state_name(want));
	/* States change in softirq context right after a segment; poll briefly instead of racing it. */
	for (;;) {
		char *error = NULL;
		if (agent_socket_state(rs->agent, rs->c->target_ip, peer->target_port, peer->decl->ip,
				       peer->decl->port, &seen, &error) < 0) {
			/* gVisor has no sock_diag: its agent says so with EOPNOTSUPP. */
			bool unobservable = rs->agent->last_err == EOPNOTSUPP;
			if (unobservable)
				step_unchecked(rs, step, RUN_EVENT_STATE, expected,
					       "expect state: the stack's socket states cannot be read (EOPNOTSUPP)");
			else
				step_failed(rs, step, NULL, "socket state: %s", error ? error : "?");
			free(error);
			return unobservable ? 0 : -1;
		}
		if (seen.state == want || wire_now_ns() >= w->close_ns || run_interrupted)
			break;
		sleep_until(wire_now_ns() + POLL_INTERVAL_NS);
	}
	bool timer_ok = !timer_checked || timer_in_window(step, seen.timer_ms);
	struct run_event *e = add_event(rs, RUN_EVENT_STATE, step, step->peer, wire_now_ns());
	e->broke = seen.state != want || !timer_ok;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	if (timer_checked)
		snprintf(e->observed, sizeof e->observed, "%s timer %.3f s", tcp_state_name(seen.state),
			 (double)seen.timer_ms / 1e3);
	else
		snprintf(e->observed, sizeof e->observed, "%s", tcp_state_name(seen.state));
	snprintf(e->outcome, sizeof e->outcome, "%s", tcp_state_name(seen.state));
	if (seen.state != want)
		return step_failed(rs, step, NULL, "socket state of %s is %s, expected %s", peer->decl->name,
				   tcp_state_name(seen.state), tcp_state_name(want));
	if (!timer_ok && seen.timer_ms < 0)
		return step_failed(rs, step, NULL, "%s's socket has no timer pending", peer->decl->name);
	if (!timer_ok)
		return step_failed(rs, step, NULL, "%s's socket timer fires in %.3f s, expected %.3f~%.3f s",
				   peer->decl->name, (double)seen.timer_ms / 1e3,
				   (double)step->u.expected.timer_min_ns / 1e9,
				   (double)step->u.expected.timer_max_ns / 1e9);
	rs->previous_ns = wire_now_ns();
	return 0;
}

static struct counter_baseline *baseline_of(struct run_state *rs, const char *name)
{
	for (int i = 0; i < rs->baseline_count; i++)
		if (strcmp(rs->baselines[i].name, name) == 0)
			return &rs->baselines[i];
	return NULL;
}

static int counter_delta(struct run_state *rs, const struct step *step, const struct counter_baseline *before,
			 int64_t *delta)
{
	int64_t now = 0;
	char *error = NULL;
	int found = agent_counter(rs->agent, step->u.counter.name, &now, &error);
	if (found < 0) {
		step_failed(rs, step, NULL, "reading counters: %s", error ? error : "?");
		free(error);
		return -1;
	}
	if (found == 0)
		return step_failed(rs, step, NULL, "the stack no longer has a counter named %s", step->u.counter.name);
	*delta = now - before->value;
	return 0;
}

static int do_expect_counter(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->open_ns);
	char expected[RUN_EVENT_TEXT];
	snprintf(expected, sizeof expected, "%s %+lld", step->u.counter.name, (long long)step->u.counter.delta);
	/* read_baselines read every counter a line names; the stack has those it found. A case that cannot
	 * mean anything without one says `require counter`. */
	const struct counter_baseline *before = baseline_of(rs, step->u.counter.name);
	if (!before->exists) {
		char reason[128];
		snprintf(reason, sizeof reason, "counter %s: the stack has no such counter", step->u.counter.name);
		step_unchecked(rs, step, RUN_EVENT_COUNTER, expected, reason);
		return 0;
	}
	int64_t delta = 0;
	/* A counter is the kernel's proof of a drop: decide as soon as it moves, not after a quiet window. */
	for (;;) {
		if (counter_delta(rs, step, before, &delta) < 0)
			return -1;
		if (delta == step->u.counter.delta || wire_now_ns() >= w->close_ns || run_interrupted)
			break;
		sleep_until(wire_now_ns() + POLL_INTERVAL_NS);
	}
	struct run_event *e = add_event(rs, RUN_EVENT_COUNTER, step, -1, wire_now_ns());
	e->broke = delta != step->u.counter.delta;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "%s %+lld", step->u.counter.name, (long long)delta);
	snprintf(e->outcome, sizeof e->outcome, "%.24s%+lld", step->u.counter.name, (long long)delta);
	if (delta != step->u.counter.delta)
		return step_failed(rs, step, NULL, "counter %s moved by %+lld, expected %+lld", step->u.counter.name,
				   (long long)delta, (long long)step->u.counter.delta);
	rs->previous_ns = wire_now_ns();
	return 0;
}

/* Same clock: B's TSval is A's plus the milliseconds between the two segments (Linux's TS clock
 * ticks in ms), within a few ticks; otherwise the stack put an offset between them. */
#define SAME_CLOCK_SLACK_TICKS 20

static int do_expect_clock(struct run_state *rs, const struct step *step)
{
	int a = step->peer, b = step->u.clock.other_peer;
	for (int i = 0; i < 2; i++) {
		int p = i ? b : a;
		if (!rs->peers[p].kernel_tsval_known)
			return step_failed(rs, step, NULL, "the stack has sent %s no TSval yet", rs->c->peers[p].name);
	}
	int64_t elapsed_ms = (rs->kernel_tsval_at_ns[b] - rs->kernel_tsval_at_ns[a]) / 1000000;
	int64_t offset = (int64_t)(int32_t)(rs->peers[b].kernel_tsval - rs->peers[a].kernel_tsval) - elapsed_ms;
	bool same = offset >= -SAME_CLOCK_SLACK_TICKS && offset <= SAME_CLOCK_SLACK_TICKS;
	const char *an = rs->c->peers[a].name, *bn = rs->c->peers[b].name;
	struct run_event *e = add_event(rs, RUN_EVENT_CLOCK, step, a, wire_now_ns());
	e->broke = same != step->u.clock.same;
	snprintf(e->expected, sizeof e->expected, "%s and %s: %s", an, bn,
		 step->u.clock.same ? "one TS clock" : "TS clocks offset");
	snprintf(e->observed, sizeof e->observed, "%s's TSval = %s's %+lld ms elapsed %+lld", bn, an,
		 (long long)elapsed_ms, (long long)offset);
	snprintf(e->outcome, sizeof e->outcome, "%s", same ? "SAME-CLOCK" : "OFFSET");
	if (e->broke)
		return step_failed(rs, step, NULL, "the stack's TSvals to %s and %s are %s: %s's is %s's %+lld ms elapsed %+lld", an,
				   bn, same ? "one clock" : "offset from each other", bn, an, (long long)elapsed_ms,
				   (long long)offset);
	rs->previous_ns = wire_now_ns();
	return 0;
}

struct tcp_info_lookup {
	struct run_state *rs;
	const struct step *step;
	int err;     /* the stack's errno when it would not give TCP_INFO */
	char *error; /* the agent broke */
};

static bool look_up_tcp_info(const char *field, void *context, int64_t *value)
{
	struct tcp_info_lookup *l = context;
	struct app_call call = { .op = APP_TCP_INFO };
	snprintf(call.handle, sizeof call.handle, "%s", l->step->u.tcp_info.handle);
	snprintf(call.option, sizeof call.option, "%s", field);
	struct agent_reply reply;
	if (l->error || agent_call(l->rs->agent, &call, &reply, &l->error) < 0)
		return false;
	l->err = reply.err;
	*value = reply.ret;
	return reply.err == 0;
}

/* A .pkt's %{ }%: the conditions on the socket's TCP_INFO, read now, field by field. */
static int do_expect_tcp_info(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	struct tcp_info_lookup lookup = { rs, step, 0, NULL };
	char *failure = NULL;
	int rc = pkt_code_check(step->u.tcp_info.conditions, look_up_tcp_info, &lookup, &failure);
	char expected[RUN_EVENT_TEXT];
	snprintf(expected, sizeof expected, "%%{ assert %.*s }%%", (int)strcspn(step->u.tcp_info.conditions, "\n"),
		 step->u.tcp_info.conditions);
	if (rc < 0 && !lookup.error && (lookup.err == ENOPROTOOPT || lookup.err == EOPNOTSUPP)) {
		char *reason = message("the stack's TCP_INFO cannot be read (%s)", errno_name(lookup.err));
		step_unchecked(rs, step, RUN_EVENT_APP, expected, reason ? reason : "TCP_INFO");
		free(reason);
		free(failure);
		return 0;
	}
	if (rc < 0) {
		step_failed(rs, step, NULL, "tcp_info: %s", lookup.error ? lookup.error : failure ? failure : "?");
		free(lookup.error);
		free(failure);
		return -1;
	}
	rs->previous_ns = wire_now_ns();
	struct run_event *e = add_event(rs, RUN_EVENT_APP, step, -1, rs->previous_ns);
	e->broke = rc != 0;
	snprintf(e->expected, sizeof e->expected, "%s", expected);
	snprintf(e->observed, sizeof e->observed, "%s", rc ? failure : "holds");
	if (rc) {
		step_failed(rs, step, NULL, "%s", failure ? failure : "an assertion failed");
		free(failure);
		return -1;
	}
	return 0;
}

/* Whole lifecycles from the peer's address on consecutive ports; storm.c checks every segment, so the
 * line breaks on the first one the stack gets wrong. */
static int do_storm(struct run_state *rs, const struct step *step, const struct step_window *w)
{
	sleep_until(w->earliest_ns);
	if (check_nothing_unexpected(rs, step, "before this storm") < 0)
		return -1;
	const struct peer_state *peer = &rs->peers[step->peer];
	if (peer->target_port == 0)
		return step_failed(rs, step, NULL, "no port to storm: %s has no `to PORT` and no app listen came first",
				   peer->decl->name);
	struct storm_plan plan = { rs->c->target_ip, peer->target_port, peer->decl->ip, peer->decl->port,
				   step->u.storm.count, peer->decl->isn, step->u.storm.listener,
				   target_max_pps(rs->options->target) };
	struct storm_result result;
	char *error = NULL;
	int rc = storm_run(rs->wire, rs->agent, &plan, &result, &error);
	if (rc < 0) {
		step_failed(rs, step, NULL, "storm: %s", error ? error : "?");
		free(error);
		return -1;
	}
	struct run_event *e = add_event(rs, RUN_EVENT_STORM, step, step->peer, wire_now_ns());
	e->broke = rc != 0;
	snprintf(e->expected, sizeof e->expected, "%u lifecycles: S. / F. / . for each", plan.count);
	snprintf(e->observed, sizeof e->observed, "%u established, %u closed by the stack, %u final ACKs, %u resent, in %.1f ms",
		 result.established, result.closed_by_stack, result.time_wait_acked, result.retransmissions,
		 (double)result.elapsed_ns / 1e6);
	snprintf(e->outcome, sizeof e->outcome, "%s", rc == 0 ? "ACCEPT" : "");
	if (rc != 0) {
		size_t len = strlen(result.mismatch);
		char detail[sizeof result.mismatch + 8];
		snprintf(detail, sizeof detail, "%s%s", result.mismatch, len && result.mismatch[len - 1] == '\n' ? "" : "\n");
		return step_failed(rs, step, detail, "the storm broke after %u of %u lifecycles", result.time_wait_acked,
				   plan.count);
	}
	rs->previous_ns = wire_now_ns();
	return 0;
}

static int run_step(struct run_state *rs, const struct step *step)
{
	struct step_window w = window_of(rs, step);
	switch (step->kind) {
	case STEP_INJECT:
		return do_inject(rs, step, &w);
	case STEP_EXPECT_SEGMENT:
		return do_expect_segment(rs, step, &w);
	case STEP_EXPECT_NONE:
		return do_expect_none(rs, step, &w);
	case STEP_APP:
		return do_app(rs, step, &w);
	case STEP_EXPECT_STATE:
		return do_expect_state(rs, step, &w);
	case STEP_EXPECT_COUNTER:
		return do_expect_counter(rs, step, &w);
	case STEP_EXPECT_CLOCK:
		sleep_until(w.earliest_ns);
		return do_expect_clock(rs, step);
	case STEP_STORM:
		return do_storm(rs, step, &w);
	case STEP_EXPECT_TCP_INFO:
		return do_expect_tcp_info(rs, step, &w);
	case STEP_WAIT:
	case STEP_INCARNATION:
	case STEP_TSCLOCK_JUMP:
		/* Every line's time is honoured, so `+0.1 c incarnation` happens 100 ms later. */
		sleep_until(w.earliest_ns);
		rs->previous_ns = w.earliest_ns;
		break;
	}
	if (step->kind == STEP_INCARNATION)
		peer_new_incarnation(&rs->peers[step->peer], step->u.incarnation.seq_delta,
				     step->u.incarnation.ts_delta);
	else if (step->kind == STEP_TSCLOCK_JUMP)
		rs->peers[step->peer].ts_jump += step->u.ts_jump;
	return 0;
}

char *run_case_name(const char *path)
{
	const char *base = strrchr(path, '/');
	const char *start = path;
	if (base) {
		/* keep one directory level: "time_wait/lost_final_ack" */
		const char *dir = base;
		while (dir > path && dir[-1] != '/')
			dir--;
		start = dir;
	}
	size_t len = strlen(start);
	if (len > 3 && strcmp(start + len - 3, ".tc") == 0)
		len -= 3;
	else if (len > 4 && strcmp(start + len - 4, ".pkt") == 0)
		len -= 4;
	return strndup(start, len);
}

static int make_parent_dirs(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0755) < 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	free(copy);
	return 0;
}

static char *pcap_path_for(const struct case_file *c, int variant, const char *dir)
{
	char *name = run_case_name(c->path);
	char *path = variant >= 0 ? message("%s/%s@%s.pcap", dir, name, c->variants[variant].name)
				  : message("%s/%s.pcap", dir, name);
	free(name);
	return path;
}

/* The sysctls a variant runs with: the case's own, then the variant's. */
static int collect_sysctls(const struct case_file *c, int variant, struct sysctl_setting *out)
{
	int n = 0;
	for (int i = 0; i < c->sysctl_count; i++)
		out[n++] = c->sysctls[i];
	if (variant >= 0)
		for (int i = 0; i < c->variants[variant].sysctl_count; i++)
			out[n++] = c->variants[variant].sysctls[i];
	return n;
}

static bool is_privilege_error(const char *error)
{
	return error && (strstr(error, "Operation not permitted") || strstr(error, "Permission denied"));
}

/* Why the target cannot run the case (a sysctl, counter or TCP option it lacks), or NULL. -1 when the
 * agent or the capability probe failed. The probe runs before the case's sysctls are set, so that it
 * sees the stack as it comes: a case that turns an option off itself still needs it to exist. */
static int missing_requirement(struct run_state *rs, char **reason)
{
	*reason = NULL;
	struct capability_report capabilities;
	bool probed = false;
	for (int i = 0; i < rs->c->require_count && !*reason; i++) {
		const struct requirement *r = &rs->c->requires[i];
		if (r->kind == REQUIRE_OPTION) {
			if (!probed && capability_probe(&rs->target, &rs->c->peers[0], &capabilities, reason) < 0)
				return -1;
			probed = true;
			*reason = capability_missing(&capabilities, r);
			continue;
		}
		int64_t value;
		int exists = r->kind == REQUIRE_SYSCTL ? agent_sysctl_exists(rs->agent, r->name, reason)
						       : agent_counter(rs->agent, r->name, &value, reason);
		if (exists < 0)
			return -1;
		if (!exists)
			*reason = message("requires %s %s, which the stack under test (%s) does not have%s",
					  r->kind == REQUIRE_SYSCTL ? "sysctl" : "counter", r->name,
					  target_label(rs->options->target),
					  strcmp(r->name, "net.ipv4.tcp_tw_recycle") == 0 ? " (removed in Linux 4.12)" : "");
	}
	return 0;
}

/* Sysctl values as a stack prints them (`40000\t40000`) and as a case writes them (`40000 40000`). */
static bool same_sysctl_value(const char *a, const char *b)
{
	static const char blanks[] = " \t\n";
	for (;;) {
		a += strspn(a, blanks);
		b += strspn(b, blanks);
		size_t a_len = strcspn(a, blanks), b_len = strcspn(b, blanks);
		if (a_len != b_len || memcmp(a, b, a_len) != 0)
			return false;
		if (a_len == 0)
			return true;
		a += a_len;
		b += b_len;
	}
}

/* How a stack refuses a value it will not take (gVisor: EACCES even for the value it holds). */
static bool is_refusal(int err)
{
	return err == EACCES || err == EPERM || err == EROFS || err == EINVAL;
}

/* Why the stack cannot run the case with the key set to wanted, after agent_sysctl_set failed with err:
 * it has no such key, or refuses the value and holds another one. NULL when it refused but already
 * holds wanted. -1 with *error when the failure (or reading the value back) was not the stack's. */
static int sysctl_refusal(struct run_state *rs, const char *key, const char *wanted, int err, char **reason,
			  char **error)
{
	*reason = NULL;
	if (err == ENOENT) {
		*reason = message("the stack has no sysctl %s", key);
		return 0;
	}
	if (!is_refusal(err))
		return -1;
	char current[SYSCTL_VALUE_MAX];
	if (agent_sysctl_get(rs->agent, key, current, sizeof current, error) < 0)
		return -1;
	if (!same_sysctl_value(current, wanted))
		*reason = message("sysctl %s %s on this stack (%s: it is %s, the case needs %s)", key,
				  err == EINVAL ? "does not take the case's value" : "is read-only", errno_name(err),
				  current, wanted);
	return 0;
}

/* Sets the case's and the variant's sysctls. 0; or -1 with result's verdict and message set: a SKIP
 * where the stack lacks a key or will not take a value, a FAIL when the agent broke. */
static int apply_sysctls(struct run_state *rs, struct case_result *result)
{
	struct sysctl_setting sysctls[CASE_MAX_CASE_SYSCTLS + CASE_MAX_SYSCTLS];
	int count = collect_sysctls(rs->c, rs->variant, sysctls);
	for (int i = 0; i < count; i++) {
		const char *key = sysctls[i].key, *wanted = sysctls[i].value;
		char *why = NULL, *reason = NULL, *error = NULL;
		if (agent_sysctl_set(rs->agent, key, wanted, &why) == 0)
			continue;
		int err = rs->agent->last_err;
		if (err == ENOENT && sysctls[i].where_present) {
			free(why);
			continue;
		}
		int rc = sysctl_refusal(rs, key, wanted, err, &reason, &error);
		if (rc == 0 && sysctls[i].best_effort) {
			free(why);
			free(reason);
			continue;
		}
		if (rc < 0) {
			result->message = message("sysctl %s=%s: %s", key, wanted, error ? error : why ? why : "?");
		} else if (reason) {
			result->verdict = VERDICT_SKIP;
			result->message = reason;
		}
		free(why);
		free(error);
		if (rc < 0 || reason)
			return -1;
	}
	return 0;
}

/* Counters are compared with their values at the start, read only for the names lines check. */
static int read_baselines(struct run_state *rs, char **error)
{
	for (int i = 0; i < rs->c->step_count; i++) {
		const struct step *step = &rs->c->steps[i];
		if (step->kind != STEP_EXPECT_COUNTER || baseline_of(rs, step->u.counter.name))
			continue;
		if (rs->baseline_count == CASE_MAX_COUNTERS)
			return error_set(error, "more than %d different counters", CASE_MAX_COUNTERS);
		struct counter_baseline *b = &rs->baselines[rs->baseline_count++];
		b->name = step->u.counter.name;
		int found = agent_counter(rs->agent, b->name, &b->value, error);
		if (found < 0)
			return -1;
		b->exists = found == 1;
	}
	return 0;
}

static int setup(struct run_state *rs, struct case_result *result)
{
	const struct case_file *c = rs->c;
	char *error = NULL;
	if (c->unsupported_count > 0) {
		const struct unsupported_construct *first = &c->unsupported[0];
		result->verdict = VERDICT_SKIP;
		result->message = message("%s:%d:%d: %s%s", c->path, first->where.line, first->where.col, first->what,
					  c->unsupported_count > 1 ? " (and more: tcpharness check lists them)" : "");
		return -1;
	}
	if (target_case_begin(rs->options->target, c, &rs->target, &error) < 0) {
		result->verdict = is_privilege_error(error) ? VERDICT_SKIP : VERDICT_FAIL;
		result->message = message("%s%s", error ? error : "?",
					  is_privilege_error(error) ? " (run as root or under unshare -Urn)" : "");
		free(error);
		rs->target_begun = true;
		return -1;
	}
	rs->target_begun = true;
	rs->agent = rs->target.agent;
	if (rs->target.target_ip != c->target_ip) {
		rs->retargeted = *c;
		rs->retargeted.target_ip = rs->target.target_ip;
		rs->c = c = &rs->retargeted;
	}
	char *reason = NULL;
	if (missing_requirement(rs, &reason) < 0) {
		result->message = reason;
		return -1;
	}
	if (reason) {
		result->verdict = VERDICT_SKIP;
		result->message = reason;
		return -1;
	}
	if (apply_sysctls(rs, result) < 0)
		return -1;
	if (rs->options->captures_dir) {
		result->pcap_path = pcap_path_for(c, rs->variant, rs->options->captures_dir);
		if (!result->pcap_path || make_parent_dirs(result->pcap_path) < 0) {
			result->message = message("cannot create the directory for %s: %s", result->pcap_path,
						  strerror(errno));
			return -1;
		}
	}
	rs->wire = wire_open(rs->target.harness_netns_fd, rs->target.ifname, rs->target.harness_mac,
			     rs->target.target_mac, result->pcap_path, &error);
	if (!rs->wire)
		goto failed;
	if (rs->target.shared_link && wire_restrict(rs->wire, rs->target.target_ip, &error) < 0)
		goto failed;
	if (read_baselines(rs, &error) < 0)
		goto failed;
	for (int i = 0; i < c->peer_count; i++)
		peer_init(&rs->peers[i], &c->peers[i]);
	return 0;
failed:
	result->message = error;
	return -1;
}

static void teardown(struct run_state *rs)
{
	wire_close(rs->wire);
	if (rs->target_begun)
		target_case_end(rs->options->target, &rs->target);
}

/* The outcomes of the `outcome` steps that ran, joined by '/', a repeat of the previous word skipped. */
static void collect_outcome(const struct case_file *c, struct case_result *result)
{
	const char *previous = "";
	size_t used = 0;
	for (int i = 0; i < result->event_count; i++) {
		const struct run_event *e = &result->events[i];
		if (e->step < 0 || !c->steps[e->step].outcome || !e->outcome[0] || !strcmp(e->outcome, previous))
			continue;
		int n = snprintf(result->outcome + used, sizeof result->outcome - used, "%s%s", used ? "/" : "",
				 e->outcome);
		if (n < 0 || (size_t)n >= sizeof result->outcome - used)
			break;
		used += (size_t)n;
		previous = e->outcome;
	}
}

void run_case(const struct case_file *c, int variant, const struct run_options *options,
	      struct case_result *result)
{
	memset(result, 0, sizeof *result);
	result->verdict = VERDICT_FAIL;
	result->failed_step = -1;
	struct run_state *rs = calloc(1, sizeof *rs);
	if (!rs) {
		result->message = message("out of memory");
		return;
	}
	rs->c = c;
	rs->variant = variant;
	rs->options = options;
	rs->failed_step = -1;
	int64_t began = wire_now_ns();

	if (setup(rs, result) == 0) {
		rs->start_ns = rs->previous_ns = wire_now_ns();
		uint32_t bit = variant >= 0 ? 1u << variant : ~0u;
		const char *stack = target_stack(options->target);
		int failed = 0;
		for (int i = 0; i < c->step_count && !failed; i++) {
			if (!(c->steps[i].variant_mask & bit) || !step_runs_on(&c->steps[i], stack))
				continue;
			if (run_interrupted) {
				rs->failure = message("interrupted");
				failed = 1;
				break;
			}
			failed = run_step(rs, &c->steps[i]) < 0;
			result->steps_run++;
		}
		/* A signal during the last step cuts its wait short: that step proved nothing. */
		if (!failed && run_interrupted) {
			rs->failure = message("interrupted");
			failed = 1;
		}
		if (!failed)
			failed = check_nothing_unexpected(rs, NULL, "after the last line") < 0;
		result->verdict = failed ? VERDICT_FAIL : VERDICT_PASS;
		result->message = rs->failure;
		result->failed_step = rs->failed_step;
		result->unchecked = rs->unchecked;
		result->unchecked_reason = rs->unchecked_reason;
	}
	teardown(rs);
	result->events = rs->events;
	result->event_count = rs->event_count;
	collect_outcome(c, result);
	free(rs);
	result->duration_ns = wire_now_ns() - began;
}

void case_result_free(struct case_result *r)
{
	free(r->message);
	free(r->pcap_path);
	free(r->events);
	free(r->unchecked_reason);
	r->message = r->pcap_path = r->unchecked_reason = NULL;
	r->events = NULL;
	r->event_count = 0;
}
